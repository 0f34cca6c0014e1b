/*
 * metrics.h - Prometheus /metrics and /health over the HTTP listener
 * (http.h), when metrics_port is set.
 */
#ifndef PROXY_METRICS_H
#define PROXY_METRICS_H

#include "config.h"
#include "http.h"

#include <ev.h>

/* Starts the listener on metrics_addr:metrics_port (nothing when the port is 0). */
bool metrics_start(struct ev_loop *loop, const Config *cfg, char *err, size_t errlen) MUST_CHECK;
void metrics_stop(void);

/* The /metrics text. */
void metrics_write(HttpBody *b, usec_t now);
/* /health: true when a master is reachable; why says what was seen. */
bool metrics_master_ok(const char **why);
usec_t metrics_now(void);

#endif
