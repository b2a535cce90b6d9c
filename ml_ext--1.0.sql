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
  'coefficients of a linear model with standard errors, t statistics and two-sided p-values';

CREATE FUNCTION ml.model_info(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_model_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ml.model_info(bytea) IS
  'describe any ml_ext model as jsonb (algorithm, features, training figures, parameters)';
