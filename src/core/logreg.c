/*
 * logreg.c
 *	  Binary logistic regression: stable sigmoid and log-likelihood terms,
 *	  the IRLS working quantities of one row, scoring, and the inference
 *	  statistics of a fit (see logreg.h for how training works), the latter
 *	  shared with Poisson regression through glm_internal.h.
 */
#include "core/logreg.h"
#include "core/glm_internal.h"

#include <math.h>
#include <string.h>

/* the variance p (1 - p) is clamped here so the working response stays finite */
#define LOGREG_MIN_VARIANCE 1e-10

/* 1 / sqrt(2) */
#define LOGREG_SQRT1_2 0.70710678118654752440

/* sigma(t) = 1 / (1 + exp(-t)), no overflow and no cancellation either side */
static double
sigmoid(double t)
{
	if (t >= 0)
		return 1.0 / (1.0 + exp(-t));
	else
	{
		double		e = exp(t);

		return e / (1.0 + e);
	}
}

void
mlx_logreg_working(double eta, double y, double cw, double *w, double *z,
				   double *loglik)
{
	/*
	 * One exp and one log1p per row (this runs for every row of every IRLS
	 * pass): with e = exp(-|eta|), p = sigma(eta) and q = 1 - p are 1 / (1 +
	 * e) and e / (1 + e) in some order, and log p, log q are -log1p(e) and
	 * -|eta| - log1p(e): no overflow, and no cancellation on either side.
	 */
	double		e = exp(-fabs(eta));
	double		l1pe = log1p(e);
	double		big = 1.0 / (1.0 + e),
				small = e / (1.0 + e);
	bool		pos = (eta >= 0);
	double		p = pos ? big : small;
	double		q = pos ? small : big;	/* 1 - p without cancellation */
	double		logp = pos ? -l1pe : eta - l1pe;
	double		logq = pos ? -eta - l1pe : -l1pe;
	double		v = p * q;
	double		r;

	if (!(v >= LOGREG_MIN_VARIANCE))
		v = LOGREG_MIN_VARIANCE;
	/* y - p, exact for the two labels */
	if (y == 1.0)
		r = q;
	else if (y == 0.0)
		r = -p;
	else
		r = y - p;
	*w = cw * v;
	*z = eta + r / v;
	if (y == 1.0)
		*loglik = cw * logp;
	else if (y == 0.0)
		*loglik = cw * logq;
	else
		*loglik = cw * (y * logp + (1.0 - y) * logq);
}

void
mlx_logreg_working_split(double eta, double y, double cw, double *w,
						 double *z, double *lin, double *f)
{
	double		e = exp(-fabs(eta));
	double		big = 1.0 / (1.0 + e),
				small = e * big;
	bool		pos = (eta >= 0);
	double		p = pos ? big : small;
	double		q = pos ? small : big;
	double		v = p * q;

	if (!(v >= LOGREG_MIN_VARIANCE))
		v = LOGREG_MIN_VARIANCE;
	*w = cw * v;
	*f = 1.0 + e;
	if (y == 1.0)
	{
		*z = eta + q / v;
		*lin = pos ? 0.0 : cw * eta;
	}
	else
	{
		*z = eta - p / v;
		*lin = pos ? -cw * eta : 0.0;
	}
}

double
mlx_logreg_eta(const mlx_logreg_fit *f, const void *x)
{
	double		v = f->intercept ? f->coef[0] : 0.0;
	int32_t		j;

	for (j = 0; j < f->nfeat; j++)
	{
		double		xj;

		memcpy(&xj, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
		v += f->coef[j + 1] * xj;
	}
	return v;
}

double
mlx_logreg_prob(const mlx_logreg_fit *f, const void *x)
{
	return sigmoid(mlx_logreg_eta(f, x));
}

double
mlx_norm_pvalue2(double z)
{
	if (isnan(z))
		return NAN;
	return erfc(fabs(z) * LOGREG_SQRT1_2);
}

/*
 * Shared with Poisson regression (glm_internal.h): both models have unit
 * dispersion, so the weighted fit's standard errors divided by its residual
 * standard error are the unscaled ones, sqrt(diag((X'WX)^-1)).
 */
mlx_status
mlx_glm_stats_from_wls(const mlx_linreg_fit *wls, const mlx_ctx *ctx,
					   double **coefp, double **sep, double **zvalp,
					   double **pvalp)
{
	int32_t		n;
	int32_t		i;
	double	   *coef,
			   *se,
			   *zval,
			   *pval;
	/* se / sigma is the unscaled standard error; without sigma, none */
	bool		have_se;

	if (wls == NULL || wls->nfeat < 1 || wls->coef == NULL || wls->se == NULL)
		return MLX_EINVAL;
	n = wls->nfeat + 1;
	have_se = wls->lambda == 0.0 && isfinite(wls->sigma) && wls->sigma > 0.0;
	coef = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	se = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	zval = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	pval = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	if (coef == NULL || se == NULL || zval == NULL || pval == NULL)
	{
		if (coef != NULL)
			mlx_free(ctx, coef);
		if (se != NULL)
			mlx_free(ctx, se);
		if (zval != NULL)
			mlx_free(ctx, zval);
		if (pval != NULL)
			mlx_free(ctx, pval);
		*coefp = *sep = *zvalp = *pvalp = NULL;
		return MLX_ENOMEM;
	}
	for (i = 0; i < n; i++)
	{
		double		s = NAN;

		coef[i] = wls->coef[i];
		if (have_se && isfinite(wls->se[i]) && wls->se[i] >= 0.0)
			s = wls->se[i] / wls->sigma;
		se[i] = s;
		zval[i] = isnan(s) ? NAN : coef[i] / s;
		pval[i] = mlx_norm_pvalue2(zval[i]);
	}
	*coefp = coef;
	*sep = se;
	*zvalp = zval;
	*pvalp = pval;
	return MLX_OK;
}

mlx_status
mlx_logreg_from_wls(const mlx_linreg_fit *wls, const mlx_ctx *ctx,
					mlx_logreg_fit *out)
{
	if (out == NULL)
		return MLX_EINVAL;
	return mlx_glm_stats_from_wls(wls, ctx, &out->coef, &out->se, &out->zval,
								  &out->pval);
}
