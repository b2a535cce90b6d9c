/*
 * test_lbfgs.c
 *	  Unit tests of the reverse-communication L-BFGS optimizer of the
 *	  numerical core (src/core/lbfgs.c): parameters, convergence on the
 *	  Rosenbrock function (2 and 100 variables) and on ill-conditioned
 *	  quadratics, non-finite values at the start and at trial points, the
 *	  iteration and evaluation limits, the ftol test, stalling, and
 *	  allocation failure.
 *
 * References are the known minimizers of the test functions.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/lbfgs.h"
#include "core/mlx_core.h"

#include "harness.h"

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, NULL, &talloc};

/* ------------------------------------------------------ test functions */

typedef double (*objective) (const double *x, int n, double *g, void *arg);

/*
 * The extended Rosenbrock function (More, Garbow and Hillstrom): the sum
 * over pairs of 100 (x_2i - x_2i-1^2)^2 + (1 - x_2i-1)^2, minimum 0 at all
 * ones.
 */
static double
rosenbrock(const double *x, int n, double *g, void *arg)
{
	double		f = 0.0;
	int			i;

	for (i = 0; i + 1 < n; i += 2)
	{
		double		a = x[i + 1] - x[i] * x[i];
		double		b = 1.0 - x[i];

		f += 100.0 * a * a + b * b;
		g[i] = -400.0 * x[i] * a - 2.0 * b;
		g[i + 1] = 200.0 * a;
	}
	return f;
}

/* 0.5 sum a_i (x_i - c_i)^2 with a_i from 1 to cond, c_i = i - n / 2 */
typedef struct quad
{
	double		cond;
	int			nevals;
} quad;

static double
quadratic(const double *x, int n, double *g, void *arg)
{
	quad	   *q = arg;
	double		f = 0.0;
	int			i;

	q->nevals++;
	for (i = 0; i < n; i++)
	{
		double		a = pow(q->cond, (double) i / (n > 1 ? n - 1 : 1));
		double		d = x[i] - (i - n / 2);

		f += 0.5 * a * d * d;
		g[i] = a * d;
	}
	return f;
}

/*
 * sqrt(1 + (x - 10)^2) in each coordinate: gradients near +-1 far from 10
 * and little curvature there, so the first quasi-Newton step overshoots
 * far; NaN past 100 (counted in *arg).
 */
static double
huber_nan(const double *x, int n, double *g, void *arg)
{
	int		   *nans = arg;
	double		f = 0.0;
	int			i;

	for (i = 0; i < n; i++)
	{
		double		d = x[i] - 10.0;

		if (x[i] > 100.0)
		{
			(*nans)++;
			for (i = 0; i < n; i++)
				g[i] = NAN;
			return NAN;
		}
		f += sqrt(1.0 + d * d);
		g[i] = d / sqrt(1.0 + d * d);
	}
	return f;
}

/* x^2 with the gradient's sign flipped: no descent is ever found */
static double
wrong_gradient(const double *x, int n, double *g, void *arg)
{
	double		f = 0.0;
	int			i;

	for (i = 0; i < n; i++)
	{
		f += x[i] * x[i];
		g[i] = -2.0 * x[i];
	}
	return f;
}

/* the run of one optimization */
typedef struct run_out
{
	mlx_lbfgs_result r;
	int			iters;
	int			evals;
	int			calls;			/* objective calls made here */
	double		f;				/* mlx_lbfgs_best */
	double		gmax;			/* max |g| at the returned x */
} run_out;

/* Minimize from x (overwritten by the result); the optimizer is freed. */
static run_out
run(objective fn, void *arg, int n, double *x, const mlx_lbfgs_params *p)
{
	mlx_lbfgs  *lb = NULL;
	double	   *g = malloc(sizeof(double) * n);
	double	   *xb = malloc(sizeof(double) * n);
	run_out		o;
	int			i;

	memset(&o, 0, sizeof(o));
	o.r = MLX_LBFGS_ERROR;
	if (mlx_lbfgs_create(n, p, &tctx, &lb) != MLX_OK)
	{
		free(g);
		free(xb);
		o.evals = -1;
		return o;
	}
	for (;;)
	{
		double		f = fn(x, n, g, arg);

		o.calls++;
		o.r = mlx_lbfgs_step(lb, x, f, g);
		if (o.r != MLX_LBFGS_EVALUATE || o.calls > 100000)
			break;
	}
	o.iters = mlx_lbfgs_iterations(lb);
	o.evals = mlx_lbfgs_evaluations(lb);
	mlx_lbfgs_best(lb, xb, &o.f);
	if (o.r != MLX_LBFGS_ERROR)
	{
		for (i = 0; i < n; i++)
			if (xb[i] != x[i])
				o.evals = -2;	/* x is not the best point */
		fn(x, n, g, arg);
		for (i = 0; i < n; i++)
			o.gmax = fmax(o.gmax, fabs(g[i]));
	}
	mlx_lbfgs_free(lb, &tctx);
	free(g);
	free(xb);
	return o;
}

/* ----------------------------------------------------------------- cases */

static void
t_params(void)
{
	mlx_lbfgs_params p,
				q;
	mlx_lbfgs  *lb = (mlx_lbfgs *) &p;

	mlx_lbfgs_default_params(&p);
	EXPECT(p.m == 10 && p.max_iter == 1000 && p.max_evals == 2000 &&
		   p.gtol == 1e-8 && p.ftol == 0.0, "defaults");
	EXPECT_ST(mlx_lbfgs_create(0, &p, &tctx, &lb), MLX_EINVAL);
	EXPECT(lb == NULL, "*out not cleared");
	EXPECT_ST(mlx_lbfgs_create(-5, &p, &tctx, &lb), MLX_EINVAL);
	EXPECT_ST(mlx_lbfgs_create(3, NULL, &tctx, &lb), MLX_EINVAL);
	EXPECT_ST(mlx_lbfgs_create(3, &p, &tctx, NULL), MLX_EINVAL);
#define BAD(field, value) \
	do { q = p; q.field = value; \
		EXPECT_ST(mlx_lbfgs_create(3, &q, &tctx, &lb), MLX_EINVAL); } while (0)
	BAD(m, 0);
	BAD(m, 101);
	BAD(max_iter, 0);
	BAD(max_evals, 0);
	BAD(gtol, 0.0);
	BAD(gtol, -1.0);
	BAD(gtol, NAN);
	BAD(gtol, INFINITY);
	BAD(ftol, -1e-9);
	BAD(ftol, NAN);
#undef BAD
	q = p;
	q.m = 100;
	q.max_iter = q.max_evals = 1;
	EXPECT_ST(mlx_lbfgs_create(1, &q, &tctx, &lb), MLX_OK);
	EXPECT(lb != NULL && mlx_lbfgs_iterations(lb) == 0 &&
		   mlx_lbfgs_evaluations(lb) == 0, "fresh optimizer");
	mlx_lbfgs_free(lb, &tctx);
	/* an impossible size, and allocation failure */
	EXPECT_ST(mlx_lbfgs_create(INT64_MAX / 2, &p, &tctx, &lb), MLX_ENOMEM);
	talloc.fail_after = 0;
	EXPECT_ST(mlx_lbfgs_create(10, &p, &tctx, &lb), MLX_ENOMEM);
	talloc.fail_after = -1;
	EXPECT(lb == NULL && talloc.live == 0, "leak after ENOMEM");
}

static void
t_rosenbrock2(void)
{
	mlx_lbfgs_params p;
	double		x[2] = {-1.2, 1.0};
	run_out		o;

	mlx_lbfgs_default_params(&p);
	p.gtol = 1e-10;
	o = run(rosenbrock, NULL, 2, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "result %d after %d iterations", (int) o.r,
		   o.iters);
	EXPECT(o.evals == o.calls, "%d evaluations counted, %d made", o.evals, o.calls);
	EXPECT(o.iters >= 20 && o.iters <= 100, "%d iterations", o.iters);
	EXPECT(o.evals <= 2 * o.iters + 10, "%d evaluations for %d iterations", o.evals,
		   o.iters);
	EXPECT_NEAR(x[0], 1.0, 1e-9, "x0");
	EXPECT_NEAR(x[1], 1.0, 1e-9, "x1");
	EXPECT(o.gmax <= 1e-10, "max |g| %g", o.gmax);
	EXPECT(o.f < 1e-18, "f %g", o.f);
	EXPECT(talloc.live == 0, "leak");
}

static void
t_rosenbrock100(void)
{
	mlx_lbfgs_params p;
	double		x[100];
	run_out		o;
	int			i;

	for (i = 0; i < 100; i++)
		x[i] = (i % 2 == 0) ? -1.2 : 1.0;
	mlx_lbfgs_default_params(&p);
	p.gtol = 1e-9;
	o = run(rosenbrock, NULL, 100, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "result %d after %d iterations", (int) o.r,
		   o.iters);
	EXPECT(o.iters <= 200, "%d iterations", o.iters);
	for (i = 0; i < 100; i++)
		EXPECT_NEAR(x[i], 1.0, 1e-8, "x");
	EXPECT(o.gmax <= 1e-9, "max |g| %g", o.gmax);
	/* a shorter memory gets there too */
	for (i = 0; i < 100; i++)
		x[i] = (i % 2 == 0) ? -1.2 : 1.0;
	p.m = 3;
	o = run(rosenbrock, NULL, 100, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "m = 3: result %d after %d iterations",
		   (int) o.r, o.iters);
	for (i = 0; i < 100; i++)
		EXPECT_NEAR(x[i], 1.0, 1e-8, "x with m = 3");
	p.m = 1;
	for (i = 0; i < 100; i++)
		x[i] = (i % 2 == 0) ? -1.2 : 1.0;
	o = run(rosenbrock, NULL, 100, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "m = 1: result %d after %d iterations",
		   (int) o.r, o.iters);
	EXPECT(talloc.live == 0, "leak");
}

static void
t_quadratic(void)
{
	mlx_lbfgs_params p;
	double		x[50];
	quad		q = {1e3, 0};
	run_out		o;
	int			i;

	/* at the optimum f = 0: the test is max |g| <= gtol, near the noise */
	mlx_lbfgs_default_params(&p);
	p.gtol = 1e-9;
	for (i = 0; i < 50; i++)
		x[i] = 0.0;
	o = run(quadratic, &q, 50, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "result %d after %d iterations", (int) o.r,
		   o.iters);
	/*
	 * Backtracking without a curvature condition takes about 400 iterations
	 * here (so does a textbook L-BFGS with plain halving), where exact line
	 * searches would take about 130.
	 */
	EXPECT(o.iters <= 600, "%d iterations", o.iters);
	for (i = 0; i < 50; i++)
		EXPECT_NEAR(x[i], i - 25, 1e-9, "x");
	/* well conditioned: a handful of iterations */
	q.cond = 1.0;
	for (i = 0; i < 50; i++)
		x[i] = 0.0;
	o = run(quadratic, &q, 50, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED && o.iters <= 3, "identity: result %d, %d iterations",
		   (int) o.r, o.iters);
	for (i = 0; i < 50; i++)
		EXPECT_NEAR(x[i], i - 25, 1e-12, "x of the identity");
	/* one variable */
	q.cond = 5.0;
	x[0] = 123.0;
	o = run(quadratic, &q, 1, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED && fabs(x[0]) < 1e-12, "1 variable: %d at %g",
		   (int) o.r, x[0]);
	EXPECT(talloc.live == 0, "leak");
}

/* The first step is scaled to |t d|_inf <= 1. */
static void
t_first_step(void)
{
	mlx_lbfgs_params p;
	mlx_lbfgs  *lb = NULL;
	double		x[2] = {0.0, 0.0};
	double		g[2] = {-512.0, 128.0};

	mlx_lbfgs_default_params(&p);
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &lb), MLX_OK);
	EXPECT(mlx_lbfgs_step(lb, x, 5.0, g) == MLX_LBFGS_EVALUATE, "evaluate");
	EXPECT(x[0] == 1.0 && x[1] == -0.25, "first trial point (%g, %g)", x[0], x[1]);
	mlx_lbfgs_free(lb, &tctx);
	/* a small gradient is not blown up: t = 1 */
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &lb), MLX_OK);
	x[0] = x[1] = 1.0;
	g[0] = 0.5;
	g[1] = -0.25;
	EXPECT(mlx_lbfgs_step(lb, x, 5.0, g) == MLX_LBFGS_EVALUATE, "evaluate");
	EXPECT(x[0] == 0.5 && x[1] == 1.25, "first trial point (%g, %g)", x[0], x[1]);
	mlx_lbfgs_free(lb, &tctx);
}

static void
t_start_errors(void)
{
	mlx_lbfgs_params p;
	mlx_lbfgs  *lb = NULL;
	double		x[2] = {1.0, 2.0};
	double		g[2] = {1.0, 1.0};
	double		xb[2],
				fb;

	mlx_lbfgs_default_params(&p);
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &lb), MLX_OK);
	EXPECT(mlx_lbfgs_step(lb, x, NAN, g) == MLX_LBFGS_ERROR, "NaN f at the start");
	EXPECT(x[0] == 1.0 && x[1] == 2.0, "x changed");
	EXPECT(mlx_lbfgs_step(lb, x, 1.0, g) == MLX_LBFGS_ERROR, "not sticky");
	mlx_lbfgs_best(lb, xb, &fb);
	EXPECT(xb[0] == 1.0 && xb[1] == 2.0 && isnan(fb), "best after an error");
	mlx_lbfgs_free(lb, &tctx);

	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &lb), MLX_OK);
	g[1] = INFINITY;
	EXPECT(mlx_lbfgs_step(lb, x, 1.0, g) == MLX_LBFGS_ERROR, "infinite g at the start");
	mlx_lbfgs_free(lb, &tctx);
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &lb), MLX_OK);
	g[1] = 1.0;
	EXPECT(mlx_lbfgs_step(lb, x, -INFINITY, g) == MLX_LBFGS_ERROR, "-inf f at the start");
	mlx_lbfgs_free(lb, &tctx);

	/* a zero gradient at the start: converged at once, x untouched */
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &lb), MLX_OK);
	g[0] = g[1] = 0.0;
	EXPECT(mlx_lbfgs_step(lb, x, 3.0, g) == MLX_LBFGS_CONVERGED, "zero gradient");
	EXPECT(x[0] == 1.0 && x[1] == 2.0 && mlx_lbfgs_evaluations(lb) == 1 &&
		   mlx_lbfgs_iterations(lb) == 0, "after a zero gradient");
	mlx_lbfgs_best(lb, xb, &fb);
	EXPECT(fb == 3.0 && xb[0] == 1.0, "best");
	mlx_lbfgs_free(lb, &tctx);
	EXPECT(talloc.live == 0, "leak");
}

static void
t_nan_trials(void)
{
	mlx_lbfgs_params p;
	double		x[3] = {0.0, 1.0, 30.0};
	int			nans = 0;
	run_out		o;
	int			i;

	mlx_lbfgs_default_params(&p);
	p.gtol = 1e-10;
	o = run(huber_nan, &nans, 3, x, &p);
	EXPECT(nans >= 1, "no NaN trial point was evaluated");
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "result %d after %d iterations, %d NaNs", (int) o.r,
		   o.iters, nans);
	for (i = 0; i < 3; i++)
		EXPECT_NEAR(x[i], 10.0, 1e-9, "x");
	EXPECT_NEAR(o.f, 3.0, 1e-15, "f");
	EXPECT(talloc.live == 0, "leak");
}

static void
t_limits(void)
{
	mlx_lbfgs_params p;
	double		x[2] = {-1.2, 1.0};
	double		g[2];
	double		f0 = rosenbrock(x, 2, g, NULL);
	run_out		o;

	mlx_lbfgs_default_params(&p);
	p.max_iter = 5;
	o = run(rosenbrock, NULL, 2, x, &p);
	EXPECT(o.r == MLX_LBFGS_MAXITER && o.iters == 5, "max_iter: result %d, %d iterations",
		   (int) o.r, o.iters);
	EXPECT(o.f < f0 && o.f == rosenbrock(x, 2, g, NULL), "best point f %g", o.f);
	EXPECT(o.evals == o.calls, "evaluations");

	x[0] = -1.2;
	x[1] = 1.0;
	mlx_lbfgs_default_params(&p);
	p.max_evals = 7;
	o = run(rosenbrock, NULL, 2, x, &p);
	EXPECT(o.r == MLX_LBFGS_MAXITER && o.evals == 7 && o.calls == 7,
		   "max_evals: result %d, %d evaluations", (int) o.r, o.evals);
	EXPECT(o.f < f0 && o.f == rosenbrock(x, 2, g, NULL), "best point f %g", o.f);

	/* one evaluation: the starting point */
	x[0] = -1.2;
	x[1] = 1.0;
	p.max_evals = 1;
	o = run(rosenbrock, NULL, 2, x, &p);
	EXPECT(o.r == MLX_LBFGS_MAXITER && o.evals == 1 && x[0] == -1.2 && x[1] == 1.0,
		   "max_evals 1: result %d", (int) o.r);
	EXPECT(talloc.live == 0, "leak");
}

static void
t_ftol(void)
{
	mlx_lbfgs_params p;
	double		x[2] = {-1.2, 1.0};
	run_out		full,
				o;

	mlx_lbfgs_default_params(&p);
	p.gtol = 1e-12;
	full = run(rosenbrock, NULL, 2, x, &p);
	x[0] = -1.2;
	x[1] = 1.0;
	p.ftol = 0.05;
	o = run(rosenbrock, NULL, 2, x, &p);
	EXPECT(o.r == MLX_LBFGS_CONVERGED, "result %d", (int) o.r);
	EXPECT(o.iters >= 3 && o.iters < full.iters, "%d iterations, %d without ftol",
		   o.iters, full.iters);
	EXPECT(o.gmax > 1e-12, "the gradient test was met");
}

static void
t_stalled(void)
{
	mlx_lbfgs_params p;
	double		x[2] = {1.0, -2.0};
	run_out		o;

	mlx_lbfgs_default_params(&p);
	o = run(wrong_gradient, NULL, 2, x, &p);
	EXPECT(o.r == MLX_LBFGS_STALLED, "result %d", (int) o.r);
	EXPECT(x[0] == 1.0 && x[1] == -2.0, "x is not the start: (%g, %g)", x[0], x[1]);
	EXPECT(o.f == 5.0 && o.iters == 0, "f %g, %d iterations", o.f, o.iters);
	/* backtracking until t d no longer moves x, or 40 times */
	EXPECT(o.evals >= 10 && o.evals <= 42, "%d evaluations", o.evals);
	EXPECT(talloc.live == 0, "leak");
}

/* The optimizer keeps its place across calls: interleave two of them. */
static void
t_interleaved(void)
{
	mlx_lbfgs_params p;
	mlx_lbfgs  *a = NULL,
			   *b = NULL;
	double		xa[2] = {-1.2, 1.0},
				xb[2] = {-1.2, 1.0};
	double		ga[2],
				gb[2];
	mlx_lbfgs_result ra = MLX_LBFGS_EVALUATE,
				rb = MLX_LBFGS_EVALUATE;
	run_out		ref;
	double		xr[2] = {-1.2, 1.0};

	mlx_lbfgs_default_params(&p);
	ref = run(rosenbrock, NULL, 2, xr, &p);
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &a), MLX_OK);
	EXPECT_ST(mlx_lbfgs_create(2, &p, &tctx, &b), MLX_OK);
	while (ra == MLX_LBFGS_EVALUATE || rb == MLX_LBFGS_EVALUATE)
	{
		if (ra == MLX_LBFGS_EVALUATE)
			ra = mlx_lbfgs_step(a, xa, rosenbrock(xa, 2, ga, NULL), ga);
		if (rb == MLX_LBFGS_EVALUATE)
			rb = mlx_lbfgs_step(b, xb, rosenbrock(xb, 2, gb, NULL), gb);
	}
	EXPECT(ra == ref.r && rb == ref.r, "results %d %d", (int) ra, (int) rb);
	EXPECT(xa[0] == xr[0] && xa[1] == xr[1] && xb[0] == xr[0] && xb[1] == xr[1],
		   "different points");
	EXPECT(mlx_lbfgs_evaluations(a) == ref.evals, "evaluations");
	mlx_lbfgs_free(a, &tctx);
	mlx_lbfgs_free(b, &tctx);
	EXPECT(talloc.live == 0, "leak");
}

int
main(void)
{
	run_case("params_and_create", t_params);
	run_case("rosenbrock_2", t_rosenbrock2);
	run_case("rosenbrock_100", t_rosenbrock100);
	run_case("quadratic_ill_conditioned", t_quadratic);
	run_case("first_step_scaled", t_first_step);
	run_case("non_finite_start_is_error", t_start_errors);
	run_case("nan_trial_points_back_off", t_nan_trials);
	run_case("max_iter_and_max_evals", t_limits);
	run_case("ftol_stops_early", t_ftol);
	run_case("wrong_gradient_stalls_at_start", t_stalled);
	run_case("two_optimizers_interleaved", t_interleaved);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
