/*
 * model.c
 *	  The in-memory model: construction from a fit, release, algorithm
 *	  names, and the field checks the encoder and decoder share.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

const char *
mlx_algorithm_name(uint16_t algorithm)
{
	switch (algorithm)
	{
		case MLX_ALG_LINEAR_REGRESSION:
			return "linear_regression";
		case MLX_ALG_LOGISTIC_REGRESSION:
			return "logistic_regression";
		case MLX_ALG_LASSO:
			return "lasso";
		case MLX_ALG_ELASTIC_NET:
			return "elastic_net";
		case MLX_ALG_PCA:
			return "pca";
		case MLX_ALG_POISSON_REGRESSION:
			return "poisson_regression";
		case MLX_ALG_KMEANS:
			return "kmeans";
		case MLX_ALG_NAIVE_BAYES:
			return "naive_bayes";
		case MLX_ALG_SOFTMAX_REGRESSION:
			return "multinomial_logistic_regression";
		case MLX_ALG_DECISION_TREE:
			return "decision_tree";
		case MLX_ALG_RANDOM_FOREST:
			return "random_forest";
		case MLX_ALG_GRADIENT_BOOSTING:
			return "gradient_boosting";
	}
	return NULL;
}

/* Only the tree ensembles route a missing value (a default side per node). */
bool
mlx_algorithm_keeps_missing(uint16_t algorithm)
{
	return mlx_algorithm_is_tree(algorithm);
}

/*
 * Length of the valid UTF-8 sequence starting at p (at most n bytes), or 0
 * when it is malformed: truncated, overlong, a surrogate, above U+10FFFF.
 */
static size_t
utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t		c = p[0];
	size_t		len;
	size_t		i;
	uint32_t	cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
	{
		len = 2;
		cp = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		cp = c & 0x0F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		cp = c & 0x07;
	}
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/*
 * Check a stored string: length within minlen..maxlen bytes, no NUL byte,
 * well-formed UTF-8.  'what' names it in the message ("feature name 2").
 */
bool
mlx_check_text(const uint8_t *s, size_t len, size_t minlen, size_t maxlen,
			   const char *what, char *errbuf, size_t errlen)
{
	size_t		pos = 0;

	if (len < minlen || len > maxlen)
	{
		snprintf(errbuf, errlen, "%s has length %zu, expected %zu to %zu bytes",
				 what, len, minlen, maxlen);
		return false;
	}
	while (pos < len)
	{
		size_t		n;

		if (s[pos] == 0)
		{
			snprintf(errbuf, errlen, "%s contains a NUL byte", what);
			return false;
		}
		n = utf8_seq_len(s + pos, len - pos);
		if (n == 0)
		{
			snprintf(errbuf, errlen, "%s is not valid UTF-8", what);
			return false;
		}
		pos += n;
	}
	return true;
}

bool
mlx_check_feature_name(const uint8_t *name, size_t len, int32_t i,
					   char *errbuf, size_t errlen)
{
	char		what[32];

	snprintf(what, sizeof(what), "feature name %d", (int) i + 1);
	return mlx_check_text(name, len, 1, MLX_MODEL_MAX_NAME_LEN, what,
						  errbuf, errlen);
}

/* NaN, or finite and >= 0 */
static bool
nan_or_nonneg(double d)
{
	return isnan(d) || (isfinite(d) && d >= 0);
}

/* NaN or finite */
static bool
nan_or_finite(double d)
{
	return !isinf(d);
}

/*
 * Check a fit for internal consistency.  Coefficients must be finite (a model
 * that predicts NaN is useless and most likely corrupt); statistics may be
 * NaN, meaning undefined, but only t values may be infinite (a coefficient
 * with a zero standard error, as in a perfect fit).
 */
bool
mlx_check_linreg_fit(const mlx_linreg_fit *fit, int32_t nfeat,
					 char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	int32_t		i;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen,
				 "linear regression has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->coef == NULL || fit->se == NULL || fit->tval == NULL ||
		fit->pval == NULL || (fit->ndependent > 0 && fit->dependent == NULL))
	{
		snprintf(errbuf, errlen, "linear regression arrays are missing");
		return false;
	}
	if (fit->rank < 0 || fit->rank > k)
	{
		snprintf(errbuf, errlen,
				 "linear regression rank %d is outside 0 to %d",
				 (int) fit->rank, (int) k);
		return false;
	}
	if (fit->nrows < 1 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "linear regression row counts are invalid (%lld rows, %lld skipped)",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (!isfinite(fit->lambda) || fit->lambda < 0)
	{
		snprintf(errbuf, errlen,
				 "linear regression penalty lambda is negative or not finite");
		return false;
	}
	if (!nan_or_finite(fit->df_resid) || !nan_or_nonneg(fit->rss) ||
		!nan_or_nonneg(fit->tss) || !nan_or_finite(fit->r2) ||
		!nan_or_finite(fit->adj_r2) || !nan_or_nonneg(fit->sigma))
	{
		snprintf(errbuf, errlen,
				 "linear regression summary statistics are out of range");
		return false;
	}
	for (i = 0; i <= k; i++)
	{
		if (!isfinite(fit->coef[i]))
		{
			snprintf(errbuf, errlen,
					 "linear regression coefficient %d is not finite", (int) i);
			return false;
		}
		if (!nan_or_nonneg(fit->se[i]))
		{
			snprintf(errbuf, errlen,
					 "linear regression standard error %d is negative or infinite",
					 (int) i);
			return false;
		}
		if (!isnan(fit->pval[i]) && !(fit->pval[i] >= 0 && fit->pval[i] <= 1))
		{
			snprintf(errbuf, errlen,
					 "linear regression p value %d is outside 0 to 1", (int) i);
			return false;
		}
	}
	if (!fit->intercept && fit->coef[0] != 0)
	{
		snprintf(errbuf, errlen,
				 "linear regression without intercept has a non-zero intercept");
		return false;
	}
	if (fit->ndependent < 0 || fit->ndependent > k)
	{
		snprintf(errbuf, errlen,
				 "linear regression lists %d dependent features, expected 0 to %d",
				 (int) fit->ndependent, (int) k);
		return false;
	}
	for (i = 0; i < fit->ndependent; i++)
	{
		int32_t		d = fit->dependent[i];

		if (d < 0 || d >= k || (i > 0 && d <= fit->dependent[i - 1]))
		{
			snprintf(errbuf, errlen,
					 "linear regression dependent feature index %d is out of range or out of order",
					 (int) d);
			return false;
		}
	}
	return true;
}

/* NaN, or finite and <= 0 (a log-likelihood) */
static bool
nan_or_nonpos(double d)
{
	return isnan(d) || (isfinite(d) && d <= 0);
}

/*
 * Check a logistic fit for internal consistency, as for linear regression:
 * coefficients finite, statistics NaN when undefined, z values infinite
 * only where the standard error is 0; plus the class labels (valid text,
 * distinct), the class weights (finite, > 0) and the log-likelihoods
 * (<= 0).
 */
bool
mlx_check_logreg_fit(const mlx_logreg_fit *fit, int32_t nfeat,
					 char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	int32_t		i;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen,
				 "logistic regression has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->coef == NULL || fit->se == NULL || fit->zval == NULL ||
		fit->pval == NULL || fit->classes[0] == NULL || fit->classes[1] == NULL)
	{
		snprintf(errbuf, errlen, "logistic regression arrays or class labels are missing");
		return false;
	}
	if (fit->iterations < 0)
	{
		snprintf(errbuf, errlen,
				 "logistic regression iteration count %d is negative",
				 (int) fit->iterations);
		return false;
	}
	if (fit->nrows < 1 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "logistic regression row counts are invalid (%lld rows, %lld skipped)",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (!isfinite(fit->lambda) || fit->lambda < 0)
	{
		snprintf(errbuf, errlen,
				 "logistic regression penalty lambda is negative or not finite");
		return false;
	}
	if (!nan_or_nonpos(fit->loglik) || !nan_or_nonpos(fit->loglik_null) ||
		!nan_or_nonneg(fit->deviance))
	{
		snprintf(errbuf, errlen,
				 "logistic regression log-likelihood or deviance is out of range");
		return false;
	}
	for (i = 0; i < 2; i++)
	{
		if (!isfinite(fit->class_weight[i]) || !(fit->class_weight[i] > 0))
		{
			snprintf(errbuf, errlen,
					 "logistic regression class weight %d is not a finite number > 0",
					 (int) i);
			return false;
		}
	}
	for (i = 0; i <= k; i++)
	{
		if (!isfinite(fit->coef[i]))
		{
			snprintf(errbuf, errlen,
					 "logistic regression coefficient %d is not finite", (int) i);
			return false;
		}
		if (!nan_or_nonneg(fit->se[i]))
		{
			snprintf(errbuf, errlen,
					 "logistic regression standard error %d is negative or infinite",
					 (int) i);
			return false;
		}
		if (isinf(fit->zval[i]) && fit->se[i] != 0)
		{
			snprintf(errbuf, errlen,
					 "logistic regression z value %d is infinite but its standard error is not 0",
					 (int) i);
			return false;
		}
		if (!isnan(fit->pval[i]) && !(fit->pval[i] >= 0 && fit->pval[i] <= 1))
		{
			snprintf(errbuf, errlen,
					 "logistic regression p value %d is outside 0 to 1", (int) i);
			return false;
		}
	}
	if (!fit->intercept && fit->coef[0] != 0)
	{
		snprintf(errbuf, errlen,
				 "logistic regression without intercept has a non-zero intercept");
		return false;
	}
	for (i = 0; i < 2; i++)
	{
		char		what[32];

		snprintf(what, sizeof(what), "class label %d", (int) i);
		if (!mlx_check_text((const uint8_t *) fit->classes[i],
							strlen(fit->classes[i]), 1, MLX_MODEL_MAX_NAME_LEN,
							what, errbuf, errlen))
			return false;
	}
	if (strcmp(fit->classes[0], fit->classes[1]) == 0)
	{
		snprintf(errbuf, errlen,
				 "logistic regression class labels 0 and 1 are equal");
		return false;
	}
	return true;
}

/*
 * Check a lasso or elastic-net fit (algorithm MLX_ALG_LASSO or
 * MLX_ALG_ELASTIC_NET, which names it in the messages): coefficients
 * finite, the penalty finite and >= 0, the mixing parameter in [0, 1] and
 * exactly 1 for a lasso, statistics NaN when undefined, and the stored
 * count of nonzero slopes equal to a recount (so damage that turns a zero
 * coefficient into a finite nonzero one is still caught).
 */
bool
mlx_check_enet_fit(const mlx_enet_fit *fit, uint16_t algorithm, int32_t nfeat,
				   char *errbuf, size_t errlen)
{
	const char *what = algorithm == MLX_ALG_LASSO ? "lasso" : "elastic net";
	int32_t		k = nfeat;
	int32_t		nonzero = 0;
	int32_t		i;

	if (algorithm != MLX_ALG_LASSO && algorithm != MLX_ALG_ELASTIC_NET)
	{
		snprintf(errbuf, errlen,
				 "model algorithm %u is neither lasso nor elastic net",
				 (unsigned) algorithm);
		return false;
	}
	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen, "%s has %d features but the model has %d",
				 what, (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->coef == NULL)
	{
		snprintf(errbuf, errlen, "%s coefficients are missing", what);
		return false;
	}
	if (fit->iterations < 0)
	{
		snprintf(errbuf, errlen, "%s iteration count %d is negative",
				 what, (int) fit->iterations);
		return false;
	}
	if (fit->nrows < 1 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "%s row counts are invalid (%lld rows, %lld skipped)",
				 what, (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (!isfinite(fit->alpha) || fit->alpha < 0)
	{
		snprintf(errbuf, errlen, "%s penalty alpha is negative or not finite",
				 what);
		return false;
	}
	if (!(fit->l1_ratio >= 0 && fit->l1_ratio <= 1))
	{
		snprintf(errbuf, errlen, "%s l1_ratio %g is outside 0 to 1",
				 what, fit->l1_ratio);
		return false;
	}
	if (algorithm == MLX_ALG_LASSO && fit->l1_ratio != 1)
	{
		snprintf(errbuf, errlen, "lasso l1_ratio is %g, expected 1",
				 fit->l1_ratio);
		return false;
	}
	if (!nan_or_nonneg(fit->dual_gap))
	{
		snprintf(errbuf, errlen, "%s duality gap is negative or infinite",
				 what);
		return false;
	}
	if (!isnan(fit->r2) && !(isfinite(fit->r2) && fit->r2 <= 1))
	{
		snprintf(errbuf, errlen, "%s r2 is greater than 1 or infinite", what);
		return false;
	}
	for (i = 0; i <= k; i++)
	{
		if (!isfinite(fit->coef[i]))
		{
			snprintf(errbuf, errlen, "%s coefficient %d is not finite",
					 what, (int) i);
			return false;
		}
		if (i > 0 && fit->coef[i] != 0)
			nonzero++;
	}
	if (!fit->intercept && fit->coef[0] != 0)
	{
		snprintf(errbuf, errlen,
				 "%s without intercept has a non-zero intercept", what);
		return false;
	}
	if (fit->nonzero != nonzero)
	{
		snprintf(errbuf, errlen,
				 "%s nonzero count %d does not match its %d nonzero coefficients",
				 what, (int) fit->nonzero, (int) nonzero);
		return false;
	}
	return true;
}

/*
 * Check a PCA fit: 1 <= ncomp <= min(k, nrows), at least 2 rows, every
 * value finite, variances and singular values >= 0, explained variances
 * non-increasing (up to a relative 1e-12), ratios in [0, 1 + 1e-9], and
 * the components orthonormal to within 1e-6: each row's norm always, and
 * every pair's dot product when ncomp^2 k <= MLX_PCA_ORTHO_CHECK_MAX (the
 * pairwise check costs ncomp times more than reading the components, so
 * it is skipped for very large models).  The tolerances are far above the
 * rounding of an SVD and far below any damage that matters.
 */
bool
mlx_check_pca_fit(const mlx_pca_fit *fit, int32_t nfeat,
				  char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	int32_t		nc;
	int32_t		c;
	int32_t		d;
	int32_t		j;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen, "pca has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->mean == NULL || fit->components == NULL ||
		fit->explained_variance == NULL ||
		fit->explained_variance_ratio == NULL || fit->singular_values == NULL)
	{
		snprintf(errbuf, errlen, "pca arrays are missing");
		return false;
	}
	nc = fit->ncomp;
	if (nc < 1 || nc > k)
	{
		snprintf(errbuf, errlen, "pca component count %d is outside 1 to %d",
				 (int) nc, (int) k);
		return false;
	}
	if (fit->nrows < 2 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "pca row counts are invalid (%lld rows, %lld skipped), expected at least 2 rows",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (nc > fit->nrows)
	{
		snprintf(errbuf, errlen,
				 "pca has %d components but was fitted on only %lld rows",
				 (int) nc, (long long) fit->nrows);
		return false;
	}
	if (!isfinite(fit->total_variance) || fit->total_variance < 0)
	{
		snprintf(errbuf, errlen,
				 "pca total variance is negative or not finite");
		return false;
	}
	for (j = 0; j < k; j++)
	{
		if (!isfinite(fit->mean[j]))
		{
			snprintf(errbuf, errlen, "pca mean of feature %d is not finite",
					 (int) j + 1);
			return false;
		}
	}
	for (c = 0; c < nc; c++)
	{
		const double *row = fit->components + (size_t) c * (size_t) k;
		double		ss = 0;

		for (j = 0; j < k; j++)
		{
			if (!isfinite(row[j]))
			{
				snprintf(errbuf, errlen,
						 "pca component %d entry %d is not finite",
						 (int) c + 1, (int) j + 1);
				return false;
			}
			ss += row[j] * row[j];
		}
		if (!(fabs(sqrt(ss) - 1) <= 1e-6))
		{
			snprintf(errbuf, errlen,
					 "pca component %d has norm %.9g, expected 1",
					 (int) c + 1, sqrt(ss));
			return false;
		}
	}
	if ((double) nc * (double) nc * (double) k <= MLX_PCA_ORTHO_CHECK_MAX)
	{
		for (c = 0; c < nc; c++)
		{
			const double *a = fit->components + (size_t) c * (size_t) k;

			for (d = c + 1; d < nc; d++)
			{
				const double *b = fit->components + (size_t) d * (size_t) k;
				double		dot = 0;

				for (j = 0; j < k; j++)
					dot += a[j] * b[j];
				if (!(fabs(dot) <= 1e-6))
				{
					snprintf(errbuf, errlen,
							 "pca components %d and %d are not orthogonal (dot product %g)",
							 (int) c + 1, (int) d + 1, dot);
					return false;
				}
			}
		}
	}
	for (c = 0; c < nc; c++)
	{
		double		ev = fit->explained_variance[c];
		double		ratio = fit->explained_variance_ratio[c];

		if (!isfinite(ev) || ev < 0)
		{
			snprintf(errbuf, errlen,
					 "pca explained variance %d is negative or not finite",
					 (int) c + 1);
			return false;
		}
		if (c > 0 && ev - fit->explained_variance[c - 1] >
			1e-12 * fit->explained_variance[c - 1])
		{
			snprintf(errbuf, errlen,
					 "pca explained variance %d is larger than explained variance %d",
					 (int) c + 1, (int) c);
			return false;
		}
		if (!(ratio >= 0 && ratio <= 1 + 1e-9))
		{
			snprintf(errbuf, errlen,
					 "pca explained variance ratio %d is outside 0 to 1",
					 (int) c + 1);
			return false;
		}
		if (!isfinite(fit->singular_values[c]) || fit->singular_values[c] < 0)
		{
			snprintf(errbuf, errlen,
					 "pca singular value %d is negative or not finite",
					 (int) c + 1);
			return false;
		}
	}
	return true;
}

/*
 * Check a Poisson fit, as a logistic one: coefficients finite, statistics
 * NaN when undefined, z values infinite only where the standard error is
 * 0, p values in [0, 1].  Unlike a logistic log-likelihood, a Poisson one
 * may be positive (counts need not be integers and lgamma(y + 1) < 0 for
 * 0 < y < 1), so the log-likelihoods need only not be infinite; the
 * deviances are >= 0.
 */
bool
mlx_check_poisson_fit(const mlx_poisson_fit *fit, int32_t nfeat,
					  char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	int32_t		i;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen,
				 "poisson regression has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->coef == NULL || fit->se == NULL || fit->zval == NULL ||
		fit->pval == NULL)
	{
		snprintf(errbuf, errlen, "poisson regression arrays are missing");
		return false;
	}
	if (fit->iterations < 0)
	{
		snprintf(errbuf, errlen,
				 "poisson regression iteration count %d is negative",
				 (int) fit->iterations);
		return false;
	}
	if (fit->nrows < 1 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "poisson regression row counts are invalid (%lld rows, %lld skipped)",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (!isfinite(fit->lambda) || fit->lambda < 0)
	{
		snprintf(errbuf, errlen,
				 "poisson regression penalty lambda is negative or not finite");
		return false;
	}
	if (!nan_or_finite(fit->loglik))
	{
		snprintf(errbuf, errlen,
				 "poisson regression log-likelihood is infinite");
		return false;
	}
	if (!nan_or_finite(fit->loglik_null))
	{
		snprintf(errbuf, errlen,
				 "poisson regression null log-likelihood is infinite");
		return false;
	}
	if (!nan_or_nonneg(fit->deviance))
	{
		snprintf(errbuf, errlen,
				 "poisson regression deviance is negative or infinite");
		return false;
	}
	if (!nan_or_nonneg(fit->null_deviance))
	{
		snprintf(errbuf, errlen,
				 "poisson regression null deviance is negative or infinite");
		return false;
	}
	for (i = 0; i <= k; i++)
	{
		if (!isfinite(fit->coef[i]))
		{
			snprintf(errbuf, errlen,
					 "poisson regression coefficient %d is not finite", (int) i);
			return false;
		}
		if (!nan_or_nonneg(fit->se[i]))
		{
			snprintf(errbuf, errlen,
					 "poisson regression standard error %d is negative or infinite",
					 (int) i);
			return false;
		}
		if (isinf(fit->zval[i]) && fit->se[i] != 0)
		{
			snprintf(errbuf, errlen,
					 "poisson regression z value %d is infinite but its standard error is not 0",
					 (int) i);
			return false;
		}
		if (!isnan(fit->pval[i]) && !(fit->pval[i] >= 0 && fit->pval[i] <= 1))
		{
			snprintf(errbuf, errlen,
					 "poisson regression p value %d is outside 0 to 1", (int) i);
			return false;
		}
	}
	if (!fit->intercept && fit->coef[0] != 0)
	{
		snprintf(errbuf, errlen,
				 "poisson regression without intercept has a non-zero intercept");
		return false;
	}
	return true;
}

bool
mlx_check_kmeans_shape(int64_t nclusters, int32_t k, char *errbuf,
					   size_t errlen)
{
	if (nclusters < 1 || nclusters > MLX_KMEANS_MAX_K)
	{
		snprintf(errbuf, errlen, "kmeans cluster count %lld is outside 1 to %d",
				 (long long) nclusters, MLX_KMEANS_MAX_K);
		return false;
	}
	/* k >= 1; nclusters * k <= MAX_CELLS without forming the product */
	if (k < 1 || nclusters > MLX_KMEANS_MAX_CELLS / k)
	{
		snprintf(errbuf, errlen,
				 "kmeans has %lld clusters of %d features, more than %d centroid values",
				 (long long) nclusters, (int) k, MLX_KMEANS_MAX_CELLS);
		return false;
	}
	return true;
}

/*
 * Check a k-means fit: the cluster count and centroid cells within the
 * limits of src/core/kmeans.h, every centroid value finite, the inertia
 * finite and >= 0, at least one restart, and the cluster sizes >= 0 adding
 * up to the rows (summed so that no partial sum can overflow).
 */
bool
mlx_check_kmeans_fit(const mlx_kmeans_fit *fit, int32_t nfeat,
					 char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	int64_t		left;
	int32_t		c;
	int32_t		j;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen, "kmeans has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->centroids == NULL || fit->sizes == NULL)
	{
		snprintf(errbuf, errlen, "kmeans centroids or cluster sizes are missing");
		return false;
	}
	if (!mlx_check_kmeans_shape(fit->k, k, errbuf, errlen))
		return false;
	if (fit->iterations < 0)
	{
		snprintf(errbuf, errlen, "kmeans iteration count %d is negative",
				 (int) fit->iterations);
		return false;
	}
	if (fit->n_init < 1)
	{
		snprintf(errbuf, errlen, "kmeans n_init %d is less than 1",
				 (int) fit->n_init);
		return false;
	}
	if (fit->nrows < 1 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "kmeans row counts are invalid (%lld rows, %lld skipped)",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (!isfinite(fit->inertia) || fit->inertia < 0)
	{
		snprintf(errbuf, errlen, "kmeans inertia is negative or not finite");
		return false;
	}
	for (c = 0; c < fit->k; c++)
	{
		const double *row = fit->centroids + (size_t) c * (size_t) k;

		for (j = 0; j < k; j++)
		{
			if (!isfinite(row[j]))
			{
				snprintf(errbuf, errlen,
						 "kmeans centroid %d entry %d is not finite",
						 (int) c + 1, (int) j + 1);
				return false;
			}
		}
	}
	left = fit->nrows;
	for (c = 0; c < fit->k; c++)
	{
		if (fit->sizes[c] < 0)
		{
			snprintf(errbuf, errlen, "kmeans cluster %d size %lld is negative",
					 (int) c + 1, (long long) fit->sizes[c]);
			return false;
		}
		if (fit->sizes[c] > left)
		{
			snprintf(errbuf, errlen,
					 "kmeans cluster sizes add up to more than its %lld rows",
					 (long long) fit->nrows);
			return false;
		}
		left -= fit->sizes[c];
	}
	if (left != 0)
	{
		snprintf(errbuf, errlen,
				 "kmeans cluster sizes add up to %lld, expected %lld rows",
				 (long long) (fit->nrows - left), (long long) fit->nrows);
		return false;
	}
	return true;
}

bool
mlx_check_nbayes_shape(int64_t nclasses, int32_t k, char *errbuf,
					   size_t errlen)
{
	if (nclasses < 2 || nclasses > MLX_NB_MAX_CLASSES)
	{
		snprintf(errbuf, errlen,
				 "naive bayes class count %lld is outside 2 to %d",
				 (long long) nclasses, MLX_NB_MAX_CLASSES);
		return false;
	}
	/* k >= 1; nclasses * k <= MAX_CELLS without forming the product */
	if (k < 1 || nclasses > MLX_NBAYES_MAX_CELLS / k)
	{
		snprintf(errbuf, errlen,
				 "naive bayes has %lld classes of %d features, more than %d values per array",
				 (long long) nclasses, (int) k, MLX_NBAYES_MAX_CELLS);
		return false;
	}
	return true;
}

/* qsort comparator of C strings by their bytes (as unsigned char) */
static int
cmp_label(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* the most class labels of any classifier (naive Bayes, multinomial, trees) */
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define MAX_LABELS MAX2(MAX2(MLX_NB_MAX_CLASSES, MLX_SOFTMAX_MAX_CLASSES), \
						MLX_TREE_MAX_CLASSES)

/*
 * Index of the first of two equal class labels (the lower index in *i,
 * the higher in *j), or false when they are pairwise distinct.  Sorts a
 * copy of the pointers (n <= MAX_LABELS, on the stack).
 */
static bool
find_equal_labels(char *const *classes, int32_t n, int32_t *i, int32_t *j)
{
	const char *sorted[MAX_LABELS];
	int32_t		a;
	int32_t		b;

	memcpy(sorted, classes, (size_t) n * sizeof(char *));
	qsort(sorted, (size_t) n, sizeof(char *), cmp_label);
	for (a = 1; a < n; a++)
	{
		if (strcmp(sorted[a - 1], sorted[a]) == 0)
		{
			/* report the first pair in class order holding that label */
			for (*i = 0; strcmp(classes[*i], sorted[a]) != 0; (*i)++)
				;
			for (b = *i + 1; strcmp(classes[b], sorted[a]) != 0; b++)
				;
			*j = b;
			return true;
		}
	}
	return false;
}

/*
 * Check a naive Bayes fit: the distribution known, the class count and
 * nclasses * k within the limits, row counts, the parameters of the
 * distribution (and zero for the other's), the class labels (valid text,
 * pairwise distinct), the class counts (>= 1, adding up to nrows, summed
 * so that no partial sum can overflow), the log priors (finite, <= 0),
 * and the per-class arrays: Gaussian theta finite and var finite, > 0 and
 * >= epsilon (var is a variance plus epsilon); multinomial
 * feature_log_prob finite and <= 0.  Classes and features are numbered
 * from 1 in the messages.
 */
bool
mlx_check_nbayes_fit(const mlx_nb_fit *fit, int32_t nfeat,
					 char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	bool		gaussian = fit->distribution == MLX_NB_GAUSSIAN;
	int64_t		left;
	int32_t		c;
	int32_t		j;
	int32_t		i1;
	int32_t		i2;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen,
				 "naive bayes has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (fit->distribution != MLX_NB_GAUSSIAN &&
		fit->distribution != MLX_NB_MULTINOMIAL)
	{
		snprintf(errbuf, errlen, "naive bayes distribution %d is not known",
				 (int) fit->distribution);
		return false;
	}
	if (!mlx_check_nbayes_shape(fit->nclasses, k, errbuf, errlen))
		return false;
	if (fit->classes == NULL || fit->class_count == NULL ||
		fit->class_log_prior == NULL ||
		(gaussian ? fit->theta == NULL || fit->var == NULL :
		 fit->feature_log_prob == NULL))
	{
		snprintf(errbuf, errlen, "naive bayes arrays or class labels are missing");
		return false;
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		if (fit->classes[c] == NULL)
		{
			snprintf(errbuf, errlen, "naive bayes class label %d is missing",
					 (int) c + 1);
			return false;
		}
	}
	if (fit->nrows < fit->nclasses || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "naive bayes row counts are invalid (%lld rows, %lld skipped), expected at least one row per class",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (gaussian)
	{
		if (!isfinite(fit->var_smoothing) || fit->var_smoothing < 0)
		{
			snprintf(errbuf, errlen,
					 "naive bayes var_smoothing is negative or not finite");
			return false;
		}
		if (!isfinite(fit->epsilon) || fit->epsilon < 0)
		{
			snprintf(errbuf, errlen,
					 "naive bayes epsilon is negative or not finite");
			return false;
		}
		if (fit->var_smoothing == 0 && fit->epsilon != 0)
		{
			snprintf(errbuf, errlen,
					 "naive bayes epsilon is not 0 but var_smoothing is");
			return false;
		}
		if (fit->alpha != 0)
		{
			snprintf(errbuf, errlen,
					 "gaussian naive bayes alpha is not 0");
			return false;
		}
	}
	else
	{
		if (!isfinite(fit->alpha) || !(fit->alpha > 0))
		{
			snprintf(errbuf, errlen,
					 "naive bayes alpha is not a finite number > 0");
			return false;
		}
		if (fit->var_smoothing != 0 || fit->epsilon != 0)
		{
			snprintf(errbuf, errlen,
					 "multinomial naive bayes var_smoothing or epsilon is not 0");
			return false;
		}
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		char		what[40];

		snprintf(what, sizeof(what), "naive bayes class label %d", (int) c + 1);
		if (!mlx_check_text((const uint8_t *) fit->classes[c],
							strlen(fit->classes[c]), 1, MLX_MODEL_MAX_NAME_LEN,
							what, errbuf, errlen))
			return false;
	}
	if (find_equal_labels(fit->classes, fit->nclasses, &i1, &i2))
	{
		snprintf(errbuf, errlen,
				 "naive bayes class labels %d and %d are equal",
				 (int) i1 + 1, (int) i2 + 1);
		return false;
	}
	left = fit->nrows;
	for (c = 0; c < fit->nclasses; c++)
	{
		if (fit->class_count[c] < 1)
		{
			snprintf(errbuf, errlen,
					 "naive bayes class %d count %lld is less than 1",
					 (int) c + 1, (long long) fit->class_count[c]);
			return false;
		}
		if (fit->class_count[c] > left)
		{
			snprintf(errbuf, errlen,
					 "naive bayes class counts add up to more than its %lld rows",
					 (long long) fit->nrows);
			return false;
		}
		left -= fit->class_count[c];
	}
	if (left != 0)
	{
		snprintf(errbuf, errlen,
				 "naive bayes class counts add up to %lld, expected %lld rows",
				 (long long) (fit->nrows - left), (long long) fit->nrows);
		return false;
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		size_t		off = (size_t) c * (size_t) k;

		if (!isfinite(fit->class_log_prior[c]) || fit->class_log_prior[c] > 0)
		{
			snprintf(errbuf, errlen,
					 "naive bayes class %d log prior is positive or not finite",
					 (int) c + 1);
			return false;
		}
		for (j = 0; j < k; j++)
		{
			if (gaussian && !isfinite(fit->theta[off + j]))
			{
				snprintf(errbuf, errlen,
						 "naive bayes theta of class %d feature %d is not finite",
						 (int) c + 1, (int) j + 1);
				return false;
			}
			if (gaussian &&
				!(isfinite(fit->var[off + j]) && fit->var[off + j] > 0))
			{
				snprintf(errbuf, errlen,
						 "naive bayes variance of class %d feature %d is not a finite number > 0",
						 (int) c + 1, (int) j + 1);
				return false;
			}
			if (gaussian && fit->var[off + j] < fit->epsilon)
			{
				snprintf(errbuf, errlen,
						 "naive bayes variance of class %d feature %d is less than epsilon",
						 (int) c + 1, (int) j + 1);
				return false;
			}
			if (!gaussian && !(isfinite(fit->feature_log_prob[off + j]) &&
							   fit->feature_log_prob[off + j] <= 0))
			{
				snprintf(errbuf, errlen,
						 "naive bayes feature log probability of class %d feature %d is positive or not finite",
						 (int) c + 1, (int) j + 1);
				return false;
			}
		}
	}
	return true;
}

bool
mlx_check_softmax_shape(int64_t nclasses, char *errbuf, size_t errlen)
{
	if (nclasses < 2 || nclasses > MLX_SOFTMAX_MAX_CLASSES)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression class count %lld is outside 2 to %d",
				 (long long) nclasses, MLX_SOFTMAX_MAX_CLASSES);
		return false;
	}
	return true;
}

/*
 * Check a multinomial logistic regression fit: the class count, the
 * solver, the counts (>= 0), the penalty (finite, >= 0), the
 * log-likelihoods (<= 0; the null one may be NaN, unknown), the class
 * weights (finite, > 0), every coefficient finite, the intercept column
 * all 0 without an intercept, class 1's row all 0 in the reference
 * parametrization (2 classes or lambda 0: softmax.h), and the class labels
 * (0 to MLX_MODEL_MAX_CATEGORY_LEN bytes of text, pairwise distinct).
 * Classes and features are numbered from 1 in the messages, the
 * intercept being coefficient 0 of its class.
 */
bool
mlx_check_softmax_fit(const mlx_softmax_fit *fit, int32_t nfeat,
					  char *errbuf, size_t errlen)
{
	int32_t		k = nfeat;
	size_t		n;
	int32_t		c;
	int32_t		j;
	int32_t		i1;
	int32_t		i2;

	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression has %d features but the model has %d",
				 (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (!mlx_check_softmax_shape(fit->nclasses, errbuf, errlen))
		return false;
	if (fit->coef == NULL || fit->class_weight == NULL || fit->classes == NULL)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression arrays or class labels are missing");
		return false;
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		if (fit->classes[c] == NULL)
		{
			snprintf(errbuf, errlen,
					 "multinomial logistic regression class label %d is missing",
					 (int) c + 1);
			return false;
		}
	}
	if (fit->solver != MLX_SOFTMAX_NEWTON && fit->solver != MLX_SOFTMAX_LBFGS)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression solver %d is not known",
				 (int) fit->solver);
		return false;
	}
	if (fit->iterations < 0 || fit->passes < 0)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression iteration or pass count is negative (%d iterations, %d passes)",
				 (int) fit->iterations, (int) fit->passes);
		return false;
	}
	if (fit->nrows < 0 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression row counts are invalid (%lld rows, %lld skipped)",
				 (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (!isfinite(fit->lambda) || fit->lambda < 0)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression penalty lambda is negative or not finite");
		return false;
	}
	if (!isfinite(fit->loglik) || fit->loglik > 0)
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression log-likelihood is positive or not finite");
		return false;
	}
	if (!nan_or_nonpos(fit->loglik_null))
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression null log-likelihood is positive or infinite");
		return false;
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		if (!isfinite(fit->class_weight[c]) || !(fit->class_weight[c] > 0))
		{
			snprintf(errbuf, errlen,
					 "multinomial logistic regression class %d weight is not a finite number > 0",
					 (int) c + 1);
			return false;
		}
	}
	n = (size_t) k + 1;
	for (c = 0; c < fit->nclasses; c++)
	{
		const double *row = fit->coef + (size_t) c * n;

		for (j = 0; j <= k; j++)
		{
			if (!isfinite(row[j]))
			{
				snprintf(errbuf, errlen,
						 "multinomial logistic regression coefficient %d of class %d is not finite",
						 (int) j, (int) c + 1);
				return false;
			}
		}
		if (!fit->intercept && row[0] != 0)
		{
			snprintf(errbuf, errlen,
					 "multinomial logistic regression without intercept has a non-zero intercept for class %d",
					 (int) c + 1);
			return false;
		}
	}
	if (!mlx_softmax_symmetric(fit->nclasses, fit->lambda))
	{
		for (j = 0; j <= k; j++)
		{
			if (fit->coef[j] != 0)
			{
				snprintf(errbuf, errlen,
						 "multinomial logistic regression coefficient %d of class 1 is not 0, as the reference parametrization (2 classes or lambda 0) requires",
						 (int) j);
				return false;
			}
		}
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		char		what[56];

		snprintf(what, sizeof(what),
				 "multinomial logistic regression class label %d", (int) c + 1);
		if (!mlx_check_text((const uint8_t *) fit->classes[c],
							strlen(fit->classes[c]), 0,
							MLX_MODEL_MAX_CATEGORY_LEN, what, errbuf, errlen))
			return false;
	}
	if (find_equal_labels(fit->classes, fit->nclasses, &i1, &i2))
	{
		snprintf(errbuf, errlen,
				 "multinomial logistic regression class labels %d and %d are equal",
				 (int) i1 + 1, (int) i2 + 1);
		return false;
	}
	return true;
}

/*
 * Check a tree-ensemble fit: its kind that of the algorithm, the fit
 * itself (mlx_tree_fit_check: shape, nodes, values, training figures),
 * and a classifier's class labels (0 to MLX_MODEL_MAX_CATEGORY_LEN bytes
 * of text, pairwise distinct, as those of a multinomial logistic
 * regression; a regression's are not looked at).
 */
bool
mlx_check_tree_fit(const mlx_tree_fit *fit, uint16_t algorithm, int32_t nfeat,
				   char *errbuf, size_t errlen)
{
	const char *name;
	int32_t		c;
	int32_t		i1;
	int32_t		i2;

	if (!mlx_algorithm_is_tree(algorithm) ||
		mlx_tree_algorithm(fit->kind) != algorithm)
	{
		snprintf(errbuf, errlen,
				 "tree model kind %d does not match its algorithm %s",
				 (int) fit->kind, mlx_algorithm_is_tree(algorithm) ?
				 mlx_algorithm_name(algorithm) : "(not a tree ensemble)");
		return false;
	}
	name = mlx_tree_family(algorithm);
	if (!mlx_tree_fit_check(fit, nfeat, errbuf, errlen))
		return false;
	if (fit->objective == MLX_TREE_REGRESSION)
		return true;
	if (fit->classes == NULL)
	{
		snprintf(errbuf, errlen, "%s class labels are missing", name);
		return false;
	}
	for (c = 0; c < fit->nclasses; c++)
	{
		char		what[64];

		if (fit->classes[c] == NULL)
		{
			snprintf(errbuf, errlen, "%s class label %d is missing",
					 name, (int) c + 1);
			return false;
		}
		snprintf(what, sizeof(what), "%s class label %d", name, (int) c + 1);
		if (!mlx_check_text((const uint8_t *) fit->classes[c],
							strlen(fit->classes[c]), 0,
							MLX_MODEL_MAX_CATEGORY_LEN, what, errbuf, errlen))
			return false;
	}
	if (find_equal_labels(fit->classes, fit->nclasses, &i1, &i2))
	{
		snprintf(errbuf, errlen, "%s class labels %d and %d are equal",
				 name, (int) i1 + 1, (int) i2 + 1);
		return false;
	}
	return true;
}

bool
mlx_check_model_fit(const mlx_model *m, char *errbuf, size_t errlen)
{
	switch (m->algorithm)
	{
		case MLX_ALG_LINEAR_REGRESSION:
			return mlx_check_linreg_fit(&m->u.linreg, m->nfeat, errbuf, errlen);
		case MLX_ALG_LOGISTIC_REGRESSION:
			return mlx_check_logreg_fit(&m->u.logreg, m->nfeat, errbuf, errlen);
		case MLX_ALG_LASSO:
		case MLX_ALG_ELASTIC_NET:
			return mlx_check_enet_fit(&m->u.enet, m->algorithm, m->nfeat,
									  errbuf, errlen);
		case MLX_ALG_PCA:
			return mlx_check_pca_fit(&m->u.pca, m->nfeat, errbuf, errlen);
		case MLX_ALG_POISSON_REGRESSION:
			return mlx_check_poisson_fit(&m->u.poisson, m->nfeat, errbuf, errlen);
		case MLX_ALG_KMEANS:
			return mlx_check_kmeans_fit(&m->u.kmeans, m->nfeat, errbuf, errlen);
		case MLX_ALG_NAIVE_BAYES:
			return mlx_check_nbayes_fit(&m->u.nbayes, m->nfeat, errbuf, errlen);
		case MLX_ALG_SOFTMAX_REGRESSION:
			return mlx_check_softmax_fit(&m->u.softmax, m->nfeat, errbuf, errlen);
		case MLX_ALG_DECISION_TREE:
		case MLX_ALG_RANDOM_FOREST:
		case MLX_ALG_GRADIENT_BOOSTING:
			return mlx_check_tree_fit(&m->u.tree, m->algorithm, m->nfeat,
									  errbuf, errlen);
	}
	snprintf(errbuf, errlen, "model algorithm %u is not supported",
			 (unsigned) m->algorithm);
	return false;
}

/*
 * Give out k feature names (copies of feature_names, or "x1".."xk" when
 * it is NULL), checked, in one block of strings plus the pointer array.
 */
static mlx_status
model_names(int32_t k, char **feature_names, const mlx_ctx *ctx,
			mlx_model *out)
{
	char		errbuf[128];
	int32_t		i;
	size_t		total = 0;
	char	  **names;
	char	   *block;

	if (k < 1 || k > MLX_MODEL_MAX_FEATURES)
		return MLX_EINVAL;

	/* size the names (given or "x1".."xk") and check them */
	for (i = 0; i < k; i++)
	{
		if (feature_names != NULL)
		{
			size_t		len;

			if (feature_names[i] == NULL)
				return MLX_EINVAL;
			len = strlen(feature_names[i]);
			if (!mlx_check_feature_name((const uint8_t *) feature_names[i],
										len, i, errbuf, sizeof(errbuf)))
				return MLX_EINVAL;
			total += len + 1;
		}
		else
			total += (size_t) snprintf(NULL, 0, "x%d", (int) i + 1) + 1;
	}

	names = mlx_alloc(ctx, (size_t) k * sizeof(char *));
	if (names == NULL)
		return MLX_ENOMEM;
	block = mlx_alloc(ctx, total);
	if (block == NULL)
	{
		mlx_free(ctx, names);
		return MLX_ENOMEM;
	}
	for (i = 0; i < k; i++)
	{
		size_t		n;

		names[i] = block;
		if (feature_names != NULL)
		{
			n = strlen(feature_names[i]) + 1;
			memcpy(block, feature_names[i], n);
		}
		else
			n = (size_t) snprintf(block, total, "x%d", (int) i + 1) + 1;
		block += n;
		total -= n;
	}

	out->format_version = MLX_MODEL_FORMAT_VERSION;
	out->flags = 0;
	out->nfeat = k;
	out->feature_names = names;
	return MLX_OK;
}

mlx_status
mlx_model_from_linreg(const mlx_linreg_fit *fit, char **feature_names,
					  const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_LINEAR_REGRESSION;
	out->u.linreg = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_logreg(const mlx_logreg_fit *fit, char **feature_names,
					  const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_LOGISTIC_REGRESSION;
	out->u.logreg = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_enet(const mlx_enet_fit *fit, uint16_t algorithm,
					char **feature_names, const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL ||
		(algorithm != MLX_ALG_LASSO && algorithm != MLX_ALG_ELASTIC_NET))
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = algorithm;
	out->u.enet = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_pca(const mlx_pca_fit *fit, char **feature_names,
				   const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_PCA;
	out->u.pca = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_poisson(const mlx_poisson_fit *fit, char **feature_names,
					   const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_POISSON_REGRESSION;
	out->u.poisson = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_kmeans(const mlx_kmeans_fit *fit, char **feature_names,
					  const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_KMEANS;
	out->u.kmeans = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_nbayes(const mlx_nb_fit *fit, char **feature_names,
					  const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_NAIVE_BAYES;
	out->u.nbayes = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_softmax(const mlx_softmax_fit *fit, char **feature_names,
					   const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = MLX_ALG_SOFTMAX_REGRESSION;
	out->u.softmax = *fit;
	return MLX_OK;
}

mlx_status
mlx_model_from_tree(const mlx_tree_fit *fit, char **feature_names,
					const mlx_ctx *ctx, mlx_model *out)
{
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	if (fit == NULL || mlx_tree_algorithm(fit->kind) == 0)
		return MLX_EINVAL;
	st = model_names(fit->nfeat, feature_names, ctx, out);
	if (st != MLX_OK)
		return st;
	out->algorithm = mlx_tree_algorithm(fit->kind);
	out->u.tree = *fit;
	return MLX_OK;
}

/* mlx_free, tolerating NULL pointers */
static void
free_if(const mlx_ctx *ctx, void *p)
{
	if (p != NULL)
		mlx_free(ctx, p);
}

/*
 * The names are one block of NUL-terminated strings, names[0] pointing at
 * its start, plus the array of pointers.
 */
void
mlx_model_free_names(mlx_model *m, const mlx_ctx *ctx)
{
	if (m->feature_names != NULL)
	{
		if (m->nfeat > 0)
			free_if(ctx, m->feature_names[0]);
		mlx_free(ctx, m->feature_names);
	}
	m->feature_names = NULL;
}

void
mlx_model_free(mlx_model *m, const mlx_ctx *ctx)
{
	mlx_model_free_names(m, ctx);
	free_if(ctx, m->inputs);
	if (m->algorithm == MLX_ALG_LINEAR_REGRESSION)
	{
		mlx_linreg_fit *fit = &m->u.linreg;

		free_if(ctx, fit->coef);
		free_if(ctx, fit->se);
		free_if(ctx, fit->tval);
		free_if(ctx, fit->pval);
		free_if(ctx, fit->dependent);
	}
	else if (m->algorithm == MLX_ALG_LOGISTIC_REGRESSION)
	{
		mlx_logreg_fit *fit = &m->u.logreg;

		free_if(ctx, fit->coef);
		free_if(ctx, fit->se);
		free_if(ctx, fit->zval);
		free_if(ctx, fit->pval);
		free_if(ctx, fit->classes[0]);
		free_if(ctx, fit->classes[1]);
	}
	else if (m->algorithm == MLX_ALG_LASSO ||
			 m->algorithm == MLX_ALG_ELASTIC_NET)
		free_if(ctx, m->u.enet.coef);
	else if (m->algorithm == MLX_ALG_PCA)
	{
		mlx_pca_fit *fit = &m->u.pca;

		free_if(ctx, fit->mean);
		free_if(ctx, fit->components);
		free_if(ctx, fit->explained_variance);
		free_if(ctx, fit->explained_variance_ratio);
		free_if(ctx, fit->singular_values);
	}
	else if (m->algorithm == MLX_ALG_POISSON_REGRESSION)
	{
		mlx_poisson_fit *fit = &m->u.poisson;

		free_if(ctx, fit->coef);
		free_if(ctx, fit->se);
		free_if(ctx, fit->zval);
		free_if(ctx, fit->pval);
	}
	else if (m->algorithm == MLX_ALG_KMEANS)
	{
		free_if(ctx, m->u.kmeans.centroids);
		free_if(ctx, m->u.kmeans.sizes);
	}
	else if (m->algorithm == MLX_ALG_NAIVE_BAYES)
	{
		mlx_nb_fit *fit = &m->u.nbayes;

		if (fit->classes != NULL)
		{
			int32_t		c;

			for (c = 0; c < fit->nclasses; c++)
				free_if(ctx, fit->classes[c]);
			mlx_free(ctx, fit->classes);
		}
		free_if(ctx, fit->class_count);
		free_if(ctx, fit->class_log_prior);
		free_if(ctx, fit->theta);
		free_if(ctx, fit->var);
		free_if(ctx, fit->feature_log_prob);
	}
	else if (m->algorithm == MLX_ALG_SOFTMAX_REGRESSION)
	{
		mlx_softmax_fit *fit = &m->u.softmax;

		if (fit->classes != NULL)
		{
			int32_t		c;

			for (c = 0; c < fit->nclasses; c++)
				free_if(ctx, fit->classes[c]);
			mlx_free(ctx, fit->classes);
		}
		free_if(ctx, fit->coef);
		free_if(ctx, fit->class_weight);
	}
	else if (mlx_algorithm_is_tree(m->algorithm))
	{
		mlx_tree_fit *fit = &m->u.tree;

		if (fit->classes != NULL)
		{
			int32_t		c;

			for (c = 0; c < fit->nclasses; c++)
				free_if(ctx, fit->classes[c]);
			mlx_free(ctx, fit->classes);
		}
		free_if(ctx, fit->base_score);
		free_if(ctx, fit->tree_start);
		free_if(ctx, fit->feature);
		free_if(ctx, fit->threshold);
		free_if(ctx, fit->left);
		free_if(ctx, fit->right);
		free_if(ctx, fit->default_left);
		free_if(ctx, fit->gain);
		free_if(ctx, fit->cover);
		free_if(ctx, fit->value);
		free_if(ctx, fit->packed);
		free_if(ctx, fit->packed_depth);
		free_if(ctx, fit->packed_value);
	}
	memset(m, 0, sizeof(*m));
}
