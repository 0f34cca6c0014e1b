/*
 * topology.c - the node table behind topology.h: built from the [node.*]
 * sections, addresses resolved at startup so nothing resolves names on the
 * event loop.
 */
#include "topology.h"

#include "statefile.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Node *nodes;
static size_t nnodes;

bool topology_init(const Config *cfg, char *err, size_t errlen)
{
	Node *tab = xcalloc(cfg->nnodes, sizeof(Node));

	for (size_t i = 0; i < cfg->nnodes; i++) {
		const CfgNode *cn = &cfg->nodes[i];
		Node *n = &tab[i];
		struct addrinfo hints = {0}, *res = NULL;
		char port[16];
		int rc;

		n->index = (int)i;
		snprintf(n->name, sizeof(n->name), "%s", cn->name);
		snprintf(n->host, sizeof(n->host), "%s", cn->host);
		n->port = cn->port;
		n->role = cn->role;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_family = AF_UNSPEC;
		snprintf(port, sizeof(port), "%d", cn->port);
		rc = getaddrinfo(cn->host, port, &hints, &res);
		if (rc != 0 || !res) {
			snprintf(err, errlen, "node %s: cannot resolve host '%s': %s", cn->name,
				 cn->host, gai_strerror(rc));
			free(tab);
			return false;
		}
		memcpy(&n->addr, res->ai_addr, res->ai_addrlen);
		n->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	free(nodes);
	nodes = tab;
	nnodes = cfg->nnodes;
	return true;
}

void topology_free(void)
{
	free(nodes);
	nodes = NULL;
	nnodes = 0;
}

size_t topology_count(void)
{
	return nnodes;
}

const Node *topology_node(size_t i)
{
	return i < nnodes ? &nodes[i] : NULL;
}

const Node *topology_master(void)
{
	for (size_t i = 0; i < nnodes; i++)
		if (nodes[i].role == ROLE_MASTER)
			return &nodes[i];
	return NULL;
}

const Node *topology_set_master(const Node *node)
{
	Node *old = NULL;

	for (size_t i = 0; i < nnodes; i++) {
		if (nodes[i].role == ROLE_MASTER && &nodes[i] != node) {
			nodes[i].role = ROLE_REPLICA;
			nodes[i].fenced = true;
			old = &nodes[i];
		}
	}
	if (node && (size_t)node->index < nnodes) {
		nodes[node->index].role = ROLE_MASTER;
		nodes[node->index].fenced = false;
	}
	return old;
}

bool topology_fenced(const Node *node)
{
	return node && node->fenced;
}

static Node *node_named(const char *name)
{
	for (size_t i = 0; i < nnodes; i++)
		if (strcmp(nodes[i].name, name) == 0)
			return &nodes[i];
	return NULL;
}

int topology_load_state(const char *path, char *err, size_t errlen)
{
	FoStateFile s;
	char why[512];
	Node *m;
	int r = statefile_read(path, &s, why, sizeof(why));

	if (r <= 0) {
		if (r < 0)
			snprintf(err, errlen, "state file %s", why);
		return r;
	}
	m = node_named(s.master);
	if (!m) {
		snprintf(err, errlen, "state file %s: master %s is not a [node] of the configuration",
			 path, s.master);
		return -1;
	}
	topology_set_master(m);
	for (size_t i = 0; i < s.nfenced; i++) {
		Node *f = node_named(s.fenced[i]);
		if (f && f != m) {
			f->role = ROLE_REPLICA;
			f->fenced = true;
		}
	}
	return 1;
}
