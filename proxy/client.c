/*
 * client.c - client sessions: the startup phase, authentication against the
 * auth file, the wait for a pooled server, and the forwarding pump in both
 * directions (zero-copy, streaming large messages, backpressure), with
 * transaction state taken from ReadyForQuery. Also the cancel-key registry.
 */
#include "client.h"

#include "auth.h"
#include "cancel.h"
#include "conn.h"
#include "log.h"
#include "msg.h"
#include "pgproto.h"
#include "pool.h"
#include "topology.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Largest message accepted before authentication completes. */
#define CLIENT_AUTH_MAX_MSG 8192
#define CANCEL_BUCKETS 1024

typedef enum ClientState {
	CL_STARTUP, /* reading the startup packet (after any SSLRequest) */
	CL_AUTH,    /* exchanging authentication messages */
	CL_WAITING, /* authenticated, waiting for a server */
	CL_ACTIVE,  /* linked to a server */
	CL__COUNT
} ClientState;

static const char *const client_state_name[] = {
	[CL_STARTUP] = "startup",
	[CL_AUTH] = "auth",
	[CL_WAITING] = "waiting",
	[CL_ACTIVE] = "active",
};
_Static_assert(ARRAY_SIZE(client_state_name) == CL__COUNT, "update client_state_name");

typedef enum AuthStep { AS_NONE, AS_MD5, AS_SASL_INIT, AS_SASL_FINAL } AuthStep;

typedef struct Client {
	Conn conn;
	ClientState state;
	List node;	  /* all clients */
	List cancel_node; /* cancel-key hash chain */
	int32_t cancel_pid, cancel_key;
	uint64_t id;
	usec_t state_since;
	usec_t last_active;

	char user[PG_NAME_MAX];
	char database[PG_NAME_MAX];
	char backend_db[PG_NAME_MAX];
	char backend_user[PG_NAME_MAX];
	char backend_password[512];
	int pool_size;
	uint8_t *sig; /* startup parameters, name\0value\0 ... (owned) */
	size_t sig_len;

	AuthStep auth_step;
	bool auth_mock; /* unknown user: run the exchange, then fail */
	uint8_t md5_salt[4];
	ScramServer *scram; /* during SCRAM only */
	uint8_t client_key[SCRAM_KEY_LEN];
	bool have_client_key;

	PoolWaiter waiter;
	ServerLink link;
	Server *server;
	size_t fwd_left; /* bytes of a large client message still to forward */
	char txn_status;
	bool reject; /* over max_client_conn: refuse after the startup packet */
	usec_t closing_since;
} Client;

/* A closing client that does not read its last messages is dropped after this. */
#define CLIENT_CLOSE_FLUSH_TIMEOUT (5 * USEC_PER_SEC)

static struct ev_loop *loop;
static const Config *cfg;
static const AuthFile *authfile;
static ListHead clients = {{&clients.head, &clients.head}, 0};
static ListHead cancel_map[CANCEL_BUCKETS];
static bool shutting_down;
static uint64_t next_id = 1;

static void client_on_read(Conn *c);
static void client_on_drain(Conn *c);
static void client_on_free(Conn *c);
static void client_on_connected(Conn *c)
{
	(void)c;
}

static const ConnOps client_ops = {
	.on_read = client_on_read,
	.on_drain = client_on_drain,
	.on_connected = client_on_connected,
	.on_free = client_on_free,
};

#define clog_info(cl, fmt, ...)                                                                    \
	log_info("C-%llu %s/%s@%s: " fmt, (unsigned long long)(cl)->id,                           \
		 (cl)->user[0] ? (cl)->user : "-", (cl)->database[0] ? (cl)->database : "-",       \
		 (cl)->conn.peer, ##__VA_ARGS__)
#define clog_debug(cl, fmt, ...)                                                                   \
	log_debug("C-%llu %s/%s@%s: " fmt, (unsigned long long)(cl)->id,                          \
		  (cl)->user[0] ? (cl)->user : "-", (cl)->database[0] ? (cl)->database : "-",      \
		  (cl)->conn.peer, ##__VA_ARGS__)

static usec_t now_usec(void)
{
	return (usec_t)(ev_now(loop) * 1e6);
}

static void client_set_state(Client *cl, ClientState next)
{
	clog_debug(cl, "%s -> %s", client_state_name[cl->state], client_state_name[next]);
	cl->state = next;
	cl->state_since = now_usec();
}

void client_module_init(struct ev_loop *l, const Config *c, const AuthFile *af)
{
	loop = l;
	cfg = c;
	authfile = af;
	for (size_t i = 0; i < CANCEL_BUCKETS; i++)
		listhead_init(&cancel_map[i]);
}

size_t client_count(void)
{
	return clients.count;
}

/* ---- cancel keys ---------------------------------------------------------- */

static ListHead *cancel_bucket(int32_t pid)
{
	return &cancel_map[(uint32_t)pid % CANCEL_BUCKETS];
}

static Client *cancel_lookup(int32_t pid)
{
	List *it, *tmp;
	ListHead *b = cancel_bucket(pid);

	list_for_each_safe(it, tmp, b)
	{
		Client *cl = container_of(it, Client, cancel_node);
		if (cl->cancel_pid == pid)
			return cl;
	}
	return NULL;
}

static bool cancel_register(Client *cl)
{
	for (int tries = 0; tries < 16; tries++) {
		int32_t r[2];
		if (!auth_random(r, sizeof(r)))
			return false;
		r[0] &= 0x7fffffff;
		if (r[0] == 0 || cancel_lookup(r[0]))
			continue;
		cl->cancel_pid = r[0];
		cl->cancel_key = r[1];
		list_append(cancel_bucket(cl->cancel_pid), &cl->cancel_node);
		return true;
	}
	return false;
}

static void client_cancel_request(int32_t pid, int32_t key)
{
	Client *cl = cancel_lookup(pid);
	Server *sv;

	if (!cl || !auth_equal(&cl->cancel_key, &key, sizeof(key))) {
		log_info("cancel request with an unknown key ignored");
		return;
	}
	sv = cl->server;
	if (!sv || sv->conn.closing) {
		clog_info(cl, "cancel request: no server linked, nothing to cancel");
		return;
	}
	clog_info(cl, "forwarding cancel request to backend %d on %s", sv->backend_pid,
		  sv->node->name);
	cancel_send(loop, (const struct sockaddr *)&sv->node->addr, sv->node->addrlen,
		    sv->backend_pid, sv->backend_key);
}

/* ---- closing ---------------------------------------------------------------- */

/* Gives the server back (reset and pooled, or closed when it cannot be reset). */
static void client_detach_server(Client *cl)
{
	Server *sv = cl->server;

	if (!sv)
		return;
	cl->server = NULL;
	sv->link = NULL;
	if (sv->conn.closing || sv->conn.eof)
		server_close(sv, "server connection lost");
	else if (cl->fwd_left > 0)
		server_close(sv, "client left in the middle of a message");
	else
		pool_release(sv);
}

static void client_close(Client *cl, const char *reason)
{
	if (cl->conn.closing)
		return;
	clog_info(cl, "closing: %s", reason);
	cl->closing_since = now_usec();
	if (cl->state == CL_WAITING)
		pool_cancel_wait(&cl->waiter);
	client_detach_server(cl);
	conn_close_after_flush(&cl->conn, reason);
}

static void client_error(Client *cl, const char *severity, const char *sqlstate, const char *msg)
{
	uint8_t buf[1400];
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_error(&w, severity, sqlstate, "%s", msg);
	if (!w.failed && !conn_write(&cl->conn, w.data, w.len))
		conn_close(&cl->conn, "out of memory");
}

static void client_fatal(Client *cl, const char *sqlstate, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void client_fatal(Client *cl, const char *sqlstate, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clog_info(cl, "FATAL %s %s", sqlstate, msg);
	client_error(cl, "FATAL", sqlstate, msg);
	client_close(cl, "fatal error sent");
}

/* ---- startup and authentication ---------------------------------------------- */

static bool client_send(Client *cl, PgWriter *w)
{
	if (w->failed || !conn_write(&cl->conn, w->data, w->len)) {
		conn_close(&cl->conn, "cannot queue a message");
		return false;
	}
	return conn_flush(&cl->conn) != FLUSH_ERROR;
}

static bool is_false(const char *v)
{
	static const char *const no[] = {"0", "false", "off", "no", "f", "n"};
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return true;
	return false;
}

static const char *client_secret(const char *user)
{
	const AuthEntry *e = authfile ? authfile_find(authfile, user) : NULL;
	return e ? e->secret : NULL;
}

/*
 * Verifiers derived from plain-text secrets (and the mock one), computed once
 * per process: PBKDF2 costs ~1.6 ms, too much to spend on the loop per login.
 * Indexed like the auth file's entries; the last slot is the mock verifier.
 */
static ScramSecret *derived;
static bool *derived_ok;

static bool derive_secret(size_t slot, const char *password, ScramSecret *out)
{
	uint8_t salt[16];

	if (!derived) {
		size_t n = (authfile ? authfile->n : 0) + 1;
		derived = xcalloc(n, sizeof(*derived));
		derived_ok = xcalloc(n, sizeof(*derived_ok));
	}
	if (!derived_ok[slot]) {
		if (!auth_random(salt, sizeof(salt)) ||
		    !scram_secret_from_password(password, salt, sizeof(salt),
						SCRAM_DEFAULT_ITERATIONS, &derived[slot]))
			return false;
		derived_ok[slot] = true;
	}
	*out = derived[slot];
	return true;
}

/* A SCRAM verifier for the user; a mock one (the exchange then fails) when unknown. */
static bool client_scram_secret(Client *cl, ScramSecret *out)
{
	const AuthEntry *e = authfile ? authfile_find(authfile, cl->user) : NULL;
	size_t mock_slot = authfile ? authfile->n : 0;

	if (e && auth_secret_kind(e->secret) == SECRET_SCRAM)
		return scram_parse_secret(e->secret, out);
	if (e && auth_secret_kind(e->secret) == SECRET_PLAIN)
		return derive_secret((size_t)(e - authfile->entries), e->secret, out);
	/* unknown user, or an md5 secret that cannot verify SCRAM */
	cl->auth_mock = true;
	return derive_secret(mock_slot, "", out);
}

static void client_auth_ok(Client *cl);

static void client_begin_auth(Client *cl)
{
	uint8_t buf[64];
	PgWriter w;
	const char *secret = client_secret(cl->user);

	pgw_init_static(&w, buf, sizeof(buf));
	client_set_state(cl, CL_AUTH);
	if (cfg->auth_type == AUTH_TRUST) {
		client_auth_ok(cl);
		return;
	}
	if (cfg->auth_type == AUTH_MD5 && (!secret || auth_secret_kind(secret) != SECRET_SCRAM)) {
		if (!auth_random(cl->md5_salt, sizeof(cl->md5_salt))) {
			client_fatal(cl, "XX000", "random number generator failed");
			return;
		}
		cl->auth_step = AS_MD5;
		pgw_auth(&w, PQ_AUTH_MD5, cl->md5_salt, sizeof(cl->md5_salt));
	} else {
		static const char mechs[] = "SCRAM-SHA-256\0";
		cl->auth_step = AS_SASL_INIT;
		pgw_auth(&w, PQ_AUTH_SASL, mechs, sizeof(mechs));
	}
	client_send(cl, &w);
}

static void client_auth_failed(Client *cl)
{
	client_fatal(cl, "28P01", "password authentication failed for user \"%s\"", cl->user);
}

static void client_auth_msg(Client *cl, uint8_t type, const uint8_t *body, size_t blen)
{
	uint8_t buf[SCRAM_MSG_MAX + 64];
	char msg[SCRAM_MSG_MAX];
	size_t msglen;
	const char *err = NULL;
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	if (type != PQ_PASSWORD) {
		client_fatal(cl, "08P01", "expected password response, got message type %d", type);
		return;
	}
	switch (cl->auth_step) {
	case AS_MD5: {
		const char *secret = client_secret(cl->user);
		char want[36];
		if (blen != 36 || body[35] != 0 || !secret) {
			client_auth_failed(cl);
			return;
		}
		pg_md5_response(cl->user, secret, cl->md5_salt, want);
		if (!auth_equal(want, body, 35)) {
			client_auth_failed(cl);
			return;
		}
		client_auth_ok(cl);
		return;
	}
	case AS_SASL_INIT: {
		const char *mech;
		const uint8_t *data;
		size_t dlen;
		ScramSecret secret;
		if (!pgproto_parse_sasl_initial(body, blen, &mech, &data, &dlen)) {
			client_fatal(cl, "08P01", "malformed SASLInitialResponse");
			return;
		}
		if (strcmp(mech, "SCRAM-SHA-256") != 0) {
			client_fatal(cl, "08P01",
				     "client selected an invalid SASL authentication mechanism");
			return;
		}
		cl->scram = calloc(1, sizeof(*cl->scram));
		if (!cl->scram || !client_scram_secret(cl, &secret)) {
			client_fatal(cl, "XX000", "cannot prepare SCRAM authentication");
			return;
		}
		if (!scram_server_first(cl->scram, &secret, NULL, data, dlen, msg, sizeof(msg),
					&msglen, &err)) {
			client_fatal(cl, "08P01", "malformed SCRAM message: %s",
				     err ? err : "invalid");
			return;
		}
		cl->auth_step = AS_SASL_FINAL;
		pgw_auth(&w, PQ_AUTH_SASL_CONTINUE, msg, msglen);
		client_send(cl, &w);
		return;
	}
	case AS_SASL_FINAL:
		if (!scram_server_final(cl->scram, body, blen, msg, sizeof(msg), &msglen, &err) ||
		    cl->auth_mock) {
			client_auth_failed(cl);
			return;
		}
		memcpy(cl->client_key, cl->scram->client_key, SCRAM_KEY_LEN);
		cl->have_client_key = true;
		free(cl->scram);
		cl->scram = NULL;
		pgw_auth(&w, PQ_AUTH_SASL_FINAL, msg, msglen);
		if (!client_send(cl, &w))
			return;
		client_auth_ok(cl);
		return;
	case AS_NONE:
		break;
	}
	client_fatal(cl, "08P01", "unexpected authentication message");
}

static void client_server_ready(PoolWaiter *w, Server *sv);
static void client_server_failed(PoolWaiter *w, const ServerError *err);
static void client_on_server_read(ServerLink *link, Server *sv);
static void client_on_server_drain(ServerLink *link, Server *sv);

static void client_auth_ok(Client *cl)
{
	const Node *master = topology_master();
	const char *secret;
	Pool *p;

	cl->auth_step = AS_NONE;
	if (!cl->backend_password[0]) {
		secret = client_secret(cl->backend_user);
		if (secret)
			snprintf(cl->backend_password, sizeof(cl->backend_password), "%s", secret);
	}
	if (!master) {
		client_fatal(cl, "57P03", "no master node is available");
		return;
	}
	p = pool_get(master, cl->backend_db, cl->backend_user, cl->pool_size);
	cl->waiter.ready = client_server_ready;
	cl->waiter.failed = client_server_failed;
	cl->waiter.sig = cl->sig;
	cl->waiter.sig_len = cl->sig_len;
	cl->waiter.password = cl->backend_password;
	cl->waiter.client_key =
		cl->have_client_key && strcmp(cl->user, cl->backend_user) == 0 ? cl->client_key : NULL;
	cl->link.on_read = client_on_server_read;
	cl->link.on_drain = client_on_server_drain;
	client_set_state(cl, CL_WAITING);
	clog_debug(cl, "authenticated; waiting for a server");
	pool_request(p, &cl->waiter);
}

/*
 * A client asking for protocol 3.x with x > 0, or for _pq_.* options, is told
 * what we speak (3.0, none of the options), as PostgreSQL does.
 */
static bool client_negotiate_version(Client *cl, const StartupInfo *si)
{
	uint8_t buf[2048];
	PgWriter w;
	uint32_t nopts = 0;

	for (size_t i = 0; i < si->nparams; i++)
		if (strncmp(si->params[i].name, "_pq_.", 5) == 0)
			nopts++;
	if ((si->code & 0xffff) == 0 && nopts == 0)
		return true;
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_begin(&w, PQ_NEGOTIATE_VERSION);
	pgw_u32(&w, PG_PROTO_V3);
	pgw_u32(&w, nopts);
	for (size_t i = 0; i < si->nparams; i++)
		if (strncmp(si->params[i].name, "_pq_.", 5) == 0)
			pgw_cstr(&w, si->params[i].name);
	pgw_end(&w);
	return client_send(cl, &w);
}

/* Validates the v3 startup packet and starts authentication. */
static void client_login(Client *cl, const StartupInfo *si)
{
	const CfgDatabase *db;
	size_t sig_len = 0;
	uint8_t *p;

	if (!copy_name(cl->user, sizeof(cl->user), si->user, strlen(si->user))) {
		client_fatal(cl, "08P01", "user name too long");
		return;
	}
	if (!copy_name(cl->database, sizeof(cl->database), si->database, strlen(si->database))) {
		client_fatal(cl, "08P01", "database name too long");
		return;
	}
	if (cl->reject) {
		client_fatal(cl, "53300", "sorry, too many clients already");
		return;
	}
	if (shutting_down) {
		client_fatal(cl, "57P03", "the proxy is shutting down");
		return;
	}
	if (si->replication && !is_false(si->replication)) {
		client_fatal(cl, "0A000", "pgrelay does not support replication connections");
		return;
	}
	db = config_find_database(cfg, cl->database);
	if (!db) {
		client_fatal(cl, "3D000", "database \"%s\" does not exist", cl->database);
		return;
	}
	snprintf(cl->backend_db, sizeof(cl->backend_db), "%s", db->dbname[0] ? db->dbname : cl->database);
	snprintf(cl->backend_user, sizeof(cl->backend_user), "%s", db->user[0] ? db->user : cl->user);
	snprintf(cl->backend_password, sizeof(cl->backend_password), "%s", db->password);
	cl->pool_size = db->pool_size > 0 ? db->pool_size : cfg->pool_size;

	/* the parameters a pooled server must have been opened with */
	for (size_t i = 0; i < si->nparams; i++)
		if (strncmp(si->params[i].name, "_pq_.", 5) != 0)
			sig_len += strlen(si->params[i].name) + strlen(si->params[i].value) + 2;
	cl->sig = malloc(sig_len ? sig_len : 1);
	if (!cl->sig) {
		client_fatal(cl, "53200", "out of memory");
		return;
	}
	p = cl->sig;
	for (size_t i = 0; i < si->nparams; i++) {
		size_t n, v;
		if (strncmp(si->params[i].name, "_pq_.", 5) == 0)
			continue;
		n = strlen(si->params[i].name) + 1;
		v = strlen(si->params[i].value) + 1;
		memcpy(p, si->params[i].name, n);
		memcpy(p + n, si->params[i].value, v);
		p += n + v;
	}
	cl->sig_len = sig_len;
	if (!client_negotiate_version(cl, si))
		return;
	client_begin_auth(cl);
}

static void client_startup_read(Client *cl)
{
	Conn *c = &cl->conn;

	while (c->in_pos < c->in_len && !c->closing) {
		size_t avail = c->in_len - c->in_pos;
		const uint8_t *pkt = c->in + c->in_pos;
		uint32_t total;
		StartupInfo si;
		const char *err = NULL;
		FrameResult fr = pgproto_startup_header(pkt, avail, &total);

		if (fr == FRAME_NEED_MORE || (fr == FRAME_OK && avail < total))
			break;
		if (fr == FRAME_BAD) {
			client_fatal(cl, "08P01", "invalid length of startup packet");
			return;
		}
		if (!pgproto_parse_startup(pkt, total, &si, &err)) {
			client_fatal(cl, "08P01", "invalid startup packet: %s", err);
			return;
		}
		c->in_pos += total;
		switch (si.kind) {
		case STARTUP_SSL:
		case STARTUP_GSSENC: {
			uint8_t b[1];
			PgWriter w;
			if (c->in_len > c->in_pos) {
				client_fatal(cl, "08P01",
					     "received unencrypted data after SSL request");
				return;
			}
			pgw_init_static(&w, b, sizeof(b));
			pgw_ssl_response(&w, 'N');
			if (!client_send(cl, &w))
				return;
			continue;
		}
		case STARTUP_CANCEL:
			client_cancel_request(si.cancel_pid, si.cancel_key);
			conn_close(c, "cancel request handled");
			return;
		case STARTUP_UNSUPPORTED:
			client_fatal(cl, "0A000",
				     "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0",
				     si.code >> 16, si.code & 0xffff);
			return;
		case STARTUP_V3:
			client_login(cl, &si);
			conn_compact(c);
			return;
		}
	}
	conn_compact(c);
}

static void client_auth_read(Client *cl)
{
	Conn *c = &cl->conn;
	uint8_t type;
	const uint8_t *body = NULL;
	size_t blen = 0;

	while (cl->state == CL_AUTH && !c->closing) {
		FrameResult fr = msg_next(c, CLIENT_AUTH_MAX_MSG, &type, &body, &blen);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			client_fatal(cl, "08P01", "invalid message during authentication");
			return;
		}
		client_auth_msg(cl, type, body, blen);
	}
	conn_compact(c);
}

/* ---- linked: forwarding ------------------------------------------------------- */

static void client_forward(Client *cl);

static void client_server_ready(PoolWaiter *w, Server *sv)
{
	Client *cl = container_of(w, Client, waiter);
	uint8_t buf[SERVER_MAX_PARAMS * 340 + 64];
	PgWriter wr;

	cl->server = sv;
	sv->link = &cl->link;
	sv->fwd_left = 0;
	cl->fwd_left = 0;
	cl->txn_status = sv->txn_status;
	pgw_init_static(&wr, buf, sizeof(buf));
	pgw_auth(&wr, PQ_AUTH_OK, NULL, 0);
	for (size_t i = 0; i < sv->nparams; i++)
		pgw_param_status(&wr, sv->params[i].name, sv->params[i].value);
	pgw_backend_key(&wr, cl->cancel_pid, cl->cancel_key);
	pgw_ready(&wr, sv->txn_status);
	client_set_state(cl, CL_ACTIVE);
	clog_debug(cl, "linked to backend %d on %s", sv->backend_pid, sv->node->name);
	if (!client_send(cl, &wr))
		return;
	conn_resume_reading(&sv->conn);
	conn_resume_reading(&cl->conn);
	if (cl->conn.in_len > cl->conn.in_pos)
		client_forward(cl);
}

static void client_server_failed(PoolWaiter *w, const ServerError *err)
{
	Client *cl = container_of(w, Client, waiter);

	client_fatal(cl, err->sqlstate[0] ? err->sqlstate : "08006", "%s", err->message);
}

/* The server went away under an active client. */
static void client_server_lost(Client *cl, Server *sv)
{
	const char *why = sv->conn.err ? strerror(sv->conn.err) : "server closed the connection";
	bool told = sv->last_type == PQ_ERROR && sv->fwd_left == 0;

	cl->server = NULL;
	sv->link = NULL;
	server_close(sv, why);
	if (told) {
		/* the server's own FATAL (e.g. 57P01 from pg_terminate_backend) was the last word */
		client_close(cl, "server closed the connection after an error");
		return;
	}
	client_fatal(cl, "08006", "server connection lost (%s): %s", sv->node->name, why);
}

/* Client -> server: forward every complete message, stream large ones. */
static void client_forward(Client *cl)
{
	Conn *c = &cl->conn;
	Server *sv = cl->server;
	Conn *s = &sv->conn;

	while (c->in_pos < c->in_len) {
		size_t avail = c->in_len - c->in_pos, total;
		const uint8_t *p = c->in + c->in_pos;
		uint8_t type;
		FrameResult fr;

		if (cl->fwd_left > 0) {
			size_t n = avail < cl->fwd_left ? avail : cl->fwd_left;
			if (!conn_queue(s, p, n))
				goto oom;
			c->in_pos += n;
			cl->fwd_left -= n;
			continue;
		}
		fr = pgproto_msg_header(p, avail, cfg->max_message_size, &type, &total);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			if (avail >= PG_HDR_LEN && pg_get_u32(p + 1) >= 4)
				client_fatal(cl, "08P01",
					     "message of type '%c' is larger than max_message_size "
					     "(%zu bytes)",
					     p[0], cfg->max_message_size);
			else
				client_fatal(cl, "08P01", "invalid message length");
			return;
		}
		switch (type) {
		case PQ_TERMINATE:
			conn_flush(s);
			c->in_pos = c->in_len;
			client_close(cl, "client sent Terminate");
			return;
		case PQ_SYNC:
			sv->unsynced = false;
			sv->pending++;
			break;
		case PQ_QUERY:
		case PQ_FUNCTION_CALL:
			sv->pending++;
			break;
		case PQ_PARSE:
		case PQ_BIND:
		case PQ_DESCRIBE:
		case PQ_EXECUTE:
		case PQ_CLOSE:
		case PQ_FLUSH:
			sv->unsynced = true;
			break;
		default:
			break;
		}
		if (total <= avail) {
			if (!conn_queue(s, p, total))
				goto oom;
			c->in_pos += total;
		} else {
			if (!conn_queue(s, p, avail))
				goto oom;
			c->in_pos += avail;
			cl->fwd_left = total - avail;
		}
	}
	if (conn_flush(s) == FLUSH_PENDING)
		conn_pause_reading(c);
	conn_compact(c);
	return;
oom:
	client_fatal(cl, "53200", "out of memory");
}

/* Server -> client: forward, noting ReadyForQuery and ParameterStatus on the way. */
static void client_on_server_read(ServerLink *link, Server *sv)
{
	Client *cl = container_of(link, Client, link);
	Conn *s = &sv->conn, *c = &cl->conn;
	size_t need = 0;
	bool idle_now = false;

	if (s->eof) {
		client_server_lost(cl, sv);
		return;
	}
	while (s->in_pos < s->in_len) {
		size_t avail = s->in_len - s->in_pos, total;
		const uint8_t *p = s->in + s->in_pos;
		uint8_t type;
		FrameResult fr;

		if (sv->fwd_left > 0) {
			size_t n = avail < sv->fwd_left ? avail : sv->fwd_left;
			if (!conn_queue(c, p, n))
				goto oom;
			s->in_pos += n;
			sv->fwd_left -= n;
			continue;
		}
		fr = pgproto_msg_header(p, avail, SIZE_MAX, &type, &total);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			conn_flush(c);
			cl->server = NULL;
			sv->link = NULL;
			server_close(sv, "invalid message from server");
			client_fatal(cl, "08P01", "server %s sent an invalid message",
				     sv->node->name);
			return;
		}
		sv->last_type = type;
		if (type == PQ_READY || type == PQ_PARAM_STATUS) {
			const uint8_t *body = p + PG_HDR_LEN;
			if (total > avail) {
				need = total;
				break;
			}
			if (type == PQ_READY) {
				char st;
				if (pgproto_parse_ready(body, total - PG_HDR_LEN, &st)) {
					sv->txn_status = cl->txn_status = st;
					if (sv->pending > 0)
						sv->pending--;
					idle_now = st == 'I' && sv->pending == 0;
				}
			} else {
				const char *name, *value;
				if (pgproto_parse_param_status(body, total - PG_HDR_LEN, &name,
							       &value))
					server_note_param(sv, name, value);
			}
		}
		if (total <= avail) {
			if (!conn_queue(c, p, total))
				goto oom;
			s->in_pos += total;
		} else {
			if (!conn_queue(c, p, avail))
				goto oom;
			s->in_pos += avail;
			sv->fwd_left = total - avail;
		}
	}
	if (conn_flush(c) == FLUSH_PENDING)
		conn_pause_reading(s);
	conn_compact(s);
	if (need && !conn_in_reserve(s, need)) {
		client_server_lost(cl, sv);
		return;
	}
	if (idle_now && shutting_down)
		client_fatal(cl, "57P01", "terminating connection due to administrator command");
	return;
oom:
	client_fatal(cl, "53200", "out of memory");
}

static void client_on_server_drain(ServerLink *link, Server *sv)
{
	Client *cl = container_of(link, Client, link);

	(void)sv;
	conn_resume_reading(&cl->conn);
}

/* ---- conn callbacks ------------------------------------------------------------ */

static void client_on_read(Conn *c)
{
	Client *cl = container_of(c, Client, conn);

	if (c->eof) {
		client_close(cl, c->err ? strerror(c->err) : "client closed the connection");
		return;
	}
	cl->last_active = now_usec();
	switch (cl->state) {
	case CL_STARTUP:
		client_startup_read(cl);
		break;
	case CL_AUTH:
		client_auth_read(cl);
		break;
	case CL_WAITING:
		/*
		 * Early bytes stay buffered until a server is linked; conn.c stops
		 * reading when the buffer is full, and an EOF is still noticed.
		 */
		break;
	case CL_ACTIVE:
		if (cl->server)
			client_forward(cl);
		break;
	case CL__COUNT:
		break;
	}
}

static void client_on_drain(Conn *c)
{
	Client *cl = container_of(c, Client, conn);

	if (cl->state == CL_ACTIVE && cl->server)
		conn_resume_reading(&cl->server->conn);
}

static void client_on_free(Conn *c)
{
	Client *cl = container_of(c, Client, conn);

	if (list_linked(&cl->node))
		list_remove(&clients, &cl->node);
	if (list_linked(&cl->cancel_node))
		list_remove(cancel_bucket(cl->cancel_pid), &cl->cancel_node);
	free(cl->scram);
	free(cl->sig);
	free(cl);
}

void client_accept(int fd)
{
	Client *cl = calloc(1, sizeof(*cl));

	if (!cl) {
		close(fd);
		return;
	}
	list_init(&cl->node);
	list_init(&cl->cancel_node);
	list_init(&cl->waiter.node);
	cl->id = next_id++;
	cl->txn_status = 'I';
	if (!conn_init(&cl->conn, loop, fd, &client_ops, cfg->max_message_size)) {
		log_warning("cannot set up client connection: out of memory");
		free(cl->conn.in);
		free(cl);
		close(fd);
		return;
	}
	cl->state_since = cl->last_active = now_usec();
	list_append(&clients, &cl->node);
	if (!cancel_register(cl)) {
		conn_close(&cl->conn, "cannot allocate a cancel key");
		return;
	}
	/* over the limit: still read the startup packet, to answer with a proper error */
	cl->reject = clients.count > (size_t)cfg->max_client_conn;
	clog_debug(cl, "accepted");
	conn_start_reading(&cl->conn);
}

/* ---- maintenance and shutdown ---------------------------------------------------- */

static bool client_is_idle(const Client *cl)
{
	return cl->state == CL_ACTIVE && cl->server && cl->server->txn_status == 'I' &&
	       cl->server->pending == 0 && cl->fwd_left == 0 && cl->server->fwd_left == 0;
}

void client_maint(usec_t now)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		if (cl->conn.closing)
			continue;
		if (cl->conn.close_after_flush) {
			if (now - cl->closing_since > CLIENT_CLOSE_FLUSH_TIMEOUT)
				conn_close(&cl->conn, "client does not read its last messages");
			continue;
		}
		if ((cl->state == CL_STARTUP || cl->state == CL_AUTH) &&
		    now - cl->state_since > cfg->client_login_timeout) {
			client_fatal(cl, "08P01", "client_login_timeout: login took too long");
			continue;
		}
		if (shutting_down && (cl->state != CL_ACTIVE || client_is_idle(cl))) {
			client_fatal(cl, "57P01", "terminating connection due to administrator command");
			continue;
		}
		if (cfg->client_idle_timeout > 0 && client_is_idle(cl) &&
		    now - cl->last_active > cfg->client_idle_timeout) {
			client_fatal(cl, "57P05",
				     "terminating connection due to idle-session timeout "
				     "(client_idle_timeout)");
			continue;
		}
	}
}

void client_shutdown_begin(void)
{
	shutting_down = true;
	client_maint(now_usec());
}

void client_close_all(const char *reason)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		if (!cl->conn.closing)
			client_fatal(cl, "57P01", "terminating connection: %s", reason);
	}
}
