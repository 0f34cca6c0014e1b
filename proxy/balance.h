/*
 * balance.h - choosing a node for a read: round robin, smooth weighted
 * round robin, least connections, least latency (moving average), and
 * client-address affinity (rendezvous hashing, so a client keeps its node
 * while that node is usable). Pure: the router passes in the candidates.
 */
#ifndef PROXY_BALANCE_H
#define PROXY_BALANCE_H

#include "common.h"

#define BALANCE_MAX_NODES 16

typedef enum BalancePolicy {
	BAL_ROUND_ROBIN,
	BAL_WEIGHTED,
	BAL_LEAST_CONN,
	BAL_LEAST_LATENCY,
	BAL_IP_HASH,
	BAL__COUNT
} BalancePolicy;

typedef struct BalanceCandidate {
	int node;	   /* the caller's node index */
	bool usable;	   /* reachable, fresh enough: otherwise never picked */
	int weight;	   /* >= 0; 0 = never picked (e.g. the master, unless it serves reads) */
	int busy;	   /* server connections in use (least_conn) */
	double latency_us; /* moving average of response time; < 0 = unknown (least_latency) */
} BalanceCandidate;

/* What a policy remembers between picks; zero-initialise it. */
typedef struct BalanceState {
	uint64_t next;			   /* round robin position */
	int64_t current[BALANCE_MAX_NODES]; /* smooth weighted round robin, by candidate slot */
} BalanceState;

const char *balance_policy_name(BalancePolicy p);
bool balance_policy_parse(const char *s, BalancePolicy *out) MUST_CHECK;

/*
 * Returns the chosen candidate's `node`, or -1 when none is usable with a
 * weight > 0. client_key identifies the client for BAL_IP_HASH (e.g. a hash
 * of its address). Candidates must keep their slots (order) between calls
 * for the weighted policy to be smooth.
 */
int balance_pick(BalanceState *st, BalancePolicy policy, const BalanceCandidate *c, size_t n,
		 uint64_t client_key);

/* Exponentially weighted moving average; the first sample initialises it. */
double balance_ewma(double avg, double sample, double alpha);

/* 64-bit hash of bytes (FNV-1a), for client addresses. */
uint64_t balance_hash(const void *p, size_t n);

#endif
