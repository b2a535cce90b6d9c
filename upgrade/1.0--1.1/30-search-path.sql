
------------------------------------------------------------------------------
-- search_path (1.1): no function of ml_ext runs code a role planted in a
-- schema on the caller's search_path
------------------------------------------------------------------------------

-- SQL and PL/pgSQL functions run with search_path pinned to pg_catalog and
-- the session's own temporary schema; C functions that run SQL pin it
-- themselves (src/pg/searchpath.c) and qualify what they run.
ALTER FUNCTION ml.model(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION ml.training_info(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION ml._is_classifier(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION ml._classifier_target(text, text, text) SET search_path = pg_catalog, pg_temp;

-- ml.evaluate, ml.confusion_matrix and ml.roc_curve take a relation the way
-- the user wrote it, which must resolve under the user's search_path.  Each
-- is now a SQL-standard body (bound to our functions when it is created, so
-- it looks nothing up when called) that resolves the relation with
-- ml._from_item (a qualified name, or the query deparsed with every name
-- qualified) and hands it to a pinned internal function doing the work.
CREATE FUNCTION ml._evaluate(model_name text, relation text, src text)
RETURNS TABLE(metric text, value float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m record;
  r record;
  pos text;
  classifier boolean;
BEGIN
  SELECT mm.algorithm, mm.target INTO m
  FROM ml.models mm WHERE mm.name = model_name AND mm.deployed;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM ml.models mm WHERE mm.name = model_name) THEN
      RAISE EXCEPTION 'model "%" has no deployed version', model_name
        USING ERRCODE = 'undefined_object';
    END IF;
    RAISE EXCEPTION 'model "%" does not exist', model_name
      USING ERRCODE = 'undefined_object';
  END IF;
  IF m.target IS NULL THEN
    RAISE EXCEPTION 'model "%" has no target column to evaluate against', model_name
      USING ERRCODE = 'feature_not_supported';
  END IF;
  -- the target must exist in the relation (clear error before scoring)
  BEGIN
    EXECUTE format('SELECT src.%I FROM %s AS src LIMIT 0', m.target, src);
  EXCEPTION WHEN undefined_column THEN
    RAISE EXCEPTION 'target column "%" of model "%" does not exist in relation %',
      m.target, model_name, relation USING ERRCODE = 'undefined_column';
  END;
  classifier := ml._is_classifier(model_name, m.algorithm);
  IF classifier AND array_length(ml.classes(model_name), 1) > 2 THEN
    -- more than two classes: macro averages, log loss of each row's actual class
    EXECUTE format(
      'SELECT ml.accuracy(a, l) AS accuracy, ml.precision(a, l) AS prec,'
      '       ml.recall(a, l) AS recall, ml.f1(a, l) AS f1,'
      '       ml.log_loss(true, p) AS log_loss, count(*) AS n'
      '  FROM (SELECT (src.%I)::text AS a, ml.predict_label($2, src) AS l,'
      '               (ml.predict_proba($2, src))[array_position($1, (src.%I)::text)] AS p'
      '        FROM %s AS src WHERE src.%I IS NOT NULL) s',
      m.target, m.target, src, m.target) INTO r USING ml.classes(model_name), model_name;
    metric := 'accuracy'; value := r.accuracy; RETURN NEXT;
    metric := 'precision'; value := r.prec; RETURN NEXT;
    metric := 'recall'; value := r.recall; RETURN NEXT;
    metric := 'f1'; value := r.f1; RETURN NEXT;
    metric := 'log_loss'; value := r.log_loss; RETURN NEXT;
    metric := 'n'; value := r.n; RETURN NEXT;
    RETURN;
  END IF;
  IF classifier THEN
    pos := (ml.classes(model_name))[2];
    EXECUTE format(
      'SELECT ml.accuracy(a, l) AS accuracy, ml.precision(a, l, $1) AS prec,'
      '       ml.recall(a, l, $1) AS recall, ml.f1(a, l, $1) AS f1,'
      '       ml.log_loss(a = $1, p) AS log_loss, count(*) AS n,'
      '       count(*) FILTER (WHERE a = $1) AS npos'
      '  FROM (SELECT (src.%I)::text AS a, ml.predict_label($2, src) AS l,'
      '               (ml.predict_proba($2, src))[2] AS p'
      '        FROM %s AS src WHERE src.%I IS NOT NULL) s',
      m.target, src, m.target) INTO r USING pos, model_name;
    metric := 'accuracy'; value := r.accuracy; RETURN NEXT;
    metric := 'precision'; value := r.prec; RETURN NEXT;
    metric := 'recall'; value := r.recall; RETURN NEXT;
    metric := 'f1'; value := r.f1; RETURN NEXT;
    metric := 'log_loss'; value := r.log_loss; RETURN NEXT;
    IF r.npos > 0 AND r.npos < r.n THEN
      EXECUTE format(
        'SELECT ml.roc_auc((src.%I)::text = $1, (ml.predict_proba($2, src))[2])'
        '  FROM %s AS src WHERE src.%I IS NOT NULL',
        m.target, src, m.target) INTO value USING pos, model_name;
      metric := 'roc_auc'; RETURN NEXT;
    END IF;
    metric := 'n'; value := r.n; RETURN NEXT;
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT x.metric, x.value FROM ('
    '  SELECT ml.r2(y, p) AS r2, ml.mse(y, p) AS mse, ml.rmse(y, p) AS rmse,'
    '         ml.mae(y, p) AS mae, ml.explained_variance(y, p) AS ev, count(*) AS n'
    '  FROM (SELECT (src.%I)::float8 AS y, ml.predict(%L, src) AS p'
    '        FROM %s AS src WHERE src.%I IS NOT NULL) s) t'
    ' CROSS JOIN LATERAL (VALUES (''r2'', t.r2), (''mse'', t.mse), (''rmse'', t.rmse),'
    '   (''mae'', t.mae), (''explained_variance'', t.ev), (''n'', t.n::float8)) AS x(metric, value)',
    m.target, model_name, src, m.target);
END $$;
COMMENT ON FUNCTION ml._evaluate(text, text, text) IS
  'internal: ml.evaluate with the relation resolved to a FROM item';

CREATE FUNCTION ml._confusion_matrix(model_name text, relation text, src text)
RETURNS TABLE(actual text, predicted text, count bigint)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  target text := ml._classifier_target(model_name, src, relation);
BEGIN
  RETURN QUERY EXECUTE format(
    'WITH s AS (SELECT (src.%I)::text AS a, ml.predict_label($2, src) AS l'
    '           FROM %s AS src WHERE src.%I IS NOT NULL),'
    ' labels AS (SELECT c, o FROM unnest($1) WITH ORDINALITY AS u(c, o)'
    '            UNION ALL'
    '            SELECT DISTINCT a, 1000000 FROM s WHERE a <> ALL ($1))'
    ' SELECT la.c, lp.c, count(s.a)'
    ' FROM labels la CROSS JOIN unnest($1) WITH ORDINALITY AS lp(c, o)'
    ' LEFT JOIN s ON s.a = la.c AND s.l = lp.c'
    ' GROUP BY la.c, la.o, lp.c, lp.o ORDER BY la.o, la.c, lp.o',
    target, src, target) USING ml.classes(model_name), model_name;
END $$;
COMMENT ON FUNCTION ml._confusion_matrix(text, text, text) IS
  'internal: ml.confusion_matrix with the relation resolved to a FROM item';

CREATE FUNCTION ml._roc_curve(model_name text, relation text, src text)
RETURNS TABLE(threshold float8, fpr float8, tpr float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  target text := ml._classifier_target(model_name, src, relation);
  pos text := (ml.classes(model_name))[2];
  npos bigint;
  nneg bigint;
BEGIN
  IF array_length(ml.classes(model_name), 1) > 2 THEN
    RAISE EXCEPTION 'ROC curve needs a binary classifier; model "%" has % classes', model_name,
      array_length(ml.classes(model_name), 1)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Compare one class against the rest with ml.roc_auc(actual = label, (ml.predict_proba(...))[i]).';
  END IF;
  EXECUTE format('SELECT count(*) FILTER (WHERE (src.%I)::text = $1),'
                 '       count(*) FILTER (WHERE (src.%I)::text <> $1)'
                 '  FROM %s AS src WHERE src.%I IS NOT NULL', target, target, src, target)
    INTO npos, nneg USING pos;
  IF npos = 0 OR nneg = 0 THEN
    RAISE EXCEPTION 'ROC curve is undefined: relation % has only one class of "%"', relation, target
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY EXECUTE format(
    'WITH s AS (SELECT (src.%I)::text = $1 AS y, (ml.predict_proba($2, src))[2] AS score'
    '           FROM %s AS src WHERE src.%I IS NOT NULL),'
    ' g AS (SELECT score, count(*) FILTER (WHERE y) AS tp, count(*) FILTER (WHERE NOT y) AS fp'
    '       FROM s GROUP BY score),'
    ' c AS (SELECT score, sum(tp) OVER w AS tps, sum(fp) OVER w AS fps'
    '       FROM g WINDOW w AS (ORDER BY score DESC))'
    ' SELECT t.threshold, t.fpr, t.tpr FROM ('
    '   SELECT ''Infinity''::float8 AS threshold, 0::float8 AS fpr, 0::float8 AS tpr'
    '   UNION ALL'
    '   SELECT score, fps::float8 / $3, tps::float8 / $4 FROM c) t'
    ' ORDER BY t.threshold DESC',
    target, src, target) USING pos, model_name, nneg, npos;
END $$;
COMMENT ON FUNCTION ml._roc_curve(text, text, text) IS
  'internal: ml.roc_curve with the relation resolved to a FROM item';

CREATE OR REPLACE FUNCTION ml.evaluate(model_name text, relation text)
RETURNS TABLE(metric text, value float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT e.metric, e.value FROM ml._evaluate(model_name, relation, ml._from_item(relation)) AS e;
END;

CREATE OR REPLACE FUNCTION ml.confusion_matrix(model_name text, relation text)
RETURNS TABLE(actual text, predicted text, count bigint)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT c.actual, c.predicted, c.count
  FROM ml._confusion_matrix(model_name, relation, ml._from_item(relation)) AS c;
END;

CREATE OR REPLACE FUNCTION ml.roc_curve(model_name text, relation text)
RETURNS TABLE(threshold float8, fpr float8, tpr float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT r.threshold, r.fpr, r.tpr FROM ml._roc_curve(model_name, relation, ml._from_item(relation)) AS r;
END;
