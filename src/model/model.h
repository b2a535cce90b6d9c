/*
 * model.h
 *	  The model bytea: in-memory model, encoder, validating decoder and JSON
 *	  description.  This is the only code that reads or writes model bytes.
 *
 * Plain C (no postgres.h) so the decoder can be fuzzed and unit-tested
 * alone.  The byte layout is specified in doc/model-format.md; in short,
 * everything is big-endian ("network order", as PostgreSQL's pq_send*):
 *
 *	  offset size
 *	  0      4    magic "MLXM"
 *	  4      2    format version (MLX_MODEL_FORMAT_VERSION)
 *	  6      2    algorithm id (MLX_ALG_*)
 *	  8      4    flags (0 in version 1)
 *	  12     4    feature count k
 *	  16     4    payload length L (bytes from offset 24 up to the CRC)
 *	  20     4    reserved (0)
 *	  24     L    payload: a sequence of sections, each
 *	                u16 tag, u16 reserved (0), u32 length, then length bytes
 *	  24+L   4    CRC-32C (Castagnoli) of bytes 0 .. 24+L-1
 *
 * Sections of version 1: MLX_SEC_FEATURES (k names, each u16 byte length +
 * UTF-8 bytes, no NUL), MLX_SEC_LINREG (the fitted linear model).  A
 * decoder rejects a missing required section, a duplicate one, and unknown
 * section tags below MLX_SEC_OPTIONAL_BASE; unknown tags at or above it are
 * skipped (room for later additions that old readers may ignore).
 */
#ifndef MLX_MODEL_H
#define MLX_MODEL_H

#include "core/mlx_core.h"
#include "core/linreg.h"

#define MLX_MODEL_MAGIC "MLXM"
#define MLX_MODEL_FORMAT_VERSION 1
#define MLX_MODEL_HEADER_SIZE 24
#define MLX_MODEL_MIN_SIZE (MLX_MODEL_HEADER_SIZE + 4)
/* no model may claim more features than this (sanity bound for readers) */
#define MLX_MODEL_MAX_FEATURES 1000000
#define MLX_MODEL_MAX_NAME_LEN 1024

/* algorithm ids: never renumber, only append */
typedef enum mlx_algorithm
{
	MLX_ALG_LINEAR_REGRESSION = 1
} mlx_algorithm;

/* section tags: never renumber, only append */
#define MLX_SEC_FEATURES 1
#define MLX_SEC_LINREG 2
#define MLX_SEC_OPTIONAL_BASE 0x8000

/*
 * A decoded model.  All memory comes from one mlx_ctx; free it with
 * mlx_model_free (or let the memory context go).
 */
typedef struct mlx_model
{
	uint16_t	format_version; /* version the bytes were written in */
	uint16_t	algorithm;		/* mlx_algorithm */
	uint32_t	flags;
	int32_t		nfeat;
	char	  **feature_names;	/* nfeat NUL-terminated strings, never NULL */
	union
	{
		mlx_linreg_fit linreg;	/* MLX_ALG_LINEAR_REGRESSION */
	}			u;
} mlx_model;

/* Name of an algorithm id ("linear_regression"), or NULL if unknown. */
const char *mlx_algorithm_name(uint16_t algorithm);

/*
 * Build a linear-regression model from a fit.  feature_names may be NULL,
 * meaning "x1".."xk".  The model references the fit's arrays (no copy).
 */
mlx_status	mlx_model_from_linreg(const mlx_linreg_fit *fit,
								  char **feature_names, const mlx_ctx *ctx,
								  mlx_model *out);

/*
 * Serialize.  *out is allocated from ctx and holds *outlen bytes.  When
 * 'reserve' > 0, that many bytes are left free before the model bytes (so
 * the caller can put a varlena header there without copying); *out then
 * points at the start of the reserved area and *outlen excludes it.
 */
mlx_status	mlx_model_encode(const mlx_model *m, const mlx_ctx *ctx,
							 size_t reserve, uint8_t **out, size_t *outlen);

/*
 * Parse and fully validate len bytes at buf (any alignment).  On failure
 * returns MLX_ECORRUPT (malformed, truncated, bad checksum, inconsistent
 * fields) or MLX_EUNSUPPORTED (newer format version, unknown algorithm) and
 * writes a one-line lowercase explanation to errbuf (e.g. "model is
 * truncated: header declares 412 bytes but the value has 300").  Never reads
 * outside buf[0..len-1]; allocation sizes are bounded by len.
 */
mlx_status	mlx_model_decode(const uint8_t *buf, size_t len, const mlx_ctx *ctx,
							 mlx_model *out, char *errbuf, size_t errlen);

/*
 * Release, through ctx, everything a model from mlx_model_decode owns: the
 * feature names and the algorithm's arrays.  The struct is zeroed.
 */
void		mlx_model_free(mlx_model *m, const mlx_ctx *ctx);

/*
 * Release only the feature names: for a model from mlx_model_from_linreg,
 * which owns its names but shares the fit's arrays with the caller.
 */
void		mlx_model_free_names(mlx_model *m, const mlx_ctx *ctx);

/*
 * JSON text describing the model (algorithm, format version, features,
 * training figures, coefficients and statistics; non-finite numbers as
 * null).  Allocated from ctx, NUL-terminated.
 */
mlx_status	mlx_model_describe_json(const mlx_model *m, const mlx_ctx *ctx,
									char **json);

/* CRC-32C (Castagnoli), as used for the trailer; crc starts at 0. */
uint32_t	mlx_crc32c(uint32_t crc, const void *data, size_t len);

#endif							/* MLX_MODEL_H */
