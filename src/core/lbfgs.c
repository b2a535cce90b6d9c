/*
 * lbfgs.c
 *	  Limited-memory BFGS by reverse communication: the two-loop recursion
 *	  for directions and a backtracking Armijo line search driven one
 *	  function evaluation at a time (see lbfgs.h for the protocol).
 *
 * The optimizer is a small state machine.  After the starting point has
 * been handed over it is always in the middle of a line search from the
 * current iterate x0 along d: the caller evaluates x0 + t d, and
 * mlx_lbfgs_step either accepts the point (a new iterate, a new pair for
 * the history, a new direction and the first trial point of the next
 * search) or shrinks t and asks for the next trial point.  Everything a
 * line search needs between calls (t, the previous trial step and value,
 * the number of trials) lives in the struct.
 */
#include "core/lbfgs.h"

#include <math.h>
#include <string.h>

/* Armijo's sufficient-decrease constant */
#define LBFGS_C1 1e-4
/* backtracking steps of one line search before giving up */
#define LBFGS_MAX_BACKTRACKS 40
/* a pair is kept only when s.y > this * |s| |y| (curvature condition) */
#define LBFGS_CURV_EPS 1e-10
/* consecutive small decreases that count as convergence */
#define LBFGS_FTOL_ITERS 3

/*
 * Hager and Zhang's approximate Wolfe conditions, for when f is too close
 * to f(x0) for its rounding errors to tell a decrease: f(x + t d) <= f(x)
 * + FNOISE |f(x)| and SIGMA g(x).d <= g(x + t d).d <= (2 DELTA - 1)
 * g(x).d.  The upper bound is the Armijo condition with constant DELTA for
 * a quadratic along d, checked with the (accurate) gradient instead of the
 * (noisy) function values; the lower bound asks the step to have changed
 * the slope, so a step too short to tell anything is not taken for one
 * near the minimum along d.  Used only when the decrease the Armijo
 * condition asks for is below FNOISE |f(x)|.
 */
#define LBFGS_APPROX_DELTA 0.1
#define LBFGS_APPROX_SIGMA 0.9
#define LBFGS_FNOISE 1e-10

typedef enum lbfgs_phase
{
	LB_START,					/* waiting for f, g at the starting point */
	LB_SEARCH,					/* waiting for f, g at a trial point */
	LB_DONE						/* returned a final result */
} lbfgs_phase;

struct mlx_lbfgs
{
	int64_t		n;
	mlx_lbfgs_params p;
	lbfgs_phase phase;
	mlx_lbfgs_result last;		/* the final result once LB_DONE */
	int			iter;			/* accepted steps */
	int			nevals;			/* evaluations handed over */
	int			nsmall;			/* consecutive iterations with a relative
								 * decrease below ftol */

	/* the current iterate */
	double		f0;
	double	   *x0;
	double	   *g0;

	/* the line search from x0 along d */
	double	   *d;
	double		gd;				/* g0 . d, < 0 */
	double		t;				/* step of the pending trial point */
	double		t_prev;			/* the previous trial step with a finite
								 * value in this search, 0 when none */
	double		f_prev;			/* its value */
	int			ntries;			/* failed trial points of this search */
	bool		steepest;		/* d = -g0 (no history used) */

	/* the best point seen */
	double		fbest;
	double	   *xbest;

	/* the history: a ring of up to m (s, y) pairs */
	int			count;			/* pairs held */
	int			head;			/* slot of the next pair */
	double	   *S;				/* m * n */
	double	   *Y;				/* m * n */
	double	   *rho;			/* m: 1 / s.y */
	double	   *alpha;			/* m: two-loop scratch */
};

/* bytes of the struct rounded up so the doubles after it are aligned */
#define LBFGS_HEADER \
	((sizeof(mlx_lbfgs) + sizeof(double) - 1) / sizeof(double) * sizeof(double))

static double
dot(const double *a, const double *b, int64_t n)
{
	double		s = 0.0;
	int64_t		i;

	for (i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static double
max_abs(const double *a, int64_t n)
{
	double		m = 0.0;
	int64_t		i;

	for (i = 0; i < n; i++)
		m = fmax(m, fabs(a[i]));
	return m;
}

static bool
all_finite(const double *a, int64_t n)
{
	int64_t		i;

	for (i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return false;
	return true;
}

/* The gradient test of lbfgs.h at (f, g). */
static bool
gradient_converged(const mlx_lbfgs *lb, double f, const double *g)
{
	return max_abs(g, lb->n) <= lb->p.gtol * fmax(1.0, fabs(f));
}

void
mlx_lbfgs_default_params(mlx_lbfgs_params *p)
{
	p->m = 10;
	p->max_iter = 1000;
	p->max_evals = 2000;
	p->gtol = 1e-8;
	p->ftol = 0.0;
}

mlx_status
mlx_lbfgs_create(int64_t n, const mlx_lbfgs_params *p, const mlx_ctx *ctx,
				 mlx_lbfgs **out)
{
	mlx_lbfgs  *lb;
	size_t		per;
	size_t		size;
	double	   *v;
	int64_t		i;

	if (out == NULL)
		return MLX_EINVAL;
	*out = NULL;
	if (p == NULL || n < 1 || p->m < 1 || p->m > 100 || p->max_iter < 1 ||
		p->max_evals < 1 || !isfinite(p->gtol) || !(p->gtol > 0.0) ||
		!isfinite(p->ftol) || !(p->ftol >= 0.0))
		return MLX_EINVAL;
	/* x0, g0, d, xbest and the m pairs: (4 + 2m) vectors, then rho, alpha */
	per = sizeof(double) * (4 + 2 * (size_t) p->m);
	if ((uint64_t) n > (SIZE_MAX / 2) / per)
		return MLX_ENOMEM;
	size = LBFGS_HEADER + per * (size_t) n + 2 * sizeof(double) * (size_t) p->m;
	lb = mlx_alloc(ctx, size);
	if (lb == NULL)
		return MLX_ENOMEM;
	memset(lb, 0, sizeof(*lb));
	lb->n = n;
	lb->p = *p;
	lb->phase = LB_START;
	v = (double *) ((char *) lb + LBFGS_HEADER);
	lb->x0 = v;
	lb->g0 = v + n;
	lb->d = v + 2 * n;
	lb->xbest = v + 3 * n;
	lb->S = v + 4 * n;
	lb->Y = lb->S + (size_t) p->m * (size_t) n;
	lb->rho = lb->Y + (size_t) p->m * (size_t) n;
	lb->alpha = lb->rho + p->m;
	for (i = 0; i < n; i++)
		lb->xbest[i] = 0.0;
	lb->fbest = NAN;
	*out = lb;
	return MLX_OK;
}

void
mlx_lbfgs_free(mlx_lbfgs *lb, const mlx_ctx *ctx)
{
	mlx_free(ctx, lb);
}

/*
 * d = -H g0 by the two-loop recursion over the history, H0 = gamma I with
 * gamma = s.y / y.y of the newest pair; d = -g0 without history.
 */
static void
direction(mlx_lbfgs *lb)
{
	int64_t		n = lb->n;
	int			m = lb->p.m;
	double	   *d = lb->d;
	int			k,
				slot;
	int64_t		i;

	lb->steepest = (lb->count == 0);
	for (i = 0; i < n; i++)
		d[i] = lb->g0[i];
	if (lb->count > 0)
	{
		const double *s;
		const double *y;
		double		gamma;

		/* newest to oldest */
		for (k = 0; k < lb->count; k++)
		{
			slot = (lb->head - 1 - k + 2 * m) % m;
			s = lb->S + (size_t) slot * n;
			y = lb->Y + (size_t) slot * n;
			lb->alpha[slot] = lb->rho[slot] * dot(s, d, n);
			for (i = 0; i < n; i++)
				d[i] -= lb->alpha[slot] * y[i];
		}
		slot = (lb->head - 1 + m) % m;
		s = lb->S + (size_t) slot * n;
		y = lb->Y + (size_t) slot * n;
		gamma = dot(s, y, n) / dot(y, y, n);
		for (i = 0; i < n; i++)
			d[i] *= gamma;
		/* oldest to newest */
		for (k = lb->count - 1; k >= 0; k--)
		{
			double		beta;

			slot = (lb->head - 1 - k + 2 * m) % m;
			s = lb->S + (size_t) slot * n;
			y = lb->Y + (size_t) slot * n;
			beta = lb->rho[slot] * dot(y, d, n);
			for (i = 0; i < n; i++)
				d[i] += s[i] * (lb->alpha[slot] - beta);
		}
	}
	for (i = 0; i < n; i++)
		d[i] = -d[i];
}

/* Write the trial point x0 + t d into x; false when it equals x0. */
static bool
set_trial(mlx_lbfgs *lb, double *x)
{
	bool		moved = false;
	int64_t		i;

	for (i = 0; i < lb->n; i++)
	{
		x[i] = lb->x0[i] + lb->t * lb->d[i];
		if (x[i] != lb->x0[i])
			moved = true;
	}
	return moved;
}

/*
 * Start a line search along the direction in d (replaced by -g0 when it is
 * not a finite descent direction, the history then dropped) and write its
 * first trial point into x.  A steepest-descent step is scaled so that
 * |t d|_inf <= 1; a quasi-Newton one tries t = 1.  Returns false when no
 * trial point differs from x0.
 */
static bool
start_search(mlx_lbfgs *lb, double *x)
{
	int64_t		i;

	lb->gd = dot(lb->g0, lb->d, lb->n);
	if (!lb->steepest && !(lb->gd < 0.0 && isfinite(lb->gd) &&
						   all_finite(lb->d, lb->n)))
	{
		lb->count = 0;
		lb->head = 0;
		lb->steepest = true;
		for (i = 0; i < lb->n; i++)
			lb->d[i] = -lb->g0[i];
		lb->gd = dot(lb->g0, lb->d, lb->n);
	}
	if (!(lb->gd < 0.0 && isfinite(lb->gd)))
		return false;
	lb->t = lb->steepest ? fmin(1.0, 1.0 / max_abs(lb->d, lb->n)) : 1.0;
	lb->t_prev = 0.0;
	lb->f_prev = 0.0;
	lb->ntries = 0;
	return set_trial(lb, x);
}

/* Stop with a final result: x gets the best point. */
static mlx_lbfgs_result
finish(mlx_lbfgs *lb, double *x, mlx_lbfgs_result r)
{
	lb->phase = LB_DONE;
	lb->last = r;
	memcpy(x, lb->xbest, sizeof(double) * (size_t) lb->n);
	return r;
}

/*
 * Stop with MLX_LBFGS_CONVERGED at the iterate that met the test, which
 * becomes the best point: near the optimum f is mostly rounding noise, and
 * a point with a lower f but a larger gradient is not a better answer.
 */
static mlx_lbfgs_result
finish_converged(mlx_lbfgs *lb, double *x)
{
	memcpy(lb->xbest, lb->x0, sizeof(double) * (size_t) lb->n);
	lb->fbest = lb->f0;
	return finish(lb, x, MLX_LBFGS_CONVERGED);
}

/* Begin the next line search from x0, or stop when none can be started. */
static mlx_lbfgs_result
next_search(mlx_lbfgs *lb, double *x)
{
	direction(lb);
	if (!start_search(lb, x))
	{
		/* a quasi-Newton direction too short to move: try steepest descent */
		if (lb->steepest)
			return finish(lb, x, MLX_LBFGS_STALLED);
		lb->count = 0;
		lb->head = 0;
		direction(lb);
		if (!start_search(lb, x))
			return finish(lb, x, MLX_LBFGS_STALLED);
	}
	lb->phase = LB_SEARCH;
	return MLX_LBFGS_EVALUATE;
}

/*
 * The trial point x (value f, gradient g) satisfied the Armijo condition:
 * store the pair, make x the iterate and test for convergence.
 */
static mlx_lbfgs_result
accept(mlx_lbfgs *lb, double *x, double f, const double *g)
{
	int64_t		n = lb->n;
	double	   *s = lb->S + (size_t) lb->head * n;
	double	   *y = lb->Y + (size_t) lb->head * n;
	double		sy,
				ss,
				yy,
				rel;
	int64_t		i;

	for (i = 0; i < n; i++)
	{
		s[i] = x[i] - lb->x0[i];
		y[i] = g[i] - lb->g0[i];
	}
	sy = dot(s, y, n);
	ss = dot(s, s, n);
	yy = dot(y, y, n);
	if (isfinite(sy) && isfinite(ss) && isfinite(yy) &&
		sy > LBFGS_CURV_EPS * sqrt(ss) * sqrt(yy))
	{
		lb->rho[lb->head] = 1.0 / sy;
		lb->head = (lb->head + 1) % lb->p.m;
		if (lb->count < lb->p.m)
			lb->count++;
	}
	else if (lb->count == lb->p.m)
		lb->count--;			/* the oldest pair's slot was overwritten */

	rel = (lb->f0 - f) / fmax(fmax(fabs(lb->f0), fabs(f)), 1.0);
	lb->nsmall = (lb->p.ftol > 0.0 && rel < lb->p.ftol) ? lb->nsmall + 1 : 0;
	memcpy(lb->x0, x, sizeof(double) * (size_t) n);
	memcpy(lb->g0, g, sizeof(double) * (size_t) n);
	lb->f0 = f;
	lb->iter++;

	if (gradient_converged(lb, f, g) || lb->nsmall >= LBFGS_FTOL_ITERS)
		return finish_converged(lb, x);
	if (lb->iter >= lb->p.max_iter || lb->nevals >= lb->p.max_evals)
		return finish(lb, x, MLX_LBFGS_MAXITER);
	return next_search(lb, x);
}

/* Whether the trial point (f, g finite) is acceptable (see LBFGS_C1). */
static bool
sufficient_decrease(const mlx_lbfgs *lb, double f, const double *g)
{
	double		want = LBFGS_C1 * lb->t * lb->gd;	/* < 0 */
	double		noise = LBFGS_FNOISE * fabs(lb->f0);

	double		slope;

	if (f <= lb->f0 + want)
		return true;
	if (!(-want <= noise && f <= lb->f0 + noise))
		return false;
	slope = dot(g, lb->d, lb->n);
	return slope >= LBFGS_APPROX_SIGMA * lb->gd &&
		slope <= (2.0 * LBFGS_APPROX_DELTA - 1.0) * lb->gd;
}

/*
 * The next step length after a failed trial at t (value f, possibly not
 * finite): the minimizer of the quadratic through f0, g0.d and f(t), or of
 * the cubic through f0, g0.d and the last two finite values, clamped to
 * [0.1 t, 0.5 t]; plain halving when f is not finite or the model fails.
 */
static double
backtrack_step(const mlx_lbfgs *lb, double f)
{
	double		t = lb->t;
	double		gd = lb->gd;
	double		tn;

	if (!isfinite(f))
		return 0.5 * t;
	if (lb->t_prev == 0.0)
		tn = -gd * t * t / (2.0 * (f - lb->f0 - gd * t));
	else
	{
		double		t1 = lb->t_prev;
		double		r1 = f - lb->f0 - gd * t;
		double		r2 = lb->f_prev - lb->f0 - gd * t1;
		double		a = (r1 / (t * t) - r2 / (t1 * t1)) / (t - t1);
		double		b = (-t1 * r1 / (t * t) + t * r2 / (t1 * t1)) / (t - t1);

		if (a == 0.0)
			tn = -gd / (2.0 * b);
		else
		{
			double		disc = b * b - 3.0 * a * gd;

			tn = (disc >= 0.0) ? (-b + sqrt(disc)) / (3.0 * a) : NAN;
		}
	}
	if (!isfinite(tn))
		return 0.5 * t;
	return fmin(fmax(tn, 0.1 * t), 0.5 * t);
}

mlx_lbfgs_result
mlx_lbfgs_step(mlx_lbfgs *lb, double *x, double f, const double *g)
{
	int64_t		n = lb->n;
	bool		ok;

	if (lb->phase == LB_DONE)
		return finish(lb, x, lb->last);
	lb->nevals++;
	ok = isfinite(f) && all_finite(g, n);

	if (lb->phase == LB_START)
	{
		memcpy(lb->xbest, x, sizeof(double) * (size_t) n);
		lb->fbest = f;
		if (!ok)
		{
			lb->phase = LB_DONE;
			lb->last = MLX_LBFGS_ERROR;
			return MLX_LBFGS_ERROR;
		}
		memcpy(lb->x0, x, sizeof(double) * (size_t) n);
		memcpy(lb->g0, g, sizeof(double) * (size_t) n);
		lb->f0 = f;
		if (gradient_converged(lb, f, g))
			return finish_converged(lb, x);
		if (lb->nevals >= lb->p.max_evals)
			return finish(lb, x, MLX_LBFGS_MAXITER);
		return next_search(lb, x);
	}

	/* a trial point of the line search */
	if (ok && f < lb->fbest)
	{
		memcpy(lb->xbest, x, sizeof(double) * (size_t) n);
		lb->fbest = f;
	}
	if (ok && sufficient_decrease(lb, f, g))
		return accept(lb, x, f, g);

	/* no sufficient decrease: back off */
	lb->ntries++;
	if (lb->nevals >= lb->p.max_evals)
		return finish(lb, x, MLX_LBFGS_MAXITER);
	if (lb->ntries > LBFGS_MAX_BACKTRACKS)
	{
		/* the history may be what misleads: retry along -g0 once */
		if (lb->steepest)
			return finish(lb, x, MLX_LBFGS_STALLED);
		lb->count = 0;
		lb->head = 0;
		return next_search(lb, x);
	}
	{
		double		tn = backtrack_step(lb, f);

		if (isfinite(f))
		{
			lb->t_prev = lb->t;
			lb->f_prev = f;
		}
		else
			lb->t_prev = 0.0;
		lb->t = tn;
	}
	if (!set_trial(lb, x))
	{
		if (lb->steepest)
			return finish(lb, x, MLX_LBFGS_STALLED);
		lb->count = 0;
		lb->head = 0;
		return next_search(lb, x);
	}
	return MLX_LBFGS_EVALUATE;
}

void
mlx_lbfgs_best(const mlx_lbfgs *lb, double *x, double *f)
{
	if (x != NULL)
		memcpy(x, lb->xbest, sizeof(double) * (size_t) lb->n);
	if (f != NULL)
		*f = lb->fbest;
}

int
mlx_lbfgs_iterations(const mlx_lbfgs *lb)
{
	return lb->iter;
}

int
mlx_lbfgs_evaluations(const mlx_lbfgs *lb)
{
	return lb->nevals;
}
