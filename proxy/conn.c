/*
 * conn.c - byte transport for one socket: nonblocking read/write, the inbound
 * and outbound buffers, zero-copy forwarding, deferred close and reaping.
 * Knows nothing about the PostgreSQL protocol (see pgproto.c). The only
 * file that calls read(), send() and close() on client and server sockets.
 */
#include "conn.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ListHead reap_list = {{&reap_list.head, &reap_list.head}, 0};

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents);

static bool set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

static void conn_describe_peer(Conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
			port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
			port = ntohs(sin6->sin6_port);
		} else if (ss.ss_family == AF_UNIX) {
			strcpy(host, "unix");
		}
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
}

static bool conn_setup(Conn *c, struct ev_loop *loop, int fd, const ConnOps *ops, size_t in_max)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->loop = loop;
	c->ops = ops;
	c->in_max = in_max < CONN_IN_DEFAULT ? CONN_IN_DEFAULT : in_max;
	list_init(&c->reap_node);
	c->created_at = (usec_t)(ev_now(loop) * 1e6);
	if (!set_nonblocking(fd))
		return false;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->in = malloc(CONN_IN_DEFAULT);
	if (!c->in)
		return false;
	c->in_cap = CONN_IN_DEFAULT;
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	return true;
}

bool conn_init(Conn *c, struct ev_loop *loop, int fd, const ConnOps *ops, size_t in_max)
{
	if (!conn_setup(c, loop, fd, ops, in_max))
		return false;
	conn_describe_peer(c);
	return true;
}

bool conn_connect(Conn *c, struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen,
		  const ConnOps *ops, size_t in_max)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	if (!conn_setup(c, loop, fd, ops, in_max)) {
		free(c->in);
		c->in = NULL;
		close(fd);
		return false;
	}
	c->connecting = true;
	if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
		c->err = errno;
		/* report the failure through the normal path, on the next loop turn */
		ev_feed_event(loop, &c->wio, EV_WRITE);
		return true;
	}
	ev_io_start(loop, &c->wio);
	return true;
}

void conn_start_reading(Conn *c)
{
	if (c->closing || c->reading || c->read_paused)
		return;
	ev_io_start(c->loop, &c->rio);
	c->reading = true;
}

void conn_pause_reading(Conn *c)
{
	c->read_paused = true;
	if (c->reading) {
		ev_io_stop(c->loop, &c->rio);
		c->reading = false;
	}
}

void conn_resume_reading(Conn *c)
{
	c->read_paused = false;
	conn_start_reading(c);
}

void conn_compact(Conn *c)
{
	if (c->in_pos == 0)
		return;
	if (c->in_pos < c->in_len)
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
	c->in_len -= c->in_pos;
	c->in_pos = 0;
}

bool conn_in_reserve(Conn *c, size_t need)
{
	uint8_t *p;
	size_t cap;

	if (c->in_cap - c->in_pos >= need)
		return true;
	conn_compact(c);
	if (c->in_cap >= need)
		return true;
	if (need > c->in_max)
		return false;
	cap = c->in_cap;
	while (cap < need)
		cap *= 2;
	if (cap > c->in_max)
		cap = c->in_max;
	p = realloc(c->in, cap);
	if (!p)
		return false;
	c->in = p;
	c->in_cap = cap;
	return true;
}

/* Called on EOF, errors, and fed events: the owner decides what to do. */
static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Conn *c = container_of(w, Conn, rio);
	ssize_t n;

	(void)loop;
	(void)revents;
	if (c->closing)
		return;
	if (c->eof) {
		c->ops->on_read(c);
		return;
	}
	if (c->in_len == c->in_cap)
		conn_compact(c);
	if (c->in_len == c->in_cap) {
		/* the owner has not made room: wait until it resumes us */
		conn_pause_reading(c);
		return;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n > 0) {
		c->in_len += (size_t)n;
		if (c->rx_bytes)
			*c->rx_bytes += (uint64_t)n;
	} else if (n == 0) {
		c->eof = true;
	} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		return;
	} else {
		c->eof = true;
		c->err = errno;
	}
	c->ops->on_read(c);
}

static bool out_append(Conn *c, const void *p, size_t n)
{
	size_t used = c->out_len - c->out_pos;

	if (c->out_pos > 0 && c->out_cap - c->out_len < n) {
		memmove(c->out, c->out + c->out_pos, used);
		c->out_pos = 0;
		c->out_len = used;
	}
	if (c->out_cap - c->out_len < n) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *q;
		while (cap - c->out_len < n)
			cap *= 2;
		q = realloc(c->out, cap);
		if (!q)
			return false;
		c->out = q;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return true;
}

/* Moves a pending zero-copy region into `out`, preserving order. */
static bool zc_to_out(Conn *c)
{
	const uint8_t *p = c->zc;
	size_t n = c->zc_len;

	if (!p)
		return true;
	c->zc = NULL;
	c->zc_len = 0;
	return out_append(c, p, n);
}

bool conn_queue(Conn *dst, const uint8_t *p, size_t n)
{
	if (dst->closing || dst->eof || n == 0)
		return true;
	if (dst->out_len == dst->out_pos) {
		if (!dst->zc) {
			dst->zc = p;
			dst->zc_len = n;
			return true;
		}
		if (dst->zc + dst->zc_len == p) {
			dst->zc_len += n;
			return true;
		}
		if (!zc_to_out(dst))
			return false;
	}
	return out_append(dst, p, n);
}

bool conn_write(Conn *dst, const void *p, size_t n)
{
	if (dst->closing || dst->eof)
		return true;
	return zc_to_out(dst) && out_append(dst, p, n);
}

static void conn_fail_write(Conn *c, int err)
{
	c->eof = true;
	c->err = err;
	c->zc = NULL;
	c->zc_len = 0;
	c->out_pos = c->out_len = 0;
	ev_io_stop(c->loop, &c->wio);
	/* let the owner see it through on_read, outside the current call chain */
	ev_feed_event(c->loop, &c->rio, EV_READ);
}

/*
 * Sends as much of p[0..n) as the kernel takes. Returns the bytes sent, or
 * -1 (errno set) on an error other than "would block".
 */
static ssize_t send_some(int fd, const uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = send(fd, p + done, n - done, MSG_NOSIGNAL);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r == 0)
			errno = EPIPE;
		return -1;
	}
	return (ssize_t)done;
}

FlushResult conn_flush(Conn *c)
{
	ssize_t n;

	if (c->closing || c->eof) {
		c->zc = NULL;
		c->zc_len = 0;
		return FLUSH_ERROR;
	}
	if (c->connecting) {
		/* sent once connected */
		return zc_to_out(c) ? FLUSH_PENDING : FLUSH_ERROR;
	}
	/* invariant: a zero-copy region is pending only while `out` is empty */
	if (c->out_len > c->out_pos) {
		n = send_some(c->fd, c->out + c->out_pos, c->out_len - c->out_pos);
		if (n < 0)
			goto fail;
		if (c->tx_bytes)
			*c->tx_bytes += (uint64_t)n;
		c->out_pos += (size_t)n;
		if (c->out_pos == c->out_len)
			c->out_pos = c->out_len = 0;
	} else if (c->zc_len > 0) {
		n = send_some(c->fd, c->zc, c->zc_len);
		if (n < 0)
			goto fail;
		if (c->tx_bytes)
			*c->tx_bytes += (uint64_t)n;
		c->zc += n;
		c->zc_len -= (size_t)n;
		/* what the kernel did not take must outlive the source buffer */
		if (c->zc_len == 0) {
			c->zc = NULL;
		} else if (!zc_to_out(c)) {
			errno = ENOMEM;
			goto fail;
		}
	}
	if (c->out_len > c->out_pos) {
		ev_io_start(c->loop, &c->wio);
		return FLUSH_PENDING;
	}
	ev_io_stop(c->loop, &c->wio);
	return FLUSH_DONE;
fail:
	conn_fail_write(c, errno);
	return FLUSH_ERROR;
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	Conn *c = container_of(w, Conn, wio);

	(void)loop;
	(void)revents;
	if (c->closing)
		return;
	if (c->connecting) {
		int err = c->err;
		socklen_t len = sizeof(err);
		if (!err && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		ev_io_stop(c->loop, &c->wio);
		c->connecting = false;
		c->err = err;
		if (!err)
			conn_describe_peer(c);
		c->ops->on_connected(c);
		return;
	}
	switch (conn_flush(c)) {
	case FLUSH_DONE:
		if (c->close_after_flush)
			conn_close(c, c->close_reason ? c->close_reason : "closed after flush");
		else if (c->ops->on_drain)
			c->ops->on_drain(c);
		break;
	case FLUSH_PENDING:
		break;
	case FLUSH_ERROR:
		if (c->close_after_flush)
			conn_close(c, c->close_reason ? c->close_reason : "write failed");
		break;
	}
}

void conn_close(Conn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_reason = reason;
	ev_io_stop(c->loop, &c->rio);
	ev_io_stop(c->loop, &c->wio);
	ev_clear_pending(c->loop, &c->rio);
	ev_clear_pending(c->loop, &c->wio);
	c->reading = false;
	list_append(&reap_list, &c->reap_node);
}

void conn_close_after_flush(Conn *c, const char *reason)
{
	if (c->closing)
		return;
	conn_pause_reading(c);
	c->close_reason = reason;
	if (c->connecting || conn_flush(c) != FLUSH_PENDING) {
		conn_close(c, reason);
		return;
	}
	c->close_after_flush = true;
}

void conn_reap(void)
{
	List *n;

	while ((n = listhead_pop(&reap_list)) != NULL) {
		Conn *c = container_of(n, Conn, reap_node);
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		free(c->in);
		free(c->out);
		c->in = c->out = NULL;
		c->ops->on_free(c);
	}
}
