/*
 * metrics.c
 *	  Evaluation-metric aggregates: ml.r2, ml.mse, ml.rmse, ml.mae,
 *	  ml.explained_variance, ml.accuracy, ml.precision, ml.recall, ml.f1,
 *	  ml.log_loss and ml.roc_auc: transition, combine and final functions.
 *
 * Every transition state is a plain bytea (not internal), so partial
 * states cross process and node boundaries as ordinary values.  Its body is
 * one of the core's flat state blocks (src/core/metrics.h), preceded by a
 * magic number naming the state family that keeps the block 8-byte aligned:
 *
 *	  int32 varlena header | uint32 magic | core block (version byte first)
 *
 * States are updated in place.  Two of them grow: the confusion table (new
 * labels) and the ROC AUC score array (every row).  Growth builds a bigger
 * copy in CurrentMemoryContext (the per-call context) and returns it;
 * nodeAgg sees a different pointer, datumCopy()s it into the aggregate
 * context once and frees the old state (ExecAggTransReparent).  Capacities
 * double, so a state of n rows is copied O(log n) times and O(n) bytes in
 * all; allocating the copy in the aggregate context ourselves would only
 * leak it, since nodeAgg copies a changed pointer regardless.
 *
 * Anyone can build an aggregate from these support functions with a
 * hand-made initial state, so every incoming state is checked before use:
 * fixed-size states fully, growing states structurally in O(1) per row
 * (every later access is bounds-checked) and fully in combine and final.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "core/metrics.h"
#include "pg/ml_pg.h"

#define ML_REG_MAGIC	0x4D4C5852	/* "MLXR" regression moments */
#define ML_CONF_MAGIC	0x4D4C5843	/* "MLXC" confusion table */
#define ML_BIN_MAGIC	0x4D4C5842	/* "MLXB" binary 2x2 table */
#define ML_LOGL_MAGIC	0x4D4C584C	/* "MLXL" log loss */
#define ML_AUC_MAGIC	0x4D4C5841	/* "MLXA" ROC AUC scores */

typedef struct MetricsVar
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint32		magic;
	/* core state block follows, 8-byte aligned */
} MetricsVar;

#define MV_HDRSZ sizeof(MetricsVar)
#define MV_BODY(v) ((void *) ((char *) (v) + MV_HDRSZ))
#define MV_BODYSIZE(v) ((size_t) VARSIZE(v) - MV_HDRSZ)

pg_noreturn static void raise_bad_state(const char *what, const char *why);
pg_noreturn static void raise_overflow(void);
pg_noreturn static void raise_too_many_labels(void);

static void
raise_bad_state(const char *what, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid %s aggregate state: %s", what, why),
			 errhint("The state was not produced by an ml_ext metric transition function.")));
}

/* A fresh zeroed state of 'body' bytes in CurrentMemoryContext. */
static MetricsVar *
mv_new(uint32 magic, size_t body)
{
	MetricsVar *v = palloc0(MV_HDRSZ + body);

	SET_VARSIZE(v, MV_HDRSZ + body);
	v->magic = magic;
	return v;
}

/*
 * A state argument in-line, with a 4-byte header and 8-byte aligned
 * (detoasting or copying when it is not), with a known magic.  The body is
 * checked by the caller.
 */
static MetricsVar *
mv_arg(Datum d, const char *what)
{
	struct varlena *raw = ml_state_arg(d);
	MetricsVar *v;

	v = (MetricsVar *) raw;
	if (VARSIZE(v) < MV_HDRSZ + 8)
		raise_bad_state(what, "too short");
	if (v->magic != ML_REG_MAGIC && v->magic != ML_CONF_MAGIC &&
		v->magic != ML_BIN_MAGIC && v->magic != ML_LOGL_MAGIC &&
		v->magic != ML_AUC_MAGIC)
		raise_bad_state(what, "bad header");
	return v;
}

static MetricsVar *
mv_arg_magic(Datum d, uint32 magic, const char *what)
{
	MetricsVar *v = mv_arg(d, what);

	if (v->magic != magic)
		raise_bad_state(what, "a state of another kind of metric");
	return v;
}

static void
check_state(mlx_status st, const char *what, const char *errbuf)
{
	if (st != MLX_OK)
		raise_bad_state(what, errbuf[0] ? errbuf : "validation failed");
}

/* 22000 for NaN/Infinity, naming the argument */
static void
require_finite(double x, const char *argname)
{
	if (!isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s value is %s", argname,
						isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity")),
				 errhint("Filter such rows out, or map them to NULL to have them ignored.")));
}

/* ================================================================ regression */

static const char *const reg_what = "regression metric";

static mlx_regmoments *
reg_state(Datum d)
{
	MetricsVar *v = mv_arg_magic(d, ML_REG_MAGIC, reg_what);
	char		errbuf[256] = "";

	check_state(mlx_regmoments_validate(MV_BODY(v), MV_BODYSIZE(v), errbuf,
										sizeof(errbuf)), reg_what, errbuf);
	return MV_BODY(v);
}

static void
raise_overflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("regression metric overflows the float8 range"),
			 errdetail("A residual or a sum of squared deviations is larger than the largest float8.")));
}

/* ml.regression_metrics_sfunc(state bytea, actual float8, predicted float8) */
PG_FUNCTION_INFO_V1(ml_regression_metrics_sfunc);
Datum
ml_regression_metrics_sfunc(PG_FUNCTION_ARGS)
{
	MetricsVar *v = NULL;
	double		y,
				yhat;

	ml_require_agg(fcinfo, "ml.regression_metrics_sfunc");
	if (!PG_ARGISNULL(0))
		v = (MetricsVar *) ((char *) reg_state(PG_GETARG_DATUM(0)) - MV_HDRSZ);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(v);
	}
	y = PG_GETARG_FLOAT8(1);
	yhat = PG_GETARG_FLOAT8(2);
	require_finite(y, "actual");
	require_finite(yhat, "predicted");
	if (v == NULL)
	{
		v = mv_new(ML_REG_MAGIC, sizeof(mlx_regmoments));
		mlx_regmoments_init(MV_BODY(v));
	}
	if (mlx_regmoments_add(MV_BODY(v), y, yhat) != MLX_OK)
		raise_overflow();
	PG_RETURN_POINTER(v);
}

/* ml.regression_metrics_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_regression_metrics_combine);
Datum
ml_regression_metrics_combine(PG_FUNCTION_ARGS)
{
	mlx_regmoments *a;
	mlx_regmoments *b;

	ml_require_agg(fcinfo, "ml.regression_metrics_combine");
	a = PG_ARGISNULL(0) ? NULL : reg_state(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : reg_state(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER((char *) a - MV_HDRSZ);
	}
	if (a == NULL)
		PG_RETURN_POINTER((char *) b - MV_HDRSZ);	/* nodeAgg copies it */
	if (mlx_regmoments_merge(a, b) != MLX_OK)
		raise_overflow();
	PG_RETURN_POINTER((char *) a - MV_HDRSZ);
}

/* false when there were no rows */
static bool
reg_result(FunctionCallInfo fcinfo, const char *fname, mlx_regression_metrics *m)
{
	ml_require_agg(fcinfo, fname);
	if (PG_ARGISNULL(0))
		return false;
	return mlx_regmoments_result(reg_state(PG_GETARG_DATUM(0)), m) == MLX_OK;
}

#define REG_FINAL(sqlname, cname, field) \
PG_FUNCTION_INFO_V1(cname); \
Datum \
cname(PG_FUNCTION_ARGS) \
{ \
	mlx_regression_metrics m; \
\
	if (!reg_result(fcinfo, sqlname, &m)) \
		PG_RETURN_NULL(); \
	PG_RETURN_FLOAT8(m.field); \
}

/* ml.r2_final(bytea): 1 - SSE/SST, NaN for one row (as scikit-learn) */
REG_FINAL("ml.r2_final", ml_r2_final, r2)
/* ml.mse_final(bytea) */
REG_FINAL("ml.mse_final", ml_mse_final, mse)
/* ml.rmse_final(bytea) */
REG_FINAL("ml.rmse_final", ml_rmse_final, rmse)
/* ml.mae_final(bytea) */
REG_FINAL("ml.mae_final", ml_mae_final, mae)
/* ml.explained_variance_final(bytea): 1 - Var(e)/Var(y) */
REG_FINAL("ml.explained_variance_final", ml_explained_variance_final,
		  explained_variance)

/* ================================================================ classification */

static const char *const class_what = "classification metric";

/* a confusion table state: O(1) structural check, or the full one */
static mlx_confusion *
conf_state(MetricsVar *v, bool full)
{
	char		errbuf[256] = "";
	mlx_status	st;

	st = full ? mlx_confusion_validate(MV_BODY(v), MV_BODYSIZE(v), errbuf, sizeof(errbuf))
		: mlx_confusion_check(MV_BODY(v), MV_BODYSIZE(v), errbuf, sizeof(errbuf));
	check_state(st, class_what, errbuf);
	return MV_BODY(v);
}

static mlx_binconf *
bin_state(MetricsVar *v)
{
	char		errbuf[256] = "";

	check_state(mlx_binconf_validate(MV_BODY(v), MV_BODYSIZE(v), errbuf,
									 sizeof(errbuf)), class_what, errbuf);
	return MV_BODY(v);
}

static void
check_label_length(size_t len, const char *argname)
{
	if (len > MLX_CONF_MAX_LABEL_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s label is %zu bytes long, at most %d are supported",
						argname, len, MLX_CONF_MAX_LABEL_BYTES)));
}

static void
raise_too_many_labels(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("too many distinct labels: at most %d are supported",
					MLX_CONF_MAX_LABELS),
			 errdetail("The actual and predicted values of a group together have more than %d distinct labels.",
					   MLX_CONF_MAX_LABELS),
			 errhint("Classification metrics count a confusion table of labels; check that the arguments are class labels, not identifiers or scores.")));
}

/* A copy of v with room for extra labels/text, in CurrentMemoryContext. */
static MetricsVar *
conf_grow(MetricsVar *v, uint32 extra_labels, size_t extra_text)
{
	mlx_confusion *s = MV_BODY(v);
	uint32		cap,
				tcap;
	MetricsVar *nv;

	if (mlx_confusion_grown_caps(s, extra_labels, extra_text, &cap, &tcap) != MLX_OK)
		raise_too_many_labels();
	nv = mv_new(ML_CONF_MAGIC, mlx_confusion_size(cap, tcap));
	if (mlx_confusion_copy(MV_BODY(nv), cap, tcap, s) != MLX_OK)
		elog(ERROR, "could not grow a confusion table state");
	return nv;
}

/* ml.confusion_sfunc(state bytea, actual text, predicted text) */
PG_FUNCTION_INFO_V1(ml_confusion_sfunc);
Datum
ml_confusion_sfunc(PG_FUNCTION_ARGS)
{
	MetricsVar *v = NULL;
	text	   *a,
			   *p;
	size_t		alen,
				plen;
	mlx_conf_add_result r;
	uint32		nl;
	size_t		nt;

	ml_require_agg(fcinfo, "ml.confusion_sfunc");
	if (!PG_ARGISNULL(0))
	{
		v = mv_arg_magic(PG_GETARG_DATUM(0), ML_CONF_MAGIC, class_what);
		(void) conf_state(v, false);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(v);
	}
	a = PG_GETARG_TEXT_PP(1);
	p = PG_GETARG_TEXT_PP(2);
	alen = VARSIZE_ANY_EXHDR(a);
	plen = VARSIZE_ANY_EXHDR(p);
	check_label_length(alen, "actual");
	check_label_length(plen, "predicted");
	if (v == NULL)
	{
		v = mv_new(ML_CONF_MAGIC, mlx_confusion_size(4, 64));
		mlx_confusion_init(MV_BODY(v), 4, 64);
	}
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (mlx_confusion_add(MV_BODY(v), VARDATA_ANY(a), alen, VARDATA_ANY(p),
							  plen, &r, &nl, &nt) != MLX_OK)
			raise_bad_state(class_what, "inconsistent label table or counts");
		if (r == MLX_CONF_ADDED)
			PG_RETURN_POINTER(v);
		if (r == MLX_CONF_TOO_MANY_LABELS)
			raise_too_many_labels();
		v = conf_grow(v, nl, nt);
	}
	elog(ERROR, "confusion table state did not grow");
	PG_RETURN_NULL();
}

/*
 * ml.binary_confusion_sfunc(state bytea, actual text, predicted text,
 *							 positive text)
 * ml.binary_confusion_sfunc(state bytea, actual boolean, predicted boolean)
 */
PG_FUNCTION_INFO_V1(ml_binary_confusion_sfunc);
Datum
ml_binary_confusion_sfunc(PG_FUNCTION_ARGS)
{
	bool		is_text = PG_NARGS() == 4;
	MetricsVar *v = NULL;
	mlx_binconf *s;
	bool		apos,
				ppos;

	ml_require_agg(fcinfo, "ml.binary_confusion_sfunc");
	if (!PG_ARGISNULL(0))
	{
		v = mv_arg_magic(PG_GETARG_DATUM(0), ML_BIN_MAGIC, class_what);
		if (((bin_state(v)->flags & MLX_BIN_F_TEXT) != 0) != is_text)
			raise_bad_state(class_what, "a state for labels of another type");
	}
	for (int i = 1; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
		{
			if (v == NULL)
				PG_RETURN_NULL();
			PG_RETURN_POINTER(v);
		}

	if (is_text)
	{
		text	   *a = PG_GETARG_TEXT_PP(1);
		text	   *p = PG_GETARG_TEXT_PP(2);
		text	   *pos = PG_GETARG_TEXT_PP(3);
		size_t		poslen = VARSIZE_ANY_EXHDR(pos);

		check_label_length(poslen, "positive");
		if (v == NULL)
		{
			v = mv_new(ML_BIN_MAGIC, mlx_binconf_size(poslen));
			mlx_binconf_init(MV_BODY(v), true, VARDATA_ANY(pos), poslen);
		}
		s = MV_BODY(v);
		if (s->poslen != poslen ||
			memcmp((char *) s + sizeof(mlx_binconf), VARDATA_ANY(pos), poslen) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("positive label must be the same for every row of a group")));
		apos = VARSIZE_ANY_EXHDR(a) == poslen &&
			memcmp(VARDATA_ANY(a), VARDATA_ANY(pos), poslen) == 0;
		ppos = VARSIZE_ANY_EXHDR(p) == poslen &&
			memcmp(VARDATA_ANY(p), VARDATA_ANY(pos), poslen) == 0;
	}
	else
	{
		if (v == NULL)
		{
			v = mv_new(ML_BIN_MAGIC, mlx_binconf_size(0));
			mlx_binconf_init(MV_BODY(v), false, NULL, 0);
		}
		s = MV_BODY(v);
		apos = PG_GETARG_BOOL(1);
		ppos = PG_GETARG_BOOL(2);
	}
	if (mlx_binconf_add(s, apos, ppos) != MLX_OK)
		raise_bad_state(class_what, "counts overflow");
	PG_RETURN_POINTER(v);
}

/* ml.classification_combine(bytea, bytea): either kind of table */
PG_FUNCTION_INFO_V1(ml_classification_combine);
Datum
ml_classification_combine(PG_FUNCTION_ARGS)
{
	MetricsVar *a;
	MetricsVar *b;

	ml_require_agg(fcinfo, "ml.classification_combine");
	a = PG_ARGISNULL(0) ? NULL : mv_arg(PG_GETARG_DATUM(0), class_what);
	b = PG_ARGISNULL(1) ? NULL : mv_arg(PG_GETARG_DATUM(1), class_what);
	if (a != NULL && a->magic != ML_CONF_MAGIC && a->magic != ML_BIN_MAGIC)
		raise_bad_state(class_what, "a state of another kind of metric");
	if (b != NULL && b->magic != ML_CONF_MAGIC && b->magic != ML_BIN_MAGIC)
		raise_bad_state(class_what, "a state of another kind of metric");
	if (a != NULL && b != NULL && a->magic != b->magic)
		raise_bad_state(class_what, "states of different kinds");
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}

	if (b->magic == ML_CONF_MAGIC)
	{
		mlx_confusion *sb = conf_state(b, true);
		mlx_confusion *sa;
		uint32		nl;
		size_t		nt;

		if (a == NULL)
			PG_RETURN_POINTER(b);
		sa = conf_state(a, true);
		CHECK_FOR_INTERRUPTS();
		if (mlx_confusion_merge_needs(sa, sb, &nl, &nt) != MLX_OK)
			raise_bad_state(class_what, "inconsistent label table");
		if (sa->nlabels + nl > MLX_CONF_MAX_LABELS)
			raise_too_many_labels();
		if (sa->nlabels + nl > sa->cap || sa->text_used + nt > sa->text_cap)
		{
			a = conf_grow(a, nl, nt);
			sa = MV_BODY(a);
		}
		if (mlx_confusion_merge(sa, sb) != MLX_OK)
			raise_bad_state(class_what, "counts overflow");
		PG_RETURN_POINTER(a);
	}
	else
	{
		mlx_binconf *sb = bin_state(b);

		if (a == NULL)
			PG_RETURN_POINTER(b);
		switch (mlx_binconf_merge(bin_state(a), sb))
		{
			case MLX_OK:
				break;
			case MLX_EMISMATCH:
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("positive label must be the same for every row of a group")));
				break;
			default:
				raise_bad_state(class_what, "counts overflow");
		}
		PG_RETURN_POINTER(a);
	}
}

/* false when there were no rows */
static bool
class_result(FunctionCallInfo fcinfo, const char *fname, mlx_class_metrics *m)
{
	MetricsVar *v;
	mlx_status	st;

	ml_require_agg(fcinfo, fname);
	if (PG_ARGISNULL(0))
		return false;
	v = mv_arg(PG_GETARG_DATUM(0), class_what);
	if (v->magic == ML_CONF_MAGIC)
		st = mlx_confusion_macro(conf_state(v, true), m);
	else if (v->magic == ML_BIN_MAGIC)
		st = mlx_binconf_result(bin_state(v), m);
	else
		raise_bad_state(class_what, "a state of another kind of metric");
	return st == MLX_OK;
}

#define CLASS_FINAL(sqlname, cname, field) \
PG_FUNCTION_INFO_V1(cname); \
Datum \
cname(PG_FUNCTION_ARGS) \
{ \
	mlx_class_metrics m; \
\
	if (!class_result(fcinfo, sqlname, &m)) \
		PG_RETURN_NULL(); \
	PG_RETURN_FLOAT8(m.field); \
}

/* ml.accuracy_final(bytea) */
CLASS_FINAL("ml.accuracy_final", ml_accuracy_final, accuracy)
/* ml.precision_final(bytea): macro average, or binary with a positive class */
CLASS_FINAL("ml.precision_final", ml_precision_final, precision)
/* ml.recall_final(bytea) */
CLASS_FINAL("ml.recall_final", ml_recall_final, recall)
/* ml.f1_final(bytea) */
CLASS_FINAL("ml.f1_final", ml_f1_final, f1)

/* ================================================================ log loss */

static const char *const logl_what = "log loss";

static mlx_logloss *
logl_state(Datum d)
{
	MetricsVar *v = mv_arg_magic(d, ML_LOGL_MAGIC, logl_what);
	char		errbuf[256] = "";

	check_state(mlx_logloss_validate(MV_BODY(v), MV_BODYSIZE(v), errbuf,
									 sizeof(errbuf)), logl_what, errbuf);
	return MV_BODY(v);
}

/* ml.log_loss_sfunc(state bytea, actual boolean, probability float8) */
PG_FUNCTION_INFO_V1(ml_log_loss_sfunc);
Datum
ml_log_loss_sfunc(PG_FUNCTION_ARGS)
{
	MetricsVar *v = NULL;
	double		p;

	ml_require_agg(fcinfo, "ml.log_loss_sfunc");
	if (!PG_ARGISNULL(0))
		v = (MetricsVar *) ((char *) logl_state(PG_GETARG_DATUM(0)) - MV_HDRSZ);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(v);
	}
	p = PG_GETARG_FLOAT8(2);
	require_finite(p, "probability");
	if (p < 0 || p > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("probability must be between 0 and 1, not %g", p)));
	if (v == NULL)
	{
		v = mv_new(ML_LOGL_MAGIC, sizeof(mlx_logloss));
		mlx_logloss_init(MV_BODY(v));
	}
	if (mlx_logloss_add(MV_BODY(v), PG_GETARG_BOOL(1), p) != MLX_OK)
		raise_bad_state(logl_what, "row count overflow");
	PG_RETURN_POINTER(v);
}

/* ml.log_loss_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_log_loss_combine);
Datum
ml_log_loss_combine(PG_FUNCTION_ARGS)
{
	mlx_logloss *a;
	mlx_logloss *b;

	ml_require_agg(fcinfo, "ml.log_loss_combine");
	a = PG_ARGISNULL(0) ? NULL : logl_state(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : logl_state(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER((char *) a - MV_HDRSZ);
	}
	if (a == NULL)
		PG_RETURN_POINTER((char *) b - MV_HDRSZ);
	if (b->n > PG_INT64_MAX - 1 - a->n)
		raise_bad_state(logl_what, "row count overflow");
	mlx_logloss_merge(a, b);
	PG_RETURN_POINTER((char *) a - MV_HDRSZ);
}

/* ml.log_loss_final(bytea) RETURNS float8 */
PG_FUNCTION_INFO_V1(ml_log_loss_final);
Datum
ml_log_loss_final(PG_FUNCTION_ARGS)
{
	double		r;

	ml_require_agg(fcinfo, "ml.log_loss_final");
	if (PG_ARGISNULL(0) ||
		mlx_logloss_result(logl_state(PG_GETARG_DATUM(0)), &r) != MLX_OK)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}

/* ================================================================ ROC AUC */

static const char *const auc_what = "roc_auc";

static mlx_auc *
auc_state(MetricsVar *v)
{
	char		errbuf[256] = "";

	check_state(mlx_auc_check(MV_BODY(v), MV_BODYSIZE(v), errbuf,
							  sizeof(errbuf)), auc_what, errbuf);
	return MV_BODY(v);
}

/* A copy of v with room for 'need' scores, in CurrentMemoryContext. */
static MetricsVar *
auc_grow(MetricsVar *v, int64 need)
{
	mlx_auc    *s = MV_BODY(v);
	int64_t		cap;
	MetricsVar *nv;

	if (mlx_auc_grown_cap(s, need, &cap) != MLX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("roc_auc state would exceed 1 GB"),
				 errdetail("ml.roc_auc keeps every score of a group; at most %lld rows fit.",
						   (long long) mlx_auc_max_cap()),
				 errhint("Compute it over a sample, or per group.")));
	nv = mv_new(ML_AUC_MAGIC, mlx_auc_size(cap));
	if (mlx_auc_copy(MV_BODY(nv), cap, s) != MLX_OK)
		elog(ERROR, "could not grow a roc_auc state");
	return nv;
}

/* ml.roc_auc_sfunc(state bytea, actual boolean, score float8) */
PG_FUNCTION_INFO_V1(ml_roc_auc_sfunc);
Datum
ml_roc_auc_sfunc(PG_FUNCTION_ARGS)
{
	MetricsVar *v = NULL;
	mlx_auc    *s;
	bool		y;
	double		score;

	ml_require_agg(fcinfo, "ml.roc_auc_sfunc");
	if (!PG_ARGISNULL(0))
	{
		v = mv_arg_magic(PG_GETARG_DATUM(0), ML_AUC_MAGIC, auc_what);
		(void) auc_state(v);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (v == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(v);
	}
	y = PG_GETARG_BOOL(1);
	score = PG_GETARG_FLOAT8(2);
	require_finite(score, "score");
	if (v == NULL)
	{
		v = mv_new(ML_AUC_MAGIC, mlx_auc_size(MLX_AUC_MIN_CAP));
		mlx_auc_init(MV_BODY(v), MLX_AUC_MIN_CAP);
	}
	s = MV_BODY(v);
	if (!mlx_auc_add(s, y, score))
	{
		v = auc_grow(v, s->npos + s->nneg + 1);
		if (!mlx_auc_add(MV_BODY(v), y, score))
			elog(ERROR, "roc_auc state did not grow");
	}
	PG_RETURN_POINTER(v);
}

/* ml.roc_auc_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_roc_auc_combine);
Datum
ml_roc_auc_combine(PG_FUNCTION_ARGS)
{
	MetricsVar *a;
	MetricsVar *b;
	mlx_auc    *sa;
	mlx_auc    *sb;

	ml_require_agg(fcinfo, "ml.roc_auc_combine");
	a = PG_ARGISNULL(0) ? NULL : mv_arg_magic(PG_GETARG_DATUM(0), ML_AUC_MAGIC, auc_what);
	b = PG_ARGISNULL(1) ? NULL : mv_arg_magic(PG_GETARG_DATUM(1), ML_AUC_MAGIC, auc_what);
	sa = a ? auc_state(a) : NULL;
	sb = b ? auc_state(b) : NULL;
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);
	if (sb->npos + sb->nneg > sa->cap - sa->npos - sa->nneg)
	{
		a = auc_grow(a, sa->npos + sa->nneg + sb->npos + sb->nneg);
		sa = MV_BODY(a);
	}
	if (mlx_auc_merge(sa, sb) != MLX_OK)
		elog(ERROR, "roc_auc state has no room to merge");
	PG_RETURN_POINTER(a);
}

/*
 * The AUC of a state, or NULL (*isnull) without rows or, when one_class_null,
 * with a single class (otherwise that is an error).
 */
static double
roc_auc_result(FunctionCallInfo fcinfo, bool one_class_null, bool *isnull)
{
	mlx_auc    *s;
	double		r;
	mlx_status	st;

	*isnull = true;
	if (PG_ARGISNULL(0))
		return 0;
	s = auc_state(mv_arg_magic(PG_GETARG_DATUM(0), ML_AUC_MAGIC, auc_what));
	if (s->npos + s->nneg == 0)
		return 0;
	if ((s->npos == 0 || s->nneg == 0) && one_class_null)
		return 0;
	if (s->npos == 0 || s->nneg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("roc_auc is undefined when all actual values are the same"),
				 errdetail("All %lld rows are %s; the ROC curve needs both classes.",
						   (long long) (s->npos + s->nneg),
						   s->npos > 0 ? "true" : "false")));
	CHECK_FOR_INTERRUPTS();
	st = mlx_auc_result(s, &ml_pg_ctx, &r);
	if (st == MLX_ENONFINITE)
		raise_bad_state(auc_what, "non-finite score");
	ml_check_status(st, "roc_auc");
	*isnull = false;
	return r;
}

/* ml.roc_auc_final(bytea) RETURNS float8; does not modify the state */
PG_FUNCTION_INFO_V1(ml_roc_auc_final);
Datum
ml_roc_auc_final(PG_FUNCTION_ARGS)
{
	bool		isnull;
	double		r;

	ml_require_agg(fcinfo, "ml.roc_auc_final");
	r = roc_auc_result(fcinfo, false, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}

/* ml._roc_auc_final_or_null(bytea): NULL for a single class */
PG_FUNCTION_INFO_V1(ml_roc_auc_final_or_null);
Datum
ml_roc_auc_final_or_null(PG_FUNCTION_ARGS)
{
	bool		isnull;
	double		r;

	ml_require_agg(fcinfo, "ml._roc_auc_final_or_null");
	r = roc_auc_result(fcinfo, true, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}
