#!/usr/bin/env bash
# t_ryw.sh - read-your-writes (issue 4) under load, with asynchronous replicas: 8 psycopg2
# clients (plus one speaking the extended protocol byte by byte, and one committing
# transactions) each insert a unique row and read it back at once in autocommit, and
# update a counter and read it back, for RYW_SECONDS (default 20) while a writer on the
# master keeps the replicas replaying. Zero stale reads of a client's own writes are
# required, and the replicas must serve at least half of the reads. Then the global mode:
# a read never sees a state older than a write another client committed before it.
source "$(dirname "$0")/lib.sh"

SECS=${RYW_SECONDS:-20}
mq -q <<'EOF'
set client_min_messages = warning;
drop table if exists ryw_t, ryw_c, ryw_bg;
create table ryw_t (id bigserial primary key, client int, seq int);
create table ryw_c (client int primary key, n int);
insert into ryw_c select g, 0 from generate_series(0, 15) g;
create table ryw_bg (id bigserial primary key, pad text);
EOF
wait_replay

# the background writer: a commit every 2 ms on the master, directly
psql -h 127.0.0.1 -p "$MASTER_PORT" -U postgres -d postgres -X -q -c \
	"do \$\$ begin for i in 1..60000 loop insert into ryw_bg (pad) values (repeat('x', 200));
	 commit; perform pg_sleep(0.002); end loop; end \$\$" >/dev/null 2>&1 &
bg_track $!

STRESS=$(cat <<'PYEOF'
import threading, psycopg2
secs, master, PROXY_PORT = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
stats = {"reads": 0, "replica": 0, "stale": 0, "errors": []}

def note(port, stale):
    with lock:
        stats["reads"] += 1
        stats["replica"] += port != master
        stats["stale"] += stale

def dsn():
    return "host=127.0.0.1 port=%d user=postgres password=postgres dbname=postgres" % PROXY_PORT

def simple_client(cid, txn):
    try:
        c = psycopg2.connect(dsn())
        c.autocommit = not txn
        cur = c.cursor()
        end = time.time() + secs
        seq = 0
        while time.time() < end:
            seq += 1
            cur.execute("insert into ryw_t (client, seq) values (%s, %s) returning id", (cid, seq))
            rid = cur.fetchone()[0]
            if txn:
                c.commit()
                c.autocommit = True
            cur.execute("select count(*), current_setting('port')::int from ryw_t where id = %s", (rid,))
            n, port = cur.fetchone()
            note(port, n != 1)
            cur.execute("update ryw_c set n = n + 1 where client = %s returning n", (cid,))
            want = cur.fetchone()[0]
            cur.execute("select n, current_setting('port')::int from ryw_c where client = %s", (cid,))
            got, port = cur.fetchone()
            note(port, got != want)
            if txn:
                c.autocommit = False
        c.close()
    except Exception as e:
        with lock:
            stats["errors"].append("client %d: %r" % (cid, e))

def ext_exec(conn, sql, params):
    """Parse/Bind/Execute/Sync of an unnamed statement; returns the rows (lists of str)."""
    body = cstr("") + cstr(sql) + struct.pack("!h", 0)
    out = msg(b"P", body)
    b = cstr("") + cstr("") + struct.pack("!h", 0) + struct.pack("!h", len(params))
    for p in params:
        v = str(p).encode()
        b += struct.pack("!i", len(v)) + v
    b += struct.pack("!h", 0)
    out += msg(b"B", b) + msg(b"E", cstr("") + struct.pack("!i", 0)) + msg(b"S")
    conn.send(out)
    rows = []
    while True:
        t, body = conn.recv()
        if t == b"D":
            n = struct.unpack("!h", body[:2])[0]
            off, row = 2, []
            for _ in range(n):
                ln = struct.unpack("!i", body[off:off + 4])[0]
                off += 4
                row.append(None if ln < 0 else body[off:off + ln].decode())
                off += max(ln, 0)
            rows.append(row)
        elif t == b"E":
            raise RuntimeError("error: %r" % body)
        elif t == b"Z":
            return rows

def ext_client(cid):
    try:
        conn = Conn(PROXY_PORT)
        conn.login()
        end = time.time() + secs
        seq = 0
        while time.time() < end:
            seq += 1
            rid = ext_exec(conn, "insert into ryw_t (client, seq) values ($1, $2) returning id", [cid, seq])[0][0]
            n, port = ext_exec(conn, "select count(*), current_setting('port') from ryw_t where id = $1", [rid])[0]
            note(int(port), n != "1")
        conn.close()
    except Exception as e:
        with lock:
            stats["errors"].append("extended client %d: %r" % (cid, e))

threads = [threading.Thread(target=simple_client, args=(i, False)) for i in range(8)]
threads.append(threading.Thread(target=simple_client, args=(8, True)))
threads.append(threading.Thread(target=ext_client, args=(9,)))
for t in threads:
    t.start()
for t in threads:
    t.join()
print("reads=%d replica=%d stale=%d errors=%d" % (stats["reads"], stats["replica"], stats["stale"], len(stats["errors"])))
for e in stats["errors"][:5]:
    print("error: " + e)
PYEOF
)
# the control: without read-your-writes the same load does read stale rows (reported only)
extra_proxy_start ryw_off "read_your_writes = off"
out=$(py 3 "$MASTER_PORT" "$XP_PORT" <<<"$STRESS") || fail "the control clients failed: $out"
note "control, read_your_writes = off, 3s: $out"
extra_proxy_stop "$XP_DIR"

out=$(py "$SECS" "$MASTER_PORT" "$PROXY_PORT" <<<"$STRESS") ||
	fail "the read-your-writes clients failed: $out"
note "read-your-writes, session mode, ${SECS}s: $out"
read -r reads replica stale errors < <(sed -n 1p <<<"$out" | sed -e 's/[a-z]*=//g')
assert_eq "$errors" "0" "no client errors ($out)"
assert_eq "$stale" "0" "no stale read of a client's own write"
[ "$reads" -gt 100 ] || fail "too few reads to judge: $out"
share=$((replica * 100 / reads))
note "replicas served $share% of the reads"
[ "$share" -ge 50 ] || fail "replicas served only $share% of the reads ($out)"

# ---- the global mode: another client's committed write is never missing --------------------
extra_proxy_start ryw_global "read_your_writes = global"
out=$(py "$XP_PORT" "$MASTER_PORT" <<'PYEOF'
import psycopg2
port, master = int(sys.argv[1]), int(sys.argv[2])
d = "host=127.0.0.1 port=%d user=postgres password=postgres dbname=postgres" % port
w = psycopg2.connect(d); w.autocommit = True
r = psycopg2.connect(d); r.autocommit = True
wc, rc = w.cursor(), r.cursor()
stale = replica = 0
for i in range(300):
    wc.execute("insert into ryw_t (client, seq) values (100, %s) returning id", (i,))
    rid = wc.fetchone()[0]
    rc.execute("select count(*), current_setting('port')::int from ryw_t where id = %s", (rid,))
    n, p = rc.fetchone()
    stale += n != 1
    replica += p != master
print("reads=300 replica=%d stale=%d" % (replica, stale))
PYEOF
) || fail "the global-mode clients failed: $out"
note "read-your-writes, global mode: $out"
assert_contains "$out" "stale=0" "no read misses a write committed before it (global mode)"
