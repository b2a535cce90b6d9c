/*
 * tree.h
 *	  Tree ensembles: decision tree, random forest and histogram gradient
 *	  boosting.  Binning, the in-memory trainer, the fitted model and
 *	  scoring.
 *
 * Binning.  Each feature j has ncuts[j] ascending, finite cut points
 * c_0 < c_1 < ... (at most MLX_TREE_MAX_BINS - 1).  A value x falls in
 *
 *	  bin 0                          when x is missing (NaN),
 *	  bin 1 + #{ i : c_i <= x }      otherwise (1 .. ncuts + 1),
 *
 * so a row is one byte per feature.  A split of feature j at cut i sends a
 * value left when x < c_i (bins 1 .. i + 1) and a missing value to the
 * node's learned default side, exactly as XGBoost's "hist" method does;
 * scoring raw values with the thresholds reproduces the binned decisions.
 *
 * Training.  Every tree is grown from per-node histograms: for each
 * feature and bin the sum of row weights W and of row values S_c over
 * "channels" c.  The three families differ only in what a row adds:
 *
 *	  gradient boosting   W = hessian, S_0 = -gradient (one channel); a
 *						  multiclass round grows one tree per class
 *	  regression trees    W = multiplicity, S_0 = multiplicity * y
 *	  classification      W = multiplicity, S_y = multiplicity (one channel
 *	  trees (DT, RF)	  per class; Gini)
 *
 * and a node's score is sum_c S_c^2 / (W + lambda).  A split's gain is
 * score(left) + score(right) - score(parent) (XGBoost's loss change; for
 * trees without lambda the reduction in squared error, or in n * Gini
 * impurity); it must exceed min_split_loss (gamma), and both children must
 * keep W >= min_child_weight (min_samples_leaf for DT and RF).  Siblings
 * share the work: the smaller child's histogram is built from its rows and
 * the larger one's is the parent's minus it.  Growth is depth-wise up to
 * max_depth.  A leaf holds S_c / (W + lambda) per channel: the Newton step
 * (times learning_rate) for boosting, the mean or the class proportions
 * for DT and RF.
 *
 * Plain C, deterministic for a given seed and row order, whatever the
 * thread count.  Threads, when asked for, are POSIX threads that only compute on
 * memory allocated before they start; they never call back into ctx and
 * are joined before mlx_tree_train returns.
 */
#ifndef MLX_TREE_H
#define MLX_TREE_H

#include "core/mlx_core.h"

/* value bins per feature (bin 0, missing, comes on top: 256 in a byte) */
#define MLX_TREE_MAX_BINS 255
#define MLX_TREE_MAX_DEPTH 30
#define MLX_TREE_MAX_TREES 100000	/* trees in a model (all classes) */
#define MLX_TREE_MAX_CLASSES 1000
#define MLX_TREE_MAX_FEATURES 100000
/* nodes in one model, all trees together */
#define MLX_TREE_MAX_NODES 50000000
#define MLX_TREE_MAX_THREADS 64

typedef enum mlx_tree_kind
{
	MLX_TREE_DECISION_TREE = 1,
	MLX_TREE_RANDOM_FOREST = 2,
	MLX_TREE_GRADIENT_BOOSTING = 3
} mlx_tree_kind;

typedef enum mlx_tree_objective
{
	MLX_TREE_REGRESSION = 1,	/* squared error; y any finite value */
	MLX_TREE_BINARY = 2,		/* y in {0, 1}; logistic for boosting */
	MLX_TREE_MULTICLASS = 3		/* y in {0 .. K-1}; softmax for boosting */
} mlx_tree_objective;

/*
 * One pass of a least-significant-digit radix sort of n keys: turn the
 * counts of each byte value into the first position of its keys.  True
 * when one byte value holds all n keys (the pass would change nothing).
 */
bool		mlx_radix_offsets(int64_t count[256], int64_t n);

/*
 * Bin edges.  'values' are n sample values of one feature (any order; NaN
 * values are ignored); writes at most max_bins - 1 cut points to cuts
 * (room for MLX_TREE_MAX_BINS - 1) and their count to *ncuts.  With at
 * most max_bins distinct values every gap gets a cut: with 'midpoints' the
 * midpoint of two neighbouring values (scikit-learn's thresholds), else
 * the upper one (XGBoost's cut values); otherwise the cuts
 * are the sample quantiles i / max_bins.  'values' is sorted in place: by
 * a radix sort when scratch (room for n doubles) is given, else by qsort;
 * the cuts are the same either way.  MLX_EINVAL for max_bins outside
 * 2..MLX_TREE_MAX_BINS or n < 0; MLX_ENONFINITE for an infinite value.
 */
mlx_status	mlx_tree_bin_edges(double *values, int64_t n, int max_bins,
							   bool midpoints, double *cuts, int *ncuts,
							   double *scratch);

/*
 * The bin of value x for cut points cuts[0..ncuts-1] (see above): 1 + the
 * number of cuts <= x, by a binary search whose steps are conditional
 * moves rather than branches (a branch per step mispredicts half the time
 * on real data: about 4x slower for 255 bins).
 */
static inline uint8_t
mlx_tree_bin(double x, const double *cuts, int ncuts)
{
	const double *base = cuts;
	int			n = ncuts;

	if (x != x)
		return 0;
	if (n == 0)
		return 1;
	/* the count is within base - cuts .. base - cuts + n */
	while (n > 1)
	{
		int			half = n >> 1;

		base = (base[half] <= x) ? base + half : base;
		n -= half;
	}
	return (uint8_t) ((base - cuts) + (*base <= x) + 1);
}

/*
 * Binned training data: nrows rows of nfeat bytes each (row-major) and one
 * target per row: the value (regression) or the class index 0..K-1 as a
 * double (binary and multiclass).  cuts[j] / ncuts[j] are feature j's bin
 * edges (the bins of the data must be <= ncuts[j] + 1).
 */
typedef struct mlx_tree_data
{
	int64_t		nrows;
	int32_t		nfeat;
	const uint8_t *bins;
	const double *y;
	const double *const *cuts;
	const int32_t *ncuts;
} mlx_tree_data;

typedef struct mlx_tree_params
{
	int			kind;			/* mlx_tree_kind */
	int			objective;		/* mlx_tree_objective */
	int			nclasses;		/* 2 for binary, K >= 3 multiclass, 0
								 * regression */
	int			n_estimators;	/* boosting rounds / forest trees (1 for DT) */
	double		learning_rate;	/* boosting: (0, 1] */
	int			max_depth;		/* 1 .. MLX_TREE_MAX_DEPTH */
	double		min_child_weight;	/* least W in a child (boosting: sum of
									 * hessians; DT/RF: rows, i.e.
									 * min_samples_leaf) */
	double		lambda;			/* L2 on leaf weights (boosting), >= 0 */
	double		gamma;			/* min_split_loss, >= 0 */
	double		subsample;		/* boosting: row share per tree, (0, 1] */
	double		colsample;		/* boosting: feature share per tree, (0,
								 * 1] */
	int			max_features;	/* RF/DT: features tried per split, 1 ..
								 * nfeat */
	bool		bootstrap;		/* RF: draw nrows rows with replacement */
	uint64_t	seed;
	int			early_stopping_rounds;	/* boosting with validation data:
										 * stop after this many rounds
										 * without improvement; 0 = never */
	int			nthreads;		/* threads for the histograms, partitions
								 * and gradients (the caller's included),
								 * 1 .. MLX_TREE_MAX_THREADS */
	double	   *train_pred;		/* NULL, or room for nrows * ngroups doubles:
								 * receives the final model's prediction of
								 * every training row (as mlx_tree_predict;
								 * NaN when early stopping dropped rounds) */
	int32_t		max_nodes;		/* 0, or the most nodes (all trees) the
								 * model may have: growth stops as soon as
								 * one more would pass it, with MLX_EINVAL
								 * and MLX_TREE_NODE_LIMIT_MSG (the caller
								 * derives it from the model size limit) */
} mlx_tree_params;

/* errbuf of mlx_tree_train when the trees outgrew params->max_nodes */
#define MLX_TREE_NODE_LIMIT_MSG "the trees need more nodes than max_nodes allows"


/*
 * A fitted ensemble.  Nodes of all trees are stored in flat arrays; tree t
 * owns nodes tree_start[t] .. tree_start[t+1]-1 and its root is the first.
 * Node indexes in left/right are relative to the tree's first node and are
 * greater than the node's own index (so a tree is acyclic by construction),
 * and every node but the root has exactly one parent.
 *
 * A leaf has feature = -1, left = right = -1 and leaf_width values at
 * value + node * leaf_width; an internal node has a split feature, a
 * threshold, default_left (missing values go left) and two children, and
 * also its would-be leaf values (for inspection).  Every node, leaf or
 * not, has a finite threshold, gain and cover, finite values and
 * default_left 0 or 1 (a leaf's threshold and default_left are not used:
 * 0 will do).
 *
 * Prediction of group g (ngroups = 1 for regression and binary, K for
 * multiclass):
 *
 *	  boosting:  margin_g = base_score[g] + sum of the leaf value of every
 *				 tree t with t % ngroups == g; regression returns the
 *				 margin, binary sigmoid(margin_0), multiclass softmax over
 *				 the groups
 *	  DT / RF:   the mean over trees of the leaf's values (leaf_width =
 *				 ngroups; binary trees hold K = 2 class proportions and the
 *				 prediction is the second, P(class 1))
 */
/*
 * The scoring form of a tree, built from the node arrays by mlx_tree_pack:
 * each tree's nodes renumbered breadth-first so the two children of a node
 * are neighbours (right = left + 1) and every step of a walk reads one
 * 16-byte node.  An internal node has feature | (default_left << 30) and
 * child = its left child (absolute index); a leaf has feature
 * MLX_TREE_PNODE_LEAF (negative, and feature 0 once masked, so a step may
 * read x[0] harmlessly), child = itself and threshold = +Infinity, so a
 * step at a leaf stays there: a finite value is never >= +Infinity, and
 * rows with a NaN or an infinity take the step that also tests the sign of
 * feature.  Walks can then run a fixed number of branch-free steps,
 * several trees at a time; a row of finite values needs only
 * child + (x[feature & mask] >= threshold) per step.
 */
typedef struct mlx_tree_pnode
{
	double		threshold;
	int32_t		feature;
	int32_t		child;
} mlx_tree_pnode;

#define MLX_TREE_PNODE_LEAF INT32_MIN
#define MLX_TREE_PNODE_DEFAULT_LEFT 0x40000000

typedef struct mlx_tree_fit
{
	uint8_t		kind;			/* mlx_tree_kind */
	uint8_t		objective;		/* mlx_tree_objective */
	int32_t		nfeat;
	int32_t		nclasses;		/* 0 for regression, 2 binary, 3 ..
								 * MLX_TREE_MAX_CLASSES multiclass */
	int32_t		ngroups;		/* 1, or nclasses for multiclass */
	int32_t		leaf_width;		/* boosting: 1; DT/RF: nclasses (>= 2) for
								 * classification, 1 for regression */
	int32_t		ntrees;			/* DT: 1; RF: 1 .. MLX_TREE_MAX_TREES;
								 * boosting: 0 .. MLX_TREE_MAX_TREES, a
								 * multiple of ngroups */
	int32_t		nnodes;			/* all trees, <= MLX_TREE_MAX_NODES */
	double	   *base_score;		/* ngroups margins (boosting), zeros
								 * otherwise; never NULL */
	int32_t    *tree_start;		/* ntrees + 1 entries, [0] = 0, ascending,
								 * each tree >= 1 node, [ntrees] = nnodes */
	/* the node arrays below may be NULL when nnodes = 0 */
	int32_t    *feature;		/* nnodes: split feature, -1 = leaf */
	double	   *threshold;		/* nnodes: left when x < threshold */
	int32_t    *left;			/* nnodes: child, relative to tree start */
	int32_t    *right;
	uint8_t    *default_left;	/* nnodes: 0 or 1 */
	double	   *gain;			/* nnodes: split gain (0 for leaves) */
	double	   *cover;			/* nnodes: W of the node's rows */
	double	   *value;			/* nnodes * leaf_width */
	char	  **classes;		/* nclasses labels (NULL for regression) */
	mlx_tree_pnode *packed;		/* nnodes, or NULL: the scoring form (the
								 * decoder builds it; not stored) */
	int32_t    *packed_depth;	/* ntrees: each tree's depth, with packed */
	double	   *packed_value;	/* nnodes * leaf_width, with packed: the
								 * leaf values by packed index (0 for
								 * internal nodes) */

	/*
	 * training figures (describe only): counts >= 0, max_depth <=
	 * MLX_TREE_MAX_DEPTH, max_features <= nfeat, max_bins <=
	 * MLX_TREE_MAX_BINS (0: not recorded); doubles NaN (not recorded or
	 * not applicable) or finite >= 0
	 */
	int64_t		nrows;			/* training rows */
	int64_t		nskipped;		/* rows without a target */
	int32_t		best_iteration; /* boosting rounds kept (early stopping) or
								 * rounds run */
	int32_t		max_depth;
	double		learning_rate;
	double		lambda;
	double		min_child_weight;
	double		subsample;
	double		colsample;
	int32_t		max_features;
	int32_t		max_bins;
} mlx_tree_fit;

/*
 * Train.  'valid' (may be NULL) is held-out binned data for early stopping
 * (boosting only).  The fit's arrays come from ctx; classes stays NULL
 * (the caller owns the labels).  On MLX_EINTR nothing is returned.
 * MLX_EINVAL for parameters out of range (errbuf says which), MLX_ENOMEM.
 * 'loss', when not NULL, receives per-round training loss (room for
 * n_estimators doubles; boosting only, else untouched) and *nrounds the
 * rounds run.
 */
mlx_status	mlx_tree_train(const mlx_tree_data *data, const mlx_tree_data *valid,
						   const mlx_tree_params *params, const mlx_ctx *ctx,
						   mlx_tree_fit *fit, double *loss, int *nrounds,
						   char *errbuf, size_t errlen);

/*
 * Bytes the trainer allocates for data of nrows rows and nfeat features
 * with total_bins = sum over features of (ncuts + 2) (the binned rows and
 * the model itself not counted): per-row arrays and histograms.
 */
double		mlx_tree_train_memory(int64_t nrows, int32_t nfeat, int64_t total_bins,
								  const mlx_tree_params *params);

/*
 * Check a fit's shape and values (as the model decoder must): ranges,
 * tree_start, child indexes in range and greater than the parent, one
 * parent per node, leaves with feature -1 and children -1, finite
 * thresholds, gains, covers, values and base scores (0 for DT and RF),
 * default_left 0/1, nclasses, leaf_width, ngroups and ntrees consistent
 * with kind and objective, and the training figures.  Does not look at
 * the class labels (the model format checks those).  No allocation: a
 * tree of n nodes costs about n * (1 + n / 262144) steps.  After it
 * succeeds, mlx_tree_predict and mlx_tree_leaf are safe for any row.
 * false with a message.
 */
bool		mlx_tree_fit_check(const mlx_tree_fit *fit, int32_t nfeat,
							   char *errbuf, size_t errlen);

/*
 * Build fit->packed (from ctx) for a fit that passed mlx_tree_fit_check.
 * MLX_ENOMEM.
 */
mlx_status	mlx_tree_pack(mlx_tree_fit *fit, const mlx_ctx *ctx);

/*
 * Score one row x (nfeat doubles; NaN = missing).  out gets ngroups values:
 * regression the prediction, binary P(class 1), multiclass the class
 * probabilities.  At each node a missing value goes to the default side,
 * any other value left when x < threshold (a value equal to the threshold
 * goes right).  A boosted model without trees predicts from its base
 * scores.  No allocation; the fit must have passed mlx_tree_fit_check.
 */
void		mlx_tree_predict(const mlx_tree_fit *fit, const double *x, double *out);

/*
 * The leaf index (relative to the tree) that row x reaches in tree t
 * (0-based), or -1 when there is no tree t.
 */
int32_t		mlx_tree_leaf(const mlx_tree_fit *fit, int32_t t, const double *x);

#endif							/* MLX_TREE_H */
