/*
 * events.h - the recent events: failover, switchover, fencing, lag and node
 * state changes. Each is logged with its stable tag ("event TAG: text") and
 * kept, with its wall-clock time, in a fixed ring of the newest
 * EVENTS_MAX for SHOW EVENTS. Counters per tag are kept for metrics.
 * Level 0: replication/ may use it. Single-threaded (the loop's thread).
 */
#ifndef PROXY_EVENTS_H
#define PROXY_EVENTS_H

#include "common.h"
#include "log.h"

#define EVENTS_MAX 256
#define EVENT_TAG_MAX 32
#define EVENT_TEXT_MAX 300

typedef struct Event {
	uint64_t seq;	 /* 1, 2, ... in the order they happened */
	int64_t at_us;	 /* wall clock (CLOCK_REALTIME), microseconds since the epoch */
	LogLevel level;
	char tag[EVENT_TAG_MAX];
	char node[PG_NAME_MAX]; /* the node it concerns, "" = none */
	char text[EVENT_TEXT_MAX];
} Event;

/* Logs "event TAG: text" at level and keeps it. node may be NULL. */
void event_add(LogLevel level, const char *tag, const char *node, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* How many events are kept (at most EVENTS_MAX). */
size_t event_count(void);
/* The i-th kept event, 0 = the oldest kept; NULL out of range. */
const Event *event_at(size_t i);
/* Events added since the start, including those dropped from the ring. */
uint64_t event_total(void);
/* Forgets everything (tests). */
void event_reset(void);

#endif
