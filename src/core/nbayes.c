/*
 * nbayes.c
 *	  Naive Bayes, Gaussian and multinomial: the flat state of the training
 *	  pass (size, init, validation, adding a row, merging), the fit that
 *	  follows scikit-learn 1.2's GaussianNB and MultinomialNB, and scoring
 *	  (predict_proba with a stable log-sum-exp).
 *
 * See nbayes.h for the layout of the state.  Gaussian classes keep running
 * means and sums of squared deviations (Welford), merged with Chan et al.'s
 * pairwise formulas, so no sum of squares is ever formed and subtracted.
 */
#include "core/nbayes.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* the counts follow the header directly, so the header must keep them aligned */
_Static_assert(sizeof(mlx_nb_state) % sizeof(double) == 0,
			   "mlx_nb_state header breaks the alignment of the arrays");

/* ---------------------------------------------------------------- helpers */

static bool
dist_ok(int distribution)
{
	return distribution == MLX_NB_GAUSSIAN ||
		distribution == MLX_NB_MULTINOMIAL;
}

static bool
dims_ok(int nclasses, int nfeat)
{
	return nclasses >= 2 && nclasses <= MLX_NB_MAX_CLASSES &&
		nfeat >= 1 && nfeat <= MLX_NB_MAX_FEATURES;
}

/* Feature j of a row that may or may not be 8-byte aligned (see kmeans.c). */
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

static mlx_status
corrupt(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
	return MLX_ECORRUPT;
}

/* Pointers into a state block (its header already trusted). */
static int64_t *
state_counts(mlx_nb_state *s)
{
	return (int64_t *) ((char *) s + sizeof(mlx_nb_state));
}

static double *
state_a(mlx_nb_state *s)
{
	return (double *) (state_counts(s) + s->nclasses);
}

static double *
state_m2(mlx_nb_state *s)
{
	return state_a(s) + (size_t) s->nclasses * (size_t) s->nfeat;
}

static const int64_t *
state_counts_c(const mlx_nb_state *s)
{
	return (const int64_t *) ((const char *) s + sizeof(mlx_nb_state));
}

static const double *
state_a_c(const mlx_nb_state *s)
{
	return (const double *) (state_counts_c(s) + s->nclasses);
}

static const double *
state_m2_c(const mlx_nb_state *s)
{
	return state_a_c(s) + (size_t) s->nclasses * (size_t) s->nfeat;
}

/* ------------------------------------------------------------ pass state */

size_t
mlx_nb_state_size(int distribution, int nclasses, int nfeat)
{
	size_t		cells;

	if (!dist_ok(distribution) || !dims_ok(nclasses, nfeat))
		return 0;
	/* at most 32 + 8 * (1000 + 2 * 2 * 10^6) bytes: no overflow in 32 bits */
	cells = (size_t) nclasses * (size_t) nfeat;
	return sizeof(mlx_nb_state) + sizeof(int64_t) * (size_t) nclasses +
		sizeof(double) * cells * (distribution == MLX_NB_GAUSSIAN ? 2 : 1);
}

mlx_status
mlx_nb_state_init(mlx_nb_state *s, int distribution, int nclasses, int nfeat)
{
	size_t		size = mlx_nb_state_size(distribution, nclasses, nfeat);

	if (s == NULL || size == 0)
		return MLX_EINVAL;
	memset(s, 0, size);
	s->version = MLX_NB_STATE_VERSION;
	s->distribution = (uint8_t) distribution;
	s->nclasses = nclasses;
	s->nfeat = nfeat;
	return MLX_OK;
}

mlx_status
mlx_nb_state_validate(const mlx_nb_state *s, size_t size, char *errbuf,
					  size_t errlen)
{
	const int64_t *counts;
	const double *a;
	const double *m2;
	bool		gaussian;
	int64_t		total = 0;
	int			c,
				j;

	if (s == NULL || size < sizeof(mlx_nb_state))
		return corrupt(errbuf, errlen, "naive Bayes state is truncated");
	if (s->version != MLX_NB_STATE_VERSION)
		return corrupt(errbuf, errlen, "naive Bayes state has an unknown version");
	if (!dist_ok(s->distribution))
		return corrupt(errbuf, errlen, "naive Bayes state has an unknown distribution");
	if (s->reserved1[0] != 0 || s->reserved1[1] != 0 || s->reserved2 != 0)
		return corrupt(errbuf, errlen, "naive Bayes state has nonzero reserved bytes");
	if (s->nclasses < 2 || s->nclasses > MLX_NB_MAX_CLASSES)
		return corrupt(errbuf, errlen, "naive Bayes state has an invalid class count");
	if (s->nfeat < 1 || s->nfeat > MLX_NB_MAX_FEATURES)
		return corrupt(errbuf, errlen, "naive Bayes state has an invalid feature count");
	/* only now is it safe to look past the header */
	if (size != mlx_nb_state_size(s->distribution, s->nclasses, s->nfeat))
		return corrupt(errbuf, errlen, "naive Bayes state has the wrong size");
	if (s->nrows < 0 || s->nskipped < 0)
		return corrupt(errbuf, errlen, "naive Bayes state has invalid row counts");
	gaussian = s->distribution == MLX_NB_GAUSSIAN;
	counts = state_counts_c(s);
	a = state_a_c(s);
	m2 = gaussian ? state_m2_c(s) : NULL;
	for (c = 0; c < s->nclasses; c++)
	{
		size_t		off = (size_t) c * (size_t) s->nfeat;

		/* written so that the running total cannot overflow */
		if (counts[c] < 0 || counts[c] > s->nrows - total)
			return corrupt(errbuf, errlen, "naive Bayes state has invalid class counts");
		total += counts[c];
		for (j = 0; j < s->nfeat; j++)
		{
			if (!isfinite(a[off + j]) || (gaussian && !isfinite(m2[off + j])))
				return corrupt(errbuf, errlen, "naive Bayes state has a non-finite statistic");
			if (gaussian && m2[off + j] < 0.0)
				return corrupt(errbuf, errlen, "naive Bayes state has a negative sum of squared deviations");
			if (!gaussian && a[off + j] < 0.0)
				return corrupt(errbuf, errlen, "naive Bayes state has a negative feature sum");
			if (counts[c] == 0 &&
				(a[off + j] != 0.0 || (gaussian && m2[off + j] != 0.0)))
				return corrupt(errbuf, errlen, "naive Bayes state has nonzero statistics for a class without rows");
		}
	}
	if (total != s->nrows)
		return corrupt(errbuf, errlen, "naive Bayes state class counts do not add up to its row count");
	return MLX_OK;
}

/*
 * The body of mlx_nb_state_add for one alignment of x.  Every new value is
 * computed and checked before anything is written, so a rejected row
 * leaves the state as it was.
 */
static inline mlx_status
state_add_impl(mlx_nb_state *s, int cls, const void *x, bool aligned,
			   int *bad_index)
{
	int			nfeat = s->nfeat;
	bool		gaussian = s->distribution == MLX_NB_GAUSSIAN;
	int64_t    *count;
	double	   *a;
	double	   *m2 = NULL;
	double		n1;
	int			j;

	if (bad_index != NULL)
		*bad_index = -1;
	if (cls < 0 || cls >= s->nclasses)
		return MLX_EINVAL;
	for (j = 0; j < nfeat; j++)
	{
		double		v = load_x(x, j, aligned);

		if (!isfinite(v))
		{
			if (bad_index != NULL)
				*bad_index = j;
			return MLX_ENONFINITE;
		}
		if (!gaussian && v < 0.0)
		{
			if (bad_index != NULL)
				*bad_index = j;
			return MLX_EINVAL;
		}
	}
	count = state_counts(s) + cls;
	if (s->nrows == INT64_MAX)
		return MLX_ENONFINITE;
	a = state_a(s) + (size_t) cls * (size_t) nfeat;
	if (!gaussian)
	{
		for (j = 0; j < nfeat; j++)
			if (!isfinite(a[j] + load_x(x, j, aligned)))
				return MLX_ENONFINITE;
		for (j = 0; j < nfeat; j++)
			a[j] += load_x(x, j, aligned);
	}
	else
	{
		/* Welford: mean += d / n; m2 += d * (x - new mean) */
		m2 = state_m2(s) + (size_t) cls * (size_t) nfeat;
		n1 = (double) (*count + 1);
		for (j = 0; j < nfeat; j++)
		{
			double		v = load_x(x, j, aligned);
			double		d = v - a[j];
			double		mean = a[j] + d / n1;

			if (!isfinite(d) || !isfinite(mean) ||
				!isfinite(m2[j] + d * (v - mean)))
				return MLX_ENONFINITE;
		}
		for (j = 0; j < nfeat; j++)
		{
			double		v = load_x(x, j, aligned);
			double		d = v - a[j];

			a[j] += d / n1;
			m2[j] += d * (v - a[j]);
		}
	}
	(*count)++;
	s->nrows++;
	return MLX_OK;
}

mlx_status
mlx_nb_state_add(mlx_nb_state *s, int cls, const void *x, int *bad_index)
{
	if (is_aligned(x))
		return state_add_impl(s, cls, x, true, bad_index);
	return state_add_impl(s, cls, x, false, bad_index);
}

/*
 * Chan et al.: the class of na rows (mean ma, m2a) and that of nb rows (mb,
 * m2b) make n = na + nb rows with mean ma + d nb / n and m2 = m2a + m2b +
 * d^2 na nb / n, d = mb - ma.  Either side may be empty.
 */
static inline void
chan_merge(double na, double ma, double m2a, double nb, double mb, double m2b,
		   double *mean, double *m2)
{
	double		n = na + nb;
	double		d = mb - ma;

	if (nb == 0)
	{
		*mean = ma;
		*m2 = m2a;
	}
	else if (na == 0)
	{
		*mean = mb;
		*m2 = m2b;
	}
	else
	{
		*mean = ma + d * (nb / n);
		*m2 = m2a + m2b + d * d * (na * nb / n);
	}
}

mlx_status
mlx_nb_state_merge(mlx_nb_state *s, const mlx_nb_state *other)
{
	int64_t    *counts;
	const int64_t *ocounts;
	double	   *a;
	const double *oa;
	double	   *m2 = NULL;
	const double *om2 = NULL;
	bool		gaussian;
	int			nfeat;
	int			c,
				j;
	int			pass;

	if (s->distribution != other->distribution ||
		s->nclasses != other->nclasses || s->nfeat != other->nfeat)
		return MLX_EMISMATCH;
	if (other->nrows > INT64_MAX - s->nrows ||
		other->nskipped > INT64_MAX - s->nskipped)
		return MLX_ENONFINITE;
	gaussian = s->distribution == MLX_NB_GAUSSIAN;
	nfeat = s->nfeat;
	counts = state_counts(s);
	ocounts = state_counts_c(other);
	a = state_a(s);
	oa = state_a_c(other);
	if (gaussian)
	{
		m2 = state_m2(s);
		om2 = state_m2_c(other);
	}

	/* pass 0 checks every new value, pass 1 writes them: s unchanged on error */
	for (pass = 0; pass < 2; pass++)
	{
		for (c = 0; c < s->nclasses; c++)
		{
			size_t		off = (size_t) c * (size_t) nfeat;
			double		na = (double) counts[c];
			double		nb = (double) ocounts[c];

			for (j = 0; j < nfeat; j++)
			{
				double		mean;
				double		ss;

				if (!gaussian)
				{
					mean = a[off + j] + oa[off + j];
					ss = 0.0;
				}
				else
					chan_merge(na, a[off + j], m2[off + j],
							   nb, oa[off + j], om2[off + j], &mean, &ss);
				if (pass == 0)
				{
					if (!isfinite(mean) || !isfinite(ss))
						return MLX_ENONFINITE;
				}
				else
				{
					a[off + j] = mean;
					if (gaussian)
						m2[off + j] = ss;
				}
			}
		}
	}
	/* per-class counts are bounded by nrows, whose sum fits */
	for (c = 0; c < s->nclasses; c++)
		counts[c] += ocounts[c];
	s->nrows += other->nrows;
	s->nskipped += other->nskipped;
	return MLX_OK;
}

/* ------------------------------------------------------------------ fit */

/* Release the arrays of a fit under construction (NULL pointers allowed). */
static void
fit_free(mlx_nb_fit *f, const mlx_ctx *ctx)
{
	if (f->class_count != NULL)
		mlx_free(ctx, f->class_count);
	if (f->class_log_prior != NULL)
		mlx_free(ctx, f->class_log_prior);
	if (f->theta != NULL)
		mlx_free(ctx, f->theta);
	if (f->var != NULL)
		mlx_free(ctx, f->var);
	if (f->feature_log_prob != NULL)
		mlx_free(ctx, f->feature_log_prob);
	memset(f, 0, sizeof(*f));
}

/*
 * GaussianNB: theta = the class means, var = M2 / n_c + epsilon, epsilon =
 * var_smoothing * max_j var_j where var_j is the population variance of
 * feature j over all rows (pooled from the classes by Chan's formulas),
 * class_log_prior = log(n_c / n) (sklearn's log(class_prior_)).
 */
static mlx_status
fit_gaussian(const mlx_nb_state *s, double var_smoothing, mlx_nb_fit *f)
{
	const int64_t *counts = state_counts_c(s);
	const double *mean = state_a_c(s);
	const double *m2 = state_m2_c(s);
	int			nc = s->nclasses;
	int			nfeat = s->nfeat;
	double		n = (double) s->nrows;
	double		maxvar = 0.0;
	double		eps;
	int			c,
				j;

	for (j = 0; j < nfeat; j++)
	{
		double		nacc = 0.0;
		double		macc = 0.0;
		double		sacc = 0.0;
		double		v;

		for (c = 0; c < nc; c++)
		{
			size_t		off = (size_t) c * (size_t) nfeat + (size_t) j;
			double		nm;
			double		ns;

			chan_merge(nacc, macc, sacc, (double) counts[c], mean[off], m2[off],
					   &nm, &ns);
			nacc += (double) counts[c];
			macc = nm;
			sacc = ns;
		}
		v = sacc / n;
		if (!isfinite(v))
			return MLX_ENONFINITE;
		if (v > maxvar)
			maxvar = v;
	}
	eps = (maxvar == 0.0) ? var_smoothing : var_smoothing * maxvar;
	if (!isfinite(eps))
		return MLX_ENONFINITE;
	f->epsilon = eps;
	for (c = 0; c < nc; c++)
	{
		double		nc_rows = (double) counts[c];

		f->class_log_prior[c] = log(nc_rows / n);
		for (j = 0; j < nfeat; j++)
		{
			size_t		off = (size_t) c * (size_t) nfeat + (size_t) j;
			double		v = m2[off] / nc_rows + eps;

			if (!isfinite(v))
				return MLX_ENONFINITE;
			if (!(v > 0.0))
				return MLX_EINVAL;
			f->theta[off] = mean[off];
			f->var[off] = v;
		}
	}
	return MLX_OK;
}

/*
 * MultinomialNB: feature_log_prob = log(sum_cj + alpha) - log(sum_j (sum_cj
 * + alpha)), class_log_prior = log(n_c) - log(n), both in sklearn's order of
 * operations.
 */
static mlx_status
fit_multinomial(const mlx_nb_state *s, double alpha, mlx_nb_fit *f)
{
	const int64_t *counts = state_counts_c(s);
	const double *sums = state_a_c(s);
	int			nc = s->nclasses;
	int			nfeat = s->nfeat;
	double		logn = log((double) s->nrows);
	int			c,
				j;

	for (c = 0; c < nc; c++)
	{
		const double *row = sums + (size_t) c * (size_t) nfeat;
		double	   *out = f->feature_log_prob + (size_t) c * (size_t) nfeat;
		double		total = 0.0;
		double		logtotal;

		for (j = 0; j < nfeat; j++)
			total += row[j] + alpha;
		if (!isfinite(total))
			return MLX_ENONFINITE;
		logtotal = log(total);
		for (j = 0; j < nfeat; j++)
		{
			double		v = log(row[j] + alpha) - logtotal;

			/* mathematically <= 0; never let rounding say otherwise */
			out[j] = v > 0.0 ? 0.0 : v;
		}
		f->class_log_prior[c] = log((double) counts[c]) - logn;
		if (f->class_log_prior[c] > 0.0)
			f->class_log_prior[c] = 0.0;
	}
	return MLX_OK;
}

mlx_status
mlx_nb_from_state(const mlx_nb_state *s, double var_smoothing, double alpha,
				  char **classes, const mlx_ctx *ctx, mlx_nb_fit *out)
{
	const int64_t *counts;
	size_t		nc;
	size_t		cells;
	mlx_status	st;
	int			c;

	memset(out, 0, sizeof(*out));
	if (s == NULL || classes == NULL || !dist_ok(s->distribution) ||
		!dims_ok(s->nclasses, s->nfeat))
		return MLX_EINVAL;
	if (s->distribution == MLX_NB_GAUSSIAN ?
		!(isfinite(var_smoothing) && var_smoothing >= 0.0) :
		!(isfinite(alpha) && alpha > 0.0))
		return MLX_EINVAL;
	counts = state_counts_c(s);
	for (c = 0; c < s->nclasses; c++)
		if (counts[c] < 1)
			return MLX_EINVAL;

	nc = (size_t) s->nclasses;
	cells = nc * (size_t) s->nfeat;
	out->distribution = s->distribution;
	out->nclasses = s->nclasses;
	out->nfeat = s->nfeat;
	out->nrows = s->nrows;
	out->nskipped = s->nskipped;
	out->classes = classes;
	if ((out->class_count = mlx_alloc(ctx, nc * sizeof(int64_t))) == NULL ||
		(out->class_log_prior = mlx_alloc(ctx, nc * sizeof(double))) == NULL)
	{
		fit_free(out, ctx);
		return MLX_ENOMEM;
	}
	memcpy(out->class_count, counts, nc * sizeof(int64_t));
	if (s->distribution == MLX_NB_GAUSSIAN)
	{
		out->var_smoothing = var_smoothing;
		if ((out->theta = mlx_alloc(ctx, cells * sizeof(double))) == NULL ||
			(out->var = mlx_alloc(ctx, cells * sizeof(double))) == NULL)
		{
			fit_free(out, ctx);
			return MLX_ENOMEM;
		}
		st = fit_gaussian(s, var_smoothing, out);
	}
	else
	{
		out->alpha = alpha;
		if ((out->feature_log_prob = mlx_alloc(ctx, cells * sizeof(double))) == NULL)
		{
			fit_free(out, ctx);
			return MLX_ENOMEM;
		}
		st = fit_multinomial(s, alpha, out);
	}
	if (st != MLX_OK)
		fit_free(out, ctx);
	return st;
}

/* -------------------------------------------------------------- scoring */

/* The joint log-likelihoods of x, one per class, into jll. */
static inline void
joint_log_likelihood(const mlx_nb_fit *f, const void *x, bool aligned,
					 double *jll)
{
	int			nfeat = f->nfeat;
	int			c,
				j;

	for (c = 0; c < f->nclasses; c++)
	{
		size_t		off = (size_t) c * (size_t) nfeat;

		if (f->distribution == MLX_NB_GAUSSIAN)
		{
			const double *theta = f->theta + off;
			const double *var = f->var + off;
			double		logdet = 0.0;
			double		quad = 0.0;

			for (j = 0; j < nfeat; j++)
			{
				double		d = load_x(x, j, aligned) - theta[j];

				logdet += log(2.0 * M_PI * var[j]);
				quad += d * d / var[j];
			}
			jll[c] = f->class_log_prior[c] + (-0.5 * logdet - 0.5 * quad);
		}
		else
		{
			const double *flp = f->feature_log_prob + off;
			double		dot = 0.0;

			for (j = 0; j < nfeat; j++)
				dot += load_x(x, j, aligned) * flp[j];
			jll[c] = dot + f->class_log_prior[c];
		}
	}
}

int
mlx_nb_predict_proba(const mlx_nb_fit *f, const void *x, double *out)
{
	int			nc = f->nclasses;
	int			best = 0;
	double		sum = 0.0;
	double		lse;
	int			c;

	joint_log_likelihood(f, x, is_aligned(x), out);
	for (c = 1; c < nc; c++)
		if (out[c] > out[best])
			best = c;
	/* scipy's logsumexp: max + log(sum(exp(jll - max))) */
	for (c = 0; c < nc; c++)
		sum += exp(out[c] - out[best]);
	lse = out[best] + log(sum);
	for (c = 0; c < nc; c++)
		out[c] = exp(out[c] - lse);
	return best;
}
