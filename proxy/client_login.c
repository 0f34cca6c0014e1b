/*
 * client_login.c - a client's way in: the startup packet (SSLRequest and
 * GSSENCRequest refused with 'N', CancelRequest, version negotiation,
 * replication refused), the database mapping, and authentication against
 * the auth file (SCRAM-SHA-256, md5, trust); then the wait for a server.
 */
#include "client_int.h"

#include "admin.h"
#include "msg.h"
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	const AuthEntry *e = client_authfile ? authfile_find(client_authfile, user) : NULL;
	return e ? e->secret : NULL;
}

/*
 * Verifiers derived from plain-text secrets (and the mock one), computed once
 * per process: PBKDF2 costs ~1.6 ms, too much to spend on the client_loop per login.
 * Indexed like the auth file's entries; the last slot is the mock verifier.
 */
static ScramSecret *derived;
static bool *derived_ok;

void client_login_forget_secrets(void)
{
	free(derived);
	free(derived_ok);
	derived = NULL;
	derived_ok = NULL;
}

static bool derive_secret(size_t slot, const char *password, ScramSecret *out)
{
	uint8_t salt[16];

	if (!derived) {
		size_t n = (client_authfile ? client_authfile->n : 0) + 1;
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
	const AuthEntry *e = client_authfile ? authfile_find(client_authfile, cl->user) : NULL;
	size_t mock_slot = client_authfile ? client_authfile->n : 0;

	if (e && auth_secret_kind(e->secret) == SECRET_SCRAM)
		return scram_parse_secret(e->secret, out);
	if (e && auth_secret_kind(e->secret) == SECRET_PLAIN)
		return derive_secret((size_t)(e - client_authfile->entries), e->secret, out);
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
	if (client_cfg->auth_type == AUTH_TRUST) {
		client_auth_ok(cl);
		return;
	}
	if (client_cfg->auth_type == AUTH_MD5 &&
	    (!secret || auth_secret_kind(secret) != SECRET_SCRAM)) {
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

static void client_auth_ok(Client *cl)
{
	const Node *master = topology_master();
	const char *secret;
	PoolWaiter *w;
	Pool *p;

	cl->auth_step = AS_NONE;
	if (cl->admin) {
		admin_login(cl);
		return;
	}
	if (!cl->backend_password[0]) {
		secret = client_secret(cl->backend_user);
		if (secret)
			snprintf(cl->backend_password, sizeof(cl->backend_password), "%s", secret);
	}
	if (!master) {
		client_fatal(cl, "57P03", "no master node is available");
		return;
	}
	w = &cl->bk[DEST_MASTER].waiter;
	cl->bk[DEST_MASTER].node = master;
	p = pool_get(master, cl->backend_db, cl->backend_user, client_pool_size(cl));
	w->ready = client_master_ready;
	w->failed = client_master_failed;
	w->sig = cl->sig;
	w->sig_len = cl->sig_len;
	w->password = cl->backend_password;
	w->client_key =
	    cl->have_client_key && strcmp(cl->user, cl->backend_user) == 0 ? cl->client_key : NULL;
	client_set_state(cl, CL_WAITING);
	clog_debug(cl, "authenticated; waiting for a server");
	pool_request(p, w);
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
	if (client_shutting_down) {
		client_fatal(cl, "57P03", "the proxy is shutting down");
		return;
	}
	if (si->replication && !is_false(si->replication)) {
		client_fatal(cl, "0A000", "pgrelay does not support replication connections");
		return;
	}
	if (strcmp(cl->database, ADMIN_DBNAME) == 0) {
		/* the admin console: authenticated like anyone, then admin_login() decides */
		cl->admin = true;
		snprintf(cl->backend_db, sizeof(cl->backend_db), "%s", client_cfg->monitor_dbname);
		if (!client_negotiate_version(cl, si))
			return;
		client_begin_auth(cl);
		return;
	}
	db = config_find_database(client_cfg, cl->database);
	if (!db) {
		client_fatal(cl, "3D000", "database \"%s\" does not exist", cl->database);
		return;
	}
	snprintf(cl->backend_db, sizeof(cl->backend_db), "%s",
		 db->dbname[0] ? db->dbname : cl->database);
	snprintf(cl->backend_user, sizeof(cl->backend_user), "%s",
		 db->user[0] ? db->user : cl->user);
	snprintf(cl->backend_password, sizeof(cl->backend_password), "%s", db->password);

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

void client_startup_read(Client *cl)
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
			client_fatal(
			    cl, "0A000",
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

void client_auth_read(Client *cl)
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

/* A login held by a failover: ask the (new) master's pool again. */
void client_login_retry(Client *cl)
{
	const Node *master = topology_master();
	PoolWaiter *w = &cl->bk[DEST_MASTER].waiter;

	if (!master) {
		client_fatal(cl, "57P03", "no master node is available");
		return;
	}
	cl->bk[DEST_MASTER].node = master;
	clog_debug(cl, "asking %s for a server again", master->name);
	pool_request(pool_get(master, cl->backend_db, cl->backend_user, client_pool_size(cl)), w);
}
