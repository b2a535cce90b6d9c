/*
 * softmax.c
 *	  Multinomial (softmax) logistic regression: parameter counts, scoring,
 *	  the theta <-> coefficient-matrix mapping, the flat state of a training
 *	  pass (size, init, validation, adding a row, merging, finishing), the
 *	  penalized objective and the Newton step.
 *
 * See softmax.h for the model, its two parametrizations and the layout of
 * the state.  Everything a row contributes is computed and checked before
 * the state is written, so a rejected row leaves the state as it was.
 *
 * Overflow of the Hessian sums is bounded through their diagonal: every
 * row's Hessian is positive semidefinite, so an off-diagonal sum never
 * exceeds (in magnitude) the larger of the two diagonal sums it couples.
 * Keeping each diagonal entry below SOFTMAX_HESS_MAX (and each row's terms,
 * bounded by cw * max|xtilde|^2, below it too) therefore keeps every entry
 * finite without checking the O(nparams^2) entries of every row.
 */
#include "core/softmax.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lapacke.h>

/* the arrays follow the header directly, so it must keep them aligned */
_Static_assert(sizeof(mlx_softmax_state) == 56,
			   "mlx_softmax_state header must stay 56 bytes");

/* ceiling on Hessian diagonal sums and per-row terms (see above) */
#define SOFTMAX_HESS_MAX (DBL_MAX / 4)

/*
 * Relative threshold of the Newton step: Cholesky pivots below it (times
 * the largest diagonal entry) send the step to the eigen-decomposition,
 * whose eigenvalues below it (times the largest) are dropped.
 */
#define SOFTMAX_PINV_RTOL 1e-10

/* ---------------------------------------------------------------- helpers */

static bool
lambda_ok(double lambda)
{
	return isfinite(lambda) && lambda >= 0.0;
}

/* Free parameters for these dimensions and parametrization; 0 if invalid. */
static int64_t
nparams_of(int nclasses, int nfeat, bool intercept, bool symmetric)
{
	int64_t		n;

	if (nclasses < 2 || nclasses > MLX_SOFTMAX_MAX_CLASSES ||
		nfeat < 1 || nfeat > MLX_SOFTMAX_MAX_FEATURES ||
		(symmetric && nclasses <= 2))
		return 0;
	/* at most 1000 * 100001: no overflow */
	n = (int64_t) (nclasses - 1 + (symmetric ? 1 : 0)) *
		(int64_t) ((intercept ? 1 : 0) + nfeat);
	return n <= MLX_SOFTMAX_MAX_PARAMS ? n : 0;
}

/* Bytes of a state of nparams parameters (0 < nparams, checked limits). */
static size_t
size_of(bool hessian, int64_t nparams)
{
	size_t		n = (size_t) nparams;

	if (nparams <= 0 || nparams > MLX_SOFTMAX_MAX_PARAMS ||
		(hessian && nparams > MLX_SOFTMAX_MAX_NEWTON_PARAMS))
		return 0;
	return sizeof(mlx_softmax_state) + sizeof(double) * n +
		(hessian ? sizeof(double) * n * n : 0);
}

static mlx_status
corrupt(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
	return MLX_ECORRUPT;
}

/* The arrays of a state block (its header already trusted). */
static double *
state_grad(mlx_softmax_state *s)
{
	return (double *) ((char *) s + sizeof(mlx_softmax_state));
}

static const double *
state_grad_c(const mlx_softmax_state *s)
{
	return (const double *) ((const char *) s + sizeof(mlx_softmax_state));
}

static double *
state_hess(mlx_softmax_state *s)
{
	return state_grad(s) + s->nparams;
}

static const double *
state_hess_c(const mlx_softmax_state *s)
{
	return state_grad_c(s) + s->nparams;
}

/* Feature j of a row that may or may not be 8-byte aligned. */
static inline double
load_x(const void *x, int j, bool aligned)
{
	double		v;

	if (aligned)
		return ((const double *) x)[j];
	memcpy(&v, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
	return v;
}

/*
 * The weight of the intercept-sum term (eps / 2) (sum_c W[c][0])^2 of the
 * symmetric parametrization: max(1, total row weight) / K, the scale of
 * the loss Hessian, so the curvature it adds along the all-intercepts
 * direction (eps K) is on the scale of the rest and the Newton system
 * stays well conditioned.  Any eps > 0 gives the same optimum.
 */
static double
intercept_eps(const mlx_softmax_state *s)
{
	return fmax(1.0, s->weight) / (double) s->nclasses;
}

/* Whether model f and state s have the same dimensions and parametrization */
static bool
model_matches(const mlx_softmax_state *s, const mlx_softmax_fit *f)
{
	return f->nclasses == s->nclasses && f->nfeat == s->nfeat &&
		f->intercept == (s->intercept != 0) &&
		mlx_softmax_symmetric(f->nclasses, f->lambda) == (s->symmetric != 0);
}

/* ----------------------------------------------------------- the model */

int64_t
mlx_softmax_nparams(int nclasses, int nfeat, bool intercept, double lambda)
{
	if (!lambda_ok(lambda))
		return 0;
	return nparams_of(nclasses, nfeat, intercept,
					  mlx_softmax_symmetric(nclasses, lambda));
}

int
mlx_softmax_predict_proba(const mlx_softmax_fit *f, const void *x, double *out)
{
	int			nc = f->nclasses;
	int			nfeat = f->nfeat;
	bool		aligned = ((uintptr_t) x % sizeof(double)) == 0;
	int			best = 0;
	double		max;
	double		sum = 0.0;
	int			c,
				j;

	for (c = 0; c < nc; c++)
	{
		const double *w = f->coef + (size_t) c * (size_t) (nfeat + 1);
		double		eta = f->intercept ? w[0] : 0.0;

		for (j = 0; j < nfeat; j++)
			eta += w[j + 1] * load_x(x, j, aligned);
		out[c] = eta;
		if (eta > out[best])
			best = c;
	}
	max = out[best];
	for (c = 0; c < nc; c++)
	{
		out[c] = exp(out[c] - max);
		sum += out[c];
	}
	for (c = 0; c < nc; c++)
		out[c] /= sum;
	return best;
}

void
mlx_softmax_get_theta(const mlx_softmax_fit *f, double *theta)
{
	int			first = mlx_softmax_symmetric(f->nclasses, f->lambda) ? 0 : 1;
	int			skip = f->intercept ? 0 : 1;
	size_t		q = (size_t) (f->nfeat + 1 - skip);
	int			c;

	for (c = first; c < f->nclasses; c++)
		memcpy(theta + (size_t) (c - first) * q,
			   f->coef + (size_t) c * (size_t) (f->nfeat + 1) + skip,
			   q * sizeof(double));
}

/*
 * The reverse of mlx_softmax_get_theta.  The entries theta does not hold
 * are set to their fixed value 0: class 0's row in the reference
 * parametrization, the intercept column of a model without intercept.
 */
void
mlx_softmax_set_theta(mlx_softmax_fit *f, const double *theta)
{
	int			first = mlx_softmax_symmetric(f->nclasses, f->lambda) ? 0 : 1;
	int			skip = f->intercept ? 0 : 1;
	size_t		p = (size_t) (f->nfeat + 1);
	size_t		q = p - (size_t) skip;
	int			c;

	for (c = 0; c < f->nclasses; c++)
	{
		double	   *w = f->coef + (size_t) c * p;

		if (c < first)
			memset(w, 0, p * sizeof(double));
		else
		{
			if (skip)
				w[0] = 0.0;
			memcpy(w + skip, theta + (size_t) (c - first) * q,
				   q * sizeof(double));
		}
	}
}

/* ------------------------------------------------------------ pass state */

size_t
mlx_softmax_state_size(bool hessian, int nclasses, int nfeat, bool intercept,
					   double lambda)
{
	return size_of(hessian, mlx_softmax_nparams(nclasses, nfeat, intercept,
												lambda));
}

mlx_status
mlx_softmax_state_init(mlx_softmax_state *s, bool hessian, int nclasses,
					   int nfeat, bool intercept, double lambda)
{
	size_t		size = mlx_softmax_state_size(hessian, nclasses, nfeat,
											  intercept, lambda);

	if (s == NULL || size == 0)
		return MLX_EINVAL;
	memset(s, 0, size);
	s->version = MLX_SOFTMAX_STATE_VERSION;
	s->hessian = hessian ? 1 : 0;
	s->intercept = intercept ? 1 : 0;
	s->symmetric = mlx_softmax_symmetric(nclasses, lambda) ? 1 : 0;
	s->nclasses = nclasses;
	s->nfeat = nfeat;
	s->nparams = (int32_t) mlx_softmax_nparams(nclasses, nfeat, intercept,
											   lambda);
	return MLX_OK;
}

mlx_status
mlx_softmax_state_validate(const mlx_softmax_state *s, size_t size,
						   char *errbuf, size_t errlen)
{
	int64_t		expected;
	size_t		count;
	const double *v;
	size_t		i;

	if (s == NULL || size < sizeof(mlx_softmax_state))
		return corrupt(errbuf, errlen, "softmax state is truncated");
	if (s->version != MLX_SOFTMAX_STATE_VERSION)
		return corrupt(errbuf, errlen, "softmax state has an unknown version");
	if (s->hessian > 1 || s->intercept > 1 || s->symmetric > 1)
		return corrupt(errbuf, errlen, "softmax state has invalid flags");
	if (s->nclasses < 2 || s->nclasses > MLX_SOFTMAX_MAX_CLASSES)
		return corrupt(errbuf, errlen, "softmax state has an invalid class count");
	if (s->nfeat < 1 || s->nfeat > MLX_SOFTMAX_MAX_FEATURES)
		return corrupt(errbuf, errlen, "softmax state has an invalid feature count");
	if (s->symmetric && s->nclasses <= 2)
		return corrupt(errbuf, errlen, "softmax state has the symmetric parametrization with two classes");
	expected = nparams_of(s->nclasses, s->nfeat, s->intercept, s->symmetric);
	if (expected == 0)
		return corrupt(errbuf, errlen, "softmax state has too many parameters");
	if (s->nparams != expected)
		return corrupt(errbuf, errlen, "softmax state has a parameter count that does not match its dimensions");
	if (s->hessian && s->nparams > MLX_SOFTMAX_MAX_NEWTON_PARAMS)
		return corrupt(errbuf, errlen, "softmax state has too many parameters for a Hessian");
	/* only now is it safe to look past the header */
	if (size != size_of(s->hessian, s->nparams))
		return corrupt(errbuf, errlen, "softmax state has the wrong size");
	if (s->nrows < 0 || s->nskipped < 0 || s->nwrong < 0 ||
		s->nwrong > s->nrows)
		return corrupt(errbuf, errlen, "softmax state has invalid row counts");
	if (!isfinite(s->loss) || s->loss < 0.0 ||
		!isfinite(s->weight) || s->weight < 0.0)
		return corrupt(errbuf, errlen, "softmax state has an invalid loss or weight");
	v = state_grad_c(s);
	for (i = 0; i < (size_t) s->nparams; i++)
		if (!isfinite(v[i]))
			return corrupt(errbuf, errlen, "softmax state has a non-finite gradient entry");
	if (s->hessian)
	{
		v = state_hess_c(s);
		count = (size_t) s->nparams * (size_t) s->nparams;
		for (i = 0; i < count; i++)
			if (!isfinite(v[i]))
				return corrupt(errbuf, errlen, "softmax state has a non-finite Hessian entry");
	}
	return MLX_OK;
}

size_t
mlx_softmax_scratch_size(int nclasses, int nfeat)
{
	if (nclasses < 2 || nclasses > MLX_SOFTMAX_MAX_CLASSES ||
		nfeat < 1 || nfeat > MLX_SOFTMAX_MAX_FEATURES)
		return 0;
	/* p[K], r[K], h[K], xtilde[nfeat + 1] */
	return sizeof(double) * (3 * (size_t) nclasses + (size_t) nfeat + 1);
}

/*
 * Add the row's Hessian, cw * (diag(p) - p p') (x) xtilde xtilde' over the
 * free classes, to the upper triangle: for each pair of free classes a <=
 * b the scaled outer product h_ab xtilde xtilde' into block (a, b), only
 * its upper triangle when a = b.  om_best is 1 - p[best] computed without
 * cancellation; h is scratch of nclasses doubles.
 */
static void
hessian_add(mlx_softmax_state *s, const double *p, double om_best, int best,
			double cw, const double *xt, double *h)
{
	int			first = s->symmetric ? 0 : 1;
	int			nfree = s->nclasses - first;
	int			q = s->intercept + s->nfeat;
	size_t		n = (size_t) s->nparams;
	double	   *H = state_hess(s);
	int			ka,
				kb,
				i,
				j;

	for (ka = 0; ka < nfree; ka++)
	{
		int			a = ka + first;
		double		cpa = cw * p[a];

		/* the weights of class a against the free classes b >= a */
		h[ka] = cpa * (a == best ? om_best : 1.0 - p[a]);
		for (kb = ka + 1; kb < nfree; kb++)
			h[kb] = -cpa * p[kb + first];

		for (i = 0; i < q; i++)
		{
			double	   *row = H + ((size_t) ka * q + i) * n;
			double		xi = xt[i];
			double	   *blk;
			double		v;

			/* diagonal block: its upper triangle only */
			v = h[ka] * xi;
			blk = row + (size_t) ka * q;
			for (j = i; j < q; j++)
				blk[j] += v * xt[j];
			for (kb = ka + 1; kb < nfree; kb++)
			{
				v = h[kb] * xi;
				blk = row + (size_t) kb * q;
				for (j = 0; j < q; j++)
					blk[j] += v * xt[j];
			}
		}
	}
}

mlx_status
mlx_softmax_state_add(mlx_softmax_state *s, const mlx_softmax_fit *cur,
					  int cls, const void *x, void *scratch)
{
	int			nc = s->nclasses;
	int			nfeat = s->nfeat;
	int			q = s->intercept + nfeat;
	int			first = s->symmetric ? 0 : 1;
	int			nfree = nc - first;
	size_t		n = (size_t) s->nparams;
	double	   *p = scratch;	/* eta, then exp(eta - max), then p */
	double	   *r = p + nc;		/* cw (p_c - [c == y]) */
	double	   *h = r + nc;		/* Hessian weights (hessian_add) */
	double	   *xt = h + nc;	/* [1,] x */
	int			skip = s->intercept ? 0 : 1;	/* W's intercept column */
	double	   *grad;
	double		cw;
	double		other = 0.0;
	double		sum;
	double		om_best;
	double		eta_max;
	double		eta_y;
	double		term;
	int			best = 0;
	int			c,
				i,
				k;

	if (!model_matches(s, cur))
		return MLX_EMISMATCH;
	if (cls < 0 || cls >= nc)
		return MLX_EINVAL;
	cw = cur->class_weight[cls];
	if (!(isfinite(cw) && cw > 0.0))
		return MLX_EINVAL;
	if (s->nrows == INT64_MAX)
		return MLX_ENONFINITE;

	i = 0;
	if (s->intercept)
		xt[i++] = 1.0;
	memcpy(xt + i, x, (size_t) nfeat * sizeof(double));

	/* linear predictors, the most probable class (lowest index on ties) */
	for (c = 0; c < nc; c++)
	{
		const double *w = cur->coef + (size_t) c * (nfeat + 1) + skip;
		double		eta = 0.0;

		for (i = 0; i < q; i++)
			eta += w[i] * xt[i];
		if (!isfinite(eta))
			return MLX_ENONFINITE;
		p[c] = eta;
		if (eta > p[best])
			best = c;
	}
	eta_max = p[best];
	eta_y = p[cls];

	/*
	 * exp(eta - max) is 1 for the best class; the sum of the others gives
	 * both -log p_y = log1p(other) + (max - eta_y) and 1 - p_best = other /
	 * (1 + other) without cancellation.  Any other class has p <= 1/2, so
	 * 1 - p is accurate for it as it is.
	 */
	for (c = 0; c < nc; c++)
	{
		p[c] = (c == best) ? 1.0 : exp(p[c] - eta_max);
		if (c != best)
			other += p[c];
	}
	sum = 1.0 + other;
	om_best = other / sum;
	for (c = 0; c < nc; c++)
		p[c] /= sum;
	term = cw * (log1p(other) + (eta_max - eta_y));
	if (!isfinite(term) || !isfinite(s->loss + term) ||
		!isfinite(s->weight + cw))
		return MLX_ENONFINITE;

	/* gradient contributions, checked before anything is written */
	for (c = first; c < nc; c++)
	{
		if (c != cls)
			r[c] = cw * p[c];
		else
			r[c] = -(cw * (c == best ? om_best : 1.0 - p[c]));
	}
	grad = state_grad(s);
	for (k = 0; k < nfree; k++)
	{
		const double *g = grad + (size_t) k * q;
		double		rc = r[k + first];

		for (i = 0; i < q; i++)
			if (!isfinite(g[i] + rc * xt[i]))
				return MLX_ENONFINITE;
	}
	if (s->hessian)
	{
		const double *H = state_hess(s);
		double		mx = 0.0;

		for (i = 0; i < q; i++)
			mx = fmax(mx, fabs(xt[i]));
		if (!(cw * mx * mx <= SOFTMAX_HESS_MAX))
			return MLX_ENONFINITE;
		for (k = 0; k < nfree; k++)
		{
			int			a = k + first;
			double		d = cw * p[a] * (a == best ? om_best : 1.0 - p[a]);

			for (i = 0; i < q; i++)
			{
				size_t		ii = (size_t) k * q + i;

				if (!(H[ii * n + ii] + d * xt[i] * xt[i] <= SOFTMAX_HESS_MAX))
					return MLX_ENONFINITE;
			}
		}
	}

	/* commit */
	s->loss += term;
	s->weight += cw;
	s->nrows++;
	if (best != cls)
		s->nwrong++;
	for (k = 0; k < nfree; k++)
	{
		double	   *g = grad + (size_t) k * q;
		double		rc = r[k + first];

		for (i = 0; i < q; i++)
			g[i] += rc * xt[i];
	}
	if (s->hessian)
		hessian_add(s, p, om_best, best, cw, xt, h);
	return MLX_OK;
}

mlx_status
mlx_softmax_state_merge(mlx_softmax_state *a, const mlx_softmax_state *b)
{
	double	   *va;
	const double *vb;
	size_t		count;
	size_t		i;

	if (a->version != b->version || a->hessian != b->hessian ||
		a->intercept != b->intercept || a->symmetric != b->symmetric ||
		a->nclasses != b->nclasses || a->nfeat != b->nfeat ||
		a->nparams != b->nparams)
		return MLX_EMISMATCH;
	if (b->nrows > INT64_MAX - a->nrows ||
		b->nskipped > INT64_MAX - a->nskipped ||
		b->nwrong > INT64_MAX - a->nwrong ||
		!isfinite(a->loss + b->loss) || !isfinite(a->weight + b->weight))
		return MLX_ENONFINITE;
	/* the gradient and the Hessian are one array */
	count = (size_t) a->nparams;
	if (a->hessian)
		count += (size_t) a->nparams * (size_t) a->nparams;
	va = state_grad(a);
	vb = state_grad_c(b);
	for (i = 0; i < count; i++)
		if (!isfinite(va[i] + vb[i]))
			return MLX_ENONFINITE;
	for (i = 0; i < count; i++)
		va[i] += vb[i];
	a->nrows += b->nrows;
	a->nskipped += b->nskipped;
	a->nwrong += b->nwrong;
	a->loss += b->loss;
	a->weight += b->weight;
	return MLX_OK;
}

void
mlx_softmax_state_finish(mlx_softmax_state *s)
{
	size_t		n = (size_t) s->nparams;
	double	   *H;
	size_t		i,
				j;

	if (!s->hessian)
		return;
	H = state_hess(s);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			H[j * n + i] = H[i * n + j];
}

/* ------------------------------------------------------ objective, Newton */

void
mlx_softmax_objective(const mlx_softmax_state *s, const mlx_softmax_fit *cur,
					  double *f, double *g)
{
	int			nc = s->nclasses;
	int			nfeat = s->nfeat;
	int			icpt = s->intercept;
	int			q = icpt + nfeat;
	int			first = s->symmetric ? 0 : 1;
	size_t		p = (size_t) (nfeat + 1);
	double		lambda = cur->lambda;
	const double *grad = state_grad_c(s);
	double		pen = 0.0;
	double		obj;
	int			c,
				j;

	for (c = 0; c < nc; c++)
	{
		const double *w = cur->coef + (size_t) c * p + 1;

		for (j = 0; j < nfeat; j++)
			pen += w[j] * w[j];
	}
	obj = s->loss + (lambda > 0.0 ? 0.5 * lambda * pen : 0.0);
	for (c = first; c < nc; c++)
	{
		const double *w = cur->coef + (size_t) c * p + 1;
		const double *src = grad + (size_t) (c - first) * q;
		double	   *dst = g + (size_t) (c - first) * q;

		if (icpt)
			dst[0] = src[0];
		for (j = 0; j < nfeat; j++)
			dst[icpt + j] = src[icpt + j] + lambda * w[j];
	}
	if (s->symmetric && icpt)
	{
		double		eps = intercept_eps(s);
		double		sum = 0.0;

		for (c = 0; c < nc; c++)
			sum += cur->coef[(size_t) c * p];
		obj += 0.5 * eps * sum * sum;
		for (c = 0; c < nc; c++)
			g[(size_t) c * q] += eps * sum;
	}
	*f = obj;
}

/*
 * The Newton system's matrix into A (n x n, full): the state's Hessian plus
 * lambda on the slopes' diagonal plus, in the symmetric parametrization
 * with intercepts, eps on every pair of intercept entries.  Returns its
 * largest diagonal entry.
 */
static double
newton_matrix(const mlx_softmax_state *s, const mlx_softmax_fit *cur,
			  double *A)
{
	size_t		n = (size_t) s->nparams;
	int			icpt = s->intercept;
	size_t		q = (size_t) (icpt + s->nfeat);
	size_t		nfree = n / q;
	double		dmax = 0.0;
	size_t		i,
				a,
				b;

	memcpy(A, state_hess_c(s), n * n * sizeof(double));
	for (a = 0; a < nfree; a++)
		for (i = (size_t) icpt; i < q; i++)
			A[(a * q + i) * (n + 1)] += cur->lambda;
	if (s->symmetric && icpt)
	{
		double		eps = intercept_eps(s);

		for (a = 0; a < nfree; a++)
			for (b = 0; b < nfree; b++)
				A[a * q * n + b * q] += eps;
	}
	for (i = 0; i < n; i++)
		dmax = fmax(dmax, A[i * (n + 1)]);
	return dmax;
}

/*
 * Solve A delta = -g for a symmetric positive definite A by Cholesky
 * (A is overwritten).  Returns false, not an error, when A is not
 * (numerically) positive definite: the factorization fails, a pivot is
 * below SOFTMAX_PINV_RTOL * dmax, or the solution is not finite.
 */
static bool
solve_cholesky(double *A, const double *g, int n, double dmax, double *delta,
			   mlx_status *st)
{
	lapack_int	info;
	int			i;

	*st = MLX_OK;
	info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, A, n);
	if (info < 0)
		*st = MLX_ELAPACK;
	if (info != 0)
		return false;
	for (i = 0; i < n; i++)
	{
		double		piv = A[(size_t) i * (n + 1)];

		if (!(piv * piv > SOFTMAX_PINV_RTOL * dmax))
			return false;
	}
	for (i = 0; i < n; i++)
		delta[i] = -g[i];
	info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', n, 1, A, n, delta, n);
	if (info != 0)
	{
		*st = MLX_ELAPACK;
		return false;
	}
	for (i = 0; i < n; i++)
		if (!isfinite(delta[i]))
			return false;
	return true;
}

/*
 * The minimum-norm solution of A delta = -g through the eigen-decomposition
 * A = V diag(w) V' (A is overwritten by V), eigenvalues below
 * SOFTMAX_PINV_RTOL times the largest dropped.
 */
static mlx_status
solve_pinv(double *A, const double *g, int n, const mlx_ctx *ctx,
		   double *delta)
{
	double	   *w = NULL;
	double	   *coef = NULL;
	double	   *work = NULL;
	lapack_int *iwork = NULL;
	double		wq = 0.0;
	lapack_int	iwq = 0;
	lapack_int	info;
	mlx_status	st = MLX_OK;
	double		tol;
	int			i,
				k;

	w = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	coef = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	if (w == NULL || coef == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}
	info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, A, n, w, &wq, -1,
							   &iwq, -1);
	if (info != 0)
	{
		st = MLX_ELAPACK;
		goto done;
	}
	work = mlx_alloc(ctx, sizeof(double) * ((size_t) wq + 1));
	iwork = mlx_alloc(ctx, sizeof(lapack_int) * ((size_t) iwq + 1));
	if (work == NULL || iwork == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}
	info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, A, n, w, work,
							   (lapack_int) wq, iwork, iwq);
	if (info != 0)
	{
		st = MLX_ELAPACK;
		goto done;
	}
	/* ascending eigenvalues: w[n - 1] is the largest */
	tol = SOFTMAX_PINV_RTOL * w[n - 1];
	for (k = 0; k < n; k++)
	{
		const double *v = A + (size_t) k * n;
		double		dot = 0.0;

		coef[k] = 0.0;
		if (!(w[n - 1] > 0.0 && w[k] > tol))
			continue;
		for (i = 0; i < n; i++)
			dot += v[i] * g[i];
		coef[k] = -dot / w[k];
	}
	for (i = 0; i < n; i++)
		delta[i] = 0.0;
	for (k = 0; k < n; k++)
	{
		const double *v = A + (size_t) k * n;

		if (coef[k] == 0.0)
			continue;
		for (i = 0; i < n; i++)
			delta[i] += coef[k] * v[i];
	}
	for (i = 0; i < n; i++)
		if (!isfinite(delta[i]))
			st = MLX_ELAPACK;

done:
	mlx_free(ctx, w);
	mlx_free(ctx, coef);
	mlx_free(ctx, work);
	mlx_free(ctx, iwork);
	return st;
}

mlx_status
mlx_softmax_newton_step(const mlx_softmax_state *s, const mlx_softmax_fit *cur,
						const mlx_ctx *ctx, double *delta, double *decrement)
{
	int			n;
	double	   *A;
	double	   *g;
	double		fval;
	double		dmax;
	double		dec = 0.0;
	mlx_status	st;
	int			i;

	if (s == NULL || cur == NULL || delta == NULL || !s->hessian ||
		!model_matches(s, cur))
		return MLX_EINVAL;
	n = s->nparams;
	A = mlx_alloc(ctx, sizeof(double) * (size_t) n * (size_t) n);
	g = mlx_alloc(ctx, sizeof(double) * (size_t) n);
	if (A == NULL || g == NULL)
	{
		mlx_free(ctx, A);
		mlx_free(ctx, g);
		return MLX_ENOMEM;
	}
	mlx_softmax_objective(s, cur, &fval, g);
	dmax = newton_matrix(s, cur, A);
	if (!solve_cholesky(A, g, n, dmax, delta, &st) && st == MLX_OK)
	{
		/* not positive definite: the pseudo-inverse on a fresh copy */
		newton_matrix(s, cur, A);
		st = solve_pinv(A, g, n, ctx, delta);
	}
	if (st == MLX_OK)
	{
		for (i = 0; i < n; i++)
			dec -= g[i] * delta[i];
		dec *= 0.5;
		if (decrement != NULL)
			*decrement = (dec > 0.0) ? dec : 0.0;
	}
	mlx_free(ctx, A);
	mlx_free(ctx, g);
	return st;
}
