-- Naive Bayes: the one-pass aggregate, ml.train with text, integer and
-- boolean targets, multiclass scoring and evaluation, bad input.
-- (Accuracy against scikit-learn is in test/accuracy/nbayes.py.)
SET extra_float_digits = 0;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- three species separated along a and b, deterministic
CREATE TABLE flowers AS
SELECT i, (ARRAY['setosa', 'versicolor', 'virginica'])[1 + i % 3] AS species,
       (i % 3) * 2.0 + sin(i * 1.7) * 0.8 AS a, (i % 3) * -1.5 + cos(i * 2.9) * 0.6 AS b,
       (i % 3) AS kind, abs(floor((i % 3) * 3 + 2 * sin(i)))::int AS petals
FROM generate_series(1, 900) AS i;
ANALYZE flowers;

SELECT name, version, algorithm, round((metrics->>'accuracy')::numeric, 2) >= 0.95 AS accurate,
       metrics ? 'roc_auc' AS has_roc_auc
FROM ml.train('flowers', 'flowers', 'species', 'naive_bayes', features => ARRAY['a', 'b']);
SELECT ml.classes('flowers');
SELECT species, ml.predict_label('flowers', f) AS predicted, count(*)
FROM flowers f GROUP BY 1, 2 ORDER BY 1, 2;
SELECT bool_and(abs((SELECT sum(p) FROM unnest(ml.predict_proba('flowers', f)) p) - 1) < 1e-12) AS sums_to_one,
       bool_and(array_length(ml.predict_proba('flowers', f), 1) = 3) AS three,
       bool_and(ml.predict_label('flowers', f) = (ml.classes('flowers'))[
                  array_position(ml.predict_proba('flowers', f),
                                 (SELECT max(p) FROM unnest(ml.predict_proba('flowers', f)) p))]) AS label_is_argmax,
       bool_and(ml.predict_label('flowers', f) = ml.predict_label(ml.model('flowers'), ARRAY[a, b])) AS row_equals_array
FROM flowers f;
SELECT metric FROM ml.evaluate('flowers', 'flowers');
SELECT count(*) AS cells, sum(count) AS total FROM ml.confusion_matrix('flowers', 'flowers');
SELECT j->>'algorithm' AS algorithm, j->>'distribution' AS distribution, j->'classes' AS classes
FROM ml.model_info(ml.model('flowers')) j;
-- integer labels: ml.predict returns the label as a number
SELECT version FROM ml.train('kinds', 'flowers', 'kind', 'naive_bayes', features => ARRAY['a', 'b']);
SELECT ml.classes('kinds'), bool_and(ml.predict('kinds', f) = kind) AS predicts_kind FROM flowers f;
-- boolean (binary) target: binary metrics, ROC curve
SELECT (metrics ? 'roc_auc') AS has_roc_auc
FROM ml.train('is_setosa', '(SELECT a, b, species = ''setosa'' AS setosa FROM flowers)', 'setosa', 'naive_bayes');
SELECT count(*) > 2 AS roc_points FROM ml.roc_curve('is_setosa', '(SELECT a, b, species = ''setosa'' AS setosa FROM flowers)');
-- multinomial counts
SELECT version FROM ml.train('by_petals', 'flowers', 'species', 'naive_bayes', features => ARRAY['petals'],
                             options => '{"distribution": "multinomial", "alpha": 0.5}');
SELECT (j->>'alpha')::float8 AS alpha, j->>'distribution' AS distribution FROM ml.model_info(ml.model('by_petals')) j;
-- the plain aggregate, with GROUP BY and NULL rows skipped
SELECT i % 2 AS grp, (ml.model_info(ml.naive_bayes_fit((kind = 0)::int, CASE WHEN i % 9 = 0 THEN NULL ELSE ARRAY[a, b] END, 2))->>'n_skipped')::int AS skipped
FROM flowers GROUP BY 1 ORDER BY 1;

-- the pass runs as a Partial Aggregate under Gather
CREATE TABLE big_flowers AS SELECT i % 3 AS kind, ARRAY[sin(i) + i % 3, cos(i)] AS x FROM generate_series(1, 100000) i;
ANALYZE big_flowers;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml.naive_bayes_fit(kind, x, 3) FROM big_flowers;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- bad input
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('class out of range', $q$SELECT ml.naive_bayes_fit(kind + 1, ARRAY[a], 3) FROM flowers$q$),
  ('a class without rows', $q$SELECT ml.naive_bayes_fit(kind, ARRAY[a], 4) FROM flowers$q$),
  ('one class', $q$SELECT ml.naive_bayes_fit(0, ARRAY[a], 1) FROM flowers$q$),
  ('unknown distribution', $q$SELECT ml.naive_bayes_fit(kind, ARRAY[a], 3, 'poisson') FROM flowers$q$),
  ('negative count', $q$SELECT ml.naive_bayes_fit(kind, ARRAY[a], 3, 'multinomial') FROM flowers$q$),
  ('NaN feature', $q$SELECT ml.naive_bayes_fit(kind, ARRAY['NaN'::float8], 3) FROM flowers$q$),
  ('single class target', $q$SELECT ml.train('m', '(SELECT a, ''x''::text AS t FROM flowers)', 't', 'naive_bayes')$q$),
  ('bad distribution option', $q$SELECT ml.train('m', 'flowers', 'species', 'naive_bayes', options => '{"distribution": "bernoulli"}')$q$),
  ('bad alpha option', $q$SELECT ml.train('m', 'flowers', 'species', 'naive_bayes', options => '{"alpha": 0}')$q$),
  ('bad var_smoothing option', $q$SELECT ml.train('m', 'flowers', 'species', 'naive_bayes', options => '{"var_smoothing": -1}')$q$),
  ('ROC of a multiclass model', $q$SELECT * FROM ml.roc_curve('flowers', 'flowers')$q$),
  ('text labels to ml.predict', $q$SELECT ml.predict('flowers', ARRAY[1.0, 2.0]::float8[])$q$)
) AS cases(c, q);
SELECT count(*) AS no_model_m FROM ml.models WHERE name = 'm';
SELECT ml.drop_model(name) FROM ml.model_names ORDER BY name;
