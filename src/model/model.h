/*
 * model.h
 *	  The model bytea: in-memory model, encoder, validating decoder and JSON
 *	  description.  This is the only code that reads or writes model bytes.
 *
 * Plain C (no postgres.h) so the decoder can be fuzzed and unit-tested
 * alone.  The byte layout is specified in doc/model-format.md; in short,
 * everything is big-endian ("network order", as PostgreSQL's pq_send*):
 *
 *	  offset size
 *	  0      4    magic "MLXM"
 *	  4      2    format version (MLX_MODEL_FORMAT_VERSION)
 *	  6      2    algorithm id (MLX_ALG_*)
 *	  8      4    flags (0 in version 1)
 *	  12     4    feature count k
 *	  16     4    payload length L (bytes from offset 24 up to the CRC)
 *	  20     4    reserved (0)
 *	  24     L    payload: a sequence of sections, each
 *	                u16 tag, u16 reserved (0), u32 length, then length bytes
 *	  24+L   4    CRC-32C (Castagnoli) of bytes 0 .. 24+L-1
 *
 * Sections of version 1: MLX_SEC_FEATURES (k names, each u16 byte length +
 * UTF-8 bytes, no NUL), the algorithm's own section (MLX_SEC_LINREG for
 * linear regression, MLX_SEC_LOGREG for logistic regression, MLX_SEC_ENET
 * for lasso and elastic net, MLX_SEC_PCA for principal component analysis,
 * MLX_SEC_POISSON for Poisson regression, MLX_SEC_KMEANS for k-means,
 * MLX_SEC_NBAYES for naive Bayes, MLX_SEC_SOFTMAX for multinomial
 * logistic regression, MLX_SEC_TREE for the decision tree, the random
 * forest and gradient boosting;
 * exactly the one of the header's algorithm), and the optional
 * MLX_SEC_INPUTS (how source table columns become the k features; only in
 * models trained from a table by ml.train).  A decoder rejects a missing
 * required section, any duplicated section, and unknown section
 * tags below MLX_SEC_OPTIONAL_BASE; unknown tags at or above it are skipped
 * (room for later additions that old readers may ignore).
 */
#ifndef MLX_MODEL_H
#define MLX_MODEL_H

#include "core/mlx_core.h"
#include "core/linreg.h"
#include "core/logreg.h"
#include "core/enet.h"
#include "core/pca.h"
#include "core/poisson.h"
#include "core/kmeans.h"
#include "core/nbayes.h"
#include "core/softmax.h"
#include "core/tree.h"

#define MLX_MODEL_MAGIC "MLXM"
#define MLX_MODEL_FORMAT_VERSION 1
#define MLX_MODEL_HEADER_SIZE 24
#define MLX_MODEL_MIN_SIZE (MLX_MODEL_HEADER_SIZE + 4)
/*
 * Largest model the encoder writes, in bytes (the whole value: header,
 * sections and CRC).  pg_dump dumps ml.models with text COPY, which spells
 * a bytea as 2N + 2 hex characters, and the server builds each row's line
 * (and, at restore, reads it) in one allocation of at most 1 GB: a 256 MB
 * model is 512 MB of hex, which leaves as much again for the rest of the
 * row.  Decoding is not limited by it: a larger model that ml_ext 1.0
 * wrote (it allowed up to 1 GB) still reads.
 */
#define MLX_MODEL_MAX_SIZE ((uint64_t) 256 * 1024 * 1024)
/* no model may claim more features than this (sanity bound for readers) */
#define MLX_MODEL_MAX_FEATURES 1000000
#define MLX_MODEL_MAX_NAME_LEN 1024
/* longest category value of a categorical input, in bytes (0 is allowed) */
#define MLX_MODEL_MAX_CATEGORY_LEN 1024

/* algorithm ids: never renumber, only append */
typedef enum mlx_algorithm
{
	MLX_ALG_LINEAR_REGRESSION = 1,
	MLX_ALG_LOGISTIC_REGRESSION = 2,
	MLX_ALG_LASSO = 3,
	MLX_ALG_ELASTIC_NET = 4,
	MLX_ALG_PCA = 5,
	MLX_ALG_POISSON_REGRESSION = 6,
	MLX_ALG_KMEANS = 7,
	MLX_ALG_NAIVE_BAYES = 8,
	MLX_ALG_SOFTMAX_REGRESSION = 9, /* "multinomial_logistic_regression" */
	MLX_ALG_DECISION_TREE = 10,
	MLX_ALG_RANDOM_FOREST = 11,
	MLX_ALG_GRADIENT_BOOSTING = 12
} mlx_algorithm;

/* section tags: never renumber, only append */
#define MLX_SEC_FEATURES 1
#define MLX_SEC_LINREG 2
#define MLX_SEC_INPUTS 3
#define MLX_SEC_LOGREG 4
#define MLX_SEC_ENET 5			/* MLX_ALG_LASSO and MLX_ALG_ELASTIC_NET */
#define MLX_SEC_PCA 6
#define MLX_SEC_POISSON 7
#define MLX_SEC_KMEANS 8
#define MLX_SEC_NBAYES 9
#define MLX_SEC_SOFTMAX 10
#define MLX_SEC_TREE 11			/* MLX_ALG_DECISION_TREE,
								 * MLX_ALG_RANDOM_FOREST and
								 * MLX_ALG_GRADIENT_BOOSTING */
#define MLX_SEC_OPTIONAL_BASE 0x8000

/* how a source column becomes features: never renumber, only append */
typedef enum mlx_input_kind
{
	MLX_INPUT_NUMERIC = 1,		/* int2/int4/int8/float4/float8/numeric: 1
								 * feature */
	MLX_INPUT_BOOLEAN = 2,		/* boolean as 0/1: 1 feature */
	MLX_INPUT_CATEGORICAL = 3,	/* text/varchar/enum: one-hot, 1 feature per
								 * category */
	MLX_INPUT_ARRAY = 4			/* float8[] of fixed length: 1 feature per
								 * element */
} mlx_input_kind;

/*
 * One source column.  Its features are consecutive in the model's feature
 * vector, in input order.
 */
typedef struct mlx_input
{
	char	   *name;			/* source column name (UTF-8, 1..1024 bytes,
								 * no NUL) */
	uint8_t		kind;			/* mlx_input_kind */
	int32_t		nfeat;			/* features this column expands to (>= 1;
								 * exactly 1 for NUMERIC and BOOLEAN) */
	double	   *impute;			/* NUMERIC/BOOLEAN: 1 value, ARRAY: nfeat
								 * values, all finite (training means, used
								 * for NULLs; BOOLEAN in [0, 1]), or NaN in
								 * a model whose algorithm keeps missing
								 * values (mlx_algorithm_keeps_missing): a
								 * SQL NULL then stays missing; NULL for
								 * CATEGORICAL */
	char	  **categories;		/* CATEGORICAL: nfeat entries, sorted by
								 * strcmp (byte order), unique, each 0..1024
								 * bytes of UTF-8 without NUL; a NULL pointer
								 * entry, allowed only first, is the "NULL"
								 * category.  NULL for other kinds */
} mlx_input;

/*
 * How a table row becomes the feature vector (MLX_SEC_INPUTS): the inputs'
 * nfeat add up to the model's k.  Input names are unique; the target is not
 * among them.
 */
typedef struct mlx_inputs
{
	int32_t		ninputs;		/* >= 1 */
	mlx_input  *inputs;
	char	   *target;			/* target column name, or NULL
								 * (unsupervised) */
	uint8_t		target_kind;	/* mlx_input_kind of the target column
								 * (NUMERIC/BOOLEAN/CATEGORICAL), 0 if none */
} mlx_inputs;

/*
 * A decoded model.  All memory comes from one mlx_ctx; free it with
 * mlx_model_free (or let the memory context go).
 */
typedef struct mlx_model
{
	uint16_t	format_version; /* version the bytes were written in */
	uint16_t	algorithm;		/* mlx_algorithm */
	uint32_t	flags;
	int32_t		nfeat;
	char	  **feature_names;	/* nfeat NUL-terminated strings, never NULL */
	mlx_inputs *inputs;			/* source columns, or NULL when the model has
								 * no MLX_SEC_INPUTS (plain aggregate) */
	union
	{
		mlx_linreg_fit linreg;	/* MLX_ALG_LINEAR_REGRESSION */
		mlx_logreg_fit logreg;	/* MLX_ALG_LOGISTIC_REGRESSION */
		mlx_enet_fit enet;		/* MLX_ALG_LASSO, MLX_ALG_ELASTIC_NET */
		mlx_pca_fit pca;		/* MLX_ALG_PCA */
		mlx_poisson_fit poisson;	/* MLX_ALG_POISSON_REGRESSION */
		mlx_kmeans_fit kmeans;	/* MLX_ALG_KMEANS */
		mlx_nb_fit	nbayes;		/* MLX_ALG_NAIVE_BAYES */
		mlx_softmax_fit softmax;	/* MLX_ALG_SOFTMAX_REGRESSION */
		mlx_tree_fit tree;		/* MLX_ALG_DECISION_TREE,
								 * MLX_ALG_RANDOM_FOREST,
								 * MLX_ALG_GRADIENT_BOOSTING */
	}			u;
} mlx_model;

/* Name of an algorithm id ("linear_regression"), or NULL if unknown. */
const char *mlx_algorithm_name(uint16_t algorithm);

/*
 * Whether a model of this algorithm takes missing features as NaN (the
 * tree ensembles, which send them down each node's default side) rather
 * than needing every feature: its inputs may then have NaN imputation
 * values, meaning "leave a NULL missing".
 */
bool		mlx_algorithm_keeps_missing(uint16_t algorithm);

/*
 * Build a linear-regression model from a fit.  feature_names may be NULL,
 * meaning "x1".."xk".  The model references the fit's arrays (no copy).
 * m->inputs is left NULL; a caller with source-column information sets it
 * (owning that memory itself) before encoding.
 */
mlx_status	mlx_model_from_linreg(const mlx_linreg_fit *fit,
								  char **feature_names, const mlx_ctx *ctx,
								  mlx_model *out);

/*
 * Build a logistic-regression model from a fit, as mlx_model_from_linreg
 * does (feature_names NULL means "x1".."xk"; the model references the
 * fit's arrays and class labels, no copy; m->inputs is left NULL).
 */
mlx_status	mlx_model_from_logreg(const mlx_logreg_fit *fit,
								  char **feature_names, const mlx_ctx *ctx,
								  mlx_model *out);

/*
 * Build a lasso or elastic-net model from a coordinate-descent fit, as
 * mlx_model_from_linreg does.  algorithm is MLX_ALG_LASSO (the fit's
 * l1_ratio must then be 1, which mlx_model_encode checks) or
 * MLX_ALG_ELASTIC_NET; anything else is MLX_EINVAL.  The model references
 * the fit's coefficient array (no copy).
 */
mlx_status	mlx_model_from_enet(const mlx_enet_fit *fit, uint16_t algorithm,
								char **feature_names, const mlx_ctx *ctx,
								mlx_model *out);

/*
 * Build a PCA model from a fit, as mlx_model_from_linreg does.  The model
 * references the fit's arrays (no copy).
 */
mlx_status	mlx_model_from_pca(const mlx_pca_fit *fit, char **feature_names,
							   const mlx_ctx *ctx, mlx_model *out);

/*
 * Build a Poisson-regression model from a fit, as mlx_model_from_linreg
 * does.  The model references the fit's arrays (no copy).
 */
mlx_status	mlx_model_from_poisson(const mlx_poisson_fit *fit,
								   char **feature_names, const mlx_ctx *ctx,
								   mlx_model *out);

/*
 * Build a k-means model from a fit, as mlx_model_from_linreg does.  The
 * model references the fit's centroids and cluster sizes (no copy).
 */
mlx_status	mlx_model_from_kmeans(const mlx_kmeans_fit *fit,
								  char **feature_names, const mlx_ctx *ctx,
								  mlx_model *out);

/*
 * Build a naive Bayes model (Gaussian or multinomial) from a fit, as
 * mlx_model_from_linreg does.  The model references the fit's arrays and
 * its nclasses class labels (no copy).
 */
mlx_status	mlx_model_from_nbayes(const mlx_nb_fit *fit, char **feature_names,
								  const mlx_ctx *ctx, mlx_model *out);

/*
 * Build a multinomial logistic regression model from a fit, as
 * mlx_model_from_linreg does.  The model references the fit's coefficient
 * matrix, class weights and its nclasses class labels (no copy).
 */
mlx_status	mlx_model_from_softmax(const mlx_softmax_fit *fit,
								   char **feature_names, const mlx_ctx *ctx,
								   mlx_model *out);

/*
 * Build a tree-ensemble model (decision tree, random forest or gradient
 * boosting, as fit->kind says: the algorithm is set from it; an unknown
 * kind is MLX_EINVAL) from a fit, as mlx_model_from_linreg does.  The
 * model references the fit's arrays and its nclasses class labels (no
 * copy); a classifier's fit must have its labels set before encoding
 * (mlx_tree_train leaves them NULL).
 */
mlx_status	mlx_model_from_tree(const mlx_tree_fit *fit, char **feature_names,
								const mlx_ctx *ctx, mlx_model *out);

/*
 * Serialize.  *out is allocated from ctx and holds *outlen bytes.  When
 * 'reserve' > 0, that many bytes are left free before the model bytes (so
 * the caller can put a varlena header there without copying); *out then
 * points at the start of the reserved area and *outlen excludes it.
 */
mlx_status	mlx_model_encode(const mlx_model *m, const mlx_ctx *ctx,
							 size_t reserve, uint8_t **out, size_t *outlen);

/*
 * The bytes mlx_model_encode would write for m (header, sections and CRC),
 * after the same checks (MLX_EINVAL when it would refuse the contents,
 * MLX_ENOMEM).  The size is not compared with MLX_MODEL_MAX_SIZE, so a
 * caller whose encode failed can tell a model that is too large (and say
 * by how much) from one that is invalid.
 */
mlx_status	mlx_model_encoded_size(const mlx_model *m, const mlx_ctx *ctx,
								   uint64_t *size);

/*
 * Parse and fully validate len bytes at buf (any alignment).  On failure
 * returns MLX_ECORRUPT (malformed, truncated, bad checksum, inconsistent
 * fields) or MLX_EUNSUPPORTED (newer format version, unknown algorithm) and
 * writes a one-line lowercase explanation to errbuf (e.g. "model is
 * truncated: header declares 412 bytes but the value has 300").  Never reads
 * outside buf[0..len-1]; allocation sizes are bounded by len.
 */
mlx_status	mlx_model_decode(const uint8_t *buf, size_t len, const mlx_ctx *ctx,
							 mlx_model *out, char *errbuf, size_t errlen);

/*
 * Release, through ctx, everything a model from mlx_model_decode owns: the
 * feature names, the inputs (which the decoder allocates as one block) and
 * the algorithm's arrays (for logistic regression also the two class
 * labels; for PCA the mean, components and the three per-component
 * arrays; for k-means the centroids and cluster sizes; for naive Bayes
 * the class counts, log priors, theta and var or feature_log_prob, each of
 * the nclasses class labels and the array of their pointers, as the
 * decoder allocates them; for multinomial logistic regression the
 * coefficients, class weights, labels and label array; for the tree
 * ensembles the base scores, tree starts, the seven node arrays, the
 * values, labels and label array, and the scoring form the decoder builds
 * (packed nodes, tree depths and leaf values)).  The struct is zeroed.
 */
void		mlx_model_free(mlx_model *m, const mlx_ctx *ctx);

/*
 * Release only the feature names: for a model from mlx_model_from_linreg,
 * mlx_model_from_logreg, mlx_model_from_enet, mlx_model_from_pca,
 * mlx_model_from_poisson, mlx_model_from_kmeans, mlx_model_from_nbayes,
 * mlx_model_from_softmax or mlx_model_from_tree,
 * which owns its names but shares the fit's arrays (and class labels) with
 * the caller.
 */
void		mlx_model_free_names(mlx_model *m, const mlx_ctx *ctx);

/*
 * JSON text describing the model (algorithm, format version, features,
 * source columns and target when the model has them, training figures,
 * coefficients and statistics; for a tree ensemble a summary of its trees
 * and the features' importance, not the nodes; non-finite numbers as
 * null).  Allocated from ctx, NUL-terminated.
 */
mlx_status	mlx_model_describe_json(const mlx_model *m, const mlx_ctx *ctx,
									char **json);

/*
 * mlx_model_describe_json with bounds: when the text would be longer than
 * maxlen bytes or hold more than maxitems strings and numbers (object keys
 * included), MLX_OK with *json NULL, found before anything is allocated
 * for the text.  Polls ctx's interrupt hook while it walks the model
 * (MLX_EINTR).  Otherwise *len is the text's length.
 */
mlx_status	mlx_model_describe_json_limit(const mlx_model *m,
										  const mlx_ctx *ctx, size_t maxlen,
										  size_t maxitems, char **json,
										  size_t *len);

/*
 * Index of a category of a CATEGORICAL input (binary search, strcmp order),
 * or -1 when the value is not one of them (an unseen value: all the input's
 * features are 0) or the input is not categorical.  value NULL finds the
 * NULL category.
 */
int32_t		mlx_inputs_find_category(const mlx_input *in, const char *value);

/*
 * The k feature names the inputs expand to, in feature order: "col" for
 * NUMERIC and BOOLEAN, "col=value" for each category ("col IS NULL" for the
 * NULL category), "col[1]" .. "col[n]" for ARRAY.  A name longer than
 * MLX_MODEL_MAX_NAME_LEN bytes is cut at a character boundary to fit, so
 * every name is a valid feature name.  *names is a single allocation from
 * ctx (the k pointers followed by the strings): release it with one
 * mlx_free.  MLX_EINVAL when the inputs are invalid.  NaN imputation
 * values are accepted whatever the algorithm (the names do not depend on
 * them).
 */
mlx_status	mlx_inputs_feature_names(const mlx_inputs *in, const mlx_ctx *ctx,
									 char ***names);

/* CRC-32C (Castagnoli), as used for the trailer; crc starts at 0. */
uint32_t	mlx_crc32c(uint32_t crc, const void *data, size_t len);

#endif							/* MLX_MODEL_H */
