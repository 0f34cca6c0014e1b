/*
 * test_http.c - unit tests for proxy/http.c: the request-head parser (a
 * table of accepted, rejected and incomplete heads, prefixes of each, the
 * size limits), the growable response body, and the live server on
 * 127.0.0.1 with an ephemeral port: responses from a test handler (200, 404,
 * 503, HEAD, 405, 400, a body larger than the socket buffers, an oversized
 * body, a bad content type), requests arriving byte by byte, slow and silent
 * clients timing out, the connection cap, and http_stop.
 *
 * The live tests run the server's ev loop and the client in one thread: the
 * client's socket is blocking for connect/send (loopback, small requests),
 * and reading steps the loop with EVRUN_NOWAIT between polls. Every loop is
 * bounded by a deadline.
 */
#include "http.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- parser --------------------------------------------------------------- */

typedef struct ParseCase {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	HttpParse want;
	int status;	    /* on BAD */
	const char *method; /* on OK */
	const char *path;   /* on OK */
	int minor;	    /* on OK */
	size_t head_len;    /* on OK; 0: the whole input */
} ParseCase;

#define OK(n, s, m, p, v)                                                                          \
	{                                                                                          \
		n, s, 0, HTTP_PARSE_OK, 0, m, p, v, 0                                              \
	}
#define BAD(n, s, st)                                                                              \
	{                                                                                          \
		n, s, 0, HTTP_PARSE_BAD, st, NULL, NULL, 0, 0                                      \
	}
#define BADN(n, s, st)                                                                             \
	{                                                                                          \
		n, s, sizeof(s) - 1, HTTP_PARSE_BAD, st, NULL, NULL, 0, 0                          \
	}
#define MORE(n, s)                                                                                 \
	{                                                                                          \
		n, s, 0, HTTP_PARSE_NEED_MORE, 0, NULL, NULL, 0, 0                                 \
	}

static const ParseCase parse_cases[] = {
    OK("simple GET", "GET /metrics HTTP/1.1\r\nHost: localhost:9187\r\n\r\n", "GET", "/metrics", 1),
    OK("HTTP/1.0 without headers", "GET /metrics HTTP/1.0\r\n\r\n", "GET", "/metrics", 0),
    OK("HEAD", "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD", "/health", 1),
    OK("root", "GET / HTTP/1.1\r\n\r\n", "GET", "/", 1),
    OK("query stripped", "GET /metrics?name[]=up&x=%20 HTTP/1.1\r\n\r\n", "GET", "/metrics", 1),
    OK("empty query", "GET /health? HTTP/1.1\r\n\r\n", "GET", "/health", 1),
    OK("query only", "GET /?/a/b HTTP/1.1\r\n\r\n", "GET", "/", 1),
    OK("percent passed through", "GET /a%2Fb HTTP/1.1\r\n\r\n", "GET", "/a%2Fb", 1),
    OK("bare LF", "GET /metrics HTTP/1.1\nHost: x\nAccept: */*\n\n", "GET", "/metrics", 1),
    OK("mixed line ends", "GET /x HTTP/1.0\r\nA: b\n\r\n", "GET", "/x", 0),
    OK("several headers",
       "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Prometheus/2.45\r\n"
       "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n"
       "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
       "GET", "/metrics", 1),
    OK("empty header value", "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", "GET", "/", 1),
    OK("tab and obs-text in value", "GET / HTTP/1.1\r\nX: \ta\xe9\xff b\t\r\n\r\n", "GET", "/", 1),
    OK("higher minor version", "GET / HTTP/1.9\r\n\r\n", "GET", "/", 9),
    {"bytes after the head", "GET / HTTP/1.1\r\n\r\nbody bytes", 0, HTTP_PARSE_OK, 0, "GET", "/", 1,
     18},
    {"pipelined request", "GET /a HTTP/1.1\n\nGET /b HTTP/1.1\n\n", 0, HTTP_PARSE_OK, 0, "GET",
     "/a", 1, 17},

    BAD("missing version", "GET /metrics\r\n\r\n", 400),
    BAD("HTTP/0.9 request", "GET /\r\n", 400),
    BAD("HTTP/2.0", "GET /metrics HTTP/2.0\r\n\r\n", 505),
    BAD("HTTP/0.9 version", "GET / HTTP/0.9\r\n\r\n", 505),
    BAD("HTTP/3.0 with bare LF", "GET / HTTP/3.0\n\n", 505),
    BAD("two-digit minor", "GET / HTTP/1.10\r\n\r\n", 400),
    BAD("no minor", "GET / HTTP/2\r\n\r\n", 400),
    BAD("lower-case protocol", "GET / http/1.1\r\n\r\n", 400),
    BAD("space after version", "GET / HTTP/1.1 \r\n\r\n", 400),
    BAD("POST", "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405),
    BAD("PUT", "PUT / HTTP/1.1\r\n\r\n", 405),
    BAD("OPTIONS *", "OPTIONS * HTTP/1.1\r\n\r\n", 405),
    BAD("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 405),
    BAD("methods are case-sensitive", "get / HTTP/1.1\r\n\r\n", 405),
    BAD("405 even when the rest is bad", "DELETE \x01", 405),
    BAD("GET prefix", "GETS / HTTP/1.1\r\n\r\n", 405),
    BAD("empty method", " / HTTP/1.1\r\n\r\n", 400),
    BAD("method then CR", "GET\r\n\r\n", 400),
    BAD("tab separator", "GET\t/ HTTP/1.1\r\n\r\n", 400),
    BAD("two spaces", "GET  / HTTP/1.1\r\n\r\n", 400),
    BAD("relative target", "GET metrics HTTP/1.1\r\n\r\n", 400),
    BAD("absolute-form", "GET http://h/metrics HTTP/1.1\r\n\r\n", 400),
    BAD("asterisk-form", "GET * HTTP/1.1\r\n\r\n", 400),
    BAD("DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", 400),
    BAD("high byte in target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
    BAD("high byte in query", "GET /?\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
    BAD("bare CR", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400),
    BAD("bare CR at the end", "GET / HTTP/1.1\r\n\rx", 400),
    BAD("leading empty line", "\r\nGET / HTTP/1.1\r\n\r\n", 400),
    BAD("space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    BAD("obs-fold", "GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n", 400),
    BAD("header without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400),
    BAD("empty header name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400),
    BAD("control byte in value", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400),
    BAD("DEL in value", "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n", 400),
    BADN("NUL in method", "GE\0T / HTTP/1.1\r\n\r\n", 400),
    BADN("NUL in path", "GET /me\0trics HTTP/1.1\r\n\r\n", 400),
    BADN("NUL in query", "GET /m?\0 HTTP/1.1\r\n\r\n", 400),
    BADN("NUL in version", "GET / HTTP/1\0.1\r\n\r\n", 400),
    BADN("NUL in header name", "GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n", 400),
    BADN("NUL in header value", "GET / HTTP/1.1\r\nHost: \0\r\n\r\n", 400),
    BADN("NUL as a line", "GET / HTTP/1.1\r\n\0\r\n\r\n", 400),

    MORE("empty", ""),
    MORE("part of the method", "GE"),
    MORE("method only", "GET"),
    MORE("method and space", "HEAD "),
    MORE("part of the path", "GET /metr"),
    MORE("part of the version", "GET /metrics HTTP/1."),
    MORE("version without line end", "GET /metrics HTTP/1.1"),
    MORE("CR of the request line", "GET /metrics HTTP/1.1\r"),
    MORE("request line only", "GET /metrics HTTP/1.1\r\n"),
    MORE("a header", "GET /metrics HTTP/1.1\r\nHost: x\r\n"),
    MORE("part of a header", "GET /metrics HTTP/1.1\r\nHo"),
    MORE("CR of the empty line", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r"),
};

static size_t case_len(const ParseCase *c)
{
	return c->len ? c->len : strlen(c->in);
}

static void check_result(const ParseCase *c, const char *in, size_t len)
{
	HttpRequest req;
	HttpParse got;

	memset(&req, 0x5a, sizeof(req));
	got = http_parse_request(in, len, &req);
	cr_assert_eq(got, c->want, "%s: result %d, want %d", c->name, got, c->want);
	if (got == HTTP_PARSE_BAD)
		cr_assert_eq(req.status, c->status, "%s: status %d, want %d", c->name, req.status,
			     c->status);
	if (got == HTTP_PARSE_OK) {
		size_t want_head = c->head_len ? c->head_len : len;

		cr_assert_str_eq(req.method, c->method, "%s", c->name);
		cr_assert_str_eq(req.path, c->path, "%s", c->name);
		cr_assert_eq(req.minor, c->minor, "%s", c->name);
		cr_assert_eq(req.head_len, want_head, "%s: head_len %zu, want %zu", c->name,
			     req.head_len, want_head);
	}
}

Test(http_parse, table)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++)
		check_result(&parse_cases[i], parse_cases[i].in, case_len(&parse_cases[i]));
}

/* Any prefix parses to NEED_MORE or to the same result as the whole input. */
Test(http_parse, prefixes)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const ParseCase *c = &parse_cases[i];
		size_t len = case_len(c);

		for (size_t k = 0; k < len; k++) {
			HttpRequest req;
			HttpParse got = http_parse_request(c->in, k, &req);

			if (got == HTTP_PARSE_NEED_MORE)
				continue;
			check_result(c, c->in, k);
		}
		/* a complete head is never judged before its last byte */
		if (c->want == HTTP_PARSE_OK) {
			HttpRequest req;
			size_t head = c->head_len ? c->head_len : len;

			cr_assert_eq(http_parse_request(c->in, head - 1, &req),
				     HTTP_PARSE_NEED_MORE, "%s", c->name);
		}
	}
}

Test(http_parse, null_buffer)
{
	HttpRequest req;

	cr_assert_eq(http_parse_request(NULL, 0, &req), HTTP_PARSE_NEED_MORE);
}

/* Builds "GET <target> HTTP/1.1\r\n" + nhdr bytes of headers + "\r\n" in a malloc'd buffer. */
static char *make_request(size_t path_len, size_t query_len, size_t hdr_len, size_t *len)
{
	size_t cap = 64 + path_len + query_len + hdr_len, n = 0;
	char *s = malloc(cap);

	cr_assert_not_null(s);
	n += (size_t)sprintf(s + n, "GET /");
	memset(s + n, 'p', path_len);
	n += path_len;
	if (query_len) {
		s[n++] = '?';
		memset(s + n, 'q', query_len);
		n += query_len;
	}
	n += (size_t)sprintf(s + n, " HTTP/1.1\r\n");
	if (hdr_len) {
		cr_assert_geq(hdr_len, 5);
		memcpy(s + n, "X: ", 3);
		memset(s + n + 3, 'v', hdr_len - 5);
		memcpy(s + n + hdr_len - 2, "\r\n", 2);
		n += hdr_len;
	}
	memcpy(s + n, "\r\n", 2);
	n += 2;
	*len = n;
	return s;
}

Test(http_parse, limits)
{
	HttpRequest req;
	size_t len, line;
	char *s;

	/* the longest path: HTTP_PATH_MAX - 1 bytes with the '/' */
	s = make_request(HTTP_PATH_MAX - 2, 0, 0, &len);
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_OK);
	cr_assert_eq(strlen(req.path), HTTP_PATH_MAX - 1);
	free(s);
	s = make_request(HTTP_PATH_MAX - 1, 0, 0, &len);
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_BAD);
	cr_assert_eq(req.status, 414);
	free(s);

	/* a long query is fine while the head fits */
	s = make_request(7, 4000, 0, &len);
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_OK);
	cr_assert_str_eq(req.path, "/ppppppp");
	free(s);

	/* a request line that does not fit: 414, already from the first HTTP_HEAD_MAX bytes */
	s = make_request(7, HTTP_HEAD_MAX, 0, &len);
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_BAD);
	cr_assert_eq(req.status, 414);
	cr_assert_eq(http_parse_request(s, HTTP_HEAD_MAX, &req), HTTP_PARSE_BAD);
	cr_assert_eq(req.status, 414);
	cr_assert_eq(http_parse_request(s, HTTP_HEAD_MAX - 1, &req), HTTP_PARSE_NEED_MORE);
	free(s);

	/* a head of exactly HTTP_HEAD_MAX bytes is accepted, one more byte is 431 */
	line = strlen("GET /p HTTP/1.1\r\n");
	s = make_request(1, 0, HTTP_HEAD_MAX - line - 2, &len);
	cr_assert_eq(len, HTTP_HEAD_MAX);
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_OK);
	cr_assert_eq(req.head_len, HTTP_HEAD_MAX);
	free(s);
	s = make_request(1, 0, HTTP_HEAD_MAX - line - 1, &len);
	cr_assert_eq(len, HTTP_HEAD_MAX + 1);
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_BAD);
	cr_assert_eq(req.status, 431);
	cr_assert_eq(http_parse_request(s, HTTP_HEAD_MAX, &req), HTTP_PARSE_BAD);
	cr_assert_eq(req.status, 431);
	free(s);

	/* many short headers */
	s = malloc(HTTP_HEAD_MAX * 2);
	cr_assert_not_null(s);
	len = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
	while (len < HTTP_HEAD_MAX + 10)
		len += (size_t)sprintf(s + len, "A: b\r\n");
	cr_assert_eq(http_parse_request(s, len, &req), HTTP_PARSE_BAD);
	cr_assert_eq(req.status, 431);
	free(s);
}

/* ---- response bodies ------------------------------------------------------ */

Test(http_body, append_and_printf)
{
	HttpBody b;
	char big[1000];

	http_body_init(&b, 1 << 20);
	http_body_append(&b, "abc", 3);
	http_body_append(&b, NULL, 0);
	http_body_printf(&b, "%d-%s", 42, "x");
	cr_assert_eq(b.len, 7);
	cr_assert(memcmp(b.data, "abc42-x", 7) == 0);

	/* longer than the printf stack buffer */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	http_body_printf(&b, "[%s]", big);
	cr_assert_eq(b.len, 7 + 2 + sizeof(big) - 1);
	cr_assert_eq(b.data[7], '[');
	cr_assert_eq(b.data[b.len - 1], ']');
	cr_assert_not(b.failed);

	/* growth across many reallocations keeps the content */
	for (int i = 0; i < 20000; i++)
		http_body_printf(&b, "%05d\n", i);
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 7 + 2 + 999 + 20000 * 6);
	cr_assert(memcmp(b.data + b.len - 6, "19999\n", 6) == 0);
	cr_assert_leq(b.len, b.cap);
	http_body_free(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
}

Test(http_body, cap_is_sticky)
{
	HttpBody b;
	char chunk[100];

	memset(chunk, 'c', sizeof(chunk));
	http_body_init(&b, 250);
	http_body_append(&b, chunk, 100);
	http_body_append(&b, chunk, 100);
	http_body_append(&b, chunk, 50); /* exactly full */
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 250);
	http_body_append(&b, chunk, 1);
	cr_assert(b.failed);
	cr_assert_eq(b.len, 250);
	/* sticky: even what would fit is refused */
	http_body_free(&b);
	http_body_init(&b, 250);
	http_body_append(&b, chunk, 100);
	http_body_printf(&b, "%0200d", 1);
	cr_assert(b.failed);
	http_body_append(&b, "x", 1);
	cr_assert_eq(b.len, 100);

	/* printf that exactly fills the cap (its NUL does not count) */
	http_body_free(&b);
	http_body_init(&b, 300);
	http_body_printf(&b, "%0300d", 7);
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 300);
	cr_assert_eq(b.data[299], '7');
	http_body_free(&b);
}

/* ---- live server ---------------------------------------------------------- */

#define BIG_LEN (3u << 20)

static const char big_req[] = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";

static struct ev_loop *loop;
static int calls;
static char last_path[HTTP_PATH_MAX];

static int test_handler(const char *path, HttpBody *body, const char **ctype, void *arg)
{
	cr_assert_eq(arg, &calls);
	calls++;
	snprintf(last_path, sizeof(last_path), "%s", path);
	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		http_body_printf(body, "pgrelay_up %d\n", 1);
		return 200;
	}
	if (strcmp(path, "/health") == 0) {
		http_body_printf(body, "down\n");
		return 503;
	}
	if (strcmp(path, "/big") == 0) {
		char chunk[4096];

		for (size_t i = 0; i < BIG_LEN / sizeof(chunk); i++) {
			for (size_t j = 0; j < sizeof(chunk); j++)
				chunk[j] = (char)('a' + (i + j) % 26);
			http_body_append(body, chunk, sizeof(chunk));
		}
		return 200;
	}
	if (strcmp(path, "/huge") == 0) {
		for (int i = 0; i < 5000; i++)
			http_body_printf(body, "%01000d", i);
		return 200;
	}
	if (strcmp(path, "/ctype") == 0) {
		*ctype = "text/plain\r\nX-Injected: 1";
		http_body_printf(body, "x");
		return 200;
	}
	if (strcmp(path, "/status") == 0)
		return 42;
	http_body_printf(body, "no such page: %s\n", path);
	return 404;
}

static void server_up(void)
{
	char err[256] = "";

	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	calls = 0;
	cr_assert(http_start(loop, "127.0.0.1", 0, test_handler, &calls, err, sizeof(err)), "%s",
		  err);
	cr_assert_gt(http_port(), 0);
}

static void server_down(void)
{
	http_stop();
	cr_assert_eq(http_port(), -1);
	ev_loop_destroy(loop);
	loop = NULL;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A blocking client socket connected to the server; rcvbuf > 0 shrinks its receive buffer. */
static int client_connect_rcvbuf(int rcvbuf)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	if (rcvbuf > 0)
		cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)http_port());
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static int client_connect(void)
{
	return client_connect_rcvbuf(0);
}

static void client_send(int fd, const char *s, size_t n)
{
	cr_assert_eq(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Steps the loop for about `secs`. */
static void spin(double secs)
{
	double end = now_sec() + secs;

	for (int i = 0; i < 100000 && now_sec() < end; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		(void)poll(NULL, 0, 1);
	}
}

/* Steps the loop until the server has n connections open (or 2 s pass). */
static void spin_until_conns(size_t n)
{
	double end = now_sec() + 2.0;

	for (int i = 0; i < 100000 && now_sec() < end && http_conn_count() != n; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		(void)poll(NULL, 0, 1);
	}
	cr_assert_eq(http_conn_count(), n);
}

/*
 * Reads from fd, stepping the server's loop, until EOF or `secs` pass.
 * Returns the bytes read (NUL-terminated in out) and sets *eof.
 */
static size_t client_read_all(int fd, char *out, size_t cap, double secs, bool *eof)
{
	double end = now_sec() + secs;
	size_t n = 0;

	*eof = false;
	for (int i = 0; i < 1000000 && now_sec() < end; i++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;

		ev_run(loop, EVRUN_NOWAIT);
		if (poll(&pfd, 1, 1) <= 0)
			continue;
		r = recv(fd, out + n, cap - 1 - n, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			*eof = true;
			break;
		}
		if (r < 0) {
			cr_assert(errno == EAGAIN || errno == EINTR, "recv: %s", strerror(errno));
			continue;
		}
		n += (size_t)r;
		cr_assert_lt(n, cap - 1, "response larger than expected");
	}
	out[n] = '\0';
	return n;
}

typedef struct Response {
	int status;
	char head[1024];
	const char *body;
	size_t body_len;
	long content_length;
} Response;

/* Sends req on a new connection and parses the response (the whole of it must arrive). */
static void exchange(const char *req, size_t req_len, char *buf, size_t cap, Response *res)
{
	int fd = client_connect();
	const char *end, *cl;
	bool eof;
	size_t n;

	client_send(fd, req, req_len);
	n = client_read_all(fd, buf, cap, 5.0, &eof);
	close(fd);
	cr_assert(eof, "the server did not close the connection");
	cr_assert_gt(n, 0);
	cr_assert_eq(sscanf(buf, "HTTP/1.1 %d ", &res->status), 1, "status line: %.40s", buf);
	end = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(end);
	cr_assert_lt((size_t)(end - buf), sizeof(res->head));
	memcpy(res->head, buf, (size_t)(end - buf) + 2);
	res->head[end - buf + 2] = '\0';
	res->body = end + 4;
	res->body_len = n - (size_t)(res->body - buf);
	cl = strstr(res->head, "\r\nContent-Length: ");
	cr_assert_not_null(cl);
	res->content_length = strtol(cl + 18, NULL, 10);
	cr_assert_not_null(strstr(res->head, "\r\nConnection: close\r\n"));
	cr_assert_not_null(strstr(res->head, "\r\nContent-Type: "));
}

static void get(const char *req, Response *res, char *buf, size_t cap)
{
	exchange(req, strlen(req), buf, cap, res);
}

Test(http_live, metrics_http10)
{
	char buf[4096];
	Response r;

	server_up();
	get("GET /metrics HTTP/1.0\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 200);
	cr_assert(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
	cr_assert_not_null(
	    strstr(r.head, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	cr_assert_eq(r.content_length, 13);
	cr_assert_eq(r.body_len, 13);
	cr_assert(memcmp(r.body, "pgrelay_up 1\n", 13) == 0);
	cr_assert_eq(calls, 1);
	spin_until_conns(0);
	server_down();
}

Test(http_live, statuses_and_methods)
{
	char buf[4096];
	Response r;

	server_up();

	get("GET /nope?secret=1 HTTP/1.1\r\nHost: x\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 404);
	cr_assert(strncmp(buf, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	cr_assert_str_eq(last_path, "/nope");
	cr_assert_eq(r.body_len, strlen("no such page: /nope\n"));
	cr_assert_eq(r.content_length, (long)r.body_len);

	get("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 503);
	cr_assert_not_null(strstr(r.head, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	cr_assert_eq(r.body_len, 5);

	/* HEAD: the GET headers, no body */
	get("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.content_length, 13);
	cr_assert_eq(r.body_len, 0);

	/* the handler never sees these */
	calls = 0;
	get("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 405);
	cr_assert_not_null(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"));
	get("GET /metrics HTTP/2.0\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 505);
	get("\x16\x03\x01\x02\xfc\x03\x03", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 400);
	cr_assert_eq(r.content_length, (long)r.body_len);
	cr_assert_eq(calls, 0);

	/* a bad status or content type from the handler */
	get("GET /status HTTP/1.0\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 500);
	get("GET /ctype HTTP/1.0\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 200);
	cr_assert_null(strstr(r.head, "X-Injected"));
	cr_assert_not_null(strstr(r.head, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));

	spin_until_conns(0);
	server_down();
}

Test(http_live, big_body)
{
	size_t cap = BIG_LEN + 4096;
	char *buf = malloc(cap);
	Response r;

	cr_assert_not_null(buf);
	server_up();
	get("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", &r, buf, cap);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.content_length, (long)BIG_LEN);
	cr_assert_eq(r.body_len, BIG_LEN);
	for (size_t k = 0; k < BIG_LEN; k += 4093) {
		size_t i = k / 4096, j = k % 4096;

		cr_assert_eq(r.body[k], (char)('a' + (i + j) % 26), "byte %zu", k);
	}

	/* over HTTP_BODY_MAX: 500, not a truncated body */
	get("GET /huge HTTP/1.1\r\nHost: x\r\n\r\n", &r, buf, cap);
	cr_assert_eq(r.status, 500);
	cr_assert_lt(r.body_len, 100);
	cr_assert_eq(r.content_length, (long)r.body_len);

	spin_until_conns(0);
	server_down();
	free(buf);
}

/*
 * A client with a small receive buffer that does not read at first: the
 * server must wait for the socket to drain (write watcher) without blocking
 * the loop, and finish once the client reads.
 */
Test(http_live, slow_reader)
{
	size_t cap = BIG_LEN + 4096;
	char *buf = malloc(cap);
	const char *body;
	bool eof;
	size_t n;
	int fd;

	cr_assert_not_null(buf);
	server_up();
	fd = client_connect_rcvbuf(4096);
	client_send(fd, big_req, strlen(big_req));
	spin(0.1);
	cr_assert_eq(calls, 1);
	cr_assert_eq(http_conn_count(), 1, "the whole body went out at once");
	n = client_read_all(fd, buf, cap, 10.0, &eof);
	close(fd);
	cr_assert(eof);
	body = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(body);
	body += 4;
	cr_assert_eq(n - (size_t)(body - buf), BIG_LEN);
	for (size_t k = 0; k < BIG_LEN; k += 4093)
		cr_assert_eq(body[k], (char)('a' + (k / 4096 + k % 4096) % 26), "byte %zu", k);
	spin_until_conns(0);
	server_down();
	free(buf);
}

/* A client that stops reading is closed once the write time limit passes. */
Test(http_live, write_timeout)
{
	double t0, dt;
	int fd;

	http_set_timeout(200 * USEC_PER_MS);
	server_up();
	fd = client_connect_rcvbuf(4096);
	client_send(fd, big_req, strlen(big_req));
	spin_until_conns(1);
	t0 = now_sec();
	spin(0.1);
	cr_assert_eq(calls, 1);
	cr_assert_eq(http_conn_count(), 1);
	spin_until_conns(0);
	dt = now_sec() - t0;
	cr_assert_geq(dt, 0.1, "closed after %.3f s", dt);
	close(fd);
	server_down();
	http_set_timeout(0);
}

/* The request arrives a byte at a time with the loop running in between. */
Test(http_live, byte_by_byte)
{
	static const char req[] = "GET /metrics?x=y HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char buf[4096];
	bool eof;
	size_t n;
	int fd;

	server_up();
	fd = client_connect();
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		client_send(fd, req + i, 1);
		spin(0.002);
	}
	n = client_read_all(fd, buf, sizeof(buf), 5.0, &eof);
	close(fd);
	cr_assert(eof);
	cr_assert_gt(n, 17);
	cr_assert(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
	cr_assert_str_eq(last_path, "/metrics");
	spin_until_conns(0);
	server_down();
}

/* A client that never finishes its request is closed after the timeout, without a response. */
Test(http_live, slow_client_times_out)
{
	char buf[256];
	double t0, dt;
	bool eof;
	size_t n;
	int fd, idle;

	http_set_timeout(200 * USEC_PER_MS);
	server_up();
	fd = client_connect();
	idle = client_connect(); /* sends nothing at all */
	client_send(fd, "GET /metrics HTTP/1.1\r\nHost:", 28);
	t0 = now_sec();
	spin_until_conns(2);
	n = client_read_all(fd, buf, sizeof(buf), 3.0, &eof);
	dt = now_sec() - t0;
	cr_assert(eof, "not closed");
	cr_assert_eq(n, 0);
	cr_assert_geq(dt, 0.15, "closed after %.3f s", dt);
	cr_assert_leq(dt, 2.0, "closed after %.3f s", dt);
	n = client_read_all(idle, buf, sizeof(buf), 1.0, &eof);
	cr_assert(eof);
	cr_assert_eq(n, 0);
	cr_assert_eq(http_conn_count(), 0);
	cr_assert_eq(calls, 0);
	close(fd);
	close(idle);
	server_down();
	http_set_timeout(0);
}

/* Beyond HTTP_MAX_CONNS open connections a new one is closed at once; then service resumes. */
Test(http_live, connection_cap)
{
	int fds[HTTP_MAX_CONNS], extra;
	char buf[4096];
	Response r;
	bool eof;

	server_up();
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = client_connect();
	spin_until_conns(HTTP_MAX_CONNS);
	extra = client_connect();
	cr_assert_eq(client_read_all(extra, buf, sizeof(buf), 2.0, &eof), 0);
	cr_assert(eof, "the connection over the cap was not closed");
	close(extra);
	cr_assert_eq(http_conn_count(), HTTP_MAX_CONNS);

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
	spin_until_conns(0);
	get("GET /metrics HTTP/1.0\r\n\r\n", &r, buf, sizeof(buf));
	cr_assert_eq(r.status, 200);
	server_down();
}

/* http_stop closes every open connection; start fails on a bad address or a taken port. */
Test(http_live, stop_and_start_errors)
{
	char buf[64], err[256];
	int fd, port;
	bool eof;

	server_up();
	port = http_port();
	cr_assert_not(http_start(loop, "127.0.0.1", 0, test_handler, &calls, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "already"));

	fd = client_connect();
	client_send(fd, "GET /met", 8);
	spin_until_conns(1);
	http_stop();
	cr_assert_eq(http_conn_count(), 0);
	cr_assert_eq(client_read_all(fd, buf, sizeof(buf), 1.0, &eof), 0);
	cr_assert(eof);
	close(fd);

	cr_assert_not(http_start(loop, "localhost", 0, test_handler, &calls, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "invalid"), "%s", err);
	cr_assert_not(http_start(loop, "127.0.0.1", 70000, test_handler, &calls, err, sizeof(err)));
	cr_assert_not(http_start(loop, "::1x", 0, test_handler, &calls, err, sizeof(err)));

	/* a port somebody else holds */
	{
		int other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_eq(bind(other, (struct sockaddr *)&sin, sizeof(sin)), 0);
		cr_assert_eq(listen(other, 1), 0);
		cr_assert_eq(getsockname(other, (struct sockaddr *)&sin, &sl), 0);
		cr_assert_not(http_start(loop, "127.0.0.1", ntohs(sin.sin_port), test_handler,
					 &calls, err, sizeof(err)));
		cr_assert_not_null(strstr(err, "cannot listen"), "%s", err);
		close(other);
	}

	/* and it starts again after a stop ("*" = every IPv4 address) */
	cr_assert(http_start(loop, "*", 0, test_handler, &calls, err, sizeof(err)), "%s", err);
	cr_assert_gt(http_port(), 0);
	(void)port;
	{
		Response r;
		char big[4096];

		get("GET /metrics HTTP/1.0\r\n\r\n", &r, big, sizeof(big));
		cr_assert_eq(r.status, 200);
	}
	server_down();
}
