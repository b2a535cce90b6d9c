/*
 * tree.c
 *	  Tree ensembles in SQL: the binning pass aggregate ml._tree_gather,
 *	  scoring, ml.feature_importance and ml.trees.
 *
 * ml._tree_sample(x float8[], fraction float8, seed bigint) keeps the rows
 * whose seeded hash (of the feature values) falls below fraction, as
 * doubles: the same rows whatever the plan, for the bin edges.
 *
 * ml._tree_gather(x float8[], y float8, held_out boolean, bins bytea) turns
 * every row into nfeat bin bytes (core/tree.h's binning, with the cut
 * points of 'bins'), its target and a held-out flag, and appends them to a
 * flat bytea state.  Workers gather their share, the combine function
 * concatenates, and the leader hands the whole binned table to the
 * in-memory trainer (train_tree.c).
 *
 * The states (native byte order, never stored):
 *
 *	  TreeGatherState header, then 'capacity' records of rowsize bytes:
 *	  ml._tree_gather: nfeat bin bytes, the target (8 bytes, a double), the
 *	  held-out flag (1 byte, 0 or 1); ml._tree_sample: nfeat doubles.
 *	  Records past nrows are unused room (zeroed); the final function
 *	  ml._tree_state_final returns the state without them (capacity = nrows),
 *	  so the value an aggregate call returns holds the rows and nothing else.
 *
 * The bins argument (built by the driver, checked here all the same):
 *
 *	  u32 magic ML_TREE_BINS_MAGIC, i32 nfeat, i32 ncuts[nfeat], then the
 *	  cut points of every feature in order (doubles).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "core/tree.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"
#include "pg/ml_tree.h"

/* ---------- the bins argument ---------- */

typedef struct TreeBinsCache
{
	bool		valid;
	bool		stable;			/* argument cannot change within the query */
	Size		len;
	char	   *bytes;			/* copy of the argument (to compare) */
	MlTreeBins	bins;
} TreeBinsCache;

bytea *
ml_tree_bins_encode(const MlTreeBins *b)
{
	Size		len = VARHDRSZ + 8 + sizeof(int32) * b->nfeat;
	bytea	   *out;
	char	   *p;

	for (int j = 0; j < b->nfeat; j++)
		len += sizeof(double) * b->ncuts[j];
	out = palloc(len);
	SET_VARSIZE(out, len);
	p = VARDATA(out);
	*(uint32 *) p = ML_TREE_BINS_MAGIC;
	*(int32 *) (p + 4) = b->nfeat;
	p += 8;
	memcpy(p, b->ncuts, sizeof(int32) * b->nfeat);
	p += sizeof(int32) * b->nfeat;
	for (int j = 0; j < b->nfeat; j++)
	{
		memcpy(p, b->cuts[j], sizeof(double) * b->ncuts[j]);
		p += sizeof(double) * b->ncuts[j];
	}
	return out;
}

/* Parse and check a bins value of len bytes at p (any alignment). */
static void
bins_decode(const char *p, Size len, MlTreeBins *b)
{
	uint32		magic;
	int32		nfeat;
	Size		want;
	const char *q;

	if (len < 8)
		goto bad;
	memcpy(&magic, p, 4);
	memcpy(&nfeat, p + 4, 4);
	if (magic != ML_TREE_BINS_MAGIC || nfeat < 1 || nfeat > MLX_TREE_MAX_FEATURES ||
		len < 8 + sizeof(int32) * (Size) nfeat)
		goto bad;
	b->nfeat = nfeat;
	b->ncuts = palloc(sizeof(int32) * nfeat);
	b->cuts = palloc(sizeof(double *) * nfeat);
	memcpy(b->ncuts, p + 8, sizeof(int32) * nfeat);
	want = 8 + sizeof(int32) * (Size) nfeat;
	for (int j = 0; j < nfeat; j++)
	{
		if (b->ncuts[j] < 0 || b->ncuts[j] > MLX_TREE_MAX_BINS - 1)
			goto bad;
		want += sizeof(double) * b->ncuts[j];
	}
	if (want != len)
		goto bad;
	q = p + 8 + sizeof(int32) * (Size) nfeat;
	for (int j = 0; j < nfeat; j++)
	{
		b->cuts[j] = palloc(sizeof(double) * Max(b->ncuts[j], 1));
		memcpy(b->cuts[j], q, sizeof(double) * b->ncuts[j]);
		q += sizeof(double) * b->ncuts[j];
		for (int i = 0; i < b->ncuts[j]; i++)
			if (!isfinite(b->cuts[j][i]) || (i > 0 && !(b->cuts[j][i] > b->cuts[j][i - 1])))
				goto bad;
	}
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid bin edges for ml._tree_gather")));
}

static const MlTreeBins *
cached_bins(FunctionCallInfo fcinfo, int argno)
{
	TreeBinsCache *c = (TreeBinsCache *) fcinfo->flinfo->fn_extra;
	bytea	   *raw;
	MemoryContext old;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TreeBinsCache));
		c->stable = ml_agg_arg_stable(fcinfo, argno);
		fcinfo->flinfo->fn_extra = c;
	}
	else if (c->valid && c->stable)
		return &c->bins;
	raw = PG_GETARG_BYTEA_PP(argno);
	if (c->valid && c->len == VARSIZE_ANY_EXHDR(raw) &&
		memcmp(c->bytes, VARDATA_ANY(raw), c->len) == 0)
		return &c->bins;
	c->valid = false;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	bins_decode(VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), &c->bins);
	c->len = VARSIZE_ANY_EXHDR(raw);
	c->bytes = palloc(c->len);
	memcpy(c->bytes, VARDATA_ANY(raw), c->len);
	MemoryContextSwitchTo(old);
	c->valid = true;
	return &c->bins;
}

/* ---------- the gather state ---------- */

static void
state_corrupt(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid ml._tree_gather state")));
}

static int
row_size(uint32 magic, int nfeat)
{
	return magic == ML_TREE_SAMPLE_MAGIC ? (int) sizeof(double) * nfeat :
		nfeat + (int) ML_TREE_ROW_EXTRA;
}

/* Check a state's header and size (the records are checked by the reader). */
TreeGatherState *
ml_tree_state_check(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	TreeGatherState *s = (TreeGatherState *) raw;

	if (VARSIZE(raw) < sizeof(TreeGatherState) ||
		(s->magic != ML_TREE_STATE_MAGIC && s->magic != ML_TREE_SAMPLE_MAGIC) ||
		s->nfeat < 1 || s->nfeat > MLX_TREE_MAX_FEATURES ||
		s->rowsize != row_size(s->magic, s->nfeat) ||
		s->reserved != 0 || s->padding != 0 ||
		s->nrows < 0 || s->capacity < s->nrows ||
		(Size) s->capacity > (MaxAllocSize - sizeof(TreeGatherState)) / (Size) s->rowsize ||
		VARSIZE(raw) != sizeof(TreeGatherState) + (Size) s->capacity * s->rowsize)
		state_corrupt();
	return s;
}

/* the largest state ml.max_training_memory and a bytea allow, in bytes */
static Size
state_limit(void)
{
	double		guc = (double) ml_max_training_memory * 1024.0;

	return (Size) Min(guc, (double) MaxAllocSize);
}

static void
raise_too_large(uint32 magic, int64 rows, int rowsize)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("the %s need more than %zu MB (" INT64_FORMAT " rows of %d bytes so far)",
					magic == ML_TREE_SAMPLE_MAGIC ? "sampled rows" : "binned training rows",
					state_limit() / (1024 * 1024), rows, rowsize),
			 errhint("Raise ml.max_training_memory (at most 1 GB of binned rows), or train on fewer rows or features.")));
}

/* A new state of 'capacity' records (CurrentMemoryContext), rows copied. */
static TreeGatherState *
state_grow(const TreeGatherState *old, uint32 magic, int nfeat, int64 capacity)
{
	int			rowsize = row_size(magic, nfeat);
	Size		size;
	TreeGatherState *s;

	if ((double) capacity * rowsize + sizeof(TreeGatherState) > (double) state_limit())
	{
		/* as many as fit */
		capacity = (int64) ((state_limit() - sizeof(TreeGatherState)) / rowsize);
		if (old != NULL && capacity <= old->nrows)
			raise_too_large(magic, old->nrows + 1, rowsize);
	}
	size = sizeof(TreeGatherState) + (Size) capacity * rowsize;

	/*
	 * Zeroed: the records past nrows are room for later rows, and whatever
	 * this backend freed before must never travel with the state (nodeAgg
	 * hands a state to the combine and final functions whole).
	 */
	s = palloc0(size);
	SET_VARSIZE(s, size);
	s->magic = magic;
	s->nfeat = nfeat;
	s->rowsize = rowsize;
	s->reserved = 0;
	s->padding = 0;
	s->nrows = old ? old->nrows : 0;
	s->capacity = capacity;
	if (old != NULL)
		memcpy(ML_TREE_STATE_ROWS(s), ML_TREE_STATE_ROWS(old), (Size) old->nrows * rowsize);
	return s;
}

/*
 * ml._tree_gather_sfunc(state bytea, x float8[], y float8, held_out boolean,
 *						 bins bytea)
 */
PG_FUNCTION_INFO_V1(ml_tree_gather_sfunc);
Datum
ml_tree_gather_sfunc(PG_FUNCTION_ARGS)
{
	const MlTreeBins *b;
	TreeGatherState *s;
	MlFloat8Array x;
	double		y;
	uint8	   *rec;

	ml_require_agg(fcinfo, "ml._tree_gather_sfunc");
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bin edges of ml._tree_gather must not be NULL")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature array and target of ml._tree_gather must not be NULL")));
	b = cached_bins(fcinfo, 4);
	ml_float8_array(PG_GETARG_DATUM(1), "feature array", &x);
	if (x.n != b->nfeat)
		ml_raise_length_mismatch("feature array", x.n, b->nfeat, NULL);
	y = PG_GETARG_FLOAT8(2);
	if (!isfinite(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("target value is %s", isnan(y) ? "NaN" : "infinite"),
				 errhint("Filter such rows out, or map them to NULL to have them skipped.")));

	if (PG_ARGISNULL(0))
	{
		s = state_grow(NULL, ML_TREE_STATE_MAGIC, b->nfeat, 1024);
	}
	else
	{
		s = ml_tree_state_check(PG_GETARG_DATUM(0));
		if (s->magic != ML_TREE_STATE_MAGIC || s->nfeat != b->nfeat)
			state_corrupt();
		if (s->nrows == s->capacity)
			s = state_grow(s, s->magic, s->nfeat, s->capacity + s->capacity / 2 + 1024);
	}
	rec = ML_TREE_STATE_ROWS(s) + (Size) s->nrows * s->rowsize;
	for (int j = 0; j < b->nfeat; j++)
	{
		double		v;

		memcpy(&v, x.values + sizeof(double) * j, sizeof(double));
		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("element %d of the feature array is infinite", j + 1)));
		rec[j] = mlx_tree_bin(v, b->cuts[j], b->ncuts[j]);
	}
	memcpy(rec + b->nfeat, &y, sizeof(double));
	rec[b->nfeat + sizeof(double)] = (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3)) ? 1 : 0;
	s->nrows++;
	PG_RETURN_POINTER(s);
}

/* ml._tree_sample_sfunc(state bytea, x float8[], fraction float8, seed bigint) */
PG_FUNCTION_INFO_V1(ml_tree_sample_sfunc);
Datum
ml_tree_sample_sfunc(PG_FUNCTION_ARGS)
{
	TreeGatherState *s = NULL;
	MlFloat8Array x;
	double		fraction;
	uint64		h;

	ml_require_agg(fcinfo, "ml._tree_sample_sfunc");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("arguments of ml._tree_sample must not be NULL")));
	ml_float8_array(PG_GETARG_DATUM(1), "feature array", &x);
	fraction = PG_GETARG_FLOAT8(2);
	if (!PG_ARGISNULL(0))
	{
		s = ml_tree_state_check(PG_GETARG_DATUM(0));
		if (s->magic != ML_TREE_SAMPLE_MAGIC || s->nfeat != x.n)
			ml_raise_length_mismatch("feature array", x.n, s->nfeat, NULL);
	}
	h = hash_bytes_extended((const unsigned char *) x.values, sizeof(double) * x.n,
							(uint64) PG_GETARG_INT64(3));
	if (!((double) (h >> 11) * (1.0 / 9007199254740992.0) < fraction))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}
	if (s == NULL)
		s = state_grow(NULL, ML_TREE_SAMPLE_MAGIC, x.n, 1024);
	else if (s->nrows == s->capacity)
		s = state_grow(s, s->magic, s->nfeat, s->capacity + s->capacity / 2 + 1024);
	memcpy(ML_TREE_STATE_ROWS(s) + (Size) s->nrows * s->rowsize, x.values, s->rowsize);
	s->nrows++;
	PG_RETURN_POINTER(s);
}

/*
 * ml._tree_gather_combine(state1 bytea, state2 bytea), also the combine
 * function of ml._tree_sample
 */
PG_FUNCTION_INFO_V1(ml_tree_gather_combine);
Datum
ml_tree_gather_combine(PG_FUNCTION_ARGS)
{
	TreeGatherState *a;
	TreeGatherState *b;
	TreeGatherState *s;

	ml_require_agg(fcinfo, "ml._tree_gather_combine");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(ml_tree_state_check(PG_GETARG_DATUM(0)));
	}
	b = ml_tree_state_check(PG_GETARG_DATUM(1));
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(b);
	a = ml_tree_state_check(PG_GETARG_DATUM(0));
	if (a->magic != b->magic || a->nfeat != b->nfeat)
		state_corrupt();
	if (a->capacity - a->nrows >= b->nrows)
		s = a;					/* room enough: append in place */
	else
	{
		if ((double) (a->nrows + b->nrows) * a->rowsize + sizeof(TreeGatherState) >
			(double) state_limit())
			raise_too_large(a->magic, a->nrows + b->nrows, a->rowsize);
		s = state_grow(a, a->magic, a->nfeat, a->nrows + b->nrows);
	}
	memcpy(ML_TREE_STATE_ROWS(s) + (Size) s->nrows * s->rowsize,
		   ML_TREE_STATE_ROWS(b), (Size) b->nrows * b->rowsize);
	s->nrows += b->nrows;
	PG_RETURN_POINTER(s);
}

/*
 * ml._tree_state_final(state bytea) RETURNS bytea, the final function of
 * ml._tree_sample and ml._tree_gather: the state cut to its rows (capacity
 * = nrows), a copy, so the room kept for more rows never leaves the
 * aggregate.  The result is a valid state (ml_tree_state_check), which the
 * driver reads.
 */
PG_FUNCTION_INFO_V1(ml_tree_state_final);
Datum
ml_tree_state_final(PG_FUNCTION_ARGS)
{
	TreeGatherState *s;
	TreeGatherState *out;
	Size		used;

	ml_require_agg(fcinfo, "ml._tree_state_final");
	s = ml_tree_state_check(PG_GETARG_DATUM(0));
	used = (Size) s->nrows * s->rowsize;
	out = palloc(sizeof(TreeGatherState) + used);
	memcpy(out, s, sizeof(TreeGatherState));
	SET_VARSIZE(out, sizeof(TreeGatherState) + used);
	out->capacity = s->nrows;
	memcpy(ML_TREE_STATE_ROWS(out), ML_TREE_STATE_ROWS(s), used);
	PG_RETURN_POINTER(out);
}

/* ---------- scoring ---------- */

/*
 * Raise for an infinite feature; NaN is a missing value, which trees send
 * the way their training learned.
 */
void
ml_tree_check_features(const MlFloat8Array *x)
{
	for (int j = 0; j < x->n; j++)
	{
		double		v;

		memcpy(&v, x->values + sizeof(double) * j, sizeof(double));
		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature array element %d is %s", j + 1, v > 0 ? "Infinity" : "-Infinity"),
					 errhint("Tree models take NaN (or NULL columns) as missing values, but not infinities.")));
	}
}

/* mlx_tree_predict on features at any alignment (out: ngroups values) */
void
ml_tree_predict(const mlx_model *m, const void *x, double *out)
{
	const mlx_tree_fit *f = &m->u.tree;

	if (((uintptr_t) x) % sizeof(double) == 0)
		mlx_tree_predict(f, (const double *) x, out);
	else
	{
		double		local[256];
		double	   *copy = f->nfeat <= (int32) lengthof(local) ? local :
			palloc(sizeof(double) * f->nfeat);

		memcpy(copy, x, sizeof(double) * f->nfeat);
		mlx_tree_predict(f, copy, out);
		if (copy != local)
			pfree(copy);
	}
}

/* ml.predict of a tree model: the value, or the label of a classifier */
double
ml_tree_score(const mlx_model *m, const void *x)
{
	double		v;

	if (m->u.tree.objective != MLX_TREE_REGRESSION)
		return ml_label_value(m, ml_classify(m, x));
	ml_tree_predict(m, x, &v);
	return v;
}

/* ---------- inspection ---------- */

/* The tree model of argument 0: a model bytea, or a name when by_name. */
static const mlx_model *
tree_model_arg(FunctionCallInfo fcinfo, const char *fname, bool by_name)
{
	mlx_model  *m = palloc0(sizeof(mlx_model));

	if (by_name)
		ml_registry_load(text_to_cstring(PG_GETARG_TEXT_PP(0)), CurrentMemoryContext, m);
	else
		ml_decode_model(PG_GETARG_DATUM(0), m);
	if (!ml_is_tree_model(m))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a tree model (decision_tree, random_forest or gradient_boosting), but this is a %s model",
						fname, mlx_algorithm_name(m->algorithm))));
	return m;
}

typedef struct importance_row
{
	int32		feature;
	double		gain;
	int64		splits;
} importance_row;

static int
importance_cmp(const void *a, const void *b)
{
	const importance_row *x = a;
	const importance_row *y = b;

	if (x->gain != y->gain)
		return x->gain > y->gain ? -1 : 1;
	return x->feature - y->feature;
}

/*
 * ml.feature_importance(model bytea)
 *	  RETURNS TABLE(feature text, gain float8, splits bigint, gain_share float8)
 * Total split gain and split count per feature over all trees, features
 * used by no split left out, largest gain first.
 */
static Datum
feature_importance(FunctionCallInfo fcinfo, bool by_name)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const mlx_model *m = tree_model_arg(fcinfo, "ml.feature_importance", by_name);
	const mlx_tree_fit *f = &m->u.tree;
	importance_row *rows = palloc0(sizeof(importance_row) * f->nfeat);
	double		total = 0;

	InitMaterializedSRF(fcinfo, 0);
	for (int j = 0; j < f->nfeat; j++)
		rows[j].feature = j;
	for (int32 n = 0; n < f->nnodes; n++)
	{
		/* up to 5 * 10^7 nodes: a cancel must not wait for all of them */
		if ((n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (f->feature[n] < 0)
			continue;
		rows[f->feature[n]].gain += f->gain[n];
		rows[f->feature[n]].splits++;
		total += f->gain[n];
	}
	qsort(rows, f->nfeat, sizeof(importance_row), importance_cmp);
	for (int j = 0; j < f->nfeat; j++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		if (rows[j].splits == 0)
			continue;
		values[0] = CStringGetTextDatum(m->feature_names[rows[j].feature]);
		values[1] = Float8GetDatum(rows[j].gain);
		values[2] = Int64GetDatum(rows[j].splits);
		values[3] = Float8GetDatum(total > 0 ? rows[j].gain / total : 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ml.trees(model bytea)
 *	  RETURNS TABLE(tree int, node int, depth int, feature text,
 *					threshold float8, missing_left boolean, left_child int,
 *					right_child int, gain float8, cover float8,
 *					value float8[])
 * One row per node; a leaf has NULL feature, threshold, missing_left,
 * children and gain.  Node numbers are per tree, the root is 0.
 *
 * The rows go to the tuplestore (which spills to disk past work_mem) one
 * by one, each built in a memory context reset after it: the function
 * keeps only the decoded model and a depth per node, whatever the number
 * of nodes, and checks for interrupts at every node.
 */
static Datum
trees(FunctionCallInfo fcinfo, bool by_name)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const mlx_model *m = tree_model_arg(fcinfo, "ml.trees", by_name);
	const mlx_tree_fit *f = &m->u.tree;
	int32	   *depth = palloc_extended(sizeof(int32) * Max(f->nnodes, 1),
										MCXT_ALLOC_HUGE);
	Datum	   *vals = palloc(sizeof(Datum) * f->leaf_width);
	MemoryContext rowcxt;
	MemoryContext old;

	InitMaterializedSRF(fcinfo, 0);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "ml.trees row",
								   ALLOCSET_DEFAULT_SIZES);
	for (int32 t = 0; t < f->ntrees; t++)
	{
		int32		base = f->tree_start[t];
		int32		size = f->tree_start[t + 1] - base;

		depth[base] = 0;
		for (int32 n = 0; n < size; n++)
		{
			int32		a = base + n;
			Datum		values[11];
			bool		nulls[11];
			bool		leaf = f->feature[a] < 0;

			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(rowcxt);
			/* children come after their parent: depth is known here */
			if (!leaf)
				depth[base + f->left[a]] = depth[base + f->right[a]] = depth[a] + 1;
			memset(nulls, leaf, sizeof(nulls));
			values[0] = Int32GetDatum(t);
			values[1] = Int32GetDatum(n);
			values[2] = Int32GetDatum(depth[a]);
			nulls[0] = nulls[1] = nulls[2] = false;
			if (!leaf)
			{
				values[3] = CStringGetTextDatum(m->feature_names[f->feature[a]]);
				values[4] = Float8GetDatum(f->threshold[a]);
				values[5] = BoolGetDatum(f->default_left[a] != 0);
				values[6] = Int32GetDatum(f->left[a]);
				values[7] = Int32GetDatum(f->right[a]);
				values[8] = Float8GetDatum(f->gain[a]);
			}
			values[9] = Float8GetDatum(f->cover[a]);
			nulls[9] = false;
			for (int c = 0; c < f->leaf_width; c++)
				vals[c] = Float8GetDatum(f->value[(Size) a * f->leaf_width + c]);
			values[10] = PointerGetDatum(construct_array(vals, f->leaf_width, FLOAT8OID,
														 sizeof(float8), FLOAT8PASSBYVAL,
														 TYPALIGN_DOUBLE));
			nulls[10] = false;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}

/* ml.feature_importance(model bytea) */
PG_FUNCTION_INFO_V1(ml_feature_importance);
Datum
ml_feature_importance(PG_FUNCTION_ARGS)
{
	return feature_importance(fcinfo, false);
}

/* ml.feature_importance(model_name text) */
PG_FUNCTION_INFO_V1(ml_feature_importance_name);
Datum
ml_feature_importance_name(PG_FUNCTION_ARGS)
{
	return feature_importance(fcinfo, true);
}

/* ml.trees(model bytea) */
PG_FUNCTION_INFO_V1(ml_trees);
Datum
ml_trees(PG_FUNCTION_ARGS)
{
	return trees(fcinfo, false);
}

/* ml.trees(model_name text) */
PG_FUNCTION_INFO_V1(ml_trees_name);
Datum
ml_trees_name(PG_FUNCTION_ARGS)
{
	return trees(fcinfo, true);
}
