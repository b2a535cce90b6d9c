/*
 * test_enet.c
 *	  Unit tests of the elastic net and lasso in the numerical core
 *	  (src/core/enet.c).
 *
 * References are independent of the code under test: the optimality (KKT)
 * conditions of the objective, evaluated here in long double straight from
 * the rows; the closed form of ridge regression (l1_ratio = 0) solved here
 * by Gauss-Jordan elimination; ordinary least squares from
 * mlx_linreg_solve (alpha = 0); the smallest alpha that zeroes every
 * coefficient, max |Xc'yc| / (n l1_ratio); the duality gap recomputed from
 * the rows; cases solved by hand; and coefficients computed with
 * scikit-learn 1.2.1.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/enet.h"
#include "core/linreg.h"
#include "core/mlx_core.h"

#include "harness.h"

static const mlx_ctx *MC = &mlx_malloc_ctx;

static mlx_linreg_state *
new_state(int k, double lambda, bool intercept)
{
	mlx_linreg_state *s = malloc(mlx_linreg_state_size(k, intercept));

	if (s == NULL || mlx_linreg_state_init(s, k, lambda, intercept) != MLX_OK)
	{
		free(s);
		return NULL;
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

/* fold rows lo..hi-1 of the row-major X (k columns) and y into s */
static void
add_rows(mlx_linreg_state *s, const double *X, const double *y, int k,
		 int lo, int hi)
{
	int			i,
				bad;

	for (i = lo; i < hi; i++)
		EXPECT_ST(mlx_linreg_add_row(s, y[i], X + (size_t) i * k, MC, &bad), MLX_OK);
}

static mlx_linreg_state *
state_of(const double *X, const double *y, int n, int k)
{
	mlx_linreg_state *s = new_state(k, 0.0, true);

	if (s != NULL)
		add_rows(s, X, y, k, 0, n);
	return s;
}

static void
enet_free(const mlx_ctx *ctx, mlx_enet_fit *f)
{
	mlx_free(ctx, f->coef);
	f->coef = NULL;
}

/* ------------------------------------------------------------- data sets */

#define N 300
#define K 6

static double dx[N * K];
static double dy[N];

/*
 * 300 rows (more than one row buffer: folded and buffered rows) of 6
 * features with neighbouring ones correlated, different scales and means,
 * and y = 3 + X beta + noise with three true zeros in beta.
 */
static void
make_data(uint64_t seed)
{
	static const double scale[K] = {1.0, 2.0, 0.5, 1.0, 3.0, 0.7};
	static const double mean[K] = {0.0, 5.0, -3.0, 10.0, 1.0, -0.5};
	static const double beta[K] = {1.5, 0.0, -2.0, 0.0, 0.5, 0.0};
	int			i,
				j;

	rng_state = seed;
	for (i = 0; i < N; i++)
	{
		double		prev = 0.0;

		dy[i] = 3.0 + 0.5 * gauss();
		for (j = 0; j < K; j++)
		{
			double		z = gauss();

			dx[i * K + j] = mean[j] + scale[j] * (z + 0.6 * prev);
			prev = z;
			dy[i] += beta[j] * dx[i * K + j];
		}
	}
}

/* column means of X (n x k) and mean of y, long double */
static void
means(const double *X, const double *y, int n, int k, long double *xm,
	  long double *ym)
{
	int			i,
				j;

	*ym = 0.0L;
	for (j = 0; j < k; j++)
		xm[j] = 0.0L;
	for (i = 0; i < n; i++)
	{
		*ym += y[i];
		for (j = 0; j < k; j++)
			xm[j] += X[i * k + j];
	}
	*ym /= n;
	for (j = 0; j < k; j++)
		xm[j] /= n;
}

/*
 * Centred residual yc - Xc w into r (n), and the objective
 * 1/(2n) |r|^2 + alpha l1 |w|_1 + alpha (1 - l1)/2 |w|^2.
 */
static long double
objective(const double *X, const double *y, int n, int k, const double *w,
		  double alpha, double l1, long double *r)
{
	long double xm[K + 2],
				ym,
				rr = 0.0L,
				a1 = 0.0L,
				a2 = 0.0L;
	int			i,
				j;

	means(X, y, n, k, xm, &ym);
	for (i = 0; i < n; i++)
	{
		long double v = y[i] - ym;

		for (j = 0; j < k; j++)
			v -= (X[i * k + j] - xm[j]) * w[j];
		r[i] = v;
		rr += v * v;
	}
	for (j = 0; j < k; j++)
	{
		a1 += fabsl((long double) w[j]);
		a2 += (long double) w[j] * w[j];
	}
	return rr / (2 * n) + alpha * l1 * a1 + alpha * (1.0 - l1) / 2 * a2;
}

/*
 * The optimality conditions of the objective at the fitted slopes, from
 * the rows: with g_j = (1/n) Xc_j'(yc - Xc w) - alpha (1 - l1) w_j,
 * g_j = alpha l1 sign(w_j) when w_j != 0 and |g_j| <= alpha l1 otherwise.
 * Also the intercept, R^2 and the count of nonzero slopes.
 */
static void
check_kkt(const mlx_enet_fit *f, const double *X, const double *y, int n,
		  int k, double alpha, double l1, double tol)
{
	long double *r = malloc(sizeof(long double) * n);
	long double xm[K + 2],
				ym,
				b0,
				rr = 0.0L,
				tt = 0.0L;
	const double *w = f->coef + 1;
	int			i,
				j,
				nz = 0;

	means(X, y, n, k, xm, &ym);
	objective(X, y, n, k, w, alpha, l1, r);
	for (j = 0; j < k; j++)
	{
		long double g = 0.0L;

		for (i = 0; i < n; i++)
			g += (X[i * k + j] - xm[j]) * r[i];
		g = g / n - alpha * (1.0 - l1) * w[j];
		if (w[j] != 0.0)
		{
			nz++;
			EXPECT(fabsl(g - alpha * l1 * (w[j] > 0 ? 1 : -1)) <= tol,
				   "alpha %g l1 %g: w[%d] = %g but g = %.17Lg", alpha, l1, j, w[j], g);
		}
		else
			EXPECT(fabsl(g) <= alpha * l1 + tol,
				   "alpha %g l1 %g: w[%d] = 0 but |g| = %.17Lg", alpha, l1, j, fabsl(g));
	}
	b0 = ym;
	for (j = 0; j < k; j++)
		b0 -= xm[j] * w[j];
	EXPECT_NEAR(f->coef[0], (double) b0, 1e-10, "intercept");
	for (i = 0; i < n; i++)
	{
		rr += r[i] * r[i];
		tt += (y[i] - ym) * (y[i] - ym);
	}
	EXPECT_NEAR(f->r2, (double) (1.0L - rr / tt), 1e-11, "r2");
	EXPECT(f->nonzero == nz, "nonzero %d, counted %d", f->nonzero, nz);
	EXPECT(f->nfeat == k && f->nrows == n && f->intercept &&
		   f->alpha == alpha && f->l1_ratio == l1, "fit header");
	free(r);
}

/*
 * scikit-learn's duality gap (divided by n, as its dual_gap_) recomputed
 * from the rows: the residual scaled into the dual feasible set.
 */
static double
reference_gap(const double *X, const double *y, int n, int k, const double *w,
			  double alpha, double l1)
{
	long double *r = malloc(sizeof(long double) * n);
	long double xm[K + 2],
				ym,
				la = (long double) n * alpha * l1,
				lb = (long double) n * alpha * (1.0 - l1),
				dual = 0.0L,
				rr = 0.0L,
				yr = 0.0L,
				a1 = 0.0L,
				a2 = 0.0L,
				c,
				gap;
	int			i,
				j;

	means(X, y, n, k, xm, &ym);
	objective(X, y, n, k, w, alpha, l1, r);
	for (j = 0; j < k; j++)
	{
		long double g = 0.0L;

		for (i = 0; i < n; i++)
			g += (X[i * k + j] - xm[j]) * r[i];
		dual = fmaxl(dual, fabsl(g - lb * w[j]));
		a1 += fabsl((long double) w[j]);
		a2 += (long double) w[j] * w[j];
	}
	for (i = 0; i < n; i++)
	{
		rr += r[i] * r[i];
		yr += (y[i] - ym) * r[i];
	}
	c = (dual > la) ? la / dual : 1.0L;
	/* primal minus dual objective, both times n */
	gap = 0.5L * rr * (1 + c * c) + la * a1 - c * yr + 0.5L * lb * (1 + c * c) * a2;
	free(r);
	return (double) (gap / n);
}

/*
 * Solve the k x k system A x = b (row-major, long double, Gauss-Jordan with
 * partial pivoting); A and b are destroyed.  false when singular.
 */
static bool
gj_solve(long double *A, long double *b, int k)
{
	int			i,
				r,
				j;

	for (i = 0; i < k; i++)
	{
		int			piv = i;

		for (r = i + 1; r < k; r++)
			if (fabsl(A[r * k + i]) > fabsl(A[piv * k + i]))
				piv = r;
		if (A[piv * k + i] == 0.0L)
			return false;
		for (j = 0; j < k; j++)
		{
			long double t = A[i * k + j];

			A[i * k + j] = A[piv * k + j];
			A[piv * k + j] = t;
		}
		{
			long double t = b[i];

			b[i] = b[piv];
			b[piv] = t;
		}
		for (r = 0; r < k; r++)
		{
			long double m;

			if (r == i)
				continue;
			m = A[r * k + i] / A[i * k + i];
			for (j = i; j < k; j++)
				A[r * k + j] -= m * A[i * k + j];
			b[r] -= m * b[i];
		}
	}
	for (i = 0; i < k; i++)
		b[i] /= A[i * k + i];
	return true;
}

/* ---------------------------------------------------------------- cases */

/* the optimality conditions hold at convergence, lasso to ridge-like */
static void
t_kkt(void)
{
	static const double alphas[] = {0.01, 0.1, 0.3, 1.0, 0.05};
	static const double l1s[] = {1.0, 0.5, 0.9, 0.2, 0.01};
	mlx_linreg_state *s,
			   *snap;
	mlx_enet_fit f;
	size_t		a;
	bool		some_zero = false;

	make_data(2024);
	s = state_of(dx, dy, N, K);
	EXPECT(s->nbuf > 0 && s->nrows > s->nbuf, "want folded and buffered rows");
	snap = dup_state(s);
	for (a = 0; a < sizeof(alphas) / sizeof(alphas[0]); a++)
	{
		EXPECT_ST(mlx_enet_from_state(s, alphas[a], l1s[a], 100000, 1e-12, MC, &f),
				  MLX_OK);
		if (f.coef == NULL)
			continue;
		EXPECT(f.converged && f.iterations < 100000, "alpha %g: %d sweeps, converged %d",
			   alphas[a], f.iterations, f.converged);
		EXPECT(f.dual_gap <= 1e-12 * 250.0, "gap %g", f.dual_gap);
		check_kkt(&f, dx, dy, N, K, alphas[a], l1s[a], 1e-8);
		some_zero |= (f.nonzero < K && f.nonzero > 0);
		enet_free(MC, &f);
	}
	EXPECT(some_zero, "no fit with both zero and nonzero slopes: a weak test");
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "the state was modified");
	free(s);
	free(snap);
}

/*
 * scikit-learn's tolerance: a loose tol stops early with a gap below
 * tol |yc|^2 / n; that gap is the one recomputed from the rows, and it
 * bounds how far the objective is above the optimum (a tight fit).
 */
static void
t_gap(void)
{
	mlx_linreg_state *s;
	mlx_enet_fit loose,
				tight;
	long double *r = malloc(sizeof(long double) * N);
	long double ym,
				xm[K],
				yy = 0.0L;
	double		tol = 1e-3,
				alpha = 0.02,
				l1 = 0.8;
	int			i;

	make_data(77);
	means(dx, dy, N, K, xm, &ym);
	for (i = 0; i < N; i++)
		yy += (dy[i] - ym) * (dy[i] - ym);
	s = state_of(dx, dy, N, K);
	EXPECT_ST(mlx_enet_from_state(s, alpha, l1, 1000, tol, MC, &loose), MLX_OK);
	EXPECT_ST(mlx_enet_from_state(s, alpha, l1, 100000, 1e-13, MC, &tight), MLX_OK);
	if (loose.coef != NULL && tight.coef != NULL)
	{
		double		ref = reference_gap(dx, dy, N, K, loose.coef + 1, alpha, l1);
		long double pl = objective(dx, dy, N, K, loose.coef + 1, alpha, l1, r);
		long double pt = objective(dx, dy, N, K, tight.coef + 1, alpha, l1, r);

		EXPECT(loose.converged, "loose fit did not converge");
		EXPECT(loose.iterations < tight.iterations, "loose %d sweeps, tight %d",
			   loose.iterations, tight.iterations);
		EXPECT(loose.dual_gap <= tol * yy / N, "gap %g above tol |yc|^2 / n = %Lg",
			   loose.dual_gap, tol * yy / N);
		EXPECT(loose.dual_gap > 0.0, "gap %g of an unfinished fit", loose.dual_gap);
		EXPECT(fabs(loose.dual_gap - ref) <= 1e-12 * (double) (yy / N),
			   "gap %.17g, from the rows %.17g", loose.dual_gap, ref);
		EXPECT(pl - pt >= -1e-14L && pl - pt <= loose.dual_gap + 1e-14,
			   "objective excess %Lg, gap %g", pl - pt, loose.dual_gap);
		EXPECT(fabs(reference_gap(dx, dy, N, K, tight.coef + 1, alpha, l1)) <=
			   1e-13 * (double) (yy / N), "tight gap");
	}
	enet_free(MC, &loose);
	enet_free(MC, &tight);
	free(s);
	free(r);
}

/* l1_ratio = 0: (Xc'Xc + n alpha I) w = Xc'yc */
static void
t_ridge(void)
{
	static const double alphas[] = {0.7, 0.01, 20.0};
	long double A[K * K],
				b[K],
				xm[K],
				ym;
	mlx_linreg_state *s;
	mlx_enet_fit f;
	size_t		a;
	int			i,
				j,
				l;

	make_data(5);
	means(dx, dy, N, K, xm, &ym);
	s = state_of(dx, dy, N, K);
	for (a = 0; a < sizeof(alphas) / sizeof(alphas[0]); a++)
	{
		for (j = 0; j < K; j++)
		{
			b[j] = 0.0L;
			for (l = 0; l < K; l++)
				A[j * K + l] = (j == l) ? (long double) N * alphas[a] : 0.0L;
			for (i = 0; i < N; i++)
			{
				b[j] += (dx[i * K + j] - xm[j]) * (dy[i] - ym);
				for (l = 0; l < K; l++)
					A[j * K + l] += (dx[i * K + j] - xm[j]) * (dx[i * K + l] - xm[l]);
			}
		}
		EXPECT(gj_solve(A, b, K), "singular");
		EXPECT_ST(mlx_enet_from_state(s, alphas[a], 0.0, 20000, 1e-10, MC, &f), MLX_OK);
		if (f.coef == NULL)
			continue;
		for (j = 0; j < K; j++)
			EXPECT_NEAR(f.coef[j + 1], (double) b[j], 1e-10, "ridge slope");
		EXPECT(f.nonzero == K, "ridge with zero slopes");
		/* no L1 part: converged by the coefficient steps, not max_iter */
		EXPECT(f.converged && f.iterations < 20000, "ridge: converged %d after %d sweeps",
			   f.converged, f.iterations);
		check_kkt(&f, dx, dy, N, K, alphas[a], 0.0, 1e-9);
		enet_free(MC, &f);
	}
	free(s);
}

/*
 * alpha_max = max |Xc'yc| / (n l1_ratio) is the smallest alpha with all
 * slopes 0: above it the fit is the mean of y; just below, exactly the
 * feature of largest |Xc_j'yc| enters (for the lasso).
 */
static void
t_alpha_max(void)
{
	long double xm[K],
				ym;
	mlx_linreg_state *s;
	mlx_enet_fit f;
	double		amax = 0.0;
	int			i,
				j,
				jmax = -1;

	make_data(99);
	means(dx, dy, N, K, xm, &ym);
	for (j = 0; j < K; j++)
	{
		long double g = 0.0L;

		for (i = 0; i < N; i++)
			g += (dx[i * K + j] - xm[j]) * (dy[i] - ym);
		if (fabsl(g) / N > amax)
		{
			amax = (double) (fabsl(g) / N);
			jmax = j;
		}
	}
	s = state_of(dx, dy, N, K);

	EXPECT_ST(mlx_enet_from_state(s, amax * 1.001, 1.0, 1000, 1e-4, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		for (j = 1; j <= K; j++)
			EXPECT(f.coef[j] == 0.0, "slope %d = %g above alpha_max", j, f.coef[j]);
		EXPECT_REL(f.coef[0], (double) ym, 1e-13, "intercept is mean(y)");
		EXPECT(f.nonzero == 0 && f.converged && f.iterations == 1,
			   "nonzero %d converged %d sweeps %d", f.nonzero, f.converged, f.iterations);
		EXPECT(fabs(f.r2) < 1e-14, "r2 %g", f.r2);
		EXPECT(fabs(f.dual_gap) < 1e-12, "gap %g", f.dual_gap);
	}
	enet_free(MC, &f);
	/* elastic net: alpha_max scales with 1 / l1_ratio */
	EXPECT_ST(mlx_enet_from_state(s, amax / 0.25 * 1.001, 0.25, 1000, 1e-4, MC, &f),
			  MLX_OK);
	EXPECT(f.coef != NULL && f.nonzero == 0, "elastic net above alpha_max");
	enet_free(MC, &f);
	EXPECT_ST(mlx_enet_from_state(s, amax * 0.999, 1.0, 1000, 1e-10, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		EXPECT(f.nonzero == 1 && f.coef[jmax + 1] != 0.0,
			   "nonzero %d below alpha_max, expected feature %d", f.nonzero, jmax);
		check_kkt(&f, dx, dy, N, K, amax * 0.999, 1.0, 1e-9);
	}
	enet_free(MC, &f);
	free(s);
}

/* alpha = 0 on well-conditioned data: ordinary least squares */
static void
t_ols(void)
{
	mlx_linreg_state *s;
	mlx_linreg_fit ols;
	mlx_enet_fit f;
	int			j;

	make_data(31);
	s = state_of(dx, dy, N, K);
	EXPECT_ST(mlx_linreg_solve(s, MC, &ols), MLX_OK);
	EXPECT_ST(mlx_enet_from_state(s, 0.0, 1.0, 5000, 1e-12, MC, &f), MLX_OK);
	if (f.coef != NULL && ols.coef != NULL)
	{
		for (j = 0; j <= K; j++)
			EXPECT_NEAR(f.coef[j], ols.coef[j], 1e-9, "OLS coefficient");
		EXPECT_NEAR(f.r2, ols.r2, 1e-12, "r2");
		EXPECT(f.nonzero == K, "nonzero %d", f.nonzero);
		check_kkt(&f, dx, dy, N, K, 0.0, 1.0, 1e-9);
	}
	enet_free(MC, &f);
	mlx_free(MC, ols.coef);
	mlx_free(MC, ols.se);
	mlx_free(MC, ols.tval);
	mlx_free(MC, ols.pval);
	mlx_free(MC, ols.dependent);
	free(s);
}

/*
 * By hand.  x1 = 1..5 (centred -2..2, |x1c|^2 = 10), x2 centred and
 * orthogonal to it, y = 2 x1 + 0.1 x2: each coordinate is solved alone.
 * Lasso alpha 1: w1 = (Xc1'yc/n - 1) / (|x1c|^2/n) = (4 - 1) / 2 = 1.5,
 * w2 = 0 since |Xc2'yc|/n = 0.2 < 1, intercept 6 - 3 * 1.5 = 1.5,
 * RSS = 0.25 * 10 + 0.01 * 10 = 2.6, TSS = 40.1.  With x1 alone and
 * l1_ratio 0.5: w1 = (4 - 0.5) / (2 + 0.5) = 1.4, intercept 1.8.
 * scikit-learn 1.2.1 gives the same, in 2 sweeps.
 */
static void
t_known_case(void)
{
	static const double X[] = {1, -1, 2, 2, 3, 0, 4, -2, 5, 1};
	double		y[5],
				x1[5];
	mlx_linreg_state *s,
			   *s1;
	mlx_enet_fit f;
	int			i;

	for (i = 0; i < 5; i++)
	{
		y[i] = 2.0 * X[i * 2] + 0.1 * X[i * 2 + 1];
		x1[i] = X[i * 2];
	}
	s = state_of(X, y, 5, 2);
	EXPECT_ST(mlx_enet_from_state(s, 1.0, 1.0, 1000, 1e-4, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		EXPECT_NEAR(f.coef[1], 1.5, 1e-14, "w1");
		EXPECT(f.coef[2] == 0.0, "w2 = %g", f.coef[2]);
		EXPECT_NEAR(f.coef[0], 1.5, 1e-14, "intercept");
		EXPECT_NEAR(f.r2, 1.0 - 2.6 / 40.1, 1e-14, "r2");
		EXPECT(f.nonzero == 1 && f.converged && f.iterations == 2,
			   "nonzero %d converged %d sweeps %d", f.nonzero, f.converged, f.iterations);
		EXPECT(fabs(f.dual_gap) < 1e-14, "gap %g", f.dual_gap);
	}
	enet_free(MC, &f);
	for (i = 0; i < 5; i++)
		y[i] = 2.0 * x1[i];
	s1 = state_of(x1, y, 5, 1);
	EXPECT_ST(mlx_enet_from_state(s1, 1.0, 0.5, 1000, 1e-4, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		EXPECT_NEAR(f.coef[1], 1.4, 1e-14, "w1");
		EXPECT_NEAR(f.coef[0], 1.8, 1e-14, "intercept");
		EXPECT_NEAR(f.r2, 1.0 - 0.36 * 10.0 / 40.0, 1e-14, "r2");
	}
	enet_free(MC, &f);
	free(s);
	free(s1);
}

/*
 * make_data(2024) fitted by scikit-learn 1.2.1:
 * ElasticNet(alpha=0.1, l1_ratio=0.7, tol=1e-12, max_iter=100000), and
 * the default tol=1e-4 with precompute=True (its Gram solver), which
 * stopped after 10 sweeps (n_iter_) with dual_gap_ 1.2624681677247e-4.
 */
static void
t_sklearn(void)
{
	static const double ref[K + 1] = {
		4.5032256602464535, 1.432204430275925, 0.0, -1.612691080524544,
		-0.03282952708589026, 0.4961187415743257, 0.0
	};
	static const int ref_iter = 10;
	static const double ref_gap = 0.00012624681677247433;
	mlx_linreg_state *s;
	mlx_enet_fit f;
	int			j;

	make_data(2024);
	s = state_of(dx, dy, N, K);
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.7, 100000, 1e-12, MC, &f), MLX_OK);
	if (f.coef != NULL)
		for (j = 0; j <= K; j++)
			EXPECT_NEAR(f.coef[j], ref[j], 1e-9, "coefficient");
	enet_free(MC, &f);
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.7, 1000, 1e-4, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		EXPECT(f.iterations == ref_iter && f.converged, "%d sweeps, sklearn %d",
			   f.iterations, ref_iter);
		EXPECT_REL(f.dual_gap, ref_gap, 1e-6, "dual gap");
	}
	enet_free(MC, &f);
	free(s);
}

/*
 * A constant feature (any size) has coefficient exactly 0 and leaves the
 * others as they are without it, even for alpha = 0 where nothing would
 * shrink a rounding residue.  A constant y: all slopes 0 at once.
 */
static void
t_constants(void)
{
	static const double consts[] = {4.0, 1e6, -3e-4, 0.0};
	static const double alphas[] = {0.1, 0.0};
	double		X[N * (K + 1)],
				yc[N];
	mlx_linreg_state *s0,
			   *s;
	mlx_enet_fit f0,
				f;
	size_t		ci,
				a;
	int			i,
				j;

	make_data(3);
	s0 = state_of(dx, dy, N, K);
	for (a = 0; a < 2; a++)
	{
		EXPECT_ST(mlx_enet_from_state(s0, alphas[a], 0.5, 3000, 1e-12, MC, &f0), MLX_OK);
		for (ci = 0; ci < sizeof(consts) / sizeof(consts[0]) && f0.coef != NULL; ci++)
		{
			for (i = 0; i < N; i++)
				for (j = 0; j <= K; j++)
					X[i * (K + 1) + j] = (j == 2) ? consts[ci] :
						dx[i * K + j - (j > 2)];
			s = state_of(X, dy, N, K + 1);
			EXPECT_ST(mlx_enet_from_state(s, alphas[a], 0.5, 3000, 1e-12, MC, &f), MLX_OK);
			free(s);
			if (f.coef == NULL)
				continue;
			EXPECT(f.coef[3] == 0.0, "constant %g has slope %g (alpha %g)", consts[ci],
				   f.coef[3], alphas[a]);
			for (j = 0; j <= K + 1; j++)
				if (j != 3)
					EXPECT_NEAR(f.coef[j], f0.coef[j - (j > 3)], 1e-9, "coefficient");
			EXPECT(f.nonzero == f0.nonzero, "nonzero %d vs %d", f.nonzero, f0.nonzero);
			enet_free(MC, &f);
		}
		enet_free(MC, &f0);
	}
	free(s0);

	for (i = 0; i < N; i++)
		yc[i] = -2.5;
	s = state_of(dx, yc, N, K);
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, 1000, 1e-4, MC, &f), MLX_OK);
	if (f.coef != NULL)
	{
		for (j = 1; j <= K; j++)
			EXPECT(f.coef[j] == 0.0, "slope %d = %g for a constant y", j, f.coef[j]);
		EXPECT_NEAR(f.coef[0], -2.5, 1e-14, "intercept");
		EXPECT(isnan(f.r2), "r2 %g for a constant y", f.r2);
		EXPECT(f.converged && f.iterations == 1 && f.dual_gap == 0.0,
			   "constant y: converged %d in %d sweeps, gap %g", f.converged,
			   f.iterations, f.dual_gap);
	}
	enet_free(MC, &f);
	free(s);
}

/* one row: nothing to fit, the intercept is the row's y */
static void
t_one_row(void)
{
	static const double x[2] = {1.0, -7.0};
	double		y = 4.25;
	mlx_linreg_state *s = state_of(x, &y, 1, 2);
	mlx_enet_fit f;

	EXPECT_ST(mlx_enet_from_state(s, 0.5, 0.5, 100, 1e-4, MC, &f), MLX_OK);
	if (f.coef != NULL)
		EXPECT(f.coef[0] == 4.25 && f.coef[1] == 0.0 && f.coef[2] == 0.0 &&
			   f.nonzero == 0 && f.converged && isnan(f.r2),
			   "one row: %g %g %g", f.coef[0], f.coef[1], f.coef[2]);
	enet_free(MC, &f);
	free(s);
}

/* two partial states merged (TSQR) give the fit of one state of all rows */
static void
t_merge(void)
{
	mlx_linreg_state *all,
			   *a,
			   *b;
	mlx_enet_fit f,
				g;
	int			j;

	make_data(4);
	all = state_of(dx, dy, N, K);
	a = new_state(K, 0.0, true);
	b = new_state(K, 0.0, true);
	add_rows(a, dx, dy, K, 0, 100);
	add_rows(b, dx, dy, K, 100, N);
	EXPECT_ST(mlx_linreg_merge(b, a, MC), MLX_OK);
	EXPECT_ST(mlx_enet_from_state(all, 0.05, 0.6, 100000, 1e-12, MC, &f), MLX_OK);
	EXPECT_ST(mlx_enet_from_state(b, 0.05, 0.6, 100000, 1e-12, MC, &g), MLX_OK);
	if (f.coef != NULL && g.coef != NULL)
	{
		for (j = 0; j <= K; j++)
			EXPECT_NEAR(g.coef[j], f.coef[j], 1e-10, "coefficient");
		EXPECT(g.nonzero == f.nonzero && g.nrows == N, "nonzero/nrows");
		check_kkt(&g, dx, dy, N, K, 0.05, 0.6, 1e-8);
	}
	enet_free(MC, &f);
	enet_free(MC, &g);
	free(all);
	free(a);
	free(b);
}

static void
t_errors(void)
{
	static const double bad_alpha[] = {-0.1, NAN, INFINITY, -INFINITY};
	static const double bad_l1[] = {-0.01, 1.01, NAN, INFINITY};
	static const double bad_tol[] = {0.0, -1e-4, NAN, INFINITY};
	double		x[2] = {1.0, 2.0};
	mlx_linreg_state *noint = new_state(2, 0.0, false),
			   *ridge = new_state(2, 0.5, true),
			   *s = new_state(2, 0.0, true);
	mlx_enet_fit f;
	size_t		i;
	int			bad;

	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, 100, 1e-4, MC, &f), MLX_EINVAL);
	EXPECT(f.coef == NULL, "coef after EINVAL");
	for (i = 0; i < 4; i++)
	{
		x[0] = i;
		mlx_linreg_add_row(noint, i * 0.5, x, MC, &bad);
		mlx_linreg_add_row(ridge, i * 0.5, x, MC, &bad);
		mlx_linreg_add_row(s, i * 0.5, x, MC, &bad);
	}
	EXPECT_ST(mlx_enet_from_state(noint, 0.1, 0.5, 100, 1e-4, MC, &f), MLX_EINVAL);
	EXPECT_ST(mlx_enet_from_state(ridge, 0.1, 0.5, 100, 1e-4, MC, &f), MLX_EINVAL);
	for (i = 0; i < 4; i++)
	{
		EXPECT_ST(mlx_enet_from_state(s, bad_alpha[i], 0.5, 100, 1e-4, MC, &f), MLX_EINVAL);
		EXPECT_ST(mlx_enet_from_state(s, 0.1, bad_l1[i], 100, 1e-4, MC, &f), MLX_EINVAL);
		EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, 100, bad_tol[i], MC, &f), MLX_EINVAL);
	}
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, 0, 1e-4, MC, &f), MLX_EINVAL);
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, -3, 1e-4, MC, &f), MLX_EINVAL);
	EXPECT(f.coef == NULL && f.nrows == 4, "fit after EINVAL");
	/* the edges of the ranges are valid, and a huge alpha does not overflow */
	EXPECT_ST(mlx_enet_from_state(s, 0.0, 0.0, 1, 1e-4, MC, &f), MLX_OK);
	enet_free(MC, &f);
	EXPECT_ST(mlx_enet_from_state(s, DBL_MAX, 1.0, 1, 1e-4, MC, &f), MLX_OK);
	EXPECT(f.coef != NULL && f.nonzero == 0 && f.converged && isfinite(f.dual_gap),
		   "alpha DBL_MAX");
	enet_free(MC, &f);
	EXPECT_ST(mlx_enet_from_state(s, DBL_MAX, 0.5, 1, 1e-4, MC, &f), MLX_OK);
	EXPECT(f.coef != NULL && f.nonzero == 0 && isfinite(f.dual_gap), "alpha DBL_MAX, l1 0.5");
	enet_free(MC, &f);
	free(noint);
	free(ridge);
	free(s);
}

/* interrupted at every poll in turn, and failing every allocation in turn */
static void
t_interrupt_enomem(void)
{
	test_alloc	ta;
	mlx_ctx		c = ta_ctx(&ta);
	mlx_linreg_state *s,
			   *snap;
	mlx_enet_fit f,
				ref;
	mlx_status	st;
	long		n,
				npoll;

	make_data(8);
	s = state_of(dx, dy, N, K);
	snap = dup_state(s);
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, 1000, 1e-6, MC, &ref), MLX_OK);
	/* one poll in copy_r, one per Gram column, one per sweep */
	ta.polls = 0;
	EXPECT_ST(mlx_enet_from_state(s, 0.1, 0.5, 1000, 1e-6, &c, &f), MLX_OK);
	npoll = ta.polls;
	EXPECT(ref.coef != NULL && npoll == 1 + K + ref.iterations, "%ld polls, %d sweeps",
		   npoll, ref.iterations);
	enet_free(&c, &f);
	for (n = 0; n < npoll; n++)
	{
		ta.polls = 0;
		ta.interrupt_after = n;
		st = mlx_enet_from_state(s, 0.1, 0.5, 1000, 1e-6, &c, &f);
		ta.interrupt_after = -1;
		EXPECT_ST(st, MLX_EINTR);
		EXPECT(f.coef == NULL, "coef after EINTR");
		EXPECT(ta.live == 0, "%ld blocks live after poll %ld", ta.live, n);
	}

	for (n = 0; n < 20; n++)
	{
		ta.fail_after = n;
		st = mlx_enet_from_state(s, 0.1, 0.5, 1000, 1e-6, &c, &f);
		ta.fail_after = -1;
		if (st == MLX_OK)
			break;
		EXPECT_ST(st, MLX_ENOMEM);
		EXPECT(f.coef == NULL, "coef after ENOMEM");
		EXPECT(ta.live == 0, "%ld blocks leaked failing allocation %ld", ta.live, n);
	}
	EXPECT(n >= 3 && n < 20, "allocated %ld times", n);
	if (st == MLX_OK && ref.coef != NULL)
		EXPECT(memcmp(f.coef, ref.coef, (K + 1) * sizeof(double)) == 0,
			   "result after retries differs");
	enet_free(&c, &f);
	EXPECT(ta.live == 0, "%ld blocks leaked", ta.live);
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "the state was modified");
	enet_free(MC, &ref);
	free(s);
	free(snap);
}

int
main(void)
{
	run_case("enet_kkt_conditions", t_kkt);
	run_case("enet_duality_gap_and_tol", t_gap);
	run_case("enet_l1_ratio_0_is_ridge", t_ridge);
	run_case("enet_alpha_max_all_zero", t_alpha_max);
	run_case("enet_alpha_0_is_ols", t_ols);
	run_case("enet_known_case", t_known_case);
	run_case("enet_vs_sklearn", t_sklearn);
	run_case("enet_constant_feature_and_y", t_constants);
	run_case("enet_one_row", t_one_row);
	run_case("enet_merged_states", t_merge);
	run_case("enet_errors", t_errors);
	run_case("enet_interrupt_and_enomem", t_interrupt_enomem);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
