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

/*
 * Reload: the new configuration and auth file (the old ones may be freed
 * once this returns). Sessions keep what they took at login.
 */
void client_reconfigure(const Config *cfg, const AuthFile *af);

/* Takes over an accepted socket. */
void client_accept(int fd);

size_t client_count(void);
/* Clients waiting for a server, a fresh replica, a failover's end or RESUME. */
size_t client_count_waiting(void);

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

/* PAUSE / RESUME: while paused, no new transaction (or unit outside one) starts. */
void client_set_paused(bool on);
extern bool client_paused;
/* A switchover's gate: hold units bound for the master outside a transaction. */
void client_hold_master(bool on);
/* Sessions with a transaction open on the master or a unit in flight there. */
size_t client_master_busy(void);
/* Sessions with a transaction open or a unit in flight anywhere (PAUSE waits for 0). */
size_t client_running(void);

/* Closes every client at once with 57P01. */
void client_close_all(const char *reason);

#endif
