/*
 * simd.h
 *	  4-wide double vectors (GNU C vector extensions) for the few hot loops
 *	  that gain from AVX2, and the run-time check that guards them.
 *
 * A kernel compiled with MLX_TARGET_AVX2 may only run where mlx_have_avx2()
 * says so; every caller keeps its plain C path for other CPUs (and for
 * compilers without the extensions, where MLX_SIMD_AVX2 is undefined).
 * No FMA is enabled, so lane-wise vector arithmetic rounds exactly like the
 * scalar C it replaces: a kernel that keeps the scalar code's order of
 * operations per lane gives bit-identical results.
 */
#ifndef MLX_SIMD_H
#define MLX_SIMD_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MLX_SIMD_AVX2 1

/* 4 doubles at an 8-byte aligned address, or at any address (_u) */
typedef double mlx_v4d __attribute__((vector_size(32), aligned(8)));
typedef double mlx_v4d_u __attribute__((vector_size(32), aligned(1)));
typedef int64_t mlx_v4di __attribute__((vector_size(32), aligned(8)));

#define MLX_TARGET_AVX2 __attribute__((target("avx2")))

/* the vector at p, p a double * (8-byte aligned) or any pointer (_U) */
#define MLX_V4(p) (*(mlx_v4d *) (p))
#define MLX_V4_U(p) (*(const mlx_v4d_u *) (p))
/* (a0 + a1) + (a2 + a3) */
#define MLX_V4_SUM(a) (((a)[0] + (a)[1]) + ((a)[2] + (a)[3]))

/* Does this CPU run MLX_TARGET_AVX2 code?  (Checked once.) */
bool		mlx_have_avx2(void);
#endif

#endif							/* MLX_SIMD_H */
