/*
 * stats.c - the per-node counters and latency histogram behind stats.h.
 */
#include "stats.h"

const usec_t stats_bucket_le[STATS_NBUCKETS - 1] = {
    100,    250,    500,    1000,    2500,    5000,    10000,	 25000,	   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000,
};

NodeStats stats_node[STATS_MAX_NODES];

void stats_unit(int node, usec_t us, bool write, bool error)
{
	NodeStats *s;
	size_t b = 0;

	if (node < 0 || node >= STATS_MAX_NODES)
		return;
	s = &stats_node[node];
	s->units++;
	if (write)
		s->writes++;
	else
		s->reads++;
	if (error)
		s->errors++;
	if (us < 0)
		us = 0;
	while (b < STATS_NBUCKETS - 1 && us > stats_bucket_le[b])
		b++;
	s->lat_bucket[b]++;
	s->lat_count++;
	s->lat_sum_us += (uint64_t)us;
}

double stats_quantile(const NodeStats *s, double q)
{
	uint64_t seen = 0;
	double rank;

	if (s->lat_count == 0)
		return 0;
	rank = q * (double)s->lat_count;
	for (size_t b = 0; b < STATS_NBUCKETS; b++) {
		double lo = b == 0 ? 0 : (double)stats_bucket_le[b - 1];
		double hi = b < STATS_NBUCKETS - 1 ? (double)stats_bucket_le[b] : lo;
		if (s->lat_bucket[b] && (double)(seen + s->lat_bucket[b]) >= rank) {
			double into = (rank - (double)seen) / (double)s->lat_bucket[b];
			return lo + (hi - lo) * (into < 0 ? 0 : into);
		}
		seen += s->lat_bucket[b];
	}
	return (double)stats_bucket_le[STATS_NBUCKETS - 2];
}

void stats_add(NodeStats *a, const NodeStats *b)
{
	a->units += b->units;
	a->reads += b->reads;
	a->writes += b->writes;
	a->errors += b->errors;
	a->bytes_to_server += b->bytes_to_server;
	a->bytes_to_client += b->bytes_to_client;
	a->lat_count += b->lat_count;
	a->lat_sum_us += b->lat_sum_us;
	for (size_t i = 0; i < STATS_NBUCKETS; i++)
		a->lat_bucket[i] += b->lat_bucket[i];
}
