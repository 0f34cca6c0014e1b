/*
 * test_balance.c - the replica-choice policies: proportions, skipping
 * unusable nodes, ties, and the stickiness of client-address affinity.
 */
#include "balance.h"

#include <criterion/criterion.h>
#include <string.h>

static BalanceCandidate cand(int node, bool usable, int weight, int busy, double lat)
{
	BalanceCandidate c = {.node = node, .usable = usable, .weight = weight, .busy = busy,
			      .latency_us = lat};
	return c;
}

/* counts[node] after n picks */
static void tally(BalancePolicy p, const BalanceCandidate *c, size_t nc, int picks, int *counts)
{
	BalanceState st;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < picks; i++) {
		int node = balance_pick(&st, p, c, nc, (uint64_t)i);
		cr_assert(node >= 0 && node < 8, "pick %d gave %d", i, node);
		counts[node]++;
	}
}

Test(balance, names_and_parse)
{
	for (int p = 0; p < BAL__COUNT; p++) {
		BalancePolicy back;
		const char *name = balance_policy_name((BalancePolicy)p);
		cr_assert_not_null(name);
		cr_assert(balance_policy_parse(name, &back), "%s", name);
		cr_assert_eq(back, (BalancePolicy)p);
	}
	BalancePolicy x;
	cr_assert(balance_policy_parse("ROUND_ROBIN", &x));
	cr_assert_not(balance_policy_parse("random", &x));
	cr_assert_not(balance_policy_parse("", &x));
}

Test(balance, nothing_usable)
{
	static const struct {
		BalancePolicy p;
	} cases[] = {{BAL_ROUND_ROBIN}, {BAL_WEIGHTED}, {BAL_LEAST_CONN}, {BAL_LEAST_LATENCY},
		     {BAL_IP_HASH}};
	BalanceCandidate c[3] = {cand(0, false, 1, 0, 1), cand(1, true, 0, 0, 1),
				 cand(2, false, 5, 0, 1)};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		BalanceState st;
		memset(&st, 0, sizeof(st));
		cr_assert_eq(balance_pick(&st, cases[i].p, c, 3, 7), -1, "%s",
			     balance_policy_name(cases[i].p));
		cr_assert_eq(balance_pick(&st, cases[i].p, c, 0, 7), -1);
	}
}

Test(balance, round_robin_even_and_skips_unusable)
{
	BalanceCandidate c[4] = {cand(0, true, 0, 0, -1), cand(1, true, 1, 0, -1),
				 cand(2, false, 1, 0, -1), cand(3, true, 1, 0, -1)};
	int counts[8] = {0};
	tally(BAL_ROUND_ROBIN, c, 4, 1000, counts);
	cr_assert_eq(counts[0], 0, "weight 0 (the master) never serves reads");
	cr_assert_eq(counts[2], 0, "an unusable replica is never picked");
	cr_assert_eq(counts[1] + counts[3], 1000);
	cr_assert(counts[1] >= 250 && counts[3] >= 250, "%d/%d", counts[1], counts[3]);
}

Test(balance, weighted_exact_and_smooth)
{
	BalanceCandidate c[3] = {cand(0, true, 5, 0, -1), cand(1, true, 1, 0, -1),
				 cand(2, true, 1, 0, -1)};
	BalanceState st;
	int seq[7], counts[3] = {0}, run = 0, max_run = 0, prev = -1;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 7; i++) {
		seq[i] = balance_pick(&st, BAL_WEIGHTED, c, 3, 0);
		counts[seq[i]]++;
		run = seq[i] == prev ? run + 1 : 1;
		max_run = run > max_run ? run : max_run;
		prev = seq[i];
	}
	cr_assert_eq(counts[0], 5);
	cr_assert_eq(counts[1], 1);
	cr_assert_eq(counts[2], 1);
	cr_assert(max_run <= 2, "smooth: no burst of the heavy node (max run %d)", max_run);

	/* proportions hold over many rounds, and an unusable node drops out */
	int many[8] = {0};
	c[2].usable = false;
	tally(BAL_WEIGHTED, c, 3, 600, many);
	cr_assert_eq(many[0], 500);
	cr_assert_eq(many[1], 100);
	cr_assert_eq(many[2], 0);
}

Test(balance, least_conn_per_weight_and_ties_rotate)
{
	BalanceState st;
	memset(&st, 0, sizeof(st));
	BalanceCandidate c[3] = {cand(0, true, 1, 4, -1), cand(1, true, 1, 2, -1),
				 cand(2, true, 2, 3, -1)};
	/* busy/weight: 4, 2, 1.5 */
	cr_assert_eq(balance_pick(&st, BAL_LEAST_CONN, c, 3, 0), 2);
	c[2].usable = false;
	cr_assert_eq(balance_pick(&st, BAL_LEAST_CONN, c, 3, 0), 1);
	/* equal load: both get picked */
	BalanceCandidate d[2] = {cand(5, true, 1, 1, -1), cand(6, true, 1, 1, -1)};
	int counts[8] = {0};
	tally(BAL_LEAST_CONN, d, 2, 100, counts);
	cr_assert(counts[5] > 0 && counts[6] > 0, "%d/%d", counts[5], counts[6]);
}

Test(balance, least_latency_prefers_fast_and_measures_unknown)
{
	BalanceState st;
	memset(&st, 0, sizeof(st));
	BalanceCandidate c[3] = {cand(0, true, 1, 0, 900), cand(1, true, 1, 0, 150),
				 cand(2, true, 1, 0, 400)};
	cr_assert_eq(balance_pick(&st, BAL_LEAST_LATENCY, c, 3, 0), 1);
	c[2].latency_us = -1;
	cr_assert_eq(balance_pick(&st, BAL_LEAST_LATENCY, c, 3, 0), 2, "unknown is tried first");
	c[1].usable = false;
	c[2].latency_us = 2000;
	cr_assert_eq(balance_pick(&st, BAL_LEAST_LATENCY, c, 3, 0), 0);
}

Test(balance, ip_hash_sticky_spread_and_minimal_moves)
{
	BalanceCandidate c[3] = {cand(1, true, 1, 0, -1), cand(2, true, 1, 0, -1),
				 cand(3, true, 1, 0, -1)};
	BalanceState st;
	int first[1000], counts[8] = {0}, moved = 0;
	memset(&st, 0, sizeof(st));
	for (int k = 0; k < 1000; k++) {
		uint64_t key = balance_hash(&k, sizeof(k));
		first[k] = balance_pick(&st, BAL_IP_HASH, c, 3, key);
		counts[first[k]]++;
		for (int again = 0; again < 3; again++)
			cr_assert_eq(balance_pick(&st, BAL_IP_HASH, c, 3, key), first[k],
				     "a client sticks to its node");
	}
	for (int n = 1; n <= 3; n++)
		cr_assert(counts[n] > 250 && counts[n] < 420, "node %d has %d of 1000", n, counts[n]);
	/* node 2 becomes unusable: only its clients move */
	c[1].usable = false;
	for (int k = 0; k < 1000; k++) {
		int now = balance_pick(&st, BAL_IP_HASH, c, 3, balance_hash(&k, sizeof(k)));
		cr_assert_neq(now, 2);
		if (first[k] != 2)
			cr_assert_eq(now, first[k], "client %d moved although its node is fine", k);
		else
			moved++;
	}
	cr_assert_eq(moved, counts[2]);
}

Test(balance, ewma_and_hash)
{
	cr_assert_float_eq(balance_ewma(-1, 100, 0.2), 100, 1e-9, "first sample initialises");
	cr_assert_float_eq(balance_ewma(100, 200, 0.25), 125, 1e-9);
	cr_assert_neq(balance_hash("127.0.0.1", 9), balance_hash("127.0.0.2", 9));
	cr_assert_eq(balance_hash("", 0), 0xcbf29ce484222325ULL);
}
