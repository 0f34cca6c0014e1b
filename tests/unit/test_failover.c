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
