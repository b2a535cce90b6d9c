/*
 * registry.c
 *	  Looking up named models in ml.models, and telling when a lookup made
 *	  earlier may no longer hold.
 *
 * The lookup is an ordinary query run with the caller's privileges, so
 * row-level security on ml.models decides which models a role can use.  It
 * is schema-qualified throughout and runs under a pinned search_path
 * (searchpath.c), so nothing a role plants in a schema on the caller's
 * search_path can take part in it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "pg/ml_pg.h"
#include "pg/ml_train.h"

static const char *const deployed_sql =
"SELECT m.id, m.model FROM ml.models m "
"WHERE m.name OPERATOR(pg_catalog.=) $1::pg_catalog.text AND m.deployed";

static const char *const exists_sql =
"SELECT 1 FROM ml.models m "
"WHERE m.name OPERATOR(pg_catalog.=) $1::pg_catalog.text";

Datum
ml_registry_find(const char *name, MemoryContext cxt, int64 *id)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	struct varlena *copy = NULL;
	bool		exists = false;
	int			level;
	MemoryContext old;

	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = ml_pin_search_path();
	if (SPI_execute_with_args(deployed_sql, 1, argtypes, args, NULL,
							  true, 1) != SPI_OK_SELECT)
		elog(ERROR, "model lookup failed");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		struct varlena *model;

		*id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		model = (struct varlena *) DatumGetPointer(SPI_getbinval(tup, td, 2, &isnull));
		if (isnull)
			elog(ERROR, "deployed model \"%s\" has no model value", name);

		/*
		 * As stored: a TOAST pointer stays one (18 bytes), so that a caller
		 * that already holds this very value need not fetch it again.
		 */
		old = MemoryContextSwitchTo(cxt);
		copy = palloc(VARSIZE_ANY(model));
		memcpy(copy, model, VARSIZE_ANY(model));
		MemoryContextSwitchTo(old);
	}
	else
	{
		if (SPI_execute_with_args(exists_sql, 1, argtypes, args, NULL,
								  true, 1) != SPI_OK_SELECT)
			elog(ERROR, "model lookup failed");
		exists = (SPI_processed > 0);
	}
	ml_unpin_search_path(level);
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
	return PointerGetDatum(copy);
}

void
ml_registry_load(const char *name, MemoryContext cxt, mlx_model *out)
{
	int64		id;
	Datum		model = ml_registry_find(name, CurrentMemoryContext, &id);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	ml_decode_model(model, out);
	MemoryContextSwitchTo(old);
}

/*
 * The stamp of a lookup: what decides which deployed row a lookup by name
 * finds.  A lookup runs read-only in the caller's active snapshot, so it
 * finds the same row again as long as
 *
 *	- the transaction is the same (lxid),
 *	- the role is the same (RLS and privileges: SET ROLE, SET SESSION
 *	  AUTHORIZATION, a SECURITY DEFINER function),
 *	- the snapshot sees the same commands of this transaction (curcid: a
 *	  deploy, retrain or drop earlier in the transaction advances it) and
 *	  the same set of completed transactions (xmin, xmax and the count of
 *	  completions at snapshot time, which changes whenever any transaction
 *	  commits or aborts: a deploy committed by another session).
 *
 * Comparing these is a few loads per row, so a statement scoring a million
 * rows by name looks the model up once, while a PL/pgSQL loop that deploys
 * between calls (whose FmgrInfo, and so cache, lives for the whole
 * transaction) looks it up again on the next statement.  Without an active
 * snapshot nothing is assumed: every call looks up.
 */
void
ml_registry_stamp_take(MlRegistryStamp *s)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	s->valid = (snap != NULL);
	if (!s->valid)
		return;
	s->lxid = ML_MY_LXID();
	s->userid = GetUserId();
	s->curcid = snap->curcid;
	s->xmin = snap->xmin;
	s->xmax = snap->xmax;
	s->completions = snap->snapXactCompletionCount;
}

bool
ml_registry_stamp_current(const MlRegistryStamp *s)
{
	Snapshot	snap;

	if (!s->valid || !ActiveSnapshotSet())
		return false;
	snap = GetActiveSnapshot();
	return s->lxid == ML_MY_LXID() &&
		s->userid == GetUserId() &&
		s->curcid == snap->curcid &&
		s->xmin == snap->xmin &&
		s->xmax == snap->xmax &&
		s->completions == snap->snapXactCompletionCount;
}
