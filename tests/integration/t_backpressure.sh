#!/usr/bin/env bash
# t_backpressure.sh - a client that stops reading must make pgrelay stop reading from its
# server: a psql fetching a ~2 GB result is frozen (SIGSTOP); the backend must end up blocked
# writing (wait_event ClientWrite), pgrelay's memory must stay bounded, and once the client
# dies the backend's query must end (the server connection is closed, not reused dirty).
# The query carries a pgrelay:primary hint so that it runs where mval looks.
source "$(dirname "$0")/lib.sh"

relay=$(proxy_pid "$CLUSTER_DIR")
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
tag="bp_$$"
q_running="select count(*) from pg_stat_activity where query like '%select ''$tag''%' and state = 'active'"
running_is() { [ "$(mval "$q_running")" = "$1" ]; }
blocked_writing() {
	[ "$(mval "select wait_event from pg_stat_activity where query like '%select ''$tag''%'")" = ClientWrite ]
}

before=$(rss_kb "$relay")
"${PSQL_PROXY[@]}" -c "/* pgrelay:primary */ select '$tag', repeat('x', 1000) from generate_series(1, 2000000)" >/dev/null 2>&1 &
client=$!
bg_track "$client"
wait_until 20 running_is 1 || fail "the big query never started"
kill -STOP "$client"
wait_until 30 blocked_writing ||
	fail "the backend is not blocked in ClientWrite: pgrelay keeps reading from it"
# give a non-stopping pgrelay time to show it: it would buffer ~100 MB/s
sleep 1
after=$(rss_kb "$relay")
note "pgrelay RSS ${before} kB before, ${after} kB with a frozen client"
[ $((after - before)) -lt 65536 ] || fail "pgrelay buffered $((after - before)) kB for a client that does not read"
kill -KILL "$client"
kill -CONT "$client" 2>/dev/null || true
wait_until 20 running_is 0 || fail "the backend still runs the query after its client died"
assert_eq "$(pval "select 'still serving'")" "still serving" "pgrelay serves new clients"
