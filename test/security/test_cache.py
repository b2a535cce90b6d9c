"""The model caches never serve the wrong model (issue 14, item 5).

Scoring functions keep the decoded model in fn_extra.  PL/pgSQL keeps a
simple expression's FmgrInfo (and so fn_extra) for a whole transaction while
its variables change, so a cache keyed by the call site returns an earlier
model: for a model bytea in a variable, and for a name whose deployed version,
existence or visibility changed in between (deploy, retrain, drop, SET ROLE).
A cached model is keyed by its identity instead: bytes by length, CRC-32C and
a byte comparison; names by the registry row, looked up again per statement.

The tests run in a database of their own (ml.models holds only their models).
"""

import struct

import seclib
from seclib import check, connect, expect_error, make_role, q, q1

DB = "ml_security_cache"
ROLE_A = "sec_cache_a"
ROLE_B = "sec_cache_b"
X = "ARRAY[10, 3]::float8[]"
_ready = []


def _setup():
    """Once per run: the database, two data sets with different answers at X,
    roles A and B (A owns a model B may not see)."""
    if _ready:
        return
    seclib.fresh_db(DB)
    make_role(ROLE_A)
    make_role(ROLE_B)
    c = connect(db=DB)
    try:
        q(c, "GRANT USAGE ON SCHEMA ml TO %s, %s" % (ROLE_A, ROLE_B))
        # at X: d1 gives 30, d2 gives -47, d3 gives 100
        q(c, """CREATE TABLE d1 AS SELECT g::float8 AS a, (g % 7)::float8 AS b,
                  (2 * g + 3 * (g % 7) + 1)::float8 AS y FROM generate_series(1, 100) g""")
        q(c, "CREATE TABLE d2 AS SELECT a, b, (-5 * a + b)::float8 AS y FROM d1")
        q(c, "CREATE TABLE d3 AS SELECT a, b, (10 * a)::float8 AS y FROM d1")
        q(c, "GRANT SELECT ON d1, d2, d3 TO PUBLIC")
    finally:
        c.close()
    _ready.append(True)


def _train(conn, name, table):
    return q1(conn, "SELECT version FROM ml.train(%s, %s, 'y')", (name, table))


def _expect(value, want, what):
    check(value is not None and abs(value - want) < 1e-6,
          "%s: got %r, expected %r" % (what, value, want))


def test_issue_reproduction():
    """The issue's reproduction, verbatim: wrap() must agree with the direct call."""
    _setup()
    c = connect(db=DB)
    try:
        _train(c, "cache_m1", "d1")
        _train(c, "cache_m2", "d2")
        q(c, "DROP FUNCTION IF EXISTS wrap(bytea)")
        q(c, """CREATE FUNCTION wrap(m bytea) RETURNS float8 LANGUAGE plpgsql AS $$ BEGIN RETURN ml.predict(m, ARRAY[10, 3]::float8[]); END $$;""")
        rows = q(c, """SELECT name, ml.predict(model, ARRAY[10, 3]::float8[]) AS direct, wrap(model) FROM ml.models;   -- wrap() returns the first model's answer for every model""")
        check(len(rows) >= 2, "expected at least two models, got %r" % (rows,))
        check(len(set(round(r[1], 6) for r in rows)) >= 2, "the models should differ: %r" % (rows,))
        for name, direct, wrapped in rows:
            _expect(wrapped, direct, "wrap() of model %s" % name)
    finally:
        c.close()


def test_bytes_variable_in_loops():
    """A model bytea variable reassigned in a loop, in a volatile and in an
    immutable function, and a model read per row by a LATERAL query."""
    _setup()
    c = connect(db=DB)
    try:
        _train(c, "cache_m1", "d1")
        _train(c, "cache_m2", "d2")
        _train(c, "cache_m3", "d3")
        q(c, """CREATE OR REPLACE FUNCTION cache_loop(imm boolean) RETURNS text
                LANGUAGE plpgsql AS $$
                DECLARE r record; m bytea; out text := '';
                BEGIN
                  FOR r IN SELECT name, model FROM ml.models m2 WHERE m2.deployed
                           AND name IN ('cache_m1', 'cache_m2', 'cache_m3', 'cache_m1')
                           ORDER BY name LOOP
                    m := r.model;
                    IF imm THEN
                      out := out || round(cache_imm(m)::numeric, 6) || ' ';
                    ELSE
                      out := out || round(ml.predict(m, ARRAY[10, 3]::float8[])::numeric, 6) || ' ';
                    END IF;
                  END LOOP;
                  RETURN out;
                END $$""")
        q(c, """CREATE OR REPLACE FUNCTION cache_imm(m bytea) RETURNS float8
                LANGUAGE plpgsql IMMUTABLE AS $$
                BEGIN RETURN ml.predict(m, ARRAY[10, 3]::float8[]); END $$""")
        want = "30.000000 -47.000000 100.000000 "
        for imm in (False, True):
            got = q1(c, "SELECT cache_loop(%s)", (imm,))
            check(got == want, "loop (immutable=%s): got %r, expected %r" % (imm, got, want))
        # the same call site, models alternating, twice over, in one DO block
        q(c, "DROP TABLE IF EXISTS cache_out")
        q(c, "CREATE TABLE cache_out (i int, v float8)")
        q(c, """DO $$
                DECLARE m bytea; i int;
                BEGIN
                  FOR i IN 1..6 LOOP
                    m := ml.model(CASE i % 3 WHEN 1 THEN 'cache_m1' WHEN 2 THEN 'cache_m2' ELSE 'cache_m3' END);
                    INSERT INTO cache_out VALUES (i, ml.predict(m, ARRAY[10, 3]::float8[]));
                  END LOOP;
                END $$""")
        got = [round(v, 6) for (v,) in q(c, "SELECT v FROM cache_out ORDER BY i")]
        check(got == [30, -47, 100, 30, -47, 100], "DO loop: got %r" % (got,))
    finally:
        c.close()


# --- CRC-32C, to build two models of equal length and equal stored CRC ---

def _crc32c_table():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc32c_table()


def _crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _forge_same_crc(model, change_at, new8, patch_at):
    """model with bytes change_at..+8 set to new8 and the 4 bytes at patch_at
    chosen so that the CRC over everything but the trailer is unchanged."""
    body = bytearray(model[:-4])
    want = _crc32c(bytes(body))
    body[change_at:change_at + 8] = new8
    base = _crc32c(bytes(body))
    # the CRC is affine in the data: solve for the 32 patch bits over GF(2)
    cols = []
    for bit in range(32):
        t = bytearray(body)
        t[patch_at + bit // 8] ^= 1 << (bit % 8)
        cols.append(_crc32c(bytes(t)) ^ base)
    target = base ^ want
    rows = [(cols[i], 1 << i) for i in range(32)]   # (effect, combination)
    basis = {}
    for eff, comb in rows:
        for hb in sorted(basis, reverse=True):
            if eff >> hb & 1:
                eff ^= basis[hb][0]
                comb ^= basis[hb][1]
        if eff:
            basis[eff.bit_length() - 1] = (eff, comb)
    comb = 0
    for hb in sorted(basis, reverse=True):
        if target >> hb & 1:
            target ^= basis[hb][0]
            comb ^= basis[hb][1]
    if target:
        raise seclib.Failure("could not forge a CRC collision")
    for bit in range(32):
        if comb >> bit & 1:
            body[patch_at + bit // 8] ^= 1 << (bit % 8)
    forged = bytes(body) + bytes(model[-4:])
    check(_crc32c(bytes(body)) == struct.unpack(">I", model[-4:])[0], "forged CRC is not the stored one")
    return forged


def test_equal_length_and_crc_not_confused():
    """Two valid models with the same length and the same CRC-32C but different
    coefficients give their own answers through one call site."""
    _setup()
    c = connect(db=DB)
    try:
        _train(c, "cache_m1", "d1")
        m1 = bytes(q1(c, "SELECT ml.model('cache_m1')"))
        check(_crc32c(m1[:-4]) == struct.unpack(">I", m1[-4:])[0], "model CRC is not CRC-32C of its bytes")
        coefs = dict(q(c, "SELECT term, estimate FROM ml.coefficients(%s)", (m1,)))
        b_bytes = struct.pack(">d", coefs["b"])
        i_bytes = struct.pack(">d", coefs["intercept"])
        check(m1.count(b_bytes) == 1 and m1.count(i_bytes) == 1, "coefficients not found once in the model")
        # b's coefficient + 1 (the answer at X grows by 3); the CRC is
        # repaired in the low mantissa bytes of the intercept (a change of
        # at most about 1e-6)
        m2 = _forge_same_crc(m1, m1.index(b_bytes), struct.pack(">d", coefs["b"] + 1.0),
                             m1.index(i_bytes) + 4)
        check(len(m2) == len(m1) and m2[-4:] == m1[-4:] and m2 != m1, "forgery is not a same-length, same-CRC model")
        p1 = q1(c, "SELECT ml.predict(%s, " + X + ")", (m1,))
        p2 = q1(c, "SELECT ml.predict(%s, " + X + ")", (m2,))
        check(abs(p2 - p1 - 3.0) < 1e-3, "the forged model's answer: %r vs %r" % (p2, p1))
        q(c, """CREATE OR REPLACE FUNCTION cache_two(m1 bytea, m2 bytea) RETURNS float8[]
                LANGUAGE plpgsql AS $$
                DECLARE m bytea; out float8[] := '{}';
                BEGIN
                  FOREACH m IN ARRAY ARRAY[m1, m2, m1, m2] LOOP
                    out := out || ml.predict(m, ARRAY[10, 3]::float8[]);
                  END LOOP;
                  RETURN out;
                END $$""")
        got = q1(c, "SELECT cache_two(%s, %s)", (m1, m2))
        for g, w in zip(got, [p1, p2, p1, p2]):
            _expect(g, w, "same-CRC models through one call site (%r)" % (got,))
        # in one query, row by row (a VALUES list: not a constant argument)
        rows = q(c, "SELECT ml.predict(m, " + X + ") FROM (VALUES (1, %s), (2, %s), (3, %s)) v(i, m) ORDER BY i",
                 (m1, m2, m1))
        for (g,), w in zip(rows, [p1, p2, p1]):
            _expect(g, w, "same-CRC models row by row")
    finally:
        c.close()


def _loop_fn(conn, fname, body):
    q(conn, "CREATE OR REPLACE FUNCTION %s() RETURNS text LANGUAGE plpgsql AS $$\n"
            "DECLARE out text := ''; v int; r text;\nBEGIN\n%s\nRETURN out;\nEND $$" % (fname, body))


SCORE = """BEGIN
  out := out || round(ml.predict('%s', ARRAY[10, 3]::float8[])::numeric, 6) || ' ';
EXCEPTION WHEN OTHERS THEN out := out || SQLSTATE || ' ';
END;"""


def test_by_name_deploy_in_plpgsql_loop():
    _setup()
    c = connect(db=DB)
    try:
        q(c, "SELECT ml.drop_model('cache_dep') FROM ml.models WHERE name = 'cache_dep' LIMIT 1")
        _train(c, "cache_dep", "d1")
        _train(c, "cache_dep", "d2")
        _loop_fn(c, "cache_deploy_loop", """
          FOR v IN SELECT unnest(ARRAY[1, 2, 1, 2]) LOOP
            PERFORM ml.deploy('cache_dep', v);
            %s
          END LOOP;""" % (SCORE % "cache_dep"))
        got = q1(c, "SELECT cache_deploy_loop()")
        check(got == "30.000000 -47.000000 30.000000 -47.000000 ",
              "deploy in a PL/pgSQL loop: got %r" % got)
    finally:
        c.close()


def test_by_name_retrain_in_plpgsql_loop():
    _setup()
    c = connect(db=DB)
    try:
        q(c, "SELECT ml.drop_model('cache_re') FROM ml.models WHERE name = 'cache_re' LIMIT 1")
        _loop_fn(c, "cache_retrain_loop", """
          FOREACH r IN ARRAY ARRAY['d1', 'd2', 'd3', 'd1'] LOOP
            PERFORM ml.train('cache_re', r, 'y');
            %s
          END LOOP;""" % (SCORE % "cache_re"))
        got = q1(c, "SELECT cache_retrain_loop()")
        check(got == "30.000000 -47.000000 100.000000 30.000000 ",
              "retrain in a PL/pgSQL loop: got %r" % got)
    finally:
        c.close()


def test_by_name_drop_in_plpgsql_loop():
    _setup()
    c = connect(db=DB)
    try:
        q(c, "SELECT ml.drop_model('cache_drop') FROM ml.models WHERE name = 'cache_drop' LIMIT 1")
        _loop_fn(c, "cache_drop_loop", """
          FOR v IN 1..3 LOOP
            IF v = 2 THEN PERFORM ml.drop_model('cache_drop'); END IF;
            IF v = 3 THEN PERFORM ml.train('cache_drop', 'd2', 'y'); END IF;
            %s
          END LOOP;""" % (SCORE % "cache_drop"))
        _train(c, "cache_drop", "d1")
        got = q1(c, "SELECT cache_drop_loop()")
        check(got == "30.000000 42704 -47.000000 ", "drop in a PL/pgSQL loop: got %r" % got)
    finally:
        c.close()


def test_by_name_set_role_in_plpgsql_loop():
    """Role A's model is invisible to role B (RLS): switching roles between
    statements of one function must not hand B the model cached for A."""
    _setup()
    a = connect(ROLE_A, db=DB)
    c = connect(db=DB)
    try:
        q(c, "SELECT ml.drop_model('cache_private') FROM ml.models WHERE name = 'cache_private' LIMIT 1")
        _train(a, "cache_private", "d1")
        expect_error(connect(ROLE_B, db=DB), "SELECT ml.predict('cache_private', " + X + ")", "42704")
        _loop_fn(c, "cache_role_loop", """
          FOREACH r IN ARRAY ARRAY['%s', '%s', '%s', '%s'] LOOP
            EXECUTE pg_catalog.format('SET ROLE %%I', r);
            %s
          END LOOP;
          RESET ROLE;""" % (ROLE_A, ROLE_B, ROLE_A, ROLE_B, SCORE % "cache_private"))
        got = q1(c, "SELECT cache_role_loop()")
        check(got == "30.000000 42704 30.000000 42704 ", "SET ROLE in a PL/pgSQL loop: got %r" % got)
        # and as set_config inside one statement's loop (no SET statement)
        _loop_fn(c, "cache_role_loop2", """
          FOREACH r IN ARRAY ARRAY['%s', '%s'] LOOP
            PERFORM pg_catalog.set_config('role', r, true);
            %s
          END LOOP;""" % (ROLE_A, ROLE_B, SCORE % "cache_private"))
        q(c, "BEGIN")
        got = q1(c, "SELECT cache_role_loop2()")
        q(c, "ROLLBACK")
        check(got == "30.000000 42704 ", "set_config('role') in a PL/pgSQL loop: got %r" % got)
    finally:
        a.close()
        c.close()


def test_by_name_changes_in_one_transaction():
    """Deploy, retrain, drop and SET ROLE between statements of one transaction."""
    _setup()
    a = connect(ROLE_A, db=DB)
    c = connect(db=DB, autocommit=False)
    try:
        q(a, "SELECT ml.drop_model('cache_tx') FROM ml.models WHERE name = 'cache_tx' LIMIT 1")
        _train(a, "cache_tx", "d1")
        _train(a, "cache_tx", "d2")
        score = "SELECT ml.predict('cache_tx', " + X + ")"
        q(c, "SET ROLE " + ROLE_A)
        _expect(q1(c, score), -47, "deployed version 2")
        q(c, "SELECT ml.deploy('cache_tx', 1)")
        _expect(q1(c, score), 30, "after deploying version 1")
        _train(c, "cache_tx", "d3")
        _expect(q1(c, score), 100, "after retraining (version 3 deployed)")
        q(c, "SET ROLE " + ROLE_B)
        expect_error(c, score, "42704")
        q(c, "SET ROLE " + ROLE_A)
        _expect(q1(c, score), 100, "back as the owner")
        q(c, "SELECT ml.drop_model('cache_tx')")
        expect_error(c, score, "42704")
        q(c, "ROLLBACK")
    finally:
        a.close()
        c.close()


def test_registry_lookup_ignores_planted_operator():
    """The by-name lookup is schema-qualified and runs under a pinned
    search_path: an "=" for (text, text) planted in public (which an upgraded
    database lets anyone create in) does not run for a victim whose
    search_path puts public before pg_catalog."""
    _setup()
    admin = connect(db=DB)
    b = connect(ROLE_B, db=DB)
    try:
        _train(admin, "cache_m1", "d1")
        q(admin, "GRANT CREATE ON SCHEMA public TO PUBLIC")
        q(b, "DROP OPERATOR IF EXISTS public.= (text, text)")
        q(b, "DROP FUNCTION IF EXISTS public.cache_evil_eq(text, text)")
        q(b, "DROP TABLE IF EXISTS public.cache_loot")
        q(b, "CREATE TABLE public.cache_loot (who text)")
        q(b, "GRANT INSERT ON public.cache_loot TO PUBLIC")
        q(b, """CREATE FUNCTION public.cache_evil_eq(a text, b text) RETURNS boolean
                LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO public.cache_loot VALUES (current_user);
                  RETURN pg_catalog.texteq(a, b);
                END $$""")
        q(b, "CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.cache_evil_eq)")
        victim = connect(db=DB)
        try:
            q(victim, "SET search_path = public, pg_catalog")
            check(q1(victim, "SELECT 'x'::text = 'x'::text") is True, "planted operator does not work")
            q(admin, "TRUNCATE public.cache_loot")
            _expect(q1(victim, "SELECT ml.predict('cache_m1', " + X + ")"), 30, "by name as the victim")
            expect_error(victim, "SELECT ml.predict('cache_no_such_model', " + X + ")", "42704")
        finally:
            victim.close()
        loot = q(admin, "SELECT who FROM public.cache_loot")
        check(loot == [], "the planted operator ran inside the model lookup as %r" % (loot,))
    finally:
        q(b, "DROP OPERATOR IF EXISTS public.= (text, text)")
        q(b, "DROP FUNCTION IF EXISTS public.cache_evil_eq(text, text)")
        q(b, "DROP TABLE IF EXISTS public.cache_loot")
        q(admin, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        admin.close()
        b.close()
