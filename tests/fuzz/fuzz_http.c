/*
 * fuzz_http.c - libFuzzer target for the HTTP request-head parser
 * (proxy/http.c, http_parse_request). Each input is parsed as it comes and
 * the result is checked against the parser's promises:
 *  - OK: head_len within the input and HTTP_HEAD_MAX, ending with the LF of
 *    the empty line; method GET or HEAD; path NUL-terminated, starting with
 *    '/', printable ASCII without '?' and equal to the target's path in the
 *    input; minor a digit; the head alone parses to the same request and one
 *    byte less is NEED_MORE.
 *  - BAD: one of the statuses the parser may give.
 *  - NEED_MORE: only for inputs shorter than HTTP_HEAD_MAX.
 *  - a few prefixes of the input parse to NEED_MORE or to the same result.
 * The input is copied to an exact-size buffer so reads past it are caught.
 * Owns nothing beyond one input's copy, freed before returning.
 */
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static bool same_request(const HttpRequest *a, const HttpRequest *b)
{
	return strcmp(a->method, b->method) == 0 && strcmp(a->path, b->path) == 0 &&
	       a->minor == b->minor && a->head_len == b->head_len;
}

static void check_ok(const char *buf, size_t len, const HttpRequest *req)
{
	HttpRequest again;
	size_t plen, mlen;

	CHECK(req->head_len > 0 && req->head_len <= len && req->head_len <= HTTP_HEAD_MAX);
	CHECK(buf[req->head_len - 1] == '\n');
	CHECK(strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0);
	CHECK(req->minor >= 0 && req->minor <= 9);
	CHECK(memchr(req->path, '\0', sizeof(req->path)) != NULL);
	plen = strlen(req->path);
	CHECK(plen >= 1 && req->path[0] == '/');
	for (size_t i = 0; i < plen; i++)
		CHECK(req->path[i] > ' ' && req->path[i] < 0x7f && req->path[i] != '?');

	/* the input starts with "<method> <path>" followed by ' ' or '?' */
	mlen = strlen(req->method);
	CHECK(len > mlen + 1 + plen);
	CHECK(memcmp(buf, req->method, mlen) == 0 && buf[mlen] == ' ');
	CHECK(memcmp(buf + mlen + 1, req->path, plen) == 0);
	CHECK(buf[mlen + 1 + plen] == ' ' || buf[mlen + 1 + plen] == '?');

	/* the head alone is the same request; without its last byte it is incomplete */
	CHECK(http_parse_request(buf, req->head_len, &again) == HTTP_PARSE_OK);
	CHECK(same_request(req, &again));
	CHECK(http_parse_request(buf, req->head_len - 1, &again) == HTTP_PARSE_NEED_MORE);
}

static void check_prefix(const char *buf, size_t k, HttpParse whole, const HttpRequest *req)
{
	HttpRequest p;
	HttpParse r = http_parse_request(buf, k, &p);

	if (r == HTTP_PARSE_NEED_MORE)
		return;
	CHECK(r == whole);
	if (r == HTTP_PARSE_BAD)
		CHECK(p.status == req->status);
	else
		CHECK(same_request(&p, req));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	HttpRequest req;
	HttpParse r;

	CHECK(buf != NULL);
	if (size)
		memcpy(buf, data, size);

	r = http_parse_request(buf, size, &req);
	switch (r) {
	case HTTP_PARSE_OK:
		check_ok(buf, size, &req);
		break;
	case HTTP_PARSE_BAD:
		CHECK(req.status == 400 || req.status == 405 || req.status == 414 ||
		      req.status == 431 || req.status == 505);
		break;
	case HTTP_PARSE_NEED_MORE:
		CHECK(size < HTTP_HEAD_MAX);
		break;
	default:
		CHECK(0);
	}
	if (size > 0) {
		check_prefix(buf, size - 1, r, &req);
		check_prefix(buf, size / 2, r, &req);
		check_prefix(buf, (size_t)data[0] % size, r, &req);
	}
	free(buf);
	return 0;
}
