"""The model registry as a system: pg_dump/pg_restore keep every model,
concurrent training of one name gives distinct versions, and scoring by name
looks the model up once per query, not once per row.
"""

import os
import subprocess
import threading

import psycopg2


def _bin(name):
    path = os.path.join(os.environ.get("MLX_PG_BINDIR", "/usr/lib/postgresql/15/bin"), name)
    return path if os.path.exists(path) else name


def _connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def checks(conn, report, compare):
    cur = conn.cursor()
    src_db = conn.get_dsn_parameters()["dbname"]
    cur.execute("DROP TABLE IF EXISTS reg_data")
    cur.execute("CREATE TABLE reg_data AS SELECT i AS id, (i % 50)::float8 AS a, "
                "sin(i) AS b, (ARRAY['x','y','z'])[1 + i % 3] AS c, "
                "3 + 2 * (i % 50) - sin(i) + (i % 3) AS y FROM generate_series(1, 20000) i")
    cur.execute("ANALYZE reg_data")
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'reg_%'")

    # --- two sessions training the same name at once: distinct versions
    errors = []

    def train(i):
        try:
            c = _connect(src_db)
            c.cursor().execute("SELECT version FROM ml.train('reg_concurrent', 'reg_data', 'y', "
                               "options => '{\"exclude\": [\"id\"]}')")
            c.close()
        except Exception as e:  # noqa: BLE001
            errors.append(str(e))

    threads = [threading.Thread(target=train, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cur.execute("SELECT array_agg(version ORDER BY version), count(*) FILTER (WHERE deployed) "
                "FROM ml.models WHERE name = 'reg_concurrent'")
    versions, deployed = cur.fetchone()
    report("registry: 4 concurrent ml.train of one name give versions 1..4, one deployed",
           not errors and versions == [1, 2, 3, 4] and deployed == 1,
           "errors %s, versions %s, deployed %s" % (errors, versions, deployed))

    # --- by-name scoring reads ml.models once per query, not per row
    cur.execute("BEGIN")
    cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cur.execute("SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
                "WHERE relid = 'ml.models'::regclass")
    before = cur.fetchone()[0]
    cur.execute("SELECT count(ml.predict('reg_concurrent', t)) FROM reg_data t")
    scored = cur.fetchone()[0]
    cur.execute("SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
                "WHERE relid = 'ml.models'::regclass")
    after = cur.fetchone()[0]
    cur.execute("COMMIT")
    report("registry: scoring %d rows by name scans ml.models at most twice" % scored,
           scored == 20000 and 1 <= after - before <= 2, "scans: %d" % (after - before))

    # --- ml.train's passes really run in parallel workers (forced parallel
    # plan, a table big enough that workers start before the leader is done)
    cur.execute("DROP TABLE IF EXISTS reg_big")
    cur.execute("CREATE TABLE reg_big AS SELECT i AS id, (i % 97)::float8 AS a, cos(i) AS b, "
                "1 + 2 * (i % 97) + cos(i) AS y FROM generate_series(1, 400000) i")
    cur.execute("ANALYZE reg_big")
    for s in ("parallel_setup_cost = 0", "parallel_tuple_cost = 0",
              "min_parallel_table_scan_size = 0", "max_parallel_workers_per_gather = 2"):
        cur.execute("SET " + s)
    # (whether workers get rows before the leader has read them all is timing,
    # which a loaded machine can lose: every pass must be planned parallel,
    # and in one of up to three trainings some pass seen by several processes)
    for attempt in range(3):
        cur.execute("SELECT version FROM ml.train('reg_parallel', '(SELECT * FROM reg_big)', 'y', "
                    "features => ARRAY['a', 'b'])")
        cur.execute("SELECT name, workers_planned, processes FROM ml.training_info('reg_parallel') ORDER BY pass")
        passes = cur.fetchall()
        if not all(p[1] == 2 for p in passes) or any(p[2] > 1 for p in passes):
            break
    report("registry: every ml.train pass is planned with 2 workers, and several processes saw rows",
           len(passes) >= 1 and all(p[1] == 2 for p in passes) and any(p[2] > 1 for p in passes),
           "passes %s" % passes)
    cur.execute("RESET ALL")
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE reg_big")

    # --- pg_dump / pg_restore keep every model, byte for byte
    cur.execute("SELECT version FROM ml.train('reg_dump', 'reg_data', 'y', features => ARRAY['a', 'c'])")
    cur.execute("SELECT version FROM ml.train('reg_dump', 'reg_data', 'y', features => ARRAY['a', 'b'], "
                "options => '{\"deploy\": false}')")
    # one model of every other family, scored after the restore as well
    cur.execute("SELECT version FROM ml.train('reg_dump_logit', '(SELECT a, b, y > 50 AS high FROM reg_data)', "
                "'high', 'logistic_regression', options => '{\"lambda\": 0.1}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_lasso', 'reg_data', 'y', 'lasso', "
                "features => ARRAY['a', 'b'], options => '{\"alpha\": 0.01}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_enet', 'reg_data', 'y', 'elastic_net', "
                "features => ARRAY['a', 'b'], options => '{\"alpha\": 0.01, \"l1_ratio\": 0.2}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_pca', 'reg_data', NULL, 'pca', "
                "features => ARRAY['a', 'b'])")
    cur.execute("SELECT version FROM ml.train('reg_dump_nb', 'reg_data', 'c', 'naive_bayes', "
                "features => ARRAY['a', 'b'])")
    cur.execute("SELECT version FROM ml.train('reg_dump_pois', '(SELECT a, b, round(y)::int AS y FROM reg_data)', "
                "'y', 'poisson_regression')")
    cur.execute("SELECT version FROM ml.train('reg_dump_km', 'reg_data', NULL, 'kmeans', "
                "features => ARRAY['a', 'b'], options => '{\"k\": 3}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_mlr', 'reg_data', 'c', 'logistic_regression', "
                "features => ARRAY['a', 'b'], options => '{\"lambda\": 0.5}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_gb', 'reg_data', 'y', 'gradient_boosting', "
                "features => ARRAY['a', 'b', 'c'], options => '{\"n_estimators\": 20}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_rf', 'reg_data', 'c', 'random_forest', "
                "features => ARRAY['a', 'b'], options => '{\"n_estimators\": 10}')")
    cur.execute("SELECT version FROM ml.train('reg_dump_dt', '(SELECT a, b, y > 50 AS high FROM reg_data)', "
                "'high', 'decision_tree', options => '{\"max_depth\": 4}')")
    fingerprint = ("SELECT sum((ml.predict_proba('reg_dump_logit', t))[2]), sum(ml.predict('reg_dump_lasso', t)), "
                   "sum(ml.predict('reg_dump_enet', t)), sum((ml.transform('reg_dump_pca', t))[1]), "
                   "sum((ml.predict_proba('reg_dump_nb', t))[3]), sum(ml.predict('reg_dump_pois', t)), "
                   "sum(ml.predict('reg_dump_km', t)), sum((ml.predict_proba('reg_dump_mlr', t))[3]), "
                   "sum(ml.predict('reg_dump_gb', t)), sum((ml.predict_proba('reg_dump_rf', t))[2]), "
                   "sum((ml.predict_proba('reg_dump_dt', t))[2]) FROM reg_data t")
    cur.execute(fingerprint)
    before_families = cur.fetchone()
    cur.execute("SELECT name, version, deployed, owner, model, metrics::text FROM ml.models "
                "ORDER BY name, version")
    before_rows = cur.fetchall()
    cur.execute("SELECT sum(ml.predict('reg_dump', t)) FROM reg_data t")
    before_sum = cur.fetchone()[0]
    dump = "/tmp/ml_ext_registry_%d.dump" % os.getpid()
    restore_db = "ml_restore_%d" % os.getpid()
    try:
        subprocess.run([_bin("pg_dump"), "-Fc", "-f", dump, src_db], check=True,
                       capture_output=True, text=True)
        cur.execute("DROP DATABASE IF EXISTS %s" % restore_db)
        cur.execute("CREATE DATABASE %s" % restore_db)
        r = subprocess.run([_bin("pg_restore"), "--exit-on-error", "-d", restore_db, dump],
                           capture_output=True, text=True)
        report("registry: pg_restore of a database with models succeeds", r.returncode == 0,
               r.stderr.strip()[:500])
        rconn = _connect(restore_db)
        rcur = rconn.cursor()
        rcur.execute("SELECT name, version, deployed, owner, model, metrics::text FROM ml.models "
                     "ORDER BY name, version")
        after_rows = rcur.fetchall()
        same = [(a[0], a[1], a[2], a[3], bytes(a[4]), a[5]) for a in before_rows] == \
               [(b[0], b[1], b[2], b[3], bytes(b[4]), b[5]) for b in after_rows]
        report("registry: every model (name, version, deployed, owner, bytes, metrics) survives "
               "pg_dump/pg_restore", same and len(after_rows) == len(before_rows) >= 6,
               "%d rows before, %d after" % (len(before_rows), len(after_rows)))
        rcur.execute("SELECT sum(ml.predict('reg_dump', t)) FROM reg_data t")
        compare("registry: by-name predictions after restore equal those before",
                rcur.fetchone()[0], before_sum, 1e-15)
        rcur.execute(fingerprint)
        compare("registry: logistic (binary and multinomial), lasso, elastic net, PCA, naive Bayes, Poisson, k-means and tree (boosting, forest, decision tree) models score the same after restore",
                rcur.fetchone(), before_families, 1e-15)
        rcur.execute("SELECT model_id > (SELECT max(id) FROM ml.models WHERE name <> 'reg_dump' OR version < 3), "
                     "version FROM ml.train('reg_dump', 'reg_data', 'y', features => ARRAY['a'])")
        ok, version = rcur.fetchone()
        report("registry: training after restore continues the versions and ids", ok and version == 3,
               "version %s" % version)
        rconn.close()
    finally:
        cur.execute("DROP DATABASE IF EXISTS %s" % restore_db)
        if os.path.exists(dump):
            os.unlink(dump)
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'reg_%'")
    cur.execute("DROP TABLE reg_data")
