#!/usr/bin/env bash
# t_auth.sh - client authentication. The main instance (scram-sha-256): the right password
# works, a wrong one or an unknown user gets FATAL 28P01 "password authentication failed"
# (psql's message and the raw SQLSTATE), and the proxy goes on serving. An md5 instance: plain
# and md5-hash secrets are asked for MD5 (right password works, wrong gets 28P01), a SCRAM
# verifier secret is asked for SCRAM instead. A scram instance with the same file: an md5-hash
# secret cannot do SCRAM (28P01). A trust instance: no password needed.
source "$(dirname "$0")/lib.sh"

# ---- main instance: scram-sha-256
assert_eq "$(pval 'select 1')" 1 "login with the right password"
rc=0
out=$(PGPASSWORD=wrong pq -c 'select 1' 2>&1) || rc=$?
assert_eq "$rc" 2 "psql exit status with a wrong password"
assert_contains "$out" 'password authentication failed for user "postgres"' "psql's message"

py <<'EOF'
e = login_error(password="wrong")
check_eq((e.severity, e.sqlstate, e.message),
         ("FATAL", "28P01", 'password authentication failed for user "postgres"'), "wrong password")
e = login_error(user="it_no_such_user", password="x")
check_eq((e.sqlstate, e.message),
         ("28P01", 'password authentication failed for user "it_no_such_user"'), "unknown user")
c = Conn().login()
check_eq(c.auth_codes, [10, 11, 12, 0], "SASL, SASL continue, SASL final, OK")
check_eq(c.value("select current_user"), "postgres", "current_user")
c.close()

# a client that answers SCRAM with a cleartext password message
c = Conn()
c.send(c.startup_packet({"user": "postgres", "database": "postgres"}))
t, body = c.recv()
check_eq((t, struct.unpack("!I", body[:4])[0]), (b"R", 10), "SASL requested")
c.send(msg(b"p", cstr("postgres")))
e = c.expect_error()
check(e.sqlstate in ("08P01", "28P01"), "cleartext answer to SASL: %s" % e)
c.sock.close()
EOF

# ---- an auth file with three kinds of secret; every client logs in to the servers as postgres
scram=$(py <<<'print(scram_verifier("scrampw"))')
md5hash=md5$(printf '%s' md5pwit_md5user | md5sum | cut -d' ' -f1)
cat >"$TMP/users.txt" <<EOF
"postgres" "postgres"
"it_md5user" "$md5hash"
"it_scram" "$scram"
EOF
export XP_DATABASES="* = user=postgres password=postgres"

extra_proxy_start "auth-md5-$$" "auth_type = md5" "auth_file = $TMP/users.txt"
md5_port=$XP_PORT md5_dir=$XP_DIR
extra_proxy_start "auth-scram-$$" "auth_file = $TMP/users.txt"
scram_port=$XP_PORT scram_dir=$XP_DIR
extra_proxy_start "auth-trust-$$" "auth_type = trust"
trust_port=$XP_PORT trust_dir=$XP_DIR
unset XP_DATABASES

assert_eq "$(pqp "$md5_port" -At -c 'select current_user')" postgres "psql, md5 instance"
rc=0
out=$(PGPASSWORD=wrong pqp "$md5_port" -c 'select 1' 2>&1) || rc=$?
assert_eq "$rc" 2 "psql exit status with a wrong password (md5)"
assert_contains "$out" 'password authentication failed for user "postgres"' "psql's message (md5)"
assert_eq "$(PGPASSWORD=md5pw pqp "$md5_port" -U it_md5user -At -c 'select 1')" 1 \
	"psql, md5 instance, md5-hash secret"

MD5_PORT=$md5_port SCRAM_PORT=$scram_port TRUST_PORT=$trust_port py <<'EOF'
md5_port, scram_port = int(os.environ["MD5_PORT"]), int(os.environ["SCRAM_PORT"])
trust_port = int(os.environ["TRUST_PORT"])

for user, pw, codes in (("postgres", "postgres", [5, 0]), ("it_md5user", "md5pw", [5, 0]),
                        ("it_scram", "scrampw", [10, 11, 12, 0])):
    c = Conn(md5_port).login(user=user, password=pw)
    check_eq(c.auth_codes, codes, "md5 instance: authentication of %s" % user)
    check_eq(c.value("select current_user"), "postgres", "md5 instance: backend user of " + user)
    c.close()
    e = login_error(md5_port, user=user, password=pw + "x")
    check_eq((e.severity, e.sqlstate, e.message),
             ("FATAL", "28P01", 'password authentication failed for user "%s"' % user),
             "md5 instance: wrong password for " + user)
e = login_error(md5_port, user="it_no_such_user", password="x")
check_eq(e.sqlstate, "28P01", "md5 instance: unknown user")

c = Conn(scram_port).login(user="it_scram", password="scrampw")
check_eq(c.auth_codes, [10, 11, 12, 0], "scram instance: SCRAM with a verifier secret")
c.close()
e = login_error(scram_port, user="it_scram", password="wrong")
check_eq(e.sqlstate, "28P01", "scram instance: wrong password for a verifier secret")
e = login_error(scram_port, user="it_md5user", password="md5pw")
check_eq(e.sqlstate, "28P01", "scram instance: an md5-hash secret cannot do SCRAM")

for pw in ("postgres", "anything"):
    c = Conn(trust_port).login(password=pw)
    check_eq(c.auth_codes, [0], "trust instance: no password asked")
    check_eq(c.value("select 'trusted'"), "trusted", "trust instance query")
    c.close()
EOF
assert_eq "$(PGPASSWORD=wrong pqp "$trust_port" -At -c "select 'trust ok'")" "trust ok" \
	"psql, trust instance, wrong password"
assert_eq "$(pval 'select 2')" 2 "the main instance still serves"

extra_proxy_stop "$md5_dir"
extra_proxy_stop "$scram_dir"
extra_proxy_stop "$trust_dir"
