#!/usr/bin/python3
"""tests/integration/t_psycopg2.py - psycopg2 through pgrelay (run by t_psycopg2.sh, with
/usr/bin/python3; PROXY_PORT in the environment): connecting and the parameters reported,
transactions (commit, rollback, isolation level), a server-side named cursor, executemany,
bytea round trip, unicode, notices, an error then rollback, autocommit, and extended-protocol
details psycopg2 relies on. Exits 1 at the first failure."""
import datetime
import decimal
import hashlib
import os
import sys

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

PORT = int(os.environ["PROXY_PORT"])
DSN = "host=127.0.0.1 port=%d user=postgres password=postgres dbname=postgres " \
      "connect_timeout=10" % PORT


def check_eq(got, want, what):
    if got != want:
        print("FAIL: %s\n  expected: %r\n  got:      %r" % (what, want, got), file=sys.stderr)
        sys.exit(1)


def expect_error(cur, sql, sqlstate, args=None):
    try:
        cur.execute(sql, args)
    except psycopg2.Error as e:
        check_eq(e.pgcode, sqlstate, "SQLSTATE of %r" % sql)
        return e
    print("FAIL: %r succeeded, %s expected" % (sql, sqlstate), file=sys.stderr)
    sys.exit(1)


conn = psycopg2.connect(DSN, application_name="it_psycopg2")
cur = conn.cursor()
check_eq(conn.server_version // 10000, 15, "server version")
check_eq(conn.get_parameter_status("server_encoding"), "UTF8", "server_encoding")
check_eq(conn.get_parameter_status("application_name"), "it_psycopg2", "application_name")
cur.execute("show application_name")
check_eq(cur.fetchone()[0], "it_psycopg2", "application_name on the server")
cur.execute("select current_user, current_database()")
check_eq(cur.fetchone(), ("postgres", "postgres"), "user and database")
conn.commit()

cur.execute("drop table if exists it_py")
cur.execute("create table it_py (id serial primary key, name text, data bytea, n numeric)")
conn.commit()

# transactions
cur.execute("insert into it_py (name) values (%s)", ("committed",))
check_eq(conn.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_INTRANS,
         "status inside a transaction")
conn.commit()
check_eq(conn.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_IDLE,
         "status after commit")
cur.execute("insert into it_py (name) values (%s)", ("rolled back",))
conn.rollback()
cur.execute("select name from it_py order by id")
check_eq(cur.fetchall(), [("committed",)], "rows after commit and rollback")
conn.rollback()

conn.set_session(isolation_level="SERIALIZABLE", readonly=True)
cur.execute("show transaction_isolation")
check_eq(cur.fetchone()[0], "serializable", "isolation level")
expect_error(cur, "insert into it_py (name) values ('ro')", "25006")
conn.rollback()
conn.set_session(isolation_level="DEFAULT", readonly="DEFAULT")

# executemany
rows = [("row %d" % i, i * 1.5) for i in range(200)]
cur.executemany("insert into it_py (name, n) values (%s, %s)", rows)
check_eq(cur.rowcount, 200, "executemany rowcount")
psycopg2.extras.execute_values(cur, "insert into it_py (name, n) values %s",
                               [("batch %d" % i, i) for i in range(1000)], page_size=300)
conn.commit()
cur.execute("select count(*), sum(n) from it_py")
check_eq(cur.fetchone(), (1201, decimal.Decimal("529350.0")), "rows and sum after executemany")
conn.commit()

# server-side (named) cursor, fetched in batches inside the transaction
named = conn.cursor(name="it_named_cursor")
named.itersize = 97
named.execute("select g, md5(g::text) from generate_series(1, 10000) g")
count = total = 0
for g, h in named:
    count += 1
    total += g
check_eq((count, total), (10000, 50005000), "named cursor rows")
named.close()
named = conn.cursor(name="it_named_2", scrollable=True)
named.execute("select g from generate_series(1, 100) g")
check_eq(named.fetchmany(3), [(1,), (2,), (3,)], "fetchmany from a named cursor")
named.scroll(50, mode="absolute")
check_eq(named.fetchone(), (51,), "scroll in a named cursor")
named.close()
conn.commit()

# bytea round trip (every byte value, plus a large value)
blob = bytes(range(256)) * 4
big = os.urandom(3 * 1024 * 1024)
cur.execute("insert into it_py (name, data) values ('blob', %s), ('big', %s) returning id",
            (psycopg2.Binary(blob), psycopg2.Binary(big)))
conn.commit()
cur.execute("select data from it_py where name = 'blob'")
check_eq(bytes(cur.fetchone()[0]), blob, "bytea round trip")
cur.execute("select data, length(data), md5(data) from it_py where name = 'big'")
data, length, digest = cur.fetchone()
check_eq((bytes(data) == big, length, digest), (True, len(big), hashlib.md5(big).hexdigest()),
         "large bytea")
conn.commit()

# unicode
text = "Grüße, 世界, Ελληνικά, emoji 🐘, nul-free \u00e9\u0301"
cur.execute("select %s, length(%s), octet_length(%s)", (text, text, text))
check_eq(cur.fetchone(), (text, len(text), len(text.encode())), "unicode round trip")
cur.execute("select 'ünïcødé' as \"çølümn\"")
check_eq(cur.description[0].name, "çølümn", "unicode column name")
conn.commit()

# notices
conn.notices.clear()
cur.execute("do $$ begin raise notice 'first notice %', 42; raise warning 'a warning'; end $$")
check_eq([n.strip() for n in conn.notices],
         ["NOTICE:  first notice 42", "WARNING:  a warning"], "notices")
conn.commit()

# an error, then rollback; the connection is reusable
cur.execute("insert into it_py (name) values ('before error')")
e = expect_error(cur, "select 1/0", "22012")
check_eq(e.diag.message_primary, "division by zero", "error message")
check_eq(conn.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_INERROR,
         "status after an error")
expect_error(cur, "select 1", "25P02")
conn.rollback()
cur.execute("select count(*) from it_py where name = 'before error'")
check_eq(cur.fetchone()[0], 0, "rolled back after the error")
expect_error(cur, "insert into it_py (id, name) values (1, 'dup')", "23505")
conn.rollback()
expect_error(cur, "select * from it_py_does_not_exist", "42P01")
conn.rollback()
expect_error(cur, "select %s::int", "22P02", ("not a number",))
conn.rollback()

# autocommit
conn.autocommit = True
cur.execute("insert into it_py (name) values ('autocommitted')")
check_eq(conn.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_IDLE,
         "status in autocommit")
other = psycopg2.connect(DSN)
ocur = other.cursor()
ocur.execute("select count(*) from it_py where name = 'autocommitted'")
check_eq(ocur.fetchone()[0], 1, "autocommitted row visible to another connection")
other.close()
cur.execute("vacuum it_py")   # cannot run inside a transaction block
cur.execute("begin")
cur.execute("insert into it_py (name) values ('explicit')")
cur.execute("rollback")
cur.execute("select count(*) from it_py where name = 'explicit'")
check_eq(cur.fetchone()[0], 0, "explicit BEGIN/ROLLBACK in autocommit")

# misc types through the text protocol
cur.execute("select %s::date, %s::numeric, %s::int[], %s::jsonb, null::text",
            ("2024-02-29", "12345678901234567890.123", [1, 2, 3], '{"a": [1, "x"]}'))
check_eq(cur.fetchone(), (datetime.date(2024, 2, 29),
                          decimal.Decimal("12345678901234567890.123"), [1, 2, 3],
                          {"a": [1, "x"]}, None), "typed values")

# many connections opened and closed in a row
for i in range(20):
    c = psycopg2.connect(DSN)
    k = c.cursor()
    k.execute("select %s", (i,))
    check_eq(k.fetchone()[0], i, "short connection %d" % i)
    c.close()

cur.execute("drop table it_py")
conn.close()
print("psycopg2: all checks passed")
