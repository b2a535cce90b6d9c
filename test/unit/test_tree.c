/*
 * test_tree.c
 *	  Unit tests of the tree-ensemble trainer (src/core/tree.c): bin edges
 *	  and binning, mlx_tree_train for the decision tree, random forest and
 *	  gradient boosting, and mlx_tree_train_memory.
 *
 * References are independent of the code under test: bin edges and bins
 * worked out by hand, splits found by brute force over every feature and
 * threshold on the raw values (sum of squared errors, n * Gini impurity,
 * XGBoost's -G^2 / (H + lambda)), a greedy reference tree built from that
 * search, Newton leaf values computed here from the gradients, losses
 * recomputed from mlx_tree_predict, early stopping replayed by training
 * 1, 2, ... rounds, and peak memory measured by a size-tracking allocator.
 * Every fit the trainer returns goes through mlx_tree_fit_check.
 *
 * Allocation failures run in a forked child per failing allocation, so a
 * crash on one is reported as a failed case instead of ending the run
 * (set TEST_TREE_CHILD_STDERR=1 to see the children's sanitizer reports).
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by scripts/unit.sh.
 */
#include "core/tree.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define DT MLX_TREE_DECISION_TREE
#define RF MLX_TREE_RANDOM_FOREST
#define GB MLX_TREE_GRADIENT_BOOSTING
#define REG MLX_TREE_REGRESSION
#define BIN MLX_TREE_BINARY
#define MUL MLX_TREE_MULTICLASS

static test_alloc talloc = TEST_ALLOC_INIT;
static const mlx_ctx tctx = {ta_alloc, ta_free, ta_interrupted, &talloc};

/* Clear the failure and interrupt settings, keeping the live count. */
static void
ctx_reset(void)
{
	talloc.fail_after = -1;
	talloc.polls = 0;
	talloc.interrupt_after = -1;
	talloc.interrupt = false;
}

/* ---------- data sets ---------- */

#define MAXF 256
#define MAXK 8

/* raw rows, their targets, bin edges (own or another set's) and bins */
typedef struct dset
{
	int64_t		n;
	int32_t		F;
	double	   *x;				/* n * F, NaN = missing */
	double	   *y;
	uint8_t    *bins;
	double	   *cuts[MAXF];		/* own edges (NULL when borrowed) */
	int32_t		ncuts[MAXF];
	const double *cutp[MAXF];
	mlx_tree_data d;
} dset;

static void
ds_init(dset *s, int64_t n, int32_t F)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->F = F;
	s->x = calloc((size_t) n * F + 1, sizeof(double));
	s->y = calloc((size_t) n + 1, sizeof(double));
	s->bins = calloc((size_t) n * F + 1, 1);
	if (s->x == NULL || s->y == NULL || s->bins == NULL)
		abort();
}

static void
ds_free(dset *s)
{
	free(s->x);
	free(s->y);
	free(s->bins);
	for (int j = 0; j < MAXF; j++)
		free(s->cuts[j]);
	memset(s, 0, sizeof(*s));
}

#define X(s, i, j) ((s)->x[(size_t) (i) * (s)->F + (j)])

/* Bin s's rows with the edges of e (e may be s) and point s->d at them. */
static void
ds_bin_with(dset *s, const dset *e)
{
	for (int64_t i = 0; i < s->n; i++)
		for (int32_t j = 0; j < s->F; j++)
			s->bins[(size_t) i * s->F + j] =
				mlx_tree_bin(X(s, i, j), e->cutp[j], e->ncuts[j]);
	s->d.nrows = s->n;
	s->d.nfeat = s->F;
	s->d.bins = s->bins;
	s->d.y = s->y;
	s->d.cuts = e->cutp;
	s->d.ncuts = e->ncuts;
}

/* Own bin edges of every feature (mlx_tree_bin_edges), then bin. */
static mlx_status
ds_edges(dset *s, int max_bins, bool midpoints)
{
	double	   *col = malloc(sizeof(double) * ((size_t) s->n + 1));
	double	   *scratch = malloc(sizeof(double) * ((size_t) s->n + 1));

	for (int32_t j = 0; j < s->F; j++)
	{
		int			nc = -1;
		mlx_status	st;

		if (s->cuts[j] == NULL)
			s->cuts[j] = malloc(sizeof(double) * MLX_TREE_MAX_BINS);
		for (int64_t i = 0; i < s->n; i++)
			col[i] = X(s, i, j);
		st = mlx_tree_bin_edges(col, s->n, max_bins, midpoints, s->cuts[j], &nc,
								scratch);
		if (st != MLX_OK)
		{
			free(col);
			free(scratch);
			return st;
		}
		s->ncuts[j] = nc;
		s->cutp[j] = s->cuts[j];
	}
	free(col);
	free(scratch);
	ds_bin_with(s, s);
	return MLX_OK;
}

/* ---------- fits ---------- */

static mlx_tree_params
params(int kind, int objective, int nclasses)
{
	mlx_tree_params p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.objective = objective;
	p.nclasses = nclasses;
	p.n_estimators = kind == DT ? 1 : 10;
	p.learning_rate = kind == GB ? 0.3 : 1;
	p.max_depth = kind == GB ? 3 : 6;
	p.min_child_weight = 1;
	p.lambda = kind == GB ? 1 : 0;
	p.gamma = 0;
	p.subsample = 1;
	p.colsample = 1;
	p.max_features = 0;
	p.bootstrap = kind == RF;
	p.seed = 42;
	p.early_stopping_rounds = 0;
	p.nthreads = 1;
	return p;
}

static void
fit_free(const mlx_ctx *c, mlx_tree_fit *f)
{
	mlx_free(c, f->base_score);
	mlx_free(c, f->tree_start);
	mlx_free(c, f->feature);
	mlx_free(c, f->threshold);
	mlx_free(c, f->left);
	mlx_free(c, f->right);
	mlx_free(c, f->default_left);
	mlx_free(c, f->gain);
	mlx_free(c, f->cover);
	mlx_free(c, f->value);
	memset(f, 0, sizeof(*f));
}

static int	n_fits_checked;

/*
 * Train through tctx; on MLX_OK the fit must pass mlx_tree_fit_check
 * (item 11 of the brief: every fit produced here is checked).  Returns
 * the status; a fit that fails the check is a test failure.
 */
static mlx_status
train_st(const dset *tr, const dset *va, const mlx_tree_params *p,
		 mlx_tree_fit *fit, double *loss, int *nrounds, char *err, size_t errlen)
{
	mlx_status	st;
	char		cerr[256];

	ctx_reset();
	st = mlx_tree_train(&tr->d, va ? &va->d : NULL, p, &tctx, fit, loss,
						nrounds, err, errlen);
	if (st == MLX_OK)
	{
		n_fits_checked++;
		cerr[0] = '\0';
		if (!mlx_tree_fit_check(fit, tr->F, cerr, sizeof(cerr)))
			fail_at(__LINE__, "trained fit fails mlx_tree_fit_check: %s", cerr);
	}
	return st;
}

/* Train and expect MLX_OK (and a valid fit); false otherwise. */
static bool
train_ok_at(int line, const dset *tr, const dset *va, const mlx_tree_params *p,
			mlx_tree_fit *fit, double *loss, int *nrounds)
{
	char		err[256] = "";
	mlx_status	st = train_st(tr, va, p, fit, loss, nrounds, err, sizeof(err));

	if (st != MLX_OK)
	{
		fail_at(line, "mlx_tree_train: %s (%s)", mlx_status_str(st), err);
		return false;
	}
	return true;
}

#define train_ok(tr, va, p, fit, loss, nr) \
	train_ok_at(__LINE__, (tr), (va), (p), (fit), (loss), (nr))

static double
predict1(const mlx_tree_fit *f, const double *x)
{
	double		out[MAXK];

	mlx_tree_predict(f, x, out);
	return out[0];
}

/* Every array and figure of two fits, bit for bit. */
static bool
fits_equal(const mlx_tree_fit *a, const mlx_tree_fit *b)
{
	size_t		nn;

	if (a->kind != b->kind || a->objective != b->objective ||
		a->nfeat != b->nfeat || a->nclasses != b->nclasses ||
		a->ngroups != b->ngroups || a->leaf_width != b->leaf_width ||
		a->ntrees != b->ntrees || a->nnodes != b->nnodes ||
		a->nrows != b->nrows || a->best_iteration != b->best_iteration)
		return false;
	nn = (size_t) a->nnodes;
	return memcmp(a->base_score, b->base_score, sizeof(double) * a->ngroups) == 0 &&
		memcmp(a->tree_start, b->tree_start, sizeof(int32_t) * (a->ntrees + 1)) == 0 &&
		memcmp(a->feature, b->feature, sizeof(int32_t) * nn) == 0 &&
		memcmp(a->threshold, b->threshold, sizeof(double) * nn) == 0 &&
		memcmp(a->left, b->left, sizeof(int32_t) * nn) == 0 &&
		memcmp(a->right, b->right, sizeof(int32_t) * nn) == 0 &&
		memcmp(a->default_left, b->default_left, nn) == 0 &&
		memcmp(a->gain, b->gain, sizeof(double) * nn) == 0 &&
		memcmp(a->cover, b->cover, sizeof(double) * nn) == 0 &&
		memcmp(a->value, b->value, sizeof(double) * nn * a->leaf_width) == 0;
}

static bool
all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i] != 0)
			return false;
	return true;
}

/* ---------- brute-force reference splits on raw values ---------- */

static int
cmp_dbl(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Midpoints between neighbouring distinct (non-NaN) values of column j. */
static int
col_midpoints(const dset *s, int32_t j, double *out)
{
	double	   *v = malloc(sizeof(double) * ((size_t) s->n + 1));
	int			m = 0,
				k = 0;

	for (int64_t i = 0; i < s->n; i++)
		if (!isnan(X(s, i, j)))
			v[m++] = X(s, i, j);
	qsort(v, m, sizeof(double), cmp_dbl);
	for (int i = 1; i < m; i++)
		if (v[i] != v[i - 1])
			out[k++] = v[i - 1] + (v[i] - v[i - 1]) / 2;
	free(v);
	return k;
}

enum
{
	CRIT_SSE,					/* sum of squared errors about the mean */
	CRIT_GINI,					/* n * Gini impurity */
	CRIT_NEWTON					/* -G^2 / (H + lambda) */
};

typedef struct refcrit
{
	int			mode;
	const double *y;			/* targets (SSE, Gini) */
	int			K;				/* classes (Gini) */
	const double *g;			/* gradients (Newton) */
	const double *h;			/* hessians (Newton) */
	double		lambda;
	double		mcw;			/* least rows (SSE, Gini) / hessian sum */
} refcrit;

/* The criterion of a set of rows (lower is better), and its weight. */
static double
crit_of(const refcrit *c, const int *rows, int m, double *weight)
{
	double		v = 0;

	if (c->mode == CRIT_SSE)
	{
		double		mean = 0;

		for (int i = 0; i < m; i++)
			mean += c->y[rows[i]];
		mean /= m;
		for (int i = 0; i < m; i++)
			v += (c->y[rows[i]] - mean) * (c->y[rows[i]] - mean);
		*weight = m;
	}
	else if (c->mode == CRIT_GINI)
	{
		double		cnt[MAXK] = {0};
		double		sq = 0;

		for (int i = 0; i < m; i++)
			cnt[(int) c->y[rows[i]]]++;
		for (int k = 0; k < c->K; k++)
			sq += (cnt[k] / m) * (cnt[k] / m);
		v = m * (1 - sq);
		*weight = m;
	}
	else
	{
		double		G = 0,
					H = 0;

		for (int i = 0; i < m; i++)
		{
			G += c->g[rows[i]];
			H += c->h[rows[i]];
		}
		v = -G * G / (H + c->lambda);
		*weight = H;
	}
	return v;
}

typedef struct refsplit
{
	int			feature;		/* -1: none */
	double		threshold;
	double		crit;			/* criterion of the two children */
	double		parent;			/* criterion of the node */
	double		runner_up;		/* best other split (INFINITY: none) */
	double		runner_up_other;	/* best split into other row sets */
	int			nleft;
} refsplit;

/* a key per row; a row set's signature is the XOR of its keys */
static uint64_t
row_key(int r)
{
	uint64_t	z = (uint64_t) (r + 1) * UINT64_C(0x9E3779B97F4A7C15);

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Brute force: every feature f and threshold t among the midpoints,
 * children x < t and x >= t (no missing values), both of weight >= mcw.
 * The first best split wins; runner_up is the best other split (another
 * feature or threshold) and runner_up_other the best one into other row
 * sets (the same two sets, either side left, count as one), so a near tie
 * can be told apart.
 */
static void
ref_best(const dset *s, const refcrit *c, double *const *mids, const int *nmid,
		 const int *rows, int m, refsplit *out)
{
	int		   *L = malloc(sizeof(int) * (m + 1));
	int		   *R = malloc(sizeof(int) * (m + 1));
	double		w;
	int			ncand = 0;
	double	   *ccrit = malloc(sizeof(double) * (s->F * (size_t) m + 1));
	uint64_t   *csig = malloc(sizeof(uint64_t) * (s->F * (size_t) m + 1));
	uint64_t	best_sig = 0;

	out->feature = -1;
	out->crit = INFINITY;
	out->runner_up = INFINITY;
	out->parent = crit_of(c, rows, m, &w);
	for (int32_t f = 0; f < s->F; f++)
	{
		int			prev_nl = -1;

		for (int k = 0; k < nmid[f]; k++)
		{
			double		t = mids[f][k];
			int			nl = 0,
						nr = 0;
			double		wl,
						wr,
						v;

			for (int i = 0; i < m; i++)
			{
				if (X(s, rows[i], f) < t)
					L[nl++] = rows[i];
				else
					R[nr++] = rows[i];
			}
			if (nl == 0 || nr == 0 || nl == prev_nl)
				continue;
			prev_nl = nl;
			v = crit_of(c, L, nl, &wl) + crit_of(c, R, nr, &wr);
			if (wl < c->mcw || wr < c->mcw)
				continue;
			{
				uint64_t	sl = 0,
							sr = 0;

				for (int i = 0; i < nl; i++)
					sl ^= row_key(L[i]);
				for (int i = 0; i < nr; i++)
					sr ^= row_key(R[i]);
				ccrit[ncand] = v;
				csig[ncand++] = sl < sr ? sl : sr;
				if (v < out->crit)
					best_sig = csig[ncand - 1];
			}
			if (v < out->crit)
			{
				out->runner_up = out->crit;
				out->crit = v;
				out->feature = f;
				out->threshold = t;
				out->nleft = nl;
			}
			else if (v < out->runner_up)
				out->runner_up = v;
		}
	}
	out->runner_up_other = INFINITY;
	for (int i = 0; i < ncand; i++)
		if (csig[i] != best_sig && ccrit[i] < out->runner_up_other)
			out->runner_up_other = ccrit[i];
	free(ccrit);
	free(csig);
	free(L);
	free(R);
}

/* another split (even into the same rows) is nearly as good */
static bool
ref_ambiguous(const refsplit *r)
{
	return r->feature >= 0 &&
		r->runner_up - r->crit <= 1e-9 * fmax(1.0, fabs(r->crit));
}

/* a split into other rows is nearly as good */
static bool
ref_ambiguous_rows(const refsplit *r)
{
	return r->feature >= 0 &&
		r->runner_up_other - r->crit <= 1e-9 * fmax(1.0, fabs(r->crit));
}

/*
 * A greedy regression tree by the brute-force search (SSE), grown to
 * max_depth like the trainer: split while the node has >= 2 rows and the
 * best split lowers the SSE.  Writes every row's prediction (its leaf's
 * mean) and returns the node count; *amb is set on a near tie.
 */
static int
ref_grow(const dset *s, const refcrit *c, double *const *mids, const int *nmid,
		 const int *rows, int m, int depth, int max_depth, double *pred,
		 bool *amb)
{
	refsplit	r;
	double		mean = 0;

	for (int i = 0; i < m; i++)
		mean += s->y[rows[i]];
	mean /= m;
	if (depth < max_depth && m >= 2)
	{
		ref_best(s, c, mids, nmid, rows, m, &r);
		if (ref_ambiguous_rows(&r))
			*amb = true;
		if (r.feature >= 0 && r.parent - r.crit > 1e-9 * fmax(1.0, r.parent))
		{
			int		   *L = malloc(sizeof(int) * m);
			int		   *R = malloc(sizeof(int) * m);
			int			nl = 0,
						nr = 0,
						nodes;

			for (int i = 0; i < m; i++)
			{
				if (X(s, rows[i], r.feature) < r.threshold)
					L[nl++] = rows[i];
				else
					R[nr++] = rows[i];
			}
			nodes = 1 + ref_grow(s, c, mids, nmid, L, nl, depth + 1, max_depth, pred, amb) +
				ref_grow(s, c, mids, nmid, R, nr, depth + 1, max_depth, pred, amb);
			free(L);
			free(R);
			return nodes;
		}
	}
	for (int i = 0; i < m; i++)
		pred[rows[i]] = mean;
	return 1;
}

/* midpoints of every feature of s */
typedef struct midset
{
	double	   *mids[MAXF];
	int			nmid[MAXF];
} midset;

static void
mids_make(midset *ms, const dset *s)
{
	for (int32_t j = 0; j < s->F; j++)
	{
		ms->mids[j] = malloc(sizeof(double) * ((size_t) s->n + 1));
		ms->nmid[j] = col_midpoints(s, j, ms->mids[j]);
	}
}

static void
mids_free(midset *ms, const dset *s)
{
	for (int32_t j = 0; j < s->F; j++)
		free(ms->mids[j]);
}

static int *
all_rows(int64_t n)
{
	int		   *r = malloc(sizeof(int) * ((size_t) n + 1));

	for (int64_t i = 0; i < n; i++)
		r[i] = (int) i;
	return r;
}

/* ================================================================ cases */

/* ---------- 1. bin edges and bins ---------- */

/*
 * Few distinct values: a cut in every gap, at the midpoint or at the upper
 * value; NaN ignored; values sorted in place.
 */
static void
t_bin_edges_few_distinct(void)
{
	double		mid_want[3] = {1.5, 2.5, 4.0};
	double		up_want[3] = {2, 3, 5};
	double		cuts[MLX_TREE_MAX_BINS];
	int			nc = -1;

	for (int mode = 0; mode < 2; mode++)
	{
		double		v[8] = {3, 1, NAN, 2, 2, 5, 1, NAN};
		const double *want = mode ? up_want : mid_want;

		EXPECT_ST(mlx_tree_bin_edges(v, 8, 10, mode == 0, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 3, "midpoints=%d: %d cuts, want 3", mode == 0, nc);
		for (int i = 0; i < 3 && nc == 3; i++)
			EXPECT(cuts[i] == want[i], "midpoints=%d: cut %d is %g, want %g",
				   mode == 0, i, cuts[i], want[i]);
		/* the non-NaN values come first, ascending */
		EXPECT(v[0] == 1 && v[1] == 1 && v[2] == 2 && v[3] == 2 && v[4] == 3 &&
			   v[5] == 5, "values not sorted in place: %g %g %g %g %g %g",
			   v[0], v[1], v[2], v[3], v[4], v[5]);
	}

	/* exactly max_bins distinct values still get a cut in every gap */
	{
		double		v[6] = {-1, 7, 0.5, 7, -1, 3};

		EXPECT_ST(mlx_tree_bin_edges(v, 6, 4, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 3 && cuts[0] == -0.25 && cuts[1] == 1.75 && cuts[2] == 5,
			   "4 distinct, max_bins 4: %d cuts %g %g %g", nc, cuts[0], cuts[1], cuts[2]);
	}
	{
		double		v[4] = {2, 9, 9, 2};

		EXPECT_ST(mlx_tree_bin_edges(v, 4, 2, false, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 1 && cuts[0] == 9, "2 distinct, max_bins 2: %d cuts, %g", nc, cuts[0]);
	}
	/* neighbours one ulp apart: the cut stays strictly above the lower */
	{
		double		a = 1.0,
					b = nextafter(1.0, 2.0);
		double		v[2] = {b, a};

		EXPECT_ST(mlx_tree_bin_edges(v, 2, 255, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 1 && cuts[0] > a && cuts[0] <= b, "ulp gap: cut %.17g", cuts[0]);
		EXPECT(nc == 1 && mlx_tree_bin(a, cuts, nc) == 1 && mlx_tree_bin(b, cuts, nc) == 2,
			   "ulp gap: values share a bin");
	}
	/* the whole double range: the midpoint does not overflow */
	{
		double		v[2] = {DBL_MAX, -DBL_MAX};

		EXPECT_ST(mlx_tree_bin_edges(v, 2, 255, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 1 && isfinite(cuts[0]) && cuts[0] > -DBL_MAX && cuts[0] <= DBL_MAX,
			   "DBL_MAX range: cut %g", cuts[0]);
	}
	/* nothing to cut: n = 0, all NaN, one distinct value */
	{
		double		v[4] = {NAN, NAN, NAN, NAN};
		double		w[3] = {4, 4, 4};

		nc = -1;
		EXPECT_ST(mlx_tree_bin_edges(v, 0, 255, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 0, "n = 0: %d cuts", nc);
		nc = -1;
		EXPECT_ST(mlx_tree_bin_edges(v, 4, 255, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 0, "all NaN: %d cuts", nc);
		nc = -1;
		EXPECT_ST(mlx_tree_bin_edges(w, 3, 255, false, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 0, "one distinct value: %d cuts", nc);
	}
}

static void
t_bin_edges_errors(void)
{
	double		cuts[MLX_TREE_MAX_BINS];
	int			nc;
	int			bad_bins[4] = {-1, 0, 1, MLX_TREE_MAX_BINS + 1};

	for (int s = 0; s < 2; s++)
	{
		double		v[4] = {1, 2, s ? -INFINITY : INFINITY, 3};

		EXPECT_ST(mlx_tree_bin_edges(v, 4, 255, true, cuts, &nc, NULL), MLX_ENONFINITE);
	}
	for (int i = 0; i < 4; i++)
	{
		double		v[3] = {1, 2, 3};

		EXPECT_ST(mlx_tree_bin_edges(v, 3, bad_bins[i], true, cuts, &nc, NULL), MLX_EINVAL);
	}
	{
		double		v[3] = {1, 2, 3};

		EXPECT_ST(mlx_tree_bin_edges(v, -1, 255, true, cuts, &nc, NULL), MLX_EINVAL);
		/* the limits themselves are fine */
		EXPECT_ST(mlx_tree_bin_edges(v, 3, 2, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 1, "max_bins 2: %d cuts", nc);
		EXPECT_ST(mlx_tree_bin_edges(v, 3, MLX_TREE_MAX_BINS, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc == 2, "max_bins 255: %d cuts", nc);
	}
}

/*
 * The radix sort (with scratch) and qsort give the same sorted values and
 * the same cuts, bit for bit, on values of every sign and scale: ties,
 * -0.0 beside +0.0, subnormals, the largest doubles, NaN to drop, and
 * lengths 0 to 5 as well as long ones.
 */
static void
t_bin_edges_radix_matches_qsort(void)
{
	static const double special[] = {0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
		-1.7976931348623157e308, 1.7976931348623157e308, 1, -1, 0.5, -0.5, NAN};
	const int	maxn = 5000;
	double	   *a = malloc(sizeof(double) * maxn);
	double	   *b = malloc(sizeof(double) * maxn);
	double	   *scratch = malloc(sizeof(double) * maxn);
	double		ca[MLX_TREE_MAX_BINS],
				cb[MLX_TREE_MAX_BINS];
	int			na,
				nb,
				m;

	rng_seed(5);
	for (int trial = 0; trial < 60; trial++)
	{
		int			n = trial < 6 ? trial : 1 + (int) (rng_unif() * (maxn - 1));
		int			mb = trial % 3 == 0 ? 255 : 2 + (int) (rng_unif() * 60);

		for (int i = 0; i < n; i++)
		{
			double		u = rng_unif();

			if (trial % 4 == 0)
				a[i] = special[(int) (u * (sizeof(special) / sizeof(special[0])))];
			else if (trial % 4 == 1)
				a[i] = floor(u * 20 - 10) / 4;	/* heavy ties */
			else
				a[i] = (u - 0.5) * pow(10, floor(rng_unif() * 40 - 20));
		}
		memcpy(b, a, sizeof(double) * n);
		m = 0;
		for (int i = 0; i < n; i++)
			m += !isnan(a[i]);
		EXPECT_ST(mlx_tree_bin_edges(a, n, mb, trial % 2 == 0, ca, &na, scratch), MLX_OK);
		EXPECT_ST(mlx_tree_bin_edges(b, n, mb, trial % 2 == 0, cb, &nb, NULL), MLX_OK);
		EXPECT(na == nb, "trial %d: %d cuts by radix, %d by qsort", trial, na, nb);
		EXPECT(memcmp(ca, cb, sizeof(double) * na) == 0, "trial %d: the cuts differ", trial);
		/* the m values that are not NaN, sorted in place the same way */
		EXPECT(memcmp(a, b, sizeof(double) * m) == 0, "trial %d: sorted values differ", trial);
		for (int i = 1; i < m; i++)
			EXPECT(a[i - 1] <= a[i], "trial %d: %g before %g", trial, a[i - 1], a[i]);
	}
	free(a);
	free(b);
	free(scratch);
}

/*
 * More distinct values than bins: at most max_bins - 1 strictly ascending
 * finite cuts inside the range, and on a uniform sample of distinct values
 * every bin holds about n / max_bins of them.
 */
static void
t_bin_edges_quantiles(void)
{
	const int	n = 10000;
	int			mbs[4] = {2, 16, 100, 255};
	double	   *v = malloc(sizeof(double) * n);
	double	   *orig = malloc(sizeof(double) * n);
	double		cuts[MLX_TREE_MAX_BINS];
	int			count[MLX_TREE_MAX_BINS + 1];
	int			nc;

	rng_seed(11);
	for (int i = 0; i < n; i++)
		orig[i] = 100 * rng_unif() - 30;
	for (int b = 0; b < 4; b++)
	{
		int			mb = mbs[b];
		double		want = (double) n / mb;
		int			worst = 0;

		memcpy(v, orig, sizeof(double) * n);
		EXPECT_ST(mlx_tree_bin_edges(v, n, mb, true, cuts, &nc, NULL), MLX_OK);
		EXPECT(nc >= 1 && nc <= mb - 1, "max_bins %d: %d cuts", mb, nc);
		/* distinct continuous values: every quantile is a new cut */
		EXPECT(nc == mb - 1, "max_bins %d: %d cuts, want %d", mb, nc, mb - 1);
		for (int i = 0; i < nc; i++)
		{
			EXPECT(isfinite(cuts[i]) && cuts[i] > v[0] && cuts[i] <= v[n - 1],
				   "max_bins %d: cut %d = %g outside (%g, %g]", mb, i, cuts[i], v[0], v[n - 1]);
			EXPECT(i == 0 || cuts[i] > cuts[i - 1], "max_bins %d: cuts %d, %d not ascending",
				   mb, i - 1, i);
		}
		memset(count, 0, sizeof(count));
		for (int i = 0; i < n; i++)
			count[mlx_tree_bin(orig[i], cuts, nc)]++;
		EXPECT(count[0] == 0, "max_bins %d: %d values in the missing bin", mb, count[0]);
		for (int k = 1; k <= nc + 1; k++)
			if (fabs(count[k] - want) > fabs(count[worst] - want) || worst == 0)
				worst = k;
		EXPECT(fabs(count[worst] - want) <= 2, "max_bins %d: bin %d holds %d values, want about %.1f",
			   mb, worst, count[worst], want);
	}

	/* heavy ties (half the values 0): no repeated cut, none at the minimum */
	for (int i = 0; i < n; i++)
		v[i] = i % 2 ? 0 : orig[i];
	for (int i = 0; i < n; i++)
		orig[i] = v[i];
	EXPECT_ST(mlx_tree_bin_edges(v, n, 16, false, cuts, &nc, NULL), MLX_OK);
	EXPECT(nc >= 1 && nc <= 15, "ties: %d cuts", nc);
	for (int i = 0; i < nc; i++)
		EXPECT(cuts[i] > v[0] && (i == 0 || cuts[i] > cuts[i - 1]),
			   "ties: cut %d = %g repeated or at the minimum", i, cuts[i]);
	{
		/* every 0 in one bin */
		int			b0 = mlx_tree_bin(0.0, cuts, nc);

		memset(count, 0, sizeof(count));
		for (int i = 0; i < n; i++)
			count[mlx_tree_bin(orig[i], cuts, nc)]++;
		EXPECT(count[b0] >= n / 2, "ties: the zeros' bin holds %d values", count[b0]);
	}
	free(v);
	free(orig);
}

static void
t_bin_function(void)
{
	double		cuts[3] = {1, 2, 3.5};

	EXPECT(mlx_tree_bin(NAN, cuts, 3) == 0, "NaN -> %d", mlx_tree_bin(NAN, cuts, 3));
	EXPECT(mlx_tree_bin(-NAN, cuts, 3) == 0, "-NaN -> %d", mlx_tree_bin(-NAN, cuts, 3));
	EXPECT(mlx_tree_bin(0.5, cuts, 3) == 1, "0.5 -> %d", mlx_tree_bin(0.5, cuts, 3));
	EXPECT(mlx_tree_bin(-1e300, cuts, 3) == 1, "-1e300 -> %d", mlx_tree_bin(-1e300, cuts, 3));
	EXPECT(mlx_tree_bin(-INFINITY, cuts, 3) == 1, "-inf -> %d", mlx_tree_bin(-INFINITY, cuts, 3));
	EXPECT(mlx_tree_bin(1, cuts, 3) == 2, "1 (a cut) -> %d", mlx_tree_bin(1, cuts, 3));
	EXPECT(mlx_tree_bin(nextafter(1, 0), cuts, 3) == 1, "just below 1 -> %d",
		   mlx_tree_bin(nextafter(1, 0), cuts, 3));
	EXPECT(mlx_tree_bin(1.5, cuts, 3) == 2, "1.5 -> %d", mlx_tree_bin(1.5, cuts, 3));
	EXPECT(mlx_tree_bin(2, cuts, 3) == 3, "2 (a cut) -> %d", mlx_tree_bin(2, cuts, 3));
	EXPECT(mlx_tree_bin(3.5, cuts, 3) == 4, "3.5 (last cut) -> %d", mlx_tree_bin(3.5, cuts, 3));
	EXPECT(mlx_tree_bin(1e300, cuts, 3) == 4, "1e300 -> %d", mlx_tree_bin(1e300, cuts, 3));
	EXPECT(mlx_tree_bin(INFINITY, cuts, 3) == 4, "inf -> %d", mlx_tree_bin(INFINITY, cuts, 3));
	EXPECT(mlx_tree_bin(7, cuts, 0) == 1, "no cuts: 7 -> %d", mlx_tree_bin(7, cuts, 0));
	EXPECT(mlx_tree_bin(NAN, cuts, 0) == 0, "no cuts: NaN -> %d", mlx_tree_bin(NAN, cuts, 0));

	/* 254 cuts: the last bin is 255 and x < cuts[b - 1] iff bin(x) <= b */
	{
		double		c[MLX_TREE_MAX_BINS - 1];

		for (int i = 0; i < MLX_TREE_MAX_BINS - 1; i++)
			c[i] = i * 0.5;
		EXPECT(mlx_tree_bin(1e9, c, MLX_TREE_MAX_BINS - 1) == 255, "254 cuts: top bin %d",
			   mlx_tree_bin(1e9, c, MLX_TREE_MAX_BINS - 1));
		rng_seed(5);
		for (int i = 0; i < 2000; i++)
		{
			double		x = rng_unif() * 140 - 10;
			int			b = 1 + (int) (rng_unif() * (MLX_TREE_MAX_BINS - 1));
			int			got;

			if (i % 3 == 0)
				x = c[b - 1];
			got = mlx_tree_bin(x, c, MLX_TREE_MAX_BINS - 1);
			EXPECT((x < c[b - 1]) == (got <= b), "x %g bin %d split at cut %d disagrees",
				   x, got, b - 1);
		}
	}
}

/* ---------- 2. regression trees against brute force ---------- */

/* n rows of F features: continuous, a few integer-valued, y noisy */
static void
make_regression(dset *s, int64_t n, int32_t F, uint64_t seed)
{
	ds_init(s, n, F);
	rng_seed(seed);
	for (int64_t i = 0; i < n; i++)
	{
		for (int32_t j = 0; j < F; j++)
			X(s, i, j) = j == 2 ? floor(rng_unif() * 6) : rng_norm();
		s->y[i] = 2 * (X(s, i, 0) > 0.3) + X(s, i, 1) * X(s, i, 1) +
			(F > 2 ? 0.5 * X(s, i, 2) : 0) + 0.5 * rng_norm();
	}
}

/*
 * A depth-1 regression tree splits where the brute-force search over all
 * features and thresholds finds the least sum of squared errors; its
 * leaves hold the means and covers the row counts, its gain the drop in
 * SSE.
 */
static void
t_regression_stump_brute_force(void)
{
	int			used = 0;

	for (uint64_t seed = 1; seed <= 25; seed++)
	{
		dset		s;
		midset		ms;
		refsplit	r;
		refcrit		c = {CRIT_SSE, NULL, 0, NULL, NULL, 0, 1};
		int		   *rows;
		mlx_tree_params p = params(DT, REG, 0);
		mlx_tree_fit fit;
		double		ml = 0,
					mr = 0;
		int			nl = 0,
					nr = 0;

		make_regression(&s, 40, 3, seed);
		c.y = s.y;
		EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
		mids_make(&ms, &s);
		rows = all_rows(s.n);
		ref_best(&s, &c, ms.mids, ms.nmid, rows, (int) s.n, &r);
		p.max_depth = 1;
		if (!ref_ambiguous(&r) && r.feature >= 0 &&
			train_ok(&s, NULL, &p, &fit, NULL, NULL))
		{
			int32_t		li,
						ri;

			used++;
			for (int i = 0; i < s.n; i++)
			{
				if (X(&s, i, r.feature) < r.threshold)
					ml += s.y[i], nl++;
				else
					mr += s.y[i], nr++;
			}
			ml /= nl;
			mr /= nr;
			EXPECT(fit.ntrees == 1 && fit.nnodes == 3, "seed %d: %d trees %d nodes",
				   (int) seed, fit.ntrees, fit.nnodes);
			if (fit.nnodes == 3)
			{
				li = fit.left[0];
				ri = fit.right[0];
				EXPECT(fit.feature[0] == r.feature, "seed %d: feature %d, brute force %d",
					   (int) seed, fit.feature[0], r.feature);
				EXPECT_NEAR(fit.threshold[0], r.threshold, 1e-12, "threshold");
				EXPECT_NEAR(fit.value[li], ml, 1e-12, "left mean");
				EXPECT_NEAR(fit.value[ri], mr, 1e-12, "right mean");
				EXPECT(fit.cover[li] == nl && fit.cover[ri] == nr && fit.cover[0] == s.n,
					   "seed %d: covers %g %g %g, want %d %d %d", (int) seed,
					   fit.cover[0], fit.cover[li], fit.cover[ri], (int) s.n, nl, nr);
				EXPECT_NEAR(fit.gain[0], r.parent - r.crit, 1e-9, "gain = SSE drop");
				EXPECT_NEAR(fit.value[0], (ml * nl + mr * nr) / s.n, 1e-12, "root mean");
				EXPECT(fit.feature[li] == -1 && fit.feature[ri] == -1, "children not leaves");
				EXPECT(fit.base_score[0] == 0, "DT base score %g", fit.base_score[0]);
				for (int i = 0; i < s.n; i++)
				{
					double		want = X(&s, i, r.feature) < r.threshold ? ml : mr;

					EXPECT_NEAR(predict1(&fit, &X(&s, i, 0)), want, 1e-12, "row prediction");
				}
			}
			fit_free(&tctx, &fit);
		}
		free(rows);
		mids_free(&ms, &s);
		ds_free(&s);
	}
	EXPECT(used >= 20, "only %d of 25 data sets without a near tie", used);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * Deeper regression trees equal a greedy reference tree grown with the
 * brute-force search: the same predictions on every row and node count.
 */
static void
t_regression_tree_greedy_reference(void)
{
	int			used = 0;

	for (uint64_t seed = 100; seed < 112; seed++)
	{
		dset		s;
		midset		ms;
		refcrit		c = {CRIT_SSE, NULL, 0, NULL, NULL, 0, 1};
		int		   *rows;
		double	   *pred;
		bool		amb = false;
		int			depth = 2 + (int) (seed % 3);
		int			nodes;
		mlx_tree_params p = params(DT, REG, 0);
		mlx_tree_fit fit;

		make_regression(&s, 60, 3, seed);
		c.y = s.y;
		EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
		mids_make(&ms, &s);
		rows = all_rows(s.n);
		pred = malloc(sizeof(double) * s.n);
		nodes = ref_grow(&s, &c, ms.mids, ms.nmid, rows, (int) s.n, 0, depth, pred, &amb);
		p.max_depth = depth;
		if (!amb && train_ok(&s, NULL, &p, &fit, NULL, NULL))
		{
			used++;
			EXPECT(fit.nnodes == nodes, "seed %d depth %d: %d nodes, reference %d",
				   (int) seed, depth, fit.nnodes, nodes);
			for (int i = 0; i < s.n; i++)
				EXPECT_NEAR(predict1(&fit, &X(&s, i, 0)), pred[i], 1e-12, "row prediction");
			fit_free(&tctx, &fit);
		}
		free(pred);
		free(rows);
		mids_free(&ms, &s);
		ds_free(&s);
	}
	EXPECT(used >= 8, "only %d of 12 data sets without a near tie", used);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * y = x on 128 distinct values: the SSE-best split halves every range, so
 * depth 7 fits every row exactly with 255 nodes; depth 30 (the limit) is
 * accepted and gives the same tree.  Many nodes: the node arrays grow.
 */
static void
t_staircase_full_depth(void)
{
	dset		s;
	mlx_tree_params p = params(DT, REG, 0);
	mlx_tree_fit fit;

	ds_init(&s, 128, 1);
	for (int i = 0; i < 128; i++)
	{
		X(&s, i, 0) = (i * 37) % 128;	/* any row order */
		s.y[i] = X(&s, i, 0);
	}
	EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
	for (int d = 0; d < 2; d++)
	{
		p.max_depth = d == 0 ? 7 : MLX_TREE_MAX_DEPTH;
		if (!train_ok(&s, NULL, &p, &fit, NULL, NULL))
			continue;
		EXPECT(fit.nnodes == 255, "depth %d: %d nodes, want 255", p.max_depth, fit.nnodes);
		for (int i = 0; i < 128; i++)
		{
			double		x = i;

			EXPECT(predict1(&fit, &x) == x, "depth %d: prediction at %d is %g",
				   p.max_depth, i, predict1(&fit, &x));
		}
		fit_free(&tctx, &fit);
	}
	/* depth 6: every leaf holds two neighbours, their mean */
	p.max_depth = 6;
	if (train_ok(&s, NULL, &p, &fit, NULL, NULL))
	{
		double		x = 10;

		EXPECT(fit.nnodes == 127, "depth 6: %d nodes", fit.nnodes);
		EXPECT(predict1(&fit, &x) == 10.5, "depth 6: prediction at 10 is %g", predict1(&fit, &x));
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* min_samples_leaf (min_child_weight for DT): every leaf keeps that many rows */
static void
t_min_child_weight(void)
{
	dset		s;
	mlx_tree_params p = params(DT, REG, 0);
	mlx_tree_fit fit;

	make_regression(&s, 80, 3, 7);
	EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
	for (int mcw = 1; mcw <= 13; mcw += 4)
	{
		int			smallest = 1 << 30;

		p.max_depth = 10;
		p.min_child_weight = mcw;
		if (!train_ok(&s, NULL, &p, &fit, NULL, NULL))
			continue;
		for (int32_t i = 0; i < fit.nnodes; i++)
			if (fit.feature[i] < 0 && fit.cover[i] < smallest)
				smallest = (int) fit.cover[i];
		EXPECT(smallest >= mcw, "min_child_weight %d: a leaf of %d rows", mcw, smallest);
		if (mcw == 1)
			EXPECT(smallest == 1, "min_child_weight 1, depth 10: smallest leaf %d", smallest);
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * One boosting round of squared error from base score = mean, depth 1,
 * lambda 2.5: the split maximises G_L^2/(H_L+l) + G_R^2/(H_R+l) - G^2/(H+l)
 * and a leaf is learning_rate * sum(-g) / (sum(h) + lambda), g = base - y,
 * h = 1.  Gamma just above the split's gain leaves the root alone; just
 * below, it splits.
 */
static void
t_boosting_newton_leaves_regression(void)
{
	int			used = 0;

	for (uint64_t seed = 30; seed < 40; seed++)
	{
		dset		s;
		midset		ms;
		refsplit	r;
		double		g[64],
					h[64];
		refcrit		c = {CRIT_NEWTON, NULL, 0, g, h, 2.5, 1};
		int		   *rows;
		mlx_tree_params p = params(GB, REG, 0);
		mlx_tree_fit fit;
		double		mean = 0,
					loss[1],
					GL = 0,
					GR = 0;
		int			HL = 0,
					HR = 0,
					nr = -1;
		const double lr = 0.3;

		make_regression(&s, 30, 2, seed);
		EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
		for (int i = 0; i < s.n; i++)
			mean += s.y[i];
		mean /= s.n;
		for (int i = 0; i < s.n; i++)
		{
			g[i] = mean - s.y[i];
			h[i] = 1;
		}
		mids_make(&ms, &s);
		rows = all_rows(s.n);
		ref_best(&s, &c, ms.mids, ms.nmid, rows, (int) s.n, &r);
		p.n_estimators = 1;
		p.max_depth = 1;
		p.learning_rate = lr;
		p.lambda = 2.5;
		if (!ref_ambiguous(&r) && r.feature >= 0 &&
			train_ok(&s, NULL, &p, &fit, loss, &nr))
		{
			double		vl,
						vr,
						sse = 0;

			used++;
			for (int i = 0; i < s.n; i++)
			{
				if (X(&s, i, r.feature) < r.threshold)
					GL -= g[i], HL++;
				else
					GR -= g[i], HR++;
			}
			vl = lr * GL / (HL + 2.5);
			vr = lr * GR / (HR + 2.5);
			EXPECT_NEAR(fit.base_score[0], mean, 1e-12, "base score = mean");
			EXPECT(nr == 1 && fit.best_iteration == 1 && fit.ntrees == 1,
				   "seed %d: %d rounds, best %d, %d trees", (int) seed, nr,
				   fit.best_iteration, fit.ntrees);
			EXPECT(fit.nnodes == 3 && fit.feature[0] == r.feature,
				   "seed %d: %d nodes, feature %d, brute force %d", (int) seed,
				   fit.nnodes, fit.feature[0], r.feature);
			if (fit.nnodes == 3)
			{
				EXPECT_NEAR(fit.threshold[0], r.threshold, 1e-12, "threshold");
				EXPECT_NEAR(fit.value[fit.left[0]], vl, 1e-12, "left leaf lr*G/(H+lambda)");
				EXPECT_NEAR(fit.value[fit.right[0]], vr, 1e-12, "right leaf lr*G/(H+lambda)");
				EXPECT_NEAR(fit.gain[0], r.parent - r.crit, 1e-9, "gain");
				EXPECT(fit.cover[fit.left[0]] == HL && fit.cover[fit.right[0]] == HR,
					   "covers %g %g, want hessian sums %d %d",
					   fit.cover[fit.left[0]], fit.cover[fit.right[0]], HL, HR);
			}
			for (int i = 0; i < s.n; i++)
			{
				double		want = mean + (X(&s, i, r.feature) < r.threshold ? vl : vr);
				double		got = predict1(&fit, &X(&s, i, 0));

				EXPECT_NEAR(got, want, 1e-12, "prediction base + leaf");
				sse += (s.y[i] - got) * (s.y[i] - got);
			}
			/* the loss output: training RMSE (XGBoost's rmse) */
			EXPECT_NEAR(loss[0], sqrt(sse / s.n), 1e-10, "loss[0] = training RMSE");

			/* gamma: just above the gain, no split; just below, the same split */
			if (fit.nnodes == 3)
			{
				double		gain = r.parent - r.crit;
				mlx_tree_fit f2;

				p.gamma = gain * (1 + 1e-6);
				if (train_ok(&s, NULL, &p, &f2, NULL, NULL))
				{
					EXPECT(f2.nnodes == 1, "gamma above gain: %d nodes", f2.nnodes);
					EXPECT_NEAR(f2.value[0], 0, 1e-12, "gamma above gain: root value");
					fit_free(&tctx, &f2);
				}
				p.gamma = gain * (1 - 1e-6);
				if (train_ok(&s, NULL, &p, &f2, NULL, NULL))
				{
					EXPECT(f2.nnodes == 3, "gamma below gain: %d nodes", f2.nnodes);
					fit_free(&tctx, &f2);
				}
			}
			fit_free(&tctx, &fit);
		}
		free(rows);
		mids_free(&ms, &s);
		ds_free(&s);
	}
	EXPECT(used >= 8, "only %d of 10 data sets without a near tie", used);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * One round of binary logistic boosting: base score log(ybar / (1 -
 * ybar)), p = ybar for every row, g = p - y, h = p (1 - p); the split and
 * leaves as above.
 */
static void
t_boosting_newton_leaves_binary(void)
{
	int			used = 0;

	for (uint64_t seed = 50; seed < 60; seed++)
	{
		dset		s;
		midset		ms;
		refsplit	r;
		double		g[64],
					h[64];
		refcrit		c = {CRIT_NEWTON, NULL, 0, g, h, 1.5, 0};
		int		   *rows;
		mlx_tree_params p = params(GB, BIN, 2);
		mlx_tree_fit fit;
		double		ybar = 0,
					GL = 0,
					GR = 0,
					HL = 0,
					HR = 0;
		const double lr = 0.7;

		ds_init(&s, 40, 2);
		rng_seed(seed);
		for (int i = 0; i < s.n; i++)
		{
			X(&s, i, 0) = rng_norm();
			X(&s, i, 1) = rng_norm();
			s.y[i] = (X(&s, i, 0) + 0.7 * rng_norm() > 0.4) ? 1 : 0;
			ybar += s.y[i];
		}
		ybar /= s.n;
		EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
		for (int i = 0; i < s.n; i++)
		{
			g[i] = ybar - s.y[i];
			h[i] = ybar * (1 - ybar);
		}
		mids_make(&ms, &s);
		rows = all_rows(s.n);
		ref_best(&s, &c, ms.mids, ms.nmid, rows, (int) s.n, &r);
		p.n_estimators = 1;
		p.max_depth = 1;
		p.learning_rate = lr;
		p.lambda = 1.5;
		p.min_child_weight = 0;
		if (!ref_ambiguous(&r) && r.feature >= 0 &&
			train_ok(&s, NULL, &p, &fit, NULL, NULL))
		{
			double		vl,
						vr;

			used++;
			for (int i = 0; i < s.n; i++)
			{
				if (X(&s, i, r.feature) < r.threshold)
					GL -= g[i], HL += h[i];
				else
					GR -= g[i], HR += h[i];
			}
			vl = lr * GL / (HL + 1.5);
			vr = lr * GR / (HR + 1.5);
			EXPECT_NEAR(fit.base_score[0], log(ybar / (1 - ybar)), 1e-12, "base score = log-odds");
			EXPECT(fit.nnodes == 3 && fit.feature[0] == r.feature,
				   "seed %d: %d nodes, feature %d, brute force %d", (int) seed,
				   fit.nnodes, fit.feature[0], r.feature);
			if (fit.nnodes == 3)
			{
				EXPECT_NEAR(fit.threshold[0], r.threshold, 1e-12, "threshold");
				EXPECT_NEAR(fit.value[fit.left[0]], vl, 1e-10, "left leaf");
				EXPECT_NEAR(fit.value[fit.right[0]], vr, 1e-10, "right leaf");
			}
			for (int i = 0; i < s.n; i++)
			{
				double		m = log(ybar / (1 - ybar)) +
					(X(&s, i, r.feature) < r.threshold ? vl : vr);

				EXPECT_NEAR(predict1(&fit, &X(&s, i, 0)), 1 / (1 + exp(-m)), 1e-10,
							"P(class 1) = sigmoid(base + leaf)");
			}
			fit_free(&tctx, &fit);
		}
		free(rows);
		mids_free(&ms, &s);
		ds_free(&s);
	}
	EXPECT(used >= 8, "only %d of 10 data sets without a near tie", used);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 3. classification trees (Gini) ---------- */

static void
make_classes(dset *s, int64_t n, int32_t F, int K, uint64_t seed)
{
	ds_init(s, n, F);
	rng_seed(seed);
	for (int64_t i = 0; i < n; i++)
	{
		int			k = (int) (rng_unif() * K);

		for (int32_t j = 0; j < F; j++)
			X(s, i, j) = rng_norm() + (j == k % F ? 1.2 * (k + 1) : 0);
		s->y[i] = k;
	}
}

/*
 * Depth-1 classification trees (binary and 3 classes) split where the
 * brute-force search finds the least n * Gini impurity; every node holds
 * its class proportions (summing to 1); the gain is the impurity drop.
 */
static void
t_gini_stump_brute_force(void)
{
	int			used = 0,
				tried = 0;

	for (int K = 2; K <= 3; K++)
	{
		for (uint64_t seed = 1; seed <= 15; seed++)
		{
			dset		s;
			midset		ms;
			refsplit	r;
			refcrit		c = {CRIT_GINI, NULL, K, NULL, NULL, 0, 1};
			int		   *rows;
			mlx_tree_params p = params(DT, K == 2 ? BIN : MUL, K);
			mlx_tree_fit fit;

			tried++;
			make_classes(&s, 36, 3, K, seed * 7 + K);
			c.y = s.y;
			EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
			mids_make(&ms, &s);
			rows = all_rows(s.n);
			ref_best(&s, &c, ms.mids, ms.nmid, rows, (int) s.n, &r);
			p.max_depth = 1;
			if (!ref_ambiguous(&r) && r.feature >= 0 &&
				train_ok(&s, NULL, &p, &fit, NULL, NULL))
			{
				double		cl[MAXK] = {0},
							cr[MAXK] = {0};
				int			nl = 0,
							nr = 0;

				used++;
				for (int i = 0; i < s.n; i++)
				{
					if (X(&s, i, r.feature) < r.threshold)
						cl[(int) s.y[i]]++, nl++;
					else
						cr[(int) s.y[i]]++, nr++;
				}
				EXPECT(fit.leaf_width == K && fit.nclasses == K, "K %d: leaf width %d",
					   K, fit.leaf_width);
				EXPECT(fit.nnodes == 3 && fit.feature[0] == r.feature,
					   "K %d seed %d: %d nodes, feature %d, brute force %d", K,
					   (int) seed, fit.nnodes, fit.feature[0], r.feature);
				if (fit.nnodes == 3 && fit.leaf_width == K)
				{
					const double *vl = fit.value + (size_t) fit.left[0] * K;
					const double *vr = fit.value + (size_t) fit.right[0] * K;

					EXPECT_NEAR(fit.threshold[0], r.threshold, 1e-12, "threshold");
					EXPECT_NEAR(fit.gain[0], r.parent - r.crit, 1e-9, "gain = n * Gini drop");
					for (int k = 0; k < K; k++)
					{
						EXPECT_NEAR(vl[k], cl[k] / nl, 1e-12, "left class proportion");
						EXPECT_NEAR(vr[k], cr[k] / nr, 1e-12, "right class proportion");
					}
					for (int32_t i = 0; i < fit.nnodes; i++)
					{
						double		sum = 0;

						for (int k = 0; k < K; k++)
						{
							EXPECT(fit.value[(size_t) i * K + k] >= 0, "negative proportion");
							sum += fit.value[(size_t) i * K + k];
						}
						EXPECT_NEAR(sum, 1, 1e-12, "class proportions sum");
					}
					for (int i = 0; i < s.n; i++)
					{
						double		out[MAXK];
						const double *want = X(&s, i, r.feature) < r.threshold ? vl : vr;

						mlx_tree_predict(&fit, &X(&s, i, 0), out);
						if (K == 2)
							EXPECT(out[0] == want[1], "binary prediction %g, want P(1) %g",
								   out[0], want[1]);
						else
							for (int k = 0; k < K; k++)
								EXPECT(out[k] == want[k], "class %d prediction %g, want %g",
									   k, out[k], want[k]);
					}
				}
				fit_free(&tctx, &fit);
			}
			free(rows);
			mids_free(&ms, &s);
			ds_free(&s);
		}
	}
	EXPECT(used >= tried * 2 / 3, "only %d of %d data sets without a near tie", used, tried);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 4. missing values ---------- */

/*
 * x = 1..8 with y a step at 4.5 and four rows of missing x whose target
 * equals one side's: the split at 4.5 sends them to that side, whichever
 * it is, and so does prediction.  Without missing values in training the
 * default goes to the side with more rows.  Decision tree and boosting.
 */
static void
t_missing_values(void)
{
	for (int kind = 0; kind < 2; kind++)
	{
		for (int mode = 0; mode < 4; mode++)
		{
			/*
			 * mode 0: low x -> 0, high -> 10, missing -> 10: default right
			 * mode 1: low x -> 10, high -> 0, missing -> 10: default left
			 * mode 2: no missing; step at 5.5, left (5 rows) heavier
			 * mode 3: no missing; step at 3.5, right (5 rows) heavier
			 */
			const int	nmiss = mode < 2 ? 4 : 0;
			const double step = mode == 2 ? 5.5 : mode == 3 ? 3.5 : 4.5;
			dset		s;
			mlx_tree_params p = params(kind == 0 ? DT : GB, REG, 0);
			mlx_tree_fit fit;
			double		nan = NAN,
						x;
			int			want_dl = mode == 1 || mode == 2;
			double		miss_target = mode < 2 ? 10 : (mode == 2 ? 0 : 10);

			ds_init(&s, 8 + nmiss, 1);
			for (int i = 0; i < 8; i++)
			{
				X(&s, i, 0) = i + 1;
				s.y[i] = ((i + 1 < step) != (mode == 1)) ? 0 : 10;
			}
			for (int i = 8; i < 8 + nmiss; i++)
			{
				X(&s, i, 0) = NAN;
				s.y[i] = 10;
			}
			EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
			p.max_depth = 1;
			if (kind == 1)
			{
				p.n_estimators = 1;
				p.learning_rate = 1;
				p.lambda = 0;
			}
			if (!train_ok(&s, NULL, &p, &fit, NULL, NULL))
			{
				ds_free(&s);
				continue;
			}
			EXPECT(fit.nnodes == 3 && fit.feature[0] == 0, "kind %d mode %d: %d nodes",
				   kind, mode, fit.nnodes);
			if (fit.nnodes == 3)
			{
				EXPECT(fit.threshold[0] == step, "kind %d mode %d: threshold %g, want %g",
					   kind, mode, fit.threshold[0], step);
				EXPECT(fit.default_left[0] == want_dl, "kind %d mode %d: default_left %d, want %d",
					   kind, mode, fit.default_left[0], want_dl);
				/* missing rows (if any) ended up where the trainer sent them */
				EXPECT(fit.cover[want_dl ? fit.left[0] : fit.right[0]] ==
					   (want_dl ? step - 0.5 : 8 - (step - 0.5)) + nmiss,
					   "kind %d mode %d: the default side covers %g rows", kind, mode,
					   fit.cover[want_dl ? fit.left[0] : fit.right[0]]);
			}
			EXPECT_NEAR(predict1(&fit, &nan), miss_target, 1e-12, "prediction of a missing x");
			x = 1;
			EXPECT_NEAR(predict1(&fit, &x), mode == 1 ? 10 : 0, 1e-12, "prediction at x = 1");
			x = 8;
			EXPECT_NEAR(predict1(&fit, &x), mode == 1 ? 0 : 10, 1e-12, "prediction at x = 8");
			fit_free(&tctx, &fit);
			ds_free(&s);
		}
	}
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * A feature that is only ever missing can't split; another one carries
 * the signal.  And a classification tree whose missing rows are all one
 * class sends them to the side where that class is.
 */
static void
t_missing_values_more(void)
{
	dset		s;
	mlx_tree_params p = params(DT, BIN, 2);
	mlx_tree_fit fit;

	ds_init(&s, 20, 2);
	for (int i = 0; i < 20; i++)
	{
		X(&s, i, 0) = NAN;
		X(&s, i, 1) = i < 16 ? i : NAN;
		/* class 1 for x >= 10 and for the missing rows */
		s.y[i] = (i >= 10) ? 1 : 0;
	}
	EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
	EXPECT(s.ncuts[0] == 0, "all-missing feature has %d cuts", s.ncuts[0]);
	p.max_depth = 3;
	if (train_ok(&s, NULL, &p, &fit, NULL, NULL))
	{
		double		row[2] = {NAN, NAN};

		EXPECT(fit.nnodes == 3 && fit.feature[0] == 1, "%d nodes, root feature %d",
			   fit.nnodes, fit.feature[0]);
		EXPECT(fit.threshold[0] == 9.5 && fit.default_left[0] == 0,
			   "threshold %g default_left %d, want 9.5 / 0", fit.threshold[0], fit.default_left[0]);
		EXPECT(predict1(&fit, row) == 1, "missing row: P(1) = %g", predict1(&fit, row));
		row[1] = 3;
		EXPECT(predict1(&fit, row) == 0, "x = 3: P(1) = %g", predict1(&fit, row));
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 5. boosting ---------- */

static void
make_smooth(dset *s, int64_t n, int32_t F, uint64_t seed)
{
	ds_init(s, n, F);
	rng_seed(seed);
	for (int64_t i = 0; i < n; i++)
	{
		for (int32_t j = 0; j < F; j++)
			X(s, i, j) = rng_unif() * 4 - 2;
		s->y[i] = 3 * sin(X(s, i, 0)) + X(s, i, 1) + 0.3 * rng_norm();
	}
}

/*
 * Squared error: the training loss never rises from round to round (each
 * leaf moves its rows toward their mean), falls overall, and the last one
 * is the RMSE of the model's predictions.  Base score = mean; every round
 * one tree; leaf values carry the learning rate.
 */
static void
t_boosting_regression_loss(void)
{
	dset		s;
	mlx_tree_params p = params(GB, REG, 0);
	mlx_tree_fit fit;
	double		loss[30],
				mean = 0,
				sse = 0,
				sst = 0;
	int			nr = -1;

	make_smooth(&s, 300, 3, 3);
	EXPECT_ST(ds_edges(&s, 64, false), MLX_OK);
	p.n_estimators = 30;
	p.max_depth = 3;
	p.lambda = 1;
	for (int i = 0; i < 30; i++)
		loss[i] = NAN;
	if (train_ok(&s, NULL, &p, &fit, loss, &nr))
	{
		for (int i = 0; i < s.n; i++)
			mean += s.y[i];
		mean /= s.n;
		EXPECT_NEAR(fit.base_score[0], mean, 1e-12, "base score = mean");
		EXPECT(nr == 30 && fit.ntrees == 30 && fit.best_iteration == 30,
			   "%d rounds, %d trees, best %d", nr, fit.ntrees, fit.best_iteration);
		for (int r = 1; r < 30; r++)
			EXPECT(loss[r] <= loss[r - 1] * (1 + 1e-12), "loss rose at round %d: %.17g > %.17g",
				   r, loss[r], loss[r - 1]);
		EXPECT(loss[29] < 0.6 * loss[0], "loss fell from %g to %g only", loss[0], loss[29]);
		for (int i = 0; i < s.n; i++)
		{
			double		d = s.y[i] - predict1(&fit, &X(&s, i, 0));

			sse += d * d;
			sst += (s.y[i] - mean) * (s.y[i] - mean);
		}
		EXPECT_NEAR(loss[29], sqrt(sse / s.n), 1e-9, "last loss = RMSE of the predictions");
		EXPECT(sse < 0.2 * sst, "R^2 only %g", 1 - sse / sst);
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * Binary logistic: base score log(ybar / (1 - ybar)) (30% positives),
 * predictions strictly inside (0, 1) that separate two separable classes,
 * the last loss the log-loss of the predictions.
 */
static void
t_boosting_binary(void)
{
	dset		s;
	mlx_tree_params p = params(GB, BIN, 2);
	mlx_tree_fit fit;
	double		loss[20],
				ll = 0;
	int			nr = -1,
				npos = 0;

	ds_init(&s, 200, 2);
	rng_seed(77);
	for (int i = 0; i < 200; i++)
	{
		double		u = rng_unif();

		/* class 1: x0 in (0.75, 1]; class 0: x0 in [0, 0.65) */
		s.y[i] = i % 10 < 3;
		X(&s, i, 0) = s.y[i] ? 0.75 + 0.25 * u : 0.65 * u;
		X(&s, i, 1) = rng_norm();
		npos += s.y[i] > 0;
	}
	EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
	p.n_estimators = 20;
	if (train_ok(&s, NULL, &p, &fit, loss, &nr))
	{
		double		ybar = npos / 200.0;

		EXPECT_NEAR(fit.base_score[0], log(ybar / (1 - ybar)), 1e-12, "base score = log-odds");
		EXPECT(nr == 20 && fit.ntrees == 20 && fit.ngroups == 1, "%d rounds %d trees",
			   nr, fit.ntrees);
		for (int i = 0; i < s.n; i++)
		{
			double		pr = predict1(&fit, &X(&s, i, 0));

			EXPECT(pr > 0 && pr < 1, "row %d: probability %g", i, pr);
			EXPECT(s.y[i] ? pr > 0.9 : pr < 0.1, "row %d of class %g: P(1) = %g", i, s.y[i], pr);
			ll -= s.y[i] ? log(pr) : log(1 - pr);
		}
		EXPECT_NEAR(loss[19], ll / s.n, 1e-9, "last loss = log-loss of the predictions");
		EXPECT(loss[19] < loss[0], "log-loss did not fall: %g -> %g", loss[0], loss[19]);
		fit_free(&tctx, &fit);
	}
	/* all one class: a finite base score, predictions of that class */
	for (int i = 0; i < s.n; i++)
		s.y[i] = 1;
	if (train_ok(&s, NULL, &p, &fit, NULL, NULL))
	{
		EXPECT(isfinite(fit.base_score[0]) && fit.base_score[0] > 5,
			   "all positives: base score %g", fit.base_score[0]);
		EXPECT(predict1(&fit, &X(&s, 0, 0)) > 0.99, "all positives: P(1) %g",
			   predict1(&fit, &X(&s, 0, 0)));
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * Multiclass softmax, 4 classes: ntrees = rounds * K with tree t for class
 * t % K, probabilities that sum to 1 and pick the right blob, the last
 * loss the multiclass log-loss of the predictions.
 */
static void
t_boosting_multiclass(void)
{
	const int	K = 4;
	dset		s;
	mlx_tree_params p = params(GB, MUL, K);
	mlx_tree_fit fit;
	double		loss[8],
				ll = 0;
	int			nr = -1,
				right = 0;

	make_classes(&s, 240, 4, K, 99);
	EXPECT_ST(ds_edges(&s, 32, false), MLX_OK);
	p.n_estimators = 8;
	if (train_ok(&s, NULL, &p, &fit, loss, &nr))
	{
		EXPECT(nr == 8 && fit.ntrees == 8 * K && fit.ngroups == K && fit.best_iteration == 8,
			   "%d rounds, %d trees, %d groups", nr, fit.ntrees, fit.ngroups);
		for (int i = 0; i < s.n; i++)
		{
			double		out[MAXK],
						sum = 0;
			int			best = 0;

			mlx_tree_predict(&fit, &X(&s, i, 0), out);
			for (int k = 0; k < K; k++)
			{
				EXPECT(out[k] > 0 && out[k] < 1, "row %d class %d: %g", i, k, out[k]);
				sum += out[k];
				if (out[k] > out[best])
					best = k;
			}
			EXPECT_NEAR(sum, 1, 1e-12, "probabilities sum");
			right += best == (int) s.y[i];
			ll -= log(out[(int) s.y[i]]);
		}
		EXPECT(right >= 0.85 * s.n, "only %d of %d rows classified right", right, (int) s.n);
		EXPECT_NEAR(loss[7], ll / s.n, 1e-9, "last loss = multiclass log-loss");
		for (int r = 1; r < 8; r++)
			EXPECT(loss[r] < loss[r - 1], "log-loss rose at round %d", r);
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * Subsample and colsample take effect: with subsample 1 every tree's root
 * covers all rows, with 0.5 about half and not always the same number,
 * and the rows left out still move by the tree's leaf (the training loss
 * is that of the model's predictions on every row);
 * with colsample keeping 1 of 3 features every tree splits on one feature
 * only, and not every tree on the same one.
 */
static void
t_boosting_sampling(void)
{
	dset		s;
	mlx_tree_params p = params(GB, REG, 0);
	mlx_tree_fit fit;
	double		loss[12];

	make_smooth(&s, 400, 3, 8);
	EXPECT_ST(ds_edges(&s, 64, true), MLX_OK);
	p.n_estimators = 12;
	p.max_depth = 2;
	if (train_ok(&s, NULL, &p, &fit, NULL, NULL))
	{
		for (int t = 0; t < fit.ntrees; t++)
			EXPECT(fit.cover[fit.tree_start[t]] == 400, "subsample 1: tree %d root covers %g",
				   t, fit.cover[fit.tree_start[t]]);
		fit_free(&tctx, &fit);
	}
	p.subsample = 0.5;
	if (train_ok(&s, NULL, &p, &fit, loss, NULL))
	{
		bool		varies = false;
		double		sse = 0;

		/* rows left out of a tree's sample still get its leaf value */
		for (int i = 0; i < s.n; i++)
		{
			double		d = s.y[i] - predict1(&fit, &X(&s, i, 0));

			sse += d * d;
		}
		EXPECT_NEAR(loss[11], sqrt(sse / s.n), 1e-9,
					"subsample 0.5: last loss = RMSE of the predictions on every row");

		for (int t = 0; t < fit.ntrees; t++)
		{
			double		c = fit.cover[fit.tree_start[t]];

			EXPECT(c >= 140 && c <= 260, "subsample 0.5: tree %d root covers %g of 400", t, c);
			varies |= c != fit.cover[0];
		}
		EXPECT(varies, "subsample 0.5: every tree covers %g rows", fit.cover[0]);
		fit_free(&tctx, &fit);
	}
	/* a share so small that no row is drawn: one row per tree */
	p.subsample = 1e-9;
	if (train_ok(&s, NULL, &p, &fit, loss, NULL))
	{
		double		sse = 0;

		for (int i = 0; i < s.n; i++)
		{
			double		d = s.y[i] - predict1(&fit, &X(&s, i, 0));

			sse += d * d;
		}
		EXPECT_NEAR(loss[11], sqrt(sse / s.n), 1e-9,
					"subsample 1e-9: last loss = RMSE of the predictions on every row");
		for (int t = 0; t < fit.ntrees; t++)
			EXPECT(fit.nnodes == fit.ntrees && fit.cover[fit.tree_start[t]] == 1,
				   "subsample 1e-9: tree %d root covers %g rows (%d nodes)", t,
				   fit.cover[fit.tree_start[t]], fit.nnodes);
		fit_free(&tctx, &fit);
	}
	p.subsample = 1;
	p.colsample = 0.34;			/* round(0.34 * 3) = 1 feature per tree */
	if (train_ok(&s, NULL, &p, &fit, NULL, NULL))
	{
		int			seen = 0;

		for (int t = 0; t < fit.ntrees; t++)
		{
			int			f = -1;

			for (int32_t i = fit.tree_start[t]; i < fit.tree_start[t + 1]; i++)
			{
				if (fit.feature[i] < 0)
					continue;
				EXPECT(f < 0 || fit.feature[i] == f, "colsample 1/3: tree %d splits on %d and %d",
					   t, f, fit.feature[i]);
				f = fit.feature[i];
			}
			if (f >= 0)
				seen |= 1 << f;
		}
		EXPECT(seen != 1 && seen != 2 && seen != 4, "colsample 1/3: every tree on one feature (mask %d)", seen);
		fit_free(&tctx, &fit);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- random forests ---------- */

/*
 * Without bootstrap and with every feature tried, each forest tree is the
 * decision tree.  With bootstrap every root covers n rows (multiplicities
 * sum to n) and the trees differ; classification leaves hold proportions.
 * With max_features 1 of 3 some roots split on a noise feature, with all 3
 * none does.  DT/RF never touch the loss array; nrounds is the tree count.
 */
static void
t_random_forest(void)
{
	dset		s;
	mlx_tree_params pd = params(DT, MUL, 3);
	mlx_tree_params pr = params(RF, MUL, 3);
	mlx_tree_fit dt,
				rf;
	double		loss[4] = {-7, -7, -7, -7};
	int			nr = -1;

	make_classes(&s, 150, 3, 3, 5);
	/* feature 0 carries the class best; make 1 and 2 pure noise */
	rng_seed(1234);
	for (int i = 0; i < s.n; i++)
	{
		X(&s, i, 0) = s.y[i] * 2 + rng_norm() * 0.6;
		X(&s, i, 1) = rng_norm();
		X(&s, i, 2) = rng_norm();
	}
	EXPECT_ST(ds_edges(&s, 255, true), MLX_OK);
	pd.max_depth = pr.max_depth = 4;
	pr.n_estimators = 4;
	pr.bootstrap = false;
	if (train_ok(&s, NULL, &pd, &dt, NULL, NULL))
	{
		if (train_ok(&s, NULL, &pr, &rf, loss, &nr))
		{
			EXPECT(rf.ntrees == 4 && nr == 4 && rf.best_iteration == 4, "%d trees, %d rounds",
				   rf.ntrees, nr);
			EXPECT(loss[0] == -7 && loss[3] == -7, "a forest wrote the loss array");
			for (int t = 0; t < rf.ntrees; t++)
			{
				int32_t		b = rf.tree_start[t];
				int32_t		m = rf.tree_start[t + 1] - b;

				EXPECT(m == dt.nnodes, "tree %d: %d nodes, DT %d", t, m, dt.nnodes);
				if (m != dt.nnodes)
					continue;
				EXPECT(memcmp(rf.feature + b, dt.feature, 4 * m) == 0 &&
					   memcmp(rf.threshold + b, dt.threshold, 8 * m) == 0 &&
					   memcmp(rf.left + b, dt.left, 4 * m) == 0 &&
					   memcmp(rf.value + (size_t) b * 3, dt.value, 8 * 3 * m) == 0,
					   "tree %d differs from the decision tree", t);
			}
			for (int i = 0; i < 10; i++)
			{
				double		a[3],
							c[3];

				mlx_tree_predict(&dt, &X(&s, i, 0), a);
				mlx_tree_predict(&rf, &X(&s, i, 0), c);
				EXPECT_NEAR(c[1], a[1], 1e-12, "forest of identical trees predicts as one");
			}
			fit_free(&tctx, &rf);
		}
		fit_free(&tctx, &dt);
	}

	pr.bootstrap = true;
	pr.n_estimators = 20;
	pr.max_features = 0;
	if (train_ok(&s, NULL, &pr, &rf, NULL, NULL))
	{
		bool		differ = false;

		for (int t = 0; t < rf.ntrees; t++)
		{
			int32_t		r = rf.tree_start[t];

			EXPECT(rf.cover[r] == s.n, "bootstrap: tree %d root covers %g", t, rf.cover[r]);
			EXPECT(rf.feature[r] == 0, "all features tried: tree %d root on feature %d",
				   t, rf.feature[r]);
			differ |= rf.threshold[r] != rf.threshold[0] || rf.value[3 * r] != rf.value[0];
		}
		EXPECT(differ, "bootstrap: all 20 roots identical");
		for (int32_t i = 0; i < rf.nnodes; i++)
			EXPECT_NEAR(rf.value[3 * i] + rf.value[3 * i + 1] + rf.value[3 * i + 2], 1, 1e-12,
						"class proportions sum");
		fit_free(&tctx, &rf);
	}
	pr.max_features = 1;
	if (train_ok(&s, NULL, &pr, &rf, NULL, NULL))
	{
		int			noise_roots = 0;

		for (int t = 0; t < rf.ntrees; t++)
			noise_roots += rf.feature[rf.tree_start[t]] > 0;
		EXPECT(noise_roots >= 3, "max_features 1: %d of 20 roots on a noise feature", noise_roots);
		fit_free(&tctx, &rf);
	}
	ds_free(&s);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 6. determinism ---------- */

/* Two fits of the same parameters; both must be identical (or not). */
static void
same_or_different(const char *what, const dset *s, const dset *va,
				  const mlx_tree_params *p1, const mlx_tree_params *p2,
				  bool want_same)
{
	mlx_tree_fit a,
				b;
	double		la[64],
				lb[64];
	int			na = -1,
				nb = -2;

	memset(la, 0, sizeof(la));
	memset(lb, 0, sizeof(lb));
	if (!train_ok(s, va, p1, &a, la, &na))
		return;
	if (train_ok(s, va, p2, &b, lb, &nb))
	{
		bool		same = fits_equal(&a, &b) && na == nb &&
			memcmp(la, lb, sizeof(la)) == 0;

		EXPECT(same == want_same, "%s: fits %s", what, same ? "identical" : "differ");
		fit_free(&tctx, &b);
	}
	fit_free(&tctx, &a);
}

/*
 * The same seed gives the same fit, bit for bit (boosting with row and
 * feature subsampling; forests with bootstrap and max_features); another
 * seed a different one.
 */
static void
t_determinism_seed(void)
{
	dset		s,
				c;
	mlx_tree_params g = params(GB, REG, 0);
	mlx_tree_params f = params(RF, MUL, 3);
	mlx_tree_params m = params(GB, MUL, 3);
	mlx_tree_params q;

	make_smooth(&s, 300, 5, 21);
	make_classes(&c, 300, 5, 3, 22);
	EXPECT_ST(ds_edges(&s, 64, false), MLX_OK);
	EXPECT_ST(ds_edges(&c, 64, true), MLX_OK);

	g.subsample = 0.7;
	g.colsample = 0.6;
	g.n_estimators = 8;
	g.seed = 1;
	same_or_different("boosting, same seed", &s, NULL, &g, &g, true);
	q = g;
	q.seed = 2;
	same_or_different("boosting, other seed", &s, NULL, &g, &q, false);
	q = g;
	q.subsample = 1;
	q.colsample = 1;
	same_or_different("boosting, subsampled vs not", &s, NULL, &g, &q, false);

	f.n_estimators = 6;
	f.bootstrap = true;
	f.max_features = 2;
	f.seed = 7;
	same_or_different("forest, same seed", &c, NULL, &f, &f, true);
	q = f;
	q.seed = 8;
	same_or_different("forest, other seed", &c, NULL, &f, &q, false);
	q = f;
	q.bootstrap = false;
	same_or_different("forest, bootstrap vs not", &c, NULL, &f, &q, false);

	m.subsample = 0.7;
	m.colsample = 0.6;
	m.n_estimators = 4;
	same_or_different("multiclass boosting, same seed", &c, NULL, &m, &m, true);
	q = m;
	q.seed = 99;
	same_or_different("multiclass boosting, other seed", &c, NULL, &m, &q, false);
	ds_free(&s);
	ds_free(&c);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/*
 * 20000 rows reach the threaded histogram path (HIST_PARTS slices of
 * >= PARALLEL_MIN_ROWS rows): 1 and 3 threads give byte-identical fits
 * and losses.  Three threads allocate more blocks (the pool's thread and
 * worker arrays) than one, so the pool did start.
 */
static void
t_determinism_threads(void)
{
	dset		s,
				c;
	mlx_tree_params g = params(GB, REG, 0);
	mlx_tree_params f = params(RF, BIN, 2);
	mlx_tree_params q;
	long		allocs[2];

	make_smooth(&s, 20000, 4, 31);
	EXPECT_ST(ds_edges(&s, 255, false), MLX_OK);
	ds_init(&c, 20000, 4);
	rng_seed(32);
	for (int i = 0; i < c.n; i++)
	{
		for (int j = 0; j < 4; j++)
			X(&c, i, j) = rng_norm();
		c.y[i] = X(&c, i, 0) + X(&c, i, 1) * X(&c, i, 2) + 0.5 * rng_norm() > 0;
	}
	EXPECT_ST(ds_edges(&c, 128, true), MLX_OK);

	g.n_estimators = 3;
	g.max_depth = 4;
	g.subsample = 0.9;
	q = g;
	q.nthreads = 3;
	same_or_different("boosting, 1 vs 3 threads", &s, NULL, &g, &q, true);

	/* count the allocations of each */
	for (int k = 0; k < 2; k++)
	{
		counting	cnt = {0, 0, -1};
		mlx_ctx		cc = {counting_alloc, counting_free, NULL, &cnt};
		mlx_tree_fit fit;

		q.nthreads = k ? 3 : 1;
		EXPECT_ST(mlx_tree_train(&s.d, NULL, &q, &cc, &fit, NULL, NULL, NULL, 0), MLX_OK);
		fit_free(&cc, &fit);
		allocs[k] = cnt.nalloc;
		EXPECT(cnt.live == 0, "%ld blocks leaked", cnt.live);
	}
	EXPECT(allocs[1] > allocs[0], "1 thread %ld allocations, 3 threads %ld",
		   allocs[0], allocs[1]);

	f.n_estimators = 2;
	f.max_depth = 5;
	f.max_features = 2;
	q = f;
	q.nthreads = 3;
	same_or_different("forest, 1 vs 3 threads", &c, NULL, &f, &q, true);
	ds_free(&s);
	ds_free(&c);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 7. early stopping ---------- */

/* validation loss of a fit on raw rows: RMSE, or the mean log-loss */
static double
valid_loss(const mlx_tree_fit *f, const dset *v)
{
	double		sum = 0;

	for (int64_t i = 0; i < v->n; i++)
	{
		double		out[MAXK];

		mlx_tree_predict(f, &X(v, i, 0), out);
		if (f->objective == REG)
			sum += (out[0] - v->y[i]) * (out[0] - v->y[i]);
		else if (f->objective == BIN)
			sum -= v->y[i] ? log(out[0]) : log(1 - out[0]);
		else
			sum -= log(out[(int) v->y[i]]);
	}
	sum /= v->n;
	return f->objective == REG ? sqrt(sum) : sum;
}

/*
 * On noise targets the validation loss soon stops improving.  Replaying
 * 1, 2, ... rounds without early stopping gives the validation loss after
 * each round: the fit keeps the rounds up to the first best one
 * (best_iteration, ntrees = best_iteration * ngroups) and training stopped
 * early_stopping_rounds rounds after it (the loss array written that far
 * and no further), well before n_estimators.
 */
static void
check_early_stopping(int objective, int K)
{
	const int	N = 60,
				ESR = 3;
	dset		tr,
				va;
	mlx_tree_params p = params(GB, objective, K);
	mlx_tree_fit fit;
	double		loss[60];
	double		vl[61];
	int			nr = -1,
				best = -1,
				stop = -1,
				written = 0;

	ds_init(&tr, 150, 3);
	ds_init(&va, 150, 3);
	rng_seed(objective * 10 + K);
	for (int i = 0; i < 150; i++)
	{
		for (int j = 0; j < 3; j++)
		{
			X(&tr, i, j) = rng_norm();
			X(&va, i, j) = rng_norm();
		}
		tr.y[i] = objective == REG ? rng_norm() : (int) (rng_unif() * (K ? K : 2));
		va.y[i] = objective == REG ? rng_norm() : (int) (rng_unif() * (K ? K : 2));
	}
	EXPECT_ST(ds_edges(&tr, 255, true), MLX_OK);
	ds_bin_with(&va, &tr);
	p.learning_rate = 0.5;
	p.max_depth = 4;
	p.lambda = 0.1;
	p.n_estimators = N;
	p.early_stopping_rounds = ESR;
	for (int i = 0; i < N; i++)
		loss[i] = -1;
	if (!train_ok(&tr, &va, &p, &fit, loss, &nr))
		goto out;
	for (int i = 0; i < N; i++)
		written += loss[i] != -1;

	/* replay */
	{
		mlx_tree_params q = p;
		double		bestv = INFINITY;

		q.early_stopping_rounds = 0;
		for (int k = 1; k <= N && stop < 0; k++)
		{
			mlx_tree_fit f;

			q.n_estimators = k;
			if (!train_ok(&tr, NULL, &q, &f, NULL, NULL))
				goto out2;
			vl[k] = valid_loss(&f, &va);
			fit_free(&tctx, &f);
			if (vl[k] < bestv)
			{
				bestv = vl[k];
				best = k;
			}
			else if (k - best >= ESR)
				stop = k;
		}
	}
	EXPECT(stop > 0 && stop < N, "objective %d: replay ran %d rounds without stopping",
		   objective, N);
	EXPECT(fit.best_iteration == best && nr == best,
		   "objective %d: best iteration %d (nrounds %d), replay finds %d",
		   objective, fit.best_iteration, nr, best);
	EXPECT(fit.ntrees == fit.best_iteration * fit.ngroups,
		   "objective %d: %d trees for best iteration %d of %d groups", objective,
		   fit.ntrees, fit.best_iteration, fit.ngroups);
	EXPECT(written == stop, "objective %d: the loss array has %d rounds, replay stops after %d",
		   objective, written, stop);
	EXPECT(fit.best_iteration < N && written < N, "objective %d: ran all %d rounds",
		   objective, N);
	/* the kept model is the replayed one: same validation loss */
	if (best > 0)
		EXPECT_NEAR(valid_loss(&fit, &va), vl[best], 1e-12, "validation loss of the kept model");
out2:
	fit_free(&tctx, &fit);
out:
	ds_free(&tr);
	ds_free(&va);
}

static void
t_early_stopping(void)
{
	check_early_stopping(REG, 0);
	check_early_stopping(MUL, 3);
	check_early_stopping(BIN, 2);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* Validation data without early_stopping_rounds changes nothing. */
static void
t_valid_without_early_stopping(void)
{
	dset		tr,
				va;
	mlx_tree_params p = params(GB, REG, 0);

	make_smooth(&tr, 100, 2, 41);
	make_smooth(&va, 50, 2, 42);
	EXPECT_ST(ds_edges(&tr, 255, true), MLX_OK);
	ds_bin_with(&va, &tr);
	p.n_estimators = 15;
	same_or_different("valid without early stopping", &tr, &va, &p, &p, true);
	{
		mlx_tree_fit a,
					b;

		if (train_ok(&tr, &va, &p, &a, NULL, NULL))
		{
			if (train_ok(&tr, NULL, &p, &b, NULL, NULL))
			{
				EXPECT(fits_equal(&a, &b) && a.ntrees == 15, "validation data changed the fit");
				fit_free(&tctx, &b);
			}
			fit_free(&tctx, &a);
		}
	}
	ds_free(&tr);
	ds_free(&va);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 8. interrupts ---------- */

typedef struct tjob
{
	const char *name;
	dset	   *tr;
	dset	   *va;
	mlx_tree_params p;
} tjob;

/*
 * Interrupt after N polls for N in [from, to) (step): MLX_EINTR every
 * time, nothing left allocated, the fit zeroed; and a full run polls.
 */
static void
interrupt_sweep(const tjob *j, long step)
{
	mlx_tree_fit fit;
	double		loss[64];
	int			nr;
	long		total;
	char		err[256];
	int			bad = 0;

	if (!train_ok(j->tr, j->va, &j->p, &fit, loss, &nr))
		return;
	total = talloc.polls;
	fit_free(&tctx, &fit);
	EXPECT(total >= 2, "%s: %ld interrupt polls in a whole run", j->name, total);
	for (long n = 0; n < total; n += (n < 8 ? 1 : step))
	{
		mlx_status	st;

		ctx_reset();
		talloc.interrupt_after = n;
		memset(&fit, 0x5a, sizeof(fit));
		nr = -1;
		st = mlx_tree_train(&j->tr->d, j->va ? &j->va->d : NULL, &j->p, &tctx,
							&fit, loss, &nr, err, sizeof(err));
		if (st != MLX_EINTR || talloc.live != 0 || !all_zero(&fit, sizeof(fit)) || nr != 0)
		{
			if (bad++ == 0)
				fail_at(__LINE__, "%s, interrupt after %ld of %ld polls: %s, %ld blocks live, fit %s, nrounds %d",
						j->name, n, total, mlx_status_str(st), talloc.live,
						all_zero(&fit, sizeof(fit)) ? "zeroed" : "not zeroed", nr);
			if (st == MLX_OK)
				fit_free(&tctx, &fit);
			talloc.live = 0;
		}
	}
	/* one poll more than needed: a normal fit */
	ctx_reset();
	talloc.interrupt_after = total;
	if (train_ok(j->tr, j->va, &j->p, &fit, loss, &nr))
		fit_free(&tctx, &fit);
}

static void
t_interrupts(void)
{
	dset		a,
				b,
				bv,
				c,
				big;
	tjob		j;

	make_classes(&a, 80, 3, 3, 61);
	EXPECT_ST(ds_edges(&a, 255, true), MLX_OK);
	make_smooth(&b, 120, 3, 62);
	make_smooth(&bv, 40, 3, 63);
	EXPECT_ST(ds_edges(&b, 255, true), MLX_OK);
	ds_bin_with(&bv, &b);
	make_classes(&c, 90, 3, 3, 64);
	EXPECT_ST(ds_edges(&c, 255, true), MLX_OK);
	make_smooth(&big, 20000, 3, 65);
	EXPECT_ST(ds_edges(&big, 255, false), MLX_OK);

	j = (tjob) {"decision tree, 3 classes", &a, NULL, params(DT, MUL, 3)};
	j.p.max_depth = 5;
	interrupt_sweep(&j, 1);

	j = (tjob) {"boosting with validation", &b, &bv, params(GB, REG, 0)};
	j.p.n_estimators = 6;
	j.p.subsample = 0.8;
	j.p.early_stopping_rounds = 10;
	interrupt_sweep(&j, 1);

	j = (tjob) {"multiclass boosting", &c, NULL, params(GB, MUL, 3)};
	j.p.n_estimators = 3;
	interrupt_sweep(&j, 1);

	j = (tjob) {"forest", &c, NULL, params(RF, BIN, 2)};
	for (int i = 0; i < c.n; i++)
		c.y[i] = c.y[i] > 1;
	j.p.n_estimators = 4;
	j.p.max_features = 2;
	interrupt_sweep(&j, 1);

	j = (tjob) {"threaded boosting, 20000 rows", &big, NULL, params(GB, REG, 0)};
	j.p.n_estimators = 2;
	j.p.max_depth = 3;
	j.p.nthreads = 2;
	interrupt_sweep(&j, 3);

	ds_free(&a);
	ds_free(&b);
	ds_free(&bv);
	ds_free(&c);
	ds_free(&big);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- 9. allocation failures ---------- */

/* An allocator that fails attempt fail_at (once, or from then on). */
typedef struct failer
{
	long		attempts;
	long		live;
	long		fail_at;		/* < 0: never */
	bool		once;
} failer;

static void *
fl_alloc(void *arg, size_t size)
{
	failer	   *f = arg;
	long		k = f->attempts++;
	void	   *p;

	if (f->fail_at >= 0 && (f->once ? k == f->fail_at : k >= f->fail_at))
		return NULL;
	p = malloc(size);
	if (p != NULL)
		f->live++;
	return p;
}

static void
fl_free(void *arg, void *ptr)
{
	failer	   *f = arg;

	if (ptr != NULL)
		f->live--;
	free(ptr);
}

/*
 * Run fn(arg) in a forked child and return its wait status, so a crash or
 * a sanitizer report ends the child only.  The child's stderr goes to
 * /dev/null unless TEST_TREE_CHILD_STDERR is set.
 */
static int
in_child(int (*fn) (const void *arg), const void *arg)
{
	pid_t		pid;
	int			status = 0;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return 0xff00;
	if (pid == 0)
	{
		if (getenv("TEST_TREE_CHILD_STDERR") == NULL)
		{
			int			fd = open("/dev/null", O_WRONLY);

			if (fd >= 0)
				dup2(fd, 2);
		}
		alarm(60);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		status = 0xff00;
	return status;
}

/* child exit codes */
#define CH_OK 0
#define CH_STATUS 40
#define CH_LEAK 41
#define CH_NOT_ZEROED 42

typedef struct enomem_arg
{
	const tjob *j;
	long		k;
	bool		once;
} enomem_arg;

static int
enomem_child(const void *arg)
{
	const enomem_arg *a = arg;
	const tjob *j = a->j;
	failer		f = {0, 0, a->k, a->once};
	mlx_ctx		c = {fl_alloc, fl_free, NULL, &f};
	mlx_tree_fit fit;
	double		loss[64];
	int			nr = -1;
	char		err[256] = "";
	mlx_status	st;

	memset(&fit, 0x5a, sizeof(fit));
	st = mlx_tree_train(&j->tr->d, j->va ? &j->va->d : NULL, &j->p, &c, &fit,
						loss, &nr, err, sizeof(err));
	if (st != MLX_ENOMEM)
		return CH_STATUS;
	if (f.live != 0)
		return CH_LEAK;
	if (!all_zero(&fit, sizeof(fit)) || nr != 0)
		return CH_NOT_ZEROED;
	return CH_OK;
}

/* a short word for a child's end */
static const char *
exit_word(int status)
{
	if (WIFSIGNALED(status))
		return "crash";
	switch (WEXITSTATUS(status))
	{
		case CH_OK:
			return "ok";
		case CH_STATUS:
			return "status";
		case CH_LEAK:
			return "leak";
		case CH_NOT_ZEROED:
			return "not-zeroed";
	}
	return "sanitizer";			/* ASan/UBSan report (exit 1) */
}

/*
 * Fail allocation k, for every k below the number a whole run makes, both
 * once (later ones succeed) and from k on: MLX_ENOMEM every time, every
 * block freed, the fit zeroed.  Each run is a forked child, so a crash is
 * one failure, reported with the others as "once k=3 sanitizer, ...":
 * "sanitizer" is an ASan/UBSan report (a NULL dereference, say), "leak"
 * blocks left allocated, "status" another status than MLX_ENOMEM.
 */
static void
enomem_sweep(const tjob *j)
{
	failer		f = {0, 0, -1, false};
	mlx_ctx		c = {fl_alloc, fl_free, NULL, &f};
	mlx_tree_fit fit;
	double		loss[64];
	int			nr;
	long		total;
	int			bad = 0;
	char		msg[1200] = "";
	size_t		off = 0;
	char		err[256] = "";

	if (mlx_tree_train(&j->tr->d, j->va ? &j->va->d : NULL, &j->p, &c, &fit,
					   loss, &nr, err, sizeof(err)) != MLX_OK)
	{
		fail_at(__LINE__, "%s: the run without failures fails: %s", j->name, err);
		return;
	}
	err[0] = '\0';
	if (!mlx_tree_fit_check(&fit, j->tr->F, err, sizeof(err)))
		fail_at(__LINE__, "%s: fit fails the check: %s", j->name, err);
	n_fits_checked++;
	fit_free(&c, &fit);
	total = f.attempts;
	EXPECT(f.live == 0, "%s: %ld blocks leaked by a normal run", j->name, f.live);
	for (int mode = 0; mode < 2; mode++)
	{
		for (long k = 0; k < total; k++)
		{
			enomem_arg	a = {j, k, mode == 0};
			int			status = in_child(enomem_child, &a);

			if (!(WIFEXITED(status) && WEXITSTATUS(status) == CH_OK))
			{
				if (off < sizeof(msg))
					off += snprintf(msg + off, sizeof(msg) - off, "%s%s k=%ld %s",
									bad ? ", " : "", mode == 0 ? "once" : "from",
									k, exit_word(status));
				bad++;
			}
		}
	}
	if (bad > 0)
	{
		fail_at(__LINE__, "%s: %d of %ld runs bad (%ld allocations): %s", j->name, bad,
				2 * total, total, msg);
		printf("  detail: %s: %s\n", j->name, msg);
	}
}

/* data of the allocation-failure sweeps */
static dset af_a,
			af_b,
			af_bv,
			af_c,
			af_st,
			af_big;

static void
af_setup(void)
{
	make_classes(&af_a, 60, 3, 3, 71);
	EXPECT_ST(ds_edges(&af_a, 255, true), MLX_OK);
	make_classes(&af_c, 60, 3, 3, 72);
	EXPECT_ST(ds_edges(&af_c, 255, true), MLX_OK);
	make_smooth(&af_b, 80, 3, 73);
	make_smooth(&af_bv, 30, 3, 74);
	EXPECT_ST(ds_edges(&af_b, 255, true), MLX_OK);
	ds_bin_with(&af_bv, &af_b);
	ds_init(&af_st, 128, 1);
	for (int i = 0; i < 128; i++)
		X(&af_st, i, 0) = af_st.y[i] = i;
	EXPECT_ST(ds_edges(&af_st, 255, true), MLX_OK);
	make_smooth(&af_big, 20000, 2, 75);
	EXPECT_ST(ds_edges(&af_big, 64, false), MLX_OK);
}

static void
af_teardown(void)
{
	ds_free(&af_a);
	ds_free(&af_b);
	ds_free(&af_bv);
	ds_free(&af_c);
	ds_free(&af_st);
	ds_free(&af_big);
}

static void
t_enomem_decision_tree(void)
{
	tjob		j = {"decision tree, 3 classes, depth 3", &af_a, NULL, params(DT, MUL, 3)};

	j.p.max_depth = 3;
	enomem_sweep(&j);
}

static void
t_enomem_deep_tree(void)
{
	tjob		j = {"decision tree, 255 nodes", &af_st, NULL, params(DT, REG, 0)};

	j.p.max_depth = 7;
	enomem_sweep(&j);
}

static void
t_enomem_multiclass_boosting(void)
{
	tjob		j = {"multiclass boosting, subsample, validation", &af_c, &af_c, params(GB, MUL, 3)};

	j.p.n_estimators = 2;
	j.p.max_depth = 2;
	j.p.subsample = 0.8;
	j.p.early_stopping_rounds = 2;
	enomem_sweep(&j);
}

static void
t_enomem_boosting_valid(void)
{
	tjob		j = {"boosting, validation", &af_b, &af_bv, params(GB, REG, 0)};

	j.p.n_estimators = 2;
	j.p.max_depth = 2;
	j.p.early_stopping_rounds = 1;
	enomem_sweep(&j);
}

static void
t_enomem_forest(void)
{
	tjob		j = {"forest, bootstrap, max_features 2", &af_b, NULL, params(RF, REG, 0)};

	j.p.n_estimators = 2;
	j.p.max_depth = 2;
	j.p.max_features = 2;
	enomem_sweep(&j);
}

static void
t_enomem_threaded(void)
{
	tjob		j = {"threaded boosting, 20000 rows, 2 threads", &af_big, NULL, params(GB, REG, 0)};

	j.p.n_estimators = 1;
	j.p.max_depth = 2;
	j.p.nthreads = 2;
	enomem_sweep(&j);
}

/*
 * Validation data is checked like the training data: targets finite and,
 * for classifiers, class indexes 0..K-1, and the same number of features.
 * (Once only the training targets were checked: a validation class index
 * of -1 or K made eval_loss read outside the validation margins, a NaN
 * target disabled the improvement test, and valid->nfeat was ignored.)
 * Each run is a forked child.
 */
typedef struct vjob
{
	const dset *tr;
	const mlx_tree_data *va;
	mlx_tree_params p;
} vjob;

static int
valid_child(const void *arg)
{
	const vjob *v = arg;
	mlx_tree_fit fit;
	char		err[256] = "";
	mlx_status	st;

	st = mlx_tree_train(&v->tr->d, v->va, &v->p, &mlx_malloc_ctx, &fit, NULL,
						NULL, err, sizeof(err));
	if (st == MLX_OK)
		fit_free(&mlx_malloc_ctx, &fit);
	return st == MLX_EINVAL && err[0] != '\0' ? 0 : 10 + (int) st;
}

static void
t_valid_data_checked(void)
{
	dset		tr,
				va,
				cr,
				cv;
	mlx_tree_data bad;
	vjob		v;
	char		msg[600] = "";
	size_t		off = 0;
	struct
	{
		const char *what;
		int			classes;	/* 0 regression, 3 */
		int64_t		row;		/* -1: feature count instead */
		double		y;
	}			cases[] = {
		{"regression, NaN validation target", 0, 5, NAN},
		{"regression, infinite validation target", 0, 5, INFINITY},
		{"3 classes, validation class -1 in row 0", 3, 0, -1},
		{"3 classes, validation class 3 in the last row", 3, 39, 3},
		{"3 classes, validation class 1.5", 3, 7, 1.5},
		{"validation data with fewer features", 0, -1, 0},
	};

	make_smooth(&tr, 60, 3, 91);
	make_smooth(&va, 40, 3, 92);
	EXPECT_ST(ds_edges(&tr, 255, true), MLX_OK);
	ds_bin_with(&va, &tr);
	make_classes(&cr, 60, 3, 3, 93);
	make_classes(&cv, 40, 3, 3, 94);
	EXPECT_ST(ds_edges(&cr, 255, true), MLX_OK);
	ds_bin_with(&cv, &cr);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		dset	   *t = cases[i].classes ? &cr : &tr;
		dset	   *w = cases[i].classes ? &cv : &va;
		double		keep = 0;
		int			status;
		uint8_t    *narrow = NULL;

		v.tr = t;
		v.p = params(GB, cases[i].classes ? MUL : REG, cases[i].classes);
		v.p.n_estimators = 4;
		v.p.early_stopping_rounds = 2;
		bad = w->d;
		if (cases[i].row >= 0)
		{
			keep = w->y[cases[i].row];
			w->y[cases[i].row] = cases[i].y;
		}
		else
		{
			/* rows of 2 bytes, in a buffer of exactly 2 * n */
			narrow = malloc((size_t) w->n * 2);
			for (int64_t r = 0; r < w->n; r++)
				memcpy(narrow + 2 * r, w->bins + (size_t) r * w->F, 2);
			bad.nfeat = 2;
			bad.bins = narrow;
		}
		v.va = &bad;
		status = in_child(valid_child, &v);
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && off < sizeof(msg))
			off += snprintf(msg + off, sizeof(msg) - off, "%s%s: %s", off ? "; " : "",
							cases[i].what,
							WIFSIGNALED(status) ? "crash" :
							WEXITSTATUS(status) == 10 ? "MLX_OK" :
							WEXITSTATUS(status) > 10 ? mlx_status_str(WEXITSTATUS(status) - 10) :
							"sanitizer report");
		if (cases[i].row >= 0)
			w->y[cases[i].row] = keep;
		free(narrow);
	}
	EXPECT(off == 0, "not refused: %s", msg);
	if (off > 0)
		printf("  detail: %s\n", msg);
	ds_free(&tr);
	ds_free(&va);
	ds_free(&cr);
	ds_free(&cv);
}

/* ---------- 10. parameter validation ---------- */

static void
expect_einval_at(int line, const char *what, const dset *s, const mlx_tree_params *p)
{
	mlx_tree_fit fit;
	char		err[256] = "";
	double		loss[64];
	int			nr = -1;
	mlx_status	st;

	ctx_reset();
	memset(&fit, 0x5a, sizeof(fit));
	st = mlx_tree_train(&s->d, NULL, p, &tctx, &fit, loss, &nr, err, sizeof(err));
	if (st != MLX_EINVAL)
	{
		fail_at(line, "%s: %s, expected EINVAL", what, mlx_status_str(st));
		if (st == MLX_OK)
			fit_free(&tctx, &fit);
		return;
	}
	if (err[0] == '\0')
		fail_at(line, "%s: empty errbuf", what);
	if (!all_zero(&fit, sizeof(fit)) || nr != 0)
		fail_at(line, "%s: fit not zeroed", what);
	if (talloc.live != 0)
		fail_at(line, "%s: %ld blocks left", what, talloc.live);
}

#define EXPECT_EINVAL(what, s, p) expect_einval_at(__LINE__, (what), (s), (p))

/* Each field out of range, one at a time, from valid parameters. */
static void
t_parameter_validation(void)
{
	dset		r,
				c;
	int			kinds[3] = {DT, RF, GB};
	mlx_tree_params p;
	mlx_tree_fit fit;

	make_regression(&r, 30, 3, 81);
	make_classes(&c, 30, 3, 3, 82);
	EXPECT_ST(ds_edges(&r, 255, true), MLX_OK);
	EXPECT_ST(ds_edges(&c, 255, true), MLX_OK);

	for (int ki = 0; ki < 3; ki++)
	{
		int			k = kinds[ki];
		mlx_tree_params base = params(k, REG, 0);

		/* the base is valid: every refusal below is the field's */
		if (train_ok(&r, NULL, &base, &fit, NULL, NULL))
			fit_free(&tctx, &fit);
#define TRY(field, value) \
		do { p = base; p.field = (value); EXPECT_EINVAL(#field " = " #value, &r, &p); } while (0)
		TRY(n_estimators, 0);
		TRY(n_estimators, -1);
		TRY(max_depth, 0);
		TRY(max_depth, MLX_TREE_MAX_DEPTH + 1);
		TRY(min_child_weight, -1);
		TRY(min_child_weight, NAN);
		TRY(min_child_weight, INFINITY);
		TRY(lambda, -0.5);
		TRY(lambda, NAN);
		TRY(lambda, INFINITY);
		TRY(gamma, -1e-9);
		TRY(gamma, NAN);
		TRY(subsample, 0);
		TRY(subsample, 1.5);
		TRY(subsample, NAN);
		TRY(colsample, 0);
		TRY(colsample, 1.5);
		TRY(max_features, 4);
		TRY(max_features, -1);
		TRY(kind, 0);
		TRY(kind, 4);
		TRY(objective, 0);
		TRY(objective, 4);
		TRY(nclasses, 2);		/* regression with classes */
		TRY(early_stopping_rounds, -1);
		if (k == GB)
		{
			TRY(learning_rate, 0);
			TRY(learning_rate, 1.5);
			TRY(learning_rate, -0.1);
			TRY(learning_rate, NAN);
		}
		if (k == DT)
			TRY(n_estimators, 2);
#undef TRY
	}

	/* objective and classes disagree, classification targets out of range */
	p = params(DT, BIN, 2);
	for (int i = 0; i < c.n; i++)
		c.y[i] = c.y[i] > 0;
	if (train_ok(&c, NULL, &p, &fit, NULL, NULL))
		fit_free(&tctx, &fit);
	p.nclasses = 3;
	EXPECT_EINVAL("binary with 3 classes", &c, &p);
	p = params(GB, MUL, 2);
	EXPECT_EINVAL("multiclass with 2 classes", &c, &p);
	p = params(GB, MUL, MLX_TREE_MAX_CLASSES + 1);
	EXPECT_EINVAL("multiclass with too many classes", &c, &p);
	p = params(GB, MUL, 3);
	p.n_estimators = MLX_TREE_MAX_TREES / 3 + 1;
	EXPECT_EINVAL("n_estimators * classes above MLX_TREE_MAX_TREES", &c, &p);
	p = params(DT, BIN, 2);
	c.y[7] = 2;
	EXPECT_EINVAL("binary target 2", &c, &p);
	c.y[7] = -1;
	EXPECT_EINVAL("binary target -1", &c, &p);
	c.y[7] = 0.5;
	EXPECT_EINVAL("binary target 0.5", &c, &p);
	c.y[7] = NAN;
	EXPECT_EINVAL("binary target NaN", &c, &p);
	p = params(RF, MUL, 3);
	c.y[7] = 3;
	EXPECT_EINVAL("3-class target 3", &c, &p);
	c.y[7] = 1;

	/* regression targets must be finite */
	p = params(GB, REG, 0);
	r.y[3] = NAN;
	EXPECT_EINVAL("NaN target", &r, &p);
	r.y[3] = INFINITY;
	EXPECT_EINVAL("infinite target", &r, &p);
	r.y[3] = 1;

	/* data: rows, features, bins */
	p = params(DT, REG, 0);
	r.d.nrows = 0;
	EXPECT_EINVAL("no rows", &r, &p);
	r.d.nrows = r.n;
	r.d.nfeat = 0;
	EXPECT_EINVAL("no features", &r, &p);
	r.d.nfeat = r.F;
	{
		int32_t		keep = r.ncuts[1];

		r.ncuts[1] = MLX_TREE_MAX_BINS;
		EXPECT_EINVAL("ncuts 255", &r, &p);
		r.ncuts[1] = -1;
		EXPECT_EINVAL("ncuts -1", &r, &p);
		r.ncuts[1] = keep;
	}
	/* limits that are fine */
	p = params(GB, REG, 0);
	p.learning_rate = 1;
	p.max_depth = MLX_TREE_MAX_DEPTH;
	p.subsample = 1;
	p.max_features = 3;
	p.lambda = 0;
	p.min_child_weight = 0;
	if (train_ok(&r, NULL, &p, &fit, NULL, NULL))
		fit_free(&tctx, &fit);
	ds_free(&r);
	ds_free(&c);
	EXPECT(talloc.live == 0, "%ld allocations leaked", talloc.live);
}

/* ---------- mlx_tree_train_memory ---------- */

/* malloc that tracks live and peak bytes */
typedef struct sized
{
	size_t		live;
	size_t		peak;
} sized;

static void *
sz_alloc(void *arg, size_t size)
{
	sized	   *s = arg;
	size_t	   *p = malloc(size + 16);

	if (p == NULL)
		return NULL;
	p[0] = size;
	s->live += size;
	if (s->live > s->peak)
		s->peak = s->live;
	return (char *) p + 16;
}

static void
sz_free(void *arg, void *ptr)
{
	sized	   *s = arg;
	size_t	   *p;

	if (ptr == NULL)
		return;
	p = (size_t *) ((char *) ptr - 16);
	s->live -= p[0];
	free(p);
}

/*
 * The estimate grows with rows, depth, bins and classes; and it covers
 * what the trainer really allocates at its peak, measured by a
 * size-tracking allocator on runs whose model is tiny (one depth-1 tree
 * or round: 64 node slots), so the peak is the per-row arrays and the
 * histograms the estimate is about.  Slack: 16 kB for the model and the
 * small arrays.
 */
static void
t_train_memory(void)
{
	char		msg[1000] = "";
	size_t		off = 0;
	mlx_tree_params p = params(GB, REG, 0);
	double		m0 = mlx_tree_train_memory(10000, 10, 2570, &p);

	EXPECT(m0 > 10000 * 24.0, "estimate %g below the per-row arrays", m0);
	EXPECT(mlx_tree_train_memory(20000, 10, 2570, &p) > m0, "not growing with rows");
	EXPECT(mlx_tree_train_memory(10000, 10, 5140, &p) > m0, "not growing with bins");
	p.max_depth = 8;
	EXPECT(mlx_tree_train_memory(10000, 10, 2570, &p) > m0, "not growing with depth");
	p = params(DT, MUL, 5);
	m0 = mlx_tree_train_memory(10000, 10, 2570, &p);
	p = params(DT, REG, 0);
	EXPECT(m0 > mlx_tree_train_memory(10000, 10, 2570, &p),
		   "classification histograms not larger");

	struct
	{
		const char *name;
		int			kind,
					objective,
					K;
		int64_t		n;
		int32_t		F;
		double		subsample;
	}			cases[] = {
		{"decision tree, regression", DT, REG, 0, 20000, 2, 1},
		{"decision tree, 3 classes", DT, MUL, 3, 20000, 2, 1},
		{"forest, binary, bootstrap", RF, BIN, 2, 20000, 2, 1},
		{"boosting, regression, subsample", GB, REG, 0, 10000, 2, 0.5},
		{"boosting, binary", GB, BIN, 2, 10000, 2, 1},
		{"boosting, 3 classes", GB, MUL, 3, 10000, 2, 1},
		{"boosting, 5 classes", GB, MUL, 5, 10000, 2, 0.5},
		{"boosting, regression, 20000 rows, 200 features", GB, REG, 0, 20000, 200, 1},
	};

	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++)
	{
		sized		sz = {0, 0};
		mlx_ctx		c = {sz_alloc, sz_free, NULL, &sz};
		dset		s;
		mlx_tree_fit fit;
		int64_t		total_bins = 0;
		double		est;
		int			K = cases[ci].K;

		/* bins drawn directly: 64 cuts per feature */
		memset(&s, 0, sizeof(s));
		s.n = cases[ci].n;
		s.F = cases[ci].F;
		s.y = malloc(sizeof(double) * s.n);
		s.bins = malloc((size_t) s.n * s.F);
		rng_seed(90 + ci);
		for (int32_t j = 0; j < s.F; j++)
		{
			s.cuts[j] = malloc(sizeof(double) * 64);
			for (int k = 0; k < 63; k++)
				s.cuts[j][k] = k;
			s.ncuts[j] = 63;
			s.cutp[j] = s.cuts[j];
			total_bins += s.ncuts[j] + 2;
		}
		for (int64_t i = 0; i < s.n; i++)
		{
			for (int32_t j = 0; j < s.F; j++)
				s.bins[(size_t) i * s.F + j] = (uint8_t) (1 + rng_unif() * 64);
			s.y[i] = K ? (int) (rng_unif() * K) : s.bins[(size_t) i * s.F] + rng_norm();
		}
		s.d = (mlx_tree_data) {s.n, s.F, s.bins, s.y, s.cutp, s.ncuts};
		p = params(cases[ci].kind, cases[ci].objective, K);
		p.n_estimators = 1;
		p.max_depth = 1;
		p.subsample = cases[ci].subsample;
		est = mlx_tree_train_memory(s.n, s.F, total_bins, &p);
		if (mlx_tree_train(&s.d, NULL, &p, &c, &fit, NULL, NULL, NULL, 0) == MLX_OK)
		{
			char		err[256];

			n_fits_checked++;
			EXPECT(mlx_tree_fit_check(&fit, s.F, err, sizeof(err)), "%s: %s", cases[ci].name, err);
			fit_free(&c, &fit);
			if ((double) sz.peak > est + 16384 && off < sizeof(msg))
				off += snprintf(msg + off, sizeof(msg) - off,
								"%s%s: peak %zu bytes, estimate %.0f (%.0f%% under)",
								off ? "; " : "", cases[ci].name, sz.peak, est,
								100 * ((double) sz.peak - est) / sz.peak);
			EXPECT(est <= 4.0 * sz.peak + 65536, "%s: estimate %.0f for a peak of %zu",
				   cases[ci].name, est, sz.peak);
		}
		else
			fail_at(__LINE__, "%s: training failed", cases[ci].name);
		EXPECT(sz.live == 0, "%s: %zu bytes leaked", cases[ci].name, sz.live);
		free(s.y);
		free(s.bins);
		for (int32_t j = 0; j < s.F; j++)
			free(s.cuts[j]);
	}
	EXPECT(off == 0, "the estimate is short: %s", msg);
	if (off > 0)
		printf("  detail: %s\n", msg);
}

int
main(void)
{
	run_case("bin_edges_few_distinct_values", t_bin_edges_few_distinct);
	run_case("bin_edges_errors", t_bin_edges_errors);
	run_case("bin_edges_quantiles", t_bin_edges_quantiles);
	run_case("bin_edges_radix_matches_qsort", t_bin_edges_radix_matches_qsort);
	run_case("bin_of_a_value", t_bin_function);
	run_case("regression_stump_vs_brute_force", t_regression_stump_brute_force);
	run_case("regression_tree_vs_greedy_reference", t_regression_tree_greedy_reference);
	run_case("staircase_full_depth", t_staircase_full_depth);
	run_case("min_child_weight_leaves", t_min_child_weight);
	run_case("boosting_newton_leaves_regression_and_gamma", t_boosting_newton_leaves_regression);
	run_case("boosting_newton_leaves_binary", t_boosting_newton_leaves_binary);
	run_case("gini_stump_vs_brute_force", t_gini_stump_brute_force);
	run_case("missing_values_default_side", t_missing_values);
	run_case("missing_values_more", t_missing_values_more);
	run_case("boosting_regression_loss", t_boosting_regression_loss);
	run_case("boosting_binary", t_boosting_binary);
	run_case("boosting_multiclass", t_boosting_multiclass);
	run_case("boosting_subsample_colsample", t_boosting_sampling);
	run_case("random_forest", t_random_forest);
	run_case("determinism_seed", t_determinism_seed);
	run_case("determinism_threads", t_determinism_threads);
	run_case("early_stopping", t_early_stopping);
	run_case("valid_without_early_stopping", t_valid_without_early_stopping);
	run_case("interrupts", t_interrupts);
	af_setup();
	/* every allocation failure: MLX_ENOMEM, nothing leaked, no crash */
	run_case("enomem_decision_tree", t_enomem_decision_tree);
	run_case("enomem_deep_tree", t_enomem_deep_tree);
	run_case("enomem_multiclass_boosting", t_enomem_multiclass_boosting);
	run_case("enomem_boosting_validation", t_enomem_boosting_valid);
	run_case("enomem_forest", t_enomem_forest);
	run_case("enomem_threaded", t_enomem_threaded);
	af_teardown();
	run_case("parameter_validation", t_parameter_validation);
	run_case("validation_data_checked", t_valid_data_checked);
	/* the estimate covers multiclass arrays and partial histograms */
	run_case("train_memory_estimate", t_train_memory);
	printf("%d fits checked by mlx_tree_fit_check\n", n_fits_checked);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
