/*
 * metrics.c - what the HTTP listener serves: /metrics in Prometheus' text
 * format (node states, roles, lag, statements, errors, bytes, server and
 * client connections, failovers, switchovers, latency histograms) and
 * /health for load balancers (200 while a master is reachable, else 503).
 * Everything is read from getters when scraped; nothing is kept here.
 */
#include "metrics.h"

#include "admin.h"
#include "client.h"
#include "events.h"
#include "monitor.h"
#include "pool.h"
#include "stats.h"
#include "topology.h"

#include <string.h>

static const char *const node_states[] = {"up",	     "lagging",	 "down",   "fenced",
					  "unknown", "detached", "removed"};

static void family(HttpBody *b, const char *name, const char *type, const char *help)
{
	http_body_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void conns_of(const Node *n, size_t *active, size_t *idle)
{
	*active = *idle = 0;
	for (Pool *p = pool_first(); p; p = pool_next(p)) {
		if (p->pgnode != n)
			continue;
		*active += p->busy.count;
		*idle += p->idle.count;
	}
}

bool metrics_master_ok(const char **why)
{
	const Node *m = topology_master();

	if (!m) {
		*why = "no master";
		return false;
	}
	if (monitor_failover_active()) {
		*why = "a failover or switchover is in progress";
		return false;
	}
	if (!monitor_health((size_t)m->index)) {
		*why = "the master is not monitored (no monitor_user)";
		return true;
	}
	if (monitor_state((size_t)m->index, metrics_now()) != NS_UP) {
		*why = "the master does not answer";
		return false;
	}
	*why = "the master answers";
	return true;
}

void metrics_write(HttpBody *b, usec_t now)
{
	size_t n = topology_count();

	family(b, "pgrelay_up", "gauge", "1 while pgrelay runs.");
	http_body_printf(b, "pgrelay_up 1\n");
	family(b, "pgrelay_info", "gauge", "pgrelay's version.");
	http_body_printf(b, "pgrelay_info{version=\"%s\"} 1\n", PGRELAY_VERSION);

	family(b, "pgrelay_node_state", "gauge",
	       "1 for the node's current state, 0 for the others.");
	for (size_t i = 0; i < n; i++) {
		const Node *node = topology_node(i);
		const char *st = monitor_node_state_text(node, now);
		const char *role = node == topology_master() ? "master" : "replica";
		for (size_t k = 0; k < ARRAY_SIZE(node_states); k++)
			http_body_printf(
			    b, "pgrelay_node_state{node=\"%s\",role=\"%s\",state=\"%s\"} %d\n",
			    node->name, role, node_states[k], strcmp(st, node_states[k]) == 0);
	}
	family(b, "pgrelay_node_is_master", "gauge", "1 for the node pgrelay sends writes to.");
	for (size_t i = 0; i < n; i++)
		http_body_printf(b, "pgrelay_node_is_master{node=\"%s\"} %d\n",
				 topology_node(i)->name, topology_node(i) == topology_master());
	family(b, "pgrelay_node_lag_bytes", "gauge",
	       "Replica: the master's WAL flush position minus its replay position.");
	for (size_t i = 0; i < n; i++) {
		const NodeHealth *h = monitor_health(i);
		if (h && topology_node(i) != topology_master() && h->last.at)
			http_body_printf(b, "pgrelay_node_lag_bytes{node=\"%s\"} %llu\n",
					 topology_node(i)->name, (unsigned long long)h->lag.bytes);
	}
	family(b, "pgrelay_node_lag_seconds", "gauge",
	       "Replica: how far behind in time its replay is.");
	for (size_t i = 0; i < n; i++) {
		const NodeHealth *h = monitor_health(i);
		if (h && topology_node(i) != topology_master() && h->last.at)
			http_body_printf(b, "pgrelay_node_lag_seconds{node=\"%s\"} %.6f\n",
					 topology_node(i)->name,
					 (double)h->lag.time / USEC_PER_SEC);
	}
	family(b, "pgrelay_statements_total", "counter",
	       "Statements (routing units) answered by the node: proven reads, and the rest.");
	for (size_t i = 0; i < n && i < STATS_MAX_NODES; i++) {
		http_body_printf(b, "pgrelay_statements_total{node=\"%s\",kind=\"read\"} %llu\n",
				 topology_node(i)->name, (unsigned long long)stats_node[i].reads);
		http_body_printf(b, "pgrelay_statements_total{node=\"%s\",kind=\"write\"} %llu\n",
				 topology_node(i)->name, (unsigned long long)stats_node[i].writes);
	}
	family(b, "pgrelay_node_errors_total", "counter",
	       "Statements the node answered with an error.");
	for (size_t i = 0; i < n && i < STATS_MAX_NODES; i++)
		http_body_printf(b, "pgrelay_node_errors_total{node=\"%s\"} %llu\n",
				 topology_node(i)->name, (unsigned long long)stats_node[i].errors);
	family(b, "pgrelay_bytes_total", "counter", "Bytes sent to the node and read from it.");
	for (size_t i = 0; i < n && i < STATS_MAX_NODES; i++) {
		http_body_printf(
		    b, "pgrelay_bytes_total{node=\"%s\",direction=\"to_server\"} %llu\n",
		    topology_node(i)->name, (unsigned long long)stats_node[i].bytes_to_server);
		http_body_printf(
		    b, "pgrelay_bytes_total{node=\"%s\",direction=\"to_client\"} %llu\n",
		    topology_node(i)->name, (unsigned long long)stats_node[i].bytes_to_client);
	}
	family(b, "pgrelay_server_connections", "gauge", "Server connections per node, by state.");
	for (size_t i = 0; i < n; i++) {
		size_t active, idle;
		conns_of(topology_node(i), &active, &idle);
		http_body_printf(b,
				 "pgrelay_server_connections{node=\"%s\",state=\"active\"} %zu\n",
				 topology_node(i)->name, active);
		http_body_printf(b, "pgrelay_server_connections{node=\"%s\",state=\"idle\"} %zu\n",
				 topology_node(i)->name, idle);
	}
	family(b, "pgrelay_client_connections", "gauge",
	       "Client connections, the console's included.");
	http_body_printf(b, "pgrelay_client_connections %zu\n", client_count());
	family(b, "pgrelay_clients_waiting", "gauge",
	       "Clients waiting: for a server, a fresh replica, a failover, or RESUME.");
	http_body_printf(b, "pgrelay_clients_waiting %zu\n", client_count_waiting());
	family(b, "pgrelay_paused", "gauge", "1 while PAUSE holds new transactions.");
	http_body_printf(b, "pgrelay_paused %d\n", client_paused);
	family(b, "pgrelay_failovers_total", "counter", "Automatic failovers completed.");
	http_body_printf(b, "pgrelay_failovers_total %llu\n",
			 (unsigned long long)monitor_failovers());
	family(b, "pgrelay_switchovers_total", "counter",
	       "Planned switchovers (PROMOTE) completed.");
	http_body_printf(b, "pgrelay_switchovers_total %llu\n",
			 (unsigned long long)monitor_switchovers());
	family(b, "pgrelay_events_total", "counter", "Events logged (SHOW EVENTS).");
	http_body_printf(b, "pgrelay_events_total %llu\n", (unsigned long long)event_total());

	family(b, "pgrelay_query_duration_seconds", "histogram",
	       "Time from a statement sent to the node to its ReadyForQuery.");
	for (size_t i = 0; i < n && i < STATS_MAX_NODES; i++) {
		const NodeStats *s = &stats_node[i];
		const char *name = topology_node(i)->name;
		uint64_t cum = 0;
		for (size_t k = 0; k < STATS_NBUCKETS - 1; k++) {
			cum += s->lat_bucket[k];
			http_body_printf(
			    b,
			    "pgrelay_query_duration_seconds_bucket{node=\"%s\",le=\"%g\"} "
			    "%llu\n",
			    name, (double)stats_bucket_le[k] / USEC_PER_SEC,
			    (unsigned long long)cum);
		}
		cum += s->lat_bucket[STATS_NBUCKETS - 1];
		http_body_printf(
		    b, "pgrelay_query_duration_seconds_bucket{node=\"%s\",le=\"+Inf\"} %llu\n",
		    name, (unsigned long long)cum);
		http_body_printf(b, "pgrelay_query_duration_seconds_sum{node=\"%s\"} %.6f\n", name,
				 (double)s->lat_sum_us / USEC_PER_SEC);
		http_body_printf(b, "pgrelay_query_duration_seconds_count{node=\"%s\"} %llu\n",
				 name, (unsigned long long)s->lat_count);
	}
}

static struct ev_loop *metrics_loop;

usec_t metrics_now(void)
{
	return (usec_t)(ev_now(metrics_loop) * 1e6);
}

static int metrics_handler(const char *path, HttpBody *body, const char **content_type, void *arg)
{
	const char *why;

	(void)arg;
	if (strcmp(path, "/metrics") == 0) {
		*content_type = "text/plain; version=0.0.4; charset=utf-8";
		metrics_write(body, metrics_now());
		return 200;
	}
	if (strcmp(path, "/health") == 0) {
		bool ok = metrics_master_ok(&why);
		http_body_printf(body, "%s: %s\n", ok ? "ok" : "unavailable", why);
		return ok ? 200 : 503;
	}
	http_body_printf(body, "not found: try /metrics or /health\n");
	return 404;
}

bool metrics_start(struct ev_loop *loop, const Config *cfg, char *err, size_t errlen)
{
	metrics_loop = loop;
	if (cfg->metrics_port == 0)
		return true;
	if (!http_start(loop, cfg->metrics_addr, cfg->metrics_port, metrics_handler, NULL, err,
			errlen))
		return false;
	log_info("metrics: http://%s:%d/metrics and /health", cfg->metrics_addr, cfg->metrics_port);
	return true;
}

void metrics_stop(void)
{
	http_stop();
}
