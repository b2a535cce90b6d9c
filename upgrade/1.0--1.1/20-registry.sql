
------------------------------------------------------------------------------
-- The registry (1.1): written only by ml_ext's own functions, owners are
-- role OIDs, names and owners visible only to roles that may see the models
------------------------------------------------------------------------------

-- 1.0 let every role INSERT/UPDATE/DELETE rows and take ids from the
-- sequence, guarded by row-level security only: a role could claim names
-- under another role, learn version numbers and pre-occupy ids.  Now only
-- ml.train, ml.deploy, ml.drop_model and ml.set_owner write, as the
-- registry's owner after their own checks; everyone keeps SELECT, filtered
-- by row-level security.
DROP POLICY model_names_read ON ml.model_names;
DROP POLICY model_names_claim ON ml.model_names;
DROP POLICY model_names_owner ON ml.model_names;
DROP POLICY models_owner ON ml.models;
REVOKE ALL ON ml.model_names FROM PUBLIC;
REVOKE ALL ON ml.models FROM PUBLIC;
REVOKE ALL ON SEQUENCE ml.models_id_seq FROM PUBLIC;
GRANT SELECT ON ml.model_names TO PUBLIC;
GRANT SELECT ON ml.models TO PUBLIC;

-- Owners: the role's OID decides (a renamed role keeps its models, a new
-- role that reuses a dropped role's name gets nothing); the name is kept
-- beside it for people and for pg_dump, whose restore maps owners by name
-- as it does for every other object (see ml._registry_owner_id).
ALTER TABLE ml.model_names ADD COLUMN owner_id oid;
UPDATE ml.model_names n
   SET owner_id = coalesce((SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) n.owner), 0);
ALTER TABLE ml.model_names ALTER COLUMN owner_id SET NOT NULL;
ALTER TABLE ml.models ADD COLUMN owner_id oid;
UPDATE ml.models m
   SET owner_id = coalesce((SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) m.owner), 0);
ALTER TABLE ml.models ALTER COLUMN owner_id SET NOT NULL;
COMMENT ON COLUMN ml.model_names.owner_id IS
  'OID of the owning role (0: the role was dropped, or a restore found no role of that name)';
COMMENT ON COLUMN ml.model_names.owner IS
  'name of the owning role when ml_ext last wrote the row (pg_dump restores owners by this name)';
COMMENT ON COLUMN ml.models.owner_id IS 'OID of the owning role, as in ml.model_names';
COMMENT ON COLUMN ml.models.owner IS 'name of the owning role when the row was written';

-- Rows written back by a restore (pg_dump, COPY) carry another cluster's
-- OIDs: the owner is the role of that name here, or none (0), in which
-- case only superusers see the models until ml.set_owner gives them to a
-- role.  ml_ext's own writes pass the current name, so nothing changes.
CREATE FUNCTION ml._registry_owner_id() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  NEW.owner_id := coalesce((SELECT r.oid FROM pg_catalog.pg_roles r
                            WHERE r.rolname OPERATOR(pg_catalog.=) NEW.owner), 0);
  RETURN NEW;
END $$;
COMMENT ON FUNCTION ml._registry_owner_id() IS
  'internal: trigger that takes a registry row''s owner OID from its owner name (restores map owners by name)';
CREATE TRIGGER owner_id_from_name BEFORE INSERT ON ml.model_names
  FOR EACH ROW EXECUTE FUNCTION ml._registry_owner_id();
CREATE TRIGGER owner_id_from_name BEFORE INSERT ON ml.models
  FOR EACH ROW EXECUTE FUNCTION ml._registry_owner_id();

CREATE POLICY model_names_visible ON ml.model_names FOR SELECT
  USING (pg_catalog.pg_has_role(owner_id, 'MEMBER'));
CREATE POLICY models_visible ON ml.models FOR SELECT
  USING (pg_catalog.pg_has_role(owner_id, 'MEMBER'));

-- A role that owns models holds SELECT on this empty table, so that
-- DROP ROLE refuses while it owns models ("privileges for table
-- ml.model_owners"), as it does for a role that owns tables.  ml_ext
-- grants it with the first name a role claims and revokes it with the
-- last name it drops or gives away.  DROP OWNED BY revokes it as well: the
-- role's models then belong to no role (owner_id keeps the dropped OID,
-- which no role has): only superusers see them until ml.set_owner.
CREATE TABLE ml.model_owners ();
COMMENT ON TABLE ml.model_owners IS
  'empty; SELECT on it marks the roles that own models, so that DROP ROLE refuses while they do';
-- (pg_dump keeps the grants: privileges of extension objects that differ
-- from the install script's are dumped)
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT DISTINCT owner_id FROM ml.model_names
           WHERE owner_id OPERATOR(pg_catalog.<>) 0 LOOP
    EXECUTE pg_catalog.format('GRANT SELECT ON ml.model_owners TO %I',
                              pg_catalog.pg_get_userbyid(r.owner_id));
  END LOOP;
END $$;
-- Grants made by an extension script count as the object's initial
-- privileges, which pg_dump leaves out.  These marks belong to the data
-- (as the ones ml_ext grants later do): forget them as initial privileges,
-- as a fresh install (whose table starts with no grants) has none.
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) 'ml.model_owners'::pg_catalog.regclass
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass;

-- The registry writers, in C: they check the caller, then write as the
-- registry's owner (the role that installed ml_ext).
CREATE OR REPLACE FUNCTION ml.deploy(model_name text, version integer)
RETURNS void
AS 'MODULE_PATHNAME', 'ml_deploy'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.deploy(text, integer) IS
  'make a version the one ml.predict(name, ...) uses (members of the owning role)';

CREATE OR REPLACE FUNCTION ml.drop_model(model_name text, version integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'ml_drop_model'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.drop_model(text, integer) IS
  'delete one version of a model, or all versions and the name (members of the owning role)';

CREATE FUNCTION ml.set_owner(model_name text, new_owner regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'ml_set_owner'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.set_owner(text, regrole) IS
  'give a model name and all its versions to another role (members of both roles, or a superuser; also for models whose role was dropped)';
