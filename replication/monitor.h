/*
 * monitor.h - the health monitor: one nonblocking libpq connection per node
 * (as monitor_user), polled every monitor_interval, turning what each node
 * says into its state (up, lagging, down, unknown) with hysteresis, its lag
 * in bytes and time, and logged events. It also runs the read-your-writes
 * watermark: quick position polls of the master, triggered by commits and
 * coalesced, and of replicas, triggered by reads waiting for them.
 *
 * The proxy reads the health through const getters and calls the
 * monitor_note_* functions for what the data path observes.
 */
#ifndef REPLICATION_MONITOR_H
#define REPLICATION_MONITOR_H

#include "config.h"
#include "lag.h"
#include "topology.h"

#include <ev.h>

typedef struct NodeHealth {
	NodeState state;
	const char *why;  /* static text: why the node is in its state */
	usec_t since;	  /* when the state last changed (0 = never) */
	Sample last;	  /* the last full observation */
	Lag lag;	  /* replicas: as of the last full observation */
	Lsn pos_lsn;	  /* the newest position seen: master insert, replica replay */
	usec_t pos_at;	  /* when that position poll was sent */
	uint64_t polls, failures;
	char upstream[64]; /* replicas: the WAL sender it streams from, host:port */
} NodeHealth;

void monitor_start(struct ev_loop *loop, const Config *cfg);
void monitor_stop(void);
/* Reload: the new configuration (thresholds, intervals, failover keys) and added or removed nodes. */
void monitor_reconfigure(const Config *cfg);

/* The health of topology_node(i); NULL out of range. */
const NodeHealth *monitor_health(size_t i);

/* The state of topology_node(i) as of now: unknown when its last measurement is too old. */
NodeState monitor_state(size_t i, usec_t now);

/* What SHOW NODES and /metrics call its state: fenced, removed, detached, or monitor_state(). */
const char *monitor_node_state_text(const Node *n, usec_t now);

/*
 * A replica may take new reads: its state is up and the observation behind
 * it is recent. With no monitor (no replicas configured) nothing is fresh.
 */
bool monitor_replica_fresh(const Node *node, usec_t now);

/* What the data path saw: a refused connection or a dead server counts as an observation. */
void monitor_note_failure(const Node *node, const char *why);

/* The master is suspected or being replaced: writes should wait (write_wait_timeout). */
bool monitor_failover_active(void);

/* ---- planned switchover and admin actions -------------------------------------- */

/* How a switchover holds the proxy's traffic (wired by main.c). */
typedef struct MonitorGate {
	void (*hold)(bool on); /* hold (true) or release units bound for the master */
	size_t (*busy)(void);  /* sessions with a transaction or a unit on the master */
} MonitorGate;
void monitor_set_gate(const MonitorGate *g);

/*
 * Starts a planned switchover to the replica target (admin PROMOTE): hold
 * new master units, wait for running transactions to end, make the master
 * read only and read its WAL position, wait for target to replay it,
 * promote, fence the old master, repoint the others, release. False (err
 * says why) when it cannot start. Each step has failover_timeout; an abort
 * undoes the read-only setting and releases the units.
 */
bool monitor_switchover(const Node *target, char *err, size_t errlen);
/* 0 while a switchover runs (or none ran), 1 done, -1 aborted; why: its last event. */
int monitor_switchover_result(char *why, size_t whylen);
/* The failover state machine's state name ("healthy", "switchover_drain", ...). */
const char *monitor_failover_state(void);
uint64_t monitor_failovers(void);
uint64_t monitor_switchovers(void);
/* DETACH (true) / ATTACH (false) a replica; false with err for the master or a bad node. */
bool monitor_detach(const Node *node, bool detach, char *err, size_t errlen);
/*
 * UNFENCE: a fenced node that streams from the current master as a replica
 * again (deploy/rejoin.sh) may serve reads; the state file is rewritten.
 */
bool monitor_unfence(const Node *node, char *err, size_t errlen);

/* ---- read-your-writes ------------------------------------------------------- */

/*
 * A write committed on the master and was acknowledged to pgrelay just now.
 * Returns a ticket: the number of the next master position poll, which
 * starts after this moment, so its answer is at or past the commit's LSN.
 * Asks for that poll (coalesced with every other commit meanwhile).
 */
uint64_t monitor_commit_ticket(void);
/* The newest ticket handed out (the global read-your-writes mode waits for it). */
uint64_t monitor_last_ticket(void);
/*
 * The LSN a ticket stands for, once its poll (or a later one) has answered:
 * the master's WAL flush position then, which a synchronous commit has
 * reached before it is acknowledged; or its insert position when the
 * commit may have been asynchronous (async: the session set
 * synchronous_commit; or the monitor saw synchronous_commit = off in the
 * server's, a role's or a database's settings). Unflushed WAL can take up to
 * wal_writer_delay to reach a replica, so the flush position is used
 * whenever it is enough.
 */
bool monitor_ticket_lsn(uint64_t ticket, bool async, Lsn *lsn);
/* The newest replay position known for a node (LSN_INVALID when none). */
Lsn monitor_replay_lsn(const Node *node);
/* Asks for a quick replay-position poll of a replica (coalesced). */
void monitor_want_position(const Node *node);

/*
 * Called after anything that may let a waiting read go on: a position
 * answered, a node's state changed. One listener (the proxy).
 */
void monitor_set_listener(void (*cb)(void));

#endif
