/*
 * linreg.c
 *	  ml.linreg_fit aggregates: transition, combine and final functions.
 *
 * The transition state is a plain bytea (not internal) so partial states
 * can cross process and node boundaries as ordinary values: parallel
 * workers hand them to the leader, and a distributed engine can ship them
 * between nodes through bytea's text form.  Its body is the core's
 * mlx_linreg_state block, preceded by a magic number that keeps the block
 * 8-byte aligned:
 *
 *	  int32 varlena header | uint32 ML_LINREG_STATE_MAGIC | mlx_linreg_state ...
 *
 * A state with nfeat = 0 is the "no usable row yet" state: it only counts
 * skipped rows (NULL target or NULL feature array) until the first usable
 * row tells us the feature count.
 *
 * The state is created once (PostgreSQL copies it into the aggregate
 * context) and then updated in place: the transition function returns the
 * same pointer, which nodeAgg accepts without copying.  Because anyone can
 * build an aggregate out of these support functions with a hand-made
 * initial state, every incoming state is validated before use.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "core/linreg.h"
#include "pg/ml_pg.h"

#define ML_LINREG_STATE_MAGIC 0x4D4C5853	/* "MLXS" */

typedef struct LinregVar
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint32		magic;
	mlx_linreg_state s;
} LinregVar;

#define LINREG_VAR_HDRSZ offsetof(LinregVar, s)

static const char *const linreg_what = "linear regression training";

/* Fresh state in CurrentMemoryContext: empty (nfeat 0) or sized for nfeat. */
static LinregVar *
linreg_var_new(int nfeat, double lambda, bool intercept)
{
	Size		body;
	LinregVar  *v;

	if (nfeat == 0)
		body = sizeof(mlx_linreg_state);
	else
	{
		body = mlx_linreg_state_size(nfeat, intercept);
		if (body == 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("feature array has %d elements, at most %d are supported",
							nfeat, MLX_LINREG_MAX_FEATURES)));
	}
	v = palloc0(LINREG_VAR_HDRSZ + body);
	SET_VARSIZE(v, LINREG_VAR_HDRSZ + body);
	v->magic = ML_LINREG_STATE_MAGIC;
	if (nfeat == 0)
	{
		v->s.version = MLX_LINREG_STATE_VERSION;
		v->s.flags = intercept ? MLX_LINREG_F_INTERCEPT : 0;
		v->s.lambda = lambda;
	}
	else
		ml_check_status(mlx_linreg_state_init(&v->s, nfeat, lambda, intercept),
						linreg_what);
	return v;
}

static void
raise_bad_state(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid linear regression aggregate state: %s", why),
			 errhint("The state was not produced by ml.linreg_fit's transition function.")));
}

/*
 * The numbers of a state a combine or final function is about to hand to
 * LAPACK: finite (NaN makes LAPACK fail).  Not per row: O(p^2).
 */
static void
linreg_values_check(const LinregVar *v)
{
	char		errbuf[256];

	if (v->s.nfeat > 0 &&
		mlx_linreg_state_check_values(&v->s, errbuf, sizeof(errbuf)) != MLX_OK)
		raise_bad_state(errbuf);
}

/*
 * Get a usable state from an argument: in-line, 4-byte header, 8-byte
 * aligned (detoasting or copying when it is not), and validated.
 */
static LinregVar *
linreg_var_arg(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	LinregVar  *v;
	Size		size;

	v = (LinregVar *) raw;
	size = VARSIZE(v);

	if (size < LINREG_VAR_HDRSZ + sizeof(mlx_linreg_state) ||
		v->magic != ML_LINREG_STATE_MAGIC)
		raise_bad_state("bad header");
	if (v->s.nfeat == 0)
	{
		/* the empty state: only counters and settings are meaningful */
		if (size != LINREG_VAR_HDRSZ + sizeof(mlx_linreg_state) ||
			v->s.version != MLX_LINREG_STATE_VERSION ||
			(v->s.flags & ~MLX_LINREG_F_INTERCEPT) != 0 ||
			v->s.nrows != 0 || v->s.nbuf != 0 || v->s.nskipped < 0 ||
			!isfinite(v->s.lambda) || v->s.lambda < 0)
			raise_bad_state("inconsistent empty state");
	}
	else
	{
		char		errbuf[256];

		errbuf[0] = '\0';
		if (mlx_linreg_state_validate(&v->s, size - LINREG_VAR_HDRSZ,
									  errbuf, sizeof(errbuf)) != MLX_OK)
			raise_bad_state(errbuf[0] ? errbuf : "validation failed");
	}
	return v;
}

static double
lambda_arg(FunctionCallInfo fcinfo, int argno)
{
	double		lambda;

	if (PG_NARGS() <= argno)
		return 0.0;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lambda must not be NULL"),
				 errhint("Use 0 for ordinary least squares.")));
	lambda = PG_GETARG_FLOAT8(argno);
	if (isnan(lambda) || lambda < 0 || isinf(lambda))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lambda must be a finite number >= 0, not %g", lambda)));
	return lambda;
}

static bool
intercept_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno)
		return true;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("fit_intercept must not be NULL")));
	return PG_GETARG_BOOL(argno);
}

/*
 * ml.linreg_sfunc(state bytea, y float8, x float8[]
 *				   [, lambda float8 [, fit_intercept boolean]])
 */
PG_FUNCTION_INFO_V1(ml_linreg_sfunc);
Datum
ml_linreg_sfunc(PG_FUNCTION_ARGS)
{
	LinregVar  *v;
	double		lambda;
	bool		intercept;
	MlFloat8Array x;
	double		y;
	int			bad = 0;
	mlx_status	st;

	ml_require_agg(fcinfo, "ml.linreg_sfunc");

	lambda = lambda_arg(fcinfo, 3);
	intercept = intercept_arg(fcinfo, 4);
	v = PG_ARGISNULL(0) ? NULL : linreg_var_arg(PG_GETARG_DATUM(0));

	if (v != NULL)
	{
		if (v->s.lambda != lambda)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lambda must be the same for every row of a group"),
					 errdetail("An earlier row had lambda %g, this row has %g.",
							   v->s.lambda, lambda)));
		if (((v->s.flags & MLX_LINREG_F_INTERCEPT) != 0) != intercept)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fit_intercept must be the same for every row of a group")));
	}

	/* rows with no target or no features are skipped and counted */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			v = linreg_var_new(0, lambda, intercept);
		v->s.nskipped++;
		PG_RETURN_POINTER(v);
	}

	y = PG_GETARG_FLOAT8(1);
	if (!isfinite(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("target value is %s",
						isnan(y) ? "NaN" : (y > 0 ? "Infinity" : "-Infinity")),
				 errhint("Filter such rows out, or map them to NULL to have them skipped.")));
	ml_float8_array(PG_GETARG_DATUM(2), "feature array", &x);

	if (v == NULL || v->s.nfeat == 0)
	{
		LinregVar  *nv = linreg_var_new(x.n, lambda, intercept);

		if (v != NULL)
			nv->s.nskipped = v->s.nskipped;
		v = nv;
	}
	else if (x.n != v->s.nfeat)
	{
		char		detail[128];

		snprintf(detail, sizeof(detail),
				 "Every row of a group must have the same number of features; earlier rows had %d.",
				 v->s.nfeat);
		ml_raise_length_mismatch("feature array", x.n, v->s.nfeat, detail);
	}

	st = mlx_linreg_add_row(&v->s, y, x.values, &ml_pg_ctx, &bad);
	if (st == MLX_ENONFINITE)
		ml_check_finite(&x, "feature array");	/* names the element */
	ml_check_state_status(st, linreg_what);

	PG_RETURN_POINTER(v);
}

/* ml.linreg_combine(bytea, bytea): merge two partial states (TSQR) */
PG_FUNCTION_INFO_V1(ml_linreg_combine);
Datum
ml_linreg_combine(PG_FUNCTION_ARGS)
{
	LinregVar  *a;
	LinregVar  *b;
	LinregVar  *result;

	ml_require_agg(fcinfo, "ml.linreg_combine");

	a = PG_ARGISNULL(0) ? NULL : linreg_var_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : linreg_var_arg(PG_GETARG_DATUM(1));

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		/* b is a private copy or a worker's value: nodeAgg copies it */
		PG_RETURN_POINTER(b);
	}

	if (a->s.lambda != b->s.lambda ||
		(a->s.flags & MLX_LINREG_F_INTERCEPT) != (b->s.flags & MLX_LINREG_F_INTERCEPT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lambda and fit_intercept must be the same for every row of a group")));

	if (b->s.nfeat == 0)
	{
		a->s.nskipped += b->s.nskipped;
		PG_RETURN_POINTER(a);
	}
	if (a->s.nfeat == 0)
	{
		/* a new value: nodeAgg copies it into the aggregate context */
		result = palloc(VARSIZE(b));
		memcpy(result, b, VARSIZE(b));
		result->s.nskipped += a->s.nskipped;
		PG_RETURN_POINTER(result);
	}
	if (a->s.nfeat != b->s.nfeat)
	{
		char		detail[160];

		snprintf(detail, sizeof(detail),
				 "Rows seen by one worker had %d features, rows seen by another had %d.",
				 b->s.nfeat, a->s.nfeat);
		ml_raise_length_mismatch("feature array", b->s.nfeat, a->s.nfeat, detail);
	}

	CHECK_FOR_INTERRUPTS();
	linreg_values_check(a);
	linreg_values_check(b);
	ml_check_state_status(mlx_linreg_merge(&a->s, &b->s, &ml_pg_ctx), linreg_what);
	PG_RETURN_POINTER(a);
}

/* ml.linreg_final(bytea) RETURNS bytea: solve and encode the model */
PG_FUNCTION_INFO_V1(ml_linreg_final);
Datum
ml_linreg_final(PG_FUNCTION_ARGS)
{
	LinregVar  *v;
	mlx_linreg_fit fit;
	mlx_model	model;
	mlx_status	st;

	ml_require_agg(fcinfo, "ml.linreg_final");

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v = linreg_var_arg(PG_GETARG_DATUM(0));
	if (v->s.nfeat == 0 || v->s.nrows == 0)
		PG_RETURN_NULL();		/* no usable rows */

	CHECK_FOR_INTERRUPTS();
	linreg_values_check(v);
	st = mlx_linreg_solve(&v->s, &ml_pg_ctx, &fit);
	if (st == MLX_EINTR)
		CHECK_FOR_INTERRUPTS();
	ml_check_state_status(st, linreg_what);

	if (fit.lambda == 0 && fit.rank < fit.nfeat)
	{
		StringInfoData names;

		initStringInfo(&names);
		for (int i = 0; i < fit.ndependent; i++)
			appendStringInfo(&names, "%sx%d", i > 0 ? ", " : "",
							 fit.dependent[i] + 1);
		if (fit.nrows <= fit.nfeat)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("linear regression is underdetermined: %lld rows for %d features",
							(long long) fit.nrows, fit.nfeat),
					 errdetail("The coefficients are the minimum-norm solution; standard errors are not defined."),
					 errhint("Train on more rows, or use ridge regression (lambda > 0).")));
		else
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("design matrix is rank deficient: rank %d with %d features",
							fit.rank, fit.nfeat),
					 fit.ndependent == 1 ?
					 errdetail("Feature %s is constant or a linear combination of other features; the coefficients are the minimum-norm solution and standard errors are not defined.",
							   names.data) :
					 errdetail("Features %s are constant or linear combinations of other features; the coefficients are the minimum-norm solution and standard errors are not defined.",
							   names.len > 0 ? names.data : "(unknown)"),
					 errhint("Remove the redundant features, or use ridge regression (lambda > 0).")));
	}

	ml_check_status(mlx_model_from_linreg(&fit, NULL, &ml_pg_ctx, &model),
					linreg_what);
	PG_RETURN_BYTEA_P(ml_encode_model(&model));
}
