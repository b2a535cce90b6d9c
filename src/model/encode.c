/*
 * encode.c
 *	  Serialize an in-memory model into the model bytes (doc/model-format.md).
 *
 * The output is canonical: the header, then MLX_SEC_FEATURES, then
 * MLX_SEC_INPUTS when the model has inputs, then the algorithm's section,
 * then the CRC, every field in a fixed order.  The
 * same model always gives the same bytes, and the decoder accepts exactly
 * what the encoder can write (the encoder runs the decoder's field checks).
 * The encoder writes no model larger than MLX_MODEL_MAX_SIZE (256 MB, so
 * that pg_dump can dump it); the decoder still reads larger ones.
 */
#include <string.h>

#include "model/model_internal.h"

/* Write a section header at p; returns the position after it. */
static uint8_t *
put_section_header(uint8_t *p, uint16_t tag, uint32_t len)
{
	mlx_put_u16(p, tag);
	mlx_put_u16(p + 2, 0);
	mlx_put_u32(p + 4, len);
	return p + MLX_SECTION_HEADER_SIZE;
}

/* Write a u16 length and the bytes of s; returns the position after them. */
static uint8_t *
put_text(uint8_t *p, const char *s)
{
	size_t		len = strlen(s);

	mlx_put_u16(p, (uint16_t) len);
	memcpy(p + 2, s, len);
	return p + 2 + len;
}

/* Write the MLX_SEC_INPUTS body; returns the position after it. */
static uint8_t *
put_inputs(uint8_t *p, const mlx_inputs *in)
{
	int32_t		i;
	int32_t		j;

	mlx_put_u32(p, (uint32_t) in->ninputs);
	p += 4;
	for (i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];

		p = put_text(p, x->name);
		p[0] = x->kind;
		p[1] = 0;
		mlx_put_u32(p + 2, (uint32_t) x->nfeat);
		p += 6;
		for (j = 0; j < x->nfeat; j++)
		{
			if (x->kind != MLX_INPUT_CATEGORICAL)
			{
				mlx_put_f64(p, x->impute[j]);
				p += 8;
			}
			else if (x->categories[j] == NULL)
			{
				p[0] = 1;
				mlx_put_u16(p + 1, 0);
				p += 3;
			}
			else
			{
				p[0] = 0;
				p = put_text(p + 1, x->categories[j]);
			}
		}
	}
	p[0] = in->target != NULL ? 1 : 0;
	p[1] = in->target_kind;
	p += 2;
	if (in->target != NULL)
		p = put_text(p, in->target);
	return p;
}

/* Write the MLX_SEC_LINREG body; returns the position after it. */
static uint8_t *
put_linreg(uint8_t *p, const mlx_linreg_fit *fit)
{
	int32_t		n = fit->nfeat + 1;
	const double *arrays[MLX_LINREG_ARRAYS];
	int			a;
	int32_t		i;

	p[0] = fit->intercept ? 1 : 0;
	p[1] = p[2] = p[3] = 0;
	mlx_put_u32(p + 4, (uint32_t) fit->rank);
	mlx_put_u64(p + 8, (uint64_t) fit->nrows);
	mlx_put_u64(p + 16, (uint64_t) fit->nskipped);
	p += 24;
	mlx_put_f64(p, fit->lambda);
	mlx_put_f64(p + 8, fit->df_resid);
	mlx_put_f64(p + 16, fit->rss);
	mlx_put_f64(p + 24, fit->tss);
	mlx_put_f64(p + 32, fit->r2);
	mlx_put_f64(p + 40, fit->adj_r2);
	mlx_put_f64(p + 48, fit->sigma);
	p += 56;

	arrays[0] = fit->coef;
	arrays[1] = fit->se;
	arrays[2] = fit->tval;
	arrays[3] = fit->pval;
	for (a = 0; a < MLX_LINREG_ARRAYS; a++)
	{
		for (i = 0; i < n; i++)
		{
			mlx_put_f64(p, arrays[a][i]);
			p += 8;
		}
	}

	mlx_put_u32(p, (uint32_t) fit->ndependent);
	p += 4;
	for (i = 0; i < fit->ndependent; i++)
	{
		mlx_put_u32(p, (uint32_t) fit->dependent[i]);
		p += 4;
	}
	return p;
}

/* Write the MLX_SEC_LOGREG body; returns the position after it. */
static uint8_t *
put_logreg(uint8_t *p, const mlx_logreg_fit *fit)
{
	int32_t		n = fit->nfeat + 1;
	const double *arrays[MLX_LOGREG_ARRAYS];
	int			a;
	int32_t		i;

	p[0] = (uint8_t) ((fit->intercept ? MLX_LOGREG_FLAG_INTERCEPT : 0) |
					  (fit->converged ? MLX_LOGREG_FLAG_CONVERGED : 0) |
					  (fit->separation ? MLX_LOGREG_FLAG_SEPARATION : 0));
	p[1] = p[2] = p[3] = 0;
	mlx_put_u32(p + 4, (uint32_t) fit->iterations);
	mlx_put_u64(p + 8, (uint64_t) fit->nrows);
	mlx_put_u64(p + 16, (uint64_t) fit->nskipped);
	p += 24;
	mlx_put_f64(p, fit->lambda);
	mlx_put_f64(p + 8, fit->loglik);
	mlx_put_f64(p + 16, fit->loglik_null);
	mlx_put_f64(p + 24, fit->deviance);
	mlx_put_f64(p + 32, fit->class_weight[0]);
	mlx_put_f64(p + 40, fit->class_weight[1]);
	p += 48;

	arrays[0] = fit->coef;
	arrays[1] = fit->se;
	arrays[2] = fit->zval;
	arrays[3] = fit->pval;
	for (a = 0; a < MLX_LOGREG_ARRAYS; a++)
	{
		for (i = 0; i < n; i++)
		{
			mlx_put_f64(p, arrays[a][i]);
			p += 8;
		}
	}
	p = put_text(p, fit->classes[0]);
	p = put_text(p, fit->classes[1]);
	return p;
}

/*
 * Write the MLX_SEC_ENET body (lasso and elastic net); returns the position
 * after it.
 */
static uint8_t *
put_enet(uint8_t *p, const mlx_enet_fit *fit)
{
	int32_t		i;

	p[0] = (uint8_t) ((fit->intercept ? MLX_ENET_FLAG_INTERCEPT : 0) |
					  (fit->converged ? MLX_ENET_FLAG_CONVERGED : 0));
	p[1] = p[2] = p[3] = 0;
	mlx_put_u32(p + 4, (uint32_t) fit->iterations);
	mlx_put_u64(p + 8, (uint64_t) fit->nrows);
	mlx_put_u64(p + 16, (uint64_t) fit->nskipped);
	mlx_put_u32(p + 24, (uint32_t) fit->nonzero);
	mlx_put_u32(p + 28, 0);
	mlx_put_f64(p + 32, fit->alpha);
	mlx_put_f64(p + 40, fit->l1_ratio);
	mlx_put_f64(p + 48, fit->dual_gap);
	mlx_put_f64(p + 56, fit->r2);
	p += MLX_ENET_FIXED_SIZE;
	for (i = 0; i <= fit->nfeat; i++)
	{
		mlx_put_f64(p, fit->coef[i]);
		p += 8;
	}
	return p;
}

/* Write n doubles; returns the position after them. */
static uint8_t *
put_f64_array(uint8_t *p, const double *a, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		mlx_put_f64(p, a[i]);
		p += 8;
	}
	return p;
}

/* Write the MLX_SEC_PCA body; returns the position after it. */
static uint8_t *
put_pca(uint8_t *p, const mlx_pca_fit *fit)
{
	size_t		k = (size_t) fit->nfeat;
	size_t		nc = (size_t) fit->ncomp;

	mlx_put_u32(p, (uint32_t) fit->ncomp);
	mlx_put_u32(p + 4, 0);
	mlx_put_u64(p + 8, (uint64_t) fit->nrows);
	mlx_put_u64(p + 16, (uint64_t) fit->nskipped);
	mlx_put_f64(p + 24, fit->total_variance);
	p += MLX_PCA_FIXED_SIZE;
	p = put_f64_array(p, fit->mean, k);
	p = put_f64_array(p, fit->components, nc * k);
	p = put_f64_array(p, fit->explained_variance, nc);
	p = put_f64_array(p, fit->explained_variance_ratio, nc);
	return put_f64_array(p, fit->singular_values, nc);
}

/* Write the MLX_SEC_POISSON body; returns the position after it. */
static uint8_t *
put_poisson(uint8_t *p, const mlx_poisson_fit *fit)
{
	size_t		n = (size_t) fit->nfeat + 1;

	p[0] = (uint8_t) ((fit->intercept ? MLX_POISSON_FLAG_INTERCEPT : 0) |
					  (fit->converged ? MLX_POISSON_FLAG_CONVERGED : 0));
	p[1] = p[2] = p[3] = 0;
	mlx_put_u32(p + 4, (uint32_t) fit->iterations);
	mlx_put_u64(p + 8, (uint64_t) fit->nrows);
	mlx_put_u64(p + 16, (uint64_t) fit->nskipped);
	mlx_put_f64(p + 24, fit->lambda);
	mlx_put_f64(p + 32, fit->loglik);
	mlx_put_f64(p + 40, fit->loglik_null);
	mlx_put_f64(p + 48, fit->deviance);
	mlx_put_f64(p + 56, fit->null_deviance);
	p += MLX_POISSON_FIXED_SIZE;
	p = put_f64_array(p, fit->coef, n);
	p = put_f64_array(p, fit->se, n);
	p = put_f64_array(p, fit->zval, n);
	return put_f64_array(p, fit->pval, n);
}

/* Write the MLX_SEC_KMEANS body; returns the position after it. */
static uint8_t *
put_kmeans(uint8_t *p, const mlx_kmeans_fit *fit)
{
	size_t		nc = (size_t) fit->k;
	size_t		c;

	mlx_put_u32(p, (uint32_t) fit->k);
	p[4] = fit->converged ? MLX_KMEANS_FLAG_CONVERGED : 0;
	p[5] = p[6] = p[7] = 0;
	mlx_put_u32(p + 8, (uint32_t) fit->iterations);
	mlx_put_u32(p + 12, (uint32_t) fit->n_init);
	mlx_put_u64(p + 16, (uint64_t) fit->nrows);
	mlx_put_u64(p + 24, (uint64_t) fit->nskipped);
	mlx_put_u64(p + 32, fit->seed);
	mlx_put_f64(p + 40, fit->inertia);
	p += MLX_KMEANS_FIXED_SIZE;
	p = put_f64_array(p, fit->centroids, nc * (size_t) fit->nfeat);
	for (c = 0; c < nc; c++)
	{
		mlx_put_u64(p, (uint64_t) fit->sizes[c]);
		p += 8;
	}
	return p;
}

/*
 * Bytes a list of n class labels takes in a section (u16 lengths
 * included): naive Bayes, multinomial logistic regression and tree
 * ensembles.
 */
static uint64_t
label_list_bytes(char *const *classes, int32_t n)
{
	uint64_t	bytes = 0;

	for (int32_t c = 0; c < n; c++)
		bytes += 2 + (uint64_t) strlen(classes[c]);
	return bytes;
}

/* Write the MLX_SEC_NBAYES body; returns the position after it. */
static uint8_t *
put_nbayes(uint8_t *p, const mlx_nb_fit *fit)
{
	size_t		nc = (size_t) fit->nclasses;
	size_t		cells = nc * (size_t) fit->nfeat;
	size_t		c;

	p[0] = (uint8_t) fit->distribution;
	p[1] = p[2] = p[3] = 0;
	mlx_put_u32(p + 4, (uint32_t) fit->nclasses);
	mlx_put_u64(p + 8, (uint64_t) fit->nrows);
	mlx_put_u64(p + 16, (uint64_t) fit->nskipped);
	mlx_put_f64(p + 24, fit->var_smoothing);
	mlx_put_f64(p + 32, fit->alpha);
	mlx_put_f64(p + 40, fit->epsilon);
	p += MLX_NBAYES_FIXED_SIZE;
	for (c = 0; c < nc; c++)
		p = put_text(p, fit->classes[c]);
	for (c = 0; c < nc; c++)
	{
		mlx_put_u64(p, (uint64_t) fit->class_count[c]);
		p += 8;
	}
	p = put_f64_array(p, fit->class_log_prior, nc);
	if (fit->distribution == MLX_NB_GAUSSIAN)
	{
		p = put_f64_array(p, fit->theta, cells);
		return put_f64_array(p, fit->var, cells);
	}
	return put_f64_array(p, fit->feature_log_prob, cells);
}

/* Write the MLX_SEC_SOFTMAX body; returns the position after it. */
static uint8_t *
put_softmax(uint8_t *p, const mlx_softmax_fit *fit)
{
	size_t		nc = (size_t) fit->nclasses;
	size_t		c;

	p[0] = (uint8_t) ((fit->intercept ? MLX_SOFTMAX_FLAG_INTERCEPT : 0) |
					  (fit->converged ? MLX_SOFTMAX_FLAG_CONVERGED : 0) |
					  (fit->separation ? MLX_SOFTMAX_FLAG_SEPARATION : 0));
	p[1] = fit->solver;
	mlx_put_u16(p + 2, 0);
	mlx_put_u32(p + 4, (uint32_t) fit->nclasses);
	mlx_put_u32(p + 8, (uint32_t) fit->iterations);
	mlx_put_u32(p + 12, (uint32_t) fit->passes);
	mlx_put_u64(p + 16, (uint64_t) fit->nrows);
	mlx_put_u64(p + 24, (uint64_t) fit->nskipped);
	mlx_put_f64(p + 32, fit->lambda);
	mlx_put_f64(p + 40, fit->loglik);
	mlx_put_f64(p + 48, fit->loglik_null);
	p += MLX_SOFTMAX_FIXED_SIZE;
	p = put_f64_array(p, fit->coef, nc * ((size_t) fit->nfeat + 1));
	p = put_f64_array(p, fit->class_weight, nc);
	for (c = 0; c < nc; c++)
		p = put_text(p, fit->classes[c]);
	return p;
}

/* Write n 32-bit integers; returns the position after them. */
static uint8_t *
put_i32_array(uint8_t *p, const int32_t *a, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		mlx_put_u32(p, (uint32_t) a[i]);
		p += 4;
	}
	return p;
}

/*
 * Write the MLX_SEC_TREE body (node arrays as columns, so each holds one
 * type); returns the position after it.
 */
static uint8_t *
put_tree(uint8_t *p, const mlx_tree_fit *fit)
{
	size_t		nn = (size_t) fit->nnodes;
	int32_t		c;

	p[0] = fit->kind;
	p[1] = fit->objective;
	mlx_put_u16(p + 2, 0);
	mlx_put_u32(p + 4, (uint32_t) fit->nclasses);
	mlx_put_u32(p + 8, (uint32_t) fit->ngroups);
	mlx_put_u32(p + 12, (uint32_t) fit->leaf_width);
	mlx_put_u32(p + 16, (uint32_t) fit->ntrees);
	mlx_put_u32(p + 20, (uint32_t) fit->nnodes);
	mlx_put_u64(p + 24, (uint64_t) fit->nrows);
	mlx_put_u64(p + 32, (uint64_t) fit->nskipped);
	mlx_put_u32(p + 40, (uint32_t) fit->best_iteration);
	mlx_put_u32(p + 44, (uint32_t) fit->max_depth);
	mlx_put_u32(p + 48, (uint32_t) fit->max_features);
	mlx_put_u32(p + 52, (uint32_t) fit->max_bins);
	mlx_put_f64(p + 56, fit->learning_rate);
	mlx_put_f64(p + 64, fit->lambda);
	mlx_put_f64(p + 72, fit->min_child_weight);
	mlx_put_f64(p + 80, fit->subsample);
	mlx_put_f64(p + 88, fit->colsample);
	p += MLX_TREE_FIXED_SIZE;
	p = put_f64_array(p, fit->base_score, (size_t) fit->ngroups);
	p = put_i32_array(p, fit->tree_start, (size_t) fit->ntrees + 1);
	if (nn > 0)
	{
		p = put_i32_array(p, fit->feature, nn);
		p = put_f64_array(p, fit->threshold, nn);
		p = put_i32_array(p, fit->left, nn);
		p = put_i32_array(p, fit->right, nn);
		memcpy(p, fit->default_left, nn);
		p += nn;
		p = put_f64_array(p, fit->gain, nn);
		p = put_f64_array(p, fit->cover, nn);
		p = put_f64_array(p, fit->value, nn * (size_t) fit->leaf_width);
	}
	for (c = 0; c < fit->nclasses; c++)
		p = put_text(p, fit->classes[c]);
	return p;
}

/* The tag of the algorithm's section (algorithm known). */
static uint16_t
fit_tag(uint16_t algorithm)
{
	switch (algorithm)
	{
		case MLX_ALG_LOGISTIC_REGRESSION:
			return MLX_SEC_LOGREG;
		case MLX_ALG_LASSO:
		case MLX_ALG_ELASTIC_NET:
			return MLX_SEC_ENET;
		case MLX_ALG_PCA:
			return MLX_SEC_PCA;
		case MLX_ALG_POISSON_REGRESSION:
			return MLX_SEC_POISSON;
		case MLX_ALG_KMEANS:
			return MLX_SEC_KMEANS;
		case MLX_ALG_NAIVE_BAYES:
			return MLX_SEC_NBAYES;
		case MLX_ALG_SOFTMAX_REGRESSION:
			return MLX_SEC_SOFTMAX;
		case MLX_ALG_DECISION_TREE:
		case MLX_ALG_RANDOM_FOREST:
		case MLX_ALG_GRADIENT_BOOSTING:
			return MLX_SEC_TREE;
	}
	return MLX_SEC_LINREG;
}

/*
 * Check the model (MLX_EINVAL for anything the decoder would reject) and
 * size it: the payload (bytes between the header and the CRC) and the
 * feature, inputs and fit sections in it.
 */
static mlx_status
model_sizes(const mlx_model *m, const mlx_ctx *ctx, uint64_t *payload_out,
			uint64_t *names_out, uint64_t *inputs_out, uint64_t *fit_out)
{
	char		errbuf[256];
	int32_t		k;
	int32_t		i;
	uint64_t	names_size = 0;
	uint64_t	inputs_size = 0;
	uint64_t	fit_size;
	uint64_t	payload;

	if (m == NULL || mlx_algorithm_name(m->algorithm) == NULL ||
		m->flags != 0 || m->feature_names == NULL)
		return MLX_EINVAL;
	k = m->nfeat;
	if (k < 1 || k > MLX_MODEL_MAX_FEATURES)
		return MLX_EINVAL;
	for (i = 0; i < k; i++)
	{
		size_t		len;

		if (m->feature_names[i] == NULL)
			return MLX_EINVAL;
		len = strlen(m->feature_names[i]);
		if (!mlx_check_feature_name((const uint8_t *) m->feature_names[i], len,
									i, errbuf, sizeof(errbuf)))
			return MLX_EINVAL;
		names_size += 2 + (uint64_t) len;
	}
	if (!mlx_check_model_fit(m, errbuf, sizeof(errbuf)))
		return MLX_EINVAL;
	switch (fit_tag(m->algorithm))
	{
		case MLX_SEC_LOGREG:
			fit_size = mlx_logreg_section_size(k, strlen(m->u.logreg.classes[0]),
											   strlen(m->u.logreg.classes[1]));
			break;
		case MLX_SEC_ENET:
			fit_size = mlx_enet_section_size(k);
			break;
		case MLX_SEC_PCA:
			fit_size = mlx_pca_section_size(k, (uint64_t) m->u.pca.ncomp);
			break;
		case MLX_SEC_POISSON:
			fit_size = mlx_poisson_section_size(k);
			break;
		case MLX_SEC_KMEANS:
			fit_size = mlx_kmeans_section_size(k, (uint64_t) m->u.kmeans.k);
			break;
		case MLX_SEC_NBAYES:
			fit_size = mlx_nbayes_section_size(k, (uint64_t) m->u.nbayes.nclasses,
											   label_list_bytes(m->u.nbayes.classes, m->u.nbayes.nclasses),
											   m->u.nbayes.distribution);
			break;
		case MLX_SEC_SOFTMAX:
			fit_size = mlx_softmax_section_size(k, (uint64_t) m->u.softmax.nclasses,
												label_list_bytes(m->u.softmax.classes, m->u.softmax.nclasses));
			break;
		case MLX_SEC_TREE:
			fit_size = mlx_tree_section_size((uint64_t) m->u.tree.ngroups,
											 (uint64_t) m->u.tree.ntrees,
											 (uint64_t) m->u.tree.nnodes,
											 (uint64_t) m->u.tree.leaf_width,
											 label_list_bytes(m->u.tree.classes, m->u.tree.nclasses));
			break;
		default:
			fit_size = mlx_linreg_section_size(k, m->u.linreg.ndependent);
			break;
	}
	if (m->inputs != NULL)
	{
		mlx_status	st = mlx_check_inputs(m->inputs, k,
										  mlx_algorithm_keeps_missing(m->algorithm),
										  ctx, NULL, errbuf, sizeof(errbuf));

		if (st != MLX_OK)
			return st == MLX_ENOMEM ? MLX_ENOMEM : MLX_EINVAL;
		inputs_size = MLX_SECTION_HEADER_SIZE +
			mlx_inputs_section_size(m->inputs);
	}

	/*
	 * The features section (k <= 10^6 names of <= 1 kB each) fits in 32
	 * bits; with the inputs (up to 10^6 categories of <= 1 kB each), the
	 * components of a PCA (ncomp * k doubles) or the coefficients of a
	 * multinomial logistic regression (up to 1000 rows of k + 1 doubles)
	 * or the nodes of a tree ensemble (up to 5 * 10^7 nodes of up to 1000
	 * values) the total might not, and is then refused.  (The centroids of a
	 * k-means, at most MLX_KMEANS_MAX_CELLS doubles, always fit, as do the
	 * at most 2 MLX_NBAYES_MAX_CELLS doubles and 1000 labels of a naive
	 * Bayes.)
	 */
	payload = 2 * MLX_SECTION_HEADER_SIZE + names_size + inputs_size +
		fit_size;
	if (payload > UINT32_MAX)
		return MLX_EINVAL;
	*payload_out = payload;
	*names_out = names_size;
	*inputs_out = inputs_size;
	*fit_out = fit_size;
	return MLX_OK;
}

mlx_status
mlx_model_encoded_size(const mlx_model *m, const mlx_ctx *ctx, uint64_t *size)
{
	uint64_t	payload;
	uint64_t	names_size;
	uint64_t	inputs_size;
	uint64_t	fit_size;
	mlx_status	st;

	*size = 0;
	st = model_sizes(m, ctx, &payload, &names_size, &inputs_size, &fit_size);
	if (st == MLX_OK)
		*size = MLX_MODEL_HEADER_SIZE + payload + MLX_MODEL_CRC_SIZE;
	return st;
}

/*
 * Check and size the model, refuse it when it is larger than
 * MLX_MODEL_MAX_SIZE (before allocating anything for it), then write it in
 * one pass into a single allocation.
 */
mlx_status
mlx_model_encode(const mlx_model *m, const mlx_ctx *ctx, size_t reserve,
				 uint8_t **out, size_t *outlen)
{
	int32_t		k;
	int32_t		i;
	uint64_t	names_size;
	uint64_t	inputs_size;
	uint64_t	fit_size;
	uint64_t	payload;
	uint64_t	total;
	uint8_t    *buf;
	uint8_t    *p;
	mlx_status	st;

	*out = NULL;
	*outlen = 0;
	st = model_sizes(m, ctx, &payload, &names_size, &inputs_size, &fit_size);
	if (st != MLX_OK)
		return st;
	k = m->nfeat;
	total = MLX_MODEL_HEADER_SIZE + payload + MLX_MODEL_CRC_SIZE;
	if (total > MLX_MODEL_MAX_SIZE || total > SIZE_MAX - reserve)
		return MLX_EINVAL;

	buf = mlx_alloc(ctx, reserve + (size_t) total);
	if (buf == NULL)
		return MLX_ENOMEM;
	memset(buf, 0, reserve);
	p = buf + reserve;

	/* header */
	memcpy(p, MLX_MODEL_MAGIC, 4);
	mlx_put_u16(p + 4, MLX_MODEL_FORMAT_VERSION);
	mlx_put_u16(p + 6, m->algorithm);
	mlx_put_u32(p + 8, 0);
	mlx_put_u32(p + 12, (uint32_t) k);
	mlx_put_u32(p + 16, (uint32_t) payload);
	mlx_put_u32(p + 20, 0);
	p += MLX_MODEL_HEADER_SIZE;

	/* feature names */
	p = put_section_header(p, MLX_SEC_FEATURES, (uint32_t) names_size);
	for (i = 0; i < k; i++)
	{
		size_t		len = strlen(m->feature_names[i]);

		mlx_put_u16(p, (uint16_t) len);
		memcpy(p + 2, m->feature_names[i], len);
		p += 2 + len;
	}

	/* source columns */
	if (m->inputs != NULL)
	{
		p = put_section_header(p, MLX_SEC_INPUTS,
							   (uint32_t) (inputs_size - MLX_SECTION_HEADER_SIZE));
		p = put_inputs(p, m->inputs);
	}

	/* fitted model */
	p = put_section_header(p, fit_tag(m->algorithm), (uint32_t) fit_size);
	switch (fit_tag(m->algorithm))
	{
		case MLX_SEC_LOGREG:
			p = put_logreg(p, &m->u.logreg);
			break;
		case MLX_SEC_ENET:
			p = put_enet(p, &m->u.enet);
			break;
		case MLX_SEC_PCA:
			p = put_pca(p, &m->u.pca);
			break;
		case MLX_SEC_POISSON:
			p = put_poisson(p, &m->u.poisson);
			break;
		case MLX_SEC_KMEANS:
			p = put_kmeans(p, &m->u.kmeans);
			break;
		case MLX_SEC_NBAYES:
			p = put_nbayes(p, &m->u.nbayes);
			break;
		case MLX_SEC_SOFTMAX:
			p = put_softmax(p, &m->u.softmax);
			break;
		case MLX_SEC_TREE:
			p = put_tree(p, &m->u.tree);
			break;
		default:
			p = put_linreg(p, &m->u.linreg);
			break;
	}

	mlx_put_u32(p, mlx_crc32c(0, buf + reserve, (size_t) (p - (buf + reserve))));

	*out = buf;
	*outlen = (size_t) total;
	return MLX_OK;
}
