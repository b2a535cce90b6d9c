#!/usr/bin/python3
"""Accuracy of ml_ext's linear regression against independent references.

References (scikit-learn, statsmodels, XGBoost, numpy) are computed here, at test time, from
the same data that is loaded into PostgreSQL; no number produced by ml_ext is ever
stored as an expected value.  Connects with psycopg2 using the PG* environment
variables (scripts/test.sh points them at the throwaway cluster).

Prints one "PASS <check>" or "FAIL <check>: <why>" line per check and exits 1 when any
check failed.  Run: /usr/bin/python3 test/accuracy/run.py [name-filter]
"""

import io
import json
import math
import sys
import traceback

import numpy as np
import psycopg2
import statsmodels.api as sm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge

import gram
import kmeans
import logreg
import metrics
import nbayes
import poisson
import readme
import registry
import softmax
import train
import trees

RESULTS = {"passed": 0, "failed": 0}


def report(name, ok, detail=""):
    if ok:
        RESULTS["passed"] += 1
        print("PASS %s%s" % (name, ("  (%s)" % detail) if detail else ""), flush=True)
    else:
        RESULTS["failed"] += 1
        print("FAIL %s: %s" % (name, detail), flush=True)


def compare(name, got, ref, rtol, floor=None):
    """Element-wise relative comparison: |got - ref| <= rtol * |ref| + floor.

    The absolute floor is tiny and only matters for reference values near zero;
    by default it is rtol * 1e-6 * max|ref| (i.e. relative to the vector's scale).
    """
    ref = np.atleast_1d(np.asarray(ref, dtype=float))
    if got is None or any(g is None for g in np.atleast_1d(np.asarray(got, dtype=object))):
        report(name, False, "got NULL, expected %s" % np.array2string(ref, precision=6))
        return False
    got = np.atleast_1d(np.asarray(got, dtype=float))
    if got.shape != ref.shape:
        report(name, False, "shape %s, expected %s" % (got.shape, ref.shape))
        return False
    if floor is None:
        floor = rtol * 1e-6 * float(np.max(np.abs(ref))) if ref.size else 0.0
    err = np.abs(got - ref)
    bound = rtol * np.abs(ref) + floor
    bad = ~(err <= bound)
    relerr = float(np.max(err / np.maximum(np.abs(ref), floor if floor > 0 else 1e-300)))
    if bad.any():
        i = int(np.argmax(bad))
        report(name, False, "element %d: got %r, expected %r (rel err %.3g > %.0e; %d of %d elements off)"
               % (i, float(got[i]), float(ref[i]), err[i] / max(abs(ref[i]), 1e-300), rtol,
                  int(bad.sum()), ref.size))
        return False
    report(name, True, "max rel err %.2e, tol %.0e" % (relerr, rtol))
    return True


def check(name, cond, detail=""):
    report(name, bool(cond), detail)
    return bool(cond)


# ---------------------------------------------------------------- database helpers

class DB:
    def __init__(self):
        self.conn = psycopg2.connect("")
        self.conn.autocommit = True
        self.cur = self.conn.cursor()
        self.cur.execute("SET client_min_messages = warning")
        self.cur.execute("CREATE EXTENSION IF NOT EXISTS ml_ext")

    def q(self, sql, args=None):
        self.cur.execute(sql, args)
        return self.cur.fetchall()

    def q1(self, sql, args=None):
        rows = self.q(sql, args)
        return rows[0][0]

    def ex(self, sql, args=None):
        self.cur.execute(sql, args)

    def load(self, table, X, y, group=None, temp=True, wide=False):
        """Create table (id, [g,] y, x float8[]) -- or columns c1..ck when wide -- and
        COPY the rows in exactly (repr() round-trips doubles)."""
        X = np.asarray(X, dtype=float)
        k = X.shape[1]
        cols = ["id int"]
        if group is not None:
            cols.append("g int")
        cols.append("y float8")
        if wide:
            cols += ["c%d float8" % (j + 1) for j in range(k)]
        else:
            cols.append("x float8[]")
        self.ex("DROP TABLE IF EXISTS %s" % table)
        self.ex("CREATE %sTABLE %s (%s)" % ("TEMP " if temp else "", table, ", ".join(cols)))
        buf = io.StringIO()
        for i in range(X.shape[0]):
            fields = [str(i + 1)]
            if group is not None:
                fields.append(str(int(group[i])))
            fields.append(repr(float(y[i])))
            xs = [repr(float(v)) for v in X[i]]
            if wide:
                fields += xs
            else:
                fields.append("{" + ",".join(xs) + "}")
            buf.write("\t".join(fields) + "\n")
        buf.seek(0)
        self.cur.copy_expert("COPY %s FROM STDIN" % table, buf)
        self.ex("ANALYZE %s" % table)

    def coefficients(self, model_sql, args=None):
        """ml.coefficients(model) as {term: (estimate, se, t, p)} in output order."""
        rows = self.q("SELECT c.term, c.estimate, c.std_error, c.t_value, c.p_value "
                      "FROM (%s) m(model), ml.coefficients(m.model) c" % model_sql, args)
        return rows

    def info(self, model_sql, args=None):
        v = self.q1("SELECT ml.model_info(m.model) FROM (%s) m(model)" % model_sql, args)
        return v if isinstance(v, dict) else json.loads(v)


def terms(k, intercept=True):
    return (["intercept"] if intercept else []) + ["x%d" % (j + 1) for j in range(k)]


def coef_table(rows, k, intercept=True):
    """-> arrays (est, se, t, p) in the order intercept, x1..xk; fails on missing terms."""
    by = {r[0]: r[1:] for r in rows}
    want = terms(k, intercept)
    missing = [t for t in want if t not in by]
    if missing:
        raise AssertionError("ml.coefficients lacks terms %s (has %s)" % (missing, list(by)))
    cols = list(zip(*[by[t] for t in want]))
    return [list(c) for c in cols]


def arr_sql(k, prefix="c"):
    return "ARRAY[%s]::float8[]" % ", ".join("%s%d" % (prefix, j + 1) for j in range(k))


# ---------------------------------------------------------------- checks

def check_ols_diabetes(db):
    X, y = load_diabetes(return_X_y=True)
    k = X.shape[1]
    db.load("diab", X, y)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    msql = "SELECT ml.linreg_fit(y, x) FROM diab"
    est, se, tv, pv = coef_table(db.coefficients(msql), k)
    compare("ols diabetes: coefficients vs statsmodels", est, ref.params, 1e-8)
    compare("ols diabetes: standard errors vs statsmodels", se, ref.bse, 1e-8)
    compare("ols diabetes: t values vs statsmodels", tv, ref.tvalues, 1e-8)
    compare("ols diabetes: p-values vs statsmodels", pv, ref.pvalues, 1e-8, floor=1e-15)
    info = db.info(msql)
    compare("ols diabetes: r2 vs statsmodels rsquared", info.get("r2"), ref.rsquared, 1e-8)
    compare("ols diabetes: adj_r2 vs statsmodels rsquared_adj", info.get("adj_r2"), ref.rsquared_adj, 1e-8)
    compare("ols diabetes: residual_std_error vs sqrt(scale)", info.get("residual_std_error"),
            math.sqrt(ref.scale), 1e-8)
    compare("ols diabetes: rss vs statsmodels ssr", info.get("rss"), ref.ssr, 1e-8)
    # rank: of the feature matrix (centred when fitting an intercept), the intercept not counted
    rank = int(np.linalg.matrix_rank(X - X.mean(axis=0)))
    check("ols diabetes: model_info n_rows, n_features, rank, df_resid",
          (info.get("n_rows"), info.get("n_features"), info.get("rank"), info.get("df_resid"))
          == (442, 10, rank, ref.df_resid),
          "n_rows=%r n_features=%r rank=%r df_resid=%r" % (info.get("n_rows"), info.get("n_features"),
                                                           info.get("rank"), info.get("df_resid")))
    compare("ols diabetes: model_info intercept+coefficients vs statsmodels",
            [info.get("intercept")] + list(info.get("coefficients") or []), ref.params, 1e-8)
    compare("ols diabetes: model_info p_values vs statsmodels", info.get("p_values"), ref.pvalues, 1e-8,
            floor=1e-15)

    # predictions of ml.predict on every row vs scikit-learn's own fit
    lr = LinearRegression().fit(X, y)
    got = db.q("SELECT ml.predict(m.model, d.x) FROM diab d, (%s) m(model) ORDER BY d.id" % msql)
    compare("predict diabetes: ml.predict vs sklearn LinearRegression.predict (442 rows)",
            [r[0] for r in got], lr.predict(X), 1e-9)


def check_ols_raw_csv(db, root):
    """The unscaled data/diabetes.csv (worse conditioned than the scaled version)."""
    data = np.loadtxt(root + "/data/diabetes.csv", delimiter=",", skiprows=1)
    X, y = data[:, :10], data[:, 10]
    db.load("diab_raw", X, y)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    msql = "SELECT ml.linreg_fit(y, x) FROM diab_raw"
    est, se, _, _ = coef_table(db.coefficients(msql), 10)
    compare("ols diabetes.csv (raw units): coefficients vs statsmodels", est, ref.params, 1e-8)
    compare("ols diabetes.csv (raw units): standard errors vs statsmodels", se, ref.bse, 1e-8)

    # no intercept: uncentred R^2
    ref0 = sm.OLS(y, X).fit()
    msql0 = "SELECT ml.linreg_fit(y, x, 0.0, false) FROM diab_raw"
    rows = db.coefficients(msql0)
    est, se, _, pv = coef_table(rows, 10, intercept=False)
    icpt = [r for r in rows if r[0] == "intercept"]
    check("no intercept: no fitted intercept term",
          not icpt or icpt[0][1] in (None, 0.0), "intercept row %r" % (icpt,))
    compare("no intercept: coefficients vs statsmodels OLS without constant", est, ref0.params, 1e-8)
    compare("no intercept: standard errors vs statsmodels", se, ref0.bse, 1e-8)
    compare("no intercept: p-values vs statsmodels", pv, ref0.pvalues, 1e-8, floor=1e-15)
    info = db.info(msql0)
    compare("no intercept: r2 (uncentred) vs statsmodels rsquared", info.get("r2"), ref0.rsquared, 1e-8)
    check("no intercept: model_info fit_intercept is false", info.get("fit_intercept") is False,
          "fit_intercept=%r" % info.get("fit_intercept"))


def check_ridge(db):
    X, y = load_diabetes(return_X_y=True)
    k = X.shape[1]
    db.load("diab_r", X, y)
    for lam in (0.1, 1.0, 10.0):
        ref = Ridge(alpha=lam, solver="svd").fit(X, y)
        msql = "SELECT ml.linreg_fit(y, x, %r::float8) FROM diab_r" % lam
        rows = db.coefficients(msql)
        est, se, _, _ = coef_table(rows, k)
        compare("ridge lambda=%g: coefficients vs sklearn Ridge" % lam, est[1:], ref.coef_, 1e-8)
        compare("ridge lambda=%g: intercept vs sklearn Ridge" % lam, est[0], ref.intercept_, 1e-8)
        check("ridge lambda=%g: standard errors are NULL" % lam, all(s is None for s in se),
              "std_error %r" % (se,))
        info = db.info(msql)
        compare("ridge lambda=%g: model_info lambda" % lam, info.get("lambda"), lam, 1e-15)
        got = db.q("SELECT ml.predict(m.model, d.x) FROM diab_r d, (%s) m(model) ORDER BY d.id" % msql)
        compare("ridge lambda=%g: ml.predict vs sklearn Ridge.predict (442 rows)" % lam,
                [r[0] for r in got], ref.predict(X), 1e-9)


def check_rank_deficient(db):
    X, y = load_diabetes(return_X_y=True)
    # a duplicated column (bmi) and an exact linear combination (age + 2*bp)
    Xd = np.column_stack([X, X[:, 2], X[:, 0] + 2.0 * X[:, 3]])
    k = Xd.shape[1]
    db.load("diab_rd", Xd, y)
    del db.conn.notices[:]
    rows = db.coefficients("SELECT ml.linreg_fit(y, x) FROM diab_rd")
    notices = list(db.conn.notices)
    ref = LinearRegression().fit(Xd, y)
    est, _, _, _ = coef_table(rows, k)
    compare("rank deficient: coefficients vs sklearn LinearRegression (min-norm)", est[1:], ref.coef_, 1e-7)
    compare("rank deficient: intercept vs sklearn LinearRegression", est[0], ref.intercept_, 1e-7)
    check("rank deficient: a WARNING was raised", any("WARNING" in n for n in notices),
          "notices: %r" % notices)
    del db.conn.notices[:]
    info = db.info("SELECT ml.linreg_fit(y, x) FROM diab_rd")
    rank = int(np.linalg.matrix_rank(Xd - Xd.mean(axis=0)))
    check("rank deficient: model_info rank = %d of %d features (numpy matrix_rank)" % (rank, k),
          info.get("rank") == rank, "rank=%r" % info.get("rank"))
    check("rank deficient: model_info names dependent features",
          isinstance(info.get("dependent_features"), list) and len(info["dependent_features"]) == 2,
          "dependent_features=%r" % info.get("dependent_features"))
    got = db.q("SELECT ml.predict(m.model, d.x) FROM diab_rd d, "
               "(SELECT ml.linreg_fit(y, x) FROM diab_rd) m(model) ORDER BY d.id")
    compare("rank deficient: predictions vs sklearn", [r[0] for r in got], ref.predict(Xd), 1e-9)


def check_ill_conditioned(db):
    """Polynomial basis t..t^9 on [1, 2] (condition number ~6e10): a stable method
    (QR/SVD) agrees with numpy.linalg.lstsq; the normal equations do not."""
    n = 500
    t = np.linspace(1.0, 2.0, n)
    T = np.column_stack([t ** j for j in range(1, 10)])
    A = np.column_stack([np.ones(n), T])
    ctrue = np.array([1.0, -2.0, 3.0, -1.0, 0.5, 0.25, -0.125, 0.1, -0.05, 0.01])
    rng = np.random.default_rng(20240601)
    y = A @ ctrue + 1e-6 * rng.standard_normal(n)
    db.load("poly", T, y)
    b_svd = np.linalg.lstsq(A, y, rcond=None)[0]
    b_ne = np.linalg.solve(A.T @ A, A.T @ y)
    cond = np.linalg.cond(A)
    est, _, _, _ = coef_table(db.coefficients("SELECT ml.linreg_fit(y, x) FROM poly"), 9)
    if any(e is None for e in est):
        check("ill-conditioned polynomial: coefficients vs numpy lstsq", False, "NULL coefficients %r" % (est,))
        return
    b_ml = np.array(est, dtype=float)
    err_ml = np.linalg.norm(b_ml - b_svd) / np.linalg.norm(b_svd)
    err_ne = np.linalg.norm(b_ne - b_svd) / np.linalg.norm(b_svd)
    # A backward-stable least-squares solver (Householder QR, SVD) is accurate to about
    # cond(A) * eps here (the residual is tiny); the normal equations square the condition
    # number and lose everything.
    tol = cond * np.finfo(float).eps
    check("ill-conditioned polynomial (cond %.1e): coefficients vs numpy lstsq (SVD)" % cond,
          err_ml <= tol, "relative error %.2e, tol cond*eps = %.1e" % (err_ml, tol))
    check("ill-conditioned polynomial: normal equations are clearly worse than ml_ext",
          err_ne > 1e-3 and err_ne > 1000 * max(err_ml, 1e-12),
          "normal equations rel error %.2e vs ml_ext %.2e" % (err_ne, err_ml))
    fit_ml = A @ b_ml
    compare("ill-conditioned polynomial: fitted values vs numpy lstsq", fit_ml, A @ b_svd, 1e-10)


def check_group_by(db):
    """A wide table (features in columns, array built in the query), 6 groups."""
    rng = np.random.default_rng(7)
    k, groups, per = 8, 6, 250
    Xs, ys, gs = [], [], []
    for g in range(groups):
        Xg = rng.normal(loc=g, scale=1.0 + g, size=(per + 20 * g, k))
        beta = rng.normal(size=k) * (g + 1)
        yg = 3.0 * g - 1.0 + Xg @ beta + rng.normal(scale=0.5 + g, size=Xg.shape[0])
        Xs.append(Xg)
        ys.append(yg)
        gs.append(np.full(Xg.shape[0], g + 1))
    X, y, grp = np.vstack(Xs), np.concatenate(ys), np.concatenate(gs)
    db.load("wide", X, y, group=grp, wide=True)
    rows = db.q("SELECT g, count(*), ml.linreg_fit(y, %s) FROM wide GROUP BY g ORDER BY g" % arr_sql(k))
    check("group by: one model per group", [r[0] for r in rows] == list(range(1, groups + 1)),
          "groups %r" % [r[0] for r in rows])
    worst_e = worst_s = 0.0
    ok = True
    for g, cnt, model in rows:
        sel = grp == g
        ref = sm.OLS(y[sel], sm.add_constant(X[sel])).fit()
        est, se, _, pv = coef_table(db.coefficients("SELECT %s::bytea", (model,)), k)
        info = db.info("SELECT %s::bytea", (model,))
        for got, want, what in ((est, ref.params, "coefficients"), (se, ref.bse, "standard errors")):
            if any(v is None for v in got):
                ok = False
                report("group by: group %d %s" % (g, what), False, "NULL values")
                continue
            rel = np.max(np.abs(np.array(got) - want) / np.abs(want))
            if what == "coefficients":
                worst_e = max(worst_e, rel)
            else:
                worst_s = max(worst_s, rel)
            if not rel <= 1e-8:
                ok = False
                report("group by: group %d %s vs statsmodels" % (g, what), False, "rel err %.2e" % rel)
        if info.get("n_rows") != int(sel.sum()) or not (abs(info.get("r2", 0) - ref.rsquared) <= 1e-8 * ref.rsquared):
            ok = False
            report("group by: group %d n_rows/r2" % g, False,
                   "n_rows %r vs %d, r2 %r vs %r" % (info.get("n_rows"), sel.sum(), info.get("r2"), ref.rsquared))
    if ok:
        report("group by: %d per-group models (coefficients, SEs, r2) vs per-group statsmodels" % groups, True,
               "max rel err coef %.2e, se %.2e, tol 1e-08" % (worst_e, worst_s))


def plan_workers(plan):
    """Sum of 'Workers Launched' over an EXPLAIN (FORMAT JSON) plan tree."""
    n = 0
    if isinstance(plan, dict):
        n += int(plan.get("Workers Launched", 0) or 0)
        for v in plan.values():
            n += plan_workers(v)
    elif isinstance(plan, list):
        for v in plan:
            n += plan_workers(v)
    return n


def check_parallel(db):
    nrows = 200000
    db.ex("DROP TABLE IF EXISTS par_t")
    db.q("SELECT setseed(0.25)")
    db.ex("CREATE TABLE par_t AS "
          "SELECT i AS id, x, 2.5 + 0.5*x[1] - 1.5*x[2] + 3*x[3] - x[4] + 0.25*x[5] "
          "       + x[6] - 2*x[7] + 0.1*x[8] + random() AS y "
          "FROM (SELECT i, ARRAY[random(), random()*10, random()-0.5, random()*100, random(), "
          "                      random()*2, random()*3, random()+i*1e-6]::float8[] AS x "
          "      FROM generate_series(1, %d) i) s" % nrows)
    db.ex("VACUUM ANALYZE par_t")
    q = "SELECT ml.linreg_fit(y, x) FROM par_t"
    db.ex("SET max_parallel_workers_per_gather = 0")
    serial = db.q1(q)
    db.ex("SET parallel_setup_cost = 0")
    db.ex("SET parallel_tuple_cost = 0")
    db.ex("SET min_parallel_table_scan_size = 0")
    db.ex("SET max_parallel_workers_per_gather = 2")
    plan = db.q1("EXPLAIN (ANALYZE, FORMAT JSON) " + q)
    if isinstance(plan, str):
        plan = json.loads(plan)
    workers = plan_workers(plan)
    parallel = db.q1(q)
    for s in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size",
              "max_parallel_workers_per_gather"):
        db.ex("RESET %s" % s)
    check("parallel: EXPLAIN ANALYZE shows Workers Launched >= 1", workers >= 1,
          "Workers Launched = %d" % workers)
    partial = '"Partial Mode": "Partial"' in json.dumps(plan) and '"Partial Mode": "Finalize"' in json.dumps(plan)
    check("parallel: the plan is a Partial/Finalize aggregate", partial,
          "" if partial else "plan: %s" % json.dumps(plan)[:400])
    rs = coef_table(db.coefficients("SELECT %s::bytea", (serial,)), 8)
    rp = coef_table(db.coefficients("SELECT %s::bytea", (parallel,)), 8)
    compare("parallel: coefficients equal the serial fit (%d rows)" % nrows, rp[0], rs[0], 1e-9)
    compare("parallel: standard errors equal the serial fit", rp[1], rs[1], 1e-9)
    i_s = db.info("SELECT %s::bytea", (serial,))
    i_p = db.info("SELECT %s::bytea", (parallel,))
    check("parallel: n_rows equal", i_s.get("n_rows") == i_p.get("n_rows") == nrows,
          "serial %r, parallel %r" % (i_s.get("n_rows"), i_p.get("n_rows")))
    compare("parallel: r2 equals the serial fit", i_p.get("r2"), i_s.get("r2"), 1e-9)
    db.ex("DROP TABLE par_t")


def main():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        db = DB()
    except Exception as e:  # noqa: BLE001 - report, don't crash
        report("connect and CREATE EXTENSION ml_ext", False, str(e).strip())
        return 1
    checks = [
        ("ols", check_ols_diabetes, ()),
        ("raw", check_ols_raw_csv, (root,)),
        ("ridge", check_ridge, ()),
        ("rank", check_rank_deficient, ()),
        ("poly", check_ill_conditioned, ()),
        ("group", check_group_by, ()),
        ("parallel", check_parallel, ()),
        ("metrics", lambda db: metrics.checks(db.conn, report, compare), ()),
        ("train", lambda db: train.checks(db.conn, report, compare), ()),
        ("registry", lambda db: registry.checks(db.conn, report, compare), ()),
        ("logreg", lambda db: logreg.checks(db.conn, report, compare), ()),
        ("softmax", lambda db: softmax.checks(db.conn, report, compare), ()),
        ("gram", lambda db: gram.checks(db.conn, report, compare), ()),
        ("poisson", lambda db: poisson.checks(db.conn, report, compare), ()),
        ("kmeans", lambda db: kmeans.checks(db.conn, report, compare), ()),
        ("nbayes", lambda db: nbayes.checks(db.conn, report, compare), ()),
        ("trees", lambda db: trees.checks(db.conn, report, compare), ()),
        ("readme", lambda db: readme.checks(db.conn, report, compare, root), ()),
    ]
    for name, fn, args in checks:
        if only and only not in name:
            continue
        try:
            fn(db, *args)
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the others
            report("%s: %s raised" % (name, fn.__name__), False,
                   "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else ""))
            traceback.print_exc(file=sys.stdout)
            if db.conn.closed:
                db = DB()
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
