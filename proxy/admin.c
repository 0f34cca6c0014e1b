/*
 * admin.c - the admin console behind admin.h: login, a small tokenizer, the
 * command table, one handler per command writing its result set through
 * the Tab helpers, and the commands that finish later (PAUSE waits for
 * running transactions, PROMOTE for the switchover) on a per-session timer.
 * Reads the proxy's state through getters (topology, monitor, pools,
 * stats, events); it includes client_int.h only to list and kill sessions.
 */
#include "admin.h"

#include "client_int.h"
#include "events.h"
#include "maint.h"
#include "msg.h"
#include "monitor.h"
#include "stats.h"
#include "topology.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A console result may be large (SHOW CLIENTS with many clients), but not unbounded. */
#define ADMIN_RESULT_MAX (64 * 1024 * 1024)
#define ADMIN_TICK 0.02

typedef enum AdminWait { AW_NONE, AW_PAUSE, AW_PROMOTE } AdminWait;

static AdminHooks hooks;

void admin_set_hooks(const AdminHooks *h)
{
	hooks = *h;
}

/* ---- result sets ------------------------------------------------------------------ */

enum { T_TEXT = 25, T_INT8 = 20, T_FLOAT8 = 701 };

typedef struct Tab {
	PgWriter *w;
	unsigned ncols;
} Tab;

/* cols: "name,port#,avg_ms%": '#' marks an int8 column, '%' a float8 one, else text. */
static void tab_begin(Tab *t, PgWriter *w, const char *cols)
{
	char name[64];
	const char *p = cols;

	t->w = w;
	t->ncols = 1;
	for (const char *c = cols; *c; c++)
		t->ncols += *c == ',';
	pgw_begin(w, PQ_ROW_DESCRIPTION);
	pgw_u16(w, (uint16_t)t->ncols);
	for (unsigned i = 0; i < t->ncols; i++) {
		size_t n = strcspn(p, ",");
		uint32_t type = T_TEXT;
		int16_t len = -1;
		if (n > 0 && (p[n - 1] == '#' || p[n - 1] == '%')) {
			type = p[n - 1] == '#' ? T_INT8 : T_FLOAT8;
			len = 8;
			n--;
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		pgw_cstr(w, name);
		pgw_u32(w, 0); /* table */
		pgw_u16(w, 0); /* column */
		pgw_u32(w, type);
		pgw_u16(w, (uint16_t)len);
		pgw_u32(w, UINT32_MAX); /* typmod -1 */
		pgw_u16(w, 0);		/* text format */
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	pgw_end(w);
}

static void tab_row(Tab *t)
{
	pgw_begin(t->w, PQ_DATA_ROW);
	pgw_u16(t->w, (uint16_t)t->ncols);
}

static void tab_str(Tab *t, const char *s)
{
	if (!s) {
		pgw_u32(t->w, UINT32_MAX); /* NULL */
		return;
	}
	pgw_u32(t->w, (uint32_t)strlen(s));
	pgw_bytes(t->w, s, strlen(s));
}

static void tab_int(Tab *t, int64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	tab_str(t, b);
}

static void tab_num(Tab *t, double v)
{
	char b[64];
	snprintf(b, sizeof(b), "%.3f", v);
	tab_str(t, b);
}

static void tab_end_row(Tab *t)
{
	pgw_end(t->w);
}

/* Ends a result set: CommandComplete "SHOW", as PgBouncer's console (and SHOW) say. */
static void tab_done(Tab *t)
{
	pgw_command_complete(t->w, "SHOW");
}

/* An ErrorResponse with a hint (pgw_error has none). */
static void admin_error(PgWriter *w, const char *sqlstate, const char *hint, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
static void admin_error(PgWriter *w, const char *sqlstate, const char *hint, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pgw_begin(w, PQ_ERROR);
	pgw_u8(w, 'S');
	pgw_cstr(w, "ERROR");
	pgw_u8(w, 'V');
	pgw_cstr(w, "ERROR");
	pgw_u8(w, 'C');
	pgw_cstr(w, sqlstate);
	pgw_u8(w, 'M');
	pgw_cstr(w, msg);
	if (hint) {
		pgw_u8(w, 'H');
		pgw_cstr(w, hint);
	}
	pgw_u8(w, 0);
	pgw_end(w);
}

static void admin_notice(PgWriter *w, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void admin_notice(PgWriter *w, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pgw_notice(w, "NOTICE", "00000", "%s", msg);
}

/* ---- the tokenizer ----------------------------------------------------------------- */

typedef struct Tok {
	const char *p, *end;
} Tok;

static void tok_skip(Tok *t)
{
	while (t->p < t->end && isspace((unsigned char)*t->p))
		t->p++;
}

/* The next word (letters, digits, '_', '.', '-') or quoted identifier into out; false if none. */
static bool tok_word(Tok *t, char *out, size_t cap)
{
	size_t n = 0;

	tok_skip(t);
	if (t->p < t->end && *t->p == '"') {
		t->p++;
		while (t->p < t->end && *t->p != '"') {
			if (n + 1 < cap)
				out[n++] = *t->p;
			t->p++;
		}
		if (t->p < t->end)
			t->p++;
		out[n] = '\0';
		return true;
	}
	while (t->p < t->end &&
	       (isalnum((unsigned char)*t->p) || *t->p == '_' || *t->p == '.' || *t->p == '-')) {
		if (n + 1 < cap)
			out[n++] = *t->p;
		t->p++;
	}
	out[n] = '\0';
	return n > 0;
}

static bool tok_end(Tok *t)
{
	tok_skip(t);
	return t->p >= t->end;
}

/* ---- SHOW handlers ---------------------------------------------------------------- */

typedef struct Cmd Cmd;
typedef void (*CmdFn)(Client *cl, PgWriter *w, Tok *args);

static void pools_of(const Node *n, int64_t *active, int64_t *idle)
{
	*active = *idle = 0;
	for (Pool *p = pool_first(); p; p = pool_next(p)) {
		if (p->pgnode != n)
			continue;
		*active += (int64_t)p->busy.count;
		*idle += (int64_t)p->idle.count;
	}
}

static void show_nodes(Client *cl, PgWriter *w, Tok *args)
{
	usec_t now = client_now();
	Tab t;

	(void)cl;
	(void)args;
	tab_begin(&t, w,
		  "name,host,port#,role,state,why,lag_bytes#,lag_ms#,replay_lsn,timeline#,"
		  "checked_ms_ago#,sv_active#,sv_idle#,reads#,writes#,errors#");
	for (size_t i = 0; i < topology_count(); i++) {
		const Node *n = topology_node(i);
		const NodeHealth *h = monitor_health(i);
		const NodeStats *st = i < STATS_MAX_NODES ? &stats_node[i] : NULL;
		bool master = n == topology_master();
		char lsn[LSN_TEXT_MAX];
		int64_t active, idle;
		const char *why = "not monitored (no monitor_user)";

		if (h)
			why = monitor_state(i, now) == h->state ? h->why : "not measured recently";
		if (n->fenced)
			why = "fenced: a failover or switchover replaced it; pgrelay sends it "
			      "nothing";
		else if (n->detached)
			why = "detached by an administrator";
		else if (n->removed)
			why = "no longer in the configuration file (reload): sent nothing";
		pools_of(n, &active, &idle);
		tab_row(&t);
		tab_str(&t, n->name);
		tab_str(&t, n->host);
		tab_int(&t, n->port);
		tab_str(&t, master ? "master" : "replica");
		tab_str(&t, monitor_node_state_text(n, now));
		tab_str(&t, why);
		if (h && !master && h->last.at) {
			tab_int(&t, (int64_t)h->lag.bytes);
			tab_int(&t, h->lag.time / 1000);
		} else {
			tab_str(&t, master && h ? "0" : NULL);
			tab_str(&t, master && h ? "0" : NULL);
		}
		if (h && h->last.at)
			tab_str(&t, lsn_format(master ? h->last.wal_lsn : h->last.replay_lsn, lsn));
		else
			tab_str(&t, NULL);
		if (h && h->last.timeline)
			tab_int(&t, h->last.timeline);
		else
			tab_str(&t, NULL);
		if (h && h->last.at)
			tab_int(&t, (now - h->last.at) / 1000);
		else
			tab_str(&t, NULL);
		tab_int(&t, active);
		tab_int(&t, idle);
		tab_int(&t, st ? (int64_t)st->reads : 0);
		tab_int(&t, st ? (int64_t)st->writes : 0);
		tab_int(&t, st ? (int64_t)st->errors : 0);
		tab_end_row(&t);
	}
	tab_done(&t);
}

static void show_pools(Client *cl, PgWriter *w, Tok *args)
{
	Tab t;

	(void)cl;
	(void)args;
	tab_begin(&t, w, "node,database,user,pool_size#,sv_active#,sv_idle#,cl_waiting#,opened#");
	for (Pool *p = pool_first(); p; p = pool_next(p)) {
		tab_row(&t);
		tab_str(&t, p->pgnode->name);
		tab_str(&t, p->database);
		tab_str(&t, p->user);
		tab_int(&t, p->size);
		tab_int(&t, (int64_t)p->busy.count);
		tab_int(&t, (int64_t)p->idle.count);
		tab_int(&t, (int64_t)p->waiting.count);
		tab_int(&t, (int64_t)p->total_opened);
		tab_end_row(&t);
	}
	tab_done(&t);
}

static const char *client_state_text(const Client *cl)
{
	switch (cl->state) {
	case CL_STARTUP:
	case CL_AUTH:
		return "login";
	case CL_WAITING:
		return "waiting";
	case CL_ADMIN:
		return "console";
	case CL_ACTIVE:
		if (list_linked(&cl->wait_node))
			return client_paused ? "paused" : "held";
		if (cl->in_txn)
			return cl->qlen ? "active" : "idle in transaction";
		return cl->qlen ? "active" : "idle";
	case CL__COUNT:
		break;
	}
	return "?";
}

typedef struct ClientsArg {
	Tab *t;
	usec_t now;
} ClientsArg;

static void client_row(Client *cl, void *arg)
{
	ClientsArg *a = arg;
	Tab *t = a->t;
	const Server *m = cl->bk[DEST_MASTER].sv, *r = cl->bk[DEST_REPLICA].sv;
	char lsn[LSN_TEXT_MAX];

	tab_row(t);
	tab_int(t, (int64_t)cl->id);
	tab_str(t, cl->conn.peer);
	tab_str(t, cl->user);
	tab_str(t, cl->database);
	tab_str(t, client_state_text(cl));
	tab_str(t, cl->state == CL_ACTIVE && cl->in_txn ? router_dest_name(cl->txn_dest) : NULL);
	tab_str(t, m ? m->node->name : NULL);
	tab_str(t, r ? r->node->name : NULL);
	tab_str(t, cl->pin_reason);
	tab_str(t, cl->ryw_lsn ? lsn_format(cl->ryw_lsn, lsn) : NULL);
	tab_int(t, (int64_t)cl->units_routed);
	tab_int(t, (a->now - cl->conn.created_at) / USEC_PER_SEC);
	tab_end_row(t);
}

static void show_clients(Client *cl, PgWriter *w, Tok *args)
{
	Tab t;
	ClientsArg a = {&t, client_now()};

	(void)cl;
	(void)args;
	tab_begin(&t, w,
		  "id#,addr,user,database,state,txn_node,master_node,replica_node,pinned,"
		  "ryw_lsn,units#,connected_s#");
	client_each_all(client_row, &a);
	tab_done(&t);
}

static void server_rows(Tab *t, ListHead *list, usec_t now)
{
	List *it, *tmp;

	list_for_each_safe(it, tmp, list)
	{
		const Server *sv = container_of(it, Server, pool_node);
		const Client *owner = NULL;
		if (sv->link) {
			const Backend *b = container_of(sv->link, const Backend, link);
			owner = b->cl;
		}
		tab_row(t);
		tab_str(t, sv->node->name);
		tab_str(t, sv->pool->database);
		tab_str(t, sv->pool->user);
		tab_str(t, server_state_name[sv->state]);
		if (sv->backend_pid)
			tab_int(t, sv->backend_pid);
		else
			tab_str(t, NULL);
		if (owner)
			tab_int(t, (int64_t)owner->id);
		else
			tab_str(t, NULL);
		tab_str(t, sv->txn_status ? (char[2]){sv->txn_status, 0} : NULL);
		tab_int(t, (now - sv->conn.created_at) / USEC_PER_SEC);
		tab_end_row(t);
	}
}

static void show_servers(Client *cl, PgWriter *w, Tok *args)
{
	usec_t now = client_now();
	Tab t;

	(void)cl;
	(void)args;
	tab_begin(&t, w, "node,database,user,state,backend_pid#,client_id#,txn_status,age_s#");
	for (Pool *p = pool_first(); p; p = pool_next(p)) {
		server_rows(&t, &p->busy, now);
		server_rows(&t, &p->idle, now);
	}
	tab_done(&t);
}

static void stats_row(Tab *t, const char *name, const NodeStats *s)
{
	tab_row(t);
	tab_str(t, name);
	tab_int(t, (int64_t)s->units);
	tab_int(t, (int64_t)s->reads);
	tab_int(t, (int64_t)s->writes);
	tab_int(t, (int64_t)s->errors);
	tab_int(t, (int64_t)s->bytes_to_server);
	tab_int(t, (int64_t)s->bytes_to_client);
	tab_num(t, s->lat_count ? (double)s->lat_sum_us / (double)s->lat_count / 1000.0 : 0);
	tab_num(t, stats_quantile(s, 0.5) / 1000.0);
	tab_num(t, stats_quantile(s, 0.99) / 1000.0);
	tab_end_row(t);
}

static void show_stats(Client *cl, PgWriter *w, Tok *args)
{
	NodeStats total;
	Tab t;

	(void)cl;
	(void)args;
	memset(&total, 0, sizeof(total));
	tab_begin(&t, w,
		  "node,statements#,reads#,writes#,errors#,bytes_to_server#,bytes_to_client#,"
		  "avg_ms%,p50_ms%,p99_ms%");
	for (size_t i = 0; i < topology_count() && i < STATS_MAX_NODES; i++) {
		stats_row(&t, topology_node(i)->name, &stats_node[i]);
		stats_add(&total, &stats_node[i]);
	}
	stats_row(&t, "total", &total);
	tab_done(&t);
}

static bool secret_key(const char *name)
{
	return strstr(name, "password") != NULL;
}

static void config_row(Tab *t, const char *key, const char *value, const char *def,
		       const char *reload)
{
	tab_row(t);
	tab_str(t, key);
	tab_str(t, value);
	tab_str(t, def);
	tab_str(t, reload);
	tab_end_row(t);
}

static void show_config(Client *cl, PgWriter *w, Tok *args)
{
	const char *section, *name;
	char value[4200], def[4200];
	Tab t;

	(void)args;
	tab_begin(&t, w, "key,value,default,reload");
	for (size_t i = 0; config_key_at(client_cfg, i, &section, &name, value, sizeof(value));
	     i++) {
		if (!config_key_at(NULL, i, NULL, NULL, def, sizeof(def)))
			break;
		if (secret_key(name) && value[0])
			snprintf(value, sizeof(value), "********");
		(void)section;
		config_row(&t, name, value, def, config_key_reloadable(i) ? "yes" : "restart");
	}
	/* the [node.NAME] sections as pgrelay runs them */
	for (size_t i = 0; i < topology_count(); i++) {
		const Node *n = topology_node(i);
		char key[PG_NAME_MAX + 32];
		if (n->removed)
			continue;
		snprintf(key, sizeof(key), "node.%s.host", n->name);
		config_row(&t, key, n->host, "", "restart");
		snprintf(key, sizeof(key), "node.%s.port", n->name);
		snprintf(value, sizeof(value), "%d", n->port);
		config_row(&t, key, value, "", "restart");
		snprintf(key, sizeof(key), "node.%s.weight", n->name);
		snprintf(value, sizeof(value), "%d", topology_weight(n));
		config_row(&t, key, value, "1 (replica), 0 (master)", "yes");
		snprintf(key, sizeof(key), "node.%s.priority", n->name);
		snprintf(value, sizeof(value), "%d", n->priority);
		config_row(&t, key, value, "100", "yes");
		snprintf(key, sizeof(key), "node.%s.promote", n->name);
		config_row(&t, key, n->never_promote ? "never" : "auto", "auto", "yes");
		snprintf(key, sizeof(key), "node.%s.replication_slot", n->name);
		config_row(&t, key, n->replication_slot, "", "yes");
	}
	/* [databases] */
	for (size_t i = 0; i < client_cfg->ndatabases; i++) {
		const CfgDatabase *d = &client_cfg->databases[i];
		char key[PG_NAME_MAX + 32];
		snprintf(key, sizeof(key), "databases.%s", d->name);
		snprintf(value, sizeof(value), "dbname=%s user=%s password=%s pool_size=%d%s%s",
			 d->dbname, d->user, d->password[0] ? "********" : "", d->pool_size,
			 d->read_your_writes >= 0 ? " read_your_writes=" : "",
			 d->read_your_writes >= 0 ? ryw_mode_name((RywMode)d->read_your_writes)
						  : "");
		config_row(&t, key, value, "", "yes");
	}
	(void)cl;
	tab_done(&t);
}

static void show_events(Client *cl, PgWriter *w, Tok *args)
{
	Tab t;

	(void)cl;
	(void)args;
	tab_begin(&t, w, "seq#,time,level,tag,node,message");
	for (size_t i = 0; i < event_count(); i++) {
		const Event *e = event_at(i);
		char when[64];
		time_t sec = (time_t)(e->at_us / USEC_PER_SEC);
		struct tm tm;
		size_t n;

		gmtime_r(&sec, &tm);
		n = strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(when + n, sizeof(when) - n, ".%03d UTC",
			 (int)((e->at_us % USEC_PER_SEC) / 1000));
		tab_row(&t);
		tab_int(&t, (int64_t)e->seq);
		tab_str(&t, when);
		tab_str(&t, log_level_name(e->level));
		tab_str(&t, e->tag);
		tab_str(&t, e->node[0] ? e->node : NULL);
		tab_str(&t, e->text);
		tab_end_row(&t);
	}
	tab_done(&t);
}

static void show_version(Client *cl, PgWriter *w, Tok *args)
{
	Tab t;

	(void)cl;
	(void)args;
	tab_begin(&t, w, "version");
	tab_row(&t);
	tab_str(&t, "pgrelay " PGRELAY_VERSION);
	tab_end_row(&t);
	tab_done(&t);
}

static void show_state(Client *cl, PgWriter *w, Tok *args)
{
	const Node *m = topology_master();
	Tab t;

	(void)cl;
	(void)args;
	tab_begin(&t, w,
		  "master,failover,failover_state,failovers#,switchovers#,paused,clients#,"
		  "shutting_down");
	tab_row(&t);
	tab_str(&t, m ? m->name : NULL);
	tab_str(&t, client_cfg->failover ? "on" : "off");
	tab_str(&t, monitor_failover_state());
	tab_int(&t, (int64_t)monitor_failovers());
	tab_int(&t, (int64_t)monitor_switchovers());
	tab_str(&t, client_paused ? "yes" : "no");
	tab_int(&t, (int64_t)client_count());
	tab_str(&t, maint_shutting_down() ? "yes" : "no");
	tab_end_row(&t);
	tab_done(&t);
}

static void show_help(Client *cl, PgWriter *w, Tok *args);

/* ---- EXPLAIN ROUTE ---------------------------------------------------------------- */

static void flag_names(uint32_t f, char *out, size_t cap)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
	    {SF_READ_ONLY, "read_only"},
	    {SF_READ_WRITE, "read_write"},
	    {SF_SERIALIZABLE, "serializable"},
	    {SF_HINT_MASTER, "hint_primary"},
	    {SF_HINT_REPLICA, "hint_replica"},
	    {SF_MULTI, "multi"},
	    {SF_SET_LOCAL, "set_local"},
	    {SF_TRUNCATED, "truncated"},
	    {SF_CHAIN, "chain"},
	    {SF_ROLLBACK, "rollback"},
	    {SF_REPEATABLE_READ, "repeatable_read"},
	    {SF_DEFERRABLE, "deferrable"},
	    {SF_SESSION_CHARS, "session_chars"},
	    {SF_HAS_PIN, "has_pin"},
	    {SF_HAS_SESSION, "has_session"},
	    {SF_MASTER_STATS, "master_stats"},
	};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if ((f & names[i].bit) && len + strlen(names[i].name) + 2 < cap)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "",
						names[i].name);
}

static bool any_fresh_replica(void)
{
	usec_t now = client_now();

	for (size_t i = 0; i < topology_count(); i++) {
		const Node *n = topology_node(i);
		if (n != topology_master() && monitor_replica_fresh(n, now))
			return true;
	}
	return false;
}

static void explain_route(Client *cl, PgWriter *w, Tok *args)
{
	const char *sql = args->p;
	size_t len = (size_t)(args->end - args->p);
	ClassifyOptions opt = {0};
	UnitSummary sum;
	StmtInfo si;
	RouteDecision d;
	bool usable = any_fresh_replica();
	char flags[256], detail[256] = "";
	Tab t;

	while (len > 0 && (isspace((unsigned char)sql[len - 1]) || sql[len - 1] == ';'))
		len--;
	while (len > 0 && isspace((unsigned char)*sql)) {
		sql++;
		len--;
	}
	if (len == 0) {
		admin_error(w, "42601", "EXPLAIN ROUTE SELECT 1",
			    "EXPLAIN ROUTE needs a statement");
		return;
	}
	client_class_opts(cl, &opt);
	classify_sql(sql, len, &opt, &si);
	router_summary_init(&sum);
	router_fold(&sum, si.cls, si.reason, si.flags);
	d = router_decide(&(RouteInput){
	    .unit = &sum, .replica_usable = usable, .routing_enabled = client_cfg->route_reads});
	flag_names(si.flags, flags, sizeof(flags));
	if (si.func_len)
		snprintf(detail, sizeof(detail), "%.*s", (int)si.func_len, sql + si.func_off);
	tab_begin(&t, w, "field,value");
#define ROW(k, v)                                                                                  \
	do {                                                                                       \
		tab_row(&t);                                                                       \
		tab_str(&t, k);                                                                    \
		tab_str(&t, v);                                                                    \
		tab_end_row(&t);                                                                   \
	} while (0)
	ROW("statement_class", classify_class_name(si.cls));
	ROW("classifier_reason", classify_reason_name(si.reason));
	ROW("flags", flags[0] ? flags : NULL);
	ROW("object", detail[0] ? detail : NULL);
	{
		char n[16];
		snprintf(n, sizeof(n), "%u", si.nstmts);
		ROW("statements", n);
	}
	ROW("route", router_dest_name(d.dest));
	ROW("route_reason", router_reason_name(d.reason));
	ROW("note", usable ? "a new session outside a transaction, as things are now"
			   : "no replica is fresh now: reads would go to the master");
#undef ROW
	tab_done(&t);
}

/* ---- commands ------------------------------------------------------------------- */

static const Node *node_arg(PgWriter *w, Tok *args, const char *cmd)
{
	char name[PG_NAME_MAX];
	char hint[128];

	snprintf(hint, sizeof(hint), "%s <node name>, as in SHOW NODES", cmd);
	if (!tok_word(args, name, sizeof(name)) || !tok_end(args)) {
		admin_error(w, "42601", hint, "%s takes one node name", cmd);
		return NULL;
	}
	for (size_t i = 0; i < topology_count(); i++)
		if (strcmp(topology_node(i)->name, name) == 0)
			return topology_node(i);
	admin_error(w, "42704", hint, "no node named \"%s\"", name);
	return NULL;
}

static bool no_args(PgWriter *w, Tok *args, const char *cmd)
{
	if (tok_end(args))
		return true;
	admin_error(w, "42601", "see SHOW HELP", "%s takes no arguments", cmd);
	return false;
}

static void cmd_detach(Client *cl, PgWriter *w, Tok *args, bool detach)
{
	const char *cmd = detach ? "DETACH" : "ATTACH";
	const Node *n = node_arg(w, args, cmd);
	char err[256];

	(void)cl;
	if (!n)
		return;
	if (!monitor_detach(n, detach, err, sizeof(err))) {
		admin_error(w, "55000", NULL, "%s", err);
		return;
	}
	if (detach) {
		pool_close_node_idle(n, "detached by an administrator");
		admin_notice(w,
			     "%s is out of rotation: sessions leave it at their next statement "
			     "outside a transaction",
			     n->name);
	}
	pgw_command_complete(w, cmd);
}

static void cmd_detach_on(Client *cl, PgWriter *w, Tok *args)
{
	cmd_detach(cl, w, args, true);
}

static void cmd_attach(Client *cl, PgWriter *w, Tok *args)
{
	cmd_detach(cl, w, args, false);
}

static void cmd_unfence(Client *cl, PgWriter *w, Tok *args)
{
	const Node *n = node_arg(w, args, "UNFENCE");
	char err[512];

	(void)cl;
	if (!n)
		return;
	if (!monitor_unfence(n, err, sizeof(err))) {
		admin_error(w, "55000", "rejoin it as a replica first: deploy/rejoin.sh", "%s",
			    err);
		return;
	}
	pgw_command_complete(w, "UNFENCE");
}

static void cmd_kill(Client *cl, PgWriter *w, Tok *args)
{
	char word[32], *end;
	unsigned long long id;
	Client *victim;

	if (!tok_word(args, word, sizeof(word)) || !tok_end(args) ||
	    (id = strtoull(word, &end, 10), *end != '\0')) {
		admin_error(w, "42601", "KILL <client id>, as in SHOW CLIENTS",
			    "KILL takes one client id");
		return;
	}
	victim = client_find(id);
	if (!victim) {
		admin_error(w, "42704", "see SHOW CLIENTS", "no client with id %llu", id);
		return;
	}
	clog_info(victim, "killed by an administrator (C-%llu)", (unsigned long long)cl->id);
	if (victim != cl)
		client_fatal(victim, "57P01",
			     "terminating connection due to administrator command");
	pgw_command_complete(w, "KILL");
}

static void admin_wait_start(Client *cl, AdminWait what, usec_t budget);

static void cmd_pause(Client *cl, PgWriter *w, Tok *args)
{
	if (!no_args(w, args, "PAUSE"))
		return;
	if (!client_paused)
		log_warning("PAUSE by C-%llu: no new transaction starts until RESUME",
			    (unsigned long long)cl->id);
	client_set_paused(true);
	admin_wait_start(cl, AW_PAUSE, 60 * USEC_PER_SEC);
}

static void cmd_resume(Client *cl, PgWriter *w, Tok *args)
{
	if (!no_args(w, args, "RESUME"))
		return;
	if (!client_paused) {
		admin_error(w, "55000", NULL, "pgrelay is not paused");
		return;
	}
	log_warning("RESUME by C-%llu", (unsigned long long)cl->id);
	client_set_paused(false);
	pgw_command_complete(w, "RESUME");
}

static void cmd_promote(Client *cl, PgWriter *w, Tok *args)
{
	const Node *n = node_arg(w, args, "PROMOTE");
	char err[256];

	if (!n)
		return;
	if (!monitor_switchover(n, err, sizeof(err))) {
		admin_error(w, "55000", "SHOW NODES shows what pgrelay sees of each node",
			    "cannot switch over to %s: %s", n->name, err);
		return;
	}
	log_warning("PROMOTE %s by C-%llu: planned switchover", n->name,
		    (unsigned long long)cl->id);
	/* each of its steps is bounded by failover_timeout */
	admin_wait_start(cl, AW_PROMOTE, 8 * client_cfg->failover_timeout + 10 * USEC_PER_SEC);
}

static void cmd_reload(Client *cl, PgWriter *w, Tok *args)
{
	char msg[2048];

	(void)cl;
	if (!no_args(w, args, "RELOAD"))
		return;
	if (!hooks.reload) {
		admin_error(w, "0A000", NULL, "reloading is not available");
		return;
	}
	if (!hooks.reload(msg, sizeof(msg))) {
		admin_error(w, "F0000", "the old configuration stays in effect", "%s", msg);
		return;
	}
	if (msg[0])
		admin_notice(w, "%s", msg);
	pgw_command_complete(w, "RELOAD");
}

static void cmd_set(Client *cl, PgWriter *w, Tok *args)
{
	char key[64], msg[2048], value[1024];
	const char *v, *e;
	size_t n;

	(void)cl;
	if (!tok_word(args, key, sizeof(key))) {
		admin_error(w, "42601", "SET key = value (SHOW CONFIG lists the keys)",
			    "SET needs a key");
		return;
	}
	tok_skip(args);
	if (args->p < args->end && *args->p == '=')
		args->p++;
	else if (args->end - args->p > 2 && strncasecmp(args->p, "to", 2) == 0 &&
		 isspace((unsigned char)args->p[2]))
		args->p += 2;
	else {
		admin_error(w, "42601", "SET key = value", "SET %s: expected = after the key", key);
		return;
	}
	tok_skip(args);
	v = args->p;
	e = args->end;
	while (e > v && (isspace((unsigned char)e[-1]) || e[-1] == ';'))
		e--;
	if (e - v >= 2 && *v == '\'' && e[-1] == '\'') {
		v++;
		e--;
	}
	n = (size_t)(e - v);
	if (n >= sizeof(value)) {
		admin_error(w, "22001", NULL, "SET %s: value too long", key);
		return;
	}
	memcpy(value, v, n);
	value[n] = '\0';
	if (!hooks.set) {
		admin_error(w, "0A000", NULL, "SET is not available");
		return;
	}
	if (!hooks.set(key, value, msg, sizeof(msg))) {
		admin_error(w, "22023",
			    "SHOW CONFIG lists the keys and whether reload can change them", "%s",
			    msg);
		return;
	}
	if (msg[0])
		admin_notice(w, "%s", msg);
	pgw_command_complete(w, "SET");
}

static ev_timer shutdown_timer;

static void on_shutdown_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	maint_begin_shutdown();
}

static void cmd_shutdown(Client *cl, PgWriter *w, Tok *args)
{
	if (!no_args(w, args, "SHUTDOWN"))
		return;
	log_warning("SHUTDOWN by C-%llu", (unsigned long long)cl->id);
	pgw_command_complete(w, "SHUTDOWN");
	/* on the next loop turn, once this answer has been sent */
	ev_timer_init(&shutdown_timer, on_shutdown_timer, 0., 0.);
	ev_timer_start(client_loop, &shutdown_timer);
}

/* ---- the command table ------------------------------------------------------------ */

struct Cmd {
	const char *word1, *word2; /* word2 NULL: a one-word command */
	CmdFn fn;
	bool admin_only; /* stats users may not run it */
	const char *help;
};

static const Cmd cmds[] = {
    {"SHOW", "HELP", show_help, false, "this list"},
    {"SHOW", "NODES", show_nodes, false,
     "every node: role, state and why, lag, replay LSN, timeline, connections, traffic"},
    {"SHOW", "POOLS", show_pools, false, "server connection pools per node, database and user"},
    {"SHOW", "CLIENTS", show_clients, false,
     "client sessions: state, nodes, pinned reason, read-your-writes LSN, statements"},
    {"SHOW", "SERVERS", show_servers, false, "server connections and who holds them"},
    {"SHOW", "STATS", show_stats, false,
     "per node and in total: statements, reads, writes, errors, bytes, latency"},
    {"SHOW", "CONFIG", show_config, false, "every key: value, default, whether reload changes it"},
    {"SHOW", "EVENTS", show_events, false, "recent failover, fencing, lag and state events"},
    {"SHOW", "STATE", show_state, false, "master, failover state and counts, paused"},
    {"SHOW", "VERSION", show_version, false, "pgrelay's version"},
    {"EXPLAIN", "ROUTE", explain_route, false,
     "EXPLAIN ROUTE <statement>: where it would go and why"},
    {"PAUSE", NULL, cmd_pause, true, "hold new transactions; returns once running ones ended"},
    {"RESUME", NULL, cmd_resume, true, "let held transactions go on"},
    {"PROMOTE", NULL, cmd_promote, true,
     "PROMOTE <node>: planned switchover to that replica, without data loss"},
    {"DETACH", NULL, cmd_detach_on, true, "DETACH <node>: take a replica out of rotation"},
    {"ATTACH", NULL, cmd_attach, true, "ATTACH <node>: put a detached replica back"},
    {"UNFENCE", NULL, cmd_unfence, true,
     "UNFENCE <node>: a rejoined old master (streaming again) may serve reads"},
    {"KILL", NULL, cmd_kill, true, "KILL <client id>: close that client session (57P01)"},
    {"RELOAD", NULL, cmd_reload, true, "re-read proxy.ini; applied only when all of it is valid"},
    {"SET", NULL, cmd_set, true, "SET <key> = <value>: change a reloadable key"},
    {"SHUTDOWN", NULL, cmd_shutdown, true,
     "stop accepting, let transactions finish (shutdown_timeout), exit"},
};

static void show_help(Client *cl, PgWriter *w, Tok *args)
{
	Tab t;
	char name[64];

	(void)args;
	tab_begin(&t, w, "command,description");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (cmds[i].admin_only && !cl->admin_full)
			continue;
		snprintf(name, sizeof(name), "%s%s%s", cmds[i].word1, cmds[i].word2 ? " " : "",
			 cmds[i].word2 ? cmds[i].word2 : "");
		tab_row(&t);
		tab_str(&t, name);
		tab_str(&t, cmds[i].help);
		tab_end_row(&t);
	}
	tab_done(&t);
}

/* Runs one statement of the console; false when it finishes later (admin_wait). */
static bool admin_exec(Client *cl, PgWriter *w, const char *sql, size_t len)
{
	Tok t = {sql, sql + len};
	char w1[32], w2[32];
	const char *after1;

	if (!tok_word(&t, w1, sizeof(w1))) {
		if (tok_end(&t)) {
			pgw_begin(w, PQ_EMPTY_QUERY);
			pgw_end(w);
		} else {
			admin_error(w, "42601", "SHOW HELP lists the commands",
				    "syntax error at or near \"%.20s\"", t.p);
		}
		return true;
	}
	after1 = t.p;
	if (!tok_word(&t, w2, sizeof(w2)))
		w2[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const Cmd *c = &cmds[i];
		if (strcasecmp(c->word1, w1) != 0)
			continue;
		if (c->word2 && strcasecmp(c->word2, w2) != 0)
			continue;
		if (!c->word2)
			t.p = after1;
		if (c->admin_only && !cl->admin_full) {
			admin_error(w, "42501", "admin_users in proxy.ini may run it",
				    "permission denied: %s needs an admin user", c->word1);
			return true;
		}
		if (c->fn == explain_route || c->fn == cmd_set) {
			c->fn(cl, w, &t);
			return cl->admin_wait == AW_NONE;
		}
		if (c->word2) {
			char full[80];
			snprintf(full, sizeof(full), "%s %s", c->word1, c->word2);
			if (!no_args(w, &t, full))
				return true;
		}
		c->fn(cl, w, &t);
		return cl->admin_wait == AW_NONE;
	}
	if (strcasecmp(w1, "SHOW") == 0)
		admin_error(w, "42704", "SHOW HELP lists what can be shown",
			    "unknown SHOW item \"%s\"", w2);
	else
		admin_error(w, "42601", "SHOW HELP lists the commands", "unknown command \"%s\"",
			    w1);
	return true;
}

/* ---- sessions ---------------------------------------------------------------------- */

static bool admin_flush(Client *cl, PgWriter *w)
{
	bool ok = !w->failed;

	if (ok)
		ok = client_send(cl, w);
	else
		client_fatal(cl, "54000", "the console's answer is too large");
	pgw_free(w);
	return ok;
}

/*
 * Splits a simple Query into statements at ';' outside quotes and runs
 * them in turn; stops at the first error (as a server does) or at a command
 * that finishes later. Returns the offset where running stopped.
 */
static size_t admin_run(Client *cl, PgWriter *w, const char *sql, size_t len)
{
	size_t i = 0, ran = 0;

	while (i < len) {
		size_t start = i;
		char q = 0;
		bool explain;
		size_t mark = w->len;

		/* EXPLAIN ROUTE takes the rest of the text, semicolons and all */
		{
			Tok t = {sql + i, sql + len};
			char a[16], b[16];
			explain = tok_word(&t, a, sizeof(a)) && strcasecmp(a, "EXPLAIN") == 0 &&
				  tok_word(&t, b, sizeof(b)) && strcasecmp(b, "ROUTE") == 0;
		}
		for (; i < len; i++) {
			char c = sql[i];
			if (q) {
				if (c == q)
					q = 0;
			} else if (c == '\'' || c == '"') {
				q = c;
			} else if (c == ';' && !explain) {
				break;
			}
		}
		if (!tok_end(&(Tok){sql + start, sql + i})) {
			bool done = admin_exec(cl, w, sql + start, i - start);
			ran++;
			if (w->len > mark && w->data[mark] == PQ_ERROR)
				return len; /* the rest does not run, as on a server */
			if (!done)
				return i < len ? i + 1 : len;
		}
		if (i < len)
			i++;
	}
	if (ran == 0) {
		/* nothing but blanks and semicolons */
		pgw_begin(w, PQ_EMPTY_QUERY);
		pgw_end(w);
	}
	return len;
}

static void admin_ready(Client *cl, PgWriter *w)
{
	(void)cl;
	pgw_ready(w, 'I');
}

static void on_admin_timer(struct ev_loop *loop, ev_timer *t, int revents);

/* The query of a command that finishes later, kept until it has: the rest of it runs then. */
static void admin_wait_start(Client *cl, AdminWait what, usec_t budget)
{
	cl->admin_wait = (uint8_t)what;
	cl->admin_deadline = client_now() + budget;
	ev_timer_set(&cl->admin_timer, ADMIN_TICK, ADMIN_TICK);
	ev_timer_start(client_loop, &cl->admin_timer);
}

static void admin_process(Client *cl);

/* Runs sql (a whole Query, or what followed a waiting command) and ends with ReadyForQuery
 * unless a command waits; then the rest is kept in admin_rest. */
static void admin_query(Client *cl, PgWriter *w, const char *sql, size_t len)
{
	size_t stop = admin_run(cl, w, sql, len);

	if (cl->admin_wait != AW_NONE) {
		cl->admin_rest = NULL;
		if (stop < len) {
			cl->admin_rest = xmalloc(len - stop + 1);
			memcpy(cl->admin_rest, sql + stop, len - stop);
			cl->admin_rest[len - stop] = '\0';
		}
		cl->admin_rest_len = stop < len ? len - stop : 0;
		return;
	}
	admin_ready(cl, w);
}

static void on_admin_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	Client *cl = container_of(t, Client, admin_timer);
	bool late = client_now() >= cl->admin_deadline;
	bool failed = false;
	PgWriter w;
	char why[300];
	char *rest;
	int r;

	(void)loop;
	(void)revents;
	pgw_init_dynamic(&w, 1024, ADMIN_RESULT_MAX);
	switch ((AdminWait)cl->admin_wait) {
	case AW_PAUSE: {
		size_t running = client_running();
		if (running && !late) {
			pgw_free(&w);
			return;
		}
		if (running)
			admin_notice(&w, "paused, but %zu session(s) still run a transaction",
				     running);
		pgw_command_complete(&w, "PAUSE");
		break;
	}
	case AW_PROMOTE:
		r = monitor_switchover_result(why, sizeof(why));
		if (r == 0 && !late) {
			pgw_free(&w);
			return;
		}
		if (r > 0) {
			admin_notice(&w, "%s", why);
			pgw_command_complete(&w, "PROMOTE");
		} else {
			failed = true;
			admin_error(&w, "55000", "SHOW EVENTS tells each step",
				    "switchover failed: %s",
				    r < 0 ? why : "it did not finish in time");
		}
		break;
	case AW_NONE:
		break;
	}
	ev_timer_stop(client_loop, &cl->admin_timer);
	cl->admin_wait = AW_NONE;
	rest = cl->admin_rest;
	cl->admin_rest = NULL;
	if (rest && !failed)
		admin_query(cl, &w, rest, cl->admin_rest_len);
	else
		admin_ready(cl, &w);
	free(rest);
	if (!admin_flush(cl, &w))
		return;
	admin_process(cl); /* the messages that came meanwhile */
}

/* Answers every complete message in the buffer (while no command waits). */
static void admin_process(Client *cl)
{
	Conn *c = &cl->conn;
	PgWriter w;

	pgw_init_dynamic(&w, 4096, ADMIN_RESULT_MAX);
	while (!c->closing && cl->admin_wait == AW_NONE) {
		uint8_t type;
		const uint8_t *body = NULL;
		size_t blen = 0;
		FrameResult fr = msg_next(c, client_cfg->max_message_size, &type, &body, &blen);

		if (fr == FRAME_NEED_MORE)
			break;
		if (fr == FRAME_BAD) {
			pgw_free(&w);
			client_fatal(cl, "08P01",
				     "invalid message or message too large for the console");
			return;
		}
		switch (type) {
		case PQ_TERMINATE:
			pgw_free(&w);
			client_close(cl, "client sent Terminate");
			return;
		case PQ_QUERY:
			if (blen == 0 || memchr(body, 0, blen) != body + blen - 1) {
				pgw_free(&w);
				client_fatal(cl, "08P01", "invalid Query message");
				return;
			}
			admin_query(cl, &w, (const char *)body, blen - 1);
			break;
		case PQ_SYNC:
			/* an extended-protocol batch ends: it was refused at its first message */
			cl->admin_ext_error = false;
			admin_ready(cl, &w);
			break;
		case PQ_PARSE:
		case PQ_BIND:
		case PQ_DESCRIBE:
		case PQ_EXECUTE:
		case PQ_CLOSE:
		case PQ_FLUSH:
			if (!cl->admin_ext_error)
				admin_error(
				    &w, "0A000", "use psql, or the simple query protocol",
				    "the admin console speaks only the simple query protocol");
			cl->admin_ext_error = true;
			break;
		default:
			admin_error(&w, "08P01", NULL,
				    "unexpected message type '%c' on the console",
				    type >= 32 && type < 127 ? type : '?');
			admin_ready(cl, &w);
			break;
		}
	}
	conn_compact(c);
	if (w.len)
		admin_flush(cl, &w);
	else
		pgw_free(&w);
}

void admin_read(Client *cl)
{
	if (cl->admin_wait == AW_NONE)
		admin_process(cl);
}

void admin_free(Client *cl)
{
	if (client_loop && cl->admin)
		ev_timer_stop(client_loop, &cl->admin_timer);
	free(cl->admin_rest);
	cl->admin_rest = NULL;
}

void admin_login(Client *cl)
{
	uint8_t buf[1024];
	PgWriter w;

	cl->admin_full = config_user_listed(client_cfg->admin_users, cl->user);
	if (!cl->admin_full && !config_user_listed(client_cfg->stats_users, cl->user)) {
		client_fatal(cl, "28000",
			     "user \"%s\" may not use the admin console (admin_users, stats_users)",
			     cl->user);
		return;
	}
	ev_timer_init(&cl->admin_timer, on_admin_timer, ADMIN_TICK, ADMIN_TICK);
	pgw_init_static(&w, buf, sizeof(buf));
	pgw_auth(&w, PQ_AUTH_OK, NULL, 0);
	pgw_param_status(&w, "server_version", "15.0 (pgrelay " PGRELAY_VERSION ")");
	pgw_param_status(&w, "server_encoding", "UTF8");
	pgw_param_status(&w, "client_encoding", "UTF8");
	pgw_param_status(&w, "DateStyle", "ISO, MDY");
	pgw_param_status(&w, "integer_datetimes", "on");
	pgw_param_status(&w, "standard_conforming_strings", "on");
	pgw_param_status(&w, "application_name", "pgrelay admin console");
	pgw_backend_key(&w, cl->cancel_pid, cl->cancel_key);
	pgw_ready(&w, 'I');
	client_set_state(cl, CL_ADMIN);
	clog_debug(cl, "admin console session (%s)", cl->admin_full ? "admin" : "stats only");
	if (client_send(cl, &w))
		admin_process(cl);
}
