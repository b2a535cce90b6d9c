/*
 * logreg.c
 *	  One IRLS pass of logistic regression as a parallel aggregate:
 *	  ml._logreg_pass(y float8, x float8[], current bytea) RETURNS bytea.
 *
 * Each pass is a weighted least-squares fit on the working response of the
 * current coefficients (see src/core/logreg.h), folded into the same
 * streaming QR state as linear regression, so it parallelizes and merges
 * the same way.  The state also carries the log-likelihood of the current
 * coefficients.  The final function returns the next model (a logistic
 * regression model bytea whose log_likelihood is that of the coefficients
 * the pass started from); ml.train's driver repeats passes until the
 * coefficients stop moving.
 *
 *	  int32 varlena header | uint32 magic | int64 nwrong | double loglik |
 *	  mlx_linreg_state ...
 *
 * nwrong counts the rows the starting coefficients do not classify
 * strictly right (eta > 0 for label 1, eta < 0 for label 0): zero means the
 * classes are completely separated, so no finite maximum-likelihood
 * estimate exists, and the next model says so in its separation flag.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "core/linreg.h"
#include "core/logreg.h"
#include "pg/ml_pg.h"

#define ML_LOGREG_PASS_MAGIC 0x4D4C584C	/* "MLXL" */

typedef struct LogregPassVar
{
	int32		vl_len_;
	uint32		magic;
	int64		nwrong;
	double		loglik;
	mlx_linreg_state s;
} LogregPassVar;

#define PASS_HDRSZ offsetof(LogregPassVar, s)

static const char *const pass_what = "logistic regression training";

static void
require_agg(FunctionCallInfo fcinfo, const char *fname)
{
	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s can only be called as part of an aggregate", fname)));
}

static LogregPassVar *
pass_arg(Datum d)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);
	LogregPassVar *v;
	char		errbuf[256];

	if (VARATT_IS_EXTENDED(raw))
		raw = pg_detoast_datum(raw);
	if (((uintptr_t) raw) % sizeof(double) != 0)
	{
		struct varlena *copy = palloc(VARSIZE(raw));

		memcpy(copy, raw, VARSIZE(raw));
		raw = copy;
	}
	v = (LogregPassVar *) raw;
	errbuf[0] = '\0';
	if (VARSIZE(v) < PASS_HDRSZ + sizeof(mlx_linreg_state) ||
		v->magic != ML_LOGREG_PASS_MAGIC || !(v->loglik <= 0) || v->nwrong < 0 ||
		mlx_linreg_state_validate(&v->s, VARSIZE(v) - PASS_HDRSZ,
								  errbuf, sizeof(errbuf)) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid logistic regression pass state%s%s",
						errbuf[0] ? ": " : "", errbuf)));
	return v;
}

/* ml._logreg_pass_sfunc(state bytea, y float8, x float8[], current bytea) */
PG_FUNCTION_INFO_V1(ml_logreg_pass_sfunc);
Datum
ml_logreg_pass_sfunc(PG_FUNCTION_ARGS)
{
	LogregPassVar *v;
	const mlx_model *m;
	const mlx_logreg_fit *f;
	MlFloat8Array x;
	double		y,
				eta,
				w,
				z,
				ll,
				cw;
	int			bad = 0;
	mlx_status	st;

	require_agg(fcinfo, "ml._logreg_pass_sfunc");
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the current model of a logistic regression pass must not be NULL")));
	m = ml_cached_model(fcinfo, 3, &fcinfo->flinfo->fn_extra);
	if (m->algorithm != MLX_ALG_LOGISTIC_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the current model of a logistic regression pass must be a logistic regression model")));
	f = &m->u.logreg;
	v = PG_ARGISNULL(0) ? NULL : pass_arg(PG_GETARG_DATUM(0));

	if (v == NULL)
	{
		Size		size = mlx_linreg_state_size(f->nfeat, f->intercept);

		v = palloc0(PASS_HDRSZ + size);
		SET_VARSIZE(v, PASS_HDRSZ + size);
		v->magic = ML_LOGREG_PASS_MAGIC;
		ml_check_status(mlx_linreg_state_init(&v->s, f->nfeat, f->lambda, f->intercept),
						pass_what);
	}
	else if (v->s.nfeat != f->nfeat)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("logistic regression pass state has %d features, the model %d",
						v->s.nfeat, f->nfeat)));

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		v->s.nskipped++;
		PG_RETURN_POINTER(v);
	}
	y = PG_GETARG_FLOAT8(1);
	if (y != 0 && y != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("logistic regression label must be 0 or 1, not %g", y)));
	ml_float8_array(PG_GETARG_DATUM(2), "feature array", &x);
	if (x.n != f->nfeat)
		ml_raise_length_mismatch("feature array", x.n, f->nfeat, NULL);
	ml_check_finite(&x, "feature array");

	cw = f->class_weight[y == 1 ? 1 : 0];
	eta = mlx_logreg_eta(f, x.values);
	mlx_logreg_working(eta, y, cw, &w, &z, &ll);
	st = mlx_linreg_add_row_weighted(&v->s, z, x.values, w, &ml_pg_ctx, &bad);
	ml_check_status(st, pass_what);
	v->loglik += ll;
	if (!(y == 1 ? eta > 0 : eta < 0))
		v->nwrong++;
	PG_RETURN_POINTER(v);
}

/* ml._logreg_pass_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_logreg_pass_combine);
Datum
ml_logreg_pass_combine(PG_FUNCTION_ARGS)
{
	LogregPassVar *a;
	LogregPassVar *b;

	require_agg(fcinfo, "ml._logreg_pass_combine");
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
	if (a->s.nfeat != b->s.nfeat)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine logistic regression pass states of %d and %d features",
						a->s.nfeat, b->s.nfeat)));
	CHECK_FOR_INTERRUPTS();
	ml_check_status(mlx_linreg_merge(&a->s, &b->s, &ml_pg_ctx), pass_what);
	a->loglik += b->loglik;
	a->nwrong += b->nwrong;
	PG_RETURN_POINTER(a);
}

/*
 * ml._logreg_pass_final(bytea) RETURNS bytea: the next model.  Coefficients
 * come from the weighted least-squares solve; the statistics are those at
 * the coefficients the pass started from (equal at convergence).  The
 * model carries the pass's log-likelihood; the driver fills in the rest.
 */
PG_FUNCTION_INFO_V1(ml_logreg_pass_final);
Datum
ml_logreg_pass_final(PG_FUNCTION_ARGS)
{
	LogregPassVar *v;
	mlx_linreg_fit wls;
	mlx_logreg_fit fit;
	mlx_model	model;

	require_agg(fcinfo, "ml._logreg_pass_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v = pass_arg(PG_GETARG_DATUM(0));
	if (v->s.nrows == 0)
		PG_RETURN_NULL();
	CHECK_FOR_INTERRUPTS();
	ml_check_status(mlx_linreg_solve(&v->s, &ml_pg_ctx, &wls), pass_what);
	memset(&fit, 0, sizeof(fit));
	ml_check_status(mlx_logreg_from_wls(&wls, &ml_pg_ctx, &fit), pass_what);
	fit.nfeat = wls.nfeat;
	fit.intercept = wls.intercept;
	fit.lambda = wls.lambda;
	fit.nrows = wls.nrows;
	fit.nskipped = wls.nskipped;
	fit.loglik = v->loglik;
	fit.separation = (v->nwrong == 0);
	fit.loglik_null = NAN;
	fit.deviance = -2 * v->loglik;
	fit.class_weight[0] = fit.class_weight[1] = 1;
	fit.classes[0] = "0";
	fit.classes[1] = "1";
	ml_check_status(mlx_model_from_logreg(&fit, NULL, &ml_pg_ctx, &model), pass_what);
	PG_RETURN_BYTEA_P(ml_encode_model(&model));
}
