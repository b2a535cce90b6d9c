-- Logistic regression through ml.train: IRLS passes as parallel aggregates,
-- classifier scoring and evaluation.  (Accuracy against statsmodels and
-- scikit-learn is in test/accuracy/logreg.py.)
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- two overlapping classes along a and b, deterministic
CREATE TABLE lr_cls AS
SELECT i, sin(i * 1.3) * 2 AS a, cos(i * 0.7) AS b,
       CASE WHEN 1.5 * sin(i * 1.3) * 2 - cos(i * 0.7) + sin(i * 17.1) > 0 THEN 'yes' ELSE 'no' END AS label,
       (i % 5 = 0) AS flag
FROM generate_series(1, 2000) AS i;

SELECT name, version, algorithm, metrics->>'evaluated_on' AS evaluated_on,
       round((metrics->>'accuracy')::numeric, 2) > 0.8 AS accurate
FROM ml.train('lr_cls', 'lr_cls', 'label', 'logistic_regression', features => ARRAY['a', 'b']);

SELECT ml.classes('lr_cls') AS classes, ml.classes(ml.model('lr_cls')) AS classes_of_bytes;
SELECT j->>'algorithm' AS algorithm, j->'classes' AS classes, j->>'positive_class' AS positive,
       (j->>'converged')::bool AS converged, (j->>'iterations')::int BETWEEN 3 AND 12 AS few_iterations,
       (j->>'log_likelihood')::float8 > (j->>'null_log_likelihood')::float8 AS better_than_null
FROM ml.model_info(ml.model('lr_cls')) AS j;

-- every IRLS pass lowers the loss; the score equations hold at the end
SELECT count(*) AS irls_passes,
       bool_and(loss IS NOT NULL) AS loss_recorded
FROM ml.training_info('lr_cls') WHERE name = 'irls';
SELECT bool_and(l2 <= l1 + 1e-9) AS loss_never_increases
FROM (SELECT loss AS l1, lead(loss) OVER (ORDER BY pass) AS l2
      FROM ml.training_info('lr_cls') WHERE name = 'irls') s WHERE l2 IS NOT NULL;
SELECT abs(sum(((label = 'yes')::int - (ml.predict_proba('lr_cls', c))[2]))) < 1e-6 AS intercept_score_zero,
       abs(sum(((label = 'yes')::int - (ml.predict_proba('lr_cls', c))[2]) * a)) < 1e-6 AS a_score_zero
FROM lr_cls c;

-- scoring forms agree: by name, by bytes, by row, by feature array
SELECT count(*) AS n,
       bool_and(abs((ml.predict_proba('lr_cls', c))[2] - (ml.predict_proba(ml.model('lr_cls'), c))[2]) < 1e-15) AS name_equals_bytes,
       bool_and(abs((ml.predict_proba('lr_cls', c))[2] - (ml.predict_proba('lr_cls', ARRAY[a, b]))[2]) < 1e-15) AS row_equals_array,
       bool_and(abs((ml.predict_proba('lr_cls', c))[1] + (ml.predict_proba('lr_cls', c))[2] - 1) < 1e-15) AS sums_to_one,
       bool_and(ml.predict_label('lr_cls', c) = CASE WHEN (ml.predict_proba('lr_cls', c))[2] >= 0.5 THEN 'yes' ELSE 'no' END) AS label_is_argmax
FROM lr_cls c;

SELECT actual, predicted, count > 0 AS seen FROM ml.confusion_matrix('lr_cls', 'lr_cls');
SELECT sum(count) AS total FROM ml.confusion_matrix('lr_cls', 'lr_cls');
SELECT count(*) > 10 AS points, min(fpr) = 0 AND max(fpr) = 1 AND min(tpr) = 0 AND max(tpr) = 1 AS spans,
       bool_and(threshold IS NOT NULL) AS thresholds
FROM ml.roc_curve('lr_cls', 'lr_cls');
SELECT metric FROM ml.evaluate('lr_cls', 'lr_cls');

-- numeric and boolean labels: ml.predict returns the label
SELECT version FROM ml.train('cls_bool', '(SELECT a, b, label = ''yes'' AS y FROM lr_cls)', 'y',
                             'logistic_regression');
SELECT ml.classes('cls_bool') AS classes,
       bool_and(ml.predict('cls_bool', ARRAY[a, b]) = (ml.predict_label('lr_cls', c) = 'yes')::int) AS same_labels
FROM lr_cls c;

-- a penalty shrinks the coefficients; separable data needs one
SELECT version FROM ml.train('cls_l2', 'lr_cls', 'label', 'logistic_regression',
                             features => ARRAY['a', 'b'], options => '{"lambda": 100}');
SELECT (SELECT abs(estimate) FROM ml.coefficients(ml.model('cls_l2')) WHERE term = 'a')
     < (SELECT abs(estimate) FROM ml.coefficients(ml.model('lr_cls')) WHERE term = 'a') AS shrunk;
CREATE TABLE sep AS SELECT i::float8 AS x, (i > 50) AS y FROM generate_series(1, 100) i;
SELECT version FROM ml.train('sep', 'sep', 'y', 'logistic_regression');
SELECT (j->>'separation')::bool AS separation, (j->>'converged')::bool AS converged
FROM ml.model_info(ml.model('sep')) j;
SELECT version FROM ml.train('sep', 'sep', 'y', 'logistic_regression', options => '{"lambda": 1}');
SELECT (j->>'converged')::bool AS converged_with_penalty FROM ml.model_info(ml.model('sep')) j;

-- the IRLS passes run as parallel aggregates
CREATE TABLE big_cls AS
SELECT i, sin(i) AS a, cos(i * 3.1) AS b, (sin(i) + cos(i * 3.1) + sin(i * 7.7) > 0) AS y
FROM generate_series(1, 100000) AS i;
ANALYZE big_cls;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT version FROM ml.train('big_cls', 'big_cls', 'y', 'logistic_regression', features => ARRAY['a', 'b']);
SELECT DISTINCT name, workers_planned FROM ml.training_info('big_cls') ORDER BY 1;
-- a boolean target's first step comes from the start pass (the ridge fit of
-- the 0/1 target, mapped to the IRLS step from the intercept-only model);
-- the same labels as integers take the usual passes: the same model
SELECT version FROM ml.train('big_cls01', '(SELECT a, b, y::int AS y FROM big_cls)', 'y',
                             'logistic_regression', features => ARRAY['a', 'b']);
SELECT DISTINCT name FROM ml.training_info('big_cls01') ORDER BY 1;
SELECT max(abs(p.estimate - q.estimate)) < 1e-9 AS same_coefficients,
       max(abs(p.std_error - q.std_error)) < 1e-9 AS same_std_errors
FROM ml.coefficients(ml.model('big_cls')) p JOIN ml.coefficients(ml.model('big_cls01')) q USING (term);
-- with a penalty (the first step's ridge penalty is lambda / w), and with a
-- NULL feature (the start pass gives way to the statistics pass)
SELECT version FROM ml.train('big_cls_l', '(SELECT a, b, y FROM big_cls)', 'y', 'logistic_regression',
                             options => '{"lambda": 50}');
SELECT version FROM ml.train('big_cls01_l', '(SELECT a, b, y::int AS y FROM big_cls)', 'y', 'logistic_regression',
                             options => '{"lambda": 50}');
SELECT max(abs(p.estimate - q.estimate)) < 1e-9 AS same_penalized_coefficients,
       max(abs(p.estimate - u.estimate)) > 1e-6 AS the_penalty_shows
FROM ml.coefficients(ml.model('big_cls_l')) p JOIN ml.coefficients(ml.model('big_cls01_l')) q USING (term)
JOIN ml.coefficients(ml.model('big_cls')) u USING (term);
SELECT version FROM ml.train('big_cls_n', '(SELECT CASE WHEN i = 7 THEN NULL ELSE a END AS a, b, y FROM big_cls)', 'y',
                             'logistic_regression');
SELECT string_agg(p->>'name', ', ' ORDER BY (p->>'pass')::int) AS passes
FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p
WHERE m.name = 'big_cls_n' AND p->>'name' <> 'irls';
SELECT ml.drop_model(name) FROM ml.model_names WHERE name IN ('big_cls01', 'big_cls_l', 'big_cls01_l', 'big_cls_n');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- bad input
SELECT version FROM ml.train('reg', 'lr_cls', 'a', features => ARRAY['b']);
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('single class', $q$SELECT ml.train('m', '(SELECT a, ''yes''::text AS label FROM lr_cls)', 'label', 'logistic_regression')$q$),
  ('1001 classes', $q$SELECT ml.train('m', '(SELECT a, (i % 1001)::text AS label FROM lr_cls)', 'label', 'logistic_regression')$q$),
  ('unknown option', $q$SELECT ml.train('m', 'lr_cls', 'label', 'logistic_regression', options => '{"alpha": 1}')$q$),
  ('bad max_iter', $q$SELECT ml.train('m', 'lr_cls', 'label', 'logistic_regression', options => '{"max_iter": 0}')$q$),
  ('bad tol', $q$SELECT ml.train('m', 'lr_cls', 'label', 'logistic_regression', options => '{"tol": 2}')$q$),
  ('bad class_weight', $q$SELECT ml.train('m', 'lr_cls', 'label', 'logistic_regression', options => '{"class_weight": {"maybe": 2}}')$q$),
  ('negative class_weight', $q$SELECT ml.train('m', 'lr_cls', 'label', 'logistic_regression', options => '{"class_weight": {"yes": -1}}')$q$),
  ('array target', $q$SELECT ml.train('m', '(SELECT a, ARRAY[b] AS t FROM lr_cls)', 't', 'logistic_regression')$q$),
  ('text labels to ml.predict', $q$SELECT ml.predict('lr_cls', ARRAY[1.0, 2.0]::float8[])$q$),
  ('proba of a regression', $q$SELECT ml.predict_proba((SELECT ml.linreg_fit(b, ARRAY[a]) FROM lr_cls), ARRAY[1.0]::float8[])$q$),
  ('classes of a regression', $q$SELECT ml.classes((SELECT ml.linreg_fit(b, ARRAY[a]) FROM lr_cls))$q$),
  ('roc of one class', $q$SELECT * FROM ml.roc_curve('lr_cls', '(SELECT * FROM lr_cls WHERE label = ''yes'')')$q$),
  ('confusion of a regression', $q$SELECT * FROM ml.confusion_matrix('reg', 'lr_cls')$q$),
  ('pass called directly', $q$SELECT ml._glm_pass_final('\x00'::bytea)$q$)
) AS cases(c, q);
SELECT count(*) AS no_model_m FROM ml.models WHERE name = 'm';

SELECT ml.drop_model(name) FROM ml.model_names ORDER BY name;
