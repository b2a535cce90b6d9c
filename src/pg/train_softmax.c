/*
 * train_softmax.c
 *	  ml.train for multinomial logistic regression (logistic_regression with
 *	  more than two classes), and binary logistic regression by L-BFGS.
 *
 * Every evaluation of the objective is one plain SELECT of
 * ml._softmax_pass over the encoded rows with the current model as a
 * parameter, so each pass is a parallel aggregate like every other
 * training pass.  Two optimizers drive the passes (src/core/softmax.h):
 *
 *	  newton   each pass also gathers the Hessian; the step solves the
 *			   Newton system, halved while the objective does not go down.
 *			   A handful of passes, each O(nparams^2) per row.
 *	  lbfgs    each pass gathers the loss and the gradient only (O(nparams)
 *			   per row); more passes.  For wide models, where the Hessian
 *			   would be large.
 *
 * Option "solver" picks one ("auto": Newton up to
 * ML_SOFTMAX_AUTO_NEWTON_PARAMS free parameters).  A binary model trained
 * by L-BFGS is stored as an ordinary binary logistic regression model
 * (its coefficients are those of class 1 against class 0), without
 * standard errors.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/lbfgs.h"
#include "core/logreg.h"
#include "core/softmax.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

/* "auto" uses Newton's method up to this many free parameters */
#define ML_SOFTMAX_AUTO_NEWTON_PARAMS 300
/* Newton: step halvings per iteration before giving up */
#define ML_SOFTMAX_MAX_HALVINGS 30
/* L-BFGS iterations when max_iter is not given */
#define ML_LBFGS_DEFAULT_ITER 1000

static bytea *
encode_softmax(mlx_softmax_fit *fit, char **names)
{
	mlx_model	m;

	ml_check_status(mlx_model_from_softmax(fit, names, &ml_pg_ctx, &m),
					"model encoding");
	return ml_encode_model(&m);
}

/* The class index (0-based, in run->classes order) of a row, in SQL. */
char *
ml_train_label_index_sql(TrainRun *run)
{
	if (run->target_type == BOOLOID)
		return psprintf("(src.%s)::pg_catalog.int4", run->qtarget);
	return psprintf("pg_catalog.array_position($3, (src.%s)::pg_catalog.text) - 1", run->qtarget);
}

/*
 * One pass at the model 'current': run it, validate the result and record
 * it (loss: the penalized objective, filled in by the caller through the
 * returned pass index).
 */
static mlx_softmax_state *
softmax_pass(TrainRun *run, const char *sql, bytea *encoder, bytea *current,
			 Datum labels, bool hessian, mlx_softmax_fit *cur, double *f,
			 double *g, void **block)
{
	TimestampTz start = GetCurrentTimestamp();
	Oid			types[4] = {BYTEAOID, BYTEAOID, TEXTARRAYOID, BOOLOID};
	Datum		args[4];
	bool		isnull;
	int			planned;
	mlx_softmax_state *s;
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	args[0] = PointerGetDatum(encoder);
	args[1] = PointerGetDatum(current);
	args[2] = labels;
	args[3] = BoolGetDatum(hessian);
	planned = ml_spi_run_pass(sql, 4, types, args);
	if (SPI_processed != 1)
		elog(ERROR, "multinomial pass returned %llu rows", (unsigned long long) SPI_processed);
	(void) ml_spi_value(0, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows reached the training pass of model \"%s\"", run->model_name)));
	old = MemoryContextSwitchTo(run->cxt);
	s = ml_softmax_pass_result(ml_spi_value(0, 1, &isnull), block);
	MemoryContextSwitchTo(old);
	if (s->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no training rows reached the training pass of model \"%s\"", run->model_name)));
	mlx_softmax_objective(s, cur, f, g);
	if (!isfinite(*f))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("multinomial logistic regression training overflowed"),
				 errhint("Rescale the features (they are used as they are), or set option \"lambda\" > 0.")));
	ml_record_pass(run, hessian ? "newton" : "lbfgs",
				   DatumGetInt64(ml_spi_value(0, 3, &isnull)),
				   DatumGetInt32(ml_spi_value(0, 2, &isnull)), planned, start, *f);
	return s;
}

/*
 * Starting intercepts: the log of each class's weighted share (against
 * class 0 in the reference parametrization, centred in the symmetric one),
 * which is the optimum of the intercept-only model.
 */
static void
start_intercepts(TrainRun *run, mlx_softmax_fit *f)
{
	int			K = f->nclasses;
	int			q = f->nfeat + 1;
	double		mean = 0;

	if (!f->intercept)
		return;
	for (int c = 0; c < K; c++)
	{
		f->coef[(size_t) c * q] = log(run->class_weight[c] * run->class_count[c]);
		mean += f->coef[(size_t) c * q] / K;
	}
	for (int c = K - 1; c >= 0; c--)
		f->coef[(size_t) c * q] -= mlx_softmax_symmetric(K, f->lambda) ?
			mean : f->coef[0];
}

static double
max_abs(const double *v, int64 n)
{
	double		m = 0;

	for (int64 i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
}

/* log-likelihood of the intercept-only model (class shares) */
static double
null_loglik(TrainRun *run, bool intercept)
{
	double		w = 0,
				ll = 0;

	for (int c = 0; c < run->nclasses; c++)
		w += run->class_weight[c] * run->class_count[c];
	for (int c = 0; c < run->nclasses; c++)
	{
		double		wc = run->class_weight[c] * run->class_count[c];

		ll += intercept ? (wc > 0 ? wc * log(wc / w) : 0) : wc * -log((double) run->nclasses);
	}
	return ll;
}

bytea *
ml_train_softmax_fit(TrainRun *run, bytea *encoder, char **names)
{
	int			K = run->nclasses;
	int			k = run->nfeat;
	bool		intercept = run->opt.fit_intercept;
	double		lambda = run->opt.lambda;
	int64		np = mlx_softmax_nparams(K, k, intercept, lambda);
	bool		newton;
	mlx_softmax_fit cur;
	StringInfoData sql;
	Datum	   *labels = palloc(sizeof(Datum) * K);
	Datum		labels_arr;
	double	   *theta,
			   *g,
			   *delta,
			   *theta_prev;
	double		f = NAN,
				f_prev = NAN,
				loss = NAN;
	bool		converged = false,
				separated = false,
				stalled = false;
	int			iterations = 0,
				passes = 0;
	mlx_softmax_state *s;
	void	   *block;
	bytea	   *result;
	MemoryContext old;

	if (np <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("logistic regression of %d classes and %d features has too many parameters", K, k),
				 errdetail("At most %d coefficients are supported.", MLX_SOFTMAX_MAX_PARAMS)));
	if (strcmp(run->opt.solver, "newton") == 0)
	{
		newton = true;
		if (np > MLX_SOFTMAX_MAX_NEWTON_PARAMS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("logistic regression of %d classes and %d features has " INT64_FORMAT " coefficients, too many for solver \"newton\" (at most %d)",
							K, k, np, MLX_SOFTMAX_MAX_NEWTON_PARAMS),
					 errhint("Use option \"solver\": \"lbfgs\" (or \"auto\").")));
	}
	else if (strcmp(run->opt.solver, "lbfgs") == 0)
		newton = false;
	else
		newton = np <= ML_SOFTMAX_AUTO_NEWTON_PARAMS;

	memset(&cur, 0, sizeof(cur));
	cur.nfeat = k;
	cur.nclasses = K;
	cur.intercept = intercept;
	cur.lambda = lambda;
	cur.solver = newton ? MLX_SOFTMAX_NEWTON : MLX_SOFTMAX_LBFGS;
	cur.loglik = cur.loglik_null = NAN;
	cur.coef = palloc0(sizeof(double) * K * (k + 1));
	cur.class_weight = run->class_weight;
	cur.classes = run->classes;
	for (int c = 0; c < K; c++)
		cur.nrows += run->class_count[c];
	start_intercepts(run, &cur);
	/* the model passed to each pass needs a valid log-likelihood */
	cur.loglik = 0;

	theta = palloc(sizeof(double) * np);
	theta_prev = palloc(sizeof(double) * np);
	g = palloc(sizeof(double) * np);
	delta = palloc(sizeof(double) * np);
	mlx_softmax_get_theta(&cur, theta);

	for (int c = 0; c < K; c++)
		labels[c] = CStringGetTextDatum(run->classes[c]);
	labels_arr = PointerGetDatum(construct_array(labels, K, TEXTOID, -1, false, TYPALIGN_INT));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT ml._softmax_pass(%s, %s, $2, $4), ml._processes(1), pg_catalog.count(*) "
					 "FROM %s AS src WHERE %s AND src.%s IS NOT NULL",
					 ml_train_label_index_sql(run), run->encode_sql, run->from,
					 run->train_pred, run->qtarget);

	if (newton)
	{
		double		t = 1;
		int			halvings = 0;

		while (iterations < run->opt.max_iter)
		{
			double		maxstep,
						maxcoef;

			mlx_softmax_set_theta(&cur, theta);
			s = softmax_pass(run, sql.data, encoder, encode_softmax(&cur, names),
							 labels_arr, true, &cur, &f, g, &block);
			passes++;
			if (iterations > 0 && !(f <= f_prev + 1e-12 * fabs(f_prev)))
			{
				/* the full step went uphill: halve it */
				pfree(block);
				if (++halvings > ML_SOFTMAX_MAX_HALVINGS)
				{
					memcpy(theta, theta_prev, sizeof(double) * np);
					stalled = true;
					break;
				}
				t /= 2;
				for (int64 i = 0; i < np; i++)
					theta[i] = theta_prev[i] + t * delta[i];
				continue;
			}
			halvings = 0;
			f_prev = f;
			loss = s->loss;
			memcpy(theta_prev, theta, sizeof(double) * np);
			if (lambda == 0 && s->nwrong == 0)
			{
				separated = true;
				break;
			}
			ml_check_status(mlx_softmax_newton_step(s, &cur, &ml_pg_ctx, delta, NULL),
							"multinomial logistic regression training");
			pfree(block);
			t = 1;
			for (int64 i = 0; i < np; i++)
				theta[i] += delta[i];
			iterations++;
			maxstep = max_abs(delta, np);
			maxcoef = max_abs(theta, np);
			if (maxstep <= run->opt.tol * (1 + maxcoef))
			{
				converged = true;
				break;
			}
			if (lambda == 0 && maxcoef > 1e8)
			{
				separated = true;
				break;
			}
		}
	}
	else
	{
		mlx_lbfgs_params p;
		mlx_lbfgs  *lb;
		mlx_lbfgs_result r;
		double		best = INFINITY;

		mlx_lbfgs_default_params(&p);
		p.max_iter = run->opt.max_iter_set ? run->opt.max_iter : ML_LBFGS_DEFAULT_ITER;
		p.max_evals = Min(ML_MAX_TRAIN_PASSES * 4, 2 * p.max_iter + 20);
		p.gtol = run->opt.tol;
		ml_check_status(mlx_lbfgs_create(np, &p, &ml_pg_ctx, &lb),
						"multinomial logistic regression training");
		for (;;)
		{
			mlx_softmax_set_theta(&cur, theta);
			s = softmax_pass(run, sql.data, encoder, encode_softmax(&cur, names),
							 labels_arr, false, &cur, &f, g, &block);
			passes++;
			if (f < best)
			{
				best = f;
				loss = s->loss;
				if (lambda == 0 && s->nwrong == 0)
					separated = true;
			}
			pfree(block);
			r = mlx_lbfgs_step(lb, theta, f, g);
			if (r != MLX_LBFGS_EVALUATE)
				break;
			if (separated)
			{
				mlx_lbfgs_best(lb, theta, &f);
				break;
			}
		}
		iterations = mlx_lbfgs_iterations(lb);
		converged = (r == MLX_LBFGS_CONVERGED);
		stalled = (r == MLX_LBFGS_STALLED);
		if (r == MLX_LBFGS_ERROR)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("multinomial logistic regression training overflowed"),
					 errhint("Rescale the features (they are used as they are), or set option \"lambda\" > 0.")));
		mlx_lbfgs_free(lb, &ml_pg_ctx);
	}
	mlx_softmax_set_theta(&cur, theta);
	if (mlx_softmax_symmetric(K, lambda) && intercept)
	{
		/* the intercepts are defined up to a common shift: centre them */
		double		mean = 0;

		for (int c = 0; c < K; c++)
			mean += cur.coef[(size_t) c * (k + 1)] / K;
		for (int c = 0; c < K; c++)
			cur.coef[(size_t) c * (k + 1)] -= mean;
	}
	/*
	 * Stalling means no step lowers the objective any more in floating
	 * point: for a smooth convex objective that is the optimum.
	 */
	if (stalled && !separated)
		converged = true;

	cur.iterations = iterations;
	cur.passes = passes;
	cur.converged = converged;
	cur.separation = separated;
	cur.loglik = -loss;
	cur.loglik_null = null_loglik(run, intercept);

	if (separated)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("the classes of model \"%s\" are perfectly separated by the features",
						run->model_name),
				 errdetail("Without a penalty the coefficients grow without bound; training stopped after %d iterations.",
						   iterations),
				 errhint("Set option \"lambda\" > 0 for a finite, regularized solution.")));
	else if (!converged)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("logistic regression of model \"%s\" did not converge in %d iterations",
						run->model_name, iterations),
				 errhint("Raise option \"max_iter\", loosen \"tol\", set \"lambda\" > 0, or scale the features.")));

	old = MemoryContextSwitchTo(run->cxt);
	if (K == 2)
	{
		/* class 1 against class 0: an ordinary binary logistic model */
		mlx_logreg_fit b;
		mlx_model	m;

		memset(&b, 0, sizeof(b));
		b.nfeat = k;
		b.intercept = intercept;
		b.lambda = lambda;
		b.nrows = cur.nrows;
		b.iterations = iterations;
		b.converged = converged;
		b.separation = separated;
		b.loglik = cur.loglik;
		b.loglik_null = cur.loglik_null;
		b.deviance = -2 * cur.loglik;
		b.coef = palloc(sizeof(double) * (k + 1));
		b.se = palloc(sizeof(double) * (k + 1));
		b.zval = palloc(sizeof(double) * (k + 1));
		b.pval = palloc(sizeof(double) * (k + 1));
		for (int j = 0; j <= k; j++)
		{
			b.coef[j] = cur.coef[(k + 1) + j] - cur.coef[j];
			b.se[j] = b.zval[j] = b.pval[j] = NAN;
		}
		b.class_weight[0] = run->class_weight[0];
		b.class_weight[1] = run->class_weight[1];
		b.classes[0] = run->classes[0];
		b.classes[1] = run->classes[1];
		ml_check_status(mlx_model_from_logreg(&b, names, &ml_pg_ctx, &m),
						"model encoding");
		result = ml_encode_model(&m);
	}
	else
		result = encode_softmax(&cur, names);
	MemoryContextSwitchTo(old);
	return result;
}
