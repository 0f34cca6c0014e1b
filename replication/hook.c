/*
 * hook.c - running promote_command / follow_command (hook.h).
 */
#include "hook.h"

#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool hook_expand(const char *tmpl, const HookVars *v, char *out, size_t cap)
{
	size_t len = 0;

	for (const char *s = tmpl; *s; s++) {
		const char *val = NULL;
		char one[2] = {*s, '\0'};

		if (*s == '%' && s[1]) {
			switch (s[1]) {
			case 'n':
				val = v->n;
				break;
			case 'h':
				val = v->h;
				break;
			case 'p':
				val = v->p;
				break;
			case 'N':
				val = v->N;
				break;
			case 'H':
				val = v->H;
				break;
			case 'P':
				val = v->P;
				break;
			case '%':
				val = "%";
				break;
			default:
				break;
			}
			if (val || s[1] == 'N' || s[1] == 'H' || s[1] == 'P') {
				s++;
				if (!val)
					val = "";
			}
		}
		if (!val)
			val = one;
		for (; *val; val++) {
			if (len + 1 >= cap)
				return false;
			out[len++] = *val;
		}
	}
	if (len >= cap)
		return false;
	out[len] = '\0';
	return true;
}

typedef struct Hook {
	ev_child child;
	ev_timer timer;
	struct ev_loop *loop;
	HookDone done;
	void *arg;
	bool killed;
} Hook;

static void hook_finish(Hook *h, bool ok, const char *why)
{
	ev_child_stop(h->loop, &h->child);
	ev_timer_stop(h->loop, &h->timer);
	h->done(ok, why, h->arg);
	free(h);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	Hook *h = container_of(w, Hook, child);
	char why[96];

	(void)loop;
	(void)revents;
	if (h->killed) {
		hook_finish(h, false, "timed out (killed)");
		return;
	}
	if (WIFEXITED(w->rstatus) && WEXITSTATUS(w->rstatus) == 0) {
		hook_finish(h, true, "exited 0");
		return;
	}
	if (WIFEXITED(w->rstatus))
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(w->rstatus));
	else
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(w->rstatus));
	hook_finish(h, false, why);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	Hook *h = container_of(w, Hook, timer);

	(void)loop;
	(void)revents;
	h->killed = true;
	/* the whole process group: the shell and what it started */
	kill(-h->child.pid, SIGKILL);
}

bool hook_run(struct ev_loop *loop, const char *cmd, usec_t timeout, HookDone done, void *arg)
{
	Hook *h = xcalloc(1, sizeof(*h));
	pid_t pid;

	h->loop = loop;
	h->done = done;
	h->arg = arg;
	pid = fork();
	if (pid < 0) {
		free(h);
		return false;
	}
	if (pid == 0) {
		/* a group of its own, so a timeout kills everything it started */
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	log_info("hook: running (pid %d): %s", (int)pid, cmd);
	ev_child_init(&h->child, on_child, pid, 0);
	ev_child_start(loop, &h->child);
	ev_timer_init(&h->timer, on_timeout, (double)timeout / USEC_PER_SEC, 0.);
	ev_timer_start(loop, &h->timer);
	return true;
}
