"""Crafted aggregate states are bad data, never an internal error (issue 21, item 5).

Anyone can build an aggregate from ml_ext's support functions and hand a
combine or final function any bytea as a state.  Such input must be
refused as corrupt (22P03) or bad data (22000 and friends), never reach
LAPACK as garbage and come back as XX000 "linear algebra routine failed",
and never take the backend down.

For every family of states, the generator takes a valid state from the
family's own transition function, then derives crafted ones from it:
truncated and extended values, every header field and a sample of the
body overwritten with NaN, infinities, huge and negative numbers, zeros.
Each crafted state goes to every final function of the family alone, and
to its combine function (then the final function) next to a valid state,
in both orders.  The test fails on any XX class error or a lost
connection, listing the first cases.
"""

import os
import random
import struct

import psycopg2

from seclib import Failure, check, connect, q

# family: (transition aggregate: SQL building a valid state, combine, [finals])
FAMILIES = {
    "linreg": (
        "SELECT pg_temp.st_linreg(g * 1.5 + g %% 3, ARRAY[g, g %% 4]::float8[]) FROM generate_series(1, 40) g",
        "ml.linreg_combine", ["ml.linreg_final"]),
    "linreg_ridge": (
        "SELECT pg_temp.st_linreg(g * 1.5 + g %% 3, ARRAY[g, g %% 4]::float8[], 0.5, false) FROM generate_series(1, 7) g",
        "ml.linreg_combine", ["ml.linreg_final"]),
    "enet": (
        "SELECT pg_temp.st_enet(g * 1.5 + g %% 3, ARRAY[g, g %% 4]::float8[], 0.1, 0.5) FROM generate_series(1, 40) g",
        "ml._gram_combine", ["ml._gram_final"]),
    "pca": (
        "SELECT pg_temp.st_pca(ARRAY[g, g %% 4, g %% 7]::float8[]) FROM generate_series(1, 40) g",
        "ml._gram_combine", ["ml._gram_final"]),
    "glm": (
        "SELECT pg_temp.st_glm((g %% 2)::float8, ARRAY[g %% 5, g %% 3]::float8[], %s::bytea) FROM generate_series(1, 40) g",
        "ml._glm_pass_combine", ["ml._glm_pass_final", "ml._glm_pass_state_final"]),
    "kmeans": (
        "SELECT pg_temp.st_kmeans(ARRAY[g %% 5, g %% 3]::float8[], %s::bytea) FROM generate_series(1, 40) g",
        "ml._kmeans_pass_combine", ["ml._kmeans_pass_final", "ml._kmeans_pass_state_final"]),
    "softmax": (
        "SELECT pg_temp.st_softmax(g %% 3, ARRAY[g %% 5, g %% 3]::float8[], %s::bytea, true) FROM generate_series(1, 40) g",
        "ml._softmax_pass_combine", ["ml._softmax_pass_final"]),
    "nbayes": (
        "SELECT pg_temp.st_nbayes(g %% 2, ARRAY[g %% 5, g %% 3]::float8[], 2) FROM generate_series(1, 40) g",
        "ml._naive_bayes_combine", ["ml._naive_bayes_final"]),
    "linreg_train": (
        "SELECT pg_temp.st_linreg_train(g * 1.5, g %% 4 = 0, false, %s::bytea, (g %% 5)::float8, (g %% 3)::float8)"
        " FROM generate_series(1, 40) g",
        "ml._linreg_train_combine", ["ml._linreg_train_final"]),
    "tree_sample": (
        "SELECT pg_temp.st_tree_sample(ARRAY[g %% 5, g %% 3]::float8[], 1.0, 1) FROM generate_series(1, 10) g",
        "ml._tree_gather_combine", ["ml._tree_state_final"]),
    "regression_metrics": (
        "SELECT pg_temp.st_regm(g * 1.0, g * 1.1) FROM generate_series(1, 10) g",
        "ml.regression_metrics_combine",
        ["ml.r2_final", "ml.mse_final", "ml.rmse_final", "ml.mae_final", "ml.explained_variance_final"]),
    "confusion": (
        "SELECT pg_temp.st_conf((g %% 3)::text, (g %% 2)::text) FROM generate_series(1, 10) g",
        "ml.classification_combine",
        ["ml.accuracy_final", "ml.precision_final", "ml.recall_final", "ml.f1_final"]),
    "log_loss": (
        "SELECT pg_temp.st_logloss(g %% 2 = 0, 0.3) FROM generate_series(1, 10) g",
        "ml.log_loss_combine", ["ml.log_loss_final"]),
    "roc_auc": (
        "SELECT pg_temp.st_roc(g %% 2 = 0, g * 0.1) FROM generate_series(1, 10) g",
        "ml.roc_auc_combine", ["ml.roc_auc_final", "ml._roc_auc_final_or_null"]),
    "array_avg": (
        "SELECT pg_temp.st_avg(ARRAY[g, g * 2]::float8[]) FROM generate_series(1, 10) g",
        "ml._array_avg_combine", ["ml._array_avg_final"]),
}

# the transition aggregates without a final function: their value is the state
STATE_AGGREGATES = [
    "st_linreg(float8, float8[]) (SFUNC = ml.linreg_sfunc, STYPE = bytea)",
    "st_linreg(float8, float8[], float8, boolean) (SFUNC = ml.linreg_sfunc, STYPE = bytea)",
    "st_enet(float8, float8[], float8, float8) (SFUNC = ml._enet_sfunc, STYPE = bytea)",
    "st_pca(float8[]) (SFUNC = ml._pca_sfunc, STYPE = bytea)",
    "st_glm(float8, float8[], bytea) (SFUNC = ml._glm_pass_sfunc, STYPE = bytea)",
    "st_kmeans(float8[], bytea) (SFUNC = ml._kmeans_pass_sfunc, STYPE = bytea)",
    "st_softmax(int4, float8[], bytea, boolean) (SFUNC = ml._softmax_pass_sfunc, STYPE = bytea)",
    "st_nbayes(int, float8[], int) (SFUNC = ml._naive_bayes_sfunc, STYPE = bytea)",
    "st_linreg_train(float8, boolean, boolean, bytea, VARIADIC \"any\") (SFUNC = ml._linreg_train_sfunc, STYPE = bytea)",
    "st_tree_sample(float8[], float8, bigint) (SFUNC = ml._tree_sample_sfunc, STYPE = bytea)",
    "st_regm(float8, float8) (SFUNC = ml.regression_metrics_sfunc, STYPE = bytea)",
    "st_conf(text, text) (SFUNC = ml.confusion_sfunc, STYPE = bytea)",
    "st_logloss(boolean, float8) (SFUNC = ml.log_loss_sfunc, STYPE = bytea)",
    "st_roc(boolean, float8) (SFUNC = ml.roc_auc_sfunc, STYPE = bytea)",
    "st_avg(float8[]) (SFUNC = ml._array_avg_sfunc, STYPE = bytea)",
]

# the transition function and argument types of each family's st_ aggregate
# (as used by its SQL in FAMILIES), for aggregates that start from a crafted
# INITCOND: the transition function then meets the crafted state first
SFUNC_SIGNATURES = {
    "linreg": ("st_linreg", "float8, float8[]", "ml.linreg_sfunc"),
    "linreg_ridge": ("st_linreg", "float8, float8[], float8, boolean", "ml.linreg_sfunc"),
    "enet": ("st_enet", "float8, float8[], float8, float8", "ml._enet_sfunc"),
    "pca": ("st_pca", "float8[]", "ml._pca_sfunc"),
    "glm": ("st_glm", "float8, float8[], bytea", "ml._glm_pass_sfunc"),
    "kmeans": ("st_kmeans", "float8[], bytea", "ml._kmeans_pass_sfunc"),
    "softmax": ("st_softmax", "int4, float8[], bytea, boolean", "ml._softmax_pass_sfunc"),
    "nbayes": ("st_nbayes", "int, float8[], int", "ml._naive_bayes_sfunc"),
    "linreg_train": ("st_linreg_train", 'float8, boolean, boolean, bytea, VARIADIC "any"', "ml._linreg_train_sfunc"),
    "tree_sample": ("st_tree_sample", "float8[], float8, bigint", "ml._tree_sample_sfunc"),
    "regression_metrics": ("st_regm", "float8, float8", "ml.regression_metrics_sfunc"),
    "confusion": ("st_conf", "text, text", "ml.confusion_sfunc"),
    "log_loss": ("st_logloss", "boolean, float8", "ml.log_loss_sfunc"),
    "roc_auc": ("st_roc", "boolean, float8", "ml.roc_auc_sfunc"),
    "array_avg": ("st_avg", "float8[]", "ml._array_avg_sfunc"),
}

_D = [float("nan"), float("inf"), float("-inf"), 1e308, -1e308, -1.0, 0.0, 5e-324]
_I64 = [-1, 0, 2 ** 62, 2 ** 63 - 1, -2 ** 63, 1 << 31]
_I32 = [-1, 0, 2 ** 31 - 1, -2 ** 31, 1 << 20, 3, 2001]


def crafted(state, rng, body_samples=40):
    """Values derived from a valid state by one change each: (what, bytes)."""
    n = len(state)
    out = [("empty", b""), ("4 bytes", state[:4]), ("16 bytes", state[:16]),
           ("one byte short", state[:-1]), ("8 bytes short", state[:-8]),
           ("half", state[:n // 2]), ("8 bytes longer", state + b"\0" * 8),
           ("doubled", state + state)]
    head = min(n, 128)
    offsets = list(range(0, head, 4))
    body = list(range(head - head % 8, n - 7, 8))
    offsets += rng.sample(body, min(len(body), body_samples))
    for off in offsets:
        for v in _I32:
            if off + 4 <= n:
                out.append(("int32 %d at %d" % (v, off), state[:off] + struct.pack("=i", v) + state[off + 4:]))
        if off % 8 == 0 and off + 8 <= n:
            for v in _D:
                out.append(("double %r at %d" % (v, off), state[:off] + struct.pack("=d", v) + state[off + 8:]))
            for v in _I64:
                out.append(("int64 %d at %d" % (v, off), state[:off] + struct.pack("=q", v) + state[off + 8:]))
    # everything past the header NaN, or zero
    if n > 64:
        out.append(("NaN body", state[:64] + struct.pack("=d", float("nan")) * ((n - 64) // 8) + b"\0" * ((n - 64) % 8)))
        out.append(("zero body", state[:64] + b"\0" * (n - 64)))
    return out


def _setup(conn):
    q(conn, "CREATE FUNCTION pg_temp.take(s bytea, v bytea) RETURNS bytea"
            " LANGUAGE sql IMMUTABLE AS 'SELECT v'")
    for a in STATE_AGGREGATES:
        q(conn, "CREATE AGGREGATE pg_temp." + a)
    done = set()
    for _sql, combine, fins in FAMILIES.values():
        cname = combine.split(".")[1]
        for f in fins:
            fname = f.split(".")[1]
            if f not in done:
                q(conn, "CREATE AGGREGATE pg_temp.f_%s(bytea) (SFUNC = pg_temp.take, STYPE = bytea,"
                        " FINALFUNC = %s)" % (fname, f))
                done.add(f)
            if (combine, f) in done:
                continue
            done.add((combine, f))
            q(conn, "CREATE AGGREGATE pg_temp.cf_%s_%s(bytea) (SFUNC = %s, STYPE = bytea,"
                    " FINALFUNC = %s)" % (cname, fname, combine, f))


def test_crafted_states_never_internal_errors():
    conn = connect()
    bad = []
    calls = 0
    try:
        q(conn, "SET statement_timeout = '20s'")
        _setup(conn)
        # the current models of the passes, trained by ml.train on a small table
        q(conn, "DROP TABLE IF EXISTS public.crafted_data")
        q(conn, """CREATE TABLE public.crafted_data AS
                   SELECT (g % 5)::float8 AS x1, (g % 3)::float8 AS x2, (g % 2) AS yes,
                          (ARRAY['a', 'b', 'c'])[g % 3 + 1] AS cls, g * 1.5 AS y
                   FROM generate_series(1, 60) g""")
        for name, alg, target, opts in [("cr_logreg", "logistic_regression", "yes", "{}"),
                                        ("cr_softmax", "logistic_regression", "cls", "{}"),
                                        ("cr_kmeans", "kmeans", None, '{"k": 2}'),
                                        ("cr_linreg", "linear_regression", "y", "{}")]:
            q(conn, "SELECT * FROM ml.train(%s, 'public.crafted_data', %s, %s, ARRAY['x1', 'x2'], %s::jsonb)",
              (name, target, alg, opts))
        current = {"glm": "cr_logreg", "kmeans": "cr_kmeans", "softmax": "cr_softmax",
                   "linreg_train": "cr_linreg"}
        rng = random.Random(21)
        for fam, (sql, combine, finals) in sorted(FAMILIES.items()):
            args = None
            if fam in current:
                args = (psycopg2.Binary(bytes(q(conn, "SELECT ml.model(%s)", (current[fam],))[0][0])),)
            rows = q(conn, sql, args) if args else q(conn, sql.replace("%%", "%"))
            check(rows and rows[0][0] is not None, "no valid %s state" % fam)
            valid = bytes(rows[0][0])
            # the valid state passes every function (else the test proves nothing)
            for f in finals:
                q(conn, "SELECT pg_temp.f_%s(v) FROM (VALUES (%%s::bytea)) t(v)" % f.split(".")[1],
                  (psycopg2.Binary(valid),))
            cname = combine.split(".")[1]
            for what, st in crafted(valid, rng):
                tries = ["SELECT pg_temp.f_%s(%%s::bytea)" % f.split(".")[1] for f in finals]
                tries += ["SELECT pg_temp.cf_%s_%s(v ORDER BY o) FROM (VALUES (1, %%s::bytea), (2, %%s::bytea)) t(o, v)"
                          % (cname, f.split(".")[1]) for f in finals]
                for t in tries:
                    for params in ([st], [st, valid], [valid, st]) if "cf_" in t else ([st],):
                        if t.count("%s") != len(params):
                            continue
                        calls += 1
                        try:
                            q(conn, t, [psycopg2.Binary(p) for p in params])
                        except psycopg2.OperationalError as e:
                            raise Failure("%s state %s (%s): the connection was lost: %s" % (fam, what, t, e))
                        except psycopg2.Error as e:
                            if e.pgcode is None or e.pgcode.startswith("XX"):
                                bad.append("%s, %s, %s: %s %s" % (fam, what, t.split("(")[0][7:],
                                                                 e.pgcode, (e.pgerror or "").splitlines()[0]))
            # a sample of the crafted states as the initial state of the
            # transition function, then the family's first final function
            st_name, argtypes, sfunc = SFUNC_SIGNATURES[fam]
            sample = rng.sample(crafted(valid, rng), 25)
            for i, (what, st) in enumerate(sample):
                q(conn, "CREATE AGGREGATE pg_temp.init_%s_%d(%s) (SFUNC = %s, STYPE = bytea,"
                        " FINALFUNC = %s, INITCOND = '\\x%s')" % (fam, i, argtypes, sfunc, finals[0], st.hex()))
                t = sql.replace("pg_temp.%s(" % st_name, "pg_temp.init_%s_%d(" % (fam, i))
                calls += 1
                try:
                    q(conn, t, args) if args else q(conn, t.replace("%%", "%"))
                except psycopg2.OperationalError as e:
                    raise Failure("%s initial state %s: the connection was lost: %s" % (fam, what, e))
                except psycopg2.Error as e:
                    if e.pgcode is None or e.pgcode.startswith("XX"):
                        bad.append("%s, initial state %s, %s: %s %s" % (fam, what, sfunc, e.pgcode,
                                                                       (e.pgerror or "").splitlines()[0]))
        check(q(conn, "SELECT 1")[0][0] == 1, "server does not answer")
    finally:
        conn.close()
    print("    %d calls, %d internal errors" % (calls, len(bad)))
    if bad:
        raise Failure("%d crafted states gave internal errors, e.g.:\n      %s" % (len(bad), "\n      ".join(bad[:int(os.environ.get("CRAFTED_SHOW", "15"))])))
