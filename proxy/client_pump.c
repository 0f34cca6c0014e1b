/*
 * client_pump.c - the servers -> client half of a session: handing the
 * client its master connection (AuthenticationOk, the server's parameters,
 * our cancel key), then forwarding responses without copying, strictly in
 * the order the client sent its units (only the server owing the head unit
 * of the FIFO is read; the other waits, and backpressure does the rest),
 * swallowing the answers to what pgrelay injected, and the 25006 safety net:
 * a replica unit's first telling response decides whether it stands or is
 * rerun on the master.
 */
#include "client_int.h"

#include "stats.h"

#include "monitor.h"

#include <stdio.h>
#include <string.h>

enum { NET_WAIT, NET_COMMIT, NET_MISROUTE, NET_DYING };

static void note_param(Client *cl, const char *name, const char *value)
{
	if (strcmp(name, "standard_conforming_strings") == 0)
		cl->std_strings = strcmp(value, "on") == 0;
	else if (strcmp(name, "default_transaction_read_only") == 0)
		cl->sess_read_only = strcmp(value, "on") == 0;
}

/* "options" in the startup packet asking for SERIALIZABLE by default. */
static bool startup_wants_serializable(const Client *cl)
{
	const uint8_t *p = cl->sig, *end = cl->sig + cl->sig_len;

	while (p < end) {
		const char *name = (const char *)p, *value = name + strlen(name) + 1;
		if ((const uint8_t *)value >= end)
			break;
		if (strcmp(name, "options") == 0 && strcasestr(value, "serializable"))
			return true;
		p = (const uint8_t *)value + strlen(value) + 1;
	}
	return false;
}

void client_backend_link(Backend *b, Server *sv)
{
	b->sv = sv;
	sv->link = &b->link;
	sv->fwd_left = 0;
	b->skip_left = 0;
	b->idle_fatal = false;
	conn_resume_reading(&sv->conn);
}

void client_master_ready(PoolWaiter *w, Server *sv)
{
	Backend *b = container_of(w, Backend, waiter);
	Client *cl = b->cl;
	uint8_t buf[SERVER_MAX_PARAMS * 340 + 64];
	PgWriter wr;

	client_backend_link(b, sv);
	client_wait_done(cl);
	b->guc_version = cl->sess.guc_version;
	cl->fwd_left = 0;
	cl->in_txn = false;
	cl->ryw_mode = (int)config_ryw_mode(client_cfg, cl->database, cl->user);
	cl->startup_serializable = startup_wants_serializable(cl);
	cl->sess_serializable = cl->startup_serializable;
	pgw_init_static(&wr, buf, sizeof(buf));
	pgw_auth(&wr, PQ_AUTH_OK, NULL, 0);
	for (size_t i = 0; i < sv->nparams; i++) {
		pgw_param_status(&wr, sv->params[i].name, sv->params[i].value);
		note_param(cl, sv->params[i].name, sv->params[i].value);
	}
	pgw_backend_key(&wr, cl->cancel_pid, cl->cancel_key);
	pgw_ready(&wr, sv->txn_status);
	client_set_state(cl, CL_ACTIVE);
	clog_debug(cl, "linked to backend %d on %s", sv->backend_pid, sv->node->name);
	if (!client_send(cl, &wr))
		return;
	conn_resume_reading(&cl->conn);
	if (cl->conn.in_len > cl->conn.in_pos)
		client_forward(cl);
}

void client_master_failed(PoolWaiter *w, const ServerError *err)
{
	Backend *b = container_of(w, Backend, waiter);
	Client *cl = b->cl;

	/* a failed connect is an observation: during a failover the login waits for its end */
	if (b->node && (!err->sqlstate[0] || strcmp(err->sqlstate, "08006") == 0))
		monitor_note_failure(b->node, err->message);
	if (monitor_failover_active() && client_login_hold(cl))
		return;
	client_fatal(cl, err->sqlstate[0] ? err->sqlstate : "08006", "%s", err->message);
}

static bool owes(const Client *cl, RouteDest d)
{
	for (unsigned i = 0; i < cl->qlen; i++)
		if (cl->q[(cl->qhead + i) % UNITQ_CAP].dest == d)
			return true;
	return cl->open_dest == (int)d || (cl->fwd_left > 0 && cl->fwd_dest == (int)d);
}

/* How many units in the FIFO go to d. */
static unsigned count_for(const Client *cl, RouteDest d)
{
	unsigned n = 0;
	for (unsigned i = 0; i < cl->qlen; i++)
		if (cl->q[(cl->qhead + i) % UNITQ_CAP].dest == d)
			n++;
	return n;
}

/* The replica unit at the head may be rerun on the master (see client_rerun_on_master). */
static bool rerun_possible(Client *cl)
{
	const Backend *m = &cl->bk[DEST_MASTER];

	if (!m->sv || m->guc_version != cl->sess.guc_version || m->dealloc_all)
		return false;
	for (unsigned i = 1; i < cl->qlen; i++)
		if (client_q_at(cl, i)->dest == DEST_MASTER)
			return false;
	return cl->open_dest < 0;
}

/*
 * The master connection died without a word (a crash, kill -9, a network
 * failure). A session that owes it nothing and whose state can be replayed
 * keeps its client: the next master unit takes a new connection (on the
 * new master after a failover). A transaction there is lost: the client is
 * told at its next statement. Units in flight get an error each, since
 * their outcome is unknown (never rerun: they may have committed). False
 * when the client must be closed instead.
 */
bool client_master_lost(Client *cl, Backend *b, bool owed, const char *node, const char *why)
{
	bool txn = cl->in_txn && !cl->defer_begin && cl->txn_dest == DEST_MASTER;

	if (cl->pin_reason || b->skip_left > 0 || cl->open_dest >= 0 || cl->fwd_left > 0)
		return false;
	if (owed) {
		uint8_t buf[512];
		PgWriter w;

		for (unsigned i = 0; i < cl->qlen; i++)
			if (client_q_at(cl, i)->dest != DEST_MASTER)
				return false; /* answers of other servers queued behind: keep it
						 simple */
		for (unsigned i = 0; i < cl->qlen; i++) {
			if (client_q_at(cl, i)->kind != UK_CLIENT)
				continue;
			pgw_init_static(&w, buf, sizeof(buf));
			pgw_error(
			    &w, "ERROR", "08006",
			    "the master connection was lost (%s): the outcome of the statement "
			    "is unknown",
			    why);
			pgw_ready(&w, 'I');
			if (w.failed || !conn_write(&cl->conn, w.data, w.len))
				return false;
		}
		cl->qlen = 0;
		cl->barrier = false;
		client_effects_reset(cl);
		cl->in_txn = false;
		cl->txn_error = false;
		conn_flush(&cl->conn);
		clog_info(cl,
			  "master %s lost with statements in flight: told the client their outcome "
			  "is unknown",
			  node);
		return true;
	}
	if (txn) {
		cl->txn_lost = true;
		clog_info(cl,
			  "master %s lost inside a transaction: the client is told at its next "
			  "statement",
			  node);
	} else {
		clog_info(cl,
			  "master %s lost while idle: its next statement takes a new connection",
			  node);
	}
	return true;
}

/* The server b of a session is gone. */
static void backend_lost(Client *cl, Backend *b)
{
	Server *sv = b->sv;
	const char *why = sv->conn.err ? strerror(sv->conn.err) : "server closed the connection";
	bool told = sv->last_type == PQ_ERROR && sv->fwd_left == 0 && !b->idle_fatal;
	bool owed = owes(cl, b->dest);
	Unit *h = client_q_head(cl);

	b->sv = NULL;
	b->idle_fatal = false;
	sv->link = NULL;
	if (b->dest == DEST_REPLICA) {
		client_mark_node_down(sv->node, why);
		server_close(sv, why);
		if (!owed)
			return; /* nothing was waiting for it: later reads find another way */
		if (h && h->dest == DEST_REPLICA && h->net && count_for(cl, DEST_REPLICA) == 1 &&
		    rerun_possible(cl)) {
			h->net = false;
			cl->net_units--;
			if (client_rerun_on_master(cl, h)) {
				clog_info(
				    cl, "replica %s lost before answering; rerunning on the master",
				    sv->node->name);
				return;
			}
		}
		client_fatal(cl, "08006", "server connection lost (%s): %s", sv->node->name, why);
		return;
	}
	server_close(sv, why);
	if (told && !owed) {
		/* the server's own FATAL (e.g. 57P01 from pg_terminate_backend) was the last word
		 */
		client_close(cl, "server closed the connection after an error");
		return;
	}
	if (!told && client_master_lost(cl, b, owed, sv->node->name, why))
		return;
	client_fatal(cl, "08006", "server connection lost (%s): %s", sv->node->name, why);
}

/* A net unit's responses so far: is its fate known? */
static int net_check(Client *cl, Conn *s, size_t *dying_end)
{
	size_t off = s->in_pos;

	while (off < s->in_len) {
		size_t avail = s->in_len - off, total;
		const uint8_t *p = s->in + off;
		uint8_t type;
		PgErrorFields ef;

		if (pgproto_msg_header(p, avail, SIZE_MAX, &type, &total) != FRAME_OK ||
		    total > avail)
			break;
		switch (type) {
		case PQ_PARSE_COMPLETE:
		case PQ_BIND_COMPLETE:
		case PQ_CLOSE_COMPLETE:
		case PQ_PARAM_DESCRIPTION:
		case PQ_ROW_DESCRIPTION:
		case PQ_NO_DATA:
		case PQ_NOTICE:
		case PQ_PARAM_STATUS:
			off += total;
			continue;
		case PQ_ERROR:
			if (!pgproto_parse_error(p + PG_HDR_LEN, total - PG_HDR_LEN, &ef) ||
			    !rerun_possible(cl))
				return NET_COMMIT;
			if (ef.sqlstate && strcmp(ef.sqlstate, "25006") == 0)
				return NET_MISROUTE;
			/* the replica is going away (terminated, shut down) before answering */
			if (ef.severity && (strcmp(ef.severity, "FATAL") == 0 ||
					    strcmp(ef.severity, "PANIC") == 0)) {
				*dying_end = off + total;
				return NET_DYING;
			}
			return NET_COMMIT;
		default:
			return NET_COMMIT;
		}
	}
	/* undecided: holding more than half a buffer is not worth it */
	if (s->in_len - s->in_pos >= s->in_cap / 2)
		return NET_COMMIT;
	return NET_WAIT;
}

/* ReadyForQuery for the head unit u of b. */
static void unit_ready(Client *cl, Backend *b, Unit *u, char status)
{
	Unit done;

	if (u->zleft > 0)
		u->zleft--;
	if (u->zleft > 0 || u->open)
		return;
	if (u->misroute) {
		router_count_misroute(b->sv->node->index);
		clog_info(cl,
			  "misroute: replica %s refused a unit as a write (25006); rerunning on "
			  "the master",
			  b->sv->node->name);
		if (client_rerun_on_master(cl, u))
			return;
		client_fatal(cl, "08006", "cannot rerun a misrouted statement on the master");
		return;
	}
	done = *u;
	cl->qhead = (cl->qhead + 1) % UNITQ_CAP;
	cl->qlen--;
	if (done.kind == UK_REPLAY) {
		if (done.check) {
			if (done.error) {
				client_backend_failed_replay(cl, b);
			} else {
				b->guc_version = done.version;
				b->dealloc_all = false;
			}
			cl->barrier = false;
		}
	} else {
		client_note_latency(b->sv->node, client_now() - done.sent_at);
		stats_unit(b->sv->node->index, client_now() - done.sent_at, done.may_write,
			   done.error);
		client_unit_done(cl, &done, status);
		if (done.barrier)
			cl->barrier = false;
	}
	if (cl->net_units == 0)
		cl->net_len = 0;
	/* the next unit's server may have been paused while it was not its turn */
	{
		Unit *h = client_q_head(cl);
		Server *next = h ? cl->bk[h->dest].sv : NULL;
		if (next && next != b->sv)
			conn_resume_reading(&next->conn);
	}
}

/*
 * Forwards (or drops) what b's server has buffered while b owes the head
 * unit, or while nothing is owed at all (the master's notifications).
 */
static void pump_backend(Client *cl, Backend *b)
{
	Server *sv = b->sv;
	Conn *s = &sv->conn, *c = &cl->conn;
	size_t need = 0;
	bool turn = true;

	while (s->in_pos < s->in_len && !c->closing) {
		size_t avail = s->in_len - s->in_pos, total;
		const uint8_t *p = s->in + s->in_pos;
		Unit *u = client_q_head(cl);
		uint8_t type;
		bool drop;
		FrameResult fr;

		if (b->skip_left > 0) {
			size_t n = avail < b->skip_left ? avail : b->skip_left;
			s->in_pos += n;
			b->skip_left -= n;
			continue;
		}
		if (sv->fwd_left > 0) {
			size_t n = avail < sv->fwd_left ? avail : sv->fwd_left;
			if (!conn_queue(c, p, n))
				goto oom;
			s->in_pos += n;
			sv->fwd_left -= n;
			continue;
		}
		if (u && u->dest != b->dest) {
			turn = false;
			break;
		}
		fr = pgproto_msg_header(p, avail, SIZE_MAX, &type, &total);
		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			conn_flush(c);
			b->sv = NULL;
			sv->link = NULL;
			server_close(sv, "invalid message from server");
			client_fatal(cl, "08P01", "server %s sent an invalid message",
				     sv->node->name);
			return;
		}
		if (u && u->net) {
			size_t dying_end = 0;
			int r = net_check(cl, s, &dying_end);
			if (r == NET_WAIT)
				break;
			if (r == NET_DYING) {
				/* drop what it said (nothing was forwarded): its EOF reruns the
				 * unit */
				s->in_pos = dying_end;
				continue;
			}
			u->net = false;
			cl->net_units--;
			u->misroute = r == NET_MISROUTE;
		}
		/* a replica owing nothing has nothing to say to the client (a notice, its FATAL) */
		drop =
		    (!u && b->dest != DEST_MASTER) || (u && (u->kind == UK_REPLAY || u->misroute));
		if (!u && type == PQ_ERROR && b->dest == DEST_MASTER && total <= avail) {
			/* the master going away under an idle session: its EOF decides what
			 * the client sees (see master_lost_quietly), not this FATAL */
			PgErrorFields ef;
			if (pgproto_parse_error(p + PG_HDR_LEN, total - PG_HDR_LEN, &ef) &&
			    ef.severity && strcmp(ef.severity, "FATAL") == 0) {
				drop = true;
				b->idle_fatal = true;
				clog_info(cl, "master %s: %s (%s) while the session was idle",
					  sv->node->name, ef.message ? ef.message : "FATAL",
					  ef.sqlstate ? ef.sqlstate : "?");
			}
		}
		if (type == PQ_READY || type == PQ_PARAM_STATUS) {
			if (total > avail) {
				need = total;
				break;
			}
		}
		switch (type) {
		case PQ_ERROR:
			if (u) {
				u->error = true;
				u->swallow = 0;
			}
			break;
		case PQ_PARSE_COMPLETE:
		case PQ_CLOSE_COMPLETE:
			if (u && u->swallow > 0) {
				u->swallow--;
				drop = true;
			}
			break;
		case PQ_PARAM_STATUS: {
			const char *name, *value;
			if (pgproto_parse_param_status(p + PG_HDR_LEN, total - PG_HDR_LEN, &name,
						       &value)) {
				server_note_param(sv, name, value);
				if (!drop)
					note_param(cl, name, value);
			}
			break;
		}
		default:
			break;
		}
		sv->last_type = type;
		if (drop) {
			size_t n = total <= avail ? total : avail;
			s->in_pos += n;
			b->skip_left = total - n;
		} else if (total <= avail) {
			if (!conn_queue(c, p, total))
				goto oom;
			s->in_pos += total;
		} else {
			if (!conn_queue(c, p, avail))
				goto oom;
			s->in_pos += avail;
			sv->fwd_left = total - avail;
		}
		if (type == PQ_READY) {
			char st = 'I';
			if (pgproto_parse_ready(p + PG_HDR_LEN, total - PG_HDR_LEN, &st)) {
				sv->txn_status = st;
				if (sv->pending > 0)
					sv->pending--;
			}
			if (u)
				unit_ready(cl, b, u, st);
			if (c->closing || !b->sv)
				return;
		}
	}
	if (conn_flush(c) == FLUSH_PENDING)
		conn_pause_reading(s);
	else if (turn)
		conn_resume_reading(s);
	if (!turn)
		conn_pause_reading(s); /* not its turn: its bytes wait in the kernel */
	conn_compact(s);
	if (need && !conn_in_reserve(s, need)) {
		backend_lost(cl, b);
		return;
	}
	if (s->eof && turn && !c->closing) {
		size_t avail = s->in_len - s->in_pos, total;
		uint8_t type;
		if (avail == 0 ||
		    pgproto_msg_header(s->in + s->in_pos, avail, SIZE_MAX, &type, &total) !=
			FRAME_OK ||
		    total > avail)
			backend_lost(cl, b);
	}
	return;
oom:
	client_fatal(cl, "53200", "out of memory");
}

/* Forwards responses in order, switching servers as the head unit moves on. */
void client_pump(Client *cl)
{
	/* every switch of server pops a unit, so this ends */
	for (unsigned i = 0; i <= UNITQ_CAP + 2 && !cl->conn.closing; i++) {
		Unit *u = client_q_head(cl);
		RouteDest d = u ? (RouteDest)u->dest : DEST_MASTER;
		Backend *b = &cl->bk[d];
		Unit *after;

		if (!b->sv)
			break;
		pump_backend(cl, b);
		after = client_q_head(cl);
		if (!after || after->dest == d)
			break;
	}
	if (cl->conn.closing)
		return;
	if (!cl->barrier && cl->conn.in_pos < cl->conn.in_len)
		client_forward(cl);
	else if (!cl->in_forward)
		client_flush_servers(cl);
}

void client_on_server_read(ServerLink *link, Server *sv)
{
	Backend *b = container_of(link, Backend, link);
	Client *cl = b->cl;
	Unit *u = client_q_head(cl);

	(void)sv;
	if (u && u->dest != b->dest && owes(cl, b->dest)) {
		/* not its turn: leave its bytes where they are until it is */
		conn_pause_reading(&b->sv->conn);
		return;
	}
	if (!u && b->sv->conn.eof && b->sv->conn.in_pos == b->sv->conn.in_len) {
		backend_lost(cl, b);
		return;
	}
	if (u && u->dest != b->dest) {
		/* owes nothing, another server's turn: a replica's goodbye, or the master's news */
		if (b->dest == DEST_MASTER && !b->sv->conn.eof) {
			conn_pause_reading(&b->sv->conn);
			return;
		}
		if (b->sv->conn.eof) {
			backend_lost(cl, b);
			return;
		}
		b->sv->conn.in_pos = b->sv->conn.in_len; /* drop the replica's idle chatter */
		conn_compact(&b->sv->conn);
		return;
	}
	client_pump(cl);
}

void client_on_server_drain(ServerLink *link, Server *sv)
{
	Backend *b = container_of(link, Backend, link);
	Client *cl = b->cl;

	(void)sv;
	for (int d = 0; d < DEST__COUNT; d++)
		if (cl->bk[d].sv && conn_pending(&cl->bk[d].sv->conn))
			return;
	conn_resume_reading(&cl->conn);
	if (cl->conn.in_pos < cl->conn.in_len)
		client_forward(cl);
}
