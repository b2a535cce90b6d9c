"""The registry cannot be forged or blocked, owners are role OIDs, the
extension owns its schema and makes DROP EXTENSION wait (issues 14 and 21).

Roles: sec_victim trains models; sec_attacker is an unprivileged role with
CREATE on public, as in a database upgraded from before PostgreSQL 15.
"""

import os
import subprocess
import threading
import time

import psycopg2

from seclib import DB, check, connect, expect_error, fresh_db, make_role, q, q1

DATA = "CREATE TABLE %s AS SELECT i::float8 AS x, (1 + 2 * i)::float8 AS y FROM pg_catalog.generate_series(1, 60) AS i"


def _setup():
    make_role("sec_victim")
    make_role("sec_attacker")
    admin = connect()
    q(admin, "GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC")
    q(admin, "GRANT USAGE ON SCHEMA ml TO sec_victim, sec_attacker")
    q(admin, "DROP TABLE IF EXISTS public.sec_vdata")
    q(admin, "DELETE FROM ml.model_names WHERE name LIKE 'sec\\_%'")
    admin.close()
    v = connect("sec_victim")
    q(v, DATA % "public.sec_vdata")
    q(v, "SELECT ml.train('sec_vmodel', 'sec_vdata', 'y')")
    return v


def test_no_direct_writes():
    v = _setup()
    a = connect("sec_attacker")
    for sql in ["INSERT INTO ml.model_names(name, owner) VALUES ('sec_squat', 'sec_attacker')",
                "INSERT INTO ml.models(name, version, owner, algorithm, model, created_by) "
                "VALUES ('sec_vmodel', 99, 'sec_victim', 'x', '\\x00', 'sec_attacker')",
                "UPDATE ml.models SET deployed = false",
                "DELETE FROM ml.model_names",
                "SELECT pg_catalog.nextval('ml.models_id_seq')",
                "SELECT pg_catalog.setval('ml.models_id_seq', 1000000)"]:
        expect_error(a, sql, "42501")
    # the victim cannot write the tables directly either: only through ml_ext
    expect_error(v, "UPDATE ml.models SET deployed = false WHERE name = 'sec_vmodel'", "42501")
    check(q1(v, "SELECT count(*) FROM ml.models WHERE name = 'sec_vmodel' AND deployed") == 1,
          "the victim's model is no longer deployed")
    # and its retrain still works (no id was pre-occupied)
    check(q1(v, "SELECT version FROM ml.train('sec_vmodel', 'sec_vdata', 'y')") == 2, "retrain did not give version 2")


def test_names_and_owners_hidden():
    _setup()
    a = connect("sec_attacker")
    check(q1(a, "SELECT count(*) FROM ml.model_names WHERE name = 'sec_vmodel'") == 0,
          "another role's model name is visible in ml.model_names")
    check(q1(a, "SELECT count(*) FROM ml.models WHERE name = 'sec_vmodel'") == 0,
          "another role's model is visible in ml.models")
    expect_error(a, "SELECT ml.deploy('sec_vmodel', 1)", "42704", contains="does not exist")
    expect_error(a, "SELECT ml.drop_model('sec_vmodel')", "42704", contains="does not exist")
    expect_error(a, "SELECT ml.set_owner('sec_vmodel', 'sec_attacker')", "42704")


def test_name_checked_before_training():
    _setup()
    a = connect("sec_attacker")
    q(a, "DROP TABLE IF EXISTS public.sec_adata")
    q(a, DATA % "public.sec_adata")
    # the source would fail (division by zero) if training read it: the
    # name check must come first
    expect_error(a, "SELECT ml.train('sec_vmodel', '(SELECT x, y / 0 AS y FROM sec_adata)', 'y')", "42501",
                 contains="belongs to another role")
    # a failed training leaves no claimed name behind
    expect_error(a, "SELECT ml.train('sec_failed', '(SELECT x, y / 0 AS y FROM sec_adata)', 'y')", "22012")
    admin = connect()
    check(q1(admin, "SELECT count(*) FROM ml.model_names WHERE name = 'sec_failed'") == 0,
          "a failed training left its name claimed")


def test_owner_is_a_role_oid():
    v = _setup()
    admin = connect()
    # DROP ROLE refuses while the role owns models, as for tables
    msg = None
    try:
        q(admin, "DROP ROLE sec_victim")
    except psycopg2.Error as e:
        msg = (e.pgcode, e.diag.message_detail or "")
    check(msg is not None and msg[0] == "2BP01" and "ml.model_owners" in msg[1],
          "DROP ROLE of a model owner: expected 2BP01 naming ml.model_owners, got %r" % (msg,))
    # renaming keeps the models
    v.close()
    q(admin, "ALTER ROLE sec_victim RENAME TO sec_victim2")
    v2 = connect("sec_victim2")
    check(q1(v2, "SELECT count(*) FROM ml.models WHERE name = 'sec_vmodel'") == 1, "a renamed role lost its models")
    check(q1(v2, "SELECT version FROM ml.train('sec_vmodel', 'sec_vdata', 'y')") == 2, "a renamed role cannot retrain")
    check(q1(admin, "SELECT owner FROM ml.models WHERE name = 'sec_vmodel' AND version = 2") == "sec_victim2",
          "the stored owner name was not refreshed")
    v2.close()
    # after DROP OWNED the role can go; nobody inherits its models
    q(admin, "REASSIGN OWNED BY sec_victim2 TO postgres")
    q(admin, "DROP OWNED BY sec_victim2")
    q(admin, "DROP ROLE sec_victim2")
    make_role("sec_victim")   # a new role with the old name
    q(admin, "GRANT USAGE ON SCHEMA ml TO sec_victim")
    v3 = connect("sec_victim")
    check(q1(v3, "SELECT count(*) FROM ml.models") == 0, "a new role with an old name inherited models")
    check(q1(connect("sec_attacker"), "SELECT count(*) FROM ml.models") == 0, "orphaned models are visible")
    expect_error(v3, "SELECT ml.train('sec_vmodel', 'sec_vdata', 'y')", "42501", contains="no longer exists")
    # a superuser sees them and can give them to a role
    check(q1(admin, "SELECT count(*) FROM ml.models WHERE name = 'sec_vmodel'") == 2, "orphaned models were lost")
    q(admin, "SELECT ml.set_owner('sec_vmodel', 'sec_victim')")
    check(q1(v3, "SELECT count(*) FROM ml.models WHERE name = 'sec_vmodel'") == 2, "ml.set_owner did not hand over")
    check(q1(v3, "SELECT round(ml.predict('sec_vmodel', ARRAY[10.0]::float8[])::numeric, 6)") == 21,
          "the handed-over model does not score")


def test_restore_into_cluster_without_the_role():
    _setup()
    bindir = os.environ.get("MLX_PG_BINDIR", "/usr/lib/postgresql/15/bin")
    dump = "/tmp/ml_sec_registry.dump"
    subprocess.run([os.path.join(bindir, "pg_dump"), "-Fc", "-f", dump, DB], check=True)
    admin = connect()
    # the role goes away before the restore
    q(admin, "REASSIGN OWNED BY sec_victim TO postgres")
    q(admin, "DROP OWNED BY sec_victim")
    q(admin, "DROP ROLE sec_victim")
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS ml_sec_restore WITH (FORCE)")
    q(pg, "CREATE DATABASE ml_sec_restore")
    r = subprocess.run([os.path.join(bindir, "pg_restore"), "-d", "ml_sec_restore", dump],
                       capture_output=True, text=True)
    # the only error allowed is the GRANT to the missing role
    errs = [l for l in r.stderr.splitlines() if "error:" in l and "sec_victim" not in l]
    check(not errs, "pg_restore errors: %s" % r.stderr[-2000:])
    rc = connect(db="ml_sec_restore")
    rows = q(rc, "SELECT owner, owner_id FROM ml.models WHERE name = 'sec_vmodel'")
    check(rows == [("sec_victim", 0)], "restored owner without its role: %r" % rows)
    make_role("sec_other")
    q(rc, "GRANT USAGE ON SCHEMA ml TO sec_other")
    check(q1(connect("sec_other", db="ml_sec_restore"), "SELECT count(*) FROM ml.models") == 0,
          "a restored orphan is visible to an ordinary role")
    rc.close()
    # with the role present, the restore maps the owner by name
    make_role("sec_victim")
    q(pg, "DROP DATABASE ml_sec_restore WITH (FORCE)")
    q(pg, "CREATE DATABASE ml_sec_restore")
    subprocess.run([os.path.join(bindir, "pg_restore"), "-d", "ml_sec_restore", dump], capture_output=True)
    rc = connect(db="ml_sec_restore")
    q(rc, "GRANT USAGE ON SCHEMA ml TO sec_victim")
    check(q1(connect("sec_victim", db="ml_sec_restore"),
             "SELECT count(*) FROM ml.models WHERE name = 'sec_vmodel'") == 1,
          "the restored model does not belong to the role of that name")
    rc.close()
    q(pg, "DROP DATABASE ml_sec_restore WITH (FORCE)")
    os.unlink(dump)


def test_repeatable_read_retrain_is_retryable():
    _setup()
    c1 = connect("sec_victim", autocommit=False)
    c2 = connect("sec_victim", autocommit=False)
    for c in (c1, c2):
        q(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        q(c, "SELECT count(*) FROM ml.models")   # take the snapshot
    q(c1, "SELECT ml.train('sec_vmodel', 'sec_vdata', 'y', options => '{\"deploy\": false}')")
    c1.commit()
    expect_error(c2, "SELECT ml.train('sec_vmodel', 'sec_vdata', 'y', options => '{\"deploy\": false}')", "40001")
    c2.rollback()


def test_resource_settings_are_superuser_set():
    _setup()
    # before ml_ext is loaded in a session a SET only makes a placeholder,
    # which loading the library discards for a non-superuser
    v = connect("sec_victim")
    q(v, "SET ml.training_threads = 8")
    q(v, "SELECT ml.r2(1, 1)")
    check(q1(v, "SHOW ml.training_threads") == "1", "a non-superuser raised ml.training_threads before loading")
    expect_error(v, "SET ml.training_threads = 8", "42501")
    expect_error(v, "SET ml.max_training_memory = '2000GB'", "42501")
    admin = connect()
    q(admin, "ALTER ROLE sec_victim SET ml.max_training_memory = '64MB'")
    v2 = connect("sec_victim")
    check(q1(v2, "SHOW ml.max_training_memory") == "64MB", "a per-role limit does not apply")
    q(v2, "SELECT ml.r2(1, 1)")
    expect_error(v2, "SET ml.max_training_memory = '1GB'", "42501")
    q(admin, "ALTER ROLE sec_victim RESET ml.max_training_memory")


def test_existing_schema_is_refused():
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS ml_sec_schema WITH (FORCE)")
    q(pg, "CREATE DATABASE ml_sec_schema")
    make_role("sec_attacker")
    c = connect(db="ml_sec_schema")
    q(c, "GRANT CREATE ON DATABASE ml_sec_schema TO sec_attacker")
    a = connect("sec_attacker", db="ml_sec_schema")
    q(a, "CREATE SCHEMA ml")
    a.close()
    expect_error(c, "CREATE EXTENSION ml_ext", "42P06", contains='schema "ml" already exists')
    q(c, "DROP SCHEMA ml")
    q(c, "CREATE EXTENSION ml_ext")
    check(q1(c, "SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = 'ml'")
          == "postgres", "schema ml is not owned by the installing role")
    # DROP EXTENSION takes the schema with it
    q(c, "DROP EXTENSION ml_ext")
    check(q1(c, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'ml'") == 0,
          "DROP EXTENSION left schema ml behind")
    c.close()
    q(pg, "DROP DATABASE ml_sec_schema WITH (FORCE)")


def test_drop_extension_waits_for_training():
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS ml_sec_drop WITH (FORCE)")
    q(pg, "CREATE DATABASE ml_sec_drop")
    c = connect(db="ml_sec_drop")
    q(c, "CREATE EXTENSION ml_ext")
    q(c, DATA % "slow")
    result = {}

    def train():
        t = connect(db="ml_sec_drop")
        try:
            # about 0.02 s per row and pass: long enough to be caught running
            result["v"] = q1(t, "SELECT version FROM ml.train('slow', "
                                "'(SELECT x, y FROM slow WHERE pg_catalog.pg_sleep(0.02) IS NOT NULL)', 'y')")
        except psycopg2.Error as e:
            result["e"] = "%s %s" % (e.pgcode, e.pgerror)

    th = threading.Thread(target=train)
    th.start()
    time.sleep(0.5)
    q(c, "SET lock_timeout = '300ms'")
    expect_error(c, "DROP EXTENSION ml_ext CASCADE", "55P03")
    th.join()
    check(result.get("v") == 1, "the training failed under a DROP EXTENSION: %r" % result)
    q(c, "RESET lock_timeout")
    q(c, "DROP EXTENSION ml_ext CASCADE")
    c.close()
    q(pg, "DROP DATABASE ml_sec_drop WITH (FORCE)")
