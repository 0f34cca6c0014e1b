/*
 * funccache.h - what pg_proc says about functions the classifier does not
 * know: whether they may write (provolatile = 'v' or proparallel = 'u'),
 * looked up on the master through a libpq connection per database on the
 * loop (the monitor credentials from proxy.ini) and cached with a TTL.
 * A lookup never blocks: a miss answers FUNC_UNKNOWN (the statement goes to
 * the master) and starts a query whose answer serves later statements.
 */
#ifndef PROXY_FUNCCACHE_H
#define PROXY_FUNCCACHE_H

#include "classify.h"
#include "config.h"

#include <ev.h>

void funccache_init(struct ev_loop *loop, const Config *cfg);
void funccache_free(void);

/* schema may be NULL (unqualified); names arrive folded, as the classifier passes them. */
FuncKind funccache_lookup(const char *database, const char *schema, const char *name);
/*
 * Whether a relation is a sequence (pg_class.relkind = 'S'; an unqualified
 * name: in any schema): FUNC_WRITE yes, FUNC_READ_ONLY no, FUNC_UNKNOWN not
 * known yet (asked now). Same cache, TTL and connection as functions.
 */
FuncKind funccache_relation(const char *database, const char *schema, const char *name);
/*
 * DDL ran through pgrelay in database: forget what was learned about the
 * names its text mentions (and, for serial / identity columns, about
 * relations named *_seq*), as only those can have changed.
 */
void funccache_invalidate(const char *database, const char *ddl, size_t len);

/* For tests and the admin console. */
size_t funccache_entries(void);
uint64_t funccache_queries(void);

#endif
