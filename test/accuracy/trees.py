"""Accuracy of the tree models (ml.train algorithms 'decision_tree', 'random_forest' and
'gradient_boosting') against XGBoost and scikit-learn, computed here at test time
(Debian python3-xgboost 1.7 and python3-sklearn).

Every data set is split once, here, in Python (a fixed train_test_split, or the last
200,000 rows of the generated set); train and test rows are loaded as two tables.  ml_ext
learns from the train table with ml.train and scores the test table by row
(ml.predict / ml.predict_proba / ml.predict_label); the reference learns from the same
train rows and predicts the same test rows; both metrics are computed here with
sklearn.metrics.

- gradient boosting vs XGBoost tree_method='hist' (max_bin=256, nthread=2) with the same
  hyperparameters (100 rounds, depth 6, learning rate 0.3, lambda 1, min_child_weight 1;
  base_score the training mean (regression) or positive rate (binary), as ml_ext starts
  from): held-out AUC on breast_cancer, accuracy on wine and digits, RMSE on diabetes, and
  RMSE and AUC on a generated 1,000,000 x 20 data set with interactions (800,000 train,
  200,000 test rows; the full 100 trees of depth 6), each within 0.5% (relative);
- breast_cancer with 10% of the feature values NULL: AUC within 1% of XGBoost with
  missing=NaN, and scoring a row with NULLs equals scoring its array with NaN;
- a single decision tree (objective multiclass) vs DecisionTreeClassifier(max_depth=d,
  random_state=0) on iris and wine, depths 2, 3 and 5: held-out accuracy within one test
  sample;
- random forest vs RandomForestClassifier / RandomForestRegressor with the same
  n_estimators, max_depth and max_features: accuracy on breast_cancer and wine within 3
  percentage points, RMSE on diabetes within 3%, each side averaged over seeds;
- ml.feature_importance (total gain, splits) vs XGBoost get_score('total_gain'): the same
  top 3 features, in order; splits and gains consistent with ml.trees;
- determinism: the same seed (subsample 0.8, colsample 0.8) gives byte-identical models,
  another seed different bytes, and a forced parallel plan the serial plan's bytes;
- early stopping (test_fraction, early_stopping_rounds) on a data set that overfits: fewer
  rounds than n_estimators, and a held-out RMSE no worse than without.
"""

import io
import json
import os
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

# XGBoost's OpenMP threads spin while waiting by default, which on a small shared
# machine makes nthread=2 far slower than 1; set before the runtime loads
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import xgboost as xgb
except ImportError:  # reported as a failure by checks(), not a crash of the whole suite
    xgb = None

NTHREAD = 2
# XGBoost's max_bin counts every bin; ml_ext's max_bins (255) the value bins, the missing
# bin coming on top: the close equivalent
XGB_MAX_BIN = 256
# the boosting hyperparameters of every comparison with XGBoost (ml_ext's defaults, written out)
GB = {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3, "lambda": 1.0, "min_child_weight": 1.0}
GB_RTOL = 0.005
BIG_ROWS, BIG_TEST = 1000000, 200000
PARALLEL = ("parallel_setup_cost = 0", "parallel_tuple_cost = 0", "min_parallel_table_scan_size = 0",
            "max_parallel_workers_per_gather = 2")


# ---------------------------------------------------------------- data

def _generated(n=BIG_ROWS, seed=2027):
    """n rows, 20 features (x1..x10 and x16..x20 standard normal, x11..x15 uniform on
    [-2, 2]; x14..x20 partly noise) and two targets of one signal f with interactions:
    y = f + N(0, 1) and label ~ Bernoulli(sigmoid(f - 0.5))."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 20))
    X[:, 10:15] = rng.uniform(-2.0, 2.0, size=(n, 5))
    f = (1.5 * np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 2.0 * (X[:, 3] > 0) * X[:, 4] - 0.8 * X[:, 5] ** 2
         + 0.5 * X[:, 6] * X[:, 7] * (X[:, 8] > 0.5) + 0.7 * X[:, 9] + np.abs(X[:, 10]) * X[:, 11]
         + np.where(X[:, 12] > 1.0, 1.0, -0.5) * X[:, 13])
    y = f + rng.normal(size=n)
    label = rng.random(n) < 1.0 / (1.0 + np.exp(-(f - 0.5)))
    return X, y, label


def _load(cur, name, X, y, ytype):
    """Table name(id int, x1..xk float8, y ytype) by text COPY; NaN features become NULL.
    ytype float8 (y numbers), boolean (y bools) or text (y strings)."""
    k = X.shape[1]
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (id int, %s, y %s)" %
                (name, ", ".join("x%d float8" % (j + 1) for j in range(k)), ytype))
    buf = io.StringIO()
    for i in range(X.shape[0]):
        xs = ["\\N" if v != v else repr(float(v)) for v in X[i]]
        if ytype == "float8":
            yv = repr(float(y[i]))
        elif ytype == "boolean":
            yv = "t" if y[i] else "f"
        else:
            yv = str(y[i])
        buf.write("\t".join([str(i)] + xs + [yv]) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY %s FROM STDIN" % name, buf)
    cur.execute("ANALYZE %s" % name)


PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8


def _load_binary(cur, name, X, y, label, first_id):
    """Table name(id int, x1..x20 float8, y float8, label boolean) by binary COPY from
    numpy (exact doubles; a million rows in a few seconds)."""
    n, k = X.shape
    cols = [("id", "int", ">i4", np.arange(first_id, first_id + n))]
    cols += [("x%d" % (j + 1), "float8", ">f8", X[:, j]) for j in range(k)]
    cols += [("y", "float8", ">f8", y), ("label", "boolean", "?", label)]
    dt = [("nfields", ">i2")]
    for c in cols:
        dt += [("len_" + c[0], ">i4"), (c[0], c[2])]
    rec = np.empty(n, dtype=np.dtype(dt))
    rec["nfields"] = len(cols)
    for c in cols:
        rec["len_" + c[0]] = np.dtype(c[2]).itemsize
        rec[c[0]] = c[3]
    cur.execute("DROP TABLE IF EXISTS %s" % name)
    cur.execute("CREATE TABLE %s (%s)" % (name, ", ".join("%s %s" % (c[0], c[1]) for c in cols)))
    cur.copy_expert("COPY %s FROM STDIN WITH (FORMAT binary)" % name,
                    io.BytesIO(PGCOPY_HEADER + rec.tobytes() + b"\xff\xff"))
    cur.execute("VACUUM ANALYZE %s" % name)


# ---------------------------------------------------------------- ml_ext side

def _feats(k):
    return ["x%d" % (j + 1) for j in range(k)]


def _train(cur, model, table, target, algorithm, k, options):
    """ml.train on columns x1..xk; returns the seconds it took (client side)."""
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name = %s", (model,))
    t0 = time.perf_counter()
    cur.execute("SELECT version FROM ml.train(%s, %s, %s, %s, features => %s, options => %s)",
                (model, table, target, algorithm, _feats(k), json.dumps(options)))
    cur.fetchall()
    return time.perf_counter() - t0


def _classes(cur, model):
    cur.execute("SELECT ml.classes(%s)", (model,))
    return list(cur.fetchone()[0])


def _predict(cur, model, table):
    """ml.predict by row, in id order."""
    cur.execute("SELECT ml.predict(%%s, t) FROM %s t ORDER BY id" % table, (model,))
    return np.array([r[0] for r in cur.fetchall()], dtype=float)


def _proba(cur, model, table):
    """ml.predict_proba and ml.predict_label by row, in id order."""
    cur.execute("SELECT ml.predict_proba(%%s, t), ml.predict_label(%%s, t) FROM %s t ORDER BY id" % table,
                (model, model))
    rows = cur.fetchall()
    return np.array([r[0] for r in rows], dtype=float), [r[1] for r in rows]


def _positive(cur, model, table):
    """P(positive class) by row for a binary model: the last of ml.classes."""
    cls = _classes(cur, model)
    cur.execute("SELECT (ml.predict_proba(%%s, t))[%d] FROM %s t ORDER BY id" % (len(cls), table), (model,))
    return np.array([r[0] for r in cur.fetchall()], dtype=float), cls


def _norm(label):
    """A boolean class label as 'true' / 'false' (whichever spelling ml_ext uses)."""
    return {"t": "true", "f": "false"}.get(label, label)


def _info(cur, model):
    cur.execute("SELECT ml.model_info(ml.model(%s))", (model,))
    v = cur.fetchone()[0]
    return v if isinstance(v, dict) else json.loads(v)


def _ntrees(cur, model):
    cur.execute("SELECT count(DISTINCT tree) FROM ml.trees(%s)", (model,))
    return cur.fetchone()[0]


def _model_bytes(cur, model):
    cur.execute("SELECT ml.model(%s)", (model,))
    return bytes(cur.fetchone()[0])


# ---------------------------------------------------------------- references

def _xgb(Xtr, ytr, Xte, objective, rounds, nclass=0, **extra):
    """XGBoost hist with GB's hyperparameters; returns the predictions of Xte (regression
    values, P(1), or the K class probabilities) and the booster."""
    params = {"tree_method": "hist", "max_bin": XGB_MAX_BIN, "nthread": NTHREAD, "seed": 0,
              "max_depth": GB["max_depth"], "eta": GB["learning_rate"], "lambda": GB["lambda"],
              "min_child_weight": GB["min_child_weight"], "gamma": 0.0}
    if objective == "regression":
        params.update(objective="reg:squarederror", base_score=float(np.mean(ytr)))
    elif objective == "binary":
        # XGBoost takes a probability here; its margin starts at the log-odds, as ml_ext's
        params.update(objective="binary:logistic", base_score=float(np.mean(ytr)))
    else:
        # 0.5 on every margin: no effect on the softmax, ml_ext starts from 0 margins
        params.update(objective="multi:softprob", num_class=nclass)
    params.update(extra)
    names = _feats(Xtr.shape[1])
    dtr = xgb.DMatrix(Xtr, label=ytr, missing=np.nan, feature_names=names, nthread=NTHREAD)
    booster = xgb.train(params, dtr, num_boost_round=rounds)
    pred = booster.predict(xgb.DMatrix(Xte, missing=np.nan, feature_names=names, nthread=NTHREAD))
    return np.asarray(pred, dtype=float), booster


def _within(report, name, got, ref, rtol, what, extra=""):
    ok = got is not None and np.isfinite(got) and abs(got - ref) <= rtol * abs(ref)
    report(name, ok, "%s ml_ext %.6f, reference %.6f, rel diff %.2e, tol %.1e%s"
           % (what, got if got is not None else float("nan"), ref,
              abs((got if got is not None else np.nan) - ref) / abs(ref), rtol, extra))
    return ok


# ---------------------------------------------------------------- boosting vs XGBoost

def _gb_case(cur, report, tag, Xtr, ytr, Xte, yte, objective, classes=None):
    """Boosting on one data set vs XGBoost: the held-out metric within GB_RTOL."""
    k = Xtr.shape[1]
    train, test, model = "acc_tr_%s_train" % tag, "acc_tr_%s_test" % tag, "acc_tr_gb_%s" % tag
    if objective == "regression":
        _load(cur, train, Xtr, ytr, "float8")
        _load(cur, test, Xte, yte, "float8")
    elif objective == "binary":
        _load(cur, train, Xtr, ytr, "boolean")
        _load(cur, test, Xte, yte, "boolean")
    else:
        _load(cur, train, Xtr, [classes[c] for c in ytr], "text")
        _load(cur, test, Xte, [classes[c] for c in yte], "text")
    secs = _train(cur, model, train, "y", "gradient_boosting", k, dict(GB, objective=objective))
    if objective == "regression":
        got = _predict(cur, model, test)
        ref, _ = _xgb(Xtr, ytr, Xte, "regression", GB["n_estimators"])
        return _within(report, "boosting %s (regression, %d train / %d test rows): held-out RMSE vs XGBoost hist"
                       % (tag, len(ytr), len(yte)),
                       mean_squared_error(yte, got) ** 0.5, mean_squared_error(yte, ref) ** 0.5, GB_RTOL,
                       "RMSE", "; ml.train %.2f s; max |prediction difference| %.3g"
                       % (secs, np.max(np.abs(got - ref))))
    if objective == "binary":
        got, cls = _positive(cur, model, test)
        if _norm(cls[-1]) != "true":
            report("boosting %s: ml.classes of a boolean target ends with true" % tag, False, "classes %s" % cls)
            return False
        ref, _ = _xgb(Xtr, ytr.astype(float), Xte, "binary", GB["n_estimators"])
        return _within(report, "boosting %s (binary, %d train / %d test rows): held-out AUC vs XGBoost hist"
                       % (tag, len(ytr), len(yte)),
                       roc_auc_score(yte, got), roc_auc_score(yte, ref), GB_RTOL, "AUC",
                       "; ml.train %.2f s; max |P difference| %.3g" % (secs, np.max(np.abs(got - ref))))
    p, labels = _proba(cur, model, test)
    cls = _classes(cur, model)
    ok = cls == list(classes)
    report("boosting %s: ml.classes are the sorted labels" % tag, ok, "classes %s" % cls)
    if not ok:
        return False
    report("boosting %s: predict_label is the most probable class of predict_proba" % tag,
           labels == [cls[i] for i in p.argmax(axis=1)], "")
    ref, _ = _xgb(Xtr, ytr, Xte, "multiclass", GB["n_estimators"], nclass=len(classes))
    truth = [classes[c] for c in yte]
    ref_labels = [classes[i] for i in ref.argmax(axis=1)]
    same = sum(a == b for a, b in zip(labels, ref_labels))
    return _within(report, "boosting %s (multiclass, %d classes, %d train / %d test rows): held-out accuracy "
                   "vs XGBoost hist" % (tag, len(classes), len(ytr), len(yte)),
                   accuracy_score(truth, labels), accuracy_score(truth, ref_labels), GB_RTOL, "accuracy",
                   "; ml.train %.2f s; %d of %d test labels equal XGBoost's; max |P difference| %.3g"
                   % (secs, same, len(yte), np.max(np.abs(p - ref))))


def check_boosting_small(cur, report):
    bc = load_breast_cancer()
    Xtr, Xte, ytr, yte = train_test_split(bc.data, bc.target == 1, test_size=0.25, random_state=0,
                                          stratify=bc.target)
    _gb_case(cur, report, "bc", Xtr, ytr, Xte, yte, "binary")
    for tag, ds in (("wine", load_wine()), ("digits", load_digits())):
        Xtr, Xte, ytr, yte = train_test_split(ds.data, ds.target, test_size=0.25, random_state=0,
                                              stratify=ds.target)
        _gb_case(cur, report, tag, Xtr, ytr, Xte, yte, "multiclass",
                 classes=["%s%d" % (tag[0], c) for c in range(len(ds.target_names))])
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    _gb_case(cur, report, "diabetes", Xtr, ytr, Xte, yte, "regression")


def check_boosting_big(cur, report):
    """1,000,000 x 20 with interactions: 100 trees of depth 6, regression and binary."""
    X, y, label = _generated()
    ntr = BIG_ROWS - BIG_TEST
    t0 = time.perf_counter()
    _load_binary(cur, "acc_tr_big_train", X[:ntr], y[:ntr], label[:ntr], 0)
    _load_binary(cur, "acc_tr_big_test", X[ntr:], y[ntr:], label[ntr:], ntr)
    load_s = time.perf_counter() - t0
    k = X.shape[1]
    Xtr, Xte = X[:ntr], X[ntr:]
    for objective, target in (("regression", "y"), ("binary", "label")):
        model = "acc_tr_big_" + objective
        secs = _train(cur, model, "acc_tr_big_train", target, "gradient_boosting", k, dict(GB, objective=objective))
        cur.execute("SELECT name, seconds, processes FROM ml.training_info(%s) ORDER BY pass", (model,))
        passes = ", ".join("%s %.2f s (%d processes)" % (n, s, p) for n, s, p in cur.fetchall())
        t0 = time.perf_counter()
        if objective == "regression":
            got = _predict(cur, model, "acc_tr_big_test")
            score_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            ref, _ = _xgb(Xtr, y[:ntr], Xte, "regression", GB["n_estimators"])
            xgb_s = time.perf_counter() - t0
            _within(report, "boosting generated 1M x 20 (regression, 800,000 train / 200,000 test rows, 100 trees "
                    "depth 6): held-out RMSE vs XGBoost hist", mean_squared_error(y[ntr:], got) ** 0.5,
                    mean_squared_error(y[ntr:], ref) ** 0.5, GB_RTOL, "RMSE",
                    "; load %.1f s, ml.train %.1f s [%s], scoring 200,000 rows %.1f s, XGBoost fit+predict %.1f s"
                    % (load_s, secs, passes, score_s, xgb_s))
        else:
            got, cls = _positive(cur, model, "acc_tr_big_test")
            score_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            ref, _ = _xgb(Xtr, label[:ntr].astype(float), Xte, "binary", GB["n_estimators"])
            xgb_s = time.perf_counter() - t0
            _within(report, "boosting generated 1M x 20 (binary, 800,000 train / 200,000 test rows, 100 trees "
                    "depth 6): held-out AUC vs XGBoost hist", roc_auc_score(label[ntr:], got),
                    roc_auc_score(label[ntr:], ref), GB_RTOL, "AUC",
                    "; classes %s; ml.train %.1f s [%s], scoring 200,000 rows %.1f s, XGBoost fit+predict %.1f s"
                    % (cls, secs, passes, score_s, xgb_s))
    cur.execute("DROP TABLE acc_tr_big_train, acc_tr_big_test")


def check_missing(cur, report):
    """breast_cancer with 10% of the feature values missing (NULL in the table, NaN for XGBoost)."""
    bc = load_breast_cancer()
    rng = np.random.default_rng(5)
    X = bc.data.copy()
    X[rng.random(X.shape) < 0.10] = np.nan
    Xtr, Xte, ytr, yte = train_test_split(X, bc.target == 1, test_size=0.25, random_state=0, stratify=bc.target)
    _load(cur, "acc_tr_na_train", Xtr, ytr, "boolean")
    _load(cur, "acc_tr_na_test", Xte, yte, "boolean")
    k = X.shape[1]
    _train(cur, "acc_tr_gb_na", "acc_tr_na_train", "y", "gradient_boosting", k, dict(GB, objective="binary"))
    got, cls = _positive(cur, "acc_tr_gb_na", "acc_tr_na_test")
    ref, _ = _xgb(Xtr, ytr.astype(float), Xte, "binary", GB["n_estimators"])
    _within(report, "boosting breast_cancer with 10%% of feature values NULL (%d of %d): held-out AUC vs "
            "XGBoost hist missing=NaN" % (int(np.isnan(X).sum()), X.size),
            roc_auc_score(yte, got), roc_auc_score(yte, ref), 0.01, "AUC")
    # the same rows as arrays with NaN elements through ml.predict_proba(bytea, float8[])
    cur.execute("SELECT (ml.predict_proba(ml.model('acc_tr_gb_na'), "
                "ARRAY[%s]::float8[]))[%d] FROM acc_tr_na_test t ORDER BY id"
                % (", ".join("coalesce(x%d, 'NaN')" % (j + 1) for j in range(k)), len(cls)))
    arr = np.array([r[0] for r in cur.fetchall()], dtype=float)
    diff = float(np.max(np.abs(arr - got)))
    report("missing values: a row with NULLs scores as its array with NaN elements (1e-12)", diff <= 1e-12,
           "max difference %g over %d rows" % (diff, len(got)))


# ---------------------------------------------------------------- decision tree, random forest

def check_decision_tree(cur, report):
    for tag, ds in (("iris", load_iris()), ("wine", load_wine())):
        Xtr, Xte, ytr, yte = train_test_split(ds.data, ds.target, test_size=0.25, random_state=0,
                                              stratify=ds.target)
        names = np.array([str(n) for n in ds.target_names])
        _load(cur, "acc_tr_dt_train", Xtr, names[ytr], "text")
        _load(cur, "acc_tr_dt_test", Xte, names[yte], "text")
        for depth in (2, 3, 5):
            sk = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(Xtr, names[ytr])
            ref = sk.predict(Xte)
            _train(cur, "acc_tr_dt", "acc_tr_dt_train", "y", "decision_tree", Xtr.shape[1],
                   {"objective": "multiclass", "max_depth": depth})
            _, labels = _proba(cur, "acc_tr_dt", "acc_tr_dt_test")
            acc_ml, acc_sk = accuracy_score(names[yte], labels), accuracy_score(names[yte], ref)
            # Two splits of equal gain (common on these small sets) may be broken differently
            # by the two implementations, so the trees may differ in a way that does not
            # matter on the training rows yet moves a test row: one test sample of slack.
            n = len(yte)
            report("decision tree %s depth %d: held-out accuracy vs sklearn DecisionTreeClassifier (%d test rows)"
                   % (tag, depth, n), abs(acc_ml - acc_sk) * n <= 1 + 1e-9,
                   "ml_ext %.4f, sklearn %.4f (%d vs %d correct, tol 1 sample); %d of %d labels equal sklearn's"
                   % (acc_ml, acc_sk, round(acc_ml * n), round(acc_sk * n),
                      sum(a == b for a, b in zip(labels, ref)), n))
            cur.execute("SELECT max(depth), count(DISTINCT tree) FROM ml.trees('acc_tr_dt')")
            dmax, ntrees = cur.fetchone()
            if depth == 2:
                report("decision tree %s: one tree, no deeper than max_depth (ml.trees)" % tag,
                       ntrees == 1 and dmax is not None and dmax <= depth, "trees %s, max depth %s" % (ntrees, dmax))


RF_SEEDS_ML = (0, 1, 2)
RF_SEEDS_SK = (0, 1, 2, 3, 4)
RF = {"n_estimators": 100, "max_depth": 10}


def check_random_forest(cur, report):
    # Forests are random (bootstrap rows, random features per split) and the two draw from
    # different generators: their accuracies differ by chance as two sklearn seeds do.  Each
    # side is averaged over seeds, and the tolerance (3 percentage points, 3% for RMSE) is
    # about the seed-to-seed spread of one forest on these test sets (one wine test sample
    # is 2.2 points).
    for tag, ds, ytype in (("bc", load_breast_cancer(), "boolean"), ("wine", load_wine(), "text")):
        Xtr, Xte, ytr, yte = train_test_split(ds.data, ds.target, test_size=0.25, random_state=0,
                                              stratify=ds.target)
        if ytype == "boolean":
            ltr, lte = ytr == 1, yte == 1
        else:
            ltr, lte = np.array(["w%d" % c for c in ytr]), np.array(["w%d" % c for c in yte])
        _load(cur, "acc_tr_rf_train", Xtr, ltr, ytype)
        _load(cur, "acc_tr_rf_test", Xte, lte, ytype)
        truth = ["true" if v else "false" for v in lte] if ytype == "boolean" else list(lte)
        accs = []
        for seed in RF_SEEDS_ML:
            _train(cur, "acc_tr_rf", "acc_tr_rf_train", "y", "random_forest", Xtr.shape[1],
                   dict(RF, max_features="sqrt", seed=seed))
            _, labels = _proba(cur, "acc_tr_rf", "acc_tr_rf_test")
            accs.append(accuracy_score(truth, [_norm(v) for v in labels]))
        sk = [accuracy_score(lte, RandomForestClassifier(n_estimators=RF["n_estimators"], max_depth=RF["max_depth"],
                                                         max_features="sqrt", random_state=s, n_jobs=NTHREAD)
                             .fit(Xtr, ltr).predict(Xte)) for s in RF_SEEDS_SK]
        got, ref = float(np.mean(accs)), float(np.mean(sk))
        report("random forest %s (100 trees, depth 10, max_features sqrt): mean held-out accuracy over %d seeds "
               "vs sklearn RandomForestClassifier over %d seeds" % (tag, len(accs), len(sk)),
               abs(got - ref) <= 0.03 + 1e-9,
               "ml_ext %.4f %s, sklearn %.4f %s (%d test rows), tol 3 points"
               % (got, ["%.3f" % a for a in accs], ref, ["%.3f" % a for a in sk], len(lte)))
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    _load(cur, "acc_tr_rf_train", Xtr, ytr, "float8")
    _load(cur, "acc_tr_rf_test", Xte, yte, "float8")
    rm = []
    for seed in RF_SEEDS_ML:
        _train(cur, "acc_tr_rf", "acc_tr_rf_train", "y", "random_forest", X.shape[1], dict(RF, seed=seed))
        rm.append(mean_squared_error(yte, _predict(cur, "acc_tr_rf", "acc_tr_rf_test")) ** 0.5)
    rs = [mean_squared_error(yte, RandomForestRegressor(n_estimators=RF["n_estimators"], max_depth=RF["max_depth"],
                                                        max_features=1.0, random_state=s, n_jobs=NTHREAD)
                             .fit(Xtr, ytr).predict(Xte)) ** 0.5 for s in RF_SEEDS_SK]
    _within(report, "random forest diabetes (regression, 100 trees, depth 10, all features): mean held-out RMSE "
            "over %d seeds vs sklearn RandomForestRegressor over %d seeds" % (len(rm), len(rs)),
            float(np.mean(rm)), float(np.mean(rs)), 0.03, "RMSE",
            "; per seed ml_ext %s, sklearn %s" % (["%.2f" % v for v in rm], ["%.2f" % v for v in rs]))


# ---------------------------------------------------------------- feature importance

def check_importance(cur, report):
    """Total gain per feature vs XGBoost's total_gain: 20 trees of depth 3 on diabetes (every
    feature has at most 255 distinct values, so both split on the same row partitions) and
    on a generated linear case of clearly ranked features.  The numbers differ slightly
    (bins, float32 in XGBoost), the ranking of the top 3 must not."""
    rng = np.random.default_rng(3)
    Xg = rng.normal(size=(5000, 6))
    yg = 3.0 * Xg[:, 0] + 2.0 * Xg[:, 1] + 1.0 * Xg[:, 2] + 0.5 * Xg[:, 3] + rng.normal(scale=0.5, size=5000)
    Xd, yd = load_diabetes(return_X_y=True)
    opts = dict(GB, n_estimators=20, max_depth=3)
    for tag, X, y in (("diabetes", Xd, yd), ("generated 5000 x 6", Xg, yg)):
        k = X.shape[1]
        _load(cur, "acc_tr_fi", X, y, "float8")
        _train(cur, "acc_tr_fi", "acc_tr_fi", "y", "gradient_boosting", k, dict(opts, objective="regression"))
        params = {"tree_method": "hist", "max_bin": XGB_MAX_BIN, "nthread": NTHREAD, "max_depth": 3, "eta": 0.3,
                  "lambda": 1.0, "min_child_weight": 1.0, "base_score": float(np.mean(y))}
        booster = xgb.train(params, xgb.DMatrix(X, label=y, feature_names=_feats(k)), 20)
        ref = booster.get_score(importance_type="total_gain")
        ref_top = sorted(ref, key=lambda f: -ref[f])[:3]
        cur.execute("SELECT feature, gain, splits FROM ml.feature_importance('acc_tr_fi')")
        rows = cur.fetchall()
        got = {f: (g, s) for f, g, s in rows}
        got_top = [f for f, _ in sorted(got.items(), key=lambda t: -t[1][0]) if got[f][1] > 0][:3]
        report("feature_importance %s: top 3 features by total gain equal XGBoost get_score('total_gain')" % tag,
               got_top == ref_top, "ml_ext %s, XGBoost %s; gain ml_ext / XGBoost: %s" % (
                   got_top, ref_top, ", ".join("%s %.3f" % (f, got.get(f, (0,))[0] / ref[f]) for f in ref_top)))
        cur.execute("SELECT ml.feature_importance(ml.model('acc_tr_fi'))")
        by_bytes = sorted(r[0] for r in cur.fetchall())
        cur.execute("SELECT ml.feature_importance('acc_tr_fi')")
        report("feature_importance %s: by name equals by model bytea" % tag,
               by_bytes == sorted(r[0] for r in cur.fetchall()), "")
        cur.execute("SELECT feature, count(*), sum(gain) FROM ml.trees('acc_tr_fi') WHERE feature IS NOT NULL "
                    "GROUP BY feature")
        internal = {f: (int(c), g) for f, c, g in cur.fetchall()}
        nsplit = sum(c for c, _ in internal.values())
        ok = (sum(s for _, s in got.values()) == nsplit
              and all(got.get(f, (0, 0))[1] == c for f, (c, _) in internal.items())
              and all(abs(got[f][0] - internal.get(f, (0, 0.0))[1]) <= 1e-9 * max(abs(got[f][0]), 1.0)
                      for f in got))
        report("feature_importance %s: splits sum to the internal nodes of ml.trees (%d), per feature splits and "
               "gain equal ml.trees'" % (tag, nsplit), ok,
               "" if ok else "feature_importance %s, ml.trees %s" % (rows, internal))
        cur.execute("SELECT count(DISTINCT tree), max(depth), count(*) FILTER (WHERE feature IS NULL "
                    "AND (left_child IS NOT NULL OR right_child IS NOT NULL)) FROM ml.trees('acc_tr_fi')")
        nt, dmax, bad = cur.fetchone()
        report("ml.trees %s: 20 trees, depth at most 3, leaves without children" % tag,
               nt == 20 and dmax is not None and dmax <= 3 and bad == 0,
               "trees %s, max depth %s, leaves with a child %s" % (nt, dmax, bad))


# ---------------------------------------------------------------- determinism

def check_determinism(cur, report):
    """Same seed, same bytes; another seed, other bytes; parallel plan, serial bytes.
    200,000 rows of the generated set, 10 rounds with subsample and colsample 0.8."""
    X, y, label = _generated(200000, seed=11)
    _load_binary(cur, "acc_tr_det", X, y, label, 0)
    opts = {"objective": "binary", "n_estimators": 10, "max_depth": 6, "subsample": 0.8, "colsample": 0.8,
            "seed": 7}
    cur.execute("SET max_parallel_workers_per_gather = 0")
    _train(cur, "acc_tr_det", "acc_tr_det", "label", "gradient_boosting", 20, opts)
    first = _model_bytes(cur, "acc_tr_det")
    _train(cur, "acc_tr_det", "acc_tr_det", "label", "gradient_boosting", 20, opts)
    second = _model_bytes(cur, "acc_tr_det")
    report("determinism: training twice with the same seed (subsample 0.8, colsample 0.8) gives the same "
           "model bytes", first == second, "%d and %d bytes" % (len(first), len(second)))
    _train(cur, "acc_tr_det", "acc_tr_det", "label", "gradient_boosting", 20, dict(opts, seed=8))
    other = _model_bytes(cur, "acc_tr_det")
    report("determinism: another seed gives other model bytes", other != first, "")
    for s in PARALLEL:
        cur.execute("SET " + s)
    # whether the workers get rows before the leader has read them all is a matter of
    # timing on a busy machine: a few tries
    for _ in range(5):
        _train(cur, "acc_tr_det", "acc_tr_det", "label", "gradient_boosting", 20, opts)
        cur.execute("SELECT name, workers_planned, processes FROM ml.training_info('acc_tr_det') ORDER BY pass")
        passes = cur.fetchall()
        if any(n == "bin" and p > 1 for n, _, p in passes):
            break
    parallel = _model_bytes(cur, "acc_tr_det")
    cur.execute("RESET ALL")
    cur.execute("SET client_min_messages = warning")
    report("determinism: the bin pass ran in a parallel plan with several processes",
           any(n == "bin" and w >= 1 and p > 1 for n, w, p in passes), "passes (name, planned, processes) %s" % passes)
    report("determinism: the parallel plan gives the serial plan's model bytes", parallel == first,
           "%d and %d bytes" % (len(parallel), len(first)))
    # threads of the in-memory phase, when this build has a setting for them
    cur.execute("SELECT count(*) FROM pg_settings WHERE name = 'ml.training_threads'")
    if cur.fetchone()[0]:
        got = {}
        for n in (1, 2):
            cur.execute("SET max_parallel_workers_per_gather = 0")
            cur.execute("SET ml.training_threads = %d" % n)
            _train(cur, "acc_tr_det", "acc_tr_det", "label", "gradient_boosting", 20, opts)
            got[n] = _model_bytes(cur, "acc_tr_det")
        cur.execute("RESET ALL")
        cur.execute("SET client_min_messages = warning")
        report("determinism: ml.training_threads 1 and 2 give the same model bytes", got[1] == got[2] == first, "")
    # a random forest likewise (bootstrap and feature draws from the seed)
    rf = {"objective": "binary", "n_estimators": 10, "max_depth": 6, "seed": 3}
    cur.execute("CREATE TABLE acc_tr_det_small AS SELECT * FROM acc_tr_det WHERE id < 20000")
    _train(cur, "acc_tr_det_rf", "acc_tr_det_small", "label", "random_forest", 20, rf)
    first = _model_bytes(cur, "acc_tr_det_rf")
    _train(cur, "acc_tr_det_rf", "acc_tr_det_small", "label", "random_forest", 20, rf)
    report("determinism: a random forest trained twice with the same seed has the same model bytes",
           _model_bytes(cur, "acc_tr_det_rf") == first, "")
    cur.execute("DROP TABLE acc_tr_det, acc_tr_det_small")


# ---------------------------------------------------------------- early stopping

ES_ROUNDS = 300


def _rounds(info):
    """The boosting rounds a model_info reports, under whichever name it uses."""
    for key in ("best_iteration", "n_rounds", "rounds", "n_estimators_used", "ntrees", "n_trees"):
        if isinstance(info.get(key), int):
            return key, info[key]
    return None, None


def check_early_stopping(cur, report):
    """A small, noisy data set on which 300 rounds of depth 6 overfit."""
    rng = np.random.default_rng(17)
    n = 3000
    X = rng.normal(size=(n, 10))
    y = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=2.0, size=n)
    _load(cur, "acc_tr_es_train", X[:2000], y[:2000], "float8")
    _load(cur, "acc_tr_es_test", X[2000:], y[2000:], "float8")
    base = dict(GB, objective="regression", n_estimators=ES_ROUNDS, test_fraction=0.2, seed=1)
    _train(cur, "acc_tr_es", "acc_tr_es_train", "y", "gradient_boosting", 10, dict(base, early_stopping_rounds=10))
    info = _info(cur, "acc_tr_es")
    ntrees = _ntrees(cur, "acc_tr_es")
    key, rounds = _rounds(info)
    report("early stopping: stops before n_estimators = %d on a data set that overfits (test_fraction 0.2, "
           "early_stopping_rounds 10)" % ES_ROUNDS, 0 < ntrees < ES_ROUNDS and (rounds is None or rounds < ES_ROUNDS),
           "trees in ml.trees %d; model_info %s = %s" % (ntrees, key, rounds))
    report("early stopping: model_info reports the rounds kept", rounds is not None and rounds == ntrees,
           "model_info keys %s" % sorted(info))
    rmse_es = mean_squared_error(y[2000:], _predict(cur, "acc_tr_es", "acc_tr_es_test")) ** 0.5
    _train(cur, "acc_tr_es", "acc_tr_es_train", "y", "gradient_boosting", 10, base)
    nfull = _ntrees(cur, "acc_tr_es")
    rmse_full = mean_squared_error(y[2000:], _predict(cur, "acc_tr_es", "acc_tr_es_test")) ** 0.5
    report("early stopping: held-out RMSE no worse than all %d rounds on the same training rows" % ES_ROUNDS,
           rmse_es <= rmse_full and nfull == ES_ROUNDS,
           "RMSE %.4f with early stopping (%d trees), %.4f without (%d trees)" % (rmse_es, ntrees, rmse_full, nfull))


# ---------------------------------------------------------------- driver

def checks(conn, report, compare):
    cur = conn.cursor()
    if xgb is None:
        report("trees: import xgboost (Debian python3-xgboost)", False, "not installed")
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_tr%'")
    groups = [check_decision_tree, check_random_forest, check_determinism, check_early_stopping]
    if xgb is not None:
        groups = [check_boosting_small, check_missing, check_importance] + groups + [check_boosting_big]
    for fn in groups:
        # one broken group must not hide the others
        try:
            fn(cur, report)
        except Exception as e:  # noqa: BLE001
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            report("trees: %s raised" % fn.__name__, False, "%s: %s" % (type(e).__name__, msg))
            cur.execute("RESET ALL")
            cur.execute("SET client_min_messages = warning")
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_tr%'")
    cur.execute("SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename LIKE 'acc\\_tr\\_%'")
    left = cur.fetchone()[0]
    if left:
        cur.execute("DROP TABLE " + left)
