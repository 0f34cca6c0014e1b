#!/usr/bin/env bash
# t_failover_freeze.sh - the master is frozen (SIGSTOP to every one of its processes) instead
# of killed: its health checks time out, but the replicas' WAL receivers still count it alive
# until their wal_receiver_timeout (5 s here), so pgrelay first defers (event
# failover_deferred), then fails over once they agree it is gone. After SIGCONT the old
# master is fenced: made read only, and pgrelay drops its connections to it.
source "$(dirname "$0")/lib.sh"

own_cluster fz
C=$OC_DIR
M=$(cluster_port "$C" n0)
for n in n1 n2; do
	psql -h 127.0.0.1 -p "$(cluster_port "$C" "$n")" -U postgres -d postgres -X -q \
		-c "alter system set wal_receiver_timeout = '5s'" -c "select pg_reload_conf()" >/dev/null
done
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "monitor_timeout = 0.5" \
	"failover_after = 3" "write_wait_timeout = 30"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q -c "create table fz (id int)"

pm=$(head -n 1 "$C/n0/postmaster.pid")
# every process of the master, taken again when thawing (backends forked meanwhile)
thaw() { kill -CONT "$pm" $(pgrep -P "$pm") 2>/dev/null || true; }
trap 'thaw; _lib_cleanup' EXIT

out=$(py "$OC_PORT" "$M" "$pm" <<'PYEOF'
import subprocess
port, master, pm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = Conn(port).login()
c.query("insert into fz values (1)")
kids = subprocess.run(["pgrep", "-P", str(pm)], capture_output=True, text=True).stdout.split()
t0 = time.monotonic()
for p in [pm] + [int(k) for k in kids]:
    os.kill(p, 19) # SIGSTOP, the postmaster and every backend (the client's too)
# this write went to the frozen master: its outcome is unknown, the client is told so
try:
    c.query("insert into fz values (2)")
    check(False, "the write sent to the frozen master succeeded")
except PgError as e:
    check_eq(e.sqlstate, "08006", "the write in flight at the failover")
    check("outcome" in str(e), "the message says the outcome is unknown: %s" % e)
newport = int(c.value("insert into fz values (3) returning current_setting('port')"))
print("failover after %.1f s, new master port %d" % (time.monotonic() - t0, newport))
check(newport != master, "the write ran on a new master")
PYEOF
) || fail "$out"
note "$out"
grep -q "event failover_deferred" "$C/pgrelay.log" || fail "the witnesses were not asked (no failover_deferred)"
grep -q "event failover_switch" "$C/pgrelay.log" || fail "no failover_switch"

thaw
wait_until 10 grep -q "event fenced: node n0" "$C/pgrelay.log" || fail "the thawed old master was not fenced"
wait_until 10 test "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c \
	"select count(*) from pg_stat_activity where backend_type = 'client backend'
	 and application_name not in ('pgrelay monitor', 'pgrelay failover') and pid <> pg_backend_pid()")" = 0 ||
	fail "pgrelay still has connections to the fenced old master"
