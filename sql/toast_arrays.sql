-- Feature arrays and models in every form a varlena takes: stored out of
-- line (STORAGE EXTERNAL), compressed in line, compressed out of line, and
-- expanded (a PL/pgSQL array variable that was assigned to).  Each
-- function taking float8[] must give exactly what it gives for the same
-- array in line (x || '{}' builds a fresh in-line copy).
SET client_min_messages = error;

-- 300 values per row, rounded so that they compress well
CREATE FUNCTION ta_x(i int, n int, digits int) RETURNS float8[] LANGUAGE sql IMMUTABLE AS
$$ SELECT array_agg(round(sin(i * 0.37 + j * 1.3) * 10 ^ digits) / 10 ^ digits ORDER BY j)
   FROM generate_series(1, n) j $$;

CREATE TABLE ta_ext (i int, y float8, c boolean, c3 text, x float8[]);
ALTER TABLE ta_ext ALTER COLUMN x SET STORAGE EXTERNAL;
INSERT INTO ta_ext
SELECT i, v + 0.1 * cos(i), v > 0,
       CASE WHEN v < -1 THEN 'lo' WHEN v < 1 THEN 'mid' ELSE 'hi' END, x
FROM (SELECT i, x, x[1] + 2 * x[2] - x[3] AS v
      FROM (SELECT i, ta_x(i, 300, 1) AS x FROM generate_series(1, 400) i OFFSET 0) s1) s;

CREATE TABLE ta_cmp (LIKE ta_ext);          -- default storage: compressed in line
INSERT INTO ta_cmp SELECT * FROM ta_ext;

CREATE TABLE ta_big (i int, y float8, x float8[]);  -- 5,000 values: compressed, out of line
INSERT INTO ta_big
SELECT i, x[1] - x[2] + 0.1 * cos(i), x
FROM (SELECT i, ta_x(i, 5000, 3) AS x FROM generate_series(1, 40) i OFFSET 0) s;

-- the forms really are those
SELECT 'ta_ext' AS t, bool_and(pg_column_compression(x) IS NULL) AS uncompressed,
       (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE relname = 'ta_ext') AS out_of_line
FROM ta_ext
UNION ALL
SELECT 'ta_cmp', bool_and(pg_column_compression(x) IS NULL),
       (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE relname = 'ta_cmp')
FROM ta_cmp
UNION ALL
SELECT 'ta_big', bool_and(pg_column_compression(x) IS NULL),
       (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE relname = 'ta_big')
FROM ta_big;

-- the fit aggregates: the same model as from in-line arrays
SELECT t,
       (SELECT ml.linreg_fit(y, x) FROM ta_ext) = (SELECT ml.linreg_fit(y, x || '{}') FROM ta_ext) AS linreg,
       (SELECT ml.linreg_fit(y, x, 0.5) FROM ta_ext) = (SELECT ml.linreg_fit(y, x || '{}', 0.5) FROM ta_ext) AS ridge,
       (SELECT ml.lasso_fit(y, x, 0.01) FROM ta_ext) = (SELECT ml.lasso_fit(y, x || '{}', 0.01) FROM ta_ext) AS lasso,
       (SELECT ml.elastic_net_fit(y, x, 0.01, 0.5) FROM ta_ext) = (SELECT ml.elastic_net_fit(y, x || '{}', 0.01, 0.5) FROM ta_ext) AS enet,
       (SELECT ml.pca_fit(x, 3) FROM ta_ext) = (SELECT ml.pca_fit(x || '{}', 3) FROM ta_ext) AS pca
FROM (VALUES ('ta_ext')) v(t);
SELECT (SELECT ml.linreg_fit(y, x) FROM ta_cmp) = (SELECT ml.linreg_fit(y, x || '{}') FROM ta_cmp) AS linreg,
       (SELECT ml.lasso_fit(y, x, 0.01) FROM ta_cmp) = (SELECT ml.lasso_fit(y, x || '{}', 0.01) FROM ta_cmp) AS lasso,
       (SELECT ml.elastic_net_fit(y, x, 0.01, 0.5) FROM ta_cmp) = (SELECT ml.elastic_net_fit(y, x || '{}', 0.01, 0.5) FROM ta_cmp) AS enet,
       (SELECT ml.pca_fit(x) FROM ta_cmp) = (SELECT ml.pca_fit(x || '{}') FROM ta_cmp) AS pca;

-- 5,000 values are read as what they are (not "must be of type double precision[]")
SELECT ml.linreg_fit(y, x) FROM ta_big;
SELECT ml.pca_fit(x) FROM ta_big;

-- models stored out of line too (every model value of this table is)
CREATE TABLE ta_models (name text PRIMARY KEY, model bytea) WITH (toast_tuple_target = 128);
ALTER TABLE ta_models ALTER COLUMN model SET STORAGE EXTERNAL;
INSERT INTO ta_models
SELECT 'lin', ml.linreg_fit(y, x) FROM ta_ext
UNION ALL SELECT 'pca', ml.pca_fit(x, 3) FROM ta_ext;
SELECT pg_relation_size(reltoastrelid) > 0 AS out_of_line
FROM pg_class WHERE relname = 'ta_models';

-- ml.train's passes over a table with a 300-element array column, then
-- scoring by name
SELECT algorithm, version
FROM ml.train('ta_linear', 'ta_ext', 'y', 'linear_regression', ARRAY['x']);
SELECT algorithm, version
FROM ml.train('ta_logistic', 'ta_ext', 'c', 'logistic_regression', ARRAY['x'],
              '{"test_fraction": 0}');
SELECT algorithm, version
FROM ml.train('ta_nb', 'ta_ext', 'c', 'naive_bayes', ARRAY['x'], '{"test_fraction": 0}');
SELECT algorithm, version
FROM ml.train('ta_kmeans', 'ta_ext', NULL, 'kmeans', ARRAY['x'], '{"k": 2, "seed": 1}');
SELECT algorithm, version
FROM ml.train('ta_pca', 'ta_ext', NULL, 'pca', ARRAY['x'], '{"n_components": 2}');
SELECT algorithm, version
FROM ml.train('ta_tree', 'ta_ext', 'c', 'decision_tree', ARRAY['x'],
              '{"max_depth": 3, "test_fraction": 0}');
SELECT algorithm, version
FROM ml.train('ta_enet', 'ta_ext', 'y', 'elastic_net', ARRAY['x'], '{"alpha": 0.01}');
SELECT algorithm, version
FROM ml.train('ta_softmax', 'ta_ext', 'c3', 'logistic_regression', ARRAY['x'],
              '{"test_fraction": 0}');
SELECT algorithm, version
FROM ml.train('ta_gbm', 'ta_ext', 'y', 'gradient_boosting', ARRAY['x'],
              '{"n_estimators": 3, "max_depth": 2, "test_fraction": 0.2}');
-- (5,000 values are read as such: the message is about their number)
SELECT algorithm, version
FROM ml.train('ta_bigtree', 'ta_big', 'y', 'decision_tree', ARRAY['x'],
              '{"max_depth": 2, "test_fraction": 0}');

-- scoring, by bytea (in line and out of line) and by name, stored arrays
-- against in-line copies
CREATE FUNCTION ta_check(tbl regclass) RETURNS TABLE(fn text, same boolean)
LANGUAGE plpgsql AS $$
DECLARE
  lin bytea := (SELECT model FROM ta_models WHERE name = 'lin');
  pca bytea := (SELECT model FROM ta_models WHERE name = 'pca');
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT 'predict bytea', bool_and(ml.predict(%1$L::bytea, x) = ml.predict(%1$L::bytea, x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict stored bytea',
           bool_and(ml.predict(m.model, x) = ml.predict(%1$L::bytea, x || '{}'))
      FROM %3$s, ta_models m WHERE m.name = 'lin'
    UNION ALL
    SELECT 'transform bytea', bool_and(ml.transform(%2$L::bytea, x) = ml.transform(%2$L::bytea, x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'transform stored bytea',
           bool_and(ml.transform(m.model, x) = ml.transform(%2$L::bytea, x || '{}'))
      FROM %3$s, ta_models m WHERE m.name = 'pca'
    UNION ALL
    SELECT 'predict name', bool_and(ml.predict('ta_linear', x) = ml.predict('ta_linear', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict_proba bytea',
           bool_and(ml.predict_proba(ml.model('ta_logistic'), x) = ml.predict_proba(ml.model('ta_logistic'), x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict_proba name',
           bool_and(ml.predict_proba('ta_nb', x) = ml.predict_proba('ta_nb', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict_label bytea',
           bool_and(ml.predict_label(ml.model('ta_tree'), x) = ml.predict_label(ml.model('ta_tree'), x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict_label name',
           bool_and(ml.predict_label('ta_logistic', x) = ml.predict_label('ta_logistic', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'transform name', bool_and(ml.transform('ta_pca', x) = ml.transform('ta_pca', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict kmeans name', bool_and(ml.predict('ta_kmeans', x) = ml.predict('ta_kmeans', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict enet name', bool_and(ml.predict('ta_enet', x) = ml.predict('ta_enet', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict_proba softmax name',
           bool_and(ml.predict_proba('ta_softmax', x) = ml.predict_proba('ta_softmax', x || '{}'))
      FROM %3$s
    UNION ALL
    SELECT 'predict_label softmax bytea',
           bool_and(ml.predict_label(ml.model('ta_softmax'), x) = ml.predict_label(ml.model('ta_softmax'), x || '{}'))
      FROM %3$s

    UNION ALL
    SELECT 'predict boosting name', bool_and(ml.predict('ta_gbm', x) = ml.predict('ta_gbm', x || '{}'))
      FROM %3$s $q$, lin, pca, tbl);
END $$;
SELECT * FROM ta_check('ta_ext');
SELECT * FROM ta_check('ta_cmp');

-- 5,000 values: the length check of scoring, by name and by bytea
SELECT ml.predict('ta_linear', x) FROM ta_big LIMIT 1;
SELECT ml.predict((SELECT model FROM ta_models WHERE name = 'lin'), x) FROM ta_big LIMIT 1;

-- PL/pgSQL array variables: expanded once an element is assigned
SET client_min_messages = notice;
DO $$
DECLARE
  a float8[] := (SELECT x FROM ta_ext WHERE i = 7);
  b float8[] := (SELECT x FROM ta_ext WHERE i = 7);
  lin bytea := (SELECT model FROM ta_models WHERE name = 'lin');
  pca bytea := (SELECT model FROM ta_models WHERE name = 'pca');
  fit bytea;
BEGIN
  a[1] := a[1];				-- now an expanded array
  RAISE NOTICE 'predict bytea %', ml.predict(lin, a) = ml.predict(lin, b || '{}');
  RAISE NOTICE 'predict name %', ml.predict('ta_linear', a) = ml.predict('ta_linear', b || '{}');
  RAISE NOTICE 'predict_proba bytea %',
    ml.predict_proba(ml.model('ta_logistic'), a) = ml.predict_proba(ml.model('ta_logistic'), b || '{}');
  RAISE NOTICE 'predict_proba name %', ml.predict_proba('ta_nb', a) = ml.predict_proba('ta_nb', b || '{}');
  RAISE NOTICE 'predict_label bytea %',
    ml.predict_label(ml.model('ta_tree'), a) = ml.predict_label(ml.model('ta_tree'), b || '{}');
  RAISE NOTICE 'predict_label name %', ml.predict_label('ta_logistic', a) = ml.predict_label('ta_logistic', b || '{}');
  RAISE NOTICE 'transform bytea %', ml.transform(pca, a) = ml.transform(pca, b || '{}');
  RAISE NOTICE 'transform name %', ml.transform('ta_pca', a) = ml.transform('ta_pca', b || '{}');
  SELECT ml.linreg_fit(y, a, 1.0) INTO fit FROM ta_ext;
  RAISE NOTICE 'linreg_fit %', fit = (SELECT ml.linreg_fit(y, b || '{}', 1.0) FROM ta_ext);
  SELECT ml.pca_fit(a) INTO fit FROM ta_ext WHERE i < 5;
  RAISE NOTICE 'pca_fit %', fit = (SELECT ml.pca_fit(b || '{}') FROM ta_ext WHERE i < 5);
END $$;
SET client_min_messages = error;

DROP FUNCTION ta_check(regclass);
SELECT ml.drop_model(n) FROM unnest(ARRAY['ta_linear', 'ta_logistic', 'ta_nb', 'ta_kmeans',
                                         'ta_pca', 'ta_tree', 'ta_enet', 'ta_softmax',
                                         'ta_gbm']) n;
DROP TABLE ta_ext, ta_cmp, ta_big, ta_models;
DROP FUNCTION ta_x(int, int, int);
