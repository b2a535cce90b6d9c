/*
 * tree_model.c
 *	  The fitted tree ensemble (tree.h): the check that makes a fit safe to
 *	  walk, and scoring (a row's leaf in one tree, the ensemble's
 *	  prediction).
 *
 * Scoring runs once per row, so it never allocates and the walk is a tight
 * loop over the flat node arrays.  It trusts the fit: everything it relies
 * on (children inside the tree and after their parent, split features
 * below nfeat, the shape of the value array) is what mlx_tree_fit_check
 * establishes, and the model decoder runs that check on every fit it
 * returns.
 */
#include "core/tree.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * Nodes whose parents one pass of the parent check counts: a bitmap of
 * this many bits on the stack (32 kB).  A tree of n nodes takes n / WINDOW
 * passes, each over at most n nodes, so trees of up to 262144 nodes (depth
 * 17 and fully grown) take one.
 */
#define PARENT_WINDOW 262144

/* Message prefix of a kind ("gradient boosting"), known to be valid. */
static const char *
kind_name(int kind)
{
	switch (kind)
	{
		case MLX_TREE_DECISION_TREE:
			return "decision tree";
		case MLX_TREE_RANDOM_FOREST:
			return "random forest";
	}
	return "gradient boosting";
}

/* NaN (not recorded), or finite and >= 0 */
static bool
nan_or_nonneg(double d)
{
	return isnan(d) || (isfinite(d) && d >= 0);
}

/*
 * The counts and how they fit together: features, kind, objective,
 * classes, groups, leaf width, trees and nodes.  Nothing is read from the
 * arrays.
 */
static bool
check_shape(const mlx_tree_fit *fit, int32_t nfeat, char *errbuf,
			size_t errlen)
{
	const char *what;
	int32_t		want;
	int32_t		lo;
	int32_t		hi;

	if (fit->kind != MLX_TREE_DECISION_TREE &&
		fit->kind != MLX_TREE_RANDOM_FOREST &&
		fit->kind != MLX_TREE_GRADIENT_BOOSTING)
	{
		snprintf(errbuf, errlen, "tree model kind %d is not known",
				 (int) fit->kind);
		return false;
	}
	what = kind_name(fit->kind);
	if (fit->nfeat != nfeat)
	{
		snprintf(errbuf, errlen, "%s has %d features but the model has %d",
				 what, (int) fit->nfeat, (int) nfeat);
		return false;
	}
	if (nfeat < 1 || nfeat > MLX_TREE_MAX_FEATURES)
	{
		snprintf(errbuf, errlen, "%s has %d features, expected 1 to %d",
				 what, (int) nfeat, MLX_TREE_MAX_FEATURES);
		return false;
	}
	switch (fit->objective)
	{
		case MLX_TREE_REGRESSION:
			if (fit->nclasses != 0)
			{
				snprintf(errbuf, errlen,
						 "%s regression has %d classes, expected 0",
						 what, (int) fit->nclasses);
				return false;
			}
			break;
		case MLX_TREE_BINARY:
			if (fit->nclasses != 2)
			{
				snprintf(errbuf, errlen,
						 "%s binary classifier has %d classes, expected 2",
						 what, (int) fit->nclasses);
				return false;
			}
			break;
		case MLX_TREE_MULTICLASS:
			if (fit->nclasses < 3 || fit->nclasses > MLX_TREE_MAX_CLASSES)
			{
				snprintf(errbuf, errlen,
						 "%s multiclass classifier has %d classes, expected 3 to %d",
						 what, (int) fit->nclasses, MLX_TREE_MAX_CLASSES);
				return false;
			}
			break;
		default:
			snprintf(errbuf, errlen, "%s objective %d is not known",
					 what, (int) fit->objective);
			return false;
	}
	want = fit->objective == MLX_TREE_MULTICLASS ? fit->nclasses : 1;
	if (fit->ngroups != want)
	{
		snprintf(errbuf, errlen, "%s has %d output groups, expected %d",
				 what, (int) fit->ngroups, (int) want);
		return false;
	}
	want = (fit->kind == MLX_TREE_GRADIENT_BOOSTING ||
			fit->objective == MLX_TREE_REGRESSION) ? 1 : fit->nclasses;
	if (fit->leaf_width != want)
	{
		snprintf(errbuf, errlen, "%s has %d values per leaf, expected %d",
				 what, (int) fit->leaf_width, (int) want);
		return false;
	}
	/* a decision tree is one tree, a forest at least one */
	lo = fit->kind == MLX_TREE_GRADIENT_BOOSTING ? 0 : 1;
	hi = fit->kind == MLX_TREE_DECISION_TREE ? 1 : MLX_TREE_MAX_TREES;
	if (fit->ntrees < lo || fit->ntrees > hi)
	{
		if (lo == hi)
			snprintf(errbuf, errlen, "%s has %d trees, expected %d",
					 what, (int) fit->ntrees, (int) lo);
		else
			snprintf(errbuf, errlen, "%s has %d trees, expected %d to %d",
					 what, (int) fit->ntrees, (int) lo, (int) hi);
		return false;
	}
	if (fit->kind == MLX_TREE_GRADIENT_BOOSTING &&
		fit->ntrees % fit->ngroups != 0)
	{
		snprintf(errbuf, errlen,
				 "%s has %d trees, not a whole number of rounds of %d",
				 what, (int) fit->ntrees, (int) fit->ngroups);
		return false;
	}
	if (fit->nnodes < fit->ntrees || fit->nnodes > MLX_TREE_MAX_NODES)
	{
		snprintf(errbuf, errlen, "%s has %d nodes, expected %d to %d",
				 what, (int) fit->nnodes, (int) fit->ntrees,
				 MLX_TREE_MAX_NODES);
		return false;
	}
	if (fit->base_score == NULL || fit->tree_start == NULL ||
		(fit->nnodes > 0 &&
		 (fit->feature == NULL || fit->threshold == NULL ||
		  fit->left == NULL || fit->right == NULL ||
		  fit->default_left == NULL || fit->gain == NULL ||
		  fit->cover == NULL || fit->value == NULL)))
	{
		snprintf(errbuf, errlen, "%s arrays are missing", what);
		return false;
	}
	return true;
}

/* The training figures: counts >= 0 and within their limits, no infinity. */
static bool
check_figures(const mlx_tree_fit *fit, char *errbuf, size_t errlen)
{
	const char *what = kind_name(fit->kind);

	if (fit->nrows < 0 || fit->nskipped < 0)
	{
		snprintf(errbuf, errlen,
				 "%s row counts are invalid (%lld rows, %lld skipped)",
				 what, (long long) fit->nrows, (long long) fit->nskipped);
		return false;
	}
	if (fit->best_iteration < 0)
	{
		snprintf(errbuf, errlen, "%s best iteration %d is negative",
				 what, (int) fit->best_iteration);
		return false;
	}
	if (fit->max_depth < 0 || fit->max_depth > MLX_TREE_MAX_DEPTH ||
		fit->max_features < 0 || fit->max_features > fit->nfeat ||
		fit->max_bins < 0 || fit->max_bins > MLX_TREE_MAX_BINS)
	{
		snprintf(errbuf, errlen,
				 "%s training parameters are out of range (max_depth %d, max_features %d, max_bins %d)",
				 what, (int) fit->max_depth, (int) fit->max_features,
				 (int) fit->max_bins);
		return false;
	}
	if (!nan_or_nonneg(fit->learning_rate) || !nan_or_nonneg(fit->lambda) ||
		!nan_or_nonneg(fit->min_child_weight) ||
		!nan_or_nonneg(fit->subsample) || !nan_or_nonneg(fit->colsample))
	{
		snprintf(errbuf, errlen,
				 "%s training parameters are negative or infinite",
				 what);
		return false;
	}
	return true;
}

/*
 * One node of tree t (nodes base .. base + size - 1), relative index i: a
 * leaf has feature -1 and children -1; an internal node a feature below
 * nfeat and children after itself and inside the tree.  Every node has a
 * finite threshold, gain, cover and values, and default_left 0 or 1.
 */
static bool
check_node(const mlx_tree_fit *fit, int32_t t, int32_t base, int32_t size,
		   int32_t i, char *errbuf, size_t errlen)
{
	const char *what = kind_name(fit->kind);
	size_t		n = (size_t) base + (size_t) i;
	int32_t		f = fit->feature[n];
	int32_t		l = fit->left[n];
	int32_t		r = fit->right[n];
	const double *v = fit->value + n * (size_t) fit->leaf_width;
	int32_t		c;

	if (f < -1 || f >= fit->nfeat)
	{
		snprintf(errbuf, errlen,
				 "%s tree %d node %d splits on feature %d, expected -1 (a leaf) or 0 to %d",
				 what, (int) t + 1, (int) i, (int) f, (int) fit->nfeat - 1);
		return false;
	}
	if (f < 0 && (l != -1 || r != -1))
	{
		snprintf(errbuf, errlen,
				 "%s tree %d node %d is a leaf but has children %d and %d",
				 what, (int) t + 1, (int) i, (int) l, (int) r);
		return false;
	}
	if (f >= 0 && (l <= i || l >= size || r <= i || r >= size))
	{
		snprintf(errbuf, errlen,
				 "%s tree %d node %d has children %d and %d, expected %d to %d",
				 what, (int) t + 1, (int) i, (int) l, (int) r, (int) i + 1,
				 (int) size - 1);
		return false;
	}
	if (!isfinite(fit->threshold[n]))
	{
		snprintf(errbuf, errlen, "%s tree %d node %d threshold is not finite",
				 what, (int) t + 1, (int) i);
		return false;
	}
	if (fit->default_left[n] > 1)
	{
		snprintf(errbuf, errlen,
				 "%s tree %d node %d default_left is %u, expected 0 or 1",
				 what, (int) t + 1, (int) i, (unsigned) fit->default_left[n]);
		return false;
	}
	if (!isfinite(fit->gain[n]) || !isfinite(fit->cover[n]))
	{
		snprintf(errbuf, errlen,
				 "%s tree %d node %d gain or cover is not finite",
				 what, (int) t + 1, (int) i);
		return false;
	}
	for (c = 0; c < fit->leaf_width; c++)
	{
		if (!isfinite(v[c]))
		{
			snprintf(errbuf, errlen,
					 "%s tree %d node %d value %d is not finite",
					 what, (int) t + 1, (int) i, (int) c + 1);
			return false;
		}
	}
	return true;
}

/*
 * Every node of a tree but the root has exactly one parent (so the tree
 * is a tree: no node shared by two branches, none unreachable).  The
 * children are already known to lie after their parent and inside the
 * tree.  Without an allocator the parents are counted in windows of
 * PARENT_WINDOW nodes, a parent always coming before its child.
 */
static bool
check_parents(const mlx_tree_fit *fit, int32_t t, int32_t base, int32_t size,
			  char *errbuf, size_t errlen)
{
	uint64_t	seen[PARENT_WINDOW / 64];
	const int32_t *feature = fit->feature + base;
	const int32_t *left = fit->left + base;
	const int32_t *right = fit->right + base;
	int32_t		lo;

	for (lo = 1; lo < size; lo += PARENT_WINDOW)
	{
		int32_t		hi = size - lo > PARENT_WINDOW ? lo + PARENT_WINDOW : size;
		int32_t		i;

		memset(seen, 0, (((size_t) (hi - lo) + 63) / 64) * sizeof(uint64_t));
		for (i = 0; i < hi - 1; i++)
		{
			int32_t		side;

			if (feature[i] < 0)
				continue;
			for (side = 0; side < 2; side++)
			{
				int32_t		c = side == 0 ? left[i] : right[i];
				uint32_t	bit;

				if (c < lo || c >= hi)
					continue;
				bit = (uint32_t) (c - lo);
				if (seen[bit >> 6] & ((uint64_t) 1 << (bit & 63)))
				{
					snprintf(errbuf, errlen,
							 "%s tree %d node %d has more than one parent",
							 kind_name(fit->kind), (int) t + 1, (int) c);
					return false;
				}
				seen[bit >> 6] |= (uint64_t) 1 << (bit & 63);
			}
		}
		for (i = lo; i < hi; i++)
		{
			uint32_t	bit = (uint32_t) (i - lo);

			if (!(seen[bit >> 6] & ((uint64_t) 1 << (bit & 63))))
			{
				snprintf(errbuf, errlen, "%s tree %d node %d has no parent",
						 kind_name(fit->kind), (int) t + 1, (int) i);
				return false;
			}
		}
	}
	return true;
}

/*
 * The shape first, so that the arrays are only read at indexes the counts
 * vouch for; then the tree boundaries, so that each node is checked within
 * its own tree.
 */
bool
mlx_tree_fit_check(const mlx_tree_fit *fit, int32_t nfeat, char *errbuf,
				   size_t errlen)
{
	const char *what;
	int32_t		t;
	int32_t		g;

	if (fit == NULL)
	{
		snprintf(errbuf, errlen, "tree model is missing");
		return false;
	}
	if (!check_shape(fit, nfeat, errbuf, errlen) ||
		!check_figures(fit, errbuf, errlen))
		return false;
	what = kind_name(fit->kind);
	for (g = 0; g < fit->ngroups; g++)
	{
		if (!isfinite(fit->base_score[g]) ||
			(fit->kind != MLX_TREE_GRADIENT_BOOSTING && fit->base_score[g] != 0))
		{
			snprintf(errbuf, errlen, "%s base score %d is %s",
					 what, (int) g + 1,
					 fit->kind == MLX_TREE_GRADIENT_BOOSTING ?
					 "not finite" : "not 0");
			return false;
		}
	}
	if (fit->tree_start[0] != 0 || fit->tree_start[fit->ntrees] != fit->nnodes)
	{
		snprintf(errbuf, errlen,
				 "%s trees span nodes %d to %d, expected 0 to %d",
				 what, (int) fit->tree_start[0],
				 (int) fit->tree_start[fit->ntrees], (int) fit->nnodes);
		return false;
	}
	for (t = 0; t < fit->ntrees; t++)
	{
		if (fit->tree_start[t + 1] <= fit->tree_start[t] ||
			fit->tree_start[t + 1] > fit->nnodes)
		{
			snprintf(errbuf, errlen,
					 "%s tree %d starts at node %d and ends before node %d, expected at least one node within 0 to %d",
					 what, (int) t + 1, (int) fit->tree_start[t],
					 (int) fit->tree_start[t + 1], (int) fit->nnodes);
			return false;
		}
	}
	for (t = 0; t < fit->ntrees; t++)
	{
		int32_t		base = fit->tree_start[t];
		int32_t		size = fit->tree_start[t + 1] - base;
		int32_t		i;

		for (i = 0; i < size; i++)
			if (!check_node(fit, t, base, size, i, errbuf, errlen))
				return false;
		if (!check_parents(fit, t, base, size, errbuf, errlen))
			return false;
	}
	return true;
}

/*
 * The leaf row x reaches from the root at node base (absolute), relative
 * to it.  A missing value (NaN) goes to the node's default side; otherwise
 * left when x < threshold, so a value equal to the threshold goes right.
 */
static inline int32_t
walk(const mlx_tree_fit *fit, int32_t base, const double *x)
{
	const int32_t *feature = fit->feature + base;
	const double *threshold = fit->threshold + base;
	const int32_t *left = fit->left + base;
	const int32_t *right = fit->right + base;
	const uint8_t *default_left = fit->default_left + base;
	int32_t		n = 0;
	int32_t		f;

	while ((f = feature[n]) >= 0)
	{
		double		v = x[f];
		bool		go_left = isnan(v) ? default_left[n] != 0 : v < threshold[n];

		n = go_left ? left[n] : right[n];
	}
	return n;
}

/* trees walked side by side (independent loads overlap) */
#define LANES 16
#define FEATURE_MASK (MLX_TREE_PNODE_DEFAULT_LEFT - 1)

/*
 * One branch-free step of the scoring form for any row: NaN goes to the
 * default side, and a leaf stays put whatever x[0] is.
 */
static inline int32_t
packed_step(const mlx_tree_pnode *P, int32_t i, const double *x)
{
	const mlx_tree_pnode *nd = &P[i];
	int32_t		f = nd->feature;
	double		v = x[f & FEATURE_MASK];
	int32_t		right = (v >= nd->threshold) |
		((v != v) & ((f & MLX_TREE_PNODE_DEFAULT_LEFT) == 0));

	return nd->child + (right & (f >= 0));
}

/*
 * The same step for a row of finite values: no NaN to send aside, and a
 * leaf's threshold (+Infinity) keeps it put.
 */
static inline int32_t
packed_step_finite(const mlx_tree_pnode *P, int32_t i, const double *x)
{
	const mlx_tree_pnode *nd = &P[i];

	return nd->child + (x[nd->feature & FEATURE_MASK] >= nd->threshold);
}

mlx_status
mlx_tree_pack(mlx_tree_fit *fit, const mlx_ctx *ctx)
{
	int32_t		largest = 0;
	int32_t    *queue;
	int32_t    *level;
	mlx_tree_pnode *P;
	int32_t    *depth;
	double	   *value;
	size_t		lw = (size_t) fit->leaf_width;

	fit->packed = NULL;
	fit->packed_depth = NULL;
	fit->packed_value = NULL;
	if (fit->nnodes == 0)
		return MLX_OK;
	for (int32_t t = 0; t < fit->ntrees; t++)
		if (fit->tree_start[t + 1] - fit->tree_start[t] > largest)
			largest = fit->tree_start[t + 1] - fit->tree_start[t];
	P = mlx_alloc(ctx, sizeof(mlx_tree_pnode) * (size_t) fit->nnodes);
	depth = mlx_alloc(ctx, sizeof(int32_t) * (size_t) fit->ntrees);
	queue = mlx_alloc(ctx, sizeof(int32_t) * (size_t) largest);
	level = mlx_alloc(ctx, sizeof(int32_t) * (size_t) largest);
	value = mlx_alloc(ctx, sizeof(double) * (size_t) fit->nnodes * lw);
	if (P == NULL || depth == NULL || queue == NULL || level == NULL || value == NULL)
	{
		mlx_free(ctx, P);
		mlx_free(ctx, depth);
		mlx_free(ctx, value);
		mlx_free(ctx, queue);
		mlx_free(ctx, level);
		return MLX_ENOMEM;
	}
	for (int32_t t = 0; t < fit->ntrees; t++)
	{
		int32_t		base = fit->tree_start[t];
		int32_t		head = 0,
					tail = 1;

		/* breadth-first: queue[new position] = original node */
		queue[0] = 0;
		level[0] = 0;
		depth[t] = 0;
		while (head < tail)
		{
			int32_t		o = base + queue[head];
			mlx_tree_pnode *nd = &P[base + head];

			if (level[head] > depth[t])
				depth[t] = level[head];
			if (fit->feature[o] < 0)
			{
				nd->threshold = INFINITY;
				nd->feature = MLX_TREE_PNODE_LEAF;
				nd->child = base + head;
				memcpy(value + (size_t) (base + head) * lw,
					   fit->value + (size_t) o * lw, sizeof(double) * lw);
			}
			else
			{
				memset(value + (size_t) (base + head) * lw, 0, sizeof(double) * lw);
				nd->threshold = fit->threshold[o];
				nd->feature = fit->feature[o] |
					(fit->default_left[o] ? MLX_TREE_PNODE_DEFAULT_LEFT : 0);
				nd->child = base + tail;
				level[tail] = level[tail + 1] = level[head] + 1;
				queue[tail++] = fit->left[o];
				queue[tail++] = fit->right[o];
			}
			head++;
		}
	}
	mlx_free(ctx, queue);
	mlx_free(ctx, level);
	fit->packed = P;
	fit->packed_depth = depth;
	fit->packed_value = value;
	return MLX_OK;
}

/*
 * The leaves (packed, absolute) that x reaches in trees t0 .. t0 + n - 1
 * (n <= LANES), walked side by side; finite: every x[j] is finite.
 */
static inline void
packed_leaves(const mlx_tree_fit *fit, int32_t t0, int n, const double *x,
			  bool finite, int32_t *idx)
{
	const mlx_tree_pnode *P = fit->packed;
	int32_t		d = 0;

	for (int k = 0; k < n; k++)
	{
		idx[k] = fit->tree_start[t0 + k];
		if (fit->packed_depth[t0 + k] > d)
			d = fit->packed_depth[t0 + k];
	}
	if (n == LANES && finite)
	{
		for (int32_t s = 0; s < d; s++)
			for (int k = 0; k < LANES; k++)
				idx[k] = packed_step_finite(P, idx[k], x);
	}
	else if (finite)
	{
		for (int32_t s = 0; s < d; s++)
			for (int k = 0; k < n; k++)
				idx[k] = packed_step_finite(P, idx[k], x);
	}
	else
	{
		for (int32_t s = 0; s < d; s++)
			for (int k = 0; k < n; k++)
				idx[k] = packed_step(P, idx[k], x);
	}
}

/* Every one of the n values is finite. */
static bool
all_finite(const double *x, int32_t n)
{
	bool		ok = true;

	for (int32_t j = 0; j < n; j++)
		ok &= isfinite(x[j]) != 0;
	return ok;
}

int32_t
mlx_tree_leaf(const mlx_tree_fit *fit, int32_t t, const double *x)
{
	if (t < 0 || t >= fit->ntrees)
		return -1;
	return walk(fit, fit->tree_start[t], x);
}

/* The logistic function, without overflow for margins of either sign. */
static double
sigmoid(double m)
{
	double		e;

	if (m >= 0)
		return 1.0 / (1.0 + exp(-m));
	e = exp(m);
	return e / (1.0 + e);
}

/* Softmax of n margins in place, shifted by the largest so exp <= 1. */
static void
softmax_in_place(double *a, int32_t n)
{
	double		top = a[0];
	double		sum = 0;
	int32_t		g;

	for (g = 1; g < n; g++)
		if (a[g] > top)
			top = a[g];
	for (g = 0; g < n; g++)
	{
		a[g] = exp(a[g] - top);
		sum += a[g];
	}
	for (g = 0; g < n; g++)
		a[g] /= sum;
}

/*
 * Boosting adds up margins in out (tree t belongs to group t % ngroups,
 * counted rather than divided); DT and RF add up leaf values and divide by
 * the trees at the end.  A binary DT or RF leaf holds both class
 * proportions, and the prediction is the second.
 */
void
mlx_tree_predict(const mlx_tree_fit *fit, const double *x, double *out)
{
	int32_t		ngroups = fit->ngroups;
	int32_t		t;
	int32_t		g;
	int32_t		leaf[LANES];

	if (fit->kind == MLX_TREE_GRADIENT_BOOSTING)
	{
		for (g = 0; g < ngroups; g++)
			out[g] = fit->base_score[g];
		if (fit->packed != NULL)
		{
			bool		finite = all_finite(x, fit->nfeat);

			for (t = 0; t < fit->ntrees; t += LANES)
			{
				int			n = fit->ntrees - t < LANES ? fit->ntrees - t : LANES;

				packed_leaves(fit, t, n, x, finite, leaf);
				if (ngroups == 1)
					for (int k = 0; k < n; k++)
						out[0] += fit->packed_value[leaf[k]];
				else
					for (int k = 0; k < n; k++)
						out[(t + k) % ngroups] += fit->packed_value[leaf[k]];
			}
		}
		else
		{
			g = 0;
			for (t = 0; t < fit->ntrees; t++)
			{
				int32_t		base = fit->tree_start[t];

				out[g] += fit->value[base + walk(fit, base, x)];
				if (++g == ngroups)
					g = 0;
			}
		}
		if (fit->objective == MLX_TREE_BINARY)
			out[0] = sigmoid(out[0]);
		else if (fit->objective == MLX_TREE_MULTICLASS)
			softmax_in_place(out, ngroups);
	}
	else
	{
		size_t		width = (size_t) fit->leaf_width;
		int32_t		first = fit->objective == MLX_TREE_BINARY ? 1 : 0;
		bool		finite = fit->packed != NULL && all_finite(x, fit->nfeat);
		const double *values = fit->packed != NULL ? fit->packed_value : fit->value;

		for (g = 0; g < ngroups; g++)
			out[g] = 0;
		for (t = 0; t < fit->ntrees; t += LANES)
		{
			int			n = fit->ntrees - t < LANES ? fit->ntrees - t : LANES;

			if (fit->packed != NULL)
				packed_leaves(fit, t, n, x, finite, leaf);
			else
				for (int k = 0; k < n; k++)
					leaf[k] = fit->tree_start[t + k] + walk(fit, fit->tree_start[t + k], x);
			for (int k = 0; k < n; k++)
			{
				const double *v = values + (size_t) leaf[k] * width + first;

				for (g = 0; g < ngroups; g++)
					out[g] += v[g];
			}
		}
		if (fit->ntrees > 1)
			for (g = 0; g < ngroups; g++)
				out[g] /= fit->ntrees;
	}
}
