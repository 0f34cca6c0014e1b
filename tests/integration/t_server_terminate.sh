#!/usr/bin/env bash
# t_server_terminate.sh - the master connection dies under a client: pg_terminate_backend()
# (run directly on the master) on the backend of a client connected through pgrelay, when the
# client is idle, inside a transaction, and while its query runs. An idle session keeps its
# client: its next statement runs on a new backend (the master's FATAL is not passed on), as
# after a master crash or a failover. A session inside a transaction gets an 08006 error at its
# next statement ("the transaction was lost") and then goes on. A statement running when the
# backend dies gets the server's FATAL and the client is closed (its outcome is unknown). A
# pinned session (a temporary table) cannot be rebuilt: it is closed with 08006. The same with
# psycopg2.
source "$(dirname "$0")/lib.sh"

py <<'EOF'
m = Conn(MASTER_PORT).login()

def terminate(pid):
    check_eq(m.value("select pg_terminate_backend(%s, 5000)" % pid), "t", "pg_terminate_backend")

def check_killed(c, what, err=None):
    if err is None:
        try:
            c.query("select 1")
            check(False, "%s: the query after the termination succeeded" % what)
        except PgError as e:
            err = e
        except Closed:
            check(False, "%s: the connection closed without an ErrorResponse" % what)
    check(err.sqlstate in ("57P01", "08006"), "%s: SQLSTATE %s (%s)" % (what, err.sqlstate, err))
    check_eq(err.severity, "FATAL", what + ": severity")
    # one FATAL, as PostgreSQL sends: pgrelay adds no 08006 of its own after the server's 57P01
    check(c.expect_only_close(5), what + ": the connection is closed right after the error")

def new_client(old_pid, what):
    c = Conn().login()
    pid = c.value("select pg_backend_pid()")
    check(pid != old_pid, what + ": the new client got the dead backend")
    check_eq(c.value("select 'alive'"), "alive", what + ": a new client is served")
    return c

# idle: the session survives on a new backend
c = Conn().login()
c.query("set application_name = 'it_terminated'")
pid = c.value("select pg_backend_pid()")
terminate(pid)
time.sleep(0.3)
check_eq(c.value("/* pgrelay:primary */ select current_setting('application_name')"),
         "it_terminated", "idle: the next statement runs, with the session's SET replayed")
pid2 = c.value("select pg_backend_pid()")
check(pid2 != pid, "idle: a new backend")
c.close()

# inside a transaction: one error, then the session goes on
c = Conn().login()
c.query("begin")
c.query("select 1")
pid = c.value("select pg_backend_pid()")
terminate(pid)
time.sleep(0.3)
try:
    c.query("select 2")
    check(False, "in a transaction: the statement after the termination succeeded")
except PgError as e:
    check_eq(e.sqlstate, "08006", "in a transaction: SQLSTATE")
    check("transaction was lost" in str(e), "in a transaction: the message: %s" % e)
check_eq(c.status, "I", "in a transaction: the transaction is over")
check_eq(c.value("select 'next'"), "next", "in a transaction: the next statement works")
c.close()

# a pinned session cannot be rebuilt elsewhere: closed with 08006
c = Conn().login()
c.query("create temp table it_pinned (a int)")
pid = c.value("select pg_backend_pid()")
terminate(pid)
check_killed(c, "pinned", c.expect_error(5))
new_client(pid, "pinned").close()

# while a query runs
c = Conn().login()
pid = c.value("select pg_backend_pid()")
sql = "/* pgrelay:primary */ select pg_sleep(20) as t_%d" % os.getpid()
c.send(msg(b"Q", cstr(sql)))
wait_running(sql)
t0 = time.monotonic()
terminate(pid)
try:
    c.results(timeout=10)
    check(False, "the running query succeeded")
except PgError as e:
    check(time.monotonic() - t0 < 5, "the error took %.1f s" % (time.monotonic() - t0))
    check_killed(c, "running query", e)
except Closed:
    check(False, "running query: the connection closed without an ErrorResponse")
new_client(pid, "running query").close()
m.close()
EOF

py <<'EOF'
import psycopg2
dsn = "host=127.0.0.1 port=%d user=postgres password=postgres dbname=postgres" % PROXY_PORT
conn = psycopg2.connect(dsn)
conn.autocommit = True
cur = conn.cursor()
cur.execute("select pg_backend_pid()")
pid = cur.fetchone()[0]
m = Conn(MASTER_PORT).login()
check_eq(m.value("select pg_terminate_backend(%d, 5000)" % pid), "t", "pg_terminate_backend")
time.sleep(0.3)
cur.execute("select 1")
check_eq(cur.fetchone()[0], 1, "psycopg2: an idle connection goes on after its backend died")
check(conn.closed == 0, "psycopg2: the connection is still open")
conn2 = psycopg2.connect(dsn)
cur2 = conn2.cursor()
cur2.execute("select 'ok'")
check_eq(cur2.fetchone()[0], "ok", "psycopg2: a new connection works")
conn2.close()
EOF
