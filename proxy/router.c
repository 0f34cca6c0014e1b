/*
 * router.c - the routing decision (router.h): folding a unit's statements
 * into a summary, the decision table, and the decision counters.
 */
#include "router.h"

static const char *const reason_names[] = {
	[RR_READ] = "read",
	[RR_WRITE] = "write",
	[RR_TXN] = "transaction",
	[RR_TXN_READ_ONLY] = "read_only_transaction",
	[RR_TXN_READ_WRITE] = "read_write_transaction",
	[RR_SERIALIZABLE] = "serializable",
	[RR_PINNED] = "pinned",
	[RR_HINT_PRIMARY] = "hint_primary",
	[RR_HINT_REPLICA] = "hint_replica",
	[RR_HINT_REFUSED] = "hint_refused",
	[RR_NO_REPLICA] = "no_replica",
	[RR_REPLAY_FAILED] = "replay_failed",
	[RR_SESSION] = "session_state",
	[RR_UNKNOWN_FUNCTION] = "unknown_function",
	[RR_MASTER_STATS] = "master_stats",
	[RR_SEQUENCE] = "sequence",
	[RR_UNKNOWN_RELATION] = "unknown_relation",
	[RR_FUNCTION_CALL] = "function_call",
	[RR_FLUSH] = "flush_before_sync",
	[RR_TOO_LARGE] = "batch_too_large",
	[RR_MISROUTE_RERUN] = "misroute_rerun",
	[RR_BEHIND_WRITE] = "behind_write",
	[RR_RYW_UNKNOWN] = "ryw_unknown",
	[RR_RYW_NOT_REPLAYED] = "ryw_not_replayed",
	[RR_TXN_MOVED] = "transaction_moved",
	[RR_ROUTING_OFF] = "routing_off",
};
_Static_assert(ARRAY_SIZE(reason_names) == RR__COUNT, "update reason_names");

const char *router_reason_name(RouteReason r)
{
	return (unsigned)r < RR__COUNT ? reason_names[r] : "?";
}

const char *router_dest_name(RouteDest d)
{
	return d == DEST_MASTER ? "master" : d == DEST_REPLICA ? "replica" : "?";
}

void router_summary_init(UnitSummary *u)
{
	*u = (UnitSummary){.all_read = true,
			   .txn_reads = true,
			   .soft_writes = true,
			   .prelude = true,
			   .cls = SC_EMPTY,
			   .reason = CR_EMPTY};
}

void router_fold(UnitSummary *u, StmtClass cls, ClassReason reason, uint32_t flags)
{
	bool read = cls == SC_READ || cls == SC_EMPTY;

	if (u->n == 0 || (u->all_read && !read)) {
		u->cls = cls;
		u->reason = reason;
		u->flags = flags;
	}
	u->n++;
	u->hint_master |= (flags & SF_HINT_MASTER) != 0;
	u->hint_replica |= (flags & SF_HINT_REPLICA) != 0;
	u->stats |= (flags & SF_MASTER_STATS) != 0;
	switch (cls) {
	case SC_BEGIN:
		if (!u->begins)
			u->begin_flags = flags;
		else
			u->txn_reads = false; /* a second transaction in one text: keep it simple */
		u->begins = true;
		break;
	case SC_END:
		u->ends = true;
		u->rollback = (flags & SF_ROLLBACK) != 0;
		u->chain = (flags & SF_CHAIN) != 0;
		break;
	case SC_SESSION:
		u->session = true;
		break;
	case SC_SET_TXN:
		if (flags & SF_SESSION_CHARS) {
			u->session = true;
			break;
		}
		u->set_txn = true;
		u->set_txn_flags |= flags;
		/* BEGIN; SET TRANSACTION READ ONLY is a read-only transaction */
		if (u->begins && !u->txn_stmt)
			u->begin_flags |= flags & (SF_READ_ONLY | SF_READ_WRITE | SF_SERIALIZABLE |
						   SF_REPEATABLE_READ | SF_DEFERRABLE);
		break;
	case SC_PIN:
		u->pin = true;
		break;
	case SC_TXN:
		u->txn_stmt = true;
		break;
	default:
		break;
	}
	if (cls != SC_EMPTY && cls != SC_BEGIN &&
	    !(cls == SC_SET_TXN && !(flags & SF_SESSION_CHARS)))
		u->prelude = false;
	/* what may run inside a read-only transaction on a replica */
	if (!read && cls != SC_BEGIN && cls != SC_TXN && cls != SC_END &&
	    !(cls == SC_SET_TXN &&
	      !(flags & (SF_SESSION_CHARS | SF_SERIALIZABLE | SF_READ_WRITE))))
		u->txn_reads = false;
	if (!read && !(cls == SC_WRITE &&
		       (reason == CR_UNKNOWN_FUNCTION || reason == CR_MASTER_STATS ||
			reason == CR_UNKNOWN_RELATION)))
		u->soft_writes = false;
	if (!read)
		u->all_read = false;
}

bool router_is_barrier(const UnitSummary *u)
{
	return u->begins || u->ends || u->session || u->pin;
}

static RouteDecision decide(RouteDest d, RouteReason r)
{
	return (RouteDecision){d, r};
}

/* Where a read goes: a replica when one can serve the session. */
static RouteDecision read_dest(const RouteInput *in, RouteReason r)
{
	return in->replica_usable ? decide(DEST_REPLICA, r) : decide(DEST_MASTER, RR_NO_REPLICA);
}

RouteDecision router_decide(const RouteInput *in)
{
	const UnitSummary *u = in->unit;

	if (in->in_txn)
		return decide(in->txn_dest, RR_TXN);
	if (!in->routing_enabled)
		return decide(DEST_MASTER, RR_ROUTING_OFF);
	if (in->pinned)
		return decide(DEST_MASTER, RR_PINNED);
	if (u->hint_master)
		return decide(DEST_MASTER, RR_HINT_PRIMARY);
	/* what it measures includes its own reads: the replicas' do not count on the master */
	if (in->stats_session)
		return decide(DEST_MASTER, RR_MASTER_STATS);
	/* even an implicit transaction is SERIALIZABLE then: a hot standby refuses it */
	if (in->session_serializable &&
	    !(u->begins && (u->begin_flags & SF_REPEATABLE_READ)))
		return decide(DEST_MASTER, RR_SERIALIZABLE);
	if (u->begins) {
		uint32_t f = u->begin_flags;
		bool ro = (f & SF_READ_ONLY) || (in->session_read_only && !(f & SF_READ_WRITE));
		bool ser = (f & SF_SERIALIZABLE) ||
			   (in->session_serializable && !(f & SF_REPEATABLE_READ));

		if (ser)
			return decide(DEST_MASTER, RR_SERIALIZABLE);
		if (ro && u->txn_reads && !u->pin && !u->session)
			return read_dest(in, RR_TXN_READ_ONLY);
		return decide(DEST_MASTER, RR_TXN_READ_WRITE);
	}
	if (u->all_read)
		return read_dest(in, u->hint_replica ? RR_HINT_REPLICA : RR_READ);
	if (u->hint_replica) {
		/* the application knows better than "cannot prove it": a write is refused */
		if (u->soft_writes && !u->begins)
			return read_dest(in, RR_HINT_REPLICA);
		return decide(DEST_MASTER, RR_HINT_REFUSED);
	}
	if (u->session)
		return decide(DEST_MASTER, RR_SESSION);
	if (u->reason == CR_UNKNOWN_FUNCTION)
		return decide(DEST_MASTER, RR_UNKNOWN_FUNCTION);
	if (u->reason == CR_MASTER_STATS)
		return decide(DEST_MASTER, RR_MASTER_STATS);
	if (u->reason == CR_SEQUENCE)
		return decide(DEST_MASTER, RR_SEQUENCE);
	if (u->reason == CR_UNKNOWN_RELATION)
		return decide(DEST_MASTER, RR_UNKNOWN_RELATION);
	return decide(DEST_MASTER, RR_WRITE);
}

/* ---- counters ---------------------------------------------------------------- */

static uint64_t counts[ROUTER_MAX_NODES][RR__COUNT];
static uint64_t misroutes[ROUTER_MAX_NODES];

void router_count(int node, RouteReason r)
{
	if (node >= 0 && node < ROUTER_MAX_NODES && (unsigned)r < RR__COUNT)
		counts[node][r]++;
}

uint64_t router_counter(int node, RouteReason r)
{
	if (node >= 0 && node < ROUTER_MAX_NODES && (unsigned)r < RR__COUNT)
		return counts[node][r];
	return 0;
}

void router_count_misroute(int node)
{
	if (node >= 0 && node < ROUTER_MAX_NODES)
		misroutes[node]++;
}

uint64_t router_misroutes(int node)
{
	return node >= 0 && node < ROUTER_MAX_NODES ? misroutes[node] : 0;
}
