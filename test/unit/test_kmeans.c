/*
 * test_kmeans.c
 *	  Unit tests of k-means in the numerical core (src/core/kmeans.c): the
 *	  flat pass state (size, init, validation, add, merge), nearest-centroid
 *	  search, the next centroids of a pass, the PRNG, and the in-memory fit
 *	  of a sample (k-means++ and Lloyd, n_init restarts).
 *
 * References are independent of the code under test: brute-force nearest
 * centroids and inertias computed here, hand-computed states and means,
 * published first outputs of splitmix64 and xoshiro256**, blobs of known
 * centres, and scikit-learn 1.2's KMeans on the iris data.
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/kmeans.h"
#include "core/mlx_core.h"

#include "harness.h"
#include "iris.h"

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, ta_interrupted, &talloc};

static mlx_kmeans_state *
new_state(int k, int nfeat)
{
	size_t		size = mlx_kmeans_state_size(k, nfeat);
	mlx_kmeans_state *s = malloc(size);

	if (s == NULL || mlx_kmeans_state_init(s, k, nfeat) != MLX_OK)
	{
		free(s);
		return NULL;
	}
	return s;
}

/* brute force: lowest index of least squared distance, summed in order */
static int
brute_nearest(const double *cent, int k, int nfeat, const double *x, double *d2)
{
	int			best = -1;
	double		bestd = 0.0;
	int			c,
				j;

	for (c = 0; c < k; c++)
	{
		double		d = 0.0;

		for (j = 0; j < nfeat; j++)
			d += (x[j] - cent[c * nfeat + j]) * (x[j] - cent[c * nfeat + j]);
		if (best < 0 || d < bestd)
		{
			best = c;
			bestd = d;
		}
	}
	*d2 = bestd;
	return best;
}

/* inertia of centroids over rows, in long double */
static double
brute_inertia(const double *rows, int64_t n, int nfeat, const double *cent, int k)
{
	long double acc = 0.0L;
	int64_t		i;

	for (i = 0; i < n; i++)
	{
		long double best = -1.0L;
		int			c,
					j;

		for (c = 0; c < k; c++)
		{
			long double d = 0.0L;

			for (j = 0; j < nfeat; j++)
			{
				long double t = (long double) rows[i * nfeat + j] - cent[c * nfeat + j];

				d += t * t;
			}
			if (best < 0 || d < best)
				best = d;
		}
		acc += best;
	}
	return (double) acc;
}

/* ------------------------------------------------------------ pass state */

static void
t_state_size_init(void)
{
	mlx_kmeans_state *s;
	size_t		size;
	const double *sums;
	const int64_t *counts;
	int			i;

	EXPECT(sizeof(mlx_kmeans_state) == 40, "header is %zu bytes", sizeof(mlx_kmeans_state));
	EXPECT(mlx_kmeans_state_size(3, 4) == 40 + 8 * 12 + 8 * 3, "size(3, 4) = %zu",
		   mlx_kmeans_state_size(3, 4));
	EXPECT(mlx_kmeans_state_size(1, 1) == 56, "size(1, 1)");
	EXPECT(mlx_kmeans_state_size(MLX_KMEANS_MAX_K, MLX_KMEANS_MAX_CELLS / MLX_KMEANS_MAX_K) ==
		   40 + 8 * (size_t) MLX_KMEANS_MAX_CELLS + 8 * (size_t) MLX_KMEANS_MAX_K,
		   "size at the cell bound");
	EXPECT(mlx_kmeans_state_size(0, 4) == 0, "k = 0");
	EXPECT(mlx_kmeans_state_size(-1, 4) == 0, "k = -1");
	EXPECT(mlx_kmeans_state_size(MLX_KMEANS_MAX_K + 1, 1) == 0, "k too large");
	EXPECT(mlx_kmeans_state_size(3, 0) == 0, "nfeat = 0");
	EXPECT(mlx_kmeans_state_size(1, MLX_KMEANS_MAX_FEATURES + 1) == 0, "nfeat too large");
	EXPECT(mlx_kmeans_state_size(1, MLX_KMEANS_MAX_FEATURES) != 0, "nfeat at the bound");
	EXPECT(mlx_kmeans_state_size(MLX_KMEANS_MAX_K, MLX_KMEANS_MAX_CELLS / MLX_KMEANS_MAX_K + 1) == 0,
		   "too many cells");
	EXPECT(mlx_kmeans_state_size(0x7fffffff, 0x7fffffff) == 0, "INT_MAX");

	size = mlx_kmeans_state_size(3, 4);
	s = malloc(size);
	memset(s, 0xab, size);
	EXPECT_ST(mlx_kmeans_state_init(s, 3, 4), MLX_OK);
	EXPECT(s->version == MLX_KMEANS_STATE_VERSION && s->k == 3 && s->nfeat == 4 &&
		   s->nrows == 0 && s->nskipped == 0 && s->inertia == 0.0 &&
		   s->reserved1[0] == 0 && s->reserved1[1] == 0 && s->reserved1[2] == 0 &&
		   s->reserved2 == 0, "header not initialized");
	sums = mlx_kmeans_state_sums_c(s);
	counts = mlx_kmeans_state_counts_c(s);
	EXPECT((const char *) sums == (const char *) s + 40, "sums at the wrong offset");
	EXPECT((const char *) counts == (const char *) s + 40 + 8 * 12, "counts at the wrong offset");
	EXPECT(mlx_kmeans_state_sums(s) == sums && mlx_kmeans_state_counts(s) == counts,
		   "const and non-const accessors differ");
	for (i = 0; i < 12; i++)
		EXPECT(sums[i] == 0.0, "sum %d not zero", i);
	for (i = 0; i < 3; i++)
		EXPECT(counts[i] == 0, "count %d not zero", i);
	EXPECT_ST(mlx_kmeans_state_validate(s, size, NULL, 0), MLX_OK);
	EXPECT_ST(mlx_kmeans_state_init(s, 0, 4), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_state_init(s, 3, MLX_KMEANS_MAX_FEATURES + 1), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_state_init(NULL, 3, 4), MLX_EINVAL);
	free(s);
}

/* a valid state of 2 clusters x 3 features with 5 rows, to corrupt */
static mlx_kmeans_state *
sample_state(size_t *size)
{
	mlx_kmeans_state *s = new_state(2, 3);
	double		cent[6] = {0, 0, 0, 10, 10, 10};
	double		rows[5][3] = {{1, 0, 0}, {0, 2, 0}, {9, 10, 10}, {10, 11, 10}, {0, 0, 0.5}};
	int			i,
				bad;

	*size = mlx_kmeans_state_size(2, 3);
	for (i = 0; i < 5; i++)
		EXPECT_ST(mlx_kmeans_state_add(s, cent, rows[i], &bad), MLX_OK);
	s->nskipped = 2;
	return s;
}

/* validate a corrupted copy: MLX_ECORRUPT with a message */
#define EXPECT_CORRUPT(blk, size, what) \
	do { \
		char		eb_[200] = ""; \
		mlx_status	st_ = mlx_kmeans_state_validate((blk), (size), eb_, sizeof(eb_)); \
		if (st_ != MLX_ECORRUPT || eb_[0] == '\0') \
			fail_at(__LINE__, "%s: status %s, message \"%s\"", (what), \
					mlx_status_str(st_), eb_); \
	} while (0)

static void
t_state_validate(void)
{
	size_t		size;
	mlx_kmeans_state *good = sample_state(&size);
	mlx_kmeans_state *s = malloc(size + 64);
	mlx_kmeans_state *big;
	double	   *sums;
	int64_t    *counts;
	char		eb[8];
	int			i;

#define FRESH() memcpy(s, good, size)

	FRESH();
	EXPECT_ST(mlx_kmeans_state_validate(s, size, NULL, 0), MLX_OK);
	EXPECT(good->nrows == 5 && good->inertia == 1 + 4 + 1 + 1 + 0.25,
		   "sample state: nrows %lld inertia %g", (long long) good->nrows, good->inertia);
	sums = mlx_kmeans_state_sums(s);
	counts = mlx_kmeans_state_counts(s);

	/* truncated: NULL, shorter than the header, one byte short, one long */
	EXPECT_CORRUPT(NULL, size, "NULL");
	{
		/* a block of 39 bytes exactly, so ASan sees any read past it */
		mlx_kmeans_state *tiny = malloc(39);

		memcpy(tiny, good, 39);
		EXPECT_CORRUPT(tiny, 39, "39 bytes");
		EXPECT_CORRUPT(tiny, 0, "0 bytes");
		free(tiny);
	}
	EXPECT_CORRUPT(s, size - 1, "one byte short");
	EXPECT_CORRUPT(s, size - 8, "one double short");
	EXPECT_CORRUPT(s, size + 8, "one double long");
	FRESH();
	s->version = 2;
	EXPECT_CORRUPT(s, size, "version 2");
	FRESH();
	s->version = 0;
	EXPECT_CORRUPT(s, size, "version 0");
	for (i = 0; i < 3; i++)
	{
		FRESH();
		s->reserved1[i] = 1;
		EXPECT_CORRUPT(s, size, "reserved1");
	}
	FRESH();
	s->reserved2 = -1;
	EXPECT_CORRUPT(s, size, "reserved2");
	FRESH();
	s->k = 0;
	EXPECT_CORRUPT(s, size, "k = 0");
	FRESH();
	s->k = -2;
	EXPECT_CORRUPT(s, size, "k < 0");
	FRESH();
	s->k = MLX_KMEANS_MAX_K + 1;
	EXPECT_CORRUPT(s, size, "k too large");
	FRESH();
	s->nfeat = 0;
	EXPECT_CORRUPT(s, size, "nfeat = 0");
	FRESH();
	s->nfeat = MLX_KMEANS_MAX_FEATURES + 1;
	EXPECT_CORRUPT(s, size, "nfeat too large");
	FRESH();
	s->k = MLX_KMEANS_MAX_K;
	s->nfeat = MLX_KMEANS_MAX_FEATURES;
	EXPECT_CORRUPT(s, size, "too many cells");
	/* a header that claims more data than the block has */
	FRESH();
	s->k = 3;
	EXPECT_CORRUPT(s, size, "k = 3 in a block for 2");
	FRESH();
	s->nfeat = 1;
	EXPECT_CORRUPT(s, size, "nfeat = 1 in a block for 3");
	FRESH();
	s->nrows = -1;
	EXPECT_CORRUPT(s, size, "nrows < 0");
	FRESH();
	s->nskipped = -1;
	EXPECT_CORRUPT(s, size, "nskipped < 0");
	FRESH();
	s->inertia = NAN;
	EXPECT_CORRUPT(s, size, "inertia NaN");
	FRESH();
	s->inertia = INFINITY;
	EXPECT_CORRUPT(s, size, "inertia infinite");
	FRESH();
	s->inertia = -1e-300;
	EXPECT_CORRUPT(s, size, "inertia negative");
	FRESH();
	counts[0] = -1;
	counts[1] = 6;
	EXPECT_CORRUPT(s, size, "negative count (sum right)");
	FRESH();
	counts[0] += 1;
	EXPECT_CORRUPT(s, size, "counts exceed nrows");
	FRESH();
	counts[1] -= 1;
	EXPECT_CORRUPT(s, size, "counts short of nrows");
	FRESH();
	counts[0] = INT64_MAX;
	counts[1] = INT64_MAX;
	s->nrows = INT64_MAX;
	EXPECT_CORRUPT(s, size, "counts overflow");
	FRESH();
	counts[0] = INT64_MAX - 1;
	counts[1] = 2;
	s->nrows = 1;
	EXPECT_CORRUPT(s, size, "counts overflow to nrows");
	FRESH();
	sums[4] = NAN;
	EXPECT_CORRUPT(s, size, "NaN sum");
	FRESH();
	sums[5] = -INFINITY;
	EXPECT_CORRUPT(s, size, "infinite sum");
	/* consistency: an empty cluster with a sum, no rows with inertia */
	FRESH();
	counts[0] += counts[1];
	counts[1] = 0;
	EXPECT_CORRUPT(s, size, "empty cluster with sums");
	memset(sums + 3, 0, 3 * sizeof(double));
	EXPECT_ST(mlx_kmeans_state_validate(s, size, NULL, 0), MLX_OK);
	big = new_state(2, 3);
	EXPECT_ST(mlx_kmeans_state_validate(big, size, NULL, 0), MLX_OK);
	big->inertia = 0.5;
	EXPECT_CORRUPT(big, size, "inertia without rows");
	big->inertia = 0.0;
	big->nskipped = 7;
	EXPECT_ST(mlx_kmeans_state_validate(big, size, NULL, 0), MLX_OK);
	free(big);
	/* a short message buffer is filled, terminated, and not overrun */
	FRESH();
	s->version = 9;
	memset(eb, 'x', sizeof(eb));
	EXPECT_ST(mlx_kmeans_state_validate(s, size, eb, 5), MLX_ECORRUPT);
	EXPECT(strlen(eb) == 4 && eb[5] == 'x', "message buffer overrun or unterminated");
	EXPECT_ST(mlx_kmeans_state_validate(s, size, NULL, 0), MLX_ECORRUPT);
#undef FRESH
	free(s);
	free(good);
}

/*
 * Rows whose coordinates are multiples of 1/8 below 2^10: every sum,
 * difference and square below is exact, so different orders of addition
 * give the same bits and states can be compared with memcmp.
 */
#define SN 300
#define SK 4
#define SD 5

static double srows[SN][SD];
static double scent[SK * SD];

static void
make_dyadic(uint64_t seed)
{
	int			i,
				j;

	rng_state = seed;
	for (i = 0; i < SN; i++)
		for (j = 0; j < SD; j++)
			srows[i][j] = floor(unif() * 64.0) / 8.0;
	for (i = 0; i < SK * SD; i++)
		scent[i] = floor(unif() * 64.0) / 8.0;
}

static void
t_state_add_merge(void)
{
	size_t		size = mlx_kmeans_state_size(SK, SD);
	mlx_kmeans_state *one = new_state(SK, SD);
	mlx_kmeans_state *part[3];
	char	   *ubuf = malloc(SD * sizeof(double) + 1);
	long double inertia = 0.0L;
	long double sums[SK * SD] = {0};
	int64_t		counts[SK] = {0};
	int			i,
				j,
				p,
				bad;

	make_dyadic(99);
	for (p = 0; p < 3; p++)
		part[p] = new_state(SK, SD);
	for (i = 0; i < SN; i++)
	{
		double		d;
		int			c = brute_nearest(scent, SK, SD, srows[i], &d);

		inertia += d;
		counts[c]++;
		for (j = 0; j < SD; j++)
			sums[c * SD + j] += srows[i][j];
		EXPECT_ST(mlx_kmeans_state_add(one, scent, srows[i], &bad), MLX_OK);
		/* the parts get every third row, one of them through unaligned rows */
		if (i % 3 == 1)
		{
			memcpy(ubuf + 1, srows[i], SD * sizeof(double));
			EXPECT_ST(mlx_kmeans_state_add(part[1], scent, ubuf + 1, NULL), MLX_OK);
		}
		else
			EXPECT_ST(mlx_kmeans_state_add(part[i % 3], scent, srows[i], &bad), MLX_OK);
	}
	one->nskipped = 4;
	part[2]->nskipped = 4;
	EXPECT(one->nrows == SN, "nrows %lld", (long long) one->nrows);
	EXPECT(one->inertia == (double) inertia, "inertia %.17g, direct %.17g", one->inertia,
		   (double) inertia);
	for (i = 0; i < SK; i++)
	{
		EXPECT(mlx_kmeans_state_counts(one)[i] == counts[i], "count %d", i);
		for (j = 0; j < SD; j++)
			EXPECT(mlx_kmeans_state_sums(one)[i * SD + j] == (double) sums[i * SD + j],
				   "sum %d,%d", i, j);
	}
	EXPECT(counts[0] > 0 && counts[1] > 0 && counts[2] > 0 && counts[3] > 0,
		   "a cluster got no row: weak test data");
	EXPECT_ST(mlx_kmeans_state_merge(part[0], part[1]), MLX_OK);
	EXPECT_ST(mlx_kmeans_state_merge(part[0], part[2]), MLX_OK);
	EXPECT(memcmp(part[0], one, size) == 0, "merged parts differ from one state");
	EXPECT_ST(mlx_kmeans_state_validate(part[0], size, NULL, 0), MLX_OK);
	/* merging an empty state changes nothing */
	{
		mlx_kmeans_state *e = new_state(SK, SD);

		EXPECT_ST(mlx_kmeans_state_merge(part[0], e), MLX_OK);
		EXPECT(memcmp(part[0], one, size) == 0, "merging an empty state changed it");
		EXPECT_ST(mlx_kmeans_state_merge(e, one), MLX_OK);
		EXPECT(memcmp(e, one, size) == 0, "empty + one differs from one");
		free(e);
	}
	for (p = 0; p < 3; p++)
		free(part[p]);
	free(one);
	free(ubuf);
}

static void
t_state_add_merge_errors(void)
{
	size_t		size = mlx_kmeans_state_size(2, 3);
	mlx_kmeans_state *s = new_state(2, 3);
	mlx_kmeans_state *copy = malloc(size);
	mlx_kmeans_state *o;
	double		cent[6] = {0, 0, 0, 1, 1, 1};
	double		x[3] = {1, 2, 3};
	double		nanx[3] = {1, 2, NAN};
	double		infx[3] = {-INFINITY, 2, 3};
	double		far[3] = {1e200, 0, 0};
	double		huge[3] = {1.5e308, 0, 0};
	double		hcent[6] = {1.5e308, 0, 0, 0, 0, 0};
	char		ubuf[3 * sizeof(double) + 1];
	int			bad;

	EXPECT_ST(mlx_kmeans_state_add(s, cent, x, &bad), MLX_OK);
	memcpy(copy, s, size);
	bad = 99;
	EXPECT_ST(mlx_kmeans_state_add(s, cent, nanx, &bad), MLX_ENONFINITE);
	EXPECT(bad == 2, "NaN: bad index %d", bad);
	bad = 99;
	EXPECT_ST(mlx_kmeans_state_add(s, cent, infx, &bad), MLX_ENONFINITE);
	EXPECT(bad == 0, "-inf: bad index %d", bad);
	memcpy(ubuf + 1, nanx, sizeof(nanx));
	bad = 99;
	EXPECT_ST(mlx_kmeans_state_add(s, cent, ubuf + 1, &bad), MLX_ENONFINITE);
	EXPECT(bad == 2, "unaligned NaN: bad index %d", bad);
	EXPECT_ST(mlx_kmeans_state_add(s, cent, nanx, NULL), MLX_ENONFINITE);
	/* finite, but the squared distance overflows */
	bad = 99;
	EXPECT_ST(mlx_kmeans_state_add(s, cent, far, &bad), MLX_ENONFINITE);
	EXPECT(bad == -1, "distance overflow: bad index %d", bad);
	EXPECT(memcmp(s, copy, size) == 0, "a rejected row changed the state");
	/* finite, distance 0, but the cluster's sum overflows on the second row */
	EXPECT_ST(mlx_kmeans_state_add(s, hcent, huge, &bad), MLX_OK);
	memcpy(copy, s, size);
	bad = 99;
	EXPECT_ST(mlx_kmeans_state_add(s, hcent, huge, &bad), MLX_ENONFINITE);
	EXPECT(bad == -1, "sum overflow: bad index %d", bad);
	EXPECT(memcmp(s, copy, size) == 0, "an overflowing row changed the state");
	EXPECT_ST(mlx_kmeans_state_validate(s, size, NULL, 0), MLX_OK);

	/* merge: shapes must agree; an overflow leaves s unchanged */
	o = new_state(3, 2);
	EXPECT_ST(mlx_kmeans_state_merge(s, o), MLX_EMISMATCH);
	free(o);
	o = new_state(2, 2);
	EXPECT_ST(mlx_kmeans_state_merge(s, o), MLX_EMISMATCH);
	free(o);
	o = new_state(2, 3);
	EXPECT_ST(mlx_kmeans_state_add(o, hcent, huge, &bad), MLX_OK);
	EXPECT_ST(mlx_kmeans_state_merge(s, o), MLX_ENONFINITE);
	EXPECT(memcmp(s, copy, size) == 0, "an overflowing merge changed the state");
	free(o);
	o = new_state(2, 3);
	o->nrows = INT64_MAX;
	EXPECT_ST(mlx_kmeans_state_merge(s, o), MLX_ENONFINITE);
	o->nrows = 0;
	o->nskipped = INT64_MAX;
	s->nskipped = 1;
	memcpy(copy, s, size);
	EXPECT_ST(mlx_kmeans_state_merge(s, o), MLX_ENONFINITE);
	EXPECT(memcmp(s, copy, size) == 0, "an overflowing count changed the state");
	free(o);
	free(s);
	free(copy);
}

static void
t_nearest_ties(void)
{
	double		c3[6] = {0, 0, 2, 0, 0, 2};
	double		dup[6] = {9, 9, 5, 5, 5, 5};
	double		sym[6] = {9, 9, 1, 0, -1, 0};
	double		x[2];
	char		ubuf[2 * sizeof(double) + 3];
	double		d;

	x[0] = 1;
	x[1] = 0;
	EXPECT(mlx_kmeans_nearest(c3, 3, 2, x, &d) == 0 && d == 1.0, "tie of 0 and 1");
	x[0] = 1;
	x[1] = 1;
	EXPECT(mlx_kmeans_nearest(c3, 3, 2, x, &d) == 0 && d == 2.0, "three-way tie");
	x[0] = 2;
	x[1] = 1;
	EXPECT(mlx_kmeans_nearest(c3, 3, 2, x, &d) == 1 && d == 1.0, "nearest 1");
	x[0] = 0.25;
	x[1] = 1.5;
	EXPECT(mlx_kmeans_nearest(c3, 3, 2, x, NULL) == 2, "nearest 2, dist2 NULL");
	x[0] = 5;
	x[1] = 4;
	EXPECT(mlx_kmeans_nearest(dup, 3, 2, x, &d) == 1 && d == 1.0, "duplicate centroids");
	x[0] = 0;
	x[1] = 0;
	EXPECT(mlx_kmeans_nearest(sym, 3, 2, x, &d) == 1 && d == 1.0, "tie of 1 and 2");
	memcpy(ubuf + 3, x, sizeof(x));
	EXPECT(mlx_kmeans_nearest(sym, 3, 2, ubuf + 3, &d) == 1 && d == 1.0, "unaligned");
	EXPECT(mlx_kmeans_nearest(sym, 1, 2, x, &d) == 0 && d == 162.0, "k = 1");
}

/* many features (the partial-distance cut-off), against brute force */
static void
t_nearest_vs_brute_force(void)
{
	enum
	{
		K = 50, D = 37, R = 400
	};
	double	   *cent = malloc(sizeof(double) * K * D);
	double		x[D];
	char	   *ubuf = malloc(sizeof(x) + 5);
	int			i,
				r;

	rng_state = 4242;
	for (i = 0; i < K * D; i++)
		cent[i] = gauss();
	/* exact duplicates of centroid 7 at 30 and 44: ties must go to 7 */
	memcpy(cent + 30 * D, cent + 7 * D, sizeof(double) * D);
	memcpy(cent + 44 * D, cent + 7 * D, sizeof(double) * D);
	for (r = 0; r < R; r++)
	{
		double		d,
					bd;
		int			c,
					bc;
		int			near = (int) (unif() * K);

		/* half the rows near some centroid, half anywhere */
		for (i = 0; i < D; i++)
			x[i] = (r % 2) ? cent[near * D + i] + 0.3 * gauss() : 1.5 * gauss();
		bc = brute_nearest(cent, K, D, x, &bd);
		c = mlx_kmeans_nearest(cent, K, D, x, &d);
		/* the distances may differ in the last bit if FMA is used here */
		EXPECT(c == bc && fabs(d - bd) <= 1e-14 * bd,
			   "row %d: got %d (%.17g) want %d (%.17g)", r, c, d, bc, bd);
		memcpy(ubuf + 5, x, sizeof(x));
		c = mlx_kmeans_nearest(cent, K, D, ubuf + 5, &d);
		EXPECT(c == bc && fabs(d - bd) <= 1e-14 * bd, "unaligned row %d: got %d want %d",
			   r, c, bc);
		if (!case_ok)
			break;
	}
	/* a row on centroid 7 itself */
	EXPECT(mlx_kmeans_nearest(cent, K, D, cent + 44 * D, NULL) == 7, "duplicate tie");
	free(cent);
	free(ubuf);
}

static void
t_next_centroids(void)
{
	mlx_kmeans_state *s = new_state(3, 2);
	double		old[6] = {0, 0, 7, 7, 10, 0};
	double		next[6];
	double		rows[3][2] = {{1, 0}, {0, 3}, {11, 1}};
	double		shift;
	int			nempty,
				i,
				bad;

	for (i = 0; i < 3; i++)
		EXPECT_ST(mlx_kmeans_state_add(s, old, rows[i], &bad), MLX_OK);
	EXPECT(mlx_kmeans_state_counts(s)[0] == 2 && mlx_kmeans_state_counts(s)[1] == 0 &&
		   mlx_kmeans_state_counts(s)[2] == 1, "assignment");
	mlx_kmeans_next_centroids(s, old, next, &shift, &nempty);
	EXPECT(next[0] == 0.5 && next[1] == 1.5, "mean of cluster 0: %g %g", next[0], next[1]);
	EXPECT(next[2] == 7 && next[3] == 7, "empty cluster moved");
	EXPECT(next[4] == 11 && next[5] == 1, "mean of cluster 2");
	EXPECT(nempty == 1, "nempty %d", nempty);
	/* 0.25 + 2.25 + 0 + 1 + 1 */
	EXPECT(shift == 4.5, "shift2 %.17g", shift);
	mlx_kmeans_next_centroids(s, old, next, NULL, NULL);
	EXPECT(next[0] == 0.5 && next[4] == 11, "with NULL outputs");
	/* no rows at all: every centroid stays */
	free(s);
	s = new_state(3, 2);
	mlx_kmeans_next_centroids(s, old, next, &shift, &nempty);
	EXPECT(memcmp(next, old, sizeof(old)) == 0 && shift == 0.0 && nempty == 3,
		   "empty state");
	free(s);
}

/* ------------------------------------------------------------------ PRNG */

static void
t_rng(void)
{
	mlx_rng		a,
				b;
	/* splitmix64 from 0, and xoshiro256** from it and from {1, 2, 3, 4} */
	static const uint64_t seed0[4] = {
		UINT64_C(0xe220a8397b1dcdaf), UINT64_C(0x6e789e6aa1b965f4),
		UINT64_C(0x06c45d188009454f), UINT64_C(0xf88bb8a8724c81ec)};
	static const uint64_t out0[3] = {
		UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
		UINT64_C(0x1a5f849d4933e6e0)};
	static const uint64_t out1234[6] = {
		UINT64_C(0x2d00), 0, UINT64_C(0x5a007080), UINT64_C(0x10e0000000009d80),
		UINT64_C(0x10e0b61ce1009d80), UINT64_C(0x0870021ce143ad00)};
	double		mean = 0.0;
	bool		differ = false;
	int			i;

	mlx_rng_seed(&a, 0);
	EXPECT(memcmp(a.s, seed0, sizeof(seed0)) == 0, "splitmix64 seeding of 0");
	for (i = 0; i < 3; i++)
		EXPECT(mlx_rng_next(&a) == out0[i], "xoshiro256** output %d from seed 0", i);
	a.s[0] = 1;
	a.s[1] = 2;
	a.s[2] = 3;
	a.s[3] = 4;
	for (i = 0; i < 6; i++)
		EXPECT(mlx_rng_next(&a) == out1234[i], "xoshiro256** output %d from 1,2,3,4", i);

	/* same seed, same sequence; other seeds, other sequences */
	mlx_rng_seed(&a, 42);
	mlx_rng_seed(&b, 42);
	for (i = 0; i < 1000; i++)
		EXPECT(mlx_rng_next(&a) == mlx_rng_next(&b), "same seed differs at %d", i);
	mlx_rng_seed(&b, 43);
	for (i = 0; i < 4; i++)
		differ |= mlx_rng_next(&a) != mlx_rng_next(&b);
	EXPECT(differ, "seeds 42 and 43 give the same outputs");

	/* uniform: the top 53 bits scaled into [0, 1) */
	mlx_rng_seed(&a, 7);
	for (i = 0; i < 100000; i++)
	{
		mlx_rng		c = a;
		uint64_t	v = mlx_rng_next(&c);
		double		u = mlx_rng_uniform(&a);

		if (!(u == (double) (v >> 11) / 9007199254740992.0 && u >= 0.0 && u < 1.0))
		{
			EXPECT(false, "uniform %.17g from %llx", u, (unsigned long long) v);
			break;
		}
		mean += u;
	}
	mean /= 100000;
	EXPECT(fabs(mean - 0.5) < 0.005, "mean of 1e5 uniforms %g", mean);
}

/* ------------------------------------------------- k-means on a sample */

#define BN 300
#define BD 2
static const double blob_centres[3][BD] = {{0, 0}, {10, 0}, {0, 10}};
static double blobs[BN * BD];

static void
make_blobs(uint64_t seed)
{
	int			i,
				j;

	rng_state = seed;
	for (i = 0; i < BN; i++)
		for (j = 0; j < BD; j++)
			blobs[i * BD + j] = blob_centres[i % 3][j] + 0.5 * gauss();
}

static void
t_fit_blobs(void)
{
	double		cent[3 * BD];
	double		inertia = -1;
	double		sums[3 * BD] = {0};
	int			counts[3] = {0};
	int			iters = -1;
	int			c,
				i,
				j;

	make_blobs(1);
	EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 3, 100, 1e-12, 5, &tctx,
									cent, &inertia, &iters), MLX_OK);
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
	EXPECT(iters >= 1 && iters < 100, "iterations %d", iters);
	/* every blob centre has a centroid within 0.15 */
	for (c = 0; c < 3; c++)
	{
		double		d;
		int			m = brute_nearest(cent, 3, BD, blob_centres[c], &d);

		EXPECT(sqrt(d) < 0.15, "blob %d: nearest centroid %d at %g", c, m, sqrt(d));
	}
	/* the inertia is that of the returned centroids */
	EXPECT_REL(inertia, brute_inertia(blobs, BN, BD, cent, 3), 1e-12, "inertia");
	/* a Lloyd fixed point: each centroid is the mean of its rows */
	for (i = 0; i < BN; i++)
	{
		double		d;
		int			m = brute_nearest(cent, 3, BD, blobs + i * BD, &d);

		counts[m]++;
		for (j = 0; j < BD; j++)
			sums[m * BD + j] += blobs[i * BD + j];
	}
	for (c = 0; c < 3; c++)
		for (j = 0; j < BD; j++)
			EXPECT_NEAR(cent[c * BD + j], sums[c * BD + j] / counts[c], 1e-12,
						"centroid is not the mean of its rows");
}

static void
t_fit_deterministic(void)
{
	double		c1[3 * BD],
				c2[3 * BD];
	double		i1,
				i2;
	int			t1,
				t2;

	make_blobs(2);
	EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 4, 50, 0.0, 123, &mlx_malloc_ctx,
									c1, &i1, &t1), MLX_OK);
	EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 4, 50, 0.0, 123, &mlx_malloc_ctx,
									c2, &i2, &t2), MLX_OK);
	EXPECT(memcmp(c1, c2, sizeof(c1)) == 0 && i1 == i2 && t1 == t2,
		   "same seed, different result");
	/* iterations may be NULL */
	EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 4, 50, 0.0, 123, &mlx_malloc_ctx,
									c2, &i2, NULL), MLX_OK);
	EXPECT(memcmp(c1, c2, sizeof(c1)) == 0 && i1 == i2, "iterations NULL changed it");
	/* k = 8 on 3 blobs: the initialisation decides, so seeds matter */
	{
		double		a[8 * BD],
					b[8 * BD];
		double		ia,
					ib;
		int			ta,
					tb;
		int			seed;
		bool		differ = false;

		EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 8, 1, 0, 0.0, 1, &mlx_malloc_ctx,
										a, &ia, &ta), MLX_OK);
		EXPECT(ta == 0, "max_iter 0 ran %d iterations", ta);
		EXPECT_REL(ia, brute_inertia(blobs, BN, BD, a, 8), 1e-12, "inertia of the init");
		for (seed = 2; seed < 6 && !differ; seed++)
		{
			EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 8, 1, 0, 0.0, seed,
											&mlx_malloc_ctx, b, &ib, &tb), MLX_OK);
			differ = memcmp(a, b, sizeof(a)) != 0;
		}
		EXPECT(differ, "the seed does not change the initialisation");
	}
}

/*
 * Stopped early (max_iter reached, or the shift under a huge tol): the
 * inertia must still be that of the centroids returned, not of the ones
 * the last assignment step used.
 */
static void
t_fit_inertia_when_stopped_early(void)
{
	double		cent[5 * BD];
	double		inertia;
	int			iters,
				m;

	make_blobs(4);
	for (m = 1; m <= 3; m++)
	{
		EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 5, 2, m, 0.0, 8, &tctx, cent,
										&inertia, &iters), MLX_OK);
		EXPECT(iters <= m, "max_iter %d ran %d iterations", m, iters);
		EXPECT_REL(inertia, brute_inertia(blobs, BN, BD, cent, 5), 1e-12,
				   "inertia after max_iter");
	}
	EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 5, 2, 100, 1e9, 8, &tctx, cent,
									&inertia, &iters), MLX_OK);
	EXPECT(iters == 1, "tol 1e9 ran %d iterations", iters);
	EXPECT_REL(inertia, brute_inertia(blobs, BN, BD, cent, 5), 1e-12, "inertia after tol");
}

/*
 * k-means++ samples by squared distance: on 10 tight blobs 100 apart, the
 * 10 initial centres land in 10 different blobs (uniform sampling would
 * manage that with probability 10! / 10^10 < 4e-4 per seed).
 */
static void
t_plusplus_spreads_centres(void)
{
	enum
	{
		NB = 10, PER = 30
	};
	double		rows[NB * PER * 2];
	double		cent[NB * 2];
	double		inertia;
	int			iters,
				i,
				seed;

	rng_state = 31;
	for (i = 0; i < NB * PER; i++)
	{
		rows[2 * i] = 100.0 * (i % NB) + 0.1 * gauss();
		rows[2 * i + 1] = 100.0 * ((i % NB) % 3) + 0.1 * gauss();
	}
	for (seed = 0; seed < 30; seed++)
	{
		bool		hit[NB] = {false};
		int			nhit = 0;

		EXPECT_ST(mlx_kmeans_fit_sample(rows, NB * PER, 2, NB, 1, 0, 0.0, seed, &tctx,
										cent, &inertia, &iters), MLX_OK);
		for (i = 0; i < NB; i++)
		{
			int			b = (int) floor(cent[2 * i] / 100.0 + 0.5);

			if (b >= 0 && b < NB && !hit[b])
			{
				hit[b] = true;
				nhit++;
			}
		}
		EXPECT(nhit == NB, "seed %d: initial centres in %d blobs of %d", seed, nhit, NB);
	}
}

/*
 * The greedy step: 2 + floor(ln 2) = 2 candidates per step for k = 2, the
 * one leaving the least potential kept.  500 rows at the origin make the
 * first centre the origin (all but 3 in 503 draws); the second is then
 * drawn among A = (3, 0), B = (0, 3) and C = (3, 0.5) with weights 9, 9
 * and 9.25.  B leaves a potential of 18.25, A and C 9.25, so B is chosen
 * only when both candidates are B: probability (9 / 27.25)^2 = 0.109
 * (one candidate: 0.330, three: 0.036).  Over the ~396 seeds that start
 * at the origin that is 43 +- 6 times; fail outside 25..65 (three standard
 * deviations either way, and at least three from the counts one or three
 * candidates would give).
 */
static void
t_plusplus_greedy_candidates(void)
{
	enum
	{
		N0 = 500
	};
	double		rows[(N0 + 3) * 2];
	double		cent[2 * 2];
	double		inertia;
	int			iters,
				seed,
				nb = 0,
				nfirst = 0;

	memset(rows, 0, sizeof(rows));
	rows[2 * N0] = 3;			/* A */
	rows[2 * N0 + 3] = 3;		/* B */
	rows[2 * N0 + 4] = 3;		/* C */
	rows[2 * N0 + 5] = 0.5;
	for (seed = 0; seed < 400; seed++)
	{
		EXPECT_ST(mlx_kmeans_fit_sample(rows, N0 + 3, 2, 2, 1, 0, 0.0, seed, &tctx,
										cent, &inertia, &iters), MLX_OK);
		if (cent[0] != 0.0 || cent[1] != 0.0)
			continue;
		nfirst++;
		nb += (cent[2] == 0.0 && cent[3] == 3.0);
	}
	EXPECT(nfirst >= 390, "first centre at the origin only %d times in 400", nfirst);
	EXPECT(nb >= 25 && nb <= 65, "B chosen %d times in %d (expected about %.0f)", nb,
		   nfirst, nfirst * (9.0 / 27.25) * (9.0 / 27.25));
}

/*
 * The k-means++ centres are rows, distinct while distinct rows remain; with
 * k = n every row is a centroid and the inertia is 0.
 */
static void
t_fit_k_equals_n(void)
{
	double		rows[7 * 2] = {0, 0, 1, 0, 0, 1, 5, 5, 5, 6, -3, 2, 8, -1};
	double		cent[8 * 2];
	double		inertia = -1;
	int			iters,
				i;
	bool		used[7] = {false};

	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 7, 2, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_OK);
	EXPECT(inertia == 0.0, "inertia %g", inertia);
	for (i = 0; i < 7; i++)
	{
		double		d;
		int			r = brute_nearest(rows, 7, 2, cent + 2 * i, &d);

		EXPECT(d == 0.0 && !used[r], "centroid %d is not a distinct row", i);
		used[r] = true;
	}
	/* k > n, and the other bad arguments */
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 8, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 0, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 0, 2, 1, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, -1, 2, 1, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 0, 2, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, MLX_KMEANS_MAX_FEATURES + 1, 2, 1, 10, 0.0, 9,
									&tctx, cent, &inertia, &iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 0, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 1, -1, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 1, 10, -1e-9, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 1, 10, NAN, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 1, 10, INFINITY, 9, &tctx, cent,
									&inertia, &iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(NULL, 7, 2, 2, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_EINVAL);
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 1, 10, 0.0, 9, &tctx, NULL, &inertia,
									&iters), MLX_EINVAL);
	rows[9] = NAN;
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 7, 2, 2, 1, 10, 0.0, 9, &tctx, cent, &inertia,
									&iters), MLX_ENONFINITE);
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
}

/*
 * Fewer distinct rows than clusters: k-means++ must repeat a row, Lloyd
 * then finds empty clusters and relocates them.  Nothing breaks, the
 * inertia is 0 and every centroid is one of the rows.
 */
static void
t_fit_duplicates_and_empty_clusters(void)
{
	double		rows[8 * 2] = {1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 1, 1, 4, 4, 1, 1};
	double		cent[4 * 2];
	double		inertia = -1;
	int			iters,
				i,
				seed;

	for (seed = 0; seed < 20; seed++)
	{
		EXPECT_ST(mlx_kmeans_fit_sample(rows, 8, 2, 4, 2, 20, 0.0, seed, &tctx, cent,
										&inertia, &iters), MLX_OK);
		EXPECT(inertia == 0.0, "seed %d: inertia %g", seed, inertia);
		for (i = 0; i < 4; i++)
			EXPECT((cent[2 * i] == 1 && cent[2 * i + 1] == 1) ||
				   (cent[2 * i] == 4 && cent[2 * i + 1] == 4),
				   "seed %d: centroid %d at (%g, %g)", seed, i, cent[2 * i],
				   cent[2 * i + 1]);
		if (!case_ok)
			break;
	}
	/*
	 * The row moved into an empty cluster can be the only row of its own
	 * cluster (here row 0, alone at (4, 4)): that cluster then keeps its
	 * centroid, and both points stay centroids.
	 */
	{
		double		r3[3 * 2] = {4, 4, 1, 1, 1, 1};
		double		c3[3 * 2];

		for (seed = 0; seed < 20; seed++)
		{
			bool		has1 = false,
						has4 = false;

			EXPECT_ST(mlx_kmeans_fit_sample(r3, 3, 2, 3, 1, 20, 0.0, seed, &tctx, c3,
											&inertia, &iters), MLX_OK);
			EXPECT(inertia == 0.0, "seed %d: inertia %g", seed, inertia);
			for (i = 0; i < 3; i++)
			{
				has1 |= c3[2 * i] == 1 && c3[2 * i + 1] == 1;
				has4 |= c3[2 * i] == 4 && c3[2 * i + 1] == 4;
			}
			EXPECT(has1 && has4, "seed %d: a point lost its centroid", seed);
		}
	}
	/* one distinct row only, k = 3 */
	for (i = 0; i < 8 * 2; i++)
		rows[i] = 2.5;
	EXPECT_ST(mlx_kmeans_fit_sample(rows, 8, 2, 3, 3, 20, 0.0, 1, &tctx, cent,
									&inertia, &iters), MLX_OK);
	EXPECT(inertia == 0.0 && cent[0] == 2.5 && cent[5] == 2.5, "constant rows");
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
}

static void
t_fit_interrupt_and_enomem(void)
{
	double		cent[3 * BD];
	double		sentinel[3 * BD];
	double		inertia = -7;
	int			iters = -7;
	long		n;

	make_blobs(3);
	for (n = 0; n < 3 * BD; n++)
		cent[n] = sentinel[n] = -99;
	/* interrupted at the first poll, and later in the work */
	for (n = 0; n < 4; n++)
	{
		talloc.polls = 0;
		talloc.interrupt_after = n;
		EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 10, 300, 0.0, 1, &tctx, cent,
										&inertia, &iters), MLX_EINTR);
		EXPECT(talloc.live == 0, "%ld blocks leaked, interrupt after %ld", talloc.live, n);
	}
	/* a big run, interrupted well inside: rows per poll is bounded */
	{
		enum
		{
			N = 20000, D = 50, K = 40
		};
		double	   *rows = malloc(sizeof(double) * N * D);
		double	   *c = malloc(sizeof(double) * K * D);
		long		polls;

		rng_state = 5;
		for (n = 0; n < N * D; n++)
			rows[n] = gauss();
		talloc.polls = 0;
		talloc.interrupt_after = 5;
		EXPECT_ST(mlx_kmeans_fit_sample(rows, N, D, K, 1, 300, 0.0, 1, &tctx, c,
										&inertia, &iters), MLX_EINTR);
		polls = talloc.polls;
		EXPECT(polls == 6, "%ld polls", polls);
		free(rows);
		free(c);
	}
	talloc.interrupt_after = -1;
	EXPECT(memcmp(cent, sentinel, sizeof(cent)) == 0 && inertia == -7 && iters == -7,
		   "outputs written on failure");
	/* allocation failure at every point */
	for (n = 0; n < 9; n++)
	{
		talloc.fail_after = n;
		EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 2, 50, 0.0, 1, &tctx, cent,
										&inertia, &iters), MLX_ENOMEM);
		talloc.fail_after = -1;
		EXPECT(talloc.live == 0, "%ld blocks leaked failing after %ld", talloc.live, n);
	}
	EXPECT(memcmp(cent, sentinel, sizeof(cent)) == 0, "outputs written on ENOMEM");
	EXPECT_ST(mlx_kmeans_fit_sample(blobs, BN, BD, 3, 2, 50, 0.0, 1, &tctx, cent,
									&inertia, &iters), MLX_OK);
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
}

/*
 * scikit-learn 1.2.1, not this code, computed these:
 *
 *	KMeans(n_clusters=3, n_init=10, random_state=0).fit(iris)
 *
 * inertia_ and cluster_centers_ (the same inertia for random_state 0..4),
 * with the default tol=1e-4, i.e. 1e-4 times the mean per-feature variance
 * = 0.00011356176666666667 as the absolute threshold.
 */
static const double SK_IRIS_INERTIA = 78.851441426146;
static const double SK_IRIS_CENTRES[3][4] = {
	{5.901612903225806, 2.7483870967741937, 4.393548387096774, 1.4338709677419355},
	{5.006, 3.428, 1.4620000000000002, 0.24600000000000055},
	{6.85, 3.0736842105263156, 5.742105263157894, 2.0710526315789473}};
static const double SK_IRIS_TOL = 0.00011356176666666667;

static void
t_iris_vs_sklearn(void)
{
	double		cent[3 * 4];
	double		inertia;
	int			iters,
				c,
				j;
	uint64_t	seed;

	for (seed = 0; seed < 5; seed++)
	{
		EXPECT_ST(mlx_kmeans_fit_sample(&iris[0][0], 150, 4, 3, 10, 300, SK_IRIS_TOL, seed,
										&tctx, cent, &inertia, &iters), MLX_OK);
		EXPECT_REL(inertia, SK_IRIS_INERTIA, 1e-6, "inertia vs scikit-learn");
		EXPECT_REL(inertia, brute_inertia(&iris[0][0], 150, 4, cent, 3), 1e-12,
				   "inertia of the returned centroids");
		for (c = 0; c < 3; c++)
		{
			double		d;
			int			m = brute_nearest(cent, 3, 4, SK_IRIS_CENTRES[c], &d);

			for (j = 0; j < 4; j++)
				EXPECT_NEAR(cent[m * 4 + j], SK_IRIS_CENTRES[c][j], 1e-9,
							"centre vs scikit-learn");
		}
		if (!case_ok)
		{
			fail_at(__LINE__, "seed %llu", (unsigned long long) seed);
			break;
		}
	}
	EXPECT(talloc.live == 0, "%ld blocks leaked", talloc.live);
}

/*
 * The two halves together: a pass of the streaming state over all the rows
 * with the centroids of the sample fit has the same inertia, and at a
 * converged fit the next centroids do not move.
 */
static void
t_sample_then_pass(void)
{
	size_t		size = mlx_kmeans_state_size(3, 4);
	mlx_kmeans_state *a = new_state(3, 4);
	mlx_kmeans_state *b = new_state(3, 4);
	double		cent[12],
				next[12];
	double		inertia,
				shift;
	int			iters,
				nempty,
				i,
				bad;

	EXPECT_ST(mlx_kmeans_fit_sample(&iris[0][0], 150, 4, 3, 10, 300, 0.0, 0, &tctx, cent,
									&inertia, &iters), MLX_OK);
	for (i = 0; i < 150; i++)
		EXPECT_ST(mlx_kmeans_state_add(i % 2 ? a : b, cent, iris[i], &bad), MLX_OK);
	EXPECT_ST(mlx_kmeans_state_merge(a, b), MLX_OK);
	EXPECT_ST(mlx_kmeans_state_validate(a, size, NULL, 0), MLX_OK);
	EXPECT(a->nrows == 150, "nrows");
	EXPECT_REL(a->inertia, inertia, 1e-12, "pass inertia vs sample inertia");
	mlx_kmeans_next_centroids(a, cent, next, &shift, &nempty);
	EXPECT(nempty == 0 && shift < 1e-24, "converged centroids moved by %g (%d empty)",
		   shift, nempty);
	free(a);
	free(b);
}

int
main(void)
{
	run_case("state_size_and_init", t_state_size_init);
	run_case("state_validate_rejects_each_rule", t_state_validate);
	run_case("state_add_and_merge_equal_one_state", t_state_add_merge);
	run_case("state_add_and_merge_errors", t_state_add_merge_errors);
	run_case("nearest_ties_to_lowest_index", t_nearest_ties);
	run_case("nearest_vs_brute_force", t_nearest_vs_brute_force);
	run_case("next_centroids_with_empty_cluster", t_next_centroids);
	run_case("rng_known_outputs_and_determinism", t_rng);
	run_case("fit_blobs_recovers_centres", t_fit_blobs);
	run_case("fit_deterministic_for_a_seed", t_fit_deterministic);
	run_case("fit_inertia_when_stopped_early", t_fit_inertia_when_stopped_early);
	run_case("plusplus_spreads_centres", t_plusplus_spreads_centres);
	run_case("plusplus_greedy_candidates", t_plusplus_greedy_candidates);
	run_case("fit_k_equals_n_and_bad_arguments", t_fit_k_equals_n);
	run_case("fit_duplicates_and_empty_clusters", t_fit_duplicates_and_empty_clusters);
	run_case("fit_interrupt_and_enomem", t_fit_interrupt_and_enomem);
	run_case("fit_iris_vs_sklearn", t_iris_vs_sklearn);
	run_case("sample_fit_then_streaming_pass", t_sample_then_pass);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
