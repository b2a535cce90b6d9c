/*
 * train_kmeans.c
 *	  ml.train for k-means.
 *
 *	  1. sample     a deterministic sample of the encoded rows (a seeded
 *					hash of each row, like the test split), at most
 *					sample_rows of them, read into memory
 *	  2. (memory)   n_init runs of k-means++ and Lloyd on the sample; the
 *					centroids of least sample inertia start step 3
 *	  3. lloyd      Lloyd passes over all the rows, each one parallel
 *					aggregate (ml._kmeans_pass), until the summed squared
 *					centroid shift is at most tol times the mean feature
 *					variance (scikit-learn's rule) or max_iter passes
 *
 * The restarts run on the sample because each costs only memory work
 * there; a restart over all the rows would cost a scan per Lloyd step.
 * When the table has at most sample_rows rows the sample is the table, and
 * step 2 is scikit-learn's algorithm on the same data.
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

#include "core/kmeans.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

static bytea *
encode_kmeans(mlx_kmeans_fit *fit, char **names)
{
	mlx_model	m;

	ml_check_status(mlx_model_from_kmeans(fit, names, &ml_pg_ctx, &m),
					"model encoding");
	return ml_encode_model(&m);
}

/* Step 1: the sample, row-major in one palloc'd block of *n rows. */
static double *
read_sample(TrainRun *run, bytea *encoder, int64 ntrain, int64 *n)
{
	StringInfoData sql;
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[1] = {BYTEAOID};
	Datum		args[1];
	double		fraction = Min(1.0, (double) run->opt.sample_rows / (double) ntrain);
	int			d = run->nfeat;
	double	   *rows;
	uint64		got;

	if ((double) run->opt.sample_rows * d * sizeof(double) > (double) MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a sample of %d rows of %d features is too large", run->opt.sample_rows, d),
				 errhint("Lower option \"sample_rows\".")));
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s FROM %s AS src WHERE %s AND %s",
					 run->encode_sql, run->from, run->train_pred, run->target_ok);
	if (fraction < 1.0)
	{
		appendStringInfo(&sql,
						 " AND (pg_catalog.hashtextextended(src::pg_catalog.text, " INT64_FORMAT "::pg_catalog.int8) OPERATOR(pg_catalog.&) 2147483647::pg_catalog.int8)::pg_catalog.float8 OPERATOR(pg_catalog./) 2147483648::pg_catalog.float8 OPERATOR(pg_catalog.<) ",
						 run->opt.seed + 1);
		ml_append_float8(&sql, fraction);
	}
	appendStringInfo(&sql, " LIMIT %d", run->opt.sample_rows);
	args[0] = PointerGetDatum(encoder);
	ml_spi_run(sql.data, 1, types, args, -1);
	got = SPI_processed;
	rows = MemoryContextAllocHuge(run->cxt, sizeof(double) * (Size) Max(got, 1) * d);
	for (uint64 r = 0; r < got; r++)
	{
		bool		isnull;
		MlFloat8Array x;
		Datum		v = ml_spi_value((int) r, 1, &isnull);

		if (isnull)
			elog(ERROR, "ml._encode returned NULL");
		ml_float8_array(v, "feature array", &x);
		if (x.n != d)
			elog(ERROR, "ml._encode returned %d features, expected %d", x.n, d);
		ml_check_finite(&x, "feature array");
		memcpy(rows + (Size) r * d, x.values, sizeof(double) * d);
		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	ml_record_pass(run, "sample", (int64) got, 0, 0, start, NAN);
	*n = (int64) got;
	return rows;
}

/* mean over the features of the sample variance of each (n - 1 denominators) */
static double
mean_variance(const double *rows, int64 n, int d)
{
	double		total = 0;

	if (n < 2)
		return 0;
	for (int j = 0; j < d; j++)
	{
		double		mean = 0,
					m2 = 0;

		/* Welford: one pass, no cancellation */
		for (int64 i = 0; i < n; i++)
		{
			double		x = rows[(Size) i * d + j];
			double		delta = x - mean;

			mean += delta / (double) (i + 1);
			m2 += delta * (x - mean);
		}
		total += m2 / (double) (n - 1);
	}
	return total / d;
}

bytea *
ml_train_kmeans_fit(TrainRun *run, bytea *encoder, char **names, int64 ntrain)
{
	int			k = run->opt.k;
	int			d = run->nfeat;
	int64		nsample;
	double	   *sample;
	double		tol_abs;
	double		inertia;
	int			sample_iter;
	mlx_kmeans_fit cur;
	mlx_model	next;
	bytea	   *cur_bytes;
	StringInfoData sql;
	bool		converged = false;
	int			iter;
	mlx_status	st;
	MemoryContext old;

	if (k > ntrain)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"k\" is %d, but relation %s has only " INT64_FORMAT " rows to cluster",
						k, run->relation, ntrain),
				 errhint("Ask for at most as many clusters as there are rows.")));
	if ((int64) k * d > MLX_KMEANS_MAX_CELLS || d > MLX_KMEANS_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("k-means with %d clusters of %d features is too large", k, d),
				 errdetail("k times the feature count may be at most %d, and the features at most %d.",
						   MLX_KMEANS_MAX_CELLS, MLX_KMEANS_MAX_FEATURES)));

	/* steps 1 and 2 */
	sample = read_sample(run, encoder, ntrain, &nsample);
	if (nsample < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the sample has " INT64_FORMAT " rows, fewer than the %d clusters asked for",
						nsample, k),
				 errhint("Raise option \"sample_rows\" or lower \"k\".")));
	tol_abs = run->opt.tol * mean_variance(sample, nsample, d);

	memset(&cur, 0, sizeof(cur));
	cur.k = k;
	cur.nfeat = d;
	cur.n_init = run->opt.n_init;
	cur.seed = (uint64) run->opt.seed;
	cur.centroids = MemoryContextAlloc(run->cxt, sizeof(double) * (Size) k * d);
	cur.sizes = MemoryContextAllocZero(run->cxt, sizeof(int64_t) * k);
	{
		TimestampTz start = GetCurrentTimestamp();

		st = mlx_kmeans_fit_sample(sample, nsample, d, k, run->opt.n_init,
								   run->opt.max_iter, tol_abs, (uint64) run->opt.seed,
								   &ml_pg_ctx, cur.centroids, &inertia, &sample_iter);
		if (st == MLX_EINTR)
			CHECK_FOR_INTERRUPTS();
		ml_check_status(st, "k-means training");
		ml_record_pass(run, "init", nsample, 1, 0, start, inertia);
	}
	pfree(sample);

	/* step 3 */
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT ml._kmeans_pass_state($2, $1%s)%s",
					 ml_pass_columns(run, 2), ml_pass_from(run));
	/* not measured yet; a model's sizes must add up to its rows */
	cur.nrows = 1;
	cur.sizes[0] = 1;
	for (iter = 1; iter <= run->opt.max_iter; iter++)
	{
		TimestampTz start = GetCurrentTimestamp();
		Oid			types[2] = {BYTEAOID, BYTEAOID};
		Datum		args[2];
		bool		isnull;
		int			planned;
		double		shift2 = 0;
		const mlx_kmeans_fit *nf;
		Datum		state;
		bytea	   *result;
		int			processes = 0;
		int64		rows = 0;

		CHECK_FOR_INTERRUPTS();
		cur_bytes = encode_kmeans(&cur, names);
		args[0] = PointerGetDatum(encoder);
		args[1] = PointerGetDatum(cur_bytes);
		planned = ml_spi_run_pass(sql.data, 2, types, args);
		state = ml_spi_value(0, 1, &isnull);
		result = isnull ? NULL : ml_kmeans_pass_result(state, &processes, &rows);
		if (result == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("no training rows reached the k-means pass of model \"%s\"", run->model_name)));
		old = MemoryContextSwitchTo(run->cxt);
		ml_decode_model(PointerGetDatum(result), &next);
		MemoryContextSwitchTo(old);
		nf = &next.u.kmeans;
		ml_record_pass(run, "lloyd", rows, processes, planned, start, nf->inertia);

		/* this pass measured cur's centroids: keep its sizes and inertia */
		cur.inertia = nf->inertia;
		cur.nrows = nf->nrows;
		cur.nskipped = nf->nskipped;
		memcpy(cur.sizes, nf->sizes, sizeof(int64_t) * k);
		cur.iterations = iter;
		for (int c = 0; c < k; c++)
		{
			if (nf->sizes[c] == 0)
				continue;		/* an empty cluster keeps its centroid */
			for (int j = 0; j < d; j++)
			{
				double		diff = nf->centroids[(Size) c * d + j] - cur.centroids[(Size) c * d + j];

				shift2 += diff * diff;
			}
		}
		if (shift2 <= tol_abs)
		{
			converged = true;
			break;
		}
		/*
		 * Move to the means for the next pass to measure; after the last
		 * allowed pass keep the centroids this pass measured, so the model's
		 * sizes and inertia are those of its own centroids.
		 */
		if (iter < run->opt.max_iter)
			for (int c = 0; c < k; c++)
				if (nf->sizes[c] > 0)
					memcpy(cur.centroids + (Size) c * d, nf->centroids + (Size) c * d,
						   sizeof(double) * d);
	}
	cur.converged = converged;
	if (!converged)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("k-means of model \"%s\" did not converge in %d passes",
						run->model_name, run->opt.max_iter),
				 errhint("Raise option \"max_iter\" or loosen \"tol\".")));

	old = MemoryContextSwitchTo(run->cxt);
	cur_bytes = encode_kmeans(&cur, names);
	MemoryContextSwitchTo(old);
	return cur_bytes;
}

/* k-means figures for ml.train's result (no held-out evaluation) */
Jsonb *
ml_train_kmeans_metrics(TrainRun *run, bytea *model)
{
	Oid			types[1] = {BYTEAOID};
	Datum		args[1];
	bool		isnull;
	Jsonb	   *result;
	MemoryContext old;

	args[0] = PointerGetDatum(model);
	ml_spi_run("SELECT pg_catalog.jsonb_build_object("
			   "'inertia'::pg_catalog.text, (j OPERATOR(pg_catalog.->>) 'inertia'::pg_catalog.text)::pg_catalog.float8, "
			   "'k'::pg_catalog.text, (j OPERATOR(pg_catalog.->>) 'k'::pg_catalog.text)::pg_catalog.int4, "
			   "'iterations'::pg_catalog.text, (j OPERATOR(pg_catalog.->>) 'iterations'::pg_catalog.text)::pg_catalog.int4, "
			   "'converged'::pg_catalog.text, (j OPERATOR(pg_catalog.->>) 'converged'::pg_catalog.text)::pg_catalog.bool, "
			   "'sizes'::pg_catalog.text, j OPERATOR(pg_catalog.->) 'sizes'::pg_catalog.text, "
			   "'evaluated_on'::pg_catalog.text, 'training'::pg_catalog.text) FROM ml.model_info($1) AS j",
			   1, types, args, 1);
	old = MemoryContextSwitchTo(run->cxt);
	result = DatumGetJsonbPCopy(ml_spi_value(0, 1, &isnull));
	MemoryContextSwitchTo(old);
	return result;
}
