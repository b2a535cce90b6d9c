"""Shared helpers of the security suite: roles, connections, assertions.

Every test connects over the throwaway cluster's unix socket (PG* variables
set by scripts/test.sh).  A test that needs a hostile or a victim role makes
it with make_role(); roles are cluster-wide, so names carry the suite prefix
"sec_" and are dropped and recreated by each test that uses them.
"""

import os

import psycopg2
import psycopg2.extensions

DB = os.environ.get("ML_SECURITY_DB", "ml_security")
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class Failure(AssertionError):
    pass


def connect(role=None, db=None, autocommit=True):
    """A new connection as `role` (a login role) or as the superuser postgres."""
    conn = psycopg2.connect(dbname=db or DB, user=role or os.environ.get("PGUSER", "postgres"))
    conn.autocommit = autocommit
    return conn


def q(conn, sql, args=None):
    """Run sql; the rows it returns ([] for a statement without result)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        if cur.description is None:
            return []
        return cur.fetchall()


def q1(conn, sql, args=None):
    """The single value of a one-row, one-column query."""
    rows = q(conn, sql, args)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise Failure("expected one value from %s, got %r" % (sql, rows))
    return rows[0][0]


def expect_error(conn, sql, sqlstate, args=None, contains=None):
    """Run sql and require it to fail with `sqlstate` (and message text `contains`).
    Returns the error message.  In a transaction, the failed statement is rolled
    back to a savepoint so the caller can go on."""
    in_tx = not conn.autocommit
    if in_tx:
        q(conn, "SAVEPOINT expect_error")
    try:
        q(conn, sql, args)
    except psycopg2.Error as e:
        if in_tx:
            q(conn, "ROLLBACK TO SAVEPOINT expect_error")
        if e.pgcode != sqlstate:
            raise Failure("%s: expected SQLSTATE %s, got %s: %s" % (sql[:120], sqlstate, e.pgcode, e.pgerror))
        msg = e.diag.message_primary or ""
        if contains is not None and contains not in msg:
            raise Failure("%s: message %r does not contain %r" % (sql[:120], msg, contains))
        return msg
    raise Failure("%s: expected SQLSTATE %s, but it succeeded" % (sql[:120], sqlstate))


def check(cond, what):
    if not cond:
        raise Failure(what)


def make_role(name, superuser=False, extra=""):
    """(Re)create a login role; anything it owned in the test database goes first."""
    admin = connect()
    try:
        exists = q1(admin, "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = %s", (name,))
        if exists:
            q(admin, 'REASSIGN OWNED BY "%s" TO postgres' % name)
            q(admin, 'DROP OWNED BY "%s"' % name)
            q(admin, 'DROP ROLE "%s"' % name)
        q(admin, 'CREATE ROLE "%s" LOGIN %s %s' % (name, "SUPERUSER" if superuser else "", extra))
    finally:
        admin.close()


def fresh_db(name):
    """Drop and create database `name` with ml_ext installed."""
    admin = connect(db="postgres")
    try:
        q(admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        q(admin, 'CREATE DATABASE "%s"' % name)
    finally:
        admin.close()
    c = connect(db=name)
    try:
        q(c, "CREATE EXTENSION ml_ext")
    finally:
        c.close()
