/*
 * make_seeds.c
 *	  Writes a seed corpus for fuzz_model into the directory given as argv[1]:
 *	  a few valid models of different shapes (made by the real encoder):
 *	  linear, logistic and Poisson regressions, lassos, elastic nets, PCAs,
 *	  k-means, naive Bayes (Gaussian and multinomial), multinomial
 *	  logistic regressions, decision trees, random forests and gradient
 *	  boosting (regression, binary, multiclass), some with a
 *	  source-columns (inputs) section, each also with an extra optional
 *	  section, and truncated copies of each.
 *
 * Usage: make_seeds DIR.  Exits non-zero when a model cannot be built or a
 * file cannot be written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static const char *outdir;

/* Write one file; returns false on an I/O error. */
static bool
write_seed(const char *name, const uint8_t *buf, size_t len)
{
	char		path[4096];
	FILE	   *f;
	bool		ok;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (f == NULL)
	{
		perror(path);
		return false;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	return ok;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

/* Write a model, a copy with an optional section, and truncated copies. */
static bool
emit(const char *stem, const mlx_model *m)
{
	uint8_t    *buf;
	size_t		len;
	uint8_t    *ext;
	char		name[256];
	bool		ok;

	if (mlx_model_encode(m, &mlx_malloc_ctx, 0, &buf, &len) != MLX_OK)
	{
		fprintf(stderr, "make_seeds: cannot encode %s\n", stem);
		return false;
	}
	snprintf(name, sizeof(name), "%s.bin", stem);
	ok = write_seed(name, buf, len);
	snprintf(name, sizeof(name), "%s_half.bin", stem);
	ok = ok && write_seed(name, buf, len / 2);
	snprintf(name, sizeof(name), "%s_short.bin", stem);
	ok = ok && write_seed(name, buf, len - 1);

	/* an optional section (tag 0x8001, 3 bytes) before the CRC */
	ext = malloc(len + 11);
	if (ext == NULL)
		return false;
	memcpy(ext, buf, len - 4);
	memcpy(ext + len - 4, "\x80\x01\x00\x00\x00\x00\x00\x03xyz", 11);
	put32(ext + 16, (uint32_t) (len + 11 - MLX_MODEL_MIN_SIZE));
	put32(ext + len + 7, mlx_crc32c(0, ext, len + 7));
	snprintf(name, sizeof(name), "%s_optional.bin", stem);
	ok = ok && write_seed(name, ext, len + 11);
	free(ext);
	free(buf);
	return ok;
}

/* A fit of k features with simple made-up numbers. */
static void
fill_fit(mlx_linreg_fit *fit, int32_t k, bool intercept, double lambda,
		 double *arrays, int32_t *dep, int32_t ndep)
{
	int32_t		i;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->intercept = intercept;
	fit->lambda = lambda;
	fit->nrows = 50 + k;
	fit->nskipped = k % 2;
	fit->rank = k - ndep;
	fit->df_resid = (double) (fit->nrows - fit->rank - (intercept ? 1 : 0));
	fit->rss = 3.25;
	fit->tss = 40.0;
	fit->r2 = 1 - 3.25 / 40.0;
	fit->adj_r2 = lambda > 0 ? NAN : 0.9;
	fit->sigma = 0.27;
	fit->coef = arrays;
	fit->se = arrays + (k + 1);
	fit->tval = arrays + 2 * (k + 1);
	fit->pval = arrays + 3 * (k + 1);
	for (i = 0; i <= k; i++)
	{
		fit->coef[i] = (i == 0 && !intercept) ? 0.0 : 0.5 * i - 1.25;
		fit->se[i] = lambda > 0 ? NAN : 0.125 * (i + 1);
		fit->tval[i] = lambda > 0 ? NAN : fit->coef[i] / fit->se[i];
		fit->pval[i] = lambda > 0 ? NAN : 0.03125 * i;
	}
	fit->ndependent = ndep;
	fit->dependent = ndep > 0 ? dep : NULL;
}

/* A logistic fit of k features with simple made-up numbers. */
static void
fill_logreg(mlx_logreg_fit *fit, int32_t k, bool intercept, double lambda,
			double *arrays, char *label0, char *label1)
{
	int32_t		i;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->intercept = intercept;
	fit->lambda = lambda;
	fit->nrows = 80 + k;
	fit->nskipped = k % 3;
	fit->iterations = 5 + k;
	fit->converged = lambda == 0;
	fit->separation = lambda > 0;
	fit->loglik = -30.5;
	fit->loglik_null = -55.25;
	fit->deviance = 61.0;
	fit->class_weight[0] = 1.0;
	fit->class_weight[1] = intercept ? 1.0 : 3.5;
	fit->classes[0] = label0;
	fit->classes[1] = label1;
	fit->coef = arrays;
	fit->se = arrays + (k + 1);
	fit->zval = arrays + 2 * (k + 1);
	fit->pval = arrays + 3 * (k + 1);
	for (i = 0; i <= k; i++)
	{
		fit->coef[i] = (i == 0 && !intercept) ? 0.0 : 0.75 * i - 0.5;
		fit->se[i] = (lambda > 0 || (i == 0 && !intercept)) ? NAN : 0.25 * (i + 1);
		fit->zval[i] = fit->coef[i] / fit->se[i];
		fit->pval[i] = isnan(fit->se[i]) ? NAN : 0.0625 * i;
	}
	if (intercept && lambda == 0 && k >= 2)
	{
		/* a zero standard error and its infinite z value */
		fit->se[2] = 0.0;
		fit->zval[2] = INFINITY;
		fit->pval[2] = 0.0;
	}
}

/*
 * A lasso / elastic-net fit of k features with simple made-up numbers:
 * every third slope is exactly 0, as a sparse fit has.
 */
static void
fill_enet(mlx_enet_fit *fit, int32_t k, double l1_ratio, double *coef)
{
	int32_t		i;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->intercept = true;
	fit->alpha = 0.25;
	fit->l1_ratio = l1_ratio;
	fit->nrows = 60 + k;
	fit->nskipped = k % 2;
	fit->iterations = 12 + k;
	fit->converged = l1_ratio == 1;
	fit->dual_gap = l1_ratio == 1 ? 1.5e-6 : NAN;
	fit->r2 = 0.75;
	fit->coef = coef;
	coef[0] = 3.5;
	for (i = 1; i <= k; i++)
	{
		coef[i] = i % 3 == 0 ? 0.0 : 0.5 * i - 1.25;
		if (coef[i] != 0)
			fit->nonzero++;
	}
}

/*
 * A PCA of k features with ncomp components: the unit vectors of features
 * ncomp..1 (an orthonormal set, each with its largest entry positive, as
 * the core makes them), and consistent variances.
 */
static void
fill_pca(mlx_pca_fit *fit, int32_t k, int32_t ncomp, double *mean,
		 double *comp, double *ev, double *evr, double *sv)
{
	int32_t		c;
	int32_t		j;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->ncomp = ncomp;
	fit->nrows = 40 + k;
	fit->nskipped = k % 3;
	fit->total_variance = 0;
	for (j = 0; j < k; j++)
	{
		mean[j] = 0.25 * j - 1;
		fit->total_variance += 8.0 / (j + 1);
	}
	for (c = 0; c < ncomp; c++)
	{
		for (j = 0; j < k; j++)
			comp[c * k + j] = 0.0;
		comp[c * k + (ncomp - 1 - c)] = 1.0;
		ev[c] = 8.0 / (c + 1);
		evr[c] = ev[c] / fit->total_variance;
		sv[c] = sqrt(ev[c] * (double) (fit->nrows - 1));
	}
	fit->mean = mean;
	fit->components = comp;
	fit->explained_variance = ev;
	fit->explained_variance_ratio = evr;
	fit->singular_values = sv;
}

/*
 * A Poisson fit of k features with simple made-up numbers; with a ridge
 * penalty the statistics are NaN and the log-likelihood is positive (as
 * non-integer counts below 1 can make it).
 */
static void
fill_poisson(mlx_poisson_fit *fit, int32_t k, bool intercept, double lambda,
			 double *arrays)
{
	int32_t		i;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->intercept = intercept;
	fit->lambda = lambda;
	fit->nrows = 90 + k;
	fit->nskipped = k % 2;
	fit->iterations = 4 + k;
	fit->converged = lambda == 0;
	fit->loglik = lambda > 0 ? 2.75 : -140.5;
	fit->loglik_null = -190.25;
	fit->deviance = 88.0;
	fit->null_deviance = lambda > 0 ? NAN : 187.5;
	fit->coef = arrays;
	fit->se = arrays + (k + 1);
	fit->zval = arrays + 2 * (k + 1);
	fit->pval = arrays + 3 * (k + 1);
	for (i = 0; i <= k; i++)
	{
		fit->coef[i] = (i == 0 && !intercept) ? 0.0 : 0.25 * i - 0.75;
		fit->se[i] = (lambda > 0 || (i == 0 && !intercept)) ? NAN : 0.125 * (i + 1);
		fit->zval[i] = fit->coef[i] / fit->se[i];
		fit->pval[i] = isnan(fit->se[i]) ? NAN : 0.0625 * i;
	}
	if (intercept && lambda == 0 && k >= 2)
	{
		/* a zero standard error and its infinite z value */
		fit->se[2] = 0.0;
		fit->zval[2] = INFINITY;
		fit->pval[2] = 0.0;
	}
}

/*
 * A k-means fit of k features and nclusters clusters with simple made-up
 * numbers: the last cluster is empty when there are more than two.
 */
static void
fill_kmeans(mlx_kmeans_fit *fit, int32_t k, int32_t nclusters,
			double *centroids, int64_t *sizes)
{
	int32_t		c;
	int32_t		j;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->k = nclusters;
	fit->nskipped = k % 3;
	fit->iterations = 6 + k;
	fit->n_init = nclusters;
	fit->converged = nclusters % 2 == 0;
	fit->seed = UINT64_C(0x9E3779B97F4A7C15) * (uint64_t) k;
	fit->inertia = 17.25 * nclusters;
	for (c = 0; c < nclusters; c++)
	{
		for (j = 0; j < k; j++)
			centroids[c * k + j] = 1.5 * c - 0.25 * j;
		sizes[c] = (nclusters > 2 && c == nclusters - 1) ? 0 : 10 + c;
		fit->nrows += sizes[c];
	}
	fit->centroids = centroids;
	fit->sizes = sizes;
}

/*
 * A naive Bayes fit of k features and nclasses classes (labels from
 * 'labels') with simple made-up numbers, Gaussian or multinomial.
 */
static void
fill_nbayes(mlx_nb_fit *fit, int distribution, int32_t k, int32_t nclasses,
			char **labels, int64_t *count, double *clp, double *a, double *b)
{
	int32_t		c;
	int32_t		j;

	memset(fit, 0, sizeof(*fit));
	fit->distribution = distribution;
	fit->nclasses = nclasses;
	fit->nfeat = k;
	fit->nskipped = k % 2;
	fit->classes = labels;
	fit->class_count = count;
	fit->class_log_prior = clp;
	for (c = 0; c < nclasses; c++)
	{
		count[c] = 5 + 3 * c;
		fit->nrows += count[c];
		clp[c] = -0.5 - 0.25 * c;
		for (j = 0; j < k; j++)
		{
			a[c * k + j] = distribution == MLX_NB_GAUSSIAN ?
				1.5 * c - 0.25 * j : -0.5 - 0.125 * (c + j);
			b[c * k + j] = 0.125 + 0.0625 * (c + j);
		}
	}
	if (distribution == MLX_NB_GAUSSIAN)
	{
		fit->var_smoothing = 1e-9;
		fit->epsilon = 0.125;
		fit->theta = a;
		fit->var = b;
	}
	else
	{
		fit->alpha = 1.0;
		fit->feature_log_prob = a;
	}
}

/*
 * A multinomial logistic regression of k features and nclasses classes
 * (labels from 'labels') with simple made-up numbers: class 1's row is 0
 * in the reference parametrization (lambda 0), and the intercept column is
 * 0 without an intercept.
 */
static void
fill_softmax(mlx_softmax_fit *fit, int32_t k, int32_t nclasses,
			 bool intercept, double lambda, char **labels, double *coef,
			 double *cw)
{
	int32_t		c;
	int32_t		j;

	memset(fit, 0, sizeof(*fit));
	fit->nfeat = k;
	fit->nclasses = nclasses;
	fit->intercept = intercept;
	fit->converged = lambda > 0;
	fit->separation = lambda == 0;
	fit->solver = lambda > 0 ? MLX_SOFTMAX_LBFGS : MLX_SOFTMAX_NEWTON;
	fit->lambda = lambda;
	fit->nrows = 70 + k;
	fit->nskipped = k % 2;
	fit->iterations = 6 + k;
	fit->passes = 8 + k;
	fit->loglik = -42.5;
	fit->loglik_null = lambda > 0 ? NAN : -75.25;
	fit->coef = coef;
	fit->class_weight = cw;
	fit->classes = labels;
	for (c = 0; c < nclasses; c++)
	{
		cw[c] = 1.0 + 0.5 * c;
		for (j = 0; j <= k; j++)
			coef[c * (k + 1) + j] =
				((c == 0 && !mlx_softmax_symmetric(nclasses, lambda)) ||
				 (j == 0 && !intercept)) ? 0.0 : 0.375 * (c + 1) - 0.25 * j;
	}
}

/* room for the largest tree seed */
#define SEED_TREES 6
#define SEED_NODES (SEED_TREES * 5)

/* the arrays of a tree seed */
typedef struct tree_arrays
{
	double		base[3];
	int32_t		start[SEED_TREES + 1];
	int32_t		feature[SEED_NODES];
	double		threshold[SEED_NODES];
	int32_t		left[SEED_NODES];
	int32_t		right[SEED_NODES];
	uint8_t		dl[SEED_NODES];
	double		gain[SEED_NODES];
	double		cover[SEED_NODES];
	double		value[SEED_NODES * 3];
} tree_arrays;

/*
 * A tree ensemble of k features with simple made-up numbers: ntrees
 * trees of 5 nodes (a root split, a leaf, a second split, two leaves),
 * splitting features t % k and (t + 1) % k, missing values left at the
 * root and right below; leaf values class proportions for DT and RF
 * classifiers.  labels must hold nclasses labels (NULL for regression).
 */
static void
fill_tree(mlx_tree_fit *fit, int kind, int objective, int32_t k,
		  int32_t ntrees, char **labels, tree_arrays *a)
{
	int32_t		t;
	int32_t		n;
	int32_t		c;

	memset(fit, 0, sizeof(*fit));
	memset(a, 0, sizeof(*a));
	fit->kind = (uint8_t) kind;
	fit->objective = (uint8_t) objective;
	fit->nfeat = k;
	fit->nclasses = objective == MLX_TREE_MULTICLASS ? 3 :
		objective == MLX_TREE_BINARY ? 2 : 0;
	fit->ngroups = objective == MLX_TREE_MULTICLASS ? 3 : 1;
	fit->leaf_width = (kind == MLX_TREE_GRADIENT_BOOSTING ||
					   objective == MLX_TREE_REGRESSION) ? 1 : fit->nclasses;
	fit->ntrees = ntrees;
	fit->nnodes = 5 * ntrees;
	for (c = 0; c < fit->ngroups; c++)
		a->base[c] = kind == MLX_TREE_GRADIENT_BOOSTING ? 0.25 * c - 0.5 : 0;
	for (t = 0; t <= ntrees; t++)
		a->start[t] = 5 * t;
	for (t = 0; t < ntrees; t++)
	{
		int32_t		b = 5 * t;

		for (n = 0; n < 5; n++)
		{
			bool		split = n == 0 || n == 2;

			a->feature[b + n] = split ? (t + n / 2) % k : -1;
			a->threshold[b + n] = split ? 0.5 * t - 0.25 * n : 0;
			a->left[b + n] = split ? n + 1 : -1;
			a->right[b + n] = split ? n + 2 : -1;
			a->dl[b + n] = n == 0;
			a->gain[b + n] = split ? 3.5 - n : 0;
			a->cover[b + n] = 20 - n;
			if (fit->leaf_width == 1)
				a->value[b + n] = 0.125 * (n - 2) * (t + 1);
			else
			{
				double		sum = 0;
				double	   *v = a->value + (b + n) * fit->leaf_width;

				for (c = 0; c < fit->leaf_width; c++)
					sum += c + 1 + n;
				for (c = 0; c < fit->leaf_width; c++)
					v[c] = (c + 1 + n) / sum;
			}
		}
	}
	fit->base_score = a->base;
	fit->tree_start = a->start;
	fit->feature = a->feature;
	fit->threshold = a->threshold;
	fit->left = a->left;
	fit->right = a->right;
	fit->default_left = a->dl;
	fit->gain = a->gain;
	fit->cover = a->cover;
	fit->value = a->value;
	fit->classes = fit->nclasses > 0 ? labels : NULL;
	fit->nrows = 200 + k;
	fit->nskipped = k % 2;
	fit->best_iteration = kind == MLX_TREE_GRADIENT_BOOSTING ? ntrees / fit->ngroups : 0;
	fit->max_depth = 4;
	fit->max_features = k;
	fit->max_bins = 255;
	fit->learning_rate = kind == MLX_TREE_GRADIENT_BOOSTING ? 0.3 : NAN;
	fit->lambda = kind == MLX_TREE_GRADIENT_BOOSTING ? 1 : 0;
	fit->min_child_weight = 1;
	fit->subsample = 1;
	fit->colsample = kind == MLX_TREE_GRADIENT_BOOSTING ? 0.5 : NAN;
}

int
main(int argc, char **argv)
{
	static char *names3[3] = {"alpha", "b\xc3\xa9\"ta\\", "\xce\xb3\n"};
	double		arrays[4 * 6];
	int32_t		dep[2] = {0, 1};
	mlx_linreg_fit fit;
	mlx_model	m;
	bool		ok = true;

	if (argc != 2)
	{
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	outdir = argv[1];

	fill_fit(&fit, 1, true, 0.0, arrays, dep, 0);
	ok = ok && mlx_model_from_linreg(&fit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
		emit("k1_ols", &m);
	mlx_model_free_names(&m, &mlx_malloc_ctx);

	fill_fit(&fit, 3, true, 0.0, arrays, dep + 1, 1);
	fit.tval[3] = INFINITY;
	ok = ok && mlx_model_from_linreg(&fit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
		emit("k3_unicode_dependent", &m);
	mlx_model_free_names(&m, &mlx_malloc_ctx);

	fill_fit(&fit, 5, false, 2.5, arrays, dep, 0);
	ok = ok && mlx_model_from_linreg(&fit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
		emit("k5_ridge_no_intercept", &m);
	mlx_model_free_names(&m, &mlx_malloc_ctx);

	fill_fit(&fit, 2, true, 0.0, arrays, dep, 2);
	ok = ok && mlx_model_from_linreg(&fit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
		emit("k2_rank0", &m);
	mlx_model_free_names(&m, &mlx_malloc_ctx);

	/* k = 7 from a table: every input kind, a NULL category, a target */
	{
		static double imp_num[1] = {41.5};
		static double imp_bool[1] = {0.25};
		static double imp_arr[2] = {0.5, -1.25};
		static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
		static mlx_input in[4] = {
			{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
			{"active", MLX_INPUT_BOOLEAN, 1, imp_bool, NULL},
			{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
			{"emb", MLX_INPUT_ARRAY, 2, imp_arr, NULL},
		};
		static mlx_inputs inputs = {4, in, "price", MLX_INPUT_NUMERIC};
		double		arrays8[4 * 8];
		char	  **names = NULL;

		fill_fit(&fit, 7, true, 0.0, arrays8, dep, 0);
		ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
			mlx_model_from_linreg(&fit, names, &mlx_malloc_ctx, &m) == MLX_OK;
		free(names);
		if (ok)
		{
			m.inputs = &inputs;
			ok = emit("k7_inputs_every_kind", &m);
			mlx_model_free_names(&m, &mlx_malloc_ctx);
		}

		/* unsupervised, one categorical column without a NULL category */
		{
			static char *abc[2] = {"a", "b"};
			static mlx_input in2[1] = {
				{"c", MLX_INPUT_CATEGORICAL, 2, NULL, abc},
			};
			static mlx_inputs inputs2 = {1, in2, NULL, 0};

			fill_fit(&fit, 2, false, 1.0, arrays, dep, 0);
			ok = ok && mlx_model_from_linreg(&fit, NULL, &mlx_malloc_ctx, &m) == MLX_OK;
			if (ok)
			{
				m.inputs = &inputs2;
				ok = emit("k2_inputs_unsupervised", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/* logistic regression: plain, ridge without intercept, with inputs */
	{
		mlx_logreg_fit lfit;
		double		larrays[4 * 8];

		fill_logreg(&lfit, 2, true, 0.0, larrays, "no", "yes");
		ok = ok && mlx_model_from_logreg(&lfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("logreg_k2", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_logreg(&lfit, 3, false, 0.5, larrays, "f\xc3\xa4lse", "\"t\"");
		ok = ok && mlx_model_from_logreg(&lfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("logreg_k3_ridge_no_intercept", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1] = {41.5};
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, NULL, NULL},
			};
			static double imp_arr[3] = {0.5, -1.25, 2.0};
			static mlx_inputs inputs = {3, in, "churned", MLX_INPUT_BOOLEAN};
			char	  **names = NULL;

			in[2].impute = imp_arr;
			fill_logreg(&lfit, 7, true, 0.0, larrays, "false", "true");
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_logreg(&lfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("logreg_k7_inputs", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/* lasso, elastic net (no duality gap), one with unsupervised inputs */
	{
		mlx_enet_fit efit;
		double		ecoef[8];

		fill_enet(&efit, 3, 1.0, ecoef);
		ok = ok && mlx_model_from_enet(&efit, MLX_ALG_LASSO, names3,
									   &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("lasso_k3", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_enet(&efit, 2, 0.5, ecoef);
		ok = ok && mlx_model_from_enet(&efit, MLX_ALG_ELASTIC_NET, NULL,
									   &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("enet_k2", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);
	}

	/* PCA: plain, all components, from a table without a target */
	{
		mlx_pca_fit pfit;
		double		mean[7];
		double		comp[7 * 7];
		double		ev[7];
		double		evr[7];
		double		sv[7];

		fill_pca(&pfit, 3, 2, mean, comp, ev, evr, sv);
		ok = ok && mlx_model_from_pca(&pfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("pca_k3_c2", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_pca(&pfit, 4, 4, mean, comp, ev, evr, sv);
		ok = ok && mlx_model_from_pca(&pfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("pca_k4_full", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1] = {41.5};
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static double imp_arr[3] = {0.5, -1.25, 2.0};
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, imp_arr, NULL},
			};
			static mlx_inputs inputs = {3, in, NULL, 0};
			char	  **names = NULL;

			fill_pca(&pfit, 7, 3, mean, comp, ev, evr, sv);
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_pca(&pfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("pca_k7_inputs", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/* Poisson regression: plain, ridge without intercept, with inputs */
	{
		mlx_poisson_fit qfit;
		double		qarrays[4 * 8];

		fill_poisson(&qfit, 3, true, 0.0, qarrays);
		ok = ok && mlx_model_from_poisson(&qfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("poisson_k3", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_poisson(&qfit, 2, false, 0.5, qarrays);
		ok = ok && mlx_model_from_poisson(&qfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("poisson_k2_ridge_no_intercept", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1] = {41.5};
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static double imp_arr[3] = {0.5, -1.25, 2.0};
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, imp_arr, NULL},
			};
			static mlx_inputs inputs = {3, in, "visits", MLX_INPUT_NUMERIC};
			char	  **names = NULL;

			fill_poisson(&qfit, 7, true, 0.0, qarrays);
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_poisson(&qfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("poisson_k7_inputs", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/* k-means: plain, with an empty cluster, from a table without a target */
	{
		mlx_kmeans_fit kfit;
		double		cent[7 * 4];
		int64_t		sizes[4];

		fill_kmeans(&kfit, 3, 2, cent, sizes);
		ok = ok && mlx_model_from_kmeans(&kfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("kmeans_k3_c2", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_kmeans(&kfit, 4, 4, cent, sizes);
		ok = ok && mlx_model_from_kmeans(&kfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("kmeans_k4_c4_empty", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1] = {41.5};
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static double imp_arr[3] = {0.5, -1.25, 2.0};
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, imp_arr, NULL},
			};
			static mlx_inputs inputs = {3, in, NULL, 0};
			char	  **names = NULL;

			fill_kmeans(&kfit, 7, 3, cent, sizes);
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_kmeans(&kfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("kmeans_k7_inputs", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/* naive Bayes: Gaussian, multinomial, Gaussian from a table */
	{
		static char *labels[4] = {"setosa", "v\xc3\xa9rsicolor", "\"virginica\"", "x"};
		mlx_nb_fit nfit;
		int64_t		ncount[4];
		double		nclp[4];
		double		na[4 * 7];
		double		nb[4 * 7];

		fill_nbayes(&nfit, MLX_NB_GAUSSIAN, 3, 3, labels, ncount, nclp, na, nb);
		ok = ok && mlx_model_from_nbayes(&nfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("nbayes_gaussian_k3_c3", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_nbayes(&nfit, MLX_NB_MULTINOMIAL, 4, 2, labels + 2, ncount, nclp, na, nb);
		ok = ok && mlx_model_from_nbayes(&nfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("nbayes_multinomial_k4_c2", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1] = {41.5};
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static double imp_arr[3] = {0.5, -1.25, 2.0};
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, imp_arr, NULL},
			};
			static mlx_inputs inputs = {3, in, "species", MLX_INPUT_CATEGORICAL};
			char	  **names = NULL;

			fill_nbayes(&nfit, MLX_NB_GAUSSIAN, 7, 4, labels, ncount, nclp, na, nb);
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_nbayes(&nfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("nbayes_gaussian_k7_inputs", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/*
	 * multinomial logistic regression: 3 classes (reference
	 * parametrization), symmetric without intercept, 3 classes from a table
	 */
	{
		static char *labels[4] = {"setosa", "v\xc3\xa9rsicolor", "", "\"virginica\""};
		mlx_softmax_fit sfit;
		double		scoef[4 * 8];
		double		scw[4];

		fill_softmax(&sfit, 3, 3, true, 0.0, labels, scoef, scw);
		ok = ok && mlx_model_from_softmax(&sfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("softmax_k3_c3", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_softmax(&sfit, 2, 4, false, 0.5, labels, scoef, scw);
		ok = ok && mlx_model_from_softmax(&sfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("softmax_k2_c4_symmetric_no_intercept", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1] = {41.5};
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static double imp_arr[3] = {0.5, -1.25, 2.0};
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, imp_arr, NULL},
			};
			static mlx_inputs inputs = {3, in, "species", MLX_INPUT_CATEGORICAL};
			char	  **names = NULL;

			fill_softmax(&sfit, 7, 3, true, 0.0, labels, scoef, scw);
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_softmax(&sfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("softmax_k7_inputs", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	/*
	 * tree ensembles: a regression tree, a binary forest, multiclass
	 * boosting (rounds of 3 trees), boosting without trees, and boosting
	 * from a table whose numeric inputs keep NULLs missing (NaN impute)
	 */
	{
		static char *labels2[2] = {"no", "y\xc3\xa9s"};
		static char *labels3[3] = {"setosa", "", "\"virginica\""};
		mlx_tree_fit tfit;
		tree_arrays ta;

		fill_tree(&tfit, MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, 3, 1,
				  NULL, &ta);
		ok = ok && mlx_model_from_tree(&tfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("tree_dt_regression_k3", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_tree(&tfit, MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY, 2, 3,
				  labels2, &ta);
		ok = ok && mlx_model_from_tree(&tfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("tree_rf_binary_k2", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_tree(&tfit, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS, 3, 6,
				  labels3, &ta);
		ok = ok && mlx_model_from_tree(&tfit, names3, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("tree_gb_multiclass_k3", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		fill_tree(&tfit, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION, 1, 0,
				  NULL, &ta);
		ok = ok && mlx_model_from_tree(&tfit, NULL, &mlx_malloc_ctx, &m) == MLX_OK &&
			emit("tree_gb_no_trees_k1", &m);
		mlx_model_free_names(&m, &mlx_malloc_ctx);

		{
			static double imp_num[1];
			static char *cats[3] = {NULL, "", "Z\xc3\xbcrich"};
			static double imp_arr[3];
			static mlx_input in[3] = {
				{"\xc3\xa2ge", MLX_INPUT_NUMERIC, 1, imp_num, NULL},
				{"city", MLX_INPUT_CATEGORICAL, 3, NULL, cats},
				{"emb", MLX_INPUT_ARRAY, 3, imp_arr, NULL},
			};
			static mlx_inputs inputs = {3, in, "churned", MLX_INPUT_BOOLEAN};
			char	  **names = NULL;

			imp_num[0] = NAN;
			imp_arr[0] = NAN;
			imp_arr[1] = -1.25;
			imp_arr[2] = NAN;
			fill_tree(&tfit, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY, 7, 2,
					  labels2, &ta);
			ok = ok && mlx_inputs_feature_names(&inputs, &mlx_malloc_ctx, &names) == MLX_OK &&
				mlx_model_from_tree(&tfit, names, &mlx_malloc_ctx, &m) == MLX_OK;
			free(names);
			if (ok)
			{
				m.inputs = &inputs;
				ok = emit("tree_gb_binary_k7_inputs_nan", &m);
				mlx_model_free_names(&m, &mlx_malloc_ctx);
			}
		}
	}

	if (!ok)
	{
		fprintf(stderr, "make_seeds: failed\n");
		return 1;
	}
	return 0;
}
