/*
 * buf.h - byte buffers for untrusted and outgoing data.
 * PgReader: a bounds-checked cursor over bytes from the wire; every getter
 * returns false instead of reading past the end.
 * PgWriter: a packet builder with a sticky `failed` flag (out of room), so a
 * whole message sequence is built and then checked once.
 * All integers are big-endian (network order), as the protocol uses.
 */
#ifndef PROXY_BUF_H
#define PROXY_BUF_H

#include "common.h"

#include <string.h>

typedef struct PgReader {
	const uint8_t *p, *end;
} PgReader;

static inline void pgr_init(PgReader *r, const void *data, size_t len)
{
	r->p = (const uint8_t *)data;
	r->end = r->p + len;
}

static inline size_t pgr_left(const PgReader *r)
{
	return (size_t)(r->end - r->p);
}

static inline bool pgr_u8(PgReader *r, uint8_t *out)
{
	if (r->end - r->p < 1)
		return false;
	*out = *r->p++;
	return true;
}

static inline bool pgr_u16(PgReader *r, uint16_t *out)
{
	if (r->end - r->p < 2)
		return false;
	*out = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return true;
}

static inline bool pgr_u32(PgReader *r, uint32_t *out)
{
	if (r->end - r->p < 4)
		return false;
	*out = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
	       (uint32_t)r->p[3];
	r->p += 4;
	return true;
}

static inline bool pgr_i16(PgReader *r, int16_t *out)
{
	uint16_t v;
	if (!pgr_u16(r, &v))
		return false;
	*out = (int16_t)v;
	return true;
}

static inline bool pgr_i32(PgReader *r, int32_t *out)
{
	uint32_t v;
	if (!pgr_u32(r, &v))
		return false;
	*out = (int32_t)v;
	return true;
}

/* n raw bytes; *out points into the reader's data. */
static inline bool pgr_bytes(PgReader *r, size_t n, const uint8_t **out)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	*out = r->p;
	r->p += n;
	return true;
}

/* A NUL-terminated string inside the bounds; *out points into the data, *len excludes the NUL. */
static inline bool pgr_cstr(PgReader *r, const char **out, size_t *len)
{
	const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
	if (!nul)
		return false;
	*out = (const char *)r->p;
	if (len)
		*len = (size_t)(nul - r->p);
	r->p = nul + 1;
	return true;
}

/* Reads a big-endian u32 from 4 bytes the caller has already bounds-checked. */
static inline uint32_t pg_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

typedef struct PgWriter {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;	    /* growable writers never exceed this; 0 = static buffer */
	size_t msg_start;   /* offset of the length field of the message being built */
	bool failed;	    /* sticky: set when anything did not fit */
	bool owned;	    /* data was malloc'ed by the writer */
} PgWriter;

/* A writer over caller-provided storage (stack or embedded); never grows. */
void pgw_init_static(PgWriter *w, void *buf, size_t cap);
/* A heap writer starting at `initial` bytes, growing up to `max`. */
void pgw_init_dynamic(PgWriter *w, size_t initial, size_t max);
void pgw_free(PgWriter *w);
/* Empties the writer (keeps its storage) and clears `failed`. */
void pgw_reset(PgWriter *w);
/* Makes room for n more bytes; false (and sets failed) when impossible. */
bool pgw_reserve(PgWriter *w, size_t n);

void pgw_u8(PgWriter *w, uint8_t v);
void pgw_u16(PgWriter *w, uint16_t v);
void pgw_u32(PgWriter *w, uint32_t v);
void pgw_bytes(PgWriter *w, const void *p, size_t n);
/* Writes s and its terminating NUL. */
void pgw_cstr(PgWriter *w, const char *s);
/* Appends formatted text (no NUL): for text bodies such as HTTP responses. */
void pgw_printf(PgWriter *w, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * Starts a message: writes the type byte (unless type is 0, as for the
 * startup-phase packets that have none) and a placeholder length.
 * pgw_end() backfills the length (which counts itself, not the type byte).
 */
void pgw_begin(PgWriter *w, uint8_t type);
void pgw_end(PgWriter *w);

#endif
