/*
 * ml_pg.h
 *	  Shared declarations of the PostgreSQL glue: the core context backed by
 *	  palloc, status-to-ereport mapping, float8[] access and model loading.
 */
#ifndef ML_PG_H
#define ML_PG_H

#include "postgres.h"
#include "fmgr.h"
#include "nodes/primnodes.h"

#include "core/mlx_core.h"
#include "model/model.h"
#include "pg/compat.h"

/*
 * A core context whose allocations come from CurrentMemoryContext at the
 * time of each allocation (palloc that returns NULL instead of throwing, so
 * the core can unwind), and whose interrupt hook reports a pending cancel
 * or termination.
 */
extern const mlx_ctx ml_pg_ctx;

/*
 * Turn a failed core status into an ERROR.  'what' names the operation in
 * the user's terms ("linear regression training"); errbuf, when not NULL and
 * not empty, carries the core's explanation.  Never returns.
 */
pg_noreturn extern void ml_raise_status(mlx_status st, const char *what,
										const char *errbuf);

/* Raise on failure, no-op on MLX_OK. */
static inline void
ml_check_status(mlx_status st, const char *what)
{
	if (st != MLX_OK)
		ml_raise_status(st, what, NULL);
}

/*
 * ml_check_status for work on an aggregate state that came from outside
 * (combine and final functions): LAPACK failing on a state that passed
 * validation is bad data (22000), not an internal error.
 */
extern void ml_check_state_status(mlx_status st, const char *what);

/*
 * A read-only view of a one-dimensional float8[] without copying the
 * values.  'values' may be unaligned (short varlena headers leave the data
 * 3 bytes off), so read it with memcpy or pass it to core functions that
 * accept unaligned input.
 */
typedef struct MlFloat8Array
{
	const char *values;
	int			n;
} MlFloat8Array;

/*
 * Validate and view a float8[] argument.  'what' names the argument in
 * messages ("feature array").  Raises ERROR for NULL elements (22004),
 * multi-dimensional or empty arrays (22000).  NaN/Infinity are not checked
 * here.
 */
extern void ml_float8_array(Datum d, const char *what, MlFloat8Array *out);

/*
 * Check every value of an array view is finite; raise 22000 naming the
 * (1-based) element otherwise.
 */
extern void ml_check_finite(const MlFloat8Array *a, const char *what);

/* Raise 22000 "<what> has N elements, expected M". */
pg_noreturn extern void ml_raise_length_mismatch(const char *what, int got, int expected,
												 const char *detail);

/*
 * Decode a model bytea datum into 'out' (memory from CurrentMemoryContext),
 * raising 22P03 for corrupt values and 0A000 for newer formats.
 */
extern void ml_decode_model(Datum d, mlx_model *out);

/*
 * Return the decoded model for argument 'argno' of the current call, cached
 * in *slot (fn_extra, or a field of a larger fn_extra struct; allocated in
 * fn_mcxt) so a query decodes each distinct model value once.  The cache is
 * keyed by the value's identity (length, CRC-32C and bytes, or its TOAST
 * pointer), compared on every call unless the argument is a Const; see
 * modelio.c.
 */
extern const mlx_model *ml_cached_model(FunctionCallInfo fcinfo, int argno,
										void **slot);

/*
 * True when argument argno of an aggregate's transition call cannot change
 * within the query (a constant or an external parameter).
 */
extern bool ml_agg_arg_stable(FunctionCallInfo fcinfo, int argno);
extern Expr *ml_agg_arg_expr(FunctionCallInfo fcinfo, int argno);

/* Changes whenever the model cached in a slot is (re)decoded. */
extern uint32 ml_cached_model_generation(void *slot);

/* Score features (nfeat doubles, any alignment) with a decoded model. */
extern double ml_score(const mlx_model *m, const void *x);

/* Check a feature array's length against the model and its values. */
extern void ml_check_features(const mlx_model *m, const MlFloat8Array *x);

/* classify.c: class label i of a classifier as a number (ml.predict) */
extern double ml_label_value(const mlx_model *m, int i);

/* aggstate.c: ERROR unless called as part of an aggregate */
extern void ml_require_agg(FunctionCallInfo fcinfo, const char *fname);

/* aggstate.c: a flat bytea state argument in-line and 8-byte aligned */
extern struct varlena *ml_state_arg(Datum d);

/*
 * aggstate.c: the cheap per-row check of a QR block (core/linreg.h) of
 * 'size' bytes inside a state the transition function made itself and
 * validated when it came in: what adding a row relies on (shape, size,
 * buffer fill), not the full mlx_linreg_state_validate.
 */
struct mlx_linreg_state;
extern bool ml_qr_block_usable(const struct mlx_linreg_state *s, size_t size);

/*
 * aggstate.c: the fn_extra of a pass aggregate's transition function: the
 * model cache slot (ml_cached_model) and the state the function returned
 * on its previous call.  A state argument that is that very pointer was
 * validated when it came in and only changed by the transition function
 * since, so a cheap header check is enough for it.
 */
typedef struct MlPassCache
{
	void	   *model_slot;
	void	   *last;
	uint32		last_generation;	/* model (ml_cached_model_generation)
									 * 'last' was last checked against */
	void	   *scratch;		/* per-row work space, if the pass needs one */
	size_t		scratch_size;
	void	   *encoder;		/* ml_encode_pass_args's cache */
} MlPassCache;

extern MlPassCache *ml_pass_cache(FunctionCallInfo fcinfo);

/*
 * glm.c: the next model of an IRLS pass state (ml._glm_pass_state's
 * result), or NULL when no row had a positive weight; with the number of
 * processes whose rows are in it and of rows the pass saw.
 */
extern bytea *ml_glm_pass_result(Datum state, int *nprocs, int64 *nseen);

/*
 * kmeans.c: the model of a Lloyd pass state (ml._kmeans_pass_state's
 * result), or NULL when it saw no row; with the number of processes whose
 * rows are in it and of rows the pass saw.
 */
extern bytea *ml_kmeans_pass_result(Datum state, int *nprocs, int64 *nseen);

/* classify.c: the predicted class index of a classifier */
extern int	ml_classify(const mlx_model *m, const void *x);

/* kmeans.c: the index (from 0) of the centroid nearest to x */
extern double ml_kmeans_cluster(const mlx_model *m, const void *x);

/* rowpredict.c: the model of argument 0 and the features of argument 1 */
extern const mlx_model *ml_model_and_features(FunctionCallInfo fcinfo,
											  bool by_name, bool row,
											  const void **x);

/* Score a float8[] datum, checking its length and values first. */
extern double ml_score_array(const mlx_model *m, Datum array);

/*
 * Encode a model into a freshly palloc'd bytea; a model over
 * MLX_MODEL_MAX_SIZE is refused with ml_raise_model_too_large.
 */
extern bytea *ml_encode_model(const mlx_model *m);

/*
 * ERROR 54000 for a model of this algorithm larger than MLX_MODEL_MAX_SIZE
 * (estimate: bytes is the most a training run could make).
 */
pg_noreturn extern void ml_raise_model_too_large(uint16 algorithm, double bytes,
												 bool estimate);

/*
 * Pin search_path to "pg_catalog, pg_temp" until ml_unpin_search_path(level)
 * (searchpath.c); an error in between restores it with the transaction.
 */
extern int	ml_pin_search_path(void);
extern void ml_unpin_search_path(int level);

/* ---------- model identity, caches and in-line values ---------- */

/*
 * arrays.c: v itself when its bytes are in line and uncompressed (4-byte or
 * short header), else a detoasted copy (TOAST pointer fetched, compressed
 * data decompressed, expanded object flattened) in CurrentMemoryContext.
 */
extern struct varlena *ml_varlena_inline(struct varlena *v);

/*
 * modelio.c: the decoded model of the bytea 'value', cached in *slot
 * (allocated in mcxt) and keyed by the value's identity like
 * ml_cached_model, with no shortcut for constant arguments.
 */
extern const mlx_model *ml_cached_model_value(MemoryContext mcxt, void **slot,
											  Datum value);

/*
 * registry.c: the deployed model of a name visible to the current user,
 * as stored (possibly a TOAST pointer), copied into cxt, and its
 * ml.models.id.  42704 when the name has no visible (deployed) model.
 */
extern Datum ml_registry_find(const char *name, MemoryContext cxt, int64 *id);

/*
 * registry.c: what a lookup by name depended on (transaction, role,
 * snapshot); see ml_registry_stamp_take.  While it is current, the same
 * lookup finds the same row.
 */
typedef struct MlRegistryStamp
{
	bool		valid;
	LocalTransactionId lxid;
	Oid			userid;
	CommandId	curcid;
	TransactionId xmin;
	TransactionId xmax;
	uint64		completions;
} MlRegistryStamp;

extern void ml_registry_stamp_take(MlRegistryStamp *s);
extern bool ml_registry_stamp_current(const MlRegistryStamp *s);

#endif							/* ML_PG_H */
