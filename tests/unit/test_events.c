/*
 * test_events.c - the recent-events ring: order, wrap-around, truncation.
 */
#include "events.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static void quiet(void)
{
	log_level = LOG_FATAL;
	event_reset();
}

TestSuite(events, .init = quiet);

Test(events, keeps_in_order)
{
	event_add(LOG_WARNING, "failover_started", "n1", "promoting %s", "n1");
	event_add(LOG_INFO, "node_state", NULL, "n2 up -> lagging");
	cr_assert_eq(event_count(), 2);
	cr_assert_str_eq(event_at(0)->tag, "failover_started");
	cr_assert_str_eq(event_at(0)->node, "n1");
	cr_assert_str_eq(event_at(0)->text, "promoting n1");
	cr_assert_str_eq(event_at(1)->node, "");
	cr_assert_eq(event_at(1)->seq, 2);
	cr_assert(event_at(1)->at_us >= event_at(0)->at_us);
	cr_assert_null(event_at(2));
}

Test(events, wraps_keeping_the_newest)
{
	const size_t extra[] = {0, 1, 7, EVENTS_MAX - 1, EVENTS_MAX + 3};

	for (size_t k = 0; k < ARRAY_SIZE(extra); k++) {
		size_t n = EVENTS_MAX + extra[k];
		event_reset();
		for (size_t i = 0; i < n; i++)
			event_add(LOG_INFO, "t", NULL, "%zu", i);
		cr_assert_eq(event_count(), EVENTS_MAX);
		cr_assert_eq(event_total(), n);
		for (size_t i = 0; i < EVENTS_MAX; i++) {
			char want[32];
			snprintf(want, sizeof(want), "%zu", n - EVENTS_MAX + i);
			cr_assert_str_eq(event_at(i)->text, want, "n=%zu i=%zu", n, i);
		}
	}
}

Test(events, truncates_long_text_and_tags)
{
	char big[1000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	event_add(LOG_INFO, big, big, "%s", big);
	cr_assert_eq(strlen(event_at(0)->tag), EVENT_TAG_MAX - 1);
	cr_assert_eq(strlen(event_at(0)->node), PG_NAME_MAX - 1);
	cr_assert_eq(strlen(event_at(0)->text), EVENT_TEXT_MAX - 1);
}
