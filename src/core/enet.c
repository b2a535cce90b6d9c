/*
 * enet.c
 *	  Elastic net and lasso: the centred Gram matrix and right-hand side
 *	  formed once from the streaming QR state, then cyclic coordinate
 *	  descent on them with scikit-learn's duality-gap stopping rule, and the
 *	  intercept and training R^2 of the result.
 *
 * Everything inside the descent is in the units of scikit-learn's
 * enet_coordinate_descent_gram, the objective multiplied by n:
 *
 *	  1/2 |yc - Xc w|^2 + l1 |w|_1 + l2 / 2 |w|^2,
 *	  l1 = n alpha l1_ratio,  l2 = n alpha (1 - l1_ratio),
 *
 * so its tolerances and gap carry over unchanged; the gap is divided by n
 * only when it is reported.
 */
#include "core/enet.h"

#include <lapacke.h>

#include <float.h>
#include <math.h>
#include <string.h>

/* dot product of two contiguous vectors of length n */
static double
dot(const double *a, const double *b, int n)
{
	double		v = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		v += a[i] * b[i];
	return v;
}

/*
 * G = R_xx' R_xx (k x k, both triangles, column-major), q = R_xx' r_xy and
 * yy = |r_xy|^2 + r_yy^2 from R (p x p, p = k + 2).  Rows and columns
 * 1..k+1 of R are the R factor of the centred [Xc | yc], whose Q is
 * orthogonal, so these are Xc'Xc, Xc'yc and |yc|^2.  R's columns are
 * contiguous and its triangle is zero below the diagonal, so each entry is
 * one short dot product.  Polls the interrupt hook once per column: with
 * thousands of features this is the O(k^3) part of the fit.
 */
static mlx_status
enet_gram(const double *R, int k, double *G, double *q, double *yy,
		  const mlx_ctx *ctx)
{
	int			p = k + 2;
	const double *ycol = R + (size_t) (k + 1) * p + 1;
	int			j,
				l;

	for (j = 0; j < k; j++)
	{
		const double *xj = R + (size_t) (1 + j) * p + 1;

		if (mlx_interrupted(ctx))
			return MLX_EINTR;
		for (l = j; l < k; l++)
		{
			const double *xl = R + (size_t) (1 + l) * p + 1;
			double		v = dot(xj, xl, j + 1);

			G[j + (size_t) l * k] = v;
			G[l + (size_t) j * k] = v;
		}
		q[j] = dot(xj, ycol, j + 1);
	}
	*yy = dot(ycol, ycol, k + 1);
	return MLX_OK;
}

/*
 * Duality gap of w, in scikit-learn's (n times scaled) units, computed as
 * enet_coordinate_descent_gram does: the dual point is the residual scaled
 * into the dual feasible set |Xc'theta - l2 w|_inf <= l1.  H = G w.  Uses
 * |yc - Xc w|^2 = yy + w'Gw - 2 q'w, which costs O(k) given H.
 */
static double
enet_gap(int k, const double *q, const double *H, const double *w,
		 double l1, double l2, double yy)
{
	double		dual_norm = 0.0,
				q_dot_w = 0.0,
				w_dot_h = 0.0,
				w_norm2 = 0.0,
				w_norm1 = 0.0,
				r_norm2,
				cst,
				gap;
	int			j;

	for (j = 0; j < k; j++)
	{
		double		xta = q[j] - H[j] - l2 * w[j];

		dual_norm = fmax(dual_norm, fabs(xta));
		q_dot_w += q[j] * w[j];
		w_dot_h += w[j] * H[j];
		w_norm2 += w[j] * w[j];
		w_norm1 += fabs(w[j]);
	}
	r_norm2 = yy + w_dot_h - 2.0 * q_dot_w;
	if (dual_norm > l1)
	{
		cst = l1 / dual_norm;
		gap = 0.5 * (r_norm2 + r_norm2 * cst * cst);
	}
	else
	{
		cst = 1.0;
		gap = r_norm2;
	}
	return gap + l1 * w_norm1 - cst * yy + cst * q_dot_w +
		0.5 * l2 * (1.0 + cst * cst) * w_norm2;
}

mlx_status
mlx_enet_from_state(const mlx_linreg_state *s, double alpha, double l1_ratio,
					int max_iter, double tol, const mlx_ctx *ctx,
					mlx_enet_fit *out)
{
	int			k = s->nfeat;
	int			p;
	double	   *R = NULL,
			   *scratch = NULL;
	double	   *G,
			   *q,
			   *H,
			   *w;
	double		n,
				l1,
				l2,
				yy,
				gap_tol,
				gap = 0.0,
				rss,
				ymean;
	int			sweeps = 0;
	int			i,
				j;
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	out->nfeat = k;
	out->intercept = true;
	out->alpha = alpha;
	out->l1_ratio = l1_ratio;
	out->nrows = s->nrows;
	out->nskipped = s->nskipped;
	if (!(s->flags & MLX_LINREG_F_INTERCEPT) || s->lambda != 0.0 || k < 1 ||
		s->nrows < 1 || !isfinite(alpha) || alpha < 0.0 ||
		!(l1_ratio >= 0.0 && l1_ratio <= 1.0) || max_iter < 1 ||
		!isfinite(tol) || !(tol > 0.0))
		return MLX_EINVAL;
	p = mlx_linreg_ncols(k, true);

	st = mlx_linreg_copy_r(s, ctx, &R);
	if (st != MLX_OK)
		return st;
	out->coef = mlx_alloc0(ctx, sizeof(double) * ((size_t) k + 1));
	scratch = mlx_alloc0(ctx, sizeof(double) * ((size_t) k * k + 2 * (size_t) k));
	if (out->coef == NULL || scratch == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}
	G = scratch;
	q = G + (size_t) k * k;
	H = q + k;					/* G w, kept current as w changes */
	w = out->coef + 1;			/* slopes, from 0 (sklearn's start) */

	st = enet_gram(R, k, G, q, &yy, ctx);
	if (st != MLX_OK)
		goto done;
	/* data near DBL_MAX: the Gram matrix overflows; no fit is meaningful */
	if (!isfinite(yy))
	{
		st = MLX_ENONFINITE;
		goto done;
	}
	for (i = 0; i < k; i++)
		for (j = 0; j < k; j++)
			if (!isfinite(G[i + (size_t) j * k]) || !isfinite(q[i]))
			{
				st = MLX_ENONFINITE;
				goto done;
			}

	/*
	 * n alpha overflows for an alpha near DBL_MAX; clamped, the penalties
	 * stay finite so that l1 |w|_1 with w = 0 is 0 and not inf * 0.
	 */
	n = (double) s->nrows;
	l1 = fmin(n * alpha * l1_ratio, DBL_MAX);
	l2 = fmin(n * alpha * (1.0 - l1_ratio), DBL_MAX);
	gap_tol = tol * yy;

	/*
	 * Without an L1 part (ridge, or alpha = 0) the problem is the linear
	 * system (G + l2 I) w = q, solved exactly by Cholesky.  Coordinate
	 * descent would get there too, but its "duality gap" is no gap then
	 * (the dual point is not rescaled and the formula gives about the
	 * objective), so it would never report convergence; scikit-learn warns
	 * in that case whatever the accuracy.  A system that is not positive
	 * definite (alpha = 0 with collinear or constant features) falls back
	 * to coordinate descent, which handles it.
	 */
	if (l1 == 0.0)
	{
		double	   *A = mlx_alloc(ctx, sizeof(double) * ((size_t) k * k + k));
		lapack_int	info;

		if (A == NULL)
		{
			st = MLX_ENOMEM;
			goto done;
		}
		memcpy(A, G, sizeof(double) * (size_t) k * k);
		memcpy(A + (size_t) k * k, q, sizeof(double) * k);
		for (j = 0; j < k; j++)
			A[j + (size_t) j * k] += l2;
		info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', k, 1, A, k, A + (size_t) k * k, k);
		if (info == 0)
		{
			memcpy(w, A + (size_t) k * k, sizeof(double) * k);
			for (i = 0; i < k; i++)
			{
				H[i] = 0.0;
				for (j = 0; j < k; j++)
					H[i] += G[i + (size_t) j * k] * w[j];
			}
			sweeps = 1;
			gap = enet_gap(k, q, H, w, l1, l2, yy);
			out->converged = true;
		}
		mlx_free(ctx, A);
	}

	while (!out->converged && sweeps < max_iter)
	{
		double		w_max = 0.0,
					dw_max = 0.0;

		if (mlx_interrupted(ctx))
		{
			st = MLX_EINTR;
			goto done;
		}
		for (j = 0; j < k; j++)
		{
			const double *gj = G + (size_t) j * k;
			double		w_old = w[j],
						w_new = 0.0,
						rho;

			/* a constant feature (centred to exactly 0) keeps w_j = 0 */
			if (gj[j] == 0.0)
				continue;
			/* Xc_j' (yc - Xc w) with w_j's own term taken out of H */
			rho = q[j] - H[j] + gj[j] * w_old;
			if (fabs(rho) > l1)
				w_new = copysign(fabs(rho) - l1, rho) / (gj[j] + l2);
			if (w_new != w_old)
			{
				double		d = w_new - w_old;

				for (i = 0; i < k; i++)
					H[i] += d * gj[i];
				w[j] = w_new;
			}
			dw_max = fmax(dw_max, fabs(w_new - w_old));
			w_max = fmax(w_max, fabs(w_new));
		}
		sweeps++;

		/*
		 * scikit-learn computes the gap only once the sweep barely moved w
		 * (relative to tol, unscaled) and after the last sweep.  It stops
		 * when gap < tol |yc|^2; "<=" here so that a constant y, whose fit
		 * w = 0 has a gap of exactly 0, converges instead of running to
		 * max_iter.
		 */
		if (w_max == 0.0 || dw_max / w_max < tol || sweeps == max_iter)
		{
			gap = enet_gap(k, q, H, w, l1, l2, yy);
			if (gap <= gap_tol)
			{
				out->converged = true;
				break;
			}
		}
	}

	/*
	 * Intercept from the means (row 0 of R over R[0][0], as in PCA), and
	 * RSS from R rather than as yy - 2 w'q + w'Gw: yc - Xc w = Q [r_xy -
	 * R_xx w; r_yy], a sum of squares free of that expression's
	 * cancellation when the fit is close.
	 */
	ymean = R[(size_t) (k + 1) * p] / R[0];
	out->coef[0] = ymean;
	rss = 0.0;
	for (i = 0; i <= k; i++)
	{
		double		r = R[1 + i + (size_t) (k + 1) * p];

		if (i < k)
		{
			out->coef[0] -= R[(size_t) (1 + i) * p] / R[0] * w[i];
			for (j = i; j < k; j++)
				r -= R[1 + i + (size_t) (1 + j) * p] * w[j];
			if (w[i] != 0.0)
				out->nonzero++;
		}
		rss += r * r;
	}
	out->iterations = sweeps;
	/*
	 * A duality gap is >= 0; rounding can leave a converged one a few ulps
	 * below (seen: -1.7e-17 after the merge of parallel states), which the
	 * model format would refuse.
	 */
	out->dual_gap = gap > 0 ? gap / n : 0.0;
	out->r2 = (yy > 0.0) ? 1.0 - rss / yy : NAN;

done:
	mlx_free(ctx, R);
	mlx_free(ctx, scratch);
	if (st != MLX_OK)
	{
		mlx_free(ctx, out->coef);
		out->coef = NULL;
	}
	return st;
}
