/*
 * listener.h - the listening sockets: bind, accept, hand off to client_accept().
 */
#ifndef PROXY_LISTENER_H
#define PROXY_LISTENER_H

#include "config.h"

#include <ev.h>

/* Binds every listen_addr:listen_port; on failure err says which and why. */
bool listener_start(struct ev_loop *loop, const Config *cfg, char *err, size_t errlen) MUST_CHECK;
/* Stops accepting and closes the sockets (shutdown). */
void listener_stop(void);

#endif
