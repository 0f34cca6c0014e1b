/*
 * common.h - the few macros and helpers every file may use: container_of,
 * ARRAY_SIZE, branch hints, MUST_CHECK, Assert, fatal(), usec_t and the
 * aborting allocators. Nothing else belongs here.
 */
#ifndef PROXY_COMMON_H
#define PROXY_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MUST_CHECK __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

typedef int64_t usec_t;
#define USEC_PER_SEC 1000000LL
#define USEC_PER_MS 1000LL

/* PostgreSQL's identifier limit (NAMEDATALEN - 1 usable bytes + NUL). */
#define PG_NAME_MAX 64

/* Logs and exits(1): startup/config failures and "cannot happen" paths only. */
_Noreturn void fatal(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Allocators for small control objects: abort on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/*
 * Copies src (len bytes, not necessarily NUL-terminated) into dst[cap] and
 * NUL-terminates. Returns false (and copies nothing) when it does not fit, so
 * truncation is never silent.
 */
bool copy_name(char *dst, size_t cap, const char *src, size_t len) MUST_CHECK;

#ifdef NDEBUG
#define Assert(x) ((void)0)
#else
#define Assert(x)                                                                                  \
	do {                                                                                       \
		if (unlikely(!(x)))                                                                \
			fatal("assertion failed: %s (%s:%d)", #x, __FILE__, __LINE__);             \
	} while (0)
#endif

#endif
