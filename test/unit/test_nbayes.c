/*
 * test_nbayes.c
 *	  Unit tests of naive Bayes in the numerical core (src/core/nbayes.c):
 *	  the flat pass state (size, init, every validation rule, add, merge),
 *	  the Gaussian and multinomial fits, and predict_proba.
 *
 * References are independent of the code under test: per-class means and
 * population variances computed here in long double by two passes over the
 * rows, plain sums, and scikit-learn 1.2.1's GaussianNB and MultinomialNB
 * (Debian's python3-sklearn; the script is quoted next to the figures).
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/mlx_core.h"
#include "core/nbayes.h"

#include "harness.h"
#include "iris.h"

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, NULL, &talloc};

/* ----------------------------------------------------------------- data */


/* load_iris().target: 50 rows of each class, in order */
static int
iris_class(int i)
{
	return i / 50;
}

/*
 * A small count matrix (12 rows, 5 features, classes 0 0 0 1 1 1 2 2 2 0 0
 * 2) and five rows to score.
 */
static const double mn_x[12][5] = {
	{3, 0, 1, 0, 2}, {2, 1, 0, 0, 4}, {4, 0, 2, 1, 1}, {0, 3, 0, 5, 0},
	{1, 4, 0, 3, 0}, {0, 2, 1, 4, 1}, {0, 0, 6, 1, 0}, {1, 0, 5, 0, 2},
	{0, 1, 4, 2, 0}, {2, 2, 2, 2, 2}, {5, 0, 0, 0, 1}, {0, 0, 3, 0, 0}
};
static const int mn_y[12] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 2};
static const double mn_q[5][5] = {
	{1, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, {10, 0, 3, 1, 7}, {0, 20, 0, 30, 1},
	{0.5, 1.5, 0, 2.25, 0}
};

/*
 * scikit-learn 1.2.1 (Debian python3-sklearn, numpy 1.24.2), not this code,
 * computed the figures below, printed with repr():
 *
 *	X, y = load_iris(return_X_y=True); rows = [0, 50, 70, 83, 100, 133, 149]
 *	for vs in (1e-9, 0.5):
 *		g = GaussianNB(var_smoothing=vs).fit(X, y)
 *		g.epsilon_, g.theta_, g.var_, g.class_prior_,
 *		g.predict_proba(X[rows]), g.predict(X[rows])
 *	for alpha in (1.0, 0.25):
 *		m = MultinomialNB(alpha=alpha, force_alpha=True).fit(mn_x, mn_y)
 *		m.feature_log_prob_, m.class_log_prior_, m.predict_proba(mn_q),
 *		m.predict(mn_q)
 *
 * Rows 70 and 133 are the ones GaussianNB misclassifies (the references
 * say 2 and 1 where the labels say 1 and 2).
 */
static const int sk_iris_rows[7] = {0, 50, 70, 83, 100, 133, 149};

/* var_smoothing = 1e-9 (the default) */
#define SK_IRIS_EPSILON 3.0955026666666677e-09
static const double sk_iris_theta[12] = {
	5.005999999999999, 3.428000000000001, 1.4620000000000002,
	0.2459999999999999, 5.936, 2.7700000000000005,
	4.26, 1.3259999999999998, 6.587999999999998,
	2.9739999999999998, 5.552, 2.026
};
static const double sk_iris_var[12] = {
	0.12176400309550259, 0.14081600309550263, 0.029556003095502676,
	0.010884003095502673, 0.2611040030955028, 0.09650000309550268,
	0.21640000309550278, 0.03832400309550265, 0.39625600309550263,
	0.10192400309550273, 0.2984960030955029, 0.07392400309550265
};
static const double sk_iris_prior[3] = {
	0.3333333333333333, 0.3333333333333333, 0.3333333333333333
};
static const double sk_iris_proba[21] = {
	1.0, 1.3578426545097534e-18, 7.112835116303153e-26,
	3.213809354266301e-109, 0.8040376655396823, 0.19596233446031797,
	2.591538028250168e-130, 0.15449408494388256, 0.8455059150561174,
	2.140697314099488e-135, 0.6121598447427535, 0.3878401552572468,
	3.2324518072371566e-254, 6.353810311595854e-11, 0.9999999999364619,
	2.6838258262863244e-131, 0.7126451442155288, 0.2873548557844708,
	3.2598824319148094e-146, 0.05600500915424877, 0.9439949908457513
};
static const int sk_iris_pred[7] = {0, 1, 2, 1, 2, 1, 2};

/* var_smoothing = 0.5 */
#define SK_IRIS_VS05_EPSILON 1.5477513333333337
static const double sk_iris_vs05_theta[12] = {
	5.005999999999999, 3.428000000000001, 1.4620000000000002,
	0.2459999999999999, 5.936, 2.7700000000000005,
	4.26, 1.3259999999999998, 6.587999999999998,
	2.9739999999999998, 5.552, 2.026
};
static const double sk_iris_vs05_var[12] = {
	1.6695153333333337, 1.6885673333333338, 1.5773073333333336,
	1.5586353333333338, 1.8088553333333337, 1.6442513333333337,
	1.7641513333333338, 1.5860753333333337, 1.9440073333333336,
	1.6496753333333338, 1.8462473333333338, 1.6216753333333336
};
static const double sk_iris_vs05_prior[3] = {
	0.3333333333333333, 0.3333333333333333, 0.3333333333333333
};
static const double sk_iris_vs05_proba[21] = {
	0.9578749828773753, 0.04069492869308277, 0.001430088429541685,
	0.005930036435599366, 0.5025802377632888, 0.49148972580111217,
	0.007593722333520915, 0.5376832169393757, 0.45472306072710367,
	0.0037648421458708874, 0.5150986445437237, 0.48113651331040547,
	0.00018494671403459609, 0.237546241617588, 0.7622688116683776,
	0.0034179725817788326, 0.49735327812935176, 0.499228749288869,
	0.0037226986347704614, 0.4924820790339494, 0.5037952223312797
};
static const int sk_iris_vs05_pred[7] = {0, 1, 1, 1, 2, 2, 2};

/* alpha = 1 */
static const double sk_mn_flp[15] = {
	-0.9044562742271522, -2.351375257163478, -1.9459101490553135,
	-2.351375257163478, -1.3397743454849977, -2.6741486494265287,
	-1.0647107369924282, -2.6741486494265287, -0.8023464725249374,
	-2.6741486494265287, -2.70805020110221, -2.70805020110221,
	-0.4567584024957152, -2.014903020542265, -2.302585092994046
};
static const double sk_mn_clp[3] = {
	-0.8754687373539001, -1.3862943611198906, -1.0986122886681098
};
static const double sk_mn_proba[15] = {
	0.8103754355973436, 0.08284568347688871, 0.10677888092576765,
	0.41666666666666663, 0.25, 0.3333333333333333,
	0.9999999983031493, 5.752013614893238e-13, 1.6962759982065476e-09,
	2.776479804495972e-31, 1.0, 1.6377325537322712e-30,
	0.017517295299895784, 0.9753812596077683, 0.007101445092335864
};
static const int sk_mn_pred[5] = {0, 0, 0, 1, 1};

/* alpha = 0.25 */
static const double sk_mn_a025_flp[15] = {
	-0.8560506514967985, -2.465488563930899, -1.9859154836690125,
	-2.465488563930899, -1.3168658546881278, -3.005682604407159,
	-1.0042026041970349, -3.005682604407159, -0.7233002187306328,
	-3.005682604407159, -3.044522437723423, -3.044522437723423,
	-0.3635009090091321, -2.089010992695987, -2.456735772821304
};
static const double sk_mn_a025_clp[3] = {
	-0.8754687373539001, -1.3862943611198906, -1.0986122886681098
};
static const double sk_mn_a025_proba[15] = {
	0.8623763342390894, 0.060294095569800775, 0.07732957019110959,
	0.41666666666666663, 0.25, 0.3333333333333333,
	0.9999999999837534, 5.448749157628962e-16, 1.624510399258829e-11,
	3.6647168612937637e-35, 1.0, 7.042564379776324e-36,
	0.01067578577019791, 0.9865256054061438, 0.0027986088236581184
};
static const int sk_mn_a025_pred[5] = {0, 0, 0, 1, 1};

/* -------------------------------------------------------------- helpers */

static mlx_nb_state *
new_state(int distribution, int nclasses, int nfeat, size_t *sizep)
{
	size_t		size = mlx_nb_state_size(distribution, nclasses, nfeat);
	mlx_nb_state *s = size > 0 ? malloc(size) : NULL;

	if (s == NULL || mlx_nb_state_init(s, distribution, nclasses, nfeat) != MLX_OK)
	{
		free(s);
		return NULL;
	}
	if (sizep != NULL)
		*sizep = size;
	return s;
}

/* The arrays after the header (see nbayes.h). */
static int64_t *
st_counts(mlx_nb_state *s)
{
	return (int64_t *) (s + 1);
}

static double *
st_a(mlx_nb_state *s)
{
	return (double *) (st_counts(s) + s->nclasses);
}

static double *
st_m2(mlx_nb_state *s)
{
	return st_a(s) + (size_t) s->nclasses * s->nfeat;
}

/* The iris rows added to a fresh Gaussian state in order. */
static mlx_nb_state *
iris_state(size_t *sizep)
{
	mlx_nb_state *s = new_state(MLX_NB_GAUSSIAN, 3, 4, sizep);
	int			i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < 150; i++)
		if (mlx_nb_state_add(s, iris_class(i), iris[i], NULL) != MLX_OK)
		{
			free(s);
			return NULL;
		}
	return s;
}

static mlx_nb_state *
mn_state(size_t *sizep)
{
	mlx_nb_state *s = new_state(MLX_NB_MULTINOMIAL, 3, 5, sizep);
	int			i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < 12; i++)
		if (mlx_nb_state_add(s, mn_y[i], mn_x[i], NULL) != MLX_OK)
		{
			free(s);
			return NULL;
		}
	return s;
}

static char *iris_labels[3] = {"setosa", "versicolor", "virginica"};
static char *mn_labels[3] = {"a", "b", "c"};

/* Probabilities: relative 1e-12, or absolute 1e-300 for the subnormal end. */
static void
expect_proba(int line, const double *got, const double *want, int n,
			 const char *what)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		double		tol = fmax(1e-12 * fabs(want[i]), 1e-300);

		if (!(fabs(got[i] - want[i]) <= tol))
		{
			fail_at(line, "%s %d: got %.17g want %.17g", what, i, got[i], want[i]);
			return;
		}
	}
}

/* ------------------------------------------------------------------ cases */

static void
t_state_size_init(void)
{
	mlx_nb_state *s;
	size_t		size;
	int			i;

	EXPECT(mlx_nb_state_size(MLX_NB_GAUSSIAN, 3, 4) == 32 + 8 * 3 + 16 * 12,
		   "gaussian 3 x 4: %zu", mlx_nb_state_size(MLX_NB_GAUSSIAN, 3, 4));
	EXPECT(mlx_nb_state_size(MLX_NB_MULTINOMIAL, 3, 4) == 32 + 8 * 3 + 8 * 12,
		   "multinomial 3 x 4");
	EXPECT(mlx_nb_state_size(MLX_NB_GAUSSIAN, MLX_NB_MAX_CLASSES, MLX_NB_MAX_FEATURES) ==
		   32 + 8 * 1000 + 16 * (size_t) 2000000, "largest");
	EXPECT(mlx_nb_state_size(MLX_NB_MULTINOMIAL, 2, 1) == 32 + 16 + 16, "smallest");
	EXPECT(mlx_nb_state_size(0, 3, 4) == 0, "distribution 0");
	EXPECT(mlx_nb_state_size(3, 3, 4) == 0, "distribution 3");
	EXPECT(mlx_nb_state_size(MLX_NB_GAUSSIAN, 1, 4) == 0, "1 class");
	EXPECT(mlx_nb_state_size(MLX_NB_GAUSSIAN, MLX_NB_MAX_CLASSES + 1, 4) == 0,
		   "1001 classes");
	EXPECT(mlx_nb_state_size(MLX_NB_GAUSSIAN, 3, 0) == 0, "0 features");
	EXPECT(mlx_nb_state_size(MLX_NB_MULTINOMIAL, 3, MLX_NB_MAX_FEATURES + 1) == 0,
		   "2001 features");
	EXPECT(mlx_nb_state_size(MLX_NB_MULTINOMIAL, -3, -4) == 0, "negative");

	s = malloc(1024);
	memset(s, 0xAB, 1024);
	EXPECT_ST(mlx_nb_state_init(s, MLX_NB_GAUSSIAN, 3, 4), MLX_OK);
	size = mlx_nb_state_size(MLX_NB_GAUSSIAN, 3, 4);
	EXPECT(s->version == MLX_NB_STATE_VERSION && s->distribution == MLX_NB_GAUSSIAN &&
		   s->nclasses == 3 && s->nfeat == 4 && s->nrows == 0 && s->nskipped == 0 &&
		   s->reserved1[0] == 0 && s->reserved1[1] == 0 && s->reserved2 == 0,
		   "header");
	for (i = (int) sizeof(mlx_nb_state); i < (int) size; i++)
		EXPECT(((unsigned char *) s)[i] == 0, "byte %d not zeroed", i);
	EXPECT(((unsigned char *) s)[size] == 0xAB, "wrote past the state");
	EXPECT_ST(mlx_nb_state_validate(s, size, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_nb_state_init(s, MLX_NB_MULTINOMIAL, 2, 1), MLX_OK);
	EXPECT(s->distribution == MLX_NB_MULTINOMIAL, "multinomial header");
	EXPECT_ST(mlx_nb_state_validate(s, mlx_nb_state_size(MLX_NB_MULTINOMIAL, 2, 1),
									NULL, 0), MLX_OK);
	EXPECT_ST(mlx_nb_state_init(s, 5, 3, 4), MLX_EINVAL);
	EXPECT_ST(mlx_nb_state_init(s, MLX_NB_GAUSSIAN, 1, 4), MLX_EINVAL);
	EXPECT_ST(mlx_nb_state_init(s, MLX_NB_GAUSSIAN, 3, 2001), MLX_EINVAL);
	EXPECT_ST(mlx_nb_state_init(NULL, MLX_NB_GAUSSIAN, 3, 4), MLX_EINVAL);
	free(s);
}

/* Validate a damaged copy of a valid state; expect the message. */
static void
expect_invalid(int line, const mlx_nb_state *good, size_t size,
			   void (*damage) (mlx_nb_state *), size_t check_size,
			   const char *msg)
{
	mlx_nb_state *s = malloc(size + 8);
	char		err[200];
	mlx_status	st;

	memcpy(s, good, size);
	damage(s);
	err[0] = '\0';
	st = mlx_nb_state_validate(s, check_size, err, sizeof(err));
	if (st != MLX_ECORRUPT)
		fail_at(line, "status %s for \"%s\"", mlx_status_str(st), msg);
	else if (strstr(err, msg) == NULL)
		fail_at(line, "message \"%s\", expected \"%s\"", err, msg);
	free(s);
}

static void d_none(mlx_nb_state *s) { (void) s; }
static void d_version(mlx_nb_state *s) { s->version = 2; }
static void d_dist0(mlx_nb_state *s) { s->distribution = 0; }
static void d_dist3(mlx_nb_state *s) { s->distribution = 3; }
static void d_res0(mlx_nb_state *s) { s->reserved1[0] = 1; }
static void d_res1(mlx_nb_state *s) { s->reserved1[1] = 0x80; }
static void d_res2(mlx_nb_state *s) { s->reserved2 = -1; }
static void d_ncls1(mlx_nb_state *s) { s->nclasses = 1; }
static void d_ncls_big(mlx_nb_state *s) { s->nclasses = MLX_NB_MAX_CLASSES + 1; }
static void d_nfeat0(mlx_nb_state *s) { s->nfeat = 0; }
static void d_nfeat_big(mlx_nb_state *s) { s->nfeat = MLX_NB_MAX_FEATURES + 1; }
static void d_nclasses2(mlx_nb_state *s) { s->nclasses = 2; }
static void d_dist_other(mlx_nb_state *s) { s->distribution = MLX_NB_MULTINOMIAL; }
static void d_nrows_neg(mlx_nb_state *s) { s->nrows = -1; }
static void d_nskipped_neg(mlx_nb_state *s) { s->nskipped = -1; }
static void d_count_neg(mlx_nb_state *s) { st_counts(s)[1] = -1; s->nrows -= 51; }
static void d_count_over(mlx_nb_state *s) { st_counts(s)[2] = INT64_MAX; }
static void d_count_wrap(mlx_nb_state *s)
{
	/* counts that add up to nrows only modulo 2^64 */
	st_counts(s)[0] = INT64_MAX;
	st_counts(s)[1] = INT64_MAX;
	st_counts(s)[2] = 152;
}
static void d_count_short(mlx_nb_state *s) { s->nrows = 151; }
static void d_mean_nan(mlx_nb_state *s) { st_a(s)[5] = NAN; }
static void d_mean_inf(mlx_nb_state *s) { st_a(s)[11] = -INFINITY; }
static void d_m2_inf(mlx_nb_state *s) { st_m2(s)[0] = INFINITY; }
static void d_m2_neg(mlx_nb_state *s) { st_m2(s)[7] = -1e-300; }
static void d_mn_neg(mlx_nb_state *s) { st_a(s)[3] = -0.5; }
static void d_mn_nan(mlx_nb_state *s) { st_a(s)[3] = NAN; }

/* class 1 of iris emptied (its rows removed from the counts) */
static void
d_empty_class(mlx_nb_state *s)
{
	st_counts(s)[1] = 0;
	s->nrows = 100;
}

static void
d_empty_mean(mlx_nb_state *s)
{
	int			j;

	d_empty_class(s);
	for (j = 0; j < 4; j++)
		st_m2(s)[4 + j] = 0;
	st_a(s)[4] = st_a(s)[5] = st_a(s)[7] = 0;
}

static void
d_empty_m2(mlx_nb_state *s)
{
	int			j;

	d_empty_class(s);
	for (j = 0; j < 4; j++)
		st_a(s)[4 + j] = 0;
	st_m2(s)[4] = st_m2(s)[5] = st_m2(s)[6] = 0;
}

static void
d_empty_ok(mlx_nb_state *s)
{
	int			j;

	d_empty_class(s);
	for (j = 0; j < 4; j++)
		st_a(s)[4 + j] = st_m2(s)[4 + j] = 0;
}

static void
d_mn_empty_sum(mlx_nb_state *s)
{
	st_counts(s)[2] = 0;
	s->nrows = 8;
}

static void
t_state_validate(void)
{
	size_t		size;
	size_t		msize;
	mlx_nb_state *g = iris_state(&size);
	mlx_nb_state *m = mn_state(&msize);
	char		err[200];
	int			j;

	EXPECT(g != NULL && m != NULL, "states");
	if (g == NULL || m == NULL)
		return;
	EXPECT_ST(mlx_nb_state_validate(g, size, err, sizeof(err)), MLX_OK);
	EXPECT_ST(mlx_nb_state_validate(m, msize, err, sizeof(err)), MLX_OK);
	EXPECT_ST(mlx_nb_state_validate(NULL, size, err, sizeof(err)), MLX_ECORRUPT);
	g->nskipped = 7;
	EXPECT_ST(mlx_nb_state_validate(g, size, err, sizeof(err)), MLX_OK);

	expect_invalid(__LINE__, g, size, d_none, sizeof(mlx_nb_state) - 1, "truncated");
	expect_invalid(__LINE__, g, size, d_none, 0, "truncated");
	expect_invalid(__LINE__, g, size, d_version, size, "unknown version");
	expect_invalid(__LINE__, g, size, d_dist0, size, "unknown distribution");
	expect_invalid(__LINE__, g, size, d_dist3, size, "unknown distribution");
	expect_invalid(__LINE__, g, size, d_res0, size, "nonzero reserved bytes");
	expect_invalid(__LINE__, g, size, d_res1, size, "nonzero reserved bytes");
	expect_invalid(__LINE__, g, size, d_res2, size, "nonzero reserved bytes");
	expect_invalid(__LINE__, g, size, d_ncls1, size, "invalid class count");
	expect_invalid(__LINE__, g, size, d_ncls_big, size, "invalid class count");
	expect_invalid(__LINE__, g, size, d_nfeat0, size, "invalid feature count");
	expect_invalid(__LINE__, g, size, d_nfeat_big, size, "invalid feature count");
	/* the size must match the header exactly, before anything else is read */
	expect_invalid(__LINE__, g, size, d_none, size - 8, "wrong size");
	expect_invalid(__LINE__, g, size, d_none, size + 8, "wrong size");
	expect_invalid(__LINE__, g, size, d_nclasses2, size, "wrong size");
	expect_invalid(__LINE__, g, size, d_dist_other, size, "wrong size");
	expect_invalid(__LINE__, g, size, d_nrows_neg, size, "invalid row counts");
	expect_invalid(__LINE__, g, size, d_nskipped_neg, size, "invalid row counts");
	expect_invalid(__LINE__, g, size, d_count_neg, size, "invalid class counts");
	expect_invalid(__LINE__, g, size, d_count_over, size, "invalid class counts");
	expect_invalid(__LINE__, g, size, d_count_wrap, size, "invalid class counts");
	expect_invalid(__LINE__, g, size, d_count_short, size, "do not add up");
	expect_invalid(__LINE__, g, size, d_mean_nan, size, "non-finite statistic");
	expect_invalid(__LINE__, g, size, d_mean_inf, size, "non-finite statistic");
	expect_invalid(__LINE__, g, size, d_m2_inf, size, "non-finite statistic");
	expect_invalid(__LINE__, g, size, d_m2_neg, size, "negative sum of squared deviations");
	expect_invalid(__LINE__, g, size, d_empty_mean, size,
				   "nonzero statistics for a class without rows");
	expect_invalid(__LINE__, g, size, d_empty_m2, size,
				   "nonzero statistics for a class without rows");
	expect_invalid(__LINE__, m, msize, d_mn_neg, msize, "negative feature sum");
	expect_invalid(__LINE__, m, msize, d_mn_nan, msize, "non-finite statistic");
	expect_invalid(__LINE__, m, msize, d_mn_empty_sum, msize,
				   "nonzero statistics for a class without rows");
	expect_invalid(__LINE__, m, msize, d_none, size, "wrong size");

	/* an empty class with zero statistics is fine (a partial state) */
	{
		mlx_nb_state *e = malloc(size);

		memcpy(e, g, size);
		d_empty_ok(e);
		EXPECT_ST(mlx_nb_state_validate(e, size, err, sizeof(err)), MLX_OK);
		free(e);
	}
	/* a small error buffer is truncated, not overrun */
	memset(err, 'x', sizeof(err));
	g->version = 9;
	EXPECT_ST(mlx_nb_state_validate(g, size, err, 5), MLX_ECORRUPT);
	EXPECT(strlen(err) == 4 && err[5] == 'x', "error buffer overrun");
	g->version = MLX_NB_STATE_VERSION;
	for (j = 0; j < 12; j++)
		EXPECT(st_m2(g)[j] > 0, "iris M2 %d not positive", j);
	free(g);
	free(m);
}

/*
 * Welford's running means and M2 against two-pass long double references,
 * multinomial sums against plain sums, and any split of the rows merged
 * back into one state equal to the state of all the rows (to rounding).
 */
static void
t_state_add_merge(void)
{
	size_t		size;
	mlx_nb_state *g = iris_state(&size);
	mlx_nb_state *parts[3];
	int			c,
				j,
				i,
				split;

	EXPECT(g != NULL, "state");
	if (g == NULL)
		return;
	EXPECT(g->nrows == 150 && st_counts(g)[0] == 50 && st_counts(g)[1] == 50 &&
		   st_counts(g)[2] == 50, "counts");
	for (c = 0; c < 3; c++)
	{
		for (j = 0; j < 4; j++)
		{
			long double mean = 0,
						ss = 0;

			for (i = 50 * c; i < 50 * c + 50; i++)
				mean += iris[i][j];
			mean /= 50;
			for (i = 50 * c; i < 50 * c + 50; i++)
				ss += (iris[i][j] - mean) * (iris[i][j] - mean);
			EXPECT_REL(st_a(g)[c * 4 + j], (double) mean, 1e-14, "mean");
			EXPECT_REL(st_m2(g)[c * 4 + j], (double) ss, 1e-12, "M2");
		}
	}

	/* three splits: alternating rows, by class, one part empty */
	for (split = 0; split < 3; split++)
	{
		for (i = 0; i < 3; i++)
			parts[i] = new_state(MLX_NB_GAUSSIAN, 3, 4, NULL);
		for (i = 0; i < 150; i++)
		{
			int			p = split == 0 ? i % 3 : split == 1 ? iris_class(i) : (i < 37 ? 0 : 2);

			EXPECT_ST(mlx_nb_state_add(parts[p], iris_class(i), iris[i], NULL), MLX_OK);
		}
		parts[1]->nskipped = 4;
		parts[2]->nskipped = 3;
		EXPECT_ST(mlx_nb_state_merge(parts[0], parts[1]), MLX_OK);
		EXPECT_ST(mlx_nb_state_merge(parts[0], parts[2]), MLX_OK);
		EXPECT_ST(mlx_nb_state_validate(parts[0], size, NULL, 0), MLX_OK);
		EXPECT(parts[0]->nrows == 150 && parts[0]->nskipped == 7, "merged rows");
		for (c = 0; c < 3; c++)
			EXPECT(st_counts(parts[0])[c] == 50, "merged count %d", c);
		for (j = 0; j < 12; j++)
		{
			EXPECT_REL(st_a(parts[0])[j], st_a(g)[j], 1e-14, "merged mean");
			EXPECT_REL(st_m2(parts[0])[j], st_m2(g)[j], 1e-13, "merged M2");
		}
		for (i = 0; i < 3; i++)
			free(parts[i]);
	}

	/* merging an empty state changes nothing, bit for bit, either way round */
	{
		mlx_nb_state *e = new_state(MLX_NB_GAUSSIAN, 3, 4, NULL);
		mlx_nb_state *copy = malloc(size);

		memcpy(copy, g, size);
		EXPECT_ST(mlx_nb_state_merge(copy, e), MLX_OK);
		EXPECT(memcmp(copy, g, size) == 0, "merge of an empty state changed it");
		EXPECT_ST(mlx_nb_state_merge(e, g), MLX_OK);
		EXPECT(memcmp(e, g, size) == 0, "merge into an empty state differs");
		free(e);
		free(copy);
	}

	/* multinomial: sums, and a merge of two halves */
	{
		size_t		msize;
		mlx_nb_state *m = mn_state(&msize);
		mlx_nb_state *a = new_state(MLX_NB_MULTINOMIAL, 3, 5, NULL);
		mlx_nb_state *b = new_state(MLX_NB_MULTINOMIAL, 3, 5, NULL);
		double		sums[15] = {0};
		char		buf[8 * 5 + 1];

		for (i = 0; i < 12; i++)
		{
			for (j = 0; j < 5; j++)
				sums[mn_y[i] * 5 + j] += mn_x[i][j];
			/* the second half through an unaligned copy of the row */
			if (i < 6)
				EXPECT_ST(mlx_nb_state_add(a, mn_y[i], mn_x[i], NULL), MLX_OK);
			else
			{
				memcpy(buf + 1, mn_x[i], sizeof(mn_x[i]));
				EXPECT_ST(mlx_nb_state_add(b, mn_y[i], buf + 1, NULL), MLX_OK);
			}
		}
		for (j = 0; j < 15; j++)
			EXPECT(st_a(m)[j] == sums[j], "sum %d", j);
		EXPECT(st_counts(m)[0] == 5 && st_counts(m)[1] == 3 && st_counts(m)[2] == 4,
			   "multinomial counts");
		EXPECT_ST(mlx_nb_state_merge(a, b), MLX_OK);
		EXPECT(memcmp(a, m, msize) == 0, "merged halves differ from one state");
		free(m);
		free(a);
		free(b);
	}

	/* an unaligned Gaussian row is added exactly as an aligned one */
	{
		mlx_nb_state *a = new_state(MLX_NB_GAUSSIAN, 3, 4, NULL);
		char		buf[8 * 4 + 3];

		for (i = 0; i < 150; i++)
		{
			memcpy(buf + 3, iris[i], sizeof(iris[i]));
			EXPECT_ST(mlx_nb_state_add(a, iris_class(i), buf + 3, NULL), MLX_OK);
		}
		EXPECT(memcmp(a, g, size) == 0, "unaligned rows differ");
		free(a);
	}
	free(g);
}

/* Every error leaves the state unchanged, bit for bit. */
static void
t_state_add_merge_errors(void)
{
	size_t		size;
	size_t		msize;
	mlx_nb_state *g = iris_state(&size);
	mlx_nb_state *m = mn_state(&msize);
	mlx_nb_state *gc = malloc(size);
	mlx_nb_state *mc = malloc(msize);
	double		x[5] = {1, 2, 3, 4, 5};
	int			bad;

	memcpy(gc, g, size);
	memcpy(mc, m, msize);

	bad = 99;
	EXPECT_ST(mlx_nb_state_add(g, 3, x, &bad), MLX_EINVAL);
	EXPECT(bad == -1, "bad index %d for a class out of range", bad);
	EXPECT_ST(mlx_nb_state_add(g, -1, x, &bad), MLX_EINVAL);
	EXPECT_ST(mlx_nb_state_add(m, 3, x, NULL), MLX_EINVAL);
	x[2] = NAN;
	EXPECT_ST(mlx_nb_state_add(g, 0, x, &bad), MLX_ENONFINITE);
	EXPECT(bad == 2, "bad index %d, expected 2", bad);
	EXPECT_ST(mlx_nb_state_add(m, 0, x, &bad), MLX_ENONFINITE);
	EXPECT(bad == 2, "multinomial bad index %d, expected 2", bad);
	x[2] = 3;
	x[3] = -INFINITY;
	EXPECT_ST(mlx_nb_state_add(g, 1, x, &bad), MLX_ENONFINITE);
	EXPECT(bad == 3, "bad index %d, expected 3", bad);
	EXPECT_ST(mlx_nb_state_add(m, 1, x, &bad), MLX_ENONFINITE);
	EXPECT(bad == 3, "-inf count: bad index %d, expected 3", bad);
	x[3] = 4;
	x[1] = -0.5;
	EXPECT_ST(mlx_nb_state_add(m, 2, x, &bad), MLX_EINVAL);
	EXPECT(bad == 1, "negative count: bad index %d, expected 1", bad);
	/* a negative value is fine for Gaussian */
	x[1] = 2;

	/* overflow: a finite row whose deviation or sum is not finite */
	{
		double		big[4] = {1.7e308, 0, 0, 0};
		double		nbig[4] = {-1.7e308, 0, 0, 0};
		double		mbig[5] = {0, 0, 0, 1.7e308, 0};
		mlx_nb_state *h = new_state(MLX_NB_GAUSSIAN, 2, 4, NULL);
		size_t		hsize = mlx_nb_state_size(MLX_NB_GAUSSIAN, 2, 4);
		mlx_nb_state *hc = malloc(hsize);

		EXPECT_ST(mlx_nb_state_add(h, 0, big, &bad), MLX_OK);
		memcpy(hc, h, hsize);
		EXPECT_ST(mlx_nb_state_add(h, 0, nbig, &bad), MLX_ENONFINITE);
		EXPECT(bad == -1, "overflow bad index %d", bad);
		EXPECT(memcmp(h, hc, hsize) == 0, "gaussian overflow changed the state");

		EXPECT_ST(mlx_nb_state_add(m, 1, mbig, &bad), MLX_OK);
		memcpy(mc, m, msize);
		EXPECT_ST(mlx_nb_state_add(m, 1, mbig, &bad), MLX_ENONFINITE);
		EXPECT(bad == -1, "multinomial overflow bad index %d", bad);
		EXPECT(memcmp(m, mc, msize) == 0, "multinomial overflow changed the state");

		/* merge overflow: means far apart make M2 overflow */
		{
			mlx_nb_state *h2 = new_state(MLX_NB_GAUSSIAN, 2, 4, NULL);

			EXPECT_ST(mlx_nb_state_add(h2, 0, nbig, &bad), MLX_OK);
			EXPECT_ST(mlx_nb_state_merge(h, h2), MLX_ENONFINITE);
			EXPECT(memcmp(h, hc, hsize) == 0, "merge overflow changed the state");
			free(h2);
		}
		/* multinomial merge overflow */
		{
			mlx_nb_state *m2 = malloc(msize);

			memcpy(m2, m, msize);
			EXPECT_ST(mlx_nb_state_merge(m, m2), MLX_ENONFINITE);
			EXPECT(memcmp(m, mc, msize) == 0, "multinomial merge overflow changed the state");
			free(m2);
		}
		/* row count overflow */
		{
			mlx_nb_state *h2 = malloc(hsize);

			memcpy(h2, h, hsize);
			h2->nrows = INT64_MAX;
			EXPECT_ST(mlx_nb_state_merge(h, h2), MLX_ENONFINITE);
			h2->nrows = 1;
			h2->nskipped = INT64_MAX;
			h->nskipped = 1;
			memcpy(hc, h, hsize);
			EXPECT_ST(mlx_nb_state_merge(h, h2), MLX_ENONFINITE);
			EXPECT(memcmp(h, hc, hsize) == 0, "skipped overflow changed the state");
			h->nrows = INT64_MAX;
			memcpy(hc, h, hsize);
			EXPECT_ST(mlx_nb_state_add(h, 1, x, &bad), MLX_ENONFINITE);
			EXPECT(memcmp(h, hc, hsize) == 0, "row count overflow changed the state");
			free(h2);
		}
		free(h);
		free(hc);
	}

	/* mismatched merges */
	{
		mlx_nb_state *o = new_state(MLX_NB_GAUSSIAN, 2, 4, NULL);
		mlx_nb_state *p = new_state(MLX_NB_GAUSSIAN, 3, 5, NULL);
		mlx_nb_state *q = new_state(MLX_NB_MULTINOMIAL, 3, 4, NULL);

		memcpy(gc, g, size);
		EXPECT_ST(mlx_nb_state_merge(g, o), MLX_EMISMATCH);
		EXPECT_ST(mlx_nb_state_merge(g, p), MLX_EMISMATCH);
		EXPECT_ST(mlx_nb_state_merge(g, q), MLX_EMISMATCH);
		EXPECT(memcmp(g, gc, size) == 0, "mismatched merge changed the state");
		free(o);
		free(p);
		free(q);
	}
	memcpy(mc, m, msize);
	EXPECT(memcmp(g, gc, size) == 0, "gaussian state changed");
	free(g);
	free(m);
	free(gc);
	free(mc);
}

/* Check a Gaussian fit against sklearn's figures. */
static void
check_gaussian(int line, const mlx_nb_fit *f, double eps, const double *theta,
			   const double *var, const double *prior, const double *proba,
			   const int *pred)
{
	double		p[3];
	int			i,
				c;

	if (!(fabs(f->epsilon - eps) <= 1e-13 * eps))
		fail_at(line, "epsilon %.17g, expected %.17g", f->epsilon, eps);
	for (i = 0; i < 12; i++)
	{
		if (!(fabs(f->theta[i] - theta[i]) <= 1e-14 * fabs(theta[i])))
			fail_at(line, "theta %d: %.17g, expected %.17g", i, f->theta[i], theta[i]);
		if (!(fabs(f->var[i] - var[i]) <= 1e-13 * var[i]))
			fail_at(line, "var %d: %.17g, expected %.17g", i, f->var[i], var[i]);
	}
	for (c = 0; c < 3; c++)
		if (!(fabs(exp(f->class_log_prior[c]) - prior[c]) <= 1e-15))
			fail_at(line, "class prior %d: %.17g", c, exp(f->class_log_prior[c]));
	for (i = 0; i < 7; i++)
	{
		int			got = mlx_nb_predict_proba(f, iris[sk_iris_rows[i]], p);

		if (got != pred[i])
			fail_at(line, "row %d predicted %d, expected %d", sk_iris_rows[i], got, pred[i]);
		expect_proba(line, p, proba + 3 * i, 3, "predict_proba");
	}
}

static void
t_gaussian_vs_sklearn(void)
{
	mlx_nb_state *g = iris_state(NULL);
	mlx_nb_fit	f;
	int			c;

	EXPECT(g != NULL, "state");
	if (g == NULL)
		return;
	g->nskipped = 3;
	EXPECT_ST(mlx_nb_from_state(g, 1e-9, 123.0, iris_labels, &tctx, &f), MLX_OK);
	EXPECT(f.distribution == MLX_NB_GAUSSIAN && f.nclasses == 3 && f.nfeat == 4 &&
		   f.nrows == 150 && f.nskipped == 3 && f.var_smoothing == 1e-9 &&
		   f.alpha == 0 && f.classes == iris_labels &&
		   f.feature_log_prob == NULL && f.theta != NULL && f.var != NULL,
		   "fit fields");
	for (c = 0; c < 3; c++)
		EXPECT(f.class_count[c] == 50, "class count %d", c);
	check_gaussian(__LINE__, &f, SK_IRIS_EPSILON, sk_iris_theta, sk_iris_var,
				   sk_iris_prior, sk_iris_proba, sk_iris_pred);
	for (c = 0; c < 3; c++)
		EXPECT_REL(f.class_log_prior[c], log(1.0 / 3.0), 1e-15, "log prior");
	mlx_free(&tctx, f.class_count);
	mlx_free(&tctx, f.class_log_prior);
	mlx_free(&tctx, f.theta);
	mlx_free(&tctx, f.var);

	EXPECT_ST(mlx_nb_from_state(g, 0.5, 0, iris_labels, &tctx, &f), MLX_OK);
	check_gaussian(__LINE__, &f, SK_IRIS_VS05_EPSILON, sk_iris_vs05_theta,
				   sk_iris_vs05_var, sk_iris_vs05_prior, sk_iris_vs05_proba,
				   sk_iris_vs05_pred);
	mlx_free(&tctx, f.class_count);
	mlx_free(&tctx, f.class_log_prior);
	mlx_free(&tctx, f.theta);
	mlx_free(&tctx, f.var);
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
	free(g);
}

static void
t_multinomial_vs_sklearn(void)
{
	mlx_nb_state *m = mn_state(NULL);
	mlx_nb_fit	f;
	double		p[3];
	int			pass,
				i;

	EXPECT(m != NULL, "state");
	if (m == NULL)
		return;
	for (pass = 0; pass < 2; pass++)
	{
		const double *flp = pass == 0 ? sk_mn_flp : sk_mn_a025_flp;
		const double *clp = pass == 0 ? sk_mn_clp : sk_mn_a025_clp;
		const double *proba = pass == 0 ? sk_mn_proba : sk_mn_a025_proba;
		const int  *pred = pass == 0 ? sk_mn_pred : sk_mn_a025_pred;
		double		alpha = pass == 0 ? 1.0 : 0.25;

		EXPECT_ST(mlx_nb_from_state(m, -7.0, alpha, mn_labels, &tctx, &f), MLX_OK);
		EXPECT(f.distribution == MLX_NB_MULTINOMIAL && f.nclasses == 3 &&
			   f.nfeat == 5 && f.nrows == 12 && f.alpha == alpha &&
			   f.var_smoothing == 0 && f.epsilon == 0 && f.theta == NULL &&
			   f.var == NULL && f.classes == mn_labels, "fit fields");
		EXPECT(f.class_count[0] == 5 && f.class_count[1] == 3 &&
			   f.class_count[2] == 4, "class counts");
		for (i = 0; i < 15; i++)
			EXPECT_REL(f.feature_log_prob[i], flp[i], 1e-14, "feature_log_prob");
		for (i = 0; i < 3; i++)
			EXPECT_REL(f.class_log_prior[i], clp[i], 1e-15, "class_log_prior");
		for (i = 0; i < 5; i++)
		{
			int			got = mlx_nb_predict_proba(&f, mn_q[i], p);

			EXPECT(got == pred[i], "row %d predicted %d, expected %d", i, got, pred[i]);
			expect_proba(__LINE__, p, proba + 3 * i, 3, "predict_proba");
		}
		mlx_free(&tctx, f.class_count);
		mlx_free(&tctx, f.class_log_prior);
		mlx_free(&tctx, f.feature_log_prob);
	}
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
	free(m);
}

/*
 * The fit's argument and state errors, the all-zero-variance rule, and
 * allocation failures: out is zeroed and nothing stays allocated.
 */
static void
t_fit_errors(void)
{
	mlx_nb_state *g = iris_state(NULL);
	mlx_nb_state *m = mn_state(NULL);
	mlx_nb_fit	f;
	mlx_nb_fit	zero;
	long		n;
	mlx_status	st = MLX_ENOMEM;

	memset(&zero, 0, sizeof(zero));
	EXPECT_ST(mlx_nb_from_state(g, -1e-9, 1, iris_labels, &tctx, &f), MLX_EINVAL);
	EXPECT(memcmp(&f, &zero, sizeof(f)) == 0, "fit not zeroed");
	EXPECT_ST(mlx_nb_from_state(g, NAN, 1, iris_labels, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(g, INFINITY, 1, iris_labels, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(g, 1e-9, 1, NULL, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(NULL, 1e-9, 1, iris_labels, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(m, 0, 0, mn_labels, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(m, 0, -1, mn_labels, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(m, 0, NAN, mn_labels, &tctx, &f), MLX_EINVAL);
	EXPECT_ST(mlx_nb_from_state(m, 0, INFINITY, mn_labels, &tctx, &f), MLX_EINVAL);
	EXPECT(memcmp(&f, &zero, sizeof(f)) == 0, "fit not zeroed");
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);

	/* a class without rows */
	{
		mlx_nb_state *e = new_state(MLX_NB_GAUSSIAN, 3, 4, NULL);
		int			i;

		for (i = 0; i < 100; i++)
			EXPECT_ST(mlx_nb_state_add(e, i < 50 ? 0 : 2, iris[i], NULL), MLX_OK);
		EXPECT_ST(mlx_nb_from_state(e, 1e-9, 1, iris_labels, &tctx, &f), MLX_EINVAL);
		free(e);
	}

	/* zero variances */
	{
		mlx_nb_state *z = new_state(MLX_NB_GAUSSIAN, 2, 2, NULL);
		double		r0[2] = {1, 5};
		double		r1[2] = {3, 5};

		EXPECT_ST(mlx_nb_state_add(z, 0, r0, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_state_add(z, 1, r1, NULL), MLX_OK);
		/* class variances all 0, pooled variance of feature 1 is 1 */
		EXPECT_ST(mlx_nb_from_state(z, 0, 0, iris_labels, &tctx, &f), MLX_EINVAL);
		EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
		EXPECT_ST(mlx_nb_from_state(z, 0.25, 0, iris_labels, &tctx, &f), MLX_OK);
		EXPECT(f.epsilon == 0.25 && f.var[0] == 0.25 && f.var[3] == 0.25,
			   "epsilon %.17g", f.epsilon);
		mlx_free(&tctx, f.class_count);
		mlx_free(&tctx, f.class_log_prior);
		mlx_free(&tctx, f.theta);
		mlx_free(&tctx, f.var);
		/* every variance 0: epsilon is var_smoothing itself */
		r1[0] = 1;
		mlx_nb_state_init(z, MLX_NB_GAUSSIAN, 2, 2);
		EXPECT_ST(mlx_nb_state_add(z, 0, r0, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_state_add(z, 1, r1, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_from_state(z, 0, 0, iris_labels, &tctx, &f), MLX_EINVAL);
		EXPECT_ST(mlx_nb_from_state(z, 1e-9, 0, iris_labels, &tctx, &f), MLX_OK);
		EXPECT(f.epsilon == 1e-9 && f.var[0] == 1e-9 && f.var[1] == 1e-9 &&
			   f.var[2] == 1e-9 && f.var[3] == 1e-9, "epsilon %.17g", f.epsilon);
		EXPECT(f.class_log_prior[0] == log(0.5) && f.class_log_prior[1] == log(0.5),
			   "priors");
		mlx_free(&tctx, f.class_count);
		mlx_free(&tctx, f.class_log_prior);
		mlx_free(&tctx, f.theta);
		mlx_free(&tctx, f.var);

		/* pooled variance overflows: refused, nothing allocated */
		r0[0] = -1e300;
		r1[0] = 1e300;
		mlx_nb_state_init(z, MLX_NB_GAUSSIAN, 2, 2);
		EXPECT_ST(mlx_nb_state_add(z, 0, r0, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_state_add(z, 1, r1, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_from_state(z, 1e-9, 0, iris_labels, &tctx, &f), MLX_ENONFINITE);
		EXPECT(memcmp(&f, &zero, sizeof(f)) == 0, "fit not zeroed");
		/* epsilon overflows */
		r0[0] = -1e150;
		r1[0] = 1e150;
		mlx_nb_state_init(z, MLX_NB_GAUSSIAN, 2, 2);
		EXPECT_ST(mlx_nb_state_add(z, 0, r0, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_state_add(z, 1, r1, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_from_state(z, 1e300, 0, iris_labels, &tctx, &f), MLX_ENONFINITE);
		EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
		free(z);
	}

	/* multinomial totals that overflow */
	{
		mlx_nb_state *z = new_state(MLX_NB_MULTINOMIAL, 2, 2, NULL);
		double		r0[2] = {1e308, 1e308};
		double		r1[2] = {1, 1};

		EXPECT_ST(mlx_nb_state_add(z, 0, r0, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_state_add(z, 1, r1, NULL), MLX_OK);
		EXPECT_ST(mlx_nb_from_state(z, 0, 1, mn_labels, &tctx, &f), MLX_ENONFINITE);
		EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
		free(z);
	}

	/* allocation failures, Gaussian then multinomial */
	for (n = 0; n < 10; n++)
	{
		talloc.fail_after = n;
		st = mlx_nb_from_state(g, 1e-9, 0, iris_labels, &tctx, &f);
		talloc.fail_after = -1;
		if (st == MLX_OK)
			break;
		EXPECT_ST(st, MLX_ENOMEM);
		EXPECT(talloc.live == 0, "gaussian leaked after %ld allocations", n);
		EXPECT(memcmp(&f, &zero, sizeof(f)) == 0, "fit not zeroed");
	}
	EXPECT(st == MLX_OK && n == 4, "gaussian: %s after %ld", mlx_status_str(st), n);
	if (st == MLX_OK)
	{
		mlx_free(&tctx, f.class_count);
		mlx_free(&tctx, f.class_log_prior);
		mlx_free(&tctx, f.theta);
		mlx_free(&tctx, f.var);
	}
	for (n = 0; n < 10; n++)
	{
		talloc.fail_after = n;
		st = mlx_nb_from_state(m, 0, 1, mn_labels, &tctx, &f);
		talloc.fail_after = -1;
		if (st == MLX_OK)
			break;
		EXPECT_ST(st, MLX_ENOMEM);
		EXPECT(talloc.live == 0, "multinomial leaked after %ld allocations", n);
	}
	EXPECT(st == MLX_OK && n == 3, "multinomial: %s after %ld", mlx_status_str(st), n);
	if (st == MLX_OK)
	{
		mlx_free(&tctx, f.class_count);
		mlx_free(&tctx, f.class_log_prior);
		mlx_free(&tctx, f.feature_log_prob);
	}
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
	free(g);
	free(m);
}

/*
 * Scoring: ties go to the first class (sklearn's argmax), the
 * probabilities sum to 1, an unaligned row scores as an aligned one, and a
 * likelihood far below the others gives a probability that underflows to
 * 0 without NaN.
 */
static void
t_predict_ties_and_stability(void)
{
	mlx_nb_state *s = new_state(MLX_NB_MULTINOMIAL, 3, 2, NULL);
	mlx_nb_fit	f;
	double		p[3];
	double		q[3];
	double		x[2] = {2, 3};
	char		buf[8 * 2 + 5];
	double		r[2];
	int			i;

	/* classes 1 and 2 identical, class 0 worse for x */
	r[0] = 5;
	r[1] = 0;
	EXPECT_ST(mlx_nb_state_add(s, 0, r, NULL), MLX_OK);
	r[0] = 1;
	r[1] = 1;
	EXPECT_ST(mlx_nb_state_add(s, 1, r, NULL), MLX_OK);
	EXPECT_ST(mlx_nb_state_add(s, 2, r, NULL), MLX_OK);
	EXPECT_ST(mlx_nb_from_state(s, 0, 1, mn_labels, &tctx, &f), MLX_OK);
	EXPECT(mlx_nb_predict_proba(&f, x, p) == 1, "tie not to the first class");
	EXPECT(p[1] == p[2] && p[1] > p[0], "tied probabilities %.17g %.17g", p[1], p[2]);
	EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-15, "sum");
	memcpy(buf + 5, x, sizeof(x));
	EXPECT(mlx_nb_predict_proba(&f, buf + 5, q) == 1, "unaligned prediction");
	EXPECT(memcmp(p, q, sizeof(p)) == 0, "unaligned row scored differently");
	/* all-zero row: the priors; class 0 ties with nobody */
	x[0] = x[1] = 0;
	EXPECT(mlx_nb_predict_proba(&f, x, p) == 0, "all-zero row");
	for (i = 0; i < 3; i++)
		EXPECT_REL(p[i], 1.0 / 3.0, 1e-15, "prior");
	/* an overwhelming row: class 0's probability underflows to exactly 0 */
	x[0] = 0;
	x[1] = 1e6;
	EXPECT(mlx_nb_predict_proba(&f, x, p) == 1, "overwhelming row");
	/* (the log-likelihoods are near -1e6: only about 1e-10 is left of 0.5) */
	EXPECT(p[0] == 0 && p[1] == p[2], "p = %g %g %g", p[0], p[1], p[2]);
	EXPECT_NEAR(p[1], 0.5, 1e-9, "overwhelming row");
	mlx_free(&tctx, f.class_count);
	mlx_free(&tctx, f.class_log_prior);
	mlx_free(&tctx, f.feature_log_prob);
	free(s);

	/* Gaussian, iris: every row's probabilities sum to 1 */
	{
		mlx_nb_state *g = iris_state(NULL);
		int			wrong = 0;

		EXPECT_ST(mlx_nb_from_state(g, 1e-9, 0, iris_labels, &tctx, &f), MLX_OK);
		for (i = 0; i < 150; i++)
		{
			int			c = mlx_nb_predict_proba(&f, iris[i], p);

			EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-15, "sum");
			EXPECT(p[c] >= p[0] && p[c] >= p[1] && p[c] >= p[2], "argmax");
			wrong += c != iris_class(i);
		}
		/* GaussianNB().fit(X, y).score(X, y) = 0.96 */
		EXPECT(wrong == 6, "%d training rows misclassified, expected 6", wrong);
		mlx_free(&tctx, f.class_count);
		mlx_free(&tctx, f.class_log_prior);
		mlx_free(&tctx, f.theta);
		mlx_free(&tctx, f.var);
		free(g);
	}
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
}

int
main(void)
{
	run_case("state_size_and_init", t_state_size_init);
	run_case("state_validate_rejects_each_rule", t_state_validate);
	run_case("state_add_and_merge_equal_one_state", t_state_add_merge);
	run_case("state_add_and_merge_errors_leave_state_unchanged", t_state_add_merge_errors);
	run_case("gaussian_iris_vs_sklearn", t_gaussian_vs_sklearn);
	run_case("multinomial_counts_vs_sklearn", t_multinomial_vs_sklearn);
	run_case("fit_errors_zero_variance_and_enomem", t_fit_errors);
	run_case("predict_ties_and_stability", t_predict_ties_and_stability);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
