/*
 * fuzz_model.c
 *	  libFuzzer target for the model decoder (scripts/fuzz.sh builds and runs
 *	  it).
 *
 * Any input must be either rejected cleanly or decoded into a model that
 * can be described and re-encoded.  A model has one canonical encoding, so
 * an input holding exactly the version-1 sections in encoder order (feature
 * names, the inputs section when present, the algorithm's section: linear,
 * logistic or Poisson regression, lasso / elastic net, PCA, k-means, naive
 * Bayes, multinomial logistic regression, tree ensemble) must
 * re-encode to the very same bytes; any other accepted input (sections
 * reordered, optional sections) must re-encode to something that decodes
 * and re-encodes to itself.
 *
 * A decoded tree ensemble must also score rows without reading outside its
 * arrays or looping (the decoder's check is what makes the walk safe):
 * all missing, all zero, and values taken from the input itself.
 *
 * Random damage almost always breaks the checksum, which would keep the
 * fuzzer at the front door; the custom mutator therefore usually repairs
 * the payload length and the CRC after mutating, so the section parsers get
 * exercised too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t		LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t		LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
									unsigned int seed);

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | p[3];
}

/* Mutate, then (7 times in 8) make the length field and CRC consistent. */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
						unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if (size >= MLX_MODEL_MIN_SIZE && (seed & 7) != 0)
	{
		put32(data + 16, (uint32_t) (size - MLX_MODEL_MIN_SIZE));
		put32(data + size - 4, mlx_crc32c(0, data, size - 4));
	}
	return size;
}

/*
 * True when the payload is exactly a features section, optionally an inputs
 * section, then an algorithm section (linreg, logreg, enet, pca, poisson,
 * kmeans, nbayes, softmax or tree; the decoder accepts only the header's
 * algorithm's)
 * (called only on
 * values that decoded, so the section lengths are known to fit).
 */
static bool
canonical_layout(const uint8_t *data, size_t size)
{
	size_t		pos = MLX_MODEL_HEADER_SIZE;

	if (size < pos + 8 || data[pos] != 0 || data[pos + 1] != MLX_SEC_FEATURES)
		return false;
	pos += 8 + (size_t) get32(data + pos + 4);
	if (size >= pos + 8 && data[pos] == 0 && data[pos + 1] == MLX_SEC_INPUTS)
		pos += 8 + (size_t) get32(data + pos + 4);
	if (size < pos + 8 || data[pos] != 0 ||
		(data[pos + 1] != MLX_SEC_LINREG && data[pos + 1] != MLX_SEC_LOGREG &&
		 data[pos + 1] != MLX_SEC_ENET && data[pos + 1] != MLX_SEC_PCA &&
		 data[pos + 1] != MLX_SEC_POISSON && data[pos + 1] != MLX_SEC_KMEANS &&
		 data[pos + 1] != MLX_SEC_NBAYES && data[pos + 1] != MLX_SEC_SOFTMAX &&
		 data[pos + 1] != MLX_SEC_TREE))
		return false;
	return pos + 8 + get32(data + pos + 4) + 4 == size;
}

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_model: %s%s%s\n", what, detail ? ": " : "",
			detail ? detail : "");
	abort();
}

/* Score a few rows with a decoded tree ensemble and walk every tree. */
static void
score_trees(const mlx_tree_fit *fit, const uint8_t *data, size_t size)
{
	double	   *x = malloc((size_t) fit->nfeat * sizeof(double));
	double	   *out = malloc((size_t) fit->ngroups * sizeof(double));
	int			r;
	int32_t		j;
	int32_t		t;

	if (x == NULL || out == NULL)
		fail("out of memory", NULL);
	for (r = 0; r < 3; r++)
	{
		for (j = 0; j < fit->nfeat; j++)
			x[j] = r == 0 ? NAN : r == 1 ? 0.0 :
				(double) data[(size_t) j % size] - 128.0;
		mlx_tree_predict(fit, x, out);
		for (t = 0; t < fit->ntrees; t++)
		{
			int32_t		leaf = mlx_tree_leaf(fit, t, x);

			if (leaf < 0 || leaf >= fit->tree_start[t + 1] - fit->tree_start[t] ||
				fit->feature[fit->tree_start[t] + leaf] != -1)
				fail("tree walk did not end in a leaf of its tree", NULL);
		}
	}
	free(out);
	free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const mlx_ctx *ctx = &mlx_malloc_ctx;
	mlx_model	m;
	mlx_model	m2;
	char		err[256];
	char	   *json;
	uint8_t    *enc;
	uint8_t    *enc2;
	size_t		enclen;
	size_t		enc2len;
	mlx_status	st;

	st = mlx_model_decode(data, size, ctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		if (st != MLX_ECORRUPT && st != MLX_EUNSUPPORTED)
			fail("unexpected decode status", mlx_status_str(st));
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			fail("decode failed without a message", NULL);
		return 0;
	}

	if (m.inputs != NULL)
	{
		char	  **names;
		int32_t		i;

		/* derived names exist for valid inputs; categories are findable */
		if (mlx_inputs_feature_names(m.inputs, ctx, &names) != MLX_OK)
			fail("feature names of decoded inputs failed", NULL);
		free(names);
		for (i = 0; i < m.inputs->ninputs; i++)
		{
			const mlx_input *in = &m.inputs->inputs[i];

			if (in->kind == MLX_INPUT_CATEGORICAL &&
				(mlx_inputs_find_category(in, in->categories[in->nfeat - 1]) !=
				 in->nfeat - 1 ||
				 mlx_inputs_find_category(in, in->categories[0]) != 0))
				fail("decoded category not found", in->name);
		}
	}

	if (m.algorithm == MLX_ALG_DECISION_TREE ||
		m.algorithm == MLX_ALG_RANDOM_FOREST ||
		m.algorithm == MLX_ALG_GRADIENT_BOOSTING)
		score_trees(&m.u.tree, data, size);

	if (mlx_model_describe_json(&m, ctx, &json) != MLX_OK)
		fail("describe_json failed on a decoded model", NULL);
	if (json[0] != '{' || json[strlen(json) - 1] != '}')
		fail("json is not an object", json);
	free(json);

	if (mlx_model_encode(&m, ctx, 4, &enc, &enclen) != MLX_OK)
		fail("re-encode of a decoded model failed", NULL);
	if (canonical_layout(data, size) &&
		(enclen != size || memcmp(enc + 4, data, size) != 0))
		fail("canonical input did not re-encode to the same bytes", NULL);

	st = mlx_model_decode(enc + 4, enclen, ctx, &m2, err, sizeof(err));
	if (st != MLX_OK)
		fail("re-encoded model does not decode", err);
	if (mlx_model_encode(&m2, ctx, 0, &enc2, &enc2len) != MLX_OK ||
		enc2len != enclen || memcmp(enc2, enc + 4, enclen) != 0)
		fail("encoding is not stable", NULL);

	free(enc2);
	free(enc);
	mlx_model_free(&m2, ctx);
	mlx_model_free(&m, ctx);
	return 0;
}
