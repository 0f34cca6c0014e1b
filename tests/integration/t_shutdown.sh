#!/usr/bin/env bash
# t_shutdown.sh - stopping pgrelay. SIGTERM (shutdown_timeout = 20): the listener closes (new
# connections fail), an idle client is disconnected with 57P01, a client inside a transaction
# can still run queries and COMMIT, is disconnected with 57P01 right after, and the process
# then exits (within a few seconds, not after shutdown_timeout). SIGINT: the process exits at
# once even with a client inside a transaction.
source "$(dirname "$0")/lib.sh"

mq -c "set client_min_messages = warning" -c "drop table if exists it_shut" \
	-c "create table it_shut (id int)"

# ---- SIGTERM
extra_proxy_start "sigterm-$$" "shutdown_timeout = 20"
pid=$(proxy_pid "$XP_DIR") || fail "no pid for the SIGTERM instance"
py "$XP_PORT" "$pid" <<'EOF'
import signal
port, pid = int(sys.argv[1]), int(sys.argv[2])

def alive():
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

idle = Conn(port).login()
txn = Conn(port).login()
txn.query("begin")
txn.query("insert into it_shut values (1)")
check_eq(txn.status, "T", "client in a transaction")

os.kill(pid, signal.SIGTERM)
t0 = time.monotonic()

e = idle.expect_error(5)
check_eq((e.severity, e.sqlstate), ("FATAL", "57P01"), "idle client at SIGTERM")
check(idle.expect_closed(5), "idle client disconnected")

# new connections fail: refused by the closed listener, or answered 57P03
deadline = time.monotonic() + 3
refused = None
while refused is None:
    try:
        c = Conn(port, timeout=3)
        try:
            c.login()
        except PgError as e:
            check_eq(e.sqlstate, "57P03", "new client during shutdown")
            refused = "57P03"
        except Closed:
            refused = "closed"
        else:
            c.close()
            check(time.monotonic() < deadline, "new connections still accepted after SIGTERM")
    except ConnectionRefusedError:
        refused = "refused"
print("# new connection during shutdown:", refused)

# the transaction goes on and commits
time.sleep(0.5)
check(alive(), "pgrelay exited while a transaction was open")
check_eq(txn.value("select count(*) from it_shut"), "1", "query inside the transaction")
txn.query("insert into it_shut values (2)")
txn.query("commit")
check_eq(txn.status, "I", "COMMIT succeeded")
e = txn.expect_error(5)
check_eq((e.severity, e.sqlstate), ("FATAL", "57P01"), "client after COMMIT during shutdown")
check(txn.expect_closed(5), "client disconnected after COMMIT")

deadline = time.monotonic() + 10
while alive() and time.monotonic() < deadline:
    time.sleep(0.05)
check(not alive(), "pgrelay still runs 10 s after the last client left")
print("# pgrelay exited %.1f s after SIGTERM" % (time.monotonic() - t0))
EOF
assert_eq "$(mval "select string_agg(id::text, ',' order by id) from it_shut")" "1,2" \
	"the transaction committed during shutdown"
grep -q "SIGTERM received" "$XP_DIR/pgrelay.log" || fail "no 'SIGTERM received' in the log"

# ---- SIGINT
extra_proxy_start "sigint-$$" "shutdown_timeout = 20"
pid=$(proxy_pid "$XP_DIR") || fail "no pid for the SIGINT instance"
py "$XP_PORT" "$pid" <<'EOF'
import signal
port, pid = int(sys.argv[1]), int(sys.argv[2])
c = Conn(port).login()
c.query("begin")
c.query("insert into it_shut values (3)")
os.kill(pid, signal.SIGINT)
t0 = time.monotonic()
check(c.expect_closed(5), "client connection closed after SIGINT")
while time.monotonic() - t0 < 5:
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
    except OSError:
        break  # gone (it may exit between a check and the open)
    time.sleep(0.05)
check(time.monotonic() - t0 < 3, "pgrelay took %.1f s to exit after SIGINT" % (time.monotonic() - t0))
EOF
exited() { ! proxy_pid "$XP_DIR" >/dev/null; }
wait_until 3 exited || fail "pgrelay still runs after SIGINT"
gone() { [ "$(mval "select count(*) from pg_stat_activity where state like 'idle in transaction%'")" = 0 ]; }
wait_until 10 gone || fail "the interrupted transaction's backend stays idle in transaction"
assert_eq "$(mval "select count(*) from it_shut where id = 3")" 0 "the interrupted transaction rolled back"
mq -c "drop table it_shut"
