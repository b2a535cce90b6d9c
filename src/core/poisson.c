/*
 * poisson.c
 *	  Poisson regression with the log link: the IRLS working quantities,
 *	  log-likelihood and deviance of one row, scoring, and the inference
 *	  statistics of a fit (see poisson.h for how training works).
 */
#include "core/poisson.h"
#include "core/glm_internal.h"

#include <math.h>
#include <string.h>

/* bound on the series of bd0; it converges far sooner where it is used */
#define POISSON_BD0_MAX_TERMS 1000

static double
clamp_eta(double eta)
{
	if (eta > MLX_POISSON_MAX_ETA)
		return MLX_POISSON_MAX_ETA;
	if (eta < -MLX_POISSON_MAX_ETA)
		return -MLX_POISSON_MAX_ETA;
	return eta;				/* NaN stays NaN */
}

/*
 * y log(y / mu) - (y - mu) for y > 0, mu = exp(eta) > 0: half the deviance
 * of one row.  Near y = mu the two terms nearly cancel (the result is about
 * (y - mu)^2 / (2 mu)), so there we sum the series of Loader's bd0 (as R's
 * dpois does), which has only positive terms:
 *
 *	  y log(y / mu) - (y - mu) = (y - mu) v + 2 y sum_{j>=1} v^(2j+1) / (2j+1)
 *
 * with v = (y - mu) / (y + mu).  Elsewhere the direct form is accurate;
 * log y - eta stands for log(y / mu) so y / mu never overflows.  The branch
 * test is written so that y + mu cannot overflow inside it.
 */
static double
half_unit_deviance(double y, double mu, double eta)
{
	double		d = y - mu;

	if (fabs(d) < 0.1 * y + 0.1 * mu)
	{
		double		v = d / (y + mu);
		double		s = d * v;
		double		ej = 2.0 * y * v;
		int			j;

		v = v * v;
		for (j = 1; j < POISSON_BD0_MAX_TERMS; j++)
		{
			double		s1;

			ej *= v;
			s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				break;
			s = s1;
		}
		return s;
	}
	return y * (log(y) - eta) - d;
}

void
mlx_poisson_working(double eta, double y, double *w, double *z,
					double *loglik, double *deviance)
{
	double		mu;

	eta = clamp_eta(eta);
	mu = exp(eta);
	*w = mu;
	/*
	 * y / mu overflows only for a count above about 1.7e4 at the lower
	 * clamp (mu = exp(-700)); such a z is infinite and the least-squares
	 * state rejects it as a non-finite working response.
	 */
	*z = eta + (y - mu) / mu;
	if (y == 0.0)
	{
		/* y eta = 0 and y log(y / mu) = 0: exact, no 0 * log 0 */
		*loglik = -mu;
		*deviance = 2.0 * mu;
	}
	else
	{
		*loglik = y * eta - mu - lgamma(y + 1.0);
		*deviance = 2.0 * half_unit_deviance(y, mu, eta);
	}
}

double
mlx_poisson_eta(const mlx_poisson_fit *f, const void *x)
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
mlx_poisson_predict(const mlx_poisson_fit *f, const void *x)
{
	return exp(clamp_eta(mlx_poisson_eta(f, x)));
}

/*
 * The Poisson family has unit dispersion like the binomial one, so the
 * statistics come out of the weighted fit exactly as for logistic
 * regression (mlx_glm_stats_from_wls, shared with logreg.c).
 */
mlx_status
mlx_poisson_from_wls(const mlx_linreg_fit *wls, const mlx_ctx *ctx,
					 mlx_poisson_fit *out)
{
	if (out == NULL)
		return MLX_EINVAL;
	return mlx_glm_stats_from_wls(wls, ctx, &out->coef, &out->se, &out->zval,
								  &out->pval);
}
