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
	bool fenced; /* a master replaced by a failover: sent nothing */
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
/* Whether a node was fenced by a failover. */
bool topology_fenced(const Node *node);
/*
 * Applies a failover state file (statefile.h) at startup: its master and
 * fenced nodes win over the configuration's roles. 1 applied, 0 no file,
 * -1 error (err says why).
 */
int topology_load_state(const char *path, char *err, size_t errlen);

#endif
