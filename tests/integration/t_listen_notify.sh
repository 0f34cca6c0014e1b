#!/usr/bin/env bash
# t_listen_notify.sh - LISTEN/NOTIFY between two clients through pgrelay (psycopg2): the
# listener gets every notification with its payload and the notifier's backend PID, in order;
# notifications sent inside a transaction arrive only at COMMIT and not at all after ROLLBACK;
# UNLISTEN stops delivery; and a psql NOTIFY reaches a listener through pgrelay.
source "$(dirname "$0")/lib.sh"

py <<'EOF'
import psycopg2, psycopg2.extensions

dsn = "host=127.0.0.1 port=%d user=postgres password=postgres dbname=postgres" % PROXY_PORT
listener = psycopg2.connect(dsn)
listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
notifier = psycopg2.connect(dsn)
notifier.autocommit = True
lc, nc = listener.cursor(), notifier.cursor()
lc.execute("LISTEN it_chan")
lc.execute('LISTEN "It Chan 2"')
nc.execute("select pg_backend_pid()")
notifier_pid = nc.fetchone()[0]

def wait_notifies(n, timeout=5):
    deadline = time.monotonic() + timeout
    while len(listener.notifies) < n and time.monotonic() < deadline:
        if select.select([listener], [], [], 0.2)[0]:
            listener.poll()
    got = [(x.channel, x.payload, x.pid) for x in listener.notifies]
    del listener.notifies[:]
    return got

nc.execute("NOTIFY it_chan, 'hello world'")
nc.execute("select pg_notify('It Chan 2', %s)", ("ünïcødé payload ✓",))
nc.execute("NOTIFY it_chan")
nc.execute("NOTIFY other_chan, 'not for us'")
check_eq(wait_notifies(3), [("it_chan", "hello world", notifier_pid),
                            ("It Chan 2", "ünïcødé payload ✓", notifier_pid),
                            ("it_chan", "", notifier_pid)], "notifications received")
check_eq(wait_notifies(1, 0.5), [], "no notification for an unlistened channel")

# in a transaction: delivered at commit, in order; nothing after rollback
notifier.autocommit = False
nc.execute("NOTIFY it_chan, 'txn 1'")
nc.execute("NOTIFY it_chan, 'txn 2'")
check_eq(wait_notifies(1, 0.5), [], "nothing before COMMIT")
notifier.commit()
check_eq(wait_notifies(2), [("it_chan", "txn 1", notifier_pid), ("it_chan", "txn 2", notifier_pid)],
         "notifications at COMMIT")
nc.execute("NOTIFY it_chan, 'rolled back'")
notifier.rollback()
check_eq(wait_notifies(1, 0.5), [], "nothing after ROLLBACK")

# a large payload (close to the 8000-byte limit)
notifier.autocommit = True
big = "x" * 7000
nc.execute("NOTIFY it_chan, '%s'" % big)
check_eq(wait_notifies(1), [("it_chan", big, notifier_pid)], "large payload")

lc.execute("UNLISTEN it_chan")
nc.execute("NOTIFY it_chan, 'after unlisten'")
nc.execute("NOTIFY \"It Chan 2\", 'still listening'")
check_eq(wait_notifies(2, 1), [("It Chan 2", "still listening", notifier_pid)], "after UNLISTEN")
notifier.close()
listener.close()
EOF

# psql NOTIFY -> raw-protocol listener
py >"$TMP/listener.out" 2>&1 <<'EOF' &
c = Conn().login()
c.query("LISTEN psql_chan")
print("listening", flush=True)
deadline = time.monotonic() + 15
while not c.notifies and time.monotonic() < deadline:
    try:
        c.recv(timeout=0.5)
    except TimeoutError:
        pass
print(c.notifies[0][1:] if c.notifies else "nothing", flush=True)
c.close()
EOF
listener=$!
bg_track $listener
listening() {
	[ "$(mval "select count(*) from pg_stat_activity where query = 'LISTEN psql_chan'")" = 1 ]
}
wait_until 10 listening || fail "the raw listener did not LISTEN"
pq -c "NOTIFY psql_chan, 'from psql'"
rc=0
wait_pid_exit $listener 20 || rc=$?
assert_eq "$(cat "$TMP/listener.out")" "listening
('psql_chan', 'from psql')" "raw listener output (exit $rc)"
