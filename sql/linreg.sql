-- ml.linreg_fit: ordinary least squares, ridge, no intercept, GROUP BY,
-- scoring and inspection.  Expected values here are known analytically or
-- computed by PostgreSQL's own regr_* aggregates, never by ml_ext itself.
SET extra_float_digits = 0;

-- deterministic data: y is an exact linear function of three features
CREATE TABLE lr_exact AS
SELECT i, ARRAY[sin(i), cos(i * 0.7), (i % 7)::float8] AS x,
       3 + 2 * sin(i) - 1.5 * cos(i * 0.7) + 0.25 * (i % 7) AS y
FROM generate_series(1, 1000) AS i;

-- an exact fit recovers the generating coefficients
SELECT term, round(estimate::numeric, 10) AS estimate
FROM ml.coefficients((SELECT ml.linreg_fit(y, x) FROM lr_exact));

-- model_info describes the fit
SELECT j->>'algorithm' AS algorithm, j->'format_version' AS fmt,
       j->'n_features' AS k, j->'features' AS features,
       j->'fit_intercept' AS intercept, j->'n_rows' AS n_rows,
       j->'n_skipped' AS n_skipped, j->'rank' AS rank,
       j->'df_resid' AS df_resid, round((j->>'r2')::numeric, 10) AS r2
FROM (SELECT ml.model_info(ml.linreg_fit(y, x)) AS j FROM lr_exact) s;

-- one feature with noise: coefficients, R^2 and standard errors against
-- PostgreSQL's regr_* aggregates and the textbook formulas
CREATE TABLE lr_one AS
SELECT i, ARRAY[i / 10.0]::float8[] AS x,
       1.5 + 0.7 * (i / 10.0) + sin(i * 12.9898) AS y
FROM generate_series(1, 500) AS i;

WITH m AS (SELECT ml.linreg_fit(y, x) AS model FROM lr_one),
     c AS (SELECT * FROM ml.coefficients((SELECT model FROM m))),
     r AS (SELECT regr_intercept(y, x[1]) AS b0, regr_slope(y, x[1]) AS b1,
                  regr_r2(y, x[1]) AS r2, regr_sxx(y, x[1]) AS sxx,
                  regr_count(y, x[1]) AS n, avg(x[1]) AS xbar,
                  regr_syy(y, x[1]) * (1 - regr_r2(y, x[1])) AS rss
           FROM lr_one)
SELECT abs((SELECT estimate FROM c WHERE term = 'intercept') - b0) < 1e-10 * abs(b0) AS intercept_ok,
       abs((SELECT estimate FROM c WHERE term = 'x1') - b1) < 1e-10 * abs(b1) AS slope_ok,
       abs(((SELECT ml.model_info(model) FROM m)->>'r2')::float8 - r2) < 1e-10 AS r2_ok,
       abs((SELECT std_error FROM c WHERE term = 'x1')
           - sqrt(rss / (n - 2) / sxx)) < 1e-9 * sqrt(rss / (n - 2) / sxx) AS se_slope_ok,
       abs((SELECT std_error FROM c WHERE term = 'intercept')
           - sqrt(rss / (n - 2) * (1.0 / n + xbar * xbar / sxx)))
         < 1e-9 * sqrt(rss / (n - 2) * (1.0 / n + xbar * xbar / sxx)) AS se_intercept_ok,
       (SELECT t_value FROM c WHERE term = 'x1') > 10 AS t_large,
       (SELECT p_value FROM c WHERE term = 'x1') < 1e-10 AS p_small
FROM r;

-- ml.predict agrees with the coefficients
WITH m AS (SELECT ml.linreg_fit(y, x) AS model FROM lr_exact)
SELECT count(*) AS n,
       max(abs(ml.predict(m.model, t.x) - t.y)) < 1e-9 AS predictions_exact
FROM lr_exact t, m;

SELECT round(ml.predict(ml.linreg_fit(y, x), ARRAY[0, 0, 0]::float8[])::numeric, 8)
       AS at_origin
FROM lr_exact;

-- ridge: one feature, closed form b1 = Sxy / (Sxx + lambda), intercept
-- unpenalized (ybar - b1 * xbar)
WITH m AS (SELECT ml.linreg_fit(y, x, 25.0) AS model FROM lr_one),
     c AS (SELECT * FROM ml.coefficients((SELECT model FROM m))),
     r AS (SELECT regr_sxy(y, x[1]) / (regr_sxx(y, x[1]) + 25.0) AS b1,
                  avg(y) AS ybar, avg(x[1]) AS xbar FROM lr_one)
SELECT abs((SELECT estimate FROM c WHERE term = 'x1') - b1) < 1e-10 * abs(b1) AS ridge_slope_ok,
       abs((SELECT estimate FROM c WHERE term = 'intercept') - (ybar - b1 * xbar))
         < 1e-10 * abs(ybar - b1 * xbar) AS ridge_intercept_ok,
       (SELECT std_error FROM c WHERE term = 'x1') IS NULL AS ridge_se_undefined,
       (SELECT ml.model_info(model)->>'lambda' FROM m) AS lambda
FROM r;

-- lambda = 0 is ordinary least squares
SELECT ml.linreg_fit(y, x, 0) = ml.linreg_fit(y, x) AS lambda_zero_is_ols
FROM lr_one;

-- no intercept: b1 = sum(xy) / sum(x^2)
WITH m AS (SELECT ml.linreg_fit(y, x, 0, false) AS model FROM lr_one)
SELECT term, abs(estimate - (SELECT sum(x[1] * y) / sum(x[1] * x[1]) FROM lr_one))
             < 1e-10 AS slope_ok,
       (SELECT (ml.model_info(model)->'fit_intercept')::text FROM m) AS fit_intercept
FROM ml.coefficients((SELECT model FROM m));

-- GROUP BY gives one model per group, each equal to the model of that
-- group's rows alone
CREATE TABLE lr_groups AS
SELECT i % 3 AS g, ARRAY[sin(i), cos(i)]::float8[] AS x,
       (i % 3) + (1 + i % 3) * sin(i) - cos(i) + 0.01 * sin(i * 7.77) AS y
FROM generate_series(1, 3000) AS i;

SELECT g, (SELECT string_agg(term || '=' || round(estimate::numeric, 2), ' ')
           FROM ml.coefficients(model)) AS coefficients,
       (SELECT max(abs(a.estimate - b.estimate)) < 1e-10
        FROM ml.coefficients(model) a
        JOIN ml.coefficients((SELECT ml.linreg_fit(y, x) FROM lr_groups l2
                              WHERE l2.g = m.g)) b USING (term)) AS same_as_alone
FROM (SELECT g, ml.linreg_fit(y, x) AS model FROM lr_groups GROUP BY g) m
ORDER BY g;

-- the model is deterministic: the same rows in any order give the same bytes
-- up to rounding (compare coefficients)
SELECT max(abs(a.estimate - b.estimate)) < 1e-10 AS order_independent
FROM ml.coefficients((SELECT ml.linreg_fit(y, x) FROM (SELECT * FROM lr_exact ORDER BY i) s)) a
JOIN ml.coefficients((SELECT ml.linreg_fit(y, x) FROM (SELECT * FROM lr_exact ORDER BY i DESC) s)) b
  USING (term);

-- collinear features: minimum-norm solution with a WARNING naming them
SELECT term, round(estimate::numeric, 8) AS estimate, std_error
FROM ml.coefficients((
  SELECT ml.linreg_fit(y, ARRAY[x[1], x[1], x[2]]) FROM lr_exact));

-- a constant feature is rank deficiency too
SELECT (ml.model_info(ml.linreg_fit(y, ARRAY[x[1], 5, x[2]])))->'dependent_features'
FROM lr_exact;

-- fewer rows than features
SELECT (ml.model_info(ml.linreg_fit(y, x)))->'rank' AS rank
FROM (SELECT * FROM lr_exact WHERE i <= 3) s;

-- the state type is a plain bytea, not internal (required to distribute)
SELECT aggfnoid::regprocedure, aggtranstype::regtype, aggcombinefn, aggfinalmodify
FROM pg_aggregate WHERE aggfnoid::text LIKE 'ml.linreg_fit%' ORDER BY 1;

-- a model is an ordinary value: store it, read it back, score with it
CREATE TABLE lr_models AS SELECT 'exact' AS name, ml.linreg_fit(y, x) AS model FROM lr_exact;
SELECT round(ml.predict(model, ARRAY[1, 1, 1]::float8[])::numeric, 8) AS p
FROM lr_models;

-- the transition state does not grow with the number of rows
CREATE AGGREGATE linreg_state(float8, float8[]) (
    SFUNC = ml.linreg_sfunc, STYPE = bytea);
SELECT length(linreg_state(i, ARRAY[i, sin(i)]::float8[])) AS state_bytes, count(*)
FROM generate_series(1, 10) AS i
UNION ALL
SELECT length(linreg_state(i, ARRAY[i, sin(i)]::float8[])), count(*)
FROM generate_series(1, 300000) AS i;
DROP AGGREGATE linreg_state(float8, float8[]);
