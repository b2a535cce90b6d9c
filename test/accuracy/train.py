"""Accuracy of ml.train / ml.predict by name / ml.evaluate against scikit-learn.

The references are fitted here, at test time, with scikit-learn's own
preprocessing (SimpleImputer for mean imputation, OneHotEncoder for categories,
LinearRegression / Ridge) on the same rows that PostgreSQL sees.
"""

import json

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import (explained_variance_score, mean_absolute_error,
                             mean_squared_error, r2_score)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def _data(n=2000, seed=11):
    rng = np.random.default_rng(seed)
    a = rng.normal(10, 3, n)
    b = rng.integers(0, 20, n).astype(float)
    flag = rng.random(n) < 0.3
    city = rng.choice(["Oslo", "Bergen", "Tromsø", "Bodø"], n)
    y = (5 + 1.5 * a - 0.7 * b + 4 * flag
         + np.select([city == "Oslo", city == "Bergen", city == "Tromsø"], [3.0, -2.0, 1.0], 0.0)
         + rng.normal(0, 1, n))
    # holes in the features (imputed) and in the target (skipped)
    a_null = rng.random(n) < 0.05
    b_null = rng.random(n) < 0.05
    y_null = rng.random(n) < 0.03
    return a, b, flag, city, y, a_null, b_null, y_null


def checks(conn, report, compare):
    cur = conn.cursor()
    a, b, flag, city, y, a_null, b_null, y_null = _data()
    n = len(y)
    cur.execute("DROP TABLE IF EXISTS acc_train")
    cur.execute("CREATE TABLE acc_train (id int, a float8, b int, flag boolean, city text, y float8)")
    rows = [(i, None if a_null[i] else float(a[i]), None if b_null[i] else int(b[i]),
             bool(flag[i]), str(city[i]), None if y_null[i] else float(y[i])) for i in range(n)]
    cur.executemany("INSERT INTO acc_train VALUES (%s, %s, %s, %s, %s, %s)", rows)
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_%'")

    # scikit-learn on the rows with a target, same preprocessing
    keep = ~y_null
    Xnum = np.column_stack([np.where(a_null, np.nan, a), np.where(b_null, np.nan, b),
                            flag.astype(float)])[keep]
    Xcat = city[keep].reshape(-1, 1)
    X = np.empty((keep.sum(), 4), dtype=object)
    X[:, :3] = Xnum
    X[:, 3] = Xcat[:, 0]
    yk = y[keep]

    def pipeline(model):
        pre = ColumnTransformer([
            ("num", SimpleImputer(strategy="mean"), [0, 1, 2]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), [3]),
        ])
        return make_pipeline(pre, model)

    for label, options, model in [
        ("ols", {}, LinearRegression()),
        ("ridge", {"lambda": 3.0}, Ridge(alpha=3.0)),
    ]:
        ref = pipeline(model).fit(X, yk)
        ref_pred = ref.predict(X)
        name = "acc_%s" % label
        cur.execute("SELECT metrics FROM ml.train(%s, 'acc_train', 'y', options => %s)",
                    (name, json.dumps(dict(options, exclude=["id"]))))
        metrics = cur.fetchone()[0]
        cur.execute("SELECT ml.predict(%s, t) FROM acc_train t WHERE y IS NOT NULL ORDER BY id",
                    (name,))
        got = [r[0] for r in cur.fetchall()]
        compare("ml.train %s: predictions by name vs sklearn pipeline (imputer + one-hot)" % label,
                got, ref_pred, 1e-9)
        compare("ml.train %s: training r2 vs sklearn r2_score" % label,
                metrics.get("r2"), r2_score(yk, ref_pred), 1e-9)
        report("ml.train %s: n_train and n_skipped count the NULL targets" % label,
               metrics.get("n_train") == int(keep.sum()) and metrics.get("n_skipped") == int(y_null.sum()),
               "got %s/%s, expected %d/%d" % (metrics.get("n_train"), metrics.get("n_skipped"),
                                              keep.sum(), y_null.sum()))
        cur.execute("SELECT metric, value FROM ml.evaluate(%s, 'acc_train')", (name,))
        ev = dict(cur.fetchall())
        compare("ml.evaluate %s: r2, mse, rmse, mae, explained_variance vs sklearn.metrics" % label,
                [ev.get("r2"), ev.get("mse"), ev.get("rmse"), ev.get("mae"), ev.get("explained_variance")],
                [r2_score(yk, ref_pred), mean_squared_error(yk, ref_pred),
                 mean_squared_error(yk, ref_pred) ** 0.5, mean_absolute_error(yk, ref_pred),
                 explained_variance_score(yk, ref_pred)], 1e-9)

    # numeric coefficients of the OLS model equal sklearn's (the one-hot part
    # is only identified up to the intercept, so compare numeric slopes)
    ref = pipeline(LinearRegression()).fit(X, yk)
    cur.execute("SELECT term, estimate FROM ml.coefficients(ml.model('acc_ols')) "
                "WHERE term IN ('a', 'b', 'flag') ORDER BY array_position(ARRAY['a','b','flag'], term)")
    got = [r[1] for r in cur.fetchall()]
    compare("ml.train ols: slopes of a, b, flag vs sklearn LinearRegression",
            got, ref[-1].coef_[:3], 1e-9)

    # held-out split: metrics are computed on rows the fit never saw
    cur.execute("SELECT metrics FROM ml.train('acc_split', 'acc_train', 'y', "
                "options => '{\"test_fraction\": 0.25, \"seed\": 3, \"exclude\": [\"id\"]}')")
    m = cur.fetchone()[0]
    report("ml.train split: n_train + n_test = rows with a target",
           m.get("n_train") + m.get("n_test") == int(keep.sum()) and 0.15 < m["n_test"] / keep.sum() < 0.35,
           "n_train %s, n_test %s" % (m.get("n_train"), m.get("n_test")))
    # ... and equal scikit-learn's metrics of a fit on the training part (its
    # imputer fitted there too) scored on the held-out part; the split is the
    # documented one, a seeded hash of each row's text form
    cur.execute("SELECT id FROM acc_train src WHERE y IS NOT NULL AND "
                "(hashtextextended(src::text, 3) & 2147483647)::float8 / 2147483648.0 < 0.25")
    held = np.zeros(n, dtype=bool)
    held[[r[0] for r in cur.fetchall()]] = True
    tr, te = ~held[keep], held[keep]
    ref = pipeline(LinearRegression()).fit(X[tr], yk[tr])
    p_te = ref.predict(X[te])
    compare("ml.train split: held-out r2, mse, rmse, explained_variance vs sklearn on the same rows",
            [m.get("r2"), m.get("mse"), m.get("rmse"), m.get("explained_variance")],
            [r2_score(yk[te], p_te), mean_squared_error(yk[te], p_te),
             mean_squared_error(yk[te], p_te) ** 0.5, explained_variance_score(yk[te], p_te)], 1e-9)

    # rows without NULL features train in one pass (after the vocabulary);
    # without an intercept too
    clean = ~a_null[keep] & ~b_null[keep]
    ref = pipeline(LinearRegression(fit_intercept=False)).fit(X[clean], yk[clean])
    p_cl = ref.predict(X[clean])
    cur.execute("SELECT metrics FROM ml.train('acc_clean', "
                "'(SELECT * FROM acc_train WHERE a IS NOT NULL AND b IS NOT NULL)', 'y', "
                "options => '{\"fit_intercept\": false, \"exclude\": [\"id\"]}')")
    m = cur.fetchone()[0]
    cur.execute("SELECT array_agg(p->>'name' ORDER BY (p->>'pass')::int) FROM ml.models m, "
                "jsonb_array_elements(m.training_info->'passes') p WHERE m.name = 'acc_clean'")
    passes = cur.fetchone()[0]
    report("ml.train clean rows: one pass over the data after the vocabulary",
           passes == ["vocabulary", "fit"], "passes %s" % passes)
    cur.execute("SELECT ml.predict('acc_clean', t) FROM acc_train t "
                "WHERE y IS NOT NULL AND a IS NOT NULL AND b IS NOT NULL ORDER BY id")
    compare("ml.train clean rows, no intercept: predictions vs sklearn LinearRegression(fit_intercept=False)",
            [r[0] for r in cur.fetchall()], p_cl, 1e-9)
    compare("ml.train clean rows, no intercept: training r2, mse, rmse, explained_variance vs sklearn",
            [m.get("r2"), m.get("mse"), m.get("rmse"), m.get("explained_variance")],
            [r2_score(yk[clean], p_cl), mean_squared_error(yk[clean], p_cl),
             mean_squared_error(yk[clean], p_cl) ** 0.5, explained_variance_score(yk[clean], p_cl)], 1e-9)
    cur.execute("DROP TABLE acc_train")
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_%'")
