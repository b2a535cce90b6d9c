/* ml_ext--1.1.sql: built by the Makefile from ml_ext--1.0.sql and the parts of ml_ext--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ml_ext" to load this file. \quit

-- ml_ext creates its schema and owns it.  A schema "ml" made earlier by
-- anyone is refused: its owner could plant objects next to ours.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'ml') THEN
    RAISE EXCEPTION 'schema "ml" already exists'
      USING ERRCODE = 'duplicate_schema',
            DETAIL = 'ml_ext creates schema ml itself and owns it; it does not install into a schema another role could have prepared.',
            HINT = 'Drop or rename the existing schema "ml" first.';
  END IF;
END $$;
CREATE SCHEMA ml;
