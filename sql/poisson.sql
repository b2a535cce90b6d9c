-- Poisson regression through ml.train: IRLS passes as parallel aggregates
-- (the same ml._glm_pass as logistic regression), scoring, inspection and
-- bad input.  (Accuracy against statsmodels GLM Poisson and scikit-learn's
-- PoissonRegressor is in test/accuracy/poisson.py.)
SET extra_float_digits = 0;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- counts around exp(0.5 + 0.8 a - 0.3 b), deterministic
CREATE TABLE visits AS
SELECT i, sin(i * 1.3) AS a, cos(i * 0.7) AS b,
       CASE WHEN i % 3 = 0 THEN 'north' ELSE 'south' END AS region
FROM generate_series(1, 3000) AS i;
ALTER TABLE visits ADD COLUMN n int;
UPDATE visits SET n = floor(exp(0.5 + 0.8 * a - 0.3 * b) * (1 + 0.5 * sin(i * 17.1)) + 0.5 * (1 + sin(i * 3.7)))::int;
ANALYZE visits;

SELECT name, version, algorithm, metrics->>'evaluated_on' AS evaluated_on
FROM ml.train('visits', 'visits', 'n', 'poisson_regression', features => ARRAY['a', 'b']);
SELECT j->>'algorithm' AS algorithm, (j->>'converged')::bool AS converged,
       (j->>'iterations')::int BETWEEN 3 AND 12 AS few_iterations,
       (j->>'log_likelihood')::float8 > (j->>'null_log_likelihood')::float8 AS better_than_null,
       (j->>'deviance')::float8 < (j->>'null_deviance')::float8 AS less_deviance
FROM ml.model_info(ml.model('visits')) AS j;
SELECT term, round(estimate::numeric, 1) AS estimate, std_error > 0 AS has_se, p_value < 0.001 AS significant
FROM ml.coefficients(ml.model('visits')) WHERE term IN ('a', 'b');
-- the score equations hold: sum (y - mu) x = 0 for the intercept and each feature
SELECT abs(sum(n - ml.predict('visits', v))) < 1e-6 AS intercept_score_zero,
       abs(sum((n - ml.predict('visits', v)) * a)) < 1e-6 AS a_score_zero
FROM visits v;
-- predictions are expected counts exp(eta) and never negative
SELECT bool_and(ml.predict('visits', v) > 0) AS positive,
       bool_and(abs(ml.predict('visits', v) - ml.predict(ml.model('visits'), v)) < 1e-12) AS name_equals_bytes
FROM visits v;
SELECT count(*) AS irls_passes, bool_and(loss IS NOT NULL) AS loss_recorded
FROM ml.training_info('visits') WHERE name = 'irls';
SELECT metric FROM ml.evaluate('visits', 'visits');
-- a penalty shrinks the slopes
SELECT version FROM ml.train('visits_l2', 'visits', 'n', 'poisson_regression',
                             features => ARRAY['a', 'b'], options => '{"lambda": 1000}');
SELECT (SELECT abs(estimate) FROM ml.coefficients(ml.model('visits_l2')) WHERE term = 'a')
     < (SELECT abs(estimate) FROM ml.coefficients(ml.model('visits')) WHERE term = 'a') AS shrunk;
-- NULL targets are skipped and counted
SELECT (metrics->>'n_skipped')::int AS skipped
FROM ml.train('visits_nulls', '(SELECT a, b, CASE WHEN i % 10 = 0 THEN NULL ELSE n END AS n FROM visits)', 'n',
              'poisson_regression');

-- the IRLS passes run as parallel aggregates
CREATE TABLE big_visits AS
SELECT i, sin(i) AS a, cos(i * 3.1) AS b, floor(2 + sin(i) + cos(i * 3.1))::int AS n
FROM generate_series(1, 100000) AS i;
ANALYZE big_visits;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT version FROM ml.train('big_visits', 'big_visits', 'n', 'poisson_regression', features => ARRAY['a', 'b']);
SELECT DISTINCT name, workers_planned FROM ml.training_info('big_visits') ORDER BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- bad input
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('negative count', $q$SELECT ml.train('m', '(SELECT a, b, n - 5 AS n FROM visits)', 'n', 'poisson_regression')$q$),
  ('all zero', $q$SELECT ml.train('m', '(SELECT a, b, 0 AS n FROM visits)', 'n', 'poisson_regression')$q$),
  ('NaN count', $q$SELECT ml.train('m', '(SELECT a, b, CASE WHEN i = 7 THEN ''NaN''::float8 ELSE n END AS n FROM visits)', 'n', 'poisson_regression')$q$),
  ('text target', $q$SELECT ml.train('m', '(SELECT a, region FROM visits)', 'region', 'poisson_regression')$q$),
  ('unknown option', $q$SELECT ml.train('m', 'visits', 'n', 'poisson_regression', options => '{"alpha": 1}')$q$),
  ('bad lambda', $q$SELECT ml.train('m', 'visits', 'n', 'poisson_regression', options => '{"lambda": -1}')$q$),
  ('no target', $q$SELECT ml.train('m', 'visits', NULL, 'poisson_regression')$q$),
  ('pass with a linear model', $q$SELECT ml._glm_pass(1, ARRAY[1.0]::float8[], (SELECT ml.linreg_fit(n, ARRAY[a]) FROM visits))$q$),
  ('negative count in a pass', $q$SELECT ml._glm_pass(-1, ARRAY[a], ml.model('visits_l2')) FROM visits$q$)
) AS cases(c, q);
SELECT count(*) AS no_model_m FROM ml.models WHERE name = 'm';
SELECT ml.drop_model(name) FROM ml.model_names ORDER BY name;
