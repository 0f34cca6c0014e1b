/*
 * stats.h - per-node traffic counters for SHOW STATS, SHOW NODES and
 * /metrics: units (statements) completed, reads, writes, errors, bytes each
 * way, and a fixed-bucket latency histogram (a unit sent to its
 * ReadyForQuery). Plain counters in a static array indexed like the
 * topology: updating one is an add, never an allocation.
 */
#ifndef PROXY_STATS_H
#define PROXY_STATS_H

#include "common.h"

#define STATS_MAX_NODES 16
#define STATS_NBUCKETS 18 /* the last bucket is +Inf */

/* Upper bounds of the latency buckets, in microseconds (the last is +Inf). */
extern const usec_t stats_bucket_le[STATS_NBUCKETS - 1];

typedef struct NodeStats {
	uint64_t units;	 /* client units answered by this node */
	uint64_t reads;	 /* of which proven reads */
	uint64_t writes; /* of which may have written (master, not a proven read) */
	uint64_t errors; /* of which answered with an ErrorResponse */
	uint64_t bytes_to_server, bytes_to_client; /* bytes sent to / read from its connections */
	uint64_t lat_count, lat_sum_us;
	uint64_t lat_bucket[STATS_NBUCKETS]; /* not cumulative */
} NodeStats;

extern NodeStats stats_node[STATS_MAX_NODES];

/* A unit finished on node i after us microseconds. */
void stats_unit(int node, usec_t us, bool write, bool error);
/* The q-quantile (0..1) of a node's latency in microseconds, interpolated in its bucket; 0 when empty. */
double stats_quantile(const NodeStats *s, double q);
/* Adds b into a (for totals). */
void stats_add(NodeStats *a, const NodeStats *b);

#endif
