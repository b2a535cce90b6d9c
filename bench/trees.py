#!/usr/bin/python3
"""Benchmark of ml_ext gradient boosting (run by `make bench` after classic.py).

Against the database the PG* environment variables point at (scripts/bench.sh starts the
throwaway cluster), builds, deterministically (setseed), a table of 1,000,000 rows

  tr(id bigint, label boolean, x1 .. x20 float8)

x uniform in [-2, 2]^20, label true with probability sigmoid(f(x) - 0.5), f a sum of
interactions of the first 14 features (products, a threshold times a feature, a sine, a
square, an absolute value times a feature); x15 .. x20 are noise.  The task is binary:
100 trees of depth 6 (learning rate 0.3, lambda 1, max_bins 255 / XGBoost max_bin 256),
and measures, in interleaved rounds (each round runs every variant once; medians):

1. Training, with 1 and with 2 processes / threads:

     ml_ext       SELECT version FROM ml.train('bench_gb', 'tr', 'label', 'gradient_boosting',
                  features => x1..x20, options => ...)   (client-side total: every pass, the
                  table scan included), and its passes from ml.models.training_info, among
                  them "train", the in-memory training phase;
     XGBoost      COPY (SELECT label::int, x1, ..., x20 FROM tr) TO STDOUT (FORMAT binary)
                  into this process, parsed with numpy.frombuffer; xgboost.DMatrix; and
                  xgboost.train (tree_method 'hist'), its "fit" (the quantile sketch and the
                  binning happen inside it).

   1 process: max_parallel_workers_per_gather = 0 vs nthread = 1; 2 processes: one
   parallel worker forced (parallel_setup_cost = 0, parallel_tuple_cost = 0,
   min_parallel_table_scan_size = 0, max_parallel_workers_per_gather = 1) vs nthread = 2.

2. Scoring the 1,000,000 rows, serially and with 2 workers (forced as above), next to the
   scan baseline:

     scan             SELECT sum(x1 + x2 + ... + x20) FROM tr
     predict row      SELECT sum(ml.predict('bench_gb', t)) FROM tr t     (by name, by column)
     predict bytea    SELECT sum(ml.predict(m, ARRAY[x1, ..., x20])) FROM tr   m bound once
     predict bytea, 1 tree   the same with m a model of one tree (same options,
                      n_estimators 1): what a per-row call costs besides the trees

Targets (reported, not asserted): ml_ext's total training time <= 1.0x COPY + XGBoost with
the same thread count (2); its in-memory training phase <= 2.0x XGBoost's fit alone;
scoring with ml.predict <= 2.0x the scan.  Prints the results and (unless --no-write)
replaces its own section of bench/RESULTS.md, between the trees:begin and trees:end
markers, leaving the rest as it is.

    /usr/bin/python3 bench/trees.py [--rows N] [--rounds R] [--train-rounds T] [--no-write]
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

import psycopg2

# XGBoost's OpenMP threads spin while they wait by default; on a small machine
# shared with the database server the spinning costs XGBoost far more than it
# saves (seen here: 2 threads several times slower than 1).  Passive waiting is
# its better setting here; it must be set before the OpenMP runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from classic import copy_out, pass_summary, replace_section  # noqa: E402
from linreg import PARALLEL, SERIAL, connect, loadavg, machine, run_timed, time_variants  # noqa: E402

NFEAT = 20
NTREES, DEPTH, ETA = 100, 6, 0.3
TOTAL_TARGET, TRAIN_TARGET, SCORE_TARGET = 1.0, 2.0, 2.0
# bump when the generated data changes: a table made by another version is rebuilt
GENERATOR = "bench/trees.py data v1"
BEGIN = "<!-- trees:begin -->"
END = "<!-- trees:end -->"
FEATS = ["x%d" % (j + 1) for j in range(NFEAT)]
# f(x): interactions of x1 .. x14 (SQL, over the columns of the inner query)
SIGNAL = ("1.5 * sin(x1) + x2 * x3 + 2 * (x4 > 0)::int * x5 - 0.8 * x6 * x6 "
          "+ 0.5 * x7 * x8 * (x9 > 0.5)::int + 0.7 * x10 + abs(x11) * x12 "
          "+ (CASE WHEN x13 > 1 THEN 1.0 ELSE -0.5 END) * x14")
OPTIONS = {"objective": "binary", "n_estimators": NTREES, "max_depth": DEPTH, "learning_rate": ETA,
           "lambda": 1.0, "min_child_weight": 1.0, "max_bins": 255, "seed": 0}
TRAIN_SQL = ("SELECT version FROM ml.train('bench_gb', 'tr', 'label', 'gradient_boosting', "
             "features => ARRAY[%s], options => '%s')" % (", ".join("'%s'" % f for f in FEATS),
                                                          json.dumps(OPTIONS)))
ONE_WORKER = ["SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
              "SET min_parallel_table_scan_size = 0", "SET max_parallel_workers_per_gather = 1"]
# (label, ml_ext settings, XGBoost nthread)
TRAIN_MODES = (("1 process / thread", SERIAL, 1), ("2 processes / threads", ONE_WORKER, 2))
SCORE_MODES = (("serial", SERIAL), ("2 workers", PARALLEL))


def table_ok(cur, rows):
    cur.execute("SELECT obj_description(oid, 'pg_class') FROM pg_class "
                "WHERE relname = 'tr' AND relkind = 'r' AND relnamespace = 'public'::regnamespace")
    r = cur.fetchone()
    return r is not None and r[0] == "%s, %d rows" % (GENERATOR, rows)


def setup(cur, rows):
    """Build tr unless this generator already built it with this many rows."""
    cur.execute("CREATE EXTENSION IF NOT EXISTS ml_ext")
    if table_ok(cur, rows):
        return False
    cur.execute("DROP TABLE IF EXISTS tr")
    cur.execute("SELECT setseed(0.27)")
    cur.execute("CREATE TABLE tr (id bigint, label boolean, %s)" % ", ".join("%s float8" % f for f in FEATS))
    # OFFSET 0: the features are drawn once per row, and the label from those same values
    cur.execute("INSERT INTO tr SELECT i, random() < 1 / (1 + exp(-(%s - 0.5))), %s "
                "FROM (SELECT i, %s FROM generate_series(1, %d) i OFFSET 0) s"
                % (SIGNAL, ", ".join(FEATS), ", ".join("4 * random() - 2 AS %s" % f for f in FEATS), rows))
    cur.execute("COMMENT ON TABLE tr IS %s", ("%s, %d rows" % (GENERATOR, rows),))
    cur.execute("VACUUM ANALYZE tr")
    return True


def threads_guc(cur):
    """Whether ml_ext has a setting for the threads of its in-memory training (then the
    modes set it to their thread count)."""
    try:
        cur.execute("LOAD 'ml_ext'")
    except psycopg2.Error:
        pass
    cur.execute("SELECT count(*) FROM pg_settings WHERE name = 'ml.training_threads'")
    return cur.fetchone()[0] == 1


def ml_train(cur, settings):
    """ml.train once; (seconds, passes of its training_info)."""
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name = 'bench_gb'")
    secs = run_timed(cur, settings, TRAIN_SQL)
    cur.execute("SELECT training_info->'passes' FROM ml.models WHERE name = 'bench_gb' AND deployed")
    return secs, cur.fetchone()[0]


def alt_train(np, xgb, cur, nthread, keep=None):
    """COPY out + parse, DMatrix, xgboost.train: phase seconds.  keep (a dict), when
    given, receives the data and the booster (for the agreement figures, not timed)."""
    t = [time.perf_counter()]
    rec = copy_out(np, cur, "SELECT label::int AS label, %s FROM tr" % ", ".join(FEATS),
                   [("label", ">i4")] + [(f, ">f8") for f in FEATS])
    X = np.column_stack([rec[f] for f in FEATS]).astype(np.float64)
    y = rec["label"].astype(np.float64)
    t.append(time.perf_counter())
    d = xgb.DMatrix(X, label=y, nthread=nthread)
    t.append(time.perf_counter())
    params = {"tree_method": "hist", "max_bin": 256, "nthread": nthread, "objective": "binary:logistic",
              "base_score": float(y.mean()), "max_depth": DEPTH, "eta": ETA, "lambda": 1.0,
              "min_child_weight": 1.0, "seed": 0}
    booster = xgb.train(params, d, NTREES)
    t.append(time.perf_counter())
    if keep is not None:
        keep["booster"] = booster
    return [t[i + 1] - t[i] for i in range(3)]


def agreement(np, cur, keep):
    """Training AUC of both models and their largest difference in P(true), on every row
    (not timed; the last models of the 2-thread mode)."""
    from sklearn.metrics import roc_auc_score
    import xgboost as xgb
    cur.execute("SELECT ml.classes('bench_gb')")
    cls = cur.fetchone()[0]
    # one scan: the features, the label and ml_ext's P(true) of the same row
    rec = copy_out(np, cur, "SELECT label::int AS label, %s, (ml.predict_proba('bench_gb', t))[%d] AS p FROM tr t"
                   % (", ".join(FEATS), len(cls)), [("label", ">i4")] + [(f, ">f8") for f in FEATS] + [("p", ">f8")])
    y = rec["label"].astype(np.float64)
    p_m = rec["p"].astype(np.float64)
    X = np.column_stack([rec[f] for f in FEATS]).astype(np.float64)
    # for scale: XGBoost's own scoring of the same rows, in memory (median of 3);
    # a new DMatrix each time (not timed), since a booster caches its predictions
    # of a DMatrix it has seen
    pred_s = {}
    for n in (1, 2):
        keep["booster"].set_param({"nthread": n})
        ts = []
        for _ in range(3):
            d = xgb.DMatrix(X, nthread=2)
            t0 = time.perf_counter()
            p_x = keep["booster"].predict(d)
            ts.append(time.perf_counter() - t0)
        pred_s[n] = statistics.median(ts)
    return ("- agreement (not timed, last 2-thread models, all %d rows; ml.classes %s): training AUC ml_ext %.5f, "
            "XGBoost %.5f; max |P(ml_ext) - P(XGBoost)| %.3g, mean %.3g\n"
            "- for scale: XGBoost's own predict of the same %d rows, in memory (a fresh DMatrix in, numpy out): "
            "nthread 1 %.0f ms, nthread 2 %.0f ms"
            % (len(p_m), cls, roc_auc_score(y, p_m), roc_auc_score(y, p_x),
               float(np.max(np.abs(p_m - p_x))), float(np.mean(np.abs(p_m - p_x))),
               len(p_m), pred_s[1] * 1e3, pred_s[2] * 1e3))


def load_xgboost():
    try:
        import numpy as np
        import xgboost as xgb
    except ImportError as e:
        return None, None, str(e)
    return np, xgb, "XGBoost %s, numpy %s" % (xgb.__version__, np.__version__)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the scoring timings")
    ap.add_argument("--train-rounds", type=int, default=3, help="interleaved training rounds per mode")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()

    load0 = loadavg()
    conn = connect()
    cur = conn.cursor()
    t0 = time.perf_counter()
    if setup(cur, a.rows):
        print("built tr: %d rows, %d features (%.1f s)" % (a.rows, NFEAT, time.perf_counter() - t0))
    cur.execute("SELECT pg_size_pretty(pg_total_relation_size('tr')), avg(label::int), version(), "
                "current_setting('shared_buffers'), current_setting('work_mem') FROM tr")
    size, positive, version, sb, wm = cur.fetchone()
    np, xgb, xgbinfo = load_xgboost()
    guc = threads_guc(cur)
    modes = [(mode, settings + (["SET ml.training_threads = %d" % nthread] if guc else []), nthread)
             for mode, settings, nthread in TRAIN_MODES]

    # 1. training, interleaved: ml_ext and the alternative, 1 then 2 processes / threads
    train = {}
    keep = {}
    for r in range(a.train_rounds):
        for mode, settings, nthread in modes:
            train.setdefault(("ml_ext", mode), []).append(ml_train(cur, settings))
            if np is not None:
                keep.clear()
                train.setdefault(("xgboost", mode), []).append(
                    alt_train(np, xgb, cur, nthread, keep if nthread == 2 else None))
        print("training round %d/%d done: %s" % (r + 1, a.train_rounds, "; ".join(
            "%s %s %.2f s" % (side, mode, v[-1][0] if side == "ml_ext" else sum(v[-1]))
            for (side, mode), v in train.items())), file=sys.stderr, flush=True)
    cur.execute("RESET ALL")
    cur.execute("SELECT ml.model('bench_gb')")
    model = cur.fetchone()[0]
    # a one-tree model: the cost of a per-row call without the trees (not timed)
    cur.execute(TRAIN_SQL.replace("'bench_gb'", "'bench_gb1'").replace(
        '"n_estimators": %d' % NTREES, '"n_estimators": 1'))
    cur.execute("SELECT ml.model('bench_gb1')")
    model1 = cur.fetchone()[0]
    cur.execute("SELECT ml.drop_model('bench_gb1')")

    # 2. scoring next to the scan baseline
    queries = [
        ("scan", "SELECT sum(%s) FROM tr" % " + ".join(FEATS), None),
        ("predict row", "SELECT sum(ml.predict('bench_gb', t)) FROM tr t", None),
        ("predict bytea", "SELECT sum(ml.predict(%%s::bytea, ARRAY[%s])) FROM tr" % ", ".join(FEATS),
         (psycopg2.Binary(model),)),
        ("predict bytea, 1 tree", "SELECT sum(ml.predict(%%s::bytea, ARRAY[%s])) FROM tr" % ", ".join(FEATS),
         (psycopg2.Binary(model1),)),
    ]
    variants = [(name, mode, settings, sql, args) for mode, settings in SCORE_MODES for name, sql, args in queries]
    launched, times = time_variants(cur, variants, a.rounds, "scoring round")
    med = {key: statistics.median(v) for key, v in times.items()}
    agree = None
    if np is not None and keep:
        for s in SERIAL:
            cur.execute(s)
        try:
            agree = agreement(np, cur, keep)
        except ImportError as e:
            agree = "- agreement: not measured (%s)" % e
        keep.clear()
    conn.close()

    # ---------------------------------------------------------------- report
    def verdict(ok):
        return "met" if ok else "NOT met"

    def pass_secs(passes, name):
        return sum(p["seconds"] for p in passes if p["name"] == name)

    lines = ["| training | mode | median s | min s | max s | phases (median s) |",
             "|---|---|---:|---:|---:|---|"]
    summary = {}
    for mode, _, nthread in TRAIN_MODES:
        runs = train[("ml_ext", mode)]
        tot = [s for s, _ in runs]
        names = []
        for _, passes in runs:
            for p in passes:
                if p["name"] not in names:
                    names.append(p["name"])
        ph = ", ".join("%s %.2f" % (n, statistics.median(pass_secs(ps, n) for _, ps in runs)) for n in names)
        last = runs[-1][1]
        procs = "/".join("%s %d" % (p["name"], p["processes"]) for p in last if p.get("workers_planned"))
        lines.append("| ml_ext ml.train | %s | %.2f | %.2f | %.2f | %s (passes: %s; processes: %s) |" % (
            mode, statistics.median(tot), min(tot), max(tot), ph, pass_summary(last), procs or "-"))
        summary[("ml_ext", mode)] = (statistics.median(tot),
                                     statistics.median(pass_secs(ps, "train") for _, ps in runs))
        if np is not None:
            runs = train[("xgboost", mode)]
            tot = [sum(r) for r in runs]
            med_ph = [statistics.median(r[i] for r in runs) for i in range(3)]
            lines.append("| COPY + XGBoost hist | nthread %d | %.2f | %.2f | %.2f | export+parse %.2f, DMatrix %.2f, "
                         "fit %.2f |" % (nthread, statistics.median(tot), min(tot), max(tot), *med_ph))
            summary[("xgboost", mode)] = (statistics.median(tot), med_ph[2])
    train_table = "\n".join(lines)

    lines = ["| query | mode | median ms | min ms | max ms | vs scan (same mode) |",
             "|---|---|---:|---:|---:|---:|"]
    for name, mode, _, _, _ in variants:
        v = times[(name, mode)]
        lines.append("| %s | %s%s | %.1f | %.1f | %.1f | %.2fx |" % (
            name, mode, "" if mode == "serial" else " (launched %d)" % launched[name],
            med[(name, mode)] * 1e3, min(v) * 1e3, max(v) * 1e3, med[(name, mode)] / med[("scan", mode)]))
    score_table = "\n".join(lines)

    targets = []
    for mode, _, nthread in TRAIN_MODES:
        if np is None:
            targets.append("- %s: XGBoost not measured (%s)" % (mode, xgbinfo))
            continue
        (mt, mtrain), (xt, xfit) = summary[("ml_ext", mode)], summary[("xgboost", mode)]
        rt, rf = mt / xt, mtrain / xfit
        t1 = t2 = ""
        if nthread == 2:
            t1 = " (target <= %.1fx: %s)" % (TOTAL_TARGET, verdict(rt <= TOTAL_TARGET))
            t2 = " (target <= %.1fx: %s)" % (TRAIN_TARGET, verdict(rf <= TRAIN_TARGET))
        targets.append("- %s: ml_ext total training %.2f s vs COPY + XGBoost %.2f s: %.2fx%s; in-memory training "
                       "phase (\"train\" pass) %.2f s vs XGBoost's fit alone %.2f s: %.2fx%s" % (
                           mode, mt, xt, rt, t1, mtrain, xfit, rf, t2))
    for mode, _ in SCORE_MODES:
        rr = med[("predict row", mode)] / med[("scan", mode)]
        rb = med[("predict bytea", mode)] / med[("scan", mode)]
        targets.append("- %s: scoring %d rows with ml.predict by name and row %.2fx the scan (target <= %.1fx: %s); "
                       "with the model bytea and an array %.2fx (target <= %.1fx: %s)" % (
                           mode, a.rows, rr, SCORE_TARGET, verdict(rr <= SCORE_TARGET), rb, SCORE_TARGET,
                           verdict(rb <= SCORE_TARGET)))
    targets.append("- the per-row call without the trees: a 1-tree model with the bytea and an array costs "
                   + ", ".join("%.2fx the scan %s" % (med[("predict bytea, 1 tree", mode)] / med[("scan", mode)],
                                                     mode) for mode, _ in SCORE_MODES)
                   + "; the other %d trees add the rest" % (NTREES - 1))

    out = []
    out.append("Table tr: %d rows, %d float8 feature columns and a boolean label (%.1f%% true), %s; "
               "shared_buffers %s, work_mem %s" % (a.rows, NFEAT, 100 * float(positive), size, sb, wm))
    out.append("Binary, %d trees of depth %d, learning rate %g; %d training round(s) and %d scoring rounds, "
               "interleaved, median of client-side wall time (psycopg2, time.perf_counter); ml_ext pass seconds "
               "from ml.models.training_info; ml.training_threads %s; load average before / after: %s / %s"
               % (NTREES, DEPTH, ETA, a.train_rounds, a.rounds,
                  "set to the thread count" if guc else "not a setting of this build", load0, loadavg()))
    out.append("")
    out.append(train_table)
    out.append("")
    out.append(score_table)
    out.append("")
    out.append("Targets (reported, not asserted; the training targets are for 2 processes / threads):")
    out += targets
    if agree:
        out.append(agree)
    text = "\n".join(out)
    print(flush=True)
    print(text, flush=True)

    if not a.no_write:
        m = machine()
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        md = [BEGIN, "## Gradient boosting (bench/trees.py)", ""]
        md.append("Produced by `make bench` (scripts/bench.sh -> bench/trees.py, after bench/classic.py) on %s." % now)
        md.append("")
        md.append("### Machine")
        md.append("")
        md.append("- CPU: %s, nproc %s; memory: %s; kernel %s" % (m["cpu"], m["nproc"], m["mem"], m["kernel"]))
        md.append("- PostgreSQL: %s" % version)
        md.append("- Python side: %s" % xgbinfo)
        md.append("")
        md.append("### Queries")
        md.append("")
        md.append("- tr: `tr(id bigint, label boolean, x1 .. x20 float8)`, x uniform in [-2, 2], label true with "
                  "probability 1 / (1 + exp(-(f - 0.5))), f = `%s` (setseed 0.27)" % SIGNAL)
        md.append("- ml_ext: `%s` (client-side time of the whole call: every pass, the scans included; the "
                  "\"train\" pass of training_info is the in-memory training phase)" % TRAIN_SQL)
        md.append("- COPY + XGBoost: `COPY (SELECT label::int, x1, ..., x20 FROM tr) TO STDOUT WITH (FORMAT binary)` "
                  "into this process, parsed with numpy.frombuffer; `xgboost.DMatrix(X, label=y, nthread=n)`; "
                  "`xgboost.train({tree_method: hist, max_bin: 256, objective: binary:logistic, base_score: "
                  "mean(y), max_depth: %d, eta: %g, lambda: 1, min_child_weight: 1, nthread: n}, d, %d)` "
                  "(\"fit\": the xgboost.train call, its quantile sketch and binning included)" % (DEPTH, ETA, NTREES))
        md.append("- 1 process / thread: ml_ext with `max_parallel_workers_per_gather = 0`%s, XGBoost nthread 1; "
                  "2 processes / threads: ml_ext with one parallel worker forced (`parallel_setup_cost = 0, "
                  "parallel_tuple_cost = 0, min_parallel_table_scan_size = 0, max_parallel_workers_per_gather = 1`%s), "
                  "XGBoost nthread 2" % ((", `ml.training_threads = 1`", ", `ml.training_threads = 2`") if guc
                                         else ("", "")))
        md.append("- scan: `SELECT sum(x1 + x2 + ... + x20) FROM tr`; predict row: `SELECT sum(ml.predict('bench_gb', "
                  "t)) FROM tr t`; predict bytea: `SELECT sum(ml.predict(m, ARRAY[x1, ..., x20])) FROM tr`, m the "
                  "model bound once as a constant; predict bytea, 1 tree: the same with a model of one tree "
                  "(the same options but n_estimators 1); serial: `max_parallel_workers_per_gather = 0`; 2 workers: "
                  "`parallel_setup_cost = 0, parallel_tuple_cost = 0, min_parallel_table_scan_size = 0, "
                  "max_parallel_workers_per_gather = 2` (\"launched\" is Workers Launched from EXPLAIN ANALYZE)")
        replace_section(BEGIN, END, md, text)
        print("\nwrote the trees section of bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
