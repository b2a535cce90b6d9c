/*
 * metrics.c
 *	  Evaluation metrics as mergeable streaming states: regression moments
 *	  (Welford updates, Chan merges), confusion tables over text labels,
 *	  one-vs-rest 2x2 tables, log loss sums, and exact ROC AUC from the
 *	  collected scores (radix-sorted, ties counted half).
 *
 * Conventions follow scikit-learn (see metrics.h and the SQL comments):
 * r2/explained variance degenerate cases, zero_division=0, macro averages
 * over the union of labels, log loss clipping at DBL_EPSILON.
 */
#include "core/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ERR(...) \
	do { \
		if (errbuf != NULL && errlen > 0) \
			snprintf(errbuf, errlen, __VA_ARGS__); \
		return MLX_ECORRUPT; \
	} while (0)

/* Neumaier's compensated addition: *sum + *comp carries the exact-ish total */
static void
neumaier_add(double *sum, double *comp, double x)
{
	double		t = *sum + x;

	if (fabs(*sum) >= fabs(x))
		*comp += (*sum - t) + x;
	else
		*comp += (x - t) + *sum;
	*sum = t;
}

static bool
add_overflows(int64_t a, int64_t b)
{
	return b > 0 && a > INT64_MAX - b;
}

/* ================================================================ regression */

void
mlx_regmoments_init(mlx_regmoments *s)
{
	memset(s, 0, sizeof(*s));
	s->version = MLX_METRICS_STATE_VERSION;
	s->kind = MLX_METRICS_KIND_REGRESSION;
}

mlx_status
mlx_regmoments_validate(const mlx_regmoments *s, size_t size, char *errbuf,
						size_t errlen)
{
	if (size != sizeof(mlx_regmoments))
		ERR("state is %zu bytes, expected %zu", size, sizeof(mlx_regmoments));
	if (s->version != MLX_METRICS_STATE_VERSION)
		ERR("unknown state version %u", (unsigned) s->version);
	if (s->kind != MLX_METRICS_KIND_REGRESSION)
		ERR("not a regression metrics state (kind %u)", (unsigned) s->kind);
	if (s->reserved16 != 0 || s->reserved32 != 0)
		ERR("reserved fields are not zero");
	if (s->n < 0 || s->n == INT64_MAX)
		ERR("row count %lld out of range", (long long) s->n);
	if (!isfinite(s->mean_y) || !isfinite(s->m2_y) || !isfinite(s->mean_e) ||
		!isfinite(s->m2_e) || !isfinite(s->abs_sum) || !isfinite(s->abs_comp))
		ERR("non-finite moment");
	if (s->m2_y < 0 || s->m2_e < 0 || s->abs_sum + s->abs_comp < 0)
		ERR("negative sum of squares or of absolute values");
	if (s->n == 0 && (s->mean_y != 0 || s->m2_y != 0 || s->mean_e != 0 ||
					  s->m2_e != 0 || s->abs_sum != 0 || s->abs_comp != 0))
		ERR("empty state with non-zero moments");
	return MLX_OK;
}

mlx_status
mlx_regmoments_add(mlx_regmoments *s, double y, double yhat)
{
	double		e = y - yhat;
	double		n1 = (double) (s->n + 1);
	double		dy = y - s->mean_y;
	double		my = s->mean_y + dy / n1;
	double		m2y = s->m2_y + dy * (y - my);
	double		de = e - s->mean_e;
	double		me = s->mean_e + de / n1;
	double		m2e = s->m2_e + de * (e - me);
	double		asum = s->abs_sum;
	double		acomp = s->abs_comp;

	if (!isfinite(y) || !isfinite(yhat) || !isfinite(e))
		return MLX_ENONFINITE;
	neumaier_add(&asum, &acomp, fabs(e));
	if (!isfinite(my) || !isfinite(m2y) || !isfinite(me) || !isfinite(m2e) ||
		!isfinite(asum) || !isfinite(acomp) || s->n >= INT64_MAX - 1)
		return MLX_ENONFINITE;
	s->n++;
	s->mean_y = my;
	s->m2_y = m2y;
	s->mean_e = me;
	s->m2_e = m2e;
	s->abs_sum = asum;
	s->abs_comp = acomp;
	return MLX_OK;
}

/* Chan, Golub & LeVeque: merge (n, mean, M2) of two disjoint sets. */
static void
chan_merge(int64_t na, double ma, double m2a, int64_t nb, double mb, double m2b,
		   double *mean, double *m2)
{
	double		n = (double) na + (double) nb;
	double		d = mb - ma;

	*mean = ma + d * ((double) nb / n);
	*m2 = m2a + m2b + d * d * ((double) na * ((double) nb / n));
}

mlx_status
mlx_regmoments_merge(mlx_regmoments *a, const mlx_regmoments *b)
{
	double		my,
				m2y,
				me,
				m2e,
				asum,
				acomp;

	if (b->n == 0)
		return MLX_OK;
	if (a->n == 0)
	{
		*a = *b;
		return MLX_OK;
	}
	if (add_overflows(a->n, b->n) || a->n + b->n == INT64_MAX)
		return MLX_ENONFINITE;
	chan_merge(a->n, a->mean_y, a->m2_y, b->n, b->mean_y, b->m2_y, &my, &m2y);
	chan_merge(a->n, a->mean_e, a->m2_e, b->n, b->mean_e, b->m2_e, &me, &m2e);
	asum = a->abs_sum;
	acomp = a->abs_comp + b->abs_comp;
	neumaier_add(&asum, &acomp, b->abs_sum);
	if (!isfinite(my) || !isfinite(m2y) || !isfinite(me) || !isfinite(m2e) ||
		!isfinite(asum) || !isfinite(acomp))
		return MLX_ENONFINITE;
	a->n += b->n;
	a->mean_y = my;
	a->m2_y = m2y;
	a->mean_e = me;
	a->m2_e = m2e;
	a->abs_sum = asum;
	a->abs_comp = acomp;
	return MLX_OK;
}

/*
 * scikit-learn's _assemble_r2_explained_variance with force_finite: a zero
 * numerator scores 1, a zero denominator with a non-zero numerator 0.
 */
static double
one_minus_ratio(double num, double den)
{
	if (num == 0)
		return 1.0;
	if (den == 0)
		return 0.0;
	return 1.0 - num / den;
}

mlx_status
mlx_regmoments_result(const mlx_regmoments *s, mlx_regression_metrics *out)
{
	double		n = (double) s->n;
	double		sse;

	if (s->n <= 0)
		return MLX_EINVAL;
	sse = s->m2_e + n * s->mean_e * s->mean_e;
	out->mse = sse / n;
	out->rmse = sqrt(out->mse);
	out->mae = (s->abs_sum + s->abs_comp) / n;
	/* r2_score: "not well-defined with less than two samples" -> NaN */
	out->r2 = s->n < 2 ? NAN : one_minus_ratio(sse, s->m2_y);
	out->explained_variance = one_minus_ratio(s->m2_e, s->m2_y);
	return MLX_OK;
}

/* ================================================================ confusion */

#define ALIGN8(x) (((x) + 7) & ~(size_t) 7)

static size_t
conf_counts_off(void)
{
	return sizeof(mlx_confusion);
}

static size_t
conf_off_off(uint32_t cap)
{
	return conf_counts_off() + sizeof(int64_t) * (size_t) cap * cap;
}

static size_t
conf_len_off(uint32_t cap)
{
	return conf_off_off(cap) + sizeof(uint32_t) * (size_t) cap;
}

static size_t
conf_order_off(uint32_t cap)
{
	return conf_len_off(cap) + sizeof(uint32_t) * (size_t) cap;
}

static size_t
conf_text_off(uint32_t cap)
{
	return ALIGN8(conf_order_off(cap) + sizeof(uint16_t) * (size_t) cap);
}

#define CONF_COUNTS(s) ((int64_t *) ((char *) (s) + conf_counts_off()))
#define CONF_OFF(s) ((uint32_t *) ((char *) (s) + conf_off_off((s)->cap)))
#define CONF_LEN(s) ((uint32_t *) ((char *) (s) + conf_len_off((s)->cap)))
#define CONF_ORDER(s) ((uint16_t *) ((char *) (s) + conf_order_off((s)->cap)))
#define CONF_TEXT(s) ((char *) (s) + conf_text_off((s)->cap))

size_t
mlx_confusion_size(uint32_t cap, uint32_t text_cap)
{
	if (cap < 1 || cap > MLX_CONF_MAX_CAP || text_cap > MLX_CONF_MAX_TEXT)
		return 0;
	return conf_text_off(cap) + text_cap;
}

void
mlx_confusion_init(mlx_confusion *s, uint32_t cap, uint32_t text_cap)
{
	memset(s, 0, mlx_confusion_size(cap, text_cap));
	s->version = MLX_METRICS_STATE_VERSION;
	s->kind = MLX_METRICS_KIND_CONFUSION;
	s->cap = cap;
	s->text_cap = text_cap;
}

mlx_status
mlx_confusion_check(const mlx_confusion *s, size_t size, char *errbuf,
					size_t errlen)
{
	if (size < sizeof(mlx_confusion))
		ERR("state is %zu bytes, shorter than its header", size);
	if (s->version != MLX_METRICS_STATE_VERSION)
		ERR("unknown state version %u", (unsigned) s->version);
	if (s->kind != MLX_METRICS_KIND_CONFUSION)
		ERR("not a confusion table state (kind %u)", (unsigned) s->kind);
	if (s->reserved16 != 0 || s->reserved32 != 0)
		ERR("reserved fields are not zero");
	if (s->cap < 1 || s->cap > MLX_CONF_MAX_CAP || s->nlabels > s->cap ||
		s->nlabels > MLX_CONF_MAX_LABELS)
		ERR("label count %u or capacity %u out of range",
			(unsigned) s->nlabels, (unsigned) s->cap);
	if (s->text_cap > MLX_CONF_MAX_TEXT || s->text_used > s->text_cap)
		ERR("label text size %u or capacity %u out of range",
			(unsigned) s->text_used, (unsigned) s->text_cap);
	if (s->nrows < 0)
		ERR("negative row count");
	if (size != mlx_confusion_size(s->cap, s->text_cap))
		ERR("state is %zu bytes, expected %zu for its capacities", size,
			mlx_confusion_size(s->cap, s->text_cap));
	return MLX_OK;
}

/* label k's bytes, or NULL when its offset/length lie outside the text */
static const char *
conf_label(const mlx_confusion *s, uint32_t k, size_t *len)
{
	const uint32_t *off = CONF_OFF(s);
	const uint32_t *ln = CONF_LEN(s);

	if (k >= s->nlabels || ln[k] > MLX_CONF_MAX_LABEL_BYTES ||
		(uint64_t) off[k] + ln[k] > s->text_used)
		return NULL;
	*len = ln[k];
	return CONF_TEXT(s) + off[k];
}

static int
label_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/*
 * Binary search: *idx = label number or -1; *pos = position in 'order'
 * where it is or would be inserted.
 */
static mlx_status
conf_find(const mlx_confusion *s, const char *label, size_t len, int *idx,
		  uint32_t *pos)
{
	const uint16_t *order = CONF_ORDER(s);
	uint32_t	lo = 0,
				hi = s->nlabels;

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		size_t		klen;
		const char *k = conf_label(s, order[mid], &klen);
		int			c;

		if (k == NULL)
			return MLX_ECORRUPT;
		c = label_cmp(label, len, k, klen);
		if (c == 0)
		{
			*idx = order[mid];
			*pos = mid;
			return MLX_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*idx = -1;
	*pos = lo;
	return MLX_OK;
}

/* append a label known to be absent, with room checked by the caller */
static int
conf_insert(mlx_confusion *s, const char *label, size_t len, uint32_t pos)
{
	uint16_t   *order = CONF_ORDER(s);
	uint32_t	k = s->nlabels;

	memcpy(CONF_TEXT(s) + s->text_used, label, len);
	CONF_OFF(s)[k] = s->text_used;
	CONF_LEN(s)[k] = (uint32_t) len;
	s->text_used += (uint32_t) len;
	memmove(order + pos + 1, order + pos, sizeof(uint16_t) * (k - pos));
	order[pos] = (uint16_t) k;
	s->nlabels++;
	return (int) k;
}

mlx_status
mlx_confusion_add(mlx_confusion *s, const char *actual, size_t alen,
				  const char *pred, size_t plen, mlx_conf_add_result *result,
				  uint32_t *extra_labels, size_t *extra_text)
{
	int			ia,
				ip;
	uint32_t	pa,
				pp;
	uint32_t	nnew = 0;
	size_t		ntext = 0;
	int64_t    *cell;
	mlx_status	st;

	if (alen > MLX_CONF_MAX_LABEL_BYTES || plen > MLX_CONF_MAX_LABEL_BYTES)
		return MLX_EINVAL;
	if ((st = conf_find(s, actual, alen, &ia, &pa)) != MLX_OK ||
		(st = conf_find(s, pred, plen, &ip, &pp)) != MLX_OK)
		return st;
	if (ia < 0)
	{
		nnew++;
		ntext += alen;
	}
	if (ip < 0 && !(ia < 0 && label_cmp(actual, alen, pred, plen) == 0))
	{
		nnew++;
		ntext += plen;
	}
	if (extra_labels)
		*extra_labels = nnew;
	if (extra_text)
		*extra_text = ntext;
	if (s->nlabels + nnew > MLX_CONF_MAX_LABELS)
	{
		*result = MLX_CONF_TOO_MANY_LABELS;
		return MLX_OK;
	}
	if (s->nlabels + nnew > s->cap || s->text_used + ntext > s->text_cap)
	{
		*result = MLX_CONF_NEED_SPACE;
		return MLX_OK;
	}
	if (s->nrows == INT64_MAX)
		return MLX_ECORRUPT;
	if (ia < 0)
	{
		ia = conf_insert(s, actual, alen, pa);
		if (ip < 0 && (st = conf_find(s, pred, plen, &ip, &pp)) != MLX_OK)
			return st;
	}
	if (ip < 0)
		ip = conf_insert(s, pred, plen, pp);
	cell = &CONF_COUNTS(s)[(size_t) ia * s->cap + ip];
	if (*cell < 0 || *cell == INT64_MAX)
		return MLX_ECORRUPT;
	(*cell)++;
	s->nrows++;
	*result = MLX_CONF_ADDED;
	return MLX_OK;
}

mlx_status
mlx_confusion_validate(const mlx_confusion *s, size_t size, char *errbuf,
					   size_t errlen)
{
	bool		seen[MLX_CONF_MAX_CAP];
	const uint16_t *order;
	const int64_t *counts;
	int64_t		total = 0;
	mlx_status	st;

	if ((st = mlx_confusion_check(s, size, errbuf, errlen)) != MLX_OK)
		return st;
	order = CONF_ORDER(s);
	counts = CONF_COUNTS(s);
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < s->nlabels; i++)
	{
		size_t		len;

		if (conf_label(s, i, &len) == NULL)
			ERR("label %u lies outside the label text", (unsigned) i);
		if (order[i] >= s->nlabels || seen[order[i]])
			ERR("label order is not a permutation");
		seen[order[i]] = true;
	}
	for (uint32_t i = 1; i < s->nlabels; i++)
	{
		size_t		l0,
					l1;
		const char *a = conf_label(s, order[i - 1], &l0);
		const char *b = conf_label(s, order[i], &l1);

		if (label_cmp(a, l0, b, l1) >= 0)
			ERR("labels are not sorted or not distinct");
	}
	for (uint32_t i = 0; i < s->cap; i++)
		for (uint32_t j = 0; j < s->cap; j++)
		{
			int64_t		c = counts[(size_t) i * s->cap + j];

			if (i >= s->nlabels || j >= s->nlabels)
			{
				if (c != 0)
					ERR("count for an unused label slot");
				continue;
			}
			if (c < 0 || add_overflows(total, c))
				ERR("count out of range");
			total += c;
		}
	if (total != s->nrows)
		ERR("counts add up to %lld, not the row count %lld",
			(long long) total, (long long) s->nrows);
	return MLX_OK;
}

mlx_status
mlx_confusion_grown_caps(const mlx_confusion *s, uint32_t extra_labels,
						 size_t extra_text, uint32_t *cap, uint32_t *text_cap)
{
	uint64_t	need_l = (uint64_t) s->nlabels + extra_labels;
	uint64_t	need_t = (uint64_t) s->text_used + extra_text;
	uint64_t	c = s->cap < 4 ? 4 : s->cap;
	uint64_t	t = s->text_cap < 64 ? 64 : s->text_cap;

	if (need_l > MLX_CONF_MAX_LABELS || need_t > MLX_CONF_MAX_TEXT)
		return MLX_EINVAL;
	while (c < need_l)
		c *= 2;
	while (t < need_t)
		t *= 2;
	if (c > MLX_CONF_MAX_CAP)
		c = MLX_CONF_MAX_CAP;
	if (t > MLX_CONF_MAX_TEXT)
		t = MLX_CONF_MAX_TEXT;
	*cap = (uint32_t) c;
	*text_cap = (uint32_t) t;
	return MLX_OK;
}

mlx_status
mlx_confusion_copy(mlx_confusion *dst, uint32_t cap, uint32_t text_cap,
				   const mlx_confusion *src)
{
	const int64_t *sc = CONF_COUNTS(src);
	int64_t    *dc;

	if (mlx_confusion_size(cap, text_cap) == 0 || cap < src->nlabels ||
		text_cap < src->text_used)
		return MLX_EINVAL;
	mlx_confusion_init(dst, cap, text_cap);
	dst->nlabels = src->nlabels;
	dst->text_used = src->text_used;
	dst->nrows = src->nrows;
	memcpy(CONF_TEXT(dst), CONF_TEXT(src), src->text_used);
	memcpy(CONF_OFF(dst), CONF_OFF(src), sizeof(uint32_t) * src->nlabels);
	memcpy(CONF_LEN(dst), CONF_LEN(src), sizeof(uint32_t) * src->nlabels);
	memcpy(CONF_ORDER(dst), CONF_ORDER(src), sizeof(uint16_t) * src->nlabels);
	dc = CONF_COUNTS(dst);
	for (uint32_t i = 0; i < src->nlabels; i++)
		memcpy(dc + (size_t) i * cap, sc + (size_t) i * src->cap,
			   sizeof(int64_t) * src->nlabels);
	return MLX_OK;
}

mlx_status
mlx_confusion_merge_needs(const mlx_confusion *a, const mlx_confusion *b,
						  uint32_t *new_labels, size_t *new_text)
{
	*new_labels = 0;
	*new_text = 0;
	for (uint32_t i = 0; i < b->nlabels; i++)
	{
		size_t		len;
		const char *l = conf_label(b, i, &len);
		int			idx;
		uint32_t	pos;
		mlx_status	st;

		if (l == NULL)
			return MLX_ECORRUPT;
		if ((st = conf_find(a, l, len, &idx, &pos)) != MLX_OK)
			return st;
		if (idx < 0)
		{
			(*new_labels)++;
			*new_text += len;
		}
	}
	return MLX_OK;
}

mlx_status
mlx_confusion_merge(mlx_confusion *a, const mlx_confusion *b)
{
	uint16_t	map[MLX_CONF_MAX_CAP];
	uint32_t	nl;
	size_t		nt;
	int64_t    *ac = CONF_COUNTS(a);
	const int64_t *bc = CONF_COUNTS(b);
	mlx_status	st;

	if ((st = mlx_confusion_merge_needs(a, b, &nl, &nt)) != MLX_OK)
		return st;
	if (a->nlabels + nl > a->cap || a->text_used + nt > a->text_cap)
		return MLX_EINVAL;
	if (add_overflows(a->nrows, b->nrows))
		return MLX_ECORRUPT;
	for (uint32_t i = 0; i < b->nlabels; i++)
	{
		size_t		len;
		const char *l = conf_label(b, i, &len);
		int			idx;
		uint32_t	pos;

		if (l == NULL)
			return MLX_ECORRUPT;
		if ((st = conf_find(a, l, len, &idx, &pos)) != MLX_OK)
			return st;
		if (idx < 0)
			idx = conf_insert(a, l, len, pos);
		map[i] = (uint16_t) idx;
	}
	for (uint32_t i = 0; i < b->nlabels; i++)
		for (uint32_t j = 0; j < b->nlabels; j++)
		{
			int64_t    *cell = &ac[(size_t) map[i] * a->cap + map[j]];
			int64_t		add = bc[(size_t) i * b->cap + j];

			if (add < 0 || add_overflows(*cell, add))
				return MLX_ECORRUPT;
			*cell += add;
		}
	a->nrows += b->nrows;
	return MLX_OK;
}

mlx_status
mlx_confusion_macro(const mlx_confusion *s, mlx_class_metrics *out)
{
	const int64_t *c = CONF_COUNTS(s);
	uint32_t	n = s->nlabels;
	uint32_t	cap = s->cap;
	double		trace = 0,
				psum = 0,
				rsum = 0,
				fsum = 0;

	if (s->nrows <= 0 || n == 0)
		return MLX_EINVAL;
	for (uint32_t k = 0; k < n; k++)
	{
		int64_t		tp = c[(size_t) k * cap + k];
		int64_t		actual = 0,
					pred = 0;

		for (uint32_t j = 0; j < n; j++)
		{
			actual += c[(size_t) k * cap + j];
			pred += c[(size_t) j * cap + k];
		}
		trace += (double) tp;
		psum += pred > 0 ? (double) tp / (double) pred : 0.0;
		rsum += actual > 0 ? (double) tp / (double) actual : 0.0;
		/* 2tp / (2tp + fp + fn) = 2tp / (actual + pred) */
		fsum += actual + pred > 0 ? 2.0 * (double) tp / ((double) actual + (double) pred) : 0.0;
	}
	out->accuracy = trace / (double) s->nrows;
	out->precision = psum / n;
	out->recall = rsum / n;
	out->f1 = fsum / n;
	return MLX_OK;
}

/* ================================================================ binary */

size_t
mlx_binconf_size(size_t poslen)
{
	return sizeof(mlx_binconf) + poslen;
}

void
mlx_binconf_init(mlx_binconf *s, bool text, const char *pos, size_t poslen)
{
	memset(s, 0, sizeof(mlx_binconf));
	s->version = MLX_METRICS_STATE_VERSION;
	s->kind = MLX_METRICS_KIND_BINARY;
	s->flags = text ? MLX_BIN_F_TEXT : 0;
	s->poslen = text ? (uint32_t) poslen : 0;
	if (text && poslen > 0)
		memcpy((char *) s + sizeof(mlx_binconf), pos, poslen);
}

mlx_status
mlx_binconf_validate(const mlx_binconf *s, size_t size, char *errbuf,
					 size_t errlen)
{
	int64_t		total = 0;
	const int64_t cells[4] = {s->tp, s->fp, s->fn, s->tn};

	if (size < sizeof(mlx_binconf))
		ERR("state is %zu bytes, shorter than its header", size);
	if (s->version != MLX_METRICS_STATE_VERSION)
		ERR("unknown state version %u", (unsigned) s->version);
	if (s->kind != MLX_METRICS_KIND_BINARY)
		ERR("not a binary confusion state (kind %u)", (unsigned) s->kind);
	if ((s->flags & ~MLX_BIN_F_TEXT) != 0 || s->reserved8 != 0)
		ERR("unknown flags");
	if (!(s->flags & MLX_BIN_F_TEXT) && s->poslen != 0)
		ERR("positive label on a boolean state");
	if (s->poslen > MLX_CONF_MAX_LABEL_BYTES ||
		size != mlx_binconf_size(s->poslen))
		ERR("state is %zu bytes, inconsistent with its positive label", size);
	for (int i = 0; i < 4; i++)
	{
		if (cells[i] < 0 || add_overflows(total, cells[i]))
			ERR("count out of range");
		total += cells[i];
	}
	return MLX_OK;
}

mlx_status
mlx_binconf_add(mlx_binconf *s, bool actual_pos, bool pred_pos)
{
	int64_t    *cell = actual_pos ? (pred_pos ? &s->tp : &s->fn)
		: (pred_pos ? &s->fp : &s->tn);

	if (s->tp + s->fp + s->fn + s->tn == INT64_MAX)
		return MLX_ECORRUPT;
	(*cell)++;
	return MLX_OK;
}

mlx_status
mlx_binconf_merge(mlx_binconf *a, const mlx_binconf *b)
{
	int64_t		na = a->tp + a->fp + a->fn + a->tn;
	int64_t		nb = b->tp + b->fp + b->fn + b->tn;

	if (a->flags != b->flags || a->poslen != b->poslen ||
		memcmp((const char *) a + sizeof(mlx_binconf),
			   (const char *) b + sizeof(mlx_binconf), a->poslen) != 0)
		return MLX_EMISMATCH;
	if (add_overflows(na, nb))
		return MLX_ECORRUPT;
	a->tp += b->tp;
	a->fp += b->fp;
	a->fn += b->fn;
	a->tn += b->tn;
	return MLX_OK;
}

mlx_status
mlx_binconf_result(const mlx_binconf *s, mlx_class_metrics *out)
{
	double		tp = (double) s->tp,
				fp = (double) s->fp,
				fn = (double) s->fn,
				tn = (double) s->tn;
	int64_t		n = s->tp + s->fp + s->fn + s->tn;

	if (n <= 0)
		return MLX_EINVAL;
	out->accuracy = (tp + tn) / (double) n;
	out->precision = s->tp + s->fp > 0 ? tp / (tp + fp) : 0.0;
	out->recall = s->tp + s->fn > 0 ? tp / (tp + fn) : 0.0;
	out->f1 = s->tp > 0 ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0;
	return MLX_OK;
}

/* ================================================================ log loss */

void
mlx_logloss_init(mlx_logloss *s)
{
	memset(s, 0, sizeof(*s));
	s->version = MLX_METRICS_STATE_VERSION;
	s->kind = MLX_METRICS_KIND_LOGLOSS;
}

mlx_status
mlx_logloss_validate(const mlx_logloss *s, size_t size, char *errbuf,
					 size_t errlen)
{
	if (size != sizeof(mlx_logloss))
		ERR("state is %zu bytes, expected %zu", size, sizeof(mlx_logloss));
	if (s->version != MLX_METRICS_STATE_VERSION)
		ERR("unknown state version %u", (unsigned) s->version);
	if (s->kind != MLX_METRICS_KIND_LOGLOSS)
		ERR("not a log loss state (kind %u)", (unsigned) s->kind);
	if (s->reserved16 != 0 || s->reserved32 != 0)
		ERR("reserved fields are not zero");
	if (s->n < 0 || s->n == INT64_MAX)
		ERR("row count out of range");
	if (!isfinite(s->sum) || !isfinite(s->comp) || s->sum + s->comp < 0)
		ERR("loss sum is negative or not finite");
	if (s->n == 0 && (s->sum != 0 || s->comp != 0))
		ERR("empty state with a non-zero loss");
	return MLX_OK;
}

mlx_status
mlx_logloss_add(mlx_logloss *s, bool actual, double p)
{
	double		pc;

	if (!(p >= 0.0 && p <= 1.0))
		return MLX_EINVAL;
	if (s->n >= INT64_MAX - 1)
		return MLX_ECORRUPT;
	pc = p < MLX_LOGLOSS_EPS ? MLX_LOGLOSS_EPS
		: (p > 1.0 - MLX_LOGLOSS_EPS ? 1.0 - MLX_LOGLOSS_EPS : p);
	neumaier_add(&s->sum, &s->comp, actual ? -log(pc) : -log1p(-pc));
	s->n++;
	return MLX_OK;
}

void
mlx_logloss_merge(mlx_logloss *a, const mlx_logloss *b)
{
	a->n += b->n;
	a->comp += b->comp;
	neumaier_add(&a->sum, &a->comp, b->sum);
}

mlx_status
mlx_logloss_result(const mlx_logloss *s, double *out)
{
	if (s->n <= 0)
		return MLX_EINVAL;
	*out = (s->sum + s->comp) / (double) s->n;
	return MLX_OK;
}

/* ================================================================ ROC AUC */

#define AUC_V(s) ((double *) ((char *) (s) + sizeof(mlx_auc)))
#define POLL_EVERY 65536

int64_t
mlx_auc_max_cap(void)
{
	return (int64_t) ((MLX_AUC_MAX_BYTES - sizeof(mlx_auc)) / sizeof(double));
}

size_t
mlx_auc_size(int64_t cap)
{
	if (cap < 0 || cap > mlx_auc_max_cap())
		return 0;
	return sizeof(mlx_auc) + sizeof(double) * (size_t) cap;
}

void
mlx_auc_init(mlx_auc *s, int64_t cap)
{
	memset(s, 0, sizeof(mlx_auc));
	s->version = MLX_METRICS_STATE_VERSION;
	s->kind = MLX_METRICS_KIND_AUC;
	s->cap = cap;
}

mlx_status
mlx_auc_check(const mlx_auc *s, size_t size, char *errbuf, size_t errlen)
{
	if (size < sizeof(mlx_auc))
		ERR("state is %zu bytes, shorter than its header", size);
	if (s->version != MLX_METRICS_STATE_VERSION)
		ERR("unknown state version %u", (unsigned) s->version);
	if (s->kind != MLX_METRICS_KIND_AUC)
		ERR("not a ROC AUC state (kind %u)", (unsigned) s->kind);
	if (s->reserved16 != 0 || s->reserved32 != 0)
		ERR("reserved fields are not zero");
	if (s->cap < 0 || s->cap > mlx_auc_max_cap() || s->npos < 0 ||
		s->nneg < 0 || s->npos > s->cap || s->nneg > s->cap - s->npos)
		ERR("score counts %lld + %lld do not fit capacity %lld",
			(long long) s->npos, (long long) s->nneg, (long long) s->cap);
	if (size != mlx_auc_size(s->cap))
		ERR("state is %zu bytes, expected %zu for its capacity", size,
			mlx_auc_size(s->cap));
	return MLX_OK;
}

bool
mlx_auc_add(mlx_auc *s, bool actual, double score)
{
	double	   *v = AUC_V(s);

	if (s->npos + s->nneg >= s->cap)
		return false;
	score += 0.0;				/* -0.0 -> +0.0: the two must tie */
	if (actual)
		v[s->npos++] = score;
	else
		v[s->cap - ++s->nneg] = score;
	return true;
}

mlx_status
mlx_auc_grown_cap(const mlx_auc *s, int64_t need, int64_t *cap)
{
	int64_t		max = mlx_auc_max_cap();
	int64_t		c = s->cap < MLX_AUC_MIN_CAP ? MLX_AUC_MIN_CAP : s->cap;

	if (need < 0 || need > max)
		return MLX_EINVAL;
	while (c < need)
		c = c > max / 2 ? max : c * 2;
	*cap = c > max ? max : c;
	return MLX_OK;
}

mlx_status
mlx_auc_copy(mlx_auc *dst, int64_t cap, const mlx_auc *src)
{
	if (mlx_auc_size(cap) == 0 || cap < src->npos + src->nneg)
		return MLX_EINVAL;
	mlx_auc_init(dst, cap);
	dst->npos = src->npos;
	dst->nneg = src->nneg;
	memcpy(AUC_V(dst), AUC_V(src), sizeof(double) * (size_t) src->npos);
	memcpy(AUC_V(dst) + cap - src->nneg, AUC_V(src) + src->cap - src->nneg,
		   sizeof(double) * (size_t) src->nneg);
	return MLX_OK;
}

mlx_status
mlx_auc_merge(mlx_auc *a, const mlx_auc *b)
{
	if (b->npos + b->nneg > a->cap - a->npos - a->nneg)
		return MLX_EINVAL;
	memcpy(AUC_V(a) + a->npos, AUC_V(b), sizeof(double) * (size_t) b->npos);
	memcpy(AUC_V(a) + a->cap - a->nneg - b->nneg,
		   AUC_V(b) + b->cap - b->nneg, sizeof(double) * (size_t) b->nneg);
	a->npos += b->npos;
	a->nneg += b->nneg;
	return MLX_OK;
}

/*
 * Order-preserving map of a finite double to an unsigned key (+0 and -0
 * map to the same key).  false for NaN/Infinity.
 */
static bool
double_key(double x, uint64_t *key)
{
	uint64_t	u;

	if (!isfinite(x))
		return false;
	if (x == 0)
		x = 0.0;
	memcpy(&u, &x, sizeof(u));
	*key = (u >> 63) ? ~u : (u | UINT64_C(0x8000000000000000));
	return true;
}

/* LSD radix sort of n keys, 8 bits a pass, skipping passes with one bucket */
static mlx_status
radix_sort(uint64_t *a, uint64_t *tmp, size_t n, const mlx_ctx *ctx)
{
	size_t		count[8][256];
	uint64_t   *src = a,
			   *dst = tmp;

	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	k = src[i];

		for (int d = 0; d < 8; d++)
			count[d][(k >> (8 * d)) & 0xFF]++;
		if (i % POLL_EVERY == 0 && mlx_interrupted(ctx))
			return MLX_EINTR;
	}
	for (int d = 0; d < 8; d++)
	{
		size_t		pos[256];
		size_t		sum = 0;
		uint64_t   *swap;

		if (n == 0 || count[d][(src[0] >> (8 * d)) & 0xFF] == n)
			continue;
		for (int b = 0; b < 256; b++)
		{
			pos[b] = sum;
			sum += count[d][b];
		}
		for (size_t i = 0; i < n; i++)
		{
			dst[pos[(src[i] >> (8 * d)) & 0xFF]++] = src[i];
			if (i % POLL_EVERY == 0 && mlx_interrupted(ctx))
				return MLX_EINTR;
		}
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != a)
		memcpy(a, src, sizeof(uint64_t) * n);
	return MLX_OK;
}

static mlx_status
keys_of(const double *v, int64_t n, uint64_t *keys, uint64_t *tmp,
		const mlx_ctx *ctx)
{
	for (int64_t i = 0; i < n; i++)
		if (!double_key(v[i], &keys[i]))
			return MLX_ENONFINITE;
	return radix_sort(keys, tmp, (size_t) n, ctx);
}

mlx_status
mlx_auc_of(const double *pos, int64_t npos, const double *neg, int64_t nneg,
		   const mlx_ctx *ctx, double *out)
{
	uint64_t   *kp = NULL,
			   *kn = NULL,
			   *tmp = NULL;
	uint64_t	u2 = 0;			/* 2 * (pairs ordered right) + ties */
	int64_t		lt = 0,
				le = 0;
	uint64_t	iter = 0;
	mlx_status	st;

	if (npos <= 0 || nneg <= 0)
		return MLX_EINVAL;
	kp = mlx_alloc(ctx, sizeof(uint64_t) * (size_t) npos);
	kn = mlx_alloc(ctx, sizeof(uint64_t) * (size_t) nneg);
	tmp = mlx_alloc(ctx, sizeof(uint64_t) * (size_t) (npos > nneg ? npos : nneg));
	if (kp == NULL || kn == NULL || tmp == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}
	if ((st = keys_of(pos, npos, kp, tmp, ctx)) != MLX_OK ||
		(st = keys_of(neg, nneg, kn, tmp, ctx)) != MLX_OK)
		goto done;

	/*
	 * For each run of equal positive scores: lt negatives score lower, le -
	 * lt tie with it.  Mann-Whitney U with ties counted half, which is the
	 * trapezoidal area under the ROC curve.
	 */
	for (int64_t i = 0; i < npos;)
	{
		uint64_t	key = kp[i];
		int64_t		run = 0;

		while (i < npos && kp[i] == key)
		{
			i++;
			run++;
		}
		while (lt < nneg && kn[lt] < key)
			lt++;
		if (le < lt)
			le = lt;
		while (le < nneg && kn[le] == key)
			le++;
		u2 += (uint64_t) run * (2 * (uint64_t) lt + (uint64_t) (le - lt));
		if (++iter % POLL_EVERY == 0 && mlx_interrupted(ctx))
		{
			st = MLX_EINTR;
			goto done;
		}
	}
	*out = (double) ((long double) u2 /
					 (2.0L * (long double) npos * (long double) nneg));
	st = MLX_OK;
done:
	mlx_free(ctx, tmp);
	mlx_free(ctx, kn);
	mlx_free(ctx, kp);
	return st;
}

mlx_status
mlx_auc_result(const mlx_auc *s, const mlx_ctx *ctx, double *out)
{
	const double *v = AUC_V(s);

	return mlx_auc_of(v, s->npos, v + s->cap - s->nneg, s->nneg, ctx, out);
}
