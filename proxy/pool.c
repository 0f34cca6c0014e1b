/*
 * pool.c - herding server connections: per (node, database, user) pools,
 * handing a clean server to a waiting client, the wait queue, resets on
 * release, and the periodic checks (wait, connect and idle timeouts).
 */
#include "pool.h"
#include "topology.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ev_loop *pool_loop;
static char reset_query[256];
static PoolTimeouts timeouts;
static ListHead pools = {{&pools.head, &pools.head}, 0};

static void pool_serve_waiters(Pool *p);

void pool_module_init(struct ev_loop *loop, const char *query, const PoolTimeouts *t)
{
	pool_loop = loop;
	snprintf(reset_query, sizeof(reset_query), "%s", query ? query : "");
	timeouts = *t;
}

static usec_t pool_now(void)
{
	return (usec_t)(ev_now(pool_loop) * 1e6);
}

Pool *pool_get(const Node *node, const char *database, const char *user, int size)
{
	List *it, *tmp;
	Pool *p;

	list_for_each_safe(it, tmp, &pools)
	{
		p = container_of(it, Pool, node);
		if (p->pgnode == node && strcmp(p->database, database) == 0 &&
		    strcmp(p->user, user) == 0) {
			p->size = size;
			return p;
		}
	}
	p = xcalloc(1, sizeof(*p));
	p->pgnode = node;
	snprintf(p->database, sizeof(p->database), "%s", database);
	snprintf(p->user, sizeof(p->user), "%s", user);
	p->size = size;
	listhead_init(&p->idle);
	listhead_init(&p->busy);
	listhead_init(&p->waiting);
	list_append(&pools, &p->node);
	return p;
}

Pool *pool_first(void)
{
	List *n = listhead_first(&pools);
	return n ? container_of(n, Pool, node) : NULL;
}

Pool *pool_next(Pool *p)
{
	return p->node.next == &pools.head ? NULL : container_of(p->node.next, Pool, node);
}

static size_t pool_count(const Pool *p)
{
	return p->idle.count + p->busy.count;
}

static bool sig_matches(const Server *sv, const PoolWaiter *w)
{
	return sv->sig_len == w->sig_len && memcmp(sv->sig, w->sig, w->sig_len) == 0;
}

static void fail_waiter(PoolWaiter *w, const char *sqlstate, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static void fail_waiter(PoolWaiter *w, const char *sqlstate, const char *fmt, ...)
{
	ServerError err;
	va_list ap;

	memset(&err, 0, sizeof(err));
	strcpy(err.severity, "FATAL");
	snprintf(err.sqlstate, sizeof(err.sqlstate), "%s", sqlstate);
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	w->pool = NULL;
	w->opening = NULL;
	w->failed(w, &err);
}

/* sv (idle or just logged in) goes to w. */
static void pool_give(Pool *p, Server *sv, PoolWaiter *w)
{
	if (sv->state == SV_IDLE) {
		list_remove(&p->idle, &sv->pool_node);
		list_append(&p->busy, &sv->pool_node);
	}
	sv->waiter = NULL;
	server_set_state(sv, SV_ACTIVE);
	w->pool = NULL;
	w->opening = NULL;
	w->ready(w, sv);
}

static bool pool_open_for(Pool *p, PoolWaiter *w)
{
	Server *sv = server_open(pool_loop, p, p->pgnode, p->database, p->user, w->sig, w->sig_len,
				 w->password, w->client_key);
	if (!sv) {
		fail_waiter(w, "08006", "cannot open a connection to server %s", p->pgnode->name);
		return false;
	}
	sv->waiter = w;
	w->opening = sv;
	w->pool = p;
	return true;
}

static Server *pool_find_idle(Pool *p, const PoolWaiter *w)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &p->idle)
	{
		Server *sv = container_of(it, Server, pool_node);
		if (sig_matches(sv, w))
			return sv;
	}
	return NULL;
}

/* Tries to satisfy w at once; false when it has to wait. */
static bool pool_try(Pool *p, PoolWaiter *w)
{
	Server *sv = pool_find_idle(p, w);

	if (sv) {
		pool_give(p, sv, w);
		return true;
	}
	if (pool_count(p) < (size_t)p->size) {
		pool_open_for(p, w);
		return true;
	}
	if (!listhead_empty(&p->idle)) {
		/* an idle connection opened with other startup parameters makes room */
		sv = container_of(listhead_first(&p->idle), Server, pool_node);
		server_close(sv, "making room for a client with other startup parameters");
		if (pool_count(p) < (size_t)p->size) {
			pool_open_for(p, w);
			return true;
		}
	}
	return false;
}

void pool_request(Pool *p, PoolWaiter *w)
{
	w->since = pool_now();
	w->pool = p;
	w->opening = NULL;
	list_init(&w->node);
	if (!listhead_empty(&p->waiting) || !pool_try(p, w))
		list_append(&p->waiting, &w->node);
}

void pool_cancel_wait(PoolWaiter *w)
{
	if (w->opening) {
		/* the server finishes its login and becomes idle */
		w->opening->waiter = NULL;
		w->opening = NULL;
	}
	if (w->pool && list_linked(&w->node))
		list_remove(&w->pool->waiting, &w->node);
	w->pool = NULL;
}

static void pool_serve_waiters(Pool *p)
{
	while (!listhead_empty(&p->waiting)) {
		PoolWaiter *w = container_of(listhead_first(&p->waiting), PoolWaiter, node);
		list_remove(&p->waiting, &w->node);
		if (!pool_try(p, w)) {
			list_prepend(&p->waiting, &w->node);
			break;
		}
	}
}

static void pool_make_idle(Server *sv)
{
	Pool *p = sv->pool;

	list_remove(&p->busy, &sv->pool_node);
	server_set_state(sv, SV_IDLE);
	/* most recently used first: it is the one most likely to be warm */
	list_prepend(&p->idle, &sv->pool_node);
	conn_resume_reading(&sv->conn);
	pool_serve_waiters(p);
}

void pool_server_login_done(Server *sv)
{
	PoolWaiter *w = sv->waiter;

	if (w)
		pool_give(sv->pool, sv, w);
	else
		pool_make_idle(sv);
}

void pool_server_login_failed(Server *sv, const ServerError *err)
{
	PoolWaiter *w = sv->waiter;

	sv->waiter = NULL;
	if (w) {
		w->pool = NULL;
		w->opening = NULL;
		w->failed(w, err);
	}
}

void pool_server_reset_done(Server *sv)
{
	pool_make_idle(sv);
}

void pool_release(Server *sv)
{
	sv->link = NULL;
	if (topology_fenced(sv->node)) {
		server_close(sv, "its node was fenced by a failover");
		return;
	}
	if (sv->node->detached || sv->node->removed) {
		server_close(sv, sv->node->removed ? "its node was removed from the configuration"
						   : "its node was detached by an administrator");
		return;
	}
	if (!server_start_reset(sv, reset_query))
		server_close(sv, "client left with a query, COPY or unsynced batch in flight");
}

void pool_server_gone(Server *sv)
{
	Pool *p = sv->pool;
	PoolWaiter *w = sv->waiter;

	if (list_linked(&sv->pool_node))
		list_remove(sv->state == SV_IDLE ? &p->idle : &p->busy, &sv->pool_node);
	if (w) {
		sv->waiter = NULL;
		fail_waiter(w, "08006", "server connection to %s closed during login",
			    p->pgnode->name);
	}
	pool_serve_waiters(p);
}

static bool pool_maint_one(Pool *p, usec_t now)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, &p->waiting)
	{
		PoolWaiter *w = container_of(it, PoolWaiter, node);
		if (timeouts.query_wait_timeout > 0 &&
		    now - w->since > timeouts.query_wait_timeout) {
			list_remove(&p->waiting, &w->node);
			log_warning("pool %s/%s@%s: client waited longer than query_wait_timeout",
				    p->user, p->database, p->pgnode->name);
			fail_waiter(
			    w, "53300",
			    "no server connection available within query_wait_timeout "
			    "(pool for database \"%s\" user \"%s\" is full: pool_size = %d)",
			    p->database, p->user, p->size);
			return true;
		}
	}
	list_for_each_safe(it, tmp, &p->busy)
	{
		Server *sv = container_of(it, Server, pool_node);
		bool logging_in = sv->state == SV_CONNECTING || sv->state == SV_LOGIN;
		if ((logging_in || sv->state == SV_RESETTING) &&
		    now - sv->state_since > timeouts.connect_timeout) {
			if (sv->waiter) {
				PoolWaiter *w = sv->waiter;
				sv->waiter = NULL;
				fail_waiter(w, "08006",
					    "timed out connecting to server %s (connect_timeout)",
					    p->pgnode->name);
			}
			server_close(sv, logging_in ? "connect_timeout" : "reset timed out");
			return true;
		}
	}
	list_for_each_safe(it, tmp, &p->idle)
	{
		Server *sv = container_of(it, Server, pool_node);
		if (timeouts.server_idle_timeout > 0 &&
		    now - sv->state_since > timeouts.server_idle_timeout) {
			server_close(sv, "server_idle_timeout");
			return true;
		}
	}
	return false;
}

void pool_maint(usec_t now)
{
	for (Pool *p = pool_first(); p; p = pool_next(p)) {
		int guard = 10000;
		while (guard-- > 0 && pool_maint_one(p, now)) {
		}
	}
}

void pool_close_node_idle(const Node *node, const char *why)
{
	for (Pool *p = pool_first(); p; p = pool_next(p))
		if (p->pgnode == node)
			while (!listhead_empty(&p->idle))
				server_close(
				    container_of(listhead_first(&p->idle), Server, pool_node), why);
}

size_t pool_close_idle(void)
{
	size_t left = 0;

	for (Pool *p = pool_first(); p; p = pool_next(p)) {
		while (!listhead_empty(&p->idle))
			server_close(container_of(listhead_first(&p->idle), Server, pool_node),
				     "shutting down");
		left += p->busy.count;
	}
	return left;
}
