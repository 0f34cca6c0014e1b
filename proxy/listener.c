/*
 * listener.c - listening sockets: bind every configured address, accept
 * connections without blocking, and hand each one to the client module.
 */
#include "listener.h"

#include "client.h"
#include "log.h"
#include "sock.h"

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
	return sock_listen(addr, port, 1024, "clients", err, errlen);
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
