/*
 * lag.h - the monitor's arithmetic, pure: WAL positions (LSN) as text and
 * numbers, how far a replica is behind the master in bytes and in time,
 * what one observation says a node's state is, and the hysteresis that
 * turns observations into state changes. No I/O, no clock: every function
 * is given the time. See docs/DESIGN.md, "Lag and read-your-writes".
 */
#ifndef REPLICATION_LAG_H
#define REPLICATION_LAG_H

#include "common.h"

/* A WAL position: PostgreSQL's XLogRecPtr. 0 is "invalid / unknown". */
typedef uint64_t Lsn;
#define LSN_INVALID ((Lsn)0)
#define LSN_TEXT_MAX 20 /* "FFFFFFFF/FFFFFFFF" and a NUL */

/* Parses PostgreSQL's "X/Y" text form (1 to 8 hex digits each side, nothing else). */
bool lsn_parse(const char *s, Lsn *out) MUST_CHECK;
/* Writes the "X/Y" form; returns buf. */
const char *lsn_format(Lsn lsn, char buf[LSN_TEXT_MAX]);
/* a - b, or 0 when b is at or past a. */
static inline uint64_t lsn_diff(Lsn a, Lsn b)
{
	return a > b ? a - b : 0;
}

typedef enum NodeState {
	NS_UNKNOWN, /* not measured (yet, or not recently) */
	NS_UP,	    /* reachable; a replica: fresh enough to serve reads */
	NS_LAGGING, /* a replica too far behind, or its WAL receiver is not streaming */
	NS_DOWN,    /* unreachable, or not the role it should have */
	NS__COUNT
} NodeState;

const char *node_state_name(NodeState s);

/* One observation of a node by the monitor, taken at `at`. */
typedef struct Sample {
	usec_t at;	  /* when the poll was sent (0 = never observed) */
	bool ok;	  /* the node answered (false: connect or query failed / timed out) */
	bool in_recovery; /* pg_is_in_recovery() */
	Lsn wal_lsn;	  /* master: pg_current_wal_flush_lsn() (what replicas can have) */
	Lsn receive_lsn;  /* replica: pg_last_wal_receive_lsn() */
	Lsn replay_lsn;	  /* replica: pg_last_wal_replay_lsn() */
	int64_t replay_age; /* replica: usec since its last replayed transaction committed, -1 = none */
	bool streaming;	  /* replica: its WAL receiver's status is 'streaming' */
	int64_t receipt_age; /* replica: usec since its WAL receiver heard from the master, -1 */
	uint32_t timeline;
} Sample;

/* The master's recent positions over time: when was it at or below an LSN. */
#define LAG_HISTORY 128
typedef struct LagHistory {
	usec_t at[LAG_HISTORY];
	Lsn lsn[LAG_HISTORY];
	unsigned n, head; /* head: the slot the next point goes to */
} LagHistory;

/* Records that the master's WAL position was lsn at time at (points arrive in time order). */
void lag_history_add(LagHistory *h, usec_t at, Lsn lsn);
/*
 * The latest recorded time at which the master's position was at or below
 * lsn: a replica that has replayed lsn has everything the master had then.
 * -1 when every recorded point is past lsn.
 */
int64_t lag_history_when(const LagHistory *h, Lsn lsn);

typedef struct Lag {
	bool known;	/* both samples are there and recent */
	uint64_t bytes; /* master's WAL position minus the replica's replay position */
	usec_t time;	/* how old the replica's data may be */
} Lag;

typedef struct LagLimits {
	uint64_t max_bytes; /* 0 = no byte limit */
	usec_t max_time;    /* 0 = no time limit */
	usec_t stale_after; /* a sample older than this is unknown */
} LagLimits;

/*
 * The replica's lag against the master's latest sample. time is 0 when the
 * replica has replayed all the master had written; otherwise the smaller of
 * the age of its last replayed transaction and how long ago the master was
 * at the replica's replay position (the history), so WAL written without
 * transactions (checkpoints, vacuum) does not make an idle replica stale.
 * Neither known: the time since the oldest point of the history, at least.
 */
Lag lag_compute(const Sample *master, const LagHistory *h, const Sample *replica, usec_t now,
		usec_t stale_after);

/*
 * What one observation of a replica says: NS_UP when it answered, is in
 * recovery, streams WAL and is within the limits; why (a static string)
 * tells the reason when it is not. lag is lag_compute()'s result.
 */
NodeState lag_judge_replica(const Sample *replica, const Lag *lag, const LagLimits *lim,
			    usec_t now, const char **why);
/* The master: NS_UP when it answered and is not in recovery. */
NodeState lag_judge_master(const Sample *master, usec_t now, usec_t stale_after,
			   const char **why);

/*
 * A node's state under hysteresis: a new state is taken after `needed`
 * consecutive observations of it. The first observation of an unknown node
 * is taken at once, and so is NS_DOWN when at_once (a refused connection:
 * reads must leave a dead replica now, not after three polls).
 */
typedef struct Hysteresis {
	NodeState state;
	NodeState pending; /* the state being observed in a row */
	int count;	   /* how many times in a row */
} Hysteresis;

/* Feeds one observation; true when h->state changed. */
bool hyst_step(Hysteresis *h, NodeState observed, int needed, bool at_once);

#endif
