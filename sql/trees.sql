-- Tree models: decision_tree, random_forest and gradient_boosting through
-- ml.train; scoring, missing values, inspection, the parallel plan, bad input.
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- 4000 rows, deterministic: y depends on an interaction, a step and a
-- categorical column; x3 is NULL in every 7th row
CREATE TABLE tr AS
SELECT i AS id,
       ((i * 37) % 101) / 10.0 AS x1,
       ((i * 53) % 89) / 8.0 AS x2,
       CASE WHEN i % 7 = 0 THEN NULL ELSE ((i * 17) % 61) / 6.0 END AS x3,
       (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS colour,
       0.0::float8 AS y, false AS hot, ''::text AS grade
FROM generate_series(1, 4000) i;
UPDATE tr SET y = x1 * x2 / 10 + CASE WHEN coalesce(x3, 5) > 4 THEN 3 ELSE 0 END
                  + CASE colour WHEN 'red' THEN 1 ELSE 0 END;
UPDATE tr SET hot = y > 6, grade = CASE WHEN y < 4 THEN 'low' WHEN y < 8 THEN 'mid' ELSE 'high' END;
ANALYZE tr;

-- regression (float target), binary (boolean target), multiclass (text target)
SELECT name, version, algorithm, metrics->>'r2' > '0.95' AS good
FROM ml.train('tr_gb', 'tr', 'y', 'gradient_boosting', ARRAY['x1', 'x2', 'x3', 'colour'],
              '{"n_estimators": 50, "max_depth": 4}');
SELECT name, metrics->>'accuracy' > '0.95' AS good, metrics ? 'roc_auc' AS auc
FROM ml.train('tr_gb_hot', 'tr', 'hot', 'gradient_boosting', ARRAY['x1', 'x2', 'x3', 'colour'],
              '{"n_estimators": 30}');
SELECT name, metrics->>'accuracy' > '0.9' AS good
FROM ml.train('tr_gb_grade', 'tr', 'grade', 'gradient_boosting', ARRAY['x1', 'x2', 'x3', 'colour'],
              '{"n_estimators": 30, "max_depth": 3}');
SELECT name, metrics->>'accuracy' > '0.9' AS good
FROM ml.train('tr_rf', 'tr', 'grade', 'random_forest', ARRAY['x1', 'x2', 'x3', 'colour'],
              '{"n_estimators": 20, "max_depth": 8, "seed": 3}');
SELECT name, metrics->>'r2' > '0.9' AS good
FROM ml.train('tr_dt', 'tr', 'y', 'decision_tree', ARRAY['x1', 'x2', 'x3', 'colour'],
              '{"max_depth": 8}');
SELECT ml.model_info(ml.model(n))->>'algorithm' AS algorithm,
       ml.model_info(ml.model(n))->>'objective' AS objective,
       ml.model_info(ml.model(n))->'n_trees' AS n_trees
FROM unnest(ARRAY['tr_gb', 'tr_gb_hot', 'tr_gb_grade', 'tr_rf', 'tr_dt']) n;

-- without held-out rows the metrics come from the trainer's own predictions
-- of the training rows: the same as scoring the rows again
SELECT n, bool_and(abs((m.metrics->>e.metric)::float8 - e.value) <= 1e-9 * (1 + abs(e.value))) AS same,
       count(*) AS metrics
FROM unnest(ARRAY['tr_gb', 'tr_gb_hot', 'tr_gb_grade', 'tr_rf', 'tr_dt']) n
     CROSS JOIN LATERAL ml.evaluate(n, 'tr') e
     JOIN ml.models m ON m.name = n AND m.deployed
WHERE e.metric <> 'n' GROUP BY n ORDER BY n;
SELECT p->>'name' AS pass FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p
WHERE m.name = 'tr_rf' ORDER BY (p->>'pass')::int;

-- scoring by row, by array, probabilities and labels
SELECT ml.classes('tr_gb_grade');
SELECT count(*) FILTER (WHERE ml.predict_label('tr_gb_grade', t) = grade) > 3800 AS labels_right,
       max(abs((SELECT sum(p) FROM unnest(ml.predict_proba('tr_gb_grade', t)) p) - 1)) < 1e-12 AS sums_to_one,
       count(*) FILTER (WHERE (ml.predict('tr_gb_hot', t) = 1) = hot) > 3800 AS binary_right,
       avg(abs(ml.predict('tr_gb', t) - y)) < 0.3 AS regression_close
FROM tr t;
-- the missing-value direction: a NULL x3 scores like NaN in the array form
SELECT ml.predict('tr_dt', t) = ml.predict(ml.model('tr_dt'), ARRAY[x1, x2, 'NaN', (colour = 'blue')::int, (colour = 'green')::int, (colour = 'red')::int]::float8[])
FROM tr t WHERE x3 IS NULL LIMIT 3;
SELECT ml.predict(ml.model('tr_gb'), ARRAY[1, 2, 'NaN', 0, 0, 1]::float8[]) IS NOT NULL AS scores_nan;
\set VERBOSITY sqlstate
SELECT ml.predict(ml.model('tr_gb'), ARRAY[1, 2, 'Infinity', 0, 0, 1]::float8[]);
SELECT ml.predict(ml.model('tr_gb'), ARRAY[1, 2, 3]::float8[]);
SELECT ml.predict_proba('tr_gb', ARRAY[1, 2, 3, 0, 0, 1]::float8[]);
\set VERBOSITY default

-- inspection
SELECT feature, splits > 0 AS used, gain > 0 AS positive FROM ml.feature_importance('tr_gb') ORDER BY gain DESC LIMIT 3;
SELECT (SELECT sum(splits) FROM ml.feature_importance('tr_gb')) =
       (SELECT count(*) FROM ml.trees('tr_gb') WHERE feature IS NOT NULL) AS splits_match,
       (SELECT abs(sum(gain_share) - 1) < 1e-12 FROM ml.feature_importance('tr_gb')) AS shares;
SELECT tree, node, depth, feature IS NULL AS leaf, left_child, right_child, cardinality(value)
FROM ml.trees('tr_dt') WHERE node < 3 ORDER BY node;
SELECT count(DISTINCT tree) AS trees, max(depth) <= 3 AS shallow FROM ml.trees('tr_gb_grade');
SELECT * FROM ml.feature_importance(ml.model('tr_gb_grade')) WHERE false;
SELECT * FROM ml.trees((SELECT ml.linreg_fit(1, ARRAY[1.0])));


-- the parallel plan gives the serial model, byte for byte
CREATE TABLE trbig AS SELECT i, ((i::bigint * 7919) % 10007) / 1000.0 AS a, ((i::bigint * 104729) % 10009) / 1000.0 AS b,
       CASE WHEN i % 11 = 0 THEN NULL ELSE ((i * 31) % 97)::float8 END AS c
FROM generate_series(1, 60000) i;
ALTER TABLE trbig ADD COLUMN t float8;
UPDATE trbig SET t = a * b + coalesce(c, 50) / 10;
ALTER TABLE trbig SET (parallel_workers = 2);
ANALYZE trbig;
SET max_parallel_workers_per_gather = 0;
SELECT version FROM ml.train('trb', 'trbig', 't', 'gradient_boosting', ARRAY['a', 'b', 'c'],
                             '{"n_estimators": 20, "subsample": 0.8, "colsample": 0.7, "seed": 5}');
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT version FROM ml.train('trb', 'trbig', 't', 'gradient_boosting', ARRAY['a', 'b', 'c'],
                             '{"n_estimators": 20, "subsample": 0.8, "colsample": 0.7, "seed": 5}');
SELECT (SELECT model FROM ml.models WHERE name = 'trb' AND version = 1) =
       (SELECT model FROM ml.models WHERE name = 'trb' AND version = 2) AS same_model;
SELECT (p->>'workers_planned')::int AS planned
FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p
WHERE m.name = 'trb' AND m.version = 2 AND p->>'name' = 'bin';
-- another thread count: the same model too
SET ml.training_threads = 1;
SELECT version FROM ml.train('trb', 'trbig', 't', 'gradient_boosting', ARRAY['a', 'b', 'c'],
                             '{"n_estimators": 20, "subsample": 0.8, "colsample": 0.7, "seed": 5}');
SELECT (SELECT model FROM ml.models WHERE name = 'trb' AND version = 1) =
       (SELECT model FROM ml.models WHERE name = 'trb' AND version = 3) AS same_model;
-- another seed: another model
SELECT version FROM ml.train('trb', 'trbig', 't', 'gradient_boosting', ARRAY['a', 'b', 'c'],
                             '{"n_estimators": 20, "subsample": 0.8, "colsample": 0.7, "seed": 6}');
SELECT (SELECT model FROM ml.models WHERE name = 'trb' AND version = 1) =
       (SELECT model FROM ml.models WHERE name = 'trb' AND version = 4) AS same_model;
RESET ml.training_threads;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- early stopping on the held-out rows
SELECT metrics ? 'r2' AS evaluated
FROM ml.train('tr_es', 'tr', 'y', 'gradient_boosting', ARRAY['x1', 'x2'],
              '{"n_estimators": 500, "learning_rate": 0.5, "early_stopping_rounds": 5, "test_fraction": 0.3}');
SELECT (ml.model_info(ml.model('tr_es'))->>'best_iteration')::int < 500 AS stopped_early,
       (ml.model_info(ml.model('tr_es'))->>'n_trees')::int =
       (ml.model_info(ml.model('tr_es'))->>'best_iteration')::int AS kept_best;

-- bad input: each an error, nothing written
-- (each statement in a subtransaction: its SQLSTATE and message)
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT count(*) AS models_before FROM ml.models \gset
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"max_bins": 256}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"n_estimators": 0}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"n_estimators": 100001}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"max_depth": 31}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"learning_rate": 0}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"subsample": 1.5}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"lambda": -1}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"max_features": "sqrt"}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'random_forest', NULL, '{"max_features": 0}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'random_forest', ARRAY['x1', 'x2'], '{"max_features": 3}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'decision_tree', NULL, '{"n_estimators": 3}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"early_stopping_rounds": 5}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'grade', 'gradient_boosting', NULL, '{"objective": "regression"}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'hot', 'gradient_boosting', NULL, '{"objective": "multiclass"}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'grade', 'gradient_boosting', NULL, '{"objective": "binary"}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'tr', 'y', 'gradient_boosting', NULL, '{"objective": "poisson"}')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', '(SELECT 1.0::float8 AS a, 2.0::float8 AS t)', 't', 'gradient_boosting')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', '(SELECT NULL::float8 AS a, i::float8 AS t FROM generate_series(1, 10) i)', 't', 'gradient_boosting')$q$);
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', '(SELECT i::float8 AS a, CASE WHEN i = 5 THEN ''NaN''::float8 ELSE i END AS t FROM generate_series(1, 10) i)', 't', 'random_forest')$q$);
SET ml.max_training_memory = '1MB';
SELECT pg_temp.err($q$SELECT * FROM ml.train('bad', 'trbig', 't', 'gradient_boosting', ARRAY['a', 'b', 'c'])$q$);
RESET ml.max_training_memory;
SET ml.training_threads = 0;
SET ml.max_training_memory = '-1';
SELECT count(*) = :models_before AS nothing_written FROM ml.models;

-- hand-made states and bin edges for the pass aggregates
SELECT pg_temp.err($q$SELECT ml._tree_gather_combine('\x00'::bytea, NULL)$q$);
SELECT pg_temp.err($q$SELECT ml._tree_gather_sfunc(NULL, ARRAY[1.0]::float8[], 1, false, '\x00'::bytea)$q$);
CREATE AGGREGATE bad_gather(float8[], float8, boolean, bytea) (
    SFUNC = ml._tree_gather_sfunc, STYPE = bytea, INITCOND = '\x0102030405060708');
-- valid edges (1 feature, no cuts; native byte order), a made-up state
SELECT pg_temp.err($q$SELECT bad_gather(ARRAY[1.0]::float8[], 1, false, '\x42544c4d0100000000000000'::bytea) FROM generate_series(1, 2)$q$);
-- corrupt model values are refused by the reader (the fuzz target covers the rest)
SELECT pg_temp.err($q$SELECT * FROM ml.trees(substr(ml.model('tr_dt'), 1, 200))$q$);
SELECT regexp_replace(pg_temp.err($q$SELECT * FROM ml.feature_importance(overlay(ml.model('tr_gb') placing '\xffffffff'::bytea from 300))$q$),
                      '0x[0-9a-f]+', '0x...', 'g');
DROP AGGREGATE bad_gather(float8[], float8, boolean, bytea);

-- a cancelled training run writes nothing (the in-memory phase polls for
-- the cancel between nodes; 2000 rounds of depth 12 could take 737 MB,
-- within the bound ml.train refuses up front, so the run starts)
\set SHOW_CONTEXT never
SET statement_timeout = '1s';
SELECT * FROM ml.train('cancelled', 'trbig', 't', 'gradient_boosting', NULL, '{"n_estimators": 2000, "max_depth": 12, "learning_rate": 0.01}');
RESET statement_timeout;
\set SHOW_CONTEXT errors
SELECT count(*) FROM ml.models WHERE name = 'cancelled';

SELECT ml.drop_model(n) FROM unnest(ARRAY['tr_gb', 'tr_gb_hot', 'tr_gb_grade', 'tr_rf', 'tr_dt', 'trb', 'tr_es']) n;
DROP TABLE tr, trbig;
