#!/usr/bin/env bash
# t_databases.sh - database routing. An instance whose [databases] lists only "postgres" and an
# alias: another name gets FATAL 3D000 'database "x" does not exist' from pgrelay, the alias
# reaches its backend database. The main instance ('*' fallback): a database missing on the
# server gets the server's 3D000, forwarded; pgrelay keeps serving.
source "$(dirname "$0")/lib.sh"

export XP_DATABASES="postgres =
it_alias = dbname=postgres"
extra_proxy_start "databases-$$"
unset XP_DATABASES
port=$XP_PORT

assert_eq "$(pqp "$port" -At -c 'select current_database()')" postgres "the listed database"
assert_eq "$(pqp "$port" -d it_alias -At -c 'select current_database()')" postgres "the alias"
rc=0
out=$(pqp "$port" -d it_unlisted -c 'select 1' 2>&1) || rc=$?
assert_eq "$rc" 2 "psql exit status, unlisted database"
assert_contains "$out" 'database "it_unlisted" does not exist' "psql's message, unlisted database"
# template1 exists on the server but is not listed
out=$(pqp "$port" -d template1 -c 'select 1' 2>&1) || true
assert_contains "$out" 'database "template1" does not exist' "psql's message, template1 unlisted"

XP=$port py <<'EOF'
port = int(os.environ["XP"])
e = login_error(port, database="it_unlisted")
check_eq((e.severity, e.sqlstate, e.message),
         ("FATAL", "3D000", 'database "it_unlisted" does not exist'), "unlisted database")
# without a database name, the user name is the database name (as in PostgreSQL)
for db in ("", None):
    c = Conn(port).login(user="postgres", database=db)
    check_eq(c.value("select current_database()"), "postgres", "database name %r" % db)
    c.close()
e = login_error(None, database="it_missing_db")
check_eq((e.severity, e.sqlstate, e.message),
         ("FATAL", "3D000", 'database "it_missing_db" does not exist'),
         "a database missing on the server, through '*'")
c = Conn().login()
check_eq(c.value("select 'main ok'"), "main ok", "main instance after the errors")
c.close()
c = Conn(port).login()
check_eq(c.value("select 'listed ok'"), "listed ok", "extra instance after the errors")
c.close()
EOF

rc=0
out=$(pq -d it_missing_db -c 'select 1' 2>&1) || rc=$?
assert_eq "$rc" 2 "psql exit status, database missing on the server"
assert_contains "$out" 'database "it_missing_db" does not exist' "psql's message, missing database"
assert_eq "$(pval "select 'still serving'")" "still serving" "main instance after the errors"

extra_proxy_stop "$XP_DIR"
