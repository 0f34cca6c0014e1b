/*
 * pgproto.h - the PostgreSQL v3 wire codec: message codes, frame-header
 * validation (startup-phase packets and typed v3 messages), parsers for the
 * messages the proxy has to look inside, and builders for the ones it sends.
 * Pure: no sockets, no libev, no allocation (builders write to a PgWriter).
 */
#ifndef PROXY_PGPROTO_H
#define PROXY_PGPROTO_H

#include "buf.h"
#include "common.h"

/* Frontend (client -> server) message types. */
#define PQ_BIND 'B'
#define PQ_CLOSE 'C'
#define PQ_COPY_DATA 'd'
#define PQ_COPY_DONE 'c'
#define PQ_COPY_FAIL 'f'
#define PQ_DESCRIBE 'D'
#define PQ_EXECUTE 'E'
#define PQ_FLUSH 'H'
#define PQ_FUNCTION_CALL 'F'
#define PQ_PARSE 'P'
#define PQ_PASSWORD 'p' /* also SASLInitialResponse, SASLResponse, GSSResponse */
#define PQ_QUERY 'Q'
#define PQ_SYNC 'S'
#define PQ_TERMINATE 'X'

/* Backend (server -> client) message types. */
#define PQ_AUTH 'R'
#define PQ_BACKEND_KEY 'K'
#define PQ_BIND_COMPLETE '2'
#define PQ_CLOSE_COMPLETE '3'
#define PQ_COMMAND_COMPLETE 'C'
#define PQ_COPY_IN_RESPONSE 'G'
#define PQ_COPY_OUT_RESPONSE 'H'
#define PQ_COPY_BOTH_RESPONSE 'W'
#define PQ_DATA_ROW 'D'
#define PQ_EMPTY_QUERY 'I'
#define PQ_ERROR 'E'
#define PQ_FUNCTION_RESULT 'V'
#define PQ_NEGOTIATE_VERSION 'v'
#define PQ_NO_DATA 'n'
#define PQ_NOTICE 'N'
#define PQ_NOTIFICATION 'A'
#define PQ_PARAM_DESCRIPTION 't'
#define PQ_PARAM_STATUS 'S'
#define PQ_PARSE_COMPLETE '1'
#define PQ_PORTAL_SUSPENDED 's'
#define PQ_READY 'Z'
#define PQ_ROW_DESCRIPTION 'T'

/* Authentication request codes (the int32 after 'R'). */
#define PQ_AUTH_OK 0
#define PQ_AUTH_CLEARTEXT 3
#define PQ_AUTH_MD5 5
#define PQ_AUTH_GSS 7
#define PQ_AUTH_SSPI 9
#define PQ_AUTH_SASL 10
#define PQ_AUTH_SASL_CONTINUE 11
#define PQ_AUTH_SASL_FINAL 12

/* Startup-phase request codes. */
#define PG_PROTO_V3 0x00030000u
#define PG_CANCEL_REQUEST_CODE 80877102u
#define PG_SSL_REQUEST_CODE 80877103u
#define PG_GSSENC_REQUEST_CODE 80877104u

/* Limits: startup packets are small (PostgreSQL itself allows 10000 bytes). */
#define PG_STARTUP_MAX_LEN 10000u
#define PG_MAX_STARTUP_PARAMS 64
/* Bytes of a typed message header: type byte + int32 length. */
#define PG_HDR_LEN 5

typedef enum FrameResult { FRAME_OK, FRAME_NEED_MORE, FRAME_BAD } FrameResult;

/*
 * Validates a startup-phase packet header (int32 length, no type byte).
 * On FRAME_OK, *total is the whole packet length (including the length field);
 * the packet is not necessarily all in `avail` yet. FRAME_BAD when the length
 * is < 8 or > PG_STARTUP_MAX_LEN.
 */
FrameResult pgproto_startup_header(const uint8_t *p, size_t avail, uint32_t *total);

/*
 * Validates a typed message header. On FRAME_OK, *type is the type byte and
 * *total the whole message size on the wire (1 + length field). FRAME_BAD when
 * the length field is < 4 or the message would exceed max_total bytes.
 * The body (total - 5 bytes) is not necessarily all in `avail` yet.
 */
FrameResult pgproto_msg_header(const uint8_t *p, size_t avail, size_t max_total, uint8_t *type,
			       size_t *total);

typedef enum StartupKind {
	STARTUP_V3,
	STARTUP_SSL,
	STARTUP_GSSENC,
	STARTUP_CANCEL,
	STARTUP_UNSUPPORTED, /* a protocol version other than 3.x */
} StartupKind;

typedef struct StartupParam {
	const char *name;
	const char *value;
} StartupParam;

typedef struct StartupInfo {
	StartupKind kind;
	uint32_t code;	      /* the version or request code as sent */
	int32_t cancel_pid;   /* STARTUP_CANCEL */
	int32_t cancel_key;   /* STARTUP_CANCEL */
	const char *user;     /* STARTUP_V3: required */
	const char *database; /* STARTUP_V3: defaults to user when absent */
	const char *replication; /* STARTUP_V3: the "replication" param, or NULL */
	/* every other parameter, in the order sent (pointers into the packet) */
	size_t nparams;
	StartupParam params[PG_MAX_STARTUP_PARAMS];
} StartupInfo;

/*
 * Parses a whole startup-phase packet (including its length field). Pointers
 * in *out point into the packet. On failure returns false and sets *err to a
 * message suitable for a 08P01 error.
 */
bool pgproto_parse_startup(const uint8_t *pkt, size_t len, StartupInfo *out, const char **err);

/* Fields of an ErrorResponse or NoticeResponse. Pointers into the body; NULL when absent. */
typedef struct PgErrorFields {
	const char *severity; /* 'V' (non-localized) if present, else 'S' */
	const char *sqlstate; /* 'C' */
	const char *message;  /* 'M' */
	const char *detail;   /* 'D' */
} PgErrorFields;

/* body/len: the message body after the 5-byte header. */
bool pgproto_parse_error(const uint8_t *body, size_t len, PgErrorFields *out);
bool pgproto_parse_param_status(const uint8_t *body, size_t len, const char **name,
				const char **value);
bool pgproto_parse_backend_key(const uint8_t *body, size_t len, int32_t *pid, int32_t *key);
/* 'R': the code and whatever follows it (salt, SASL mechanism list or data). */
bool pgproto_parse_auth(const uint8_t *body, size_t len, uint32_t *code, const uint8_t **data,
			size_t *data_len);
/* 'Z': the transaction status byte, one of 'I', 'T', 'E'. */
bool pgproto_parse_ready(const uint8_t *body, size_t len, char *status);
/*
 * A SASLInitialResponse ('p' body): mechanism name, then int32 length and data
 * (length -1 means no data).
 */
bool pgproto_parse_sasl_initial(const uint8_t *body, size_t len, const char **mech,
				const uint8_t **data, size_t *data_len);

/*
 * Builders. Each appends one complete message to w (and sets w->failed if
 * it does not fit). Strings are NUL-terminated C strings.
 */
void pgw_error(PgWriter *w, const char *severity, const char *sqlstate, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
void pgw_notice(PgWriter *w, const char *severity, const char *sqlstate, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
void pgw_auth(PgWriter *w, uint32_t code, const void *data, size_t len);
void pgw_param_status(PgWriter *w, const char *name, const char *value);
void pgw_backend_key(PgWriter *w, int32_t pid, int32_t key);
void pgw_ready(PgWriter *w, char status);
void pgw_query(PgWriter *w, const char *sql);
void pgw_terminate(PgWriter *w);
void pgw_command_complete(PgWriter *w, const char *tag);
/* A RowDescription whose columns are all text (oid 25), format 0. */
void pgw_row_description(PgWriter *w, const char *const *names, size_t n);
/* A DataRow; a NULL entry is SQL NULL. */
void pgw_data_row(PgWriter *w, const char *const *values, size_t n);
/* StartupMessage v3: user and database plus params (user/database not repeated there). */
void pgw_startup(PgWriter *w, const char *user, const char *database, const StartupParam *params,
		 size_t n);
void pgw_cancel_request(PgWriter *w, int32_t pid, int32_t key);
void pgw_ssl_response(PgWriter *w, char answer); /* the single byte 'N' or 'S' */
void pgw_password(PgWriter *w, const char *password);
void pgw_sasl_initial(PgWriter *w, const char *mech, const void *data, size_t len);
void pgw_sasl_response(PgWriter *w, const void *data, size_t len);

#endif
