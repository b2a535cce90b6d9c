/*
 * train_glm.c
 *	  ml.train for the generalized linear models fitted by IRLS: binary
 *	  logistic regression (the classes of the target, class weights,
 *	  separation, the classifier metrics on the held-out rows) and Poisson
 *	  regression.  Logistic regression with more classes, or too wide for
 *	  IRLS, goes on to train_softmax.c.
 *
 * Every iteration is one plain SELECT of ml._glm_pass over the encoded
 * rows with the current model as a parameter, so each pass is a parallel
 * aggregate exactly like linear regression's single pass.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/logreg.h"
#include "core/nbayes.h"
#include "core/poisson.h"
#include "core/softmax.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

/*
 * The target as 0/1 (1 for the positive class) in SQL.  A boolean target
 * is its own 0/1 (true is the positive class: false < true), and a numeric
 * one compares in its own type; only text-like targets go through text.
 * Every IRLS pass evaluates this per row, so the cheap forms matter.
 */
static char *
label01_sql(TrainRun *run)
{
	if (run->target_type == BOOLOID)
		return psprintf("(src.%s)::pg_catalog.int4::pg_catalog.float8", run->qtarget);
	if (run->target_type == INT2OID || run->target_type == INT4OID ||
		run->target_type == INT8OID || run->target_type == FLOAT4OID ||
		run->target_type == FLOAT8OID || run->target_type == NUMERICOID)
		return psprintf("((src.%s) OPERATOR(pg_catalog.=) %s::%s)::pg_catalog.int4::pg_catalog.float8", run->qtarget,
						quote_literal_cstr(run->classes[1]),
						format_type_be_qualified(run->target_type));
	return psprintf("((src.%s)::pg_catalog.text OPERATOR(pg_catalog.=) %s::pg_catalog.text)::pg_catalog.int4::pg_catalog.float8", run->qtarget,
					quote_literal_cstr(run->classes[1]));
}

/* "a", "b" and "c": the classes for a message (the first 20) */
static char *
class_list(TrainRun *run)
{
	StringInfoData b;

	initStringInfo(&b);
	for (int i = 0; i < run->nclasses && i < 20; i++)
		appendStringInfo(&b, "%s\"%s\"", i == 0 ? "" :
						 i == run->nclasses - 1 ? " and " : ", ", run->classes[i]);
	if (run->nclasses > 20)
		appendStringInfo(&b, " and %d more", run->nclasses - 20);
	return b.data;
}

/*
 * The classes of the target over the training rows, in the target type's
 * order (false < true, 0 < 1 < 10, text by collation), with their row
 * counts; for a binary classifier the second is the positive class.  One
 * class is an error, and so are more than the algorithm supports.  For
 * logistic regression also the class weights.
 */
void
ml_train_classes(TrainRun *run)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	bool		logistic = strcmp(run->algorithm, "logistic_regression") == 0;
	int			maxclasses = logistic ? MLX_SOFTMAX_MAX_CLASSES : MLX_NB_MAX_CLASSES;
	int64		total = 0;

	if (run->bool_rows >= 0)
	{
		/* a boolean target: the statistics pass counted the classes */
		int64		counts[2] = {run->bool_rows - run->bool_true, run->bool_true};

		if (counts[0] == 0 || counts[1] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target column \"%s\" has a single class (%s) in the training rows; %s needs two",
							run->target, counts[0] == 0 ? "true" : "false", run->algorithm)));
		run->nclasses = 2;
		run->classes = MemoryContextAlloc(run->cxt, sizeof(char *) * 2);
		run->class_count = MemoryContextAlloc(run->cxt, sizeof(int64) * 2);
		run->class_weight = MemoryContextAlloc(run->cxt, sizeof(double) * 2);
		for (int i = 0; i < 2; i++)
		{
			run->classes[i] = i == 0 ? "false" : "true";
			run->class_count[i] = counts[i];
			run->class_weight[i] = 1;
			total += counts[i];
		}
	}
	else
	{
		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT (src.%s)::pg_catalog.text, pg_catalog.count(*) FROM %s AS src WHERE %s AND src.%s IS NOT NULL "
						 "GROUP BY src.%s ORDER BY src.%s LIMIT %d",
						 run->qtarget, run->from, run->train_pred, run->qtarget,
						 run->qtarget, run->qtarget, maxclasses + 1);
		ml_spi_run(sql.data, 0, NULL, NULL, -1);
		if (SPI_processed == 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target column \"%s\" has a single class (%s) in the training rows; %s needs two",
							run->target,
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
							run->algorithm)));
		if (SPI_processed > (uint64) maxclasses)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("target column \"%s\" has more than %d classes", run->target, maxclasses)));
		run->nclasses = (int) SPI_processed;
		run->classes = MemoryContextAlloc(run->cxt, sizeof(char *) * run->nclasses);
		run->class_count = MemoryContextAlloc(run->cxt, sizeof(int64) * run->nclasses);
		run->class_weight = MemoryContextAlloc(run->cxt, sizeof(double) * run->nclasses);
		for (int i = 0; i < run->nclasses; i++)
		{
			bool		isnull;
			char	   *label = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (strlen(label) == 0 || strlen(label) > MLX_MODEL_MAX_CATEGORY_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("class label of target column \"%s\" must be 1 to %d bytes long",
								run->target, MLX_MODEL_MAX_CATEGORY_LEN)));
			run->classes[i] = MemoryContextStrdup(run->cxt, label);
			run->class_count[i] = DatumGetInt64(ml_spi_value(i, 2, &isnull));
			run->class_weight[i] = 1;
			total += run->class_count[i];
		}
		ml_record_pass(run, "classes", total, 0, 0, start, NAN);
	}
	if (!logistic)
		return;

	/*
	 * class weights: 1, "balanced" (n / (K n_c), as scikit-learn), or given
	 * per class (the others 1)
	 */
	if (run->opt.class_weight != NULL && strcmp(run->opt.class_weight, "balanced") == 0)
	{
		for (int i = 0; i < run->nclasses; i++)
			run->class_weight[i] = (double) total / ((double) run->nclasses * run->class_count[i]);
	}
	else if (run->opt.class_weight != NULL)
	{
		Oid			types[1] = {TEXTOID};
		Datum		args[1];

		args[0] = CStringGetTextDatum(run->opt.class_weight);
		ml_spi_run("SELECT key, pg_catalog.jsonb_typeof(value), value OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[] "
				   "FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb)",
				   1, types, args, -1);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			char	   *key = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
			char	   *type = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
			char	   *val = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3);
			int			which = -1;
			double		w;

			for (int i = 0; i < run->nclasses; i++)
				if (strcmp(key, run->classes[i]) == 0)
					which = i;
			if (which < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"class_weight\" names class \"%s\", which is not in the target column", key),
						 errhint("The classes are %s.", class_list(run))));
			if (strcmp(type, "number") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"class_weight\" must give a number for class \"%s\"", key)));
			w = strtod(val, NULL);
			if (!(w > 0) || !isfinite(w))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"class_weight\" for class \"%s\" must be a finite number > 0", key)));
			run->class_weight[which] = w;
		}
	}
}

/* An encoded logistic model (no inputs) with the given fit. */
static bytea *
encode_logreg(mlx_logreg_fit *fit, char **names)
{
	mlx_model	m;

	ml_check_status(mlx_model_from_logreg(fit, names, &ml_pg_ctx, &m),
					"model encoding");
	return ml_encode_model(&m);
}

/* fill the fields the pass aggregate cannot know */
static void
complete_fit(TrainRun *run, mlx_logreg_fit *f, int64 nrows)
{
	f->intercept = run->opt.fit_intercept;
	f->lambda = run->opt.lambda;
	f->nrows = nrows;
	f->class_weight[0] = run->class_weight[0];
	f->class_weight[1] = run->class_weight[1];
	f->classes[0] = run->classes[0];
	f->classes[1] = run->classes[1];
}

/*
 * One IRLS pass: run the pass query (parameters: the encoder and the
 * current model), decode the next model into run->cxt, record the pass
 * with its loss (the negative log-likelihood of the current model).
 */
static void
irls_pass(TrainRun *run, const char *sql, bytea *encoder, bytea *current,
		  mlx_model *next)
{
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[2] = {BYTEAOID, BYTEAOID};
	Datum		args[2];
	bool		isnull;
	int			planned;
	MemoryContext old;
	Datum		state;
	bytea	   *result;
	int			processes = 0;
	int64		rows = 0;

	CHECK_FOR_INTERRUPTS();
	args[0] = PointerGetDatum(encoder);
	args[1] = PointerGetDatum(current);
	planned = ml_spi_run_pass(sql, 2, types, args);
	if (SPI_processed != 1)
		elog(ERROR, "IRLS pass returned %llu rows", (unsigned long long) SPI_processed);
	state = ml_spi_value(0, 1, &isnull);
	result = isnull ? NULL : ml_glm_pass_result(state, &processes, &rows);
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows reached the IRLS pass of model \"%s\"", run->model_name)));
	old = MemoryContextSwitchTo(run->cxt);
	ml_decode_model(PointerGetDatum(result), next);
	MemoryContextSwitchTo(old);
	ml_record_pass(run, "irls", rows, processes, planned, start,
				   next->algorithm == MLX_ALG_POISSON_REGRESSION ?
				   -next->u.poisson.loglik : -next->u.logreg.loglik);
}

/* largest coefficient move and largest new coefficient */
static void
coef_step(const double *cur, const double *next, int n, double *maxstep,
		  double *maxcoef)
{
	*maxstep = 0;
	*maxcoef = 0;
	for (int i = 0; i < n; i++)
	{
		*maxstep = Max(*maxstep, fabs(next[i] - cur[i]));
		*maxcoef = Max(*maxcoef, fabs(next[i]));
	}
}

/*
 * The IRLS loop.  Starts from the intercept-only fit (or from start, the
 * first step already taken: iteration 1); each pass returns the
 * next coefficients and the log-likelihood of the ones it started from.
 * Stops when no coefficient moves by more than tol (relative to the largest
 * one), at max_iter, or when the classes are separated (coefficients grow
 * without bound: only a penalty gives a finite answer).
 */
bytea *
ml_train_logreg_fit(TrainRun *run, bytea *encoder, char **names,
					const double *start)
{
	int			k = run->nfeat;
	mlx_logreg_fit cur;
	mlx_model	next;
	bytea	   *cur_bytes;
	StringInfoData sql;
	char	   *y01 = label01_sql(run);
	bool		converged = false;
	bool		separated = false;
	int			iter;
	double		loglik = NAN;
	double		wsum[2];
	MemoryContext old;

	/*
	 * More than two classes, or a design too wide for the QR state of
	 * IRLS: the softmax passes (Newton or L-BFGS) in train_softmax.c.
	 */
	if (run->nclasses > 2 || strcmp(run->opt.solver, "lbfgs") == 0 ||
		(strcmp(run->opt.solver, "auto") == 0 && k + 1 > ML_LOGREG_AUTO_IRLS_FEATURES))
		return ml_train_softmax_fit(run, encoder, names);

	memset(&cur, 0, sizeof(cur));
	cur.nfeat = k;
	cur.coef = palloc0(sizeof(double) * (k + 1));
	cur.se = palloc(sizeof(double) * (k + 1));
	cur.zval = palloc(sizeof(double) * (k + 1));
	cur.pval = palloc(sizeof(double) * (k + 1));
	for (int i = 0; i <= k; i++)
		cur.se[i] = cur.zval[i] = cur.pval[i] = NAN;
	cur.loglik = cur.loglik_null = cur.deviance = NAN;
	complete_fit(run, &cur, run->class_count[0] + run->class_count[1]);

	/*
	 * Start from the intercept-only optimum, the log-odds of the (weighted)
	 * classes, rather than from zero: a pass or two fewer, and the first
	 * pass's loss is the null model's.
	 */
	if (run->opt.fit_intercept)
		cur.coef[0] = log((run->class_weight[1] * run->class_count[1]) /
						  (run->class_weight[0] * run->class_count[0]));
	/* ... or from the step the start pass took from there (train_linreg.c) */
	if (start != NULL)
		memcpy(cur.coef, start, sizeof(double) * (k + 1));

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT ml._glm_pass_state(%s, $2, $1%s)%s",
					 y01, ml_pass_columns(run, 3), ml_pass_from(run));

	for (iter = (start != NULL) ? 2 : 1; iter <= run->opt.max_iter; iter++)
	{
		double		maxstep,
					maxcoef;

		cur_bytes = encode_logreg(&cur, names);
		irls_pass(run, sql.data, encoder, cur_bytes, &next);
		loglik = next.u.logreg.loglik;

		coef_step(cur.coef, next.u.logreg.coef, k + 1, &maxstep, &maxcoef);
		/* adopt the new coefficients; statistics are those of the pass */
		next.u.logreg.iterations = iter;
		cur = next.u.logreg;
		complete_fit(run, &cur, run->class_count[0] + run->class_count[1]);

		if (maxstep <= run->opt.tol * (1 + maxcoef))
		{
			converged = true;
			break;
		}
		/*
		 * Without a penalty, coefficients that classify every row strictly
		 * right prove complete separation: the likelihood has no maximum.
		 */
		if (run->opt.lambda == 0 &&
			(next.u.logreg.separation || maxcoef > 1e8 ||
			 -loglik < 1e-9 * (run->class_count[0] + run->class_count[1])))
		{
			separated = true;
			break;
		}
	}

	cur.iterations = Min(iter, run->opt.max_iter);
	cur.converged = converged;
	cur.separation = separated;
	cur.loglik = loglik;
	cur.deviance = -2 * loglik;
	wsum[0] = run->class_weight[0] * run->class_count[0];
	wsum[1] = run->class_weight[1] * run->class_count[1];
	if (run->opt.fit_intercept)
	{
		double		p1 = wsum[1] / (wsum[0] + wsum[1]);

		cur.loglik_null = wsum[1] * log(p1) + wsum[0] * log1p(-p1);
	}
	else
		cur.loglik_null = (wsum[0] + wsum[1]) * log(0.5);

	if (separated)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("the classes of model \"%s\" are perfectly separated by the features",
						run->model_name),
				 errdetail("Without a penalty the coefficients grow without bound; training stopped after %d iterations.",
						   cur.iterations),
				 errhint("Set option \"lambda\" > 0 for a finite, regularized solution.")));
	else if (!converged)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("logistic regression of model \"%s\" did not converge in %d iterations",
						run->model_name, run->opt.max_iter),
				 errhint("Raise option \"max_iter\", loosen \"tol\", or scale the features.")));
	old = MemoryContextSwitchTo(run->cxt);
	cur_bytes = encode_logreg(&cur, names);
	MemoryContextSwitchTo(old);
	return cur_bytes;
}

/*
 * Metrics of a classifier with more than two classes: accuracy, macro
 * precision, recall and F1 (scikit-learn's average='macro'), and the log
 * loss from the probability given to each row's actual class.  The label
 * and that probability come from the volatile wrappers ml._predict_label
 * and ml._predict_proba_at, so each is computed once per row, not once per
 * metric.
 */
static Jsonb *
multiclass_metrics(TrainRun *run, bytea *model)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[2] = {BYTEAOID, TEXTARRAYOID};
	Datum		args[2];
	Datum	   *labels = palloc(sizeof(Datum) * run->nclasses);
	const char *pred = run->test_pred ? run->test_pred : run->train_pred;
	Jsonb	   *result;
	bool		isnull;
	int			planned;
	MemoryContext old;

	for (int i = 0; i < run->nclasses; i++)
		labels[i] = CStringGetTextDatum(run->classes[i]);
	args[0] = PointerGetDatum(model);
	args[1] = PointerGetDatum(construct_array(labels, run->nclasses, TEXTOID, -1, false, TYPALIGN_INT));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.jsonb_build_object("
					 "'accuracy'::pg_catalog.text, ml.accuracy(a, l), 'precision'::pg_catalog.text, ml.precision(a, l), "
					 "'recall'::pg_catalog.text, ml.recall(a, l), 'f1'::pg_catalog.text, ml.f1(a, l), "
					 "'log_loss'::pg_catalog.text, ml.log_loss(true, p), "
					 "'n_test'::pg_catalog.text, pg_catalog.count(*), 'evaluated_on'::pg_catalog.text, %s), "
					 "ml._processes(1), pg_catalog.count(*) "
					 "FROM (SELECT (src.%s)::pg_catalog.text AS a, ml._predict_label($1, %s) AS l, "
					 "ml._predict_proba_at($1, %s, pg_catalog.array_position($2, (src.%s)::pg_catalog.text)) AS p "
					 "FROM %s AS src WHERE %s AND src.%s IS NOT NULL) s",
					 run->test_pred ? "'test'::pg_catalog.text" : "'training'::pg_catalog.text",
					 run->qtarget, run->encode_sql, run->encode_sql, run->qtarget,
					 run->from, pred, run->qtarget);
	planned = ml_spi_run_pass(sql.data, 2, types, args);
	old = MemoryContextSwitchTo(run->cxt);
	result = DatumGetJsonbPCopy(ml_spi_value(0, 1, &isnull));
	MemoryContextSwitchTo(old);
	ml_record_pass(run, "evaluate", DatumGetInt64(ml_spi_value(0, 3, &isnull)),
				   DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, NAN);
	return result;
}

/*
 * Classifier metrics on the held-out rows (or the training rows):
 * accuracy, precision/recall/F1 of the positive class, log loss and ROC
 * AUC (the last only when both classes are present).
 */
Jsonb *
ml_train_classifier_metrics(TrainRun *run, bytea *model)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[1] = {BYTEAOID};
	Datum		args[1];
	const char *pred = run->test_pred ? run->test_pred : run->train_pred;
	const char *pos;
	const char *label;
	Jsonb	   *result;
	bool		isnull;
	int			planned;
	MemoryContext old;

	if (run->nclasses > 2)
		return multiclass_metrics(run, model);
	pos = quote_literal_cstr(run->classes[1]);

	/*
	 * One scan, each row scored once: ml._predict_proba_at is volatile, so
	 * the subquery that computes it is not flattened into one evaluation per
	 * use of p (as an immutable expression would be).  A
	 * binary logistic model predicts the positive class when its probability
	 * is at least 1/2, so the label follows from the probability (as does
	 * a binary tree model's); naive Bayes breaks ties its own way and is
	 * asked for its label.  The metrics are those of ml.accuracy,
	 * ml.precision, ml.recall and ml.f1 (zero division 0), from the
	 * confusion counts.
	 */
	if (strcmp(run->algorithm, "naive_bayes") != 0)
		label = "p OPERATOR(pg_catalog.>=) 0.5::pg_catalog.float8";
	else
		label = "l";
	args[0] = PointerGetDatum(model);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.jsonb_build_object("
					 "'accuracy'::pg_catalog.text, (tp + tn)::pg_catalog.float8 / n, "
					 "'precision'::pg_catalog.text, CASE WHEN tp + fp > 0 THEN tp::pg_catalog.float8 / (tp + fp) ELSE 0::pg_catalog.float8 END, "
					 "'recall'::pg_catalog.text, CASE WHEN tp + fn > 0 THEN tp::pg_catalog.float8 / (tp + fn) ELSE 0::pg_catalog.float8 END, "
					 "'f1'::pg_catalog.text, CASE WHEN tp > 0 THEN 2::pg_catalog.float8 * tp::pg_catalog.float8 / (2 * tp + fp + fn) ELSE 0::pg_catalog.float8 END, "
					 "'log_loss'::pg_catalog.text, ll, 'n_test'::pg_catalog.text, n, 'evaluated_on'::pg_catalog.text, %s) OPERATOR(pg_catalog.||) "
					 "CASE WHEN auc IS NULL THEN '{}'::pg_catalog.jsonb ELSE pg_catalog.jsonb_build_object('roc_auc'::pg_catalog.text, auc) END, "
					 "processes, n FROM ("
					 "SELECT pg_catalog.count(*) AS n, "
					 "pg_catalog.count(*) FILTER (WHERE y AND (%s)) AS tp, pg_catalog.count(*) FILTER (WHERE NOT y AND (%s)) AS fp, "
					 "pg_catalog.count(*) FILTER (WHERE y AND NOT (%s)) AS fn, pg_catalog.count(*) FILTER (WHERE NOT y AND NOT (%s)) AS tn, "
					 "ml.log_loss(y, p) AS ll, ml._roc_auc_or_null(y, p) AS auc, ml._processes(1) AS processes "
					 "FROM (SELECT (src.%s)::pg_catalog.text OPERATOR(pg_catalog.=) %s::pg_catalog.text AS y, %s AS l, "
					 "ml._predict_proba_at($1, %s, 2) AS p "
					 "FROM %s AS src WHERE %s AND src.%s IS NOT NULL) s) r",
					 run->test_pred ? "'test'::pg_catalog.text" : "'training'::pg_catalog.text",
					 label, label, label, label,
					 run->qtarget, pos,
					 strcmp(label, "l") == 0 ?
					 psprintf("ml.predict_label($1, %s) OPERATOR(pg_catalog.=) %s::pg_catalog.text", run->encode_sql, pos) : "NULL::pg_catalog.bool",
					 run->encode_sql, run->from, pred, run->qtarget);
	planned = ml_spi_run_pass(sql.data, 1, types, args);
	old = MemoryContextSwitchTo(run->cxt);
	result = DatumGetJsonbPCopy(ml_spi_value(0, 1, &isnull));
	MemoryContextSwitchTo(old);
	ml_record_pass(run, "evaluate", DatumGetInt64(ml_spi_value(0, 3, &isnull)),
				   DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, NAN);
	return result;
}

/* ---------- Poisson regression ---------- */

static bytea *
encode_poisson(mlx_poisson_fit *fit, char **names)
{
	mlx_model	m;

	ml_check_status(mlx_model_from_poisson(fit, names, &ml_pg_ctx, &m),
					"model encoding");
	return ml_encode_model(&m);
}

/*
 * Poisson regression by IRLS.  A first small pass checks the counts (none
 * negative, not all zero when fitting an intercept) and gathers sum y and
 * sum y log y, from which the null model's log-likelihood and deviance
 * follow exactly.  Starts from the intercept log(mean y) (the null model)
 * and zero slopes; stops like logistic regression.
 */
bytea *
ml_train_poisson_fit(TrainRun *run, bytea *encoder, char **names)
{
	int			k = run->nfeat;
	mlx_poisson_fit cur;
	mlx_model	next;
	bytea	   *cur_bytes;
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	bool		converged = false;
	bool		isnull;
	int			iter;
	int			planned;
	int64		n;
	double		sy,
				sylogy,
				ymin,
				ymean,
				s_terms,
				lgsum;
	MemoryContext old;

	/* the counts: n, sum y, sum y log y, smallest y */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*), pg_catalog.sum(y), "
					 "COALESCE(pg_catalog.sum(CASE WHEN y > 0::pg_catalog.float8 THEN y * pg_catalog.ln(y) ELSE 0::pg_catalog.float8 END), 0::pg_catalog.float8), "
					 "pg_catalog.min(y), ml._processes(1) "
					 "FROM (SELECT (src.%s)::pg_catalog.float8 AS y FROM %s AS src WHERE %s AND %s) s",
					 run->qtarget, run->from, run->train_pred, run->target_ok);
	planned = ml_spi_run_pass(sql.data, 0, NULL, NULL);
	n = DatumGetInt64(ml_spi_value(0, 1, &isnull));
	sy = DatumGetFloat8(ml_spi_value(0, 2, &isnull));
	sylogy = DatumGetFloat8(ml_spi_value(0, 3, &isnull));
	ymin = DatumGetFloat8(ml_spi_value(0, 4, &isnull));
	ml_record_pass(run, "counts", n, DatumGetInt32(ml_spi_value(0, 5, &isnull)), planned, start, NAN);
	if (ymin < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("target column \"%s\" has negative values (the smallest is %g); poisson_regression needs counts >= 0",
						run->target, ymin)));
	if (sy == 0 && run->opt.fit_intercept)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("target column \"%s\" is 0 in every training row; poisson_regression has no finite fit",
						run->target),
				 errhint("The intercept would be minus infinity.")));
	ymean = sy / n;

	memset(&cur, 0, sizeof(cur));
	cur.nfeat = k;
	cur.intercept = run->opt.fit_intercept;
	cur.lambda = run->opt.lambda;
	cur.nrows = n;
	cur.coef = palloc0(sizeof(double) * (k + 1));
	cur.se = palloc(sizeof(double) * (k + 1));
	cur.zval = palloc(sizeof(double) * (k + 1));
	cur.pval = palloc(sizeof(double) * (k + 1));
	for (int i = 0; i <= k; i++)
		cur.se[i] = cur.zval[i] = cur.pval[i] = NAN;
	cur.loglik = cur.loglik_null = cur.deviance = cur.null_deviance = NAN;
	if (run->opt.fit_intercept)
		cur.coef[0] = log(ymean);

	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT ml._glm_pass_state((src.%s)::pg_catalog.float8, $2, $1%s)%s",
					 run->qtarget, ml_pass_columns(run, 3), ml_pass_from(run));

	for (iter = 1; iter <= run->opt.max_iter; iter++)
	{
		double		maxstep,
					maxcoef;

		cur_bytes = encode_poisson(&cur, names);
		irls_pass(run, sql.data, encoder, cur_bytes, &next);
		coef_step(cur.coef, next.u.poisson.coef, k + 1, &maxstep, &maxcoef);
		cur = next.u.poisson;
		cur.intercept = run->opt.fit_intercept;
		cur.lambda = run->opt.lambda;
		cur.nrows = n;
		if (maxstep <= run->opt.tol * (1 + maxcoef))
		{
			converged = true;
			break;
		}
		if (!isfinite(maxcoef) || maxcoef > 1e8)
			break;
	}
	cur.iterations = Min(iter, run->opt.max_iter);
	cur.converged = converged;

	/*
	 * Null model.  Every pass's terms satisfy loglik + deviance / 2 = sum (y
	 * log y - y - lgamma(y + 1)) whatever the coefficients, which gives sum
	 * lgamma(y + 1) without computing it in SQL.
	 */
	s_terms = cur.loglik + cur.deviance / 2;
	lgsum = sylogy - sy - s_terms;
	if (run->opt.fit_intercept)
	{
		cur.loglik_null = sy * log(ymean) - sy - lgsum;
		cur.null_deviance = 2 * (sylogy - sy * log(ymean));
	}
	else
	{
		cur.loglik_null = -(double) n - lgsum;
		cur.null_deviance = 2 * (sylogy - sy + n);
	}
	if (cur.null_deviance < 0)
		cur.null_deviance = 0;	/* rounding when every count is equal */

	if (!converged)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("Poisson regression of model \"%s\" did not converge in %d iterations",
						run->model_name, cur.iterations),
				 errhint("Raise option \"max_iter\", set \"lambda\" > 0, or scale the features.")));
	old = MemoryContextSwitchTo(run->cxt);
	cur_bytes = encode_poisson(&cur, names);
	MemoryContextSwitchTo(old);
	return cur_bytes;
}
