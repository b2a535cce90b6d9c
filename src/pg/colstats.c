/*
 * colstats.c
 *	  ml._array_avg(float8[]): element-wise means of array columns, the
 *	  imputation values ml.train stores for array features.
 *
 * One pass, parallel (combine function), flat bytea state:
 *
 *	  int32 varlena header | uint32 magic | int32 length | int32 ragged |
 *	  double sum[length] | double count[length]
 *
 * NULL arrays and NULL elements are skipped.  Arrays whose length differs
 * from the first one seen mark the state "ragged" (ml.train reports the
 * lengths itself, from array_length, with a better message); the final
 * function then returns NULL.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#include "pg/ml_pg.h"

#define COLSTATS_MAGIC 0x4D4C5841	/* "MLXA" */
#define COLSTATS_MAX_LEN 1000000

typedef struct ArrayAvgState
{
	int32		vl_len_;
	uint32		magic;
	int32		length;
	int32		ragged;
	/* double sum[length], double count[length] */
} ArrayAvgState;

#define STATE_SUMS(s) ((double *) ((char *) (s) + sizeof(ArrayAvgState)))
#define STATE_COUNTS(s) (STATE_SUMS(s) + (s)->length)

static Size
state_size(int32 length)
{
	return sizeof(ArrayAvgState) + 2 * sizeof(double) * (Size) length;
}

/* A validated, writable, aligned state from an argument. */
static ArrayAvgState *
state_arg(Datum d)
{
	struct varlena *raw = ml_state_arg(d);
	ArrayAvgState *s;

	s = (ArrayAvgState *) raw;
	if (VARSIZE(s) < sizeof(ArrayAvgState) || s->magic != COLSTATS_MAGIC ||
		s->length < 0 || s->length > COLSTATS_MAX_LEN ||
		(s->ragged != 0 && s->ragged != 1) ||
		VARSIZE(s) != state_size(s->length))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid array average aggregate state")));
	return s;
}

static ArrayAvgState *
state_new(int32 length)
{
	ArrayAvgState *s = palloc0(state_size(length));

	SET_VARSIZE(s, state_size(length));
	s->magic = COLSTATS_MAGIC;
	s->length = length;
	return s;
}

/* ml._array_avg_sfunc(state bytea, x float8[]) */
PG_FUNCTION_INFO_V1(ml_array_avg_sfunc);
Datum
ml_array_avg_sfunc(PG_FUNCTION_ARGS)
{
	ArrayAvgState *s;
	ArrayType  *a;
	int			n;
	double	   *sums;
	double	   *counts;
	bits8	   *bitmap;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ml._array_avg_sfunc can only be called as part of an aggregate")));
	s = PG_ARGISNULL(0) ? NULL : state_arg(PG_GETARG_DATUM(0));
	if (PG_ARGISNULL(1))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}

	a = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "ml._array_avg expects double precision[]");
	n = (ARR_NDIM(a) == 1) ? ARR_DIMS(a)[0] : 0;
	if (n > COLSTATS_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("array has %d elements, at most %d are supported", n, COLSTATS_MAX_LEN)));
	if (s == NULL)
		s = state_new(n);		/* nodeAgg copies it into the aggregate context */
	if (s->ragged || n != s->length || ARR_NDIM(a) > 1)
	{
		s->ragged = 1;
		PG_RETURN_POINTER(s);
	}

	sums = STATE_SUMS(s);
	counts = STATE_COUNTS(s);
	bitmap = ARR_NULLBITMAP(a);
	{
		const char *p = (const char *) a +
			(ARR_HASNULL(a) ? (Size) a->dataoffset : (Size) ARR_OVERHEAD_NONULLS(1));

		for (int i = 0; i < n; i++)
		{
			double		v;

			if (bitmap && (bitmap[i / 8] & (1 << (i % 8))) == 0)
				continue;
			memcpy(&v, p, sizeof(double));
			p += sizeof(double);
			sums[i] += v;
			counts[i] += 1;
		}
	}
	PG_RETURN_POINTER(s);
}

/* ml._array_avg_combine(bytea, bytea) */
PG_FUNCTION_INFO_V1(ml_array_avg_combine);
Datum
ml_array_avg_combine(PG_FUNCTION_ARGS)
{
	ArrayAvgState *a;
	ArrayAvgState *b;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ml._array_avg_combine can only be called as part of an aggregate")));
	a = PG_ARGISNULL(0) ? NULL : state_arg(PG_GETARG_DATUM(0));
	b = PG_ARGISNULL(1) ? NULL : state_arg(PG_GETARG_DATUM(1));
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		PG_RETURN_POINTER(b);	/* nodeAgg copies it */
	if (b->ragged || a->length != b->length)
		a->ragged = 1;
	if (!a->ragged)
	{
		for (int i = 0; i < a->length; i++)
		{
			STATE_SUMS(a)[i] += STATE_SUMS(b)[i];
			STATE_COUNTS(a)[i] += STATE_COUNTS(b)[i];
		}
	}
	PG_RETURN_POINTER(a);
}

/* ml._array_avg_final(bytea) RETURNS float8[]: NULL elements where no value */
PG_FUNCTION_INFO_V1(ml_array_avg_final);
Datum
ml_array_avg_final(PG_FUNCTION_ARGS)
{
	ArrayAvgState *s;
	Datum	   *elems;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ml._array_avg_final can only be called as part of an aggregate")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = state_arg(PG_GETARG_DATUM(0));
	if (s->ragged || s->length == 0)
		PG_RETURN_NULL();
	elems = palloc(sizeof(Datum) * s->length);
	nulls = palloc(sizeof(bool) * s->length);
	for (int i = 0; i < s->length; i++)
	{
		double		c = STATE_COUNTS(s)[i];

		nulls[i] = (c == 0);
		elems[i] = Float8GetDatum(c == 0 ? 0 : STATE_SUMS(s)[i] / c);
	}
	dims[0] = s->length;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, nulls, 1, dims, lbs, FLOAT8OID,
											 sizeof(float8), FLOAT8PASSBYVAL,
											 TYPALIGN_DOUBLE));
}
