-- Multinomial logistic regression (logistic_regression with more than two
-- classes), the L-BFGS solver, the pass aggregate's bad input, and progress
-- NOTICEs of ml.train.  (Accuracy against statsmodels and scikit-learn is
-- in test/accuracy/softmax.py.)
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- three overlapping classes in the plane, deterministic
CREATE TABLE sm_cls AS
SELECT i, sin(i * 1.3) * 2 AS a, cos(i * 0.7) AS b,
       CASE WHEN sin(i * 1.3) * 2 + 0.8 * sin(i * 11.1) > 0.7 THEN 'high'
            WHEN cos(i * 0.7) + 0.8 * sin(i * 13.7) > 0 THEN 'mid'
            ELSE 'low' END AS label
FROM generate_series(1, 3000) AS i;

SELECT name, version, algorithm, metrics->>'evaluated_on' AS evaluated_on,
       (metrics->>'accuracy')::float8 > 0.6 AS accurate,
       metrics ? 'roc_auc' AS has_auc
FROM ml.train('sm_cls', 'sm_cls', 'label', 'logistic_regression', features => ARRAY['a', 'b']);

SELECT ml.classes('sm_cls') AS classes;
SELECT j->>'algorithm' AS algorithm, j->>'solver' AS solver, (j->>'converged')::bool AS converged,
       (j->>'passes')::int <= 12 AS few_passes
FROM ml.model_info(ml.model('sm_cls')) AS j;

-- every Newton pass lowers the objective; the score equations hold at the end
SELECT count(*) BETWEEN 3 AND 12 AS newton_passes, bool_and(loss IS NOT NULL) AS loss_recorded
FROM ml.training_info('sm_cls') WHERE name = 'newton';
SELECT bool_and(l2 <= l1 + 1e-9) AS loss_never_increases
FROM (SELECT loss AS l1, lead(loss) OVER (ORDER BY pass) AS l2
      FROM ml.training_info('sm_cls') WHERE name = 'newton') s WHERE l2 IS NOT NULL;
SELECT max(abs(score)) < 1e-6 AS score_equations_hold
FROM (SELECT c, sum((label = c)::int - p[array_position(ml.classes('sm_cls'), c)]) AS score
      FROM (SELECT label, ml.predict_proba('sm_cls', t) AS p FROM sm_cls t) s,
           unnest(ml.classes('sm_cls')) AS c GROUP BY c) z;

-- probabilities sum to 1; the label is the most probable class; by-array = by-row
SELECT bool_and(abs((SELECT sum(v) FROM unnest(p) v) - 1) < 1e-12) AS sums_to_one,
       bool_and(l = (ml.classes('sm_cls'))[(SELECT o FROM unnest(p) WITH ORDINALITY u(v, o) ORDER BY v DESC, o LIMIT 1)]) AS label_is_argmax,
       bool_and(p = ml.predict_proba('sm_cls', ARRAY[a, b])) AS array_form_agrees
FROM (SELECT a, b, ml.predict_proba('sm_cls', t) AS p, ml.predict_label('sm_cls', t) AS l FROM sm_cls t) s;

-- coefficients: class 0 ("high") is the reference without a penalty
SELECT class, term, estimate = 0 AS zero FROM ml.class_coefficients(ml.model('sm_cls'));
SELECT pg_temp.fails($$SELECT * FROM ml.coefficients(ml.model('sm_cls'))$$) AS coefficients;

-- with a penalty every class is free and the intercepts and slopes sum to 0
SELECT version FROM ml.train('sm_l2', 'sm_cls', 'label', 'logistic_regression',
                             features => ARRAY['a', 'b'], options => '{"lambda": 2}');
SELECT term, abs(sum(estimate)) < 1e-8 AS sums_to_zero
FROM ml.class_coefficients(ml.model('sm_l2')) GROUP BY term ORDER BY term;

-- L-BFGS reaches the Newton optimum
SELECT version FROM ml.train('sm_lbfgs', 'sm_cls', 'label', 'logistic_regression',
                             features => ARRAY['a', 'b'], options => '{"lambda": 2, "solver": "lbfgs"}');
SELECT (SELECT j->>'solver' FROM ml.model_info(ml.model('sm_lbfgs')) j) AS solver,
       max(abs(n.estimate - l.estimate)) < 1e-6 AS same_optimum
FROM ml.class_coefficients(ml.model('sm_l2')) n
JOIN ml.class_coefficients(ml.model('sm_lbfgs')) l USING (class, term);
SELECT count(*) > 3 AS lbfgs_passes FROM ml.training_info('sm_lbfgs') WHERE name = 'lbfgs';

-- a binary model by L-BFGS is an ordinary binary logistic model
SELECT version FROM ml.train('sm_bin', '(SELECT a, b, label = ''high'' AS high FROM sm_cls)', 'high',
                             'logistic_regression', options => '{"lambda": 1, "solver": "lbfgs"}');
SELECT version FROM ml.train('sm_bin_irls', '(SELECT a, b, label = ''high'' AS high FROM sm_cls)', 'high',
                             'logistic_regression', options => '{"lambda": 1}');
SELECT (SELECT j->>'algorithm' FROM ml.model_info(ml.model('sm_bin')) j) AS algorithm,
       max(abs(l.estimate - i.estimate)) < 1e-6 AS same_as_irls,
       bool_and(l.std_error IS NULL) AS no_std_errors
FROM ml.coefficients(ml.model('sm_bin')) l JOIN ml.coefficients(ml.model('sm_bin_irls')) i USING (term);

-- numeric labels: ml.predict returns the label
SELECT version FROM ml.train('sm_num', '(SELECT a, b, 10 * (1 + (label = ''mid'')::int + 2 * (label = ''low'')::int) AS grade FROM sm_cls)',
                             'grade', 'logistic_regression');
SELECT ml.classes('sm_num') AS classes,
       bool_and(ml.predict('sm_num', ARRAY[a, b])::text = ml.predict_label('sm_num', ARRAY[a, b])) AS predict_is_label
FROM sm_cls;

-- perfectly separated classes: a WARNING, never an endless loop; a penalty converges
CREATE TABLE sm_sep AS SELECT i::float8 AS x, CASE WHEN i <= 30 THEN 'a' WHEN i <= 60 THEN 'b' ELSE 'c' END AS y
FROM generate_series(1, 90) i;
SELECT version FROM ml.train('sm_sep', 'sm_sep', 'y', 'logistic_regression');
SELECT (j->>'separation')::bool AS separation, (j->>'converged')::bool AS converged
FROM ml.model_info(ml.model('sm_sep')) j;
SELECT version FROM ml.train('sm_sep', 'sm_sep', 'y', 'logistic_regression', options => '{"lambda": 1}');
SELECT (j->>'converged')::bool AS converged_with_penalty FROM ml.model_info(ml.model('sm_sep')) j;

-- the passes run as parallel aggregates and give the serial result
CREATE TABLE sm_big AS
SELECT i, sin(i) AS a, cos(i * 3.1) AS b,
       CASE WHEN sin(i) + sin(i * 7.7) > 0.5 THEN 'p' WHEN cos(i * 3.1) + sin(i * 5.3) > 0 THEN 'q' ELSE 'r' END AS y
FROM generate_series(1, 100000) AS i;
ANALYZE sm_big;
SET max_parallel_workers_per_gather = 0;
SELECT version FROM ml.train('sm_big_serial', 'sm_big', 'y', 'logistic_regression', features => ARRAY['a', 'b']);
SELECT version FROM ml.train('sm_big_serial_l', 'sm_big', 'y', 'logistic_regression', features => ARRAY['a', 'b'],
                             options => '{"solver": "lbfgs", "lambda": 1}');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT version FROM ml.train('sm_big', 'sm_big', 'y', 'logistic_regression', features => ARRAY['a', 'b']);
SELECT version FROM ml.train('sm_big_l', 'sm_big', 'y', 'logistic_regression', features => ARRAY['a', 'b'],
                             options => '{"solver": "lbfgs", "lambda": 1}');
-- every pass is planned parallel; whether the workers start before the
-- leader has read the rows is timing (an L-BFGS pass is light), so the
-- processes that saw rows are counted over both models' passes
SELECT name, min(workers_planned) AS workers_planned
FROM (SELECT * FROM ml.training_info('sm_big') UNION ALL SELECT * FROM ml.training_info('sm_big_l')) t
WHERE name IN ('newton', 'lbfgs') GROUP BY name ORDER BY name;
SELECT bool_or(processes > 1) AS several_processes
FROM (SELECT * FROM ml.training_info('sm_big') UNION ALL SELECT * FROM ml.training_info('sm_big_l')) t
WHERE name IN ('newton', 'lbfgs');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT max(abs(p.estimate - s.estimate) / greatest(abs(s.estimate), 1e-12)) < 1e-9 AS newton_same_as_serial
FROM ml.class_coefficients(ml.model('sm_big')) p JOIN ml.class_coefficients(ml.model('sm_big_serial')) s USING (class, term);
SELECT max(abs(p.estimate - s.estimate)) < 1e-6 AS lbfgs_same_as_serial
FROM ml.class_coefficients(ml.model('sm_big_l')) p JOIN ml.class_coefficients(ml.model('sm_big_serial_l')) s USING (class, term);
DROP TABLE sm_big, sm_sep;

-- bad input
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('bad solver', $q$SELECT ml.train('m', 'sm_cls', 'label', 'logistic_regression', options => '{"solver": "sgd"}')$q$),
  ('newton too wide', $q$SELECT ml.train('m', '(SELECT array_fill(i::float8, ARRAY[600]) AS x, label FROM sm_cls)', 'label', 'logistic_regression', options => '{"solver": "newton"}')$q$),
  ('class weight of unknown class', $q$SELECT ml.train('m', 'sm_cls', 'label', 'logistic_regression', options => '{"class_weight": {"other": 2}}')$q$),
  ('class out of range', $q$SELECT ml._softmax_pass(5, ARRAY[a, b], ml.model('sm_cls'), true) FROM sm_cls$q$),
  ('wrong length', $q$SELECT ml._softmax_pass(0, ARRAY[a], ml.model('sm_cls'), true) FROM sm_cls$q$),
  ('NaN feature', $q$SELECT ml._softmax_pass(0, ARRAY[a, 'NaN'], ml.model('sm_cls'), false) FROM sm_cls$q$),
  ('not a multinomial model', $q$SELECT ml._softmax_pass(0, ARRAY[a, b], ml.model('sm_bin'), false) FROM sm_cls$q$),
  ('NULL model', $q$SELECT ml._softmax_pass(0, ARRAY[a, b], NULL, false) FROM sm_cls$q$),
  ('overflow', $q$SELECT ml._softmax_pass(0, ARRAY[a * 1e307, b], ml.model('sm_l2'), true) FROM sm_cls$q$)
) AS t(c, q);

-- a cancel (here statement_timeout) stops training; nothing is written
SELECT count(*) AS models_before FROM ml.models \gset
SET statement_timeout = '1s';
\set VERBOSITY sqlstate
SELECT version FROM ml.train('sm_cancel',
  '(SELECT sin(i) AS a, cos(i) AS b, (i % 5)::text AS label FROM generate_series(1, 20000000) i)',
  'label', 'logistic_regression', options => '{"lambda": 1}');
RESET statement_timeout;
\set VERBOSITY default
SELECT count(*) = :models_before AS nothing_written FROM ml.models;

-- a hand-made state is validated
CREATE AGGREGATE pg_temp.bad_pass(int4, float8[], bytea, boolean) (
    SFUNC = ml._softmax_pass_sfunc, STYPE = bytea, INITCOND = '\x00112233');
SELECT pg_temp.fails($$SELECT pg_temp.bad_pass(0, ARRAY[a, b], ml.model('sm_cls'), true) FROM sm_cls$$) AS hand_made_state;
SELECT pg_temp.fails($$SELECT ml._softmax_pass_combine('\x0011'::bytea, '\x0011'::bytea)$$) AS combine_outside_aggregate;

-- NULL classes and features are skipped, not errors
SELECT length(ml._softmax_pass(CASE WHEN i % 7 = 0 THEN NULL ELSE 0 END,
                               CASE WHEN i % 5 = 0 THEN NULL ELSE ARRAY[a, b] END,
                               ml.model('sm_cls'), false)) > 0 AS skipped_nulls
FROM sm_cls;

-- progress: every pass is a NOTICE at ml.progress_interval = 0
SET ml.progress_interval = 0;
\set VERBOSITY terse
SELECT version FROM ml.train('sm_progress', '(SELECT a, b, label FROM sm_cls WHERE i <= 300)', 'label',
                             'logistic_regression', options => '{"max_iter": 2, "lambda": 1}');
SET client_min_messages = warning;
SELECT version FROM ml.train('sm_progress', '(SELECT a, b, label FROM sm_cls WHERE i <= 300)', 'label',
                             'logistic_regression', options => '{"max_iter": 2, "lambda": 1}');
RESET client_min_messages;
RESET ml.progress_interval;
\set VERBOSITY default
SELECT pg_temp.fails($$SET ml.progress_interval = -2$$) AS bad_interval;

SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'sm\_%' ORDER BY name;
DROP TABLE sm_cls;
