"""Models written by older releases keep decoding and scoring identically.

test/corpus/<release>/ holds one model of every algorithm and objective
written by that release (test/corpus/generate.py, run once with the release's
code) and every scoring function's output on the fixed table of
test/corpus/input.sql.  This build must score each stored model to exactly the
stored text: PostgreSQL prints a float8 as the shortest text that reads back
to the same bits, so equal text is equal bits (doc/model-format.md, "Older
models").
"""

import glob
import hashlib
import json
import os

from seclib import ROOT, check, connect, q, q1

CORPUS = os.path.join(ROOT, "test", "corpus")
DB = "ml_sec_corpus"


def corpus_releases():
    return sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(CORPUS, "*", "predictions.json")))


def load(release):
    """The release's predictions.json, each model with its bytes ("model")."""
    with open(os.path.join(CORPUS, release, "predictions.json")) as f:
        data = json.load(f)
    for m in data["models"]:
        with open(os.path.join(CORPUS, release, "models", m["name"] + ".hex")) as f:
            m["model"] = bytes.fromhex(f.read().strip())
        check(hashlib.sha256(m["model"]).hexdigest() == m["sha256"],
              "%s/%s.hex does not hold the bytes the release wrote" % (release, m["name"]))
    return data


def create_input(conn):
    """The fixed input table public.corpus_input."""
    q(conn, "DROP TABLE IF EXISTS public.corpus_input")
    with open(os.path.join(CORPUS, "input.sql")) as f:
        q(conn, f.read())


def score(conn, model, fn, by_name=False):
    """fn's output (text, in id order) for every input row; model is the bytes or, by_name, a model name."""
    arg = "%s::text" if by_name else "%s::bytea"
    return [r[0] for r in q(conn, "SELECT ml.%s(%s, t)::text FROM public.corpus_input t ORDER BY t.id" % (fn, arg),
                            (model,))]


def mismatches(got, want):
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    if len(got) != len(want):
        return "%d rows, expected %d" % (len(got), len(want))
    if bad:
        i = bad[0]
        return "%d of %d rows differ, first row id %d: %s, stored %s" % (len(bad), len(want), i + 1, got[i], want[i])
    return None


def test_corpus_covers_every_algorithm():
    releases = corpus_releases()
    check("1.0" in releases, "test/corpus/1.0 is missing")
    algos = {m["algorithm"] for m in load("1.0")["models"]}
    want = {"linear_regression", "logistic_regression", "naive_bayes", "poisson_regression", "lasso",
            "elastic_net", "pca", "kmeans", "decision_tree", "random_forest", "gradient_boosting"}
    check(want <= algos, "corpus 1.0 lacks %s" % sorted(want - algos))


def test_corpus_models_score_as_their_release_did():
    pg = connect(db="postgres")
    q(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
    q(pg, "CREATE DATABASE %s" % DB)
    c = connect(db=DB)
    try:
        q(c, "CREATE EXTENSION ml_ext")
        create_input(c)
        problems = []
        n = 0
        for release in corpus_releases():
            for m in load(release)["models"]:
                # the stored bytes decode: model_info names the same algorithm
                info = q1(c, "SELECT ml.model_info(%s::bytea)->>'algorithm'", (m["model"],))
                check(info is not None, "%s/%s: model_info has no algorithm" % (release, m["name"]))
                for fn, want in sorted(m["predictions"].items()):
                    bad = mismatches(score(c, m["model"], fn), want)
                    n += 1
                    if bad:
                        problems.append("%s/%s ml.%s: %s" % (release, m["name"], fn, bad))
        check(not problems, "; ".join(problems))
        check(n >= 29, "only %d scoring checks" % n)
    finally:
        c.close()
        q(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
        pg.close()
