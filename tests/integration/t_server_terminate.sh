#!/usr/bin/env bash
# t_server_terminate.sh - the server connection dies under a client: pg_terminate_backend()
# (run directly on the master) on the backend of a client connected through pgrelay, when the
# client is idle, inside a transaction, and while its query runs. The client gets a clear error
# (57P01 from the server, or 08006 from pgrelay), its connection ends, and pgrelay goes on
# serving new clients on fresh backends. The same with psycopg2.
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

# idle
c = Conn().login()
pid = c.value("select pg_backend_pid()")
terminate(pid)
# pgrelay passes the server's FATAL on at once; read it before sending anything (a send to the
# closed socket would make the kernel drop what is unread)
check_killed(c, "idle", c.expect_error(5))
new_client(pid, "idle").close()

# inside a transaction
c = Conn().login()
c.query("begin")
c.query("select 1")
pid = c.value("select pg_backend_pid()")
terminate(pid)
check_killed(c, "in a transaction", c.expect_error(5))
new_client(pid, "in a transaction").close()

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
try:
    cur.execute("select 1")
    check(False, "psycopg2: the query after the termination succeeded")
except psycopg2.OperationalError as e:
    check(e.pgcode in ("57P01", "08006", None), "psycopg2: pgcode %r" % e.pgcode)
    check("terminating connection" in str(e) or "server connection" in str(e)
          or "server closed the connection" in str(e), "psycopg2 message: %s" % e)
check(conn.closed != 0, "psycopg2 sees the connection closed")
conn2 = psycopg2.connect(dsn)
cur2 = conn2.cursor()
cur2.execute("select 'ok'")
check_eq(cur2.fetchone()[0], "ok", "psycopg2: a new connection works")
conn2.close()
EOF
