-- Evaluation-metric aggregates: hand-checkable values, NULL handling,
-- errors, GROUP BY, a forced parallel plan, and corrupt states.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

-- regression: y = 1,2,3,4, yhat = 1,2,3,5 -> e = 0,0,0,-1
--   SSE = 1, SST = 5 (mean 2.5): r2 = 1 - 1/5 = 0.8, mse = 1/4, rmse = 1/2,
--   mae = 1/4; Var(e)*n = 1 - 4*(1/4)^2 = 0.75: explained variance
--   = 1 - 0.75/5 = 0.85.  The NULL rows are ignored.
CREATE TABLE reg(g int, y float8, p float8);
INSERT INTO reg VALUES (1, 1, 1), (1, 2, 2), (1, 3, 3), (1, 4, 5),
  (1, NULL, 7), (1, 8, NULL),
  -- group 2: y = 0, 10; yhat = 2, 6 -> e = -2, 4: SSE 20, SST 50, r2 0.6,
  -- mse 10, rmse sqrt(10) = 3.16227766016838, mae 3;
  -- Var(e)*n = 18: explained variance 1 - 18/50 = 0.64
  (2, 0, 2), (2, 10, 6),
  -- group 3: constant y predicted perfectly: r2 = ev = 1 (sklearn)
  (3, 5, 5), (3, 5, 5),
  -- group 4: constant y predicted wrongly: r2 = ev = 0 (sklearn)
  (4, 5, 5), (4, 5, 6),
  -- group 5: one row: r2 NaN (sklearn), explained variance 1
  (5, 1, 3),
  -- group 6: only NULLs: every metric NULL
  (6, NULL, 1);
SELECT g, ml.r2(y, p), ml.mse(y, p), ml.rmse(y, p), ml.mae(y, p),
       ml.explained_variance(y, p)
FROM reg GROUP BY g ORDER BY g;
-- no rows at all
SELECT ml.r2(y, p), ml.mse(y, p), ml.roc_auc(y > 0, p), ml.accuracy(y::text, p::text)
FROM reg WHERE false;

-- multiclass: actual a a a b b c, predicted a b a b c c
--   a: tp 2, predicted 2, actual 3 -> precision 1,   recall 2/3, f1 4/5
--   b: tp 1, predicted 2, actual 2 -> precision 1/2, recall 1/2, f1 1/2
--   c: tp 1, predicted 2, actual 1 -> precision 1/2, recall 1,   f1 2/3
--   accuracy 4/6 = 0.666666666666667; macro precision 2/3,
--   recall (2/3 + 1/2 + 1)/3 = 13/18 = 0.722222222222222,
--   f1 (4/5 + 1/2 + 2/3)/3 = 59/90 = 0.655555555555556
--   positive 'a': tp 2 fp 0 fn 1 -> precision 1, recall 2/3, f1 0.8
--   positive 'c': tp 1 fp 1 fn 0 -> precision 1/2, recall 1, f1 2/3
CREATE TABLE cls(a text, p text);
INSERT INTO cls VALUES ('a', 'a'), ('a', 'b'), ('a', 'a'), ('b', 'b'),
  ('b', 'c'), ('c', 'c'), (NULL, 'a'), ('b', NULL);
SELECT ml.accuracy(a, p), ml.precision(a, p), ml.recall(a, p), ml.f1(a, p) FROM cls;
SELECT pos, ml.precision(a, p, pos), ml.recall(a, p, pos), ml.f1(a, p, pos)
FROM cls, (VALUES ('a'), ('c'), ('zzz')) v(pos) GROUP BY pos ORDER BY pos;
-- a label that is only ever predicted ('y') counts in the macro average:
--   x: precision 1, recall 1/2, f1 2/3; y: all 0 -> 0.5, 0.25, 1/3
SELECT ml.precision(a, p), ml.recall(a, p), ml.f1(a, p)
FROM (VALUES ('x', 'x'), ('x', 'y')) v(a, p);

-- boolean: tp 2, fp 1, fn 1, tn 3 -> accuracy 5/7 = 0.714285714285714,
-- precision = recall = f1 = 2/3; the NULL rows are ignored
SELECT ml.accuracy(a, p), ml.precision(a, p), ml.recall(a, p), ml.f1(a, p)
FROM (VALUES (true, true), (true, true), (true, false), (false, true),
             (false, false), (false, false), (false, false),
             (NULL, true), (true, NULL)) v(a, p);
-- no positive predicted or actual: zero_division = 0
SELECT ml.precision(a, p), ml.recall(a, p), ml.f1(a, p), ml.accuracy(a, p)
FROM (VALUES (false, false)) v(a, p);

-- log loss: -(ln 0.8 + ln(1 - 0.4)) / 2 = (0.22314355131421 + 0.510825623765991)/2
--   = 0.3669845875401; p = 0 for a true row is clipped to 2.22e-16:
--   -ln(2.220446049250313e-16) = 36.0436533891172
SELECT ml.log_loss(a, p) FROM (VALUES (true, 0.8), (false, 0.4), (NULL, 0.1)) v(a, p);
SELECT ml.log_loss(a, p) FROM (VALUES (true, 0.0), (false, 1.0)) v(a, p);

-- ROC AUC: positives 0.8 0.4 0.35, negatives 0.1 0.4: of the 6 pairs 4 are
-- ordered right, (0.4, 0.4) ties, (0.35, 0.4) is wrong: 4.5/6 = 0.75
SELECT ml.roc_auc(a, s) FROM (VALUES (true, 0.8), (true, 0.4), (true, 0.35),
  (false, 0.1), (false, 0.4), (NULL, 0.9), (false, NULL)) v(a, s);
-- perfect and reversed rankings; all scores equal -> 0.5
SELECT ml.roc_auc(a, s), ml.roc_auc(a, -s), ml.roc_auc(a, 1)
FROM (VALUES (true, 2), (false, 1)) v(a, s);
-- growth: 10,000 rows (the state doubles from 128 scores); score = i,
-- positive when i % 3 = 0: the positives 3, 6, ..., 9999 (3333) each beat
-- the negatives below them; exact U computed by hand below
SELECT ml.roc_auc(i % 3 = 0, i) = (
         SELECT sum((SELECT count(*) FROM generate_series(1, j) k WHERE k % 3 <> 0))::float8
         FROM generate_series(3, 9999, 3) j) / (3333.0 * 6667.0) AS exact
FROM generate_series(1, 10000) i;

-- errors: each case shows the SQLSTATE and the message
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('NaN actual', $q$SELECT ml.r2(y, p) FROM (VALUES ('NaN'::float8, 1::float8)) v(y, p)$q$),
  ('Infinity predicted', $q$SELECT ml.mse(y, p) FROM (VALUES (1::float8, 'Infinity'::float8)) v(y, p)$q$),
  ('-Infinity predicted', $q$SELECT ml.mae(y, p) FROM (VALUES (1::float8, '-Infinity'::float8)) v(y, p)$q$),
  ('overflow', $q$SELECT ml.mse(y, p) FROM (VALUES (1e308::float8, -1e308::float8)) v(y, p)$q$),
  ('NaN probability', $q$SELECT ml.log_loss(true, 'NaN')$q$),
  ('probability > 1', $q$SELECT ml.log_loss(true, 1.5)$q$),
  ('probability < 0', $q$SELECT ml.log_loss(false, -0.01)$q$),
  ('NaN score', $q$SELECT ml.roc_auc(true, 'NaN')$q$),
  ('one class', $q$SELECT ml.roc_auc(a, s) FROM (VALUES (true, 1), (true, 2)) v(a, s)$q$),
  ('long label', $q$SELECT ml.accuracy(repeat('x', 1025), 'x')$q$),
  ('too many labels', $q$SELECT ml.accuracy(i::text, '0') FROM generate_series(1, 1000) i$q$),
  ('positive changes', $q$SELECT ml.f1('a', 'a', p) FROM (VALUES ('a'), ('b')) v(p)$q$),
  ('sfunc called directly', $q$SELECT ml.regression_metrics_sfunc(NULL, 1, 1)$q$),
  ('final called directly', $q$SELECT ml.roc_auc_final('\x00'::bytea)$q$)
) AS cases(c, q);
-- 999 distinct labels plus the predicted '0' is exactly the limit
SELECT ml.accuracy(i::text, '0') FROM generate_series(1, 999) i;
\set VERBOSITY default
SELECT ml.roc_auc(a, s) FROM (VALUES (false, 1), (false, 2)) v(a, s);
SELECT ml.accuracy(i::text, '0') FROM generate_series(1, 1000) i;
\set VERBOSITY terse

-- hand-made aggregates feeding garbage states to the support functions
CREATE AGGREGATE evil_r2(float8, float8) (SFUNC = ml.regression_metrics_sfunc,
  STYPE = bytea, INITCOND = '\xdeadbeef', FINALFUNC = ml.r2_final);
-- a truncated confusion-table header
CREATE AGGREGATE evil_acc(text, text) (SFUNC = ml.confusion_sfunc,
  STYPE = bytea, INITCOND = '\x43584c4d010200000900', FINALFUNC = ml.accuracy_final);
-- a confusion-table header (magic "MLXC" in native little-endian order,
-- version 1, kind 2) with 9 labels in capacity 4
CREATE AGGREGATE evil_acc2(text, text) (SFUNC = ml.confusion_sfunc,
  STYPE = bytea, FINALFUNC = ml.accuracy_final,
  INITCOND = '\x43584c4d010200000900000004000000000000000000000000000000000000000000000000000000');
-- an AUC header ("MLXA", version 1, kind 5) claiming a capacity of 2^48 scores
CREATE AGGREGATE evil_auc(boolean, float8) (SFUNC = ml.roc_auc_sfunc,
  STYPE = bytea, FINALFUNC = ml.roc_auc_final,
  INITCOND = '\x41584c4d01050000000000000000000000000100000000000000000000000000000000000000');
-- a log loss state given to the regression final function
CREATE AGGREGATE evil_mix(boolean, float8) (SFUNC = ml.log_loss_sfunc,
  STYPE = bytea, FINALFUNC = ml.r2_final);
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('garbage', $q$SELECT evil_r2(1, 2)$q$),
  ('truncated header', $q$SELECT evil_acc('a', 'b')$q$),
  ('labels beyond capacity', $q$SELECT evil_acc2('a', 'b')$q$),
  ('huge capacity', $q$SELECT evil_auc(true, 1)$q$),
  ('wrong kind of state', $q$SELECT evil_mix(true, 0.5)$q$)
) AS cases(c, q);

-- parallel: Partial Aggregate under Gather, same results as the serial plan
CREATE TABLE mpar AS
SELECT i, sin(i) * 10 + (i % 7) AS y, sin(i) * 10 + (i % 5) + 0.1 * cos(i * 3.7) AS p,
       (i % 11)::text AS la, ((i * 7) % 11 + (i % 3))::text AS lp,
       sin(i * 1.3) > 0 AS b, 1 / (1 + exp(-sin(i * 1.3) - cos(i))) AS prob,
       round((sin(i * 1.3) + cos(i * 0.7))::numeric, 2)::float8 AS score
FROM generate_series(1, 200000) AS i;
ANALYZE mpar;
CREATE VIEW mq AS SELECT
  ml.r2(y, p) AS r2, ml.mse(y, p) AS mse, ml.rmse(y, p) AS rmse, ml.mae(y, p) AS mae,
  ml.explained_variance(y, p) AS ev, ml.accuracy(la, lp) AS acc,
  ml.precision(la, lp) AS prec, ml.recall(la, lp) AS rec, ml.f1(la, lp) AS f1,
  ml.f1(la, lp, '3') AS f1_3, ml.accuracy(b, prob > 0.5) AS bacc,
  ml.f1(b, prob > 0.5) AS bf1, ml.log_loss(b, prob) AS ll, ml.roc_auc(b, score) AS auc
FROM mpar;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE mserial AS SELECT * FROM mq;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT * FROM mq;
CREATE TEMP TABLE mparallel AS SELECT * FROM mq;
SELECT key, abs(s.value::float8 - p.value::float8)
              <= 1e-12 * greatest(abs(s.value::float8), 1e-300) AS same
FROM json_each_text((SELECT row_to_json(mserial) FROM mserial)) s
JOIN json_each_text((SELECT row_to_json(mparallel) FROM mparallel)) p USING (key)
ORDER BY key;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
