/*
 * http.h - a small HTTP/1.x server on libev for /metrics and /health: one
 * listening socket, one request per connection, GET and HEAD only. The
 * caller supplies a handler that fills a status, a content type and a body;
 * this module owns the sockets, the per-connection buffers and the body.
 */
#ifndef PROXY_HTTP_H
#define PROXY_HTTP_H

#include "common.h"

#include <ev.h>

/* Limits of one connection. */
#define HTTP_HEAD_MAX 8192		/* request line and headers; beyond: 414 or 431 */
#define HTTP_PATH_MAX 256		/* path without the query, with its NUL; beyond: 414 */
#define HTTP_BODY_MAX (4u << 20)	/* response body a handler may produce; beyond: 500 */
#define HTTP_MAX_CONNS 64		/* open connections; more are accepted and closed */
#define HTTP_TIMEOUT (5 * USEC_PER_SEC) /* default read (and write) time limit */

/*
 * A growable response body, capped at max bytes. Once an append does not fit
 * (or memory runs out) failed stays set, later appends are ignored, and the
 * server answers 500 instead of a truncated body. The server owns the body it
 * hands to a handler; http_body_init/http_body_free are for other users.
 */
typedef struct HttpBody {
	char *data;
	size_t len, cap, max;
	bool failed;
} HttpBody;

void http_body_init(HttpBody *b, size_t max);
void http_body_free(HttpBody *b);
void http_body_append(HttpBody *b, const void *p, size_t n);
void http_body_printf(HttpBody *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * Answers one request: returns the HTTP status (200, 404, 503...), appends
 * the body to body and may point *content_type at a static string (default
 * "text/plain; charset=utf-8"). path starts with '/', excludes the query
 * string and is NUL-terminated printable ASCII. Only GET and HEAD reach the
 * handler; for HEAD the body is measured for Content-Length, not sent. The
 * handler runs on the loop, so it must be quick, and must not call
 * http_stop (the connection it answers would be freed under it).
 */
typedef int (*HttpHandler)(const char *path, HttpBody *body, const char **content_type, void *arg);

/*
 * Binds addr:port (numeric IPv4 or IPv6, "*" = every IPv4 address; port 0 =
 * any free port, see http_port) and serves requests on loop with fn(arg).
 * One server at a time. On failure err says why.
 */
bool http_start(struct ev_loop *loop, const char *addr, int port, HttpHandler fn, void *arg,
		char *err, size_t errlen) MUST_CHECK;
/* Closes the listening socket and every open HTTP connection. */
void http_stop(void);
/* The port bound by http_start (useful with port 0); -1 when not started. */
int http_port(void);
/* Open HTTP connections right now (for tests). */
size_t http_conn_count(void);
/*
 * Time limits applied from now on: the whole request must arrive within t of
 * accepting the connection, the whole response must leave within t of
 * starting to send it (then the connection is closed, without a response if
 * the request was not complete). Default HTTP_TIMEOUT; t <= 0 restores it.
 */
void http_set_timeout(usec_t t);

/* Request head parsing (pure; no I/O). */
typedef enum HttpParse { HTTP_PARSE_NEED_MORE, HTTP_PARSE_OK, HTTP_PARSE_BAD } HttpParse;

typedef struct HttpRequest {
	char method[8];		  /* "GET" or "HEAD" on OK */
	char path[HTTP_PATH_MAX]; /* on OK: starts with '/', no query, NUL-terminated */
	int minor;		  /* HTTP/1.<minor> */
	size_t head_len;	  /* bytes of buf up to and including the empty line */
	int status;		  /* on BAD: 400, 405, 414, 431 or 505 */
} HttpRequest;

/*
 * Parses the request head in buf[0..len). The bytes are judged left to right
 * and the first fault decides, so a prefix of buf parses either to NEED_MORE
 * or to the same result as all of buf. NEED_MORE is only returned for fewer
 * than HTTP_HEAD_MAX bytes. Accepted: "GET|HEAD SP origin-form SP
 * HTTP/1.<digit>" and header lines, each ended by CRLF or a bare LF, then an
 * empty line. Any other method is 405 as soon as its space is read, whatever
 * follows; another major version, or 2.x etc., is 505 at the end of the line.
 * On BAD only status is meaningful.
 */
HttpParse http_parse_request(const char *buf, size_t len, HttpRequest *req);

#endif
