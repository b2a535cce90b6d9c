-- Limits that must scale: a long "exclude" list, a forest of many trees
-- on many classes.
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

-- a wide table: matching a long exclude list against its columns by list
-- search was quadratic (and deaf to cancels)
SELECT format('CREATE TABLE lim_wide (y float8, %s)',
              string_agg(format('c%s float8', i), ', ' ORDER BY i))
FROM generate_series(1, 400) i \gexec
INSERT INTO lim_wide (y, c1, c2) SELECT i, i % 7, i % 5 FROM generate_series(1, 30) i;
CREATE TABLE lim_exclude AS
SELECT jsonb_build_object('exclude',
         jsonb_agg(format('c%s', 3 + i % 398) ORDER BY i)) AS options
FROM generate_series(1, 1000000) i;

-- a million names, every column but c1 and c2 named many times: done well
-- within the timeout
SET statement_timeout = '5s';
SELECT name FROM lim_exclude, ml.train('lim_ex', 'lim_wide', 'y', 'linear_regression', NULL, options);
SELECT features FROM ml.models WHERE name = 'lim_ex';
-- and a tiny timeout cancels it
SET statement_timeout = '20ms';
SELECT name FROM lim_exclude, ml.train('lim_ex2', 'lim_wide', 'y', 'linear_regression', NULL, options);
RESET statement_timeout;
-- a name that is no column, after a million that are
SELECT name FROM ml.train('lim_ex3', 'lim_wide', 'y', 'linear_regression', NULL,
    (SELECT jsonb_build_object('exclude', (options->'exclude') || '["c4", "no_such_column"]') FROM lim_exclude));

-- random forest: one tree per estimator, whatever the number of classes
CREATE TABLE lim_classes AS
SELECT i::float8 AS x, (i % 7)::float8 AS z, 'class ' || (i % 20) AS label
FROM generate_series(1, 200) i;
SELECT name, algorithm
FROM ml.train('lim_rf', 'lim_classes', 'label', 'random_forest', NULL,
              '{"n_estimators": 5001, "max_depth": 1}');
SELECT ml.model_info(ml.model('lim_rf'))->'n_trees' AS n_trees,
       array_length(ml.classes('lim_rf'), 1) AS n_classes;
-- boosting grows a tree per class and round: that one is limited
SELECT name
FROM ml.train('lim_gb', 'lim_classes', 'label', 'gradient_boosting', NULL,
              '{"n_estimators": 5001, "max_depth": 1}');

SELECT ml.drop_model(name, NULL) FROM (VALUES ('lim_ex'), ('lim_rf')) v(name);
DROP TABLE lim_wide, lim_exclude, lim_classes;
