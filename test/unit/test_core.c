/*
 * test_core.c
 *	  Unit tests of the numerical core (src/core): special functions against
 *	  closed forms, streaming least squares against independent references
 *	  (normal equations in long double, closed-form ridge, analytic
 *	  minimum-norm solutions), state validation, interrupts and allocation
 *	  failures.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script; everything here is static so it links next to any other core or
 * model file.
 */
#include "core/linreg.h"
#include "core/metrics.h"
#include "core/mlx_core.h"
#include "core/qrfold.h"
#include "core/tdist.h"

#include <lapacke.h>

#include "harness.h"

/* ------------------------------------------------------ linreg helpers */

static const mlx_ctx *MC = &mlx_malloc_ctx;

/* Does qrfold.c's kernel run on this CPU (it declines without AVX2)? */
static bool
qrfold_available(void)
{
	double		R = 0.0,
				B = 1.0;

	return mlx_qr_fold_dense(&R, 1, &B, 1, 1);
}

static mlx_linreg_state *
new_state(int k, double lambda, bool intercept)
{
	size_t		size = mlx_linreg_state_size(k, intercept);
	mlx_linreg_state *s = malloc(size);

	if (s != NULL && mlx_linreg_state_init(s, k, lambda, intercept) != MLX_OK)
	{
		free(s);
		s = NULL;
	}
	return s;
}

static size_t
state_bytes(const mlx_linreg_state *s)
{
	return mlx_linreg_state_size(s->nfeat, (s->flags & MLX_LINREG_F_INTERCEPT) != 0);
}

static mlx_linreg_state *
dup_state(const mlx_linreg_state *s)
{
	mlx_linreg_state *d = malloc(state_bytes(s));

	memcpy(d, s, state_bytes(s));
	return d;
}

/* add rows lo..hi-1 of row-major X (n x k) */
static mlx_status
add_rows(mlx_linreg_state *s, const double *X, const double *y, int k,
		 int lo, int hi)
{
	int			i,
				bad = 0;
	mlx_status	st;

	for (i = lo; i < hi; i++)
		if ((st = mlx_linreg_add_row(s, y[i], X + (size_t) i * k, MC, &bad)) != MLX_OK)
			return st;
	return MLX_OK;
}

static void
fit_free(const mlx_ctx *ctx, mlx_linreg_fit *f)
{
	mlx_free(ctx, f->coef);
	mlx_free(ctx, f->se);
	mlx_free(ctx, f->tval);
	mlx_free(ctx, f->pval);
	mlx_free(ctx, f->dependent);
	memset(f, 0, sizeof(*f));
}

/* fit data in one state, in order; returns status of solve */
static mlx_status
fit_data(const double *X, const double *y, int n, int k, double lambda,
		 bool intercept, mlx_linreg_fit *f)
{
	mlx_linreg_state *s = new_state(k, lambda, intercept);
	mlx_status	st;

	memset(f, 0, sizeof(*f));
	if (s == NULL)
		return MLX_ENOMEM;
	st = add_rows(s, X, y, k, 0, n);
	if (st == MLX_OK)
		st = mlx_linreg_solve(s, MC, f);
	free(s);
	return st;
}

/*
 * Solve the m x m system M a = rhs in place by Gauss-Jordan elimination
 * with partial pivoting in long double; M becomes garbage.  If inv is not
 * NULL it receives M^-1.  Returns false if singular.
 */
static bool
gj_solve(long double *M, long double *rhs, long double *inv, int m)
{
	int			i,
				j,
				r,
				piv;

	if (inv != NULL)
		for (i = 0; i < m; i++)
			for (j = 0; j < m; j++)
				inv[i * m + j] = (i == j);
	for (j = 0; j < m; j++)
	{
		long double t;

		piv = j;
		for (i = j + 1; i < m; i++)
			if (fabsl(M[i * m + j]) > fabsl(M[piv * m + j]))
				piv = i;
		if (M[piv * m + j] == 0)
			return false;
		for (i = 0; i < m; i++)
		{
			t = M[j * m + i];
			M[j * m + i] = M[piv * m + i];
			M[piv * m + i] = t;
			if (inv != NULL)
			{
				t = inv[j * m + i];
				inv[j * m + i] = inv[piv * m + i];
				inv[piv * m + i] = t;
			}
		}
		t = rhs[j];
		rhs[j] = rhs[piv];
		rhs[piv] = t;
		for (r = 0; r < m; r++)
		{
			long double f;

			if (r == j)
				continue;
			f = M[r * m + j] / M[j * m + j];
			for (i = 0; i < m; i++)
			{
				M[r * m + i] -= f * M[j * m + i];
				if (inv != NULL)
					inv[r * m + i] -= f * inv[j * m + i];
			}
			rhs[r] -= f * rhs[j];
		}
	}
	for (j = 0; j < m; j++)
	{
		rhs[j] /= M[j * m + j];
		if (inv != NULL)
			for (i = 0; i < m; i++)
				inv[j * m + i] /= M[j * m + j];
	}
	return true;
}

/*
 * Reference OLS by normal equations in long double on [1 X] (or X):
 * coef (k+1, intercept first, 0 without), diag of (X'X)^-1 in the same
 * indexing (NaN for an absent intercept), rss and tss.
 */
typedef struct ref_fit
{
	double		coef[16];
	double		xtxinv_diag[16];
	double		rss;
	double		tss;
} ref_fit;

static bool
ref_ols(const double *X, const double *y, int n, int k, bool intercept,
		ref_fit *rf)
{
	int			c = intercept ? 1 : 0;
	int			m = k + c;
	long double M[16 * 16],
				rhs[16],
				inv[16 * 16];
	long double ybar = 0,
				rss = 0,
				tss = 0;
	int			i,
				a,
				b;

	if (m > 16)
		return false;
	memset(M, 0, sizeof(M));
	memset(rhs, 0, sizeof(rhs));
	for (i = 0; i < n; i++)
	{
		long double row[16];

		if (c)
			row[0] = 1;
		for (a = 0; a < k; a++)
			row[c + a] = X[i * k + a];
		for (a = 0; a < m; a++)
		{
			for (b = 0; b < m; b++)
				M[a * m + b] += row[a] * row[b];
			rhs[a] += row[a] * y[i];
		}
		ybar += y[i];
	}
	if (!gj_solve(M, rhs, inv, m))
		return false;
	ybar /= n;
	for (i = 0; i < n; i++)
	{
		long double pred = c ? rhs[0] : 0;

		for (a = 0; a < k; a++)
			pred += rhs[c + a] * X[i * k + a];
		rss += (y[i] - pred) * (y[i] - pred);
		tss += intercept ? (y[i] - ybar) * (y[i] - ybar) : (long double) y[i] * y[i];
	}
	rf->coef[0] = c ? (double) rhs[0] : 0.0;
	rf->xtxinv_diag[0] = c ? (double) inv[0] : NAN;
	for (a = 0; a < k; a++)
	{
		rf->coef[a + 1] = (double) rhs[c + a];
		rf->xtxinv_diag[a + 1] = (double) inv[(c + a) * m + c + a];
	}
	rf->rss = (double) rss;
	rf->tss = (double) tss;
	return true;
}

/* random well-conditioned data: y = b0 + sum b_j x_j + noise * N(0,1) */
static void
make_data(double *X, double *y, int n, int k, const double *beta,
		  double noise, uint64_t seed)
{
	int			i,
				j;

	rng_seed(seed);
	for (i = 0; i < n; i++)
	{
		double		v = beta[0];

		for (j = 0; j < k; j++)
		{
			X[i * k + j] = 3.0 * rng_unif() - 1.0 + 0.5 * j;
			v += beta[j + 1] * X[i * k + j];
		}
		y[i] = v + noise * rng_norm();
	}
}

/* max relative difference of two fits' coefficient vectors and rss */
static double
fit_diff(const mlx_linreg_fit *a, const mlx_linreg_fit *b)
{
	double		d = 0.0,
				scale = 0.0;
	int			j;

	for (j = 0; j <= a->nfeat; j++)
		scale = fmax(scale, fabs(b->coef[j]));
	for (j = 0; j <= a->nfeat; j++)
		d = fmax(d, fabs(a->coef[j] - b->coef[j]) / fmax(scale, 1e-300));
	d = fmax(d, fabs(a->rss - b->rss) / fmax(b->rss, 1e-300));
	return d;
}

/* ------------------------------------------------------------ tdist */

static void
test_betainc_closed_forms(void)
{
	double		as[] = {0.5, 1.0, 2.0, 7.3, 30.0, 150.0};
	double		xs[] = {1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999999};
	int			i,
				j;
	char		what[96];

	for (i = 0; i < 6; i++)
		for (j = 0; j < 9; j++)
		{
			double		a = as[i],
						x = xs[j];

			snprintf(what, sizeof(what), "I_%g(%g,1)", x, a);
			EXPECT_REL(mlx_betainc(a, 1.0, x), pow(x, a), 1e-13, what);
			snprintf(what, sizeof(what), "I_%g(1,%g)", x, a);
			EXPECT_REL(mlx_betainc(1.0, a, x), -expm1(a * log1p(-x)), 1e-13, what);
		}
	EXPECT(mlx_betainc(2.0, 3.0, 0.0) == 0.0, "I_0 must be 0");
	EXPECT(mlx_betainc(2.0, 3.0, 1.0) == 1.0, "I_1 must be 1");
}

static void
test_betainc_symmetry(void)
{
	double		ab[][2] = {{0.5, 0.5}, {2.0, 5.0}, {0.3, 7.0}, {12.5, 0.5},
	{40.0, 60.0}, {300.0, 2.5}, {1000.0, 1000.0}};
	double		half[] = {0.5, 1.0, 3.0, 10.5, 100.0, 1000.0, 20000.0};
	double		xs[] = {0.001, 0.05, 0.2, 0.45, 0.6, 0.8, 0.97};
	int			i,
				j;
	char		what[96];

	for (i = 0; i < 7; i++)
		for (j = 0; j < 7; j++)
		{
			double		a = ab[i][0],
						b = ab[i][1],
						x = xs[j];
			double		l = mlx_betainc(a, b, x);
			double		r = mlx_betainc(b, a, 1.0 - x);

			snprintf(what, sizeof(what), "I_x(%g,%g)+I_1-x(%g,%g) x=%g", a, b, b, a, x);
			EXPECT_NEAR(l + r, 1.0, 1e-13, what);
			EXPECT(l >= 0.0 && l <= 1.0, "I out of [0,1] for a=%g b=%g x=%g", a, b, x);
		}
	for (i = 0; i < 7; i++)
	{
		snprintf(what, sizeof(what), "I_1/2(%g,%g)", half[i], half[i]);
		EXPECT_NEAR(mlx_betainc(half[i], half[i], 0.5), 0.5, 1e-13, what);
	}
	/* monotone in x */
	for (j = 1; j < 100; j++)
		EXPECT(mlx_betainc(3.5, 4.5, j / 100.0) > mlx_betainc(3.5, 4.5, (j - 1) / 100.0),
			   "I_x(3.5,4.5) not increasing at x=%g", j / 100.0);
}

/* t CDF closed forms for df = 1, 2, 4 */
static double
t4_cdf(double t)
{
	double		u = t * t / 4.0;

	return 0.5 + 0.375 * (t / sqrt(1.0 + u)) * (1.0 - (u / 3.0) / (1.0 + u));
}

static void
test_t_cdf_closed_forms(void)
{
	double		ts[] = {-50.0, -7.0, -2.5, -1.0, -0.3, -1e-9, 0.0, 1e-9, 0.2,
	0.9, 1.5, 3.0, 11.0, 123.0};
	int			i;
	char		what[64];

	for (i = 0; i < 14; i++)
	{
		double		t = ts[i];

		snprintf(what, sizeof(what), "df=1 t=%g", t);
		EXPECT_NEAR(mlx_t_cdf(t, 1.0), 0.5 + atan(t) / M_PI, 1e-13, what);
		snprintf(what, sizeof(what), "df=2 t=%g", t);
		EXPECT_NEAR(mlx_t_cdf(t, 2.0), 0.5 + t / (2.0 * sqrt(2.0 + t * t)), 1e-13, what);
		snprintf(what, sizeof(what), "df=4 t=%g", t);
		EXPECT_NEAR(mlx_t_cdf(t, 4.0), t4_cdf(t), 1e-13, what);
		/* lower tails relative: df=1 F(-|t|) = atan(1/|t|)/pi */
		if (t > 0)
		{
			double		s = sqrt(2.0 + t * t);

			snprintf(what, sizeof(what), "df=1 lower tail t=%g", t);
			EXPECT_REL(mlx_t_cdf(-t, 1.0), atan2(1.0, t) / M_PI, 1e-13, what);
			snprintf(what, sizeof(what), "df=2 lower tail t=%g", t);
			EXPECT_REL(mlx_t_cdf(-t, 2.0), 1.0 / (s * (s + t)), 1e-13, what);
			snprintf(what, sizeof(what), "pvalue2 = 2 F(-|t|) t=%g", t);
			EXPECT_REL(mlx_t_pvalue2(t, 7.5), 2.0 * mlx_t_cdf(-t, 7.5), 1e-14, what);
			EXPECT_REL(mlx_t_pvalue2(-t, 7.5), mlx_t_pvalue2(t, 7.5), 1e-15, what);
		}
	}
	EXPECT(mlx_t_cdf(0.0, 3.3) == 0.5, "F(0) must be 0.5");
	EXPECT(mlx_t_pvalue2(0.0, 3.3) == 1.0, "p(0) must be 1");
}

static void
test_t_tiny_pvalues(void)
{
	double		ts[] = {1e3, 1e6, 1e10, 1e100};
	int			i;
	char		what[64];

	for (i = 0; i < 4; i++)
	{
		double		t = ts[i];
		double		s = sqrt(2.0 + t * t);

		snprintf(what, sizeof(what), "df=1 p(%g)", t);
		EXPECT_REL(mlx_t_pvalue2(t, 1.0), 2.0 / M_PI * atan(1.0 / t), 1e-13, what);
		if (t < 1e100)
		{
			snprintf(what, sizeof(what), "df=2 p(%g)", t);
			EXPECT_REL(mlx_t_pvalue2(t, 2.0), 2.0 / (s * (s + t)), 1e-13, what);
		}
	}
	/* df = 30, t = 40: the directly computed tail is ~1e-26, not 0 */
	EXPECT(mlx_t_pvalue2(40.0, 30.0) > 0.0 && mlx_t_pvalue2(40.0, 30.0) < 1e-20,
		   "p(40, df=30) = %g", mlx_t_pvalue2(40.0, 30.0));
	/* large df: reference values from mpmath at 40 digits */
	EXPECT_REL(mlx_t_pvalue2(2.0, 1e6), 0.045500533851319208, 1e-12, "p(2, df=1e6)");
	EXPECT_REL(mlx_t_pvalue2(10.0, 1e5), 1.5633015300207278e-23, 1e-12, "p(10, df=1e5)");
	EXPECT_REL(mlx_t_pvalue2(3.0, 1e9), 0.0026997961297379157, 1e-11, "p(3, df=1e9)");
	/* large-parameter I_x, references from mpmath (hypergeometric series) */
	EXPECT_REL(mlx_betainc(10.0, 10.0, 1e-4), 9.2302445707431835554e-36, 1e-13, "I(10,10,1e-4)");
	EXPECT_REL(mlx_betainc(100.0, 100.0, 0.1), 1.4990328239114035243e-46, 1e-13, "I(100,100,0.1)");
	EXPECT_REL(mlx_betainc(3000.0, 20000.0, 0.1), 1.2272626471705160486e-49, 1e-12, "I(3000,20000,0.1)");
	EXPECT_REL(mlx_betainc(10000.0, 0.7, 0.99), 4.338832082899227879e-45, 1e-12, "I(1e4,0.7,0.99)");
	/* df = Inf is the normal distribution */
	EXPECT_REL(mlx_t_pvalue2(1.959963984540054, INFINITY), 0.05, 1e-14, "p(1.96, normal)");
}

static void
test_tdist_domain(void)
{
	EXPECT(isnan(mlx_betainc(0.0, 1.0, 0.5)), "a = 0");
	EXPECT(isnan(mlx_betainc(-1.0, 1.0, 0.5)), "a < 0");
	EXPECT(isnan(mlx_betainc(1.0, -2.0, 0.5)), "b < 0");
	EXPECT(isnan(mlx_betainc(1.0, 1.0, -0.1)), "x < 0");
	EXPECT(isnan(mlx_betainc(1.0, 1.0, 1.5)), "x > 1");
	EXPECT(isnan(mlx_betainc(NAN, 1.0, 0.5)), "a NaN");
	EXPECT(isnan(mlx_betainc(1.0, 1.0, NAN)), "x NaN");
	EXPECT(isnan(mlx_betainc(INFINITY, 1.0, 0.5)), "a Inf");
	EXPECT(isnan(mlx_t_cdf(1.0, 0.0)), "df = 0");
	EXPECT(isnan(mlx_t_cdf(1.0, -3.0)), "df < 0");
	EXPECT(isnan(mlx_t_cdf(NAN, 3.0)), "t NaN");
	EXPECT(isnan(mlx_t_cdf(1.0, NAN)), "df NaN");
	EXPECT(isnan(mlx_t_pvalue2(1.0, 0.0)), "p df = 0");
	EXPECT(isnan(mlx_t_pvalue2(NAN, 5.0)), "p t NaN");
	EXPECT(mlx_t_cdf(INFINITY, 3.0) == 1.0, "F(+Inf)");
	EXPECT(mlx_t_cdf(-INFINITY, 3.0) == 0.0, "F(-Inf)");
	EXPECT(mlx_t_pvalue2(INFINITY, 3.0) == 0.0, "p(Inf)");
	EXPECT(mlx_t_pvalue2(-INFINITY, 3.0) == 0.0, "p(-Inf)");
}

/* ---------------------------------------------------------- mlx_core */

static void
test_core_helpers(void)
{
	test_alloc	ta;
	mlx_ctx		c = ta_ctx(&ta);
	unsigned char *p;
	int			i,
				j;
	mlx_ctx		nofree = mlx_malloc_ctx;

	p = mlx_alloc0(&c, 100);
	EXPECT(p != NULL, "alloc0 failed");
	for (i = 0; p != NULL && i < 100; i++)
		EXPECT(p[i] == 0, "alloc0 byte %d not zero", i);
	mlx_free(&c, p);
	EXPECT(ta.live == 0, "leak");
	ta.fail_after = 0;
	EXPECT(mlx_alloc(&c, 10) == NULL, "failing allocator");
	EXPECT(mlx_alloc0(&c, 10) == NULL, "failing allocator (alloc0)");
	EXPECT(!mlx_interrupted(&c), "not interrupted");
	ta.interrupt = true;
	EXPECT(mlx_interrupted(&c), "interrupted");
	EXPECT(!mlx_interrupted(&mlx_malloc_ctx), "malloc ctx has no hook");
	nofree.free = NULL;
	p = mlx_alloc(&nofree, 8);
	mlx_free(&nofree, p);		/* must be a no-op */
	free(p);
	for (i = MLX_OK; i <= MLX_ELAPACK; i++)
	{
		EXPECT(mlx_status_str(i) != NULL && mlx_status_str(i)[0] != '\0', "empty name %d", i);
		for (j = 0; j < i; j++)
			EXPECT(strcmp(mlx_status_str(i), mlx_status_str(j)) != 0, "same name %d %d", i, j);
	}
	EXPECT(strcmp(mlx_status_str(MLX_ENOMEM), "out of memory") == 0, "ENOMEM name");
}

/* ------------------------------------------------------- linreg: basics */

static void
test_linreg_init_sizes(void)
{
	mlx_linreg_state *s;
	int			k;

	EXPECT(mlx_linreg_ncols(3, true) == 5, "ncols");
	EXPECT(mlx_linreg_ncols(3, false) == 4, "ncols");
	EXPECT(mlx_linreg_state_size(0, true) == 0, "size nfeat 0");
	EXPECT(mlx_linreg_state_size(-5, true) == 0, "size nfeat < 0");
	EXPECT(mlx_linreg_state_size(MLX_LINREG_MAX_FEATURES + 1, true) == 0, "size nfeat max+1");
	EXPECT(mlx_linreg_state_size(MLX_LINREG_MAX_FEATURES, true) > 0, "size nfeat max");
	for (k = 1; k <= MLX_LINREG_MAX_FEATURES; k += (k < 300 ? 1 : 97))
	{
		size_t		p = mlx_linreg_ncols(k, true);
		size_t		sz = mlx_linreg_state_size(k, true);
		size_t		nbuf = (sz - 40) / 8 / p - p;

		EXPECT(sz > 40 + 8 * p * p && (sz - 40) % (8 * p) == 0, "size layout k=%d", k);
		EXPECT(nbuf >= 1 && nbuf <= 65535, "bufrows %zu k=%d", nbuf, k);
		EXPECT(p < 64 || nbuf <= p, "buffer larger than R, k=%d", k);
	}
	s = new_state(3, 0.0, true);
	EXPECT(s != NULL, "init");
	if (s == NULL)
		return;
	EXPECT(s->version == MLX_LINREG_STATE_VERSION && s->nfeat == 3 &&
		   s->nbuf == 0 && s->nrows == 0 && s->flags == MLX_LINREG_F_INTERCEPT &&
		   s->bufrows >= 1, "header fields");
	EXPECT(mlx_linreg_state_validate(s, state_bytes(s), NULL, 0) == MLX_OK, "fresh state valid");
	EXPECT_ST(mlx_linreg_state_init(s, 0, 0.0, true), MLX_EINVAL);
	EXPECT_ST(mlx_linreg_state_init(s, 3, -1.0, true), MLX_EINVAL);
	EXPECT_ST(mlx_linreg_state_init(s, 3, NAN, true), MLX_EINVAL);
	EXPECT_ST(mlx_linreg_state_init(s, 3, INFINITY, true), MLX_EINVAL);
	EXPECT_ST(mlx_linreg_state_init(s, MLX_LINREG_MAX_FEATURES + 1, 0.0, true), MLX_EINVAL);
	free(s);
}

static void
test_linreg_no_rows(void)
{
	mlx_linreg_state *s = new_state(2, 0.0, true);
	mlx_linreg_fit f;

	EXPECT_ST(mlx_linreg_solve(s, MC, &f), MLX_EINVAL);
	EXPECT(f.coef == NULL && f.dependent == NULL, "arrays allocated on error");
	free(s);
}

static void
test_linreg_exact(void)
{
	double		beta[] = {1.0, 2.0, -3.0, 0.5};
	double		X[10 * 3],
				y[10];
	mlx_linreg_fit f;
	int			j;

	make_data(X, y, 10, 3, beta, 0.0, 1);
	EXPECT_ST(fit_data(X, y, 10, 3, 0.0, true, &f), MLX_OK);
	if (f.coef == NULL)
		return;
	for (j = 0; j < 4; j++)
		EXPECT_NEAR(f.coef[j], beta[j], 1e-12, "coef");
	EXPECT(f.rank == 3 && f.ndependent == 0 && f.dependent == NULL, "rank %d", f.rank);
	EXPECT(f.rss < 1e-24, "rss %g", f.rss);
	EXPECT_NEAR(f.r2, 1.0, 1e-14, "r2");
	EXPECT(f.df_resid == 6.0 && f.nrows == 10, "df_resid %g", f.df_resid);
	EXPECT(f.intercept && f.nfeat == 3 && f.lambda == 0.0, "fit header");
	EXPECT_NEAR(mlx_linreg_predict(&f, X + 3 * 4), y[4], 1e-12, "predict");
	fit_free(MC, &f);
}

/* noisy OLS with intercept: coefficients and every statistic vs reference */
static void
test_linreg_noisy_stats(void)
{
	enum
	{
	N = 500, K = 4};
	double		beta[] = {-0.7, 1.5, 0.0, -2.0, 0.25};
	static double X[N * K],
				y[N];
	mlx_linreg_fit f;
	ref_fit		rf;
	double		sigma,
				r2;
	int			j;
	char		what[32];

	make_data(X, y, N, K, beta, 0.3, 2);
	EXPECT(ref_ols(X, y, N, K, true, &rf), "reference singular");
	EXPECT_ST(fit_data(X, y, N, K, 0.0, true, &f), MLX_OK);
	if (f.coef == NULL)
		return;
	sigma = sqrt(rf.rss / (N - K - 1));
	r2 = 1.0 - rf.rss / rf.tss;
	for (j = 0; j <= K; j++)
	{
		double		se = sigma * sqrt(rf.xtxinv_diag[j]);

		snprintf(what, sizeof(what), "coef[%d]", j);
		EXPECT_REL(f.coef[j], rf.coef[j], 1e-10, what);
		snprintf(what, sizeof(what), "se[%d]", j);
		EXPECT_REL(f.se[j], se, 1e-10, what);
		snprintf(what, sizeof(what), "t[%d]", j);
		EXPECT_REL(f.tval[j], rf.coef[j] / se, 1e-9, what);
		snprintf(what, sizeof(what), "p[%d]", j);
		EXPECT_REL(f.pval[j], mlx_t_pvalue2(rf.coef[j] / se, N - K - 1), 1e-8, what);
	}
	/* the zero coefficient is not significant, the others are */
	EXPECT(f.pval[2] > 0.001 && f.pval[1] < 1e-20 && f.pval[3] < 1e-20, "p-values");
	EXPECT_REL(f.rss, rf.rss, 1e-10, "rss");
	EXPECT_REL(f.tss, rf.tss, 1e-12, "tss");
	EXPECT_REL(f.r2, r2, 1e-12, "r2");
	EXPECT_REL(f.adj_r2, 1.0 - (1.0 - r2) * (N - 1) / (N - K - 1), 1e-12, "adj_r2");
	EXPECT_REL(f.sigma, sigma, 1e-10, "sigma");
	EXPECT(f.df_resid == N - K - 1 && f.rank == K, "df/rank");
	EXPECT(fabs(f.sigma - 0.3) < 0.05, "sigma %g far from the noise level", f.sigma);
	fit_free(MC, &f);
}

static void
test_linreg_no_intercept(void)
{
	enum
	{
	N = 200, K = 3};
	double		beta[] = {0.0, 1.0, -2.0, 3.0};
	static double X[N * K],
				y[N];
	mlx_linreg_fit f;
	ref_fit		rf;
	double		sigma;
	int			j;
	char		what[32];

	make_data(X, y, N, K, beta, 0.5, 3);
	for (j = 0; j < N; j++)
		y[j] += 4.0;			/* a true intercept the model must not fit */
	EXPECT(ref_ols(X, y, N, K, false, &rf), "reference singular");
	EXPECT_ST(fit_data(X, y, N, K, 0.0, false, &f), MLX_OK);
	if (f.coef == NULL)
		return;
	sigma = sqrt(rf.rss / (N - K));
	EXPECT(f.coef[0] == 0.0 && !f.intercept, "intercept must be 0");
	EXPECT(isnan(f.se[0]) && isnan(f.tval[0]) && isnan(f.pval[0]), "intercept stats must be NaN");
	for (j = 1; j <= K; j++)
	{
		snprintf(what, sizeof(what), "coef[%d]", j);
		EXPECT_REL(f.coef[j], rf.coef[j], 1e-10, what);
		snprintf(what, sizeof(what), "se[%d]", j);
		EXPECT_REL(f.se[j], sigma * sqrt(rf.xtxinv_diag[j]), 1e-10, what);
	}
	EXPECT_REL(f.tss, rf.tss, 1e-12, "uncentred tss");
	EXPECT_REL(f.rss, rf.rss, 1e-10, "rss");
	EXPECT_REL(f.r2, 1.0 - rf.rss / rf.tss, 1e-12, "r2");
	EXPECT(f.df_resid == N - K, "df_resid %g", f.df_resid);
	EXPECT_REL(f.adj_r2, 1.0 - (1.0 - f.r2) * N / (N - K), 1e-12, "adj_r2");
	fit_free(MC, &f);
}

/* ridge vs the closed form on centred data, intercept unpenalized */
static void
test_linreg_ridge(void)
{
	enum
	{
	N = 120, K = 3};
	double		beta[] = {2.0, 1.0, -1.0, 0.5};
	static double X[N * K],
				y[N];
	double		lambdas[] = {1e-3, 0.7, 25.0, 1e4};
	int			li;

	make_data(X, y, N, K, beta, 0.2, 4);
	/* make two columns correlated so the penalty matters */
	for (li = 0; li < N; li++)
		X[li * K + 2] = X[li * K + 0] + 0.1 * X[li * K + 2];
	for (li = 0; li < 4; li++)
	{
		double		lam = lambdas[li];
		long double M[K * K],
					rhs[K],
					xbar[K] = {0},
					ybar = 0,
					b0,
					rss = 0;
		mlx_linreg_fit f;
		int			i,
					a,
					b;
		char		what[48];

		for (i = 0; i < N; i++)
		{
			for (a = 0; a < K; a++)
				xbar[a] += X[i * K + a];
			ybar += y[i];
		}
		for (a = 0; a < K; a++)
			xbar[a] /= N;
		ybar /= N;
		memset(M, 0, sizeof(M));
		memset(rhs, 0, sizeof(rhs));
		for (i = 0; i < N; i++)
			for (a = 0; a < K; a++)
			{
				for (b = 0; b < K; b++)
					M[a * K + b] += (X[i * K + a] - xbar[a]) * (X[i * K + b] - xbar[b]);
				rhs[a] += (X[i * K + a] - xbar[a]) * (y[i] - ybar);
			}
		for (a = 0; a < K; a++)
			M[a * K + a] += lam;
		gj_solve(M, rhs, NULL, K);
		b0 = ybar;
		for (a = 0; a < K; a++)
			b0 -= xbar[a] * rhs[a];
		for (i = 0; i < N; i++)
		{
			long double r = y[i] - b0;

			for (a = 0; a < K; a++)
				r -= rhs[a] * X[i * K + a];
			rss += r * r;
		}
		EXPECT_ST(fit_data(X, y, N, K, lam, true, &f), MLX_OK);
		if (f.coef == NULL)
			return;
		snprintf(what, sizeof(what), "lambda %g intercept", lam);
		EXPECT_REL(f.coef[0], (double) b0, 1e-10, what);
		for (a = 0; a < K; a++)
		{
			snprintf(what, sizeof(what), "lambda %g coef[%d]", lam, a + 1);
			EXPECT_REL(f.coef[a + 1], (double) rhs[a], 1e-10, what);
		}
		snprintf(what, sizeof(what), "lambda %g rss", lam);
		EXPECT_REL(f.rss, (double) rss, 1e-10, what);
		EXPECT(f.rank == K && f.lambda == lam && f.df_resid == N - K - 1, "rank/lambda/df");
		EXPECT(isnan(f.se[1]) && isnan(f.pval[0]) && isnan(f.tval[2]), "ridge se must be NaN");
		EXPECT(!isnan(f.r2) && !isnan(f.sigma), "ridge r2/sigma defined");
		fit_free(MC, &f);
	}
}

/* ------------------------------------------- linreg: streaming and merge */

static void
test_linreg_order_and_buffering(void)
{
	enum
	{
	N = 1000, K = 5};
	double		beta[] = {3.0, 1.0, -1.0, 2.0, 0.0, 0.3};
	static double X[N * K],
				y[N],
				Xr[N * K],
				yr[N];
	mlx_linreg_fit f0,
				f1;
	mlx_linreg_state *s,
			   *snap;
	int			i,
				nlist[] = {1, 63, 64, 65, 127, 128, 129, 7, 6};

	make_data(X, y, N, K, beta, 1.0, 5);
	EXPECT_ST(fit_data(X, y, N, K, 0.0, true, &f0), MLX_OK);
	if (f0.coef == NULL)
		return;
	/* reversed order */
	for (i = 0; i < N; i++)
	{
		memcpy(Xr + i * K, X + (N - 1 - i) * K, sizeof(double) * K);
		yr[i] = y[N - 1 - i];
	}
	EXPECT_ST(fit_data(Xr, yr, N, K, 0.0, true, &f1), MLX_OK);
	if (f1.coef != NULL)
		EXPECT(fit_diff(&f1, &f0) < 1e-12, "reversed order differs by %g", fit_diff(&f1, &f0));
	fit_free(MC, &f1);

	/* explicit flushes at irregular points; solve leaves the state alone */
	s = new_state(K, 0.0, true);
	rng_seed(55);
	for (i = 0; i < N; i++)
	{
		int			bad;

		EXPECT_ST(mlx_linreg_add_row(s, y[i], X + i * K, MC, &bad), MLX_OK);
		if (rng_unif() < 0.05)
			EXPECT_ST(mlx_linreg_flush(s, MC), MLX_OK);
		EXPECT(s->nbuf <= s->bufrows && s->nrows == i + 1, "counters");
	}
	snap = dup_state(s);
	EXPECT_ST(mlx_linreg_solve(s, MC, &f1), MLX_OK);
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "solve modified the state");
	if (f1.coef != NULL)
		EXPECT(fit_diff(&f1, &f0) < 1e-12, "irregular flushes differ by %g", fit_diff(&f1, &f0));
	fit_free(MC, &f1);
	EXPECT_ST(mlx_linreg_flush(s, MC), MLX_OK);
	EXPECT(s->nbuf == 0 && s->nrows == N, "flush counters");
	EXPECT_ST(mlx_linreg_flush(s, MC), MLX_OK);
	EXPECT_ST(mlx_linreg_solve(s, MC, &f1), MLX_OK);
	if (f1.coef != NULL)
		EXPECT(fit_diff(&f1, &f0) < 1e-12, "after flush differs by %g", fit_diff(&f1, &f0));
	fit_free(MC, &f1);
	free(s);
	free(snap);

	/* row counts around buffer boundaries agree with the reference */
	for (i = 0; i < 9; i++)
	{
		int			n = nlist[i] + K + 1;
		ref_fit		rf;
		int			j;

		ref_ols(X, y, n, K, true, &rf);
		EXPECT_ST(fit_data(X, y, n, K, 0.0, true, &f1), MLX_OK);
		if (f1.coef == NULL)
			continue;
		for (j = 0; j <= K; j++)
			EXPECT_REL(f1.coef[j], rf.coef[j], 1e-9, "boundary coef");
		EXPECT(f1.nrows == n, "nrows");
		fit_free(MC, &f1);
	}
	fit_free(MC, &f0);
}

static void
test_linreg_merge(void)
{
	enum
	{
	N = 700, K = 4};
	double		beta[] = {-1.0, 0.5, 0.25, -4.0, 2.0};
	static double X[N * K],
				y[N];
	int			splits[] = {0, 1, 10, 64, 65, 300, 699, 700};
	mlx_linreg_fit f0,
				f1;
	int			i;

	make_data(X, y, N, K, beta, 0.7, 6);
	EXPECT_ST(fit_data(X, y, N, K, 0.0, true, &f0), MLX_OK);
	if (f0.coef == NULL)
		return;
	for (i = 0; i < 8; i++)
	{
		int			sp = splits[i];
		mlx_linreg_state *a = new_state(K, 0.0, true);
		mlx_linreg_state *b = new_state(K, 0.0, true);
		mlx_linreg_state *bsnap;

		add_rows(a, X, y, K, 0, sp);
		add_rows(b, X, y, K, sp, N);
		a->nskipped = 3;
		b->nskipped = 4;
		bsnap = dup_state(b);
		EXPECT_ST(mlx_linreg_merge(a, b, MC), MLX_OK);
		EXPECT(memcmp(b, bsnap, state_bytes(b)) == 0, "merge modified other (split %d)", sp);
		EXPECT(a->nrows == N && a->nskipped == 7, "merged counters (split %d)", sp);
		EXPECT(mlx_linreg_state_validate(a, state_bytes(a), NULL, 0) == MLX_OK, "merged state invalid");
		EXPECT_ST(mlx_linreg_solve(a, MC, &f1), MLX_OK);
		if (f1.coef != NULL)
		{
			EXPECT(fit_diff(&f1, &f0) < 1e-12, "split %d differs by %g", sp, fit_diff(&f1, &f0));
			EXPECT_REL(f1.se[2], f0.se[2], 1e-12, "merged se");
			EXPECT(f1.nskipped == 7, "fit nskipped");
		}
		fit_free(MC, &f1);
		free(a);
		free(b);
		free(bsnap);
	}
	/* many small pieces, each partly buffered, merged in a tree */
	{
		mlx_linreg_state *parts[7];
		int			lo = 0;

		for (i = 0; i < 7; i++)
		{
			int			hi = (i == 6) ? N : lo + 37 + 29 * i;

			parts[i] = new_state(K, 0.0, true);
			add_rows(parts[i], X, y, K, lo, hi);
			if (i % 2)
				mlx_linreg_flush(parts[i], MC);
			lo = hi;
		}
		EXPECT_ST(mlx_linreg_merge(parts[1], parts[2], MC), MLX_OK);
		EXPECT_ST(mlx_linreg_merge(parts[3], parts[4], MC), MLX_OK);
		EXPECT_ST(mlx_linreg_merge(parts[5], parts[6], MC), MLX_OK);
		EXPECT_ST(mlx_linreg_merge(parts[3], parts[5], MC), MLX_OK);
		EXPECT_ST(mlx_linreg_merge(parts[0], parts[3], MC), MLX_OK);
		EXPECT_ST(mlx_linreg_merge(parts[0], parts[1], MC), MLX_OK);
		EXPECT_ST(mlx_linreg_solve(parts[0], MC, &f1), MLX_OK);
		if (f1.coef != NULL)
			EXPECT(fit_diff(&f1, &f0) < 1e-12, "tree merge differs by %g", fit_diff(&f1, &f0));
		fit_free(MC, &f1);
		for (i = 0; i < 7; i++)
			free(parts[i]);
	}
	/* a state merged with itself counts every row twice */
	{
		mlx_linreg_state *a = new_state(K, 0.0, true);

		add_rows(a, X, y, K, 0, N);
		EXPECT_ST(mlx_linreg_merge(a, a, MC), MLX_OK);
		EXPECT(a->nrows == 2 * N, "self merge nrows");
		EXPECT_ST(mlx_linreg_solve(a, MC, &f1), MLX_OK);
		if (f1.coef != NULL)
		{
			EXPECT(fabs(f1.coef[4] - f0.coef[4]) < 1e-12 * fabs(f0.coef[4]), "self merge coef");
			EXPECT_REL(f1.rss, 2.0 * f0.rss, 1e-12, "self merge rss");
		}
		fit_free(MC, &f1);
		free(a);
	}
	fit_free(MC, &f0);
}

static void
test_linreg_merge_empty_and_mismatch(void)
{
	double		beta[] = {1.0, 2.0, 3.0};
	double		X[50 * 2],
				y[50];
	mlx_linreg_state *a = new_state(2, 0.0, true),
			   *e = new_state(2, 0.0, true),
			   *snap,
			   *o;
	mlx_linreg_fit f0,
				f1;

	make_data(X, y, 50, 2, beta, 0.1, 7);
	add_rows(a, X, y, 2, 0, 50);
	EXPECT_ST(mlx_linreg_solve(a, MC, &f0), MLX_OK);
	snap = dup_state(a);
	e->nskipped = 5;
	/* full into empty */
	EXPECT_ST(mlx_linreg_merge(e, a, MC), MLX_OK);
	EXPECT(e->nrows == 50 && e->nskipped == 5, "empty <- full counters");
	EXPECT_ST(mlx_linreg_solve(e, MC, &f1), MLX_OK);
	if (f0.coef != NULL && f1.coef != NULL)
		EXPECT(fit_diff(&f1, &f0) < 1e-13, "empty <- full differs");
	fit_free(MC, &f1);
	/* empty into full: unchanged except nskipped */
	mlx_linreg_state_init(e, 2, 0.0, true);
	e->nskipped = 2;
	EXPECT_ST(mlx_linreg_merge(a, e, MC), MLX_OK);
	EXPECT(a->nskipped == 2, "nskipped from empty");
	a->nskipped = 0;
	EXPECT(memcmp(a, snap, state_bytes(a)) == 0, "full <- empty changed the state");
	/* flushed full into empty */
	mlx_linreg_state_init(e, 2, 0.0, true);
	mlx_linreg_flush(a, MC);
	EXPECT_ST(mlx_linreg_merge(e, a, MC), MLX_OK);
	EXPECT_ST(mlx_linreg_solve(e, MC, &f1), MLX_OK);
	if (f0.coef != NULL && f1.coef != NULL)
		EXPECT(fit_diff(&f1, &f0) < 1e-13, "empty <- flushed differs");
	fit_free(MC, &f1);
	/* empty into empty */
	mlx_linreg_state_init(e, 2, 0.0, true);
	o = new_state(2, 0.0, true);
	EXPECT_ST(mlx_linreg_merge(e, o, MC), MLX_OK);
	EXPECT(e->nrows == 0, "empty + empty");
	EXPECT_ST(mlx_linreg_solve(e, MC, &f1), MLX_EINVAL);
	free(o);
	/* mismatches */
	o = new_state(3, 0.0, true);
	EXPECT_ST(mlx_linreg_merge(a, o, MC), MLX_EMISMATCH);
	free(o);
	o = new_state(2, 0.0, false);
	EXPECT_ST(mlx_linreg_merge(a, o, MC), MLX_EMISMATCH);
	free(o);
	o = new_state(2, 0.5, true);
	EXPECT_ST(mlx_linreg_merge(a, o, MC), MLX_EMISMATCH);
	free(o);
	fit_free(MC, &f0);
	free(a);
	free(e);
	free(snap);
}

/* --------------------------------------------- linreg: rank deficiency */

static void
test_linreg_duplicate_column(void)
{
	enum
	{
	N = 80};
	double		beta[] = {0.5, 2.0, -1.0};
	double		X2[N * 2],
				X3[N * 3],
				y[N];
	mlx_linreg_fit f,
				fr,
				fl;
	int			i;

	make_data(X2, y, N, 2, beta, 0.4, 8);
	for (i = 0; i < N; i++)
	{
		X3[i * 3 + 0] = X2[i * 2 + 0];
		X3[i * 3 + 1] = X2[i * 2 + 1];
		X3[i * 3 + 2] = X2[i * 2 + 0];
	}
	EXPECT_ST(fit_data(X2, y, N, 2, 0.0, true, &fr), MLX_OK);
	EXPECT_ST(fit_data(X3, y, N, 3, 0.0, true, &f), MLX_OK);
	if (f.coef == NULL || fr.coef == NULL)
		return;
	EXPECT(f.rank == 2, "rank %d", f.rank);
	EXPECT(f.ndependent == 1 && f.dependent != NULL && f.dependent[0] == 2,
		   "dependent %d [%d]", f.ndependent, f.dependent ? f.dependent[0] : -1);
	/* minimum norm splits the coefficient evenly between the copies */
	EXPECT_REL(f.coef[1], fr.coef[1] / 2, 1e-10, "split coef 1");
	EXPECT_REL(f.coef[3], fr.coef[1] / 2, 1e-10, "split coef 3");
	EXPECT_REL(f.coef[2], fr.coef[2], 1e-10, "coef 2");
	EXPECT_REL(f.coef[0], fr.coef[0], 1e-10, "intercept");
	EXPECT_REL(f.rss, fr.rss, 1e-10, "rss");
	EXPECT(f.df_resid == N - 3, "df_resid %g", f.df_resid);
	EXPECT_REL(f.sigma, fr.sigma, 1e-10, "sigma");
	EXPECT(isnan(f.se[1]) && isnan(f.se[0]) && isnan(f.pval[2]), "se must be NaN when rank deficient");
	/* a scaled copy right after the original: the copy is the dependent one */
	for (i = 0; i < N; i++)
	{
		X3[i * 3 + 0] = X2[i * 2 + 0];
		X3[i * 3 + 1] = -2.0 * X2[i * 2 + 0];
		X3[i * 3 + 2] = X2[i * 2 + 1];
	}
	EXPECT_ST(fit_data(X3, y, N, 3, 0.0, true, &fl), MLX_OK);
	if (fl.coef != NULL)
	{
		EXPECT(fl.rank == 2 && fl.ndependent == 1 && fl.dependent[0] == 1,
			   "scaled copy: dependent %d", fl.ndependent ? fl.dependent[0] : -1);
		/* min norm: b1 x = c1 x - 2 c2 x with (c1, c2) parallel to (1, -2) */
		EXPECT_REL(fl.coef[1], fr.coef[1] / 5.0, 1e-10, "scaled copy coef 1");
		EXPECT_REL(fl.coef[2], -2.0 * fr.coef[1] / 5.0, 1e-10, "scaled copy coef 2");
		EXPECT_REL(fl.coef[3], fr.coef[2], 1e-10, "scaled copy coef 3");
	}
	fit_free(MC, &fl);
	for (i = 0; i < N; i++)
	{
		X3[i * 3 + 0] = X2[i * 2 + 0];
		X3[i * 3 + 1] = X2[i * 2 + 1];
		X3[i * 3 + 2] = X2[i * 2 + 0];
	}
	/* ridge on the same design is full rank and splits evenly too */
	EXPECT_ST(fit_data(X3, y, N, 3, 0.1, true, &fl), MLX_OK);
	if (fl.coef != NULL)
	{
		EXPECT(fl.rank == 3 && fl.ndependent == 0, "ridge rank %d", fl.rank);
		EXPECT_REL(fl.coef[1], fl.coef[3], 1e-10, "ridge duplicate split");
	}
	fit_free(MC, &fl);
	fit_free(MC, &f);
	fit_free(MC, &fr);
}

static void
test_linreg_constant_column(void)
{
	enum
	{
	N = 150};
	double		beta[] = {0.5, 2.0, -1.0};
	double		X2[N * 2],
				X3[N * 3],
				y[N];
	double		consts[] = {5.0, 1e6, -3e-4, 0.0};
	mlx_linreg_fit f,
				fr;
	int			i,
				ci;

	make_data(X2, y, N, 2, beta, 0.4, 9);
	EXPECT_ST(fit_data(X2, y, N, 2, 0.0, true, &fr), MLX_OK);
	if (fr.coef == NULL)
		return;
	for (ci = 0; ci < 4; ci++)
	{
		for (i = 0; i < N; i++)
		{
			X3[i * 3 + 0] = X2[i * 2 + 0];
			X3[i * 3 + 1] = consts[ci];
			X3[i * 3 + 2] = X2[i * 2 + 1];
		}
		EXPECT_ST(fit_data(X3, y, N, 3, 0.0, true, &f), MLX_OK);
		if (f.coef == NULL)
			continue;
		EXPECT(f.rank == 2, "rank %d (const %g)", f.rank, consts[ci]);
		EXPECT(f.ndependent == 1 && f.dependent[0] == 1, "constant column not reported (const %g)", consts[ci]);
		EXPECT(fabs(f.coef[2]) < 1e-12, "constant column coef %g", f.coef[2]);
		EXPECT_REL(f.coef[1], fr.coef[1], 1e-10, "coef 1");
		EXPECT_REL(f.coef[3], fr.coef[2], 1e-10, "coef 3");
		EXPECT_REL(f.coef[0], fr.coef[0], 1e-10, "intercept");
		EXPECT_REL(f.r2, fr.r2, 1e-10, "r2");
		fit_free(MC, &f);
	}
	/* ridge: the constant column is centred away, its coefficient is 0 */
	EXPECT_ST(fit_data(X3, y, N, 3, 2.0, true, &f), MLX_OK);
	if (f.coef != NULL)
		EXPECT(fabs(f.coef[2]) < 1e-12, "ridge constant coef %g", f.coef[2]);
	fit_free(MC, &f);
	fit_free(MC, &fr);
}

/* x3 = x1 + 2 x2: min-norm solution is the LS one projected off (1,2,-1) */
static void
test_linreg_linear_combination(void)
{
	enum
	{
	N = 90};
	double		beta[] = {1.0, -1.0, 3.0, 0.5};
	double		X[N * 3],
				X2[N * 2],
				y[N];
	double		v[3] = {1.0, 2.0, -1.0},
				bl[3],
				dot;
	mlx_linreg_fit f,
				fr;
	int			i;

	make_data(X, y, N, 3, beta, 0.2, 10);
	for (i = 0; i < N; i++)
	{
		X[i * 3 + 2] = X[i * 3 + 0] + 2.0 * X[i * 3 + 1];
		X2[i * 2 + 0] = X[i * 3 + 0];
		X2[i * 2 + 1] = X[i * 3 + 1];
	}
	EXPECT_ST(fit_data(X2, y, N, 2, 0.0, true, &fr), MLX_OK);
	EXPECT_ST(fit_data(X, y, N, 3, 0.0, true, &f), MLX_OK);
	if (f.coef == NULL || fr.coef == NULL)
		return;
	bl[0] = fr.coef[1];
	bl[1] = fr.coef[2];
	bl[2] = 0.0;
	dot = (bl[0] * v[0] + bl[1] * v[1] + bl[2] * v[2]) / 6.0;
	for (i = 0; i < 3; i++)
		EXPECT_NEAR(f.coef[i + 1], bl[i] - dot * v[i], 1e-10, "min-norm coef");
	EXPECT(f.rank == 2 && f.ndependent == 1 && f.dependent[0] == 2,
		   "rank %d, dependent %d", f.rank, f.ndependent ? f.dependent[0] : -1);
	EXPECT_REL(f.coef[0], fr.coef[0], 1e-10, "intercept");
	EXPECT_REL(f.rss, fr.rss, 1e-10, "rss");
	fit_free(MC, &f);
	fit_free(MC, &fr);
}

/* fewer rows than features */
static void
test_linreg_underdetermined(void)
{
	enum
	{
	N = 3, K = 5};
	double		X[N * K],
				y[N];
	double		beta[] = {0, 1, 1, 1, 1, 1};
	mlx_linreg_fit f;
	long double G[N * N],
				w[N];
	int			i,
				j,
				l;

	make_data(X, y, N, K, beta, 1.0, 11);
	/* no intercept: min-norm beta = X' (X X')^-1 y */
	for (i = 0; i < N; i++)
	{
		w[i] = y[i];
		for (j = 0; j < N; j++)
		{
			G[i * N + j] = 0;
			for (l = 0; l < K; l++)
				G[i * N + j] += (long double) X[i * K + l] * X[j * K + l];
		}
	}
	gj_solve(G, w, NULL, N);
	EXPECT_ST(fit_data(X, y, N, K, 0.0, false, &f), MLX_OK);
	if (f.coef != NULL)
	{
		for (l = 0; l < K; l++)
		{
			long double b = 0;

			for (i = 0; i < N; i++)
				b += X[i * K + l] * w[i];
			EXPECT_NEAR(f.coef[l + 1], (double) b, 1e-10, "min-norm coef");
		}
		EXPECT(f.rank == N && f.ndependent == K - N, "rank %d ndep %d", f.rank, f.ndependent);
		EXPECT(f.df_resid == 0 && isnan(f.sigma) && isnan(f.adj_r2) && isnan(f.se[1]), "df 0 stats");
		EXPECT(f.rss < 1e-20, "rss %g", f.rss);
	}
	fit_free(MC, &f);
	/* with intercept: interpolates, rank n - 1 */
	EXPECT_ST(fit_data(X, y, N, K, 0.0, true, &f), MLX_OK);
	if (f.coef != NULL)
	{
		EXPECT(f.rank == N - 1 && f.ndependent == K - N + 1, "rank %d", f.rank);
		for (i = 0; i < N; i++)
			EXPECT_NEAR(mlx_linreg_predict(&f, X + i * K), y[i], 1e-10, "interpolation");
		EXPECT(f.df_resid == 0, "df_resid %g", f.df_resid);
	}
	fit_free(MC, &f);
	/* a single row: intercept = y, slopes 0 */
	EXPECT_ST(fit_data(X, y, 1, K, 0.0, true, &f), MLX_OK);
	if (f.coef != NULL)
	{
		EXPECT_NEAR(f.coef[0], y[0], 1e-13, "one-row intercept");
		EXPECT(f.rank == 0 && f.coef[3] == 0.0 && isnan(f.r2) && f.df_resid == 0, "one-row fit");
	}
	fit_free(MC, &f);
}

/* polynomial design x..x^8 on [1,2]: hopeless for normal equations */
static void
test_linreg_ill_conditioned(void)
{
	enum
	{
	N = 200, K = 8};
	static double X[N * K],
				y[N];
	double		c[K + 1] = {1.0, -2.0, 1.5, 0.5, -0.25, 0.125, 0.3, -0.1, 0.05};
	mlx_linreg_fit f;
	double		err = 0.0;
	int			i,
				j;

	for (i = 0; i < N; i++)
	{
		double		x = 1.0 + (double) i / (N - 1);
		double		v = c[0],
					pw = 1.0;

		for (j = 0; j < K; j++)
		{
			pw *= x;
			X[i * K + j] = pw;
			v += c[j + 1] * pw;
		}
		y[i] = v;
	}
	EXPECT_ST(fit_data(X, y, N, K, 0.0, true, &f), MLX_OK);
	if (f.coef == NULL)
		return;
	for (j = 0; j <= K; j++)
		err = fmax(err, fabs(f.coef[j] - c[j]) / fabs(c[j]));
	EXPECT(f.rank == K, "rank %d", f.rank);
	EXPECT(err < 1e-6, "coefficient relative error %g", err);
	/* the same problem by normal equations in double loses far more */
	{
		double		M[(K + 1) * (K + 1)],
					r[K + 1],
					ne_err = 0.0;
		int			a,
					b,
					l;

		memset(M, 0, sizeof(M));
		memset(r, 0, sizeof(r));
		for (i = 0; i < N; i++)
		{
			double		row[K + 1];

			row[0] = 1.0;
			for (j = 0; j < K; j++)
				row[j + 1] = X[i * K + j];
			for (a = 0; a <= K; a++)
			{
				for (b = 0; b <= K; b++)
					M[a * (K + 1) + b] += row[a] * row[b];
				r[a] += row[a] * y[i];
			}
		}
		/* Gaussian elimination with partial pivoting, in double */
		for (j = 0; j <= K; j++)
		{
			int			piv = j;

			for (a = j + 1; a <= K; a++)
				if (fabs(M[a * (K + 1) + j]) > fabs(M[piv * (K + 1) + j]))
					piv = a;
			for (b = 0; b <= K; b++)
			{
				double		t = M[j * (K + 1) + b];

				M[j * (K + 1) + b] = M[piv * (K + 1) + b];
				M[piv * (K + 1) + b] = t;
			}
			{
				double		t = r[j];

				r[j] = r[piv];
				r[piv] = t;
			}
			for (a = j + 1; a <= K; a++)
			{
				double		m = M[a * (K + 1) + j] / M[j * (K + 1) + j];

				for (l = j; l <= K; l++)
					M[a * (K + 1) + l] -= m * M[j * (K + 1) + l];
				r[a] -= m * r[j];
			}
		}
		for (j = K; j >= 0; j--)
		{
			for (l = j + 1; l <= K; l++)
				r[j] -= M[j * (K + 1) + l] * r[l];
			r[j] /= M[j * (K + 1) + j];
		}
		for (j = 0; j <= K; j++)
			ne_err = fmax(ne_err, fabs(r[j] - c[j]) / fabs(c[j]));
		EXPECT(!(ne_err < 1000.0 * err), "normal equations error %g vs QR %g", ne_err, err);
	}
	EXPECT(f.r2 > 1.0 - 1e-12, "r2 %.17g", f.r2);
	fit_free(MC, &f);
}

/* more features: exercises the smaller buffer and the blocked dtpqrt */
static void
test_linreg_wide(void)
{
	enum
	{
	N = 700, K = 300};
	double	   *X = malloc(sizeof(double) * N * K),
			   *y = malloc(sizeof(double) * N),
			   *beta = malloc(sizeof(double) * (K + 1));
	mlx_linreg_state *a = new_state(K, 0.0, true),
			   *b = new_state(K, 0.0, true);
	mlx_linreg_fit f;
	int			j;
	double		err = 0.0;

	rng_seed(12);
	for (j = 0; j <= K; j++)
		beta[j] = rng_norm();
	rng_seed(13);
	for (j = 0; j < N * K; j++)
		X[j] = rng_norm();
	for (j = 0; j < N; j++)
	{
		int			l;

		y[j] = beta[0];
		for (l = 0; l < K; l++)
			y[j] += beta[l + 1] * X[j * K + l];
	}
	EXPECT(a->bufrows < 64, "bufrows %d for %d features", a->bufrows, K);
	add_rows(a, X, y, K, 0, 333);
	add_rows(b, X, y, K, 333, N);
	EXPECT_ST(mlx_linreg_merge(a, b, MC), MLX_OK);
	EXPECT_ST(mlx_linreg_solve(a, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		for (j = 0; j <= K; j++)
			err = fmax(err, fabs(f.coef[j] - beta[j]));
		EXPECT(err < 1e-10, "max coefficient error %g", err);
		EXPECT(f.rank == K && f.df_resid == N - K - 1, "rank %d", f.rank);
	}
	fit_free(MC, &f);
	free(a);
	free(b);
	free(X);
	free(y);
	free(beta);
}

/* ----------------------------------------------- linreg: bad input */

static void
test_linreg_nonfinite(void)
{
	enum
	{
	K = 3};
	mlx_linreg_state *s = new_state(K, 0.0, true),
			   *snap;
	double		x[K] = {1.0, 2.0, 3.0};
	int			bad = 99,
				i;

	for (i = 0; i < 10; i++)
	{
		x[0] = i;
		mlx_linreg_add_row(s, 1.0 + i, x, MC, &bad);
	}
	snap = dup_state(s);
	x[2] = NAN;
	EXPECT_ST(mlx_linreg_add_row(s, 1.0, x, MC, &bad), MLX_ENONFINITE);
	EXPECT(bad == 2, "bad_index %d, want 2", bad);
	x[2] = 3.0;
	x[0] = -INFINITY;
	EXPECT_ST(mlx_linreg_add_row(s, 1.0, x, MC, &bad), MLX_ENONFINITE);
	EXPECT(bad == 0, "bad_index %d, want 0", bad);
	x[0] = 1.0;
	EXPECT_ST(mlx_linreg_add_row(s, INFINITY, x, MC, &bad), MLX_ENONFINITE);
	EXPECT(bad == -1, "bad_index %d, want -1", bad);
	EXPECT_ST(mlx_linreg_add_row(s, NAN, x, MC, NULL), MLX_ENONFINITE);
	EXPECT(mlx_linreg_same_rows(s, snap), "state changed by rejected rows");
	/* with a full buffer as well */
	while (s->nbuf < s->bufrows)
		mlx_linreg_add_row(s, 2.0, x, MC, &bad);
	free(snap);
	snap = dup_state(s);
	x[1] = NAN;
	EXPECT_ST(mlx_linreg_add_row(s, 1.0, x, MC, &bad), MLX_ENONFINITE);
	EXPECT(bad == 1, "bad_index %d, want 1", bad);
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "full state changed by a rejected row");
	free(snap);
	free(s);
}

static void
test_linreg_unaligned(void)
{
	double		beta[] = {1.0, -2.0, 0.5};
	double		X[40 * 2],
				y[40];
	unsigned char raw[1 + 2 * sizeof(double)];
	mlx_linreg_state *s = new_state(2, 0.0, true);
	mlx_linreg_fit f,
				fr;
	int			i,
				bad;

	make_data(X, y, 40, 2, beta, 0.3, 14);
	for (i = 0; i < 40; i++)
	{
		memcpy(raw + 1, X + 2 * i, 2 * sizeof(double));
		EXPECT_ST(mlx_linreg_add_row(s, y[i], raw + 1, MC, &bad), MLX_OK);
	}
	EXPECT_ST(mlx_linreg_solve(s, MC, &f), MLX_OK);
	EXPECT_ST(fit_data(X, y, 40, 2, 0.0, true, &fr), MLX_OK);
	if (f.coef != NULL && fr.coef != NULL)
	{
		EXPECT(fit_diff(&f, &fr) == 0.0, "unaligned rows differ");
		memcpy(raw + 1, X + 10, 2 * sizeof(double));
		EXPECT_NEAR(mlx_linreg_predict(&f, raw + 1),
					f.coef[0] + f.coef[1] * X[10] + f.coef[2] * X[11], 1e-15, "unaligned predict");
	}
	fit_free(MC, &f);
	fit_free(MC, &fr);
	free(s);
}

static void
test_linreg_validate(void)
{
	mlx_linreg_state *s = new_state(4, 0.5, true),
			   *t;
	size_t		sz = state_bytes(s);
	char		err[128];
	double		x[4] = {1, 2, 3, 4};
	int			bad;

	for (bad = 0; bad < 5; bad++)
		mlx_linreg_add_row(s, 1.0, x, MC, &bad);
	EXPECT(mlx_linreg_state_validate(s, sz, err, sizeof(err)) == MLX_OK, "valid state rejected");
	t = malloc(sz + 8);
#define MUTATE(stmt, size, what) \
	do { \
		memcpy(t, s, sz); \
		stmt; \
		err[0] = '\0'; \
		EXPECT(mlx_linreg_state_validate(t, (size), err, sizeof(err)) == MLX_ECORRUPT, \
			   "%s accepted", (what)); \
		EXPECT(err[0] != '\0', "%s: no message", (what)); \
	} while (0)
	MUTATE(t->version = 2, sz, "version 2");
	MUTATE(t->version = 0, sz, "version 0");
	MUTATE((void) 0, sz - 8, "short size");
	MUTATE((void) 0, sz + 8, "long size");
	MUTATE((void) 0, 39, "truncated header");
	MUTATE((void) 0, 0, "empty");
	MUTATE(t->nbuf = t->bufrows + 1, sz, "nbuf > bufrows");
	MUTATE(t->nbuf = -1, sz, "negative nbuf");
	MUTATE(t->nrows = -1, sz, "negative nrows");
	MUTATE(t->nrows = 2, sz, "nrows < nbuf");
	MUTATE(t->nskipped = -3, sz, "negative nskipped");
	MUTATE(t->nfeat = 0, sz, "nfeat 0");
	MUTATE(t->nfeat = MLX_LINREG_MAX_FEATURES + 1, sz, "nfeat too big");
	MUTATE(t->nfeat = 5, sz, "nfeat/size mismatch");
	MUTATE(t->bufrows = t->bufrows - 1, sz, "wrong bufrows");
	MUTATE(t->bufrows = 0, sz, "bufrows 0");
	MUTATE(t->flags = 0x80, sz, "unknown flag");
	MUTATE(t->flags = 0, sz, "intercept flag/size mismatch");
	MUTATE(t->lambda = -1.0, sz, "negative lambda");
	MUTATE(t->lambda = NAN, sz, "NaN lambda");
	MUTATE(t->lambda = INFINITY, sz, "Inf lambda");
	MUTATE(t->reserved = 1, sz, "reserved");
#undef MUTATE
	/* no errbuf is fine */
	t->version = 9;
	EXPECT(mlx_linreg_state_validate(t, sz, NULL, 0) == MLX_ECORRUPT, "NULL errbuf");
	free(t);
	free(s);
}

/* --------------------------------------- linreg: interrupts and ENOMEM */

static void
test_linreg_interrupt(void)
{
	test_alloc	ta;
	mlx_ctx		c = ta_ctx(&ta);
	mlx_linreg_state *s = new_state(2, 0.0, true),
			   *o = new_state(2, 0.0, true),
			   *snap;
	mlx_linreg_fit f;
	double		x[2] = {1.0, 0.0};
	int			bad,
				i;

	for (i = 0; i < 10; i++)
	{
		x[1] = i * i;
		mlx_linreg_add_row(s, i, x, MC, &bad);
		mlx_linreg_add_row(o, -i, x, MC, &bad);
	}
	snap = dup_state(s);
	ta.interrupt = true;
	EXPECT_ST(mlx_linreg_flush(s, &c), MLX_EINTR);
	EXPECT_ST(mlx_linreg_merge(s, o, &c), MLX_EINTR);
	EXPECT_ST(mlx_linreg_solve(s, &c, &f), MLX_EINTR);
	EXPECT(f.coef == NULL, "fit arrays left after EINTR");
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "state changed by interrupted calls");
	/* add_row that has to fold a full buffer */
	ta.interrupt = false;
	while (s->nbuf < s->bufrows)
		EXPECT_ST(mlx_linreg_add_row(s, 1.0, x, &c, &bad), MLX_OK);
	free(snap);
	snap = dup_state(s);
	ta.interrupt = true;
	EXPECT_ST(mlx_linreg_add_row(s, 1.0, x, &c, &bad), MLX_EINTR);
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "state changed by interrupted add_row");
	EXPECT(ta.live == 0, "%ld blocks leaked", ta.live);
	free(snap);
	free(s);
	free(o);
}

/*
 * Make the n-th allocation fail for n = 0, 1, 2, ... until the call
 * succeeds: every failure must be MLX_ENOMEM, leak nothing and leave the
 * state unchanged.
 */
static void
test_linreg_enomem(void)
{
	test_alloc	ta;
	mlx_ctx		c = ta_ctx(&ta);
	double		beta[] = {1.0, 2.0, -1.0, 0.5};
	double		X[300 * 3],
				y[300];
	mlx_linreg_state *s,
			   *o,
			   *snap;
	mlx_linreg_fit f;
	int			n,
				i,
				bad,
				pass;
	mlx_status	st;

	make_data(X, y, 300, 3, beta, 0.1, 15);
	for (i = 0; i < 300; i++)
		X[i * 3 + 2] = X[i * 3 + 1];	/* rank deficient: all solve paths */
	for (pass = 0; pass < 2; pass++)
	{
		double		lam = pass ? 0.3 : 0.0;

		s = new_state(3, lam, true);
		o = new_state(3, lam, true);
		add_rows(s, X, y, 3, 0, 100);
		add_rows(o, X, y, 3, 100, 300);
		snap = dup_state(s);
		for (n = 0; n < 100; n++)
		{
			ta.fail_after = n;
			st = mlx_linreg_solve(s, &c, &f);
			ta.fail_after = -1;
			if (st == MLX_OK)
				break;
			EXPECT_ST(st, MLX_ENOMEM);
			EXPECT(f.coef == NULL && f.dependent == NULL, "arrays left after ENOMEM");
			EXPECT(ta.live == 0, "solve leaked %ld blocks at failure %d", ta.live, n);
		}
		EXPECT(n > 3 && n < 100, "solve never succeeded or never allocated (%d)", n);
		EXPECT(f.coef != NULL && (pass || (f.rank == 2 && f.ndependent == 1)), "fit after retries");
		fit_free(&c, &f);
		EXPECT(ta.live == 0, "fit_free leaked");
		EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "solve changed the state");

		/* merge */
		for (n = 0; n < 100; n++)
		{
			ta.fail_after = n;
			st = mlx_linreg_merge(s, o, &c);
			ta.fail_after = -1;
			if (st == MLX_OK)
				break;
			EXPECT_ST(st, MLX_ENOMEM);
			EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "failed merge changed the state");
			EXPECT(ta.live == 0, "merge leaked");
		}
		EXPECT(n >= 1 && n < 100 && s->nrows == 300, "merge after retries");

		/*
		 * Flush and add_row into a full buffer.  Rows of ordinary scale
		 * fold in place with qrfold.c's kernel where the CPU has it, which
		 * allocates nothing; rows of 1e150 make the kernel decline, and
		 * LAPACK's workspace is then allocated before anything is touched.
		 */
		for (i = 0; i < 2; i++)
		{
			double		huge[3] = {1e150, -1e150, 2e150};
			const double *row = i ? huge : X;
			bool		in_place = i == 0 && qrfold_available();

			while (s->nbuf < s->bufrows)
				mlx_linreg_add_row(s, 1.0, row, MC, &bad);
			free(snap);
			snap = dup_state(s);
			ta.fail_after = 0;
			if (in_place)
				EXPECT_ST(mlx_linreg_flush(s, &c), MLX_OK);
			else
			{
				EXPECT_ST(mlx_linreg_add_row(s, 1.0, row, &c, &bad), MLX_ENOMEM);
				EXPECT_ST(mlx_linreg_flush(s, &c), MLX_ENOMEM);
				EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "failed flush changed the state");
			}
			ta.fail_after = -1;
			EXPECT_ST(mlx_linreg_add_row(s, 1.0, row, &c, &bad), MLX_OK);
			EXPECT(s->nbuf == 1, "nbuf after fold %d", s->nbuf);
			EXPECT(ta.live == 0, "leak after add_row");
		}
		free(snap);
		free(s);
		free(o);
	}
}

/*
 * qrfold.c's kernel against LAPACK's dtpqrt on the same [R; B]: the same
 * reflectors, so the same R to rounding, signs included; tails of m not a
 * multiple of 4, ldb > m, p not a multiple of 4, zero columns, a zero R
 * and a folded one.  Blocks of extreme scale are declined untouched.
 */
static void
test_qrfold_vs_lapack(void)
{
	static const int shapes[][2] = {{1, 1}, {3, 5}, {4, 4}, {5, 7}, {12, 256},
	{12, 255}, {13, 3}, {21, 256}, {33, 64}, {70, 64}};
	int			t;

	if (!qrfold_available())
	{
		/* nothing to compare: the kernel declines everything here */
		double		R = 0.0,
					B = 1.0;

		EXPECT(!mlx_qr_fold_dense(&R, 1, &B, 1, 1) && R == 0.0 && B == 1.0,
			   "declined fold touched its input");
		return;
	}
	for (t = 0; t < (int) (sizeof(shapes) / sizeof(shapes[0])); t++)
	{
		int			p = shapes[t][0],
					m = shapes[t][1],
					ldb = m + 3,
					fold,
					i,
					j;
		double	   *R1 = calloc((size_t) p * p, sizeof(double)),
				   *R2 = calloc((size_t) p * p, sizeof(double)),
				   *B1 = calloc((size_t) ldb * p, sizeof(double)),
				   *B2 = calloc((size_t) ldb * p, sizeof(double)),
				   *tw = calloc((size_t) 2 * p * p, sizeof(double));
		double		err = 0.0,
					scale = 0.0;

		for (fold = 0; fold < 3; fold++)
		{
			for (j = 0; j < p; j++)
				for (i = 0; i < m; i++)
				{
					double		v = (j == p / 2) ? 0.0 : unif() - 0.5;

					if (j == 0)
						v = 1.0;	/* an intercept column */
					B1[i + (size_t) j * ldb] = B2[i + (size_t) j * ldb] = v;
				}
			EXPECT(mlx_qr_fold_dense(R2, p, B2, ldb, m), "kernel declined p=%d m=%d", p, m);
			EXPECT(LAPACKE_dtpqrt_work(LAPACK_COL_MAJOR, m, p, 0, p, R1, p, B1,
									   ldb, tw, p, tw + (size_t) p * p) == 0,
				   "dtpqrt p=%d m=%d", p, m);
		}
		for (j = 0; j < p; j++)
			for (i = 0; i <= j; i++)
			{
				scale = fmax(scale, fabs(R1[i + (size_t) j * p]));
				err = fmax(err, fabs(R1[i + (size_t) j * p] - R2[i + (size_t) j * p]));
			}
		EXPECT(scale > 0 && err <= 1e-12 * scale, "p=%d m=%d: |R - R_lapack| %g of %g",
			   p, m, err, scale);
		free(R1);
		free(R2);
		free(B1);
		free(B2);
		free(tw);
	}

	/* a column of extreme scale: declined, nothing touched */
	{
		double		cases[] = {1e101, 1e-101, 1e300, 5e-324};
		int			c;

		for (c = 0; c < 4; c++)
		{
			double		R[4] = {1.0, 0.0, 0.5, 1.0},
						B[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0},
						R0[4],
						B0[6];

			/* column 1 of [R; B] wholly at the scale */
			R[2] = R[3] = B[3] = B[4] = B[5] = cases[c];
			memcpy(R0, R, sizeof(R));
			memcpy(B0, B, sizeof(B));
			EXPECT(!mlx_qr_fold_dense(R, 2, B, 3, 3), "scale %g taken", cases[c]);
			EXPECT(memcmp(R, R0, sizeof(R)) == 0 && memcmp(B, B0, sizeof(B)) == 0,
				   "declined fold at scale %g touched its input", cases[c]);
		}
	}
}

/*
 * What ml.train's one pass reads off a state with an intercept column:
 * the column means, the fit without intercept (re-factored R) and the
 * residual moments of any coefficients, each against a direct computation
 * over the rows.
 */
static void
test_linreg_one_pass_figures(void)
{
	enum
	{
	N = 700, K = 4};
	double		beta[] = {2.0, 1.0, -2.0, 3.0, 0.5};
	static double X[N * K],
				y[N];
	double		means[K];
	mlx_linreg_state *s = new_state(K, 0.0, true);
	mlx_linreg_state *d = new_state(K, 0.0, false);
	mlx_linreg_state *held = new_state(K, 0.0, true);
	mlx_linreg_fit f,
				ref;
	mlx_regmoments mom;
	char		what[40];

	EXPECT(s != NULL && d != NULL && held != NULL, "allocation");
	if (s == NULL || d == NULL || held == NULL)
		return;
	make_data(X, y, N, K, beta, 0.3, 11);
	for (int i = 0; i < N * K; i++)
		X[i] += 5.0 * (i % K);	/* columns with different means */
	EXPECT_ST(add_rows(s, X, y, K, 0, 500), MLX_OK);
	EXPECT_ST(add_rows(held, X, y, K, 500, N), MLX_OK);

	/* means of the first 500 rows */
	EXPECT_ST(mlx_linreg_means(s, MC, means), MLX_OK);
	for (int j = 0; j < K; j++)
	{
		long double sum = 0;

		for (int i = 0; i < 500; i++)
			sum += X[(size_t) i * K + j];
		snprintf(what, sizeof(what), "mean[%d]", j);
		EXPECT_NEAR(means[j], (double) (sum / 500), 1e-13, what);
	}

	/* no intercept, by re-factoring R, equals fitting the rows directly */
	EXPECT_ST(mlx_linreg_drop_intercept(s, d, MC), MLX_OK);
	EXPECT(d->nrows == 500, "dropped state counts %lld rows", (long long) d->nrows);
	d->lambda = 2.0;
	EXPECT_ST(mlx_linreg_solve(d, MC, &f), MLX_OK);
	EXPECT_ST(fit_data(X, y, 500, K, 2.0, false, &ref), MLX_OK);
	if (f.coef != NULL && ref.coef != NULL)
		for (int j = 0; j <= K; j++)
		{
			snprintf(what, sizeof(what), "no-intercept ridge coef[%d]", j);
			EXPECT_NEAR(f.coef[j], ref.coef[j], 1e-11, what);
		}
	fit_free(MC, &f);
	fit_free(MC, &ref);
	EXPECT_ST(mlx_linreg_drop_intercept(s, d, MC), MLX_EINVAL);	/* not empty */
	EXPECT_ST(mlx_linreg_drop_intercept(d, d, MC), MLX_EINVAL);	/* no intercept */
	EXPECT_ST(mlx_linreg_means(d, MC, means), MLX_EINVAL);

	/* residual moments of the training fit, on training and held-out rows */
	EXPECT_ST(mlx_linreg_solve(s, MC, &f), MLX_OK);
	if (f.coef == NULL)
		return;
	for (int part = 0; part < 2; part++)
	{
		int			lo = part ? 500 : 0,
					hi = part ? N : 500,
					n = hi - lo;
		long double sy = 0,
					se = 0,
					syy = 0,
					see = 0;
		double		my,
					me;

		EXPECT_ST(mlx_linreg_residual_moments(part ? held : s, f.coef, MC, &mom), MLX_OK);
		for (int i = lo; i < hi; i++)
		{
			double		e = y[i] - f.coef[0];

			for (int j = 0; j < K; j++)
				e -= f.coef[j + 1] * X[(size_t) i * K + j];
			sy += y[i];
			se += e;
		}
		my = (double) (sy / n);
		me = (double) (se / n);
		for (int i = lo; i < hi; i++)
		{
			double		e = y[i] - f.coef[0];

			for (int j = 0; j < K; j++)
				e -= f.coef[j + 1] * X[(size_t) i * K + j];
			syy += (y[i] - my) * (y[i] - my);
			see += (e - me) * (e - me);
		}
		EXPECT(mom.n == n, "n %lld", (long long) mom.n);
		EXPECT_NEAR(mom.mean_y, my, 1e-12, part ? "held-out mean y" : "mean y");
		EXPECT_REL(mom.m2_y, (double) syy, 1e-11, part ? "held-out m2 y" : "m2 y");
		EXPECT_NEAR(mom.mean_e, me, 1e-11, part ? "held-out mean e" : "mean e");
		EXPECT_REL(mom.m2_e, (double) see, 1e-9, part ? "held-out m2 e" : "m2 e");
	}
	fit_free(MC, &f);
	EXPECT_ST(mlx_linreg_residual_moments(d, beta, MC, &mom), MLX_EINVAL);
	free(s);
	free(d);
	free(held);
}

int
main(void)
{
	run_case("core_helpers", test_core_helpers);
	run_case("betainc_closed_forms", test_betainc_closed_forms);
	run_case("betainc_symmetry", test_betainc_symmetry);
	run_case("t_cdf_closed_forms", test_t_cdf_closed_forms);
	run_case("t_tiny_pvalues", test_t_tiny_pvalues);
	run_case("tdist_domain", test_tdist_domain);
	run_case("linreg_init_sizes", test_linreg_init_sizes);
	run_case("linreg_no_rows", test_linreg_no_rows);
	run_case("linreg_exact", test_linreg_exact);
	run_case("linreg_noisy_stats", test_linreg_noisy_stats);
	run_case("linreg_no_intercept", test_linreg_no_intercept);
	run_case("linreg_ridge", test_linreg_ridge);
	run_case("linreg_order_and_buffering", test_linreg_order_and_buffering);
	run_case("linreg_merge", test_linreg_merge);
	run_case("linreg_merge_empty_and_mismatch", test_linreg_merge_empty_and_mismatch);
	run_case("linreg_duplicate_column", test_linreg_duplicate_column);
	run_case("linreg_constant_column", test_linreg_constant_column);
	run_case("linreg_linear_combination", test_linreg_linear_combination);
	run_case("linreg_underdetermined", test_linreg_underdetermined);
	run_case("linreg_ill_conditioned", test_linreg_ill_conditioned);
	run_case("linreg_wide", test_linreg_wide);
	run_case("linreg_nonfinite", test_linreg_nonfinite);
	run_case("linreg_unaligned", test_linreg_unaligned);
	run_case("linreg_validate", test_linreg_validate);
	run_case("linreg_interrupt", test_linreg_interrupt);
	run_case("linreg_enomem", test_linreg_enomem);
	run_case("qrfold_vs_lapack", test_qrfold_vs_lapack);
	run_case("linreg_one_pass_figures", test_linreg_one_pass_figures);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
