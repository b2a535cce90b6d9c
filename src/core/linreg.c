/*
 * linreg.c
 *	  Streaming ordinary and ridge least squares by incremental QR: the flat
 *	  aggregate state, row buffering, folding rows into R (qrfold.c's
 *	  kernel, else LAPACK dtpqrt),
 *	  merging states (TSQR), and solving the fitted model and its
 *	  statistics out of R.
 *
 * See linreg.h for the state layout.  Only the upper triangle of R is ever
 * read, so garbage below the diagonal of a state from outside is harmless.
 */
#include "core/linreg.h"
#include "core/metrics.h"
#include "core/qrfold.h"
#include "core/tdist.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

/* the header layout is part of the on-the-wire state: keep it 40 bytes */
typedef char mlx_linreg_header_is_40_bytes[
	(sizeof(mlx_linreg_state) == 40) ? 1 : -1];

/* LAPACK block size for dtpqrt */
#define LINREG_NB	32

/* most scratch blocks solve() holds at once */
#define SCRATCH_MAX 24

/*
 * Row-buffer capacity for nfeat features.  With few columns a fold is
 * cheap and the LAPACK call overhead dominates, so up to 30 features fold
 * 256 rows at a time (bench/: about a fifth less training time than 64 for
 * 10 features, for a 26 kB state); up to 256 features 64 rows amortize
 * the call; past that one row already costs O(p^2) flops to fold, so 32
 * rows keep the state (shipped between processes) smaller at no cost in
 * throughput.  The buffer never exceeds the size of R once p >= 64.
 */
static int
linreg_bufrows(int nfeat)
{
	if (nfeat <= 30)
		return 256;
	return (nfeat <= 256) ? 64 : 32;
}

/*
 * dtpqrt block size: small blocks for narrow designs (the trailing update
 * is then a level-3 call instead of many level-2 ones), 32 for wide ones.
 */
static int
linreg_nb(int p)
{
	int			nb = (p < 32) ? 8 : LINREG_NB;

	return (p < nb) ? p : nb;
}

static double *
state_R(mlx_linreg_state *s)
{
	return (double *) (s + 1);
}

static const double *
state_R_const(const mlx_linreg_state *s)
{
	return (const double *) (s + 1);
}

static double *
state_buf(mlx_linreg_state *s, int p)
{
	return state_R(s) + (size_t) p * p;
}

static const double *
state_buf_const(const mlx_linreg_state *s, int p)
{
	return state_R_const(s) + (size_t) p * p;
}

static int
state_ncols(const mlx_linreg_state *s)
{
	return mlx_linreg_ncols(s->nfeat, (s->flags & MLX_LINREG_F_INTERCEPT) != 0);
}

int
mlx_linreg_ncols(int nfeat, bool intercept)
{
	return nfeat + 1 + (intercept ? 1 : 0);
}

size_t
mlx_linreg_state_size(int nfeat, bool intercept)
{
	size_t		p;

	if (nfeat < 1 || nfeat > MLX_LINREG_MAX_FEATURES)
		return 0;
	p = (size_t) mlx_linreg_ncols(nfeat, intercept);
	return sizeof(mlx_linreg_state) +
		sizeof(double) * (p * p + (size_t) linreg_bufrows(nfeat) * p);
}

mlx_status
mlx_linreg_state_init(mlx_linreg_state *s, int nfeat, double lambda,
					  bool intercept)
{
	size_t		size = mlx_linreg_state_size(nfeat, intercept);

	if (s == NULL || size == 0 || !isfinite(lambda) || lambda < 0.0)
		return MLX_EINVAL;
	memset(s, 0, size);
	s->version = MLX_LINREG_STATE_VERSION;
	s->flags = intercept ? MLX_LINREG_F_INTERCEPT : 0;
	s->bufrows = (uint16_t) linreg_bufrows(nfeat);
	s->nfeat = nfeat;
	s->lambda = lambda;
	return MLX_OK;
}

static mlx_status
corrupt(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
	return MLX_ECORRUPT;
}

mlx_status
mlx_linreg_state_validate(const mlx_linreg_state *s, size_t size,
						  char *errbuf, size_t errlen)
{
	bool		intercept;

	if (s == NULL || size < sizeof(mlx_linreg_state))
		return corrupt(errbuf, errlen, "linear regression state is truncated");
	if (s->version != MLX_LINREG_STATE_VERSION)
		return corrupt(errbuf, errlen, "linear regression state has an unknown version");
	if ((s->flags & ~MLX_LINREG_F_INTERCEPT) != 0)
		return corrupt(errbuf, errlen, "linear regression state has unknown flags");
	if (s->nfeat < 1 || s->nfeat > MLX_LINREG_MAX_FEATURES)
		return corrupt(errbuf, errlen, "linear regression state has an invalid feature count");
	if (s->bufrows != linreg_bufrows(s->nfeat))
		return corrupt(errbuf, errlen, "linear regression state has an invalid buffer capacity");
	if (s->nbuf < 0 || s->nbuf > s->bufrows)
		return corrupt(errbuf, errlen, "linear regression state has an invalid buffer fill");
	if (s->reserved != 0)
		return corrupt(errbuf, errlen, "linear regression state has nonzero reserved bytes");
	if (s->nrows < 0 || s->nrows < s->nbuf || s->nskipped < 0)
		return corrupt(errbuf, errlen, "linear regression state has invalid row counts");
	if (!isfinite(s->lambda) || s->lambda < 0.0)
		return corrupt(errbuf, errlen, "linear regression state has an invalid penalty");
	intercept = (s->flags & MLX_LINREG_F_INTERCEPT) != 0;
	if (size != mlx_linreg_state_size(s->nfeat, intercept))
		return corrupt(errbuf, errlen, "linear regression state has the wrong size");
	return MLX_OK;
}

#define NONFINITE_STATE "the state holds non-finite numbers (its sums overflowed, or it was not built by the transition function)"

mlx_status
mlx_linreg_state_check_values(const mlx_linreg_state *s, char *errbuf,
							  size_t errlen)
{
	int			p = state_ncols(s);
	const double *R = state_R_const(s);
	const double *buf = state_buf_const(s, p);

	for (int j = 0; j < p; j++)
	{
		for (int i = 0; i <= j; i++)
			if (!isfinite(R[i + (size_t) j * p]))
				return corrupt(errbuf, errlen, NONFINITE_STATE);
		for (int i = 0; i < s->nbuf; i++)
			if (!isfinite(buf[i + (size_t) j * s->bufrows]))
				return corrupt(errbuf, errlen, NONFINITE_STATE);
	}
	return MLX_OK;
}

/*
 * Fold an m-by-p column-major block B (leading dimension ldb) into the
 * upper-triangular p-by-p R: [R; B] = Q [R'; 0].  l = 0 for a dense block,
 * l = p for a triangular one (TSQR).  B is overwritten.  tw holds 2 nb p
 * doubles of workspace (T and work) for LAPACK; a dense block goes to
 * qrfold.c's kernel when it takes it.
 */
static mlx_status
fold_block(double *R, int p, double *B, int m, int ldb, int l, double *tw)
{
	int			nb = linreg_nb(p);
	lapack_int	info;

	if (m == 0)
		return MLX_OK;
	if (l == 0 && mlx_qr_fold_dense(R, p, B, ldb, m))
		return MLX_OK;
	info = LAPACKE_dtpqrt_work(LAPACK_COL_MAJOR, m, p, l, nb, R, p, B, ldb,
							   tw, nb, tw + (size_t) nb * p);
	return (info == 0) ? MLX_OK : MLX_ELAPACK;
}

/*
 * Copy the first m rows of a buffer (column-major, bufrows rows) into
 * column-major B (ldb rows).
 */
static void
copy_buffered(double *B, int ldb, const double *buf, int bufrows, int m,
			  int p)
{
	int			j;

	for (j = 0; j < p; j++)
		memcpy(B + (size_t) j * ldb, buf + (size_t) j * bufrows,
			   sizeof(double) * (size_t) m);
}

/* Copy the upper triangle of a p-by-p matrix, zeroing the strict lower. */
static void
copy_upper(double *dst, const double *src, int p)
{
	int			i,
				j;

	for (j = 0; j < p; j++)
		for (i = 0; i < p; i++)
			dst[i + (size_t) j * p] = (i <= j) ? src[i + (size_t) j * p] : 0.0;
}

mlx_status
mlx_linreg_flush(mlx_linreg_state *s, const mlx_ctx *ctx)
{
	int			p = state_ncols(s);
	int			m = s->nbuf;
	double	   *scratch;
	mlx_status	st;

	if (m == 0)
		return MLX_OK;
	if (mlx_interrupted(ctx))
		return MLX_EINTR;
	/* the buffer is folded in place: its rows are spent either way */
	if (mlx_qr_fold_dense(state_R(s), p, state_buf(s, p), s->bufrows, m))
	{
		s->nbuf = 0;
		return MLX_OK;
	}
	scratch = mlx_alloc(ctx, sizeof(double) * 2 * (size_t) linreg_nb(p) * p);
	if (scratch == NULL)
		return MLX_ENOMEM;
	st = fold_block(state_R(s), p, state_buf(s, p), m, s->bufrows, 0,
					scratch);
	mlx_free(ctx, scratch);
	if (st == MLX_OK)
		s->nbuf = 0;
	return st;
}

/*
 * Fold the rows buffered in s into Rc, a p-by-p copy of s's R, leaving s
 * alone: how a const state yields the R of all its rows.
 */
static mlx_status
fold_buffered_copy(const mlx_linreg_state *s, double *Rc, const mlx_ctx *ctx)
{
	int			p = state_ncols(s);
	int			m = s->nbuf;
	double	   *blk;
	mlx_status	st;

	if (m == 0)
		return MLX_OK;
	blk = mlx_alloc(ctx, sizeof(double) * ((size_t) m * p +
										   2 * (size_t) linreg_nb(p) * p));
	if (blk == NULL)
		return MLX_ENOMEM;
	copy_buffered(blk, m, state_buf_const(s, p), s->bufrows, m, p);
	st = fold_block(Rc, p, blk, m, m, 0, blk + (size_t) m * p);
	mlx_free(ctx, blk);
	return st;
}

/*
 * Is column col of R (p-by-p, c = 1 with an intercept) constant, i.e. is
 * its part below row c rounding noise next to its whole norm?  The
 * Householder step that centres a constant column leaves a residue of the
 * order of eps sqrt(n) |x|, never exactly zero; that residue must not be
 * mistaken for variance, whatever the column's scale.  Without an
 * intercept only an all-zero column qualifies.
 */
static bool
centred_is_noise(const double *R, int p, int c, int col, int64_t nrows)
{
	double		ctol = 16.0 * DBL_EPSILON * sqrt((double) nrows + 1.0);
	double		full = 0.0,
				cen = 0.0,
				scale = 0.0;
	int			i;

	/* squares of entries near DBL_MAX overflow: sum them scaled (as dnrm2) */
	for (i = 0; i <= col; i++)
		scale = fmax(scale, fabs(R[i + (size_t) col * p]));
	if (scale == 0.0)
		return true;
	for (i = 0; i <= col; i++)
	{
		double		v = R[i + (size_t) col * p] / scale;

		full += v * v;
		if (i >= c)
			cen += v * v;
	}
	return sqrt(cen) <= ctol * sqrt(full);
}

mlx_status
mlx_linreg_copy_r(const mlx_linreg_state *s, const mlx_ctx *ctx, double **R)
{
	int			c = (s->flags & MLX_LINREG_F_INTERCEPT) ? 1 : 0;
	int			p = state_ncols(s);
	double	   *Rc;
	mlx_status	st;
	int			i,
				j;

	*R = NULL;
	if (mlx_interrupted(ctx))
		return MLX_EINTR;
	Rc = mlx_alloc(ctx, sizeof(double) * (size_t) p * p);
	if (Rc == NULL)
		return MLX_ENOMEM;
	copy_upper(Rc, state_R_const(s), p);
	st = fold_buffered_copy(s, Rc, ctx);
	if (st != MLX_OK)
	{
		mlx_free(ctx, Rc);
		return st;
	}
	if (c)
	{
		for (j = c; j < p; j++)
			if (centred_is_noise(Rc, p, c, j, s->nrows))
				for (i = c; i <= j; i++)
					Rc[i + (size_t) j * p] = 0.0;
	}
	*R = Rc;
	return MLX_OK;
}

/*
 * Append a row.  The buffer is folded lazily, when a row arrives and finds
 * it full, so every failure (non-finite input, no memory, interrupt) leaves
 * the state exactly as it was.  All values are checked (and, when
 * weighted, their scaled products) before anything is touched.  With
 * weight 1 the scale factor is exactly 1 and the values are copied as they
 * are, so the unweighted entry point below is this one with weight 1.
 */
/* R of a state with an intercept column and rows, buffer folded in */
static mlx_status
intercept_r(const mlx_linreg_state *s, const mlx_ctx *ctx, double **R)
{
	*R = NULL;
	if ((s->flags & MLX_LINREG_F_INTERCEPT) == 0 || s->nrows <= 0)
		return MLX_EINVAL;
	return mlx_linreg_copy_r(s, ctx, R);
}

mlx_status
mlx_linreg_means(const mlx_linreg_state *s, const mlx_ctx *ctx, double *means)
{
	int			p = state_ncols(s);
	double	   *R;
	mlx_status	st = intercept_r(s, ctx, &R);

	if (st != MLX_OK)
		return st;
	for (int j = 0; j < s->nfeat; j++)
		means[j] = R[(size_t) (j + 1) * p] / R[0];
	mlx_free(ctx, R);
	return MLX_OK;
}

mlx_status
mlx_linreg_drop_intercept(const mlx_linreg_state *src, mlx_linreg_state *dst,
						  const mlx_ctx *ctx)
{
	int			p = state_ncols(src);
	int			k = src->nfeat;
	double	   *R;
	double	   *row;
	mlx_status	st;

	if (dst->nfeat != k || (dst->flags & MLX_LINREG_F_INTERCEPT) != 0 ||
		dst->nrows != 0)
		return MLX_EINVAL;
	st = intercept_r(src, ctx, &R);
	if (st != MLX_OK)
		return st;
	row = mlx_alloc(ctx, sizeof(double) * (size_t) k);
	if (row == NULL)
	{
		mlx_free(ctx, R);
		return MLX_ENOMEM;
	}
	/* row i of R, columns 1..p-1: x part then y (rows below i are zero there) */
	for (int i = 0; i < p && st == MLX_OK; i++)
	{
		for (int j = 0; j < k; j++)
			row[j] = R[i + (size_t) (j + 1) * p];
		st = mlx_linreg_add_row(dst, R[i + (size_t) (p - 1) * p], row, ctx, NULL);
	}
	if (st == MLX_OK)
		dst->nrows = src->nrows;
	mlx_free(ctx, row);
	mlx_free(ctx, R);
	return st;
}

/* ||R v||^2 for the upper-triangular p-by-p R; u receives R v */
static double
norm2_rv(const double *R, int p, const double *v, double *u)
{
	double		ss = 0;

	for (int i = 0; i < p; i++)
	{
		double		acc = 0;

		for (int j = i; j < p; j++)
			acc += R[i + (size_t) j * p] * v[j];
		u[i] = acc;
		ss += acc * acc;
	}
	return ss;
}

mlx_status
mlx_linreg_residual_moments(const mlx_linreg_state *s, const double *coef,
							const mlx_ctx *ctx, struct mlx_regmoments *out)
{
	int			p = state_ncols(s);
	int			k = s->nfeat;
	double	   *R;
	double	   *v;
	double	   *u;
	double		n = (double) s->nrows;
	mlx_status	st;

	mlx_regmoments_init(out);
	if ((s->flags & MLX_LINREG_F_INTERCEPT) == 0)
		return MLX_EINVAL;
	if (s->nrows == 0)
		return MLX_OK;
	st = intercept_r(s, ctx, &R);
	if (st != MLX_OK)
		return st;
	v = mlx_alloc(ctx, sizeof(double) * (size_t) p * 2);
	if (v == NULL)
	{
		mlx_free(ctx, R);
		return MLX_ENOMEM;
	}
	u = v + p;
	out->n = s->nrows;

	/*
	 * Row 0 of R'R is R[0][0] times row 0 of R: the sums of 1, x and y.
	 * With v = (ybar, 0.., -1), R v is the centred y; with v = (coef, -1),
	 * the negated residual, whose sum is -(R'R v)[0] = -R[0][0] (R v)[0].
	 */
	out->mean_y = R[0] * R[(size_t) (p - 1) * p] / n;
	memset(v, 0, sizeof(double) * (size_t) p);
	v[0] = out->mean_y;
	v[p - 1] = -1;
	out->m2_y = norm2_rv(R, p, v, u);
	for (int j = 0; j <= k; j++)
		v[j] = coef[j];
	(void) norm2_rv(R, p, v, u);
	out->mean_e = -R[0] * u[0] / n;
	v[0] = coef[0] + out->mean_e;
	out->m2_e = norm2_rv(R, p, v, u);
	out->abs_sum = NAN;
	mlx_free(ctx, v);
	mlx_free(ctx, R);
	if (!isfinite(out->mean_y) || !isfinite(out->m2_y) ||
		!isfinite(out->mean_e) || !isfinite(out->m2_e))
		return MLX_ENONFINITE;
	return MLX_OK;
}

/*
 * The first bad value of a row, in the order the caller is told about
 * them: a non-finite feature (its index), a non-finite target (-1), a
 * negative or non-finite weight (-2), a scaled product that overflows
 * (-2); MLX_ROW_OK when there is none.
 */
#define MLX_ROW_OK (-3)

static int
row_check(int k, double y, const void *x, double weight, double sw)
{
	int			j;

	for (j = 0; j < k; j++)
	{
		double		v;

		memcpy(&v, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
		if (!isfinite(v))
			return j;
	}
	if (!isfinite(y))
		return -1;
	if (!isfinite(weight) || !(weight >= 0.0))
		return -2;
	if (weight != 0.0 && sw != 1.0)
	{
		/* a huge weight times a huge value must not put an inf into R */
		if (!isfinite(sw * y))
			return -2;
		for (j = 0; j < k; j++)
		{
			double		v;

			memcpy(&v, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
			if (!isfinite(sw * v))
				return -2;
		}
	}
	return MLX_ROW_OK;
}

mlx_status
mlx_linreg_add_row_weighted(mlx_linreg_state *s, double y, const void *x,
							double weight, const mlx_ctx *ctx, int *bad_index)
{
	int			k = s->nfeat;
	int			c = (s->flags & MLX_LINREG_F_INTERCEPT) ? 1 : 0;
	int			p = k + 1 + c;
	double		sw;
	double	   *row;
	size_t		ld;
	bool		ok = true;
	int			bad;
	int			j;

	sw = (isfinite(weight) && weight > 0.0 && weight != 1.0) ? sqrt(weight) : 1.0;
	if (!isfinite(weight) || !(weight > 0.0) || s->nbuf >= s->bufrows)
	{
		/* the careful path: check everything before touching the state */
		bad = row_check(k, y, x, weight, sw);
		if (bad != MLX_ROW_OK)
		{
			if (bad_index != NULL)
				*bad_index = bad;
			return MLX_ENONFINITE;
		}
		if (weight == 0.0)
			return MLX_OK;
		if (s->nbuf >= s->bufrows)
		{
			mlx_status	st = mlx_linreg_flush(s, ctx);

			if (st != MLX_OK)
				return st;
		}
	}

	/*
	 * The hot path: the scaled row goes into the free buffer slot
	 * (column-major: element j at row[j * bufrows]) while one running test
	 * checks the products (a non-finite input or an overflow gives a
	 * non-finite product, since sw is finite and > 0).  A bad row is then
	 * not counted: the slot is past nbuf, so the state means what it meant
	 * (only that free slot holds its scratch); row_check says what was
	 * wrong.
	 */
	row = state_buf(s, p) + s->nbuf;
	ld = s->bufrows;
	for (j = 0; j < k; j++)
	{
		double		v;
		double		t;

		memcpy(&v, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
		t = sw * v;
		ok &= isfinite(t);
		row[(size_t) (c + j) * ld] = t;
	}
	row[(size_t) (p - 1) * ld] = sw * y;
	ok &= isfinite(sw * y);
	if (!ok)
	{
		bad = row_check(k, y, x, weight, sw);
		if (bad_index != NULL)
			*bad_index = (bad == MLX_ROW_OK) ? -2 : bad;
		return MLX_ENONFINITE;
	}
	if (c)
		row[0] = sw;
	s->nbuf++;
	s->nrows++;
	return MLX_OK;
}

bool
mlx_linreg_same_rows(const mlx_linreg_state *a, const mlx_linreg_state *b)
{
	int			p = state_ncols(a);
	const double *ra = state_R_const(a);
	const double *rb = state_R_const(b);
	const double *ba = state_buf_const(a, p);
	const double *bb = state_buf_const(b, p);
	int			j;

	if (memcmp(a, b, sizeof(*a)) != 0 ||
		memcmp(ra, rb, sizeof(double) * (size_t) p * p) != 0)
		return false;
	for (j = 0; j < p; j++)
		if (memcmp(ba + (size_t) j * a->bufrows, bb + (size_t) j * b->bufrows,
				   sizeof(double) * (size_t) a->nbuf) != 0)
			return false;
	return true;
}

mlx_status
mlx_linreg_add_row(mlx_linreg_state *s, double y, const void *x,
				   const mlx_ctx *ctx, int *bad_index)
{
	return mlx_linreg_add_row_weighted(s, y, x, 1.0, ctx, bad_index);
}

/*
 * TSQR merge.  All workspace is allocated and the interrupt hook polled
 * before 's' is touched, so ENOMEM and EINTR leave it unchanged.  The
 * buffered rows of both sides are folded in one dense block; the other
 * side's R goes in as a triangular block (or is copied when 's' has
 * nothing folded yet).
 */
mlx_status
mlx_linreg_merge(mlx_linreg_state *s, const mlx_linreg_state *other,
				 const mlx_ctx *ctx)
{
	int			p,
				m,
				nb;
	bool		sfold,
				ofold;
	size_t		nscratch;
	double	   *scratch,
			   *rows,
			   *tri,
			   *tw;
	mlx_status	st = MLX_OK;

	if (s->nfeat != other->nfeat || s->flags != other->flags ||
		s->lambda != other->lambda || s->bufrows != other->bufrows)
		return MLX_EMISMATCH;
	if (s == other)
	{
		/* merging a state with itself: work from a copy of it */
		size_t		size = mlx_linreg_state_size(s->nfeat,
												 (s->flags & MLX_LINREG_F_INTERCEPT) != 0);
		mlx_linreg_state *copy = mlx_alloc(ctx, size);

		if (copy == NULL)
			return MLX_ENOMEM;
		memcpy(copy, s, size);
		st = mlx_linreg_merge(s, copy, ctx);
		mlx_free(ctx, copy);
		return st;
	}
	if (other->nrows == 0)
	{
		s->nskipped += other->nskipped;
		return MLX_OK;
	}
	if (mlx_interrupted(ctx))
		return MLX_EINTR;

	p = state_ncols(s);
	nb = linreg_nb(p);
	m = s->nbuf + other->nbuf;
	sfold = s->nrows > s->nbuf;
	ofold = other->nrows > other->nbuf;
	nscratch = (size_t) m * p + 2 * (size_t) nb * p;
	if (sfold && ofold)
		nscratch += (size_t) p * p;
	scratch = mlx_alloc(ctx, sizeof(double) * nscratch);
	if (scratch == NULL)
		return MLX_ENOMEM;
	tw = scratch;
	rows = tw + 2 * (size_t) nb * p;
	tri = rows + (size_t) m * p;

	if (ofold)
	{
		if (!sfold)
			copy_upper(state_R(s), state_R_const(other), p);
		else
		{
			copy_upper(tri, state_R_const(other), p);
			st = fold_block(state_R(s), p, tri, p, p, p, tw);
		}
	}
	if (st == MLX_OK && m > 0)
	{
		copy_buffered(rows, m, state_buf(s, p), s->bufrows, s->nbuf, p);
		copy_buffered(rows + s->nbuf, m, state_buf_const(other, p),
					  other->bufrows, other->nbuf, p);
		st = fold_block(state_R(s), p, rows, m, m, 0, tw);
	}
	mlx_free(ctx, scratch);
	if (st != MLX_OK)
		return st;
	s->nbuf = 0;
	s->nrows += other->nrows;
	s->nskipped += other->nskipped;
	return MLX_OK;
}

/* Scratch allocations of one solve(), all released together. */
typedef struct scratch_list
{
	const mlx_ctx *ctx;
	int			n;
	void	   *ptr[SCRATCH_MAX];
} scratch_list;

static void *
scratch_alloc(scratch_list *sl, size_t size)
{
	void	   *p;

	if (sl->n >= SCRATCH_MAX)
		return NULL;
	p = mlx_alloc(sl->ctx, size);
	if (p != NULL)
		sl->ptr[sl->n++] = p;
	return p;
}

static void
scratch_free_all(scratch_list *sl)
{
	while (sl->n > 0)
		mlx_free(sl->ctx, sl->ptr[--sl->n]);
}

static int
cmp_int32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

static void
fit_release(const mlx_ctx *ctx, mlx_linreg_fit *out)
{
	mlx_free(ctx, out->coef);
	mlx_free(ctx, out->se);
	mlx_free(ctx, out->tval);
	mlx_free(ctx, out->pval);
	mlx_free(ctx, out->dependent);
	out->coef = out->se = out->tval = out->pval = NULL;
	out->dependent = NULL;
	out->ndependent = 0;
}

/*
 * Minimum-norm least squares A beta = b for the k-by-k upper-triangular A
 * (SVD, dgelsd).  A and b are overwritten; beta is left in b, the
 * numerical rank in *rank and the largest singular value in *s1.
 */
static mlx_status
solve_ols(scratch_list *sl, double *A, double *b, int k, double rcond,
		  int *rank, double *s1)
{
	double	   *S,
			   *work;
	lapack_int *iwork;
	double		wq;
	lapack_int	iwq = 0;
	lapack_int	lrank = 0;
	lapack_int	info;

	S = scratch_alloc(sl, sizeof(double) * k);
	if (S == NULL)
		return MLX_ENOMEM;
	info = LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, k, k, 1, A, k, b, k, S,
							   rcond, &lrank, &wq, -1, &iwq);
	if (info != 0)
		return MLX_ELAPACK;
	work = scratch_alloc(sl, sizeof(double) * ((size_t) wq + 1));
	iwork = scratch_alloc(sl, sizeof(lapack_int) * ((size_t) iwq + 1));
	if (work == NULL || iwork == NULL)
		return MLX_ENOMEM;
	info = LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, k, k, 1, A, k, b, k, S,
							   rcond, &lrank, work, (lapack_int) wq, iwork);
	if (info != 0)
		return MLX_ELAPACK;
	*rank = (int) lrank;
	*s1 = S[0];
	return MLX_OK;
}

/*
 * Ridge: least squares of the stacked [A; sqrt(lambda) I] beta = [b; 0]
 * (QR, dgels).  beta goes to beta[0..k-1].
 */
static mlx_status
solve_ridge(scratch_list *sl, const double *A, const double *b, int k,
			double lambda, double *beta)
{
	int			m = 2 * k;
	double	   *S,
			   *rhs,
			   *work;
	double		wq;
	double		sqlam = sqrt(lambda);
	lapack_int	info;
	int			i,
				j;

	S = scratch_alloc(sl, sizeof(double) * (size_t) m * k);
	rhs = scratch_alloc(sl, sizeof(double) * m);
	if (S == NULL || rhs == NULL)
		return MLX_ENOMEM;
	for (j = 0; j < k; j++)
	{
		for (i = 0; i < k; i++)
			S[i + (size_t) j * m] = A[i + (size_t) j * k];
		for (i = 0; i < k; i++)
			S[k + i + (size_t) j * m] = (i == j) ? sqlam : 0.0;
	}
	for (i = 0; i < k; i++)
	{
		rhs[i] = b[i];
		rhs[k + i] = 0.0;
	}
	info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', m, k, 1, S, m, rhs, m,
							  &wq, -1);
	if (info != 0)
		return MLX_ELAPACK;
	work = scratch_alloc(sl, sizeof(double) * ((size_t) wq + 1));
	if (work == NULL)
		return MLX_ENOMEM;
	info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', m, k, 1, S, m, rhs, m,
							  work, (lapack_int) wq);
	if (info != 0)
		return MLX_ELAPACK;
	memcpy(beta, rhs, sizeof(double) * k);
	return MLX_OK;
}

/*
 * Which features to blame for a rank deficit, the way R's lm() aliases
 * them: scan the columns of A in order, Householder-orthogonalizing each
 * against the columns kept so far, and call a column dependent when what is
 * left of it is below thr (the SVD's own cut-off, rcond * s1).  Later
 * copies of a column are thus the ones reported.  Returns the number of
 * dependent columns found (written to dep, ascending), which the caller
 * compares with the SVD rank.
 */
static int
sequential_dependent(double *W, int k, double thr, int32_t *dep,
					 const mlx_ctx *ctx, bool *interrupted)
{
	int			r = 0;
	int			nd = 0;
	int			i,
				j,
				h;

	*interrupted = false;
	for (j = 0; j < k; j++)
	{
		double	   *w = W + (size_t) j * k;
		double		nrm = 0.0;
		double		alpha,
					v0;

		if (j % 64 == 63 && mlx_interrupted(ctx))
		{
			*interrupted = true;
			return -1;
		}
		/*
		 * Apply the kept reflectors H_0 .. H_{r-1}; reflector h lives in
		 * the column dep[k - 1 - h], rows h (tau) and below (its tail).
		 */
		for (h = 0; h < r; h++)
		{
			const double *v = W + (size_t) dep[k - 1 - h] * k;
			double		tau = v[h];
			double		d = w[h];

			for (i = h + 1; i < k; i++)
				d += v[i] * w[i];
			d *= tau;
			w[h] -= d;
			for (i = h + 1; i < k; i++)
				w[i] -= d * v[i];
		}
		for (i = r; i < k; i++)
			nrm += w[i] * w[i];
		nrm = sqrt(nrm);
		if (!(nrm > thr))
		{
			dep[nd++] = j;
			continue;
		}
		/* new reflector zeroing w[r+1..]: w[r] <- tau, w[r+1..] <- tail */
		alpha = (w[r] >= 0.0) ? -nrm : nrm;
		v0 = w[r] - alpha;
		for (i = r + 1; i < k; i++)
			w[i] /= v0;
		w[r] = -v0 / alpha;		/* tau = (alpha - x0) / alpha */
		/* remember which column holds reflector r (filled from the end) */
		dep[k - 1 - r] = j;
		r++;
	}
	return nd;
}

/*
 * Dependent features: the in-order scan above when it agrees with the SVD
 * rank, else the last k - rank pivots of a column-pivoted QR (dgeqp3).
 * Result sorted, 0-based, k - rank entries.
 */
static mlx_status
find_dependent(scratch_list *sl, const double *A, int k, int rank,
			   double thr, int32_t *dep)
{
	double	   *Q,
			   *tau,
			   *work;
	lapack_int *jpvt;
	int32_t    *tmp;
	double		wq;
	lapack_int	info;
	int			i,
				nd;
	bool		intr;

	Q = scratch_alloc(sl, sizeof(double) * (size_t) k * k);
	tau = scratch_alloc(sl, sizeof(double) * k);
	jpvt = scratch_alloc(sl, sizeof(lapack_int) * k);
	tmp = scratch_alloc(sl, sizeof(int32_t) * k);
	if (Q == NULL || tau == NULL || jpvt == NULL || tmp == NULL)
		return MLX_ENOMEM;
	memcpy(Q, A, sizeof(double) * (size_t) k * k);
	nd = sequential_dependent(Q, k, thr, tmp, sl->ctx, &intr);
	if (intr)
		return MLX_EINTR;
	if (nd == k - rank)
	{
		memcpy(dep, tmp, sizeof(int32_t) * nd);
		return MLX_OK;
	}
	memcpy(Q, A, sizeof(double) * (size_t) k * k);
	memset(jpvt, 0, sizeof(lapack_int) * k);
	info = LAPACKE_dgeqp3_work(LAPACK_COL_MAJOR, k, k, Q, k, jpvt, tau, &wq, -1);
	if (info != 0)
		return MLX_ELAPACK;
	work = scratch_alloc(sl, sizeof(double) * ((size_t) wq + 1));
	if (work == NULL)
		return MLX_ENOMEM;
	info = LAPACKE_dgeqp3_work(LAPACK_COL_MAJOR, k, k, Q, k, jpvt, tau, work,
							   (lapack_int) wq);
	if (info != 0)
		return MLX_ELAPACK;
	for (i = rank; i < k; i++)
		dep[i - rank] = (int32_t) (jpvt[i] - 1);
	qsort(dep, (size_t) (k - rank), sizeof(int32_t), cmp_int32);
	return MLX_OK;
}

/*
 * Standard errors from the leading q-by-q block of R (intercept column
 * included): Cov = sigma^2 (R'R)^-1 = sigma^2 Rinv Rinv', so each variance
 * is sigma^2 times a squared row norm of Rinv.  Leaves NaNs when R is
 * exactly singular.
 */
static mlx_status
fill_se(scratch_list *sl, const double *Rc, int p, int q, int c,
		mlx_linreg_fit *out)
{
	double	   *Ri;
	lapack_int	info;
	int			i,
				j;

	Ri = scratch_alloc(sl, sizeof(double) * (size_t) q * q);
	if (Ri == NULL)
		return MLX_ENOMEM;
	for (j = 0; j < q; j++)
		for (i = 0; i < q; i++)
			Ri[i + (size_t) j * q] = (i <= j) ? Rc[i + (size_t) j * p] : 0.0;
	info = LAPACKE_dtrtri_work(LAPACK_COL_MAJOR, 'U', 'N', q, Ri, q);
	if (info > 0)
		return MLX_OK;
	if (info < 0)
		return MLX_ELAPACK;
	for (i = 0; i < q; i++)
	{
		double		v = 0.0;
		int			ci = i + 1 - c;

		for (j = i; j < q; j++)
			v += Ri[i + (size_t) j * q] * Ri[i + (size_t) j * q];
		out->se[ci] = out->sigma * sqrt(v);
		out->tval[ci] = out->coef[ci] / out->se[ci];
		out->pval[ci] = mlx_t_pvalue2(out->tval[ci], out->df_resid);
	}
	return MLX_OK;
}

mlx_status
mlx_linreg_solve(const mlx_linreg_state *s, const mlx_ctx *ctx,
				 mlx_linreg_fit *out)
{
	int			k = s->nfeat;
	int			c = (s->flags & MLX_LINREG_F_INTERCEPT) ? 1 : 0;
	int			p = k + 1 + c;
	scratch_list sl;
	double	   *Rc,
			   *A,
			   *b,
			   *beta;
	const double *z;
	double		ryy,
				rss,
				tss;
	int			rank = k;
	int			i,
				j;
	mlx_status	st;

	memset(out, 0, sizeof(*out));
	out->nfeat = k;
	out->intercept = c != 0;
	out->lambda = s->lambda;
	out->nrows = s->nrows;
	out->nskipped = s->nskipped;
	if (s->nrows <= 0)
		return MLX_EINVAL;
	if (mlx_interrupted(ctx))
		return MLX_EINTR;

	sl.ctx = ctx;
	sl.n = 0;
	out->coef = mlx_alloc(ctx, sizeof(double) * (k + 1));
	out->se = mlx_alloc(ctx, sizeof(double) * (k + 1));
	out->tval = mlx_alloc(ctx, sizeof(double) * (k + 1));
	out->pval = mlx_alloc(ctx, sizeof(double) * (k + 1));
	Rc = scratch_alloc(&sl, sizeof(double) * (size_t) p * p);
	A = scratch_alloc(&sl, sizeof(double) * (size_t) k * k);
	b = scratch_alloc(&sl, sizeof(double) * (size_t) k);
	beta = scratch_alloc(&sl, sizeof(double) * (size_t) k);
	if (out->coef == NULL || out->se == NULL || out->tval == NULL ||
		out->pval == NULL || Rc == NULL || A == NULL || b == NULL ||
		beta == NULL)
	{
		st = MLX_ENOMEM;
		goto fail;
	}
	for (i = 0; i <= k; i++)
		out->coef[i] = out->se[i] = out->tval[i] = out->pval[i] = NAN;

	/* R of everything, buffered rows included, on a private copy */
	copy_upper(Rc, state_R_const(s), p);
	st = fold_buffered_copy(s, Rc, ctx);
	if (st != MLX_OK)
		goto fail;
	z = Rc + (size_t) (p - 1) * p;
	ryy = Rc[(p - 1) + (size_t) (p - 1) * p];

	/*
	 * The feature block R22 and its right-hand side.  A column whose part
	 * in R22 is rounding noise next to its whole norm is a constant feature
	 * (centred away by the intercept): zero it so that it is dependent
	 * whatever its scale.
	 */
	for (j = 0; j < k; j++)
	{
		for (i = 0; i < k; i++)
			A[i + (size_t) j * k] = (i <= j) ? Rc[c + i + (size_t) (c + j) * p] : 0.0;
		if (centred_is_noise(Rc, p, c, c + j, s->nrows))
			for (i = 0; i < k; i++)
				A[i + (size_t) j * k] = 0.0;
		b[j] = z[c + j];
	}

	if (s->lambda == 0.0)
	{
		double	   *A2 = scratch_alloc(&sl, sizeof(double) * (size_t) k * k);
		double		rcond,
					s1 = 0.0;

		if (A2 == NULL)
		{
			st = MLX_ENOMEM;
			goto fail;
		}
		memcpy(A2, A, sizeof(double) * (size_t) k * k);
		memcpy(beta, b, sizeof(double) * k);
		rcond = DBL_EPSILON * (double) ((s->nrows > k) ? s->nrows : k);
		st = solve_ols(&sl, A2, beta, k, rcond, &rank, &s1);
		if (st != MLX_OK)
			goto fail;
		if (rank < k)
		{
			out->dependent = mlx_alloc(ctx, sizeof(int32_t) * (k - rank));
			if (out->dependent == NULL)
			{
				st = MLX_ENOMEM;
				goto fail;
			}
			out->ndependent = k - rank;
			st = find_dependent(&sl, A, k, rank, rcond * s1,
								out->dependent);
			if (st != MLX_OK)
				goto fail;
		}
	}
	else
	{
		st = solve_ridge(&sl, A, b, k, s->lambda, beta);
		if (st != MLX_OK)
			goto fail;
	}
	if (mlx_interrupted(ctx))
	{
		st = MLX_EINTR;
		goto fail;
	}

	/*
	 * Residual and total sums of squares, all from R: b is z without its
	 * intercept entry, so sum b^2 + ryy^2 is the centred total with an
	 * intercept and the uncentred one without.
	 */
	rss = ryy * ryy;
	tss = ryy * ryy;
	for (i = 0; i < k; i++)
	{
		double		r = -b[i];

		for (j = i; j < k; j++)
			r += A[i + (size_t) j * k] * beta[j];
		rss += r * r;
		tss += b[i] * b[i];
	}

	out->coef[0] = 0.0;
	if (c)
	{
		double		v = z[0];

		for (j = 0; j < k; j++)
			v -= Rc[(size_t) (1 + j) * p] * beta[j];
		out->coef[0] = v / Rc[0];
	}
	for (j = 0; j < k; j++)
		out->coef[j + 1] = beta[j];

	out->rank = rank;
	out->df_resid = (double) s->nrows - rank - c;
	out->rss = rss;
	out->tss = tss;
	out->r2 = (tss > 0.0) ? 1.0 - rss / tss : NAN;
	if (out->df_resid > 0.0)
	{
		out->sigma = sqrt(rss / out->df_resid);
		out->adj_r2 = 1.0 - (1.0 - out->r2) * ((double) s->nrows - c) /
			out->df_resid;
	}
	else
	{
		out->sigma = NAN;
		out->adj_r2 = NAN;
	}
	if (s->lambda == 0.0 && rank == k && out->df_resid > 0.0)
	{
		st = fill_se(&sl, Rc, p, k + c, c, out);
		if (st != MLX_OK)
			goto fail;
	}
	scratch_free_all(&sl);
	return MLX_OK;

fail:
	scratch_free_all(&sl);
	fit_release(ctx, out);
	return st;
}

double
mlx_linreg_predict(const mlx_linreg_fit *fit, const void *x)
{
	double		v = fit->intercept ? fit->coef[0] : 0.0;
	int			j;

	for (j = 0; j < fit->nfeat; j++)
	{
		double		xj;

		memcpy(&xj, (const char *) x + (size_t) j * sizeof(double), sizeof(double));
		v += fit->coef[j + 1] * xj;
	}
	return v;
}
