/*
 * tdist.c
 *	  Regularized incomplete beta function (continued fraction, modified
 *	  Lentz) and the Student-t CDF and two-sided p-value built on it.
 *
 * Everything works with the pair (x, y = 1 - x) so callers that know y more
 * accurately than 1 - x (the t distribution: y = t^2 / (df + t^2)) keep
 * that accuracy, and the tail that is computed directly keeps its relative
 * accuracy instead of being obtained as 1 - something.
 */
#include "core/tdist.h"

#include <float.h>
#include <math.h>

#define CF_EPS		(2.0 * DBL_EPSILON)
#define CF_TINY		1e-300
#define LARGE_ARG	10.0

/*
 * Stirling series remainder: lgamma(z) - ((z - 0.5) log z - z + log(2 pi)/2)
 * for z >= LARGE_ARG, accurate to a few ulps there.
 */
static double
stirling_corr(double z)
{
	/* B_2n / (2n (2n - 1)) for n = 1..8 */
	static const double coef[] = {
		1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188,
		-691.0 / 360360, 1.0 / 156, -3617.0 / 122400
	};
	double		r = 1.0 / z;
	double		r2 = r * r;
	double		sum = 0.0;
	int			i;

	for (i = 7; i >= 0; i--)
		sum = sum * r2 + coef[i];
	return sum * r;
}

/*
 * log(x^a y^b / B(a, b)).  For large arguments the lgamma values are huge
 * and their difference loses digits, so the large parts are combined
 * analytically (Stirling) and only the small remainders are added.
 */
static double
log_front(double a, double b, double x, double y)
{
	double		lx = (x > 0.5) ? log1p(-y) : log(x);
	double		ly = (y > 0.5) ? log1p(-x) : log(y);
	double		t;

	if (a >= LARGE_ARG && b >= LARGE_ARG)
	{
		/*
		 * a log(x / x0) + b log(y / y0) around the mode x0 = a / (a + b),
		 * with delta = x (a + b) - a rounded once (from the smaller of x and
		 * y, the one known more accurately), instead of large terms that
		 * cancel.
		 */
		double		delta = (x <= 0.5) ? fma(x, a + b, -a) : -fma(y, a + b, -b);
		double		ta,
					tb;

		/* far from the mode log1p would cancel: use the logs directly */
		ta = (fabs(delta) <= 0.5 * a) ? log1p(delta / a) : lx + log1p(b / a);
		tb = (fabs(delta) <= 0.5 * b) ? log1p(-delta / b) : ly + log1p(a / b);
		return a * ta + b * tb +
			0.5 * log(a / (a + b) * b) - 0.5 * log(2.0 * M_PI) +
			stirling_corr(a + b) - stirling_corr(a) - stirling_corr(b);
	}
	t = a * lx + b * ly;
	if (a >= LARGE_ARG)
		return t + (a - 0.5) * log1p(b / a) + b * log(a + b) - b -
			lgamma(b) + stirling_corr(a + b) - stirling_corr(a);
	if (b >= LARGE_ARG)
		return t + (b - 0.5) * log1p(a / b) + a * log(a + b) - a -
			lgamma(a) + stirling_corr(a + b) - stirling_corr(b);
	return t + lgamma(a + b) - lgamma(a) - lgamma(b);
}

/*
 * Continued fraction for I_x(a, b) (Numerical Recipes' betacf, modified
 * Lentz); converges fast for x < (a + 1) / (a + b + 2).
 *
 * When a is large and x close to 1 (the t distribution with many degrees
 * of freedom) the terms nearly cancel and the result is about a times as
 * sensitive to rounding as usual, including to the rounding of x itself.
 * So the recurrence runs in long double (80-bit on x86-64; where long
 * double is just double this is merely the plain algorithm), with x formed
 * as 1 - y from the accurately known y.
 */
static double
beta_cf(double a, double b, double x, double y)
{
	long double qab = (long double) a + b;
	long double qap = (long double) a + 1.0L;
	long double qam = (long double) a - 1.0L;
	long double xl = (x > 0.5) ? 1.0L - (long double) y : (long double) x;
	long double c = 1.0L;
	long double d;
	long double h;
	double		maxit;
	double		m;

	maxit = 1000.0 + 50.0 * sqrt(fmax(a, b));
	if (x > 0.5)
		d = (1.0L - b + qab * y) / qap;
	else
		d = 1.0L - qab * xl / qap;
	if (fabsl(d) < CF_TINY)
		d = CF_TINY;
	d = 1.0L / d;
	h = d;
	for (m = 1.0; m <= maxit; m += 1.0)
	{
		long double m2 = 2.0L * m;
		long double aa;
		long double del;

		aa = m * (b - m) * xl / ((qam + m2) * (a + m2));
		d = 1.0L + aa * d;
		if (fabsl(d) < CF_TINY)
			d = CF_TINY;
		c = 1.0L + aa / c;
		if (fabsl(c) < CF_TINY)
			c = CF_TINY;
		d = 1.0L / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * xl / ((a + m2) * (qap + m2));
		d = 1.0L + aa * d;
		if (fabsl(d) < CF_TINY)
			d = CF_TINY;
		c = 1.0L + aa / c;
		if (fabsl(c) < CF_TINY)
			c = CF_TINY;
		d = 1.0L / d;
		del = d * c;
		h *= del;
		if (fabsl(del - 1.0L) < CF_EPS)
			break;
	}
	return (double) h;
}

/*
 * I_x(a, b) and its complement; whichever of the two is the smaller tail is
 * computed directly, the other as 1 minus it.  Arguments already checked.
 */
static void
ibeta_pair(double a, double b, double x, double y, double *ix, double *iy)
{
	double		v;

	if (x <= 0.0)
	{
		*ix = 0.0;
		*iy = 1.0;
		return;
	}
	if (y <= 0.0)
	{
		*ix = 1.0;
		*iy = 0.0;
		return;
	}
	if (x <= (a + 1.0) / (a + b + 2.0))
	{
		v = exp(log_front(a, b, x, y)) * beta_cf(a, b, x, y) / a;
		*ix = v;
		*iy = 1.0 - v;
	}
	else
	{
		v = exp(log_front(b, a, y, x)) * beta_cf(b, a, y, x) / b;
		*iy = v;
		*ix = 1.0 - v;
	}
}

double
mlx_betainc(double a, double b, double x)
{
	double		ix,
				iy;

	if (!(a > 0.0) || !(b > 0.0) || !isfinite(a) || !isfinite(b) ||
		!(x >= 0.0 && x <= 1.0))
		return NAN;
	ibeta_pair(a, b, x, 1.0 - x, &ix, &iy);
	return ix;
}

/*
 * P(|T| >= |t|) and P(|T| < |t|) for T ~ t(df): I_x(df/2, 1/2) with
 * x = df / (df + t^2) and 1 - x = t^2 / (df + t^2) formed without
 * cancellation.  df = +Inf is the normal distribution.
 */
static void
t_tails(double t, double df, double *p2, double *q2)
{
	double		t2,
				x,
				y;

	if (isinf(t))
	{
		*p2 = 0.0;
		*q2 = 1.0;
		return;
	}
	if (isinf(df))
	{
		*p2 = erfc(fabs(t) / M_SQRT2);
		*q2 = erf(fabs(t) / M_SQRT2);
		return;
	}
	t2 = t * t;
	if (t2 > df)
	{
		double		r = df / t2;

		x = r / (1.0 + r);
		y = 1.0 / (1.0 + r);
	}
	else
	{
		double		r = t2 / df;

		x = 1.0 / (1.0 + r);
		y = r / (1.0 + r);
	}
	ibeta_pair(0.5 * df, 0.5, x, y, p2, q2);
}

double
mlx_t_cdf(double t, double df)
{
	double		p2,
				q2;

	if (isnan(t) || isnan(df) || !(df > 0.0))
		return NAN;
	t_tails(t, df, &p2, &q2);
	if (t < 0.0)
		return 0.5 * p2;
	return 0.5 + 0.5 * q2;
}

double
mlx_t_pvalue2(double t, double df)
{
	double		p2,
				q2;

	if (isnan(t) || isnan(df) || !(df > 0.0))
		return NAN;
	t_tails(t, df, &p2, &q2);
	return p2;
}
