/*
 * test_failover.c - replication/failover.c, the failover state machine's
 * decisions: detection after failover_after failed checks, recovery, the
 * witnesses, refusals (too far behind, nobody eligible, failover off), the
 * tilt guard, promotion and its confirmation by observation, every timeout
 * and failure path, and a second failover.
 */
#include "failover.h"

#include <criterion/criterion.h>
#include <string.h>

#define MS 1000
#define SEC 1000000

static const FoConfig cfg = {.enabled = true,
			     .failures = 3,
			     .interval = 200 * MS,
			     .timeout = 10 * SEC,
			     .max_lag = 1000,
			     .witness_age = 1 * SEC};

/* n0 the master, n1 and n2 replicas; n2 is the most advanced. */
static FoNode nodes[3];
static const char *const names[3] = {"n0", "n1", "n2"};

static void setup(void)
{
	for (int i = 0; i < 3; i++) {
		nodes[i] = (FoNode){.c = {.node = i,
					  .name = names[i],
					  .reachable = true,
					  .in_recovery = i != 0,
					  .priority = 100,
					  .receive_lsn = (Lsn)(5000 + 100 * i),
					  .replay_lsn = (Lsn)(5000 + 100 * i),
					  .streaming = false,
					  .receipt_age = -1},
				    .timeline = 1,
				    .wal_lsn = i == 0 ? 5300 : 0};
	}
	nodes[0].c.reachable = false; /* the master is dead */
}

/* Drives the master's checks and ticks 200 ms apart from t; returns the time after. */
static usec_t fail_checks(Failover *f, int k, usec_t t, FoAction *last)
{
	for (int i = 0; i < k; i++) {
		t += 200 * MS;
		failover_check(f, false, LSN_INVALID, 0, t);
		*last = failover_tick(f, nodes, 3, t);
	}
	return t;
}

Test(failover, detect_promote_confirm_reconfigure, .init = setup)
{
	Failover f;
	FoAction a;
	usec_t t = 1 * SEC;

	failover_init(&f, &cfg, 0, t);
	cr_expect(!failover_check(&f, true, 5300, 1, t), "a good check changes nothing");
	t += 200 * MS;
	cr_expect(failover_check(&f, false, LSN_INVALID, 0, t), "the first failure");
	cr_expect_eq(f.state, FO_SUSPECT);
	cr_expect_str_eq(f.event, "master_suspect");
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_NONE, "one failure is not enough");
	t = fail_checks(&f, 1, t, &a);
	cr_expect_eq(a.kind, FA_NONE, "two failures are not enough");
	t = fail_checks(&f, 1, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE, "three failures: promote");
	cr_expect_eq(a.node, 2, "the most advanced replica");
	cr_expect_eq(f.state, FO_PROMOTE);
	cr_expect_str_eq(f.event, "failover_started");
	cr_expect_not_null(strstr(f.detail, "promoting n2 (100 bytes behind"), "%s", f.detail);

	cr_expect(!failover_check(&f, false, LSN_INVALID, 0, t), "checks are ignored now");
	failover_done(&f, FA_PROMOTE, true, NULL, t);
	cr_expect_eq(f.state, FO_WAIT_ROLE);
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_NONE, "still in recovery: wait");
	nodes[2].c.in_recovery = false;
	nodes[2].timeline = 1;
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_NONE, "out of recovery but the same timeline: wait");
	nodes[2].timeline = 2;
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_RECONFIGURE);
	cr_expect_eq(a.node, 2);
	cr_expect_str_eq(f.event, "promoted");
	t += 200 * MS;
	cr_expect_eq(failover_tick(&f, nodes, 3, t).kind, FA_NONE, "the action is out once");
	failover_done(&f, FA_RECONFIGURE, true, NULL, t);
	cr_expect_eq(f.state, FO_HEALTHY);
	cr_expect_eq(f.master, 2);
	cr_expect_eq(f.failovers, 1);
	cr_expect_str_eq(f.event, "failover_done");
}

Test(failover, master_recovers, .init = setup)
{
	Failover f;
	FoAction a;
	usec_t t = 1 * SEC;

	failover_init(&f, &cfg, 0, t);
	t = fail_checks(&f, 2, t, &a);
	cr_expect_eq(f.state, FO_SUSPECT);
	cr_expect(failover_check(&f, true, 5400, 1, t));
	cr_expect_eq(f.state, FO_HEALTHY);
	cr_expect_str_eq(f.event, "master_recovered");
	t = fail_checks(&f, 2, t, &a);
	cr_expect_eq(a.kind, FA_NONE, "the count started again");
}

Test(failover, witness_keeps_master, .init = setup)
{
	Failover f;
	FoAction a;
	usec_t t = 1 * SEC;

	nodes[1].c.streaming = true;
	nodes[1].c.receipt_age = 300 * MS;
	failover_init(&f, &cfg, 0, t);
	t = fail_checks(&f, 5, t, &a);
	cr_expect_eq(a.kind, FA_NONE, "a replica still hears from the master");
	cr_expect_str_eq(f.event, "failover_deferred");
	cr_expect_not_null(strstr(f.detail, "n1"), "%s", f.detail);
	nodes[1].c.receipt_age = 5 * SEC; /* its receiver times out */
	t = fail_checks(&f, 1, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE, "the witness went quiet: promote");
}

Test(failover, refusals, .init = setup)
{
	Failover f;
	FoAction a;
	FoConfig c = cfg;
	usec_t t = 1 * SEC;

	/* the master was last seen 2000 bytes ahead of the best replica; the limit is 1000 */
	failover_init(&f, &c, 0, t);
	failover_check(&f, true, 7200, 1, t);
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.kind, FA_NONE);
	cr_expect_str_eq(f.event, "failover_refused");

	/* nobody eligible */
	setup();
	nodes[1].c.never_promote = true;
	nodes[2].c.reachable = false;
	failover_init(&f, &c, 0, t);
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.kind, FA_NONE);
	cr_expect_str_eq(f.event, "failover_impossible");

	/* failover = off */
	setup();
	c.enabled = false;
	failover_init(&f, &c, 0, t);
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.kind, FA_NONE);
	cr_expect_str_eq(f.event, "master_failed");
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.kind, FA_NONE, "and never later");
}

Test(failover, tilt_guard, .init = setup)
{
	Failover f;
	FoAction a;
	usec_t t = 1 * SEC;

	failover_init(&f, &cfg, 0, t);
	t = fail_checks(&f, 2, t, &a);
	/* the loop stalled for 5 s, then the third failure arrives */
	t += 5 * SEC;
	failover_check(&f, false, LSN_INVALID, 0, t);
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_NONE, "after a stall nothing is decided");
	cr_expect_str_eq(f.event, "tilt");
	cr_expect_eq(f.failed, 0);
	t = fail_checks(&f, 2, t, &a);
	cr_expect_eq(a.kind, FA_NONE, "counted again from zero");
	t = fail_checks(&f, 1, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE);
}

Test(failover, aborts_and_retries, .init = setup)
{
	Failover f;
	FoAction a;
	usec_t t = 1 * SEC;

	/* the promotion itself fails */
	failover_init(&f, &cfg, 0, t);
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE);
	failover_done(&f, FA_PROMOTE, false, "connection refused", t);
	cr_expect_eq(f.state, FO_SUSPECT);
	cr_expect_str_eq(f.event, "failover_aborted");
	cr_expect_not_null(strstr(f.detail, "connection refused"), "%s", f.detail);
	t = fail_checks(&f, 1, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE, "tried again at the next failed check");

	/* the driver never answers */
	t += 11 * SEC;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(f.state, FO_SUSPECT, "PROMOTE timed out");
	cr_expect_str_eq(f.event, "failover_aborted");

	/* promoted, but it never shows its new role */
	t = fail_checks(&f, 1, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE);
	failover_done(&f, FA_PROMOTE, true, NULL, t);
	t += 11 * SEC;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(f.state, FO_SUSPECT, "WAIT_ROLE timed out");

	/* reconfiguring fails: the node is promoted, so it is retried */
	t = fail_checks(&f, 1, t, &a);
	failover_done(&f, FA_PROMOTE, true, NULL, t);
	nodes[2].c.in_recovery = false;
	nodes[2].timeline = 2;
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_RECONFIGURE);
	failover_done(&f, FA_RECONFIGURE, false, "cannot write the state file", t);
	cr_expect_eq(f.state, FO_RECONFIGURE);
	cr_expect_str_eq(f.event, "reconfigure_failed");
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_RECONFIGURE, "retried");
	failover_done(&f, FA_RECONFIGURE, true, NULL, t);
	cr_expect_eq(f.master, 2);
}

Test(failover, slow_driver_and_second_failover, .init = setup)
{
	Failover f;
	FoAction a;
	usec_t t = 1 * SEC;

	failover_init(&f, &cfg, 0, t);
	failover_check(&f, true, 5250, 1, t);
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.node, 2);
	/* the monitor sees n2 promoted before the driver reports */
	nodes[2].c.in_recovery = false;
	nodes[2].timeline = 2;
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_RECONFIGURE);
	failover_done(&f, FA_PROMOTE, true, NULL, t); /* late: ignored */
	cr_expect_eq(f.state, FO_RECONFIGURE);
	failover_done(&f, FA_RECONFIGURE, true, NULL, t);
	cr_expect_eq(f.master, 2);

	/* n2 dies too: n1 is the last replica */
	nodes[2].c.reachable = false;
	failover_check(&f, true, 5200, 2, t);
	t = fail_checks(&f, 3, t, &a);
	cr_expect_eq(a.kind, FA_PROMOTE);
	cr_expect_eq(a.node, 1, "the last replica (n0 is dead too)");
	failover_done(&f, FA_PROMOTE, true, NULL, t);
	nodes[1].c.in_recovery = false;
	nodes[1].timeline = 3;
	t += 200 * MS;
	a = failover_tick(&f, nodes, 3, t);
	cr_expect_eq(a.kind, FA_RECONFIGURE);
	failover_done(&f, FA_RECONFIGURE, true, NULL, t);
	cr_expect_eq(f.master, 1);
	cr_expect_eq(f.failovers, 2);
}

Test(failover, names)
{
	for (int s = 0; s < FO__COUNT; s++)
		cr_expect_str_neq(failover_state_name((FoState)s), "?");
	cr_expect_str_eq(failover_state_name(FO__COUNT), "?");
}

/* ---- planned switchover ---------------------------------------------------- */

static void setup_live(void)
{
	setup();
	nodes[0].c.reachable = true; /* the master answers */
}

Test(failover, switchover_happy_path, .init = setup_live)
{
	Failover f;
	FoAction a;
	char why[200];
	usec_t t = 1 * SEC;

	failover_init(&f, &cfg, 0, t);
	failover_check(&f, true, 5300, 1, t);
	a = failover_switchover(&f, 1, nodes, 3, t, why, sizeof(why));
	cr_assert_eq(a.kind, FA_SO_HOLD, "%s", why);
	cr_expect_eq(a.node, 0, "hold the master's units");
	cr_expect_eq(f.state, FO_SO_DRAIN);
	cr_expect_str_eq(f.event, "switchover_started");
	cr_expect(!f.cfg.enabled || f.switchover);
	a = failover_tick(&f, nodes, 3, t + 100 * MS);
	cr_expect_eq(a.kind, FA_NONE, "draining: nothing to do yet");
	a = failover_done(&f, FA_SO_HOLD, true, NULL, t + 200 * MS);
	cr_expect_eq(a.kind, FA_NONE);
	cr_expect_eq(f.state, FO_SO_FENCE);
	a = failover_tick(&f, nodes, 3, t + 200 * MS);
	cr_expect_eq(a.kind, FA_SO_FENCE);
	cr_expect_eq(a.node, 0);
	cr_expect_eq(failover_tick(&f, nodes, 3, t + 250 * MS).kind, FA_NONE, "asked once");
	failover_so_fenced(&f, true, 6000, NULL, t + 300 * MS);
	cr_expect_eq(f.state, FO_SO_CATCHUP);
	cr_expect_eq(f.so_target, 6000);
	/* n1 replayed 5100: not yet */
	cr_expect_eq(failover_tick(&f, nodes, 3, t + 400 * MS).kind, FA_NONE);
	nodes[1].c.replay_lsn = 6000;
	a = failover_tick(&f, nodes, 3, t + 500 * MS);
	cr_expect_eq(a.kind, FA_PROMOTE);
	cr_expect_eq(a.node, 1, "the chosen node, not the most advanced one");
	failover_done(&f, FA_PROMOTE, true, NULL, t + 600 * MS);
	cr_expect_eq(f.state, FO_WAIT_ROLE);
	nodes[1].c.in_recovery = false;
	nodes[1].timeline = 2;
	a = failover_tick(&f, nodes, 3, t + 700 * MS);
	cr_expect_eq(a.kind, FA_RECONFIGURE);
	a = failover_done(&f, FA_RECONFIGURE, true, NULL, t + 800 * MS);
	cr_expect_eq(a.kind, FA_SO_RESUME);
	cr_expect_eq(a.node, 1);
	cr_expect_eq(f.state, FO_HEALTHY);
	cr_expect_eq(f.master, 1);
	cr_expect_eq(f.switchovers, 1);
	cr_expect_eq(f.failovers, 0);
	cr_expect(!f.switchover);
	cr_expect_str_eq(f.event, "switchover_done");
}

Test(failover, switchover_refusals, .init = setup_live)
{
	static const struct {
		int node;
		int setup; /* 0 none, 1 master dead, 2 node unreachable, 3 node not in recovery */
		const char *why;
	} cases[] = {
	    {0, 0, "already the master"}, {7, 0, "no such node"},
	    {-1, 0, "no such node"},	  {1, 1, "does not answer as a master"},
	    {1, 2, "does not answer"},	  {1, 3, "not a replica"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Failover f;
		char why[200] = "";
		FoAction a;

		setup_live();
		if (cases[i].setup == 1)
			nodes[0].c.reachable = false;
		if (cases[i].setup == 2)
			nodes[1].c.reachable = false;
		if (cases[i].setup == 3)
			nodes[1].c.in_recovery = false;
		failover_init(&f, &cfg, 0, 1 * SEC);
		a = failover_switchover(&f, cases[i].node, nodes, 3, 1 * SEC, why, sizeof(why));
		cr_expect_eq(a.kind, FA_NONE, "case %zu", i);
		cr_expect_not_null(strstr(why, cases[i].why), "case %zu: %s", i, why);
		cr_expect_eq(f.state, FO_HEALTHY, "case %zu", i);
	}
	{
		/* not while a failover runs */
		Failover f;
		char why[200];
		setup_live();
		failover_init(&f, &cfg, 0, 1 * SEC);
		failover_check(&f, false, LSN_INVALID, 0, 1 * SEC);
		cr_expect_eq(failover_switchover(&f, 1, nodes, 3, 1 * SEC, why, sizeof(why)).kind,
			     FA_NONE);
		cr_expect_not_null(strstr(why, "under way"), "%s", why);
	}
}

Test(failover, switchover_aborts_on_every_timeout, .init = setup_live)
{
	/* stop at each state, let its timeout pass: FA_SO_ABORT, healthy, old master kept */
	for (int stop = 0; stop < 4; stop++) {
		Failover f;
		FoAction a;
		char why[200];
		usec_t t = 1 * SEC;

		setup_live();
		failover_init(&f, &cfg, 0, t);
		failover_switchover(&f, 1, nodes, 3, t, why, sizeof(why));
		if (stop >= 1) {
			failover_done(&f, FA_SO_HOLD, true, NULL, t);
			failover_tick(&f, nodes, 3, t);
		}
		if (stop >= 2)
			failover_so_fenced(&f, true, 9000, NULL, t);
		if (stop >= 3) {
			nodes[1].c.replay_lsn = 9000;
			cr_assert_eq(failover_tick(&f, nodes, 3, t).kind, FA_PROMOTE);
		}
		for (int k = 1; k <= 100; k++) {
			a = failover_tick(&f, nodes, 3, t + k * 200 * MS);
			if (a.kind != FA_NONE)
				break;
		}
		cr_expect_eq(a.kind, FA_SO_ABORT, "stop %d", stop);
		cr_expect_eq(a.node, 0, "stop %d", stop);
		cr_expect_eq(f.state, FO_HEALTHY, "stop %d", stop);
		cr_expect_eq(f.master, 0, "stop %d", stop);
		cr_expect_str_eq(f.event, "switchover_aborted", "stop %d", stop);
		cr_expect(!f.switchover);
	}
}

Test(failover, switchover_aborts_on_failed_steps, .init = setup_live)
{
	Failover f;
	FoAction a;
	char why[200];

	failover_init(&f, &cfg, 0, 1 * SEC);
	failover_switchover(&f, 2, nodes, 3, 1 * SEC, why, sizeof(why));
	a = failover_done(&f, FA_SO_HOLD, false, "paused by hand", 1 * SEC);
	cr_expect_eq(a.kind, FA_SO_ABORT);

	failover_switchover(&f, 2, nodes, 3, 2 * SEC, why, sizeof(why));
	failover_done(&f, FA_SO_HOLD, true, NULL, 2 * SEC);
	failover_tick(&f, nodes, 3, 2 * SEC);
	a = failover_so_fenced(&f, false, LSN_INVALID, "permission denied", 2 * SEC);
	cr_expect_eq(a.kind, FA_SO_ABORT);
	cr_expect_not_null(strstr(f.detail, "permission denied"), "%s", f.detail);

	failover_switchover(&f, 2, nodes, 3, 3 * SEC, why, sizeof(why));
	failover_done(&f, FA_SO_HOLD, true, NULL, 3 * SEC);
	failover_tick(&f, nodes, 3, 3 * SEC);
	failover_so_fenced(&f, true, 5200, NULL, 3 * SEC);
	cr_expect_eq(failover_tick(&f, nodes, 3, 3 * SEC).kind, FA_PROMOTE, "n2 is at 5200");
	a = failover_done(&f, FA_PROMOTE, false, "pg_promote() returned false", 3 * SEC);
	cr_expect_eq(a.kind, FA_SO_ABORT);
	cr_expect_eq(f.state, FO_HEALTHY);
	cr_expect_eq(f.master, 0);
}
