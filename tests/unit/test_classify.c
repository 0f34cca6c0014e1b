/*
 * test_classify.c - unit tests for the statement classifier (proxy/classify.c)
 * and its lexer (proxy/sqllex.c): tables of statements with the expected class,
 * reason and flags (reads, every kind of write, functions, transaction control,
 * session state, pins, EXPLAIN / COPY / DECLARE, hints, multi-statement texts,
 * lexer corner cases, look-alikes both ways), then classify_next offsets, the
 * lookup callback's arguments, the name tables and the built-in tables.
 */
#include "classify.h"
#include "sqllex.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

typedef struct Case {
	const char *sql;
	StmtClass cls;
	ClassReason reason;
	uint32_t flags; /* exact, ignoring SF_HAS_PIN / SF_HAS_SESSION (derived, tested apart) */
} Case;

#define DERIVED (SF_HAS_PIN | SF_HAS_SESSION | SF_MASTER_STATS)

/* The lookup the router would give: two known user functions, the rest unknown. */
static int lookups;
static char last_schema[PG_NAME_MAX + 1], last_name[PG_NAME_MAX + 1];
static bool last_quoted, last_had_schema;

static FuncKind test_lookup(const char *schema, size_t schema_len, const char *name,
			    size_t name_len, bool quoted, void *arg)
{
	cr_assert_eq(arg, &lookups, "lookup_arg is passed through");
	cr_assert_leq(name_len, PG_NAME_MAX - 1);
	cr_assert_leq(schema_len, PG_NAME_MAX - 1);
	lookups++;
	last_had_schema = schema != NULL;
	snprintf(last_schema, sizeof(last_schema), "%.*s", (int)schema_len, schema ? schema : "");
	snprintf(last_name, sizeof(last_name), "%.*s", (int)name_len, name);
	last_quoted = quoted;
	if (name_len == 5 && memcmp(name, "ro_fn", 5) == 0)
		return FUNC_READ_ONLY;
	if (name_len == 5 && memcmp(name, "wr_fn", 5) == 0)
		return FUNC_WRITE;
	return FUNC_UNKNOWN;
}

static const ClassifyOptions opts = {.lookup = test_lookup, .lookup_arg = &lookups};

static void run_cases(const Case *cases, size_t n, const ClassifyOptions *o)
{
	for (size_t i = 0; i < n; i++) {
		StmtInfo si;
		const char *sql = cases[i].sql;

		classify_sql(sql, strlen(sql), o, &si);
		cr_expect(si.cls == cases[i].cls && si.reason == cases[i].reason &&
			      (si.flags & ~DERIVED) == cases[i].flags,
			  "%s\n  got      %s / %s / 0x%04x\n  expected %s / %s / 0x%04x", sql,
			  classify_class_name(si.cls), classify_reason_name(si.reason),
			  si.flags & ~DERIVED, classify_class_name(cases[i].cls),
			  classify_reason_name(cases[i].reason), cases[i].flags);
		cr_expect_leq((uint64_t)si.stmt_off + si.stmt_len, strlen(sql), "%s", sql);
		cr_expect_leq((uint64_t)si.func_off + si.func_len, strlen(sql), "%s", sql);
		cr_expect_leq((uint64_t)si.guc_off + si.guc_len, strlen(sql), "%s", sql);
	}
}

#define RUN(cases) run_cases(cases, ARRAY_SIZE(cases), &opts)

static StmtInfo classify(const char *sql)
{
	StmtInfo si;

	classify_sql(sql, strlen(sql), &opts, &si);
	return si;
}

/* The text of an (off, len) pair of StmtInfo. */
static const char *span(const char *sql, uint32_t off, uint32_t len)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, sql + off);
	return buf;
}

#define R_SELECT SC_READ, CR_SELECT, 0
#define W_DML SC_WRITE, CR_DML, 0

/* ---- reads ------------------------------------------------------------------ */

Test(classify, plain_reads)
{
	static const Case cases[] = {
	    {"SELECT 1", R_SELECT},
	    {"select 1", R_SELECT},
	    {"SeLeCt 1", R_SELECT},
	    {"  \t\n SELECT 1  ", R_SELECT},
	    {"SELECT 1;", R_SELECT},
	    {"SELECT * FROM t", R_SELECT},
	    {"SELECT a, b FROM t WHERE a = 1 AND b <> 'x' ORDER BY a DESC LIMIT 10 OFFSET 5",
	     R_SELECT},
	    {"SELECT DISTINCT a FROM t", R_SELECT},
	    {"SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b", R_SELECT},
	    {"SELECT t.* FROM public.t AS t", R_SELECT},
	    {"SELECT * FROM s.t x JOIN u ON u.id = x.id", R_SELECT},
	    {"SELECT * FROM a NATURAL JOIN b CROSS JOIN c LEFT OUTER JOIN d ON true", R_SELECT},
	    {"SELECT * FROM a FULL JOIN b USING (id) RIGHT JOIN c USING (id) AS j", R_SELECT},
	    {"SELECT * FROM t WHERE id IN (SELECT id FROM u)", R_SELECT},
	    {"SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id)", R_SELECT},
	    {"SELECT (SELECT max(a) FROM u) FROM t", R_SELECT},
	    {"SELECT a FROM t UNION SELECT b FROM u INTERSECT SELECT c FROM v EXCEPT SELECT 1",
	     R_SELECT},
	    {"(SELECT 1) UNION ALL (SELECT 2)", R_SELECT},
	    {"((SELECT 1))", R_SELECT},
	    {"SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1", R_SELECT},
	    {"SELECT count(DISTINCT a), sum(b), avg(c), min(d), max(e) FROM t", R_SELECT},
	    {"SELECT string_agg(a, ',' ORDER BY a), array_agg(b) FROM t", R_SELECT},
	    {"SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", R_SELECT},
	    {"SELECT rank() OVER w, lag(a) OVER w FROM t WINDOW w AS (ORDER BY a)", R_SELECT},
	    {"SELECT count(*) FILTER (WHERE a > 1) OVER (PARTITION BY b) FROM t", R_SELECT},
	    {"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t", R_SELECT},
	    {"SELECT a, b, count(*) FROM t GROUP BY ROLLUP (a, b)", R_SELECT},
	    {"SELECT a, b FROM t GROUP BY CUBE (a, b)", R_SELECT},
	    {"SELECT a FROM t GROUP BY GROUPING SETS ((a), ROLLUP (b), CUBE (c), ())", R_SELECT},
	    {"SELECT a FROM t GROUP BY a, ROLLUP (b)", R_SELECT},
	    {"SELECT * FROM t ORDER BY (a) LIMIT ALL", R_SELECT},
	    {"SELECT * FROM t FETCH FIRST 5 ROWS WITH TIES", R_SELECT},
	    {"SELECT 1 FOR READ ONLY", R_SELECT},
	    {"SELECT now(), current_timestamp, current_date, localtime, current_user", R_SELECT},
	    {"SELECT current_timestamp(3), localtimestamp(2), current_time(1)", R_SELECT},
	    {"SELECT coalesce(a, b), nullif(a, 1), greatest(1, 2), least(1, 2) FROM t", R_SELECT},
	    {"SELECT lower(a), upper(b), length(c), substring(d, 1, 2), trim(e) FROM t", R_SELECT},
	    {"SELECT EXTRACT(epoch FROM now()), SUBSTRING('abc' FROM 1 FOR 2)", R_SELECT},
	    {"SELECT TRIM(BOTH 'x' FROM 'xax'), POSITION('a' IN 'abc'), OVERLAY('ab' "
	     "PLACING 'x' FROM 1 FOR 1)",
	     R_SELECT},
	    {"SELECT CAST(a AS numeric(10,2)), a::varchar(10), '1'::timestamp(3) FROM t", R_SELECT},
	    {"SELECT CAST(x AS character varying(10)), interval '1' second(3)", R_SELECT},
	    {"SELECT interval '1' day to second(3), '1'::time(2) with time zone", R_SELECT},
	    {"SELECT x::mytype(3), CAST(y AS othertype(1, 2)) FROM t", R_SELECT},
	    {"SELECT x::float(24), x::bit(3), x::char(2), x::decimal(5,1) FROM t", R_SELECT},
	    {"SELECT ROW(1, 2), ARRAY[1, 2], ARRAY(SELECT 1), '{1,2}'::int[]", R_SELECT},
	    {"SELECT * FROM t WHERE x = ANY (ARRAY[1, 2]) AND y <> ALL (SELECT 1)", R_SELECT},
	    {"SELECT * FROM t WHERE x = SOME (SELECT 1) AND y BETWEEN (1) AND (2)", R_SELECT},
	    {"SELECT * FROM t WHERE a LIKE ('%x') AND b ILIKE ('y%')", R_SELECT},
	    {"SELECT (1, 2) OVERLAPS (3, 4)", R_SELECT},
	    {"SELECT a IS DISTINCT FROM b, a IS NOT DISTINCT FROM lower(b) FROM t", R_SELECT},
	    {"SELECT a OPERATOR(pg_catalog.+) b, OPERATOR(pg_catalog.-) c FROM t", R_SELECT},
	    {"SELECT data->>'a', data #> '{a,b}', x::int, y @> '{1}' FROM t", R_SELECT},
	    {"SELECT CASE WHEN a THEN lower(b) ELSE upper(c) END FROM t", R_SELECT},
	    {"SELECT xmlelement(name foo, xmlattributes(a AS b)), xmlforest(a) FROM t", R_SELECT},
	    {"SELECT left('abc', 1), right('abc', 2), current_schema(), version()", R_SELECT},
	    {"SELECT pg_catalog.lower('A'), pg_catalog.count(*) FROM t", R_SELECT},
	    {"SELECT \"lower\"('A')", R_SELECT},
	    {"SELECT pg_sleep(1), random(), clock_timestamp(), gen_random_uuid()", R_SELECT},
	    {"SELECT to_char(now(), 'YYYY'), date_trunc('day', now()), age(now())", R_SELECT},
	    {"SELECT jsonb_build_object('a', 1), json_agg(t), to_jsonb(t) FROM t", R_SELECT},
	    {"SELECT abs(-1), round(1.5), ceil(1.1), floor(1.9), sqrt(4), power(2, 3)", R_SELECT},
	    {"SELECT regexp_replace(a, 'x', 'y', 'g'), split_part(a, ',', 1) FROM t", R_SELECT},
	    {"SELECT has_table_privilege('t', 'select'), pg_size_pretty(pg_total_relation_size"
	     "('t'))",
	     R_SELECT},
	    {"SELECT current_setting('search_path'), current_database()", R_SELECT},
	    {"SELECT * FROM generate_series(1, 10) g(i)", R_SELECT},
	    {"SELECT * FROM generate_series(1, 10) AS g(i)", R_SELECT},
	    {"SELECT * FROM pg_catalog.generate_series(1, 3) WITH ORDINALITY AS g(v, n)", R_SELECT},
	    {"SELECT * FROM unnest(ARRAY[1, 2]) WITH ORDINALITY u(x, n)", R_SELECT},
	    {"SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(id, name)", R_SELECT},
	    {"SELECT * FROM (VALUES (1)) AS v (id)", R_SELECT},
	    {"SELECT * FROM (SELECT 1) s(a)", R_SELECT},
	    {"SELECT * FROM t x(a, b) JOIN u y(c) ON x.a = y.c", R_SELECT},
	    {"SELECT * FROM t AS x (a, b), u AS y (c)", R_SELECT},
	    {"SELECT * FROM (t1 JOIN t2 ON t1.id = t2.id) AS j(a, b, c)", R_SELECT},
	    {"SELECT * FROM ((SELECT 1) x(a) JOIN (SELECT 1) y(b) ON true)", R_SELECT},
	    {"SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[1])) AS x(a, b)",
	     R_SELECT},
	    {"SELECT * FROM json_to_record('{\"a\":1}') AS r(a int, b varchar(10))", R_SELECT},
	    {"SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (42)", R_SELECT},
	    {"SELECT * FROM t AS x TABLESAMPLE bernoulli (5)", R_SELECT},
	    {"SELECT * FROM t, LATERAL (SELECT t.a) l(b)", R_SELECT},
	    {"SELECT * FROM t LEFT JOIN LATERAL generate_series(1, t.n) AS g(i) ON true", R_SELECT},
	    {"SELECT * FROM ONLY t", R_SELECT},
	    {"SELECT * FROM t * x(a)", R_SELECT},
	    {"SELECT $1, $2::int FROM t WHERE a = $3", R_SELECT},
	    {"SELECT ro_fn(1)", R_SELECT},
	    {"SELECT myschema.ro_fn(a) FROM t", R_SELECT},
	    {"WITH x AS (SELECT 1) SELECT * FROM x", R_SELECT},
	    {"WITH x(a) AS (SELECT 1), y AS (SELECT 2) SELECT * FROM x, y", R_SELECT},
	    {"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) "
	     "SELECT * FROM t",
	     R_SELECT},
	    {"WITH x AS MATERIALIZED (SELECT 1), y AS NOT MATERIALIZED (SELECT 2) SELECT 1",
	     R_SELECT},
	    {"WITH RECURSIVE t(n) AS (SELECT 1) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t",
	     R_SELECT},
	    {"WITH RECURSIVE t(n) AS (SELECT 1) CYCLE n SET c USING p SELECT * FROM t", R_SELECT},
	    {"WITH x AS (SELECT 1) (SELECT * FROM x)", R_SELECT},
	    {"SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) q", R_SELECT},
	    {"VALUES (1, 2), (3, 4)", SC_READ, CR_VALUES, 0},
	    {"values (lower('A'))", SC_READ, CR_VALUES, 0},
	    {"TABLE t", SC_READ, CR_TABLE, 0},
	    {"TABLE ONLY s.t", SC_READ, CR_TABLE, 0},
	    {"SHOW search_path", SC_READ, CR_SHOW, 0},
	    {"SHOW ALL", SC_READ, CR_SHOW, 0},
	    {"show \"TimeZone\"", SC_READ, CR_SHOW, 0},
	};
	RUN(cases);
}

/* Reads that look like writes. */
Test(classify, look_alike_reads)
{
	static const Case cases[] = {
	    {"SELECT 'DELETE FROM t; DROP TABLE x'", R_SELECT},
	    {"SELECT 'INSERT', E'UPDATE', $$DELETE$$, $q$MERGE$q$", R_SELECT},
	    {"SELECT 1 -- DROP TABLE t", R_SELECT},
	    {"SELECT 1 /* DELETE FROM t */", R_SELECT},
	    {"/* DROP TABLE t; */ SELECT 1", R_SELECT},
	    {"-- DELETE FROM t;\nSELECT 1", R_SELECT},
	    {"SELECT update FROM t", R_SELECT},
	    {"SELECT delete, insert, merge FROM t", R_SELECT},
	    {"SELECT t.update, t.delete FROM t", R_SELECT},
	    {"SELECT \"update\", \"delete\" FROM t", R_SELECT},
	    {"SELECT a AS update, b AS delete FROM t", R_SELECT},
	    {"SELECT * FROM insert_log", R_SELECT},
	    {"SELECT * FROM update_history WHERE deleted_at IS NULL", R_SELECT},
	    {"SELECT * FROM t WHERE \"insert\" = 1 AND update = 2", R_SELECT},
	    {"SELECT x::update FROM t", R_SELECT},
	    {"WITH delete AS (SELECT 1) SELECT * FROM delete", R_SELECT},
	    {"WITH a AS (SELECT 1), update AS (SELECT 2) SELECT * FROM update", R_SELECT},
	    {"SELECT * FROM t ORDER BY update, delete", R_SELECT},
	    {"SELECT 'SELECT nextval(''s'')'", R_SELECT},
	    {"SELECT 'x' AS \"nextval(\"", R_SELECT},
	    {"SELECT nextval FROM t", R_SELECT},
	    {"SELECT t.nextval FROM t", R_SELECT},
	    {"SELECT * FROM t WHERE note = 'FOR UPDATE'", R_SELECT},
	    {"SELECT 'pg_stat_activity', 'INTO'", R_SELECT},
	    {"SELECT a FROM t -- FOR UPDATE", R_SELECT},
	    {"SELECT $body$ INSERT INTO t VALUES (1); $body$", R_SELECT},
	    {"SELECT 1 AS begin, 2 AS commit, 3 AS set", R_SELECT},
	    {"SELECT copy, lock, grant_id FROM t", R_SELECT},
	    {"SELECT \"INTO\" FROM t", R_SELECT},
	};
	RUN(cases);
}

/* ---- writes ----------------------------------------------------------------- */

Test(classify, statement_writes)
{
	static const Case cases[] = {
	    {"INSERT INTO t VALUES (1)", W_DML},
	    {"insert into t (a, b) select a, b from u", W_DML},
	    {"UPDATE t SET a = 1 WHERE id = 2", W_DML},
	    {"DELETE FROM t WHERE id = 1", W_DML},
	    {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1", W_DML},
	    {"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING RETURNING *", W_DML},
	    {"INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = excluded.a", W_DML},
	    {"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", W_DML},
	    {"WITH x AS (SELECT 1) UPDATE t SET a = 1", W_DML},
	    {"WITH x AS (SELECT 1) DELETE FROM t", W_DML},
	    {"WITH RECURSIVE t(n) AS (SELECT 1) CYCLE n SET c USING p DELETE FROM x", W_DML},
	    {"WITH RECURSIVE t(n) AS (SELECT 1) SEARCH BREADTH FIRST BY n SET o INSERT INTO "
	     "x SELECT 1",
	     W_DML},
	    {"CREATE TABLE t (a int)", SC_WRITE, CR_DDL, 0},
	    {"CREATE UNLOGGED TABLE t (a int)", SC_WRITE, CR_DDL, 0},
	    {"CREATE TABLE t AS SELECT * FROM u", SC_WRITE, CR_DDL, 0},
	    {"CREATE INDEX CONCURRENTLY ON t (a)", SC_WRITE, CR_DDL, 0},
	    {"CREATE OR REPLACE VIEW v AS SELECT 1", SC_WRITE, CR_DDL, 0},
	    {"CREATE MATERIALIZED VIEW m AS SELECT 1", SC_WRITE, CR_DDL, 0},
	    {"CREATE SEQUENCE s", SC_WRITE, CR_DDL, 0},
	    {"CREATE EXTENSION pgcrypto", SC_WRITE, CR_DDL, 0},
	    {"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", SC_WRITE, CR_DDL, 0},
	    {"ALTER TABLE t ADD COLUMN x int", SC_WRITE, CR_DDL, 0},
	    {"ALTER SYSTEM SET work_mem = '1MB'", SC_WRITE, CR_DDL, 0},
	    {"DROP TABLE IF EXISTS t CASCADE", SC_WRITE, CR_DDL, 0},
	    {"TRUNCATE t RESTART IDENTITY", SC_WRITE, CR_DDL, 0},
	    {"COMMENT ON TABLE t IS 'x'", SC_WRITE, CR_DDL, 0},
	    {"SECURITY LABEL ON TABLE t IS 'x'", SC_WRITE, CR_DDL, 0},
	    {"IMPORT FOREIGN SCHEMA x FROM SERVER s INTO y", SC_WRITE, CR_DDL, 0},
	    {"REASSIGN OWNED BY a TO b", SC_WRITE, CR_DDL, 0},
	    {"GRANT SELECT ON t TO u", SC_WRITE, CR_GRANT, 0},
	    {"REVOKE ALL ON t FROM u", SC_WRITE, CR_GRANT, 0},
	    {"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO u", SC_WRITE, CR_GRANT, 0},
	    {"CALL p(1)", SC_WRITE, CR_CALL, 0},
	    {"DO $$BEGIN PERFORM 1; END$$", SC_WRITE, CR_DO, 0},
	    {"DO LANGUAGE plpgsql 'BEGIN NULL; END'", SC_WRITE, CR_DO, 0},
	    {"LOCK TABLE t IN ACCESS SHARE MODE", SC_WRITE, CR_LOCK, 0},
	    {"LOCK t", SC_WRITE, CR_LOCK, 0},
	    {"NOTIFY chan, 'x'", SC_WRITE, CR_NOTIFY, 0},
	    {"VACUUM", SC_WRITE, CR_MAINTENANCE, 0},
	    {"VACUUM (VERBOSE, ANALYZE) t", SC_WRITE, CR_MAINTENANCE, 0},
	    {"ANALYZE t", SC_WRITE, CR_MAINTENANCE, 0},
	    {"ANALYSE", SC_WRITE, CR_MAINTENANCE, 0},
	    {"CLUSTER t USING i", SC_WRITE, CR_MAINTENANCE, 0},
	    {"REINDEX TABLE t", SC_WRITE, CR_MAINTENANCE, 0},
	    {"REFRESH MATERIALIZED VIEW CONCURRENTLY v", SC_WRITE, CR_MAINTENANCE, 0},
	    {"CHECKPOINT", SC_WRITE, CR_MAINTENANCE, 0},
	    {"EXECUTE q(1)", SC_WRITE, CR_EXECUTE, 0},
	    {"FOO BAR", SC_WRITE, CR_UNKNOWN, 0},
	    {"START", SC_WRITE, CR_UNKNOWN, 0},
	    {"42", SC_WRITE, CR_UNKNOWN, 0},
	    {"'SELECT 1'", SC_WRITE, CR_UNKNOWN, 0},
	    {"\"select\" 1", SC_WRITE, CR_UNKNOWN, 0},
	};
	RUN(cases);
}

Test(classify, writes_inside_queries)
{
	static const Case cases[] = {
	    {"SELECT * FROM t FOR UPDATE", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT * FROM t FOR NO KEY UPDATE NOWAIT", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT * FROM t FOR SHARE OF t SKIP LOCKED", SC_WRITE, CR_LOCKING_READ, 0},
	    {"select * from t for key share", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE)", SC_WRITE, CR_LOCKING_READ,
	     0},
	    {"TABLE t FOR UPDATE", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT * INTO t2 FROM t", SC_WRITE, CR_SELECT_INTO, 0},
	    {"SELECT * INTO UNLOGGED t2 FROM t", SC_WRITE, CR_SELECT_INTO, 0},
	    {"SELECT a INTO TABLE t2 FROM t", SC_WRITE, CR_SELECT_INTO, 0},
	    {"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", SC_WRITE, CR_MODIFYING_CTE,
	     0},
	    {"WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    {"WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT 1", SC_WRITE, CR_MODIFYING_CTE, 0},
	    {"WITH x AS MATERIALIZED (DELETE FROM t RETURNING 1) SELECT 1", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    {"WITH x(a) AS NOT MATERIALIZED (UPDATE t SET a = 1 RETURNING 1) SELECT 1", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    {"WITH x AS (SELECT 1), y AS MATERIALIZED (INSERT INTO t VALUES (1) RETURNING 1) "
	     "SELECT 1",
	     SC_WRITE, CR_MODIFYING_CTE, 0},
	    {"WITH a AS (SELECT 1), b AS (DELETE FROM t RETURNING 1) SELECT 1", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    {"WITH a(x) AS (MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE RETURNING 1) "
	     "SELECT 1",
	     SC_WRITE, CR_MODIFYING_CTE, 0},
	    {"WITH a AS (WITH b AS (SELECT 1) DELETE FROM t RETURNING 1) SELECT 1", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    {"SELECT * FROM (WITH x AS (DELETE FROM t RETURNING 1) SELECT 1) q", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    {"WITH /* c */ x AS ( -- c\n DELETE FROM t RETURNING 1) SELECT 1", SC_WRITE,
	     CR_MODIFYING_CTE, 0},
	    /* a SEARCH / CYCLE clause ending in a column named key or by */
	    {"WITH RECURSIVE r(n) AS (SELECT 1) SEARCH DEPTH FIRST BY n SET key UPDATE t SET "
	     "a = 1",
	     W_DML},
	    {"WITH RECURSIVE r(n) AS (SELECT 1) SEARCH DEPTH FIRST BY n, m SET by UPDATE t SET "
	     "a = 1",
	     W_DML},
	    {"WITH RECURSIVE r(n) AS (SELECT 1) CYCLE n, m SET c USING key DELETE FROM t", W_DML},
	    {"WITH RECURSIVE r(n) AS (SELECT 1) CYCLE n SET c TO 'y' DEFAULT 'n' USING p, q AS "
	     "(DELETE FROM t RETURNING 1) SELECT 1",
	     SC_WRITE, CR_MODIFYING_CTE, 0},
	    {"WITH RECURSIVE r(n) AS (SELECT 1) SEARCH DEPTH FIRST BY n, m SET o, q(a) AS "
	     "(SELECT 2) SELECT * FROM r, q",
	     R_SELECT},
	    /* bare aliases the walker cannot tell from a statement: fail safe */
	    {"SELECT (a) delete FROM t", SC_WRITE, CR_DML, 0},
	    {"SELECT * FROM t WHERE a = (delete)", SC_WRITE, CR_MODIFYING_CTE, 0},
	};
	RUN(cases);
}

/* ---- functions -------------------------------------------------------------- */

Test(classify, functions)
{
	static const Case cases[] = {
	    {"SELECT nextval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT NEXTVAL('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_catalog.nextval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT \"nextval\"('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT myschema.nextval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT setval('s', 1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT currval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT lastval()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT id, nextval('s') FROM t", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM t WHERE a = (SELECT nextval('s'))", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM t WHERE a IN (SELECT lower(x) FROM u WHERE y = setval('s', 1))",
	     SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT coalesce(a, nextval('s')) FROM t", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT CAST(nextval('s') AS text)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT DISTINCT ON (a) nextval('s') FROM t", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM generate_series(1, 3) g(i), nextval('s') n(v)", SC_WRITE,
	     CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM t JOIN u ON t.a = u.b AND nextval('s') > 0", SC_WRITE,
	     CR_WRITE_FUNCTION, 0},
	    {"SELECT a OPERATOR(pg_catalog.=) nextval('s') FROM t", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT x FROM t ORDER BY nextval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_advisory_xact_lock(1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_try_advisory_xact_lock_shared(1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT lo_import('/tmp/x')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT lo_unlink(1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT loread(0, 1), lowrite(0, 'x')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_notify('c', 'x')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT txid_current()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_current_xact_id()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_terminate_backend(1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_cancel_backend(1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_reload_conf()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_rotate_logfile()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_switch_wal()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_promote()", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_create_physical_replication_slot('x')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM pg_create_logical_replication_slot('x', 'test_decoding')", SC_WRITE,
	     CR_WRITE_FUNCTION, 0},
	    {"SELECT pg_drop_replication_slot('x')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM pg_logical_slot_get_changes('x', NULL, NULL)", SC_WRITE,
	     CR_WRITE_FUNCTION, 0},
	    {"SELECT * FROM dblink('c', 'select 1') AS t(a int)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT dblink_exec('c', 'delete from t')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT set_config('a.b', 'c', true)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT set_config('a.b', 'c', false)", SC_PIN, CR_SESSION_FUNCTION, 0},
	    {"SELECT set_config('a.b', 'c', $1)", SC_PIN, CR_SESSION_FUNCTION, 0},
	    {"SELECT set_config('a.b', 'c', (true))", SC_PIN, CR_SESSION_FUNCTION, 0},
	    {"SELECT setseed(0.5)", SC_PIN, CR_SESSION_FUNCTION, 0},
	    {"SELECT pg_advisory_lock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT pg_advisory_lock_shared(1, 2)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT pg_try_advisory_lock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT pg_advisory_unlock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT pg_advisory_unlock_all()", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT nextval('s'), pg_advisory_lock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT pg_advisory_lock(1), nextval('s')", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT * FROM t FOR UPDATE, pg_advisory_lock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"SELECT wr_fn(1)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT ro_fn(1), wr_fn(2)", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"SELECT my_func(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT public.lower('A')", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT \"LOWER\"('a')", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT \"Pg_Catalog\".lower('a')", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT \"we\"\"ird\"(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT U&\"\\006Eextval\"('s')", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT * FROM t WHERE f(x)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT * FROM my_srf(1) AS x(a)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT count(*) FILTER (x) FROM t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT DISTINCT ON (a) filter(x) FROM t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT DISTINCT ON (a) over(x) FROM t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT a OPERATOR(my_func(1)) b FROM t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT NOT materialized(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT cube(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT like(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT join(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT by(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT * FROM t FETCH FIRST by(1) ROWS ONLY", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT a SIMILAR TO second('x') FROM t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT f(update) FROM t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT lower(update) FROM t", R_SELECT},
	    {"SELECT query_to_xml('delete from t', true, true, '')", SC_WRITE, CR_UNKNOWN_FUNCTION,
	     0},
	};
	RUN(cases);
}

Test(classify, functions_without_lookup)
{
	static const Case cases[] = {
	    {"SELECT ro_fn(1)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT lower('A')", R_SELECT},
	    {"SELECT nextval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	};

	run_cases(cases, ARRAY_SIZE(cases), NULL);
}

Test(classify, master_stats)
{
	static const Case cases[] = {
	    {"SELECT * FROM pg_stat_activity", SC_WRITE, CR_MASTER_STATS, 0},
	    {"select count(*) from PG_STAT_ACTIVITY where state = 'active'", SC_WRITE,
	     CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_catalog.pg_stat_user_tables", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM \"pg_stat_replication\"", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_statio_user_indexes", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_stat_statements", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_locks", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_prepared_xacts", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_replication_slots", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM t WHERE pid IN (SELECT pid FROM pg_locks)", SC_WRITE, CR_MASTER_STATS,
	     0},
	    {"SELECT pg_stat_get_backend_pid(1)", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT pg_stat_reset()", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT pg_backend_pid()", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT pg_is_in_recovery()", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT pg_current_wal_lsn()", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT txid_current_snapshot()", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SHOW transaction_read_only", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SHOW in_hot_standby", SC_WRITE, CR_MASTER_STATS, 0},
	    {"COPY pg_locks TO STDOUT", SC_WRITE, CR_MASTER_STATS, 0},
	    {"SELECT * FROM pg_temp.t", SC_WRITE, CR_TEMP, 0},
	    {"SELECT * FROM pg_temp_3.t", SC_WRITE, CR_TEMP, 0},
	    {"SELECT * FROM U&\"pg_st\\0061t_activity\"", SC_WRITE, CR_UNKNOWN, 0},
	    {"SELECT * FROM pg_class", R_SELECT},
	    {"SELECT * FROM pg_temporary_stuff", R_SELECT},
	};
	RUN(cases);
}

/* ---- transactions, sessions, pins ------------------------------------------- */

Test(classify, transaction_control)
{
	static const Case cases[] = {
	    {"BEGIN", SC_BEGIN, CR_TXN_CONTROL, 0},
	    {"begin work", SC_BEGIN, CR_TXN_CONTROL, 0},
	    {"BEGIN TRANSACTION READ ONLY", SC_BEGIN, CR_TXN_CONTROL, SF_READ_ONLY},
	    {"BEGIN READ WRITE", SC_BEGIN, CR_TXN_CONTROL, SF_READ_WRITE},
	    {"BEGIN ISOLATION LEVEL SERIALIZABLE", SC_BEGIN, CR_TXN_CONTROL, SF_SERIALIZABLE},
	    {"BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE", SC_BEGIN, CR_TXN_CONTROL,
	     SF_SERIALIZABLE | SF_READ_ONLY | SF_DEFERRABLE},
	    {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", SC_BEGIN, CR_TXN_CONTROL,
	     SF_REPEATABLE_READ | SF_READ_ONLY},
	    {"BEGIN ISOLATION LEVEL READ COMMITTED NOT DEFERRABLE", SC_BEGIN, CR_TXN_CONTROL, 0},
	    {"BEGIN ISOLATION LEVEL READ UNCOMMITTED", SC_BEGIN, CR_TXN_CONTROL, 0},
	    {"START TRANSACTION", SC_BEGIN, CR_TXN_CONTROL, 0},
	    {"START TRANSACTION READ ONLY", SC_BEGIN, CR_TXN_CONTROL, SF_READ_ONLY},
	    {"start transaction isolation level serializable", SC_BEGIN, CR_TXN_CONTROL,
	     SF_SERIALIZABLE},
	    {"COMMIT", SC_END, CR_TXN_CONTROL, 0},
	    {"COMMIT WORK", SC_END, CR_TXN_CONTROL, 0},
	    {"COMMIT AND CHAIN", SC_END, CR_TXN_CONTROL, SF_CHAIN},
	    {"COMMIT AND NO CHAIN", SC_END, CR_TXN_CONTROL, 0},
	    {"END", SC_END, CR_TXN_CONTROL, 0},
	    {"END TRANSACTION AND CHAIN", SC_END, CR_TXN_CONTROL, SF_CHAIN},
	    {"ROLLBACK", SC_END, CR_TXN_CONTROL, SF_ROLLBACK},
	    {"ROLLBACK AND CHAIN", SC_END, CR_TXN_CONTROL, SF_ROLLBACK | SF_CHAIN},
	    {"ABORT", SC_END, CR_TXN_CONTROL, SF_ROLLBACK},
	    {"ABORT WORK", SC_END, CR_TXN_CONTROL, SF_ROLLBACK},
	    {"ROLLBACK TO SAVEPOINT a", SC_TXN, CR_TXN_CONTROL, 0},
	    {"ROLLBACK WORK TO a", SC_TXN, CR_TXN_CONTROL, 0},
	    {"SAVEPOINT a", SC_TXN, CR_TXN_CONTROL, 0},
	    {"RELEASE SAVEPOINT a", SC_TXN, CR_TXN_CONTROL, 0},
	    {"RELEASE a", SC_TXN, CR_TXN_CONTROL, 0},
	    {"PREPARE TRANSACTION 'x'", SC_WRITE, CR_TWO_PHASE, 0},
	    {"COMMIT PREPARED 'x'", SC_WRITE, CR_TWO_PHASE, 0},
	    {"ROLLBACK PREPARED 'x'", SC_WRITE, CR_TWO_PHASE, 0},
	    {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", SC_SET_TXN, CR_TXN_CONTROL,
	     SF_SERIALIZABLE},
	    {"SET TRANSACTION READ ONLY", SC_SET_TXN, CR_TXN_CONTROL, SF_READ_ONLY},
	    {"SET TRANSACTION READ WRITE", SC_SET_TXN, CR_TXN_CONTROL, SF_READ_WRITE},
	    {"SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", SC_SET_TXN, CR_TXN_CONTROL, 0},
	    {"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", SC_SET_TXN, CR_TXN_CONTROL,
	     SF_SESSION_CHARS | SF_READ_ONLY},
	    {"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	     SC_SET_TXN, CR_TXN_CONTROL, SF_SESSION_CHARS | SF_REPEATABLE_READ},
	    {"SET CONSTRAINTS ALL DEFERRED", SC_SET_TXN, CR_TXN_CONTROL, 0},
	    {"SET transaction_read_only = on", SC_SET_TXN, CR_SET, SF_READ_ONLY},
	    {"SET transaction_isolation = 'serializable'", SC_SET_TXN, CR_SET, SF_SERIALIZABLE},
	    {"FETCH 10 FROM c", SC_TXN, CR_FETCH, 0},
	    {"FETCH ALL c", SC_TXN, CR_FETCH, 0},
	    {"MOVE NEXT IN c", SC_TXN, CR_FETCH, 0},
	    {"CLOSE c", SC_TXN, CR_FETCH, 0},
	    {"CLOSE ALL", SC_TXN, CR_FETCH, 0},
	};
	RUN(cases);
}

Test(classify, session_state)
{
	static const Case cases[] = {
	    {"SET search_path TO public, x", SC_SESSION, CR_SET, 0},
	    {"SET search_path = 'a'", SC_SESSION, CR_SET, 0},
	    {"set SESSION statement_timeout = 0", SC_SESSION, CR_SET, 0},
	    {"SET LOCAL statement_timeout = '5s'", SC_SESSION, CR_SET, SF_SET_LOCAL},
	    {"SET TIME ZONE 'UTC'", SC_SESSION, CR_SET, 0},
	    {"SET LOCAL TIME ZONE 'UTC'", SC_SESSION, CR_SET, SF_SET_LOCAL},
	    {"SET ROLE admin", SC_SESSION, CR_SET, 0},
	    {"SET SESSION ROLE admin", SC_SESSION, CR_SET, 0},
	    {"SET SESSION AUTHORIZATION bob", SC_SESSION, CR_SET, 0},
	    {"SET NAMES 'UTF8'", SC_SESSION, CR_SET, 0},
	    {"SET SCHEMA 'x'", SC_SESSION, CR_SET, 0},
	    {"SET XML OPTION DOCUMENT", SC_SESSION, CR_SET, 0},
	    {"SET myapp.user_id = 42", SC_SESSION, CR_SET, 0},
	    {"SET \"MixedCase\" = 1", SC_SESSION, CR_SET, 0},
	    {"SET default_transaction_read_only = on", SC_SESSION, CR_SET, SF_READ_ONLY},
	    {"SET default_transaction_read_only TO 'true'", SC_SESSION, CR_SET, SF_READ_ONLY},
	    {"SET default_transaction_read_only = off", SC_SESSION, CR_SET, SF_READ_WRITE},
	    {"SET default_transaction_read_only = 0", SC_SESSION, CR_SET, SF_READ_WRITE},
	    {"SET default_transaction_read_only = DEFAULT", SC_SESSION, CR_SET, 0},
	    {"SET DEFAULT_TRANSACTION_READ_ONLY = ON", SC_SESSION, CR_SET, SF_READ_ONLY},
	    {"SET LOCAL default_transaction_read_only = on", SC_SESSION, CR_SET,
	     SF_SET_LOCAL | SF_READ_ONLY},
	    {"SET default_transaction_isolation = 'serializable'", SC_SESSION, CR_SET,
	     SF_SERIALIZABLE},
	    {"SET default_transaction_isolation TO serializable", SC_SESSION, CR_SET,
	     SF_SERIALIZABLE},
	    {"SET default_transaction_isolation = 'repeatable read'", SC_SESSION, CR_SET,
	     SF_REPEATABLE_READ},
	    {"SET default_transaction_isolation = 'read committed'", SC_SESSION, CR_SET, 0},
	    {"SET default_transaction_deferrable = on", SC_SESSION, CR_SET, SF_DEFERRABLE},
	    {"RESET ALL", SC_SESSION, CR_SET, 0},
	    {"RESET search_path", SC_SESSION, CR_SET, 0},
	    {"RESET TIME ZONE", SC_SESSION, CR_SET, 0},
	    {"RESET SESSION AUTHORIZATION", SC_SESSION, CR_SET, 0},
	    {"RESET ROLE", SC_SESSION, CR_SET, 0},
	    {"DISCARD ALL", SC_SESSION, CR_DISCARD, 0},
	    {"DISCARD PLANS", SC_SESSION, CR_DISCARD, 0},
	    {"DISCARD SEQUENCES", SC_SESSION, CR_DISCARD, 0},
	    {"DISCARD TEMP", SC_SESSION, CR_DISCARD, 0},
	    {"SET", SC_WRITE, CR_UNKNOWN, 0},
	    {"SET 'x' = 1", SC_WRITE, CR_UNKNOWN, 0},
	};
	RUN(cases);
}

Test(classify, pins)
{
	static const Case cases[] = {
	    {"CREATE TEMP TABLE t (a int)", SC_PIN, CR_TEMP, 0},
	    {"CREATE TEMPORARY TABLE t AS SELECT 1", SC_PIN, CR_TEMP, 0},
	    {"CREATE GLOBAL TEMPORARY TABLE t (a int)", SC_PIN, CR_TEMP, 0},
	    {"CREATE LOCAL TEMP TABLE t (a int)", SC_PIN, CR_TEMP, 0},
	    {"CREATE TEMP VIEW v AS SELECT 1", SC_PIN, CR_TEMP, 0},
	    {"CREATE OR REPLACE TEMP VIEW v AS SELECT 1", SC_PIN, CR_TEMP, 0},
	    {"CREATE TEMP SEQUENCE s", SC_PIN, CR_TEMP, 0},
	    {"create temporary recursive view v(n) as select 1", SC_PIN, CR_TEMP, 0},
	    {"CREATE TABLE pg_temp.t (a int)", SC_PIN, CR_TEMP, 0},
	    {"CREATE VIEW pg_temp.v AS SELECT 1", SC_PIN, CR_TEMP, 0},
	    {"CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'select 1'", SC_PIN, CR_TEMP,
	     0},
	    {"SELECT * INTO TEMP t2 FROM t", SC_PIN, CR_TEMP, 0},
	    {"SELECT * INTO TEMPORARY TABLE t2 FROM t", SC_PIN, CR_TEMP, 0},
	    {"SELECT * INTO LOCAL TEMP t2 FROM t", SC_PIN, CR_TEMP, 0},
	    {"SELECT * INTO pg_temp.t2 FROM t", SC_PIN, CR_TEMP, 0},
	    {"LISTEN chan", SC_PIN, CR_LISTEN, 0},
	    {"UNLISTEN chan", SC_PIN, CR_LISTEN, 0},
	    {"UNLISTEN *", SC_PIN, CR_LISTEN, 0},
	    {"DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t", SC_PIN, CR_HOLD_CURSOR, 0},
	    {"DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1", SC_PIN, CR_HOLD_CURSOR, 0},
	    {"PREPARE q(int) AS SELECT $1", SC_PIN, CR_PREPARE, 0},
	    {"PREPARE q AS DELETE FROM t", SC_PIN, CR_PREPARE, 0},
	    {"DEALLOCATE q", SC_PIN, CR_PREPARE, 0},
	    {"DEALLOCATE PREPARE ALL", SC_PIN, CR_PREPARE, 0},
	    {"LOAD 'auto_explain'", SC_PIN, CR_LOAD, 0},
	    {"INSERT INTO t SELECT pg_advisory_lock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"UPDATE t SET a = pg_try_advisory_lock(id)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"CALL p(set_config('a.b', 'c', false))", SC_PIN, CR_SESSION_FUNCTION, 0},
	    {"INSERT INTO temp_log VALUES (1)", W_DML},
	};
	RUN(cases);
}

/* ---- EXPLAIN, COPY, DECLARE ------------------------------------------------- */

Test(classify, explain_copy_declare)
{
	static const Case cases[] = {
	    {"EXPLAIN SELECT * FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN ANALYZE SELECT * FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN ANALYZE VERBOSE SELECT * FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN VERBOSE VALUES (1)", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN (FORMAT JSON, COSTS off) SELECT 1", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN DELETE FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN UPDATE t SET a = 1", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN SELECT * FROM t FOR UPDATE", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN SELECT nextval('s')", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN (ANALYZE false) DELETE FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN (ANALYZE off, BUFFERS) DELETE FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN (ANALYZE 'no') DELETE FROM t", SC_READ, CR_EXPLAIN, 0},
	    {"EXPLAIN ANALYZE DELETE FROM t", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"explain analyse insert into t values (1)", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN (ANALYZE) UPDATE t SET a = 1", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN (BUFFERS, ANALYZE true) DELETE FROM t", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN (ANALYZE on) DELETE FROM t", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN (ANALYZE 1) DELETE FROM t", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN (ANALYZE maybe) DELETE FROM t", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN ANALYZE SELECT nextval('s')", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN ANALYZE SELECT * FROM t FOR UPDATE", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN ANALYZE WITH x AS (DELETE FROM t RETURNING 1) SELECT * FROM x", SC_WRITE,
	     CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1", SC_WRITE, CR_EXPLAIN_ANALYZE, 0},
	    {"EXPLAIN ANALYZE SELECT pg_advisory_lock(1)", SC_PIN, CR_ADVISORY_LOCK, 0},
	    {"EXPLAIN EXECUTE q", SC_WRITE, CR_EXECUTE, 0},
	    {"EXPLAIN SELECT * FROM pg_temp.t", SC_WRITE, CR_TEMP, 0},
	    {"EXPLAIN SELECT my_func(1), * FROM pg_temp.t", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"EXPLAIN SELECT nextval('s') FROM U&\"t\"", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"EXPLAIN SELECT 1 INTO t2", SC_WRITE, CR_SELECT_INTO, 0},
	    {"EXPLAIN CREATE TABLE x AS SELECT 1", SC_WRITE, CR_DDL, 0},
	    {"EXPLAIN", SC_WRITE, CR_UNKNOWN, 0},
	    {"EXPLAIN (ANALYZE", SC_WRITE, CR_UNKNOWN, 0},
	    {"EXPLAIN BEGIN", SC_WRITE, CR_UNKNOWN, 0},
	    {"EXPLAIN EXPLAIN EXPLAIN EXPLAIN EXPLAIN SELECT 1", SC_WRITE, CR_TOO_COMPLEX, 0},
	    {"COPY t TO STDOUT", SC_READ, CR_COPY_TO, 0},
	    {"copy t (a, b) to stdout with (format csv, header)", SC_READ, CR_COPY_TO, 0},
	    {"COPY BINARY t TO STDOUT", SC_READ, CR_COPY_TO, 0},
	    {"COPY s.\"T\" TO STDOUT", SC_READ, CR_COPY_TO, 0},
	    {"COPY (SELECT * FROM t WHERE a > 1) TO STDOUT", SC_READ, CR_COPY_TO, 0},
	    {"COPY (SELECT lower(a) FROM t) TO STDOUT (FORMAT csv)", SC_READ, CR_COPY_TO, 0},
	    {"COPY t FROM STDIN", SC_WRITE, CR_COPY_FROM, 0},
	    {"COPY t (a) FROM '/tmp/x' WITH (FORMAT csv)", SC_WRITE, CR_COPY_FROM, 0},
	    {"COPY t FROM PROGRAM 'cat x'", SC_WRITE, CR_COPY_FROM, 0},
	    {"COPY t TO '/tmp/x'", SC_WRITE, CR_COPY_FILE, 0},
	    {"COPY t TO PROGRAM 'gzip > /tmp/x'", SC_WRITE, CR_COPY_FILE, 0},
	    {"COPY (SELECT 1) TO '/tmp/x'", SC_WRITE, CR_COPY_FILE, 0},
	    {"COPY (DELETE FROM t RETURNING *) TO STDOUT", SC_WRITE, CR_DML, 0},
	    {"COPY (SELECT nextval('s')) TO STDOUT", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"COPY (SELECT * FROM t FOR UPDATE) TO STDOUT", SC_WRITE, CR_LOCKING_READ, 0},
	    {"COPY (SELECT 1", SC_WRITE, CR_UNKNOWN, 0},
	    {"COPY (SELECT 1) FROM STDIN", SC_WRITE, CR_UNKNOWN, 0},
	    {"COPY", SC_WRITE, CR_UNKNOWN, 0},
	    {"DECLARE c CURSOR FOR SELECT * FROM t", SC_READ, CR_DECLARE, 0},
	    {"DECLARE c BINARY INSENSITIVE NO SCROLL CURSOR WITHOUT HOLD FOR SELECT 1", SC_READ,
	     CR_DECLARE, 0},
	    {"DECLARE c SCROLL CURSOR FOR VALUES (1)", SC_READ, CR_DECLARE, 0},
	    {"DECLARE c CURSOR FOR WITH x AS (SELECT 1) SELECT * FROM x", SC_READ, CR_DECLARE, 0},
	    {"DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE", SC_WRITE, CR_LOCKING_READ, 0},
	    {"DECLARE c CURSOR FOR SELECT nextval('s')", SC_WRITE, CR_WRITE_FUNCTION, 0},
	    {"DECLARE c CURSOR FOR DELETE FROM t", SC_WRITE, CR_UNKNOWN, 0},
	    {"DECLARE c CURSOR", SC_WRITE, CR_UNKNOWN, 0},
	};
	RUN(cases);
}

/* ---- hints and multi-statement texts ------------------------------------------ */

Test(classify, hints)
{
	static const Case cases[] = {
	    {"/* pgrelay:primary */ SELECT 1", SC_READ, CR_SELECT, SF_HINT_MASTER},
	    {"/* pgrelay:master */ SELECT 1", SC_READ, CR_SELECT, SF_HINT_MASTER},
	    {"/*pgrelay:replica*/SELECT 1", SC_READ, CR_SELECT, SF_HINT_REPLICA},
	    {"/* PGRELAY:Replica */ SELECT 1", SC_READ, CR_SELECT, SF_HINT_REPLICA},
	    {"-- pgrelay:primary\nSELECT 1", SC_READ, CR_SELECT, SF_HINT_MASTER},
	    {"/* app=x, pgrelay:replica, user=y */ SELECT 1", SC_READ, CR_SELECT, SF_HINT_REPLICA},
	    {"/* a */ /* pgrelay:replica */ SELECT 1", SC_READ, CR_SELECT, SF_HINT_REPLICA},
	    /* a replica hint never turns a non-read into a read */
	    {"/* pgrelay:replica */ DELETE FROM t", SC_WRITE, CR_DML, SF_HINT_REPLICA},
	    {"/* pgrelay:replica */ SELECT nextval('s')", SC_WRITE, CR_WRITE_FUNCTION,
	     SF_HINT_REPLICA},
	    {"/* pgrelay:primary */ BEGIN", SC_BEGIN, CR_TXN_CONTROL, SF_HINT_MASTER},
	    /* only leading comments count */
	    {"SELECT /* pgrelay:primary */ 1", R_SELECT},
	    {"SELECT 1 -- pgrelay:replica", R_SELECT},
	    {"SELECT 'pgrelay:primary'", R_SELECT},
	    {"/* pgrelay:primaryx */ SELECT 1", R_SELECT},
	    {"/* pgrelay:other */ SELECT 1", R_SELECT},
	    {"/* pgrelay: replica */ SELECT 1", R_SELECT},
	    {"SELECT 1; /* pgrelay:primary */ SELECT 2", SC_READ, CR_SELECT,
	     SF_MULTI | SF_HINT_MASTER},
	    {"/* pgrelay:replica */", SC_EMPTY, CR_EMPTY, SF_HINT_REPLICA},
	};
	RUN(cases);
}

Test(classify, multi_statement)
{
	static const Case cases[] = {
	    {"SELECT 1; SELECT 2", SC_READ, CR_SELECT, SF_MULTI},
	    {"SELECT 1; VALUES (2); TABLE t; SHOW x", SC_READ, CR_SELECT, SF_MULTI},
	    {"SELECT 1; DELETE FROM t", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT 1;DELETE FROM t;", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT 1; /* c */ DELETE FROM t", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT 1; SELECT nextval('s'); SELECT 3", SC_WRITE, CR_WRITE_FUNCTION, SF_MULTI},
	    {"BEGIN; SELECT 1; COMMIT", SC_BEGIN, CR_TXN_CONTROL, SF_MULTI},
	    {"SELECT 1; BEGIN READ ONLY; SELECT 2; COMMIT", SC_BEGIN, CR_TXN_CONTROL,
	     SF_MULTI | SF_READ_ONLY},
	    {"SET search_path = a; SELECT 1", SC_SESSION, CR_SET, SF_MULTI},
	    {"INSERT INTO t VALUES (1); LISTEN x", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT 1; SELECT 'x", SC_WRITE, CR_MALFORMED, SF_TRUNCATED | SF_MULTI},
	    {"BEGIN; SELECT 1 /* x", SC_WRITE, CR_MALFORMED, SF_TRUNCATED | SF_MULTI},
	    {";;SELECT 1;;", R_SELECT},
	    {"; ; ;", SC_EMPTY, CR_EMPTY, 0},
	    {"", SC_EMPTY, CR_EMPTY, 0},
	    {"   \n\t ", SC_EMPTY, CR_EMPTY, 0},
	    {"-- nothing", SC_EMPTY, CR_EMPTY, 0},
	    {"/* nothing */ ; -- more", SC_EMPTY, CR_EMPTY, 0},
	    {"SELECT 'a;b'; SELECT \"c;d\"; SELECT $$e;f$$", SC_READ, CR_SELECT, SF_MULTI},
	    {"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; "
	     "END; SELECT 3",
	     SC_WRITE, CR_DDL, SF_MULTI},
	};
	RUN(cases);
}

Test(classify, multi_statement_derived_flags)
{
	StmtInfo si = classify("INSERT INTO t VALUES (1); LISTEN x; SET a = 1");

	cr_expect_eq(si.cls, SC_WRITE);
	cr_expect_eq(si.nstmts, 3);
	cr_expect(si.flags & SF_HAS_PIN);
	cr_expect(si.flags & SF_HAS_SESSION);
	cr_expect(si.flags & SF_MULTI);
	si = classify("SELECT 1; SELECT 2");
	cr_expect_eq(si.flags & DERIVED, 0);
	si = classify("LISTEN x");
	cr_expect_eq(si.flags & DERIVED, SF_HAS_PIN);
	si = classify("RESET ALL");
	cr_expect_eq(si.flags & DERIVED, SF_HAS_SESSION);
}

/* ---- lexer corner cases ----------------------------------------------------- */

Test(classify, lexer)
{
	static const Case cases[] = {
	    {"SELECT 1 /* nested /* DELETE */ still comment */ + 2", R_SELECT},
	    {"SELECT 1 /* a /* b /* c */ */ */", R_SELECT},
	    {"SELECT 1 /**/", R_SELECT},
	    {"SELECT 1 /*/ still */", R_SELECT},
	    {"SELECT 1 /* *** **/", R_SELECT},
	    {"SELECT 1 --", R_SELECT},
	    {"SELECT 1 -- no newline at the end", R_SELECT},
	    {"SELECT 1 --\rDELETE FROM t", R_SELECT}, /* SELECT 1 AS delete FROM t */
	    {"SELECT 1 --\rFOR UPDATE", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT 1 -- c\nFOR UPDATE", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT 1 */* c */ 2", R_SELECT},
	    {"SELECT 2 *-- c\n 3", R_SELECT},
	    {"SELECT 'a;b'", R_SELECT},
	    {"SELECT 'it''s'; DELETE FROM t", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT 'it''s; DELETE FROM t'", R_SELECT},
	    {"SELECT ''''", R_SELECT},
	    {"SELECT 'a' 'b'", R_SELECT},
	    {"SELECT 'a'\n'b'", R_SELECT},
	    {"SELECT E'\\' ; DELETE FROM t; --'", R_SELECT},
	    {"SELECT e'\\\\'; DELETE FROM t", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT E'a''b\\n'", R_SELECT},
	    {"SELECT E'\\'", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT N'x', B'1010', X'1F', b'1''0'", R_SELECT},
	    {"SELECT $$ ; DELETE FROM t $$", R_SELECT},
	    {"SELECT $$$$", R_SELECT},
	    {"SELECT $a$ $$ ; $b$ $A$ $a$", R_SELECT},
	    {"SELECT $tag$ it's $x $ta $tag $tag$", R_SELECT},
	    {"SELECT $_1$ a $_1$", R_SELECT},
	    {"SELECT $tag$ unterminated", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT $$ unterminated $", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT a$b, c$$ FROM t", R_SELECT},
	    {"SELECT a$$ FROM t; DELETE FROM t", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT $1, $12", R_SELECT},
	    {"SELECT \"quoted \"\"ident\"\"\" FROM t", R_SELECT},
	    {"SELECT \"a;b\" FROM \"t;u\"", R_SELECT},
	    {"SELECT \"unterminated", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT U&'d\\0061t\\+000061'", R_SELECT},
	    {"SELECT U&'d!0061t!+000061' UESCAPE '!'", R_SELECT},
	    {"SELECT u&'\\0041' ; DELETE FROM t", SC_WRITE, CR_DML, SF_MULTI},
	    {"SELECT U&\"d\\0061t\\+000061\" FROM t", SC_WRITE, CR_UNKNOWN, 0},
	    {"SELECT U & 'x'", R_SELECT},
	    {"SELECT 1.e5, .5, 1e-3, 1E+2, 1.5e, 12.", R_SELECT},
	    {"SELECT 1..2", R_SELECT},
	    {"SELECT 1for update", SC_WRITE, CR_LOCKING_READ, 0},
	    {"SELECT 0x1F, 0o17, 0b101, 1_000", R_SELECT},
	    {"SELECT a->>'x', a->'y', a#>>'{z}', a || b, a::text::int FROM t", R_SELECT},
	    {"SELECT a @@ b, a <-> b, a !~~* b, -a, +b, ~c FROM t", R_SELECT},
	    {"SELECT f(a => 1, b := 2)", SC_WRITE, CR_UNKNOWN_FUNCTION, 0},
	    {"SELECT arr[1:2], arr[1][2] FROM t", R_SELECT},
	    {"SELECT naïve, \"ünïcode\", 名前 FROM t", R_SELECT},
	    {"SELECT * FROM таблица WHERE поле = 'значение'", R_SELECT},
	    {"sElEcT * FrOm t wHeRe A = 1", R_SELECT},
	    {"SELECT\t*\nFROM\rt\fWHERE\va", R_SELECT},
	    {"SELECT 'unterminated", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT 1 /* unterminated", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT 1 /* /* */", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"DELETE FROM t WHERE a = 'x", SC_WRITE, CR_MALFORMED, SF_TRUNCATED},
	    {"SELECT 1 \\ 2", R_SELECT},
	    {"SELECT {1}", R_SELECT},
	};
	RUN(cases);
}

Test(classify, nul_byte)
{
	static const char text[] = "SELECT 1\0; DELETE FROM t";
	static const char text2[] = "SELECT '\0'";
	static const char text3[] = "SELECT 1 -- \0\nDELETE FROM t";
	StmtInfo si;

	classify_sql(text, sizeof(text) - 1, &opts, &si);
	cr_expect_eq(si.reason, CR_MALFORMED);
	cr_expect_eq(si.cls, SC_WRITE);
	classify_sql(text2, sizeof(text2) - 1, &opts, &si);
	cr_expect_eq(si.reason, CR_MALFORMED);
	classify_sql(text3, sizeof(text3) - 1, &opts, &si);
	cr_expect_eq(si.reason, CR_MALFORMED);
}

/* A '...' whose end moves if the session has standard_conforming_strings = off. */
Test(classify, standard_conforming_strings)
{
	static const Case unknown[] = {
	    {"SELECT 'a\\', ' ; DELETE FROM t; -- '", SC_WRITE, CR_AMBIGUOUS_STRING, 0},
	    {"SELECT 'C:\\'", SC_WRITE, CR_AMBIGUOUS_STRING, 0},
	    {"SELECT 'a\\b', '\\d+', '\\\\'", R_SELECT},
	    {"SELECT E'a\\'b'", R_SELECT},
	    {"SELECT $$a\\$$", R_SELECT},
	    {"SELECT 1; SELECT 'x\\'", SC_WRITE, CR_AMBIGUOUS_STRING, SF_MULTI},
	    {"SELECT 'a\\'; SELECT 1", SC_WRITE, CR_AMBIGUOUS_STRING, SF_MULTI},
	};
	static const Case standard[] = {
	    {"SELECT 'a\\', ' ; DELETE FROM t; -- '", R_SELECT},
	    {"SELECT 'C:\\'", R_SELECT},
	};
	ClassifyOptions o = opts;

	RUN(unknown);
	o.std_strings = true;
	run_cases(standard, ARRAY_SIZE(standard), &o);
}

Test(classify, nesting_limit)
{
	char deep[1024], deep_write[1024];
	size_t n = 0;
	StmtInfo si;

	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "SELECT ");
	for (int i = 0; i < 100; i++)
		deep[n++] = '(';
	deep[n++] = '1';
	for (int i = 0; i < 100; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	si = classify(deep);
	cr_expect_eq(si.cls, SC_WRITE);
	cr_expect_eq(si.reason, CR_TOO_COMPLEX);
	/* 40 levels are followed exactly */
	n = (size_t)snprintf(deep, sizeof(deep), "SELECT ");
	for (int i = 0; i < 40; i++)
		deep[n++] = '(';
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "lower('a')");
	for (int i = 0; i < 40; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	si = classify(deep);
	cr_expect_eq(si.cls, SC_READ, "%s", deep);
	n = (size_t)snprintf(deep_write, sizeof(deep_write), "SELECT ");
	for (int i = 0; i < 40; i++)
		deep_write[n++] = '(';
	n += (size_t)snprintf(deep_write + n, sizeof(deep_write) - n, "nextval('s')");
	for (int i = 0; i < 40; i++)
		deep_write[n++] = ')';
	deep_write[n] = '\0';
	si = classify(deep_write);
	cr_expect_eq(si.reason, CR_WRITE_FUNCTION);
	/* EXPLAIN without ANALYZE looks at every finding, not only the first */
	n = (size_t)snprintf(deep, sizeof(deep), "EXPLAIN SELECT my_func(1), ");
	for (int i = 0; i < 100; i++)
		deep[n++] = '(';
	deep[n++] = '1';
	for (int i = 0; i < 100; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	si = classify(deep);
	cr_expect_eq(si.cls, SC_WRITE, "%s", deep);
	cr_expect_eq(si.reason, CR_UNKNOWN_FUNCTION);
}

/* ---- offsets -------------------------------------------------------------- */

Test(classify, offsets)
{
	const char *sql = "SET LOCAL search_path TO a";
	StmtInfo si = classify(sql);

	cr_expect_str_eq(span(sql, si.guc_off, si.guc_len), "search_path");
	cr_expect_str_eq(span(sql, si.stmt_off, si.stmt_len), sql);
	sql = "  /* c */ SET TIME ZONE 'UTC' ; ";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.guc_off, si.guc_len), "TIME ZONE");
	cr_expect_str_eq(span(sql, si.stmt_off, si.stmt_len), "SET TIME ZONE 'UTC'");
	sql = "set session authorization bob";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.guc_off, si.guc_len), "session authorization");
	sql = "SET myapp . user_id = 1";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.guc_off, si.guc_len), "myapp . user_id");
	sql = "RESET ALL";
	si = classify(sql);
	cr_expect_eq(si.guc_off, 0);
	cr_expect_eq(si.guc_len, 0);
	sql = "SELECT a, pg_catalog.nextval('s') FROM t";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.func_off, si.func_len), "pg_catalog.nextval");
	sql = "SELECT \"Sch\".\"Fn\"(1)";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.func_off, si.func_len), "\"Sch\".\"Fn\"");
	sql = "SELECT lower(x), pg_advisory_lock(1)";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.func_off, si.func_len), "pg_advisory_lock");
	sql = "SELECT * FROM pg_stat_activity";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.func_off, si.func_len), "pg_stat_activity");
	sql = "SELECT set_config('a', 'b', false)";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.func_off, si.func_len), "set_config");
	sql = "SELECT 1; UPDATE t SET a = 1 ; SELECT 2";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.stmt_off, si.stmt_len), "UPDATE t SET a = 1");
	cr_expect_eq(si.nstmts, 3);
	sql = "SELECT 1; SELECT 'abc";
	si = classify(sql);
	cr_expect_str_eq(span(sql, si.stmt_off, si.stmt_len), "SELECT 'abc");
}

static void expect_next(ClassifyIter *it, const char *sql, StmtClass cls, ClassReason r,
			const char *text)
{
	StmtInfo si;

	cr_assert(classify_next(it, &opts, &si), "expected a statement: %s", text);
	cr_expect_eq(si.cls, cls, "%s: %s", text, classify_class_name(si.cls));
	cr_expect_eq(si.reason, r, "%s: %s", text, classify_reason_name(si.reason));
	cr_expect_eq(si.nstmts, 1);
	cr_expect_eq(si.flags & SF_MULTI, 0);
	cr_expect_str_eq(span(sql, si.stmt_off, si.stmt_len), text);
}

Test(classify, iteration)
{
	const char *sql = "BEGIN; SET LOCAL a = 1;; SELECT 'x;y' ; /* c */ DELETE FROM t;"
			  "COMMIT AND CHAIN;  ";
	ClassifyIter it;
	StmtInfo si;

	classify_iter_init(&it, sql, strlen(sql));
	expect_next(&it, sql, SC_BEGIN, CR_TXN_CONTROL, "BEGIN");
	expect_next(&it, sql, SC_SESSION, CR_SET, "SET LOCAL a = 1");
	expect_next(&it, sql, SC_READ, CR_SELECT, "SELECT 'x;y'");
	expect_next(&it, sql, SC_WRITE, CR_DML, "DELETE FROM t");
	expect_next(&it, sql, SC_END, CR_TXN_CONTROL, "COMMIT AND CHAIN");
	cr_expect_not(classify_next(&it, &opts, &si));
	cr_expect_not(classify_next(&it, &opts, &si));
	cr_expect_eq(it.pos, strlen(sql));

	/* a BEGIN ATOMIC body stays one statement */
	sql = "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); "
	      "SELECT CASE WHEN true THEN 1 END; END; SET a = 1";
	classify_iter_init(&it, sql, strlen(sql));
	expect_next(&it, sql, SC_WRITE, CR_DDL,
		    "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); "
		    "SELECT CASE WHEN true THEN 1 END; END");
	expect_next(&it, sql, SC_SESSION, CR_SET, "SET a = 1");
	cr_expect_not(classify_next(&it, &opts, &si));

	/* a malformed statement is the last one */
	sql = "SELECT 1; SELECT 'oops; DELETE FROM t";
	classify_iter_init(&it, sql, strlen(sql));
	expect_next(&it, sql, SC_READ, CR_SELECT, "SELECT 1");
	expect_next(&it, sql, SC_WRITE, CR_MALFORMED, "SELECT 'oops; DELETE FROM t");
	cr_expect_not(classify_next(&it, &opts, &si));

	/* hints belong to the statement they lead */
	sql = "SELECT 1; /* pgrelay:replica */ SELECT 2";
	classify_iter_init(&it, sql, strlen(sql));
	cr_assert(classify_next(&it, &opts, &si));
	cr_expect_eq(si.flags & SF_HINT_REPLICA, 0);
	cr_assert(classify_next(&it, &opts, &si));
	cr_expect_eq(si.flags & SF_HINT_REPLICA, SF_HINT_REPLICA);

	classify_iter_init(&it, "", 0);
	cr_expect_not(classify_next(&it, &opts, &si));
	classify_iter_init(&it, " ; -- x", 7);
	cr_expect_not(classify_next(&it, &opts, &si));
}

/* classify_sql agrees with the statements classify_next returns. */
Test(classify, sql_matches_iteration)
{
	static const char *const texts[] = {
	    "SELECT 1; SELECT 2; DELETE FROM t; LISTEN x",
	    "BEGIN; SELECT 1; COMMIT",
	    "; ;SELECT 1;",
	    "SET a = 1; SET b = 2",
	    "",
	    "SELECT nextval('s'); SELECT pg_advisory_lock(1)",
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		ClassifyIter it;
		StmtInfo all, one, first_nonread = {0};
		uint32_t n = 0;
		bool found = false;

		classify_sql(texts[i], strlen(texts[i]), &opts, &all);
		classify_iter_init(&it, texts[i], strlen(texts[i]));
		while (classify_next(&it, &opts, &one)) {
			n++;
			if (!found && one.cls != SC_READ) {
				first_nonread = one;
				found = true;
			}
		}
		cr_expect_eq(all.nstmts, n, "%s", texts[i]);
		if (found) {
			cr_expect_eq(all.cls, first_nonread.cls, "%s", texts[i]);
			cr_expect_eq(all.reason, first_nonread.reason, "%s", texts[i]);
			cr_expect_eq(all.stmt_off, first_nonread.stmt_off, "%s", texts[i]);
		}
	}
}

/* ---- the lookup callback ---------------------------------------------------- */

Test(classify, lookup_arguments)
{
	char sql[256];
	StmtInfo si;

	lookups = 0;
	si = classify("SELECT MySchema.Ro_Fn(1)");
	cr_expect_eq(lookups, 1);
	cr_expect(last_had_schema);
	cr_expect_str_eq(last_schema, "myschema");
	cr_expect_str_eq(last_name, "ro_fn");
	cr_expect_not(last_quoted);
	cr_expect_eq(si.cls, SC_READ); /* folded to "ro_fn": read-only */

	si = classify("SELECT \"MySchema\".\"ro_fn\"(1)");
	cr_expect_str_eq(last_schema, "MySchema");
	cr_expect_str_eq(last_name, "ro_fn");
	cr_expect(last_quoted);
	cr_expect_eq(si.cls, SC_READ);

	si = classify("SELECT RO_FN(1)");
	cr_expect_not(last_had_schema);
	cr_expect_str_eq(last_name, "ro_fn");
	cr_expect_eq(si.cls, SC_READ);

	/* clipped to 63 bytes like PostgreSQL */
	snprintf(sql, sizeof(sql), "SELECT %s(1)",
		 "a123456789b123456789c123456789d123456789e123456789f123456789g123456789");
	(void)classify(sql);
	cr_expect_eq(strlen(last_name), 63);
	/* ... on a character boundary: 31 two-byte characters and "x" make 63, one more is 65 */
	snprintf(sql, sizeof(sql), "SELECT x%s(1)", "ééééééééééééééééééééééééééééééééé");
	(void)classify(sql);
	cr_expect_eq(strlen(last_name), 63);

	/* never asked once the statement is not a read */
	lookups = 0;
	(void)classify("SELECT nextval('s'), my_a(1), my_b(2)");
	cr_expect_eq(lookups, 0);
	(void)classify("DELETE FROM t WHERE my_a(1)");
	cr_expect_eq(lookups, 0);
	/* nor for built-ins */
	(void)classify("SELECT lower('a'), count(*), pg_catalog.upper('b')");
	cr_expect_eq(lookups, 0);
}

/* ---- tables ------------------------------------------------------------------- */

Test(classify, names)
{
	for (int c = 0; c < SC__COUNT; c++) {
		cr_expect_not_null(classify_class_name((StmtClass)c));
		cr_expect_str_neq(classify_class_name((StmtClass)c), "?", "class %d", c);
	}
	for (int r = 0; r < CR__COUNT; r++) {
		cr_expect_not_null(classify_reason_name((ClassReason)r));
		cr_expect_str_neq(classify_reason_name((ClassReason)r), "?", "reason %d", r);
	}
	cr_expect_str_eq(classify_class_name(SC__COUNT), "?");
	cr_expect_str_eq(classify_reason_name((ClassReason)-1), "?");
	cr_expect_str_eq(classify_reason_name(CR_WRITE_FUNCTION), "write_function");
	cr_expect_str_eq(classify_class_name(SC_PIN), "pin");
}

Test(classify, builtin_tables)
{
	cr_expect_null(classify_check_tables(), "bad table entry: %s", classify_check_tables());
	for (int k = 1; k < KW__COUNT; k++) {
		const char *name = sqllex_kw_name((Kw)k);
		SqlLexer lx;
		SqlTok t;

		cr_assert_not_null(name, "keyword %d has no name", k);
		sqllex_init(&lx, name, (uint32_t)strlen(name), 0, true);
		t = sqllex_next(&lx);
		cr_expect_eq(t.kind, TK_WORD, "%s", name);
		cr_expect_eq(t.kw, k, "%s", name);
	}
	cr_expect_eq(sqllex_kw_cat(KW_SELECT), KC_RESERVED);
	cr_expect_eq(sqllex_kw_cat(KW_LEFT), KC_TYPE_FUNC);
	cr_expect_eq(sqllex_kw_cat(KW_COALESCE), KC_COL_NAME);
	cr_expect_eq(sqllex_kw_cat(KW_UPDATE), KC_UNRESERVED);
	cr_expect_eq(sqllex_kw_cat(KW_NONE), KC_NONE);
}

Test(classify, lexer_tokens)
{
	static const char *text = "SELECT a.\"b\"::int[], $1, $q$x$q$ -- c\n FROM t /* d */;";
	static const struct {
		SqlTokKind kind;
		const char *text;
	} want[] = {
	    {TK_WORD, "SELECT"}, {TK_WORD, "a"},   {TK_DOT, "."},      {TK_QIDENT, "\"b\""},
	    {TK_CAST, "::"},	 {TK_WORD, "int"}, {TK_LBRACKET, "["}, {TK_RBRACKET, "]"},
	    {TK_COMMA, ","},	 {TK_PARAM, "$1"}, {TK_COMMA, ","},    {TK_STRING, "$q$x$q$"},
	    {TK_WORD, "FROM"},	 {TK_WORD, "t"},   {TK_SEMI, ";"},     {TK_EOF, ""},
	};
	SqlLexer lx;

	sqllex_init(&lx, text, (uint32_t)strlen(text), 0, true);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const SqlTok *p = sqllex_peek(&lx);
		SqlTok t = sqllex_next(&lx);

		cr_expect_eq(p->kind, t.kind);
		cr_expect_eq(t.kind, want[i].kind, "token %zu", i);
		cr_expect_str_eq(span(text, t.off, t.len), want[i].text, "token %zu", i);
	}
	cr_expect_eq(sqllex_next(&lx).kind, TK_EOF);
}

/* SF_MASTER_STATS: set whenever a statement reads the master's statistics, whatever it is. */
Test(classify, master_stats_flag)
{
	static const struct {
		const char *sql;
		bool flag;
	} cases[] = {
	    {"SELECT * FROM pg_stat_activity", true},
	    {"SELECT pg_stat_get_snapshot_timestamp()", true},
	    {"SELECT 1; SELECT count(*) FROM pg_statio_user_tables", true},
	    {"CREATE TABLE prevstats AS SELECT t.seq_scan FROM pg_catalog.pg_stat_user_tables t", true},
	    {"INSERT INTO t SELECT seq_scan FROM pg_stat_user_tables", true},
	    {"SELECT * FROM pg_locks", true},
	    {"SELECT * FROM t", false},
	    {"SELECT 'pg_stat_activity'", false},
	    {"SELECT * FROM pg_class", false},
	    {"CREATE TABLE x (a int)", false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		StmtInfo si;
		classify_sql(cases[i].sql, strlen(cases[i].sql), &opts, &si);
		cr_expect_eq((si.flags & SF_MASTER_STATS) != 0, cases[i].flag, "%s: flags 0x%x",
			     cases[i].sql, si.flags);
	}
}

/* Relations read in FROM are shown to rel_lookup: a sequence is not a replica's to read. */
static FuncKind test_rel_lookup(const char *schema, size_t schema_len, const char *name,
				size_t name_len, bool quoted, void *arg)
{
	(void)schema_len;
	(void)name_len;
	(void)quoted;
	(void)arg;
	if (strcmp(name, "myseq") == 0 && (!schema || strcmp(schema, "public") == 0))
		return FUNC_WRITE;
	if (strcmp(name, "t") == 0 || strcmp(name, "u") == 0 || strcmp(name, "pg_class") == 0)
		return FUNC_READ_ONLY;
	return FUNC_UNKNOWN;
}

Test(classify, relation_lookup)
{
	static const ClassifyOptions ropts = {.lookup = test_lookup,
					      .lookup_arg = &lookups,
					      .rel_lookup = test_rel_lookup};
	static const Case cases[] = {
	    {"SELECT * FROM myseq", SC_WRITE, CR_SEQUENCE, 0},
	    {"SELECT last_value, is_called FROM public.myseq", SC_WRITE, CR_SEQUENCE, 0},
	    {"select * from MYSEQ", SC_WRITE, CR_SEQUENCE, 0},
	    {"SELECT * FROM \"MYSEQ\"", SC_WRITE, CR_UNKNOWN_RELATION, 0},
	    {"SELECT * FROM other.myseq", SC_WRITE, CR_UNKNOWN_RELATION, 0},
	    {"SELECT * FROM t", SC_READ, CR_SELECT, 0},
	    {"SELECT * FROM t JOIN myseq ON true", SC_WRITE, CR_SEQUENCE, 0},
	    {"SELECT * FROM t, u AS x, pg_catalog.pg_class c", SC_READ, CR_SELECT, 0},
	    {"SELECT * FROM t, missing", SC_WRITE, CR_UNKNOWN_RELATION, 0},
	    {"SELECT * FROM (SELECT * FROM myseq) s", SC_WRITE, CR_SEQUENCE, 0},
	    {"SELECT myseq FROM t", SC_READ, CR_SELECT, 0},
	    {"SELECT * FROM t WHERE a IN (SELECT b FROM u)", SC_READ, CR_SELECT, 0},
	    {"SELECT * FROM t myseq", SC_READ, CR_SELECT, 0},
	    {"SELECT 1; SELECT * FROM myseq", SC_WRITE, CR_SEQUENCE, SF_MULTI},
	};

	run_cases(cases, ARRAY_SIZE(cases), &ropts);
	/* without rel_lookup nothing is asked */
	{
		StmtInfo si;
		classify_sql("SELECT * FROM myseq", 19, &opts, &si);
		cr_expect(si.cls == SC_READ, "no rel_lookup: a plain read");
	}
}
