/*
 * decode.c
 *	  Parse and validate model bytes into an in-memory model.
 *
 * Model bytes are user input (anyone can pass a hand-made bytea to a
 * scoring function), so every length is checked against the bytes actually
 * present before anything is read or allocated, the checksum is verified
 * before any section is parsed, and each failure is reported with its own
 * message.  On failure nothing stays allocated and *out is zeroed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

/* Where to report errors. */
typedef struct decode_err
{
	char	   *buf;
	size_t		len;
} decode_err;

static mlx_status fail(decode_err *err, mlx_status st, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Write a message to the caller's error buffer and return st. */
static mlx_status
fail(decode_err *err, mlx_status st, const char *fmt,...)
{
	va_list		ap;

	if (err->buf != NULL && err->len > 0)
	{
		va_start(ap, fmt);
		vsnprintf(err->buf, err->len, fmt, ap);
		va_end(ap);
	}
	return st;
}

/*
 * Parse MLX_SEC_FEATURES: exactly k entries filling the section.  All
 * entries are checked before anything is allocated, so the allocations are
 * bounded by the section's size, not by the k the header claims.
 */
static mlx_status
decode_features(const uint8_t *body, uint32_t slen, int32_t k,
				const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	size_t		pos = 0;
	size_t		total = 0;
	int32_t		i;
	char	  **names;
	char	   *block;

	for (i = 0; i < k; i++)
	{
		uint16_t	nl;

		if (slen - pos < 2)
			return fail(err, MLX_ECORRUPT,
						"feature names section ends after %d of %d names",
						(int) i, (int) k);
		nl = mlx_get_u16(body + pos);
		if (nl > slen - pos - 2)
			return fail(err, MLX_ECORRUPT,
						"feature name %d runs past the end of its section",
						(int) i + 1);
		if (!mlx_check_feature_name(body + pos + 2, nl, i, err->buf, err->len))
			return MLX_ECORRUPT;
		total += (size_t) nl + 1;
		pos += 2 + (size_t) nl;
	}
	if (pos != slen)
		return fail(err, MLX_ECORRUPT,
					"feature names section has %zu trailing bytes",
					(size_t) slen - pos);

	names = mlx_alloc(ctx, (size_t) k * sizeof(char *));
	if (names == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	block = mlx_alloc(ctx, total);
	if (block == NULL)
	{
		mlx_free(ctx, names);
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	}
	pos = 0;
	for (i = 0; i < k; i++)
	{
		uint16_t	nl = mlx_get_u16(body + pos);

		memcpy(block, body + pos + 2, nl);
		block[nl] = '\0';
		names[i] = block;
		block += (size_t) nl + 1;
		pos += 2 + (size_t) nl;
	}
	out->feature_names = names;
	return MLX_OK;
}

/* Allocate n doubles and read them from p. */
static double *
read_f64_array(const uint8_t *p, int32_t n, const mlx_ctx *ctx)
{
	double	   *a = mlx_alloc(ctx, (size_t) n * sizeof(double));
	int32_t		i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		a[i] = mlx_get_f64(p + 8 * (size_t) i);
	return a;
}

/*
 * Parse MLX_SEC_LINREG into out->u.linreg.  The section's length must be
 * exactly what k and the stored dependent-feature count imply; the field
 * values are then checked by mlx_check_linreg_fit, as the encoder does.
 */
static mlx_status
decode_linreg(const uint8_t *body, uint32_t slen, int32_t k,
			  const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_linreg_fit *fit = &out->u.linreg;
	uint64_t	min_size = mlx_linreg_section_size(k, 0);
	uint64_t	arrays_at = MLX_LINREG_FIXED_SIZE;
	uint64_t	ndep_at;
	uint32_t	ndep;
	int32_t		n = k + 1;
	int32_t		i;
	const uint8_t *p;

	if (slen < min_size)
		return fail(err, MLX_ECORRUPT,
					"linear regression section has %u bytes, expected at least %llu for %d features",
					(unsigned) slen, (unsigned long long) min_size, (int) k);
	ndep_at = arrays_at + (uint64_t) MLX_LINREG_ARRAYS * 8 * (uint64_t) n;
	ndep = mlx_get_u32(body + ndep_at);
	if (ndep > (uint32_t) k)
		return fail(err, MLX_ECORRUPT,
					"linear regression lists %u dependent features, expected 0 to %d",
					(unsigned) ndep, (int) k);
	if (slen != mlx_linreg_section_size(k, (int32_t) ndep))
		return fail(err, MLX_ECORRUPT,
					"linear regression section has %u bytes, expected %llu for %d features",
					(unsigned) slen,
					(unsigned long long) mlx_linreg_section_size(k, (int32_t) ndep),
					(int) k);
	if (body[0] > 1)
		return fail(err, MLX_ECORRUPT,
					"linear regression intercept flag is %u, expected 0 or 1",
					(unsigned) body[0]);
	if (body[1] != 0 || body[2] != 0 || body[3] != 0)
		return fail(err, MLX_ECORRUPT,
					"linear regression section reserved bytes are not zero");

	fit->nfeat = k;
	fit->intercept = body[0] == 1;
	fit->rank = (int32_t) mlx_get_u32(body + 4);
	fit->nrows = (int64_t) mlx_get_u64(body + 8);
	fit->nskipped = (int64_t) mlx_get_u64(body + 16);
	p = body + 24;
	fit->lambda = mlx_get_f64(p);
	fit->df_resid = mlx_get_f64(p + 8);
	fit->rss = mlx_get_f64(p + 16);
	fit->tss = mlx_get_f64(p + 24);
	fit->r2 = mlx_get_f64(p + 32);
	fit->adj_r2 = mlx_get_f64(p + 40);
	fit->sigma = mlx_get_f64(p + 48);

	p = body + arrays_at;
	if ((fit->coef = read_f64_array(p, n, ctx)) == NULL ||
		(fit->se = read_f64_array(p + 8 * (size_t) n, n, ctx)) == NULL ||
		(fit->tval = read_f64_array(p + 16 * (size_t) n, n, ctx)) == NULL ||
		(fit->pval = read_f64_array(p + 24 * (size_t) n, n, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	fit->ndependent = (int32_t) ndep;
	if (ndep > 0)
	{
		fit->dependent = mlx_alloc(ctx, (size_t) ndep * sizeof(int32_t));
		if (fit->dependent == NULL)
			return fail(err, MLX_ENOMEM, "out of memory decoding model");
		p = body + ndep_at + 4;
		for (i = 0; i < (int32_t) ndep; i++)
			fit->dependent[i] = (int32_t) mlx_get_u32(p + 4 * (size_t) i);
	}

	if (!mlx_check_linreg_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Check the fixed header and the trailer: magic, version, declared length
 * against the actual one, checksum, then the remaining header fields.  The
 * version is checked right after the magic, so that a later format may
 * change everything after it; the checksum is checked before the algorithm,
 * so that random damage is reported as damage, not as an unknown algorithm.
 */
static mlx_status
decode_header(const uint8_t *buf, size_t len, mlx_model *out, decode_err *err)
{
	uint16_t	version;
	uint32_t	payload;
	uint32_t	stored;
	uint32_t	computed;
	uint32_t	k;

	if (buf == NULL || len < MLX_MODEL_MIN_SIZE)
		return fail(err, MLX_ECORRUPT,
					"value is too short to be an ml_ext model (%zu bytes)",
					buf == NULL ? (size_t) 0 : len);
	if (memcmp(buf, MLX_MODEL_MAGIC, 4) != 0)
		return fail(err, MLX_ECORRUPT, "not an ml_ext model (bad magic)");

	version = mlx_get_u16(buf + 4);
	if (version == 0)
		return fail(err, MLX_ECORRUPT, "model format version 0 is not valid");
	if (version > MLX_MODEL_FORMAT_VERSION)
		return fail(err, MLX_EUNSUPPORTED,
					"model format version %u is newer than this ml_ext supports (%d)",
					(unsigned) version, MLX_MODEL_FORMAT_VERSION);

	payload = mlx_get_u32(buf + 16);
	if ((uint64_t) payload + MLX_MODEL_MIN_SIZE > len)
		return fail(err, MLX_ECORRUPT,
					"model is truncated: header declares %llu bytes but the value has %zu",
					(unsigned long long) payload + MLX_MODEL_MIN_SIZE, len);
	if ((uint64_t) payload + MLX_MODEL_MIN_SIZE < len)
		return fail(err, MLX_ECORRUPT,
					"model has trailing bytes: header declares %llu bytes but the value has %zu",
					(unsigned long long) payload + MLX_MODEL_MIN_SIZE, len);

	stored = mlx_get_u32(buf + len - MLX_MODEL_CRC_SIZE);
	computed = mlx_crc32c(0, buf, len - MLX_MODEL_CRC_SIZE);
	if (stored != computed)
		return fail(err, MLX_ECORRUPT,
					"model checksum mismatch: stored 0x%08x, computed 0x%08x",
					(unsigned) stored, (unsigned) computed);

	out->format_version = version;
	out->algorithm = mlx_get_u16(buf + 6);
	if (mlx_algorithm_name(out->algorithm) == NULL)
		return fail(err, MLX_EUNSUPPORTED,
					"model algorithm %u is not supported by this ml_ext",
					(unsigned) out->algorithm);
	out->flags = mlx_get_u32(buf + 8);
	if (out->flags != 0)
		return fail(err, MLX_ECORRUPT,
					"model flags 0x%08x are not defined in format version %u",
					(unsigned) out->flags, (unsigned) version);
	if (mlx_get_u32(buf + 20) != 0)
		return fail(err, MLX_ECORRUPT, "model header reserved field is not zero");
	k = mlx_get_u32(buf + 12);
	if (k < 1 || k > MLX_MODEL_MAX_FEATURES)
		return fail(err, MLX_ECORRUPT,
					"model declares %u features, expected 1 to %d",
					(unsigned) k, MLX_MODEL_MAX_FEATURES);
	out->nfeat = (int32_t) k;
	return MLX_OK;
}

/* Name of a required section, for messages. */
static const char *
section_name(uint16_t tag)
{
	return tag == MLX_SEC_FEATURES ? "feature names" : "linear regression";
}

mlx_status
mlx_model_decode(const uint8_t *buf, size_t len, const mlx_ctx *ctx,
				 mlx_model *out, char *errbuf, size_t errlen)
{
	decode_err	err = {errbuf, errlen};
	const uint8_t *sec_body[2] = {NULL, NULL};
	uint32_t	sec_len[2] = {0, 0};
	size_t		pos;
	size_t		end;
	mlx_status	st;
	int			s;

	memset(out, 0, sizeof(*out));
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';

	st = decode_header(buf, len, out, &err);
	if (st != MLX_OK)
	{
		memset(out, 0, sizeof(*out));
		return st;
	}

	/* find the sections: [0] feature names, [1] the linear model */
	pos = MLX_MODEL_HEADER_SIZE;
	end = len - MLX_MODEL_CRC_SIZE;
	while (pos < end)
	{
		uint16_t	tag = 0;
		uint32_t	slen = 0;
		size_t		off = pos - MLX_MODEL_HEADER_SIZE;

		if (end - pos < MLX_SECTION_HEADER_SIZE)
			st = fail(&err, MLX_ECORRUPT,
					  "model section header at payload offset %zu runs past the end of the model",
					  off);
		else
		{
			tag = mlx_get_u16(buf + pos);
			slen = mlx_get_u32(buf + pos + 4);
			if (mlx_get_u16(buf + pos + 2) != 0)
				st = fail(&err, MLX_ECORRUPT,
						  "model section %u at payload offset %zu has a non-zero reserved field",
						  (unsigned) tag, off);
			else if (slen > end - pos - MLX_SECTION_HEADER_SIZE)
				st = fail(&err, MLX_ECORRUPT,
						  "model section %u at payload offset %zu declares %u bytes but only %zu remain",
						  (unsigned) tag, off, (unsigned) slen,
						  end - pos - MLX_SECTION_HEADER_SIZE);
			else if (tag == MLX_SEC_FEATURES || tag == MLX_SEC_LINREG)
			{
				s = tag == MLX_SEC_FEATURES ? 0 : 1;
				if (sec_body[s] != NULL)
					st = fail(&err, MLX_ECORRUPT,
							  "model has more than one %s section",
							  section_name(tag));
				sec_body[s] = buf + pos + MLX_SECTION_HEADER_SIZE;
				sec_len[s] = slen;
			}
			else if (tag < MLX_SEC_OPTIONAL_BASE)
				st = fail(&err, MLX_ECORRUPT,
						  "model has an unknown required section %u",
						  (unsigned) tag);
			/* else an optional section of a later version: skip it */
		}
		if (st != MLX_OK)
		{
			memset(out, 0, sizeof(*out));
			return st;
		}
		pos += MLX_SECTION_HEADER_SIZE + (size_t) slen;
	}
	for (s = 0; s < 2; s++)
	{
		if (sec_body[s] == NULL)
		{
			memset(out, 0, sizeof(*out));
			return fail(&err, MLX_ECORRUPT, "model has no %s section",
						section_name(s == 0 ? MLX_SEC_FEATURES : MLX_SEC_LINREG));
		}
	}

	st = decode_features(sec_body[0], sec_len[0], out->nfeat, ctx, out, &err);
	if (st == MLX_OK)
		st = decode_linreg(sec_body[1], sec_len[1], out->nfeat, ctx, out, &err);
	if (st != MLX_OK)
		mlx_model_free(out, ctx);
	return st;
}
