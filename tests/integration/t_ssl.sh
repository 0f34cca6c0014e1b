#!/usr/bin/env bash
# t_ssl.sh - encryption requests (pgrelay speaks plain TCP only): psql with sslmode=prefer
# falls back and works, sslmode=require fails saying the server does not support SSL,
# gssencmode=prefer works. Raw: SSLRequest and GSSENCRequest are answered 'N' and the startup
# that follows on the same connection works (also both, in libpq's order); data sent right
# behind an SSLRequest gets 08P01.
source "$(dirname "$0")/lib.sh"

conninfo="host=127.0.0.1 port=$PROXY_PORT user=postgres dbname=postgres connect_timeout=10"
assert_eq "$(psql -X -At "$conninfo sslmode=prefer" -c "select 'prefer ok'")" "prefer ok" \
	"sslmode=prefer"
assert_eq "$(psql -X -At "$conninfo sslmode=allow" -c "select 'allow ok'")" "allow ok" \
	"sslmode=allow"
rc=0
out=$(psql -X -At "$conninfo sslmode=require" -c "select 1" 2>&1) || rc=$?
assert_eq "$rc" 2 "psql exit status with sslmode=require"
assert_contains "$out" "server does not support SSL, but SSL was required" \
	"psql's message with sslmode=require"
assert_eq "$(psql -X -At "$conninfo gssencmode=prefer" -c "select 'gss prefer ok'")" \
	"gss prefer ok" "gssencmode=prefer"

py <<'EOF'
import struct
SSL, GSS = 80877103, 80877104

def request(c, code):
    c.send(struct.pack("!II", 8, code))
    return c.recv_raw(1)

c = Conn()
check_eq(request(c, SSL), b"N", "answer to SSLRequest")
c.login()
check_eq(c.value("select 'after ssl request'"), "after ssl request", "startup after SSLRequest")
c.close()

c = Conn()
check_eq(request(c, GSS), b"N", "answer to GSSENCRequest")
c.login()
check_eq(c.value("select 'after gss request'"), "after gss request", "startup after GSSENCRequest")
c.close()

c = Conn()
check_eq(request(c, GSS), b"N", "answer to GSSENCRequest (1 of 2)")
check_eq(request(c, SSL), b"N", "answer to SSLRequest (2 of 2)")
c.login()
check_eq(c.value("select 'after both'"), "after both", "startup after both requests")
c.close()

# a startup packet sent in the same write as the SSLRequest (before the answer)
c = Conn()
c.send(struct.pack("!II", 8, SSL) + c.startup_packet({"user": "postgres", "database": "postgres"}))
got = c.recv_raw(1)
if got == b"N":
    e = c.expect_error()
else:
    c.buf = got + c.buf
    e = c.expect_error()
check_eq(e.sqlstate, "08P01", "data right behind an SSLRequest")
check(c.expect_closed(5), "connection closed after the protocol violation")

c = Conn().login()
check_eq(c.value("select 'still serving'"), "still serving", "pgrelay still serves")
c.close()
EOF
