/*
 * linreg.h
 *	  Streaming least squares (ordinary and ridge) by incremental QR.
 *
 * The aggregate state is one flat, position-independent block of memory: a
 * fixed header followed by doubles.  It holds the upper-triangular factor R
 * of the augmented design [1 | X | y] (the intercept column only when
 * fitting one) and a small buffer of raw rows.  Rows are appended to the
 * buffer; a full buffer is folded into R with one Householder update of the
 * stacked [R; rows] (core/qrfold.c, or LAPACK dtpqrt where that declines).  Two states merge by
 * re-factoring their stacked R factors (TSQR, dtpqrt with a triangular lower
 * block).  State size depends only on the feature count, never on the rows.
 *
 * Why R of the augmented matrix: its last column holds Q'y, and its last
 * diagonal entry is the residual norm, so coefficients, RSS and TSS all come
 * out of R alone (no normal equations, no squared condition number).
 *
 * Layout of the block (all native byte order; the PostgreSQL glue keeps it
 * 8-byte aligned):
 *
 *	  mlx_linreg_state  header (40 bytes)
 *	  double R[p * p]   column-major, upper triangle significant, p = ncols
 *	  double buf[bufrows * p]  buffered rows [1,] x_1..x_k, y, column-major
 *							   (bufrows rows), so the fold reads them in place
 *
 * where p = nfeat + 1 (y) + 1 if fitting an intercept.
 */
#ifndef MLX_LINREG_H
#define MLX_LINREG_H

#include "core/mlx_core.h"

#define MLX_LINREG_STATE_VERSION 1
#define MLX_LINREG_MAX_FEATURES 2000

/* state flags */
#define MLX_LINREG_F_INTERCEPT 0x01

typedef struct mlx_linreg_state
{
	uint8_t		version;		/* MLX_LINREG_STATE_VERSION */
	uint8_t		flags;			/* MLX_LINREG_F_* */
	uint16_t	bufrows;		/* capacity of the row buffer */
	int32_t		nfeat;			/* k, number of features (>= 1) */
	int32_t		nbuf;			/* rows waiting in the buffer */
	int32_t		reserved;		/* zero */
	int64_t		nrows;			/* rows folded in, buffered ones included */
	int64_t		nskipped;		/* rows the caller skipped (NULL y or x) */
	double		lambda;			/* ridge penalty, >= 0 */
	/* double data[] follows: R then the row buffer */
} mlx_linreg_state;

/* Number of columns of the augmented design. */
int			mlx_linreg_ncols(int nfeat, bool intercept);

/*
 * Bytes of a whole state block (header + R + buffer) for nfeat features;
 * 0 when nfeat is outside 1..MLX_LINREG_MAX_FEATURES.
 */
size_t		mlx_linreg_state_size(int nfeat, bool intercept);

/*
 * Initialize a block of mlx_linreg_state_size() bytes: zero R, empty
 * buffer, zero counters.  Returns MLX_EINVAL for nfeat out of range or a
 * lambda that is negative or not finite.
 */
mlx_status	mlx_linreg_state_init(mlx_linreg_state *s, int nfeat, double lambda,
								  bool intercept);

/*
 * Check a state block of 'size' bytes that came from outside (an aggregate
 * input, a user calling the combine function by hand): version, feature
 * count, buffer capacity and fill, counters, lambda, total size.  Returns
 * MLX_ECORRUPT (with a message in errbuf) or MLX_OK.  Never reads beyond
 * 'size' bytes.  The block must be 8-byte aligned.
 */
mlx_status	mlx_linreg_state_validate(const mlx_linreg_state *s, size_t size,
									  char *errbuf, size_t errlen);

/*
 * Check the numbers of a state that passed mlx_linreg_state_validate: the
 * upper triangle of R and the buffered rows must be finite, as in every
 * state built from finite rows whose sums of squares stay below DBL_MAX;
 * LAPACK fails on NaN.  O(p^2), so for combine and final functions, not
 * per row.  MLX_ECORRUPT (with a message in errbuf) or MLX_OK.
 */
mlx_status	mlx_linreg_state_check_values(const mlx_linreg_state *s,
										  char *errbuf, size_t errlen);

/*
 * Append one row.  x points to nfeat doubles and need not be aligned.
 * Returns MLX_ENONFINITE with *bad_index set to the 0-based feature index
 * (or -1 for y) when a value is NaN or infinite; the state is unchanged
 * then (its counters, R and buffered rows: the free buffer slot past nbuf
 * may hold the rejected row's scratch).  Folds the buffer into R when it is full (may return MLX_ENOMEM,
 * MLX_ELAPACK).
 */
mlx_status	mlx_linreg_add_row(mlx_linreg_state *s, double y, const void *x,
							   const mlx_ctx *ctx, int *bad_index);

/*
 * Append one row with a weight: the row [1 (with an intercept), x, y] is
 * multiplied by sqrt(weight) before it is folded in, so the fit minimizes
 * sum weight * (y - intercept - x.beta)^2 (+ lambda |beta|^2).  This is the
 * weighted least-squares step of IRLS (logistic regression, GLMs).
 * weight must be finite and >= 0, else MLX_ENONFINITE with *bad_index = -2
 * (also when a weighted value would overflow to infinity); non-finite x or
 * y are reported as by mlx_linreg_add_row.  A row of weight 0 adds nothing
 * and is NOT counted in nrows (it is checked, then dropped), so nrows is the
 * number of rows of positive weight.  mlx_linreg_add_row(s, y, x, ...) is
 * this function with weight 1 and gives the same state bit for bit.  On any
 * failure the state is unchanged, as for mlx_linreg_add_row.
 */
mlx_status	mlx_linreg_add_row_weighted(mlx_linreg_state *s, double y,
										const void *x, double weight,
										const mlx_ctx *ctx, int *bad_index);

/*
 * Do two states of the same shape hold the same rows, bit for bit: the
 * header, R and the buffered rows (not the free buffer slots)?
 */
bool		mlx_linreg_same_rows(const mlx_linreg_state *a,
								 const mlx_linreg_state *b);

/* Fold buffered rows into R (no-op when the buffer is empty). */
mlx_status	mlx_linreg_flush(mlx_linreg_state *s, const mlx_ctx *ctx);

/*
 * A copy of the p-by-p R factor of all the rows in s, the buffered ones
 * folded in (s is not modified), for models that work on R itself (PCA,
 * elastic net).  *R is allocated from ctx, column-major, with the strict
 * lower triangle zero.  With an intercept, a column whose centred part
 * (rows 1 and below) is only the rounding residue of centring a constant
 * -- a constant feature or a constant y -- gets that part set to exactly
 * zero (the test mlx_linreg_solve applies to features), so a constant has
 * exactly zero centred sum of squares.  Returns MLX_ENOMEM, MLX_ELAPACK or
 * MLX_EINTR with *R = NULL on failure.
 */
mlx_status	mlx_linreg_copy_r(const mlx_linreg_state *s, const mlx_ctx *ctx,
							  double **R);

/*
 * The means of the nfeat features over the rows of a state with an
 * intercept column, read off the first row of R: (R'R)[0][j] = R[0][0]
 * R[0][j] is the column's sum and R[0][0]^2 the row count.  MLX_EINVAL
 * for a state without the intercept column or without rows.
 */
mlx_status	mlx_linreg_means(const mlx_linreg_state *s, const mlx_ctx *ctx,
							 double *means);

/*
 * The same rows without the intercept column: 'dst', initialized by the
 * caller for the same nfeat without an intercept (any lambda), receives
 * the rows of R less its first column -- whose cross products are exactly
 * X'X, X'y and y'y -- and then src's row count.  MLX_EINVAL when src has
 * no intercept column or dst is not empty with the same nfeat.
 */
mlx_status	mlx_linreg_drop_intercept(const mlx_linreg_state *src,
									  mlx_linreg_state *dst,
									  const mlx_ctx *ctx);

/*
 * How coefficients fit the rows a state with an intercept column holds,
 * without the rows: their count, the mean and centred sum of squares of y
 * and of the residual e = y - coef[0] - x.coef[1..nfeat] (coef[0] is 0
 * for a model without intercept), as the regression-metrics moments of
 * core/metrics.h (abs_sum, which needs the rows, is NaN).  Each sum of
 * squares is the squared norm of R v for one vector v, so nothing cancels
 * the way y'y - n ybar^2 would.  MLX_EINVAL for a state without the
 * intercept column.
 */
struct mlx_regmoments;
mlx_status	mlx_linreg_residual_moments(const mlx_linreg_state *s,
										const double *coef,
										const mlx_ctx *ctx,
										struct mlx_regmoments *out);

/*
 * Merge 'other' into 's' (TSQR).  Both must have the same nfeat, flags and
 * lambda, else MLX_EMISMATCH.  'other' is not modified.
 */
mlx_status	mlx_linreg_merge(mlx_linreg_state *s, const mlx_linreg_state *other,
							 const mlx_ctx *ctx);

/*
 * Fitted model and its statistics.  Arrays have nfeat + 1 entries: index 0
 * is the intercept (0 and NaN statistics when no intercept was fitted),
 * 1..nfeat the features in order.  Statistics that are not defined (ridge,
 * rank-deficient design, no residual degrees of freedom) are NaN.
 */
typedef struct mlx_linreg_fit
{
	int32_t		nfeat;
	bool		intercept;		/* an intercept was fitted */
	double		lambda;
	int64_t		nrows;			/* rows used */
	int64_t		nskipped;		/* rows skipped by the caller */
	int32_t		rank;			/* numerical rank of the (centred) features */
	double		df_resid;		/* nrows - rank - intercept */
	double		rss;			/* residual sum of squares */
	double		tss;			/* total sum of squares (centred iff intercept) */
	double		r2;
	double		adj_r2;
	double		sigma;			/* residual standard error */
	double	   *coef;			/* nfeat + 1 */
	double	   *se;				/* nfeat + 1 */
	double	   *tval;			/* nfeat + 1 */
	double	   *pval;			/* nfeat + 1 */
	/*
	 * Rank-deficiency diagnostics: the 0-based indexes of the features found
	 * to be (numerically) linear combinations of the others or constant,
	 * ndependent of them; NULL/0 when full rank.
	 */
	int32_t		ndependent;
	int32_t    *dependent;
} mlx_linreg_fit;

/*
 * Solve the (ridge) least-squares problem held in a state.  Works on a copy:
 * 's' is not modified.  Minimum-norm solution for a rank-deficient design,
 * with the intercept unpenalized and outside the norm (as scikit-learn's
 * LinearRegression/Ridge do by centring).  Returns MLX_EINVAL when the state
 * has no rows.  The result's arrays come from ctx.
 */
mlx_status	mlx_linreg_solve(const mlx_linreg_state *s, const mlx_ctx *ctx,
							 mlx_linreg_fit *out);

/* Prediction: intercept + coef . x, x of nfeat doubles (need not be aligned). */
double		mlx_linreg_predict(const mlx_linreg_fit *fit, const void *x);

#endif							/* MLX_LINREG_H */
