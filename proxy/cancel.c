/*
 * cancel.c - sends one CancelRequest to a server on a connection of its
 * own, as the protocol requires, then closes it.
 */
#include "cancel.h"

#include "conn.h"
#include "log.h"
#include "pgproto.h"

#include <stdlib.h>
#include <string.h>

typedef struct CancelReq {
	Conn conn;
	int32_t pid;
} CancelReq;

static void cancel_on_connected(Conn *c)
{
	CancelReq *cr = container_of(c, CancelReq, conn);
	(void)cr;
	if (c->err) {
		log_warning("cancel request for backend %d: cannot connect: %s", cr->pid,
			    strerror(c->err));
		conn_close(c, "cancel connect failed");
		return;
	}
	conn_close_after_flush(c, "cancel request sent");
}

static void cancel_on_read(Conn *c)
{
	conn_close(c, "cancel request done");
}

static void cancel_on_free(Conn *c)
{
	free(container_of(c, CancelReq, conn));
}

static const ConnOps cancel_ops = {
	.on_read = cancel_on_read,
	.on_connected = cancel_on_connected,
	.on_free = cancel_on_free,
};

void cancel_send(struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen, int32_t pid,
		 int32_t key)
{
	CancelReq *cr = calloc(1, sizeof(*cr));
	uint8_t buf[16];
	PgWriter w;

	if (!cr) {
		log_warning("cancel request for backend %d: out of memory", pid);
		return;
	}
	if (!conn_connect(&cr->conn, loop, sa, salen, &cancel_ops, 0)) {
		log_warning("cancel request for backend %d: cannot open a socket", pid);
		free(cr);
		return;
	}
	cr->pid = pid;
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_cancel_request(&w, pid, key);
	if (w.failed || !conn_write(&cr->conn, w.data, w.len))
		conn_close(&cr->conn, "cannot build cancel request");
	else
		log_debug("sending cancel request for backend %d", pid);
}
