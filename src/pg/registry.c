/*
 * registry.c
 *	  Looking up named models in ml.models.
 *
 * The lookup is an ordinary query run with the caller's privileges, so
 * row-level security on ml.models decides which models a role can use.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg/ml_pg.h"
#include "pg/ml_train.h"

void
ml_registry_load(const char *name, MemoryContext cxt, mlx_model *out)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	bytea	   *copy = NULL;
	bool		exists = false;
	MemoryContext old;

	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT model FROM ml.models WHERE name = $1 AND deployed",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "model lookup failed");
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		old = MemoryContextSwitchTo(cxt);
		copy = (bytea *) PG_DETOAST_DATUM_COPY(d);
		MemoryContextSwitchTo(old);
	}
	else
	{
		if (SPI_execute_with_args("SELECT 1 FROM ml.models WHERE name = $1",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "model lookup failed");
		exists = (SPI_processed > 0);
	}
	SPI_finish();

	if (copy == NULL)
	{
		if (exists)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" has no deployed version", name),
					 errhint("Deploy one with ml.deploy(name, version).")));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it with ml.train, or check the name; models of other roles are not visible.")));
	}

	old = MemoryContextSwitchTo(cxt);
	ml_decode_model(PointerGetDatum(copy), out);
	MemoryContextSwitchTo(old);
}
