/*
 * errors.c
 *	  The core's palloc-backed context and the mapping of core status codes
 *	  to PostgreSQL errors.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "pg/ml_pg.h"

static void *
pg_ctx_alloc(void *arg, size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
}

static void
pg_ctx_free(void *arg, void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/*
 * Only cancel and termination make the core give up early: other pending
 * interrupts (barriers, catchup) are served by the next
 * CHECK_FOR_INTERRUPTS without aborting work.
 */
static bool
pg_ctx_interrupted(void *arg)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

const mlx_ctx ml_pg_ctx = {
	pg_ctx_alloc,
	pg_ctx_free,
	pg_ctx_interrupted,
	NULL
};

void
ml_check_state_status(mlx_status st, const char *what)
{
	if (st == MLX_ELAPACK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("linear algebra routine failed during %s", what),
				 errdetail("The aggregate state holds numbers the solver cannot work with: it was not built by the transition function, or the data are too extreme."),
				 errhint("Rescale the columns (for example to standard units) and train again.")));
	ml_check_status(st, what);
}

void
ml_raise_status(mlx_status st, const char *what, const char *errbuf)
{
	bool		have_detail = (errbuf != NULL && errbuf[0] != '\0');

	switch (st)
	{
		case MLX_OK:
			elog(ERROR, "ml_raise_status called with MLX_OK");
			break;
		case MLX_ENOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory during %s", what)));
			break;
		case MLX_EINTR:
			/* normally this throws the cancel/termination error itself */
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("%s was interrupted", what)));
			break;
		case MLX_EINVAL:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid argument for %s", what),
					 have_detail ? errdetail("%s", errbuf) : 0));
			break;
		case MLX_ENONFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("non-finite value in input of %s", what),
					 have_detail ? errdetail("%s", errbuf) : 0));
			break;
		case MLX_EMISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("incompatible partial results in %s", what),
					 have_detail ? errdetail("%s", errbuf) : 0));
			break;
		case MLX_ECORRUPT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid %s: %s", what,
							have_detail ? errbuf : "value is corrupt")));
			break;
		case MLX_EUNSUPPORTED:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("unsupported %s: %s", what,
							have_detail ? errbuf : "unknown format"),
					 errhint("The value was written by a newer version of ml_ext; upgrade the extension to read it.")));
			break;
		case MLX_ELAPACK:
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("linear algebra routine failed during %s", what),
					 have_detail ? errdetail("%s", errbuf) : 0));
			break;
	}
	elog(ERROR, "unrecognized ml_ext status %d during %s", (int) st, what);
	pg_unreachable();
}
