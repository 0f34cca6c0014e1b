/*
 * sock.h - opening a listening TCP socket on a numeric address, shared by
 * the client listener and the HTTP listener.
 */
#ifndef PROXY_SOCK_H
#define PROXY_SOCK_H

#include "common.h"

/*
 * A nonblocking, close-on-exec socket listening on addr:port (numeric IPv4
 * or IPv6; "*" = every IPv4 address) with SO_REUSEADDR and, for IPv6,
 * IPV6_V6ONLY. Returns the fd, or -1 with "... what ..." in err.
 */
int sock_listen(const char *addr, int port, int backlog, const char *what, char *err,
		size_t errlen);

#endif
