/*
 * model_internal.h
 *	  Private helpers of the model format: big-endian byte access, section
 *	  sizes, and the field checks shared by the encoder and the decoder.
 *
 * Every multi-byte value is read and written one byte at a time with
 * explicit shifts, so the code is independent of host byte order and of the
 * alignment of the buffer.  Doubles travel as the big-endian bytes of their
 * IEEE-754 binary64 bit pattern (memcpy to a uint64_t, then shift).
 */
#ifndef MLX_MODEL_INTERNAL_H
#define MLX_MODEL_INTERNAL_H

#include <string.h>

#include "model/model.h"

/* section header: u16 tag, u16 reserved, u32 length */
#define MLX_SECTION_HEADER_SIZE 8

/* bytes of the trailing CRC-32C */
#define MLX_MODEL_CRC_SIZE 4

/*
 * MLX_SEC_LINREG: bytes before the four per-coefficient arrays (flag,
 * reserved, rank, nrows, nskipped, then seven doubles), and per array entry
 */
#define MLX_LINREG_FIXED_SIZE (1 + 3 + 4 + 8 + 8 + 7 * 8)
#define MLX_LINREG_ARRAYS 4

static inline uint16_t
mlx_get_u16(const uint8_t *p)
{
	return (uint16_t) (((uint16_t) p[0] << 8) | (uint16_t) p[1]);
}

static inline uint32_t
mlx_get_u32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static inline uint64_t
mlx_get_u64(const uint8_t *p)
{
	return ((uint64_t) mlx_get_u32(p) << 32) | (uint64_t) mlx_get_u32(p + 4);
}

static inline double
mlx_get_f64(const uint8_t *p)
{
	uint64_t	bits = mlx_get_u64(p);
	double		d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static inline void
mlx_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static inline void
mlx_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static inline void
mlx_put_u64(uint8_t *p, uint64_t v)
{
	mlx_put_u32(p, (uint32_t) (v >> 32));
	mlx_put_u32(p + 4, (uint32_t) v);
}

static inline void
mlx_put_f64(uint8_t *p, double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, sizeof(bits));
	mlx_put_u64(p, bits);
}

/* Bytes of the MLX_SEC_LINREG body for k features and ndependent entries. */
static inline uint64_t
mlx_linreg_section_size(int32_t k, int32_t ndependent)
{
	return (uint64_t) MLX_LINREG_FIXED_SIZE +
		(uint64_t) MLX_LINREG_ARRAYS * 8 * ((uint64_t) k + 1) +
		4 + 4 * (uint64_t) ndependent;
}

/*
 * Checks shared by encoder and decoder, so that the encoder never writes
 * what the decoder would reject.  Each returns true when the value is
 * acceptable and otherwise writes a lowercase message to errbuf.
 */
extern bool mlx_check_feature_name(const uint8_t *name, size_t len, int32_t i,
								   char *errbuf, size_t errlen);
extern bool mlx_check_linreg_fit(const mlx_linreg_fit *fit, int32_t nfeat,
								 char *errbuf, size_t errlen);

#endif							/* MLX_MODEL_INTERNAL_H */
