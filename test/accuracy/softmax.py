"""Accuracy of multinomial logistic regression (ml.train 'logistic_regression' with
more than two classes) and of the L-BFGS solver, against statsmodels MNLogit and
scikit-learn, computed here at test time.

- unpenalized, generated data with overlapping classes (a finite optimum):
  coefficients (class 0 the reference) and log-likelihood vs statsmodels MNLogit,
  Newton converging in few passes;
- L2-penalized on iris, wine and digits: coefficients vs scikit-learn's multinomial
  LogisticRegression(C = 1/lambda) (symmetric parametrization, intercepts centred),
  with Newton and with L-BFGS, probabilities and labels by row, ml.evaluate's macro
  metrics vs sklearn.metrics, class weights 'balanced';
- binary logistic regression by L-BFGS vs scikit-learn, and wide binary models
  taking L-BFGS by themselves.
"""

import io

import numpy as np
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score


def _load(cur, name, X, labels):
    k = X.shape[1]
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (id int, %s, label text)" %
                (name, ", ".join("f%d float8" % (j + 1) for j in range(k))))
    buf = io.StringIO()
    for i in range(X.shape[0]):
        buf.write("\t".join([str(i)] + [repr(float(v)) for v in X[i]] + [labels[i]]) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("ANALYZE %s" % name)


def _train(cur, name, table, options):
    cur.execute("SELECT version FROM ml.train(%s, %s, 'label', 'logistic_regression', options => %s)",
                (name, table, options))


def _coef_matrix(cur, name, classes, k):
    cur.execute("SELECT class, term, estimate FROM ml.class_coefficients(ml.model(%s))", (name,))
    got = {(c, t): v for c, t, v in cur.fetchall()}
    terms = ["intercept"] + ["f%d" % (j + 1) for j in range(k)]
    return np.array([[got.get((c, t), np.nan) for t in terms] for c in classes])


def _info(cur, name):
    cur.execute("SELECT ml.model_info(ml.model(%s))", (name,))
    return cur.fetchone()[0]


def _proba(cur, name, table):
    cur.execute("SELECT ml.predict_proba(%s, t), ml.predict_label(%s, t) FROM %s t ORDER BY id" %
                ("%s", "%s", table), (name, name))
    rows = cur.fetchall()
    return np.array([r[0] for r in rows]), [r[1] for r in rows]


def _sk_matrix(sk):
    return np.column_stack([sk.intercept_, sk.coef_])


def checks(conn, report, compare):
    cur = conn.cursor()
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_sm%'")

    # --- unpenalized, generated: 3000 rows, 4 features, 4 overlapping classes
    rng = np.random.default_rng(7)
    n, k, K = 3000, 4, 4
    X = rng.normal(size=(n, k))
    B = np.array([[0, 0, 0, 0, 0], [0.5, 1.0, -0.5, 0.3, 0.0],
                  [-0.3, -0.7, 0.8, 0.0, 0.4], [0.2, 0.3, 0.3, -0.9, -0.6]])
    eta = B[:, :1].T + X @ B[:, 1:].T
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(K, p=p) for p in P])
    classes = ["c%d" % c for c in range(K)]
    _load(cur, "acc_sm_gen", X, [classes[c] for c in y])
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", maxiter=100, tol=1e-14, disp=0)
    refB = np.vstack([np.zeros(k + 1), np.asarray(ref.params).T])
    for solver in ("newton", "lbfgs"):
        _train(cur, "acc_sm_gen_" + solver, "acc_sm_gen",
               '{"exclude": ["id"], "solver": "%s", "tol": 1e-12}' % solver)
        got = _coef_matrix(cur, "acc_sm_gen_" + solver, classes, k)
        compare("multinomial unpenalized (%s): coefficients vs statsmodels MNLogit" % solver,
                got.ravel(), refB.ravel(), 1e-6, floor=1e-9)
        info = _info(cur, "acc_sm_gen_" + solver)
        compare("multinomial unpenalized (%s): log-likelihood and null log-likelihood vs statsmodels" % solver,
                [info.get("log_likelihood"), info.get("null_log_likelihood")], [ref.llf, ref.llnull], 1e-9)
        if solver == "newton":
            report("multinomial unpenalized: Newton converged in at most 12 passes",
                   info.get("converged") is True and info.get("passes", 99) <= 12,
                   "passes %s, iterations %s, converged %s" % (info.get("passes"), info.get("iterations"),
                                                              info.get("converged")))
    p, lab = _proba(cur, "acc_sm_gen_newton", "acc_sm_gen")
    pr = ref.predict(sm.add_constant(X))
    compare("multinomial unpenalized: predict_proba by row vs statsmodels predict", p.ravel(), pr.ravel(), 1e-8,
            floor=1e-12)
    report("multinomial: predict_label is the most probable class",
           lab == [classes[i] for i in pr.argmax(axis=1)], "")

    # --- penalized, symmetric parametrization: iris (raw), wine and digits (scaled)
    iris = load_iris()
    wine = load_wine()
    digits = load_digits()
    cases = [
        ("iris", iris.data, iris.target_names[iris.target], 1.0, ("newton", "lbfgs")),
        ("wine", (wine.data - wine.data.mean(axis=0)) / wine.data.std(axis=0),
         np.array(["w%d" % t for t in wine.target]), 0.5, ("newton", "lbfgs")),
        ("digits", digits.data / 16.0, np.array(["d%d" % t for t in digits.target]), 2.0, ("auto",)),
    ]
    for name, Xd, lab_d, lam, solvers in cases:
        table = "acc_sm_" + name
        _load(cur, table, Xd, list(lab_d))
        cls = sorted(set(lab_d))
        sk = LogisticRegression(C=1.0 / lam, multi_class="multinomial", solver="newton-cg",
                                tol=1e-12, max_iter=10000).fit(Xd, lab_d)
        assert list(sk.classes_) == cls
        for solver in solvers:
            model = "acc_sm_%s_%s" % (name, solver)
            _train(cur, model, table, '{"exclude": ["id"], "lambda": %r, "solver": "%s", "tol": 1e-12}'
                   % (lam, solver))
            got = _coef_matrix(cur, model, cls, Xd.shape[1])
            compare("multinomial %s lambda=%g (%s): coefficients vs sklearn LogisticRegression(C=1/lambda)"
                    % (name, lam, solver), got.ravel(), _sk_matrix(sk).ravel(), 1e-5, floor=1e-6)
            info = _info(cur, model)
            if solver == "auto":
                report("multinomial %s: %d coefficients take L-BFGS under solver auto" % (name, got.size),
                       info.get("solver") == "lbfgs", "solver %s" % info.get("solver"))
        p, labels = _proba(cur, model, table)
        compare("multinomial %s: predict_proba by row vs sklearn predict_proba" % name,
                p.ravel(), sk.predict_proba(Xd).ravel(), 1e-6, floor=1e-9)
        skl = sk.predict(Xd)
        report("multinomial %s: predict_label by row equals sklearn predict" % name,
               labels == list(skl), "%d of %d differ" % (sum(a != b for a, b in zip(labels, skl)), len(skl)))
        cur.execute("SELECT metric, value FROM ml.evaluate(%s, %s)", (model, table))
        ev = dict(cur.fetchall())
        pr_true = p[np.arange(len(lab_d)), [cls.index(v) for v in lab_d]]
        compare("multinomial %s: ml.evaluate accuracy, macro precision/recall/f1, log_loss vs sklearn" % name,
                [ev.get(m) for m in ("accuracy", "precision", "recall", "f1", "log_loss")],
                [accuracy_score(lab_d, labels), precision_score(lab_d, labels, average="macro"),
                 recall_score(lab_d, labels, average="macro"), f1_score(lab_d, labels, average="macro"),
                 log_loss(lab_d, p, labels=cls)], 1e-9)
        report("multinomial %s: ml.evaluate log_loss equals the mean -log P(actual class)" % name,
               abs(ev.get("log_loss", 0) - float(np.mean(-np.log(pr_true)))) < 1e-9, "")

    # --- class weights 'balanced' on wine (unequal class sizes)
    Xw = (wine.data - wine.data.mean(axis=0)) / wine.data.std(axis=0)
    lw = np.array(["w%d" % t for t in wine.target])
    sk = LogisticRegression(C=1.0, multi_class="multinomial", solver="newton-cg", tol=1e-12,
                            max_iter=10000, class_weight="balanced").fit(Xw, lw)
    _train(cur, "acc_sm_wine_bal", "acc_sm_wine", '{"exclude": ["id"], "lambda": 1, "class_weight": "balanced"}')
    compare("multinomial wine class_weight=balanced: coefficients vs sklearn",
            _coef_matrix(cur, "acc_sm_wine_bal", sorted(set(lw)), Xw.shape[1]).ravel(),
            _sk_matrix(sk).ravel(), 1e-5, floor=1e-6)

    # --- binary by L-BFGS: breast_cancer standardized, lambda 1, vs sklearn
    bc = load_breast_cancer()
    Xb = (bc.data - bc.data.mean(axis=0)) / bc.data.std(axis=0)
    yb = np.where(bc.target == 1, "benign", "malignant")
    _load(cur, "acc_sm_bc", Xb, list(yb))
    sk = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=10000).fit(Xb, yb)
    _train(cur, "acc_sm_bc_lbfgs", "acc_sm_bc", '{"exclude": ["id"], "lambda": 1, "solver": "lbfgs", "tol": 1e-12}')
    cur.execute("SELECT estimate, std_error FROM ml.coefficients(ml.model('acc_sm_bc_lbfgs'))")
    rows = cur.fetchall()
    compare("binary lambda=1 by L-BFGS: coefficients vs sklearn", [r[0] for r in rows],
            np.concatenate([sk.intercept_, sk.coef_[0]]), 1e-5, floor=1e-7)
    info = _info(cur, "acc_sm_bc_lbfgs")
    report("binary by L-BFGS: a binary logistic model without standard errors",
           info.get("algorithm") == "logistic_regression" and all(r[1] is None for r in rows),
           "algorithm %s" % info.get("algorithm"))

    # --- a binary design too wide for IRLS under solver auto: 400 features
    rng = np.random.default_rng(11)
    Xw2 = rng.normal(size=(1500, 400))
    beta = rng.normal(size=400) * 0.1
    yw2 = np.where(rng.random(1500) < 1 / (1 + np.exp(-(Xw2 @ beta))), "yes", "no")
    cur.execute("DROP TABLE IF EXISTS acc_sm_wide")
    cur.execute("CREATE TABLE acc_sm_wide (id int, x float8[], label text)")
    buf = io.StringIO()
    for i in range(Xw2.shape[0]):
        buf.write("%d\t{%s}\t%s\n" % (i, ",".join(repr(float(v)) for v in Xw2[i]), yw2[i]))
    buf.seek(0)
    cur.copy_expert("COPY acc_sm_wide FROM STDIN", buf)
    sk = LogisticRegression(C=1.0 / 5, solver="newton-cholesky", tol=1e-12, max_iter=10000).fit(Xw2, yw2)
    _train(cur, "acc_sm_wide", "acc_sm_wide", '{"exclude": ["id"], "lambda": 5, "tol": 1e-12}')
    cur.execute("SELECT estimate FROM ml.coefficients(ml.model('acc_sm_wide'))")
    compare("binary 400 features, lambda=5, solver auto (L-BFGS): coefficients vs sklearn",
            [r[0] for r in cur.fetchall()], np.concatenate([sk.intercept_, sk.coef_[0]]), 1e-5, floor=1e-7)

    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_sm%'")
    for t in ("acc_sm_gen", "acc_sm_iris", "acc_sm_wine", "acc_sm_digits", "acc_sm_bc", "acc_sm_wide"):
        cur.execute("DROP TABLE IF EXISTS %s" % t)
