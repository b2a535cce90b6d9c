/*
 * kmeans.c
 *	  k-means: the flat state of one Lloyd pass over all the rows (init,
 *	  validation, adding a row, merging), nearest-centroid search, the next
 *	  centroids of a pass, a small seeded PRNG, and the in-memory fit of a
 *	  sample (greedy k-means++ and Lloyd iterations, n_init restarts).
 *
 * See kmeans.h for how ml.train combines the two halves.
 */
#include "core/kmeans.h"
#include "core/simd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* sums follow the header directly, so the header must keep them aligned */
_Static_assert(sizeof(mlx_kmeans_state) % sizeof(double) == 0,
			   "mlx_kmeans_state header breaks the alignment of the sums");

/* roughly this many flops between two polls of the interrupt hook */
#define KMEANS_POLL_WORK (1 << 20)

/* features summed between two checks of the partial-distance cut-off */
#define KMEANS_PRUNE_BLOCK 16

/* ---------------------------------------------------------------- helpers */

static bool
dims_ok(int k, int nfeat)
{
	return k >= 1 && k <= MLX_KMEANS_MAX_K &&
		nfeat >= 1 && nfeat <= MLX_KMEANS_MAX_FEATURES &&
		(int64_t) k * nfeat <= MLX_KMEANS_MAX_CELLS;
}

/*
 * Feature j of a row that may or may not be 8-byte aligned.  Called with a
 * constant 'aligned', so each inlined caller gets plain loads on the
 * aligned path (float8[] data in PostgreSQL always is) and memcpy loads,
 * which compilers turn into unaligned loads, on the other.
 */
static inline double
load_x(const void *x, int j, bool aligned)
{
	double		v;

	if (aligned)
		return ((const double *) x)[j];
	memcpy(&v, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
	return v;
}

static inline bool
is_aligned(const void *x)
{
	return ((uintptr_t) x % sizeof(double)) == 0;
}

/*
 * Squared distance |x - c|^2, or some value >= bound as soon as a partial
 * sum reaches bound (the caller only wants distances below it).  Four
 * running sums instead of one break the chain of dependent additions,
 * which is what limits a plain loop; they are combined in a fixed order,
 * so the result depends only on x, c and nfeat (never on bound: a distance
 * that is returned in full is the same whatever the bound).  The partial
 * sums only grow, so stopping early never hides a distance below bound.
 */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline double
dist2_bounded(const void *x, bool aligned, const double *c, int nfeat,
			  double bound)
{
	double		a0 = 0.0,
				a1 = 0.0,
				a2 = 0.0,
				a3 = 0.0;
	double		d;
	int			n4 = nfeat & ~3;
	int			j = 0;

	while (j < n4)
	{
		int			end = (n4 - j > KMEANS_PRUNE_BLOCK) ? j + KMEANS_PRUNE_BLOCK : n4;

		for (; j < end; j += 4)
		{
			double		t0 = load_x(x, j, aligned) - c[j];
			double		t1 = load_x(x, j + 1, aligned) - c[j + 1];
			double		t2 = load_x(x, j + 2, aligned) - c[j + 2];
			double		t3 = load_x(x, j + 3, aligned) - c[j + 3];

			a0 += t0 * t0;
			a1 += t1 * t1;
			a2 += t2 * t2;
			a3 += t3 * t3;
		}
		if (j < n4 && (a0 + a1) + (a2 + a3) >= bound)
			return (a0 + a1) + (a2 + a3);
	}
	d = (a0 + a1) + (a2 + a3);
	for (; j < nfeat; j++)
	{
		double		t = load_x(x, j, aligned) - c[j];

		d += t * t;
	}
	return d;
}

/*
 * Nearest of k centroids to x.  Centroid 0 is measured in full, so *dist2
 * is always the distance to the returned centroid (NaN propagates); the
 * others are abandoned once they cannot be strictly nearer than the best
 * so far, which changes no result, ties included (a later centroid must be
 * strictly nearer to win, so ties go to the lowest index).
 */
static inline int
nearest_impl(const double *centroids, int k, int nfeat, const void *x,
			 bool aligned, double *dist2)
{
	double		best = dist2_bounded(x, aligned, centroids, nfeat, INFINITY);
	int			besti = 0;
	int			i;

	for (i = 1; i < k; i++)
	{
		double		d = dist2_bounded(x, aligned, centroids + (size_t) i * nfeat,
									  nfeat, best);

		if (d < best)
		{
			best = d;
			besti = i;
		}
	}
	if (dist2 != NULL)
		*dist2 = best;
	return besti;
}

#ifdef MLX_SIMD_AVX2
/*
 * nearest_impl with dist2_bounded's four running sums as the lanes of one
 * vector: the same operations in the same order (simd.h), so the same
 * centroid, the same distance and the same cut-offs, bit for bit.  About
 * four times faster for 10 features and k = 8 (bench/classic.py's Lloyd
 * pass), where the scalar sums wait on each other's additions.
 */
MLX_TARGET_AVX2
static int
nearest_avx2(const double *centroids, int k, int nfeat, const void *x,
			 double *dist2)
{
	const char *xb = (const char *) x;
	int			n4 = nfeat & ~3;
	double		best = 0.0;
	int			besti = 0;
	int			i;

	for (i = 0; i < k; i++)
	{
		const double *c = centroids + (size_t) i * nfeat;
		mlx_v4d		a = {0.0, 0.0, 0.0, 0.0};
		double		d;
		int			j = 0;
		bool		cut = false;

		while (j < n4)
		{
			int			end = (n4 - j > KMEANS_PRUNE_BLOCK) ? j + KMEANS_PRUNE_BLOCK : n4;

			for (; j < end; j += 4)
			{
				mlx_v4d		t = MLX_V4_U(xb + (size_t) j * sizeof(double)) - MLX_V4(c + j);

				a += t * t;
			}
			/* centroid 0 is measured in full, as in nearest_impl */
			if (i > 0 && j < n4 && MLX_V4_SUM(a) >= best)
			{
				cut = true;
				break;
			}
		}
		if (cut)
			continue;
		d = MLX_V4_SUM(a);
		for (; j < nfeat; j++)
		{
			double		t = load_x(x, j, false) - c[j];

			d += t * t;
		}
		if (i == 0 || d < best)
		{
			best = d;
			besti = i;
		}
	}
	if (dist2 != NULL)
		*dist2 = best;
	return besti;
}
#endif

/* nearest_impl, or its AVX2 twin where the CPU has it */
static inline int
nearest_any(const double *centroids, int k, int nfeat, const void *x,
			double *dist2)
{
#ifdef MLX_SIMD_AVX2
	if (mlx_have_avx2())
		return nearest_avx2(centroids, k, nfeat, x, dist2);
#endif
	if (is_aligned(x))
		return nearest_impl(centroids, k, nfeat, x, true, dist2);
	return nearest_impl(centroids, k, nfeat, x, false, dist2);
}

static mlx_status
corrupt(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
	return MLX_ECORRUPT;
}

/* ------------------------------------------------------------ pass state */

size_t
mlx_kmeans_state_size(int k, int nfeat)
{
	if (!dims_ok(k, nfeat))
		return 0;
	/* at most 40 + 8 (10^7 + 10^4) bytes: no overflow, even in 32 bits */
	return sizeof(mlx_kmeans_state) +
		sizeof(double) * (size_t) k * (size_t) nfeat +
		sizeof(int64_t) * (size_t) k;
}

mlx_status
mlx_kmeans_state_init(mlx_kmeans_state *s, int k, int nfeat)
{
	size_t		size = mlx_kmeans_state_size(k, nfeat);

	if (s == NULL || size == 0)
		return MLX_EINVAL;
	memset(s, 0, size);
	s->version = MLX_KMEANS_STATE_VERSION;
	s->k = k;
	s->nfeat = nfeat;
	return MLX_OK;
}

double *
mlx_kmeans_state_sums(mlx_kmeans_state *s)
{
	return (double *) ((char *) s + sizeof(mlx_kmeans_state));
}

int64_t *
mlx_kmeans_state_counts(mlx_kmeans_state *s)
{
	return (int64_t *) (mlx_kmeans_state_sums(s) + (size_t) s->k * s->nfeat);
}

const double *
mlx_kmeans_state_sums_c(const mlx_kmeans_state *s)
{
	return (const double *) ((const char *) s + sizeof(mlx_kmeans_state));
}

const int64_t *
mlx_kmeans_state_counts_c(const mlx_kmeans_state *s)
{
	return (const int64_t *) (mlx_kmeans_state_sums_c(s) +
							  (size_t) s->k * s->nfeat);
}

mlx_status
mlx_kmeans_state_validate(const mlx_kmeans_state *s, size_t size,
						  char *errbuf, size_t errlen)
{
	const double *sums;
	const int64_t *counts;
	int64_t		total = 0;
	int			c,
				j;

	if (s == NULL || size < sizeof(mlx_kmeans_state))
		return corrupt(errbuf, errlen, "k-means state is truncated");
	if (s->version != MLX_KMEANS_STATE_VERSION)
		return corrupt(errbuf, errlen, "k-means state has an unknown version");
	if (s->reserved1[0] != 0 || s->reserved1[1] != 0 || s->reserved1[2] != 0 ||
		s->reserved2 != 0)
		return corrupt(errbuf, errlen, "k-means state has nonzero reserved bytes");
	if (s->k < 1 || s->k > MLX_KMEANS_MAX_K)
		return corrupt(errbuf, errlen, "k-means state has an invalid cluster count");
	if (s->nfeat < 1 || s->nfeat > MLX_KMEANS_MAX_FEATURES)
		return corrupt(errbuf, errlen, "k-means state has an invalid feature count");
	if (!dims_ok(s->k, s->nfeat))
		return corrupt(errbuf, errlen, "k-means state has too many clusters for its feature count");
	/* only now is it safe to look past the header */
	if (size != mlx_kmeans_state_size(s->k, s->nfeat))
		return corrupt(errbuf, errlen, "k-means state has the wrong size");
	if (s->nrows < 0 || s->nskipped < 0)
		return corrupt(errbuf, errlen, "k-means state has invalid row counts");
	if (!isfinite(s->inertia) || s->inertia < 0.0 ||
		(s->nrows == 0 && s->inertia != 0.0))
		return corrupt(errbuf, errlen, "k-means state has an invalid inertia");
	sums = mlx_kmeans_state_sums_c(s);
	counts = mlx_kmeans_state_counts_c(s);
	for (c = 0; c < s->k; c++)
	{
		const double *row = sums + (size_t) c * s->nfeat;

		/* written so that the running total cannot overflow */
		if (counts[c] < 0 || counts[c] > s->nrows - total)
			return corrupt(errbuf, errlen, "k-means state has invalid cluster sizes");
		total += counts[c];
		for (j = 0; j < s->nfeat; j++)
		{
			if (!isfinite(row[j]))
				return corrupt(errbuf, errlen, "k-means state has a non-finite sum");
			if (counts[c] == 0 && row[j] != 0.0)
				return corrupt(errbuf, errlen, "k-means state has a nonzero sum for an empty cluster");
		}
	}
	if (total != s->nrows)
		return corrupt(errbuf, errlen, "k-means state cluster sizes do not add up to its row count");
	return MLX_OK;
}

int
mlx_kmeans_nearest(const double *centroids, int k, int nfeat, const void *x,
				   double *dist2)
{
	return nearest_any(centroids, k, nfeat, x, dist2);
}

/*
 * The body of mlx_kmeans_state_add for one alignment of x.  Everything is
 * checked before anything is written, so a rejected row leaves the state
 * as it was: a non-finite value, and a finite row whose squared distance
 * or whose addition to its cluster's sums would overflow.
 */
static inline mlx_status
state_add_impl(mlx_kmeans_state *s, const double *centroids, const void *x,
			   bool aligned, int *bad_index)
{
	int			nfeat = s->nfeat;
	double	   *sum;
	double		d;
	int			c,
				j;

	for (j = 0; j < nfeat; j++)
		if (!isfinite(load_x(x, j, aligned)))
		{
			if (bad_index != NULL)
				*bad_index = j;
			return MLX_ENONFINITE;
		}
	c = nearest_any(centroids, s->k, nfeat, x, &d);
	if (!isfinite(s->inertia + d))
	{
		if (bad_index != NULL)
			*bad_index = -1;
		return MLX_ENONFINITE;
	}
	sum = mlx_kmeans_state_sums(s) + (size_t) c * nfeat;
	for (j = 0; j < nfeat; j++)
		if (!isfinite(sum[j] + load_x(x, j, aligned)))
		{
			if (bad_index != NULL)
				*bad_index = -1;
			return MLX_ENONFINITE;
		}
	for (j = 0; j < nfeat; j++)
		sum[j] += load_x(x, j, aligned);
	mlx_kmeans_state_counts(s)[c]++;
	s->nrows++;
	s->inertia += d;
	return MLX_OK;
}

mlx_status
mlx_kmeans_state_add(mlx_kmeans_state *s, const double *centroids,
					 const void *x, int *bad_index)
{
	if (is_aligned(x))
		return state_add_impl(s, centroids, x, true, bad_index);
	return state_add_impl(s, centroids, x, false, bad_index);
}

mlx_status
mlx_kmeans_state_merge(mlx_kmeans_state *s, const mlx_kmeans_state *other)
{
	double	   *sums;
	const double *osums;
	int64_t    *counts;
	const int64_t *ocounts;
	size_t		ncells,
				i;
	int			c;

	if (s->k != other->k || s->nfeat != other->nfeat)
		return MLX_EMISMATCH;
	ncells = (size_t) s->k * s->nfeat;
	sums = mlx_kmeans_state_sums(s);
	osums = mlx_kmeans_state_sums_c(other);
	counts = mlx_kmeans_state_counts(s);
	ocounts = mlx_kmeans_state_counts_c(other);
	/* check first, so that an overflow leaves s unchanged */
	if (other->nrows > INT64_MAX - s->nrows ||
		other->nskipped > INT64_MAX - s->nskipped ||
		!isfinite(s->inertia + other->inertia))
		return MLX_ENONFINITE;
	for (i = 0; i < ncells; i++)
		if (!isfinite(sums[i] + osums[i]))
			return MLX_ENONFINITE;
	for (i = 0; i < ncells; i++)
		sums[i] += osums[i];
	/* per-cluster counts are bounded by nrows, whose sum fits */
	for (c = 0; c < s->k; c++)
		counts[c] += ocounts[c];
	s->nrows += other->nrows;
	s->nskipped += other->nskipped;
	s->inertia += other->inertia;
	return MLX_OK;
}

void
mlx_kmeans_next_centroids(const mlx_kmeans_state *s, const double *old,
						  double *next, double *shift2, int *nempty)
{
	const double *sums = mlx_kmeans_state_sums_c(s);
	const int64_t *counts = mlx_kmeans_state_counts_c(s);
	int			nfeat = s->nfeat;
	double		shift = 0.0;
	int			empty = 0;
	int			c,
				j;

	for (c = 0; c < s->k; c++)
	{
		size_t		off = (size_t) c * nfeat;

		if (counts[c] > 0)
		{
			double		n = (double) counts[c];

			for (j = 0; j < nfeat; j++)
			{
				double		t;

				next[off + j] = sums[off + j] / n;
				t = next[off + j] - old[off + j];
				shift += t * t;
			}
		}
		else
		{
			memcpy(next + off, old + off, sizeof(double) * (size_t) nfeat);
			empty++;
		}
	}
	if (shift2 != NULL)
		*shift2 = shift;
	if (nempty != NULL)
		*nempty = empty;
}

/* ------------------------------------------------------------------ PRNG */

/* splitmix64 (Steele, Lea and Flood; Vigna's reference code) */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline uint64_t
rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * Four consecutive splitmix64 outputs.  splitmix64's output function is a
 * bijection of its distinct counter values, so at most one word is zero and
 * xoshiro never gets its one forbidden (all-zero) state.
 */
void
mlx_rng_seed(mlx_rng *r, uint64_t seed)
{
	uint64_t	x = seed;
	int			i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

/* xoshiro256** 1.0 (Blackman and Vigna) */
uint64_t
mlx_rng_next(mlx_rng *r)
{
	uint64_t   *s = r->s;
	uint64_t	result = rotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

double
mlx_rng_uniform(mlx_rng *r)
{
	return (double) (mlx_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in 0..n-1 (n >= 1) without modulo bias, by rejection. */
static int64_t
rng_below(mlx_rng *r, int64_t n)
{
	uint64_t	un = (uint64_t) n;
	/* 2^64 mod n: draws below it would favour the small residues */
	uint64_t	threshold = (0 - un) % un;

	for (;;)
	{
		uint64_t	v = mlx_rng_next(r);

		if (v >= threshold)
			return (int64_t) (v % un);
	}
}

/* ------------------------------------------------- k-means on a sample */

/*
 * Working memory of mlx_kmeans_fit_sample, allocated once for all runs:
 * nothing is allocated per row or per iteration.
 */
typedef struct km_work
{
	const double *rows;
	int64_t		n;
	int			nfeat;
	int			k;
	const mlx_ctx *ctx;
	int64_t		budget;			/* flops left until the next poll */
	double	   *dbl;			/* the block the four arrays below live in */
	double	   *closest;		/* n: k-means++ distance to the nearest centre */
	double	   *trial;			/* n: the same with the candidate being tried */
	double	   *best_trial;		/* n: the same with the best candidate so far */
	double	   *cumsum;			/* n: running sums of closest */
	double	   *dist;			/* n: Lloyd's distance to the assigned centre
								 * (shares memory with closest) */
	int32_t    *labels;			/* n */
	int32_t    *labels_old;		/* n */
	double	   *cent;			/* k * nfeat: current centroids */
	double	   *sums;			/* k * nfeat: sums, then the next centroids */
	double	   *best;			/* k * nfeat: centroids of the best run */
	int64_t    *counts;			/* k */
	int64_t    *far;			/* k: rows farthest from their centroid */
	double	   *fard;			/* k: their distances */
} km_work;

/*
 * Charge 'cost' flops and poll the interrupt hook once KMEANS_POLL_WORK
 * have been spent.  The budget carries over between loops, iterations and
 * runs, so many small passes (a small sample, large n_init or max_iter)
 * are polled as often as one long one.
 */
static inline bool
interrupted_after(km_work *w, int64_t cost)
{
	w->budget -= cost;
	if (w->budget > 0)
		return false;
	w->budget = KMEANS_POLL_WORK;
	return mlx_interrupted(w->ctx);
}

static void
work_free(km_work *w)
{
	mlx_free(w->ctx, w->dbl);
	mlx_free(w->ctx, w->labels);
	mlx_free(w->ctx, w->labels_old);
	mlx_free(w->ctx, w->cent);
	mlx_free(w->ctx, w->sums);
	mlx_free(w->ctx, w->best);
	mlx_free(w->ctx, w->counts);
	mlx_free(w->ctx, w->far);
	mlx_free(w->ctx, w->fard);
}

static mlx_status
work_alloc(km_work *w)
{
	size_t		n = (size_t) w->n;
	size_t		cells = (size_t) w->k * w->nfeat;
	size_t		k = (size_t) w->k;

	/* the caller checked that 4 n doubles fit in a size_t */
	w->dbl = mlx_alloc(w->ctx, sizeof(double) * 4 * n);
	w->labels = mlx_alloc(w->ctx, sizeof(int32_t) * n);
	w->labels_old = mlx_alloc(w->ctx, sizeof(int32_t) * n);
	w->cent = mlx_alloc(w->ctx, sizeof(double) * cells);
	w->sums = mlx_alloc(w->ctx, sizeof(double) * cells);
	w->best = mlx_alloc(w->ctx, sizeof(double) * cells);
	w->counts = mlx_alloc(w->ctx, sizeof(int64_t) * k);
	w->far = mlx_alloc(w->ctx, sizeof(int64_t) * k);
	w->fard = mlx_alloc(w->ctx, sizeof(double) * k);
	if (w->dbl == NULL || w->labels == NULL || w->labels_old == NULL ||
		w->cent == NULL || w->sums == NULL || w->best == NULL ||
		w->counts == NULL || w->far == NULL || w->fard == NULL)
	{
		work_free(w);
		return MLX_ENOMEM;
	}
	w->closest = w->dbl;
	w->trial = w->dbl + n;
	w->best_trial = w->dbl + 2 * n;
	w->cumsum = w->dbl + 3 * n;
	w->dist = w->closest;
	return MLX_OK;
}

static inline const double *
row_at(const km_work *w, int64_t i)
{
	return w->rows + (size_t) i * w->nfeat;
}

/* First index i with cumsum[i] > r, or n - 1 when there is none. */
static int64_t
search_cumsum(const double *cumsum, int64_t n, double r)
{
	int64_t		lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (cumsum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Greedy k-means++ into w->cent, as scikit-learn 1.2's _kmeans_plusplus:
 * the first centre is a row drawn uniformly; each next one is the best of
 * 2 + floor(ln k) candidate rows drawn with probability proportional to
 * their squared distance to the nearest centre so far, "best" meaning the
 * one that leaves the smallest potential (sum of those distances).
 */
static mlx_status
kmeans_plusplus(km_work *w, mlx_rng *rng)
{
	int64_t		n = w->n;
	int			nfeat = w->nfeat;
	int			ntrials = 2 + (int) floor(log((double) w->k));
	double	   *closest = w->closest;
	double	   *trial = w->trial;
	double	   *best_trial = w->best_trial;
	int64_t		first,
				i;
	int			c,
				t;

	first = rng_below(rng, n);
	memcpy(w->cent, row_at(w, first), sizeof(double) * (size_t) nfeat);
	for (i = 0; i < n; i++)
	{
		closest[i] = dist2_bounded(row_at(w, i), true, w->cent, nfeat, INFINITY);
		if (interrupted_after(w, nfeat))
			return MLX_EINTR;
	}
	for (c = 1; c < w->k; c++)
	{
		double		acc = 0.0;
		double		total;
		double		best_pot = 0.0;
		int64_t		best_id = 0;

		for (i = 0; i < n; i++)
		{
			acc += closest[i];
			w->cumsum[i] = acc;
		}
		total = w->cumsum[n - 1];
		for (t = 0; t < ntrials; t++)
		{
			double		u = mlx_rng_uniform(rng);
			const double *cand;
			double		pot = 0.0;
			int64_t		id;

			if (total > 0.0)
			{
				double		r = u * total;

				/*
				 * r < total so the search lands on a row of positive
				 * distance: never a row that already is a centre.
				 */
				if (!(r < total))
					r = nextafter(total, 0.0);
				id = search_cumsum(w->cumsum, n, r);
			}
			else
			{
				/* every row sits on a centre: any row will do */
				id = (int64_t) (u * (double) n);
				if (id >= n)
					id = n - 1;
			}
			cand = row_at(w, id);
			for (i = 0; i < n; i++)
			{
				/* min(closest, distance to the candidate) */
				double		d = dist2_bounded(row_at(w, i), true, cand, nfeat,
											  closest[i]);

				if (d > closest[i])
					d = closest[i];
				trial[i] = d;
				pot += d;
				if (interrupted_after(w, nfeat))
					return MLX_EINTR;
			}
			/* ties keep the earlier candidate, as numpy's argmin does */
			if (t == 0 || pot < best_pot)
			{
				double	   *tmp = best_trial;

				best_trial = trial;
				trial = tmp;
				best_pot = pot;
				best_id = id;
			}
		}
		memcpy(w->cent + (size_t) c * nfeat, row_at(w, best_id),
			   sizeof(double) * (size_t) nfeat);
		{
			double	   *tmp = closest;

			closest = best_trial;
			best_trial = tmp;
		}
	}
	return MLX_OK;
}

/*
 * Empty clusters after an assignment step, as scikit-learn's
 * _relocate_empty_clusters_dense: take the rows farthest from their
 * centroid (descending distance, ties to the lower row), one per empty
 * cluster in cluster order, and move each out of its cluster's sums into
 * the empty cluster, where it is the only row.  Rows keep their labels.
 */
static void
relocate_empty(km_work *w, int nempty)
{
	int			nfeat = w->nfeat;
	int			nfar = 0;
	int64_t		i;
	int			c,
				m;

	for (i = 0; i < w->n; i++)
	{
		double		d = w->dist[i];
		int			pos;

		if (nfar == nempty && !(d > w->fard[nfar - 1]))
			continue;
		/* insert into the descending list, after equal distances */
		pos = (nfar < nempty) ? nfar++ : nfar - 1;
		while (pos > 0 && d > w->fard[pos - 1])
		{
			w->fard[pos] = w->fard[pos - 1];
			w->far[pos] = w->far[pos - 1];
			pos--;
		}
		w->fard[pos] = d;
		w->far[pos] = i;
	}
	/*
	 * Mark the clusters that came out of the assignment empty: a move can
	 * empty the cluster it takes its row from, and that one is not to be
	 * refilled (scikit-learn's loop runs over the initial list too).
	 */
	for (c = 0; c < w->k; c++)
		if (w->counts[c] == 0)
			w->counts[c] = -1;
	m = 0;
	for (c = 0; c < w->k; c++)
	{
		const double *x;
		double	   *from,
				   *to;
		int			old,
					j;

		if (w->counts[c] != -1)
			continue;
		if (m == nfar)
		{
			/* can't happen (n >= k), but never leave the mark behind */
			w->counts[c] = 0;
			continue;
		}
		x = row_at(w, w->far[m]);
		old = w->labels[w->far[m]];
		from = w->sums + (size_t) old * nfeat;
		to = w->sums + (size_t) c * nfeat;
		for (j = 0; j < nfeat; j++)
		{
			from[j] -= x[j];
			to[j] = x[j];
		}
		w->counts[old]--;
		w->counts[c] = 1;
		m++;
	}
}

/*
 * Sum of squared distances of the rows to their nearest centroid in
 * w->cent: the inertia of exactly those centroids.
 */
static mlx_status
inertia_of(km_work *w, double *inertia)
{
	double		acc = 0.0;
	int64_t		cost = (int64_t) w->k * w->nfeat;
	int64_t		i;

	for (i = 0; i < w->n; i++)
	{
		double		d;

		(void) nearest_any(w->cent, w->k, w->nfeat, row_at(w, i), &d);
		acc += d;
		if (interrupted_after(w, cost))
			return MLX_EINTR;
	}
	*inertia = acc;
	return MLX_OK;
}

/*
 * Lloyd iterations from the centroids in w->cent, as scikit-learn's
 * _kmeans_single_lloyd: stop when no label changed or the summed squared
 * shift is at most tol, else after max_iter iterations.  Then the inertia
 * of the final centroids.
 */
static mlx_status
lloyd(km_work *w, int max_iter, double tol, double *inertia, int *iterations)
{
	int64_t		n = w->n;
	int			nfeat = w->nfeat;
	int			k = w->k;
	int64_t		cost = (int64_t) k * nfeat;
	int64_t		r;
	int			it;

	/* no label matches these, so the first iteration never stops early */
	for (r = 0; r < n; r++)
		w->labels_old[r] = -1;
	for (it = 0; it < max_iter; it++)
	{
		double		shift = 0.0;
		int			nempty = 0;
		int64_t		i;
		int			c,
					j;
		double	   *tmp;
		int32_t    *ltmp;

		memset(w->sums, 0, sizeof(double) * (size_t) k * nfeat);
		memset(w->counts, 0, sizeof(int64_t) * (size_t) k);
		for (i = 0; i < n; i++)
		{
			const double *x = row_at(w, i);
			int			l = nearest_any(w->cent, k, nfeat, x, &w->dist[i]);
			double	   *s = w->sums + (size_t) l * nfeat;

			for (j = 0; j < nfeat; j++)
				s[j] += x[j];
			w->counts[l]++;
			w->labels[i] = l;
			if (interrupted_after(w, cost))
				return MLX_EINTR;
		}
		for (c = 0; c < k; c++)
			nempty += (w->counts[c] == 0);
		if (nempty > 0)
			relocate_empty(w, nempty);
		/* sums become the next centroids; a cluster still empty stays put */
		for (c = 0; c < k; c++)
		{
			double	   *s = w->sums + (size_t) c * nfeat;
			const double *o = w->cent + (size_t) c * nfeat;

			for (j = 0; j < nfeat; j++)
			{
				double		t;

				if (w->counts[c] > 0)
					s[j] /= (double) w->counts[c];
				else
					s[j] = o[j];
				t = s[j] - o[j];
				shift += t * t;
			}
		}
		tmp = w->cent;
		w->cent = w->sums;
		w->sums = tmp;
		if (memcmp(w->labels, w->labels_old, sizeof(int32_t) * (size_t) n) == 0 ||
			shift <= tol)
		{
			it++;				/* count this iteration, as n_iter_ does */
			break;
		}
		ltmp = w->labels_old;
		w->labels_old = w->labels;
		w->labels = ltmp;
	}
	*iterations = it;
	return inertia_of(w, inertia);
}

mlx_status
mlx_kmeans_fit_sample(const double *rows, int64_t n, int nfeat, int k,
					  int n_init, int max_iter, double tol_abs, uint64_t seed,
					  const mlx_ctx *ctx, double *centroids, double *inertia,
					  int *iterations)
{
	km_work		w;
	mlx_rng		rng;
	double		best_inertia = 0.0;
	int			best_iter = 0;
	size_t		i;
	int			run;
	mlx_status	st = MLX_OK;

	if (rows == NULL || centroids == NULL || inertia == NULL ||
		!dims_ok(k, nfeat) || n < k || n_init < 1 || max_iter < 0 ||
		!(tol_abs >= 0.0) || !isfinite(tol_abs))
		return MLX_EINVAL;
	/* n rows of data, and 4 n doubles of working memory, must be addressable */
	if ((uint64_t) n > SIZE_MAX / sizeof(double) / 4 ||
		(uint64_t) n > SIZE_MAX / sizeof(double) / (size_t) nfeat)
		return MLX_EINVAL;
	for (i = 0; i < (size_t) n * nfeat; i++)
		if (!isfinite(rows[i]))
			return MLX_ENONFINITE;
	if (mlx_interrupted(ctx))
		return MLX_EINTR;

	memset(&w, 0, sizeof(w));
	w.rows = rows;
	w.n = n;
	w.nfeat = nfeat;
	w.k = k;
	w.ctx = ctx;
	w.budget = KMEANS_POLL_WORK;
	st = work_alloc(&w);
	if (st != MLX_OK)
		return st;

	mlx_rng_seed(&rng, seed);
	for (run = 0; run < n_init; run++)
	{
		double		run_inertia;
		int			run_iter;

		if (run > 0 && mlx_interrupted(ctx))
		{
			st = MLX_EINTR;
			break;
		}
		st = kmeans_plusplus(&w, &rng);
		if (st == MLX_OK)
			st = lloyd(&w, max_iter, tol_abs, &run_inertia, &run_iter);
		if (st != MLX_OK)
			break;
		/* strictly less: ties keep the earlier run */
		if (run == 0 || run_inertia < best_inertia)
		{
			memcpy(w.best, w.cent, sizeof(double) * (size_t) k * nfeat);
			best_inertia = run_inertia;
			best_iter = run_iter;
		}
	}
	if (st == MLX_OK)
	{
		memcpy(centroids, w.best, sizeof(double) * (size_t) k * nfeat);
		*inertia = best_inertia;
		if (iterations != NULL)
			*iterations = best_iter;
	}
	work_free(&w);
	return st;
}
