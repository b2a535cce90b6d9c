/*
 * rowpredict.c
 *	  Scoring by name and by table row:
 *		ml.predict(model_name text, x float8[])
 *		ml.predict(model_name text, row record)
 *		ml.predict(model bytea, row record)
 *
 * A model trained by ml.train records its source columns (MLX_SEC_INPUTS):
 * name, kind, imputation values, category vocabularies.  Scoring a row
 * finds those columns by name in the row's type, checks their types once
 * per query, and per row applies the same encoding the training query
 * used.  A named model is looked up once per statement (and per parallel
 * worker) and kept in fn_extra, keyed by its registry row and its bytes;
 * see named_model.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "pg/ml_pg.h"
#include "pg/ml_train.h"

/* where each input column sits in the row type seen last */
typedef struct RowMap
{
	bool		valid;
	uint32		generation;		/* bytea form: model cache generation */
	Oid			tuptype;
	int32		tuptypmod;
	TupleDesc	tupdesc;		/* copy, in the cache context */
	int		   *attidx;			/* per input: 0-based attribute index */
	Oid		   *atttype;		/* per input: base type of that attribute */
	bool		all_float8;		/* every input a float8 column of one
								 * feature: encoded without the per-column
								 * dispatch */
	Datum	   *values;			/* deform scratch, natts */
	bool	   *nulls;
} RowMap;

typedef struct RowCache
{
	MemoryContext cxt;
	char	   *name;			/* named model, or NULL */
	char	   *label;			/* 'model "name"', for messages */
	Size		namelen;
	const mlx_model *named;		/* decoded named model, in named_cache */
	int64		named_id;		/* its ml.models.id */
	MlRegistryStamp named_stamp;	/* when it was looked up */
	void	   *named_cache;	/* ml_cached_model_value slot of the name */
	void	   *bytea_cache;	/* ml_cached_model slot for the bytea form */
	RowMap		map;
	double	   *buf;			/* encoded features */
	int			bufsize;
	/* a pass's encoder of one float8[] column, fixed for the query */
	const mlx_model *array_encoder;
} RowCache;

/* The cache in *slot (fn_extra, or a field of a larger fn_extra struct). */
static RowCache *
row_cache_in(FunctionCallInfo fcinfo, void **slot)
{
	RowCache   *c = (RowCache *) *slot;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RowCache));
		c->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
									   "ml_ext named model cache",
									   ALLOCSET_SMALL_SIZES);
		*slot = c;
	}
	return c;
}

static RowCache *
row_cache(FunctionCallInfo fcinfo)
{
	return row_cache_in(fcinfo, &fcinfo->flinfo->fn_extra);
}

/*
 * The deployed model of the name in argument 0.
 *
 * Looked up again whenever the name or the registry stamp changes (a new
 * statement that may see another deployment, another role, another
 * transaction: see ml_registry_stamp_take), not per row.  The lookup
 * returns the row's id and its model as stored; the decoded model is kept
 * while both are the same (the model compared by identity, as for a bytea
 * argument), so a PL/pgSQL loop scoring by name decodes once, yet never
 * scores with a version that ml.deploy, a retrain, ml.drop_model or a
 * change of role has taken away.
 */
static const mlx_model *
named_model(FunctionCallInfo fcinfo, RowCache *c)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	bool		same_name;
	char	   *name;
	Datum		stored;
	int64		id;
	uint32		generation;
	const mlx_model *m;

	/* the usual case: the same name as the previous row, no copy */
	same_name = c->name != NULL && VARSIZE_ANY_EXHDR(t) == c->namelen &&
		memcmp(VARDATA_ANY(t), c->name, c->namelen) == 0;
	if (same_name && ml_registry_stamp_current(&c->named_stamp))
		return c->named;

	/* until the lookup below succeeds, nothing cached may be used */
	c->named_stamp.valid = false;
	name = text_to_cstring(t);
	stored = ml_registry_find(name, CurrentMemoryContext, &id);
	generation = ml_cached_model_generation(c->named_cache);
	m = ml_cached_model_value(fcinfo->flinfo->fn_mcxt, &c->named_cache, stored);
	if (!same_name || id != c->named_id ||
		ml_cached_model_generation(c->named_cache) != generation)
	{
		/* another model: what was derived from the previous one goes */
		c->name = NULL;
		c->map.valid = false;
		c->buf = NULL;
		c->bufsize = 0;
		c->array_encoder = NULL;
		MemoryContextReset(c->cxt);
		c->name = MemoryContextStrdup(c->cxt, name);
		c->label = MemoryContextStrdup(c->cxt, psprintf("model \"%s\"", name));
		c->namelen = strlen(name);
	}
	c->named = m;
	c->named_id = id;
	ml_registry_stamp_take(&c->named_stamp);
	return m;
}

static bool
numeric_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
		t == FLOAT8OID || t == NUMERICOID;
}

static bool
type_fits(uint8 kind, Oid t)
{
	switch (kind)
	{
		case MLX_INPUT_NUMERIC:
			return numeric_type(t);
		case MLX_INPUT_BOOLEAN:
			return t == BOOLOID;
		case MLX_INPUT_CATEGORICAL:
			return t == TEXTOID || t == VARCHAROID || t == BPCHAROID ||
				t == NAMEOID || type_is_enum(t);
		case MLX_INPUT_ARRAY:
			return t == FLOAT8ARRAYOID;
	}
	return false;
}

static const char *
kind_name(uint8 kind)
{
	switch (kind)
	{
		case MLX_INPUT_NUMERIC:
			return "a numeric";
		case MLX_INPUT_BOOLEAN:
			return "a boolean";
		case MLX_INPUT_CATEGORICAL:
			return "a text or enum";
		case MLX_INPUT_ARRAY:
			return "a double precision[]";
	}
	return "an unknown";
}

/* Find the model's input columns in the row type; check their types. */
/* Every input a numeric feature taken from a float8 column. */
static bool
all_float8_inputs(const mlx_inputs *in, const Oid *atttype)
{
	for (int i = 0; i < in->ninputs; i++)
		if (in->inputs[i].kind != MLX_INPUT_NUMERIC || in->inputs[i].nfeat != 1 ||
			atttype[i] != FLOAT8OID)
			return false;
	return true;
}

static void
build_map(RowCache *c, const mlx_model *m, const char *label,
		  Oid tuptype, int32 tuptypmod)
{
	const mlx_inputs *in = m->inputs;
	TupleDesc	td = lookup_rowtype_tupdesc(tuptype, tuptypmod);
	MemoryContext old = MemoryContextSwitchTo(c->cxt);
	RowMap	   *map = &c->map;

	map->valid = false;
	map->tupdesc = CreateTupleDescCopy(td);
	ReleaseTupleDesc(td);
	td = map->tupdesc;
	map->attidx = palloc(sizeof(int) * in->ninputs);
	map->atttype = palloc(sizeof(Oid) * in->ninputs);
	map->values = palloc(sizeof(Datum) * Max(td->natts, 1));
	map->nulls = palloc(sizeof(bool) * Max(td->natts, 1));
	MemoryContextSwitchTo(old);

	for (int i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];
		int			found = -1;

		for (int j = 0; j < td->natts; j++)
		{
			Form_pg_attribute a = TupleDescAttr(td, j);

			if (!a->attisdropped && strcmp(NameStr(a->attname), x->name) == 0)
			{
				found = j;
				break;
			}
		}
		if (found < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("row has no column \"%s\", which %s needs", x->name, label)));
		map->attidx[i] = found;
		map->atttype[i] = getBaseType(TupleDescAttr(td, found)->atttypid);
		if (!type_fits(x->kind, map->atttype[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s, but %s was trained on %s column",
							x->name, format_type_be(map->atttype[i]), label,
							kind_name(x->kind))));
	}
	map->all_float8 = all_float8_inputs(in, map->atttype);
	map->tuptype = tuptype;
	map->tuptypmod = tuptypmod;
	map->valid = true;
}

static double
numeric_value(Datum d, Oid t)
{
	switch (t)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
	}
	elog(ERROR, "unexpected type %u", t);
	return 0;
}

static void
raise_nonfinite(const char *column, double v)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" is %s", column,
					isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")),
			 errhint("Replace or filter non-finite values first.")));
}

/* The category text of a value, as the training query's "::text" saw it. */
static char *
category_text(Datum d, Oid t)
{
	if (t == NAMEOID)
		return pstrdup(NameStr(*DatumGetName(d)));
	if (t == BPCHAROID)
	{
		char	   *s = TextDatumGetCString(d);
		int			len = strlen(s);

		while (len > 0 && s[len - 1] == ' ')
			s[--len] = '\0';
		return s;
	}
	if (t == TEXTOID || t == VARCHAROID)
		return TextDatumGetCString(d);
	/* enum */
	return DatumGetCString(DirectFunctionCall1(enum_out, d));
}

/*
 * Copy a float8[] without NULL elements straight into the features (the
 * common case, without deconstructing it; out NULL: only check that it
 * could be used as it is) and return where its elements are (unaligned);
 * NULL when the value needs the general path (NULL elements, wrong
 * shape), which also reports errors.  A NaN or infinite element is an
 * error here, unless plain: then it is one more reason to return NULL.
 */
static const void *
array_fast_path(const mlx_input *x, Datum d, double *out, bool plain)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	const char *body;
	const char *data;
	int32		hdr[4];			/* ndim, dataoffset, elemtype, dim */
	bool		finite = true;

	/* a stored or expanded array: its elements once fetched or flattened */
	v = ml_varlena_inline(v);
	body = VARDATA_ANY(v);
	if (VARSIZE_ANY_EXHDR(v) < sizeof(hdr))
		return NULL;
	memcpy(hdr, body, sizeof(hdr));
	if (hdr[0] != 1 || hdr[1] != 0 || hdr[3] != x->nfeat ||
		VARSIZE_ANY_EXHDR(v) < ARR_OVERHEAD_NONULLS(1) - VARHDRSZ + sizeof(double) * x->nfeat)
		return NULL;
	data = body + ARR_OVERHEAD_NONULLS(1) - VARHDRSZ;
	if (out != NULL)
		memcpy(out, data, sizeof(double) * x->nfeat);
	for (int j = 0; j < x->nfeat; j++)
	{
		double		vj;

		memcpy(&vj, data + sizeof(double) * j, sizeof(double));
		finite &= isfinite(vj);
	}
	if (!finite && plain)
		return NULL;
	if (!finite)
	{
		for (int j = 0; j < x->nfeat; j++)
		{
			double		vj;

			memcpy(&vj, data + sizeof(double) * j, sizeof(double));
			if (!isfinite(vj))
				raise_nonfinite(x->name, vj);
		}
	}
	return data;
}

/*
 * The feature of a numeric input from its value v (ignored when isnull):
 * the imputation value for NULL, an error for NaN or infinity; plain: see
 * encode_input.
 */
static inline bool
encode_number(const mlx_input *x, double v, bool isnull, double *out, bool plain)
{
	if (isnull)
	{
		if (plain)
			return false;
		*out = x->impute[0];
		return true;
	}
	*out = v;
	if (unlikely(!isfinite(v)))
	{
		if (plain)
			return false;
		raise_nonfinite(x->name, v);
	}
	return true;
}

/*
 * The features of one input column (x->nfeat doubles at out) from its
 * value d (of base type t, already checked to fit the input's kind), with
 * the model's imputation for NULL and one-hot encoding for categories.
 *
 * plain (ml.train's first pass, before any imputation value is known):
 * return false, instead of imputing or raising an error, for a value that
 * would need imputation or that the statistics pass has to look at -- a
 * NULL number, boolean or array, a NULL array element, NaN or infinity,
 * an array of another shape.  Categories encode as always (NULL is a
 * category of its own).
 */
static bool
encode_input(const mlx_input *x, Datum d, bool isnull, Oid t, const char *label,
			 double *out, bool plain)
{
	if (x->kind == MLX_INPUT_NUMERIC)
		return encode_number(x, isnull ? 0 : numeric_value(d, t), isnull, out, plain);
	if (plain && isnull && x->kind != MLX_INPUT_CATEGORICAL)
		return false;
	if (plain && x->kind == MLX_INPUT_ARRAY)
		return array_fast_path(x, d, out, true) != NULL;
	switch (x->kind)
	{
		case MLX_INPUT_BOOLEAN:
			if (isnull)
				out[0] = x->impute[0];
			else
				out[0] = DatumGetBool(d) ? 1.0 : 0.0;
			break;
		case MLX_INPUT_CATEGORICAL:
			{
				int32_t		hit;

				memset(out, 0, sizeof(double) * x->nfeat);
				hit = mlx_inputs_find_category(x, isnull ? NULL : category_text(d, t));
				/* unseen categories encode as all zeros */
				if (hit >= 0)
					out[hit] = 1.0;
			}
			break;
		case MLX_INPUT_ARRAY:
			if (isnull)
				memcpy(out, x->impute, sizeof(double) * x->nfeat);
			else if (array_fast_path(x, d, out, false) != NULL)
			{
				/* no NULL elements: copied and checked in place */
			}
			else
			{
				ArrayType  *a = DatumGetArrayTypeP(d);
				Datum	   *elems;
				bool	   *enulls;
				int			n;

				if (ARR_NDIM(a) > 1)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("column \"%s\" must be a one-dimensional array", x->name)));
				deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
								  TYPALIGN_DOUBLE, &elems, &enulls, &n);
				if (n != x->nfeat)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("column \"%s\" has %d elements, expected %d", x->name, n, x->nfeat),
							 errdetail("%s was trained on arrays of %d elements.", label, x->nfeat)));
				for (int j = 0; j < n; j++)
				{
					/* the imputation value is NaN for trees (missing) */
					if (enulls[j])
						out[j] = x->impute[j];
					else
					{
						out[j] = DatumGetFloat8(elems[j]);
						if (!isfinite(out[j]))
							raise_nonfinite(x->name, out[j]);
					}
				}
			}
			break;
	}
	return true;
}

/* Encode one row into c->buf (m->nfeat doubles); plain: see encode_input. */
static bool
encode_row(RowCache *c, const mlx_model *m, const char *label, HeapTupleHeader td,
		   bool plain)
{
	const mlx_inputs *in = m->inputs;
	Oid			tuptype = HeapTupleHeaderGetTypeId(td);
	int32		tuptypmod = HeapTupleHeaderGetTypMod(td);
	HeapTupleData tuple;
	RowMap	   *map = &c->map;
	double	   *out;

	if (in == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s was trained on a feature array, not on table columns", label),
				 errhint("Score it with ml.predict(model, x float8[]).")));
	if (!map->valid || map->tuptype != tuptype || map->tuptypmod != tuptypmod)
		build_map(c, m, label, tuptype, tuptypmod);
	if (c->bufsize < m->nfeat)
	{
		c->buf = MemoryContextAlloc(c->cxt, sizeof(double) * m->nfeat);
		c->bufsize = m->nfeat;
	}

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	heap_deform_tuple(&tuple, map->tupdesc, map->values, map->nulls);

	out = c->buf;
	if (map->all_float8)
	{
		for (int i = 0; i < in->ninputs; i++)
		{
			int			a = map->attidx[i];

			if (!encode_number(&in->inputs[i],
							   map->nulls[a] ? 0 : DatumGetFloat8(map->values[a]),
							   map->nulls[a], out + i, plain))
				return false;
		}
		return true;
	}
	for (int i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];

		if (!encode_input(x, map->values[map->attidx[i]], map->nulls[map->attidx[i]],
						  map->atttype[i], label, out, plain))
			return false;
		out += x->nfeat;
	}
	return true;
}

/* The model value in argument argno; a different value may expect other columns. */
static const mlx_model *
bytea_model(FunctionCallInfo fcinfo, RowCache *c, int argno)
{
	const mlx_model *m = ml_cached_model(fcinfo, argno, &c->bytea_cache);

	if (c->map.generation != ml_cached_model_generation(c->bytea_cache))
	{
		c->map.valid = false;
		c->map.generation = ml_cached_model_generation(c->bytea_cache);
	}
	return m;
}

/*
 * The model of argument 0 (a name when by_name, else a bytea) and the
 * features of argument 1 (a float8[] when !row, else a record encoded by
 * the model's inputs).  *x points at nfeat doubles valid until the next
 * call (possibly unaligned).
 */
const mlx_model *
ml_model_and_features(FunctionCallInfo fcinfo, bool by_name, bool row,
					  const void **x)
{
	RowCache   *c = row_cache(fcinfo);
	const mlx_model *m = by_name ? named_model(fcinfo, c) : bytea_model(fcinfo, c, 0);

	if (row)
	{
		encode_row(c, m, by_name ? c->label : "the model",
				   PG_GETARG_HEAPTUPLEHEADER(1), false);
		*x = c->buf;
	}
	else
	{
		MlFloat8Array a;

		ml_float8_array(PG_GETARG_DATUM(1), "feature array", &a);
		ml_check_features(m, &a);
		*x = a.values;
	}
	return m;
}

/* ml.predict(model_name text, x float8[]) */
PG_FUNCTION_INFO_V1(ml_predict_name_array);
Datum
ml_predict_name_array(PG_FUNCTION_ARGS)
{
	const void *x;
	const mlx_model *m = ml_model_and_features(fcinfo, true, false, &x);

	PG_RETURN_FLOAT8(ml_score(m, x));
}

/* ml.predict(model_name text, row record) */
PG_FUNCTION_INFO_V1(ml_predict_name_row);
Datum
ml_predict_name_row(PG_FUNCTION_ARGS)
{
	const void *x;
	const mlx_model *m = ml_model_and_features(fcinfo, true, true, &x);

	PG_RETURN_FLOAT8(ml_score(m, x));
}

/* ml.predict(model bytea, row record) */
PG_FUNCTION_INFO_V1(ml_predict_row);
Datum
ml_predict_row(PG_FUNCTION_ARGS)
{
	const void *x;
	const mlx_model *m = ml_model_and_features(fcinfo, false, true, &x);

	PG_RETURN_FLOAT8(ml_score(m, x));
}

/* the encoded features as a flat one-dimensional float8[] without nulls */
static Datum
features_array(const double *buf, int nfeat)
{
	Size		nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(float8) * nfeat;
	ArrayType  *result = (ArrayType *) palloc(nbytes);

	SET_VARSIZE(result, nbytes);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = FLOAT8OID;
	ARR_DIMS(result)[0] = nfeat;
	ARR_LBOUND(result)[0] = 1;
	memcpy((char *) result + ARR_OVERHEAD_NONULLS(1), buf, sizeof(float8) * nfeat);
	return PointerGetDatum(result);
}

/*
 * ml._encode(model bytea, row record) RETURNS float8[]: the feature vector
 * a model trained by ml.train makes of a row, so that training and scoring
 * share one encoder.
 */
PG_FUNCTION_INFO_V1(ml_encode_row);
Datum
ml_encode_row(PG_FUNCTION_ARGS)
{
	RowCache   *c = row_cache(fcinfo);
	const mlx_model *m = bytea_model(fcinfo, c, 0);

	encode_row(c, m, "the model", PG_GETARG_HEAPTUPLEHEADER(1), false);
	PG_RETURN_DATUM(features_array(c->buf, m->nfeat));
}

/*
 * Ready c for encoding the arguments first.. of the current call: false
 * when they are one whole row (encode_row maps it), true when they are the
 * model's input columns one by one, whose types are then checked (once
 * per model).
 */
static bool
args_map(FunctionCallInfo fcinfo, RowCache *c, const mlx_model *m, int first,
		 const char *fname)
{
	const mlx_inputs *in = m->inputs;
	RowMap	   *map = &c->map;

	if (in == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model was trained on a feature array, not on table columns")));
	if (c->bufsize < m->nfeat)
	{
		c->buf = MemoryContextAlloc(c->cxt, sizeof(double) * m->nfeat);
		c->bufsize = m->nfeat;
	}
	if (map->valid)
		return map->tuptype == InvalidOid;
	if (PG_NARGS() == first + 1 &&
		type_is_rowtype(get_fn_expr_argtype(fcinfo->flinfo, first)))
		return false;			/* encode_row builds the row map */
	else
	{
		MemoryContext old;

		if (get_fn_expr_variadic(fcinfo->flinfo) || PG_NARGS() - first != in->ninputs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s needs the model's %d input columns as separate arguments, got %d",
							fname, in->ninputs, PG_NARGS() - first)));
		old = MemoryContextSwitchTo(c->cxt);
		map->atttype = palloc(sizeof(Oid) * in->ninputs);
		MemoryContextSwitchTo(old);
		for (int i = 0; i < in->ninputs; i++)
		{
			map->atttype[i] = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, first + i));
			if (!type_fits(in->inputs[i].kind, map->atttype[i]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" has type %s, but the model was trained on %s column",
								in->inputs[i].name, format_type_be(map->atttype[i]),
								kind_name(in->inputs[i].kind))));
		}
		map->all_float8 = all_float8_inputs(in, map->atttype);
		map->tuptype = InvalidOid;	/* not a row map */
		map->valid = true;
	}
	return true;
}

/*
 * The encoding of the input columns passed as arguments first.. of the
 * current call, one per input of model m in input order, into c->buf
 * (types checked once per model); or, as the only such argument, a whole
 * row.  plain: see encode_input.
 */
static bool
encode_args(FunctionCallInfo fcinfo, RowCache *c, const mlx_model *m, int first,
			bool plain, const char *fname)
{
	const mlx_inputs *in = m->inputs;
	double	   *out;

	if (!args_map(fcinfo, c, m, first, fname))
	{
		if (PG_ARGISNULL(first))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the row to encode must not be NULL")));
		return encode_row(c, m, "the model", PG_GETARG_HEAPTUPLEHEADER(first), plain);
	}
	out = c->buf;
	if (c->map.all_float8)
	{
		for (int i = 0; i < in->ninputs; i++)
			if (!encode_number(&in->inputs[i],
							   PG_ARGISNULL(first + i) ? 0 : PG_GETARG_FLOAT8(first + i),
							   PG_ARGISNULL(first + i), out + i, plain))
				return false;
		return true;
	}
	for (int i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];

		if (!encode_input(x, PG_GETARG_DATUM(first + i), PG_ARGISNULL(first + i),
						  c->map.atttype[i], "the model", out, plain))
			return false;
		out += x->nfeat;
	}
	return true;
}

/*
 * ml._encode_cols(model bytea, VARIADIC "any") RETURNS float8[]: the same
 * encoding as ml._encode, of the model's input columns passed one by one in
 * the model's input order.  ml.train's passes use it so that each row's
 * needed columns go straight in, without forming the whole row as a
 * composite value first.  The argument types are checked once per model.
 */
PG_FUNCTION_INFO_V1(ml_encode_cols);
Datum
ml_encode_cols(PG_FUNCTION_ARGS)
{
	RowCache   *c;
	const mlx_model *m;
	const mlx_inputs *in;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the model must not be NULL")));
	c = row_cache(fcinfo);
	m = bytea_model(fcinfo, c, 0);
	in = m->inputs;

	/*
	 * A model of one float8[] column, and a row whose array is already what
	 * the encoding would give (one dimension, the right length, no NULL
	 * elements, all finite): the array itself, not a copy.  The usual case
	 * of training on an array column.
	 */
	if (args_map(fcinfo, c, m, 1, "ml._encode_cols") &&
		in->ninputs == 1 && in->inputs[0].kind == MLX_INPUT_ARRAY &&
		!PG_ARGISNULL(1) &&
		array_fast_path(&in->inputs[0], PG_GETARG_DATUM(1), NULL, false) != NULL)
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));

	encode_args(fcinfo, c, m, 1, false, "ml._encode_cols");
	PG_RETURN_DATUM(features_array(c->buf, m->nfeat));
}

bool
ml_encode_pass_args(FunctionCallInfo fcinfo, void **slot, int model_arg, int first,
					bool plain, const mlx_model **model, const void **x)
{
	RowCache   *c = row_cache_in(fcinfo, slot);
	const mlx_model *m;
	bool		ok;

	/*
	 * One array column as it is: its elements, not a copy.  Once the column
	 * type is checked and the encoder cannot change within the query, each
	 * row only needs the array's own checks.
	 */
	if (c->array_encoder != NULL && !PG_ARGISNULL(first))
	{
		*model = c->array_encoder;
		*x = array_fast_path(&c->array_encoder->inputs->inputs[0],
							 PG_GETARG_DATUM(first), NULL, plain);
		if (*x != NULL)
			return true;
	}
	m = bytea_model(fcinfo, c, model_arg);
	*model = m;
	if (args_map(fcinfo, c, m, first, "the training pass") &&
		m->inputs->ninputs == 1 && m->inputs->inputs[0].kind == MLX_INPUT_ARRAY &&
		!PG_ARGISNULL(first) &&
		(*x = array_fast_path(&m->inputs->inputs[0], PG_GETARG_DATUM(first), NULL, plain)) != NULL)
	{
		if (ml_agg_arg_stable(fcinfo, model_arg))
			c->array_encoder = m;
		return true;
	}
	ok = encode_args(fcinfo, c, m, first, plain, "the training pass");
	*x = c->buf;
	return ok;
}

const mlx_model *
ml_encode_pass_model(FunctionCallInfo fcinfo, void **slot, int model_arg)
{
	return bytea_model(fcinfo, row_cache_in(fcinfo, slot), model_arg);
}
