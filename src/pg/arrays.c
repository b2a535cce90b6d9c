/*
 * arrays.c
 *	  Zero-copy access to float8[] arguments.
 *
 * Training and scoring read one feature array per row, so this is on the
 * hot path.  Arrays stored in a table usually carry a 1-byte varlena header
 * and are handed to us unconverted; detoasting them would palloc and copy
 * every row.  We read the array header in place instead (with memcpy, since
 * a short header leaves everything after it misaligned) and only detoast
 * values that are compressed, out of line or expanded.
 *
 * Note that VARATT_IS_SHORT is true of every 1-byte header, which includes
 * the external ones (an on-disk TOAST pointer, an expanded PL/pgSQL array):
 * "short" alone does not mean "in line".  ml_varlena_inline is the one test.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"

#include "pg/ml_pg.h"

static inline int32
read_int32(const char *p)
{
	int32		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * v itself when its bytes are in line and uncompressed (4-byte or short
 * header: read with VARDATA_ANY/VARSIZE_ANY), else a detoasted copy in
 * CurrentMemoryContext: an on-disk or indirect TOAST pointer is fetched,
 * compressed data decompressed, an expanded object (a PL/pgSQL array
 * variable) flattened.
 */
struct varlena *
ml_varlena_inline(struct varlena *v)
{
	if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
		return pg_detoast_datum(v);
	return v;
}

void
ml_float8_array(Datum d, const char *what, MlFloat8Array *out)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	const char *body;			/* the array after its varlena header */
	int32		ndim;
	int32		dataoffset;
	Oid			elemtype;
	int32		nitems;
	Size		bodylen;
	Size		hdrlen;

	v = ml_varlena_inline(v);

	body = VARDATA_ANY(v);
	bodylen = VARSIZE_ANY_EXHDR(v);

	/* ArrayType minus its vl_len_: ndim, dataoffset, elemtype, dims, lbounds */
	if (bodylen < 3 * sizeof(int32))
		elog(ERROR, "%s is not a valid array", what);
	ndim = read_int32(body);
	dataoffset = read_int32(body + sizeof(int32));
	memcpy(&elemtype, body + 2 * sizeof(int32), sizeof(Oid));

	if (elemtype != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be of type double precision[]", what)));
	if (ndim == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s is empty", what)));
	if (ndim != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must be one-dimensional, not %d-dimensional",
						what, ndim)));

	nitems = read_int32(body + 3 * sizeof(int32));
	if (nitems <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s is empty", what)));

	if (dataoffset != 0)
	{
		/* a null bitmap follows the bounds; any clear bit is a NULL */
		const bits8 *bitmap = (const bits8 *) (body + 5 * sizeof(int32));

		for (int i = 0; i < nitems; i++)
		{
			if ((bitmap[i / 8] & (1 << (i % 8))) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s element %d is NULL", what, i + 1),
						 errhint("Replace or filter NULL values first, for example with coalesce().")));
		}
		hdrlen = dataoffset - VARHDRSZ;
	}
	else
		hdrlen = ARR_OVERHEAD_NONULLS(1) - VARHDRSZ;

	if (bodylen < hdrlen + (Size) nitems * sizeof(float8))
		elog(ERROR, "%s is not a valid array", what);

	out->values = body + hdrlen;
	out->n = nitems;
}

void
ml_check_finite(const MlFloat8Array *a, const char *what)
{
	for (int i = 0; i < a->n; i++)
	{
		float8		x;

		memcpy(&x, a->values + i * sizeof(float8), sizeof(float8));
		if (unlikely(!isfinite(x)))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s element %d is %s", what, i + 1,
							isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity")),
					 errhint("Replace or filter non-finite values first.")));
	}
}

void
ml_raise_length_mismatch(const char *what, int got, int expected,
						 const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s has %d elements, expected %d", what, got, expected),
			 detail ? errdetail("%s", detail) : 0));
	pg_unreachable();
}
