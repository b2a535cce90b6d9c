"""search_path hijack (issue 14 item 1): nothing a hostile role plants runs.

An unprivileged role with CREATE on public (the pre-PostgreSQL-15 default,
which upgraded databases keep) plants in public an overload of every
built-in function the extension's code names, with the built-in's exact
argument types and narrower variants (int4 for int8, varchar for text, ...),
and operators over the common types.  A planted function records its name
and the role it ran as, bumps a sequence (which no rollback undoes), and
then does what the built-in does, or raises where forwarding is awkward
(aggregates, set-returning functions): an error counts as detection too.
Every public function of ml_ext then runs as a victim role and as a
superuser whose search_path is "public, pg_catalog", so that an unqualified
call in our SQL would reach the plant.  The list of names is derived from
the code at test time (ml_ext--1.0.sql, upgrade/1.0--1.1/*.sql, src/pg/*.c),
so a new call cannot slip by; the list of functions run is checked against
the extension's public functions, so a new function cannot either.

Each test uses a database of its own: the plants would disturb the others.
"""

import glob
import os
import re

import psycopg2

import seclib
from seclib import Failure, check, connect, q, q1

DB = "ml_sec_search_path"
DB_EXAMPLE = "ml_sec_search_path_example"
ATTACKER = "sec_sp_attacker"
VICTIM = "sec_sp_victim"
SUPER = "sec_sp_super"
HOSTILE_PATH = "public, pg_catalog"

# pseudo-types a PL/pgSQL function can take: the polymorphic ones
POLYMORPHIC = {
    "anyelement", "anyarray", "anynonarray", "anyenum", "anyrange", "anymultirange",
    "anycompatible", "anycompatiblearray", "anycompatiblenonarray",
    "anycompatiblerange", "anycompatiblemultirange",
}
# the narrower (or neighbouring) argument types an overload can trap a call with
NARROWER = {
    "bigint": ["integer", "smallint"],
    "integer": ["smallint"],
    "double precision": ["real", "integer", "bigint", "numeric"],
    "numeric": ["integer", "bigint"],
    "text": ["character varying", "name"],
    "jsonb": ["json"],
    "text[]": ["character varying[]"],
}
OPERATORS = ["=", "<>", "<", ">", "<=", ">=", "||", "+", "-", "*", "/", "->", "->>", "@>",
             "#>>", "#>", "&", "%"]
OPERATOR_TYPES = {"text", "integer", "bigint", "smallint", "double precision", "real", "numeric",
                  "boolean", "jsonb", "text[]", "bytea", "double precision[]"}


# ---------- the names the code uses ----------

def code_files():
    root = seclib.ROOT
    files = [os.path.join(root, "ml_ext--1.0.sql")]
    files += sorted(glob.glob(os.path.join(root, "upgrade", "1.0--1.1", "*.sql")))
    files += sorted(glob.glob(os.path.join(root, "src", "pg", "*.c")))
    return files


def code_identifiers():
    """Every identifier followed by "(" in the extension's SQL and glue code."""
    names = set()
    for path in code_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_$]*)\s*\(", text):
            names.add(m.group(1).lower())
    return names


def builtin_names(conn):
    """The identifiers of code_identifiers() that name functions in pg_catalog."""
    idents = sorted(code_identifiers())
    rows = q(conn, "SELECT DISTINCT proname::pg_catalog.text FROM pg_catalog.pg_proc "
                   "WHERE pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace "
                   "AND proname OPERATOR(pg_catalog.=) ANY (%s::pg_catalog.name[]) ORDER BY 1", (idents,))
    return [r[0] for r in rows]


# ---------- plants ----------

def qi(name):
    return '"%s"' % name.replace('"', '""')


def ql(s):
    return "'%s'" % s.replace("'", "''")


def declarable(typname, typtype):
    """Can a PL/pgSQL function take (or return) this type?"""
    if typtype != "p":
        return True
    return typname in POLYMORPHIC or typname == "record"


def signatures(conn, names):
    """pg_catalog's functions of these names that SQL can declare, with what
    a plant needs: (oid, name, kind, argument types, variadic, returns set,
    result, OUT parameters, arguments text, result text)."""
    rows = q(conn, """
        SELECT p.oid, p.proname::pg_catalog.text, p.prokind::pg_catalog.text,
               ARRAY(SELECT pg_catalog.format_type(t, NULL) FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY u(t, i) ORDER BY i),
               ARRAY(SELECT ty.typname::pg_catalog.text || ':' || ty.typtype::pg_catalog.text
                     FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY u(t, i)
                     JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) u.t ORDER BY i),
               p.provariadic OPERATOR(pg_catalog.<>) 0, p.proretset,
               pg_catalog.format_type(p.prorettype, NULL), rt.typname::pg_catalog.text, rt.typtype::pg_catalog.text,
               COALESCE(p.proargmodes::pg_catalog.text[] OPERATOR(pg_catalog.&&) ARRAY['o', 'b', 't'], false),
               pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
               COALESCE((SELECT a.aggkind::pg_catalog.text FROM pg_catalog.pg_aggregate a
                         WHERE a.aggfnoid OPERATOR(pg_catalog.=) p.oid), '')
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_type rt ON rt.oid OPERATOR(pg_catalog.=) p.prorettype
        WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
          AND p.proname OPERATOR(pg_catalog.=) ANY (%s::pg_catalog.name[])
        ORDER BY 2, 1""", (names,))
    out = []
    for (oid, name, kind, argtypes, argkinds, variadic, retset, rettype, retname, rettyptype,
         has_out, args_text, result_text, aggkind) in rows:
        if kind == "p":
            continue
        if not all(declarable(*k.rsplit(":", 1)) for k in argkinds):
            continue
        if kind == "a" and aggkind != "n":
            continue          # ordered-set and hypothetical-set aggregates
        if kind != "a" and not declarable(retname, rettyptype) and retname != "void":
            continue
        if variadic and (not argtypes or not argtypes[-1].endswith("[]")):
            continue
        out.append(dict(oid=oid, name=name, kind=kind, args=argtypes, variadic=variadic,
                        retset=retset, rettype=rettype, has_out=has_out, args_text=args_text,
                        result_text=result_text))
    return out


def record_hit(label):
    return ("PERFORM pg_catalog.nextval('public.sp_hits'::pg_catalog.regclass);\n"
            "  INSERT INTO public.sp_log(who, fn) VALUES (CURRENT_USER, %s);\n" % ql(label))


def plant_sql(sig, argtypes, counter):
    """CREATE statements planting public.<name> with these argument types."""
    name = sig["name"]
    label = "%s(%s)" % (name, ", ".join(argtypes))
    decl = []
    for i, t in enumerate(argtypes):
        decl.append(("VARIADIC " if sig["variadic"] and i == len(argtypes) - 1 else "") + t)
    decl = ", ".join(decl)
    header = "LANGUAGE plpgsql SET search_path = pg_catalog"
    if sig["kind"] == "a":
        sfunc = "public.sp_agg_sfunc_%d" % counter
        final = "public.sp_agg_final_%d" % counter
        return [
            "CREATE FUNCTION %s(state pg_catalog.int8%s) RETURNS pg_catalog.int8 %s AS $p$ BEGIN RETURN state; END $p$"
            % (sfunc, "".join(", " + t for t in argtypes), header),
            "CREATE FUNCTION %s(state pg_catalog.int8) RETURNS pg_catalog.int8 %s AS $p$ BEGIN\n  %s"
            "  RAISE EXCEPTION 'planted aggregate public.%% ran as %%', %s, CURRENT_USER;\nEND $p$"
            % (final, header, record_hit(label), ql(label)),
            "CREATE AGGREGATE public.%s(%s) (SFUNC = %s, STYPE = pg_catalog.int8, FINALFUNC = %s, INITCOND = '0')"
            % (qi(name), decl if argtypes else "*", sfunc, final),
        ]
    exact = argtypes == sig["args"]
    if sig["has_out"] and exact:
        # OUT parameters: declare it as pg_catalog does, and raise
        return ["CREATE FUNCTION public.%s(%s) RETURNS %s %s AS $p$ BEGIN\n  %s"
                "  RAISE EXCEPTION 'planted public.%% ran as %%', %s, CURRENT_USER;\nEND $p$"
                % (qi(name), sig["args_text"], sig["result_text"], header, record_hit(label), ql(label))]
    if sig["has_out"]:
        return []
    if sig["retset"] or sig["kind"] == "w" or sig["rettype"] == "record":
        returns = ("SETOF " if sig["retset"] else "") + sig["rettype"]
        return ["CREATE FUNCTION public.%s(%s) RETURNS %s %s AS $p$ BEGIN\n  %s"
                "  RAISE EXCEPTION 'planted public.%% ran as %%', %s, CURRENT_USER;\nEND $p$"
                % (qi(name), decl, returns, header, record_hit(label), ql(label))]
    # a scalar function: forward to the built-in, with the built-in's types
    call = []
    for i, (t, orig) in enumerate(zip(argtypes, sig["args"])):
        arg = "$%d" % (i + 1) if t == orig else "$%d::%s" % (i + 1, orig)
        call.append(("VARIADIC " if sig["variadic"] and i == len(argtypes) - 1 else "") + arg)
    target = "pg_catalog.%s(%s)" % (qi(name), ", ".join(call))
    body = ("PERFORM %s;" % target) if sig["rettype"] == "void" else ("RETURN %s;" % target)
    return ["CREATE FUNCTION public.%s(%s) RETURNS %s %s AS $p$ BEGIN\n  %s  %s\nEND $p$"
            % (qi(name), decl, sig["rettype"], header, record_hit(label), body)]


def variants(sig):
    """The exact argument types, then each argument narrowed in turn."""
    out = [list(sig["args"])]
    for i, t in enumerate(sig["args"]):
        if sig["variadic"] and i == len(sig["args"]) - 1:
            continue
        for n in NARROWER.get(t, []):
            v = list(sig["args"])
            v[i] = n
            out.append(v)
    return out


def plant_functions(attacker, names):
    """Plant every signature; returns the labels planted."""
    sigs = signatures(attacker, names)
    existing = {(s["name"], tuple(s["args"])) for s in sigs}
    planted = []
    counter = 0
    for sig in sigs:
        for argtypes in variants(sig):
            if argtypes != sig["args"] and (sig["name"], tuple(argtypes)) in existing:
                continue        # pg_catalog has it: planted as an exact overload
            key = (sig["name"], tuple(argtypes), sig["kind"] == "a")
            if key in planted:
                continue
            counter += 1
            stmts = plant_sql(sig, argtypes, counter)
            if not stmts:
                continue
            q(attacker, "SAVEPOINT plant")
            try:
                for s in stmts:
                    q(attacker, s)
            except psycopg2.Error as e:
                q(attacker, "ROLLBACK TO SAVEPOINT plant")
                # a narrower variant can clash with a plant already made
                # (same types, other kind); an exact one must go in
                if argtypes == sig["args"]:
                    raise Failure("could not plant %s(%s): %s" % (sig["name"], ", ".join(argtypes), e.pgerror))
                continue
            q(attacker, "RELEASE SAVEPOINT plant")
            planted.append(key)
    return planted


def plant_operators(attacker):
    rows = q(attacker, """
        SELECT o.oprname::pg_catalog.text,
               CASE WHEN o.oprleft OPERATOR(pg_catalog.=) 0 THEN NULL ELSE pg_catalog.format_type(o.oprleft, NULL) END,
               pg_catalog.format_type(o.oprright, NULL), pg_catalog.format_type(o.oprresult, NULL)
        FROM pg_catalog.pg_operator o
        WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
          AND o.oprname OPERATOR(pg_catalog.=) ANY (%s::pg_catalog.name[])
        ORDER BY 1, 2, 3""", (OPERATORS,))
    n = 0
    for op, left, right, result in rows:
        if right not in OPERATOR_TYPES or (left is not None and left not in OPERATOR_TYPES):
            continue
        n += 1
        fn = "public.sp_op_%d" % n
        label = "operator %s(%s, %s)" % (op, left, right)
        if left is None:
            q(attacker, "CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog "
                        "AS $p$ BEGIN\n  %s  RETURN OPERATOR(pg_catalog.%s) $1;\nEND $p$"
                        % (fn, right, result, record_hit(label), op))
            q(attacker, "CREATE OPERATOR public.%s (RIGHTARG = %s, FUNCTION = %s)" % (op, right, fn))
        else:
            q(attacker, "CREATE FUNCTION %s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog "
                        "AS $p$ BEGIN\n  %s  RETURN $1 OPERATOR(pg_catalog.%s) $2;\nEND $p$"
                        % (fn, left, right, result, record_hit(label), op))
            q(attacker, "CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)"
                        % (op, left, right, fn))
    return n


# ---------- the data and the calls ----------

def setup_db(db):
    seclib.fresh_db(db)
    for role, sup in ((ATTACKER, False), (VICTIM, False), (SUPER, True)):
        seclib.make_role(role, superuser=sup)
    admin = connect(db=db)
    q(admin, "SET search_path = pg_catalog")
    q(admin, "GRANT CREATE ON SCHEMA public TO PUBLIC")
    q(admin, "GRANT USAGE ON SCHEMA ml TO %s" % VICTIM)
    return admin


def make_data(admin):
    q(admin, """
        CREATE TABLE public.sp_reg AS
        SELECT i::pg_catalog.float8 AS x1,
               (i OPERATOR(pg_catalog.%) 7)::pg_catalog.int4 AS x2,
               CASE WHEN i OPERATOR(pg_catalog.%) 10 OPERATOR(pg_catalog.=) 0 THEN NULL
                    ELSE ((i OPERATOR(pg_catalog.*) 13) OPERATOR(pg_catalog.%) 5)::pg_catalog.float8 END AS x3,
               (ARRAY['a', 'b', 'c'])[(i OPERATOR(pg_catalog.%) 3) OPERATOR(pg_catalog.+) 1] AS cat,
               i OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 0 AS flag,
               (i OPERATOR(pg_catalog.%) 2)::pg_catalog.int4 AS k2,
               ARRAY[(i OPERATOR(pg_catalog.%) 5)::pg_catalog.float8, (i OPERATOR(pg_catalog.%) 3)::pg_catalog.float8] AS arr,
               ((i OPERATOR(pg_catalog.%) 17)::pg_catalog.float8 OPERATOR(pg_catalog.+) (i OPERATOR(pg_catalog.%) 7)) AS y,
               (i OPERATOR(pg_catalog.%) 17) OPERATOR(pg_catalog.>=) 8 AS yb,
               (ARRAY['lo', 'mid', 'hi'])[((i OPERATOR(pg_catalog.%) 17) OPERATOR(pg_catalog./) 6) OPERATOR(pg_catalog.+) 1] AS yc
        FROM pg_catalog.generate_series(1, 1200) i""")
    q(admin, "GRANT SELECT ON public.sp_reg TO PUBLIC")


def train_calls(prefix):
    """(label, sql): an ml.train for every algorithm and pass structure."""
    t = "SELECT * FROM ml.train(%s, %s, %s, %s, %s, %s::jsonb)"

    def call(name, rel, target, alg, features="NULL", options="{}"):
        return ("train " + alg + " " + name,
                t % (ql(prefix + name), ql(rel), "NULL" if target is None else ql(target), ql(alg),
                     features, ql(options)))
    return [
        call("lin", "sp_reg", "y", "linear_regression", "NULL", '{"exclude": ["yb", "yc", "k2"]}'),
        call("lin_split", "public.sp_reg", "y", "linear_regression", "ARRAY['x1', 'x2', 'cat', 'flag', 'arr']",
             '{"test_fraction": 0.25, "seed": 3}'),
        call("lin_nulls", "(SELECT x1, x3, y FROM sp_reg)", "y", "linear_regression"),
        call("poisson", "sp_reg", "y", "poisson_regression", "ARRAY['x1', 'x2', 'cat']", '{"test_fraction": 0.2}'),
        call("lasso", "sp_reg", "y", "lasso", "ARRAY['x1', 'x2', 'arr']"),
        call("enet", "sp_reg", "y", "elastic_net", "ARRAY['x1', 'x2', 'flag']", '{"test_fraction": 0.2}'),
        call("pca", "sp_reg", None, "pca", "ARRAY['x1', 'x2', 'arr']", '{"n_components": 2}'),
        call("kmeans", "sp_reg", None, "kmeans", "ARRAY['x1', 'x2']", '{"k": 3, "sample_rows": 1000}'),
        call("logreg", "sp_reg", "yb", "logistic_regression", "ARRAY['x1', 'x2', 'cat']", '{"test_fraction": 0.2}'),
        call("logreg_irls", "sp_reg", "yb", "logistic_regression", "ARRAY['x1', 'x3', 'flag']",
             '{"class_weight": {"true": 2}}'),
        call("softmax", "sp_reg", "yc", "logistic_regression", "ARRAY['x1', 'x2']", '{"lambda": 1}'),
        call("nb", "sp_reg", "yc", "naive_bayes", "ARRAY['x1', 'x2', 'cat']", '{"test_fraction": 0.2}'),
        call("nb_bool", "sp_reg", "yb", "naive_bayes", "ARRAY['x1', 'x2']"),
        call("dt", "sp_reg", "y", "decision_tree", "ARRAY['x1', 'x2', 'x3', 'cat']", '{"max_depth": 3}'),
        call("rf", "sp_reg", "yc", "random_forest", "ARRAY['x1', 'x2', 'arr']",
             '{"n_estimators": 5, "max_depth": 3, "test_fraction": 0.2}'),
        call("gb", "sp_reg", "yb", "gradient_boosting", "ARRAY['x1', 'x2', 'cat']",
             '{"n_estimators": 5, "max_depth": 2, "test_fraction": 0.25, "early_stopping_rounds": 2}'),
        call("gb_multi", "sp_reg", "yc", "gradient_boosting", "ARRAY['x1', 'x2']", '{"n_estimators": 3, "max_depth": 2}'),
        call("gb_reg", "sp_reg", "y", "gradient_boosting", "ARRAY['x1', 'x2']", '{"n_estimators": 3, "max_depth": 2}'),
    ]


def model_calls(prefix, models):
    """(label, sql, args): every other public function, by name and by bytes."""
    calls = []

    def add(fn, sql, args=None):
        calls.append((fn, sql, args))
    n = lambda name: ql(prefix + name)  # noqa: E731
    x2 = "ARRAY[3, 1]::float8[]"
    for name, fns in (("lin", ["predict"]), ("logreg", ["predict", "predict_proba", "predict_label", "classes"]),
                      ("softmax", ["predict_proba", "predict_label", "classes"]),
                      ("nb", ["predict_proba", "predict_label", "classes"]),
                      ("rf", ["predict_proba", "predict_label", "classes"]),
                      ("pca", ["transform"]), ("kmeans", ["predict"])):
        # the array form where the model's features are two numeric columns
        feats = x2 if name in ("softmax", "kmeans") else None
        for fn in fns:
            if fn == "classes":
                add("classes", "SELECT ml.classes(%s)" % n(name))
                add("classes", "SELECT ml.classes(%s::bytea)", (models[name],))
                continue
            add(fn, "SELECT ml.%s(%s, r) FROM public.sp_reg r LIMIT 5" % (fn, n(name)))
            add(fn, "SELECT ml.%s(%%s::bytea, r) FROM public.sp_reg r LIMIT 5" % fn, (models[name],))
            if feats:
                add(fn, "SELECT ml.%s(%s, %s)" % (fn, n(name), feats))
                add(fn, "SELECT ml.%s(%%s::bytea, %s)" % (fn, feats), (models[name],))
    add("predict", "SELECT ml.predict(%s, ARRAY[1, 2]::float8[])" % n("kmeans"))
    for fn, name in (("components", "pca"), ("centroids", "kmeans"), ("feature_importance", "gb"),
                     ("trees", "dt")):
        add(fn, "SELECT * FROM ml.%s(%s)" % (fn, n(name)))
        add(fn, "SELECT * FROM ml.%s(%%s::bytea)" % fn, (models[name],))
    add("coefficients", "SELECT * FROM ml.coefficients(%s::bytea)", (models["lin"],))
    add("coefficients", "SELECT * FROM ml.coefficients(ml.model(%s))" % n("logreg"))
    add("class_coefficients", "SELECT * FROM ml.class_coefficients(%s::bytea)", (models["softmax"],))
    add("model_info", "SELECT ml.model_info(%s::bytea)", (models["gb"],))
    add("model_info", "SELECT ml.model_info(ml.model(%s))" % n("kmeans"))
    add("model", "SELECT ml.model(%s)" % n("rf"))
    add("training_info", "SELECT * FROM ml.training_info(%s)" % n("lin_split"))
    for fn in ("evaluate", "confusion_matrix", "roc_curve"):
        name = "lin" if fn == "evaluate" else "logreg"
        add(fn, "SELECT * FROM ml.%s(%s, 'sp_reg')" % (fn, n(name)))
        add(fn, "SELECT * FROM ml.%s(%s, '(SELECT * FROM sp_reg)')" % (fn, n(name)))
    add("evaluate", "SELECT * FROM ml.evaluate(%s, 'public.sp_reg')" % n("softmax"))
    add("confusion_matrix", "SELECT * FROM ml.confusion_matrix(%s, 'sp_reg')" % n("nb"))
    add("deploy", "SELECT ml.deploy(%s, 1)" % n("lin"))
    add("drop_model", "SELECT ml.drop_model(%s, 1)" % n("enet"))
    add("drop_model", "SELECT ml.drop_model(%s, NULL)" % n("gb_reg"))
    # to the role that runs it (a member of both, as set_owner requires)
    add("set_owner", "SELECT ml.set_owner(%s, CURRENT_USER::pg_catalog.regrole)" % n("lin_nulls"))
    # the aggregates, over literal rows (no operator of ours in the query)
    vals_b = "(VALUES (true, false, 0.2::float8), (false, false, 0.4), (true, true, 0.9), (false, true, 0.6)) v(a, p, s)"
    vals_t = "(VALUES ('x', 'x'), ('y', 'x'), ('x', 'y'), ('y', 'y')) v(a, p)"
    vals_f = "(VALUES (1.0::float8, 1.5::float8), (2, 2.5), (3, 2.0), (4, 4.5)) v(a, p)"
    for agg in ("accuracy", "precision", "recall", "f1"):
        add(agg, "SELECT ml.%s(a, p) FROM %s" % (agg, vals_b))
        add(agg, "SELECT ml.%s(a, p) FROM %s" % (agg, vals_t))
        if agg != "accuracy":
            add(agg, "SELECT ml.%s(a, p, 'x') FROM %s" % (agg, vals_t))
    add("log_loss", "SELECT ml.log_loss(a, s) FROM %s" % vals_b)
    add("roc_auc", "SELECT ml.roc_auc(a, s) FROM %s" % vals_b)
    for agg in ("r2", "mse", "rmse", "mae", "explained_variance"):
        add(agg, "SELECT ml.%s(a, p) FROM %s" % (agg, vals_f))
    rows = "public.sp_reg r"
    add("linreg_fit", "SELECT ml.linreg_fit(r.y, r.arr) FROM %s" % rows)
    add("linreg_fit", "SELECT ml.linreg_fit(r.y, r.arr, 0.5) FROM %s" % rows)
    add("linreg_fit", "SELECT ml.linreg_fit(r.y, r.arr, 0.5, false) FROM %s" % rows)
    add("lasso_fit", "SELECT ml.lasso_fit(r.y, r.arr, 0.1) FROM %s" % rows)
    add("elastic_net_fit", "SELECT ml.elastic_net_fit(r.y, r.arr, 0.1, 0.5) FROM %s" % rows)
    add("naive_bayes_fit", "SELECT ml.naive_bayes_fit(r.k2, r.arr, 2) FROM %s" % rows)
    add("naive_bayes_fit", "SELECT ml.naive_bayes_fit(r.k2, r.arr, 2, 'multinomial') FROM %s" % rows)
    add("pca_fit", "SELECT ml.pca_fit(r.arr) FROM %s" % rows)
    add("pca_fit", "SELECT ml.pca_fit(r.arr, 1) FROM %s" % rows)
    return calls


def public_functions(admin):
    """The extension's public functions (not internal, not aggregate support)."""
    rows = q(admin, "SELECT DISTINCT proname::pg_catalog.text FROM pg_catalog.pg_proc "
                    "WHERE pronamespace OPERATOR(pg_catalog.=) 'ml'::pg_catalog.regnamespace")
    return {r[0] for r in rows
            if not r[0].startswith("_") and not re.search(r"_(sfunc|final|combine)$", r[0])}


def run_as(role, admin, prefix):
    """Run every call as role with the hostile search_path; the failures."""
    conn = connect(role, db=DB)
    errors = []
    called = set()
    try:
        q(conn, "SET search_path = " + HOSTILE_PATH)
        for label, sql in train_calls(prefix):
            called.add("train")
            try:
                q(conn, sql)
            except psycopg2.Error as e:
                errors.append("%s: %s %s" % (label, e.pgcode, (e.pgerror or "").strip().splitlines()[0]))
        models = {}
        for name in ("lin", "logreg", "softmax", "nb", "rf", "pca", "kmeans", "gb", "dt"):
            rows = q(admin, "SELECT model FROM ml.models WHERE name OPERATOR(pg_catalog.=) %s "
                            "ORDER BY version DESC LIMIT 1", (prefix + name,))
            if not rows:
                # the training failed (said above): the other calls need it
                errors.append("no model %s%s to run the other functions with" % (prefix, name))
                return errors, called | {"(skipped)"}
            models[name] = bytes(rows[0][0])
        for fn, sql, args in model_calls(prefix, models):
            called.add(fn)
            try:
                q(conn, sql, args)
            except psycopg2.Error as e:
                errors.append("%s: %s %s" % (sql[:90], e.pgcode, (e.pgerror or "").strip().splitlines()[0]))
    finally:
        conn.close()
    return errors, called


def test_planted_builtins_never_run():
    admin = setup_db(DB)
    try:
        supers_before = q(admin, "SELECT rolname::pg_catalog.text FROM pg_catalog.pg_roles WHERE rolsuper ORDER BY 1")
        q(admin, "CREATE TABLE public.sp_log (who pg_catalog.text, fn pg_catalog.text)")
        q(admin, "GRANT SELECT, INSERT ON public.sp_log TO PUBLIC")
        q(admin, "CREATE SEQUENCE public.sp_hits")
        q(admin, "GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.sp_hits TO PUBLIC")
        make_data(admin)

        attacker = connect(ATTACKER, db=DB, autocommit=False)
        try:
            q(attacker, "SET search_path = pg_catalog")
            names = builtin_names(attacker)
            # the scan finds what the issue names (it sees the code, not a list)
            for must in ("hashtextextended", "count", "avg", "array_length", "jsonb_build_object"):
                check(must in names, "the scan of the code did not find %s" % must)
            planted = plant_functions(attacker, names)
            nops = plant_operators(attacker)
            attacker.commit()
        finally:
            attacker.close()
        check(len(planted) > 100 and nops > 50,
              "too few plants (%d functions, %d operators)" % (len(planted), nops))
        # the plants work: an unqualified call under the hostile path runs one
        probe = connect(VICTIM, db=DB)
        try:
            q(probe, "SET search_path = " + HOSTILE_PATH)
            q(probe, "SELECT hashtextextended('x'::text, 42)")
        finally:
            probe.close()
        check(q1(admin, "SELECT pg_catalog.count(*) FROM public.sp_log") == 1,
              "the probe call of a planted hashtextextended was not recorded")
        q(admin, "TRUNCATE public.sp_log")
        q(admin, "SELECT pg_catalog.setval('public.sp_hits', 1, false)")

        failures = []
        called = set()
        for role, prefix in ((VICTIM, "v_"), (SUPER, "s_")):
            errors, c = run_as(role, admin, prefix)
            called |= c
            failures += ["%s: %s" % (role, e) for e in errors]
        hits = q(admin, "SELECT who, fn, pg_catalog.count(*) FROM public.sp_log GROUP BY 1, 2 ORDER BY 1, 2")
        nhits = q1(admin, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.sp_hits")
        supers_after = q(admin, "SELECT rolname::pg_catalog.text FROM pg_catalog.pg_roles WHERE rolsuper ORDER BY 1")
        missing = public_functions(admin) - called
        problems = []
        if supers_after != supers_before:
            problems.append("roles became superuser: %r -> %r" % (supers_before, supers_after))
        if hits or nhits:
            problems.append("planted functions ran %d times: %s" % (
                nhits, "; ".join("%s as %s (%d)" % (f, w, n) for w, f, n in hits)))
        if failures:
            problems.append("calls failed under a hostile search_path:\n  " + "\n  ".join(failures))
        if missing:
            problems.append("public functions this test does not run: %s" % ", ".join(sorted(missing)))
        check(not problems, "\n".join(problems))
    finally:
        admin.close()
        drop_db(DB)


def test_hashtextextended_makes_no_superuser():
    """The issue's example: an int4-seed hashtextextended that promotes its
    owner when a superuser runs it, and keeps every row it sees."""
    admin = setup_db(DB_EXAMPLE)
    try:
        q(admin, "CREATE TABLE public.loot (who pg_catalog.text, t pg_catalog.text)")
        q(admin, "GRANT INSERT, SELECT ON public.loot TO PUBLIC")
        q(admin, "CREATE TABLE public.d AS SELECT i::pg_catalog.float8 AS x, "
                 "(i OPERATOR(pg_catalog.*) 2)::pg_catalog.float8 AS y, 'secret ' OPERATOR(pg_catalog.||) i AS note "
                 "FROM pg_catalog.generate_series(1, 1500) i")
        attacker = connect(ATTACKER, db=DB_EXAMPLE)
        try:
            q(attacker, """
                CREATE FUNCTION public.hashtextextended(t text, seed integer) RETURNS bigint LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO loot VALUES (current_user, t);
                  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                    EXECUTE 'ALTER ROLE %s SUPERUSER';
                  END IF;
                  RETURN pg_catalog.hashtextextended(t, seed);
                END $$""" % ATTACKER)
        finally:
            attacker.close()
        su = connect(SUPER, db=DB_EXAMPLE)
        try:
            # the default search_path ("$user", public), as in the report
            q(su, "SELECT version FROM ml.train('m', 'public.d', 'y', features => ARRAY['x'], "
                  "options => '{\"test_fraction\": 0.2}')")
            q(su, "SELECT version FROM ml.train('m', 'd', 'y', features => ARRAY['x'])")
            q(su, "SELECT version FROM ml.train('k', 'd', NULL, 'kmeans', ARRAY['x', 'y'], "
                  "'{\"k\": 2, \"sample_rows\": 1000}')")
            q(su, "SELECT version FROM ml.train('t', '(SELECT x, y FROM d)', 'y', 'random_forest', NULL, "
                  "'{\"n_estimators\": 2, \"max_depth\": 2, \"test_fraction\": 0.3}')")
        finally:
            su.close()
        check(not q1(admin, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) %s",
                     (ATTACKER,)), "the attacker became superuser")
        check(q1(admin, "SELECT pg_catalog.count(*) FROM public.loot") == 0, "the planted hashtextextended saw rows")
    finally:
        admin.close()
        drop_db(DB_EXAMPLE)


def drop_db(db):
    admin = connect(db="postgres")
    try:
        q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        for role in (ATTACKER, VICTIM, SUPER):
            q(admin, 'DROP ROLE IF EXISTS "%s"' % role)
    finally:
        admin.close()
