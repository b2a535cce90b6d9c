#!/usr/bin/python3
"""Benchmark of ml_ext linear regression training and scoring (run by `make bench`).

Against the database the PG* environment variables point at (scripts/bench.sh starts
the throwaway cluster): builds t(y float8, x float8[]) with 1,000,000 rows and 10
features, then times, in interleaved rounds (each round runs every variant once, in
order; the median per variant is reported):

  scan      SELECT sum(y + x[1]) FROM t                      the baseline
  fit       SELECT ml.linreg_fit(y, x) FROM t
  predict   SELECT sum(ml.predict(m, x)) FROM t              m bound once (a constant)
  sql expr  SELECT sum(b0 + b1*x[1] + ... + b10*x[10]) FROM t  literal coefficients

each serially (max_parallel_workers_per_gather = 0) and with 2 parallel workers (forced
with zero parallel costs).  Times are client-side (time.perf_counter around execute and
fetch).  Peak backend memory (VmHWM of /proc/<pid>/status) is measured for the training
query and the baseline scan, each in a fresh serial connection.  Prints a table and
writes bench/RESULTS.md.  Targets (training and predict <= 1.3x the scan baseline,
predict faster than the SQL expression) are reported, not asserted.

    /usr/bin/python3 bench/linreg.py [--rows N] [--rounds R] [--no-write]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
NFEAT = 10

SERIAL = ["SET max_parallel_workers_per_gather = 0"]
PARALLEL = ["SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
            "SET min_parallel_table_scan_size = 0", "SET max_parallel_workers_per_gather = 2"]


def connect():
    c = psycopg2.connect("")
    c.autocommit = True
    return c


def setup(cur, rows):
    cur.execute("CREATE EXTENSION IF NOT EXISTS ml_ext")
    cur.execute("SELECT count(*) FROM pg_class WHERE relname = 't' AND relkind = 'r'")
    if cur.fetchone()[0]:
        cur.execute("SELECT count(*) FROM t")
        if cur.fetchone()[0] == rows:
            return False
    cur.execute("DROP TABLE IF EXISTS t")
    cur.execute("SELECT setseed(0.42)")
    feats = ", ".join("random()" for _ in range(NFEAT))
    beta = " + ".join("%g * x[%d]" % ((-1) ** j * (j + 1) * 0.5, j + 1) for j in range(NFEAT))
    cur.execute("CREATE TABLE t (y float8, x float8[])")
    cur.execute("INSERT INTO t SELECT 1.5 + %s + 0.1 * random(), x "
                "FROM (SELECT ARRAY[%s]::float8[] AS x FROM generate_series(1, %d)) s"
                % (beta, feats, rows))
    cur.execute("VACUUM ANALYZE t")
    return True


def workers_launched(cur, sql):
    cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
    plan = cur.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)

    def walk(p):
        n = 0
        if isinstance(p, dict):
            n += int(p.get("Workers Launched", 0) or 0)
            for v in p.values():
                n += walk(v)
        elif isinstance(p, list):
            for v in p:
                n += walk(v)
        return n
    return walk(plan)


def run_timed(cur, settings, sql, args=None):
    for s in settings:
        cur.execute(s)
    t0 = time.perf_counter()
    cur.execute(sql, args)
    cur.fetchall()
    return time.perf_counter() - t0


def time_variants(cur, variants, rounds, what):
    """Time (name, mode, settings, sql, args) variants: the Workers Launched of each
    non-serial one (do parallel plans really launch workers?), a warm-up run of each
    (caches, fn_extra paths), then interleaved rounds.  Returns (launched by name,
    seconds by (name, mode))."""
    launched = {}
    for name, mode, settings, sql, args in variants:
        if mode != "serial":
            for s in settings:
                cur.execute(s)
            launched[name] = workers_launched(cur, cur.mogrify(sql, args).decode())
    for name, mode, settings, sql, args in variants:
        run_timed(cur, settings, sql, args)
    times = {(v[0], v[1]): [] for v in variants}
    for r in range(rounds):
        for name, mode, settings, sql, args in variants:
            times[(name, mode)].append(run_timed(cur, settings, sql, args))
        print("%s %d/%d done" % (what, r + 1, rounds), file=sys.stderr, flush=True)
    return launched, times


def vm_hwm(sql, args=None):
    """Peak resident memory (kB) of a fresh serial backend after running sql."""
    c = connect()
    cur = c.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    for s in SERIAL:
        cur.execute(s)

    def read():
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            return None
    before = read()
    cur.execute(sql, args)
    cur.fetchall()
    after = read()
    c.close()
    return before, after


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine():
    info = {"nproc": os.cpu_count(), "cpu": platform.processor() or "?", "mem": "?",
            "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["mem"] = "%.1f GiB" % (int(line.split()[1]) / 1048576.0)
    except OSError:
        pass
    blas = []
    for lib in ("libblas.so.3", "liblapack.so.3"):
        p = "/usr/lib/x86_64-linux-gnu/" + lib
        if os.path.exists(p):
            blas.append("%s -> %s" % (lib, os.path.realpath(p)))
    info["blas"] = "; ".join(blas) or "?"
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version}\\n",
                              "libopenblas0-pthread", "libopenblas0", "liblapacke"],
                             capture_output=True, text=True).stdout.strip()
        if out:
            info["blas"] += " (" + ", ".join(out.splitlines()) + ")"
    except OSError:
        pass
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()

    load0 = loadavg()
    conn = connect()
    cur = conn.cursor()
    t0 = time.perf_counter()
    created = setup(cur, a.rows)
    if created:
        print("built t: %d rows, %d features (%.1f s)" % (a.rows, NFEAT, time.perf_counter() - t0))
    cur.execute("SELECT pg_size_pretty(pg_total_relation_size('t')), version(), "
                "current_setting('shared_buffers'), current_setting('work_mem')")
    size, version, sb, wm = cur.fetchone()

    # the trained model (bound once as a constant) and its coefficients for the SQL expression
    cur.execute("SELECT ml.linreg_fit(y, x) FROM t")
    model = cur.fetchone()[0]
    cur.execute("SELECT term, estimate FROM ml.coefficients(%s::bytea)", (model,))
    coef = dict(cur.fetchall())
    expr = repr(float(coef["intercept"])) + "".join(
        " + (%r)*x[%d]" % (float(coef["x%d" % (j + 1)]), j + 1) for j in range(NFEAT))

    # a named model of the same data, trained through ml.train
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name = 'bench'")
    cur.execute("SELECT version FROM ml.train('bench', 't', 'y')")
    cur.execute("SELECT ml.model('bench')")
    named = cur.fetchone()[0]

    queries = [
        ("scan", "SELECT sum(y + x[1]) FROM t", None),
        ("fit", "SELECT ml.linreg_fit(y, x) FROM t", None),
        ("ml.train", "SELECT version FROM ml.train('bench', 't', 'y', options => '{\"deploy\": false}')", None),
        ("train fit pass", "SELECT ml._linreg_train((src.y)::float8, false, false, %s::bytea, src.x) "
         "FROM t AS src", (named,)),
        ("predict", "SELECT sum(ml.predict(%s::bytea, x)) FROM t", (model,)),
        ("predict name", "SELECT sum(ml.predict('bench', x)) FROM t", None),
        ("predict row", "SELECT sum(ml.predict('bench', r)) FROM t r", None),
        ("sql expr", "SELECT sum(%s) FROM t" % expr, None),
    ]
    variants = []
    for mode, settings in (("serial", SERIAL), ("2 workers", PARALLEL)):
        for name, sql, args in queries:
            variants.append((name, mode, settings, sql, args))

    launched, times = time_variants(cur, variants, a.rounds, "round")
    cur.execute("SELECT string_agg(p->>'name', ', ' ORDER BY (p->>'pass')::int), count(*) "
                "FROM ml.models m, jsonb_array_elements(m.training_info->'passes') p "
                "WHERE m.name = 'bench' AND m.version = (SELECT max(version) FROM ml.models WHERE name = 'bench')")
    train_passes, ntrain_passes = cur.fetchone()
    conn.close()

    med = {k: statistics.median(v) for k, v in times.items()}
    hwm_fit = vm_hwm("SELECT ml.linreg_fit(y, x) FROM t")
    hwm_scan = vm_hwm("SELECT sum(y + x[1]) FROM t")

    lines = []
    lines.append("| query | mode | median ms | min ms | max ms | vs scan (same mode) |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for name, mode, _, _, _ in variants:
        v = times[(name, mode)]
        lines.append("| %s | %s%s | %.1f | %.1f | %.1f | %.2fx |" % (
            name, mode, "" if mode == "serial" else " (launched %d)" % launched[name],
            med[(name, mode)] * 1e3, min(v) * 1e3, max(v) * 1e3, med[(name, mode)] / med[("scan", mode)]))
    table = "\n".join(lines)

    def ratio(a_, b_, mode):
        return med[(a_, mode)] / med[(b_, mode)]
    targets = []
    for mode in ("serial", "2 workers"):
        rf, rp, rx = ratio("fit", "scan", mode), ratio("predict", "scan", mode), ratio("predict", "sql expr", mode)
        targets.append("- %s: training %.2fx scan (target <= 1.3x: %s); predict %.2fx scan (target <= 1.3x: %s); "
                       "predict / SQL expression %.2fx (target < 1: %s)" % (
                           mode, rf, "met" if rf <= 1.3 else "NOT met", rp, "met" if rp <= 1.3 else "NOT met",
                           rx, "met" if rx < 1 else "NOT met"))
    for mode in ("serial", "2 workers"):
        rt, rn, rr = ratio("ml.train", "fit", mode), ratio("predict name", "predict", mode), \
            ratio("predict row", "predict", mode)
        targets.append("- %s: ml.train %.2fx the raw aggregate (target <= 1.1x: %s; ml.train's passes over t: "
                       "%d (%s); that pass alone, rows encoded from the columns, is %.2fx "
                       "the raw aggregate); by-name predict %.2fx bytea predict (target <= 1.1x: %s); "
                       "by-row predict (column lookup and encoding) %.2fx bytea predict" % (
                           mode, rt, "met" if rt <= 1.1 else "NOT met", ntrain_passes, train_passes,
                           ratio("train fit pass", "fit", mode),
                           rn, "met" if rn <= 1.1 else "NOT met", rr))
    speed = []
    for name in ("scan", "fit", "predict", "sql expr"):
        speed.append("%s %.2fx" % (name, med[(name, "serial")] / med[(name, "2 workers")]))
    mem = ("- peak backend memory (VmHWM, fresh serial connection; includes the shared buffers the scan "
           "touched): training %s kB (connection start %s kB); scan baseline %s kB (start %s kB)"
           % (hwm_fit[1], hwm_fit[0], hwm_scan[1], hwm_scan[0]))
    if None not in hwm_fit and None not in hwm_scan:
        mem += "; training minus scan: %d kB" % (hwm_fit[1] - hwm_scan[1])

    m = machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = []
    out.append("Table t: %d rows, %d float8 features in a float8[] column, %s; shared_buffers %s, work_mem %s"
               % (a.rows, NFEAT, size, sb, wm))
    out.append("%d interleaved rounds, median of client-side wall time (psycopg2, time.perf_counter); "
               "load average before / after: %s / %s" % (a.rounds, load0, loadavg()))
    out.append("")
    out.append(table)
    out.append("")
    out.append("Targets (reported, not asserted):")
    out += targets
    out.append("- parallel speed-up (serial / 2 workers): " + ", ".join(speed))
    out.append(mem)
    text = "\n".join(out)
    print()
    print(text)

    if not a.no_write:
        md = []
        md.append("# ml_ext benchmark results")
        md.append("")
        md.append("Produced by `make bench` (scripts/bench.sh -> bench/linreg.py) on %s." % now)
        md.append("")
        md.append("## Machine")
        md.append("")
        md.append("- CPU: %s, nproc %s" % (m["cpu"], m["nproc"]))
        md.append("- memory: %s; kernel %s" % (m["mem"], m["kernel"]))
        md.append("- PostgreSQL: %s" % version)
        md.append("- BLAS/LAPACK: %s" % m["blas"])
        md.append("- cluster: the throwaway cluster of scripts/cluster.sh (fsync off, "
                  "max_parallel_workers_per_gather 2, OPENBLAS_NUM_THREADS=1)")
        md.append("")
        md.append("## Queries")
        md.append("")
        md.append("- scan: `SELECT sum(y + x[1]) FROM t` (baseline)")
        md.append("- fit: `SELECT ml.linreg_fit(y, x) FROM t`")
        md.append("- predict: `SELECT sum(ml.predict(m, x)) FROM t`, m the model trained on t, bound once as a constant")
        md.append("- sql expr: `SELECT sum(b0 + b1*x[1] + ... + b10*x[10]) FROM t` with the same coefficients as literals")
        md.append("- ml.train: `SELECT version FROM ml.train('bench', 't', 'y', options => '{\"deploy\": false}')` "
                  "(every column but y, i.e. the 10 array elements; the whole call: its pass over t, the fit, "
                  "the metrics and the registry row)")
        md.append("- train fit pass: `SELECT ml._linreg_train((src.y)::float8, false, false, m, src.x) FROM t AS src`, "
                  "m the model of ml.train bound once as its encoder (the pass exactly as ml.train runs it)")
        md.append("- predict name: `SELECT sum(ml.predict('bench', x)) FROM t` (deployed model looked up by name)")
        md.append("- predict row: `SELECT sum(ml.predict('bench', r)) FROM t r` (row scored by column name)")
        md.append("- serial: `max_parallel_workers_per_gather = 0`; 2 workers: `parallel_setup_cost = 0, "
                  "parallel_tuple_cost = 0, min_parallel_table_scan_size = 0, max_parallel_workers_per_gather = 2` "
                  "(\"launched\" is Workers Launched from EXPLAIN ANALYZE)")
        md.append("")
        md.append("## Results")
        md.append("")
        md.append(text)
        md.append("")
        # the other benchmarks' sections (bench/classic.py, bench/trees.py) stay
        path = os.path.join(HERE, "RESULTS.md")
        rest = ""
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
            if "\n<!-- " in old:
                rest = old[old.index("\n<!-- ") + 1:]
        with open(path, "w") as f:
            f.write("\n".join(md) + ("\n" + rest if rest else ""))
        print("\nwrote bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
