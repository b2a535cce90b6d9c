/*
 * predict.c
 *	  Scoring a feature array: ml.predict(model bytea, x float8[]), and the
 *	  per-algorithm dispatch every scoring entry point shares.
 *
 * The model is decoded once per query (fn_extra cache, see modelio.c); per
 * row we only view the feature array in place and take a dot product.
 */
#include "postgres.h"

#include "fmgr.h"

#include "core/enet.h"
#include "core/linreg.h"
#include "core/logreg.h"
#include "core/poisson.h"
#include "pg/ml_pg.h"
#include "pg/ml_tree.h"

/* intercept + coef . x, x of nfeat doubles at any alignment */
static double
enet_predict(const mlx_enet_fit *f, const void *x)
{
	double		v = f->coef[0];

	for (int32 j = 0; j < f->nfeat; j++)
	{
		double		xj;

		memcpy(&xj, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
		v += f->coef[j + 1] * xj;
	}
	return v;
}

void
ml_check_features(const mlx_model *m, const MlFloat8Array *x)
{
	if (unlikely(x->n != m->nfeat))
	{
		char		detail[96];

		snprintf(detail, sizeof(detail),
				 "The model was trained on %d features.", m->nfeat);
		ml_raise_length_mismatch("feature array", x->n, m->nfeat, detail);
	}
	if (ml_is_tree_model(m))
		ml_tree_check_features(x);	/* NaN is a missing value */
	else
		ml_check_finite(x, "feature array");
}

double
ml_score(const mlx_model *m, const void *x)
{
	switch (m->algorithm)
	{
		case MLX_ALG_LINEAR_REGRESSION:
			return mlx_linreg_predict(&m->u.linreg, x);
		case MLX_ALG_LOGISTIC_REGRESSION:
		case MLX_ALG_SOFTMAX_REGRESSION:
		case MLX_ALG_NAIVE_BAYES:
			return ml_label_value(m, ml_classify(m, x));
		case MLX_ALG_POISSON_REGRESSION:
			return mlx_poisson_predict(&m->u.poisson, x);
		case MLX_ALG_DECISION_TREE:
		case MLX_ALG_RANDOM_FOREST:
		case MLX_ALG_GRADIENT_BOOSTING:
			return ml_tree_score(m, x);
		case MLX_ALG_KMEANS:
			return ml_kmeans_cluster(m, x);
		case MLX_ALG_LASSO:
		case MLX_ALG_ELASTIC_NET:
			return enet_predict(&m->u.enet, x);
		case MLX_ALG_PCA:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("a PCA model has no prediction"),
					 errhint("Project rows onto its components with ml.transform.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ml.predict does not support %s models",
							mlx_algorithm_name(m->algorithm))));
	}
	return 0;					/* keep compiler quiet */
}

double
ml_score_array(const mlx_model *m, Datum array)
{
	MlFloat8Array x;

	ml_float8_array(array, "feature array", &x);
	ml_check_features(m, &x);
	return ml_score(m, x.values);
}

/* ml.predict(model bytea, x float8[]) */
PG_FUNCTION_INFO_V1(ml_predict);
Datum
ml_predict(PG_FUNCTION_ARGS)
{
	const mlx_model *m = ml_cached_model(fcinfo, 0, &fcinfo->flinfo->fn_extra);

	PG_RETURN_FLOAT8(ml_score_array(m, PG_GETARG_DATUM(1)));
}
