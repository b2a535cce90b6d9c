/*
 * registry_write.c
 *	  Every write to the model registry (ml.model_names, ml.models).
 *
 * No role but the registry's owner (the role that installed ml_ext) may
 * write the registry tables: a role that could insert rows could claim
 * another role's names, learn version numbers or take future ids.  The
 * functions here check the caller first (membership in the role that owns
 * the name, taken as an OID: a renamed role keeps its models, a new role
 * with an old name gets none), then do their writes as the registry's owner,
 * in a security-restricted operation with search_path pinned, and switch
 * back.  Training itself never runs elevated: ml.train reads the data as
 * the caller and only comes here to claim the name and to store the model.
 *
 * A role that owns model names holds SELECT on the empty table
 * ml.model_owners, which makes DROP ROLE refuse while it owns models.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "pg/ml_pg.h"
#include "pg/ml_registry.h"
#include "pg/ml_train.h"

/* the lock that serializes registrations of one name (1.0 used the same key) */
#define NAME_LOCK_SQL \
	"SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(" \
	"pg_catalog.textcat('ml_ext.models:', $1), 0::pg_catalog.int8))"

/* the lock around GRANT/REVOKE on ml.model_owners (one pg_class row) */
#define OWNERS_LOCK_SQL \
	"SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(" \
	"'ml_ext.model_owners'::pg_catalog.text, 0::pg_catalog.int8))"

typedef struct RegistryAccess
{
	Oid			caller;			/* the role that called us */
	Oid			save_user;
	int			save_sec;
	int			pin;
} RegistryAccess;

/*
 * The library is shared by every database of the cluster, some of which may
 * still hold ml_ext 1.0's SQL objects (before ALTER EXTENSION ... UPDATE):
 * their registry has no owner_id, and its writers are 1.0's own functions.
 */
static void
check_registry_version(Oid models)
{
	if (get_attnum(models, "owner_id") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the SQL objects of ml_ext in this database are older than its library"),
				 errdetail("The model registry has not been updated to ml_ext 1.1; models still score, but cannot be trained or stored."),
				 errhint("Run ALTER EXTENSION ml_ext UPDATE.")));
}

/* The registry's owner: the owner of ml.models. */
static Oid
registry_owner(void)
{
	Oid			nsp = get_namespace_oid("ml", false);
	Oid			rel = get_relname_relid("models", nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the model registry ml.models does not exist"),
				 errhint("Reinstall the extension: DROP EXTENSION ml_ext; CREATE EXTENSION ml_ext.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	check_registry_version(rel);
	return owner;
}

/*
 * Become the registry's owner for our own SQL.  The caller's user id is
 * restored by registry_leave, or by the (sub)transaction abort on error.
 */
static void
registry_enter(RegistryAccess *ra)
{
	ra->caller = GetUserId();
	GetUserIdAndSecContext(&ra->save_user, &ra->save_sec);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ra->pin = ml_pin_search_path();
	SetUserIdAndSecContext(registry_owner(),
						   ra->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

static void
registry_leave(RegistryAccess *ra)
{
	SetUserIdAndSecContext(ra->save_user, ra->save_sec);
	ml_unpin_search_path(ra->pin);
	SPI_finish();
}

static bool
role_exists(Oid role)
{
	return SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role));
}

static void
lock_name(Datum name)
{
	Oid			t[1] = {TEXTOID};
	Datum		a[1] = {name};

	ml_spi_run(NAME_LOCK_SQL, 1, t, a, 1);
}

/*
 * The owner of a name as the caller may see it: InvalidOid when the name
 * does not exist or belongs to a role the caller is not a member of (the
 * two look alike, as they do through ml.models).  A name whose role was
 * dropped is visible to superusers only.
 */
static Oid
visible_owner(RegistryAccess *ra, Datum name)
{
	Oid			t[1] = {TEXTOID};
	Datum		a[1] = {name};
	bool		isnull;
	Oid			owner;

	ml_spi_run("SELECT n.owner_id FROM ml.model_names AS n WHERE n.name OPERATOR(pg_catalog.=) $1",
			   1, t, a, -1);
	if (SPI_processed == 0)
		return InvalidOid;
	owner = DatumGetObjectId(ml_spi_value(0, 1, &isnull));
	if (role_exists(owner) ? !is_member_of_role(ra->caller, owner) : !superuser_arg(ra->caller))
		return InvalidOid;
	return owner;
}

static void
raise_no_model(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("model \"%s\" does not exist", name),
			 errhint("Check the name; models of roles you are not a member of are not visible.")));
}

/*
 * Enter the registry for a name the caller must be able to see (deploy,
 * drop, set_owner): the name's lock is held and its owner returned.
 */
static Oid
enter_visible_name(RegistryAccess *ra, const char *name, Datum *namedatum)
{
	Oid			owner;

	registry_enter(ra);
	*namedatum = CStringGetTextDatum(name);
	lock_name(*namedatum);
	owner = visible_owner(ra, *namedatum);
	if (!OidIsValid(owner))
		raise_no_model(name);
	return owner;
}

/* Does role hold its SELECT on ml.model_owners (an explicit grant)? */
static bool
holds_owner_mark(Oid role)
{
	Oid			t[1] = {OIDOID};
	Datum		a[1] = {ObjectIdGetDatum(role)};
	bool		isnull;
	Datum		d;

	ml_spi_run("SELECT pg_catalog.aclcontains(c.relacl, pg_catalog.makeaclitem($1, c.relowner, 'SELECT'::pg_catalog.text, false)) "
			   "FROM pg_catalog.pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) 'ml.model_owners'::pg_catalog.regclass",
			   1, t, a, 1);
	d = ml_spi_value(0, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/* Grant (mark) or revoke the owner mark of a role, when that changes it. */
static void
set_owner_mark(Oid role, bool mark)
{
	if (!role_exists(role) || holds_owner_mark(role) == mark)
		return;
	ml_spi_run(OWNERS_LOCK_SQL, 0, NULL, NULL, 1);
	ml_spi_run(psprintf(mark ? "GRANT SELECT ON ml.model_owners TO %s" :
						"REVOKE SELECT ON ml.model_owners FROM %s",
						quote_identifier(GetUserNameFromId(role, false))),
			   0, NULL, NULL, -1);
}

/* Revoke a role's owner mark when it no longer owns any name. */
static void
release_owner_mark(Oid role)
{
	Oid			t[1] = {OIDOID};
	Datum		a[1] = {ObjectIdGetDatum(role)};

	ml_spi_run("SELECT 1 FROM ml.model_names AS n WHERE n.owner_id OPERATOR(pg_catalog.=) $1 LIMIT 1",
			   1, t, a, -1);
	if (SPI_processed == 0)
		set_owner_mark(role, false);
}

/*
 * Claim a name for ml.train before any training work: a name that belongs
 * to another role (or to a dropped one) fails here, not after the work.
 * The name's row stays locked (FOR KEY SHARE) until the transaction ends,
 * so it cannot be dropped and claimed by someone else meanwhile; a failed
 * training rolls the claim back.
 */
void
ml_registry_claim(const char *name)
{
	RegistryAccess ra;
	Oid			t[2] = {TEXTOID, TEXTOID};
	Datum		a[2];
	bool		isnull;
	Oid			owner;

	registry_enter(&ra);
	a[0] = CStringGetTextDatum(name);
	a[1] = CStringGetTextDatum(GetUserNameFromId(ra.caller, false));
	ml_spi_run("INSERT INTO ml.model_names AS n (name, owner) VALUES ($1, $2) "
			   "ON CONFLICT (name) DO NOTHING", 2, t, a, -1);
	ml_spi_run("SELECT n.owner_id FROM ml.model_names AS n "
			   "WHERE n.name OPERATOR(pg_catalog.=) $1 FOR KEY SHARE", 1, t, a, 1);
	owner = DatumGetObjectId(ml_spi_value(0, 1, &isnull));
	if (!role_exists(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model name \"%s\" belongs to a role that no longer exists", name),
				 errhint("A superuser can give it to a role with ml.set_owner(name, role), or drop it with ml.drop_model(name).")));
	if (!is_member_of_role(ra.caller, owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model name \"%s\" belongs to another role", name),
				 errhint("Choose another name, or ask for membership in the role that owns it.")));
	registry_leave(&ra);
}

/* The next version of a name as of a snapshot (NULL: the query's own). */
static int32
next_version(SPIPlanPtr plan, Datum name, Snapshot snap)
{
	Datum		a[1] = {name};
	bool		isnull;
	int			rc;

	rc = SPI_execute_snapshot(plan, a, NULL, snap, InvalidSnapshot, false, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "version lookup failed");
	return DatumGetInt32(ml_spi_value(0, 1, &isnull));
}

/*
 * Store a trained model as the next version of its (claimed) name.  Under
 * REPEATABLE READ or SERIALIZABLE a version committed by a concurrent
 * training after our snapshot was taken is invisible to us; storing ours
 * would collide with it, so that is a serialization failure (40001, retry
 * the transaction), as for any concurrent update.
 */
void
ml_registry_store(const MlRegistryEntry *e, int64 *model_id, int32 *version)
{
	RegistryAccess ra;
	Oid			t1[1] = {TEXTOID};
	Datum		a1[1];
	bool		isnull;
	Oid			owner;
	SPIPlanPtr	plan;

	registry_enter(&ra);
	a1[0] = CStringGetTextDatum(e->name);
	lock_name(a1[0]);
	owner = visible_owner(&ra, a1[0]);
	if (!OidIsValid(owner) || !role_exists(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model name \"%s\" no longer belongs to a role you are a member of", e->name)));

	plan = SPI_prepare("SELECT COALESCE(pg_catalog.max(m.version), 0) OPERATOR(pg_catalog.+) 1 "
					   "FROM ml.models AS m WHERE m.name OPERATOR(pg_catalog.=) $1", 1, t1);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	*version = next_version(plan, a1[0], InvalidSnapshot);
	if (IsolationUsesXactSnapshot() &&
		next_version(plan, a1[0], GetLatestSnapshot()) != *version)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent training of model \"%s\"", e->name),
				 errdetail("Another transaction stored a version of this model after this transaction's snapshot was taken."),
				 errhint("Retry the transaction.")));

	/* the owner's current name: what pg_dump will write for these rows */
	{
		Oid			t[2] = {TEXTOID, TEXTOID};
		Datum		a[2];

		a[0] = a1[0];
		a[1] = CStringGetTextDatum(GetUserNameFromId(owner, false));
		ml_spi_run("UPDATE ml.model_names AS n SET owner = $2 "
				   "WHERE n.name OPERATOR(pg_catalog.=) $1 AND n.owner OPERATOR(pg_catalog.<>) $2::pg_catalog.name",
				   2, t, a, -1);
	}
	if (e->deploy)
		ml_spi_run("UPDATE ml.models AS m SET deployed = false "
				   "WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.deployed", 1, t1, a1, -1);
	{
		Oid			types[13] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
			TEXTARRAYOID, JSONBOID, JSONBOID, JSONBOID, BYTEAOID, INT8OID, BOOLOID, TEXTOID};
		Datum		vals[13];
		char		nulls[13];

		memset(nulls, ' ', sizeof(nulls));
		vals[0] = a1[0];
		vals[1] = Int32GetDatum(*version);
		vals[2] = CStringGetTextDatum(e->algorithm);
		vals[3] = CStringGetTextDatum(e->relation);
		vals[4] = e->target ? CStringGetTextDatum(e->target) : (Datum) 0;
		nulls[4] = e->target ? ' ' : 'n';
		vals[5] = PointerGetDatum(e->features);
		vals[6] = JsonbPGetDatum(e->options);
		vals[7] = JsonbPGetDatum(e->metrics);
		vals[8] = JsonbPGetDatum(e->info);
		vals[9] = PointerGetDatum(e->model);
		vals[10] = Int64GetDatum(e->n_rows);
		vals[11] = BoolGetDatum(e->deploy);
		vals[12] = CStringGetTextDatum(GetUserNameFromId(ra.caller, false));
		if (SPI_execute_with_args("INSERT INTO ml.models AS m (name, version, owner, algorithm, relation, target, "
								  "features, options, metrics, training_info, model, n_rows, deployed, created_by) "
								  "SELECT $1, $2, n.owner, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 "
								  "FROM ml.model_names AS n WHERE n.name OPERATOR(pg_catalog.=) $1 RETURNING m.id",
								  13, types, vals, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
			SPI_processed != 1)
			elog(ERROR, "storing the model failed");
		*model_id = DatumGetInt64(ml_spi_value(0, 1, &isnull));
	}
	set_owner_mark(owner, true);
	registry_leave(&ra);
}

/*
 * ml.deploy(model_name text, version integer) RETURNS void
 */
PG_FUNCTION_INFO_V1(ml_deploy);
Datum
ml_deploy(PG_FUNCTION_ARGS)
{
	RegistryAccess ra;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		version = PG_GETARG_INT32(1);
	Oid			t[2] = {TEXTOID, INT4OID};
	Datum		a[2];

	(void) enter_visible_name(&ra, name, &a[0]);
	a[1] = Int32GetDatum(version);
	ml_spi_run("SELECT 1 FROM ml.models AS m WHERE m.name OPERATOR(pg_catalog.=) $1 "
			   "AND m.version OPERATOR(pg_catalog.=) $2", 2, t, a, -1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no version %d", name, version)));
	ml_spi_run("UPDATE ml.models AS m SET deployed = false "
			   "WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.deployed", 1, t, a, -1);
	ml_spi_run("UPDATE ml.models AS m SET deployed = true "
			   "WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.version OPERATOR(pg_catalog.=) $2",
			   2, t, a, 1);
	registry_leave(&ra);
	PG_RETURN_VOID();
}

/*
 * ml.drop_model(model_name text, version integer DEFAULT NULL) RETURNS integer
 * The number of versions deleted; without a version, the name goes too.
 */
PG_FUNCTION_INFO_V1(ml_drop_model);
Datum
ml_drop_model(PG_FUNCTION_ARGS)
{
	RegistryAccess ra;
	char	   *name;
	Oid			t[2] = {TEXTOID, INT4OID};
	Datum		a[2];
	Oid			owner;
	uint64		n;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model_name must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	owner = enter_visible_name(&ra, name, &a[0]);
	if (PG_ARGISNULL(1))
	{
		ml_spi_run("DELETE FROM ml.models AS m WHERE m.name OPERATOR(pg_catalog.=) $1", 1, t, a, -1);
		n = SPI_processed;
		ml_spi_run("DELETE FROM ml.model_names AS n WHERE n.name OPERATOR(pg_catalog.=) $1", 1, t, a, 1);
		release_owner_mark(owner);
	}
	else
	{
		a[1] = Int32GetDatum(PG_GETARG_INT32(1));
		ml_spi_run("DELETE FROM ml.models AS m WHERE m.name OPERATOR(pg_catalog.=) $1 "
				   "AND m.version OPERATOR(pg_catalog.=) $2", 2, t, a, -1);
		n = SPI_processed;
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" version %d does not exist", name, PG_GETARG_INT32(1))));
	}
	registry_leave(&ra);
	PG_RETURN_INT32((int32) n);
}

/*
 * ml.set_owner(model_name text, new_owner regrole) RETURNS void
 *
 * As ALTER ... OWNER TO: the caller must be a member of the current and of
 * the new owning role, or a superuser (the only way to reach the models of
 * a dropped role).
 */
PG_FUNCTION_INFO_V1(ml_set_owner);
Datum
ml_set_owner(PG_FUNCTION_ARGS)
{
	RegistryAccess ra;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			newowner = PG_GETARG_OID(1);
	Oid			t[3] = {TEXTOID, OIDOID, TEXTOID};
	Datum		a[3];
	Oid			owner;

	owner = enter_visible_name(&ra, name, &a[0]);
	if (!role_exists(newowner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role with OID %u does not exist", newowner)));
	if (!is_member_of_role(ra.caller, newowner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be a member of role \"%s\" to give it model \"%s\"",
						GetUserNameFromId(newowner, false), name)));
	a[1] = ObjectIdGetDatum(newowner);
	a[2] = CStringGetTextDatum(GetUserNameFromId(newowner, false));
	ml_spi_run("UPDATE ml.model_names AS n SET owner_id = $2, owner = $3 "
			   "WHERE n.name OPERATOR(pg_catalog.=) $1", 3, t, a, 1);
	ml_spi_run("UPDATE ml.models AS m SET owner_id = $2, owner = $3 "
			   "WHERE m.name OPERATOR(pg_catalog.=) $1", 3, t, a, -1);
	set_owner_mark(newowner, true);
	if (owner != newowner)
		release_owner_mark(owner);
	registry_leave(&ra);
	PG_RETURN_VOID();
}
