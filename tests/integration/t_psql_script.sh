#!/usr/bin/env bash
# t_psql_script.sh - a multi-statement psql script (psql_script.sql: DDL, DML, rollback, an
# error inside a transaction, savepoints, a temp table, PREPARE/EXECUTE, \copy to and from a
# file and from stdin) through pgrelay, its output compared exactly with the expected text
# below; then the same script directly against the master must print the same.
source "$(dirname "$0")/lib.sh"

mq -c "set client_min_messages = warning" -c "drop table if exists it_psql, it_psql2"
sed -e "s|@TMP@|$TMP|g" "$IT_DIR/psql_script.sql" >"$TMP/run.sql"

cat >"$TMP/expected.out" <<'EXPECTED'
\pset null '(null)'
\set SHOW_CONTEXT never
create table it_psql (id int primary key, name text, amount numeric(10,2));
insert into it_psql values (1, 'one', 1.50), (2, 'two', null), (3, 'three', 3.25);
select * from it_psql order by id;
 id | name  | amount 
----+-------+--------
  1 | one   |   1.50
  2 | two   | (null)
  3 | three |   3.25
(3 rows)

-- a transaction rolled back
begin;
insert into it_psql values (4, 'four', 4);
select count(*) as in_txn from it_psql;
 in_txn 
--------
      4
(1 row)

rollback;
select count(*) as after_rollback from it_psql;
 after_rollback 
----------------
              3
(1 row)

-- an error inside a transaction, then ROLLBACK
begin;
insert into it_psql values (5, 'five', 5);
select 1 / 0;
ERROR:  division by zero
\echo sqlstate :LAST_ERROR_SQLSTATE
sqlstate 22012
select 1;
ERROR:  current transaction is aborted, commands ignored until end of transaction block
\echo sqlstate :LAST_ERROR_SQLSTATE
sqlstate 25P02
rollback;
select count(*) as after_error from it_psql;
 after_error 
-------------
           3
(1 row)

-- savepoints
begin;
insert into it_psql values (6, 'six', 6);
savepoint a;
insert into it_psql values (7, 'seven', 7);
rollback to savepoint a;
savepoint b;
insert into it_psql values (8, 'eight', 8);
release savepoint b;
savepoint c;
insert into it_psql values (1, 'duplicate', 0);
ERROR:  duplicate key value violates unique constraint "it_psql_pkey"
DETAIL:  Key (id)=(1) already exists.
\echo sqlstate :LAST_ERROR_SQLSTATE
sqlstate 23505
rollback to savepoint c;
commit;
select string_agg(id::text, ',' order by id) as ids from it_psql;
    ids    
-----------
 1,2,3,6,8
(1 row)

-- a temporary table
create temp table it_tmp (x int);
insert into it_tmp select generate_series(1, 100);
select sum(x), count(*) from it_tmp;
 sum  | count 
------+-------
 5050 |   100
(1 row)

-- PREPARE / EXECUTE
prepare it_p (int) as select name, amount from it_psql where id = $1;
execute it_p(2);
 name | amount 
------+--------
 two  | (null)
(1 row)

execute it_p(8);
 name  | amount 
-------+--------
 eight |   8.00
(1 row)

deallocate it_p;
-- \copy out and in
\copy (select id, name, amount from it_psql order by id) to '@TMP@/out.csv' with (format csv)
create table it_psql2 (like it_psql);
\copy it_psql2 from '@TMP@/out.csv' with (format csv)
\copy it_psql2 from stdin
select * from it_psql2 order by id;
 id  |  name   | amount 
-----+---------+--------
   1 | one     |   1.50
   2 | two     | (null)
   3 | three   |   3.25
   6 | six     |   6.00
   8 | eight   |   8.00
 100 | hundred | 100.00
 101 | (null)  |  -1.50
(7 rows)

select count(*) from (select * from it_psql except select * from it_psql2) d;
 count 
-------
     0
(1 row)

drop table it_psql2;
drop table it_psql;
EXPECTED
sed -i -e "s|@TMP@|$TMP|g" "$TMP/expected.out"

# Through pgrelay (errors do not stop the script; stdin so that messages carry no file name).
rc=0
pq -a -v ON_ERROR_STOP=0 <"$TMP/run.sql" >"$TMP/pgrelay.out" 2>&1 || rc=$?
assert_eq "$rc" 0 "psql exit status through pgrelay"
assert_file_eq "$TMP/pgrelay.out" "$TMP/expected.out" "psql script output through pgrelay"

# The file written by \copy ... to
printf '1,one,1.50\n2,two,\n3,three,3.25\n6,six,6.00\n8,eight,8.00\n' >"$TMP/want.csv"
assert_file_eq "$TMP/out.csv" "$TMP/want.csv" "\\copy to file contents"

# Nothing left behind, and the same script directly against the master prints the same.
assert_eq "$(mval "select count(*) from pg_class where relname in ('it_psql', 'it_psql2')")" 0 \
	"tables dropped by the script"
mq -a -v ON_ERROR_STOP=0 <"$TMP/run.sql" >"$TMP/direct.out" 2>&1 || true
assert_file_eq "$TMP/direct.out" "$TMP/expected.out" "psql script output directly on the master"
