/*
 * cancel.h - delivering a CancelRequest to a server: a short-lived outbound
 * connection that sends the 16-byte packet and closes.
 */
#ifndef PROXY_CANCEL_H
#define PROXY_CANCEL_H

#include "common.h"

#include <ev.h>
#include <sys/socket.h>

/* Fire and forget; failures are logged. */
void cancel_send(struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen, int32_t pid,
		 int32_t key);

#endif
