/*
 * pca.c
 *	  PCA models: ml.transform (a model bytea or name; a feature array or a
 *	  table row) and the set-returning ml.components.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/pca.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

static void
require_pca(const mlx_model *m, const char *fname)
{
	if (m->algorithm != MLX_ALG_PCA)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a PCA model, but this is a %s model", fname,
						mlx_algorithm_name(m->algorithm)),
				 errhint("Train one with ml.pca_fit or ml.train(..., algorithm => 'pca').")));
}

static Datum
make_float8_array(const double *v, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		elems[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(elems, n, FLOAT8OID, sizeof(float8),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static Datum
transform_array(const mlx_model *m, const void *x)
{
	const mlx_pca_fit *f = &m->u.pca;
	double	   *out = palloc(sizeof(double) * f->ncomp);

	mlx_pca_transform(f, x, out);
	return make_float8_array(out, f->ncomp);
}

#define TRANSFORM_ENTRY(fn, by_name, row) \
PG_FUNCTION_INFO_V1(fn); \
Datum \
fn(PG_FUNCTION_ARGS) \
{ \
	const void *x; \
	const mlx_model *m = ml_model_and_features(fcinfo, by_name, row, &x); \
	require_pca(m, "ml.transform"); \
	PG_RETURN_DATUM(transform_array(m, x)); \
}

TRANSFORM_ENTRY(ml_transform_array, false, false)
TRANSFORM_ENTRY(ml_transform_row, false, true)
TRANSFORM_ENTRY(ml_transform_name_array, true, false)
TRANSFORM_ENTRY(ml_transform_name_row, true, true)

/*
 * ml.components(model) RETURNS TABLE(component int, explained_variance
 * float8, explained_variance_ratio float8, singular_value float8, loadings
 * float8[]): one row per component, largest variance first.
 */
static Datum
components_srf(FunctionCallInfo fcinfo, bool by_name)
{
	FuncCallContext *funcctx;
	mlx_model  *m;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		m = palloc0(sizeof(mlx_model));
		if (by_name)
			ml_registry_load(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							 funcctx->multi_call_memory_ctx, m);
		else
			ml_decode_model(PG_GETARG_DATUM(0), m);
		require_pca(m, "ml.components");
		funcctx->user_fctx = m;
		funcctx->max_calls = m->u.pca.ncomp;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	m = (mlx_model *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		const mlx_pca_fit *f = &m->u.pca;
		int			c = (int) funcctx->call_cntr;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = Int32GetDatum(c + 1);
		values[1] = Float8GetDatum(f->explained_variance[c]);
		values[2] = Float8GetDatum(f->explained_variance_ratio[c]);
		values[3] = Float8GetDatum(f->singular_values[c]);
		values[4] = make_float8_array(f->components + (size_t) c * f->nfeat, f->nfeat);
		SRF_RETURN_NEXT(funcctx,
						HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

/* ml.components(model bytea) */
PG_FUNCTION_INFO_V1(ml_components);
Datum
ml_components(PG_FUNCTION_ARGS)
{
	return components_srf(fcinfo, false);
}

/* ml.components(model_name text) */
PG_FUNCTION_INFO_V1(ml_components_name);
Datum
ml_components_name(PG_FUNCTION_ARGS)
{
	return components_srf(fcinfo, true);
}
