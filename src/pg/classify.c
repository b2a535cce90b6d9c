/*
 * classify.c
 *	  Classifier scoring: ml.predict_proba, ml.predict_label, ml.classes,
 *	  each taking a model bytea or a model name, and a feature array or a
 *	  table row.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/logreg.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"

static void
require_classifier(const mlx_model *m, const char *fname)
{
	if (m->algorithm != MLX_ALG_LOGISTIC_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a classifier, but this is a %s model", fname,
						mlx_algorithm_name(m->algorithm)),
				 errhint("Score regression models with ml.predict.")));
}

/* P(class 1) of a binary classifier */
static double
positive_probability(const mlx_model *m, const void *x)
{
	return mlx_logreg_prob(&m->u.logreg, x);
}

double
ml_label_value(const mlx_model *m, int i)
{
	const char *label = m->u.logreg.classes[i];
	char	   *end;
	double		v;

	if (strcmp(label, "true") == 0)
		return 1;
	if (strcmp(label, "false") == 0)
		return 0;
	errno = 0;
	v = strtod(label, &end);
	if (end == label || *end != '\0' || errno != 0 || !isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the model predicts text labels (\"%s\", \"%s\"), which ml.predict cannot return as a number",
						m->u.logreg.classes[0], m->u.logreg.classes[1]),
				 errhint("Use ml.predict_label for the label or ml.predict_proba for the probabilities.")));
	return v;
}

static Datum
proba_array(const mlx_model *m, const void *x)
{
	double		p1 = positive_probability(m, x);
	Datum		elems[2];

	elems[0] = Float8GetDatum(1 - p1);
	elems[1] = Float8GetDatum(p1);
	return PointerGetDatum(construct_array(elems, 2, FLOAT8OID, sizeof(float8),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static Datum
label_text(const mlx_model *m, const void *x)
{
	return CStringGetTextDatum(m->u.logreg.classes[positive_probability(m, x) >= 0.5 ? 1 : 0]);
}

#define CLASSIFY_ENTRY(fn, by_name, row, what, result) \
PG_FUNCTION_INFO_V1(fn); \
Datum \
fn(PG_FUNCTION_ARGS) \
{ \
	const void *x; \
	const mlx_model *m = ml_model_and_features(fcinfo, by_name, row, &x); \
	require_classifier(m, what); \
	PG_RETURN_DATUM(result(m, x)); \
}

CLASSIFY_ENTRY(ml_predict_proba_array, false, false, "ml.predict_proba", proba_array)
CLASSIFY_ENTRY(ml_predict_proba_row, false, true, "ml.predict_proba", proba_array)
CLASSIFY_ENTRY(ml_predict_proba_name_array, true, false, "ml.predict_proba", proba_array)
CLASSIFY_ENTRY(ml_predict_proba_name_row, true, true, "ml.predict_proba", proba_array)
CLASSIFY_ENTRY(ml_predict_label_array, false, false, "ml.predict_label", label_text)
CLASSIFY_ENTRY(ml_predict_label_row, false, true, "ml.predict_label", label_text)
CLASSIFY_ENTRY(ml_predict_label_name_array, true, false, "ml.predict_label", label_text)
CLASSIFY_ENTRY(ml_predict_label_name_row, true, true, "ml.predict_label", label_text)

static Datum
classes_array(const mlx_model *m)
{
	Datum		elems[2];

	require_classifier(m, "ml.classes");
	elems[0] = CStringGetTextDatum(m->u.logreg.classes[0]);
	elems[1] = CStringGetTextDatum(m->u.logreg.classes[1]);
	return PointerGetDatum(construct_array(elems, 2, TEXTOID, -1, false, TYPALIGN_INT));
}

/* ml.classes(model bytea) RETURNS text[] */
PG_FUNCTION_INFO_V1(ml_classes);
Datum
ml_classes(PG_FUNCTION_ARGS)
{
	mlx_model	m;

	ml_decode_model(PG_GETARG_DATUM(0), &m);
	PG_RETURN_DATUM(classes_array(&m));
}

/* ml.classes(model_name text) RETURNS text[] */
PG_FUNCTION_INFO_V1(ml_classes_name);
Datum
ml_classes_name(PG_FUNCTION_ARGS)
{
	mlx_model	m;

	ml_registry_load(text_to_cstring(PG_GETARG_TEXT_PP(0)), CurrentMemoryContext, &m);
	PG_RETURN_DATUM(classes_array(&m));
}
