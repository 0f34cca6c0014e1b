/*
 * test_session.c - proxy-owned session state: SET bookkeeping and its replay
 * text, named prepared statements, versions, and memory accounting.
 */
#include "session.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static SessionState s;

static void setup(void)
{
	session_init(&s);
}

static void teardown(void)
{
	session_free(&s);
	cr_assert_eq(s.bytes, 0);
}

TestSuite(session, .init = setup, .fini = teardown);

/* The SQL text of the replay Query message. */
static const char *replay_text(char *buf, size_t cap)
{
	uint8_t raw[4096];
	PgWriter w;
	pgw_init_static(&w, raw, sizeof(raw));
	session_guc_replay(&s, false, &w);
	cr_assert_not(w.failed);
	cr_assert_eq(raw[0], 'Q');
	cr_assert_eq(pg_get_u32(raw + 1), w.len - 1, "length field");
	cr_assert_eq(raw[w.len - 1], 0, "NUL-terminated");
	size_t n = w.len - 6; /* the text: after the header, before the NUL */
	cr_assert_lt(n, cap);
	memcpy(buf, raw + 5, n);
	buf[n] = '\0';
	return buf;
}

#define SET(name, stmt) cr_assert(session_guc_set(&s, name, stmt, strlen(stmt), 0))
#define R "RESET SESSION AUTHORIZATION;RESET ROLE;RESET ALL;"

Test(session, gucs_set_replace_reset_and_order)
{
	char buf[1024];
	uint64_t v0 = s.guc_version;

	cr_assert_str_eq(replay_text(buf, sizeof(buf)), R);
	SET("search_path", "SET search_path = a, b");
	SET("timezone", "set TimeZone to 'UTC'");
	SET("role", "SET ROLE app");
	cr_assert_gt(s.guc_version, v0);
	cr_assert_str_eq(replay_text(buf, sizeof(buf)),
			 R "SET search_path = a, b;set TimeZone to 'UTC';SET ROLE app;");

	/* a new value replaces the old one and moves to the end (last set, last replayed) */
	SET("search_path", "SET search_path = c");
	cr_assert_str_eq(replay_text(buf, sizeof(buf)),
			 R "set TimeZone to 'UTC';SET ROLE app;SET search_path = c;");
	cr_assert_str_eq(session_guc_get(&s, "timezone")->stmt, "set TimeZone to 'UTC'");

	uint64_t v = s.guc_version;
	session_guc_reset(&s, "nothing_set");
	cr_assert_eq(s.guc_version, v, "resetting what is not set changes nothing");
	session_guc_reset(&s, "timezone");
	cr_assert_gt(s.guc_version, v);
	cr_assert_null(session_guc_get(&s, "timezone"));
	cr_assert_str_eq(replay_text(buf, sizeof(buf)), R "SET ROLE app;SET search_path = c;");

	session_guc_reset_all(&s);
	cr_assert_eq(s.ngucs, 0);
	cr_assert_eq(s.bytes, 0);
	cr_assert_str_eq(replay_text(buf, sizeof(buf)), R);
}

Test(session, replay_with_deallocate_all)
{
	uint8_t raw[256];
	PgWriter w;
	SET("work_mem", "SET work_mem = '8MB'");
	pgw_init_static(&w, raw, sizeof(raw));
	session_guc_replay(&s, true, &w);
	cr_assert_not(w.failed);
	raw[w.len - 1] = '\0';
	cr_assert_str_eq((const char *)raw + 5, R "SET work_mem = '8MB';DEALLOCATE ALL;");
}

Test(session, guc_refuses_bad_input)
{
	char longname[PG_NAME_MAX + 8];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_not(session_guc_set(&s, longname, "SET x = 1", 9, 0));
	cr_assert_not(session_guc_set(&s, "x", "", 0, 0));
	cr_assert_eq(s.ngucs, 0);
}

Test(session, replay_overflow_sets_failed)
{
	uint8_t raw[32];
	PgWriter w;
	SET("search_path", "SET search_path = a_rather_long_schema_name, another_one");
	pgw_init_static(&w, raw, sizeof(raw));
	session_guc_replay(&s, false, &w);
	cr_assert(w.failed);
}

static const uint8_t parse_msg[] = {'P', 0, 0, 0, 16, 's', '1', 0, 's', 'e', 'l', 'e', 'c', 't', ' ',
				    '1', 0, 0, 0};

Test(session, statements_add_get_replace_close_clear)
{
	uint64_t v0 = s.stmt_version;

	cr_assert(session_stmt_add(&s, "s1", parse_msg, sizeof(parse_msg), 7));
	cr_assert_gt(s.stmt_version, v0);
	const SessionStmt *st = session_stmt_get(&s, "s1");
	cr_assert_not_null(st);
	cr_assert_eq(st->parse_len, sizeof(parse_msg));
	cr_assert_eq(memcmp(st->parse, parse_msg, sizeof(parse_msg)), 0);
	cr_assert_eq(st->info, 7);
	cr_assert_null(session_stmt_get(&s, "s2"));
	cr_assert_not(session_stmt_add(&s, "", parse_msg, sizeof(parse_msg), 0),
		      "the unnamed statement is not kept");

	cr_assert(session_stmt_add(&s, "s1", parse_msg, 5, 9));
	cr_assert_eq(s.nstmts, 1, "same name replaces");
	cr_assert_eq(session_stmt_get(&s, "s1")->info, 9);

	cr_assert(session_stmt_close(&s, "s1"));
	cr_assert_not(session_stmt_close(&s, "s1"));
	cr_assert_null(session_stmt_get(&s, "s1"));
	cr_assert_eq(s.nstmts, 0);
	cr_assert_eq(s.bytes, 0);

	cr_assert(session_stmt_add(&s, "a", parse_msg, sizeof(parse_msg), 0));
	cr_assert(session_stmt_add(&s, "b", parse_msg, sizeof(parse_msg), 0));
	uint64_t v = s.stmt_version;
	session_stmt_clear(&s);
	cr_assert_gt(s.stmt_version, v);
	cr_assert_eq(s.nstmts, 0);
	cr_assert_null(session_stmt_get(&s, "a"));
}

Test(session, many_statements_like_a_jdbc_cache)
{
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "S_%d", i);
		cr_assert(session_stmt_add(&s, name, parse_msg, sizeof(parse_msg), (uint32_t)i));
	}
	cr_assert_eq(s.nstmts, 5000);
	cr_assert_geq(s.nbuckets, 4096, "the table grew");
	for (int i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "S_%d", i);
		const SessionStmt *st = session_stmt_get(&s, name);
		cr_assert_not_null(st, "%s", name);
		cr_assert_eq(st->info, (uint32_t)i);
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(name, sizeof(name), "S_%d", i);
		cr_assert(session_stmt_close(&s, name));
	}
	cr_assert_eq(s.nstmts, 2500);
	cr_assert_null(session_stmt_get(&s, "S_10"));
	cr_assert_not_null(session_stmt_get(&s, "S_11"));
}
