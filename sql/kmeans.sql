-- k-means through ml.train: k-means++ restarts on a sample, Lloyd passes as
-- parallel aggregates, scoring, centroids and bad input.  (Accuracy against
-- scikit-learn's KMeans is in test/accuracy/kmeans.py.)
SET extra_float_digits = 0;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- three well separated groups around (0, 0), (10, 0) and (0, 10)
CREATE TABLE pts AS
SELECT i, (CASE i % 3 WHEN 1 THEN 10 ELSE 0 END) + sin(i * 1.7) AS a,
          (CASE i % 3 WHEN 2 THEN 10 ELSE 0 END) + cos(i * 2.3) AS b,
          CASE i % 3 WHEN 0 THEN 'origin' WHEN 1 THEN 'east' ELSE 'north' END AS truth
FROM generate_series(1, 3000) AS i;
ANALYZE pts;

SELECT name, version, algorithm, (metrics->>'k')::int AS k, (metrics->>'converged')::bool AS converged
FROM ml.train('pts', 'pts', NULL, 'kmeans', features => ARRAY['a', 'b'], options => '{"k": 3}');
-- each true group is one cluster of 1000 rows around its centre
SELECT truth, count(DISTINCT ml.predict('pts', p)) AS clusters, count(*) AS n
FROM pts p GROUP BY truth ORDER BY truth;
SELECT size, round(centroid[1])::int AS a, round(centroid[2])::int AS b
FROM ml.centroids('pts') ORDER BY 2, 3;
SELECT bool_and(ml.predict('pts', p) = ml.predict(ml.model('pts'), ARRAY[a, b])) AS by_row_equals_array,
       bool_and(ml.predict('pts', p) BETWEEN 0 AND 2) AS ids_from_0
FROM pts p;
-- the stored inertia is the sum of squared distances to the nearest centroid
WITH c AS (SELECT cluster, centroid FROM ml.centroids('pts'))
SELECT abs(sum(d) - (SELECT (j->>'inertia')::float8 FROM ml.model_info(ml.model('pts')) j)) < 1e-6 AS inertia_ok
FROM (SELECT min((a - c.centroid[1])^2 + (b - c.centroid[2])^2) AS d FROM pts, c GROUP BY pts.i) s;
SELECT name, count(*) > 0 AS ran, bool_and(loss IS NOT NULL) AS loss_recorded
FROM ml.training_info('pts') GROUP BY name ORDER BY name;
-- a seed reproduces the model; NULL rows are imputed like every ml.train feature
SELECT (SELECT model FROM ml.models WHERE name = 'pts' AND version = 1) =
       (SELECT ml.model('pts') FROM ml.train('pts', 'pts', NULL, 'kmeans', features => ARRAY['a', 'b'],
                                             options => '{"k": 3}')) AS same_model;
SELECT version FROM ml.train('pts_nulls', '(SELECT CASE WHEN i % 50 = 0 THEN NULL ELSE a END AS a, b FROM pts)',
                             NULL, 'kmeans', options => '{"k": 3, "n_init": 2, "seed": 5}');

-- the Lloyd passes run as parallel aggregates
CREATE TABLE big_pts AS SELECT i, sin(i) * 5 + (i % 4) * 20 AS a, cos(i * 3.1) AS b FROM generate_series(1, 100000) AS i;
ANALYZE big_pts;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT version FROM ml.train('big_pts', 'big_pts', NULL, 'kmeans', features => ARRAY['a', 'b'],
                             options => '{"k": 4, "sample_rows": 5000}');
SELECT DISTINCT name, workers_planned FROM ml.training_info('big_pts') ORDER BY 1;
SELECT sum(size) AS rows_in_clusters FROM ml.centroids('big_pts');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- bad input
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('k larger than the rows', $q$SELECT ml.train('m', '(SELECT a, b FROM pts LIMIT 5)', NULL, 'kmeans', options => '{"k": 6}')$q$),
  ('k = 0', $q$SELECT ml.train('m', 'pts', NULL, 'kmeans', options => '{"k": 0}')$q$),
  ('k not an integer', $q$SELECT ml.train('m', 'pts', NULL, 'kmeans', options => '{"k": 2.5}')$q$),
  ('n_init = 0', $q$SELECT ml.train('m', 'pts', NULL, 'kmeans', options => '{"n_init": 0}')$q$),
  ('tiny sample_rows', $q$SELECT ml.train('m', 'pts', NULL, 'kmeans', options => '{"sample_rows": 10}')$q$),
  ('with a target', $q$SELECT ml.train('m', 'pts', 'a', 'kmeans')$q$),
  ('unknown option', $q$SELECT ml.train('m', 'pts', NULL, 'kmeans', options => '{"alpha": 1}')$q$),
  ('NaN feature', $q$SELECT ml.train('m', '(SELECT CASE WHEN i = 9 THEN ''NaN''::float8 ELSE a END AS a FROM pts)', NULL, 'kmeans')$q$),
  ('evaluate', $q$SELECT * FROM ml.evaluate('pts', 'pts')$q$),
  ('centroids of a PCA', $q$SELECT * FROM ml.centroids((SELECT ml.pca_fit(ARRAY[a, b]) FROM pts))$q$),
  ('wrong length', $q$SELECT ml.predict(ml.model('pts'), ARRAY[1.0]::float8[])$q$),
  ('pass with a linear model', $q$SELECT ml._kmeans_pass(ARRAY[a], (SELECT ml.linreg_fit(b, ARRAY[a]) FROM pts)) FROM pts$q$)
) AS cases(c, q);
SELECT count(*) AS no_model_m FROM ml.models WHERE name = 'm';
SELECT ml.drop_model(name) FROM ml.model_names ORDER BY name;
