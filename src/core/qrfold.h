/*
 * qrfold.h
 *	  Folding a dense block of rows into an upper-triangular R by Householder
 *	  reflections: the l = 0 case of LAPACK's dtpqrt, as a vectorized kernel
 *	  for the narrow blocks the streaming QR states fold (see qrfold.c for
 *	  why it exists and when it declines).
 */
#ifndef MLX_QRFOLD_H
#define MLX_QRFOLD_H

#include <stdbool.h>

/*
 * [R; B] = Q [R'; 0]: fold the m rows of B (column-major, leading
 * dimension ldb >= m, p columns) into R (p-by-p column-major, upper
 * triangle significant), with the reflectors LAPACK's dtpqrt2 uses.  B is
 * overwritten.
 *
 * Returns false, with R and B untouched, when the kernel does not apply:
 * the CPU lacks AVX2, or some column of [R; B] has a scale whose squares
 * could overflow or underflow (largest magnitude above 1e100, or nonzero
 * and below 1e-100).  The caller then folds with LAPACK, which scales.
 */
bool		mlx_qr_fold_dense(double *R, int p, double *B, int ldb, int m);

#endif							/* MLX_QRFOLD_H */
