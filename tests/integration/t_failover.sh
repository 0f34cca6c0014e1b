#!/usr/bin/env bash
# t_failover.sh - automatic failover (issue 5), on a cluster of the test's own with
# asynchronous replication: the master is stopped in immediate mode (every process killed)
# under a write load; pgrelay promotes the most advanced replica, repoints the other one to
# it, and the writers resume on the new master. Reported: the write unavailability window
# (from the kill to the first acknowledged write) and the acknowledged writes lost
# (asynchronous replication may lose some). Checked: a client connected before the kill
# writes afterwards without reconnecting; the other replica streams from the new master; the
# old master, restarted as a master, gets no client statement from pgrelay and is made read
# only (fence_old_master), also after pgrelay itself restarts (state_file); a second failover
# (the new master killed) promotes the last replica.
source "$(dirname "$0")/lib.sh"
export ROOT

own_cluster fo
C=$OC_DIR
M=$(cluster_port "$C" n0)
if [ "${FO_SYNC:-0}" = 1 ]; then
	# t_failover_sync.sh: a commit is acknowledged once one replica has flushed it
	psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q \
		-c "alter system set synchronous_standby_names = 'ANY 1 (n1, n2)'" \
		-c "select pg_reload_conf()" >/dev/null
fi
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "failover_after = 3" \
	"failover_timeout = 20" "write_wait_timeout = 20" "log_level = info" \
	"state_file = $C/failover.state"
# physical slots for the replicas, created on whichever becomes the master
sed -i -e '/^\[node\.n1\]$/a replication_slot = n1_slot' -e '/^\[node\.n2\]$/a replication_slot = n2_slot' \
	"$C/proxy.ini"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q -c "create table fo (id bigint primary key)"
cluster_wait_replay "$C" >/dev/null

out=$(py "$OC_PORT" "$M" "$C" <<'EOF'
import subprocess, threading
port, master, cdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lib = os.environ["ROOT"] + "/tests/lib/cluster.sh"
acked, lock = [], threading.Lock()
state = {"stop": False, "kill_at": None, "first_after": None, "errors": 0}

def writer(base):
    i = 0
    c = Conn(port).login()
    while not state["stop"]:
        i += 1
        try:
            sent = time.monotonic()
            c.query("insert into fo values (%d)" % (base + i))
            with lock:
                acked.append(base + i)
                # the first write sent after the master was gone, and acknowledged
                if state["kill_at"] and sent >= state["kill_at"] and state["first_after"] is None:
                    state["first_after"] = time.monotonic()
        except PgError:
            with lock:
                state["errors"] += 1
        except (Closed, OSError):
            c = Conn(port).login()
        time.sleep(0.005)

idle = Conn(port).login()
idle.query("set application_name = 'fo_idle'")
ws = [threading.Thread(target=writer, args=(k * 10**9,)) for k in (1, 2)]
for w in ws:
    w.start()
time.sleep(1.0)
subprocess.run(["bash", "-c", "source %s && cluster_kill_node %s n0" % (lib, cdir)], check=True)
state["kill_at"] = time.monotonic() # the master is gone: pg_ctl -m immediate has returned
# a client logging in during the failover waits for it instead of being refused
late = {}
def late_login():
    try:
        lc = Conn(port).login()
        late["port"] = int(lc.value("insert into fo values (7) returning current_setting('port')"))
    except Exception as e:
        late["error"] = repr(e)
lt = threading.Thread(target=late_login)
lt.start()
deadline = time.monotonic() + 30
while state["first_after"] is None and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(1.0)
state["stop"] = True
for w in ws:
    w.join()
lt.join(30)
check("port" in late and late["port"] != master,
      "a login during the failover waited and wrote on the new master: %r" % late)
check(state["first_after"] is not None, "no write succeeded within 30 s of the kill")
window = state["first_after"] - state["kill_at"]
newport = int(idle.value("insert into fo values (1) returning current_setting('port')"))
check(newport != master, "the idle client's write ran on a new master (port %d)" % newport)
check_eq(idle.value("/* pgrelay:primary */ select current_setting('application_name')"),
         "fo_idle", "the idle client kept its SET")
m = Conn(newport).login()
check_eq(m.value("select pg_is_in_recovery()"), "f", "the new master is out of recovery")
have = set(int(x) for x in (m.value("select string_agg(id::text, ',') from fo") or "").split(","))
lost = [a for a in acked if a not in have]
print("window_ms=%d acked=%d lost=%d errors=%d newport=%d" %
      (window * 1000, len(acked), len(lost), state["errors"], newport))
EOF
) || fail "the failover load failed: $out"
note "failover: $out"
line=$(tail -n 1 <<<"$out")
window=$(sed -e 's/.*window_ms=\([0-9]*\).*/\1/' <<<"$line")
newport=$(sed -e 's/.*newport=\([0-9]*\).*/\1/' <<<"$line")
[ "$window" -lt 10000 ] || fail "writes were unavailable for $window ms"
grep -q "event failover_switch" "$C/pgrelay.log" || fail "no failover_switch event"
if [ "${FO_SYNC:-0}" = 1 ]; then
	lost=$(sed -e 's/.*lost=\([0-9]*\).*/\1/' <<<"$line")
	assert_eq "$lost" "0" "synchronous replication: no acknowledged write lost"
	exit 0
fi

# the other replica follows the new master
other=n1
[ "$newport" = "$(cluster_port "$C" n1)" ] && other=n2
op=$(cluster_port "$C" "$other")
follows() {
	[ "$(psql -h 127.0.0.1 -p "$op" -U postgres -d postgres -X -q -At -c \
		"select sender_port from pg_stat_wal_receiver where status = 'streaming'" 2>/dev/null)" = "$newport" ]
}
wait_until 20 follows || fail "$other does not stream from the new master"
wait_until 10 grep -q "event follow_confirmed: node $other streams from the new master" "$C/pgrelay.log" ||
	fail "pgrelay did not confirm that $other follows the new master"
slot_active() {
	[ "$(psql -h 127.0.0.1 -p "$newport" -U postgres -d postgres -X -At -c \
		"select active from pg_replication_slots where slot_name = '${other}_slot'" 2>/dev/null)" = t ]
}
wait_until 10 slot_active || fail "$other does not stream through its slot ${other}_slot on the new master"
psql -h 127.0.0.1 -p "$newport" -U postgres -d postgres -X -q -c "insert into fo values (2)"
wait_until 20 test "$(psql -h 127.0.0.1 -p "$op" -U postgres -d postgres -X -q -At -c \
	"select count(*) from fo where id = 2" 2>/dev/null)" = 1 || fail "$other does not replay the new master"

newname=n1
[ "$newport" = "$(cluster_port "$C" n2)" ] && newname=n2
assert_contains "$(cat "$C/failover.state")" "master = $newname" "the state file names the new master"
assert_contains "$(cat "$C/failover.state")" "fenced = n0" "the state file fences the old master"

# the old master comes back as a master: fenced, made read only, and so after a restart too
cluster_start_node "$C" n0
wait_until 10 grep -q "event fenced: node n0" "$C/pgrelay.log" || fail "the old master was not made read only"
assert_eq "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c "show default_transaction_read_only")" \
	"on" "fence_old_master"
PROXY_STOP_TIMEOUT=10 proxy_stop "$C"
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not restart"
grep -q "state file .* $newname is the master after a failover" "$C/pgrelay.log" ||
	fail "the restarted pgrelay did not read the state file"
out=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At -c \
	"insert into fo values (3) returning current_setting('port')")
assert_eq "$out" "$newport" "after the restart writes go to the new master"
n=$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q -At -c \
	"select count(*) from pg_stat_activity where backend_type = 'client backend'
	 and application_name not in ('pgrelay monitor', 'psql') and pid <> pg_backend_pid()")
assert_eq "$n" "0" "the fenced old master has no pgrelay client connection"
assert_eq "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c "select count(*) from fo where id = 3")" \
	"0" "a write after the old master came back did not reach it"

# a second failover: the new master dies; the last replica is promoted (n0 stays fenced)
cluster_kill_node "$C" "$newname"
start=$SECONDS
wait_until 20 psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -c "insert into fo values (4)" \
	2>/dev/null || fail "no write succeeded after the second failover"
note "second failover: writes again after $((SECONDS - start)) s"
out=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At -c \
	"insert into fo values (5) returning current_setting('port')")
assert_eq "$out" "$op" "the last replica ($other) is the master now"
assert_contains "$(cat "$C/failover.state")" "master = $other" "the state file follows"
