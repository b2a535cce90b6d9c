-- A relation argument means what it means under the caller's search_path,
-- although ml.train runs its own SQL under the pinned "pg_catalog, pg_temp":
-- a query is deparsed with every object outside pg_catalog qualified.
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

CREATE SCHEMA sp_data;
CREATE TABLE sp_data.pts (x float8, z float8, y float8, g text);
INSERT INTO sp_data.pts
SELECT i, (i * 7) % 11, 3 * i - 2 * ((i * 7) % 11) + 1 + (i % 3) * 0.25, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END
FROM generate_series(1, 60) i;
-- a function, a type and an operator of the user's, in public
CREATE FUNCTION public.sp_double(float8) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT $1 * 2';
CREATE DOMAIN public.sp_num AS float8;
CREATE FUNCTION public.sp_plus(float8, float8) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT $1 + $2';
CREATE OPERATOR public.%+% (LEFTARG = float8, RIGHTARG = float8, FUNCTION = public.sp_plus);
CREATE TEMP TABLE sp_tmp AS SELECT * FROM sp_data.pts WHERE x <= 40;

SET search_path = sp_data, public;

-- names resolve under the caller's path; the text names them for any path
SELECT ml._from_item('pts');
SELECT ml._from_item('(SELECT x, sp_double(z) AS z, (y %+% 1)::sp_num AS y FROM pts WHERE g = ''odd'' OR x > 50)');
SELECT ml._from_item('(SELECT * FROM sp_tmp -- a comment
)');
SELECT ml._from_item('(VALUES (1, 2.5))');
SELECT ml._from_item('(WITH d AS (DELETE FROM pts RETURNING *) SELECT * FROM d)');
SELECT ml._from_item('(SELECT 1; SELECT 2)');
SELECT ml._from_item('(SELECT * FROM no_such_table)');

-- training from a query with the user's table, function, type and operator
-- equals training from the same rows in a table
SELECT name, version, algorithm
FROM ml.train('sp_q', '(SELECT x, sp_double(z) AS z, (y %+% 1)::sp_num AS y FROM pts WHERE g = ''odd'' OR x > 50)', 'y');
CREATE TABLE sp_data.pts_m AS
SELECT x, sp_double(z) AS z, (y %+% 1)::sp_num AS y FROM pts WHERE g = 'odd' OR x > 50;
SELECT name, version FROM ml.train('sp_m', 'pts_m', 'y');
SELECT q.term, q.estimate = m.estimate AS same_estimate, round(q.estimate::numeric, 6) AS estimate
FROM ml.coefficients(ml.model('sp_q')) q
JOIN ml.coefficients(ml.model('sp_m')) m USING (term)
ORDER BY q.term;
SELECT (SELECT metrics FROM ml.models WHERE name = 'sp_q') - 'evaluated_on'
     = (SELECT metrics FROM ml.models WHERE name = 'sp_m') - 'evaluated_on' AS same_metrics;

-- a temporary table, by name and in a query, trains like its rows
SELECT name, (metrics->>'n_train')::int AS n_train FROM ml.train('sp_t1', 'sp_tmp', 'y', features => ARRAY['x', 'z']);
SELECT name, (metrics->>'n_train')::int AS n_train FROM ml.train('sp_t2', '(SELECT x, z, y FROM sp_tmp)', 'y');
SELECT a.term, a.estimate = b.estimate AS same_estimate
FROM ml.coefficients(ml.model('sp_t1')) a
JOIN ml.coefficients(ml.model('sp_t2')) b USING (term)
ORDER BY a.term;

-- the caller's search_path is back after ml.train, also after an error
SHOW search_path;
SELECT name FROM ml.train('sp_e', '(SELECT x, y FROM pts)', 'no_such_column');
SHOW search_path;

RESET search_path;
SELECT ml.drop_model(name, NULL) FROM (VALUES ('sp_q'), ('sp_m'), ('sp_t1'), ('sp_t2')) v(name);
DROP SCHEMA sp_data CASCADE;
DROP OPERATOR public.%+% (float8, float8);
DROP FUNCTION public.sp_plus(float8, float8);
DROP FUNCTION public.sp_double(float8);
DROP DOMAIN public.sp_num;
