/*
 * gram.c
 *	  One-pass aggregates over the streaming QR state of linear regression
 *	  that finish with another solver: lasso and elastic net (coordinate
 *	  descent on the centred Gram matrix, src/core/enet.h) and PCA (SVD of
 *	  the centred R factor, src/core/pca.h).
 *
 *	  ml.lasso_fit(y float8, x float8[], alpha float8)
 *	  ml.elastic_net_fit(y float8, x float8[], alpha float8, l1_ratio float8)
 *	  ml.pca_fit(x float8[] [, n_components int])
 *
 * Rows are folded exactly as ml.linreg_fit folds them (intercept column
 * first, no ridge term; PCA folds y = 0), so the state size depends only
 * on the feature count, states merge by TSQR, and every aggregate is a
 * parallel one.  The state is a flat bytea, validated on every read:
 *
 *	  int32 varlena header | uint32 magic | int32 kind | int32 ncomp |
 *	  int32 max_iter | int32 pad (0) | int32 pad (0) | double alpha |
 *	  double l1_ratio | double tol | mlx_linreg_state ...
 *
 * The solver settings travel in the state because a final function sees
 * nothing else; every row must give the same settings.  A state whose
 * linreg part has nfeat = 0 has seen no usable row yet and only counts
 * skipped rows (NULL target or features).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "core/enet.h"
#include "core/linreg.h"
#include "core/pca.h"
#include "pg/ml_pg.h"

#define ML_GRAM_STATE_MAGIC 0x4D4C5847	/* "MLXG" */

/* what the state is for (never renumber: states cross processes) */
#define GRAM_LASSO 1
#define GRAM_ENET 2
#define GRAM_PCA 3

/* defaults of the aggregate forms (ml.train passes its own) */
#define ENET_DEFAULT_MAX_ITER 10000
#define ENET_DEFAULT_TOL 1e-10

typedef struct GramVar
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint32		magic;
	int32		kind;			/* GRAM_* */
	int32		ncomp;			/* PCA: components asked for, 0 = all */
	int32		max_iter;		/* elastic net: sweeps at most */
	int32		pad1;
	int32		pad2;
	double		alpha;
	double		l1_ratio;
	double		tol;
	mlx_linreg_state s;
} GramVar;

#define GRAM_HDRSZ offsetof(GramVar, s)

/* settings of one aggregate call, compared row by row */
typedef struct GramSettings
{
	int32		kind;
	int32		ncomp;
	int32		max_iter;
	double		alpha;
	double		l1_ratio;
	double		tol;
} GramSettings;

static const char *
gram_what(int kind)
{
	switch (kind)
	{
		case GRAM_LASSO:
			return "lasso training";
		case GRAM_ENET:
			return "elastic net training";
		default:
			return "PCA training";
	}
}

static void
raise_bad_state(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid lasso, elastic net or PCA aggregate state: %s", why),
			 errhint("The state was not produced by the transition function of ml.lasso_fit, ml.elastic_net_fit or ml.pca_fit.")));
}

static bool
settings_valid(const GramSettings *g)
{
	if (g->kind == GRAM_PCA)
		return g->ncomp >= 0 && g->ncomp <= MLX_LINREG_MAX_FEATURES;
	return (g->kind == GRAM_LASSO || g->kind == GRAM_ENET) &&
		isfinite(g->alpha) && g->alpha >= 0 &&
		g->l1_ratio >= 0 && g->l1_ratio <= 1 &&
		(g->kind != GRAM_LASSO || g->l1_ratio == 1) &&
		g->max_iter >= 1 && g->max_iter <= 1000000 &&
		g->tol > 0 && g->tol < 1;
}

static GramSettings
var_settings(const GramVar *v)
{
	GramSettings g;

	g.kind = v->kind;
	g.ncomp = v->ncomp;
	g.max_iter = v->max_iter;
	g.alpha = v->alpha;
	g.l1_ratio = v->l1_ratio;
	g.tol = v->tol;
	return g;
}

static bool
settings_equal(const GramSettings *a, const GramSettings *b)
{
	return a->kind == b->kind && a->ncomp == b->ncomp &&
		a->max_iter == b->max_iter && a->alpha == b->alpha &&
		a->l1_ratio == b->l1_ratio && a->tol == b->tol;
}

/* Fresh state in CurrentMemoryContext: empty (nfeat 0) or sized for nfeat. */
static GramVar *
gram_var_new(int nfeat, const GramSettings *g)
{
	Size		body;
	GramVar    *v;

	if (nfeat == 0)
		body = sizeof(mlx_linreg_state);
	else
	{
		body = mlx_linreg_state_size(nfeat, true);
		if (body == 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("feature array has %d elements, at most %d are supported",
							nfeat, MLX_LINREG_MAX_FEATURES)));
	}
	v = palloc0(GRAM_HDRSZ + body);
	SET_VARSIZE(v, GRAM_HDRSZ + body);
	v->magic = ML_GRAM_STATE_MAGIC;
	v->kind = g->kind;
	v->ncomp = g->ncomp;
	v->max_iter = g->max_iter;
	v->alpha = g->alpha;
	v->l1_ratio = g->l1_ratio;
	v->tol = g->tol;
	if (nfeat == 0)
	{
		v->s.version = MLX_LINREG_STATE_VERSION;
		v->s.flags = MLX_LINREG_F_INTERCEPT;
	}
	else
		ml_check_status(mlx_linreg_state_init(&v->s, nfeat, 0.0, true),
						gram_what(g->kind));
	return v;
}

/*
 * PCA's feature limit (core/pca.h: the final SVD cannot be interrupted, so
 * its size is bounded), checked at the first row and again before the SVD.
 */
static void
pca_check_width(int nfeat)
{
	if (nfeat > MLX_PCA_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("PCA takes at most %d features, the feature array has %d",
						MLX_PCA_MAX_FEATURES, nfeat),
				 errdetail("The final singular value decomposition cannot be canceled while it runs; the limit keeps it to about half a second."),
				 errhint("Select fewer columns for PCA.")));
}

/*
 * A usable state from an argument: in-line, 8-byte aligned (detoasted or
 * copied when it is not), and validated.
 */
static GramVar *
gram_var_arg(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	GramVar    *v;
	Size		size;
	GramSettings g;

	v = (GramVar *) raw;
	size = VARSIZE(v);
	if (size < GRAM_HDRSZ + sizeof(mlx_linreg_state) ||
		v->magic != ML_GRAM_STATE_MAGIC || v->pad1 != 0 || v->pad2 != 0)
		raise_bad_state("bad header");
	g = var_settings(v);
	if (!settings_valid(&g))
		raise_bad_state("bad settings");
	if (v->s.nfeat == 0)
	{
		if (size != GRAM_HDRSZ + sizeof(mlx_linreg_state) ||
			v->s.version != MLX_LINREG_STATE_VERSION ||
			v->s.flags != MLX_LINREG_F_INTERCEPT || v->s.lambda != 0 ||
			v->s.nrows != 0 || v->s.nbuf != 0 || v->s.nskipped < 0)
			raise_bad_state("inconsistent empty state");
	}
	else
	{
		char		errbuf[256];

		errbuf[0] = '\0';
		if (mlx_linreg_state_validate(&v->s, size - GRAM_HDRSZ,
									  errbuf, sizeof(errbuf)) != MLX_OK)
			raise_bad_state(errbuf[0] ? errbuf : "validation failed");
		if (!(v->s.flags & MLX_LINREG_F_INTERCEPT) || v->s.lambda != 0)
			raise_bad_state("the state must have an intercept column and no ridge term");
	}
	return v;
}

/*
 * The numbers of a state a combine or final function is about to hand to
 * LAPACK: finite (NaN makes LAPACK fail).  Not per row: O(p^2).
 */
static void
gram_values_check(const GramVar *v)
{
	char		errbuf[256];

	if (v->s.nfeat > 0 &&
		mlx_linreg_state_check_values(&v->s, errbuf, sizeof(errbuf)) != MLX_OK)
		raise_bad_state(errbuf);
}

static double
float8_setting(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return PG_GETARG_FLOAT8(argno);
}

/* The settings of an elastic net call: sfunc(state, y, x, alpha [, l1_ratio [, max_iter, tol]]) */
static GramSettings
enet_settings(FunctionCallInfo fcinfo)
{
	GramSettings g;

	memset(&g, 0, sizeof(g));
	g.kind = PG_NARGS() >= 5 ? GRAM_ENET : GRAM_LASSO;
	g.alpha = float8_setting(fcinfo, 3, "alpha");
	g.l1_ratio = PG_NARGS() >= 5 ? float8_setting(fcinfo, 4, "l1_ratio") : 1.0;
	g.max_iter = ENET_DEFAULT_MAX_ITER;
	g.tol = ENET_DEFAULT_TOL;
	if (PG_NARGS() >= 7)
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("max_iter must not be NULL")));
		g.max_iter = PG_GETARG_INT32(5);
		g.tol = float8_setting(fcinfo, 6, "tol");
	}
	if (!isfinite(g.alpha) || g.alpha < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be a finite number >= 0, not %g", g.alpha)));
	if (!(g.l1_ratio >= 0 && g.l1_ratio <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("l1_ratio must be between 0 and 1, not %g", g.l1_ratio),
				 errhint("1 is the lasso, 0 ridge regression.")));
	if (g.max_iter < 1 || g.max_iter > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_iter must be from 1 to 1000000, not %d", g.max_iter)));
	if (!(g.tol > 0 && g.tol < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tol must be greater than 0 and less than 1, not %g", g.tol)));
	return g;
}

/* Fold one usable row (y finite, x checked by the core) into the state. */
static GramVar *
gram_add(GramVar *v, const GramSettings *g, double y, Datum xdatum)
{
	MlFloat8Array x;
	int			bad = 0;
	mlx_status	st;

	ml_float8_array(xdatum, "feature array", &x);
	if (v == NULL || v->s.nfeat == 0)
	{
		GramVar    *nv;

		if (g->kind == GRAM_PCA)
			pca_check_width(x.n);
		nv = gram_var_new(x.n, g);

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
	if (g->kind == GRAM_PCA && g->ncomp > x.n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components is %d, but the rows have only %d features", g->ncomp, x.n),
				 errhint("Ask for at most as many components as there are features.")));
	st = mlx_linreg_add_row(&v->s, y, x.values, &ml_pg_ctx, &bad);
	if (st == MLX_ENONFINITE)
		ml_check_finite(&x, "feature array");	/* names the element */
	ml_check_state_status(st, gram_what(g->kind));
	return v;
}

static GramVar *
gram_start(FunctionCallInfo fcinfo, const GramSettings *g)
{
	GramVar    *v = PG_ARGISNULL(0) ? NULL : gram_var_arg(PG_GETARG_DATUM(0));

	if (v != NULL)
	{
		GramSettings old = var_settings(v);

		if (!settings_equal(&old, g))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the settings (alpha, l1_ratio, n_components) must be the same for every row of a group")));
	}
	return v;
}

/*
 * ml._enet_sfunc(state bytea, y float8, x float8[], alpha float8
 *				  [, l1_ratio float8 [, max_iter int, tol float8]])
 */
PG_FUNCTION_INFO_V1(ml_enet_sfunc);
Datum
ml_enet_sfunc(PG_FUNCTION_ARGS)
{
	GramSettings g;
	GramVar    *v;
	double		y;

	ml_require_agg(fcinfo, "ml._enet_sfunc");
	g = enet_settings(fcinfo);
	v = gram_start(fcinfo, &g);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			v = gram_var_new(0, &g);
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
	PG_RETURN_POINTER(gram_add(v, &g, y, PG_GETARG_DATUM(2)));
}

/* ml._pca_sfunc(state bytea, x float8[] [, n_components int]) */
PG_FUNCTION_INFO_V1(ml_pca_sfunc);
Datum
ml_pca_sfunc(PG_FUNCTION_ARGS)
{
	GramSettings g;
	GramVar    *v;

	ml_require_agg(fcinfo, "ml._pca_sfunc");
	memset(&g, 0, sizeof(g));
	g.kind = GRAM_PCA;
	if (PG_NARGS() >= 3)
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("n_components must not be NULL")));
		g.ncomp = PG_GETARG_INT32(2);
		if (g.ncomp < 1 || g.ncomp > MLX_LINREG_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("n_components must be from 1 to %d, not %d",
							MLX_LINREG_MAX_FEATURES, g.ncomp)));
	}
	v = gram_start(fcinfo, &g);
	if (PG_ARGISNULL(1))
	{
		if (v == NULL)
			v = gram_var_new(0, &g);
		v->s.nskipped++;
		PG_RETURN_POINTER(v);
	}
	PG_RETURN_POINTER(gram_add(v, &g, 0.0, PG_GETARG_DATUM(1)));
}

/* ml._gram_combine(bytea, bytea): merge two partial states (TSQR) */
PG_FUNCTION_INFO_V1(ml_gram_combine);
Datum
ml_gram_combine(PG_FUNCTION_ARGS)
{
	GramVar    *a;
	GramVar    *b;
	GramSettings ga,
				gb;

	ml_require_agg(fcinfo, "ml._gram_combine");
	a = PG_ARGISNULL(0) ? NULL : gram_var_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : gram_var_arg(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);
	ga = var_settings(a);
	gb = var_settings(b);
	if (!settings_equal(&ga, &gb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the settings (alpha, l1_ratio, n_components) must be the same for every row of a group")));
	if (b->s.nfeat == 0)
	{
		a->s.nskipped += b->s.nskipped;
		PG_RETURN_POINTER(a);
	}
	if (a->s.nfeat == 0)
	{
		GramVar    *result = palloc(VARSIZE(b));

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
	gram_values_check(a);
	gram_values_check(b);
	ml_check_state_status(mlx_linreg_merge(&a->s, &b->s, &ml_pg_ctx), gram_what(a->kind));
	PG_RETURN_POINTER(a);
}

static bytea *
enet_model(GramVar *v)
{
	mlx_enet_fit fit;
	mlx_model	model;
	mlx_status	st;

	st = mlx_enet_from_state(&v->s, v->alpha, v->l1_ratio, v->max_iter, v->tol,
							 &ml_pg_ctx, &fit);
	if (st == MLX_EINTR)
		CHECK_FOR_INTERRUPTS();
	ml_check_state_status(st, gram_what(v->kind));
	if (!fit.converged)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s did not converge in %d coordinate-descent sweeps",
						v->kind == GRAM_LASSO ? "lasso" : "elastic net", fit.iterations),
				 errdetail("The duality gap is %g.", fit.dual_gap),
				 errhint("Raise max_iter, loosen tol, or scale the features; a very small alpha converges slowly.")));
	ml_check_status(mlx_model_from_enet(&fit,
										v->kind == GRAM_LASSO ? MLX_ALG_LASSO : MLX_ALG_ELASTIC_NET,
										NULL, &ml_pg_ctx, &model),
					gram_what(v->kind));
	return ml_encode_model(&model);
}

static bytea *
pca_model(GramVar *v)
{
	mlx_pca_fit fit;
	mlx_model	model;
	mlx_status	st;
	int			ncomp = v->ncomp;

	pca_check_width(v->s.nfeat);
	if (v->s.nrows < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("PCA needs at least 2 rows, got " INT64_FORMAT, v->s.nrows)));
	if (ncomp == 0)
		ncomp = (int) Min((int64) v->s.nfeat, v->s.nrows);
	if (ncomp > v->s.nrows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components is %d, but there are only " INT64_FORMAT " rows",
						ncomp, v->s.nrows),
				 errhint("Ask for at most as many components as there are rows.")));
	st = mlx_pca_from_state(&v->s, ncomp, &ml_pg_ctx, &fit);
	if (st == MLX_EINTR)
		CHECK_FOR_INTERRUPTS();
	ml_check_state_status(st, gram_what(v->kind));
	ml_check_status(mlx_model_from_pca(&fit, NULL, &ml_pg_ctx, &model),
					gram_what(v->kind));
	return ml_encode_model(&model);
}

/* ml._gram_final(bytea) RETURNS bytea: solve and encode the model */
PG_FUNCTION_INFO_V1(ml_gram_final);
Datum
ml_gram_final(PG_FUNCTION_ARGS)
{
	GramVar    *v;

	ml_require_agg(fcinfo, "ml._gram_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v = gram_var_arg(PG_GETARG_DATUM(0));
	if (v->s.nfeat == 0 || v->s.nrows == 0)
		PG_RETURN_NULL();		/* no usable rows */
	CHECK_FOR_INTERRUPTS();
	gram_values_check(v);
	if (v->kind == GRAM_PCA)
		PG_RETURN_BYTEA_P(pca_model(v));
	PG_RETURN_BYTEA_P(enet_model(v));
}
