/*
 * client.c - client sessions' lifecycle: accepting, the cancel-key registry,
 * closing (with the server handed back to its pool), the conn callbacks that
 * dispatch to login (client_login.c) or forwarding (client_pump.c), and the
 * periodic checks (login and idle timeouts, shutdown).
 */
#include "client_int.h"

#include "admin.h"
#include "cancel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const client_state_name[] = {
    [CL_STARTUP] = "startup", [CL_AUTH] = "auth",   [CL_WAITING] = "waiting",
    [CL_ACTIVE] = "active",   [CL_ADMIN] = "admin",
};
_Static_assert(ARRAY_SIZE(client_state_name) == CL__COUNT, "update client_state_name");

struct ev_loop *client_loop;
const Config *client_cfg;
const AuthFile *client_authfile;
static ListHead clients = {{&clients.head, &clients.head}, 0};
static ListHead cancel_map[CANCEL_BUCKETS];
bool client_shutting_down;
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

usec_t client_now(void)
{
	return (usec_t)(ev_now(client_loop) * 1e6);
}

void client_set_state(Client *cl, ClientState next)
{
	clog_debug(cl, "%s -> %s", client_state_name[cl->state], client_state_name[next]);
	cl->state = next;
	cl->state_since = client_now();
}

void client_reconfigure(const Config *c, const AuthFile *af)
{
	client_cfg = c;
	if (client_authfile != af)
		client_login_forget_secrets();
	client_authfile = af;
	client_ryw_global = c->read_your_writes == RYW_GLOBAL;
	for (size_t i = 0; i < c->ndatabases; i++)
		client_ryw_global |= c->databases[i].read_your_writes == RYW_GLOBAL;
	for (size_t i = 0; i < c->nusers; i++)
		client_ryw_global |= c->users[i].read_your_writes == RYW_GLOBAL;
}

void client_module_init(struct ev_loop *l, const Config *c, const AuthFile *af)
{
	client_loop = l;
	client_authfile = af;
	client_reconfigure(c, af);
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

void client_cancel_request(int32_t pid, int32_t key)
{
	Client *cl = cancel_lookup(pid);
	Server *sv;

	if (!cl || !auth_equal(&cl->cancel_key, &key, sizeof(key))) {
		log_info("cancel request with an unknown key ignored");
		return;
	}
	{
		Unit *u = client_q_head(cl);
		sv = cl->bk[u ? u->dest : DEST_MASTER].sv;
	}
	if (!sv || sv->conn.closing) {
		clog_info(cl, "cancel request: no server linked, nothing to cancel");
		return;
	}
	clog_info(cl, "forwarding cancel request to backend %d on %s", sv->backend_pid,
		  sv->node->name);
	cancel_send(client_loop, (const struct sockaddr *)&sv->node->addr, sv->node->addrlen,
		    sv->backend_pid, sv->backend_key);
}

/* ---- closing ---------------------------------------------------------------- */

void client_close(Client *cl, const char *reason)
{
	if (cl->conn.closing)
		return;
	clog_info(cl, "closing: %s", reason);
	cl->closing_since = client_now();
	if (cl->state == CL_WAITING)
		pool_cancel_wait(&cl->bk[DEST_MASTER].waiter);
	client_detach_servers(cl);
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

void client_fatal(Client *cl, const char *sqlstate, const char *fmt, ...)
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

bool client_send(Client *cl, PgWriter *w)
{
	if (w->failed || !conn_write(&cl->conn, w->data, w->len)) {
		conn_close(&cl->conn, "cannot queue a message");
		return false;
	}
	return conn_flush(&cl->conn) != FLUSH_ERROR;
}

/* ---- conn callbacks ------------------------------------------------------------ */

static void client_on_read(Conn *c)
{
	Client *cl = container_of(c, Client, conn);

	if (c->eof) {
		client_close(cl, c->err ? strerror(c->err) : "client closed the connection");
		return;
	}
	cl->last_active = client_now();
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
		client_forward(cl);
		break;
	case CL_ADMIN:
		admin_read(cl);
		break;
	case CL__COUNT:
		break;
	}
}

static void client_on_drain(Conn *c)
{
	Client *cl = container_of(c, Client, conn);

	if (cl->state != CL_ACTIVE)
		return;
	for (int d = 0; d < DEST__COUNT; d++)
		if (cl->bk[d].sv)
			conn_resume_reading(&cl->bk[d].sv->conn);
	client_pump(cl);
}

static void client_on_free(Conn *c)
{
	Client *cl = container_of(c, Client, conn);

	if (list_linked(&cl->node))
		list_remove(&clients, &cl->node);
	if (list_linked(&cl->cancel_node))
		list_remove(cancel_bucket(cl->cancel_pid), &cl->cancel_node);
	client_route_free(cl);
	admin_free(cl);
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
	cl->id = next_id++;
	client_route_init(cl);
	if (!conn_init(&cl->conn, client_loop, fd, &client_ops, client_cfg->max_message_size)) {
		log_warning("cannot set up client connection: out of memory");
		free(cl->conn.in);
		free(cl);
		close(fd);
		return;
	}
	cl->state_since = cl->last_active = client_now();
	list_append(&clients, &cl->node);
	if (!cancel_register(cl)) {
		conn_close(&cl->conn, "cannot allocate a cancel key");
		return;
	}
	/* over the limit: still read the startup packet, to answer with a proper error */
	cl->reject = clients.count > (size_t)client_cfg->max_client_conn;
	clog_debug(cl, "accepted");
	conn_start_reading(&cl->conn);
}

/* ---- maintenance and shutdown ---------------------------------------------------- */

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
		    now - cl->state_since > client_cfg->client_login_timeout) {
			client_fatal(cl, "08P01", "client_login_timeout: login took too long");
			continue;
		}
		if (client_shutting_down && (cl->state != CL_ACTIVE || client_is_idle(cl))) {
			client_fatal(cl, "57P01",
				     "terminating connection due to administrator command");
			continue;
		}
		if (client_cfg->client_idle_timeout > 0 && client_is_idle(cl) &&
		    now - cl->last_active > client_cfg->client_idle_timeout) {
			client_fatal(cl, "57P05",
				     "terminating connection due to idle-session timeout "
				     "(client_idle_timeout)");
			continue;
		}
	}
}

void client_shutdown_begin(void)
{
	client_shutting_down = true;
	client_maint(client_now());
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

void client_log_sessions(void)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		const Unit *u = client_q_head(cl);
		clog_info(cl,
			  "session: state=%d units=%u head=%s/%s zleft=%d barrier=%d in_txn=%d "
			  "txn_node=%s deferred_begin=%d waiting=%d in=%zu/%zu read_paused=%d",
			  (int)cl->state, cl->qlen, u ? router_dest_name((RouteDest)u->dest) : "-",
			  u ? (u->kind == UK_REPLAY ? "injected" : "client") : "-",
			  u ? (int)u->zleft : 0, cl->barrier, cl->in_txn,
			  router_dest_name(cl->txn_dest), cl->defer_begin, cl->wait_until != 0,
			  cl->conn.in_pos, cl->conn.in_len, cl->conn.read_paused);
		for (int d = 0; d < DEST__COUNT; d++) {
			const Server *sv = cl->bk[d].sv;
			if (sv)
				clog_info(cl,
					  "session: %s server %s in=%zu/%zu out=%zu/%zu zc=%zu "
					  "pending=%d fwd_left=%zu skip_left=%zu",
					  router_dest_name((RouteDest)d), sv->node->name,
					  sv->conn.in_pos, sv->conn.in_len, sv->conn.out_pos,
					  sv->conn.out_len, sv->conn.zc_len, sv->pending,
					  sv->fwd_left, cl->bk[d].skip_left);
		}
	}
}

void client_each_all(void (*fn)(Client *, void *), void *arg)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		if (!cl->conn.closing)
			fn(cl, arg);
	}
}

size_t client_count_waiting(void)
{
	List *it, *tmp;
	size_t n = 0;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		n += cl->state == CL_WAITING || list_linked(&cl->wait_node);
	}
	return n;
}

Client *client_find(uint64_t id)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		if (cl->id == id && !cl->conn.closing)
			return cl;
	}
	return NULL;
}

void client_each(void (*fn)(Client *, const Node *), const Node *arg)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &clients)
	{
		Client *cl = container_of(it, Client, node);
		if (cl->state == CL_ACTIVE && !cl->conn.closing)
			fn(cl, arg);
	}
}
