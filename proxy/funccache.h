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
/* DDL ran through pgrelay in database: forget what it said about missing functions. */
void funccache_invalidate(const char *database);

/* For tests and the admin console. */
size_t funccache_entries(void);
uint64_t funccache_queries(void);

#endif
