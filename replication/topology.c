/*
 * topology.c - the node table behind topology.h: built from the [node.*]
 * sections, addresses resolved at startup so nothing resolves names on the
 * event loop.
 */
#include "topology.h"

#include "statefile.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Node nodes[CFG_MAX_NODES]; /* fixed storage: a Node never moves */
static size_t nnodes;

/*
 * Resolves cn's address into n. At startup a name may be looked up
 * (blocking getaddrinfo, before the loop runs); at reload (numeric_only)
 * only a numeric address is accepted, so the loop never waits for DNS.
 */
static bool node_resolve(Node *n, const CfgNode *cn, bool numeric_only, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	char port[16];
	int rc;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
	snprintf(port, sizeof(port), "%d", cn->port);
	rc = getaddrinfo(cn->host, port, &hints, &res);
	if (rc != 0 || !res) {
		if (numeric_only)
			snprintf(err, errlen,
				 "node %s: host '%s' is not a numeric address: a node added by a "
				 "reload needs one (names are resolved only at startup)",
				 cn->name, cn->host);
		else
			snprintf(err, errlen, "node %s: cannot resolve host '%s': %s", cn->name,
				 cn->host, gai_strerror(rc));
		return false;
	}
	memcpy(&n->addr, res->ai_addr, res->ai_addrlen);
	n->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

/* The settings a node takes from its [node] section (not its role: pgrelay owns that). */
static void node_settings(Node *n, const CfgNode *cn)
{
	n->weight = cn->weight_set ? cn->weight : -1;
	n->priority = cn->priority;
	n->never_promote = cn->never_promote;
	snprintf(n->replication_slot, sizeof(n->replication_slot), "%s", cn->replication_slot);
}

bool topology_init(const Config *cfg, char *err, size_t errlen)
{
	static Node tab[CFG_MAX_NODES];

	memset(tab, 0, sizeof(tab));
	for (size_t i = 0; i < cfg->nnodes && i < CFG_MAX_NODES; i++) {
		const CfgNode *cn = &cfg->nodes[i];
		Node *n = &tab[i];

		n->index = (int)i;
		snprintf(n->name, sizeof(n->name), "%s", cn->name);
		snprintf(n->host, sizeof(n->host), "%s", cn->host);
		n->port = cn->port;
		n->role = cn->role;
		node_settings(n, cn);
		if (!node_resolve(n, cn, false, err, errlen))
			return false;
	}
	memcpy(nodes, tab, sizeof(nodes));
	nnodes = cfg->nnodes;
	return true;
}

static void note_add(char *notes, size_t cap, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void note_add(char *notes, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(notes);
	va_list ap;

	if (len + 3 >= cap)
		return;
	if (len) {
		notes[len++] = ';';
		notes[len++] = ' ';
		notes[len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(notes + len, cap - len, fmt, ap);
	va_end(ap);
}

static Node *node_named(const char *name);

bool topology_reload(const Config *cfg, char *err, size_t errlen, char *notes, size_t noteslen)
{
	Node fresh[CFG_MAX_NODES];
	size_t nfresh = 0, slots = nnodes;

	/* first check everything, changing nothing */
	for (size_t i = 0; i < cfg->nnodes; i++) {
		const CfgNode *cn = &cfg->nodes[i];
		Node *n = node_named(cn->name);
		if (n) {
			if (strcmp(n->host, cn->host) != 0 || n->port != cn->port) {
				snprintf(
				    err, errlen,
				    "node %s: its host or port changed: that needs a restart (or "
				    "a new name)",
				    cn->name);
				return false;
			}
			continue;
		}
		if (slots >= CFG_MAX_NODES) {
			snprintf(err, errlen, "node %s: more than %d nodes since the start",
				 cn->name, CFG_MAX_NODES);
			return false;
		}
		memset(&fresh[nfresh], 0, sizeof(fresh[nfresh]));
		fresh[nfresh].index = (int)slots++;
		snprintf(fresh[nfresh].name, sizeof(fresh[nfresh].name), "%s", cn->name);
		snprintf(fresh[nfresh].host, sizeof(fresh[nfresh].host), "%s", cn->host);
		fresh[nfresh].port = cn->port;
		fresh[nfresh].role = ROLE_REPLICA;
		node_settings(&fresh[nfresh], cn);
		if (!node_resolve(&fresh[nfresh], cn, true, err, errlen))
			return false;
		nfresh++;
	}
	for (size_t i = 0; i < nnodes; i++) {
		bool listed = false;
		for (size_t k = 0; k < cfg->nnodes && !listed; k++)
			listed = strcmp(cfg->nodes[k].name, nodes[i].name) == 0;
		if (!listed && nodes[i].role == ROLE_MASTER && !nodes[i].removed) {
			snprintf(err, errlen,
				 "node %s is the master: it cannot be removed (switch over first)",
				 nodes[i].name);
			return false;
		}
	}
	/* then apply */
	for (size_t i = 0; i < nnodes; i++) {
		const CfgNode *cn = NULL;
		for (size_t k = 0; k < cfg->nnodes && !cn; k++)
			if (strcmp(cfg->nodes[k].name, nodes[i].name) == 0)
				cn = &cfg->nodes[k];
		if (!cn) {
			if (!nodes[i].removed)
				note_add(notes, noteslen, "node %s removed", nodes[i].name);
			nodes[i].removed = true;
			continue;
		}
		if (nodes[i].removed)
			note_add(notes, noteslen, "node %s added back", nodes[i].name);
		nodes[i].removed = false;
		node_settings(&nodes[i], cn);
	}
	for (size_t i = 0; i < nfresh; i++) {
		nodes[nnodes] = fresh[i];
		note_add(notes, noteslen, "node %s added (%s:%d)", fresh[i].name, fresh[i].host,
			 fresh[i].port);
		nnodes++;
	}
	return true;
}

void topology_free(void)
{
	memset(nodes, 0, sizeof(nodes));
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

int topology_weight(const Node *node)
{
	if (node->weight >= 0)
		return node->weight;
	return node->role == ROLE_MASTER ? 0 : 1;
}

bool topology_fenced(const Node *node)
{
	return node && node->fenced;
}

void topology_set_detached(const Node *node, bool detached)
{
	if (node && (size_t)node->index < nnodes)
		nodes[node->index].detached = detached;
}

void topology_set_fenced(const Node *node, bool fenced)
{
	if (node && (size_t)node->index < nnodes)
		nodes[node->index].fenced = fenced;
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
		snprintf(err, errlen,
			 "state file %s: master %s is not a [node] of the configuration", path,
			 s.master);
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
