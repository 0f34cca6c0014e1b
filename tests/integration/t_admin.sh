#!/usr/bin/env bash
# t_admin.sh - the admin console through psql, on a cluster of the test's own: who may open it
# (admin users, stats users, anyone else refused with 28000), every SHOW command with the
# columns and values that matter (lag of a paused replica, the pinned reason of a client holding
# a temp table), EXPLAIN ROUTE, errors with hints that keep the session, PAUSE holding a new
# transaction until RESUME while a running one finishes, DETACH / ATTACH of a replica under a
# read load with no client error, and KILL.
source "$(dirname "$0")/lib.sh"

own_cluster adm
C=$OC_DIR
R1=$(cluster_port "$C" n1)
R2=$(cluster_port "$C" n2)
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.2" "max_lag_time = 0" "max_lag_bytes = 1kB"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
P=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -q -At)
export PGPASSWORD=postgres
A=(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -q -At)
"${P[@]}" -c "create table adm (id int)" -c "insert into adm select generate_series(1, 10)"
# node_col NODE N: field N of NODE's SHOW NODES row.  node_state_is NODE STATE
node_col() { "${A[@]}" -c "show nodes" | grep "^$1|" | cut -d'|' -f"$2"; }
node_state_is() { [ "$(node_col "$1" 5)" = "$2" ]; }
roles() { "${A[@]}" -F' ' -c "show nodes" | awk '{print $1, $4, $5}' | tr '\n' ';'; }
roles_are() { [ "$(roles)" = "$1" ]; }
cluster_wait_replay "$C" >/dev/null

# ---- who may use it -------------------------------------------------------------------------
out=$(py "$OC_PORT" <<'PYEOF'
e = login_error(int(sys.argv[1]), user="pgrelay_plain", database="pgrelay", password="plain")
print(e.sqlstate, e.message)
PYEOF
)
assert_contains "$out" "28000 user \"pgrelay_plain\" may not use the admin console" \
	"a user in neither admin_users nor stats_users is refused with 28000"
out=$(PGPASSWORD=wrong psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -At -c "show nodes" 2>&1) &&
	fail "a wrong password opened the console"
assert_contains "$out" "password authentication failed" "console users authenticate like anyone"
S=(env PGPASSWORD=stats psql -h 127.0.0.1 -p "$OC_PORT" -U pgrelay_stats -d pgrelay -X -q -At)
assert_eq "$("${S[@]}" -c "show version")" "pgrelay 0.2.0" "a stats user may SHOW"
out=$("${S[@]}" -c "pause" 2>&1) && fail "a stats user ran PAUSE"
assert_contains "$out" "needs an admin user" "stats users may not run commands"

# ---- SHOW NODES, and psql's output modes -------------------------------------------------
wait_until 10 roles_are "n0 master up;n1 replica up;n2 replica up;" ||
	fail "SHOW NODES: $("${A[@]}" -c 'show nodes')"
hdr=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -A -c "show nodes" | head -n 1)
assert_eq "$hdr" "name|host|port|role|state|why|lag_bytes|lag_ms|replay_lsn|timeline|checked_ms_ago|sv_active|sv_idle|reads|writes|errors" \
	"SHOW NODES columns"
x=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -x -c "show nodes" | grep -c "^name ")
assert_eq "$x" "3" "\\x (expanded) output works"
# table output aligns numbers right: psql saw int8 columns
psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -c "show stats" >/dev/null || fail "aligned output"

# a paused replica shows its lag
psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -q -c "select pg_wal_replay_pause()" >/dev/null
"${P[@]}" -c "insert into adm select generate_series(1, 2000)"
lagging() { node_state_is n1 lagging && [ "$(node_col n1 7)" -gt 1024 ]; }
wait_until 10 lagging || fail "a paused replica is not shown lagging: $("${A[@]}" -c 'show nodes')"
psql -h 127.0.0.1 -p "$R1" -U postgres -d postgres -X -q -c "select pg_wal_replay_resume()" >/dev/null
wait_until 10 node_state_is n1 up || fail "n1 did not come back up after resuming replay"

# ---- SHOW CLIENTS: the pinned reason of a client holding a temp table ---------------------
"${P[@]}" -c "create temp table tt (x int)" -c "select pg_sleep(30)" >/dev/null 2>&1 &
bg_track $!
pinned=$!
has_pinned() { "${A[@]}" -c "show clients" | grep -q "|temp|"; }
wait_until 10 has_pinned ||
	fail "SHOW CLIENTS does not show the temp-table pin: $("${A[@]}" -c 'show clients')"
row=$("${A[@]}" -c "show clients" | grep "|temp|")
assert_eq "$(echo "$row" | cut -d'|' -f3,4,5,7)" "postgres|postgres|active|n0" \
	"the pinned client's user, database, state and master node"
hdr=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -A -c "show clients" | head -n 1)
assert_eq "$hdr" "id|addr|user|database|state|txn_node|master_node|replica_node|pinned|ryw_lsn|units|connected_s" \
	"SHOW CLIENTS columns"
own=$("${A[@]}" -c "show clients" | grep "|console|" | wc -l)
assert_eq "$own" "1" "the console session lists itself as console"

# KILL it
id=$(echo "$row" | cut -d'|' -f1)
"${A[@]}" -c "kill $id" >/dev/null || fail "KILL $id"
rc=0
wait_pid_exit "$pinned" 10 || rc=$?
[ "$rc" -ne 124 ] || fail "the killed client is still connected"
out=$("${A[@]}" -c "kill 999999" 2>&1) && fail "KILL of an unknown id succeeded"
assert_contains "$out" "no client with id 999999" "KILL of an unknown id"

# ---- the rest of SHOW -----------------------------------------------------------------------
assert_contains "$("${A[@]}" -c "show pools")" "n0|postgres|postgres|" "SHOW POOLS lists the master's pool"
"${P[@]}" -c "select pg_sleep(2)" >/dev/null &
bg_track $!
sleeper=$!
has_active_server() { "${A[@]}" -c "show servers" | grep -q "^n[0-2]|postgres|postgres|active|[0-9]*|[0-9]*|"; }
wait_until 5 has_active_server || fail "SHOW SERVERS: no active server with its client: $("${A[@]}" -c 'show servers')"
wait_pid_exit "$sleeper" 10 || fail "the sleeping client failed"
tot=$("${A[@]}" -c "show stats" | grep "^total|")
[ "$(echo "$tot" | cut -d'|' -f2)" -gt 0 ] || fail "SHOW STATS total has no statements: $tot"
[ "$(echo "$tot" | cut -d'|' -f4)" -gt 0 ] || fail "SHOW STATS total has no writes: $tot"
cfg=$("${A[@]}" -c "show config")
assert_contains "$cfg" "listen_port|$OC_PORT|6432|restart" "SHOW CONFIG: value, default, restart-only"
assert_contains "$cfg" "monitor_password|********||yes" "SHOW CONFIG hides passwords"
assert_contains "$cfg" "max_lag_bytes|1024|16MB|yes" "SHOW CONFIG: a reloadable key"
ev=$("${A[@]}" -c "show events")
assert_contains "$ev" "|node_state|" "SHOW EVENTS has the node state changes"
assert_contains "$ev" "n1 (replica) up -> lagging" "SHOW EVENTS has the paused replica's lag"
assert_contains "$("${A[@]}" -c "show help")" "PROMOTE|" "SHOW HELP lists PROMOTE"
assert_contains "$("${A[@]}" -c "show state")" "n0|on|healthy|0|0|no|" "SHOW STATE"

# ---- EXPLAIN ROUTE ---------------------------------------------------------------------------
ex=$("${A[@]}" -c "explain route insert into adm values (1)" | tr '\n' ';')
assert_contains "$ex" "statement_class|write;" "EXPLAIN ROUTE of a write: its class"
assert_contains "$ex" "route|master;route_reason|write;" "EXPLAIN ROUTE of a write goes to the master"
# the first time, pg_class has not told yet whether adm is a sequence: unknown_relation
explain_read() { "${A[@]}" -c "explain route select * from adm where id = 1;" | tr '\n' ';' |
	grep -q "route|replica;route_reason|read;"; }
wait_until 5 explain_read || fail "EXPLAIN ROUTE of a read does not go to a replica: $("${A[@]}" -c "explain route select * from adm")"
ex=$("${A[@]}" -c "explain route select nextval('s'); select 1" | tr '\n' ';')
assert_contains "$ex" "route|master;" "EXPLAIN ROUTE takes the whole text: nextval() is a write"
assert_contains "$ex" "statements|2;" "and counts its statements"

# ---- errors keep the session -----------------------------------------------------------------
out=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d pgrelay -X -At -v VERBOSITY=verbose \
	-c "frobnicate" -c "show nodes extra" -c "detach nosuch" -c "show version" 2>&1)
assert_contains "$out" "42601" "an unknown command is a syntax error"
assert_contains "$out" "HINT:  SHOW HELP lists the commands" "with a hint"
assert_contains "$out" "SHOW NODES takes no arguments" "bad arguments are refused"
assert_contains "$out" 'no node named "nosuch"' "an unknown node is named"
assert_contains "$out" "pgrelay 0.2.0" "the session went on after the errors"
out=$("${A[@]}" -c "detach n0" 2>&1) && fail "DETACH of the master succeeded"
assert_contains "$out" "is the master" "DETACH refuses the master"

# ---- DETACH / ATTACH under a read load --------------------------------------------------------
"$PY" - "$OC_PORT" "$TMP/reads.out" <<'PYEOF' &
import psycopg2, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
conns = [psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password="postgres",
                          dbname="postgres") for _ in range(4)]
for c in conns:
    c.autocommit = True
errors = reads = 0
end = time.monotonic() + 6
while time.monotonic() < end:
    for c in conns:
        try:
            with c.cursor() as cur:
                cur.execute("select count(*) from adm")
                cur.fetchone()
            reads += 1
        except Exception as e:
            errors += 1
            print("error: %s" % e, file=sys.stderr)
open(out, "w").write("%d %d\n" % (reads, errors))
PYEOF
loadpid=$!
bg_track "$loadpid"
sleep 1.5
"${A[@]}" -c "detach n2" >/dev/null || fail "DETACH n2"
assert_eq "$(node_col n2 5)" "detached" "n2 shows detached"
sleep 1 # sessions leave n2 at their next statement
before=$(node_col n2 14)
sleep 1.5
after=$(node_col n2 14)
assert_eq "$after" "$before" "a detached replica gets no reads"
n2conns=$(psql -h 127.0.0.1 -p "$R2" -U postgres -d postgres -X -At -c \
	"select count(*) from pg_stat_activity where backend_type = 'client backend' and
	 application_name not like 'pgrelay %' and pid <> pg_backend_pid()")
assert_eq "$n2conns" "0" "pgrelay closed its connections to the detached replica"
"${A[@]}" -c "attach n2" >/dev/null || fail "ATTACH n2"
wait_pid_exit "$loadpid" 20 || fail "the read load did not finish"
read -r reads errors <"$TMP/reads.out"
assert_eq "$errors" "0" "no client error while a replica was detached and attached ($reads reads)"
wait_until 10 node_state_is n2 up || fail "n2 is not up after ATTACH"

# ---- PAUSE / RESUME ---------------------------------------------------------------------------
# a transaction running when PAUSE comes finishes; PAUSE returns once it has
"${P[@]}" -c "begin" -c "insert into adm values (-1)" -c "select pg_sleep(1.5)" -c "commit" >/dev/null &
bg_track $!
txn=$!
sleep 0.5
t0=$(date +%s%N)
"${A[@]}" -c "pause" >/dev/null || fail "PAUSE"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -ge 500 ] || fail "PAUSE returned before the running transaction ended"
wait_pid_exit "$txn" 5 || fail "the running transaction did not finish during PAUSE"
assert_contains "$("${A[@]}" -c "show state")" "|yes|" "SHOW STATE says paused"
# a new transaction is held
("${P[@]}" -c "insert into adm values (-2)" && date +%s%N >"$TMP/held.done") &
bg_track $!
held=$!
sleep 1
[ -f "$TMP/held.done" ] && fail "a new transaction ran while paused"
assert_contains "$("${A[@]}" -c "show clients")" "|paused|" "SHOW CLIENTS shows the held client"
t2=$(date +%s%N)
"${A[@]}" -c "resume" >/dev/null || fail "RESUME"
wait_pid_exit "$held" 10 || fail "the held transaction did not go on after RESUME"
[ "$(cat "$TMP/held.done")" -ge "$t2" ] || fail "the held transaction finished before RESUME"
assert_eq "$("${P[@]}" -c "select count(*) from adm where id < 0")" "2" "both transactions committed"
out=$("${A[@]}" -c "resume" 2>&1) && fail "RESUME while not paused succeeded"
assert_contains "$out" "not paused" "RESUME when not paused is an error"
note "console commands checked"

# a held statement does not wait forever: 57P03 after query_wait_timeout (set with SET)
"${A[@]}" -c "set query_wait_timeout = 1" >/dev/null || fail "SET query_wait_timeout"
"${A[@]}" -c "pause" >/dev/null || fail "PAUSE (2)"
t0=$(date +%s%N)
out=$(psql -h 127.0.0.1 -p "$OC_PORT" -U postgres -d postgres -X -At -v VERBOSITY=verbose \
	-c "insert into adm values (-3)" 2>&1) && fail "a statement ran while paused"
t1=$(date +%s%N)
assert_contains "$out" "57P03" "a statement held by PAUSE fails with 57P03 after query_wait_timeout"
assert_contains "$out" "pgrelay is paused" "and says why"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] || fail "the held statement failed after $ms ms, not about 1 s"
"${A[@]}" -c "resume" >/dev/null || fail "RESUME (2)"
assert_eq "$("${P[@]}" -c "select count(*) from adm where id = -3")" "0" "the refused statement did not run"

# ---- the wire, raw: the extended protocol refused, garbage answered, the session kept ----------
out=$(py "$OC_PORT" <<'PYEOF'
import random
port = int(sys.argv[1])
c = Conn(port).login(database="pgrelay")
check_eq(c.value("show version"), "pgrelay 0.2.0", "a raw-protocol console session")
# the extended protocol: one 0A000 for the batch, then ReadyForQuery at its Sync
c.send(msg(b"P", cstr("") + cstr("show nodes") + b"\0\0") + msg(b"B", cstr("") + cstr("") + b"\0\0\0\0\0\0")
       + msg(b"E", cstr("") + b"\0\0\0\0") + msg(b"S"))
errs, t = [], None
while t != b"Z":
    t, body = c.recv()
    if t == b"E":
        errs.append(parse_fields(body)["C"])
check_eq(errs, ["0A000"], "the extended protocol is refused once per batch")
# statements run in order and stop at the first error, as a server does
try:
    c.query("show version; frobnicate; show nodes")
    check(False, "the error in the middle was not reported")
except PgError as e:
    check_eq(e.sqlstate, "42601", "the failing statement's error")
r = c.query("show version;; ;show state")
check_eq([tag for tag, _ in r], ["SHOW", "SHOW"], "empty statements between semicolons are skipped")
check_eq(c.query("")[0][0], "", "an empty query gets EmptyQueryResponse")
# garbage of every kind: an error each time, never a dropped session
random.seed(7)
words = ["show", "SHOW", "nodes", "explain", "route", "pause", "kill", "'", '"', ";", "=", "set",
         "promote", "detach", "attach", "unfence", "x" * 300, "\u00e9", "--", "/*", "1e9", "-1"]
for i in range(300):
    q = " ".join(random.choice(words) for _ in range(random.randint(1, 6)))
    if any(w in q.lower().split() for w in ("pause", "promote", "detach", "kill", "unfence", "attach", "set")):
        continue  # commands with side effects are checked above
    try:
        c.query(q)
    except PgError:
        pass
check_eq(c.value("show version"), "pgrelay 0.2.0", "the session survived 300 garbage queries")
# an unknown message type: an error and ReadyForQuery, the session goes on
c.send(msg(b"y", b"junk"))
t, body = c.recv()
check(t == b"E", "an unknown message type gets an ErrorResponse")
check_eq(c.recv()[0], b"Z", "then ReadyForQuery")
check_eq(c.value("show version"), "pgrelay 0.2.0", "and the session goes on")
c.close()
print("raw ok")
PYEOF
)
assert_contains "$out" "raw ok" "the console on the raw protocol"

# ---- SHUTDOWN: answered, then pgrelay drains and exits ---------------------------------------
ppid=$(proxy_pid "$C")
out=$("${A[@]}" -c "shutdown" 2>&1) || fail "SHUTDOWN failed: $out"
stopped() { ! pid_alive "$ppid"; }
wait_until 10 stopped || fail "pgrelay still runs 10 s after SHUTDOWN"
grep -q "SHUTDOWN by C-" "$C/pgrelay.log" || fail "SHUTDOWN is not logged"
