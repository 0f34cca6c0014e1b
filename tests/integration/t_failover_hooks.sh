#!/usr/bin/env bash
# t_failover_hooks.sh - promote_command and follow_command instead of pg_promote() and
# ALTER SYSTEM: the master is stopped; pgrelay runs promote_command for the chosen replica
# (here pg_ctl promote on its data directory), confirms the promotion by observation as
# always, and runs follow_command for the other replica with both nodes' placeholders.
source "$(dirname "$0")/lib.sh"

own_cluster fh
C=$OC_DIR
runas=""
[ "$(id -u)" -eq 0 ] && runas="runuser -u postgres --"
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "failover_after = 3" \
	"promote_command = cd / && $runas $PGBIN/pg_ctl promote -D $C/%n" \
	"follow_command = echo '%n follows %N at %H:%P' >> $C/follow.log"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
P=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
"${P[@]}" -c "create table fh (id int)"
cluster_wait_replay "$C" >/dev/null

cluster_kill_node "$C" n0
wait_until 30 "${P[@]}" -c "insert into fh values (1)" 2>/dev/null || fail "no failover"
newport=$("${P[@]}" -c "insert into fh values (2) returning current_setting('port')")
new=n1
other=n2
if [ "$newport" = "$(cluster_port "$C" n2)" ]; then
	new=n2
	other=n1
fi
grep -q "running promote_command for node $new" "$C/pgrelay.log" || fail "promote_command was not run"
wait_until 10 test -s "$C/follow.log" || fail "follow_command was not run"
assert_eq "$(cat "$C/follow.log")" "$other follows $new at 127.0.0.1:$newport" "follow_command's placeholders"
