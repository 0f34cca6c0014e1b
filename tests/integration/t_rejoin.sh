#!/usr/bin/env bash
# t_rejoin.sh - deploy/rejoin.sh after a failover, on a cluster of the test's own: the old
# master, killed and failed over, is rewound (pg_rewind) and restarted as a standby of the new
# master; it streams from it, its read-only fence is gone, and pgrelay keeps it fenced (it
# sends it nothing until an operator unfences it).
source "$(dirname "$0")/lib.sh"

own_cluster rj
C=$OC_DIR
M=$(cluster_port "$C" n0)
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "failover_after = 3" \
	"state_file = $C/pgrelay.state"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
P=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
"${P[@]}" -c "create table rj (id int)" -c "insert into rj values (1)"
cluster_wait_replay "$C" >/dev/null

cluster_kill_node "$C" n0
wait_until 20 "${P[@]}" -c "insert into rj values (2)" 2>/dev/null || fail "no failover"
newport=$("${P[@]}" -c "insert into rj values (3) returning current_setting('port')")
# the old master's timeline diverges: it has a commit the new master never saw
cluster_start_node "$C" n0
psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q -c "set default_transaction_read_only = off" \
	-c "insert into rj values (99)" >/dev/null 2>&1 || true

out=$(run_as_pg env PGPASSWORD=postgres "$ROOT/deploy/rejoin.sh" -D "$C/n0" -h 127.0.0.1 \
	-p "$newport" -U postgres -n n0 --start 2>&1) || fail "rejoin.sh failed: $out"
printf "%s\n" "$out" | sed -e "s/^/# rejoin: /"
streams() {
	[ "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c \
		"select sender_port from pg_stat_wal_receiver where status = 'streaming'" 2>/dev/null)" = "$newport" ]
}
wait_until 30 streams || fail "the rejoined old master does not stream from the new master"
assert_eq "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c "select pg_is_in_recovery()")" "t" \
	"the old master is a standby now"
assert_eq "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c "show default_transaction_read_only")" \
	"off" "the fence setting is gone"
"${P[@]}" -c "insert into rj values (4)"
wait_until 20 test "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c \
	"select string_agg(id::text, ',' order by id) from rj")" = "1,2,3,4" ||
	fail "the rejoined node does not have the new master's rows only"
kill -USR1 "$(proxy_pid "$C")"
wait_until 5 grep -q "node-health: node=n0" "$C/pgrelay.log" || fail "no node-health line"
n=$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c \
	"select count(*) from pg_stat_activity where backend_type = 'client backend'
	 and application_name not in ('pgrelay monitor', 'pgrelay failover') and pid <> pg_backend_pid()")
assert_eq "$n" "0" "pgrelay still sends the fenced node nothing"

# an operator unfences it through the console: it serves reads again, and the state file forgets it
A=(env PGPASSWORD=postgres psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -q -At)
assert_contains "$("${A[@]}" -c "show nodes" | grep "^n0|")" "|replica|fenced|" "SHOW NODES: n0 is fenced"
grep -q "^fenced = n0$" "$C/pgrelay.state" || fail "the state file does not fence n0"
# the monitor must have seen it streaming too (its next poll): UNFENCE refuses until then
wait_until 10 "${A[@]}" -c "unfence n0" 2>/dev/null || fail "UNFENCE n0 of a node that streams from the master"
grep -q "^fenced = n0$" "$C/pgrelay.state" && fail "the state file still fences n0"
grep -q "^master = " "$C/pgrelay.state" || fail "the state file lost its master"
n0_up() { "${A[@]}" -c "show nodes" | grep -q "^n0|127.0.0.1|$M|replica|up|"; }
wait_until 10 n0_up || fail "n0 is not up after UNFENCE: $("${A[@]}" -c 'show nodes')"
wait_until 10 read_reaches "$OC_PORT" "$M" || fail "the unfenced n0 serves no reads"
out=$("${A[@]}" -c "unfence n0" 2>&1) && fail "UNFENCE of a node that is not fenced succeeded"
assert_contains "$out" "is not fenced" "UNFENCE of an unfenced node is refused"
