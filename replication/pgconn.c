/*
 * pgconn.c - libpq on the libev loop without blocking: the connect state
 * machine (PQconnectPoll, re-reading PQsocket after every step), query
 * send/flush/receive, and timeouts on our own timer.
 */
#include "pgconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum PgConnState { PC_IDLE, PC_CONNECTING, PC_READY, PC_QUERYING, PC_FAILED } PgConnState;

struct PgConn {
	struct ev_loop *loop;
	PGconn *pg;
	PgConnState state;
	ev_io io;
	int io_fd;
	int io_events;
	ev_timer timer;
	const char **keys, **values; /* copies, owned */
	PgConnConnectCb connect_cb;
	PgConnResultCb result_cb;
	void *arg;
	PGresult *last; /* the last result of the running query */
	int in_callback;
	bool free_pending;
	char err[256];
};

static void pgconn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void pgconn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void set_err(PgConn *pc, const char *what)
{
	const char *pqerr = pc->pg ? PQerrorMessage(pc->pg) : "";
	size_t n;

	snprintf(pc->err, sizeof(pc->err), "%s%s%s", what, pqerr[0] ? ": " : "", pqerr);
	/* libpq messages end with a newline */
	n = strlen(pc->err);
	while (n > 0 && (pc->err[n - 1] == '\n' || pc->err[n - 1] == ' '))
		pc->err[--n] = '\0';
}

/* Watches fd for events (0 = none), re-arming only when something changed. */
static void pgconn_watch(PgConn *pc, int fd, int events)
{
	if (pc->io_fd == fd && pc->io_events == events && (events == 0) == !ev_is_active(&pc->io))
		return;
	ev_io_stop(pc->loop, &pc->io);
	pc->io_fd = fd;
	pc->io_events = events;
	if (fd >= 0 && events) {
		ev_io_set(&pc->io, fd, events);
		ev_io_start(pc->loop, &pc->io);
	}
}

static void pgconn_arm_timer(PgConn *pc, usec_t timeout)
{
	ev_timer_stop(pc->loop, &pc->timer);
	if (timeout > 0) {
		ev_timer_set(&pc->timer, (double)timeout / USEC_PER_SEC, 0.);
		ev_timer_start(pc->loop, &pc->timer);
	}
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

PgConn *pgconn_new(struct ev_loop *loop, const char *const *keys, const char *const *values)
{
	PgConn *pc = xcalloc(1, sizeof(*pc));
	size_t n = 0;

	while (keys[n])
		n++;
	pc->keys = xcalloc(n + 1, sizeof(char *));
	pc->values = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		pc->keys[i] = xstrdup(keys[i]);
		pc->values[i] = dup_or_null(values[i]);
	}
	pc->loop = loop;
	pc->io_fd = -1;
	ev_init(&pc->io, pgconn_io_cb);
	ev_init(&pc->timer, pgconn_timer_cb);
	pc->io.data = pc;
	pc->timer.data = pc;
	return pc;
}

static void pgconn_release(PgConn *pc)
{
	pgconn_watch(pc, -1, 0);
	ev_timer_stop(pc->loop, &pc->timer);
	if (pc->last) {
		PQclear(pc->last);
		pc->last = NULL;
	}
	if (pc->pg) {
		PQfinish(pc->pg);
		pc->pg = NULL;
	}
}

static void pgconn_destroy(PgConn *pc)
{
	pgconn_release(pc);
	for (size_t i = 0; pc->keys[i]; i++) {
		free((void *)pc->keys[i]);
		free((void *)pc->values[i]);
	}
	free(pc->keys);
	free(pc->values);
	free(pc);
}

void pgconn_free(PgConn *pc)
{
	if (!pc)
		return;
	if (pc->in_callback) {
		pc->free_pending = true;
		return;
	}
	pgconn_destroy(pc);
}

/* Calls the pending callback once; returns false if pc was freed meanwhile. */
static bool pgconn_finish_connect(PgConn *pc, bool ok)
{
	PgConnConnectCb cb = pc->connect_cb;

	pc->connect_cb = NULL;
	ev_timer_stop(pc->loop, &pc->timer);
	if (!ok) {
		pc->state = PC_FAILED;
		pgconn_release(pc);
	} else {
		pc->state = PC_READY;
		pgconn_watch(pc, -1, 0);
	}
	if (cb) {
		pc->in_callback++;
		cb(pc, ok, ok ? NULL : pc->err, pc->arg);
		pc->in_callback--;
	}
	if (pc->free_pending && !pc->in_callback) {
		pgconn_destroy(pc);
		return false;
	}
	return true;
}

static void pgconn_finish_query(PgConn *pc, bool ok)
{
	PgConnResultCb cb = pc->result_cb;
	PGresult *res = pc->last;

	/* settle our own state first: the callback may start the next query or reconnect */
	pc->result_cb = NULL;
	pc->last = NULL;
	ev_timer_stop(pc->loop, &pc->timer);
	if (ok) {
		pc->state = PC_READY;
		pgconn_watch(pc, -1, 0);
	} else {
		pc->state = PC_FAILED;
		pgconn_release(pc);
	}
	if (cb) {
		pc->in_callback++;
		cb(pc, ok ? res : NULL, ok ? NULL : pc->err, pc->arg);
		pc->in_callback--;
	}
	if (res)
		PQclear(res);
	if (pc->free_pending && !pc->in_callback)
		pgconn_destroy(pc);
}

static void pgconn_connect_step(PgConn *pc)
{
	switch (PQconnectPoll(pc->pg)) {
	case PGRES_POLLING_READING:
		pgconn_watch(pc, PQsocket(pc->pg), EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		pgconn_watch(pc, PQsocket(pc->pg), EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(pc->pg, 1) != 0) {
			set_err(pc, "cannot make the connection nonblocking");
			pgconn_finish_connect(pc, false);
			return;
		}
		pgconn_finish_connect(pc, true);
		break;
	default:
		set_err(pc, "connection failed");
		pgconn_finish_connect(pc, false);
		break;
	}
}

bool pgconn_connect(PgConn *pc, usec_t timeout, PgConnConnectCb cb, void *arg)
{
	if (pc->state == PC_CONNECTING || pc->state == PC_READY || pc->state == PC_QUERYING)
		return false;
	pgconn_release(pc);
	pc->pg = PQconnectStartParams(pc->keys, pc->values, 0);
	if (!pc->pg || PQstatus(pc->pg) == CONNECTION_BAD) {
		set_err(pc, "cannot start a connection");
		if (pc->pg) {
			PQfinish(pc->pg);
			pc->pg = NULL;
		}
		return false;
	}
	pc->state = PC_CONNECTING;
	pc->connect_cb = cb;
	pc->arg = arg;
	pc->err[0] = '\0';
	pgconn_arm_timer(pc, timeout);
	/* the documented start: act as if the last poll said "writing" */
	pgconn_watch(pc, PQsocket(pc->pg), EV_WRITE);
	return true;
}

/* Reads what is available; finishes the query when libpq has no more results. */
static void pgconn_query_read(PgConn *pc)
{
	if (!PQconsumeInput(pc->pg)) {
		set_err(pc, "connection lost");
		pgconn_finish_query(pc, false);
		return;
	}
	while (!PQisBusy(pc->pg)) {
		PGresult *res = PQgetResult(pc->pg);
		if (!res) {
			pgconn_finish_query(pc, true);
			return;
		}
		if (pc->last)
			PQclear(pc->last);
		pc->last = res;
	}
}

/* Sends what libpq has buffered; then waits for the answer. */
static void pgconn_query_flush(PgConn *pc)
{
	int r = PQflush(pc->pg);

	if (r < 0) {
		set_err(pc, "cannot send the query");
		pgconn_finish_query(pc, false);
		return;
	}
	pgconn_watch(pc, PQsocket(pc->pg), r == 1 ? EV_READ | EV_WRITE : EV_READ);
}

bool pgconn_query(PgConn *pc, const char *sql, usec_t timeout, PgConnResultCb cb, void *arg)
{
	if (pc->state != PC_READY)
		return false;
	if (!PQsendQuery(pc->pg, sql)) {
		set_err(pc, "cannot send the query");
		return false;
	}
	pc->state = PC_QUERYING;
	pc->result_cb = cb;
	pc->arg = arg;
	pgconn_arm_timer(pc, timeout);
	pgconn_query_flush(pc);
	return true;
}

static void pgconn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	PgConn *pc = w->data;

	(void)loop;
	if (pc->state == PC_CONNECTING) {
		pgconn_connect_step(pc);
		return;
	}
	if (pc->state != PC_QUERYING)
		return;
	if (revents & EV_WRITE) {
		pgconn_query_flush(pc);
		if (pc->state != PC_QUERYING)
			return;
	}
	if (revents & EV_READ)
		pgconn_query_read(pc);
}

static void pgconn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	PgConn *pc = w->data;

	(void)loop;
	(void)revents;
	if (pc->state == PC_CONNECTING) {
		snprintf(pc->err, sizeof(pc->err), "connect timed out");
		pgconn_finish_connect(pc, false);
	} else if (pc->state == PC_QUERYING) {
		/* no PQcancel (it blocks): the connection is dropped instead */
		snprintf(pc->err, sizeof(pc->err), "query timed out");
		pgconn_finish_query(pc, false);
	}
}

bool pgconn_is_ready(const PgConn *pc)
{
	return pc->state == PC_READY;
}

const char *pgconn_error(const PgConn *pc)
{
	return pc->err;
}

PGconn *pgconn_pg(PgConn *pc)
{
	return pc->pg;
}
