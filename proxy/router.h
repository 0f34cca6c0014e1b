/*
 * router.h - where a routing unit runs, and why. A unit is one simple
 * Query, or one extended-protocol batch up to its Sync (see docs/DESIGN.md).
 * router_fold() summarises the statements of a unit as the classifier saw
 * them; router_decide() turns a summary plus the session's state into a
 * destination and a RouteReason. Both are pure. The per-node counters of
 * decisions by reason live here too, so tests and the admin console read
 * one table.
 */
#ifndef PROXY_ROUTER_H
#define PROXY_ROUTER_H

#include "classify.h"
#include "common.h"

/* Where a session's unit runs: its master connection or its replica connection. */
typedef enum RouteDest { DEST_MASTER, DEST_REPLICA, DEST__COUNT } RouteDest;

typedef enum RouteReason {
	RR_READ,	    /* every statement is a proven read */
	RR_WRITE,	    /* some statement is not a proven read */
	RR_TXN,		    /* inside a transaction: stays on the node it runs on */
	RR_TXN_READ_ONLY,   /* a read-only transaction starts on a replica */
	RR_TXN_READ_WRITE,  /* a transaction not declared read only starts on the master */
	RR_SERIALIZABLE,    /* a SERIALIZABLE transaction: hot standbys refuse it */
	RR_PINNED,	    /* the session holds master-only state (temp table, LISTEN...) */
	RR_HINT_PRIMARY,    /* a pgrelay:primary hint */
	RR_HINT_REPLICA,    /* a pgrelay:replica hint on a statement that may run there */
	RR_HINT_REFUSED,    /* a pgrelay:replica hint on a write: ignored */
	RR_NO_REPLICA,	    /* a read, but no replica is usable (none fresh, none reachable) */
	RR_REPLAY_FAILED,   /* the session's SETs could not be replayed on the replica */
	RR_SESSION,	    /* SET / RESET / DISCARD outside a transaction */
	RR_UNKNOWN_FUNCTION, /* calls a function whose volatility is not known (yet) */
	RR_MASTER_STATS,    /* reads the master's own statistics or activity */
	RR_SEQUENCE,	    /* reads a sequence relation: a replica shows its WAL-logged state */
	RR_UNKNOWN_RELATION, /* reads a relation whose kind pg_class has not told yet */
	RR_FUNCTION_CALL,   /* a FunctionCall message */
	RR_FLUSH,	    /* an extended batch flushed before its Sync */
	RR_TOO_LARGE,	    /* an extended batch larger than the buffer */
	RR_MISROUTE_RERUN,  /* a replica refused it with 25006: rerun on the master */
	RR_BEHIND_WRITE,    /* a read pipelined behind the session's unfinished master unit */
	RR_RYW_UNKNOWN,	    /* read-your-writes: the session's last commit's LSN is not known yet */
	RR_RYW_NOT_REPLAYED, /* read-your-writes: no replica replayed the session's last commit */
	RR_TXN_MOVED,	    /* a replica transaction asked for READ WRITE / SERIALIZABLE before
			       its first query: restarted on the master */
	RR_ROUTING_OFF,	    /* route_reads = off */
	RR__COUNT
} RouteReason;

const char *router_reason_name(RouteReason r);
const char *router_dest_name(RouteDest d);

/* What the statements of one unit add up to. Zero-initialise, then fold. */
typedef struct UnitSummary {
	uint32_t n;	    /* statements folded (empty ones included) */
	bool all_read;	    /* every statement SC_READ or SC_EMPTY (true while n == 0) */
	bool begins;	    /* some statement is SC_BEGIN */
	uint32_t begin_flags; /* flags of the first SC_BEGIN, plus those of SET TRANSACTION
				 statements right after it (before any SAVEPOINT) */
	bool txn_reads;	    /* only reads, one BEGIN, COMMIT/ROLLBACK/SAVEPOINT, harmless SET TRANSACTION */
	bool soft_writes;   /* every non-read is an unknown function or a statistics read */
	bool ends;	    /* some statement is SC_END */
	bool rollback;	    /* the last SC_END is a ROLLBACK / ABORT */
	bool chain;	    /* the last SC_END has AND CHAIN */
	bool session;	    /* SC_SESSION, or SC_SET_TXN of the session characteristics */
	bool pin;	    /* SC_PIN */
	bool txn_stmt;	    /* SC_TXN (savepoints, FETCH...) */
	bool hint_master, hint_replica;
	bool stats;	    /* some statement reads the master's statistics (SF_MASTER_STATS) */
	bool prelude;	    /* only BEGIN, SET TRANSACTION (not session characteristics), empties */
	bool set_txn;	    /* some statement is such a SET TRANSACTION */
	uint32_t set_txn_flags; /* their flags, or'ed */
	/* the first statement that is not a read (else the first statement) */
	StmtClass cls;
	ClassReason reason;
	uint32_t flags;
} UnitSummary;

/* A summary's statement: true until the first fold. */
void router_summary_init(UnitSummary *u);
void router_fold(UnitSummary *u, StmtClass cls, ClassReason reason, uint32_t flags);
/* A unit that changes session or transaction state: responses are awaited before the next. */
bool router_is_barrier(const UnitSummary *u);

typedef struct RouteInput {
	const UnitSummary *unit;
	bool in_txn;		/* a transaction is open; it runs on txn_dest */
	RouteDest txn_dest;
	bool pinned;
	bool stats_session;	   /* the session has read the master's statistics */
	bool session_read_only;	   /* default_transaction_read_only = on */
	bool session_serializable; /* default_transaction_isolation = serializable (maybe) */
	bool replica_usable;	   /* a replica connection can serve this session */
	bool routing_enabled;
} RouteInput;

typedef struct RouteDecision {
	RouteDest dest;
	RouteReason reason;
} RouteDecision;

RouteDecision router_decide(const RouteInput *in);

/* ---- counters: decisions per node index and reason -------------------------- */

#define ROUTER_MAX_NODES 16

void router_count(int node, RouteReason r);
uint64_t router_counter(int node, RouteReason r);
/* Misroutes caught by the 25006 safety net (also counted as RR_MISROUTE_RERUN). */
void router_count_misroute(int node);
uint64_t router_misroutes(int node);

#endif
