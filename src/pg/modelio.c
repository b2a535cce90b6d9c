/*
 * modelio.c
 *	  Model bytea <-> decoded model, with the per-query decode cache used by
 *	  scoring functions.
 */
#include "postgres.h"

#include <math.h>

#include "nodes/primnodes.h"
#include "utils/memutils.h"

#include "pg/ml_pg.h"

void
ml_decode_model(Datum d, mlx_model *out)
{
	bytea	   *b = DatumGetByteaPP(d);
	char		errbuf[256];
	mlx_status	st;

	errbuf[0] = '\0';
	st = mlx_model_decode((const uint8_t *) VARDATA_ANY(b),
						  VARSIZE_ANY_EXHDR(b), &ml_pg_ctx, out,
						  errbuf, sizeof(errbuf));
	if (st == MLX_ECORRUPT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model: %s", errbuf[0] ? errbuf : "value is corrupt"),
				 errhint("The value is not a model written by ml_ext, or it was damaged.")));
	if (st == MLX_EUNSUPPORTED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("unsupported model: %s", errbuf),
				 errhint("The model was written by a newer version of ml_ext; upgrade the extension to read it.")));
	ml_check_status(st, "model decoding");
}

/*
 * The error for a model over MLX_MODEL_MAX_SIZE: bytes is its size (0:
 * not known, as when tree growth stopped at the limit), or with 'estimate'
 * the most a training run could make (refused before the work).  The hint names what makes a model of the algorithm large.
 */
void
ml_raise_model_too_large(uint16 algorithm, double bytes, bool estimate)
{
	const char *hint;

	if (algorithm == MLX_ALG_DECISION_TREE ||
		algorithm == MLX_ALG_RANDOM_FOREST ||
		algorithm == MLX_ALG_GRADIENT_BOOSTING)
		hint = "Use fewer trees (n_estimators), a smaller max_depth or a larger min_samples_leaf.";
	else if (algorithm == MLX_ALG_PCA)
		hint = "Keep fewer components, or use fewer features.";
	else if (algorithm == MLX_ALG_KMEANS)
		hint = "Use fewer clusters or fewer features.";
	else
		hint = "Use fewer features (a categorical column gives one per category).";
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 estimate ?
			 errmsg("%s model could take up to %.0f MB, more than the limit of %d MB",
					mlx_algorithm_name(algorithm), ceil(bytes / (1024.0 * 1024.0)),
					(int) (MLX_MODEL_MAX_SIZE / (1024 * 1024))) :
			 bytes <= 0 ?
			 errmsg("%s model would take more than the limit of %d MB",
					mlx_algorithm_name(algorithm),
					(int) (MLX_MODEL_MAX_SIZE / (1024 * 1024))) :
			 errmsg("%s model would take %.0f MB, more than the limit of %d MB",
					mlx_algorithm_name(algorithm), ceil(bytes / (1024.0 * 1024.0)),
					(int) (MLX_MODEL_MAX_SIZE / (1024 * 1024))),
			 errdetail("A model is limited to %d MB so that pg_dump can always dump the registry of models.",
					   (int) (MLX_MODEL_MAX_SIZE / (1024 * 1024))),
			 errhint("%s", hint)));
}

bytea *
ml_encode_model(const mlx_model *m)
{
	uint8_t    *buf;
	size_t		len;

	mlx_status	st = mlx_model_encode(m, &ml_pg_ctx, VARHDRSZ, &buf, &len);
	uint64_t	size;

	/* refused for its size, not its contents: say how large it is */
	if (st == MLX_EINVAL &&
		mlx_model_encoded_size(m, &ml_pg_ctx, &size) == MLX_OK &&
		size > MLX_MODEL_MAX_SIZE)
		ml_raise_model_too_large(m->algorithm, (double) size, false);

	/*
	 * Every model here comes from our own fits, whose fields are in range
	 * unless the arithmetic overflowed (data near the limits of double
	 * precision): say so in the user's terms.
	 */
	if (st == MLX_EINVAL)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the fitted %s model has values that are not finite",
						mlx_algorithm_name(m->algorithm)),
				 errdetail("Sums of squares of the data overflow double precision, or the fit diverged."),
				 errhint("Rescale the columns (for example to standard units) and train again.")));
	ml_check_status(st, "model encoding");
	SET_VARSIZE(buf, len + VARHDRSZ);
	return (bytea *) buf;
}

/*
 * The expression of argument argno of an aggregate's transition function
 * (NULL when not called as an aggregate), and whether it is the same for
 * every row.  get_fn_expr_arg_stable cannot tell: the expression the
 * executor builds for a transition call has placeholder arguments.  The
 * Aggref has the real ones (argument argno of the transition function is
 * aggregate argument argno - 1, the state coming first).
 */
Expr *
ml_agg_arg_expr(FunctionCallInfo fcinfo, int argno)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);

	if (aggref == NULL || argno < 1 || argno > list_length(aggref->args))
		return NULL;
	return list_nth_node(TargetEntry, aggref->args, argno - 1)->expr;
}

bool
ml_agg_arg_stable(FunctionCallInfo fcinfo, int argno)
{
	Expr	   *e = ml_agg_arg_expr(fcinfo, argno);

	if (e != NULL && IsA(e, Const))
		return true;
	if (e != NULL && IsA(e, Param))
		return ((Param *) e)->paramkind == PARAM_EXTERN;
	return false;
}

/*
 * The decode cache of scoring functions (fn_extra, or a field of a larger
 * fn_extra struct).
 *
 * An entry is keyed by the identity of the value it was decoded from, never
 * by the call site alone:
 *
 *	- a value that is still an on-disk TOAST pointer by the pointer itself
 *	  (toast relation, value id, sizes): that names one stored, immutable
 *	  value, so a model read from a table is neither fetched nor compared
 *	  byte by byte per row;
 *	- a value compressed in line (say a large model in a PL/pgSQL variable)
 *	  by its compressed bytes, compared in full: equal compressed bytes are
 *	  equal models, and comparing them costs far less than decompressing
 *	  a large model on every call;
 *	- any other value by its length, its stored CRC-32C (the model's last 4
 *	  bytes: a cheap way to tell most different models apart without reading
 *	  them) and, on a match, a comparison of every byte, so that two
 *	  different values with the same length and CRC can never be confused.
 *
 * The comparison is skipped only when the argument is a Const of the
 * calling expression, or, in an aggregate's transition call, a Const or an
 * external parameter of the Aggref: those cannot change while the FmgrInfo
 * lives.  An external parameter of an ordinary function call can:
 * PL/pgSQL keeps a simple expression's FmgrInfo (and so fn_extra) for the
 * whole transaction and evaluates it again whenever a statement runs, its
 * variables being Params whose values change in between (and may even be
 * reallocated at the same address).  get_fn_expr_arg_stable() says "stable"
 * for those Params, which is why it is not used here.  An aggregate's
 * arguments are never part of a PL/pgSQL simple expression, and a query's
 * executor state (with its FmgrInfos) is built afresh for each execution.
 */
typedef enum MlKeyKind
{
	ML_KEY_BYTES,				/* the model's bytes, in line */
	ML_KEY_COMPRESSED,			/* a compressed in-line varlena, as is */
	ML_KEY_TOAST_POINTER		/* an on-disk TOAST pointer */
} MlKeyKind;

typedef struct MlModelCache
{
	MemoryContext cxt;
	bool		valid;
	bool		stable;			/* argument cannot change while fn_extra lives */
	MlKeyKind	keykind;
	uint32		generation;		/* bumped at every (re)decode */
	Size		keylen;
	uint32		keycrc;			/* last 4 bytes of the key: of ML_KEY_BYTES,
								 * the model's stored CRC-32C */
	char	   *key;
	mlx_model	model;
} MlModelCache;

/* True when argument argno of the calling expression is a Const. */
static bool
arg_is_const(FunctionCallInfo fcinfo, int argno)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;
	List	   *args;

	if (expr == NULL)
		return false;
	if (IsA(expr, FuncExpr))
		args = ((FuncExpr *) expr)->args;
	else if (IsA(expr, OpExpr))
		args = ((OpExpr *) expr)->args;
	else
		return false;
	if (argno < 0 || argno >= list_length(args))
		return false;
	return IsA(list_nth(args, argno), Const);
}

static MlModelCache *
model_cache_new(MemoryContext mcxt, void **slot)
{
	MlModelCache *c = MemoryContextAllocZero(mcxt, sizeof(MlModelCache));

	c->cxt = AllocSetContextCreate(mcxt, "ml_ext model cache",
								   ALLOCSET_SMALL_SIZES);
	*slot = c;
	return c;
}

/* The last 4 bytes of a key of len bytes (0 if shorter). */
static inline uint32
tail_crc(const char *data, Size len)
{
	uint32		crc = 0;

	if (len >= sizeof(crc))
		memcpy(&crc, data + len - sizeof(crc), sizeof(crc));
	return crc;
}

/* The model of value raw, decoded again only when it is another value. */
static const mlx_model *
model_cache_lookup(MlModelCache *c, struct varlena *raw)
{
	MlKeyKind	kind;
	const char *keydata;
	Size		keylen;
	uint32		crc;
	MemoryContext old;

	if (VARATT_IS_EXTERNAL_ONDISK(raw))
	{
		kind = ML_KEY_TOAST_POINTER;
		keydata = (const char *) raw;
		keylen = VARSIZE_EXTERNAL(raw);
	}
	else if (VARATT_IS_COMPRESSED(raw))
	{
		kind = ML_KEY_COMPRESSED;
		keydata = (const char *) raw;
		keylen = VARSIZE(raw);
	}
	else
	{
		kind = ML_KEY_BYTES;
		raw = ml_varlena_inline(raw);
		keydata = VARDATA_ANY(raw);
		keylen = VARSIZE_ANY_EXHDR(raw);
	}
	crc = tail_crc(keydata, keylen);

	if (c->valid && c->keykind == kind &&
		c->keylen == keylen && c->keycrc == crc &&
		memcmp(c->key, keydata, keylen) == 0)
		return &c->model;

	/* (re)decode into a fresh cache context */
	c->valid = false;
	MemoryContextReset(c->cxt);
	old = MemoryContextSwitchTo(c->cxt);
	ml_decode_model(PointerGetDatum(raw), &c->model);
	c->key = palloc(keylen);
	memcpy(c->key, keydata, keylen);
	MemoryContextSwitchTo(old);
	c->keylen = keylen;
	c->keycrc = crc;
	c->keykind = kind;
	c->generation++;
	c->valid = true;
	return &c->model;
}

const mlx_model *
ml_cached_model(FunctionCallInfo fcinfo, int argno, void **slot)
{
	MlModelCache *c = (MlModelCache *) *slot;

	if (c == NULL)
	{
		c = model_cache_new(fcinfo->flinfo->fn_mcxt, slot);
		c->stable = AggCheckCallContext(fcinfo, NULL) == AGG_CONTEXT_AGGREGATE ?
			ml_agg_arg_stable(fcinfo, argno) :
			arg_is_const(fcinfo, argno);
	}
	else if (c->valid && c->stable)
		return &c->model;

	return model_cache_lookup(c, (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno)));
}

const mlx_model *
ml_cached_model_value(MemoryContext mcxt, void **slot, Datum value)
{
	MlModelCache *c = (MlModelCache *) *slot;

	if (c == NULL)
		c = model_cache_new(mcxt, slot);
	return model_cache_lookup(c, (struct varlena *) DatumGetPointer(value));
}

uint32
ml_cached_model_generation(void *slot)
{
	return slot ? ((MlModelCache *) slot)->generation : 0;
}
