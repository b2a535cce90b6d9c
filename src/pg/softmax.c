/*
 * softmax.c
 *	  One training pass of multinomial logistic regression as a parallel
 *	  aggregate:
 *	  ml._softmax_pass(class int4, x float8[], current bytea, hessian bool)
 *	  RETURNS bytea.
 *
 * The pass evaluates, at the coefficients of the current model (a
 * multinomial logistic regression model), the class-weighted loss, its
 * gradient and, with hessian true, its Hessian (src/core/softmax.h).  The
 * result is the pass state itself; ml.train's driver adds the penalty and
 * takes a Newton or L-BFGS step (src/pg/train_softmax.c).
 *
 *	  int32 varlena header | uint32 magic | mlx_softmax_state ...
 *
 * States are untrusted (anyone can build an aggregate from these support
 * functions with a hand-made initial value), so every state that comes
 * from outside is validated in full.  For the state it returned itself on
 * the previous row the transition function checks only the header and the
 * size (what memory safety needs; the values were checked when the state
 * came in, and the driver validates the result in full again).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "core/softmax.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

#define ML_SOFTMAX_PASS_MAGIC 0x4D4C5853	/* "MLXS" */

typedef struct SoftmaxPassVar
{
	int32		vl_len_;
	uint32		magic;
	mlx_softmax_state s;
} SoftmaxPassVar;

#define PASS_HDRSZ offsetof(SoftmaxPassVar, s)

static SoftmaxPassVar *
pass_arg(Datum d)
{
	SoftmaxPassVar *v = (SoftmaxPassVar *) ml_state_arg(d);
	char		errbuf[256];

	errbuf[0] = '\0';
	if (VARSIZE(v) < PASS_HDRSZ + sizeof(mlx_softmax_state) ||
		v->magic != ML_SOFTMAX_PASS_MAGIC ||
		mlx_softmax_state_validate(&v->s, VARSIZE(v) - PASS_HDRSZ,
								   errbuf, sizeof(errbuf)) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid multinomial logistic regression pass state%s%s",
						errbuf[0] ? ": " : "", errbuf)));
	return v;
}

/* the cheap per-row check of a state this function returned before */
static bool
header_ok(const SoftmaxPassVar *v)
{
	Size		size;

	if (v->magic != ML_SOFTMAX_PASS_MAGIC || v->s.version != MLX_SOFTMAX_STATE_VERSION ||
		v->s.hessian > 1 || v->s.intercept > 1 || v->s.symmetric > 1)
		return false;
	size = mlx_softmax_state_size(v->s.hessian, v->s.nclasses, v->s.nfeat,
								  v->s.intercept, v->s.symmetric ? 1.0 : 0.0);
	return size != 0 && VARSIZE(v) == PASS_HDRSZ + size &&
		v->s.nparams == (int64) (v->s.nclasses - 1 + v->s.symmetric) *
		(v->s.intercept + v->s.nfeat);
}

/*
 * ml._softmax_pass_sfunc(state bytea, class int4, x float8[], current
 * bytea, hessian bool)
 */
PG_FUNCTION_INFO_V1(ml_softmax_pass_sfunc);
Datum
ml_softmax_pass_sfunc(PG_FUNCTION_ARGS)
{
	MlPassCache *cache;
	SoftmaxPassVar *v;
	const mlx_model *m;
	const mlx_softmax_fit *f;
	MlFloat8Array x;
	bool		hessian;
	int32		cls;
	mlx_status	st;

	ml_require_agg(fcinfo, "ml._softmax_pass_sfunc");
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the current model and the hessian flag of a multinomial logistic regression pass must not be NULL")));
	cache = ml_pass_cache(fcinfo);
	m = ml_cached_model(fcinfo, 3, &cache->model_slot);
	if (m->algorithm != MLX_ALG_SOFTMAX_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the current model of a multinomial logistic regression pass must be a multinomial logistic regression model, not %s",
						mlx_algorithm_name(m->algorithm))));
	f = &m->u.softmax;
	hessian = PG_GETARG_BOOL(4);

	if (PG_ARGISNULL(0))
	{
		Size		size = mlx_softmax_state_size(hessian, f->nclasses, f->nfeat,
												  f->intercept, f->lambda);

		if (size == 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("multinomial logistic regression of %d classes and %d features has too many parameters for %s",
							f->nclasses, f->nfeat,
							hessian ? "Newton's method" : "training"),
					 hessian ? errhint("Use option \"solver\": \"lbfgs\".") : 0));
		v = palloc0(PASS_HDRSZ + size);
		SET_VARSIZE(v, PASS_HDRSZ + size);
		v->magic = ML_SOFTMAX_PASS_MAGIC;
		ml_check_status(mlx_softmax_state_init(&v->s, hessian, f->nclasses,
											   f->nfeat, f->intercept, f->lambda),
						"multinomial logistic regression training");
	}
	else if (PG_GETARG_POINTER(0) == cache->last &&
			 header_ok((SoftmaxPassVar *) cache->last))
		v = (SoftmaxPassVar *) cache->last;
	else
		v = pass_arg(PG_GETARG_DATUM(0));
	cache->last = NULL;
	if (v->s.nclasses != f->nclasses || v->s.nfeat != f->nfeat ||
		(bool) v->s.intercept != f->intercept || (bool) v->s.hessian != hessian ||
		(bool) v->s.symmetric != mlx_softmax_symmetric(f->nclasses, f->lambda))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("multinomial logistic regression pass state does not match the current model")));

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		v->s.nskipped++;
	else
	{
		cls = PG_GETARG_INT32(1);
		if (cls < 0 || cls >= f->nclasses)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("class index %d is out of range for a model of %d classes",
							cls, f->nclasses)));
		ml_float8_array(PG_GETARG_DATUM(2), "feature array", &x);
		if (x.n != f->nfeat)
			ml_raise_length_mismatch("feature array", x.n, f->nfeat, NULL);
		ml_check_finite(&x, "feature array");
		if (cache->scratch == NULL ||
			cache->scratch_size < mlx_softmax_scratch_size(f->nclasses, f->nfeat))
		{
			/* first row, or a model with more classes or features than before */
			cache->scratch_size = mlx_softmax_scratch_size(f->nclasses, f->nfeat);
			cache->scratch = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
												Max(cache->scratch_size, 8));
		}
		st = mlx_softmax_state_add(&v->s, f, cls, x.values, cache->scratch);
		if (st == MLX_ENONFINITE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("multinomial logistic regression training overflowed"),
					 errdetail("A sum of the loss, gradient or Hessian is no longer a finite number."),
					 errhint("Rescale the features (they are used as they are), or set option \"lambda\" > 0.")));
		ml_check_status(st, "multinomial logistic regression training");
	}
	cache->last = v;
	PG_RETURN_POINTER(v);
}

/* ml._softmax_pass_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_softmax_pass_combine);
Datum
ml_softmax_pass_combine(PG_FUNCTION_ARGS)
{
	SoftmaxPassVar *a;
	SoftmaxPassVar *b;
	mlx_status	st;

	ml_require_agg(fcinfo, "ml._softmax_pass_combine");
	a = PG_ARGISNULL(0) ? NULL : pass_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : pass_arg(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);
	CHECK_FOR_INTERRUPTS();
	st = mlx_softmax_state_merge(&a->s, &b->s);
	if (st == MLX_EMISMATCH)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine multinomial logistic regression pass states of different shapes")));
	if (st == MLX_ENONFINITE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("multinomial logistic regression training overflowed"),
				 errhint("Rescale the features (they are used as they are), or set option \"lambda\" > 0.")));
	ml_check_status(st, "multinomial logistic regression training");
	PG_RETURN_POINTER(a);
}

/*
 * ml._softmax_pass_final(state bytea) RETURNS bytea, the final function
 * of ml._softmax_pass: the state, checked, as a copy of exactly its bytes.
 * Every byte of the state is written by the transition and combine
 * functions (it is allocated zeroed), so this is all of it; the check
 * keeps a hand-made state from passing through as if the pass had
 * produced it.  ml.train's driver reads this value.
 */
PG_FUNCTION_INFO_V1(ml_softmax_pass_final);
Datum
ml_softmax_pass_final(PG_FUNCTION_ARGS)
{
	struct varlena *v;
	struct varlena *out;

	ml_require_agg(fcinfo, "ml._softmax_pass_final");
	v = (struct varlena *) pass_arg(PG_GETARG_DATUM(0));
	out = palloc(VARSIZE(v));
	memcpy(out, v, VARSIZE(v));
	PG_RETURN_POINTER(out);
}

/*
 * Validate a pass result from outside and give its state (finished: both
 * triangles of the Hessian) in a palloc'd copy; *block is that allocation,
 * for pfree.  For ml.train's driver.
 */
mlx_softmax_state *
ml_softmax_pass_result(Datum d, void **block)
{
	SoftmaxPassVar *v = pass_arg(d);

	if ((Pointer) v == DatumGetPointer(d))
	{
		/* never modify a Datum we do not own */
		SoftmaxPassVar *copy = palloc(VARSIZE(v));

		memcpy(copy, v, VARSIZE(v));
		v = copy;
	}
	mlx_softmax_state_finish(&v->s);
	*block = v;
	return &v->s;
}
