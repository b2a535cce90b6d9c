/*
 * model_internal.h
 *	  Private helpers of the model format: big-endian byte access, section
 *	  sizes, and the field checks shared by the encoder and the decoder.
 *
 * Every multi-byte value is read and written one byte at a time with
 * explicit shifts, so the code is independent of host byte order and of the
 * alignment of the buffer.  Doubles travel as the big-endian bytes of their
 * IEEE-754 binary64 bit pattern (memcpy to a uint64_t, then shift).
 */
#ifndef MLX_MODEL_INTERNAL_H
#define MLX_MODEL_INTERNAL_H

#include <string.h>

#include "model/model.h"

/* section header: u16 tag, u16 reserved, u32 length */
#define MLX_SECTION_HEADER_SIZE 8

/* bytes of the trailing CRC-32C */
#define MLX_MODEL_CRC_SIZE 4

/*
 * MLX_SEC_LINREG: bytes before the four per-coefficient arrays (flag,
 * reserved, rank, nrows, nskipped, then seven doubles), and per array entry
 */
#define MLX_LINREG_FIXED_SIZE (1 + 3 + 4 + 8 + 8 + 7 * 8)
#define MLX_LINREG_ARRAYS 4

static inline uint16_t
mlx_get_u16(const uint8_t *p)
{
	return (uint16_t) (((uint16_t) p[0] << 8) | (uint16_t) p[1]);
}

static inline uint32_t
mlx_get_u32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static inline uint64_t
mlx_get_u64(const uint8_t *p)
{
	return ((uint64_t) mlx_get_u32(p) << 32) | (uint64_t) mlx_get_u32(p + 4);
}

static inline double
mlx_get_f64(const uint8_t *p)
{
	uint64_t	bits = mlx_get_u64(p);
	double		d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static inline void
mlx_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static inline void
mlx_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static inline void
mlx_put_u64(uint8_t *p, uint64_t v)
{
	mlx_put_u32(p, (uint32_t) (v >> 32));
	mlx_put_u32(p + 4, (uint32_t) v);
}

static inline void
mlx_put_f64(uint8_t *p, double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, sizeof(bits));
	mlx_put_u64(p, bits);
}

/*
 * MLX_SEC_INPUTS: bytes before an input's kind-specific data (u16 name
 * length, name, u8 kind, u8 reserved, u32 nfeat: 8 + name), the least an
 * input can take (a 1-byte name and one categorical entry of 3 bytes, the
 * smallest kind-specific data), the u32 input count, and the smallest
 * target part (u8 flag, u8 kind).
 */
#define MLX_INPUT_FIXED_SIZE 8
#define MLX_INPUT_MIN_SIZE (MLX_INPUT_FIXED_SIZE + 1 + 3)
#define MLX_CATEGORY_FIXED_SIZE 3
#define MLX_INPUTS_COUNT_SIZE 4
#define MLX_INPUTS_TARGET_MIN_SIZE 2

/*
 * MLX_SEC_LOGREG: bytes before the four per-coefficient arrays (flags,
 * reserved, iterations, nrows, nskipped, then lambda, loglik, loglik_null,
 * deviance and the two class weights), the arrays, and the part after them
 * without the label bytes (two u16 label lengths).
 */
#define MLX_LOGREG_FIXED_SIZE (1 + 3 + 4 + 8 + 8 + 6 * 8)
#define MLX_LOGREG_ARRAYS 4
#define MLX_LOGREG_LABELS_MIN_SIZE 4

/* MLX_SEC_LOGREG flag bits */
#define MLX_LOGREG_FLAG_INTERCEPT 0x01
#define MLX_LOGREG_FLAG_CONVERGED 0x02
#define MLX_LOGREG_FLAG_SEPARATION 0x04
#define MLX_LOGREG_FLAGS_KNOWN 0x07

/*
 * Bytes of the MLX_SEC_LOGREG body for k features and class labels of
 * len0 and len1 bytes.
 */
static inline uint64_t
mlx_logreg_section_size(int32_t k, size_t len0, size_t len1)
{
	return (uint64_t) MLX_LOGREG_FIXED_SIZE +
		(uint64_t) MLX_LOGREG_ARRAYS * 8 * ((uint64_t) k + 1) +
		MLX_LOGREG_LABELS_MIN_SIZE + (uint64_t) len0 + (uint64_t) len1;
}

/*
 * MLX_SEC_ENET (lasso and elastic net): bytes before the coefficients
 * (flags, reserved, iterations, nrows, nskipped, nonzero, reserved, then
 * alpha, l1_ratio, dual_gap and r2), and its flag bits.
 */
#define MLX_ENET_FIXED_SIZE (1 + 3 + 4 + 8 + 8 + 4 + 4 + 4 * 8)
#define MLX_ENET_FLAG_INTERCEPT 0x01
#define MLX_ENET_FLAG_CONVERGED 0x02
#define MLX_ENET_FLAGS_KNOWN 0x03

/* Bytes of the MLX_SEC_ENET body for k features. */
static inline uint64_t
mlx_enet_section_size(int32_t k)
{
	return (uint64_t) MLX_ENET_FIXED_SIZE + 8 * ((uint64_t) k + 1);
}

/*
 * MLX_SEC_PCA: bytes before the arrays (ncomp, reserved, nrows, nskipped,
 * total_variance), and the number of per-component arrays after the
 * components (explained variance, its ratio, singular values).
 */
#define MLX_PCA_FIXED_SIZE (4 + 4 + 8 + 8 + 8)
#define MLX_PCA_COMPONENT_ARRAYS 3

/*
 * Largest ncomp * ncomp * k for which the checks compare every pair of
 * components for orthogonality (about ncomp^2 k / 2 multiply-adds); above
 * it only the norms are checked.
 */
#define MLX_PCA_ORTHO_CHECK_MAX 100000000.0

/* Bytes of the MLX_SEC_PCA body for k features and ncomp components. */
static inline uint64_t
mlx_pca_section_size(int32_t k, uint64_t ncomp)
{
	return (uint64_t) MLX_PCA_FIXED_SIZE + 8 * (uint64_t) k +
		8 * ncomp * ((uint64_t) k + MLX_PCA_COMPONENT_ARRAYS);
}

/*
 * MLX_SEC_POISSON: bytes before the four per-coefficient arrays (flags,
 * reserved, iterations, nrows, nskipped, then lambda, loglik, loglik_null,
 * deviance and null_deviance), and its flag bits.
 */
#define MLX_POISSON_FIXED_SIZE (1 + 3 + 4 + 8 + 8 + 5 * 8)
#define MLX_POISSON_ARRAYS 4
#define MLX_POISSON_FLAG_INTERCEPT 0x01
#define MLX_POISSON_FLAG_CONVERGED 0x02
#define MLX_POISSON_FLAGS_KNOWN 0x03

/* Bytes of the MLX_SEC_POISSON body for k features. */
static inline uint64_t
mlx_poisson_section_size(int32_t k)
{
	return (uint64_t) MLX_POISSON_FIXED_SIZE +
		(uint64_t) MLX_POISSON_ARRAYS * 8 * ((uint64_t) k + 1);
}

/*
 * MLX_SEC_KMEANS: bytes before the centroids (cluster count, flags,
 * reserved, iterations, n_init, nrows, nskipped, seed, inertia), and its
 * flag bits.
 */
#define MLX_KMEANS_FIXED_SIZE (4 + 1 + 3 + 4 + 4 + 8 + 8 + 8 + 8)
#define MLX_KMEANS_FLAG_CONVERGED 0x01
#define MLX_KMEANS_FLAGS_KNOWN 0x01

/*
 * Bytes of the MLX_SEC_KMEANS body for k features and nclusters clusters
 * (the centroids, then one i64 size per cluster).  Exact in 64 bits for
 * any k <= MLX_MODEL_MAX_FEATURES and nclusters < 2^32.
 */
static inline uint64_t
mlx_kmeans_section_size(int32_t k, uint64_t nclusters)
{
	return (uint64_t) MLX_KMEANS_FIXED_SIZE +
		8 * nclusters * ((uint64_t) k + 1);
}

/*
 * MLX_SEC_NBAYES: bytes before the class labels (distribution, reserved,
 * class count, nrows, nskipped, then var_smoothing, alpha and epsilon), the
 * least a label takes (u16 length + 1 byte), and the limit on nclasses * k
 * (the size of theta, var or feature_log_prob: what a state of
 * MLX_NB_MAX_CLASSES classes of MLX_NB_MAX_FEATURES features gives).
 */
#define MLX_NBAYES_FIXED_SIZE (1 + 3 + 4 + 8 + 8 + 3 * 8)
#define MLX_NBAYES_LABEL_MIN_SIZE 3
#define MLX_NBAYES_MAX_CELLS (MLX_NB_MAX_CLASSES * MLX_NB_MAX_FEATURES)

/* The per-class arrays of k values a distribution stores (theta and var: 2). */
static inline int
mlx_nbayes_arrays(int distribution)
{
	return distribution == MLX_NB_GAUSSIAN ? 2 : 1;
}

/*
 * Bytes of the MLX_SEC_NBAYES body for k features, nclasses classes whose
 * labels take label_bytes (u16 lengths included), and the distribution.
 * Exact in 64 bits for nclasses < 2^32, k <= MLX_MODEL_MAX_FEATURES and
 * label_bytes < 2^40.
 */
static inline uint64_t
mlx_nbayes_section_size(int32_t k, uint64_t nclasses, uint64_t label_bytes,
						int distribution)
{
	return (uint64_t) MLX_NBAYES_FIXED_SIZE + label_bytes + 16 * nclasses +
		8 * nclasses * (uint64_t) k * (uint64_t) mlx_nbayes_arrays(distribution);
}

/*
 * MLX_SEC_SOFTMAX: bytes before the coefficients (flags, solver, reserved,
 * class count, iterations, passes, nrows, nskipped, then lambda, loglik
 * and loglik_null), the least a class label takes (its u16 length: labels
 * may be empty), and the flag bits.
 */
#define MLX_SOFTMAX_FIXED_SIZE (1 + 1 + 2 + 4 + 4 + 4 + 8 + 8 + 3 * 8)
#define MLX_SOFTMAX_LABEL_MIN_SIZE 2
#define MLX_SOFTMAX_FLAG_INTERCEPT 0x01
#define MLX_SOFTMAX_FLAG_CONVERGED 0x02
#define MLX_SOFTMAX_FLAG_SEPARATION 0x04
#define MLX_SOFTMAX_FLAGS_KNOWN 0x07

/*
 * Bytes of the MLX_SEC_SOFTMAX body for k features, nclasses classes whose
 * labels take label_bytes (u16 lengths included): the coefficient matrix
 * (nclasses rows of k + 1) and one class weight per class.  Exact in 64
 * bits for nclasses < 2^32, k <= MLX_MODEL_MAX_FEATURES and label_bytes <
 * 2^40.
 */
static inline uint64_t
mlx_softmax_section_size(int32_t k, uint64_t nclasses, uint64_t label_bytes)
{
	return (uint64_t) MLX_SOFTMAX_FIXED_SIZE + label_bytes +
		8 * nclasses * ((uint64_t) k + 2);
}

/*
 * MLX_SEC_TREE: bytes before the arrays (kind, objective, reserved, the
 * class, group, leaf-width, tree and node counts, nrows, nskipped,
 * best_iteration, max_depth, max_features, max_bins, then learning_rate,
 * lambda, min_child_weight, subsample and colsample), the bytes of one
 * node in the node columns (feature, threshold, left, right, default_left,
 * gain, cover; its values come on top), and the least a class label takes
 * (its u16 length: labels may be empty).
 */
#define MLX_TREE_FIXED_SIZE (1 + 1 + 2 + 5 * 4 + 8 + 8 + 4 * 4 + 5 * 8)
#define MLX_TREE_NODE_SIZE (4 + 8 + 4 + 4 + 1 + 8 + 8)
#define MLX_TREE_LABEL_MIN_SIZE 2

/*
 * Bytes of the MLX_SEC_TREE body: ngroups base scores, ntrees + 1 tree
 * starts, nnodes nodes of leaf_width values each, and class labels taking
 * label_bytes (u16 lengths included).  Exact in 64 bits for counts within
 * the limits of tree.h (MLX_TREE_MAX_*: under 2^39 bytes) and label_bytes <
 * 2^40; the decoder checks the counts before it calls this.
 */
static inline uint64_t
mlx_tree_section_size(uint64_t ngroups, uint64_t ntrees, uint64_t nnodes,
					  uint64_t leaf_width, uint64_t label_bytes)
{
	return (uint64_t) MLX_TREE_FIXED_SIZE + 8 * ngroups + 4 * (ntrees + 1) +
		nnodes * (MLX_TREE_NODE_SIZE + 8 * leaf_width) + label_bytes;
}

/* Whether an algorithm id is one of the tree ensembles (MLX_SEC_TREE). */
static inline bool
mlx_algorithm_is_tree(uint16_t algorithm)
{
	return algorithm == MLX_ALG_DECISION_TREE ||
		algorithm == MLX_ALG_RANDOM_FOREST ||
		algorithm == MLX_ALG_GRADIENT_BOOSTING;
}

/*
 * How messages name the model of a tree algorithm ("random forest"), the
 * way the core's messages name its kind.
 */
static inline const char *
mlx_tree_family(uint16_t algorithm)
{
	switch (algorithm)
	{
		case MLX_ALG_DECISION_TREE:
			return "decision tree";
		case MLX_ALG_RANDOM_FOREST:
			return "random forest";
	}
	return "gradient boosting";
}

/* The algorithm id of a tree kind (mlx_tree_kind), or 0 if unknown. */
static inline uint16_t
mlx_tree_algorithm(int kind)
{
	switch (kind)
	{
		case MLX_TREE_DECISION_TREE:
			return MLX_ALG_DECISION_TREE;
		case MLX_TREE_RANDOM_FOREST:
			return MLX_ALG_RANDOM_FOREST;
		case MLX_TREE_GRADIENT_BOOSTING:
			return MLX_ALG_GRADIENT_BOOSTING;
	}
	return 0;
}

/* Bytes of the MLX_SEC_LINREG body for k features and ndependent entries. */
static inline uint64_t
mlx_linreg_section_size(int32_t k, int32_t ndependent)
{
	return (uint64_t) MLX_LINREG_FIXED_SIZE +
		(uint64_t) MLX_LINREG_ARRAYS * 8 * ((uint64_t) k + 1) +
		4 + 4 * (uint64_t) ndependent;
}

/*
 * Checks shared by encoder and decoder, so that the encoder never writes
 * what the decoder would reject.  Each returns true when the value is
 * acceptable and otherwise writes a lowercase message to errbuf.
 */
extern bool mlx_check_text(const uint8_t *s, size_t len, size_t minlen,
						   size_t maxlen, const char *what,
						   char *errbuf, size_t errlen);
extern bool mlx_check_feature_name(const uint8_t *name, size_t len, int32_t i,
								   char *errbuf, size_t errlen);
extern bool mlx_check_linreg_fit(const mlx_linreg_fit *fit, int32_t nfeat,
								 char *errbuf, size_t errlen);
extern bool mlx_check_logreg_fit(const mlx_logreg_fit *fit, int32_t nfeat,
								 char *errbuf, size_t errlen);
extern bool mlx_check_enet_fit(const mlx_enet_fit *fit, uint16_t algorithm,
							   int32_t nfeat, char *errbuf, size_t errlen);
extern bool mlx_check_pca_fit(const mlx_pca_fit *fit, int32_t nfeat,
							  char *errbuf, size_t errlen);
extern bool mlx_check_poisson_fit(const mlx_poisson_fit *fit, int32_t nfeat,
								  char *errbuf, size_t errlen);
extern bool mlx_check_kmeans_fit(const mlx_kmeans_fit *fit, int32_t nfeat,
								 char *errbuf, size_t errlen);
extern bool mlx_check_nbayes_fit(const mlx_nb_fit *fit, int32_t nfeat,
								 char *errbuf, size_t errlen);
extern bool mlx_check_softmax_fit(const mlx_softmax_fit *fit, int32_t nfeat,
								  char *errbuf, size_t errlen);
extern bool mlx_check_tree_fit(const mlx_tree_fit *fit, uint16_t algorithm,
							   int32_t nfeat, char *errbuf, size_t errlen);

/*
 * Whether nclasses classes of k features are within the naive Bayes
 * limits: 2 <= nclasses <= MLX_NB_MAX_CLASSES and nclasses * k <=
 * MLX_NBAYES_MAX_CELLS (computed without overflow).  Otherwise false with a
 * message.
 */
extern bool mlx_check_nbayes_shape(int64_t nclasses, int32_t k,
								   char *errbuf, size_t errlen);

/*
 * Whether nclasses is within the multinomial logistic regression limits,
 * 2 to MLX_SOFTMAX_MAX_CLASSES.  Otherwise false with a message.
 */
extern bool mlx_check_softmax_shape(int64_t nclasses,
									char *errbuf, size_t errlen);

/*
 * Whether nclusters clusters of k features are within the k-means limits:
 * 1 <= nclusters <= MLX_KMEANS_MAX_K and nclusters * k <=
 * MLX_KMEANS_MAX_CELLS (computed without overflow).  Otherwise false with a
 * message.
 */
extern bool mlx_check_kmeans_shape(int64_t nclusters, int32_t k,
								   char *errbuf, size_t errlen);

/*
 * Check the fit of a model of any known algorithm against its nfeat (the
 * check above of the algorithm's fit); false with a message for an unknown
 * algorithm.
 */
extern bool mlx_check_model_fit(const mlx_model *m, char *errbuf, size_t errlen);

/*
 * Check inputs for consistency (see mlx_inputs in model.h); k < 0 skips the
 * comparison of the features they expand to with k.  nan_impute allows NaN
 * imputation values (the model's algorithm keeps missing values:
 * mlx_algorithm_keeps_missing); infinite ones are always refused.  Returns
 * MLX_OK, MLX_ECORRUPT with a message in errbuf, or MLX_ENOMEM (the check
 * of unique names sorts a temporary array).  When 'features' is not NULL it
 * receives the number of features the inputs expand to.
 */
extern mlx_status mlx_check_inputs(const mlx_inputs *in, int32_t k,
								   bool nan_impute, const mlx_ctx *ctx,
								   int32_t *features, char *errbuf,
								   size_t errlen);

/* "numeric", "boolean", "categorical", "array", or NULL */
extern const char *mlx_input_kind_name(uint8_t kind);

/* Bytes of the MLX_SEC_INPUTS body of valid inputs. */
extern uint64_t mlx_inputs_section_size(const mlx_inputs *in);

#endif							/* MLX_MODEL_INTERNAL_H */
