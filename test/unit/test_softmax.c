/*
 * test_softmax.c
 *	  Unit tests of multinomial logistic regression in the numerical core
 *	  (src/core/softmax.c): parameter counts, scoring, theta, the flat pass
 *	  state (size, init, every validation rule, add, merge, finish), the
 *	  penalized objective and the Newton step, and Newton / L-BFGS fits.
 *
 * References are independent of the code under test: central finite
 * differences of the loss (gradient and Hessian), the optimality
 * conditions of the fitted models (a zero penalized gradient, the sum
 * conditions of the symmetric parametrization), binary logistic regression
 * fitted by the IRLS of core/logreg + core/linreg, and the L-BFGS
 * optimizer of core/lbfgs reaching the same optimum as Newton's method.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/lbfgs.h"
#include "core/linreg.h"
#include "core/logreg.h"
#include "core/mlx_core.h"
#include "core/softmax.h"

#include "harness.h"
#include "iris.h"

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, NULL, &talloc};

/* ----------------------------------------------------------------- data */

/* A data set: nrows rows of nfeat features (row-major) and their classes. */
typedef struct dataset
{
	int			nrows;
	int			nfeat;
	int			nclasses;
	double	   *x;
	int		   *y;
} dataset;

static void
free_data(dataset *d)
{
	free(d->x);
	free(d->y);
	memset(d, 0, sizeof(*d));
}

/*
 * Random rows whose classes are drawn from a softmax model with random
 * coefficients (so no class is separable), features N(0, 1) scaled by
 * (j + 1).
 */
static dataset
random_data(uint64_t seed, int nrows, int nfeat, int nclasses)
{
	dataset		d;
	double	   *w = malloc(sizeof(double) * nclasses * (nfeat + 1));
	int			i,
				j,
				c;

	rng_seed(seed);
	d.nrows = nrows;
	d.nfeat = nfeat;
	d.nclasses = nclasses;
	d.x = malloc(sizeof(double) * nrows * nfeat);
	d.y = malloc(sizeof(int) * nrows);
	for (i = 0; i < nclasses * (nfeat + 1); i++)
		w[i] = 0.7 * rng_norm();
	for (i = 0; i < nrows; i++)
	{
		double		eta[16];
		double		sum = 0.0,
					u,
					acc = 0.0;

		for (j = 0; j < nfeat; j++)
			d.x[i * nfeat + j] = (j + 1) * rng_norm();
		for (c = 0; c < nclasses; c++)
		{
			eta[c] = w[c * (nfeat + 1)];
			for (j = 0; j < nfeat; j++)
				eta[c] += w[c * (nfeat + 1) + 1 + j] * d.x[i * nfeat + j] / (j + 1);
			eta[c] = exp(eta[c]);
			sum += eta[c];
		}
		u = rng_unif() * sum;
		d.y[i] = nclasses - 1;
		for (c = 0; c < nclasses; c++)
		{
			acc += eta[c];
			if (u < acc)
			{
				d.y[i] = c;
				break;
			}
		}
	}
	/* make sure every class occurs */
	for (c = 0; c < nclasses; c++)
		d.y[c] = c;
	free(w);
	return d;
}

/* iris rows [from, to) with the features in cols (ncols of them) */
static dataset
iris_data(int from, int to, const int *cols, int ncols, int dup)
{
	dataset		d;
	int			i,
				j;
	int			nfeat = ncols + (dup >= 0 ? 1 : 0);

	d.nrows = to - from;
	d.nfeat = nfeat;
	d.nclasses = (to - from == 150) ? 3 : 2;
	d.x = malloc(sizeof(double) * d.nrows * nfeat);
	d.y = malloc(sizeof(int) * d.nrows);
	for (i = 0; i < d.nrows; i++)
	{
		for (j = 0; j < ncols; j++)
			d.x[i * nfeat + j] = iris[from + i][cols[j]];
		if (dup >= 0)
			d.x[i * nfeat + ncols] = iris[from + i][cols[dup]];
		d.y[i] = (from + i) / 50 - from / 50;
	}
	return d;
}

static const int all4[4] = {0, 1, 2, 3};

/* -------------------------------------------------------------- helpers */

static mlx_softmax_fit
new_fit(int nclasses, int nfeat, bool intercept, double lambda,
		const double *cw)
{
	mlx_softmax_fit f;
	int			c;

	memset(&f, 0, sizeof(f));
	f.nclasses = nclasses;
	f.nfeat = nfeat;
	f.intercept = intercept;
	f.lambda = lambda;
	f.coef = calloc((size_t) nclasses * (nfeat + 1), sizeof(double));
	f.class_weight = malloc(sizeof(double) * nclasses);
	for (c = 0; c < nclasses; c++)
		f.class_weight[c] = cw != NULL ? cw[c] : 1.0;
	return f;
}

static void
free_fit(mlx_softmax_fit *f)
{
	free(f->coef);
	free(f->class_weight);
	memset(f, 0, sizeof(*f));
}

static int
nparams(const mlx_softmax_fit *f)
{
	return (int) mlx_softmax_nparams(f->nclasses, f->nfeat, f->intercept,
									 f->lambda);
}

static mlx_softmax_state *
new_state(const mlx_softmax_fit *f, bool hessian, size_t *sizep)
{
	size_t		size = mlx_softmax_state_size(hessian, f->nclasses, f->nfeat,
											  f->intercept, f->lambda);
	mlx_softmax_state *s = size > 0 ? malloc(size) : NULL;

	if (s == NULL ||
		mlx_softmax_state_init(s, hessian, f->nclasses, f->nfeat,
							   f->intercept, f->lambda) != MLX_OK)
	{
		free(s);
		return NULL;
	}
	if (sizep != NULL)
		*sizep = size;
	return s;
}

static double *
st_grad(mlx_softmax_state *s)
{
	return (double *) (s + 1);
}

static double *
st_hess(mlx_softmax_state *s)
{
	return st_grad(s) + s->nparams;
}

/*
 * One pass over rows [from, to) of every step-th row at model f: a
 * finished state (NULL on any error; *stp gets the status).
 */
static mlx_softmax_state *
pass_rows(const mlx_softmax_fit *f, const dataset *d, bool hessian, int from,
		  int step, mlx_status *stp)
{
	mlx_softmax_state *s = new_state(f, hessian, NULL);
	void	   *scratch = malloc(mlx_softmax_scratch_size(f->nclasses, f->nfeat));
	mlx_status	st = s != NULL ? MLX_OK : MLX_EINVAL;
	int			i;

	for (i = from; st == MLX_OK && i < d->nrows; i += step)
		st = mlx_softmax_state_add(s, f, d->y[i], d->x + (size_t) i * d->nfeat,
								   scratch);
	free(scratch);
	if (stp != NULL)
		*stp = st;
	if (st != MLX_OK)
	{
		free(s);
		return NULL;
	}
	mlx_softmax_state_finish(s);
	return s;
}

static mlx_softmax_state *
pass(const mlx_softmax_fit *f, const dataset *d, bool hessian)
{
	return pass_rows(f, d, hessian, 0, 1, NULL);
}

/* The loss (unpenalized) or the objective at theta; g may be NULL. */
static double
eval_at(mlx_softmax_fit *f, const dataset *d, const double *theta,
		bool penalized, double *g)
{
	mlx_softmax_state *s;
	double		v;

	mlx_softmax_set_theta(f, theta);
	s = pass(f, d, false);
	if (s == NULL)
		return NAN;
	if (penalized)
	{
		double	   *gg = malloc(sizeof(double) * s->nparams);

		mlx_softmax_objective(s, f, &v, gg);
		if (g != NULL)
			memcpy(g, gg, sizeof(double) * s->nparams);
		free(gg);
	}
	else
	{
		v = s->loss;
		if (g != NULL)
			memcpy(g, st_grad(s), sizeof(double) * s->nparams);
	}
	free(s);
	return v;
}

static double
max_abs(const double *v, int n)
{
	double		m = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		m = fmax(m, fabs(v[i]));
	return m;
}

/*
 * Newton's method from theta = 0 with step halving when the objective
 * does not decrease.  Returns the number of steps to max |g| <= tol (-1
 * when max_steps are not enough or a step fails); f->coef holds the fit.
 */
static int
newton_fit(mlx_softmax_fit *f, const dataset *d, double tol, int max_steps,
		   double *gmax)
{
	int			n = nparams(f);
	double	   *theta = calloc(n, sizeof(double));
	double	   *trial = malloc(sizeof(double) * n);
	double	   *g = malloc(sizeof(double) * n);
	double	   *delta = malloc(sizeof(double) * n);
	int			steps = -1;
	int			k,
				i;

	mlx_softmax_set_theta(f, theta);
	for (k = 0; k <= max_steps; k++)
	{
		mlx_softmax_state *s = pass(f, d, true);
		double		fv,
					dec,
					t;

		if (s == NULL)
			break;
		mlx_softmax_objective(s, f, &fv, g);
		*gmax = max_abs(g, n);
		if (*gmax <= tol)
		{
			free(s);
			steps = k;
			break;
		}
		if (k == max_steps ||
			mlx_softmax_newton_step(s, f, &tctx, delta, &dec) != MLX_OK)
		{
			free(s);
			break;
		}
		free(s);
		for (t = 1.0; t > 1e-6; t *= 0.5)
		{
			for (i = 0; i < n; i++)
				trial[i] = theta[i] + t * delta[i];
			if (eval_at(f, d, trial, true, NULL) <= fv)
				break;
		}
		memcpy(theta, trial, sizeof(double) * n);
		mlx_softmax_set_theta(f, theta);
	}
	free(theta);
	free(trial);
	free(g);
	free(delta);
	return steps;
}

/* ------------------------------------------------------ counts, scoring */

static void
t_nparams_sizes(void)
{
	size_t		hdr = sizeof(mlx_softmax_state);

	EXPECT(hdr == 56, "header is %zu bytes", hdr);
	EXPECT(mlx_softmax_nparams(2, 4, true, 0.0) == 5, "K 2");
	EXPECT(mlx_softmax_nparams(2, 4, true, 3.0) == 5, "K 2 is always reference");
	EXPECT(mlx_softmax_nparams(3, 4, true, 0.0) == 10, "K 3 lambda 0");
	EXPECT(mlx_softmax_nparams(3, 4, true, 0.5) == 15, "K 3 lambda > 0");
	EXPECT(mlx_softmax_nparams(3, 4, false, 0.5) == 12, "no intercept");
	EXPECT(mlx_softmax_nparams(1, 4, true, 0.0) == 0, "1 class");
	EXPECT(mlx_softmax_nparams(1001, 4, true, 0.0) == 0, "1001 classes");
	EXPECT(mlx_softmax_nparams(3, 0, true, 0.0) == 0, "0 features");
	EXPECT(mlx_softmax_nparams(3, 100001, true, 0.0) == 0, "100001 features");
	EXPECT(mlx_softmax_nparams(3, 4, true, -1.0) == 0, "negative lambda");
	EXPECT(mlx_softmax_nparams(3, 4, true, NAN) == 0, "NaN lambda");
	EXPECT(mlx_softmax_nparams(3, 4, true, INFINITY) == 0, "infinite lambda");
	EXPECT(mlx_softmax_nparams(11, 99999, false, 0.0) == 999990, "largest");
	EXPECT(mlx_softmax_nparams(11, 100000, false, 0.0) == 1000000, "at the limit");
	EXPECT(mlx_softmax_nparams(12, 100000, false, 0.0) == 0, "over the limit");
	EXPECT(mlx_softmax_nparams(1000, 100000, true, 1.0) == 0, "far over the limit");

	EXPECT(mlx_softmax_state_size(false, 3, 4, true, 0.5) == hdr + 8 * 15, "size");
	EXPECT(mlx_softmax_state_size(true, 3, 4, true, 0.5) == hdr + 8 * (15 + 225),
		   "size with Hessian");
	EXPECT(mlx_softmax_state_size(true, 11, 99, true, 0.0) == hdr + 8 * (1000 + 1000000),
		   "largest Hessian");
	EXPECT(mlx_softmax_state_size(true, 11, 100, true, 0.0) == 0, "Hessian too big");
	EXPECT(mlx_softmax_state_size(false, 11, 100, true, 0.0) == hdr + 8 * 1010,
		   "gradient-only state of the same model");
	EXPECT(mlx_softmax_state_size(false, 3, 4, true, -2.0) == 0, "bad lambda");
	EXPECT(mlx_softmax_scratch_size(3, 4) == 8 * 14, "scratch");
	EXPECT(mlx_softmax_scratch_size(1, 4) == 0 && mlx_softmax_scratch_size(3, 0) == 0,
		   "scratch of bad dimensions");
}

static void
t_state_init(void)
{
	size_t		size = mlx_softmax_state_size(true, 4, 3, true, 0.25);
	mlx_softmax_state *s = malloc(size + 16);
	size_t		i;

	memset(s, 0xAB, size + 16);
	EXPECT_ST(mlx_softmax_state_init(s, true, 4, 3, true, 0.25), MLX_OK);
	EXPECT(s->version == MLX_SOFTMAX_STATE_VERSION && s->hessian == 1 &&
		   s->intercept == 1 && s->symmetric == 1 && s->nclasses == 4 &&
		   s->nfeat == 3 && s->nparams == 16 && s->nrows == 0 &&
		   s->nskipped == 0 && s->nwrong == 0 && s->loss == 0.0 &&
		   s->weight == 0.0, "header");
	for (i = sizeof(mlx_softmax_state); i < size; i++)
		EXPECT(((unsigned char *) s)[i] == 0, "byte %zu not zeroed", i);
	EXPECT(((unsigned char *) s)[size] == 0xAB, "wrote past the state");
	EXPECT_ST(mlx_softmax_state_validate(s, size, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_softmax_state_init(s, false, 3, 2, false, 0.0), MLX_OK);
	EXPECT(s->hessian == 0 && s->intercept == 0 && s->symmetric == 0 &&
		   s->nparams == 4, "reference header");
	EXPECT_ST(mlx_softmax_state_init(s, false, 3, 2, false, NAN), MLX_EINVAL);
	EXPECT_ST(mlx_softmax_state_init(s, true, 1, 2, false, 0.0), MLX_EINVAL);
	EXPECT_ST(mlx_softmax_state_init(NULL, true, 3, 2, false, 0.0), MLX_EINVAL);
	EXPECT_ST(mlx_softmax_state_init(s, true, 11, 100, true, 0.0), MLX_EINVAL);
	free(s);
}

static void
t_predict_proba(void)
{
	mlx_softmax_fit f = new_fit(3, 1, true, 0.0, NULL);
	double		p[3];
	double		x;
	char		buf[16];
	int			best;

	/* eta = (1000, -1000, 0) x + (0, 0, 980) */
	f.coef[1] = 1000.0;
	f.coef[3] = -1000.0;
	f.coef[4] = 980.0;
	x = 1.0;
	best = mlx_softmax_predict_proba(&f, &x, p);
	EXPECT(best == 0 && p[1] == 0.0, "eta 1000: best %d p1 %g", best, p[1]);
	EXPECT_REL(p[0], 1.0 / (1.0 + exp(-20.0)), 1e-15, "p0 at eta 1000");
	EXPECT_REL(p[2], exp(-20.0) / (1.0 + exp(-20.0)), 1e-13, "p2 at eta 1000");
	EXPECT(fabs(p[0] + p[1] + p[2] - 1.0) < 1e-15, "sum");
	x = -1.0;
	best = mlx_softmax_predict_proba(&f, &x, p);
	EXPECT(best == 1 && p[0] == 0.0, "eta -1000: best %d p0 %g", best, p[0]);
	EXPECT_REL(p[1], 1.0 / (1.0 + exp(-20.0)), 1e-15, "p1 at eta -1000");
	EXPECT(fabs(p[0] + p[1] + p[2] - 1.0) < 1e-15, "sum");
	f.coef[4] = 5.0;
	/* x = 0.001: eta = (1, -1, 5) */
	x = 0.001;
	best = mlx_softmax_predict_proba(&f, &x, p);
	{
		double		z = exp(1.0) + exp(-1.0) + exp(5.0);

		EXPECT(best == 2, "best of (1, -1, 5)");
		EXPECT_REL(p[0], exp(1.0) / z, 1e-14, "p0");
		EXPECT_REL(p[1], exp(-1.0) / z, 1e-14, "p1");
		EXPECT_REL(p[2], exp(5.0) / z, 1e-14, "p2");
		EXPECT(fabs(p[0] + p[1] + p[2] - 1.0) < 1e-15, "sum");
	}
	/* unaligned x gives the same */
	memcpy(buf + 1, &x, sizeof(double));
	{
		double		q[3];

		EXPECT(mlx_softmax_predict_proba(&f, buf + 1, q) == 2 &&
			   memcmp(p, q, sizeof(q)) == 0, "unaligned x");
	}
	/* ties: the lowest index */
	memset(f.coef, 0, sizeof(double) * 6);
	best = mlx_softmax_predict_proba(&f, &x, p);
	EXPECT(best == 0 && p[0] == p[1] && p[1] == p[2], "all equal");
	EXPECT_NEAR(p[0], 1.0 / 3.0, 1e-15, "1/3");
	f.coef[2] = f.coef[4] = 7.0;
	EXPECT(mlx_softmax_predict_proba(&f, &x, p) == 1 && p[1] == p[2], "tie of 1 and 2");
	/* the intercept column is ignored without an intercept */
	f.intercept = false;
	EXPECT(mlx_softmax_predict_proba(&f, &x, p) == 0, "no intercept");
	free_fit(&f);
}

static void
t_theta(void)
{
	double		theta[20],
				back[20];
	int			k;

	/* symmetric: all rows; reference: rows 1.., row 0 zeroed by set */
	{
		mlx_softmax_fit f = new_fit(3, 2, true, 1.0, NULL);

		for (k = 0; k < 9; k++)
			f.coef[k] = k + 1;
		mlx_softmax_get_theta(&f, theta);
		for (k = 0; k < 9; k++)
			EXPECT(theta[k] == k + 1, "symmetric theta[%d] = %g", k, theta[k]);
		for (k = 0; k < 9; k++)
			theta[k] = -k;
		mlx_softmax_set_theta(&f, theta);
		for (k = 0; k < 9; k++)
			EXPECT(f.coef[k] == -k, "symmetric coef[%d]", k);
		free_fit(&f);
	}
	{
		mlx_softmax_fit f = new_fit(3, 2, false, 0.0, NULL);
		static const double want[4] = {5, 6, 8, 9};

		for (k = 0; k < 9; k++)
			f.coef[k] = k + 1;
		mlx_softmax_get_theta(&f, theta);
		EXPECT(memcmp(theta, want, sizeof(want)) == 0, "reference theta without intercept");
		mlx_softmax_set_theta(&f, theta);
		mlx_softmax_get_theta(&f, back);
		EXPECT(memcmp(theta, back, sizeof(want)) == 0, "round trip");
		for (k = 0; k < 3; k++)
			EXPECT(f.coef[k] == 0.0, "row 0 not zeroed");
		EXPECT(f.coef[3] == 0.0 && f.coef[6] == 0.0, "intercepts not zeroed");
		free_fit(&f);
	}
}

/* --------------------------------------------- derivatives of the loss */

/*
 * Gradient and Hessian of the pass against central differences of the
 * loss and of the gradient; and the objective's gradient, and the Newton
 * system (A delta = -g), against differences of the objective.
 */
static void
check_derivatives(int nclasses, bool intercept, double lambda, bool weighted)
{
	static const double cws[5] = {1.0, 2.5, 0.5, 1.5, 3.0};
	dataset		d = random_data(7 + nclasses, 40, 3, nclasses);
	mlx_softmax_fit f = new_fit(nclasses, 3, intercept, lambda,
								weighted ? cws : NULL);
	int			n = nparams(&f);
	double	   *theta = malloc(sizeof(double) * n);
	double	   *tp = malloc(sizeof(double) * n);
	double	   *gp = malloc(sizeof(double) * n);
	double	   *gm = malloc(sizeof(double) * n);
	double	   *g = malloc(sizeof(double) * n);
	double	   *Afd = malloc(sizeof(double) * n * n);
	double	   *delta = malloc(sizeof(double) * n);
	mlx_softmax_state *s;
	double		h = 1e-5;
	double		fv,
				dec;
	int			i,
				j;

	rng_seed(99);
	for (i = 0; i < n; i++)
		theta[i] = 0.4 * rng_norm();
	mlx_softmax_set_theta(&f, theta);
	s = pass(&f, &d, true);
	EXPECT(s != NULL, "pass");
	if (s == NULL)
		goto done;
	EXPECT(s->nrows == 40 && s->symmetric == mlx_softmax_symmetric(nclasses, lambda),
		   "state header");
	for (i = 0; i < n; i++)
	{
		double		lp,
					lm;

		memcpy(tp, theta, sizeof(double) * n);
		tp[i] = theta[i] + h;
		lp = eval_at(&f, &d, tp, false, gp);
		tp[i] = theta[i] - h;
		lm = eval_at(&f, &d, tp, false, gm);
		EXPECT_NEAR(st_grad(s)[i], (lp - lm) / (2 * h), 1e-7, "gradient");
		for (j = 0; j < n; j++)
			EXPECT_NEAR(st_hess(s)[j * n + i], (gp[j] - gm[j]) / (2 * h), 1e-7,
						"Hessian");
		/* the objective, penalized */
		tp[i] = theta[i] + h;
		lp = eval_at(&f, &d, tp, true, gp);
		tp[i] = theta[i] - h;
		lm = eval_at(&f, &d, tp, true, gm);
		mlx_softmax_set_theta(&f, theta);
		mlx_softmax_objective(s, &f, &fv, g);
		EXPECT_NEAR(g[i], (lp - lm) / (2 * h), 1e-7, "objective gradient");
		for (j = 0; j < n; j++)
			Afd[j * n + i] = (gp[j] - gm[j]) / (2 * h);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			EXPECT(st_hess(s)[i * n + j] == st_hess(s)[j * n + i], "not symmetric");
	/* the state's loss is the loss of the rows, computed directly */
	{
		double		loss = 0.0;
		double		p[5];

		for (i = 0; i < d.nrows; i++)
		{
			mlx_softmax_predict_proba(&f, d.x + i * 3, p);
			loss -= f.class_weight[d.y[i]] * log(p[d.y[i]]);
		}
		EXPECT_REL(s->loss, loss, 1e-13, "loss");
	}
	/* the Newton step solves (H + penalty) delta = -g */
	mlx_softmax_set_theta(&f, theta);
	mlx_softmax_objective(s, &f, &fv, g);
	EXPECT_ST(mlx_softmax_newton_step(s, &f, &tctx, delta, &dec), MLX_OK);
	EXPECT(talloc.live == 0, "newton_step leaked %ld blocks", talloc.live);
	{
		double		gd = 0.0;

		for (i = 0; i < n; i++)
		{
			double		r = g[i];

			for (j = 0; j < n; j++)
				r += Afd[i * n + j] * delta[j];
			EXPECT(fabs(r) <= 1e-6 * fmax(1.0, max_abs(g, n)),
				   "A delta + g = %g at %d", r, i);
			gd += g[i] * delta[i];
		}
		EXPECT_REL(dec, -gd / 2, 1e-12, "decrement");
		EXPECT(dec > 0, "decrement %g", dec);
	}
	free(s);
done:
	free(theta);
	free(tp);
	free(gp);
	free(gm);
	free(g);
	free(Afd);
	free(delta);
	free_fit(&f);
	free_data(&d);
}

static void t_deriv_binary(void) { check_derivatives(2, true, 0.0, false); }
static void t_deriv_binary_ridge_weighted(void) { check_derivatives(2, true, 1.5, true); }
static void t_deriv_ref(void) { check_derivatives(3, true, 0.0, true); }
static void t_deriv_ref_noint(void) { check_derivatives(4, false, 0.0, true); }
static void t_deriv_sym(void) { check_derivatives(4, true, 0.7, true); }
static void t_deriv_sym_noint(void) { check_derivatives(3, false, 2.0, false); }
static void t_deriv_sym_unweighted(void) { check_derivatives(5, true, 0.1, false); }

/* ------------------------------------------------------- state handling */

static void
t_merge(void)
{
	static const double cws[4] = {1.0, 2.0, 0.5, 1.25};
	dataset		d = random_data(3, 61, 3, 4);
	mlx_softmax_fit f = new_fit(4, 3, true, 0.3, cws);
	int			n = nparams(&f);
	mlx_softmax_state *all,
			   *even,
			   *odd,
			   *empty,
			   *copy;
	size_t		size;
	int			i;

	rng_seed(5);
	for (i = 0; i < 4 * 4; i++)
		f.coef[i] = 0.5 * rng_norm();
	all = pass(&f, &d, true);
	even = pass_rows(&f, &d, true, 0, 2, NULL);
	odd = pass_rows(&f, &d, true, 1, 2, NULL);
	empty = new_state(&f, true, &size);
	copy = malloc(size);
	if (all == NULL || even == NULL || odd == NULL || empty == NULL)
	{
		EXPECT(false, "passes");
		goto done;
	}
	even->nskipped = 2;
	odd->nskipped = 3;
	EXPECT_ST(mlx_softmax_state_merge(even, odd), MLX_OK);
	mlx_softmax_state_finish(even);
	EXPECT(even->nrows == 61 && even->nskipped == 5 && even->nwrong == all->nwrong,
		   "counts");
	EXPECT(all->nwrong > 0 && all->nwrong < 61, "nwrong %lld", (long long) all->nwrong);
	EXPECT_REL(even->loss, all->loss, 1e-13, "loss");
	EXPECT_REL(even->weight, all->weight, 1e-15, "weight");
	for (i = 0; i < n; i++)
		EXPECT_NEAR(st_grad(even)[i], st_grad(all)[i], 1e-12, "gradient");
	for (i = 0; i < n * n; i++)
		EXPECT_NEAR(st_hess(even)[i], st_hess(all)[i], 1e-12, "Hessian");
	EXPECT_ST(mlx_softmax_state_validate(even, size, NULL, 0), MLX_OK);

	/* an empty state is the identity, both ways */
	memcpy(copy, all, size);
	EXPECT_ST(mlx_softmax_state_merge(copy, empty), MLX_OK);
	EXPECT(memcmp(copy, all, size) == 0, "merging an empty state changed it");
	EXPECT_ST(mlx_softmax_state_merge(empty, all), MLX_OK);
	EXPECT(memcmp(empty, all, size) == 0, "merging into an empty state");

	/* mismatches */
	{
		mlx_softmax_fit g = new_fit(4, 3, true, 0.0, NULL);		/* reference */
		mlx_softmax_state *r = new_state(&g, true, NULL);
		mlx_softmax_state *nh = new_state(&f, false, NULL);

		EXPECT_ST(mlx_softmax_state_merge(all, r), MLX_EMISMATCH);
		EXPECT_ST(mlx_softmax_state_merge(all, nh), MLX_EMISMATCH);
		EXPECT_ST(mlx_softmax_state_merge(nh, all), MLX_EMISMATCH);
		free(r);
		free(nh);
		free_fit(&g);
	}

	/* overflow leaves the state unchanged */
	{
		mlx_softmax_state *big = malloc(size);

		memcpy(copy, all, size);
		memcpy(big, all, size);
		copy->loss = DBL_MAX;
		big->loss = DBL_MAX / 2;
		memcpy(empty, copy, size);
		EXPECT_ST(mlx_softmax_state_merge(copy, big), MLX_ENONFINITE);
		EXPECT(memcmp(copy, empty, size) == 0, "changed by a failed merge (loss)");

		memcpy(copy, all, size);
		memcpy(big, all, size);
		copy->weight = DBL_MAX;
		big->weight = DBL_MAX;
		memcpy(empty, copy, size);
		EXPECT_ST(mlx_softmax_state_merge(copy, big), MLX_ENONFINITE);
		EXPECT(memcmp(copy, empty, size) == 0, "changed by a failed merge (weight)");

		memcpy(copy, all, size);
		memcpy(big, all, size);
		st_grad(copy)[n - 1] = -DBL_MAX;
		st_grad(big)[n - 1] = -DBL_MAX / 2;
		memcpy(empty, copy, size);
		EXPECT_ST(mlx_softmax_state_merge(copy, big), MLX_ENONFINITE);
		EXPECT(memcmp(copy, empty, size) == 0, "changed by a failed merge (gradient)");

		/* the last Hessian entry: the arrays are checked to their end */
		memcpy(copy, all, size);
		memcpy(big, all, size);
		st_hess(copy)[n * n - 1] = DBL_MAX;
		st_hess(big)[n * n - 1] = DBL_MAX / 2;
		memcpy(empty, copy, size);
		EXPECT_ST(mlx_softmax_state_merge(copy, big), MLX_ENONFINITE);
		EXPECT(memcmp(copy, empty, size) == 0, "changed by a failed merge (Hessian)");

		memcpy(copy, all, size);
		memcpy(big, all, size);
		big->nrows = INT64_MAX;
		memcpy(empty, copy, size);
		EXPECT_ST(mlx_softmax_state_merge(copy, big), MLX_ENONFINITE);
		EXPECT(memcmp(copy, empty, size) == 0, "changed by a failed merge (rows)");
		free(big);
	}
done:
	free(all);
	free(even);
	free(odd);
	free(empty);
	free(copy);
	free_fit(&f);
	free_data(&d);
}

/*
 * Validate a damaged copy of a valid state; expect the message.  The copy
 * is exactly check_size bytes, so ASan sees any read past it.
 */
static void
expect_invalid(int line, const mlx_softmax_state *good, size_t size,
			   void (*damage) (mlx_softmax_state *), size_t check_size,
			   const char *msg)
{
	size_t		big = size > check_size ? size : check_size;
	mlx_softmax_state *s = calloc(1, big);
	void	   *exact;
	char		err[200];
	mlx_status	st;

	memcpy(s, good, size);
	damage(s);
	exact = malloc(check_size > 0 ? check_size : 1);
	memcpy(exact, s, check_size);
	err[0] = '\0';
	st = mlx_softmax_state_validate(exact, check_size, err, sizeof(err));
	if (st != MLX_ECORRUPT)
		fail_at(line, "status %s for \"%s\"", mlx_status_str(st), msg);
	else if (strstr(err, msg) == NULL)
		fail_at(line, "message \"%s\", expected \"%s\"", err, msg);
	free(exact);
	free(s);
}

static void d_none(mlx_softmax_state *s) { (void) s; }
static void d_version(mlx_softmax_state *s) { s->version = 2; }
static void d_hess2(mlx_softmax_state *s) { s->hessian = 2; }
static void d_icpt2(mlx_softmax_state *s) { s->intercept = 0xFF; }
static void d_sym2(mlx_softmax_state *s) { s->symmetric = 2; }
static void d_ncls1(mlx_softmax_state *s) { s->nclasses = 1; }
static void d_ncls_big(mlx_softmax_state *s) { s->nclasses = MLX_SOFTMAX_MAX_CLASSES + 1; }
static void d_ncls_neg(mlx_softmax_state *s) { s->nclasses = INT32_MIN; }
static void d_nfeat0(mlx_softmax_state *s) { s->nfeat = 0; }
static void d_nfeat_big(mlx_softmax_state *s) { s->nfeat = MLX_SOFTMAX_MAX_FEATURES + 1; }
static void d_sym_k2(mlx_softmax_state *s) { s->nclasses = 2; s->nparams = 10; }
static void d_nparams(mlx_softmax_state *s) { s->nparams++; }
static void d_nparams_neg(mlx_softmax_state *s) { s->nparams = -15; }
static void d_no_icpt(mlx_softmax_state *s) { s->intercept = 0; }
static void d_ref(mlx_softmax_state *s) { s->symmetric = 0; }
static void d_huge(mlx_softmax_state *s)
{
	/* dimensions whose parameter count is past every limit */
	s->nclasses = MLX_SOFTMAX_MAX_CLASSES;
	s->nfeat = MLX_SOFTMAX_MAX_FEATURES;
	s->nparams = INT32_MAX;
}
static void d_newton_big(mlx_softmax_state *s)
{
	/* 11 classes, 100 features: 1010 parameters, too many with a Hessian */
	s->nclasses = 11;
	s->nfeat = 100;
	s->symmetric = 0;
	s->nparams = 1010;
}
static void d_dims(mlx_softmax_state *s) { s->nclasses = 5; s->nparams = 25; }
static void d_hess0(mlx_softmax_state *s) { s->hessian = 0; }
static void d_nrows_neg(mlx_softmax_state *s) { s->nrows = -1; }
static void d_nskipped_neg(mlx_softmax_state *s) { s->nskipped = INT64_MIN; }
static void d_nwrong_neg(mlx_softmax_state *s) { s->nwrong = -1; }
static void d_nwrong_over(mlx_softmax_state *s) { s->nwrong = s->nrows + 1; }
static void d_loss_nan(mlx_softmax_state *s) { s->loss = NAN; }
static void d_loss_neg(mlx_softmax_state *s) { s->loss = -1e-300; }
static void d_weight_inf(mlx_softmax_state *s) { s->weight = INFINITY; }
static void d_weight_neg(mlx_softmax_state *s) { s->weight = -1.0; }
static void d_grad_nan(mlx_softmax_state *s) { st_grad(s)[7] = NAN; }
static void d_grad_inf(mlx_softmax_state *s) { st_grad(s)[14] = -INFINITY; }
static void d_hess_inf(mlx_softmax_state *s) { st_hess(s)[224] = INFINITY; }
static void d_hess_nan(mlx_softmax_state *s) { st_hess(s)[17] = NAN; }

static void
t_state_validate(void)
{
	static const double cws[4] = {1.0, 2.0, 0.5, 1.25};
	dataset		d = random_data(11, 30, 4, 4);
	mlx_softmax_fit f = new_fit(4, 4, false, 0.5, cws);	/* 16 parameters */
	mlx_softmax_fit f3 = new_fit(3, 4, true, 0.5, cws);	/* 15 parameters */
	mlx_softmax_state *s,
			   *g,
			   *u;
	size_t		size,
				gsize,
				usize;
	char		err[200];

	f.coef[5] = 0.3;
	f3.coef[2] = -0.2;
	s = pass(&f3, &d, true);	/* 3 classes: rows of class 3 do not fit */
	EXPECT(s == NULL, "class 3 accepted by a 3-class pass");
	free(s);
	d.nclasses = 3;
	{
		int			i;

		for (i = 0; i < d.nrows; i++)
			d.y[i] %= 3;
	}
	s = pass(&f3, &d, true);
	size = mlx_softmax_state_size(true, 3, 4, true, 0.5);
	g = pass(&f, &d, false);
	gsize = mlx_softmax_state_size(false, 4, 4, false, 0.5);
	/* a state with a Hessian that was never finished */
	u = new_state(&f3, true, &usize);
	if (s == NULL || g == NULL || u == NULL)
	{
		EXPECT(false, "states");
		goto done;
	}
	{
		void	   *scratch = malloc(mlx_softmax_scratch_size(3, 4));

		EXPECT_ST(mlx_softmax_state_add(u, &f3, 1, d.x, scratch), MLX_OK);
		free(scratch);
	}
	EXPECT_ST(mlx_softmax_state_validate(s, size, err, sizeof(err)), MLX_OK);
	EXPECT_ST(mlx_softmax_state_validate(g, gsize, err, sizeof(err)), MLX_OK);
	EXPECT_ST(mlx_softmax_state_validate(u, usize, err, sizeof(err)), MLX_OK);
	EXPECT_ST(mlx_softmax_state_validate(NULL, size, err, sizeof(err)), MLX_ECORRUPT);

	expect_invalid(__LINE__, s, size, d_none, sizeof(mlx_softmax_state) - 1, "truncated");
	expect_invalid(__LINE__, s, size, d_none, 0, "truncated");
	expect_invalid(__LINE__, s, size, d_version, size, "unknown version");
	expect_invalid(__LINE__, s, size, d_hess2, size, "invalid flags");
	expect_invalid(__LINE__, s, size, d_icpt2, size, "invalid flags");
	expect_invalid(__LINE__, s, size, d_sym2, size, "invalid flags");
	expect_invalid(__LINE__, s, size, d_ncls1, size, "invalid class count");
	expect_invalid(__LINE__, s, size, d_ncls_big, size, "invalid class count");
	expect_invalid(__LINE__, s, size, d_ncls_neg, size, "invalid class count");
	expect_invalid(__LINE__, s, size, d_nfeat0, size, "invalid feature count");
	expect_invalid(__LINE__, s, size, d_nfeat_big, size, "invalid feature count");
	expect_invalid(__LINE__, s, size, d_sym_k2, size, "symmetric parametrization with two classes");
	expect_invalid(__LINE__, s, size, d_nparams, size, "does not match its dimensions");
	expect_invalid(__LINE__, s, size, d_nparams_neg, size, "does not match its dimensions");
	expect_invalid(__LINE__, s, size, d_no_icpt, size, "does not match its dimensions");
	expect_invalid(__LINE__, s, size, d_ref, size, "does not match its dimensions");
	expect_invalid(__LINE__, s, size, d_huge, size, "too many parameters");
	expect_invalid(__LINE__, s, size, d_newton_big, size, "too many parameters for a Hessian");
	/* the size must match the header exactly, before any array is read */
	expect_invalid(__LINE__, s, size, d_none, size - 8, "wrong size");
	expect_invalid(__LINE__, s, size, d_none, size - 1, "wrong size");
	expect_invalid(__LINE__, s, size, d_none, size + 8, "wrong size");
	expect_invalid(__LINE__, s, size, d_none, sizeof(mlx_softmax_state), "wrong size");
	expect_invalid(__LINE__, s, size, d_dims, size, "wrong size");
	expect_invalid(__LINE__, s, size, d_hess0, size, "wrong size");
	expect_invalid(__LINE__, g, gsize, d_none, size, "wrong size");
	expect_invalid(__LINE__, s, size, d_nrows_neg, size, "invalid row counts");
	expect_invalid(__LINE__, s, size, d_nskipped_neg, size, "invalid row counts");
	expect_invalid(__LINE__, s, size, d_nwrong_neg, size, "invalid row counts");
	expect_invalid(__LINE__, s, size, d_nwrong_over, size, "invalid row counts");
	expect_invalid(__LINE__, s, size, d_loss_nan, size, "invalid loss or weight");
	expect_invalid(__LINE__, s, size, d_loss_neg, size, "invalid loss or weight");
	expect_invalid(__LINE__, s, size, d_weight_inf, size, "invalid loss or weight");
	expect_invalid(__LINE__, s, size, d_weight_neg, size, "invalid loss or weight");
	expect_invalid(__LINE__, s, size, d_grad_nan, size, "non-finite gradient");
	expect_invalid(__LINE__, s, size, d_grad_inf, size, "non-finite gradient");
	expect_invalid(__LINE__, s, size, d_hess_inf, size, "non-finite Hessian");
	expect_invalid(__LINE__, s, size, d_hess_nan, size, "non-finite Hessian");
	expect_invalid(__LINE__, u, usize, d_hess_nan, usize, "non-finite Hessian");
	expect_invalid(__LINE__, g, gsize, d_grad_inf, gsize, "non-finite gradient");

	/* a small error buffer is truncated, not overrun */
	memset(err, 'x', sizeof(err));
	s->version = 9;
	EXPECT_ST(mlx_softmax_state_validate(s, size, err, 5), MLX_ECORRUPT);
	EXPECT(strlen(err) == 4 && err[5] == 'x', "error buffer overrun");
	s->version = MLX_SOFTMAX_STATE_VERSION;
	EXPECT_ST(mlx_softmax_state_validate(s, size, NULL, 0), MLX_OK);
done:
	free(s);
	free(g);
	free(u);
	free_fit(&f);
	free_fit(&f3);
	free_data(&d);
}

static void
t_add_errors(void)
{
	mlx_softmax_fit f = new_fit(3, 2, true, 0.0, NULL);
	mlx_softmax_state *s,
			   *h,
			   *copy;
	size_t		size,
				hsize;
	void	   *scratch = malloc(mlx_softmax_scratch_size(3, 2));
	double		x[2] = {0.5, -1.0};
	char		buf[24];

	s = new_state(&f, false, &size);
	h = new_state(&f, true, &hsize);
	copy = malloc(hsize);
	if (s == NULL || h == NULL)
	{
		EXPECT(false, "states");
		goto done;
	}
	EXPECT_ST(mlx_softmax_state_add(s, &f, -1, x, scratch), MLX_EINVAL);
	EXPECT_ST(mlx_softmax_state_add(s, &f, 3, x, scratch), MLX_EINVAL);
	f.class_weight[1] = 0.0;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 1, x, scratch), MLX_EINVAL);
	f.class_weight[1] = 1.0;
	/* models of other dimensions or another parametrization */
	f.nfeat = 1;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_EMISMATCH);
	f.nfeat = 2;
	f.intercept = false;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_EMISMATCH);
	f.intercept = true;
	f.lambda = 1.0;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_EMISMATCH);
	f.lambda = 0.0;
	f.nclasses = 2;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_EMISMATCH);
	f.nclasses = 3;
	EXPECT(s->nrows == 0 && s->loss == 0.0, "state changed by rejected rows");

	/* unaligned x: the same as aligned */
	EXPECT_ST(mlx_softmax_state_add(s, &f, 2, x, scratch), MLX_OK);
	memcpy(buf + 3, x, sizeof(x));
	EXPECT_ST(mlx_softmax_state_add(s, &f, 2, buf + 3, scratch), MLX_OK);
	EXPECT(s->nrows == 2 && st_grad(s)[0] == 2 * (1.0 / 3.0), "unaligned row");
	EXPECT_NEAR(s->loss, 2 * log(3.0), 1e-15, "loss at zero");
	EXPECT(s->nwrong == 2, "nwrong %lld (class 0 wins ties)", (long long) s->nwrong);

	/* overflowing predictors: NaN (inf - inf) and inf */
	f.coef[1] = 10.0;
	f.coef[2] = -10.0;
	x[0] = x[1] = 1e308;
	memcpy(copy, s, size);
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, s, size) == 0, "changed by a NaN predictor");
	f.coef[2] = 10.0;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, s, size) == 0, "changed by an infinite predictor");

	/* a loss term that overflows: class weight 1e308, p_y tiny */
	f.coef[1] = f.coef[2] = 0.0;
	f.coef[4] = 100.0;			/* class 1: eta = 100 x0 */
	x[0] = 10.0;
	x[1] = 0.0;
	f.class_weight[0] = 1e308;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, s, size) == 0, "changed by an overflowing loss");
	f.class_weight[0] = 1e300;
	s->loss = DBL_MAX;
	memcpy(copy, s, size);
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, s, size) == 0, "changed by an overflowing loss sum");
	s->loss = 1.0;
	f.class_weight[0] = 1.0;

	/* a gradient sum that overflows (class 1 is block 0; p_1 > 0) */
	f.coef[4] = 0.0;
	st_grad(s)[1] = DBL_MAX;
	x[0] = 1e300;
	memcpy(copy, s, size);
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, s, size) == 0, "changed by an overflowing gradient");
	st_grad(s)[1] = 0.0;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_OK);

	/* with a Hessian, terms of x^2 ~ 1e320 are refused, the state unchanged */
	memcpy(copy, h, hsize);
	x[0] = 1e160;
	EXPECT_ST(mlx_softmax_state_add(h, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, h, hsize) == 0, "changed by an overflowing Hessian term");
	/* and so is a diagonal sum past DBL_MAX / 4 */
	x[0] = 1e153;
	st_hess(h)[1 * 6 + 1] = DBL_MAX / 4;
	memcpy(copy, h, hsize);
	EXPECT_ST(mlx_softmax_state_add(h, &f, 0, x, scratch), MLX_ENONFINITE);
	EXPECT(memcmp(copy, h, hsize) == 0, "changed by an overflowing Hessian sum");
	st_hess(h)[1 * 6 + 1] = 0.0;
	EXPECT_ST(mlx_softmax_state_add(h, &f, 0, x, scratch), MLX_OK);
	mlx_softmax_state_finish(h);
	EXPECT_ST(mlx_softmax_state_validate(h, hsize, NULL, 0), MLX_OK);

	/* the row count */
	s->nrows = INT64_MAX;
	x[0] = 1.0;
	EXPECT_ST(mlx_softmax_state_add(s, &f, 0, x, scratch), MLX_ENONFINITE);
done:
	free(s);
	free(h);
	free(copy);
	free(scratch);
	free_fit(&f);
}

static void
t_newton_step_errors(void)
{
	dataset		d = random_data(4, 20, 2, 3);
	mlx_softmax_fit f = new_fit(3, 2, true, 1.0, NULL);
	mlx_softmax_state *s = pass(&f, &d, true);
	mlx_softmax_state *g = pass(&f, &d, false);
	mlx_softmax_fit other = new_fit(3, 2, false, 1.0, NULL);
	test_alloc ta;
	mlx_ctx		ctx = ta_ctx(&ta);
	double		delta[9];
	double		dec = -1.0;
	long		k;

	if (s == NULL || g == NULL)
	{
		EXPECT(false, "states");
		goto done;
	}
	EXPECT_ST(mlx_softmax_newton_step(g, &f, &ctx, delta, &dec), MLX_EINVAL);
	EXPECT_ST(mlx_softmax_newton_step(s, &other, &ctx, delta, &dec), MLX_EINVAL);
	EXPECT_ST(mlx_softmax_newton_step(s, &f, &ctx, delta, NULL), MLX_OK);
	for (k = 0; k < 2; k++)
	{
		ta.fail_after = k;
		EXPECT_ST(mlx_softmax_newton_step(s, &f, &ctx, delta, &dec), MLX_ENOMEM);
		ta.fail_after = -1;
		EXPECT(ta.live == 0, "%ld blocks leaked failing after %ld", ta.live, k);
	}
	/* no rows and no penalty: a zero matrix, the pseudo-inverse gives 0 */
	{
		mlx_softmax_fit z = new_fit(3, 2, true, 0.0, NULL);
		mlx_softmax_state *e = new_state(&z, true, NULL);
		double		dz[6];

		mlx_softmax_state_finish(e);
		EXPECT_ST(mlx_softmax_newton_step(e, &z, &ctx, dz, &dec), MLX_OK);
		EXPECT(max_abs(dz, 6) == 0.0 && dec == 0.0, "step from nothing");
		/* the eigen path allocates too: fail there */
		for (k = 2; k < 6; k++)
		{
			ta.fail_after = k;
			EXPECT_ST(mlx_softmax_newton_step(e, &z, &ctx, dz, &dec), MLX_ENOMEM);
			ta.fail_after = -1;
			EXPECT(ta.live == 0, "%ld blocks leaked failing after %ld", ta.live, k);
		}
		free(e);
		free_fit(&z);
	}
done:
	free(s);
	free(g);
	free_fit(&f);
	free_fit(&other);
	free_data(&d);
}

/* ------------------------------------------------------------------ fits */

/* iris, all four features, three classes, L2 penalty 1: symmetric */
static void
t_newton_iris_symmetric(void)
{
	dataset		d = iris_data(0, 150, all4, 4, -1);
	mlx_softmax_fit f = new_fit(3, 4, true, 1.0, NULL);
	double		gmax = 0.0;
	int			steps = newton_fit(&f, &d, 1e-8 * 150, 25, &gmax);
	double		sum0 = 0.0;
	int			c,
				j;

	EXPECT(steps >= 3 && steps <= 12, "%d Newton steps (max |g| %g)", steps, gmax);
	for (c = 0; c < 3; c++)
		sum0 += f.coef[c * 5];
	EXPECT(fabs(sum0) < 1e-9, "intercepts sum to %g", sum0);
	for (j = 1; j <= 4; j++)
	{
		double		s = 0.0,
					m = 0.0;

		for (c = 0; c < 3; c++)
		{
			s += f.coef[c * 5 + j];
			m = fmax(m, fabs(f.coef[c * 5 + j]));
		}
		EXPECT(fabs(s) < 1e-9 * m, "slopes of feature %d sum to %g", j, s);
	}
	/* the classes make sense: petal length raises virginica over setosa */
	EXPECT(f.coef[2 * 5 + 3] > f.coef[0 * 5 + 3], "petal length slopes");
	{
		mlx_softmax_state *s = pass(&f, &d, false);

		EXPECT(s != NULL && s->nwrong <= 6, "training errors %lld",
			   s ? (long long) s->nwrong : -1LL);
		free(s);
	}
	free_fit(&f);
	free_data(&d);
}

/*
 * iris, sepal length only (with more features setosa is separable from the
 * others and no maximum-likelihood estimate exists), three classes, no
 * penalty: the reference parametrization (statsmodels' MNLogit).
 */
static void
t_newton_iris_mle(void)
{
	static const int sepal[1] = {0};
	dataset		d = iris_data(0, 150, sepal, 1, -1);
	mlx_softmax_fit f = new_fit(3, 1, true, 0.0, NULL);
	double		gmax = 0.0;
	int			steps = newton_fit(&f, &d, 1e-8 * 150, 30, &gmax);
	int			j;

	EXPECT(steps >= 3 && steps <= 10, "%d Newton steps (max |g| %g)", steps, gmax);
	EXPECT(f.coef[0] == 0.0 && f.coef[1] == 0.0, "class 0's row is not zero");
	for (j = 2; j < 6; j++)
		EXPECT(isfinite(f.coef[j]) && fabs(f.coef[j]) < 100, "coef %d = %g", j,
			   f.coef[j]);
	/* longer sepals: versicolor over setosa, virginica more so */
	EXPECT(f.coef[3] > 0 && f.coef[5] > f.coef[3], "slopes %g %g", f.coef[3], f.coef[5]);
	free_fit(&f);
	free_data(&d);
}

/*
 * Binary: the reference parametrization with K = 2 is binary logistic
 * regression with beta = W[1]; IRLS through core/logreg and core/linreg
 * gives the reference.  iris versicolor (0) against virginica (1).
 */
static void
check_binary(double lambda, const double cw[2])
{
	dataset		d = iris_data(50, 150, all4, 4, -1);
	mlx_softmax_fit f = new_fit(2, 4, true, lambda, cw);
	double		beta[5] = {0, 0, 0, 0, 0};
	double		gmax = 0.0;
	int			steps = newton_fit(&f, &d, 1e-9 * 100, 30, &gmax);
	int			it,
				i,
				j;

	EXPECT(steps >= 3 && steps <= 15, "%d Newton steps (max |g| %g)", steps, gmax);
	for (it = 0; it < 50; it++)
	{
		mlx_linreg_state *s = malloc(mlx_linreg_state_size(4, true));
		mlx_linreg_fit w;
		double		change = 0.0;

		mlx_linreg_state_init(s, 4, lambda, true);
		for (i = 0; i < d.nrows; i++)
		{
			double		eta = beta[0],
						wt,
						z,
						ll;
			int			bad;

			for (j = 0; j < 4; j++)
				eta += beta[j + 1] * d.x[i * 4 + j];
			mlx_logreg_working(eta, d.y[i], cw[d.y[i]], &wt, &z, &ll);
			mlx_linreg_add_row_weighted(s, z, d.x + i * 4, wt, &tctx, &bad);
		}
		EXPECT_ST(mlx_linreg_solve(s, &tctx, &w), MLX_OK);
		free(s);
		for (j = 0; j < 5; j++)
		{
			change = fmax(change, fabs(w.coef[j] - beta[j]));
			beta[j] = w.coef[j];
		}
		mlx_free(&tctx, w.coef);
		mlx_free(&tctx, w.se);
		mlx_free(&tctx, w.tval);
		mlx_free(&tctx, w.pval);
		mlx_free(&tctx, w.dependent);
		if (change < 1e-13 * (1 + max_abs(beta, 5)))
			break;
	}
	EXPECT(it < 50, "IRLS did not converge");
	for (j = 0; j < 5; j++)
	{
		EXPECT(f.coef[j] == 0.0, "class 0 row");
		EXPECT_NEAR(f.coef[5 + j], beta[j], 1e-8, "beta");
	}
	free_fit(&f);
	free_data(&d);
}

static void
t_binary_mle(void)
{
	static const double cw[2] = {1.0, 1.0};

	check_binary(0.0, cw);
}

static void
t_binary_ridge_weighted(void)
{
	static const double cw[2] = {0.75, 2.0};

	check_binary(2.0, cw);
}

/* The penalized objective and gradient at theta, for L-BFGS. */
static double
lbfgs_eval(mlx_softmax_fit *f, const dataset *d, const double *theta, double *g)
{
	return eval_at(f, d, theta, true, g);
}

/* Newton's optimum and L-BFGS's agree to 1e-6. */
static void
check_newton_lbfgs(const dataset *d, int nclasses, bool intercept, double lambda)
{
	mlx_softmax_fit f = new_fit(nclasses, d->nfeat, intercept, lambda, NULL);
	int			n = nparams(&f);
	double	   *tn = malloc(sizeof(double) * n);
	double	   *x = calloc(n, sizeof(double));
	double	   *g = malloc(sizeof(double) * n);
	double		gmax = 0.0,
				fv;
	mlx_lbfgs_params p;
	mlx_lbfgs  *lb = NULL;
	mlx_lbfgs_result r = MLX_LBFGS_ERROR;
	int			steps,
				i;

	steps = newton_fit(&f, d, 1e-9 * d->nrows, 30, &gmax);
	EXPECT(steps >= 0, "Newton did not converge (max |g| %g)", gmax);
	mlx_softmax_get_theta(&f, tn);

	mlx_lbfgs_default_params(&p);
	p.gtol = 1e-11;
	EXPECT_ST(mlx_lbfgs_create(n, &p, &tctx, &lb), MLX_OK);
	if (lb == NULL)
		goto done;
	for (;;)
	{
		fv = lbfgs_eval(&f, d, x, g);
		r = mlx_lbfgs_step(lb, x, fv, g);
		if (r != MLX_LBFGS_EVALUATE)
			break;
	}
	EXPECT(r == MLX_LBFGS_CONVERGED, "L-BFGS result %d after %d iterations, %d evaluations, max |g| %g f %.17g",
		   (int) r, mlx_lbfgs_iterations(lb), mlx_lbfgs_evaluations(lb), max_abs(g, n), fv);
	for (i = 0; i < n; i++)
		EXPECT_NEAR(x[i], tn[i], 1e-6, "theta");
	mlx_lbfgs_free(lb, &tctx);
done:
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
	free(tn);
	free(x);
	free(g);
	free_fit(&f);
}

static void
t_newton_lbfgs_symmetric(void)
{
	dataset		d = iris_data(0, 150, all4, 4, -1);

	check_newton_lbfgs(&d, 3, true, 0.5);
	free_data(&d);
}

static void
t_newton_lbfgs_reference(void)
{
	dataset		d = random_data(21, 200, 3, 4);

	check_newton_lbfgs(&d, 4, true, 0.0);
	free_data(&d);
}

static void
t_newton_lbfgs_sym_noint(void)
{
	dataset		d = random_data(22, 150, 3, 3);

	check_newton_lbfgs(&d, 3, false, 2.0);
	free_data(&d);
}

/*
 * A duplicated feature without a penalty: the Hessian is singular, the
 * step comes from the pseudo-inverse, stays finite, and the fit splits the
 * feature's coefficient evenly over its two copies (the minimum-norm
 * optimum), matching the fit without the copy.
 */
static void
t_collinear(void)
{
	static const int sepal[1] = {0};
	dataset		d1 = iris_data(0, 150, sepal, 1, -1);
	dataset		d2 = iris_data(0, 150, sepal, 1, 0);	/* x2 = x1 */
	mlx_softmax_fit f1 = new_fit(3, 1, true, 0.0, NULL);
	mlx_softmax_fit f2 = new_fit(3, 2, true, 0.0, NULL);
	mlx_softmax_state *s;
	double		delta[6],
				dec;
	double		gmax = 0.0;
	int			steps1,
				steps2,
				c,
				i;

	s = pass(&f2, &d2, true);
	EXPECT_ST(mlx_softmax_newton_step(s, &f2, &tctx, delta, &dec), MLX_OK);
	for (i = 0; i < 6; i++)
		EXPECT(isfinite(delta[i]) && fabs(delta[i]) < 100, "delta[%d] = %g", i, delta[i]);
	EXPECT(fabs(delta[1] - delta[2]) <= 1e-9 * fabs(delta[1]),
		   "the copies' steps differ: %g %g", delta[1], delta[2]);
	EXPECT(isfinite(dec) && dec > 0, "decrement %g", dec);
	free(s);

	steps1 = newton_fit(&f1, &d1, 1e-8 * 150, 30, &gmax);
	steps2 = newton_fit(&f2, &d2, 1e-8 * 150, 30, &gmax);
	EXPECT(steps1 >= 0 && steps2 >= 0 && steps2 <= 10, "steps %d %d (max |g| %g)",
		   steps1, steps2, gmax);
	for (c = 1; c < 3; c++)
	{
		EXPECT_NEAR(f2.coef[c * 3 + 0], f1.coef[c * 2 + 0], 1e-6, "intercept");
		EXPECT_NEAR(f2.coef[c * 3 + 1], f2.coef[c * 3 + 2], 1e-6, "copies");
		EXPECT_NEAR(f2.coef[c * 3 + 1] + f2.coef[c * 3 + 2], f1.coef[c * 2 + 1], 1e-6,
					"split coefficient");
	}
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
	free_fit(&f1);
	free_fit(&f2);
	free_data(&d1);
	free_data(&d2);
}

int
main(void)
{
	run_case("nparams_and_sizes", t_nparams_sizes);
	run_case("state_init", t_state_init);
	run_case("predict_proba_stable_and_ties", t_predict_proba);
	run_case("theta_get_set", t_theta);
	run_case("derivatives_binary", t_deriv_binary);
	run_case("derivatives_binary_ridge_weighted", t_deriv_binary_ridge_weighted);
	run_case("derivatives_reference_weighted", t_deriv_ref);
	run_case("derivatives_reference_no_intercept", t_deriv_ref_noint);
	run_case("derivatives_symmetric_weighted", t_deriv_sym);
	run_case("derivatives_symmetric_no_intercept", t_deriv_sym_noint);
	run_case("derivatives_symmetric_5_classes", t_deriv_sym_unweighted);
	run_case("merge_halves_equals_whole", t_merge);
	run_case("state_validate_rejects_each_rule", t_state_validate);
	run_case("state_add_errors_leave_state_unchanged", t_add_errors);
	run_case("newton_step_errors_and_enomem", t_newton_step_errors);
	run_case("newton_iris_symmetric_ridge", t_newton_iris_symmetric);
	run_case("newton_iris_mle_reference", t_newton_iris_mle);
	run_case("binary_equals_irls_mle", t_binary_mle);
	run_case("binary_equals_irls_ridge_weighted", t_binary_ridge_weighted);
	run_case("newton_equals_lbfgs_symmetric_iris", t_newton_lbfgs_symmetric);
	run_case("newton_equals_lbfgs_reference", t_newton_lbfgs_reference);
	run_case("newton_equals_lbfgs_symmetric_no_intercept", t_newton_lbfgs_sym_noint);
	run_case("collinear_feature_pseudo_inverse", t_collinear);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
