/*
 * kmeans.h
 *	  k-means: k-means++ initialisation and Lloyd iterations in memory (on a
 *	  sample of the rows), and the flat state of one Lloyd pass over all the
 *	  rows (a parallel aggregate: states merge by adding).
 *
 * ml.train's driver (1) fits k-means on an in-memory sample of the rows
 * with n_init k-means++ restarts and keeps the centroids of least sample
 * inertia (mlx_kmeans_fit_sample), then (2) runs Lloyd passes over all the
 * rows, each one aggregate: every row is assigned to its nearest current
 * centroid (mlx_kmeans_state_add), the per-cluster sums, counts and the
 * inertia of the current centroids accumulate, and the next centroids are
 * the means (mlx_kmeans_next_centroids).  It stops when the centroids move
 * by at most tol (scikit-learn's rule: the summed squared shift of the
 * centroids is at most tol times the mean per-feature variance of the
 * data), or after max_iter passes.
 *
 * Distances are squared Euclidean.  Ties go to the lowest cluster index.
 */
#ifndef MLX_KMEANS_H
#define MLX_KMEANS_H

#include "core/mlx_core.h"

#define MLX_KMEANS_STATE_VERSION 1
#define MLX_KMEANS_MAX_K 10000
#define MLX_KMEANS_MAX_FEATURES 2000
/* k * nfeat is bounded too (memory of centroids and pass states) */
#define MLX_KMEANS_MAX_CELLS 10000000

/*
 * The pass state: one flat, position-independent block (header, then
 * double sums[k * nfeat] row-major by cluster, then int64_t counts[k]).
 * All in native byte order; the PostgreSQL glue keeps it 8-byte aligned.
 */
typedef struct mlx_kmeans_state
{
	uint8_t		version;		/* MLX_KMEANS_STATE_VERSION */
	uint8_t		reserved1[3];	/* zero */
	int32_t		k;				/* clusters, 1..MLX_KMEANS_MAX_K */
	int32_t		nfeat;			/* features, 1..MLX_KMEANS_MAX_FEATURES */
	int32_t		reserved2;		/* zero */
	int64_t		nrows;			/* rows assigned */
	int64_t		nskipped;		/* rows the caller skipped (NULL) */
	double		inertia;		/* sum of squared distances to the nearest
								 * current centroid */
	/* double sums[k * nfeat]; int64_t counts[k]; */
} mlx_kmeans_state;

/* Bytes of a whole state for k clusters and nfeat features; 0 if out of range. */
size_t		mlx_kmeans_state_size(int k, int nfeat);

/* Initialize a block of mlx_kmeans_state_size() bytes (all zero sums). */
mlx_status	mlx_kmeans_state_init(mlx_kmeans_state *s, int k, int nfeat);

/*
 * Check a state block of 'size' bytes from outside: version, reserved
 * bytes, k and nfeat in range, exact size, counts >= 0 and summing to
 * nrows, nskipped >= 0, sums and inertia finite, inertia >= 0, and the
 * consistency every real state has: a cluster without rows has zero sums,
 * a state without rows zero inertia.  Returns MLX_ECORRUPT with a message,
 * or MLX_OK.  Never reads beyond size bytes (the header first, the rest
 * only once the size matches k and nfeat).
 */
mlx_status	mlx_kmeans_state_validate(const mlx_kmeans_state *s, size_t size,
									  char *errbuf, size_t errlen);

/*
 * Index of the centroid nearest to x (nfeat doubles, any alignment) among
 * k centroids (row-major k * nfeat), and its squared distance in *dist2
 * (may be NULL).  No allocation; called once per row per pass.
 */
int			mlx_kmeans_nearest(const double *centroids, int k, int nfeat,
							   const void *x, double *dist2);

/*
 * Assign one row to its nearest centroid and add it to the state.
 * MLX_ENONFINITE with *bad_index (0-based) for a NaN/infinite value, and
 * with *bad_index = -1 for a finite row whose squared distance or whose
 * addition to the cluster's sums overflows; the state is unchanged then.
 * bad_index may be NULL.
 */
mlx_status	mlx_kmeans_state_add(mlx_kmeans_state *s, const double *centroids,
								 const void *x, int *bad_index);

/*
 * Add 'other' into 's' (same k and nfeat, else MLX_EMISMATCH; MLX_ENONFINITE
 * when a sum, the inertia or a row count would overflow).  On failure 's' is
 * unchanged.
 */
mlx_status	mlx_kmeans_state_merge(mlx_kmeans_state *s,
								   const mlx_kmeans_state *other);

/* The per-cluster sums and counts of a state (pointers into the block). */
double	   *mlx_kmeans_state_sums(mlx_kmeans_state *s);
int64_t    *mlx_kmeans_state_counts(mlx_kmeans_state *s);
const double *mlx_kmeans_state_sums_c(const mlx_kmeans_state *s);
const int64_t *mlx_kmeans_state_counts_c(const mlx_kmeans_state *s);

/*
 * The next centroids from a pass: the mean of each cluster's rows; a
 * cluster that got no row keeps its old centroid (and *nempty counts
 * them).  *shift2 = the summed squared move of all centroids.  next and
 * old are k * nfeat; they may not overlap.  shift2 and nempty may be NULL.
 */
void		mlx_kmeans_next_centroids(const mlx_kmeans_state *s,
									  const double *old, double *next,
									  double *shift2, int *nempty);

/*
 * A small deterministic PRNG (splitmix64 seeded xoshiro256** or similar),
 * so results depend only on the seed, never on the platform's rand().
 */
typedef struct mlx_rng
{
	uint64_t	s[4];
} mlx_rng;
void		mlx_rng_seed(mlx_rng *r, uint64_t seed);
uint64_t	mlx_rng_next(mlx_rng *r);
double		mlx_rng_uniform(mlx_rng *r);	/* [0, 1) with 53 random bits */

/*
 * k-means on n in-memory rows (row-major n * nfeat, finite values): n_init
 * runs, each a greedy k-means++ initialisation (scikit-learn's: 2 + floor(ln
 * k) candidate centres per step, the one lowering the potential most is
 * kept) followed by Lloyd iterations until the summed squared centroid
 * shift is at most tol_abs or max_iter iterations; an empty cluster is
 * moved to the row farthest from its centroid (as scikit-learn relocates
 * empty clusters).  Keeps the run with the least inertia: centroids (k *
 * nfeat, caller-allocated) and *inertia, *iterations of that run.  Every
 * run draws from one generator seeded with seed, so the result depends only
 * on the inputs.  As in scikit-learn, a run also stops when an iteration
 * changes no label, and *iterations counts the iterations run (0..max_iter);
 * *inertia is computed from the returned centroids after the last update.
 * Requires 1 <= k <= n, k and nfeat within the MLX_KMEANS_MAX_* bounds,
 * n_init >= 1, max_iter >= 0 and a finite tol_abs >= 0 (MLX_EINVAL
 * otherwise); MLX_ENONFINITE when a value of rows is not finite.  Polls the
 * interrupt hook (MLX_EINTR).  Working memory is O(n + k nfeat), allocated
 * once; on failure nothing is written to the outputs.  iterations may be
 * NULL.
 */
mlx_status	mlx_kmeans_fit_sample(const double *rows, int64_t n, int nfeat,
								  int k, int n_init, int max_iter,
								  double tol_abs, uint64_t seed,
								  const mlx_ctx *ctx, double *centroids,
								  double *inertia, int *iterations);

/*
 * A fitted k-means model.
 */
typedef struct mlx_kmeans_fit
{
	int32_t		k;
	int32_t		nfeat;
	int64_t		nrows;			/* rows in the last pass */
	int64_t		nskipped;
	int32_t		iterations;		/* Lloyd passes over all the rows */
	int32_t		n_init;			/* restarts on the sample */
	bool		converged;
	uint64_t	seed;
	double		inertia;		/* of these centroids over all the rows */
	double	   *centroids;		/* k * nfeat, row-major by cluster */
	int64_t    *sizes;			/* k: rows nearest to each centroid */
} mlx_kmeans_fit;

#endif							/* MLX_KMEANS_H */
