/*
 * test_model_size.c
 *	  The encoder's size limit, MLX_MODEL_MAX_SIZE (256 MB, so that pg_dump
 *	  can dump any model: text COPY doubles a bytea).
 *
 * A linear regression of 262,144 features whose names are chosen to make
 * the model exactly the limit: it encodes, to exactly that many bytes,
 * and decodes; one byte more and the encoder refuses it (MLX_EINVAL)
 * without allocating anything, while mlx_model_encoded_size says how large
 * it would be.  A model the limit refuses to write still decodes: 1.0
 * wrote models of up to 1 GB.
 */
#include "harness.h"

#include "model/model.h"

#define K 262144				/* features */
#define BASE_SIZE(k) (24 + 8 + 8 + 4 + 80 + 32 * ((uint64_t) (k) + 1) + 4)

typedef struct big_linreg
{
	double	   *arrays;			/* coef, se, tval, pval: 4 (K + 1) */
	char	  **names;
	char	   *short_name;
	char	   *long_name;
	mlx_model	m;
} big_linreg;

/*
 * A linear regression of K features whose names (two strings, one byte
 * apart in length, shared between the features: names need not be
 * unique) make the encoded model exactly 'total' bytes.
 */
static bool
make_big(big_linreg *b, uint64_t total)
{
	uint64_t	names = total - BASE_SIZE(K);
	size_t		len = (size_t) (names / K) - 2;
	uint64_t	longer = names % K;

	memset(b, 0, sizeof(*b));
	if (len < 1 || len + 1 > MLX_MODEL_MAX_NAME_LEN)
		return false;
	b->arrays = calloc(4 * ((size_t) K + 1), sizeof(double));
	b->names = malloc(sizeof(char *) * K);
	b->short_name = malloc(len + 1);
	b->long_name = malloc(len + 2);
	if (!b->arrays || !b->names || !b->short_name || !b->long_name)
		return false;
	memset(b->short_name, 'a', len);
	b->short_name[len] = '\0';
	memset(b->long_name, 'b', len + 1);
	b->long_name[len + 1] = '\0';
	for (uint64_t i = 0; i < K; i++)
		b->names[i] = i < longer ? b->long_name : b->short_name;
	for (size_t i = (size_t) K + 1; i < 4 * ((size_t) K + 1); i++)
		b->arrays[i] = NAN;		/* se, tval, pval: not defined */
	b->m.format_version = MLX_MODEL_FORMAT_VERSION;
	b->m.algorithm = MLX_ALG_LINEAR_REGRESSION;
	b->m.nfeat = K;
	b->m.feature_names = b->names;
	b->m.u.linreg.nfeat = K;
	b->m.u.linreg.intercept = true;
	b->m.u.linreg.rank = K;
	b->m.u.linreg.nrows = 1000000;
	b->m.u.linreg.df_resid = NAN;
	b->m.u.linreg.rss = NAN;
	b->m.u.linreg.tss = NAN;
	b->m.u.linreg.r2 = NAN;
	b->m.u.linreg.adj_r2 = NAN;
	b->m.u.linreg.sigma = NAN;
	b->m.u.linreg.coef = b->arrays;
	b->m.u.linreg.se = b->arrays + (K + 1);
	b->m.u.linreg.tval = b->arrays + 2 * (K + 1);
	b->m.u.linreg.pval = b->arrays + 3 * (K + 1);
	return true;
}

static void
free_big(big_linreg *b)
{
	free(b->arrays);
	free(b->names);
	free(b->short_name);
	free(b->long_name);
}

/* A model of exactly MLX_MODEL_MAX_SIZE bytes encodes and decodes. */
static void
t_at_the_limit(void)
{
	big_linreg	b;
	uint8_t    *out = NULL;
	size_t		len = 0;
	uint64_t	size = 0;
	mlx_model	d;
	char		errbuf[256];

	EXPECT(make_big(&b, MLX_MODEL_MAX_SIZE), "model setup");
	EXPECT(mlx_model_encoded_size(&b.m, &mlx_malloc_ctx, &size) == MLX_OK &&
		   size == MLX_MODEL_MAX_SIZE, "encoded size %llu", (unsigned long long) size);
	EXPECT(mlx_model_encode(&b.m, &mlx_malloc_ctx, 0, &out, &len) == MLX_OK &&
		   len == MLX_MODEL_MAX_SIZE, "encode at the limit: %zu bytes", len);
	if (out != NULL)
	{
		EXPECT(mlx_model_decode(out, len, &mlx_malloc_ctx, &d, errbuf, sizeof(errbuf)) == MLX_OK &&
			   d.nfeat == K, "decode at the limit: %s", errbuf);
		mlx_model_free(&d, &mlx_malloc_ctx);
	}
	free(out);
	free_big(&b);
}

/*
 * One byte over: refused before anything is allocated, its size still
 * told; the same model written without the limit (the bytes 1.0 could
 * have written) still decodes.
 */
static void
t_over_the_limit(void)
{
	big_linreg	b;
	counting	c = {0, 0, -1};
	mlx_ctx		ctx = {counting_alloc, counting_free, NULL, &c};
	uint8_t    *out = (uint8_t *) 1;
	size_t		len = 1;
	uint64_t	size = 0;
	uint8_t    *bytes;
	mlx_model	d;
	char		errbuf[256];

	EXPECT(make_big(&b, MLX_MODEL_MAX_SIZE + 1), "model setup");
	EXPECT(mlx_model_encode(&b.m, &ctx, 0, &out, &len) == MLX_EINVAL &&
		   out == NULL && len == 0, "one byte over the limit was encoded");
	EXPECT(c.nalloc == 0, "the refused encoder allocated %ld times", c.nalloc);
	EXPECT(mlx_model_encoded_size(&b.m, &mlx_malloc_ctx, &size) == MLX_OK &&
		   size == MLX_MODEL_MAX_SIZE + 1, "encoded size %llu", (unsigned long long) size);

	/*
	 * Write it as 1.0 did: the model at the limit, with one name a byte
	 * longer spliced in (sizes and CRC fixed up by re-encoding the rest).
	 */
	free_big(&b);
	EXPECT(make_big(&b, MLX_MODEL_MAX_SIZE), "model setup");
	bytes = NULL;
	EXPECT(mlx_model_encode(&b.m, &mlx_malloc_ctx, 0, &bytes, &len) == MLX_OK, "encode");
	if (bytes != NULL)
	{
		uint8_t    *big = malloc(len + 1);
		uint64_t	names_end;
		size_t		at;
		uint32_t	crc;

		/* the first short name: the one after the longer ones */
		at = 24 + 8;
		for (uint64_t i = 0; i < K && b.names[i] == b.long_name; i++)
			at += 2 + strlen(b.long_name);
		names_end = 24 + 8 + (uint64_t) ((bytes[28] << 24) | (bytes[29] << 16) |
										 (bytes[30] << 8) | bytes[31]);
		EXPECT(at < names_end, "a short name to lengthen");
		memcpy(big, bytes, at);
		big[at] = (uint8_t) ((strlen(b.short_name) + 1) >> 8);
		big[at + 1] = (uint8_t) (strlen(b.short_name) + 1);
		big[at + 2] = 'c';
		memcpy(big + at + 3, bytes + at + 2, len - at - 2);
		/* payload length (header offset 16) and features length (28) */
		for (int off = 16; off <= 28; off += 12)
		{
			uint32_t	v = ((uint32_t) big[off] << 24) | ((uint32_t) big[off + 1] << 16) |
				((uint32_t) big[off + 2] << 8) | big[off + 3];

			v++;
			big[off] = (uint8_t) (v >> 24);
			big[off + 1] = (uint8_t) (v >> 16);
			big[off + 2] = (uint8_t) (v >> 8);
			big[off + 3] = (uint8_t) v;
		}
		crc = mlx_crc32c(0, big, len + 1 - 4);
		big[len - 3] = (uint8_t) (crc >> 24);
		big[len - 2] = (uint8_t) (crc >> 16);
		big[len - 1] = (uint8_t) (crc >> 8);
		big[len] = (uint8_t) crc;
		errbuf[0] = '\0';
		EXPECT(mlx_model_decode(big, len + 1, &mlx_malloc_ctx, &d, errbuf, sizeof(errbuf)) == MLX_OK &&
			   d.nfeat == K, "a model over the limit does not decode: %s", errbuf);
		mlx_model_free(&d, &mlx_malloc_ctx);
		free(big);
		free(bytes);
	}
	free_big(&b);
}

int
main(void)
{
	run_case("encode_at_the_size_limit", t_at_the_limit);
	run_case("encode_refuses_one_byte_over", t_over_the_limit);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0;
}
