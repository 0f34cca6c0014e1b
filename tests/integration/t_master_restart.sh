#!/usr/bin/env bash
# t_master_restart.sh - the master dies (immediate stop: every backend killed) and comes back,
# on a cluster of the test's own. Idle sessions keep their client connection and their SETs:
# their next write runs on a new master connection. A session inside a transaction gets one
# 08006 "the transaction was lost" and goes on. Reads keep being served by the replicas while
# the master is down. (The groundwork of failover, issue 5: the same path serves a new master.)
source "$(dirname "$0")/lib.sh"
export ROOT

own_cluster mr
C=$OC_DIR
M=$(cluster_port "$C" n0)
proxy_write_ini "$C" "$OC_PORT" "monitor_interval = 0.1" "monitor_hysteresis = 2" "failover = off"
_EXTRA_DIRS+=("$C")
proxy_start "$C" "$PGRELAY_BIN" || fail "pgrelay did not start"
psql -h 127.0.0.1 -p "$M" -U postgres -d postgres -X -q -c "create table mr (id int, who text)"
cluster_wait_replay "$C" >/dev/null

ROOT=$ROOT py "$OC_PORT" "$M" "$C" <<'EOF'
import psycopg2, subprocess
port, master, cdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lib = os.environ.get("ROOT", "") + "/tests/lib/cluster.sh"

def sh(cmd):
    subprocess.run(["bash", "-c", "source %s && %s" % (lib, cmd)], check=True,
                   stdout=subprocess.DEVNULL)

idle = Conn(port).login()
idle.query("set application_name = 'mr_idle'")
idle.query("insert into mr values (1, 'before')")
txn = Conn(port).login()
txn.query("begin")
txn.query("insert into mr values (2, 'lost')")
pg = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password="postgres",
                      dbname="postgres")
pg.autocommit = True
pgc = pg.cursor()
pgc.execute("select 1")

reader = Conn(port).login()
reader.value("select 1")

sh("cluster_kill_node %s n0" % cdir)
# reads go on while the master is down
check(int(reader.value("select current_setting('port')")) != master,
      "a read while the master is down is served by a replica")
sh("cluster_start_node %s n0" % cdir)
time.sleep(1)

check_eq(idle.value("insert into mr values (3, current_setting('application_name')) "
                    "returning who"), "mr_idle",
         "the idle session writes after the restart, with its SET replayed")
try:
    txn.query("insert into mr values (4, 'in the lost transaction')")
    check(False, "the statement after the lost transaction succeeded")
except PgError as e:
    check_eq(e.sqlstate, "08006", "the lost transaction: SQLSTATE")
check_eq(txn.status, "I", "the lost transaction is over")
check_eq(txn.value("insert into mr values (5, 'next') returning id"), "5",
         "the session of the lost transaction writes again")
pgc.execute("insert into mr values (6, 'psycopg2') returning id")
check_eq(pgc.fetchone()[0], 6, "psycopg2's idle connection writes after the restart")
m = Conn(master).login()
check_eq(m.value("select string_agg(id::text, ',' order by id) from mr"), "1,3,5,6",
         "the rows on the master: the lost transaction's are not")
print("master restart: ok")
EOF
