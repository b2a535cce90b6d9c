/*
 * mlx_core.h
 *	  Shared definitions of the numerical core: status codes, the allocator
 *	  and interrupt hooks the caller passes in.
 *
 * The core is plain C (C99) plus LAPACKE/BLAS.  It never includes
 * postgres.h, never prints, never exits and never longjmps: every function
 * returns an mlx_status and leaves error reporting to its caller.  Memory
 * comes from the allocator in mlx_ctx so the PostgreSQL glue can hand it
 * palloc (in the right memory context) and unit tests can hand it malloc.
 */
#ifndef MLX_CORE_H
#define MLX_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mlx_status
{
	MLX_OK = 0,
	MLX_ENOMEM,					/* the allocator returned NULL */
	MLX_EINTR,					/* the interrupt hook asked us to stop */
	MLX_EINVAL,					/* bad argument (caller's mistake or user input) */
	MLX_ENONFINITE,				/* NaN or +-Infinity in input data */
	MLX_EMISMATCH,				/* two states/inputs that must agree do not */
	MLX_ECORRUPT,				/* a serialized value failed validation */
	MLX_EUNSUPPORTED,			/* valid but newer/unknown format or algorithm */
	MLX_ELAPACK					/* LAPACK reported an unexpected failure */
} mlx_status;

/*
 * Caller-supplied services.  alloc returns NULL on failure (never throws);
 * free may be NULL when the allocator frees in bulk (memory contexts).
 * interrupted, when not NULL, is polled in long loops; when it returns true
 * the core stops and returns MLX_EINTR.
 */
typedef struct mlx_ctx
{
	void	   *(*alloc) (void *arg, size_t size);
	void		(*free) (void *arg, void *ptr);
	bool		(*interrupted) (void *arg);
	void	   *arg;
} mlx_ctx;

/* Helpers the core uses internally; safe with a NULL free hook. */
void	   *mlx_alloc(const mlx_ctx *ctx, size_t size);
void	   *mlx_alloc0(const mlx_ctx *ctx, size_t size);
void		mlx_free(const mlx_ctx *ctx, void *ptr);
bool		mlx_interrupted(const mlx_ctx *ctx);

/* A malloc/free context for tests and tools; interrupted is NULL. */
extern const mlx_ctx mlx_malloc_ctx;

/* Short English name of a status, for logs and tests ("out of memory"). */
const char *mlx_status_str(mlx_status st);

#endif							/* MLX_CORE_H */
