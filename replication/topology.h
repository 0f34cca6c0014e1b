/*
 * topology.h - the node table: every PostgreSQL node pgrelay knows, its
 * address and its role. The proxy reads it only through const getters.
 * For now roles come from the configuration; the monitor and failover
 * (later) are the only writers.
 */
#ifndef REPLICATION_TOPOLOGY_H
#define REPLICATION_TOPOLOGY_H

#include "common.h"
#include "config.h"

#include <sys/socket.h>

typedef struct Node {
	int index;
	char name[PG_NAME_MAX];
	char host[256];
	int port;
	NodeRole role;
	bool fenced;   /* a master replaced by a failover: sent nothing */
	bool detached; /* DETACH: out of rotation (no reads, never elected) until ATTACH */
	bool removed;  /* no longer in proxy.ini (reload): sent nothing, not monitored */
	/* from its [node] section */
	int weight; /* -1: not configured (topology_weight() follows the role) */
	int priority;
	bool never_promote;
	char replication_slot[PG_NAME_MAX];
	struct sockaddr_storage addr; /* resolved once, at startup */
	socklen_t addrlen;
} Node;

/* Builds the table from cfg, resolving host names (blocking: startup only). */
bool topology_init(const Config *cfg, char *err, size_t errlen) MUST_CHECK;
void topology_free(void);

size_t topology_count(void);
const Node *topology_node(size_t i);
/* The node currently acting as master, or NULL when there is none. */
const Node *topology_master(void);

/*
 * replication/ only (failover): node becomes the master; the old master is
 * fenced (a replica role that pgrelay sends nothing until it is unfenced).
 * Returns the old master (NULL when there was none).
 */
const Node *topology_set_master(const Node *node);
/*
 * Reload: applies cfg's [node] sections to the running table. Known nodes
 * (by name) take their new weight, priority, promote and slot; a changed
 * host or port is refused. New nodes are appended; their host must be a
 * numeric address (no DNS lookup on the loop). Nodes no longer listed are marked removed;
 * the master cannot be removed. Roles stay pgrelay's own. Nothing changes
 * when it returns false (err says why); notes lists what changed.
 */
bool topology_reload(const Config *cfg, char *err, size_t errlen, char *notes, size_t noteslen)
    MUST_CHECK;

/* The share of reads a node takes: its weight, or 1 for a replica and 0 for the master. */
int topology_weight(const Node *node);
/* Whether a node was fenced by a failover. */
bool topology_fenced(const Node *node);
/* replication/ only (admin DETACH / ATTACH, UNFENCE through monitor.h). */
void topology_set_detached(const Node *node, bool detached);
void topology_set_fenced(const Node *node, bool fenced);
/*
 * Applies a failover state file (statefile.h) at startup: its master and
 * fenced nodes win over the configuration's roles. 1 applied, 0 no file,
 * -1 error (err says why).
 */
int topology_load_state(const char *path, char *err, size_t errlen);

#endif
