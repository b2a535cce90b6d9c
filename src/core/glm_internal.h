/*
 * glm_internal.h
 *	  Pieces shared by the IRLS-trained generalized linear models of the
 *	  core (logistic and Poisson regression).  Internal to src/core: the
 *	  PostgreSQL glue uses the per-model functions (mlx_logreg_from_wls,
 *	  mlx_poisson_from_wls) instead.
 */
#ifndef MLX_GLM_INTERNAL_H
#define MLX_GLM_INTERNAL_H

#include "core/linreg.h"
#include "core/mlx_core.h"

/*
 * Normal-theory statistics of a GLM with unit dispersion from the weighted
 * least-squares fit of its last IRLS pass: coef = wls->coef, se = wls->se /
 * wls->sigma (NaN when the weighted fit has none), zval = coef / se, pval =
 * mlx_norm_pvalue2(zval).  The four arrays of nfeat + 1 doubles are
 * allocated from ctx and stored through the pointers.  MLX_EINVAL for a fit
 * without arrays (nothing is stored); MLX_ENOMEM frees whatever was
 * allocated and stores four NULLs.
 */
mlx_status	mlx_glm_stats_from_wls(const mlx_linreg_fit *wls,
								   const mlx_ctx *ctx, double **coef,
								   double **se, double **zval,
								   double **pval);

#endif							/* MLX_GLM_INTERNAL_H */
