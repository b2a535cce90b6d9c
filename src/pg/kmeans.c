/*
 * kmeans.c
 *	  k-means: one Lloyd pass as a parallel aggregate,
 *	  ml._kmeans_pass(x float8[], current bytea) RETURNS bytea, and the
 *	  set-returning ml.centroids(model).
 *
 * The pass assigns every row to its nearest centroid of the current model
 * and sums the rows per cluster (src/core/kmeans.h); states merge by
 * adding, so the pass runs in parallel workers like any aggregate.  The
 * final function returns a k-means model holding the cluster means, the
 * cluster sizes and the inertia of the current centroids.  ml.train's driver repeats
 * passes until the centroids stop moving.
 *
 *	  int32 varlena header | uint32 magic | int32 nprocs | int32 reserved |
 *	  mlx_kmeans_state ...
 *
 * nprocs counts the processes whose rows are in the state (1 for a new
 * state; combining adds), for ml.train's record of the pass.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/kmeans.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

#define ML_KMEANS_PASS_MAGIC 0x4D4C584B	/* "MLXK" */

typedef struct KmeansPassVar
{
	int32		vl_len_;
	uint32		magic;
	int32		nprocs;
	int32		reserved;		/* zero */
	mlx_kmeans_state s;
} KmeansPassVar;

#define KPASS_HDRSZ offsetof(KmeansPassVar, s)

static const char *const kmeans_what = "k-means training";

static KmeansPassVar *
kpass_arg(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	KmeansPassVar *v;
	char		errbuf[256];

	v = (KmeansPassVar *) raw;
	errbuf[0] = '\0';
	if (VARSIZE(v) < KPASS_HDRSZ + sizeof(mlx_kmeans_state) ||
		v->magic != ML_KMEANS_PASS_MAGIC || v->nprocs < 1 || v->reserved != 0 ||
		mlx_kmeans_state_validate(&v->s, VARSIZE(v) - KPASS_HDRSZ,
								  errbuf, sizeof(errbuf)) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid k-means pass state%s%s",
						errbuf[0] ? ": " : "", errbuf)));
	return v;
}

/* the per-row check of the state the transition function returned last */
static bool
kpass_header_ok(const KmeansPassVar *v)
{
	Size		size;

	if (v->magic != ML_KMEANS_PASS_MAGIC || v->s.version != MLX_KMEANS_STATE_VERSION)
		return false;
	size = mlx_kmeans_state_size(v->s.k, v->s.nfeat);
	return size != 0 && VARSIZE(v) == KPASS_HDRSZ + size;
}

static void
require_kmeans(const mlx_model *m, const char *what)
{
	if (m->algorithm != MLX_ALG_KMEANS)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a k-means model, but this is a %s model", what,
						mlx_algorithm_name(m->algorithm))));
}

/*
 * The state argument of a transition call, checked (or new, shaped by the
 * current model f), and its shape checked against the model.
 */
static KmeansPassVar *
kpass_state(FunctionCallInfo fcinfo, MlPassCache *cache, const mlx_kmeans_fit *f)
{
	KmeansPassVar *v;

	if (PG_ARGISNULL(0))
		v = NULL;
	else if (PG_GETARG_POINTER(0) == cache->last &&
			 kpass_header_ok((KmeansPassVar *) cache->last))
		v = (KmeansPassVar *) cache->last;
	else
		v = kpass_arg(PG_GETARG_DATUM(0));
	cache->last = NULL;
	if (v == NULL)
	{
		Size		size = mlx_kmeans_state_size(f->k, f->nfeat);

		if (size == 0)
			elog(ERROR, "k-means model of %d clusters and %d features has no pass state", f->k, f->nfeat);
		v = palloc0(KPASS_HDRSZ + size);
		SET_VARSIZE(v, KPASS_HDRSZ + size);
		v->magic = ML_KMEANS_PASS_MAGIC;
		v->nprocs = 1;
		ml_check_status(mlx_kmeans_state_init(&v->s, f->k, f->nfeat), kmeans_what);
	}
	else if (v->s.k != f->k || v->s.nfeat != f->nfeat)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("k-means pass state has %d clusters of %d features, the model %d of %d",
						v->s.k, v->s.nfeat, f->k, f->nfeat)));
	return v;
}

/* the current model of a pass, in argument argno */
static const mlx_kmeans_fit *
kpass_model(FunctionCallInfo fcinfo, MlPassCache *cache, int argno)
{
	const mlx_model *m;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the current model of a k-means pass must not be NULL")));
	m = ml_cached_model(fcinfo, argno, &cache->model_slot);
	require_kmeans(m, "a k-means pass");
	return &m->u.kmeans;
}

/* ml._kmeans_pass_sfunc(state bytea, x float8[], current bytea) */
PG_FUNCTION_INFO_V1(ml_kmeans_pass_sfunc);
Datum
ml_kmeans_pass_sfunc(PG_FUNCTION_ARGS)
{
	MlPassCache *cache;
	KmeansPassVar *v;
	const mlx_kmeans_fit *f;
	MlFloat8Array x;
	int			bad = 0;
	mlx_status	st;

	ml_require_agg(fcinfo, "ml._kmeans_pass_sfunc");
	cache = ml_pass_cache(fcinfo);
	f = kpass_model(fcinfo, cache, 2);
	v = kpass_state(fcinfo, cache, f);
	if (PG_ARGISNULL(1))
	{
		v->s.nskipped++;
		cache->last = v;
		PG_RETURN_POINTER(v);
	}
	ml_float8_array(PG_GETARG_DATUM(1), "feature array", &x);
	if (x.n != f->nfeat)
		ml_raise_length_mismatch("feature array", x.n, f->nfeat, NULL);
	st = mlx_kmeans_state_add(&v->s, f->centroids, x.values, &bad);
	if (st == MLX_ENONFINITE)
		ml_check_finite(&x, "feature array");	/* names the element */
	ml_check_status(st, kmeans_what);
	cache->last = v;
	PG_RETURN_POINTER(v);
}

/*
 * ml._kmeans_pass_cols_sfunc(state bytea, current bytea, encoder bytea,
 *							  VARIADIC "any"): the same pass over table
 * columns, encoded by the encoder model as ml._encode_cols would
 * (ml.train's Lloyd passes).
 */
PG_FUNCTION_INFO_V1(ml_kmeans_pass_cols_sfunc);
Datum
ml_kmeans_pass_cols_sfunc(PG_FUNCTION_ARGS)
{
	MlPassCache *cache;
	KmeansPassVar *v;
	const mlx_kmeans_fit *f;
	const mlx_model *enc;
	const void *x;

	ml_require_agg(fcinfo, "ml._kmeans_pass_cols_sfunc");
	cache = ml_pass_cache(fcinfo);
	f = kpass_model(fcinfo, cache, 1);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the encoder of a k-means pass must not be NULL")));
	v = kpass_state(fcinfo, cache, f);
	(void) ml_encode_pass_args(fcinfo, &cache->encoder, 2, 3, false, &enc, &x);
	if (enc->nfeat != f->nfeat)
		ml_raise_length_mismatch("encoded row", enc->nfeat, f->nfeat, NULL);
	/* the encoding raised an error for any value that is not finite */
	ml_check_status(mlx_kmeans_state_add(&v->s, f->centroids, x, NULL), kmeans_what);
	cache->last = v;
	PG_RETURN_POINTER(v);
}

/* ml._kmeans_pass_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_kmeans_pass_combine);
Datum
ml_kmeans_pass_combine(PG_FUNCTION_ARGS)
{
	KmeansPassVar *a;
	KmeansPassVar *b;

	ml_require_agg(fcinfo, "ml._kmeans_pass_combine");
	a = PG_ARGISNULL(0) ? NULL : kpass_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : kpass_arg(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);
	if (mlx_kmeans_state_merge(&a->s, &b->s) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine k-means pass states of %d clusters of %d features and %d clusters of %d features",
						a->s.k, a->s.nfeat, b->s.k, b->s.nfeat)));
	a->nprocs = (a->nprocs > PG_INT32_MAX - b->nprocs) ? PG_INT32_MAX : a->nprocs + b->nprocs;
	PG_RETURN_POINTER(a);
}

/*
 * ml._kmeans_pass_state_final(state bytea) RETURNS bytea, the final function
 * of ml._kmeans_pass_state: the state, checked, as a copy of exactly its bytes.
 * Every byte of the state is written by the transition and combine
 * functions (it is allocated zeroed), so this is all of it; the check
 * keeps a hand-made state from passing through as if the pass had
 * produced it.  ml.train's driver reads this value.
 */
PG_FUNCTION_INFO_V1(ml_kmeans_pass_state_final);
Datum
ml_kmeans_pass_state_final(PG_FUNCTION_ARGS)
{
	struct varlena *v;
	struct varlena *out;

	ml_require_agg(fcinfo, "ml._kmeans_pass_state_final");
	v = (struct varlena *) kpass_arg(PG_GETARG_DATUM(0));
	out = palloc(VARSIZE(v));
	memcpy(out, v, VARSIZE(v));
	PG_RETURN_POINTER(out);
}

/*
 * ml._kmeans_pass_final(state bytea) RETURNS bytea: a k-means model with
 * the cluster means, the sizes of this pass's clusters and the inertia of
 * the centroids the pass started from.  A final function sees only the
 * state, not the current model, so a cluster that got no row has size 0
 * and a zero row here; the driver keeps the old centroid for it.
 */
PG_FUNCTION_INFO_V1(ml_kmeans_pass_final);
Datum
ml_kmeans_pass_final(PG_FUNCTION_ARGS)
{
	bytea	   *next;

	ml_require_agg(fcinfo, "ml._kmeans_pass_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	next = ml_kmeans_pass_result(PG_GETARG_DATUM(0), NULL, NULL);
	if (next == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(next);
}

bytea *
ml_kmeans_pass_result(Datum state, int *nprocs, int64 *nseen)
{
	KmeansPassVar *v;
	mlx_kmeans_fit fit;
	mlx_model	model;
	const double *sums;
	const int64_t *counts;
	int			k,
				d;

	v = kpass_arg(state);
	if (nprocs != NULL)
		*nprocs = v->nprocs;
	if (nseen != NULL)
		*nseen = v->s.nrows + v->s.nskipped;
	if (v->s.nrows == 0)
		return NULL;
	k = v->s.k;
	d = v->s.nfeat;
	sums = mlx_kmeans_state_sums_c(&v->s);
	counts = mlx_kmeans_state_counts_c(&v->s);
	memset(&fit, 0, sizeof(fit));
	fit.k = k;
	fit.nfeat = d;
	fit.nrows = v->s.nrows;
	fit.nskipped = v->s.nskipped;
	fit.n_init = 1;
	fit.inertia = v->s.inertia;
	fit.centroids = palloc(sizeof(double) * (size_t) k * d);
	fit.sizes = palloc(sizeof(int64_t) * k);
	for (int c = 0; c < k; c++)
	{
		fit.sizes[c] = counts[c];
		for (int j = 0; j < d; j++)
			fit.centroids[(size_t) c * d + j] =
				counts[c] > 0 ? sums[(size_t) c * d + j] / counts[c] : 0.0;
	}
	ml_check_status(mlx_model_from_kmeans(&fit, NULL, &ml_pg_ctx, &model), kmeans_what);
	return ml_encode_model(&model);
}

/* cluster index of a row, for ml.predict */
double
ml_kmeans_cluster(const mlx_model *m, const void *x)
{
	const mlx_kmeans_fit *f = &m->u.kmeans;

	return (double) mlx_kmeans_nearest(f->centroids, f->k, f->nfeat, x, NULL);
}

/*
 * ml.centroids(model) RETURNS TABLE(cluster int, size bigint, centroid
 * float8[]): one row per cluster, numbered from 0 as ml.predict numbers
 * them.
 */
static Datum
centroids_srf(FunctionCallInfo fcinfo, bool by_name)
{
	FuncCallContext *funcctx;
	mlx_model  *m;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		m = palloc0(sizeof(mlx_model));
		if (by_name)
			ml_registry_load(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							 funcctx->multi_call_memory_ctx, m);
		else
			ml_decode_model(PG_GETARG_DATUM(0), m);
		require_kmeans(m, "ml.centroids");
		funcctx->user_fctx = m;
		funcctx->max_calls = m->u.kmeans.k;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	m = (mlx_model *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		const mlx_kmeans_fit *f = &m->u.kmeans;
		int			c = (int) funcctx->call_cntr;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		Datum	   *elems = palloc(sizeof(Datum) * f->nfeat);

		for (int j = 0; j < f->nfeat; j++)
			elems[j] = Float8GetDatum(f->centroids[(size_t) c * f->nfeat + j]);
		values[0] = Int32GetDatum(c);
		values[1] = Int64GetDatum(f->sizes[c]);
		values[2] = PointerGetDatum(construct_array(elems, f->nfeat, FLOAT8OID, sizeof(float8),
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		SRF_RETURN_NEXT(funcctx,
						HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

/* ml.centroids(model bytea) */
PG_FUNCTION_INFO_V1(ml_centroids);
Datum
ml_centroids(PG_FUNCTION_ARGS)
{
	return centroids_srf(fcinfo, false);
}

/* ml.centroids(model_name text) */
PG_FUNCTION_INFO_V1(ml_centroids_name);
Datum
ml_centroids_name(PG_FUNCTION_ARGS)
{
	return centroids_srf(fcinfo, true);
}
