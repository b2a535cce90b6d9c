/*
 * glm.c
 *	  One IRLS pass of a generalized linear model (logistic or Poisson
 *	  regression) as a parallel aggregate:
 *	  ml._glm_pass(y float8, x float8[], current bytea) RETURNS bytea.
 *
 * Each pass is a weighted least-squares fit on the working response of the
 * current coefficients (see src/core/logreg.h and src/core/poisson.h),
 * folded into the same streaming QR state as linear regression, so it
 * parallelizes and merges the same way.  The family is that of the current
 * model.  The state also carries the log-likelihood (and deviance) of the
 * current coefficients.  The final function returns the next model (a
 * model bytea of the same family whose log-likelihood is that of the
 * coefficients the pass started from); ml.train's driver repeats passes
 * until the coefficients stop moving.
 *
 *	  int32 varlena header | uint32 magic | int32 family | int32 nprocs |
 *	  int64 nseen | int64 nwrong | double loglik | double deviance | double cw[2] |
 *	  double prod[2] | int32 nprod[2] | mlx_linreg_state ...
 *
 * For logistic regression the log-likelihood is kept as loglik plus, per
 * label, a pending product of the rows' 1 + exp(-|eta|) factors (prod,
 * over nprod rows), each weighted by the label's class weight cw when it is
 * folded in with one log (mlx_logreg_working_split): one logarithm per
 * MLX_LOGREG_PROD_ROWS rows instead of one per row.  Poisson states have
 * cw 0, prod 1 and nprod 0.
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
#include "core/poisson.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

#define ML_GLM_PASS_MAGIC 0x4D4C584C	/* "MLXL" */

typedef struct GlmPassVar
{
	int32		vl_len_;
	uint32		magic;
	int32		family;			/* MLX_ALG_LOGISTIC/POISSON_REGRESSION */
	int32		nprocs;			/* processes whose rows are in the state: 1
								 * for a new state, added up by combining */
	int64		nseen;			/* rows the transition function saw */
	int64		nwrong;
	double		loglik;			/* folded-in part of the log-likelihood */
	double		deviance;
	double		cw[2];			/* logistic: class weights of labels 0, 1 */
	double		prod[2];		/* logistic: pending products, >= 1 */
	int32		nprod[2];		/* rows in them, 0..MLX_LOGREG_PROD_ROWS */
	mlx_linreg_state s;
} GlmPassVar;

#define PASS_HDRSZ offsetof(GlmPassVar, s)

static const char *
pass_what(int family)
{
	return family == MLX_ALG_POISSON_REGRESSION ? "Poisson regression training" :
		"logistic regression training";
}

/* the pending products of a state: as a fresh state has them, or in range */
static bool
products_ok(const GlmPassVar *v)
{
	for (int c = 0; c < 2; c++)
	{
		if (v->family == MLX_ALG_POISSON_REGRESSION)
		{
			if (v->cw[c] != 0 || v->prod[c] != 1 || v->nprod[c] != 0)
				return false;
		}
		else if (!(v->cw[c] > 0) || !isfinite(v->cw[c]) ||
				 v->nprod[c] < 0 || v->nprod[c] >= MLX_LOGREG_PROD_ROWS ||
				 !(v->prod[c] >= 1) || !(v->prod[c] <= ldexp(1.0, MLX_LOGREG_PROD_ROWS)))
			return false;
	}
	return true;
}

/* the log-likelihood of a state with its pending products folded in */
static double
total_loglik(const GlmPassVar *v)
{
	double		ll = v->loglik;

	for (int c = 0; c < 2; c++)
		if (v->nprod[c] > 0)
			ll -= v->cw[c] * log(v->prod[c]);
	return ll;
}

/* fold the pending product of label c into loglik */
static void
fold_product(GlmPassVar *v, int c)
{
	if (v->nprod[c] > 0)
		v->loglik -= v->cw[c] * log(v->prod[c]);
	v->prod[c] = 1;
	v->nprod[c] = 0;
}

/*
 * The per-row check of the state the transition function returned on its
 * previous call (see MlPassCache): what memory safety needs.
 */
static bool
pass_header_ok(const GlmPassVar *v)
{
	return VARSIZE(v) >= PASS_HDRSZ + sizeof(mlx_linreg_state) &&
		v->magic == ML_GLM_PASS_MAGIC &&
		(v->family == MLX_ALG_LOGISTIC_REGRESSION ||
		 v->family == MLX_ALG_POISSON_REGRESSION) &&
		ml_qr_block_usable(&v->s, VARSIZE(v) - PASS_HDRSZ);
}

static GlmPassVar *
pass_arg(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	GlmPassVar *v;
	char		errbuf[256];

	v = (GlmPassVar *) raw;
	errbuf[0] = '\0';
	if (VARSIZE(v) < PASS_HDRSZ + sizeof(mlx_linreg_state) ||
		v->magic != ML_GLM_PASS_MAGIC || v->nprocs < 1 || v->nseen < 0 || v->nwrong < 0 ||
		(v->family != MLX_ALG_LOGISTIC_REGRESSION &&
		 v->family != MLX_ALG_POISSON_REGRESSION) ||
		!(v->family == MLX_ALG_POISSON_REGRESSION ? isfinite(v->loglik) : v->loglik <= 0) ||
		!(v->deviance >= 0) || !isfinite(v->deviance) ||
		!products_ok(v) ||
		mlx_linreg_state_validate(&v->s, VARSIZE(v) - PASS_HDRSZ,
								  errbuf, sizeof(errbuf)) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid IRLS pass state%s%s",
						errbuf[0] ? ": " : "", errbuf)));
	return v;
}

/*
 * The numbers of a state about to go to LAPACK (combine, solve): finite.
 * Not per row: O(p^2).
 */
static void
pass_values_check(const GlmPassVar *v)
{
	char		errbuf[256];

	if (mlx_linreg_state_check_values(&v->s, errbuf, sizeof(errbuf)) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid IRLS pass state: %s", errbuf)));
}

/* the shape of the current model: features, penalty, intercept */
static void
model_shape(const mlx_model *m, int *nfeat, double *lambda, bool *intercept)
{
	if (m->algorithm == MLX_ALG_LOGISTIC_REGRESSION)
	{
		*nfeat = m->u.logreg.nfeat;
		*lambda = m->u.logreg.lambda;
		*intercept = m->u.logreg.intercept;
	}
	else if (m->algorithm == MLX_ALG_POISSON_REGRESSION)
	{
		*nfeat = m->u.poisson.nfeat;
		*lambda = m->u.poisson.lambda;
		*intercept = m->u.poisson.intercept;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the current model of an IRLS pass must be a logistic or Poisson regression model, not %s",
						mlx_algorithm_name(m->algorithm))));
}

/*
 * The state argument of a transition call, checked (or new, shaped by the
 * current model m), and the model's shape checked against it.
 */
static GlmPassVar *
glm_state(FunctionCallInfo fcinfo, MlPassCache *cache, const mlx_model *m)
{
	GlmPassVar *v;
	void	   *last = cache->last;
	double		lambda;
	bool		intercept;
	int			nfeat;

	cache->last = NULL;
	if (PG_ARGISNULL(0))
		v = NULL;
	else if (PG_GETARG_POINTER(0) == last && pass_header_ok((GlmPassVar *) last))
	{
		v = (GlmPassVar *) last;
		/* checked against this very model on the previous row */
		if (cache->last_generation == ml_cached_model_generation(cache->model_slot))
			return v;
	}
	else
		v = pass_arg(PG_GETARG_DATUM(0));
	model_shape(m, &nfeat, &lambda, &intercept);

	if (v == NULL)
	{
		Size		size = mlx_linreg_state_size(nfeat, intercept);

		v = palloc0(PASS_HDRSZ + size);
		SET_VARSIZE(v, PASS_HDRSZ + size);
		v->magic = ML_GLM_PASS_MAGIC;
		v->family = m->algorithm;
		v->nprocs = 1;
		for (int c = 0; c < 2; c++)
		{
			v->cw[c] = m->algorithm == MLX_ALG_LOGISTIC_REGRESSION ?
				m->u.logreg.class_weight[c] : 0;
			v->prod[c] = 1;
		}
		ml_check_status(mlx_linreg_state_init(&v->s, nfeat, lambda, intercept),
						pass_what(m->algorithm));
	}
	else if (v->s.nfeat != nfeat || v->family != m->algorithm ||
			 (m->algorithm == MLX_ALG_LOGISTIC_REGRESSION &&
			  (v->cw[0] != m->u.logreg.class_weight[0] ||
			   v->cw[1] != m->u.logreg.class_weight[1])))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("IRLS pass state does not match the current model (%d features of %s, the model %d of %s)",
						v->s.nfeat, mlx_algorithm_name(v->family), nfeat,
						mlx_algorithm_name(m->algorithm))));
	cache->last_generation = ml_cached_model_generation(cache->model_slot);
	return v;
}

/*
 * The start of a transition call: the pass cache, the current model (of
 * argument model_arg, checked non-NULL by the caller) and the state, the
 * row counted as seen.
 */
static GlmPassVar *
glm_begin(FunctionCallInfo fcinfo, int model_arg, MlPassCache **cache,
		  const mlx_model **m)
{
	GlmPassVar *v;

	*cache = ml_pass_cache(fcinfo);
	*m = ml_cached_model(fcinfo, model_arg, &(*cache)->model_slot);
	v = glm_state(fcinfo, *cache, *m);
	v->nseen++;
	return v;
}

/* A target the current model's family can take, or an error. */
static void
glm_check_y(const mlx_model *m, double y)
{
	if (m->algorithm == MLX_ALG_LOGISTIC_REGRESSION && y != 0 && y != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("logistic regression label must be 0 or 1, not %g", y)));
	if (m->algorithm == MLX_ALG_POISSON_REGRESSION && !(y >= 0 && isfinite(y)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("Poisson regression target must be a finite count >= 0, not %g", y),
				 errhint("Filter such rows out, or map them to NULL to have them skipped.")));
}

/*
 * Fold one row (target y, checked by glm_check_y; v->s.nfeat features at
 * x, any alignment) into the state at the current model m.  xa, when given, is the feature array
 * x came from, for naming a non-finite element.
 */
static void
glm_fold(GlmPassVar *v, const mlx_model *m, double y, const void *x,
		 const MlFloat8Array *xa)
{
	double		eta,
				w,
				z,
				ll = 0,
				fac = 1,
				dev = 0;
	int			bad = 0;
	mlx_status	st;

	if (m->algorithm == MLX_ALG_LOGISTIC_REGRESSION)
	{
		const mlx_logreg_fit *f = &m->u.logreg;

		eta = mlx_logreg_eta(f, x);
		mlx_logreg_working_split(eta, y, v->cw[y == 1 ? 1 : 0], &w, &z, &ll, &fac);
		if (!(y == 1 ? eta > 0 : eta < 0))
			v->nwrong++;
	}
	else
	{
		eta = mlx_poisson_eta(&m->u.poisson, x);
		mlx_poisson_working(eta, y, &w, &z, &ll, &dev);
	}
	st = mlx_linreg_add_row_weighted(&v->s, z, x, w, &ml_pg_ctx, &bad);
	if (st == MLX_ENONFINITE && bad >= 0 && xa != NULL)
		ml_check_finite(xa, "feature array");	/* names the element */
	ml_check_status(st, pass_what(m->algorithm));
	v->loglik += ll;
	v->deviance += dev;
	if (m->algorithm == MLX_ALG_LOGISTIC_REGRESSION)
	{
		int			c = (y == 1) ? 1 : 0;

		v->prod[c] *= fac;
		if (++v->nprod[c] == MLX_LOGREG_PROD_ROWS)
			fold_product(v, c);
	}
}

/* ml._glm_pass_sfunc(state bytea, y float8, x float8[], current bytea) */
PG_FUNCTION_INFO_V1(ml_glm_pass_sfunc);
Datum
ml_glm_pass_sfunc(PG_FUNCTION_ARGS)
{
	MlPassCache *cache;
	GlmPassVar *v;
	const mlx_model *m;
	MlFloat8Array x;

	ml_require_agg(fcinfo, "ml._glm_pass_sfunc");
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the current model of an IRLS pass must not be NULL")));
	v = glm_begin(fcinfo, 3, &cache, &m);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		glm_check_y(m, PG_GETARG_FLOAT8(1));
		ml_float8_array(PG_GETARG_DATUM(2), "feature array", &x);
		if (x.n != v->s.nfeat)
			ml_raise_length_mismatch("feature array", x.n, v->s.nfeat, NULL);
		glm_fold(v, m, PG_GETARG_FLOAT8(1), x.values, &x);
	}
	else
		v->s.nskipped++;
	cache->last = v;
	PG_RETURN_POINTER(v);
}

/*
 * ml._glm_pass_cols_sfunc(state bytea, y float8, current bytea,
 *						   encoder bytea, VARIADIC "any"): the same pass
 * over table columns, encoded by the encoder model as ml._encode_cols
 * would (ml.train's passes); a row without a target is counted as skipped
 * and its columns are not looked at.
 */
PG_FUNCTION_INFO_V1(ml_glm_pass_cols_sfunc);
Datum
ml_glm_pass_cols_sfunc(PG_FUNCTION_ARGS)
{
	MlPassCache *cache;
	GlmPassVar *v;
	const mlx_model *m;
	const mlx_model *enc;
	const void *x;

	ml_require_agg(fcinfo, "ml._glm_pass_cols_sfunc");
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the current model and the encoder of an IRLS pass must not be NULL")));
	v = glm_begin(fcinfo, 2, &cache, &m);
	if (PG_ARGISNULL(1))
		v->s.nskipped++;
	else
	{
		glm_check_y(m, PG_GETARG_FLOAT8(1));
		(void) ml_encode_pass_args(fcinfo, &cache->encoder, 3, 4, false, &enc, &x);
		if (enc->nfeat != v->s.nfeat)
			ml_raise_length_mismatch("encoded row", enc->nfeat, v->s.nfeat, NULL);
		glm_fold(v, m, PG_GETARG_FLOAT8(1), x, NULL);
	}
	cache->last = v;
	PG_RETURN_POINTER(v);
}

/* ml._glm_pass_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_glm_pass_combine);
Datum
ml_glm_pass_combine(PG_FUNCTION_ARGS)
{
	GlmPassVar *a;
	GlmPassVar *b;

	ml_require_agg(fcinfo, "ml._glm_pass_combine");
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
	if (a->s.nfeat != b->s.nfeat || a->family != b->family)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine IRLS pass states of %d features (%s) and %d features (%s)",
						a->s.nfeat, mlx_algorithm_name(a->family),
						b->s.nfeat, mlx_algorithm_name(b->family))));
	CHECK_FOR_INTERRUPTS();
	pass_values_check(a);
	pass_values_check(b);
	if (a->cw[0] != b->cw[0] || a->cw[1] != b->cw[1])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine IRLS pass states of different class weights")));
	ml_check_state_status(mlx_linreg_merge(&a->s, &b->s, &ml_pg_ctx), pass_what(a->family));
	fold_product(a, 0);
	fold_product(a, 1);
	a->loglik += total_loglik(b);
	a->deviance += b->deviance;
	a->nwrong += b->nwrong;
	a->nseen += b->nseen;
	a->nprocs = (a->nprocs > PG_INT32_MAX - b->nprocs) ? PG_INT32_MAX : a->nprocs + b->nprocs;
	PG_RETURN_POINTER(a);
}

/*
 * ml._glm_pass_state_final(state bytea) RETURNS bytea, the final function
 * of ml._glm_pass_state: the state, checked, as a copy of exactly its bytes.
 * Every byte of the state is written by the transition and combine
 * functions (it is allocated zeroed), so this is all of it; the check
 * keeps a hand-made state from passing through as if the pass had
 * produced it.  ml.train's driver reads this value.
 */
PG_FUNCTION_INFO_V1(ml_glm_pass_state_final);
Datum
ml_glm_pass_state_final(PG_FUNCTION_ARGS)
{
	struct varlena *v;
	struct varlena *out;

	ml_require_agg(fcinfo, "ml._glm_pass_state_final");
	v = (struct varlena *) pass_arg(PG_GETARG_DATUM(0));
	out = palloc(VARSIZE(v));
	memcpy(out, v, VARSIZE(v));
	PG_RETURN_POINTER(out);
}

/*
 * ml._glm_pass_final(bytea) RETURNS bytea: the next model.  Coefficients
 * come from the weighted least-squares solve; the statistics are those at
 * the coefficients the pass started from (equal at convergence).  The
 * model carries the pass's log-likelihood (and, for Poisson, deviance);
 * the driver fills in the rest.
 */
PG_FUNCTION_INFO_V1(ml_glm_pass_final);
Datum
ml_glm_pass_final(PG_FUNCTION_ARGS)
{
	bytea	   *next;

	ml_require_agg(fcinfo, "ml._glm_pass_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	next = ml_glm_pass_result(PG_GETARG_DATUM(0), NULL, NULL);
	if (next == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(next);
}

bytea *
ml_glm_pass_result(Datum state, int *nprocs, int64 *nseen)
{
	GlmPassVar *v;
	mlx_linreg_fit wls;
	mlx_model	model;

	v = pass_arg(state);
	if (nprocs != NULL)
		*nprocs = v->nprocs;
	if (nseen != NULL)
		*nseen = v->nseen;
	if (v->s.nrows == 0)
		return NULL;
	CHECK_FOR_INTERRUPTS();
	pass_values_check(v);
	ml_check_state_status(mlx_linreg_solve(&v->s, &ml_pg_ctx, &wls), pass_what(v->family));
	if (v->family == MLX_ALG_LOGISTIC_REGRESSION)
	{
		mlx_logreg_fit fit;

		memset(&fit, 0, sizeof(fit));
		ml_check_status(mlx_logreg_from_wls(&wls, &ml_pg_ctx, &fit), pass_what(v->family));
		fit.nfeat = wls.nfeat;
		fit.intercept = wls.intercept;
		fit.lambda = wls.lambda;
		fit.nrows = wls.nrows;
		fit.nskipped = wls.nskipped;
		fit.loglik = total_loglik(v);
		fit.separation = (v->nwrong == 0);
		fit.loglik_null = NAN;
		fit.deviance = -2 * fit.loglik;
		fit.class_weight[0] = fit.class_weight[1] = 1;
		fit.classes[0] = "0";
		fit.classes[1] = "1";
		ml_check_status(mlx_model_from_logreg(&fit, NULL, &ml_pg_ctx, &model),
						pass_what(v->family));
	}
	else
	{
		mlx_poisson_fit fit;

		memset(&fit, 0, sizeof(fit));
		ml_check_status(mlx_poisson_from_wls(&wls, &ml_pg_ctx, &fit), pass_what(v->family));
		fit.nfeat = wls.nfeat;
		fit.intercept = wls.intercept;
		fit.lambda = wls.lambda;
		fit.nrows = wls.nrows;
		fit.nskipped = wls.nskipped;
		fit.loglik = v->loglik;
		fit.loglik_null = NAN;
		fit.deviance = v->deviance;
		fit.null_deviance = NAN;
		ml_check_status(mlx_model_from_poisson(&fit, NULL, &ml_pg_ctx, &model),
						pass_what(v->family));
	}
	return ml_encode_model(&model);
}
