/*
 * poisson.h
 *	  Poisson regression (log link): the fitted model, the per-row
 *	  quantities of an IRLS pass, scoring and inference.
 *
 * Training is iteratively reweighted least squares exactly as for logistic
 * regression (src/core/logreg.h): a pass takes the current coefficients
 * beta and, for each row with count y >= 0, computes eta = beta0 + x.beta,
 * mu = exp(eta), the weight w = mu and the working response z = eta + (y -
 * mu) / mu (mlx_poisson_working), and folds the row with weight w into a
 * streaming least-squares state (mlx_linreg_add_row_weighted, ridge lambda
 * on the slopes).  Solving it gives the Newton step for the log-likelihood
 * penalized by (lambda / 2) |beta|^2; at convergence with lambda = 0 the
 * unscaled covariance (X'WX)^-1 is statsmodels' GLM(family=Poisson())
 * cov_params (scale 1).
 */
#ifndef MLX_POISSON_H
#define MLX_POISSON_H

#include "core/linreg.h"
#include "core/mlx_core.h"

/* |eta| is clamped here so that exp(eta) and the weights stay finite */
#define MLX_POISSON_MAX_ETA 700.0

/*
 * A fitted Poisson regression.  Arrays have nfeat + 1 entries: index 0 is
 * the intercept (coefficient 0 and NaN statistics when none was fitted),
 * 1..nfeat the features in order.  Undefined statistics are NaN.
 */
typedef struct mlx_poisson_fit
{
	int32_t		nfeat;
	bool		intercept;
	double		lambda;			/* ridge penalty on the slopes, >= 0 */
	int64_t		nrows;			/* rows used */
	int64_t		nskipped;		/* rows skipped (NULL target or features) */
	int32_t		iterations;		/* IRLS passes run */
	bool		converged;
	double		loglik;			/* full log-likelihood, sum y eta - mu -
								 * lgamma(y + 1), as statsmodels' llf */
	double		loglik_null;	/* of the intercept-only model (mu = mean
								 * y), or of mu = 1 without an intercept */
	double		deviance;		/* 2 sum (y log(y / mu) - (y - mu)), y log y
								 * = 0 at y = 0 */
	double		null_deviance;	/* deviance of that null model */
	double	   *coef;			/* nfeat + 1 */
	double	   *se;				/* nfeat + 1 */
	double	   *zval;			/* nfeat + 1 */
	double	   *pval;			/* nfeat + 1 */
} mlx_poisson_fit;

/*
 * Per-row IRLS quantities for a count y >= 0 (finite; need not be an
 * integer) at linear predictor eta: with eta clamped to
 * [-MLX_POISSON_MAX_ETA, MLX_POISSON_MAX_ETA] and mu = exp(eta), the weight
 * *w = mu, the working response *z = eta + (y - mu) / mu, the row's
 * log-likelihood *loglik = y eta - mu - lgamma(y + 1) and its deviance
 * contribution *deviance = 2 (y log(y / mu) - (y - mu)) (computed without
 * cancellation trouble for y = 0 and y near mu).  z overflows to infinity
 * only when y / mu does (a count above about 1.7e4 at eta = -700), which
 * mlx_linreg_add_row_weighted then reports as a non-finite response.
 */
void		mlx_poisson_working(double eta, double y, double *w, double *z,
								double *loglik, double *deviance);

/* Linear predictor: intercept + coef . x, x of nfeat doubles, any alignment. */
double		mlx_poisson_eta(const mlx_poisson_fit *f, const void *x);

/* Expected count exp(eta), eta clamped as above. */
double		mlx_poisson_predict(const mlx_poisson_fit *f, const void *x);

/*
 * Statistics of a Poisson fit from the weighted least-squares fit of the
 * last IRLS pass, as mlx_logreg_from_wls does for logistic regression:
 * coef = wls->coef, se = wls->se / wls->sigma (the unscaled standard errors
 * sqrt(diag((X'WX)^-1)); NaN when the weighted fit has none), zval = coef /
 * se, pval = the two-sided normal p-value.  The four arrays are allocated
 * from ctx; nothing else in *out is touched.
 */
mlx_status	mlx_poisson_from_wls(const mlx_linreg_fit *wls, const mlx_ctx *ctx,
								 mlx_poisson_fit *out);

#endif							/* MLX_POISSON_H */
