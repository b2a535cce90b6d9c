/*
 * ml_train.h
 *	  Declarations shared by the training driver, the registry lookups and
 *	  by-name scoring.
 */
#ifndef ML_TRAIN_H
#define ML_TRAIN_H

#include "postgres.h"

#include "model/model.h"
#include "core/linreg.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#define ML_MAX_CATEGORIES 1000
#define ML_MAX_TRAIN_PASSES 1024
#define ML_MAX_TRAIN_FEATURES MLX_LINREG_MAX_FEATURES
#define ML_MAX_TREE_ESTIMATORS 10000
/* "auto": binary logistic models with more coefficients use L-BFGS, not IRLS */
#define ML_LOGREG_AUTO_IRLS_FEATURES 300

/* one source column used as a feature */
typedef struct TrainColumn
{
	char	   *name;
	const char *qname;			/* quoted identifier */
	Oid			typid;			/* base type */
	uint8		kind;			/* MLX_INPUT_* */
	int			nfeat;
	double	   *impute;			/* numeric/boolean: 1, array: nfeat */
	char	  **categories;		/* categorical: nfeat (NULL entry first) */
} TrainColumn;

typedef struct TrainOptions
{
	double		lambda;
	bool		fit_intercept;
	double		test_fraction;
	int64		seed;
	bool		deploy;
	List	   *exclude;		/* of char * */
	int			max_iter;		/* iterative fits: iterations at most */
	bool		max_iter_set;	/* max_iter was given */
	char	   *solver;			/* logistic_regression: "auto", "newton",
								 * "lbfgs" */
	double		tol;			/* classifiers: convergence tolerance */
	char	   *class_weight;	/* classifiers: "balanced", a JSON object, or NULL */
	double		alpha;			/* lasso, elastic_net: penalty strength */
	double		l1_ratio;		/* elastic_net: share of the L1 penalty */
	int			n_components;	/* pca: components to keep, 0 = all */
	int			k;				/* kmeans: clusters */
	int			n_init;			/* kmeans: restarts on the sample */
	int			sample_rows;	/* kmeans: rows sampled for the restarts */
	char	   *distribution;	/* naive_bayes: "gaussian" or "multinomial" */
	double		var_smoothing;	/* naive_bayes gaussian */
	double		nb_alpha;		/* naive_bayes multinomial: additive smoothing */
	bool		lambda_set;		/* lambda was given */
	/* decision_tree, random_forest, gradient_boosting */
	char	   *objective;		/* "regression", "binary", "multiclass", or
								 * NULL: from the target's type */
	int			n_estimators;
	double		learning_rate;
	int			max_depth;
	double		min_child_weight;
	int			min_samples_leaf;
	double		gamma;
	double		subsample;
	double		colsample;
	int			max_bins;
	int			early_stopping_rounds;	/* 0 = none */
	bool		bootstrap;
	char	   *max_features;	/* "sqrt", "log2", "all", a number as text, or
								 * NULL (forest classification "sqrt", else
								 * all) */
} TrainOptions;

typedef struct TrainPass
{
	const char *name;
	int64		rows;
	int			processes;		/* processes that saw rows (ml._processes) */
	int			planned;		/* Workers Planned in the pass's plan */
	double		seconds;
	double		loss;			/* iterative passes: -log-likelihood, else NaN */
} TrainPass;

typedef struct TrainRun
{
	MemoryContext cxt;			/* survives SPI_finish */
	const char *algorithm;		/* one of ml_train_algorithms */
	bool		classifier;		/* logistic_regression, naive_bayes */
	const char *model_name;
	const char *relation;		/* as the user wrote it */
	const char *from;			/* FROM item */
	const char *target;			/* NULL for unsupervised algorithms (pca) */
	const char *qtarget;
	const char *target_ok;		/* SQL: "src.<target> IS NOT NULL", or "true" */
	char	   *encode_sql;		/* SQL: the encoded feature array of a row,
								 * "ml._encode_cols($1, src.<col>, ...)" */
	Oid			target_type;
	TrainOptions opt;
	List	   *columns;		/* of TrainColumn * */
	int			nfeat;
	char	   *train_pred;		/* WHERE clause for training rows */
	char	   *test_pred;		/* WHERE clause for held-out rows, or NULL */
	char	  **classes;		/* classifiers: labels as text, in the target
								 * type's order (binary: [1] is positive) */
	int			nclasses;
	int64	   *class_count;	/* classifiers: training rows per class */
	int64		bool_rows;		/* boolean target: training rows with a
								 * target, and how many are true, from the */
	int64		bool_true;		/* statistics pass (-1 before it) */
	double	   *class_weight;	/* logistic_regression: weight per class */
	TrainPass	passes[ML_MAX_TRAIN_PASSES];
	int			npasses;		/* passes recorded (at most
								 * ML_MAX_TRAIN_PASSES) */
	int			passes_run;		/* passes run, recorded or not */
	TimestampTz started;		/* start of the run (progress reports) */
	TimestampTz last_report;	/* last progress NOTICE, or 0 */
	Jsonb	   *metrics;		/* set by a fit that computed its metrics on
								 * the training rows itself (trees), else
								 * NULL */
} TrainRun;

/* ml.progress_interval: seconds between progress NOTICEs, -1 = none */
extern double ml_progress_interval;

/* algorithm names ml.train accepts, NULL-terminated */
extern const char *const ml_train_algorithms[];

/* ml.max_training_memory (kB) and ml.training_threads */
extern int	ml_max_training_memory;
extern int	ml_training_threads;

/* train_setup.c */
extern bool ml_train_is_tree(const char *algorithm);
extern bool ml_is_numeric_type(Oid t);	/* int2/4/8, float4/8, numeric */
extern void ml_train_parse_options(TrainRun *run, Jsonb *options);
extern void ml_train_resolve_columns(TrainRun *run, ArrayType *features);
extern char *ml_join_names(const char *const *names);
extern void ml_spi_run(const char *sql, int nargs, Oid *types, Datum *values,
					   int expect);
extern Datum ml_spi_value(int row, int col, bool *isnull);
extern int	ml_spi_run_pass(const char *sql, int nargs, Oid *types, Datum *values);
extern void ml_record_pass(TrainRun *run, const char *name, int64 rows,
						   int processes, int planned, TimestampTz start,
						   double loss);
extern void ml_append_float8(StringInfo buf, double v);
extern double ml_elapsed_seconds(TimestampTz start);

/* train_gram.c */
extern bytea *ml_train_gram_fit(TrainRun *run, bytea *encoder);
extern Jsonb *ml_train_pca_metrics(TrainRun *run, bytea *model);

/* train_kmeans.c */
extern bytea *ml_train_kmeans_fit(TrainRun *run, bytea *encoder, char **names,
								  int64 ntrain);
extern Jsonb *ml_train_kmeans_metrics(TrainRun *run, bytea *model);

/* train_tree.c */
extern void ml_train_tree_objective(TrainRun *run);
extern bytea *ml_train_tree_fit(TrainRun *run, bytea *encoder, int64 ntrain);
extern bytea *ml_train_tree_encoder(TrainRun *run, mlx_inputs *in, char **names);

/* train_linreg.c */
extern bytea *ml_train_linreg_fit(TrainRun *run, bytea *encoder, bool impute,
								  int64 *ntrain, int64 *skipped);
extern bool ml_train_logreg_start(TrainRun *run, bytea *encoder, double *coef,
								  int64 *ntrain, int64 *skipped);

/*
 * rowpredict.c, for a pass aggregate's transition function, its cache in
 * *slot (a field of its fn_extra): the encoder model of argument model_arg
 * (decoded once per query), and the encoding of the input columns passed
 * as arguments first.. (one per model input, in order, or one whole row):
 * *x points at m->nfeat doubles (unaligned) valid until the next call.
 * With plain, a value that would need imputation or the statistics pass's
 * checks (NULL, NaN, infinity, an array of another shape) makes it return
 * false at once.
 */
extern const mlx_model *ml_encode_pass_model(FunctionCallInfo fcinfo,
											 void **slot, int model_arg);
extern bool ml_encode_pass_args(FunctionCallInfo fcinfo, void **slot,
								int model_arg, int first, bool plain,
								const mlx_model **model, const void **x);

/* train_setup.c: one "key": number member of a JSON object being built */
extern void ml_put_metric(StringInfo buf, const char *key, double v);

/* train_setup.c: ", src.<col>, ..." (or ", src"), the columns of a pass */
extern char *ml_pass_columns(TrainRun *run, int fixed);

/* train_setup.c: " FROM <source> AS src[ WHERE <training split>]" */
extern char *ml_pass_from(TrainRun *run);

/* train_setup.c: statements between these run without parallel workers */
extern int	ml_serial_begin(void);
extern void ml_serial_end(int level);

/* train_setup.c: a JSON text as a jsonb value in run->cxt */
extern Jsonb *ml_train_jsonb(TrainRun *run, const char *text);

/* train_nbayes.c */
extern bytea *ml_train_nbayes_fit(TrainRun *run, bytea *encoder);

/* train_glm.c */
extern void ml_train_classes(TrainRun *run);
extern bytea *ml_train_logreg_fit(TrainRun *run, bytea *encoder, char **names,
								  const double *start);
extern char *ml_train_label_index_sql(TrainRun *run);

/* softmax.c: a validated, finished pass result in a palloc'd block */
extern mlx_softmax_state *ml_softmax_pass_result(Datum d, void **block);

/* train_softmax.c */
extern bytea *ml_train_softmax_fit(TrainRun *run, bytea *encoder, char **names);
extern bytea *ml_train_poisson_fit(TrainRun *run, bytea *encoder, char **names);
extern Jsonb *ml_train_classifier_metrics(TrainRun *run, bytea *model);

/*
 * A FROM item for the user's relation argument: a re-quoted qualified name
 * of an existing relation (42P01 otherwise), or "(\n<query>\n)" for a
 * parenthesised single SELECT.
 */
extern char *ml_source_from_item(const char *relation);

/*
 * Fetch the deployed model of a name, visible to the current user, into
 * 'cxt' and decode it.  42704 when the name has no (deployed) model.
 */
extern void ml_registry_load(const char *name, MemoryContext cxt,
							 mlx_model *out);

#endif							/* ML_TRAIN_H */
