-- Parallel training: the aggregate runs as Partial Aggregate in parallel
-- workers, and the parallel plan gives the serial result.
SET extra_float_digits = 0;

CREATE TABLE par AS
SELECT i, ARRAY[sin(i), cos(i * 0.3), (i % 101) / 100.0, sqrt(i)]::float8[] AS x,
       5 + sin(i) - 2 * cos(i * 0.3) + 3 * ((i % 101) / 100.0) + 0.01 * sqrt(i)
         + 0.1 * sin(i * 91.7) AS y,
       i % 4 AS g
FROM generate_series(1, 200000) AS i;
ANALYZE par;

-- serial reference
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_model AS SELECT ml.linreg_fit(y, x) AS m FROM par;
CREATE TEMP TABLE serial_groups AS
  SELECT g, ml.linreg_fit(y, x, 0.5) AS m FROM par GROUP BY g;

-- force a parallel plan
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

EXPLAIN (COSTS OFF) SELECT ml.linreg_fit(y, x) FROM par;
EXPLAIN (COSTS OFF) SELECT g, ml.linreg_fit(y, x, 0.5) FROM par GROUP BY g;

-- workers really run it
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
  RETURN (WITH RECURSIVE nodes(n) AS (
            SELECT plan->0->'Plan'
            UNION ALL
            SELECT c FROM nodes, json_array_elements(n->'Plans') c)
          SELECT max((n->>'Workers Launched')::int) FROM nodes);
END $$;
SELECT pg_temp.workers_launched('SELECT ml.linreg_fit(y, x) FROM par') >= 1
       AS workers_ran;

CREATE TEMP TABLE parallel_model AS SELECT ml.linreg_fit(y, x) AS m FROM par;
CREATE TEMP TABLE parallel_groups AS
  SELECT g, ml.linreg_fit(y, x, 0.5) AS m FROM par GROUP BY g;

-- the same coefficients and statistics to 1e-9 relative
CREATE FUNCTION pg_temp.rel_diff(a bytea, b bytea) RETURNS float8 LANGUAGE sql AS $$
  SELECT max(greatest(
           abs(x.estimate - y.estimate) / greatest(abs(y.estimate), 1e-300),
           coalesce(abs(x.std_error - y.std_error) / y.std_error, 0),
           coalesce(abs(x.p_value - y.p_value) / greatest(y.p_value, 1e-300), 0)))
  FROM ml.coefficients(a) x JOIN ml.coefficients(b) y USING (term)
$$;
SELECT pg_temp.rel_diff(p.m, s.m) < 1e-9 AS same_coefficients,
       (ml.model_info(p.m)->>'n_rows') = (ml.model_info(s.m)->>'n_rows') AS same_rows,
       abs((ml.model_info(p.m)->>'r2')::float8 - (ml.model_info(s.m)->>'r2')::float8)
         < 1e-12 AS same_r2
FROM parallel_model p, serial_model s;

SELECT p.g, pg_temp.rel_diff(p.m, s.m) < 1e-9 AS same_coefficients
FROM parallel_groups p JOIN serial_groups s USING (g) ORDER BY p.g;

-- NULL rows counted across workers
UPDATE par SET x = NULL WHERE i % 1000 = 0;
SELECT ml.model_info(ml.linreg_fit(y, x))->'n_skipped' AS n_skipped FROM par;
