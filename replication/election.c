/*
 * election.c - choosing the replica to promote and asking the witnesses
 * (election.h). Pure.
 */
#include "election.h"

#include <string.h>

/*
 * A replica has what it received (promoting it replays all of it): with
 * synchronous replication an acknowledged commit may be received and not
 * yet replayed anywhere, so the received position ranks first. Between
 * equals, the one that applied more (a replica holding WAL back with
 * recovery_min_apply_delay loses), then priority, then name.
 */
static Lsn received(const Candidate *c)
{
	return c->receive_lsn > c->replay_lsn ? c->receive_lsn : c->replay_lsn;
}

/* a ranks before b */
static bool better(const Candidate *a, const Candidate *b)
{
	if (received(a) != received(b))
		return received(a) > received(b);
	if (a->replay_lsn != b->replay_lsn)
		return a->replay_lsn > b->replay_lsn;
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return strcmp(a->name ? a->name : "", b->name ? b->name : "") < 0;
}

Election election_choose(const Candidate *c, size_t n, Lsn master_lsn, uint64_t max_lag)
{
	Election e = {ELECT_NONE, -1, LSN_INVALID, 0, "no reachable replica may be promoted"};
	const Candidate *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const Candidate *x = &c[i];
		if (!x->reachable || !x->in_recovery || x->never_promote ||
		    received(x) == LSN_INVALID)
			continue;
		if (!best || better(x, best))
			best = x;
	}
	if (!best)
		return e;
	e.node = best->node;
	e.lsn = best->replay_lsn;
	/* how stale it is now: what it applied (a replica holding WAL back is not fresh) */
	e.behind = master_lsn != LSN_INVALID ? lsn_diff(master_lsn, e.lsn) : 0;
	if (max_lag && e.behind > max_lag) {
		e.result = ELECT_TOO_FAR;
		e.why = "the most advanced replica is further behind than max_failover_lag";
		return e;
	}
	e.result = ELECT_OK;
	e.why = "the most advanced reachable replica";
	return e;
}

bool election_master_alive(const Candidate *c, size_t n, int64_t recent, const char **witness)
{
	for (size_t i = 0; i < n; i++) {
		const Candidate *x = &c[i];
		if (x->reachable && x->in_recovery && x->streaming && x->receipt_age >= 0 &&
		    x->receipt_age <= recent) {
			*witness = x->name ? x->name : "a replica";
			return true;
		}
	}
	*witness = NULL;
	return false;
}
