-- Bad input to training and scoring: a clear ERROR with a specific
-- SQLSTATE, never a crash.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

CREATE TABLE er AS
SELECT i, ARRAY[i::float8, sin(i)] AS x, 1 + 2.0 * i AS y
FROM generate_series(1, 50) AS i;

-- each case: the SQLSTATE and the message (the backend must survive all)
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('NULL element', $q$SELECT ml.linreg_fit(y, CASE WHEN i = 7 THEN ARRAY[1, NULL]::float8[] ELSE x END) FROM er$q$),
  ('NaN element', $q$SELECT ml.linreg_fit(y, CASE WHEN i = 7 THEN ARRAY[1, 'NaN']::float8[] ELSE x END) FROM er$q$),
  ('Infinity element', $q$SELECT ml.linreg_fit(y, CASE WHEN i = 7 THEN ARRAY['Infinity', 1]::float8[] ELSE x END) FROM er$q$),
  ('-Infinity element', $q$SELECT ml.linreg_fit(y, CASE WHEN i = 7 THEN ARRAY[1, '-Infinity']::float8[] ELSE x END) FROM er$q$),
  ('NaN target', $q$SELECT ml.linreg_fit(CASE WHEN i = 3 THEN 'NaN' ELSE y END, x) FROM er$q$),
  ('-Infinity target', $q$SELECT ml.linreg_fit(CASE WHEN i = 3 THEN '-Infinity' ELSE y END, x) FROM er$q$),
  ('length mismatch', $q$SELECT ml.linreg_fit(y, CASE WHEN i = 9 THEN ARRAY[1, 2, 3]::float8[] ELSE x END) FROM er$q$),
  ('empty array', $q$SELECT ml.linreg_fit(y, '{}'::float8[]) FROM er$q$),
  ('2-D array', $q$SELECT ml.linreg_fit(y, ARRAY[[1, 2], [3, 4]]::float8[]) FROM er$q$),
  ('too many features', $q$SELECT ml.linreg_fit(1, array_fill(1.0::float8, ARRAY[5000]))$q$),
  ('negative lambda', $q$SELECT ml.linreg_fit(y, x, -1) FROM er$q$),
  ('NaN lambda', $q$SELECT ml.linreg_fit(y, x, 'NaN') FROM er$q$),
  ('infinite lambda', $q$SELECT ml.linreg_fit(y, x, 'Infinity') FROM er$q$),
  ('NULL lambda', $q$SELECT ml.linreg_fit(y, x, NULL) FROM er$q$),
  ('NULL fit_intercept', $q$SELECT ml.linreg_fit(y, x, 0, NULL) FROM er$q$),
  ('lambda changes', $q$SELECT ml.linreg_fit(y, x, CASE WHEN i < 10 THEN 1 ELSE 2 END) FROM er$q$),
  ('predict: length', $q$SELECT ml.predict((SELECT ml.linreg_fit(y, x) FROM er), ARRAY[1, 2, 3]::float8[])$q$),
  ('predict: NaN', $q$SELECT ml.predict((SELECT ml.linreg_fit(y, x) FROM er), ARRAY[1, 'NaN']::float8[])$q$),
  ('predict: NULL element', $q$SELECT ml.predict((SELECT ml.linreg_fit(y, x) FROM er), ARRAY[1, NULL]::float8[])$q$),
  ('predict: empty', $q$SELECT ml.predict((SELECT ml.linreg_fit(y, x) FROM er), '{}'::float8[])$q$),
  ('predict: not a model', $q$SELECT ml.predict('\x0102'::bytea, ARRAY[1, 2]::float8[])$q$),
  ('sfunc called directly', $q$SELECT ml.linreg_sfunc(NULL, 1, ARRAY[1]::float8[])$q$),
  ('combine called directly', $q$SELECT ml.linreg_combine(NULL, NULL)$q$),
  ('final called directly', $q$SELECT ml.linreg_final('\x00'::bytea)$q$)
) AS cases(c, q);

-- details and hints, as a user sees them
\set VERBOSITY default
SELECT ml.linreg_fit(y, CASE WHEN i = 7 THEN ARRAY[1, NULL]::float8[] ELSE x END) FROM er;
SELECT ml.linreg_fit(y, CASE WHEN i = 9 THEN ARRAY[1, 2, 3]::float8[] ELSE x END) FROM er;
SELECT ml.linreg_fit(y, x, CASE WHEN i < 10 THEN 1 ELSE 2 END) FROM er;
SELECT ml.predict((SELECT ml.linreg_fit(y, x) FROM er), ARRAY[1, 2, 3]::float8[]);

-- a hand-made aggregate feeding garbage states to the support functions
CREATE AGGREGATE evil_fit(float8, float8[]) (
    SFUNC = ml.linreg_sfunc, STYPE = bytea, INITCOND = '\xdeadbeef',
    FINALFUNC = ml.linreg_final, COMBINEFUNC = ml.linreg_combine);
SELECT pg_temp.fails($q$SELECT evil_fit(y, x) FROM er$q$);
DROP AGGREGATE evil_fit(float8, float8[]);
-- a plausible header with a lying feature count
CREATE AGGREGATE evil_fit2(float8, float8[]) (
    SFUNC = ml.linreg_sfunc, STYPE = bytea,
    INITCOND = '\x5358 4c4d 0100 4000 ffff ff7f 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000',
    FINALFUNC = ml.linreg_final);
SELECT pg_temp.fails($q$SELECT evil_fit2(y, x) FROM er$q$);
DROP AGGREGATE evil_fit2(float8, float8[]);
-- a final function fed by another aggregate's state
CREATE AGGREGATE evil_final(bytea) (
    SFUNC = byteacat, STYPE = bytea, INITCOND = '',
    FINALFUNC = ml.linreg_final);
SELECT pg_temp.fails($q$SELECT evil_final(decode(repeat('00', 64), 'hex'))$q$);
SELECT pg_temp.fails($q$SELECT evil_final(decode('53584c4d', 'hex') || decode(repeat('ff', 60), 'hex'))$q$);
DROP AGGREGATE evil_final(bytea);

-- cancellation: statement_timeout stops a long training run
SET statement_timeout = '300ms';
\set VERBOSITY sqlstate
SELECT ml.linreg_fit(i::float8, ARRAY[i, i % 3, sin(i)]::float8[])
FROM generate_series(1, 100000000) AS i;
RESET statement_timeout;
\set VERBOSITY default

-- after all of that the backend is alive and well
SELECT term, round(estimate::numeric, 8) AS estimate
FROM ml.coefficients((SELECT ml.linreg_fit(y, x) FROM er));
