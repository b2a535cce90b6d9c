"""ALTER EXTENSION ml_ext UPDATE from 1.0: the registry moves to role OIDs and
ml_ext-only writes, models keep scoring identically, and a schema ml with
planted objects stops the update.
"""

import os
import subprocess

from seclib import check, connect, expect_error, make_role, q, q1

DB = "ml_sec_update"


def _db_with_1_0():
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
    q(pg, "CREATE DATABASE %s" % DB)
    pg.close()
    c = connect(db=DB)
    q(c, "CREATE EXTENSION ml_ext VERSION '1.0'")
    return c


def test_update_keeps_models_and_locks_the_registry():
    make_role("sec_upd")
    c = _db_with_1_0()
    q(c, "GRANT USAGE ON SCHEMA ml TO sec_upd")
    q(c, "GRANT CREATE ON SCHEMA public TO sec_upd")
    u = connect("sec_upd", db=DB)
    q(u, "CREATE TABLE d AS SELECT i::float8 AS x, (i % 7)::float8 AS z, (3 + 2 * i - (i % 7))::float8 AS y "
         "FROM pg_catalog.generate_series(1, 80) AS i")
    # the library is already 1.1: training refuses the 1.0 registry clearly,
    # while models still score
    expect_error(u, "SELECT ml.train('upd_lin', 'd', 'y')", "55000", contains="older than its library")
    # registry rows as 1.0 let a role write them (its own ml.train did the same)
    for name, agg in (("upd_lin", "ml.linreg_fit(y, ARRAY[x, z])"),
                      ("upd_enet", "ml.elastic_net_fit(y, ARRAY[x, z], 0.1, 0.5)")):
        q(u, "INSERT INTO ml.model_names(name) VALUES ('%s')" % name)
        q(u, "INSERT INTO ml.models(name, version, owner, algorithm, model, deployed) "
             "SELECT '%s', 1, current_user, 'linear_regression', %s, true FROM d" % (name, agg))
    before = q(u, "SELECT ml.predict('upd_lin', ARRAY[x, z]), ml.predict('upd_enet', ARRAY[x, z]) FROM d ORDER BY x")
    bytes_before = q(c, "SELECT name, version, md5(model) FROM ml.models ORDER BY name, version")
    u.close()
    q(c, "ALTER EXTENSION ml_ext UPDATE TO '1.1'")
    check(q1(c, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'ml_ext'") == "1.1", "not updated")
    u = connect("sec_upd", db=DB)
    check(q(u, "SELECT ml.predict('upd_lin', ARRAY[x, z]), ml.predict('upd_enet', ARRAY[x, z]) FROM d ORDER BY x") == before,
          "predictions changed across the update")
    check(q(c, "SELECT name, version, md5(model) FROM ml.models ORDER BY name, version") == bytes_before,
          "model bytes changed across the update")
    check(q1(c, "SELECT count(*) FROM ml.models WHERE owner_id = 'sec_upd'::regrole::oid") == 2,
          "owner_id was not filled from the owner names")
    check(q1(c, "SELECT pg_catalog.has_table_privilege('sec_upd', 'ml.model_owners', 'SELECT')"),
          "an owning role does not hold its mark on ml.model_owners")
    expect_error(u, "UPDATE ml.models SET deployed = false", "42501")
    check(q1(u, "SELECT version FROM ml.train('upd_lin', 'd', 'y')") == 2, "retrain after the update")
    q(u, "SELECT ml.deploy('upd_lin', 1)")
    check(q1(u, "SELECT ml.drop_model('upd_enet')") == 1, "drop after the update")
    u.close()
    # the updated database dumps and restores like a fresh 1.1 one
    bindir = os.environ.get("MLX_PG_BINDIR", "/usr/lib/postgresql/15/bin")
    dump = "/tmp/ml_sec_update_%d.dump" % os.getpid()
    subprocess.run([os.path.join(bindir, "pg_dump"), "-Fc", "-f", dump, DB], check=True)
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS ml_sec_update_restored WITH (FORCE)")
    q(pg, "CREATE DATABASE ml_sec_update_restored")
    r = subprocess.run([os.path.join(bindir, "pg_restore"), "--exit-on-error", "-d", "ml_sec_update_restored", dump],
                       capture_output=True, text=True)
    os.unlink(dump)
    check(r.returncode == 0, "the updated database does not restore: %s" % r.stderr[-1500:])
    rc = connect(db="ml_sec_update_restored")
    check(q1(rc, "SELECT round(ml.predict('upd_lin', ARRAY[2.0, 3.0]::float8[])::numeric, 9)")
          == q1(c, "SELECT round(ml.predict('upd_lin', ARRAY[2.0, 3.0]::float8[])::numeric, 9)"),
          "the restored model scores differently")
    rc.close()
    q(pg, "DROP DATABASE ml_sec_update_restored WITH (FORCE)")
    # and DROP EXTENSION takes the schema with it, as for a fresh install
    q(c, "DROP EXTENSION ml_ext CASCADE")
    check(q1(c, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'ml'") == 0,
          "DROP EXTENSION left schema ml behind in an updated database")
    c.close()


def test_update_refuses_a_planted_schema():
    c = _db_with_1_0()
    q(c, "CREATE FUNCTION ml.planted(int) RETURNS int LANGUAGE sql AS 'SELECT 1'")
    expect_error(c, "ALTER EXTENSION ml_ext UPDATE TO '1.1'", "55006", contains="not part of ml_ext")
    q(c, "DROP FUNCTION ml.planted(int)")
    q(c, "ALTER EXTENSION ml_ext UPDATE TO '1.1'")
    c.close()
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE %s WITH (FORCE)" % DB)
