-- Privileges: training runs with the caller's rights, models belong to the
-- role that named them, and no superuser is needed at run time.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.fails(text) TO PUBLIC;

CREATE ROLE regress_ml_alice NOSUPERUSER;
CREATE ROLE regress_ml_bob NOSUPERUSER;
GRANT USAGE ON SCHEMA ml TO regress_ml_alice, regress_ml_bob;
GRANT CREATE ON SCHEMA public TO regress_ml_alice, regress_ml_bob;

SET ROLE regress_ml_alice;
CREATE TABLE alice_data AS
SELECT i::float8 AS x, 1 + 2 * i::float8 AS y FROM generate_series(1, 50) AS i;
SELECT name, version FROM ml.train('alice_model', 'alice_data', 'y');
SELECT count(*) AS alice_sees FROM ml.models;
RESET ROLE;

SET ROLE regress_ml_bob;
-- bob sees no model of alice's, cannot score with it, read its bytes,
-- retrain its name, deploy or drop it, nor train on her table
SELECT count(*) AS bob_sees FROM ml.models;
SELECT ml.model('alice_model') IS NULL AS model_bytes_hidden;
SELECT c AS "case", pg_temp.fails(q) AS outcome FROM (VALUES
  ('predict by name', $q$SELECT ml.predict('alice_model', ARRAY[1.0]::float8[])$q$),
  ('train on her table', $q$SELECT ml.train('bob_model', 'alice_data', 'y')$q$),
  ('deploy', $q$SELECT ml.deploy('alice_model', 1)$q$),
  ('drop', $q$SELECT ml.drop_model('alice_model')$q$),
  ('overwrite rows', $q$UPDATE ml.models SET deployed = false$q$),
  ('delete rows', $q$DELETE FROM ml.models$q$)
) AS cases(c, q);
-- the registry tables are written only through ml_ext's functions
UPDATE ml.models SET model = '\x00' WHERE name = 'alice_model';
DELETE FROM ml.models WHERE name = 'alice_model';
-- bob's own data and models work
CREATE TABLE bob_data AS
SELECT i::float8 AS x, 5 - i::float8 AS y FROM generate_series(1, 50) AS i;
SELECT name, version FROM ml.train('bob_model', 'bob_data', 'y');
-- but he cannot take over alice's model name
SELECT pg_temp.fails($q$SELECT ml.train('alice_model', 'bob_data', 'y')$q$) AS take_over_name;
SELECT name, version FROM ml.models ORDER BY name;
RESET ROLE;

-- alice's model is intact
SET ROLE regress_ml_alice;
SELECT name, version, deployed, length(model) > 100 AS has_model FROM ml.models;
SELECT round(ml.predict('alice_model', ARRAY[10.0]::float8[])::numeric, 8) AS p;
RESET ROLE;

-- granting membership in alice's role shares her models with bob
GRANT regress_ml_alice TO regress_ml_bob;
SET ROLE regress_ml_bob;
SELECT name FROM ml.models ORDER BY name;
SELECT round(ml.predict('alice_model', ARRAY[10.0]::float8[])::numeric, 8) AS p;
SELECT version FROM ml.train('alice_model', 'bob_data', 'y');
RESET ROLE;

-- clean up
SET ROLE regress_ml_bob;
SELECT ml.drop_model('alice_model');
SELECT ml.drop_model('bob_model');
DROP TABLE bob_data;
RESET ROLE;
DROP TABLE alice_data;
REVOKE regress_ml_alice FROM regress_ml_bob;
REVOKE ALL ON SCHEMA public FROM regress_ml_alice, regress_ml_bob;
REVOKE ALL ON SCHEMA ml FROM regress_ml_alice, regress_ml_bob;
DROP ROLE regress_ml_alice;
DROP ROLE regress_ml_bob;
