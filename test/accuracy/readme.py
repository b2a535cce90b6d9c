"""README.md must stay true: every ```sql block runs, in order, in a fresh
database, exactly as shown (psql, from the repository root, stopping at the
first error).  The blocks build on each other like a newcomer's session.
"""

import os
import re
import subprocess

import psycopg2


def _bin(name):
    path = os.path.join(os.environ.get("MLX_PG_BINDIR", "/usr/lib/postgresql/15/bin"), name)
    return path if os.path.exists(path) else name


def checks(conn, report, compare, root):
    with open(os.path.join(root, "README.md")) as f:
        text = f.read()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    report("readme: has SQL examples", len(blocks) >= 3, "%d blocks" % len(blocks))
    db = "ml_readme_%d" % os.getpid()
    cur = conn.cursor()
    cur.execute("DROP DATABASE IF EXISTS %s" % db)
    cur.execute("CREATE DATABASE %s" % db)
    try:
        for i, block in enumerate(blocks, 1):
            r = subprocess.run([_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db],
                               input=block, capture_output=True, text=True, cwd=root)
            first = block.strip().splitlines()[0] if block.strip() else ""
            ok = r.returncode == 0 and "ERROR" not in r.stderr
            report("readme: SQL block %d runs as shown (%s)" % (i, first[:60]), ok,
                   "" if ok else (r.stderr.strip() or r.stdout.strip())[:400])
    finally:
        cur.execute("DROP DATABASE IF EXISTS %s" % db)
