#!/usr/bin/env bash
# t_switchover.sh - a planned switchover (admin console PROMOTE n1) on a cluster of the test's
# own, with asynchronous replication, under four writers and a reader: no acknowledged write is
# lost, no client gets an error, writes pause for a bounded time, the old master ends fenced
# (read only, and pgrelay sends it nothing), n2 follows n1, and the state file records it.
# Then the refusals: PROMOTE of the master, of a fenced node, of an unknown node.
source "$(dirname "$0")/lib.sh"

own_cluster so
C=$OC_DIR
M=$(cluster_port "$C" n0)
R1=$(cluster_port "$C" n1)
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "failover_timeout = 10" \
	"state_file = $C/pgrelay.state"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
export PGPASSWORD=postgres
P=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
A=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -q -At)
"${P[@]}" -c "create table so (writer int, n int, primary key (writer, n))"
cluster_wait_replay "$C" >/dev/null

"$PY" - "$OC_PORT" "$TMP" <<'PYEOF' &
import psycopg2, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
stop = time.monotonic() + 7
res = {}

def writer(w):
    c = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password="postgres",
                         dbname="postgres")
    c.autocommit = True
    acked, errors, worst, n = [], [], 0.0, 0
    while time.monotonic() < stop:
        n += 1
        t = time.monotonic()
        try:
            with c.cursor() as cur:
                if n % 5 == 0:  # some in explicit transactions
                    cur.execute("begin")
                    cur.execute("insert into so values (%s, %s)", (w, n))
                    cur.execute("commit")
                else:
                    cur.execute("insert into so values (%s, %s)", (w, n))
            acked.append(n)
        except Exception as e:
            errors.append(str(e).strip())
        worst = max(worst, time.monotonic() - t)
    res[w] = (acked, errors, worst)

def reader():
    c = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password="postgres",
                         dbname="postgres")
    c.autocommit = True
    errors = reads = 0
    while time.monotonic() < stop:
        try:
            with c.cursor() as cur:
                cur.execute("select count(*) from so")
                cur.fetchone()
            reads += 1
        except Exception as e:
            errors += 1
            print("read error: %s" % e, file=sys.stderr)
    res["r"] = (reads, errors)

ts = [threading.Thread(target=writer, args=(w,)) for w in range(4)] + [threading.Thread(target=reader)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out + "/acked.txt", "w") as f:
    for w in range(4):
        for n in res[w][0]:
            f.write("%d %d\n" % (w, n))
errs = [e for w in range(4) for e in res[w][1]]
with open(out + "/summary.txt", "w") as f:
    f.write("%d %d %.3f %d %d\n" % (sum(len(res[w][0]) for w in range(4)), len(errs),
                                  max(res[w][2] for w in range(4)), res["r"][0], res["r"][1]))
for e in errs[:5]:
    print("write error: %s" % e, file=sys.stderr)
PYEOF
load=$!
bg_track "$load"
sleep 2
t0=$(date +%s%N)
out=$("${A[@]}" -c "promote n1" 2>&1) || fail "PROMOTE n1 failed: $out"
t1=$(date +%s%N)
note "PROMOTE n1 took $(((t1 - t0) / 1000000)) ms: $out"
assert_contains "$out" "n1 is the master" "PROMOTE reports the outcome"
wait_pid_exit "$load" 30 || fail "the load failed"
read -r acked errors worst reads rerrors <"$TMP/summary.txt"
note "switchover under load: $acked writes acknowledged, $errors write errors, longest write ${worst}s, $reads reads, $rerrors read errors"
assert_eq "$errors" "0" "no writer saw an error"
assert_eq "$rerrors" "0" "no reader saw an error"

# every acknowledged write is on the new master
assert_eq "$(psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -At -c "select pg_is_in_recovery()")" "f" \
	"n1 was promoted"
psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -At -c "select writer, n from so" |
	tr '|' ' ' | sort >"$TMP/present.txt"
sort "$TMP/acked.txt" >"$TMP/acked.sorted"
lost=$(comm -23 "$TMP/acked.sorted" "$TMP/present.txt" | wc -l)
assert_eq "$lost" "0" "acknowledged writes lost by the switchover (of $acked)"
assert_eq "$("${P[@]}" -c "insert into so values (9, 1) returning current_setting('port')")" "$R1" \
	"writes go to n1"

# the old master: fenced, read only, and sent nothing
a=$("${A[@]}" -c "show nodes")
assert_contains "$a" "n0|127.0.0.1|$M|replica|fenced|" "SHOW NODES: n0 is fenced"
assert_contains "$a" "n1|127.0.0.1|$R1|master|" "SHOW NODES: n1 is the master"
assert_eq "$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c "show default_transaction_read_only")" \
	"on" "the old master refuses writes"
n=$(psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -At -c \
	"select count(*) from pg_stat_activity where backend_type = 'client backend'
	 and application_name not like 'pgrelay %' and pid <> pg_backend_pid()")
assert_eq "$n" "0" "pgrelay keeps no connection to the old master"
grep -q '^master = n1$' "$C/pgrelay.state" || fail "the state file does not name n1"
ev=$("${A[@]}" -c "show events")
for tag in switchover_started switchover_drained switchover_fenced switchover_caught_up \
	promoted switchover_done; do
	assert_contains "$ev" "|$tag|" "SHOW EVENTS has $tag"
done
wait_until 20 grep -q "follow_confirmed.*n2 streams from the new master n1" "$C/pgrelay.log" ||
	fail "n2 does not follow n1"
assert_contains "$("${A[@]}" -c "show state")" "n1|on|healthy|0|1|" "SHOW STATE counts one switchover"

# refusals, each with a reason
for args in "n1:already the master" "n0:does not answer" "n9:no node named"; do
	out=$("${A[@]}" -c "promote ${args%%:*}" 2>&1) && fail "PROMOTE ${args%%:*} succeeded"
	assert_contains "$out" "${args#*:}" "PROMOTE ${args%%:*} is refused"
done
out=$("${A[@]}" -c "unfence n0" 2>&1) && fail "UNFENCE of a node that is not a replica succeeded"
assert_contains "$out" "rejoin it first" "UNFENCE asks for a rejoin first"

# ---- a second switchover (to n2, which follows n1) under pgbench -M prepared, tpcb-like ----
R2=$(cluster_port "$C" n2)
"${P[@]}" -c "create database sobench"
pgbench -h 127.0.0.1 -p "$OC_PORT" -U postgres -i -s 1 -q sobench >"$TMP/pgbench-init.log" 2>&1 ||
	fail "pgbench -i: $(tail -3 "$TMP/pgbench-init.log")"
caught_up_n2() {
	[ "$(psql -h 127.0.0.1 -p "$R2" -U postgres -d sobench -X -At -c \
		"select count(*) from pgbench_branches" 2>/dev/null)" = 1 ]
}
wait_until 10 caught_up_n2 || fail "n2 does not replay the new master's writes"
pgbench -h 127.0.0.1 -p "$OC_PORT" -U postgres -M prepared -c 4 -j 2 -T 6 sobench \
	>"$TMP/pgbench.log" 2>&1 &
bg_track $!
pgb=$!
sleep 2
out=$("${A[@]}" -c "promote n2" 2>&1) || fail "PROMOTE n2 under pgbench failed: $out"
wait_pid_exit "$pgb" 30 || fail "pgbench failed across the switchover: $(tail -5 "$TMP/pgbench.log")"
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$TMP/pgbench.log")
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$TMP/pgbench.log")
note "pgbench -M prepared across PROMOTE n2: $tps tps, $failed failed transactions"
assert_eq "$failed" "0" "no pgbench transaction failed across the switchover"
assert_eq "$("${P[@]}" -c "select current_setting('port')" -c "insert into so values (9, 2)" \
	-c "select current_setting('port') where pg_is_in_recovery() is false" | tail -n 1)" "$R2" \
	"n2 is the master"
assert_contains "$("${A[@]}" -c "show state")" "n2|on|healthy|0|2|" "two switchovers counted"
