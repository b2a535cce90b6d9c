"""No value ml_ext returns carries memory it did not write (issue 21, item 1).

A backend's memory is reused: what one statement frees, the next one's
palloc may hand out again.  A function that returns a buffer it did not
fill completely (a state with room for more rows, struct padding copied
into a bytea) returns whatever was there before -- in the issue, API keys
a SECURITY DEFINER function had read in the same session.

The test fills the backend with a marker string (sorts, string_agg,
arrays, a temp table, all freed again), then calls EVERY function and
aggregate of the extension, enumerated from the catalog (pg_depend on the
extension, so functions added later are covered without editing this
file), with small arguments built from their types and names, and asserts
that the marker appears in no result and no error message: not in text,
bytea, jsonb or arrays, and not as the bytes of any float8 either.  The
calls run as an unprivileged role, as the attack did.
"""

import itertools
import json
import struct

import psycopg2

from seclib import Failure, check, connect, make_role, q, q1

MARKER = "SECRET-MARKER-7f3a"
ROLE = "sec_marker"

# pieces of the marker that no honest output contains
_FRAGMENTS = [MARKER[i:i + 10].encode() for i in range(0, len(MARKER) - 9)]
# the 8-byte windows of the repeated marker: a float8 made of these bytes
# came out of the marker
_WINDOWS = {(MARKER * 2).encode()[i:i + 8] for i in range(len(MARKER))}

# Functions called with fixed arguments of their own instead of the
# generated ones (they change the registry), in this order, last.
_FIXED_LAST = ("ml.train", "ml.deploy", "ml.drop_model")

# Functions not called at all, and why.  Keep this list small.  (None so
# far.  The support functions of aggregates are called directly too, where
# they refuse with 0A000 outside an aggregate, and really run through their
# aggregates, each called serially and in a parallel plan, whose leader runs
# the combine and final functions.)
NOT_CALLED = {}

ALGORITHMS = [
    # (model name, algorithm, target, features, options)
    ("mk_linreg", "linear_regression", "y", ["x1", "x2"], {}),
    ("mk_linreg_cat", "linear_regression", "y", ["x1", "x2", "c"], {}),
    ("mk_logreg", "logistic_regression", "label", ["x1", "x2"], {}),
    ("mk_softmax", "logistic_regression", "label3", ["x1", "x2"], {}),
    ("mk_poisson", "poisson_regression", "cnt", ["x1", "x2"], {}),
    ("mk_lasso", "lasso", "y", ["x1", "x2"], {}),
    ("mk_enet", "elastic_net", "y", ["x1", "x2"], {}),
    ("mk_pca", "pca", None, ["x1", "x2"], {}),
    ("mk_kmeans", "kmeans", None, ["x1", "x2"], {"k": 2}),
    ("mk_nbayes", "naive_bayes", "label", ["x1", "x2"], {}),
    ("mk_dtree", "decision_tree", "label", ["x1", "x2"], {}),
    ("mk_rforest", "random_forest", "y", ["x1", "x2"], {"n_estimators": 3}),
    ("mk_gboost", "gradient_boosting", "label3", ["x1", "x2"], {"n_estimators": 3}),
]

# a valid bins argument of ml._tree_gather for two features, one cut each
# (native byte order, as the driver builds it)
_BINS = struct.pack("=Iii", 0x4D4C5442, 2, 1) + struct.pack("=i", 1) + struct.pack("=dd", 0.5, 0.5)


def _setup():
    """The data table, the role, and one trained model per algorithm."""
    admin = connect()
    try:
        q(admin, "DROP TABLE IF EXISTS public.marker_data, public.marker_g")
        q(admin, "CREATE TABLE public.marker_g WITH (parallel_workers = 2) AS SELECT g FROM generate_series(1, 3) g")
        q(admin, """CREATE TABLE public.marker_data AS
                    SELECT g AS id, (g * 0.37 + (g % 7))::float8 AS y,
                           (CASE WHEN g % 2 = 0 THEN 'yes' ELSE 'no' END) AS label,
                           (ARRAY['red', 'green', 'blue'])[g % 3 + 1] AS label3,
                           (g % 5) AS cnt, (g % 11)::float8 AS x1, (g * 1.5 % 13)::float8 AS x2,
                           (ARRAY['p', 'q'])[g % 2 + 1] AS c
                    FROM generate_series(1, 60) g""")
    finally:
        admin.close()
    make_role(ROLE)
    admin = connect()
    try:
        q(admin, "GRANT SELECT ON public.marker_data, public.marker_g TO %s" % ROLE)
        q(admin, "GRANT USAGE ON SCHEMA ml TO %s" % ROLE)
    finally:
        admin.close()
    conn = connect(ROLE)
    for name, alg, target, feats, opts in ALGORITHMS:
        q(conn, "SELECT * FROM ml.train(%s, 'public.marker_data', %s, %s, %s, %s::jsonb)",
          (name, target, alg, feats, json.dumps(opts)))
    models = {}
    for name, alg, _t, _f, _o in ALGORITHMS:
        models[name] = bytes(q1(conn, "SELECT ml.model(%s)", (name,)))
    # models of the aggregates, which are built differently from ml.train's
    for name, sql in [
            ("agg_linreg", "SELECT ml.linreg_fit(g * 1.0, ARRAY[g % 5, g % 3]::float8[]) FROM generate_series(1, 20) g"),
            ("agg_lasso", "SELECT ml.lasso_fit(g * 1.0, ARRAY[g % 5, g % 3]::float8[], 0.1) FROM generate_series(1, 20) g"),
            ("agg_pca", "SELECT ml.pca_fit(ARRAY[g % 5, g % 3]::float8[]) FROM generate_series(1, 20) g"),
            ("agg_nbayes", "SELECT ml.naive_bayes_fit(g % 2, ARRAY[g % 5, g % 3]::float8[], 2) FROM generate_series(1, 20) g")]:
        models[name] = bytes(q1(conn, sql))
    return conn, models


def _fill(conn):
    """Leave the marker all over the backend's freed memory."""
    m = MARKER
    q(conn, "SELECT count(*) FROM (SELECT repeat(%s, g %% 300 + 1) || g AS s"
            " FROM generate_series(1, 2000) g ORDER BY 1 DESC) t", (m,))
    q(conn, "SELECT length(string_agg(repeat(%s, 64) || g, ',')) FROM generate_series(1, 2000) g", (m,))
    q(conn, "SELECT cardinality(array_agg(convert_to(repeat(%s, (g %% 97) + 1), 'UTF8')))"
            " FROM generate_series(1, 3000) g", (m,))
    q(conn, "SELECT sum(length(s)) FROM (SELECT s FROM pg_temp.marker_secrets ORDER BY s) t")
    q(conn, "SELECT count(*) FROM (SELECT DISTINCT repeat(%s, g %% 1000 + 1) FROM generate_series(1, 600) g) t", (m,))


def _leaks(value):
    """Whether a fetched value carries the marker (recursively)."""
    if value is None or isinstance(value, (bool, int)):
        return False
    if isinstance(value, float):
        return struct.pack("=d", value) in _WINDOWS
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return any(f in value for f in _FRAGMENTS)
    if isinstance(value, (list, tuple)):
        return any(_leaks(v) for v in value)
    if isinstance(value, dict):
        return _leaks(json.dumps(value))
    return _leaks(str(value))


def _catalog(conn):
    """Every function and aggregate of ml_ext: (signature, name, kind, in-args, retset)."""
    rows = q(conn, """
        SELECT p.oid::regprocedure::text, n.nspname || '.' || p.proname, p.prokind, p.proretset,
               p.proargtypes::oid[], p.proallargtypes, p.proargmodes, p.proargnames, p.provariadic
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
             AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'ml_ext'
        ORDER BY 1""")
    types = dict(q(conn, "SELECT oid, format_type(oid, NULL) FROM pg_catalog.pg_type"))
    out = []
    for sig, name, kind, retset, argtypes, allargs, modes, names, variadic in rows:
        if modes is None:
            ins = [(names[i] if names and i < len(names) else "", types[t]) for i, t in enumerate(argtypes)]
        else:
            ins = [(names[i] if names else "", types[t]) for i, t in enumerate(allargs)
                   if modes[i] in ("i", "b", "v")]
        out.append((sig, name, kind, retset, ins, variadic != 0))
    return out


def _candidates(fname, argname, typ, models, names, agg):
    """SQL expressions (with parameters) to try for one argument."""
    g = "g" if agg else "2"
    all_models = [("%s::bytea", [m]) for m in models.values()]
    if typ == "bytea":
        if argname == "bins":
            return [("%s::bytea", [_BINS])]
        if argname == "encoder":
            # an encoder only needs input columns: x1, x2 (and c)
            return [("%s::bytea", [models["mk_linreg"]]), ("%s::bytea", [models["mk_linreg_cat"]])]
        if argname in ("model", "current"):
            return all_models
        # states handed in directly (their functions need an aggregate)
        return [("%s::bytea", [models["mk_linreg"]])]
    if typ == "double precision[]":
        return [("ARRAY[%s, %s * 2]::float8[]" % (g, g), [])]
    if typ == "double precision":
        return {"fraction": [("1.0::float8", [])],
                "probability": [("0.7::float8", [])],
                "score": [("(%s %% 3) * 0.3::float8" % g, [])],
                "lambda": [("0.1::float8", [])], "alpha": [("0.1::float8", [])],
                "l1_ratio": [("0.5::float8", [])], "tol": [("1e-4::float8", [])],
                "var_smoothing": [("1e-9::float8", [])],
                }.get(argname, [("(%s * 1.5)::float8" % g, [])])
    if typ == "integer":
        return {"class": [("(%s %% 2)" % g, [])] if agg else [("1", []), ("2", [])], "n_classes": [("2", [])],
                "n_components": [("1", [])], "max_iter": [("10", [])],
                "version": [("1", [])]}.get(argname, [("1", []), ("2", [])])
    if typ == "bigint":
        return [("1::bigint", [])]
    if typ == "boolean":
        if argname in ("held_out", "impute"):
            return [("false", [])]
        if argname in ("hessian", "fit_intercept"):
            return [("true", [])]
        return [("(%s %% 2 = 0)" % g, [])] if agg else [("true", [])]
    if typ == "text":
        if argname == "model_name":
            return [("%s::text", [n]) for n in names]
        if argname == "relation":
            return [("'public.marker_data'::text", [])]
        if argname in ("actual", "predicted", "positive"):
            return [("(ARRAY['a', 'b'])[%s %% 2 + 1]" % g, [])] if agg else [("'a'::text", [])]
        if argname == "distribution":
            return [("'gaussian'::text", []), ("'multinomial'::text", [])]
        if argname == "algorithm":
            return [("'linear_regression'::text", [])]
        return [("'public.marker_data'::text", []), ("'yes'::text", [])]
    if typ == "text[]":
        return [("ARRAY['x1', 'x2']::text[]", [])]
    if typ == "jsonb":
        return [("'{}'::jsonb", [])]
    if typ == "regrole":
        return [("current_user::regrole", [])]
    if typ == "record":
        return [("(SELECT t FROM public.marker_data t WHERE t.id = 2)", [])]
    if typ == '"any"':
        # the input columns of the encoder models (x1, x2; with c for mk_linreg_cat)
        return [("1.5::float8, 2.5::float8", []), ("1.5::float8, 2.5::float8, 'p'::text", [])]
    raise Failure("test_marker: no argument values for %s argument %r of type %s: extend _candidates"
                  % (fname, argname, typ))


def _calls(entry, models, names):
    """The statements to run for one function."""
    sig, name, kind, retset, ins, _variadic = entry
    agg = kind == "a"
    lists = [_candidates(name, a, t, models, names, agg) for a, t in ins]
    calls = []
    for combo in itertools.islice(itertools.product(*lists), 200):
        # literal % doubled for the driver; %s stays a parameter
        args = ", ".join(c[0].replace("%", "%%").replace("%%s", "%s") for c in combo)
        params = [p for c in combo for p in c[1]]
        if agg:
            # serially, and over a table in parallel workers (the combine
            # function runs in this backend, the leader)
            calls.append(("SELECT %s(%s) FROM generate_series(1, 3) g" % (name, args), params))
            sql = "SELECT %s(%s) FROM public.marker_g" % (name, args)
        else:
            sql = "SELECT * FROM %s(%s)" % (name, args)
        calls.append((sql, params))
    return calls


def _run(conn, sql, params, seen):
    """Run one call after filling memory; fail on the marker in its rows or error."""
    _fill(conn)
    try:
        rows = q(conn, sql, [psycopg2.Binary(p) if isinstance(p, bytes) else p for p in params])
    except psycopg2.Error as e:
        if e.pgcode in ("XX000", "XX001", "XX002") or e.pgcode is None:
            raise Failure("%s: internal error %s: %s" % (sql[:160], e.pgcode, e.pgerror))
        if _leaks(e.pgerror or "") or _leaks(str(e.diag.message_detail or "")):
            raise Failure("%s: the error message carries the marker: %s" % (sql[:160], e.pgerror[:300]))
        seen["errors"] += 1
        return
    seen["ok"] += 1

    for row in rows:
        if _leaks(list(row)):
            raise Failure("%s: result carries the marker %r (memory the function did not write)"
                          % (sql[:160], MARKER))


def test_no_foreign_bytes_in_any_result():
    conn, models = _setup()
    try:
        names = [a[0] for a in ALGORITHMS]
        q(conn, "SET statement_timeout = '30s'")
        # parallel plans for the aggregates over public.marker_g
        for setting in ("parallel_setup_cost = 0", "parallel_tuple_cost = 0",
                        "min_parallel_table_scan_size = 0", "max_parallel_workers_per_gather = 2"):
            q(conn, "SET " + setting)
        q(conn, "CREATE TEMP TABLE marker_secrets AS SELECT repeat(%s, g %% 200 + 1) || g AS s"
                " FROM generate_series(1, 3000) g", (MARKER,))
        entries = _catalog(conn)
        check(len(entries) > 100, "only %d functions of ml_ext found in the catalog" % len(entries))
        seen = {"ok": 0, "errors": 0}
        called = set()
        for entry in entries:
            sig, name = entry[0], entry[1]
            if sig in NOT_CALLED or name in _FIXED_LAST:
                continue
            for sql, params in _calls(entry, models, names):
                _run(conn, sql, params, seen)
            called.add(sig)
        # the registry-changing functions, with arguments of their own
        for name, alg, target, feats, opts in ALGORITHMS:
            _run(conn, "SELECT * FROM ml.train('marker_tmp', 'public.marker_data', %s, %s, %s, %s::jsonb)",
                 [target, alg, feats, json.dumps(opts)], seen)
        _run(conn, "SELECT * FROM ml.deploy('marker_tmp', 1)", [], seen)
        _run(conn, "SELECT * FROM ml.drop_model('marker_tmp', 2)", [], seen)
        _run(conn, "SELECT * FROM ml.drop_model('marker_tmp')", [], seen)
        called.update(e[0] for e in entries if e[1] in _FIXED_LAST)
        missing = [e[0] for e in entries if e[0] not in called and e[0] not in NOT_CALLED]
        check(not missing, "functions never called: %s" % missing)
        # enough calls got through to mean something
        print("    %d calls returned, %d raised an error" % (seen["ok"], seen["errors"]))
        check(seen["ok"] > 300, "only %d calls succeeded (%d errors): the arguments are off"
              % (seen["ok"], seen["errors"]))
    finally:
        conn.close()


def test_marker_check_can_fail():
    """The check itself finds the marker where it is (a test that cannot fail proves nothing)."""
    check(_leaks(MARKER), "marker in text not found")
    check(_leaks(memoryview(b"xx" + MARKER.encode() + b"yy")), "marker in bytea not found")
    check(_leaks([1.0, struct.unpack("=d", (MARKER * 2).encode()[3:11])[0]]), "marker float not found")
    check(_leaks({"k": "..." + MARKER[2:14] + "..."}), "marker in jsonb not found")
    check(not _leaks(["SECRET", 1.5, b"MARKER", {"a": 1}]), "false positive")
