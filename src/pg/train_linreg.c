/*
 * train_linreg.c
 *	  ml.train's linear regression in one pass over the data:
 *	  ml._linreg_train(y float8, held_out boolean, impute boolean,
 *					   encoder bytea, VARIADIC "any") RETURNS bytea
 *	  and the driver step that runs it.
 *
 * The aggregate reads the feature columns themselves (encoded by the
 * encoder model, as ml._encode_cols would) and folds each row into the
 * streaming QR state of linear regression (src/core/linreg.h): training
 * rows into one state, held-out rows into another.  Both states always
 * carry the intercept column, whatever fit_intercept says, because R of
 * [1 | X | y] holds everything ml.train used to need two more passes for:
 *
 *	  - the column means (the imputation values the model stores), from the
 *		first row of R;
 *	  - the fit itself, with or without intercept (mlx_linreg_drop_intercept);
 *	  - the metrics of the fitted coefficients on the training or held-out
 *		rows, from R alone (mlx_linreg_residual_moments).
 *
 * The first pass is optimistic (impute = false): the imputation values are
 * not known yet, so a row that would need one -- a NULL number, boolean,
 * array or array element -- or that the statistics pass would reject (NaN,
 * infinity, an array of another length, a target that is not finite) sets
 * the "needs statistics" flag and the rest of the pass does nothing.  The
 * driver then runs the statistics pass (which reports bad data with its
 * usual errors and computes the means) and this pass again with impute =
 * true.  Clean data thus takes one pass.
 *
 * State (flat bytea, native byte order, 8-byte aligned):
 *
 *	  int32 varlena header | uint32 magic | uint32 flags | int32 nprocs |
 *	  int64 nseen | int64 nskipped | int32 nfeat | int32 pad |
 *	  mlx_linreg_state train ... | [mlx_linreg_state test ...]
 *
 * The test state is there only when the held_out argument is not the
 * constant false.  nprocs counts the processes whose rows are in the state
 * (each partial state is one process; combining adds them), for
 * ml.training_info.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/linreg.h"
#include "core/metrics.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

#define ML_LINREG_TRAIN_MAGIC 0x4D4C5854	/* "MLXT" */

/* flags */
#define LT_NEEDS_STATISTICS 0x01	/* a row needed imputation or a check */
#define LT_HAS_TEST			0x02	/* the held-out state is present */

typedef struct LinregTrainVar
{
	int32		vl_len_;
	uint32		magic;
	uint32		flags;
	int32		nprocs;
	int64		nseen;			/* rows the pass saw */
	int64		nskipped;		/* training rows without a target */
	int32		nfeat;
	int32		pad;			/* zero */
	/* mlx_linreg_state train, then test when LT_HAS_TEST */
} LinregTrainVar;

typedef char linreg_train_header_is_aligned[
	(sizeof(LinregTrainVar) % 8 == 0) ? 1 : -1];

static const char *const what = "linear regression training";

static size_t
block_size(int nfeat)
{
	return mlx_linreg_state_size(nfeat, true);
}

/* the bytes of each QR block of a state, from its size */
static size_t
block_bytes(const LinregTrainVar *v)
{
	return (VARSIZE(v) - sizeof(LinregTrainVar)) / ((v->flags & LT_HAS_TEST) ? 2 : 1);
}

static mlx_linreg_state *
train_state(LinregTrainVar *v)
{
	return (mlx_linreg_state *) (v + 1);
}

static mlx_linreg_state *
test_state(LinregTrainVar *v)
{
	return (v->flags & LT_HAS_TEST) ?
		(mlx_linreg_state *) ((char *) (v + 1) + block_bytes(v)) : NULL;
}

static bool
block_ok(const mlx_linreg_state *s, int nfeat)
{
	return mlx_linreg_state_validate(s, block_size(nfeat), NULL, 0) == MLX_OK &&
		s->nfeat == nfeat && s->flags == MLX_LINREG_F_INTERCEPT &&
		s->lambda == 0 && s->nskipped == 0;
}

/* The header of a state in memory: its size agrees with its shape. */
static bool
header_ok(const LinregTrainVar *v)
{
	return v->magic == ML_LINREG_TRAIN_MAGIC &&
		v->nfeat >= 1 && v->nfeat <= MLX_LINREG_MAX_FEATURES &&
		VARSIZE(v) == sizeof(LinregTrainVar) +
		block_size(v->nfeat) * ((v->flags & LT_HAS_TEST) ? 2 : 1);
}

/* A state argument, checked before use (anyone can call the functions). */
static LinregTrainVar *
state_arg(Datum d)
{
	LinregTrainVar *v = (LinregTrainVar *) ml_state_arg(d);
	bool		ok;

	ok = VARSIZE(v) >= sizeof(LinregTrainVar) && header_ok(v) &&
		(v->flags & ~(LT_NEEDS_STATISTICS | LT_HAS_TEST)) == 0 &&
		v->nprocs >= 1 && v->nseen >= 0 && v->nskipped >= 0 && v->pad == 0;
	if (ok)
		ok = block_ok(train_state(v), v->nfeat) &&
			(test_state(v) == NULL || block_ok(test_state(v), v->nfeat));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid linear regression training state"),
				 errhint("The state was not produced by ml._linreg_train's transition function.")));
	return v;
}

/*
 * The numbers of a state about to go to LAPACK (combine): finite.  Not per
 * row: O(p^2).
 */
static void
values_check(LinregTrainVar *v)
{
	char		errbuf[256];

	if (mlx_linreg_state_check_values(train_state(v), errbuf, sizeof(errbuf)) != MLX_OK ||
		(test_state(v) != NULL &&
		 mlx_linreg_state_check_values(test_state(v), errbuf, sizeof(errbuf)) != MLX_OK))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid linear regression training state: %s", errbuf)));
}

static LinregTrainVar *
state_new(int nfeat, bool with_test)
{
	Size		size;
	LinregTrainVar *v;

	if (block_size(nfeat) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the features expand to %d values, at most %d are supported",
						nfeat, MLX_LINREG_MAX_FEATURES)));
	size = sizeof(LinregTrainVar) + block_size(nfeat) * (with_test ? 2 : 1);
	v = palloc0(size);
	SET_VARSIZE(v, size);
	v->magic = ML_LINREG_TRAIN_MAGIC;
	v->flags = with_test ? LT_HAS_TEST : 0;
	v->nprocs = 1;
	v->nfeat = nfeat;
	ml_check_status(mlx_linreg_state_init(train_state(v), nfeat, 0, true), what);
	if (with_test)
		ml_check_status(mlx_linreg_state_init(test_state(v), nfeat, 0, true), what);
	return v;
}

/* true when argument argno of the aggregate is the constant false */
static bool
arg_is_const_false(FunctionCallInfo fcinfo, int argno)
{
	Expr	   *e = ml_agg_arg_expr(fcinfo, argno);

	return e != NULL && IsA(e, Const) && !((Const *) e)->constisnull &&
		!DatumGetBool(((Const *) e)->constvalue);
}

/*
 * ml._linreg_train_sfunc(state bytea, y float8, held_out boolean,
 *						  impute boolean, encoder bytea, VARIADIC "any")
 */
PG_FUNCTION_INFO_V1(ml_linreg_train_sfunc);
Datum
ml_linreg_train_sfunc(PG_FUNCTION_ARGS)
{
	MlPassCache *cache;
	LinregTrainVar *v = NULL;
	const mlx_model *m;
	const void *x;
	bool		held_out;
	bool		impute;
	double		y;
	mlx_linreg_state *s;

	ml_require_agg(fcinfo, "ml._linreg_train_sfunc");
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("held_out, impute and the encoder of ml._linreg_train must not be NULL")));
	cache = ml_pass_cache(fcinfo);
	held_out = PG_GETARG_BOOL(2);
	impute = PG_GETARG_BOOL(3);
	if (!PG_ARGISNULL(0))
	{
		/*
		 * The state this function returned last time was checked when it
		 * came in; its header and the block a row goes to are checked again
		 * (cheaply), for memory safety.
		 */
		v = (LinregTrainVar *) PG_GETARG_POINTER(0);
		if (v != cache->last || VARATT_IS_EXTENDED(v) ||
			VARSIZE(v) < sizeof(LinregTrainVar) + sizeof(mlx_linreg_state) ||
			v->magic != ML_LINREG_TRAIN_MAGIC)
			v = state_arg(PG_GETARG_DATUM(0));
	}
	if (v != NULL && (v->flags & LT_NEEDS_STATISTICS))
		PG_RETURN_POINTER(v);	/* the driver runs the statistics pass */

	if (PG_ARGISNULL(1))
	{
		/* no target: skipped (held-out rows without one are not scored) */
		if (v == NULL)
			v = state_new(ml_encode_pass_model(fcinfo, &cache->encoder, 4)->nfeat,
						  !arg_is_const_false(fcinfo, 2));
		v->nseen++;
		if (!held_out)
			v->nskipped++;
		cache->last = v;
		PG_RETURN_POINTER(v);
	}
	y = PG_GETARG_FLOAT8(1);
	if (!ml_encode_pass_args(fcinfo, &cache->encoder, 4, 5, !impute, &m, &x) ||
		!isfinite(y))
	{
		if (impute && !isfinite(y))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("target value is %s",
							isnan(y) ? "NaN" : (y > 0 ? "Infinity" : "-Infinity")),
					 errhint("Filter such rows out, or map them to NULL to have them skipped.")));
		if (v == NULL)
			v = state_new(m->nfeat, !arg_is_const_false(fcinfo, 2));
		v->flags |= LT_NEEDS_STATISTICS;
		cache->last = v;
		PG_RETURN_POINTER(v);
	}
	if (v == NULL)
		v = state_new(m->nfeat, !arg_is_const_false(fcinfo, 2));
	else if (v->nfeat != m->nfeat)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the encoder of ml._linreg_train must be the same for every row")));
	s = held_out ? test_state(v) : train_state(v);
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("held_out of ml._linreg_train changed from the constant false")));
	/* what adding a row relies on; state_arg checked the rest */
	if (s->nfeat != v->nfeat || !ml_qr_block_usable(s, block_bytes(v)))
	{
		v = state_arg(PointerGetDatum(v));	/* reports it */
		s = held_out ? test_state(v) : train_state(v);
	}
	v->nseen++;
	ml_check_status(mlx_linreg_add_row(s, y, x, &ml_pg_ctx, NULL), what);
	cache->last = v;
	PG_RETURN_POINTER(v);
}

/* ml._linreg_train_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_linreg_train_combine);
Datum
ml_linreg_train_combine(PG_FUNCTION_ARGS)
{
	LinregTrainVar *a;
	LinregTrainVar *b;

	ml_require_agg(fcinfo, "ml._linreg_train_combine");
	a = PG_ARGISNULL(0) ? NULL : state_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : state_arg(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);	/* nodeAgg copies it */
	if (a->nfeat != b->nfeat ||
		(a->flags & LT_HAS_TEST) != (b->flags & LT_HAS_TEST) ||
		a->nprocs > PG_INT32_MAX - b->nprocs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine linear regression training states of different shapes")));
	CHECK_FOR_INTERRUPTS();
	values_check(a);
	values_check(b);
	a->flags |= b->flags;
	if (!(a->flags & LT_NEEDS_STATISTICS))
	{
		ml_check_state_status(mlx_linreg_merge(train_state(a), train_state(b), &ml_pg_ctx), what);
		if (test_state(a) != NULL)
			ml_check_state_status(mlx_linreg_merge(test_state(a), test_state(b), &ml_pg_ctx), what);
	}
	a->nprocs += b->nprocs;
	a->nseen += b->nseen;
	a->nskipped += b->nskipped;
	PG_RETURN_POINTER(a);
}

/*
 * ml._linreg_train_final(state bytea) RETURNS bytea, the final function
 * of ml._linreg_train: the state, checked, as a copy of exactly its bytes.
 * Every byte of the state is written by the transition and combine
 * functions (it is allocated zeroed), so this is all of it; the check
 * keeps a hand-made state from passing through as if the pass had
 * produced it.  ml.train's driver reads this value.
 */
PG_FUNCTION_INFO_V1(ml_linreg_train_final);
Datum
ml_linreg_train_final(PG_FUNCTION_ARGS)
{
	struct varlena *v;
	struct varlena *out;

	ml_require_agg(fcinfo, "ml._linreg_train_final");
	v = (struct varlena *) state_arg(PG_GETARG_DATUM(0));
	out = palloc(VARSIZE(v));
	memcpy(out, v, VARSIZE(v));
	PG_RETURN_POINTER(out);
}

/* ---------- the driver's step ---------- */

/* The metrics of the fitted coefficients on the rows of s (ml.evaluate's). */
static Jsonb *
metrics_json(TrainRun *run, const mlx_linreg_state *s, const double *coef)
{
	mlx_regmoments mom;
	mlx_regression_metrics r;
	StringInfoData buf;

	ml_check_status(mlx_linreg_residual_moments(s, coef, &ml_pg_ctx, &mom), what);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (mom.n > 0)
	{
		ml_check_status(mlx_regmoments_result(&mom, &r), what);
		ml_put_metric(&buf, "r2", r.r2);
		ml_put_metric(&buf, "mse", r.mse);
		ml_put_metric(&buf, "rmse", r.rmse);
		ml_put_metric(&buf, "explained_variance", r.explained_variance);
	}
	else
	{
		/* no held-out rows: nothing to measure */
		ml_put_metric(&buf, "r2", NAN);
		ml_put_metric(&buf, "mse", NAN);
		ml_put_metric(&buf, "rmse", NAN);
		ml_put_metric(&buf, "explained_variance", NAN);
	}
	appendStringInfo(&buf, ", \"n_test\": " INT64_FORMAT ", \"evaluated_on\": \"%s\"}",
					 mom.n, run->test_pred ? "test" : "training");
	return ml_train_jsonb(run, buf.data);
}

/* The means of the training rows become the columns' imputation values. */
static void
impute_from_state(TrainRun *run, const mlx_linreg_state *s)
{
	double	   *means = palloc(sizeof(double) * s->nfeat);
	int			base = 0;
	ListCell   *lc;

	ml_check_status(mlx_linreg_means(s, &ml_pg_ctx, means), what);
	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);

		if (c->kind != MLX_INPUT_CATEGORICAL)
		{
			c->impute = MemoryContextAlloc(run->cxt, sizeof(double) * c->nfeat);
			memcpy(c->impute, means + base, sizeof(double) * c->nfeat);
		}
		base += c->nfeat;
	}
}

/*
 * One pass of ml._linreg_train over the source, the target as the SQL
 * expression y, recorded as pass 'name'.  Returns the validated state, or
 * NULL when impute is false and the data need the statistics pass (or
 * there is no training row: the statistics pass says so).  Otherwise the
 * training and skipped row counts, and when impute is false the columns'
 * imputation values from the training rows.
 */
static LinregTrainVar *
linreg_pass(TrainRun *run, bytea *encoder, bool impute, const char *y,
			const char *name, double loss, int64 *ntrain, int64 *skipped)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			argtypes[1] = {BYTEAOID};
	Datum		args[1];
	bool		isnull;
	int			planned;
	Datum		d;
	LinregTrainVar *v;

	args[0] = PointerGetDatum(encoder);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT ml._linreg_train(%s, %s, %s, $1%s) FROM %s AS src",
					 y, run->test_pred ? run->test_pred : "false",
					 impute ? "true" : "false", ml_pass_columns(run, 4), run->from);
	planned = ml_spi_run_pass(sql.data, 1, argtypes, args);

	d = ml_spi_value(0, 1, &isnull);
	if (isnull)
	{
		/* no rows at all: the statistics pass says so */
		ml_record_pass(run, name, 0, 0, planned, start, NAN);
		if (impute)
			elog(ERROR, "linear regression training pass saw no rows");
		return NULL;
	}
	v = state_arg(d);
	ml_record_pass(run, (v->flags & LT_NEEDS_STATISTICS) ?
				   psprintf("%s (needs statistics)", name) : name,
				   v->nseen, v->nprocs, planned, start,
				   (v->flags & LT_NEEDS_STATISTICS) ? NAN : loss);
	if ((v->flags & LT_NEEDS_STATISTICS) || train_state(v)->nrows == 0)
	{
		if (impute)
			elog(ERROR, "linear regression training pass found rows the statistics pass accepted unusable");
		return NULL;
	}
	*ntrain = train_state(v)->nrows;
	*skipped = v->nskipped;
	if (!impute)
		impute_from_state(run, train_state(v));
	return v;
}

/* Solve the least squares of a state with the given penalty. */
static void
solve_state(mlx_linreg_state *s, double lambda, mlx_linreg_fit *fit)
{
	mlx_status	st;

	s->lambda = lambda;
	CHECK_FOR_INTERRUPTS();
	st = mlx_linreg_solve(s, &ml_pg_ctx, fit);
	if (st == MLX_EINTR)
		CHECK_FOR_INTERRUPTS();
	ml_check_status(st, what);
}

/* ... of a copy of a state with the intercept column */
static void
solve_copy(const mlx_linreg_state *src, double lambda, mlx_linreg_fit *fit)
{
	mlx_linreg_state *s = palloc(block_size(src->nfeat));

	memcpy(s, src, block_size(src->nfeat));
	solve_state(s, lambda, fit);
}

/*
 * ml.train's linear regression.  impute false: the first, optimistic
 * pass; returns NULL when the data need the statistics pass, else sets
 * the columns' imputation values from the training rows.  Returns the
 * fitted model (without inputs), its training row and skipped-row counts,
 * and sets run->metrics.
 */
bytea *
ml_train_linreg_fit(TrainRun *run, bytea *encoder, bool impute,
					int64 *ntrain, int64 *skipped)
{
	LinregTrainVar *v;
	mlx_linreg_fit fit;
	mlx_model	model;
	bytea	   *result;
	MemoryContext old;

	v = linreg_pass(run, encoder, impute, psprintf("(src.%s)::float8", run->qtarget),
					"fit", NAN, ntrain, skipped);
	if (v == NULL)
		return NULL;

	/* the fit: R as it is with an intercept, re-factored without */
	if (run->opt.fit_intercept)
		solve_copy(train_state(v), run->opt.lambda, &fit);
	else
	{
		mlx_linreg_state *s = palloc(mlx_linreg_state_size(v->nfeat, false));

		ml_check_status(mlx_linreg_state_init(s, v->nfeat, 0, false), what);
		ml_check_status(mlx_linreg_drop_intercept(train_state(v), s, &ml_pg_ctx), what);
		solve_state(s, run->opt.lambda, &fit);
	}
	run->metrics = metrics_json(run, run->test_pred ? test_state(v) : train_state(v),
								fit.coef);
	ml_check_status(mlx_model_from_linreg(&fit, NULL, &ml_pg_ctx, &model), what);
	old = MemoryContextSwitchTo(run->cxt);
	result = ml_encode_model(&model);
	MemoryContextSwitchTo(old);
	return result;
}

/*
 * Binary logistic regression of a boolean target, with an intercept and
 * unit class weights: its first pass is this one, over the 0/1 target.
 * The intercept-only start beta0 = (logit(pbar), 0, ...) gives every row the
 * same IRLS weight w = pbar (1 - pbar) and working response
 * z = logit(pbar) + (y - pbar) / w, so the first step -- the ridge fit of z
 * with penalty lambda / w -- is an affine map of the ridge fit of y, read
 * off the pass's R: intercept logit(pbar) + (b0(y) - pbar) / w, slopes b(y) / w.
 * The same R gives the means (imputation values) and the class counts, so
 * one pass does the work of the statistics pass and the first IRLS pass.
 * Returns false when the data need the statistics pass.  On success sets
 * the class counts (run->bool_rows, run->bool_true), the imputation values,
 * the row counts and coef (nfeat + 1 entries).
 */
bool
ml_train_logreg_start(TrainRun *run, bytea *encoder, double *coef,
					  int64 *ntrain, int64 *skipped)
{
	LinregTrainVar *v;
	mlx_linreg_fit fit;
	double		mean_y;
	double		pbar,
				w,
				n;
	int64		ntrue;
	const mlx_linreg_state *s;
	double	   *R;

	/* the loss of the start is the null model's, known after the pass */
	v = linreg_pass(run, encoder, false, psprintf("(src.%s)::int::float8", run->qtarget),
					"start", NAN, ntrain, skipped);
	if (v == NULL)
		return false;
	s = train_state(v);
	n = (double) s->nrows;
	ml_check_status(mlx_linreg_copy_r(s, &ml_pg_ctx, &R), what);
	mean_y = R[0] * R[(size_t) (s->nfeat + 1) * (s->nfeat + 2)] / n;
	ntrue = (int64) llround(mean_y * n);
	run->bool_rows = s->nrows;
	run->bool_true = ntrue;
	if (ntrue <= 0 || ntrue >= s->nrows)
		return true;			/* one class: ml_train_classes says so */
	pbar = (double) ntrue / n;
	w = pbar * (1 - pbar);
	solve_copy(s, run->opt.lambda / w, &fit);
	coef[0] = log(pbar / (1 - pbar)) + (fit.coef[0] - pbar) / w;
	for (int j = 1; j <= s->nfeat; j++)
		coef[j] = fit.coef[j] / w;
	/* the pass's loss: the negative log-likelihood of the start */
	run->passes[run->npasses - 1].loss = -((double) ntrue * log(pbar) +
										   (n - (double) ntrue) * log1p(-pbar));
	return true;
}
