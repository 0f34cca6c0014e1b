/*
 * log.c - the logger behind log.h (level names, the plain and journald line
 * formats and the choice between them), plus fatal() and the aborting
 * allocators declared in common.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

LogLevel log_level = LOG_INFO;

static const char *const level_name[] = {
    [LOG_FATAL] = "FATAL", [LOG_ERROR] = "ERROR", [LOG_WARNING] = "WARNING",
    [LOG_INFO] = "INFO",   [LOG_DEBUG] = "DEBUG",
};
_Static_assert(ARRAY_SIZE(level_name) == LOG__COUNT, "update level_name");

/* The syslog priorities of sd-daemon(3): err, warning, info, debug. */
static const char *const level_prio[] = {
    [LOG_FATAL] = "<3>", [LOG_ERROR] = "<3>", [LOG_WARNING] = "<4>",
    [LOG_INFO] = "<6>",	 [LOG_DEBUG] = "<7>",
};
_Static_assert(ARRAY_SIZE(level_prio) == LOG__COUNT, "update level_prio");

typedef enum LogFormat { LOG_FORMAT_UNDECIDED = 0, LOG_FORMAT_PLAIN, LOG_FORMAT_JOURNAL } LogFormat;

static LogFormat log_format;

/* Whether JOURNAL_STREAM ("DEV:INODE", set by systemd) is the file open as stderr. */
static bool log_stderr_is_journal(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	dev = strtoull(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	ino = strtoull(end + 1, &end, 10);
	if (*end != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(void)
{
	const char *f = getenv("PGRELAY_LOG_FORMAT");

	if (f && strcasecmp(f, "journal") == 0) {
		log_format = LOG_FORMAT_JOURNAL;
	} else if (f && strcasecmp(f, "plain") == 0) {
		log_format = LOG_FORMAT_PLAIN;
	} else {
		log_format = log_stderr_is_journal() ? LOG_FORMAT_JOURNAL : LOG_FORMAT_PLAIN;
		if (f && *f && strcasecmp(f, "auto") != 0)
			log_warning("PGRELAY_LOG_FORMAT=%s is not journal, plain or auto; using %s",
				    f, log_format == LOG_FORMAT_JOURNAL ? "journal" : "plain");
	}
}

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

	if (unlikely(log_format == LOG_FORMAT_UNDECIDED))
		log_init();
	if (log_format == LOG_FORMAT_JOURNAL) {
		/* journald stamps the time and pid itself */
		n = 0;
		r = snprintf(line, sizeof(line), "%s%s ", level_prio[lvl], level_name[lvl]);
	} else {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03d UTC [%d] %s ",
			     (int)(tv.tv_usec / 1000), (int)getpid(), level_name[lvl]);
	}
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
