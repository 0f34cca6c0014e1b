/*
 * log.h - leveled logging to stderr (or a file). The level is checked before
 * anything is formatted, so disabled debug logging costs one branch.
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
