/*
 * test_metrics.c
 *	  Unit tests of the evaluation-metric states (src/core/metrics.c):
 *	  regression moments against two-pass long-double references and
 *	  sklearn's degenerate-case conventions, confusion tables (lookup,
 *	  growth, merge, label limit, validation), binary tables, log loss with
 *	  clipping, and exact ROC AUC against a brute-force pair count.
 *
 * Prints "PASS name" / "FAIL name: reason" per case; exits 1 on failure.
 */
#include "core/metrics.h"
#include "core/mlx_core.h"

#include "harness.h"

/* ---------------------------------------------------------------- regression */

/* two-pass long double reference */
static void
reg_reference(const double *y, const double *p, int n, mlx_regression_metrics *r)
{
	long double my = 0,
				me = 0,
				sst = 0,
				sse = 0,
				ve = 0,
				sa = 0;

	for (int i = 0; i < n; i++)
	{
		my += y[i];
		me += (long double) y[i] - p[i];
	}
	my /= n;
	me /= n;
	for (int i = 0; i < n; i++)
	{
		long double e = (long double) y[i] - p[i];

		sst += (y[i] - my) * (y[i] - my);
		sse += e * e;
		ve += (e - me) * (e - me);
		sa += fabsl(e);
	}
	r->mse = (double) (sse / n);
	r->rmse = sqrt(r->mse);
	r->mae = (double) (sa / n);
	r->r2 = (double) (1 - sse / sst);
	r->explained_variance = (double) (1 - ve / sst);
}

static void
test_regression_hand(void)
{
	/* y = 1,2,3,4; yhat = 1,2,3,5: e = 0,0,0,-1; SSE 1, SST 5, mean e -1/4 */
	double		y[] = {1, 2, 3, 4},
				p[] = {1, 2, 3, 5};
	mlx_regmoments s;
	mlx_regression_metrics m;

	mlx_regmoments_init(&s);
	EXPECT_ST(mlx_regmoments_result(&s, &m), MLX_EINVAL);
	for (int i = 0; i < 4; i++)
		EXPECT_ST(mlx_regmoments_add(&s, y[i], p[i]), MLX_OK);
	EXPECT_ST(mlx_regmoments_validate(&s, sizeof(s), NULL, 0), MLX_OK);
	EXPECT_ST(mlx_regmoments_result(&s, &m), MLX_OK);
	EXPECT_REL_FLOOR(m.mse, 0.25, 1e-15, "mse");
	EXPECT_REL_FLOOR(m.rmse, 0.5, 1e-15, "rmse");
	EXPECT_REL_FLOOR(m.mae, 0.25, 1e-15, "mae");
	EXPECT_REL_FLOOR(m.r2, 0.8, 1e-15, "r2");
	/* Var(e)*n = 1 - 4/16 = 0.75; 1 - 0.75/5 = 0.85 */
	EXPECT_REL_FLOOR(m.explained_variance, 0.85, 1e-15, "explained variance");
}

static void
test_regression_degenerate(void)
{
	mlx_regmoments s;
	mlx_regression_metrics m;

	/* one row: r2 NaN (sklearn), explained variance 1 (0/0 -> 1) */
	mlx_regmoments_init(&s);
	mlx_regmoments_add(&s, 1, 2);
	mlx_regmoments_result(&s, &m);
	EXPECT(isnan(m.r2), "r2 of one row is %g, expected NaN", m.r2);
	EXPECT(m.explained_variance == 1.0, "ev of one row %g", m.explained_variance);
	EXPECT(m.mse == 1.0 && m.mae == 1.0, "mse %g mae %g", m.mse, m.mae);

	/* constant y, perfect prediction: 1; constant y, imperfect: 0 */
	mlx_regmoments_init(&s);
	for (int i = 0; i < 3; i++)
		mlx_regmoments_add(&s, 0.1, 0.1);
	mlx_regmoments_result(&s, &m);
	EXPECT(m.r2 == 1.0 && m.explained_variance == 1.0, "r2 %g ev %g", m.r2,
		   m.explained_variance);
	mlx_regmoments_init(&s);
	mlx_regmoments_add(&s, 0.1, 0.1);
	mlx_regmoments_add(&s, 0.1, 0.1);
	mlx_regmoments_add(&s, 0.1, 0.3);
	mlx_regmoments_result(&s, &m);
	EXPECT(m.r2 == 0.0 && m.explained_variance == 0.0, "r2 %g ev %g", m.r2,
		   m.explained_variance);
	/* constant offset: r2 < 1 but explained variance exactly 1 */
	mlx_regmoments_init(&s);
	for (int i = 0; i < 5; i++)
		mlx_regmoments_add(&s, i, i + 1.0);
	mlx_regmoments_result(&s, &m);
	EXPECT(m.explained_variance == 1.0, "ev %g", m.explained_variance);
	EXPECT_REL_FLOOR(m.r2, 0.5, 1e-15, "r2 (SSE 5, SST 10)");
}

static void
test_regression_random_and_merge(void)
{
	enum
	{
	N = 10000};
	static double y[N],
				p[N];
	mlx_regmoments all,
				parts[7],
				merged;
	mlx_regression_metrics ref,
				m1,
				m2;

	for (int i = 0; i < N; i++)
	{
		y[i] = 1e6 + 100 * urand();		/* a large offset: stability */
		p[i] = y[i] + (urand() - 0.3) * 20;
	}
	reg_reference(y, p, N, &ref);
	mlx_regmoments_init(&all);
	for (int k = 0; k < 7; k++)
		mlx_regmoments_init(&parts[k]);
	for (int i = 0; i < N; i++)
	{
		mlx_regmoments_add(&all, y[i], p[i]);
		mlx_regmoments_add(&parts[(i * 31) % 7 == 3 ? 0 : i % 7], y[i], p[i]);
	}
	mlx_regmoments_init(&merged);
	for (int k = 6; k >= 0; k--)
		EXPECT_ST(mlx_regmoments_merge(&merged, &parts[k]), MLX_OK);
	mlx_regmoments_result(&all, &m1);
	mlx_regmoments_result(&merged, &m2);
	EXPECT(all.n == N && merged.n == N, "counts %lld %lld", (long long) all.n,
		   (long long) merged.n);
	EXPECT_REL_FLOOR(m1.r2, ref.r2, 1e-12, "r2 streaming");
	EXPECT_REL_FLOOR(m1.mse, ref.mse, 1e-12, "mse streaming");
	EXPECT_REL_FLOOR(m1.mae, ref.mae, 1e-13, "mae streaming");
	EXPECT_REL_FLOOR(m1.explained_variance, ref.explained_variance, 1e-12, "ev streaming");
	EXPECT_REL_FLOOR(m2.r2, ref.r2, 1e-12, "r2 merged");
	EXPECT_REL_FLOOR(m2.mse, ref.mse, 1e-12, "mse merged");
	EXPECT_REL_FLOOR(m2.rmse, ref.rmse, 1e-12, "rmse merged");
	EXPECT_REL_FLOOR(m2.mae, ref.mae, 1e-13, "mae merged");
	EXPECT_REL_FLOOR(m2.explained_variance, ref.explained_variance, 1e-12, "ev merged");
}

static void
test_regression_validate_and_nonfinite(void)
{
	mlx_regmoments s,
				t;
	char		err[128];

	mlx_regmoments_init(&s);
	EXPECT_ST(mlx_regmoments_add(&s, NAN, 1), MLX_ENONFINITE);
	EXPECT_ST(mlx_regmoments_add(&s, 1, INFINITY), MLX_ENONFINITE);
	EXPECT_ST(mlx_regmoments_add(&s, 1e308, -1e308), MLX_ENONFINITE);
	EXPECT(s.n == 0, "failed adds changed the state");
	mlx_regmoments_add(&s, 1, 2);
	EXPECT_ST(mlx_regmoments_validate(&s, sizeof(s) - 1, err, sizeof(err)), MLX_ECORRUPT);
	t = s;
	t.version = 9;
	EXPECT_ST(mlx_regmoments_validate(&t, sizeof(t), err, sizeof(err)), MLX_ECORRUPT);
	t = s;
	t.kind = MLX_METRICS_KIND_LOGLOSS;
	EXPECT_ST(mlx_regmoments_validate(&t, sizeof(t), err, sizeof(err)), MLX_ECORRUPT);
	t = s;
	t.m2_y = -1;
	EXPECT_ST(mlx_regmoments_validate(&t, sizeof(t), err, sizeof(err)), MLX_ECORRUPT);
	t = s;
	t.mean_e = NAN;
	EXPECT_ST(mlx_regmoments_validate(&t, sizeof(t), err, sizeof(err)), MLX_ECORRUPT);
	t = s;
	t.n = -3;
	EXPECT_ST(mlx_regmoments_validate(&t, sizeof(t), err, sizeof(err)), MLX_ECORRUPT);
	EXPECT(strlen(err) > 0, "no message");
}

/* ---------------------------------------------------------------- confusion */

typedef struct conf_buf
{
	mlx_confusion *s;
	size_t		size;
} conf_buf;

static void
conf_new(conf_buf *b, uint32_t cap, uint32_t tcap)
{
	b->size = mlx_confusion_size(cap, tcap);
	b->s = malloc(b->size);
	mlx_confusion_init(b->s, cap, tcap);
}

/* add with growth, as the glue does; returns the add result */
static mlx_conf_add_result
conf_add(conf_buf *b, const char *a, const char *p)
{
	mlx_conf_add_result r;
	uint32_t	nl;
	size_t		nt;

	EXPECT_ST(mlx_confusion_add(b->s, a, strlen(a), p, strlen(p), &r, &nl, &nt), MLX_OK);
	if (r == MLX_CONF_NEED_SPACE)
	{
		uint32_t	cap,
					tcap;
		conf_buf	nb;

		EXPECT_ST(mlx_confusion_grown_caps(b->s, nl, nt, &cap, &tcap), MLX_OK);
		conf_new(&nb, cap, tcap);
		EXPECT_ST(mlx_confusion_copy(nb.s, cap, tcap, b->s), MLX_OK);
		free(b->s);
		*b = nb;
		EXPECT_ST(mlx_confusion_add(b->s, a, strlen(a), p, strlen(p), &r, &nl, &nt), MLX_OK);
		EXPECT(r == MLX_CONF_ADDED, "not added after growth");
	}
	return r;
}

static void
test_confusion_hand(void)
{
	/*
	 * actual  a a a b b c ; pred a b a b c c
	 * a: tp 2, pred 2, actual 3 -> p 1, r 2/3, f1 4/5
	 * b: tp 1, pred 2, actual 2 -> p 1/2, r 1/2, f1 1/2
	 * c: tp 1, pred 2, actual 1 -> p 1/2, r 1, f1 2/3
	 * accuracy 4/6; macro p 2/3, r 13/18, f1 (4/5 + 1/2 + 2/3)/3 = 59/90
	 */
	const char *act[] = {"a", "a", "a", "b", "b", "c"};
	const char *prd[] = {"a", "b", "a", "b", "c", "c"};
	conf_buf	b;
	mlx_class_metrics m;

	conf_new(&b, 1, 0);
	for (int i = 0; i < 6; i++)
		conf_add(&b, act[i], prd[i]);
	EXPECT_ST(mlx_confusion_validate(b.s, b.size, NULL, 0), MLX_OK);
	EXPECT(b.s->nlabels == 3 && b.s->nrows == 6, "labels %u rows %lld",
		   b.s->nlabels, (long long) b.s->nrows);
	EXPECT_ST(mlx_confusion_macro(b.s, &m), MLX_OK);
	EXPECT_REL_FLOOR(m.accuracy, 4.0 / 6, 1e-15, "accuracy");
	EXPECT_REL_FLOOR(m.precision, 2.0 / 3, 1e-15, "precision");
	EXPECT_REL_FLOOR(m.recall, 13.0 / 18, 1e-15, "recall");
	EXPECT_REL_FLOOR(m.f1, 59.0 / 90, 1e-15, "f1");
	free(b.s);

	/* a label only ever predicted counts in the macro average with zeros */
	conf_new(&b, 4, 64);
	conf_add(&b, "x", "x");
	conf_add(&b, "x", "y");
	mlx_confusion_macro(b.s, &m);
	/* x: p 1, r 1/2, f1 2/3; y: p 0, r 0 (no actual y), f1 0 */
	EXPECT_REL_FLOOR(m.precision, 0.5, 1e-15, "precision with predicted-only label");
	EXPECT_REL_FLOOR(m.recall, 0.25, 1e-15, "recall with predicted-only label");
	EXPECT_REL_FLOOR(m.f1, 1.0 / 3, 1e-15, "f1 with predicted-only label");
	free(b.s);
}

static void
test_confusion_merge_growth(void)
{
	enum
	{
	N = 5000, L = 37};
	conf_buf	all,
				p1,
				p2;
	char		a[16],
				p[16];
	mlx_class_metrics m1,
				m2;
	uint32_t	nl;
	size_t		nt;

	conf_new(&all, 1, 0);
	conf_new(&p1, 1, 0);
	conf_new(&p2, 1, 0);
	for (int i = 0; i < N; i++)
	{
		int			ya = (int) (urand() * L);
		int			yp = urand() < 0.6 ? ya : (int) (urand() * L);

		snprintf(a, sizeof(a), "lab%d", ya);
		snprintf(p, sizeof(p), "lab%d", yp);
		conf_add(&all, a, p);
		conf_add(i % 3 ? &p1 : &p2, a, p);
	}
	EXPECT_ST(mlx_confusion_validate(p1.s, p1.size, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_confusion_validate(p2.s, p2.size, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_confusion_merge_needs(p1.s, p2.s, &nl, &nt), MLX_OK);
	if (p1.s->nlabels + nl > p1.s->cap || p1.s->text_used + nt > p1.s->text_cap)
	{
		uint32_t	cap,
					tcap;
		conf_buf	nb;

		mlx_confusion_grown_caps(p1.s, nl, nt, &cap, &tcap);
		conf_new(&nb, cap, tcap);
		mlx_confusion_copy(nb.s, cap, tcap, p1.s);
		free(p1.s);
		p1 = nb;
	}
	EXPECT_ST(mlx_confusion_merge(p1.s, p2.s), MLX_OK);
	EXPECT_ST(mlx_confusion_validate(p1.s, p1.size, NULL, 0), MLX_OK);
	mlx_confusion_macro(all.s, &m1);
	mlx_confusion_macro(p1.s, &m2);
	EXPECT(p1.s->nrows == N && p1.s->nlabels == all.s->nlabels, "rows %lld labels %u",
		   (long long) p1.s->nrows, p1.s->nlabels);
	EXPECT_REL_FLOOR(m2.accuracy, m1.accuracy, 1e-15, "merged accuracy");
	EXPECT_REL_FLOOR(m2.precision, m1.precision, 1e-13, "merged precision");
	EXPECT_REL_FLOOR(m2.recall, m1.recall, 1e-13, "merged recall");
	EXPECT_REL_FLOOR(m2.f1, m1.f1, 1e-13, "merged f1");
	free(all.s);
	free(p1.s);
	free(p2.s);
}

static void
test_confusion_limits(void)
{
	conf_buf	b;
	char		lab[16];
	mlx_conf_add_result r;
	uint32_t	nl;
	size_t		nt;
	static char big[MLX_CONF_MAX_LABEL_BYTES + 1];

	conf_new(&b, 1, 0);
	for (int i = 0; i < MLX_CONF_MAX_LABELS; i++)
	{
		snprintf(lab, sizeof(lab), "%d", i);
		if (conf_add(&b, lab, lab) != MLX_CONF_ADDED)
			break;
	}
	EXPECT(b.s->nlabels == MLX_CONF_MAX_LABELS, "labels %u", b.s->nlabels);
	EXPECT_ST(mlx_confusion_add(b.s, "new", 3, "0", 1, &r, &nl, &nt), MLX_OK);
	EXPECT(r == MLX_CONF_TOO_MANY_LABELS, "result %d", (int) r);
	EXPECT_ST(mlx_confusion_add(b.s, "5", 1, "999", 3, &r, &nl, &nt), MLX_OK);
	EXPECT(r == MLX_CONF_ADDED, "known labels still count");
	EXPECT_ST(mlx_confusion_validate(b.s, b.size, NULL, 0), MLX_OK);
	memset(big, 'x', sizeof(big));
	EXPECT_ST(mlx_confusion_add(b.s, big, sizeof(big), "0", 1, &r, &nl, &nt), MLX_EINVAL);
	free(b.s);
}

static void
test_confusion_corrupt(void)
{
	conf_buf	b;
	char		err[128];
	mlx_conf_add_result r;
	uint32_t	nl;
	size_t		nt;
	uint32_t   *off;

	conf_new(&b, 4, 64);
	conf_add(&b, "a", "b");
	conf_add(&b, "b", "b");
	EXPECT_ST(mlx_confusion_check(b.s, b.size - 1, err, sizeof(err)), MLX_ECORRUPT);
	b.s->nlabels = 5;
	EXPECT_ST(mlx_confusion_check(b.s, b.size, err, sizeof(err)), MLX_ECORRUPT);
	b.s->nlabels = 2;
	b.s->nrows = 3;
	EXPECT_ST(mlx_confusion_check(b.s, b.size, err, sizeof(err)), MLX_OK);
	EXPECT_ST(mlx_confusion_validate(b.s, b.size, err, sizeof(err)), MLX_ECORRUPT);
	b.s->nrows = 2;
	/* a label pointing outside the text: checked access refuses it */
	off = (uint32_t *) ((char *) b.s + sizeof(mlx_confusion) + 8 * 16);
	off[1] = 60;
	EXPECT_ST(mlx_confusion_validate(b.s, b.size, err, sizeof(err)), MLX_ECORRUPT);
	EXPECT_ST(mlx_confusion_add(b.s, "zz", 2, "zz", 2, &r, &nl, &nt), MLX_ECORRUPT);
	free(b.s);
}

/* ---------------------------------------------------------------- binary */

static void
test_binary(void)
{
	/* tp 2 fp 1 fn 1 tn 3: p 2/3, r 2/3, f1 2/3, acc 5/7 */
	bool		act[] = {1, 1, 1, 0, 0, 0, 0},
				prd[] = {1, 1, 0, 1, 0, 0, 0};
	size_t		sz = mlx_binconf_size(3);
	mlx_binconf *a = malloc(sz),
			   *b = malloc(sz),
			   *c = malloc(mlx_binconf_size(0));
	mlx_class_metrics m;

	mlx_binconf_init(a, true, "yes", 3);
	mlx_binconf_init(b, true, "yes", 3);
	mlx_binconf_init(c, false, NULL, 0);
	EXPECT_ST(mlx_binconf_result(a, &m), MLX_EINVAL);
	for (int i = 0; i < 7; i++)
		EXPECT_ST(mlx_binconf_add(i < 4 ? a : b, act[i], prd[i]), MLX_OK);
	EXPECT_ST(mlx_binconf_merge(a, b), MLX_OK);
	EXPECT_ST(mlx_binconf_validate(a, sz, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_binconf_result(a, &m), MLX_OK);
	EXPECT_REL_FLOOR(m.accuracy, 5.0 / 7, 1e-15, "accuracy");
	EXPECT_REL_FLOOR(m.precision, 2.0 / 3, 1e-15, "precision");
	EXPECT_REL_FLOOR(m.recall, 2.0 / 3, 1e-15, "recall");
	EXPECT_REL_FLOOR(m.f1, 2.0 / 3, 1e-15, "f1");
	EXPECT_ST(mlx_binconf_merge(a, c), MLX_EMISMATCH);
	mlx_binconf_init(b, true, "yep", 3);
	EXPECT_ST(mlx_binconf_merge(a, b), MLX_EMISMATCH);
	/* no positives at all: zero_division = 0 */
	mlx_binconf_add(c, false, false);
	mlx_binconf_result(c, &m);
	EXPECT(m.precision == 0 && m.recall == 0 && m.f1 == 0 && m.accuracy == 1,
		   "p %g r %g f1 %g acc %g", m.precision, m.recall, m.f1, m.accuracy);
	EXPECT_ST(mlx_binconf_validate(a, sz - 1, NULL, 0), MLX_ECORRUPT);
	a->fp = -1;
	EXPECT_ST(mlx_binconf_validate(a, sz, NULL, 0), MLX_ECORRUPT);
	free(a);
	free(b);
	free(c);
}

/* ---------------------------------------------------------------- log loss */

static void
test_logloss(void)
{
	mlx_logloss s,
				t;
	double		v;

	mlx_logloss_init(&s);
	mlx_logloss_init(&t);
	EXPECT_ST(mlx_logloss_result(&s, &v), MLX_EINVAL);
	/* -(log 0.8 + log(1 - 0.4)) / 2 */
	mlx_logloss_add(&s, true, 0.8);
	mlx_logloss_add(&t, false, 0.4);
	mlx_logloss_merge(&s, &t);
	EXPECT_ST(mlx_logloss_validate(&s, sizeof(s), NULL, 0), MLX_OK);
	mlx_logloss_result(&s, &v);
	EXPECT_REL_FLOOR(v, -(log(0.8) + log(0.6)) / 2, 1e-15, "log loss");
	/* clipping: p = 0 for a positive costs -log(eps) */
	mlx_logloss_init(&s);
	mlx_logloss_add(&s, true, 0.0);
	mlx_logloss_add(&s, false, 1.0);
	mlx_logloss_result(&s, &v);
	EXPECT_REL_FLOOR(v, -log(DBL_EPSILON), 1e-15, "clipped");
	EXPECT_ST(mlx_logloss_add(&s, true, 1.5), MLX_EINVAL);
	EXPECT_ST(mlx_logloss_add(&s, true, -0.1), MLX_EINVAL);
	EXPECT_ST(mlx_logloss_add(&s, true, NAN), MLX_EINVAL);
	s.sum = -1;
	EXPECT_ST(mlx_logloss_validate(&s, sizeof(s), NULL, 0), MLX_ECORRUPT);
}

/* ---------------------------------------------------------------- AUC */

static double
auc_brute(const double *pos, int np, const double *neg, int nn)
{
	double		u = 0;

	for (int i = 0; i < np; i++)
		for (int j = 0; j < nn; j++)
			u += pos[i] > neg[j] ? 1.0 : (pos[i] == neg[j] ? 0.5 : 0.0);
	return u / ((double) np * nn);
}

static void
test_auc_hand(void)
{
	/*
	 * positives 0.8 0.4 0.35, negatives 0.1 0.4: pairs (8,1)(8,4)(4,1)
	 * (35,1) win, (4,4) tie, (35,4) lose: (4 + 0.5) / 6 = 0.75
	 */
	double		pos[] = {0.8, 0.4, 0.35},
				neg[] = {0.1, 0.4},
				v;

	EXPECT_ST(mlx_auc_of(pos, 3, neg, 2, NULL, &v), MLX_OK);
	EXPECT_REL_FLOOR(v, 0.75, 1e-15, "auc");
	EXPECT_ST(mlx_auc_of(pos, 3, neg, 0, NULL, &v), MLX_EINVAL);
	/* -0 and +0 tie; negative scores sort below positive ones */
	{
		double		p2[] = {-0.0, -5},
					n2[] = {0.0, -7};

		mlx_auc_of(p2, 2, n2, 2, NULL, &v);
		EXPECT_REL_FLOOR(v, 2.5 / 4, 1e-15, "signed zero tie");
	}
	{
		double		p3[] = {1, NAN};

		EXPECT_ST(mlx_auc_of(p3, 2, neg, 2, NULL, &v), MLX_ENONFINITE);
	}
}

static void
test_auc_random_state(void)
{
	enum
	{
	N = 3000};
	static double pos[N],
				neg[N];
	int			np = 0,
				nn = 0;
	size_t		sz = mlx_auc_size(MLX_AUC_MIN_CAP);
	mlx_auc    *a = malloc(sz),
			   *b;
	int64_t		cap;
	double		v;
	test_alloc	ta;
	mlx_ctx		ctx = ta_ctx(&ta);

	mlx_auc_init(a, MLX_AUC_MIN_CAP);
	for (int i = 0; i < N; i++)
	{
		bool		y = urand() < 0.3;
		/* coarse scores: many ties, some negative */
		double		s = floor((urand() + (y ? 0.3 : 0)) * 50) / 10 - 1;

		if (y)
			pos[np++] = s;
		else
			neg[nn++] = s;
		if (!mlx_auc_add(a, y, s))
		{
			mlx_auc    *g;

			EXPECT_ST(mlx_auc_grown_cap(a, a->npos + a->nneg + 1, &cap), MLX_OK);
			EXPECT(cap == 2 * a->cap, "doubling: %lld -> %lld", (long long) a->cap,
				   (long long) cap);
			g = malloc(mlx_auc_size(cap));
			EXPECT_ST(mlx_auc_copy(g, cap, a), MLX_OK);
			free(a);
			a = g;
			sz = mlx_auc_size(cap);
			EXPECT(mlx_auc_add(a, y, s), "add after growth");
		}
	}
	EXPECT_ST(mlx_auc_check(a, sz, NULL, 0), MLX_OK);
	EXPECT(a->npos == np && a->nneg == nn, "counts");
	EXPECT_ST(mlx_auc_result(a, &ctx, &v), MLX_OK);
	EXPECT(ta.live == 0, "%ld blocks leaked", ta.live);
	EXPECT_REL_FLOOR(v, auc_brute(pos, np, neg, nn), 1e-14, "auc vs brute force");

	/* merge into a copy with room */
	EXPECT_ST(mlx_auc_grown_cap(a, 2 * (a->npos + a->nneg), &cap), MLX_OK);
	b = malloc(mlx_auc_size(cap));
	mlx_auc_copy(b, cap, a);
	EXPECT_ST(mlx_auc_merge(b, a), MLX_OK);
	EXPECT_ST(mlx_auc_merge(a, b), MLX_EINVAL);
	mlx_auc_result(b, &ctx, &v);
	EXPECT_REL_FLOOR(v, auc_brute(pos, np, neg, nn), 1e-14, "auc of doubled data");

	ta.interrupt = true;
	EXPECT_ST(mlx_auc_result(b, &ctx, &v), MLX_EINTR);
	EXPECT(ta.live == 0, "%ld blocks leaked after interrupt", ta.live);
	free(a);
	free(b);
}

static void
test_auc_check(void)
{
	size_t		sz = mlx_auc_size(8);
	mlx_auc    *a = malloc(sz);
	int64_t		cap;

	mlx_auc_init(a, 8);
	EXPECT_ST(mlx_auc_check(a, sz, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_auc_check(a, sz + 8, NULL, 0), MLX_ECORRUPT);
	a->npos = 5;
	a->nneg = 4;
	EXPECT_ST(mlx_auc_check(a, sz, NULL, 0), MLX_ECORRUPT);
	a->npos = -1;
	a->nneg = 0;
	EXPECT_ST(mlx_auc_check(a, sz, NULL, 0), MLX_ECORRUPT);
	a->npos = 0;
	a->cap = INT64_MAX;
	EXPECT_ST(mlx_auc_check(a, sz, NULL, 0), MLX_ECORRUPT);
	a->cap = 8;
	EXPECT(mlx_auc_size(mlx_auc_max_cap() + 1) == 0, "size above limit");
	EXPECT(mlx_auc_size(mlx_auc_max_cap()) <= MLX_AUC_MAX_BYTES, "max size");
	EXPECT_ST(mlx_auc_grown_cap(a, mlx_auc_max_cap() + 1, &cap), MLX_EINVAL);
	EXPECT_ST(mlx_auc_grown_cap(a, mlx_auc_max_cap(), &cap), MLX_OK);
	EXPECT(cap == mlx_auc_max_cap(), "growth capped at the maximum");
	free(a);
}

int
main(void)
{
	run_case("metrics_regression_hand", test_regression_hand);
	run_case("metrics_regression_degenerate", test_regression_degenerate);
	run_case("metrics_regression_random_and_merge", test_regression_random_and_merge);
	run_case("metrics_regression_validate_and_nonfinite", test_regression_validate_and_nonfinite);
	run_case("metrics_confusion_hand", test_confusion_hand);
	run_case("metrics_confusion_merge_growth", test_confusion_merge_growth);
	run_case("metrics_confusion_limits", test_confusion_limits);
	run_case("metrics_confusion_corrupt", test_confusion_corrupt);
	run_case("metrics_binary", test_binary);
	run_case("metrics_logloss", test_logloss);
	run_case("metrics_auc_hand", test_auc_hand);
	run_case("metrics_auc_random_state", test_auc_random_state);
	run_case("metrics_auc_check", test_auc_check);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
