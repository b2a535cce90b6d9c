-- ml.train / ml.predict by name: columns in, encoding, registry, versions.
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- a table with every supported column kind, NULLs, and a nasty column name
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE TABLE houses (
    id      integer,
    area    numeric,
    rooms   integer,
    garden  boolean,
    city    text,
    paint   color,
    extra   float8[],
    "x; DROP TABLE houses" float8,
    price   float8
);
INSERT INTO houses
SELECT i,
       50 + (i % 17) * 5,
       1 + i % 5,
       i % 4 = 0,
       (ARRAY['Oslo', 'Bergen', 'Tromsø'])[1 + i % 3],
       (ARRAY['red', 'green', 'blue']::color[])[1 + i % 2],
       ARRAY[sin(i), cos(i)],
       (i % 7) / 7.0,
       -- exact linear price, so coefficients are known
       10 + 2 * (50 + (i % 17) * 5) + 3 * (1 + i % 5) + 4 * (i % 4 = 0)::int
         + CASE i % 3 WHEN 0 THEN 0 WHEN 1 THEN 5 ELSE -5 END
         + 7 * (1 + i % 2) + 1.5 * sin(i) - 2.5 * cos(i) + 6 * ((i % 7) / 7.0)
FROM generate_series(1, 600) AS i;

SELECT model_id > 0 AS has_id, name, version, algorithm,
       round((metrics->>'r2')::numeric, 8) AS r2, metrics->'n_train' AS n_train,
       metrics->>'evaluated_on' AS evaluated_on
FROM ml.train('price', 'houses', 'price', options => '{"exclude": ["id"]}');

-- the encoding: features expand to one-hot categories and array elements
SELECT f.ord, f.name
FROM ml.models m,
     jsonb_array_elements_text(ml.model_info(m.model)->'features') WITH ORDINALITY AS f(name, ord)
WHERE m.name = 'price' ORDER BY f.ord;

-- exact fit: the generating coefficients come back (one-hot coefficients
-- are identified up to the intercept, so compare differences)
WITH c AS (SELECT term, estimate FROM ml.coefficients(ml.model('price')))
SELECT round((SELECT estimate FROM c WHERE term = 'area')::numeric, 6) AS area,
       round((SELECT estimate FROM c WHERE term = 'rooms')::numeric, 6) AS rooms,
       round((SELECT estimate FROM c WHERE term = 'garden')::numeric, 6) AS garden,
       round(((SELECT estimate FROM c WHERE term = 'city=Oslo')
            - (SELECT estimate FROM c WHERE term = 'city=Bergen'))::numeric, 6) AS oslo_minus_bergen,
       round(((SELECT estimate FROM c WHERE term = 'paint=red')
            - (SELECT estimate FROM c WHERE term = 'paint=green'))::numeric, 6) AS red_minus_green,
       round((SELECT estimate FROM c WHERE term = 'extra[1]')::numeric, 6) AS extra1,
       round((SELECT estimate FROM c WHERE term = 'extra[2]')::numeric, 6) AS extra2,
       round((SELECT estimate FROM c WHERE term = 'x; DROP TABLE houses')::numeric, 6) AS nasty;

-- scoring a row by column name equals scoring the bytea, and the truth
SELECT count(*) AS n,
       max(abs(ml.predict('price', h) - h.price)) < 1e-8 AS by_name_exact,
       max(abs(ml.predict(ml.model('price'), h) - ml.predict('price', h))) = 0 AS bytea_same
FROM houses h;

-- rows with NULLs are imputed with training means; unseen categories are
-- all zeros; the row may come from any query with the right column names
SELECT round(ml.predict('price', r)::numeric, 6) = round(ml.predict('price', r2)::numeric, 6)
         AS null_area_is_mean_area
FROM (SELECT NULL::numeric AS area, 3 AS rooms, true AS garden, 'Oslo' AS city,
             'red'::color AS paint, ARRAY[0, 0]::float8[] AS extra,
             0.5::float8 AS "x; DROP TABLE houses") r,
     (SELECT (SELECT avg(area) FROM houses) AS area, 3 AS rooms, true AS garden,
             'Oslo' AS city, 'red'::color AS paint, ARRAY[0, 0]::float8[] AS extra,
             0.5::float8 AS "x; DROP TABLE houses") r2;
SELECT round(ml.predict('price', r)::numeric, 6) IS NOT NULL AS unseen_city_scores
FROM (SELECT 100 AS area, 3 AS rooms, false AS garden, 'Paris' AS city,
             'blue'::color AS paint, NULL::float8[] AS extra,
             0::float8 AS "x; DROP TABLE houses") r;

-- the table is intact (the column name was quoted, never executed)
SELECT count(*) FROM houses;

-- retraining creates version 2 and deploys it; deploy: false keeps v2
SELECT version, metrics->>'evaluated_on' AS evaluated_on, metrics->'n_test' AS n_test
FROM ml.train('price', 'public.houses', 'price', features => ARRAY['area', 'rooms'],
              options => '{"test_fraction": 0.25, "seed": 7}');
SELECT version FROM ml.train('price', '(SELECT area, rooms, price FROM houses WHERE id > 10)',
                             'price', options => '{"deploy": false, "lambda": 0.5}');
SELECT version, deployed, features, n_rows, options FROM ml.models
WHERE name = 'price' ORDER BY version;

-- the split is deterministic: the same seed gives the same held-out rows
SELECT (SELECT metrics FROM ml.train('split', 'houses', 'price', features => ARRAY['area'],
                                     options => '{"test_fraction": 0.3, "seed": 1}'))
     = (SELECT metrics FROM ml.train('split', 'houses', 'price', features => ARRAY['area'],
                                     options => '{"test_fraction": 0.3, "seed": 1}'))
       AS same_split;
SELECT version FROM ml.train('split', 'houses', 'price', features => ARRAY['area'],
                             options => '{"test_fraction": 0.3, "seed": 2}');
SELECT version, metrics->'n_test' AS n_test, metrics->'n_train' AS n_train
FROM ml.models WHERE name = 'split' ORDER BY version;

-- deploy an older version; ml.predict follows it
SELECT ml.deploy('price', 1);
SELECT version FROM ml.models WHERE name = 'price' AND deployed;
SELECT max(abs(ml.predict('price', h) - h.price)) < 1e-8 AS v1_is_back FROM houses h;

-- NULL targets are skipped and counted
UPDATE houses SET price = NULL WHERE id % 10 = 0;
SELECT metrics->'n_train' AS n_train, metrics->'n_skipped' AS n_skipped
FROM ml.train('price_nulls', 'houses', 'price', features => ARRAY['area', 'rooms']);

-- bad input: a clear error, and nothing written to the registry
SELECT count(*) AS models_before FROM ml.models;
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('missing relation', $q$SELECT ml.train('m', 'no_such_table', 'price')$q$),
  ('missing schema', $q$SELECT ml.train('m', 'nope.houses', 'price')$q$),
  ('bad name', $q$SELECT ml.train('m', 'a.b.c.d', 'price')$q$),
  ('missing target', $q$SELECT ml.train('m', 'houses', 'cost')$q$),
  ('missing feature', $q$SELECT ml.train('m', 'houses', 'price', features => ARRAY['area', 'size'])$q$),
  ('duplicate feature', $q$SELECT ml.train('m', 'houses', 'price', features => ARRAY['area', 'area'])$q$),
  ('target as feature', $q$SELECT ml.train('m', 'houses', 'price', features => ARRAY['price'])$q$),
  ('duplicate column', $q$SELECT ml.train('m', '(SELECT area, rooms AS area, price FROM houses)', 'price')$q$),
  ('text target', $q$SELECT ml.train('m', 'houses', 'city')$q$),
  ('unsupported type', $q$SELECT ml.train('m', '(SELECT now() AS t, price FROM houses)', 'price')$q$),
  ('empty relation', $q$SELECT ml.train('m', '(SELECT area, price FROM houses WHERE false)', 'price')$q$),
  ('all-NULL feature', $q$SELECT ml.train('m', '(SELECT NULL::float8 AS a, price FROM houses)', 'price')$q$),
  ('NaN feature', $q$SELECT ml.train('m', '(SELECT CASE WHEN id = 5 THEN ''NaN'' ELSE area END AS a, price FROM houses)', 'price')$q$),
  ('ragged arrays', $q$SELECT ml.train('m', '(SELECT CASE WHEN id = 5 THEN ARRAY[1.0] ELSE extra END AS e, price FROM houses)', 'price')$q$),
  ('unknown algorithm', $q$SELECT ml.train('m', 'houses', 'price', 'deep_learning')$q$),
  ('unknown option', $q$SELECT ml.train('m', 'houses', 'price', options => '{"lamda": 1}')$q$),
  ('negative lambda', $q$SELECT ml.train('m', 'houses', 'price', options => '{"lambda": -1}')$q$),
  ('bad test_fraction', $q$SELECT ml.train('m', 'houses', 'price', options => '{"test_fraction": 1.5}')$q$),
  ('options not object', $q$SELECT ml.train('m', 'houses', 'price', options => '[1]')$q$),
  ('exclude missing', $q$SELECT ml.train('m', 'houses', 'price', options => '{"exclude": ["nope"]}')$q$),
  ('two statements', $q$SELECT ml.train('m', '(SELECT 1 AS a, 2 AS price); DROP TABLE houses; (SELECT 1)', 'price')$q$),
  ('not a select', $q$SELECT ml.train('m', '(DELETE FROM houses RETURNING area, price)', 'price')$q$),
  ('empty name', $q$SELECT ml.train('', 'houses', 'price')$q$),
  ('unknown model', $q$SELECT ml.predict('no_such_model', ARRAY[1.0]::float8[])$q$),
  ('row missing column', $q$SELECT ml.predict('price', r) FROM (SELECT 1 AS area) r$q$),
  ('row wrong type', $q$SELECT ml.predict('price', r) FROM (SELECT 'big'::text AS area, 3 AS rooms, true AS garden, 'Oslo' AS city, 'red'::color AS paint, ARRAY[0, 0]::float8[] AS extra, 0.5::float8 AS "x; DROP TABLE houses") r$q$),
  ('row wrong array length', $q$SELECT ml.predict('price', r) FROM (SELECT 1 AS area, 3 AS rooms, true AS garden, 'Oslo' AS city, 'red'::color AS paint, ARRAY[0, 0, 0]::float8[] AS extra, 0.5::float8 AS "x; DROP TABLE houses") r$q$),
  ('aggregate model by row', $q$SELECT ml.predict((SELECT ml.linreg_fit(price, ARRAY[area]::float8[]) FROM houses), h) FROM houses h$q$),
  ('deploy missing version', $q$SELECT ml.deploy('price', 99)$q$),
  ('drop missing model', $q$SELECT ml.drop_model('no_such_model')$q$)
) AS cases(c, q);
SELECT count(*) AS models_after FROM ml.models;
SELECT count(*) FROM houses;

-- ml.evaluate: metrics of the deployed version on any relation with the target
SELECT metric, round(value::numeric, 6) AS value
FROM ml.evaluate('price_nulls', '(SELECT * FROM houses WHERE id <= 300)');
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('evaluate: unknown model', $q$SELECT * FROM ml.evaluate('no_such_model', 'houses')$q$),
  ('evaluate: no target column', $q$SELECT * FROM ml.evaluate('price_nulls', '(SELECT area, rooms FROM houses)')$q$),
  ('evaluate: missing relation', $q$SELECT * FROM ml.evaluate('price_nulls', 'nowhere')$q$)
) AS cases(c, q);

-- linear regression: one pass over the data when no value needs imputing
-- (the categorical columns' vocabulary passes aside)
SELECT p->>'name' AS pass FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p
WHERE m.name = 'price' AND m.version = 1;
-- a NULL feature: that pass stops, the statistics pass finds the means, a
-- second pass imputes them
SELECT metrics->'n_train' AS n_train
FROM ml.train('price_nullx', '(SELECT CASE WHEN id % 13 = 0 THEN NULL ELSE area END AS area, rooms, price FROM houses)',
              'price');
SELECT p->>'name' AS pass FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p
WHERE m.name = 'price_nullx';
SELECT abs(ml.predict('price_nullx', r) - ml.predict('price_nullx', ARRAY[(SELECT avg(area) FROM houses WHERE id % 13 <> 0 AND price IS NOT NULL), 2]::float8[])) < 1e-9
       AS null_area_is_the_mean
FROM (SELECT NULL::numeric AS area, 2 AS rooms) r;
SELECT ml.drop_model('price_nullx');

-- the metrics ml.train reports come from the pass's QR factors, without
-- scoring the rows again: they equal ml.evaluate's, on the training rows or
-- on the held-out rows, with or without intercept and penalty
CREATE TEMP VIEW noisy AS
SELECT area, rooms, garden, city, extra, price + 3 * sin(id * 7) AS y FROM houses WHERE price IS NOT NULL;
CREATE TEMP TABLE fits AS
SELECT o.label, o.opts::jsonb AS opts, t.metrics
FROM (VALUES ('ols', '{}'), ('ridge', '{"lambda": 2.5}'), ('no_intercept', '{"fit_intercept": false}'),
             ('ridge_no_intercept', '{"lambda": 2.5, "fit_intercept": false}'),
             ('held_out', '{"test_fraction": 0.3, "seed": 5}'),
             ('held_out_ridge', '{"test_fraction": 0.3, "seed": 5, "lambda": 2.5, "fit_intercept": false}')) AS o(label, opts),
     LATERAL ml.train('fit_' || o.label, 'noisy', 'y', options => o.opts::jsonb) t;
SELECT f.label, f.metrics->>'evaluated_on' AS evaluated_on, f.metrics->'n_test' AS n_test,
       bool_and(abs(e.value - (f.metrics->>e.metric)::float8) <= 1e-9 * greatest(1, abs(e.value))) AS same_as_evaluate,
       count(*) AS metrics
FROM fits f,
     LATERAL ml.evaluate('fit_' || f.label,
                         CASE WHEN f.opts ? 'test_fraction'
                              THEN '(SELECT * FROM noisy src WHERE (hashtextextended(src::text, 5) & 2147483647)::float8 / 2147483648.0 < 0.3)'
                              ELSE 'noisy' END) e
WHERE e.metric IN ('r2', 'mse', 'rmse', 'explained_variance')
GROUP BY f.label, f.metrics ORDER BY f.label;
SELECT ml.drop_model('fit_' || label) FROM fits;

-- the pass's aggregate checks states it did not make itself
CREATE AGGREGATE pg_temp.bad_train(float8, boolean, boolean, bytea, VARIADIC "any") (
    SFUNC = ml._linreg_train_sfunc, STYPE = bytea, INITCOND = '\x00112233');
SELECT pg_temp.fails($q$SELECT pg_temp.bad_train(price, false, false, ml.model('price_nulls'), area, rooms) FROM houses$q$);
SELECT pg_temp.fails($q$SELECT ml._linreg_train_combine('\x00'::bytea, '\x00'::bytea)$q$);

-- a trailing comment inside the query cannot swallow what ml.train adds
SELECT version, metrics->'n_train' AS n_train
FROM ml.train('commented', '(SELECT area, price FROM houses -- a comment)', 'price');
SELECT ml.drop_model('commented');

-- drop one version, then the whole name
SELECT ml.drop_model('price', 3);
SELECT version FROM ml.models WHERE name = 'price' ORDER BY version;
SELECT ml.drop_model('price');
SELECT count(*) FROM ml.models WHERE name = 'price';
SELECT count(*) FROM ml.model_names WHERE name = 'price';

-- the training pass runs as a parallel aggregate: with a forced parallel
-- plan, more than one process took part
CREATE TABLE big AS
SELECT i, (i % 100) / 10.0 AS a, sin(i) AS b, 3 + 2 * ((i % 100) / 10.0) - sin(i) AS y
FROM generate_series(1, 100000) AS i;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT version FROM ml.train('big', 'big', 'y', features => ARRAY['a', 'b']);
SELECT name, rows, workers_planned, processes >= 1 AS ran FROM ml.training_info('big') ORDER BY pass;
SELECT term, round(estimate::numeric, 8) FROM ml.coefficients(ml.model('big'));
-- a serial run gives the same model and metrics as the parallel one
SET max_parallel_workers_per_gather = 0;
SELECT version FROM ml.train('big', 'big', 'y', features => ARRAY['a', 'b']);
SELECT workers_planned FROM ml.training_info('big');
SELECT max(abs(p.estimate - s.estimate)) < 1e-10 AS same_coefficients,
       (SELECT abs((a.metrics->>'r2')::float8 - (b.metrics->>'r2')::float8) < 1e-12
              AND abs((a.metrics->>'mse')::float8 - (b.metrics->>'mse')::float8) < 1e-12
        FROM ml.models a, ml.models b
        WHERE a.name = 'big' AND a.version = 1 AND b.name = 'big' AND b.version = 2) AS same_metrics
FROM ml.coefficients((SELECT model FROM ml.models WHERE name = 'big' AND version = 1)) p
JOIN ml.coefficients((SELECT model FROM ml.models WHERE name = 'big' AND version = 2)) s USING (term);
SET max_parallel_workers_per_gather = 2;
-- scoring by name runs in parallel workers too
EXPLAIN (COSTS OFF) SELECT sum(ml.predict('big', t)) FROM big t;
SELECT round(sum(ml.predict('big', t))::numeric, 4) = round(sum(y)::numeric, 4) AS parallel_scores_exact
FROM big t;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
