/*
 * test_logreg.c
 *	  Unit tests of binary logistic regression in the numerical core
 *	  (src/core/logreg.c) and of the weighted rows of streaming least squares
 *	  it is trained with (mlx_linreg_add_row_weighted).
 *
 * References are independent of the code under test: direct formulas for
 * the per-row IRLS quantities, closed forms of the normal distribution,
 * least squares on rows duplicated by integer weights and weighted normal
 * equations solved here in long double, and for the full IRLS loop the
 * score equations of the (penalized, class-weighted) log-likelihood and a
 * Gauss-Jordan inverse of X'WX computed here.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/linreg.h"
#include "core/logreg.h"
#include "core/mlx_core.h"

#include "harness.h"

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, NULL, &talloc};

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
free_logreg(mlx_logreg_fit *f, const mlx_ctx *ctx)
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

static void
t_working_values(void)
{
	static const double etas[] = {-7.5, -2.0, -0.3, 0.0, 1e-9, 0.7, 3.25, 12.0};
	static const double cws[] = {1.0, 2.5, 0.125};
	size_t		i,
				c;
	int			y;

	for (i = 0; i < sizeof(etas) / sizeof(etas[0]); i++)
		for (c = 0; c < sizeof(cws) / sizeof(cws[0]); c++)
			for (y = 0; y <= 1; y++)
			{
				double		eta = etas[i];
				double		cw = cws[c];
				long double p = 1.0L / (1.0L + expl(-(long double) eta));
				long double v = p * (1.0L - p);
				long double ll = cw * (y ? logl(p) : logl(1.0L - p));
				long double z = eta + (y - p) / v;
				double		w,
							zz,
							l;

				mlx_logreg_working(eta, y, cw, &w, &zz, &l);
				EXPECT_REL(w, (double) (cw * v), 1e-13, "w");
				EXPECT_NEAR(zz, (double) z, 1e-12, "z");
				EXPECT_REL(l, (double) ll, 1e-13, "loglik");
			}
	/* a fractional label uses the general formulas */
	{
		double		w,
					z,
					l;
		double		p = 1.0 / (1.0 + exp(-0.4));

		mlx_logreg_working(0.4, 0.25, 2.0, &w, &z, &l);
		EXPECT_REL(w, 2.0 * p * (1 - p), 1e-14, "w fractional");
		EXPECT_REL(z, 0.4 + (0.25 - p) / (p * (1 - p)), 1e-13, "z fractional");
		EXPECT_REL(l, 2.0 * (0.25 * log(p) + 0.75 * log(1 - p)), 1e-13,
				   "loglik fractional");
	}
}

static void
t_working_stability(void)
{
	double		w,
				z,
				l;
	/* exp(-50): log sigma(50) = -log1p(exp(-50)) ~ -exp(-50) */
	double		e50 = exp(-50.0);

	/* eta = 50: p (1 - p) ~ 2e-22 is clamped at 1e-10 */
	mlx_logreg_working(50.0, 1.0, 1.0, &w, &z, &l);
	EXPECT(w == 1e-10, "w at 50, y=1: %.17g", w);
	EXPECT_REL(z, 50.0 + (e50 / (1 + e50)) / 1e-10, 1e-14, "z at 50, y=1");
	EXPECT_REL(l, -e50, 1e-14, "loglik at 50, y=1 keeps its relative accuracy");
	mlx_logreg_working(50.0, 0.0, 2.0, &w, &z, &l);
	EXPECT(w == 2e-10, "w at 50, y=0, cw=2: %.17g", w);
	EXPECT_REL(z, 50.0 - 1.0 / 1e-10, 1e-14, "z at 50, y=0");
	EXPECT_REL(l, 2.0 * (-50.0 - e50), 1e-15, "loglik at 50, y=0");
	mlx_logreg_working(-50.0, 0.0, 1.0, &w, &z, &l);
	EXPECT(w == 1e-10, "w at -50");
	EXPECT_REL(z, -50.0 - (e50 / (1 + e50)) / 1e-10, 1e-14, "z at -50, y=0");
	EXPECT_REL(l, -e50, 1e-14, "loglik at -50, y=0");
	mlx_logreg_working(-50.0, 1.0, 1.0, &w, &z, &l);
	EXPECT_REL(z, -50.0 + 1.0 / 1e-10, 1e-14, "z at -50, y=1");
	EXPECT_REL(l, -50.0 - e50, 1e-15, "loglik at -50, y=1");

	/* eta = +-800: exp overflows in a naive sigmoid, log(0) in a naive loglik */
	mlx_logreg_working(800.0, 1.0, 1.0, &w, &z, &l);
	EXPECT(isfinite(w) && isfinite(z) && isfinite(l), "non-finite at 800, y=1");
	EXPECT(w == 1e-10 && z == 800.0 && l == 0.0, "800, y=1: w %g z %g l %g", w, z, l);
	mlx_logreg_working(800.0, 0.0, 1.0, &w, &z, &l);
	EXPECT(w == 1e-10 && z == 800.0 - 1e10 && l == -800.0,
		   "800, y=0: w %g z %.17g l %.17g", w, z, l);
	mlx_logreg_working(-800.0, 0.0, 3.0, &w, &z, &l);
	EXPECT(w == 3e-10 && z == -800.0 && l == 0.0, "-800, y=0: w %g z %g l %g", w, z, l);
	mlx_logreg_working(-800.0, 1.0, 3.0, &w, &z, &l);
	EXPECT(w == 3e-10 && z == -800.0 + 1e10 && l == -2400.0,
		   "-800, y=1: w %g z %.17g l %.17g", w, z, l);
}

static void
t_eta_prob(void)
{
	double		coef[3] = {0.5, 2.0, -1.0};
	double		xs[2] = {1.5, 4.0};
	char		buf[1 + sizeof(xs)];
	mlx_logreg_fit f;
	double		big[2] = {400.0, 0.0};

	memset(&f, 0, sizeof(f));
	f.nfeat = 2;
	f.intercept = true;
	f.coef = coef;
	memcpy(buf + 1, xs, sizeof(xs));	/* unaligned */
	EXPECT(mlx_logreg_eta(&f, buf + 1) == 0.5 + 3.0 - 4.0, "eta %g",
		   mlx_logreg_eta(&f, buf + 1));
	EXPECT_REL(mlx_logreg_prob(&f, buf + 1), 1.0 / (1.0 + exp(0.5)), 1e-15, "prob");
	f.intercept = false;
	coef[0] = 0;
	EXPECT(mlx_logreg_eta(&f, xs) == -1.0, "eta without intercept");
	/* eta = +-800 */
	EXPECT(mlx_logreg_prob(&f, big) == 1.0, "prob at 800");
	coef[1] = -2.0;
	EXPECT(mlx_logreg_prob(&f, big) == 0.0, "prob at -800 is not 0");
	big[0] = 20.0;				/* eta = -40: relative accuracy far below 1 */
	EXPECT_REL(mlx_logreg_prob(&f, big), exp(-40.0) / (1 + exp(-40.0)), 1e-14,
			   "prob at -40");
}

static void
t_norm_pvalue(void)
{
	EXPECT(mlx_norm_pvalue2(0.0) == 1.0, "z=0: %.17g", mlx_norm_pvalue2(0.0));
	EXPECT_NEAR(mlx_norm_pvalue2(1.959963984540054), 0.05, 1e-12, "z=1.96");
	EXPECT_NEAR(mlx_norm_pvalue2(-1.959963984540054), 0.05, 1e-12, "z=-1.96");
	EXPECT_REL(mlx_norm_pvalue2(10.0), 1.523970604832105e-23, 1e-10, "z=10");
	EXPECT_REL(mlx_norm_pvalue2(-10.0), 1.523970604832105e-23, 1e-10, "z=-10");
	/* 2 (1 - Phi(1)) = 0.31731050786291410 */
	EXPECT_REL(mlx_norm_pvalue2(1.0), 0.31731050786291410, 1e-14, "z=1");
	EXPECT(isnan(mlx_norm_pvalue2(NAN)), "NaN");
	EXPECT(mlx_norm_pvalue2(INFINITY) == 0.0 && mlx_norm_pvalue2(-INFINITY) == 0.0,
		   "infinite z");
}

/* ------------------------------------------------------------ weighted LS */

#define WN 60
#define WK 3

/* A data set of WN rows and WK features, y, and weights in 0..4 */
static double wx[WN][WK];
static double wy[WN];
static double ww[WN];

static void
make_weighted_data(uint64_t seed, bool integer_weights)
{
	int			i,
				j;

	rng_state = seed;
	for (i = 0; i < WN; i++)
	{
		wy[i] = 1.0;
		for (j = 0; j < WK; j++)
		{
			wx[i][j] = 3.0 * gauss() + j;
			wy[i] += (j + 1) * 0.5 * wx[i][j];
		}
		wy[i] += gauss();
		ww[i] = integer_weights ? (double) (int) (unif() * 5.0) : 0.01 + 3.0 * unif();
	}
}

/* Solve a state, returning false (and failing the case) on error. */
static bool
solve(const mlx_linreg_state *s, mlx_linreg_fit *f)
{
	mlx_status	st = mlx_linreg_solve(s, &mlx_malloc_ctx, f);

	EXPECT_ST(st, MLX_OK);
	return st == MLX_OK;
}

static void
t_weighted_equals_duplicated(void)
{
	int			variant;

	for (variant = 0; variant < 4; variant++)
	{
		bool		intercept = (variant & 1) == 0;
		double		lambda = (variant & 2) ? 3.0 : 0.0;
		mlx_linreg_state *a = new_state(WK, lambda, intercept);
		mlx_linreg_state *b = new_state(WK, lambda, intercept);
		mlx_linreg_fit fa,
					fb;
		int			i,
					r,
					bad;
		int64_t		npos = 0;

		make_weighted_data(17 + variant, true);
		for (i = 0; i < WN; i++)
		{
			EXPECT_ST(mlx_linreg_add_row_weighted(a, wy[i], wx[i], ww[i],
												  &mlx_malloc_ctx, &bad), MLX_OK);
			for (r = 0; r < (int) ww[i]; r++)
				EXPECT_ST(mlx_linreg_add_row(b, wy[i], wx[i], &mlx_malloc_ctx, &bad),
						  MLX_OK);
			npos += ww[i] > 0;
		}
		EXPECT(a->nrows == npos, "nrows %lld, expected %lld rows of positive weight",
			   (long long) a->nrows, (long long) npos);
		if (solve(a, &fa) && solve(b, &fb))
		{
			for (i = 0; i <= WK; i++)
				EXPECT_NEAR(fa.coef[i], fb.coef[i], 1e-12, "coefficient");
			EXPECT_NEAR(fa.rss, fb.rss, 1e-12, "rss");
			EXPECT_NEAR(fa.tss, fb.tss, 1e-12, "tss");
			free_wls(&fa, &mlx_malloc_ctx);
			free_wls(&fb, &mlx_malloc_ctx);
		}
		free(a);
		free(b);
		if (!case_ok)
		{
			fail_at(__LINE__, "variant %d", variant);
			return;
		}
	}
}

/*
 * Weighted ridge by the normal equations in long double: minimize
 * sum w (y - b0 - x.b)^2 + lambda |b|^2 (intercept unpenalized).
 */
static void
normal_equations(bool intercept, double lambda, double *beta)
{
	int			c = intercept ? 1 : 0;
	int			q = WK + c;
	long double A[(WK + 1) * (WK + 1)];
	long double Ai[(WK + 1) * (WK + 1)];
	long double rhs[WK + 1];
	int			i,
				j,
				r;

	memset(A, 0, sizeof(A));
	memset(rhs, 0, sizeof(rhs));
	for (r = 0; r < WN; r++)
	{
		long double row[WK + 1];

		if (c)
			row[0] = 1.0L;
		for (j = 0; j < WK; j++)
			row[c + j] = wx[r][j];
		for (i = 0; i < q; i++)
		{
			for (j = 0; j < q; j++)
				A[i * q + j] += ww[r] * row[i] * row[j];
			rhs[i] += ww[r] * row[i] * wy[r];
		}
	}
	for (i = c; i < q; i++)
		A[i * q + i] += lambda;
	gj_inverse(A, Ai, q);
	beta[0] = 0.0;
	for (i = 0; i < q; i++)
	{
		long double v = 0.0L;

		for (j = 0; j < q; j++)
			v += Ai[i * q + j] * rhs[j];
		beta[i + 1 - c] = (double) v;
	}
}

static void
t_weighted_normal_equations(void)
{
	int			variant;

	for (variant = 0; variant < 4; variant++)
	{
		bool		intercept = (variant & 1) == 0;
		double		lambda = (variant & 2) ? 2.5 : 0.0;
		mlx_linreg_state *a = new_state(WK, lambda, intercept);
		mlx_linreg_state *b = new_state(WK, lambda, intercept);
		double		beta[WK + 1];
		mlx_linreg_fit f;
		int			i,
					bad;

		make_weighted_data(99 + variant, false);
		/* half the rows in each state, merged: weights survive TSQR */
		for (i = 0; i < WN; i++)
			EXPECT_ST(mlx_linreg_add_row_weighted(i % 2 ? a : b, wy[i], wx[i], ww[i],
												  &mlx_malloc_ctx, &bad), MLX_OK);
		EXPECT_ST(mlx_linreg_merge(a, b, &mlx_malloc_ctx), MLX_OK);
		normal_equations(intercept, lambda, beta);
		if (solve(a, &f))
		{
			for (i = 0; i <= WK; i++)
				EXPECT_NEAR(f.coef[i], beta[i], 1e-11, "coefficient");
			free_wls(&f, &mlx_malloc_ctx);
		}
		free(a);
		free(b);
		if (!case_ok)
		{
			fail_at(__LINE__, "variant %d", variant);
			return;
		}
	}
}

static void
t_weight_one_is_unweighted(void)
{
	size_t		size = mlx_linreg_state_size(WK, true);
	mlx_linreg_state *a = new_state(WK, 0.5, true);
	mlx_linreg_state *b = new_state(WK, 0.5, true);
	int			i,
				rep,
				bad;

	make_weighted_data(5, false);
	/* enough rows to fold the buffer several times */
	for (rep = 0; rep < 10; rep++)
		for (i = 0; i < WN; i++)
		{
			EXPECT_ST(mlx_linreg_add_row(a, wy[i], wx[i], &mlx_malloc_ctx, &bad), MLX_OK);
			EXPECT_ST(mlx_linreg_add_row_weighted(b, wy[i], wx[i], 1.0,
												  &mlx_malloc_ctx, &bad), MLX_OK);
		}
	EXPECT(a->nrows == 10 * WN, "nrows");
	EXPECT(memcmp(a, b, size) == 0, "weight 1 gives a different state");
	free(a);
	free(b);
}

static void
t_weight_errors(void)
{
	size_t		size = mlx_linreg_state_size(2, true);
	mlx_linreg_state *s = new_state(2, 0.0, true);
	mlx_linreg_state *copy = malloc(size);
	double		x[2] = {1.0, 2.0};
	double		huge[2] = {1e200, 1.0};
	double		nanx[2] = {1.0, NAN};
	static const double bad_weights[] = {NAN, -1.0, -1e-300, INFINITY, -INFINITY};
	size_t		i;
	int			bad;

	EXPECT_ST(mlx_linreg_add_row_weighted(s, 1.0, x, 2.0, &mlx_malloc_ctx, &bad), MLX_OK);
	memcpy(copy, s, size);
	for (i = 0; i < sizeof(bad_weights) / sizeof(bad_weights[0]); i++)
	{
		bad = 99;
		EXPECT_ST(mlx_linreg_add_row_weighted(s, 1.0, x, bad_weights[i],
											  &mlx_malloc_ctx, &bad), MLX_ENONFINITE);
		EXPECT(bad == -2, "weight %g: bad index %d", bad_weights[i], bad);
	}
	/* a finite weight that overflows a scaled value */
	bad = 99;
	EXPECT_ST(mlx_linreg_add_row_weighted(s, 1.0, huge, 1e300, &mlx_malloc_ctx, &bad),
			  MLX_ENONFINITE);
	EXPECT(bad == -2, "overflow: bad index %d", bad);
	bad = 99;
	EXPECT_ST(mlx_linreg_add_row_weighted(s, 1e300, x, 1e300, &mlx_malloc_ctx, &bad),
			  MLX_ENONFINITE);
	EXPECT(bad == -2, "overflow of y: bad index %d", bad);
	/* bad x and y are reported as without weights */
	EXPECT_ST(mlx_linreg_add_row_weighted(s, 1.0, nanx, 1.0, &mlx_malloc_ctx, &bad),
			  MLX_ENONFINITE);
	EXPECT(bad == 1, "NaN feature: bad index %d", bad);
	EXPECT_ST(mlx_linreg_add_row_weighted(s, INFINITY, x, 0.0, &mlx_malloc_ctx, &bad),
			  MLX_ENONFINITE);
	EXPECT(bad == -1, "infinite y with weight 0: bad index %d", bad);
	EXPECT(mlx_linreg_same_rows(s, copy), "a rejected row changed the state");
	/* weight 0: accepted, adds nothing, not counted */
	EXPECT_ST(mlx_linreg_add_row_weighted(s, 5.0, x, 0.0, &mlx_malloc_ctx, &bad), MLX_OK);
	EXPECT_ST(mlx_linreg_add_row_weighted(s, 5.0, x, -0.0, &mlx_malloc_ctx, &bad), MLX_OK);
	EXPECT(s->nrows == 1, "zero-weight rows counted: nrows %lld", (long long) s->nrows);
	EXPECT(mlx_linreg_same_rows(s, copy), "a zero-weight row changed the state");
	free(s);
	free(copy);
}

/* --------------------------------------------------------------- IRLS loop */

#define LN 400
#define LK 3

static double lx[LN][LK];
static double ly[LN];

/* features of different scales, labels from a logistic model */
static void
make_logistic_data(uint64_t seed)
{
	static const double beta[LK + 1] = {-0.5, 1.2, -0.8, 0.3};
	int			i,
				j;

	rng_state = seed;
	for (i = 0; i < LN; i++)
	{
		double		eta = beta[0];

		for (j = 0; j < LK; j++)
		{
			lx[i][j] = (j == 2) ? 4.0 * gauss() + 1.0 : gauss();
			eta += beta[j + 1] * lx[i][j];
		}
		ly[i] = unif() < 1.0 / (1.0 + exp(-eta)) ? 1.0 : 0.0;
	}
}

typedef struct irls_result
{
	mlx_logreg_fit fit;			/* coefficients and statistics */
	double		coef[LK + 1];	/* the coefficients the last pass started from */
	double		loglik;			/* the last pass's log-likelihood */
	int			iterations;
	bool		converged;
} irls_result;

/*
 * Fit by IRLS with the core API as the PostgreSQL driver does: each pass
 * folds rows into two streaming states (a third of the rows, then the
 * rest; merged at the end as parallel workers would be), solves, and takes
 * the statistics from the weighted fit.  Runs until the largest step is
 * below 1e-13 (relative), then two more passes so the statistics belong to
 * the converged coefficients.
 */
static bool
irls(bool intercept, double lambda, const double cw[2], int max_iter,
	 irls_result *res)
{
	mlx_logreg_fit cur;
	double		coef[LK + 1] = {0};
	int			extra = -1;
	int			iter;

	memset(res, 0, sizeof(*res));
	memset(&cur, 0, sizeof(cur));
	cur.nfeat = LK;
	cur.intercept = intercept;
	cur.lambda = lambda;
	cur.coef = coef;
	for (iter = 1; iter <= max_iter; iter++)
	{
		mlx_linreg_state *a = new_state(LK, lambda, intercept);
		mlx_linreg_state *b = new_state(LK, lambda, intercept);
		mlx_linreg_fit wls;
		mlx_logreg_fit next;
		double		ll = 0.0;
		double		step = 0.0,
					big = 0.0;
		int			i,
					j,
					bad;
		mlx_status	st = MLX_OK;

		for (i = 0; i < LN && st == MLX_OK; i++)
		{
			double		w,
						z,
						l;
			double		c = cw[ly[i] == 1.0];

			mlx_logreg_working(mlx_logreg_eta(&cur, lx[i]), ly[i], c, &w, &z, &l);
			st = mlx_linreg_add_row_weighted(i < LN / 3 ? a : b, z, lx[i], w,
											 &mlx_malloc_ctx, &bad);
			ll += l;
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
		st = mlx_logreg_from_wls(&wls, &mlx_malloc_ctx, &next);
		free_wls(&wls, &mlx_malloc_ctx);
		EXPECT_ST(st, MLX_OK);
		if (st != MLX_OK)
			return false;

		for (j = 0; j <= LK; j++)
		{
			step = fmax(step, fabs(next.coef[j] - coef[j]));
			big = fmax(big, fabs(next.coef[j]));
		}
		if (res->fit.coef != NULL)
			free_logreg(&res->fit, &mlx_malloc_ctx);
		memcpy(res->coef, coef, sizeof(coef));
		res->fit = next;
		res->loglik = ll;
		res->iterations = iter;
		memcpy(coef, next.coef, sizeof(coef));
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

/* class-weighted score X'(cw (y - p)) - lambda beta at beta */
static void
score(const double *beta, bool intercept, double lambda, const double cw[2],
	  long double *g)
{
	int			i,
				j;

	memset(g, 0, sizeof(long double) * (LK + 1));
	for (i = 0; i < LN; i++)
	{
		long double eta = intercept ? beta[0] : 0.0;
		long double p,
					r;

		for (j = 0; j < LK; j++)
			eta += (long double) beta[j + 1] * lx[i][j];
		p = 1.0L / (1.0L + expl(-eta));
		r = cw[ly[i] == 1.0] * (ly[i] - p);
		g[0] += r;
		for (j = 0; j < LK; j++)
			g[j + 1] += r * lx[i][j];
	}
	for (j = 1; j <= LK; j++)
		g[j] -= lambda * beta[j];
}

/* sqrt(diag((X'WX)^-1)), W = cw p (1 - p), intercept column when fitted */
static bool
reference_se(const double *beta, bool intercept, const double cw[2],
			 double *se)
{
	int			c = intercept ? 1 : 0;
	int			q = LK + c;
	long double A[(LK + 1) * (LK + 1)];
	long double Ai[(LK + 1) * (LK + 1)];
	int			i,
				j,
				r;

	memset(A, 0, sizeof(A));
	for (r = 0; r < LN; r++)
	{
		long double row[LK + 1];
		long double eta = c ? beta[0] : 0.0;
		long double p;

		if (c)
			row[0] = 1.0L;
		for (j = 0; j < LK; j++)
		{
			row[c + j] = lx[r][j];
			eta += (long double) beta[j + 1] * lx[r][j];
		}
		p = 1.0L / (1.0L + expl(-eta));
		for (i = 0; i < q; i++)
			for (j = 0; j < q; j++)
				A[i * q + j] += cw[ly[r] == 1.0] * p * (1.0L - p) * row[i] * row[j];
	}
	if (!gj_inverse(A, Ai, q))
		return false;
	se[0] = NAN;
	for (i = 0; i < q; i++)
		se[i + 1 - c] = (double) sqrtl(Ai[i * q + i]);
	return true;
}

/* log-likelihood at beta, computed directly */
static double
reference_loglik(const double *beta, bool intercept, const double cw[2])
{
	long double ll = 0.0L;
	int			i,
				j;

	for (i = 0; i < LN; i++)
	{
		long double eta = intercept ? beta[0] : 0.0;
		long double p;

		for (j = 0; j < LK; j++)
			eta += (long double) beta[j + 1] * lx[i][j];
		p = 1.0L / (1.0L + expl(-eta));
		ll += cw[ly[i] == 1.0] * (ly[i] == 1.0 ? logl(p) : logl(1.0L - p));
	}
	return (double) ll;
}

/* the MLE (or penalized MLE) and its statistics, for one configuration */
static void
check_irls(bool intercept, double lambda, const double cw[2], uint64_t seed)
{
	irls_result res;
	long double g[LK + 1];
	double		se[LK + 1];
	int			j;

	make_logistic_data(seed);
	if (!irls(intercept, lambda, cw, 60, &res))
		return;
	EXPECT(res.converged, "no convergence in %d iterations", res.iterations);
	EXPECT(res.iterations <= 15, "took %d iterations", res.iterations);
	if (!intercept)
		EXPECT(res.fit.coef[0] == 0.0 && isnan(res.fit.se[0]), "intercept without one");

	/* score equations at the solution */
	score(res.fit.coef, intercept, lambda, cw, g);
	for (j = intercept ? 0 : 1; j <= LK; j++)
		EXPECT(fabsl(g[j]) < 1e-9 * LN, "score %d is %.3Lg at the solution", j, g[j]);
	/* the pass's log-likelihood is that of the coefficients it started from */
	EXPECT_REL(res.loglik, reference_loglik(res.coef, intercept, cw), 1e-12,
			   "log-likelihood");

	if (lambda > 0)
	{
		for (j = 0; j <= LK; j++)
			EXPECT(isnan(res.fit.se[j]) && isnan(res.fit.zval[j]) &&
				   isnan(res.fit.pval[j]), "ridge statistic %d defined", j);
	}
	else if (reference_se(res.fit.coef, intercept, cw, se))
	{
		for (j = intercept ? 0 : 1; j <= LK; j++)
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
	free_logreg(&res.fit, &mlx_malloc_ctx);
}

static void
t_irls_mle(void)
{
	static const double one[2] = {1.0, 1.0};

	check_irls(true, 0.0, one, 2024);
}

static void
t_irls_no_intercept(void)
{
	static const double one[2] = {1.0, 1.0};

	check_irls(false, 0.0, one, 7);
}

static void
t_irls_class_weights(void)
{
	static const double cw[2] = {0.75, 2.5};

	check_irls(true, 0.0, cw, 31337);
}

static void
t_irls_ridge(void)
{
	static const double one[2] = {1.0, 1.0};
	static const double cw[2] = {1.5, 0.5};

	check_irls(true, 2.0, one, 11);
	check_irls(true, 25.0, cw, 12);
	check_irls(false, 0.5, one, 13);
}

/*
 * Perfectly separated classes: the MLE does not exist and the slope grows
 * every pass, but the clamped weights keep every pass finite.
 */
static void
t_irls_separated_stays_finite(void)
{
	static const double one[2] = {1.0, 1.0};
	irls_result res;
	int			i,
				j;

	rng_state = 5;
	for (i = 0; i < LN; i++)
	{
		for (j = 0; j < LK; j++)
			lx[i][j] = gauss();
		ly[i] = lx[i][0] > 0.1 ? 1.0 : 0.0;
	}
	if (!irls(true, 0.0, one, 40, &res))
		return;
	for (j = 0; j <= LK; j++)
		EXPECT(isfinite(res.fit.coef[j]), "coefficient %d not finite", j);
	EXPECT(res.fit.coef[1] > 20.0, "slope only %g after %d passes", res.fit.coef[1],
		   res.iterations);
	EXPECT(res.loglik <= 0.0 && res.loglik > -1e-3 * LN,
		   "log-likelihood %g does not approach 0", res.loglik);
	free_logreg(&res.fit, &mlx_malloc_ctx);
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
	mlx_logreg_fit f;
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
	EXPECT_ST(mlx_logreg_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(f.iterations == 7 && f.nfeat == 0, "fields other than the arrays changed");
	EXPECT(f.coef[0] == 1.0 && f.coef[1] == -2.0 && f.coef[2] == 0.0, "coef");
	EXPECT(f.se[0] == 0.25 && f.se[1] == 0.125 && f.se[2] == 0.0, "se not se/sigma");
	EXPECT(f.zval[0] == 4.0 && f.zval[1] == -16.0 && isnan(f.zval[2]), "zval");
	EXPECT_REL(f.pval[0], 6.3342483666239957e-05, 1e-14, "pval");	/* 2 (1 - Phi(4)) */
	EXPECT(isnan(f.pval[2]), "pval of 0/0");
	free_logreg(&f, &tctx);

	/* ridge, and no sigma: no statistics */
	wls.lambda = 1.0;
	EXPECT_ST(mlx_logreg_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(f.coef[1] == -2.0 && isnan(f.se[0]) && isnan(f.zval[1]) && isnan(f.pval[2]),
		   "ridge statistics defined");
	free_logreg(&f, &tctx);
	wls.lambda = 0.0;
	wls.sigma = NAN;
	EXPECT_ST(mlx_logreg_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(isnan(f.se[0]) && isnan(f.pval[0]), "statistics without sigma");
	free_logreg(&f, &tctx);
	wls.sigma = 2.0;
	se[1] = NAN;
	EXPECT_ST(mlx_logreg_from_wls(&wls, &tctx, &f), MLX_OK);
	EXPECT(f.se[0] == 0.25 && isnan(f.se[1]) && isnan(f.zval[1]), "NaN se kept");
	free_logreg(&f, &tctx);

	wls.coef = NULL;
	EXPECT_ST(mlx_logreg_from_wls(&wls, &tctx, &f), MLX_EINVAL);
	wls.coef = coef;

	/* allocation failure at every point leaves nothing behind */
	for (n = 0; n < 4; n++)
	{
		talloc.fail_after = n;
		f.coef = coef;
		EXPECT_ST(mlx_logreg_from_wls(&wls, &tctx, &f), MLX_ENOMEM);
		EXPECT(f.coef == NULL && f.se == NULL && f.zval == NULL && f.pval == NULL,
			   "pointers left after ENOMEM");
		talloc.fail_after = -1;
		EXPECT(talloc.live == 0, "%ld blocks leaked failing after %ld", talloc.live, n);
	}
}

/*
 * mlx_logreg_working_split: the same w and z as mlx_logreg_working, and
 * the log-likelihood as lin - cw log(f); a product of f over
 * MLX_LOGREG_PROD_ROWS rows of extreme eta stays finite and its one log
 * equals the sum of the per-row logarithms.
 */
static void
t_working_split(void)
{
	const double etas[] = {-800, -50, -20, -3, -0.5, 0, 1e-300, 0.7, 4, 37, 800};
	const double cws[] = {1.0, 0.3, 7.5};
	double		prod = 1,
				sum = 0;

	for (size_t i = 0; i < sizeof(etas) / sizeof(etas[0]); i++)
		for (size_t c = 0; c < sizeof(cws) / sizeof(cws[0]); c++)
			for (int y = 0; y <= 1; y++)
			{
				double		w1,
							z1,
							l1,
							w2,
							z2,
							lin,
							f;

				mlx_logreg_working(etas[i], y, cws[c], &w1, &z1, &l1);
				mlx_logreg_working_split(etas[i], y, cws[c], &w2, &z2, &lin, &f);
				EXPECT(w1 == w2, "split w equals working w");
				EXPECT(z1 == z2, "split z equals working z");
				EXPECT(f >= 1 && f <= 2, "factor in [1, 2]");
				EXPECT_NEAR(lin - cws[c] * log(f), l1, 1e-15 * (1 + fabs(l1)),
							"split loglik equals working loglik");
				EXPECT(lin <= 0, "linear part <= 0");
			}
	for (int r = 0; r < MLX_LOGREG_PROD_ROWS; r++)
	{
		double		w,
					z,
					lin,
					f;

		/* the largest factors: eta = 0 gives f = 2 */
		mlx_logreg_working_split(r % 3 == 0 ? 0.0 : 0.3 * (r % 7), 1, 1.0, &w, &z, &lin, &f);
		prod *= f;
		sum += log(f);
	}
	EXPECT(isfinite(prod), "product of the largest block stays finite");
	EXPECT_NEAR(log(prod), sum, 1e-11, "one log of the product equals the summed logs");
}

int
main(void)
{
	run_case("working_values_vs_direct_formulas", t_working_values);
	run_case("working_stable_at_eta_50_and_800", t_working_stability);
	run_case("working_split_equals_working", t_working_split);
	run_case("eta_and_prob", t_eta_prob);
	run_case("norm_pvalue2_closed_forms", t_norm_pvalue);
	run_case("weighted_ls_equals_duplicated_rows", t_weighted_equals_duplicated);
	run_case("weighted_ls_vs_normal_equations", t_weighted_normal_equations);
	run_case("weight_one_is_add_row_bit_for_bit", t_weight_one_is_unweighted);
	run_case("weight_errors_and_zero_weight", t_weight_errors);
	run_case("irls_mle_score_and_se", t_irls_mle);
	run_case("irls_no_intercept", t_irls_no_intercept);
	run_case("irls_class_weights", t_irls_class_weights);
	run_case("irls_ridge_penalized_score", t_irls_ridge);
	run_case("irls_separated_stays_finite", t_irls_separated_stays_finite);
	run_case("from_wls", t_from_wls);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
