#!/usr/bin/env bash
# t_protocol.sh - protocol violations from raw sockets. Before login: garbage, a startup length
# below 8 or above 10000, an unterminated parameter list, no user name -> FATAL 08P01 (or 28000
# for the missing user, as PostgreSQL); protocol 2.0 -> 0A000; replication=database or
# replication=true -> 0A000; protocol 3.1 with a _pq_ option -> NegotiateProtocolVersion, then
# login works. After login: a length field below 4, and a message larger than max_message_size
# (1MB on an extra instance) -> 08P01 and the connection closed; one just below the limit works;
# an unknown message type gets the server's 08P01. Random junk on 40 connections. A session
# opened first keeps working and new clients are served throughout.
source "$(dirname "$0")/lib.sh"

extra_proxy_start "protocol-$$" "max_message_size = 1MB"
port=$XP_PORT

py "$port" <<'EOF'
import random
xport = int(sys.argv[1])
bystander = Conn().login()
bystander.query("begin")
bystander.query("create temp table it_bystander as select 1 as x")

def raw(data, port=None):
    """Sends data on a new connection; returns the PgError answered (None if just closed)."""
    c = Conn(port)
    c.send(data)
    try:
        e = c.expect_error(5)
    except Closed:
        e = None
    closed = c.expect_closed(5)
    c.sock.close()
    check(closed, "connection closed after %r" % data[:40])
    return e

def expect(data, sqlstate, what, message=None):
    e = raw(data)
    check(e is not None, "%s: no ErrorResponse, the connection was just closed" % what)
    check_eq(e.severity, "FATAL", what + ": severity")
    check_eq(e.sqlstate, sqlstate, what + ": SQLSTATE (%s)" % e.message)
    if message is not None:
        check_eq(e.message, message, what + ": message")

def startup(params, proto=196608, terminator=b"\0"):
    body = struct.pack("!I", proto)
    for k, v in params:
        body += cstr(k) + cstr(v)
    body += terminator
    return struct.pack("!I", len(body) + 4) + body

expect(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "08P01", "an HTTP request")
expect(b"\x00\x00\x00\x03junkjunk", "08P01", "startup length 3")
expect(struct.pack("!I", 10001) + b"\x00" * 16, "08P01", "startup length 10001")
expect(struct.pack("!I", 0x7fffffff) + b"\x00" * 16, "08P01", "startup length 2^31-1")
expect(startup([("user", "postgres"), ("database", "postgres")], terminator=b""), "08P01",
       "unterminated startup parameters")
expect(struct.pack("!II", 12, 196608) + b"user", "08P01", "parameter name without value")
e = raw(startup([("database", "postgres")]))
check(e is not None and e.sqlstate in ("08P01", "28000"), "no user name: %s" % e)
expect(struct.pack("!II", 12, 80877103) + b"\0\0\0\0", "08P01", "SSLRequest of length 12")

expect(startup([("user", "postgres"), ("database", "postgres")], proto=0x00020000), "0A000",
       "protocol 2.0", "unsupported frontend protocol 2.0: server supports 3.0 to 3.0")
expect(startup([("user", "postgres")], proto=0x00040000), "0A000", "protocol 4.0")
for value in ("database", "true", "on", "1"):
    expect(startup([("user", "postgres"), ("database", "postgres"), ("replication", value)]),
           "0A000", "replication=" + value)
c = Conn().login(replication="false")
check_eq(c.value("select 'replication=false ok'"), "replication=false ok", "replication=false")
c.close()

# protocol 3.1 with an unknown protocol option: negotiated down to 3.0
c = Conn()
c.send(startup([("user", "postgres"), ("database", "postgres"), ("_pq_.it_option", "1")],
               proto=0x00030001))
t, body = c.recv()
check_eq(t, b"v", "NegotiateProtocolVersion for 3.1")
minor, n = struct.unpack("!II", body[:8])
# PostgreSQL sends the whole version code 3.0 (196608); the documentation says "minor" (0)
check(minor in (0, 196608), "NegotiateProtocolVersion version %d" % minor)
check_eq((n, body[8:]), (1, b"_pq_.it_option\0"), "NegotiateProtocolVersion options")
while True:
    t, body = c.recv()
    if t == b"R":
        c._auth(body, "postgres", "postgres")
    elif t == b"Z":
        break
    elif t == b"K":
        pass
    else:
        check(False, "unexpected %r after NegotiateProtocolVersion" % t)
check_eq(c.value("select 'negotiated'"), "negotiated", "session after the negotiation")
c.close()

# ---- after login
def after_login(data, port=None):
    c = Conn(port).login()
    c.send(data)
    try:
        e = c.expect_error(5)
    except Closed:
        e = None
    check(c.expect_closed(5), "connection closed after %r" % data[:20])
    return e

e = after_login(b"Q" + struct.pack("!I", 2))
check(e is not None and (e.severity, e.sqlstate) == ("FATAL", "08P01"), "length 2: %s" % e)
e = after_login(b"Q" + struct.pack("!I", 0x7fffffff), xport)
check(e is not None and (e.severity, e.sqlstate) == ("FATAL", "08P01"), "length 2^31-1: %s" % e)
check("max_message_size" in e.message, "the message names max_message_size: " + e.message)
e = after_login(b"Q" + struct.pack("!I", 0xffffffff), xport)
check(e is not None and (e.severity, e.sqlstate) == ("FATAL", "08P01"), "length 2^32-1: %s" % e)
# 1MB limit on the extra instance: a 2MB query is refused before it is all sent ...
big = "select '" + "x" * (2 * 1024 * 1024) + "'"
c = Conn(xport).login()
try:
    c.send(msg(b"Q", cstr(big)))
except OSError:
    pass   # the proxy may close while we are still sending
try:
    e = c.expect_error(5)
    check_eq((e.severity, e.sqlstate), ("FATAL", "08P01"), "2MB message with max_message_size = 1MB")
except Closed:
    check(False, "2MB message: the connection closed without an ErrorResponse")
c.sock.close()
# ... one just below it goes through
c = Conn(xport).login()
ok = "select length('" + "y" * (1000 * 1000) + "')"
check_eq(c.value(ok), str(1000 * 1000), "a 1,000,000-character query with max_message_size = 1MB")
c.close()
# the main instance (64MB default) takes the 2MB query
c = Conn().login()
check_eq(c.value("select length(" + big[7:] + ")"), str(2 * 1024 * 1024), "2MB query on the main instance")

# an unknown message type: the server's own error
c.send(msg(b"\x01", b"junk"))
e = c.expect_error(5)
check_eq(e.sqlstate, "08P01", "unknown message type")
c.sock.close()

# junk before and after login
rnd = random.Random(20240611)
for i in range(40):
    s = socket.create_connection(("127.0.0.1", PROXY_PORT), timeout=5)
    try:
        if i % 2:
            s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))))
        else:
            c = Conn()
            c.sock.close()
            c.sock = s
            c.login()
            s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))))
    except (OSError, PgError):
        pass
    s.close()

# the bystander's session and transaction are intact; new clients are served
check_eq(bystander.value("select x from it_bystander"), "1", "bystander session")
check_eq(bystander.status, "T", "bystander still in its transaction")
bystander.query("rollback")
bystander.close()
for p in (None, xport):
    c = Conn(p).login()
    check_eq(c.value("select 'served'"), "served", "a new client after the garbage")
    c.close()
EOF
extra_proxy_stop "$XP_DIR"
