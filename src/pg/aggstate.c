/*
 * aggstate.c
 *	  Helpers shared by the aggregates whose transition state is a flat
 *	  bytea (linear regression, the IRLS, k-means, lasso/PCA and naive
 *	  Bayes passes, the metrics, the array averages).
 */
#include "postgres.h"

#include "fmgr.h"

#include "pg/ml_pg.h"

void
ml_require_agg(FunctionCallInfo fcinfo, const char *fname)
{
	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s can only be called as part of an aggregate", fname)));
}

/*
 * A state argument in-line, with a 4-byte header and 8-byte aligned:
 * detoasted when it is compressed, out of line or has a short header, and
 * copied when its body is not aligned for doubles.  The contents are the
 * caller's to validate (states are untrusted: anyone can build an
 * aggregate from our support functions with a hand-made initial value).
 */
struct varlena *
ml_state_arg(Datum d)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTENDED(raw))
		raw = pg_detoast_datum(raw);
	if (((uintptr_t) raw) % sizeof(double) != 0)
	{
		struct varlena *copy = palloc(VARSIZE(raw));

		memcpy(copy, raw, VARSIZE(raw));
		raw = copy;
	}
	return raw;
}

MlPassCache *
ml_pass_cache(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(MlPassCache));
	return (MlPassCache *) fcinfo->flinfo->fn_extra;
}
