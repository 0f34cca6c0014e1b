/*
 * log.c - the logger behind log.h, plus fatal() and the aborting allocators
 * declared in common.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

LogLevel log_level = LOG_INFO;

static const char *const level_name[] = {
	[LOG_FATAL] = "FATAL", [LOG_ERROR] = "ERROR", [LOG_WARNING] = "WARNING",
	[LOG_INFO] = "INFO",   [LOG_DEBUG] = "DEBUG",
};
_Static_assert(ARRAY_SIZE(level_name) == LOG__COUNT, "update level_name");

bool log_level_parse(const char *s, LogLevel *out)
{
	static const char *const names[] = {"fatal", "error", "warning", "info", "debug"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = (LogLevel)i;
			return true;
		}
	}
	return false;
}

const char *log_level_name(LogLevel lvl)
{
	return (unsigned)lvl < LOG__COUNT ? level_name[lvl] : "?";
}

static void log_vwrite(LogLevel lvl, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void log_vwrite(LogLevel lvl, const char *fmt, va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03d UTC [%d] %s ", (int)(tv.tv_usec / 1000),
		     (int)getpid(), level_name[lvl]);
	if (r > 0 && (size_t)r < sizeof(line) - n)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* one write() per line so concurrent writers do not interleave */
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void log_write(LogLevel lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(lvl, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		fatal("out of memory allocating %zu bytes", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		fatal("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		fatal("out of memory reallocating %zu bytes", n);
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

bool copy_name(char *dst, size_t cap, const char *src, size_t len)
{
	if (cap == 0 || len >= cap)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}
