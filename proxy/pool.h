/*
 * pool.h - server connections per (node, database, user): acquire for a
 * client, release with a reset, a wait queue with a timeout when the pool is
 * full, idle trim, and the counters SHOW POOLS will print.
 *
 * A pooled connection is reused only by a client whose startup parameters
 * are the same as those it was opened with, so session defaults (DateStyle,
 * TimeZone, search_path via options, ...) and RESET behave exactly as on a
 * direct connection.
 *
 * Ownership: pools live until exit; each owns its servers.
 */
#ifndef PROXY_POOL_H
#define PROXY_POOL_H

#include "server.h"

typedef struct PoolWaiter PoolWaiter;

struct PoolWaiter {
	/* the pool hands over a logged-in, clean server (state ACTIVE) */
	void (*ready)(PoolWaiter *w, Server *sv);
	/* no server: the client is told err */
	void (*failed)(PoolWaiter *w, const ServerError *err);
	const uint8_t *sig; /* startup parameters, name\0value\0 ... */
	size_t sig_len;
	/* credentials for a new server connection */
	const char *password;
	const uint8_t *client_key; /* NULL unless recovered from the client's SCRAM login */
	List node;		   /* on the pool's wait queue */
	usec_t since;
	Pool *pool; /* set while waiting or while a server is being opened for it */
	Server *opening;
};

struct Pool {
	List node;
	const Node *pgnode;
	char database[PG_NAME_MAX];
	char user[PG_NAME_MAX];
	int size;
	ListHead idle;
	ListHead busy; /* connecting, login, active, resetting */
	ListHead waiting;
	uint64_t total_opened;
};

typedef struct PoolTimeouts {
	usec_t connect_timeout;
	usec_t query_wait_timeout;
	usec_t server_idle_timeout;
} PoolTimeouts;

void pool_module_init(struct ev_loop *loop, const char *reset_query, const PoolTimeouts *t);

Pool *pool_get(const Node *node, const char *database, const char *user, int size);

/* Gets a server for w now (w->ready called before returning), soon, or queues w. */
void pool_request(Pool *p, PoolWaiter *w);
/* The client gave up waiting (it disconnected). */
void pool_cancel_wait(PoolWaiter *w);
/* The client session ended: reset the server and make it reusable, or close it. */
void pool_release(Server *sv);

/* Periodic: wait timeouts, connect timeouts, idle trim. */
void pool_maint(usec_t now);
/* Closes every idle server (shutdown). Returns how many servers remain open. */
size_t pool_close_idle(void);
/* Closes the idle connections to one node (a master fenced by a failover). */
void pool_close_node_idle(const Node *node, const char *why);

/* For SHOW POOLS and tests. */
Pool *pool_first(void);
Pool *pool_next(Pool *p);

/* server.c calls these as a server moves through its life. */
void pool_server_login_done(Server *sv);
void pool_server_login_failed(Server *sv, const ServerError *err);
void pool_server_reset_done(Server *sv);
void pool_server_gone(Server *sv);

#endif
