/*
 * test_hook.c - replication/hook.c: placeholder expansion (every placeholder, %%, unknown
 * ones kept, the new master's left empty when absent, too long), and running commands on a
 * real libev loop: success, a failing exit status, a timeout that kills the process group.
 */
#include "hook.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

Test(hook, expand)
{
	static const HookVars v = {"n1", "10.0.0.1", "5433", "n2", "10.0.0.2", "5434"};
	static const HookVars nomaster = {"n1", "h", "1", NULL, NULL, NULL};
	static const struct {
		const char *tmpl;
		const HookVars *v;
		const char *want;
	} cases[] = {
	    {"promote %n at %h:%p", &v, "promote n1 at 10.0.0.1:5433"},
	    {"follow %n -> %N (%H:%P)", &v, "follow n1 -> n2 (10.0.0.2:5434)"},
	    {"100%% sure", &v, "100% sure"},
	    {"%x stays", &v, "%x stays"},
	    {"trailing %", &v, "trailing %"},
	    {"no master: [%N]", &nomaster, "no master: []"},
	    {"", &v, ""},
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(hook_expand(cases[i].tmpl, cases[i].v, out, sizeof(out)), "%s",
			  cases[i].tmpl);
		cr_expect_str_eq(out, cases[i].want, "%s", cases[i].tmpl);
	}
	cr_expect(!hook_expand("promote %n", &v, out, 10), "does not fit");
	cr_expect(hook_expand("%n", &v, out, 3), "exactly fits");
	cr_expect_str_eq(out, "n1");
}

static struct {
	int calls;
	bool ok;
	char why[96];
} got;

static void done(bool ok, const char *why, void *arg)
{
	(void)arg;
	got.calls++;
	got.ok = ok;
	snprintf(got.why, sizeof(got.why), "%s", why);
	ev_break(ev_default_loop(0), EVBREAK_ALL);
}

static void run(const char *cmd, usec_t timeout)
{
	struct ev_loop *loop = ev_default_loop(0);

	memset(&got, 0, sizeof(got));
	cr_assert(hook_run(loop, cmd, timeout, done, NULL));
	ev_run(loop, 0);
	cr_expect_eq(got.calls, 1, "%s: done once", cmd);
}

Test(hook, run_ok)
{
	run("exit 0", 5 * USEC_PER_SEC);
	cr_expect(got.ok);
}

Test(hook, run_fails)
{
	run("echo failing >/dev/null; exit 3", 5 * USEC_PER_SEC);
	cr_expect(!got.ok);
	cr_expect_str_eq(got.why, "exited with status 3");
}

Test(hook, run_times_out)
{
	run("sleep 30; exit 0", 200 * USEC_PER_MS);
	cr_expect(!got.ok);
	cr_expect_str_eq(got.why, "timed out (killed)");
}
