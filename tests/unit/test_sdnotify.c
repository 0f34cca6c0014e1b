/*
 * test_sdnotify.c - proxy/sdnotify.c against real AF_UNIX datagram sockets: sdnotify_send_to
 * to a filesystem and an abstract name, the names it refuses (relative, empty, too long for
 * sun_path) and the boundary lengths it accepts; the messages behind sdnotify_ready /
 * _reloading / _stopping / _status; watchdog pings on a libev loop and WATCHDOG_PID; a no-op
 * without NOTIFY_SOCKET; one warning for many failed sends. Also proxy/log.c's line formats:
 * journal ("<N>LEVEL msg"), plain, and the JOURNAL_STREAM detection.
 */
#include "log.h"
#include "sdnotify.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* ---- a receiving socket in a temporary directory ------------------------------------- */

static char tmpdir[64];
static char sockpath[128];
static int rfd = -1;

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sdnotify.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(sockpath, sizeof(sockpath), "%s/notify", tmpdir);
}

static void tmp_teardown(void)
{
	sdnotify_stop();
	if (rfd >= 0)
		close(rfd);
	rfd = -1;
	unlink(sockpath);
	rmdir(tmpdir);
}

/* Binds a datagram socket to a sockaddr_un of len bytes. */
static int bind_dgram(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert(bind(fd, (const struct sockaddr *)sa, len) == 0, "bind: %s", strerror(errno));
	return fd;
}

static int bind_path(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	cr_assert_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	return bind_dgram(&sa,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1));
}

/* Binds the abstract name "@name" (name given without the '@'). */
static int bind_abstract(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(name);

	cr_assert(n + 1 <= sizeof(sa.sun_path));
	memcpy(sa.sun_path + 1, name, n);
	return bind_dgram(&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
}

/* The next datagram (NUL-terminated in buf) within timeout_ms; its length, or -1 for none. */
static ssize_t recv_msg(int fd, char *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t r;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	r = recv(fd, buf, cap - 1, MSG_DONTWAIT);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return r;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void clear_env(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* ---- sdnotify_send_to ------------------------------------------------------------------ */

TestSuite(sdnotify, .init = tmp_setup, .fini = tmp_teardown, .timeout = 10);

Test(sdnotify, send_to_path)
{
	static const char *const msgs[] = {
	    "READY=1",	  "READY=1\nSTATUS=listening on port 6432, master n0",
	    "WATCHDOG=1", "STOPPING=1",
	    "",
	};
	char buf[512];

	rfd = bind_path(sockpath);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		cr_assert(sdnotify_send_to(sockpath, msgs[i]), "send %zu: %s", i, strerror(errno));
		cr_assert_eq(recv_msg(rfd, buf, sizeof(buf), 2000), (ssize_t)strlen(msgs[i]),
			     "message %zu", i);
		cr_expect_str_eq(buf, msgs[i]);
	}
}

Test(sdnotify, send_to_abstract)
{
	char name[64], at[80], buf[128];

	snprintf(name, sizeof(name), "pgrelay-test-sdnotify-%d-%ld", (int)getpid(),
		 (long)time(NULL));
	snprintf(at, sizeof(at), "@%s", name);
	rfd = bind_abstract(name);
	cr_assert(sdnotify_send_to(at, "READY=1\nSTATUS=abstract"), "%s", strerror(errno));
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "READY=1\nSTATUS=abstract");
}

/* The longest abstract name (sun_path full, no NUL at the end) is used exactly. */
Test(sdnotify, send_to_abstract_longest)
{
	char name[SUN_PATH_SIZE], at[SUN_PATH_SIZE + 1], prefix[32], buf[64];
	int n = snprintf(prefix, sizeof(prefix), "pgrelay-%d-", (int)getpid());

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, prefix, (size_t)n);
	cr_assert_eq(strlen(name), SUN_PATH_SIZE - 1);
	snprintf(at, sizeof(at), "@%s", name);
	rfd = bind_abstract(name);
	cr_assert(sdnotify_send_to(at, "WATCHDOG=1"), "%s", strerror(errno));
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "WATCHDOG=1");
}

Test(sdnotify, send_to_refused)
{
	static char long_path[SUN_PATH_SIZE + 1], longest_path[SUN_PATH_SIZE],
	    long_abstract[SUN_PATH_SIZE + 2];
	struct {
		const char *name;
		int err;
	} cases[] = {
	    {"", EINVAL},
	    {"notify", EINVAL},
	    {"run/systemd/notify", EINVAL},
	    {"./notify", EINVAL},
	    {"~/notify", EINVAL},
	    {"@", EINVAL},
	    {long_path, ENAMETOOLONG},
	    {long_abstract, ENAMETOOLONG},
	    /* fits (107 bytes + NUL) but nothing is there */
	    {longest_path, ENOENT},
	    {"/nonexistent-dir-for-test_sdnotify/notify", ENOENT},
	};

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	memset(longest_path, 'b', sizeof(longest_path) - 1);
	longest_path[0] = '/';
	memset(long_abstract, 'c', sizeof(long_abstract) - 1);
	long_abstract[0] = '@';
	cr_assert_eq(strlen(long_path), SUN_PATH_SIZE);
	cr_assert_eq(strlen(longest_path), SUN_PATH_SIZE - 1);
	cr_assert_eq(strlen(long_abstract), SUN_PATH_SIZE + 1);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		errno = 0;
		cr_expect(!sdnotify_send_to(cases[i].name, "READY=1"), "case %zu accepted", i);
		cr_expect_eq(errno, cases[i].err, "case %zu (%.20s...): errno %d (%s), want %d", i,
			     cases[i].name, errno, strerror(errno), cases[i].err);
	}
	errno = 0;
	cr_expect(!sdnotify_send_to(NULL, "READY=1"));
	cr_expect_eq(errno, EINVAL);
}

/* ---- the module: nothing without NOTIFY_SOCKET ----------------------------------------- */

Test(sdnotify, no_env_is_noop)
{
	static const char *const values[] = {NULL, "", "relative/notify", "@"};
	struct ev_loop *loop = ev_default_loop(0);

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		int before;

		clear_env();
		if (values[i])
			setenv("NOTIFY_SOCKET", values[i], 1);
		setenv("WATCHDOG_USEC", "1000", 1);
		before = count_fds();
		cr_expect(!sdnotify_init(loop), "case %zu active", i);
		sdnotify_ready("x");
		sdnotify_reloading();
		sdnotify_status("%d", 1);
		sdnotify_stopping();
		cr_expect_eq(count_fds(), before, "case %zu opened a descriptor", i);
		cr_expect_eq(ev_pending_count(loop) + ev_run(loop, EVRUN_NOWAIT), 0,
			     "case %zu left a watcher", i);
		sdnotify_stop();
	}
}

/* ---- the module: messages -------------------------------------------------------------- */

Test(sdnotify, messages)
{
	struct ev_loop *loop = ev_default_loop(0);
	char buf[1024], longstatus[900];
	struct timespec ts;
	long long now, got;

	clear_env();
	rfd = bind_path(sockpath);
	setenv("NOTIFY_SOCKET", sockpath, 1);
	cr_assert(sdnotify_init(loop));
	cr_assert(sdnotify_init(loop), "a second init keeps it active");

	sdnotify_ready("listening on port 6432, master n0");
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "READY=1\nSTATUS=listening on port 6432, master n0");

	sdnotify_ready(NULL);
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "READY=1");

	sdnotify_ready("two\nlines");
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "READY=1\nSTATUS=two lines", "a STATUS is one line");

	sdnotify_status("%zu clients, %s", (size_t)3, "master n1");
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "STATUS=3 clients, master n1");

	memset(longstatus, 's', sizeof(longstatus) - 1);
	longstatus[sizeof(longstatus) - 1] = '\0';
	sdnotify_status("%s", longstatus);
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect(strncmp(buf, "STATUS=sss", 10) == 0, "a long status is cut, not dropped");

	sdnotify_stopping();
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_expect_str_eq(buf, "STOPPING=1");

	sdnotify_reloading();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	cr_assert_gt(recv_msg(rfd, buf, sizeof(buf), 2000), 0);
	cr_assert(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%lld", &got) == 1, "got %s", buf);
	cr_expect(got <= now && got > now - 5000000, "MONOTONIC_USEC %lld, now %lld", got, now);
	cr_expect_eq(strchr(buf, '\n'), strrchr(buf, '\n'), "two lines: %s", buf);

	sdnotify_stop();
	sdnotify_ready("after stop");
	cr_expect_eq(recv_msg(rfd, buf, sizeof(buf), 100), -1, "nothing after sdnotify_stop");
}

/* ---- the module: watchdog -------------------------------------------------------------- */

static void break_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int pings;

/* Drains the receiving socket while the loop runs (its queue holds only a few datagrams). */
static void drain_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[64];

	(void)loop;
	(void)revents;
	while (recv_msg(w->fd, buf, sizeof(buf), 0) > 0) {
		cr_expect_str_eq(buf, "WATCHDOG=1");
		pings++;
	}
}

/* Runs the loop for secs, with only the sdnotify timer and the drain on it; counts pings. */
static int pings_during(struct ev_loop *loop, double secs)
{
	ev_timer stop;
	ev_io drain;

	pings = 0;
	ev_timer_init(&stop, break_cb, secs, 0);
	ev_timer_start(loop, &stop);
	ev_io_init(&drain, drain_cb, rfd, EV_READ);
	ev_io_start(loop, &drain);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
	ev_io_stop(loop, &drain);
	drain_cb(loop, &drain, EV_READ);
	return pings;
}

Test(sdnotify, watchdog)
{
	char me[32], other[32];
	struct {
		const char *usec;
		const char *pid;
		bool pings;
	} cases[] = {
	    {"20000", NULL, true},     {"20000", me, true}, {"20000", other, false},
	    {"20000", "bogus", false}, {"0", NULL, false},  {"abc", NULL, false},
	    {"-20000", NULL, false},   {NULL, NULL, false}, {"", me, false},
	};
	struct ev_loop *loop = ev_default_loop(0);

	snprintf(me, sizeof(me), "%d", (int)getpid());
	snprintf(other, sizeof(other), "%d", (int)getpid() + 1);
	rfd = bind_path(sockpath);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int n;

		clear_env();
		setenv("NOTIFY_SOCKET", sockpath, 1);
		if (cases[i].usec)
			setenv("WATCHDOG_USEC", cases[i].usec, 1);
		if (cases[i].pid)
			setenv("WATCHDOG_PID", cases[i].pid, 1);
		cr_assert(sdnotify_init(loop), "case %zu", i);
		/* 10 ms period: about 15 pings in 150 ms */
		n = pings_during(loop, 0.15);
		if (cases[i].pings)
			cr_expect_geq(n, 5, "case %zu: %d pings", i, n);
		else
			cr_expect_eq(n, 0, "case %zu: %d pings", i, n);
		sdnotify_stop();
		cr_expect_eq(pings_during(loop, 0.05), 0, "case %zu: pings after stop", i);
	}
}

/* ---- failures are logged once ---------------------------------------------------------- */

/* Runs fn with stderr going to a pipe; returns what was written (NUL-terminated in buf). */
static size_t capture_stderr(void (*fn)(void), char *buf, size_t cap)
{
	int p[2], saved;
	ssize_t r;
	size_t n = 0;

	cr_assert(pipe(p) == 0);
	saved = dup(STDERR_FILENO);
	cr_assert(saved >= 0);
	cr_assert(dup2(p[1], STDERR_FILENO) == STDERR_FILENO);
	fn();
	cr_assert(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
	close(saved);
	close(p[1]);
	while (n + 1 < cap && (r = read(p[0], buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	buf[n] = '\0';
	return n;
}

static void send_to_nobody(void)
{
	log_init();
	cr_assert(sdnotify_init(ev_default_loop(0)));
	for (int i = 0; i < 5; i++) {
		sdnotify_status("attempt %d", i);
		sdnotify_ready(NULL);
	}
}

Test(sdnotify, failure_logged_once)
{
	char out[4096];
	const char *first;

	clear_env();
	setenv("PGRELAY_LOG_FORMAT", "plain", 1);
	setenv("NOTIFY_SOCKET", sockpath, 1); /* nothing bound there */
	capture_stderr(send_to_nobody, out, sizeof(out));
	first = strstr(out, "failed");
	cr_assert_not_null(first, "no warning in: %s", out);
	cr_expect_null(strstr(first + 1, "failed"), "more than one warning: %s", out);
	cr_expect_not_null(strstr(out, " WARNING "), "%s", out);
}

/* ---- log formats ----------------------------------------------------------------------- */

static void log_some(void)
{
	log_init();
	log_level = LOG_DEBUG;
	log_error("e %d", 1);
	log_warning("w %s", "2");
	log_info("i");
	log_debug("d");
}

static void log_one(void)
{
	log_init();
	log_info("hello");
}

Test(log, journal_forced)
{
	char out[1024];

	setenv("PGRELAY_LOG_FORMAT", "journal", 1);
	unsetenv("JOURNAL_STREAM");
	capture_stderr(log_some, out, sizeof(out));
	cr_expect_str_eq(out, "<3>ERROR e 1\n<4>WARNING w 2\n<6>INFO i\n<7>DEBUG d\n");
}

Test(log, plain_forced)
{
	char out[1024];
	regex_t re;

	setenv("PGRELAY_LOG_FORMAT", "plain", 1);
	cr_assert(regcomp(&re,
			  "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} UTC "
			  "\\[[0-9]+\\] INFO hello\n$",
			  REG_EXTENDED) == 0);
	capture_stderr(log_one, out, sizeof(out));
	cr_expect(regexec(&re, out, 0, NULL, 0) == 0, "plain line: %s", out);
	regfree(&re);
}

/* JOURNAL_STREAM is compared with the file stderr is when log_init runs. */
static char journal_stream[64];

static void log_detect(void)
{
	struct stat st;

	cr_assert(fstat(STDERR_FILENO, &st) == 0);
	if (strcmp(journal_stream, "match") == 0)
		snprintf(journal_stream, sizeof(journal_stream), "%llu:%llu",
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	else if (strcmp(journal_stream, "other-inode") == 0)
		snprintf(journal_stream, sizeof(journal_stream), "%llu:%llu",
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", journal_stream, 1);
	log_one();
}

Test(log, journal_stream_detection)
{
	struct {
		const char *stream;
		const char *format;
		bool journal;
	} cases[] = {
	    {"match", NULL, true},
	    {"match", "auto", true},
	    {"match", "plain", false},
	    {"other-inode", NULL, false},
	    {"other-inode", "journal", true},
	    {"", NULL, false},
	    {"12", NULL, false},
	    {"1:2:3", NULL, false},
	    {":5", NULL, false},
	    {"garbage", NULL, false},
	};
	char out[1024];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].format)
			setenv("PGRELAY_LOG_FORMAT", cases[i].format, 1);
		else
			unsetenv("PGRELAY_LOG_FORMAT");
		snprintf(journal_stream, sizeof(journal_stream), "%s", cases[i].stream);
		capture_stderr(log_detect, out, sizeof(out));
		if (cases[i].journal)
			cr_expect_str_eq(out, "<6>INFO hello\n", "case %zu", i);
		else
			cr_expect(out[0] >= '0' && out[0] <= '9' && strstr(out, " INFO hello\n"),
				  "case %zu: %s", i, out);
	}
}

Test(log, unknown_format_warns)
{
	char out[1024];

	setenv("PGRELAY_LOG_FORMAT", "fancy", 1);
	unsetenv("JOURNAL_STREAM");
	capture_stderr(log_one, out, sizeof(out));
	cr_expect_not_null(strstr(out, "PGRELAY_LOG_FORMAT=fancy"), "%s", out);
	cr_expect_not_null(strstr(out, " INFO hello\n"), "%s", out);
}
