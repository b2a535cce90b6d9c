#!/usr/bin/python3
"""Benchmark of ml_ext logistic regression and k-means (run by `make bench` after linreg.py).

Against the database the PG* environment variables point at (scripts/bench.sh starts
the throwaway cluster), builds, deterministically (setseed), two tables of 1,000,000
rows and 10 features:

  c(id bigint, label boolean, x float8[])  label drawn from a logistic model of x
  k(id bigint, x float8[])                 8 Gaussian-like blobs (sum of 4 uniforms)

and measures:

1. Training with ml.train, serially (max_parallel_workers_per_gather = 0) and with 2
   forced parallel workers: total time, and from ml.models.training_info the passes
   (how many IRLS / Lloyd passes and each one's server-side seconds).
2. One training pass as the raw parallel aggregate, in interleaved rounds (each round
   runs every variant once; the median per variant is reported) next to a scan
   baseline over the same table, serial and with 2 workers:

     scan c        SELECT sum(label::int + x[1]) FROM c       baseline for c
     irls pass     SELECT ml._glm_pass(label::int::float8, x, m) FROM c
     scan k        SELECT sum(x[1]) FROM k                    baseline for k
     lloyd pass    SELECT ml._kmeans_pass(x, m) FROM k

   m the model ml.train produced in step 1, bound once as a constant.
3. End to end, with the server's default parallel settings: ml.train plus writing
   the predictions into a table with CREATE TABLE ... AS SELECT ml.predict_proba /
   ml.predict, against the common alternative: export with COPY (binary) to this
   Python process, fit with scikit-learn (LogisticRegression, KMeans(n_clusters=8,
   n_init=10)), write the predictions back with COPY (binary).  Needs numpy and
   scikit-learn; without them step 3 is skipped.

Times are client-side (time.perf_counter) except the per-pass seconds of
training_info.  Prints the results and (unless --no-write) replaces its own section of
bench/RESULTS.md, between the classic:begin and classic:end markers, leaving the rest
(written by bench/linreg.py) as it is.  Targets (each pass <= 1.5x its scan baseline,
ml_ext faster end to end) are reported, not asserted.

    /usr/bin/python3 bench/classic.py [--rows N] [--rounds R] [--train-rounds T]
                                      [--e2e-rounds E] [--no-write]
"""

import argparse
import datetime
import io
import os
import random
import statistics
import struct
import sys
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from linreg import PARALLEL, SERIAL, connect, loadavg, machine, run_timed, time_variants  # noqa: E402

NFEAT = 10
K = 8
PASS_TARGET = 1.5
# bump when the generated data changes: tables made by another version are rebuilt
GENERATOR = "bench/classic.py data v1"
# logistic model of the label: intercept, then one coefficient per feature
LR_BETA = [0.3, 1.0, -2.0, 0.5, -0.25, 1.5, -0.75, 0.1, -1.2, 0.8, -0.4]
# blob noise: (sum of 4 uniforms - 2) has standard deviation 1/sqrt(3)
KM_NOISE = 1.5 * 3 ** 0.5
RESET = ["RESET parallel_setup_cost", "RESET parallel_tuple_cost",
         "RESET min_parallel_table_scan_size", "RESET max_parallel_workers_per_gather"]
MODES = (("serial", SERIAL), ("2 workers", PARALLEL))
BEGIN = "<!-- classic:begin -->"
END = "<!-- classic:end -->"

LR_OPTS = '{"exclude": ["id"], "deploy": false}'
KM_OPTS = '{"k": %d, "exclude": ["id"], "deploy": false, "seed": 1}' % K
TRAIN = {
    "logistic regression": ("classic_lr", "SELECT version FROM ml.train('classic_lr', 'c', 'label', "
                            "'logistic_regression', options => '%s')" % LR_OPTS, "irls"),
    "k-means": ("classic_km", "SELECT version FROM ml.train('classic_km', 'k', NULL, 'kmeans', "
                "options => '%s')" % KM_OPTS, "lloyd"),
}


def centers():
    """The 8 blob centres, uniform in [-4, 4]^10 from a fixed seed."""
    rng = random.Random(8)
    return [[round(rng.uniform(-4, 4), 3) for _ in range(NFEAT)] for _ in range(K)]


def table_ok(cur, name, rows):
    cur.execute("SELECT obj_description(oid, 'pg_class') FROM pg_class "
                "WHERE relname = %s AND relkind = 'r' AND relnamespace = 'public'::regnamespace", (name,))
    r = cur.fetchone()
    return r is not None and r[0] == "%s, %d rows" % (GENERATOR, rows)


def setup(cur, rows):
    """Build c and k unless this generator already built them with this many rows."""
    cur.execute("CREATE EXTENSION IF NOT EXISTS ml_ext")
    built = []
    if not table_ok(cur, "c", rows):
        cur.execute("DROP TABLE IF EXISTS c")
        cur.execute("SELECT setseed(0.42)")
        feats = ", ".join("2 * random() - 1" for _ in range(NFEAT))
        eta = "%r" % LR_BETA[0] + "".join(" + (%r) * x[%d]" % (LR_BETA[j + 1], j + 1) for j in range(NFEAT))
        cur.execute("CREATE TABLE c (id bigint, label boolean, x float8[])")
        # OFFSET 0: x is drawn once per row, and the label from that same x
        cur.execute("INSERT INTO c SELECT i, random() < 1 / (1 + exp(-(%s))), x "
                    "FROM (SELECT i, ARRAY[%s]::float8[] AS x FROM generate_series(1, %d) i OFFSET 0) s"
                    % (eta, feats, rows))
        cur.execute("COMMENT ON TABLE c IS %s", ("%s, %d rows" % (GENERATOR, rows),))
        cur.execute("VACUUM ANALYZE c")
        built.append("c")
    if not table_ok(cur, "k", rows):
        cur.execute("DROP TABLE IF EXISTS k")
        cur.execute("SELECT setseed(0.43)")
        ctr = "'{%s}'::float8[]" % ",".join("{%s}" % ",".join("%r" % v for v in row) for row in centers())
        noise = "%r * (random() + random() + random() + random() - 2)" % KM_NOISE
        elems = ", ".join("ctr[g][%d] + %s" % (j + 1, noise) for j in range(NFEAT))
        cur.execute("CREATE TABLE k (id bigint, x float8[])")
        cur.execute("INSERT INTO k SELECT i, ARRAY[%s] "
                    "FROM (SELECT i, 1 + i %% %d AS g, %s AS ctr FROM generate_series(1, %d) i) s"
                    % (elems, K, ctr, rows))
        cur.execute("COMMENT ON TABLE k IS %s", ("%s, %d rows" % (GENERATOR, rows),))
        cur.execute("VACUUM ANALYZE k")
        built.append("k")
    return built


def drop_model(cur, name):
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name = %s", (name,))


def train_once(cur, settings, algo):
    """Time one ml.train of algo; returns (seconds, passes of its training_info)."""
    name, sql, _ = TRAIN[algo]
    drop_model(cur, name)
    secs = run_timed(cur, settings, sql)
    cur.execute("SELECT training_info->'passes' FROM ml.models WHERE name = %s", (name,))
    return secs, cur.fetchone()[0]


def pass_summary(passes):
    """'statistics, classes, irls x7, evaluate': the passes in order, repeats counted."""
    out = []
    for p in passes:
        if out and out[-1][0] == p["name"]:
            out[-1][1] += 1
        else:
            out.append([p["name"], 1])
    return ", ".join(n if c == 1 else "%s x%d" % (n, c) for n, c in out)


# ---------------------------------------------------------------- the alternative

PGCOPY_SIG = b"PGCOPY\n\xff\r\n\x00"


def replace_section(begin, end, lines, results):
    """Put lines (which start with begin), a "Results" heading, the results text and
    end into bench/RESULTS.md in place of the section between those markers, or at
    the end; the rest stays."""
    lines = lines + ["", "### Results", "", results, end]
    path = os.path.join(HERE, "RESULTS.md")
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# ml_ext benchmark results\n"
    b, e = old.find(begin), old.find(end)
    if b >= 0 and e > b:
        new = old[:b] + "\n".join(lines) + old[e + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    with open(path, "w") as f:
        f.write(new)


def row_dtype(np, fields):
    """A row of binary COPY: field count, then (length, value) for each field."""
    dt = [("nfields", ">i2")]
    for i, (name, typ) in enumerate(fields):
        dt += [("len%d" % i, ">i4"), (name, typ)]
    return np.dtype(dt)


def copy_out(np, cur, sql, fields):
    """COPY (sql) TO STDOUT in binary format, parsed into a numpy record array.

    fields: (name, big-endian numpy type) of each column; a NULL or a value of
    another width is an error (every row then has the same size)."""
    buf = io.BytesIO()
    cur.copy_expert("COPY (%s) TO STDOUT WITH (FORMAT binary)" % sql, buf)
    data = buf.getbuffer()
    if bytes(data[:11]) != PGCOPY_SIG:
        raise RuntimeError("unexpected COPY binary signature")
    start = 19 + struct.unpack(">i", data[15:19])[0]
    dt = row_dtype(np, fields)
    body = len(data) - start - 2
    if body % dt.itemsize or bytes(data[-2:]) != b"\xff\xff":
        raise RuntimeError("COPY binary rows are not %d bytes each" % dt.itemsize)
    rec = np.frombuffer(data, dtype=dt, count=body // dt.itemsize, offset=start)
    if (rec["nfields"] != len(fields)).any():
        raise RuntimeError("COPY binary row with an unexpected number of fields")
    for i, (_, typ) in enumerate(fields):
        if (rec["len%d" % i] != np.dtype(typ).itemsize).any():
            raise RuntimeError("COPY binary field %d: NULL or unexpected width" % i)
    return rec


def copy_in(np, cur, table, columns):
    """COPY table FROM STDIN in binary format; columns: (name, big-endian type, array)."""
    n = len(columns[0][2])
    rec = np.empty(n, dtype=row_dtype(np, [(c[0], c[1]) for c in columns]))
    rec["nfields"] = len(columns)
    for i, (name, typ, arr) in enumerate(columns):
        rec["len%d" % i] = np.dtype(typ).itemsize
        rec[name] = arr
    payload = PGCOPY_SIG + b"\x00\x00\x00\x00\x00\x00\x00\x00" + rec.tobytes() + b"\xff\xff"
    cur.copy_expert("COPY %s FROM STDIN WITH (FORMAT binary)" % table, io.BytesIO(payload))


def features(np, rec):
    return np.column_stack([rec["x%d" % (j + 1)] for j in range(NFEAT)]).astype(np.float64)


XCOLS = ", ".join("x[%d] AS x%d" % (j + 1, j + 1) for j in range(NFEAT))
XFIELDS = [("x%d" % (j + 1), ">f8") for j in range(NFEAT)]


def alt_logreg(np, cur, sk):
    """Export c, fit scikit-learn's LogisticRegression, write P(label) back; phase times."""
    t = [time.perf_counter()]
    cur.execute("DROP TABLE IF EXISTS classic_lr_sk")
    cur.execute("CREATE TABLE classic_lr_sk (id bigint, p float8)")
    rec = copy_out(np, cur, "SELECT id, label::int AS label, %s FROM c" % XCOLS,
                   [("id", ">i8"), ("label", ">i4")] + XFIELDS)
    X, y, ids = features(np, rec), rec["label"].astype(np.int64), rec["id"].astype(np.int64)
    t.append(time.perf_counter())
    # unpenalized, like ml.train's default, so the two fits can be compared
    m = sk.LogisticRegression(penalty=None, max_iter=1000).fit(X, y)
    t.append(time.perf_counter())
    p = m.predict_proba(X)[:, 1]
    copy_in(np, cur, "classic_lr_sk", [("id", ">i8", ids), ("p", ">f8", p)])
    t.append(time.perf_counter())
    return [t[i + 1] - t[i] for i in range(3)], {"n_iter": int(m.n_iter_[0])}


def alt_kmeans(np, cur, sk):
    """Export k, fit scikit-learn's KMeans, write the cluster of every row back; phase times."""
    t = [time.perf_counter()]
    cur.execute("DROP TABLE IF EXISTS classic_km_sk")
    cur.execute("CREATE TABLE classic_km_sk (id bigint, cluster int)")
    rec = copy_out(np, cur, "SELECT id, %s FROM k" % XCOLS, [("id", ">i8")] + XFIELDS)
    X, ids = features(np, rec), rec["id"].astype(np.int64)
    t.append(time.perf_counter())
    m = sk.KMeans(n_clusters=K, n_init=10, random_state=0).fit(X)
    t.append(time.perf_counter())
    copy_in(np, cur, "classic_km_sk", [("id", ">i8", ids), ("cluster", ">i4", m.labels_.astype(np.int32))])
    t.append(time.perf_counter())
    return [t[i + 1] - t[i] for i in range(3)], {"inertia": float(m.inertia_), "n_iter": int(m.n_iter_)}


def ml_e2e(cur, algo):
    """ml.train (deployed) + the predictions of every row into a table; phase times."""
    if algo == "logistic regression":
        drop_model(cur, "classic_lr_e2e")
        cur.execute("DROP TABLE IF EXISTS classic_lr_ml")
        t0 = time.perf_counter()
        cur.execute("SELECT version FROM ml.train('classic_lr_e2e', 'c', 'label', 'logistic_regression', "
                    "options => '{\"exclude\": [\"id\"]}')")
        t1 = time.perf_counter()
        cur.execute("CREATE TABLE classic_lr_ml AS SELECT id, (ml.predict_proba('classic_lr_e2e', c))[2] AS p "
                    "FROM c")
    else:
        drop_model(cur, "classic_km_e2e")
        cur.execute("DROP TABLE IF EXISTS classic_km_ml")
        t0 = time.perf_counter()
        cur.execute("SELECT version FROM ml.train('classic_km_e2e', 'k', NULL, 'kmeans', "
                    "options => '{\"k\": %d, \"exclude\": [\"id\"], \"seed\": 1}')" % K)
        t1 = time.perf_counter()
        cur.execute("CREATE TABLE classic_km_ml AS SELECT id, ml.predict('classic_km_e2e', k)::int AS cluster "
                    "FROM k")
    t2 = time.perf_counter()
    return [t1 - t0, t2 - t1]


def load_sklearn():
    try:
        import numpy as np
        import sklearn
        from sklearn.cluster import KMeans
        from sklearn.linear_model import LogisticRegression
    except ImportError as e:
        return None, None, str(e)

    class SK:
        pass
    sk = SK()
    sk.KMeans, sk.LogisticRegression = KMeans, LogisticRegression
    versions = "scikit-learn %s, numpy %s" % (sklearn.__version__, np.__version__)
    try:
        from threadpoolctl import threadpool_info
        pools = ["%s %s threads" % (p.get("internal_api"), p.get("num_threads")) for p in threadpool_info()]
        versions += " (" + ", ".join(pools) + ")" if pools else ""
    except ImportError:
        pass
    return np, sk, versions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds of the pass timings")
    ap.add_argument("--train-rounds", type=int, default=3, help="ml.train runs per algorithm and mode")
    ap.add_argument("--e2e-rounds", type=int, default=3, help="end-to-end rounds (0: skip)")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()

    load0 = loadavg()
    conn = connect()
    cur = conn.cursor()
    t0 = time.perf_counter()
    built = setup(cur, a.rows)
    if built:
        print("built %s: %d rows, %d features (%.1f s)" % (" and ".join(built), a.rows, NFEAT,
                                                           time.perf_counter() - t0))
    cur.execute("SELECT pg_size_pretty(pg_total_relation_size('c')), pg_size_pretty(pg_total_relation_size('k')), "
                "version(), current_setting('shared_buffers'), current_setting('work_mem'), "
                "current_setting('max_parallel_workers_per_gather')")
    size_c, size_k, version, sb, wm, mpwg = cur.fetchone()

    # 1. ml.train, interleaved; the last runs' models feed the pass timings
    train = {}
    for r in range(a.train_rounds):
        for mode, settings in MODES:
            for algo in TRAIN:
                secs, passes = train_once(cur, settings, algo)
                train.setdefault((algo, mode), []).append((secs, passes))
        print("training round %d/%d done" % (r + 1, a.train_rounds), file=sys.stderr, flush=True)
    cur.execute("SELECT model FROM ml.models WHERE name = 'classic_lr'")
    lr_model = cur.fetchone()[0]
    cur.execute("SELECT model FROM ml.models WHERE name = 'classic_km'")
    km_model = cur.fetchone()[0]

    # 2. the passes as raw aggregates next to their scan baselines
    queries = [
        ("scan c", "SELECT sum(label::int + x[1]) FROM c", None),
        ("irls pass", "SELECT ml._glm_pass(label::int::float8, x, %s::bytea) FROM c", (psycopg2.Binary(lr_model),)),
        ("scan k", "SELECT sum(x[1]) FROM k", None),
        ("lloyd pass", "SELECT ml._kmeans_pass(x, %s::bytea) FROM k", (psycopg2.Binary(km_model),)),
    ]
    baseline = {"scan c": "scan c", "irls pass": "scan c", "scan k": "scan k", "lloyd pass": "scan k"}
    variants = [(name, mode, settings, sql, args) for mode, settings in MODES for name, sql, args in queries]
    launched, times = time_variants(cur, variants, a.rounds, "pass round")
    med = {key: statistics.median(v) for key, v in times.items()}

    # 3. end to end against export + scikit-learn, server default parallel settings
    e2e = {}
    np, sk, skinfo = load_sklearn() if a.e2e_rounds > 0 else (None, None, "--e2e-rounds 0")
    if np is not None:
        for s in RESET:
            cur.execute(s)
        for r in range(a.e2e_rounds):
            for algo, alt in (("logistic regression", alt_logreg), ("k-means", alt_kmeans)):
                e2e.setdefault((algo, "ml_ext"), []).append((ml_e2e(cur, algo), None))
                e2e.setdefault((algo, "alt"), []).append(alt(np, cur, sk))
            print("end-to-end round %d/%d done" % (r + 1, a.e2e_rounds), file=sys.stderr, flush=True)
        # agreement of the two answers (not timed)
        cur.execute("SELECT max(abs(a.p - b.p)) FROM classic_lr_ml a JOIN classic_lr_sk b USING (id)")
        lr_diff = cur.fetchone()[0]
        cur.execute("SELECT (metrics->>'inertia')::float8, (metrics->>'iterations')::int FROM ml.models "
                    "WHERE name = 'classic_km_e2e'")
        km_inertia, km_iter = cur.fetchone()
        # the same partition up to cluster numbering: the rows in the sklearn cluster that
        # most of their ml_ext cluster went to
        cur.execute("SELECT sum(top)::float8 / sum(n) FROM (SELECT max(n) AS top, sum(n) AS n FROM "
                    "(SELECT a.cluster AS a, b.cluster AS b, count(*) AS n FROM classic_km_ml a "
                    "JOIN classic_km_sk b USING (id) GROUP BY 1, 2) p GROUP BY a) s")
        km_same = cur.fetchone()[0]
        cur.execute("DROP TABLE classic_lr_ml, classic_lr_sk, classic_km_ml, classic_km_sk")
    conn.close()

    # ---------------------------------------------------------------- report
    lines = ["| query | mode | median ms | min ms | max ms | vs its scan (same mode) |",
             "|---|---|---:|---:|---:|---:|"]
    for name, mode, _, _, _ in variants:
        v = times[(name, mode)]
        lines.append("| %s | %s%s | %.1f | %.1f | %.1f | %.2fx |" % (
            name, mode, "" if mode == "serial" else " (launched %d)" % launched[name],
            med[(name, mode)] * 1e3, min(v) * 1e3, max(v) * 1e3,
            med[(name, mode)] / med[(baseline[name], mode)]))
    pass_table = "\n".join(lines)

    lines = ["| ml.train | mode | median s | passes (training_info of the last run) | workers planned | "
             "pass median ms | pass max ms | pass median / max vs scan |",
             "|---|---|---:|---|---|---:|---:|---:|"]
    train_ratio = {}
    for (algo, mode), runs in train.items():
        kind = TRAIN[algo][2]
        scan = med[("scan c" if kind == "irls" else "scan k", mode)]
        secs = [p["seconds"] for _, passes in runs for p in passes if p["name"] == kind]
        last = runs[-1][1]
        planned = sorted({p["workers_planned"] for p in last if p["name"] == kind})
        pm, px = statistics.median(secs), max(secs)
        train_ratio[(algo, mode)] = (pm / scan, px / scan, sum(p["name"] == kind for p in last))
        lines.append("| %s | %s | %.2f | %s | %s | %.1f | %.1f | %.2fx / %.2fx |" % (
            algo, mode, statistics.median(s for s, _ in runs), pass_summary(last),
            "/".join(str(w) for w in planned), pm * 1e3, px * 1e3, pm / scan, px / scan))
    train_table = "\n".join(lines)

    def verdict(ok):
        return "met" if ok else "NOT met"
    targets = []
    for mode, _ in MODES:
        ri = med[("irls pass", mode)] / med[("scan c", mode)]
        rl = med[("lloyd pass", mode)] / med[("scan k", mode)]
        ti, tl = train_ratio[("logistic regression", mode)], train_ratio[("k-means", mode)]
        targets.append("- %s: logistic-regression pass %.2fx scan c (target <= %.1fx: %s); k-means (k=%d) "
                       "pass %.2fx scan k (target <= %.1fx: %s)" % (
                           mode, ri, PASS_TARGET, verdict(ri <= PASS_TARGET), K, rl, PASS_TARGET,
                           verdict(rl <= PASS_TARGET)))
        targets.append("- %s, inside ml.train (server-side pass seconds, the pass reads and encodes the table columns itself; the seconds include planning it): "
                       "IRLS passes: %d, slowest %.2fx scan c (%s); Lloyd passes: %d, slowest %.2fx scan k (%s)" % (
                           mode, ti[2], ti[1], verdict(ti[1] <= PASS_TARGET), tl[2], tl[1],
                           verdict(tl[1] <= PASS_TARGET)))

    e2e_out = []
    if np is None:
        e2e_out.append("End to end: not measured (%s)." % skinfo)
    else:
        lines = ["| end to end | median s | min s | max s | phases (median s) |", "|---|---:|---:|---:|---|"]
        totals = {}
        for algo in TRAIN:
            for side, label, phases in (("ml_ext", "ml_ext", ("ml.train", "predict into table")),
                                        ("alt", "COPY + scikit-learn", ("export+parse", "fit",
                                                                        "predict+write back"))):
                runs = e2e[(algo, side)]
                tot = [sum(ph) for ph, _ in runs]
                totals[(algo, side)] = statistics.median(tot)
                ph = ", ".join("%s %.2f" % (phases[i], statistics.median(ph[i] for ph, _ in runs))
                               for i in range(len(phases)))
                lines.append("| %s, %s | %.2f | %.2f | %.2f | %s |" % (
                    algo, label, statistics.median(tot), min(tot), max(tot), ph))
        e2e_out.append("%d round(s), server default parallel settings (max_parallel_workers_per_gather %s); "
                       "%s" % (a.e2e_rounds, mpwg, skinfo))
        e2e_out.append("")
        e2e_out += lines
        e2e_out.append("")
        for algo in TRAIN:
            m_, s_ = totals[(algo, "ml_ext")], totals[(algo, "alt")]
            e2e_out.append("- %s: ml_ext %.2f s, COPY + scikit-learn %.2f s: ml_ext / alternative %.2fx, "
                           "ml_ext is %s (target ml_ext faster: %s)" % (
                               algo, m_, s_, m_ / s_, "faster" if m_ < s_ else "slower", verdict(m_ < s_)))
        lr_iter = e2e[("logistic regression", "alt")][-1][1]["n_iter"]
        km_alt = e2e[("k-means", "alt")][-1][1]
        e2e_out.append("- agreement (last round, not timed): logistic regression max |P(ml_ext) - P(sklearn)| "
                       "%.2g (sklearn lbfgs %d iterations); k-means inertia ml_ext %.6g (Lloyd passes: %d) vs "
                       "sklearn %.6g (iterations of the best of 10 inits: %d), rows in the same cluster up to "
                       "numbering %.4f%%" % (lr_diff, lr_iter, km_inertia, km_iter, km_alt["inertia"],
                                             km_alt["n_iter"], 100 * km_same))

    out = []
    out.append("Tables c and k: %d rows each, %d float8 features in a float8[] column, %s and %s; "
               "shared_buffers %s, work_mem %s" % (a.rows, NFEAT, size_c, size_k, sb, wm))
    out.append("%d interleaved rounds, median of client-side wall time (psycopg2, time.perf_counter); "
               "load average before / after: %s / %s" % (a.rounds, load0, loadavg()))
    out.append("")
    out.append(pass_table)
    out.append("")
    out.append("ml.train (%d runs per line; pass times from ml.models.training_info, all runs):" % a.train_rounds)
    out.append("")
    out.append(train_table)
    out.append("")
    out.append("Targets (reported, not asserted):")
    out += targets
    out.append("")
    out += e2e_out
    text = "\n".join(out)
    print(flush=True)
    print(text, flush=True)

    if not a.no_write:
        m = machine()
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        md = [BEGIN, "## Logistic regression and k-means (bench/classic.py)", ""]
        md.append("Produced by `make bench` (scripts/bench.sh -> bench/classic.py, after bench/linreg.py) on %s."
                  % now)
        md.append("")
        md.append("### Machine")
        md.append("")
        md.append("- CPU: %s, nproc %s; memory: %s; kernel %s" % (m["cpu"], m["nproc"], m["mem"], m["kernel"]))
        md.append("- PostgreSQL: %s" % version)
        md.append("- BLAS/LAPACK: %s" % m["blas"])
        md.append("- Python side: %s" % skinfo)
        md.append("")
        md.append("### Queries")
        md.append("")
        md.append("- c: `c(id bigint, label boolean, x float8[])`, x uniform in [-1, 1]^10, label true with "
                  "probability 1 / (1 + exp(-(b0 + b.x))) (setseed 0.42)")
        md.append("- k: `k(id bigint, x float8[])`, %d blobs of equal size around fixed centres in [-4, 4]^10, "
                  "noise per coordinate a sum of 4 uniforms with standard deviation 1.5 (setseed 0.43)" % K)
        md.append("- ml.train logistic regression: `SELECT version FROM ml.train('classic_lr', 'c', 'label', "
                  "'logistic_regression', options => '%s')` (features: the 10 elements of x)" % LR_OPTS)
        md.append("- ml.train k-means: `SELECT version FROM ml.train('classic_km', 'k', NULL, 'kmeans', "
                  "options => '%s')`" % KM_OPTS)
        md.append("- scan c: `SELECT sum(label::int + x[1]) FROM c` (baseline of the IRLS pass)")
        md.append("- irls pass: `SELECT ml._glm_pass(label::int::float8, x, m) FROM c`, m the model of the last "
                  "ml.train run, bound once as a constant (one IRLS iteration)")
        md.append("- scan k: `SELECT sum(x[1]) FROM k` (baseline of the Lloyd pass)")
        md.append("- lloyd pass: `SELECT ml._kmeans_pass(x, m) FROM k`, m likewise (one Lloyd iteration)")
        md.append("- serial: `max_parallel_workers_per_gather = 0`; 2 workers: `parallel_setup_cost = 0, "
                  "parallel_tuple_cost = 0, min_parallel_table_scan_size = 0, max_parallel_workers_per_gather = 2` "
                  "(\"launched\" is Workers Launched from EXPLAIN ANALYZE); ml.train runs in the same two modes")
        md.append("- end to end, ml_ext: ml.train as above but deployed, then `CREATE TABLE classic_lr_ml AS SELECT "
                  "id, (ml.predict_proba('classic_lr_e2e', c))[2] AS p FROM c` / `CREATE TABLE classic_km_ml AS "
                  "SELECT id, ml.predict('classic_km_e2e', k)::int AS cluster FROM k` "
                  "(ml.train's statistics, sample and evaluation passes included)")
        md.append("- end to end, alternative: `COPY (SELECT id, label::int, x[1], ..., x[10] FROM c) TO STDOUT "
                  "WITH (FORMAT binary)` into this process, parsed with numpy.frombuffer; "
                  "`LogisticRegression(penalty=None, max_iter=1000)` / `KMeans(n_clusters=8, n_init=10, "
                  "random_state=0)`; predictions written back with `COPY ... FROM STDIN WITH (FORMAT binary)` "
                  "into a table created in the timed span; both sides timed from the client, every phase included")
        replace_section(BEGIN, END, md, text)
        print("\nwrote the classic section of bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
