/*
 * enet.h
 *	  Lasso and elastic net by coordinate descent on sufficient statistics.
 *
 * One parallel pass folds the rows into the streaming QR state of linear
 * regression (mlx_linreg_state, intercept column first, lambda 0).  With
 * the column of ones first, the rows and columns 1..k+1 of its R factor are
 * the R factor of the centred [Xc | yc], so the centred Gram matrix Xc'Xc
 * and Xc'yc are R_xx' R_xx and R_xx' r_xy, formed once (O(k^3), independent
 * of the row count).  Coordinate descent then minimizes scikit-learn's
 * objective
 *
 *	  1 / (2 n) |yc - Xc w|^2 + alpha l1_ratio |w|_1
 *	    + alpha (1 - l1_ratio) / 2 |w|^2
 *
 * on the Gram matrix (cyclic, features in order, as sklearn's "cyclic"
 * selection), and the intercept is mean(y) - mean(x).w (fit_intercept =
 * True; no feature scaling, as sklearn's Lasso/ElasticNet today).  Lasso is
 * l1_ratio = 1.  Convergence is checked as scikit-learn does: when the
 * largest coordinate update of a sweep is below tol times the largest
 * coefficient (and after the last sweep), the duality gap is computed and
 * the loop stops when it is at most tol * |yc|^2 / n.  (sklearn requires
 * strictly below; at most lets a constant y, fitted exactly by w = 0 with a
 * gap of exactly 0, converge.)  A constant feature, whose centred column is
 * exactly 0 (see mlx_linreg_copy_r), keeps a zero coefficient.  Without
 * an L1 part (l1_ratio = 0 or alpha = 0) the fit is the solution of (Xc'Xc
 * + n alpha I) w = Xc'yc by Cholesky (one "sweep", converged), falling
 * back to coordinate descent when that matrix is not positive definite.
 */
#ifndef MLX_ENET_H
#define MLX_ENET_H

#include "core/linreg.h"
#include "core/mlx_core.h"

typedef struct mlx_enet_fit
{
	int32_t		nfeat;			/* k >= 1 */
	bool		intercept;		/* always true for now */
	double		alpha;			/* >= 0 */
	double		l1_ratio;		/* 0 .. 1 (1 = lasso) */
	int64_t		nrows;			/* rows used */
	int64_t		nskipped;		/* rows the caller skipped */
	int32_t		iterations;		/* coordinate-descent sweeps run */
	bool		converged;
	double		dual_gap;		/* final duality gap, in objective units
								 * (sklearn's dual_gap_) */
	double		r2;				/* training R^2, 1 - RSS / TSS (NaN when TSS
								 * is 0) */
	int32_t		nonzero;		/* slopes that are not exactly 0 */
	double	   *coef;			/* nfeat + 1: [0] intercept, then slopes */
} mlx_enet_fit;

/*
 * Fit from the rows folded into s (initialized with an intercept and lambda
 * 0, else MLX_EINVAL; at least 1 row).  alpha >= 0 and finite, l1_ratio in
 * [0, 1], max_iter >= 1, tol > 0 and finite, else MLX_EINVAL.  alpha = 0
 * is ordinary least squares by coordinate descent (allowed, as in sklearn,
 * but its duality gap is then RSS / 2, so it converges only when 1 - R^2
 * <= 2 tol and otherwise runs all max_iter sweeps).  s is not modified.
 * MLX_ENONFINITE when the Gram matrix overflows (data near the limits of
 * double precision).
 * Not converging in max_iter sweeps is not an error: converged is false.
 * The coefficient array is allocated from ctx.  Polls ctx's interrupt hook
 * every sweep (MLX_EINTR).
 */
mlx_status	mlx_enet_from_state(const mlx_linreg_state *s, double alpha,
								double l1_ratio, int max_iter, double tol,
								const mlx_ctx *ctx, mlx_enet_fit *out);

#endif							/* MLX_ENET_H */
