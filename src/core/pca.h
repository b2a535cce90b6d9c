/*
 * pca.h
 *	  Principal component analysis from the streaming QR state of linear
 *	  regression.
 *
 * The rows are folded into the same state as linear regression
 * (mlx_linreg_state, with an intercept column and y = 0), so the pass is a
 * parallel aggregate that merges by TSQR.  With the column of ones first,
 * the R factor of [1 | X | y] has R[0][0] = +-sqrt(n) and R[0][j] =
 * +-sum(x_j) / sqrt(n) (the same sign), so the means are R[0][j] / R[0][0];
 * and the block of R on the feature rows and columns (rows and columns 1..k,
 * a k x k upper triangle) is the R factor of the centred data Xc, because
 * the first Householder step removes the mean.  Its singular value
 * decomposition R_xx = U S V' gives Xc'Xc = V S^2 V' without ever forming
 * Xc'Xc: the right singular vectors are the principal axes, S the singular
 * values of Xc, and S^2 / (n - 1) the explained variances (scikit-learn's
 * PCA conventions).  A constant feature has exactly zero variance: the
 * rounding residue its centring leaves in R is cleared first (see
 * mlx_linreg_copy_r).
 */
#ifndef MLX_PCA_H
#define MLX_PCA_H

#include "core/linreg.h"
#include "core/mlx_core.h"

/*
 * The most features a PCA takes.  The SVD of the k x k centred R factor is
 * one LAPACK call, O(k^3), that cannot poll for cancel; at 1,200 features
 * it takes about 0.5 s (dgesdd, OpenBLAS on one thread of the 2-core test
 * machine; 1,600 features took 1.2 s, and dgesvd 6.1 s), so a cancel or a
 * statement_timeout waits at most about that long.  Larger inputs are
 * refused rather than run uninterruptibly.
 */
#define MLX_PCA_MAX_FEATURES 1200

/*
 * A fitted PCA.  Components are orthonormal rows; the sign of each is fixed
 * so that its entry of largest absolute value (the first such on ties) is
 * positive, which makes results deterministic (scikit-learn fixes signs from
 * the data's left singular vectors, so its components may differ by sign).
 */
typedef struct mlx_pca_fit
{
	int32_t		nfeat;			/* k >= 1 */
	int32_t		ncomp;			/* 1 .. min(k, nrows) */
	int64_t		nrows;			/* rows used, >= 2 */
	int64_t		nskipped;		/* rows the caller skipped */
	double		total_variance; /* sum of the k sample variances (n - 1
								 * denominators), >= 0 */
	double	   *mean;			/* k: feature means */
	double	   *components;		/* ncomp * k, row-major: component c is
								 * components[c * k .. c * k + k - 1] */
	double	   *explained_variance; /* ncomp: S^2 / (n - 1), non-increasing */
	double	   *explained_variance_ratio;	/* ncomp: over total_variance (0
											 * when that is 0) */
	double	   *singular_values;	/* ncomp: of the centred data */
} mlx_pca_fit;

/*
 * PCA of the rows folded into s, which must have been initialized with an
 * intercept and lambda 0 (else MLX_EINVAL); y is ignored.  Needs at least 2
 * rows, at most MLX_PCA_MAX_FEATURES features and 1 <= ncomp <= min(nfeat,
 * nrows) (else MLX_EINVAL).  s is not
 * modified (buffered rows are folded into a copy).  Arrays are allocated
 * from ctx; MLX_ELAPACK if the SVD fails, MLX_EINTR when interrupted.
 */
mlx_status	mlx_pca_from_state(const mlx_linreg_state *s, int ncomp,
							   const mlx_ctx *ctx, mlx_pca_fit *out);

/*
 * Project one row: out[c] = sum_j (x[j] - mean[j]) * components[c][j] for
 * c < ncomp.  x is nfeat doubles at any alignment; out holds ncomp.
 */
void		mlx_pca_transform(const mlx_pca_fit *f, const void *x, double *out);

#endif							/* MLX_PCA_H */
