/*
 * client.h - one client session: startup (SSL/GSSENC refusal, cancel
 * requests), authentication against the auth file, getting a server from
 * the pool, and forwarding in both directions with backpressure while
 * tracking transaction state from ReadyForQuery.
 *
 * Ownership: client.c owns every Client (client_accept() creates it; the
 * reaper frees it after conn_close()).
 */
#ifndef PROXY_CLIENT_H
#define PROXY_CLIENT_H

#include "config.h"

#include <ev.h>

/* Wires the module to the loop, the configuration and the auth file (not owned). */
void client_module_init(struct ev_loop *loop, const Config *cfg, const AuthFile *af);

/* Takes over an accepted socket. */
void client_accept(int fd);

size_t client_count(void);

/* Periodic: login and idle timeouts, shutdown progress. */
void client_maint(usec_t now);

/* SIGTERM: from now on every client is closed (57P01) as soon as it is not in a transaction. */
void client_shutdown_begin(void);
/*
 * SIGUSR1: logs the routing counters (decisions per node and reason,
 * misroutes caught by the 25006 safety net, pg_proc cache size), one
 * "route-stats:" line each, until the admin console shows them.
 */
void client_log_route_stats(void);
/* SIGUSR1 too: one line per client session (units in flight, servers, buffers). */
void client_log_sessions(void);
/* The monitor's listener: reads held for a fresh or caught-up replica look again. */
void client_monitor_news(void);

/* Closes every client at once with 57P01. */
void client_close_all(const char *reason);

#endif
