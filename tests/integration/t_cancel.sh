#!/usr/bin/env bash
# t_cancel.sh - query cancellation through pgrelay. Two psql sessions run long pg_sleep()s;
# SIGINT to the first makes psql send a CancelRequest (with the key pgrelay gave it) to
# pgrelay: that statement must end with 57014 within a few seconds while the other session's
# statement runs to completion. Then, with the raw client: a CancelRequest with a wrong key
# cancels nothing, one with the right key cancels the running query, and the session goes on.
source "$(dirname "$0")/lib.sh"

# Query texts unique to this run (a killed earlier run may have left its queries running).
# A runs on the master (hint), B on a replica: the cancel must reach the right node.
QA="/* pgrelay:primary */ select pg_sleep(30) as a_$$"
QB="select 42 as b_$$, pg_sleep(5)"

active_query_count() {
	nodes_sum "select count(*) from pg_stat_activity where state = 'active' and query = '$1'"
}
query_is_running() {
	[ "$(active_query_count "$1")" = 1 ]
}

# psql ignores nothing here: it installs its own SIGINT handler, which sends the cancel.
"${PSQL_PROXY[@]}" -c '\set VERBOSITY verbose' -c "$QA" >"$TMP/a.out" 2>&1 &
pid_a=$!
bg_track $pid_a
"${PSQL_PROXY[@]}" -At -c "$QB" >"$TMP/b.out" 2>&1 &
pid_b=$!
bg_track $pid_b

wait_until 10 query_is_running "$QA" || fail "session A's query never started"
wait_until 10 query_is_running "$QB" || fail "session B's query never started"

t0=$SECONDS
kill -INT $pid_a
rc_a=0
wait_pid_exit $pid_a 5 || rc_a=$?
[ "$rc_a" != 124 ] || fail "psql A still runs 5 s after SIGINT (the cancel did not work)"
note "psql A exited with $rc_a after $((SECONDS - t0)) s"
out_a=$(cat "$TMP/a.out")
assert_contains "$out_a" "ERROR:  57014: canceling statement due to user request" "session A's error"
query_is_gone() {
	[ "$(active_query_count "$1")" = 0 ]
}
wait_until 5 query_is_gone "$QA" || fail "the canceled query still runs on the server"

# B is not affected: it is still running, then finishes normally.
query_is_running "$QB" || fail "session B's query is no longer running"
rc_b=0
wait_pid_exit $pid_b 15 || rc_b=$?
assert_eq "$rc_b" 0 "psql B exit status"
assert_eq "$(cat "$TMP/b.out")" "42|" "session B's output"

# Raw client: wrong key, then right key.
py <<'EOF'
import struct
c = Conn().login()
check(c.pid is not None and c.key is not None, "BackendKeyData received")

def cancel(pid, key):
    s = socket.create_connection(("127.0.0.1", PROXY_PORT), timeout=5)
    s.sendall(struct.pack("!IIII", 16, 80877102, pid, key))
    # the proxy closes the connection without answering
    s.settimeout(5)
    check_eq(s.recv(100), b"", "answer to a CancelRequest")
    s.close()

sql = "/* pgrelay:primary */ select 'slept', pg_sleep(2) as w_%d" % os.getpid()
c.send(msg(b"Q", cstr(sql)))
wait_running(sql)
cancel(c.pid, (c.key + 1) & 0xffffffff)
cancel((c.pid + 1) & 0xffffffff, c.key)
res = c.results()
check_eq(res[0][1], [("slept", "")], "query with a wrong-key cancel completes")

sql = "/* pgrelay:primary */ select pg_sleep(20) as c_%d" % os.getpid()
c.send(msg(b"Q", cstr(sql)))
wait_running(sql)
t0 = time.monotonic()
cancel(c.pid, c.key)
try:
    c.results(timeout=10)
    check(False, "the canceled query succeeded")
except PgError as e:
    check_eq(e.sqlstate, "57014", "SQLSTATE of the canceled query")
check(time.monotonic() - t0 < 5, "cancel took %.1f s" % (time.monotonic() - t0))
check_eq(c.status, "I", "status after the cancel")
check_eq(c.value("select 'still here'"), "still here", "session usable after the cancel")
c.close()
EOF
