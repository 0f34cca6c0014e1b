/*
 * funccache.c - pg_proc volatility for the classifier (funccache.h): a hash
 * table of (database, schema, name) -> may-write / read-only / no such
 * function (may write: any overload VOLATILE, or a built-in marked PARALLEL
 * UNSAFE such as nextval; user functions are parallel unsafe by default, so
 * for them only the volatility counts), filled by batched queries over one nonblocking libpq connection
 * per database to the master, authenticated as monitor_user.
 */
#include "funccache.h"

#include "log.h"
#include "pgconn.h"
#include "topology.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FC_BUCKETS 1024
#define FC_MAX_ENTRIES 100000
#define FC_BATCH 64
#define FC_NEGATIVE_TTL (5 * USEC_PER_SEC)
#define FC_RETRY (5 * USEC_PER_SEC)
#define FC_QUERY_TIMEOUT (5 * USEC_PER_SEC)

typedef struct FcEntry {
	struct FcEntry *next;
	struct FcDb *db;
	char schema[PG_NAME_MAX]; /* "" = unqualified */
	char name[PG_NAME_MAX];
	FuncKind kind;
	bool rel;     /* a relation (is it a sequence?), not a function */
	bool pending; /* asked, no answer yet */
	bool refresh; /* pending because it expired: its old kind still answers */
	bool requery; /* DDL ran while it was asked: the answer on its way may be old */
	bool queued;  /* waiting for the next query */
	bool in_query;
	usec_t expires;
} FcEntry;

typedef struct FcDb {
	struct FcDb *next;
	char name[PG_NAME_MAX];
	PgConn *pc;
	bool connected;
	usec_t retry_at;
	FcEntry *batch[FC_BATCH]; /* in the running query */
	size_t nbatch;
	bool batch_rel; /* the running query asks about relations */
} FcDb;

static struct ev_loop *fc_loop;
static const Config *fc_cfg;
static FcEntry *buckets[FC_BUCKETS];
static FcDb *dbs;
static size_t nentries;
static uint64_t nqueries;

void funccache_init(struct ev_loop *loop, const Config *cfg)
{
	fc_loop = loop;
	fc_cfg = cfg;
}

static void entry_free_all(void)
{
	for (size_t i = 0; i < FC_BUCKETS; i++) {
		FcEntry *e = buckets[i], *n;
		for (; e; e = n) {
			n = e->next;
			free(e);
		}
		buckets[i] = NULL;
	}
	nentries = 0;
}

void funccache_free(void)
{
	FcDb *d = dbs, *n;

	entry_free_all();
	for (; d; d = n) {
		n = d->next;
		if (d->pc)
			pgconn_free(d->pc);
		free(d);
	}
	dbs = NULL;
}

size_t funccache_entries(void)
{
	return nentries;
}

uint64_t funccache_queries(void)
{
	return nqueries;
}

static usec_t fc_now(void)
{
	return (usec_t)(ev_now(fc_loop) * 1e6);
}

static size_t fc_hash(const char *db, const char *schema, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *parts[3] = {db, schema, name};

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
			h ^= *p;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h % FC_BUCKETS);
}

static FcDb *db_get(const char *name)
{
	FcDb *d;

	for (d = dbs; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->next = dbs;
	dbs = d;
	return d;
}

static void db_kick(FcDb *d);

static void db_reset(FcDb *d, const char *why)
{
	log_warning("function lookups in database %s: %s; retrying in %d s", d->name, why,
		    (int)(FC_RETRY / USEC_PER_SEC));
	if (d->pc)
		pgconn_free(d->pc);
	d->pc = NULL;
	d->connected = false;
	d->retry_at = fc_now() + FC_RETRY;
	/* forget what was asked: the next statement asks again */
	for (size_t i = 0; i < FC_BUCKETS; i++)
		for (FcEntry *e = buckets[i]; e; e = e->next)
			if (e->db == d && e->pending) {
				e->pending = e->queued = e->in_query = e->refresh = false;
				e->expires = 0;
				e->kind = FUNC_UNKNOWN;
			}
	d->nbatch = 0;
}

static void on_result(PgConn *pc, const PGresult *res, const char *err, void *arg)
{
	FcDb *d = arg;
	usec_t now = fc_now();

	(void)pc;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_reset(d, res ? PQresultErrorMessage(res) : err);
		return;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		int i = atoi(PQgetvalue(res, r, 0));
		long found = atol(PQgetvalue(res, r, 1));
		bool writes = PQgetvalue(res, r, 2)[0] == 't';
		FcEntry *e;

		if (i < 0 || (size_t)i >= d->nbatch)
			continue;
		e = d->batch[i];
		if (e->requery) {
			e->requery = e->in_query = false;
			e->queued = true; /* asked again below */
			continue;
		}
		e->pending = e->in_query = e->refresh = false;
		if (e->rel) {
			/* a sequence (in some schema, for an unqualified name), or not */
			e->kind = found ? FUNC_WRITE : FUNC_READ_ONLY;
			e->expires = now + fc_cfg->function_cache_ttl;
			log_debug("pg_class: %s%s%s in %s: %s", e->schema, e->schema[0] ? "." : "",
				  e->name, d->name, found ? "a sequence" : "not a sequence");
			continue;
		}
		/* no such function: harmless anywhere (an error, or not a call at all) */
		e->kind = found == 0 ? FUNC_READ_ONLY : writes ? FUNC_WRITE : FUNC_READ_ONLY;
		e->expires = now + (found == 0 ? FC_NEGATIVE_TTL : fc_cfg->function_cache_ttl);
		log_debug("pg_proc: %s%s%s in %s: %s", e->schema, e->schema[0] ? "." : "", e->name,
			  d->name,
			  found == 0 ? "no such function" : writes ? "may write" : "read-only");
	}
	for (size_t i = 0; i < d->nbatch; i++)
		if (d->batch[i]->in_query && !d->batch[i]->queued) {
			d->batch[i]->in_query = d->batch[i]->pending = d->batch[i]->refresh = false;
			d->batch[i]->expires = 0;
			d->batch[i]->kind = FUNC_UNKNOWN;
		}
	d->nbatch = 0;
	db_kick(d);
}

/* Appends s as a SQL string literal (standard_conforming_strings is on for libpq). */
static bool append_literal(char *buf, size_t cap, size_t *len, const char *s)
{
	if (*len + 2 > cap)
		return false;
	buf[(*len)++] = '\'';
	for (; *s; s++) {
		if (*len + 3 > cap)
			return false;
		if (*s == '\'' || *s == '\\')
			buf[(*len)++] = *s;
		buf[(*len)++] = *s;
	}
	buf[(*len)++] = '\'';
	buf[*len] = '\0';
	return true;
}

static void db_query(FcDb *d)
{
	static char sql[FC_BATCH * 2 * (PG_NAME_MAX * 2 + 8) + 1024];
	size_t len = 0;

	bool rel = true;

	d->nbatch = 0;
	/* functions first (statements wait for them), then relations */
	for (size_t b = 0; b < FC_BUCKETS && rel; b++)
		for (FcEntry *e = buckets[b]; e; e = e->next)
			if (e->db == d && e->queued && !e->rel) {
				rel = false;
				break;
			}
	d->batch_rel = rel;
	if (rel)
		len += (size_t)snprintf(sql, sizeof(sql),
					"SELECT q.i, count(c.oid), false FROM (VALUES ");
	else
		len += (size_t)snprintf(sql, sizeof(sql),
					"SELECT q.i, count(p.oid), coalesce(bool_or(p.provolatile = "
					"'v' OR (p.proparallel = 'u' AND p.oid < 16384)), false) "
					"FROM (VALUES ");
	for (size_t b = 0; b < FC_BUCKETS && d->nbatch < FC_BATCH; b++) {
		for (FcEntry *e = buckets[b]; e && d->nbatch < FC_BATCH; e = e->next) {
			if (e->db != d || !e->queued || e->rel != rel)
				continue;
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s(%zu, ",
						d->nbatch ? "," : "", d->nbatch);
			if (!append_literal(sql, sizeof(sql), &len, e->schema))
				break;
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, ",");
			if (!append_literal(sql, sizeof(sql), &len, e->name))
				break;
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, ")");
			e->queued = false;
			e->in_query = true;
			d->batch[d->nbatch++] = e;
		}
	}
	if (d->nbatch == 0)
		return;
	if (rel)
		snprintf(sql + len, sizeof(sql) - len,
			 ") AS q(i, s, n) JOIN pg_namespace ns ON q.s = '' OR ns.nspname = q.s "
			 "LEFT JOIN pg_class c ON c.relname = q.n AND c.relnamespace = ns.oid "
			 "AND c.relkind = 'S' GROUP BY q.i");
	else
		snprintf(sql + len, sizeof(sql) - len,
			 ") AS q(i, s, n) JOIN pg_namespace ns ON q.s = '' OR ns.nspname = q.s "
			 "LEFT JOIN pg_proc p ON p.proname = q.n AND p.pronamespace = ns.oid "
			 "GROUP BY q.i");
	nqueries++;
	if (!pgconn_query(d->pc, sql, FC_QUERY_TIMEOUT, on_result, d))
		db_reset(d, "cannot send the query");
}

static void on_connect(PgConn *pc, bool ok, const char *err, void *arg)
{
	FcDb *d = arg;

	(void)pc;
	if (!ok) {
		db_reset(d, err ? err : "cannot connect");
		return;
	}
	d->connected = true;
	log_info("function lookups in database %s: connected to the master", d->name);
	db_kick(d);
}

static void db_kick(FcDb *d)
{
	const Node *m;
	char host[NI_MAXHOST], port[16];
	const char *keys[] = {"hostaddr", "port",	     "user",	 "password",
			      "dbname",	  "application_name", "sslmode", NULL};
	const char *vals[8];

	if (d->pc && d->connected) {
		if (pgconn_is_ready(d->pc))
			db_query(d);
		return;
	}
	if (d->pc || fc_now() < d->retry_at)
		return;
	m = topology_master();
	if (!m || getnameinfo((const struct sockaddr *)&m->addr, m->addrlen, host, sizeof(host),
			      NULL, 0, NI_NUMERICHOST) != 0)
		return;
	snprintf(port, sizeof(port), "%d", m->port);
	vals[0] = host;
	vals[1] = port;
	vals[2] = fc_cfg->monitor_user;
	vals[3] = fc_cfg->monitor_password;
	vals[4] = d->name;
	vals[5] = "pgrelay function lookup";
	vals[6] = "disable";
	vals[7] = NULL;
	d->pc = pgconn_new(fc_loop, keys, vals);
	if (!d->pc || !pgconn_connect(d->pc, fc_cfg->connect_timeout, on_connect, d))
		db_reset(d, "cannot start a connection");
}

static FuncKind cache_lookup(const char *database, const char *schema, const char *name, bool rel)
{
	size_t h;
	FcEntry *e;
	FcDb *d;
	usec_t now;

	if (!fc_cfg || !fc_cfg->monitor_user[0])
		return FUNC_UNKNOWN;
	if (!schema)
		schema = "";
	h = fc_hash(database, schema, name);
	for (e = buckets[h]; e; e = e->next)
		if (e->rel == rel && strcmp(e->name, name) == 0 && strcmp(e->schema, schema) == 0 &&
		    strcmp(e->db->name, database) == 0)
			break;
	now = fc_now();
	if (e && !e->pending && now < e->expires)
		return e->kind;
	if (e && e->pending)
		return e->refresh ? e->kind : FUNC_UNKNOWN;
	if (!e) {
		if (nentries >= FC_MAX_ENTRIES)
			return FUNC_UNKNOWN;
		d = db_get(database);
		e = d ? calloc(1, sizeof(*e)) : NULL;
		if (!e)
			return FUNC_UNKNOWN;
		e->db = d;
		e->rel = rel;
		e->kind = FUNC_UNKNOWN;
		snprintf(e->schema, sizeof(e->schema), "%s", schema);
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->next = buckets[h];
		buckets[h] = e;
		nentries++;
	}
	/* expired: the old answer serves while the new one is asked (DDL clears it) */
	e->refresh = e->kind != FUNC_UNKNOWN;
	e->pending = e->queued = true;
	db_kick(e->db);
	return e->refresh ? e->kind : FUNC_UNKNOWN;
}

FuncKind funccache_lookup(const char *database, const char *schema, const char *name)
{
	return cache_lookup(database, schema, name, false);
}

FuncKind funccache_relation(const char *database, const char *schema, const char *name)
{
	return cache_lookup(database, schema, name, true);
}

/* needle (a folded name) occurs in the text, ignoring ASCII case. */
static bool text_mentions(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || n > len)
		return n == 0;
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(text + i, needle, n) == 0)
			return true;
	return false;
}

void funccache_invalidate(const char *database, const char *ddl, size_t len)
{
	/* serial and identity columns create sequences named after the table */
	bool implicit = text_mentions(ddl, len, "serial") || text_mentions(ddl, len, "identity");

	for (size_t i = 0; i < FC_BUCKETS; i++)
		for (FcEntry *e = buckets[i]; e; e = e->next) {
			if (strcmp(e->db->name, database) != 0)
				continue;
			/* a DDL changes what a name means only by naming it (or a serial column) */
			if (!text_mentions(ddl, len, e->name) &&
			    !(implicit && e->rel && strstr(e->name, "_seq")))
				continue;
			e->kind = FUNC_UNKNOWN;
			e->refresh = false;
			if (!e->pending)
				e->expires = 0;
			else if (e->in_query)
				e->requery = true;
		}
}
