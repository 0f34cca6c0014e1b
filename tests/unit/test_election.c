/*
 * test_election.c - replication/election.c: which replica is promoted (position,
 * priority, name, never-promote, unreachable, not a replica any more), the
 * max_failover_lag refusal, and the witnesses that keep a master alive.
 */
#include "election.h"

#include <criterion/criterion.h>

#define GB (1024ull * 1024 * 1024)
#define L(hi, lo) (((Lsn)(hi) << 32) | (lo))

static Candidate cand(int node, const char *name, Lsn recv, Lsn replay)
{
	return (Candidate){.node = node,
			   .name = name,
			   .reachable = true,
			   .in_recovery = true,
			   .priority = 100,
			   .receive_lsn = recv,
			   .replay_lsn = replay,
			   .streaming = false,
			   .receipt_age = -1};
}

Test(election, most_advanced_wins)
{
	struct {
		const char *what;
		Candidate c[3];
		size_t n;
		int want;
	} cases[] = {
	    {"by received position (it holds what synchronous replication acknowledged)",
	     {cand(1, "n1", 100, 90), cand(2, "n2", 200, 50)},
	     2,
	     2},
	    {"equal received: the one that applied more (a delayed replica loses)",
	     {cand(1, "n1", 300, 100), cand(2, "n2", 300, 250)},
	     2,
	     2},
	    {"a receiver restarted: replayed counts as received",
	     {cand(1, "n1", 0, 300), cand(2, "n2", 250, 250)},
	     2,
	     1},
	    {"across the 32-bit boundary",
	     {cand(1, "n1", L(0, 0xffffffff), 0), cand(2, "n2", L(1, 0), 0)},
	     2,
	     2},
	    {"a tie goes to the higher priority",
	     {cand(1, "n1", 100, 100), cand(2, "n2", 100, 100)},
	     2,
	     1},
	    {"a single candidate", {cand(7, "n7", 5, 5)}, 1, 7},
	};
	cases[4].c[1].priority = 200;
	cases[4].want = 2;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Election e = election_choose(cases[i].c, cases[i].n, LSN_INVALID, 0);
		cr_expect_eq(e.result, ELECT_OK, "%s", cases[i].what);
		cr_expect_eq(e.node, cases[i].want, "%s: chose %d", cases[i].what, e.node);
		cr_expect_not_null(e.why, "%s", cases[i].what);
	}
}

Test(election, ties_by_name)
{
	Candidate c[] = {cand(1, "n2", 100, 100), cand(2, "n1", 100, 100), cand(3, "n3", 100, 100)};
	Election e = election_choose(c, 3, LSN_INVALID, 0);

	cr_expect_eq(e.node, 2, "equal position and priority: the first name (n1)");
}

Test(election, ineligible)
{
	Candidate c[4];
	Election e;

	c[0] = cand(1, "down", 900, 900);
	c[0].reachable = false;
	c[1] = cand(2, "never", 800, 800);
	c[1].never_promote = true;
	c[2] = cand(3, "promoted", 700, 700);
	c[2].in_recovery = false;
	c[3] = cand(4, "nothing", 0, 0);
	e = election_choose(c, 4, LSN_INVALID, 0);
	cr_expect_eq(e.result, ELECT_NONE);
	cr_expect_eq(e.node, -1);
	cr_expect_not_null(e.why);

	/* one eligible, behind the others: it is the one */
	Candidate d[3] = {c[0], c[1], cand(5, "ok", 10, 10)};
	e = election_choose(d, 3, LSN_INVALID, 0);
	cr_expect_eq(e.result, ELECT_OK);
	cr_expect_eq(e.node, 5);
	e = election_choose(NULL, 0, LSN_INVALID, 0);
	cr_expect_eq(e.result, ELECT_NONE);
}

Test(election, max_failover_lag)
{
	struct {
		Lsn master;
		uint64_t max;
		ElectResult want;
		uint64_t behind;
	} cases[] = {
	    {L(0, 1000), 0, ELECT_OK, 600},	   /* no limit */
	    {L(0, 1000), 600, ELECT_OK, 600},	   /* exactly at the limit */
	    {L(0, 1001), 600, ELECT_TOO_FAR, 601}, /* over it */
	    {LSN_INVALID, 1, ELECT_OK, 0},	   /* master never measured: unknown, allowed */
	    {L(0, 100), 1, ELECT_OK, 0},	   /* the replica is ahead of the last sample */
	    {L(2, 0), GB, ELECT_TOO_FAR, (2ull << 32) - 400}, /* far behind */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Candidate c[] = {cand(1, "n1", 500, 400), cand(2, "n2", 300, 300)};
		Election e = election_choose(c, 2, cases[i].master, cases[i].max);
		cr_expect_eq(e.result, cases[i].want, "case %zu: result %d", i, e.result);
		cr_expect_eq(e.node, 1, "case %zu: the best candidate is named either way", i);
		cr_expect_eq(e.behind, cases[i].behind, "case %zu: behind %llu", i,
			     (unsigned long long)e.behind);
	}
}

Test(election, witnesses)
{
	const char *w = "x";
	Candidate c[3] = {cand(1, "n1", 1, 1), cand(2, "n2", 1, 1), cand(3, "n3", 1, 1)};

	cr_expect(!election_master_alive(c, 3, 1000000, &w), "nobody streams");
	cr_expect_null(w);
	c[1].streaming = true;
	c[1].receipt_age = 200000;
	cr_expect(election_master_alive(c, 3, 1000000, &w), "n2 heard from the master 0.2 s ago");
	cr_expect_str_eq(w, "n2");
	cr_expect(!election_master_alive(c, 3, 100000, &w), "0.2 s is not recent enough for 0.1 s");
	c[1].receipt_age = -1;
	cr_expect(!election_master_alive(c, 3, 1000000, &w), "streaming, age unknown");
	c[1].receipt_age = 0;
	c[1].reachable = false;
	cr_expect(!election_master_alive(c, 3, 1000000, &w), "an unreachable witness says nothing");
	c[1].reachable = true;
	c[1].in_recovery = false;
	cr_expect(!election_master_alive(c, 3, 1000000, &w), "a promoted node is no witness");
}
