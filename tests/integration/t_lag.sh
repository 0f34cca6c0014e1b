#!/usr/bin/env bash
# t_lag.sh - lag-checked replicas (issue 4), on a cluster of the test's own: with writes going
# on, a replica whose replay is paused stops serving reads within the poll intervals plus the
# hysteresis and serves again after pg_wal_replay_resume(); recovery_min_apply_delay makes a
# replica lag deterministically; a stopped replica loses its reads to the other one with no
# client error; with both stopped reads go to the master, or fail with 57P03
# (no_fresh_replica = error), or wait for a replica to come back (no_fresh_replica = wait).
# The per-node state, lag and measurement age are read from SIGUSR1's node-health lines.
source "$(dirname "$0")/lib.sh"

own_cluster lag
C=$OC_DIR
M=$(cluster_port "$C" n0)
R1=$(cluster_port "$C" n1)
R2=$(cluster_port "$C" n2)
INTERVAL=0.1
HYST=2
MAX_LAG=0.5
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = $INTERVAL" "monitor_hysteresis = $HYST" \
	"max_lag_time = $MAX_LAG" "max_lag_bytes = 0" "read_your_writes = off"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
LOG=$C/pgrelay.log

node_sql() { psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 -c "$2"; }
read_port() {
	psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 \
		-c "select current_setting('port')"
}
# reads_on N: N reads, each from a new session; prints the ports that answered, one a line
reads_on() {
	local i
	for ((i = 0; i < $1; i++)); do
		read_port || fail "a read through pgrelay failed"
	done
}
# event_seen TEXT: the log has an event line containing TEXT (after line $MARK)
MARK=0
mark() { MARK=$(wc -l <"$LOG"); }
event_seen() { tail -n +"$((MARK + 1))" "$LOG" | grep -F -q "event node_state: $1"; }
# wait_event TEXT SECONDS: prints how long it took (ms), fails after SECONDS
wait_event() {
	local start=$EPOCHREALTIME
	wait_until "$2" event_seen "$1" || fail "no event '$1' within $2 s"
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'
}

node_sql "$M" "create table lag_w (id bigserial primary key, at timestamptz default now())"

# A writer that keeps the replicas replaying: a commit every 10 ms for at most 60 s.
psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q -c \
	"do \$\$ begin for i in 1..6000 loop insert into lag_w default values; commit;
	 perform pg_sleep(0.01); end loop; end \$\$" >/dev/null 2>&1 &
bg_track $!

# ---- both replicas fresh: reads are spread over them -------------------------------------
out=$(reads_on 10 | sort -u | tr '\n' ' ')
assert_eq "$out" "$R1 $R2 " "reads on both replicas while both are fresh"

# ---- replay paused on n1: it leaves the rotation, and comes back after resume -------------
mark
node_sql "$R1" "select pg_wal_replay_pause()" >/dev/null
ms=$(wait_event "node n1 (replica) up -> lagging" 10)
# the limit, then at most two polls to see it and the hysteresis to believe it (+ slack)
bound=$(awk -v l=$MAX_LAG -v i=$INTERVAL -v h=$HYST 'BEGIN { printf "%d", (l + 2 * i + h * i) * 1000 + 400 }')
note "n1 paused: out of rotation after $ms ms (bound $bound ms)"
[ "$ms" -le "$bound" ] || fail "a paused replica left the rotation after $ms ms (bound $bound ms)"
out=$(reads_on 8 | sort -u | tr '\n' ' ')
assert_eq "$out" "$R2 " "no read reaches the paused replica"
mark
node_sql "$R1" "select pg_wal_replay_resume()" >/dev/null
ms=$(wait_event "node n1 (replica) lagging -> up" 10)
note "n1 resumed: back in rotation after $ms ms"
out=$(reads_on 8 | sort -u | tr '\n' ' ')
assert_contains "$out" "$R1" "the resumed replica serves reads again"

# ---- recovery_min_apply_delay on n2: it lags deterministically -----------------------------
mark
node_sql "$R2" "alter system set recovery_min_apply_delay = '3s'" >/dev/null
node_sql "$R2" "select pg_reload_conf()" >/dev/null
ms=$(wait_event "node n2 (replica) up -> lagging" 15)
note "n2 with recovery_min_apply_delay = 3s: lagging after $ms ms"
out=$(reads_on 6 | sort -u | tr '\n' ' ')
assert_eq "$out" "$R1 " "no read reaches the delayed replica"
kill -USR1 "$(proxy_pid "$C")"
wait_until 5 grep -q "node-health: node=n2 state=lagging" "$LOG" ||
	fail "SIGUSR1 does not show n2 lagging"
health=$(grep "node-health: node=n2 state=lagging" "$LOG" | tail -n 1)
lag_ms=$(sed -e 's/.*lag_ms=\([0-9]*\).*/\1/' <<<"$health")
[ "$lag_ms" -ge 500 ] || fail "n2's lag time is $lag_ms ms with a 3 s apply delay: $health"
assert_contains "$health" "checked_ms_ago=" "the health line says when n2 was measured"
mark
node_sql "$R2" "alter system reset recovery_min_apply_delay" >/dev/null
node_sql "$R2" "select pg_reload_conf()" >/dev/null
wait_event "node n2 (replica) lagging -> up" 15 >/dev/null

# ---- a stopped replica: its reads move to the other one, no client error -----------------
mark
cluster_kill_node "$C" n1
out=$(reads_on 8 | sort -u | tr '\n' ' ')
assert_eq "$out" "$R2 " "with n1 stopped every read is served by n2"
wait_event "node n1 (replica) up -> down" 5 >/dev/null

# ---- both stopped: the master serves reads (no_fresh_replica = master) ---------------------
cluster_kill_node "$C" n2
out=$(reads_on 4 | sort -u | tr '\n' ' ')
assert_eq "$out" "$M " "with both replicas stopped reads go to the master"

# ---- no_fresh_replica = error and wait ------------------------------------------------------
NF=$TMP/nofresh
NF_PORT=$(free_port_block 1) || fail "no free port"
mkdir -p "$NF"
sed -e "s/^listen_port = .*/listen_port = $NF_PORT/" -e '/^\[pgrelay\]$/a no_fresh_replica = error' \
	"$C/proxy.ini" >"$NF/proxy.ini"
_EXTRA_DIRS+=("$NF")
proxy_start "$NF" "$PGRELAY_BIN" || fail "pgrelay (no_fresh_replica = error) did not start"
XP_PORT=$NF_PORT
E=(psql -h 127.0.0.1 -p "$XP_PORT" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1)
err=$("${E[@]}" -v VERBOSITY=verbose -c "select 1" 2>&1) && fail "a read succeeded with no fresh replica"
assert_contains "$err" "57P03" "no_fresh_replica = error: SQLSTATE 57P03"
assert_contains "$err" "no replica is fresh enough" "no_fresh_replica = error: the message"
out=$("${E[@]}" -c "insert into lag_w default values returning current_setting('port')")
assert_eq "$out" "$M" "writes still work with no_fresh_replica = error"
out=$(psql -h 127.0.0.1 -p "$XP_PORT" -U postgres -d postgres -X -q -At -c "select 1" \
	-c "insert into lag_w default values returning current_setting('port')" 2>&1) || true
assert_contains "$out" "no replica is fresh enough" "the refused read, in a session"
assert_contains "$out" "$M" "the same session writes after the refused read"

PROXY_STOP_TIMEOUT=5 proxy_stop "$NF"
sed -i -e 's/^no_fresh_replica = error$/no_fresh_replica = wait\nno_fresh_replica_timeout = 20/' \
	"$NF/proxy.ini"
proxy_start "$NF" "$PGRELAY_BIN" || fail "pgrelay (no_fresh_replica = wait) did not start"
start=$SECONDS
"${E[@]}" -c "select current_setting('port')" >"$TMP/waited.out" 2>&1 &
waiter=$!
bg_track "$waiter"
sleep 1
kill -0 "$waiter" 2>/dev/null || fail "a read did not wait for a replica: $(cat "$TMP/waited.out")"
cluster_start_node "$C" n2
rc=0
wait_pid_exit "$waiter" 30 || rc=$?
[ "$rc" -ne 124 ] || fail "the waiting read never finished"
[ "$rc" -eq 0 ] || fail "the waiting read failed: $(cat "$TMP/waited.out")"
assert_eq "$(cat "$TMP/waited.out")" "$R2" "the waiting read ran on the replica that came back"
note "a read waited $((SECONDS - start)) s for n2 to come back"

mark # before the start: the monitor may see it up before the replicas are waited for
cluster_start_node "$C" n1
cluster_wait_replicas "$C" || fail "the replicas did not stream again"
wait_event "node n1 (replica) down -> up" 15 >/dev/null
out=$(reads_on 10 | sort -u | tr '\n' ' ')
assert_eq "$out" "$R1 $R2 " "both restarted replicas serve reads again"
