/*
 * lag.c - LSN text, lag in bytes and time, per-observation judgement and
 * hysteresis (lag.h). Pure.
 */
#include "lag.h"

#include <stdio.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Up to 8 hex digits ending at a stop character; advances *s past them. */
static bool hex_word(const char **s, char stop, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0, d;

	while ((d = hex_digit(**s)) >= 0) {
		if (++n > 8)
			return false;
		v = (v << 4) | (uint32_t)d;
		(*s)++;
	}
	if (n == 0 || **s != stop)
		return false;
	*out = v;
	return true;
}

bool lsn_parse(const char *s, Lsn *out)
{
	uint32_t hi, lo;

	if (!s || !hex_word(&s, '/', &hi))
		return false;
	s++;
	if (!hex_word(&s, '\0', &lo))
		return false;
	*out = ((Lsn)hi << 32) | lo;
	return true;
}

const char *lsn_format(Lsn lsn, char buf[LSN_TEXT_MAX])
{
	snprintf(buf, LSN_TEXT_MAX, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
	return buf;
}

const char *node_state_name(NodeState s)
{
	static const char *const names[] = {
	    [NS_UNKNOWN] = "unknown",
	    [NS_UP] = "up",
	    [NS_LAGGING] = "lagging",
	    [NS_DOWN] = "down",
	};
	_Static_assert(ARRAY_SIZE(names) == NS__COUNT, "update names");
	return (unsigned)s < NS__COUNT ? names[s] : "?";
}

void lag_history_add(LagHistory *h, usec_t at, Lsn lsn)
{
	h->at[h->head] = at;
	h->lsn[h->head] = lsn;
	h->head = (h->head + 1) % LAG_HISTORY;
	if (h->n < LAG_HISTORY)
		h->n++;
}

int64_t lag_history_when(const LagHistory *h, Lsn lsn)
{
	/* newest first: the first point at or below lsn is the latest such time */
	for (unsigned i = 0; i < h->n; i++) {
		unsigned k = (h->head + LAG_HISTORY - 1 - i) % LAG_HISTORY;
		if (h->lsn[k] <= lsn)
			return (int64_t)h->at[k];
	}
	return -1;
}

static bool sample_fresh(const Sample *s, usec_t now, usec_t stale_after)
{
	return s->at != 0 && s->ok && (now < s->at || now - s->at <= stale_after);
}

Lag lag_compute(const Sample *master, const LagHistory *h, const Sample *replica, usec_t now,
		usec_t stale_after)
{
	Lag lag = {0};
	int64_t when;
	usec_t t = 0;
	bool have = false;

	if (!sample_fresh(master, now, stale_after) || !sample_fresh(replica, now, stale_after) ||
	    master->in_recovery || master->wal_lsn == LSN_INVALID ||
	    replica->replay_lsn == LSN_INVALID)
		return lag;
	lag.known = true;
	lag.bytes = lsn_diff(master->wal_lsn, replica->replay_lsn);
	if (lag.bytes == 0)
		return lag;
	if (replica->replay_age >= 0) {
		t = (usec_t)replica->replay_age;
		have = true;
	}
	when = lag_history_when(h, replica->replay_lsn);
	if (when >= 0) {
		usec_t age = now > (usec_t)when ? now - (usec_t)when : 0;
		if (!have || age < t)
			t = age;
		have = true;
	}
	if (!have) {
		/* behind everything remembered: at least as old as the history */
		unsigned oldest = (h->head + LAG_HISTORY - h->n) % LAG_HISTORY;
		t = h->n && now > h->at[oldest] ? now - h->at[oldest] : stale_after;
	}
	lag.time = t;
	return lag;
}

NodeState lag_judge_replica(const Sample *replica, const Lag *lag, const LagLimits *lim, usec_t now,
			    const char **why)
{
	if (replica->at == 0) {
		*why = "not measured yet";
		return NS_UNKNOWN;
	}
	if (!replica->ok) {
		*why = "unreachable";
		return NS_DOWN;
	}
	if (now > replica->at && now - replica->at > lim->stale_after) {
		*why = "not measured recently";
		return NS_UNKNOWN;
	}
	if (!replica->in_recovery) {
		*why = "not in recovery: it is not a replica";
		return NS_DOWN;
	}
	if (!replica->streaming) {
		*why = "WAL receiver not streaming";
		return NS_LAGGING;
	}
	if (!lag->known) {
		*why = "master position unknown";
		return NS_UNKNOWN;
	}
	if (lim->max_bytes && lag->bytes > lim->max_bytes) {
		*why = "lag over max_lag_bytes";
		return NS_LAGGING;
	}
	if (lim->max_time && lag->time > lim->max_time) {
		*why = "lag over max_lag_time";
		return NS_LAGGING;
	}
	*why = "fresh";
	return NS_UP;
}

NodeState lag_judge_master(const Sample *master, usec_t now, usec_t stale_after, const char **why)
{
	if (master->at == 0) {
		*why = "not measured yet";
		return NS_UNKNOWN;
	}
	if (!master->ok) {
		*why = "unreachable";
		return NS_DOWN;
	}
	if (now > master->at && now - master->at > stale_after) {
		*why = "not measured recently";
		return NS_UNKNOWN;
	}
	if (master->in_recovery) {
		*why = "in recovery: it is not a master";
		return NS_DOWN;
	}
	*why = "up";
	return NS_UP;
}

bool hyst_step(Hysteresis *h, NodeState observed, int needed, bool at_once)
{
	if (observed == h->state) {
		h->count = 0;
		return false;
	}
	if (h->count > 0 && h->pending == observed)
		h->count++;
	else {
		h->pending = observed;
		h->count = 1;
	}
	if (h->state == NS_UNKNOWN || (at_once && observed == NS_DOWN) || h->count >= needed) {
		h->state = observed;
		h->count = 0;
		return true;
	}
	return false;
}
