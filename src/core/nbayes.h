/*
 * nbayes.h
 *	  Naive Bayes classifiers, Gaussian and multinomial: the flat state of
 *	  the one training pass (a parallel aggregate; states merge), the fitted
 *	  model, and scoring.
 *
 * The pass sees (class index, feature row) pairs; the class labels
 * themselves are the caller's business (ml.train numbers them in the
 * target type's order and keeps the labels).  Per class it keeps
 *
 *	  Gaussian:     the row count, the feature means and the sums of squared
 *					deviations (M2), updated by Welford's method and merged
 *					by Chan et al.'s pairwise formulas (no cancellation)
 *	  multinomial:  the row count and the feature sums (counts >= 0)
 *
 * and the fit follows scikit-learn 1.2: GaussianNB's var_ = M2 / n_c +
 * epsilon with epsilon = var_smoothing * (largest population variance of
 * any feature over all rows), class_prior = n_c / n; MultinomialNB's
 * feature_log_prob = log((sum_cj + alpha) / (sum_j sum_cj + alpha k)),
 * class_log_prior = log(n_c / n).
 */
#ifndef MLX_NBAYES_H
#define MLX_NBAYES_H

#include "core/mlx_core.h"

#define MLX_NB_STATE_VERSION 1
#define MLX_NB_MAX_CLASSES 1000
#define MLX_NB_MAX_FEATURES 2000

typedef enum mlx_nb_distribution
{
	MLX_NB_GAUSSIAN = 1,
	MLX_NB_MULTINOMIAL = 2
} mlx_nb_distribution;

/*
 * The pass state: one flat block, native byte order, 8-byte aligned by the
 * caller.  After the header: int64_t count[nclasses], then double
 * a[nclasses * nfeat] (Gaussian: means; multinomial: sums), then for
 * Gaussian only double m2[nclasses * nfeat].  Row-major by class.
 */
typedef struct mlx_nb_state
{
	uint8_t		version;		/* MLX_NB_STATE_VERSION */
	uint8_t		distribution;	/* mlx_nb_distribution */
	uint8_t		reserved1[2];	/* zero */
	int32_t		nclasses;		/* 2..MLX_NB_MAX_CLASSES */
	int32_t		nfeat;			/* 1..MLX_NB_MAX_FEATURES */
	int32_t		reserved2;		/* zero */
	int64_t		nrows;			/* rows added (sum of the counts) */
	int64_t		nskipped;		/* rows the caller skipped */
} mlx_nb_state;

/* Bytes of a state; 0 when an argument is out of range. */
size_t		mlx_nb_state_size(int distribution, int nclasses, int nfeat);

/* Initialize a block of mlx_nb_state_size() bytes (zero counts). */
mlx_status	mlx_nb_state_init(mlx_nb_state *s, int distribution, int nclasses,
							  int nfeat);

/*
 * Check a state block of 'size' bytes from outside: version, distribution,
 * reserved bytes, ranges, exact size, counts >= 0 summing to nrows,
 * nskipped >= 0, all values finite, M2 >= 0, a class with no rows has
 * zero statistics, multinomial sums >= 0.  MLX_ECORRUPT with a message.
 */
mlx_status	mlx_nb_state_validate(const mlx_nb_state *s, size_t size,
								  char *errbuf, size_t errlen);

/*
 * Add one row of class cls (0-based) with features x (nfeat doubles, any
 * alignment).  MLX_EINVAL for cls out of range; MLX_ENONFINITE with
 * *bad_index for a NaN/infinite value (or, *bad_index = -1, a running sum
 * that would overflow); for multinomial, a negative value is MLX_EINVAL
 * with *bad_index set.  The features are checked in order, so *bad_index
 * is the first bad one; it is -1 for any error not tied to one feature
 * (bad_index may be NULL).  The state is unchanged on any error.
 */
mlx_status	mlx_nb_state_add(mlx_nb_state *s, int cls, const void *x,
							 int *bad_index);

/*
 * Merge other into s (same distribution, nclasses, nfeat: else
 * MLX_EMISMATCH).  MLX_ENONFINITE, s unchanged, when a merged statistic or
 * row count would overflow.
 */
mlx_status	mlx_nb_state_merge(mlx_nb_state *s, const mlx_nb_state *other);

/* A fitted naive Bayes classifier. */
typedef struct mlx_nb_fit
{
	int32_t		distribution;	/* mlx_nb_distribution */
	int32_t		nclasses;		/* >= 2 */
	int32_t		nfeat;
	int64_t		nrows;
	int64_t		nskipped;
	double		var_smoothing;	/* Gaussian: >= 0 */
	double		alpha;			/* multinomial: > 0 */
	double		epsilon;		/* Gaussian: the variance added to all */
	char	  **classes;		/* nclasses labels: UTF-8, 1..1024 bytes,
								 * distinct; their order is the class index
								 * order */
	int64_t    *class_count;	/* nclasses, each >= 1 */
	double	   *class_log_prior;	/* nclasses */
	double	   *theta;			/* Gaussian: nclasses * nfeat means; NULL
								 * for multinomial */
	double	   *var;			/* Gaussian: nclasses * nfeat variances
								 * (epsilon included), > 0; NULL for
								 * multinomial */
	double	   *feature_log_prob;	/* multinomial: nclasses * nfeat; NULL
									 * for Gaussian */
} mlx_nb_fit;

/*
 * The fit from a state.  Every class must have at least one row
 * (MLX_EINVAL otherwise).  Gaussian: var_smoothing >= 0 and finite; if
 * every variance is 0 and var_smoothing > 0, epsilon is var_smoothing
 * (never a zero variance); var_smoothing = 0 with a zero variance is
 * MLX_EINVAL.  Multinomial: alpha > 0 and finite.  classes (nclasses
 * strings) are referenced, not copied.  Arrays come from ctx.
 *
 * The parameter of the other distribution is ignored and its fields are 0:
 * a Gaussian fit has alpha = 0, a multinomial one var_smoothing = epsilon
 * = 0.  Gaussian class_log_prior is log(n_c / n) (sklearn's
 * log(class_prior_)), multinomial log(n_c) - log(n) (sklearn's
 * class_log_prior_).  alpha is used as given (sklearn's force_alpha=True:
 * no clipping to 1e-10).  MLX_ENONFINITE when a derived value overflows
 * (the pooled variance, epsilon, a variance, a multinomial class total).
 * On any error *out is zeroed and nothing stays allocated.
 */
mlx_status	mlx_nb_from_state(const mlx_nb_state *s, double var_smoothing,
							  double alpha, char **classes, const mlx_ctx *ctx,
							  mlx_nb_fit *out);

/*
 * Class probabilities of one row (x: nfeat doubles, any alignment): out
 * holds nclasses values summing to 1, computed from the joint
 * log-likelihoods with a stable log-sum-exp (scikit-learn's
 * predict_proba).  Returns the index of the most probable class (the first
 * on ties), which is sklearn's predict.  Multinomial rows may hold any
 * finite values (scoring does not check signs, as sklearn's
 * predict does not).  With finite x whose joint log-likelihoods are all
 * -inf (or +inf) the probabilities are NaN, as sklearn's would be.
 */
int			mlx_nb_predict_proba(const mlx_nb_fit *f, const void *x, double *out);

#endif							/* MLX_NBAYES_H */
