"""Accuracy of ml_ext's evaluation-metric aggregates against scikit-learn.

checks(db, report, compare): db is an open psycopg2 connection (autocommit);
report(name, ok, detail) and compare(name, got, ref, rtol) come from
test/accuracy/run.py.  Data are generated here (numpy, seeded), loaded into
temporary tables with exact float round-trips, and every reference value is
computed by sklearn.metrics at test time.
"""

import io

import numpy as np
from sklearn import metrics as skm

RTOL = 1e-12


def _q1(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


def _load(cur, table, cols, rows):
    cur.execute("DROP TABLE IF EXISTS %s" % table)
    cur.execute("CREATE TEMP TABLE %s (%s)" % (table, ", ".join(cols)))
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join(repr(float(v)) if isinstance(v, (float, np.floating))
                            else ("t" if v is True or v is np.True_ else
                                  "f" if v is False or v is np.False_ else str(v))
                            for v in r) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY %s FROM STDIN" % table, buf)


def checks(db, report, compare):
    cur = db.cursor()
    rng = np.random.default_rng(20240611)

    # ------------------------------------------------------------ regression
    n = 20000
    y = 1e3 + 50 * rng.standard_normal(n)
    p = y + 5 * rng.standard_normal(n) + 2.0
    _load(cur, "acc_reg", ["y float8", "p float8"], zip(y, p))
    for name, fn in (("r2", skm.r2_score), ("mse", skm.mean_squared_error),
                     ("mae", skm.mean_absolute_error),
                     ("explained_variance", skm.explained_variance_score)):
        compare("metrics: ml.%s vs sklearn (%d rows)" % (name, n),
                _q1(cur, "SELECT ml.%s(y, p) FROM acc_reg" % name), fn(y, p), RTOL)
    compare("metrics: ml.rmse vs sqrt(sklearn mean_squared_error)",
            _q1(cur, "SELECT ml.rmse(y, p) FROM acc_reg"),
            np.sqrt(skm.mean_squared_error(y, p)), RTOL)
    # degenerate conventions
    got = _q1(cur, "SELECT ARRAY[ml.r2(y, p), ml.explained_variance(y, p)] "
                   "FROM (VALUES (2.0::float8, 2.0::float8), (2, 2), (2, 2)) v(y, p)")
    compare("metrics: r2/explained_variance of constant y predicted exactly",
            got, [skm.r2_score([2, 2, 2], [2, 2, 2]),
                  skm.explained_variance_score([2, 2, 2], [2, 2, 2])], 0)
    got = _q1(cur, "SELECT ARRAY[ml.r2(y, p), ml.explained_variance(y, p)] "
                   "FROM (VALUES (2.0::float8, 2.0::float8), (2, 2), (2, 3)) v(y, p)")
    compare("metrics: r2/explained_variance of constant y predicted wrongly",
            got, [skm.r2_score([2, 2, 2], [2, 2, 3]),
                  skm.explained_variance_score([2, 2, 2], [2, 2, 3])], 0)

    # ------------------------------------------------------------ multiclass
    n = 30000
    labels = np.array(["cat", "dog", "bird", "fish", "ant", "owl", "élan"])
    a = rng.integers(0, 6, n)                         # "élan" only ever predicted
    pr = np.where(rng.random(n) < 0.55, a, rng.integers(0, 7, n))
    ya, yp = labels[a], labels[pr]
    _load(cur, "acc_cls", ["a text", "p text"], zip(ya, yp))
    compare("metrics: ml.accuracy(text) vs sklearn accuracy_score",
            _q1(cur, "SELECT ml.accuracy(a, p) FROM acc_cls"), skm.accuracy_score(ya, yp), RTOL)
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                     ("f1", skm.f1_score)):
        compare("metrics: ml.%s(text) vs sklearn average='macro', zero_division=0" % name,
                _q1(cur, "SELECT ml.%s(a, p) FROM acc_cls" % name),
                fn(ya, yp, average="macro", zero_division=0), RTOL)
        for pos in ("dog", "élan"):
            compare("metrics: ml.%s(text, positive '%s') vs sklearn labels=[pos]" % (name, pos),
                    _q1(cur, "SELECT ml.%s(a, p, '%s') FROM acc_cls" % (name, pos)),
                    fn(ya, yp, labels=[pos], average=None, zero_division=0)[0], RTOL)

    # two text labels: sklearn's own average='binary' with pos_label
    yb = np.where(rng.random(n) < 0.3, "spam", "ham")
    pb = np.where(rng.random(n) < 0.8, yb, np.where(yb == "spam", "ham", "spam"))
    _load(cur, "acc_bin", ["a text", "p text"], zip(yb, pb))
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                     ("f1", skm.f1_score)):
        compare("metrics: ml.%s(text, 'spam') vs sklearn average='binary', pos_label" % name,
                _q1(cur, "SELECT ml.%s(a, p, 'spam') FROM acc_bin" % name),
                fn(yb, pb, pos_label="spam", average="binary", zero_division=0), RTOL)

    # ------------------------------------------------------------ boolean, log loss, AUC
    n = 40000
    yt = rng.random(n) < 0.35
    prob = 1 / (1 + np.exp(-(1.5 * yt - 0.7 + rng.standard_normal(n))))
    prob[:50] = 0.0                                   # clipped by eps
    prob[50:100] = 1.0
    score = np.round(prob * 40) / 40                  # many ties
    _load(cur, "acc_prob", ["y boolean", "prob float8", "score float8"], zip(yt, prob, score))
    yhat = prob > 0.5
    compare("metrics: ml.accuracy(boolean) vs sklearn",
            _q1(cur, "SELECT ml.accuracy(y, prob > 0.5) FROM acc_prob"),
            skm.accuracy_score(yt, yhat), RTOL)
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                     ("f1", skm.f1_score)):
        compare("metrics: ml.%s(boolean) vs sklearn average='binary'" % name,
                _q1(cur, "SELECT ml.%s(y, prob > 0.5) FROM acc_prob" % name),
                fn(yt, yhat, zero_division=0), RTOL)
    compare("metrics: ml.log_loss vs sklearn log_loss (eps='auto', 100 clipped rows)",
            _q1(cur, "SELECT ml.log_loss(y, prob) FROM acc_prob"),
            skm.log_loss(yt, prob, labels=[False, True]), RTOL)
    compare("metrics: ml.roc_auc vs sklearn roc_auc_score (continuous scores)",
            _q1(cur, "SELECT ml.roc_auc(y, prob) FROM acc_prob"),
            skm.roc_auc_score(yt, prob), RTOL)
    compare("metrics: ml.roc_auc vs sklearn roc_auc_score (%d distinct scores, ties)"
            % len(np.unique(score)),
            _q1(cur, "SELECT ml.roc_auc(y, score) FROM acc_prob"),
            skm.roc_auc_score(yt, score), RTOL)

    # ------------------------------------------------------------ GROUP BY
    g = rng.integers(0, 5, n)
    _load(cur, "acc_grp", ["g int", "y boolean", "prob float8"], zip(g, yt, prob))
    cur.execute("SELECT g, ml.roc_auc(y, prob), ml.log_loss(y, prob) FROM acc_grp GROUP BY g ORDER BY g")
    rows = cur.fetchall()
    got = [r[1] for r in rows] + [r[2] for r in rows]
    ref = [skm.roc_auc_score(yt[g == k], prob[g == k]) for k in range(5)] + \
          [skm.log_loss(yt[g == k], prob[g == k], labels=[False, True]) for k in range(5)]
    compare("metrics: per-group roc_auc and log_loss vs sklearn (GROUP BY, 5 groups)", got, ref, RTOL)
    for t in ("acc_reg", "acc_cls", "acc_bin", "acc_prob", "acc_grp"):
        cur.execute("DROP TABLE IF EXISTS %s" % t)
