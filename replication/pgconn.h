/*
 * pgconn.h - one libpq connection driven without blocking on the libev loop:
 * PQconnectStartParams + PQconnectPoll for the connect, PQsendQuery +
 * PQconsumeInput/PQgetResult for queries, our own ev_timer for every
 * timeout (libpq's connect_timeout does not apply to PQconnectPoll). The
 * monitor, the pg_proc lookups and promotion talk to the nodes through it.
 *
 * One query at a time. Callbacks may call pgconn_free() on the connection
 * they are told about; it is freed once the callback returns.
 *
 * Ownership: the caller owns a PgConn (pgconn_new / pgconn_free).
 */
#ifndef REPLICATION_PGCONN_H
#define REPLICATION_PGCONN_H

#include "common.h"

#include <ev.h>
#include <libpq-fe.h>

typedef struct PgConn PgConn;

/* ok: connected (err NULL), or the reason it failed. */
typedef void (*PgConnConnectCb)(PgConn *pc, bool ok, const char *err, void *arg);
/*
 * res: the last result of the query (PGRES_TUPLES_OK, PGRES_COMMAND_OK or an
 * error result; owned by pgconn, valid during the callback), or NULL when the
 * connection failed or timed out (err says why; the connection is then unusable).
 */
typedef void (*PgConnResultCb)(PgConn *pc, const PGresult *res, const char *err, void *arg);

/*
 * keys/values: libpq connection parameters (NULL-terminated), e.g. hostaddr,
 * port, user, password, dbname, application_name. Use a numeric hostaddr so
 * libpq does not resolve names on the loop.
 */
PgConn *pgconn_new(struct ev_loop *loop, const char *const *keys, const char *const *values);
void pgconn_free(PgConn *pc);

/* Starts connecting; cb is called once. False (and no callback) if it could not start. */
bool pgconn_connect(PgConn *pc, usec_t timeout, PgConnConnectCb cb, void *arg) MUST_CHECK;
/* Sends one query; cb is called once. False if not connected or a query is running. */
bool pgconn_query(PgConn *pc, const char *sql, usec_t timeout, PgConnResultCb cb,
		  void *arg) MUST_CHECK;

bool pgconn_is_ready(const PgConn *pc); /* connected and no query running */
/* The libpq connection, for PQescapeLiteral and the like (NULL before connecting). */
PGconn *pgconn_pg(PgConn *pc);
const char *pgconn_error(const PgConn *pc);

#endif
