/*
 * sock.c - the listening socket helper behind sock.h.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sock_listen(const char *addr, int port, int backlog, const char *what, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(addr, "*") == 0)
		addr = "0.0.0.0";
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			goto bad_addr;
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			goto bad_addr;
		len = sizeof(*sin);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a %s socket for %s:%d: %s", what, addr, port,
			 strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "cannot listen for %s on %s:%d: %s", what, addr, port,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad_addr:
	snprintf(err, errlen, "invalid %s listen address '%s'", what, addr);
	return -1;
}
