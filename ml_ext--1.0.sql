/* ml_ext--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ml_ext" to load this file. \quit

-- The schema "ml" is created by CREATE EXTENSION (control file: schema = ml).
COMMENT ON SCHEMA ml IS 'ml_ext: machine learning inside PostgreSQL';

------------------------------------------------------------------------------
-- Linear regression: aggregate support functions
------------------------------------------------------------------------------

CREATE FUNCTION ml.linreg_sfunc(state bytea, y float8, x float8[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.linreg_sfunc(state bytea, y float8, x float8[], lambda float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.linreg_sfunc(state bytea, y float8, x float8[], lambda float8,
                                fit_intercept boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.linreg_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.linreg_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.linreg_sfunc(bytea, float8, float8[]) IS
  'transition function of ml.linreg_fit (folds one row into the streaming QR state)';
COMMENT ON FUNCTION ml.linreg_sfunc(bytea, float8, float8[], float8) IS
  'transition function of ml.linreg_fit with a ridge penalty';
COMMENT ON FUNCTION ml.linreg_sfunc(bytea, float8, float8[], float8, boolean) IS
  'transition function of ml.linreg_fit with a ridge penalty and intercept choice';
COMMENT ON FUNCTION ml.linreg_combine(bytea, bytea) IS
  'combine function of ml.linreg_fit (merges two partial QR states, TSQR)';
COMMENT ON FUNCTION ml.linreg_final(bytea) IS
  'final function of ml.linreg_fit (solves and encodes the model)';

------------------------------------------------------------------------------
-- Linear regression: aggregates
------------------------------------------------------------------------------

CREATE AGGREGATE ml.linreg_fit(y float8, x float8[]) (
    SFUNC = ml.linreg_sfunc,
    STYPE = bytea,
    FINALFUNC = ml.linreg_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.linreg_combine,
    PARALLEL = SAFE
);

CREATE AGGREGATE ml.linreg_fit(y float8, x float8[], lambda float8) (
    SFUNC = ml.linreg_sfunc,
    STYPE = bytea,
    FINALFUNC = ml.linreg_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.linreg_combine,
    PARALLEL = SAFE
);

CREATE AGGREGATE ml.linreg_fit(y float8, x float8[], lambda float8,
                               fit_intercept boolean) (
    SFUNC = ml.linreg_sfunc,
    STYPE = bytea,
    FINALFUNC = ml.linreg_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.linreg_combine,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE ml.linreg_fit(float8, float8[]) IS
  'fit an ordinary least-squares linear regression (with intercept); returns a model bytea';
COMMENT ON AGGREGATE ml.linreg_fit(float8, float8[], float8) IS
  'fit a ridge regression minimizing ||y - Xb||^2 + lambda ||b||^2 (intercept unpenalized); returns a model bytea';
COMMENT ON AGGREGATE ml.linreg_fit(float8, float8[], float8, boolean) IS
  'fit a ridge/least-squares regression, with or without an intercept; returns a model bytea';

------------------------------------------------------------------------------
-- Scoring and inspection
------------------------------------------------------------------------------

CREATE FUNCTION ml.predict(model bytea, x float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.predict(bytea, float8[]) IS
  'score one feature array with a model';

CREATE FUNCTION ml.coefficients(model bytea,
    OUT term text, OUT estimate float8, OUT std_error float8,
    OUT t_value float8, OUT p_value float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_coefficients'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 10;

COMMENT ON FUNCTION ml.coefficients(bytea) IS
  'coefficients of a linear, logistic, lasso or elastic net model with standard errors, t (linear) or z (logistic) statistics and two-sided p-values (NULL for the penalized lasso and elastic net)';

CREATE FUNCTION ml.model_info(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_model_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.model_info(bytea) IS
  'describe any ml_ext model as jsonb (algorithm, features, training figures, parameters)';

------------------------------------------------------------------------------
-- Named models: registry, training, scoring by name
------------------------------------------------------------------------------

-- How many processes took part in a scan: each process that sees a row
-- contributes 1, and the combine step adds them up, so a parallel plan with
-- two workers and the leader reports 3.  Used by ml.train to record how its
-- passes ran.
CREATE AGGREGATE ml._processes(integer) (
    SFUNC = int4larger,
    STYPE = integer,
    INITCOND = '0',
    COMBINEFUNC = int4pl,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._processes(integer) IS
  'internal: number of processes (leader and parallel workers) that saw at least one row';

-- Element-wise means of a float8[] column (imputation values of array
-- features); NULL arrays and elements are skipped, NULL when lengths differ.
CREATE FUNCTION ml._array_avg_sfunc(state bytea, x float8[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_array_avg_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._array_avg_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_array_avg_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._array_avg_final(state bytea)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_array_avg_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE ml._array_avg(float8[]) (
    SFUNC = ml._array_avg_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._array_avg_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._array_avg_combine,
    PARALLEL = SAFE
);
COMMENT ON FUNCTION ml._array_avg_sfunc(bytea, float8[]) IS 'internal: transition function of ml._array_avg';
COMMENT ON FUNCTION ml._array_avg_combine(bytea, bytea) IS 'internal: combine function of ml._array_avg';
COMMENT ON FUNCTION ml._array_avg_final(bytea) IS 'internal: final function of ml._array_avg';
COMMENT ON AGGREGATE ml._array_avg(float8[]) IS
  'internal: element-wise means of a double precision[] column (ml.train imputation values)';

-- Model names: the first role to train a name owns it; only members of that
-- role may add versions, deploy or drop them.
CREATE TABLE ml.model_names (
    name  text PRIMARY KEY,
    owner name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE ml.model_names IS 'owner of each model name';

CREATE TABLE ml.models (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL REFERENCES ml.model_names(name) ON DELETE CASCADE,
    version       integer NOT NULL CHECK (version > 0),
    owner         name NOT NULL,
    algorithm     text NOT NULL,
    relation      text,
    target        text,
    features      text[],
    options       jsonb NOT NULL DEFAULT '{}',
    metrics       jsonb,
    training_info jsonb,
    model         bytea NOT NULL,
    n_rows        bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    name NOT NULL DEFAULT current_user,
    deployed      boolean NOT NULL DEFAULT false,
    UNIQUE (name, version)
);
CREATE UNIQUE INDEX models_one_deployed ON ml.models (name) WHERE deployed;
COMMENT ON TABLE ml.models IS
  'registry of trained models: one row per (name, version); the deployed version answers ml.predict(name, ...)';

-- pg_dump keeps every model (extension configuration tables)
SELECT pg_catalog.pg_extension_config_dump('ml.model_names', '');
SELECT pg_catalog.pg_extension_config_dump('ml.models', '');
SELECT pg_catalog.pg_extension_config_dump('ml.models_id_seq', '');

-- Row-level security: a role sees and changes the models whose name it owns
-- (directly or through membership in the owning role).
ALTER TABLE ml.model_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE ml.models ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_names_read ON ml.model_names FOR SELECT USING (true);
CREATE POLICY model_names_claim ON ml.model_names FOR INSERT
    WITH CHECK (owner = current_user);
CREATE POLICY model_names_owner ON ml.model_names FOR DELETE
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
CREATE POLICY models_owner ON ml.models FOR ALL
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
GRANT SELECT, INSERT, DELETE ON ml.model_names TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ml.models TO PUBLIC;
GRANT USAGE ON SEQUENCE ml.models_id_seq TO PUBLIC;

CREATE FUNCTION ml.train(model_name text, relation text, target text,
                         algorithm text DEFAULT 'linear_regression',
                         features text[] DEFAULT NULL,
                         options jsonb DEFAULT '{}')
RETURNS TABLE(model_id bigint, name text, version integer, algorithm text, metrics jsonb)
AS 'MODULE_PATHNAME', 'ml_train'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION ml.train(text, text, text, text, text[], jsonb) IS
  'train a model on a table, view or (SELECT ...) and store it as the next version of model_name';

CREATE FUNCTION ml.predict(model_name text, x float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict_name_array'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(text, float8[]) IS
  'score an encoded feature array with the deployed version of a named model';

CREATE FUNCTION ml.predict(model_name text, "row" record)
RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict_name_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(text, record) IS
  'score a table row by column name with the deployed version of a named model (applies its encoding and imputation)';

CREATE FUNCTION ml.predict(model bytea, "row" record)
RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict_row'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(bytea, record) IS
  'score a table row by column name with a model trained by ml.train';

CREATE FUNCTION ml.model(model_name text)
RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT m.model FROM ml.models m WHERE m.name = model_name AND m.deployed;
END;
COMMENT ON FUNCTION ml.model(text) IS 'the deployed model of a name, as bytea (NULL if none)';

CREATE FUNCTION ml.deploy(model_name text, version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
AS $$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ml_ext.models:' || model_name, 0));
  IF NOT EXISTS (SELECT 1 FROM ml.models m WHERE m.name = model_name AND m.version = deploy.version) THEN
    RAISE EXCEPTION 'model "%" has no version %', model_name, version
      USING ERRCODE = 'undefined_object';
  END IF;
  UPDATE ml.models m SET deployed = false WHERE m.name = model_name AND m.deployed;
  UPDATE ml.models m SET deployed = true WHERE m.name = model_name AND m.version = deploy.version;
END $$;
COMMENT ON FUNCTION ml.deploy(text, integer) IS
  'make a version the one ml.predict(name, ...) uses';

CREATE FUNCTION ml.drop_model(model_name text, version integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $$
DECLARE n integer;
BEGIN
  IF model_name IS NULL THEN
    RAISE EXCEPTION 'model_name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ml_ext.models:' || model_name, 0));
  IF version IS NULL THEN
    DELETE FROM ml.models m WHERE m.name = model_name;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM ml.model_names mn WHERE mn.name = model_name;
  ELSE
    DELETE FROM ml.models m WHERE m.name = model_name AND m.version = drop_model.version;
    GET DIAGNOSTICS n = ROW_COUNT;
  END IF;
  IF n = 0 THEN
    RAISE EXCEPTION 'model "%"% does not exist', model_name,
      CASE WHEN version IS NULL THEN '' ELSE ' version ' || version END
      USING ERRCODE = 'undefined_object';
  END IF;
  RETURN n;
END $$;
COMMENT ON FUNCTION ml.drop_model(text, integer) IS
  'delete one version of a model, or all versions and the name';

CREATE FUNCTION ml.training_info(model_name text)
RETURNS TABLE(version integer, pass integer, name text, rows bigint,
              workers_planned integer, processes integer, seconds float8,
              loss float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
  SELECT m.version, (p->>'pass')::int, p->>'name', (p->>'rows')::bigint,
         (p->>'workers_planned')::int, (p->>'processes')::int, (p->>'seconds')::float8,
         (p->>'loss')::float8
  FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p
  WHERE m.name = model_name AND m.deployed
  ORDER BY 2;
END;
COMMENT ON FUNCTION ml.training_info(text) IS
  'per-pass figures of the deployed version of a model: rows, parallel workers planned, processes that saw rows, seconds, and for iterative passes the loss (negative log-likelihood) of the coefficients the pass started from';

-- BEGIN metrics
------------------------------------------------------------------------------
-- Evaluation metrics: aggregates over (actual, predicted) pairs.
-- Rows with a NULL in any argument are ignored; no rows gives NULL;
-- NaN/Infinity inputs are an error (22000).  States are flat bytea values
-- with a combine function, so every metric runs in parallel workers.
------------------------------------------------------------------------------

-- regression: streaming moments of y and of e = y - yhat, and sum |e|
CREATE FUNCTION ml.regression_metrics_sfunc(state bytea, actual float8, predicted float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_regression_metrics_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.regression_metrics_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_regression_metrics_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.r2_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_r2_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.mse_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_mse_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.rmse_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_rmse_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.mae_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_mae_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.explained_variance_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_explained_variance_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.regression_metrics_sfunc(bytea, float8, float8) IS
  'transition function of ml.r2, ml.mse, ml.rmse, ml.mae and ml.explained_variance (Welford moments)';
COMMENT ON FUNCTION ml.regression_metrics_combine(bytea, bytea) IS
  'combine function of the regression metrics (Chan et al. merge of two moment states)';
COMMENT ON FUNCTION ml.r2_final(bytea) IS 'final function of ml.r2';
COMMENT ON FUNCTION ml.mse_final(bytea) IS 'final function of ml.mse';
COMMENT ON FUNCTION ml.rmse_final(bytea) IS 'final function of ml.rmse';
COMMENT ON FUNCTION ml.mae_final(bytea) IS 'final function of ml.mae';
COMMENT ON FUNCTION ml.explained_variance_final(bytea) IS 'final function of ml.explained_variance';

CREATE AGGREGATE ml.r2(actual float8, predicted float8) (
    SFUNC = ml.regression_metrics_sfunc, STYPE = bytea,
    FINALFUNC = ml.r2_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.regression_metrics_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.mse(actual float8, predicted float8) (
    SFUNC = ml.regression_metrics_sfunc, STYPE = bytea,
    FINALFUNC = ml.mse_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.regression_metrics_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.rmse(actual float8, predicted float8) (
    SFUNC = ml.regression_metrics_sfunc, STYPE = bytea,
    FINALFUNC = ml.rmse_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.regression_metrics_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.mae(actual float8, predicted float8) (
    SFUNC = ml.regression_metrics_sfunc, STYPE = bytea,
    FINALFUNC = ml.mae_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.regression_metrics_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.explained_variance(actual float8, predicted float8) (
    SFUNC = ml.regression_metrics_sfunc, STYPE = bytea,
    FINALFUNC = ml.explained_variance_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.regression_metrics_combine, PARALLEL = SAFE);

COMMENT ON AGGREGATE ml.r2(float8, float8) IS
  'coefficient of determination 1 - SSE/SST (scikit-learn r2_score: 1 when SSE = 0, 0 when SST = 0 < SSE, NaN for a single row)';
COMMENT ON AGGREGATE ml.mse(float8, float8) IS
  'mean squared error of predicted against actual';
COMMENT ON AGGREGATE ml.rmse(float8, float8) IS
  'root mean squared error of predicted against actual';
COMMENT ON AGGREGATE ml.mae(float8, float8) IS
  'mean absolute error of predicted against actual';
COMMENT ON AGGREGATE ml.explained_variance(float8, float8) IS
  'explained variance 1 - Var(actual - predicted)/Var(actual) (scikit-learn explained_variance_score conventions)';

-- classification: confusion tables
CREATE FUNCTION ml.confusion_sfunc(state bytea, actual text, predicted text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_confusion_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.binary_confusion_sfunc(state bytea, actual text, predicted text,
                                          positive text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_binary_confusion_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.binary_confusion_sfunc(state bytea, actual boolean, predicted boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_binary_confusion_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.classification_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_classification_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION ml.accuracy_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_accuracy_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.precision_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_precision_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.recall_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_recall_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.f1_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_f1_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.confusion_sfunc(bytea, text, text) IS
  'transition function of the multiclass classification metrics (confusion table of at most 1000 labels)';
COMMENT ON FUNCTION ml.binary_confusion_sfunc(bytea, text, text, text) IS
  'transition function of the binary classification metrics with a positive label (one-vs-rest 2x2 table)';
COMMENT ON FUNCTION ml.binary_confusion_sfunc(bytea, boolean, boolean) IS
  'transition function of the boolean classification metrics (2x2 table, true is positive)';
COMMENT ON FUNCTION ml.classification_combine(bytea, bytea) IS
  'combine function of the classification metrics (adds confusion tables)';
COMMENT ON FUNCTION ml.accuracy_final(bytea) IS 'final function of ml.accuracy';
COMMENT ON FUNCTION ml.precision_final(bytea) IS 'final function of ml.precision';
COMMENT ON FUNCTION ml.recall_final(bytea) IS 'final function of ml.recall';
COMMENT ON FUNCTION ml.f1_final(bytea) IS 'final function of ml.f1';

CREATE AGGREGATE ml.accuracy(actual text, predicted text) (
    SFUNC = ml.confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.accuracy_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.precision(actual text, predicted text) (
    SFUNC = ml.confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.precision_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.recall(actual text, predicted text) (
    SFUNC = ml.confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.recall_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.f1(actual text, predicted text) (
    SFUNC = ml.confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.f1_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);

CREATE AGGREGATE ml.precision(actual text, predicted text, positive text) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.precision_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.recall(actual text, predicted text, positive text) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.recall_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.f1(actual text, predicted text, positive text) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.f1_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);

CREATE AGGREGATE ml.accuracy(actual boolean, predicted boolean) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.accuracy_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.precision(actual boolean, predicted boolean) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.precision_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.recall(actual boolean, predicted boolean) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.recall_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);
CREATE AGGREGATE ml.f1(actual boolean, predicted boolean) (
    SFUNC = ml.binary_confusion_sfunc, STYPE = bytea,
    FINALFUNC = ml.f1_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.classification_combine, PARALLEL = SAFE);

COMMENT ON AGGREGATE ml.accuracy(text, text) IS
  'fraction of rows whose predicted label equals the actual label';
COMMENT ON AGGREGATE ml.precision(text, text) IS
  'macro-averaged precision over the labels seen in actual or predicted (scikit-learn average=''macro'', zero_division=0)';
COMMENT ON AGGREGATE ml.recall(text, text) IS
  'macro-averaged recall over the labels seen in actual or predicted (scikit-learn average=''macro'', zero_division=0)';
COMMENT ON AGGREGATE ml.f1(text, text) IS
  'macro-averaged F1 score over the labels seen in actual or predicted (scikit-learn average=''macro'', zero_division=0)';
COMMENT ON AGGREGATE ml.precision(text, text, text) IS
  'precision of the positive label against all others (scikit-learn pos_label, zero_division=0)';
COMMENT ON AGGREGATE ml.recall(text, text, text) IS
  'recall of the positive label against all others (scikit-learn pos_label, zero_division=0)';
COMMENT ON AGGREGATE ml.f1(text, text, text) IS
  'F1 score of the positive label against all others (scikit-learn pos_label, zero_division=0)';
COMMENT ON AGGREGATE ml.accuracy(boolean, boolean) IS
  'fraction of rows whose predicted value equals the actual value';
COMMENT ON AGGREGATE ml.precision(boolean, boolean) IS
  'precision with true as the positive class (zero_division=0)';
COMMENT ON AGGREGATE ml.recall(boolean, boolean) IS
  'recall with true as the positive class (zero_division=0)';
COMMENT ON AGGREGATE ml.f1(boolean, boolean) IS
  'F1 score with true as the positive class (zero_division=0)';

-- log loss
CREATE FUNCTION ml.log_loss_sfunc(state bytea, actual boolean, probability float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_log_loss_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml.log_loss_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_log_loss_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml.log_loss_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_log_loss_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.log_loss_sfunc(bytea, boolean, float8) IS
  'transition function of ml.log_loss (compensated sum of per-row losses)';
COMMENT ON FUNCTION ml.log_loss_combine(bytea, bytea) IS
  'combine function of ml.log_loss';
COMMENT ON FUNCTION ml.log_loss_final(bytea) IS 'final function of ml.log_loss';

CREATE AGGREGATE ml.log_loss(actual boolean, probability float8) (
    SFUNC = ml.log_loss_sfunc, STYPE = bytea,
    FINALFUNC = ml.log_loss_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.log_loss_combine, PARALLEL = SAFE);

COMMENT ON AGGREGATE ml.log_loss(boolean, float8) IS
  'mean binary cross-entropy of probability (of true) against actual; probabilities are clipped to [eps, 1 - eps], eps = 2.22e-16 (scikit-learn >= 1.2 eps="auto"); a probability outside [0, 1] is an error';

-- ROC AUC: keeps every (score, label) pair; exact, ties counted half
CREATE FUNCTION ml.roc_auc_sfunc(state bytea, actual boolean, score float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_roc_auc_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml.roc_auc_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_roc_auc_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml.roc_auc_final(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_roc_auc_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.roc_auc_sfunc(bytea, boolean, float8) IS
  'transition function of ml.roc_auc (collects scores; the state doubles as it grows, up to 1 GB)';
COMMENT ON FUNCTION ml.roc_auc_combine(bytea, bytea) IS
  'combine function of ml.roc_auc (concatenates collected scores)';
COMMENT ON FUNCTION ml.roc_auc_final(bytea) IS
  'final function of ml.roc_auc (sorts a copy of the scores; the state is not modified)';

CREATE AGGREGATE ml.roc_auc(actual boolean, score float8) (
    SFUNC = ml.roc_auc_sfunc, STYPE = bytea,
    FINALFUNC = ml.roc_auc_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.roc_auc_combine, PARALLEL = SAFE);

COMMENT ON AGGREGATE ml.roc_auc(boolean, float8) IS
  'exact area under the ROC curve of score against actual, tied scores counted half (scikit-learn roc_auc_score); an error when only one class is present; memory grows with the rows (8 bytes each, at most 1 GB)';

CREATE FUNCTION ml._roc_auc_final_or_null(state bytea) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_roc_auc_final_or_null' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE ml._roc_auc_or_null(actual boolean, score float8) (
    SFUNC = ml.roc_auc_sfunc, STYPE = bytea,
    FINALFUNC = ml._roc_auc_final_or_null, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml.roc_auc_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE ml._roc_auc_or_null(boolean, float8) IS
  'internal: ml.roc_auc, but NULL instead of an error when only one class is present (ml.train''s evaluation pass)';
-- END metrics

CREATE FUNCTION ml._from_item(relation text)
RETURNS text
AS 'MODULE_PATHNAME', 'ml_from_item'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._from_item(text) IS
  'internal: a safely quoted FROM item for a table name or a parenthesised SELECT';

-- Whether the deployed model of a name classifies: logistic regression,
-- naive Bayes, and tree models whose objective is not regression.
CREATE FUNCTION ml._is_classifier(model_name text, algorithm text)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
  SELECT algorithm IN ('logistic_regression', 'naive_bayes')
      OR (algorithm IN ('decision_tree', 'random_forest', 'gradient_boosting')
          AND ml.model_info(ml.model(model_name))->>'objective' <> 'regression')
$$;
COMMENT ON FUNCTION ml._is_classifier(text, text) IS
  'internal: whether the deployed model of a name (of that algorithm) is a classifier';

CREATE FUNCTION ml.evaluate(model_name text, relation text)
RETURNS TABLE(metric text, value float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  m record;
  r record;
  pos text;
  classifier boolean;
  src text := ml._from_item(relation);
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
COMMENT ON FUNCTION ml.evaluate(text, text) IS
  'score a relation with the deployed version of a model and report metrics against its target column (regression: r2, mse, rmse, mae, explained_variance; classification: accuracy, precision, recall, f1 (macro over more than two classes), log_loss, roc_auc (binary))';

-- The model's target column and a check that the relation has it.
CREATE FUNCTION ml._classifier_target(model_name text, src text, relation text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  m record;
BEGIN
  SELECT mm.algorithm, mm.target INTO m
  FROM ml.models mm WHERE mm.name = model_name AND mm.deployed;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist or has no deployed version', model_name
      USING ERRCODE = 'undefined_object';
  END IF;
  IF NOT ml._is_classifier(model_name, m.algorithm) THEN
    RAISE EXCEPTION 'model "%" is a % model, not a classifier', model_name, m.algorithm
      USING ERRCODE = 'wrong_object_type';
  END IF;
  BEGIN
    EXECUTE format('SELECT src.%I FROM %s AS src LIMIT 0', m.target, src);
  EXCEPTION WHEN undefined_column THEN
    RAISE EXCEPTION 'target column "%" of model "%" does not exist in relation %',
      m.target, model_name, relation USING ERRCODE = 'undefined_column';
  END;
  RETURN m.target;
END $$;
COMMENT ON FUNCTION ml._classifier_target(text, text, text) IS
  'internal: target column of a deployed classifier, checked against a relation';

CREATE FUNCTION ml.confusion_matrix(model_name text, relation text)
RETURNS TABLE(actual text, predicted text, count bigint)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  src text := ml._from_item(relation);
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
COMMENT ON FUNCTION ml.confusion_matrix(text, text) IS
  'counts of (actual, predicted) label pairs of a classifier over a relation, zeros included';

CREATE FUNCTION ml.roc_curve(model_name text, relation text)
RETURNS TABLE(threshold float8, fpr float8, tpr float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  src text := ml._from_item(relation);
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
COMMENT ON FUNCTION ml.roc_curve(text, text) IS
  'ROC curve of a binary classifier over a relation: one point per distinct score, highest threshold first';

CREATE FUNCTION ml._encode(model bytea, "row" record)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_encode_row'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._encode(bytea, record) IS
  'internal: the feature array a model trained by ml.train makes of a row (its encoding and imputation)';

CREATE FUNCTION ml._encode_cols(model bytea, VARIADIC "any")
RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_encode_cols'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml._encode_cols(bytea, "any") IS
  'internal: ml._encode of the model''s input columns passed one by one in input order (ml.train''s passes)';

------------------------------------------------------------------------------
-- ml.train's linear regression: the whole fit in one parallel pass over the
-- feature columns (training and held-out rows, means, fit and metrics)
------------------------------------------------------------------------------

CREATE FUNCTION ml._linreg_train_sfunc(state bytea, y float8, held_out boolean,
                                       impute boolean, encoder bytea, VARIADIC "any")
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_train_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._linreg_train_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_train_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE ml._linreg_train(y float8, held_out boolean, impute boolean,
                                  encoder bytea, VARIADIC "any") (
    SFUNC = ml._linreg_train_sfunc,
    STYPE = bytea,
    COMBINEFUNC = ml._linreg_train_combine,
    PARALLEL = SAFE
);
COMMENT ON FUNCTION ml._linreg_train_sfunc(bytea, float8, boolean, boolean, bytea, "any") IS
  'internal: transition function of ml._linreg_train (encodes a row''s columns, folds it into the training or held-out QR state)';
COMMENT ON FUNCTION ml._linreg_train_combine(bytea, bytea) IS
  'internal: combine function of ml._linreg_train (TSQR merges)';
COMMENT ON AGGREGATE ml._linreg_train(float8, boolean, boolean, bytea, "any") IS
  'internal: ml.train''s linear regression pass; its state holds the QR factors of the training and held-out rows';

------------------------------------------------------------------------------
-- Logistic regression: one IRLS pass as a parallel aggregate (ml.train runs
-- one per iteration), and classifier scoring
------------------------------------------------------------------------------

CREATE FUNCTION ml._glm_pass_sfunc(state bytea, y float8, x float8[], current bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_glm_pass_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._glm_pass_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_glm_pass_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._glm_pass_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_glm_pass_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE ml._glm_pass(y float8, x float8[], current bytea) (
    SFUNC = ml._glm_pass_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._glm_pass_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._glm_pass_combine,
    PARALLEL = SAFE
);
-- the same pass over table columns (encoded by the encoder model) and
-- without the final step, for ml.train: the driver reads the state (the
-- next model, processes and rows) itself
CREATE FUNCTION ml._glm_pass_cols_sfunc(state bytea, y float8, current bytea, encoder bytea,
                                        VARIADIC "any")
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_glm_pass_cols_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE ml._glm_pass_state(y float8, current bytea, encoder bytea, VARIADIC "any") (
    SFUNC = ml._glm_pass_cols_sfunc,
    STYPE = bytea,
    COMBINEFUNC = ml._glm_pass_combine,
    PARALLEL = SAFE
);
COMMENT ON FUNCTION ml._glm_pass_cols_sfunc(bytea, float8, bytea, bytea, "any") IS
  'internal: transition function of ml._glm_pass_state (encodes a row''s columns, folds one weighted working-response row)';
COMMENT ON AGGREGATE ml._glm_pass_state(float8, bytea, bytea, "any") IS
  'internal: ml._glm_pass over table columns, returning its state (ml.train reads the next model, processes and rows from it)';
COMMENT ON FUNCTION ml._glm_pass_sfunc(bytea, float8, float8[], bytea) IS
  'internal: transition function of ml._glm_pass (folds one weighted working-response row)';
COMMENT ON FUNCTION ml._glm_pass_combine(bytea, bytea) IS
  'internal: combine function of ml._glm_pass (TSQR merge, log-likelihoods added)';
COMMENT ON FUNCTION ml._glm_pass_final(bytea) IS
  'internal: final function of ml._glm_pass (the next coefficients as a model)';
COMMENT ON AGGREGATE ml._glm_pass(float8, float8[], bytea) IS
  'internal: one IRLS iteration of logistic regression over 0/1 labels, starting from the coefficients of the given model';

CREATE FUNCTION ml._softmax_pass_sfunc(state bytea, class int4, x float8[], current bytea, hessian boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_softmax_pass_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._softmax_pass_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_softmax_pass_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE ml._softmax_pass(class int4, x float8[], current bytea, hessian boolean) (
    SFUNC = ml._softmax_pass_sfunc,
    STYPE = bytea,
    COMBINEFUNC = ml._softmax_pass_combine,
    PARALLEL = SAFE
);
COMMENT ON FUNCTION ml._softmax_pass_sfunc(bytea, int4, float8[], bytea, boolean) IS
  'internal: transition function of ml._softmax_pass (adds one row''s loss, gradient and Hessian)';
COMMENT ON FUNCTION ml._softmax_pass_combine(bytea, bytea) IS
  'internal: combine function of ml._softmax_pass (sums added)';
COMMENT ON AGGREGATE ml._softmax_pass(int4, float8[], bytea, boolean) IS
  'internal: one evaluation of the multinomial logistic regression objective (loss, gradient, optionally Hessian) at the coefficients of the given model, over 0-based class indexes';

-- VOLATILE only so that a subquery computing them once per row is not
-- flattened into one evaluation per reference (the results depend on the
-- arguments alone)
CREATE FUNCTION ml._score(model bytea, x float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._score(bytea, float8[]) IS
  'internal: ml.predict(model, x), evaluated once per row in ml.train''s evaluation pass';
CREATE FUNCTION ml._predict_label(model bytea, x float8[]) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_label_array' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._predict_label(bytea, float8[]) IS
  'internal: ml.predict_label(model, x), evaluated once per row in ml.train''s evaluation pass';
CREATE FUNCTION ml._predict_proba_at(model bytea, x float8[], class int4) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict_proba_at' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._predict_proba_at(bytea, float8[], int4) IS
  'internal: probability of one class (1-based, in the order of ml.classes) of a feature array; ml.train''s evaluation pass';

CREATE FUNCTION ml.class_coefficients(model bytea,
    OUT class text, OUT term text, OUT estimate float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_class_coefficients'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 30;
COMMENT ON FUNCTION ml.class_coefficients(bytea) IS
  'coefficients of a logistic regression model per class and term (multinomial: every class; binary: the positive class, the other''s being zero), classes in the order of ml.classes';

CREATE FUNCTION ml.predict_proba(model bytea, x float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.predict_proba(model bytea, "row" record) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.predict_proba(model_name text, x float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba_name_array' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.predict_proba(model_name text, "row" record) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba_name_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_proba(bytea, float8[]) IS
  'class probabilities, in the order of ml.classes(model), of a feature array';
COMMENT ON FUNCTION ml.predict_proba(bytea, record) IS
  'class probabilities, in the order of ml.classes(model), of a table row';
COMMENT ON FUNCTION ml.predict_proba(text, float8[]) IS
  'class probabilities of a feature array with the deployed version of a named model';
COMMENT ON FUNCTION ml.predict_proba(text, record) IS
  'class probabilities of a table row with the deployed version of a named model';

CREATE FUNCTION ml.predict_label(model bytea, x float8[]) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_label_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.predict_label(model bytea, "row" record) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_label_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.predict_label(model_name text, x float8[]) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_label_name_array' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.predict_label(model_name text, "row" record) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_label_name_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_label(bytea, float8[]) IS 'most probable class label of a feature array';
COMMENT ON FUNCTION ml.predict_label(bytea, record) IS 'most probable class label of a table row';
COMMENT ON FUNCTION ml.predict_label(text, float8[]) IS
  'most probable class label of a feature array with the deployed version of a named model';
COMMENT ON FUNCTION ml.predict_label(text, record) IS
  'most probable class label of a table row with the deployed version of a named model';

CREATE FUNCTION ml.classes(model bytea) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_classes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.classes(model_name text) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_classes_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.classes(bytea) IS 'class labels of a classifier, the positive class last';
COMMENT ON FUNCTION ml.classes(text) IS 'class labels of the deployed version of a named classifier';

------------------------------------------------------------------------------
-- Lasso, elastic net and PCA: one pass over the rows into the streaming QR
-- state of linear regression, then coordinate descent on the centred Gram
-- matrix (lasso, elastic net) or an SVD of the centred R factor (PCA)
------------------------------------------------------------------------------

CREATE FUNCTION ml._enet_sfunc(state bytea, y float8, x float8[], alpha float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_enet_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._enet_sfunc(state bytea, y float8, x float8[], alpha float8,
                               l1_ratio float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_enet_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._enet_sfunc(state bytea, y float8, x float8[], alpha float8,
                               l1_ratio float8, max_iter int, tol float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_enet_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._pca_sfunc(state bytea, x float8[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_pca_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._pca_sfunc(state bytea, x float8[], n_components int)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_pca_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._gram_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_gram_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._gram_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_gram_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._enet_sfunc(bytea, float8, float8[], float8) IS
  'internal: transition function of ml.lasso_fit';
COMMENT ON FUNCTION ml._enet_sfunc(bytea, float8, float8[], float8, float8) IS
  'internal: transition function of ml.elastic_net_fit';
COMMENT ON FUNCTION ml._enet_sfunc(bytea, float8, float8[], float8, float8, int, float8) IS
  'internal: transition function of ml._elastic_net_train (ml.train''s pass, with max_iter and tol)';
COMMENT ON FUNCTION ml._pca_sfunc(bytea, float8[]) IS
  'internal: transition function of ml.pca_fit (all components)';
COMMENT ON FUNCTION ml._pca_sfunc(bytea, float8[], int) IS
  'internal: transition function of ml.pca_fit';
COMMENT ON FUNCTION ml._gram_combine(bytea, bytea) IS
  'internal: combine function of ml.lasso_fit, ml.elastic_net_fit and ml.pca_fit (TSQR merge)';
COMMENT ON FUNCTION ml._gram_final(bytea) IS
  'internal: final function of ml.lasso_fit, ml.elastic_net_fit and ml.pca_fit (solves and encodes the model)';

CREATE AGGREGATE ml.lasso_fit(y float8, x float8[], alpha float8) (
    SFUNC = ml._enet_sfunc, STYPE = bytea, FINALFUNC = ml._gram_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._gram_combine, PARALLEL = SAFE
);
CREATE AGGREGATE ml.elastic_net_fit(y float8, x float8[], alpha float8, l1_ratio float8) (
    SFUNC = ml._enet_sfunc, STYPE = bytea, FINALFUNC = ml._gram_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._gram_combine, PARALLEL = SAFE
);
CREATE AGGREGATE ml._elastic_net_train(y float8, x float8[], alpha float8, l1_ratio float8,
                                       max_iter int, tol float8) (
    SFUNC = ml._enet_sfunc, STYPE = bytea, FINALFUNC = ml._gram_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._gram_combine, PARALLEL = SAFE
);
CREATE AGGREGATE ml.pca_fit(x float8[]) (
    SFUNC = ml._pca_sfunc, STYPE = bytea, FINALFUNC = ml._gram_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._gram_combine, PARALLEL = SAFE
);
CREATE AGGREGATE ml.pca_fit(x float8[], n_components int) (
    SFUNC = ml._pca_sfunc, STYPE = bytea, FINALFUNC = ml._gram_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._gram_combine, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.lasso_fit(float8, float8[], float8) IS
  'fit a lasso minimizing 1/(2n) ||y - Xb - b0||^2 + alpha ||b||_1 (scikit-learn''s Lasso); returns a model bytea';
COMMENT ON AGGREGATE ml.elastic_net_fit(float8, float8[], float8, float8) IS
  'fit an elastic net: 1/(2n) ||y - Xb - b0||^2 + alpha l1_ratio ||b||_1 + alpha (1 - l1_ratio)/2 ||b||^2 (scikit-learn''s ElasticNet); returns a model bytea';
COMMENT ON AGGREGATE ml._elastic_net_train(float8, float8[], float8, float8, int, float8) IS
  'internal: ml.train''s elastic net pass, with max_iter and tol';
COMMENT ON AGGREGATE ml.pca_fit(float8[]) IS
  'principal component analysis keeping every component; returns a model bytea';
COMMENT ON AGGREGATE ml.pca_fit(float8[], int) IS
  'principal component analysis keeping n_components components; returns a model bytea';

CREATE FUNCTION ml.transform(model bytea, x float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.transform(model bytea, "row" record) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.transform(model_name text, x float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform_name_array' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.transform(model_name text, "row" record) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform_name_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.transform(bytea, float8[]) IS
  'project a feature array onto the components of a PCA model';
COMMENT ON FUNCTION ml.transform(bytea, record) IS
  'project a table row onto the components of a PCA model trained by ml.train';
COMMENT ON FUNCTION ml.transform(text, float8[]) IS
  'project a feature array with the deployed version of a named PCA model';
COMMENT ON FUNCTION ml.transform(text, record) IS
  'project a table row with the deployed version of a named PCA model';

CREATE FUNCTION ml.components(model bytea,
    OUT component int, OUT explained_variance float8, OUT explained_variance_ratio float8,
    OUT singular_value float8, OUT loadings float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_components' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.components(model_name text,
    OUT component int, OUT explained_variance float8, OUT explained_variance_ratio float8,
    OUT singular_value float8, OUT loadings float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_components_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.components(bytea) IS
  'the principal components of a PCA model, largest variance first; loadings in feature order';
COMMENT ON FUNCTION ml.components(text) IS
  'the principal components of the deployed version of a named PCA model';

------------------------------------------------------------------------------
-- k-means: one Lloyd pass as a parallel aggregate (ml.train runs one per
-- iteration after k-means++ restarts on a sample), and the centroids
------------------------------------------------------------------------------

CREATE FUNCTION ml._kmeans_pass_sfunc(state bytea, x float8[], current bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_kmeans_pass_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._kmeans_pass_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_kmeans_pass_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._kmeans_pass_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_kmeans_pass_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE ml._kmeans_pass(x float8[], current bytea) (
    SFUNC = ml._kmeans_pass_sfunc, STYPE = bytea, FINALFUNC = ml._kmeans_pass_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._kmeans_pass_combine, PARALLEL = SAFE
);
-- the same pass over table columns (encoded by the encoder model) and
-- without the final step, for ml.train: the driver reads the state (the
-- next model, processes and rows) itself
CREATE FUNCTION ml._kmeans_pass_cols_sfunc(state bytea, current bytea, encoder bytea, VARIADIC "any")
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_kmeans_pass_cols_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE ml._kmeans_pass_state(current bytea, encoder bytea, VARIADIC "any") (
    SFUNC = ml._kmeans_pass_cols_sfunc,
    STYPE = bytea,
    COMBINEFUNC = ml._kmeans_pass_combine,
    PARALLEL = SAFE
);
COMMENT ON FUNCTION ml._kmeans_pass_cols_sfunc(bytea, bytea, bytea, "any") IS
  'internal: transition function of ml._kmeans_pass_state (encodes a row''s columns, adds it to its nearest cluster)';
COMMENT ON AGGREGATE ml._kmeans_pass_state(bytea, bytea, "any") IS
  'internal: ml._kmeans_pass over table columns, returning its state (ml.train reads the next model, processes and rows from it)';
COMMENT ON FUNCTION ml._kmeans_pass_sfunc(bytea, float8[], bytea) IS
  'internal: transition function of ml._kmeans_pass (assigns a row to its nearest centroid)';
COMMENT ON FUNCTION ml._kmeans_pass_combine(bytea, bytea) IS
  'internal: combine function of ml._kmeans_pass (adds cluster sums, counts and inertia)';
COMMENT ON FUNCTION ml._kmeans_pass_final(bytea) IS
  'internal: final function of ml._kmeans_pass (the cluster means as a model)';
COMMENT ON AGGREGATE ml._kmeans_pass(float8[], bytea) IS
  'internal: one Lloyd iteration of k-means from the centroids of the given model';

CREATE FUNCTION ml.centroids(model bytea,
    OUT cluster int, OUT size bigint, OUT centroid float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_centroids' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.centroids(model_name text,
    OUT cluster int, OUT size bigint, OUT centroid float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_centroids_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.centroids(bytea) IS
  'the centroids of a k-means model, numbered from 0 as ml.predict numbers clusters, with the rows nearest to each in training';
COMMENT ON FUNCTION ml.centroids(text) IS
  'the centroids of the deployed version of a named k-means model';

------------------------------------------------------------------------------
-- Naive Bayes (Gaussian and multinomial): one pass as a parallel aggregate
------------------------------------------------------------------------------

CREATE FUNCTION ml._naive_bayes_sfunc(state bytea, class int, x float8[], n_classes int)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_naive_bayes_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._naive_bayes_sfunc(state bytea, class int, x float8[], n_classes int,
                                      distribution text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_naive_bayes_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._naive_bayes_sfunc(state bytea, class int, x float8[], n_classes int,
                                      distribution text, var_smoothing float8, alpha float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_naive_bayes_sfunc'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._naive_bayes_combine(state1 bytea, state2 bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_naive_bayes_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION ml._naive_bayes_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_naive_bayes_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._naive_bayes_sfunc(bytea, int, float8[], int) IS
  'internal: transition function of ml.naive_bayes_fit (Gaussian)';
COMMENT ON FUNCTION ml._naive_bayes_sfunc(bytea, int, float8[], int, text) IS
  'internal: transition function of ml.naive_bayes_fit';
COMMENT ON FUNCTION ml._naive_bayes_sfunc(bytea, int, float8[], int, text, float8, float8) IS
  'internal: transition function of ml._naive_bayes_train (ml.train''s pass, with var_smoothing and alpha)';
COMMENT ON FUNCTION ml._naive_bayes_combine(bytea, bytea) IS
  'internal: combine function of ml.naive_bayes_fit (merges per-class counts, means and squared deviations or sums)';
COMMENT ON FUNCTION ml._naive_bayes_final(bytea) IS
  'internal: final function of ml.naive_bayes_fit (the model, classes labelled 0 .. n_classes - 1)';

CREATE AGGREGATE ml.naive_bayes_fit(class int, x float8[], n_classes int) (
    SFUNC = ml._naive_bayes_sfunc, STYPE = bytea, FINALFUNC = ml._naive_bayes_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._naive_bayes_combine, PARALLEL = SAFE
);
CREATE AGGREGATE ml.naive_bayes_fit(class int, x float8[], n_classes int, distribution text) (
    SFUNC = ml._naive_bayes_sfunc, STYPE = bytea, FINALFUNC = ml._naive_bayes_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._naive_bayes_combine, PARALLEL = SAFE
);
CREATE AGGREGATE ml._naive_bayes_train(class int, x float8[], n_classes int, distribution text,
                                       var_smoothing float8, alpha float8) (
    SFUNC = ml._naive_bayes_sfunc, STYPE = bytea, FINALFUNC = ml._naive_bayes_final,
    FINALFUNC_MODIFY = READ_ONLY, COMBINEFUNC = ml._naive_bayes_combine, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.naive_bayes_fit(int, float8[], int) IS
  'Gaussian naive Bayes over classes 0 .. n_classes - 1 (scikit-learn''s GaussianNB, var_smoothing 1e-9); returns a model bytea';
COMMENT ON AGGREGATE ml.naive_bayes_fit(int, float8[], int, text) IS
  'naive Bayes, distribution ''gaussian'' or ''multinomial'' (alpha 1), over classes 0 .. n_classes - 1; returns a model bytea';
COMMENT ON AGGREGATE ml._naive_bayes_train(int, float8[], int, text, float8, float8) IS
  'internal: ml.train''s naive Bayes pass';

------------------------------------------------------------------------------
-- Tree models (decision_tree, random_forest, gradient_boosting): the sample
-- and binning passes as parallel aggregates (ml.train trains the binned rows
-- in memory), and inspection
------------------------------------------------------------------------------

CREATE FUNCTION ml._tree_sample_sfunc(state bytea, x float8[], fraction float8, seed bigint)
RETURNS bytea AS 'MODULE_PATHNAME', 'ml_tree_sample_sfunc' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION ml._tree_gather_sfunc(state bytea, x float8[], y float8, held_out boolean, bins bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'ml_tree_gather_sfunc' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION ml._tree_gather_combine(state1 bytea, state2 bytea)
RETURNS bytea AS 'MODULE_PATHNAME', 'ml_tree_gather_combine' LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE ml._tree_sample(x float8[], fraction float8, seed bigint) (
    SFUNC = ml._tree_sample_sfunc,
    STYPE = bytea,
    COMBINEFUNC = ml._tree_gather_combine,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml._tree_gather(x float8[], y float8, held_out boolean, bins bytea) (
    SFUNC = ml._tree_gather_sfunc,
    STYPE = bytea,
    COMBINEFUNC = ml._tree_gather_combine,
    PARALLEL = SAFE
);
COMMENT ON FUNCTION ml._tree_sample_sfunc(bytea, float8[], float8, bigint) IS
  'internal: transition function of ml._tree_sample (keeps the rows whose seeded hash is below fraction)';
COMMENT ON FUNCTION ml._tree_gather_sfunc(bytea, float8[], float8, boolean, bytea) IS
  'internal: transition function of ml._tree_gather (one byte per feature, the target and the held-out flag)';
COMMENT ON FUNCTION ml._tree_gather_combine(bytea, bytea) IS
  'internal: combine function of ml._tree_sample and ml._tree_gather (concatenates the rows)';
COMMENT ON AGGREGATE ml._tree_sample(float8[], float8, bigint) IS
  'internal: the deterministic row sample ml.train takes the bin edges of tree models from';
COMMENT ON AGGREGATE ml._tree_gather(float8[], float8, boolean, bytea) IS
  'internal: the binning pass of tree models (rows binned with the given edges)';

CREATE FUNCTION ml.feature_importance(model bytea,
    OUT feature text, OUT gain float8, OUT splits bigint, OUT gain_share float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_feature_importance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.feature_importance(model_name text,
    OUT feature text, OUT gain float8, OUT splits bigint, OUT gain_share float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_feature_importance_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.feature_importance(bytea) IS
  'total split gain (XGBoost''s total_gain), split count and share of the gain of each feature a tree model splits on, largest gain first';
COMMENT ON FUNCTION ml.feature_importance(text) IS
  'the feature importance of the deployed version of a named tree model';

CREATE FUNCTION ml.trees(model bytea,
    OUT tree int, OUT node int, OUT depth int, OUT feature text, OUT threshold float8,
    OUT missing_left boolean, OUT left_child int, OUT right_child int,
    OUT gain float8, OUT cover float8, OUT value float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_trees' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml.trees(model_name text,
    OUT tree int, OUT node int, OUT depth int, OUT feature text, OUT threshold float8,
    OUT missing_left boolean, OUT left_child int, OUT right_child int,
    OUT gain float8, OUT cover float8, OUT value float8[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ml_trees_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.trees(bytea) IS
  'the nodes of a tree model, one row each: a split sends rows with feature < threshold left (missing values as missing_left says); a leaf has no feature';
COMMENT ON FUNCTION ml.trees(text) IS
  'the nodes of the deployed version of a named tree model';
