/*
 * train.c
 *	  ml.train(model_name, relation, target, algorithm, features, options):
 *	  the SPI driver that trains a named model from table columns and
 *	  stores it in the registry.
 *
 * Every pass is one plain SELECT over the source, so the planner can run
 * it with parallel workers like any aggregate query:
 *
 *	  1. statistics   row counts, means of numeric columns (imputation
 *					  values), array lengths, NaN/Infinity detection
 *	  2. vocabulary   distinct values of each categorical column
 *	  3. fit          the training aggregate over the encoded feature array
 *	  4. evaluate     metrics on the held-out rows (or the training rows)
 *
 * Linear regression needs less (train_linreg.c): after the vocabulary, one
 * pass fits, finds the means and measures the fit on the training or
 * held-out rows at once; only data with NULL or unusual values add the
 * statistics pass and a second fit pass.
 *
 * The encoding is plain SQL generated from the column list (coalesce for
 * imputation, one comparison per category for one-hot), with every
 * identifier quoted and every value a quoted literal; the same encoding is
 * stored in the model (MLX_SEC_INPUTS) so scoring by column name applies
 * it again.  The driver runs with the caller's privileges.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/linreg.h"
#include "pg/ml_pg.h"
#include "pg/ml_registry.h"
#include "pg/ml_train.h"


static void impute_from_means(TrainRun *run, TrainColumn *c, Datum means);

/* ---------- small helpers ---------- */

/* ---------- split ---------- */

/*
 * The deterministic split: a row is held out when a seeded hash of its
 * whole text form falls below test_fraction.  Reruns over the same data
 * give the same split; parallel workers agree because it is a function of
 * the row alone.
 */
static void
build_split(TrainRun *run)
{
	StringInfoData h;

	if (run->opt.test_fraction <= 0)
	{
		run->train_pred = "true";
		run->test_pred = NULL;
		return;
	}
	initStringInfo(&h);
	appendStringInfo(&h,
					 "((pg_catalog.hashtextextended(src::pg_catalog.text, " INT64_FORMAT "::pg_catalog.int8) OPERATOR(pg_catalog.&) 2147483647::pg_catalog.int8)::pg_catalog.float8 OPERATOR(pg_catalog./) 2147483648::pg_catalog.float8 OPERATOR(pg_catalog.<) ",
					 run->opt.seed);
	ml_append_float8(&h, run->opt.test_fraction);
	appendStringInfoChar(&h, ')');
	run->test_pred = MemoryContextStrdup(run->cxt, h.data);
	run->train_pred = MemoryContextStrdup(run->cxt, psprintf("NOT %s", h.data));
}

/* ---------- passes ---------- */

/* Pass 1: counts, means (imputation), array lengths; detects NaN/Infinity. */
static int64
statistics_pass(TrainRun *run, int64 *skipped)
{
	StringInfoData sql;
	ListCell   *lc;
	TimestampTz start = GetCurrentTimestamp();
	int			col;
	int64		nrows;
	bool		isnull;
	int			planned;
	/* the rows a model learns from: training split, non-NULL target */
	const char *used = run->target_ok;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.count(*) FILTER (WHERE %s), pg_catalog.count(*) FILTER (WHERE NOT %s), ml._processes(1)",
					 used, used);
	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);

		if (c->kind == MLX_INPUT_NUMERIC)
			appendStringInfo(&sql, ", pg_catalog.avg((src.%s)::pg_catalog.float8) FILTER (WHERE %s)", c->qname, used);
		else if (c->kind == MLX_INPUT_BOOLEAN)
			appendStringInfo(&sql, ", pg_catalog.avg((src.%s)::pg_catalog.int4::pg_catalog.float8) FILTER (WHERE %s)", c->qname, used);
		else if (c->kind == MLX_INPUT_ARRAY)
			appendStringInfo(&sql, ", pg_catalog.min(pg_catalog.array_length(src.%s, 1)) FILTER (WHERE %s), pg_catalog.max(pg_catalog.array_length(src.%s, 1)) FILTER (WHERE %s), pg_catalog.count(src.%s) FILTER (WHERE pg_catalog.array_ndims(src.%s) OPERATOR(pg_catalog.>) 1 AND %s), ml._array_avg(src.%s) FILTER (WHERE %s)",
							 c->qname, used, c->qname, used, c->qname, c->qname, used,
							 c->qname, used);
	}
	/* imputation values: means over the rows the model learns from */
	if (run->target_type == BOOLOID)
		appendStringInfo(&sql, ", pg_catalog.count(*) FILTER (WHERE %s AND src.%s)", used, run->qtarget);
	if (run->target_type == BOOLOID || !(run->target_type == INT2OID ||
											 run->target_type == INT4OID ||
											 run->target_type == INT8OID ||
											 run->target_type == FLOAT4OID ||
											 run->target_type == FLOAT8OID ||
											 run->target_type == NUMERICOID))
		appendStringInfo(&sql, ", NULL::pg_catalog.float8 FROM %s AS src WHERE %s",
						 run->from, run->train_pred);
	else
		appendStringInfo(&sql, ", pg_catalog.avg((src.%s)::pg_catalog.float8) FROM %s AS src WHERE %s",
						 run->qtarget, run->from, run->train_pred);
	planned = ml_spi_run_pass(sql.data, 0, NULL, NULL);

	nrows = DatumGetInt64(ml_spi_value(0, 1, &isnull));
	*skipped = DatumGetInt64(ml_spi_value(0, 2, &isnull));
	ml_record_pass(run, "statistics", nrows + *skipped,
				DatumGetInt32(ml_spi_value(0, 3, &isnull)), planned, start, NAN);
	if (nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 run->target ?
				 errmsg("relation %s has no rows with a non-NULL target \"%s\" to train on",
						run->relation, run->target) :
				 errmsg("relation %s has no rows to train on", run->relation),
				 run->test_pred ? errhint("The held-out fraction (test_fraction) is excluded from training.") : 0));
	if (run->target_type == BOOLOID)
	{
		/* the classes of a boolean target: no pass of their own */
		run->bool_rows = nrows;
		run->bool_true = DatumGetInt64(ml_spi_value(0, SPI_tuptable->tupdesc->natts - 1, &isnull));
	}
	{
		double		tmean = DatumGetFloat8(ml_spi_value(0, SPI_tuptable->tupdesc->natts, &isnull));

		if (!isnull && !isfinite(tmean))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("target column \"%s\" contains NaN or infinite values", run->target),
					 errhint("Filter such rows out, or map them to NULL to have them skipped.")));
	}

	col = 4;
	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);

		if (c->kind == MLX_INPUT_NUMERIC || c->kind == MLX_INPUT_BOOLEAN)
		{
			double		mean = DatumGetFloat8(ml_spi_value(0, col++, &isnull));

			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("feature column \"%s\" is NULL in every training row", c->name),
						 errhint("Leave it out with \"features\" or the \"exclude\" option.")));
			if (!isfinite(mean))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("feature column \"%s\" contains NaN or infinite values", c->name),
						 errhint("Replace or filter non-finite values first.")));
			c->impute = MemoryContextAlloc(run->cxt, sizeof(double));
			c->impute[0] = mean;
		}
		else if (c->kind == MLX_INPUT_ARRAY)
		{
			bool		n1,
						n2,
						n3;
			int32		minlen = DatumGetInt32(ml_spi_value(0, col, &n1));
			int32		maxlen = DatumGetInt32(ml_spi_value(0, col + 1, &n2));
			int64		multi = DatumGetInt64(ml_spi_value(0, col + 2, &n3));
			Datum		means = ml_spi_value(0, col + 3, &n3);

			col += 4;
			if (n1 || n2)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("feature column \"%s\" has no non-empty array in any training row", c->name)));
			if (multi > 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("feature column \"%s\" contains multi-dimensional arrays", c->name)));
			if (minlen != maxlen)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("feature column \"%s\" has arrays of different lengths (%d to %d elements)",
								c->name, minlen, maxlen),
						 errhint("Every row must have the same number of elements.")));
			c->nfeat = minlen;
			impute_from_means(run, c, means);
		}
	}
	return nrows;
}

/* The imputation values of an array column from ml._array_avg's result. */
static void
impute_from_means(TrainRun *run, TrainColumn *c, Datum means)
{
	ArrayType  *a = DatumGetArrayTypeP(means);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n != c->nfeat)
		elog(ERROR, "array means have %d elements, expected %d", n, c->nfeat);
	c->impute = MemoryContextAlloc(run->cxt, sizeof(double) * c->nfeat);
	for (int j = 0; j < n; j++)
	{
		if (nulls[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("element %d of feature column \"%s\" is NULL in every training row",
							j + 1, c->name)));
		c->impute[j] = DatumGetFloat8(elems[j]);
		if (!isfinite(c->impute[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature column \"%s\" contains NaN or infinite values", c->name),
					 errhint("Replace or filter non-finite values first.")));
	}
}

static int
category_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *) a;
	const char *y = *(const char *const *) b;

	return strcmp(x, y);
}

/* Pass 2: the vocabulary of each categorical column (byte order, NULL first). */
static void
vocabulary_pass(TrainRun *run)
{
	ListCell   *lc;

	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);
		StringInfoData sql;
		TimestampTz start = GetCurrentTimestamp();
		bool		has_null = false;
		int			n = 0;
		char	  **vals;

		if (c->kind != MLX_INPUT_CATEGORICAL)
			continue;
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT DISTINCT (src.%s)::pg_catalog.text FROM %s AS src WHERE %s AND %s LIMIT %d",
						 c->qname, run->from, run->train_pred, run->target_ok,
						 ML_MAX_CATEGORIES + 1);
		ml_spi_run(sql.data, 0, NULL, NULL, -1);
		if (SPI_processed > ML_MAX_CATEGORIES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("categorical column \"%s\" has more than %d distinct values",
							c->name, ML_MAX_CATEGORIES),
					 errhint("Group rare values in a query, or leave the column out.")));
		vals = MemoryContextAlloc(run->cxt, sizeof(char *) * (SPI_processed + 1));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (v == NULL)
				has_null = true;
			else if (strlen(v) > MLX_MODEL_MAX_CATEGORY_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("categorical column \"%s\" has a value of %zu bytes, at most %d are supported",
								c->name, strlen(v), MLX_MODEL_MAX_CATEGORY_LEN)));
			else
				vals[n++] = MemoryContextStrdup(run->cxt, v);
		}
		qsort(vals, n, sizeof(char *), category_cmp);
		if (has_null)
		{
			memmove(vals + 1, vals, sizeof(char *) * n);
			vals[0] = NULL;
			n++;
		}
		c->categories = vals;
		c->nfeat = n;
		/* a DISTINCT query: workers and processes are not measured (0) */
		ml_record_pass(run, "vocabulary", (int64) SPI_processed, 0, 0, start, NAN);
	}
}

/*
 * Pass 4: regression metrics on held-out rows (or training rows).  Each row
 * is scored once: ml._score is ml.predict marked volatile, so the subquery
 * is not flattened into one prediction per metric.
 */
static Jsonb *
evaluate_pass(TrainRun *run, bytea *model)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			argtypes[1] = {BYTEAOID};
	Datum		args[1];
	const char *pred = run->test_pred ? run->test_pred : run->train_pred;
	Jsonb	   *result;
	int			planned;

	args[0] = PointerGetDatum(model);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.jsonb_build_object("
					 "'r2'::pg_catalog.text, ml.r2(y, p), 'mse'::pg_catalog.text, ml.mse(y, p), "
					 "'rmse'::pg_catalog.text, ml.rmse(y, p), 'mae'::pg_catalog.text, ml.mae(y, p), "
					 "'explained_variance'::pg_catalog.text, ml.explained_variance(y, p), "
					 "'n_test'::pg_catalog.text, pg_catalog.count(*), "
					 "'evaluated_on'::pg_catalog.text, %s), ml._processes(1), pg_catalog.count(*) "
					 "FROM (SELECT (src.%s)::pg_catalog.float8 AS y, ml._score($1, %s) AS p "
					 "FROM %s AS src WHERE %s AND src.%s IS NOT NULL) s",
					 run->test_pred ? "'test'::pg_catalog.text" : "'training'::pg_catalog.text",
					 run->qtarget, run->encode_sql, run->from, pred, run->qtarget);
	planned = ml_spi_run_pass(sql.data, 1, argtypes, args);
	{
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(run->cxt);

		result = DatumGetJsonbPCopy(ml_spi_value(0, 1, &isnull));
		MemoryContextSwitchTo(old);
		ml_record_pass(run, "evaluate", DatumGetInt64(ml_spi_value(0, 3, &isnull)),
					DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, NAN);
	}
	return result;
}

/* The metrics object plus the training row counts. */
static Jsonb *
add_counts(TrainRun *run, Jsonb *metrics, int64 ntrain, int64 skipped)
{
	Oid			t2[3] = {JSONBOID, INT8OID, INT8OID};
	Datum		a2[3];
	bool		isnull;
	MemoryContext old;
	Jsonb	   *result;

	a2[0] = JsonbPGetDatum(metrics);
	a2[1] = Int64GetDatum(ntrain);
	a2[2] = Int64GetDatum(skipped);
	ml_spi_run("SELECT $1 OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('n_train'::pg_catalog.text, $2, 'n_skipped'::pg_catalog.text, $3)",
			   3, t2, a2, 1);
	old = MemoryContextSwitchTo(run->cxt);
	result = DatumGetJsonbPCopy(ml_spi_value(0, 1, &isnull));
	MemoryContextSwitchTo(old);
	return result;
}

/* ---------- model with inputs ---------- */

/*
 * Report a rank-deficient fit by feature name.  One-hot encoding makes
 * every categorical column's indicators sum to one, a dependency with the
 * intercept (or with each other) that the minimum-norm solution handles by
 * design; stay quiet when that explains every dependent feature.
 */
static void
warn_rank(TrainRun *run, const mlx_model *m, char **names)
{
	const mlx_linreg_fit *f = &m->u.linreg;
	int			ncat = 0;
	bool		only_onehot = true;
	StringInfoData list;
	ListCell   *lc;

	if (f->lambda != 0 || f->rank >= f->nfeat)
		return;
	foreach(lc, run->columns)
		if (((TrainColumn *) lfirst(lc))->kind == MLX_INPUT_CATEGORICAL)
			ncat++;
	initStringInfo(&list);
	for (int i = 0; i < f->ndependent; i++)
	{
		int			idx = f->dependent[i];
		int			base = 0;

		foreach(lc, run->columns)
		{
			TrainColumn *c = (TrainColumn *) lfirst(lc);

			if (idx >= base && idx < base + c->nfeat && c->kind != MLX_INPUT_CATEGORICAL)
				only_onehot = false;
			base += c->nfeat;
		}
		appendStringInfo(&list, "%s\"%s\"", i > 0 ? ", " : "", names[idx]);
	}
	if (only_onehot && f->ndependent <= ncat && f->nrows > f->nfeat)
		return;
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("features of model \"%s\" are linearly dependent: rank %d with %d features",
					run->model_name, f->rank, f->nfeat),
			 errdetail("Dependent or constant: %s. The coefficients are the minimum-norm solution and standard errors are not defined.",
					   list.len > 0 ? list.data : "(unknown)"),
			 errhint("Leave redundant columns out, or set option \"lambda\" > 0.")));
}

/* The model's description of its source columns (memory in run->cxt). */
static mlx_inputs *
make_inputs(TrainRun *run, char ***names)
{
	MemoryContext old = MemoryContextSwitchTo(run->cxt);
	mlx_inputs *in;
	ListCell   *lc;
	int			i = 0;

	in = palloc0(sizeof(mlx_inputs));
	in->ninputs = list_length(run->columns);
	in->inputs = palloc0(sizeof(mlx_input) * in->ninputs);
	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);
		mlx_input  *x = &in->inputs[i++];

		x->name = c->name;
		x->kind = c->kind;
		x->nfeat = c->nfeat;
		x->impute = (c->kind == MLX_INPUT_CATEGORICAL) ? NULL : c->impute;
		if (x->impute != NULL && ml_train_is_tree(run->algorithm))
		{
			/* trees keep NULL features missing: NaN, no imputation */
			x->impute = palloc(sizeof(double) * c->nfeat);
			for (int j = 0; j < c->nfeat; j++)
				x->impute[j] = NAN;
		}
		x->categories = (c->kind == MLX_INPUT_CATEGORICAL) ? c->categories : NULL;
	}
	in->target = (char *) run->target;
	in->target_kind = (run->target == NULL) ? 0 :
		(run->target_type == BOOLOID) ? MLX_INPUT_BOOLEAN :
		(!run->classifier || run->target_type == INT2OID || run->target_type == INT4OID ||
		 run->target_type == INT8OID || run->target_type == FLOAT4OID ||
		 run->target_type == FLOAT8OID || run->target_type == NUMERICOID) ?
		MLX_INPUT_NUMERIC : MLX_INPUT_CATEGORICAL;
	ml_check_status(mlx_inputs_feature_names(in, &ml_pg_ctx, names),
					"model encoding");
	MemoryContextSwitchTo(old);
	return in;
}

/*
 * The encoder handed to the fit pass: a model with the inputs and zero
 * coefficients, which ml._encode reads like any model.
 */
static bytea *
make_encoder(TrainRun *run, mlx_inputs *in, char **names)
{
	MemoryContext old = MemoryContextSwitchTo(run->cxt);
	mlx_linreg_fit fit;
	mlx_model	m;
	int			k = run->nfeat;
	bytea	   *result;

	memset(&fit, 0, sizeof(fit));
	fit.nfeat = k;
	fit.intercept = true;
	fit.nrows = 1;
	fit.df_resid = fit.rss = fit.tss = fit.r2 = fit.adj_r2 = fit.sigma = NAN;
	fit.coef = palloc0(sizeof(double) * (k + 1));
	fit.se = palloc(sizeof(double) * (k + 1));
	fit.tval = palloc(sizeof(double) * (k + 1));
	fit.pval = palloc(sizeof(double) * (k + 1));
	for (int i = 0; i <= k; i++)
		fit.se[i] = fit.tval[i] = fit.pval[i] = NAN;
	ml_check_status(mlx_model_from_linreg(&fit, names, &ml_pg_ctx, &m),
					"model encoding");
	m.inputs = in;
	result = ml_encode_model(&m);
	MemoryContextSwitchTo(old);
	return result;
}

/* The trained model with its inputs, names and the skipped-row count. */
static bytea *
attach_inputs(TrainRun *run, bytea *raw, mlx_inputs *in, char **names,
			  int64 skipped)
{
	mlx_model	m;

	ml_decode_model(PointerGetDatum(raw), &m);
	m.feature_names = names;
	m.inputs = in;
	/* the fit passes filtered the rows without a target; count them here */
	switch (m.algorithm)
	{
		case MLX_ALG_LINEAR_REGRESSION:
			warn_rank(run, &m, names);
			m.u.linreg.nskipped = skipped;
			break;
		case MLX_ALG_LOGISTIC_REGRESSION:
			m.u.logreg.nskipped = skipped;
			break;
		case MLX_ALG_LASSO:
		case MLX_ALG_ELASTIC_NET:
			/* one aggregate serves both; the name decides what it is */
			m.algorithm = strcmp(run->algorithm, "lasso") == 0 ?
				MLX_ALG_LASSO : MLX_ALG_ELASTIC_NET;
			m.u.enet.nskipped = skipped;
			break;
		case MLX_ALG_PCA:
			m.u.pca.nskipped = skipped;
			break;
		case MLX_ALG_POISSON_REGRESSION:
			m.u.poisson.nskipped = skipped;
			break;
		case MLX_ALG_KMEANS:
			break;				/* no target: nothing filtered */
		case MLX_ALG_SOFTMAX_REGRESSION:
			m.u.softmax.nskipped = skipped;
			break;
		case MLX_ALG_DECISION_TREE:
		case MLX_ALG_RANDOM_FOREST:
		case MLX_ALG_GRADIENT_BOOSTING:
			m.u.tree.nskipped = skipped;
			break;
		case MLX_ALG_NAIVE_BAYES:
			/* the pass numbered the classes; these are their labels */
			m.u.nbayes.classes = run->classes;
			m.u.nbayes.nskipped = skipped;
			break;
	}
	return ml_encode_model(&m);
}

/* ---------- registry ---------- */

static Jsonb *
training_info_json(TrainRun *run)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"passes\": [");
	for (int i = 0; i < run->npasses; i++)
	{
		TrainPass  *p = &run->passes[i];

		appendStringInfo(&buf,
						 "%s{\"pass\": %d, \"name\": \"%s\", \"rows\": " INT64_FORMAT ", \"workers_planned\": %d, \"processes\": %d, \"seconds\": %.6f",
						 i > 0 ? ", " : "", i + 1, p->name, p->rows,
						 p->planned, p->processes, p->seconds);
		if (isfinite(p->loss))
			appendStringInfo(&buf, ", \"loss\": %.17g", p->loss);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfo(&buf, "], \"test_fraction\": %.17g, \"seed\": " INT64_FORMAT "}",
					 run->opt.test_fraction, run->opt.seed);
	return ml_train_jsonb(run, buf.data);
}

/* Store the model as the next version of its name (registry_write.c). */
static void
register_model(TrainRun *run, bytea *model, Jsonb *metrics, Jsonb *info,
			   Jsonb *options, ArrayType *features_used, int64 nrows,
			   int64 *model_id, int32 *version)
{
	MlRegistryEntry e;

	e.name = run->model_name;
	e.algorithm = run->algorithm;
	e.relation = run->relation;
	e.target = run->target;
	e.features = features_used;
	e.options = options;
	e.metrics = metrics;
	e.info = info;
	e.model = model;
	e.n_rows = nrows;
	e.deploy = run->opt.deploy;
	ml_registry_store(&e, model_id, version);
}

/* The feature count of the columns, checked against the limit. */
static void
count_features(TrainRun *run)
{
	ListCell   *lc;

	run->nfeat = 0;
	foreach(lc, run->columns)
		run->nfeat += ((TrainColumn *) lfirst(lc))->nfeat;
	if (run->nfeat > ML_MAX_TRAIN_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the feature columns expand to %d features, at most %d are supported",
						run->nfeat, ML_MAX_TRAIN_FEATURES)));
}

/*
 * Before linear regression's first pass: the length of each array column
 * from one training row, and placeholder imputation values (that pass
 * imputes nothing).  False when there is no such row, or a categorical
 * column has no category: the statistics pass then goes first and says
 * what is wrong.
 */
static bool
prepare_first_pass(TrainRun *run)
{
	StringInfoData sql;
	StringInfoData cond;
	ListCell   *lc;
	int			narrays = 0;

	initStringInfo(&sql);
	initStringInfo(&cond);
	appendStringInfoString(&sql, "SELECT true");
	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);

		if (c->kind == MLX_INPUT_CATEGORICAL && c->nfeat == 0)
			return false;
		if (c->kind != MLX_INPUT_ARRAY)
			continue;
		appendStringInfo(&sql, ", pg_catalog.array_length(src.%s, 1)", c->qname);
		appendStringInfo(&cond, " AND pg_catalog.array_ndims(src.%s) OPERATOR(pg_catalog.=) 1", c->qname);
		narrays++;
	}
	if (narrays > 0)
	{
		bool		isnull;
		int			col = 2;
		int			level;

		appendStringInfo(&sql, " FROM %s AS src WHERE %s AND %s%s LIMIT 1",
						 run->from, run->train_pred, run->target_ok, cond.data);
		level = ml_serial_begin();
		ml_spi_run(sql.data, 0, NULL, NULL, -1);
		ml_serial_end(level);
		if (SPI_processed == 0)
			return false;
		foreach(lc, run->columns)
		{
			TrainColumn *c = (TrainColumn *) lfirst(lc);

			if (c->kind != MLX_INPUT_ARRAY)
				continue;
			c->nfeat = DatumGetInt32(ml_spi_value(0, col++, &isnull));
			if (isnull || c->nfeat < 1)
				return false;
		}
	}
	foreach(lc, run->columns)
	{
		TrainColumn *c = (TrainColumn *) lfirst(lc);

		if (c->kind != MLX_INPUT_CATEGORICAL)
			c->impute = MemoryContextAllocZero(run->cxt, sizeof(double) * c->nfeat);
	}
	count_features(run);
	return true;
}

/*
 * Linear regression (see train_linreg.c): the optimistic pass, and when
 * the data need it the statistics pass and a pass that imputes.  Sets
 * *inputs and *names to the model's encoding, with the means as imputation
 * values.
 */
static bytea *
linreg_passes(TrainRun *run, int64 *ntrain, int64 *skipped,
			  mlx_inputs **inputs, char ***names)
{
	bytea	   *raw = NULL;

	vocabulary_pass(run);
	if (prepare_first_pass(run))
	{
		*inputs = make_inputs(run, names);
		raw = ml_train_linreg_fit(run, make_encoder(run, *inputs, *names),
								  false, ntrain, skipped);
	}
	if (raw == NULL)
	{
		*ntrain = statistics_pass(run, skipped);
		count_features(run);
		*inputs = make_inputs(run, names);
		raw = ml_train_linreg_fit(run, make_encoder(run, *inputs, *names),
								  true, ntrain, skipped);
	}
	*inputs = make_inputs(run, names);
	return raw;
}

/*
 * How the passes encode a row: the input columns passed one by one to
 * ml._encode_cols, so the scan need not form each whole row as a composite
 * value; past PostgreSQL's argument limit, the whole row.
 */
static void
set_encode_sql(TrainRun *run)
{
	if (list_length(run->columns) < FUNC_MAX_ARGS - 1)
	{
		StringInfoData e;
		ListCell   *lc;

		initStringInfo(&e);
		appendStringInfoString(&e, "ml._encode_cols($1");
		foreach(lc, run->columns)
			appendStringInfo(&e, ", src.%s", ((TrainColumn *) lfirst(lc))->qname);
		appendStringInfoChar(&e, ')');
		run->encode_sql = MemoryContextStrdup(run->cxt, e.data);
	}
	else
		run->encode_sql = "ml._encode($1, src)";
}

/*
 * Every other algorithm: the statistics pass, the classes of a classifier,
 * the vocabulary (unless done), then the algorithm's own passes over the
 * encoded rows.
 */
static bytea *
other_passes(TrainRun *run, int64 *ntrain, int64 *skipped,
			 mlx_inputs **inputs, char ***names, bool vocabulary_done)
{
	bytea	   *encoder;

	*ntrain = statistics_pass(run, skipped);
	if (run->classifier)
		ml_train_classes(run);
	if (!vocabulary_done)
		vocabulary_pass(run);
	count_features(run);
	CHECK_FOR_INTERRUPTS();

	*inputs = make_inputs(run, names);

	set_encode_sql(run);
	encoder = ml_train_is_tree(run->algorithm) ?
		ml_train_tree_encoder(run, *inputs, *names) :
		make_encoder(run, *inputs, *names);
	if (ml_train_is_tree(run->algorithm))
		return ml_train_tree_fit(run, encoder, *ntrain);
	else if (strcmp(run->algorithm, "naive_bayes") == 0)
		return ml_train_nbayes_fit(run, encoder);
	else if (run->classifier)
		return ml_train_logreg_fit(run, encoder, *names, NULL);
	else if (strcmp(run->algorithm, "poisson_regression") == 0)
		return ml_train_poisson_fit(run, encoder, *names);
	else if (strcmp(run->algorithm, "kmeans") == 0)
		return ml_train_kmeans_fit(run, encoder, *names, *ntrain);
	else
		return ml_train_gram_fit(run, encoder);
}

/*
 * Binary logistic regression of a boolean target, with an intercept, unit
 * class weights and IRLS: the start pass (train_linreg.c) stands for the
 * statistics pass and the first IRLS pass when no value needs imputing;
 * otherwise the usual passes.
 */
static bytea *
logreg_passes(TrainRun *run, int64 *ntrain, int64 *skipped,
			  mlx_inputs **inputs, char ***names)
{
	double	   *start;
	bytea	   *encoder;

	vocabulary_pass(run);
	if (!prepare_first_pass(run) ||
		(strcmp(run->opt.solver, "auto") == 0 && run->nfeat + 1 > ML_LOGREG_AUTO_IRLS_FEATURES))
		return other_passes(run, ntrain, skipped, inputs, names, true);
	*inputs = make_inputs(run, names);
	start = palloc(sizeof(double) * (run->nfeat + 1));
	if (!ml_train_logreg_start(run, make_encoder(run, *inputs, *names), start,
							   ntrain, skipped))
		return other_passes(run, ntrain, skipped, inputs, names, true);
	ml_train_classes(run);
	*inputs = make_inputs(run, names);
	set_encode_sql(run);
	encoder = make_encoder(run, *inputs, *names);
	return ml_train_logreg_fit(run, encoder, *names, start);
}

/* ---------- entry point ---------- */

/*
 * ml.train(model_name text, relation text, target text,
 *			algorithm text DEFAULT 'linear_regression',
 *			features text[] DEFAULT NULL, options jsonb DEFAULT '{}')
 * RETURNS TABLE(model_id bigint, name text, version int, algorithm text,
 *				 metrics jsonb)
 */
PG_FUNCTION_INFO_V1(ml_train);
Datum
ml_train(PG_FUNCTION_ARGS)
{
	TrainRun	run;
	const char *algorithm;
	Jsonb	   *options;
	ArrayType  *features;
	int64		ntrain;
	int64		skipped;
	mlx_inputs *inputs;
	char	  **names;
	bytea	   *raw;
	bytea	   *model;
	Jsonb	   *metrics;
	Jsonb	   *info;
	int64		model_id;
	int32		version;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	ArrayType  *used;
	int			pin_level;

	memset(&run, 0, sizeof(run));
	run.started = GetCurrentTimestamp();
	run.bool_rows = run.bool_true = -1;
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model_name and relation must not be NULL")));
	run.model_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (run.model_name[0] == '\0' || strlen(run.model_name) > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must be 1 to 200 characters long")));
	run.relation = text_to_cstring(PG_GETARG_TEXT_PP(1));
	algorithm = PG_ARGISNULL(3) ? "linear_regression" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	{
		bool		known = false;

		for (int i = 0; ml_train_algorithms[i] != NULL; i++)
			if (strcmp(algorithm, ml_train_algorithms[i]) == 0)
				known = true;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown algorithm \"%s\"", algorithm),
					 errhint("Available algorithms: %s.", ml_join_names(ml_train_algorithms))));
	}
	run.algorithm = algorithm;
	run.classifier = (strcmp(algorithm, "logistic_regression") == 0 ||
					  strcmp(algorithm, "naive_bayes") == 0);
	if (strcmp(algorithm, "pca") == 0 || strcmp(algorithm, "kmeans") == 0)
	{
		if (!PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("algorithm %s is unsupervised and takes no target column", algorithm),
					 errhint("Pass target => NULL; leave columns out with \"features\" or the \"exclude\" option.")));
		run.target = NULL;
		run.qtarget = NULL;
		run.target_ok = "true";
	}
	else
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("algorithm %s needs a target column", algorithm)));
		run.target = text_to_cstring(PG_GETARG_TEXT_PP(2));
		run.qtarget = quote_identifier(run.target);
		run.target_ok = psprintf("src.%s IS NOT NULL", run.qtarget);
	}
	features = PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4);
	options = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	if (features != NULL && (ARR_NDIM(features) > 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a one-dimensional array of column names")));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	run.cxt = CurrentMemoryContext;
	run.from = ml_source_from_item(run.relation);
	/* the user's names are resolved: our own SQL runs under a pinned path */
	pin_level = ml_pin_search_path();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* a name of another role fails now, not after the training */
	ml_registry_claim(run.model_name);

	ml_train_parse_options(&run, options);
	ml_train_resolve_columns(&run, features);
	if (ml_train_is_tree(run.algorithm))
		ml_train_tree_objective(&run);
	build_split(&run);
	if (strcmp(run.algorithm, "linear_regression") == 0)
		raw = linreg_passes(&run, &ntrain, &skipped, &inputs, &names);
	else if (strcmp(run.algorithm, "logistic_regression") == 0 &&
			 run.target_type == BOOLOID && run.opt.fit_intercept &&
			 run.opt.class_weight == NULL && run.opt.max_iter >= 2 &&
			 strcmp(run.opt.solver, "lbfgs") != 0)
		raw = logreg_passes(&run, &ntrain, &skipped, &inputs, &names);
	else
		raw = other_passes(&run, &ntrain, &skipped, &inputs, &names, false);
	{
		MemoryContext old = MemoryContextSwitchTo(run.cxt);

		model = attach_inputs(&run, raw, inputs, names, skipped);
		MemoryContextSwitchTo(old);
	}
	if (run.metrics != NULL)
		metrics = run.metrics;
	else if (run.classifier)
		metrics = ml_train_classifier_metrics(&run, model);
	else if (strcmp(run.algorithm, "kmeans") == 0)
		metrics = ml_train_kmeans_metrics(&run, model);
	else if (run.target == NULL)
		metrics = ml_train_pca_metrics(&run, model);
	else
		metrics = evaluate_pass(&run, model);
	metrics = add_counts(&run, metrics, ntrain, skipped);
	info = training_info_json(&run);

	{
		ListCell   *lc;
		Datum	   *names = palloc(sizeof(Datum) * list_length(run.columns));
		int			n = 0;
		MemoryContext old = MemoryContextSwitchTo(run.cxt);

		foreach(lc, run.columns)
			names[n++] = CStringGetTextDatum(((TrainColumn *) lfirst(lc))->name);
		used = construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT);
		MemoryContextSwitchTo(old);
	}
	if (options == NULL)
		options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	{
		int			level = ml_serial_begin();

		register_model(&run, model, metrics, info, options, used, ntrain,
					   &model_id, &version);
		ml_serial_end(level);
	}

	SPI_finish();
	ml_unpin_search_path(pin_level);

	values[0] = Int64GetDatum(model_id);
	values[1] = CStringGetTextDatum(run.model_name);
	values[2] = Int32GetDatum(version);
	values[3] = CStringGetTextDatum(run.algorithm);
	values[4] = JsonbPGetDatum(metrics);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
