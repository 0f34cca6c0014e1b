/*
 * events.c - the recent-events ring behind events.h.
 */
#include "events.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static Event ring[EVENTS_MAX];
static size_t head; /* where the next event goes */
static size_t count;
static uint64_t total;

void event_add(LogLevel level, const char *tag, const char *node, const char *fmt, ...)
{
	Event *e = &ring[head];
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	memset(e, 0, sizeof(*e));
	e->seq = ++total;
	e->at_us = (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
	e->level = level;
	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	snprintf(e->node, sizeof(e->node), "%s", node ? node : "");
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	head = (head + 1) % EVENTS_MAX;
	if (count < EVENTS_MAX)
		count++;
	if (level <= log_level)
		log_write(level, "event %s: %s", e->tag, e->text);
}

size_t event_count(void)
{
	return count;
}

const Event *event_at(size_t i)
{
	if (i >= count)
		return NULL;
	return &ring[(head + EVENTS_MAX - count + i) % EVENTS_MAX];
}

uint64_t event_total(void)
{
	return total;
}

void event_reset(void)
{
	head = count = 0;
	total = 0;
}
