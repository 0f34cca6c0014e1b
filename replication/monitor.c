/*
 * monitor.c - the health monitor behind monitor.h: a PgConn per node, the
 * poll timer, the full health query and the quick position queries, turning
 * answers into Samples, lag, states and events, and the read-your-writes
 * tickets (master position polls numbered in the order they are sent).
 */
#include "monitor.h"

#include "failover.h"
#include "hook.h"
#include "events.h"
#include "log.h"
#include "pgconn.h"
#include "statefile.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything a node says about itself in one round trip. */
static const char full_query[] =
    "SELECT pg_is_in_recovery(), "
    "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() END, "
    "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_insert_lsn() END, "
    "pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(), "
    "(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) "
    "* 1000000)::bigint, "
    "r.status, r.sender_host || ':' || r.sender_port, r.received_tli, "
    "CASE WHEN pg_is_in_recovery() THEN NULL "
    "ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END, "
    "pg_size_bytes(current_setting('wal_segment_size')), "
    "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn() END, "
    "current_setting('synchronous_commit') = 'off' OR EXISTS (SELECT 1 FROM "
    "pg_db_role_setting, unnest(setconfig) c WHERE lower(c) LIKE 'synchronous_commit=%' "
    "AND lower(c) NOT IN ('synchronous_commit=on', 'synchronous_commit=local', "
    "'synchronous_commit=remote_write', 'synchronous_commit=remote_apply')), "
    "(extract(epoch FROM clock_timestamp() - r.last_msg_receipt_time) * 1000000)::bigint "
    "FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver r ON true";
static const char master_pos_query[] =
    "SELECT pg_current_wal_insert_lsn(), pg_current_wal_flush_lsn()";
static const char replica_pos_query[] = "SELECT pg_last_wal_replay_lsn()";

enum { Q_NONE, Q_FULL, Q_POS };

typedef struct MonNode {
	const Node *node;
	PgConn *pc;
	bool connected;
	int running;	  /* Q_NONE, Q_FULL, Q_POS */
	bool want_pos;	  /* a position poll was asked for */
	usec_t sent_at;	  /* when the running query was sent */
	usec_t next_full; /* when the next full poll is due */
	usec_t retry_at;  /* after a failure: when to connect again */
	uint64_t seq;	  /* master: the number of the running poll */
	bool warned_privileges;
	bool fence_sent;    /* fence_old_master: made read only once it answered as a master */
	const Node *follow; /* repointed at this new master: not yet seen streaming from it */
	usec_t follow_since;
	NodeHealth h;
	Hysteresis hy;
} MonNode;

/* Master position polls answered, for tickets: (number, insert LSN), newest last. */
#define TICKET_RING 64

static struct {
	struct ev_loop *loop;
	const Config *cfg;
	MonNode *nodes;
	size_t n;
	ev_timer tick;
	ev_timer notify;
	LagHistory hist;
	LagLimits lim;
	uint64_t started; /* master polls sent (each gets the next number) */
	uint64_t done;	  /* the number of the newest answered master poll */
	uint64_t ring_seq[TICKET_RING];
	Lsn ring_insert[TICKET_RING], ring_flush[TICKET_RING];
	bool async_anywhere; /* synchronous_commit = off by default, for a role or a database */
	unsigned ring_head, ring_n;
	uint64_t last_ticket;
	uint64_t wal_segment_size; /* the master's, once seen */
	void (*listener)(void);
	bool running;
	/* failover: the decisions (failover.c) and the jobs that carry them out */
	Failover fo;
	bool fo_on;
	PgConn *fo_pc; /* the running promotion */
	/* a planned switchover: the proxy's gate, a fast timer while it runs, its outcome */
	MonitorGate gate;
	bool holding;
	ev_timer so_timer;
	int so_result; /* 0 running or none, 1 done, -1 aborted */
	char so_why[256];
	PgConn *so_pc; /* fencing the old master (or undoing it) */
} M;

static void fo_check(MonNode *mn, bool ok, Lsn lsn, uint32_t timeline);
static void fo_tick(usec_t now);
static void fo_apply(FoAction a);
static void fo_follow_check(MonNode *mn, const Sample *s, usec_t now);
static void fo_fence(MonNode *mn);

static void mon_send(MonNode *mn);
static void mon_connect(MonNode *mn);

static usec_t mon_now(void)
{
	return (usec_t)(ev_now(M.loop) * 1e6);
}

static MonNode *mon_of(const Node *node)
{
	if (!M.running || !node || node->index < 0 || (size_t)node->index >= M.n)
		return NULL;
	return &M.nodes[node->index];
}

static bool is_master(const MonNode *mn)
{
	return mn->node == topology_master();
}

static void notify_soon(void)
{
	if (M.listener && !ev_is_active(&M.notify)) {
		ev_timer_set(&M.notify, 0., 0.);
		ev_timer_start(M.loop, &M.notify);
	}
}

static void on_notify(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (M.listener)
		M.listener();
}

/* ---- states and events ------------------------------------------------------------ */

static void observe(MonNode *mn, NodeState st, const char *why, bool at_once)
{
	NodeState old = mn->h.state;
	char lsn[LSN_TEXT_MAX];

	if (!hyst_step(&mn->hy, st, M.cfg->monitor_hysteresis, at_once)) {
		if (st == mn->h.state)
			mn->h.why = why;
		return;
	}
	mn->h.state = mn->hy.state;
	mn->h.why = why;
	mn->h.since = mon_now();
	if (is_master(mn))
		event_add(LOG_INFO, "node_state", mn->node->name, "node %s (master) %s -> %s: %s",
			  mn->node->name, node_state_name(old), node_state_name(mn->h.state), why);
	else
		event_add(LOG_INFO, "node_state", mn->node->name,
			  "node %s (replica) %s -> %s: %s (lag %llu bytes, "
			  "%lld ms, replay %s)",
			  mn->node->name, node_state_name(old), node_state_name(mn->h.state), why,
			  (unsigned long long)mn->h.lag.bytes, (long long)(mn->h.lag.time / 1000),
			  lsn_format(mn->h.last.replay_lsn, lsn));
	notify_soon();
}

static void mon_fail(MonNode *mn, const char *err)
{
	bool was_connected = mn->connected;

	mn->h.failures++;
	mn->h.last.at = mn->sent_at ? mn->sent_at : mon_now();
	mn->h.last.ok = false;
	if (mn->pc) {
		pgconn_free(mn->pc);
		mn->pc = NULL;
	}
	mn->connected = false;
	mn->running = Q_NONE;
	mn->retry_at = mon_now() + M.cfg->monitor_interval;
	if (mn->h.state != NS_DOWN)
		log_warning("monitor: node %s: %s", mn->node->name, err ? err : "failed");
	else if (was_connected)
		log_debug("monitor: node %s: %s", mn->node->name, err ? err : "failed");
	observe(mn, NS_DOWN, "unreachable", true);
	fo_check(mn, false, LSN_INVALID, 0);
}

/* ---- answers ---------------------------------------------------------------------- */

static const char *val(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

static Lsn lsn_val(const PGresult *res, int col)
{
	const char *s = val(res, col);
	Lsn l = LSN_INVALID;

	if (s && !lsn_parse(s, &l))
		return LSN_INVALID;
	return l;
}

/*
 * An insert position just past a page header holds no record bytes: a
 * replica that replayed up to the page boundary has everything before it.
 * A page's short header is 24 bytes; the first page of a segment has a long
 * one of 40 (only there: 40 bytes into another page can end a record).
 */
static Lsn insert_normalize(Lsn l)
{
	if (l % 8192 == 24)
		return l - 24;
	if (M.wal_segment_size && l % M.wal_segment_size == 40)
		return l - 40;
	return l;
}

static void ticket_done(uint64_t seq, Lsn insert, Lsn flush)
{
	M.ring_seq[M.ring_head] = seq;
	M.ring_insert[M.ring_head] = insert_normalize(insert);
	M.ring_flush[M.ring_head] = insert_normalize(flush ? flush : insert);
	M.ring_head = (M.ring_head + 1) % TICKET_RING;
	if (M.ring_n < TICKET_RING)
		M.ring_n++;
	if (seq > M.done)
		M.done = seq;
	notify_soon();
}

static void judge_replica(MonNode *mn, usec_t now)
{
	const MonNode *m = NULL;
	const char *why;
	NodeState st;

	for (size_t i = 0; i < M.n; i++)
		if (is_master(&M.nodes[i]))
			m = &M.nodes[i];
	mn->h.lag =
	    m ? lag_compute(&m->h.last, &M.hist, &mn->h.last, now, M.lim.stale_after) : (Lag){0};
	st = lag_judge_replica(&mn->h.last, &mn->h.lag, &M.lim, now, &why);
	observe(mn, st, why, false);
}

static void full_answer(MonNode *mn, const PGresult *res)
{
	Sample s = {.at = mn->sent_at, .ok = true};
	const char *v, *status, *upstream, *tli;
	usec_t now = mon_now();

	v = val(res, 0);
	s.in_recovery = v && v[0] == 't';
	/* what a replica can have: WAL written but not flushed is not sent yet */
	s.wal_lsn = lsn_val(res, 11);
	s.receive_lsn = lsn_val(res, 3);
	s.replay_lsn = lsn_val(res, 4);
	v = val(res, 5);
	s.replay_age = v ? strtoll(v, NULL, 10) : -1;
	if (s.replay_age < -1)
		s.replay_age = 0; /* the clocks of master and replica disagree a little */
	status = val(res, 6);
	upstream = val(res, 7);
	s.streaming = status && strcmp(status, "streaming") == 0;
	v = val(res, 13);
	s.receipt_age = v ? strtoll(v, NULL, 10) : -1;
	if (v && s.receipt_age < 0)
		s.receipt_age = 0; /* clock skew between the servers */
	tli = s.in_recovery ? val(res, 8) : val(res, 9);
	s.timeline = tli ? (uint32_t)strtoul(tli, NULL, s.in_recovery ? 10 : 16) : 0;
	snprintf(mn->h.upstream, sizeof(mn->h.upstream), "%s", upstream ? upstream : "");
	if (s.in_recovery && !status && s.receive_lsn != LSN_INVALID && !mn->warned_privileges) {
		log_warning("monitor: node %s: pg_stat_wal_receiver shows nothing to %s; grant it "
			    "pg_monitor, or the replica never counts as streaming",
			    mn->node->name, M.cfg->monitor_user);
		mn->warned_privileges = true;
	}
	mn->h.last = s;
	mn->h.polls++;
	if (is_master(mn)) {
		Lsn ins = lsn_val(res, 2);
		v = val(res, 10);
		if (v && strtoull(v, NULL, 10) >= 1024 * 1024)
			M.wal_segment_size = strtoull(v, NULL, 10);
		v = val(res, 12);
		if (v && (v[0] == 't') != M.async_anywhere) {
			M.async_anywhere = v[0] == 't';
			log_info(
			    "monitor: synchronous_commit = off %s: read-your-writes watermarks "
			    "use the master's %s position",
			    M.async_anywhere ? "is configured" : "is not configured",
			    M.async_anywhere ? "WAL insert" : "WAL flush");
		}
		if (!s.in_recovery && s.wal_lsn != LSN_INVALID)
			lag_history_add(&M.hist, s.at, s.wal_lsn);
		if (!s.in_recovery && ins != LSN_INVALID) {
			mn->h.pos_lsn = ins;
			mn->h.pos_at = s.at;
			ticket_done(mn->seq, ins, lsn_val(res, 11));
		}
		{
			const char *why;
			NodeState st = lag_judge_master(&s, now, M.lim.stale_after, &why);
			observe(mn, st, why, st == NS_DOWN);
			fo_check(mn, st == NS_UP, s.wal_lsn, s.timeline);
		}
		/* replicas measured before the master's first answer need not wait a round */
		for (size_t i = 0; i < M.n; i++)
			if (&M.nodes[i] != mn && M.nodes[i].h.state == NS_UNKNOWN &&
			    M.nodes[i].h.last.ok)
				judge_replica(&M.nodes[i], now);
	} else {
		if (mn->node->fenced && !s.in_recovery && !mn->fence_sent)
			fo_fence(mn);
		if (mn->follow)
			fo_follow_check(mn, &s, now);
		if (s.replay_lsn > mn->h.pos_lsn || s.replay_lsn == LSN_INVALID) {
			mn->h.pos_lsn = s.replay_lsn;
			mn->h.pos_at = s.at;
		}
		judge_replica(mn, now);
		notify_soon();
	}
}

static void pos_answer(MonNode *mn, const PGresult *res)
{
	Lsn l = lsn_val(res, 0);

	if (l == LSN_INVALID)
		return;
	if (log_level >= LOG_DEBUG) {
		char a[LSN_TEXT_MAX], b[LSN_TEXT_MAX];
		log_debug("monitor: node %s: position %s%s%s (seq %llu)", mn->node->name,
			  lsn_format(l, a), is_master(mn) ? " flush " : "",
			  is_master(mn) ? lsn_format(lsn_val(res, 1), b) : "",
			  (unsigned long long)mn->seq);
	}
	mn->h.pos_lsn = l;
	mn->h.pos_at = mn->sent_at;
	if (is_master(mn))
		ticket_done(mn->seq, l, lsn_val(res, 1));
	else
		notify_soon();
}

static void on_result(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	MonNode *mn = arg;
	int q = mn->running;

	(void)pc;
	mn->running = Q_NONE;
	if (!res) {
		mon_fail(mn, err);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		const char *msg = PQresultErrorMessage(res);
		mn->h.failures++;
		mn->h.last.at = mn->sent_at;
		mn->h.last.ok = false;
		log_debug("monitor: node %s: %s", mn->node->name,
			  msg && msg[0] ? msg : "bad answer");
		observe(mn, NS_DOWN, "its health query fails", true);
		fo_check(mn, false, LSN_INVALID, 0);
	} else if (q == Q_FULL) {
		full_answer(mn, res);
	} else {
		pos_answer(mn, res);
	}
	if (mn->pc && mn->connected)
		mon_send(mn);
}

/* ---- polling ---------------------------------------------------------------------- */

/* Sends the next query when the connection is idle: a due full poll first, then a position. */
static void mon_send(MonNode *mn)
{
	usec_t now = mon_now();
	const char *sql;
	int q;

	if (!mn->connected || mn->running != Q_NONE || !pgconn_is_ready(mn->pc))
		return;
	/* a tick a little early still polls: the timer and the last send drift apart */
	if (now + M.cfg->monitor_interval / 8 >= mn->next_full) {
		q = Q_FULL;
		sql = full_query;
		mn->next_full = now + M.cfg->monitor_interval;
	} else if (mn->want_pos) {
		q = Q_POS;
		sql = is_master(mn) ? master_pos_query : replica_pos_query;
	} else {
		return;
	}
	mn->want_pos = false;
	mn->sent_at = now;
	log_debug("monitor: node %s: sending %s", mn->node->name, q == Q_FULL ? "full" : "pos");
	if (is_master(mn))
		mn->seq = ++M.started;
	mn->running = q;
	if (!pgconn_query(mn->pc, sql, M.cfg->monitor_timeout, on_result, mn)) {
		mn->running = Q_NONE;
		mon_fail(mn, pgconn_error(mn->pc));
	}
}

static void on_connect(PgConn *pc, bool ok, const char *err, void *arg)
{
	MonNode *mn = arg;

	(void)pc;
	if (!ok) {
		mon_fail(mn, err);
		return;
	}
	mn->connected = true;
	mn->next_full = 0;
	log_debug("monitor: node %s: connected", mn->node->name);
	mon_send(mn);
}

static void mon_connect(MonNode *mn)
{
	char host[NI_MAXHOST], port[16];
	const char *keys[] = {"hostaddr",	  "port",    "user", "password", "dbname",
			      "application_name", "sslmode", NULL};
	const char *vals[8];
	const Node *n = mn->node;

	if (getnameinfo((const struct sockaddr *)&n->addr, n->addrlen, host, sizeof(host), NULL, 0,
			NI_NUMERICHOST) != 0) {
		mon_fail(mn, "cannot format the node's address");
		return;
	}
	snprintf(port, sizeof(port), "%d", n->port);
	vals[0] = host;
	vals[1] = port;
	vals[2] = M.cfg->monitor_user;
	vals[3] = M.cfg->monitor_password;
	vals[4] = M.cfg->monitor_dbname;
	vals[5] = "pgrelay monitor";
	vals[6] = "disable";
	vals[7] = NULL;
	mn->sent_at = mon_now();
	mn->pc = pgconn_new(M.loop, keys, vals);
	if (!mn->pc || !pgconn_connect(mn->pc, M.cfg->monitor_timeout, on_connect, mn))
		mon_fail(mn, "cannot start a connection");
}

/* ---- failover: feeding the state machine and carrying out its actions ------------- */

static void fo_log(void)
{
	static const char *last;
	static usec_t last_at;
	usec_t now = mon_now();

	if (!M.fo.event)
		return;
	/* a decision repeated every tick (deferred, refused...) is logged every 5 s */
	if (M.fo.event == last && now - last_at < 5 * USEC_PER_SEC)
		return;
	last = M.fo.event;
	last_at = now;
	event_add(LOG_WARNING, M.fo.event, M.fo.cand_name, "%s", M.fo.detail);
}

static void fo_check(MonNode *mn, bool ok, Lsn lsn, uint32_t timeline)
{
	if (!M.fo_on || !is_master(mn))
		return;
	if (failover_check(&M.fo, ok, lsn, timeline, mon_now()))
		fo_log();
}

static void fo_login(const Node *n, const char **keys, const char **vals, char *host, size_t hlen,
		     char *port, size_t plen)
{
	const Config *c = M.cfg;
	bool own = c->promote_user[0] != '\0';

	if (getnameinfo((const struct sockaddr *)&n->addr, n->addrlen, host, hlen, NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(host, hlen, "%s", n->host);
	snprintf(port, plen, "%d", n->port);
	keys[0] = "hostaddr";
	vals[0] = host;
	keys[1] = "port";
	vals[1] = port;
	keys[2] = "user";
	vals[2] = own ? c->promote_user : c->monitor_user;
	keys[3] = "password";
	vals[3] = own ? c->promote_password : c->monitor_password;
	keys[4] = "dbname";
	vals[4] = c->monitor_dbname;
	keys[5] = "application_name";
	vals[5] = "pgrelay failover";
	keys[6] = "sslmode";
	vals[6] = "disable";
	keys[7] = NULL;
	vals[7] = NULL;
}

static void fo_promote_result(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		  PQgetvalue(res, 0, 0)[0] == 't';
	char why[256];

	(void)arg;
	snprintf(why, sizeof(why), "%s",
		 ok    ? "promoted"
		 : res ? (PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
						       : "pg_promote() returned false")
		       : (err ? err : "no answer"));
	pgconn_free(pc);
	M.fo_pc = NULL;
	fo_apply(failover_done(&M.fo, FA_PROMOTE, ok, why, mon_now()));
	fo_log();
}

static void fo_promote_connected(PgConn *pc, bool ok, const char *err, void *arg)
{
	(void)arg;
	if (ok && pgconn_query(pc, "SELECT pg_promote(true, 60)", M.cfg->failover_timeout,
			       fo_promote_result, NULL))
		return;
	pgconn_free(pc);
	M.fo_pc = NULL;
	fo_apply(failover_done(&M.fo, FA_PROMOTE, false, ok ? "cannot send pg_promote()" : err,
			       mon_now()));
	fo_log();
}

static void fo_promote_hook_done(bool ok, const char *why, void *arg)
{
	(void)arg;
	fo_apply(failover_done(&M.fo, FA_PROMOTE, ok, why, mon_now()));
	fo_log();
}

static void fo_promote(const Node *n)
{
	const char *keys[8], *vals[8];
	char host[NI_MAXHOST], port[16];

	if (M.cfg->promote_command[0]) {
		char cmd[2048];
		HookVars v = {.n = n->name, .h = n->host, .p = port};
		snprintf(port, sizeof(port), "%d", n->port);
		event_add(LOG_WARNING, "failover_promote", NULL,
			  "running promote_command for node %s", n->name);
		if (!hook_expand(M.cfg->promote_command, &v, cmd, sizeof(cmd)) ||
		    !hook_run(M.loop, cmd, M.cfg->failover_timeout, fo_promote_hook_done, NULL)) {
			fo_apply(failover_done(&M.fo, FA_PROMOTE, false,
					       "cannot run promote_command", mon_now()));
			fo_log();
		}
		return;
	}

	fo_login(n, keys, vals, host, sizeof(host), port, sizeof(port));
	M.fo_pc = pgconn_new(M.loop, keys, vals);
	event_add(LOG_WARNING, "failover_promote", NULL, "sending pg_promote() to node %s",
		  n->name);
	if (!M.fo_pc ||
	    !pgconn_connect(M.fo_pc, M.cfg->monitor_timeout, fo_promote_connected, NULL)) {
		if (M.fo_pc)
			pgconn_free(M.fo_pc);
		M.fo_pc = NULL;
		fo_apply(failover_done(&M.fo, FA_PROMOTE, false, "cannot start a connection",
				       mon_now()));
		fo_log();
	}
}

/* Repointing one replica at the new master: SHOW, ALTER SYSTEM, reload. */
typedef struct FoFollow {
	PgConn *pc;
	const Node *node, *master;
	int step;
} FoFollow;

static void fo_follow_step(PgConn *pc, const PGresult *res, const char *err, void *arg);

static void fo_follow_end(FoFollow *f, const char *what)
{
	event_add(LOG_WARNING, "failover_follow", f->node->name, "node %s %s", f->node->name, what);
	pgconn_free(f->pc);
	free(f);
}

/* conninfo with host/hostaddr/port replaced by the new master's, the rest kept. */
static void fo_conninfo(const char *old, const Node *m, char *out, size_t cap)
{
	PQconninfoOption *opts = old && old[0] ? PQconninfoParse(old, NULL) : NULL;
	size_t len = 0;

	len += (size_t)snprintf(out, cap, "host=%s port=%d", m->host, m->port);
	for (PQconninfoOption *o = opts; o && o->keyword && len < cap; o++) {
		if (!o->val || !o->val[0] || strcmp(o->keyword, "host") == 0 ||
		    strcmp(o->keyword, "hostaddr") == 0 || strcmp(o->keyword, "port") == 0)
			continue;
		if (strcmp(o->keyword, "user") == 0 && M.cfg->replication_user[0])
			continue;
		if (strcmp(o->keyword, "password") == 0 && M.cfg->replication_user[0])
			continue;
		len += (size_t)snprintf(out + len, cap - len, " %s='", o->keyword);
		for (const char *c = o->val; *c && len + 3 < cap; c++) {
			if (*c == '\'' || *c == '\\')
				out[len++] = '\\';
			out[len++] = *c;
		}
		len += (size_t)snprintf(out + len, cap - len, "'");
	}
	if (M.cfg->replication_user[0] && len < cap)
		len += (size_t)snprintf(out + len, cap - len, " user='%s' password='%s'",
					M.cfg->replication_user, M.cfg->replication_password);
	if (opts)
		PQconninfoFree(opts);
}

static void fo_follow_step(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	FoFollow *f = arg;
	char conninfo[2048], *lit, sql[4200];

	if (!res ||
	    (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)) {
		snprintf(sql, sizeof(sql), "could not be repointed: %s",
			 res ? PQresultErrorMessage(res) : (err ? err : "no answer"));
		fo_follow_end(f, sql);
		return;
	}
	switch (f->step++) {
	case 0: /* SHOW primary_conninfo answered */
		fo_conninfo(PQntuples(res) ? PQgetvalue(res, 0, 0) : "", f->master, conninfo,
			    sizeof(conninfo));
		lit = PQescapeLiteral(pgconn_pg(pc), conninfo, strlen(conninfo));
		if (!lit) {
			fo_follow_end(f, "could not be repointed: out of memory");
			return;
		}
		snprintf(sql, sizeof(sql), "ALTER SYSTEM SET primary_conninfo = %s", lit);
		PQfreemem(lit);
		break;
	case 1: {
		/* its physical slot (created on the new master first), or none */
		const char *slot = f->node->replication_slot;
		if (slot[0])
			snprintf(sql, sizeof(sql), "ALTER SYSTEM SET primary_slot_name = '%s'",
				 slot);
		else
			snprintf(sql, sizeof(sql), "ALTER SYSTEM RESET primary_slot_name");
		break;
	}
	case 2:
		snprintf(sql, sizeof(sql), "SELECT pg_reload_conf()");
		break;
	default:
		fo_follow_end(f, "now follows the new master");
		return;
	}
	if (!pgconn_query(pc, sql, M.cfg->failover_timeout, fo_follow_step, f))
		fo_follow_end(f, "could not be repointed: cannot send the query");
}

static void fo_follow_connected(PgConn *pc, bool ok, const char *err, void *arg)
{
	FoFollow *f = arg;

	if (!ok || !pgconn_query(pc, "SHOW primary_conninfo", M.cfg->failover_timeout,
				 fo_follow_step, f)) {
		char why[300];
		snprintf(why, sizeof(why), "could not be repointed: %s",
			 ok ? "cannot send the query" : err);
		fo_follow_end(f, why);
	}
}

static void fo_follow_hook_done(bool ok, const char *why, void *arg)
{
	const Node *n = arg;

	event_add(LOG_WARNING, "failover_follow", n->name, "node %s: follow_command %s", n->name,
		  ok ? "succeeded" : why);
}

static void fo_follow(const Node *n, const Node *master)
{
	const char *keys[8], *vals[8];
	char host[NI_MAXHOST], port[16];
	FoFollow *f;

	if (M.cfg->follow_command[0]) {
		char cmd[2048], mport[16];
		HookVars v = {.n = n->name,
			      .h = n->host,
			      .p = port,
			      .N = master->name,
			      .H = master->host,
			      .P = mport};
		snprintf(port, sizeof(port), "%d", n->port);
		snprintf(mport, sizeof(mport), "%d", master->port);
		if (!hook_expand(M.cfg->follow_command, &v, cmd, sizeof(cmd)) ||
		    !hook_run(M.loop, cmd, M.cfg->failover_timeout, fo_follow_hook_done, (void *)n))
			event_add(LOG_WARNING, "failover_follow", n->name,
				  "node %s: cannot run follow_command", n->name);
		return;
	}
	f = xcalloc(1, sizeof(*f));

	f->node = n;
	f->master = master;
	fo_login(n, keys, vals, host, sizeof(host), port, sizeof(port));
	f->pc = pgconn_new(M.loop, keys, vals);
	if (!f->pc || !pgconn_connect(f->pc, M.cfg->monitor_timeout, fo_follow_connected, f)) {
		if (f->pc)
			pgconn_free(f->pc);
		event_add(LOG_WARNING, "failover_follow", n->name, "node %s could not be repointed",
			  n->name);
		free(f);
	}
}

/* The state file's content with n as the master (the current master fenced if it is not n). */
static void fo_state_of(const Node *n, FoStateFile *s)
{
	const Node *old = topology_master();

	memset(s, 0, sizeof(*s));
	s->timeline = M.nodes[n->index].h.last.timeline;
	snprintf(s->master, sizeof(s->master), "%s", n->name);
	for (size_t i = 0; i < M.n && s->nfenced < STATEFILE_MAX_FENCED; i++) {
		const Node *x = M.nodes[i].node;
		if (x != n && (x->fenced || x == old))
			snprintf(s->fenced[s->nfenced++], PG_NAME_MAX, "%s", x->name);
	}
}

/*
 * The decision on disk before traffic moves, so that a restarted pgrelay
 * fences the same: written by a thread, then done(ok, err, n) on the loop.
 * Without a state_file, done is called at once.
 */
static void fo_write_state(const Node *n, StatefileDone done)
{
	FoStateFile s;
	char err[600];

	if (!M.cfg->state_file[0]) {
		done(true, NULL, (void *)n);
		return;
	}
	fo_state_of(n, &s);
	if (!statefile_write_async(M.loop, M.cfg->state_file, &s, done, (void *)n, err,
				   sizeof(err)))
		done(false, err, (void *)n);
}

/* fence_old_master: the fenced node answers as a master; make it refuse writes. */
typedef struct FoFence {
	PgConn *pc;
	const Node *node;
	int step;
} FoFence;

static void fo_fence_step(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	FoFence *f = arg;
	static const char *const steps[] = {
	    "ALTER SYSTEM SET default_transaction_read_only = on",
	    "SELECT pg_reload_conf()",
	};
	bool ok = res && (PQresultStatus(res) == PGRES_COMMAND_OK ||
			  PQresultStatus(res) == PGRES_TUPLES_OK);

	if (f->step > 0 && !ok) {
		event_add(LOG_WARNING, "fence_failed", f->node->name, "node %s: %s", f->node->name,
			  res ? PQresultErrorMessage(res) : (err ? err : "no answer"));
		goto done;
	}
	if ((size_t)f->step == ARRAY_SIZE(steps)) {
		event_add(LOG_WARNING, "fenced", f->node->name,
			  "node %s answers as a master but is not the elected one: "
			  "set default_transaction_read_only = on there",
			  f->node->name);
		goto done;
	}
	if (pgconn_query(pc, steps[f->step++], M.cfg->failover_timeout, fo_fence_step, f))
		return;
	event_add(LOG_WARNING, "fence_failed", f->node->name, "node %s: cannot send the query",
		  f->node->name);
done:
	pgconn_free(f->pc);
	free(f);
}

static void fo_fence_connected(PgConn *pc, bool ok, const char *err, void *arg)
{
	FoFence *f = arg;

	if (!ok) {
		event_add(LOG_WARNING, "fence_failed", f->node->name, "node %s: %s", f->node->name,
			  err ? err : "?");
		pgconn_free(f->pc);
		free(f);
		return;
	}
	fo_fence_step(pc, NULL, NULL, f);
}

static void fo_fence(MonNode *mn)
{
	const char *keys[8], *vals[8];
	char host[NI_MAXHOST], port[16];
	FoFence *f;

	mn->fence_sent = true;
	event_add(LOG_WARNING, "fenced_master_seen", mn->node->name,
		  "node %s answers as a master; it is fenced: pgrelay "
		  "sends it nothing%s",
		  mn->node->name, M.cfg->fence_old_master ? ", and makes it read only" : "");
	if (!M.cfg->fence_old_master)
		return;
	f = xcalloc(1, sizeof(*f));
	f->node = mn->node;
	fo_login(mn->node, keys, vals, host, sizeof(host), port, sizeof(port));
	f->pc = pgconn_new(M.loop, keys, vals);
	if (!f->pc || !pgconn_connect(f->pc, M.cfg->monitor_timeout, fo_fence_connected, f)) {
		if (f->pc)
			pgconn_free(f->pc);
		free(f);
	}
}

/* A repointed replica: confirmed once its WAL receiver streams from the new master. */
static void fo_follow_check(MonNode *mn, const Sample *s, usec_t now)
{
	char want[300];

	snprintf(want, sizeof(want), "%s:%d", mn->follow->host, mn->follow->port);
	if (s->streaming && strcmp(mn->h.upstream, want) == 0) {
		event_add(LOG_WARNING, "follow_confirmed", mn->node->name,
			  "node %s streams from the new master %s", mn->node->name,
			  mn->follow->name);
		mn->follow = NULL;
	} else if (now - mn->follow_since > M.cfg->failover_timeout) {
		event_add(LOG_WARNING, "follow_unconfirmed", mn->node->name,
			  "node %s does not stream from %s after %lld s "
			  "(its upstream: %s)",
			  mn->node->name, mn->follow->name,
			  (long long)(M.cfg->failover_timeout / USEC_PER_SEC),
			  mn->h.upstream[0] ? mn->h.upstream : "none");
		mn->follow = NULL;
	}
}

/* The other replicas' physical slots on the new master, then the repointing. */
typedef struct FoSlots {
	PgConn *pc;
	const Node *master;
} FoSlots;

static void fo_follow_all(const Node *n)
{
	for (size_t i = 0; i < M.n; i++) {
		const Node *r = M.nodes[i].node;
		if (r != n && !r->fenced && !r->removed) {
			M.nodes[i].follow = n;
			M.nodes[i].follow_since = mon_now();
			fo_follow(r, n);
		}
	}
}

static void fo_slots_done(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	FoSlots *sl = arg;

	(void)pc;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		event_add(LOG_WARNING, "slots_failed", sl->master->name, "on %s: %s",
			  sl->master->name,
			  res ? PQresultErrorMessage(res) : (err ? err : "no answer"));
	else
		event_add(LOG_WARNING, "slots_created", NULL, "%d replication slot(s) on %s",
			  PQntuples(res), sl->master->name);
	fo_follow_all(sl->master); /* without its slot a replica still streams (wal_keep_size) */
	pgconn_free(sl->pc);
	free(sl);
}

static void fo_slots_connected(PgConn *pc, bool ok, const char *err, void *arg)
{
	FoSlots *sl = arg;
	char sql[CFG_MAX_NODES * (PG_NAME_MAX + 4) + 256];
	size_t len;
	int k = 0;

	len = (size_t)snprintf(sql, sizeof(sql),
			       "SELECT pg_create_physical_replication_slot(s) FROM "
			       "unnest(ARRAY[");
	for (size_t i = 0; i < M.n; i++) {
		const Node *r = M.nodes[i].node;
		if (r == sl->master || r->fenced || !r->replication_slot[0])
			continue;
		/* slot names are validated: [a-z0-9_] only */
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s'%s'", k++ ? "," : "",
					r->replication_slot);
	}
	snprintf(sql + len, sizeof(sql) - len,
		 "]::name[]) s WHERE s NOT IN (SELECT slot_name FROM pg_replication_slots)");
	if (!ok || !pgconn_query(pc, sql, M.cfg->failover_timeout, fo_slots_done, sl)) {
		event_add(LOG_WARNING, "slots_failed", sl->master->name, "on %s: %s",
			  sl->master->name, ok ? "cannot send the query" : err);
		fo_follow_all(sl->master);
		pgconn_free(sl->pc);
		free(sl);
	}
}

/* Creates the slots named in the other replicas' [node] sections, then repoints them. */
static void fo_repoint(const Node *n)
{
	const char *keys[8], *vals[8];
	char host[NI_MAXHOST], port[16];
	bool any = false;
	FoSlots *sl;

	for (size_t i = 0; i < M.n; i++)
		any |= M.nodes[i].node != n && !M.nodes[i].node->fenced &&
		       M.nodes[i].node->replication_slot[0] && !M.cfg->follow_command[0];
	if (!any) {
		fo_follow_all(n);
		return;
	}
	sl = xcalloc(1, sizeof(*sl));
	sl->master = n;
	fo_login(n, keys, vals, host, sizeof(host), port, sizeof(port));
	sl->pc = pgconn_new(M.loop, keys, vals);
	if (!sl->pc || !pgconn_connect(sl->pc, M.cfg->monitor_timeout, fo_slots_connected, sl)) {
		if (sl->pc)
			pgconn_free(sl->pc);
		free(sl);
		fo_follow_all(n);
	}
}

/* The state file is on disk (or could not be written): switch the traffic. */
static void fo_reconfigure_written(bool ok, const char *err, void *arg)
{
	const Node *n = arg;
	const Node *old;
	FoAction a;

	if (!M.running || M.fo.state != FO_RECONFIGURE || M.fo.candidate != n->index)
		return; /* stopped, or no longer what the state machine waits for */
	if (!ok) {
		fo_apply(failover_done(&M.fo, FA_RECONFIGURE, false, err, mon_now()));
		fo_log();
		return;
	}
	old = topology_set_master(n);

	event_add(LOG_WARNING, "failover_switch", n->name, "node %s is the master now%s%s%s",
		  n->name, old ? "; node " : "", old ? old->name : "", old ? " is fenced" : "");
	for (size_t i = 0; i < M.n; i++)
		M.nodes[i].hy.count = 0; /* its next answer tells a node's new role */
	fo_repoint(n);
	M.wal_segment_size = 0;
	a = failover_done(&M.fo, FA_RECONFIGURE, true, NULL, mon_now());
	fo_log();
	notify_soon();
	fo_apply(a); /* a switchover: release the held units, now that the master moved */
}

static void fo_reconfigure(const Node *n)
{
	fo_write_state(n, fo_reconfigure_written);
}

/* What the monitor saw of every node, as the state machine wants it. */
static void fo_view(FoNode *v, size_t n, usec_t now)
{
	for (size_t i = 0; i < n; i++) {
		const NodeHealth *h = &M.nodes[i].h;
		const Node *node = M.nodes[i].node;
		bool recent = h->last.at && now - h->last.at <= M.lim.stale_after;
		v[i] =
		    (FoNode){.c = {.node = (int)i,
				   .name = node->name,
				   .reachable = h->last.ok && recent && !node->fenced &&
						!node->detached && !node->removed,
				   .in_recovery = h->last.in_recovery,
				   .never_promote = node->never_promote,
				   .priority = node->priority,
				   .receive_lsn = h->last.receive_lsn,
				   /* a quick position poll may be newer than the last full one */
				   .replay_lsn = h->last.in_recovery && h->pos_lsn != LSN_INVALID &&
							 h->pos_lsn > h->last.replay_lsn
						     ? h->pos_lsn
						     : h->last.replay_lsn,
				   .streaming = h->last.streaming,
				   .receipt_age = h->last.receipt_age},
			     .timeline = h->last.timeline,
			     .wal_lsn = h->last.wal_lsn};
	}
}

static void fo_tick(usec_t now)
{
	FoNode v[16];
	size_t n = M.n < 16 ? M.n : 16;
	FoAction a;

	if (!M.fo_on)
		return;
	fo_view(v, n, now);
	a = failover_tick(&M.fo, v, n, now);
	fo_log();
	fo_apply(a);
}

/* ---- planned switchover ------------------------------------------------------------ */

static void so_hold(bool on)
{
	if (M.holding == on)
		return;
	M.holding = on;
	if (M.gate.hold)
		M.gate.hold(on);
	if (on) {
		ev_timer_set(&M.so_timer, 0.02, 0.02);
		ev_timer_start(M.loop, &M.so_timer);
	} else {
		ev_timer_stop(M.loop, &M.so_timer);
	}
}

/* Fencing the old master for a switchover (undo: its read-only setting reset). */
typedef struct SoFence {
	bool undo;
	int step;
} SoFence;

static SoFence so_fence_job;

static void so_fence_end(bool ok, Lsn lsn, const char *why)
{
	bool undo = so_fence_job.undo;

	if (M.so_pc)
		pgconn_free(M.so_pc);
	M.so_pc = NULL;
	if (undo) {
		if (!ok)
			event_add(
			    LOG_WARNING, "switchover_unfence_failed",
			    M.nodes[M.fo.master].node->name,
			    "could not reset default_transaction_read_only on %s: %s; reset it "
			    "by hand (ALTER SYSTEM RESET default_transaction_read_only)",
			    M.nodes[M.fo.master].node->name, why ? why : "?");
		return;
	}
	fo_apply(failover_so_fenced(&M.fo, ok, lsn, why, mon_now()));
	fo_log();
}

static void so_fence_step(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	static const char *const fence[] = {
	    "ALTER SYSTEM SET default_transaction_read_only = on",
	    "SELECT pg_reload_conf()",
	    "SELECT pg_current_wal_insert_lsn()",
	};
	static const char *const undo[] = {
	    "ALTER SYSTEM RESET default_transaction_read_only",
	    "SELECT pg_reload_conf()",
	};
	const char *const *steps = so_fence_job.undo ? undo : fence;
	int nsteps = so_fence_job.undo ? (int)ARRAY_SIZE(undo) : (int)ARRAY_SIZE(fence);
	bool ok = res && (PQresultStatus(res) == PGRES_COMMAND_OK ||
			  PQresultStatus(res) == PGRES_TUPLES_OK);

	(void)arg;
	if (so_fence_job.step > 0 && !ok) {
		so_fence_end(false, LSN_INVALID,
			     res ? PQresultErrorMessage(res) : (err ? err : "no answer"));
		return;
	}
	if (so_fence_job.step == nsteps) {
		Lsn lsn = LSN_INVALID;
		if (!so_fence_job.undo &&
		    (PQntuples(res) != 1 || !lsn_parse(PQgetvalue(res, 0, 0), &lsn))) {
			so_fence_end(false, LSN_INVALID, "cannot read the master's WAL position");
			return;
		}
		so_fence_end(true, lsn, NULL);
		return;
	}
	if (!pgconn_query(pc, steps[so_fence_job.step++], M.cfg->failover_timeout, so_fence_step,
			  NULL))
		so_fence_end(false, LSN_INVALID, "cannot send the query");
}

static void so_fence_connected(PgConn *pc, bool ok, const char *err, void *arg)
{
	(void)arg;
	if (!ok) {
		so_fence_end(false, LSN_INVALID, err ? err : "cannot connect");
		return;
	}
	so_fence_step(pc, NULL, NULL, NULL);
}

static void so_fence(const Node *n, bool undo)
{
	const char *keys[8], *vals[8];
	char host[NI_MAXHOST], port[16];

	if (M.so_pc)
		pgconn_free(M.so_pc);
	so_fence_job = (SoFence){.undo = undo};
	fo_login(n, keys, vals, host, sizeof(host), port, sizeof(port));
	M.so_pc = pgconn_new(M.loop, keys, vals);
	if (!M.so_pc || !pgconn_connect(M.so_pc, M.cfg->monitor_timeout, so_fence_connected, NULL))
		so_fence_end(false, LSN_INVALID, "cannot start a connection");
}

/* Every 20 ms while a switchover holds units: drained yet? caught up yet? */
static void on_so_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	usec_t now = mon_now();

	(void)loop;
	(void)w;
	(void)revents;
	if (M.fo.state == FO_SO_DRAIN && (!M.gate.busy || M.gate.busy() == 0)) {
		fo_apply(failover_done(&M.fo, FA_SO_HOLD, true, NULL, now));
		fo_log();
	}
	if (M.fo.state == FO_SO_CATCHUP && M.fo.candidate >= 0 && (size_t)M.fo.candidate < M.n)
		monitor_want_position(M.nodes[M.fo.candidate].node);
	fo_tick(now);
}

static void fo_apply(FoAction a)
{
	const Node *n = a.node >= 0 && (size_t)a.node < M.n ? M.nodes[a.node].node : NULL;

	switch (a.kind) {
	case FA_NONE:
		break;
	case FA_PROMOTE:
		if (n)
			fo_promote(n);
		break;
	case FA_RECONFIGURE:
		if (n)
			fo_reconfigure(n);
		break;
	case FA_SO_HOLD:
		M.so_result = 0;
		so_hold(true);
		break;
	case FA_SO_FENCE:
		if (n)
			so_fence(n, false);
		break;
	case FA_SO_ABORT:
		snprintf(M.so_why, sizeof(M.so_why), "%s", M.fo.detail);
		M.so_result = -1;
		if (M.fo.so_fenced && n)
			so_fence(n, true);
		so_hold(false);
		break;
	case FA_SO_RESUME:
		snprintf(M.so_why, sizeof(M.so_why), "%s", M.fo.detail);
		M.so_result = 1;
		so_hold(false);
		break;
	}
}

void monitor_set_gate(const MonitorGate *g)
{
	M.gate = *g;
}

bool monitor_switchover(const Node *target, char *err, size_t errlen)
{
	FoNode v[16];
	size_t n = M.n < 16 ? M.n : 16;
	usec_t now = mon_now();
	FoAction a;

	if (!M.running || !M.fo_on) {
		snprintf(err, errlen, "the monitor is not running (monitor_user is not set)");
		return false;
	}
	if (!target || target->index < 0 || (size_t)target->index >= M.n) {
		snprintf(err, errlen, "no such node");
		return false;
	}
	fo_view(v, n, now);
	a = failover_switchover(&M.fo, target->index, v, n, now, err, errlen);
	if (a.kind == FA_NONE)
		return false;
	fo_log();
	fo_apply(a);
	return true;
}

int monitor_switchover_result(char *why, size_t whylen)
{
	if (M.fo.switchover)
		return 0;
	if (why && whylen)
		snprintf(why, whylen, "%s", M.so_why);
	return M.so_result;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	usec_t now = mon_now();

	(void)loop;
	(void)w;
	(void)revents;
	fo_tick(now);
	for (size_t i = 0; i < M.n; i++) {
		MonNode *mn = &M.nodes[i];
		if (mn->node->removed)
			continue;
		if (!mn->pc) {
			if (now >= mn->retry_at)
				mon_connect(mn);
		} else {
			mon_send(mn);
		}
	}
}

static void mon_limits(const Config *cfg)
{
	M.lim.max_bytes = cfg->max_lag_bytes;
	M.lim.max_time = cfg->max_lag_time;
	M.lim.stale_after = 2 * cfg->monitor_interval + cfg->monitor_timeout;
}

static FoConfig fo_config(const Config *cfg)
{
	/* failover = off: the state machine still runs planned switchovers */
	return (FoConfig){.enabled = cfg->failover,
			  .failures = cfg->failover_after,
			  .interval = cfg->monitor_interval,
			  .timeout = cfg->failover_timeout,
			  .max_lag = cfg->max_failover_lag,
			  /* the replicas' receivers give up after wal_receiver_timeout */
			  .witness_age = 300 * USEC_PER_SEC};
}

void monitor_reconfigure(const Config *cfg)
{
	M.cfg = cfg;
	mon_limits(cfg);
	if (!M.running)
		return;
	M.fo.cfg = fo_config(cfg);
	ev_timer_stop(M.loop, &M.tick);
	ev_timer_set(&M.tick, 0., (double)cfg->monitor_interval / USEC_PER_SEC);
	ev_timer_start(M.loop, &M.tick);
	for (size_t i = M.n; i < topology_count() && i < CFG_MAX_NODES; i++) {
		memset(&M.nodes[i], 0, sizeof(M.nodes[i]));
		M.nodes[i].node = topology_node(i);
		M.nodes[i].h.why = "not measured yet";
	}
	M.n = topology_count() < CFG_MAX_NODES ? topology_count() : CFG_MAX_NODES;
	for (size_t i = 0; i < M.n; i++) {
		MonNode *mn = &M.nodes[i];
		if (mn->node->removed && mn->pc) {
			pgconn_free(mn->pc);
			mn->pc = NULL;
			mn->connected = false;
			mn->running = Q_NONE;
		}
	}
	notify_soon();
}

void monitor_start(struct ev_loop *loop, const Config *cfg)
{
	void (*listener)(void) = M.listener;
	MonitorGate gate = M.gate;

	memset(&M, 0, sizeof(M));
	M.listener = listener;
	M.gate = gate;
	M.loop = loop;
	M.cfg = cfg;
	M.n = topology_count();
	mon_limits(cfg);
	ev_timer_init(&M.notify, on_notify, 0., 0.);
	if (!cfg->monitor_user[0] || M.n == 0)
		return; /* nothing is measured: no replica is ever fresh */
	/* room for the nodes a reload may add: a MonNode never moves */
	M.nodes = xcalloc(CFG_MAX_NODES, sizeof(MonNode));
	for (size_t i = 0; i < M.n; i++) {
		M.nodes[i].node = topology_node(i);
		M.nodes[i].h.why = "not measured yet";
	}
	M.running = true;
	ev_timer_init(&M.so_timer, on_so_timer, 0.02, 0.02);
	if (topology_master()) {
		/* failover = off: the state machine still runs planned switchovers */
		FoConfig fc = fo_config(cfg);
		failover_init(&M.fo, &fc, topology_master()->index, mon_now());
		M.fo_on = true;
	}
	ev_timer_init(&M.tick, on_tick, 0., (double)cfg->monitor_interval / USEC_PER_SEC);
	ev_timer_start(loop, &M.tick);
	log_info("monitor: polling %zu node(s) every %lld ms as %s", M.n,
		 (long long)(cfg->monitor_interval / 1000), cfg->monitor_user);
}

void monitor_stop(void)
{
	if (!M.loop)
		return;
	ev_timer_stop(M.loop, &M.tick);
	ev_timer_stop(M.loop, &M.notify);
	for (size_t i = 0; i < M.n && M.nodes; i++)
		if (M.nodes[i].pc)
			pgconn_free(M.nodes[i].pc);
	if (M.fo_pc)
		pgconn_free(M.fo_pc);
	M.fo_pc = NULL;
	if (M.so_pc)
		pgconn_free(M.so_pc);
	M.so_pc = NULL;
	ev_timer_stop(M.loop, &M.so_timer);
	free(M.nodes);
	M.nodes = NULL;
	M.running = false;
}

const NodeHealth *monitor_health(size_t i)
{
	return M.running && i < M.n ? &M.nodes[i].h : NULL;
}

NodeState monitor_state(size_t i, usec_t now)
{
	const NodeHealth *h = monitor_health(i);

	if (!h)
		return NS_UNKNOWN;
	/* a state older than a measurement may be is not a state */
	if (h->state != NS_DOWN &&
	    (!h->last.at || (now > h->last.at && now - h->last.at > M.lim.stale_after)))
		return NS_UNKNOWN;
	return h->state;
}

const char *monitor_node_state_text(const Node *n, usec_t now)
{
	if (n->fenced)
		return "fenced";
	if (n->removed)
		return "removed";
	if (n->detached)
		return "detached";
	return node_state_name(monitor_state((size_t)n->index, now));
}

bool monitor_replica_fresh(const Node *node, usec_t now)
{
	const MonNode *mn = mon_of(node);

	return mn && !node->detached && !node->fenced && !node->removed && mn->h.state == NS_UP &&
	       mn->h.last.ok && (now < mn->h.last.at || now - mn->h.last.at <= M.lim.stale_after);
}

void monitor_note_failure(const Node *node, const char *why)
{
	MonNode *mn = mon_of(node);

	if (!mn)
		return;
	observe(mn, NS_DOWN, why, true);
	fo_check(mn, false, LSN_INVALID, 0); /* detection need not wait for the next poll */
}

bool monitor_failover_active(void)
{
	return M.fo_on && M.fo.state != FO_HEALTHY && (M.fo.cfg.enabled || M.fo.switchover);
}

void monitor_set_listener(void (*cb)(void))
{
	M.listener = cb;
}

/* ---- read-your-writes ------------------------------------------------------------- */

static MonNode *master_node(void)
{
	return mon_of(topology_master());
}

uint64_t monitor_commit_ticket(void)
{
	MonNode *m = master_node();
	uint64_t t = M.started + 1;

	if (t > M.last_ticket)
		M.last_ticket = t;
	if (m) {
		m->want_pos = true;
		mon_send(m);
	}
	return t;
}

uint64_t monitor_last_ticket(void)
{
	return M.last_ticket;
}

bool monitor_ticket_lsn(uint64_t ticket, bool async, Lsn *lsn)
{
	async |= M.async_anywhere;
	uint64_t best = UINT64_MAX;

	if (ticket == 0 || ticket > M.done)
		return false;
	/* the answer of that poll, or of the oldest later one still remembered */
	for (unsigned i = 0; i < M.ring_n; i++) {
		unsigned k = (M.ring_head + TICKET_RING - 1 - i) % TICKET_RING;
		if (M.ring_seq[k] >= ticket && M.ring_seq[k] <= best) {
			best = M.ring_seq[k];
			*lsn = async ? M.ring_insert[k] : M.ring_flush[k];
		}
	}
	return best != UINT64_MAX;
}

Lsn monitor_replay_lsn(const Node *node)
{
	const MonNode *mn = mon_of(node);

	return mn ? mn->h.pos_lsn : LSN_INVALID;
}

void monitor_want_position(const Node *node)
{
	MonNode *mn = mon_of(node);

	if (!mn || mn->want_pos)
		return;
	mn->want_pos = true;
	mon_send(mn);
}

/* ---- admin actions -------------------------------------------------------------- */

const char *monitor_failover_state(void)
{
	return M.fo_on ? failover_state_name(M.fo.state) : "off";
}

uint64_t monitor_failovers(void)
{
	return M.fo.failovers;
}

uint64_t monitor_switchovers(void)
{
	return M.fo.switchovers;
}

bool monitor_detach(const Node *node, bool detach, char *err, size_t errlen)
{
	if (!node) {
		snprintf(err, errlen, "no such node");
		return false;
	}
	if (detach && node == topology_master()) {
		snprintf(err, errlen, "%s is the master: switch over first (PROMOTE another node)",
			 node->name);
		return false;
	}
	if (node->detached == detach) {
		snprintf(err, errlen, "%s is %s", node->name,
			 detach ? "already detached" : "not detached");
		return false;
	}
	topology_set_detached(node, detach);
	event_add(LOG_WARNING, detach ? "node_detached" : "node_attached", node->name,
		  detach ? "node %s taken out of rotation by an administrator (DETACH)"
			 : "node %s back in rotation (ATTACH)",
		  node->name);
	notify_soon();
	return true;
}

static const Node *unfence_pending;

static void unfence_written(bool ok, const char *err, void *arg)
{
	const Node *node = unfence_pending;

	(void)arg;
	unfence_pending = NULL;
	if (ok || !node)
		return;
	topology_set_fenced(node, true);
	event_add(LOG_WARNING, "unfence_failed", node->name,
		  "node %s is fenced again: the state file could not record the unfence: %s",
		  node->name, err ? err : "?");
	notify_soon();
}

bool monitor_unfence(const Node *node, char *err, size_t errlen)
{
	const MonNode *mn = mon_of(node);
	const Node *m = topology_master();
	char want[300];

	if (!node || !mn) {
		snprintf(err, errlen, "no such node (or the monitor is not running)");
		return false;
	}
	if (!node->fenced) {
		snprintf(err, errlen, "%s is not fenced", node->name);
		return false;
	}
	if (!m) {
		snprintf(err, errlen, "there is no master");
		return false;
	}
	snprintf(want, sizeof(want), "%s:%d", m->host, m->port);
	if (!mn->h.last.ok || !mn->h.last.in_recovery || !mn->h.last.streaming ||
	    strcmp(mn->h.upstream, want) != 0) {
		snprintf(err, errlen,
			 "%s does not stream from the master %s as a replica (in recovery: %s, "
			 "upstream: %s): rejoin it first (deploy/rejoin.sh)",
			 node->name, m->name,
			 !mn->h.last.ok		  ? "unknown"
			 : mn->h.last.in_recovery ? "yes"
						  : "no",
			 mn->h.upstream[0] ? mn->h.upstream : "none");
		return false;
	}
	/* unfenced now; if the state file cannot record it, fenced again (the safe side) */
	topology_set_fenced(node, false);
	unfence_pending = node;
	fo_write_state(m, unfence_written);
	M.nodes[node->index].fence_sent = false;
	event_add(LOG_WARNING, "node_unfenced", node->name,
		  "node %s streams from %s and is unfenced by an administrator", node->name,
		  m->name);
	notify_soon();
	return true;
}
