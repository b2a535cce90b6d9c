/*
 * qrfold.c
 *	  Householder fold of a dense row block into R, vectorized for AVX2.
 *
 * Every streaming QR state (linear regression, the IRLS passes of logistic
 * and Poisson regression) folds its buffer of a few hundred rows into R
 * with dtpqrt.  For the narrow designs these passes see (p around 10 to
 * 30) OpenBLAS spends most of that call in level-2 panel code and dnrm2,
 * and the fold was a third of an IRLS pass's time over the table scan.
 * This kernel computes the same reflectors as dtpqrt2 (l = 0), column by
 * column, applying each to four trailing columns per sweep over the rows
 * with 4-wide vectors.  bench/: about half the time of dtpqrt for 1M rows
 * of 12 columns (p = 3 to 130 likewise faster).
 *
 * It declines (false, nothing touched) on CPUs without AVX2 and for blocks
 * whose scale could make the sums of squares overflow or underflow, which
 * dnrm2 guards against by scaling; the caller then calls LAPACK.  No FMA:
 * the vector and scalar parts round like the plain C they replace.
 */
#include "core/qrfold.h"
#include "core/simd.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* column scales outside [QRFOLD_TINY, QRFOLD_HUGE] go to LAPACK */
#define QRFOLD_HUGE 1e100
#define QRFOLD_TINY 1e-100

#ifdef MLX_SIMD_AVX2

typedef mlx_v4d v4d;
typedef mlx_v4di v4di;

#define V4(p) MLX_V4(p)
#define HSUM(a) MLX_V4_SUM(a)

/*
 * Apply the reflector (1, v) with tau to columns k..k+3 of [R; B]:
 * w = R[j,c] + v'B[:,c], R[j,c] -= tau w, B[:,c] -= tau w v.
 */
MLX_TARGET_AVX2
static void
apply4(double *R, int p, int j, int k, const double *v, double *B, int ldb,
	   int m, double tau)
{
	double	   *b0 = B + (size_t) k * ldb;
	double	   *b1 = b0 + ldb;
	double	   *b2 = b1 + ldb;
	double	   *b3 = b2 + ldb;
	v4d			s0 = {0},
				s1 = {0},
				s2 = {0},
				s3 = {0};
	double		w[4];
	int			m4 = m & ~3;
	int			i,
				c;

	for (i = 0; i < m4; i += 4)
	{
		v4d			vi = V4(v + i);

		s0 += vi * V4(b0 + i);
		s1 += vi * V4(b1 + i);
		s2 += vi * V4(b2 + i);
		s3 += vi * V4(b3 + i);
	}
	w[0] = HSUM(s0);
	w[1] = HSUM(s1);
	w[2] = HSUM(s2);
	w[3] = HSUM(s3);
	for (; i < m; i++)
	{
		w[0] += v[i] * b0[i];
		w[1] += v[i] * b1[i];
		w[2] += v[i] * b2[i];
		w[3] += v[i] * b3[i];
	}
	for (c = 0; c < 4; c++)
	{
		w[c] = tau * (R[j + (size_t) (k + c) * p] + w[c]);
		R[j + (size_t) (k + c) * p] -= w[c];
	}
	{
		v4d			t0 = {w[0], w[0], w[0], w[0]},
					t1 = {w[1], w[1], w[1], w[1]},
					t2 = {w[2], w[2], w[2], w[2]},
					t3 = {w[3], w[3], w[3], w[3]};

		for (i = 0; i < m4; i += 4)
		{
			v4d			vi = V4(v + i);

			V4(b0 + i) -= t0 * vi;
			V4(b1 + i) -= t1 * vi;
			V4(b2 + i) -= t2 * vi;
			V4(b3 + i) -= t3 * vi;
		}
	}
	for (; i < m; i++)
	{
		b0[i] -= w[0] * v[i];
		b1[i] -= w[1] * v[i];
		b2[i] -= w[2] * v[i];
		b3[i] -= w[3] * v[i];
	}
}

/*
 * apply4 for the two columns k and k + 1, each dot product in two running
 * sums (rows i mod 8 in 0-3 and in 4-7) so that the additions overlap.
 */
MLX_TARGET_AVX2
static void
apply2(double *R, int p, int j, int k, const double *v, double *B, int ldb,
	   int m, double tau)
{
	double	   *b0 = B + (size_t) k * ldb;
	double	   *b1 = b0 + ldb;
	v4d			s0 = {0},
				s1 = {0},
				u0 = {0},
				u1 = {0};
	double		w0,
				w1;
	int			m4 = m & ~3;
	int			m8 = m & ~7;
	int			i;

	for (i = 0; i < m8; i += 8)
	{
		v4d			vi = V4(v + i);
		v4d			vj = V4(v + i + 4);

		s0 += vi * V4(b0 + i);
		s1 += vi * V4(b1 + i);
		u0 += vj * V4(b0 + i + 4);
		u1 += vj * V4(b1 + i + 4);
	}
	for (; i < m4; i += 4)
	{
		v4d			vi = V4(v + i);

		s0 += vi * V4(b0 + i);
		s1 += vi * V4(b1 + i);
	}
	s0 += u0;
	s1 += u1;
	w0 = HSUM(s0);
	w1 = HSUM(s1);
	for (; i < m; i++)
	{
		w0 += v[i] * b0[i];
		w1 += v[i] * b1[i];
	}
	w0 = tau * (R[j + (size_t) k * p] + w0);
	w1 = tau * (R[j + (size_t) (k + 1) * p] + w1);
	R[j + (size_t) k * p] -= w0;
	R[j + (size_t) (k + 1) * p] -= w1;
	{
		v4d			t0 = {w0, w0, w0, w0},
					t1 = {w1, w1, w1, w1};

		for (i = 0; i < m4; i += 4)
		{
			v4d			vi = V4(v + i);

			V4(b0 + i) -= t0 * vi;
			V4(b1 + i) -= t1 * vi;
		}
	}
	for (; i < m; i++)
	{
		b0[i] -= w0 * v[i];
		b1[i] -= w1 * v[i];
	}
}

/*
 * apply4 for the single column k, its dot product in four running sums
 * (rows i mod 16 in 0-3, 4-7, 8-11 and 12-15).
 */
MLX_TARGET_AVX2
static void
apply1(double *R, int p, int j, int k, const double *v, double *B, int ldb,
	   int m, double tau)
{
	double	   *b = B + (size_t) k * ldb;
	v4d			s0 = {0},
				s1 = {0},
				s2 = {0},
				s3 = {0};
	double		w;
	int			m4 = m & ~3;
	int			m16 = m & ~15;
	int			i;

	for (i = 0; i < m16; i += 16)
	{
		s0 += V4(v + i) * V4(b + i);
		s1 += V4(v + i + 4) * V4(b + i + 4);
		s2 += V4(v + i + 8) * V4(b + i + 8);
		s3 += V4(v + i + 12) * V4(b + i + 12);
	}
	for (; i < m4; i += 4)
		s0 += V4(v + i) * V4(b + i);
	s0 = (s0 + s1) + (s2 + s3);
	w = HSUM(s0);
	for (; i < m; i++)
		w += v[i] * b[i];
	w = tau * (R[j + (size_t) k * p] + w);
	R[j + (size_t) k * p] -= w;
	{
		v4d			t = {w, w, w, w};

		for (i = 0; i < m4; i += 4)
			V4(b + i) -= t * V4(v + i);
	}
	for (; i < m; i++)
		b[i] -= w * v[i];
}

MLX_TARGET_AVX2
static void
fold_avx2(double *R, int p, double *B, int ldb, int m)
{
	int			m4 = m & ~3;
	int			j;

	for (j = 0; j < p; j++)
	{
		double	   *v = B + (size_t) j * ldb;
		v4d			a = {0};
		double		xn2,
					alpha,
					beta,
					tau,
					scale;
		int			i,
					k;

		for (i = 0; i < m4; i += 4)
			a += V4(v + i) * V4(v + i);
		xn2 = HSUM(a);
		for (; i < m; i++)
			xn2 += v[i] * v[i];
		if (xn2 == 0.0)
			continue;			/* H = I, as dlarfg */
		alpha = R[j + (size_t) j * p];
		beta = -copysign(sqrt(alpha * alpha + xn2), alpha);
		tau = (beta - alpha) / beta;
		scale = 1.0 / (alpha - beta);
		for (i = 0; i < m; i++)
			v[i] *= scale;
		R[j + (size_t) j * p] = beta;
		for (k = j + 1; k + 4 <= p; k += 4)
			apply4(R, p, j, k, v, B, ldb, m, tau);
		if (k + 2 <= p)
		{
			apply2(R, p, j, k, v, B, ldb, m, tau);
			k += 2;
		}
		if (k < p)
			apply1(R, p, j, k, v, B, ldb, m, tau);
	}
}

/* largest |B[i]|, i < m */
MLX_TARGET_AVX2
static double
max_abs_avx2(const double *b, int m)
{
	const v4di	absmask = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
	v4d			c4 = {0};
	double		c;
	int			m4 = m & ~3;
	int			i;

	for (i = 0; i < m4; i += 4)
	{
		v4d			a = (v4d) ((v4di) V4(b + i) & absmask);
		v4di		gt = a > c4;

		c4 = (v4d) (((v4di) a & gt) | ((v4di) c4 & ~gt));
	}
	c = fmax(fmax(c4[0], c4[1]), fmax(c4[2], c4[3]));
	for (; i < m; i++)
		c = fmax(c, fabs(b[i]));
	return c;
}

/*
 * Does every column of [R; B] have a scale whose squares (and their sums
 * over at most m + p entries) stay well inside the normal range?
 */
static bool
scales_safe(const double *R, int p, const double *B, int ldb, int m)
{
	int			i,
				j;

	for (j = 0; j < p; j++)
	{
		double		c = max_abs_avx2(B + (size_t) j * ldb, m);

		for (i = 0; i <= j; i++)
			c = fmax(c, fabs(R[i + (size_t) j * p]));
		if (!(c <= QRFOLD_HUGE) || (c != 0.0 && c < QRFOLD_TINY))
			return false;
	}
	return true;
}
#endif							/* MLX_SIMD_AVX2 */

bool
mlx_qr_fold_dense(double *R, int p, double *B, int ldb, int m)
{
#ifdef MLX_SIMD_AVX2
	if (p < 1 || m < 1 || ldb < m || !mlx_have_avx2())
		return false;
	if (!scales_safe(R, p, B, ldb, m))
		return false;
	fold_avx2(R, p, B, ldb, m);
	return true;
#else
	(void) R;
	(void) p;
	(void) B;
	(void) ldb;
	(void) m;
	return false;
#endif
}
