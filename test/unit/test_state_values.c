/*
 * test_state_values.c
 *	  Unit tests of the checks that keep hand-made aggregate states away
 *	  from LAPACK (issue 21, items 4 and 5): mlx_linreg_state_check_values
 *	  and PCA's feature limit.
 *
 * A state that passes mlx_linreg_state_validate (its header and size) may
 * still hold NaN in R or in the buffered rows; LAPACK fails on those, which
 * the PostgreSQL glue would report as an internal error.  The check must
 * find a non-finite number in every significant place and ignore the
 * places no computation reads (the strict lower triangle of R, free buffer
 * slots).
 *
 * Prints one line per test case, "PASS name" or "FAIL name: reason", and
 * exits 1 when any case failed.  Built under ASan/UBSan by the unit test
 * script.
 */
#include "core/linreg.h"
#include "core/mlx_core.h"
#include "core/pca.h"

#include "harness.h"

static const mlx_ctx *MC = &mlx_malloc_ctx;

/* a state of k features (with intercept) holding n rows, none folded yet */
static mlx_linreg_state *
state_with_rows(int k, int n)
{
	mlx_linreg_state *s = malloc(mlx_linreg_state_size(k, true));
	double	   *x = malloc(sizeof(double) * k);
	int			bad;

	if (s == NULL || x == NULL || mlx_linreg_state_init(s, k, 0.0, true) != MLX_OK)
		abort();
	for (int i = 0; i < n; i++)
	{
		for (int j = 0; j < k; j++)
			x[j] = (double) ((i * 7 + j * 3) % 11) - 5.0;
		if (mlx_linreg_add_row(s, (double) i, x, MC, &bad) != MLX_OK)
			abort();
	}
	free(x);
	return s;
}

static double *
R_of(mlx_linreg_state *s)
{
	return (double *) (s + 1);
}

static void
t_valid_states_pass(void)
{
	char		errbuf[256];
	mlx_linreg_state *s = state_with_rows(3, 5);

	EXPECT_ST(mlx_linreg_state_check_values(s, errbuf, sizeof(errbuf)), MLX_OK);
	/* with the rows folded into R as well */
	EXPECT_ST(mlx_linreg_flush(s, MC), MLX_OK);
	EXPECT_ST(mlx_linreg_state_check_values(s, errbuf, sizeof(errbuf)), MLX_OK);
	free(s);
}

static void
t_nonfinite_R(void)
{
	char		errbuf[256];
	int			p = mlx_linreg_ncols(3, true);
	mlx_linreg_state *s = state_with_rows(3, 40);
	double		bad[] = {NAN, INFINITY, -INFINITY};

	EXPECT_ST(mlx_linreg_flush(s, MC), MLX_OK);
	for (int b = 0; b < 3; b++)
		for (int j = 0; j < p; j++)
			for (int i = 0; i <= j; i++)
			{
				double		keep = R_of(s)[i + j * p];

				R_of(s)[i + j * p] = bad[b];
				errbuf[0] = '\0';
				EXPECT_ST(mlx_linreg_state_check_values(s, errbuf, sizeof(errbuf)), MLX_ECORRUPT);
				EXPECT(strstr(errbuf, "non-finite") != NULL, "message %s", errbuf);
				R_of(s)[i + j * p] = keep;
			}
	/* the strict lower triangle is never read: not checked */
	R_of(s)[1] = NAN;
	EXPECT_ST(mlx_linreg_state_check_values(s, errbuf, sizeof(errbuf)), MLX_OK);
	free(s);
}

static void
t_nonfinite_buffer(void)
{
	char		errbuf[256];
	int			p = mlx_linreg_ncols(2, true);
	mlx_linreg_state *s = state_with_rows(2, 3);
	double	   *buf = R_of(s) + p * p;

	EXPECT(s->nbuf == 3, "nbuf %d", s->nbuf);
	/* a buffered row (row 2 of column 1) */
	buf[2 + 1 * s->bufrows] = NAN;
	EXPECT_ST(mlx_linreg_state_check_values(s, errbuf, sizeof(errbuf)), MLX_ECORRUPT);
	buf[2 + 1 * s->bufrows] = 1.0;
	/* a free slot past nbuf is never read */
	buf[3 + 1 * s->bufrows] = NAN;
	EXPECT_ST(mlx_linreg_state_check_values(s, errbuf, sizeof(errbuf)), MLX_OK);
	free(s);
}

/* PCA refuses more than MLX_PCA_MAX_FEATURES features before any work */
static void
t_pca_limit(void)
{
	mlx_pca_fit fit;
	mlx_linreg_state *s = state_with_rows(MLX_PCA_MAX_FEATURES + 1, 2);
	mlx_linreg_state *ok = state_with_rows(40, 50);

	EXPECT_ST(mlx_pca_from_state(s, 1, MC, &fit), MLX_EINVAL);
	EXPECT(fit.mean == NULL && fit.components == NULL, "arrays left allocated");
	EXPECT_ST(mlx_pca_from_state(ok, 3, MC, &fit), MLX_OK);
	EXPECT(fit.ncomp == 3 && fit.explained_variance[0] >= fit.explained_variance[1],
		   "ncomp %d", fit.ncomp);
	mlx_free(MC, fit.mean);
	mlx_free(MC, fit.components);
	mlx_free(MC, fit.explained_variance);
	mlx_free(MC, fit.explained_variance_ratio);
	mlx_free(MC, fit.singular_values);
	free(s);
	free(ok);
}

int
main(void)
{
	run_case("state_values_valid", t_valid_states_pass);
	run_case("state_values_nonfinite_R", t_nonfinite_R);
	run_case("state_values_nonfinite_buffer", t_nonfinite_buffer);
	run_case("pca_feature_limit", t_pca_limit);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
