/*
 * client_route.c - the client -> servers half of a session: framing the
 * client's messages into routing units (a simple Query; an extended batch up
 * to its Sync), classifying each once, asking the router where it goes,
 * getting the replica connection on first use, replaying the session's
 * state (SETs, prepared statements) onto a server that lacks it, and
 * recording the session-state changes a unit makes once it has succeeded.
 * See docs/DESIGN.md, section 3.
 */
#include "client_int.h"

#include "balance.h"
#include "funccache.h"
#include "monitor.h"
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* dispatch(): sent; held (retried later); the client is gone; answered by pgrelay itself */
enum { D_SENT, D_WAIT, D_GONE, D_ANSWERED };
enum { ENS_READY, ENS_WAIT, ENS_FAILED };

static usec_t node_down_until[ROUTER_MAX_NODES];
/* Some database or user reads in the global mode: every commit takes a ticket. */
bool client_ryw_global;
static double node_latency[ROUTER_MAX_NODES] = {-1, -1, -1, -1, -1, -1, -1, -1,
						-1, -1, -1, -1, -1, -1, -1, -1};
static BalanceState balance_state;

static void backend_attached(PoolWaiter *w, Server *sv);
static void prelude_clear(Client *cl);
static void replica_failed(PoolWaiter *w, const ServerError *err);

/* ---- per-node state shared by sessions (the monitor takes this over later) ---- */

void client_mark_node_down(const Node *node, const char *why)
{
	if (node->index < 0 || node->index >= ROUTER_MAX_NODES)
		return;
	node_down_until[node->index] = client_now() + client_cfg->replica_retry_interval;
	monitor_note_failure(node, "the data path lost or could not open a connection");
	log_warning("node %s: no reads for %.1f s: %s", node->name,
		    (double)client_cfg->replica_retry_interval / USEC_PER_SEC, why);
}

void client_note_latency(const Node *node, usec_t us)
{
	if (node->index >= 0 && node->index < ROUTER_MAX_NODES)
		node_latency[node->index] =
		    balance_ewma(node_latency[node->index], (double)us, 0.2);
}

void client_log_route_stats(void)
{
	for (size_t i = 0; i < topology_count() && i < ROUTER_MAX_NODES; i++) {
		const Node *node = topology_node(i);
		for (int r = 0; r < RR__COUNT; r++) {
			uint64_t n = router_counter((int)i, (RouteReason)r);
			if (n)
				log_info("route-stats: node=%s reason=%s count=%llu", node->name,
					 router_reason_name((RouteReason)r), (unsigned long long)n);
		}
		if (router_misroutes((int)i))
			log_info("route-stats: node=%s misroutes=%llu", node->name,
				 (unsigned long long)router_misroutes((int)i));
	}
	for (size_t i = 0; i < topology_count(); i++) {
		const NodeHealth *h = monitor_health(i);
		char replay[LSN_TEXT_MAX], wal[LSN_TEXT_MAX];
		if (!h)
			continue;
		log_info(
		    "node-health: node=%s state=%s why=\"%s\" lag_bytes=%llu lag_ms=%lld "
		    "wal=%s replay=%s timeline=%u checked_ms_ago=%lld polls=%llu failures=%llu",
		    topology_node(i)->name, node_state_name(monitor_state(i, client_now())),
		    monitor_state(i, client_now()) == h->state ? h->why : "not measured recently",
		    (unsigned long long)h->lag.bytes, (long long)(h->lag.time / 1000),
		    lsn_format(h->last.wal_lsn, wal), lsn_format(h->last.replay_lsn, replay),
		    h->last.timeline,
		    h->last.at ? (long long)((client_now() - h->last.at) / 1000) : -1LL,
		    (unsigned long long)h->polls, (unsigned long long)h->failures);
	}
	log_info("route-stats: function_cache entries=%zu queries=%llu", funccache_entries(),
		 (unsigned long long)funccache_queries());
}

/* ---- setup and teardown ------------------------------------------------------ */

void client_route_init(Client *cl)
{
	for (int d = 0; d < DEST__COUNT; d++) {
		Backend *b = &cl->bk[d];
		b->cl = cl;
		b->dest = (RouteDest)d;
		b->link.on_read = client_on_server_read;
		b->link.on_drain = client_on_server_drain;
		list_init(&b->waiter.node);
	}
	session_init(&cl->sess);
	client_wait_init(cl);
	cl->open_dest = -1;
	cl->last_dest = DEST_MASTER;
	cl->fwd_dest = DEST_MASTER;
}

static void effects_clear(EffectList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	l->n = 0;
}

static void stale_clear(Backend *b)
{
	for (size_t i = 0; i < b->nstale; i++)
		free(b->stale[i]);
	b->nstale = 0;
}

void client_effects_reset(Client *cl)
{
	effects_clear(&cl->unit_eff);
	effects_clear(&cl->txn_eff);
	cl->txn_savepoint = false;
	prelude_clear(cl);
}

void client_route_free(Client *cl)
{
	client_wait_clear(cl);
	session_free(&cl->sess);
	effects_clear(&cl->unit_eff);
	effects_clear(&cl->txn_eff);
	free(cl->unit_eff.v);
	free(cl->txn_eff.v);
	for (int d = 0; d < DEST__COUNT; d++) {
		stale_clear(&cl->bk[d]);
		free(cl->bk[d].stale);
	}
	free(cl->unnamed);
	free(cl->net);
	free(cl->prelude);
}

void client_detach_servers(Client *cl)
{
	for (int d = 0; d < DEST__COUNT; d++) {
		Backend *b = &cl->bk[d];
		Server *sv = b->sv;

		if (b->acquiring) {
			pool_cancel_wait(&b->waiter);
			b->acquiring = false;
		}
		if (!sv)
			continue;
		b->sv = NULL;
		sv->link = NULL;
		if (sv->conn.closing || sv->conn.eof)
			server_close(sv, "server connection lost");
		else if ((cl->fwd_left > 0 && cl->fwd_dest == d) || sv->fwd_left > 0 ||
			 b->skip_left > 0)
			server_close(sv, "client left in the middle of a message");
		else
			pool_release(sv);
	}
}

int client_pool_size(const Client *cl)
{
	/* looked up each time: a reload may have changed it */
	const CfgDatabase *db = config_find_database(client_cfg, cl->database);

	return db && db->pool_size > 0 ? db->pool_size : client_cfg->pool_size;
}

bool client_is_idle(const Client *cl)
{
	const Server *m = cl->bk[DEST_MASTER].sv;

	return cl->state == CL_ACTIVE && cl->qlen == 0 && !cl->in_txn && cl->fwd_left == 0 &&
	       cl->open_dest < 0 && (!m || m->fwd_left == 0);
}

/* ---- classification ------------------------------------------------------------ */

static FuncKind client_func_lookup(const char *schema, size_t schema_len, const char *name,
				   size_t name_len, bool quoted, void *arg)
{
	Client *cl = arg;
	const Config *cfg = client_cfg;

	(void)schema_len;
	(void)name_len;
	(void)quoted;
	if (config_func_listed(cfg->write_funcs, cfg->nwrite_funcs, schema, name))
		return FUNC_WRITE;
	if (config_func_listed(cfg->read_only_funcs, cfg->nread_only_funcs, schema, name))
		return FUNC_READ_ONLY;
	return funccache_lookup(cl->backend_db, schema, name);
}

static FuncKind client_rel_lookup(const char *schema, size_t schema_len, const char *name,
				  size_t name_len, bool quoted, void *arg)
{
	Client *cl = arg;

	(void)schema_len;
	(void)name_len;
	(void)quoted;
	/* the catalogs hold no sequences (an unqualified pg_* name is pg_catalog's first) */
	if (schema ? strcmp(schema, "pg_catalog") == 0 || strcmp(schema, "information_schema") == 0
		   : strncmp(name, "pg_", 3) == 0)
		return FUNC_READ_ONLY;
	return funccache_relation(cl->backend_db, schema, name);
}

void client_class_opts(Client *cl, ClassifyOptions *o)
{
	o->lookup = client_func_lookup;
	o->lookup_arg = cl;
	/* without a monitor login nothing can be asked: sequences are read where routed */
	o->rel_lookup = client_cfg->monitor_user[0] ? client_rel_lookup : NULL;
	o->rel_lookup_arg = cl;
	o->std_strings = cl->std_strings;
}

/* Folds every statement of a text into u. */
static void fold_text(Client *cl, UnitSummary *u, const char *sql, size_t len, StmtInfo *first)
{
	ClassifyOptions o;
	StmtInfo si;

	client_class_opts(cl, &o);
	classify_sql(sql, len, &o, &si);
	if (first)
		*first = si;
	if (!(si.flags & SF_MULTI)) {
		router_fold(u, si.cls, si.reason, si.flags);
		return;
	}
	ClassifyIter it;
	classify_iter_init(&it, sql, len);
	while (classify_next(&it, &o, &si))
		router_fold(u, si.cls, si.reason, si.flags);
}

static void fold_info(UnitSummary *u, uint32_t info)
{
	router_fold(u, (StmtClass)(info & 0xff), (ClassReason)((info >> 8) & 0xff), info >> 16);
}

static bool parse_body(const uint8_t *body, size_t blen, const char **name, const char **sql,
		       size_t *sql_len);

/*
 * A prepared statement classified while a function or relation it uses was
 * not known yet: classify it again at its next Bind, so it does not stay on
 * the master for the session's life once pg_proc / pg_class have answered.
 */
static void stmt_refresh(Client *cl, uint32_t *info, const uint8_t *parse, size_t len)
{
	ClassReason r = (ClassReason)((*info >> 8) & 0xff);
	const char *name, *sql;
	size_t sql_len;
	ClassifyOptions o;
	StmtInfo si;

	if ((r != CR_UNKNOWN_FUNCTION && r != CR_UNKNOWN_RELATION) || len <= PG_HDR_LEN ||
	    !parse_body(parse + PG_HDR_LEN, len - PG_HDR_LEN, &name, &sql, &sql_len))
		return;
	client_class_opts(cl, &o);
	classify_sql(sql, sql_len, &o, &si);
	*info = stmt_info_pack(si.cls, si.reason, si.flags);
}

/* A Parse body: statement name and query text (without its NUL). */
static bool parse_body(const uint8_t *body, size_t blen, const char **name, const char **sql,
		       size_t *sql_len)
{
	PgReader r;
	size_t nl;

	pgr_init(&r, body, blen);
	return pgr_cstr(&r, name, &nl) && pgr_cstr(&r, sql, sql_len);
}

/* Bind: the statement name; Describe / Close: the kind byte and the name. */
static bool bind_stmt(const uint8_t *body, size_t blen, const char **stmt)
{
	PgReader r;
	const char *portal;
	size_t l;

	pgr_init(&r, body, blen);
	return pgr_cstr(&r, &portal, &l) && pgr_cstr(&r, stmt, &l);
}

static bool target_name(const uint8_t *body, size_t blen, uint8_t *kind, const char **name)
{
	PgReader r;
	size_t l;

	pgr_init(&r, body, blen);
	return pgr_u8(&r, kind) && pgr_cstr(&r, name, &l);
}

/* The Parse of statement `name` among the complete messages p[0..len), or NULL. */
static const uint8_t *batch_find_parse(const uint8_t *p, size_t len, const char *name,
				       size_t *msg_len)
{
	const uint8_t *found = NULL;
	size_t off = 0;

	while (off + PG_HDR_LEN <= len) {
		size_t total = 1 + (size_t)pg_get_u32(p + off + 1);
		const char *n, *sql;
		size_t sl;

		if (total < PG_HDR_LEN || off + total > len)
			break;
		if (p[off] == PQ_PARSE &&
		    parse_body(p + off + PG_HDR_LEN, total - PG_HDR_LEN, &n, &sql, &sl) &&
		    strcmp(n, name) == 0) {
			found = p + off;
			*msg_len = total;
		}
		off += total;
	}
	return found;
}

/* ---- session effects ------------------------------------------------------------ */

static bool effect_add(EffectList *l, EffectKind kind, const char *name, const char *text,
		       size_t len, uint32_t flags)
{
	Effect *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		Effect *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->flags = flags;
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	if (text) {
		e->text = malloc(len + 1);
		if (!e->text)
			return false;
		memcpy(e->text, text, len);
		e->text[len] = '\0';
		e->len = len;
	}
	l->n++;
	return true;
}

static bool word_is(const char *p, size_t n, const char *word)
{
	size_t wl = strlen(word);
	return n >= wl && strncasecmp(p, word, wl) == 0 &&
	       (n == wl || !(p[wl] == '_' || ((p[wl] | 0x20) >= 'a' && (p[wl] | 0x20) <= 'z')));
}

/*
 * A parameter name as PostgreSQL keys it: unquoted parts folded to lower
 * case, quotes removed, and the special forms mapped to their parameter.
 */
static void guc_norm(const char *p, size_t n, char out[PG_NAME_MAX])
{
	static const struct {
		const char *form, *name;
	} alias[] = {
	    {"time zone", "timezone"},	 {"names", "client_encoding"},
	    {"schema", "search_path"},	 {"session authorization", "session_authorization"},
	    {"xml option", "xmloption"},
	};
	size_t o = 0;
	bool space = false;

	for (size_t i = 0; i < n && o + 1 < PG_NAME_MAX; i++) {
		char ch = p[i];
		if (ch == '"') {
			for (i++; i < n && o + 1 < PG_NAME_MAX; i++) {
				if (p[i] == '"') {
					if (i + 1 < n && p[i + 1] == '"')
						i++;
					else
						break;
				}
				out[o++] = p[i];
			}
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			space = o > 0;
			continue;
		}
		if (space && o + 1 < PG_NAME_MAX)
			out[o++] = ' ';
		space = false;
		out[o++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	out[o] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(alias); i++)
		if (strcmp(out, alias[i].form) == 0)
			snprintf(out, PG_NAME_MAX, "%s", alias[i].name);
}

static void pin(Client *cl, const char *why)
{
	if (!cl->pin_reason) {
		cl->pin_reason = why;
		clog_info(cl, "session pinned to the master: %s", why);
	}
}

/* Records what the statements of one text change in the session (a barrier unit's). */
static void collect_effects(Client *cl, const char *sql, size_t len)
{
	ClassifyOptions o;
	ClassifyIter it;
	StmtInfo si;
	char name[PG_NAME_MAX];
	bool ok = true;

	client_class_opts(cl, &o);
	classify_iter_init(&it, sql, len);
	while (ok && classify_next(&it, &o, &si)) {
		const char *st = sql + si.stmt_off;
		size_t sl = si.stmt_len;

		switch (si.cls) {
		case SC_PIN:
			pin(cl, classify_reason_name(si.reason));
			break;
		case SC_SESSION:
			if (si.reason == CR_DISCARD) {
				const char *w = st + 7;
				while (w < st + sl && (*w == ' ' || *w == '\t' || *w == '\n'))
					w++;
				if (word_is(w, (size_t)(st + sl - w), "all"))
					ok = effect_add(&cl->unit_eff, EFF_DISCARD_ALL, NULL, NULL,
							0, 0);
				break;
			}
			if (si.guc_len) {
				guc_norm(sql + si.guc_off, si.guc_len, name);
				/* its commits may be acknowledged before their WAL is flushed */
				if (strcmp(name, "synchronous_commit") == 0)
					cl->async_commit = true;
			}
			if (si.flags & SF_SET_LOCAL)
				break;
			if (word_is(st, sl, "reset"))
				ok = si.guc_len
					 ? effect_add(&cl->unit_eff, EFF_RESET, name, NULL, 0, 0)
					 : effect_add(&cl->unit_eff, EFF_RESET_ALL, NULL, NULL, 0,
						      0);
			else if (si.guc_len)
				ok = effect_add(&cl->unit_eff, EFF_SET, name, st, sl, si.flags);
			else
				pin(cl, "a SET pgrelay cannot replay");
			break;
		case SC_SET_TXN:
			if (si.flags & SF_SESSION_CHARS)
				ok = effect_add(&cl->unit_eff, EFF_SET, "session characteristics",
						st, sl, si.flags);
			break;
		default:
			break;
		}
	}
	if (!ok)
		pin(cl, "out of memory for session state");
}

static void stmts_clear_presence(Client *cl, uint8_t bit)
{
	SessionState *s = &cl->sess;

	for (size_t i = 0; i < s->nbuckets; i++)
		for (SessionStmt *st = s->buckets[i]; st; st = st->next)
			st->present &= (uint8_t)~bit;
	cl->unnamed_on &= (uint8_t)~bit;
}

static void recompute_serializable(Client *cl)
{
	bool ser = cl->startup_serializable;

	for (size_t i = 0; i < cl->sess.ngucs; i++) {
		const SessionGuc *g = &cl->sess.gucs[i];
		if ((strcmp(g->name, "default_transaction_isolation") == 0 ||
		     strcmp(g->name, "session characteristics") == 0) &&
		    (g->flags & SF_SERIALIZABLE))
			ser = true;
	}
	cl->sess_serializable = ser;
}

/*
 * Records one SET. DateStyle is cumulative (SET datestyle TO ymd keeps the
 * output format), so what is recorded is the value the server reported for
 * it afterwards; SET SESSION AUTHORIZATION also resets the role.
 */
static bool guc_set(Client *cl, const Effect *e, RouteDest ran_on)
{
	const Server *sv = cl->bk[ran_on].sv;

	if (strcmp(e->name, "session_authorization") == 0)
		session_guc_reset(&cl->sess, "role");
	if (strcmp(e->name, "datestyle") == 0 && sv) {
		for (size_t i = 0; i < sv->nparams; i++) {
			if (strcmp(sv->params[i].name, "DateStyle") == 0 &&
			    !strchr(sv->params[i].value, '\'')) {
				char text[320];
				int n = snprintf(text, sizeof(text), "SET DateStyle = '%s'",
						 sv->params[i].value);
				return session_guc_set(&cl->sess, e->name, text, (size_t)n,
						       e->flags);
			}
		}
	}
	return session_guc_set(&cl->sess, e->name, e->text, e->len, e->flags);
}

/* The effects ran on `ran_on` and are now part of the session. */
static void effects_apply(Client *cl, EffectList *l, RouteDest ran_on)
{
	uint64_t before = cl->sess.guc_version;
	bool current = cl->bk[ran_on].guc_version == before;

	for (size_t i = 0; i < l->n; i++) {
		Effect *e = &l->v[i];
		switch (e->kind) {
		case EFF_SET:
			if (!guc_set(cl, e, ran_on))
				pin(cl, "out of memory for session state");
			break;
		case EFF_RESET:
			session_guc_reset(&cl->sess, e->name);
			if (strcmp(e->name, "session_authorization") == 0)
				session_guc_reset(&cl->sess, "role");
			break;
		case EFF_RESET_ALL:
			session_guc_reset_all(&cl->sess);
			break;
		case EFF_DISCARD_ALL:
			session_guc_reset_all(&cl->sess);
			session_stmt_clear(&cl->sess);
			cl->unnamed_on = 0;
			for (int d = 0; d < DEST__COUNT; d++) {
				stale_clear(&cl->bk[d]);
				if (d != (int)ran_on && cl->bk[d].sv)
					cl->bk[d].dealloc_all = true;
			}
			break;
		}
	}
	if (l->n)
		clog_debug(cl, "session state: %zu change(s) recorded, %zu SET(s) in effect", l->n,
			   cl->sess.ngucs);
	if (current)
		cl->bk[ran_on].guc_version = cl->sess.guc_version;
	effects_clear(l);
	recompute_serializable(cl);
}

void client_unit_done(Client *cl, const Unit *u, char status)
{
	bool boundary;

	if (u->error)
		effects_clear(&cl->unit_eff);
	for (size_t i = 0; i < cl->unit_eff.n; i++) {
		Effect *e = &cl->unit_eff.v[i];
		if (!effect_add(&cl->txn_eff, e->kind, e->name, e->text, e->len, e->flags))
			pin(cl, "out of memory for session state");
	}
	effects_clear(&cl->unit_eff);
	if (status == 'E')
		cl->txn_error = true;
	boundary = status == 'I' || u->ends;
	if (boundary) {
		bool commit = !u->error && !(u->ends && u->rollback) && !cl->txn_error;
		if (commit && cl->txn_savepoint && cl->txn_eff.n)
			pin(cl, "SET inside a transaction with savepoints");
		if (commit)
			effects_apply(cl, &cl->txn_eff, (RouteDest)u->dest);
		else
			effects_clear(&cl->txn_eff);
		cl->txn_error = false;
		cl->txn_savepoint = false;
	}
	if (status == 'I' && u->may_write && u->dest == DEST_MASTER &&
	    (cl->ryw_mode != RYW_OFF || client_ryw_global))
		cl->ryw_ticket = monitor_commit_ticket();
	cl->in_txn = status != 'I';
	if (cl->in_txn)
		cl->txn_dest = (RouteDest)u->dest;
	else if (cl->qlen == 0)
		prelude_clear(cl);
	if (status == 'E')
		cl->txn_error = true;
}

/* ---- server connections ------------------------------------------------------------ */

static uint64_t peer_key(const Client *cl)
{
	const char *colon = strrchr(cl->conn.peer, ':');
	size_t n = colon ? (size_t)(colon - cl->conn.peer) : strlen(cl->conn.peer);
	return balance_hash(cl->conn.peer, n);
}

static int node_busy(const Node *node)
{
	int n = 0;
	for (Pool *p = pool_first(); p; p = pool_next(p))
		if (p->pgnode == node)
			n += (int)p->busy.count;
	return n;
}

static int replica_pick(Client *cl)
{
	BalanceCandidate cand[BALANCE_MAX_NODES];
	size_t n = 0;
	usec_t now = client_now();

	for (size_t i = 0; i < topology_count() && n < BALANCE_MAX_NODES; i++) {
		const Node *node = topology_node(i);
		int w = topology_weight(node);
		cand[n].node = (int)i;
		cand[n].usable = (node == topology_master() && !node->detached) ||
				 (monitor_replica_fresh(node, now) &&
				  (node->index >= ROUTER_MAX_NODES || now >= node_down_until[i]));
		cand[n].weight = w;
		cand[n].busy = w > 0 ? node_busy(node) : 0;
		cand[n].latency_us = i < ROUTER_MAX_NODES ? node_latency[i] : -1;
		n++;
	}
	return balance_pick(&balance_state, (BalancePolicy)client_cfg->load_balance, cand, n,
			    peer_key(cl));
}

/* Some node may serve reads now: a fresh replica with a weight, or the master with one. */
static bool any_read_node(void)
{
	usec_t now = client_now();

	for (size_t i = 0; i < topology_count(); i++) {
		const Node *node = topology_node(i);
		if (topology_weight(node) > 0 && !node->detached && !node->removed &&
		    (node == topology_master() || monitor_replica_fresh(node, now)))
			return true;
	}
	return false;
}

static bool replica_usable(Client *cl)
{
	Backend *b = &cl->bk[DEST_REPLICA];

	if (!client_cfg->route_reads)
		return false;
	if (b->failed && b->failed_version == cl->sess.guc_version)
		return false;
	if (cl->reads_on_master || b->sv || b->acquiring)
		return true;
	if (cl->no_fresh)
		cl->no_fresh = !any_read_node();
	return client_now() >= cl->replica_retry_at && !cl->no_fresh;
}

/* Gives the session's replica connection back when the replica is no longer fresh. */
static void replica_release_stale(Client *cl)
{
	Backend *b = &cl->bk[DEST_REPLICA];
	Server *sv = b->sv;

	if (!sv || (cl->in_txn && !cl->defer_begin && cl->txn_dest == DEST_REPLICA) ||
	    monitor_replica_fresh(sv->node, client_now()))
		return;
	for (unsigned i = 0; i < cl->qlen; i++)
		if (client_q_at(cl, i)->dest == DEST_REPLICA)
			return; /* what runs there finishes there */
	if (cl->open_dest == DEST_REPLICA || (cl->fwd_left > 0 && cl->fwd_dest == DEST_REPLICA))
		return;
	clog_debug(cl, "replica %s is no longer fresh: its connection goes back to the pool",
		   sv->node->name);
	b->sv = NULL;
	b->node = NULL;
	sv->link = NULL;
	if (sv->conn.closing || sv->conn.eof || sv->fwd_left > 0 || b->skip_left > 0 ||
	    sv->pending > 0)
		server_close(sv, "replica no longer fresh");
	else
		pool_release(sv);
}

/* Gets the session its replica connection: ready now, later, or not at all. */
static int replica_ensure(Client *cl)
{
	Backend *b = &cl->bk[DEST_REPLICA];
	const Node *node;
	int idx;
	Pool *p;

	if (b->sv)
		return ENS_READY;
	if (b->acquiring)
		return ENS_WAIT;
	idx = replica_pick(cl);
	cl->no_fresh = idx < 0;
	if (idx < 0)
		return ENS_FAILED;
	node = topology_node((size_t)idx);
	if (node == topology_master()) {
		cl->reads_on_master = true;
		return ENS_READY;
	}
	p = pool_get(node, cl->backend_db, cl->backend_user, client_pool_size(cl));
	b->node = node;
	b->waiter.ready = backend_attached;
	b->waiter.failed = replica_failed;
	b->waiter.sig = cl->sig;
	b->waiter.sig_len = cl->sig_len;
	b->waiter.password = cl->backend_password;
	b->waiter.client_key = cl->bk[DEST_MASTER].waiter.client_key;
	b->acquiring = true;
	clog_debug(cl, "getting a connection to replica %s", node->name);
	pool_request(p, &b->waiter);
	if (b->sv)
		return ENS_READY;
	if (!b->acquiring)
		return ENS_FAILED;
	if (!b->waiter.opening) {
		/* the pool is full: do not make a read wait for a slot */
		pool_cancel_wait(&b->waiter);
		b->acquiring = false;
		cl->replica_retry_at = client_now() + USEC_PER_SEC;
		clog_debug(cl, "replica %s pool is full; reading from the master", node->name);
		return ENS_FAILED;
	}
	return ENS_WAIT;
}

/* A session's new server connection (replica, or a master replacing a lost one). */
static void backend_attached(PoolWaiter *w, Server *sv)
{
	Backend *b = container_of(w, Backend, waiter);
	Client *cl = b->cl;

	b->acquiring = false;
	client_backend_link(b, sv);
	/* a fresh connection has the startup defaults: only recorded SETs need a replay */
	b->guc_version = cl->sess.ngucs == 0 ? cl->sess.guc_version : UINT64_MAX;
	b->dealloc_all = false;
	b->failed = false;
	stale_clear(b);
	stmts_clear_presence(cl, (uint8_t)(1u << b->dest));
	clog_debug(cl, "%s connection: backend %d on %s", router_dest_name(b->dest),
		   sv->backend_pid, sv->node->name);
	client_forward(cl);
}

static void replica_failed(PoolWaiter *w, const ServerError *err)
{
	Backend *b = container_of(w, Backend, waiter);
	Client *cl = b->cl;

	b->acquiring = false;
	if (b->node)
		client_mark_node_down(b->node, err->message);
	b->node = NULL;
	client_forward(cl);
}

void client_backend_failed_replay(Client *cl, Backend *b)
{
	if (b->dest == DEST_MASTER) {
		clog_info(cl, "replaying session state on the master failed; continuing");
		b->guc_version = cl->sess.guc_version;
		b->dealloc_all = false;
		return;
	}
	b->failed = true;
	b->failed_version = cl->sess.guc_version;
	clog_info(cl, "replaying session state on replica %s failed: reads go to the master",
		  b->sv ? b->sv->node->name : "?");
}

/* ---- a new master connection for a session that lost its own -------------------- */

static int answer_error(Client *cl, const char *sqlstate, const char *msg);

static void master_reconnect_failed(PoolWaiter *w, const ServerError *err)
{
	Backend *b = container_of(w, Backend, waiter);
	Client *cl = b->cl;

	b->acquiring = false;
	/* a refused or timed-out connect (pgrelay's 08006) is a health observation; a
	 * server's own error (too many clients, a bad password) says the server is alive */
	if (b->node && (!err->sqlstate[0] || strcmp(err->sqlstate, "08006") == 0))
		monitor_note_failure(b->node, err->message);
	b->node = NULL;
	snprintf(cl->master_error, sizeof(cl->master_error), "%s", err->message);
	client_forward(cl);
}

/* Gets the session a master connection again: D_SENT when it has one now. */
static int master_ensure(Client *cl)
{
	Backend *b = &cl->bk[DEST_MASTER];
	const Node *m = topology_master();

	if (b->sv)
		return D_SENT;
	if (b->acquiring)
		return D_WAIT;
	if (monitor_failover_active()) {
		/* the master is suspected or being replaced: wait for the outcome */
		cl->master_error[0] = '\0';
		if (client_wait_for(cl, client_cfg->write_wait_timeout))
			return D_WAIT;
		return answer_error(cl, "57P03",
				    "no master is available: a failover is in progress") == D_SENT
			   ? D_ANSWERED
			   : D_WAIT;
	}
	if (cl->master_error[0]) {
		char msg[sizeof(cl->master_error) + 64];
		snprintf(msg, sizeof(msg), "cannot connect to the master: %s", cl->master_error);
		cl->master_error[0] = '\0';
		return answer_error(cl, "08006", msg) == D_SENT ? D_ANSWERED : D_WAIT;
	}
	if (!m)
		return answer_error(cl, "57P03", "no master node is available") == D_SENT
			   ? D_ANSWERED
			   : D_WAIT;
	b->node = m;
	b->waiter.ready = backend_attached;
	b->waiter.failed = master_reconnect_failed;
	b->acquiring = true;
	clog_debug(cl, "getting a new connection to the master %s", m->name);
	pool_request(pool_get(m, cl->backend_db, cl->backend_user, client_pool_size(cl)),
		     &b->waiter);
	if (b->sv)
		return D_SENT;
	return D_WAIT; /* ready or failed later (or already: failed() set master_error) */
}

/* ---- sending ------------------------------------------------------------------ */

static Unit *q_push(Client *cl)
{
	Unit *u = client_q_at(cl, cl->qlen++);
	memset(u, 0, sizeof(*u));
	u->sent_at = client_now();
	return u;
}

static bool oom(Client *cl)
{
	client_fatal(cl, "53200", "out of memory");
	return false;
}

/*
 * Sends messages of pgrelay's own to b's server as one unit whose answers
 * are dropped, owing `ready` ReadyForQuery messages. NULL when out of memory
 * (the client is closed).
 */
static Unit *send_injected(Client *cl, Backend *b, const void *data, size_t len, unsigned ready)
{
	Unit *u;

	if (!conn_write(&b->sv->conn, data, len)) {
		oom(cl);
		return NULL;
	}
	b->sv->pending += (int)ready;
	u = q_push(cl);
	u->dest = (uint8_t)b->dest;
	u->kind = UK_REPLAY;
	u->zleft = (uint16_t)ready;
	return u;
}

/* Brings b's server to the session's SETs (and DEALLOCATE ALL); the unit waits for it. */
static bool send_replay(Client *cl, Backend *b)
{
	PgWriter w;
	Unit *u;

	pgw_init_dynamic(&w, 256, client_cfg->max_message_size);
	session_guc_replay(&cl->sess, b->dealloc_all, &w);
	if (w.failed) {
		pgw_free(&w);
		return oom(cl);
	}
	u = send_injected(cl, b, w.data, w.len, 1);
	pgw_free(&w);
	if (!u)
		return false;
	u->check = true;
	u->version = cl->sess.guc_version;
	cl->barrier = true;
	clog_debug(cl, "replaying %zu SET(s) on %s", cl->sess.ngucs, b->sv->node->name);
	return true;
}

/* Closes statements the session no longer has on b's server. */
static bool send_stale_closes(Client *cl, Backend *b)
{
	uint8_t buf[PG_NAME_MAX + 16];
	PgWriter w;

	for (size_t i = 0; i < b->nstale; i++) {
		pgw_init_static(&w, buf, sizeof(buf));
		pgw_begin(&w, PQ_CLOSE);
		pgw_u8(&w, 'S');
		pgw_cstr(&w, b->stale[i]);
		pgw_end(&w);
		if (w.failed || !conn_write(&b->sv->conn, w.data, w.len))
			return oom(cl);
	}
	stale_clear(b);
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_begin(&w, PQ_SYNC);
	pgw_end(&w);
	return send_injected(cl, b, w.data, w.len, 1) != NULL;
}

static bool stale_add(Backend *b, const char *name)
{
	if (b->nstale == b->stale_cap) {
		size_t cap = b->stale_cap ? b->stale_cap * 2 : 4;
		char **v = realloc(b->stale, cap * sizeof(*v));
		if (!v)
			return false;
		b->stale = v;
		b->stale_cap = cap;
	}
	b->stale[b->nstale] = strdup(name);
	if (!b->stale[b->nstale])
		return false;
	b->nstale++;
	return true;
}

static bool inject(Client *cl, Backend *b, const uint8_t *msg, size_t len, Unit *u)
{
	if (!conn_write(&b->sv->conn, msg, len))
		return oom(cl);
	u->swallow++;
	b->sv->unsynced = true;
	return true;
}

/*
 * A batch going to b uses a statement whose Parse is `parse`: inject it
 * unless b's server has it (or the batch parses it itself), and collect its
 * session effects when it is bound in a barrier unit.
 */
static bool use_stmt(Client *cl, Backend *b, Unit *u, const uint8_t *parse, size_t len,
		     uint8_t *present, bool parsed_here, bool bound)
{
	uint8_t bit = (uint8_t)(1u << b->dest);
	const char *name, *sql;
	size_t sql_len;

	if (!parsed_here && !(*present & bit)) {
		if (!inject(cl, b, parse, len, u))
			return false;
		*present |= bit;
	}
	if (u->barrier && bound && len > PG_HDR_LEN &&
	    parse_body(parse + PG_HDR_LEN, len - PG_HDR_LEN, &name, &sql, &sql_len))
		collect_effects(cl, sql, sql_len);
	return true;
}

/*
 * Walks a batch about to go to b: injects the Parse of every statement it
 * uses that b's server lacks, records its named statements and Closes in the
 * session, keeps a copy of its unnamed Parse, counts its Syncs, and collects
 * the session effects of a barrier unit. rerun: the batch already went
 * through here once (the safety net resends it).
 */
static bool prepare_batch(Client *cl, Backend *b, const uint8_t *p, size_t len, Unit *u, bool rerun)
{
	uint8_t bit = (uint8_t)(1u << b->dest);
	bool unnamed_parsed = false;
	size_t off = 0;
	ClassifyOptions o;

	client_class_opts(cl, &o);
	while (off + PG_HDR_LEN <= len) {
		const uint8_t *m = p + off, *body = m + PG_HDR_LEN;
		size_t total = 1 + (size_t)pg_get_u32(m + 1), blen = total - PG_HDR_LEN;
		const char *name = NULL, *sql;
		size_t sql_len;
		uint8_t kind;

		if (total < PG_HDR_LEN || off + total > len)
			break;
		switch (m[0]) {
		case PQ_PARSE:
			if (!parse_body(body, blen, &name, &sql, &sql_len))
				break;
			if (name[0] == '\0') {
				StmtInfo si;
				if (cl->unnamed_cap < total) {
					uint8_t *n = realloc(cl->unnamed, total);
					if (!n)
						return oom(cl);
					cl->unnamed = n;
					cl->unnamed_cap = total;
				}
				memcpy(cl->unnamed, m, total);
				cl->unnamed_len = total;
				classify_sql(sql, sql_len, &o, &si);
				cl->unnamed_info = stmt_info_pack(si.cls, si.reason, si.flags);
				cl->unnamed_on = bit;
				unnamed_parsed = true;
				break;
			}
			{
				SessionStmt *st = session_stmt_find(&cl->sess, name);
				StmtInfo si;

				if (st && rerun) {
					st->present |= bit;
					break;
				}
				if (st) {
					/* a duplicate name: let this server refuse it as PostgreSQL
					 * would */
					if (!(st->present & bit)) {
						if (!inject(cl, b, st->parse, st->parse_len, u))
							return false;
						st->present |= bit;
					}
					break;
				}
				classify_sql(sql, sql_len, &o, &si);
				if (!session_stmt_add(&cl->sess, name, m, total,
						      stmt_info_pack(si.cls, si.reason, si.flags)))
					return oom(cl);
				session_stmt_find(&cl->sess, name)->present = bit;
			}
			break;
		case PQ_BIND:
		case PQ_DESCRIBE:
			if (m[0] == PQ_BIND) {
				if (!bind_stmt(body, blen, &name))
					break;
			} else if (!target_name(body, blen, &kind, &name) || kind != 'S') {
				break;
			}
			if (name[0] == '\0') {
				if (cl->unnamed_len &&
				    !use_stmt(cl, b, u, cl->unnamed, cl->unnamed_len,
					      &cl->unnamed_on, unnamed_parsed, m[0] == PQ_BIND))
					return false;
				break;
			}
			{
				SessionStmt *st = session_stmt_find(&cl->sess, name);
				if (st && !use_stmt(cl, b, u, st->parse, st->parse_len,
						    &st->present, false, m[0] == PQ_BIND))
					return false;
			}
			break;
		case PQ_CLOSE:
			if (!target_name(body, blen, &kind, &name) || kind != 'S')
				break;
			if (name[0] == '\0') {
				cl->unnamed_on = 0;
				cl->unnamed_len = 0;
				break;
			}
			{
				SessionStmt *st = session_stmt_find(&cl->sess, name);
				if (!st)
					break;
				for (int d = 0; d < DEST__COUNT; d++)
					if (d != (int)b->dest && (st->present & (1u << d)) &&
					    !stale_add(&cl->bk[d], name))
						return oom(cl);
				session_stmt_close(&cl->sess, name);
			}
			break;
		case PQ_SYNC:
		case PQ_QUERY:
		case PQ_FUNCTION_CALL:
			u->zleft++;
			break;
		default:
			break;
		}
		off += total;
	}
	return true;
}

/* Server bookkeeping for what a unit's messages owe (ReadyForQuery, unsynced). */
static void note_sent(Server *sv, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off + PG_HDR_LEN <= len) {
		size_t total = 1 + (size_t)pg_get_u32(p + off + 1);
		switch (p[off]) {
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
		if (total < PG_HDR_LEN)
			break;
		off += total;
	}
}

/*
 * Sends a unit's bytes to dest. batch: an extended batch (else one Query or
 * FunctionCall). copy: the bytes are not in the client's buffer (a rerun).
 */
static bool send_unit(Client *cl, RouteDest dest, const uint8_t *p, size_t len, bool batch,
		      bool copy, Unit *u)
{
	Backend *b = &cl->bk[dest];
	Server *sv = b->sv;

	u->dest = (uint8_t)dest;
	u->kind = UK_CLIENT;
	if (batch) {
		if (!prepare_batch(cl, b, p, len, u, copy))
			return false;
	} else {
		u->zleft = 1;
	}
	if (!(copy ? conn_write(&sv->conn, p, len) : conn_queue(&sv->conn, p, len)))
		return oom(cl);
	note_sent(sv, p, len);
	return true;
}

/* Makes room for `need` bytes from in_pos; nothing queued may point into the buffer then. */
static bool reserve_client(Client *cl, size_t need)
{
	for (int d = 0; d < DEST__COUNT; d++)
		if (cl->bk[d].sv)
			conn_flush(&cl->bk[d].sv->conn);
	return conn_in_reserve(&cl->conn, need);
}

/* ---- a deferred BEGIN and the tentative replica transaction ------------------------ */

/* Query messages kept to restart a transaction elsewhere: BEGIN and a few SET TRANSACTIONs. */
#define PRELUDE_MAX 4096

static void prelude_clear(Client *cl)
{
	cl->prelude_len = 0;
	cl->prelude_n = 0;
	cl->tentative = false;
}

/* Appends a Query message; when it does not fit, the transaction can no longer move. */
static void prelude_add(Client *cl, const uint8_t *msg, size_t len)
{
	if (cl->prelude_len + len > PRELUDE_MAX) {
		prelude_clear(cl);
		return;
	}
	if (!cl->prelude) {
		cl->prelude = malloc(PRELUDE_MAX);
		if (!cl->prelude) {
			prelude_clear(cl);
			return;
		}
		cl->prelude_cap = PRELUDE_MAX;
	}
	memcpy(cl->prelude + cl->prelude_len, msg, len);
	cl->prelude_len += len;
	cl->prelude_n++;
	cl->tentative = true;
}

/* Sends the prelude's Query messages to b's server as one unit whose answers are dropped. */
static bool send_prelude(Client *cl, Backend *b)
{
	return send_injected(cl, b, cl->prelude, cl->prelude_len, cl->prelude_n) != NULL;
}

/* Ends the replica's half of a transaction that moves to the master. */
static bool send_rollback(Client *cl, Backend *b)
{
	uint8_t buf[32];
	PgWriter w;

	pgw_init_static(&w, buf, sizeof(buf));
	pgw_query(&w, "ROLLBACK");
	return !w.failed && send_injected(cl, b, w.data, w.len, 1) != NULL;
}

/*
 * A plain BEGIN (or START TRANSACTION) alone in a Query with nothing in
 * flight: pgrelay answers it and the next unit chooses the node, so that
 * BEGIN; SET TRANSACTION READ ONLY runs on a replica. Returns false when the
 * BEGIN must simply be routed.
 */
static bool defer_begin(Client *cl, const UnitSummary *sum, const uint8_t *p, size_t len)
{
	const char *sql = (const char *)p + PG_HDR_LEN, *tag;
	uint8_t buf[64];
	PgWriter w;

	if (!client_cfg->route_reads || cl->in_txn || cl->qlen || cl->pin_reason ||
	    cl->sess_read_only || cl->sess_serializable || cl->reads_on_master ||
	    len > PRELUDE_MAX / 2)
		return false;
	if (!sum->begins || !sum->prelude || sum->set_txn || !sum->txn_reads || sum->hint_master ||
	    sum->hint_replica ||
	    (sum->begin_flags & (SF_READ_ONLY | SF_READ_WRITE | SF_SERIALIZABLE)))
		return false;
	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
		sql++;
	if (strncasecmp(sql, "begin", 5) == 0)
		tag = "BEGIN";
	else if (strncasecmp(sql, "start", 5) == 0)
		tag = "START TRANSACTION";
	else
		return false; /* a leading comment: not worth parsing here */
	if (!replica_usable(cl))
		return false;
	prelude_clear(cl);
	prelude_add(cl, p, len);
	if (!cl->tentative)
		return false;
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_command_complete(&w, tag);
	pgw_ready(&w, 'T');
	if (w.failed || !conn_write(&cl->conn, w.data, w.len)) {
		prelude_clear(cl);
		return false;
	}
	conn_flush(&cl->conn);
	cl->defer_begin = true;
	cl->defer_sum = *sum;
	cl->in_txn = true;
	cl->txn_dest = DEST_MASTER;
	clog_debug(cl, "BEGIN answered by pgrelay; the next statement chooses the node");
	return true;
}

/* ---- routing a unit ---------------------------------------------------------------- */

/* A unit of the client's own is still running on the master. */
static bool owes_master(const Client *cl)
{
	for (unsigned i = 0; i < cl->qlen; i++) {
		const Unit *u = &cl->q[(cl->qhead + i) % UNITQ_CAP];
		if (u->dest == DEST_MASTER && u->kind == UK_CLIENT)
			return true;
	}
	return false;
}

/*
 * Read-your-writes for a read about to go to the session's replica: the
 * watermark (the session's last commit, or in the global mode anybody's)
 * must be known and replayed there. Holds the read up to
 * read_your_writes_wait, then sends it to the master. D_WAIT or D_SENT.
 */
static int ryw_check(Client *cl, RouteDecision *dec)
{
	const Server *sv = cl->bk[DEST_REPLICA].sv;
	uint64_t t = cl->ryw_ticket;
	Lsn lsn;
	RouteReason why;

	if (cl->ryw_mode == RYW_OFF || cl->reads_on_master || !sv)
		return D_SENT;
	if (cl->ryw_mode == RYW_GLOBAL && monitor_last_ticket() > t)
		t = monitor_last_ticket();
	if (t) {
		if (!monitor_ticket_lsn(t, cl->async_commit, &lsn)) {
			why = RR_RYW_UNKNOWN;
			goto hold;
		}
		if (lsn > cl->ryw_lsn)
			cl->ryw_lsn = lsn;
		cl->ryw_ticket = 0;
	}
	if (cl->ryw_lsn == LSN_INVALID || monitor_replay_lsn(sv->node) >= cl->ryw_lsn)
		return D_SENT;
	monitor_want_position(sv->node);
	why = RR_RYW_NOT_REPLAYED;
hold:
	if (!cl->wait_until) {
		char w[LSN_TEXT_MAX], r[LSN_TEXT_MAX];
		clog_debug(cl,
			   "read-your-writes: holding a read (%s; ticket %llu, watermark %s, %s "
			   "replayed %s)",
			   router_reason_name(why), (unsigned long long)t,
			   lsn_format(cl->ryw_lsn, w), sv->node->name,
			   lsn_format(monitor_replay_lsn(sv->node), r));
	}
	if (client_wait_for(cl, client_cfg->read_your_writes_wait))
		return D_WAIT;
	{
		char w[LSN_TEXT_MAX], r[LSN_TEXT_MAX];
		clog_debug(cl, "read-your-writes: %s after waiting (watermark %s, %s replayed %s)",
			   router_reason_name(why), lsn_format(cl->ryw_lsn, w), sv->node->name,
			   lsn_format(monitor_replay_lsn(sv->node), r));
	}
	*dec = (RouteDecision){DEST_MASTER, why};
	return D_SENT;
}

/* Answers the unit with an error itself (in order: only once nothing is in flight). */
static int answer_error(Client *cl, const char *sqlstate, const char *msg)
{
	uint8_t buf[512];
	PgWriter w;

	if (cl->qlen)
		return D_WAIT; /* the pump forwards again when the queue drains */
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_error(&w, "ERROR", sqlstate, "%s", msg);
	pgw_ready(&w, cl->in_txn ? (cl->txn_error ? 'E' : 'T') : 'I');
	if (w.failed || !conn_write(&cl->conn, w.data, w.len)) {
		oom(cl);
		return D_GONE;
	}
	conn_flush(&cl->conn);
	client_wait_clear(cl);
	return D_SENT;
}

/*
 * Routes the unit at the start of the client's buffer: p[0..len) holds its
 * complete messages. batch: extended protocol; open: its Sync has not come
 * yet (the rest follows through open_dest). forced: a reason that sends it
 * to the master whatever it holds (RR__COUNT = none).
 */
static int dispatch(Client *cl, const UnitSummary *sum, const uint8_t *p, size_t len, bool batch,
		    bool open, RouteReason forced, RouteReason dflt)
{
	RouteDecision dec = {DEST_MASTER, dflt};
	/* a deferred BEGIN: this unit starts the transaction */
	bool txn = cl->in_txn && !cl->defer_begin, starts = !txn && sum && sum->begins;
	bool move = false;
	Backend *b;
	Unit *u;
	bool net;

	if (txn && cl->tentative && cl->txn_dest == DEST_REPLICA && sum && sum->set_txn &&
	    (sum->set_txn_flags & (SF_READ_WRITE | SF_SERIALIZABLE)) && !cl->txn_error) {
		/* a standby refuses both: restart the transaction on the master */
		if (cl->qlen)
			return D_WAIT; /* until the replica has answered what it was sent */
		move = true;
	}
	if (cl->txn_lost && !cl->qlen) {
		/* its master died inside the transaction (see master_lost_quietly) */
		cl->txn_lost = false;
		cl->in_txn = false;
		cl->txn_error = false;
		client_effects_reset(cl);
		return answer_error(cl, "08006",
				    "the transaction was lost: the connection to the master failed "
				    "(nothing of it was committed)");
	}
	if (client_paused && !txn) {
		/* PAUSE: it starts after RESUME, or fails after query_wait_timeout */
		if (client_cfg->query_wait_timeout == 0) {
			client_hold(cl);
			return D_WAIT;
		}
		if (client_wait_for(cl, client_cfg->query_wait_timeout))
			return D_WAIT;
		return answer_error(cl, "57P03",
				    "pgrelay is paused (PAUSE): no new transaction started within "
				    "query_wait_timeout");
	}
	if (!move)
		replica_release_stale(cl);
	for (int attempt = 0; attempt < 4; attempt++) {
		RouteInput in = {
		    .unit = sum,
		    .in_txn = txn,
		    .txn_dest = cl->txn_dest,
		    .pinned = cl->pin_reason != NULL,
		    .stats_session = cl->stats_reader,
		    .session_read_only = cl->sess_read_only,
		    .session_serializable = cl->sess_serializable,
		    .replica_usable = replica_usable(cl),
		    .routing_enabled = client_cfg->route_reads,
		};
		if (move)
			dec = (RouteDecision){DEST_MASTER, RR_TXN_MOVED};
		else if (!sum)
			dec = txn ? (RouteDecision){cl->txn_dest, RR_TXN} : dec;
		else if (forced != RR__COUNT)
			dec = txn ? (RouteDecision){cl->txn_dest, RR_TXN}
				  : (RouteDecision){DEST_MASTER, forced};
		else
			dec = router_decide(&in);
		if (dec.dest == DEST_REPLICA && !txn && owes_master(cl)) {
			/* its own write may not have committed yet: a replica cannot have it */
			dec = (RouteDecision){DEST_MASTER, RR_BEHIND_WRITE};
			break;
		}
		net = dec.dest == DEST_REPLICA && !txn && !starts && !open;
		if (net && (len > NET_UNIT_MAX || cl->net_len + len > NET_ARENA_MAX))
			dec = (RouteDecision){DEST_MASTER, RR_TOO_LARGE};
		if (dec.dest != DEST_REPLICA)
			break;
		if (cl->reads_on_master) {
			dec.dest = DEST_MASTER;
			break;
		}
		switch (replica_ensure(cl)) {
		case ENS_READY:
			if (cl->reads_on_master)
				dec.dest = DEST_MASTER;
			goto decided;
		case ENS_WAIT:
			return D_WAIT;
		default:
			if (cl->conn.closing)
				return D_GONE;
			continue; /* replica_usable() now says no */
		}
	}
	if (dec.reason == RR_NO_REPLICA && cl->no_fresh &&
	    client_cfg->no_fresh_replica != NOFRESH_MASTER) {
		if (client_cfg->no_fresh_replica == NOFRESH_WAIT &&
		    client_wait_for(cl, client_cfg->no_fresh_replica_timeout))
			return D_WAIT;
		router_count(topology_master() ? topology_master()->index : 0, RR_NO_REPLICA);
		return answer_error(cl, "57P03",
				    "no replica is fresh enough to serve this read "
				    "(no_fresh_replica = error or wait)");
	}
decided:
	if (dec.dest == DEST_REPLICA && !txn && ryw_check(cl, &dec) == D_WAIT)
		return D_WAIT;
	if (client_master_held() && !txn && dec.dest != DEST_REPLICA) {
		/* a switchover: it runs on the new master, or fails after write_wait_timeout */
		if (client_wait_for(cl, client_cfg->write_wait_timeout))
			return D_WAIT;
		return answer_error(cl, "57P03",
				    "no master is available: a switchover is in progress");
	}
	net = dec.dest == DEST_REPLICA && !txn && !starts && !open;
	if (!txn && dec.dest != DEST_REPLICA && cl->bk[DEST_MASTER].sv &&
	    cl->bk[DEST_MASTER].sv->node != topology_master() && topology_master()) {
		/* linked to a master that was replaced meanwhile (a login that waited) */
		client_master_changed(cl, topology_master());
		if (cl->conn.closing)
			return D_GONE;
	}
	b = &cl->bk[dec.dest];
	if (!b->sv && dec.dest == DEST_MASTER) {
		/* the session lost its master connection while idle: take a new one */
		int r = master_ensure(cl);
		if (r == D_ANSWERED)
			return D_SENT;
		if (r != D_SENT)
			return r;
	} else if (!b->sv) {
		/* a transaction's replica went away under it */
		client_fatal(cl, "08006", "server connection for the transaction was lost");
		return D_GONE;
	}
	if (b->guc_version != cl->sess.guc_version || b->dealloc_all)
		return send_replay(cl, b) ? D_WAIT : D_GONE;
	if (b->nstale && !send_stale_closes(cl, b))
		return D_GONE;
	if (move) {
		Backend *r = &cl->bk[DEST_REPLICA];
		if ((r->sv && !send_rollback(cl, r)) || !send_prelude(cl, b))
			return D_GONE;
		prelude_clear(cl);
		cl->txn_dest = DEST_MASTER;
		clog_info(cl,
			  "read-only transaction asked for %s before its first query: "
			  "restarted on the master",
			  (sum->set_txn_flags & SF_SERIALIZABLE) ? "SERIALIZABLE" : "READ WRITE");
	} else if (cl->defer_begin) {
		if (!send_prelude(cl, b))
			return D_GONE;
		cl->defer_begin = false;
		if (dec.dest != DEST_REPLICA)
			prelude_clear(cl);
	}
	/* while a replica transaction has only set itself up, keep how it did */
	if ((starts || (txn && cl->tentative)) && dec.dest == DEST_REPLICA && !batch && sum &&
	    sum->prelude)
		prelude_add(cl, p, len);
	else if (starts || txn)
		prelude_clear(cl);
	client_wait_clear(cl);
	u = q_push(cl);
	u->open = open;
	u->may_write = dec.dest == DEST_MASTER && !(sum && sum->all_read);
	if (sum) {
		u->barrier = router_is_barrier(sum);
		u->ends = sum->ends;
		u->rollback = sum->rollback;
		if (sum->txn_stmt && cl->in_txn)
			cl->txn_savepoint = true;
	}
	if (sum && sum->reason == CR_DDL)
		funccache_invalidate(cl->backend_db, (const char *)p, len);
	if (sum && sum->stats && !cl->stats_reader) {
		cl->stats_reader = true;
		clog_debug(cl,
			   "read the master's statistics: its reads go to the master from now on");
	}
	if (u->barrier && !batch) {
		const char *sql = (const char *)p + PG_HDR_LEN;
		collect_effects(cl, sql, len > PG_HDR_LEN ? len - PG_HDR_LEN - 1 : 0);
	}
	if (!send_unit(cl, dec.dest, p, len, batch, false, u))
		return D_GONE;
	if (net) {
		if (cl->net_cap < cl->net_len + len) {
			size_t cap = cl->net_cap ? cl->net_cap : 4096;
			uint8_t *n;
			while (cap < cl->net_len + len)
				cap *= 2;
			n = realloc(cl->net, cap);
			if (!n)
				return oom(cl) ? D_GONE : D_GONE;
			cl->net = n;
			cl->net_cap = cap;
		}
		memcpy(cl->net + cl->net_len, p, len);
		u->net = true;
		u->net_off = (uint32_t)cl->net_len;
		u->net_len = (uint32_t)len;
		cl->net_len += len;
		cl->net_units++;
	}
	if (u->barrier)
		cl->barrier = true;
	if (open)
		cl->open_dest = dec.dest;
	cl->last_dest = dec.dest;
	cl->units_routed++;
	router_count(b->sv->node->index, dec.reason);
	clog_debug(cl, "unit -> %s %s (%s%s%s)", router_dest_name(dec.dest), b->sv->node->name,
		   router_reason_name(dec.reason), sum ? ", " : "",
		   sum ? classify_reason_name(sum->reason) : "");
	return D_SENT;
}

bool client_rerun_on_master(Client *cl, Unit *u)
{
	Backend *m = &cl->bk[DEST_MASTER];
	const uint8_t *p = cl->net + u->net_off;
	size_t len = u->net_len;
	bool batch = p[0] != PQ_QUERY;

	/* responses must stay in order: only when nothing is queued behind it on the master */
	for (unsigned i = 1; i < cl->qlen; i++)
		if (client_q_at(cl, i)->dest == DEST_MASTER)
			return false;
	if (!m->sv || m->guc_version != cl->sess.guc_version || m->dealloc_all)
		return false;
	u->net = false;
	u->may_write = true;
	u->misroute = false;
	u->error = false;
	u->swallow = 0;
	u->zleft = 0;
	u->sent_at = client_now();
	if (!send_unit(cl, DEST_MASTER, p, len, batch, true, u))
		return false;
	router_count(m->sv->node->index, RR_MISROUTE_RERUN);
	return true;
}

/* ---- framing the client's input ------------------------------------------------------- */

enum { SCAN_NEED_MORE, SCAN_COMPLETE, SCAN_FORCED, SCAN_BAD };

/* Large messages after the first are not worth holding for a decision. */
#define SCAN_HOLD_MAX (64 * 1024)

static int scan_batch(Client *cl, RouteReason *forced)
{
	Conn *c = &cl->conn;
	ClassifyOptions o;

	if (!cl->scan_active) {
		if (cl->defer_begin)
			cl->scan_sum = cl->defer_sum;
		else
			router_summary_init(&cl->scan_sum);
		cl->scan_off = 0;
		cl->scan_active = true;
		cl->scan_result = 0;
	}
	if (cl->scan_result) {
		/* framed before, then held (a replay, a replica connection): decide again */
		*forced = cl->scan_forced;
		return cl->scan_result;
	}
	client_class_opts(cl, &o);
	for (;;) {
		size_t avail = c->in_len - c->in_pos - cl->scan_off, total;
		const uint8_t *m = c->in + c->in_pos + cl->scan_off;
		uint8_t type;
		FrameResult fr =
		    pgproto_msg_header(m, avail, client_cfg->max_message_size, &type, &total);
		const char *name, *sql;
		size_t sql_len;

		if (fr == FRAME_BAD)
			return SCAN_BAD;
		if (fr == FRAME_OK && type != PQ_PARSE && type != PQ_BIND && type != PQ_DESCRIBE &&
		    type != PQ_EXECUTE && type != PQ_CLOSE && type != PQ_SYNC && type != PQ_FLUSH) {
			*forced = cl->scan_forced = RR_WRITE;
			return cl->scan_result = SCAN_FORCED;
		}
		if (fr == FRAME_NEED_MORE || total > avail) {
			size_t need = cl->scan_off + (fr == FRAME_OK ? total : PG_HDR_LEN);
			if (fr == FRAME_OK && total > SCAN_HOLD_MAX && type != PQ_PARSE) {
				*forced = cl->scan_forced = RR_TOO_LARGE;
				return cl->scan_result = SCAN_FORCED;
			}
			if (!reserve_client(cl, need)) {
				if (cl->scan_off == 0)
					return SCAN_BAD;
				*forced = cl->scan_forced = RR_TOO_LARGE;
				return cl->scan_result = SCAN_FORCED;
			}
			return SCAN_NEED_MORE;
		}
		switch (type) {
		case PQ_PARSE:
			if (parse_body(m + PG_HDR_LEN, total - PG_HDR_LEN, &name, &sql, &sql_len))
				fold_text(cl, &cl->scan_sum, sql, sql_len, NULL);
			else
				router_fold(&cl->scan_sum, SC_WRITE, CR_UNKNOWN, 0);
			break;
		case PQ_BIND:
			if (!bind_stmt(m + PG_HDR_LEN, total - PG_HDR_LEN, &name)) {
				router_fold(&cl->scan_sum, SC_WRITE, CR_UNKNOWN, 0);
			} else if (name[0] == '\0') {
				if (batch_find_parse(c->in + c->in_pos, cl->scan_off, "", &sql_len))
					break;
				if (cl->unnamed_len) {
					stmt_refresh(cl, &cl->unnamed_info, cl->unnamed,
						     cl->unnamed_len);
					fold_info(&cl->scan_sum, cl->unnamed_info);
				} else
					router_fold(&cl->scan_sum, SC_WRITE, CR_UNKNOWN, 0);
			} else {
				SessionStmt *st = session_stmt_find(&cl->sess, name);
				if (st) {
					stmt_refresh(cl, &st->info, st->parse, st->parse_len);
					fold_info(&cl->scan_sum, st->info);
				} else if (!batch_find_parse(c->in + c->in_pos, cl->scan_off, name,
							     &sql_len))
					router_fold(&cl->scan_sum, SC_WRITE, CR_UNKNOWN, 0);
			}
			break;
		case PQ_SYNC:
			cl->scan_off += total;
			cl->scan_forced = RR__COUNT;
			return cl->scan_result = SCAN_COMPLETE;
		case PQ_FLUSH:
			cl->scan_off += total;
			*forced = cl->scan_forced = RR_FLUSH;
			return cl->scan_result = SCAN_FORCED;
		default:
			break;
		}
		cl->scan_off += total;
	}
}

/* Forwards one message (or the start of a large one) to dest outside the unit logic. */
static bool forward_plain(Client *cl, RouteDest dest, const uint8_t *p, size_t total, size_t avail)
{
	Conn *c = &cl->conn;
	Server *sv = cl->bk[dest].sv;
	size_t n = total <= avail ? total : avail;

	if (!sv) {
		c->in_pos += n;
		cl->fwd_left = total - n;
		cl->fwd_dest = dest;
		return true;
	}
	if (total <= avail)
		note_sent(sv, p, total);
	else if (p[0] == PQ_SYNC || p[0] == PQ_QUERY || p[0] == PQ_FUNCTION_CALL)
		sv->pending++;
	if (!conn_queue(&sv->conn, p, n))
		return oom(cl);
	c->in_pos += n;
	cl->fwd_left = total - n;
	cl->fwd_dest = dest;
	return true;
}

/* A message inside an open unit (after a Flush, or a batch too large to hold). */
static bool forward_open(Client *cl, uint8_t type, const uint8_t *p, size_t total, size_t avail)
{
	Unit *u = client_q_at(cl, cl->qlen - 1);

	if (total <= avail && (type == PQ_PARSE || type == PQ_QUERY)) {
		/* still look for session changes the router must know about */
		UnitSummary s;
		const char *name, *sql = NULL;
		size_t sql_len = 0;

		router_summary_init(&s);
		if (type == PQ_QUERY && total > PG_HDR_LEN + 1) {
			sql = (const char *)p + PG_HDR_LEN;
			sql_len = total - PG_HDR_LEN - 1;
		} else if (type == PQ_PARSE &&
			   !parse_body(p + PG_HDR_LEN, total - PG_HDR_LEN, &name, &sql, &sql_len)) {
			sql = NULL;
		}
		if (sql) {
			fold_text(cl, &s, sql, sql_len, NULL);
			if (router_is_barrier(&s)) {
				u->barrier = true;
				u->ends |= s.ends;
				u->rollback = s.rollback;
				cl->barrier = true;
				collect_effects(cl, sql, sql_len);
			}
		}
	}
	if (type == PQ_SYNC) {
		cl->open_dest = -1;
		u->open = false;
	}
	if (type == PQ_SYNC || type == PQ_QUERY || type == PQ_FUNCTION_CALL)
		u->zleft++;
	return forward_plain(cl, (RouteDest)u->dest, p, total, avail);
}

static void forward_some(Client *cl)
{
	Conn *c = &cl->conn;

	while (!c->closing && c->in_pos < c->in_len) {
		size_t avail = c->in_len - c->in_pos, total;
		const uint8_t *p = c->in + c->in_pos;
		uint8_t type;
		FrameResult fr;
		RouteReason forced = RR__COUNT;
		int r;

		if (cl->fwd_left > 0) {
			size_t n = avail < cl->fwd_left ? avail : cl->fwd_left;
			Server *sv = cl->bk[cl->fwd_dest].sv;
			if (sv && !conn_queue(&sv->conn, p, n)) {
				oom(cl);
				return;
			}
			c->in_pos += n;
			cl->fwd_left -= n;
			continue;
		}
		fr = pgproto_msg_header(p, avail, client_cfg->max_message_size, &type, &total);
		if (fr == FRAME_NEED_MORE)
			return;
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
		if (type == PQ_TERMINATE) {
			client_flush_servers(cl);
			c->in_pos = c->in_len;
			client_close(cl, "client sent Terminate");
			return;
		}
		if (cl->open_dest >= 0) {
			if (!forward_open(cl, type, p, total, avail))
				return;
			continue;
		}
		if (type == PQ_COPY_DATA || type == PQ_COPY_DONE || type == PQ_COPY_FAIL) {
			if (!forward_plain(cl, (RouteDest)cl->last_dest, p, total, avail))
				return;
			continue;
		}
		/* a new unit: wait while a barrier, a replay or a replica connection is pending */
		if (cl->barrier || cl->qlen >= UNITQ_CAP || cl->bk[DEST_REPLICA].acquiring)
			return;
		switch (type) {
		case PQ_QUERY: {
			UnitSummary sum;

			if (total > avail) {
				if (!reserve_client(cl, total))
					client_fatal(cl, "53200", "out of memory");
				return;
			}
			if (cl->defer_begin)
				sum = cl->defer_sum;
			else
				router_summary_init(&sum);
			if (total < PG_HDR_LEN + 1 || p[total - 1] != '\0')
				router_fold(&sum, SC_WRITE, CR_MALFORMED, 0);
			else
				fold_text(cl, &sum, (const char *)p + PG_HDR_LEN,
					  total - PG_HDR_LEN - 1, NULL);
			if (defer_begin(cl, &sum, p, total)) {
				c->in_pos += total;
				break;
			}
			r = dispatch(cl, &sum, p, total, false, false, RR__COUNT, RR_WRITE);
			if (r != D_SENT)
				return;
			c->in_pos += total;
			break;
		}
		case PQ_FUNCTION_CALL:
			if (total > avail) {
				if (!reserve_client(cl, total))
					client_fatal(cl, "53200", "out of memory");
				return;
			}
			r = dispatch(cl, NULL, p, total, false, false, RR__COUNT, RR_FUNCTION_CALL);
			if (r != D_SENT)
				return;
			c->in_pos += total;
			break;
		case PQ_PARSE:
		case PQ_BIND:
		case PQ_DESCRIBE:
		case PQ_EXECUTE:
		case PQ_CLOSE:
		case PQ_SYNC:
		case PQ_FLUSH: {
			size_t len;

			switch (scan_batch(cl, &forced)) {
			case SCAN_NEED_MORE:
				return;
			case SCAN_BAD:
				client_fatal(cl, "08P01", "invalid message length");
				return;
			case SCAN_COMPLETE:
				forced = RR__COUNT;
				break;
			default:
				break;
			}
			p = c->in + c->in_pos; /* scanning may have moved the buffer */
			len = cl->scan_off;
			r = dispatch(cl, &cl->scan_sum, p, len, true, forced != RR__COUNT, forced,
				     RR_WRITE);
			if (r != D_SENT)
				return;
			cl->scan_active = false;
			c->in_pos += len;
			break;
		}
		default:
			/* not a frontend message PostgreSQL knows: say so as the server would */
			client_fatal(cl, "08P01", "invalid frontend message type %d", type);
			return;
		}
	}
}

void client_flush_servers(Client *cl)
{
	bool full = false;
	Unit *h = client_q_head(cl);
	Server *next = cl->bk[h ? h->dest : DEST_MASTER].sv;

	/* the server owing the next answer must be read (it may have been paused for its turn) */
	if (next && !conn_pending(&cl->conn))
		conn_resume_reading(&next->conn);

	for (int d = 0; d < DEST__COUNT; d++) {
		Server *sv = cl->bk[d].sv;
		if (sv && conn_flush(&sv->conn) == FLUSH_PENDING)
			full = true;
	}
	/*
	 * A server answering while a large message to it is still being written
	 * (the BEGIN sent ahead of it, a pipelined unit) gets here and may finish
	 * the write without its drain callback: resume the client then too.
	 */
	if (full)
		conn_pause_reading(&cl->conn);
	else
		conn_resume_reading(&cl->conn);
	conn_compact(&cl->conn);
}

/* Client -> servers: route and forward what the client has sent. */
void client_forward(Client *cl)
{
	if (cl->state != CL_ACTIVE || cl->conn.closing)
		return;
	if (cl->in_forward) {
		cl->forward_again = true;
		return;
	}
	cl->in_forward = true;
	do {
		cl->forward_again = false;
		forward_some(cl);
	} while (cl->forward_again && !cl->conn.closing);
	cl->in_forward = false;
	if (cl->conn.closing)
		return;
	client_flush_servers(cl);
	for (int d = 0; d < DEST__COUNT; d++)
		if (cl->bk[d].sv && conn_pending(&cl->bk[d].sv->conn))
			return; /* on_drain resumes the client */
	conn_resume_reading(&cl->conn);
}
