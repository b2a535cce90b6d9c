-- The model bytea: layout, and rejection of corrupt or foreign values.
\set VERBOSITY default
SET extra_float_digits = 0;

CREATE TABLE mf AS
SELECT ml.linreg_fit(1 + 2 * i + 3 * sin(i), ARRAY[i, sin(i)]::float8[]) AS m
FROM generate_series(1, 100) AS i;

-- header: magic "MLXM", format version 1, algorithm 1 (big-endian), flags,
-- feature count 2
SELECT convert_from(substr(m, 1, 4), 'SQL_ASCII') AS magic,
       get_byte(m, 4) * 256 + get_byte(m, 5) AS format_version,
       get_byte(m, 6) * 256 + get_byte(m, 7) AS algorithm,
       (get_byte(m, 12) << 24) + (get_byte(m, 13) << 16)
         + (get_byte(m, 14) << 8) + get_byte(m, 15) AS n_features,
       (get_byte(m, 16) << 24) + (get_byte(m, 17) << 16)
         + (get_byte(m, 18) << 8) + get_byte(m, 19) + 28 = length(m) AS payload_length_ok
FROM mf;

-- the same model read back from text form (as pg_dump would) is identical
SELECT (encode(m, 'base64'))::text IS NOT NULL AS ok,
       decode(encode(m, 'hex'), 'hex') = m AS roundtrip,
       ml.model_info(decode(encode(m, 'hex'), 'hex')) = ml.model_info(m) AS same_info
FROM mf;

-- a helper that reports how a value is received: 'ok' or the SQLSTATE
CREATE FUNCTION pg_temp.try_model(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ml.model_info(b);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;

-- every single-byte change is caught (checksum) and so is every truncation
SELECT pg_temp.try_model(set_byte(m, pos, (get_byte(m, pos) + 1) % 256)) AS outcome,
       count(*)
FROM mf, generate_series(0, length(m) - 1) AS pos
GROUP BY 1 ORDER BY 1;

SELECT pg_temp.try_model(substr(m, 1, len)) AS outcome, count(*)
FROM mf, generate_series(0, length(m) - 1) AS len
GROUP BY 1 ORDER BY 1;

-- trailing garbage
SELECT pg_temp.try_model(m || '\x00'::bytea) AS outcome FROM mf;

-- the error messages
SELECT ml.model_info('\x'::bytea);
SELECT ml.model_info('not a model'::bytea);
SELECT ml.model_info(substr(m, 1, length(m) - 10)) FROM mf;
-- (checksums masked: they depend on the last bits of the fitted values)
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '0x[0-9a-f]{8}', '0x########', 'g');
END $$;
SELECT pg_temp.error_of($q$SELECT ml.model_info(set_byte(m, 40, get_byte(m, 40) # 1)) FROM mf$q$);
SELECT pg_temp.error_of($q$SELECT ml.predict(set_byte(m, 40, get_byte(m, 40) # 1), ARRAY[1, 2]::float8[]) FROM mf$q$);
SELECT * FROM ml.coefficients((SELECT substr(m, 1, 30) FROM mf));

-- a model from a newer format version is refused as unsupported, not corrupt
-- (the checksum is left wrong on purpose: the version is checked first)
SELECT pg_temp.try_model(set_byte(m, 5, 9)) AS newer_version FROM mf;
SELECT ml.model_info(set_byte(m, 5, 9)) FROM mf;

-- the cache in ml.predict tells models apart within one query
WITH two AS (
  SELECT 1 AS k, ml.linreg_fit(2 * i, ARRAY[i]::float8[]) AS m FROM generate_series(1, 10) i
  UNION ALL
  SELECT 2, ml.linreg_fit(5 * i, ARRAY[i]::float8[]) FROM generate_series(1, 10) i)
SELECT k, round(ml.predict(m, ARRAY[10]::float8[])::numeric, 8) AS p
FROM two, generate_series(1, 3) ORDER BY k;
