/*
 * hook.h - promote_command / follow_command: a shell command run for the
 * failover without blocking the loop (fork + exec of /bin/sh -c, an
 * ev_child watcher for its exit, our own timer that kills it when it takes
 * too long). hook_expand() is pure: the placeholders %n %h %p (a node),
 * %N %H %P (the new master) and %% (a literal %).
 */
#ifndef REPLICATION_HOOK_H
#define REPLICATION_HOOK_H

#include "common.h"

#include <ev.h>

typedef struct HookVars {
	const char *n, *h, *p; /* the node acted on: name, host, port */
	const char *N, *H, *P; /* the new master (follow_command), or NULL */
} HookVars;

/* The command with its placeholders replaced; false when it does not fit in cap. */
bool hook_expand(const char *tmpl, const HookVars *v, char *out, size_t cap) MUST_CHECK;

/* ok: it exited 0 in time; why: what went wrong otherwise (static or formatted text). */
typedef void (*HookDone)(bool ok, const char *why, void *arg);

/* Starts cmd; done is called once (never from within hook_run). False if it could not start. */
bool hook_run(struct ev_loop *loop, const char *cmd, usec_t timeout, HookDone done,
	      void *arg) MUST_CHECK;

#endif
