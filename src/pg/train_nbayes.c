/*
 * train_nbayes.c
 *	  ml.train for naive Bayes: one parallel pass of ml._naive_bayes_train
 *	  over the encoded rows, each row's class numbered by its position in
 *	  the target's classes (ml_train_classes); attach_inputs then gives the
 *	  model the target's own labels.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg/ml_pg.h"
#include "pg/ml_train.h"

bytea *
ml_train_nbayes_fit(TrainRun *run, bytea *encoder)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[2] = {BYTEAOID, TEXTARRAYOID};
	Datum		args[2];
	Datum	   *labels = palloc(sizeof(Datum) * run->nclasses);
	bool		isnull;
	bytea	   *model;
	int			planned;
	MemoryContext old;

	for (int i = 0; i < run->nclasses; i++)
		labels[i] = CStringGetTextDatum(run->classes[i]);
	args[0] = PointerGetDatum(encoder);
	args[1] = PointerGetDatum(construct_array(labels, run->nclasses, TEXTOID, -1, false, TYPALIGN_INT));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT ml._naive_bayes_train(pg_catalog.array_position($2, (src.%s)::pg_catalog.text) - 1, "
					 "%s, %d::pg_catalog.int4, %s::pg_catalog.text, ",
					 run->qtarget, run->encode_sql, run->nclasses,
					 quote_literal_cstr(run->opt.distribution));
	ml_append_float8(&sql, run->opt.var_smoothing);
	appendStringInfoString(&sql, ", ");
	ml_append_float8(&sql, run->opt.nb_alpha);
	appendStringInfo(&sql, "), ml._processes(1), pg_catalog.count(*) FROM %s AS src WHERE %s AND %s",
					 run->from, run->train_pred, run->target_ok);
	planned = ml_spi_run_pass(sql.data, 2, types, args);
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
