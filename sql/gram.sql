-- Lasso, elastic net and PCA: one-pass parallel aggregates over the
-- streaming QR state, ml.train with and without a target, scoring,
-- inspection and bad input.  (Accuracy against scikit-learn is in
-- test/accuracy/gram.py.)
SET extra_float_digits = 0;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- y = 2 + 3 a - b (+ small noise); c is pure noise, d nearly equals a
CREATE TABLE g AS
SELECT i, (i % 7 = 0) AS grp,
       sin(i * 0.37) * 3 AS a, cos(i * 1.91) AS b, sin(i * 5.3) AS c,
       sin(i * 0.37) * 3 + 0.01 * cos(i * 13.1) AS d
FROM generate_series(1, 3000) AS i;
ALTER TABLE g ADD COLUMN y float8;
UPDATE g SET y = 2 + 3 * a - b + 0.05 * sin(i * 11.7);
ANALYZE g;

-- lasso: alpha 0 is least squares; a large alpha keeps only the intercept
SELECT term, round(estimate::numeric, 6) AS estimate, std_error
FROM ml.coefficients((SELECT ml.lasso_fit(y, ARRAY[a, b, c], 0) FROM g));
SELECT term, round(estimate::numeric, 6) AS estimate
FROM ml.coefficients((SELECT ml.lasso_fit(y, ARRAY[a, b, c], 1000) FROM g));
SELECT abs(estimate - (SELECT avg(y) FROM g)) < 1e-12 AS intercept_is_mean
FROM ml.coefficients((SELECT ml.lasso_fit(y, ARRAY[a, b, c], 1000) FROM g)) WHERE term = 'intercept';
-- a moderate penalty zeroes the noise feature and shrinks the others
SELECT term, estimate = 0 AS zero
FROM ml.coefficients((SELECT ml.lasso_fit(y, ARRAY[a, b, c], 0.1) FROM g));
SELECT j->>'algorithm' AS algorithm, (j->>'alpha')::float8 AS alpha, (j->>'l1_ratio')::float8 AS l1_ratio,
       (j->>'converged')::bool AS converged, (j->>'nonzero')::int AS nonzero, (j->>'n_rows')::int AS n_rows
FROM ml.model_info((SELECT ml.lasso_fit(y, ARRAY[a, b, c], 0.1) FROM g)) j;
-- elastic net: l1_ratio 1 is the lasso
SELECT bool_and(abs(l.estimate - e.estimate) < 1e-12) AS enet_l1_1_is_lasso
FROM ml.coefficients((SELECT ml.lasso_fit(y, ARRAY[a, b, c, d], 0.05) FROM g)) l
JOIN ml.coefficients((SELECT ml.elastic_net_fit(y, ARRAY[a, b, c, d], 0.05, 1) FROM g)) e USING (term);
-- the near-duplicate d shares a's weight under the ridge part
SELECT (SELECT estimate FROM ml.coefficients(m) WHERE term = 'x4') > 0.5 AS d_shares_weight
FROM (SELECT ml.elastic_net_fit(y, ARRAY[a, b, c, d], 0.05, 0.1) AS m FROM g) s;
-- scoring: intercept + x.beta
SELECT bool_and(abs(ml.predict(m, ARRAY[a, b, c]) -
                    ((SELECT estimate FROM ml.coefficients(m) WHERE term = 'intercept') +
                     a * (SELECT estimate FROM ml.coefficients(m) WHERE term = 'x1') +
                     b * (SELECT estimate FROM ml.coefficients(m) WHERE term = 'x2') +
                     c * (SELECT estimate FROM ml.coefficients(m) WHERE term = 'x3'))) < 1e-9) AS predict_ok
FROM g, (SELECT ml.elastic_net_fit(y, ARRAY[a, b, c], 0.02, 0.5) AS m FROM g) s;
-- NULL rows are skipped and counted; GROUP BY gives one model per group
SELECT (ml.model_info(ml.lasso_fit(y, CASE WHEN i % 10 = 0 THEN NULL ELSE ARRAY[a, b] END, 0.01))->>'n_skipped')::int AS skipped
FROM g;
SELECT grp, (ml.model_info(ml.lasso_fit(y, ARRAY[a, b], 0.01))->>'n_rows')::int AS n_rows
FROM g GROUP BY grp ORDER BY grp;
SELECT ml.lasso_fit(y, ARRAY[a], 0.1) IS NULL AS no_rows FROM g WHERE false;

-- PCA: components are orthonormal, variances non-increasing, ratios sum to 1
SELECT component, round(explained_variance_ratio::numeric, 4) AS ratio, array_length(loadings, 1) AS k
FROM ml.components((SELECT ml.pca_fit(ARRAY[a, b, c, d]) FROM g));
SELECT round(sum(explained_variance_ratio)::numeric, 12) AS total
FROM ml.components((SELECT ml.pca_fit(ARRAY[a, b, c, d]) FROM g));
WITH c AS (SELECT component, loadings FROM ml.components((SELECT ml.pca_fit(ARRAY[a, b, c, d], 3) FROM g)))
SELECT bool_and(abs(dot - CASE WHEN c1.component = c2.component THEN 1 ELSE 0 END) < 1e-12) AS orthonormal
FROM c c1, c c2, LATERAL (SELECT sum(u * v) AS dot FROM unnest(c1.loadings, c2.loadings) AS t(u, v)) d;
-- transformed rows have mean 0 and the explained variances
WITH m AS (SELECT ml.pca_fit(ARRAY[a, b, c, d], 2) AS m FROM g),
     t AS (SELECT ml.transform(m.m, ARRAY[a, b, c, d]) AS z FROM g, m)
SELECT abs(avg(z[1])) < 1e-9 AS centred,
       abs(var_samp(z[1]) - (SELECT explained_variance FROM ml.components((SELECT m FROM m)) WHERE component = 1)) < 1e-9 AS variance_1,
       abs(var_samp(z[2]) - (SELECT explained_variance FROM ml.components((SELECT m FROM m)) WHERE component = 2)) < 1e-9 AS variance_2,
       abs(corr(z[1], z[2])) < 1e-9 AS uncorrelated
FROM t;

-- ml.train: lasso and elastic net by name, PCA with target => NULL
SELECT name, version, algorithm, metrics->>'evaluated_on' AS evaluated_on, (metrics->>'r2')::float8 > 0.99 AS fits
FROM ml.train('g_lasso', 'g', 'y', 'lasso', features => ARRAY['a', 'b', 'c'], options => '{"alpha": 0.01}');
SELECT name, version, algorithm, (metrics->>'n_test')::int AS n_test
FROM ml.train('g_enet', 'g', 'y', 'elastic_net', features => ARRAY['a', 'b', 'c', 'grp'],
              options => '{"alpha": 0.01, "l1_ratio": 0.7, "test_fraction": 0.2, "seed": 3}');
SELECT term FROM ml.coefficients(ml.model('g_enet'));
SELECT bool_and(abs(ml.predict('g_lasso', g) - ml.predict(ml.model('g_lasso'), ARRAY[a, b, c])) < 1e-12) AS by_row_equals_array
FROM g;
SELECT metric FROM ml.evaluate('g_enet', 'g');
SELECT name, version, algorithm, (metrics->>'n_components')::int AS n_components,
       round((metrics->>'explained_variance_ratio')::numeric, 6) < 1 AS partial
FROM ml.train('g_pca', 'g', NULL, 'pca', features => ARRAY['a', 'b', 'c', 'd'], options => '{"n_components": 2}');
SELECT target IS NULL AS no_target, features FROM ml.models WHERE name = 'g_pca';
SELECT bool_and(ml.transform('g_pca', g) = ml.transform(ml.model('g_pca'), ARRAY[a, b, c, d])) AS by_row_equals_array,
       bool_and(array_length(ml.transform('g_pca', g), 1) = 2) AS two_components
FROM g;
SELECT count(*) AS components FROM ml.components('g_pca');
-- every column but the excluded ones; categorical columns are one-hot encoded
SELECT version, (metrics->>'n_components')::int AS n_components
FROM ml.train('g_pca_all', '(SELECT a, b, c, CASE WHEN grp THEN ''x'' ELSE ''y'' END AS cat, i FROM g)', NULL, 'pca',
              options => '{"exclude": ["i"]}');

-- the pass runs as a Partial Aggregate under Gather
CREATE TABLE big_g AS SELECT i, sin(i) AS a, cos(i * 3.1) AS b FROM generate_series(1, 100000) AS i;
ANALYZE big_g;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml.elastic_net_fit(a, ARRAY[b], 0.1, 0.5) FROM big_g;
EXPLAIN (COSTS OFF) SELECT ml.pca_fit(ARRAY[a, b]) FROM big_g;
CREATE TEMP TABLE par AS
SELECT ml.elastic_net_fit(a + 0.5 * b, ARRAY[b, a * b], 0.01, 0.5) AS e, ml.pca_fit(ARRAY[a, b]) AS p FROM big_g;
SELECT version FROM ml.train('big_g', 'big_g', 'a', 'lasso', features => ARRAY['b'], options => '{"alpha": 0.001}');
SELECT name, workers_planned FROM ml.training_info('big_g') WHERE name = 'fit';
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
SELECT bool_and(abs(s.estimate - p.estimate) <= 1e-9 * abs(s.estimate) + 1e-15) AS parallel_equals_serial
FROM ml.coefficients((SELECT e FROM par)) p
JOIN ml.coefficients((SELECT ml.elastic_net_fit(a + 0.5 * b, ARRAY[b, a * b], 0.01, 0.5) FROM big_g)) s USING (term);
SELECT bool_and(abs(s.explained_variance - p.explained_variance) <= 1e-9 * s.explained_variance) AS pca_parallel_equals_serial
FROM ml.components((SELECT p FROM par)) p
JOIN ml.components((SELECT ml.pca_fit(ARRAY[a, b]) FROM big_g)) s USING (component);
RESET max_parallel_workers_per_gather;

-- bad input
CREATE AGGREGATE pg_temp.bad_lasso(float8, float8[], float8) (
    SFUNC = ml._enet_sfunc, STYPE = bytea, FINALFUNC = ml._gram_final,
    INITCOND = '\x0102030405060708090a0b0c0d0e0f10');
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('negative alpha', $q$SELECT ml.lasso_fit(y, ARRAY[a], -1) FROM g$q$),
  ('NaN alpha', $q$SELECT ml.lasso_fit(y, ARRAY[a], 'NaN') FROM g$q$),
  ('NULL alpha', $q$SELECT ml.lasso_fit(y, ARRAY[a], NULL) FROM g$q$),
  ('l1_ratio above 1', $q$SELECT ml.elastic_net_fit(y, ARRAY[a], 0.1, 1.5) FROM g$q$),
  ('alpha varies', $q$SELECT ml.lasso_fit(y, ARRAY[a], i::float8) FROM g$q$),
  ('NaN feature', $q$SELECT ml.lasso_fit(y, ARRAY[a, 'NaN'], 0.1) FROM g$q$),
  ('infinite target', $q$SELECT ml.elastic_net_fit('Infinity', ARRAY[a], 0.1, 0.5) FROM g$q$),
  ('lengths differ', $q$SELECT ml.lasso_fit(y, CASE WHEN i = 5 THEN ARRAY[a] ELSE ARRAY[a, b] END, 0.1) FROM g$q$),
  ('n_components 0', $q$SELECT ml.pca_fit(ARRAY[a, b], 0) FROM g$q$),
  ('n_components > features', $q$SELECT ml.pca_fit(ARRAY[a, b], 3) FROM g$q$),
  ('one row for PCA', $q$SELECT ml.pca_fit(ARRAY[a, b]) FROM g WHERE i = 1$q$),
  ('n_components > rows', $q$SELECT ml.pca_fit(ARRAY[a, b, c], 3) FROM g WHERE i <= 2$q$),
  ('predict with PCA', $q$SELECT ml.predict((SELECT ml.pca_fit(ARRAY[a, b]) FROM g), ARRAY[1.0, 2.0]::float8[])$q$),
  ('transform with lasso', $q$SELECT ml.transform((SELECT ml.lasso_fit(y, ARRAY[a], 0.1) FROM g), ARRAY[1.0]::float8[])$q$),
  ('transform wrong length', $q$SELECT ml.transform((SELECT ml.pca_fit(ARRAY[a, b]) FROM g), ARRAY[1.0]::float8[])$q$),
  ('components of a lasso', $q$SELECT * FROM ml.components((SELECT ml.lasso_fit(y, ARRAY[a], 0.1) FROM g))$q$),
  ('pca with a target', $q$SELECT ml.train('m', 'g', 'y', 'pca')$q$),
  ('lasso without a target', $q$SELECT ml.train('m', 'g', NULL, 'lasso')$q$),
  ('unknown lasso option', $q$SELECT ml.train('m', 'g', 'y', 'lasso', options => '{"lambda": 1}')$q$),
  ('bad l1_ratio option', $q$SELECT ml.train('m', 'g', 'y', 'elastic_net', options => '{"l1_ratio": -0.1}')$q$),
  ('n_components option too big', $q$SELECT ml.train('m', 'g', NULL, 'pca', features => ARRAY['a', 'b'], options => '{"n_components": 3}')$q$),
  ('test_fraction for PCA', $q$SELECT ml.train('m', 'g', NULL, 'pca', options => '{"test_fraction": 0.2}')$q$),
  ('evaluate a PCA', $q$SELECT * FROM ml.evaluate('g_pca', 'g')$q$),
  ('text target for lasso', $q$SELECT ml.train('m', '(SELECT a, b::text AS t FROM g)', 't', 'lasso')$q$),
  ('sfunc called directly', $q$SELECT ml._gram_final('\x00'::bytea)$q$),
  ('hand-made state', $q$SELECT pg_temp.bad_lasso(y, ARRAY[a], 0.1) FROM g$q$),
  ('PCA of values near DBL_MAX', $q$SELECT ml.pca_fit(ARRAY[a * 1e300, b]) FROM g$q$),
  ('lasso of values near DBL_MAX', $q$SELECT ml.lasso_fit(y * 1e300, ARRAY[a * 1e300], 0.1) FROM g$q$)
) AS cases(c, q);
SELECT count(*) AS no_model_m FROM ml.models WHERE name = 'm';
SELECT ml.drop_model(name) FROM ml.model_names ORDER BY name;
