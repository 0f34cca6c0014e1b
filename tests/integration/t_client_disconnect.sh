#!/usr/bin/env bash
# t_client_disconnect.sh - a client that dies (SIGKILL, no Terminate) must leave nothing behind
# on the server connection the next client gets (pool_size = 1, so that is the same pool):
# 1. killed inside a transaction after an INSERT, SETs, a temp table, a prepared statement and
#    an advisory lock: the INSERT is rolled back, no backend is left idle in transaction, and
#    the next client starts outside a transaction with default settings and none of A's state.
# 2. killed while a query runs: the next client is served at once, on another backend, and the
#    killed client's backend goes away (pgrelay closed that server connection; the backend
#    notices through client_connection_check_interval) instead of being reused.
source "$(dirname "$0")/lib.sh"

mq -c "set client_min_messages = warning" -c "drop table if exists it_disc" \
	-c "create table it_disc (id int)"
extra_proxy_start "disconnect-$$" "pool_size = 1"
port=$XP_PORT

# ---- 1. killed inside a transaction
a_pid=$(py "$port" <<'EOF'
import signal
a = Conn(int(sys.argv[1])).login()
a.query("set work_mem = '77MB'")
a.query("set application_name = 'it_dirty'")
a.query("prepare it_prep as select 1")
a.query("create temp table it_tmp_a (x int)")
a.query("select pg_advisory_lock(4242)")
a.query("begin")
a.query("insert into it_disc values (1)")
a.query("set local statement_timeout = '3min'")
check_eq(a.status, "T", "A is in a transaction")
print(a.value("select pg_backend_pid()"), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
EOF
) || true
[[ $a_pid =~ ^[0-9]+$ ]] || fail "client A did not report its backend pid: $a_pid"
note "client A's backend was $a_pid"

no_txn_left() {
	[ "$(mval "select count(*) from pg_stat_activity
		where state like 'idle in transaction%' and datname = 'postgres'")" = 0 ]
}
wait_until 10 no_txn_left || {
	mq -c "select pid, state, query from pg_stat_activity where datname = 'postgres'"
	fail "a backend stays idle in transaction after client A died"
}
assert_eq "$(mval "select count(*) from it_disc")" 0 "A's INSERT rolled back (master)"
assert_eq "$(mval "select count(*) from pg_locks where locktype = 'advisory'")" 0 \
	"A's advisory lock released"

py "$port" "$a_pid" <<'EOF'
b = Conn(int(sys.argv[1])).login()
check_eq(b.status, "I", "B starts outside a transaction")
check_eq(b.value("select count(*) from it_disc"), "0", "A's INSERT is not visible to B")
check_eq(b.value("select now() = statement_timestamp()"), "t", "B's statement is not in A's transaction")
check_eq(b.value("show work_mem"), "4MB", "work_mem is the default for B")
check_eq(b.value("show application_name"), "", "application_name is not A's")
check_eq(b.value("show statement_timeout"), "0", "statement_timeout is the default")
check_eq(b.value("select to_regclass('pg_temp.it_tmp_a') is null"), "t", "A's temp table is gone")
try:
    b.query("execute it_prep")
    check(False, "A's prepared statement is visible to B")
except PgError as e:
    check_eq(e.sqlstate, "26000", "executing A's prepared statement")
check_eq(b.value("select pg_try_advisory_lock(4242)"), "t", "A's advisory lock is free")
b.query("select pg_advisory_unlock(4242)")
b.query("insert into it_disc values (2)")
check_eq(b.status, "I", "B's insert autocommitted")
b.close()
EOF
assert_eq "$(mval "select string_agg(id::text, ',') from it_disc")" 2 "only B's row is there"

# ---- 2. killed while a query runs
QA="/* pgrelay:primary */ select pg_sleep(30) as killed_$$"
a_pid=$(QA=$QA py "$port" <<'EOF'
import signal
a = Conn(int(sys.argv[1])).login()
a.query("set client_connection_check_interval = '100ms'")
pid = a.value("select pg_backend_pid()")
a.send(msg(b"Q", cstr(os.environ["QA"])))
m = Conn(MASTER_PORT).login()
deadline = time.monotonic() + 10
while m.value("select count(*) from pg_stat_activity where state = 'active' and pid = %s" % pid) != "1":
    check(time.monotonic() < deadline, "A's query did not start")
    time.sleep(0.05)
print(pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
EOF
) || true
[[ $a_pid =~ ^[0-9]+$ ]] || fail "client A did not report its backend pid: $a_pid"

t0=$SECONDS
b_pid=$(pqp "$port" -At -c "select pg_backend_pid()") || fail "client B was not served"
[ $((SECONDS - t0)) -le 5 ] || fail "client B waited $((SECONDS - t0)) s for a server"
[ "$b_pid" != "$a_pid" ] || fail "client B got the backend ($b_pid) still running A's query"
backend_gone() {
	[ "$(mval "select count(*) from pg_stat_activity where pid = $a_pid")" = 0 ]
}
wait_until 10 backend_gone || {
	mq -c "select pid, state, query from pg_stat_activity where pid = $a_pid"
	fail "A's backend $a_pid still exists: its server connection was not closed"
}
assert_eq "$(pqp "$port" -At -c "select 'works'")" works "the pool works afterwards"

extra_proxy_stop "$XP_DIR"
mq -c "drop table it_disc"
