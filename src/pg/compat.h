/*
 * compat.h
 *	  The differences between the PostgreSQL majors ml_ext builds for (15
 *	  through 18), in one place, as pgvector and postgresql-hll keep them:
 *	  every guard is on PG_VERSION_NUM, never on a hard-coded major, and the
 *	  rest of the code calls the ml_ names below instead of #if-ing itself.
 *
 *	  Included by pg/ml_pg.h.  The macros expand at the call site, which
 *	  includes the PostgreSQL header that declares the wrapped function.
 */
#ifndef ML_COMPAT_H
#define ML_COMPAT_H

#include "postgres.h"

/*
 * PostgreSQL 16 moved the varlena macros (VARSIZE, VARDATA, ...) from
 * postgres.h to varatt.h, which not every header we include brings in.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * float8in_internal (utils/float.h) and stringToQualifiedNameList
 * (utils/regproc.h) take an error-context node since PostgreSQL 16 (soft
 * input errors).  NULL keeps 15's behaviour: bad input throws.
 */
#if PG_VERSION_NUM >= 160000
#define ml_float8in(num, endptr, type_name, orig) \
	float8in_internal((num), (endptr), (type_name), (orig), NULL)
#define ml_stringToQualifiedNameList(string) \
	stringToQualifiedNameList((string), NULL)
#else
#define ml_float8in(num, endptr, type_name, orig) \
	float8in_internal((num), (endptr), (type_name), (orig))
#define ml_stringToQualifiedNameList(string) \
	stringToQualifiedNameList(string)
#endif

/*
 * PostgreSQL 18 replaced the postfix pg_attribute_noreturn() by the C11-style
 * specifier pg_noreturn, written before the declaration; GCC and clang take
 * the older attribute in that place too.
 */
#if PG_VERSION_NUM < 180000
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * The local transaction id of this backend (PostgreSQL 17 moved it into
 * PGPROC's vxid); callers include storage/proc.h.
 */
#if PG_VERSION_NUM >= 170000
#define ML_MY_LXID() (MyProc->vxid.lxid)
#else
#define ML_MY_LXID() (MyProc->lxid)
#endif

#endif							/* ML_COMPAT_H */
