/*
 * train_gram.c
 *	  ml.train for lasso, elastic_net and pca: one parallel aggregate pass
 *	  over the encoded rows (ml._elastic_net_train or ml.pca_fit, see
 *	  gram.c), and PCA's training figures.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg/ml_pg.h"
#include "pg/ml_train.h"

/*
 * The fit pass.  Lasso runs as an elastic net with l1_ratio 1 (the model is
 * relabelled by attach_inputs); the solver settings are literals of the
 * query, the encoder its only parameter.
 */
bytea *
ml_train_gram_fit(TrainRun *run, bytea *encoder)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			argtypes[1] = {BYTEAOID};
	Datum		args[1];
	bool		isnull;
	bytea	   *model;
	int			planned;
	MemoryContext old;

	args[0] = PointerGetDatum(encoder);
	initStringInfo(&sql);
	if (strcmp(run->algorithm, "pca") == 0)
	{
		appendStringInfo(&sql, "SELECT ml.pca_fit(%s", run->encode_sql);
		if (run->opt.n_components > 0)
		{
			if (run->opt.n_components > run->nfeat)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"n_components\" is %d, but the feature columns expand to %d features",
								run->opt.n_components, run->nfeat),
						 errhint("Ask for at most as many components as there are features.")));
			appendStringInfo(&sql, ", %d::pg_catalog.int4", run->opt.n_components);
		}
		appendStringInfoChar(&sql, ')');
	}
	else
	{
		appendStringInfo(&sql, "SELECT ml._elastic_net_train((src.%s)::pg_catalog.float8, %s, ",
						 run->qtarget, run->encode_sql);
		ml_append_float8(&sql, run->opt.alpha);
		appendStringInfoString(&sql, ", ");
		ml_append_float8(&sql, strcmp(run->algorithm, "lasso") == 0 ? 1.0 : run->opt.l1_ratio);
		appendStringInfo(&sql, ", %d::pg_catalog.int4, ", run->opt.max_iter);
		ml_append_float8(&sql, run->opt.tol);
		appendStringInfoChar(&sql, ')');
	}
	appendStringInfo(&sql, ", ml._processes(1), pg_catalog.count(*) FROM %s AS src WHERE %s AND %s",
					 run->from, run->train_pred, run->target_ok);
	planned = ml_spi_run_pass(sql.data, 1, argtypes, args);
	model = DatumGetByteaPP(ml_spi_value(0, 1, &isnull));
	if (isnull)
		elog(ERROR, "training pass returned no model");
	ml_record_pass(run, "fit", DatumGetInt64(ml_spi_value(0, 3, &isnull)),
				   DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, NAN);
	old = MemoryContextSwitchTo(run->cxt);
	model = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(model));
	MemoryContextSwitchTo(old);
	return model;
}

/*
 * PCA's figures: the components kept, the share of the variance they
 * explain, and the ratio of each.  There is no held-out evaluation (PCA
 * takes no test_fraction).
 */
Jsonb *
ml_train_pca_metrics(TrainRun *run, bytea *model)
{
	Oid			types[1] = {BYTEAOID};
	Datum		args[1];
	bool		isnull;
	Jsonb	   *result;
	MemoryContext old;

	args[0] = PointerGetDatum(model);
	ml_spi_run("SELECT pg_catalog.jsonb_build_object("
			   "'n_components'::pg_catalog.text, pg_catalog.count(*), "
			   "'explained_variance_ratio'::pg_catalog.text, pg_catalog.sum(explained_variance_ratio), "
			   "'explained_variance_ratios'::pg_catalog.text, "
			   "pg_catalog.jsonb_agg(explained_variance_ratio ORDER BY component), "
			   "'evaluated_on'::pg_catalog.text, 'training'::pg_catalog.text) "
			   "FROM ml.components($1)",
			   1, types, args, 1);
	old = MemoryContextSwitchTo(run->cxt);
	result = DatumGetJsonbPCopy(ml_spi_value(0, 1, &isnull));
	MemoryContextSwitchTo(old);
	return result;
}
