#!/usr/bin/env bash
# t_failover_choice.sh - which replica a failover promotes, on a cluster of the test's own:
# n1 holds WAL back (recovery_min_apply_delay = 1h), so when the master dies the fresher n2
# is promoted although n1 received as much. Then n2 dies too: the only candidate left, n1,
# is further behind than max_failover_lag, so no failover happens, the event says why, and
# writes fail with 57P03 after write_wait_timeout instead of landing on a stale master.
source "$(dirname "$0")/lib.sh"

own_cluster fc
C=$OC_DIR
M=$(cluster_port "$C" n0)
R1=$(cluster_port "$C" n1)
R2=$(cluster_port "$C" n2)
psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -q -c "alter system set recovery_min_apply_delay = '1h'" \
	-c "select pg_reload_conf()" >/dev/null
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "failover_after = 3" \
	"max_failover_lag = 1kB" "write_wait_timeout = 3" "max_lag_time = 0"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
P=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
"${P[@]}" -c "create table fc (id int)" -c "insert into fc select generate_series(1, 100)"
sleep 1 # n2 replays, n1 only receives

cluster_kill_node "$C" n0
wait_until 20 "${P[@]}" -c "insert into fc values (0)" 2>/dev/null || fail "no failover to n2"
assert_eq "$("${P[@]}" -c "insert into fc values (-1) returning current_setting('port')")" "$R2" \
	"the replica that had replayed the most (n2) was promoted, not the delayed n1"
grep -q "promoting n2" "$C/pgrelay.log" || fail "the failover_started event does not name n2"

# n2 writes more than max_failover_lag that n1 receives but does not apply
"${P[@]}" -c "insert into fc select generate_series(1, 2000)"
sleep 1
export ROOT
out=$(py "$OC_PORT" "$C" <<'PYEOF'
import subprocess
port, cdir = int(sys.argv[1]), sys.argv[2]
c = Conn(port).login()  # connected before: a new client cannot log in without a master
c.value("select 1")
subprocess.run(["bash", "-c", "source %s/tests/lib/cluster.sh && cluster_kill_node %s n2" %
                (os.environ["ROOT"], cdir)], check=True)
t0 = time.monotonic()
try:
    c.query("insert into fc values (-2)")
    check(False, "a write succeeded with only a stale candidate")
except PgError as e:
    check_eq(e.sqlstate, "57P03", "the write's SQLSTATE")
    check("no master is available" in str(e), "the message: %s" % e)
print("the write failed after %.1f s" % (time.monotonic() - t0))
PYEOF
) || fail "$out"
note "$out"
wait_until 5 grep -q "event failover_refused" "$C/pgrelay.log" || fail "no failover_refused event"
note "$(grep -m 1 'event failover_refused' "$C/pgrelay.log" | sed -e 's/.*event/event/')"
assert_eq "$(psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -At -c "select pg_is_in_recovery()")" \
	"t" "the stale replica was not promoted"
