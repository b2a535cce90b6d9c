/*
 * test_tree_model.c
 *	  Unit tests of the fitted tree ensembles (src/core/tree_model.c) and
 *	  their place in the model format (MLX_SEC_TREE in src/model): scoring
 *	  of hand-built trees, the fit check, encode/decode round trips of every
 *	  kind and objective, the documented byte layout, rejection of damaged
 *	  and hand-crafted values, NaN imputation values for tree models only,
 *	  the JSON summary, and allocation failures.
 *
 * Every fit here is built by hand: its predictions are worked out in the
 * comments (and, for whole ensembles, by a recursive reference walk
 * written independently of the flat loop under test).  The byte layout is
 * written a second time by w_tree from doc/model-format.md, independently
 * of the encoder.
 *
 * Standalone program: one line per case, "PASS name" or "FAIL name: why";
 * exits 1 when any case fails.  Meant to run under ASan/UBSan: every value
 * handed to the decoder sits in a buffer of exactly its length, and every
 * allocation goes through a counting context so leaks are caught.
 */
#include "core/tree.h"
#include "model/model.h"

#define HARNESS_BOOL_CASES
#include "harness.h"

static counting counts = {0, 0, -1};
static const mlx_ctx tctx = {counting_alloc, counting_free, NULL, &counts};

/* ---------- hand-built ensembles ---------- */

/* nodes per tree of the sample shape, and room for the largest sample */
#define SHAPE_NODES 5
#define MAXT 6
#define MAXN (MAXT * SHAPE_NODES + 4)
#define MAXW 3

typedef struct tsample
{
	mlx_tree_fit fit;
	double		base[MAXW];
	int32_t		start[MAXT + 2];
	int32_t		feature[MAXN];
	double		threshold[MAXN];
	int32_t		left[MAXN];
	int32_t		right[MAXN];
	uint8_t		dl[MAXN];
	double		gain[MAXN];
	double		cover[MAXN];
	double		value[MAXN * MAXW];
	char	   *labels[MAXW];
} tsample;

static char *names3[3] = {"a", "b", "c"};

/* labels of the samples: ASCII, two-byte UTF-8, empty, a JSON quote */
static char *labels2[2] = {"no", "y\xc3\xa9s"};
static char *labels3[3] = {"a", "", "c\""};

/*
 * Node n of tree t of a sample, at absolute index i: leaf values are
 *
 *	  regression (DT, RF)		10 n + t
 *	  classification (DT, RF)	class proportions p_c = (c + 1 + n + t) / sum
 *	  boosting					(n - 2) (t + 1) / 8
 *
 * and internal nodes hold would-be leaf values by the same formula.
 */
static void
set_values(tsample *s, int32_t i, int32_t t, int32_t n)
{
	mlx_tree_fit *f = &s->fit;
	int32_t		w = f->leaf_width;
	int32_t		c;

	if (f->kind == MLX_TREE_GRADIENT_BOOSTING)
		s->value[i] = (n - 2) * (t + 1) / 8.0;
	else if (f->objective == MLX_TREE_REGRESSION)
		s->value[i] = 10.0 * n + t;
	else
	{
		double		sum = 0;

		for (c = 0; c < w; c++)
			sum += c + 1 + n + t;
		for (c = 0; c < w; c++)
			s->value[i * w + c] = (c + 1 + n + t) / sum;
	}
}

/* Node i as a split of feature f at thr, children l and r (relative). */
static void
set_split(tsample *s, int32_t i, int32_t f, double thr, int32_t l, int32_t r,
		  uint8_t dl, double gain)
{
	s->feature[i] = f;
	s->threshold[i] = thr;
	s->left[i] = l;
	s->right[i] = r;
	s->dl[i] = dl;
	s->gain[i] = gain;
	s->cover[i] = 10 - i % SHAPE_NODES;
}

/* Node i as a leaf. */
static void
set_leaf(tsample *s, int32_t i)
{
	set_split(s, i, -1, 0, -1, -1, 0, 0);
}

/*
 * A sample ensemble of k = 3 features: tree t (of 1 for DT, 2 for RF, two
 * rounds of ngroups for boosting) is
 *
 *	  node 0: feature t % 3     < 1.5 + t / 4 ? node 1 : node 2, missing left
 *	  node 1: leaf
 *	  node 2: feature 2 - t % 3 < -0.5 + t / 4 ? node 3 : node 4, missing right
 *	  node 3, node 4: leaves
 *
 * with split gains 4 + t and 2 + t / 2.  Boosted base scores are g / 4 -
 * 1/4 for group g; training figures are made up but within range.
 */
static void
make_tsample(tsample *s, int kind, int objective)
{
	mlx_tree_fit *f = &s->fit;
	int32_t		t;
	int32_t		g;

	memset(s, 0, sizeof(*s));
	f->kind = (uint8_t) kind;
	f->objective = (uint8_t) objective;
	f->nfeat = 3;
	f->nclasses = objective == MLX_TREE_MULTICLASS ? 3 :
		objective == MLX_TREE_BINARY ? 2 : 0;
	f->ngroups = objective == MLX_TREE_MULTICLASS ? 3 : 1;
	f->leaf_width = (kind == MLX_TREE_GRADIENT_BOOSTING ||
					 objective == MLX_TREE_REGRESSION) ? 1 : f->nclasses;
	f->ntrees = kind == MLX_TREE_DECISION_TREE ? 1 :
		kind == MLX_TREE_RANDOM_FOREST ? 2 : 2 * f->ngroups;
	f->nnodes = f->ntrees * SHAPE_NODES;
	for (g = 0; g < f->ngroups; g++)
		s->base[g] = kind == MLX_TREE_GRADIENT_BOOSTING ? g / 4.0 - 0.25 : 0;
	for (t = 0; t <= f->ntrees; t++)
		s->start[t] = t * SHAPE_NODES;
	for (t = 0; t < f->ntrees; t++)
	{
		int32_t		b = t * SHAPE_NODES;
		int32_t		n;

		set_split(s, b, t % 3, 1.5 + t / 4.0, 1, 2, 1, 4 + t);
		set_leaf(s, b + 1);
		set_split(s, b + 2, 2 - t % 3, -0.5 + t / 4.0, 3, 4, 0, 2 + t / 2.0);
		set_leaf(s, b + 3);
		set_leaf(s, b + 4);
		for (n = 0; n < SHAPE_NODES; n++)
			set_values(s, b + n, t, n);
	}
	s->labels[0] = f->nclasses == 3 ? labels3[0] : labels2[0];
	s->labels[1] = f->nclasses == 3 ? labels3[1] : labels2[1];
	s->labels[2] = labels3[2];
	f->base_score = s->base;
	f->tree_start = s->start;
	f->feature = s->feature;
	f->threshold = s->threshold;
	f->left = s->left;
	f->right = s->right;
	f->default_left = s->dl;
	f->gain = s->gain;
	f->cover = s->cover;
	f->value = s->value;
	f->classes = f->nclasses > 0 ? s->labels : NULL;
	f->nrows = 100;
	f->nskipped = 3;
	f->best_iteration = kind == MLX_TREE_GRADIENT_BOOSTING ? 2 : 0;
	f->max_depth = 6;
	f->max_features = kind == MLX_TREE_RANDOM_FOREST ? 2 : 3;
	f->max_bins = 255;
	f->learning_rate = kind == MLX_TREE_GRADIENT_BOOSTING ? 0.125 : NAN;
	f->lambda = 1;
	f->min_child_weight = 1;
	f->subsample = kind == MLX_TREE_GRADIENT_BOOSTING ? 0.75 : NAN;
	f->colsample = 1;
}

static const int kinds[3] = {MLX_TREE_DECISION_TREE, MLX_TREE_RANDOM_FOREST,
MLX_TREE_GRADIENT_BOOSTING};
static const int objectives[3] = {MLX_TREE_REGRESSION, MLX_TREE_BINARY,
MLX_TREE_MULTICLASS};

/* ---------- an independent reference walk ---------- */

/* The leaf of row x below node n of the tree at base, recursively. */
static int32_t
ref_leaf(const mlx_tree_fit *f, int32_t base, int32_t n, const double *x)
{
	int32_t		i = base + n;
	double		v;
	bool		go_left;

	if (f->feature[i] == -1)
		return n;
	v = x[f->feature[i]];
	if (isnan(v))
		go_left = f->default_left[i] == 1;
	else
		go_left = !(v >= f->threshold[i]);
	return ref_leaf(f, base, go_left ? f->left[i] : f->right[i], x);
}

/* tree.h's prediction formulas, term by term. */
static void
ref_predict(const mlx_tree_fit *f, const double *x, double *out)
{
	double		acc[MAXW] = {0};
	int32_t		t;
	int32_t		g;

	for (t = 0; t < f->ntrees; t++)
	{
		int32_t		node = f->tree_start[t] + ref_leaf(f, f->tree_start[t], 0, x);

		if (f->kind == MLX_TREE_GRADIENT_BOOSTING)
			acc[t % f->ngroups] += f->value[node];
		else if (f->objective == MLX_TREE_BINARY)
			acc[0] += f->value[node * 2 + 1];
		else
			for (g = 0; g < f->ngroups; g++)
				acc[g] += f->value[node * f->leaf_width + g];
	}
	if (f->kind != MLX_TREE_GRADIENT_BOOSTING)
	{
		for (g = 0; g < f->ngroups; g++)
			out[g] = acc[g] / f->ntrees;
		return;
	}
	for (g = 0; g < f->ngroups; g++)
		acc[g] += f->base_score[g];
	if (f->objective == MLX_TREE_REGRESSION)
		out[0] = acc[0];
	else if (f->objective == MLX_TREE_BINARY)
		out[0] = 1 / (1 + exp(-acc[0]));
	else
	{
		double		z = 0;

		for (g = 0; g < f->ngroups; g++)
			z += exp(acc[g]);
		for (g = 0; g < f->ngroups; g++)
			out[g] = exp(acc[g]) / z;
	}
}

/* |got - want| <= 1e-12 * max(1, |want|) */
static bool
near(double got, double want)
{
	return fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want));
}

/* ---------- byte helpers ---------- */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | p[3];
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

/* Bitwise equality of doubles (NaN equals NaN, 0 differs from -0). */
static bool
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
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

/* A value builder for hand-made models. */
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

static size_t
w_text(uint8_t *p, const char *s)
{
	size_t		n = strlen(s);

	p[0] = (uint8_t) (n >> 8);
	p[1] = (uint8_t) n;
	memcpy(p + 2, s, n);
	return 2 + n;
}

/*
 * A test-side writer of the MLX_SEC_TREE layout (doc/model-format.md),
 * independent of the encoder and writing any fit, valid or not: the fixed
 * part (kind, objective, reserved, nclasses, ngroups, leaf_width, ntrees,
 * nnodes, nrows, nskipped, best_iteration, max_depth, max_features,
 * max_bins, learning_rate, lambda, min_child_weight, subsample,
 * colsample: 96 bytes), base scores, tree starts, the node columns
 * (feature, threshold, left, right, default_left, gain, cover), the
 * values and the class labels.
 */
static size_t
w_tree(uint8_t *out, const mlx_tree_fit *f)
{
	uint8_t    *p = out;
	int32_t		n = f->nnodes;
	int32_t		i;

	memset(p, 0, 96);
	p[0] = f->kind;
	p[1] = f->objective;
	put32(p + 4, (uint32_t) f->nclasses);
	put32(p + 8, (uint32_t) f->ngroups);
	put32(p + 12, (uint32_t) f->leaf_width);
	put32(p + 16, (uint32_t) f->ntrees);
	put32(p + 20, (uint32_t) f->nnodes);
	put64(p + 24, (uint64_t) f->nrows);
	put64(p + 32, (uint64_t) f->nskipped);
	put32(p + 40, (uint32_t) f->best_iteration);
	put32(p + 44, (uint32_t) f->max_depth);
	put32(p + 48, (uint32_t) f->max_features);
	put32(p + 52, (uint32_t) f->max_bins);
	putf64(p + 56, f->learning_rate);
	putf64(p + 64, f->lambda);
	putf64(p + 72, f->min_child_weight);
	putf64(p + 80, f->subsample);
	putf64(p + 88, f->colsample);
	p += 96;
	for (i = 0; i < f->ngroups; i++, p += 8)
		putf64(p, f->base_score[i]);
	for (i = 0; i <= f->ntrees; i++, p += 4)
		put32(p, (uint32_t) f->tree_start[i]);
	for (i = 0; i < n; i++, p += 4)
		put32(p, (uint32_t) f->feature[i]);
	for (i = 0; i < n; i++, p += 8)
		putf64(p, f->threshold[i]);
	for (i = 0; i < n; i++, p += 4)
		put32(p, (uint32_t) f->left[i]);
	for (i = 0; i < n; i++, p += 4)
		put32(p, (uint32_t) f->right[i]);
	for (i = 0; i < n; i++)
		*p++ = f->default_left[i];
	for (i = 0; i < n; i++, p += 8)
		putf64(p, f->gain[i]);
	for (i = 0; i < n; i++, p += 8)
		putf64(p, f->cover[i]);
	for (i = 0; i < n * f->leaf_width; i++, p += 8)
		putf64(p, f->value[i]);
	for (i = 0; i < f->nclasses; i++)
		p += w_text(p, f->classes[i]);
	return (size_t) (p - out);
}

/* The algorithm id of a kind, as doc/model-format.md numbers them. */
static uint16_t
alg_of(int kind)
{
	return (uint16_t) (9 + kind);
}

/* A k = 3 model ("a", "b", "c") of algorithm alg holding a tree section. */
static size_t
build_tree_model(builder *x, uint16_t alg, const uint8_t *body, size_t len)
{
	static const uint8_t feat[9] = {0, 1, 'a', 0, 1, 'b', 0, 1, 'c'};

	b_header(x, alg, 3);
	b_section(x, MLX_SEC_FEATURES, feat, sizeof(feat));
	b_section(x, MLX_SEC_TREE, body, (uint32_t) len);
	return b_finish(x);
}

/* Write the fit with w_tree into a model of its kind's algorithm. */
static size_t
build_fit(builder *x, const mlx_tree_fit *f)
{
	uint8_t		body[4096];
	size_t		len = w_tree(body, f);

	return build_tree_model(x, alg_of(f->kind), body, len);
}

/* offset of the tree section's body in an encoding without inputs */
#define TREE_BODY (24 + 8 + 9 + 8)

/* Encode a fit with names (NULL: defaults) and inputs (or NULL). */
static mlx_status
encode_tree_with(const mlx_tree_fit *fit, char **names, mlx_inputs *in,
				 uint8_t **out, size_t *len)
{
	mlx_model	m;
	mlx_status	st;

	*out = NULL;
	st = mlx_model_from_tree(fit, names, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

/* The sample of a kind and objective, encoded with names a, b, c. */
static uint8_t *
encode_tsample(int kind, int objective, size_t *len)
{
	tsample		s;
	uint8_t    *out;

	make_tsample(&s, kind, objective);
	if (encode_tree_with(&s.fit, names3, NULL, &out, len) != MLX_OK)
		return NULL;
	return out;
}

/* Every field of two tree fits is the same (doubles bit for bit). */
static bool
same_tree(const mlx_tree_fit *a, const mlx_tree_fit *b)
{
	int32_t		i;

	EXPECT(a->kind == b->kind && a->objective == b->objective &&
		   a->nfeat == b->nfeat && a->nclasses == b->nclasses &&
		   a->ngroups == b->ngroups && a->leaf_width == b->leaf_width &&
		   a->ntrees == b->ntrees && a->nnodes == b->nnodes &&
		   a->nrows == b->nrows && a->nskipped == b->nskipped &&
		   a->best_iteration == b->best_iteration &&
		   a->max_depth == b->max_depth &&
		   a->max_features == b->max_features && a->max_bins == b->max_bins,
		   "integer fields differ");
	EXPECT(same_double(a->learning_rate, b->learning_rate) &&
		   same_double(a->lambda, b->lambda) &&
		   same_double(a->min_child_weight, b->min_child_weight) &&
		   same_double(a->subsample, b->subsample) &&
		   same_double(a->colsample, b->colsample), "training doubles differ");
	for (i = 0; i < a->ngroups; i++)
		EXPECT(same_double(a->base_score[i], b->base_score[i]),
			   "base score %d differs", (int) i);
	for (i = 0; i <= a->ntrees; i++)
		EXPECT(a->tree_start[i] == b->tree_start[i], "tree start %d differs",
			   (int) i);
	for (i = 0; i < a->nnodes; i++)
		EXPECT(a->feature[i] == b->feature[i] && a->left[i] == b->left[i] &&
			   a->right[i] == b->right[i] &&
			   a->default_left[i] == b->default_left[i] &&
			   same_double(a->threshold[i], b->threshold[i]) &&
			   same_double(a->gain[i], b->gain[i]) &&
			   same_double(a->cover[i], b->cover[i]), "node %d differs", (int) i);
	for (i = 0; i < a->nnodes * a->leaf_width; i++)
		EXPECT(same_double(a->value[i], b->value[i]), "value %d differs", (int) i);
	for (i = 0; i < a->nclasses; i++)
		EXPECT(strcmp(a->classes[i], b->classes[i]) == 0, "label %d differs",
			   (int) i);
	EXPECT(a->nclasses > 0 || a->classes == NULL, "regression has labels");
	return true;
}

/*
 * Encode the fit, decode, compare field by field, check that the decoded
 * fit predicts as the original, and re-encode to the same bytes; *lenp
 * (if not NULL) receives the length.
 */
static bool
tree_round_trip(const mlx_tree_fit *fit, char **names, mlx_inputs *in,
				size_t *lenp)
{
	static const double rows[4][3] = {
		{1, 1, 0}, {2, 2, 0}, {NAN, NAN, NAN}, {2, NAN, -1}
	};
	uint8_t    *buf;
	uint8_t    *buf2;
	size_t		len;
	size_t		len2;
	mlx_model	m;
	char		err[256];
	mlx_status	st;
	bool		ok;
	int			r;

	st = encode_tree_with(fit, names, in, &buf, &len);
	EXPECT(st == MLX_OK, "encode: %s", mlx_status_str(st));
	if (lenp != NULL)
		*lenp = len;
	st = mlx_model_decode(buf, len, &tctx, &m, err, sizeof(err));
	if (st != MLX_OK)
	{
		mlx_free(&tctx, buf);
		EXPECT(false, "decode: %s", err);
	}
	ok = m.algorithm == alg_of(fit->kind) && buf[7] == alg_of(fit->kind) &&
		m.nfeat == fit->nfeat && (in == NULL) == (m.inputs == NULL) &&
		m.u.tree.value != fit->value;
	if (!ok)
		set_reason("header or inputs differ");
	ok = ok && same_tree(&m.u.tree, fit);
	for (r = 0; ok && r < 4; r++)
	{
		double		a[MAXW];
		double		b[MAXW];
		int32_t		g;

		mlx_tree_predict(fit, rows[r], a);
		mlx_tree_predict(&m.u.tree, rows[r], b);
		for (g = 0; g < fit->ngroups; g++)
			ok = ok && same_double(a[g], b[g]);
		if (!ok)
			set_reason("decoded fit predicts differently for row %d", r);
	}
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

/* ---------- scoring ---------- */

static bool
t_predict_decision_tree_by_hand(void)
{
	tsample		s;
	double		out[MAXW];
	char		err[256];
	static const struct
	{
		double		x[3];
		int32_t		leaf;
		double		want;
	}			rows[] = {
		{{1, 0, 0}, 1, 10},		/* 1 < 1.5: left */
		{{1.5, 0, 0}, 4, 40},	/* equal goes right; 0 >= -0.5: right */
		{{1.5, 0, -0.5}, 4, 40},	/* equal, equal: right, right */
		{{2, 0, -0.6}, 3, 30},	/* right, then -0.6 < -0.5: left */
		{{NAN, 0, 9}, 1, 10},	/* missing at the root: default left */
		{{2, 0, NAN}, 4, 40},	/* missing at node 2: default right */
		{{-INFINITY, 7, 7}, 1, 10},
		{{INFINITY, 7, -INFINITY}, 3, 30},
		{{-0.0, 0, 0}, 1, 10},
	};
	size_t		r;

	make_tsample(&s, MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION);
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "check: %s", err);
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
	{
		int32_t		leaf = mlx_tree_leaf(&s.fit, 0, rows[r].x);

		mlx_tree_predict(&s.fit, rows[r].x, out);
		EXPECT(leaf == rows[r].leaf, "row %zu: leaf %d, expected %d", r,
			   (int) leaf, (int) rows[r].leaf);
		EXPECT(out[0] == rows[r].want, "row %zu: %g, expected %g", r, out[0],
			   rows[r].want);
	}
	EXPECT(mlx_tree_leaf(&s.fit, 1, rows[0].x) == -1 &&
		   mlx_tree_leaf(&s.fit, -1, rows[0].x) == -1, "tree out of range");

	/* a single-leaf tree: every row, even all missing, reaches node 0 */
	s.fit.nnodes = 1;
	s.start[1] = 1;
	set_leaf(&s, 0);
	s.value[0] = -2.5;
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "stump: %s", err);
	mlx_tree_predict(&s.fit, rows[4].x, out);
	EXPECT(out[0] == -2.5 && mlx_tree_leaf(&s.fit, 0, rows[4].x) == 0,
		   "single leaf: %g", out[0]);
	return true;
}

static bool
t_predict_forest_by_hand(void)
{
	tsample		s;
	double		out[MAXW];
	char		err[256];

	/*
	 * Binary: tree 0 splits a at 1.5 then c at -0.5, tree 1 b at 1.75
	 * then b at -0.25; P(class 1) of node n of tree t is (n + t + 2) /
	 * (2n + 2t + 3): tree 0 nodes 1, 3, 4: 3/5, 5/9, 6/11; tree 1: 4/7,
	 * 6/11, 7/13.
	 */
	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY);
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "check: %s", err);
	mlx_tree_predict(&s.fit, (double[]) {1, 1, 0}, out);
	EXPECT(near(out[0], (3.0 / 5 + 4.0 / 7) / 2), "left, left: %.17g", out[0]);
	mlx_tree_predict(&s.fit, (double[]) {2, 2, 0}, out);
	EXPECT(near(out[0], (6.0 / 11 + 7.0 / 13) / 2), "right, right: %.17g", out[0]);
	mlx_tree_predict(&s.fit, (double[]) {NAN, NAN, NAN}, out);
	EXPECT(near(out[0], (3.0 / 5 + 4.0 / 7) / 2), "all missing: %.17g", out[0]);
	mlx_tree_predict(&s.fit, (double[]) {2, NAN, -1}, out);
	EXPECT(near(out[0], (5.0 / 9 + 4.0 / 7) / 2), "mixed: %.17g", out[0]);
	mlx_tree_predict(&s.fit, (double[]) {1.5, 1.75, -0.5}, out);
	EXPECT(near(out[0], (6.0 / 11 + 7.0 / 13) / 2), "thresholds: %.17g", out[0]);

	/*
	 * Multiclass decision tree: node n holds (n + 1, n + 2, n + 3) / (3n +
	 * 6): node 1 (2, 3, 4) / 9, node 4 (5, 6, 7) / 18.
	 */
	make_tsample(&s, MLX_TREE_DECISION_TREE, MLX_TREE_MULTICLASS);
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "check 2: %s", err);
	mlx_tree_predict(&s.fit, (double[]) {0, 0, 0}, out);
	EXPECT(near(out[0], 2.0 / 9) && near(out[1], 3.0 / 9) && near(out[2], 4.0 / 9),
		   "node 1: %g %g %g", out[0], out[1], out[2]);
	mlx_tree_predict(&s.fit, (double[]) {5, 5, 5}, out);
	EXPECT(near(out[0], 5.0 / 18) && near(out[1], 6.0 / 18) &&
		   near(out[2], 7.0 / 18), "node 4: %g %g %g", out[0], out[1], out[2]);

	/* regression forest: (10 + 11) / 2 and (40 + 41) / 2 */
	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION);
	mlx_tree_predict(&s.fit, (double[]) {0, 0, 0}, out);
	EXPECT(out[0] == 10.5, "forest left: %g", out[0]);
	mlx_tree_predict(&s.fit, (double[]) {5, 5, 5}, out);
	EXPECT(out[0] == 40.5, "forest right: %g", out[0]);
	return true;
}

static bool
t_predict_boosting_by_hand(void)
{
	tsample		s;
	double		out[MAXW];
	double		z;
	char		err[256];

	/*
	 * Binary, base margin -1/4, node 1 of tree t holds -(t + 1) / 8 and
	 * node 4 (t + 1) / 4: left, left is -1/4 - 1/8 - 1/4 = -5/8; right,
	 * right -1/4 + 1/4 + 1/2 = 1/2.
	 */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY);
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "check: %s", err);
	mlx_tree_predict(&s.fit, (double[]) {1, 1, 0}, out);
	EXPECT(near(out[0], 1 / (1 + exp(0.625))), "left, left: %.17g", out[0]);
	mlx_tree_predict(&s.fit, (double[]) {2, 2, 0}, out);
	EXPECT(near(out[0], 1 / (1 + exp(-0.5))), "right, right: %.17g", out[0]);

	/* regression: the margin itself */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION);
	mlx_tree_predict(&s.fit, (double[]) {2, 2, 0}, out);
	EXPECT(out[0] == 0.5, "regression: %.17g", out[0]);

	/*
	 * Multiclass, 2 rounds of 3 trees, tree t in group t % 3, base margins
	 * -1/4, 0, 1/4.  All missing (or all 0): every tree ends in node 1,
	 * margins -1/4 - 1/8 - 4/8, 0 - 2/8 - 5/8, 1/4 - 3/8 - 6/8, all -7/8:
	 * uniform.  All 5: node 4 everywhere, margins -1/4 + 1/4 + 1, 2/4 +
	 * 5/4, 1/4 + 3/4 + 6/4 = 1, 7/4, 5/2.
	 */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS);
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "check 2: %s", err);
	mlx_tree_predict(&s.fit, (double[]) {NAN, NAN, NAN}, out);
	EXPECT(near(out[0], 1.0 / 3) && near(out[1], 1.0 / 3) && near(out[2], 1.0 / 3),
		   "missing: %g %g %g", out[0], out[1], out[2]);
	mlx_tree_predict(&s.fit, (double[]) {5, 5, 5}, out);
	z = exp(1) + exp(1.75) + exp(2.5);
	EXPECT(near(out[0], exp(1) / z) && near(out[1], exp(1.75) / z) &&
		   near(out[2], exp(2.5) / z), "all 5: %g %g %g", out[0], out[1], out[2]);

	/* no trees: the base scores, transformed; large margins stay finite */
	s.fit.ntrees = 0;
	s.fit.nnodes = 0;
	s.start[0] = 0;
	s.base[0] = 1000;
	s.base[1] = 1001;
	s.base[2] = 999;
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "no trees: %s", err);
	mlx_tree_predict(&s.fit, (double[]) {0, 0, 0}, out);
	z = exp(-1) + 1 + exp(-2);
	EXPECT(near(out[0], exp(-1) / z) && near(out[1], 1 / z) &&
		   near(out[2], exp(-2) / z), "large margins: %g %g %g", out[0],
		   out[1], out[2]);
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY);
	s.fit.ntrees = 0;
	s.fit.nnodes = 0;
	s.start[0] = 0;
	s.base[0] = -700;
	mlx_tree_predict(&s.fit, (double[]) {0, 0, 0}, out);
	EXPECT(out[0] > 0 && near(out[0] * 1e300, exp(-700) * 1e300),
		   "sigmoid(-700): %g", out[0]);
	s.base[0] = 800;
	mlx_tree_predict(&s.fit, (double[]) {0, 0, 0}, out);
	EXPECT(out[0] == 1, "sigmoid(800): %.17g", out[0]);
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION);
	s.fit.ntrees = 0;
	s.fit.nnodes = 0;
	s.start[0] = 0;
	s.base[0] = 3.25;
	s.fit.feature = NULL;
	s.fit.value = NULL;
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "NULL nodes: %s", err);
	mlx_tree_predict(&s.fit, (double[]) {0, 0, 0}, out);
	EXPECT(out[0] == 3.25, "regression without trees: %g", out[0]);
	return true;
}

/* Every kind and objective against the recursive reference, random rows. */
static bool
t_predict_matches_reference(void)
{
	int			ki;
	int			oi;
	int			r;

	rng_seed(7);
	for (ki = 0; ki < 3; ki++)
	{
		for (oi = 0; oi < 3; oi++)
		{
			tsample		s;
			char		err[256];

			make_tsample(&s, kinds[ki], objectives[oi]);
			EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)),
				   "kind %d objective %d: %s", kinds[ki], objectives[oi], err);
			for (r = 0; r < 200; r++)
			{
				double		x[3];
				double		got[MAXW];
				double		want[MAXW];
				int32_t		g;
				int			j;

				for (j = 0; j < 3; j++)
				{
					/* quarters hit the thresholds exactly; 1 in 5 missing */
					x[j] = floor(rng_unif() * 16 - 6) / 4;
					if (rng_unif() < 0.2)
						x[j] = NAN;
				}
				mlx_tree_predict(&s.fit, x, got);
				ref_predict(&s.fit, x, want);
				for (g = 0; g < s.fit.ngroups; g++)
					EXPECT(near(got[g], want[g]),
						   "kind %d objective %d row (%g, %g, %g) group %d: %.17g, expected %.17g",
						   kinds[ki], objectives[oi], x[0], x[1], x[2],
						   (int) g, got[g], want[g]);
				for (j = 0; j < s.fit.ntrees; j++)
					EXPECT(mlx_tree_leaf(&s.fit, j, x) ==
						   ref_leaf(&s.fit, s.start[j], 0, x), "leaf of tree %d", j);
			}
		}
	}
	return true;
}

/* ---------- the scoring form ---------- */

#define BIG_TREES 37			/* two full walks of 16 trees side by side,
								 * then 5 */
#define BIG_NODES (BIG_TREES * 255)

typedef struct bigsample
{
	mlx_tree_fit fit;
	double		base[MAXW];
	int32_t		start[BIG_TREES + 1];
	int32_t		feature[BIG_NODES];
	double		threshold[BIG_NODES];
	int32_t		left[BIG_NODES];
	int32_t		right[BIG_NODES];
	uint8_t		dl[BIG_NODES];
	double		gain[BIG_NODES];
	double		cover[BIG_NODES];
	double		value[BIG_NODES * MAXW];
} bigsample;

/*
 * A random subtree of depth at most d, its root the tree's node *nnodes
 * (children numbered relative to the tree at base); returns that number.
 */
static int32_t
big_subtree(bigsample *s, int32_t base, int32_t *nnodes, int d)
{
	int32_t		n = (*nnodes)++;
	int32_t		i = base + n;
	int			w = s->fit.leaf_width;

	s->gain[i] = 1;
	s->cover[i] = 1;
	for (int c = 0; c < w; c++)
		s->value[(size_t) i * w + c] = floor(rng_unif() * 64 - 32) / 16;
	if (d == 0 || (d < 7 && rng_unif() < 0.15))
	{
		s->feature[i] = -1;
		s->threshold[i] = 0;
		s->left[i] = s->right[i] = -1;
		s->dl[i] = 0;
		return n;
	}
	s->feature[i] = (int32_t) (rng_unif() * 5);
	s->threshold[i] = floor(rng_unif() * 16 - 8) / 4;
	s->dl[i] = rng_unif() < 0.5;
	s->left[i] = big_subtree(s, base, nnodes, d - 1);
	s->right[i] = big_subtree(s, base, nnodes, d - 1);
	return n;
}

/*
 * The scoring form (mlx_tree_pack) gives the reference walk's predictions
 * for every kind and objective, with 37 trees of depth 0 to 7 (so full and
 * partial groups of trees walked side by side, and trees of unequal
 * depth), on rows of finite values and rows with NaN or infinities.
 */
static bool
t_packed_matches_reference(void)
{
	static bigsample s;

	rng_seed(11);
	for (int ki = 0; ki < 3; ki++)
	{
		for (int oi = 0; oi < 3; oi++)
		{
			mlx_tree_fit *f = &s.fit;
			int32_t		nn = 0;
			char		err[256];

			memset(&s, 0, sizeof(s));
			f->kind = (uint8_t) kinds[ki];
			f->objective = (uint8_t) objectives[oi];
			f->nfeat = 5;
			f->nclasses = objectives[oi] == MLX_TREE_MULTICLASS ? 3 :
				objectives[oi] == MLX_TREE_BINARY ? 2 : 0;
			f->ngroups = objectives[oi] == MLX_TREE_MULTICLASS ? 3 : 1;
			f->leaf_width = (kinds[ki] == MLX_TREE_GRADIENT_BOOSTING ||
							 objectives[oi] == MLX_TREE_REGRESSION) ? 1 : f->nclasses;
			f->ntrees = kinds[ki] == MLX_TREE_DECISION_TREE ? 1 :
				BIG_TREES - BIG_TREES % f->ngroups;
			for (int32_t t = 0; t < f->ntrees; t++)
			{
				int32_t		size = 0;

				s.start[t] = nn;
				(void) big_subtree(&s, nn, &size, (t + 7) % 8);
				nn += size;
			}
			s.start[f->ntrees] = nn;
			f->nnodes = nn;
			for (int g = 0; g < f->ngroups; g++)
				s.base[g] = kinds[ki] == MLX_TREE_GRADIENT_BOOSTING ? g / 4.0 : 0;
			f->base_score = s.base;
			f->tree_start = s.start;
			f->feature = s.feature;
			f->threshold = s.threshold;
			f->left = s.left;
			f->right = s.right;
			f->default_left = s.dl;
			f->gain = s.gain;
			f->cover = s.cover;
			f->value = s.value;
			f->classes = NULL;
			f->nrows = 100;
			f->max_depth = 7;
			f->max_features = 5;
			f->max_bins = 255;
			f->learning_rate = kinds[ki] == MLX_TREE_GRADIENT_BOOSTING ? 0.125 : NAN;
			f->lambda = 1;
			f->min_child_weight = 1;
			f->subsample = kinds[ki] == MLX_TREE_GRADIENT_BOOSTING ? 1 : NAN;
			f->colsample = 1;
			EXPECT(mlx_tree_fit_check(f, 5, err, sizeof(err)),
				   "kind %d objective %d: %s", kinds[ki], objectives[oi], err);
			EXPECT(mlx_tree_pack(f, &tctx) == MLX_OK, "pack");
			EXPECT(f->packed != NULL && f->packed_value != NULL, "packed");
			for (int r = 0; r < 400; r++)
			{
				double		x[5];
				double		got[MAXW];
				double		want[MAXW];

				for (int j = 0; j < 5; j++)
				{
					/* quarters hit the thresholds exactly */
					double		u = rng_unif();

					x[j] = floor(rng_unif() * 20 - 10) / 4;
					if (r % 4 == 1 && u < 0.3)
						x[j] = NAN;
					else if (r % 4 == 2 && u < 0.2)
						x[j] = u < 0.1 ? INFINITY : -INFINITY;
				}
				mlx_tree_predict(f, x, got);
				ref_predict(f, x, want);
				for (int g = 0; g < f->ngroups; g++)
					EXPECT(near(got[g], want[g]),
						   "kind %d objective %d row %d group %d: %.17g, expected %.17g",
						   kinds[ki], objectives[oi], r, g, got[g], want[g]);
			}
			mlx_free(&tctx, f->packed);
			mlx_free(&tctx, f->packed_depth);
			mlx_free(&tctx, f->packed_value);
			f->packed = NULL;
		}
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* ---------- the fit check ---------- */

/* The check refuses fit with a message containing msg. */
static bool
refused(const mlx_tree_fit *fit, const char *msg)
{
	char		err[256];

	err[0] = '\0';
	EXPECT(!mlx_tree_fit_check(fit, 3, err, sizeof(err)), "accepted (%s)", msg);
	EXPECT(strstr(err, msg) != NULL, "message \"%s\" lacks \"%s\"", err, msg);
	return true;
}

static bool
t_check_shape(void)
{
	tsample		s;
	char		err[256];

#define SHAPE(kind, obj, field, bad, msg) \
	do { \
		make_tsample(&s, kind, obj); \
		s.fit.field = bad; \
		EXPECT(refused(&s.fit, msg), #field ": %s", case_reason); \
	} while (0)
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, kind, 4,
		  "tree model kind 4 is not known");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, kind, 0,
		  "tree model kind 0 is not known");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, objective, 4,
		  "decision tree objective 4 is not known");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, nfeat, 2,
		  "decision tree has 2 features but the model has 3");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, nclasses, 2,
		  "decision tree regression has 2 classes, expected 0");
	SHAPE(MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY, nclasses, 3,
		  "random forest binary classifier has 3 classes, expected 2");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS, nclasses, 2,
		  "gradient boosting multiclass classifier has 2 classes, expected 3 to 1000");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS, ngroups, 1,
		  "gradient boosting has 1 output groups, expected 3");
	SHAPE(MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY, ngroups, 2,
		  "random forest has 2 output groups, expected 1");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY, leaf_width, 2,
		  "gradient boosting has 2 values per leaf, expected 1");
	SHAPE(MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY, leaf_width, 1,
		  "random forest has 1 values per leaf, expected 2");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, leaf_width, 2,
		  "decision tree has 2 values per leaf, expected 1");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, ntrees, 0,
		  "decision tree has 0 trees, expected 1");
	SHAPE(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, ntrees, 0,
		  "random forest has 0 trees, expected 1 to 100000");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION, ntrees, -1,
		  "gradient boosting has -1 trees, expected 0 to 100000");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS, ntrees, 5,
		  "gradient boosting has 5 trees, not a whole number of rounds of 3");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, nnodes,
		  MLX_TREE_MAX_NODES + 1, "decision tree has 50000001 nodes");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, base_score, NULL,
		  "decision tree arrays are missing");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, cover, NULL,
		  "decision tree arrays are missing");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, nrows, -1,
		  "decision tree row counts are invalid (-1 rows, 3 skipped)");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION, best_iteration, -1,
		  "gradient boosting best iteration -1 is negative");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, max_depth, 31,
		  "training parameters are out of range (max_depth 31");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, max_features, 4,
		  "training parameters are out of range");
	SHAPE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, max_bins, 256,
		  "training parameters are out of range");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION, learning_rate, -0.5,
		  "training parameters are negative or infinite");
	SHAPE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION, lambda, INFINITY,
		  "training parameters are negative or infinite");
#undef SHAPE

	/* base scores: finite for boosting, 0 for the others */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS);
	s.base[2] = NAN;
	EXPECT(refused(&s.fit, "gradient boosting base score 3 is not finite"),
		   "%s", case_reason);
	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_MULTICLASS);
	s.base[1] = 0.5;
	EXPECT(refused(&s.fit, "random forest base score 2 is not 0"), "%s",
		   case_reason);
	s.base[1] = -0.0;
	EXPECT(mlx_tree_fit_check(&s.fit, 3, err, sizeof(err)), "-0: %s", err);
	EXPECT(!mlx_tree_fit_check(NULL, 3, err, sizeof(err)), "NULL fit accepted");
	return true;
}

static bool
t_check_nodes(void)
{
	tsample		s;

#define NODE(kind, obj, stmt, msg) \
	do { \
		make_tsample(&s, kind, obj); \
		stmt; \
		EXPECT(refused(&s.fit, msg), "%s: %s", #stmt, case_reason); \
	} while (0)
	/* tree starts */
	NODE(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.start[0] = 1,
		 "random forest trees span nodes 1 to 10, expected 0 to 10");
	NODE(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.start[2] = 9,
		 "random forest trees span nodes 0 to 9, expected 0 to 10");
	NODE(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.start[1] = 0,
		 "random forest tree 1 starts at node 0 and ends before node 0");
	NODE(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.start[1] = 11,
		 "random forest tree 1 starts at node 0 and ends before node 11");
	NODE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS,
		 (s.start[3] = 20, s.start[4] = 15),
		 "gradient boosting tree 4 starts at node 20 and ends before node 15");

	/* children */
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[0] = 5,
		 "decision tree tree 1 node 0 has children 5 and 2, expected 1 to 4");
	NODE(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.right[7] = 5,
		 "random forest tree 2 node 2 has children 3 and 5, expected 3 to 4");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[2] = 2,
		 "tree 1 node 2 has children 2 and 4, expected 3 to 4");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[2] = 0,
		 "tree 1 node 2 has children 0 and 4, expected 3 to 4");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.right[0] = -1,
		 "tree 1 node 0 has children 1 and -1");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[2] = 4,
		 "decision tree tree 1 node 4 has more than one parent");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.right[0] = 1,
		 "decision tree tree 1 node 1 has more than one parent");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION,
		 (s.feature[2] = -1, s.left[2] = s.right[2] = -1),
		 "decision tree tree 1 node 3 has no parent");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[1] = 3,
		 "decision tree tree 1 node 1 is a leaf but has children 3 and -1");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.right[4] = 0,
		 "tree 1 node 4 is a leaf but has children -1 and 0");

	/* features, thresholds, flags, figures, values */
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.feature[0] = 3,
		 "decision tree tree 1 node 0 splits on feature 3, expected -1 (a leaf) or 0 to 2");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.feature[3] = -2,
		 "tree 1 node 3 splits on feature -2");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.threshold[0] = NAN,
		 "decision tree tree 1 node 0 threshold is not finite");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.threshold[2] = INFINITY,
		 "tree 1 node 2 threshold is not finite");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.threshold[4] = -INFINITY,
		 "tree 1 node 4 threshold is not finite");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.dl[1] = 2,
		 "tree 1 node 1 default_left is 2, expected 0 or 1");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.gain[0] = NAN,
		 "tree 1 node 0 gain or cover is not finite");
	NODE(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.cover[3] = INFINITY,
		 "tree 1 node 3 gain or cover is not finite");
	NODE(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY, s.value[8] = NAN,
		 "gradient boosting tree 2 node 3 value 1 is not finite");
	NODE(MLX_TREE_RANDOM_FOREST, MLX_TREE_MULTICLASS, s.value[3 * 6 + 2] = -INFINITY,
		 "random forest tree 2 node 1 value 3 is not finite");
#undef NODE
	return true;
}

/*
 * A tree of n = 2m + 1 nodes in breadth-first order (node i has children
 * 2i + 1 and 2i + 2), large enough for the parent check to take several
 * windows; damage in a later window is found as in the first.
 */
static bool
t_check_large_tree(void)
{
	int32_t		m = 300000;
	int32_t		n = 2 * m + 1;
	int32_t    *feature = malloc((size_t) n * sizeof(int32_t));
	int32_t    *left = malloc((size_t) n * sizeof(int32_t));
	int32_t    *right = malloc((size_t) n * sizeof(int32_t));
	double	   *threshold = calloc((size_t) n, sizeof(double));
	double	   *zeros = calloc((size_t) n, sizeof(double));
	uint8_t    *dl = calloc((size_t) n, 1);
	int32_t		start[2] = {0, n};
	double		base = 0;
	mlx_tree_fit f;
	char		err[256];
	int32_t		i;
	bool		ok;
	double		x[3] = {1, 1, 1};

	EXPECT(feature && left && right && threshold && zeros && dl, "out of memory");
	for (i = 0; i < n; i++)
	{
		bool		leaf = i >= m;

		feature[i] = leaf ? -1 : i % 3;
		left[i] = leaf ? -1 : 2 * i + 1;
		right[i] = leaf ? -1 : 2 * i + 2;
	}
	memset(&f, 0, sizeof(f));
	f.kind = MLX_TREE_DECISION_TREE;
	f.objective = MLX_TREE_REGRESSION;
	f.nfeat = 3;
	f.ngroups = 1;
	f.leaf_width = 1;
	f.ntrees = 1;
	f.nnodes = n;
	f.base_score = &base;
	f.tree_start = start;
	f.feature = feature;
	f.threshold = threshold;
	f.left = left;
	f.right = right;
	f.default_left = dl;
	f.gain = zeros;
	f.cover = zeros;
	f.value = zeros;
	ok = mlx_tree_fit_check(&f, 3, err, sizeof(err));
	if (ok)
	{
		/* x >= 0 everywhere: always right, node 2i + 2 down to a leaf */
		i = mlx_tree_leaf(&f, 0, x);
		ok = i >= m && i < n;
		snprintf(err, sizeof(err), "leaf %d", (int) i);
	}
	if (ok)
	{
		/* node 550000 (third window) gets a second parent */
		left[270000] = 550000;
		ok = !mlx_tree_fit_check(&f, 3, err, sizeof(err)) &&
			strstr(err, "decision tree tree 1 node 550000 has more than one parent") != NULL;
		left[270000] = 2 * 270000 + 1;
	}
	if (ok)
	{
		/* node 300001 (second window) loses its parent to node 550001 */
		left[150000] = 550001;
		ok = !mlx_tree_fit_check(&f, 3, err, sizeof(err)) &&
			strstr(err, "decision tree tree 1 node 300001 has no parent") != NULL;
		left[150000] = 300001;
	}
	if (ok)
		ok = mlx_tree_fit_check(&f, 3, err, sizeof(err));
	free(feature);
	free(left);
	free(right);
	free(threshold);
	free(zeros);
	free(dl);
	EXPECT(ok, "%s", err);
	return true;
}

/* ---------- the model format ---------- */

static bool
t_round_trip_every_kind(void)
{
	int			ki;
	int			oi;

	for (ki = 0; ki < 3; ki++)
	{
		for (oi = 0; oi < 3; oi++)
		{
			tsample		s;

			make_tsample(&s, kinds[ki], objectives[oi]);
			EXPECT(tree_round_trip(&s.fit, names3, NULL, NULL),
				   "kind %d objective %d: %s", kinds[ki], objectives[oi],
				   case_reason);
			EXPECT(tree_round_trip(&s.fit, NULL, NULL, NULL),
				   "default names, kind %d objective %d: %s", kinds[ki],
				   objectives[oi], case_reason);
		}
	}
	EXPECT(counts.live == 0, "%ld allocations leaked", counts.live);
	return true;
}

static bool
t_round_trip_variants(void)
{
	tsample		s;
	static char longlab[MLX_MODEL_MAX_CATEGORY_LEN + 1];
	char	   *labs[3];

	/* boosting without trees, every figure at its bound or unrecorded */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS);
	s.fit.ntrees = 0;
	s.fit.nnodes = 0;
	s.start[0] = 0;
	s.fit.nrows = 0;
	s.fit.nskipped = INT64_MAX;
	s.fit.best_iteration = INT32_MAX;
	s.fit.max_depth = MLX_TREE_MAX_DEPTH;
	s.fit.max_features = 0;
	s.fit.max_bins = 0;
	s.fit.learning_rate = NAN;
	s.fit.lambda = -0.0;
	s.fit.min_child_weight = 1e300;
	s.base[1] = -1e300;
	EXPECT(tree_round_trip(&s.fit, names3, NULL, NULL), "no trees: %s", case_reason);

	/* leaves with their unused fields set; odd but finite numbers */
	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY);
	s.threshold[1] = -3.5;
	s.dl[4] = 1;
	s.gain[3] = -0.0;
	s.cover[8] = -1e-17;
	s.threshold[0] = 5e-324;
	s.value[3] = -0.0;
	EXPECT(tree_round_trip(&s.fit, names3, NULL, NULL), "leaf fields: %s",
		   case_reason);

	/* empty, longest and nearly equal class labels */
	memset(longlab, 'q', MLX_MODEL_MAX_CATEGORY_LEN);
	make_tsample(&s, MLX_TREE_DECISION_TREE, MLX_TREE_MULTICLASS);
	labs[0] = "";
	labs[1] = longlab;
	labs[2] = "Q";
	s.fit.classes = labs;
	EXPECT(tree_round_trip(&s.fit, names3, NULL, NULL), "labels: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * The sample gradient boosting binary classifier: 2 trees of 5 nodes, so
 * its body is 96 + 8 + 12 + 10 * 45 + 2 + 2 + 2 + 4 = 576 bytes: base
 * score at 96, tree starts at 104, feature 116, threshold 156, left 236,
 * right 276, default_left 316, gain 326, cover 406, value 486, labels 566
 * ("no" 566, "yés" 570).
 */
#define GB_LEN 576
#define GB_FEATURE 116
#define GB_THRESHOLD 156
#define GB_LEFT 236
#define GB_RIGHT 276
#define GB_DL 316
#define GB_VALUE 486
#define GB_LABELS 566

static bool
t_documented_layout(void)
{
	tsample		s;
	uint8_t    *a;
	uint8_t    *b;
	size_t		alen;
	size_t		blen;
	uint8_t		w[4096];
	size_t		wlen;
	builder		x;
	size_t		n;
	mlx_model	m;
	int			ki;
	int			oi;
	static const uint8_t fixed[56] = {
		3, 2, 0, 0, 0, 0, 0, 2,	/* boosting, binary, 2 classes */
		0, 0, 0, 1, 0, 0, 0, 1,	/* 1 group, 1 value per leaf */
		0, 0, 0, 2, 0, 0, 0, 10,	/* 2 trees, 10 nodes */
		0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 3,	/* rows */
		0, 0, 0, 2, 0, 0, 0, 6,	/* best iteration 2, max_depth 6 */
		0, 0, 0, 3, 0, 0, 0, 255	/* max_features 3, max_bins 255 */
	};
	static const uint8_t eighth[8] = {0x3f, 0xc0, 0, 0, 0, 0, 0, 0};
	static const uint8_t starts[12] = {0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 10};
	static const uint8_t labels[10] = {0, 2, 'n', 'o', 0, 4, 'y', 0xc3, 0xa9, 's'};

	a = encode_tsample(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY, &alen);
	EXPECT(a != NULL && alen == TREE_BODY + GB_LEN + 4, "encode: %zu bytes", alen);
	EXPECT(a[6] == 0 && a[7] == 12, "algorithm id %d", a[7]);
	EXPECT(a[TREE_BODY - 8] == 0 && a[TREE_BODY - 7] == 11 &&
		   get32(a + TREE_BODY - 4) == GB_LEN, "tree section header differs");
	EXPECT(memcmp(a + TREE_BODY, fixed, 56) == 0, "fixed part differs");
	EXPECT(memcmp(a + TREE_BODY + 56, eighth, 8) == 0, "learning rate differs");
	EXPECT(memcmp(a + TREE_BODY + 104, starts, 12) == 0, "tree starts differ");
	EXPECT(get32(a + TREE_BODY + GB_FEATURE) == 0 &&
		   get32(a + TREE_BODY + GB_FEATURE + 4) == 0xffffffffu &&
		   get32(a + TREE_BODY + GB_FEATURE + 28) == 1, "features differ");
	EXPECT(a[TREE_BODY + GB_THRESHOLD] == 0x3f && a[TREE_BODY + GB_THRESHOLD + 1] == 0xf8,
		   "threshold 1.5 not at %d", GB_THRESHOLD);
	EXPECT(get32(a + TREE_BODY + GB_LEFT) == 1 &&
		   get32(a + TREE_BODY + GB_RIGHT) == 2 &&
		   get32(a + TREE_BODY + GB_LEFT + 8) == 3 &&
		   get32(a + TREE_BODY + GB_RIGHT + 8) == 4, "children differ");
	EXPECT(a[TREE_BODY + GB_DL] == 1 && a[TREE_BODY + GB_DL + 2] == 0,
		   "default_left differs");
	EXPECT(a[TREE_BODY + GB_VALUE + 8] == 0xbf && a[TREE_BODY + GB_VALUE + 9] == 0xc0,
		   "value -1/8 of node 1 not at %d", GB_VALUE + 8);
	EXPECT(memcmp(a + TREE_BODY + GB_LABELS, labels, 10) == 0, "labels differ");

	/* deterministic, and the reserve only shifts the bytes */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY);
	EXPECT(mlx_model_from_tree(&s.fit, names3, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_encode(&m, &tctx, 4, &b, &blen) == MLX_OK, "encode 2");
	mlx_model_free_names(&m, &tctx);
	EXPECT(blen == alen && memcmp(a, b + 4, alen) == 0, "reserve changed the bytes");
	mlx_free(&tctx, b);
	mlx_free(&tctx, a);

	/* the test-side writer gives the encoder's bytes for every sample */
	for (ki = 0; ki < 3; ki++)
	{
		for (oi = 0; oi < 3; oi++)
		{
			make_tsample(&s, kinds[ki], objectives[oi]);
			a = encode_tsample(kinds[ki], objectives[oi], &alen);
			EXPECT(a != NULL, "encode %d %d", kinds[ki], objectives[oi]);
			wlen = w_tree(w, &s.fit);
			n = build_tree_model(&x, alg_of(kinds[ki]), w, wlen);
			b = NULL;
			if (n != alen || memcmp(x.b, a, n) != 0)
				b = a;
			mlx_free(&tctx, a);
			EXPECT(b == NULL, "kind %d objective %d differs from the documented layout",
				   kinds[ki], objectives[oi]);
		}
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Decoding the fit written by w_tree fails with msg. */
static bool
crafted_rejected(const mlx_tree_fit *f, const char *msg)
{
	builder		x;
	size_t		n = build_fit(&x, f);

	return decode_expect(x.b, n, MLX_ECORRUPT, msg);
}

/*
 * Damage the decoder must find, written as a consistent section by w_tree
 * (so that the framing is right and the field checks speak).
 */
static bool
t_decoder_rejects_crafted_fits(void)
{
	tsample		s;
	builder		x;
	size_t		n;

#define CRAFTED(kind, obj, stmt, msg) \
	do { \
		make_tsample(&s, kind, obj); \
		stmt; \
		EXPECT(crafted_rejected(&s.fit, msg), "%s: %s", #stmt, case_reason); \
	} while (0)
	/* the sample itself is accepted */
	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_MULTICLASS);
	n = build_fit(&x, &s.fit);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "sample: %s", case_reason);

	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[0] = 5,
			"decision tree tree 1 node 0 has children 5 and 2, expected 1 to 4");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.right[0] = 99999,
			"tree 1 node 0 has children 1 and 99999");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.left[7] = 1,
			"random forest tree 2 node 2 has children 1 and 4, expected 3 to 4");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY, s.right[2] = 2,
			"tree 1 node 2 has children 3 and 2");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS, s.right[20] = 1,
			"gradient boosting tree 5 node 1 has more than one parent");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_BINARY, s.left[2] = 4,
			"decision tree tree 1 node 4 has more than one parent");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.left[3] = 4,
			"decision tree tree 1 node 3 is a leaf but has children 4 and -1");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION,
			(s.feature[1] = 2, s.left[1] = 3, s.right[1] = 4),
			"decision tree tree 1 node 3 has more than one parent");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.feature[0] = 3,
			"decision tree tree 1 node 0 splits on feature 3, expected -1 (a leaf) or 0 to 2");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.feature[2] = -7,
			"tree 1 node 2 splits on feature -7");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.threshold[2] = NAN,
			"decision tree tree 1 node 2 threshold is not finite");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.threshold[0] = INFINITY,
			"tree 1 node 0 threshold is not finite");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION,
			(s.fit.leaf_width = 2, s.fit.classes = NULL),
			"random forest has 2 values per leaf, expected 1");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_MULTICLASS, s.fit.leaf_width = 1,
			"random forest has 1 values per leaf, expected 3");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS, s.fit.leaf_width = 3,
			"gradient boosting has 3 values per leaf, expected 1");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.start[1] = 0,
			"random forest tree 1 starts at node 0 and ends before node 0");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS,
			(s.start[2] = 12, s.start[3] = 11),
			"gradient boosting tree 3 starts at node 12 and ends before node 11");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION, s.start[0] = 1,
			"random forest trees span nodes 1 to 10, expected 0 to 10");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.dl[0] = 255,
			"tree 1 node 0 default_left is 255, expected 0 or 1");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.value[1] = NAN,
			"decision tree tree 1 node 1 value 1 is not finite");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.base[0] = 1,
			"decision tree base score 1 is not 0");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY, s.base[0] = INFINITY,
			"gradient boosting base score 1 is not finite");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION,
			(s.fit.ntrees = 2, s.fit.nnodes = 10, s.start[2] = 10,
			 memcpy(s.feature + 5, s.feature, 5 * sizeof(int32_t)),
			 memcpy(s.left + 5, s.left, 5 * sizeof(int32_t)),
			 memcpy(s.right + 5, s.right, 5 * sizeof(int32_t))),
			"decision tree has 2 trees, expected 1");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_REGRESSION,
			(s.fit.ntrees = 0, s.fit.nnodes = 0, s.start[0] = 0),
			"random forest has 0 trees, expected 1 to 100000");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS,
			(s.fit.ntrees = 4, s.fit.nnodes = 20),
			"gradient boosting has 4 trees, not a whole number of rounds of 3");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY, s.fit.ngroups = 2,
			"gradient boosting has 2 output groups, expected 1");
	CRAFTED(MLX_TREE_RANDOM_FOREST, MLX_TREE_MULTICLASS,
			(s.fit.objective = MLX_TREE_BINARY),
			"random forest binary classifier has 3 classes, expected 2");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_BINARY, s.labels[1] = "no",
			"decision tree class labels 1 and 2 are equal");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_BINARY, s.labels[1] = "\xc3",
			"decision tree class label 2 is not valid UTF-8");
	CRAFTED(MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION, s.fit.nrows = -1,
			"decision tree row counts are invalid (-1 rows, 3 skipped)");
	CRAFTED(MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_REGRESSION, s.fit.subsample = -1,
			"gradient boosting training parameters are negative or infinite");
#undef CRAFTED
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Framing errors, found before anything is allocated. */
static bool
t_decoder_rejects_framing(void)
{
	tsample		s;
	uint8_t		w[4096];
	size_t		wlen;
	builder		x;
	size_t		n;

	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY);
	wlen = w_tree(w, &s.fit);
	EXPECT(wlen == GB_LEN, "body of %zu bytes", wlen);

#define FRAMED(alg, len, msg) \
	do { \
		n = build_tree_model(&x, alg, w, len); \
		EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, msg), "%s", case_reason); \
	} while (0)
	/* the kind must be the algorithm's */
	FRAMED(MLX_ALG_RANDOM_FOREST, wlen,
		   "tree model kind 3 does not match its algorithm random_forest");
	FRAMED(MLX_ALG_DECISION_TREE, wlen,
		   "tree model kind 3 does not match its algorithm decision_tree");
	w[0] = 0;
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen,
		   "tree model kind 0 does not match its algorithm gradient_boosting");
	w[0] = 3;

	/* truncated: fixed part, arrays, labels; and one byte too many */
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, 95,
		   "gradient boosting section has 95 bytes, expected at least 96");
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, 0,
		   "gradient boosting section has 0 bytes, expected at least 96");
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, GB_LABELS + 3,
		   "gradient boosting section has 569 bytes, expected at least 570 for 2 trees of 10 nodes in all, 1 values per leaf and 2 classes");
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, GB_LEN - 1,
		   "gradient boosting class label 2 runs past the end of its section");
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, GB_LABELS + 5,
		   "gradient boosting class label 2 runs past the end of its section");
	w[GB_LEN] = 'x';
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, GB_LEN + 1,
		   "gradient boosting section has 577 bytes, expected 576 for 2 trees of 10 nodes in all, 1 values per leaf, 2 classes and 10 bytes of labels");

	/* fixed fields */
	w[1] = 4;
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "gradient boosting objective 4 is not known");
	w[1] = 0;
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "gradient boosting objective 0 is not known");
	w[1] = 2;
	w[3] = 1;
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen,
		   "gradient boosting section reserved bytes are not zero");
	w[3] = 0;
	put32(w + 20, MLX_TREE_MAX_NODES + 1);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen,
		   "gradient boosting counts are out of range (2 classes, 1 groups, 1 values per leaf, 2 trees, 50000001 nodes)");
	put32(w + 20, 0xffffffffu);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "4294967295 nodes)");
	put32(w + 20, 11);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen,
		   "gradient boosting section has 576 bytes, expected at least 615 for 2 trees of 11 nodes");
	put32(w + 20, 10);
	put32(w + 16, MLX_TREE_MAX_TREES + 1);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "100001 trees, 10 nodes)");
	put32(w + 16, 2);
	put32(w + 4, MLX_TREE_MAX_CLASSES + 1);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "(1001 classes,");
	put32(w + 4, 2);
	put32(w + 8, 0);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "0 groups,");
	put32(w + 8, 1);
	put32(w + 12, 0);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "0 values per leaf,");
	put32(w + 12, 1001);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen, "1001 values per leaf,");
	put32(w + 12, 1);
	n = build_tree_model(&x, MLX_ALG_GRADIENT_BOOSTING, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "restored: %s", case_reason);

	/* a huge count claimed by a short section is refused from the length */
	put32(w + 20, MLX_TREE_MAX_NODES);
	put32(w + 12, MLX_TREE_MAX_CLASSES);
	FRAMED(MLX_ALG_GRADIENT_BOOSTING, wlen,
		   "gradient boosting section has 576 bytes, expected at least 401850000120 for");
#undef FRAMED
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* Every truncation of an encoded value is rejected as corrupt. */
static bool
every_truncation_rejected(const uint8_t *buf, size_t len)
{
	size_t		n;

	for (n = 0; n < len; n++)
	{
		if (!decode_expect(buf, n, MLX_ECORRUPT, NULL))
		{
			snprintf(case_reason + strlen(case_reason),
					 sizeof(case_reason) - strlen(case_reason),
					 " at length %zu", n);
			return false;
		}
	}
	return true;
}

/*
 * Every byte flipped three ways: without a CRC repair always rejected;
 * with it, rejected cleanly or decoded into a model that re-encodes to the
 * very same bytes (a section tag turned optional, >= 0x8000, leaves no
 * model section and is rejected).  buf is restored before returning.
 */
static bool
flips_rejected_or_canonical(uint8_t *buf, size_t len)
{
	static const uint8_t masks[3] = {0x01, 0x80, 0xFF};
	size_t		i;
	int			f;
	int			accepted = 0;
	long		live = counts.live;

	for (i = 0; i < len; i++)
	{
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
				snprintf(case_reason + strlen(case_reason),
						 sizeof(case_reason) - strlen(case_reason),
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
			EXPECT(counts.live == live, "byte %zu mask 0x%02x: leak", i, masks[f]);
		}
	}
	EXPECT(accepted > 0, "no resealed flip was accepted");
	EXPECT(decode_expect(buf, len, MLX_OK, NULL), "restored: %s", case_reason);
	return true;
}

static bool
t_truncations_and_flips(void)
{
	int			ki;
	int			oi;

	for (ki = 0; ki < 3; ki++)
	{
		for (oi = 0; oi < 3; oi++)
		{
			size_t		len;
			uint8_t    *buf = encode_tsample(kinds[ki], objectives[oi], &len);
			bool		ok;

			EXPECT(buf != NULL, "encode");
			ok = every_truncation_rejected(buf, len) &&
				flips_rejected_or_canonical(buf, len);
			mlx_free(&tctx, buf);
			EXPECT(ok, "kind %d objective %d: %s", kinds[ki], objectives[oi],
				   case_reason);
		}
	}
	EXPECT(counts.live == 0, "leak");
	return true;
}

/*
 * The sections of other algorithms: a tree section in a model of another
 * algorithm, and a tree algorithm without its section.
 */
static bool
t_sections(void)
{
	tsample		s;
	uint8_t		w[4096];
	size_t		wlen;
	builder		x;
	size_t		n;
	static const uint8_t feat[9] = {0, 1, 'a', 0, 1, 'b', 0, 1, 'c'};

	/* the sections are matched to the algorithm before any is parsed */
	make_tsample(&s, MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION);
	wlen = w_tree(w, &s.fit);
	b_header(&x, MLX_ALG_LINEAR_REGRESSION, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, sizeof(feat));
	b_section(&x, MLX_SEC_LINREG, w, 16);
	b_section(&x, MLX_SEC_TREE, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a tree ensemble section but its algorithm is linear_regression"),
		   "%s", case_reason);
	b_header(&x, MLX_ALG_DECISION_TREE, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, sizeof(feat));
	b_section(&x, MLX_SEC_SOFTMAX, w, 16);
	b_section(&x, MLX_SEC_TREE, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has a multinomial logistic regression section but its algorithm is decision_tree"),
		   "%s", case_reason);
	b_header(&x, MLX_ALG_DECISION_TREE, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, sizeof(feat));
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT, "model has no tree ensemble section"),
		   "%s", case_reason);
	b_header(&x, MLX_ALG_DECISION_TREE, 3);
	b_section(&x, MLX_SEC_FEATURES, feat, sizeof(feat));
	b_section(&x, MLX_SEC_TREE, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_TREE, w, (uint32_t) wlen);
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_ECORRUPT,
						 "model has more than one tree ensemble section"),
		   "%s", case_reason);

	/* sections in any order; an algorithm id past the tree ones */
	b_header(&x, MLX_ALG_DECISION_TREE, 3);
	b_section(&x, MLX_SEC_TREE, w, (uint32_t) wlen);
	b_section(&x, MLX_SEC_FEATURES, feat, sizeof(feat));
	n = b_finish(&x);
	EXPECT(decode_expect(x.b, n, MLX_OK, NULL), "reordered: %s", case_reason);
	n = build_tree_model(&x, 13, w, wlen);
	EXPECT(decode_expect(x.b, n, MLX_EUNSUPPORTED, "model algorithm 13 is not supported"),
		   "%s", case_reason);
	EXPECT(strcmp(mlx_algorithm_name(MLX_ALG_DECISION_TREE), "decision_tree") == 0 &&
		   strcmp(mlx_algorithm_name(MLX_ALG_RANDOM_FOREST), "random_forest") == 0 &&
		   strcmp(mlx_algorithm_name(MLX_ALG_GRADIENT_BOOSTING), "gradient_boosting") == 0 &&
		   mlx_algorithm_name(13) == NULL, "algorithm names");
	EXPECT(MLX_ALG_DECISION_TREE == 10 && MLX_ALG_RANDOM_FOREST == 11 &&
		   MLX_ALG_GRADIENT_BOOSTING == 12 && MLX_SEC_TREE == 11, "ids renumbered");
	return true;
}

static bool
t_encoder_rejects(void)
{
	tsample		s;
	mlx_model	m;
	uint8_t    *out;
	size_t		len;
	char	   *js;
	char	   *dup[2] = {"no", "no"};
	char	   *nolab[2] = {"no", NULL};

	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_BINARY);
	EXPECT(mlx_model_from_tree(NULL, NULL, &tctx, &m) == MLX_EINVAL,
		   "NULL fit accepted");
	s.fit.kind = 0;
	EXPECT(mlx_model_from_tree(&s.fit, NULL, &tctx, &m) == MLX_EINVAL &&
		   m.feature_names == NULL, "kind 0 accepted");
	s.fit.kind = MLX_TREE_RANDOM_FOREST;
	s.fit.nfeat = 0;
	EXPECT(mlx_model_from_tree(&s.fit, NULL, &tctx, &m) == MLX_EINVAL &&
		   m.feature_names == NULL, "0 features accepted");
	s.fit.nfeat = 3;
	EXPECT(mlx_model_from_tree(&s.fit, names3, &tctx, &m) == MLX_OK, "build");
	EXPECT(m.algorithm == MLX_ALG_RANDOM_FOREST && m.nfeat == 3 &&
		   m.inputs == NULL && m.u.tree.value == s.value &&
		   m.u.tree.classes == s.fit.classes, "built model differs");
#define REFUSED(what) \
	do { \
		out = (uint8_t *) 1; \
		EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_EINVAL && \
			   out == NULL, "%s encoded", what); \
		js = (char *) 1; \
		EXPECT(mlx_model_describe_json(&m, &tctx, &js) == MLX_EINVAL && js == NULL, \
			   "%s described", what); \
	} while (0)
	m.u.tree.kind = MLX_TREE_GRADIENT_BOOSTING;
	REFUSED("kind of another algorithm");
	m.u.tree.kind = MLX_TREE_RANDOM_FOREST;
	m.algorithm = MLX_ALG_DECISION_TREE;
	REFUSED("algorithm of another kind");
	m.algorithm = MLX_ALG_RANDOM_FOREST;
	s.left[0] = 0;
	REFUSED("a cycle");
	s.left[0] = 1;
	m.u.tree.classes = dup;
	REFUSED("equal labels");
	m.u.tree.classes = nolab;
	REFUSED("NULL label");
	m.u.tree.classes = NULL;
	REFUSED("no labels");
	m.u.tree.classes = s.fit.classes;
	m.u.tree.nfeat = 2;
	REFUSED("nfeat mismatch");
	m.u.tree.nfeat = 3;
#undef REFUSED
	EXPECT(mlx_model_encode(&m, &tctx, 0, &out, &len) == MLX_OK, "restored model");
	mlx_free(&tctx, out);
	mlx_model_free_names(&m, &tctx);

	/* a regression's labels are not looked at */
	make_tsample(&s, MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION);
	s.fit.classes = dup;
	EXPECT(tree_round_trip(&s.fit, names3, NULL, NULL), "regression: %s", case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* ---------- NaN imputation values ---------- */

/*
 * Inputs of k = 3 features: numeric "x" (impute NaN), boolean "b"
 * (impute NaN), array "v" of 1 (impute 0.5); target "y".
 */
typedef struct nsample
{
	double		imp_x[1];
	double		imp_b[1];
	double		imp_v[1];
	mlx_input	in[3];
	mlx_inputs	inputs;
} nsample;

static char *nnames[3] = {"x", "b", "v[1]"};

static void
make_nsample(nsample *s)
{
	memset(s, 0, sizeof(*s));
	s->imp_x[0] = NAN;
	s->imp_b[0] = NAN;
	s->imp_v[0] = 0.5;
	s->in[0].name = "x";
	s->in[0].kind = MLX_INPUT_NUMERIC;
	s->in[0].nfeat = 1;
	s->in[0].impute = s->imp_x;
	s->in[1].name = "b";
	s->in[1].kind = MLX_INPUT_BOOLEAN;
	s->in[1].nfeat = 1;
	s->in[1].impute = s->imp_b;
	s->in[2].name = "v";
	s->in[2].kind = MLX_INPUT_ARRAY;
	s->in[2].nfeat = 1;
	s->in[2].impute = s->imp_v;
	s->inputs.ninputs = 3;
	s->inputs.inputs = s->in;
	s->inputs.target = "y";
	s->inputs.target_kind = MLX_INPUT_CATEGORICAL;
}

/* A valid k = 3 linear regression with made-up numbers. */
typedef struct lsample
{
	mlx_linreg_fit fit;
	double		arrays[4][4];
} lsample;

static void
make_lsample(lsample *s)
{
	int			i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 4; i++)
	{
		s->arrays[0][i] = 0.5 * i - 1;
		s->arrays[1][i] = 0.25;
		s->arrays[2][i] = s->arrays[0][i] / 0.25;
		s->arrays[3][i] = 0.5;
	}
	s->fit.nfeat = 3;
	s->fit.intercept = true;
	s->fit.nrows = 40;
	s->fit.rank = 3;
	s->fit.df_resid = 36;
	s->fit.rss = 2;
	s->fit.tss = 10;
	s->fit.r2 = 0.8;
	s->fit.adj_r2 = 0.78;
	s->fit.sigma = 0.25;
	s->fit.coef = s->arrays[0];
	s->fit.se = s->arrays[1];
	s->fit.tval = s->arrays[2];
	s->fit.pval = s->arrays[3];
}

/* Encode the linear sample with inputs; the status of the encoder. */
static mlx_status
encode_linreg_with(mlx_inputs *in, uint8_t **out, size_t *len)
{
	lsample		l;
	mlx_model	m;
	mlx_status	st;

	make_lsample(&l);
	*out = NULL;
	st = mlx_model_from_linreg(&l.fit, nnames, &tctx, &m);
	if (st != MLX_OK)
		return st;
	m.inputs = in;
	st = mlx_model_encode(&m, &tctx, 0, out, len);
	mlx_model_free_names(&m, &tctx);
	return st;
}

/* Offset of the first imputation value (input "x") in an encoding. */
static size_t
impute_offset(const uint8_t *buf)
{
	size_t		pos = 24;

	pos += 8 + get32(buf + pos + 4);	/* features */
	/* inputs body: count 4, then "x": u16 1, 'x', kind, reserved, nfeat */
	return pos + 8 + 4 + 3 + 2 + 4;
}

static bool
t_nan_impute_tree_only(void)
{
	nsample		ns;
	tsample		s;
	uint8_t    *buf;
	size_t		len;
	size_t		off;
	mlx_model	m;
	char	   *json;
	char	  **names;
	int			ki;
	static const uint8_t nan_bytes[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
	static const uint8_t inf_bytes[8] = {0x7f, 0xf0, 0, 0, 0, 0, 0, 0};

	/* every tree algorithm keeps missing values; NaN imputes round-trip */
	for (ki = 0; ki < 3; ki++)
	{
		make_nsample(&ns);
		make_tsample(&s, kinds[ki], MLX_TREE_MULTICLASS);
		EXPECT(mlx_algorithm_keeps_missing(alg_of(kinds[ki])), "keeps missing");
		EXPECT(tree_round_trip(&s.fit, nnames, &ns.inputs, NULL),
			   "kind %d with NaN imputes: %s", kinds[ki], case_reason);
	}

	/* the decoded imputation values are NaN, and described as null */
	make_nsample(&ns);
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY);
	EXPECT(encode_tree_with(&s.fit, nnames, &ns.inputs, &buf, &len) == MLX_OK,
		   "encode");
	off = impute_offset(buf);
	EXPECT(memcmp(buf + off, nan_bytes, 8) == 0, "NaN not at offset %zu", off);
	EXPECT(mlx_model_decode(buf, len, &tctx, &m, NULL, 0) == MLX_OK, "decode");
	EXPECT(isnan(m.inputs->inputs[0].impute[0]) &&
		   isnan(m.inputs->inputs[1].impute[0]) &&
		   m.inputs->inputs[2].impute[0] == 0.5, "imputation values differ");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strstr(json, "{\"name\":\"x\",\"kind\":\"numeric\",\"n_features\":1,\"impute\":[null]}") != NULL,
		   "json: %s", json);
	mlx_free(&tctx, json);
	mlx_model_free(&m, &tctx);

	/* infinity is refused for trees too, by the decoder and the encoder */
	memcpy(buf + off, inf_bytes, 8);
	reseal(buf, len);
	EXPECT(decode_expect(buf, len, MLX_ECORRUPT, "input 1 imputation value 1 is not finite"),
		   "tree with infinity: %s", case_reason);
	mlx_free(&tctx, buf);
	ns.imp_x[0] = -INFINITY;
	EXPECT(encode_tree_with(&s.fit, nnames, &ns.inputs, &buf, &len) == MLX_EINVAL &&
		   buf == NULL, "tree with infinity encoded");
	ns.imp_x[0] = NAN;
	ns.imp_v[0] = INFINITY;
	EXPECT(encode_tree_with(&s.fit, nnames, &ns.inputs, &buf, &len) == MLX_EINVAL,
		   "tree with infinite array impute encoded");
	ns.imp_v[0] = 0.5;
	ns.imp_b[0] = 1.5;
	EXPECT(encode_tree_with(&s.fit, nnames, &ns.inputs, &buf, &len) == MLX_EINVAL,
		   "tree with boolean impute 1.5 encoded");

	/* other algorithms refuse NaN: encoder and decoder */
	make_nsample(&ns);
	EXPECT(!mlx_algorithm_keeps_missing(MLX_ALG_LINEAR_REGRESSION) &&
		   !mlx_algorithm_keeps_missing(MLX_ALG_SOFTMAX_REGRESSION) &&
		   !mlx_algorithm_keeps_missing(0), "keeps missing for non-trees");
	EXPECT(encode_linreg_with(&ns.inputs, &buf, &len) == MLX_EINVAL && buf == NULL,
		   "linear regression with NaN imputes encoded");
	ns.imp_x[0] = 41.5;
	ns.imp_b[0] = 0.25;
	EXPECT(encode_linreg_with(&ns.inputs, &buf, &len) == MLX_OK, "finite imputes");
	off = impute_offset(buf);
	memcpy(buf + off, nan_bytes, 8);
	reseal(buf, len);
	EXPECT(decode_expect(buf, len, MLX_ECORRUPT, "input 1 imputation value 1 is not finite"),
		   "linear regression with NaN: %s", case_reason);
	mlx_free(&tctx, buf);

	/* feature names do not depend on the imputation values */
	make_nsample(&ns);
	EXPECT(mlx_inputs_feature_names(&ns.inputs, &tctx, &names) == MLX_OK,
		   "names of NaN inputs");
	EXPECT(strcmp(names[0], "x") == 0 && strcmp(names[2], "v[1]") == 0, "names");
	mlx_free(&tctx, names);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* ---------- JSON ---------- */

static bool
t_describe_json(void)
{
	tsample		s;
	mlx_model	m;
	char	   *json;
	const char *dt =
	"{\"algorithm\":\"decision_tree\",\"format_version\":1,\"n_features\":3,"
	"\"features\":[\"a\",\"b\",\"c\"],\"objective\":\"regression\","
	"\"n_trees\":1,\"n_nodes\":5,\"n_leaves\":3,\"max_depth_reached\":2,"
	"\"n_rows\":100,\"n_skipped\":3,\"best_iteration\":0,\"max_depth\":6,"
	"\"max_features\":3,\"max_bins\":255,\"learning_rate\":null,\"lambda\":1,"
	"\"min_child_weight\":1,\"subsample\":null,\"colsample\":1,"
	"\"feature_importance\":{\"gain\":{\"a\":4,\"c\":2},"
	"\"splits\":{\"a\":1,\"c\":1}}}";
	const char *gb =
	"{\"algorithm\":\"gradient_boosting\",\"format_version\":1,\"n_features\":3,"
	"\"features\":[\"a\",\"b\",\"c\"],\"objective\":\"binary\","
	"\"n_classes\":2,\"classes\":[\"no\",\"y\xc3\xa9s\"],"
	"\"n_trees\":2,\"n_nodes\":10,\"n_leaves\":6,\"max_depth_reached\":2,"
	"\"base_score\":[-0.25],"
	"\"n_rows\":100,\"n_skipped\":3,\"best_iteration\":2,\"max_depth\":6,"
	"\"max_features\":3,\"max_bins\":255,\"learning_rate\":0.125,\"lambda\":1,"
	"\"min_child_weight\":1,\"subsample\":0.75,\"colsample\":1,"
	"\"feature_importance\":{\"gain\":{\"a\":4,\"b\":7.5,\"c\":2},"
	"\"splits\":{\"a\":1,\"b\":2,\"c\":1}}}";
	const char *rf =
	"{\"algorithm\":\"random_forest\",\"format_version\":1,\"n_features\":3,"
	"\"features\":[\"a\",\"b\",\"c\"],\"objective\":\"multiclass\","
	"\"n_classes\":3,\"classes\":[\"a\",\"\",\"c\\\"\"],"
	"\"n_trees\":2,\"n_nodes\":10,\"n_leaves\":6,\"max_depth_reached\":4,";
	const char *empty =
	"\"max_depth_reached\":0,\"base_score\":[-0.25,0,0.25],";

	make_tsample(&s, MLX_TREE_DECISION_TREE, MLX_TREE_REGRESSION);
	EXPECT(mlx_model_from_tree(&s.fit, names3, &tctx, &m) == MLX_OK, "build");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe");
	EXPECT(strcmp(json, dt) == 0, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);

	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_BINARY);
	EXPECT(mlx_model_from_tree(&s.fit, names3, &tctx, &m) == MLX_OK, "build 2");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 2");
	EXPECT(strcmp(json, gb) == 0, "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);

	/*
	 * A forest of a single leaf and a chain of 9 nodes: node 2d of the
	 * chain splits feature b into leaf 2d + 1 and node 2d + 2, down to
	 * leaf 8 at depth 4; 6 leaves in all, 4 splits on b of gain 1.
	 */
	make_tsample(&s, MLX_TREE_RANDOM_FOREST, MLX_TREE_MULTICLASS);
	s.start[1] = 1;
	set_leaf(&s, 0);
	{
		int32_t		i;

		/* nodes 1..9 relative 0..8: node 2d splits to 2d + 1 (leaf), 2d + 2 */
		for (i = 0; i < 9; i++)
		{
			if (i % 2 == 0 && i < 8)
				set_split(&s, 1 + i, 1, 0.5 * i, i + 1, i + 2, 0, 1);
			else
				set_leaf(&s, 1 + i);
			set_values(&s, 1 + i, 1, i % 5);
		}
	}
	EXPECT(mlx_model_from_tree(&s.fit, names3, &tctx, &m) == MLX_OK, "build 3");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 3");
	EXPECT(strncmp(json, rf, strlen(rf)) == 0, "got %s", json);
	EXPECT(strstr(json, "\"feature_importance\":{\"gain\":{\"b\":4},\"splits\":{\"b\":4}}}") != NULL,
		   "got %s", json);
	EXPECT(strstr(json, "base_score") == NULL, "forest has a base score: %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);

	/* boosting without trees: empty importance */
	make_tsample(&s, MLX_TREE_GRADIENT_BOOSTING, MLX_TREE_MULTICLASS);
	s.fit.ntrees = 0;
	s.fit.nnodes = 0;
	s.start[0] = 0;
	EXPECT(mlx_model_from_tree(&s.fit, names3, &tctx, &m) == MLX_OK, "build 4");
	EXPECT(mlx_model_describe_json(&m, &tctx, &json) == MLX_OK, "describe 4");
	EXPECT(strstr(json, empty) != NULL &&
		   strstr(json, "\"feature_importance\":{\"gain\":{},\"splits\":{}}}") != NULL,
		   "got %s", json);
	mlx_free(&tctx, json);
	mlx_model_free_names(&m, &tctx);
	EXPECT(counts.live == 0, "leak");
	return true;
}

/* ---------- allocation failures ---------- */

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

static uint8_t *enomem_value;
static size_t enomem_len;
static int	enomem_kind;
static int	enomem_objective;

static mlx_status
op_encode(void)
{
	size_t		len;
	uint8_t    *buf = encode_tsample(enomem_kind, enomem_objective, &len);

	if (buf == NULL)
		return MLX_ENOMEM;
	mlx_free(&tctx, buf);
	return MLX_OK;
}

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
	int			ki;
	int			oi;
	bool		ok = true;

	for (ki = 0; ok && ki < 3; ki++)
	{
		for (oi = 0; ok && oi < 3; oi++)
		{
			enomem_kind = kinds[ki];
			enomem_objective = objectives[oi];
			ok = enomem_sweep("encode", op_encode);
			if (!ok)
				break;
			enomem_value = encode_tsample(kinds[ki], objectives[oi], &enomem_len);
			EXPECT(enomem_value != NULL, "encode");
			ok = enomem_sweep("decode", op_decode) &&
				enomem_sweep("describe", op_describe);
			mlx_free(&tctx, enomem_value);
		}
	}
	EXPECT(ok, "kind %d objective %d: %s", enomem_kind, enomem_objective,
		   case_reason);
	EXPECT(counts.live == 0, "leak");
	return true;
}

int
main(void)
{
	run("predict_decision_tree_by_hand", t_predict_decision_tree_by_hand);
	run("predict_forest_by_hand", t_predict_forest_by_hand);
	run("predict_boosting_by_hand", t_predict_boosting_by_hand);
	run("predict_matches_reference_walk", t_predict_matches_reference);
	run("packed_matches_reference_walk", t_packed_matches_reference);
	run("check_shape_and_figures", t_check_shape);
	run("check_nodes", t_check_nodes);
	run("check_large_tree_parent_windows", t_check_large_tree);
	run("round_trip_every_kind_and_objective", t_round_trip_every_kind);
	run("round_trip_variants", t_round_trip_variants);
	run("documented_layout_deterministic", t_documented_layout);
	run("decoder_rejects_crafted_fits", t_decoder_rejects_crafted_fits);
	run("decoder_rejects_framing_and_truncation", t_decoder_rejects_framing);
	run("every_truncation_and_byte_flip", t_truncations_and_flips);
	run("section_structure", t_sections);
	run("encoder_rejects_invalid_models", t_encoder_rejects);
	run("nan_imputation_for_trees_only", t_nan_impute_tree_only);
	run("describe_json", t_describe_json);
	run("allocation_failures", t_enomem);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
