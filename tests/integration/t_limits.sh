#!/usr/bin/env bash
# t_limits.sh - connection limits. max_client_conn = 2: with two clients connected a third
# gets FATAL 53300 "sorry, too many clients already" (raw SQLSTATE and psql's message), and
# once one leaves a new client gets in. pool_size = 1 with query_wait_timeout = 1: while one
# client holds the only server connection (in a transaction), a second waits about 1 s and
# gets 53300 naming query_wait_timeout; once the first leaves, a new client is served.
source "$(dirname "$0")/lib.sh"

extra_proxy_start "maxconn-$$" "max_client_conn = 2"
maxconn_port=$XP_PORT maxconn_dir=$XP_DIR
extra_proxy_start "poolfull-$$" "pool_size = 1" "query_wait_timeout = 1"
pool_port=$XP_PORT pool_dir=$XP_DIR

# ---- max_client_conn: psql as the third client, while a Python script holds two.
py "$maxconn_port" "$TMP/release" >"$TMP/holder.out" 2>&1 <<'EOF' &
port = int(sys.argv[1])
a = Conn(port).login()
b = Conn(port).login()
a.query("select 1")
b.query("select 1")
print("holding", flush=True)
# hold until told to stop (a file appears) or 30 s
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
a.close()
b.close()
print("released", flush=True)
EOF
holder=$!
bg_track $holder
holding() { grep -q holding "$TMP/holder.out"; }
wait_until 10 holding || fail "the holder did not connect: $(cat "$TMP/holder.out")"
rc=0
out=$(pqp "$maxconn_port" -c 'select 1' 2>&1) || rc=$?
assert_eq "$rc" 2 "psql exit status as the third client"
assert_contains "$out" "sorry, too many clients already" "psql's message as the third client"
py "$maxconn_port" <<'EOF'
e = login_error(int(sys.argv[1]))
check_eq((e.severity, e.sqlstate, e.message), ("FATAL", "53300", "sorry, too many clients already"),
         "third client")
EOF
touch "$TMP/release"
wait_pid_exit $holder 10 || fail "the holder did not finish: $(cat "$TMP/holder.out")"
# the slots are free again (the proxy may need a moment to notice the closes)
third_ok() { [ "$(pqp "$maxconn_port" -At -c "select 'in'" 2>/dev/null)" = in ]; }
wait_until 5 third_ok || fail "no client admitted after the others left"
py "$maxconn_port" <<'EOF'
port = int(sys.argv[1])
a = Conn(port).login()
b = Conn(port).login()
check_eq(login_error(port).sqlstate, "53300", "third client again")
a.close()
b.close()
EOF

# ---- pool full: the second client times out after query_wait_timeout.
py "$pool_port" <<'EOF'
port = int(sys.argv[1])
a = Conn(port).login()
a.query("begin")
a.query("select 1")
check_eq(a.status, "T", "A is in a transaction")
t0 = time.monotonic()
e = login_error(port)
waited = time.monotonic() - t0
check_eq((e.severity, e.sqlstate), ("FATAL", "53300"), "second client while the pool is full")
check("query_wait_timeout" in e.message, "the message names query_wait_timeout: %r" % e.message)
check(0.8 <= waited <= 3.5, "the second client waited %.2f s (query_wait_timeout = 1)" % waited)
check_eq(a.value("select 'A still works'"), "A still works", "A after B's timeout")
a.query("commit")
a.close()
# the server connection goes back to the pool: the next client is served
deadline = time.monotonic() + 5
while True:
    try:
        c = Conn(port).login()
        break
    except PgError as e:
        check(time.monotonic() < deadline, "no client served after A left: %s" % e)
check_eq(c.value("select 'served'"), "served", "client after A left")
check_eq(c.status, "I", "not in a transaction")

# a client waiting (authenticated) gets the server as soon as the holder leaves
b = Conn(port)
b.send(b.startup_packet({"user": "postgres", "database": "postgres"}))
released = False
while True:
    t, body = b.recv()
    if t == b"R":
        b._auth(body, "postgres", "postgres")
        if b.auth_codes[-1] in (0, 12) and not released:
            time.sleep(0.5)
            c.close()
            released = True
    elif t == b"E":
        check(False, "the waiting client failed: %s" % PgError(parse_fields(body)))
    elif t == b"Z":
        break
check(released, "authentication finished before the server was free")
check_eq(b.value("select 'handed over'"), "handed over", "the waiting client got the server")
b.close()
EOF

extra_proxy_stop "$maxconn_dir"
extra_proxy_stop "$pool_dir"
