
------------------------------------------------------------------------------
-- Schema ml (1.1).  1.0 let CREATE EXTENSION adopt an existing schema "ml",
-- whose owner could have planted objects next to ours (say an overload of
-- one of our VARIADIC "any" internals).  An update refuses to go on while
-- the schema belongs to another role or holds objects that are not part of
-- ml_ext; a fresh 1.1 install creates the schema itself (ml_ext--1.1.sql).
------------------------------------------------------------------------------
DO $$
DECLARE
  ext oid := (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'ml_ext');
  extowner oid := (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'ml_ext');
  nsp oid := (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'ml');
  strangers text;
BEGIN
  IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) nsp)
     OPERATOR(pg_catalog.<>) extowner THEN
    RAISE EXCEPTION 'schema "ml" is owned by role %, not by the owner of ml_ext',
      (SELECT pg_catalog.pg_get_userbyid(n.nspowner) FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) nsp)
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Its owner could have planted objects in it. Check its contents, make the owner of ml_ext its owner (ALTER SCHEMA ml OWNER TO ...), then update again.';
  END IF;
  SELECT pg_catalog.string_agg(o.what, ', ' ORDER BY o.what) INTO strangers
  FROM (
    SELECT pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure) AS what, 'pg_catalog.pg_proc'::pg_catalog.regclass AS cls, p.oid
      FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp
    UNION ALL
    SELECT pg_catalog.format('relation %s', c.oid::pg_catalog.regclass), 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp AND c.relkind OPERATOR(pg_catalog.<>) ALL ('{i,I,t}'::"char"[])
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d   -- a sequence owned by a member column
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'a'
                          AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass)
    UNION ALL
    SELECT pg_catalog.format('type %s', t.oid::pg_catalog.regtype), 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid
      FROM pg_catalog.pg_type t
     WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp AND t.typrelid OPERATOR(pg_catalog.=) 0
       AND t.typelem OPERATOR(pg_catalog.=) 0
    UNION ALL
    SELECT pg_catalog.format('operator %s', o.oid::pg_catalog.regoperator), 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid
      FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp
  ) AS o
  WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                     WHERE d.classid OPERATOR(pg_catalog.=) o.cls AND d.objid OPERATOR(pg_catalog.=) o.oid
                       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                       AND d.refobjid OPERATOR(pg_catalog.=) ext AND d.deptype OPERATOR(pg_catalog.=) 'e');
  IF strangers IS NOT NULL THEN
    RAISE EXCEPTION 'schema "ml" holds objects that are not part of ml_ext: %', strangers
      USING ERRCODE = 'object_in_use',
            HINT = 'Objects in ml run next to ml_ext''s own. Move or drop them, then update again.';
  END IF;
END $$;

-- 1.0 recorded the extension in schema ml, which therefore could not be one
-- of its members: DROP EXTENSION left it behind, and pg_dump wrote
-- "CREATE SCHEMA ml" and "CREATE EXTENSION ml_ext WITH SCHEMA ml", which a
-- 1.1 server refuses.  Record the extension in pg_catalog, as a fresh 1.1
-- install does (PostgreSQL offers no command to move a non-relocatable
-- extension, hence the catalog update; pg_catalog is pinned, so no
-- dependency on it is recorded), and make ml a member.
DO $$
DECLARE
  ext oid := (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'ml_ext');
  nsp oid := (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'ml');
BEGIN
  IF (SELECT e.extnamespace FROM pg_catalog.pg_extension e WHERE e.oid OPERATOR(pg_catalog.=) ext)
     OPERATOR(pg_catalog.=) nsp THEN
    DELETE FROM pg_catalog.pg_depend d
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.objid OPERATOR(pg_catalog.=) ext
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.=) nsp;
    UPDATE pg_catalog.pg_extension SET extnamespace = 'pg_catalog'::pg_catalog.regnamespace
     WHERE oid OPERATOR(pg_catalog.=) ext;
  END IF;
  -- (a fresh install created ml as a member already)
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
                    AND d.objid OPERATOR(pg_catalog.=) nsp
                    AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                    AND d.deptype OPERATOR(pg_catalog.=) 'e') THEN
    ALTER EXTENSION ml_ext ADD SCHEMA ml;
    -- the grants on ml (USAGE for the roles that use ml_ext) are the
    -- administrator's, not the extension's: not initial privileges, so that
    -- pg_dump keeps them (a fresh install's schema starts with none)
    DELETE FROM pg_catalog.pg_init_privs
     WHERE objoid OPERATOR(pg_catalog.=) nsp
       AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass;
  END IF;
END $$;
