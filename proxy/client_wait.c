/*
 * client_wait.c - sessions held for a while: reads waiting for the monitor
 * (read-your-writes, no fresh replica), logins and writes waiting for a
 * failover, units held by PAUSE or by a switchover's gate; the list they
 * wait on, their timers, and the monitor's news that wakes them (including
 * the move of every session to a new master). Also the counts a PAUSE and
 * a switchover wait on.
 */
#include "client_int.h"

#include "monitor.h"
#include "topology.h"

static ListHead waiting = {.head = {&waiting.head, &waiting.head}};

static void on_wait_timer(struct ev_loop *loop, ev_timer *w, int revents);

void client_wait_init(Client *cl)
{
	list_init(&cl->wait_node);
	ev_timer_init(&cl->wait_timer, on_wait_timer, 0., 0.);
}

void client_wait_clear(Client *cl)
{
	cl->wait_until = 0;
	ev_timer_stop(client_loop, &cl->wait_timer);
	if (list_linked(&cl->wait_node))
		list_remove(&waiting, &cl->wait_node);
}

/* A held unit (or a held login) looks again. */
static void wait_wake(Client *cl, bool timer)
{
	if (cl->state == CL_WAITING) {
		if (monitor_failover_active() && !timer)
			client_login_hold(cl); /* still under way: keep waiting */
		else if (monitor_failover_active())
			client_fatal(cl, "57P03",
				     "no master is available: a failover is in progress");
		else
			client_login_retry(cl);
		return;
	}
	client_forward(cl);
}

static void on_wait_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	Client *cl = container_of(w, Client, wait_timer);

	(void)loop;
	(void)revents;
	wait_wake(cl, true);
}

/*
 * Holds the unit being routed for at most `budget` from the first call:
 * true while it may still wait (the monitor's news or the timer retries it).
 */
bool client_wait_for(Client *cl, usec_t budget)
{
	usec_t now = client_now();

	if (!cl->wait_until)
		cl->wait_until = now + budget;
	if (now >= cl->wait_until)
		return false;
	if (!list_linked(&cl->wait_node))
		list_append(&waiting, &cl->wait_node);
	ev_timer_stop(client_loop, &cl->wait_timer);
	ev_timer_set(&cl->wait_timer, (double)(cl->wait_until - now) / USEC_PER_SEC, 0.);
	ev_timer_start(client_loop, &cl->wait_timer);
	return true;
}

/*
 * After a failover: a session's connection to the old master goes (its
 * next master unit takes one to the new master); a transaction there is
 * lost; a statement running there has an unknown outcome.
 */
void client_master_changed(Client *cl, const Node *master)
{
	Backend *b = &cl->bk[DEST_MASTER];
	Server *sv = b->sv;

	bool owed = false;

	if (!sv || sv->node == master)
		return;
	for (unsigned i = 0; i < cl->qlen; i++)
		owed |= client_q_at(cl, i)->dest == DEST_MASTER;
	b->sv = NULL;
	sv->link = NULL;
	server_close(sv, "the master changed (failover)");
	if (!client_master_lost(cl, b, owed, sv->node->name, "failover")) {
		client_fatal(cl, "08006",
			     "failover: the master changed under the session (its statements' "
			     "outcome is unknown)");
		return;
	}
	clog_info(cl, "failover: its next master statement goes to %s", master->name);
}

void client_wait_done(Client *cl)
{
	client_wait_clear(cl);
}

bool client_login_hold(Client *cl)
{
	if (!client_wait_for(cl, client_cfg->write_wait_timeout))
		return false;
	clog_info(cl, "no master during a failover: the login waits");
	return true;
}

/* The monitor learned something: every held read looks again. */
void client_monitor_news(void)
{
	static const Node *known_master;
	const Node *m = topology_master();
	ListHead now;
	List *it, *tmp;

	if (!known_master)
		known_master = m;
	if (m && m != known_master) {
		pool_close_node_idle(known_master, "fenced by a failover");
		known_master = m;
		client_each(client_master_changed, m);
	}
	if (listhead_empty(&waiting))
		return;
	/* client_forward may put a client back on the list: take the list first */
	listhead_init(&now);
	list_for_each_safe(it, tmp, &waiting)
	{
		list_remove(&waiting, it);
		list_append(&now, it);
	}
	while (!listhead_empty(&now)) {
		Client *cl = container_of(listhead_pop(&now), Client, wait_node);
		wait_wake(cl, false);
	}
}

/* ---- admin PAUSE, a switchover's gate ------------------------------------------------ */

bool client_paused;	 /* PAUSE: no new transaction starts */
static bool hold_master; /* a switchover: no new transaction starts on the master */

void client_hold(Client *cl)
{
	if (!list_linked(&cl->wait_node))
		list_append(&waiting, &cl->wait_node);
}

bool client_master_held(void)
{
	return hold_master;
}

void client_hold_master(bool on)
{
	hold_master = on;
	if (!on)
		client_monitor_news();
}

void client_set_paused(bool on)
{
	client_paused = on;
	if (!on)
		client_monitor_news();
}

static size_t busy_count;

static void count_busy(Client *cl, const Node *arg)
{
	bool busy = cl->in_txn && !cl->defer_begin && cl->txn_dest == DEST_MASTER;

	(void)arg;
	for (unsigned i = 0; i < cl->qlen && !busy; i++)
		busy = client_q_at(cl, i)->dest == DEST_MASTER;
	busy_count += busy;
}

size_t client_master_busy(void)
{
	busy_count = 0;
	client_each(count_busy, NULL);
	return busy_count;
}

static void count_txn(Client *cl, const Node *arg)
{
	(void)arg;
	busy_count += (cl->in_txn && !cl->defer_begin) || cl->qlen > 0;
}

size_t client_running(void)
{
	busy_count = 0;
	client_each(count_txn, NULL);
	return busy_count;
}
