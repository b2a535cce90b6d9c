/*
 * test_poisson.c
 *	  Unit tests of Poisson regression in the numerical core
 *	  (src/core/poisson.c): the per-row IRLS quantities, scoring, the
 *	  statistics taken from the last weighted least-squares fit, and full
 *	  IRLS loops run here on the streaming least-squares state.
 *
 * References are independent of the code under test: closed forms and
 * long double evaluations of the per-row formulas, the score equations
 * X'(y - mu) = lambda beta and a Gauss-Jordan inverse of X'WX computed
 * here, and one fit computed by statsmodels 0.13 (GLM, Poisson family).
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/linreg.h"
#include "core/mlx_core.h"
#include "core/poisson.h"

#include "harness.h"

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, NULL, &talloc};

/* a Poisson(lam) count by Knuth's multiplication method (small lam) */
static double
poisson_draw(double lam)
{
	double		limit = exp(-lam);
	double		p = 1.0;
	int			k = -1;

	do
	{
		k++;
		p *= unif();
	} while (p > limit);
	return (double) k;
}

/*
 * Invert the n-by-n row-major matrix A (long double, Gauss-Jordan with
 * partial pivoting) into Ainv.  Returns false when singular.
 */
static bool
gj_inverse(const long double *A, long double *Ainv, int n)
{
	long double *M = malloc(sizeof(long double) * (size_t) n * 2 * n);
	int			i,
				j,
				r;
	bool		ok = true;

	for (i = 0; i < n; i++)
		for (j = 0; j < 2 * n; j++)
			M[i * 2 * n + j] = (j < n) ? A[i * n + j] : (j - n == i ? 1.0L : 0.0L);
	for (i = 0; i < n && ok; i++)
	{
		int			piv = i;
		long double d;

		for (r = i + 1; r < n; r++)
			if (fabsl(M[r * 2 * n + i]) > fabsl(M[piv * 2 * n + i]))
				piv = r;
		if (M[piv * 2 * n + i] == 0.0L)
		{
			ok = false;
			break;
		}
		if (piv != i)
			for (j = 0; j < 2 * n; j++)
			{
				long double t = M[i * 2 * n + j];

				M[i * 2 * n + j] = M[piv * 2 * n + j];
				M[piv * 2 * n + j] = t;
			}
		d = M[i * 2 * n + i];
		for (j = 0; j < 2 * n; j++)
			M[i * 2 * n + j] /= d;
		for (r = 0; r < n; r++)
		{
			long double f = M[r * 2 * n + i];

			if (r == i || f == 0.0L)
				continue;
			for (j = 0; j < 2 * n; j++)
				M[r * 2 * n + j] -= f * M[i * 2 * n + j];
		}
	}
	for (i = 0; i < n && ok; i++)
		for (j = 0; j < n; j++)
			Ainv[i * n + j] = M[i * 2 * n + n + j];
	free(M);
	return ok;
}

static void
free_wls(mlx_linreg_fit *f, const mlx_ctx *ctx)
{
	mlx_free(ctx, f->coef);
	mlx_free(ctx, f->se);
	mlx_free(ctx, f->tval);
	mlx_free(ctx, f->pval);
	if (f->dependent != NULL)
		mlx_free(ctx, f->dependent);
}

static void
free_poisson(mlx_poisson_fit *f, const mlx_ctx *ctx)
{
	mlx_free(ctx, f->coef);
	mlx_free(ctx, f->se);
	mlx_free(ctx, f->zval);
	mlx_free(ctx, f->pval);
}

static mlx_linreg_state *
new_state(int k, double lambda, bool intercept)
{
	mlx_linreg_state *s = malloc(mlx_linreg_state_size(k, intercept));

	if (mlx_linreg_state_init(s, k, lambda, intercept) != MLX_OK)
	{
		free(s);
		return NULL;
	}
	return s;
}

/* ----------------------------------------------------- per-row quantities */

/*
 * d - log1p(d) by its series in long double, for small |d|: the exact
 * value of y log(y / mu) - (y - mu) divided by y, where mu = y (1 + d).
 */
static long double
dev_series(long double d)
{
	long double s = 0.0L;
	long double p = d;
	int			j;

	/* d - log1p(d) = sum_{j>=2} (-1)^j d^j / j */
	for (j = 2; j < 60; j++)
	{
		p *= d;
		s += (j % 2 == 0) ? p / j : -p / j;
	}
	return s;
}

static void
t_working_closed_forms(void)
{
	double		w,
				z,
				l,
				d;
	const double ln2 = 0.69314718055994530942;

	/* eta = 0, y = 1: mu = 1 exactly, zero deviance */
	mlx_poisson_working(0.0, 1.0, &w, &z, &l, &d);
	EXPECT(w == 1.0 && z == 0.0 && l == -1.0 && d == 0.0,
		   "eta 0, y 1: w %.17g z %.17g l %.17g d %.17g", w, z, l, d);
	/* eta = 0, y = 2: z = 1, loglik = -1 - log 2, deviance 2 (2 log 2 - 1) */
	mlx_poisson_working(0.0, 2.0, &w, &z, &l, &d);
	EXPECT(w == 1.0 && z == 1.0, "eta 0, y 2: w %.17g z %.17g", w, z);
	EXPECT_REL(l, -1.0 - ln2, 1e-15, "loglik y=2");
	EXPECT_REL(d, 0.77258872223978123767, 1e-14, "deviance y=2");
	/* y = 0: loglik -mu and deviance 2 mu exactly, z = eta - 1 */
	mlx_poisson_working(ln2, 0.0, &w, &z, &l, &d);
	EXPECT_REL(w, 2.0, 1e-15, "mu at log 2");
	EXPECT(z == ln2 - 1.0, "z at y=0: %.17g", z);
	EXPECT(l == -w && d == 2.0 * w, "y=0: l %.17g d %.17g, mu %.17g", l, d, w);
	mlx_poisson_working(-3.0, 0.0, &w, &z, &l, &d);
	EXPECT(w == exp(-3.0) && l == -exp(-3.0) && d == 2.0 * exp(-3.0) && z == -4.0,
		   "y=0 at eta -3");
	/* a non-integer count, y = 1/2 at eta = 0: lgamma(3/2) = log(sqrt(pi) / 2) */
	mlx_poisson_working(0.0, 0.5, &w, &z, &l, &d);
	EXPECT(w == 1.0 && z == -0.5, "y=1/2: w %.17g z %.17g", w, z);
	EXPECT_REL(l, -1.0 + 0.12078223763524522234, 1e-14, "loglik y=1/2");
	EXPECT_REL(d, 1.0 - ln2, 1e-14, "deviance y=1/2 (1 - log 2)");
}

static void
t_working_vs_long_double(void)
{
	static const double etas[] = {-6.0, -1.3, -0.2, 0.0, 0.45, 1.5, 3.0, 5.5};
	static const double ys[] = {0.0, 1.0, 2.0, 3.5, 7.0, 20.0, 123.25};
	size_t		i,
				c;

	for (i = 0; i < sizeof(etas) / sizeof(etas[0]); i++)
		for (c = 0; c < sizeof(ys) / sizeof(ys[0]); c++)
		{
			double		eta = etas[i];
			double		y = ys[c];
			long double mu = expl((long double) eta);
			long double z = eta + (y - mu) / mu;
			long double ll = y * (long double) eta - mu - lgammal(y + 1.0L);
			long double dev = (y == 0.0) ? 2.0L * mu :
				2.0L * (y * logl(y / mu) - (y - mu));
			double		w,
						zz,
						l,
						d;

			mlx_poisson_working(eta, y, &w, &zz, &l, &d);
			EXPECT_REL(w, (double) mu, 1e-15, "w");
			EXPECT_NEAR(zz, (double) z, 1e-13, "z");
			EXPECT_NEAR(l, (double) ll, 1e-13, "loglik");
			/* these (y, mu) are far enough apart for long double to be exact */
			EXPECT_REL(d, (double) dev, 1e-12, "deviance");
			if (!case_ok)
			{
				fail_at(__LINE__, "eta %g y %g", eta, y);
				return;
			}
		}
}

/*
 * y near mu: the deviance is about (y - mu)^2 / mu, far below either term
 * of y log(y / mu) - (y - mu).  Compared with the series in long double to
 * a relative 1e-13, which the direct form misses by orders of magnitude.
 */
static void
t_deviance_near_mu(void)
{
	static const double ys[] = {1.0, 3.0, 1000.0, 2.5e6};
	static const double rel[] = {1e-3, -2e-5, 1e-6, -3e-8, 1e-10};
	size_t		i,
				c;

	for (i = 0; i < sizeof(ys) / sizeof(ys[0]); i++)
		for (c = 0; c < sizeof(rel) / sizeof(rel[0]); c++)
		{
			double		y = ys[i];
			double		eta = log(y) + rel[c];
			double		w,
						z,
						l,
						d;
			long double dd;
			long double want;

			mlx_poisson_working(eta, y, &w, &z, &l, &d);
			/* the mu actually used is w; mu = y (1 + dd) */
			dd = ((long double) w - y) / y;
			want = 2.0L * y * dev_series(dd);
			EXPECT(d > 0.0, "deviance %g not positive", d);
			EXPECT_REL(d, (double) want, 1e-13, "deviance near mu");
			if (!case_ok)
			{
				fail_at(__LINE__, "y %g, log(mu / y) %g", y, rel[c]);
				return;
			}
		}
}

static void
t_working_clamped(void)
{
	double		w,
				z,
				l,
				d;
	double		big = exp(700.0);
	double		tiny = exp(-700.0);

	/* eta beyond +-700 is clamped: everything stays finite */
	mlx_poisson_working(800.0, 3.0, &w, &z, &l, &d);
	EXPECT(w == big, "w at 800: %.17g", w);
	EXPECT_REL(z, 700.0 + (3.0 - big) / big, 1e-15, "z at 800");
	EXPECT_REL(l, 3.0 * 700.0 - big - log(6.0), 1e-15, "loglik at 800");
	EXPECT(isfinite(d) && d > 0.0, "deviance at 800: %g", d);
	EXPECT_REL(d, 2.0 * big, 1e-15, "deviance at 800");
	mlx_poisson_working(1e300, 0.0, &w, &z, &l, &d);
	EXPECT(w == big && z == 699.0 && l == -big && d == 2.0 * big,
		   "eta 1e300, y 0: w %g z %.17g l %g d %g", w, z, l, d);
	mlx_poisson_working(INFINITY, 1.0, &w, &z, &l, &d);
	EXPECT(w == big && isfinite(z) && isfinite(l) && isfinite(d), "eta +inf");
	mlx_poisson_working(700.0, 1.0, &w, &z, &l, &d);
	EXPECT(w == big, "eta 700 not clamped the same");

	mlx_poisson_working(-800.0, 0.0, &w, &z, &l, &d);
	EXPECT(w == tiny && z == -701.0 && l == -tiny && d == 2.0 * tiny,
		   "eta -800, y 0: w %g z %.17g l %g d %g", w, z, l, d);
	mlx_poisson_working(-1e300, 4.0, &w, &z, &l, &d);
	EXPECT(w == tiny, "w at -1e300");
	EXPECT_REL(z, -700.0 + (4.0 - tiny) / tiny, 1e-15, "z at -1e300");
	EXPECT_REL(l, -2800.0 - tiny - log(24.0), 1e-15, "loglik at -1e300");
	/* 2 (y (log y + 700) - y + mu) */
	EXPECT_REL(d, 2.0 * (4.0 * (log(4.0) + 700.0) - 4.0 + tiny), 1e-15,
			   "deviance at -1e300");
	EXPECT(isfinite(w) && isfinite(z) && isfinite(l) && isfinite(d), "non-finite");
}

static void
t_eta_predict(void)
{
	double		coef[3] = {0.5, 2.0, -1.0};
	double		xs[2] = {1.5, 4.0};
	char		buf[1 + sizeof(xs)];
	double		big[2] = {400.0, 0.0};
	mlx_poisson_fit f;

	memset(&f, 0, sizeof(f));
	f.nfeat = 2;
	f.intercept = true;
	f.coef = coef;
	memcpy(buf + 1, xs, sizeof(xs));	/* unaligned */
	EXPECT(mlx_poisson_eta(&f, buf + 1) == -0.5, "eta %g", mlx_poisson_eta(&f, buf + 1));
	EXPECT_REL(mlx_poisson_predict(&f, buf + 1), exp(-0.5), 1e-15, "predict");
	f.intercept = false;
	coef[0] = 0;
	EXPECT(mlx_poisson_eta(&f, xs) == -1.0, "eta without intercept");
	EXPECT_REL(mlx_poisson_predict(&f, xs), exp(-1.0), 1e-15, "predict without intercept");
	/* eta = 800 and -800: clamped at +-700 */
	EXPECT(mlx_poisson_predict(&f, big) == exp(700.0), "predict at 800");
	coef[1] = -2.0;
	EXPECT(mlx_poisson_predict(&f, big) == exp(-700.0), "predict at -800");
}

/* ------------------------------------------------------------ from_wls */

static void
t_from_wls(void)
{
	double		coef[3] = {1.0, -2.0, 0.0};
	double		se[3] = {0.5, 0.25, 0.0};
	double		tv[3] = {0};
	double		pv[3] = {0};
	mlx_linreg_fit wls;
	mlx_poisson_fit f;
	long		n;

	memset(&wls, 0, sizeof(wls));
	wls.nfeat = 2;
	wls.intercept = true;
	wls.sigma = 2.0;
	wls.coef = coef;
	wls.se = se;
	wls.tval = tv;
	wls.pval = pv;

	memset(&f, 0, sizeof(f));
	f.iterations = 7;
	f.deviance = 3.5;
	EXPECT_ST(mlx_poisson_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(f.iterations == 7 && f.nfeat == 0 && f.deviance == 3.5,
		   "fields other than the arrays changed");
	EXPECT(f.coef[0] == 1.0 && f.coef[1] == -2.0 && f.coef[2] == 0.0, "coef");
	EXPECT(f.se[0] == 0.25 && f.se[1] == 0.125 && f.se[2] == 0.0, "se not se/sigma");
	EXPECT(f.zval[0] == 4.0 && f.zval[1] == -16.0 && isnan(f.zval[2]), "zval");
	EXPECT_REL(f.pval[0], 6.3342483666239957e-05, 1e-14, "pval");	/* 2 (1 - Phi(4)) */
	EXPECT(isnan(f.pval[2]), "pval of 0/0");
	free_poisson(&f, &tctx);

	/* ridge, and no sigma: no statistics */
	wls.lambda = 1.0;
	EXPECT_ST(mlx_poisson_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(f.coef[1] == -2.0 && isnan(f.se[0]) && isnan(f.zval[1]) && isnan(f.pval[2]),
		   "ridge statistics defined");
	free_poisson(&f, &tctx);
	wls.lambda = 0.0;
	wls.sigma = NAN;
	EXPECT_ST(mlx_poisson_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(isnan(f.se[0]) && isnan(f.pval[0]), "statistics without sigma");
	free_poisson(&f, &tctx);
	wls.sigma = 2.0;

	wls.coef = NULL;
	EXPECT_ST(mlx_poisson_from_wls(&wls, &tctx, &f), MLX_EINVAL);
	wls.coef = coef;
	EXPECT_ST(mlx_poisson_from_wls(&wls, &tctx, NULL), MLX_EINVAL);
	EXPECT_ST(mlx_poisson_from_wls(NULL, &tctx, &f), MLX_EINVAL);

	/* allocation failure at every point leaves nothing behind */
	for (n = 0; n < 4; n++)
	{
		talloc.fail_after = n;
		f.coef = coef;
		EXPECT_ST(mlx_poisson_from_wls(&wls, &tctx, &f), MLX_ENOMEM);
		EXPECT(f.coef == NULL && f.se == NULL && f.zval == NULL && f.pval == NULL,
			   "pointers left after ENOMEM");
		talloc.fail_after = -1;
		EXPECT(talloc.live == 0, "%ld blocks leaked failing after %ld", talloc.live, n);
	}
}

/* --------------------------------------------------------------- IRLS loop */

#define PMAXN 400
#define PMAXK 3

/* the data set the IRLS loop and the references work on */
static int	pn;
static int	pk;
static double px[PMAXN][PMAXK];
static double py[PMAXN];

/* features of different scales, counts from a Poisson model */
static void
make_poisson_data(uint64_t seed)
{
	static const double beta[PMAXK + 1] = {0.4, 0.6, -0.35, 0.08};
	int			i,
				j;

	rng_state = seed;
	pn = PMAXN;
	pk = PMAXK;
	for (i = 0; i < pn; i++)
	{
		double		eta = beta[0];

		for (j = 0; j < pk; j++)
		{
			px[i][j] = (j == 2) ? 4.0 * gauss() + 1.0 : gauss();
			eta += beta[j + 1] * px[i][j];
		}
		py[i] = poisson_draw(exp(eta));
	}
}

typedef struct irls_result
{
	mlx_poisson_fit fit;		/* coefficients and statistics */
	double		coef[PMAXK + 1];	/* the coefficients the last pass started
									 * from */
	double		loglik;			/* the last pass's sums */
	double		deviance;
	int			iterations;
	bool		converged;
} irls_result;

/*
 * Fit by IRLS with the core API as the PostgreSQL driver does: each pass
 * folds rows into two streaming states (a third of the rows, then the
 * rest; merged as parallel workers would be), solves, and takes the
 * statistics from the weighted fit.  Starts from beta = 0 (mu = 1) and runs
 * until the largest step is below 1e-13 (relative), then two more passes
 * so the statistics belong to the converged coefficients.
 */
static bool
irls(bool intercept, double lambda, int max_iter, irls_result *res)
{
	mlx_poisson_fit cur;
	double		coef[PMAXK + 1] = {0};
	int			extra = -1;
	int			iter;

	memset(res, 0, sizeof(*res));
	memset(&cur, 0, sizeof(cur));
	cur.nfeat = pk;
	cur.intercept = intercept;
	cur.lambda = lambda;
	cur.coef = coef;
	for (iter = 1; iter <= max_iter; iter++)
	{
		mlx_linreg_state *a = new_state(pk, lambda, intercept);
		mlx_linreg_state *b = new_state(pk, lambda, intercept);
		mlx_linreg_fit wls;
		mlx_poisson_fit next;
		double		ll = 0.0,
					dev = 0.0;
		double		step = 0.0,
					big = 0.0;
		int			i,
					j,
					bad;
		mlx_status	st = MLX_OK;

		for (i = 0; i < pn && st == MLX_OK; i++)
		{
			double		w,
						z,
						l,
						d;

			mlx_poisson_working(mlx_poisson_eta(&cur, px[i]), py[i], &w, &z, &l, &d);
			st = mlx_linreg_add_row_weighted(i < pn / 3 ? a : b, z, px[i], w,
											 &mlx_malloc_ctx, &bad);
			ll += l;
			dev += d;
		}
		EXPECT_ST(st, MLX_OK);
		if (st == MLX_OK)
			st = mlx_linreg_merge(a, b, &mlx_malloc_ctx);
		EXPECT_ST(st, MLX_OK);
		if (st == MLX_OK)
			st = mlx_linreg_solve(a, &mlx_malloc_ctx, &wls);
		free(a);
		free(b);
		EXPECT_ST(st, MLX_OK);
		if (st != MLX_OK)
			return false;
		memset(&next, 0, sizeof(next));
		st = mlx_poisson_from_wls(&wls, &mlx_malloc_ctx, &next);
		free_wls(&wls, &mlx_malloc_ctx);
		EXPECT_ST(st, MLX_OK);
		if (st != MLX_OK)
			return false;

		for (j = 0; j <= pk; j++)
		{
			step = fmax(step, fabs(next.coef[j] - coef[j]));
			big = fmax(big, fabs(next.coef[j]));
		}
		if (res->fit.coef != NULL)
			free_poisson(&res->fit, &mlx_malloc_ctx);
		memcpy(res->coef, coef, sizeof(coef));
		res->fit = next;
		res->loglik = ll;
		res->deviance = dev;
		res->iterations = iter;
		/* next.coef has pk + 1 entries, fewer than coef may hold */
		memcpy(coef, next.coef, sizeof(double) * (pk + 1));
		if (extra < 0 && step <= 1e-13 * (1.0 + big))
			extra = 2;
		if (extra >= 0 && extra-- == 0)
		{
			res->converged = true;
			break;
		}
	}
	return true;
}

static long double
ref_eta(const double *beta, bool intercept, int i)
{
	long double eta = intercept ? beta[0] : 0.0;
	int			j;

	for (j = 0; j < pk; j++)
		eta += (long double) beta[j + 1] * px[i][j];
	return eta;
}

/* score X'(y - mu) - lambda beta at beta (slopes penalized) */
static void
score(const double *beta, bool intercept, double lambda, long double *g)
{
	int			i,
				j;

	memset(g, 0, sizeof(long double) * (PMAXK + 1));
	for (i = 0; i < pn; i++)
	{
		long double r = py[i] - expl(ref_eta(beta, intercept, i));

		g[0] += r;
		for (j = 0; j < pk; j++)
			g[j + 1] += r * px[i][j];
	}
	for (j = 1; j <= pk; j++)
		g[j] -= lambda * beta[j];
}

/* sqrt(diag((X'WX)^-1)), W = mu, intercept column when fitted */
static bool
reference_se(const double *beta, bool intercept, double *se)
{
	int			c = intercept ? 1 : 0;
	int			q = pk + c;
	long double A[(PMAXK + 1) * (PMAXK + 1)];
	long double Ai[(PMAXK + 1) * (PMAXK + 1)];
	int			i,
				j,
				r;

	memset(A, 0, sizeof(A));
	for (r = 0; r < pn; r++)
	{
		long double row[PMAXK + 1];
		long double mu = expl(ref_eta(beta, intercept, r));

		if (c)
			row[0] = 1.0L;
		for (j = 0; j < pk; j++)
			row[c + j] = px[r][j];
		for (i = 0; i < q; i++)
			for (j = 0; j < q; j++)
				A[i * q + j] += mu * row[i] * row[j];
	}
	if (!gj_inverse(A, Ai, q))
		return false;
	se[0] = NAN;
	for (i = 0; i < q; i++)
		se[i + 1 - c] = (double) sqrtl(Ai[i * q + i]);
	return true;
}

/* log-likelihood and deviance at beta, computed directly */
static void
reference_loglik(const double *beta, bool intercept, double *ll, double *dev)
{
	long double l = 0.0L,
				d = 0.0L;
	int			i;

	for (i = 0; i < pn; i++)
	{
		long double eta = ref_eta(beta, intercept, i);
		long double mu = expl(eta);
		long double y = py[i];

		l += y * eta - mu - lgammal(y + 1.0L);
		d += 2.0L * ((y > 0 ? y * logl(y / mu) : 0.0L) - (y - mu));
	}
	*ll = (double) l;
	*dev = (double) d;
}

/* the MLE (or penalized MLE) and its statistics, for one configuration */
static void
check_irls(bool intercept, double lambda)
{
	irls_result res;
	long double g[PMAXK + 1];
	double		se[PMAXK + 1];
	double		ll,
				dev;
	int			j;

	if (!irls(intercept, lambda, 60, &res))
		return;
	EXPECT(res.converged, "no convergence in %d iterations", res.iterations);
	EXPECT(res.iterations <= 20, "took %d iterations", res.iterations);
	if (!intercept)
		EXPECT(res.fit.coef[0] == 0.0 && isnan(res.fit.se[0]), "intercept without one");

	/* score equations at the solution, to near rounding (seen: <= 3e-12) */
	score(res.fit.coef, intercept, lambda, g);
	for (j = intercept ? 0 : 1; j <= pk; j++)
		EXPECT(fabsl(g[j]) < 1e-10, "score %d is %.3Lg at the solution", j, g[j]);
	/* the pass's sums are those of the coefficients it started from */
	reference_loglik(res.coef, intercept, &ll, &dev);
	EXPECT_REL(res.loglik, ll, 1e-12, "log-likelihood");
	EXPECT_REL(res.deviance, dev, 1e-11, "deviance");

	if (lambda > 0)
	{
		for (j = 0; j <= pk; j++)
			EXPECT(isnan(res.fit.se[j]) && isnan(res.fit.zval[j]) &&
				   isnan(res.fit.pval[j]), "ridge statistic %d defined", j);
	}
	else if (reference_se(res.fit.coef, intercept, se))
	{
		for (j = intercept ? 0 : 1; j <= pk; j++)
		{
			EXPECT_REL(res.fit.se[j], se[j], 1e-9, "standard error");
			EXPECT_REL(res.fit.zval[j], res.fit.coef[j] / se[j], 1e-9, "z value");
			EXPECT_REL(res.fit.pval[j],
					   erfc(fabs(res.fit.coef[j] / se[j]) / sqrt(2.0)), 1e-7,
					   "p value");
		}
	}
	else
		EXPECT(false, "reference X'WX is singular");
	free_poisson(&res.fit, &mlx_malloc_ctx);
}

static void
t_irls_mle(void)
{
	make_poisson_data(2024);
	check_irls(true, 0.0);
}

static void
t_irls_no_intercept(void)
{
	make_poisson_data(7);
	check_irls(false, 0.0);
}

static void
t_irls_ridge(void)
{
	make_poisson_data(11);
	check_irls(true, 5.0);
	make_poisson_data(12);
	check_irls(false, 0.5);
}

/*
 * statsmodels 0.13.5 reference.  The numbers below were computed (not by
 * this code) with
 *
 *	sm.GLM(y, sm.add_constant(np.column_stack([x1, x2])),
 *		   family=sm.families.Poisson()).fit(tol=1e-14)
 *
 * on the 20 rows of SM_X1, SM_X2, SM_Y: params, bse, pvalues, llf,
 * deviance, null_deviance and llnull.
 */
#define SMN 20
static const double SM_X1[SMN] = {0.5, 1.2, -0.3, 2.1, 0.0, 1.7, -1.1, 0.9, 2.5, -0.6,
1.4, 0.2, -0.8, 1.9, 0.7, 3.0, -1.5, 1.1, 0.4, 2.2};
static const double SM_X2[SMN] = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1};
static const double SM_Y[SMN] = {2, 3, 0, 9, 1, 4, 0, 2, 14, 1, 5, 1, 0, 6, 3, 17, 0, 4, 1, 10};
static const double SM_COEF[3] = {-0.26087425911541295, 1.041963309906132, 0.30254181142933223};
static const double SM_SE[3] = {0.32393728749031636, 0.12743535060154196, 0.2258033615067043};
static const double SM_PVAL[3] = {4.2063311509443368e-01, 2.9243271283962326e-16,
1.8029530079637901e-01};
static const double SM_LLF = -27.501809024556124;
static const double SM_DEVIANCE = 4.742551467483295;
static const double SM_NULL_DEVIANCE = 98.09334713629148;
static const double SM_LLNULL = -74.17720685896023;

static void
t_vs_statsmodels(void)
{
	irls_result res;
	double		ll,
				dev,
				ybar = 0.0,
				ll0 = 0.0,
				dev0 = 0.0;
	int			i,
				j;

	pn = SMN;
	pk = 2;
	for (i = 0; i < SMN; i++)
	{
		px[i][0] = SM_X1[i];
		px[i][1] = SM_X2[i];
		py[i] = SM_Y[i];
		ybar += SM_Y[i] / SMN;
	}
	if (!irls(true, 0.0, 60, &res))
		return;
	EXPECT(res.converged, "no convergence in %d iterations", res.iterations);
	for (j = 0; j <= 2; j++)
	{
		EXPECT_REL(res.fit.coef[j], SM_COEF[j], 1e-10, "coefficient vs statsmodels");
		EXPECT_REL(res.fit.se[j], SM_SE[j], 1e-9, "standard error vs statsmodels");
		EXPECT_REL(res.fit.pval[j], SM_PVAL[j], 1e-7, "p value vs statsmodels");
	}
	/* the last pass started from the converged coefficients */
	EXPECT_REL(res.loglik, SM_LLF, 1e-11, "log-likelihood vs statsmodels");
	EXPECT_REL(res.deviance, SM_DEVIANCE, 1e-9, "deviance vs statsmodels");
	reference_loglik(res.fit.coef, true, &ll, &dev);
	EXPECT_REL(ll, SM_LLF, 1e-11, "direct log-likelihood vs statsmodels");
	/* the null model, mu = mean y, through the per-row function */
	for (i = 0; i < SMN; i++)
	{
		double		w,
					z,
					l,
					d;

		mlx_poisson_working(log(ybar), SM_Y[i], &w, &z, &l, &d);
		ll0 += l;
		dev0 += d;
	}
	EXPECT_REL(ll0, SM_LLNULL, 1e-12, "null log-likelihood vs statsmodels");
	EXPECT_REL(dev0, SM_NULL_DEVIANCE, 1e-12, "null deviance vs statsmodels");
	free_poisson(&res.fit, &mlx_malloc_ctx);
	pk = PMAXK;
}

int
main(void)
{
	run_case("working_closed_forms", t_working_closed_forms);
	run_case("working_vs_long_double", t_working_vs_long_double);
	run_case("deviance_near_mu_without_cancellation", t_deviance_near_mu);
	run_case("working_clamped_at_eta_700", t_working_clamped);
	run_case("eta_and_predict", t_eta_predict);
	run_case("from_wls", t_from_wls);
	run_case("irls_mle_score_loglik_and_se", t_irls_mle);
	run_case("irls_no_intercept", t_irls_no_intercept);
	run_case("irls_ridge_penalized_score", t_irls_ridge);
	run_case("irls_vs_statsmodels_glm_poisson", t_vs_statsmodels);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
