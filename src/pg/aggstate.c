/*
 * aggstate.c
 *	  Helpers shared by the aggregates whose transition state is a flat
 *	  bytea (linear regression, the IRLS, k-means, lasso/PCA and naive
 *	  Bayes passes, the metrics, the array averages).
 */
#include "postgres.h"

#include "fmgr.h"

#include "core/linreg.h"
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

/*
 * The shape of a QR block for one (nfeat, intercept), remembered: the
 * per-row check below runs on every row of a pass.
 */
static struct
{
	int			nfeat;
	bool		intercept;
	size_t		size;
	int			bufrows;
}			qr_shape;

bool
ml_qr_block_usable(const mlx_linreg_state *s, size_t size)
{
	bool		intercept = (s->flags & MLX_LINREG_F_INTERCEPT) != 0;

	if (s->version != MLX_LINREG_STATE_VERSION ||
		(s->flags & ~MLX_LINREG_F_INTERCEPT) != 0 ||
		s->nfeat < 1 || s->nfeat > MLX_LINREG_MAX_FEATURES)
		return false;
	if (s->nfeat != qr_shape.nfeat || intercept != qr_shape.intercept)
	{
		int			p = mlx_linreg_ncols(s->nfeat, intercept);

		qr_shape.size = mlx_linreg_state_size(s->nfeat, intercept);
		qr_shape.bufrows = (int) ((qr_shape.size - sizeof(mlx_linreg_state)) /
								  sizeof(double) / p - p);
		qr_shape.nfeat = s->nfeat;
		qr_shape.intercept = intercept;
	}
	return size == qr_shape.size && s->bufrows == qr_shape.bufrows &&
		s->nbuf >= 0 && s->nbuf <= s->bufrows;
}
