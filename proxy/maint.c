/*
 * maint.c - one periodic ev_timer for everything time-based (login, wait,
 * connect and idle timeouts; shutdown progress) and the ev_prepare reaper that
 * frees connections closed during the loop turn, before the loop blocks again.

 */
#include "maint.h"

#include "client.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "pool.h"

static struct ev_loop *maint_loop;
static const Config *maint_cfg;
static ev_timer tick;
static ev_prepare reaper;
static bool shutting_down;
static usec_t shutdown_deadline;
static bool forced;

static usec_t now_usec(void)
{
	return (usec_t)(ev_now(maint_loop) * 1e6);
}

static void maint_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	usec_t now = now_usec();

	(void)w;
	(void)revents;
	client_maint(now);
	pool_maint(now);
	if (!shutting_down)
		return;
	if (!forced && now >= shutdown_deadline && client_count() > 0) {
		log_info("shutdown_timeout reached: disconnecting %zu clients", client_count());
		client_close_all("shutdown_timeout reached");
		forced = true;
	}
	if (client_count() == 0) {
		size_t left = pool_close_idle();
		if (left == 0 || forced || now >= shutdown_deadline + 2 * USEC_PER_SEC) {
			log_info("shutdown complete");
			ev_break(loop, EVBREAK_ALL);
		}
	}
}

static void maint_reap_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	conn_reap();
}

void maint_set_config(const Config *cfg)
{
	maint_cfg = cfg;
}

void maint_start(struct ev_loop *loop, const Config *cfg)
{
	maint_loop = loop;
	maint_cfg = cfg;
	ev_timer_init(&tick, maint_tick_cb, 1. / 3, 1. / 3);
	ev_timer_start(loop, &tick);
	/* ev_prepare runs just before the loop blocks: after every callback of the turn */
	ev_prepare_init(&reaper, maint_reap_cb);
	ev_prepare_start(loop, &reaper);
}

void maint_begin_shutdown(void)
{
	if (shutting_down)
		return;
	shutting_down = true;
	shutdown_deadline = now_usec() + maint_cfg->shutdown_timeout;
	log_info("shutting down: no new connections; waiting up to %.1f s for %zu clients",
		 (double)maint_cfg->shutdown_timeout / USEC_PER_SEC, client_count());
	listener_stop();
	client_shutdown_begin();
}

bool maint_shutting_down(void)
{
	return shutting_down;
}
