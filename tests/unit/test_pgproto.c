/*
 * test_pgproto.c - unit tests for the wire codec (proxy/pgproto.c) and the
 * PgWriter (proxy/buf.c): frame headers, startup packets, message parsers,
 * builder -> parser round trips and exact byte layouts.
 */
#include "buf.h"
#include "pgproto.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A startup-phase packet: length, code, then body bytes. Returns its length. */
static size_t make_startup(uint8_t *out, size_t cap, uint32_t code, const void *body,
			   size_t body_len)
{
	size_t len = 8 + body_len;

	cr_assert_leq(len, cap);
	put_u32(out, (uint32_t)len);
	put_u32(out + 4, code);
	if (body_len)
		memcpy(out + 8, body, body_len);
	return len;
}

/* The body (bytes between quotes, embedded NULs included) of a string literal. */
#define LIT(s) (s), (sizeof(s) - 1)

/* Splits the typed message at data+*off and advances *off past it. */
static void next_msg(const PgWriter *w, size_t *off, uint8_t *type, const uint8_t **body,
		     size_t *blen)
{
	size_t total = 0;
	FrameResult fr;

	cr_assert_lt(*off, w->len);
	fr = pgproto_msg_header(w->data + *off, w->len - *off, SIZE_MAX, type, &total);
	cr_assert_eq(fr, FRAME_OK);
	cr_assert_leq(total, w->len - *off);
	*body = w->data + *off + PG_HDR_LEN;
	*blen = total - PG_HDR_LEN;
	*off += total;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	cr_assert_eq(got_len, want_len, "length %zu, expected %zu", got_len, want_len);
	for (size_t i = 0; i < want_len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu: 0x%02x, expected 0x%02x", i, got[i],
			     want[i]);
}

/* A tiny deterministic PRNG for the garbage tests. */
static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* ---- typed message header ----------------------------------------------- */

Test(msg_header, complete_query)
{
	static const uint8_t q[] = "Q\0\0\0\x0dselect 1";
	uint8_t type = 0;
	size_t total = 0;

	/* sizeof includes the literal's NUL, which is the query's terminator */
	cr_assert_eq(sizeof(q), 14);
	cr_assert_eq(pgproto_msg_header(q, sizeof(q), 8192, &type, &total), FRAME_OK);
	cr_assert_eq(type, 'Q');
	cr_assert_eq(total, 14);
}

Test(msg_header, every_prefix)
{
	static const uint8_t q[] = "Q\0\0\0\x0dselect 1";

	for (size_t n = 0; n <= sizeof(q); n++) {
		uint8_t type = 0;
		size_t total = 0;
		FrameResult fr = pgproto_msg_header(q, n, 8192, &type, &total);

		if (n < PG_HDR_LEN) {
			cr_assert_eq(fr, FRAME_NEED_MORE, "prefix %zu", n);
		} else {
			/* the header alone is enough to frame; the body may still be missing */
			cr_assert_eq(fr, FRAME_OK, "prefix %zu", n);
			cr_assert_eq(total, 14);
		}
	}
}

Test(msg_header, length_table)
{
	static const struct {
		uint32_t len;
		size_t max_total;
		FrameResult want;
		size_t total;
	} cases[] = {
	    {0, 8192, FRAME_BAD, 0},
	    {1, 8192, FRAME_BAD, 0},
	    {3, 8192, FRAME_BAD, 0},
	    {4, 8192, FRAME_OK, 5}, /* empty body, e.g. Sync */
	    {4, 5, FRAME_OK, 5},
	    {4, 4, FRAME_BAD, 0}, /* even an empty message exceeds max 4 */
	    {4, 0, FRAME_BAD, 0},
	    {13, 14, FRAME_OK, 14}, /* exactly max */
	    {13, 13, FRAME_BAD, 0}, /* one over */
	    {8191, 8192, FRAME_OK, 8192},
	    {8192, 8192, FRAME_BAD, 0},
	    {0x7fffffffu, SIZE_MAX, FRAME_OK, 0x80000000u},
	    {0x80000000u, SIZE_MAX, FRAME_BAD, 0}, /* negative as an int32 */
	    {0xfffffffbu, SIZE_MAX, FRAME_BAD, 0},
	    {0xffffffffu, SIZE_MAX, FRAME_BAD, 0},
	    {0xffffffffu, 8192, FRAME_BAD, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t hdr[5] = {'D'};
		uint8_t type = 0;
		size_t total = 0;
		FrameResult fr;

		put_u32(hdr + 1, cases[i].len);
		fr = pgproto_msg_header(hdr, sizeof(hdr), cases[i].max_total, &type, &total);
		cr_assert_eq(fr, cases[i].want, "case %zu (len %u max %zu): got %d", i,
			     cases[i].len, cases[i].max_total, fr);
		if (fr == FRAME_OK) {
			cr_assert_eq(type, 'D');
			cr_assert_eq(total, cases[i].total, "case %zu", i);
		}
	}
}

Test(msg_header, garbage)
{
	uint32_t seed = 0x1234567u;
	uint8_t buf[16];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = xorshift(&seed) % (sizeof(buf) + 1);
		size_t max_total = xorshift(&seed) % 70000;
		uint8_t type = 0;
		size_t total = 0;
		FrameResult fr;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)xorshift(&seed);
		/* make small lengths common so every branch is hit */
		if (iter & 1)
			buf[1] = buf[2] = 0;
		fr = pgproto_msg_header(buf, n, max_total, &type, &total);
		if (n < PG_HDR_LEN) {
			cr_assert_eq(fr, FRAME_NEED_MORE);
			continue;
		}
		uint32_t len = pg_get_u32(buf + 1);
		if (fr == FRAME_OK) {
			cr_assert_eq(type, buf[0]);
			cr_assert_eq(total, (size_t)len + 1);
			cr_assert_geq(total, PG_HDR_LEN);
			cr_assert_leq(total, max_total);
		} else {
			cr_assert_eq(fr, FRAME_BAD);
			cr_assert(len < 4 || (uint64_t)len + 1 > max_total || len > INT32_MAX);
		}
	}
}

/* ---- startup packet header ---------------------------------------------- */

Test(startup_header, length_table)
{
	static const struct {
		uint32_t len;
		FrameResult want;
	} cases[] = {
	    {0, FRAME_BAD},
	    {4, FRAME_BAD},
	    {7, FRAME_BAD},
	    {8, FRAME_OK},
	    {16, FRAME_OK},
	    {PG_STARTUP_MAX_LEN, FRAME_OK},
	    {PG_STARTUP_MAX_LEN + 1, FRAME_BAD},
	    {0x7fffffffu, FRAME_BAD},
	    {0xffffffffu, FRAME_BAD},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t hdr[8];
		uint32_t total = 0;
		FrameResult fr;

		put_u32(hdr, cases[i].len);
		put_u32(hdr + 4, PG_PROTO_V3);
		fr = pgproto_startup_header(hdr, sizeof(hdr), &total);
		cr_assert_eq(fr, cases[i].want, "case %zu (len %u): got %d", i, cases[i].len, fr);
		if (fr == FRAME_OK)
			cr_assert_eq(total, cases[i].len);
	}
}

Test(startup_header, every_prefix)
{
	uint8_t pkt[64];
	size_t len = make_startup(pkt, sizeof(pkt), PG_PROTO_V3, LIT("user\0bob\0\0"));

	for (size_t n = 0; n <= len; n++) {
		uint32_t total = 0;
		FrameResult fr = pgproto_startup_header(pkt, n, &total);

		if (n < 4) {
			cr_assert_eq(fr, FRAME_NEED_MORE, "prefix %zu", n);
		} else {
			cr_assert_eq(fr, FRAME_OK, "prefix %zu", n);
			cr_assert_eq(total, len);
		}
	}
}

Test(startup_header, garbage)
{
	uint32_t seed = 0xdeadbeefu;
	uint8_t buf[8];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = xorshift(&seed) % (sizeof(buf) + 1);
		uint32_t total = 0;
		FrameResult fr;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)xorshift(&seed);
		if (iter & 1)
			buf[0] = buf[1] = 0;
		fr = pgproto_startup_header(buf, n, &total);
		if (n < 4) {
			cr_assert_eq(fr, FRAME_NEED_MORE);
		} else if (fr == FRAME_OK) {
			cr_assert_geq(total, 8);
			cr_assert_leq(total, PG_STARTUP_MAX_LEN);
			cr_assert_eq(total, pg_get_u32(buf));
		} else {
			cr_assert_eq(fr, FRAME_BAD);
		}
	}
}

/* ---- startup packet parsing --------------------------------------------- */

static const char *find_param(const StartupInfo *si, const char *name)
{
	for (size_t i = 0; i < si->nparams; i++)
		if (strcmp(si->params[i].name, name) == 0)
			return si->params[i].value;
	return NULL;
}

Test(startup, v3_with_params)
{
	uint8_t pkt[256];
	size_t len = make_startup(pkt, sizeof(pkt), PG_PROTO_V3,
				  LIT("user\0alice\0database\0shop\0application_name\0psql\0"
				      "client_encoding\0UTF8\0options\0-c geqo=off\0\0"));
	StartupInfo si;
	const char *err = "unset";

	cr_assert(pgproto_parse_startup(pkt, len, &si, &err), "%s", err);
	cr_assert_eq(si.kind, STARTUP_V3);
	cr_assert_eq(si.code, PG_PROTO_V3);
	cr_assert_str_eq(si.user, "alice");
	cr_assert_str_eq(si.database, "shop");
	cr_assert_null(si.replication);
	cr_assert_eq(si.nparams, 3);
	/* in the order sent */
	cr_assert_str_eq(si.params[0].name, "application_name");
	cr_assert_str_eq(si.params[0].value, "psql");
	cr_assert_str_eq(si.params[1].name, "client_encoding");
	cr_assert_str_eq(si.params[1].value, "UTF8");
	cr_assert_str_eq(si.params[2].name, "options");
	cr_assert_str_eq(si.params[2].value, "-c geqo=off");
	/* pointers point into the packet */
	cr_assert((const uint8_t *)si.user > pkt && (const uint8_t *)si.user < pkt + len);
}

Test(startup, database_defaults_to_user)
{
	uint8_t pkt[128];
	StartupInfo si;
	const char *err = NULL;
	size_t len = make_startup(pkt, sizeof(pkt), PG_PROTO_V3, LIT("user\0bob\0\0"));

	cr_assert(pgproto_parse_startup(pkt, len, &si, &err), "%s", err);
	cr_assert_str_eq(si.user, "bob");
	cr_assert_str_eq(si.database, "bob");
	cr_assert_eq(si.nparams, 0);

	/* an empty database name also means "same as the user" */
	len = make_startup(pkt, sizeof(pkt), PG_PROTO_V3, LIT("database\0\0user\0bob\0\0"));
	cr_assert(pgproto_parse_startup(pkt, len, &si, &err), "%s", err);
	cr_assert_str_eq(si.database, "bob");
}

Test(startup, replication_param)
{
	uint8_t pkt[128];
	StartupInfo si;
	const char *err = NULL;
	size_t len = make_startup(pkt, sizeof(pkt), PG_PROTO_V3,
				  LIT("replication\0database\0user\0rep\0\0"));

	cr_assert(pgproto_parse_startup(pkt, len, &si, &err), "%s", err);
	cr_assert_str_eq(si.replication, "database");
	cr_assert_str_eq(si.user, "rep");
	cr_assert_eq(si.nparams, 0);
	cr_assert_null(find_param(&si, "replication"));
}

Test(startup, minor_versions_are_v3)
{
	uint8_t pkt[64];
	StartupInfo si;
	const char *err = NULL;
	size_t len =
	    make_startup(pkt, sizeof(pkt), 0x00030002u, LIT("user\0bob\0_pq_.foo\0bar\0\0"));

	cr_assert(pgproto_parse_startup(pkt, len, &si, &err), "%s", err);
	cr_assert_eq(si.kind, STARTUP_V3);
	cr_assert_eq(si.code, 0x00030002u);
	cr_assert_str_eq(find_param(&si, "_pq_.foo"), "bar");
}

Test(startup, request_codes)
{
	static const struct {
		uint32_t code;
		size_t body_len;
		bool ok;
		StartupKind kind;
	} cases[] = {
	    {PG_SSL_REQUEST_CODE, 0, true, STARTUP_SSL},
	    {PG_SSL_REQUEST_CODE, 4, false, STARTUP_SSL},
	    {PG_GSSENC_REQUEST_CODE, 0, true, STARTUP_GSSENC},
	    {PG_GSSENC_REQUEST_CODE, 8, false, STARTUP_GSSENC},
	    {PG_CANCEL_REQUEST_CODE, 8, true, STARTUP_CANCEL},
	    {PG_CANCEL_REQUEST_CODE, 4, false, STARTUP_CANCEL},
	    {PG_CANCEL_REQUEST_CODE, 12, false, STARTUP_CANCEL},
	    {PG_CANCEL_REQUEST_CODE, 0, false, STARTUP_CANCEL},
	    {0x00020000u, 0, true, STARTUP_UNSUPPORTED}, /* protocol 2.0 */
	    {0x00040000u, 4, true, STARTUP_UNSUPPORTED}, /* a future 4.0 */
	    {0x04d21631u, 0, true, STARTUP_UNSUPPORTED}, /* 1234.5681: unknown request */
	    {0x00000000u, 0, true, STARTUP_UNSUPPORTED},
	    {0xffffffffu, 0, true, STARTUP_UNSUPPORTED},
	};
	static const uint8_t body[12] = {0x00, 0x00, 0x30, 0x39, 0xde, 0xad, 0xbe, 0xef};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t pkt[64];
		size_t len = make_startup(pkt, sizeof(pkt), cases[i].code, body, cases[i].body_len);
		StartupInfo si;
		const char *err = NULL;
		bool ok = pgproto_parse_startup(pkt, len, &si, &err);

		cr_assert_eq(ok, cases[i].ok, "case %zu: %s", i, err ? err : "(no error)");
		cr_assert_eq(si.kind, cases[i].kind, "case %zu", i);
		cr_assert_eq(si.code, cases[i].code, "case %zu", i);
		if (ok) {
			cr_assert_null(err);
		} else {
			cr_assert_not_null(err);
			cr_assert_gt(strlen(err), 0);
		}
		if (ok && si.kind == STARTUP_CANCEL) {
			cr_assert_eq(si.cancel_pid, 12345);
			cr_assert_eq(si.cancel_key, (int32_t)0xdeadbeefu);
		}
	}
}

Test(startup, errors)
{
	static const struct {
		const char *body;
		size_t body_len;
		const char *err;
	} cases[] = {
	    {LIT("database\0db\0\0"), "no PostgreSQL user name specified in startup packet"},
	    {LIT("user\0\0\0"), "no PostgreSQL user name specified in startup packet"},
	    {LIT("\0"), "no PostgreSQL user name specified in startup packet"},
	    {LIT(""), "startup packet is missing its final terminator"},
	    {LIT("user\0bob\0"), "startup packet is missing its final terminator"},
	    {LIT("user\0bob\0database"), "startup packet is missing its final terminator"},
	    {LIT("user\0bob"), "startup packet parameter has no value"},
	    {LIT("user\0bob\0database\0"), "startup packet parameter has no value"},
	    {LIT("user\0bob\0\0database\0db\0\0"), "empty parameter name in startup packet"},
	    {LIT("\0user\0bob\0\0"), "empty parameter name in startup packet"},
	    {LIT("user\0bob\0\0\0"), "empty parameter name in startup packet"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t pkt[128];
		size_t len =
		    make_startup(pkt, sizeof(pkt), PG_PROTO_V3, cases[i].body, cases[i].body_len);
		StartupInfo si;
		const char *err = NULL;

		cr_assert_not(pgproto_parse_startup(pkt, len, &si, &err), "case %zu", i);
		cr_assert_not_null(err, "case %zu", i);
		cr_assert_str_eq(err, cases[i].err, "case %zu", i);
	}
}

Test(startup, bad_length)
{
	uint8_t pkt[64];
	StartupInfo si;
	const char *err = NULL;
	size_t len = make_startup(pkt, sizeof(pkt), PG_PROTO_V3, LIT("user\0bob\0\0"));

	/* the length field must match the packet handed in */
	cr_assert_not(pgproto_parse_startup(pkt, len - 1, &si, &err));
	cr_assert_not_null(err);
	put_u32(pkt, (uint32_t)len + 1);
	cr_assert_not(pgproto_parse_startup(pkt, len, &si, &err));
	cr_assert_not(pgproto_parse_startup(pkt, 4, &si, &err));
	cr_assert_not(pgproto_parse_startup(pkt, 0, &si, &err));
	put_u32(pkt, 7);
	cr_assert_not(pgproto_parse_startup(pkt, 7, &si, &err));
}

Test(startup, too_many_params)
{
	PgWriter w;
	StartupParam params[PG_MAX_STARTUP_PARAMS + 1];
	char names[PG_MAX_STARTUP_PARAMS + 1][16];
	StartupInfo si;
	const char *err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		params[i].name = names[i];
		params[i].value = "v";
	}
	pgw_init_dynamic(&w, 64, PG_STARTUP_MAX_LEN);

	/* exactly the maximum is fine (user and database do not count) */
	pgw_startup(&w, "bob", "db", params, PG_MAX_STARTUP_PARAMS);
	cr_assert_not(w.failed);
	cr_assert(pgproto_parse_startup(w.data, w.len, &si, &err), "%s", err);
	cr_assert_eq(si.nparams, PG_MAX_STARTUP_PARAMS);
	cr_assert_str_eq(si.params[PG_MAX_STARTUP_PARAMS - 1].name, "p63");

	pgw_reset(&w);
	pgw_startup(&w, "bob", "db", params, PG_MAX_STARTUP_PARAMS + 1);
	cr_assert_not(w.failed);
	cr_assert_not(pgproto_parse_startup(w.data, w.len, &si, &err));
	cr_assert_str_eq(err, "too many parameters in startup packet");
	pgw_free(&w);
}

Test(startup, builder_round_trip)
{
	uint8_t buf[256];
	PgWriter w;
	StartupParam params[] = {{"application_name", "pgrelay"}, {"client_encoding", "UTF8"}};
	StartupInfo si;
	const char *err = NULL;
	uint32_t total = 0;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_startup(&w, "alice", "shop", params, ARRAY_SIZE(params));
	cr_assert_not(w.failed);
	cr_assert_eq(pgproto_startup_header(w.data, w.len, &total), FRAME_OK);
	cr_assert_eq(total, w.len);
	cr_assert(pgproto_parse_startup(w.data, w.len, &si, &err), "%s", err);
	cr_assert_eq(si.kind, STARTUP_V3);
	cr_assert_str_eq(si.user, "alice");
	cr_assert_str_eq(si.database, "shop");
	cr_assert_eq(si.nparams, 2);
	cr_assert_str_eq(find_param(&si, "application_name"), "pgrelay");
	cr_assert_str_eq(find_param(&si, "client_encoding"), "UTF8");
}

Test(startup, builder_bytes)
{
	static const uint8_t want[] = "\0\0\0\x1f"
				      "\0\x03\0\0"
				      "user\0U\0database\0D\0a\0b\0";
	uint8_t buf[64];
	PgWriter w;
	StartupParam p = {"a", "b"};

	/* sizeof(want) includes the literal's NUL: the packet's final terminator */
	cr_assert_eq(sizeof(want), 0x1f);
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_startup(&w, "U", "D", &p, 1);
	cr_assert_not(w.failed);
	assert_bytes(w.data, w.len, want, sizeof(want));
}

/* ---- error / notice ----------------------------------------------------- */

Test(error, round_trip)
{
	uint8_t buf[512];
	PgWriter w;
	size_t off = 0, blen;
	const uint8_t *body;
	uint8_t type;
	PgErrorFields ef;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_error(&w, "FATAL", "28P01", "password authentication failed for user \"%s\"", "bob");
	pgw_notice(&w, "WARNING", "01000", "%d clients waiting", 42);
	cr_assert_not(w.failed);

	next_msg(&w, &off, &type, &body, &blen);
	cr_assert_eq(type, PQ_ERROR);
	cr_assert(pgproto_parse_error(body, blen, &ef));
	cr_assert_str_eq(ef.severity, "FATAL");
	cr_assert_str_eq(ef.sqlstate, "28P01");
	cr_assert_str_eq(ef.message, "password authentication failed for user \"bob\"");
	cr_assert_null(ef.detail);

	next_msg(&w, &off, &type, &body, &blen);
	cr_assert_eq(type, PQ_NOTICE);
	cr_assert(pgproto_parse_error(body, blen, &ef));
	cr_assert_str_eq(ef.severity, "WARNING");
	cr_assert_str_eq(ef.sqlstate, "01000");
	cr_assert_str_eq(ef.message, "42 clients waiting");
	cr_assert_eq(off, w.len);
}

Test(error, builder_bytes)
{
	static const uint8_t want[] = "E\0\0\0\x20"
				      "SERROR\0VERROR\0C08P01\0Mhi 7\0";
	uint8_t buf[64];
	PgWriter w;

	cr_assert_eq(sizeof(want), 33);
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_error(&w, "ERROR", "08P01", "hi %d", 7);
	assert_bytes(w.data, w.len, want, sizeof(want));
}

Test(error, long_message_truncated)
{
	PgWriter w;
	char big[3000];
	size_t off = 0, blen;
	const uint8_t *body;
	uint8_t type;
	PgErrorFields ef;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pgw_init_dynamic(&w, 16, 1 << 16);
	pgw_error(&w, "ERROR", "XX000", "%s", big);
	cr_assert_not(w.failed);
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert(pgproto_parse_error(body, blen, &ef));
	cr_assert_eq(strlen(ef.message), 1023);

	/* truncation never leaves half a UTF-8 character behind */
	memset(big, 'x', 1021);
	strcpy(big + 1021, "\xe2\x82\xac tail"); /* a 3-byte euro sign straddling the cut */
	pgw_reset(&w);
	off = 0;
	pgw_error(&w, "ERROR", "XX000", "%s", big);
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert(pgproto_parse_error(body, blen, &ef));
	cr_assert_eq(strlen(ef.message), 1021);

	memset(big, 'x', 1020);
	strcpy(big + 1020, "\xe2\x82\xac tail"); /* ends exactly at the cut: kept */
	pgw_reset(&w);
	off = 0;
	pgw_error(&w, "ERROR", "XX000", "%s", big);
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert(pgproto_parse_error(body, blen, &ef));
	cr_assert_eq(strlen(ef.message), 1023);
	pgw_free(&w);
}

Test(error, parse_fields)
{
	static const struct {
		const char *body;
		size_t len;
		bool ok;
		const char *severity, *sqlstate, *message, *detail;
	} cases[] = {
	    /* V wins over S whatever the order */
	    {LIT("SFEHLER\0VERROR\0C42P01\0Mno table\0Dsome detail\0\0"), true, "ERROR", "42P01",
	     "no table", "some detail"},
	    {LIT("VERROR\0SFEHLER\0Mm\0\0"), true, "ERROR", NULL, "m", NULL},
	    {LIT("SERREUR\0Mm\0\0"), true, "ERREUR", NULL, "m", NULL},
	    /* unknown fields are skipped */
	    {LIT("Hhint\0Pfoo\0Fparse.c\0L42\0Rfn\0C0A000\0\0"), true, NULL, "0A000", NULL, NULL},
	    {LIT("\0"), true, NULL, NULL, NULL, NULL},
	    /* malformed */
	    {LIT(""), false, NULL, NULL, NULL, NULL},
	    {LIT("SERROR\0"), false, NULL, NULL, NULL, NULL}, /* no terminator */
	    {LIT("SERROR"), false, NULL, NULL, NULL, NULL},   /* unterminated string */
	    {LIT("S"), false, NULL, NULL, NULL, NULL},
	    {LIT("SERROR\0\0junk"), false, NULL, NULL, NULL, NULL}, /* data after the end */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		PgErrorFields ef;
		bool ok = pgproto_parse_error((const uint8_t *)cases[i].body, cases[i].len, &ef);

		cr_assert_eq(ok, cases[i].ok, "case %zu", i);
		if (!ok)
			continue;
#define CHECK_FIELD(f)                                                                             \
	do {                                                                                       \
		if (cases[i].f) {                                                                  \
			cr_assert_not_null(ef.f, "case %zu", i);                                   \
			cr_assert_str_eq(ef.f, cases[i].f, "case %zu", i);                         \
		} else {                                                                           \
			cr_assert_null(ef.f, "case %zu", i);                                       \
		}                                                                                  \
	} while (0)
		CHECK_FIELD(severity);
		CHECK_FIELD(sqlstate);
		CHECK_FIELD(message);
		CHECK_FIELD(detail);
#undef CHECK_FIELD
	}
}

/* ---- other backend messages --------------------------------------------- */

Test(param_status, round_trip_and_malformed)
{
	uint8_t buf[128];
	PgWriter w;
	size_t off = 0, blen;
	const uint8_t *body;
	uint8_t type;
	const char *name, *value;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_param_status(&w, "server_version", "15.4");
	pgw_param_status(&w, "application_name", "");
	cr_assert_not(w.failed);

	next_msg(&w, &off, &type, &body, &blen);
	cr_assert_eq(type, PQ_PARAM_STATUS);
	cr_assert(pgproto_parse_param_status(body, blen, &name, &value));
	cr_assert_str_eq(name, "server_version");
	cr_assert_str_eq(value, "15.4");
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert(pgproto_parse_param_status(body, blen, &name, &value));
	cr_assert_str_eq(name, "application_name");
	cr_assert_str_eq(value, "");

	cr_assert_not(pgproto_parse_param_status((const uint8_t *)"a\0b", 3, &name, &value));
	cr_assert_not(pgproto_parse_param_status((const uint8_t *)"a\0", 2, &name, &value));
	cr_assert_not(pgproto_parse_param_status((const uint8_t *)"a", 1, &name, &value));
	cr_assert_not(pgproto_parse_param_status((const uint8_t *)"", 0, &name, &value));
	cr_assert_not(pgproto_parse_param_status((const uint8_t *)"a\0b\0c", 5, &name, &value));
}

Test(backend_key, round_trip_and_bytes)
{
	static const uint8_t want[] = {'K', 0, 0, 0, 12, 0, 0, 0x30, 0x39, 0xff, 0xff, 0xff, 0xfe};
	uint8_t buf[64];
	PgWriter w;
	size_t off = 0, blen;
	const uint8_t *body;
	uint8_t type;
	int32_t pid = 0, key = 0;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_backend_key(&w, 12345, -2);
	assert_bytes(w.data, w.len, want, sizeof(want));
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert(pgproto_parse_backend_key(body, blen, &pid, &key));
	cr_assert_eq(pid, 12345);
	cr_assert_eq(key, -2);

	cr_assert_not(pgproto_parse_backend_key(body, 7, &pid, &key));
	cr_assert_not(pgproto_parse_backend_key(body, 0, &pid, &key));
	cr_assert_not(pgproto_parse_backend_key(want, 9, &pid, &key));
}

Test(auth, round_trip)
{
	static const struct {
		uint32_t code;
		const char *data;
		size_t len;
	} cases[] = {
	    {PQ_AUTH_OK, NULL, 0},
	    {PQ_AUTH_CLEARTEXT, NULL, 0},
	    {PQ_AUTH_MD5, "\x01\x02\x03\x04", 4},
	    {PQ_AUTH_SASL, LIT("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0")},
	    {PQ_AUTH_SASL_CONTINUE, LIT("r=abc,s=c2FsdA==,i=4096")},
	    {PQ_AUTH_SASL_FINAL, LIT("v=c2lnbmF0dXJl")},
	    {0xfffffffeu, LIT("x")},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[128];
		PgWriter w;
		size_t off = 0, blen, dlen = 99;
		const uint8_t *body, *data = NULL;
		uint8_t type;
		uint32_t code = 99;

		pgw_init_static(&w, buf, sizeof(buf));
		pgw_auth(&w, cases[i].code, cases[i].data, cases[i].len);
		cr_assert_not(w.failed);
		cr_assert_eq(w.len, 9 + cases[i].len);
		next_msg(&w, &off, &type, &body, &blen);
		cr_assert_eq(type, PQ_AUTH);
		cr_assert(pgproto_parse_auth(body, blen, &code, &data, &dlen), "case %zu", i);
		cr_assert_eq(code, cases[i].code);
		cr_assert_eq(dlen, cases[i].len);
		if (dlen)
			cr_assert_eq(memcmp(data, cases[i].data, dlen), 0, "case %zu", i);
	}
	{
		uint32_t code;
		const uint8_t *data;
		size_t dlen;

		cr_assert_not(
		    pgproto_parse_auth((const uint8_t *)"\0\0\0", 3, &code, &data, &dlen));
		cr_assert_not(pgproto_parse_auth((const uint8_t *)"", 0, &code, &data, &dlen));
	}
}

Test(ready, round_trip_and_malformed)
{
	static const char states[] = {'I', 'T', 'E'};

	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		uint8_t buf[8];
		PgWriter w;
		size_t off = 0, blen;
		const uint8_t *body;
		uint8_t type;
		char st = 0;
		const uint8_t want[] = {'Z', 0, 0, 0, 5, (uint8_t)states[i]};

		pgw_init_static(&w, buf, sizeof(buf));
		pgw_ready(&w, states[i]);
		assert_bytes(w.data, w.len, want, sizeof(want));
		next_msg(&w, &off, &type, &body, &blen);
		cr_assert(pgproto_parse_ready(body, blen, &st));
		cr_assert_eq(st, states[i]);
	}
	{
		char st;
		cr_assert_not(pgproto_parse_ready((const uint8_t *)"X", 1, &st));
		cr_assert_not(pgproto_parse_ready((const uint8_t *)"", 0, &st));
		cr_assert_not(pgproto_parse_ready((const uint8_t *)"II", 2, &st));
		cr_assert_not(pgproto_parse_ready((const uint8_t *)"\0", 1, &st));
	}
}

Test(sasl_initial, round_trip)
{
	uint8_t buf[128];
	PgWriter w;
	size_t off = 0, blen, dlen = 99;
	const uint8_t *body, *data = NULL;
	uint8_t type;
	const char *mech = NULL;
	static const char first[] = "n,,n=,r=rOprNGfwEbeRWgbNEkqO";

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_sasl_initial(&w, "SCRAM-SHA-256", first, strlen(first));
	pgw_sasl_initial(&w, "SCRAM-SHA-256", NULL, 0);
	pgw_sasl_initial(&w, "X", "", 0);
	cr_assert_not(w.failed);

	next_msg(&w, &off, &type, &body, &blen);
	cr_assert_eq(type, PQ_PASSWORD);
	cr_assert(pgproto_parse_sasl_initial(body, blen, &mech, &data, &dlen));
	cr_assert_str_eq(mech, "SCRAM-SHA-256");
	cr_assert_eq(dlen, strlen(first));
	cr_assert_eq(memcmp(data, first, dlen), 0);

	/* no initial response: length -1 */
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert_eq(blen, 14 + 4);
	cr_assert_eq(pg_get_u32(body + 14), 0xffffffffu);
	cr_assert(pgproto_parse_sasl_initial(body, blen, &mech, &data, &dlen));
	cr_assert_null(data);
	cr_assert_eq(dlen, 0);

	/* an empty (but present) response */
	next_msg(&w, &off, &type, &body, &blen);
	cr_assert(pgproto_parse_sasl_initial(body, blen, &mech, &data, &dlen));
	cr_assert_str_eq(mech, "X");
	cr_assert_eq(dlen, 0);
	cr_assert_not_null(data);
	cr_assert_eq(off, w.len);
}

Test(sasl_initial, malformed)
{
	static const struct {
		const char *body;
		size_t len;
	} cases[] = {
	    {LIT("")},
	    {LIT("SCRAM-SHA-256")},	    /* unterminated mechanism */
	    {LIT("SCRAM-SHA-256\0")},	    /* no length */
	    {LIT("SCRAM-SHA-256\0\0\0\0")}, /* short length */
	    {LIT("SCRAM-SHA-256\0\0\0\0\x05"
		 "abcd")}, /* data shorter than length */
	    {LIT("SCRAM-SHA-256\0\0\0\0\x02"
		 "abc")},			      /* trailing bytes */
	    {LIT("SCRAM-SHA-256\0\xff\xff\xff\xfe")}, /* length -2 */
	    {LIT("SCRAM-SHA-256\0\x80\0\0\0")},	      /* INT32_MIN */
	    {LIT("SCRAM-SHA-256\0\x7f\xff\xff\xff")}, /* huge */
	    {LIT("SCRAM-SHA-256\0\xff\xff\xff\xff"
		 "x")},		 /* -1 with trailing data */
	    {LIT("\0\0\0\0\0")}, /* empty mechanism */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *mech;
		const uint8_t *data;
		size_t dlen;

		cr_assert_not(pgproto_parse_sasl_initial((const uint8_t *)cases[i].body,
							 cases[i].len, &mech, &data, &dlen),
			      "case %zu", i);
	}
}

/* ---- builders: exact byte layouts --------------------------------------- */

Test(builders, row_description_bytes)
{
	static const char *const names[] = {"ab", "c"};
	/* clang-format off */
	static const uint8_t want[] = {
		'T', 0, 0, 0, 47,		/* length: 4 + 2 + (3 + 18) + (2 + 18) */
		0, 2,				/* column count */
		'a', 'b', 0,			/* name */
		0, 0, 0, 0,			/* table oid */
		0, 0,				/* attnum */
		0, 0, 0, 25,			/* type oid: text */
		0xff, 0xff,			/* typlen -1 */
		0xff, 0xff, 0xff, 0xff,		/* typmod -1 */
		0, 0,				/* format: text */
		'c', 0,				/* second column */
		0, 0, 0, 0,
		0, 0,
		0, 0, 0, 25,
		0xff, 0xff,
		0xff, 0xff, 0xff, 0xff,
		0, 0,
	};
	/* clang-format on */
	uint8_t buf[128];
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_row_description(&w, names, 2);
	cr_assert_not(w.failed);
	assert_bytes(w.data, w.len, want, sizeof(want));

	/* zero columns */
	{
		static const uint8_t want0[] = {'T', 0, 0, 0, 6, 0, 0};
		pgw_reset(&w);
		pgw_row_description(&w, NULL, 0);
		assert_bytes(w.data, w.len, want0, sizeof(want0));
	}
}

Test(builders, data_row_bytes)
{
	static const char *const values[] = {"x1", NULL, ""};
	/* clang-format off */
	static const uint8_t want[] = {
		'D', 0, 0, 0, 20,		/* length: 4 + 2 + (4 + 2) + 4 + 4 */
		0, 3,				/* value count */
		0, 0, 0, 2, 'x', '1',		/* "x1" */
		0xff, 0xff, 0xff, 0xff,		/* NULL */
		0, 0, 0, 0,			/* "" */
	};
	/* clang-format on */
	uint8_t buf[64];
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_data_row(&w, values, 3);
	cr_assert_not(w.failed);
	assert_bytes(w.data, w.len, want, sizeof(want));
}

Test(builders, simple_messages)
{
	static const struct {
		int which;
		const char *want;
		size_t want_len;
	} cases[] = {
	    {0, LIT("Q\0\0\0\x0dselect 1\0")},
	    {1, LIT("X\0\0\0\x04")},
	    {2, LIT("C\0\0\0\x0dSELECT 1\0")},
	    {3, LIT("\0\0\0\x10\x04\xd2\x16\x2e\0\0\0\x07\xff\xff\xff\xf9")},
	    {4, LIT("S")},
	    {5, LIT("p\0\0\0\x0bsecret\0")},
	    {6, LIT("p\0\0\0\x0a"
		    "c=biws")},
	    {7, LIT("p\0\0\0\x17SCRAM-SHA-256\0\0\0\0\x01z")},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[64];
		PgWriter w;

		pgw_init_static(&w, buf, sizeof(buf));
		switch (cases[i].which) {
		case 0:
			pgw_query(&w, "select 1");
			break;
		case 1:
			pgw_terminate(&w);
			break;
		case 2:
			pgw_command_complete(&w, "SELECT 1");
			break;
		case 3:
			pgw_cancel_request(&w, 7, -7);
			break;
		case 4:
			pgw_ssl_response(&w, 'S');
			break;
		case 5:
			pgw_password(&w, "secret");
			break;
		case 6:
			pgw_sasl_response(&w, "c=biws", 6);
			break;
		case 7:
			pgw_sasl_initial(&w, "SCRAM-SHA-256", "z", 1);
			break;
		}
		cr_assert_not(w.failed, "case %zu", i);
		assert_bytes(w.data, w.len, (const uint8_t *)cases[i].want, cases[i].want_len);
	}
}

Test(builders, cancel_request_parses)
{
	uint8_t buf[16];
	PgWriter w;
	StartupInfo si;
	const char *err = NULL;

	pgw_init_static(&w, buf, sizeof(buf)); /* exactly fits */
	pgw_cancel_request(&w, 4242, INT32_MIN);
	cr_assert_not(w.failed);
	cr_assert_eq(w.len, 16);
	cr_assert(pgproto_parse_startup(w.data, w.len, &si, &err), "%s", err);
	cr_assert_eq(si.kind, STARTUP_CANCEL);
	cr_assert_eq(si.cancel_pid, 4242);
	cr_assert_eq(si.cancel_key, INT32_MIN);
}

/* ---- PgWriter ----------------------------------------------------------- */

Test(writer, static_overflow_is_sticky)
{
	uint8_t buf[8];
	PgWriter w;

	memset(buf, 0xaa, sizeof(buf));
	pgw_init_static(&w, buf, 6);
	pgw_u32(&w, 0x01020304u);
	cr_assert_not(w.failed);
	pgw_u32(&w, 0x05060708u); /* does not fit: nothing written */
	cr_assert(w.failed);
	cr_assert_eq(w.len, 4);
	pgw_u8(&w, 9); /* would fit, but the writer has failed */
	cr_assert(w.failed);
	cr_assert_eq(w.len, 4);
	cr_assert_not(pgw_reserve(&w, 1));
	cr_assert_eq(buf[4], 0xaa);
	cr_assert_eq(buf[6], 0xaa); /* nothing past cap */
	cr_assert_eq(w.data, buf);

	pgw_reset(&w);
	cr_assert_not(w.failed);
	cr_assert_eq(w.len, 0);
	pgw_u16(&w, 0x0a0b);
	pgw_bytes(&w, "xyzw", 4);
	cr_assert_not(w.failed);
	cr_assert_eq(w.len, 6);
	pgw_bytes(&w, "", 0); /* zero bytes always fit */
	cr_assert_not(w.failed);
	pgw_cstr(&w, "");
	cr_assert(w.failed);
}

Test(writer, message_that_does_not_fit)
{
	uint8_t buf[16];
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_query(&w, "select 1"); /* 14 bytes */
	cr_assert_not(w.failed);
	pgw_query(&w, "select 2"); /* would need 28 */
	cr_assert(w.failed);
	/* the first message is still intact */
	cr_assert_eq(pg_get_u32(buf + 1), 13);
	pgw_free(&w); /* a static writer's storage is not freed */
	cr_assert(w.failed);
	pgw_u8(&w, 1);
	cr_assert_eq(w.len, 0);
}

Test(writer, dynamic_growth_and_max)
{
	PgWriter w;

	pgw_init_dynamic(&w, 4, 100);
	cr_assert(w.owned);
	cr_assert_eq(w.cap, 4);
	for (int i = 0; i < 100; i++)
		pgw_u8(&w, (uint8_t)i);
	cr_assert_not(w.failed);
	cr_assert_eq(w.len, 100);
	cr_assert_eq(w.cap, 100); /* capped at max, not the next power of two */
	for (int i = 0; i < 100; i++)
		cr_assert_eq(w.data[i], i);
	pgw_u8(&w, 0);
	cr_assert(w.failed);
	cr_assert_eq(w.len, 100);

	pgw_reset(&w);
	cr_assert_eq(w.cap, 100); /* keeps its storage */
	pgw_bytes(&w, w.data, 0);
	cr_assert_not(pgw_reserve(&w, 101));
	cr_assert(w.failed);
	pgw_reset(&w);
	cr_assert(pgw_reserve(&w, 100));
	cr_assert_not(pgw_reserve(&w, SIZE_MAX));
	pgw_free(&w);
	cr_assert_null(w.data);

	/* lazily allocated, and an initial size above max is clamped */
	pgw_init_dynamic(&w, 0, 1000);
	cr_assert_null(w.data);
	pgw_query(&w, "select 1");
	cr_assert_not(w.failed);
	cr_assert_not_null(w.data);
	cr_assert_eq(w.len, 14);
	pgw_free(&w);

	pgw_init_dynamic(&w, 500, 10);
	cr_assert_leq(w.cap, 10);
	pgw_bytes(&w, "0123456789", 10);
	cr_assert_not(w.failed);
	pgw_u8(&w, 0);
	cr_assert(w.failed);
	pgw_free(&w);
}

Test(writer, dynamic_many_messages)
{
	PgWriter w;
	size_t off = 0, count = 0;

	pgw_init_dynamic(&w, 16, 1 << 20);
	for (int i = 0; i < 1000; i++)
		pgw_param_status(&w, "some_parameter", "some value");
	cr_assert_not(w.failed);
	while (off < w.len) {
		const uint8_t *body;
		size_t blen;
		uint8_t type;
		const char *name, *value;

		next_msg(&w, &off, &type, &body, &blen);
		cr_assert(pgproto_parse_param_status(body, blen, &name, &value));
		count++;
	}
	cr_assert_eq(count, 1000);
	pgw_free(&w);
}

Test(writer, begin_end_lengths)
{
	uint8_t buf[32];
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_begin(&w, 'H');
	pgw_end(&w);
	pgw_begin(&w, 0);
	pgw_u32(&w, 1);
	pgw_end(&w);
	cr_assert_not(w.failed);
	{
		static const uint8_t want[] = {'H', 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 1};
		assert_bytes(w.data, w.len, want, sizeof(want));
	}
}
