"""Accuracy of k-means (ml.train algorithm 'kmeans') against scikit-learn's KMeans, computed
here at test time.

- iris (150 x 4), k = 3: ml_ext's final inertia within 1% of sklearn's best of 10 restarts
  (KMeans(n_clusters=3, n_init=10)); centroids and cluster sizes consistent with the stored
  inertia; ml.predict gives the nearest centroid.
- a generated 1,000,000 x 10 table of 8 Gaussian blobs of unequal size and spread, k = 8:
  final inertia within 1% of sklearn's best of 10, and the Lloyd passes run in parallel
  workers.
- the same seed gives the same model; another seed may differ but stays within 1%.
"""

import io

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris


def _load(cur, name, X):
    k = X.shape[1]
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (id int, %s)" % (name, ", ".join("f%d float8" % (j + 1) for j in range(k))))
    buf = io.StringIO()
    for i in range(X.shape[0]):
        buf.write(str(i) + "\t" + "\t".join(repr(float(v)) for v in X[i]) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("ANALYZE %s" % name)


def _inertia(X, C):
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    return float(d2.min(axis=1).sum()), d2.argmin(axis=1)


def checks(conn, report, compare):
    cur = conn.cursor()
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_km%'")

    # --- iris
    X = load_iris().data.astype(float)
    _load(cur, "acc_km_iris", X)
    ref = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    cur.execute("SELECT metrics FROM ml.train('acc_km_iris', 'acc_km_iris', NULL, 'kmeans', "
                "options => '{\"k\": 3, \"exclude\": [\"id\"]}')")
    metrics = cur.fetchone()[0]
    got = metrics.get("inertia")
    report("kmeans iris k=3: inertia within 1%% of sklearn best-of-10 (%.4f)" % ref.inertia_,
           got is not None and got <= ref.inertia_ * 1.01, "got %s" % got)
    cur.execute("SELECT cluster, size, centroid FROM ml.centroids('acc_km_iris') ORDER BY cluster")
    rows = cur.fetchall()
    C = np.array([r[2] for r in rows])
    direct, labels = _inertia(X, C)
    compare("kmeans iris: stored inertia equals the inertia of the stored centroids", got, direct, 1e-9)
    report("kmeans iris: cluster sizes are the counts of nearest rows",
           [r[1] for r in rows] == [int(np.sum(labels == c)) for c in range(3)],
           "sizes %s" % [r[1] for r in rows])
    cur.execute("SELECT ml.predict('acc_km_iris', t)::int FROM acc_km_iris t ORDER BY id")
    report("kmeans iris: ml.predict is the nearest centroid",
           [r[0] for r in cur.fetchall()] == labels.tolist(), "")
    cur.execute("SELECT ml.model('acc_km_iris')")
    first = bytes(cur.fetchone()[0])
    cur.execute("SELECT version FROM ml.train('acc_km_iris', 'acc_km_iris', NULL, 'kmeans', "
                "options => '{\"k\": 3, \"exclude\": [\"id\"]}')")
    cur.execute("SELECT ml.model('acc_km_iris')")
    report("kmeans iris: the same seed gives the same model", bytes(cur.fetchone()[0]) == first, "")

    # --- 1,000,000 x 10, 8 blobs
    rng = np.random.default_rng(2026)
    n, d, k = 1000000, 10, 8
    centers = rng.uniform(-10, 10, size=(k, d))
    weights = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])
    labels = rng.choice(k, size=n, p=weights)
    spread = np.array([0.5, 1.0, 1.5, 2.0, 1.0, 3.0, 0.8, 2.5])
    G = centers[labels] + rng.normal(size=(n, d)) * spread[labels][:, None]
    _load(cur, "acc_km_big", G)
    ref = KMeans(n_clusters=k, n_init=10, random_state=0).fit(G)
    cur.execute("SET max_parallel_workers_per_gather = 2")
    cur.execute("SELECT metrics FROM ml.train('acc_km_big', 'acc_km_big', NULL, 'kmeans', "
                "options => '{\"k\": 8, \"exclude\": [\"id\"], \"seed\": 7}')")
    got = cur.fetchone()[0].get("inertia")
    report("kmeans 1M x 10, k=8: inertia within 1%% of sklearn best-of-10 (%.6g)" % ref.inertia_,
           got is not None and got <= ref.inertia_ * 1.01,
           "got %s (ratio %.6f)" % (got, (got or 0) / ref.inertia_))
    cur.execute("SELECT count(*), min(processes), min(workers_planned) FROM ml.training_info('acc_km_big') "
                "WHERE name = 'lloyd'")
    npass, minproc, minplanned = cur.fetchone()
    report("kmeans 1M x 10: every Lloyd pass ran in parallel workers",
           npass >= 1 and minproc > 1 and minplanned >= 1,
           "%d passes, min processes %s, min workers planned %s" % (npass, minproc, minplanned))
    cur.execute("RESET max_parallel_workers_per_gather")

    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_km%'")
    cur.execute("DROP TABLE acc_km_iris, acc_km_big")
