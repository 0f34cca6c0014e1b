#!/usr/bin/env bash
# t_routing.sh - read/write splitting with its observable effects (issue 3). Which node
# answered is told by current_setting('port'): a replica's port for a read, the master's for
# everything else. Covers: plain reads and writes, transactions (read-write on the master,
# READ ONLY and default_transaction_read_only on one replica, SERIALIZABLE on the master),
# SET/RESET following the session to the replica, temp tables / LISTEN / advisory locks
# pinning to the master, named and unnamed prepared statements replayed on the replica,
# routing hints, write functions (nextval, volatile user functions from pg_proc), the 25006
# safety net (a view hiding a write), and the routing counters (SIGUSR1).
source "$(dirname "$0")/lib.sh"

read -r R1 R2 <<<"$(replica_ports)"
is_replica() { [ "$1" = "$R1" ] || [ "$1" = "$R2" ]; }
expect_replica() { is_replica "$1" || fail "$2: answered by port '$1', not a replica ($R1 $R2)"; }
expect_master() { assert_eq "$1" "$MASTER_PORT" "$2: answered by the master"; }

# A pgrelay of its own with pg_proc lookups (monitor_user) and read routing on.
extra_proxy_start routing "monitor_user = postgres" "monitor_password = postgres" \
	"log_level = debug"
P=(psql -h 127.0.0.1 -p "$XP_PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1)
pv() { "${P[@]}" -At -c "$1"; }
port_q="select current_setting('port')"

mq -q <<'EOF'
set client_min_messages = warning;
drop schema if exists rt cascade;
create schema rt;
create table rt.t (id int primary key, v text);
insert into rt.t values (1, 'one'), (2, 'two');
create sequence rt.seq;
create table rt.log (id serial, what text);
create function rt.stable_f(int) returns int language sql stable as 'select $1 + 1';
create function rt.logit(text) returns int language plpgsql volatile as
  $$ begin insert into rt.log (what) values ($1); return 1; end $$;
create view rt.v_hidden_write as select rt.logit('view') as x;
EOF
cluster_wait_replay "$CLUSTER_DIR"
# The first read naming a relation waits for pg_class on the master (is it a sequence?): let
# pgrelay learn the names the checks below read, as an application's first requests would.
"${P[@]}" -c "set search_path = rt, public" -c "select 1 from t, rt.t x, rt.log limit 1" >/dev/null

# ---- plain reads and writes -------------------------------------------------------------
expect_replica "$(pv "$port_q")" "a plain SELECT"
expect_replica "$(pv "show port")" "SHOW"
out=$("${P[@]}" -At -c "insert into rt.t values (3, 'three') returning current_setting('port')")
expect_master "$out" "INSERT ... RETURNING"
expect_master "$(pv "select current_setting('port') from rt.t for update limit 1")" "SELECT FOR UPDATE"
expect_master "$(pv "with x as (delete from rt.t where id = 3 returning 1) select current_setting('port')")" \
	"a data-modifying CTE"
expect_master "$(pv "select nextval('rt.seq') > 0, current_setting('port')" | cut -d'|' -f2)" "nextval"
expect_master "$(pv "select count(*) >= 0, current_setting('port') from pg_stat_activity" | cut -d'|' -f2)" \
	"pg_stat_activity"
# a sequence relation: a replica shows its WAL-logged state, so it is read on the master
# (each twice: the first read of a relation waits for pg_class on the master)
pv "select log_cnt from rt.seq" >/dev/null
pv "select 1 from rt.t limit 1" >/dev/null
expect_replica "$(pv "select current_setting('port') from rt.t limit 1")" "a table, once pg_class told"
out=$("${P[@]}" -At -c "select nextval('rt.seq')" -c "select current_setting('port'), log_cnt > 0, is_called from rt.seq")
expect_master "$(tail -n 1 <<<"$out" | cut -d'|' -f1)" "SELECT FROM a sequence"
assert_eq "$(tail -n 1 <<<"$out" | cut -d'|' -f2-)" "t|t" "the master's view of the sequence"
# a session that read the master's statistics keeps its reads there
out=$("${P[@]}" -At -c "$port_q" -c "select count(*) >= 0 from pg_stat_user_tables" -c "$port_q")
expect_replica "$(sed -n 1p <<<"$out")" "a read before the statistics read"
expect_master "$(sed -n 3p <<<"$out")" "a read after the session read the master's statistics"

# ---- transactions ---------------------------------------------------------------------------
out=$("${P[@]}" -At -c "begin" -c "$port_q" -c "select 1" -c "commit")
expect_master "$(head -n 1 <<<"$out")" "a read inside BEGIN ... COMMIT"
out=$("${P[@]}" -At -c "begin read only" -c "$port_q" -c "$port_q" -c "commit")
p1=$(sed -n 1p <<<"$out")
p2=$(sed -n 2p <<<"$out")
expect_replica "$p1" "BEGIN READ ONLY"
assert_eq "$p2" "$p1" "a read-only transaction stays on one replica"
err=$("${P[@]}" -c "start transaction read only" -c "insert into rt.t values (9, 'x')" 2>&1) || true
assert_contains "$err" "read-only transaction" "a write inside READ ONLY fails as it would directly"
out=$("${P[@]}" -At -c "begin isolation level serializable read only" -c "$port_q" -c "commit")
expect_master "$out" "SERIALIZABLE READ ONLY"
# BEGIN answered by pgrelay; SET TRANSACTION READ ONLY then moves the transaction to a replica
out=$("${P[@]}" -At -c "begin" -c "set transaction read only" -c "$port_q" \
	-c "select current_setting('transaction_read_only')" -c "$port_q" -c "commit")
IFS=$'\n' read -r -d '' p1 ro p2 <<<"$out" || true
expect_replica "$p1" "BEGIN; SET TRANSACTION READ ONLY"
assert_eq "$ro|$p2" "on|$p1" "the deferred BEGIN's transaction is one read-only transaction"
out=$("${P[@]}" -At -c "start transaction isolation level repeatable read" \
	-c "set transaction read only" -c "$port_q" -c "show transaction_isolation" -c "rollback")
IFS=$'\n' read -r -d '' p1 iso <<<"$out" || true
expect_replica "$p1" "START TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION READ ONLY"
assert_eq "$iso" "repeatable read" "the deferred START TRANSACTION's isolation level is kept"
# psql shows the status the client was told: BEGIN answered locally still says "in a transaction"
out=$(printf 'begin;\n\\echo :SQLSTATE\nselect 1;\ncommit;\n' | "${P[@]}" -At 2>&1)
assert_contains "$out" "00000" "a deferred BEGIN succeeds for psql"
# a plain BEGIN followed by a read or a write: the master, as before
out=$("${P[@]}" -At -c "begin" -c "$port_q" -c "insert into rt.t values (10, 'ten')" -c "rollback")
expect_master "$out" "BEGIN; SELECT (deferred BEGIN sent to the master)"
# before its first query, a read-only transaction may still ask for READ WRITE: it moves to the master
out=$("${P[@]}" -At -c "begin" -c "set transaction read only" -c "set transaction read write" \
	-c "$port_q" -c "insert into rt.t values (11, 'eleven') returning id" -c "rollback")
IFS=$'\n' read -r -d '' p1 id <<<"$out" || true
expect_master "$p1" "BEGIN; SET TRANSACTION READ ONLY; SET TRANSACTION READ WRITE"
assert_eq "$id" "11" "the moved transaction writes"
out=$("${P[@]}" -At -c "begin read only" -c "set transaction isolation level serializable" \
	-c "$port_q" -c "show transaction_read_only" -c "commit")
IFS=$'\n' read -r -d '' p1 ro <<<"$out" || true
expect_master "$p1" "BEGIN READ ONLY; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"
assert_eq "$ro" "on" "the moved transaction is still read only"
# after its first query it cannot: the error is PostgreSQL's own
err=$("${P[@]}" -c "begin" -c "set transaction read only" -c "select 1" \
	-c "set transaction read write" 2>&1) || true
assert_contains "$err" "transaction read-write mode must be set before any query" \
	"READ WRITE after the first query fails as it does directly"
# psycopg2's read-only sessions
out=$($PY - "$XP_PORT" <<'PYEOF'
import sys, psycopg2
c = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="postgres",
                     password="postgres", dbname="postgres")
c.set_session(readonly=True)
cur = c.cursor()
cur.execute("select current_setting('port'), current_setting('transaction_read_only')")
print("%s|%s" % cur.fetchone())
c.rollback()
c.set_session(readonly=False)
cur.execute("select current_setting('port')")
print(cur.fetchone()[0])
c.commit()
PYEOF
)
IFS='|' read -r p1 ro <<<"$(head -n 1 <<<"$out")"
expect_replica "$p1" "psycopg2 readonly=True"
assert_eq "$ro" "on" "psycopg2 readonly session runs a read-only transaction"
expect_master "$(tail -n 1 <<<"$out")" "psycopg2 read-write transaction"
out=$("${P[@]}" -At -c "set default_transaction_read_only = on" -c "begin" -c "$port_q" -c "commit")
expect_replica "$out" "a transaction of a default_transaction_read_only session"

# ---- session state follows the client --------------------------------------------------
out=$("${P[@]}" -At -c "set search_path = rt, public" -c "set application_name = 'rt_app'" \
	-c "select current_setting('port'), current_setting('search_path'), current_setting('application_name'), (select v from t where id = 1)")
IFS='|' read -r p sp an v <<<"$out"
expect_replica "$p" "a read after SET"
assert_eq "$sp|$an|$v" "rt, public|rt_app|one" "SET values seen by the replica's read"
out=$("${P[@]}" -At -c "set timezone = 'Asia/Tokyo'" -c "reset timezone" -c "set datestyle = 'German'" \
	-c "select current_setting('port'), current_setting('TimeZone') = (select reset_val from pg_settings where name = 'TimeZone'), now()::date::text ~ '^[0-9]+\.[0-9]+\.'")
IFS='|' read -r p tzreset german <<<"$out"
expect_replica "$p" "a read after RESET"
assert_eq "$tzreset|$german" "t|t" "RESET timezone and SET DateStyle on the replica"
out=$("${P[@]}" -At -c "begin" -c "set statement_timeout = '7s'" -c "rollback" \
	-c "select current_setting('statement_timeout')")
assert_eq "$out" "0" "a SET rolled back with its transaction is not replayed"
out=$("${P[@]}" -At -c "begin" -c "set statement_timeout = '7s'" -c "commit" \
	-c "select current_setting('port'), current_setting('statement_timeout')")
expect_replica "${out%%|*}" "a read after a committed SET"
assert_eq "${out#*|}" "7s" "a SET committed in a transaction is replayed"

# ---- pins -------------------------------------------------------------------------------
out=$("${P[@]}" -At -c "create temp table tt (x int)" -c "insert into tt values (1)" \
	-c "select count(*), current_setting('port') from tt" -c "$port_q")
expect_master "$(sed -n 2p <<<"$out")" "a read after CREATE TEMP TABLE (pinned)"
assert_eq "$(sed -n 1p <<<"$out" | cut -d'|' -f1)" "1" "the session's temp table is found"
out=$("${P[@]}" -At -c "select pg_advisory_lock(42)" -c "$port_q" -c "select pg_advisory_unlock(42)")
expect_master "$(sed -n 2p <<<"$out")" "a read after a session advisory lock"
out=$("${P[@]}" -At -c "listen rt_chan" -c "$port_q")
expect_master "$out" "a read after LISTEN"

# ---- hints ------------------------------------------------------------------------------
expect_master "$(pv "/* pgrelay:primary */ $port_q")" "a pgrelay:primary hint"
out=$(pv "/* pgrelay:replica */ insert into rt.t values (4, 'four') returning current_setting('port')")
expect_master "$out" "a pgrelay:replica hint on a write is refused"

# ---- functions --------------------------------------------------------------------------
# The first call of a user function goes to the master while pg_proc is asked; later ones
# go by its volatility.
pv "select rt.stable_f(1)" >/dev/null
stable_on_replica() { is_replica "$(pv "select current_setting('port') from (select rt.stable_f(1)) s")"; }
wait_until 10 stable_on_replica || fail "a STABLE user function never went to a replica"
before=$(mval "select count(*) from rt.log")
for i in 1 2 3; do
	out=$(pv "select rt.logit('direct'), current_setting('port')")
	expect_master "${out#*|}" "a VOLATILE user function (call $i)"
done
assert_eq "$(mval "select count(*) from rt.log")" "$((before + 3))" "the volatile function wrote each time"

# ---- the 25006 safety net ----------------------------------------------------------------
# The view hides a write the text cannot show: the replica refuses it, pgrelay reruns it on
# the master, and the client sees only the master's answer.
"${P[@]}" -At -c "select x from rt.v_hidden_write" >/dev/null # pg_class learns the name
before=$(mval "select count(*) from rt.log where what = 'view'")
err=$("${P[@]}" -At -c "select x from rt.v_hidden_write" 2>&1) || fail "a hidden write failed: $err"
assert_eq "$err" "1" "the hidden write's result"
assert_eq "$(mval "select count(*) from rt.log where what = 'view'")" "$((before + 1))" \
	"the hidden write ran exactly once, on the master"

# ---- prepared statements (raw protocol) --------------------------------------------------
py "$XP_PORT" "$MASTER_PORT" "$R1" "$R2" <<'EOF'
import sys, struct
xp, master, r1, r2 = (int(a) for a in sys.argv[1:5])
c = Conn(xp)
c.login()
def parse(name, sql):
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack("!h", 0))
def bind(stmt, portal=""):
    return msg(b"B", cstr(portal) + cstr(stmt) + struct.pack("!hhh", 0, 0, 0))
def execute(portal=""):
    return msg(b"E", cstr(portal) + struct.pack("!i", 0))
SYNC = msg(b"S")
def rows(timeout=10):
    out = []
    while True:
        t, body = c.recv(timeout)
        if t == b"D":
            n = struct.unpack("!h", body[:2])[0]
            l = struct.unpack("!i", body[2:6])[0]
            out.append(body[6:6 + l].decode())
        elif t == b"E":
            raise Exception("error: %r" % parse_fields(body))
        elif t == b"Z":
            return out
# prepare a read (named) in one batch, run it in later ones: the replica gets the Parse
c.send(parse("s_port", "select current_setting('port')") + SYNC)
check_eq(rows(), [], "Parse alone")
ports = set()
for i in range(4):
    c.send(bind("s_port") + execute() + SYNC)
    ports.update(rows())
check(ports <= {str(r1), str(r2)}, "named statement runs on a replica: %r" % ports)
# SET then the same named statement: the replica gets the SET first
c.send(msg(b"Q", cstr("set application_name = 'rt_prep'")))
c.results()
c.send(parse("s_app", "select current_setting('application_name') || ':' || current_setting('port')") + SYNC)
rows()
c.send(bind("s_app") + execute() + SYNC)
out = rows()[0]
app, port = out.split(":")
check_eq(app, "rt_prep", "SET replayed before the prepared read")
check(int(port) in (r1, r2), "prepared read after SET on a replica: %s" % port)
# a prepared write runs on the master
c.send(parse("s_w", "insert into rt.log (what) values ('prep') returning current_setting('port')") + SYNC)
rows()
c.send(bind("s_w") + execute() + SYNC)
check_eq(rows(), [str(master)], "prepared write on the master")
# unnamed statement parsed in one batch, bound in the next
c.send(parse("", "select current_setting('port')") + SYNC)
rows()
c.send(bind("") + execute() + SYNC)
check(int(rows()[0]) in (r1, r2, master), "unnamed statement bound in a later batch")
# close a statement, reuse its name for another text
c.send(msg(b"C", b"S" + cstr("s_port")) + SYNC)
rows()
c.send(parse("s_port", "select 'replaced'") + SYNC)
rows()
c.send(bind("s_port") + execute() + SYNC)
check_eq(rows(), ["replaced"], "a closed name reused")
# pipelined batches to different servers answer in order: slow reads on a replica, then
# writes the master answers first; reads behind the writes wait for them (on the master)
batch = b""
sqls = ["select 'r0', pg_sleep(0.3)", "select 'r1'", "select 'r2', pg_sleep(0.1)",
        "insert into rt.log (what) values ('p3') returning 'w3'",
        "insert into rt.log (what) values ('p4') returning 'w4'",
        "select 'r5', count(*) from rt.log where what = 'p4'"]
for sql in sqls:
    batch += parse("", sql) + bind("") + execute() + SYNC
c.send(batch)
got = [rows()[0] for _ in sqls]
check_eq(got, ["r0", "r1", "r2", "w3", "w4", "r5"], "pipelined responses in order")
c.send(parse("", "select count(*) from rt.log where what = 'p4'") + bind("") + execute() + SYNC)
check_eq(rows(), ["1"], "the write pipelined before is visible")
c.close()
print("prepared statements: ok")
EOF

# ---- counters -----------------------------------------------------------------------------
kill -USR1 "$(proxy_pid "$XP_DIR")"
wait_until 5 grep -q "route-stats: node=n0 reason=write" "$XP_DIR/pgrelay.log" ||
	fail "no route-stats line for writes"
grep -q "route-stats: node=n[12] reason=read " "$XP_DIR/pgrelay.log" || fail "no route-stats line for reads"
grep -q "route-stats: node=n[12] misroutes=1" "$XP_DIR/pgrelay.log" || fail "the misroute was not counted"
grep -q "route-stats: node=n0 reason=misroute_rerun count=1" "$XP_DIR/pgrelay.log" ||
	fail "the rerun was not counted"
if grep -E "ERROR|25006" "$XP_DIR/pgrelay.log" | grep -v "misroute" | grep -q 25006; then
	fail "a 25006 reached a client"
fi
note "routing counters:"
grep "route-stats:" "$XP_DIR/pgrelay.log" | sed -e 's/.*route-stats: /#   /'

# ---- psycopg2 ------------------------------------------------------------------------------
$PY - "$XP_PORT" "$MASTER_PORT" "$R1" "$R2" <<'PYEOF'
import sys
import psycopg2
xp, master, r1, r2 = (int(a) for a in sys.argv[1:5])
def port(cur):
    cur.execute("select current_setting('port')::int")
    return cur.fetchone()[0]
c = psycopg2.connect(host="127.0.0.1", port=xp, user="postgres", password="postgres", dbname="postgres")
c.autocommit = True
cur = c.cursor()
assert port(cur) in (r1, r2), "psycopg2 autocommit read on a replica"
cur.execute("insert into rt.log (what) values (%s) returning current_setting('port')::int", ("psy",))
assert cur.fetchone()[0] == master, "psycopg2 autocommit write on the master"
c.autocommit = False
assert port(cur) == master, "psycopg2 default transaction (BEGIN) on the master"
c.commit()
c.set_session(readonly=True)
p = port(cur)
assert p in (r1, r2), "psycopg2 read-only session on a replica: %d" % p
c.commit()
c.close()
print("psycopg2: ok")
PYEOF

# ---- a SET inside a transaction with savepoints pins the session ------------------------
out=$("${P[@]}" -At -c "begin" -c "savepoint a" -c "set work_mem = '5MB'" -c "commit" \
	-c "select current_setting('port'), current_setting('work_mem')")
expect_master "${out%%|*}" "a read after a SET in a transaction with savepoints (pinned)"
assert_eq "${out#*|}" "5MB" "the SET survived"

# ---- replicas that refuse connections: reads go to the master, no error ----------------
dead=$TMP/dead
mkdir -p "$dead"
dead_port=$(free_port_block 1)
awk -v p="$dead_port" '$1 == "n0" { print; next } { print $1, p }' "$CLUSTER_DIR/ports" >"$dead/ports"
proxy_write_ini "$dead" "$(free_port_block 1)"
_EXTRA_DIRS+=("$dead")
proxy_start "$dead" "$PGRELAY_BIN" || fail "pgrelay with dead replicas did not start"
D=(psql -h 127.0.0.1 -p "$(proxy_port "$dead")" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1)
for i in 1 2 3; do
	out=$("${D[@]}" -At -c "$port_q") || fail "a read failed while no replica accepts connections"
	expect_master "$out" "a read with every replica refusing connections (try $i)"
done
grep -q "event node_state: node n1 (replica) unknown -> down: unreachable" "$dead/pgrelay.log" ||
	fail "the refusing replica was not reported"
extra_proxy_stop "$dead"

# ---- a replica terminated under an autocommit read: the read reruns on the master --------
tag="survivor_$$"
"${P[@]}" -At -c "select '$tag', pg_sleep(1.5), current_setting('port')" >"$TMP/survivor.out" 2>&1 &
reader=$!
bg_track "$reader"
found_on_replica() {
	local n pid
	for n in n1 n2; do
		pid=$(psql -h 127.0.0.1 -p "$(cluster_port "$CLUSTER_DIR" "$n")" -U postgres -d postgres \
			-X -At -c "select pid from pg_stat_activity where query like '%''$tag''%' and pid <> pg_backend_pid()")
		if [ -n "$pid" ]; then
			victim_node=$n victim_pid=$pid
			return 0
		fi
	done
	return 1
}
wait_until 10 found_on_replica || fail "the read never started on a replica"
psql -h 127.0.0.1 -p "$(cluster_port "$CLUSTER_DIR" "$victim_node")" -U postgres -d postgres -X -q \
	-At -c "select pg_terminate_backend($victim_pid)" >/dev/null
wait "$reader" || fail "the read failed when its replica went away: $(cat "$TMP/survivor.out")"
IFS='|' read -r t _ p <"$TMP/survivor.out"
assert_eq "$t" "$tag" "the rerun read's result"
expect_master "$p" "a read rerun after its replica was terminated"
