/*
 * server.c - one backend connection's life: nonblocking connect, startup,
 * authentication as the server asks, the ParameterStatus and BackendKeyData
 * it reports, and the reset after its client leaves. While ACTIVE, its
 * traffic goes to the linked session (ServerLink); see client.c.
 */
#include "server.h"
#include "stats.h"

#include "log.h"
#include "msg.h"
#include "pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest message accepted from a server during login and reset. */
#define SERVER_LOGIN_MAX_MSG (1024 * 1024)
/* The inbound buffer may grow this far to hold one message we must inspect. */
#define SERVER_IN_MAX (16 * 1024 * 1024)

const char *const server_state_name[SV__COUNT] = {
	[SV_CONNECTING] = "connecting", [SV_LOGIN] = "login",	      [SV_IDLE] = "idle",
	[SV_ACTIVE] = "active",		[SV_RESETTING] = "resetting",
};

static void server_on_read(Conn *c);
static void server_on_drain(Conn *c);
static void server_on_connected(Conn *c);
static void server_on_free(Conn *c);

static const ConnOps server_ops = {
	.on_read = server_on_read,
	.on_drain = server_on_drain,
	.on_connected = server_on_connected,
	.on_free = server_on_free,
};

#define slog_debug(sv, fmt, ...)                                                                   \
	log_debug("S-%p %s@%s/%s: " fmt, (void *)(sv), (sv)->user, (sv)->node->name,              \
		  (sv)->database, ##__VA_ARGS__)
#define slog_info(sv, fmt, ...)                                                                    \
	log_info("S-%p %s@%s/%s: " fmt, (void *)(sv), (sv)->user, (sv)->node->name,               \
		 (sv)->database, ##__VA_ARGS__)

static usec_t now_usec(Server *sv)
{
	return (usec_t)(ev_now(sv->conn.loop) * 1e6);
}

void server_set_state(Server *sv, ServerState next)
{
	slog_debug(sv, "%s -> %s", server_state_name[sv->state], server_state_name[next]);
	sv->state = next;
	sv->state_since = now_usec(sv);
}

Server *server_open(struct ev_loop *loop, Pool *p, const Node *node, const char *database, const char *user,
		    const uint8_t *sig, size_t sig_len, const char *password,
		    const uint8_t *client_key)
{
	Server *sv = calloc(1, sizeof(*sv));

	if (!sv)
		return NULL;
	sv->pool = p;
	sv->node = node;
	sv->txn_status = 'I';
	list_init(&sv->pool_node);
	if (!copy_name(sv->user, sizeof(sv->user), user, strlen(user)) ||
	    !copy_name(sv->database, sizeof(sv->database), database, strlen(database)) ||
	    !copy_name(sv->password, sizeof(sv->password), password ? password : "",
		       password ? strlen(password) : 0))
		goto fail;
	if (client_key) {
		memcpy(sv->client_key, client_key, SCRAM_KEY_LEN);
		sv->have_client_key = true;
	}
	sv->sig = malloc(sig_len ? sig_len : 1);
	if (!sv->sig)
		goto fail;
	if (sig_len)
		memcpy(sv->sig, sig, sig_len);
	sv->sig_len = sig_len;
	if (!conn_connect(&sv->conn, loop, (const struct sockaddr *)&node->addr, node->addrlen,
			  &server_ops, SERVER_IN_MAX))
		goto fail;
	if (node->index >= 0 && node->index < STATS_MAX_NODES) {
		sv->conn.rx_bytes = &stats_node[node->index].bytes_to_client;
		sv->conn.tx_bytes = &stats_node[node->index].bytes_to_server;
	}
	sv->state = SV_CONNECTING;
	sv->state_since = (usec_t)(ev_now(loop) * 1e6);
	list_append(&p->busy, &sv->pool_node);
	p->total_opened++;
	return sv;
fail:
	free(sv->sig);
	free(sv);
	return NULL;
}

void server_note_param(Server *sv, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < sv->nparams; i++)
		if (strcmp(sv->params[i].name, name) == 0)
			break;
	if (i == sv->nparams) {
		if (sv->nparams == SERVER_MAX_PARAMS)
			return;
		sv->nparams++;
	}
	snprintf(sv->params[i].name, sizeof(sv->params[i].name), "%s", name);
	snprintf(sv->params[i].value, sizeof(sv->params[i].value), "%s", value);
}

FlushResult server_flush(Server *sv)
{
	return conn_flush(&sv->conn);
}

void server_close(Server *sv, const char *reason)
{
	if (sv->conn.closing)
		return;
	slog_info(sv, "closing server connection: %s", reason);
	pool_server_gone(sv);
	if (sv->state == SV_IDLE && !sv->conn.eof) {
		uint8_t buf[8];
		PgWriter w;
		pgw_init_static(&w, buf, sizeof(buf));
		pgw_terminate(&w);
		if (!w.failed && conn_write(&sv->conn, w.data, w.len)) {
			conn_close_after_flush(&sv->conn, reason);
			return;
		}
	}
	conn_close(&sv->conn, reason);
}

static void server_login_fail(Server *sv, const char *severity, const char *sqlstate,
			      const char *fmt, ...) PRINTF_LIKE(4, 5);

static void server_login_fail(Server *sv, const char *severity, const char *sqlstate,
			      const char *fmt, ...)
{
	ServerError err;
	va_list ap;

	memset(&err, 0, sizeof(err));
	snprintf(err.severity, sizeof(err.severity), "%s", severity);
	snprintf(err.sqlstate, sizeof(err.sqlstate), "%s", sqlstate);
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	log_warning("server %s (%s/%s): login failed: %s %s", sv->node->name, sv->user,
		    sv->database, err.sqlstate, err.message);
	pool_server_login_failed(sv, &err);
	server_close(sv, "login failed");
}

static void server_on_connected(Conn *c)
{
	Server *sv = container_of(c, Server, conn);
	uint8_t buf[PG_STARTUP_MAX_LEN];
	PgWriter w;

	if (c->err) {
		server_login_fail(sv, "FATAL", "08006", "could not connect to server %s (%s:%d): %s",
				  sv->node->name, sv->node->host, sv->node->port, strerror(c->err));
		return;
	}
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_begin(&w, 0);
	pgw_u32(&w, PG_PROTO_V3);
	pgw_cstr(&w, "user");
	pgw_cstr(&w, sv->user);
	pgw_cstr(&w, "database");
	pgw_cstr(&w, sv->database);
	pgw_bytes(&w, sv->sig, sv->sig_len);
	pgw_u8(&w, 0);
	pgw_end(&w);
	if (w.failed || !conn_write(c, w.data, w.len)) {
		server_login_fail(sv, "FATAL", "08P01", "startup packet too large");
		return;
	}
	server_set_state(sv, SV_LOGIN);
	conn_start_reading(c);
	if (conn_flush(c) == FLUSH_ERROR)
		server_login_fail(sv, "FATAL", "08006", "could not send startup packet to %s",
				  sv->node->name);
}

static bool server_send(Server *sv, PgWriter *w)
{
	if (w->failed || !conn_write(&sv->conn, w->data, w->len))
		return false;
	return conn_flush(&sv->conn) != FLUSH_ERROR;
}

/* Answers one Authentication request during login. False: login failed (already reported). */
static bool server_handle_auth(Server *sv, const uint8_t *body, size_t blen)
{
	uint8_t buf[1024];
	char msg[SCRAM_MSG_MAX];
	size_t msglen;
	const char *err = NULL;
	uint32_t code;
	const uint8_t *data;
	size_t dlen;
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	if (!pgproto_parse_auth(body, blen, &code, &data, &dlen)) {
		server_login_fail(sv, "FATAL", "08P01", "server sent a malformed authentication request");
		return false;
	}
	switch (code) {
	case PQ_AUTH_OK:
		return true;
	case PQ_AUTH_CLEARTEXT:
		if (!sv->password[0] || sv->password[0] == 0 ||
		    auth_secret_kind(sv->password) != SECRET_PLAIN) {
			server_login_fail(sv, "FATAL", "28P01",
					  "server %s asks for a cleartext password for user \"%s\" "
					  "but pgrelay has no plain password for it",
					  sv->node->name, sv->user);
			return false;
		}
		pgw_password(&w, sv->password);
		break;
	case PQ_AUTH_MD5: {
		char resp[36];
		if (dlen != 4 || !sv->password[0] ||
		    auth_secret_kind(sv->password) == SECRET_SCRAM) {
			server_login_fail(sv, "FATAL", "28P01",
					  "server %s asks for md5 authentication for user \"%s\" "
					  "but pgrelay has no password or md5 secret for it",
					  sv->node->name, sv->user);
			return false;
		}
		pg_md5_response(sv->user, sv->password, data, resp);
		pgw_password(&w, resp);
		break;
	}
	case PQ_AUTH_SASL: {
		/* a list of NUL-terminated mechanism names */
		bool found = false;
		const uint8_t *p = data, *end = data + dlen;
		while (p < end && *p) {
			const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
			if (!nul)
				break;
			if ((size_t)(nul - p) == 13 && memcmp(p, "SCRAM-SHA-256", 13) == 0)
				found = true;
			p = nul + 1;
		}
		if (!found) {
			server_login_fail(sv, "FATAL", "28000",
					  "server %s offers no SASL mechanism pgrelay supports",
					  sv->node->name);
			return false;
		}
		if (auth_secret_kind(sv->password) != SECRET_PLAIN && !sv->have_client_key) {
			server_login_fail(sv, "FATAL", "28P01",
					  "server %s asks for SCRAM authentication for user \"%s\" "
					  "but pgrelay has neither its plain password nor the "
					  "client's SCRAM key",
					  sv->node->name, sv->user);
			return false;
		}
		if (!scram_client_first(&sv->scram,
					auth_secret_kind(sv->password) == SECRET_PLAIN ? sv->password
										       : NULL,
					sv->have_client_key ? sv->client_key : NULL, NULL, msg,
					sizeof(msg), &msglen)) {
			server_login_fail(sv, "FATAL", "28000", "cannot start SCRAM exchange");
			return false;
		}
		sv->scram_started = true;
		pgw_sasl_initial(&w, "SCRAM-SHA-256", msg, msglen);
		break;
	}
	case PQ_AUTH_SASL_CONTINUE:
		if (!sv->scram_started ||
		    !scram_client_final(&sv->scram, data, dlen, msg, sizeof(msg), &msglen, &err)) {
			server_login_fail(sv, "FATAL", "08P01", "SCRAM exchange with %s failed: %s",
					  sv->node->name, err ? err : "unexpected message");
			return false;
		}
		pgw_sasl_response(&w, msg, msglen);
		break;
	case PQ_AUTH_SASL_FINAL:
		if (!sv->scram_started || !scram_client_verify(&sv->scram, data, dlen, &err)) {
			server_login_fail(sv, "FATAL", "08P01",
					  "server %s failed SCRAM verification: %s", sv->node->name,
					  err ? err : "unexpected message");
			return false;
		}
		return true;
	default:
		server_login_fail(sv, "FATAL", "28000",
				  "server %s asks for an unsupported authentication method (%u)",
				  sv->node->name, code);
		return false;
	}
	if (!server_send(sv, &w)) {
		server_login_fail(sv, "FATAL", "08006", "could not send authentication to %s",
				  sv->node->name);
		return false;
	}
	return true;
}

static void server_error_fields(const uint8_t *body, size_t blen, ServerError *err)
{
	PgErrorFields f;

	memset(err, 0, sizeof(*err));
	if (!pgproto_parse_error(body, blen, &f)) {
		strcpy(err->severity, "FATAL");
		strcpy(err->sqlstate, "08P01");
		strcpy(err->message, "server sent a malformed error");
		return;
	}
	snprintf(err->severity, sizeof(err->severity), "%s", f.severity ? f.severity : "FATAL");
	snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", f.sqlstate ? f.sqlstate : "XX000");
	snprintf(err->message, sizeof(err->message), "%s", f.message ? f.message : "");
}

static void server_login_read(Server *sv)
{
	Conn *c = &sv->conn;
	uint8_t type;
	const uint8_t *body = NULL;
	size_t blen = 0;

	for (;;) {
		FrameResult fr = msg_next(c, SERVER_LOGIN_MAX_MSG, &type, &body, &blen);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			server_login_fail(sv, "FATAL", "08P01",
					  "server %s sent an invalid message during login",
					  sv->node->name);
			return;
		}
		switch (type) {
		case PQ_AUTH:
			if (!server_handle_auth(sv, body, blen))
				return;
			break;
		case PQ_ERROR: {
			ServerError err;
			server_error_fields(body, blen, &err);
			log_warning("server %s (%s/%s): login failed: %s %s", sv->node->name,
				    sv->user, sv->database, err.sqlstate, err.message);
			pool_server_login_failed(sv, &err);
			server_close(sv, "server refused login");
			return;
		}
		case PQ_PARAM_STATUS: {
			const char *name, *value;
			if (pgproto_parse_param_status(body, blen, &name, &value))
				server_note_param(sv, name, value);
			break;
		}
		case PQ_BACKEND_KEY:
			if (!pgproto_parse_backend_key(body, blen, &sv->backend_pid,
						       &sv->backend_key)) {
				server_login_fail(sv, "FATAL", "08P01",
						  "server sent a malformed BackendKeyData");
				return;
			}
			break;
		case PQ_READY:
			if (!pgproto_parse_ready(body, blen, &sv->txn_status)) {
				server_login_fail(sv, "FATAL", "08P01",
						  "server sent a malformed ReadyForQuery");
				return;
			}
			conn_compact(c);
			slog_debug(sv, "logged in, backend pid %d", sv->backend_pid);
			pool_server_login_done(sv);
			return;
		case PQ_NOTICE:
		case PQ_NEGOTIATE_VERSION:
			break;
		default:
			server_login_fail(sv, "FATAL", "08P01",
					  "server %s sent unexpected message '%c' during login",
					  sv->node->name, type);
			return;
		}
	}
	conn_compact(c);
}

bool server_start_reset(Server *sv, const char *reset_query)
{
	uint8_t buf[600];
	PgWriter w;

	if (sv->conn.eof || sv->conn.closing || sv->pending > 0 || sv->unsynced ||
	    sv->fwd_left > 0 || sv->conn.in_len > sv->conn.in_pos)
		return false;
	pgw_init_static(&w, buf, sizeof(buf));
	if (sv->txn_status != 'I') {
		pgw_query(&w, "ROLLBACK");
		sv->pending++;
	}
	if (reset_query && reset_query[0]) {
		pgw_query(&w, reset_query);
		sv->pending++;
	}
	/* reuse only a backend that looks fresh: no temporary namespace */
	pgw_query(&w, "SELECT pg_catalog.pg_my_temp_schema()::pg_catalog.int8");
	sv->pending++;
	sv->reset_failed = false;
	server_set_state(sv, SV_RESETTING);
	if (!server_send(sv, &w)) {
		sv->pending = 0;
		return false;
	}
	conn_resume_reading(&sv->conn);
	return true;
}

/* RESETTING and IDLE: look at every message, keep parameter changes, drop the rest. */
static void server_background_read(Server *sv)
{
	Conn *c = &sv->conn;
	uint8_t type;
	const uint8_t *body = NULL;
	size_t blen = 0;

	for (;;) {
		FrameResult fr = msg_next(c, SERVER_LOGIN_MAX_MSG, &type, &body, &blen);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			server_close(sv, "invalid message from server");
			return;
		}
		if (type == PQ_PARAM_STATUS) {
			const char *name, *value;
			if (pgproto_parse_param_status(body, blen, &name, &value))
				server_note_param(sv, name, value);
		} else if (type == PQ_ERROR) {
			ServerError err;
			server_error_fields(body, blen, &err);
			slog_info(sv, "error while %s: %s %s", server_state_name[sv->state],
				  err.sqlstate, err.message);
			sv->reset_failed = true;
		} else if (type == PQ_DATA_ROW && sv->state == SV_RESETTING) {
			/* the temp-namespace check: one int8 column, "0" when none */
			if (blen != 2 + 4 + 1 || body[0] != 0 || body[1] != 1 ||
			    pg_get_u32(body + 2) != 1 || body[6] != '0')
				sv->no_reuse = true;
		} else if (type == PQ_READY && sv->state == SV_RESETTING) {
			if (!pgproto_parse_ready(body, blen, &sv->txn_status)) {
				server_close(sv, "malformed ReadyForQuery");
				return;
			}
			if (--sv->pending <= 0) {
				sv->pending = 0;
				conn_compact(c);
				if (sv->reset_failed || sv->txn_status != 'I') {
					server_close(sv, "reset query failed");
					return;
				}
				if (sv->no_reuse) {
					server_close(sv, "backend keeps a temporary namespace");
					return;
				}
				pool_server_reset_done(sv);
				return;
			}
		} else if (sv->state == SV_IDLE && type != PQ_NOTICE) {
			/* an idle server has nothing to say but notices and parameters */
			server_close(sv, "unexpected message from idle server");
			return;
		}
	}
	conn_compact(c);
}

static void server_on_read(Conn *c)
{
	Server *sv = container_of(c, Server, conn);

	if (sv->state == SV_ACTIVE && sv->link) {
		sv->link->on_read(sv->link, sv);
		return;
	}
	if (c->eof) {
		if (sv->state == SV_LOGIN)
			server_login_fail(sv, "FATAL", "08006",
					  "server %s closed the connection during login",
					  sv->node->name);
		else
			server_close(sv, c->err ? strerror(c->err) : "server closed the connection");
		return;
	}
	switch (sv->state) {
	case SV_LOGIN:
		server_login_read(sv);
		break;
	case SV_RESETTING:
	case SV_IDLE:
		server_background_read(sv);
		break;
	default:
		break;
	}
}

static void server_on_drain(Conn *c)
{
	Server *sv = container_of(c, Server, conn);

	if (sv->state == SV_ACTIVE && sv->link && sv->link->on_drain)
		sv->link->on_drain(sv->link, sv);
}

static void server_on_free(Conn *c)
{
	Server *sv = container_of(c, Server, conn);

	free(sv->sig);
	free(sv);
}
