/*
 * tree.c
 *	  Bin edges and the in-memory trainer of the tree ensembles (see
 *	  tree.h for the model and the arithmetic).
 *
 * The trainer keeps the rows of the tree being grown in one index array;
 * every node owns a contiguous range of it, and a split partitions the
 * range in place (stably, so a node's rows stay in ascending row order and
 * the histogram loop reads the binned rows front to back).  Nodes are
 * expanded depth-first from a stack: each pending node carries its
 * histogram, so at most max_depth + 2 histograms exist at once, and the
 * larger child's histogram is its parent's minus the smaller child's.
 */
#include "core/tree.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- random numbers (splitmix64: seedable, portable) ---------- */

static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double
rng_unit(uint64_t *s)
{
	return (double) (rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform in [0, n) for n >= 1 */
static inline uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t) (rng_unit(s) * (double) n);
}

/* ---------- bin edges ---------- */

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The key of a double whose unsigned order is the numeric order (for
 * doubles that are not NaN; -0.0 sorts just below +0.0), and back.
 */
static inline uint64_t
order_key(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	return (u >> 63) ? ~u : (u | (UINT64_C(1) << 63));
}

static inline double
order_value(uint64_t k)
{
	uint64_t	u = (k >> 63) ? (k & ~(UINT64_C(1) << 63)) : ~k;
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

bool
mlx_radix_offsets(int64_t count[256], int64_t n)
{
	int64_t		sum = 0;
	bool		one_digit = false;

	for (int b = 0; b < 256; b++)
	{
		int64_t		c = count[b];

		one_digit |= c == n;
		count[b] = sum;
		sum += c;
	}
	return one_digit;
}

/*
 * Sort v[0..n) (no NaN) ascending: a least-significant-digit radix sort of
 * the order keys, one byte per pass, passes where every key has the same
 * byte skipped; scratch holds n values.  Equal values with equal bits come
 * out as any sort would leave them, so the result is qsort's.
 */
static void
sort_doubles(double *v, int64_t n, double *scratch)
{
	int64_t		count[8][256];
	double	   *from = v;
	double	   *to = scratch;

	memset(count, 0, sizeof(count));
	for (int64_t i = 0; i < n; i++)
	{
		uint64_t	k = order_key(v[i]);

		memcpy(&v[i], &k, sizeof(k));
		for (int d = 0; d < 8; d++)
			count[d][(k >> (8 * d)) & 255]++;
	}
	for (int d = 0; d < 8; d++)
	{
		if (mlx_radix_offsets(count[d], n))
			continue;
		for (int64_t i = 0; i < n; i++)
		{
			uint64_t	k;

			memcpy(&k, &from[i], sizeof(k));
			memcpy(&to[count[d][(k >> (8 * d)) & 255]++], &k, sizeof(k));
		}
		{
			double	   *x = from;

			from = to;
			to = x;
		}
	}
	for (int64_t i = 0; i < n; i++)
	{
		uint64_t	k;

		memcpy(&k, &from[i], sizeof(k));
		v[i] = order_value(k);
	}
}

mlx_status
mlx_tree_bin_edges(double *values, int64_t n, int max_bins, bool midpoints,
				   double *cuts, int *ncuts, double *scratch)
{
	int64_t		m = 0;
	int64_t		distinct = 0;
	int			nc = 0;

	*ncuts = 0;
	if (max_bins < 2 || max_bins > MLX_TREE_MAX_BINS || n < 0)
		return MLX_EINVAL;
	/* drop NaN (missing), reject infinities */
	for (int64_t i = 0; i < n; i++)
	{
		if (isnan(values[i]))
			continue;
		if (!isfinite(values[i]))
			return MLX_ENONFINITE;
		/* -0.0 as +0.0: equal values, equal bits, one sorted order */
		values[m++] = values[i] == 0 ? 0.0 : values[i];
	}
	if (m == 0)
		return MLX_OK;
	if (scratch != NULL)
		sort_doubles(values, m, scratch);
	else
		qsort(values, (size_t) m, sizeof(double), cmp_double);
	for (int64_t i = 0; i < m; i++)
		if (i == 0 || values[i] != values[i - 1])
			distinct++;
	if (distinct <= max_bins)
	{
		/*
		 * A cut in every gap (x < cut goes left): halfway, as scikit-learn's
		 * thresholds, or at the upper value, as XGBoost's cut values.
		 */
		for (int64_t i = 1; i < m; i++)
		{
			double		a = values[i - 1],
						b = values[i],
						mid;

			if (a == b)
				continue;
			mid = midpoints ? a + (b - a) / 2 : b;
			if (!(mid > a) || !(mid <= b))
				mid = b;
			cuts[nc++] = mid;
		}
	}
	else
	{
		/*
		 * Quantiles i / max_bins of the sample; a cut at the quantile value
		 * itself (x < value goes left, as XGBoost's cut values), without
		 * duplicates and never at the minimum (an empty first bin).
		 */
		for (int q = 1; q < max_bins; q++)
		{
			int64_t		pos = (int64_t) ((double) q * (double) m / max_bins);
			double		v;

			if (pos >= m)
				pos = m - 1;
			v = values[pos];
			if (v <= values[0])
				continue;
			if (nc > 0 && v <= cuts[nc - 1])
				continue;
			cuts[nc++] = v;
		}
	}
	*ncuts = nc;
	return MLX_OK;
}

static int
cmp_int32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

/* ---------- a small thread pool ---------- */

/*
 * Worker threads for the histogram loops.  They only ever run pure
 * computation on memory the calling thread allocated (never the allocator,
 * never the interrupt hook), they are created with every signal blocked so
 * signals keep going to the calling thread (a PostgreSQL backend's handlers
 * expect that), and mlx_tree_train joins them before it returns.
 */
typedef void (*pool_fn) (void *arg, int part, int nparts);

typedef struct pool
{
	int			nworkers;		/* threads besides the caller */
	pthread_t  *threads;
	pthread_mutex_t mu;
	pthread_cond_t go;
	pthread_cond_t done;
	uint64_t	generation;
	int			running;
	bool		stop;
	pool_fn		fn;
	void	   *arg;
} pool;

typedef struct pool_worker
{
	pool	   *pl;
	int			part;
} pool_worker;

static void *
pool_main(void *a)
{
	pool_worker *w = a;
	pool	   *pl = w->pl;
	uint64_t	seen = 0;

	for (;;)
	{
		pool_fn		fn;
		void	   *arg;

		pthread_mutex_lock(&pl->mu);
		while (pl->generation == seen && !pl->stop)
			pthread_cond_wait(&pl->go, &pl->mu);
		if (pl->stop)
		{
			pthread_mutex_unlock(&pl->mu);
			return NULL;
		}
		seen = pl->generation;
		fn = pl->fn;
		arg = pl->arg;
		pthread_mutex_unlock(&pl->mu);
		fn(arg, w->part, pl->nworkers + 1);
		pthread_mutex_lock(&pl->mu);
		if (--pl->running == 0)
			pthread_cond_signal(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
}

/*
 * Start up to want - 1 workers (fewer if the system refuses); workers is
 * storage for want - 1 pool_worker and threads for want - 1 pthread_t.
 */
static void
pool_start(pool *pl, int want, pthread_t *threads, pool_worker *workers)
{
	sigset_t	all,
				old;

	memset(pl, 0, sizeof(*pl));
	pl->threads = threads;
	if (want <= 1)
		return;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->go, NULL);
	pthread_cond_init(&pl->done, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < want - 1; i++)
	{
		workers[i].pl = pl;
		workers[i].part = i + 1;
		if (pthread_create(&threads[i], NULL, pool_main, &workers[i]) != 0)
			break;
		pl->nworkers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Run fn(arg, part, nparts) for every part, the caller taking part 0. */
static void
pool_run(pool *pl, pool_fn fn, void *arg)
{
	if (pl->nworkers == 0)
	{
		fn(arg, 0, 1);
		return;
	}
	pthread_mutex_lock(&pl->mu);
	pl->fn = fn;
	pl->arg = arg;
	pl->running = pl->nworkers;
	pl->generation++;
	pthread_cond_broadcast(&pl->go);
	pthread_mutex_unlock(&pl->mu);
	fn(arg, 0, pl->nworkers + 1);
	pthread_mutex_lock(&pl->mu);
	while (pl->running > 0)
		pthread_cond_wait(&pl->done, &pl->mu);
	pthread_mutex_unlock(&pl->mu);
}

static void
pool_stop(pool *pl)
{
	if (pl->nworkers == 0)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = true;
	pthread_cond_broadcast(&pl->go);
	pthread_mutex_unlock(&pl->mu);
	for (int i = 0; i < pl->nworkers; i++)
		pthread_join(pl->threads[i], NULL);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->go);
	pthread_cond_destroy(&pl->done);
	pl->nworkers = 0;
}

/* ---------- training ---------- */

typedef struct growbuf
{
	void	   *p;
	size_t		cap;			/* elements */
} growbuf;

/* per-node arrays while a model grows */
typedef struct node_arrays
{
	int32_t		n;
	int32_t		cap;
	int32_t    *feature;
	double	   *threshold;
	int32_t    *left;
	int32_t    *right;
	uint8_t    *default_left;
	double	   *gain;
	double	   *cover;
	double	   *value;
	int32_t    *split_bin;		/* training only: left when 1 <= bin <= this */
} node_arrays;

/* a node waiting to be expanded */
typedef struct pending
{
	int32_t		node;			/* absolute index */
	int32_t		depth;
	int64_t		begin;
	int64_t		end;
	double	   *hist;
} pending;

typedef struct trainer
{
	const mlx_ctx *ctx;
	const mlx_tree_data *data;
	const mlx_tree_params *p;
	bool		node_limit_hit; /* nodes_reserve passed p->max_nodes */
	int32_t		nfeat;
	int			nch;			/* channels */
	int			stride;			/* doubles per bin: W then nch sums */
	int64_t	   *off;			/* nfeat + 1 bin offsets */
	int64_t		total_bins;
	size_t		hist_doubles;
	/* per row */
	/*
	 * rg[2r]: the weight (hessian, multiplicity), rg[2r + 1]: the value
	 * (-gradient, y * w, w); side by side, so a row's pair is one fetch
	 */
	double	   *rg;
	int32_t    *rc;				/* channel (classification), or NULL */
	uint32_t   *idx;			/* rows of the tree, partitioned by node */
	uint32_t   *tmp;
	/* the tree's features, and a per-split subset */
	int32_t    *feats;
	int32_t		nfeats;
	int32_t    *split_feats;
	/* free histogram buffers */
	double	  **free_hists;
	int			nfree;
	int			nhists;			/* allocated so far */
	int			max_hists;
	pending    *stack;
	node_arrays nodes;
	double	   *scratch;		/* 6 * stride doubles: best_split's sums, the
								 * best left child's totals (4 * stride),
								 * its right child's (5 * stride) */
	/* boosting: at each leaf, add its value to these rows' margins */
	double	   *leaf_margin;	/* n * leaf_stride, or NULL */
	int			leaf_acc;		/* values added per row: 1 (boosting) or
								 * leaf_width (forests) */
	int			leaf_stride;	/* doubles per row of leaf_margin */
	int			group;			/* offset in a row (boosting: the class) */
	uint64_t	rng;
	/* slice q > 0 of a large histogram goes to part_hist[q - 1] */
	pool		pool;
	double	  **part_hist;
	/* the job of one parallel histogram build */
	double	   *job_hist;
	int64_t		job_begin;
	int64_t		job_end;
	/* the job of one parallel gradient computation (boosting) */
	const double *job_margin;	/* n * ngroups margins */
	const double *job_prob;		/* n * ngroups probabilities (multiclass) */
	int			job_ngroups;
	/* the job of one parallel partition: the split, each slice's left rows */
	int32_t		job_feature;
	int32_t		job_bin;
	bool		job_default_left;
	int64_t		job_nleft[MLX_TREE_MAX_THREADS];
	/* the job of one parallel leaf update: the left and right leaf values */
	const double *job_lv;
	const double *job_rv;
} trainer;

/* a histogram is split between the threads from this many rows on */
#define PARALLEL_MIN_ROWS 4096

/*
 * Room for 'more' nodes.  False when out of memory, or past the node limit
 * (params->max_nodes, which sets t->node_limit_hit, or MLX_TREE_MAX_NODES):
 * the caller's limit is checked as the trees grow, so a model too large to
 * keep stops at the node that passes it, not after all its trees.  The
 * arrays double but never past the limit.
 */
static bool
nodes_reserve(trainer *t, int32_t more)
{
	node_arrays *a = &t->nodes;
	int32_t		need = a->n + more;
	int32_t		cap;
	int32_t		limit = MLX_TREE_MAX_NODES;
	int			lw = t->p->kind == MLX_TREE_GRADIENT_BOOSTING ? 1 : t->nch;

	if (t->p->max_nodes > 0 && t->p->max_nodes < limit)
		limit = t->p->max_nodes;
	if (need > limit)
	{
		if (limit == t->p->max_nodes)
			t->node_limit_hit = true;
		return false;
	}
	if (need <= a->cap)
		return true;
	cap = a->cap < 64 ? 64 : a->cap;
	while (cap < need)
		cap = cap > limit / 2 ? limit : cap * 2;
#define GROW(field, type, width) \
	do { \
		type *nw = mlx_alloc(t->ctx, sizeof(type) * (size_t) cap * (width)); \
		if (nw == NULL) return false; \
		if (a->n > 0) memcpy(nw, a->field, sizeof(type) * (size_t) a->n * (width)); \
		mlx_free(t->ctx, a->field); \
		a->field = nw; \
	} while (0)
	GROW(feature, int32_t, 1);
	GROW(threshold, double, 1);
	GROW(left, int32_t, 1);
	GROW(right, int32_t, 1);
	GROW(default_left, uint8_t, 1);
	GROW(gain, double, 1);
	GROW(cover, double, 1);
	GROW(value, double, lw);
	GROW(split_bin, int32_t, 1);
#undef GROW
	a->cap = cap;
	return true;
}

static double *
hist_get(trainer *t)
{
	double	   *h;

	if (t->nfree > 0)
		h = t->free_hists[--t->nfree];
	else
	{
		if (t->nhists >= t->max_hists)
			return NULL;
		h = mlx_alloc(t->ctx, sizeof(double) * t->hist_doubles);
		if (h == NULL)
			return NULL;
		t->nhists++;
	}
	memset(h, 0, sizeof(double) * t->hist_doubles);
	return h;
}

static void
hist_put(trainer *t, double *h)
{
	t->free_hists[t->nfree++] = h;
}

/* rows ahead whose bins and gradients are fetched into the cache early */
#define PREFETCH_ROWS 16
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void) 0)
#endif

static inline void
prefetch_row(const trainer *t, uint32_t r)
{
	PREFETCH(t->data->bins + (size_t) r * t->nfeat);
	PREFETCH(t->rg + 2 * (size_t) r);
}

/* Add the rows idx[begin..end) to histogram h (the tree's features). */
static void
hist_add_rows(const trainer *t, double *h, int64_t begin, int64_t end)
{
	const uint8_t *bins = t->data->bins;
	const int32_t F = t->nfeat;
	const int32_t nf = t->nfeats;
	const int32_t *feats = t->feats;
	const int64_t *off = t->off;
	const double *rg = t->rg;

	if (t->nch == 1 && nf == F)
	{
		/* the common case: one channel, every feature */
		for (int64_t i = begin; i < end; i++)
		{
			uint32_t	r = t->idx[i];
			const uint8_t *row = bins + (size_t) r * F;
			double		w = rg[2 * (size_t) r],
						v = rg[2 * (size_t) r + 1];

			/* a node's rows are scattered below the root: fetch ahead */
			if (i + PREFETCH_ROWS < end)
				prefetch_row(t, t->idx[i + PREFETCH_ROWS]);
			for (int32_t f = 0; f < F; f++)
			{
				double	   *b = h + 2 * (off[f] + row[f]);

				b[0] += w;
				b[1] += v;
			}
		}
		return;
	}
	for (int64_t i = begin; i < end; i++)
	{
		uint32_t	r = t->idx[i];
		const uint8_t *row = bins + (size_t) r * F;
		double		w = rg[2 * (size_t) r],
					v = rg[2 * (size_t) r + 1];
		int			c = t->rc ? t->rc[r] : 0;

		if (i + PREFETCH_ROWS < end)
			prefetch_row(t, t->idx[i + PREFETCH_ROWS]);
		for (int32_t k = 0; k < nf; k++)
		{
			int32_t		f = feats[k];
			double	   *b = h + (size_t) t->stride * (off[f] + row[f]);

			b[0] += w;
			b[1 + c] += v;
		}
	}
}

/*
 * A large histogram is the sum of HIST_PARTS partial histograms over
 * consecutive slices of the rows, added up in slice order, however many
 * threads compute the slices: the sums, and so the model, do not depend on
 * the thread count.
 */
#define HIST_PARTS 4

/* First row of slice q of nparts of the rows idx[job_begin..job_end). */
static inline int64_t
slice_start(const trainer *t, int q, int nparts)
{
	return t->job_begin + (t->job_end - t->job_begin) * q / nparts;
}

/*
 * Run a job over the rows idx[job_begin..job_end) (parts cut by
 * slice_start): on the pool when there are enough rows to share, else in
 * this thread alone.  Returns the number of parts.
 */
static int
run_job(trainer *t, pool_fn fn)
{
	if (t->job_end - t->job_begin < (int64_t) PARALLEL_MIN_ROWS * HIST_PARTS)
	{
		fn(t, 0, 1);
		return 1;
	}
	pool_run(&t->pool, fn, t);
	return t->pool.nworkers + 1;
}

static void
hist_part(void *arg, int part, int nparts)
{
	trainer    *t = arg;

	for (int q = part; q < HIST_PARTS; q += nparts)
	{
		int64_t		b = slice_start(t, q, HIST_PARTS);
		int64_t		e = slice_start(t, q + 1, HIST_PARTS);
		double	   *h = q == 0 ? t->job_hist : t->part_hist[q - 1];

		if (q > 0)
			memset(h, 0, sizeof(double) * t->hist_doubles);
		hist_add_rows(t, h, b, e);
	}
}

/* Histogram of the rows idx[begin..end) (h zeroed), threads sharing rows. */
static void
hist_build(trainer *t, double *h, int64_t begin, int64_t end)
{
	if (t->part_hist == NULL || end - begin < (int64_t) PARALLEL_MIN_ROWS * HIST_PARTS)
	{
		hist_add_rows(t, h, begin, end);
		return;
	}
	t->job_hist = h;
	t->job_begin = begin;
	t->job_end = end;
	pool_run(&t->pool, hist_part, t);
	for (int q = 1; q < HIST_PARTS; q++)
	{
		const double *x = t->part_hist[q - 1];

		for (size_t i = 0; i < t->hist_doubles; i++)
			h[i] += x[i];
	}
}

/*
 * Boosting: the hessians and negative gradients (rg) of the rows
 * idx[0..job_end) at the round's margins, for tree group t->group; slice
 * part of nparts (rows are independent, so threads change no value).
 */
static void
grad_part(void *arg, int part, int nparts)
{
	trainer    *t = arg;
	const mlx_tree_data *d = t->data;
	int			objective = t->p->objective;
	int			ngroups = t->job_ngroups;
	int			g = t->group;
	int64_t		b = t->job_end * part / nparts;
	int64_t		e = t->job_end * (part + 1) / nparts;

	for (int64_t i = b; i < e; i++)
	{
		uint32_t	r = t->idx[i];
		double		gr,
					he;

		if (objective == MLX_TREE_REGRESSION)
		{
			gr = t->job_margin[r] - d->y[r];
			he = 1;
		}
		else if (objective == MLX_TREE_BINARY)
		{
			double		pr = 1 / (1 + exp(-t->job_margin[r]));

			gr = pr - d->y[r];
			he = fmax(pr * (1 - pr), 1e-16);
		}
		else
		{
			double		pr = t->job_prob[(size_t) r * ngroups + g];

			gr = pr - ((int) d->y[r] == g ? 1.0 : 0.0);
			he = fmax(2 * pr * (1 - pr), 1e-16);
		}
		t->rg[2 * (size_t) r] = he;
		t->rg[2 * (size_t) r + 1] = -gr;
	}
}

/* sum_c S_c^2 / (W + lambda) of stats s (stride doubles) */
static inline double
node_score(const double *s, int nch, double lambda)
{
	double		num = 0;
	double		den = s[0] + lambda;

	if (den <= 0)
		return 0;
	for (int c = 0; c < nch; c++)
		num += s[1 + c] * s[1 + c];
	return num / den;
}

typedef struct split_choice
{
	int32_t		feature;
	int32_t		bin;			/* left: bins 1..bin */
	bool		default_left;
	double		gain;
} split_choice;

/*
 * Best split of a node with histogram h and totals tot (stride doubles),
 * over the candidate features cand[0..ncand).
 */
static void
best_split(trainer *t, const double *h, const double *tot,
		   const int32_t *cand, int32_t ncand, split_choice *best)
{
	const int	st = t->stride;
	const int	nch = t->nch;
	const double lambda = t->p->lambda;
	const double mcw = t->p->min_child_weight;
	double	   *L = t->scratch;
	double	   *R = L + st;
	double	   *LM = R + st;
	double	   *RM = LM + st;
	double	   *BL = RM + st;	/* totals of the best split's left child */
	double		parent = node_score(tot, nch, lambda);

	best->feature = -1;
	best->gain = 0;
	for (int32_t k = 0; k < ncand; k++)
	{
		int32_t		f = cand[k];
		const double *base = h + (size_t) st * t->off[f];
		int32_t		nb = t->data->ncuts[f] + 1;
		const double *M = base;
		bool		has_missing = M[0] > 0;

		memset(L, 0, sizeof(double) * st);
		for (int32_t b = 1; b < nb; b++)
		{
			const double *hb = base + (size_t) st * b;
			double		g;

			if (hb[0] == 0 && b > 1)
			{
				/* an empty bin: the same split as the previous one */
				bool		nonzero = false;

				for (int c = 0; c < nch; c++)
					nonzero |= hb[1 + c] != 0;
				if (!nonzero)
					continue;
			}
			for (int c = 0; c < st; c++)
			{
				L[c] += hb[c];
				R[c] = tot[c] - L[c] - M[c];
			}
			/* missing values to the right */
			for (int c = 0; c < st; c++)
				RM[c] = R[c] + M[c];
			if (L[0] >= mcw && RM[0] >= mcw && L[0] > 0 && RM[0] > 0)
			{
				g = node_score(L, nch, lambda) + node_score(RM, nch, lambda) - parent;
				if (g > best->gain)
				{
					best->gain = g;
					best->feature = f;
					best->bin = b;
					/* without missing values, default to the heavier side */
					best->default_left = has_missing ? false : (L[0] >= RM[0]);
					memcpy(BL, L, sizeof(double) * st);
				}
			}
			if (has_missing)
			{
				for (int c = 0; c < st; c++)
					LM[c] = L[c] + M[c];
				if (LM[0] >= mcw && R[0] >= mcw && LM[0] > 0 && R[0] > 0)
				{
					g = node_score(LM, nch, lambda) + node_score(R, nch, lambda) - parent;
					if (g > best->gain)
					{
						best->gain = g;
						best->feature = f;
						best->bin = b;
						best->default_left = true;
						memcpy(BL, LM, sizeof(double) * st);
					}
				}
			}
		}
	}
}

/* Totals of a histogram: the sum over any one feature's bins. */
static void
hist_totals(trainer *t, const double *h, double *tot)
{
	int32_t		f = t->feats[0];
	const double *base = h + (size_t) t->stride * t->off[f];
	int32_t		nb = t->data->ncuts[f] + 2;

	memset(tot, 0, sizeof(double) * t->stride);
	for (int32_t b = 0; b < nb; b++)
		for (int c = 0; c < t->stride; c++)
			tot[c] += base[(size_t) t->stride * b + c];
}

static inline int
goes_left(const uint8_t *row, int32_t f, int32_t split_bin, bool default_left)
{
	int			b = row[f];

	return (b == 0) ? (int) default_left : (b <= split_bin);
}

/*
 * Slice part of nparts of a partition job: its rows that go left move
 * down to the front of the slice, in order; the others go, in order, to
 * the same positions of tmp.  Branch-free: the side is data, not a jump
 * to mispredict.
 */
static void
partition_part(void *arg, int part, int nparts)
{
	trainer    *t = arg;
	const uint8_t *bins = t->data->bins;
	int32_t		F = t->nfeat;
	int64_t		b = slice_start(t, part, nparts);
	int64_t		e = slice_start(t, part + 1, nparts);
	int64_t		nl = 0,
				nr = 0;

	for (int64_t i = b; i < e; i++)
	{
		uint32_t	r = t->idx[i];
		int			l;

		if (i + PREFETCH_ROWS < e)
			PREFETCH(bins + (size_t) t->idx[i + PREFETCH_ROWS] * F + t->job_feature);
		l = goes_left(bins + (size_t) r * F, t->job_feature, t->job_bin,
					  t->job_default_left);
		t->idx[b + nl] = r;
		t->tmp[b + nr] = r;
		nl += l;
		nr += 1 - l;
	}
	t->job_nleft[part] = nl;
}

/*
 * Stable partition of the rows idx[job_begin..job_end) by the job's split:
 * the left rows, then the right rows, each in their order (a unique
 * result, so the thread count changes nothing).  Large nodes are cut into
 * one slice per thread; the slices' left rows then move together (each
 * moves down, in slice order, so none is overwritten before it moves) and
 * the right rows come back from tmp.  Returns the number of left rows.
 */
static int64_t
partition(trainer *t)
{
	int			nparts = run_job(t, partition_part);
	int64_t		nl = 0,
				nr = 0;

	for (int q = 0; q < nparts; q++)
	{
		int64_t		b = slice_start(t, q, nparts);

		if (b != t->job_begin + nl)
			memmove(t->idx + t->job_begin + nl, t->idx + b,
					sizeof(uint32_t) * t->job_nleft[q]);
		nl += t->job_nleft[q];
	}
	for (int q = 0; q < nparts; q++)
	{
		int64_t		b = slice_start(t, q, nparts);
		int64_t		r = slice_start(t, q + 1, nparts) - b - t->job_nleft[q];

		memcpy(t->idx + t->job_begin + nl + nr, t->tmp + b, sizeof(uint32_t) * r);
		nr += r;
	}
	return nl;
}

/* Add a leaf's values to row r's margins (or forest sums). */
static inline void
add_leaf(trainer *t, uint32_t r, const double *v)
{
	double	   *m = t->leaf_margin + (size_t) r * t->leaf_stride + t->group;

	for (int c = 0; c < t->leaf_acc; c++)
		m[c] += v[c];
}

/*
 * Slice part of nparts of a leaf update: each row adds the values of the
 * leaf it reaches, job_lv when the job's split sends it left (or there is
 * no split: job_feature < 0), job_rv otherwise.  Every row is its own, so
 * the slices change no sum.
 */
static void
leaf_part(void *arg, int part, int nparts)
{
	trainer    *t = arg;
	const uint8_t *bins = t->data->bins;
	int32_t		F = t->nfeat;
	int32_t		f = t->job_feature;
	int64_t		b = slice_start(t, part, nparts);
	int64_t		e = slice_start(t, part + 1, nparts);

	for (int64_t i = b; i < e; i++)
	{
		uint32_t	r = t->idx[i];

		if (i + PREFETCH_ROWS < e)
		{
			uint32_t	ahead = t->idx[i + PREFETCH_ROWS];

			if (f >= 0)
				PREFETCH(bins + (size_t) ahead * F + f);
			PREFETCH(t->leaf_margin + (size_t) ahead * t->leaf_stride + t->group);
		}
		add_leaf(t, r, f < 0 || goes_left(bins + (size_t) r * F, f, t->job_bin,
										   t->job_default_left) ? t->job_lv : t->job_rv);
	}
}

/*
 * Add leaf values to the margins of the rows idx[begin..end): split by
 * (feature, bin, default_left) into lv and rv, or all lv when feature < 0.
 */
static void
add_leaves(trainer *t, int64_t begin, int64_t end, int32_t feature,
		   int32_t bin, bool default_left, const double *lv, const double *rv)
{
	t->job_begin = begin;
	t->job_end = end;
	t->job_feature = feature;
	t->job_bin = bin;
	t->job_default_left = default_left;
	t->job_lv = lv;
	t->job_rv = rv;
	(void) run_job(t, leaf_part);
}

/*
 * Make node n a leaf of a node's totals T (stride doubles): cover W and
 * the values scale * S_c / (W + lambda).
 */
static void
set_leaf(trainer *t, int32_t n, const double *T, double scale)
{
	node_arrays *a = &t->nodes;
	int			lw = t->p->kind == MLX_TREE_GRADIENT_BOOSTING ? 1 : t->nch;
	double		den = T[0] + t->p->lambda;

	a->feature[n] = -1;
	a->threshold[n] = 0;
	a->left[n] = a->right[n] = -1;
	a->default_left[n] = 0;
	a->gain[n] = 0;
	a->cover[n] = T[0];
	a->split_bin[n] = 0;
	for (int c = 0; c < lw; c++)
		a->value[(size_t) n * lw + c] = den > 0 ? scale * T[1 + c] / den : 0;
}

/*
 * Grow one tree over the rows idx[0..nrows_tree); appends its nodes.  The
 * leaf values are scaled by 'scale' (the learning rate for boosting).
 */
static mlx_status
grow_tree(trainer *t, int64_t nrows_tree, double scale)
{
	const mlx_tree_params *p = t->p;
	const bool boosting = p->kind == MLX_TREE_GRADIENT_BOOSTING;
	const int	lw = boosting ? 1 : t->nch;
	const int	st = t->stride;
	int32_t		tree_base = t->nodes.n;
	int			sp = 0;
	double		tot[1 + MLX_TREE_MAX_CLASSES];
	double	   *root;

	if (!nodes_reserve(t, 1))
		return MLX_ENOMEM;
	root = hist_get(t);
	if (root == NULL)
		return MLX_ENOMEM;
	hist_build(t, root, 0, nrows_tree);
	t->nodes.n++;
	t->stack[sp++] = (pending)
	{
		tree_base, 0, 0, nrows_tree, root
	};
	while (sp > 0)
	{
		pending		pd = t->stack[--sp];
		node_arrays *a = &t->nodes;
		int32_t		n = pd.node;
		split_choice best;
		const int32_t *cand = t->feats;
		int32_t		ncand = t->nfeats;

		if (mlx_interrupted(t->ctx))
		{
			hist_put(t, pd.hist);
			while (sp > 0)
				hist_put(t, t->stack[--sp].hist);
			return MLX_EINTR;
		}
		hist_totals(t, pd.hist, tot);
		set_leaf(t, n, tot, scale);

		best.feature = -1;
		best.bin = 0;
		best.default_left = false;
		best.gain = 0;
		if (pd.depth < p->max_depth && pd.end - pd.begin >= 2 &&
			tot[0] >= 2 * p->min_child_weight)
		{
			/* a random subset of the features per split (forests) */
			if (p->max_features > 0 && p->max_features < t->nfeats)
			{
				memcpy(t->split_feats, t->feats, sizeof(int32_t) * t->nfeats);
				for (int32_t i = 0; i < p->max_features; i++)
				{
					int32_t		j = i + (int32_t) rng_below(&t->rng, (uint64_t) (t->nfeats - i));
					int32_t		x = t->split_feats[i];

					t->split_feats[i] = t->split_feats[j];
					t->split_feats[j] = x;
				}
				cand = t->split_feats;
				ncand = p->max_features;
			}
			best_split(t, pd.hist, tot, cand, ncand, &best);
			if (best.feature >= 0)
			{
				double		min_gain = boosting ? (p->gamma > 1e-6 ? p->gamma : 1e-6) :
				1e-12 * node_score(tot, t->nch, p->lambda);

				if (!(best.gain > min_gain))
					best.feature = -1;
			}
		}
		if (best.feature < 0)
		{
			hist_put(t, pd.hist);
			if (t->leaf_margin != NULL)
			{
				const double *v = a->value + (size_t) n * lw;

				add_leaves(t, pd.begin, pd.end, -1, 0, false, v, v);
			}
			continue;
		}

		/* split: children at the end, partition the rows stably */
		{
			int64_t		nl = 0,
						nr = 0;
			int32_t		li,
						ri;
			double	   *small_hist;
			bool		small_left;
			pending		lp,
						rp;

			if (!nodes_reserve(t, 2))
			{
				hist_put(t, pd.hist);
				while (sp > 0)
					hist_put(t, t->stack[--sp].hist);
				return MLX_ENOMEM;
			}
			a = &t->nodes;
			li = a->n++;
			ri = a->n++;
			a->feature[n] = best.feature;
			a->threshold[n] = t->data->cuts[best.feature][best.bin - 1];
			a->left[n] = li - tree_base;
			a->right[n] = ri - tree_base;
			a->default_left[n] = best.default_left ? 1 : 0;
			a->gain[n] = best.gain;
			a->split_bin[n] = best.bin;

			/*
			 * Children at max_depth stay leaves: their values come from the
			 * split's sums, and the rows need no partition and no
			 * histogram, only (for the margins) the leaf they reach.
			 */
			if (pd.depth + 1 >= p->max_depth)
			{
				double	   *BL = t->scratch + 4 * st;
				double	   *BR = t->scratch + 5 * st;

				for (int c = 0; c < st; c++)
					BR[c] = tot[c] - BL[c];
				set_leaf(t, li, BL, scale);
				set_leaf(t, ri, BR, scale);
				hist_put(t, pd.hist);
				if (t->leaf_margin != NULL)
					add_leaves(t, pd.begin, pd.end, best.feature, best.bin,
							   best.default_left, a->value + (size_t) li * lw,
							   a->value + (size_t) ri * lw);
				continue;
			}
			t->job_begin = pd.begin;
			t->job_end = pd.end;
			t->job_feature = best.feature;
			t->job_bin = best.bin;
			t->job_default_left = best.default_left;
			nl = partition(t);
			nr = pd.end - pd.begin - nl;

			lp = (pending)
			{
				li, pd.depth + 1, pd.begin, pd.begin + nl, NULL
			};
			rp = (pending)
			{
				ri, pd.depth + 1, pd.begin + nl, pd.end, NULL
			};
			small_left = nl <= nr;
			small_hist = hist_get(t);
			if (small_hist == NULL)
			{
				hist_put(t, pd.hist);
				while (sp > 0)
					hist_put(t, t->stack[--sp].hist);
				return MLX_ENOMEM;
			}
			if (small_left)
				hist_build(t, small_hist, lp.begin, lp.end);
			else
				hist_build(t, small_hist, rp.begin, rp.end);
			/* the parent's buffer becomes the larger child's */
			{
				double	   *ph = pd.hist;
				size_t		nd = t->hist_doubles;

				for (size_t i = 0; i < nd; i++)
					ph[i] -= small_hist[i];
			}
			lp.hist = small_left ? small_hist : pd.hist;
			rp.hist = small_left ? pd.hist : small_hist;
			t->stack[sp++] = rp;
			t->stack[sp++] = lp;
		}
	}
	return MLX_OK;
}

/* Leaf (absolute node index) of binned row 'row' in the tree at base. */
static inline int32_t
binned_leaf(const node_arrays *a, int32_t base, const uint8_t *row)
{
	int32_t		n = base;

	while (a->feature[n] >= 0)
		n = base + (goes_left(row, a->feature[n], a->split_bin[n], a->default_left[n]) ?
					a->left[n] : a->right[n]);
	return n;
}

double
mlx_tree_train_memory(int64_t nrows, int32_t nfeat, int64_t total_bins,
					  const mlx_tree_params *p)
{
	bool		boosting = p->kind == MLX_TREE_GRADIENT_BOOSTING;
	int			nch = (!boosting && p->objective != MLX_TREE_REGRESSION) ? p->nclasses : 1;
	int			ngroups = p->objective == MLX_TREE_MULTICLASS ? p->nclasses : 1;
	/* weights and values, two row indexes, channels (classification trees) */
	double		per_row = 8.0 * 2 + 4 * 2 + (nch > 1 ? 4 : 0);
	double		hist = 8.0 * (double) total_bins * (nch + 1);

	if (boosting)
	{
		/* margins; multiclass: probabilities and the round's rows */
		per_row += 8.0 * ngroups;
		if (ngroups > 1)
			per_row += 8.0 * ngroups + 4;
		if (p->subsample < 1)
			per_row += 1;
	}
	else
		per_row += 4;			/* bootstrap counts */
	/* predictions of the training rows (and the forests' sums) */
	if (p->train_pred != NULL)
		per_row += 8.0 * ngroups + (boosting ? 0 : 8.0 * nch);
	/* pending and free histograms, the partial ones of the threads */
	return per_row * (double) nrows + hist * (p->max_depth + 3 + HIST_PARTS - 1) +
		64.0 * nfeat + 65536;
}

static void
set_err(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
}

/* loss of margins/predictions against y: mean squared error or log-loss */
static double
eval_loss(const mlx_tree_params *p, int ngroups, const double *y,
		  const double *margin, int64_t n)
{
	double		sum = 0;

	if (n == 0)
		return NAN;
	for (int64_t i = 0; i < n; i++)
	{
		const double *m = margin + (size_t) i * ngroups;

		if (p->objective == MLX_TREE_REGRESSION)
		{
			double		d = m[0] - y[i];

			sum += d * d;
		}
		else if (p->objective == MLX_TREE_BINARY)
		{
			/* log(1 + exp(-z)) for the true class, stably */
			double		z = y[i] > 0.5 ? m[0] : -m[0];

			sum += z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
		}
		else
		{
			double		mx = m[0],
						s = 0;

			for (int g = 1; g < ngroups; g++)
				if (m[g] > mx)
					mx = m[g];
			for (int g = 0; g < ngroups; g++)
				s += exp(m[g] - mx);
			sum += log(s) + mx - m[(int) y[i]];
		}
	}
	sum /= (double) n;
	return p->objective == MLX_TREE_REGRESSION ? sqrt(sum) : sum;
}

/* Every target finite, and a class index for classification. */
static bool
targets_ok(const mlx_tree_data *d, const mlx_tree_params *p)
{
	bool		classify = p->objective != MLX_TREE_REGRESSION;

	for (int64_t i = 0; i < d->nrows; i++)
	{
		double		y = d->y[i];

		if (!isfinite(y) || (classify && (y < 0 || y >= p->nclasses || y != floor(y))))
			return false;
	}
	return true;
}

static mlx_status
check_params(const mlx_tree_data *d, const mlx_tree_params *p, char *errbuf,
			 size_t errlen)
{
	if (d->nrows < 1 || d->nrows > (int64_t) UINT32_MAX)
		return set_err(errbuf, errlen, "the number of rows is out of range"), MLX_EINVAL;
	if (d->nfeat < 1 || d->nfeat > MLX_TREE_MAX_FEATURES)
		return set_err(errbuf, errlen, "the number of features is out of range"), MLX_EINVAL;
	if (p->kind < MLX_TREE_DECISION_TREE || p->kind > MLX_TREE_GRADIENT_BOOSTING)
		return set_err(errbuf, errlen, "unknown tree kind"), MLX_EINVAL;
	if (p->objective == MLX_TREE_REGRESSION ? p->nclasses != 0 :
		p->objective == MLX_TREE_BINARY ? p->nclasses != 2 :
		p->objective == MLX_TREE_MULTICLASS ? (p->nclasses < 3 || p->nclasses > MLX_TREE_MAX_CLASSES) : true)
		return set_err(errbuf, errlen, "objective and number of classes disagree"), MLX_EINVAL;
	if (p->n_estimators < 1 ||
		/* boosting grows a tree per class and round, forests one per estimator */
		(double) p->n_estimators *
		(p->kind == MLX_TREE_GRADIENT_BOOSTING && p->objective == MLX_TREE_MULTICLASS ? p->nclasses : 1) > MLX_TREE_MAX_TREES ||
		(p->kind == MLX_TREE_DECISION_TREE && p->n_estimators != 1))
		return set_err(errbuf, errlen, "n_estimators is out of range"), MLX_EINVAL;
	if (p->max_depth < 1 || p->max_depth > MLX_TREE_MAX_DEPTH)
		return set_err(errbuf, errlen, "max_depth is out of range"), MLX_EINVAL;
	if (!(p->learning_rate > 0 && p->learning_rate <= 1) ||
		!(p->min_child_weight >= 0 && isfinite(p->min_child_weight)) ||
		!(p->lambda >= 0 && isfinite(p->lambda)) ||
		!(p->gamma >= 0 && isfinite(p->gamma)) ||
		!(p->subsample > 0 && p->subsample <= 1) ||
		!(p->colsample > 0 && p->colsample <= 1) ||
		p->max_features < 0 || p->max_features > d->nfeat ||
		p->early_stopping_rounds < 0)
		return set_err(errbuf, errlen, "a parameter is out of range"), MLX_EINVAL;
	if (p->nthreads < 1 || p->nthreads > MLX_TREE_MAX_THREADS)
		return set_err(errbuf, errlen, "nthreads is out of range"), MLX_EINVAL;
	for (int32_t j = 0; j < d->nfeat; j++)
		if (d->ncuts[j] < 0 || d->ncuts[j] > MLX_TREE_MAX_BINS - 1)
			return set_err(errbuf, errlen, "a feature has too many bins"), MLX_EINVAL;
	return MLX_OK;
}

mlx_status
mlx_tree_train(const mlx_tree_data *d, const mlx_tree_data *valid,
			   const mlx_tree_params *p, const mlx_ctx *ctx,
			   mlx_tree_fit *fit, double *loss, int *nrounds,
			   char *errbuf, size_t errlen)
{
	trainer		t;
	mlx_status	st;
	const bool	boosting = p->kind == MLX_TREE_GRADIENT_BOOSTING;
	const bool	classify = p->objective != MLX_TREE_REGRESSION;
	const int	ngroups = p->objective == MLX_TREE_MULTICLASS ? p->nclasses : 1;
	const int64_t n = d->nrows;
	const int32_t F = d->nfeat;
	double	   *margin = NULL;	/* boosting: n * ngroups */
	double	   *vmargin = NULL; /* boosting with valid: nvalid * ngroups */
	uint32_t   *mult = NULL;	/* forests: bootstrap multiplicity */
	uint32_t   *sel = NULL;		/* multiclass boosting: the round's rows */
	double	   *prob = NULL;	/* multiclass boosting: n * ngroups */
	uint8_t    *insample = NULL;	/* boosting with subsample < 1 */
	double	   *acc = NULL;		/* forests with train_pred: n * nch sums */
	pthread_t  *threads = NULL;
	pool_worker *workers = NULL;
	int			npart_hist = 0;
	int32_t    *tree_start = NULL;
	int32_t		ntrees = 0;
	int32_t		max_trees;
	double		base[MLX_TREE_MAX_CLASSES];
	double		best_vloss = INFINITY;
	int			best_round = -1;
	int			rounds = 0;
	int64_t		nvalid = (valid != NULL && boosting && p->early_stopping_rounds > 0) ? valid->nrows : 0;

	memset(fit, 0, sizeof(*fit));
	if (nrounds)
		*nrounds = 0;
	st = check_params(d, p, errbuf, errlen);
	if (st != MLX_OK)
		return st;
	if (!targets_ok(d, p))
		return set_err(errbuf, errlen, "a target value is out of range"), MLX_EINVAL;
	if (nvalid > 0 &&
		(valid->nfeat != F || !targets_ok(valid, p)))
		return set_err(errbuf, errlen, "the validation data does not match the training data"), MLX_EINVAL;

	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	t.data = d;
	t.p = p;
	t.nfeat = F;
	t.nch = (!boosting && classify) ? p->nclasses : 1;
	t.stride = t.nch + 1;
	t.rng = p->seed ^ UINT64_C(0x6A09E667F3BCC909);
	t.off = mlx_alloc(ctx, sizeof(int64_t) * (F + 1));
	if (t.off == NULL)
		return set_err(errbuf, errlen, "out of memory"), MLX_ENOMEM;
	t.off[0] = 0;
	for (int32_t j = 0; j < F; j++)
		t.off[j + 1] = t.off[j] + d->ncuts[j] + 2;
	t.total_bins = t.off[F];
	t.hist_doubles = (size_t) t.total_bins * t.stride;
	t.max_hists = p->max_depth + 3;
	t.free_hists = mlx_alloc(ctx, sizeof(double *) * t.max_hists);
	t.stack = mlx_alloc(ctx, sizeof(pending) * (p->max_depth + 3));
	t.rg = mlx_alloc(ctx, sizeof(double) * 2 * n);
	t.idx = mlx_alloc(ctx, sizeof(uint32_t) * n);
	t.tmp = mlx_alloc(ctx, sizeof(uint32_t) * n);
	t.feats = mlx_alloc(ctx, sizeof(int32_t) * F);
	t.split_feats = mlx_alloc(ctx, sizeof(int32_t) * F);
	t.scratch = mlx_alloc(ctx, sizeof(double) * 6 * t.stride);
	if (t.free_hists == NULL || t.stack == NULL || t.rg == NULL ||
		t.idx == NULL || t.tmp == NULL || t.feats == NULL || t.split_feats == NULL ||
		t.scratch == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}
	if (n >= (int64_t) PARALLEL_MIN_ROWS * HIST_PARTS)
	{
		int			want = p->nthreads;

		t.part_hist = mlx_alloc0(ctx, sizeof(double *) * (HIST_PARTS - 1));
		if (t.part_hist == NULL)
		{
			st = MLX_ENOMEM;
			goto done;
		}
		for (int i = 0; i < HIST_PARTS - 1; i++)
		{
			t.part_hist[i] = mlx_alloc(ctx, sizeof(double) * t.hist_doubles);
			if (t.part_hist[i] == NULL)
			{
				st = MLX_ENOMEM;
				goto done;
			}
			npart_hist++;
		}
		if (want > 1)
		{
			threads = mlx_alloc(ctx, sizeof(pthread_t) * (want - 1));
			workers = mlx_alloc(ctx, sizeof(pool_worker) * (want - 1));
			if (threads == NULL || workers == NULL)
			{
				st = MLX_ENOMEM;
				goto done;
			}
			pool_start(&t.pool, want, threads, workers);
		}
	}
	if (!boosting && classify)
	{
		t.rc = mlx_alloc(ctx, sizeof(int32_t) * n);
		if (t.rc == NULL)
		{
			st = MLX_ENOMEM;
			goto done;
		}
		for (int64_t i = 0; i < n; i++)
			t.rc[i] = (int32_t) d->y[i];
	}

	/* base scores */
	for (int g = 0; g < ngroups; g++)
		base[g] = 0;
	if (boosting)
	{
		double		mean = 0;

		for (int64_t i = 0; i < n; i++)
			mean += d->y[i];
		mean /= (double) n;
		if (p->objective == MLX_TREE_REGRESSION)
			base[0] = mean;
		else if (p->objective == MLX_TREE_BINARY)
		{
			double		q = fmin(fmax(mean, 1e-6), 1 - 1e-6);

			base[0] = log(q / (1 - q));
		}
		margin = mlx_alloc(ctx, sizeof(double) * n * ngroups);
		if (ngroups > 1)
		{
			sel = mlx_alloc(ctx, sizeof(uint32_t) * n);
			prob = mlx_alloc(ctx, sizeof(double) * n * ngroups);
		}
		if (p->subsample < 1)
			insample = mlx_alloc(ctx, n);
		if (margin == NULL || (ngroups > 1 && (sel == NULL || prob == NULL)) ||
			(p->subsample < 1 && insample == NULL))
		{
			st = MLX_ENOMEM;
			goto done;
		}
		for (int64_t i = 0; i < n; i++)
			for (int g = 0; g < ngroups; g++)
				margin[(size_t) i * ngroups + g] = base[g];
		if (nvalid > 0)
		{
			vmargin = mlx_alloc(ctx, sizeof(double) * nvalid * ngroups);
			if (vmargin == NULL)
			{
				st = MLX_ENOMEM;
				goto done;
			}
			for (int64_t i = 0; i < nvalid; i++)
				for (int g = 0; g < ngroups; g++)
					vmargin[(size_t) i * ngroups + g] = base[g];
		}
	}
	else
	{
		if (p->kind == MLX_TREE_RANDOM_FOREST && p->bootstrap)
		{
			mult = mlx_alloc(ctx, sizeof(uint32_t) * n);
			if (mult == NULL)
			{
				st = MLX_ENOMEM;
				goto done;
			}
		}
		if (p->train_pred != NULL)
		{
			acc = mlx_alloc0(ctx, sizeof(double) * n * t.nch);
			if (acc == NULL)
			{
				st = MLX_ENOMEM;
				goto done;
			}
		}
	}

	max_trees = p->n_estimators * ngroups;
	if (!boosting)
		max_trees = p->n_estimators;
	tree_start = mlx_alloc(ctx, sizeof(int32_t) * (max_trees + 1));
	if (tree_start == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}

	for (int round = 0; round < p->n_estimators; round++)
	{
		int64_t		nsel = 0;

		if (mlx_interrupted(ctx))
		{
			st = MLX_EINTR;
			goto done;
		}
		/* the features of this tree (boosting: colsample by tree) */
		t.nfeats = F;
		for (int32_t j = 0; j < F; j++)
			t.feats[j] = j;
		if (boosting && p->colsample < 1)
		{
			int32_t		keep = (int32_t) floor(p->colsample * F + 0.5);

			if (keep < 1)
				keep = 1;
			for (int32_t i = 0; i < keep; i++)
			{
				int32_t		j = i + (int32_t) rng_below(&t.rng, (uint64_t) (F - i));
				int32_t		x = t.feats[i];

				t.feats[i] = t.feats[j];
				t.feats[j] = x;
			}
			t.nfeats = keep;
			/* ascending, so the histogram reads each row front to back */
			qsort(t.feats, keep, sizeof(int32_t), cmp_int32);
		}

		if (boosting)
		{
			/* rows of this round (the same for every class's tree) */
			for (int64_t i = 0; i < n; i++)
			{
				bool		in = p->subsample >= 1 || rng_unit(&t.rng) < p->subsample;

				if (in)
					t.idx[nsel++] = (uint32_t) i;
				if (insample != NULL)
					insample[i] = in;
			}
			if (nsel == 0)
			{
				t.idx[nsel] = (uint32_t) rng_below(&t.rng, (uint64_t) n);
				insample[t.idx[nsel++]] = 1;
			}
			if (ngroups > 1)
			{
				/* class probabilities at the start of the round */
				memcpy(sel, t.idx, sizeof(uint32_t) * nsel);
				for (int64_t i = 0; i < n; i++)
				{
					const double *m = margin + (size_t) i * ngroups;
					double	   *pr = prob + (size_t) i * ngroups;
					double		mx = m[0],
								s = 0;

					for (int c = 1; c < ngroups; c++)
						if (m[c] > mx)
							mx = m[c];
					for (int c = 0; c < ngroups; c++)
						s += (pr[c] = exp(m[c] - mx));
					for (int c = 0; c < ngroups; c++)
						pr[c] /= s;
				}
			}
			/* rows outside the subsample walk the trees afterwards */
			t.leaf_margin = margin;
			t.leaf_stride = ngroups;
			t.leaf_acc = 1;
			for (int g = 0; g < ngroups; g++)
			{
				/* gradients of the margins at the start of the round */
				t.group = g;
				t.job_end = nsel;
				t.job_margin = margin;
				t.job_prob = prob;
				t.job_ngroups = ngroups;
				pool_run(&t.pool, grad_part, &t);
				tree_start[ntrees] = t.nodes.n;
				st = grow_tree(&t, nsel, p->learning_rate);
				if (st != MLX_OK)
					goto done;
				ntrees++;
				/* the partition reordered the rows: ascending again */
				if (g + 1 < ngroups)
					memcpy(t.idx, sel, sizeof(uint32_t) * nsel);
			}
			t.leaf_margin = NULL;
			for (int g = 0; g < ngroups; g++)
			{
				int32_t		tb = tree_start[ntrees - ngroups + g];

				if (nsel < n)
				{
					/* rows left out of the subsample walk the new tree */
					for (int64_t i = 0; i < n; i++)
					{
						int32_t		leaf;

						if (insample[i])
							continue;
						leaf = binned_leaf(&t.nodes, tb, d->bins + (size_t) i * F);
						margin[(size_t) i * ngroups + g] += t.nodes.value[leaf];
					}
				}
				for (int64_t i = 0; i < nvalid; i++)
				{
					int32_t		leaf = binned_leaf(&t.nodes, tb, valid->bins + (size_t) i * F);

					vmargin[(size_t) i * ngroups + g] += t.nodes.value[leaf];
				}
			}
			rounds = round + 1;
			if (loss != NULL)
				loss[round] = eval_loss(p, ngroups, d->y, margin, n);
			if (nvalid > 0)
			{
				double		vl = eval_loss(p, ngroups, valid->y, vmargin, nvalid);

				if (vl < best_vloss)
				{
					best_vloss = vl;
					best_round = round;
				}
				else if (round - best_round >= p->early_stopping_rounds)
					break;
			}
		}
		else
		{
			/* decision tree and forest: bootstrap or all rows */
			if (mult != NULL)
			{
				memset(mult, 0, sizeof(uint32_t) * n);
				for (int64_t i = 0; i < n; i++)
					mult[rng_below(&t.rng, (uint64_t) n)]++;
			}
			for (int64_t i = 0; i < n; i++)
			{
				double		w = mult ? (double) mult[i] : 1.0;

				if (w == 0)
					continue;
				t.idx[nsel++] = (uint32_t) i;
				t.rg[2 * i] = w;
				t.rg[2 * i + 1] = classify ? w : w * d->y[i];
			}
			tree_start[ntrees] = t.nodes.n;
			/* training predictions: the rows of each leaf, then the rest */
			t.leaf_margin = acc;
			t.leaf_stride = t.nch;
			t.group = 0;
			t.leaf_acc = t.nch;
			st = grow_tree(&t, nsel, 1.0);
			t.leaf_margin = NULL;
			if (st != MLX_OK)
				goto done;
			if (acc != NULL && nsel < n)
			{
				for (int64_t i = 0; i < n; i++)
				{
					int32_t		leaf;

					if (mult[i] != 0)
						continue;
					leaf = binned_leaf(&t.nodes, tree_start[ntrees], d->bins + (size_t) i * F);
					for (int c = 0; c < t.nch; c++)
						acc[(size_t) i * t.nch + c] += t.nodes.value[(size_t) leaf * t.nch + c];
				}
			}
			ntrees++;
			rounds = round + 1;
		}
	}
	if (nvalid > 0 && best_round >= 0 && best_round + 1 < rounds)
	{
		/* keep the trees of the best round */
		ntrees = (best_round + 1) * ngroups;
		t.nodes.n = tree_start[ntrees];
		rounds = best_round + 1;
	}
	tree_start[ntrees] = t.nodes.n;

	/* predictions of the training rows, as mlx_tree_predict makes them */
	if (p->train_pred != NULL)
	{
		if (boosting && rounds * ngroups == ntrees)
		{
			for (int64_t i = 0; i < n; i++)
			{
				const double *m = margin + (size_t) i * ngroups;
				double	   *o = p->train_pred + (size_t) i * ngroups;

				if (p->objective == MLX_TREE_REGRESSION)
					o[0] = m[0];
				else if (p->objective == MLX_TREE_BINARY)
					o[0] = 1 / (1 + exp(-m[0]));
				else
				{
					double		mx = m[0],
								sum = 0;

					for (int g = 1; g < ngroups; g++)
						if (m[g] > mx)
							mx = m[g];
					for (int g = 0; g < ngroups; g++)
						sum += (o[g] = exp(m[g] - mx));
					for (int g = 0; g < ngroups; g++)
						o[g] /= sum;
				}
			}
		}
		else if (!boosting && acc != NULL)
		{
			int			first = p->objective == MLX_TREE_BINARY ? 1 : 0;

			for (int64_t i = 0; i < n; i++)
				for (int g = 0; g < ngroups; g++)
					p->train_pred[(size_t) i * ngroups + g] =
						acc[(size_t) i * t.nch + first + g] / ntrees;
		}
		else
		{
			/* early stopping dropped rounds: not kept (NaN) */
			for (int64_t i = 0; i < n * ngroups; i++)
				p->train_pred[i] = NAN;
		}
	}

	/* hand the arrays over */
	fit->kind = (uint8_t) p->kind;
	fit->objective = (uint8_t) p->objective;
	fit->nfeat = F;
	fit->nclasses = classify ? p->nclasses : 0;
	fit->ngroups = ngroups;
	fit->leaf_width = boosting ? 1 : t.nch;
	fit->ntrees = ntrees;
	fit->nnodes = t.nodes.n;
	fit->base_score = mlx_alloc(ctx, sizeof(double) * ngroups);
	if (fit->base_score == NULL || (t.nodes.n == 0 && !nodes_reserve(&t, 1)))
	{
		st = MLX_ENOMEM;
		goto done;
	}
	memcpy(fit->base_score, base, sizeof(double) * ngroups);
	fit->tree_start = tree_start;
	tree_start = NULL;
	fit->feature = t.nodes.feature;
	fit->threshold = t.nodes.threshold;
	fit->left = t.nodes.left;
	fit->right = t.nodes.right;
	fit->default_left = t.nodes.default_left;
	fit->gain = t.nodes.gain;
	fit->cover = t.nodes.cover;
	fit->value = t.nodes.value;
	t.nodes.feature = NULL;
	t.nodes.threshold = NULL;
	t.nodes.left = t.nodes.right = NULL;
	t.nodes.default_left = NULL;
	t.nodes.gain = t.nodes.cover = t.nodes.value = NULL;
	fit->nrows = n;
	fit->best_iteration = rounds;
	fit->max_depth = p->max_depth;
	fit->learning_rate = boosting ? p->learning_rate : 1.0;
	fit->lambda = p->lambda;
	fit->min_child_weight = p->min_child_weight;
	fit->subsample = p->subsample;
	fit->colsample = p->colsample;
	fit->max_features = p->max_features;
	if (nrounds)
		*nrounds = rounds;
	st = MLX_OK;

done:
	pool_stop(&t.pool);
	for (int i = 0; i < npart_hist; i++)
		mlx_free(ctx, t.part_hist[i]);
	mlx_free(ctx, t.part_hist);
	mlx_free(ctx, threads);
	mlx_free(ctx, workers);
	for (int i = 0; i < t.nfree; i++)
		mlx_free(ctx, t.free_hists[i]);
	mlx_free(ctx, t.free_hists);
	mlx_free(ctx, t.stack);
	mlx_free(ctx, t.off);
	mlx_free(ctx, t.rg);
	mlx_free(ctx, t.rc);
	mlx_free(ctx, t.idx);
	mlx_free(ctx, t.tmp);
	mlx_free(ctx, t.feats);
	mlx_free(ctx, t.split_feats);
	mlx_free(ctx, t.scratch);
	mlx_free(ctx, t.nodes.feature);
	mlx_free(ctx, t.nodes.threshold);
	mlx_free(ctx, t.nodes.left);
	mlx_free(ctx, t.nodes.right);
	mlx_free(ctx, t.nodes.default_left);
	mlx_free(ctx, t.nodes.gain);
	mlx_free(ctx, t.nodes.cover);
	mlx_free(ctx, t.nodes.value);
	mlx_free(ctx, t.nodes.split_bin);
	mlx_free(ctx, margin);
	mlx_free(ctx, vmargin);
	mlx_free(ctx, mult);
	mlx_free(ctx, sel);
	mlx_free(ctx, prob);
	mlx_free(ctx, insample);
	mlx_free(ctx, acc);
	mlx_free(ctx, tree_start);
	if (st == MLX_ENOMEM && t.node_limit_hit)
	{
		st = MLX_EINVAL;
		set_err(errbuf, errlen, MLX_TREE_NODE_LIMIT_MSG);
	}
	else if (st == MLX_ENOMEM)
		set_err(errbuf, errlen, "out of memory (or too many nodes)");
	if (st != MLX_OK)
	{
		mlx_free(ctx, fit->base_score);
		memset(fit, 0, sizeof(*fit));
	}
	return st;
}
