/*
 * lbfgs.h
 *	  Limited-memory BFGS minimization by reverse communication: the caller
 *	  evaluates the objective and its gradient wherever the optimizer asks
 *	  (for ml_ext, one parallel pass over the data per evaluation) and hands
 *	  the values back.
 *
 *	  mlx_lbfgs *lb;
 *	  mlx_lbfgs_create(n, &params, ctx, &lb);
 *	  x = starting point;
 *	  for (;;)
 *	  {
 *		  evaluate f(x), g(x);
 *		  r = mlx_lbfgs_step(lb, x, f, g);	   -- may overwrite x
 *		  if (r != MLX_LBFGS_EVALUATE) break;
 *	  }
 *	  mlx_lbfgs_best(lb, x, &f);			   -- the best point seen
 *
 * Directions come from the two-loop recursion over the last m (s, y) pairs
 * (pairs with s.y <= 1e-10 |s| |y| are not stored); the step length from a
 * backtracking line search with the Armijo condition f(x + t d) <= f(x) +
 * 1e-4 t g.d, trying t = 1 first (the first iteration scales the step so
 * that |t d|_inf <= 1), halving (with safeguarded cubic interpolation when
 * it helps) up to 40 times.  A direction that is not a descent direction,
 * or a search along a quasi-Newton direction that fails, drops the history
 * and goes on along -g.  Where the decrease the Armijo condition asks
 * for is below 1e-10 |f(x)| (f then being mostly rounding noise) a point
 * is also accepted when f(x + t d) <= f(x) + 1e-10 |f(x)| and 0.9 g(x).d
 * <= g(x + t d).d <= -0.8 g(x).d (Hager and Zhang's approximate Wolfe
 * conditions), so the gradient can be driven below what f's precision
 * resolves.  Converged
 * when max_i |g_i| <= gtol * max(1, |f|) — or, with ftol > 0, when the
 * relative decrease (f(x) - f(x')) / max(|f(x)|, |f(x')|, 1) of an
 * iteration is below ftol for 3 iterations in a row.
 */
#ifndef MLX_LBFGS_H
#define MLX_LBFGS_H

#include "core/mlx_core.h"

typedef struct mlx_lbfgs_params
{
	int			m;				/* history length, 1..100 (10) */
	int			max_iter;		/* iterations (accepted steps), >= 1 */
	int			max_evals;		/* evaluations in all, >= 1 */
	double		gtol;			/* > 0 */
	double		ftol;			/* >= 0 */
} mlx_lbfgs_params;

typedef enum mlx_lbfgs_result
{
	MLX_LBFGS_EVALUATE = 0,		/* evaluate at the new x and call again */
	MLX_LBFGS_CONVERGED,		/* gradient (or decrease) test met at x */
	MLX_LBFGS_MAXITER,			/* max_iter or max_evals reached */
	MLX_LBFGS_STALLED,			/* the line search found no decrease (x is
								 * the best point; usually the limit of
								 * floating-point precision) */
	MLX_LBFGS_ERROR				/* non-finite f or g at the start point */
} mlx_lbfgs_result;

typedef struct mlx_lbfgs mlx_lbfgs;

/* Defaults: m 10, max_iter 1000, max_evals 2000, gtol 1e-8, ftol 0. */
void		mlx_lbfgs_default_params(mlx_lbfgs_params *p);

/*
 * Create an optimizer for n variables (n >= 1).  MLX_EINVAL for
 * parameters out of range, MLX_ENOMEM.  Free with mlx_lbfgs_free.
 */
mlx_status	mlx_lbfgs_create(int64_t n, const mlx_lbfgs_params *p,
							 const mlx_ctx *ctx, mlx_lbfgs **out);
void		mlx_lbfgs_free(mlx_lbfgs *lb, const mlx_ctx *ctx);

/*
 * Hand over f and g (n doubles) at x, the point last asked for (the
 * starting point on the first call).  Returns what to do next; with
 * MLX_LBFGS_EVALUATE, x has been overwritten by the next point.  A
 * non-finite f or g at a trial point counts as "no decrease" (the line
 * search backs off); at the starting point it is MLX_LBFGS_ERROR (x is
 * left alone).  With MLX_LBFGS_CONVERGED x is the iterate that met the
 * test, which also becomes the best point; with any other result x holds
 * the best point seen (lowest finite f with a finite g).  Calls after a
 * final result return it again.
 */
mlx_lbfgs_result mlx_lbfgs_step(mlx_lbfgs *lb, double *x, double f,
								 const double *g);

/* The best point seen (x, n doubles) and its objective value. */
void		mlx_lbfgs_best(const mlx_lbfgs *lb, double *x, double *f);

/* Accepted iterations and evaluations so far. */
int			mlx_lbfgs_iterations(const mlx_lbfgs *lb);
int			mlx_lbfgs_evaluations(const mlx_lbfgs *lb);

#endif							/* MLX_LBFGS_H */
