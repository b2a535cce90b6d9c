/*
 * test_model.c
 *	  Unit tests of the model format (src/model): checksum, round trips,
 *	  byte layout, rejection of damaged and hand-crafted values, JSON
 *	  description, and behaviour when the allocator fails.
 *
 * Standalone program: one line per case, "PASS name" or "FAIL name: why";
 * exits 1 when any case fails.  Meant to run under ASan/UBSan: every value
 * handed to the decoder sits in a buffer of exactly its length, so any read
 * beyond it is caught, and every allocation goes through a counting
 * context so leaks are caught even without LeakSanitizer.
 */
#include "model/model.h"

#define HARNESS_BOOL_CASES
#include "harness.h"

static counting counts = {0, 0, -1};
static const mlx_ctx tctx = {counting_alloc, counting_free, NULL, &counts};

/* ---------- sample models ---------- */

typedef struct sample
{
	mlx_linreg_fit fit;
	double		coef[4];
	double		se[4];
	double		tval[4];
	double		pval[4];
	int32_t		dep[3];
} sample;

/* UTF-8 and characters JSON must escape: alpha, bé"ta\, gamma + newline */
static char *sample_names[3] = {"alpha", "b\xc3\xa9\"ta\\", "\xce\xb3\n"};

/* k = 3, intercept, one dependent feature, some NaN and inf statistics */
static void
make_sample(sample *s)
{
	static const double coef[4] = {1.5, -2.25, 3.0, 0.0};
	static const double se[4] = {0.1, 0.2, 0.0, 0.0};
	static const double tval[4] = {15.0, -11.25, 0.0, 0.0};
	static const double pval[4] = {0.0, 1e-10, 0.0, 0.0};

	memset(s, 0, sizeof(*s));
	memcpy(s->coef, coef, sizeof(coef));
	memcpy(s->se, se, sizeof(se));
	memcpy(s->tval, tval, sizeof(tval));
	memcpy(s->pval, pval, sizeof(pval));
	s->se[2] = s->se[3] = NAN;
	s->tval[2] = NAN;
	s->tval[3] = INFINITY;
	s->pval[2] = s->pval[3] = NAN;
	s->dep[0] = 2;
	s->fit.nfeat = 3;
	s->fit.intercept = true;
	s->fit.lambda = 0.5;
	s->fit.nrows = 100;
	s->fit.nskipped = 2;
	s->fit.rank = 2;
	s->fit.df_resid = 97;
	s->fit.rss = 12.25;
	s->fit.tss = 100.5;
	s->fit.r2 = 0.878;
	s->fit.adj_r2 = NAN;
	s->fit.sigma = 0.355;
	s->fit.coef = s->coef;
	s->fit.se = s->se;
	s->fit.tval = s->tval;
	s->fit.pval = s->pval;
	s->fit.ndependent = 1;
	s->fit.dependent = s->dep;
}

/* Bitwise equality of doubles (NaN equals NaN, 0 differs from -0). */
static bool
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

/* Encode the sample model; the bytes come from tctx. */
static uint8_t *
encode_sample(size_t *len)
{
	sample		s;
	mlx_model	m;
	uint8_t    *out = NULL;

	make_sample(&s);
	if (mlx_model_from_linreg(&s.fit, sample_names, &tctx, &m) != MLX_OK)
		return NULL;
	if (mlx_model_encode(&m, &tctx, 0, &out, len) != MLX_OK)
		out = NULL;
	mlx_model_free_names(&m, &tctx);
	return out;
}

/*
 * Offsets in the sample encoding: header 24, features section header at
 * 24 (body 32, 21 bytes: 2+5, 2+7, 2+3), linreg section header at 53, body
 * at 61.  Linreg body: flag 0, rank 4, nrows 8, nskipped 16, lambda 24,
 * ... sigma 72, coef 80, se 112, tval 144, pval 176, ndep 208, dep 212.
 */
#define FEAT_HDR 24
#define FEAT_BODY 32
#define FEAT_LEN 21
#define LR_HDR 53
#define LR_BODY 61
#define LR_LEN 216
#define SAMPLE_LEN 281

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t) (v >> 32));
	put32(p + 4, (uint32_t) v);
}

static void
putf64(uint8_t *p, double d)
{
	uint64_t	u;

	memcpy(&u, &d, 8);
	put64(p, u);
}

/* Recompute the trailer CRC after editing a value. */
static void
reseal(uint8_t *buf, size_t len)
{
	put32(buf + len - 4, mlx_crc32c(0, buf, len - 4));
}

/*
 * Decode len bytes (copied to an exactly sized heap buffer, so ASan sees
 * any overread) and check the status and that the message contains 'msg'.
 * On success the model is freed; no allocation may remain either way.
 */
static bool
decode_expect(const uint8_t *bytes, size_t len, mlx_status want,
			  const char *msg)
{
	uint8_t    *copy = malloc(len ? len : 1);
	char		err[256];
	mlx_model	m;
	mlx_status	st;
	long		live = counts.live;

	if (len > 0)
		memcpy(copy, bytes, len);
	memset(err, 'x', sizeof(err));
	st = mlx_model_decode(copy, len, &tctx, &m, err, sizeof(err));
	free(copy);
	if (st == MLX_OK)
		mlx_model_free(&m, &tctx);
	EXPECT(st == want, "status %s, expected %s (%s)", mlx_status_str(st),
		   mlx_status_str(want), err);
	EXPECT(memchr(err, '\0', sizeof(err)) != NULL, "message not terminated");
	EXPECT(msg == NULL || strstr(err, msg) != NULL,
		   "message \"%s\" lacks \"%s\"", err, msg);
	EXPECT(st == MLX_OK || (m.feature_names == NULL && m.inputs == NULL),
		   "model not cleared");
	EXPECT(counts.live == live, "%ld allocations leaked", counts.live - live);
	return true;
}

/* A value builder for hand-made models with any set of sections. */
typedef struct builder
{
	uint8_t		b[8192];
	size_t		n;
} builder;

static void
b_header(builder *x, uint16_t alg, uint32_t k)
{
	memset(x->b, 0, 24);
	memcpy(x->b, "MLXM", 4);
	x->b[5] = 1;
	x->b[6] = (uint8_t) (alg >> 8);
	x->b[7] = (uint8_t) alg;
	put32(x->b + 12, k);
	x->n = 24;
}

static void
b_section(builder *x, uint16_t tag, const uint8_t *body, uint32_t len)
{
	x->b[x->n] = (uint8_t) (tag >> 8);
	x->b[x->n + 1] = (uint8_t) tag;
	x->b[x->n + 2] = x->b[x->n + 3] = 0;
	put32(x->b + x->n + 4, len);
	memcpy(x->b + x->n + 8, body, len);
	x->n += 8 + len;
}

static size_t
b_finish(builder *x)
{
	put32(x->b + 16, (uint32_t) (x->n - 24));
	x->n += 4;
	reseal(x->b, x->n);
	return x->n;
}

/* ---------- cases ---------- */

static bool
t_crc_vector(void)
{
	const char *s = "123456789";
	uint32_t	c;

	EXPECT(mlx_crc32c(0, s, 9) == 0xE3069283u, "got 0x%08x",
		   (unsigned) mlx_crc32c(0, s, 9));
	c = mlx_crc32c(0, s, 4);
	c = mlx_crc32c(c, s + 4, 5);
	EXPECT(c == 0xE3069283u, "chunked crc 0x%08x", (unsigned) c);
	EXPECT(mlx_crc32c(0, s, 0) == 0, "empty crc not 0");
	return true;
}

static bool
t_round_trip(void)
{
	sample		s;
	size_t		len;
	uint8_t    *buf = encode_sample(&len);
	mlx_model	m;
	char		err[256];
	int			i;
	mlx_status	st;

	make_sample(&s);
	EXPECT(buf != NULL, "encode failed");
	EXPECT(len == SAMPLE_LEN, "length %zu, expected %d", len, SAMPLE_LEN);
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	mlx_free(&tctx, buf);
	EXPECT(st == MLX_OK, "decode: %s", err);
	EXPECT(m.format_version == 1 && m.algorithm == MLX_ALG_LINEAR_REGRESSION &&
		   m.flags == 0 && m.nfeat == 3, "header fields differ");
	for (i = 0; i < 3; i++)
		EXPECT(strcmp(m.feature_names[i], sample_names[i]) == 0,
			   "name %d differs", i);
	EXPECT(m.u.linreg.nfeat == 3 && m.u.linreg.intercept &&
		   m.u.linreg.rank == 2 && m.u.linreg.nrows == 100 &&
		   m.u.linreg.nskipped == 2, "integer fields differ");
	EXPECT(same_double(m.u.linreg.lambda, s.fit.lambda) &&
		   same_double(m.u.linreg.df_resid, s.fit.df_resid) &&
		   same_double(m.u.linreg.rss, s.fit.rss) &&
		   same_double(m.u.linreg.tss, s.fit.tss) &&
		   same_double(m.u.linreg.r2, s.fit.r2) &&
		   same_double(m.u.linreg.adj_r2, s.fit.adj_r2) &&
		   same_double(m.u.linreg.sigma, s.fit.sigma), "statistics differ");
	for (i = 0; i < 4; i++)
		EXPECT(same_double(m.u.linreg.coef[i], s.coef[i]) &&
			   same_double(m.u.linreg.se[i], s.se[i]) &&
			   same_double(m.u.linreg.tval[i], s.tval[i]) &&
			   same_double(m.u.linreg.pval[i], s.pval[i]),
			   "array entry %d differs", i);
	EXPECT(m.u.linreg.ndependent == 1 && m.u.linreg.dependent[0] == 2,
		   "dependent features differ");
	mlx_model_free(&m, &tctx);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_default_names(void)
{
	sample		s;
	mlx_model	m;
	mlx_model	d;
	uint8_t    *buf;
	size_t		len;
	mlx_status	st;

	make_sample(&s);
	s.fit.ndependent = 0;
	s.fit.dependent = NULL;
	EXPECT(mlx_model_from_linreg(&s.fit, NULL, &tctx, &m) == MLX_OK,
		   "from_linreg failed");
	EXPECT(strcmp(m.feature_names[0], "x1") == 0 &&
		   strcmp(m.feature_names[2], "x3") == 0, "default names wrong");
	st = mlx_model_encode(&m, &tctx, 0, &buf, &len);
	mlx_model_free_names(&m, &tctx);
	EXPECT(st == MLX_OK, "encode failed");
	st = mlx_model_decode(buf, len, &tctx, &d, NULL, 0);
	mlx_free(&tctx, buf);
	EXPECT(st == MLX_OK, "decode failed");
	EXPECT(strcmp(d.feature_names[1], "x2") == 0 && d.u.linreg.ndependent == 0 &&
		   d.u.linreg.dependent == NULL, "decoded model differs");
	mlx_model_free(&d, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_deterministic_big_endian(void)
{
	sample		s;
	mlx_model	m;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0x00, 0xFD, 0, 0, 0, 0
	};
	static const uint8_t lambda_half[8] = {0x3F, 0xE0, 0, 0, 0, 0, 0, 0};
	uint32_t	crc;

	make_sample(&s);
	EXPECT(mlx_model_from_linreg(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "from_linreg");
	EXPECT(mlx_model_encode(&m, &tctx, 0, &a, &alen) == MLX_OK, "encode");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(alen == blen && memcmp(a, b + 4, alen) == 0,
		   "reserve changed the bytes");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[FEAT_HDR] == 0 && a[FEAT_HDR + 1] == MLX_SEC_FEATURES &&
		   a[FEAT_HDR + 7] == FEAT_LEN && a[FEAT_BODY] == 0 &&
		   a[FEAT_BODY + 1] == 5 && memcmp(a + FEAT_BODY + 2, "alpha", 5) == 0,
		   "features section bytes differ");
	EXPECT(a[LR_HDR + 1] == MLX_SEC_LINREG && a[LR_HDR + 6] == 0 &&
		   a[LR_HDR + 7] == LR_LEN, "linreg section header differs");
	EXPECT(a[LR_BODY] == 1 && a[LR_BODY + 7] == 2 && a[LR_BODY + 15] == 100,
		   "linreg flag/rank/nrows bytes differ");
	EXPECT(memcmp(a + LR_BODY + 24, lambda_half, 8) == 0,
		   "lambda is not big-endian binary64");
	crc = mlx_crc32c(0, a, alen - 4);
	EXPECT(a[alen - 4] == (crc >> 24) && a[alen - 1] == (crc & 0xFF),
		   "crc trailer not big-endian");
	mlx_free(&tctx, a);
	mlx_free(&tctx, b);
	/* a second, independent encoding is identical too */
	a = encode_sample(&alen);
	b = encode_sample(&blen);
	EXPECT(a && b && alen == blen && memcmp(a, b, alen) == 0,
		   "two encodings differ");
	mlx_free(&tctx, a);
	mlx_free(&tctx, b);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_unaligned(void)
{
	size_t		len;
	uint8_t    *buf = encode_sample(&len);
	uint8_t    *odd = malloc(len + 3);
	mlx_model	m;
	int			off;
	mlx_status	st;

	for (off = 1; off <= 3; off++)
	{
		memcpy(odd + off, buf, len);
		st = mlx_model_decode(odd + off, len, &tctx, &m, NULL, 0);
		EXPECT(st == MLX_OK, "decode at offset %d failed", off);
		mlx_model_free(&m, &tctx);
	}
	free(odd);
	mlx_free(&tctx, buf);
	return true;
}

static bool
t_truncations(void)
{
	size_t		len;
	uint8_t    *buf = encode_sample(&len);
	size_t		n;

	for (n = 0; n < len; n++)
	{
		if (!decode_expect(buf, n, MLX_ECORRUPT, NULL))
		{
			mlx_free(&tctx, buf);
			snprintf(case_reason + strlen(case_reason), sizeof(case_reason) - strlen(case_reason),
					 " at length %zu", n);
			return false;
		}
	}
	EXPECT(decode_expect(buf, 10, MLX_ECORRUPT,
						 "value is too short to be an ml_ext model (10 bytes)"),
		   "short message: %s", case_reason);
	EXPECT(decode_expect(buf, 200, MLX_ECORRUPT,
						 "model is truncated: header declares 281 bytes but the value has 200"),
		   "truncated message: %s", case_reason);
	EXPECT(decode_expect(NULL, 0, MLX_ECORRUPT, "(0 bytes)"), "%s", case_reason);
	mlx_free(&tctx, buf);
	return true;
}

static bool
t_byte_flips(void)
{
	size_t		len;
	uint8_t    *buf = encode_sample(&len);
	size_t		i;
	int			f;
	static const uint8_t masks[3] = {0x01, 0x80, 0xFF};

	for (i = 0; i < len; i++)
	{
		for (f = 0; f < 3; f++)
		{
			mlx_status	want;

			buf[i] ^= masks[f];
			/* a larger version number is "unsupported", not "corrupt" */
			want = (i == 4 || (i == 5 && buf[5] > 1)) ?
				MLX_EUNSUPPORTED : MLX_ECORRUPT;
			if (!decode_expect(buf, len, want, NULL))
			{
				snprintf(case_reason + strlen(case_reason), sizeof(case_reason) - strlen(case_reason),
						 " flipping byte %zu with 0x%02x", i, masks[f]);
				mlx_free(&tctx, buf);
				return false;
			}
			buf[i] ^= masks[f];
		}
	}
	EXPECT(decode_expect(buf, len, MLX_OK, NULL), "restored value: %s", case_reason);
	buf[100] ^= 1;
	EXPECT(decode_expect(buf, len, MLX_ECORRUPT, "model checksum mismatch: stored 0x"),
		   "%s", case_reason);
	mlx_free(&tctx, buf);
	return true;
}

static bool
t_header_errors(void)
{
	size_t		len;
	uint8_t    *buf = encode_sample(&len);
	uint8_t		v[SAMPLE_LEN + 1];

	memcpy(v, buf, len);
	mlx_free(&tctx, buf);

	v[0] = 'X';
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "not an ml_ext model (bad magic)"),
		   "magic: %s", case_reason);
	v[0] = 'M';

	v[5] = 7;
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_EUNSUPPORTED,
						 "model format version 7 is newer than this ml_ext supports (1)"),
		   "version 7: %s", case_reason);
	v[5] = 0;
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "version 0"), "version 0: %s", case_reason);
	v[5] = 1;

	v[7] = 99;
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_EUNSUPPORTED, "algorithm 99"),
		   "algorithm: %s", case_reason);
	v[7] = 1;

	v[11] = 1;
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "flags"), "flags: %s", case_reason);
	v[11] = 0;

	v[23] = 1;
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "reserved"), "reserved: %s", case_reason);
	v[23] = 0;

	put32(v + 12, 2000000);
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "declares 2000000 features"),
		   "k too large: %s", case_reason);
	put32(v + 12, 0);
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "declares 0 features"),
		   "k zero: %s", case_reason);
	put32(v + 12, 4);
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_ECORRUPT, "ends after 3 of 4 names"),
		   "k too large for names: %s", case_reason);
	put32(v + 12, 3);
	reseal(v, len);

	/* a trailing byte, CRC computed over everything but the last 4 */
	v[len] = 0;
	reseal(v, len + 1);
	EXPECT(decode_expect(v, len + 1, MLX_ECORRUPT, "trailing bytes"),
		   "trailing: %s", case_reason);
	reseal(v, len);
	EXPECT(decode_expect(v, len, MLX_OK, NULL), "restored: %s", case_reason);
	return true;
}

/* Edit the sample with f, reseal, and expect a rejection mentioning msg. */
static bool
edit_expect(void (*f) (uint8_t *), mlx_status want, const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_sample(&len);
	bool		ok;

	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, want, msg);
	mlx_free(&tctx, buf);
	return ok;
}

static void
e_section_too_long(uint8_t *v)
{
	put32(v + LR_HDR + 4, LR_LEN + 1);
}

static void
e_section_huge(uint8_t *v)
{
	put32(v + FEAT_HDR + 4, 0xFFFFFFF0u);
}

static void
e_section_reserved(uint8_t *v)
{
	v[FEAT_HDR + 3] = 1;
}

static void
e_name_past_end(uint8_t *v)
{
	v[FEAT_BODY + 16] = 0xFF;	/* third name's length: 3 -> 0xFF03 */
}

static void
e_name_empty(uint8_t *v)
{
	/* first name length 0: "alpha" is then read as the second length */
	v[FEAT_BODY + 1] = 0;
}

static void
e_name_nul(uint8_t *v)
{
	v[FEAT_BODY + 4] = 0;
}

static void
e_name_bad_utf8(uint8_t *v)
{
	v[FEAT_BODY + 2] = 0xC0;
}

static void
e_coef_nan(uint8_t *v)
{
	putf64(v + LR_BODY + 80 + 8, NAN);
}

static void
e_coef_inf(uint8_t *v)
{
	putf64(v + LR_BODY + 80, -INFINITY);
}

static void
e_rank(uint8_t *v)
{
	put32(v + LR_BODY + 4, 4);
}

static void
e_rank_negative(uint8_t *v)
{
	put32(v + LR_BODY + 4, 0xFFFFFFFFu);
}

static void
e_dep_range(uint8_t *v)
{
	put32(v + LR_BODY + 212, 3);
}

static void
e_dep_negative(uint8_t *v)
{
	put32(v + LR_BODY + 212, 0x80000000u);
}

static void
e_ndep_large(uint8_t *v)
{
	put32(v + LR_BODY + 208, 4);
}

static void
e_ndep_length(uint8_t *v)
{
	put32(v + LR_BODY + 208, 2);
}

static void
e_flag(uint8_t *v)
{
	v[LR_BODY] = 2;
}

static void
e_lr_reserved(uint8_t *v)
{
	v[LR_BODY + 2] = 1;
}

static void
e_nrows(uint8_t *v)
{
	put64(v + LR_BODY + 8, 0);
}

static void
e_nskipped(uint8_t *v)
{
	put64(v + LR_BODY + 16, UINT64_MAX);
}

static void
e_lambda(uint8_t *v)
{
	putf64(v + LR_BODY + 24, -1.0);
}

static void
e_lambda_nan(uint8_t *v)
{
	putf64(v + LR_BODY + 24, NAN);
}

static void
e_se_inf(uint8_t *v)
{
	putf64(v + LR_BODY + 112 + 8, INFINITY);
}

static void
e_pval(uint8_t *v)
{
	putf64(v + LR_BODY + 176, 1.5);
}

static void
e_rss_inf(uint8_t *v)
{
	putf64(v + LR_BODY + 40, INFINITY);
}

static void
e_no_intercept(uint8_t *v)
{
	v[LR_BODY] = 0;				/* coef[0] is 1.5: inconsistent */
}

static bool
t_crafted(void)
{
	struct
	{
		void		(*f) (uint8_t *);
		mlx_status	want;
		const char *msg;
	}			cases[] = {
		{e_section_too_long, MLX_ECORRUPT, "declares 217 bytes but only 216 remain"},
		{e_section_huge, MLX_ECORRUPT, "model section 1 at payload offset 0 declares"},
		{e_section_reserved, MLX_ECORRUPT, "non-zero reserved"},
		{e_name_past_end, MLX_ECORRUPT, "feature name 3 runs past the end"},
		{e_name_empty, MLX_ECORRUPT, "feature name 1 has length 0"},
		{e_name_nul, MLX_ECORRUPT, "feature name 1 contains a NUL byte"},
		{e_name_bad_utf8, MLX_ECORRUPT, "feature name 1 is not valid UTF-8"},
		{e_coef_nan, MLX_ECORRUPT, "coefficient 1 is not finite"},
		{e_coef_inf, MLX_ECORRUPT, "coefficient 0 is not finite"},
		{e_rank, MLX_ECORRUPT, "rank 4 is outside 0 to 3"},
		{e_rank_negative, MLX_ECORRUPT, "rank -1"},
		{e_dep_range, MLX_ECORRUPT, "dependent feature index 3"},
		{e_dep_negative, MLX_ECORRUPT, "dependent feature index"},
		{e_ndep_large, MLX_ECORRUPT, "lists 4 dependent features"},
		{e_ndep_length, MLX_ECORRUPT, "section has 216 bytes, expected 220"},
		{e_flag, MLX_ECORRUPT, "intercept flag is 2"},
		{e_lr_reserved, MLX_ECORRUPT, "reserved bytes"},
		{e_nrows, MLX_ECORRUPT, "row counts"},
		{e_nskipped, MLX_ECORRUPT, "row counts"},
		{e_lambda, MLX_ECORRUPT, "lambda"},
		{e_lambda_nan, MLX_ECORRUPT, "lambda"},
		{e_se_inf, MLX_ECORRUPT, "standard error 1"},
		{e_pval, MLX_ECORRUPT, "p value 0"},
		{e_rss_inf, MLX_ECORRUPT, "summary statistics"},
		{e_no_intercept, MLX_ECORRUPT, "non-zero intercept"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(edit_expect(cases[i].f, cases[i].want, cases[i].msg),
			   "case %zu: %s", i, case_reason);
	return true;
}

static bool
t_sections(void)
{
	size_t		len;
	uint8_t    *enc = encode_sample(&len);
	uint8_t		feat[FEAT_LEN];
	uint8_t		lr[LR_LEN];
	static const uint8_t junk[5] = {1, 2, 3, 4, 5};
	builder		x;
	size_t		n;

	memcpy(feat, enc + FEAT_BODY, FEAT_LEN);
	memcpy(lr, enc + LR_BODY, LR_LEN);

	/* the builder reproduces the encoder */
	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(n == len && memcmp(x.b, enc, len) == 0, "builder differs from encoder");
	mlx_free(&tctx, enc);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one feature names section"),
		   "duplicate features: %s", case_reason);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "more than one linear regression"),
		   "duplicate linreg: %s", case_reason);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has no linear regression section"),
		   "missing linreg: %s", case_reason);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no feature names section"),
		   "missing features: %s", case_reason);

	b_header(&x, 1, 3);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no feature names section"),
		   "empty payload: %s", case_reason);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, 100, junk, 5);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "unknown required section 100"),
		   "unknown required: %s", case_reason);

	/* another algorithm's section is not ignored */
	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LOGREG, junk, 5);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a logistic regression section but its algorithm is linear_regression"),
		   "logreg section in a linear model: %s", case_reason);

	/* a linear section under the logistic algorithm id */
	b_header(&x, MLX_ALG_LOGISTIC_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a linear regression section but its algorithm is logistic_regression"),
		   "linreg section in a logistic model: %s", case_reason);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, 0x8001, junk, 5);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	b_section(&x, 0xFFFF, junk, 0);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "optional skipped: %s", case_reason);

	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reversed order: %s", case_reason);

	/* three stray bytes after the last section: a partial section header */
	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	x.b[x.n++] = 0x80;
	x.b[x.n++] = 0;
	x.b[x.n++] = 0;
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "runs past the end"),
		   "partial section header: %s", case_reason);

	/* features section with a spare byte after the k names */
	{
		uint8_t		feat2[FEAT_LEN + 1];

		memcpy(feat2, feat, FEAT_LEN);
		feat2[FEAT_LEN] = 'z';
		b_header(&x, 1, 3);
		b_section(&x, MLX_SEC_FEATURES, feat2, FEAT_LEN + 1);
		b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
		n = b_finish(&x);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
							 "feature names section has 1 trailing bytes"),
			   "feature trailing: %s", case_reason);
	}

	/* linreg section too short for k */
	b_header(&x, 1, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, 100);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "expected at least 212"),
		   "short linreg: %s", case_reason);
	return true;
}

static bool
t_small_errbuf(void)
{
	uint8_t		v[10] = {0};
	char		tiny[8];
	mlx_model	m;

	memset(tiny, 'x', sizeof(tiny));
	EXPECT(mlx_model_decode(v, sizeof(v), &tctx, &m, tiny, sizeof(tiny)) ==
		   MLX_ECORRUPT, "status");
	EXPECT(tiny[7] == '\0' && strncmp(tiny, "value i", 7) == 0,
		   "truncated message wrong");
	EXPECT(mlx_model_decode(v, sizeof(v), &tctx, &m, tiny, 0) == MLX_ECORRUPT &&
		   mlx_model_decode(v, sizeof(v), &tctx, &m, NULL, 0) == MLX_ECORRUPT,
		   "no buffer");
	return true;
}

static bool
t_encoder_rejects(void)
{
	sample		s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char		longname[MLX_MODEL_MAX_NAME_LEN + 2];
	char	   *names[3] = {"a", longname, "c"};
	char	   *badnames[3] = {"a", "\xff", "c"};
	char	   *js;
	mlx_status	st;

	make_sample(&s);
	EXPECT(mlx_model_from_linreg(&s.fit, sample_names, &tctx, &m) == MLX_OK, "build");
	s.coef[2] = NAN;
	st = mlx_model_encode(&m, &tctx, 0, &out, &len);
	EXPECT(st == MLX_EINVAL && out == NULL, "NaN coefficient encoded");
	s.coef[2] = 3.0;
	s.dep[0] = 7;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL,
		   "bad dependent encoded");
	EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL,
		   "bad dependent described");
	s.dep[0] = 2;
	m.u.linreg.nfeat = 2;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL,
		   "nfeat mismatch encoded");
	mlx_model_free_names(&m, &tctx);

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT(mlx_model_from_linreg(&s.fit, names, &tctx, &m) == MLX_EINVAL,
		   "name of %d bytes accepted", MLX_MODEL_MAX_NAME_LEN + 1);
	longname[MLX_MODEL_MAX_NAME_LEN] = '\0';
	EXPECT(mlx_model_from_linreg(&s.fit, names, &tctx, &m) == MLX_OK,
		   "name of %d bytes refused", MLX_MODEL_MAX_NAME_LEN);
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "encode long");
	mlx_model_free_names(&m, &tctx);
	EXPECT(decode_expect(out, len, MLX_OK, NULL), "decode long: %s", case_reason);
	mlx_free(&tctx, out);
	EXPECT(mlx_model_from_linreg(&s.fit, badnames, &tctx, &m) == MLX_EINVAL,
		   "invalid UTF-8 accepted");
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_json(void)
{
	double		coef[3] = {1, 2.5, -0.25};
	double		se[3] = {0.5, 0.125, NAN};
	double		tval[3] = {2, 20, INFINITY};
	double		pval[3] = {0.0625, 0, NAN};
	int32_t		dep[1] = {1};
	char	   *names[2] = {"a", "q\"\\\x01\xc3\xa9"};
	mlx_linreg_fit fit = {0};
	mlx_model	m;
	char	   *json;
	const char *want =
	"{\"algorithm\":\"linear_regression\",\"format_version\":1,"
	"\"n_features\":2,\"features\":[\"a\",\"q\\\"\\\\\\u0001\xc3\xa9\"],"
	"\"fit_intercept\":true,\"lambda\":0,\"n_rows\":10,\"n_skipped\":1,"
	"\"rank\":1,\"df_resid\":7,\"r2\":0.75,\"adj_r2\":null,"
	"\"residual_std_error\":0.5,\"rss\":1.75,\"tss\":7,\"intercept\":1,"
	"\"coefficients\":[2.5,-0.25],\"std_errors\":[0.5,0.125,null],"
	"\"t_values\":[2,20,null],\"p_values\":[0.0625,0,null],"
	"\"dependent_features\":[\"q\\\"\\\\\\u0001\xc3\xa9\"]}";

	fit.nfeat = 2;
	fit.intercept = true;
	fit.lambda = 0;
	fit.nrows = 10;
	fit.nskipped = 1;
	fit.rank = 1;
	fit.df_resid = 7;
	fit.rss = 1.75;
	fit.tss = 7;
	fit.r2 = 0.75;
	fit.adj_r2 = NAN;
	fit.sigma = 0.5;
	fit.coef = coef;
	fit.se = se;
	fit.tval = tval;
	fit.pval = pval;
	fit.ndependent = 1;
	fit.dependent = dep;
	EXPECT(mlx_model_from_linreg(&fit, names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);

	/* no intercept, full rank, a long double */
	m.u.linreg.intercept = false;
	coef[0] = 0;
	coef[1] = 0.1;
	se[0] = NAN;
	m.u.linreg.ndependent = 0;
	m.u.linreg.dependent = NULL;
	m.u.linreg.lambda = 1e300;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strstr(json, "\"fit_intercept\":false,\"lambda\":1.0000000000000001e+300,") &&
		   strstr(json, "\"intercept\":0,\"coefficients\":[0.10000000000000001,-0.25]") &&
		   strstr(json, "\"std_errors\":[null,0.125,null]") &&
		   strstr(json, "\"dependent_features\":[]}"), "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * Run op with an allocator failing after 0, 1, 2, ... allocations until it
 * succeeds; every failure must be MLX_ENOMEM and leave nothing allocated.
 */
static bool
enomem_sweep(const char *what, mlx_status (*op) (void))
{
	long		n;
	long		base = counts.live;
	mlx_status	st = MLX_ENOMEM;

	for (n = 0; n < 100; n++)
	{
		counts.nalloc = 0;
		counts.fail_after = n;
		st = op();
		counts.fail_after = -1;
		EXPECT(counts.live == base, "%s leaked %ld allocations failing after %ld",
			   what, counts.live - base, n);
		if (st != MLX_ENOMEM)
			break;
	}
	EXPECT(st == MLX_OK, "%s: %s after %ld allocations", what,
		   mlx_status_str(st), n);
	EXPECT(n > 0, "%s never allocated", what);
	return true;
}

static mlx_status
op_from_linreg(void)
{
	sample		s;
	mlx_model	m;
	mlx_status	st;

	make_sample(&s);
	st = mlx_model_from_linreg(&s.fit, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode(void)
{
	size_t		len;
	uint8_t    *buf = encode_sample(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static uint8_t *enomem_value;
static size_t enomem_len;

static mlx_status
op_decode(void)
{
	mlx_model	m;
	char		err[200];
	mlx_status	st;

	st = mlx_model_decode(enomem_value, enomem_len, &tctx, &m, err, sizeof(err));
	if (st == MLX_OK)
		mlx_model_free(&m, &tctx);
	return st;
}

static mlx_status
op_describe(void)
{
	mlx_model	m;
	char	   *json;
	mlx_status	st;
	long		fail_after = counts.fail_after;

	counts.fail_after = -1;
	st = mlx_model_decode(enomem_value, enomem_len, &tctx, &m, NULL, 0);
	if (st != MLX_OK)
		return MLX_ECORRUPT;
	counts.nalloc = 0;
	counts.fail_after = fail_after;
	st = mlx_model_describe_json(&m, &tctx, &json);
	counts.fail_after = -1;
	if (st == MLX_OK)
		mlx_free(&tctx, json);
	mlx_model_free(&m, &tctx);
	return st;
}

static bool
t_enomem(void)
{
	bool		ok;

	ok = enomem_sweep("from_linreg", op_from_linreg) &&
		enomem_sweep("encode", op_encode);
	if (!ok)
		return false;
	enomem_value = encode_sample(&enomem_len);
	ok = enomem_sweep("decode", op_decode) &&
		enomem_sweep("describe", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- source-column inputs (MLX_SEC_INPUTS) ---------- */

/*
 * k = 8: numeric "âge", boolean "active", categorical "city" (the NULL
 * category, "", "Zürich", "東京"), array "emb" of 2; target "price".
 */
#define IK 8

typedef struct isample
{
	mlx_linreg_fit fit;
	double		coef[IK + 1];
	double		se[IK + 1];
	double		tval[IK + 1];
	double		pval[IK + 1];
	double		imp_age[1];
	double		imp_active[1];
	double		imp_emb[3];
	char	   *cats[4];
	mlx_input	in[4];
	mlx_inputs	inputs;
} isample;

#define ZURICH "Z\xc3\xbcrich"
#define TOKYO "\xe6\x9d\xb1\xe4\xba\xac"

static char *isample_features[IK] = {
	"\xc3\xa2ge", "active", "city IS NULL", "city=", "city=" ZURICH,
	"city=" TOKYO, "emb[1]", "emb[2]"
};

static void
make_isample(isample *s)
{
	int			i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i <= IK; i++)
	{
		s->coef[i] = 0.25 * i - 1;
		s->se[i] = 0.5;
		s->tval[i] = s->coef[i] / 0.5;
		s->pval[i] = 0.5;
	}
	s->fit.nfeat = IK;
	s->fit.intercept = true;
	s->fit.nrows = 40;
	s->fit.nskipped = 3;
	s->fit.rank = IK;
	s->fit.df_resid = 31;
	s->fit.rss = 2;
	s->fit.tss = 10;
	s->fit.r2 = 0.8;
	s->fit.adj_r2 = 0.75;
	s->fit.sigma = 0.25;
	s->fit.coef = s->coef;
	s->fit.se = s->se;
	s->fit.tval = s->tval;
	s->fit.pval = s->pval;
	s->imp_age[0] = 41.5;
	s->imp_active[0] = 0.25;
	s->imp_emb[0] = 0.5;
	s->imp_emb[1] = -1.25;
	s->imp_emb[2] = 3;
	s->cats[0] = NULL;
	s->cats[1] = "";
	s->cats[2] = ZURICH;
	s->cats[3] = TOKYO;
	s->in[0].name = "\xc3\xa2ge";
	s->in[0].kind = MLX_INPUT_NUMERIC;
	s->in[0].nfeat = 1;
	s->in[0].impute = s->imp_age;
	s->in[1].name = "active";
	s->in[1].kind = MLX_INPUT_BOOLEAN;
	s->in[1].nfeat = 1;
	s->in[1].impute = s->imp_active;
	s->in[2].name = "city";
	s->in[2].kind = MLX_INPUT_CATEGORICAL;
	s->in[2].nfeat = 4;
	s->in[2].categories = s->cats;
	s->in[3].name = "emb";
	s->in[3].kind = MLX_INPUT_ARRAY;
	s->in[3].nfeat = 2;
	s->in[3].impute = s->imp_emb;
	s->inputs.ninputs = 4;
	s->inputs.inputs = s->in;
	s->inputs.target = "price";
	s->inputs.target_kind = MLX_INPUT_NUMERIC;
}

/* Encode the isample fit with the given inputs (may be NULL). */
static mlx_status
encode_isample_with(isample *s, mlx_inputs *in, uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_linreg(&s->fit, isample_features, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_isample(size_t *len)
{
	isample		s;
	uint8_t    *out;

	make_isample(&s);
	if (encode_isample_with(&s, &s.inputs, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the isample encoding: features body at 32 (78 bytes), inputs
 * section header at 110, body at 118 (119 bytes), linreg header at 237
 * (body 372 bytes), CRC at 617.  Inside the inputs body (doc/model-format.md):
 */
#define IFEAT_BODY 32
#define IFEAT_LEN 78
#define IN_HDR 110
#define IN_BODY 118
#define IN_LEN 119
#define ILR_HDR 237
#define ILR_BODY 245
#define ILR_LEN 372
#define ISAMPLE_LEN 621
#define I_AGE_NAME 6			/* "âge" (u16 length at 4) */
#define I_AGE_RES 11
#define I_CITY_NF 54
#define I_CAT1 58				/* NULL category: 01 00 00 */
#define I_CAT3 64				/* 00 00 07 "Zürich" */
#define I_EMB 83				/* u16 name length of "emb" */
#define I_EMB_NF 90
#define I_EMB_IMP 94
#define I_TARGET 110			/* 01 01 00 05 "price" */

/* A test-side writer of the inputs layout, independent of the encoder. */
static size_t
w_text(uint8_t *p, const char *s)
{
	size_t		n = strlen(s);

	p[0] = (uint8_t) (n >> 8);
	p[1] = (uint8_t) n;
	memcpy(p + 2, s, n);
	return 2 + n;
}

static size_t
w_inputs(uint8_t *out, const mlx_inputs *in)
{
	uint8_t    *p = out;
	int32_t		i;
	int32_t		j;

	put32(p, (uint32_t) in->ninputs);
	p += 4;
	for (i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];

		p += w_text(p, x->name);
		p[0] = x->kind;
		p[1] = 0;
		put32(p + 2, (uint32_t) x->nfeat);
		p += 6;
		if (x->kind == MLX_INPUT_CATEGORICAL)
		{
			for (j = 0; j < x->nfeat; j++)
			{
				if (x->categories[j] == NULL)
				{
					p[0] = 1;
					p[1] = p[2] = 0;
					p += 3;
				}
				else
				{
					p[0] = 0;
					p += 1 + w_text(p + 1, x->categories[j]);
				}
			}
		}
		else if (x->kind == MLX_INPUT_ARRAY)
		{
			for (j = 0; j < x->nfeat; j++, p += 8)
				putf64(p, x->impute[j]);
		}
		else if (x->kind == MLX_INPUT_NUMERIC || x->kind == MLX_INPUT_BOOLEAN)
		{
			putf64(p, x->impute[0]);
			p += 8;
		}
	}
	p[0] = in->target != NULL ? 1 : 0;
	p[1] = in->target_kind;
	p += 2;
	if (in->target != NULL)
		p += w_text(p, in->target);
	return (size_t) (p - out);
}

/* features and linreg bodies of the isample encoding */
static uint8_t g_feat[IFEAT_LEN];
static uint8_t g_lr[ILR_LEN];

static bool
load_bodies(void)
{
	size_t		len;
	uint8_t    *enc = encode_isample(&len);

	if (enc == NULL || len != ISAMPLE_LEN)
	{
		if (enc)
			mlx_free(&tctx, enc);
		return false;
	}
	memcpy(g_feat, enc + IFEAT_BODY, IFEAT_LEN);
	memcpy(g_lr, enc + ILR_BODY, ILR_LEN);
	mlx_free(&tctx, enc);
	return true;
}

/* A k = 8 model with the given inputs body, in canonical section order. */
static size_t
build_inputs_model(builder *x, const uint8_t *ibody, size_t ilen)
{
	b_header(x, 1, IK);
	b_section(x, MLX_SEC_FEATURES, g_feat, IFEAT_LEN);
	b_section(x, MLX_SEC_INPUTS, ibody, (uint32_t) ilen);
	b_section(x, MLX_SEC_LINREG, g_lr, ILR_LEN);
	return b_finish(x);
}

static bool
t_inputs_round_trip(void)
{
	isample		s;
	size_t		len;
	size_t		len2;
	size_t		plain_len;
	uint8_t    *buf;
	uint8_t    *buf2;
	uint8_t    *plain;
	uint8_t		w[4096];
	size_t		wlen;
	mlx_model	m;
	mlx_inputs *in;
	char		err[256];
	int			i;
	int			j;
	mlx_status	st;

	make_isample(&s);
	EXPECT(encode_isample_with(&s, &s.inputs, &buf, &len) == MLX_OK, "encode");
	EXPECT(len == ISAMPLE_LEN, "length %zu, expected %d", len, ISAMPLE_LEN);
	EXPECT(buf[15] == IK && buf[IN_HDR + 1] == MLX_SEC_INPUTS &&
		   buf[IN_HDR + 7] == IN_LEN && buf[ILR_HDR + 1] == MLX_SEC_LINREG,
		   "section headers not where expected");
	/* the encoder writes what the specification's layout says */
	wlen = w_inputs(w, &s.inputs);
	EXPECT(wlen == IN_LEN && memcmp(w, buf + IN_BODY, IN_LEN) == 0,
		   "inputs body differs from the documented layout");
	EXPECT(buf[IN_BODY + I_CAT1] == 1 && buf[IN_BODY + I_CAT3 + 2] == 7 &&
		   buf[IN_BODY + I_TARGET] == 1 && buf[IN_BODY + I_TARGET + 3] == 5,
		   "inputs body offsets differ");

	/* the other sections are those of the same model without inputs */
	EXPECT(encode_isample_with(&s, NULL, &plain, &plain_len) == MLX_OK,
		   "encode plain");
	EXPECT(plain_len == len - 8 - IN_LEN &&
		   memcmp(plain + IFEAT_BODY, buf + IFEAT_BODY, IFEAT_LEN) == 0 &&
		   memcmp(plain + IN_HDR, buf + ILR_HDR, ILR_LEN + 8) == 0,
		   "inputs changed the other sections");
	mlx_free(&tctx, plain);

	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	EXPECT(st == MLX_OK, "decode: %s", err);
	in = m.inputs;
	EXPECT(in != NULL && in->ninputs == 4, "inputs missing");
	for (i = 0; i < 4; i++)
	{
		const mlx_input *a = &in->inputs[i];
		const mlx_input *b = &s.in[i];

		EXPECT(strcmp(a->name, b->name) == 0 && a->kind == b->kind &&
			   a->nfeat == b->nfeat, "input %d differs", i);
		if (b->kind == MLX_INPUT_CATEGORICAL)
		{
			EXPECT(a->impute == NULL && a->categories != NULL,
				   "input %d arrays", i);
			for (j = 0; j < b->nfeat; j++)
				EXPECT(b->categories[j] == NULL ? a->categories[j] == NULL :
					   (a->categories[j] != NULL &&
						strcmp(a->categories[j], b->categories[j]) == 0),
					   "input %d category %d differs", i, j);
		}
		else
		{
			EXPECT(a->categories == NULL && a->impute != NULL,
				   "input %d arrays", i);
			for (j = 0; j < b->nfeat; j++)
				EXPECT(same_double(a->impute[j], b->impute[j]),
					   "input %d impute %d differs", i, j);
		}
	}
	EXPECT(in->target != NULL && strcmp(in->target, "price") == 0 &&
		   in->target_kind == MLX_INPUT_NUMERIC, "target differs");
	for (i = 0; i < IK; i++)
		EXPECT(strcmp(m.feature_names[i], isample_features[i]) == 0,
			   "feature %d differs", i);

	/* canonical: the decoded model re-encodes to the same bytes */
	EXPECT(mlx_model_encode(&m, &tctx, 0, &buf2, &len2) == MLX_OK, "re-encode");
	EXPECT(len2 == len && memcmp(buf, buf2, len) == 0, "re-encode differs");
	mlx_free(&tctx, buf2);
	mlx_model_free(&m, &tctx);

	/* no target, no NULL category */
	s.inputs.target = NULL;
	s.inputs.target_kind = 0;
	s.cats[0] = "";
	s.cats[1] = "A";
	EXPECT(encode_isample_with(&s, &s.inputs, &buf2, &len2) == MLX_OK,
		   "encode unsupervised");
	EXPECT(len2 == len - 7 + 1 && buf2[IN_BODY + I_CAT1] == 0,
		   "unsupervised length %zu", len2);
	st = mlx_model_decode(buf2, len2, &tctx, &m, err, sizeof(err));
	EXPECT(st == MLX_OK, "decode unsupervised: %s", err);
	EXPECT(m.inputs->target == NULL && m.inputs->target_kind == 0 &&
		   strcmp(m.inputs->inputs[2].categories[0], "") == 0 &&
		   strcmp(m.inputs->inputs[2].categories[1], "A") == 0,
		   "unsupervised model differs");
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf2);

	/* a model without inputs decodes with inputs NULL */
	buf2 = encode_sample(&len2);
	st = mlx_model_decode(buf2, len2, &tctx, &m, err, sizeof(err));
	EXPECT(st == MLX_OK && m.inputs == NULL, "plain model has inputs");
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf2);
	mlx_free(&tctx, buf);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

/* The worked example of doc/model-format.md, byte for byte. */
static bool
t_inputs_doc_example(void)
{
	static const uint8_t want[42] = {
		0x00, 0x00, 0x00, 0x02,
		0x00, 0x01, 'x', 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 'c', 0x03, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x01, 0x00, 0x00,
		0x00, 0x00, 0x01, 'a',
		0x01, 0x01, 0x00, 0x01, 'y'
	};
	sample		s;
	double		imp = 2.5;
	char	   *cats[2] = {NULL, "a"};
	mlx_input	xs[2];
	mlx_inputs	in;
	mlx_model	m;
	uint8_t    *buf;
	size_t		len;
	char	   *json;
	mlx_status	st;

	memset(xs, 0, sizeof(xs));
	xs[0].name = "x";
	xs[0].kind = MLX_INPUT_NUMERIC;
	xs[0].nfeat = 1;
	xs[0].impute = &imp;
	xs[1].name = "c";
	xs[1].kind = MLX_INPUT_CATEGORICAL;
	xs[1].nfeat = 2;
	xs[1].categories = cats;
	in.ninputs = 2;
	in.inputs = xs;
	in.target = "y";
	in.target_kind = MLX_INPUT_NUMERIC;

	make_sample(&s);
	EXPECT(mlx_model_from_linreg(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	m.inputs = &in;
	st = mlx_model_encode(&m, &tctx, 0, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	EXPECT(len == SAMPLE_LEN + 8 + 42, "length %zu", len);
	EXPECT(buf[LR_HDR + 1] == MLX_SEC_INPUTS && buf[LR_HDR + 7] == 42 &&
		   memcmp(buf + LR_BODY, want, 42) == 0, "inputs section bytes differ");
	mlx_free(&tctx, buf);

	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strstr(json, "\"features\":[\"alpha\",\"b\xc3\xa9\\\"ta\\\\\",\"\xce\xb3\\u000a\"],"
				  "\"inputs\":[{\"name\":\"x\",\"kind\":\"numeric\",\"n_features\":1,\"impute\":[2.5]},"
				  "{\"name\":\"c\",\"kind\":\"categorical\",\"n_features\":2,\"categories\":[null,\"a\"]}],"
				  "\"target\":\"y\",\"fit_intercept\":true,") != NULL,
		   "got %s", json);
	mlx_free(&tctx, json);
	in.target = NULL;
	in.target_kind = 0;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strstr(json, "]}],\"target\":null,\"fit_intercept\"") != NULL,
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_inputs_json_kinds(void)
{
	size_t		len;
	uint8_t    *buf = encode_isample(&len);
	mlx_model	m;
	char	   *json;

	EXPECT(buf != NULL, "encode");
	EXPECT(mlx_model_decode(buf, len, &tctx, &m, NULL, 0) == MLX_OK, "decode");
	mlx_free(&tctx, buf);
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strstr(json, "\"inputs\":[{\"name\":\"\xc3\xa2ge\",\"kind\":\"numeric\",\"n_features\":1,\"impute\":[41.5]},"
				  "{\"name\":\"active\",\"kind\":\"boolean\",\"n_features\":1,\"impute\":[0.25]},"
				  "{\"name\":\"city\",\"kind\":\"categorical\",\"n_features\":4,\"categories\":[null,\"\",\"" ZURICH "\",\"" TOKYO "\"]},"
				  "{\"name\":\"emb\",\"kind\":\"array\",\"n_features\":2,\"impute\":[0.5,-1.25]}],"
				  "\"target\":\"price\",") != NULL, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_find_category(void)
{
	isample		s;
	char	   *abc[3] = {"a", "b", "c"};
	mlx_input	plain;

	make_isample(&s);
	EXPECT(mlx_inputs_find_category(&s.in[2], NULL) == 0, "NULL");
	EXPECT(mlx_inputs_find_category(&s.in[2], "") == 1, "empty");
	EXPECT(mlx_inputs_find_category(&s.in[2], ZURICH) == 2, "zurich");
	EXPECT(mlx_inputs_find_category(&s.in[2], TOKYO) == 3, "tokyo");
	EXPECT(mlx_inputs_find_category(&s.in[2], "Zurich") == -1, "unseen");
	EXPECT(mlx_inputs_find_category(&s.in[2], "zz") == -1, "after last");
	EXPECT(mlx_inputs_find_category(&s.in[2], " ") == -1, "between");
	memset(&plain, 0, sizeof(plain));
	plain.name = "c";
	plain.kind = MLX_INPUT_CATEGORICAL;
	plain.nfeat = 3;
	plain.categories = abc;
	EXPECT(mlx_inputs_find_category(&plain, NULL) == -1, "no NULL category");
	EXPECT(mlx_inputs_find_category(&plain, "a") == 0 &&
		   mlx_inputs_find_category(&plain, "b") == 1 &&
		   mlx_inputs_find_category(&plain, "c") == 2, "abc");
	EXPECT(mlx_inputs_find_category(&plain, "") == -1 &&
		   mlx_inputs_find_category(&plain, "bb") == -1 &&
		   mlx_inputs_find_category(&plain, "d") == -1, "abc unseen");
	EXPECT(mlx_inputs_find_category(&s.in[0], "a") == -1 &&
		   mlx_inputs_find_category(&s.in[0], NULL) == -1, "numeric input");
	EXPECT(mlx_inputs_find_category(NULL, "a") == -1, "NULL input");
	return true;
}

static bool
t_inputs_feature_names(void)
{
	isample		s;
	char	  **names;
	char		col[1021];
	char		cat[21];
	char	   *cats[1] = {cat};
	mlx_input	x;
	mlx_inputs	in;
	mlx_model	m;
	long		live = counts.live;
	int			i;

	make_isample(&s);
	counts.nalloc = 0;
	EXPECT(mlx_inputs_feature_names(&s.inputs, &tctx, &names) == MLX_OK, "names");
	EXPECT(counts.live == live + 1, "not a single allocation");
	for (i = 0; i < IK; i++)
		EXPECT(strcmp(names[i], isample_features[i]) == 0,
			   "name %d is %s", i, names[i]);
	mlx_free(&tctx, names);

	/* a 1020-byte column and a 20-byte category: cut at a character */
	memset(col, 'n', 1020);
	col[1020] = '\0';
	for (i = 0; i < 10; i++)
		memcpy(cat + 2 * i, "\xc3\xa9", 2);
	cat[20] = '\0';
	memset(&x, 0, sizeof(x));
	x.name = col;
	x.kind = MLX_INPUT_CATEGORICAL;
	x.nfeat = 1;
	x.categories = cats;
	in.ninputs = 1;
	in.inputs = &x;
	in.target = NULL;
	in.target_kind = 0;
	EXPECT(mlx_inputs_feature_names(&in, &tctx, &names) == MLX_OK, "long");
	EXPECT(strlen(names[0]) == 1023 && memcmp(names[0] + 1020, "=\xc3\xa9", 3) == 0,
		   "cut to %zu bytes", strlen(names[0]));
	s.fit.nfeat = 1;
	s.fit.rank = 1;
	EXPECT(mlx_model_from_linreg(&s.fit, names, &tctx, &m) == MLX_OK,
		   "cut name is not a valid feature name");
	mlx_model_free_names(&m, &tctx);
	mlx_free(&tctx, names);

	/* invalid inputs */
	x.kind = 7;
	EXPECT(mlx_inputs_feature_names(&in, &tctx, &names) == MLX_EINVAL &&
		   names == NULL, "invalid inputs accepted");
	EXPECT(mlx_inputs_feature_names(NULL, &tctx, &names) == MLX_EINVAL,
		   "NULL inputs accepted");
	EXPECT(counts.live == live, "leak");
	return true;
}

/*
 * Struct-level defects: the encoder must refuse each (MLX_EINVAL), and the
 * same inputs written byte for byte must be rejected by the decoder with
 * the given message.
 */
static char long_cat[MLX_MODEL_MAX_CATEGORY_LEN + 2];

static void
m_kind(isample *s)
{
	s->in[1].kind = 9;
}
static void
m_kind0(isample *s)
{
	s->in[0].kind = 0;
}
static void
m_num_nfeat(isample *s)
{
	s->in[0].nfeat = 2;
}
static void
m_bool_nfeat(isample *s)
{
	s->in[1].nfeat = 2;
}
static void
m_arr_nfeat0(isample *s)
{
	s->in[3].nfeat = 0;
}
static void
m_cat_nfeat0(isample *s)
{
	s->in[2].nfeat = 0;
}
static void
m_sum(isample *s)
{
	s->in[3].nfeat = 3;
}
static void
m_sum_less(isample *s)
{
	s->in[2].nfeat = 3;
}
static void
m_imp_nan(isample *s)
{
	s->imp_age[0] = NAN;
}
static void
m_imp_inf(isample *s)
{
	s->imp_emb[1] = INFINITY;
}
static void
m_bool_range(isample *s)
{
	s->imp_active[0] = 1.5;
}
static void
m_bool_neg(isample *s)
{
	s->imp_active[0] = -0.5;
}
static void
m_unsorted(isample *s)
{
	s->cats[2] = TOKYO;
	s->cats[3] = ZURICH;
}
static void
m_dup_cat(isample *s)
{
	s->cats[3] = ZURICH;
}
static void
m_null_late(isample *s)
{
	s->cats[0] = "";
	s->cats[1] = NULL;
}
static void
m_cat_utf8(isample *s)
{
	s->cats[2] = "Z\xff";
}
static void
m_cat_overlong(isample *s)
{
	s->cats[2] = "\xc0\xaf";
}
static void
m_cat_long(isample *s)
{
	memset(long_cat, 'Z', sizeof(long_cat) - 1);
	long_cat[sizeof(long_cat) - 1] = '\0';
	s->cats[2] = long_cat;
}
static void
m_dup_name(isample *s)
{
	s->in[3].name = "city";
}
static void
m_dup_first(isample *s)
{
	s->in[2].name = "\xc3\xa2ge";
}
static void
m_name_empty(isample *s)
{
	s->in[0].name = "";
}
static void
m_name_utf8(isample *s)
{
	s->in[1].name = "\xed\xa0\x80";
}
static void
m_target_input(isample *s)
{
	s->inputs.target = "active";
}
static void
m_target_array(isample *s)
{
	s->inputs.target_kind = MLX_INPUT_ARRAY;
}
static void
m_target_kind0(isample *s)
{
	s->inputs.target_kind = 0;
}
static void
m_no_target_kind(isample *s)
{
	s->inputs.target = NULL;
}
static void
m_target_empty(isample *s)
{
	s->inputs.target = "";
}
static void
m_ninputs0(isample *s)
{
	s->inputs.ninputs = 0;
}

static bool
t_inputs_rejected(void)
{
	struct
	{
		void		(*f) (isample *);
		const char *msg;
	}			cases[] = {
		{m_kind, "input 2 has unknown kind 9"},
		{m_kind0, "input 1 has unknown kind 0"},
		{m_num_nfeat, "input 1 (numeric) has 2 features, expected 1"},
		{m_bool_nfeat, "input 2 (boolean) has 2 features, expected 1"},
		{m_arr_nfeat0, "input 4 (array) has 0 features, expected 1 to 8"},
		{m_cat_nfeat0, "input 3 (categorical) has 0 features, expected 1 to 8"},
		{m_sum, "inputs expand to 9 features but the model has 8"},
		{m_sum_less, "inputs expand to 7 features but the model has 8"},
		{m_imp_nan, "input 1 imputation value 1 is not finite"},
		{m_imp_inf, "input 4 imputation value 2 is not finite"},
		{m_bool_range, "input 2 (boolean) imputation value is outside 0 to 1"},
		{m_bool_neg, "input 2 (boolean) imputation value is outside 0 to 1"},
		{m_unsorted, "input 3 categories are not in strictly increasing byte order at category 4"},
		{m_dup_cat, "input 3 categories are not in strictly increasing byte order at category 4"},
		{m_null_late, "input 3 has the NULL category at position 2, allowed only first"},
		{m_cat_utf8, "input 3 category 3 is not valid UTF-8"},
		{m_cat_overlong, "input 3 category 3 is not valid UTF-8"},
		{m_cat_long, "input 3 category 3 has length 1025, expected 0 to 1024 bytes"},
		{m_dup_name, "input 4 has the same name as input 3"},
		{m_dup_first, "input 3 has the same name as input 1"},
		{m_name_empty, "input 1 name has length 0, expected 1 to 1024 bytes"},
		{m_name_utf8, "input 2 name is not valid UTF-8"},
		{m_target_input, "target column is also input 2"},
		{m_target_array, "target kind 4 is not valid"},
		{m_target_kind0, "target kind 0 is not valid"},
		{m_no_target_kind, "target kind is 1 but the model has no target column"},
		{m_target_empty, "target name has length 0"},
		{m_ninputs0, "inputs section declares 0 inputs, expected 1 to 8"},
	};
	size_t		c;

	EXPECT(load_bodies(), "cannot encode the isample");
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		isample		s;
		uint8_t		w[4096];
		size_t		wlen;
		builder		x;
		size_t		n;
		uint8_t    *out;
		size_t		len;
		mlx_model	m;
		char	   *json;
		mlx_status	st;

		make_isample(&s);
		cases[c].f(&s);
		st = encode_isample_with(&s, &s.inputs, &out, &len);
		EXPECT(st == MLX_EINVAL && out == NULL, "case %zu (%s): encoder says %s",
			   c, cases[c].msg, mlx_status_str(st));
		EXPECT(mlx_model_from_linreg(&s.fit, isample_features, &tctx, &m) == MLX_OK,
			   "build");
		m.inputs = &s.inputs;
		st = mlx_model_describe_json(&m, &tctx, &json);
		mlx_model_free_names(&m, &tctx);
		EXPECT(st == MLX_EINVAL, "case %zu: describe says %s", c,
			   mlx_status_str(st));
		wlen = w_inputs(w, &s.inputs);
		n = build_inputs_model(&x, w, wlen);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, cases[c].msg),
			   "case %zu: %s", c, case_reason);
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Byte-level defects the struct cannot express. */
typedef struct byte_case
{
	int			at;				/* offset in the inputs body, or -1 */
	int			width;			/* 1: byte, 4: u32 */
	uint32_t	value;
	int			extra;			/* bytes appended to the body */
	const char *msg;
} byte_case;

static bool
t_inputs_bytes_rejected(void)
{
	static const byte_case cases[] = {
		{I_AGE_RES, 1, 1, 0, "input 1 reserved byte is not zero"},
		{I_CAT1, 1, 2, 0, "input 3 category 1 null flag is 2, expected 0 or 1"},
		{I_CAT1 + 2, 1, 1, 0, "input 3 category 1 is the NULL category but has length 1"},
		{I_CAT3 + 3, 1, 0, 0, "input 3 category 3 contains a NUL byte"},
		{I_AGE_NAME + 2, 1, 0, 0, "input 1 name contains a NUL byte"},
		{I_TARGET, 1, 2, 0, "inputs section target flag is 2, expected 0 or 1"},
		{I_TARGET, 1, 0, 0, "inputs section has 7 trailing bytes"},
		{I_TARGET + 1, 1, 7, 0, "target kind 7 is not valid"},
		{I_TARGET + 2, 1, 0xFF, 0, "target name runs past the end of the inputs section"},
		{I_TARGET + 4, 1, 0xC3, 0, "target name is not valid UTF-8"},
		{I_TARGET + 4, 1, 0, 0, "target name contains a NUL byte"},
		{0, 4, 9, 0, "inputs section declares 9 inputs, expected 1 to 8"},
		{0, 4, 0xFFFFFFFF, 0, "inputs section declares 4294967295 inputs"},
		{0, 4, 5, 0, "input 5 runs past the end of the inputs section"},
		{I_EMB_NF, 4, 0xFFFFFFFF, 0, "input 4 (array) has 4294967295 features, expected 1 to 8"},
		{I_EMB_NF, 4, 8, 0, "input 4 imputation values run past the end of the inputs section"},
		{I_CITY_NF, 4, 8, 0, "input 3 category 5 runs past the end of the inputs section"},
		{I_EMB, 1, 0xFF, 0, "input 4 runs past the end of the inputs section"},
		{I_EMB + 1, 1, 0, 0, "input 4 name has length 0"},
		{-1, 0, 0, 1, "inputs section has 1 trailing bytes"},
	};
	uint8_t		good[4096];
	uint8_t		w[4096];
	size_t		glen;
	isample		s;
	builder		x;
	size_t		n;
	size_t		c;
	static const uint8_t tiny[10] = {0, 0, 0, 2, 1, 2, 3, 4, 0, 0};

	EXPECT(load_bodies(), "cannot encode the isample");
	make_isample(&s);
	glen = w_inputs(good, &s.inputs);
	EXPECT(glen == IN_LEN, "body length %zu", glen);
	n = build_inputs_model(&x, good, glen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "good body: %s", case_reason);

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		memcpy(w, good, glen);
		if (cases[c].width == 1)
			w[cases[c].at] = (uint8_t) cases[c].value;
		else if (cases[c].width == 4)
			put32(w + cases[c].at, cases[c].value);
		memset(w + glen, 0, (size_t) cases[c].extra);
		n = build_inputs_model(&x, w, glen + (size_t) cases[c].extra);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, cases[c].msg),
			   "case %zu: %s", c, case_reason);
	}

	/* counts bounded by the bytes, before anything is allocated */
	n = build_inputs_model(&x, tiny, sizeof(tiny));
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "inputs section declares 2 inputs but its 10 bytes can hold at most 0"),
		   "tiny: %s", case_reason);
	n = build_inputs_model(&x, tiny, 5);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "inputs section has 5 bytes, expected at least 6"),
		   "5 bytes: %s", case_reason);

	/* every truncation of the inputs body */
	for (c = 0; c < glen; c++)
	{
		n = build_inputs_model(&x, good, c);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, NULL),
			   "truncated to %zu: %s", c, case_reason);
	}

	/* at most once; any position */
	b_header(&x, 1, IK);
	b_section(&x, MLX_SEC_FEATURES, g_feat, IFEAT_LEN);
	b_section(&x, MLX_SEC_INPUTS, good, (uint32_t) glen);
	b_section(&x, MLX_SEC_LINREG, g_lr, ILR_LEN);
	b_section(&x, MLX_SEC_INPUTS, good, (uint32_t) glen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has more than one inputs section"),
		   "duplicate: %s", case_reason);
	b_header(&x, 1, IK);
	b_section(&x, MLX_SEC_INPUTS, good, (uint32_t) glen);
	b_section(&x, MLX_SEC_LINREG, g_lr, ILR_LEN);
	b_section(&x, MLX_SEC_FEATURES, g_feat, IFEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "inputs first: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * Flip every byte of the inputs body three ways, with the CRC repaired:
 * each result is rejected cleanly or decodes to a model that re-encodes to
 * a value decoding to the same bytes.
 */
static bool
t_inputs_flips(void)
{
	uint8_t		good[4096];
	isample		s;
	builder		x;
	size_t		glen;
	size_t		i;
	int			f;
	static const uint8_t masks[3] = {0x01, 0x80, 0xFF};
	int			accepted = 0;

	EXPECT(load_bodies(), "cannot encode the isample");
	make_isample(&s);
	glen = w_inputs(good, &s.inputs);
	for (i = 0; i < glen; i++)
	{
		for (f = 0; f < 3; f++)
		{
			mlx_model	m;
			mlx_model	m2;
			uint8_t    *enc;
			size_t		enclen;
			size_t		n;
			uint8_t    *copy;
			mlx_status	st;

			good[i] ^= masks[f];
			n = build_inputs_model(&x, good, glen);
			good[i] ^= masks[f];
			copy = malloc(n);
			memcpy(copy, x.b, n);
			st = mlx_model_decode(copy, n, &tctx, &m, NULL, 0);
			free(copy);
			EXPECT(st == MLX_OK || st == MLX_ECORRUPT,
				   "byte %zu mask %d: %s", i, f, mlx_status_str(st));
			if (st != MLX_OK)
				continue;
			accepted++;
			st = mlx_model_encode(&m, &tctx, 0, &enc, &enclen);
			EXPECT(st == MLX_OK, "byte %zu mask %d: re-encode %s", i, f,
				   mlx_status_str(st));
			EXPECT(enclen == n && memcmp(enc, x.b, n) == 0,
				   "byte %zu mask %d: canonical value re-encoded differently", i, f);
			EXPECT(mlx_model_decode(enc, enclen, &tctx, &m2, NULL, 0) == MLX_OK,
				   "byte %zu: re-decode", i);
			mlx_model_free(&m2, &tctx);
			mlx_free(&tctx, enc);
			mlx_model_free(&m, &tctx);
		}
	}
	/* flips of impute bits and category text keep some values valid */
	EXPECT(accepted > 0, "no flipped value was accepted");
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_encode_inputs(void)
{
	isample		s;
	char	  **names;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	mlx_status	st;

	make_isample(&s);
	st = mlx_inputs_feature_names(&s.inputs, &tctx, &names);
	if (st != MLX_OK)
		return st;
	st = mlx_model_from_linreg(&s.fit, names, &tctx, &m);
	mlx_free(&tctx, names);
	if (st != MLX_OK)
		return st;
	m.inputs = &s.inputs;
	st = mlx_model_encode(&m, &tctx, 0, &out, &len);
	mlx_model_free_names(&m, &tctx);
	if (st == MLX_OK)
		mlx_free(&tctx, out);
	return st;
}

static bool
t_inputs_enomem(void)
{
	bool		ok;

	ok = enomem_sweep("encode with inputs", op_encode_inputs);
	if (!ok)
		return false;
	enomem_value = encode_isample(&enomem_len);
	EXPECT(enomem_value != NULL, "encode");
	ok = enomem_sweep("decode with inputs", op_decode) &&
		enomem_sweep("describe with inputs", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- logistic regression (MLX_SEC_LOGREG) ---------- */

typedef struct lsample
{
	mlx_logreg_fit fit;
	double		coef[IK + 1];
	double		se[IK + 1];
	double		zval[IK + 1];
	double		pval[IK + 1];
} lsample;

static char *lsample_names[2] = {"a", "b\xc3\xa9"};

/*
 * k = 2, intercept, converged; a zero standard error with an infinite z
 * value; classes "no" and "yes" weighted 1 and 2.5.
 */
static void
make_lsample(lsample *s)
{
	static const double coef[3] = {-0.5, 1.25, -2.0};
	static const double se[3] = {0.25, 0.5, 0.0};
	static const double zval[3] = {-2.0, 2.5, 0.0};
	static const double pval[3] = {0.046875, 0.01171875, 0.0};

	memset(s, 0, sizeof(*s));
	memcpy(s->coef, coef, sizeof(coef));
	memcpy(s->se, se, sizeof(se));
	memcpy(s->zval, zval, sizeof(zval));
	memcpy(s->pval, pval, sizeof(pval));
	s->zval[2] = -INFINITY;
	s->fit.nfeat = 2;
	s->fit.intercept = true;
	s->fit.lambda = 0;
	s->fit.nrows = 120;
	s->fit.nskipped = 4;
	s->fit.iterations = 6;
	s->fit.converged = true;
	s->fit.separation = false;
	s->fit.loglik = -61.25;
	s->fit.loglik_null = -83.0;
	s->fit.deviance = 122.5;
	s->fit.coef = s->coef;
	s->fit.se = s->se;
	s->fit.zval = s->zval;
	s->fit.pval = s->pval;
	s->fit.class_weight[0] = 1.0;
	s->fit.class_weight[1] = 2.5;
	s->fit.classes[0] = "no";
	s->fit.classes[1] = "yes";
}

/* Encode a logistic fit with names (NULL: defaults) and inputs (may be NULL). */
static mlx_status
encode_logreg_with(const mlx_logreg_fit *fit, char **names, mlx_inputs *in,
				   uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_logreg(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_lsample(size_t *len)
{
	lsample		s;
	uint8_t    *out;

	make_lsample(&s);
	if (encode_logreg_with(&s.fit, lsample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the lsample encoding: features body at 32 (8 bytes: 2+1,
 * 2+3), logreg section header at 40, body at 48 (177 bytes = 72 + 32 * 3 +
 * 2 + 2 + 2 + 3), CRC at 225.  Inside the logreg body (doc/model-format.md):
 * flags 0, reserved 1..3, iterations 4, nrows 8, nskipped 16, lambda 24,
 * loglik 32, loglik_null 40, deviance 48, class weights 56 and 64, coef 72,
 * se 96, zval 120, pval 144, label 0 length at 168, label 1 length at 172.
 */
#define LFEAT_BODY 32
#define LFEAT_LEN 8
#define LG_HDR 40
#define LG_BODY 48
#define LG_LEN 177
#define LSAMPLE_LEN 229

/* A test-side writer of the logreg layout, independent of the encoder. */
static size_t
w_logreg(uint8_t *out, const mlx_logreg_fit *f)
{
	uint8_t    *p = out;
	const double *arrays[4] = {f->coef, f->se, f->zval, f->pval};
	int			a;
	int32_t		i;

	p[0] = (uint8_t) ((f->intercept ? 1 : 0) | (f->converged ? 2 : 0) |
					  (f->separation ? 4 : 0));
	p[1] = p[2] = p[3] = 0;
	put32(p + 4, (uint32_t) f->iterations);
	put64(p + 8, (uint64_t) f->nrows);
	put64(p + 16, (uint64_t) f->nskipped);
	putf64(p + 24, f->lambda);
	putf64(p + 32, f->loglik);
	putf64(p + 40, f->loglik_null);
	putf64(p + 48, f->deviance);
	putf64(p + 56, f->class_weight[0]);
	putf64(p + 64, f->class_weight[1]);
	p += 72;
	for (a = 0; a < 4; a++)
		for (i = 0; i <= f->nfeat; i++, p += 8)
			putf64(p, arrays[a][i]);
	p += w_text(p, f->classes[0]);
	p += w_text(p, f->classes[1]);
	return (size_t) (p - out);
}

/* A k = 2 logistic model with the lsample names and the given logreg body. */
static size_t
build_logreg_model(builder *x, const uint8_t *body, size_t len)
{
	uint8_t		feat[LFEAT_LEN];
	size_t		n = 0;

	n += w_text(feat + n, lsample_names[0]);
	n += w_text(feat + n, lsample_names[1]);
	b_header(x, MLX_ALG_LOGISTIC_REGRESSION, 2);
	b_section(x, MLX_SEC_FEATURES, feat, (uint32_t) n);
	b_section(x, MLX_SEC_LOGREG, body, (uint32_t) len);
	return b_finish(x);
}

/* Every field of two logistic fits is the same (doubles bit for bit). */
static bool
same_logreg(const mlx_logreg_fit *a, const mlx_logreg_fit *b)
{
	int32_t		i;

	EXPECT(a->nfeat == b->nfeat && a->intercept == b->intercept &&
		   a->converged == b->converged && a->separation == b->separation &&
		   a->iterations == b->iterations && a->nrows == b->nrows &&
		   a->nskipped == b->nskipped, "integer fields differ");
	EXPECT(same_double(a->lambda, b->lambda) && same_double(a->loglik, b->loglik) &&
		   same_double(a->loglik_null, b->loglik_null) &&
		   same_double(a->deviance, b->deviance) &&
		   same_double(a->class_weight[0], b->class_weight[0]) &&
		   same_double(a->class_weight[1], b->class_weight[1]),
		   "summary doubles differ");
	for (i = 0; i <= a->nfeat; i++)
		EXPECT(same_double(a->coef[i], b->coef[i]) &&
			   same_double(a->se[i], b->se[i]) &&
			   same_double(a->zval[i], b->zval[i]) &&
			   same_double(a->pval[i], b->pval[i]), "array entry %d differs", (int) i);
	EXPECT(strcmp(a->classes[0], b->classes[0]) == 0 &&
		   strcmp(a->classes[1], b->classes[1]) == 0, "class labels differ");
	return true;
}

static bool
t_logreg_round_trip(void)
{
	lsample		s;
	size_t		len;
	size_t		len2;
	uint8_t    *buf = encode_lsample(&len);
	uint8_t    *buf2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;

	make_lsample(&s);
	EXPECT(buf != NULL, "encode failed");
	EXPECT(len == LSAMPLE_LEN, "length %zu, expected %d", len, LSAMPLE_LEN);
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	EXPECT(st == MLX_OK, "decode: %s", err);
	EXPECT(m.format_version == 1 && m.algorithm == MLX_ALG_LOGISTIC_REGRESSION &&
		   m.nfeat == 2 && m.inputs == NULL, "header fields differ");
	EXPECT(strcmp(m.feature_names[0], "a") == 0 &&
		   strcmp(m.feature_names[1], lsample_names[1]) == 0, "names differ");
	if (!same_logreg(&m.u.logreg, &s.fit))
		return false;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &buf2, &len2) == MLX_OK, "re-encode");
	EXPECT(len2 == len && memcmp(buf, buf2, len) == 0, "re-encode differs");
	mlx_free(&tctx, buf2);
	mlx_free(&tctx, buf);
	mlx_model_free(&m, &tctx);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_logreg_layout(void)
{
	lsample		s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[512];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, LSAMPLE_LEN - 28, 0, 0, 0, 0
	};
	static const uint8_t cw1[8] = {0x40, 0x04, 0, 0, 0, 0, 0, 0};
	static const uint8_t labels[9] = {0, 2, 'n', 'o', 0, 3, 'y', 'e', 's'};

	make_lsample(&s);
	a = encode_lsample(&alen);
	EXPECT(a != NULL, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[LG_HDR + 1] == MLX_SEC_LOGREG && a[LG_HDR + 7] == LG_LEN,
		   "logreg section header differs");
	EXPECT(a[LG_BODY] == 0x03 && a[LG_BODY + 7] == 6 && a[LG_BODY + 15] == 120 &&
		   a[LG_BODY + 23] == 4, "flags/iterations/nrows/nskipped bytes differ");
	EXPECT(memcmp(a + LG_BODY + 64, cw1, 8) == 0,
		   "class weight 1 is not big-endian binary64");
	EXPECT(memcmp(a + LG_BODY + 168, labels, 9) == 0, "class label bytes differ");
	/* the encoder writes what the documented layout says */
	wlen = w_logreg(w, &s.fit);
	EXPECT(wlen == LG_LEN && memcmp(w, a + LG_BODY, LG_LEN) == 0,
		   "logreg body differs from the documented layout");
	n = build_logreg_model(&x, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	/* deterministic, and the reserve only shifts the bytes */
	EXPECT(mlx_model_from_logreg(&s.fit, lsample_names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	b = encode_lsample(&blen);
	EXPECT(b != NULL && blen == alen && memcmp(a, b, alen) == 0,
		   "two encodings differ");
	mlx_free(&tctx, a);
	mlx_free(&tctx, b);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_logreg_variants(void)
{
	lsample		s;
	uint8_t    *buf;
	size_t		len;
	mlx_model	m;
	char		err[256];
	int32_t		i;

	/* no intercept, ridge (no statistics), separated, not converged, defaults */
	make_lsample(&s);
	s.fit.intercept = false;
	s.fit.converged = false;
	s.fit.separation = true;
	s.fit.lambda = 2.0;
	s.fit.iterations = 0;
	s.fit.nskipped = 0;
	s.fit.loglik = NAN;
	s.fit.loglik_null = -0.0;
	s.fit.deviance = NAN;
	s.fit.class_weight[0] = 1e-300;
	s.fit.classes[0] = "\xe6\x9d\xb1";
	s.fit.classes[1] = "\xe6\x9d\xb1\xe4\xba\xac";
	s.coef[0] = 0.0;
	for (i = 0; i <= 2; i++)
		s.se[i] = s.zval[i] = s.pval[i] = NAN;
	EXPECT(encode_logreg_with(&s.fit, NULL, NULL, &buf, &len) == MLX_OK, "encode");
	/* "x1", "x2" take as many bytes as the lsample names; labels 4 more */
	EXPECT(len == LSAMPLE_LEN + 4 && buf[LG_HDR + 1] == MLX_SEC_LOGREG,
		   "section header");
	EXPECT(mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err)) == MLX_OK,
		   "decode: %s", err);
	EXPECT(strcmp(m.feature_names[0], "x1") == 0 &&
		   strcmp(m.feature_names[1], "x2") == 0, "default names");
	EXPECT(buf[LG_BODY] == 0x04, "flags byte 0x%02x, expected 0x04", buf[LG_BODY]);
	if (!same_logreg(&m.u.logreg, &s.fit))
		return false;
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);

	/* the longest labels */
	{
		char		l0[MLX_MODEL_MAX_NAME_LEN + 1];
		char		l1[MLX_MODEL_MAX_NAME_LEN + 1];

		memset(l0, 'p', MLX_MODEL_MAX_NAME_LEN);
		memset(l1, 'q', MLX_MODEL_MAX_NAME_LEN);
		l0[MLX_MODEL_MAX_NAME_LEN] = l1[MLX_MODEL_MAX_NAME_LEN] = '\0';
		s.fit.classes[0] = l0;
		s.fit.classes[1] = l1;
		EXPECT(encode_logreg_with(&s.fit, NULL, NULL, &buf, &len) == MLX_OK,
			   "encode long labels");
		EXPECT(decode_expect(buf, len, MLX_OK, NULL), "long labels: %s", case_reason);
		mlx_free(&tctx, buf);
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* k = 8 logistic fit for the isample inputs */
static void
make_lsample8(lsample *s)
{
	int			i;

	make_lsample(s);
	s->fit.nfeat = IK;
	for (i = 0; i <= IK; i++)
	{
		s->coef[i] = 0.125 * i - 0.5;
		s->se[i] = 0.25;
		s->zval[i] = s->coef[i] / 0.25;
		s->pval[i] = 0.5;
	}
}

static bool
t_logreg_inputs_round_trip(void)
{
	isample		is;
	lsample		s;
	uint8_t    *buf;
	uint8_t    *buf2;
	uint8_t    *plain;
	size_t		len;
	size_t		len2;
	size_t		plain_len;
	size_t		pos;
	uint32_t	slen;
	mlx_model	m;
	char		err[256];

	make_isample(&is);
	is.inputs.target = "churned";
	is.inputs.target_kind = MLX_INPUT_BOOLEAN;
	make_lsample8(&s);
	EXPECT(encode_logreg_with(&s.fit, isample_features, &is.inputs, &buf, &len) ==
		   MLX_OK, "encode");
	/* canonical order: features, inputs, logreg */
	pos = 24;
	EXPECT(buf[pos + 1] == MLX_SEC_FEATURES, "first section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_INPUTS, "second section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_LOGREG, "third section");
	slen = (uint32_t) buf[pos + 6] << 8 | buf[pos + 7];
	EXPECT(pos + 8 + slen + 4 == len, "logreg is not the last section");

	/* the logreg section is that of the same model without inputs */
	EXPECT(encode_logreg_with(&s.fit, isample_features, NULL, &plain, &plain_len) ==
		   MLX_OK, "encode plain");
	EXPECT(memcmp(plain + plain_len - 4 - slen - 8, buf + pos, slen + 8) == 0,
		   "inputs changed the logreg section");
	mlx_free(&tctx, plain);

	EXPECT(mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err)) == MLX_OK,
		   "decode: %s", err);
	EXPECT(m.inputs != NULL && m.inputs->ninputs == 4 &&
		   strcmp(m.inputs->target, "churned") == 0 &&
		   m.inputs->target_kind == MLX_INPUT_BOOLEAN, "inputs differ");
	if (!same_logreg(&m.u.logreg, &s.fit))
		return false;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &buf2, &len2) == MLX_OK, "re-encode");
	EXPECT(len2 == len && memcmp(buf, buf2, len) == 0, "re-encode differs");
	mlx_free(&tctx, buf2);
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode the lsample, edit it with f, reseal, and expect msg. */
static bool
ledit_expect(void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_lsample(&len);
	bool		ok;

	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

static void
le_flags(uint8_t *v)
{
	v[LG_BODY] |= 0x08;
}

static void
le_reserved(uint8_t *v)
{
	v[LG_BODY + 3] = 1;
}

static void
le_no_intercept(uint8_t *v)
{
	v[LG_BODY] &= (uint8_t) ~1;	/* coef[0] is -0.5: inconsistent */
}

static void
le_iterations(uint8_t *v)
{
	put32(v + LG_BODY + 4, 0xFFFFFFFFu);
}

static void
le_nrows(uint8_t *v)
{
	put64(v + LG_BODY + 8, 0);
}

static void
le_nskipped(uint8_t *v)
{
	put64(v + LG_BODY + 16, UINT64_MAX);
}

static void
le_lambda(uint8_t *v)
{
	putf64(v + LG_BODY + 24, INFINITY);
}

static void
le_loglik(uint8_t *v)
{
	putf64(v + LG_BODY + 32, 0.5);
}

static void
le_loglik_inf(uint8_t *v)
{
	putf64(v + LG_BODY + 40, -INFINITY);
}

static void
le_deviance(uint8_t *v)
{
	putf64(v + LG_BODY + 48, -1.0);
}

static void
le_cw0_zero(uint8_t *v)
{
	putf64(v + LG_BODY + 56, 0.0);
}

static void
le_cw1_nan(uint8_t *v)
{
	putf64(v + LG_BODY + 64, NAN);
}

static void
le_cw1_inf(uint8_t *v)
{
	putf64(v + LG_BODY + 64, INFINITY);
}

static void
le_cw0_negative(uint8_t *v)
{
	putf64(v + LG_BODY + 56, -1.0);
}

static void
le_coef_nan(uint8_t *v)
{
	putf64(v + LG_BODY + 72 + 8, NAN);
}

static void
le_coef_inf(uint8_t *v)
{
	putf64(v + LG_BODY + 72 + 16, INFINITY);
}

static void
le_se_negative(uint8_t *v)
{
	putf64(v + LG_BODY + 96, -0.25);
}

static void
le_zval_inf(uint8_t *v)
{
	putf64(v + LG_BODY + 120 + 8, INFINITY);	/* se[1] is 0.5 */
}

static void
le_pval(uint8_t *v)
{
	putf64(v + LG_BODY + 144 + 16, -0.5);
}

static void
le_label_nul(uint8_t *v)
{
	v[LG_BODY + 171] = 0;		/* "no" -> "n\0" */
}

static void
le_label_utf8(uint8_t *v)
{
	v[LG_BODY + 176] = 0xC3;	/* "ye\xc3": truncated sequence */
}

static void
le_label0_past_end(uint8_t *v)
{
	v[LG_BODY + 169] = 9;		/* label 0 claims 9 of the 7 bytes left */
}

static void
le_label1_length(uint8_t *v)
{
	v[LG_BODY + 173] = 2;		/* label 1 "ye": one byte left over */
}

static void
le_section_long(uint8_t *v)
{
	put32(v + LG_HDR + 4, LG_LEN + 1);
}

static bool
t_logreg_crafted(void)
{
	struct
	{
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{le_flags, "logistic regression flags 0x0b are not defined"},
		{le_reserved, "logistic regression section reserved bytes are not zero"},
		{le_no_intercept, "logistic regression without intercept has a non-zero intercept"},
		{le_iterations, "iteration count -1 is negative"},
		{le_nrows, "logistic regression row counts are invalid (0 rows"},
		{le_nskipped, "row counts"},
		{le_lambda, "penalty lambda"},
		{le_loglik, "log-likelihood or deviance is out of range"},
		{le_loglik_inf, "log-likelihood or deviance"},
		{le_deviance, "log-likelihood or deviance"},
		{le_cw0_zero, "class weight 0 is not a finite number > 0"},
		{le_cw0_negative, "class weight 0"},
		{le_cw1_nan, "class weight 1 is not a finite number > 0"},
		{le_cw1_inf, "class weight 1"},
		{le_coef_nan, "logistic regression coefficient 1 is not finite"},
		{le_coef_inf, "logistic regression coefficient 2 is not finite"},
		{le_se_negative, "standard error 0 is negative or infinite"},
		{le_zval_inf, "z value 1 is infinite but its standard error is not 0"},
		{le_pval, "p value 2 is outside 0 to 1"},
		{le_label_nul, "class label 0 contains a NUL byte"},
		{le_label_utf8, "class label 1 is not valid UTF-8"},
		{le_label0_past_end, "class label 0 runs past the end of its section"},
		{le_label1_length, "logistic regression section has 177 bytes, expected 176"},
		{le_section_long, "declares 178 bytes but only 177 remain"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(ledit_expect(cases[i].f, cases[i].msg), "case %zu: %s", i, case_reason);
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_logreg_bytes_rejected(void)
{
	lsample		s;
	uint8_t		w[512];
	size_t		wlen;
	builder		x;
	size_t		n;
	uint8_t		feat[LFEAT_LEN];

	n = w_text(feat, lsample_names[0]);
	w_text(feat + n, lsample_names[1]);

	make_lsample(&s);
	s.fit.classes[1] = "no";
	wlen = w_logreg(w, &s.fit);
	n = build_logreg_model(&x, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "logistic regression class labels 0 and 1 are equal"),
		   "equal labels: %s", case_reason);

	make_lsample(&s);
	s.fit.classes[0] = "";
	wlen = w_logreg(w, &s.fit);
	n = build_logreg_model(&x, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "class label 0 has length 0, expected 1 to 1024 bytes"),
		   "empty label: %s", case_reason);

	make_lsample(&s);
	s.fit.classes[1] = "";
	wlen = w_logreg(w, &s.fit);
	n = build_logreg_model(&x, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "class label 1 has length 0"),
		   "empty label 1: %s", case_reason);

	/* a label of 1025 bytes */
	{
		static char longl[MLX_MODEL_MAX_NAME_LEN + 2];
		uint8_t		big[2048];

		memset(longl, 'z', MLX_MODEL_MAX_NAME_LEN + 1);
		make_lsample(&s);
		s.fit.classes[0] = longl;
		wlen = w_logreg(big, &s.fit);
		n = build_logreg_model(&x, big, wlen);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "class label 0 has length 1025"),
			   "long label: %s", case_reason);
	}

	/* wrong lengths: a spare byte, a short section, a missing label 1 */
	make_lsample(&s);
	wlen = w_logreg(w, &s.fit);
	w[wlen] = 'x';
	n = build_logreg_model(&x, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "logistic regression section has 178 bytes, expected 177 for 2 features and class labels of 2 and 3 bytes"),
		   "spare byte: %s", case_reason);
	n = build_logreg_model(&x, w, 100);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "logistic regression section has 100 bytes, expected at least 172 for 2 features"),
		   "short: %s", case_reason);
	n = build_logreg_model(&x, w, 172);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "class label 0 runs past the end"),
		   "no label bytes: %s", case_reason);

	/* section set */
	b_header(&x, MLX_ALG_LOGISTIC_REGRESSION, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, LFEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has no logistic regression section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_LOGISTIC_REGRESSION, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, LFEAT_LEN);
	b_section(&x, MLX_SEC_LOGREG, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_LOGREG, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one logistic regression section"),
		   "duplicate: %s", case_reason);
	b_header(&x, MLX_ALG_LOGISTIC_REGRESSION, 2);
	b_section(&x, MLX_SEC_LOGREG, w, (uint32_t) wlen);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, LFEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);
	/*
	 * k in the header must match the arrays: with k = 1 the label lengths
	 * are read from inside the arrays
	 */
	b_header(&x, MLX_ALG_LOGISTIC_REGRESSION, 1);
	b_section(&x, MLX_SEC_FEATURES, feat, 3);
	b_section(&x, MLX_SEC_LOGREG, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "logistic regression"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_logreg_truncations(void)
{
	size_t		len;
	uint8_t    *buf = encode_lsample(&len);
	size_t		n;

	EXPECT(buf != NULL, "encode");
	for (n = 0; n < len; n++)
	{
		if (!decode_expect(buf, n, MLX_ECORRUPT, NULL))
		{
			mlx_free(&tctx, buf);
			snprintf(case_reason + strlen(case_reason), sizeof(case_reason) - strlen(case_reason),
					 " at length %zu", n);
			return false;
		}
	}
	mlx_free(&tctx, buf);
	return true;
}

/*
 * Every byte flipped three ways: without a CRC repair always rejected; with
 * it, rejected cleanly or decoded into a model that re-encodes to the very
 * same bytes.
 */
static bool
t_logreg_byte_flips(void)
{
	size_t		len;
	uint8_t    *buf = encode_lsample(&len);
	size_t		i;
	int			f;
	static const uint8_t masks[3] = {0x01, 0x80, 0xFF};
	int			accepted = 0;

	EXPECT(buf != NULL, "encode");
	for (i = 0; i < len; i++)
	{
		for (f = 0; f < 3; f++)
		{
			mlx_status	want;
			mlx_model	m;
			mlx_status	st;
			uint8_t    *enc;
			size_t		enclen;

			buf[i] ^= masks[f];
			want = (i == 4 || (i == 5 && buf[5] > 1)) ?
				MLX_EUNSUPPORTED : MLX_ECORRUPT;
			if (!decode_expect(buf, len, want, NULL))
			{
				snprintf(case_reason + strlen(case_reason), sizeof(case_reason) - strlen(case_reason),
						 " flipping byte %zu with 0x%02x", i, masks[f]);
				return false;
			}
			if (i < len - 4)
			{
				reseal(buf, len);
				st = mlx_model_decode(buf, len, &tctx, &m, NULL, 0);
				EXPECT(st == MLX_OK || st == MLX_ECORRUPT || st == MLX_EUNSUPPORTED,
					   "byte %zu: %s", i, mlx_status_str(st));
				if (st == MLX_OK)
				{
					accepted++;
					EXPECT(mlx_model_encode(&m, &tctx, 0, &enc, &enclen) == MLX_OK,
						   "byte %zu mask %d: re-encode", i, f);
					EXPECT(enclen == len && memcmp(enc, buf, len) == 0,
						   "byte %zu mask %d: re-encoded differently", i, f);
					mlx_free(&tctx, enc);
					mlx_model_free(&m, &tctx);
				}
			}
			buf[i] ^= masks[f];
			reseal(buf, len);
		}
	}
	EXPECT(accepted > 0, "no resealed flip was accepted");
	EXPECT(decode_expect(buf, len, MLX_OK, NULL), "restored: %s", case_reason);
	mlx_free(&tctx, buf);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_logreg_encoder_rejects(void)
{
	lsample		s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;
	char		badutf[2] = {'\xff', 0};

	make_lsample(&s);
	EXPECT(mlx_model_from_logreg(&s.fit, lsample_names, &tctx, &m) == MLX_OK, "build");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.logreg.classes[1] = "no";
	REFUSED("equal labels");
	m.u.logreg.classes[1] = "";
	REFUSED("empty label");
	m.u.logreg.classes[1] = badutf;
	REFUSED("invalid UTF-8 label");
	m.u.logreg.classes[1] = NULL;
	REFUSED("NULL label");
	m.u.logreg.classes[1] = "yes";
	m.u.logreg.class_weight[1] = 0;
	REFUSED("zero class weight");
	m.u.logreg.class_weight[1] = NAN;
	REFUSED("NaN class weight");
	m.u.logreg.class_weight[1] = 2.5;
	s.coef[1] = INFINITY;
	REFUSED("infinite coefficient");
	s.coef[1] = 1.25;
	s.zval[1] = INFINITY;
	REFUSED("infinite z with se > 0");
	s.zval[1] = 2.5;
	m.u.logreg.iterations = -1;
	REFUSED("negative iterations");
	m.u.logreg.iterations = 6;
	m.u.logreg.loglik = 1.0;
	REFUSED("positive log-likelihood");
	m.u.logreg.loglik = -61.25;
	m.u.logreg.nrows = 0;
	REFUSED("no rows");
	m.u.logreg.nrows = 120;
	m.u.logreg.intercept = false;
	REFUSED("intercept without the flag");
	m.u.logreg.intercept = true;
	m.u.logreg.nfeat = 3;
	REFUSED("nfeat mismatch");
	m.u.logreg.nfeat = 2;
	m.u.logreg.zval = NULL;
	REFUSED("missing array");
	m.u.logreg.zval = s.zval;
	m.algorithm = 999;
	REFUSED("unknown algorithm");
	m.algorithm = MLX_ALG_LOGISTIC_REGRESSION;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_logreg_json(void)
{
	lsample		s;
	isample		is;
	mlx_model	m;
	char	   *json;
	const char *want =
	"{\"algorithm\":\"logistic_regression\",\"format_version\":1,"
	"\"n_features\":2,\"features\":[\"a\",\"b\xc3\xa9\"],"
	"\"classes\":[\"no\",\"yes\"],\"positive_class\":\"yes\","
	"\"fit_intercept\":true,\"lambda\":0,"
	"\"class_weight\":{\"no\":1,\"yes\":2.5},"
	"\"n_rows\":120,\"n_skipped\":4,\"iterations\":6,"
	"\"converged\":true,\"separation\":false,"
	"\"log_likelihood\":-61.25,\"null_log_likelihood\":-83,\"deviance\":122.5,"
	"\"intercept\":-0.5,\"coefficients\":[1.25,-2],"
	"\"std_errors\":[0.25,0.5,0],\"z_values\":[-2,2.5,null],"
	"\"p_values\":[0.046875,0.01171875,0]}";

	make_lsample(&s);
	EXPECT(mlx_model_from_logreg(&s.fit, lsample_names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);

	/* escaped labels, NaN statistics, flags, no intercept */
	m.u.logreg.classes[0] = "n\"o";
	m.u.logreg.classes[1] = "y\\es";
	m.u.logreg.intercept = false;
	m.u.logreg.separation = true;
	m.u.logreg.converged = false;
	m.u.logreg.loglik = NAN;
	s.coef[0] = 0;
	s.se[0] = NAN;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strstr(json, "\"classes\":[\"n\\\"o\",\"y\\\\es\"],\"positive_class\":\"y\\\\es\",\"fit_intercept\":false,") &&
		   strstr(json, "\"class_weight\":{\"n\\\"o\":1,\"y\\\\es\":2.5}") &&
		   strstr(json, "\"converged\":false,\"separation\":true,\"log_likelihood\":null,") &&
		   strstr(json, "\"intercept\":0,") &&
		   strstr(json, "\"std_errors\":[null,0.5,0]"), "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);

	/* with inputs: inputs and target straight after the features */
	make_isample(&is);
	make_lsample8(&s);
	EXPECT(mlx_model_from_logreg(&s.fit, isample_features, &tctx, &m) == MLX_OK,
		   "build 8");
	m.inputs = &is.inputs;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 3");
	EXPECT(strstr(json, "\"emb[2]\"],\"inputs\":[{\"name\":") &&
		   strstr(json, "]}],\"target\":\"price\",\"classes\":[\"no\",\"yes\"],"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_logreg(void)
{
	lsample		s;
	mlx_model	m;
	mlx_status	st;

	make_lsample(&s);
	st = mlx_model_from_logreg(&s.fit, lsample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_logreg(void)
{
	size_t		len;
	uint8_t    *buf = encode_lsample(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static mlx_status
op_encode_logreg_inputs(void)
{
	isample		is;
	lsample		s;
	uint8_t    *buf;
	size_t		len;
	mlx_status	st;

	make_isample(&is);
	make_lsample8(&s);
	st = encode_logreg_with(&s.fit, isample_features, &is.inputs, &buf, &len);
	if (st == MLX_OK)
		mlx_free(&tctx, buf);
	return st;
}

static bool
t_logreg_enomem(void)
{
	bool		ok;
	isample		is;
	lsample		s;
	mlx_status	st;

	ok = enomem_sweep("from_logreg", op_from_logreg) &&
		enomem_sweep("encode logistic", op_encode_logreg) &&
		enomem_sweep("encode logistic with inputs", op_encode_logreg_inputs);
	if (!ok)
		return false;
	enomem_value = encode_lsample(&enomem_len);
	EXPECT(enomem_value != NULL, "encode");
	ok = enomem_sweep("decode logistic", op_decode) &&
		enomem_sweep("describe logistic", op_describe);
	mlx_free(&tctx, enomem_value);
	if (!ok)
		return false;
	make_isample(&is);
	make_lsample8(&s);
	st = encode_logreg_with(&s.fit, isample_features, &is.inputs, &enomem_value,
							&enomem_len);
	EXPECT(st == MLX_OK, "encode with inputs");
	ok = enomem_sweep("decode logistic with inputs", op_decode) &&
		enomem_sweep("describe logistic with inputs", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- shared by the lasso / elastic net and PCA cases ---------- */

/* Every truncation of an encoded value is rejected as corrupt. */
static bool
every_truncation_rejected(const uint8_t *buf, size_t len)
{
	size_t		n;

	for (n = 0; n < len; n++)
	{
		if (!decode_expect(buf, n, MLX_ECORRUPT, NULL))
		{
			snprintf(case_reason + strlen(case_reason), sizeof(case_reason) - strlen(case_reason),
					 " at length %zu", n);
			return false;
		}
	}
	return true;
}

/*
 * True when byte i of the valid value buf is the first byte of a section
 * tag (flipping its top bit turns the section into an optional one, which
 * the decoder skips).
 */
static bool
is_tag_high_byte(const uint8_t *buf, size_t len, size_t i)
{
	size_t		pos = MLX_MODEL_HEADER_SIZE;

	while (pos + 8 <= len - 4)
	{
		if (pos == i)
			return true;
		pos += 8 + (((size_t) buf[pos + 4] << 24) | ((size_t) buf[pos + 5] << 16) |
					((size_t) buf[pos + 6] << 8) | buf[pos + 7]);
	}
	return false;
}

/*
 * Every byte of an encoded value flipped three ways: without a CRC repair
 * always rejected; with it, rejected cleanly or decoded into a model that
 * re-encodes to the very same bytes.  The one exception is a section whose
 * tag became optional (>= 0x8000) and was skipped, as the inputs section
 * can be: the value is then no longer canonical, and its re-encoding must
 * decode and re-encode to itself.  buf is restored before returning.
 */
static bool
flips_rejected_or_canonical(uint8_t *buf, size_t len)
{
	static const uint8_t masks[3] = {0x01, 0x80, 0xFF};
	size_t		i;
	int			f;
	int			accepted = 0;

	for (i = 0; i < len; i++)
	{
		bool		tag_byte = is_tag_high_byte(buf, len, i);

		for (f = 0; f < 3; f++)
		{
			mlx_status	want;
			mlx_status	st;
			mlx_model	m;
			uint8_t    *enc = NULL;
			size_t		enclen = 0;
			bool		same = true;

			buf[i] ^= masks[f];
			want = (i == 4 || (i == 5 && buf[5] > 1)) ?
				MLX_EUNSUPPORTED : MLX_ECORRUPT;
			if (!decode_expect(buf, len, want, NULL))
			{
				buf[i] ^= masks[f];
				snprintf(case_reason + strlen(case_reason), sizeof(case_reason) - strlen(case_reason),
						 " flipping byte %zu with 0x%02x", i, masks[f]);
				return false;
			}
			reseal(buf, len);
			st = mlx_model_decode(buf, len, &tctx, &m, NULL, 0);
			if (st == MLX_OK)
			{
				accepted++;
				st = mlx_model_encode(&m, &tctx, 0, &enc, &enclen);
				same = st == MLX_OK && enclen == len && memcmp(enc, buf, len) == 0;
				if (!same && st == MLX_OK && tag_byte && (buf[i] & 0x80) != 0)
				{
					mlx_model	m2;
					uint8_t    *enc2;
					size_t		enc2len;

					same = mlx_model_decode(enc, enclen, &tctx, &m2, NULL, 0) == MLX_OK;
					if (same)
					{
						same = mlx_model_encode(&m2, &tctx, 0, &enc2, &enc2len) == MLX_OK;
						if (same)
						{
							same = enc2len == enclen && memcmp(enc, enc2, enclen) == 0;
							mlx_free(&tctx, enc2);
						}
						mlx_model_free(&m2, &tctx);
					}
				}
				if (enc != NULL)
					mlx_free(&tctx, enc);
				mlx_model_free(&m, &tctx);
			}
			buf[i] ^= masks[f];
			reseal(buf, len);
			EXPECT(st == MLX_OK || st == MLX_ECORRUPT || st == MLX_EUNSUPPORTED,
				   "byte %zu: %s", i, mlx_status_str(st));
			EXPECT(same, "byte %zu mask 0x%02x: accepted but re-encoded differently",
				   i, masks[f]);
		}
	}
	EXPECT(accepted > 0, "no resealed flip was accepted");
	EXPECT(decode_expect(buf, len, MLX_OK, NULL), "restored: %s", case_reason);
	return true;
}

/* The k = 3 features body of the linear sample's names. */
static size_t
w_sample_features(uint8_t *out)
{
	size_t		n = 0;
	int			i;

	for (i = 0; i < 3; i++)
		n += w_text(out + n, sample_names[i]);
	return n;
}

/* A k = 3 model of algorithm alg with the sample names and one fit section. */
static size_t
build_k3_model(builder *x, uint16_t alg, uint16_t tag, const uint8_t *body,
			   size_t len)
{
	uint8_t		feat[FEAT_LEN];

	w_sample_features(feat);
	b_header(x, alg, 3);
	b_section(x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(x, tag, body, (uint32_t) len);
	return b_finish(x);
}

/* ---------- lasso and elastic net (MLX_SEC_ENET) ---------- */

typedef struct esample
{
	mlx_enet_fit fit;
	double		coef[IK + 1];
} esample;

/*
 * k = 3 lasso with the linear sample's names: intercept, converged after 17
 * sweeps, one slope exactly 0 (so 2 nonzero).  For elastic net, l1_ratio
 * 0.5 and the same numbers.
 */
static void
make_esample(esample *s, uint16_t alg)
{
	static const double coef[4] = {2.5, 0.75, 0.0, -1.25};

	memset(s, 0, sizeof(*s));
	memcpy(s->coef, coef, sizeof(coef));
	s->fit.nfeat = 3;
	s->fit.intercept = true;
	s->fit.alpha = 0.125;
	s->fit.l1_ratio = alg == MLX_ALG_LASSO ? 1.0 : 0.5;
	s->fit.nrows = 200;
	s->fit.nskipped = 3;
	s->fit.iterations = 17;
	s->fit.converged = true;
	s->fit.dual_gap = 0.0009765625;
	s->fit.r2 = 0.8125;
	s->fit.nonzero = 2;
	s->fit.coef = s->coef;
}

/* Encode an enet fit as alg with names (NULL: defaults) and inputs (or NULL). */
static mlx_status
encode_enet_with(const mlx_enet_fit *fit, uint16_t alg, char **names,
				 mlx_inputs *in, uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_enet(fit, alg, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_esample(uint16_t alg, size_t *len)
{
	esample		s;
	uint8_t    *out;

	make_esample(&s, alg);
	if (encode_enet_with(&s.fit, alg, sample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the esample encoding: features body at 32 (21 bytes, as in the
 * linear sample), enet section header at 53, body at 61 (64 + 8 * 4 = 96
 * bytes), CRC at 157.  Inside the enet body (doc/model-format.md): flags 0,
 * reserved 1..3, iterations 4, nrows 8, nskipped 16, nonzero 24, reserved
 * 28..31, alpha 32, l1_ratio 40, dual_gap 48, r2 56, coef 64.
 */
#define EN_HDR 53
#define EN_BODY 61
#define EN_LEN 96
#define ESAMPLE_LEN 161

/* A test-side writer of the enet layout, independent of the encoder. */
static size_t
w_enet(uint8_t *out, const mlx_enet_fit *f)
{
	uint8_t    *p = out;
	int32_t		i;

	memset(p, 0, 64);
	p[0] = (uint8_t) ((f->intercept ? 1 : 0) | (f->converged ? 2 : 0));
	put32(p + 4, (uint32_t) f->iterations);
	put64(p + 8, (uint64_t) f->nrows);
	put64(p + 16, (uint64_t) f->nskipped);
	put32(p + 24, (uint32_t) f->nonzero);
	putf64(p + 32, f->alpha);
	putf64(p + 40, f->l1_ratio);
	putf64(p + 48, f->dual_gap);
	putf64(p + 56, f->r2);
	p += 64;
	for (i = 0; i <= f->nfeat; i++, p += 8)
		putf64(p, f->coef[i]);
	return (size_t) (p - out);
}

/* Every field of two enet fits is the same (doubles bit for bit). */
static bool
same_enet(const mlx_enet_fit *a, const mlx_enet_fit *b)
{
	int32_t		i;

	EXPECT(a->nfeat == b->nfeat && a->intercept == b->intercept &&
		   a->converged == b->converged && a->iterations == b->iterations &&
		   a->nrows == b->nrows && a->nskipped == b->nskipped &&
		   a->nonzero == b->nonzero, "integer fields differ");
	EXPECT(same_double(a->alpha, b->alpha) &&
		   same_double(a->l1_ratio, b->l1_ratio) &&
		   same_double(a->dual_gap, b->dual_gap) && same_double(a->r2, b->r2),
		   "summary doubles differ");
	for (i = 0; i <= a->nfeat; i++)
		EXPECT(same_double(a->coef[i], b->coef[i]), "coefficient %d differs",
			   (int) i);
	return true;
}

/*
 * Encode the fit as alg, decode, compare field by field, and re-encode to
 * the same bytes; *lenp (if not NULL) receives the length.
 */
static bool
enet_round_trip(const mlx_enet_fit *fit, uint16_t alg, char **names,
				mlx_inputs *in, size_t *lenp)
{
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;

	st = encode_enet_with(fit, alg, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == alg && m.nfeat == fit->nfeat && buf[7] == alg &&
		(in == NULL) == (m.inputs == NULL);
	if (ok && names != NULL)
	{
		int32_t		i;

		for (i = 0; i < fit->nfeat; i++)
			ok = ok && strcmp(m.feature_names[i], names[i]) == 0;
	}
	if (!ok)
		set_reason("header, names or inputs differ");
	ok = ok && same_enet(&m.u.enet, fit);
	if (ok)
	{
		st = mlx_model_encode(&m, &tctx, 0, &buf2, &len2);
		ok = st == MLX_OK && len2 == len && memcmp(buf, buf2, len) == 0;
		if (st == MLX_OK)
			mlx_free(&tctx, buf2);
		if (!ok)
			set_reason("re-encode differs");
	}
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	return ok;
}

static bool
t_enet_round_trip(void)
{
	esample		s;
	isample		is;
	size_t		len;

	make_esample(&s, MLX_ALG_LASSO);
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_LASSO, sample_names, NULL, &len),
		   "lasso: %s", case_reason);
	EXPECT(len == ESAMPLE_LEN, "lasso length %zu, expected %d", len, ESAMPLE_LEN);
	make_esample(&s, MLX_ALG_ELASTIC_NET);
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_ELASTIC_NET, sample_names, NULL, &len),
		   "elastic net: %s", case_reason);
	EXPECT(len == ESAMPLE_LEN, "elastic net length %zu", len);

	/* k = 8 from a table, with the inputs section */
	make_isample(&is);
	make_esample(&s, MLX_ALG_ELASTIC_NET);
	s.fit.nfeat = IK;
	memset(s.coef, 0, sizeof(s.coef));
	s.coef[0] = 3;
	s.coef[4] = -0.5;
	s.coef[8] = 0.25;
	s.fit.nonzero = 2;
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_ELASTIC_NET, isample_features,
						   &is.inputs, NULL), "with inputs: %s", case_reason);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_enet_layout(void)
{
	esample		s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[512];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0, ESAMPLE_LEN - 28, 0, 0, 0, 0
	};
	static const uint8_t one[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
	static const uint8_t half[8] = {0x3f, 0xe0, 0, 0, 0, 0, 0, 0};

	make_esample(&s, MLX_ALG_LASSO);
	a = encode_esample(MLX_ALG_LASSO, &alen);
	EXPECT(a != NULL && alen == ESAMPLE_LEN, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[EN_HDR + 1] == MLX_SEC_ENET && a[EN_HDR + 7] == EN_LEN,
		   "enet section header differs");
	EXPECT(a[EN_BODY] == 0x03 && a[EN_BODY + 7] == 17 && a[EN_BODY + 15] == 200 &&
		   a[EN_BODY + 23] == 3 && a[EN_BODY + 27] == 2,
		   "flags/iterations/nrows/nskipped/nonzero bytes differ");
	EXPECT(memcmp(a + EN_BODY + 40, one, 8) == 0,
		   "l1_ratio 1 is not big-endian binary64");
	wlen = w_enet(w, &s.fit);
	EXPECT(wlen == EN_LEN && memcmp(w, a + EN_BODY, EN_LEN) == 0,
		   "enet body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_LASSO, MLX_SEC_ENET, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	/* elastic net: only the algorithm id, l1_ratio and the CRC differ */
	b = encode_esample(MLX_ALG_ELASTIC_NET, &blen);
	EXPECT(b != NULL && blen == alen && b[7] == 4 &&
		   memcmp(b + EN_BODY + 40, half, 8) == 0 &&
		   memcmp(a + 8, b + 8, EN_BODY + 40 - 8) == 0 &&
		   memcmp(a + EN_BODY + 48, b + EN_BODY + 48, EN_LEN - 48) == 0,
		   "elastic net bytes differ from the lasso's beyond id and l1_ratio");
	mlx_free(&tctx, b);

	/* deterministic, and the reserve only shifts the bytes */
	EXPECT(mlx_model_from_enet(&s.fit, MLX_ALG_LASSO, sample_names, &tctx, &m) ==
		   MLX_OK, "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_enet_variants(void)
{
	esample		s;

	/* no intercept, not converged, no sweeps, undefined statistics, defaults */
	make_esample(&s, MLX_ALG_LASSO);
	s.fit.intercept = false;
	s.fit.converged = false;
	s.fit.iterations = 0;
	s.fit.nskipped = 0;
	s.fit.dual_gap = NAN;
	s.fit.r2 = NAN;
	s.coef[0] = 0;
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_LASSO, NULL, NULL, NULL),
		   "no intercept: %s", case_reason);

	/* -0 is a zero slope; alpha 0; r2 exactly 1; zero gap */
	make_esample(&s, MLX_ALG_LASSO);
	s.coef[2] = -0.0;
	s.fit.alpha = 0;
	s.fit.r2 = 1;
	s.fit.dual_gap = 0;
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_LASSO, sample_names, NULL, NULL),
		   "negative zero: %s", case_reason);

	/* all slopes zero, a very negative r2 */
	make_esample(&s, MLX_ALG_ELASTIC_NET);
	s.coef[1] = s.coef[3] = 0;
	s.fit.nonzero = 0;
	s.fit.r2 = -1e300;
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_ELASTIC_NET, NULL, NULL, NULL),
		   "all zero: %s", case_reason);

	/* elastic net at both ends of l1_ratio, a huge penalty */
	make_esample(&s, MLX_ALG_ELASTIC_NET);
	s.fit.l1_ratio = 0;
	s.fit.alpha = 1e300;
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_ELASTIC_NET, NULL, NULL, NULL),
		   "l1_ratio 0: %s", case_reason);
	s.fit.l1_ratio = 1;
	EXPECT(enet_round_trip(&s.fit, MLX_ALG_ELASTIC_NET, NULL, NULL, NULL),
		   "elastic net with l1_ratio 1: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode the esample as alg, edit it with f, reseal, and expect msg. */
static bool
eedit_expect(uint16_t alg, void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_esample(alg, &len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

static void
ee_flags(uint8_t *v)
{
	v[EN_BODY] |= 0x04;
}

static void
ee_flags_high(uint8_t *v)
{
	v[EN_BODY] |= 0x80;
}

static void
ee_reserved1(uint8_t *v)
{
	v[EN_BODY + 2] = 1;
}

static void
ee_reserved28(uint8_t *v)
{
	v[EN_BODY + 31] = 1;
}

static void
ee_iterations(uint8_t *v)
{
	put32(v + EN_BODY + 4, 0xFFFFFFFFu);
}

static void
ee_nrows(uint8_t *v)
{
	put64(v + EN_BODY + 8, 0);
}

static void
ee_nskipped(uint8_t *v)
{
	put64(v + EN_BODY + 16, UINT64_MAX);
}

static void
ee_nonzero_more(uint8_t *v)
{
	put32(v + EN_BODY + 24, 3);
}

static void
ee_nonzero_negative(uint8_t *v)
{
	put32(v + EN_BODY + 24, 0xFFFFFFFFu);
}

static void
ee_alpha_negative(uint8_t *v)
{
	putf64(v + EN_BODY + 32, -0.5);
}

static void
ee_alpha_inf(uint8_t *v)
{
	putf64(v + EN_BODY + 32, INFINITY);
}

static void
ee_alpha_nan(uint8_t *v)
{
	putf64(v + EN_BODY + 32, NAN);
}

static void
ee_l1_half(uint8_t *v)
{
	putf64(v + EN_BODY + 40, 0.5);
}

static void
ee_l1_large(uint8_t *v)
{
	putf64(v + EN_BODY + 40, 1.5);
}

static void
ee_l1_negative(uint8_t *v)
{
	putf64(v + EN_BODY + 40, -0.25);
}

static void
ee_l1_nan(uint8_t *v)
{
	putf64(v + EN_BODY + 40, NAN);
}

static void
ee_gap_negative(uint8_t *v)
{
	putf64(v + EN_BODY + 48, -1.0);
}

static void
ee_gap_inf(uint8_t *v)
{
	putf64(v + EN_BODY + 48, INFINITY);
}

static void
ee_r2_large(uint8_t *v)
{
	putf64(v + EN_BODY + 56, 1.5);
}

static void
ee_r2_minus_inf(uint8_t *v)
{
	putf64(v + EN_BODY + 56, -INFINITY);
}

static void
ee_coef_nan(uint8_t *v)
{
	putf64(v + EN_BODY + 64 + 8, NAN);
}

static void
ee_coef_inf(uint8_t *v)
{
	putf64(v + EN_BODY + 64, -INFINITY);
}

static void
ee_zero_slope_nonzero(uint8_t *v)
{
	putf64(v + EN_BODY + 64 + 16, 0.5);	/* coef[2] 0 -> 0.5: 3 nonzero */
}

static void
ee_slope_zeroed(uint8_t *v)
{
	putf64(v + EN_BODY + 64 + 24, 0.0);	/* coef[3] -1.25 -> 0: 1 nonzero */
}

static void
ee_no_intercept(uint8_t *v)
{
	v[EN_BODY] &= (uint8_t) ~1;	/* coef[0] is 2.5: inconsistent */
}

static void
ee_section_long(uint8_t *v)
{
	put32(v + EN_HDR + 4, EN_LEN + 1);
}

static bool
t_enet_crafted(void)
{
	struct
	{
		uint16_t	alg;
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{MLX_ALG_LASSO, ee_flags, "lasso flags 0x07 are not defined"},
		{MLX_ALG_ELASTIC_NET, ee_flags_high, "elastic net flags 0x83 are not defined"},
		{MLX_ALG_LASSO, ee_reserved1, "lasso section reserved bytes are not zero"},
		{MLX_ALG_ELASTIC_NET, ee_reserved28, "elastic net section reserved bytes are not zero"},
		{MLX_ALG_LASSO, ee_iterations, "lasso iteration count -1 is negative"},
		{MLX_ALG_LASSO, ee_nrows, "lasso row counts are invalid (0 rows, 3 skipped)"},
		{MLX_ALG_ELASTIC_NET, ee_nskipped, "elastic net row counts are invalid (200 rows, -1 skipped)"},
		{MLX_ALG_LASSO, ee_alpha_negative, "lasso penalty alpha is negative or not finite"},
		{MLX_ALG_LASSO, ee_alpha_inf, "lasso penalty alpha"},
		{MLX_ALG_ELASTIC_NET, ee_alpha_nan, "elastic net penalty alpha"},
		{MLX_ALG_LASSO, ee_l1_half, "lasso l1_ratio is 0.5, expected 1"},
		{MLX_ALG_LASSO, ee_l1_large, "lasso l1_ratio 1.5 is outside 0 to 1"},
		{MLX_ALG_ELASTIC_NET, ee_l1_large, "elastic net l1_ratio 1.5 is outside 0 to 1"},
		{MLX_ALG_ELASTIC_NET, ee_l1_negative, "elastic net l1_ratio -0.25 is outside 0 to 1"},
		{MLX_ALG_ELASTIC_NET, ee_l1_nan, "elastic net l1_ratio nan is outside 0 to 1"},
		{MLX_ALG_LASSO, ee_gap_negative, "lasso duality gap is negative or infinite"},
		{MLX_ALG_ELASTIC_NET, ee_gap_inf, "elastic net duality gap is negative or infinite"},
		{MLX_ALG_LASSO, ee_r2_large, "lasso r2 is greater than 1 or infinite"},
		{MLX_ALG_ELASTIC_NET, ee_r2_minus_inf, "elastic net r2 is greater than 1 or infinite"},
		{MLX_ALG_LASSO, ee_coef_nan, "lasso coefficient 1 is not finite"},
		{MLX_ALG_ELASTIC_NET, ee_coef_inf, "elastic net coefficient 0 is not finite"},
		{MLX_ALG_LASSO, ee_no_intercept, "lasso without intercept has a non-zero intercept"},
		{MLX_ALG_LASSO, ee_nonzero_more, "lasso nonzero count 3 does not match its 2 nonzero coefficients"},
		{MLX_ALG_ELASTIC_NET, ee_nonzero_negative, "elastic net nonzero count -1 does not match its 2 nonzero coefficients"},
		{MLX_ALG_LASSO, ee_zero_slope_nonzero, "lasso nonzero count 2 does not match its 3 nonzero coefficients"},
		{MLX_ALG_ELASTIC_NET, ee_slope_zeroed, "elastic net nonzero count 2 does not match its 1 nonzero coefficients"},
		{MLX_ALG_LASSO, ee_section_long, "declares 97 bytes but only 96 remain"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(eedit_expect(cases[i].alg, cases[i].f, cases[i].msg),
			   "case %zu: %s", i, case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_enet_bytes_rejected(void)
{
	esample		s;
	uint8_t		w[512];
	uint8_t		feat[FEAT_LEN];
	size_t		wlen;
	builder		x;
	size_t		n;
	size_t		len;
	uint8_t    *lin = encode_sample(&len);
	uint8_t		lr[LR_LEN];

	EXPECT(lin != NULL, "encode linear sample");
	memcpy(lr, lin + LR_BODY, LR_LEN);
	mlx_free(&tctx, lin);
	w_sample_features(feat);
	make_esample(&s, MLX_ALG_LASSO);
	wlen = w_enet(w, &s.fit);

	/* exact length: a spare byte, a short section, an empty one */
	w[wlen] = 0;
	n = build_k3_model(&x, MLX_ALG_LASSO, MLX_SEC_ENET, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "lasso section has 97 bytes, expected 96 for 3 features"),
		   "spare byte: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_ELASTIC_NET, MLX_SEC_ENET, w, wlen - 8);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "elastic net section has 88 bytes, expected 96 for 3 features"),
		   "short: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_LASSO, MLX_SEC_ENET, w, 0);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "lasso section has 0 bytes"),
		   "empty: %s", case_reason);

	/* the same body is a lasso (l1_ratio 1) or an elastic net */
	n = build_k3_model(&x, MLX_ALG_ELASTIC_NET, MLX_SEC_ENET, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "as elastic net: %s", case_reason);
	/* a mixing elastic net body under the lasso id */
	make_esample(&s, MLX_ALG_ELASTIC_NET);
	wlen = w_enet(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_LASSO, MLX_SEC_ENET, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "lasso l1_ratio is 0.5, expected 1"),
		   "elastic net body as lasso: %s", case_reason);

	/* section set */
	b_header(&x, MLX_ALG_LASSO, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has no lasso/elastic net section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_ELASTIC_NET, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_ENET, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_ENET, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one lasso/elastic net section"),
		   "duplicate: %s", case_reason);
	b_header(&x, MLX_ALG_ELASTIC_NET, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_ENET, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a linear regression section but its algorithm is elastic_net"),
		   "linreg section in an elastic net: %s", case_reason);
	b_header(&x, MLX_ALG_LINEAR_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	b_section(&x, MLX_SEC_ENET, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a lasso/elastic net section but its algorithm is linear_regression"),
		   "enet section in a linear model: %s", case_reason);
	/* an enet section where a linear one belongs */
	n = build_k3_model(&x, MLX_ALG_LINEAR_REGRESSION, MLX_SEC_ENET, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no linear regression section"),
		   "enet section alone in a linear model: %s", case_reason);
	b_header(&x, MLX_ALG_ELASTIC_NET, 3);
	b_section(&x, MLX_SEC_ENET, w, (uint32_t) wlen);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);

	/* k in the header must match the coefficients */
	b_header(&x, MLX_ALG_ELASTIC_NET, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN - 5);
	b_section(&x, MLX_SEC_ENET, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "elastic net section has 96 bytes, expected 88 for 2 features"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_enet_truncations_and_flips(void)
{
	size_t		len;
	uint8_t    *buf;
	bool		ok;

	buf = encode_esample(MLX_ALG_LASSO, &len);
	EXPECT(buf != NULL, "encode lasso");
	ok = every_truncation_rejected(buf, len) &&
		flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "lasso: %s", case_reason);
	buf = encode_esample(MLX_ALG_ELASTIC_NET, &len);
	EXPECT(buf != NULL, "encode elastic net");
	ok = every_truncation_rejected(buf, len) &&
		flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "elastic net: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_enet_encoder_rejects(void)
{
	esample		s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;

	make_esample(&s, MLX_ALG_LASSO);
	EXPECT(mlx_model_from_enet(&s.fit, MLX_ALG_LINEAR_REGRESSION, NULL, &tctx, &m) ==
		   MLX_EINVAL && m.feature_names == NULL, "linear algorithm id accepted");
	EXPECT(mlx_model_from_enet(&s.fit, MLX_ALG_PCA, NULL, &tctx, &m) == MLX_EINVAL,
		   "pca algorithm id accepted");
	EXPECT(mlx_model_from_enet(NULL, MLX_ALG_LASSO, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	EXPECT(mlx_model_from_enet(&s.fit, MLX_ALG_LASSO, sample_names, &tctx, &m) ==
		   MLX_OK, "build");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.enet.l1_ratio = 0.5;
	REFUSED("lasso with l1_ratio 0.5");
	m.algorithm = MLX_ALG_ELASTIC_NET;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK,
		   "elastic net with l1_ratio 0.5 refused");
	mlx_free(&tctx, out);
	m.u.enet.l1_ratio = NAN;
	REFUSED("NaN l1_ratio");
	m.u.enet.l1_ratio = 0.5;
	m.u.enet.alpha = -1;
	REFUSED("negative alpha");
	m.u.enet.alpha = 0.125;
	m.u.enet.nonzero = 3;
	REFUSED("wrong nonzero count");
	m.u.enet.nonzero = 2;
	s.coef[2] = NAN;
	REFUSED("NaN coefficient");
	s.coef[2] = 0;
	m.u.enet.dual_gap = -1;
	REFUSED("negative duality gap");
	m.u.enet.dual_gap = NAN;
	m.u.enet.r2 = INFINITY;
	REFUSED("infinite r2");
	m.u.enet.r2 = NAN;
	m.u.enet.iterations = -5;
	REFUSED("negative iterations");
	m.u.enet.iterations = 17;
	m.u.enet.nrows = 0;
	REFUSED("no rows");
	m.u.enet.nrows = 200;
	m.u.enet.intercept = false;
	REFUSED("intercept without the flag");
	m.u.enet.intercept = true;
	m.u.enet.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.enet.nfeat = 3;
	m.u.enet.coef = NULL;
	REFUSED("missing coefficients");
	m.u.enet.coef = s.coef;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_enet_json(void)
{
	esample		s;
	mlx_model	m;
	char	   *json;
	char	   *names[3] = {"a", "b", "c"};
	const char *want =
	"{\"algorithm\":\"lasso\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"fit_intercept\":true,\"alpha\":0.125,\"l1_ratio\":1,"
	"\"n_rows\":200,\"n_skipped\":3,\"iterations\":17,\"converged\":true,"
	"\"dual_gap\":0.0009765625,\"r2\":0.8125,\"nonzero\":2,"
	"\"intercept\":2.5,\"coefficients\":[0.75,0,-1.25]}";

	make_esample(&s, MLX_ALG_LASSO);
	EXPECT(mlx_model_from_enet(&s.fit, MLX_ALG_LASSO, names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);

	/* elastic net, undefined statistics, not converged */
	m.algorithm = MLX_ALG_ELASTIC_NET;
	m.u.enet.l1_ratio = 0.5;
	m.u.enet.converged = false;
	m.u.enet.dual_gap = NAN;
	m.u.enet.r2 = NAN;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strncmp(json, "{\"algorithm\":\"elastic_net\",", 27) == 0 &&
		   strstr(json, "\"alpha\":0.125,\"l1_ratio\":0.5,") &&
		   strstr(json, "\"converged\":false,\"dual_gap\":null,\"r2\":null,\"nonzero\":2,"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_enet(void)
{
	esample		s;
	mlx_model	m;
	mlx_status	st;

	make_esample(&s, MLX_ALG_ELASTIC_NET);
	st = mlx_model_from_enet(&s.fit, MLX_ALG_ELASTIC_NET, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_enet(void)
{
	size_t		len;
	uint8_t    *buf = encode_esample(MLX_ALG_LASSO, &len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static bool
t_enet_enomem(void)
{
	bool		ok;

	ok = enomem_sweep("from_enet", op_from_enet) &&
		enomem_sweep("encode lasso", op_encode_enet);
	if (!ok)
		return false;
	enomem_value = encode_esample(MLX_ALG_ELASTIC_NET, &enomem_len);
	EXPECT(enomem_value != NULL, "encode");
	ok = enomem_sweep("decode elastic net", op_decode) &&
		enomem_sweep("describe elastic net", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- principal component analysis (MLX_SEC_PCA) ---------- */

#define PK_MAX 8

typedef struct psample
{
	mlx_pca_fit fit;
	double		mean[PK_MAX];
	double		comp[PK_MAX * PK_MAX];
	double		ev[PK_MAX];
	double		evr[PK_MAX];
	double		sv[PK_MAX];
} psample;

/*
 * k = 3, 2 components (0.6, 0.8, 0) and (-0.8, 0.6, 0), exactly orthogonal
 * in binary64; 50 rows, so the singular values sqrt(49 ev) are 14 and 7;
 * total variance 8, so the ratios are 0.5 and 0.125.
 */
static void
make_psample(psample *s)
{
	static const double mean[3] = {1.5, -2.0, 10.0};
	static const double comp[6] = {0.6, 0.8, 0.0, -0.8, 0.6, 0.0};

	memset(s, 0, sizeof(*s));
	memcpy(s->mean, mean, sizeof(mean));
	memcpy(s->comp, comp, sizeof(comp));
	s->ev[0] = 4;
	s->ev[1] = 1;
	s->evr[0] = 0.5;
	s->evr[1] = 0.125;
	s->sv[0] = 14;
	s->sv[1] = 7;
	s->fit.nfeat = 3;
	s->fit.ncomp = 2;
	s->fit.nrows = 50;
	s->fit.nskipped = 1;
	s->fit.total_variance = 8;
	s->fit.mean = s->mean;
	s->fit.components = s->comp;
	s->fit.explained_variance = s->ev;
	s->fit.explained_variance_ratio = s->evr;
	s->fit.singular_values = s->sv;
}

/*
 * k = 8 (the isample's features), 3 components: the unit vectors of
 * features 1, 5 and 8.
 */
static void
make_psample8(psample *s)
{
	int			c;

	make_psample(s);
	s->fit.nfeat = IK;
	s->fit.ncomp = 3;
	memset(s->comp, 0, sizeof(s->comp));
	s->comp[0 * IK + 0] = 1;
	s->comp[1 * IK + 4] = -1;
	s->comp[2 * IK + 7] = 1;
	for (c = 0; c < IK; c++)
		s->mean[c] = 0.5 * c;
	s->ev[2] = 0.25;
	s->evr[2] = 0.03125;
	s->sv[2] = 3.5;
}

/* Encode a PCA fit with names (NULL: defaults) and inputs (may be NULL). */
static mlx_status
encode_pca_with(const mlx_pca_fit *fit, char **names, mlx_inputs *in,
				uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_pca(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_psample(size_t *len)
{
	psample		s;
	uint8_t    *out;

	make_psample(&s);
	if (encode_pca_with(&s.fit, sample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/* The isample's unsupervised inputs (no target) with a k = 8 PCA. */
static uint8_t *
encode_psample8_inputs(size_t *len)
{
	isample		is;
	psample		s;
	uint8_t    *out;

	make_isample(&is);
	is.inputs.target = NULL;
	is.inputs.target_kind = 0;
	make_psample8(&s);
	if (encode_pca_with(&s.fit, isample_features, &is.inputs, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the psample encoding: features body at 32 (21 bytes), PCA
 * section header at 53, body at 61 (32 + 8 * 3 + 8 * 2 * (3 + 3) = 152
 * bytes), CRC at 213.  Inside the PCA body (doc/model-format.md): ncomp 0,
 * reserved 4..7, nrows 8, nskipped 16, total_variance 24, mean 32,
 * components 56 (two rows of 24), explained_variance 104, ratios 120,
 * singular values 136.
 */
#define PC_HDR 53
#define PC_BODY 61
#define PC_LEN 152
#define PSAMPLE_LEN 217
#define PC_MEAN 32
#define PC_COMP 56
#define PC_EV 104
#define PC_EVR 120
#define PC_SV 136

/* A test-side writer of the PCA layout, independent of the encoder. */
static size_t
w_pca(uint8_t *out, const mlx_pca_fit *f)
{
	uint8_t    *p = out;
	int32_t		k = f->nfeat;
	int32_t		i;

	put32(p, (uint32_t) f->ncomp);
	put32(p + 4, 0);
	put64(p + 8, (uint64_t) f->nrows);
	put64(p + 16, (uint64_t) f->nskipped);
	putf64(p + 24, f->total_variance);
	p += 32;
	for (i = 0; i < k; i++, p += 8)
		putf64(p, f->mean[i]);
	for (i = 0; i < f->ncomp * k; i++, p += 8)
		putf64(p, f->components[i]);
	for (i = 0; i < f->ncomp; i++, p += 8)
		putf64(p, f->explained_variance[i]);
	for (i = 0; i < f->ncomp; i++, p += 8)
		putf64(p, f->explained_variance_ratio[i]);
	for (i = 0; i < f->ncomp; i++, p += 8)
		putf64(p, f->singular_values[i]);
	return (size_t) (p - out);
}

/* Every field of two PCA fits is the same (doubles bit for bit). */
static bool
same_pca(const mlx_pca_fit *a, const mlx_pca_fit *b)
{
	int32_t		i;

	EXPECT(a->nfeat == b->nfeat && a->ncomp == b->ncomp &&
		   a->nrows == b->nrows && a->nskipped == b->nskipped,
		   "integer fields differ");
	EXPECT(same_double(a->total_variance, b->total_variance),
		   "total variance differs");
	for (i = 0; i < a->nfeat; i++)
		EXPECT(same_double(a->mean[i], b->mean[i]), "mean %d differs", (int) i);
	for (i = 0; i < a->ncomp * a->nfeat; i++)
		EXPECT(same_double(a->components[i], b->components[i]),
			   "component entry %d differs", (int) i);
	for (i = 0; i < a->ncomp; i++)
		EXPECT(same_double(a->explained_variance[i], b->explained_variance[i]) &&
			   same_double(a->explained_variance_ratio[i],
						   b->explained_variance_ratio[i]) &&
			   same_double(a->singular_values[i], b->singular_values[i]),
			   "per-component figure %d differs", (int) i);
	return true;
}

/*
 * Encode the fit, decode, compare field by field, and re-encode to the same
 * bytes; *lenp (if not NULL) receives the length.
 */
static bool
pca_round_trip(const mlx_pca_fit *fit, char **names, mlx_inputs *in,
			   size_t *lenp)
{
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;

	st = encode_pca_with(fit, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == MLX_ALG_PCA && buf[7] == MLX_ALG_PCA &&
		m.nfeat == fit->nfeat && (in == NULL) == (m.inputs == NULL);
	if (ok && names != NULL)
	{
		int32_t		i;

		for (i = 0; i < fit->nfeat; i++)
			ok = ok && strcmp(m.feature_names[i], names[i]) == 0;
	}
	if (!ok)
		set_reason("header, names or inputs differ");
	ok = ok && same_pca(&m.u.pca, fit);
	if (ok)
	{
		st = mlx_model_encode(&m, &tctx, 0, &buf2, &len2);
		ok = st == MLX_OK && len2 == len && memcmp(buf, buf2, len) == 0;
		if (st == MLX_OK)
			mlx_free(&tctx, buf2);
		if (!ok)
			set_reason("re-encode differs");
	}
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	return ok;
}

static bool
t_pca_round_trip(void)
{
	psample		s;
	size_t		len;

	make_psample(&s);
	EXPECT(pca_round_trip(&s.fit, sample_names, NULL, &len), "%s", case_reason);
	EXPECT(len == PSAMPLE_LEN, "length %zu, expected %d", len, PSAMPLE_LEN);

	/* as many components as features (and rows) */
	make_psample(&s);
	s.fit.ncomp = 3;
	s.fit.nrows = 3;
	s.comp[8] = 1;
	s.ev[2] = 0;
	s.evr[2] = 0;
	s.sv[2] = 0;
	EXPECT(pca_round_trip(&s.fit, sample_names, NULL, &len), "ncomp = k: %s", case_reason);
	EXPECT(len == PSAMPLE_LEN + 8 * 6, "ncomp = k length %zu", len);

	/* one component of one feature, constant data (all variances 0), default names */
	make_psample(&s);
	s.fit.nfeat = 1;
	s.fit.ncomp = 1;
	s.fit.nrows = 2;
	s.fit.nskipped = 0;
	s.fit.total_variance = 0;
	s.comp[0] = -1;
	s.ev[0] = s.evr[0] = s.sv[0] = 0;
	EXPECT(pca_round_trip(&s.fit, NULL, NULL, NULL), "k = 1: %s", case_reason);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_pca_layout(void)
{
	psample		s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[512];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0, PSAMPLE_LEN - 28, 0, 0, 0, 0
	};
	static const uint8_t fourteen[8] = {0x40, 0x2c, 0, 0, 0, 0, 0, 0};

	make_psample(&s);
	a = encode_psample(&alen);
	EXPECT(a != NULL && alen == PSAMPLE_LEN, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[PC_HDR + 1] == MLX_SEC_PCA && a[PC_HDR + 7] == PC_LEN,
		   "pca section header differs");
	EXPECT(a[PC_BODY + 3] == 2 && a[PC_BODY + 15] == 50 && a[PC_BODY + 23] == 1,
		   "ncomp/nrows/nskipped bytes differ");
	EXPECT(memcmp(a + PC_BODY + PC_SV, fourteen, 8) == 0,
		   "singular value 14 is not at offset %d", PC_SV);
	wlen = w_pca(w, &s.fit);
	EXPECT(wlen == PC_LEN && memcmp(w, a + PC_BODY, PC_LEN) == 0,
		   "pca body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_PCA, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	EXPECT(mlx_model_from_pca(&s.fit, sample_names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* A PCA trained from a table: inputs without a target. */
static bool
t_pca_inputs_round_trip(void)
{
	isample		is;
	psample		s;
	uint8_t    *buf;
	uint8_t    *plain;
	size_t		len;
	size_t		plain_len;
	size_t		pos;
	uint32_t	slen;
	mlx_model	m;
	char	   *json;
	char		err[256];

	make_isample(&is);
	is.inputs.target = NULL;
	is.inputs.target_kind = 0;
	make_psample8(&s);
	EXPECT(pca_round_trip(&s.fit, isample_features, &is.inputs, NULL),
		   "%s", case_reason);

	buf = encode_psample8_inputs(&len);
	EXPECT(buf != NULL, "encode");
	/* canonical order: features, inputs, pca */
	pos = 24;
	EXPECT(buf[pos + 1] == MLX_SEC_FEATURES, "first section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_INPUTS, "second section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_PCA, "third section");
	slen = (uint32_t) buf[pos + 6] << 8 | buf[pos + 7];
	EXPECT(pos + 8 + slen + 4 == len, "pca is not the last section");
	EXPECT(encode_pca_with(&s.fit, isample_features, NULL, &plain, &plain_len) ==
		   MLX_OK, "encode plain");
	EXPECT(memcmp(plain + plain_len - 4 - slen - 8, buf + pos, slen + 8) == 0,
		   "inputs changed the pca section");
	mlx_free(&tctx, plain);

	EXPECT(mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err)) == MLX_OK,
		   "decode: %s", err);
	EXPECT(m.inputs != NULL && m.inputs->ninputs == 4 &&
		   m.inputs->target == NULL && m.inputs->target_kind == 0,
		   "inputs differ");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strstr(json, "\"emb[2]\"],\"inputs\":[{\"name\":") &&
		   strstr(json, "]}],\"target\":null,\"n_components\":3,\"n_rows\":50,"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free(&m, &tctx);

	EXPECT(every_truncation_rejected(buf, len), "%s", case_reason);
	mlx_free(&tctx, buf);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_pca_variants(void)
{
	psample		s;

	/* explained variances equal within the relative slack of 1e-12 */
	make_psample(&s);
	s.ev[1] = s.ev[0] * (1 + 5e-13);
	s.sv[1] = s.sv[0];
	EXPECT(pca_round_trip(&s.fit, NULL, NULL, NULL), "ev slack: %s", case_reason);

	/* a ratio within 1 + 1e-9, a norm within 1e-6 of 1 */
	make_psample(&s);
	s.evr[0] = 1 + 5e-10;
	s.comp[3] *= 1 + 5e-7;
	s.comp[4] *= 1 + 5e-7;
	EXPECT(pca_round_trip(&s.fit, NULL, NULL, NULL), "ratio/norm slack: %s", case_reason);

	/* as many rows as components, none skipped */
	make_psample(&s);
	s.fit.nrows = 2;
	s.fit.nskipped = 0;
	EXPECT(pca_round_trip(&s.fit, NULL, NULL, NULL), "2 rows: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode the psample, edit it with f, reseal, and expect msg. */
static bool
pedit_expect(void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_psample(&len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

static void
pe_ncomp0(uint8_t *v)
{
	put32(v + PC_BODY, 0);
}

static void
pe_ncomp_large(uint8_t *v)
{
	put32(v + PC_BODY, 4);
}

static void
pe_ncomp_huge(uint8_t *v)
{
	put32(v + PC_BODY, 0xFFFFFFFFu);
}

static void
pe_ncomp_length(uint8_t *v)
{
	put32(v + PC_BODY, 1);
}

static void
pe_reserved(uint8_t *v)
{
	v[PC_BODY + 6] = 1;
}

static void
pe_nrows(uint8_t *v)
{
	put64(v + PC_BODY + 8, 1);
}

static void
pe_nskipped(uint8_t *v)
{
	put64(v + PC_BODY + 16, UINT64_MAX);
}

static void
pe_total_negative(uint8_t *v)
{
	putf64(v + PC_BODY + 24, -1.0);
}

static void
pe_total_nan(uint8_t *v)
{
	putf64(v + PC_BODY + 24, NAN);
}

static void
pe_total_inf(uint8_t *v)
{
	putf64(v + PC_BODY + 24, INFINITY);
}

static void
pe_mean_nan(uint8_t *v)
{
	putf64(v + PC_BODY + PC_MEAN + 16, NAN);
}

static void
pe_comp_inf(uint8_t *v)
{
	putf64(v + PC_BODY + PC_COMP + 24, INFINITY);	/* component 2 entry 1 */
}

static void
pe_comp_norm(uint8_t *v)
{
	putf64(v + PC_BODY + PC_COMP + 16, 0.1);	/* component 1: norm 1.005 */
}

static void
pe_comp_norm_small(uint8_t *v)
{
	/* component 2 scaled by 1 + 2e-6: just outside the tolerance */
	putf64(v + PC_BODY + PC_COMP + 24, -0.8 * (1 + 2e-6));
	putf64(v + PC_BODY + PC_COMP + 32, 0.6 * (1 + 2e-6));
}

static void
pe_comp_zero(uint8_t *v)
{
	memset(v + PC_BODY + PC_COMP + 24, 0, 24);	/* component 2 = 0 */
}

static void
pe_comp_parallel(uint8_t *v)
{
	putf64(v + PC_BODY + PC_COMP + 24, 0.8);	/* (0.8, 0.6, 0): dot 0.96 */
}

static void
pe_comp_skew(uint8_t *v)
{
	/* component 2 = (0, 0.6, 0.8): unit norm, dot 0.48 with component 1 */
	putf64(v + PC_BODY + PC_COMP + 24, 0.0);
	putf64(v + PC_BODY + PC_COMP + 40, 0.8);
}

static void
pe_ev_negative(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EV, -4.0);
}

static void
pe_ev_inf(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EV + 8, INFINITY);
}

static void
pe_ev_increasing(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EV + 8, 4.5);
}

static void
pe_ev_beyond_slack(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EV + 8, 4.0 * (1 + 1e-11));
}

static void
pe_ratio_negative(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EVR, -0.125);
}

static void
pe_ratio_large(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EVR + 8, 1 + 1e-8);
}

static void
pe_ratio_nan(uint8_t *v)
{
	putf64(v + PC_BODY + PC_EVR, NAN);
}

static void
pe_sv_negative(uint8_t *v)
{
	putf64(v + PC_BODY + PC_SV + 8, -7.0);
}

static void
pe_sv_nan(uint8_t *v)
{
	putf64(v + PC_BODY + PC_SV, NAN);
}

static void
pe_section_long(uint8_t *v)
{
	put32(v + PC_HDR + 4, PC_LEN + 1);
}

static bool
t_pca_crafted(void)
{
	struct
	{
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{pe_ncomp0, "pca component count 0 is outside 1 to 3"},
		{pe_ncomp_large, "pca component count 4 is outside 1 to 3"},
		{pe_ncomp_huge, "pca component count 4294967295 is outside 1 to 3"},
		{pe_ncomp_length, "pca section has 152 bytes, expected 104 for 3 features and 1 components"},
		{pe_reserved, "pca section reserved bytes are not zero"},
		{pe_nrows, "pca row counts are invalid (1 rows, 1 skipped), expected at least 2 rows"},
		{pe_nskipped, "pca row counts are invalid (50 rows, -1 skipped)"},
		{pe_total_negative, "pca total variance is negative or not finite"},
		{pe_total_nan, "pca total variance is negative or not finite"},
		{pe_total_inf, "pca total variance is negative or not finite"},
		{pe_mean_nan, "pca mean of feature 3 is not finite"},
		{pe_comp_inf, "pca component 2 entry 1 is not finite"},
		{pe_comp_norm, "pca component 1 has norm 1.00498756, expected 1"},
		{pe_comp_norm_small, "pca component 2 has norm 1.000002, expected 1"},
		{pe_comp_zero, "pca component 2 has norm 0, expected 1"},
		{pe_comp_parallel, "pca components 1 and 2 are not orthogonal (dot product 0.96)"},
		{pe_comp_skew, "pca components 1 and 2 are not orthogonal (dot product 0.48)"},
		{pe_ev_negative, "pca explained variance 1 is negative or not finite"},
		{pe_ev_inf, "pca explained variance 2 is negative or not finite"},
		{pe_ev_increasing, "pca explained variance 2 is larger than explained variance 1"},
		{pe_ev_beyond_slack, "pca explained variance 2 is larger than explained variance 1"},
		{pe_ratio_negative, "pca explained variance ratio 1 is outside 0 to 1"},
		{pe_ratio_large, "pca explained variance ratio 2 is outside 0 to 1"},
		{pe_ratio_nan, "pca explained variance ratio 1 is outside 0 to 1"},
		{pe_sv_negative, "pca singular value 2 is negative or not finite"},
		{pe_sv_nan, "pca singular value 1 is negative or not finite"},
		{pe_section_long, "declares 153 bytes but only 152 remain"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(pedit_expect(cases[i].f, cases[i].msg), "case %zu: %s", i, case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_pca_bytes_rejected(void)
{
	psample		s;
	uint8_t		w[1024];
	uint8_t		feat[FEAT_LEN];
	size_t		wlen;
	builder		x;
	size_t		n;

	w_sample_features(feat);
	make_psample(&s);
	wlen = w_pca(w, &s.fit);

	/* exact length, checked before anything is allocated */
	w[wlen] = 0;
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_PCA, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "pca section has 153 bytes, expected 152 for 3 features and 2 components"),
		   "spare byte: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_PCA, w, 103);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "pca section has 103 bytes, expected at least 104 for 3 features"),
		   "short: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_PCA, w, 0);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "pca section has 0 bytes"),
		   "empty: %s", case_reason);

	/* more components than rows */
	make_psample(&s);
	s.fit.ncomp = 3;
	s.fit.nrows = 2;
	s.comp[8] = 1;
	s.ev[2] = s.evr[2] = s.sv[2] = 0;
	wlen = w_pca(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_PCA, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "pca has 3 components but was fitted on only 2 rows"),
		   "ncomp > nrows: %s", case_reason);
	s.fit.nrows = 3;
	wlen = w_pca(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_PCA, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "ncomp = nrows: %s", case_reason);

	/* section set */
	make_psample(&s);
	wlen = w_pca(w, &s.fit);
	b_header(&x, MLX_ALG_PCA, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no pca section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_PCA, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has more than one pca section"),
		   "duplicate: %s", case_reason);
	{
		esample		es;
		uint8_t		ew[512];
		size_t		ewlen;

		make_esample(&es, MLX_ALG_LASSO);
		ewlen = w_enet(ew, &es.fit);
		b_header(&x, MLX_ALG_LASSO, 3);
		b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
		b_section(&x, MLX_SEC_ENET, ew, (uint32_t) ewlen);
		b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
		n = b_finish(&x);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
							 "model has a pca section but its algorithm is lasso"),
			   "pca section in a lasso: %s", case_reason);
		/* a pca section where the lasso's belongs */
		b_header(&x, MLX_ALG_LASSO, 3);
		b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
		b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
		n = b_finish(&x);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
							 "model has no lasso/elastic net section"),
			   "pca section alone in a lasso: %s", case_reason);
		b_header(&x, MLX_ALG_PCA, 3);
		b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
		b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
		b_section(&x, MLX_SEC_ENET, ew, (uint32_t) ewlen);
		n = b_finish(&x);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
							 "model has a lasso/elastic net section but its algorithm is pca"),
			   "enet section in a pca: %s", case_reason);
	}
	b_header(&x, MLX_ALG_PCA, 3);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);

	/* k in the header must match the arrays */
	b_header(&x, MLX_ALG_PCA, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN - 5);
	b_section(&x, MLX_SEC_PCA, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "pca section has 152 bytes, expected 128 for 2 features and 2 components"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * The pairwise orthogonality check runs while ncomp^2 k <= 10^8 and is
 * skipped above: 100 components of 10000 features, the second equal to the
 * first, are refused; of 10001 features, accepted (only the norms are
 * checked) and decoded.
 */
static bool
t_pca_orthogonality_limit(void)
{
	int32_t		nc = 100;
	int32_t		k;
	bool		ok = true;

	for (k = 10000; k <= 10001 && ok; k++)
	{
		mlx_pca_fit fit;
		double	   *mean = calloc((size_t) k, sizeof(double));
		double	   *comp = calloc((size_t) nc * (size_t) k, sizeof(double));
		double	   *ev = calloc((size_t) nc, sizeof(double));
		double	   *evr = calloc((size_t) nc, sizeof(double));
		double	   *sv = calloc((size_t) nc, sizeof(double));
		uint8_t    *buf = NULL;
		size_t		len;
		mlx_status	st;
		int32_t		c;

		memset(&fit, 0, sizeof(fit));
		fit.nfeat = k;
		fit.ncomp = nc;
		fit.nrows = 1000;
		fit.mean = mean;
		fit.components = comp;
		fit.explained_variance = ev;
		fit.explained_variance_ratio = evr;
		fit.singular_values = sv;
		for (c = 0; c < nc; c++)
			comp[(size_t) c * k + c] = 1;
		/* orthonormal: accepted at both sizes */
		st = encode_pca_with(&fit, NULL, NULL, &buf, &len);
		if (st != MLX_OK)
		{
			set_reason("k = %d: orthonormal components refused", (int) k);
			ok = false;
		}
		if (buf != NULL)
			mlx_free(&tctx, buf);
		/* component 2 := component 1 */
		comp[(size_t) k + 1] = 0;
		comp[(size_t) k] = 1;
		st = encode_pca_with(&fit, NULL, NULL, &buf, &len);
		if (ok && k == 10000 && st != MLX_EINVAL)
		{
			set_reason("k = 10000: parallel components encoded");
			ok = false;
		}
		if (ok && k == 10001)
		{
			if (st != MLX_OK)
			{
				set_reason("k = 10001: parallel components refused");
				ok = false;
			}
			else if (!decode_expect(buf, len, MLX_OK, NULL))
				ok = false;
		}
		if (buf != NULL)
			mlx_free(&tctx, buf);
		free(mean);
		free(comp);
		free(ev);
		free(evr);
		free(sv);
	}
	EXPECT(ok, "%s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_pca_truncations_and_flips(void)
{
	size_t		len;
	uint8_t    *buf = encode_psample(&len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	ok = every_truncation_rejected(buf, len) &&
		flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "%s", case_reason);
	buf = encode_psample8_inputs(&len);
	EXPECT(buf != NULL, "encode with inputs");
	ok = flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "with inputs: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_pca_encoder_rejects(void)
{
	psample		s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;

	make_psample(&s);
	EXPECT(mlx_model_from_pca(NULL, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	s.fit.nfeat = 0;
	EXPECT(mlx_model_from_pca(&s.fit, NULL, &tctx, &m) == MLX_EINVAL,
		   "0 features accepted");
	s.fit.nfeat = 3;
	EXPECT(mlx_model_from_pca(&s.fit, sample_names, &tctx, &m) == MLX_OK, "build");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.pca.ncomp = 0;
	REFUSED("0 components");
	m.u.pca.ncomp = 4;
	REFUSED("more components than features");
	m.u.pca.ncomp = 2;
	m.u.pca.nrows = 1;
	REFUSED("1 row");
	m.u.pca.nrows = 50;
	m.u.pca.nskipped = -1;
	REFUSED("negative skipped rows");
	m.u.pca.nskipped = 1;
	s.mean[0] = INFINITY;
	REFUSED("infinite mean");
	s.mean[0] = 1.5;
	s.comp[0] = 0.61;
	REFUSED("component of norm != 1");
	s.comp[0] = 0.6;
	s.ev[1] = 5;
	REFUSED("increasing explained variance");
	s.ev[1] = 1;
	s.evr[0] = 2;
	REFUSED("ratio above 1");
	s.evr[0] = 0.5;
	s.sv[0] = -14;
	REFUSED("negative singular value");
	s.sv[0] = 14;
	m.u.pca.total_variance = NAN;
	REFUSED("NaN total variance");
	m.u.pca.total_variance = 8;
	m.u.pca.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.pca.nfeat = 3;
	m.u.pca.singular_values = NULL;
	REFUSED("missing array");
	m.u.pca.singular_values = s.sv;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_pca_json(void)
{
	psample		s;
	mlx_model	m;
	char	   *json;
	char	   *names[3] = {"a", "b", "c"};
	const char *want =
	"{\"algorithm\":\"pca\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"n_components\":2,\"n_rows\":50,\"n_skipped\":1,\"total_variance\":8,"
	"\"mean\":[1.5,-2,10],\"explained_variance\":[4,1],"
	"\"explained_variance_ratio\":[0.5,0.125],\"singular_values\":[14,7],"
	"\"components\":[[0.59999999999999998,0.80000000000000004,0],"
	"[-0.80000000000000004,0.59999999999999998,0]]}";

	make_psample(&s);
	EXPECT(mlx_model_from_pca(&s.fit, names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);

	/* one component */
	m.u.pca.ncomp = 1;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strstr(json, "\"n_components\":1,") &&
		   strstr(json, "\"explained_variance\":[4],\"explained_variance_ratio\":[0.5],"
				  "\"singular_values\":[14],\"components\":[[0.59999999999999998,"
				  "0.80000000000000004,0]]}"), "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_pca(void)
{
	psample		s;
	mlx_model	m;
	mlx_status	st;

	make_psample(&s);
	st = mlx_model_from_pca(&s.fit, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_pca_inputs(void)
{
	size_t		len;
	uint8_t    *buf = encode_psample8_inputs(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static bool
t_pca_enomem(void)
{
	bool		ok;

	ok = enomem_sweep("from_pca", op_from_pca) &&
		enomem_sweep("encode pca with inputs", op_encode_pca_inputs);
	if (!ok)
		return false;
	enomem_value = encode_psample(&enomem_len);
	EXPECT(enomem_value != NULL, "encode");
	ok = enomem_sweep("decode pca", op_decode) &&
		enomem_sweep("describe pca", op_describe);
	mlx_free(&tctx, enomem_value);
	if (!ok)
		return false;
	enomem_value = encode_psample8_inputs(&enomem_len);
	EXPECT(enomem_value != NULL, "encode with inputs");
	ok = enomem_sweep("decode pca with inputs", op_decode) &&
		enomem_sweep("describe pca with inputs", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- Poisson regression (MLX_SEC_POISSON) ---------- */

typedef struct posample
{
	mlx_poisson_fit fit;
	double		coef[IK + 1];
	double		se[IK + 1];
	double		zval[IK + 1];
	double		pval[IK + 1];
} posample;

/*
 * k = 3 with the linear sample's names: intercept, converged after 7 IRLS
 * passes, lambda 0, 150 rows; the last slope has a zero standard error and
 * an infinite z value (allowed only there).
 */
static void
make_posample(posample *s)
{
	static const double coef[4] = {0.5, 0.25, -0.125, 0.0625};
	static const double se[4] = {0.125, 0.0625, 0.03125, 0.0};
	static const double pval[4] = {0.5, 0.25, 0.125, 0.0};
	int			i;

	memset(s, 0, sizeof(*s));
	memcpy(s->coef, coef, sizeof(coef));
	memcpy(s->se, se, sizeof(se));
	memcpy(s->pval, pval, sizeof(pval));
	for (i = 0; i < 3; i++)
		s->zval[i] = coef[i] / se[i];
	s->zval[3] = INFINITY;
	s->fit.nfeat = 3;
	s->fit.intercept = true;
	s->fit.lambda = 0;
	s->fit.nrows = 150;
	s->fit.nskipped = 2;
	s->fit.iterations = 7;
	s->fit.converged = true;
	s->fit.loglik = -210.5;
	s->fit.loglik_null = -260.25;
	s->fit.deviance = 98.5;
	s->fit.null_deviance = 198;
	s->fit.coef = s->coef;
	s->fit.se = s->se;
	s->fit.zval = s->zval;
	s->fit.pval = s->pval;
}

/* k = 8 Poisson fit for the isample inputs */
static void
make_posample8(posample *s)
{
	int			i;

	make_posample(s);
	s->fit.nfeat = IK;
	for (i = 0; i <= IK; i++)
	{
		s->coef[i] = 0.125 * i - 0.5;
		s->se[i] = 0.25;
		s->zval[i] = s->coef[i] / 0.25;
		s->pval[i] = 0.5;
	}
}

/* Encode a Poisson fit with names (NULL: defaults) and inputs (or NULL). */
static mlx_status
encode_poisson_with(const mlx_poisson_fit *fit, char **names, mlx_inputs *in,
					uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_poisson(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_posample(size_t *len)
{
	posample	s;
	uint8_t    *out;

	make_posample(&s);
	if (encode_poisson_with(&s.fit, sample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/* The isample's inputs, target "visits" (numeric), with a k = 8 Poisson fit. */
static uint8_t *
encode_posample8_inputs(size_t *len)
{
	isample		is;
	posample	s;
	uint8_t    *out;

	make_isample(&is);
	is.inputs.target = "visits";
	is.inputs.target_kind = MLX_INPUT_NUMERIC;
	make_posample8(&s);
	if (encode_poisson_with(&s.fit, isample_features, &is.inputs, &out, len) !=
		MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the posample encoding: features body at 32 (21 bytes), Poisson
 * section header at 53, body at 61 (64 + 32 * 4 = 192 bytes), CRC at 253.
 * Inside the Poisson body (doc/model-format.md): flags 0, reserved 1..3,
 * iterations 4, nrows 8, nskipped 16, lambda 24, loglik 32, loglik_null 40,
 * deviance 48, null_deviance 56, coef 64, se 96, zval 128, pval 160.
 */
#define PO_HDR 53
#define PO_BODY 61
#define PO_LEN 192
#define POSAMPLE_LEN 257
#define PO_COEF 64
#define PO_SE 96
#define PO_ZVAL 128
#define PO_PVAL 160

/* A test-side writer of the Poisson layout, independent of the encoder. */
static size_t
w_poisson(uint8_t *out, const mlx_poisson_fit *f)
{
	uint8_t    *p = out;
	const double *arrays[4] = {f->coef, f->se, f->zval, f->pval};
	int			a;
	int32_t		i;

	memset(p, 0, 64);
	p[0] = (uint8_t) ((f->intercept ? 1 : 0) | (f->converged ? 2 : 0));
	put32(p + 4, (uint32_t) f->iterations);
	put64(p + 8, (uint64_t) f->nrows);
	put64(p + 16, (uint64_t) f->nskipped);
	putf64(p + 24, f->lambda);
	putf64(p + 32, f->loglik);
	putf64(p + 40, f->loglik_null);
	putf64(p + 48, f->deviance);
	putf64(p + 56, f->null_deviance);
	p += 64;
	for (a = 0; a < 4; a++)
		for (i = 0; i <= f->nfeat; i++, p += 8)
			putf64(p, arrays[a][i]);
	return (size_t) (p - out);
}

/* Every field of two Poisson fits is the same (doubles bit for bit). */
static bool
same_poisson(const mlx_poisson_fit *a, const mlx_poisson_fit *b)
{
	int32_t		i;

	EXPECT(a->nfeat == b->nfeat && a->intercept == b->intercept &&
		   a->converged == b->converged && a->iterations == b->iterations &&
		   a->nrows == b->nrows && a->nskipped == b->nskipped,
		   "integer fields differ");
	EXPECT(same_double(a->lambda, b->lambda) && same_double(a->loglik, b->loglik) &&
		   same_double(a->loglik_null, b->loglik_null) &&
		   same_double(a->deviance, b->deviance) &&
		   same_double(a->null_deviance, b->null_deviance),
		   "summary doubles differ");
	for (i = 0; i <= a->nfeat; i++)
		EXPECT(same_double(a->coef[i], b->coef[i]) &&
			   same_double(a->se[i], b->se[i]) &&
			   same_double(a->zval[i], b->zval[i]) &&
			   same_double(a->pval[i], b->pval[i]), "array entry %d differs", (int) i);
	return true;
}

/*
 * Encode the fit, decode, compare field by field, and re-encode to the same
 * bytes; *lenp (if not NULL) receives the length.
 */
static bool
poisson_round_trip(const mlx_poisson_fit *fit, char **names, mlx_inputs *in,
				   size_t *lenp)
{
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;

	st = encode_poisson_with(fit, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == MLX_ALG_POISSON_REGRESSION &&
		buf[7] == MLX_ALG_POISSON_REGRESSION && m.nfeat == fit->nfeat &&
		(in == NULL) == (m.inputs == NULL);
	if (ok && names != NULL)
	{
		int32_t		i;

		for (i = 0; i < fit->nfeat; i++)
			ok = ok && strcmp(m.feature_names[i], names[i]) == 0;
	}
	if (ok && in != NULL)
		ok = m.inputs->ninputs == in->ninputs &&
			(in->target == NULL ? m.inputs->target == NULL :
			 m.inputs->target != NULL &&
			 strcmp(m.inputs->target, in->target) == 0) &&
			m.inputs->target_kind == in->target_kind;
	if (!ok)
		set_reason("header, names or inputs differ");
	ok = ok && same_poisson(&m.u.poisson, fit);
	if (ok)
	{
		st = mlx_model_encode(&m, &tctx, 0, &buf2, &len2);
		ok = st == MLX_OK && len2 == len && memcmp(buf, buf2, len) == 0;
		if (st == MLX_OK)
			mlx_free(&tctx, buf2);
		if (!ok)
			set_reason("re-encode differs");
	}
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	return ok;
}

static bool
t_poisson_round_trip(void)
{
	posample	s;
	isample		is;
	size_t		len;

	make_posample(&s);
	EXPECT(poisson_round_trip(&s.fit, sample_names, NULL, &len), "%s", case_reason);
	EXPECT(len == POSAMPLE_LEN, "length %zu, expected %d", len, POSAMPLE_LEN);
	EXPECT(poisson_round_trip(&s.fit, NULL, NULL, NULL), "default names: %s",
		   case_reason);

	/* k = 8 from a table, with the inputs section and a count target */
	make_isample(&is);
	is.inputs.target = "visits";
	make_posample8(&s);
	EXPECT(poisson_round_trip(&s.fit, isample_features, &is.inputs, NULL),
		   "with inputs: %s", case_reason);

	/* one feature */
	make_posample(&s);
	s.fit.nfeat = 1;
	EXPECT(poisson_round_trip(&s.fit, NULL, NULL, &len), "k = 1: %s", case_reason);
	EXPECT(len == 28 + 8 + 4 + 8 + 64 + 32 * 2, "k = 1 length %zu", len);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_poisson_layout(void)
{
	posample	s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[512];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0, POSAMPLE_LEN - 28, 0, 0, 0, 0
	};
	static const uint8_t d198[8] = {0x40, 0x68, 0xc0, 0, 0, 0, 0, 0};
	static const uint8_t pinf[8] = {0x7f, 0xf0, 0, 0, 0, 0, 0, 0};

	make_posample(&s);
	a = encode_posample(&alen);
	EXPECT(a != NULL && alen == POSAMPLE_LEN, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[PO_HDR] == 0 && a[PO_HDR + 1] == 7 && a[PO_HDR + 6] == 0 &&
		   a[PO_HDR + 7] == PO_LEN, "poisson section header differs");
	EXPECT(a[PO_BODY] == 0x03 && a[PO_BODY + 7] == 7 && a[PO_BODY + 15] == 150 &&
		   a[PO_BODY + 23] == 2,
		   "flags/iterations/nrows/nskipped bytes differ");
	EXPECT(memcmp(a + PO_BODY + 56, d198, 8) == 0,
		   "null deviance 198 is not big-endian binary64 at offset 56");
	EXPECT(memcmp(a + PO_BODY + PO_ZVAL + 24, pinf, 8) == 0,
		   "z value 3 (+inf) is not at offset %d", PO_ZVAL + 24);
	wlen = w_poisson(w, &s.fit);
	EXPECT(wlen == PO_LEN && memcmp(w, a + PO_BODY, PO_LEN) == 0,
		   "poisson body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_POISSON, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	/* deterministic, and the reserve only shifts the bytes */
	EXPECT(mlx_model_from_poisson(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_poisson_variants(void)
{
	posample	s;
	int			i;

	/*
	 * no intercept, ridge (no statistics), not converged, no passes; a
	 * positive log-likelihood (possible with non-integer counts below 1)
	 */
	make_posample(&s);
	s.fit.intercept = false;
	s.fit.converged = false;
	s.fit.iterations = 0;
	s.fit.nskipped = 0;
	s.fit.lambda = 2.0;
	s.fit.loglik = 3.5;
	s.fit.loglik_null = NAN;
	s.fit.deviance = 0;
	s.fit.null_deviance = NAN;
	s.coef[0] = 0;
	for (i = 0; i <= 3; i++)
		s.se[i] = s.zval[i] = s.pval[i] = NAN;
	EXPECT(poisson_round_trip(&s.fit, NULL, NULL, NULL), "ridge: %s", case_reason);

	/* -inf z where se = 0, -0 intercept without an intercept, huge lambda */
	make_posample(&s);
	s.fit.intercept = false;
	s.coef[0] = -0.0;
	s.se[0] = s.zval[0] = s.pval[0] = NAN;
	s.coef[3] = -0.0625;
	s.zval[3] = -INFINITY;
	s.fit.lambda = 1e300;
	s.fit.loglik = 1e300;
	s.fit.loglik_null = -1e300;
	s.fit.deviance = NAN;
	s.fit.null_deviance = 0;
	EXPECT(poisson_round_trip(&s.fit, sample_names, NULL, NULL), "-inf z: %s",
		   case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* A Poisson model trained from a table: inputs with a count target. */
static bool
t_poisson_inputs_round_trip(void)
{
	isample		is;
	posample	s;
	uint8_t    *buf;
	uint8_t    *plain;
	size_t		len;
	size_t		plain_len;
	size_t		pos;
	uint32_t	slen;
	mlx_model	m;
	char	   *json;
	char		err[256];

	buf = encode_posample8_inputs(&len);
	EXPECT(buf != NULL, "encode");
	/* canonical order: features, inputs, poisson */
	pos = 24;
	EXPECT(buf[pos + 1] == MLX_SEC_FEATURES, "first section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_INPUTS, "second section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_POISSON, "third section");
	slen = (uint32_t) buf[pos + 6] << 8 | buf[pos + 7];
	EXPECT(pos + 8 + slen + 4 == len, "poisson is not the last section");
	make_isample(&is);
	make_posample8(&s);
	EXPECT(encode_poisson_with(&s.fit, isample_features, NULL, &plain,
							   &plain_len) == MLX_OK, "encode plain");
	EXPECT(memcmp(plain + plain_len - 4 - slen - 8, buf + pos, slen + 8) == 0,
		   "inputs changed the poisson section");
	mlx_free(&tctx, plain);

	EXPECT(mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err)) == MLX_OK,
		   "decode: %s", err);
	EXPECT(m.inputs != NULL && m.inputs->ninputs == 4 &&
		   strcmp(m.inputs->target, "visits") == 0 &&
		   m.inputs->target_kind == MLX_INPUT_NUMERIC, "inputs differ");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strstr(json, "\"emb[2]\"],\"inputs\":[{\"name\":") &&
		   strstr(json, "]}],\"target\":\"visits\",\"fit_intercept\":true,"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free(&m, &tctx);

	EXPECT(every_truncation_rejected(buf, len), "%s", case_reason);
	mlx_free(&tctx, buf);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode the posample, edit it with f, reseal, and expect msg. */
static bool
poedit_expect(void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_posample(&len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

static void
po_flags(uint8_t *v)
{
	v[PO_BODY] |= 0x04;
}

static void
po_flags_high(uint8_t *v)
{
	v[PO_BODY] |= 0x80;
}

static void
po_reserved(uint8_t *v)
{
	v[PO_BODY + 2] = 1;
}

static void
po_no_intercept(uint8_t *v)
{
	v[PO_BODY] &= (uint8_t) ~1;	/* coef[0] is 0.5: inconsistent */
}

static void
po_iterations(uint8_t *v)
{
	put32(v + PO_BODY + 4, 0xFFFFFFFFu);
}

static void
po_nrows(uint8_t *v)
{
	put64(v + PO_BODY + 8, 0);
}

static void
po_nrows_negative(uint8_t *v)
{
	put64(v + PO_BODY + 8, UINT64_C(0x8000000000000000));
}

static void
po_nskipped(uint8_t *v)
{
	put64(v + PO_BODY + 16, UINT64_MAX);
}

static void
po_lambda_inf(uint8_t *v)
{
	putf64(v + PO_BODY + 24, INFINITY);
}

static void
po_lambda_negative(uint8_t *v)
{
	putf64(v + PO_BODY + 24, -0.5);
}

static void
po_lambda_nan(uint8_t *v)
{
	putf64(v + PO_BODY + 24, NAN);
}

static void
po_loglik_inf(uint8_t *v)
{
	putf64(v + PO_BODY + 32, INFINITY);
}

static void
po_loglik_minus_inf(uint8_t *v)
{
	putf64(v + PO_BODY + 32, -INFINITY);
}

static void
po_loglik_null_inf(uint8_t *v)
{
	putf64(v + PO_BODY + 40, -INFINITY);
}

static void
po_deviance_negative(uint8_t *v)
{
	putf64(v + PO_BODY + 48, -1.0);
}

static void
po_deviance_inf(uint8_t *v)
{
	putf64(v + PO_BODY + 48, INFINITY);
}

static void
po_null_deviance_negative(uint8_t *v)
{
	putf64(v + PO_BODY + 56, -0.25);
}

static void
po_null_deviance_inf(uint8_t *v)
{
	putf64(v + PO_BODY + 56, INFINITY);
}

static void
po_coef_nan(uint8_t *v)
{
	putf64(v + PO_BODY + PO_COEF + 8, NAN);
}

static void
po_coef_inf(uint8_t *v)
{
	putf64(v + PO_BODY + PO_COEF, -INFINITY);
}

static void
po_se_negative(uint8_t *v)
{
	putf64(v + PO_BODY + PO_SE, -0.125);
}

static void
po_se_inf(uint8_t *v)
{
	putf64(v + PO_BODY + PO_SE + 16, INFINITY);
}

static void
po_zval_inf(uint8_t *v)
{
	putf64(v + PO_BODY + PO_ZVAL + 8, INFINITY);	/* se[1] is 0.0625 */
}

static void
po_zval_inf_se_nan(uint8_t *v)
{
	putf64(v + PO_BODY + PO_SE + 16, NAN);
	putf64(v + PO_BODY + PO_ZVAL + 16, -INFINITY);
}

static void
po_pval_large(uint8_t *v)
{
	putf64(v + PO_BODY + PO_PVAL + 16, 1.5);
}

static void
po_pval_negative(uint8_t *v)
{
	putf64(v + PO_BODY + PO_PVAL, -0.5);
}

static void
po_pval_inf(uint8_t *v)
{
	putf64(v + PO_BODY + PO_PVAL + 24, INFINITY);
}

static void
po_section_long(uint8_t *v)
{
	put32(v + PO_HDR + 4, PO_LEN + 1);
}

static bool
t_poisson_crafted(void)
{
	struct
	{
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{po_flags, "poisson regression flags 0x07 are not defined"},
		{po_flags_high, "poisson regression flags 0x83 are not defined"},
		{po_reserved, "poisson regression section reserved bytes are not zero"},
		{po_no_intercept, "poisson regression without intercept has a non-zero intercept"},
		{po_iterations, "poisson regression iteration count -1 is negative"},
		{po_nrows, "poisson regression row counts are invalid (0 rows, 2 skipped)"},
		{po_nrows_negative, "poisson regression row counts are invalid (-9223372036854775808 rows, 2 skipped)"},
		{po_nskipped, "poisson regression row counts are invalid (150 rows, -1 skipped)"},
		{po_lambda_inf, "poisson regression penalty lambda is negative or not finite"},
		{po_lambda_negative, "poisson regression penalty lambda is negative or not finite"},
		{po_lambda_nan, "poisson regression penalty lambda is negative or not finite"},
		{po_loglik_inf, "poisson regression log-likelihood is infinite"},
		{po_loglik_minus_inf, "poisson regression log-likelihood is infinite"},
		{po_loglik_null_inf, "poisson regression null log-likelihood is infinite"},
		{po_deviance_negative, "poisson regression deviance is negative or infinite"},
		{po_deviance_inf, "poisson regression deviance is negative or infinite"},
		{po_null_deviance_negative, "poisson regression null deviance is negative or infinite"},
		{po_null_deviance_inf, "poisson regression null deviance is negative or infinite"},
		{po_coef_nan, "poisson regression coefficient 1 is not finite"},
		{po_coef_inf, "poisson regression coefficient 0 is not finite"},
		{po_se_negative, "poisson regression standard error 0 is negative or infinite"},
		{po_se_inf, "poisson regression standard error 2 is negative or infinite"},
		{po_zval_inf, "poisson regression z value 1 is infinite but its standard error is not 0"},
		{po_zval_inf_se_nan, "poisson regression z value 2 is infinite but its standard error is not 0"},
		{po_pval_large, "poisson regression p value 2 is outside 0 to 1"},
		{po_pval_negative, "poisson regression p value 0 is outside 0 to 1"},
		{po_pval_inf, "poisson regression p value 3 is outside 0 to 1"},
		{po_section_long, "declares 193 bytes but only 192 remain"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(poedit_expect(cases[i].f, cases[i].msg), "case %zu: %s", i, case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_poisson_bytes_rejected(void)
{
	posample	s;
	uint8_t		w[512];
	uint8_t		feat[FEAT_LEN];
	size_t		wlen;
	builder		x;
	size_t		n;
	size_t		len;
	uint8_t    *lin = encode_sample(&len);
	uint8_t		lr[LR_LEN];

	EXPECT(lin != NULL, "encode linear sample");
	memcpy(lr, lin + LR_BODY, LR_LEN);
	mlx_free(&tctx, lin);
	w_sample_features(feat);
	make_posample(&s);
	wlen = w_poisson(w, &s.fit);

	/* the writer's body is accepted, a positive log-likelihood too */
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_POISSON, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "writer's body: %s", case_reason);
	s.fit.loglik = 12.75;
	s.fit.loglik_null = 0.5;
	wlen = w_poisson(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_POISSON, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "positive log-likelihood: %s",
		   case_reason);

	/* exact length: a spare byte, a short section, an empty one */
	make_posample(&s);
	wlen = w_poisson(w, &s.fit);
	w[wlen] = 0;
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_POISSON, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "poisson regression section has 193 bytes, expected 192 for 3 features"),
		   "spare byte: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_POISSON, w, wlen - 8);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "poisson regression section has 184 bytes, expected 192 for 3 features"),
		   "short: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_POISSON, w, 0);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "poisson regression section has 0 bytes"),
		   "empty: %s", case_reason);

	/* section set */
	b_header(&x, MLX_ALG_POISSON_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has no poisson regression section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_POISSON_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_POISSON, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_POISSON, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one poisson regression section"),
		   "duplicate: %s", case_reason);
	b_header(&x, MLX_ALG_POISSON_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_POISSON, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a linear regression section but its algorithm is poisson_regression"),
		   "linreg section in a poisson model: %s", case_reason);
	b_header(&x, MLX_ALG_LINEAR_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_LINREG, lr, LR_LEN);
	b_section(&x, MLX_SEC_POISSON, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a poisson regression section but its algorithm is linear_regression"),
		   "poisson section in a linear model: %s", case_reason);
	/* a poisson section where a logistic one belongs */
	n = build_k3_model(&x, MLX_ALG_LOGISTIC_REGRESSION, MLX_SEC_POISSON, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has no logistic regression section"),
		   "poisson section alone in a logistic model: %s", case_reason);
	/* a linear section where the poisson one belongs */
	n = build_k3_model(&x, MLX_ALG_POISSON_REGRESSION, MLX_SEC_LINREG, lr, LR_LEN);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a linear regression section but its algorithm is poisson_regression"),
		   "linreg section alone in a poisson model: %s", case_reason);
	b_header(&x, MLX_ALG_POISSON_REGRESSION, 3);
	b_section(&x, MLX_SEC_POISSON, w, (uint32_t) wlen);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);

	/* k in the header must match the arrays */
	b_header(&x, MLX_ALG_POISSON_REGRESSION, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN - 5);
	b_section(&x, MLX_SEC_POISSON, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "poisson regression section has 192 bytes, expected 160 for 2 features"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_poisson_truncations_and_flips(void)
{
	size_t		len;
	uint8_t    *buf = encode_posample(&len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	ok = every_truncation_rejected(buf, len) &&
		flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "%s", case_reason);
	buf = encode_posample8_inputs(&len);
	EXPECT(buf != NULL, "encode with inputs");
	ok = flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "with inputs: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_poisson_encoder_rejects(void)
{
	posample	s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;

	make_posample(&s);
	EXPECT(mlx_model_from_poisson(NULL, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	s.fit.nfeat = 0;
	EXPECT(mlx_model_from_poisson(&s.fit, NULL, &tctx, &m) == MLX_EINVAL &&
		   m.feature_names == NULL, "0 features accepted");
	s.fit.nfeat = 3;
	EXPECT(mlx_model_from_poisson(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(m.algorithm == MLX_ALG_POISSON_REGRESSION && m.nfeat == 3 &&
		   m.inputs == NULL && m.u.poisson.coef == s.coef, "built model differs");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.poisson.iterations = -1;
	REFUSED("negative iterations");
	m.u.poisson.iterations = 7;
	m.u.poisson.nrows = 0;
	REFUSED("no rows");
	m.u.poisson.nrows = 150;
	m.u.poisson.nskipped = -1;
	REFUSED("negative skipped rows");
	m.u.poisson.nskipped = 2;
	m.u.poisson.lambda = -1;
	REFUSED("negative lambda");
	m.u.poisson.lambda = NAN;
	REFUSED("NaN lambda");
	m.u.poisson.lambda = 0;
	m.u.poisson.loglik = INFINITY;
	REFUSED("infinite log-likelihood");
	m.u.poisson.loglik = 42;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK,
		   "positive log-likelihood refused");
	mlx_free(&tctx, out);
	m.u.poisson.loglik = -210.5;
	m.u.poisson.loglik_null = -INFINITY;
	REFUSED("infinite null log-likelihood");
	m.u.poisson.loglik_null = -260.25;
	m.u.poisson.deviance = -1;
	REFUSED("negative deviance");
	m.u.poisson.deviance = 98.5;
	m.u.poisson.null_deviance = INFINITY;
	REFUSED("infinite null deviance");
	m.u.poisson.null_deviance = 198;
	s.coef[2] = NAN;
	REFUSED("NaN coefficient");
	s.coef[2] = -0.125;
	s.se[1] = -1;
	REFUSED("negative standard error");
	s.se[1] = 0.0625;
	s.zval[1] = INFINITY;
	REFUSED("infinite z with se > 0");
	s.zval[1] = 4;
	s.pval[0] = 2;
	REFUSED("p value above 1");
	s.pval[0] = 0.5;
	m.u.poisson.intercept = false;
	REFUSED("intercept without the flag");
	m.u.poisson.intercept = true;
	m.u.poisson.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.poisson.nfeat = 3;
	m.u.poisson.pval = NULL;
	REFUSED("missing array");
	m.u.poisson.pval = s.pval;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_poisson_json(void)
{
	posample	s;
	mlx_model	m;
	char	   *json;
	char	   *names[3] = {"a", "b", "c"};
	const char *want =
	"{\"algorithm\":\"poisson_regression\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"fit_intercept\":true,\"lambda\":0,\"n_rows\":150,\"n_skipped\":2,"
	"\"iterations\":7,\"converged\":true,"
	"\"log_likelihood\":-210.5,\"null_log_likelihood\":-260.25,"
	"\"deviance\":98.5,\"null_deviance\":198,"
	"\"intercept\":0.5,\"coefficients\":[0.25,-0.125,0.0625],"
	"\"std_errors\":[0.125,0.0625,0.03125,0],\"z_values\":[4,4,-4,null],"
	"\"p_values\":[0.5,0.25,0.125,0]}";

	make_posample(&s);
	EXPECT(mlx_model_from_poisson(&s.fit, names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);

	/* no intercept, undefined statistics, not converged, ridge */
	m.u.poisson.intercept = false;
	m.u.poisson.converged = false;
	m.u.poisson.lambda = 0.25;
	m.u.poisson.loglik = NAN;
	m.u.poisson.null_deviance = NAN;
	s.coef[0] = 0;
	s.se[0] = NAN;
	s.zval[0] = NAN;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strstr(json, "\"fit_intercept\":false,\"lambda\":0.25,") &&
		   strstr(json, "\"converged\":false,\"log_likelihood\":null,") &&
		   strstr(json, "\"deviance\":98.5,\"null_deviance\":null,\"intercept\":0,") &&
		   strstr(json, "\"std_errors\":[null,0.0625,0.03125,0],\"z_values\":[null,4,-4,null]"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_poisson(void)
{
	posample	s;
	mlx_model	m;
	mlx_status	st;

	make_posample(&s);
	st = mlx_model_from_poisson(&s.fit, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_poisson_inputs(void)
{
	size_t		len;
	uint8_t    *buf = encode_posample8_inputs(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static mlx_status
op_encode_poisson(void)
{
	size_t		len;
	uint8_t    *buf = encode_posample(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static bool
t_poisson_enomem(void)
{
	bool		ok;

	ok = enomem_sweep("from_poisson", op_from_poisson) &&
		enomem_sweep("encode poisson", op_encode_poisson) &&
		enomem_sweep("encode poisson with inputs", op_encode_poisson_inputs);
	if (!ok)
		return false;
	enomem_value = encode_posample(&enomem_len);
	EXPECT(enomem_value != NULL, "encode");
	ok = enomem_sweep("decode poisson", op_decode) &&
		enomem_sweep("describe poisson", op_describe);
	mlx_free(&tctx, enomem_value);
	if (!ok)
		return false;
	enomem_value = encode_posample8_inputs(&enomem_len);
	EXPECT(enomem_value != NULL, "encode with inputs");
	ok = enomem_sweep("decode poisson with inputs", op_decode) &&
		enomem_sweep("describe poisson with inputs", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- k-means (MLX_SEC_KMEANS) ---------- */

typedef struct ksample
{
	mlx_kmeans_fit fit;
	double		cent[3 * IK];
	int64_t		sizes[3];
} ksample;

/* a seed above INT64_MAX, so that it must be handled as unsigned */
#define KSEED UINT64_C(0xFEDCBA9876543210)

/*
 * k = 3 features with the linear sample's names, 2 clusters (1.5, -2, 10)
 * and (-0.25, 4, 0) of 30 and 20 rows; 10 restarts, converged after 9
 * passes.
 */
static void
make_ksample(ksample *s)
{
	static const double cent[6] = {1.5, -2.0, 10.0, -0.25, 4.0, 0.0};

	memset(s, 0, sizeof(*s));
	memcpy(s->cent, cent, sizeof(cent));
	s->sizes[0] = 30;
	s->sizes[1] = 20;
	s->fit.nfeat = 3;
	s->fit.k = 2;
	s->fit.nrows = 50;
	s->fit.nskipped = 1;
	s->fit.iterations = 9;
	s->fit.n_init = 10;
	s->fit.converged = true;
	s->fit.seed = KSEED;
	s->fit.inertia = 123.5;
	s->fit.centroids = s->cent;
	s->fit.sizes = s->sizes;
}

/* k = 8 (the isample's features), 3 clusters, the second one empty. */
static void
make_ksample8(ksample *s)
{
	int			i;

	make_ksample(s);
	s->fit.nfeat = IK;
	s->fit.k = 3;
	for (i = 0; i < 3 * IK; i++)
		s->cent[i] = 0.125 * i - 1;
	s->sizes[0] = 20;
	s->sizes[1] = 0;
	s->sizes[2] = 30;
}

/* Encode a k-means fit with names (NULL: defaults) and inputs (or NULL). */
static mlx_status
encode_kmeans_with(const mlx_kmeans_fit *fit, char **names, mlx_inputs *in,
				   uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_kmeans(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_ksample(size_t *len)
{
	ksample		s;
	uint8_t    *out;

	make_ksample(&s);
	if (encode_kmeans_with(&s.fit, sample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/* The isample's inputs without a target (as ml.train writes) and a k = 8 fit. */
static uint8_t *
encode_ksample8_inputs(size_t *len)
{
	isample		is;
	ksample		s;
	uint8_t    *out;

	make_isample(&is);
	is.inputs.target = NULL;
	is.inputs.target_kind = 0;
	make_ksample8(&s);
	if (encode_kmeans_with(&s.fit, isample_features, &is.inputs, &out, len) !=
		MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the ksample encoding: features body at 32 (21 bytes), k-means
 * section header at 53, body at 61 (48 + 8 * 2 * (3 + 1) = 112 bytes), CRC
 * at 173.  Inside the k-means body (doc/model-format.md): cluster count 0,
 * flags 4, reserved 5..7, iterations 8, n_init 12, nrows 16, nskipped 24,
 * seed 32, inertia 40, centroids 48 (two rows of 24), sizes 96.
 */
#define KM_HDR 53
#define KM_BODY 61
#define KM_LEN 112
#define KSAMPLE_LEN 177
#define KM_CENT 48
#define KM_SIZES 96

/* A test-side writer of the k-means layout, independent of the encoder. */
static size_t
w_kmeans(uint8_t *out, const mlx_kmeans_fit *f)
{
	uint8_t    *p = out;
	int32_t		i;

	memset(p, 0, 48);
	put32(p, (uint32_t) f->k);
	p[4] = f->converged ? 1 : 0;
	put32(p + 8, (uint32_t) f->iterations);
	put32(p + 12, (uint32_t) f->n_init);
	put64(p + 16, (uint64_t) f->nrows);
	put64(p + 24, (uint64_t) f->nskipped);
	put64(p + 32, f->seed);
	putf64(p + 40, f->inertia);
	p += 48;
	for (i = 0; i < f->k * f->nfeat; i++, p += 8)
		putf64(p, f->centroids[i]);
	for (i = 0; i < f->k; i++, p += 8)
		put64(p, (uint64_t) f->sizes[i]);
	return (size_t) (p - out);
}

/* Every field of two k-means fits is the same (doubles bit for bit). */
static bool
same_kmeans(const mlx_kmeans_fit *a, const mlx_kmeans_fit *b)
{
	int32_t		i;

	EXPECT(a->nfeat == b->nfeat && a->k == b->k && a->nrows == b->nrows &&
		   a->nskipped == b->nskipped && a->iterations == b->iterations &&
		   a->n_init == b->n_init && a->converged == b->converged &&
		   a->seed == b->seed, "integer fields differ");
	EXPECT(same_double(a->inertia, b->inertia), "inertia differs");
	for (i = 0; i < a->k * a->nfeat; i++)
		EXPECT(same_double(a->centroids[i], b->centroids[i]),
			   "centroid entry %d differs", (int) i);
	for (i = 0; i < a->k; i++)
		EXPECT(a->sizes[i] == b->sizes[i], "size %d differs", (int) i);
	return true;
}

/*
 * Encode the fit, decode, compare field by field, and re-encode to the same
 * bytes; *lenp (if not NULL) receives the length.
 */
static bool
kmeans_round_trip(const mlx_kmeans_fit *fit, char **names, mlx_inputs *in,
				  size_t *lenp)
{
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;

	st = encode_kmeans_with(fit, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == MLX_ALG_KMEANS && buf[7] == MLX_ALG_KMEANS &&
		m.nfeat == fit->nfeat && (in == NULL) == (m.inputs == NULL);
	if (ok && names != NULL)
	{
		int32_t		i;

		for (i = 0; i < fit->nfeat; i++)
			ok = ok && strcmp(m.feature_names[i], names[i]) == 0;
	}
	if (ok && in != NULL)
		ok = m.inputs->ninputs == in->ninputs &&
			(in->target == NULL ? m.inputs->target == NULL :
			 m.inputs->target != NULL &&
			 strcmp(m.inputs->target, in->target) == 0) &&
			m.inputs->target_kind == in->target_kind;
	if (!ok)
		set_reason("header, names or inputs differ");
	ok = ok && same_kmeans(&m.u.kmeans, fit);
	if (ok)
	{
		st = mlx_model_encode(&m, &tctx, 0, &buf2, &len2);
		ok = st == MLX_OK && len2 == len && memcmp(buf, buf2, len) == 0;
		if (st == MLX_OK)
			mlx_free(&tctx, buf2);
		if (!ok)
			set_reason("re-encode differs");
	}
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	return ok;
}

static bool
t_kmeans_round_trip(void)
{
	ksample		s;
	isample		is;
	size_t		len;

	make_ksample(&s);
	EXPECT(kmeans_round_trip(&s.fit, sample_names, NULL, &len), "%s", case_reason);
	EXPECT(len == KSAMPLE_LEN, "length %zu, expected %d", len, KSAMPLE_LEN);
	EXPECT(kmeans_round_trip(&s.fit, NULL, NULL, NULL), "default names: %s",
		   case_reason);

	/* from a table: inputs without a target, as ml.train writes them */
	make_isample(&is);
	is.inputs.target = NULL;
	is.inputs.target_kind = 0;
	make_ksample8(&s);
	EXPECT(kmeans_round_trip(&s.fit, isample_features, &is.inputs, NULL),
		   "unsupervised inputs: %s", case_reason);
	/* the inputs section does not depend on the algorithm: a target is fine */
	make_isample(&is);
	EXPECT(kmeans_round_trip(&s.fit, isample_features, &is.inputs, NULL),
		   "inputs with a target: %s", case_reason);

	/* one cluster of one feature holding every row */
	make_ksample(&s);
	s.fit.nfeat = 1;
	s.fit.k = 1;
	s.sizes[0] = 50;
	EXPECT(kmeans_round_trip(&s.fit, NULL, NULL, &len), "k = 1: %s", case_reason);
	EXPECT(len == 28 + 8 + 4 + 8 + 48 + 8 + 8, "k = 1 length %zu", len);
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_kmeans_layout(void)
{
	ksample		s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[512];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0, KSAMPLE_LEN - 28, 0, 0, 0, 0
	};
	static const uint8_t fixed[48] = {
		0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 10,
		0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 1,
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
		0x40, 0x5e, 0xe0, 0, 0, 0, 0, 0
	};
	static const uint8_t sizes[16] = {
		0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 20
	};
	static const uint8_t minus_quarter[8] = {0xbf, 0xd0, 0, 0, 0, 0, 0, 0};

	make_ksample(&s);
	a = encode_ksample(&alen);
	EXPECT(a != NULL && alen == KSAMPLE_LEN, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[KM_HDR] == 0 && a[KM_HDR + 1] == 8 && a[KM_HDR + 6] == 0 &&
		   a[KM_HDR + 7] == KM_LEN, "kmeans section header differs");
	EXPECT(memcmp(a + KM_BODY, fixed, 48) == 0,
		   "count/flags/iterations/n_init/rows/seed/inertia bytes differ");
	EXPECT(memcmp(a + KM_BODY + KM_CENT + 24, minus_quarter, 8) == 0,
		   "centroid 2 does not start at offset %d", KM_CENT + 24);
	EXPECT(memcmp(a + KM_BODY + KM_SIZES, sizes, 16) == 0,
		   "cluster sizes are not big-endian i64 at offset %d", KM_SIZES);
	wlen = w_kmeans(w, &s.fit);
	EXPECT(wlen == KM_LEN && memcmp(w, a + KM_BODY, KM_LEN) == 0,
		   "kmeans body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_KMEANS, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	/* deterministic, and the reserve only shifts the bytes */
	EXPECT(mlx_model_from_kmeans(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_kmeans_variants(void)
{
	ksample		s;

	/* an empty cluster, seed 0, no pass, not converged, one restart */
	make_ksample(&s);
	s.sizes[0] = 50;
	s.sizes[1] = 0;
	s.fit.seed = 0;
	s.fit.iterations = 0;
	s.fit.converged = false;
	s.fit.n_init = 1;
	s.fit.nskipped = 0;
	s.fit.inertia = 0;
	EXPECT(kmeans_round_trip(&s.fit, NULL, NULL, NULL), "empty cluster: %s",
		   case_reason);

	/* the largest seed, more clusters than rows, -0 and huge centroids */
	make_ksample(&s);
	s.fit.seed = UINT64_MAX;
	s.fit.nrows = 1;
	s.sizes[0] = 0;
	s.sizes[1] = 1;
	s.cent[0] = -0.0;
	s.cent[5] = -1e300;
	s.fit.inertia = 1e300;
	EXPECT(kmeans_round_trip(&s.fit, sample_names, NULL, NULL),
		   "more clusters than rows: %s", case_reason);

	/* sizes adding up to the largest row count */
	make_ksample(&s);
	s.fit.nrows = INT64_MAX;
	s.sizes[0] = INT64_MAX - 1;
	s.sizes[1] = 1;
	EXPECT(kmeans_round_trip(&s.fit, NULL, NULL, NULL), "INT64_MAX rows: %s",
		   case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* A k-means model trained from a table: inputs without a target. */
static bool
t_kmeans_inputs_round_trip(void)
{
	isample		is;
	ksample		s;
	uint8_t    *buf;
	uint8_t    *plain;
	size_t		len;
	size_t		plain_len;
	size_t		pos;
	uint32_t	slen;
	mlx_model	m;
	char	   *json;
	char		err[256];

	buf = encode_ksample8_inputs(&len);
	EXPECT(buf != NULL, "encode");
	/* canonical order: features, inputs, kmeans */
	pos = 24;
	EXPECT(buf[pos + 1] == MLX_SEC_FEATURES, "first section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_INPUTS, "second section");
	pos += 8 + ((size_t) buf[pos + 6] << 8 | buf[pos + 7]);
	EXPECT(buf[pos + 1] == MLX_SEC_KMEANS, "third section");
	slen = (uint32_t) buf[pos + 6] << 8 | buf[pos + 7];
	EXPECT(pos + 8 + slen + 4 == len, "kmeans is not the last section");
	make_isample(&is);
	make_ksample8(&s);
	EXPECT(encode_kmeans_with(&s.fit, isample_features, NULL, &plain,
							  &plain_len) == MLX_OK, "encode plain");
	EXPECT(memcmp(plain + plain_len - 4 - slen - 8, buf + pos, slen + 8) == 0,
		   "inputs changed the kmeans section");
	mlx_free(&tctx, plain);

	EXPECT(mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err)) == MLX_OK,
		   "decode: %s", err);
	EXPECT(m.inputs != NULL && m.inputs->ninputs == 4 &&
		   m.inputs->target == NULL && m.inputs->target_kind == 0,
		   "inputs differ");
	EXPECT(m.u.kmeans.k == 3 && m.u.kmeans.sizes[1] == 0, "fit differs");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strstr(json, "\"emb[2]\"],\"inputs\":[{\"name\":") &&
		   strstr(json, "]}],\"target\":null,\"k\":3,\"n_init\":10,") &&
		   strstr(json, "\"sizes\":[20,0,30],\"centroids\":[[-1,"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free(&m, &tctx);

	EXPECT(every_truncation_rejected(buf, len), "%s", case_reason);
	mlx_free(&tctx, buf);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode the ksample, edit it with f, reseal, and expect msg. */
static bool
kedit_expect(void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_ksample(&len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

static void
ke_count0(uint8_t *v)
{
	put32(v + KM_BODY, 0);
}

static void
ke_count_large(uint8_t *v)
{
	put32(v + KM_BODY, MLX_KMEANS_MAX_K + 1);
}

static void
ke_count_huge(uint8_t *v)
{
	put32(v + KM_BODY, 0xFFFFFFFFu);
}

static void
ke_count_fewer(uint8_t *v)
{
	put32(v + KM_BODY, 1);
}

static void
ke_count_more(uint8_t *v)
{
	put32(v + KM_BODY, 3);
}

static void
ke_flags(uint8_t *v)
{
	v[KM_BODY + 4] |= 0x02;
}

static void
ke_flags_high(uint8_t *v)
{
	v[KM_BODY + 4] |= 0x80;
}

static void
ke_reserved5(uint8_t *v)
{
	v[KM_BODY + 5] = 1;
}

static void
ke_reserved7(uint8_t *v)
{
	v[KM_BODY + 7] = 0x80;
}

static void
ke_iterations(uint8_t *v)
{
	put32(v + KM_BODY + 8, 0xFFFFFFFFu);
}

static void
ke_n_init0(uint8_t *v)
{
	put32(v + KM_BODY + 12, 0);
}

static void
ke_n_init_negative(uint8_t *v)
{
	put32(v + KM_BODY + 12, 0x80000000u);
}

static void
ke_nrows0(uint8_t *v)
{
	put64(v + KM_BODY + 16, 0);
}

static void
ke_nskipped(uint8_t *v)
{
	put64(v + KM_BODY + 24, UINT64_MAX);
}

static void
ke_inertia_negative(uint8_t *v)
{
	putf64(v + KM_BODY + 40, -0.5);
}

static void
ke_inertia_nan(uint8_t *v)
{
	putf64(v + KM_BODY + 40, NAN);
}

static void
ke_inertia_inf(uint8_t *v)
{
	putf64(v + KM_BODY + 40, INFINITY);
}

static void
ke_centroid_nan(uint8_t *v)
{
	putf64(v + KM_BODY + KM_CENT + 40, NAN);	/* centroid 2 entry 3 */
}

static void
ke_centroid_inf(uint8_t *v)
{
	putf64(v + KM_BODY + KM_CENT, -INFINITY);	/* centroid 1 entry 1 */
}

static void
ke_size_negative(uint8_t *v)
{
	put64(v + KM_BODY + KM_SIZES + 8, UINT64_MAX);	/* size 2 = -1 */
}

static void
ke_sizes_short(uint8_t *v)
{
	put64(v + KM_BODY + KM_SIZES, 29);	/* 29 + 20 = 49 */
}

static void
ke_sizes_long(uint8_t *v)
{
	put64(v + KM_BODY + KM_SIZES + 8, 21);	/* 30 + 21 = 51 */
}

static void
ke_sizes_overflow(uint8_t *v)
{
	/* INT64_MAX rows, two clusters of INT64_MAX: the sum overflows */
	put64(v + KM_BODY + 16, (uint64_t) INT64_MAX);
	put64(v + KM_BODY + KM_SIZES, (uint64_t) INT64_MAX);
	put64(v + KM_BODY + KM_SIZES + 8, (uint64_t) INT64_MAX);
}

static void
ke_section_long(uint8_t *v)
{
	put32(v + KM_HDR + 4, KM_LEN + 1);
}

static bool
t_kmeans_crafted(void)
{
	struct
	{
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{ke_count0, "kmeans cluster count 0 is outside 1 to 10000"},
		{ke_count_large, "kmeans cluster count 10001 is outside 1 to 10000"},
		{ke_count_huge, "kmeans cluster count 4294967295 is outside 1 to 10000"},
		{ke_count_fewer, "kmeans section has 112 bytes, expected 80 for 3 features and 1 clusters"},
		{ke_count_more, "kmeans section has 112 bytes, expected 144 for 3 features and 3 clusters"},
		{ke_flags, "kmeans flags 0x03 are not defined"},
		{ke_flags_high, "kmeans flags 0x81 are not defined"},
		{ke_reserved5, "kmeans section reserved bytes are not zero"},
		{ke_reserved7, "kmeans section reserved bytes are not zero"},
		{ke_iterations, "kmeans iteration count -1 is negative"},
		{ke_n_init0, "kmeans n_init 0 is less than 1"},
		{ke_n_init_negative, "kmeans n_init -2147483648 is less than 1"},
		{ke_nrows0, "kmeans row counts are invalid (0 rows, 1 skipped)"},
		{ke_nskipped, "kmeans row counts are invalid (50 rows, -1 skipped)"},
		{ke_inertia_negative, "kmeans inertia is negative or not finite"},
		{ke_inertia_nan, "kmeans inertia is negative or not finite"},
		{ke_inertia_inf, "kmeans inertia is negative or not finite"},
		{ke_centroid_nan, "kmeans centroid 2 entry 3 is not finite"},
		{ke_centroid_inf, "kmeans centroid 1 entry 1 is not finite"},
		{ke_size_negative, "kmeans cluster 2 size -1 is negative"},
		{ke_sizes_short, "kmeans cluster sizes add up to 49, expected 50 rows"},
		{ke_sizes_long, "kmeans cluster sizes add up to more than its 50 rows"},
		{ke_sizes_overflow, "kmeans cluster sizes add up to more than its 9223372036854775807 rows"},
		{ke_section_long, "declares 113 bytes but only 112 remain"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(kedit_expect(cases[i].f, cases[i].msg), "case %zu: %s", i, case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_kmeans_bytes_rejected(void)
{
	ksample		s;
	uint8_t		w[512];
	uint8_t		pw[512];
	uint8_t		feat[FEAT_LEN];
	size_t		wlen;
	size_t		pwlen;
	builder		x;
	size_t		n;

	w_sample_features(feat);
	make_ksample(&s);
	wlen = w_kmeans(w, &s.fit);

	/* exact length, checked before anything is allocated */
	w[wlen] = 0;
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_KMEANS, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "kmeans section has 113 bytes, expected 112 for 3 features and 2 clusters"),
		   "spare byte: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_KMEANS, w, 79);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "kmeans section has 79 bytes, expected at least 80 for 3 features"),
		   "short: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_KMEANS, w, 0);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "kmeans section has 0 bytes"),
		   "empty: %s", case_reason);

	/*
	 * Three clusters whose sizes wrap around 2^64 to exactly the 50 rows:
	 * a naive sum would accept them.
	 */
	make_ksample8(&s);
	s.fit.nfeat = 3;
	s.sizes[0] = INT64_MAX;
	s.sizes[1] = INT64_MAX;
	s.sizes[2] = 52;
	wlen = w_kmeans(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_KMEANS, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "kmeans cluster sizes add up to more than its 50 rows"),
		   "wrapping sizes: %s", case_reason);
	s.sizes[0] = 20;
	s.sizes[1] = 0;
	s.sizes[2] = 30;
	wlen = w_kmeans(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_KMEANS, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "3 clusters: %s", case_reason);

	/* section set */
	make_ksample(&s);
	wlen = w_kmeans(w, &s.fit);
	b_header(&x, MLX_ALG_KMEANS, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no kmeans section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_KMEANS, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_KMEANS, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_KMEANS, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one kmeans section"),
		   "duplicate: %s", case_reason);
	{
		psample		ps;

		make_psample(&ps);
		pwlen = w_pca(pw, &ps.fit);
	}
	b_header(&x, MLX_ALG_KMEANS, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_KMEANS, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_PCA, pw, (uint32_t) pwlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a pca section but its algorithm is kmeans"),
		   "pca section in a kmeans: %s", case_reason);
	/* a kmeans section where the pca's belongs */
	n = build_k3_model(&x, MLX_ALG_PCA, MLX_SEC_KMEANS, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no pca section"),
		   "kmeans section alone in a pca: %s", case_reason);
	/* the two new algorithms' sections do not mix either */
	{
		posample	po;
		uint8_t		qw[512];
		size_t		qwlen;

		make_posample(&po);
		qwlen = w_poisson(qw, &po.fit);
		b_header(&x, MLX_ALG_POISSON_REGRESSION, 3);
		b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
		b_section(&x, MLX_SEC_POISSON, qw, (uint32_t) qwlen);
		b_section(&x, MLX_SEC_KMEANS, w, (uint32_t) wlen);
		n = b_finish(&x);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
							 "model has a kmeans section but its algorithm is poisson_regression"),
			   "kmeans section in a poisson model: %s", case_reason);
		n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_POISSON, qw, qwlen);
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
							 "model has a poisson regression section but its algorithm is kmeans"),
			   "poisson section in a kmeans: %s", case_reason);
	}
	b_header(&x, MLX_ALG_KMEANS, 3);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_KMEANS, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);

	/* k in the header must match the centroids */
	b_header(&x, MLX_ALG_KMEANS, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN - 5);
	b_section(&x, MLX_SEC_KMEANS, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "kmeans section has 112 bytes, expected 96 for 2 features and 2 clusters"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * Encode one cluster of nfeat features (default names), then set the
 * stored cluster count to count, reseal, and expect msg from the decoder.
 */
static bool
kmeans_count_expect(int32_t nfeat, uint32_t count, const char *msg)
{
	mlx_kmeans_fit fit;
	double	   *cent = calloc((size_t) nfeat, sizeof(double));
	int64_t		size = 5;
	uint8_t    *buf = NULL;
	size_t		len;
	size_t		body;
	bool		ok;

	memset(&fit, 0, sizeof(fit));
	fit.nfeat = nfeat;
	fit.k = 1;
	fit.nrows = 5;
	fit.n_init = 1;
	fit.centroids = cent;
	fit.sizes = &size;
	if (cent == NULL || encode_kmeans_with(&fit, NULL, NULL, &buf, &len) != MLX_OK)
	{
		free(cent);
		if (buf != NULL)
			mlx_free(&tctx, buf);
		set_reason("encode %d features", (int) nfeat);
		return false;
	}
	free(cent);
	body = len - 4 - (48 + 8 * ((size_t) nfeat + 1));
	put32(buf + body, count);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

/*
 * The limits of src/core/kmeans.h: at most MLX_KMEANS_MAX_K clusters and
 * MLX_KMEANS_MAX_CELLS centroid values.  The largest model (10000 clusters
 * of 1000 features, 80 MB) is encoded and decoded; one more cluster or one
 * more feature is refused by the encoder and, from a stored count, by the
 * decoder before it allocates anything (a count of 2^32 - 1 would
 * otherwise ask for a huge allocation, which the sanitizer reports).
 */
static bool
t_kmeans_limits(void)
{
	mlx_kmeans_fit fit;
	double		small[4] = {0};
	int64_t		one[1] = {5};
	uint8_t    *buf = NULL;
	size_t		len;
	bool		ok;

	/* refused shapes, before the arrays are read */
	memset(&fit, 0, sizeof(fit));
	fit.nrows = 5;
	fit.n_init = 1;
	fit.centroids = small;
	fit.sizes = one;
	fit.nfeat = 1001;
	fit.k = MLX_KMEANS_MAX_K;
	EXPECT(encode_kmeans_with(&fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "10000 clusters of 1001 features encoded");
	fit.nfeat = 1;
	fit.k = MLX_KMEANS_MAX_K + 1;
	EXPECT(encode_kmeans_with(&fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "10001 clusters encoded");
	fit.k = -1;
	EXPECT(encode_kmeans_with(&fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "-1 clusters encoded");

	/* the decoder, from a stored count */
	EXPECT(kmeans_count_expect(1001, 9991,
							   "kmeans has 9991 clusters of 1001 features, more than 10000000 centroid values"),
		   "9991 x 1001: %s", case_reason);
	EXPECT(kmeans_count_expect(1001, 9990,
							   "kmeans section has 8064 bytes, expected 80079888 for 1001 features and 9990 clusters"),
		   "9990 x 1001: %s", case_reason);
	EXPECT(kmeans_count_expect(1000, 10001,
							   "kmeans cluster count 10001 is outside 1 to 10000"),
		   "10001 x 1000: %s", case_reason);
	EXPECT(kmeans_count_expect(1000, 0xFFFFFFFFu,
							   "kmeans cluster count 4294967295 is outside 1 to 10000"),
		   "2^32 - 1 x 1000: %s", case_reason);

	/* exactly at both limits: encoded and decoded */
	{
		size_t		cells = (size_t) MLX_KMEANS_MAX_CELLS;
		double	   *cent = calloc(cells, sizeof(double));
		int64_t    *sizes = calloc(MLX_KMEANS_MAX_K, sizeof(int64_t));

		EXPECT(cent != NULL && sizes != NULL, "out of memory");
		memset(&fit, 0, sizeof(fit));
		fit.nfeat = (int32_t) (MLX_KMEANS_MAX_CELLS / MLX_KMEANS_MAX_K);
		fit.k = MLX_KMEANS_MAX_K;
		fit.nrows = 123456789;
		fit.n_init = 1;
		fit.centroids = cent;
		fit.sizes = sizes;
		cent[cells - 1] = 2.5;
		sizes[0] = 123456789;
		/* names "x1" .. "x1000" take 5893 bytes */
		ok = kmeans_round_trip(&fit, NULL, NULL, &len);
		if (ok && len != 28 + 8 + 5893 + 8 + 48 + 8 * (size_t) MLX_KMEANS_MAX_K * 1001)
		{
			set_reason("largest model has %zu bytes", len);
			ok = false;
		}
		free(cent);
		free(sizes);
	}
	EXPECT(ok, "%s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_kmeans_truncations_and_flips(void)
{
	size_t		len;
	uint8_t    *buf = encode_ksample(&len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	ok = every_truncation_rejected(buf, len) &&
		flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "%s", case_reason);
	buf = encode_ksample8_inputs(&len);
	EXPECT(buf != NULL, "encode with inputs");
	ok = flips_rejected_or_canonical(buf, len);
	mlx_free(&tctx, buf);
	EXPECT(ok, "with inputs: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_kmeans_encoder_rejects(void)
{
	ksample		s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;

	make_ksample(&s);
	EXPECT(mlx_model_from_kmeans(NULL, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	s.fit.nfeat = 0;
	EXPECT(mlx_model_from_kmeans(&s.fit, NULL, &tctx, &m) == MLX_EINVAL &&
		   m.feature_names == NULL, "0 features accepted");
	s.fit.nfeat = 3;
	EXPECT(mlx_model_from_kmeans(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(m.algorithm == MLX_ALG_KMEANS && m.nfeat == 3 && m.inputs == NULL &&
		   m.u.kmeans.centroids == s.cent && m.u.kmeans.sizes == s.sizes,
		   "built model differs");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.kmeans.k = 0;
	REFUSED("0 clusters");
	m.u.kmeans.k = 2;
	m.u.kmeans.iterations = -1;
	REFUSED("negative iterations");
	m.u.kmeans.iterations = 9;
	m.u.kmeans.n_init = 0;
	REFUSED("0 restarts");
	m.u.kmeans.n_init = 10;
	m.u.kmeans.nrows = 0;
	REFUSED("no rows");
	m.u.kmeans.nrows = 50;
	m.u.kmeans.nskipped = -1;
	REFUSED("negative skipped rows");
	m.u.kmeans.nskipped = 1;
	m.u.kmeans.inertia = NAN;
	REFUSED("NaN inertia");
	m.u.kmeans.inertia = -1;
	REFUSED("negative inertia");
	m.u.kmeans.inertia = 123.5;
	s.cent[4] = INFINITY;
	REFUSED("infinite centroid");
	s.cent[4] = 4;
	s.sizes[1] = -20;
	REFUSED("negative size");
	s.sizes[1] = 19;
	REFUSED("sizes not adding up");
	s.sizes[1] = 20;
	m.u.kmeans.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.kmeans.nfeat = 3;
	m.u.kmeans.sizes = NULL;
	REFUSED("missing sizes");
	m.u.kmeans.sizes = s.sizes;
	m.u.kmeans.centroids = NULL;
	REFUSED("missing centroids");
	m.u.kmeans.centroids = s.cent;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_kmeans_json(void)
{
	ksample		s;
	mlx_model	m;
	char	   *json;
	char	   *names[3] = {"a", "b", "c"};
	const char *want =
	"{\"algorithm\":\"kmeans\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"k\":2,\"n_init\":10,\"iterations\":9,\"converged\":true,"
	"\"seed\":18364758544493064720,\"inertia\":123.5,"
	"\"n_rows\":50,\"n_skipped\":1,\"sizes\":[30,20],"
	"\"centroids\":[[1.5,-2,10],[-0.25,4,0]]}";

	make_ksample(&s);
	EXPECT(mlx_model_from_kmeans(&s.fit, names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);

	/* one cluster, not converged, seed 0 */
	m.u.kmeans.k = 1;
	m.u.kmeans.converged = false;
	m.u.kmeans.seed = 0;
	s.sizes[0] = 50;
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strstr(json, "\"k\":1,\"n_init\":10,\"iterations\":9,\"converged\":false,"
				  "\"seed\":0,") &&
		   strstr(json, "\"sizes\":[50],\"centroids\":[[1.5,-2,10]]}"),
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_kmeans(void)
{
	ksample		s;
	mlx_model	m;
	mlx_status	st;

	make_ksample(&s);
	st = mlx_model_from_kmeans(&s.fit, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_kmeans(void)
{
	size_t		len;
	uint8_t    *buf = encode_ksample(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static mlx_status
op_encode_kmeans_inputs(void)
{
	size_t		len;
	uint8_t    *buf = encode_ksample8_inputs(&len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static bool
t_kmeans_enomem(void)
{
	bool		ok;

	ok = enomem_sweep("from_kmeans", op_from_kmeans) &&
		enomem_sweep("encode kmeans", op_encode_kmeans) &&
		enomem_sweep("encode kmeans with inputs", op_encode_kmeans_inputs);
	if (!ok)
		return false;
	enomem_value = encode_ksample(&enomem_len);
	EXPECT(enomem_value != NULL, "encode");
	ok = enomem_sweep("decode kmeans", op_decode) &&
		enomem_sweep("describe kmeans", op_describe);
	mlx_free(&tctx, enomem_value);
	if (!ok)
		return false;
	enomem_value = encode_ksample8_inputs(&enomem_len);
	EXPECT(enomem_value != NULL, "encode with inputs");
	ok = enomem_sweep("decode kmeans with inputs", op_decode) &&
		enomem_sweep("describe kmeans with inputs", op_describe);
	mlx_free(&tctx, enomem_value);
	return ok;
}

/* ---------- naive Bayes (MLX_SEC_NBAYES) ---------- */

typedef struct nbsample
{
	mlx_nb_fit	fit;
	char	   *labels[3];
	int64_t		count[3];
	double		clp[3];
	double		theta[3 * IK];
	double		var[3 * IK];
	double		flp[3 * IK];
} nbsample;

/* labels of the Gaussian sample: ASCII, two-byte UTF-8, a JSON quote */
static char *nb_glabels[3] = {"x", "y\xc3\xa9", "z\""};
static char *nb_mlabels[2] = {"no", "yes"};

/*
 * Gaussian, k = 3 (the linear sample's names), 3 classes of 30, 20 and 10
 * rows, 2 skipped; var_smoothing 0.5, epsilon 0.25, theta 0.5 i - 1, var
 * 0.25 + 0.125 i (i = class * 3 + feature).
 */
static void
make_nbsample(nbsample *s)
{
	static const double clp[3] = {-0.5, -1.0, -2.0};
	int			i;

	memset(s, 0, sizeof(*s));
	memcpy(s->labels, nb_glabels, sizeof(nb_glabels));
	memcpy(s->clp, clp, sizeof(clp));
	s->count[0] = 30;
	s->count[1] = 20;
	s->count[2] = 10;
	for (i = 0; i < 3 * IK; i++)
	{
		s->theta[i] = 0.5 * i - 1;
		s->var[i] = 0.25 + 0.125 * i;
	}
	s->fit.distribution = MLX_NB_GAUSSIAN;
	s->fit.nclasses = 3;
	s->fit.nfeat = 3;
	s->fit.nrows = 60;
	s->fit.nskipped = 2;
	s->fit.var_smoothing = 0.5;
	s->fit.alpha = 0;
	s->fit.epsilon = 0.25;
	s->fit.classes = s->labels;
	s->fit.class_count = s->count;
	s->fit.class_log_prior = s->clp;
	s->fit.theta = s->theta;
	s->fit.var = s->var;
}

/*
 * Multinomial, k = 3, classes "no" (7 rows) and "yes" (5), alpha 1, log
 * priors -0.5 and -1, feature_log_prob {-1, -2, -0.5}, {-0.25, -3, -1.5}.
 */
static void
make_nbsample_mn(nbsample *s)
{
	static const double flp[6] = {-1, -2, -0.5, -0.25, -3, -1.5};
	int			i;

	memset(s, 0, sizeof(*s));
	s->labels[0] = nb_mlabels[0];
	s->labels[1] = nb_mlabels[1];
	s->count[0] = 7;
	s->count[1] = 5;
	s->clp[0] = -0.5;
	s->clp[1] = -1.0;
	for (i = 0; i < 3 * IK; i++)
		s->flp[i] = i < 6 ? flp[i] : -0.125 * i;
	s->fit.distribution = MLX_NB_MULTINOMIAL;
	s->fit.nclasses = 2;
	s->fit.nfeat = 3;
	s->fit.nrows = 12;
	s->fit.alpha = 1.0;
	s->fit.classes = s->labels;
	s->fit.class_count = s->count;
	s->fit.class_log_prior = s->clp;
	s->fit.feature_log_prob = s->flp;
}

/* Encode a naive Bayes fit with names (NULL: defaults) and inputs (or NULL). */
static mlx_status
encode_nbayes_with(const mlx_nb_fit *fit, char **names, mlx_inputs *in,
				   uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_nbayes(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

static uint8_t *
encode_nbsample(bool multinomial, size_t *len)
{
	nbsample	s;
	uint8_t    *out;

	if (multinomial)
		make_nbsample_mn(&s);
	else
		make_nbsample(&s);
	if (encode_nbayes_with(&s.fit, sample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/* The isample's inputs (with its target) and a k = 8 fit. */
static uint8_t *
encode_nbsample8_inputs(bool multinomial, size_t *len)
{
	isample		is;
	nbsample	s;
	uint8_t    *out;

	make_isample(&is);
	if (multinomial)
		make_nbsample_mn(&s);
	else
		make_nbsample(&s);
	s.fit.nfeat = IK;
	if (encode_nbayes_with(&s.fit, isample_features, &is.inputs, &out, len) !=
		MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the Gaussian sample's encoding: naive Bayes section header at
 * 53, body at 61 (252 bytes), CRC at 313.  Inside the body
 * (doc/model-format.md): distribution 0, reserved 1..3, class count 4,
 * nrows 8, nskipped 16, var_smoothing 24, alpha 32, epsilon 40, labels 48
 * ("x" 48, "yé" 51, "z\"" 56), class counts 60, log priors 84, theta 108,
 * var 180.  The multinomial sample: body of 137 bytes, labels 48 ("no",
 * "yes"), class counts 57, log priors 73, feature_log_prob 89.
 */
#define NB_HDR 53
#define NB_BODY 61
#define NB_LEN 252
#define NBSAMPLE_LEN (61 + NB_LEN + 4)
#define NB_LABELS 48
#define NB_COUNT 60
#define NB_CLP 84
#define NB_THETA 108
#define NB_VAR 180
#define NBM_LEN 137
#define NBMSAMPLE_LEN (61 + NBM_LEN + 4)
#define NBM_COUNT 57
#define NBM_CLP 73
#define NBM_FLP 89

/* A test-side writer of the naive Bayes layout, independent of the encoder. */
static size_t
w_nbayes(uint8_t *out, const mlx_nb_fit *f)
{
	uint8_t    *p = out;
	int32_t		n = f->nclasses * f->nfeat;
	int32_t		i;

	memset(p, 0, 48);
	p[0] = (uint8_t) f->distribution;
	put32(p + 4, (uint32_t) f->nclasses);
	put64(p + 8, (uint64_t) f->nrows);
	put64(p + 16, (uint64_t) f->nskipped);
	putf64(p + 24, f->var_smoothing);
	putf64(p + 32, f->alpha);
	putf64(p + 40, f->epsilon);
	p += 48;
	for (i = 0; i < f->nclasses; i++)
		p += w_text(p, f->classes[i]);
	for (i = 0; i < f->nclasses; i++, p += 8)
		put64(p, (uint64_t) f->class_count[i]);
	for (i = 0; i < f->nclasses; i++, p += 8)
		putf64(p, f->class_log_prior[i]);
	if (f->distribution == MLX_NB_GAUSSIAN)
	{
		for (i = 0; i < n; i++, p += 8)
			putf64(p, f->theta[i]);
		for (i = 0; i < n; i++, p += 8)
			putf64(p, f->var[i]);
	}
	else
	{
		for (i = 0; i < n; i++, p += 8)
			putf64(p, f->feature_log_prob[i]);
	}
	return (size_t) (p - out);
}

/* Every field of two naive Bayes fits is the same (doubles bit for bit). */
static bool
same_nbayes(const mlx_nb_fit *a, const mlx_nb_fit *b)
{
	int32_t		i;
	int32_t		n = a->nclasses * a->nfeat;

	EXPECT(a->distribution == b->distribution && a->nclasses == b->nclasses &&
		   a->nfeat == b->nfeat && a->nrows == b->nrows &&
		   a->nskipped == b->nskipped, "integer fields differ");
	EXPECT(same_double(a->var_smoothing, b->var_smoothing) &&
		   same_double(a->alpha, b->alpha) &&
		   same_double(a->epsilon, b->epsilon), "parameters differ");
	for (i = 0; i < a->nclasses; i++)
	{
		EXPECT(strcmp(a->classes[i], b->classes[i]) == 0, "label %d differs", (int) i);
		EXPECT(a->class_count[i] == b->class_count[i], "count %d differs", (int) i);
		EXPECT(same_double(a->class_log_prior[i], b->class_log_prior[i]),
			   "log prior %d differs", (int) i);
	}
	if (a->distribution == MLX_NB_GAUSSIAN)
	{
		EXPECT(a->feature_log_prob == NULL || b->feature_log_prob == NULL,
			   "gaussian with feature_log_prob");
		for (i = 0; i < n; i++)
			EXPECT(same_double(a->theta[i], b->theta[i]) &&
				   same_double(a->var[i], b->var[i]), "theta/var %d differs", (int) i);
	}
	else
	{
		EXPECT(a->theta == NULL || b->theta == NULL, "multinomial with theta");
		for (i = 0; i < n; i++)
			EXPECT(same_double(a->feature_log_prob[i], b->feature_log_prob[i]),
				   "feature_log_prob %d differs", (int) i);
	}
	return true;
}

/*
 * Encode the fit, decode, compare field by field, and re-encode to the same
 * bytes; *lenp (if not NULL) receives the length.
 */
static bool
nbayes_round_trip(const mlx_nb_fit *fit, char **names, mlx_inputs *in,
				  size_t *lenp)
{
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;

	st = encode_nbayes_with(fit, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == MLX_ALG_NAIVE_BAYES && buf[7] == MLX_ALG_NAIVE_BAYES &&
		m.nfeat == fit->nfeat && (in == NULL) == (m.inputs == NULL) &&
		m.u.nbayes.classes != fit->classes;
	if (ok && names != NULL)
	{
		int32_t		i;

		for (i = 0; i < fit->nfeat; i++)
			ok = ok && strcmp(m.feature_names[i], names[i]) == 0;
	}
	if (ok && in != NULL)
		ok = m.inputs->ninputs == in->ninputs &&
			(in->target == NULL ? m.inputs->target == NULL :
			 m.inputs->target != NULL &&
			 strcmp(m.inputs->target, in->target) == 0);
	if (!ok)
		set_reason("header, names or inputs differ");
	ok = ok && same_nbayes(&m.u.nbayes, fit);
	if (ok)
	{
		st = mlx_model_encode(&m, &tctx, 0, &buf2, &len2);
		ok = st == MLX_OK && len2 == len && memcmp(buf, buf2, len) == 0;
		if (st == MLX_OK)
			mlx_free(&tctx, buf2);
		if (!ok)
			set_reason("re-encode differs");
	}
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	return ok;
}

static bool
t_nbayes_round_trip(void)
{
	nbsample	s;
	isample		is;
	size_t		len;
	int			mn;

	make_nbsample(&s);
	EXPECT(nbayes_round_trip(&s.fit, sample_names, NULL, &len), "%s", case_reason);
	EXPECT(len == NBSAMPLE_LEN, "length %zu, expected %d", len, NBSAMPLE_LEN);
	EXPECT(nbayes_round_trip(&s.fit, NULL, NULL, NULL), "default names: %s", case_reason);
	make_nbsample_mn(&s);
	EXPECT(nbayes_round_trip(&s.fit, sample_names, NULL, &len), "multinomial: %s",
		   case_reason);
	EXPECT(len == NBMSAMPLE_LEN, "multinomial length %zu, expected %d", len,
		   NBMSAMPLE_LEN);
	EXPECT(nbayes_round_trip(&s.fit, NULL, NULL, NULL), "multinomial default names: %s",
		   case_reason);

	/* from a table: inputs with the (categorical-like) target */
	for (mn = 0; mn < 2; mn++)
	{
		make_isample(&is);
		if (mn)
			make_nbsample_mn(&s);
		else
			make_nbsample(&s);
		s.fit.nfeat = IK;
		EXPECT(nbayes_round_trip(&s.fit, isample_features, &is.inputs, NULL),
			   "inputs (%s): %s", mn ? "multinomial" : "gaussian", case_reason);
		is.inputs.target = NULL;
		is.inputs.target_kind = 0;
		EXPECT(nbayes_round_trip(&s.fit, isample_features, &is.inputs, NULL),
			   "inputs without a target: %s", case_reason);
	}
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_nbayes_layout(void)
{
	nbsample	s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[1024];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 1, NBSAMPLE_LEN - 28 - 256, 0, 0, 0, 0
	};
	static const uint8_t fixed[48] = {
		1, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 2,
		0x3f, 0xe0, 0, 0, 0, 0, 0, 0,	/* var_smoothing 0.5 */
		0, 0, 0, 0, 0, 0, 0, 0,	/* alpha 0 */
		0x3f, 0xd0, 0, 0, 0, 0, 0, 0	/* epsilon 0.25 */
	};
	static const uint8_t labels[12] = {
		0, 1, 'x', 0, 3, 'y', 0xc3, 0xa9, 0, 2, 'z', '"'
	};
	static const uint8_t counts3[24] = {
		0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 10
	};
	static const uint8_t minus_half[8] = {0xbf, 0xe0, 0, 0, 0, 0, 0, 0};
	static const uint8_t minus_one[8] = {0xbf, 0xf0, 0, 0, 0, 0, 0, 0};
	static const uint8_t quarter[8] = {0x3f, 0xd0, 0, 0, 0, 0, 0, 0};
	static const uint8_t mfixed[8] = {2, 0, 0, 0, 0, 0, 0, 2};
	static const uint8_t one[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};

	make_nbsample(&s);
	a = encode_nbsample(false, &alen);
	EXPECT(a != NULL && alen == NBSAMPLE_LEN, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[NB_HDR] == 0 && a[NB_HDR + 1] == 9 && a[NB_HDR + 6] == 0 &&
		   a[NB_HDR + 7] == NB_LEN, "naive bayes section header differs");
	EXPECT(memcmp(a + NB_BODY, fixed, 48) == 0,
		   "distribution/count/rows/var_smoothing/alpha/epsilon bytes differ");
	EXPECT(memcmp(a + NB_BODY + NB_LABELS, labels, 12) == 0, "label bytes differ");
	EXPECT(memcmp(a + NB_BODY + NB_COUNT, counts3, 24) == 0,
		   "class counts are not big-endian i64 at offset %d", NB_COUNT);
	EXPECT(memcmp(a + NB_BODY + NB_CLP, minus_half, 8) == 0,
		   "log priors do not start at offset %d", NB_CLP);
	EXPECT(memcmp(a + NB_BODY + NB_THETA, minus_one, 8) == 0,
		   "theta does not start at offset %d", NB_THETA);
	EXPECT(memcmp(a + NB_BODY + NB_VAR, quarter, 8) == 0,
		   "var does not start at offset %d", NB_VAR);
	wlen = w_nbayes(w, &s.fit);
	EXPECT(wlen == NB_LEN && memcmp(w, a + NB_BODY, NB_LEN) == 0,
		   "naive bayes body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	/* deterministic, and the reserve only shifts the bytes */
	EXPECT(mlx_model_from_nbayes(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);

	/* multinomial */
	make_nbsample_mn(&s);
	a = encode_nbsample(true, &alen);
	EXPECT(a != NULL && alen == NBMSAMPLE_LEN, "encode multinomial");
	EXPECT(memcmp(a + NB_BODY, mfixed, 8) == 0 &&
		   memcmp(a + NB_BODY + 32, one, 8) == 0 &&
		   memcmp(a + NB_BODY + NB_LABELS, "\0\2no\0\3yes", 9) == 0 &&
		   a[NB_BODY + NBM_COUNT + 7] == 7 && a[NB_BODY + NBM_COUNT + 15] == 5 &&
		   memcmp(a + NB_BODY + NBM_CLP, minus_half, 8) == 0 &&
		   memcmp(a + NB_BODY + NBM_FLP, minus_one, 8) == 0,
		   "multinomial fields are not at their documented offsets");
	wlen = w_nbayes(w, &s.fit);
	EXPECT(wlen == NBM_LEN && memcmp(w, a + NB_BODY, NBM_LEN) == 0,
		   "multinomial body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "multinomial builder differs");
	mlx_free(&tctx, a);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_nbayes_variants(void)
{
	nbsample	s;
	char		longlab[MLX_MODEL_MAX_NAME_LEN + 1];

	/* no smoothing, -0 and 0 log priors, many skipped rows */
	make_nbsample(&s);
	s.fit.var_smoothing = 0;
	s.fit.epsilon = 0;
	s.clp[0] = -0.0;
	s.clp[2] = -700;
	s.fit.nskipped = INT64_MAX;
	s.var[4] = 1e-300;
	s.theta[8] = -1e300;
	EXPECT(nbayes_round_trip(&s.fit, NULL, NULL, NULL), "no smoothing: %s", case_reason);

	/* var equal to epsilon (a class with a zero variance), all rows */
	make_nbsample(&s);
	s.var[0] = 0.25;
	s.fit.nrows = INT64_MAX;
	s.count[0] = INT64_MAX - 2;
	s.count[1] = 1;
	s.count[2] = 1;
	EXPECT(nbayes_round_trip(&s.fit, NULL, NULL, NULL), "INT64_MAX rows: %s", case_reason);

	/* a label of the largest length, labels that differ in one byte */
	make_nbsample(&s);
	memset(longlab, 'q', MLX_MODEL_MAX_NAME_LEN);
	longlab[MLX_MODEL_MAX_NAME_LEN] = '\0';
	s.labels[0] = longlab;
	s.labels[1] = "x";
	s.labels[2] = "X";
	EXPECT(nbayes_round_trip(&s.fit, sample_names, NULL, NULL), "long label: %s", case_reason);

	/* multinomial: probabilities of 1 (log 0), a tiny alpha */
	make_nbsample_mn(&s);
	s.flp[0] = 0;
	s.flp[5] = -0.0;
	s.clp[1] = 0;
	s.fit.alpha = 1e-300;
	EXPECT(nbayes_round_trip(&s.fit, NULL, NULL, NULL), "multinomial: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode a sample, apply f to the value, reseal, expect msg. */
static bool
nbedit_expect(bool multinomial, void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_nbsample(multinomial, &len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

#define NBV(off) (v + NB_BODY + (off))

static void nb_dist0(uint8_t *v) { NBV(0)[0] = 0; }
static void nb_dist3(uint8_t *v) { NBV(0)[0] = 3; }
static void nb_dist_mn(uint8_t *v) { NBV(0)[0] = 2; }
static void nb_reserved1(uint8_t *v) { NBV(1)[0] = 1; }
static void nb_reserved3(uint8_t *v) { NBV(3)[0] = 0x80; }
static void nb_count1(uint8_t *v) { put32(NBV(4), 1); }
static void nb_count0(uint8_t *v) { put32(NBV(4), 0); }
static void nb_count_large(uint8_t *v) { put32(NBV(4), 1001); }
static void nb_count_huge(uint8_t *v) { put32(NBV(4), 0xFFFFFFFFu); }
static void nb_count_more(uint8_t *v) { put32(NBV(4), 4); }
static void nb_count_fewer(uint8_t *v) { put32(NBV(4), 2); }
static void nb_nrows(uint8_t *v) { put64(NBV(8), 2); }
static void nb_nrows_negative(uint8_t *v) { put64(NBV(8), UINT64_MAX); }
static void nb_nskipped(uint8_t *v) { put64(NBV(16), UINT64_MAX); }
static void nb_vs_negative(uint8_t *v) { putf64(NBV(24), -0.5); }
static void nb_vs_nan(uint8_t *v) { putf64(NBV(24), NAN); }
static void nb_vs_inf(uint8_t *v) { putf64(NBV(24), INFINITY); }
static void nb_vs_zero(uint8_t *v) { putf64(NBV(24), 0); }
static void nb_alpha(uint8_t *v) { putf64(NBV(32), 1); }
static void nb_alpha_nan(uint8_t *v) { putf64(NBV(32), NAN); }
static void nb_eps_negative(uint8_t *v) { putf64(NBV(40), -0.25); }
static void nb_eps_inf(uint8_t *v) { putf64(NBV(40), INFINITY); }
static void nb_label1_empty(uint8_t *v) { NBV(NB_LABELS)[1] = 0; }
static void nb_label2_nul(uint8_t *v) { NBV(NB_LABELS + 6)[0] = 0; }
static void nb_label2_utf8(uint8_t *v) { NBV(NB_LABELS + 6)[0] = 0xff; }
static void nb_label2_overlong(uint8_t *v)
{
	/* "y" + C0 80: an overlong encoding of NUL */
	NBV(NB_LABELS + 6)[0] = 0xc0;
	NBV(NB_LABELS + 7)[0] = 0x80;
}
static void nb_label3_past_end(uint8_t *v) { NBV(NB_LABELS + 8)[0] = 0xff; }
static void nb_label3_long(uint8_t *v)
{
	/* 1025 bytes, more than are left before the arrays */
	NBV(NB_LABELS + 8)[0] = 4;
	NBV(NB_LABELS + 9)[0] = 1;
}
static void nb_count_zero(uint8_t *v) { put64(NBV(NB_COUNT + 8), 0); }
static void nb_count_negative(uint8_t *v) { put64(NBV(NB_COUNT + 16), UINT64_MAX); }
static void nb_counts_short(uint8_t *v) { put64(NBV(NB_COUNT), 29); }
static void nb_counts_long(uint8_t *v) { put64(NBV(NB_COUNT + 16), 11); }
static void nb_counts_wrap(uint8_t *v)
{
	/* INT64_MAX + INT64_MAX + 62 = 60 modulo 2^64 */
	put64(NBV(NB_COUNT), (uint64_t) INT64_MAX);
	put64(NBV(NB_COUNT + 8), (uint64_t) INT64_MAX);
	put64(NBV(NB_COUNT + 16), 62);
}
static void nb_clp_positive(uint8_t *v) { putf64(NBV(NB_CLP + 8), 0.5); }
static void nb_clp_nan(uint8_t *v) { putf64(NBV(NB_CLP), NAN); }
static void nb_clp_minus_inf(uint8_t *v) { putf64(NBV(NB_CLP + 16), -INFINITY); }
static void nb_theta_nan(uint8_t *v) { putf64(NBV(NB_THETA + 40), NAN); }
static void nb_theta_inf(uint8_t *v) { putf64(NBV(NB_THETA), -INFINITY); }
static void nb_var_zero(uint8_t *v) { putf64(NBV(NB_VAR), 0); }
static void nb_var_negative(uint8_t *v) { putf64(NBV(NB_VAR + 64), -1); }
static void nb_var_inf(uint8_t *v) { putf64(NBV(NB_VAR + 24), INFINITY); }
static void nb_var_nan(uint8_t *v) { putf64(NBV(NB_VAR + 8), NAN); }
static void nb_var_below_eps(uint8_t *v) { putf64(NBV(NB_VAR + 16), 0.125); }
static void nb_section_long(uint8_t *v) { put32(v + NB_HDR + 4, NB_LEN + 1); }
static void nbm_alpha0(uint8_t *v) { putf64(NBV(32), 0); }
static void nbm_alpha_negative(uint8_t *v) { putf64(NBV(32), -1); }
static void nbm_alpha_inf(uint8_t *v) { putf64(NBV(32), INFINITY); }
static void nbm_vs(uint8_t *v) { putf64(NBV(24), 1e-9); }
static void nbm_eps(uint8_t *v) { putf64(NBV(40), 1); }
static void nbm_dist_gaussian(uint8_t *v) { NBV(0)[0] = 1; }
static void nbm_flp_positive(uint8_t *v) { putf64(NBV(NBM_FLP + 24), 0.5); }
static void nbm_flp_minus_inf(uint8_t *v) { putf64(NBV(NBM_FLP + 40), -INFINITY); }
static void nbm_flp_nan(uint8_t *v) { putf64(NBV(NBM_FLP + 8), NAN); }
static void nbm_count_negative(uint8_t *v) { put64(NBV(NBM_COUNT), UINT64_MAX); }
static void nbm_section_long(uint8_t *v) { put32(v + NB_HDR + 4, NBM_LEN + 1); }

#undef NBV

static bool
t_nbayes_crafted(void)
{
	struct
	{
		bool		mn;
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{false, nb_dist0, "naive bayes distribution 0 is not known"},
		{false, nb_dist3, "naive bayes distribution 3 is not known"},
		{false, nb_dist_mn, "naive bayes section has 252 bytes, expected 180 for 3 features, 3 classes and 12 bytes of labels"},
		{false, nb_reserved1, "naive bayes section reserved bytes are not zero"},
		{false, nb_reserved3, "naive bayes section reserved bytes are not zero"},
		{false, nb_count0, "naive bayes class count 0 is outside 2 to 1000"},
		{false, nb_count1, "naive bayes class count 1 is outside 2 to 1000"},
		{false, nb_count_large, "naive bayes class count 1001 is outside 2 to 1000"},
		{false, nb_count_huge, "naive bayes class count 4294967295 is outside 2 to 1000"},
		{false, nb_count_more, "naive bayes section has 252 bytes, expected at least 316 for 3 features and 4 classes"},
		{false, nb_count_fewer, "naive bayes section has 252 bytes, expected 184 for 3 features, 2 classes and 8 bytes of labels"},
		{false, nb_label1_empty, "naive bayes class label 1 has length 0, expected 1 to 1024 bytes"},
		{false, nb_label2_nul, "naive bayes class label 2 contains a NUL byte"},
		{false, nb_label2_utf8, "naive bayes class label 2 is not valid UTF-8"},
		{false, nb_label2_overlong, "naive bayes class label 2 is not valid UTF-8"},
		{false, nb_label3_past_end, "naive bayes class label 3 runs past the end of its section"},
		{false, nb_label3_long, "naive bayes class label 3 runs past the end of its section"},
		{false, nb_nrows, "naive bayes row counts are invalid (2 rows, 2 skipped), expected at least one row per class"},
		{false, nb_nrows_negative, "naive bayes row counts are invalid (-1 rows, 2 skipped)"},
		{false, nb_nskipped, "naive bayes row counts are invalid (60 rows, -1 skipped)"},
		{false, nb_vs_negative, "naive bayes var_smoothing is negative or not finite"},
		{false, nb_vs_nan, "naive bayes var_smoothing is negative or not finite"},
		{false, nb_vs_inf, "naive bayes var_smoothing is negative or not finite"},
		{false, nb_vs_zero, "naive bayes epsilon is not 0 but var_smoothing is"},
		{false, nb_alpha, "gaussian naive bayes alpha is not 0"},
		{false, nb_alpha_nan, "gaussian naive bayes alpha is not 0"},
		{false, nb_eps_negative, "naive bayes epsilon is negative or not finite"},
		{false, nb_eps_inf, "naive bayes epsilon is negative or not finite"},
		{false, nb_count_zero, "naive bayes class 2 count 0 is less than 1"},
		{false, nb_count_negative, "naive bayes class 3 count -1 is less than 1"},
		{false, nb_counts_short, "naive bayes class counts add up to 59, expected 60 rows"},
		{false, nb_counts_long, "naive bayes class counts add up to more than its 60 rows"},
		{false, nb_counts_wrap, "naive bayes class counts add up to more than its 60 rows"},
		{false, nb_clp_positive, "naive bayes class 2 log prior is positive or not finite"},
		{false, nb_clp_nan, "naive bayes class 1 log prior is positive or not finite"},
		{false, nb_clp_minus_inf, "naive bayes class 3 log prior is positive or not finite"},
		{false, nb_theta_nan, "naive bayes theta of class 2 feature 3 is not finite"},
		{false, nb_theta_inf, "naive bayes theta of class 1 feature 1 is not finite"},
		{false, nb_var_zero, "naive bayes variance of class 1 feature 1 is not a finite number > 0"},
		{false, nb_var_negative, "naive bayes variance of class 3 feature 3 is not a finite number > 0"},
		{false, nb_var_inf, "naive bayes variance of class 2 feature 1 is not a finite number > 0"},
		{false, nb_var_nan, "naive bayes variance of class 1 feature 2 is not a finite number > 0"},
		{false, nb_var_below_eps, "naive bayes variance of class 1 feature 3 is less than epsilon"},
		{false, nb_section_long, "declares 253 bytes but only 252 remain"},
		{true, nbm_alpha0, "naive bayes alpha is not a finite number > 0"},
		{true, nbm_alpha_negative, "naive bayes alpha is not a finite number > 0"},
		{true, nbm_alpha_inf, "naive bayes alpha is not a finite number > 0"},
		{true, nb_alpha_nan, "naive bayes alpha is not a finite number > 0"},
		{true, nbm_vs, "multinomial naive bayes var_smoothing or epsilon is not 0"},
		{true, nbm_eps, "multinomial naive bayes var_smoothing or epsilon is not 0"},
		{true, nbm_dist_gaussian, "naive bayes section has 137 bytes, expected at least 182 for 3 features and 2 classes"},
		{true, nbm_flp_positive, "naive bayes feature log probability of class 2 feature 1 is positive or not finite"},
		{true, nbm_flp_minus_inf, "naive bayes feature log probability of class 2 feature 3 is positive or not finite"},
		{true, nbm_flp_nan, "naive bayes feature log probability of class 1 feature 2 is positive or not finite"},
		{true, nbm_count_negative, "naive bayes class 1 count -1 is less than 1"},
		{true, nbm_section_long, "declares 138 bytes but only 137 remain"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(nbedit_expect(cases[i].mn, cases[i].f, cases[i].msg), "case %zu: %s",
			   i, case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_nbayes_bytes_rejected(void)
{
	nbsample	s;
	static uint8_t w[4096];
	uint8_t		kw[512];
	uint8_t		feat[FEAT_LEN];
	size_t		wlen;
	size_t		kwlen;
	builder		x;
	size_t		n;
	static char longlab[MLX_MODEL_MAX_NAME_LEN + 2];

	w_sample_features(feat);
	make_nbsample(&s);
	wlen = w_nbayes(w, &s.fit);

	/* exact length, checked before anything is allocated */
	w[wlen] = 0;
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes section has 253 bytes, expected 252 for 3 features, 3 classes and 12 bytes of labels"),
		   "spare byte: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, 47);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes section has 47 bytes, expected at least 48"),
		   "short: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, 0);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "naive bayes section has 0 bytes"),
		   "empty: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, 248);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes section has 248 bytes, expected at least 249 for 3 features and 3 classes"),
		   "no room for the labels: %s", case_reason);

	/* labels: equal ones (in bytes), a label too long, the last one short */
	s.labels[2] = "x";
	wlen = w_nbayes(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes class labels 1 and 3 are equal"),
		   "equal labels: %s", case_reason);
	s.labels[2] = "y\xc3\xa9";
	wlen = w_nbayes(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes class labels 2 and 3 are equal"),
		   "equal labels 2 and 3: %s", case_reason);
	memset(longlab, 'q', MLX_MODEL_MAX_NAME_LEN + 1);
	s.labels[2] = longlab;
	wlen = w_nbayes(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes class label 3 has length 1025, expected 1 to 1024 bytes"),
		   "long label: %s", case_reason);
	longlab[MLX_MODEL_MAX_NAME_LEN] = '\0';
	wlen = w_nbayes(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "1024-byte label: %s", case_reason);
	/* label 3's length field is the last byte before the arrays */
	make_nbsample(&s);
	wlen = w_nbayes(w, &s.fit);
	memmove(w + 58, w + 60, wlen - 60);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_NBAYES, w, wlen - 2);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes class label 3 runs past the end of its section"),
		   "last label cut: %s", case_reason);

	/* section set */
	make_nbsample(&s);
	wlen = w_nbayes(w, &s.fit);
	b_header(&x, MLX_ALG_NAIVE_BAYES, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no naive bayes section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_NAIVE_BAYES, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_NBAYES, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_NBAYES, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one naive bayes section"),
		   "duplicate: %s", case_reason);
	{
		ksample		ks;

		make_ksample(&ks);
		kwlen = w_kmeans(kw, &ks.fit);
	}
	b_header(&x, MLX_ALG_NAIVE_BAYES, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_NBAYES, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_KMEANS, kw, (uint32_t) kwlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a kmeans section but its algorithm is naive_bayes"),
		   "kmeans section in a naive bayes: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_KMEANS, MLX_SEC_NBAYES, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no kmeans section"),
		   "naive bayes section alone in a kmeans: %s", case_reason);
	b_header(&x, MLX_ALG_KMEANS, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_KMEANS, kw, (uint32_t) kwlen);
	b_section(&x, MLX_SEC_NBAYES, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a naive bayes section but its algorithm is kmeans"),
		   "naive bayes section in a kmeans: %s", case_reason);
	b_header(&x, MLX_ALG_NAIVE_BAYES, 3);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_NBAYES, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);

	/* k in the header must match the arrays */
	b_header(&x, MLX_ALG_NAIVE_BAYES, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN - 5);
	b_section(&x, MLX_SEC_NBAYES, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "naive bayes section has 252 bytes, expected 204 for 2 features, 3 classes and 12 bytes of labels"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * Encode a 2-class multinomial model of nfeat features (default names),
 * set the stored class count to count, reseal, and expect msg.
 */
static bool
nbayes_count_expect(int32_t nfeat, uint32_t count, const char *msg)
{
	nbsample	s;
	double	   *flp = calloc(2 * (size_t) nfeat, sizeof(double));
	uint8_t    *buf = NULL;
	size_t		len;
	size_t		body;
	bool		ok;

	make_nbsample_mn(&s);
	s.fit.nfeat = nfeat;
	s.fit.feature_log_prob = flp;
	if (flp == NULL || encode_nbayes_with(&s.fit, NULL, NULL, &buf, &len) != MLX_OK)
	{
		free(flp);
		if (buf != NULL)
			mlx_free(&tctx, buf);
		set_reason("encode %d features", (int) nfeat);
		return false;
	}
	free(flp);
	body = len - 4 - (48 + 9 + 32 + 16 * (size_t) nfeat);
	put32(buf + body + 4, count);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

/*
 * The limits: 2 to MLX_NB_MAX_CLASSES classes and nclasses * k at most
 * MLX_NBAYES_MAX_CELLS, refused by the encoder and, from a stored count,
 * by the decoder before it allocates anything.  The largest model (1000
 * classes of 2000 features, Gaussian, 32 MB) is encoded and decoded, and
 * two equal labels among its 1000 are found.
 */
static bool
t_nbayes_limits(void)
{
	nbsample	s;
	uint8_t    *buf = NULL;
	size_t		len;
	bool		ok = true;

	make_nbsample_mn(&s);
	s.fit.nclasses = MLX_NB_MAX_CLASSES + 1;
	EXPECT(encode_nbayes_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "1001 classes encoded");
	s.fit.nclasses = 1;
	EXPECT(encode_nbayes_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "1 class encoded");
	s.fit.nclasses = 1000;
	s.fit.nfeat = 2001;
	EXPECT(encode_nbayes_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "1000 classes of 2001 features encoded");

	EXPECT(nbayes_count_expect(2001, 1000,
							   "naive bayes has 1000 classes of 2001 features, more than 2000000 values per array"),
		   "1000 x 2001: %s", case_reason);
	EXPECT(nbayes_count_expect(1000000, 3,
							   "naive bayes has 3 classes of 1000000 features, more than 2000000 values per array"),
		   "3 x 10^6: %s", case_reason);
	EXPECT(nbayes_count_expect(2000, 1000,
							   "naive bayes section has 32089 bytes, expected at least 16019048 for 2000 features and 1000 classes"),
		   "1000 x 2000: %s", case_reason);
	EXPECT(nbayes_count_expect(1, 1001,
							   "naive bayes class count 1001 is outside 2 to 1000"),
		   "1001: %s", case_reason);

	/* exactly at the limits */
	{
		size_t		cells = (size_t) MLX_NB_MAX_CLASSES * MLX_NB_MAX_FEATURES;
		double	   *theta = calloc(cells, sizeof(double));
		double	   *var = malloc(cells * sizeof(double));
		int64_t    *cnt = malloc(MLX_NB_MAX_CLASSES * sizeof(int64_t));
		double	   *clp = calloc(MLX_NB_MAX_CLASSES, sizeof(double));
		char	  **labs = malloc(MLX_NB_MAX_CLASSES * sizeof(char *));
		char	   *labbuf = malloc(MLX_NB_MAX_CLASSES * 6);
		size_t		i;

		EXPECT(theta != NULL && var != NULL && cnt != NULL && clp != NULL &&
			   labs != NULL && labbuf != NULL, "out of memory");
		for (i = 0; i < cells; i++)
			var[i] = 1.0;
		for (i = 0; i < MLX_NB_MAX_CLASSES; i++)
		{
			cnt[i] = 2;
			clp[i] = -log(1000.0);
			labs[i] = labbuf + 6 * i;
			snprintf(labs[i], 6, "c%04d", (int) i + 1);
		}
		memset(&s.fit, 0, sizeof(s.fit));
		s.fit.distribution = MLX_NB_GAUSSIAN;
		s.fit.nclasses = MLX_NB_MAX_CLASSES;
		s.fit.nfeat = MLX_NB_MAX_FEATURES;
		s.fit.nrows = 2000;
		s.fit.var_smoothing = 1e-9;
		s.fit.epsilon = 1e-9;
		s.fit.classes = labs;
		s.fit.class_count = cnt;
		s.fit.class_log_prior = clp;
		s.fit.theta = theta;
		s.fit.var = var;
		ok = nbayes_round_trip(&s.fit, NULL, NULL, &len);
		/* names "x1" .. "x2000" take 12893 bytes */
		if (ok && len != 28 + 8 + 12893 + 8 + 48 + 1000 * 7 + 16000 + 32000000)
		{
			set_reason("largest model has %zu bytes", len);
			ok = false;
		}
		/* labels 17 and 923 made equal in the bytes */
		if (ok && encode_nbayes_with(&s.fit, NULL, NULL, &buf, &len) == MLX_OK)
		{
			size_t		lab = 24 + 8 + 12893 + 8 + 48;

			memcpy(buf + lab + 7 * 922 + 2, "c0017", 5);
			reseal(buf, len);
			ok = decode_expect(buf, len, MLX_ECORRUPT,
							   "naive bayes class labels 17 and 923 are equal");
			mlx_free(&tctx, buf);
		}
		free(theta);
		free(var);
		free(cnt);
		free(clp);
		free(labs);
		free(labbuf);
	}
	EXPECT(ok, "%s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_nbayes_truncations_and_flips(void)
{
	size_t		len;
	uint8_t    *buf;
	bool		ok;
	int			mn;

	for (mn = 0; mn < 2; mn++)
	{
		buf = encode_nbsample(mn, &len);
		EXPECT(buf != NULL, "encode");
		ok = every_truncation_rejected(buf, len) &&
			flips_rejected_or_canonical(buf, len);
		mlx_free(&tctx, buf);
		EXPECT(ok, "%s: %s", mn ? "multinomial" : "gaussian", case_reason);
		buf = encode_nbsample8_inputs(mn, &len);
		EXPECT(buf != NULL, "encode with inputs");
		ok = flips_rejected_or_canonical(buf, len);
		mlx_free(&tctx, buf);
		EXPECT(ok, "with inputs: %s", case_reason);
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_nbayes_encoder_rejects(void)
{
	nbsample	s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;
	char	   *dup[3] = {"x", "y\xc3\xa9", "y\xc3\xa9"};
	char	   *bad[3] = {"x", "\xff", "z"};
	char	   *empty[3] = {"x", "", "z"};
	char	   *nolab[3] = {"x", NULL, "z"};

	make_nbsample(&s);
	EXPECT(mlx_model_from_nbayes(NULL, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	s.fit.nfeat = 0;
	EXPECT(mlx_model_from_nbayes(&s.fit, NULL, &tctx, &m) == MLX_EINVAL &&
		   m.feature_names == NULL, "0 features accepted");
	s.fit.nfeat = 3;
	EXPECT(mlx_model_from_nbayes(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(m.algorithm == MLX_ALG_NAIVE_BAYES && m.nfeat == 3 && m.inputs == NULL &&
		   m.u.nbayes.classes == s.labels && m.u.nbayes.theta == s.theta &&
		   m.u.nbayes.var == s.var && m.u.nbayes.class_count == s.count,
		   "built model differs");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.nbayes.distribution = 3;
	REFUSED("distribution 3");
	m.u.nbayes.distribution = MLX_NB_GAUSSIAN;
	m.u.nbayes.nclasses = 1;
	REFUSED("1 class");
	m.u.nbayes.nclasses = 3;
	m.u.nbayes.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.nbayes.nfeat = 3;
	m.u.nbayes.nrows = 2;
	REFUSED("fewer rows than classes");
	m.u.nbayes.nrows = 60;
	m.u.nbayes.nskipped = -1;
	REFUSED("negative skipped rows");
	m.u.nbayes.nskipped = 2;
	m.u.nbayes.var_smoothing = -1;
	REFUSED("negative var_smoothing");
	m.u.nbayes.var_smoothing = 0;
	REFUSED("epsilon without var_smoothing");
	m.u.nbayes.var_smoothing = 0.5;
	m.u.nbayes.epsilon = NAN;
	REFUSED("NaN epsilon");
	m.u.nbayes.epsilon = 0.25;
	m.u.nbayes.alpha = 1;
	REFUSED("gaussian with alpha");
	m.u.nbayes.alpha = 0;
	m.u.nbayes.classes = dup;
	REFUSED("equal labels");
	m.u.nbayes.classes = bad;
	REFUSED("label not UTF-8");
	m.u.nbayes.classes = empty;
	REFUSED("empty label");
	m.u.nbayes.classes = nolab;
	REFUSED("NULL label");
	m.u.nbayes.classes = NULL;
	REFUSED("no labels");
	m.u.nbayes.classes = s.labels;
	s.count[1] = 0;
	REFUSED("class without rows");
	s.count[1] = 19;
	REFUSED("counts not adding up");
	s.count[1] = 20;
	s.clp[2] = 0.25;
	REFUSED("positive log prior");
	s.clp[2] = -2;
	s.theta[4] = INFINITY;
	REFUSED("infinite theta");
	s.theta[4] = 1;
	s.var[7] = 0;
	REFUSED("zero variance");
	s.var[7] = 0.2;
	REFUSED("variance below epsilon");
	s.var[7] = 1.125;
	m.u.nbayes.var = NULL;
	REFUSED("missing var");
	m.u.nbayes.var = s.var;
	m.u.nbayes.distribution = MLX_NB_MULTINOMIAL;
	REFUSED("multinomial without feature_log_prob");
	m.u.nbayes.distribution = MLX_NB_GAUSSIAN;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);

	make_nbsample_mn(&s);
	EXPECT(mlx_model_from_nbayes(&s.fit, NULL, &tctx, &m) == MLX_OK, "build 2");
	m.u.nbayes.alpha = 0;
	REFUSED("alpha 0");
	m.u.nbayes.alpha = INFINITY;
	REFUSED("infinite alpha");
	m.u.nbayes.alpha = 1;
	m.u.nbayes.var_smoothing = 1e-9;
	REFUSED("multinomial with var_smoothing");
	m.u.nbayes.var_smoothing = 0;
	m.u.nbayes.epsilon = 1e-9;
	REFUSED("multinomial with epsilon");
	m.u.nbayes.epsilon = 0;
	s.flp[2] = 1e-300;
	REFUSED("positive feature_log_prob");
	s.flp[2] = NAN;
	REFUSED("NaN feature_log_prob");
	s.flp[2] = -0.5;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model 2");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_nbayes_json(void)
{
	nbsample	s;
	mlx_model	m;
	char	   *json;
	char	   *names[3] = {"a", "b", "c"};
	const char *want =
	"{\"algorithm\":\"naive_bayes\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"distribution\":\"gaussian\",\"classes\":[\"x\",\"y\xc3\xa9\",\"z\\\"\"],"
	"\"class_count\":[30,20,10],"
	"\"class_prior\":[0.60653065971263342,0.36787944117144233,0.1353352832366127],"
	"\"var_smoothing\":0.5,\"epsilon\":0.25,"
	"\"theta\":[[-1,-0.5,0],[0.5,1,1.5],[2,2.5,3]],"
	"\"var\":[[0.25,0.375,0.5],[0.625,0.75,0.875],[1,1.125,1.25]],"
	"\"n_rows\":60,\"n_skipped\":2}";
	const char *mwant =
	"{\"algorithm\":\"naive_bayes\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"distribution\":\"multinomial\",\"classes\":[\"no\",\"yes\"],"
	"\"class_count\":[7,5],\"class_log_prior\":[-0.5,-1],\"alpha\":1,"
	"\"feature_log_prob\":[[-1,-2,-0.5],[-0.25,-3,-1.5]],"
	"\"n_rows\":12,\"n_skipped\":0}";

	make_nbsample(&s);
	EXPECT(mlx_model_from_nbayes(&s.fit, names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);

	make_nbsample_mn(&s);
	EXPECT(mlx_model_from_nbayes(&s.fit, names, &tctx, &m) == MLX_OK, "build 2");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strcmp(json, mwant) == 0, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_nbayes(void)
{
	nbsample	s;
	mlx_model	m;
	mlx_status	st;

	make_nbsample(&s);
	st = mlx_model_from_nbayes(&s.fit, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_nbayes(void)
{
	size_t		len;
	uint8_t    *buf = encode_nbsample(false, &len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static mlx_status
op_encode_nbayes_inputs(void)
{
	size_t		len;
	uint8_t    *buf = encode_nbsample8_inputs(true, &len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static bool
t_nbayes_enomem(void)
{
	bool		ok;
	int			mn;

	ok = enomem_sweep("from_nbayes", op_from_nbayes) &&
		enomem_sweep("encode naive bayes", op_encode_nbayes) &&
		enomem_sweep("encode naive bayes with inputs", op_encode_nbayes_inputs);
	if (!ok)
		return false;
	for (mn = 0; mn < 2; mn++)
	{
		enomem_value = encode_nbsample(mn, &enomem_len);
		EXPECT(enomem_value != NULL, "encode");
		ok = enomem_sweep("decode naive bayes", op_decode) &&
			enomem_sweep("describe naive bayes", op_describe);
		mlx_free(&tctx, enomem_value);
		if (!ok)
			return false;
		enomem_value = encode_nbsample8_inputs(mn, &enomem_len);
		EXPECT(enomem_value != NULL, "encode with inputs");
		ok = enomem_sweep("decode naive bayes with inputs", op_decode) &&
			enomem_sweep("describe naive bayes with inputs", op_describe);
		mlx_free(&tctx, enomem_value);
		if (!ok)
			return false;
	}
	return true;
}

/* ---------- multinomial logistic regression (MLX_SEC_SOFTMAX) ---------- */

#define SM_MAXC 4

typedef struct smsample
{
	mlx_softmax_fit fit;
	char	   *labels[SM_MAXC];
	double		coef[SM_MAXC * (IK + 1)];
	double		cw[SM_MAXC];
} smsample;

/* labels of the sample: ASCII, two-byte UTF-8, a JSON quote */
static char *sm_labels[3] = {"x", "y\xc3\xa9", "z\""};

/*
 * k = 3 (the linear sample's names), 3 classes, an intercept, lambda 0 (the
 * reference parametrization: class 1's row is 0), Newton, converged after
 * 7 iterations and 8 passes over 150 rows (2 skipped), class weights 1, 2.5
 * and 0.5.
 */
static void
make_smsample(smsample *s)
{
	static const double coef[12] = {
		0, 0, 0, 0,
		0.5, 1.25, -2, 0.75,
		-1.5, 2.5, 0.25, -0.125
	};
	static const double cw[3] = {1, 2.5, 0.5};

	memset(s, 0, sizeof(*s));
	memcpy(s->labels, sm_labels, sizeof(sm_labels));
	memcpy(s->coef, coef, sizeof(coef));
	memcpy(s->cw, cw, sizeof(cw));
	s->fit.nfeat = 3;
	s->fit.nclasses = 3;
	s->fit.intercept = true;
	s->fit.converged = true;
	s->fit.separation = false;
	s->fit.solver = MLX_SOFTMAX_NEWTON;
	s->fit.lambda = 0;
	s->fit.nrows = 150;
	s->fit.nskipped = 2;
	s->fit.iterations = 7;
	s->fit.passes = 8;
	s->fit.loglik = -61.25;
	s->fit.loglik_null = -164.75;
	s->fit.coef = s->coef;
	s->fit.class_weight = s->cw;
	s->fit.classes = s->labels;
}

/* The sample with k = IK features (for the inputs): the same, wider rows. */
static void
make_smsample8(smsample *s)
{
	int32_t		c;
	int32_t		j;

	make_smsample(s);
	s->fit.nfeat = IK;
	memset(s->coef, 0, sizeof(s->coef));
	for (c = 1; c < 3; c++)
		for (j = 0; j <= IK; j++)
			s->coef[c * (IK + 1) + j] = 0.5 * c - 0.25 * j;
}

/*
 * The symmetric parametrization, k features (<= IK): 4 classes (one label
 * empty), lambda 0.5, no intercept, L-BFGS, not converged, separation, an
 * unknown null log-likelihood; every class has a row, coefficient (c, j)
 * = (c - 1.5) j / 4 (the slopes sum to 0 over the classes).
 */
static void
make_smsample_sym(smsample *s, int32_t k)
{
	static char *labels[4] = {"b", "", "a", "\xce\xb3"};
	static const double cw[4] = {1, 0.25, 4, 1};
	int32_t		c;
	int32_t		j;

	memset(s, 0, sizeof(*s));
	memcpy(s->labels, labels, sizeof(labels));
	memcpy(s->cw, cw, sizeof(cw));
	for (c = 0; c < 4; c++)
		for (j = 1; j <= k; j++)
			s->coef[c * (k + 1) + j] = 0.25 * (c - 1.5) * j;
	s->fit.nfeat = k;
	s->fit.nclasses = 4;
	s->fit.intercept = false;
	s->fit.converged = false;
	s->fit.separation = true;
	s->fit.solver = MLX_SOFTMAX_LBFGS;
	s->fit.lambda = 0.5;
	s->fit.nrows = 40;
	s->fit.nskipped = 0;
	s->fit.iterations = 100;
	s->fit.passes = 123;
	s->fit.loglik = -3.5;
	s->fit.loglik_null = NAN;
	s->fit.coef = s->coef;
	s->fit.class_weight = s->cw;
	s->fit.classes = s->labels;
}

/* Encode a softmax fit with names (NULL: defaults) and inputs (or NULL). */
static mlx_status
encode_softmax_with(const mlx_softmax_fit *fit, char **names, mlx_inputs *in,
					uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_softmax(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

/* The sample (symmetric: the symmetric one of 3 features), sample names. */
static uint8_t *
encode_smsample(bool symmetric, size_t *len)
{
	smsample	s;
	uint8_t    *out;

	if (symmetric)
		make_smsample_sym(&s, 3);
	else
		make_smsample(&s);
	if (encode_softmax_with(&s.fit, sample_names, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/* The isample's inputs (with its target) and a k = 8 fit. */
static uint8_t *
encode_smsample8_inputs(bool symmetric, size_t *len)
{
	isample		is;
	smsample	s;
	uint8_t    *out;

	make_isample(&is);
	if (symmetric)
		make_smsample_sym(&s, IK);
	else
		make_smsample8(&s);
	if (encode_softmax_with(&s.fit, isample_features, &is.inputs, &out, len) !=
		MLX_OK)
		return NULL;
	return out;
}

/*
 * Offsets in the sample's encoding: softmax section header at 53, body at
 * 61 (188 bytes), CRC at 249.  Inside the body (doc/model-format.md):
 * flags 0, solver 1, reserved 2..3, class count 4, iterations 8, passes
 * 12, nrows 16, nskipped 24, lambda 32, loglik 40, loglik_null 48,
 * coefficients 56 (3 rows of 4), class weights 152, labels 176 ("x" 176,
 * "yé" 179, "z\"" 184).  The symmetric sample of 3 features: 4 classes,
 * labels "b", "", "a", "γ" (12 bytes), a body of 56 + 128 + 32 + 12 = 228.
 */
#define SM_HDR 53
#define SM_BODY 61
#define SM_LEN 188
#define SMSAMPLE_LEN (61 + SM_LEN + 4)
#define SM_COEF 56
#define SM_CW 152
#define SM_LABELS 176
#define SMS_LEN 228
#define SMSSAMPLE_LEN (61 + SMS_LEN + 4)

/* A test-side writer of the softmax layout, independent of the encoder. */
static size_t
w_softmax(uint8_t *out, const mlx_softmax_fit *f)
{
	uint8_t    *p = out;
	int32_t		n = f->nclasses * (f->nfeat + 1);
	int32_t		i;

	memset(p, 0, 56);
	p[0] = (uint8_t) ((f->intercept ? 1 : 0) | (f->converged ? 2 : 0) |
					  (f->separation ? 4 : 0));
	p[1] = f->solver;
	put32(p + 4, (uint32_t) f->nclasses);
	put32(p + 8, (uint32_t) f->iterations);
	put32(p + 12, (uint32_t) f->passes);
	put64(p + 16, (uint64_t) f->nrows);
	put64(p + 24, (uint64_t) f->nskipped);
	putf64(p + 32, f->lambda);
	putf64(p + 40, f->loglik);
	putf64(p + 48, f->loglik_null);
	p += 56;
	for (i = 0; i < n; i++, p += 8)
		putf64(p, f->coef[i]);
	for (i = 0; i < f->nclasses; i++, p += 8)
		putf64(p, f->class_weight[i]);
	for (i = 0; i < f->nclasses; i++)
		p += w_text(p, f->classes[i]);
	return (size_t) (p - out);
}

/* Every field of two softmax fits is the same (doubles bit for bit). */
static bool
same_softmax(const mlx_softmax_fit *a, const mlx_softmax_fit *b)
{
	int32_t		i;
	int32_t		n = a->nclasses * (a->nfeat + 1);

	EXPECT(a->nfeat == b->nfeat && a->nclasses == b->nclasses &&
		   a->intercept == b->intercept && a->converged == b->converged &&
		   a->separation == b->separation && a->solver == b->solver &&
		   a->nrows == b->nrows && a->nskipped == b->nskipped &&
		   a->iterations == b->iterations && a->passes == b->passes,
		   "integer or flag fields differ");
	EXPECT(same_double(a->lambda, b->lambda) &&
		   same_double(a->loglik, b->loglik) &&
		   same_double(a->loglik_null, b->loglik_null), "doubles differ");
	for (i = 0; i < a->nclasses; i++)
	{
		EXPECT(strcmp(a->classes[i], b->classes[i]) == 0, "label %d differs", (int) i);
		EXPECT(same_double(a->class_weight[i], b->class_weight[i]),
			   "class weight %d differs", (int) i);
	}
	for (i = 0; i < n; i++)
		EXPECT(same_double(a->coef[i], b->coef[i]), "coefficient %d differs", (int) i);
	return true;
}

/*
 * Encode the fit, decode, compare field by field, and re-encode to the same
 * bytes; *lenp (if not NULL) receives the length.
 */
static bool
softmax_round_trip(const mlx_softmax_fit *fit, char **names, mlx_inputs *in,
				   size_t *lenp)
{
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;

	st = encode_softmax_with(fit, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == MLX_ALG_SOFTMAX_REGRESSION &&
		buf[7] == MLX_ALG_SOFTMAX_REGRESSION &&
		m.nfeat == fit->nfeat && (in == NULL) == (m.inputs == NULL) &&
		m.u.softmax.classes != fit->classes && m.u.softmax.coef != fit->coef;
	if (ok && names != NULL)
	{
		int32_t		i;

		for (i = 0; i < fit->nfeat; i++)
			ok = ok && strcmp(m.feature_names[i], names[i]) == 0;
	}
	if (ok && in != NULL)
		ok = m.inputs->ninputs == in->ninputs &&
			(in->target == NULL ? m.inputs->target == NULL :
			 m.inputs->target != NULL &&
			 strcmp(m.inputs->target, in->target) == 0);
	if (!ok)
		set_reason("header, names or inputs differ");
	ok = ok && same_softmax(&m.u.softmax, fit);
	if (ok)
	{
		st = mlx_model_encode(&m, &tctx, 0, &buf2, &len2);
		ok = st == MLX_OK && len2 == len && memcmp(buf, buf2, len) == 0;
		if (st == MLX_OK)
			mlx_free(&tctx, buf2);
		if (!ok)
			set_reason("re-encode differs");
	}
	mlx_model_free(&m, &tctx);
	mlx_free(&tctx, buf);
	return ok;
}

static bool
t_softmax_round_trip(void)
{
	smsample	s;
	isample		is;
	size_t		len;
	int			sym;

	make_smsample(&s);
	EXPECT(softmax_round_trip(&s.fit, sample_names, NULL, &len), "%s", case_reason);
	EXPECT(len == SMSAMPLE_LEN, "length %zu, expected %d", len, SMSAMPLE_LEN);
	EXPECT(softmax_round_trip(&s.fit, NULL, NULL, NULL), "default names: %s", case_reason);
	make_smsample_sym(&s, 3);
	EXPECT(softmax_round_trip(&s.fit, sample_names, NULL, &len), "symmetric: %s",
		   case_reason);
	EXPECT(len == SMSSAMPLE_LEN, "symmetric length %zu, expected %d", len,
		   SMSSAMPLE_LEN);

	/* from a table: inputs with the (categorical) target, and without */
	for (sym = 0; sym < 2; sym++)
	{
		make_isample(&is);
		if (sym)
			make_smsample_sym(&s, IK);
		else
			make_smsample8(&s);
		EXPECT(softmax_round_trip(&s.fit, isample_features, &is.inputs, NULL),
			   "inputs (%s): %s", sym ? "symmetric" : "reference", case_reason);
		is.inputs.target = NULL;
		is.inputs.target_kind = 0;
		EXPECT(softmax_round_trip(&s.fit, isample_features, &is.inputs, NULL),
			   "inputs without a target: %s", case_reason);
	}
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_softmax_layout(void)
{
	smsample	s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[1024];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	static const uint8_t head[24] = {
		'M', 'L', 'X', 'M', 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3,
		0, 0, 0, SMSAMPLE_LEN - 28, 0, 0, 0, 0
	};
	static const uint8_t fixed[56] = {
		3, 1, 0, 0, 0, 0, 0, 3,	/* intercept|converged, newton, 3 classes */
		0, 0, 0, 7, 0, 0, 0, 8,	/* 7 iterations, 8 passes */
		0, 0, 0, 0, 0, 0, 0, 150, 0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 0,	/* lambda 0 */
		0xc0, 0x4e, 0xa0, 0, 0, 0, 0, 0,	/* loglik -61.25 */
		0xc0, 0x64, 0x98, 0, 0, 0, 0, 0	/* loglik_null -164.75 */
	};
	static const uint8_t labels[12] = {
		0, 1, 'x', 0, 3, 'y', 0xc3, 0xa9, 0, 2, 'z', '"'
	};
	static const uint8_t half[8] = {0x3f, 0xe0, 0, 0, 0, 0, 0, 0};
	static const uint8_t one[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
	static const uint8_t two_half[8] = {0x40, 0x04, 0, 0, 0, 0, 0, 0};
	static const uint8_t zero[32] = {0};

	make_smsample(&s);
	a = encode_smsample(false, &alen);
	EXPECT(a != NULL && alen == SMSAMPLE_LEN, "encode");
	EXPECT(memcmp(a, head, 24) == 0, "header bytes differ");
	EXPECT(a[SM_HDR] == 0 && a[SM_HDR + 1] == 10 && a[SM_HDR + 6] == 0 &&
		   a[SM_HDR + 7] == SM_LEN, "softmax section header differs");
	EXPECT(memcmp(a + SM_BODY, fixed, 56) == 0,
		   "flags/solver/counts/lambda/log-likelihood bytes differ");
	EXPECT(memcmp(a + SM_BODY + SM_COEF, zero, 32) == 0 &&
		   memcmp(a + SM_BODY + SM_COEF + 32, half, 8) == 0,
		   "coefficients are not rows of k + 1 at offset %d", SM_COEF);
	EXPECT(memcmp(a + SM_BODY + SM_CW, one, 8) == 0 &&
		   memcmp(a + SM_BODY + SM_CW + 8, two_half, 8) == 0,
		   "class weights do not start at offset %d", SM_CW);
	EXPECT(memcmp(a + SM_BODY + SM_LABELS, labels, 12) == 0, "label bytes differ");
	wlen = w_softmax(w, &s.fit);
	EXPECT(wlen == SM_LEN && memcmp(w, a + SM_BODY, SM_LEN) == 0,
		   "softmax body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "builder differs from encoder");

	/* deterministic, and the reserve only shifts the bytes */
	EXPECT(mlx_model_from_softmax(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);

	/* symmetric: flags separation only, L-BFGS, an empty label */
	make_smsample_sym(&s, 3);
	a = encode_smsample(true, &alen);
	EXPECT(a != NULL && alen == SMSSAMPLE_LEN, "encode symmetric");
	EXPECT(a[SM_BODY] == 4 && a[SM_BODY + 1] == 2 && a[SM_BODY + 7] == 4 &&
		   memcmp(a + SM_BODY + 32, half, 8) == 0 &&
		   memcmp(a + SM_BODY + SMS_LEN - 12, "\0\1b\0\0\0\1a\0\2\xce\xb3", 12) == 0,
		   "symmetric fields are not at their documented offsets");
	wlen = w_softmax(w, &s.fit);
	EXPECT(wlen == SMS_LEN && memcmp(w, a + SM_BODY, SMS_LEN) == 0,
		   "symmetric body differs from the documented layout");
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(n == alen && memcmp(x.b, a, n) == 0, "symmetric builder differs");
	mlx_free(&tctx, a);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_softmax_variants(void)
{
	smsample	s;
	char		longlab[MLX_MODEL_MAX_CATEGORY_LEN + 1];

	/* no rows, a NaN null log-likelihood, a log-likelihood of -0 */
	make_smsample(&s);
	s.fit.nrows = 0;
	s.fit.nskipped = INT64_MAX;
	s.fit.iterations = 0;
	s.fit.passes = INT32_MAX;
	s.fit.loglik = -0.0;
	s.fit.loglik_null = NAN;
	s.coef[0] = -0.0;
	EXPECT(softmax_round_trip(&s.fit, NULL, NULL, NULL), "no rows: %s", case_reason);

	/* an empty label, the longest label, labels that differ in one byte */
	make_smsample(&s);
	memset(longlab, 'q', MLX_MODEL_MAX_CATEGORY_LEN);
	longlab[MLX_MODEL_MAX_CATEGORY_LEN] = '\0';
	s.labels[0] = "";
	s.labels[1] = longlab;
	s.labels[2] = "Q";
	EXPECT(softmax_round_trip(&s.fit, sample_names, NULL, NULL), "labels: %s",
		   case_reason);
	s.labels[0] = "q";
	EXPECT(softmax_round_trip(&s.fit, sample_names, NULL, NULL), "labels q, Q: %s",
		   case_reason);

	/* two classes with a penalty: still the reference parametrization */
	make_smsample(&s);
	s.fit.nclasses = 2;
	s.fit.lambda = 2.5;
	s.fit.solver = MLX_SOFTMAX_LBFGS;
	EXPECT(softmax_round_trip(&s.fit, NULL, NULL, NULL), "2 classes: %s", case_reason);

	/* the symmetric parametrization may also leave class 1's row at 0 */
	make_smsample_sym(&s, 2);
	s.coef[1] = s.coef[2] = 0;
	s.fit.intercept = true;
	s.fit.converged = true;
	s.coef[3] = 1e-300;
	s.coef[6] = -1e300;
	EXPECT(softmax_round_trip(&s.fit, NULL, NULL, NULL), "symmetric: %s", case_reason);

	/* the most classes */
	{
		int32_t		nc = MLX_SOFTMAX_MAX_CLASSES;
		double	   *coef = calloc(2 * (size_t) nc, sizeof(double));
		double	   *cw = malloc((size_t) nc * sizeof(double));
		char	  **labs = malloc((size_t) nc * sizeof(char *));
		char	   *labbuf = malloc((size_t) nc * 6);
		int32_t		c;
		bool		ok;

		EXPECT(coef != NULL && cw != NULL && labs != NULL && labbuf != NULL,
			   "out of memory");
		for (c = 0; c < nc; c++)
		{
			cw[c] = 1;
			coef[2 * c + 1] = c * 0.5;
			labs[c] = labbuf + 6 * c;
			snprintf(labs[c], 6, "c%04d", (int) c + 1);
		}
		make_smsample(&s);
		s.fit.nfeat = 1;
		s.fit.nclasses = nc;
		s.fit.coef = coef;
		s.fit.class_weight = cw;
		s.fit.classes = labs;
		ok = softmax_round_trip(&s.fit, NULL, NULL, NULL);
		free(coef);
		free(cw);
		free(labs);
		free(labbuf);
		EXPECT(ok, "1000 classes: %s", case_reason);
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Encode a sample, apply f to the value, reseal, expect msg. */
static bool
smedit_expect(bool symmetric, void (*f) (uint8_t *), const char *msg)
{
	size_t		len;
	uint8_t    *buf = encode_smsample(symmetric, &len);
	bool		ok;

	EXPECT(buf != NULL, "encode");
	f(buf);
	reseal(buf, len);
	ok = decode_expect(buf, len, MLX_ECORRUPT, msg);
	mlx_free(&tctx, buf);
	return ok;
}

#define SMV(off) (v + SM_BODY + (off))

static void sm_flags(uint8_t *v) { SMV(0)[0] = 0x0b; }
static void sm_flags_high(uint8_t *v) { SMV(0)[0] = 0x83; }
static void sm_no_intercept(uint8_t *v) { SMV(0)[0] = 0x02; }
static void sm_solver0(uint8_t *v) { SMV(1)[0] = 0; }
static void sm_solver3(uint8_t *v) { SMV(1)[0] = 3; }
static void sm_reserved2(uint8_t *v) { SMV(2)[0] = 1; }
static void sm_reserved3(uint8_t *v) { SMV(3)[0] = 0x80; }
static void sm_count0(uint8_t *v) { put32(SMV(4), 0); }
static void sm_count1(uint8_t *v) { put32(SMV(4), 1); }
static void sm_count_large(uint8_t *v) { put32(SMV(4), 1001); }
static void sm_count_huge(uint8_t *v) { put32(SMV(4), 0xFFFFFFFFu); }
static void sm_count_more(uint8_t *v) { put32(SMV(4), 4); }
static void sm_count_fewer(uint8_t *v) { put32(SMV(4), 2); }
static void sm_iterations(uint8_t *v) { put32(SMV(8), 0xFFFFFFFFu); }
static void sm_passes(uint8_t *v) { put32(SMV(12), 0x80000000u); }
static void sm_nrows(uint8_t *v) { put64(SMV(16), UINT64_MAX); }
static void sm_nskipped(uint8_t *v) { put64(SMV(24), UINT64_MAX); }
static void sm_lambda_negative(uint8_t *v) { putf64(SMV(32), -1); }
static void sm_lambda_nan(uint8_t *v) { putf64(SMV(32), NAN); }
static void sm_lambda_inf(uint8_t *v) { putf64(SMV(32), INFINITY); }
static void sm_loglik_positive(uint8_t *v) { putf64(SMV(40), 0.5); }
static void sm_loglik_nan(uint8_t *v) { putf64(SMV(40), NAN); }
static void sm_loglik_minus_inf(uint8_t *v) { putf64(SMV(40), -INFINITY); }
static void sm_loglik_null_positive(uint8_t *v) { putf64(SMV(48), 1e-300); }
static void sm_loglik_null_minus_inf(uint8_t *v) { putf64(SMV(48), -INFINITY); }
static void sm_cw_negative(uint8_t *v) { putf64(SMV(SM_CW), -1); }
static void sm_cw_zero(uint8_t *v) { putf64(SMV(SM_CW + 8), 0); }
static void sm_cw_nan(uint8_t *v) { putf64(SMV(SM_CW + 16), NAN); }
static void sm_cw_inf(uint8_t *v) { putf64(SMV(SM_CW + 8), INFINITY); }
static void sm_coef_nan(uint8_t *v) { putf64(SMV(SM_COEF + 8 * 6), NAN); }
static void sm_coef_inf(uint8_t *v) { putf64(SMV(SM_COEF + 8 * 8), -INFINITY); }
static void sm_class1_slope(uint8_t *v) { putf64(SMV(SM_COEF + 8 * 3), 1e-300); }
static void sm_class1_intercept(uint8_t *v) { putf64(SMV(SM_COEF), 0.5); }
static void sm_label1_nul(uint8_t *v) { SMV(SM_LABELS + 2)[0] = 0; }
static void sm_label2_utf8(uint8_t *v) { SMV(SM_LABELS + 5)[0] = 0xff; }
static void sm_label2_overlong(uint8_t *v)
{
	/* "y" + C0 80: an overlong encoding of NUL */
	SMV(SM_LABELS + 6)[0] = 0xc0;
	SMV(SM_LABELS + 7)[0] = 0x80;
}
static void sm_label2_truncated(uint8_t *v) { SMV(SM_LABELS + 7)[0] = 'a'; }
static void sm_label3_past_end(uint8_t *v) { SMV(SM_LABELS + 8)[0] = 0xff; }
static void sm_label3_longer(uint8_t *v) { SMV(SM_LABELS + 9)[0] = 3; }
static void sm_label1_shorter(uint8_t *v) { SMV(SM_LABELS + 1)[0] = 0; }
static void sm_section_long(uint8_t *v) { put32(v + SM_HDR + 4, SM_LEN + 1); }
/* the symmetric sample: a penalty of 0 makes it the reference one */
static void sms_lambda0(uint8_t *v) { putf64(SMV(32), 0); }
static void sms_lambda_minus0(uint8_t *v) { putf64(SMV(32), -0.0); }
static void sms_intercept(uint8_t *v) { putf64(SMV(SM_COEF + 8 * 4), 0.5); }

#undef SMV

static bool
t_softmax_crafted(void)
{
	struct
	{
		bool		sym;
		void		(*f) (uint8_t *);
		const char *msg;
	}			cases[] = {
		{false, sm_flags, "multinomial logistic regression flags 0x0b are not defined"},
		{false, sm_flags_high, "multinomial logistic regression flags 0x83 are not defined"},
		{false, sm_no_intercept, "multinomial logistic regression without intercept has a non-zero intercept for class 2"},
		{false, sm_solver0, "multinomial logistic regression solver 0 is not known"},
		{false, sm_solver3, "multinomial logistic regression solver 3 is not known"},
		{false, sm_reserved2, "multinomial logistic regression section reserved bytes are not zero"},
		{false, sm_reserved3, "multinomial logistic regression section reserved bytes are not zero"},
		{false, sm_count0, "multinomial logistic regression class count 0 is outside 2 to 1000"},
		{false, sm_count1, "multinomial logistic regression class count 1 is outside 2 to 1000"},
		{false, sm_count_large, "multinomial logistic regression class count 1001 is outside 2 to 1000"},
		{false, sm_count_huge, "multinomial logistic regression class count 4294967295 is outside 2 to 1000"},
		{false, sm_count_more, "multinomial logistic regression section has 188 bytes, expected at least 224 for 3 features and 4 classes"},
		{false, sm_count_fewer, "multinomial logistic regression class label 1 runs past the end of its section"},
		{false, sm_iterations, "multinomial logistic regression iteration or pass count is negative (-1 iterations, 8 passes)"},
		{false, sm_passes, "multinomial logistic regression iteration or pass count is negative (7 iterations, -2147483648 passes)"},
		{false, sm_nrows, "multinomial logistic regression row counts are invalid (-1 rows, 2 skipped)"},
		{false, sm_nskipped, "multinomial logistic regression row counts are invalid (150 rows, -1 skipped)"},
		{false, sm_lambda_negative, "multinomial logistic regression penalty lambda is negative or not finite"},
		{false, sm_lambda_nan, "multinomial logistic regression penalty lambda is negative or not finite"},
		{false, sm_lambda_inf, "multinomial logistic regression penalty lambda is negative or not finite"},
		{false, sm_loglik_positive, "multinomial logistic regression log-likelihood is positive or not finite"},
		{false, sm_loglik_nan, "multinomial logistic regression log-likelihood is positive or not finite"},
		{false, sm_loglik_minus_inf, "multinomial logistic regression log-likelihood is positive or not finite"},
		{false, sm_loglik_null_positive, "multinomial logistic regression null log-likelihood is positive or infinite"},
		{false, sm_loglik_null_minus_inf, "multinomial logistic regression null log-likelihood is positive or infinite"},
		{false, sm_cw_negative, "multinomial logistic regression class 1 weight is not a finite number > 0"},
		{false, sm_cw_zero, "multinomial logistic regression class 2 weight is not a finite number > 0"},
		{false, sm_cw_nan, "multinomial logistic regression class 3 weight is not a finite number > 0"},
		{false, sm_cw_inf, "multinomial logistic regression class 2 weight is not a finite number > 0"},
		{false, sm_coef_nan, "multinomial logistic regression coefficient 2 of class 2 is not finite"},
		{false, sm_coef_inf, "multinomial logistic regression coefficient 0 of class 3 is not finite"},
		{false, sm_class1_slope, "multinomial logistic regression coefficient 3 of class 1 is not 0, as the reference parametrization (2 classes or lambda 0) requires"},
		{false, sm_class1_intercept, "multinomial logistic regression coefficient 0 of class 1 is not 0"},
		{false, sm_label1_nul, "multinomial logistic regression class label 1 contains a NUL byte"},
		{false, sm_label2_utf8, "multinomial logistic regression class label 2 is not valid UTF-8"},
		{false, sm_label2_overlong, "multinomial logistic regression class label 2 is not valid UTF-8"},
		{false, sm_label2_truncated, "multinomial logistic regression class label 2 is not valid UTF-8"},
		{false, sm_label3_past_end, "multinomial logistic regression class label 3 runs past the end of its section"},
		{false, sm_label3_longer, "multinomial logistic regression class label 3 runs past the end of its section"},
		{false, sm_label1_shorter, "multinomial logistic regression class label 2 runs past the end of its section"},
		{false, sm_section_long, "declares 189 bytes but only 188 remain"},
		{true, sms_lambda0, "multinomial logistic regression coefficient 1 of class 1 is not 0, as the reference parametrization"},
		{true, sms_lambda_minus0, "multinomial logistic regression coefficient 1 of class 1 is not 0, as the reference parametrization"},
		{true, sms_intercept, "multinomial logistic regression without intercept has a non-zero intercept for class 2"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT(smedit_expect(cases[i].sym, cases[i].f, cases[i].msg), "case %zu: %s",
			   i, case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Layout-level rejections built with the test-side writer. */
static bool
t_softmax_bytes_rejected(void)
{
	smsample	s;
	static uint8_t w[4096];
	uint8_t		nw[512];
	uint8_t		feat[FEAT_LEN];
	size_t		wlen;
	size_t		nwlen;
	builder		x;
	size_t		n;
	static char longlab[MLX_MODEL_MAX_CATEGORY_LEN + 2];

	w_sample_features(feat);
	make_smsample(&s);
	wlen = w_softmax(w, &s.fit);

	/* exact length, checked before anything is allocated */
	w[wlen] = 0;
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen + 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression section has 189 bytes, expected 188 for 3 features, 3 classes and 12 bytes of labels"),
		   "spare byte: %s", case_reason);
	w[wlen] = 1;
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen + 2);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression section has 190 bytes, expected 188 for 3 features, 3 classes and 12 bytes of labels"),
		   "spare bytes: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, 55);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression section has 55 bytes, expected at least 56"),
		   "short: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, 0);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression section has 0 bytes"),
		   "empty: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, 181);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression section has 181 bytes, expected at least 182 for 3 features and 3 classes"),
		   "no room for the labels: %s", case_reason);

	/* labels: equal ones (in bytes), too long, empty, the last one cut */
	s.labels[2] = "x";
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression class labels 1 and 3 are equal"),
		   "equal labels: %s", case_reason);
	s.labels[2] = "y\xc3\xa9";
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression class labels 2 and 3 are equal"),
		   "equal labels 2 and 3: %s", case_reason);
	s.labels[0] = "";
	s.labels[2] = "";
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression class labels 1 and 3 are equal"),
		   "two empty labels: %s", case_reason);
	s.labels[0] = "x";
	memset(longlab, 'q', MLX_MODEL_MAX_CATEGORY_LEN + 1);
	s.labels[2] = longlab;
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression class label 3 has length 1025, expected 0 to 1024 bytes"),
		   "long label: %s", case_reason);
	longlab[MLX_MODEL_MAX_CATEGORY_LEN] = '\0';
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "1024-byte label: %s", case_reason);
	s.labels[2] = "";
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "empty label: %s", case_reason);
	/* the last label's length field is the last byte of the section */
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen - 1);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression class label 3 runs past the end of its section"),
		   "last label cut: %s", case_reason);

	/* a 2-class model is in the reference parametrization even with lambda */
	make_smsample(&s);
	s.fit.nclasses = 2;
	s.fit.lambda = 1;
	s.coef[1] = 0.5;
	wlen = w_softmax(w, &s.fit);
	n = build_k3_model(&x, MLX_ALG_SOFTMAX_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression coefficient 1 of class 1 is not 0"),
		   "2 classes with lambda: %s", case_reason);

	/* section set */
	make_smsample(&s);
	wlen = w_softmax(w, &s.fit);
	b_header(&x, MLX_ALG_SOFTMAX_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has no multinomial logistic regression section"),
		   "missing: %s", case_reason);
	b_header(&x, MLX_ALG_SOFTMAX_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_SOFTMAX, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_SOFTMAX, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one multinomial logistic regression section"),
		   "duplicate: %s", case_reason);
	{
		nbsample	ns;

		make_nbsample_mn(&ns);
		nwlen = w_nbayes(nw, &ns.fit);
	}
	b_header(&x, MLX_ALG_SOFTMAX_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_SOFTMAX, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_NBAYES, nw, (uint32_t) nwlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a naive bayes section but its algorithm is multinomial_logistic_regression"),
		   "naive bayes section in a softmax: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_NAIVE_BAYES, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no naive bayes section"),
		   "softmax section alone in a naive bayes: %s", case_reason);
	n = build_k3_model(&x, MLX_ALG_LOGISTIC_REGRESSION, MLX_SEC_SOFTMAX, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no logistic regression section"),
		   "softmax section alone in a logistic regression: %s", case_reason);
	b_header(&x, MLX_ALG_NAIVE_BAYES, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	b_section(&x, MLX_SEC_NBAYES, nw, (uint32_t) nwlen);
	b_section(&x, MLX_SEC_SOFTMAX, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a multinomial logistic regression section but its algorithm is naive_bayes"),
		   "softmax section in a naive bayes: %s", case_reason);
	b_header(&x, MLX_ALG_SOFTMAX_REGRESSION, 3);
	b_section(&x, 0x8123, w, 3);
	b_section(&x, MLX_SEC_SOFTMAX, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered + optional: %s", case_reason);

	/* k in the header must match the arrays */
	b_header(&x, MLX_ALG_SOFTMAX_REGRESSION, 2);
	b_section(&x, MLX_SEC_FEATURES, feat, FEAT_LEN - 5);
	b_section(&x, MLX_SEC_SOFTMAX, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "multinomial logistic regression class label 1 runs past the end of its section"),
		   "k mismatch: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * A stored class count of 1000 in a 2-class model of nfeat features is
 * refused from the section's length, before anything is allocated.
 */
static bool
t_softmax_limits(void)
{
	smsample	s;
	uint8_t    *buf = NULL;
	size_t		len;
	bool		ok;

	make_smsample(&s);
	s.fit.nclasses = MLX_SOFTMAX_MAX_CLASSES + 1;
	EXPECT(encode_softmax_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "1001 classes encoded");
	s.fit.nclasses = 1;
	EXPECT(encode_softmax_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "1 class encoded");
	s.fit.nclasses = 0;
	EXPECT(encode_softmax_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "0 classes encoded");
	s.fit.nclasses = -3;
	EXPECT(encode_softmax_with(&s.fit, NULL, NULL, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "-3 classes encoded");

	/* 1000 classes of 10^6 features would need 8 GB: refused from the length */
	{
		double	   *coef = calloc(2 * ((size_t) MLX_MODEL_MAX_FEATURES + 1),
								  sizeof(double));

		EXPECT(coef != NULL, "out of memory");
		make_smsample(&s);
		s.fit.nclasses = 2;
		s.fit.nfeat = MLX_MODEL_MAX_FEATURES;
		s.fit.coef = coef;
		coef[MLX_MODEL_MAX_FEATURES + 2] = 1;
		ok = encode_softmax_with(&s.fit, NULL, NULL, &buf, &len) == MLX_OK;
		free(coef);
		EXPECT(ok, "encode 10^6 features");
		/* the section's class count is 4 bytes into its body */
		put32(buf + len - 4 - (56 + 16 * ((size_t) MLX_MODEL_MAX_FEATURES + 2) + 8) + 4,
			  MLX_SOFTMAX_MAX_CLASSES);
		reseal(buf, len);
		ok = decode_expect(buf, len, MLX_ECORRUPT,
						   "multinomial logistic regression section has 16000096 bytes, expected at least 8000018056 for 1000000 features and 1000 classes");
		mlx_free(&tctx, buf);
		EXPECT(ok, "1000 x 10^6: %s", case_reason);
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_softmax_truncations_and_flips(void)
{
	size_t		len;
	uint8_t    *buf;
	bool		ok;
	int			sym;

	for (sym = 0; sym < 2; sym++)
	{
		buf = encode_smsample(sym, &len);
		EXPECT(buf != NULL, "encode");
		ok = every_truncation_rejected(buf, len) &&
			flips_rejected_or_canonical(buf, len);
		mlx_free(&tctx, buf);
		EXPECT(ok, "%s: %s", sym ? "symmetric" : "reference", case_reason);
		buf = encode_smsample8_inputs(sym, &len);
		EXPECT(buf != NULL, "encode with inputs");
		ok = every_truncation_rejected(buf, len) &&
			flips_rejected_or_canonical(buf, len);
		mlx_free(&tctx, buf);
		EXPECT(ok, "with inputs: %s", case_reason);
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_softmax_encoder_rejects(void)
{
	smsample	s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;
	char	   *dup[3] = {"x", "y\xc3\xa9", "y\xc3\xa9"};
	char	   *dup_empty[3] = {"", "y", ""};
	char	   *bad[3] = {"x", "\xff", "z"};
	char	   *nul_cut[3] = {"x", "y", "\xc3"};
	char	   *nolab[3] = {"x", NULL, "z"};
	static char longlab[MLX_MODEL_MAX_CATEGORY_LEN + 2];
	char	   *toolong[3] = {"x", longlab, "z"};

	memset(longlab, 'q', MLX_MODEL_MAX_CATEGORY_LEN + 1);
	make_smsample(&s);
	EXPECT(mlx_model_from_softmax(NULL, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	s.fit.nfeat = 0;
	EXPECT(mlx_model_from_softmax(&s.fit, NULL, &tctx, &m) == MLX_EINVAL &&
		   m.feature_names == NULL, "0 features accepted");
	s.fit.nfeat = 3;
	EXPECT(mlx_model_from_softmax(&s.fit, sample_names, &tctx, &m) == MLX_OK,
		   "build");
	EXPECT(m.algorithm == MLX_ALG_SOFTMAX_REGRESSION && m.nfeat == 3 &&
		   m.inputs == NULL && m.u.softmax.classes == s.labels &&
		   m.u.softmax.coef == s.coef && m.u.softmax.class_weight == s.cw,
		   "built model differs");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.softmax.nclasses = 1;
	REFUSED("1 class");
	m.u.softmax.nclasses = MLX_SOFTMAX_MAX_CLASSES + 1;
	REFUSED("1001 classes");
	m.u.softmax.nclasses = 3;
	m.u.softmax.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.softmax.nfeat = 4;
	REFUSED("nfeat mismatch (more)");
	m.u.softmax.nfeat = 3;
	m.u.softmax.solver = 0;
	REFUSED("solver 0");
	m.u.softmax.solver = 3;
	REFUSED("solver 3");
	m.u.softmax.solver = MLX_SOFTMAX_LBFGS;
	m.u.softmax.iterations = -1;
	REFUSED("negative iterations");
	m.u.softmax.iterations = 7;
	m.u.softmax.passes = -1;
	REFUSED("negative passes");
	m.u.softmax.passes = 8;
	m.u.softmax.nrows = -1;
	REFUSED("negative rows");
	m.u.softmax.nrows = 150;
	m.u.softmax.nskipped = -1;
	REFUSED("negative skipped rows");
	m.u.softmax.nskipped = 2;
	m.u.softmax.lambda = -0.5;
	REFUSED("negative lambda");
	m.u.softmax.lambda = NAN;
	REFUSED("NaN lambda");
	m.u.softmax.lambda = INFINITY;
	REFUSED("infinite lambda");
	m.u.softmax.lambda = 0;
	m.u.softmax.loglik = 0.25;
	REFUSED("positive log-likelihood");
	m.u.softmax.loglik = NAN;
	REFUSED("NaN log-likelihood");
	m.u.softmax.loglik = -INFINITY;
	REFUSED("infinite log-likelihood");
	m.u.softmax.loglik = -61.25;
	m.u.softmax.loglik_null = 1;
	REFUSED("positive null log-likelihood");
	m.u.softmax.loglik_null = -INFINITY;
	REFUSED("infinite null log-likelihood");
	m.u.softmax.loglik_null = NAN;
	s.cw[1] = 0;
	REFUSED("zero class weight");
	s.cw[1] = -2.5;
	REFUSED("negative class weight");
	s.cw[1] = NAN;
	REFUSED("NaN class weight");
	s.cw[1] = INFINITY;
	REFUSED("infinite class weight");
	s.cw[1] = 2.5;
	s.coef[6] = NAN;
	REFUSED("NaN coefficient");
	s.coef[6] = INFINITY;
	REFUSED("infinite coefficient");
	s.coef[6] = -2;
	s.coef[0] = 0.5;
	REFUSED("non-zero class 1 intercept in the reference parametrization");
	s.coef[0] = 0;
	s.coef[3] = -1e-300;
	REFUSED("non-zero class 1 slope in the reference parametrization");
	/* the symmetric parametrization allows it; 2 classes never do */
	m.u.softmax.lambda = 0.5;
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK,
		   "symmetric model with a class 1 slope refused");
	mlx_free(&tctx, out);
	m.u.softmax.nclasses = 2;
	REFUSED("2 classes with lambda and a class 1 slope");
	m.u.softmax.nclasses = 3;
	m.u.softmax.lambda = 0;
	s.coef[3] = 0;
	m.u.softmax.intercept = false;
	REFUSED("intercepts without intercept");
	m.u.softmax.intercept = true;
	m.u.softmax.classes = dup;
	REFUSED("equal labels");
	m.u.softmax.classes = dup_empty;
	REFUSED("equal empty labels");
	m.u.softmax.classes = bad;
	REFUSED("label not UTF-8");
	m.u.softmax.classes = nul_cut;
	REFUSED("label with a cut UTF-8 sequence");
	m.u.softmax.classes = toolong;
	REFUSED("label of 1025 bytes");
	m.u.softmax.classes = nolab;
	REFUSED("NULL label");
	m.u.softmax.classes = NULL;
	REFUSED("no labels");
	m.u.softmax.classes = s.labels;
	m.u.softmax.coef = NULL;
	REFUSED("no coefficients");
	m.u.softmax.coef = s.coef;
	m.u.softmax.class_weight = NULL;
	REFUSED("no class weights");
	m.u.softmax.class_weight = s.cw;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static bool
t_softmax_json(void)
{
	smsample	s;
	mlx_model	m;
	char	   *json;
	char	   *names[3] = {"a", "b", "c"};
	const char *want =
	"{\"algorithm\":\"multinomial_logistic_regression\",\"format_version\":1,"
	"\"n_features\":3,\"features\":[\"a\",\"b\",\"c\"],"
	"\"n_classes\":3,\"classes\":[\"x\",\"y\xc3\xa9\",\"z\\\"\"],"
	"\"fit_intercept\":true,\"lambda\":0,\"solver\":\"newton\","
	"\"class_weight\":{\"x\":1,\"y\xc3\xa9\":2.5,\"z\\\"\":0.5},"
	"\"n_rows\":150,\"n_skipped\":2,\"iterations\":7,\"passes\":8,"
	"\"converged\":true,\"separation\":false,"
	"\"log_likelihood\":-61.25,\"null_log_likelihood\":-164.75,"
	"\"intercept\":[0,0.5,-1.5],"
	"\"coefficients\":[[0,0,0],[1.25,-2,0.75],[2.5,0.25,-0.125]]}";
	const char *swant =
	"{\"algorithm\":\"multinomial_logistic_regression\",\"format_version\":1,"
	"\"n_features\":2,\"features\":[\"a\",\"b\"],"
	"\"n_classes\":4,\"classes\":[\"b\",\"\",\"a\",\"\xce\xb3\"],"
	"\"fit_intercept\":false,\"lambda\":0.5,\"solver\":\"lbfgs\","
	"\"class_weight\":{\"b\":1,\"\":0.25,\"a\":4,\"\xce\xb3\":1},"
	"\"n_rows\":40,\"n_skipped\":0,\"iterations\":100,\"passes\":123,"
	"\"converged\":false,\"separation\":true,"
	"\"log_likelihood\":-3.5,\"null_log_likelihood\":null,"
	"\"intercept\":[0,0,0,0],"
	"\"coefficients\":[[-0.375,-0.75],[-0.125,-0.25],[0.125,0.25],[0.375,0.75]]}";

	make_smsample(&s);
	EXPECT(mlx_model_from_softmax(&s.fit, names, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, want) == 0, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);

	make_smsample_sym(&s, 2);
	EXPECT(mlx_model_from_softmax(&s.fit, names, &tctx, &m) == MLX_OK, "build 2");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strcmp(json, swant) == 0, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

static mlx_status
op_from_softmax(void)
{
	smsample	s;
	mlx_model	m;
	mlx_status	st;

	make_smsample(&s);
	st = mlx_model_from_softmax(&s.fit, sample_names, &tctx, &m);
	if (st == MLX_OK)
		mlx_model_free_names(&m, &tctx);
	return st;
}

static mlx_status
op_encode_softmax(void)
{
	size_t		len;
	uint8_t    *buf = encode_smsample(false, &len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static mlx_status
op_encode_softmax_inputs(void)
{
	size_t		len;
	uint8_t    *buf = encode_smsample8_inputs(true, &len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

static bool
t_softmax_enomem(void)
{
	bool		ok;
	int			sym;

	ok = enomem_sweep("from_softmax", op_from_softmax) &&
		enomem_sweep("encode softmax", op_encode_softmax) &&
		enomem_sweep("encode softmax with inputs", op_encode_softmax_inputs);
	if (!ok)
		return false;
	for (sym = 0; sym < 2; sym++)
	{
		enomem_value = encode_smsample(sym, &enomem_len);
		EXPECT(enomem_value != NULL, "encode");
		ok = enomem_sweep("decode softmax", op_decode) &&
			enomem_sweep("describe softmax", op_describe);
		mlx_free(&tctx, enomem_value);
		if (!ok)
			return false;
		enomem_value = encode_smsample8_inputs(sym, &enomem_len);
		EXPECT(enomem_value != NULL, "encode with inputs");
		ok = enomem_sweep("decode softmax with inputs", op_decode) &&
			enomem_sweep("describe softmax with inputs", op_describe);
		mlx_free(&tctx, enomem_value);
		if (!ok)
			return false;
	}
	return true;
}

static bool
t_no_leaks(void)
{
	EXPECT(counts.live == 0, "%ld allocations still live", counts.live);
	return true;
}

int
main(void)
{
	run("crc32c_test_vector", t_crc_vector);
	run("round_trip_field_by_field", t_round_trip);
	run("default_feature_names", t_default_names);
	run("deterministic_big_endian_layout", t_deterministic_big_endian);
	run("decode_unaligned", t_unaligned);
	run("every_truncation_rejected", t_truncations);
	run("every_byte_flip_rejected", t_byte_flips);
	run("header_errors", t_header_errors);
	run("crafted_inconsistent_values", t_crafted);
	run("section_structure", t_sections);
	run("small_error_buffer", t_small_errbuf);
	run("encoder_rejects_invalid_models", t_encoder_rejects);
	run("describe_json", t_json);
	run("allocation_failures", t_enomem);
	run("inputs_round_trip_every_kind", t_inputs_round_trip);
	run("inputs_documented_example_and_json", t_inputs_doc_example);
	run("inputs_json_every_kind", t_inputs_json_kinds);
	run("inputs_find_category", t_find_category);
	run("inputs_feature_names", t_inputs_feature_names);
	run("inputs_invalid_rejected_by_encoder_and_decoder", t_inputs_rejected);
	run("inputs_crafted_bytes_rejected", t_inputs_bytes_rejected);
	run("inputs_byte_flips", t_inputs_flips);
	run("inputs_allocation_failures", t_inputs_enomem);
	run("logreg_round_trip_field_by_field", t_logreg_round_trip);
	run("logreg_documented_layout_deterministic", t_logreg_layout);
	run("logreg_variants_defaults_and_flags", t_logreg_variants);
	run("logreg_with_inputs_round_trip", t_logreg_inputs_round_trip);
	run("logreg_crafted_inconsistent_values", t_logreg_crafted);
	run("logreg_crafted_layouts_rejected", t_logreg_bytes_rejected);
	run("logreg_every_truncation_rejected", t_logreg_truncations);
	run("logreg_byte_flips", t_logreg_byte_flips);
	run("logreg_encoder_rejects_invalid_models", t_logreg_encoder_rejects);
	run("logreg_describe_json", t_logreg_json);
	run("logreg_allocation_failures", t_logreg_enomem);
	run("enet_round_trip_lasso_elastic_net_inputs", t_enet_round_trip);
	run("enet_documented_layout_deterministic", t_enet_layout);
	run("enet_variants_accepted", t_enet_variants);
	run("enet_crafted_inconsistent_values", t_enet_crafted);
	run("enet_crafted_layouts_rejected", t_enet_bytes_rejected);
	run("enet_every_truncation_and_byte_flip", t_enet_truncations_and_flips);
	run("enet_encoder_rejects_invalid_models", t_enet_encoder_rejects);
	run("enet_describe_json", t_enet_json);
	run("enet_allocation_failures", t_enet_enomem);
	run("pca_round_trip_field_by_field", t_pca_round_trip);
	run("pca_documented_layout_deterministic", t_pca_layout);
	run("pca_with_unsupervised_inputs", t_pca_inputs_round_trip);
	run("pca_variants_within_tolerances", t_pca_variants);
	run("pca_crafted_inconsistent_values", t_pca_crafted);
	run("pca_crafted_layouts_rejected", t_pca_bytes_rejected);
	run("pca_orthogonality_check_limit", t_pca_orthogonality_limit);
	run("pca_every_truncation_and_byte_flip", t_pca_truncations_and_flips);
	run("pca_encoder_rejects_invalid_models", t_pca_encoder_rejects);
	run("pca_describe_json", t_pca_json);
	run("pca_allocation_failures", t_pca_enomem);
	run("poisson_round_trip_field_by_field", t_poisson_round_trip);
	run("poisson_documented_layout_deterministic", t_poisson_layout);
	run("poisson_variants_accepted", t_poisson_variants);
	run("poisson_with_inputs_round_trip", t_poisson_inputs_round_trip);
	run("poisson_crafted_inconsistent_values", t_poisson_crafted);
	run("poisson_crafted_layouts_rejected", t_poisson_bytes_rejected);
	run("poisson_every_truncation_and_byte_flip", t_poisson_truncations_and_flips);
	run("poisson_encoder_rejects_invalid_models", t_poisson_encoder_rejects);
	run("poisson_describe_json", t_poisson_json);
	run("poisson_allocation_failures", t_poisson_enomem);
	run("kmeans_round_trip_field_by_field", t_kmeans_round_trip);
	run("kmeans_documented_layout_deterministic", t_kmeans_layout);
	run("kmeans_variants_accepted", t_kmeans_variants);
	run("kmeans_with_unsupervised_inputs", t_kmeans_inputs_round_trip);
	run("kmeans_crafted_inconsistent_values", t_kmeans_crafted);
	run("kmeans_crafted_layouts_rejected", t_kmeans_bytes_rejected);
	run("kmeans_cluster_and_cell_limits", t_kmeans_limits);
	run("kmeans_every_truncation_and_byte_flip", t_kmeans_truncations_and_flips);
	run("kmeans_encoder_rejects_invalid_models", t_kmeans_encoder_rejects);
	run("kmeans_describe_json", t_kmeans_json);
	run("kmeans_allocation_failures", t_kmeans_enomem);
	run("nbayes_round_trip_field_by_field", t_nbayes_round_trip);
	run("nbayes_documented_layout_deterministic", t_nbayes_layout);
	run("nbayes_variants_accepted", t_nbayes_variants);
	run("nbayes_crafted_inconsistent_values", t_nbayes_crafted);
	run("nbayes_crafted_layouts_rejected", t_nbayes_bytes_rejected);
	run("nbayes_class_and_cell_limits", t_nbayes_limits);
	run("nbayes_every_truncation_and_byte_flip", t_nbayes_truncations_and_flips);
	run("nbayes_encoder_rejects_invalid_models", t_nbayes_encoder_rejects);
	run("nbayes_describe_json", t_nbayes_json);
	run("nbayes_allocation_failures", t_nbayes_enomem);
	run("softmax_round_trip_field_by_field", t_softmax_round_trip);
	run("softmax_documented_layout_deterministic", t_softmax_layout);
	run("softmax_variants_accepted", t_softmax_variants);
	run("softmax_crafted_inconsistent_values", t_softmax_crafted);
	run("softmax_crafted_layouts_rejected", t_softmax_bytes_rejected);
	run("softmax_class_count_limits", t_softmax_limits);
	run("softmax_every_truncation_and_byte_flip", t_softmax_truncations_and_flips);
	run("softmax_encoder_rejects_invalid_models", t_softmax_encoder_rejects);
	run("softmax_describe_json", t_softmax_json);
	run("softmax_allocation_failures", t_softmax_enomem);
	run("no_leaks", t_no_leaks);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
