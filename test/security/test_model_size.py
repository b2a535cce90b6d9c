"""The model size limit: 256 MB, so that pg_dump can always dump ml.models.

Issue 21 item 2: the encoder refused only models over 1 GB, but pg_dump
dumps ml.models with text COPY, which doubles a bytea (hex), so a model
between about 512 MB and 1 GB broke the dump of the whole database; an
ordinary ml.train (random forest, 5,500 trees of depth 30 on 2,000 rows)
made a 617 MB model with 4.4 GB of backend memory.  Now:

- a forest that could pass 1 GB is refused (54000) before the data is read;
- a forest within that bound stops growing as soon as the model would pass
  256 MB (54000), its memory bounded accordingly;
- a model just under the limit dumps with pg_dump -Fc and restores intact.
"""

import hashlib
import os
import subprocess

import seclib
import test_inspection as ti
from seclib import check, connect, expect_error, q, q1

MB = 1024 * 1024
LIMIT = 256 * MB
DB = "ml_security_size"
RESTORED = "ml_security_size_restored"


def bindir():
    return os.environ.get("MLX_PG_BINDIR", "/usr/lib/postgresql/15/bin")


def test_absurd_forest_refused_before_reading():
    """The issue's forest (5,500 trees of depth 30 on 2,000 rows: up to 1.1
    GB) and one of 10,000 trees are refused at once, before any pass over the
    data; the statement_timeout only keeps a regression from running for
    minutes."""
    seclib.fresh_db(DB)
    conn = connect(db=DB)
    try:
        q(conn, "CREATE TABLE t AS SELECT i, random() AS a, random() AS b, random() AS c, "
                "(random() > 0.5)::int::text AS y FROM generate_series(1, 2000) i")
        q(conn, "SET statement_timeout = '60s'")
        for n in (5500, 10000):
            used, _ = ti.peak_of(conn, "SELECT ml.train('absurd', 't', 'y', 'random_forest', "
                                       "ARRAY['a', 'b', 'c'], '{\"n_estimators\": %d, \"max_depth\": 30}')" % n,
                                 "54000")
            check(used < 64 * MB, "refusing a %d-tree forest took %.0f MB" % (n, used / MB))
        msg = expect_error(conn, "SELECT ml.train('absurd', 't', 'y', 'random_forest', ARRAY['a', 'b', 'c'], "
                                 "'{\"n_estimators\": 5500, \"max_depth\": 30}')", "54000")
        check("more than the limit of 256 MB" in msg, "message: %r" % msg)
        check(q1(conn, "SELECT count(*) FROM ml.models") == 0, "a model was stored")
    finally:
        conn.close()


def test_forest_stops_at_the_limit():
    """A forest whose bound (about 540 MB) does not rule it out, but which
    grows past 256 MB (300 fully grown regression trees on 20,000 rows,
    about 1.1 MB each), stops with 54000 when its nodes pass the limit;
    the backend's memory stays within a small multiple of the limit."""
    seclib.fresh_db(DB)
    conn = connect(db=DB)
    try:
        q(conn, "CREATE TABLE r AS SELECT i, random() AS a, random() AS b, random() AS c, random() AS y "
                "FROM generate_series(1, 20000) i")
        q(conn, "SET statement_timeout = '300s'")
        used, _ = ti.peak_of(conn, "SELECT ml.train('grown', 'r', 'y', 'random_forest', ARRAY['a', 'b', 'c'], "
                                   "'{\"n_estimators\": 300, \"max_depth\": 30, \"seed\": 1}')", "54000")
        check(used < 3 * LIMIT, "training up to the limit took %.0f MB" % (used / MB))
        check(q1(conn, "SELECT count(*) FROM ml.models") == 0, "a model was stored")
    finally:
        conn.close()


def test_model_at_the_limit_dumps_and_restores():
    """A model of just under 256 MB (a PCA of 5790 components of 5790
    features, crafted) in ml.models survives pg_dump -Fc and pg_restore
    byte for byte."""
    k = 5790
    data = ti.pca_model(k, k)
    check(LIMIT - MB < len(data) <= LIMIT, "crafted model has %d bytes" % len(data))
    digest = hashlib.md5(data).hexdigest()
    path = ti.write_model("dump", data)
    dump = "/tmp/ml_sec_dump_%d.pgdump" % os.getpid()
    seclib.fresh_db(DB)
    try:
        conn = connect(db=DB)
        try:
            # the column is stored uncompressed, as a model of random numbers would be
            q(conn, "ALTER TABLE ml.models ALTER COLUMN model SET STORAGE EXTERNAL")
            q(conn, "INSERT INTO ml.model_names (name) VALUES ('big')")
            q(conn, "INSERT INTO ml.models (name, version, owner, algorithm, model) "
                    "SELECT 'big', 1, current_user, 'pca', pg_catalog.pg_read_binary_file(%s)", (path,))
            check(q1(conn, "SELECT count(*) FROM ml.models, ml.components(model)") == k,
                  "stored model does not read")
        finally:
            conn.close()
        subprocess.check_call([os.path.join(bindir(), "pg_dump"), "-Fc", "-Z", "1", "-d", DB, "-f", dump])
        admin = connect(db="postgres")
        try:
            q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % RESTORED)
            q(admin, 'CREATE DATABASE "%s"' % RESTORED)
        finally:
            admin.close()
        subprocess.check_call([os.path.join(bindir(), "pg_restore"), "-d", RESTORED, "--exit-on-error", dump])
        conn = connect(db=RESTORED)
        try:
            got = q1(conn, "SELECT pg_catalog.md5(model) FROM ml.models WHERE name = 'big'")
            check(got == digest, "restored model differs: md5 %s, expected %s" % (got, digest))
        finally:
            conn.close()
    finally:
        os.unlink(path)
        if os.path.exists(dump):
            os.unlink(dump)
        admin = connect(db="postgres")
        try:
            q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % RESTORED)
            q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)
        finally:
            admin.close()
