/*
 * train_setup.c
 *	  ml.train's set-up before any pass over the data: the options object,
 *	  and the source's columns (target check, feature selection, kinds).
 *	  Also the small SPI helpers the training driver shares.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "core/kmeans.h"
#include "core/tree.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

const char *const ml_train_algorithms[] = {
	"linear_regression", "logistic_regression", "poisson_regression", "lasso",
	"elastic_net", "pca", "kmeans", "naive_bayes", "decision_tree",
	"random_forest", "gradient_boosting", NULL
};

static const char *const linreg_options[] = {
	"lambda", "fit_intercept", "test_fraction", "seed", "exclude", "deploy", NULL
};

static const char *const logreg_options[] = {
	"lambda", "fit_intercept", "class_weight", "max_iter", "tol", "solver",
	"test_fraction", "seed", "exclude", "deploy", NULL
};

static const char *const poisson_options[] = {
	"lambda", "fit_intercept", "max_iter", "tol", "test_fraction", "seed",
	"exclude", "deploy", NULL
};

static const char *const lasso_options[] = {
	"alpha", "max_iter", "tol", "test_fraction", "seed", "exclude", "deploy", NULL
};

static const char *const enet_options[] = {
	"alpha", "l1_ratio", "max_iter", "tol", "test_fraction", "seed", "exclude",
	"deploy", NULL
};

static const char *const kmeans_options[] = {
	"k", "n_init", "max_iter", "tol", "seed", "sample_rows", "exclude", "deploy", NULL
};

static const char *const nbayes_options[] = {
	"distribution", "var_smoothing", "alpha", "test_fraction", "seed", "exclude",
	"deploy", NULL
};

static const char *const gbdt_options[] = {
	"objective", "n_estimators", "learning_rate", "max_depth",
	"min_child_weight", "lambda", "gamma", "subsample", "colsample",
	"max_bins", "early_stopping_rounds", "test_fraction", "seed", "exclude",
	"deploy", NULL
};

static const char *const forest_options[] = {
	"objective", "n_estimators", "max_depth", "min_samples_leaf",
	"max_features", "bootstrap", "max_bins", "test_fraction", "seed",
	"exclude", "deploy", NULL
};

static const char *const dtree_options[] = {
	"objective", "max_depth", "min_samples_leaf", "max_features", "max_bins",
	"test_fraction", "seed", "exclude", "deploy", NULL
};

static const char *const pca_options[] = {
	"n_components", "exclude", "deploy", NULL
};

bool
ml_train_is_tree(const char *algorithm)
{
	return strcmp(algorithm, "decision_tree") == 0 ||
		strcmp(algorithm, "random_forest") == 0 ||
		strcmp(algorithm, "gradient_boosting") == 0;
}

static const char *const *
algorithm_options(const TrainRun *run)
{
	if (strcmp(run->algorithm, "gradient_boosting") == 0)
		return gbdt_options;
	if (strcmp(run->algorithm, "random_forest") == 0)
		return forest_options;
	if (strcmp(run->algorithm, "decision_tree") == 0)
		return dtree_options;
	if (strcmp(run->algorithm, "naive_bayes") == 0)
		return nbayes_options;
	if (run->classifier)
		return logreg_options;
	if (strcmp(run->algorithm, "poisson_regression") == 0)
		return poisson_options;
	if (strcmp(run->algorithm, "lasso") == 0)
		return lasso_options;
	if (strcmp(run->algorithm, "elastic_net") == 0)
		return enet_options;
	if (strcmp(run->algorithm, "pca") == 0)
		return pca_options;
	if (strcmp(run->algorithm, "kmeans") == 0)
		return kmeans_options;
	return linreg_options;
}

char *
ml_join_names(const char *const *names)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; names[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", names[i]);
	return buf.data;
}

void
ml_spi_run(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed (%d): %s", rc, sql);
	if (expect >= 0 && SPI_processed != (uint64) expect)
		elog(ERROR, "query returned %llu rows, expected %d: %s",
			 (unsigned long long) SPI_processed, expect, sql);
}

Datum
ml_spi_value(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* ---------- options ---------- */

static void
raise_option_error(const TrainRun *run, const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" %s", key, what),
			 errhint("Valid options for %s are: %s.", run->algorithm,
					 ml_join_names(algorithm_options(run)))));
}

/*
 * Parse the options object with SQL (jsonb_each), which keeps this file
 * free of the jsonb iterator API and gives exact numeric conversions.
 */
void
ml_train_parse_options(TrainRun *run, Jsonb *options)
{
	TrainOptions *o = &run->opt;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];

	o->lambda = 0;
	o->fit_intercept = true;
	o->test_fraction = 0;
	o->seed = 0;
	o->deploy = true;
	o->exclude = NIL;
	o->class_weight = NULL;
	o->solver = "auto";
	o->alpha = 1.0;				/* scikit-learn's defaults */
	o->l1_ratio = 0.5;
	o->n_components = 0;
	o->k = 8;					/* scikit-learn's KMeans defaults */
	o->n_init = 10;
	o->sample_rows = 100000;
	o->distribution = "gaussian";
	o->var_smoothing = 1e-9;	/* scikit-learn's GaussianNB */
	o->nb_alpha = 1.0;			/* scikit-learn's MultinomialNB */
	o->objective = NULL;		/* trees: from the target's type */
	o->n_estimators = strcmp(run->algorithm, "decision_tree") == 0 ? 1 : 100;
	o->learning_rate = 0.3;		/* XGBoost's defaults */
	o->max_depth = strcmp(run->algorithm, "gradient_boosting") == 0 ? 6 : 10;
	o->min_child_weight = 1;
	o->min_samples_leaf = 1;
	o->gamma = 0;
	o->subsample = 1;
	o->colsample = 1;
	o->max_bins = MLX_TREE_MAX_BINS;
	o->early_stopping_rounds = 0;
	o->bootstrap = true;
	o->max_features = NULL;		/* forests: "sqrt" to classify, else all */
	if (run->classifier || strcmp(run->algorithm, "poisson_regression") == 0)
	{
		o->max_iter = 100;		/* IRLS passes over the data */
		o->tol = 1e-10;
	}
	else if (strcmp(run->algorithm, "kmeans") == 0)
	{
		o->max_iter = 300;		/* Lloyd iterations (passes over the data) */
		o->tol = 1e-4;			/* of the mean feature variance */
	}
	else
	{
		/* coordinate-descent sweeps: in memory, independent of the rows */
		o->max_iter = 10000;
		o->tol = 1e-10;
	}

	if (options == NULL)
		return;
	args[0] = JsonbPGetDatum(options);
	ml_spi_run("SELECT pg_catalog.jsonb_typeof($1)", 1, argtypes, args, 1);
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "object") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object"),
				 errhint("For example '{\"lambda\": 1.0, \"test_fraction\": 0.2}'.")));

	ml_spi_run("SELECT key, pg_catalog.jsonb_typeof(value), value OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[] "
			   "FROM pg_catalog.jsonb_each($1) ORDER BY key",
			1, argtypes, args, -1);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		char	   *key = SPI_getvalue(tup, td, 1);
		char	   *type = SPI_getvalue(tup, td, 2);
		char	   *text = SPI_getvalue(tup, td, 3);
		bool		known = false;

		for (int j = 0; algorithm_options(run)[j] != NULL; j++)
			if (strcmp(key, algorithm_options(run)[j]) == 0)
				known = true;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%s\" for algorithm %s", key, run->algorithm),
					 errhint("Valid options are: %s.", ml_join_names(algorithm_options(run)))));

		if (strcmp(key, "distribution") == 0)
		{
			if (strcmp(type, "string") != 0 ||
				(strcmp(text, "gaussian") != 0 && strcmp(text, "multinomial") != 0))
				raise_option_error(run, key, "must be \"gaussian\" or \"multinomial\"");
			o->distribution = MemoryContextStrdup(run->cxt, text);
		}
		else if (strcmp(key, "var_smoothing") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (!(v >= 0) || isinf(v))
				raise_option_error(run, key, "must be a finite number >= 0");
			o->var_smoothing = v;
		}
		else if (strcmp(key, "alpha") == 0 && strcmp(run->algorithm, "naive_bayes") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (!(v > 0) || isinf(v))
				raise_option_error(run, key, "must be a finite number > 0");
			o->nb_alpha = v;
		}
		else if (strcmp(key, "objective") == 0)
		{
			if (strcmp(type, "string") != 0 ||
				(strcmp(text, "regression") != 0 && strcmp(text, "binary") != 0 &&
				 strcmp(text, "multiclass") != 0))
				raise_option_error(run, key, "must be \"regression\", \"binary\" or \"multiclass\"");
			o->objective = MemoryContextStrdup(run->cxt, text);
		}
		else if (strcmp(key, "max_features") == 0)
		{
			if (strcmp(type, "string") == 0 &&
				(strcmp(text, "sqrt") == 0 || strcmp(text, "log2") == 0 ||
				 strcmp(text, "all") == 0))
				o->max_features = MemoryContextStrdup(run->cxt, text);
			else if (strcmp(type, "number") == 0)
			{
				double		v = ml_float8in(text, NULL, "double precision", text);

				if (!((v > 0 && v < 1) || (v >= 1 && v == floor(v) && v <= MLX_TREE_MAX_FEATURES)))
					raise_option_error(run, key, "must be \"sqrt\", \"log2\", \"all\", a number of features, or a fraction between 0 and 1");
				o->max_features = MemoryContextStrdup(run->cxt, text);
			}
			else
				raise_option_error(run, key, "must be \"sqrt\", \"log2\", \"all\", a number of features, or a fraction between 0 and 1");
		}
		else if (strcmp(key, "bootstrap") == 0)
		{
			if (strcmp(type, "boolean") != 0)
				raise_option_error(run, key, "must be true or false");
			o->bootstrap = (strcmp(text, "true") == 0);
		}
		else if (strcmp(key, "n_estimators") == 0 || strcmp(key, "max_depth") == 0 ||
				 strcmp(key, "min_samples_leaf") == 0 || strcmp(key, "max_bins") == 0 ||
				 strcmp(key, "early_stopping_rounds") == 0)
		{
			double		v;
			double		lo = 1;
			double		hi;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			hi = strcmp(key, "n_estimators") == 0 ? ML_MAX_TREE_ESTIMATORS :
				strcmp(key, "max_depth") == 0 ? MLX_TREE_MAX_DEPTH :
				strcmp(key, "max_bins") == 0 ? MLX_TREE_MAX_BINS :
				strcmp(key, "min_samples_leaf") == 0 ? 1000000000 : 10000;
			if (strcmp(key, "max_bins") == 0)
				lo = 2;
			if (v != floor(v) || v < lo || v > hi)
				raise_option_error(run, key,
								   psprintf("must be an integer from %d to %d", (int) lo, (int) hi));
			if (strcmp(key, "n_estimators") == 0)
				o->n_estimators = (int) v;
			else if (strcmp(key, "max_depth") == 0)
				o->max_depth = (int) v;
			else if (strcmp(key, "min_samples_leaf") == 0)
				o->min_samples_leaf = (int) v;
			else if (strcmp(key, "max_bins") == 0)
				o->max_bins = (int) v;
			else
				o->early_stopping_rounds = (int) v;
		}
		else if (strcmp(key, "learning_rate") == 0 || strcmp(key, "min_child_weight") == 0 ||
				 strcmp(key, "gamma") == 0 || strcmp(key, "subsample") == 0 ||
				 strcmp(key, "colsample") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (strcmp(key, "min_child_weight") == 0 || strcmp(key, "gamma") == 0)
			{
				if (!(v >= 0) || isinf(v))
					raise_option_error(run, key, "must be a finite number >= 0");
				if (strcmp(key, "gamma") == 0)
					o->gamma = v;
				else
					o->min_child_weight = v;
			}
			else
			{
				if (!(v > 0 && v <= 1))
					raise_option_error(run, key, "must be greater than 0 and at most 1");
				if (strcmp(key, "learning_rate") == 0)
					o->learning_rate = v;
				else if (strcmp(key, "subsample") == 0)
					o->subsample = v;
				else
					o->colsample = v;
			}
		}
		else if (strcmp(key, "solver") == 0)
		{
			if (strcmp(type, "string") != 0 ||
				(strcmp(text, "auto") != 0 && strcmp(text, "newton") != 0 &&
				 strcmp(text, "lbfgs") != 0))
				raise_option_error(run, key, "must be \"auto\", \"newton\" or \"lbfgs\"");
			o->solver = MemoryContextStrdup(run->cxt, text);
		}
		else if (strcmp(key, "class_weight") == 0)
		{
			if (strcmp(type, "string") == 0 && strcmp(text, "balanced") == 0)
				o->class_weight = MemoryContextStrdup(run->cxt, "balanced");
			else if (strcmp(type, "object") == 0)
				o->class_weight = MemoryContextStrdup(run->cxt, text);
			else
				raise_option_error(run, key, "must be \"balanced\" or an object of class weights like {\"yes\": 2}");
		}
		else if (strcmp(key, "max_iter") == 0 || strcmp(key, "tol") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (strcmp(key, "max_iter") == 0)
			{
				if (v != floor(v) || v < 1 || v > 10000)
					raise_option_error(run, key, "must be an integer from 1 to 10000");
				o->max_iter = (int) v;
				o->max_iter_set = true;
			}
			else
			{
				if (!(v > 0 && v < 1))
					raise_option_error(run, key, "must be greater than 0 and less than 1");
				o->tol = v;
			}
		}
		else if (strcmp(key, "k") == 0 || strcmp(key, "n_init") == 0 ||
				 strcmp(key, "sample_rows") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (strcmp(key, "k") == 0)
			{
				if (v != floor(v) || v < 1 || v > MLX_KMEANS_MAX_K)
					raise_option_error(run, key,
									   psprintf("must be an integer from 1 to %d", MLX_KMEANS_MAX_K));
				o->k = (int) v;
			}
			else if (strcmp(key, "n_init") == 0)
			{
				if (v != floor(v) || v < 1 || v > 1000)
					raise_option_error(run, key, "must be an integer from 1 to 1000");
				o->n_init = (int) v;
			}
			else
			{
				if (v != floor(v) || v < 1000 || v > 10000000)
					raise_option_error(run, key, "must be an integer from 1000 to 10000000");
				o->sample_rows = (int) v;
			}
		}
		else if (strcmp(key, "alpha") == 0 || strcmp(key, "l1_ratio") == 0 ||
				 strcmp(key, "n_components") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (strcmp(key, "alpha") == 0)
			{
				if (!(v >= 0) || isinf(v))
					raise_option_error(run, key, "must be a finite number >= 0");
				o->alpha = v;
			}
			else if (strcmp(key, "l1_ratio") == 0)
			{
				if (!(v >= 0 && v <= 1))
					raise_option_error(run, key, "must be between 0 and 1 (1 is the lasso, 0 ridge)");
				o->l1_ratio = v;
			}
			else
			{
				if (v != floor(v) || v < 1 || v > ML_MAX_TRAIN_FEATURES)
					raise_option_error(run, key,
									   psprintf("must be an integer from 1 to %d", ML_MAX_TRAIN_FEATURES));
				o->n_components = (int) v;
			}
		}
		else if (strcmp(key, "lambda") == 0 || strcmp(key, "test_fraction") == 0 ||
				 strcmp(key, "seed") == 0)
		{
			double		v;

			if (strcmp(type, "number") != 0)
				raise_option_error(run, key, "must be a number");
			v = ml_float8in(text, NULL, "double precision", text);
			if (strcmp(key, "lambda") == 0)
			{
				if (!(v >= 0) || isinf(v))
					raise_option_error(run, key, "must be a finite number >= 0");
				o->lambda = v;
				o->lambda_set = true;
			}
			else if (strcmp(key, "test_fraction") == 0)
			{
				if (!(v >= 0 && v < 1))
					raise_option_error(run, key, "must be at least 0 and less than 1");
				o->test_fraction = v;
			}
			else
			{
				if (v != floor(v) || fabs(v) > 9007199254740992.0)
					raise_option_error(run, key, "must be an integer");
				o->seed = (int64) v;
			}
		}
		else if (strcmp(key, "fit_intercept") == 0 || strcmp(key, "deploy") == 0)
		{
			if (strcmp(type, "boolean") != 0)
				raise_option_error(run, key, "must be true or false");
			if (strcmp(key, "fit_intercept") == 0)
				o->fit_intercept = (strcmp(text, "true") == 0);
			else
				o->deploy = (strcmp(text, "true") == 0);
		}
		else if (strcmp(key, "exclude") == 0)
		{
			if (strcmp(type, "array") != 0)
				raise_option_error(run, key, "must be an array of column names");
		}
	}

	/*
	 * exclude: an array of strings, read in place.  It may be long (a
	 * million names): one pass over it, checking for a cancel.
	 */
	{
		JsonbValue	key;
		JsonbValue *ex;

		key.type = jbvString;
		key.val.string.val = "exclude";
		key.val.string.len = strlen("exclude");
		ex = findJsonbValueFromContainer(&options->root, JB_FOBJECT, &key);
		if (ex != NULL && ex->type == jbvBinary)
		{
			JsonbIterator *it = JsonbIteratorInit(ex->val.binary.data);
			JsonbIteratorToken tok;
			JsonbValue	v;
			MemoryContext old = MemoryContextSwitchTo(run->cxt);
			int64		i = 0;

			while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			{
				if (tok != WJB_ELEM)
					continue;	/* the array's begin and end */
				if ((i++ & 1023) == 0)
					CHECK_FOR_INTERRUPTS();
				if (v.type != jbvString)
					raise_option_error(run, "exclude", "must be an array of column names");
				o->exclude = lappend(o->exclude, pnstrdup(v.val.string.val, v.val.string.len));
			}
			MemoryContextSwitchTo(old);
		}
	}
}

/* ---------- columns ---------- */

bool
ml_is_numeric_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
		t == FLOAT8OID || t == NUMERICOID;
}

static bool
is_categorical_type(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID || t == NAMEOID ||
		type_is_enum(t);
}

static uint8
column_kind(const char *name, Oid typid)
{
	if (ml_is_numeric_type(typid))
		return MLX_INPUT_NUMERIC;
	if (typid == BOOLOID)
		return MLX_INPUT_BOOLEAN;
	if (is_categorical_type(typid))
		return MLX_INPUT_CATEGORICAL;
	if (typid == FLOAT8ARRAYOID)
		return MLX_INPUT_ARRAY;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" has unsupported type %s", name, format_type_be(typid)),
			 errhint("Feature columns may be numeric, integer, floating point, boolean, text, varchar, enum or double precision[]; cast others in a query, or leave the column out with \"features\" or the \"exclude\" option.")));
	return 0;					/* keep compiler quiet */
}

/* A column of the source by name, for lookups that lists would make quadratic */
typedef struct ColumnEntry
{
	char		name[NAMEDATALEN];	/* hash key */
	int			att;			/* 0-based attribute number */
} ColumnEntry;

/* The 0-based attribute number of column 'name', or -1 */
static int
column_att(HTAB *cols, const char *name)
{
	ColumnEntry *e;

	/* the table compares NAMEDATALEN - 1 bytes: a longer name is no column */
	if (strlen(name) >= NAMEDATALEN)
		return -1;
	e = hash_search(cols, name, HASH_FIND, NULL);
	return e ? e->att : -1;
}

/*
 * Look at the source's columns (a LIMIT 0 query), check the target and the
 * requested features, and classify every feature column.
 */
void
ml_train_resolve_columns(TrainRun *run, ArrayType *features)
{
	StringInfoData sql;
	TupleDesc	td;
	int			target_att = 0;
	List	   *wanted = NIL;
	MemoryContext old;
	HASHCTL		ctl;
	HTAB	   *cols;
	bool	   *picked;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT * FROM %s AS src LIMIT 0", run->from);
	ml_spi_run(sql.data, 0, NULL, NULL, 0);
	td = SPI_tuptable->tupdesc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(ColumnEntry);
	ctl.hcxt = CurrentMemoryContext;
	cols = hash_create("ml.train columns", Max(td->natts, 1), &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	picked = palloc0(sizeof(bool) * Max(td->natts, 1));
	for (int i = 0; i < td->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(td, i);
		ColumnEntry *e;
		bool		found;

		if (a->attisdropped)
			continue;
		e = hash_search(cols, NameStr(a->attname), HASH_ENTER, &found);
		e->att = i;
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" appears more than once in relation %s",
							NameStr(a->attname), run->relation),
					 errhint("Give the columns distinct names with AS in the query.")));
		if (run->target != NULL && strcmp(NameStr(a->attname), run->target) == 0)
			target_att = i + 1;
	}
	if (run->target == NULL)
		run->target_type = InvalidOid;
	else if (target_att == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("target column \"%s\" does not exist in relation %s",
						run->target, run->relation)));
	else
		run->target_type = getBaseType(TupleDescAttr(td, target_att - 1)->atttypid);
	if (run->target == NULL)
		;						/* unsupervised */
	else if (run->classifier || ml_train_is_tree(run->algorithm))
	{
		/* trees: numeric or a class label; the objective decides (later) */
		if (!ml_is_numeric_type(run->target_type) && run->target_type != BOOLOID &&
			!is_categorical_type(run->target_type))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("target column \"%s\" has type %s, but %s needs a boolean, text, enum or numeric class label",
							run->target, format_type_be(run->target_type), run->algorithm)));
	}
	else if (!ml_is_numeric_type(run->target_type))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("target column \"%s\" has type %s, but %s needs a numeric target",
						run->target, format_type_be(run->target_type), run->algorithm)));

	/* which columns are features */
	if (features != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(features, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must name at least one column")));
		for (int i = 0; i < n; i++)
		{
			char	   *name;
			int			att;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("features must not contain NULL")));
			name = TextDatumGetCString(elems[i]);
			att = column_att(cols, name);
			if (att >= 0 && picked[att])
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" is listed more than once in features", name)));
			if (run->target != NULL && strcmp(name, run->target) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the target column \"%s\" cannot also be a feature", name)));
			if (att < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist in relation %s",
								name, run->relation)));
			picked[att] = true;
			wanted = lappend(wanted, name);
		}
	}
	else
	{
		ListCell   *lc;
		int			i = 0;

		/* here "picked" marks the excluded columns */
		foreach(lc, run->opt.exclude)
		{
			const char *ex = (const char *) lfirst(lc);
			int			att = column_att(cols, ex);

			if ((i++ & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (att < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" named in option \"exclude\" does not exist in relation %s",
								ex, run->relation)));
			picked[att] = true;
		}
		for (int j = 0; j < td->natts; j++)
		{
			Form_pg_attribute a = TupleDescAttr(td, j);

			if (a->attisdropped || j + 1 == target_att || picked[j])
				continue;
			wanted = lappend(wanted, pstrdup(NameStr(a->attname)));
		}
		if (wanted == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 run->target ?
					 errmsg("relation %s has no feature columns besides the target \"%s\"",
							run->relation, run->target) :
					 errmsg("relation %s has no feature columns", run->relation)));
	}

	/* classify, in the order given (features) or the table's order */
	old = MemoryContextSwitchTo(run->cxt);
	run->columns = NIL;
	{
		ListCell   *lc;

		foreach(lc, wanted)
		{
			const char *name = (const char *) lfirst(lc);
			TrainColumn *c = palloc0(sizeof(TrainColumn));

			for (int j = 0; j < td->natts; j++)
			{
				Form_pg_attribute a = TupleDescAttr(td, j);

				if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
					c->typid = getBaseType(a->atttypid);
			}
			c->name = pstrdup(name);
			c->qname = quote_identifier(c->name);
			c->kind = column_kind(c->name, c->typid);
			c->nfeat = 1;
			run->columns = lappend(run->columns, c);
		}
	}
	MemoryContextSwitchTo(old);
}

/* ---------- shared by the passes ---------- */

/* A float8 literal that reads back to the same double. */
void
ml_append_float8(StringInfo buf, double v)
{
	appendStringInfo(buf, "'%.17g'::pg_catalog.float8", v);
}

/*
 * Bookkeeping statements (the registry, one-row probes) run without
 * parallel workers, whatever the session allows the passes: starting
 * workers for a few rows costs more than the rows.  The setting is back
 * at ml_serial_end, or at the end of the (sub)transaction on an error.
 */
int
ml_serial_begin(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("max_parallel_workers_per_gather", "0",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return level;
}

void
ml_serial_end(int level)
{
	AtEOXact_GUC(true, level);
}

/*
 * The FROM clause of a pass over the training rows: the source, and the
 * split's condition only when there is a split (a WHERE clause costs the
 * scan more than the same test as an aggregate's FILTER).
 */
char *
ml_pass_from(TrainRun *run)
{
	return run->test_pred ?
		psprintf(" FROM %s AS src WHERE %s", run->from, run->train_pred) :
		psprintf(" FROM %s AS src", run->from);
}

/*
 * The feature columns as the trailing arguments of a pass aggregate that
 * reads them itself (ml._linreg_train, ml._glm_pass_state): ", src.<col>"
 * for each, or past PostgreSQL's argument limit the whole row, ", src".
 * 'fixed' is the number of the aggregate's other arguments.
 */
char *
ml_pass_columns(TrainRun *run, int fixed)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (list_length(run->columns) + fixed + 1 <= FUNC_MAX_ARGS)
		foreach(lc, run->columns)
			appendStringInfo(&buf, ", src.%s", ((TrainColumn *) lfirst(lc))->qname);
	else
		appendStringInfoString(&buf, ", src");
	return buf.data;
}

/* A JSON text built by the driver as a jsonb value in run->cxt. */
Jsonb *
ml_train_jsonb(TrainRun *run, const char *text)
{
	MemoryContext old = MemoryContextSwitchTo(run->cxt);
	Jsonb	   *result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));

	MemoryContextSwitchTo(old);
	return result;
}

/* "key": v (null when not finite), after a comma unless it is the first */
void
ml_put_metric(StringInfo buf, const char *key, double v)
{
	appendStringInfo(buf, "%s\"%s\": %s", buf->len > 1 ? ", " : "", key,
					 isfinite(v) ? float8out_internal(v) : "null");
}

double
ml_elapsed_seconds(TimestampTz start)
{
	long		secs;
	int			usecs;

	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	return secs + usecs / 1e6;
}

/*
 * Run one pass.  Its plan is looked at first (EXPLAIN, no execution) so
 * the training info can say how many parallel workers the planner gave it;
 * ml._processes in the pass itself counts the processes that saw rows.
 */
int
ml_spi_run_pass(const char *sql, int nargs, Oid *types, Datum *values)
{
	char	   *explain = psprintf("EXPLAIN (FORMAT JSON) %s", sql);
	int			planned = 0;
	char	   *plan;
	const char *p;

	ml_spi_run(explain, nargs, types, values, 1);
	plan = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	for (p = plan; (p = strstr(p, "\"Workers Planned\": ")) != NULL;)
	{
		p += strlen("\"Workers Planned\": ");
		planned = Max(planned, atoi(p));
	}
	ml_spi_run(sql, nargs, types, values, 1);
	return planned;
}

/*
 * Record a finished pass (loss NaN when the pass has none) and report
 * progress: a DEBUG1 line for every pass, and a NOTICE when at least
 * ml.progress_interval seconds have gone by since the run started or since
 * the last NOTICE (so short runs stay quiet and long ones say how far they
 * are; client_min_messages decides whether the client sees them).
 */
void
ml_record_pass(TrainRun *run, const char *name, int64 rows, int processes,
			   int planned, TimestampTz start, double loss)
{
	double		seconds = ml_elapsed_seconds(start);
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz since = run->last_report ? run->last_report : run->started;
	int			elevel = DEBUG1;
	char		lossbuf[64];

	run->passes_run++;
	if (run->npasses < (int) lengthof(run->passes))
	{
		TrainPass  *p = &run->passes[run->npasses++];

		p->name = name;
		p->rows = rows;
		p->processes = processes;
		p->planned = planned;
		p->seconds = seconds;
		p->loss = loss;
	}
	if (ml_progress_interval >= 0 && run->started != 0 &&
		TimestampDifferenceExceeds(since, now, (int) (ml_progress_interval * 1000)))
	{
		elevel = NOTICE;
		run->last_report = now;
	}
	if (elevel >= log_min_messages || elevel >= client_min_messages)
	{
		lossbuf[0] = '\0';
		if (isfinite(loss))
			snprintf(lossbuf, sizeof(lossbuf), ", loss %.6g", loss);
		ereport(elevel,
				(errmsg("ml.train \"%s\": pass %d (%s) over " INT64_FORMAT " rows%s",
						run->model_name, run->passes_run, name, rows, lossbuf),
				 errdetail("The pass took %.3f s; %.3f s since training started.",
						   seconds, ml_elapsed_seconds(run->started))));
	}
}
