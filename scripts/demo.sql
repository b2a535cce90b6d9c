-- ml_ext demo: linear and ridge regression on the diabetes data set
-- (Efron et al. 2004, 442 patients, 10 baseline measurements, disease progression
-- after one year; see data/README.md).
--
-- Run by scripts/demo.sh:  psql -v csv=/path/to/data/diabetes.csv -f scripts/demo.sql
\set ON_ERROR_STOP on
\if :{?csv}
\else
\set csv data/diabetes.csv
\endif
\pset footer off
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS ml_ext;

DROP TABLE IF EXISTS diabetes, diabetes_model, diabetes_ridge, diabetes_by_sex;
CREATE TABLE diabetes (
    id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    age         float8, sex float8, bmi float8, bp float8,
    s1 float8, s2 float8, s3 float8, s4 float8, s5 float8, s6 float8,
    progression float8
);
\set copycmd '\\copy diabetes (age, sex, bmi, bp, s1, s2, s3, s4, s5, s6, progression) FROM ' :'csv' ' WITH (FORMAT csv, HEADER true)'
:copycmd
ANALYZE diabetes;
SELECT count(*) AS patients_loaded FROM diabetes;

\echo
\echo '== 1. Ordinary least squares: one aggregate call trains the model (a bytea value)'
\echo
CREATE TABLE diabetes_model AS
SELECT ml.linreg_fit(progression, ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]::float8[]) AS model
FROM diabetes;

SELECT length(model) AS model_bytes FROM diabetes_model;

\echo 'Coefficients (terms: intercept, x1..x10 = age, sex, bmi, bp, s1..s6):'
SELECT c.term,
       round(c.estimate::numeric, 4)  AS estimate,
       round(c.std_error::numeric, 4) AS std_error,
       round(c.t_value::numeric, 3)   AS t_value,
       to_char(c.p_value, '9.99EEEE') AS p_value
FROM diabetes_model m, ml.coefficients(m.model) c;

\echo 'Fit statistics (ml.model_info returns jsonb):'
SELECT (i->>'n_rows')::int                               AS n_rows,
       round((i->>'r2')::numeric, 4)                     AS r2,
       round((i->>'adj_r2')::numeric, 4)                 AS adj_r2,
       round((i->>'residual_std_error')::numeric, 3)     AS residual_std_error
FROM diabetes_model m, ml.model_info(m.model) AS i;

\echo 'Predictions next to the actual values (first 8 patients):'
SELECT d.id, d.progression AS actual,
       round(ml.predict(m.model, ARRAY[d.age, d.sex, d.bmi, d.bp, d.s1, d.s2, d.s3, d.s4, d.s5, d.s6]::float8[])::numeric, 1) AS predicted
FROM diabetes d, diabetes_model m
ORDER BY d.id
LIMIT 8;

\echo
\echo '== 2. Ridge regression (lambda = 10): the third argument of the same aggregate'
\echo
CREATE TABLE diabetes_ridge AS
SELECT ml.linreg_fit(progression, ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]::float8[], 10.0) AS model
FROM diabetes;

SELECT o.term,
       round(o.estimate::numeric, 4) AS ols,
       round(r.estimate::numeric, 4) AS ridge_10
FROM diabetes_model om, ml.coefficients(om.model) WITH ORDINALITY AS o(term, estimate, std_error, t_value, p_value, n)
JOIN (diabetes_ridge rm CROSS JOIN ml.coefficients(rm.model) WITH ORDINALITY AS r(term, estimate, std_error, t_value, p_value, n))
  USING (n)
ORDER BY n;

SELECT round((i->>'r2')::numeric, 4) AS ridge_r2, i->'lambda' AS lambda
FROM diabetes_ridge m, ml.model_info(m.model) AS i;

\echo
\echo '== 3. GROUP BY: one model per group (here per sex, 9 features each)'
\echo
CREATE TABLE diabetes_by_sex AS
SELECT sex, count(*) AS n,
       ml.linreg_fit(progression, ARRAY[age, bmi, bp, s1, s2, s3, s4, s5, s6]::float8[]) AS model
FROM diabetes
GROUP BY sex;

SELECT g.sex, g.n,
       round((ml.model_info(g.model)->>'r2')::numeric, 4) AS r2,
       round((ml.model_info(g.model)->>'residual_std_error')::numeric, 3) AS residual_std_error,
       round(c.estimate::numeric, 4) AS bmi_coefficient
FROM diabetes_by_sex g, ml.coefficients(g.model) c
WHERE c.term = 'x2'
ORDER BY g.sex;

\echo 'Scoring each patient with the model of their group (mean absolute error per group):'
SELECT d.sex,
       round(avg(abs(d.progression - ml.predict(g.model, ARRAY[d.age, d.bmi, d.bp, d.s1, d.s2, d.s3, d.s4, d.s5, d.s6]::float8[])))::numeric, 2) AS mae_group_model,
       round(avg(abs(d.progression - ml.predict(m.model, ARRAY[d.age, d.sex, d.bmi, d.bp, d.s1, d.s2, d.s3, d.s4, d.s5, d.s6]::float8[])))::numeric, 2) AS mae_pooled_model
FROM diabetes d
JOIN diabetes_by_sex g USING (sex)
CROSS JOIN diabetes_model m
GROUP BY d.sex
ORDER BY d.sex;

\echo
\echo '== 4. Named models: ml.train on the table, score rows by column name, retrain'
\echo
-- (a rerun of the demo starts the name afresh)
DO $$ BEGIN PERFORM ml.drop_model(name) FROM ml.model_names WHERE name = 'progression'; END $$;
SELECT name, version, round((metrics->>'r2')::numeric, 4) AS held_out_r2,
       metrics->'n_train' AS n_train, metrics->'n_test' AS n_test
FROM ml.train('progression', 'diabetes', 'progression',
              options => '{"exclude": ["id"], "test_fraction": 0.2, "seed": 42}');

\echo 'Scoring rows by column name (the model knows its columns):'
SELECT d.id, d.progression AS actual, round(ml.predict('progression', d)::numeric, 1) AS predicted
FROM diabetes d ORDER BY d.id LIMIT 5;

\echo 'Metrics on the whole table:'
SELECT metric, round(value::numeric, 4) AS value FROM ml.evaluate('progression', 'diabetes');

\echo 'Retrain on three columns: version 2 is stored and deployed'
SELECT version, round((metrics->>'r2')::numeric, 4) AS training_r2
FROM ml.train('progression', 'diabetes', 'progression', features => ARRAY['bmi', 'bp', 's5']);
SELECT name, version, deployed, features FROM ml.models WHERE name = 'progression' ORDER BY version;
