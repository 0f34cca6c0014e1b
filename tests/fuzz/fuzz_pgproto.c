/*
 * fuzz_pgproto.c - libFuzzer target for the wire codec (proxy/pgproto.c).
 * The input is read both as a startup-phase packet and as a stream of typed
 * messages; every body goes through every parser, and whatever parses is
 * rebuilt with the matching builder and checked to come back the same.
 */
#include "buf.h"
#include "pgproto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest typed message the fuzzer frames; bigger ones are FRAME_BAD. */
#define FUZZ_MAX_MSG (1u << 16)

static uint8_t out_buf[2 * PG_STARTUP_MAX_LEN + FUZZ_MAX_MSG];

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* A string returned by a parser must lie inside [lo, hi) with its NUL. */
static void check_str(const char *s, const uint8_t *lo, const uint8_t *hi)
{
	const uint8_t *p = (const uint8_t *)s;

	if (!s)
		return;
	CHECK(p >= lo && p < hi);
	CHECK(memchr(p, 0, (size_t)(hi - p)) != NULL);
}

static void fuzz_startup(const uint8_t *pkt, size_t len)
{
	StartupInfo si, si2;
	StartupParam params[PG_MAX_STARTUP_PARAMS + 1];
	const char *err = NULL;
	PgWriter w;
	size_t n;

	if (!pgproto_parse_startup(pkt, len, &si, &err)) {
		CHECK(err != NULL && err[0] != '\0');
		return;
	}
	CHECK(err == NULL);
	CHECK(si.code == pg_get_u32(pkt + 4));
	if (si.kind == STARTUP_CANCEL) {
		CHECK(len == 16);
		pgw_init_static(&w, out_buf, sizeof(out_buf));
		pgw_cancel_request(&w, si.cancel_pid, si.cancel_key);
		CHECK(!w.failed && w.len == len && memcmp(w.data, pkt, len) == 0);
		return;
	}
	if (si.kind != STARTUP_V3)
		return;

	check_str(si.user, pkt, pkt + len);
	check_str(si.database, pkt, pkt + len);
	check_str(si.replication, pkt, pkt + len);
	CHECK(si.user && si.user[0] && si.database && si.database[0]);
	CHECK(si.nparams <= PG_MAX_STARTUP_PARAMS);
	n = si.nparams;
	memcpy(params, si.params, n * sizeof(params[0]));
	for (size_t i = 0; i < n; i++) {
		check_str(params[i].name, pkt, pkt + len);
		check_str(params[i].value, pkt, pkt + len);
		CHECK(params[i].name[0] != '\0');
	}
	if (si.replication)
		params[n++] = (StartupParam){"replication", si.replication};

	/* rebuild and parse again: the same user, database and parameters come back */
	pgw_init_static(&w, out_buf, sizeof(out_buf));
	pgw_startup(&w, si.user, si.database, params, n);
	CHECK(!w.failed);
	if (w.len > PG_STARTUP_MAX_LEN)
		return; /* a defaulted database can make it longer than the original */
	CHECK(pgproto_parse_startup(w.data, w.len, &si2, &err));
	CHECK(si2.kind == STARTUP_V3 && si2.code == PG_PROTO_V3);
	CHECK(strcmp(si2.user, si.user) == 0);
	CHECK(strcmp(si2.database, si.database) == 0);
	CHECK((si2.replication == NULL) == (si.replication == NULL));
	if (si.replication)
		CHECK(strcmp(si2.replication, si.replication) == 0);
	CHECK(si2.nparams == si.nparams);
	for (size_t i = 0; i < si.nparams; i++) {
		CHECK(strcmp(si2.params[i].name, si.params[i].name) == 0);
		CHECK(strcmp(si2.params[i].value, si.params[i].value) == 0);
	}
}

/* The whole message msg[0..total) with body = msg + 5. */
static void fuzz_message(const uint8_t *msg, size_t total)
{
	const uint8_t *body = msg + PG_HDR_LEN, *end = msg + total;
	size_t blen = total - PG_HDR_LEN;
	PgErrorFields ef;
	const char *name, *value, *mech;
	const uint8_t *bytes;
	size_t nbytes;
	int32_t pid, key;
	uint32_t code;
	char status;
	PgWriter w;

	pgw_init_static(&w, out_buf, sizeof(out_buf));

	if (pgproto_parse_error(body, blen, &ef)) {
		check_str(ef.severity, body, end);
		check_str(ef.sqlstate, body, end);
		check_str(ef.message, body, end);
		check_str(ef.detail, body, end);
		if (ef.severity && ef.sqlstate && ef.message) {
			PgErrorFields ef2;
			size_t t2;
			uint8_t type2;

			pgw_error(&w, ef.severity, ef.sqlstate, "%s", ef.message);
			CHECK(!w.failed);
			CHECK(pgproto_msg_header(w.data, w.len, sizeof(out_buf), &type2, &t2) ==
			      FRAME_OK);
			CHECK(type2 == PQ_ERROR && t2 == w.len);
			CHECK(pgproto_parse_error(w.data + PG_HDR_LEN, w.len - PG_HDR_LEN, &ef2));
			CHECK(strcmp(ef2.severity, ef.severity) == 0);
			CHECK(strcmp(ef2.sqlstate, ef.sqlstate) == 0);
			/* the builder truncates long messages */
			CHECK(strncmp(ef2.message, ef.message, strlen(ef2.message)) == 0);
			pgw_reset(&w);
		}
	}
	if (pgproto_parse_param_status(body, blen, &name, &value)) {
		check_str(name, body, end);
		check_str(value, body, end);
		pgw_param_status(&w, name, value);
		CHECK(!w.failed && w.len == total && memcmp(w.data + 1, msg + 1, total - 1) == 0);
		pgw_reset(&w);
	}
	if (pgproto_parse_backend_key(body, blen, &pid, &key)) {
		pgw_backend_key(&w, pid, key);
		CHECK(!w.failed && w.len == total && memcmp(w.data + 1, msg + 1, total - 1) == 0);
		pgw_reset(&w);
	}
	if (pgproto_parse_auth(body, blen, &code, &bytes, &nbytes)) {
		CHECK(nbytes == blen - 4 && bytes == body + 4);
		pgw_auth(&w, code, bytes, nbytes);
		CHECK(!w.failed && w.len == total && memcmp(w.data + 1, msg + 1, total - 1) == 0);
		pgw_reset(&w);
	}
	if (pgproto_parse_ready(body, blen, &status)) {
		CHECK(status == 'I' || status == 'T' || status == 'E');
		pgw_ready(&w, status);
		CHECK(!w.failed && w.len == total && memcmp(w.data + 1, msg + 1, total - 1) == 0);
		pgw_reset(&w);
	}
	if (pgproto_parse_sasl_initial(body, blen, &mech, &bytes, &nbytes)) {
		check_str(mech, body, end);
		CHECK(mech[0] != '\0');
		if (bytes)
			CHECK(bytes >= body && bytes + nbytes == end);
		else
			CHECK(nbytes == 0);
		pgw_sasl_initial(&w, mech, bytes, nbytes);
		CHECK(!w.failed && w.len == total && memcmp(w.data + 1, msg + 1, total - 1) == 0);
		pgw_reset(&w);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t stotal;
	size_t off = 0;

	/* as a startup-phase packet: framed, and also handed in whole */
	switch (pgproto_startup_header(data, size, &stotal)) {
	case FRAME_OK:
		CHECK(stotal >= 8 && stotal <= PG_STARTUP_MAX_LEN);
		if (stotal <= size)
			fuzz_startup(data, stotal);
		break;
	case FRAME_NEED_MORE:
		CHECK(size < 4);
		break;
	case FRAME_BAD:
		break;
	}
	if (size >= 8 && size <= PG_STARTUP_MAX_LEN) {
		StartupInfo si;
		const char *err;

		if (pgproto_parse_startup(data, size, &si, &err))
			CHECK(pg_get_u32(data) == size);
	}

	/* as a stream of typed messages */
	while (off < size) {
		uint8_t type;
		size_t total;
		FrameResult fr =
		    pgproto_msg_header(data + off, size - off, FUZZ_MAX_MSG, &type, &total);

		if (fr != FRAME_OK) {
			CHECK(fr == FRAME_BAD || size - off < PG_HDR_LEN);
			break;
		}
		CHECK(total >= PG_HDR_LEN && total <= FUZZ_MAX_MSG && type == data[off]);
		if (total > size - off)
			break; /* incomplete body */
		fuzz_message(data + off, total);
		off += total;
	}
	return 0;
}
