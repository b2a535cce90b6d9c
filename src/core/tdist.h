/*
 * tdist.h
 *	  Special functions for inference: the regularized incomplete beta
 *	  function and the Student-t distribution built on it.
 */
#ifndef MLX_TDIST_H
#define MLX_TDIST_H

/*
 * Regularized incomplete beta I_x(a, b) for a > 0, b > 0, 0 <= x <= 1;
 * NaN for arguments outside that domain.  Relative accuracy ~1e-14.
 */
double		mlx_betainc(double a, double b, double x);

/* Student-t CDF P(T <= t) with df > 0 degrees of freedom (NaN otherwise). */
double		mlx_t_cdf(double t, double df);

/*
 * Two-sided p-value P(|T| >= |t|), computed directly from I_x so tiny
 * p-values keep their relative accuracy (no 1 - cdf cancellation).
 */
double		mlx_t_pvalue2(double t, double df);

#endif							/* MLX_TDIST_H */
