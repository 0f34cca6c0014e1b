/*
 * admin.h - the admin console: a fake database named "pgrelay" that admin
 * and stats users (proxy.ini admin_users, stats_users) open with psql. It
 * speaks the simple query protocol and answers SHOW commands with proper
 * RowDescription / DataRow / CommandComplete, and runs the operator's
 * commands (PAUSE, RESUME, PROMOTE, DETACH, ATTACH, UNFENCE, KILL, RELOAD,
 * SET, SHUTDOWN). Commands are a dispatch table; see SHOW HELP.
 *
 * Ownership: admin sessions are Clients (client.c owns them); this module
 * owns nothing but its pending-command timers inside them.
 */
#ifndef PROXY_ADMIN_H
#define PROXY_ADMIN_H

#include "common.h"

#define ADMIN_DBNAME "pgrelay"

typedef struct Client Client;

/* What RELOAD and SET do (main.c wires them): true on success; msg says what happened. */
typedef struct AdminHooks {
	bool (*reload)(char *msg, size_t msglen);
	bool (*set)(const char *key, const char *value, char *msg, size_t msglen);
} AdminHooks;
void admin_set_hooks(const AdminHooks *h);

/* The client authenticated against the console: welcome it, or refuse it (28000). */
void admin_login(Client *cl);
/* Bytes arrived from a console session. */
void admin_read(Client *cl);
/* A console session is going away: stop its timer. */
void admin_free(Client *cl);

/* The version string shown by SHOW VERSION, --version and the logs. */
#define PGRELAY_VERSION "0.2.0"

#endif
