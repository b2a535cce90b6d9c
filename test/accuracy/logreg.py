"""Accuracy of logistic regression (ml.train algorithm 'logistic_regression')
against statsmodels Logit and scikit-learn, computed here at test time.

breast_cancer (569 x 30, standardized as the issue asks) for the unpenalized
fit: coefficients and standard errors must match statsmodels Logit to 1e-6
relative in at most 12 IRLS passes; a penalized fit must match scikit-learn's
LogisticRegression(C = 1/lambda); probabilities, labels, the confusion matrix,
the ROC curve and ml.evaluate's metrics must match sklearn.metrics.
"""

import io

import numpy as np
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, log_loss,
                             precision_score, recall_score, roc_auc_score, roc_curve)


def _load(cur, X, y_labels):
    k = X.shape[1]
    cur.execute("DROP TABLE IF EXISTS acc_lr")
    cur.execute("CREATE TABLE acc_lr (id int, %s, label text)" %
                ", ".join("f%d float8" % (j + 1) for j in range(k)))
    buf = io.StringIO()
    for i in range(X.shape[0]):
        buf.write("\t".join([str(i)] + [repr(float(v)) for v in X[i]] + [y_labels[i]]) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY acc_lr FROM STDIN", buf)
    cur.execute("ANALYZE acc_lr")


def checks(conn, report, compare):
    cur = conn.cursor()
    data = load_breast_cancer()
    X = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    y = data.target.astype(float)                 # 1 = benign
    labels = np.where(y == 1, "benign", "malignant")
    _load(cur, X, labels)
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_lr%'")

    # --- unpenalized: statsmodels Logit (positive class = 'malignant', the
    # second label in text order, so the reference is fitted on y_m = 1 - y)
    y_m = 1 - y
    # a few features only: the full 30-feature breast_cancer is quasi-separable
    feats = [0, 1, 4, 7, 20, 21]
    Xs = sm.add_constant(X[:, feats])
    ref = sm.Logit(y_m, Xs).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    cur.execute("SELECT metrics FROM ml.train('acc_lr', 'acc_lr', 'label', 'logistic_regression', "
                "features => %s)", (["f%d" % (j + 1) for j in feats],))
    cur.execute("SELECT term, estimate, std_error, t_value, p_value FROM ml.coefficients(ml.model('acc_lr'))")
    rows = cur.fetchall()
    compare("logreg unpenalized: coefficients vs statsmodels Logit", [r[1] for r in rows], ref.params, 1e-6)
    compare("logreg unpenalized: standard errors vs statsmodels Logit", [r[2] for r in rows], ref.bse, 1e-6)
    compare("logreg unpenalized: z values vs statsmodels Logit", [r[3] for r in rows], ref.tvalues, 1e-6)
    compare("logreg unpenalized: p-values vs statsmodels Logit", [r[4] for r in rows], ref.pvalues, 1e-5)
    cur.execute("SELECT ml.model_info(ml.model('acc_lr'))")
    info = cur.fetchone()[0]
    compare("logreg unpenalized: log-likelihood and null log-likelihood vs statsmodels",
            [info.get("log_likelihood"), info.get("null_log_likelihood")], [ref.llf, ref.llnull], 1e-8)
    report("logreg unpenalized: converged in at most 12 IRLS passes",
           info.get("converged") is True and info.get("iterations", 99) <= 12,
           "iterations %s, converged %s" % (info.get("iterations"), info.get("converged")))
    cur.execute("SELECT ml.classes('acc_lr')")
    report("logreg: classes are the target's labels, positive last",
           cur.fetchone()[0] == ["benign", "malignant"], "")

    # probabilities and labels by row vs statsmodels' fitted model
    cur.execute("SELECT (ml.predict_proba('acc_lr', t))[2], ml.predict_label('acc_lr', t) "
                "FROM acc_lr t ORDER BY id")
    got = cur.fetchall()
    p_ref = ref.predict(Xs)
    compare("logreg: predict_proba by row vs statsmodels predict", [g[0] for g in got], p_ref, 1e-8)
    lab_ref = np.where(p_ref >= 0.5, "malignant", "benign")
    report("logreg: predict_label by row equals the thresholded reference",
           [g[1] for g in got] == list(lab_ref), "")

    # ml.evaluate, confusion matrix and ROC curve vs sklearn.metrics
    pred = np.array([g[1] for g in got])
    p1 = np.array([g[0] for g in got])
    cur.execute("SELECT metric, value FROM ml.evaluate('acc_lr', 'acc_lr')")
    ev = dict(cur.fetchall())
    pos = "malignant"
    compare("logreg: ml.evaluate accuracy, precision, recall, f1, log_loss, roc_auc vs sklearn",
            [ev.get(m) for m in ("accuracy", "precision", "recall", "f1", "log_loss", "roc_auc")],
            [accuracy_score(labels, pred), precision_score(labels, pred, pos_label=pos),
             recall_score(labels, pred, pos_label=pos), f1_score(labels, pred, pos_label=pos),
             log_loss(labels == pos, p1), roc_auc_score(labels == pos, p1)], 1e-9)
    cur.execute("SELECT actual, predicted, count FROM ml.confusion_matrix('acc_lr', 'acc_lr')")
    cm = {(a, p): c for a, p, c in cur.fetchall()}
    ref_cm = confusion_matrix(labels, pred, labels=["benign", "malignant"])
    got_cm = [[cm.get((a, p)) for p in ("benign", "malignant")] for a in ("benign", "malignant")]
    report("logreg: confusion_matrix vs sklearn confusion_matrix", got_cm == ref_cm.tolist(),
           "got %s, expected %s" % (got_cm, ref_cm.tolist()))
    cur.execute("SELECT fpr, tpr FROM ml.roc_curve('acc_lr', 'acc_lr')")
    rc = cur.fetchall()
    fpr, tpr, _ = roc_curve(labels == pos, p1, drop_intermediate=False)
    compare("logreg: roc_curve fpr vs sklearn roc_curve(drop_intermediate=False)", [r[0] for r in rc], fpr, 1e-12)
    compare("logreg: roc_curve tpr vs sklearn roc_curve(drop_intermediate=False)", [r[1] for r in rc], tpr, 1e-12)

    # --- L2 penalty on all 30 features: scikit-learn with C = 1/lambda.  The solver is
    # newton-cholesky: on these unscaled features lbfgs stops (line-search failure) with an
    # objective measurably above the optimum, so it is no reference to 1e-5.
    for lam in (0.5, 4.0):
        sk = LogisticRegression(C=1.0 / lam, tol=1e-12, max_iter=10000, solver="newton-cholesky").fit(X, y_m)
        cur.execute("SELECT version FROM ml.train('acc_lr_l2', 'acc_lr', 'label', 'logistic_regression', "
                    "options => %s)", ('{"lambda": %r, "exclude": ["id"]}' % lam,))
        cur.execute("SELECT estimate FROM ml.coefficients(ml.model('acc_lr_l2'))")
        got = [r[0] for r in cur.fetchall()]
        compare("logreg lambda=%g: coefficients vs sklearn LogisticRegression(C=1/lambda)" % lam,
                got, np.concatenate([sk.intercept_, sk.coef_[0]]), 1e-5)

    # --- a boolean target and class weights ('balanced' as sklearn)
    cur.execute("CREATE TEMP TABLE acc_lr_b AS SELECT id, f1, f2, f21, label = 'malignant' AS bad FROM acc_lr")
    sk = LogisticRegression(C=1.0, class_weight="balanced", tol=1e-12, max_iter=10000,
                            solver="newton-cholesky").fit(X[:, [0, 1, 20]], y_m)
    cur.execute("SELECT version FROM ml.train('acc_lr_w', 'acc_lr_b', 'bad', 'logistic_regression', "
                "options => '{\"lambda\": 1, \"class_weight\": \"balanced\", \"exclude\": [\"id\"]}')")
    cur.execute("SELECT estimate FROM ml.coefficients(ml.model('acc_lr_w'))")
    compare("logreg class_weight=balanced, boolean target: coefficients vs sklearn",
            [r[0] for r in cur.fetchall()], np.concatenate([sk.intercept_, sk.coef_[0]]), 1e-5)
    cur.execute("SELECT ml.predict('acc_lr_w', t), ml.predict_label('acc_lr_w', t) FROM acc_lr_b t ORDER BY id")
    got = cur.fetchall()
    skp = sk.predict(X[:, [0, 1, 20]])
    report("logreg boolean target: ml.predict returns the label as 0/1 and predict_label as text",
           [g[0] for g in got] == list(skp.astype(float)) and
           [g[1] for g in got] == ["true" if v else "false" for v in skp], "")

    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_lr%'")
    cur.execute("DROP TABLE acc_lr")
