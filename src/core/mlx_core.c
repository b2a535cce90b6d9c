/*
 * mlx_core.c
 *	  Allocator and interrupt helpers shared by the numerical core, the
 *	  malloc-based context for tests and tools, and status names.
 */
#include "core/mlx_core.h"
#include "core/simd.h"

#include <stdlib.h>
#include <string.h>

static void *
malloc_alloc(void *arg, size_t size)
{
	return malloc(size);
}

static void
malloc_free(void *arg, void *ptr)
{
	free(ptr);
}

const mlx_ctx mlx_malloc_ctx = {
	malloc_alloc,
	malloc_free,
	NULL,
	NULL
};

/*
 * Allocate through the caller's allocator.  A zero-byte request is rounded
 * up to one byte so a successful call never returns NULL; a NULL ctx means
 * the malloc context.
 */
void *
mlx_alloc(const mlx_ctx *ctx, size_t size)
{
	if (ctx == NULL)
		ctx = &mlx_malloc_ctx;
	if (size == 0)
		size = 1;
	return ctx->alloc(ctx->arg, size);
}

void *
mlx_alloc0(const mlx_ctx *ctx, size_t size)
{
	void	   *p = mlx_alloc(ctx, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

/* Free through the caller's allocator; a no-op without a free hook. */
void
mlx_free(const mlx_ctx *ctx, void *ptr)
{
	if (ctx == NULL)
		ctx = &mlx_malloc_ctx;
	if (ptr != NULL && ctx->free != NULL)
		ctx->free(ctx->arg, ptr);
}

bool
mlx_interrupted(const mlx_ctx *ctx)
{
	return ctx != NULL && ctx->interrupted != NULL &&
		ctx->interrupted(ctx->arg);
}

#ifdef MLX_SIMD_AVX2
bool
mlx_have_avx2(void)
{
	static int	known = -1;

	if (known < 0)
	{
		__builtin_cpu_init();
		known = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return known == 1;
}
#endif

const char *
mlx_status_str(mlx_status st)
{
	switch (st)
	{
		case MLX_OK:
			return "success";
		case MLX_ENOMEM:
			return "out of memory";
		case MLX_EINTR:
			return "interrupted";
		case MLX_EINVAL:
			return "invalid argument";
		case MLX_ENONFINITE:
			return "non-finite value in input";
		case MLX_EMISMATCH:
			return "incompatible inputs";
		case MLX_ECORRUPT:
			return "corrupt value";
		case MLX_EUNSUPPORTED:
			return "unsupported format or algorithm";
		case MLX_ELAPACK:
			return "LAPACK failure";
	}
	return "unknown status";
}
