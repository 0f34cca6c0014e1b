/*
 * balance.c - the replica-choice policies behind balance.h. Ties are broken
 * by round robin so equal nodes share the load.
 */
#include "balance.h"

#include <string.h>
#include <strings.h>

static const char *const policy_names[] = {
	[BAL_ROUND_ROBIN] = "round_robin", [BAL_WEIGHTED] = "weighted",
	[BAL_LEAST_CONN] = "least_conn",   [BAL_LEAST_LATENCY] = "least_latency",
	[BAL_IP_HASH] = "ip_hash",
};
_Static_assert(ARRAY_SIZE(policy_names) == BAL__COUNT, "update policy_names");

const char *balance_policy_name(BalancePolicy p)
{
	return (unsigned)p < BAL__COUNT ? policy_names[p] : "?";
}

bool balance_policy_parse(const char *s, BalancePolicy *out)
{
	for (size_t i = 0; i < BAL__COUNT; i++) {
		if (strcasecmp(s, policy_names[i]) == 0) {
			*out = (BalancePolicy)i;
			return true;
		}
	}
	return false;
}

static bool eligible(const BalanceCandidate *c)
{
	return c->usable && c->weight > 0;
}

/* The k-th eligible candidate, counting from a rotating start. */
static int pick_round_robin(BalanceState *st, const BalanceCandidate *c, size_t n)
{
	size_t start = (size_t)(st->next++ % n);

	for (size_t i = 0; i < n; i++) {
		const BalanceCandidate *x = &c[(start + i) % n];
		if (eligible(x))
			return x->node;
	}
	return -1;
}

/* nginx-style smooth weighted round robin: no bursts, exact proportions. */
static int pick_weighted(BalanceState *st, const BalanceCandidate *c, size_t n)
{
	int64_t total = 0;
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < n && i < BALANCE_MAX_NODES; i++) {
		if (!eligible(&c[i])) {
			st->current[i] = 0;
			continue;
		}
		st->current[i] += c[i].weight;
		total += c[i].weight;
		if (best == SIZE_MAX || st->current[i] > st->current[best])
			best = i;
	}
	if (best == SIZE_MAX)
		return -1;
	st->current[best] -= total;
	return c[best].node;
}

/* The eligible candidate with the smallest key; ties rotate. */
static int pick_min(BalanceState *st, const BalanceCandidate *c, size_t n, bool by_latency)
{
	size_t start = (size_t)(st->next++ % n), best = SIZE_MAX;
	double best_key = 0;

	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		double key;
		if (!eligible(&c[i]))
			continue;
		if (by_latency)
			/* unknown latency first: it gets measured */
			key = c[i].latency_us < 0 ? -1 : c[i].latency_us;
		else
			/* connections per unit of weight */
			key = (double)c[i].busy / c[i].weight;
		if (best == SIZE_MAX || key < best_key) {
			best = i;
			best_key = key;
		}
	}
	return best == SIZE_MAX ? -1 : c[best].node;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * Rendezvous hashing: each eligible node scores hash(client, node); the best
 * score wins. A client moves only when its node becomes unusable.
 */
static int pick_ip_hash(const BalanceCandidate *c, size_t n, uint64_t client_key)
{
	int best = -1;
	uint64_t best_score = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t score;
		if (!eligible(&c[i]))
			continue;
		score = mix64(client_key ^ mix64((uint64_t)c[i].node + 1));
		if (best < 0 || score > best_score) {
			best = c[i].node;
			best_score = score;
		}
	}
	return best;
}

int balance_pick(BalanceState *st, BalancePolicy policy, const BalanceCandidate *c, size_t n,
		 uint64_t client_key)
{
	if (n == 0)
		return -1;
	if (n > BALANCE_MAX_NODES)
		n = BALANCE_MAX_NODES;
	switch (policy) {
	case BAL_ROUND_ROBIN:
		return pick_round_robin(st, c, n);
	case BAL_WEIGHTED:
		return pick_weighted(st, c, n);
	case BAL_LEAST_CONN:
		return pick_min(st, c, n, false);
	case BAL_LEAST_LATENCY:
		return pick_min(st, c, n, true);
	case BAL_IP_HASH:
		return pick_ip_hash(c, n, client_key);
	case BAL__COUNT:
		break;
	}
	return -1;
}

double balance_ewma(double avg, double sample, double alpha)
{
	if (avg < 0)
		return sample;
	return avg + alpha * (sample - avg);
}

uint64_t balance_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
