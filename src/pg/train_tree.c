/*
 * train_tree.c
 *	  ml.train for decision_tree, random_forest and gradient_boosting.
 *
 *	  1. sample   a deterministic sample of the encoded training rows (a
 *				  parallel aggregate keeping the rows whose hash falls
 *				  below a fraction), from which each feature's bin edges
 *				  are its quantiles
 *	  2. bin      one parallel pass: every row becomes one byte per feature
 *				  plus its target (ml._tree_gather); the leader gets the
 *				  whole binned table
 *	  3. train    in memory (core/tree.c), the rows in a canonical order
 *				  first so the model does not depend on how the scan was
 *				  split between processes
 *
 * NULL features stay missing (the inputs' imputation values are NaN for
 * tree models) and go the way each split learned.  Memory is bounded by
 * ml.max_training_memory, checked before the binning pass from the row
 * count and again while the state grows.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/metrics.h"
#include "core/tree.h"
#include "model/model_internal.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"
#include "pg/ml_tree.h"

/* rows sampled for the bin edges */
#define ML_TREE_SAMPLE_ROWS 200000

static int
tree_kind(const TrainRun *run)
{
	if (strcmp(run->algorithm, "decision_tree") == 0)
		return MLX_TREE_DECISION_TREE;
	if (strcmp(run->algorithm, "random_forest") == 0)
		return MLX_TREE_RANDOM_FOREST;
	return MLX_TREE_GRADIENT_BOOSTING;
}

/*
 * Whether the model classifies: option "objective", else the target's
 * type (numeric: regression; boolean and text: classification).  Called
 * once the target column is resolved.
 */
void
ml_train_tree_objective(TrainRun *run)
{
	const char *obj = run->opt.objective;

	if (obj != NULL && strcmp(obj, "regression") == 0)
	{
		if (!ml_is_numeric_type(run->target_type))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("objective \"regression\" needs a numeric target, but column \"%s\" is %s",
							run->target, format_type_be(run->target_type)),
					 errhint("Use objective \"binary\" or \"multiclass\" to classify.")));
		run->classifier = false;
	}
	else if (obj != NULL)
		run->classifier = true;
	else
		run->classifier = !ml_is_numeric_type(run->target_type);
}

/*
 * The encoder of the passes: an empty gradient-boosting model with the
 * inputs, so ml._encode_cols reads it like any model and leaves NULL
 * features NaN.
 */
bytea *
ml_train_tree_encoder(TrainRun *run, mlx_inputs *in, char **names)
{
	MemoryContext old = MemoryContextSwitchTo(run->cxt);
	mlx_tree_fit fit;
	mlx_model	m;
	int32		start = 0;
	double		base = 0;
	bytea	   *result;

	memset(&fit, 0, sizeof(fit));
	fit.kind = MLX_TREE_GRADIENT_BOOSTING;
	fit.objective = MLX_TREE_REGRESSION;
	fit.nfeat = run->nfeat;
	fit.ngroups = 1;
	fit.leaf_width = 1;
	fit.base_score = &base;
	fit.tree_start = &start;
	fit.learning_rate = 1;
	fit.subsample = fit.colsample = 1;
	fit.max_depth = 1;
	fit.max_bins = MLX_TREE_MAX_BINS;
	ml_check_status(mlx_model_from_tree(&fit, names, &ml_pg_ctx, &m),
					"model encoding");
	m.inputs = in;
	result = ml_encode_model(&m);
	MemoryContextSwitchTo(old);
	return result;
}

/* ---------- 1. sample and bin edges ---------- */

static MlTreeBins *
bin_edges(TrainRun *run, bytea *encoder, int64 ntrain, bool midpoints)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[1] = {BYTEAOID};
	Datum		args[1];
	double		fraction = Min(1.0, (double) ML_TREE_SAMPLE_ROWS / (double) ntrain);
	int			d = run->nfeat;
	int			planned;
	bool		isnull;
	TreeGatherState *s;
	MlTreeBins *b;
	double	   *col;
	double	   *scratch;
	const uint8 *rows;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT ml._tree_sample(%s, ", run->encode_sql);
	ml_append_float8(&sql, fraction);
	appendStringInfo(&sql, ", " INT64_FORMAT "::pg_catalog.int8), ml._processes(1) FROM %s AS src WHERE %s AND %s",
					 run->opt.seed, run->from, run->train_pred, run->target_ok);
	args[0] = PointerGetDatum(encoder);
	planned = ml_spi_run_pass(sql.data, 1, types, args);
	(void) ml_spi_value(0, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows reached the sampling pass of model \"%s\"", run->model_name)));
	s = ml_tree_state_check(ml_spi_value(0, 1, &isnull));
	if (s->magic != ML_TREE_SAMPLE_MAGIC || s->nfeat != d)
		elog(ERROR, "sampling pass returned a state of %d features, expected %d", s->nfeat, d);
	ml_record_pass(run, "sample", s->nrows,
				   DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, NAN);

	b = MemoryContextAlloc(run->cxt, sizeof(MlTreeBins));
	b->nfeat = d;
	b->ncuts = MemoryContextAlloc(run->cxt, sizeof(int32) * d);
	b->cuts = MemoryContextAlloc(run->cxt, sizeof(double *) * d);
	col = palloc(sizeof(double) * Max(s->nrows, 1));
	scratch = palloc(sizeof(double) * Max(s->nrows, 1));
	rows = ML_TREE_STATE_ROWS(s);
	for (int j = 0; j < d; j++)
	{
		int			nc;
		mlx_status	st;

		CHECK_FOR_INTERRUPTS();
		for (int64 r = 0; r < s->nrows; r++)
			memcpy(&col[r], rows + (Size) r * s->rowsize + sizeof(double) * j, sizeof(double));
		b->cuts[j] = MemoryContextAlloc(run->cxt, sizeof(double) * (MLX_TREE_MAX_BINS - 1));
		st = mlx_tree_bin_edges(col, s->nrows, run->opt.max_bins, midpoints,
								b->cuts[j], &nc, scratch);
		if (st == MLX_ENONFINITE)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature %d of model \"%s\" has infinite values", j + 1, run->model_name),
					 errhint("Replace or filter non-finite values first.")));
		ml_check_status(st, "tree binning");
		b->ncuts[j] = nc;
	}
	pfree(col);
	pfree(scratch);
	return b;
}

/* ---------- 2. the binning pass ---------- */

typedef struct row_key
{
	uint64		hash;
	const uint8 *rec;
} row_key;

static int	sort_rowsize;

static int
row_key_cmp(const void *a, const void *b)
{
	const row_key *x = a;
	const row_key *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return memcmp(x->rec, y->rec, sort_rowsize);
}

/*
 * Sort keys[0..n) by (hash, record bytes): a least-significant-digit radix
 * sort of the hashes, a byte per pass (passes where every hash has the
 * same byte skipped), through scratch (n keys); then each run of equal
 * hashes by its bytes.  The order is a total one on distinct records, so
 * it is the one qsort with row_key_cmp gives.
 */
static void
sort_row_keys(row_key *keys, row_key *scratch, int64 n)
{
	int64_t		count[8][256];
	row_key    *from = keys;
	row_key    *to = scratch;

	memset(count, 0, sizeof(count));
	for (int64 i = 0; i < n; i++)
		for (int d = 0; d < 8; d++)
			count[d][(keys[i].hash >> (8 * d)) & 255]++;
	for (int d = 0; d < 8; d++)
	{
		if (mlx_radix_offsets(count[d], n))
			continue;
		for (int64 i = 0; i < n; i++)
			to[count[d][(from[i].hash >> (8 * d)) & 255]++] = from[i];
		{
			row_key    *x = from;

			from = to;
			to = x;
		}
		CHECK_FOR_INTERRUPTS();
	}
	if (from != keys)
		memcpy(keys, from, sizeof(row_key) * n);
	for (int64 i = 0; i < n;)
	{
		int64		j = i + 1;

		while (j < n && keys[j].hash == keys[i].hash)
			j++;
		if (j - i > 1)
			qsort(keys + i, j - i, sizeof(row_key), row_key_cmp);
		i = j;
	}
}

/*
 * Split the gathered records into training and held-out data, in a
 * canonical order (by a hash of the record, ties by its bytes): the rows
 * arrive in whatever order the processes of the scan finished, and the
 * trainer's sums, and the random draws for subsampling, follow row order.
 */
static void
split_rows(TrainRun *run, const TreeGatherState *s, const MlTreeBins *b,
		   mlx_tree_data *train, mlx_tree_data *valid)
{
	int			F = s->nfeat;
	int			rs = s->rowsize;
	const uint8 *rows = ML_TREE_STATE_ROWS(s);
	row_key    *keys = palloc_extended(sizeof(row_key) * Max(s->nrows, 1), MCXT_ALLOC_HUGE);
	row_key    *scratch = palloc_extended(sizeof(row_key) * Max(s->nrows, 1), MCXT_ALLOC_HUGE);
	int64		ntr = 0,
				nva = 0;
	uint8	   *tb,
			   *vb;
	double	   *ty,
			   *vy;

	for (int64 r = 0; r < s->nrows; r++)
	{
		const uint8 *rec = rows + (Size) r * rs;

		for (int j = 0; j < F; j++)
			if (rec[j] > b->ncuts[j] + 1)
				elog(ERROR, "binning pass returned bin %d for feature %d with %d cut points",
					 rec[j], j + 1, b->ncuts[j]);
		if (rec[F + sizeof(double)] > 1)
			elog(ERROR, "binning pass returned a bad held-out flag");
		keys[r].hash = hash_bytes_extended(rec, rs, 0);
		keys[r].rec = rec;
		if (rec[F + sizeof(double)])
			nva++;
		else
			ntr++;
		if ((r & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	sort_rowsize = rs;
	sort_row_keys(keys, scratch, s->nrows);
	pfree(scratch);
	CHECK_FOR_INTERRUPTS();

	tb = palloc_extended((Size) Max(ntr, 1) * F, MCXT_ALLOC_HUGE);
	ty = palloc_extended(sizeof(double) * Max(ntr, 1), MCXT_ALLOC_HUGE);
	vb = palloc_extended((Size) Max(nva, 1) * F, MCXT_ALLOC_HUGE);
	vy = palloc_extended(sizeof(double) * Max(nva, 1), MCXT_ALLOC_HUGE);
	ntr = nva = 0;
	for (int64 r = 0; r < s->nrows; r++)
	{
		const uint8 *rec = keys[r].rec;

		if (rec[F + sizeof(double)])
		{
			memcpy(vb + (Size) nva * F, rec, F);
			memcpy(&vy[nva++], rec + F, sizeof(double));
		}
		else
		{
			memcpy(tb + (Size) ntr * F, rec, F);
			memcpy(&ty[ntr++], rec + F, sizeof(double));
		}
	}
	pfree(keys);
	train->nrows = ntr;
	train->nfeat = F;
	train->bins = tb;
	train->y = ty;
	train->cuts = (const double *const *) b->cuts;
	train->ncuts = b->ncuts;
	*valid = *train;
	valid->nrows = nva;
	valid->bins = vb;
	valid->y = vy;
}

/*
 * Stop before reading the data when the run would need more memory than
 * ml.max_training_memory: the sample (and a column of it sorted, with its
 * scratch), the gathered state and its copies, the sort keys (with their
 * scratch), the split arrays and the trainer (its histograms sized for
 * max_bins bins per feature).
 */
static void
check_memory(TrainRun *run, int64 rows, const mlx_tree_params *p)
{
	int			F = run->nfeat;
	double		need;
	double		limit = (double) ml_max_training_memory * 1024.0;

	need = (double) Min(rows, ML_TREE_SAMPLE_ROWS) * (F * 2 + 2) * sizeof(double) +
		(double) rows * (F + ML_TREE_ROW_EXTRA) * 2.5 +
		(double) rows * (F + sizeof(double) + 2 * sizeof(row_key)) +
		mlx_tree_train_memory(rows, F, (int64) F * (run->opt.max_bins + 1), p);
	/* without held-out rows: the training predictions (and forest sums) */
	if (run->test_pred == NULL)
		need += (double) rows * sizeof(double) * 2 * Max(p->nclasses, 1);
	if (need > limit)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("training model \"%s\" needs about %.0f MB of memory, more than ml.max_training_memory (%.0f MB)",
						run->model_name, ceil(need / (1024 * 1024)), limit / (1024 * 1024)),
				 errdetail(INT64_FORMAT " rows of %d features.", rows, F),
				 errhint("Raise ml.max_training_memory, or train on fewer rows or features (or with a smaller max_depth).")));
}

/* how far over the size limit a forest's largest possible size may be */
#define ML_TREE_SIZE_BOUND_FACTOR 4

/*
 * Keep the model within MLX_MODEL_MAX_SIZE.  Before any work: the most it
 * could take (n_estimators trees, times the classes of a multiclass
 * boosting, of at most 2L - 1 nodes, L leaves being bounded by 2^max_depth
 * and by the training rows over min_samples_leaf, each node with its
 * values) must stay within ML_TREE_SIZE_BOUND_FACTOR times the limit (1
 * GB, more than a bytea can hold), or the run stops before reading the
 * data.  (Trees stop early on pure or small nodes, and a bootstrap sample
 * holds about 63% of the rows: fully grown forests come to about half
 * their bound, others to far less, so a bound above the limit may well
 * fit and is left to the running check.)  Then p->max_nodes makes the
 * trainer stop as soon as the nodes grown so far would not fit, its node
 * arrays never larger than the model would be.  The encoder (whose bytes
 * hold the features and inputs of the model) stands for everything but
 * the trees.
 */
static void
check_model_size(TrainRun *run, int64 ntrain, mlx_tree_params *p,
				 bytea *encoder)
{
	bool		boosting = p->kind == MLX_TREE_GRADIENT_BOOSTING;
	int			ngroups = p->objective == MLX_TREE_MULTICLASS ? p->nclasses : 1;
	int			lw = boosting ? 1 : Max(p->nclasses, 1);
	double		trees = (double) p->n_estimators * (boosting ? ngroups : 1);
	double		min_leaf = boosting ? 1 : Max(p->min_child_weight, 1);
	double		leaves;
	double		label_bytes = 0;
	double		fixed;
	double		node_bytes;
	double		bound;
	double		room;

	for (int c = 0; c < p->nclasses; c++)
		label_bytes += 2 + strlen(run->classes[c]);
	fixed = (double) VARSIZE_ANY_EXHDR(encoder) +
		(double) mlx_tree_section_size((uint64) ngroups, (uint64) trees, 0,
									   (uint64) lw, (uint64) label_bytes);
	node_bytes = (double) mlx_tree_section_size(0, 0, 1, (uint64) lw, 0) -
		mlx_tree_section_size(0, 0, 0, (uint64) lw, 0);
	leaves = Max(1, Min(ldexp(1, p->max_depth), floor((double) ntrain / min_leaf)));
	bound = fixed + trees * (2 * leaves - 1) * node_bytes;
	if (bound > ML_TREE_SIZE_BOUND_FACTOR * (double) MLX_MODEL_MAX_SIZE)
		ml_raise_model_too_large(mlx_tree_algorithm(p->kind), bound, true);
	room = ((double) MLX_MODEL_MAX_SIZE - fixed) / node_bytes;
	p->max_nodes = (int32) Max(1, Min(room, (double) MLX_TREE_MAX_NODES));
}

/* ---------- parameters ---------- */

static void
tree_params(TrainRun *run, mlx_tree_params *p)
{
	TrainOptions *o = &run->opt;
	int			kind = tree_kind(run);
	int			F = run->nfeat;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	if (!run->classifier)
		p->objective = MLX_TREE_REGRESSION;
	else if (run->nclasses == 2)
	{
		if (o->objective != NULL && strcmp(o->objective, "multiclass") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("objective \"multiclass\" needs at least 3 classes, target \"%s\" has 2", run->target),
					 errhint("Use objective \"binary\".")));
		p->objective = MLX_TREE_BINARY;
	}
	else
	{
		if (o->objective != NULL && strcmp(o->objective, "binary") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("objective \"binary\" needs 2 classes, target \"%s\" has %d", run->target, run->nclasses),
					 errhint("Use objective \"multiclass\".")));
		p->objective = MLX_TREE_MULTICLASS;
		if (run->nclasses > MLX_TREE_MAX_CLASSES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("target \"%s\" has %d classes, at most %d are supported",
							run->target, run->nclasses, MLX_TREE_MAX_CLASSES)));
	}
	p->nclasses = run->classifier ? run->nclasses : 0;
	p->n_estimators = o->n_estimators;
	p->max_depth = o->max_depth;
	p->seed = (uint64) o->seed;
	p->subsample = 1;
	p->colsample = 1;
	p->nthreads = ml_training_threads;
	if (kind == MLX_TREE_GRADIENT_BOOSTING)
	{
		int			ngroups = p->objective == MLX_TREE_MULTICLASS ? p->nclasses : 1;

		if ((double) p->n_estimators * ngroups > MLX_TREE_MAX_TREES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%d rounds of %d classes make %.0f trees, at most %d are supported",
							p->n_estimators, ngroups, (double) p->n_estimators * ngroups,
							MLX_TREE_MAX_TREES),
					 errhint("Lower option \"n_estimators\".")));
		p->learning_rate = o->learning_rate;
		p->min_child_weight = o->min_child_weight;
		p->lambda = o->lambda_set ? o->lambda : 1.0;
		p->gamma = o->gamma;
		p->subsample = o->subsample;
		p->colsample = o->colsample;
		p->early_stopping_rounds = o->early_stopping_rounds;
		if (p->early_stopping_rounds > 0 && run->test_pred == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"early_stopping_rounds\" needs held-out rows"),
					 errhint("Set option \"test_fraction\", e.g. 0.2.")));
	}
	else
	{
		const char *mf = o->max_features;

		p->learning_rate = 1;
		p->min_child_weight = o->min_samples_leaf;
		p->lambda = 0;
		p->bootstrap = kind == MLX_TREE_RANDOM_FOREST && o->bootstrap;
		if (mf == NULL)
			mf = (kind == MLX_TREE_RANDOM_FOREST && run->classifier) ? "sqrt" : "all";
		if (strcmp(mf, "all") == 0)
			p->max_features = F;
		else if (strcmp(mf, "sqrt") == 0)
			p->max_features = Max(1, (int) sqrt((double) F));
		else if (strcmp(mf, "log2") == 0)
			p->max_features = Max(1, (int) log2((double) F));
		else
		{
			double		v = strtod(mf, NULL);

			if (v < 1)
				p->max_features = Max(1, (int) (v * F));
			else if (v > F)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"max_features\" is %s, but the model has %d features", mf, F)));
			else
				p->max_features = (int) v;
		}
	}
}

/* ---------- metrics of the training rows, in memory ---------- */

/*
 * The metrics ml.train reports when there are no held-out rows, from the
 * trainer's predictions of the training rows (the binned rows reach the
 * same leaves as their values do), with the definitions of the evaluation
 * pass: ml.r2 .. ml.explained_variance; for classifiers the label of
 * probability >= 1/2 (binary) or the most probable class, macro averages
 * over the classes, ml.log_loss and the exact ROC AUC.  Saves scoring every
 * row again.
 */
static Jsonb *
training_metrics(TrainRun *run, const mlx_tree_params *p, const mlx_tree_data *d,
				 const double *pred, double *loss)
{
	StringInfoData buf;
	int64		n = d->nrows;
	int			K = p->nclasses;

	for (int64 i = 0; i < n * (p->objective == MLX_TREE_MULTICLASS ? K : 1); i++)
		if (isnan(pred[i]))
			return NULL;		/* not available: evaluate by a pass */
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (p->objective == MLX_TREE_REGRESSION)
	{
		mlx_regmoments s;
		mlx_regression_metrics r;

		mlx_regmoments_init(&s);
		for (int64 i = 0; i < n; i++)
			ml_check_status(mlx_regmoments_add(&s, d->y[i], pred[i]), "training metrics");
		ml_check_status(mlx_regmoments_result(&s, &r), "training metrics");
		ml_put_metric(&buf, "r2", r.r2);
		ml_put_metric(&buf, "mse", r.mse);
		ml_put_metric(&buf, "rmse", r.rmse);
		*loss = r.rmse;
		ml_put_metric(&buf, "mae", r.mae);
		ml_put_metric(&buf, "explained_variance", r.explained_variance);
	}
	else if (p->objective == MLX_TREE_BINARY)
	{
		int64		tp = 0,
					fp = 0,
					fn = 0,
					tn = 0,
					npos = 0,
					nneg = 0;
		double	   *pos = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
		double	   *neg = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
		mlx_logloss ll;
		double		logloss,
					auc;

		mlx_logloss_init(&ll);
		for (int64 i = 0; i < n; i++)
		{
			bool		y = d->y[i] > 0.5;
			bool		l = pred[i] >= 0.5;

			tp += y && l;
			fp += !y && l;
			fn += y && !l;
			tn += !y && !l;
			if (y)
				pos[npos++] = pred[i];
			else
				neg[nneg++] = pred[i];
			ml_check_status(mlx_logloss_add(&ll, y, pred[i]), "training metrics");
		}
		ml_check_status(mlx_logloss_result(&ll, &logloss), "training metrics");
		*loss = logloss;
		ml_put_metric(&buf, "accuracy", (double) (tp + tn) / n);
		ml_put_metric(&buf, "precision", tp + fp > 0 ? (double) tp / (tp + fp) : 0);
		ml_put_metric(&buf, "recall", tp + fn > 0 ? (double) tp / (tp + fn) : 0);
		ml_put_metric(&buf, "f1", tp > 0 ? 2.0 * tp / (2.0 * tp + fp + fn) : 0);
		ml_put_metric(&buf, "log_loss", logloss);
		if (npos > 0 && nneg > 0)
		{
			ml_check_status(mlx_auc_of(pos, npos, neg, nneg, &ml_pg_ctx, &auc), "training metrics");
			ml_put_metric(&buf, "roc_auc", auc);
		}
	}
	else
	{
		int64	   *conf = palloc0(sizeof(int64) * K * K);	/* [actual][predicted] */
		mlx_logloss ll;
		double		logloss,
					trace = 0,
					psum = 0,
					rsum = 0,
					fsum = 0;

		mlx_logloss_init(&ll);
		for (int64 i = 0; i < n; i++)
		{
			const double *pr = pred + (size_t) i * K;
			int			a = (int) d->y[i];
			int			best = 0;

			for (int c = 1; c < K; c++)
				if (pr[c] > pr[best])
					best = c;
			conf[(size_t) a * K + best]++;
			ml_check_status(mlx_logloss_add(&ll, true, pr[a]), "training metrics");
		}
		for (int k = 0; k < K; k++)
		{
			int64		tp = conf[(size_t) k * K + k],
						actual = 0,
						predicted = 0;

			for (int j = 0; j < K; j++)
			{
				actual += conf[(size_t) k * K + j];
				predicted += conf[(size_t) j * K + k];
			}
			trace += tp;
			psum += predicted > 0 ? (double) tp / predicted : 0;
			rsum += actual > 0 ? (double) tp / actual : 0;
			fsum += actual + predicted > 0 ? 2.0 * tp / ((double) actual + predicted) : 0;
		}
		ml_check_status(mlx_logloss_result(&ll, &logloss), "training metrics");
		*loss = logloss;
		ml_put_metric(&buf, "accuracy", trace / n);
		ml_put_metric(&buf, "precision", psum / K);
		ml_put_metric(&buf, "recall", rsum / K);
		ml_put_metric(&buf, "f1", fsum / K);
		ml_put_metric(&buf, "log_loss", logloss);
	}
	appendStringInfo(&buf, ", \"n_test\": " INT64_FORMAT ", \"evaluated_on\": \"training\"}", n);
	return ml_train_jsonb(run, buf.data);
}

/* ---------- the fit ---------- */

bytea *
ml_train_tree_fit(TrainRun *run, bytea *encoder, int64 ntrain)
{
	mlx_tree_params p;
	MlTreeBins *b;
	bytea	   *bins_arg;
	StringInfoData sql;
	TimestampTz start;
	Oid			types[3] = {BYTEAOID, BYTEAOID, TEXTARRAYOID};
	Datum		args[3];
	int			planned;
	bool		isnull;
	bool		early = false;
	int64		gathered = ntrain;
	TreeGatherState *s;
	mlx_tree_data train;
	mlx_tree_data valid;
	mlx_tree_fit fit;
	mlx_status	st;
	char		errbuf[256];
	double		loss = NAN;
	int			rounds = 0;
	mlx_model	m;
	bytea	   *model;
	MemoryContext old;

	tree_params(run, &p);
	early = p.early_stopping_rounds > 0;
	if (early)
		gathered = (int64) ceil((double) ntrain / (1 - run->opt.test_fraction));
	check_memory(run, gathered, &p);
	check_model_size(run, ntrain, &p, encoder);
	b = bin_edges(run, encoder, ntrain, p.kind != MLX_TREE_GRADIENT_BOOSTING);
	bins_arg = ml_tree_bins_encode(b);

	/* 2. bin every row */
	start = GetCurrentTimestamp();
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT ml._tree_gather(%s, (%s)::pg_catalog.float8, %s, $2), ml._processes(1) FROM %s AS src WHERE %s",
					 run->encode_sql,
					 run->classifier ? ml_train_label_index_sql(run) :
					 psprintf("src.%s", run->qtarget),
					 early ? run->test_pred : "false",
					 run->from, run->target_ok);
	if (!early)
		appendStringInfo(&sql, " AND %s", run->train_pred);
	args[0] = PointerGetDatum(encoder);
	args[1] = PointerGetDatum(bins_arg);
	if (run->classifier)
	{
		Datum	   *labels = palloc(sizeof(Datum) * run->nclasses);

		for (int i = 0; i < run->nclasses; i++)
			labels[i] = CStringGetTextDatum(run->classes[i]);
		args[2] = PointerGetDatum(construct_array(labels, run->nclasses, TEXTOID, -1,
												  false, TYPALIGN_INT));
	}
	else
		args[2] = PointerGetDatum(construct_empty_array(TEXTOID));
	planned = ml_spi_run_pass(sql.data, 3, types, args);
	(void) ml_spi_value(0, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows reached the binning pass of model \"%s\"", run->model_name)));
	s = ml_tree_state_check(ml_spi_value(0, 1, &isnull));
	if (s->magic != ML_TREE_STATE_MAGIC || s->nfeat != run->nfeat)
		elog(ERROR, "binning pass returned a state of %d features, expected %d", s->nfeat, run->nfeat);
	ml_record_pass(run, "bin", s->nrows,
				   DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, NAN);

	/* 3. train in memory */
	start = GetCurrentTimestamp();
	split_rows(run, s, b, &train, &valid);
	if (train.nrows < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" has " INT64_FORMAT " training row; %s needs at least 2",
						run->model_name, train.nrows, run->algorithm)));
	if (early && valid.nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no held-out rows for early stopping of model \"%s\"", run->model_name),
				 errhint("Raise option \"test_fraction\".")));
	/* no held-out rows: the metrics come from the training predictions */
	if (run->test_pred == NULL)
		p.train_pred = palloc_extended(sizeof(double) * Max(train.nrows, 1) *
									   (p.objective == MLX_TREE_MULTICLASS ? p.nclasses : 1),
									   MCXT_ALLOC_HUGE);
	errbuf[0] = '\0';
	/* (no per-round loss: it would cost a logarithm per row and round) */
	st = mlx_tree_train(&train, early ? &valid : NULL, &p, &ml_pg_ctx, &fit,
						NULL, &rounds, errbuf, sizeof(errbuf));
	if (st == MLX_EINTR)
		CHECK_FOR_INTERRUPTS();
	if (st == MLX_ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while training model \"%s\"", run->model_name),
				 errdetail("%s", errbuf),
				 errhint("Lower max_depth or n_estimators, or train on fewer rows.")));
	if (st == MLX_EINVAL && strcmp(errbuf, MLX_TREE_NODE_LIMIT_MSG) == 0)
		ml_raise_model_too_large(mlx_tree_algorithm(p.kind), 0, false);
	if (st != MLX_OK)
		ml_raise_status(st, "tree training", errbuf);
	fit.max_bins = run->opt.max_bins;
	fit.classes = run->classifier ? run->classes : NULL;
	/* the final training loss (RMSE or log-loss) comes with the metrics */
	if (p.train_pred != NULL)
		run->metrics = training_metrics(run, &p, &train, p.train_pred, &loss);
	ml_record_pass(run, "train", train.nrows, 1, 0, start, loss);

	old = MemoryContextSwitchTo(run->cxt);
	ml_check_status(mlx_model_from_tree(&fit, NULL, &ml_pg_ctx, &m), "model encoding");
	model = ml_encode_model(&m);
	MemoryContextSwitchTo(old);
	return model;
}
