/*
 * reload.h - the running configuration and its live reload: SIGHUP and the
 * console's RELOAD re-read proxy.ini; SET changes one key. The new file is
 * parsed and validated completely (and the auth file with it) and applied
 * only when all of it is valid; otherwise the old configuration stays and
 * the errors are logged and returned. Keys that cannot change while running
 * keep their old values and are reported as needing a restart.
 *
 * Ownership: this module owns the current Config and AuthFile (handed over
 * by reload_init()) and frees the old ones after each swap.
 */
#ifndef PROXY_RELOAD_H
#define PROXY_RELOAD_H

#include "config.h"

#include <ev.h>

/* Takes ownership of cfg and af (loaded from path at startup). */
void reload_init(struct ev_loop *loop, Config *cfg, AuthFile *af);
const Config *reload_current(void);

/* Re-reads the file: true when applied; msg says what changed or what is wrong. */
bool reload_file(char *msg, size_t msglen);
/* SET key = value: kept until the next reload of the file (as PgBouncer does). */
bool reload_set(const char *key, const char *value, char *msg, size_t msglen);

void reload_free(void);

#endif
