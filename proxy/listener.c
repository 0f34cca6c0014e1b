/*
 * listener.c - listening sockets: bind every configured address, accept
 * connections without blocking, and hand each one to the client module.
 */
#include "listener.h"

#include "client.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct Listener {
	int fd;
	ev_io io;
	char name[96];
} Listener;

static Listener listeners[CFG_MAX_LISTEN];
static size_t nlisteners;
static struct ev_loop *listen_loop;

static void listener_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Listener *l = container_of(w, Listener, io);

	(void)loop;
	(void)revents;
	/* a bounded batch per wakeup keeps the loop fair */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				log_warning("accept on %s: %s", l->name, strerror(errno));
			return;
		}
		client_accept(fd);
	}
}

static int listener_bind(const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
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
		snprintf(err, errlen, "cannot create socket for %s:%d: %s", addr, port,
			 strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad_addr:
	snprintf(err, errlen, "invalid listen address '%s'", addr);
	return -1;
}

bool listener_start(struct ev_loop *loop, const Config *cfg, char *err, size_t errlen)
{
	listen_loop = loop;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		Listener *l = &listeners[nlisteners];
		l->fd = listener_bind(cfg->listen_addr[i], cfg->listen_port, err, errlen);
		if (l->fd < 0) {
			listener_stop();
			return false;
		}
		snprintf(l->name, sizeof(l->name), "%s:%d", cfg->listen_addr[i], cfg->listen_port);
		ev_io_init(&l->io, listener_accept_cb, l->fd, EV_READ);
		ev_io_start(loop, &l->io);
		nlisteners++;
		log_info("listening on %s", l->name);
	}
	return true;
}

void listener_stop(void)
{
	for (size_t i = 0; i < nlisteners; i++) {
		ev_io_stop(listen_loop, &listeners[i].io);
		close(listeners[i].fd);
	}
	nlisteners = 0;
}
