/*
 * pgproto.c - the PostgreSQL v3 wire codec declared in pgproto.h: frame
 * header checks, startup packet and backend message parsers (all reading
 * through PgReader cursors), and the builders for what the proxy sends.
 * Pure: no I/O, no allocation.
 */
#include "pgproto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

FrameResult pgproto_startup_header(const uint8_t *p, size_t avail, uint32_t *total)
{
	uint32_t len;

	if (avail < 4)
		return FRAME_NEED_MORE;
	len = pg_get_u32(p);
	if (len < 8 || len > PG_STARTUP_MAX_LEN)
		return FRAME_BAD;
	*total = len;
	return FRAME_OK;
}

FrameResult pgproto_msg_header(const uint8_t *p, size_t avail, size_t max_total, uint8_t *type,
			       size_t *total)
{
	uint32_t len;

	if (avail < PG_HDR_LEN)
		return FRAME_NEED_MORE;
	len = pg_get_u32(p + 1);
	/* the length field is an int32 that counts itself */
	if (len < 4 || len > INT32_MAX)
		return FRAME_BAD;
	if ((uint64_t)len + 1 > (uint64_t)max_total)
		return FRAME_BAD;
	*type = p[0];
	*total = (size_t)len + 1;
	return FRAME_OK;
}

static bool startup_fail(const char **err, const char *msg)
{
	*err = msg;
	return false;
}

/* The name\0value\0...\0 list of a v3 StartupMessage; r is positioned after the version. */
static bool startup_parse_params(PgReader *r, StartupInfo *out, const char **err)
{
	const char *name, *value;
	size_t name_len;

	for (;;) {
		/* the list ends with an empty name: a single NUL as the very last byte */
		if (!pgr_cstr(r, &name, &name_len))
			return startup_fail(err, "startup packet is missing its final terminator");
		if (name_len == 0) {
			if (pgr_left(r) != 0)
				return startup_fail(err, "empty parameter name in startup packet");
			return true;
		}
		if (!pgr_cstr(r, &value, NULL))
			return startup_fail(err, "startup packet parameter has no value");
		if (strcmp(name, "user") == 0) {
			out->user = value;
		} else if (strcmp(name, "database") == 0) {
			out->database = value;
		} else if (strcmp(name, "replication") == 0) {
			out->replication = value;
		} else {
			if (out->nparams >= PG_MAX_STARTUP_PARAMS)
				return startup_fail(err, "too many parameters in startup packet");
			out->params[out->nparams].name = name;
			out->params[out->nparams].value = value;
			out->nparams++;
		}
	}
}

bool pgproto_parse_startup(const uint8_t *pkt, size_t len, StartupInfo *out, const char **err)
{
	PgReader r;
	uint32_t plen, code;

	out->kind = STARTUP_UNSUPPORTED;
	out->code = 0;
	out->cancel_pid = 0;
	out->cancel_key = 0;
	out->user = NULL;
	out->database = NULL;
	out->replication = NULL;
	out->nparams = 0;
	*err = NULL;

	if (len < 8 || len > PG_STARTUP_MAX_LEN)
		return startup_fail(err, "invalid length of startup packet");
	pgr_init(&r, pkt, len);
	if (!pgr_u32(&r, &plen) || plen != len || !pgr_u32(&r, &code))
		return startup_fail(err, "invalid length of startup packet");
	out->code = code;

	switch (code) {
	case PG_CANCEL_REQUEST_CODE:
		out->kind = STARTUP_CANCEL;
		if (len != 16 || !pgr_i32(&r, &out->cancel_pid) || !pgr_i32(&r, &out->cancel_key))
			return startup_fail(err, "invalid length of cancel request packet");
		return true;
	case PG_SSL_REQUEST_CODE:
		out->kind = STARTUP_SSL;
		if (len != 8)
			return startup_fail(err, "invalid length of SSL negotiation packet");
		return true;
	case PG_GSSENC_REQUEST_CODE:
		out->kind = STARTUP_GSSENC;
		if (len != 8)
			return startup_fail(err, "invalid length of GSSAPI negotiation packet");
		return true;
	default:
		break;
	}
	/* any 3.x is v3 (the caller negotiates a minor > 0 down); SSL etc. are 1234.x */
	if (code >> 16 != 3) {
		out->kind = STARTUP_UNSUPPORTED;
		return true;
	}
	out->kind = STARTUP_V3;
	if (!startup_parse_params(&r, out, err))
		return false;
	if (!out->user || out->user[0] == '\0')
		return startup_fail(err, "no PostgreSQL user name specified in startup packet");
	if (!out->database || out->database[0] == '\0')
		out->database = out->user;
	return true;
}

bool pgproto_parse_error(const uint8_t *body, size_t len, PgErrorFields *out)
{
	PgReader r;
	const char *sev_s = NULL, *sev_v = NULL, *s;
	uint8_t field;

	out->severity = out->sqlstate = out->message = out->detail = NULL;
	pgr_init(&r, body, len);
	for (;;) {
		if (!pgr_u8(&r, &field))
			return false; /* missing terminator */
		if (field == 0)
			break;
		if (!pgr_cstr(&r, &s, NULL))
			return false;
		switch (field) {
		case 'S':
			sev_s = s;
			break;
		case 'V':
			sev_v = s;
			break;
		case 'C':
			out->sqlstate = s;
			break;
		case 'M':
			out->message = s;
			break;
		case 'D':
			out->detail = s;
			break;
		default:
			break; /* fields we do not look at */
		}
	}
	if (pgr_left(&r) != 0)
		return false;
	out->severity = sev_v ? sev_v : sev_s;
	return true;
}

bool pgproto_parse_param_status(const uint8_t *body, size_t len, const char **name,
				const char **value)
{
	PgReader r;

	pgr_init(&r, body, len);
	return pgr_cstr(&r, name, NULL) && pgr_cstr(&r, value, NULL) && pgr_left(&r) == 0;
}

bool pgproto_parse_backend_key(const uint8_t *body, size_t len, int32_t *pid, int32_t *key)
{
	PgReader r;

	pgr_init(&r, body, len);
	return len == 8 && pgr_i32(&r, pid) && pgr_i32(&r, key);
}

bool pgproto_parse_auth(const uint8_t *body, size_t len, uint32_t *code, const uint8_t **data,
			size_t *data_len)
{
	PgReader r;

	pgr_init(&r, body, len);
	if (!pgr_u32(&r, code))
		return false;
	*data_len = pgr_left(&r);
	return pgr_bytes(&r, *data_len, data);
}

bool pgproto_parse_ready(const uint8_t *body, size_t len, char *status)
{
	if (len != 1)
		return false;
	if (body[0] != 'I' && body[0] != 'T' && body[0] != 'E')
		return false;
	*status = (char)body[0];
	return true;
}

bool pgproto_parse_sasl_initial(const uint8_t *body, size_t len, const char **mech,
				const uint8_t **data, size_t *data_len)
{
	PgReader r;
	size_t mech_len;
	int32_t dlen;

	pgr_init(&r, body, len);
	if (!pgr_cstr(&r, mech, &mech_len) || mech_len == 0 || !pgr_i32(&r, &dlen))
		return false;
	if (dlen == -1) {
		*data = NULL;
		*data_len = 0;
		return pgr_left(&r) == 0;
	}
	if (dlen < 0 || !pgr_bytes(&r, (size_t)dlen, data))
		return false;
	*data_len = (size_t)dlen;
	return pgr_left(&r) == 0;
}

/* ---- builders ---------------------------------------------------------- */

/*
 * Cuts a truncated UTF-8 string back so it does not end inside a multibyte
 * sequence (clients may reject invalid encoding). n is the string length.
 */
static void utf8_trim_partial(char *s, size_t n)
{
	size_t i = n, need;
	uint8_t lead;

	while (i > 0 && ((uint8_t)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (uint8_t)s[i - 1];
	if (lead < 0xC0)
		return; /* ASCII: the string ends on a whole character */
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

static void pgw_error_fields(PgWriter *w, uint8_t type, const char *severity, const char *sqlstate,
			     const char *fmt, va_list ap) PRINTF_LIKE(5, 0);

static void pgw_error_fields(PgWriter *w, uint8_t type, const char *severity, const char *sqlstate,
			     const char *fmt, va_list ap)
{
	char msg[1024];
	int r;

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r < 0)
		msg[0] = '\0';
	else if ((size_t)r >= sizeof(msg))
		utf8_trim_partial(msg, sizeof(msg) - 1);

	pgw_begin(w, type);
	pgw_u8(w, 'S');
	pgw_cstr(w, severity);
	pgw_u8(w, 'V');
	pgw_cstr(w, severity);
	pgw_u8(w, 'C');
	pgw_cstr(w, sqlstate);
	pgw_u8(w, 'M');
	pgw_cstr(w, msg);
	pgw_u8(w, 0);
	pgw_end(w);
}

void pgw_error(PgWriter *w, const char *severity, const char *sqlstate, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pgw_error_fields(w, PQ_ERROR, severity, sqlstate, fmt, ap);
	va_end(ap);
}

void pgw_notice(PgWriter *w, const char *severity, const char *sqlstate, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pgw_error_fields(w, PQ_NOTICE, severity, sqlstate, fmt, ap);
	va_end(ap);
}

void pgw_auth(PgWriter *w, uint32_t code, const void *data, size_t len)
{
	pgw_begin(w, PQ_AUTH);
	pgw_u32(w, code);
	pgw_bytes(w, data, len);
	pgw_end(w);
}

void pgw_param_status(PgWriter *w, const char *name, const char *value)
{
	pgw_begin(w, PQ_PARAM_STATUS);
	pgw_cstr(w, name);
	pgw_cstr(w, value);
	pgw_end(w);
}

void pgw_backend_key(PgWriter *w, int32_t pid, int32_t key)
{
	pgw_begin(w, PQ_BACKEND_KEY);
	pgw_u32(w, (uint32_t)pid);
	pgw_u32(w, (uint32_t)key);
	pgw_end(w);
}

void pgw_ready(PgWriter *w, char status)
{
	pgw_begin(w, PQ_READY);
	pgw_u8(w, (uint8_t)status);
	pgw_end(w);
}

void pgw_query(PgWriter *w, const char *sql)
{
	pgw_begin(w, PQ_QUERY);
	pgw_cstr(w, sql);
	pgw_end(w);
}

void pgw_terminate(PgWriter *w)
{
	pgw_begin(w, PQ_TERMINATE);
	pgw_end(w);
}

void pgw_command_complete(PgWriter *w, const char *tag)
{
	pgw_begin(w, PQ_COMMAND_COMPLETE);
	pgw_cstr(w, tag);
	pgw_end(w);
}

#define PG_TEXT_OID 25u

void pgw_row_description(PgWriter *w, const char *const *names, size_t n)
{
	if (n > INT16_MAX) {
		w->failed = true;
		return;
	}
	pgw_begin(w, PQ_ROW_DESCRIPTION);
	pgw_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		pgw_cstr(w, names[i]);
		pgw_u32(w, 0);		  /* table oid */
		pgw_u16(w, 0);		  /* column attnum */
		pgw_u32(w, PG_TEXT_OID);  /* type oid */
		pgw_u16(w, (uint16_t)-1); /* typlen: varlena */
		pgw_u32(w, (uint32_t)-1); /* typmod */
		pgw_u16(w, 0);		  /* format: text */
	}
	pgw_end(w);
}

void pgw_data_row(PgWriter *w, const char *const *values, size_t n)
{
	if (n > INT16_MAX) {
		w->failed = true;
		return;
	}
	pgw_begin(w, PQ_DATA_ROW);
	pgw_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		size_t vlen;

		if (!values[i]) {
			pgw_u32(w, UINT32_MAX); /* -1: NULL */
			continue;
		}
		vlen = strlen(values[i]);
		if (vlen > INT32_MAX) {
			w->failed = true;
			return;
		}
		pgw_u32(w, (uint32_t)vlen);
		pgw_bytes(w, values[i], vlen);
	}
	pgw_end(w);
}

void pgw_startup(PgWriter *w, const char *user, const char *database, const StartupParam *params,
		 size_t n)
{
	pgw_begin(w, 0);
	pgw_u32(w, PG_PROTO_V3);
	if (user) {
		pgw_cstr(w, "user");
		pgw_cstr(w, user);
	}
	if (database) {
		pgw_cstr(w, "database");
		pgw_cstr(w, database);
	}
	for (size_t i = 0; i < n; i++) {
		pgw_cstr(w, params[i].name);
		pgw_cstr(w, params[i].value);
	}
	pgw_u8(w, 0);
	pgw_end(w);
}

void pgw_cancel_request(PgWriter *w, int32_t pid, int32_t key)
{
	pgw_begin(w, 0);
	pgw_u32(w, PG_CANCEL_REQUEST_CODE);
	pgw_u32(w, (uint32_t)pid);
	pgw_u32(w, (uint32_t)key);
	pgw_end(w);
}

void pgw_ssl_response(PgWriter *w, char answer)
{
	pgw_u8(w, (uint8_t)answer);
}

void pgw_password(PgWriter *w, const char *password)
{
	pgw_begin(w, PQ_PASSWORD);
	pgw_cstr(w, password);
	pgw_end(w);
}

void pgw_sasl_initial(PgWriter *w, const char *mech, const void *data, size_t len)
{
	if (data && len > INT32_MAX) {
		w->failed = true;
		return;
	}
	pgw_begin(w, PQ_PASSWORD);
	pgw_cstr(w, mech);
	if (!data) {
		pgw_u32(w, UINT32_MAX); /* -1: no initial response */
	} else {
		pgw_u32(w, (uint32_t)len);
		pgw_bytes(w, data, len);
	}
	pgw_end(w);
}

void pgw_sasl_response(PgWriter *w, const void *data, size_t len)
{
	pgw_begin(w, PQ_PASSWORD);
	pgw_bytes(w, data, len);
	pgw_end(w);
}
