/*
 * failover.c - the failover state machine's decisions (failover.h). Pure:
 * it only reads what it is given and says what to do.
 */
#include "failover.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FO_MAX_NODES 16

const char *failover_state_name(FoState s)
{
	static const char *const names[] = {
	    [FO_HEALTHY] = "healthy",		[FO_SUSPECT] = "suspect",
	    [FO_PROMOTE] = "promote",		[FO_WAIT_ROLE] = "wait_role",
	    [FO_RECONFIGURE] = "reconfigure",	[FO_SO_DRAIN] = "switchover_drain",
	    [FO_SO_FENCE] = "switchover_fence", [FO_SO_CATCHUP] = "switchover_catchup",
	};
	_Static_assert(ARRAY_SIZE(names) == FO__COUNT, "update names");
	return (unsigned)s < FO__COUNT ? names[s] : "?";
}

static void event(Failover *f, const char *tag, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void event(Failover *f, const char *tag, const char *fmt, ...)
{
	va_list ap;

	f->event = tag;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static void enter(Failover *f, FoState s, usec_t now)
{
	f->state = s;
	f->since = now;
	f->action_sent = false;
}

void failover_init(Failover *f, const FoConfig *cfg, int master, usec_t now)
{
	*f = (Failover){.cfg = *cfg, .master = master, .candidate = -1, .last_tick = now};
	enter(f, FO_HEALTHY, now);
}

bool failover_check(Failover *f, bool ok, Lsn master_lsn, uint32_t timeline, usec_t now)
{
	f->event = NULL;
	if (f->state != FO_HEALTHY && f->state != FO_SUSPECT)
		return false; /* it is being replaced: what it says no longer matters */
	if (ok) {
		if (master_lsn != LSN_INVALID)
			f->master_lsn = master_lsn;
		if (timeline)
			f->old_timeline = timeline;
		f->failed = 0;
		if (f->state == FO_SUSPECT) {
			enter(f, FO_HEALTHY, now);
			event(f, "master_recovered", "the master answers again");
			return true;
		}
		return false;
	}
	f->failed++;
	if (f->state == FO_HEALTHY) {
		enter(f, FO_SUSPECT, now);
		event(f, "master_suspect", "a health check of the master failed");
		return true;
	}
	return false;
}

/* Every node but the master, as election candidates. */
static size_t candidates(const Failover *f, const FoNode *nodes, size_t n, Candidate *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < FO_MAX_NODES; i++)
		if ((int)i != f->master)
			out[k++] = nodes[i].c;
	return k;
}

/* The SUSPECT decision: wait, give up for now, or start promoting. */
static FoAction suspect_tick(Failover *f, const FoNode *nodes, size_t n, usec_t now)
{
	Candidate c[FO_MAX_NODES];
	size_t k;
	const char *witness;
	Election e;

	if (f->failed < f->cfg.failures)
		return (FoAction){FA_NONE, -1};
	if (!f->cfg.enabled) {
		if (f->state == FO_SUSPECT && f->failed == f->cfg.failures)
			event(f, "master_failed", "the master failed %d checks; failover = off",
			      f->failed);
		return (FoAction){FA_NONE, -1};
	}
	memset(c, 0, sizeof(c));
	k = candidates(f, nodes, n, c);
	if (election_master_alive(c, k, f->cfg.witness_age, &witness)) {
		event(f, "failover_deferred",
		      "the master failed %d checks but %s still receives its WAL: only pgrelay's "
		      "path to it is broken",
		      f->failed, witness);
		return (FoAction){FA_NONE, -1};
	}
	e = election_choose(c, k, f->master_lsn, f->cfg.max_lag);
	for (size_t i = 0; i < k; i++)
		if (c[i].node == e.node)
			f->cand_name = c[i].name;
	if (e.result == ELECT_NONE) {
		event(f, "failover_impossible", "the master failed %d checks: %s", f->failed,
		      e.why);
		return (FoAction){FA_NONE, -1};
	}
	if (e.result == ELECT_TOO_FAR) {
		event(f, "failover_refused",
		      "the master failed %d checks; %s: %s is %llu bytes behind (limit %llu)",
		      f->failed, e.why, f->cand_name ? f->cand_name : "?",
		      (unsigned long long)e.behind, (unsigned long long)f->cfg.max_lag);
		return (FoAction){FA_NONE, -1};
	}
	f->candidate = e.node;
	enter(f, FO_PROMOTE, now);
	f->action_sent = true;
	event(f, "failover_started",
	      "the master failed %d checks: promoting %s (%llu bytes "
	      "behind its last known position)",
	      f->failed, f->cand_name ? f->cand_name : "?", (unsigned long long)e.behind);
	return (FoAction){FA_PROMOTE, e.node};
}

/* The candidate is out of recovery on a newer timeline than the old master's. */
static bool promoted(const Failover *f, const FoNode *nodes, size_t n)
{
	const FoNode *c;

	if (f->candidate < 0 || (size_t)f->candidate >= n)
		return false;
	c = &nodes[f->candidate];
	return c->c.reachable && !c->c.in_recovery &&
	       (f->old_timeline == 0 || c->timeline > f->old_timeline);
}

static FoAction abort_to_suspect(Failover *f, const char *tag, const char *what, usec_t now)
{
	event(f, tag, "failover aborted: %s (%s)", what, f->cand_name ? f->cand_name : "?");
	enter(f, FO_SUSPECT, now);
	f->candidate = -1;
	return (FoAction){FA_NONE, -1};
}

/* A switchover gives up: everything goes back to how it was, the master stays. */
static FoAction abort_switchover(Failover *f, const char *what, usec_t now)
{
	int old = f->so_old;

	event(f, "switchover_aborted", "switchover to %s aborted: %s; %s stays the master",
	      f->cand_name ? f->cand_name : "?", what, "the old master");
	f->switchover = false;
	f->candidate = -1;
	f->failed = 0;
	enter(f, FO_HEALTHY, now);
	return (FoAction){FA_SO_ABORT, old};
}

static bool timed_out(const Failover *f, usec_t now)
{
	return now - f->since > f->cfg.timeout;
}

FoAction failover_switchover(Failover *f, int node, const FoNode *nodes, size_t n, usec_t now,
			     char *why, size_t whylen)
{
	const FoNode *c, *m;

	if (f->state != FO_HEALTHY) {
		snprintf(why, whylen, "a %s is under way (state %s)",
			 f->switchover ? "switchover" : "failover", failover_state_name(f->state));
		return (FoAction){FA_NONE, -1};
	}
	if (f->master < 0 || (size_t)f->master >= n) {
		snprintf(why, whylen, "there is no master");
		return (FoAction){FA_NONE, -1};
	}
	if (node < 0 || (size_t)node >= n) {
		snprintf(why, whylen, "no such node");
		return (FoAction){FA_NONE, -1};
	}
	c = &nodes[node];
	m = &nodes[f->master];
	if (node == f->master) {
		snprintf(why, whylen, "%s is already the master", c->c.name);
		return (FoAction){FA_NONE, -1};
	}
	if (!m->c.reachable || m->c.in_recovery) {
		snprintf(why, whylen, "the master does not answer as a master: use failover");
		return (FoAction){FA_NONE, -1};
	}
	if (!c->c.reachable) {
		snprintf(why, whylen, "%s does not answer (or is fenced or detached)", c->c.name);
		return (FoAction){FA_NONE, -1};
	}
	if (!c->c.in_recovery) {
		snprintf(why, whylen, "%s is not a replica", c->c.name);
		return (FoAction){FA_NONE, -1};
	}
	f->switchover = true;
	f->so_fenced = false;
	f->so_target = LSN_INVALID;
	f->so_old = f->master;
	f->candidate = node;
	f->cand_name = c->c.name;
	if (m->timeline)
		f->old_timeline = m->timeline;
	enter(f, FO_SO_DRAIN, now);
	f->action_sent = true;
	event(f, "switchover_started",
	      "switchover to %s: holding new writes until running transactions end", c->c.name);
	return (FoAction){FA_SO_HOLD, f->master};
}

FoAction failover_so_fenced(Failover *f, bool ok, Lsn lsn, const char *why, usec_t now)
{
	f->event = NULL;
	if (f->state != FO_SO_FENCE)
		return (FoAction){FA_NONE, -1};
	if (!ok)
		return abort_switchover(f, why ? why : "the master could not be made read only",
					now);
	f->so_fenced = true;
	f->so_target = lsn;
	enter(f, FO_SO_CATCHUP, now);
	event(f, "switchover_fenced",
	      "the master is read only at %X/%X; waiting for %s to replay it",
	      (unsigned)(lsn >> 32), (unsigned)lsn, f->cand_name);
	return (FoAction){FA_NONE, -1};
}

FoAction failover_tick(Failover *f, const FoNode *nodes, size_t n, usec_t now)
{
	bool stalled = f->last_tick && now > f->last_tick &&
		       now - f->last_tick > 3 * f->cfg.interval + USEC_PER_SEC / 2;

	f->event = NULL;
	f->last_tick = now;
	if (stalled && (f->state == FO_HEALTHY || f->state == FO_SUSPECT)) {
		/* the loop did not run (a stall, a suspended machine): look again first */
		if (f->failed > 0)
			event(f, "tilt",
			      "the monitor ran late: counting the master's checks again");
		f->failed = 0;
		return (FoAction){FA_NONE, -1};
	}
	switch (f->state) {
	case FO_HEALTHY:
		return (FoAction){FA_NONE, -1};
	case FO_SUSPECT:
		return suspect_tick(f, nodes, n, now);
	case FO_PROMOTE:
		if (promoted(f, nodes, n)) {
			/* seen before the driver's report: its answer was slow, the node was not */
			enter(f, FO_RECONFIGURE, now);
			f->action_sent = true;
			event(f, "promoted", "%s is out of recovery", f->cand_name);
			return (FoAction){FA_RECONFIGURE, f->candidate};
		}
		if (timed_out(f, now))
			return f->switchover ? abort_switchover(f, "the promotion timed out", now)
					     : abort_to_suspect(f, "failover_aborted",
								"the promotion timed out", now);
		return (FoAction){FA_NONE, -1};
	case FO_WAIT_ROLE:
		if (promoted(f, nodes, n)) {
			enter(f, FO_RECONFIGURE, now);
			f->action_sent = true;
			event(f, "promoted", "%s is out of recovery on timeline %u", f->cand_name,
			      nodes[f->candidate].timeline);
			return (FoAction){FA_RECONFIGURE, f->candidate};
		}
		if (timed_out(f, now))
			return f->switchover
				   ? abort_switchover(
					 f, "the promoted node never showed its new role", now)
				   : abort_to_suspect(f, "failover_aborted",
						      "the promoted node never showed its new role",
						      now);
		return (FoAction){FA_NONE, -1};
	case FO_SO_DRAIN:
		if (timed_out(f, now))
			return abort_switchover(f, "transactions still run on the master", now);
		return (FoAction){FA_NONE, -1};
	case FO_SO_FENCE:
		if (!f->action_sent) {
			f->action_sent = true;
			return (FoAction){FA_SO_FENCE, f->master};
		}
		if (timed_out(f, now))
			return abort_switchover(f, "the master could not be made read only", now);
		return (FoAction){FA_NONE, -1};
	case FO_SO_CATCHUP:
		if (f->candidate >= 0 && (size_t)f->candidate < n &&
		    nodes[f->candidate].c.reachable &&
		    nodes[f->candidate].c.replay_lsn != LSN_INVALID &&
		    nodes[f->candidate].c.replay_lsn >= f->so_target) {
			enter(f, FO_PROMOTE, now);
			f->action_sent = true;
			event(f, "switchover_caught_up", "%s replayed everything: promoting it",
			      f->cand_name);
			return (FoAction){FA_PROMOTE, f->candidate};
		}
		if (timed_out(f, now))
			return abort_switchover(f, "the candidate did not catch up", now);
		return (FoAction){FA_NONE, -1};
	case FO_RECONFIGURE:
		if (!f->action_sent) {
			/* the last attempt failed: the node is promoted, so keep trying */
			f->action_sent = true;
			return (FoAction){FA_RECONFIGURE, f->candidate};
		}
		return (FoAction){FA_NONE, -1};
	default:
		return (FoAction){FA_NONE, -1};
	}
}

FoAction failover_done(Failover *f, FoActionKind kind, bool ok, const char *why, usec_t now)
{
	f->event = NULL;
	if (!why)
		why = ok ? "done" : "failed";
	if (kind == FA_SO_HOLD && f->state == FO_SO_DRAIN) {
		if (!ok)
			return abort_switchover(f, why, now);
		enter(f, FO_SO_FENCE, now);
		event(f, "switchover_drained", "no transaction runs on the master: fencing it");
	} else if (kind == FA_PROMOTE && f->state == FO_PROMOTE) {
		if (ok) {
			enter(f, FO_WAIT_ROLE, now);
			event(f, "promote_sent", "%s accepted the promotion", f->cand_name);
		} else if (f->switchover) {
			return abort_switchover(f, why, now);
		} else {
			abort_to_suspect(f, "failover_aborted", why, now);
		}
	} else if (kind == FA_RECONFIGURE && f->state == FO_RECONFIGURE) {
		if (ok) {
			bool so = f->switchover;
			int node = f->candidate;
			if (so)
				event(f, "switchover_done",
				      "%s is the master; the old master is fenced", f->cand_name);
			else
				event(f, "failover_done", "%s is the master", f->cand_name);
			f->master = f->candidate;
			f->candidate = -1;
			f->failed = 0;
			if (so)
				f->switchovers++;
			else
				f->failovers++;
			f->switchover = false;
			f->master_lsn = LSN_INVALID;
			f->old_timeline = 0;
			enter(f, FO_HEALTHY, now);
			if (so)
				return (FoAction){FA_SO_RESUME, node};
		} else {
			f->action_sent = false; /* the next tick retries */
			event(f, "reconfigure_failed", "%s is promoted but: %s", f->cand_name, why);
		}
	}
	return (FoAction){FA_NONE, -1};
}
