/*
 * logreg.h
 *	  Binary logistic regression: the fitted model, the per-row quantities of
 *	  an IRLS pass, scoring, and inference from the last weighted
 *	  least-squares step.
 *
 * Training is iteratively reweighted least squares, one pass over the data
 * per iteration.  A pass takes the current coefficients beta and, for each
 * row with label y in {0, 1} and class weight cw, computes eta = beta0 +
 * x.beta, p = sigma(eta), w = cw p (1 - p) and the working response z = eta
 * + (y - p) / (p (1 - p)) (mlx_logreg_working), and folds the row with
 * weight w into an ordinary streaming least-squares state
 * (mlx_linreg_add_row_weighted; the intercept column is unpenalized, the
 * ridge lambda penalizes the slopes).  Solving that state (mlx_linreg_solve)
 * gives the next beta: minimizing sum w (z - beta0 - x.beta)^2 + lambda
 * |beta|^2 is exactly the Newton step for the log-likelihood penalized by
 * (lambda / 2) |beta|^2 (scikit-learn's C = 1 / lambda).  States merge, so
 * every pass is a parallel aggregate.  At convergence the unscaled
 * covariance is (X'WX + lambda I)^-1; for lambda = 0 that is the usual
 * maximum-likelihood covariance (statsmodels' Logit cov_params), which
 * mlx_logreg_from_wls derives from the last weighted fit.
 */
#ifndef MLX_LOGREG_H
#define MLX_LOGREG_H

#include "core/linreg.h"
#include "core/mlx_core.h"

/*
 * A fitted binary logistic regression.  Arrays have nfeat + 1 entries:
 * index 0 is the intercept (coefficient 0 and NaN statistics when none was
 * fitted), 1..nfeat the features in order.  Undefined statistics are NaN.
 */
typedef struct mlx_logreg_fit
{
	int32_t		nfeat;
	bool		intercept;
	double		lambda;			/* ridge penalty on the slopes, >= 0 */
	int64_t		nrows;			/* rows used */
	int64_t		nskipped;		/* rows skipped (NULL label or features) */
	int32_t		iterations;		/* IRLS passes run */
	bool		converged;
	bool		separation;		/* perfect/quasi separation detected */
	double		loglik;			/* (class-weighted) log-likelihood */
	double		loglik_null;	/* of the intercept-only (or p = 1/2) model */
	double		deviance;		/* -2 loglik */
	double	   *coef;			/* nfeat + 1 */
	double	   *se;				/* nfeat + 1 */
	double	   *zval;			/* nfeat + 1 */
	double	   *pval;			/* nfeat + 1 */
	double		class_weight[2];	/* weights of classes 0 and 1 in training */
	char	   *classes[2];		/* classes[0] <-> y = 0, classes[1] <-> y = 1
								 * (the positive class); UTF-8, 1..1024
								 * bytes, distinct */
} mlx_logreg_fit;

/*
 * Per-row IRLS quantities for label y (0 or 1) at linear predictor eta and
 * class weight cw > 0: the weight *w = cw p (1 - p), clamped below at
 * 1e-10 cw (the variance p (1 - p) is clamped at 1e-10, so z stays finite
 * when |eta| is large), the working response *z = eta + (y - p) / (p (1 -
 * p)) with that clamped variance, and the row's log-likelihood
 * contribution *loglik = cw (y log p + (1 - y) log(1 - p)), computed as
 * -log1p(exp(-|.|)) forms: never log(0), exact to rounding even where p
 * rounds to 0 or 1.
 */
void		mlx_logreg_working(double eta, double y, double cw, double *w,
							   double *z, double *loglik);

/*
 * mlx_logreg_working for a label y of exactly 0 or 1, with the row's
 * log-likelihood left in two parts: cw (y log p + (1 - y) log(1 - p)) =
 * *lin - cw log(*f), *f = 1 + exp(-|eta|) in [1, 2].  *w and *z are those
 * of mlx_logreg_working.  A caller summing many rows multiplies the f of
 * the rows of one class weight together and takes one logarithm per block
 * of at most MLX_LOGREG_PROD_ROWS rows (the product stays below 2^1024):
 * one log per block instead of one log1p per row, with an error in the sum
 * of at most one rounding per row, as summing per-row logarithms has.
 */
#define MLX_LOGREG_PROD_ROWS 512
void		mlx_logreg_working_split(double eta, double y, double cw, double *w,
									 double *z, double *lin, double *f);

/* Linear predictor: intercept + coef . x, x of nfeat doubles, any alignment. */
double		mlx_logreg_eta(const mlx_logreg_fit *f, const void *x);

/* Probability of the positive class, sigma(eta), stable for any |eta|. */
double		mlx_logreg_prob(const mlx_logreg_fit *f, const void *x);

/*
 * Fill the statistics of a logistic fit from the weighted least-squares fit
 * of the last IRLS pass: coef = wls->coef, se = wls->se / wls->sigma (the
 * unscaled standard errors sqrt(diag((X'WX)^-1)); NaN when the weighted fit
 * has none, i.e. lambda > 0, a rank-deficient design or no residual degrees
 * of freedom), zval = coef / se, pval = the two-sided normal p-value.  The
 * four arrays are allocated from ctx (nfeat + 1 each); nothing else in
 * *out is touched (the caller sets nfeat, iterations, loglik, classes...).
 * MLX_ENOMEM leaves out's array pointers NULL; MLX_EINVAL for a fit
 * without arrays.
 */
mlx_status	mlx_logreg_from_wls(const mlx_linreg_fit *wls, const mlx_ctx *ctx,
								mlx_logreg_fit *out);

/*
 * Two-sided standard normal p-value P(|Z| >= |z|) = erfc(|z| / sqrt(2)),
 * with full relative accuracy for tiny values (no 1 - cdf cancellation).
 * NaN for NaN, 0 for +-inf.
 */
double		mlx_norm_pvalue2(double z);

#endif							/* MLX_LOGREG_H */
