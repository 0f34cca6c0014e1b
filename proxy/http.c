/*
 * http.c - the HTTP/1.x listener behind http.h: parses request heads, calls
 * the handler and writes one response per connection without ever blocking.
 *
 * Ownership: the module owns the one listening socket (HttpServer srv) and
 * every HttpConn on srv.conns; an HttpConn owns its socket, its timer, its
 * request buffer and the HttpBody the handler fills, and is freed by
 * http_conn_close() (on completion, error, timeout or http_stop). The
 * handler's function and argument belong to the caller.
 *
 * Lifetime of a connection: READING (request head, deadline = timeout from
 * accept) -> WRITING (status line, headers and body; deadline = timeout from
 * the first send) -> DRAINING (our side shut down; unread request bytes are
 * discarded for a short while so that closing does not reset the connection
 * before the client has read the response) -> closed.
 */
#include "http.h"

#include "list.h"
#include "log.h"
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HTTP_ACCEPT_BATCH 64		      /* accepts per wakeup */
#define HTTP_DRAIN_MAX (64 * 1024)	      /* bytes discarded after the response */
#define HTTP_DRAIN_TIME (1 * USEC_PER_SEC)    /* at most this long (or the timeout) */
#define HTTP_ACCEPT_PAUSE (100 * USEC_PER_MS) /* after EMFILE and friends */
#define HTTP_WARN_EVERY (60.0)		      /* seconds between "too many" warnings */
#define HTTP_CTYPE_MAX 128		      /* longest Content-Type we pass on */
#define HTTP_DEFAULT_CTYPE "text/plain; charset=utf-8"

/* ---- response bodies ----------------------------------------------------- */

void http_body_init(HttpBody *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void http_body_free(HttpBody *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

/* Makes room for `need` bytes of storage (content plus a NUL for printf). */
static bool http_body_reserve(HttpBody *b, size_t need)
{
	size_t limit = b->max < SIZE_MAX ? b->max + 1 : b->max;
	size_t cap;
	char *p;

	if (need <= b->cap)
		return true;
	if (need > limit)
		goto fail;
	cap = b->cap ? b->cap : 4096;
	if (cap > limit)
		cap = limit;
	while (cap < need)
		cap = cap > limit / 2 ? limit : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		goto fail;
	b->data = p;
	b->cap = cap;
	return true;
fail:
	b->failed = true;
	return false;
}

void http_body_append(HttpBody *b, const void *p, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (b->len > b->max || n > b->max - b->len) {
		b->failed = true;
		return;
	}
	if (!http_body_reserve(b, b->len + n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void http_body_printf(HttpBody *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int r;

	if (b->failed)
		return;
	va_start(ap, fmt);
	r = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (r < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)r < sizeof(small)) {
		http_body_append(b, small, (size_t)r);
		return;
	}
	/* too long for the stack: format straight into the body */
	if (b->len > b->max || (size_t)r > b->max - b->len) {
		b->failed = true;
		return;
	}
	if (!http_body_reserve(b, b->len + (size_t)r + 1))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)r + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)r;
}

/* ---- request parsing ----------------------------------------------------- */

/* RFC 9110 tchar: the characters of a method or a header name. */
static bool http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

static HttpParse http_parse_bad(HttpRequest *req, int status)
{
	req->method[0] = '\0';
	req->path[0] = '\0';
	req->head_len = 0;
	req->status = status;
	return HTTP_PARSE_BAD;
}

/*
 * Ran out of bytes at the scan limit: more may come, unless the limit is
 * HTTP_HEAD_MAX, in which case the head is too long (status says which part).
 */
static HttpParse http_parse_short(HttpRequest *req, size_t len, int status)
{
	if (len >= HTTP_HEAD_MAX)
		return http_parse_bad(req, status);
	return HTTP_PARSE_NEED_MORE;
}

/* A line end at p[*i]: 1 = consumed (CRLF or LF), 0 = out of bytes, -1 = something else. */
static int http_eat_eol(const unsigned char *p, size_t lim, size_t *i)
{
	if (*i >= lim)
		return 0;
	if (p[*i] == '\n') {
		*i += 1;
		return 1;
	}
	if (p[*i] != '\r')
		return -1;
	if (*i + 1 >= lim)
		return 0;
	if (p[*i + 1] != '\n')
		return -1;
	*i += 2;
	return 1;
}

HttpParse http_parse_request(const char *buf, size_t len, HttpRequest *req)
{
	static const char proto[] = "HTTP/";
	const unsigned char *p = (const unsigned char *)buf;
	size_t lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	size_t i = 0, start, plen = 0;
	bool in_query = false;
	int major, minor, r;

	memset(req, 0, sizeof(*req));
	if (buf == NULL)
		lim = len = 0;

	/* method SP */
	while (i < lim && http_is_tchar(p[i]))
		i++;
	if (i >= lim)
		return http_parse_short(req, len, 414);
	if (i == 0 || p[i] != ' ')
		return http_parse_bad(req, 400);
	if (!(i == 3 && memcmp(p, "GET", 3) == 0) && !(i == 4 && memcmp(p, "HEAD", 4) == 0))
		return http_parse_bad(req, 405);
	memcpy(req->method, p, i);
	req->method[i] = '\0';
	i++;

	/* origin-form target SP: the path is kept, the query dropped */
	if (i >= lim)
		return http_parse_short(req, len, 414);
	if (p[i] != '/')
		return http_parse_bad(req, 400);
	for (;; i++) {
		if (i >= lim)
			return http_parse_short(req, len, 414);
		if (p[i] == ' ')
			break;
		if (p[i] < 0x21 || p[i] > 0x7e)
			return http_parse_bad(req, 400);
		if (p[i] == '?')
			in_query = true;
		if (!in_query) {
			if (plen + 1 >= sizeof(req->path))
				return http_parse_bad(req, 414);
			req->path[plen++] = (char)p[i];
		}
	}
	req->path[plen] = '\0';
	i++;

	/* HTTP/<digit>.<digit> line-end */
	for (size_t k = 0; k < sizeof(proto) - 1; k++, i++) {
		if (i >= lim)
			return http_parse_short(req, len, 414);
		if (p[i] != (unsigned char)proto[k])
			return http_parse_bad(req, 400);
	}
	for (size_t k = 0; k < 3; k++) {
		if (i + k >= lim)
			return http_parse_short(req, len, 414);
		if (k == 1 ? p[i + k] != '.' : (p[i + k] < '0' || p[i + k] > '9'))
			return http_parse_bad(req, 400);
	}
	major = p[i] - '0';
	minor = p[i + 2] - '0';
	i += 3;
	r = http_eat_eol(p, lim, &i);
	if (r == 0)
		return http_parse_short(req, len, 414);
	if (r < 0)
		return http_parse_bad(req, 400);
	if (major != 1)
		return http_parse_bad(req, 505);
	req->minor = minor;

	/* header lines (name ":" value), then the empty line */
	for (;;) {
		if (i >= lim)
			return http_parse_short(req, len, 431);
		if (p[i] == '\r' || p[i] == '\n') {
			r = http_eat_eol(p, lim, &i);
			if (r == 0)
				return http_parse_short(req, len, 431);
			if (r < 0)
				return http_parse_bad(req, 400);
			req->head_len = i;
			return HTTP_PARSE_OK;
		}
		/* no whitespace before the colon, no obs-fold continuation lines */
		start = i;
		while (i < lim && http_is_tchar(p[i]))
			i++;
		if (i >= lim)
			return http_parse_short(req, len, 431);
		if (i == start || p[i] != ':')
			return http_parse_bad(req, 400);
		i++;
		/* value: HTAB, SP, visible ASCII and obs-text; no other control bytes */
		while (i < lim && (p[i] == '\t' || (p[i] >= 0x20 && p[i] != 0x7f)))
			i++;
		r = http_eat_eol(p, lim, &i);
		if (r == 0)
			return http_parse_short(req, len, 431);
		if (r < 0)
			return http_parse_bad(req, 400);
	}
}

/* ---- server -------------------------------------------------------------- */

typedef enum HttpConnState { HTTP_READING, HTTP_WRITING, HTTP_DRAINING } HttpConnState;

typedef struct HttpConn {
	List node; /* on srv.conns */
	int fd;
	HttpConnState state;
	ev_io io;
	ev_timer timer;
	size_t in_len;
	size_t drained;
	HttpBody body;
	size_t head_len, head_off;  /* status line and headers in head[] */
	size_t body_off, body_send; /* body_send: 0 for HEAD */
	char head[512];
	char in[HTTP_HEAD_MAX];
} HttpConn;

typedef struct HttpServer {
	struct ev_loop *loop; /* NULL when stopped */
	int fd;
	int port;
	ev_io io;
	ev_timer pause;
	HttpHandler fn;
	void *arg;
	ListHead conns;
	ev_tstamp last_warn;
} HttpServer;

static HttpServer srv = {.fd = -1, .port = -1};
static usec_t http_timeout = HTTP_TIMEOUT;

void http_set_timeout(usec_t t)
{
	http_timeout = t > 0 ? t : HTTP_TIMEOUT;
}

int http_port(void)
{
	return srv.loop ? srv.port : -1;
}

size_t http_conn_count(void)
{
	return srv.loop ? srv.conns.count : 0;
}

static ev_tstamp http_secs(usec_t t)
{
	return (ev_tstamp)t / (ev_tstamp)USEC_PER_SEC;
}

static const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Status";
	}
}

/* A handler's content type, if it is short printable ASCII; the default otherwise. */
static const char *http_check_ctype(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return HTTP_DEFAULT_CTYPE;
	for (n = 0; ct[n] != '\0'; n++) {
		if (n >= HTTP_CTYPE_MAX || (unsigned char)ct[n] < 0x20 ||
		    (unsigned char)ct[n] > 0x7e)
			return HTTP_DEFAULT_CTYPE;
	}
	return n ? ct : HTTP_DEFAULT_CTYPE;
}

static void http_conn_close(HttpConn *c)
{
	ev_io_stop(srv.loop, &c->io);
	ev_timer_stop(srv.loop, &c->timer);
	close(c->fd);
	list_remove(&srv.conns, &c->node);
	http_body_free(&c->body);
	free(c);
}

static void http_conn_arm(HttpConn *c, HttpConnState state, int events, usec_t limit)
{
	c->state = state;
	ev_io_stop(srv.loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(srv.loop, &c->io);
	ev_timer_stop(srv.loop, &c->timer);
	ev_timer_set(&c->timer, http_secs(limit), 0.);
	ev_timer_start(srv.loop, &c->timer);
}

/* Response sent: shut our side, then discard what the client still sends. */
static void http_conn_drain(HttpConn *c)
{
	usec_t t = http_timeout < HTTP_DRAIN_TIME ? http_timeout : HTTP_DRAIN_TIME;

	http_body_free(&c->body);
	if (shutdown(c->fd, SHUT_WR) < 0) {
		http_conn_close(c);
		return;
	}
	c->drained = 0;
	http_conn_arm(c, HTTP_DRAINING, EV_READ, t);
}

/* Sends what is left; false when the connection was closed (done or failed). */
static bool http_conn_send(HttpConn *c)
{
	while (c->head_off < c->head_len || c->body_off < c->body_send) {
		struct iovec iov[2];
		struct msghdr mh;
		size_t n = 0, w;
		ssize_t r;

		if (c->head_off < c->head_len) {
			iov[n].iov_base = c->head + c->head_off;
			iov[n++].iov_len = c->head_len - c->head_off;
		}
		if (c->body_off < c->body_send) {
			iov[n].iov_base = c->body.data + c->body_off;
			iov[n++].iov_len = c->body_send - c->body_off;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = n;
		r = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			log_debug("http: send: %s", strerror(errno));
			http_conn_close(c);
			return false;
		}
		w = (size_t)r;
		if (c->head_off < c->head_len) {
			size_t h = c->head_len - c->head_off;
			h = w < h ? w : h;
			c->head_off += h;
			w -= h;
		}
		c->body_off += w;
	}
	http_conn_drain(c);
	return false;
}

/* Builds the response to a parsed (or rejected) request and starts sending it. */
static void http_conn_respond(HttpConn *c, HttpParse res, const HttpRequest *req)
{
	const char *ctype = NULL;
	bool head_only = false;
	int status, n;

	if (res == HTTP_PARSE_OK) {
		head_only = strcmp(req->method, "HEAD") == 0;
		status = srv.fn(req->path, &c->body, &ctype, srv.arg);
		if (c->body.failed) {
			log_warning("http: response to %s is larger than %zu bytes or out of "
				    "memory",
				    req->path, c->body.max);
			status = 500;
		} else if (status < 200 || status > 599) {
			log_warning("http: handler returned status %d for %s", status, req->path);
			status = 500;
		}
		if (status == 500 && (c->body.failed || c->body.len == 0)) {
			http_body_free(&c->body);
			ctype = NULL;
			http_body_printf(&c->body, "%s\n", http_reason(status));
		}
	} else {
		status = req->status;
		log_debug("http: rejected request (%d)", status);
		http_body_printf(&c->body, "%s\n", http_reason(status));
	}
	ctype = http_check_ctype(ctype);
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Cache-Control: no-store\r\n"
		     "Connection: close\r\n"
		     "\r\n",
		     status, http_reason(status), ctype, c->body.len,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "");
	/* cannot happen: reason and content type are bounded */
	Assert(n > 0 && (size_t)n < sizeof(c->head));
	c->head_len = (size_t)n;
	c->head_off = c->body_off = 0;
	c->body_send = head_only ? 0 : c->body.len;

	http_conn_arm(c, HTTP_WRITING, EV_WRITE, http_timeout);
	(void)http_conn_send(c);
}

static void http_conn_read(HttpConn *c)
{
	HttpRequest req;
	HttpParse res;
	ssize_t r;

	r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		log_debug("http: recv: %s", strerror(errno));
		http_conn_close(c);
		return;
	}
	if (r == 0) {
		/* the client gave up before finishing its request */
		http_conn_close(c);
		return;
	}
	c->in_len += (size_t)r;
	res = http_parse_request(c->in, c->in_len, &req);
	if (res == HTTP_PARSE_NEED_MORE) {
		if (c->in_len < sizeof(c->in))
			return;
		/* cannot happen: a full buffer is always judged */
		res = HTTP_PARSE_BAD;
		req.status = 431;
	}
	http_conn_respond(c, res, &req);
}

static void http_conn_discard(HttpConn *c)
{
	ssize_t r = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);

	if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r > 0) {
		c->drained += (size_t)r;
		if (c->drained <= HTTP_DRAIN_MAX)
			return;
	}
	http_conn_close(c);
}

static void http_conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	HttpConn *c = container_of(w, HttpConn, io);

	(void)loop;
	(void)revents;
	switch (c->state) {
	case HTTP_READING:
		http_conn_read(c);
		break;
	case HTTP_WRITING:
		(void)http_conn_send(c);
		break;
	case HTTP_DRAINING:
		http_conn_discard(c);
		break;
	}
}

static void http_conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	HttpConn *c = container_of(w, HttpConn, timer);
	static const char *const what[] = {
	    [HTTP_READING] = "reading the request",
	    [HTTP_WRITING] = "writing the response",
	    [HTTP_DRAINING] = "closing",
	};

	(void)loop;
	(void)revents;
	if (c->state != HTTP_DRAINING)
		log_debug("http: connection timed out %s", what[c->state]);
	http_conn_close(c);
}

/* Rate limit for the warnings about refused connections. */
static bool http_warn_due(void)
{
	ev_tstamp now = ev_now(srv.loop);

	if (srv.last_warn != 0 && now - srv.last_warn < HTTP_WARN_EVERY)
		return false;
	srv.last_warn = now;
	return true;
}

static void http_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)w;
	(void)revents;
	for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		HttpConn *c;
		int fd = accept4(srv.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* EMFILE, ENFILE, ENOBUFS...: back off instead of spinning */
			if (http_warn_due())
				log_warning("http: accept: %s", strerror(errno));
			ev_io_stop(loop, &srv.io);
			ev_timer_set(&srv.pause, http_secs(HTTP_ACCEPT_PAUSE), 0.);
			ev_timer_start(loop, &srv.pause);
			return;
		}
		if (srv.conns.count >= HTTP_MAX_CONNS) {
			if (http_warn_due())
				log_warning("http: %d connections open, closing new ones",
					    HTTP_MAX_CONNS);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		list_init(&c->node);
		list_append(&srv.conns, &c->node);
		http_body_init(&c->body, HTTP_BODY_MAX);
		ev_io_init(&c->io, http_conn_io_cb, fd, EV_READ);
		ev_timer_init(&c->timer, http_conn_timer_cb, 0., 0.);
		http_conn_arm(c, HTTP_READING, EV_READ, http_timeout);
	}
}

static void http_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(loop, &srv.io);
}

static int http_bind(const char *addr, int port, char *err, size_t errlen)
{
	return sock_listen(addr, port, 128, "HTTP", err, errlen);
}

/* The port the kernel gave fd (the asked one, or a free one for port 0). */
static int http_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

bool http_start(struct ev_loop *loop, const char *addr, int port, HttpHandler fn, void *arg,
		char *err, size_t errlen)
{
	int fd;

	if (srv.loop != NULL) {
		snprintf(err, errlen, "the HTTP server is already running");
		return false;
	}
	if (addr == NULL || fn == NULL || port < 0 || port > 65535) {
		snprintf(err, errlen, "invalid HTTP listen address or port %d", port);
		return false;
	}
	fd = http_bind(addr, port, err, errlen);
	if (fd < 0)
		return false;
	srv.loop = loop;
	srv.fd = fd;
	srv.port = http_bound_port(fd);
	srv.fn = fn;
	srv.arg = arg;
	srv.last_warn = 0;
	listhead_init(&srv.conns);
	ev_io_init(&srv.io, http_accept_cb, fd, EV_READ);
	ev_io_start(loop, &srv.io);
	ev_timer_init(&srv.pause, http_pause_cb, 0., 0.);
	log_info("serving HTTP on %s:%d", addr, srv.port);
	return true;
}

void http_stop(void)
{
	List *n;

	if (srv.loop == NULL)
		return;
	while ((n = listhead_first(&srv.conns)) != NULL)
		http_conn_close(container_of(n, HttpConn, node));
	ev_io_stop(srv.loop, &srv.io);
	ev_timer_stop(srv.loop, &srv.pause);
	close(srv.fd);
	srv.fd = -1;
	srv.port = -1;
	srv.loop = NULL;
}
