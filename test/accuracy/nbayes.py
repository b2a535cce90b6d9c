"""Accuracy of naive Bayes (ml.train algorithm 'naive_bayes') against scikit-learn's
GaussianNB and MultinomialNB, computed here at test time.

iris (text labels), wine and digits (integer labels) with the Gaussian model (same
var_smoothing), digits pixel counts with the multinomial model (same alpha): predicted labels
identical to sklearn's on every row, class probabilities within 1e-9, through ml.train and
by-row scoring; the plain aggregate ml.naive_bayes_fit gives the same model as ml.train;
ml.evaluate's multiclass metrics equal sklearn.metrics (macro averages, log loss).
"""

import io
import re

import numpy as np
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score
from sklearn.naive_bayes import GaussianNB, MultinomialNB


def _load(cur, X, labels, label_type):
    k = X.shape[1]
    cur.execute("DROP TABLE IF EXISTS acc_nb")
    cur.execute("CREATE TABLE acc_nb (id int, %s, label %s)" %
                (", ".join("f%d float8" % (j + 1) for j in range(k)), label_type))
    buf = io.StringIO()
    for i in range(X.shape[0]):
        buf.write("\t".join([str(i)] + [repr(float(v)) for v in X[i]] + [str(labels[i])]) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY acc_nb FROM STDIN", buf)
    cur.execute("ALTER TABLE acc_nb ADD COLUMN x float8[]")
    cur.execute("UPDATE acc_nb SET x = ARRAY[%s]" % ", ".join("f%d" % (j + 1) for j in range(k)))
    cur.execute("ANALYZE acc_nb")


def _case(cur, report, compare, name, X, labels, label_type, sk, options):
    _load(cur, X, labels, label_type)
    k = X.shape[1]
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name = 'acc_nb'")
    cur.execute("SELECT metrics FROM ml.train('acc_nb', '(SELECT %s, label FROM acc_nb)', 'label', "
                "'naive_bayes', options => %%s)" % ", ".join("f%d" % (j + 1) for j in range(k)),
                (options,))
    metrics = cur.fetchone()[0]
    cur.execute("SELECT ml.classes('acc_nb')")
    classes = cur.fetchone()[0]
    report("%s: classes in sklearn's order" % name,
           classes == [str(c) for c in sk.classes_], "got %s, sklearn %s" % (classes, list(sk.classes_)))
    cur.execute("SELECT ml.predict_label('acc_nb', t), ml.predict_proba('acc_nb', t) FROM acc_nb t ORDER BY id")
    rows = cur.fetchall()
    ref_label = [str(c) for c in sk.predict(X)]
    got_label = [r[0] for r in rows]
    ndiff = sum(1 for a, b in zip(got_label, ref_label) if a != b)
    report("%s: predicted labels identical to sklearn on all %d rows" % (name, len(rows)), ndiff == 0,
           "%d differ" % ndiff)
    compare("%s: predict_proba vs sklearn (absolute 1e-9)" % name,
            np.array([r[1] for r in rows]).ravel(), sk.predict_proba(X).ravel(), 0, floor=1e-9)
    compare("%s: training accuracy vs sklearn score" % name, metrics.get("accuracy"),
            sk.score(X, labels if label_type == "text" else np.asarray(labels)), 1e-12)
    return classes


def checks(conn, report, compare):
    cur = conn.cursor()

    iris = load_iris()
    names = np.array(iris.target_names)[iris.target]
    Xi = iris.data.astype(float)
    sk = GaussianNB().fit(Xi, names)
    _case(cur, report, compare, "gaussian NB iris", Xi, names, "text", sk, '{}')
    # ml.evaluate: multiclass metrics against sklearn.metrics
    cur.execute("SELECT metric, value FROM ml.evaluate('acc_nb', 'acc_nb')")
    ev = dict(cur.fetchall())
    pred = sk.predict(Xi)
    ref = [accuracy_score(names, pred), precision_score(names, pred, average="macro"),
           recall_score(names, pred, average="macro"), f1_score(names, pred, average="macro"),
           log_loss(names, sk.predict_proba(Xi), labels=sk.classes_)]
    compare("gaussian NB iris: ml.evaluate accuracy, macro precision/recall/f1, log_loss vs sklearn",
            [ev.get(m) for m in ("accuracy", "precision", "recall", "f1", "log_loss")], ref, 1e-9)

    wine = load_wine()
    Xw = wine.data.astype(float)
    sk = GaussianNB(var_smoothing=1e-6).fit(Xw, wine.target)
    _case(cur, report, compare, "gaussian NB wine (var_smoothing 1e-6)", Xw, wine.target, "int", sk,
          '{"var_smoothing": 1e-6}')

    digits = load_digits()
    Xd = digits.data.astype(float)
    sk = GaussianNB().fit(Xd, digits.target)
    _case(cur, report, compare, "gaussian NB digits", Xd, digits.target, "int", sk, '{}')

    sk = MultinomialNB(alpha=0.5).fit(Xd, digits.target)
    _case(cur, report, compare, "multinomial NB digits (alpha 0.5)", Xd, digits.target, "int", sk,
          '{"distribution": "multinomial", "alpha": 0.5}')

    # the plain aggregate over class numbers (default alpha 1)
    sk1 = MultinomialNB(alpha=1.0).fit(Xd, digits.target)
    cur.execute("SELECT ml.predict_proba((SELECT ml.naive_bayes_fit(label, x, 10, 'multinomial') FROM acc_nb), x) "
                "FROM acc_nb ORDER BY id")
    compare("multinomial NB: the plain aggregate ml.naive_bayes_fit vs sklearn MultinomialNB(alpha=1)",
            np.array([r[0] for r in cur.fetchall()]).ravel(), sk1.predict_proba(Xd).ravel(), 0, floor=1e-9)

    # a parallel plan gives the serial model
    cur.execute("CREATE TABLE acc_nb_big AS SELECT label, x FROM acc_nb, generate_series(1, 100)")
    cur.execute("ANALYZE acc_nb_big")
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("SELECT ml.naive_bayes_fit(label, x, 10) FROM acc_nb_big")
    serial = cur.fetchone()[0]
    for s in ("parallel_setup_cost = 0", "parallel_tuple_cost = 0", "min_parallel_table_scan_size = 0",
              "max_parallel_workers_per_gather = 2"):
        cur.execute("SET " + s)
    # whether the workers get rows before the leader has read them all is a
    # matter of timing on a busy machine; with the leader out of the scan,
    # every row goes through a worker whenever one was launched (a few tries
    # in case no worker slot was free)
    cur.execute("SET parallel_leader_participation = off")
    for _ in range(5):
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT ml.naive_bayes_fit(label, x, 10) FROM acc_nb_big")
        launched = max([int(w) for w in re.findall(r"'Workers Launched': (\d+)", str(cur.fetchone()[0]))] or [0])
        cur.execute("SELECT ml.naive_bayes_fit(label, x, 10), ml._processes(1) FROM acc_nb_big")
        parallel, processes = cur.fetchone()
        if launched >= 1:
            break
    cur.execute("RESET ALL")
    report("gaussian NB: parallel workers did the pass (leader not scanning)", launched >= 1 and processes >= 1,
           "%d workers launched, %d processes saw rows" % (launched, processes))
    cur.execute("SELECT max(abs(a - b)) FROM (SELECT unnest(ml.predict_proba(%s::bytea, x)) AS a, "
                "unnest(ml.predict_proba(%s::bytea, x)) AS b FROM acc_nb) s", (serial, parallel))
    diff = cur.fetchone()[0]
    report("gaussian NB: the parallel plan gives the serial probabilities (1e-12)", diff <= 1e-12,
           "max difference %g" % diff)

    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name = 'acc_nb'")
    cur.execute("DROP TABLE acc_nb, acc_nb_big")
