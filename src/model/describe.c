/*
 * describe.c
 *	  JSON description of a model (what ml.describe shows a user).
 *
 * Compact JSON, keys in a fixed order, doubles with 17 significant digits
 * so they round-trip, non-finite numbers as null.  The text is produced in
 * two passes over the same code, one measuring and one writing, so it takes
 * exactly one allocation (allocators that free in bulk waste nothing).  A
 * tree ensemble is summarized (sizes, depth, feature importance) rather
 * than listed node by node; the summary is computed once, before the two
 * passes, in scratch space that is freed before returning.  Both passes
 * poll the interrupt hook, and the counting pass stops at a caller's bound
 * on the length before anything is allocated for the text.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

/*
 * Output sink: counts only while buf is NULL.  Every string and number
 * (object keys included) is an item and ticks; every POLL_EVERY ticks the
 * interrupt hook is polled, and once it says stop (or, while counting, the
 * text passes maxlen or the items maxitems) nothing more is formatted, so
 * the remaining loops run out at once.
 */
typedef struct json_out
{
	char	   *buf;
	size_t		len;
	const mlx_ctx *ctx;
	size_t		maxlen;
	size_t		maxitems;
	size_t		items;			/* strings and numbers so far */
	uint32_t	ticks;
	bool		interrupted;
	bool		stop;
} json_out;

#define POLL_EVERY 4096

/* Count one item; true when the output should stop. */
static bool
tick(json_out *o)
{
	if (o->stop)
		return true;
	o->items++;
	if (++o->ticks % POLL_EVERY == 0)
	{
		if (mlx_interrupted(o->ctx))
			o->interrupted = o->stop = true;
		else if (o->buf == NULL &&
				 (o->len > o->maxlen || o->items > o->maxitems))
			o->stop = true;
	}
	return o->stop;
}

static void
put_bytes(json_out *o, const char *s, size_t n)
{
	if (o->buf != NULL)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
put_str(json_out *o, const char *s)
{
	put_bytes(o, s, strlen(s));
}

/* A JSON string: quotes, backslash and control characters escaped. */
static void
put_json_string(json_out *o, const char *s)
{
	const unsigned char *p;
	char		esc[8];

	if (tick(o))
		return;
	put_bytes(o, "\"", 1);
	for (p = (const unsigned char *) s; *p != '\0'; p++)
	{
		if (*p == '"')
			put_bytes(o, "\\\"", 2);
		else if (*p == '\\')
			put_bytes(o, "\\\\", 2);
		else if (*p < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) *p);
			put_bytes(o, esc, 6);
		}
		else
			put_bytes(o, (const char *) p, 1);
	}
	put_bytes(o, "\"", 1);
}

/* A JSON array of n strings (class labels). */
static void
put_string_list(json_out *o, char *const *strings, int32_t n)
{
	put_bytes(o, "[", 1);
	for (int32_t i = 0; i < n; i++)
	{
		if (i > 0)
			put_bytes(o, ",", 1);
		put_json_string(o, strings[i]);
	}
	put_bytes(o, "]", 1);
}

/*
 * A double as a JSON number, or null when not finite.  Any decimal
 * separator a locale put in is turned back into '.'.
 */
static void
put_double(json_out *o, double d)
{
	char		num[40];
	char	   *c;

	if (tick(o))
		return;
	if (!isfinite(d))
	{
		put_str(o, "null");
		return;
	}
	snprintf(num, sizeof(num), "%.17g", d);
	for (c = num; *c != '\0'; c++)
	{
		if (!((*c >= '0' && *c <= '9') || *c == '-' || *c == '+' ||
			  *c == 'e' || *c == 'E'))
			*c = '.';
	}
	put_str(o, num);
}

static void
put_int(json_out *o, long long v)
{
	char		num[32];

	if (tick(o))
		return;
	snprintf(num, sizeof(num), "%lld", v);
	put_str(o, num);
}

static void
put_uint(json_out *o, unsigned long long v)
{
	char		num[32];

	snprintf(num, sizeof(num), "%llu", v);
	put_str(o, num);
}

/* ,"key": */
static void
put_key(json_out *o, const char *key)
{
	if (o->len > 1)
		put_bytes(o, ",", 1);
	put_json_string(o, key);
	put_bytes(o, ":", 1);
}

static void
put_double_array(json_out *o, const double *a, int32_t n)
{
	int32_t		i;

	put_bytes(o, "[", 1);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			put_bytes(o, ",", 1);
		put_double(o, a[i]);
	}
	put_bytes(o, "]", 1);
}

/*
 * "inputs":[{"name":..,"kind":..,"n_features":..,"impute":[..] or
 * "categories":[..]},..],"target":name or null
 */
static void
put_inputs(json_out *o, const mlx_inputs *in)
{
	int32_t		i;
	int32_t		j;

	put_key(o, "inputs");
	put_bytes(o, "[", 1);
	for (i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];

		if (i > 0)
			put_bytes(o, ",", 1);
		put_str(o, "{\"name\":");
		put_json_string(o, x->name);
		put_str(o, ",\"kind\":");
		put_json_string(o, mlx_input_kind_name(x->kind));
		put_str(o, ",\"n_features\":");
		put_int(o, x->nfeat);
		if (x->kind == MLX_INPUT_CATEGORICAL)
		{
			put_str(o, ",\"categories\":[");
			for (j = 0; j < x->nfeat; j++)
			{
				if (j > 0)
					put_bytes(o, ",", 1);
				if (x->categories[j] == NULL)
					put_str(o, "null");
				else
					put_json_string(o, x->categories[j]);
			}
			put_bytes(o, "]", 1);
		}
		else
		{
			put_str(o, ",\"impute\":");
			put_double_array(o, x->impute, x->nfeat);
		}
		put_bytes(o, "}", 1);
	}
	put_bytes(o, "]", 1);
	put_key(o, "target");
	if (in->target == NULL)
		put_str(o, "null");
	else
		put_json_string(o, in->target);
}

/* The keys of a linear regression, after the features and inputs. */
static void
put_linreg(json_out *o, const mlx_model *m)
{
	const mlx_linreg_fit *fit = &m->u.linreg;
	int32_t		k = m->nfeat;
	int32_t		i;

	put_key(o, "fit_intercept");
	put_str(o, fit->intercept ? "true" : "false");
	put_key(o, "lambda");
	put_double(o, fit->lambda);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "rank");
	put_int(o, fit->rank);
	put_key(o, "df_resid");
	put_double(o, fit->df_resid);
	put_key(o, "r2");
	put_double(o, fit->r2);
	put_key(o, "adj_r2");
	put_double(o, fit->adj_r2);
	put_key(o, "residual_std_error");
	put_double(o, fit->sigma);
	put_key(o, "rss");
	put_double(o, fit->rss);
	put_key(o, "tss");
	put_double(o, fit->tss);
	put_key(o, "intercept");
	put_double(o, fit->coef[0]);
	put_key(o, "coefficients");
	put_double_array(o, fit->coef + 1, k);
	put_key(o, "std_errors");
	put_double_array(o, fit->se, k + 1);
	put_key(o, "t_values");
	put_double_array(o, fit->tval, k + 1);
	put_key(o, "p_values");
	put_double_array(o, fit->pval, k + 1);
	put_key(o, "dependent_features");
	put_bytes(o, "[", 1);
	for (i = 0; i < fit->ndependent; i++)
	{
		if (i > 0)
			put_bytes(o, ",", 1);
		put_json_string(o, m->feature_names[fit->dependent[i]]);
	}
	put_bytes(o, "]", 1);
}

static void
put_bool(json_out *o, bool b)
{
	put_str(o, b ? "true" : "false");
}

/* The keys of a logistic regression, after the features and inputs. */
static void
put_logreg(json_out *o, const mlx_model *m)
{
	const mlx_logreg_fit *fit = &m->u.logreg;
	int32_t		k = m->nfeat;

	put_key(o, "classes");
	put_bytes(o, "[", 1);
	put_json_string(o, fit->classes[0]);
	put_bytes(o, ",", 1);
	put_json_string(o, fit->classes[1]);
	put_bytes(o, "]", 1);
	put_key(o, "positive_class");
	put_json_string(o, fit->classes[1]);
	put_key(o, "fit_intercept");
	put_bool(o, fit->intercept);
	put_key(o, "lambda");
	put_double(o, fit->lambda);
	put_key(o, "class_weight");
	put_bytes(o, "{", 1);
	put_json_string(o, fit->classes[0]);
	put_bytes(o, ":", 1);
	put_double(o, fit->class_weight[0]);
	put_bytes(o, ",", 1);
	put_json_string(o, fit->classes[1]);
	put_bytes(o, ":", 1);
	put_double(o, fit->class_weight[1]);
	put_bytes(o, "}", 1);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "iterations");
	put_int(o, fit->iterations);
	put_key(o, "converged");
	put_bool(o, fit->converged);
	put_key(o, "separation");
	put_bool(o, fit->separation);
	put_key(o, "log_likelihood");
	put_double(o, fit->loglik);
	put_key(o, "null_log_likelihood");
	put_double(o, fit->loglik_null);
	put_key(o, "deviance");
	put_double(o, fit->deviance);
	put_key(o, "intercept");
	put_double(o, fit->coef[0]);
	put_key(o, "coefficients");
	put_double_array(o, fit->coef + 1, k);
	put_key(o, "std_errors");
	put_double_array(o, fit->se, k + 1);
	put_key(o, "z_values");
	put_double_array(o, fit->zval, k + 1);
	put_key(o, "p_values");
	put_double_array(o, fit->pval, k + 1);
}

/* The keys of a lasso or elastic net, after the features and inputs. */
static void
put_enet(json_out *o, const mlx_model *m)
{
	const mlx_enet_fit *fit = &m->u.enet;

	put_key(o, "fit_intercept");
	put_bool(o, fit->intercept);
	put_key(o, "alpha");
	put_double(o, fit->alpha);
	put_key(o, "l1_ratio");
	put_double(o, fit->l1_ratio);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "iterations");
	put_int(o, fit->iterations);
	put_key(o, "converged");
	put_bool(o, fit->converged);
	put_key(o, "dual_gap");
	put_double(o, fit->dual_gap);
	put_key(o, "r2");
	put_double(o, fit->r2);
	put_key(o, "nonzero");
	put_int(o, fit->nonzero);
	put_key(o, "intercept");
	put_double(o, fit->coef[0]);
	put_key(o, "coefficients");
	put_double_array(o, fit->coef + 1, m->nfeat);
}

/*
 * The keys of a PCA, after the features and inputs: per-feature means,
 * per-component figures, and the components as ncomp arrays of k.
 */
static void
put_pca(json_out *o, const mlx_model *m)
{
	const mlx_pca_fit *fit = &m->u.pca;
	int32_t		k = m->nfeat;
	int32_t		c;

	put_key(o, "n_components");
	put_int(o, fit->ncomp);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "total_variance");
	put_double(o, fit->total_variance);
	put_key(o, "mean");
	put_double_array(o, fit->mean, k);
	put_key(o, "explained_variance");
	put_double_array(o, fit->explained_variance, fit->ncomp);
	put_key(o, "explained_variance_ratio");
	put_double_array(o, fit->explained_variance_ratio, fit->ncomp);
	put_key(o, "singular_values");
	put_double_array(o, fit->singular_values, fit->ncomp);
	put_key(o, "components");
	put_bytes(o, "[", 1);
	for (c = 0; c < fit->ncomp; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_double_array(o, fit->components + (size_t) c * (size_t) k, k);
	}
	put_bytes(o, "]", 1);
}

/* The keys of a Poisson regression, after the features and inputs. */
static void
put_poisson(json_out *o, const mlx_model *m)
{
	const mlx_poisson_fit *fit = &m->u.poisson;
	int32_t		k = m->nfeat;

	put_key(o, "fit_intercept");
	put_bool(o, fit->intercept);
	put_key(o, "lambda");
	put_double(o, fit->lambda);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "iterations");
	put_int(o, fit->iterations);
	put_key(o, "converged");
	put_bool(o, fit->converged);
	put_key(o, "log_likelihood");
	put_double(o, fit->loglik);
	put_key(o, "null_log_likelihood");
	put_double(o, fit->loglik_null);
	put_key(o, "deviance");
	put_double(o, fit->deviance);
	put_key(o, "null_deviance");
	put_double(o, fit->null_deviance);
	put_key(o, "intercept");
	put_double(o, fit->coef[0]);
	put_key(o, "coefficients");
	put_double_array(o, fit->coef + 1, k);
	put_key(o, "std_errors");
	put_double_array(o, fit->se, k + 1);
	put_key(o, "z_values");
	put_double_array(o, fit->zval, k + 1);
	put_key(o, "p_values");
	put_double_array(o, fit->pval, k + 1);
}

/*
 * The keys of a k-means model, after the features and inputs: the cluster
 * sizes, and the centroids as k arrays of nfeat.  The seed is unsigned 64
 * bits and printed as such.
 */
static void
put_kmeans(json_out *o, const mlx_model *m)
{
	const mlx_kmeans_fit *fit = &m->u.kmeans;
	int32_t		nfeat = m->nfeat;
	int32_t		c;

	put_key(o, "k");
	put_int(o, fit->k);
	put_key(o, "n_init");
	put_int(o, fit->n_init);
	put_key(o, "iterations");
	put_int(o, fit->iterations);
	put_key(o, "converged");
	put_bool(o, fit->converged);
	put_key(o, "seed");
	put_uint(o, (unsigned long long) fit->seed);
	put_key(o, "inertia");
	put_double(o, fit->inertia);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "sizes");
	put_bytes(o, "[", 1);
	for (c = 0; c < fit->k; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_int(o, (long long) fit->sizes[c]);
	}
	put_bytes(o, "]", 1);
	put_key(o, "centroids");
	put_bytes(o, "[", 1);
	for (c = 0; c < fit->k; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_double_array(o, fit->centroids + (size_t) c * (size_t) nfeat,
						 nfeat);
	}
	put_bytes(o, "]", 1);
}

/* rows arrays of n doubles each, as an array of arrays */
static void
put_double_matrix(json_out *o, const double *a, int32_t rows, int32_t n)
{
	int32_t		r;

	put_bytes(o, "[", 1);
	for (r = 0; r < rows; r++)
	{
		if (r > 0)
			put_bytes(o, ",", 1);
		put_double_array(o, a + (size_t) r * (size_t) n, n);
	}
	put_bytes(o, "]", 1);
}

/*
 * The keys of a naive Bayes model, after the features and inputs, named as
 * scikit-learn's attributes: a Gaussian model shows the class priors
 * (e^class_log_prior), var_smoothing, epsilon, theta and var; a multinomial
 * one the class log priors, alpha and feature_log_prob.  The per-class
 * arrays are nclasses arrays of nfeat values, in the order of "classes".
 */
static void
put_nbayes(json_out *o, const mlx_model *m)
{
	const mlx_nb_fit *fit = &m->u.nbayes;
	int32_t		k = m->nfeat;
	int32_t		c;

	put_key(o, "distribution");
	put_json_string(o, fit->distribution == MLX_NB_GAUSSIAN ?
					"gaussian" : "multinomial");
	put_key(o, "classes");
	put_string_list(o, fit->classes, fit->nclasses);
	put_key(o, "class_count");
	put_bytes(o, "[", 1);
	for (c = 0; c < fit->nclasses; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_int(o, (long long) fit->class_count[c]);
	}
	put_bytes(o, "]", 1);
	if (fit->distribution == MLX_NB_GAUSSIAN)
	{
		put_key(o, "class_prior");
		put_bytes(o, "[", 1);
		for (c = 0; c < fit->nclasses; c++)
		{
			if (c > 0)
				put_bytes(o, ",", 1);
			put_double(o, exp(fit->class_log_prior[c]));
		}
		put_bytes(o, "]", 1);
		put_key(o, "var_smoothing");
		put_double(o, fit->var_smoothing);
		put_key(o, "epsilon");
		put_double(o, fit->epsilon);
		put_key(o, "theta");
		put_double_matrix(o, fit->theta, fit->nclasses, k);
		put_key(o, "var");
		put_double_matrix(o, fit->var, fit->nclasses, k);
	}
	else
	{
		put_key(o, "class_log_prior");
		put_double_array(o, fit->class_log_prior, fit->nclasses);
		put_key(o, "alpha");
		put_double(o, fit->alpha);
		put_key(o, "feature_log_prob");
		put_double_matrix(o, fit->feature_log_prob, fit->nclasses, k);
	}
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
}

/*
 * The keys of a multinomial logistic regression, after the features and
 * inputs, as those of a logistic regression where a value per class
 * replaces a single one: the class weights keyed by label, "intercept" an
 * array of nclasses values and "coefficients" nclasses arrays of nfeat,
 * in the order of "classes".
 */
static void
put_softmax(json_out *o, const mlx_model *m)
{
	const mlx_softmax_fit *fit = &m->u.softmax;
	int32_t		k = m->nfeat;
	size_t		n = (size_t) k + 1;
	int32_t		c;

	put_key(o, "n_classes");
	put_int(o, fit->nclasses);
	put_key(o, "classes");
	put_string_list(o, fit->classes, fit->nclasses);
	put_key(o, "fit_intercept");
	put_bool(o, fit->intercept);
	put_key(o, "lambda");
	put_double(o, fit->lambda);
	put_key(o, "solver");
	put_json_string(o, fit->solver == MLX_SOFTMAX_NEWTON ? "newton" : "lbfgs");
	put_key(o, "class_weight");
	put_bytes(o, "{", 1);
	for (c = 0; c < fit->nclasses; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_json_string(o, fit->classes[c]);
		put_bytes(o, ":", 1);
		put_double(o, fit->class_weight[c]);
	}
	put_bytes(o, "}", 1);
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "iterations");
	put_int(o, fit->iterations);
	put_key(o, "passes");
	put_int(o, fit->passes);
	put_key(o, "converged");
	put_bool(o, fit->converged);
	put_key(o, "separation");
	put_bool(o, fit->separation);
	put_key(o, "log_likelihood");
	put_double(o, fit->loglik);
	put_key(o, "null_log_likelihood");
	put_double(o, fit->loglik_null);
	put_key(o, "intercept");
	put_bytes(o, "[", 1);
	for (c = 0; c < fit->nclasses; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_double(o, fit->coef[(size_t) c * n]);
	}
	put_bytes(o, "]", 1);
	put_key(o, "coefficients");
	put_bytes(o, "[", 1);
	for (c = 0; c < fit->nclasses; c++)
	{
		if (c > 0)
			put_bytes(o, ",", 1);
		put_double_array(o, fit->coef + (size_t) c * n + 1, k);
	}
	put_bytes(o, "]", 1);
}

/* What the description of a tree ensemble shows instead of its nodes. */
typedef struct tree_summary
{
	int64_t		nleaves;		/* leaves of all trees */
	int32_t		depth;			/* deepest leaf of any tree (root: 0) */
	double	   *gain;			/* nfeat: sum of the gains of its splits */
	int64_t    *splits;			/* nfeat: how many nodes split on it */
} tree_summary;

/*
 * Fill *ts for a checked tree fit of k features.  A node's depth is its
 * parent's plus one, and parents come before their children, so one pass
 * in node order over each tree finds every depth (in scratch space for the
 * largest tree).  ts->gain and ts->splits share one allocation, which the
 * caller frees through ts->gain.
 */
static mlx_status
summarize_tree(const mlx_tree_fit *fit, int32_t k, const mlx_ctx *ctx,
			   tree_summary *ts)
{
	int32_t		largest = 0;
	int32_t    *depth;
	int32_t		t;

	memset(ts, 0, sizeof(*ts));
	for (t = 0; t < fit->ntrees; t++)
		if (fit->tree_start[t + 1] - fit->tree_start[t] > largest)
			largest = fit->tree_start[t + 1] - fit->tree_start[t];
	ts->gain = mlx_alloc0(ctx, (size_t) k * (sizeof(double) + sizeof(int64_t)));
	if (ts->gain == NULL)
		return MLX_ENOMEM;
	ts->splits = (int64_t *) (ts->gain + k);
	depth = mlx_alloc(ctx, (size_t) largest * sizeof(int32_t));
	if (depth == NULL)
	{
		mlx_free(ctx, ts->gain);
		ts->gain = NULL;
		return MLX_ENOMEM;
	}
	for (t = 0; t < fit->ntrees; t++)
	{
		int32_t		base = fit->tree_start[t];
		int32_t		size = fit->tree_start[t + 1] - base;
		int32_t		i;

		if (mlx_interrupted(ctx))
		{
			mlx_free(ctx, depth);
			mlx_free(ctx, ts->gain);
			ts->gain = NULL;
			return MLX_EINTR;
		}

		depth[0] = 0;
		for (i = 0; i < size; i++)
		{
			int32_t		f = fit->feature[base + i];

			if ((i & 0xFFFF) == 0xFFFF && mlx_interrupted(ctx))
			{
				mlx_free(ctx, depth);
				mlx_free(ctx, ts->gain);
				ts->gain = NULL;
				return MLX_EINTR;
			}

			if (f < 0)
			{
				ts->nleaves++;
				if (depth[i] > ts->depth)
					ts->depth = depth[i];
				continue;
			}
			ts->gain[f] += fit->gain[base + i];
			ts->splits[f]++;
			depth[fit->left[base + i]] = depth[i] + 1;
			depth[fit->right[base + i]] = depth[i] + 1;
		}
	}
	mlx_free(ctx, depth);
	return MLX_OK;
}

/* "objective" of a tree fit */
static const char *
tree_objective_name(int objective)
{
	switch (objective)
	{
		case MLX_TREE_BINARY:
			return "binary";
		case MLX_TREE_MULTICLASS:
			return "multiclass";
	}
	return "regression";
}

/*
 * The keys of a tree ensemble, after the features and inputs: the
 * objective, a classifier's classes, the sizes and the deepest leaf, a
 * boosted model's base scores (margins), the training figures, and the
 * feature importance: per feature used in a split (in feature order,
 * keyed by name), the sum of its splits' gains and their number.
 */
static void
put_tree(json_out *o, const mlx_model *m, const tree_summary *ts)
{
	const mlx_tree_fit *fit = &m->u.tree;
	int32_t		j;
	bool		first;

	put_key(o, "objective");
	put_json_string(o, tree_objective_name(fit->objective));
	if (fit->objective != MLX_TREE_REGRESSION)
	{
		put_key(o, "n_classes");
		put_int(o, fit->nclasses);
		put_key(o, "classes");
		put_string_list(o, fit->classes, fit->nclasses);
	}
	put_key(o, "n_trees");
	put_int(o, fit->ntrees);
	put_key(o, "n_nodes");
	put_int(o, fit->nnodes);
	put_key(o, "n_leaves");
	put_int(o, (long long) ts->nleaves);
	put_key(o, "max_depth_reached");
	put_int(o, ts->depth);
	if (fit->kind == MLX_TREE_GRADIENT_BOOSTING)
	{
		put_key(o, "base_score");
		put_double_array(o, fit->base_score, fit->ngroups);
	}
	put_key(o, "n_rows");
	put_int(o, (long long) fit->nrows);
	put_key(o, "n_skipped");
	put_int(o, (long long) fit->nskipped);
	put_key(o, "best_iteration");
	put_int(o, fit->best_iteration);
	put_key(o, "max_depth");
	put_int(o, fit->max_depth);
	put_key(o, "max_features");
	put_int(o, fit->max_features);
	put_key(o, "max_bins");
	put_int(o, fit->max_bins);
	put_key(o, "learning_rate");
	put_double(o, fit->learning_rate);
	put_key(o, "lambda");
	put_double(o, fit->lambda);
	put_key(o, "min_child_weight");
	put_double(o, fit->min_child_weight);
	put_key(o, "subsample");
	put_double(o, fit->subsample);
	put_key(o, "colsample");
	put_double(o, fit->colsample);
	put_key(o, "feature_importance");
	/* {"gain": {name: total, ...}, "splits": {name: count, ...}} */
	for (int pass = 0; pass < 2; pass++)
	{
		put_str(o, pass == 0 ? "{\"gain\":{" : "},\"splits\":{");
		first = true;
		for (j = 0; j < m->nfeat; j++)
		{
			if (ts->splits[j] == 0)
				continue;
			if (!first)
				put_bytes(o, ",", 1);
			first = false;
			put_json_string(o, m->feature_names[j]);
			put_bytes(o, ":", 1);
			if (pass == 0)
				put_double(o, ts->gain[j]);
			else
				put_int(o, (long long) ts->splits[j]);
		}
	}
	put_str(o, "}}");
}

/*
 * The whole document; o->len must be 0 on entry.  ts is the summary of a
 * tree ensemble (NULL for other models).
 */
static void
put_model(json_out *o, const mlx_model *m, const tree_summary *ts)
{
	int32_t		k = m->nfeat;
	int32_t		i;

	put_bytes(o, "{", 1);
	put_key(o, "algorithm");
	put_json_string(o, mlx_algorithm_name(m->algorithm));
	put_key(o, "format_version");
	put_int(o, m->format_version);
	put_key(o, "n_features");
	put_int(o, k);
	put_key(o, "features");
	put_bytes(o, "[", 1);
	for (i = 0; i < k; i++)
	{
		if (i > 0)
			put_bytes(o, ",", 1);
		put_json_string(o, m->feature_names[i]);
	}
	put_bytes(o, "]", 1);
	if (m->inputs != NULL)
		put_inputs(o, m->inputs);
	switch (m->algorithm)
	{
		case MLX_ALG_LOGISTIC_REGRESSION:
			put_logreg(o, m);
			break;
		case MLX_ALG_LASSO:
		case MLX_ALG_ELASTIC_NET:
			put_enet(o, m);
			break;
		case MLX_ALG_PCA:
			put_pca(o, m);
			break;
		case MLX_ALG_POISSON_REGRESSION:
			put_poisson(o, m);
			break;
		case MLX_ALG_KMEANS:
			put_kmeans(o, m);
			break;
		case MLX_ALG_NAIVE_BAYES:
			put_nbayes(o, m);
			break;
		case MLX_ALG_SOFTMAX_REGRESSION:
			put_softmax(o, m);
			break;
		case MLX_ALG_DECISION_TREE:
		case MLX_ALG_RANDOM_FOREST:
		case MLX_ALG_GRADIENT_BOOSTING:
			put_tree(o, m, ts);
			break;
		default:
			put_linreg(o, m);
			break;
	}
	put_bytes(o, "}", 1);
}

/*
 * The model is checked first (as for encoding), so a hand-built model with
 * an out-of-range dependent index or inconsistent inputs cannot make this
 * read out of bounds.  The counting pass allocates nothing, polls the
 * interrupt hook (MLX_EINTR) and stops as soon as the text passes maxlen
 * or the items maxitems: then *json is NULL, before any allocation for the
 * text.
 */
mlx_status
mlx_model_describe_json_limit(const mlx_model *m, const mlx_ctx *ctx,
							  size_t maxlen, size_t maxitems, char **json,
							  size_t *len)
{
	char		errbuf[256];
	json_out	o;
	tree_summary ts;
	const tree_summary *tsp = NULL;
	int32_t		i;
	mlx_status	st;

	*json = NULL;
	*len = 0;
	if (m == NULL || mlx_algorithm_name(m->algorithm) == NULL ||
		m->feature_names == NULL ||
		m->nfeat < 1 || m->nfeat > MLX_MODEL_MAX_FEATURES)
		return MLX_EINVAL;
	for (i = 0; i < m->nfeat; i++)
		if (m->feature_names[i] == NULL)
			return MLX_EINVAL;
	if (!mlx_check_model_fit(m, errbuf, sizeof(errbuf)))
		return MLX_EINVAL;
	if (m->inputs != NULL)
	{
		st = mlx_check_inputs(m->inputs, m->nfeat,
							  mlx_algorithm_keeps_missing(m->algorithm),
							  ctx, NULL, errbuf, sizeof(errbuf));
		if (st != MLX_OK)
			return st == MLX_ENOMEM ? MLX_ENOMEM : MLX_EINVAL;
	}
	if (mlx_algorithm_is_tree(m->algorithm))
	{
		st = summarize_tree(&m->u.tree, m->nfeat, ctx, &ts);
		if (st != MLX_OK)
			return st;
		tsp = &ts;
	}

	memset(&o, 0, sizeof(o));
	o.ctx = ctx;
	o.maxlen = maxlen;
	o.maxitems = maxitems;
	put_model(&o, m, tsp);
	st = o.interrupted ? MLX_EINTR : MLX_OK;
	if (st == MLX_OK && (o.len > maxlen || o.items > maxitems))
		*len = o.len;
	else if (st == MLX_OK)
	{
		o.buf = mlx_alloc(ctx, o.len + 1);
		if (o.buf == NULL)
			st = MLX_ENOMEM;
		else
		{
			o.len = 0;
			o.ticks = 0;
			put_model(&o, m, tsp);
			o.buf[o.len] = '\0';
			if (o.interrupted)
			{
				mlx_free(ctx, o.buf);
				st = MLX_EINTR;
			}
			else
			{
				*json = o.buf;
				*len = o.len;
			}
		}
	}
	if (tsp != NULL)
		mlx_free(ctx, ts.gain);
	return st;
}

mlx_status
mlx_model_describe_json(const mlx_model *m, const mlx_ctx *ctx, char **json)
{
	size_t		len;

	return mlx_model_describe_json_limit(m, ctx, SIZE_MAX - 1, SIZE_MAX, json,
										 &len);
}
