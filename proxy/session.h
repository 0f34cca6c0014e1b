/*
 * session.h - the session state pgrelay owns for each client so it can be
 * replayed onto any server connection (a replica's, a new master's after a
 * failover, a pooled one): the SET statements in effect, by parameter, and
 * the named prepared statements, as their Parse messages. Each kind has a
 * version that moves on every change; a server connection that last saw an
 * older version needs a replay. Pure: no sockets, no libev.
 *
 * Allocation happens when state changes (a SET, a named Parse), never per
 * forwarded message. Ownership: the embedding session owns a SessionState
 * (session_init / session_free).
 */
#ifndef PROXY_SESSION_H
#define PROXY_SESSION_H

#include "buf.h"
#include "common.h"

typedef struct SessionGuc {
	char name[PG_NAME_MAX]; /* normalised by the caller (lower case unless quoted) */
	char *stmt;		/* the SET statement as the client wrote it, owned */
	size_t stmt_len;
	uint32_t flags; /* the caller's flags for it */
} SessionGuc;

typedef struct SessionStmt {
	struct SessionStmt *next; /* hash chain */
	char *name;		  /* statement name, owned (never empty: unnamed ones are not kept) */
	uint8_t *parse;		  /* the whole Parse message, header included, owned */
	size_t parse_len;
	uint32_t info;	 /* the caller's classification of the statement */
	uint8_t present; /* the caller's bit per server connection that has it */
} SessionStmt;

typedef struct SessionState {
	SessionGuc *gucs;
	size_t ngucs, gucs_cap;
	SessionStmt **buckets;
	size_t nbuckets, nstmts;
	size_t bytes;	      /* memory held for statements and SETs */
	uint64_t guc_version; /* moves on every SET/RESET that changes the list */
	uint64_t stmt_version;
} SessionState;

void session_init(SessionState *s);
void session_free(SessionState *s);

/*
 * Records (or replaces) the SET statement for name; a replaced one moves to
 * the end, so the replay keeps the order in which values were last set.
 * False when out of memory.
 */
bool session_guc_set(SessionState *s, const char *name, const char *stmt, size_t stmt_len,
		     uint32_t flags) MUST_CHECK;
/* RESET name / RESET ALL (and DISCARD ALL). */
void session_guc_reset(SessionState *s, const char *name);
void session_guc_reset_all(SessionState *s);
const SessionGuc *session_guc_get(const SessionState *s, const char *name);

/*
 * Appends one simple Query message that brings a server connection to the
 * session's parameters: the role and session authorization reset, RESET ALL,
 * then every recorded SET in order, then DEALLOCATE ALL when dealloc_all.
 * Sets w->failed if it does not fit.
 */
void session_guc_replay(const SessionState *s, bool dealloc_all, PgWriter *w);

/* Records (or replaces) a named statement's Parse message. False when out of memory. */
bool session_stmt_add(SessionState *s, const char *name, const uint8_t *parse, size_t len,
		      uint32_t info) MUST_CHECK;
const SessionStmt *session_stmt_get(const SessionState *s, const char *name);
/* The same, for updating `present`. */
SessionStmt *session_stmt_find(SessionState *s, const char *name);
/* Close (statement): true when it existed. */
bool session_stmt_close(SessionState *s, const char *name);
/* DISCARD ALL / DEALLOCATE ALL. */
void session_stmt_clear(SessionState *s);

#endif
