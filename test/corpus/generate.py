#!/usr/bin/env python3
"""Write a corpus of models with the ml_ext release that the server runs.

Run ONCE per release, against a server where that release is installed
(CREATE EXTENSION ml_ext VERSION '<release>'): it trains one model of every
algorithm and objective on the fixed table of input.sql, and writes
<outdir>/models/NAME.hex (the model bytes, hex) and <outdir>/predictions.json
(every scoring function's output for every row of that table, as PostgreSQL
prints it: float8 output is the shortest text that reads back to the same
bits, so equal text means equal bits).  test/security/test_corpus.py then
checks that every later build decodes these bytes and scores them to exactly
the stored predictions.  Connection: the PG* environment variables.

    python3 test/corpus/generate.py test/corpus/1.0
"""

import hashlib
import json
import os
import sys

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))

# name, algorithm, target, features, options, scoring functions (ml.predict
# refuses a model with text labels: multiclass models have predict_proba/label)
MODELS = [
    ("linear", "linear_regression", "y", ["x1", "x2", "n", "flag", "color", "arr"], {}, ["predict"]),
    ("ridge", "linear_regression", "y", ["x1", "x2", "n", "flag", "color"], {"lambda": 2.5}, ["predict"]),
    ("logistic_binary", "logistic_regression", "ybin", ["x1", "x2", "flag", "color"], {},
     ["predict", "predict_proba", "predict_label"]),
    ("logistic_multinomial", "logistic_regression", "ycls", ["x1", "x2", "n", "color"], {},
     ["predict_proba", "predict_label"]),
    ("nb_gaussian", "naive_bayes", "ycls", ["x1", "x2", "n", "flag"], {"distribution": "gaussian"},
     ["predict_proba", "predict_label"]),
    ("nb_multinomial", "naive_bayes", "ycls", ["c1", "c2", "c3"], {"distribution": "multinomial", "alpha": 0.5},
     ["predict_proba", "predict_label"]),
    ("poisson", "poisson_regression", "ycount", ["x1", "n", "flag", "color"], {}, ["predict"]),
    ("lasso", "lasso", "y", ["x1", "x2", "n", "flag", "color", "arr"], {"alpha": 0.05}, ["predict"]),
    ("elastic_net", "elastic_net", "y", ["x1", "x2", "n", "flag", "color"], {"alpha": 0.1, "l1_ratio": 0.5},
     ["predict"]),
    ("pca", "pca", None, ["x1", "x2", "n", "arr"], {"n_components": 3}, ["transform"]),
    ("kmeans", "kmeans", None, ["x1", "x2", "n"], {"k": 3, "seed": 7}, ["predict"]),
    ("tree_regression", "decision_tree", "y", ["x1", "x2", "n", "flag", "color", "arr"], {"max_depth": 4},
     ["predict"]),
    ("tree_binary", "decision_tree", "ybin", ["x1", "x2", "n", "color"], {"max_depth": 3},
     ["predict", "predict_proba", "predict_label"]),
    ("forest_multiclass", "random_forest", "ycls", ["x1", "x2", "n", "flag", "color"],
     {"n_estimators": 8, "max_depth": 4, "seed": 3}, ["predict_proba", "predict_label"]),
    ("forest_regression", "random_forest", "y", ["x1", "x2", "n", "arr"],
     {"n_estimators": 6, "max_depth": 4, "seed": 5}, ["predict"]),
    ("gb_regression", "gradient_boosting", "y", ["x1", "x2", "n", "flag", "color", "arr"],
     {"n_estimators": 12, "max_depth": 3, "learning_rate": 0.2}, ["predict"]),
    ("gb_binary", "gradient_boosting", "ybin", ["x1", "x2", "n", "color"],
     {"n_estimators": 10, "max_depth": 3, "objective": "binary"}, ["predict", "predict_proba", "predict_label"]),
    ("gb_multiclass", "gradient_boosting", "ycls", ["x1", "x2", "n", "flag", "color"],
     {"n_estimators": 6, "max_depth": 3, "objective": "multiclass"}, ["predict_proba", "predict_label"]),
]


def main():
    outdir = os.path.abspath(sys.argv[1])
    os.makedirs(os.path.join(outdir, "models"), exist_ok=True)
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'ml_ext'")
    release = cur.fetchone()[0]
    cur.execute("DROP TABLE IF EXISTS public.corpus_input")
    with open(os.path.join(HERE, "input.sql")) as f:
        cur.execute(f.read())
    out = {"release": release, "input": "test/corpus/input.sql", "models": []}
    for name, algorithm, target, features, options, calls in MODELS:
        cur.execute("SELECT ml.drop_model(%s) FROM ml.models WHERE name = %s LIMIT 1", (name, name))
        cur.execute("SELECT version FROM ml.train(%s, 'public.corpus_input', %s, %s, %s, %s)",
                    (name, target, algorithm, features, json.dumps(options)))
        cur.execute("SELECT ml.model(%s)", (name,))
        model = bytes(cur.fetchone()[0])
        with open(os.path.join(outdir, "models", name + ".hex"), "w") as f:
            f.write(model.hex() + "\n")
        preds = {}
        for fn in calls:
            cur.execute("SELECT t.id, ml.%s(%%s::bytea, t)::text FROM public.corpus_input t ORDER BY t.id" % fn,
                        (model,))
            preds[fn] = [v for _, v in cur.fetchall()]
        out["models"].append({"name": name, "algorithm": algorithm, "target": target,
                              "features": features, "options": options,
                              "sha256": hashlib.sha256(model).hexdigest(), "bytes": len(model),
                              "predictions": preds})
        print("%-22s %-20s %7d bytes" % (name, algorithm, len(model)))
    with open(os.path.join(outdir, "predictions.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
