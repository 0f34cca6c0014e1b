/*
 * log.h - leveled logging to stderr (or a file). The level is checked before
 * anything is formatted, so disabled debug logging costs one branch. Lines are
 * either plain ("2026-11-25 09:00:00.123 UTC [pid] LEVEL message") or, when
 * stderr is systemd's journal stream, "<N>LEVEL message" with the syslog
 * priority N that journald reads (it adds the time and pid itself).
 */
#ifndef PROXY_LOG_H
#define PROXY_LOG_H

#include "common.h"

typedef enum LogLevel {
	LOG_FATAL = 0,
	LOG_ERROR,
	LOG_WARNING,
	LOG_INFO,
	LOG_DEBUG,
	LOG__COUNT
} LogLevel;

extern LogLevel log_level;

/* Parses "error", "warning", "info", "debug"; false when unknown. */
bool log_level_parse(const char *s, LogLevel *out) MUST_CHECK;
const char *log_level_name(LogLevel lvl);

void log_write(LogLevel lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * Chooses the line format: PGRELAY_LOG_FORMAT=journal or plain forces one;
 * otherwise (unset or "auto") journal when JOURNAL_STREAM ("DEV:INODE") names
 * the file stderr is. Runs by itself before the first line is written; calling
 * it again decides again.
 */
void log_init(void);

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warning(...)                                                                           \
	do {                                                                                       \
		if (log_level >= LOG_WARNING)                                                      \
			log_write(LOG_WARNING, __VA_ARGS__);                                       \
	} while (0)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_level >= LOG_INFO)                                                         \
			log_write(LOG_INFO, __VA_ARGS__);                                          \
	} while (0)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (unlikely(log_level >= LOG_DEBUG))                                              \
			log_write(LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)

#endif
