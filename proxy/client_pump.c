/*
 * client_pump.c - a linked session's data path: handing the client a server
 * (AuthenticationOk, the server's parameters, our cancel key), then
 * forwarding every message in both directions without copying, streaming
 * large ones, pausing the source when the destination is full, and noting
 * ReadyForQuery and ParameterStatus on the way.
 */
#include "client_int.h"

#include <stdio.h>
#include <string.h>

/* ---- linked: forwarding ------------------------------------------------------- */

void client_server_ready(PoolWaiter *w, Server *sv)
{
	Client *cl = container_of(w, Client, waiter);
	uint8_t buf[SERVER_MAX_PARAMS * 340 + 64];
	PgWriter wr;

	cl->server = sv;
	sv->link = &cl->link;
	sv->fwd_left = 0;
	cl->fwd_left = 0;
	cl->txn_status = sv->txn_status;
	pgw_init_static(&wr, buf, sizeof(buf));
	pgw_auth(&wr, PQ_AUTH_OK, NULL, 0);
	for (size_t i = 0; i < sv->nparams; i++)
		pgw_param_status(&wr, sv->params[i].name, sv->params[i].value);
	pgw_backend_key(&wr, cl->cancel_pid, cl->cancel_key);
	pgw_ready(&wr, sv->txn_status);
	client_set_state(cl, CL_ACTIVE);
	clog_debug(cl, "linked to backend %d on %s", sv->backend_pid, sv->node->name);
	if (!client_send(cl, &wr))
		return;
	conn_resume_reading(&sv->conn);
	conn_resume_reading(&cl->conn);
	if (cl->conn.in_len > cl->conn.in_pos)
		client_forward(cl);
}

void client_server_failed(PoolWaiter *w, const ServerError *err)
{
	Client *cl = container_of(w, Client, waiter);

	client_fatal(cl, err->sqlstate[0] ? err->sqlstate : "08006", "%s", err->message);
}

/* The server went away under an active client. */
static void client_server_lost(Client *cl, Server *sv)
{
	const char *why = sv->conn.err ? strerror(sv->conn.err) : "server closed the connection";
	bool told = sv->last_type == PQ_ERROR && sv->fwd_left == 0;

	cl->server = NULL;
	sv->link = NULL;
	server_close(sv, why);
	if (told) {
		/* the server's own FATAL (e.g. 57P01 from pg_terminate_backend) was the last word */
		client_close(cl, "server closed the connection after an error");
		return;
	}
	client_fatal(cl, "08006", "server connection lost (%s): %s", sv->node->name, why);
}

/* Client -> server: forward every complete message, stream large ones. */
void client_forward(Client *cl)
{
	Conn *c = &cl->conn;
	Server *sv = cl->server;
	Conn *s = &sv->conn;

	while (c->in_pos < c->in_len) {
		size_t avail = c->in_len - c->in_pos, total;
		const uint8_t *p = c->in + c->in_pos;
		uint8_t type;
		FrameResult fr;

		if (cl->fwd_left > 0) {
			size_t n = avail < cl->fwd_left ? avail : cl->fwd_left;
			if (!conn_queue(s, p, n))
				goto oom;
			c->in_pos += n;
			cl->fwd_left -= n;
			continue;
		}
		fr = pgproto_msg_header(p, avail, client_cfg->max_message_size, &type, &total);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			if (avail >= PG_HDR_LEN && pg_get_u32(p + 1) >= 4)
				client_fatal(cl, "08P01",
					     "message of type '%c' is larger than max_message_size "
					     "(%zu bytes)",
					     p[0], client_cfg->max_message_size);
			else
				client_fatal(cl, "08P01", "invalid message length");
			return;
		}
		switch (type) {
		case PQ_TERMINATE:
			conn_flush(s);
			c->in_pos = c->in_len;
			client_close(cl, "client sent Terminate");
			return;
		case PQ_SYNC:
			sv->unsynced = false;
			sv->pending++;
			break;
		case PQ_QUERY:
		case PQ_FUNCTION_CALL:
			sv->pending++;
			break;
		case PQ_PARSE:
		case PQ_BIND:
		case PQ_DESCRIBE:
		case PQ_EXECUTE:
		case PQ_CLOSE:
		case PQ_FLUSH:
			sv->unsynced = true;
			break;
		default:
			break;
		}
		if (total <= avail) {
			if (!conn_queue(s, p, total))
				goto oom;
			c->in_pos += total;
		} else {
			if (!conn_queue(s, p, avail))
				goto oom;
			c->in_pos += avail;
			cl->fwd_left = total - avail;
		}
	}
	if (conn_flush(s) == FLUSH_PENDING)
		conn_pause_reading(c);
	conn_compact(c);
	return;
oom:
	client_fatal(cl, "53200", "out of memory");
}

/* Server -> client: forward, noting ReadyForQuery and ParameterStatus on the way. */
void client_on_server_read(ServerLink *link, Server *sv)
{
	Client *cl = container_of(link, Client, link);
	Conn *s = &sv->conn, *c = &cl->conn;
	size_t need = 0;
	bool idle_now = false;

	if (s->eof) {
		client_server_lost(cl, sv);
		return;
	}
	while (s->in_pos < s->in_len) {
		size_t avail = s->in_len - s->in_pos, total;
		const uint8_t *p = s->in + s->in_pos;
		uint8_t type;
		FrameResult fr;

		if (sv->fwd_left > 0) {
			size_t n = avail < sv->fwd_left ? avail : sv->fwd_left;
			if (!conn_queue(c, p, n))
				goto oom;
			s->in_pos += n;
			sv->fwd_left -= n;
			continue;
		}
		fr = pgproto_msg_header(p, avail, SIZE_MAX, &type, &total);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			conn_flush(c);
			cl->server = NULL;
			sv->link = NULL;
			server_close(sv, "invalid message from server");
			client_fatal(cl, "08P01", "server %s sent an invalid message",
				     sv->node->name);
			return;
		}
		sv->last_type = type;
		if (type == PQ_READY || type == PQ_PARAM_STATUS) {
			const uint8_t *body = p + PG_HDR_LEN;
			if (total > avail) {
				need = total;
				break;
			}
			if (type == PQ_READY) {
				char st;
				if (pgproto_parse_ready(body, total - PG_HDR_LEN, &st)) {
					sv->txn_status = cl->txn_status = st;
					if (sv->pending > 0)
						sv->pending--;
					idle_now = st == 'I' && sv->pending == 0;
				}
			} else {
				const char *name, *value;
				if (pgproto_parse_param_status(body, total - PG_HDR_LEN, &name,
							       &value))
					server_note_param(sv, name, value);
			}
		}
		if (total <= avail) {
			if (!conn_queue(c, p, total))
				goto oom;
			s->in_pos += total;
		} else {
			if (!conn_queue(c, p, avail))
				goto oom;
			s->in_pos += avail;
			sv->fwd_left = total - avail;
		}
	}
	if (conn_flush(c) == FLUSH_PENDING)
		conn_pause_reading(s);
	conn_compact(s);
	if (need && !conn_in_reserve(s, need)) {
		client_server_lost(cl, sv);
		return;
	}
	if (idle_now && client_shutting_down)
		client_fatal(cl, "57P01", "terminating connection due to administrator command");
	return;
oom:
	client_fatal(cl, "53200", "out of memory");
}

void client_on_server_drain(ServerLink *link, Server *sv)
{
	Client *cl = container_of(link, Client, link);

	(void)sv;
	conn_resume_reading(&cl->conn);
}

