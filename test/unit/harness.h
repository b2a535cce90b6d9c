/*
 * harness.h
 *	  The test harness shared by the C unit tests in test/unit: pass/fail
 *	  counters, the EXPECT family of checks, run_case, a counting and
 *	  failing test allocator with an interrupt hook, and small PRNGs.
 *
 * Included by exactly one .c file per test binary (scripts/unit.sh builds
 * each test/unit/test_X.c on its own), so everything here is static; the
 * functions are marked unused because no test uses all of them.
 *
 * Two styles of test case are supported:
 *
 * - the default: a case is a void function; a failed EXPECT records the
 *	 first failure (line and message) and the case carries on.  Run it with
 *	 run_case(name, fn).
 *
 * - with HARNESS_BOOL_CASES defined before including this file: a case
 *	 returns bool; a failed EXPECT sets the reason and returns false at
 *	 once.  Run it with run(name, fn).
 *
 * Either way one line per case is printed, "PASS name" or
 * "FAIL name: reason", and n_pass / n_fail count them.
 */
#ifndef ML_EXT_TEST_UNIT_HARNESS_H
#define ML_EXT_TEST_UNIT_HARNESS_H

#include "core/mlx_core.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HARNESS_UNUSED __attribute__((unused))

/* ---------------------------------------------------------------- harness */

static int	n_pass HARNESS_UNUSED;
static int	n_fail HARNESS_UNUSED;
static bool case_ok HARNESS_UNUSED;
static char case_reason[512] HARNESS_UNUSED;

static void fail_at(int line, const char *fmt,...)
			__attribute__((format(printf, 2, 3))) HARNESS_UNUSED;

/* Record the first failure of the current case: "line N: message". */
static void
fail_at(int line, const char *fmt,...)
{
	va_list		ap;
	int			off;

	if (!case_ok)
		return;
	case_ok = false;
	off = snprintf(case_reason, sizeof(case_reason), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(case_reason + off, sizeof(case_reason) - off, fmt, ap);
	va_end(ap);
}

static void run_case(const char *name, void (*fn) (void)) HARNESS_UNUSED;

static void
run_case(const char *name, void (*fn) (void))
{
	case_ok = true;
	case_reason[0] = '\0';
	fn();
	if (case_ok)
	{
		n_pass++;
		printf("PASS %s\n", name);
	}
	else
	{
		n_fail++;
		printf("FAIL %s: %s\n", name, case_reason);
	}
	fflush(stdout);
}

#ifdef HARNESS_BOOL_CASES

static void set_reason(const char *fmt,...)
			__attribute__((format(printf, 1, 2))) HARNESS_UNUSED;

/* Set the failure reason; the arguments may include case_reason itself. */
static void
set_reason(const char *fmt,...)
{
	char		tmp[sizeof(case_reason)];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(case_reason, tmp, sizeof(case_reason));
}

/* In a bool case: on failure set the reason and return false. */
#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			set_reason(__VA_ARGS__); \
			return false; \
		} \
	} while (0)

static void run(const char *name, bool (*fn) (void)) HARNESS_UNUSED;

static void
run(const char *name, bool (*fn) (void))
{
	case_reason[0] = '\0';
	if (fn())
	{
		printf("PASS %s\n", name);
		n_pass++;
	}
	else
	{
		printf("FAIL %s: %s\n", name, case_reason);
		n_fail++;
	}
	fflush(stdout);
}

#else							/* !HARNESS_BOOL_CASES */

#define EXPECT(cond, ...) \
	do { if (!(cond)) fail_at(__LINE__, __VA_ARGS__); } while (0)

/* |got - want| <= tol * max(1, |want|)  (relative, absolute near zero) */
#define EXPECT_NEAR(got, want, tol, what) \
	do { \
		double g_ = (got), w_ = (want); \
		if (!(fabs(g_ - w_) <= (tol) * fmax(1.0, fabs(w_)))) \
			fail_at(__LINE__, "%s: got %.17g want %.17g", (what), g_, w_); \
	} while (0)

/* |got - want| <= tol * |want|  (strictly relative) */
#define EXPECT_REL(got, want, tol, what) \
	do { \
		double g_ = (got), w_ = (want); \
		if (!(fabs(g_ - w_) <= (tol) * fabs(w_))) \
			fail_at(__LINE__, "%s: got %.17g want %.17g (rel %.3g)", (what), \
					g_, w_, fabs(g_ - w_) / fabs(w_)); \
	} while (0)

/* |got - want| <= tol * max(|want|, 1e-300)  (relative, floored at 1e-300) */
#define EXPECT_REL_FLOOR(got, want, tol, what) \
	do { \
		double g_ = (got), w_ = (want); \
		if (!(fabs(g_ - w_) <= (tol) * fmax(fabs(w_), 1e-300))) \
			fail_at(__LINE__, "%s: got %.17g want %.17g", (what), g_, w_); \
	} while (0)

#define EXPECT_ST(got, want) \
	do { \
		mlx_status g_ = (got), w_ = (want); \
		if (g_ != w_) \
			fail_at(__LINE__, "status %s, expected %s", mlx_status_str(g_), \
					mlx_status_str(w_)); \
	} while (0)

#endif							/* HARNESS_BOOL_CASES */

/* --------------------------------------------------------- test allocator */

/*
 * malloc that counts live blocks and can fail after a number of successes.
 * Its interrupt hook counts polls and answers true while interrupt is set,
 * or from the (interrupt_after + 1)-th poll on.
 */
typedef struct test_alloc
{
	long		live;
	long		fail_after;		/* < 0: never fail */
	long		polls;			/* interrupt polls seen */
	long		interrupt_after;	/* < 0: never interrupt */
	bool		interrupt;		/* interrupt at every poll */
} test_alloc;

/* never fails, never interrupts */
#define TEST_ALLOC_INIT \
	{.live = 0, .fail_after = -1, .polls = 0, .interrupt_after = -1, \
	 .interrupt = false}

static void *ta_alloc(void *arg, size_t size) HARNESS_UNUSED;
static void ta_free(void *arg, void *ptr) HARNESS_UNUSED;
static bool ta_interrupted(void *arg) HARNESS_UNUSED;
static mlx_ctx ta_ctx(test_alloc *ta) HARNESS_UNUSED;

static void *
ta_alloc(void *arg, size_t size)
{
	test_alloc *ta = arg;
	void	   *p;

	if (ta->fail_after == 0)
		return NULL;
	if (ta->fail_after > 0)
		ta->fail_after--;
	p = malloc(size);
	if (p != NULL)
		ta->live++;
	return p;
}

static void
ta_free(void *arg, void *ptr)
{
	test_alloc *ta = arg;

	if (ptr != NULL)
		ta->live--;
	free(ptr);
}

static bool
ta_interrupted(void *arg)
{
	test_alloc *ta = arg;

	ta->polls++;
	return ta->interrupt ||
		(ta->interrupt_after >= 0 && ta->polls > ta->interrupt_after);
}

/* Reset *ta to TEST_ALLOC_INIT and return a context allocating through it. */
static mlx_ctx
ta_ctx(test_alloc *ta)
{
	mlx_ctx		c;

	ta->live = 0;
	ta->fail_after = -1;
	ta->polls = 0;
	ta->interrupt_after = -1;
	ta->interrupt = false;
	c.alloc = ta_alloc;
	c.free = ta_free;
	c.interrupted = ta_interrupted;
	c.arg = ta;
	return c;
}

/*
 * Another counting allocator that can be told to fail: it fails once
 * nalloc, the number of successful allocations so far, reaches fail_after.
 */
typedef struct counting
{
	long		nalloc;			/* successful allocations so far */
	long		live;			/* allocated and not yet freed */
	long		fail_after;		/* fail once nalloc reaches this; -1: never */
} counting;

static void *counting_alloc(void *arg, size_t size) HARNESS_UNUSED;
static void counting_free(void *arg, void *ptr) HARNESS_UNUSED;

static void *
counting_alloc(void *arg, size_t size)
{
	counting   *c = arg;
	void	   *p;

	if (c->fail_after >= 0 && c->nalloc >= c->fail_after)
		return NULL;
	p = malloc(size);
	if (p != NULL)
	{
		c->nalloc++;
		c->live++;
	}
	return p;
}

static void
counting_free(void *arg, void *ptr)
{
	counting   *c = arg;

	c->live--;
	free(ptr);
}

/* ------------------------------------------------------------------ rngs */

/* 64-bit LCG (Knuth MMIX), uniform in (0, 1) and standard normal */
static uint64_t rng_state HARNESS_UNUSED;

static double unif(void) HARNESS_UNUSED;
static double gauss(void) HARNESS_UNUSED;

static double
unif(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double) (rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double
gauss(void)
{
	double		u = unif();
	double		v = unif();

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* xorshift64 (Marsaglia 13, 7, 17) step */
static uint64_t xorshift64(uint64_t *s) HARNESS_UNUSED;

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* seedable xorshift64: uniform in (0, 1) and standard normal */
static uint64_t xs_state HARNESS_UNUSED = 0x9E3779B97F4A7C15ULL;

static void rng_seed(uint64_t s) HARNESS_UNUSED;
static double rng_unif(void) HARNESS_UNUSED;
static double rng_norm(void) HARNESS_UNUSED;

static void
rng_seed(uint64_t s)
{
	xs_state = s * 0x9E3779B97F4A7C15ULL + 1;
}

static double
rng_unif(void)
{
	return ((xorshift64(&xs_state) >> 11) + 0.5) / 9007199254740992.0;
}

static double
rng_norm(void)
{
	return sqrt(-2.0 * log(rng_unif())) * cos(2.0 * M_PI * rng_unif());
}

/* deterministic xorshift64 uniform in [0, 1), never seeded */
static uint64_t urand_state HARNESS_UNUSED = 88172645463325252ULL;

static double urand(void) HARNESS_UNUSED;

static double
urand(void)
{
	return (double) (xorshift64(&urand_state) >> 11) / 9007199254740992.0;
}

#endif							/* ML_EXT_TEST_UNIT_HARNESS_H */
