\pset null '(null)'
\set SHOW_CONTEXT never
create table it_psql (id int primary key, name text, amount numeric(10,2));
insert into it_psql values (1, 'one', 1.50), (2, 'two', null), (3, 'three', 3.25);
select * from it_psql order by id;
-- a transaction rolled back
begin;
insert into it_psql values (4, 'four', 4);
select count(*) as in_txn from it_psql;
rollback;
select count(*) as after_rollback from it_psql;
-- an error inside a transaction, then ROLLBACK
begin;
insert into it_psql values (5, 'five', 5);
select 1 / 0;
\echo sqlstate :LAST_ERROR_SQLSTATE
select 1;
\echo sqlstate :LAST_ERROR_SQLSTATE
rollback;
select count(*) as after_error from it_psql;
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
\echo sqlstate :LAST_ERROR_SQLSTATE
rollback to savepoint c;
commit;
select string_agg(id::text, ',' order by id) as ids from it_psql;
-- a temporary table
create temp table it_tmp (x int);
insert into it_tmp select generate_series(1, 100);
select sum(x), count(*) from it_tmp;
-- PREPARE / EXECUTE
prepare it_p (int) as select name, amount from it_psql where id = $1;
execute it_p(2);
execute it_p(8);
deallocate it_p;
-- \copy out and in
\copy (select id, name, amount from it_psql order by id) to '@TMP@/out.csv' with (format csv)
create table it_psql2 (like it_psql);
\copy it_psql2 from '@TMP@/out.csv' with (format csv)
\copy it_psql2 from stdin
100	hundred	100.00
101	\N	-1.5
\.
select * from it_psql2 order by id;
select count(*) from (select * from it_psql except select * from it_psql2) d;
drop table it_psql2;
drop table it_psql;
