/*
 * classify.c
 *	  Classifier scoring (logistic regression, binary and multinomial, naive
 *	  Bayes, and tree models that classify):
 *	  ml.predict_proba, ml.predict_label, ml.classes, each taking a model
 *	  bytea or a model name, and a feature array or a table row.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/logreg.h"
#include "core/nbayes.h"
#include "pg/ml_pg.h"
#include "pg/ml_train.h"
#include "pg/ml_tree.h"

static void
require_classifier(const mlx_model *m, const char *fname)
{
	if (m->algorithm != MLX_ALG_LOGISTIC_REGRESSION &&
		m->algorithm != MLX_ALG_SOFTMAX_REGRESSION &&
		m->algorithm != MLX_ALG_NAIVE_BAYES &&
		!(ml_is_tree_model(m) && m->u.tree.objective != MLX_TREE_REGRESSION))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a classifier, but this is a %s model", fname,
						mlx_algorithm_name(m->algorithm)),
				 errhint("Score regression models with ml.predict.")));
}

/* the class labels of a classifier, in class index order */
static char **
class_labels(const mlx_model *m, int *n)
{
	if (m->algorithm == MLX_ALG_NAIVE_BAYES)
	{
		*n = m->u.nbayes.nclasses;
		return m->u.nbayes.classes;
	}
	if (m->algorithm == MLX_ALG_SOFTMAX_REGRESSION)
	{
		*n = m->u.softmax.nclasses;
		return m->u.softmax.classes;
	}
	if (ml_is_tree_model(m))
	{
		*n = m->u.tree.nclasses;
		return m->u.tree.classes;
	}
	*n = 2;
	return (char **) m->u.logreg.classes;
}

/*
 * Class probabilities into out (as many as classes); returns the index of
 * the predicted class: for a binary logistic model the positive class when
 * its probability is at least 1/2, for the others the most probable one.
 */
static int
class_probabilities(const mlx_model *m, const void *x, double *out)
{
	if (m->algorithm == MLX_ALG_NAIVE_BAYES)
		return mlx_nb_predict_proba(&m->u.nbayes, x, out);
	if (m->algorithm == MLX_ALG_SOFTMAX_REGRESSION)
		return mlx_softmax_predict_proba(&m->u.softmax, x, out);
	if (ml_is_tree_model(m))
	{
		int			best = 0;

		if (m->u.tree.objective == MLX_TREE_BINARY)
		{
			ml_tree_predict(m, x, &out[1]);
			out[0] = 1 - out[1];
			return out[1] >= 0.5 ? 1 : 0;
		}
		ml_tree_predict(m, x, out);
		for (int c = 1; c < m->u.tree.nclasses; c++)
			if (out[c] > out[best])
				best = c;
		return best;
	}
	out[1] = mlx_logreg_prob(&m->u.logreg, x);
	out[0] = 1 - out[1];
	return out[1] >= 0.5 ? 1 : 0;
}

/* the predicted class index of a classifier (ml.predict) */
int
ml_classify(const mlx_model *m, const void *x)
{
	double		two[2];
	double	   *p = two;
	int			n;
	int			c;

	(void) class_labels(m, &n);
	if (n > 2)
		p = palloc(sizeof(double) * n);
	c = class_probabilities(m, x, p);
	if (p != two)
		pfree(p);
	return c;
}

double
ml_label_value(const mlx_model *m, int i)
{
	int			n;
	char	  **labels = class_labels(m, &n);
	const char *label = labels[i];
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
				 errmsg("the model predicts text labels (\"%s\", \"%s\"%s), which ml.predict cannot return as a number",
						labels[0], labels[1], n > 2 ? ", ..." : ""),
				 errhint("Use ml.predict_label for the label or ml.predict_proba for the probabilities.")));
	return v;
}

static Datum
proba_array(const mlx_model *m, const void *x)
{
	int			n;
	double	   *p;
	Datum	   *elems;

	(void) class_labels(m, &n);
	p = palloc(sizeof(double) * n);
	elems = palloc(sizeof(Datum) * n);
	class_probabilities(m, x, p);
	for (int i = 0; i < n; i++)
		elems[i] = Float8GetDatum(p[i]);
	return PointerGetDatum(construct_array(elems, n, FLOAT8OID, sizeof(float8),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static Datum
label_text(const mlx_model *m, const void *x)
{
	int			n;
	char	  **labels = class_labels(m, &n);

	return CStringGetTextDatum(labels[ml_classify(m, x)]);
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

/*
 * ml._predict_proba_at(model bytea, x float8[], class int4) RETURNS float8:
 * the probability of one class (1-based, as ml.classes), without building
 * an array.  For ml.train's evaluation pass.
 */
PG_FUNCTION_INFO_V1(ml_predict_proba_at);
Datum
ml_predict_proba_at(PG_FUNCTION_ARGS)
{
	const void *x;
	const mlx_model *m = ml_model_and_features(fcinfo, false, false, &x);
	int32		i = PG_GETARG_INT32(2);
	int			n;
	double		two[2];
	double	   *p = two;
	double		r;

	require_classifier(m, "ml._predict_proba_at");
	(void) class_labels(m, &n);
	if (i < 1 || i > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("class %d is out of range for a classifier of %d classes", i, n)));
	if (n > 2)
		p = palloc(sizeof(double) * n);
	class_probabilities(m, x, p);
	r = p[i - 1];
	if (p != two)
		pfree(p);
	PG_RETURN_FLOAT8(r);
}

static Datum
classes_array(const mlx_model *m)
{
	int			n;
	char	  **labels;
	Datum	   *elems;

	require_classifier(m, "ml.classes");
	labels = class_labels(m, &n);
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(labels[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
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
