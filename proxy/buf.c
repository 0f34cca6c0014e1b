/*
 * buf.c - the PgWriter half of buf.h: static writers over caller storage and
 * heap writers that double up to a fixed maximum. Every failure (no room, out
 * of memory, oversized message) only sets the sticky `failed` flag; nothing
 * here aborts, so per-connection buffers survive an allocation failure.
 */
#include "buf.h"
#include <stdarg.h>
#include <stdio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* First heap allocation when a dynamic writer starts empty. */
#define PGW_MIN_GROW 256u

void pgw_init_static(PgWriter *w, void *buf, size_t cap)
{
	w->data = buf;
	w->len = 0;
	w->cap = buf ? cap : 0;
	w->max = 0;
	w->msg_start = 0;
	w->failed = false;
	w->owned = false;
}

void pgw_init_dynamic(PgWriter *w, size_t initial, size_t max)
{
	pgw_init_static(w, NULL, 0);
	w->max = max;
	if (initial > max)
		initial = max;
	if (initial == 0)
		return; /* allocated on first write */
	w->data = malloc(initial);
	if (!w->data) {
		w->failed = true;
		return;
	}
	w->cap = initial;
	w->owned = true;
}

void pgw_free(PgWriter *w)
{
	if (w->owned)
		free(w->data);
	/* leaves a zero-capacity static writer: later writes fail harmlessly */
	pgw_init_static(w, NULL, 0);
	w->failed = true;
}

void pgw_reset(PgWriter *w)
{
	w->len = 0;
	w->msg_start = 0;
	w->failed = false;
}

bool pgw_reserve(PgWriter *w, size_t n)
{
	size_t need, newcap;
	uint8_t *p;

	if (w->failed)
		return false;
	if (n <= w->cap - w->len)
		return true;
	if (w->max == 0 || n > w->max || w->len > w->max - n)
		goto fail;
	need = w->len + n;
	newcap = w->cap ? w->cap : PGW_MIN_GROW;
	while (newcap < need)
		newcap = newcap > w->max / 2 ? w->max : newcap * 2;
	if (newcap > w->max)
		newcap = w->max;
	/* a growable writer's data is either its own heap block or still NULL */
	p = realloc(w->data, newcap);
	if (!p)
		goto fail;
	w->data = p;
	w->cap = newcap;
	w->owned = true;
	return true;
fail:
	w->failed = true;
	return false;
}

void pgw_u8(PgWriter *w, uint8_t v)
{
	if (!pgw_reserve(w, 1))
		return;
	w->data[w->len++] = v;
}

void pgw_u16(PgWriter *w, uint16_t v)
{
	if (!pgw_reserve(w, 2))
		return;
	w->data[w->len++] = (uint8_t)(v >> 8);
	w->data[w->len++] = (uint8_t)v;
}

void pgw_u32(PgWriter *w, uint32_t v)
{
	if (!pgw_reserve(w, 4))
		return;
	w->data[w->len++] = (uint8_t)(v >> 24);
	w->data[w->len++] = (uint8_t)(v >> 16);
	w->data[w->len++] = (uint8_t)(v >> 8);
	w->data[w->len++] = (uint8_t)v;
}

void pgw_bytes(PgWriter *w, const void *p, size_t n)
{
	if (!pgw_reserve(w, n) || n == 0)
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

void pgw_cstr(PgWriter *w, const char *s)
{
	pgw_bytes(w, s, strlen(s) + 1);
}

void pgw_printf(PgWriter *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->failed || (w->cap == w->len && !pgw_reserve(w, 64)))
		return;
	va_start(ap, fmt);
	n = vsnprintf((char *)w->data + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->failed = true;
		return;
	}
	if ((size_t)n >= w->cap - w->len) {
		/* did not fit: grow (leaving room for vsnprintf's NUL) and format again */
		if (!pgw_reserve(w, (size_t)n + 1))
			return;
		va_start(ap, fmt);
		vsnprintf((char *)w->data + w->len, w->cap - w->len, fmt, ap);
		va_end(ap);
	}
	w->len += (size_t)n;
}

void pgw_begin(PgWriter *w, uint8_t type)
{
	if (type)
		pgw_u8(w, type);
	w->msg_start = w->len;
	pgw_u32(w, 0);
}

void pgw_end(PgWriter *w)
{
	size_t mlen;
	uint8_t *p;

	if (w->failed)
		return;
	if (w->msg_start > w->len || w->len - w->msg_start < 4) {
		w->failed = true; /* pgw_end without a matching pgw_begin */
		return;
	}
	mlen = w->len - w->msg_start;
	if (mlen > INT32_MAX) {
		w->failed = true;
		return;
	}
	p = w->data + w->msg_start;
	p[0] = (uint8_t)(mlen >> 24);
	p[1] = (uint8_t)(mlen >> 16);
	p[2] = (uint8_t)(mlen >> 8);
	p[3] = (uint8_t)mlen;
}
