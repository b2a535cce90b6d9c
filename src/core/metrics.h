/*
 * metrics.h
 *	  Evaluation metrics as mergeable streaming states: regression moments,
 *	  confusion tables (multiclass and binary), log loss, and the score
 *	  pairs ROC AUC needs.
 *
 * Every state is one flat, position-independent block (a fixed header
 * followed by arrays), native byte order, 8-byte aligned by the caller.  The
 * first byte of every header is a version number and the second the kind
 * of state, so a block handed to the wrong reader is rejected.  Blocks that
 * came from outside are validated before use: the *_check functions are
 * O(1) and make every later access memory-safe; the *_validate functions
 * additionally check the contents (counts, sortedness, finiteness) and are
 * meant for combine and final steps.
 */
#ifndef MLX_METRICS_H
#define MLX_METRICS_H

#include "core/mlx_core.h"

#define MLX_METRICS_STATE_VERSION 1

/* second header byte: the kind of state */
#define MLX_METRICS_KIND_REGRESSION 1
#define MLX_METRICS_KIND_CONFUSION	2
#define MLX_METRICS_KIND_BINARY		3
#define MLX_METRICS_KIND_LOGLOSS	4
#define MLX_METRICS_KIND_AUC		5

/* ---------------------------------------------------------------- regression */

/*
 * Streaming moments of y and of the residual e = y - yhat (count, mean and
 * sum of squared deviations, merged with Chan et al.'s formula), and the
 * sum of |e| with Neumaier compensation.
 */
typedef struct mlx_regmoments
{
	uint8_t		version;
	uint8_t		kind;			/* MLX_METRICS_KIND_REGRESSION */
	uint16_t	reserved16;		/* zero */
	uint32_t	reserved32;		/* zero */
	int64_t		n;
	double		mean_y;
	double		m2_y;
	double		mean_e;
	double		m2_e;
	double		abs_sum;
	double		abs_comp;		/* Neumaier compensation of abs_sum */
} mlx_regmoments;

typedef struct mlx_regression_metrics
{
	double		r2;				/* NaN for fewer than two rows (sklearn) */
	double		mse;
	double		rmse;
	double		mae;
	double		explained_variance;
} mlx_regression_metrics;

void		mlx_regmoments_init(mlx_regmoments *s);
mlx_status	mlx_regmoments_validate(const mlx_regmoments *s, size_t size,
									char *errbuf, size_t errlen);

/* Fold one row; MLX_ENONFINITE for a non-finite input or an overflow. */
mlx_status	mlx_regmoments_add(mlx_regmoments *s, double y, double yhat);

/* a += b; MLX_ENONFINITE on overflow (a is then unchanged). */
mlx_status	mlx_regmoments_merge(mlx_regmoments *a, const mlx_regmoments *b);

/* The five metrics; MLX_EINVAL when n == 0. */
mlx_status	mlx_regmoments_result(const mlx_regmoments *s,
								  mlx_regression_metrics *out);

/* ---------------------------------------------------------------- confusion */

#define MLX_CONF_MAX_LABELS 1000
#define MLX_CONF_MAX_LABEL_BYTES 1024
#define MLX_CONF_MAX_CAP 1024	/* label capacity (power of two >= max) */
#define MLX_CONF_MAX_TEXT (MLX_CONF_MAX_LABELS * MLX_CONF_MAX_LABEL_BYTES)

/*
 * A confusion table over text labels.  Labels are numbered in order of
 * first appearance; 'order' lists the label numbers sorted by their bytes
 * (memcmp, then length) for binary search.  Layout after the header:
 *
 *	  int64  counts[cap * cap]	 counts[actual * cap + predicted]
 *	  uint32 off[cap]			 label i is text[off[i] .. off[i] + len[i])
 *	  uint32 len[cap]
 *	  uint16 order[cap]
 *	  (padding to 8 bytes)
 *	  char   text[text_cap]
 */
typedef struct mlx_confusion
{
	uint8_t		version;
	uint8_t		kind;			/* MLX_METRICS_KIND_CONFUSION */
	uint16_t	reserved16;		/* zero */
	uint32_t	nlabels;		/* distinct labels seen */
	uint32_t	cap;			/* label capacity, 1..MLX_CONF_MAX_CAP */
	uint32_t	text_cap;		/* bytes of label text capacity */
	uint32_t	text_used;
	uint32_t	reserved32;		/* zero */
	int64_t		nrows;
} mlx_confusion;

typedef enum mlx_conf_add_result
{
	MLX_CONF_ADDED = 0,
	MLX_CONF_NEED_SPACE,		/* grow (mlx_confusion_grown_caps) and retry */
	MLX_CONF_TOO_MANY_LABELS	/* the row would exceed MLX_CONF_MAX_LABELS */
} mlx_conf_add_result;

/* Block size for the given capacities; 0 when out of range. */
size_t		mlx_confusion_size(uint32_t cap, uint32_t text_cap);
void		mlx_confusion_init(mlx_confusion *s, uint32_t cap, uint32_t text_cap);

/* O(1) structural check: header, capacities, total size. */
mlx_status	mlx_confusion_check(const mlx_confusion *s, size_t size,
								char *errbuf, size_t errlen);

/* Full check: structure, label offsets, order, distinct labels, counts. */
mlx_status	mlx_confusion_validate(const mlx_confusion *s, size_t size,
								   char *errbuf, size_t errlen);

/*
 * Count one (actual, predicted) pair.  Label lengths must be at most
 * MLX_CONF_MAX_LABEL_BYTES (MLX_EINVAL otherwise).  On MLX_CONF_NEED_SPACE
 * or MLX_CONF_TOO_MANY_LABELS nothing is changed, and *extra_labels /
 * *extra_text say how many new labels and text bytes the row brings.
 * MLX_ECORRUPT when a checked-but-unvalidated state turns out to be
 * inconsistent, or a count would overflow.
 */
mlx_status	mlx_confusion_add(mlx_confusion *s, const char *actual, size_t alen,
							  const char *pred, size_t plen,
							  mlx_conf_add_result *result,
							  uint32_t *extra_labels, size_t *extra_text);

/*
 * Capacities for a state that must hold 'extra_labels' more labels with
 * 'extra_text' more bytes of text (doubling).  MLX_EINVAL when that would
 * exceed MLX_CONF_MAX_LABELS.
 */
mlx_status	mlx_confusion_grown_caps(const mlx_confusion *s, uint32_t extra_labels,
									 size_t extra_text, uint32_t *cap,
									 uint32_t *text_cap);

/* Copy src into a fresh block dst of larger (or equal) capacities. */
mlx_status	mlx_confusion_copy(mlx_confusion *dst, uint32_t cap, uint32_t text_cap,
							   const mlx_confusion *src);

/*
 * Labels of b missing from a, and their text bytes (to decide growth
 * before merging).  Both states must be validated.
 */
mlx_status	mlx_confusion_merge_needs(const mlx_confusion *a, const mlx_confusion *b,
									  uint32_t *new_labels, size_t *new_text);

/*
 * a += b.  a must have room (mlx_confusion_merge_needs); MLX_EINVAL if
 * not, MLX_ECORRUPT if a count would overflow.
 */
mlx_status	mlx_confusion_merge(mlx_confusion *a, const mlx_confusion *b);

/* Accuracy and sklearn average='macro', zero_division=0 metrics. */
typedef struct mlx_class_metrics
{
	double		accuracy;
	double		precision;
	double		recall;
	double		f1;
} mlx_class_metrics;

/* MLX_EINVAL when nrows == 0.  s must be validated. */
mlx_status	mlx_confusion_macro(const mlx_confusion *s, mlx_class_metrics *out);

/* ---------------------------------------------------------------- binary */

#define MLX_BIN_F_TEXT 0x01		/* labels are text; the positive label follows */

/*
 * One-vs-rest 2x2 table for a positive class: boolean labels (positive =
 * true) or text labels with the positive label stored after the header.
 */
typedef struct mlx_binconf
{
	uint8_t		version;
	uint8_t		kind;			/* MLX_METRICS_KIND_BINARY */
	uint8_t		flags;			/* MLX_BIN_F_* */
	uint8_t		reserved8;		/* zero */
	uint32_t	poslen;			/* bytes of the positive label (text only) */
	int64_t		tp;
	int64_t		fp;
	int64_t		fn;
	int64_t		tn;
	/* char positive[poslen] follows */
} mlx_binconf;

size_t		mlx_binconf_size(size_t poslen);
void		mlx_binconf_init(mlx_binconf *s, bool text, const char *pos,
							 size_t poslen);
mlx_status	mlx_binconf_validate(const mlx_binconf *s, size_t size,
								 char *errbuf, size_t errlen);
/* MLX_ECORRUPT if a count would overflow (hand-made states only). */
mlx_status	mlx_binconf_add(mlx_binconf *s, bool actual_pos, bool pred_pos);

/* MLX_EMISMATCH for different kinds/positive labels, MLX_ECORRUPT on overflow */
mlx_status	mlx_binconf_merge(mlx_binconf *a, const mlx_binconf *b);

/* Binary metrics, zero_division=0.  MLX_EINVAL when no rows. */
mlx_status	mlx_binconf_result(const mlx_binconf *s, mlx_class_metrics *out);

/* ---------------------------------------------------------------- log loss */

/*
 * Probabilities are clipped to [eps, 1 - eps] with eps = DBL_EPSILON, as
 * scikit-learn >= 1.2 does by default (eps="auto" = finfo(float64).eps).
 */
#define MLX_LOGLOSS_EPS 2.220446049250313e-16

typedef struct mlx_logloss
{
	uint8_t		version;
	uint8_t		kind;			/* MLX_METRICS_KIND_LOGLOSS */
	uint16_t	reserved16;
	uint32_t	reserved32;
	int64_t		n;
	double		sum;			/* sum of per-row losses */
	double		comp;			/* Neumaier compensation */
} mlx_logloss;

void		mlx_logloss_init(mlx_logloss *s);
mlx_status	mlx_logloss_validate(const mlx_logloss *s, size_t size,
								 char *errbuf, size_t errlen);

/* MLX_EINVAL unless 0 <= p <= 1 (NaN included). */
mlx_status	mlx_logloss_add(mlx_logloss *s, bool actual, double p);
void		mlx_logloss_merge(mlx_logloss *a, const mlx_logloss *b);
mlx_status	mlx_logloss_result(const mlx_logloss *s, double *out);

/* ---------------------------------------------------------------- ROC AUC */

/* Largest AUC block: the caller adds its own header to stay below 1 GB. */
#define MLX_AUC_MAX_BYTES ((size_t) 0x3FFFFF00)
#define MLX_AUC_MIN_CAP 128

/*
 * Scores of the rows, positives growing up from the start of the array
 * and negatives down from its end:
 *
 *	  double v[cap]:  v[0 .. npos) positives,  v[cap - nneg .. cap) negatives
 */
typedef struct mlx_auc
{
	uint8_t		version;
	uint8_t		kind;			/* MLX_METRICS_KIND_AUC */
	uint16_t	reserved16;
	uint32_t	reserved32;
	int64_t		cap;
	int64_t		npos;
	int64_t		nneg;
} mlx_auc;

/* Block size for cap scores; 0 when above MLX_AUC_MAX_BYTES. */
size_t		mlx_auc_size(int64_t cap);
int64_t		mlx_auc_max_cap(void);
void		mlx_auc_init(mlx_auc *s, int64_t cap);

/* O(1): header and size.  Scores are checked by mlx_auc_result. */
mlx_status	mlx_auc_check(const mlx_auc *s, size_t size, char *errbuf,
						  size_t errlen);

/* false when full (grow first).  score must be finite. */
bool		mlx_auc_add(mlx_auc *s, bool actual, double score);

/*
 * Capacity for 'need' scores in all: doubling from the current one, at
 * least MLX_AUC_MIN_CAP; MLX_EINVAL when above mlx_auc_max_cap().
 */
mlx_status	mlx_auc_grown_cap(const mlx_auc *s, int64_t need, int64_t *cap);

/* Copy src into a fresh block of capacity cap >= src's count. */
mlx_status	mlx_auc_copy(mlx_auc *dst, int64_t cap, const mlx_auc *src);

/* a += b; MLX_EINVAL when a lacks room. */
mlx_status	mlx_auc_merge(mlx_auc *a, const mlx_auc *b);

/*
 * Exact AUC = P(score of a positive > score of a negative) + 1/2 P(tie),
 * which is the trapezoidal area under the ROC curve with tied scores
 * (scikit-learn's roc_auc_score).  Sorts copies (s is not modified) with
 * an interruptible radix sort.  MLX_EINVAL when either class is empty,
 * MLX_ECORRUPT for a non-finite score, MLX_EINTR, MLX_ENOMEM.
 */
mlx_status	mlx_auc_result(const mlx_auc *s, const mlx_ctx *ctx, double *out);

/*
 * The AUC of explicit arrays (any order), for tests and tools: the same
 * computation as mlx_auc_result.
 */
mlx_status	mlx_auc_of(const double *pos, int64_t npos, const double *neg,
					   int64_t nneg, const mlx_ctx *ctx, double *out);

#endif							/* MLX_METRICS_H */
