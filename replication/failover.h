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

/* The driver's report on the action failover_tick() handed out. */
void failover_done(Failover *f, FoActionKind kind, bool ok, const char *why, usec_t now);

#endif
