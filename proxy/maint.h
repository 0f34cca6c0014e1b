/*
 * maint.h - the periodic tick (timeouts, idle trim, shutdown progress) and
 * the reaper that frees closed connections after each loop turn.
 */
#ifndef PROXY_MAINT_H
#define PROXY_MAINT_H

#include "config.h"

#include <ev.h>

void maint_start(struct ev_loop *loop, const Config *cfg);
/*
 * SIGTERM: stop accepting, close idle clients, let transactions finish for
 * up to shutdown_timeout, then disconnect the rest; the loop ends when no
 * client is left.
 */
void maint_begin_shutdown(void);
/* Reload: the configuration to use from now on. */
void maint_set_config(const Config *cfg);
bool maint_shutting_down(void);

#endif
