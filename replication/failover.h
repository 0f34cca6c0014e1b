/*
 * failover.h - the failover state machine's decisions, pure: given what the
 * monitor saw of every node and the clock, what to do next. The driver that
 * carries the actions out over libpq (pg_promote, ALTER SYSTEM) and feeds
 * their results back is separate. States, timeouts and aborts follow
 * docs/DESIGN.md, "Failover".
 */
#ifndef REPLICATION_FAILOVER_H
#define REPLICATION_FAILOVER_H

#include "election.h"

typedef enum FoState {
	FO_HEALTHY,	/* the master answers */
	FO_SUSPECT,	/* it failed a check; counting */
	FO_PROMOTE,	/* a candidate was chosen and is being promoted */
	FO_WAIT_ROLE,	/* promoted: waiting to see it out of recovery on a new timeline */
	FO_RECONFIGURE, /* the new master is confirmed: state file, traffic, other replicas */
	/* a planned switchover (PROMOTE node) runs these, then PROMOTE .. RECONFIGURE */
	FO_SO_DRAIN,   /* new master units are held; waiting for running transactions to end */
	FO_SO_FENCE,   /* the master is made read only and its last WAL position read */
	FO_SO_CATCHUP, /* waiting for the candidate to replay up to that position */
	FO__COUNT
} FoState;

const char *failover_state_name(FoState s);

/* What the monitor last saw of a node. */
typedef struct FoNode {
	Candidate c;	   /* c.node is the node's index */
	uint32_t timeline; /* its timeline as last measured (0 = unknown) */
	Lsn wal_lsn;	   /* master: its WAL flush position as last measured */
} FoNode;

typedef struct FoConfig {
	bool enabled;	    /* failover = on */
	int failures;	    /* failover_after: failed checks in a row that fail the master */
	usec_t interval;    /* monitor_interval: a tick much later than this is a stall */
	usec_t timeout;	    /* failover_timeout: each of PROMOTE, WAIT_ROLE, RECONFIGURE */
	uint64_t max_lag;   /* max_failover_lag */
	usec_t witness_age; /* a WAL receiver message younger than this proves the master alive */
} FoConfig;

typedef enum FoActionKind {
	FA_NONE,
	FA_PROMOTE,	/* promote `node` (pg_promote or promote_command); report with done() */
	FA_RECONFIGURE, /* `node` is the new master: write the state file, switch the traffic,
			   repoint the other replicas; report with done() */
	FA_SO_HOLD,	/* switchover: hold new master units; report with done() once no
			   transaction runs there */
	FA_SO_FENCE,	/* switchover: make the master `node` read only and read its WAL insert
			   position; report with failover_so_fenced() */
	FA_SO_ABORT,	/* switchover abandoned: undo the read-only setting on `node` (the
			   master) if it was made, stop holding units */
	FA_SO_RESUME,	/* switchover done: `node` is the master; stop holding units */
} FoActionKind;

typedef struct FoAction {
	FoActionKind kind;
	int node;
} FoAction;

typedef struct Failover {
	FoConfig cfg;
	FoState state;
	usec_t since;	   /* when the state was entered */
	usec_t last_tick;  /* the previous failover_tick() (stall detection) */
	int master;	   /* the master's node index (-1: none) */
	int failed;	   /* consecutive failed checks of the master */
	int candidate;	   /* PROMOTE .. RECONFIGURE: the node being promoted */
	const char *cand_name; /* its name (the caller's FoNode.c.name) */
	uint32_t old_timeline;
	Lsn master_lsn;	   /* the master's last known WAL position */
	bool action_sent;  /* the state's action was handed out and not reported yet */
	/* the last event, for the log and the admin console (static text + detail) */
	const char *event; /* stable tag: "master_suspect", "failover_started", ... */
	char detail[200];
	uint64_t failovers;
	/* a planned switchover */
	bool switchover;   /* the states from SO_DRAIN to RECONFIGURE serve one */
	bool so_fenced;	   /* the old master was made read only */
	Lsn so_target;	   /* the master's last WAL position once fenced */
	int so_old;	   /* the master it replaces */
	uint64_t switchovers;
} Failover;

void failover_init(Failover *f, const FoConfig *cfg, int master, usec_t now);

/*
 * One health check of the master ended: ok (answered, not in recovery) or
 * not. Returns true when this changed the state (f->event says what).
 */
bool failover_check(Failover *f, bool ok, Lsn master_lsn, uint32_t timeline, usec_t now);

/*
 * The periodic step with the monitor's view of every node (nodes[i].c.node
 * == i). Returns the action to carry out now, if any; f->event says what
 * happened (NULL when nothing did). Call it every monitor tick.
 */
FoAction failover_tick(Failover *f, const FoNode *nodes, size_t n, usec_t now);

/*
 * The driver's report on the action failover_tick() handed out. Returns a
 * follow-up action when the report ends a switchover (FA_SO_ABORT,
 * FA_SO_RESUME), else FA_NONE; call failover_tick() for the next step.
 */
FoAction failover_done(Failover *f, FoActionKind kind, bool ok, const char *why, usec_t now);

/*
 * Starts a planned switchover to replica `node` (admin PROMOTE): refused
 * (FA_NONE, why says why) unless everything is healthy, the master and the
 * node answer, and the node is a replica. Otherwise returns FA_SO_HOLD.
 */
FoAction failover_switchover(Failover *f, int node, const FoNode *nodes, size_t n, usec_t now,
			     char *why, size_t whylen);
/* The FA_SO_FENCE report: ok with the master's WAL insert position, or why not. */
FoAction failover_so_fenced(Failover *f, bool ok, Lsn lsn, const char *why, usec_t now);

#endif
