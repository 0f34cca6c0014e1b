/*
 * election.h - which replica to promote when the master has failed, and
 * whether the master is really gone. Pure: the failover state machine gives
 * it what the monitor last saw of every replica and acts on the answer.
 * See docs/DESIGN.md, "Failover".
 */
#ifndef REPLICATION_ELECTION_H
#define REPLICATION_ELECTION_H

#include "lag.h"

/* What the monitor last saw of one replica. */
typedef struct Candidate {
	int node;	    /* the caller's index, returned as the choice */
	const char *name;   /* for ties and messages */
	bool reachable;	    /* answered its last health check, recently */
	bool in_recovery;   /* still a replica */
	bool never_promote; /* [node] promote = never */
	int priority;	    /* higher first among equally advanced candidates */
	Lsn receive_lsn;    /* pg_last_wal_receive_lsn(): what it has (it replays all of it) */
	Lsn replay_lsn;	    /* pg_last_wal_replay_lsn() */
	/* its WAL receiver: streaming, and the age of its last message from the master */
	bool streaming;
	int64_t receipt_age; /* usec, -1 = unknown */
} Candidate;

typedef enum ElectResult {
	ELECT_OK,     /* node: promote it */
	ELECT_NONE,   /* no replica may be promoted (unreachable, never-promote, not replicas) */
	ELECT_TOO_FAR /* the best one is further behind than max_failover_lag: refuse */
} ElectResult;

typedef struct Election {
	ElectResult result;
	int node;	 /* ELECT_OK, ELECT_TOO_FAR: the best candidate; else -1 */
	Lsn lsn;	 /* its replayed position */
	uint64_t behind; /* bytes behind the master's last known position (0 when unknown) */
	const char *why; /* static text for the event log */
} Election;

/*
 * The most advanced eligible replica: reachable, in recovery, not marked
 * never; by received position, then replayed position, then priority, then
 * name. Refused (ELECT_TOO_FAR) when its replayed position is further
 * behind master_lsn than max_lag. master_lsn: the failed master's last known WAL
 * position (LSN_INVALID when never measured); max_lag: 0 = no limit.
 */
Election election_choose(const Candidate *c, size_t n, Lsn master_lsn, uint64_t max_lag);

/*
 * The witnesses: true when some reachable replica's WAL receiver still
 * streams and heard from the master within `recent` usec, so the master is
 * alive and only pgrelay's path to it is broken (do not promote).
 * *witness: that replica's name (NULL when false).
 */
bool election_master_alive(const Candidate *c, size_t n, int64_t recent, const char **witness);

#endif
