/*
 * nbayes.c
 *	  Naive Bayes as a one-pass parallel aggregate:
 *
 *	  ml.naive_bayes_fit(class int, x float8[], n_classes int
 *						 [, distribution text]) RETURNS bytea
 *
 * Classes are numbered 0 .. n_classes - 1 (the model's labels are those
 * numbers as text; ml.train trains through the same aggregate and puts the
 * target's own labels in).  Per-class counts, means and squared deviations
 * (Gaussian) or feature sums (multinomial) merge exactly, so the pass runs
 * in parallel workers (src/core/nbayes.h).  The state is a flat bytea:
 *
 *	  int32 varlena header | uint32 magic | double var_smoothing |
 *	  double alpha | mlx_nb_state ...
 *
 * A state whose mlx_nb_state has nfeat = 0 has seen no usable row yet and
 * only counts skipped rows (NULL class or features).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "core/nbayes.h"
#include "pg/ml_pg.h"

#define ML_NB_STATE_MAGIC 0x4D4C584E	/* "MLXN" */

/* scikit-learn's defaults */
#define NB_DEFAULT_VAR_SMOOTHING 1e-9
#define NB_DEFAULT_ALPHA 1.0

typedef struct NbVar
{
	int32		vl_len_;
	uint32		magic;
	double		var_smoothing;
	double		alpha;
	mlx_nb_state s;
} NbVar;

#define NB_HDRSZ offsetof(NbVar, s)

static const char *const nb_what = "naive Bayes training";

static void
raise_bad_state(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid naive Bayes aggregate state: %s", why),
			 errhint("The state was not produced by the transition function of ml.naive_bayes_fit.")));
}

static NbVar *
nb_var_arg(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	NbVar	   *v;
	Size		size;

	v = (NbVar *) raw;
	size = VARSIZE(v);
	if (size < NB_HDRSZ + sizeof(mlx_nb_state) || v->magic != ML_NB_STATE_MAGIC ||
		!(v->var_smoothing >= 0) || !isfinite(v->var_smoothing) ||
		!(v->alpha > 0) || !isfinite(v->alpha))
		raise_bad_state("bad header");
	if (v->s.nfeat == 0)
	{
		if (size != NB_HDRSZ + sizeof(mlx_nb_state) ||
			v->s.version != MLX_NB_STATE_VERSION ||
			(v->s.distribution != MLX_NB_GAUSSIAN && v->s.distribution != MLX_NB_MULTINOMIAL) ||
			v->s.nclasses < 2 || v->s.nclasses > MLX_NB_MAX_CLASSES ||
			v->s.nrows != 0 || v->s.nskipped < 0)
			raise_bad_state("inconsistent empty state");
	}
	else
	{
		char		errbuf[256];

		errbuf[0] = '\0';
		if (mlx_nb_state_validate(&v->s, size - NB_HDRSZ, errbuf, sizeof(errbuf)) != MLX_OK)
			raise_bad_state(errbuf[0] ? errbuf : "validation failed");
	}
	return v;
}

static NbVar *
nb_var_new(int distribution, int nclasses, int nfeat, double var_smoothing,
		   double alpha)
{
	Size		body;
	NbVar	   *v;

	if (nfeat == 0)
		body = sizeof(mlx_nb_state);
	else
	{
		body = mlx_nb_state_size(distribution, nclasses, nfeat);
		if (body == 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("naive Bayes with %d classes of %d features is too large", nclasses, nfeat),
					 errdetail("At most %d classes and %d features are supported.",
							   MLX_NB_MAX_CLASSES, MLX_NB_MAX_FEATURES)));
	}
	v = palloc0(NB_HDRSZ + body);
	SET_VARSIZE(v, NB_HDRSZ + body);
	v->magic = ML_NB_STATE_MAGIC;
	v->var_smoothing = var_smoothing;
	v->alpha = alpha;
	if (nfeat == 0)
	{
		v->s.version = MLX_NB_STATE_VERSION;
		v->s.distribution = (uint8_t) distribution;
		v->s.nclasses = nclasses;
	}
	else
		ml_check_status(mlx_nb_state_init(&v->s, distribution, nclasses, nfeat), nb_what);
	return v;
}

static int
distribution_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *d;

	if (PG_NARGS() <= argno)
		return MLX_NB_GAUSSIAN;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("distribution must not be NULL")));
	d = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(d, "gaussian") == 0)
		return MLX_NB_GAUSSIAN;
	if (strcmp(d, "multinomial") == 0)
		return MLX_NB_MULTINOMIAL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown naive Bayes distribution \"%s\"", d),
			 errhint("Use \"gaussian\" (real-valued features) or \"multinomial\" (counts).")));
	return 0;					/* keep compiler quiet */
}

static double
float8_setting(FunctionCallInfo fcinfo, int argno, const char *name, double dflt)
{
	if (PG_NARGS() <= argno)
		return dflt;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return PG_GETARG_FLOAT8(argno);
}

/*
 * ml._naive_bayes_sfunc(state bytea, class int, x float8[], n_classes int
 *						 [, distribution text [, var_smoothing float8,
 *						 alpha float8]])
 */
PG_FUNCTION_INFO_V1(ml_naive_bayes_sfunc);
Datum
ml_naive_bayes_sfunc(PG_FUNCTION_ARGS)
{
	NbVar	   *v;
	int			nclasses;
	int			distribution;
	double		var_smoothing,
				alpha;
	int			cls;
	MlFloat8Array x;
	int			bad = 0;
	mlx_status	st;

	ml_require_agg(fcinfo, "ml._naive_bayes_sfunc");
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("n_classes must not be NULL")));
	nclasses = PG_GETARG_INT32(3);
	if (nclasses < 2 || nclasses > MLX_NB_MAX_CLASSES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_classes must be from 2 to %d, not %d", MLX_NB_MAX_CLASSES, nclasses)));
	distribution = distribution_arg(fcinfo, 4);
	var_smoothing = float8_setting(fcinfo, 5, "var_smoothing", NB_DEFAULT_VAR_SMOOTHING);
	alpha = float8_setting(fcinfo, 6, "alpha", NB_DEFAULT_ALPHA);
	if (!(var_smoothing >= 0) || !isfinite(var_smoothing))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("var_smoothing must be a finite number >= 0, not %g", var_smoothing)));
	if (!(alpha > 0) || !isfinite(alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be a finite number > 0, not %g", alpha)));

	v = PG_ARGISNULL(0) ? NULL : nb_var_arg(PG_GETARG_DATUM(0));
	if (v != NULL && (v->s.nclasses != nclasses || v->s.distribution != distribution ||
					  v->var_smoothing != var_smoothing || v->alpha != alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_classes, distribution, var_smoothing and alpha must be the same for every row of a group")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			v = nb_var_new(distribution, nclasses, 0, var_smoothing, alpha);
		v->s.nskipped++;
		PG_RETURN_POINTER(v);
	}
	cls = PG_GETARG_INT32(1);
	if (cls < 0 || cls >= nclasses)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("class %d is out of range: classes are numbered 0 to %d", cls, nclasses - 1)));
	ml_float8_array(PG_GETARG_DATUM(2), "feature array", &x);
	if (v == NULL || v->s.nfeat == 0)
	{
		NbVar	   *nv = nb_var_new(distribution, nclasses, x.n, var_smoothing, alpha);

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
	st = mlx_nb_state_add(&v->s, cls, x.values, &bad);
	if (st == MLX_ENONFINITE)
		ml_check_finite(&x, "feature array");	/* names the element */
	if (st == MLX_EINVAL && bad >= 0 && bad < x.n)
	{
		double		val;

		memcpy(&val, x.values + (Size) bad * sizeof(double), sizeof(double));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature array element %d is negative (%g), but multinomial naive Bayes needs counts >= 0",
						bad + 1, val),
				 errhint("Use distribution \"gaussian\" for real-valued features.")));
	}
	ml_check_status(st, nb_what);
	PG_RETURN_POINTER(v);
}

/* ml._naive_bayes_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_naive_bayes_combine);
Datum
ml_naive_bayes_combine(PG_FUNCTION_ARGS)
{
	NbVar	   *a;
	NbVar	   *b;

	ml_require_agg(fcinfo, "ml._naive_bayes_combine");
	a = PG_ARGISNULL(0) ? NULL : nb_var_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : nb_var_arg(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);
	if (a->s.nclasses != b->s.nclasses || a->s.distribution != b->s.distribution ||
		a->var_smoothing != b->var_smoothing || a->alpha != b->alpha)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_classes, distribution, var_smoothing and alpha must be the same for every row of a group")));
	if (b->s.nfeat == 0)
	{
		a->s.nskipped += b->s.nskipped;
		PG_RETURN_POINTER(a);
	}
	if (a->s.nfeat == 0)
	{
		NbVar	   *result = palloc(VARSIZE(b));

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
	ml_check_status(mlx_nb_state_merge(&a->s, &b->s), nb_what);
	PG_RETURN_POINTER(a);
}

/* ml._naive_bayes_final(bytea) RETURNS bytea: the model, classes "0".."n-1" */
PG_FUNCTION_INFO_V1(ml_naive_bayes_final);
Datum
ml_naive_bayes_final(PG_FUNCTION_ARGS)
{
	NbVar	   *v;
	mlx_nb_fit	fit;
	mlx_model	model;
	char	  **labels;
	const int64_t *counts;

	ml_require_agg(fcinfo, "ml._naive_bayes_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v = nb_var_arg(PG_GETARG_DATUM(0));
	if (v->s.nfeat == 0 || v->s.nrows == 0)
		PG_RETURN_NULL();
	/* the counts follow the header (nbayes.h) */
	counts = (const int64_t *) ((const char *) &v->s + sizeof(mlx_nb_state));
	for (int c = 0; c < v->s.nclasses; c++)
		if (counts[c] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class %d has no rows, but n_classes is %d", c, v->s.nclasses),
					 errhint("Every class from 0 to n_classes - 1 needs at least one row.")));
	labels = palloc(sizeof(char *) * v->s.nclasses);
	for (int c = 0; c < v->s.nclasses; c++)
		labels[c] = psprintf("%d", c);
	CHECK_FOR_INTERRUPTS();
	ml_check_status(mlx_nb_from_state(&v->s, v->var_smoothing, v->alpha, labels,
									  &ml_pg_ctx, &fit), nb_what);
	ml_check_status(mlx_model_from_nbayes(&fit, NULL, &ml_pg_ctx, &model), nb_what);
	PG_RETURN_BYTEA_P(ml_encode_model(&model));
}
