/*
 * test_statefile.c - replication/statefile.c: a round trip, a missing file,
 * malformed files (each with its line), no leftover temporary file, and an
 * unwritable directory.
 */
#include "statefile.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pgrelay-statefile.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(statefile, round_trip, .init = setup, .fini = teardown)
{
	char path[128], tmp[140], err[256];
	FoStateFile s = {.timeline = 3, .nfenced = 2}, r;

	path_of(path, sizeof(path), "state");
	snprintf(s.master, sizeof(s.master), "n2");
	snprintf(s.fenced[0], PG_NAME_MAX, "n0");
	snprintf(s.fenced[1], PG_NAME_MAX, "n1");
	cr_assert(statefile_write(path, &s, err, sizeof(err)), "%s", err);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_expect_neq(access(tmp, F_OK), 0, "no temporary file is left");
	cr_assert_eq(statefile_read(path, &r, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(r.master, "n2");
	cr_expect_eq(r.timeline, 3);
	cr_expect_eq(r.nfenced, 2);
	cr_expect_str_eq(r.fenced[0], "n0");
	cr_expect_str_eq(r.fenced[1], "n1");
	/* a second write replaces the first */
	s.nfenced = 0;
	snprintf(s.master, sizeof(s.master), "n1");
	cr_assert(statefile_write(path, &s, err, sizeof(err)), "%s", err);
	cr_assert_eq(statefile_read(path, &r, err, sizeof(err)), 1);
	cr_expect_str_eq(r.master, "n1");
	cr_expect_eq(r.nfenced, 0);
}

Test(statefile, missing_and_malformed, .init = setup, .fini = teardown)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
	    {"timeline = 2\n", "no master line"},
	    {"master n1\n", ":1: malformed"},
	    {"# c\nmaster = n1\ncolour = blue\n", ":3: malformed"},
	    {"master = n1\ntimeline = two\n", ":2: malformed"},
	    {"master = n1\ntimeline = 99999999999\n", ":2: malformed"},
	    {"master =\n", ":1: malformed"},
	};
	char path[128], err[256];
	FoStateFile r;

	path_of(path, sizeof(path), "none");
	cr_expect_eq(statefile_read(path, &r, err, sizeof(err)), 0, "a missing file");
	path_of(path, sizeof(path), "bad");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i].text);
		err[0] = '\0';
		cr_expect_eq(statefile_read(path, &r, err, sizeof(err)), -1, "%s", bad[i].text);
		cr_expect_not_null(strstr(err, bad[i].why), "%s: got '%s'", bad[i].text, err);
	}
	write_text(path, "  # comment\n\n master = n1 \r\n fenced=n0\n");
	cr_expect_eq(statefile_read(path, &r, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(r.master, "n1");
	cr_expect_str_eq(r.fenced[0], "n0");
}

Test(statefile, unwritable, .init = setup, .fini = teardown)
{
	char path[128], err[256];
	FoStateFile s = {.timeline = 1};

	snprintf(s.master, sizeof(s.master), "n1");
	path_of(path, sizeof(path), "no/such/dir/state");
	err[0] = '\0';
	cr_expect(!statefile_write(path, &s, err, sizeof(err)));
	cr_expect_neq(err[0], '\0', "an error is given");
}

/* ---- the write off the loop ------------------------------------------------------- */

typedef struct AsyncResult {
	int calls;
	bool ok;
	char err[256];
} AsyncResult;

static void async_done(bool ok, const char *err, void *arg)
{
	AsyncResult *r = arg;

	r->calls++;
	r->ok = ok;
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
}

/* Runs the loop until the callback came (bounded: 5 s). */
static void run_until_done(struct ev_loop *loop, const AsyncResult *r)
{
	for (int i = 0; i < 500 && r->calls == 0; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		usleep(10000);
	}
}

Test(statefile, async_write_then_read, .init = setup, .fini = teardown)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	FoStateFile s = {.timeline = 7, .nfenced = 2}, r;
	AsyncResult res = {0};
	char path[128], err[256];

	snprintf(s.master, sizeof(s.master), "n2");
	snprintf(s.fenced[0], PG_NAME_MAX, "n0");
	snprintf(s.fenced[1], PG_NAME_MAX, "n1");
	path_of(path, sizeof(path), "async");
	cr_assert(statefile_write_async(loop, path, &s, async_done, &res, err, sizeof(err)), "%s",
		  err);
	run_until_done(loop, &res);
	cr_assert_eq(res.calls, 1, "the callback ran once, on the loop");
	cr_expect(res.ok, "%s", res.err);
	cr_expect_eq(statefile_read(path, &r, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(r.master, "n2");
	cr_expect_eq(r.timeline, 7);
	cr_expect_eq(r.nfenced, 2);
	cr_expect_str_eq(r.fenced[1], "n1");
	ev_loop_destroy(loop);
}

Test(statefile, async_write_failure, .init = setup, .fini = teardown)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	FoStateFile s = {.timeline = 1};
	AsyncResult res = {0};
	char path[128], err[256];

	snprintf(s.master, sizeof(s.master), "n1");
	path_of(path, sizeof(path), "no/such/dir/state");
	cr_assert(statefile_write_async(loop, path, &s, async_done, &res, err, sizeof(err)), "%s",
		  err);
	run_until_done(loop, &res);
	cr_assert_eq(res.calls, 1);
	cr_expect(!res.ok, "writing into a missing directory fails");
	cr_expect_neq(res.err[0], '\0', "and says why");
	ev_loop_destroy(loop);
}
