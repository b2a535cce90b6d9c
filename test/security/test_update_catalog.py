"""ALTER EXTENSION ml_ext UPDATE from 1.0 with a model of every algorithm: the
models score exactly as before, ml.models loses nothing, and the catalog
equals a fresh 1.1 install's; a pg_dump of a 1.0 database restores into 1.1.

The 1.0 registry rows are the corpus models 1.0 wrote (test/corpus/1.0),
inserted as 1.0 let any role insert them: with the 1.1 library ml.train
refuses a 1.0 registry (55000), so 1.0's own training cannot run here.

The one documented difference between an updated and a fresh install: a
fresh 1.1 creates schema ml itself, as a member of the extension, and records
the extension in pg_catalog; an updated 1.0 keeps the extension recorded in
schema ml, which therefore cannot be a member (README, "Upgrading the
extension").
"""

import os
import subprocess
import tempfile

from seclib import check, connect, make_role, q, q1
from test_corpus import create_input, load, mismatches, score

DB_OLD = "ml_sec_upd_old"
DB_NEW = "ml_sec_upd_new"
DB_RESTORED = "ml_sec_upd_restored"
ROLE = "sec_cat"

# Everything an install defines, as (kind, identity, definition) rows that do
# not depend on OIDs.  Objects are those of schema ml and those recorded as
# members of ml_ext; the definitions carry every attribute an update could
# get wrong: signatures, defaults, volatility, strictness, parallel labels,
# proconfig, security definer, owners, ACLs, comments, aggregates' support
# functions, columns, constraints, indexes, policies, triggers, the initial
# privileges pg_dump relies on, and the configuration tables.
CATALOG = r"""
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_catalog.pg_extension WHERE extname = 'ml_ext'),
     nsp AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'ml'),
     rels AS (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relnamespace = (SELECT oid FROM nsp))
SELECT 'schema', n.nspname, pg_catalog.concat_ws(' | ', pg_catalog.pg_get_userbyid(n.nspowner), n.nspacl::text,
       pg_catalog.obj_description(n.oid, 'pg_namespace'))
  FROM pg_catalog.pg_namespace n WHERE n.oid = (SELECT oid FROM nsp)
UNION ALL
SELECT 'function', p.oid::pg_catalog.regprocedure::text,
       pg_catalog.concat_ws(' | ', p.prokind, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
         p.proleakproof, p.procost, p.prorows, l.lanname, pg_catalog.pg_get_function_arguments(p.oid),
         pg_catalog.pg_get_function_result(p.oid), p.proconfig::text, p.proacl::text,
         pg_catalog.pg_get_userbyid(p.proowner),
         CASE WHEN l.lanname IN ('c', 'internal') THEN p.prosrc ELSE pg_catalog.md5(p.prosrc) END,
         p.probin, pg_catalog.obj_description(p.oid, 'pg_proc'))
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = (SELECT oid FROM nsp)
UNION ALL
SELECT 'aggregate', a.aggfnoid::pg_catalog.regprocedure::text,
       pg_catalog.concat_ws(' | ', a.aggkind, a.aggnumdirectargs, a.aggtransfn::oid::pg_catalog.regprocedure,
         NULLIF(a.aggfinalfn::oid, 0)::pg_catalog.regprocedure, NULLIF(a.aggcombinefn::oid, 0)::pg_catalog.regprocedure,
         NULLIF(a.aggserialfn::oid, 0)::pg_catalog.regprocedure, NULLIF(a.aggdeserialfn::oid, 0)::pg_catalog.regprocedure,
         NULLIF(a.aggmtransfn::oid, 0)::pg_catalog.regprocedure, NULLIF(a.aggminvtransfn::oid, 0)::pg_catalog.regprocedure,
         NULLIF(a.aggmfinalfn::oid, 0)::pg_catalog.regprocedure, a.aggfinalextra, a.aggfinalmodify,
         a.aggmfinalextra, a.aggmfinalmodify, a.aggsortop, a.aggtranstype::pg_catalog.regtype, a.aggtransspace,
         a.aggmtranstype, a.aggmtransspace, a.agginitval, a.aggminitval)
  FROM pg_catalog.pg_aggregate a JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
 WHERE p.pronamespace = (SELECT oid FROM nsp)
UNION ALL
SELECT 'type', t.oid::pg_catalog.regtype::text,
       pg_catalog.concat_ws(' | ', t.typtype, t.typlen, t.typcategory, t.typrelid::pg_catalog.regclass,
         t.typelem::pg_catalog.regtype, t.typacl::text, pg_catalog.pg_get_userbyid(t.typowner),
         (SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid))
  FROM pg_catalog.pg_type t WHERE t.typnamespace = (SELECT oid FROM nsp)
UNION ALL
SELECT 'relation', c.relname,
       pg_catalog.concat_ws(' | ', c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
         c.relacl::text, pg_catalog.pg_get_userbyid(c.relowner), c.reloptions::text,
         pg_catalog.obj_description(c.oid, 'pg_class'))
  FROM pg_catalog.pg_class c WHERE c.oid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'column', c.relname || '.' || a.attname,
       pg_catalog.concat_ws(' | ', a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
         pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attacl::text,
         pg_catalog.col_description(c.oid, a.attnum))
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.oid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.conrelid::pg_catalog.regclass::text || '.' || c.conname,
       c.contype::text || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
  FROM pg_catalog.pg_constraint c WHERE c.connamespace = (SELECT oid FROM nsp)
UNION ALL
SELECT 'index', i.indexrelid::pg_catalog.regclass::text, pg_catalog.pg_get_indexdef(i.indexrelid)
  FROM pg_catalog.pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'policy', p.tablename || '.' || p.policyname,
       pg_catalog.concat_ws(' | ', p.permissive, p.roles::text, p.cmd, p.qual, p.with_check)
  FROM pg_catalog.pg_policies p WHERE p.schemaname = 'ml'
UNION ALL
SELECT 'trigger', t.tgrelid::pg_catalog.regclass::text || '.' || t.tgname,
       pg_catalog.pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
  FROM pg_catalog.pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
UNION ALL
SELECT 'init_privs', pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid),
       i.privtype::text || ' ' || i.initprivs::text
  FROM pg_catalog.pg_init_privs i
 WHERE (i.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND i.objoid IN (SELECT oid FROM rels))
    OR (i.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
        AND i.objoid IN (SELECT p.oid FROM pg_catalog.pg_proc p WHERE p.pronamespace = (SELECT oid FROM nsp)))
    OR (i.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND i.objoid = (SELECT oid FROM nsp))
UNION ALL
SELECT 'member', pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ''
  FROM pg_catalog.pg_depend d
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = (SELECT oid FROM ext)
   AND d.deptype = 'e'
UNION ALL
SELECT 'config', c.cfg::pg_catalog.regclass::text, coalesce(c.cond, '')
  FROM ext, LATERAL ROWS FROM (pg_catalog.unnest(ext.extconfig), pg_catalog.unnest(ext.extcondition)) AS c(cfg, cond)
"""

# (kind, identity) rows allowed to differ: none (the update moves the
# extension to pg_catalog and adds schema ml to it, as a fresh install has it)
ONLY_IN_FRESH = set()
# The update marks the roles that already own models with GRANT SELECT ON
# ml.model_owners and then forgets those grants as initial privileges
# (upgrade/1.0--1.1/20-registry.sql), so that pg_dump keeps them: nothing
# may be only in the updated database.
ONLY_IN_UPDATED = set()


def catalog(conn):
    return {(k, i): d for k, i, d in q(conn, CATALOG)}


def _fresh(db):
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
    q(pg, "CREATE DATABASE %s" % db)
    pg.close()
    return connect(db=db)


def _drop(*dbs):
    pg = connect(db="postgres")
    for db in dbs:
        q(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
    pg.close()


REGISTRY = ("SELECT id, name, version, owner, algorithm, relation, target, features, options, metrics, "
            "training_info, pg_catalog.md5(model), n_rows, created_at, created_by, deployed "
            "FROM ml.models ORDER BY id")
NAMES = "SELECT name, owner FROM ml.model_names ORDER BY name"


def _store_corpus_in_1_0(c):
    """A 1.0 database holding every corpus model in its registry, stored by ROLE."""
    q(c, "CREATE EXTENSION ml_ext VERSION '1.0'")
    q(c, "GRANT USAGE ON SCHEMA ml TO %s" % ROLE)
    create_input(c)
    q(c, "GRANT SELECT ON public.corpus_input TO PUBLIC")
    u = connect(ROLE, db=c.info.dbname)
    corpus = load("1.0")["models"]
    for m in corpus:
        # 1.0: any role could claim a name and insert its rows (row-level security checked the owner)
        q(u, "INSERT INTO ml.model_names(name) VALUES (%s)", (m["name"],))
        q(u, "INSERT INTO ml.models(name, version, owner, algorithm, relation, target, features, options, "
             "model, n_rows, deployed) VALUES (%s, 1, current_user, %s, 'public.corpus_input', %s, %s, %s, %s, 85, true)",
          (m["name"], m["algorithm"], m["target"], m["features"], json_text(m["options"]), m["model"]))
    u.close()
    return corpus


def json_text(obj):
    import json
    return json.dumps(obj)


def _check_scores(db, corpus, when):
    """Every corpus model, scored by name as ROLE, gives the stored predictions."""
    u = connect(ROLE, db=db)
    try:
        problems = []
        for m in corpus:
            for fn, want in sorted(m["predictions"].items()):
                bad = mismatches(score(u, m["name"], fn, by_name=True), want)
                if bad:
                    problems.append("%s ml.%s: %s" % (m["name"], fn, bad))
        check(not problems, "%s: %s" % (when, "; ".join(problems)))
    finally:
        u.close()


def test_update_from_1_0_equals_a_fresh_1_1():
    _drop(DB_OLD, DB_NEW, DB_RESTORED)  # the role holds grants there
    make_role(ROLE)
    old = _fresh(DB_OLD)
    new = _fresh(DB_NEW)
    try:
        corpus = _store_corpus_in_1_0(old)
        _check_scores(DB_OLD, corpus, "1.0 before the update")
        registry, names = q(old, REGISTRY), q(old, NAMES)
        check(len(registry) == len(corpus), "the 1.0 registry holds %d rows" % len(registry))

        q(old, "ALTER EXTENSION ml_ext UPDATE")
        check(q1(old, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'ml_ext'") == "1.1",
              "ALTER EXTENSION ml_ext UPDATE did not reach 1.1")
        check(q(old, REGISTRY) == registry, "ml.models changed across the update")
        check(q(old, NAMES) == names, "ml.model_names changed across the update")
        check(q1(old, "SELECT count(*) FROM ml.models WHERE owner_id = %s::regrole::oid", (ROLE,)) == len(corpus),
              "the models' owner_id is not their owner's OID")
        _check_scores(DB_OLD, corpus, "after ALTER EXTENSION ml_ext UPDATE")

        # the same grants and the same owner as in the updated database: ROLE
        # may use schema ml and owns a model
        q(new, "CREATE EXTENSION ml_ext")
        q(new, "GRANT USAGE ON SCHEMA ml TO %s" % ROLE)
        create_input(new)
        q(new, "GRANT SELECT ON public.corpus_input TO PUBLIC")
        u = connect(ROLE, db=DB_NEW)
        q(u, "SELECT ml.train('linear', 'public.corpus_input', 'y', features => ARRAY['x1', 'x2'])")
        u.close()
        a, b = catalog(old), catalog(new)
        diff = []
        for key in sorted(set(a) | set(b)):
            if key in a and key in b:
                if a[key] != b[key]:
                    diff.append("%s %s: updated %r, fresh %r" % (key[0], key[1], a[key], b[key]))
            elif key in a and key not in ONLY_IN_UPDATED:
                diff.append("%s %s: only in the updated database (%r)" % (key[0], key[1], a[key]))
            elif key in b and key not in ONLY_IN_FRESH:
                diff.append("%s %s: only in the fresh install (%r)" % (key[0], key[1], b[key]))
        check(not diff, "updated 1.0 != fresh 1.1 in %d places: %s" % (len(diff), "; ".join(diff[:12])))
        # the documented difference is there, and is the only one
        for key in ONLY_IN_FRESH:
            check(key in b and key not in a, "expected %s %s only in the fresh install" % key)
        for key in ONLY_IN_UPDATED:
            check(key in a and key not in b, "expected %s %s only in the updated database" % key)
        check(len(a) > 300, "the catalog snapshot is suspiciously small (%d rows)" % len(a))
    finally:
        old.close()
        new.close()
        _drop(DB_NEW, DB_OLD)


def _bindir():
    return os.environ.get("MLX_PG_BINDIR", "/usr/lib/postgresql/15/bin")


def test_pg_dump_of_1_0_restores_into_1_1():
    """pg_dump of a 1.0 database, restored where 1.1 is installed: ml_ext 1.0
    first, the dump without its schema ml and extension entries (they exist),
    then ALTER EXTENSION ml_ext UPDATE."""
    _drop(DB_OLD, DB_NEW, DB_RESTORED)
    make_role(ROLE)
    old = _fresh(DB_OLD)
    corpus = _store_corpus_in_1_0(old)
    registry = q(old, REGISTRY)
    old.close()
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "old.dump")
        subprocess.run([os.path.join(_bindir(), "pg_dump"), "-Fc", "-f", dump, DB_OLD], check=True)
        toc = subprocess.run([os.path.join(_bindir(), "pg_restore"), "-l", dump], check=True,
                             capture_output=True, text=True).stdout
        keep = [line for line in toc.splitlines()
                if not (" SCHEMA - ml " in line or " EXTENSION - ml_ext " in line or " COMMENT - EXTENSION ml_ext " in line)]
        check(len(keep) < len(toc.splitlines()), "the dump has no schema ml / extension ml_ext entries")
        listing = os.path.join(tmp, "list")
        with open(listing, "w") as f:
            f.write("\n".join(keep) + "\n")
        new = _fresh(DB_RESTORED)
        try:
            q(new, "CREATE EXTENSION ml_ext VERSION '1.0'")
            r = subprocess.run([os.path.join(_bindir(), "pg_restore"), "--exit-on-error", "-L", listing,
                                "-d", DB_RESTORED, dump], capture_output=True, text=True)
            check(r.returncode == 0, "pg_restore failed: %s" % r.stderr.strip()[-600:])
            check(q(new, REGISTRY) == registry, "the restored 1.0 registry differs from the dumped one")
            q(new, "ALTER EXTENSION ml_ext UPDATE")
            check(q(new, REGISTRY) == registry, "ml.models changed across the update of the restored database")
            _check_scores(DB_RESTORED, corpus, "restored and updated")
            # the registry keeps working: ids continue after the restored ones
            q(new, "GRANT CREATE ON SCHEMA public TO %s" % ROLE)
            u = connect(ROLE, db=DB_RESTORED)
            q(u, "CREATE TABLE public.more AS SELECT x1, x2, y FROM public.corpus_input WHERE y IS NOT NULL AND x1 IS NOT NULL")
            check(q1(u, "SELECT version FROM ml.train('linear', 'public.more', 'y')") == 2, "retrain after restore")
            u.close()
        finally:
            new.close()
            _drop(DB_RESTORED, DB_OLD)
