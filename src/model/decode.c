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

/* offsets within the single block that holds decoded inputs */
#define ALIGN8(x) (((x) + (size_t) 7) & ~(size_t) 7)

/* kind name for messages, known to be valid */
#define KIND(kind) mlx_input_kind_name(kind)

/*
 * Parse MLX_SEC_INPUTS in two passes.  The first walks the bytes checking
 * every length, kind and string and counting what the inputs need; only
 * then is one block allocated (bounded by the section's size: every input,
 * imputation value and category takes bytes of its own) and filled by the
 * second pass.  The field checks the encoder also runs (sum of features,
 * imputation values, category order, unique names, target) follow on the
 * decoded struct.
 */
static mlx_status
decode_inputs(const uint8_t *body, uint32_t slen, int32_t k,
			  const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	char		what[48];
	uint32_t	n;
	uint32_t	i;
	uint32_t	j;
	size_t		pos;
	size_t		nimpute = 0;
	size_t		ncat = 0;
	size_t		strbytes = 0;
	size_t		off_inputs;
	size_t		off_impute;
	size_t		off_cats;
	size_t		off_str;
	uint8_t    *block;
	mlx_inputs *in;
	double	   *imp;
	char	  **cats;
	char	   *str;
	mlx_status	st;

	if (slen < MLX_INPUTS_COUNT_SIZE + MLX_INPUTS_TARGET_MIN_SIZE)
		return fail(err, MLX_ECORRUPT,
					"inputs section has %u bytes, expected at least %d",
					(unsigned) slen,
					MLX_INPUTS_COUNT_SIZE + MLX_INPUTS_TARGET_MIN_SIZE);
	n = mlx_get_u32(body);
	if (n < 1 || n > (uint32_t) k)
		return fail(err, MLX_ECORRUPT,
					"inputs section declares %u inputs, expected 1 to %d",
					(unsigned) n, (int) k);
	if (n > (slen - MLX_INPUTS_COUNT_SIZE - MLX_INPUTS_TARGET_MIN_SIZE) /
		MLX_INPUT_MIN_SIZE)
		return fail(err, MLX_ECORRUPT,
					"inputs section declares %u inputs but its %u bytes can hold at most %u",
					(unsigned) n, (unsigned) slen,
					(unsigned) ((slen - MLX_INPUTS_COUNT_SIZE -
								 MLX_INPUTS_TARGET_MIN_SIZE) / MLX_INPUT_MIN_SIZE));

	/* pass 1: framing */
	pos = MLX_INPUTS_COUNT_SIZE;
	for (i = 0; i < n; i++)
	{
		uint16_t	nl;
		uint8_t		kind;
		uint32_t	nf;

		if (slen - pos < 2 ||
			(nl = mlx_get_u16(body + pos)) > slen - pos - 2 ||
			slen - pos - 2 - nl < MLX_INPUT_FIXED_SIZE - 2)
			return fail(err, MLX_ECORRUPT,
						"input %u runs past the end of the inputs section",
						(unsigned) i + 1);
		snprintf(what, sizeof(what), "input %u name", (unsigned) i + 1);
		if (!mlx_check_text(body + pos + 2, nl, 1, MLX_MODEL_MAX_NAME_LEN,
							what, err->buf, err->len))
			return MLX_ECORRUPT;
		strbytes += (size_t) nl + 1;
		pos += 2 + (size_t) nl;
		kind = body[pos];
		nf = mlx_get_u32(body + pos + 2);
		if (KIND(kind) == NULL)
			return fail(err, MLX_ECORRUPT, "input %u has unknown kind %u",
						(unsigned) i + 1, (unsigned) kind);
		if (body[pos + 1] != 0)
			return fail(err, MLX_ECORRUPT,
						"input %u reserved byte is not zero", (unsigned) i + 1);
		if ((kind == MLX_INPUT_NUMERIC || kind == MLX_INPUT_BOOLEAN) && nf != 1)
			return fail(err, MLX_ECORRUPT,
						"input %u (%s) has %u features, expected 1",
						(unsigned) i + 1, KIND(kind), (unsigned) nf);
		if (nf < 1 || nf > (uint32_t) k)
			return fail(err, MLX_ECORRUPT,
						"input %u (%s) has %u features, expected 1 to %d",
						(unsigned) i + 1, KIND(kind), (unsigned) nf, (int) k);
		pos += MLX_INPUT_FIXED_SIZE - 2;
		if (kind != MLX_INPUT_CATEGORICAL)
		{
			if ((uint64_t) nf * 8 > slen - pos)
				return fail(err, MLX_ECORRUPT,
							"input %u imputation values run past the end of the inputs section",
							(unsigned) i + 1);
			nimpute += nf;
			pos += (size_t) nf * 8;
			continue;
		}
		for (j = 0; j < nf; j++)
		{
			uint8_t		isnull;
			uint16_t	cl;

			if (slen - pos < MLX_CATEGORY_FIXED_SIZE ||
				(cl = mlx_get_u16(body + pos + 1)) >
				slen - pos - MLX_CATEGORY_FIXED_SIZE)
				return fail(err, MLX_ECORRUPT,
							"input %u category %u runs past the end of the inputs section",
							(unsigned) i + 1, (unsigned) j + 1);
			isnull = body[pos];
			if (isnull > 1)
				return fail(err, MLX_ECORRUPT,
							"input %u category %u null flag is %u, expected 0 or 1",
							(unsigned) i + 1, (unsigned) j + 1, (unsigned) isnull);
			if (isnull && cl != 0)
				return fail(err, MLX_ECORRUPT,
							"input %u category %u is the NULL category but has length %u",
							(unsigned) i + 1, (unsigned) j + 1, (unsigned) cl);
			if (!isnull)
			{
				snprintf(what, sizeof(what), "input %u category %u",
						 (unsigned) i + 1, (unsigned) j + 1);
				if (!mlx_check_text(body + pos + MLX_CATEGORY_FIXED_SIZE, cl, 0,
									MLX_MODEL_MAX_CATEGORY_LEN, what,
									err->buf, err->len))
					return MLX_ECORRUPT;
				strbytes += (size_t) cl + 1;
			}
			pos += MLX_CATEGORY_FIXED_SIZE + (size_t) cl;
		}
		ncat += nf;
	}
	if (slen - pos < MLX_INPUTS_TARGET_MIN_SIZE)
		return fail(err, MLX_ECORRUPT,
					"inputs section ends before its target");
	if (body[pos] > 1)
		return fail(err, MLX_ECORRUPT,
					"inputs section target flag is %u, expected 0 or 1",
					(unsigned) body[pos]);
	if (body[pos] == 1)
	{
		uint16_t	tl;

		pos += MLX_INPUTS_TARGET_MIN_SIZE;
		if (slen - pos < 2 || (tl = mlx_get_u16(body + pos)) > slen - pos - 2)
			return fail(err, MLX_ECORRUPT,
						"target name runs past the end of the inputs section");
		if (!mlx_check_text(body + pos + 2, tl, 1, MLX_MODEL_MAX_NAME_LEN,
							"target name", err->buf, err->len))
			return MLX_ECORRUPT;
		strbytes += (size_t) tl + 1;
		pos += 2 + (size_t) tl;
	}
	else
		pos += MLX_INPUTS_TARGET_MIN_SIZE;
	if (pos != slen)
		return fail(err, MLX_ECORRUPT, "inputs section has %zu trailing bytes",
					(size_t) slen - pos);

	/* one block: struct, inputs, imputation values, category pointers, text */
	off_inputs = ALIGN8(sizeof(mlx_inputs));
	off_impute = ALIGN8(off_inputs + (size_t) n * sizeof(mlx_input));
	off_cats = ALIGN8(off_impute + nimpute * sizeof(double));
	off_str = off_cats + ncat * sizeof(char *);
	block = mlx_alloc(ctx, off_str + strbytes);
	if (block == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	in = (mlx_inputs *) block;
	in->ninputs = (int32_t) n;
	in->inputs = (mlx_input *) (block + off_inputs);
	in->target = NULL;
	imp = (double *) (block + off_impute);
	cats = (char **) (block + off_cats);
	str = (char *) (block + off_str);

	/* pass 2: fill, the framing being known good */
	pos = MLX_INPUTS_COUNT_SIZE;
	for (i = 0; i < n; i++)
	{
		mlx_input  *x = &in->inputs[i];
		uint16_t	nl = mlx_get_u16(body + pos);

		memcpy(str, body + pos + 2, nl);
		str[nl] = '\0';
		x->name = str;
		str += (size_t) nl + 1;
		pos += 2 + (size_t) nl;
		x->kind = body[pos];
		x->nfeat = (int32_t) mlx_get_u32(body + pos + 2);
		x->impute = NULL;
		x->categories = NULL;
		pos += MLX_INPUT_FIXED_SIZE - 2;
		if (x->kind != MLX_INPUT_CATEGORICAL)
		{
			x->impute = imp;
			for (j = 0; j < (uint32_t) x->nfeat; j++)
				imp[j] = mlx_get_f64(body + pos + 8 * (size_t) j);
			imp += x->nfeat;
			pos += 8 * (size_t) x->nfeat;
			continue;
		}
		x->categories = cats;
		for (j = 0; j < (uint32_t) x->nfeat; j++)
		{
			uint16_t	cl = mlx_get_u16(body + pos + 1);

			if (body[pos] == 1)
				cats[j] = NULL;
			else
			{
				memcpy(str, body + pos + MLX_CATEGORY_FIXED_SIZE, cl);
				str[cl] = '\0';
				cats[j] = str;
				str += (size_t) cl + 1;
			}
			pos += MLX_CATEGORY_FIXED_SIZE + (size_t) cl;
		}
		cats += x->nfeat;
	}
	in->target_kind = body[pos + 1];
	if (body[pos] == 1)
	{
		uint16_t	tl = mlx_get_u16(body + pos + 2);

		memcpy(str, body + pos + 4, tl);
		str[tl] = '\0';
		in->target = str;
	}
	out->inputs = in;

	st = mlx_check_inputs(in, k, mlx_algorithm_keeps_missing(out->algorithm),
						  ctx, NULL, err->buf, err->len);
	return st;
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

/* Allocate and copy a label of len bytes as a C string. */
static char *
read_label(const uint8_t *p, size_t len, const mlx_ctx *ctx)
{
	char	   *s = mlx_alloc(ctx, len + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/*
 * Check a list of n class labels (each a u16 length and its text) at
 * labels, within avail bytes: every label inside them and its text valid
 * UTF-8 of minlen..maxlen bytes.  *used is the bytes the list takes.
 * family names the model in messages ("naive bayes class label 3 runs
 * past the end of its section").
 */
static bool
scan_labels(const uint8_t *labels, uint64_t avail, uint32_t n, size_t minlen,
			size_t maxlen, const char *family, uint64_t *used,
			decode_err *err)
{
	uint64_t	pos = 0;

	for (uint32_t c = 0; c < n; c++)
	{
		char		what[64];
		uint16_t	len;

		if (avail - pos < 2)
		{
			fail(err, MLX_ECORRUPT, "%s class label %u runs past the end of its section",
				 family, (unsigned) c + 1);
			return false;
		}
		len = mlx_get_u16(labels + pos);
		if ((uint64_t) len > avail - pos - 2)
		{
			fail(err, MLX_ECORRUPT, "%s class label %u runs past the end of its section",
				 family, (unsigned) c + 1);
			return false;
		}
		snprintf(what, sizeof(what), "%s class label %u", family, (unsigned) c + 1);
		if (!mlx_check_text(labels + pos + 2, len, minlen, maxlen, what,
							err->buf, err->len))
			return false;
		pos += 2 + (uint64_t) len;
	}
	*used = pos;
	return true;
}

/*
 * Copy n labels checked by scan_labels into *classes, a zeroed array of n
 * C strings (so that a failure part way leaves only labels to free).
 * Returns the position after the list, or NULL when out of memory.
 */
static const uint8_t *
read_labels(const uint8_t *p, uint32_t n, const mlx_ctx *ctx, char ***classes)
{
	*classes = mlx_alloc0(ctx, (size_t) n * sizeof(char *));
	if (*classes == NULL)
		return NULL;
	for (uint32_t c = 0; c < n; c++)
	{
		uint16_t	len = mlx_get_u16(p);

		(*classes)[c] = read_label(p + 2, len, ctx);
		if ((*classes)[c] == NULL)
			return NULL;
		p += 2 + (size_t) len;
	}
	return p;
}

/*
 * Parse MLX_SEC_LOGREG into out->u.logreg.  The two class labels at the end
 * are framed by their u16 lengths, each checked against the bytes left, and
 * the section's length must be exactly what k and those lengths imply; the
 * field values are then checked by mlx_check_logreg_fit, as the encoder
 * does.
 */
static mlx_status
decode_logreg(const uint8_t *body, uint32_t slen, int32_t k,
			  const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_logreg_fit *fit = &out->u.logreg;
	uint64_t	min_size = mlx_logreg_section_size(k, 0, 0);
	uint64_t	arrays_at = MLX_LOGREG_FIXED_SIZE;
	uint64_t	labels_at;
	uint16_t	len0;
	uint16_t	len1;
	int32_t		n = k + 1;
	const uint8_t *p;

	if (slen < min_size)
		return fail(err, MLX_ECORRUPT,
					"logistic regression section has %u bytes, expected at least %llu for %d features",
					(unsigned) slen, (unsigned long long) min_size, (int) k);
	labels_at = arrays_at + (uint64_t) MLX_LOGREG_ARRAYS * 8 * (uint64_t) n;
	len0 = mlx_get_u16(body + labels_at);
	if ((uint64_t) len0 > slen - min_size)
		return fail(err, MLX_ECORRUPT,
					"logistic regression class label 0 runs past the end of its section");
	len1 = mlx_get_u16(body + labels_at + 2 + len0);
	if (slen != mlx_logreg_section_size(k, len0, len1))
		return fail(err, MLX_ECORRUPT,
					"logistic regression section has %u bytes, expected %llu for %d features and class labels of %u and %u bytes",
					(unsigned) slen,
					(unsigned long long) mlx_logreg_section_size(k, len0, len1),
					(int) k, (unsigned) len0, (unsigned) len1);
	if ((body[0] & ~MLX_LOGREG_FLAGS_KNOWN) != 0)
		return fail(err, MLX_ECORRUPT,
					"logistic regression flags 0x%02x are not defined",
					(unsigned) body[0]);
	if (body[1] != 0 || body[2] != 0 || body[3] != 0)
		return fail(err, MLX_ECORRUPT,
					"logistic regression section reserved bytes are not zero");
	if (!mlx_check_text(body + labels_at + 2, len0, 1, MLX_MODEL_MAX_NAME_LEN,
						"class label 0", err->buf, err->len) ||
		!mlx_check_text(body + labels_at + 4 + len0, len1, 1,
						MLX_MODEL_MAX_NAME_LEN, "class label 1",
						err->buf, err->len))
		return MLX_ECORRUPT;

	fit->nfeat = k;
	fit->intercept = (body[0] & MLX_LOGREG_FLAG_INTERCEPT) != 0;
	fit->converged = (body[0] & MLX_LOGREG_FLAG_CONVERGED) != 0;
	fit->separation = (body[0] & MLX_LOGREG_FLAG_SEPARATION) != 0;
	fit->iterations = (int32_t) mlx_get_u32(body + 4);
	fit->nrows = (int64_t) mlx_get_u64(body + 8);
	fit->nskipped = (int64_t) mlx_get_u64(body + 16);
	p = body + 24;
	fit->lambda = mlx_get_f64(p);
	fit->loglik = mlx_get_f64(p + 8);
	fit->loglik_null = mlx_get_f64(p + 16);
	fit->deviance = mlx_get_f64(p + 24);
	fit->class_weight[0] = mlx_get_f64(p + 32);
	fit->class_weight[1] = mlx_get_f64(p + 40);

	p = body + arrays_at;
	if ((fit->coef = read_f64_array(p, n, ctx)) == NULL ||
		(fit->se = read_f64_array(p + 8 * (size_t) n, n, ctx)) == NULL ||
		(fit->zval = read_f64_array(p + 16 * (size_t) n, n, ctx)) == NULL ||
		(fit->pval = read_f64_array(p + 24 * (size_t) n, n, ctx)) == NULL ||
		(fit->classes[0] = read_label(body + labels_at + 2, len0, ctx)) == NULL ||
		(fit->classes[1] = read_label(body + labels_at + 4 + len0, len1, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_logreg_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Parse MLX_SEC_ENET (lasso or elastic net, as the header's algorithm says)
 * into out->u.enet.  The section's length must be exactly what k implies;
 * the field values are then checked by mlx_check_enet_fit, as the encoder
 * does.
 */
static mlx_status
decode_enet(const uint8_t *body, uint32_t slen, int32_t k,
			const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_enet_fit *fit = &out->u.enet;
	const char *what = out->algorithm == MLX_ALG_LASSO ? "lasso" : "elastic net";
	const uint8_t *p;

	if (slen != mlx_enet_section_size(k))
		return fail(err, MLX_ECORRUPT,
					"%s section has %u bytes, expected %llu for %d features",
					what, (unsigned) slen,
					(unsigned long long) mlx_enet_section_size(k), (int) k);
	if ((body[0] & ~MLX_ENET_FLAGS_KNOWN) != 0)
		return fail(err, MLX_ECORRUPT, "%s flags 0x%02x are not defined",
					what, (unsigned) body[0]);
	if (body[1] != 0 || body[2] != 0 || body[3] != 0 ||
		mlx_get_u32(body + 28) != 0)
		return fail(err, MLX_ECORRUPT,
					"%s section reserved bytes are not zero", what);

	fit->nfeat = k;
	fit->intercept = (body[0] & MLX_ENET_FLAG_INTERCEPT) != 0;
	fit->converged = (body[0] & MLX_ENET_FLAG_CONVERGED) != 0;
	fit->iterations = (int32_t) mlx_get_u32(body + 4);
	fit->nrows = (int64_t) mlx_get_u64(body + 8);
	fit->nskipped = (int64_t) mlx_get_u64(body + 16);
	fit->nonzero = (int32_t) mlx_get_u32(body + 24);
	p = body + 32;
	fit->alpha = mlx_get_f64(p);
	fit->l1_ratio = mlx_get_f64(p + 8);
	fit->dual_gap = mlx_get_f64(p + 16);
	fit->r2 = mlx_get_f64(p + 24);

	fit->coef = read_f64_array(body + MLX_ENET_FIXED_SIZE, k + 1, ctx);
	if (fit->coef == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_enet_fit(fit, out->algorithm, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Parse MLX_SEC_PCA into out->u.pca.  The component count is checked
 * against k (1 to k) before it is used, and the section's length must then
 * be exactly what k and the count imply, so every array allocated is backed
 * by section bytes.  The field values are then checked by mlx_check_pca_fit,
 * as the encoder does.
 */
static mlx_status
decode_pca(const uint8_t *body, uint32_t slen, int32_t k,
		   const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_pca_fit *fit = &out->u.pca;
	uint32_t	nc;
	size_t		ncomp_k;
	const uint8_t *p;

	if (slen < mlx_pca_section_size(k, 1))
		return fail(err, MLX_ECORRUPT,
					"pca section has %u bytes, expected at least %llu for %d features",
					(unsigned) slen,
					(unsigned long long) mlx_pca_section_size(k, 1), (int) k);
	nc = mlx_get_u32(body);
	if (nc < 1 || nc > (uint32_t) k)
		return fail(err, MLX_ECORRUPT,
					"pca component count %u is outside 1 to %d",
					(unsigned) nc, (int) k);
	if (slen != mlx_pca_section_size(k, nc))
		return fail(err, MLX_ECORRUPT,
					"pca section has %u bytes, expected %llu for %d features and %u components",
					(unsigned) slen,
					(unsigned long long) mlx_pca_section_size(k, nc), (int) k,
					(unsigned) nc);
	if (mlx_get_u32(body + 4) != 0)
		return fail(err, MLX_ECORRUPT,
					"pca section reserved bytes are not zero");

	fit->nfeat = k;
	fit->ncomp = (int32_t) nc;
	fit->nrows = (int64_t) mlx_get_u64(body + 8);
	fit->nskipped = (int64_t) mlx_get_u64(body + 16);
	fit->total_variance = mlx_get_f64(body + 24);

	/* nc * k doubles fit in the section, so in an int32 too */
	ncomp_k = (size_t) nc * (size_t) k;
	p = body + MLX_PCA_FIXED_SIZE;
	if ((fit->mean = read_f64_array(p, k, ctx)) == NULL ||
		(fit->components = read_f64_array(p + 8 * (size_t) k,
										  (int32_t) ncomp_k, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	p += 8 * ((size_t) k + ncomp_k);
	if ((fit->explained_variance = read_f64_array(p, (int32_t) nc, ctx)) == NULL ||
		(fit->explained_variance_ratio =
		 read_f64_array(p + 8 * (size_t) nc, (int32_t) nc, ctx)) == NULL ||
		(fit->singular_values =
		 read_f64_array(p + 16 * (size_t) nc, (int32_t) nc, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_pca_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Parse MLX_SEC_POISSON into out->u.poisson.  The section's length must be
 * exactly what k implies; the field values are then checked by
 * mlx_check_poisson_fit, as the encoder does.
 */
static mlx_status
decode_poisson(const uint8_t *body, uint32_t slen, int32_t k,
			   const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_poisson_fit *fit = &out->u.poisson;
	int32_t		n = k + 1;
	const uint8_t *p;

	if (slen != mlx_poisson_section_size(k))
		return fail(err, MLX_ECORRUPT,
					"poisson regression section has %u bytes, expected %llu for %d features",
					(unsigned) slen,
					(unsigned long long) mlx_poisson_section_size(k), (int) k);
	if ((body[0] & ~MLX_POISSON_FLAGS_KNOWN) != 0)
		return fail(err, MLX_ECORRUPT,
					"poisson regression flags 0x%02x are not defined",
					(unsigned) body[0]);
	if (body[1] != 0 || body[2] != 0 || body[3] != 0)
		return fail(err, MLX_ECORRUPT,
					"poisson regression section reserved bytes are not zero");

	fit->nfeat = k;
	fit->intercept = (body[0] & MLX_POISSON_FLAG_INTERCEPT) != 0;
	fit->converged = (body[0] & MLX_POISSON_FLAG_CONVERGED) != 0;
	fit->iterations = (int32_t) mlx_get_u32(body + 4);
	fit->nrows = (int64_t) mlx_get_u64(body + 8);
	fit->nskipped = (int64_t) mlx_get_u64(body + 16);
	fit->lambda = mlx_get_f64(body + 24);
	fit->loglik = mlx_get_f64(body + 32);
	fit->loglik_null = mlx_get_f64(body + 40);
	fit->deviance = mlx_get_f64(body + 48);
	fit->null_deviance = mlx_get_f64(body + 56);

	p = body + MLX_POISSON_FIXED_SIZE;
	if ((fit->coef = read_f64_array(p, n, ctx)) == NULL ||
		(fit->se = read_f64_array(p + 8 * (size_t) n, n, ctx)) == NULL ||
		(fit->zval = read_f64_array(p + 16 * (size_t) n, n, ctx)) == NULL ||
		(fit->pval = read_f64_array(p + 24 * (size_t) n, n, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_poisson_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Parse MLX_SEC_KMEANS into out->u.kmeans.  The cluster count is checked
 * against the k-means limits (1 to MLX_KMEANS_MAX_K clusters, at most
 * MLX_KMEANS_MAX_CELLS centroid values) before it is used, and the
 * section's length must then be exactly what k and the count imply, so
 * every array allocated is backed by section bytes.  The field values are
 * then checked by mlx_check_kmeans_fit, as the encoder does.
 */
static mlx_status
decode_kmeans(const uint8_t *body, uint32_t slen, int32_t k,
			  const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_kmeans_fit *fit = &out->u.kmeans;
	uint32_t	nc;
	size_t		cells;
	const uint8_t *p;
	uint32_t	c;

	if (slen < mlx_kmeans_section_size(k, 1))
		return fail(err, MLX_ECORRUPT,
					"kmeans section has %u bytes, expected at least %llu for %d features",
					(unsigned) slen,
					(unsigned long long) mlx_kmeans_section_size(k, 1), (int) k);
	nc = mlx_get_u32(body);
	if (!mlx_check_kmeans_shape((int64_t) nc, k, err->buf, err->len))
		return MLX_ECORRUPT;
	if (slen != mlx_kmeans_section_size(k, nc))
		return fail(err, MLX_ECORRUPT,
					"kmeans section has %u bytes, expected %llu for %d features and %u clusters",
					(unsigned) slen,
					(unsigned long long) mlx_kmeans_section_size(k, nc), (int) k,
					(unsigned) nc);
	if ((body[4] & ~MLX_KMEANS_FLAGS_KNOWN) != 0)
		return fail(err, MLX_ECORRUPT, "kmeans flags 0x%02x are not defined",
					(unsigned) body[4]);
	if (body[5] != 0 || body[6] != 0 || body[7] != 0)
		return fail(err, MLX_ECORRUPT,
					"kmeans section reserved bytes are not zero");

	fit->nfeat = k;
	fit->k = (int32_t) nc;
	fit->converged = (body[4] & MLX_KMEANS_FLAG_CONVERGED) != 0;
	fit->iterations = (int32_t) mlx_get_u32(body + 8);
	fit->n_init = (int32_t) mlx_get_u32(body + 12);
	fit->nrows = (int64_t) mlx_get_u64(body + 16);
	fit->nskipped = (int64_t) mlx_get_u64(body + 24);
	fit->seed = mlx_get_u64(body + 32);
	fit->inertia = mlx_get_f64(body + 40);

	/* nc * k <= MLX_KMEANS_MAX_CELLS, so it fits in an int32 */
	cells = (size_t) nc * (size_t) k;
	p = body + MLX_KMEANS_FIXED_SIZE;
	if ((fit->centroids = read_f64_array(p, (int32_t) cells, ctx)) == NULL ||
		(fit->sizes = mlx_alloc(ctx, (size_t) nc * sizeof(int64_t))) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	p += 8 * cells;
	for (c = 0; c < nc; c++)
		fit->sizes[c] = (int64_t) mlx_get_u64(p + 8 * (size_t) c);

	if (!mlx_check_kmeans_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Parse MLX_SEC_NBAYES into out->u.nbayes.  In order, before anything is
 * allocated: the fixed part is present, the distribution known, the
 * reserved bytes zero, the class count within the naive Bayes limits, the
 * section long enough for that many 1-byte labels and the arrays, each
 * label's u16 length within the bytes left for labels and its text valid,
 * and finally the section's length exactly what k, the count, the labels
 * and the distribution imply.  So every allocation (the label pointers,
 * one copy per label, the arrays) is backed by bytes of the section.  The
 * field values are then checked by mlx_check_nbayes_fit, as the encoder
 * does.
 */
static mlx_status
decode_nbayes(const uint8_t *body, uint32_t slen, int32_t k,
			  const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_nb_fit *fit = &out->u.nbayes;
	int			dist;
	uint32_t	nc;
	uint64_t	arrays;
	uint64_t	avail;
	uint64_t	pos;
	uint64_t	want;
	size_t		cells;
	const uint8_t *labels = body + MLX_NBAYES_FIXED_SIZE;
	const uint8_t *p;
	uint32_t	c;

	if (slen < MLX_NBAYES_FIXED_SIZE)
		return fail(err, MLX_ECORRUPT,
					"naive bayes section has %u bytes, expected at least %d",
					(unsigned) slen, MLX_NBAYES_FIXED_SIZE);
	dist = body[0];
	if (dist != MLX_NB_GAUSSIAN && dist != MLX_NB_MULTINOMIAL)
		return fail(err, MLX_ECORRUPT,
					"naive bayes distribution %d is not known", dist);
	if (body[1] != 0 || body[2] != 0 || body[3] != 0)
		return fail(err, MLX_ECORRUPT,
					"naive bayes section reserved bytes are not zero");
	nc = mlx_get_u32(body + 4);
	if (!mlx_check_nbayes_shape((int64_t) nc, k, err->buf, err->len))
		return MLX_ECORRUPT;
	want = mlx_nbayes_section_size(k, nc,
								   (uint64_t) nc * MLX_NBAYES_LABEL_MIN_SIZE,
								   dist);
	if (slen < want)
		return fail(err, MLX_ECORRUPT,
					"naive bayes section has %u bytes, expected at least %llu for %d features and %u classes",
					(unsigned) slen, (unsigned long long) want, (int) k,
					(unsigned) nc);

	/* the labels may use what the fixed part and the arrays leave */
	arrays = mlx_nbayes_section_size(k, nc, 0, dist) - MLX_NBAYES_FIXED_SIZE;
	avail = (uint64_t) slen - MLX_NBAYES_FIXED_SIZE - arrays;
	if (!scan_labels(labels, avail, nc, 1, MLX_MODEL_MAX_NAME_LEN,
					 "naive bayes", &pos, err))
		return MLX_ECORRUPT;
	want = mlx_nbayes_section_size(k, nc, pos, dist);
	if (slen != want)
		return fail(err, MLX_ECORRUPT,
					"naive bayes section has %u bytes, expected %llu for %d features, %u classes and %llu bytes of labels",
					(unsigned) slen, (unsigned long long) want, (int) k,
					(unsigned) nc, (unsigned long long) pos);

	fit->distribution = dist;
	fit->nclasses = (int32_t) nc;
	fit->nfeat = k;
	fit->nrows = (int64_t) mlx_get_u64(body + 8);
	fit->nskipped = (int64_t) mlx_get_u64(body + 16);
	fit->var_smoothing = mlx_get_f64(body + 24);
	fit->alpha = mlx_get_f64(body + 32);
	fit->epsilon = mlx_get_f64(body + 40);

	if ((p = read_labels(labels, nc, ctx, &fit->classes)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	/* nc * k <= MLX_NBAYES_MAX_CELLS, so it fits in an int32 */
	cells = (size_t) nc * (size_t) k;
	fit->class_count = mlx_alloc(ctx, (size_t) nc * sizeof(int64_t));
	if (fit->class_count == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	for (c = 0; c < nc; c++)
		fit->class_count[c] = (int64_t) mlx_get_u64(p + 8 * (size_t) c);
	p += 8 * (size_t) nc;
	if ((fit->class_log_prior = read_f64_array(p, (int32_t) nc, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	p += 8 * (size_t) nc;
	if (dist == MLX_NB_GAUSSIAN)
	{
		if ((fit->theta = read_f64_array(p, (int32_t) cells, ctx)) == NULL ||
			(fit->var = read_f64_array(p + 8 * cells, (int32_t) cells, ctx)) == NULL)
			return fail(err, MLX_ENOMEM, "out of memory decoding model");
	}
	else if ((fit->feature_log_prob = read_f64_array(p, (int32_t) cells, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_nbayes_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/*
 * Parse MLX_SEC_SOFTMAX into out->u.softmax.  In order, before anything is
 * allocated: the fixed part is present, the flags known, the reserved
 * field zero, the class count within the limits, the section long enough
 * for the arrays and that many empty labels, each label's u16 length
 * within the bytes left after the arrays and its text valid, and finally
 * the section's length exactly what k, the count and the labels imply.  So
 * every allocation (the coefficients, the class weights, the label
 * pointers, one copy per label) is backed by bytes of the section.  The
 * field values are then checked by mlx_check_softmax_fit, as the encoder
 * does.
 */
static mlx_status
decode_softmax(const uint8_t *body, uint32_t slen, int32_t k,
			   const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_softmax_fit *fit = &out->u.softmax;
	uint32_t	nc;
	uint64_t	labels_at;
	uint64_t	avail;
	uint64_t	pos;
	uint64_t	want;
	size_t		cells;
	const uint8_t *p;

	if (slen < MLX_SOFTMAX_FIXED_SIZE)
		return fail(err, MLX_ECORRUPT,
					"multinomial logistic regression section has %u bytes, expected at least %d",
					(unsigned) slen, MLX_SOFTMAX_FIXED_SIZE);
	if ((body[0] & ~MLX_SOFTMAX_FLAGS_KNOWN) != 0)
		return fail(err, MLX_ECORRUPT,
					"multinomial logistic regression flags 0x%02x are not defined",
					(unsigned) body[0]);
	if (mlx_get_u16(body + 2) != 0)
		return fail(err, MLX_ECORRUPT,
					"multinomial logistic regression section reserved bytes are not zero");
	nc = mlx_get_u32(body + 4);
	if (!mlx_check_softmax_shape((int64_t) nc, err->buf, err->len))
		return MLX_ECORRUPT;
	want = mlx_softmax_section_size(k, nc,
									(uint64_t) nc * MLX_SOFTMAX_LABEL_MIN_SIZE);
	if (slen < want)
		return fail(err, MLX_ECORRUPT,
					"multinomial logistic regression section has %u bytes, expected at least %llu for %d features and %u classes",
					(unsigned) slen, (unsigned long long) want, (int) k,
					(unsigned) nc);

	/* the labels fill what the fixed part and the arrays leave */
	labels_at = mlx_softmax_section_size(k, nc, 0);
	avail = (uint64_t) slen - labels_at;
	if (!scan_labels(body + labels_at, avail, nc, 0, MLX_MODEL_MAX_CATEGORY_LEN,
					 "multinomial logistic regression", &pos, err))
		return MLX_ECORRUPT;
	if (pos != avail)
		return fail(err, MLX_ECORRUPT,
					"multinomial logistic regression section has %u bytes, expected %llu for %d features, %u classes and %llu bytes of labels",
					(unsigned) slen,
					(unsigned long long) mlx_softmax_section_size(k, nc, pos),
					(int) k, (unsigned) nc, (unsigned long long) pos);

	fit->nfeat = k;
	fit->nclasses = (int32_t) nc;
	fit->intercept = (body[0] & MLX_SOFTMAX_FLAG_INTERCEPT) != 0;
	fit->converged = (body[0] & MLX_SOFTMAX_FLAG_CONVERGED) != 0;
	fit->separation = (body[0] & MLX_SOFTMAX_FLAG_SEPARATION) != 0;
	fit->solver = body[1];
	fit->iterations = (int32_t) mlx_get_u32(body + 8);
	fit->passes = (int32_t) mlx_get_u32(body + 12);
	fit->nrows = (int64_t) mlx_get_u64(body + 16);
	fit->nskipped = (int64_t) mlx_get_u64(body + 24);
	fit->lambda = mlx_get_f64(body + 32);
	fit->loglik = mlx_get_f64(body + 40);
	fit->loglik_null = mlx_get_f64(body + 48);

	/*
	 * nc * (k + 1) doubles are in the section (checked above), so the count
	 * is below 2^29 and fits in an int32
	 */
	cells = (size_t) nc * ((size_t) k + 1);
	p = body + MLX_SOFTMAX_FIXED_SIZE;
	if ((fit->coef = read_f64_array(p, (int32_t) cells, ctx)) == NULL ||
		(fit->class_weight = read_f64_array(p + 8 * cells, (int32_t) nc,
											ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (read_labels(body + labels_at, nc, ctx, &fit->classes) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_softmax_fit(fit, k, err->buf, err->len))
		return MLX_ECORRUPT;
	return MLX_OK;
}

/* Allocate n 32-bit integers and read them from p. */
static int32_t *
read_i32_array(const uint8_t *p, size_t n, const mlx_ctx *ctx)
{
	int32_t    *a = mlx_alloc(ctx, n * sizeof(int32_t));
	size_t		i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		a[i] = (int32_t) mlx_get_u32(p + 4 * i);
	return a;
}

/*
 * Parse MLX_SEC_TREE into out->u.tree.  In order, before anything is
 * allocated: the fixed part is present, the kind that of the header's
 * algorithm, the objective known, the reserved bytes zero, every count
 * within its limit (so that the sizes below are exact), the section long
 * enough for the arrays and nclasses empty labels, each label's u16 length
 * within the bytes left after the arrays and its text valid, and finally
 * the section's length exactly what the counts and the labels imply.  So
 * every allocation is backed by bytes of the section.  How the counts fit
 * together, the tree starts, the nodes (children, one parent each), the
 * values and the labels are then checked by mlx_check_tree_fit, as the
 * encoder does.
 */
static mlx_status
decode_tree(const uint8_t *body, uint32_t slen, int32_t k,
			const mlx_ctx *ctx, mlx_model *out, decode_err *err)
{
	mlx_tree_fit *fit = &out->u.tree;
	const char *what = mlx_tree_family(out->algorithm);
	uint32_t	nc;
	uint32_t	ng;
	uint32_t	lw;
	uint32_t	nt;
	uint32_t	nn;
	uint64_t	labels_at;
	uint64_t	avail;
	uint64_t	pos;
	uint64_t	want;
	const uint8_t *p;

	if (slen < MLX_TREE_FIXED_SIZE)
		return fail(err, MLX_ECORRUPT,
					"%s section has %u bytes, expected at least %d",
					what, (unsigned) slen, MLX_TREE_FIXED_SIZE);
	if (mlx_tree_algorithm(body[0]) != out->algorithm)
		return fail(err, MLX_ECORRUPT,
					"tree model kind %u does not match its algorithm %s",
					(unsigned) body[0], mlx_algorithm_name(out->algorithm));
	if (body[1] < MLX_TREE_REGRESSION || body[1] > MLX_TREE_MULTICLASS)
		return fail(err, MLX_ECORRUPT, "%s objective %u is not known",
					what, (unsigned) body[1]);
	if (mlx_get_u16(body + 2) != 0)
		return fail(err, MLX_ECORRUPT,
					"%s section reserved bytes are not zero", what);
	nc = mlx_get_u32(body + 4);
	ng = mlx_get_u32(body + 8);
	lw = mlx_get_u32(body + 12);
	nt = mlx_get_u32(body + 16);
	nn = mlx_get_u32(body + 20);
	if (nc > MLX_TREE_MAX_CLASSES || ng < 1 || ng > MLX_TREE_MAX_CLASSES ||
		lw < 1 || lw > MLX_TREE_MAX_CLASSES || nt > MLX_TREE_MAX_TREES ||
		nn > MLX_TREE_MAX_NODES)
		return fail(err, MLX_ECORRUPT,
					"%s counts are out of range (%u classes, %u groups, %u values per leaf, %u trees, %u nodes)",
					what, (unsigned) nc, (unsigned) ng, (unsigned) lw,
					(unsigned) nt, (unsigned) nn);
	want = mlx_tree_section_size(ng, nt, nn, lw,
								 (uint64_t) nc * MLX_TREE_LABEL_MIN_SIZE);
	if (slen < want)
		return fail(err, MLX_ECORRUPT,
					"%s section has %u bytes, expected at least %llu for %u trees of %u nodes in all, %u values per leaf and %u classes",
					what, (unsigned) slen, (unsigned long long) want,
					(unsigned) nt, (unsigned) nn, (unsigned) lw,
					(unsigned) nc);

	/* the labels fill what the fixed part and the arrays leave */
	labels_at = mlx_tree_section_size(ng, nt, nn, lw, 0);
	avail = (uint64_t) slen - labels_at;
	if (!scan_labels(body + labels_at, avail, nc, 0, MLX_MODEL_MAX_CATEGORY_LEN,
					 what, &pos, err))
		return MLX_ECORRUPT;
	if (pos != avail)
		return fail(err, MLX_ECORRUPT,
					"%s section has %u bytes, expected %llu for %u trees of %u nodes in all, %u values per leaf, %u classes and %llu bytes of labels",
					what, (unsigned) slen,
					(unsigned long long) mlx_tree_section_size(ng, nt, nn, lw, pos),
					(unsigned) nt, (unsigned) nn, (unsigned) lw,
					(unsigned) nc, (unsigned long long) pos);

	fit->kind = body[0];
	fit->objective = body[1];
	fit->nfeat = k;
	fit->nclasses = (int32_t) nc;
	fit->ngroups = (int32_t) ng;
	fit->leaf_width = (int32_t) lw;
	fit->ntrees = (int32_t) nt;
	fit->nnodes = (int32_t) nn;
	fit->nrows = (int64_t) mlx_get_u64(body + 24);
	fit->nskipped = (int64_t) mlx_get_u64(body + 32);
	fit->best_iteration = (int32_t) mlx_get_u32(body + 40);
	fit->max_depth = (int32_t) mlx_get_u32(body + 44);
	fit->max_features = (int32_t) mlx_get_u32(body + 48);
	fit->max_bins = (int32_t) mlx_get_u32(body + 52);
	fit->learning_rate = mlx_get_f64(body + 56);
	fit->lambda = mlx_get_f64(body + 64);
	fit->min_child_weight = mlx_get_f64(body + 72);
	fit->subsample = mlx_get_f64(body + 80);
	fit->colsample = mlx_get_f64(body + 88);

	/*
	 * Every array is in the section (checked above), so each count of
	 * doubles is below 2^29 and fits in an int32.
	 */
	p = body + MLX_TREE_FIXED_SIZE;
	if ((fit->base_score = read_f64_array(p, (int32_t) ng, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	p += 8 * (size_t) ng;
	if ((fit->tree_start = read_i32_array(p, (size_t) nt + 1, ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	p += 4 * ((size_t) nt + 1);
	if ((fit->feature = read_i32_array(p, nn, ctx)) == NULL ||
		(fit->threshold = read_f64_array(p + 4 * (size_t) nn, (int32_t) nn,
										 ctx)) == NULL ||
		(fit->left = read_i32_array(p + 12 * (size_t) nn, nn, ctx)) == NULL ||
		(fit->right = read_i32_array(p + 16 * (size_t) nn, nn, ctx)) == NULL ||
		(fit->default_left = mlx_alloc(ctx, nn)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	p += 20 * (size_t) nn;
	memcpy(fit->default_left, p, nn);
	p += nn;
	if ((fit->gain = read_f64_array(p, (int32_t) nn, ctx)) == NULL ||
		(fit->cover = read_f64_array(p + 8 * (size_t) nn, (int32_t) nn,
									 ctx)) == NULL ||
		(fit->value = read_f64_array(p + 16 * (size_t) nn,
									 (int32_t) ((size_t) nn * lw), ctx)) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
	if (nc > 0 && read_labels(body + labels_at, nc, ctx, &fit->classes) == NULL)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");

	if (!mlx_check_tree_fit(fit, out->algorithm, k, err->buf, err->len))
		return MLX_ECORRUPT;
	/* the scoring form (children side by side) */
	if (mlx_tree_pack(fit, ctx) != MLX_OK)
		return fail(err, MLX_ENOMEM, "out of memory decoding model");
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

/*
 * Section tags the decoder knows, by slot.  The feature names are always
 * required, the inputs optional, and of the algorithm sections exactly the
 * one of the header's algorithm is required and any other is an error.
 */
#define SLOT_FEATURES 0
#define SLOT_LINREG 1
#define SLOT_INPUTS 2
#define SLOT_LOGREG 3
#define SLOT_ENET 4
#define SLOT_PCA 5
#define SLOT_POISSON 6
#define SLOT_KMEANS 7
#define SLOT_NBAYES 8
#define SLOT_SOFTMAX 9
#define SLOT_TREE 10
#define KNOWN_SECTIONS 11

static const uint16_t known_tags[KNOWN_SECTIONS] = {MLX_SEC_FEATURES,
MLX_SEC_LINREG, MLX_SEC_INPUTS, MLX_SEC_LOGREG, MLX_SEC_ENET, MLX_SEC_PCA,
MLX_SEC_POISSON, MLX_SEC_KMEANS, MLX_SEC_NBAYES, MLX_SEC_SOFTMAX,
MLX_SEC_TREE};
static const char *const known_names[KNOWN_SECTIONS] = {"feature names",
"linear regression", "inputs", "logistic regression", "lasso/elastic net",
"pca", "poisson regression", "kmeans", "naive bayes",
"multinomial logistic regression", "tree ensemble"};

/* The slot of the section an algorithm requires (algorithm known). */
static int
algorithm_slot(uint16_t algorithm)
{
	switch (algorithm)
	{
		case MLX_ALG_LOGISTIC_REGRESSION:
			return SLOT_LOGREG;
		case MLX_ALG_LASSO:
		case MLX_ALG_ELASTIC_NET:
			return SLOT_ENET;
		case MLX_ALG_PCA:
			return SLOT_PCA;
		case MLX_ALG_POISSON_REGRESSION:
			return SLOT_POISSON;
		case MLX_ALG_KMEANS:
			return SLOT_KMEANS;
		case MLX_ALG_NAIVE_BAYES:
			return SLOT_NBAYES;
		case MLX_ALG_SOFTMAX_REGRESSION:
			return SLOT_SOFTMAX;
		case MLX_ALG_DECISION_TREE:
		case MLX_ALG_RANDOM_FOREST:
		case MLX_ALG_GRADIENT_BOOSTING:
			return SLOT_TREE;
	}
	return SLOT_LINREG;
}

/* True for the slots of algorithm sections. */
static bool
is_fit_slot(int s)
{
	return s == SLOT_LINREG || s == SLOT_LOGREG || s == SLOT_ENET ||
		s == SLOT_PCA || s == SLOT_POISSON || s == SLOT_KMEANS ||
		s == SLOT_NBAYES || s == SLOT_SOFTMAX || s == SLOT_TREE;
}

mlx_status
mlx_model_decode(const uint8_t *buf, size_t len, const mlx_ctx *ctx,
				 mlx_model *out, char *errbuf, size_t errlen)
{
	decode_err	err = {errbuf, errlen};
	const uint8_t *sec_body[KNOWN_SECTIONS] = {NULL};
	uint32_t	sec_len[KNOWN_SECTIONS] = {0};
	int			fit_slot;
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

	/* find the sections, by slot (SLOT_*) */
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
			else
			{
				for (s = 0; s < KNOWN_SECTIONS && known_tags[s] != tag; s++)
					;
				if (s < KNOWN_SECTIONS)
				{
					if (sec_body[s] != NULL)
						st = fail(&err, MLX_ECORRUPT,
								  "model has more than one %s section",
								  known_names[s]);
					sec_body[s] = buf + pos + MLX_SECTION_HEADER_SIZE;
					sec_len[s] = slen;
				}
				else if (tag < MLX_SEC_OPTIONAL_BASE)
					st = fail(&err, MLX_ECORRUPT,
							  "model has an unknown required section %u",
							  (unsigned) tag);
				/* else an optional section of a later version: skip it */
			}
		}
		if (st != MLX_OK)
		{
			memset(out, 0, sizeof(*out));
			return st;
		}
		pos += MLX_SECTION_HEADER_SIZE + (size_t) slen;
	}
	fit_slot = algorithm_slot(out->algorithm);
	for (s = 0; s < KNOWN_SECTIONS; s++)
	{
		if (is_fit_slot(s) && s != fit_slot && sec_body[s] != NULL)
		{
			st = fail(&err, MLX_ECORRUPT,
					  "model has a %s section but its algorithm is %s",
					  known_names[s], mlx_algorithm_name(out->algorithm));
			memset(out, 0, sizeof(*out));
			return st;
		}
		if ((s == SLOT_FEATURES || s == fit_slot) && sec_body[s] == NULL)
		{
			memset(out, 0, sizeof(*out));
			return fail(&err, MLX_ECORRUPT, "model has no %s section",
						known_names[s]);
		}
	}

	st = decode_features(sec_body[SLOT_FEATURES], sec_len[SLOT_FEATURES],
						 out->nfeat, ctx, out, &err);
	if (st == MLX_OK && sec_body[SLOT_INPUTS] != NULL)
		st = decode_inputs(sec_body[SLOT_INPUTS], sec_len[SLOT_INPUTS],
						   out->nfeat, ctx, out, &err);
	if (st == MLX_OK)
	{
		const uint8_t *body = sec_body[fit_slot];
		uint32_t	slen = sec_len[fit_slot];

		switch (fit_slot)
		{
			case SLOT_LOGREG:
				st = decode_logreg(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_ENET:
				st = decode_enet(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_PCA:
				st = decode_pca(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_POISSON:
				st = decode_poisson(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_KMEANS:
				st = decode_kmeans(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_NBAYES:
				st = decode_nbayes(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_SOFTMAX:
				st = decode_softmax(body, slen, out->nfeat, ctx, out, &err);
				break;
			case SLOT_TREE:
				st = decode_tree(body, slen, out->nfeat, ctx, out, &err);
				break;
			default:
				st = decode_linreg(body, slen, out->nfeat, ctx, out, &err);
				break;
		}
	}
	if (st != MLX_OK)
		mlx_model_free(out, ctx);
	return st;
}
