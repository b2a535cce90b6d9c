/*
 * test_pca.c
 *	  Unit tests of principal component analysis in the numerical core
 *	  (src/core/pca.c) and of the flushed copy of R it is computed from
 *	  (mlx_linreg_copy_r).
 *
 * References are independent of the code under test: means and the sample
 * covariance matrix computed here in long double straight from the rows,
 * against which every component must be a unit eigenvector with its
 * explained variance as eigenvalue; a data set whose components and
 * variances are known in closed form; and projections computed here.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/linreg.h"
#include "core/mlx_core.h"
#include "core/pca.h"

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

/* fold rows lo..hi-1 of the row-major n x k X into s, with y = 0 */
static void
add_rows(mlx_linreg_state *s, const double *X, int k, int lo, int hi)
{
	int			i,
				bad;

	for (i = lo; i < hi; i++)
		EXPECT_ST(mlx_linreg_add_row(s, 0.0, X + (size_t) i * k, MC, &bad), MLX_OK);
}

static void
pca_free(const mlx_ctx *ctx, mlx_pca_fit *f)
{
	mlx_free(ctx, f->mean);
	mlx_free(ctx, f->components);
	mlx_free(ctx, f->explained_variance);
	mlx_free(ctx, f->explained_variance_ratio);
	mlx_free(ctx, f->singular_values);
	memset(f, 0, sizeof(*f));
}

static bool
pca_arrays_null(const mlx_pca_fit *f)
{
	return f->mean == NULL && f->components == NULL &&
		f->explained_variance == NULL && f->explained_variance_ratio == NULL &&
		f->singular_values == NULL;
}

/* ------------------------------------------------------------- data sets */

#define MAXN 400
#define MAXK 8

static double data[MAXN * MAXK];

/*
 * n rows of k correlated features: independent normals of decreasing
 * scale, mixed by a fixed full matrix (so the axes are not the coordinate
 * ones and the variances distinct), plus means of very different sizes.
 */
static void
make_data(int n, int k, uint64_t seed)
{
	static const double scale[MAXK] = {3.0, 2.0, 1.3, 0.7, 0.3, 0.15, 0.08, 0.03};
	static const double means[MAXK] = {10.0, -5.0, 0.5, 100.0, -2.0, 1e3, 0.0, 7.0};
	double		z[MAXK];
	int			i,
				j,
				l;

	rng_state = seed;
	for (i = 0; i < n; i++)
	{
		for (l = 0; l < k; l++)
			z[l] = scale[l] * gauss();
		for (j = 0; j < k; j++)
		{
			double		v = means[j];

			for (l = 0; l < k; l++)
				v += (1.0 + 0.37 * ((j * 5 + l * 3) % 7) - (j == l ? 0.0 : 1.1)) * z[l];
			data[(size_t) i * k + j] = v;
		}
	}
}

/* means and the sample covariance matrix (n - 1), in long double */
static void
reference_cov(const double *X, int n, int k, long double *mean, long double *C)
{
	int			i,
				j,
				l;

	for (j = 0; j < k; j++)
	{
		mean[j] = 0.0L;
		for (i = 0; i < n; i++)
			mean[j] += X[(size_t) i * k + j];
		mean[j] /= n;
	}
	for (j = 0; j < k; j++)
		for (l = 0; l < k; l++)
		{
			long double v = 0.0L;

			for (i = 0; i < n; i++)
				v += (X[(size_t) i * k + j] - mean[j]) * (X[(size_t) i * k + l] - mean[l]);
			C[j * k + l] = v / (n - 1);
		}
}

/* the sign rule: the first entry of largest |value| is positive */
static bool
sign_rule_holds(const double *v, int k)
{
	int			j,
				jmax = 0;

	for (j = 1; j < k; j++)
		if (fabs(v[j]) > fabs(v[jmax]))
			jmax = j;
	return v[jmax] > 0.0;
}

/*
 * Check a fit of the n x k rows in X against the covariance computed
 * here: means, total variance = trace(C), each component a unit
 * eigenvector of C with its explained variance as eigenvalue, orthogonal to
 * the others, the sign rule, the variances non-increasing and consistent
 * with the singular values and ratios.  tol is relative to the largest
 * variance.
 */
static void
check_against_cov(const mlx_pca_fit *f, const double *X, int n, int k,
				  double tol)
{
	long double mean[MAXK],
				C[MAXK * MAXK];
	long double trace = 0.0L;
	double		evmax;
	int			c,
				d,
				j,
				l;

	reference_cov(X, n, k, mean, C);
	EXPECT(f->nfeat == k && f->nrows == n, "nfeat %d nrows %lld", f->nfeat,
		   (long long) f->nrows);
	for (j = 0; j < k; j++)
	{
		EXPECT_NEAR(f->mean[j], (double) mean[j], 1e-12, "mean");
		trace += C[j * k + j];
	}
	EXPECT_REL(f->total_variance, (double) trace, 1e-11, "total variance");
	evmax = f->explained_variance[0];
	for (c = 0; c < f->ncomp; c++)
	{
		const double *v = f->components + (size_t) c * k;
		double		ev = f->explained_variance[c];

		for (j = 0; j < k; j++)
		{
			long double cv = 0.0L;

			for (l = 0; l < k; l++)
				cv += C[j * k + l] * v[l];
			EXPECT(fabsl(cv - ev * v[j]) <= tol * evmax,
				   "component %d: (C v - ev v)[%d] = %.3Lg, ev %g", c, j,
				   cv - ev * v[j], ev);
		}
		for (d = 0; d <= c; d++)
		{
			const double *u = f->components + (size_t) d * k;
			double		dp = 0.0;

			for (j = 0; j < k; j++)
				dp += u[j] * v[j];
			EXPECT(fabs(dp - (c == d ? 1.0 : 0.0)) <= 1e-12,
				   "components %d.%d = %.17g", c, d, dp);
		}
		EXPECT(sign_rule_holds(v, k), "component %d breaks the sign rule", c);
		EXPECT(ev >= 0.0, "negative variance %g", ev);
		if (c > 0)
			EXPECT(ev <= f->explained_variance[c - 1], "variances increase at %d", c);
		EXPECT_REL(ev, f->singular_values[c] * f->singular_values[c] / (n - 1),
				   1e-14, "variance vs singular value");
		EXPECT_NEAR(f->explained_variance_ratio[c], ev / f->total_variance,
					1e-14, "ratio");
	}
}

static mlx_linreg_state *
state_of(const double *X, int n, int k)
{
	mlx_linreg_state *s = new_state(k, 0.0, true);

	if (s != NULL)
		add_rows(s, X, k, 0, n);
	return s;
}

/* ---------------------------------------------------------------- cases */

/*
 * 300 rows of 5 features: 256 folded into R, 44 still in the buffer, all of
 * which must count.  All components, then fewer.
 */
static void
t_vs_covariance(void)
{
	enum
	{
	N = 300, K = 5};
	mlx_linreg_state *s,
			   *snap;
	mlx_pca_fit f,
				f2;
	double		evsum = 0.0;
	int			c,
				j;

	make_data(N, K, 42);
	s = state_of(data, N, K);
	EXPECT(s->nbuf > 0 && s->nrows > s->nbuf, "want folded and buffered rows (nbuf %d)",
		   s->nbuf);
	snap = dup_state(s);
	EXPECT_ST(mlx_pca_from_state(s, K, MC, &f), MLX_OK);
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "the state was modified");
	if (f.mean != NULL)
	{
		EXPECT(f.ncomp == K && f.nskipped == 0, "ncomp %d", f.ncomp);
		check_against_cov(&f, data, N, K, 1e-11);
		for (c = 0; c < K; c++)
			evsum += f.explained_variance[c];
		/* all components: the variances add up to the total */
		EXPECT_REL(evsum, f.total_variance, 1e-12, "sum of variances");
		/* distinct variances, so the axes are well defined */
		for (c = 1; c < K; c++)
			EXPECT(f.explained_variance[c] < 0.9 * f.explained_variance[c - 1],
				   "test data with close variances %g %g",
				   f.explained_variance[c - 1], f.explained_variance[c]);
	}

	/* fewer components: the leading ones of the full fit */
	EXPECT_ST(mlx_pca_from_state(s, 2, MC, &f2), MLX_OK);
	if (f.mean != NULL && f2.mean != NULL)
	{
		EXPECT(f2.ncomp == 2, "ncomp %d", f2.ncomp);
		check_against_cov(&f2, data, N, K, 1e-11);
		EXPECT(f2.total_variance == f.total_variance, "total variance differs");
		for (c = 0; c < 2; c++)
		{
			EXPECT(f2.explained_variance[c] == f.explained_variance[c], "variance %d", c);
			for (j = 0; j < K; j++)
				EXPECT(f2.components[c * K + j] == f.components[c * K + j],
					   "component %d differs", c);
		}
	}
	pca_free(MC, &f);
	pca_free(MC, &f2);
	free(s);
	free(snap);
}

/*
 * Centred rows (+-2, 0) and (0, +-1) around (10, -5): covariance
 * diag(8/3, 2/3), so components e1 and e2, singular values sqrt(8) and
 * sqrt(2), total 10/3, ratios 0.8 and 0.2.  Only buffered rows.
 */
static void
t_known_case(void)
{
	static const double X[] = {12, -5, 8, -5, 10, -4, 10, -6};
	static const double x[] = {13, -3};
	mlx_linreg_state *s = state_of(X, 4, 2);
	mlx_pca_fit f;
	double		out[2];

	EXPECT(s->nbuf == 4, "rows not buffered");
	EXPECT_ST(mlx_pca_from_state(s, 2, MC, &f), MLX_OK);
	if (f.mean != NULL)
	{
		EXPECT_NEAR(f.mean[0], 10.0, 1e-14, "mean 0");
		EXPECT_NEAR(f.mean[1], -5.0, 1e-14, "mean 1");
		EXPECT_NEAR(f.components[0], 1.0, 1e-14, "c0[0]");
		EXPECT_NEAR(f.components[1], 0.0, 1e-14, "c0[1]");
		EXPECT_NEAR(f.components[2], 0.0, 1e-14, "c1[0]");
		EXPECT_NEAR(f.components[3], 1.0, 1e-14, "c1[1]");
		EXPECT_REL(f.singular_values[0], sqrt(8.0), 1e-14, "s0");
		EXPECT_REL(f.singular_values[1], sqrt(2.0), 1e-14, "s1");
		EXPECT_REL(f.explained_variance[0], 8.0 / 3.0, 1e-14, "ev0");
		EXPECT_REL(f.explained_variance[1], 2.0 / 3.0, 1e-14, "ev1");
		EXPECT_REL(f.total_variance, 10.0 / 3.0, 1e-14, "total");
		EXPECT_REL(f.explained_variance_ratio[0], 0.8, 1e-14, "ratio 0");
		EXPECT_REL(f.explained_variance_ratio[1], 0.2, 1e-14, "ratio 1");
		mlx_pca_transform(&f, x, out);
		EXPECT_NEAR(out[0], 3.0, 1e-13, "projection 0");
		EXPECT_NEAR(out[1], 2.0, 1e-13, "projection 1");
	}
	pca_free(MC, &f);
	free(s);
}

/*
 * Points along (1, -2) with a little spread across: the first axis is
 * +-(1, -2)/sqrt(5) and the rule picks (-1, 2)/sqrt(5), the largest entry
 * positive; the second, +-(2, 1)/sqrt(5), keeps its positive sign.
 */
static void
t_sign_rule(void)
{
	enum
	{
	N = 60};
	double		X[N * 2];
	mlx_linreg_state *s;
	mlx_pca_fit f;
	int			i;

	rng_state = 3;
	for (i = 0; i < N; i++)
	{
		double		t = gauss(),
					e = 0.05 * gauss();

		X[i * 2] = 4.0 + t + 2.0 * e;
		X[i * 2 + 1] = 1.0 - 2.0 * t + e;
	}
	s = state_of(X, N, 2);
	EXPECT_ST(mlx_pca_from_state(s, 2, MC, &f), MLX_OK);
	if (f.mean != NULL)
	{
		EXPECT(fabs(f.components[0] + 1.0 / sqrt(5.0)) < 0.01 &&
			   fabs(f.components[1] - 2.0 / sqrt(5.0)) < 0.01,
			   "first component (%g, %g)", f.components[0], f.components[1]);
		EXPECT(fabs(f.components[2] - 2.0 / sqrt(5.0)) < 0.01 &&
			   fabs(f.components[3] - 1.0 / sqrt(5.0)) < 0.01,
			   "second component (%g, %g)", f.components[2], f.components[3]);
		check_against_cov(&f, X, N, 2, 1e-12);
	}
	pca_free(MC, &f);
	free(s);
}

/* transform = (x - mean) . v with the means computed here; any alignment */
static void
t_transform(void)
{
	enum
	{
	N = 120, K = 4};
	long double mean[K],
				C[K * K];
	mlx_linreg_state *s;
	mlx_pca_fit f;
	char		buf[K * sizeof(double) + 1];
	double		out[K];
	int			i,
				c,
				j;

	make_data(N, K, 77);
	reference_cov(data, N, K, mean, C);
	s = state_of(data, N, K);
	EXPECT_ST(mlx_pca_from_state(s, 3, MC, &f), MLX_OK);
	for (i = 0; i < N && f.mean != NULL; i += 7)
	{
		/* misaligned copy of the row */
		memcpy(buf + 1, data + (size_t) i * K, K * sizeof(double));
		out[3] = 12345.0;
		mlx_pca_transform(&f, buf + 1, out);
		for (c = 0; c < 3; c++)
		{
			long double v = 0.0L;

			for (j = 0; j < K; j++)
				v += (data[i * K + j] - mean[j]) * f.components[c * K + j];
			EXPECT(fabsl(out[c] - v) <= 1e-11 * sqrt(f.explained_variance[0]),
				   "row %d component %d: %.17g vs %.17Lg", i, c, out[c], v);
		}
		EXPECT(out[3] == 12345.0, "wrote past ncomp");
	}
	/* the projections of the training rows have the explained variances */
	if (f.mean != NULL)
	{
		long double ss[3] = {0, 0, 0};

		for (i = 0; i < N; i++)
		{
			mlx_pca_transform(&f, data + (size_t) i * K, out);
			for (c = 0; c < 3; c++)
				ss[c] += (long double) out[c] * out[c];
		}
		for (c = 0; c < 3; c++)
			EXPECT_REL((double) (ss[c] / (N - 1)), f.explained_variance[c], 1e-10,
					   "variance of the projections");
	}
	pca_free(MC, &f);
	free(s);
}

/* two partial states merged (TSQR) give the fit of one state of all rows */
static void
t_merge(void)
{
	enum
	{
	N = 400, K = 6};
	mlx_linreg_state *all,
			   *a,
			   *b;
	mlx_pca_fit f,
				g;
	int			c,
				j;

	make_data(N, K, 9001);
	all = state_of(data, N, K);
	a = new_state(K, 0.0, true);
	b = new_state(K, 0.0, true);
	add_rows(a, data, K, 0, 290);	/* folded and buffered rows */
	add_rows(b, data, K, 290, N);	/* buffered rows only */
	EXPECT_ST(mlx_linreg_merge(a, b, MC), MLX_OK);
	EXPECT(a->nrows == N, "merged nrows %lld", (long long) a->nrows);
	EXPECT_ST(mlx_pca_from_state(all, K, MC, &f), MLX_OK);
	EXPECT_ST(mlx_pca_from_state(a, K, MC, &g), MLX_OK);
	if (f.mean != NULL && g.mean != NULL)
	{
		check_against_cov(&g, data, N, K, 1e-11);
		EXPECT_REL(g.total_variance, f.total_variance, 1e-12, "total variance");
		for (c = 0; c < K; c++)
		{
			EXPECT_REL(g.explained_variance[c], f.explained_variance[c], 1e-11,
					   "variance");
			for (j = 0; j < K; j++)
				EXPECT(fabs(g.components[c * K + j] - f.components[c * K + j]) < 1e-9,
					   "component %d entry %d: %.17g vs %.17g", c, j,
					   g.components[c * K + j], f.components[c * K + j]);
		}
		for (j = 0; j < K; j++)
			EXPECT_NEAR(g.mean[j], f.mean[j], 1e-13, "mean");
	}
	pca_free(MC, &f);
	pca_free(MC, &g);
	free(all);
	free(a);
	free(b);
}

/*
 * A constant feature (of any size) has exactly zero variance: the other
 * variances and the total are those without it, no leading component loads
 * on it, and its mean is the constant.
 */
static void
t_constant_feature(void)
{
	enum
	{
	N = 300, K = 3};
	static const double consts[] = {7.5, 1e6, -3e-4, 0.0};
	double		X[N * (K + 1)];
	mlx_linreg_state *s0,
			   *s;
	mlx_pca_fit f0,
				f;
	size_t		ci;
	int			i,
				c,
				j;

	make_data(N, K, 5);
	s0 = state_of(data, N, K);
	EXPECT_ST(mlx_pca_from_state(s0, K, MC, &f0), MLX_OK);
	for (ci = 0; ci < sizeof(consts) / sizeof(consts[0]) && f0.mean != NULL; ci++)
	{
		for (i = 0; i < N; i++)
		{
			X[i * (K + 1)] = data[i * K];
			X[i * (K + 1) + 1] = consts[ci];
			X[i * (K + 1) + 2] = data[i * K + 1];
			X[i * (K + 1) + 3] = data[i * K + 2];
		}
		s = state_of(X, N, K + 1);
		EXPECT_ST(mlx_pca_from_state(s, K + 1, MC, &f), MLX_OK);
		free(s);
		if (f.mean == NULL)
			continue;
		EXPECT_REL(f.total_variance, f0.total_variance, 1e-12, "total variance");
		EXPECT_NEAR(f.mean[1], consts[ci], 1e-15, "mean of the constant");
		for (c = 0; c < K; c++)
		{
			EXPECT_REL(f.explained_variance[c], f0.explained_variance[c], 1e-11,
					   "variance");
			EXPECT(fabs(f.components[c * (K + 1) + 1]) < 1e-12,
				   "component %d loads %g on the constant (%g)", c,
				   f.components[c * (K + 1) + 1], consts[ci]);
		}
		EXPECT(f.explained_variance[K] <= 1e-25 * f.explained_variance[0],
			   "constant has variance %g (%g)", f.explained_variance[K], consts[ci]);
		EXPECT(fabs(fabs(f.components[K * (K + 1) + 1]) - 1.0) < 1e-12,
			   "last component is not the constant's axis");
		for (j = 0; j <= K; j++)
			EXPECT(sign_rule_holds(f.components + (size_t) j * (K + 1), K + 1),
				   "sign rule");
		pca_free(MC, &f);
	}
	pca_free(MC, &f0);
	free(s0);
}

/* all features constant: total variance exactly 0, ratios 0 (not NaN) */
static void
t_all_constant(void)
{
	static const double X[] = {3.25, -1e5, 3.25, -1e5, 3.25, -1e5};
	mlx_linreg_state *s = state_of(X, 3, 2);
	mlx_pca_fit f;

	EXPECT_ST(mlx_pca_from_state(s, 2, MC, &f), MLX_OK);
	if (f.mean != NULL)
	{
		EXPECT(f.total_variance == 0.0, "total variance %g", f.total_variance);
		EXPECT(f.explained_variance[0] == 0.0 && f.explained_variance[1] == 0.0,
			   "variances %g %g", f.explained_variance[0], f.explained_variance[1]);
		EXPECT(f.explained_variance_ratio[0] == 0.0 &&
			   f.explained_variance_ratio[1] == 0.0, "ratios not 0");
		EXPECT_REL(f.mean[1], -1e5, 1e-15, "mean");
		EXPECT(sign_rule_holds(f.components, 2) && sign_rule_holds(f.components + 2, 2),
			   "sign rule");
	}
	pca_free(MC, &f);
	free(s);
}

/*
 * More features than rows: 3 rows span a plane, so of the 3 components
 * allowed the last has variance 0, and a 4th is refused.
 */
static void
t_wide(void)
{
	enum
	{
	N = 3, K = 5};
	mlx_linreg_state *s;
	mlx_pca_fit f;

	make_data(N, K, 11);
	s = state_of(data, N, K);
	EXPECT_ST(mlx_pca_from_state(s, 4, MC, &f), MLX_EINVAL);
	EXPECT(pca_arrays_null(&f), "arrays after EINVAL");
	EXPECT_ST(mlx_pca_from_state(s, 3, MC, &f), MLX_OK);
	if (f.mean != NULL)
	{
		check_against_cov(&f, data, N, K, 1e-11);
		EXPECT(f.explained_variance[2] <= 1e-20 * f.explained_variance[0],
			   "third variance %g", f.explained_variance[2]);
		EXPECT_REL(f.explained_variance[0] + f.explained_variance[1],
				   f.total_variance, 1e-12, "two components hold all variance");
	}
	pca_free(MC, &f);
	free(s);
}

static void
t_errors(void)
{
	double		x[3] = {1.0, 2.0, 3.0};
	mlx_linreg_state *noint = new_state(3, 0.0, false),
			   *ridge = new_state(3, 0.5, true),
			   *s = new_state(3, 0.0, true);
	mlx_pca_fit f;
	int			bad,
				i;

	for (i = 0; i < 5; i++)
	{
		x[0] = i;
		x[1] = i * i;
		mlx_linreg_add_row(noint, 0.0, x, MC, &bad);
		mlx_linreg_add_row(ridge, 0.0, x, MC, &bad);
	}
	EXPECT_ST(mlx_pca_from_state(noint, 2, MC, &f), MLX_EINVAL);
	EXPECT(pca_arrays_null(&f), "arrays after EINVAL");
	EXPECT_ST(mlx_pca_from_state(ridge, 2, MC, &f), MLX_EINVAL);
	/* no rows, one row */
	EXPECT_ST(mlx_pca_from_state(s, 1, MC, &f), MLX_EINVAL);
	mlx_linreg_add_row(s, 0.0, x, MC, &bad);
	EXPECT_ST(mlx_pca_from_state(s, 1, MC, &f), MLX_EINVAL);
	EXPECT(f.nrows == 1, "nrows not reported");
	x[2] = -1.0;
	mlx_linreg_add_row(s, 0.0, x, MC, &bad);
	x[1] = 0.5;
	mlx_linreg_add_row(s, 0.0, x, MC, &bad);
	/* component counts */
	EXPECT_ST(mlx_pca_from_state(s, 0, MC, &f), MLX_EINVAL);
	EXPECT_ST(mlx_pca_from_state(s, -1, MC, &f), MLX_EINVAL);
	EXPECT_ST(mlx_pca_from_state(s, 4, MC, &f), MLX_EINVAL);
	EXPECT(pca_arrays_null(&f), "arrays after EINVAL");
	EXPECT_ST(mlx_pca_from_state(s, 3, MC, &f), MLX_OK);
	EXPECT(f.ncomp == 3 && f.nrows == 3, "ncomp %d nrows %lld", f.ncomp,
		   (long long) f.nrows);
	pca_free(MC, &f);
	free(noint);
	free(ridge);
	free(s);
}

/* interrupted at every poll in turn, and failing every allocation in turn */
static void
t_interrupt_enomem(void)
{
	enum
	{
	N = 300, K = 4};
	test_alloc	ta;
	mlx_ctx		c = ta_ctx(&ta);
	mlx_linreg_state *s,
			   *snap;
	mlx_pca_fit f,
				ref;
	mlx_status	st;
	long		n;

	make_data(N, K, 123);
	s = state_of(data, N, K);
	snap = dup_state(s);
	EXPECT_ST(mlx_pca_from_state(s, 2, MC, &ref), MLX_OK);

	for (n = 0; n < 50; n++)
	{
		ta.polls = 0;
		ta.interrupt_after = n;
		st = mlx_pca_from_state(s, 2, &c, &f);
		ta.interrupt_after = -1;
		EXPECT(ta.live == (st == MLX_OK ? 5 : 0), "%ld blocks live after poll %ld",
			   ta.live, n);
		if (st == MLX_OK)
			break;
		EXPECT_ST(st, MLX_EINTR);
		EXPECT(pca_arrays_null(&f), "arrays after EINTR");
	}
	EXPECT(n >= 2 && n < 50, "polled %ld times", n);
	pca_free(&c, &f);

	for (n = 0; n < 50; n++)
	{
		ta.fail_after = n;
		st = mlx_pca_from_state(s, 2, &c, &f);
		ta.fail_after = -1;
		if (st == MLX_OK)
			break;
		EXPECT_ST(st, MLX_ENOMEM);
		EXPECT(pca_arrays_null(&f), "arrays after ENOMEM");
		EXPECT(ta.live == 0, "%ld blocks leaked failing allocation %ld", ta.live, n);
	}
	EXPECT(n > 5 && n < 50, "allocated %ld times", n);
	if (st == MLX_OK && ref.mean != NULL)
		EXPECT(memcmp(f.components, ref.components, 2 * K * sizeof(double)) == 0,
			   "result after retries differs");
	pca_free(&c, &f);
	EXPECT(ta.live == 0, "%ld blocks leaked", ta.live);
	EXPECT(memcmp(s, snap, state_bytes(s)) == 0, "the state was modified");
	pca_free(MC, &ref);
	free(s);
	free(snap);
}

/* mlx_linreg_copy_r: the R of all rows, buffered ones included */
static void
t_copy_r(void)
{
	enum
	{
	N = 300, K = 3};
	mlx_linreg_state *s,
			   *flushed;
	double	   *R;
	int			p = K + 2,
				i,
				j;

	make_data(N, K, 8);
	s = state_of(data, N, K);
	flushed = dup_state(s);
	EXPECT_ST(mlx_linreg_flush(flushed, MC), MLX_OK);
	EXPECT_ST(mlx_linreg_copy_r(s, MC, &R), MLX_OK);
	if (R == NULL)
		return;
	for (j = 0; j < p; j++)
		for (i = 0; i < p; i++)
		{
			double		want = (i <= j) ? ((double *) (flushed + 1))[i + j * p] : 0.0;

			EXPECT(R[i + j * p] == want, "R[%d][%d] %.17g, flushed state %.17g",
				   i, j, R[i + j * p], want);
		}
	EXPECT(s->nbuf > 0, "the state was flushed");
	/* |R[0][0]| = sqrt(n) */
	EXPECT_REL(fabs(R[0]), sqrt((double) N), 1e-14, "R[0][0]");
	mlx_free(MC, R);
	free(s);
	free(flushed);
}

int
main(void)
{
	run_case("pca_vs_covariance_eigenvectors", t_vs_covariance);
	run_case("pca_known_case", t_known_case);
	run_case("pca_sign_rule", t_sign_rule);
	run_case("pca_transform", t_transform);
	run_case("pca_merged_states", t_merge);
	run_case("pca_constant_feature", t_constant_feature);
	run_case("pca_all_constant", t_all_constant);
	run_case("pca_more_features_than_rows", t_wide);
	run_case("pca_errors", t_errors);
	run_case("pca_interrupt_and_enomem", t_interrupt_enomem);
	run_case("linreg_copy_r", t_copy_r);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
