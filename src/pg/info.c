/*
 * info.c
 *	  Model inspection: ml.coefficients(model), ml.class_coefficients(model)
 *	  and ml.model_info(model).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "pg/ml_pg.h"

/* per-SRF-call state of ml.coefficients */
typedef struct CoefIter
{
	mlx_model	model;
	bool		intercept;
	const double *coef;			/* nfeat + 1 each, intercept first */
	const double *se;
	const double *stat;			/* t (linear) or z (logistic) statistics */
	const double *pval;
	int			first;			/* 0 with an intercept row, else 1 */
} CoefIter;

static Datum
float8_or_null(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(v);
}

/*
 * ml.coefficients(model bytea) RETURNS TABLE(term text, estimate float8,
 *		std_error float8, t_value float8, p_value float8)
 * One row per term: 'intercept' (when fitted), then each feature by name.
 * For logistic regression t_value holds the z statistic (Wald test against
 * the normal distribution, as statsmodels' Logit).  Undefined statistics
 * are NULL, as are all of them for lasso and elastic net (a penalized
 * estimate has no simple sampling distribution).
 */
PG_FUNCTION_INFO_V1(ml_coefficients);
Datum
ml_coefficients(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	CoefIter   *it;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);

		it = palloc0(sizeof(CoefIter));
		ml_decode_model(PG_GETARG_DATUM(0), &it->model);
		if (it->model.algorithm == MLX_ALG_LINEAR_REGRESSION)
		{
			const mlx_linreg_fit *f = &it->model.u.linreg;

			it->intercept = f->intercept;
			it->coef = f->coef;
			it->se = f->se;
			it->stat = f->tval;
			it->pval = f->pval;
		}
		else if (it->model.algorithm == MLX_ALG_LOGISTIC_REGRESSION)
		{
			const mlx_logreg_fit *f = &it->model.u.logreg;

			it->intercept = f->intercept;
			it->coef = f->coef;
			it->se = f->se;
			it->stat = f->zval;
			it->pval = f->pval;
		}
		else if (it->model.algorithm == MLX_ALG_POISSON_REGRESSION)
		{
			const mlx_poisson_fit *f = &it->model.u.poisson;

			it->intercept = f->intercept;
			it->coef = f->coef;
			it->se = f->se;
			it->stat = f->zval;
			it->pval = f->pval;
		}
		else if (it->model.algorithm == MLX_ALG_LASSO ||
				 it->model.algorithm == MLX_ALG_ELASTIC_NET)
		{
			/* penalized fits: estimates only, no sampling distribution */
			const mlx_enet_fit *f = &it->model.u.enet;
			double	   *nan = palloc(sizeof(double) * (f->nfeat + 1));

			for (int i = 0; i <= f->nfeat; i++)
				nan[i] = NAN;
			it->intercept = f->intercept;
			it->coef = f->coef;
			it->se = it->stat = it->pval = nan;
		}
		else if (it->model.algorithm == MLX_ALG_SOFTMAX_REGRESSION)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ml.coefficients gives one row per term, but a multinomial logistic regression model has coefficients per class and term"),
					 errhint("Use ml.class_coefficients(model).")));
		else
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ml.coefficients does not support %s models",
							mlx_algorithm_name(it->model.algorithm))));
		it->first = it->intercept ? 0 : 1;
		funcctx->user_fctx = it;
		funcctx->max_calls = it->model.nfeat + 1 - it->first;
		MemoryContextSwitchTo(old);
	}

	funcctx = SRF_PERCALL_SETUP();
	it = (CoefIter *) funcctx->user_fctx;

	if (funcctx->call_cntr < funcctx->max_calls)
	{
		int			i = (int) funcctx->call_cntr + it->first;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		HeapTuple	tuple;

		values[0] = CStringGetTextDatum(i == 0 ? "intercept"
										: it->model.feature_names[i - 1]);
		values[1] = float8_or_null(it->coef[i], &nulls[1]);
		values[2] = float8_or_null(it->se[i], &nulls[2]);
		values[3] = float8_or_null(it->stat[i], &nulls[3]);
		values[4] = float8_or_null(it->pval[i], &nulls[4]);
		tuple = heap_form_tuple(funcctx->tuple_desc, values, nulls);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}
	SRF_RETURN_DONE(funcctx);
}

/*
 * ml.class_coefficients(model bytea) RETURNS TABLE(class text, term text,
 *		estimate float8)
 * The coefficients of a multinomial logistic regression model, one row per
 * class and term ('intercept' when fitted, then each feature), classes in
 * the order of ml.classes.  A binary logistic model gives its coefficients
 * as those of the positive class (the other class's are all zero).
 */
typedef struct ClassCoefIter
{
	mlx_model	model;
	int			nclasses;
	char	  **classes;
	const double *coef;			/* nclasses * (nfeat + 1) */
	int			first;			/* 0 with an intercept row, else 1 */
} ClassCoefIter;

PG_FUNCTION_INFO_V1(ml_class_coefficients);
Datum
ml_class_coefficients(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	ClassCoefIter *it;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;
		int			q;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);

		it = palloc0(sizeof(ClassCoefIter));
		ml_decode_model(PG_GETARG_DATUM(0), &it->model);
		q = it->model.nfeat + 1;
		if (it->model.algorithm == MLX_ALG_SOFTMAX_REGRESSION)
		{
			const mlx_softmax_fit *f = &it->model.u.softmax;

			it->nclasses = f->nclasses;
			it->classes = f->classes;
			it->coef = f->coef;
			it->first = f->intercept ? 0 : 1;
		}
		else if (it->model.algorithm == MLX_ALG_LOGISTIC_REGRESSION)
		{
			const mlx_logreg_fit *f = &it->model.u.logreg;
			double	   *c = palloc0(sizeof(double) * 2 * q);

			memcpy(c + q, f->coef, sizeof(double) * q);
			it->nclasses = 2;
			it->classes = (char **) f->classes;
			it->coef = c;
			it->first = f->intercept ? 0 : 1;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ml.class_coefficients needs a logistic regression model, not %s",
							mlx_algorithm_name(it->model.algorithm))));
		funcctx->user_fctx = it;
		funcctx->max_calls = (uint64) it->nclasses * (q - it->first);
		MemoryContextSwitchTo(old);
	}

	funcctx = SRF_PERCALL_SETUP();
	it = (ClassCoefIter *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		int			per = it->model.nfeat + 1 - it->first;
		int			c = (int) (funcctx->call_cntr / per);
		int			i = (int) (funcctx->call_cntr % per) + it->first;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		HeapTuple	tuple;

		values[0] = CStringGetTextDatum(it->classes[c]);
		values[1] = CStringGetTextDatum(i == 0 ? "intercept"
										: it->model.feature_names[i - 1]);
		values[2] = Float8GetDatum(it->coef[(size_t) c * (it->model.nfeat + 1) + i]);
		tuple = heap_form_tuple(funcctx->tuple_desc, values, nulls);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}
	SRF_RETURN_DONE(funcctx);
}

/*
 * The largest description ml.model_info makes into jsonb.  jsonb_in needs
 * about 140 bytes per number or string it parses (its tree of JsonbValues,
 * a numeric each, the tokens) and a few times the text: unbounded, the
 * description of a model at the size limit took gigabytes (25 million
 * loadings of a PCA, 10^6 names of control characters at 6 bytes of JSON
 * each).  Within these bounds parsing takes at most a few hundred MB;
 * larger models are read through the set-returning functions, row by row.
 */
#define ML_MODEL_INFO_MAX_TEXT ((Size) 64 * 1024 * 1024)
#define ML_MODEL_INFO_MAX_ITEMS ((Size) 2000000)

/*
 * ml.model_info(model bytea) RETURNS jsonb
 * The description is measured first (no allocation, interrupts checked),
 * refused when beyond the bounds above, then written; the decoded model is
 * freed before the text is parsed into jsonb.
 */
PG_FUNCTION_INFO_V1(ml_model_info);
Datum
ml_model_info(PG_FUNCTION_ARGS)
{
	mlx_model	model;
	char	   *json;
	size_t		len;
	mlx_status	st;
	Datum		result;

	ml_decode_model(PG_GETARG_DATUM(0), &model);
	st = mlx_model_describe_json_limit(&model, &ml_pg_ctx,
									   ML_MODEL_INFO_MAX_TEXT,
									   ML_MODEL_INFO_MAX_ITEMS, &json, &len);
	if (st == MLX_EINTR)
		CHECK_FOR_INTERRUPTS();
	ml_check_status(st, "model description");
	if (json == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the description of this %s model is too large for ml.model_info",
						mlx_algorithm_name(model.algorithm)),
				 errdetail("ml.model_info describes models of at most %d numbers and names in at most %d MB of JSON.",
						   (int) ML_MODEL_INFO_MAX_ITEMS,
						   (int) (ML_MODEL_INFO_MAX_TEXT / (1024 * 1024))),
				 errhint("Read its contents with ml.coefficients, ml.class_coefficients, ml.components, ml.centroids, ml.trees or ml.feature_importance, which return them row by row.")));
	mlx_model_free(&model, &ml_pg_ctx);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	pfree(json);
	PG_RETURN_DATUM(result);
}
