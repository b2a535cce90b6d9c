/*
 * pca.c
 *	  Principal component analysis out of the streaming QR state of linear
 *	  regression: means from the first row of R, principal axes and
 *	  variances from the singular value decomposition of its centred
 *	  feature block (LAPACK dgesdd), and projection of new rows.
 *
 * See pca.h for why the k x k block of R is all that is needed.
 */
#include "core/pca.h"

#include <math.h>
#include <string.h>

#include <lapacke.h>

static void
pca_release(const mlx_ctx *ctx, mlx_pca_fit *out)
{
	mlx_free(ctx, out->mean);
	mlx_free(ctx, out->components);
	mlx_free(ctx, out->explained_variance);
	mlx_free(ctx, out->explained_variance_ratio);
	mlx_free(ctx, out->singular_values);
	out->mean = out->components = NULL;
	out->explained_variance = out->explained_variance_ratio = NULL;
	out->singular_values = NULL;
}

/*
 * Singular values S (k) and right singular vectors VT (k x k, column-major,
 * row c = vector c) of the k x k matrix A, which is destroyed (the left
 * vectors overwrite it, JOBZ 'O').  Divide and conquer (dgesdd, also
 * scikit-learn's SciPy default) is about five times faster than dgesvd
 * here, and this call cannot be interrupted: see MLX_PCA_MAX_FEATURES.
 */
static mlx_status
pca_svd(double *A, int k, double *S, double *VT, const mlx_ctx *ctx)
{
	double	   *work;
	lapack_int *iwork;
	double		wq;
	lapack_int	info;

	iwork = mlx_alloc(ctx, sizeof(lapack_int) * 8 * (size_t) k);
	if (iwork == NULL)
		return MLX_ENOMEM;
	info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'O', k, k, A, k, S,
							   NULL, 1, VT, k, &wq, -1, iwork);
	if (info != 0 || !(wq >= 1.0))
	{
		mlx_free(ctx, iwork);
		return MLX_ELAPACK;
	}
	work = mlx_alloc(ctx, sizeof(double) * ((size_t) wq + 1));
	if (work == NULL)
	{
		mlx_free(ctx, iwork);
		return MLX_ENOMEM;
	}
	info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'O', k, k, A, k, S,
							   NULL, 1, VT, k, work, (lapack_int) wq, iwork);
	mlx_free(ctx, work);
	mlx_free(ctx, iwork);
	/* info > 0: the divide and conquer iteration did not converge */
	return (info == 0) ? MLX_OK : MLX_ELAPACK;
}

mlx_status
mlx_pca_from_state(const mlx_linreg_state *s, int ncomp, const mlx_ctx *ctx,
				   mlx_pca_fit *out)
{
	int			k = s->nfeat;
	int			p;
	double	   *R = NULL,
			   *A = NULL,
			   *S = NULL,
			   *VT = NULL;
	double		dof,
				ss;
	int			i,
				j,
				c;
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	out->nfeat = k;
	out->ncomp = ncomp;
	out->nrows = s->nrows;
	out->nskipped = s->nskipped;
	if (!(s->flags & MLX_LINREG_F_INTERCEPT) || s->lambda != 0.0 ||
		k < 1 || k > MLX_PCA_MAX_FEATURES || s->nrows < 2 || ncomp < 1 || ncomp > k ||
		(int64_t) ncomp > s->nrows)
		return MLX_EINVAL;
	p = mlx_linreg_ncols(k, true);

	st = mlx_linreg_copy_r(s, ctx, &R);
	if (st != MLX_OK)
		return st;
	A = mlx_alloc(ctx, sizeof(double) * (size_t) k * k);
	S = mlx_alloc(ctx, sizeof(double) * (size_t) k);
	VT = mlx_alloc(ctx, sizeof(double) * (size_t) k * k);
	out->mean = mlx_alloc(ctx, sizeof(double) * (size_t) k);
	out->components = mlx_alloc(ctx, sizeof(double) * (size_t) ncomp * k);
	out->explained_variance = mlx_alloc(ctx, sizeof(double) * (size_t) ncomp);
	out->explained_variance_ratio = mlx_alloc(ctx, sizeof(double) * (size_t) ncomp);
	out->singular_values = mlx_alloc(ctx, sizeof(double) * (size_t) ncomp);
	if (A == NULL || S == NULL || VT == NULL || out->mean == NULL ||
		out->components == NULL || out->explained_variance == NULL ||
		out->explained_variance_ratio == NULL || out->singular_values == NULL)
	{
		st = MLX_ENOMEM;
		goto done;
	}

	/*
	 * Means from row 0 (R[0][0] and R[0][j] share their sign), and the
	 * centred feature block, rows and columns 1..k (the y column, last, is
	 * left out).  Its Frobenius norm is that of Xc, so the total variance
	 * needs no other singular values than the ncomp kept.
	 */
	ss = 0.0;
	for (j = 0; j < k; j++)
	{
		out->mean[j] = R[(size_t) (1 + j) * p] / R[0];
		for (i = 0; i < k; i++)
		{
			double		v = (i <= j) ? R[1 + i + (size_t) (1 + j) * p] : 0.0;

			A[i + (size_t) j * k] = v;
			ss += v * v;
		}
	}
	if (mlx_interrupted(ctx))
	{
		st = MLX_EINTR;
		goto done;
	}
	st = pca_svd(A, k, S, VT, ctx);
	if (st != MLX_OK)
		goto done;
	if (mlx_interrupted(ctx))
	{
		st = MLX_EINTR;
		goto done;
	}

	dof = (double) (s->nrows - 1);
	out->total_variance = ss / dof;
	for (c = 0; c < ncomp; c++)
	{
		double	   *comp = out->components + (size_t) c * k;
		double		big = 0.0;
		double		sign;
		int			jmax = 0;

		/* deterministic sign: the first entry of largest |value| is > 0 */
		for (j = 0; j < k; j++)
		{
			double		v = VT[c + (size_t) j * k];

			comp[j] = v;
			if (fabs(v) > big)
			{
				big = fabs(v);
				jmax = j;
			}
		}
		sign = (comp[jmax] < 0.0) ? -1.0 : 1.0;
		/* + 0.0 turns a -0 into +0, so no "-0" reaches the user */
		for (j = 0; j < k; j++)
			comp[j] = sign * comp[j] + 0.0;
		out->singular_values[c] = S[c];
		out->explained_variance[c] = S[c] * S[c] / dof;
		out->explained_variance_ratio[c] = (out->total_variance > 0.0) ?
			out->explained_variance[c] / out->total_variance : 0.0;
	}

done:
	mlx_free(ctx, R);
	mlx_free(ctx, A);
	mlx_free(ctx, S);
	mlx_free(ctx, VT);
	if (st != MLX_OK)
		pca_release(ctx, out);
	return st;
}

void
mlx_pca_transform(const mlx_pca_fit *f, const void *x, double *out)
{
	int			k = f->nfeat;
	int			c,
				j;

	for (c = 0; c < f->ncomp; c++)
	{
		const double *comp = f->components + (size_t) c * k;
		double		v = 0.0;

		for (j = 0; j < k; j++)
		{
			double		xj;

			memcpy(&xj, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
			v += (xj - f->mean[j]) * comp[j];
		}
		out[c] = v;
	}
}
