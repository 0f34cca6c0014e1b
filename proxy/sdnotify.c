/*
 * sdnotify.c - the sd_notify protocol spoken by hand (no libsystemd): owns
 * the address read from NOTIFY_SOCKET, one nonblocking AF_UNIX datagram
 * socket, the "KEY=VALUE" newline-separated messages sent through it, and the
 * libev timer that sends the WATCHDOG=1 pings asked for by WATCHDOG_USEC.
 * Nothing here allocates; a message that cannot be sent is dropped (the first
 * failure is logged), so a missing or slow systemd never blocks the loop.
 */
#include "sdnotify.h"

#include "log.h"

#include <errno.h>
#include <ev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Longer than any message sent here; a longer STATUS text is cut. */
#define SDNOTIFY_MSG_MAX 512
/* A watchdog asking for pings more often than this gets them this often. */
#define SDNOTIFY_MIN_INTERVAL 0.001

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)

typedef struct NotifyAddr {
	struct sockaddr_un sa;
	socklen_t len;
} NotifyAddr;

static struct {
	bool active;		      /* NOTIFY_SOCKET was set and valid at sdnotify_init() */
	bool warned;		      /* a failed send was logged already */
	bool watchdog_on;	      /* the timer below runs */
	int fd;			      /* the datagram socket, -1 until the first send */
	NotifyAddr addr;	      /* where every message goes */
	char name[SUN_PATH_SIZE + 1]; /* NOTIFY_SOCKET as given, for log messages */
	struct ev_loop *loop;
	ev_timer watchdog;
} sd = {.fd = -1};

/*
 * Turns a NOTIFY_SOCKET value into a socket address: "/abs/path" or "@name"
 * (the abstract namespace, where the '@' stands for a leading NUL byte).
 */
static bool sdnotify_parse_addr(const char *name, NotifyAddr *out)
{
	size_t n = name ? strlen(name) : 0;

	memset(out, 0, sizeof(*out));
	out->sa.sun_family = AF_UNIX;
	if (n == 0 || (name[0] != '/' && name[0] != '@') || (name[0] == '@' && n == 1)) {
		errno = EINVAL;
		return false;
	}
	if (name[0] == '/') {
		/* a filesystem name keeps its terminating NUL inside sun_path */
		if (n >= SUN_PATH_SIZE) {
			errno = ENAMETOOLONG;
			return false;
		}
		memcpy(out->sa.sun_path, name, n + 1);
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	} else {
		/* an abstract name is exactly its bytes, the '@' becoming NUL */
		if (n > SUN_PATH_SIZE) {
			errno = ENAMETOOLONG;
			return false;
		}
		out->sa.sun_path[0] = '\0';
		memcpy(out->sa.sun_path + 1, name + 1, n - 1);
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return true;
}

static bool sdnotify_send_addr(const NotifyAddr *a, const char *msg, size_t len)
{
	ssize_t r;

	if (sd.fd < 0) {
		sd.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (sd.fd < 0)
			return false;
	}
	do {
		r = sendto(sd.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&a->sa, a->len);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return false;
	if ((size_t)r != len) {
		errno = EMSGSIZE;
		return false;
	}
	return true;
}

bool sdnotify_send_to(const char *notify_socket, const char *msg)
{
	NotifyAddr a;

	if (!sdnotify_parse_addr(notify_socket, &a))
		return false;
	return sdnotify_send_addr(&a, msg, strlen(msg));
}

/* Sends msg[0..len) to the address from NOTIFY_SOCKET; logs the first failure only. */
static void sdnotify_send(const char *msg, size_t len)
{
	int e;

	if (!sd.active || sdnotify_send_addr(&sd.addr, msg, len))
		return;
	e = errno;
	if (!sd.warned) {
		sd.warned = true;
		log_warning(
		    "systemd notification to %s failed: %s (further failures are not logged)",
		    sd.name, strerror(e));
	}
}

/* The length snprintf() produced in a buffer of cap bytes, whether or not it was cut. */
static size_t sdnotify_fitted(int r, size_t cap)
{
	if (r < 0)
		return 0;
	return (size_t)r < cap ? (size_t)r : cap - 1;
}

/* A STATUS text is one line: its newlines become spaces. */
static void sdnotify_one_line(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			s[i] = ' ';
	}
}

static void sdnotify_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static const char ping[] = "WATCHDOG=1";

	(void)loop;
	(void)w;
	(void)revents;
	sdnotify_send(ping, sizeof(ping) - 1);
}

/* Parses a whole nonnegative decimal number; false for anything else. */
static bool sdnotify_parse_ull(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The watchdog period from WATCHDOG_USEC, or 0 when this process has none. */
static usec_t sdnotify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v, p;

	if (!usec || !*usec)
		return 0;
	if (!sdnotify_parse_ull(usec, &v) || v == 0 || v > (unsigned long long)INT64_MAX) {
		log_warning("WATCHDOG_USEC=%s is not a positive number of microseconds: no "
			    "watchdog pings",
			    usec);
		return 0;
	}
	if (pid && *pid) {
		if (!sdnotify_parse_ull(pid, &p)) {
			log_warning("WATCHDOG_PID=%s is not a process id: no watchdog pings", pid);
			return 0;
		}
		if (p != (unsigned long long)getpid()) {
			log_debug("WATCHDOG_PID=%s is not this process (%d): no watchdog pings",
				  pid, (int)getpid());
			return 0;
		}
	}
	return (usec_t)v;
}

bool sdnotify_init(struct ev_loop *loop)
{
	const char *name = getenv("NOTIFY_SOCKET");
	usec_t wd;
	double every;

	if (sd.active)
		return true;
	if (!name || !*name)
		return false;
	if (!sdnotify_parse_addr(name, &sd.addr)) {
		log_warning("NOTIFY_SOCKET=%s: %s; no systemd notification", name,
			    errno == EINVAL ? "neither an absolute path nor an @abstract name"
					    : strerror(errno));
		return false;
	}
	snprintf(sd.name, sizeof(sd.name), "%s", name);
	sd.active = true;
	sd.warned = false;
	sd.loop = loop;
	wd = sdnotify_watchdog_usec();
	if (wd > 0) {
		every = (double)wd / 2 / USEC_PER_SEC;
		if (every < SDNOTIFY_MIN_INTERVAL)
			every = SDNOTIFY_MIN_INTERVAL;
		ev_timer_init(&sd.watchdog, sdnotify_watchdog_cb, every, every);
		ev_timer_start(loop, &sd.watchdog);
		sd.watchdog_on = true;
		log_info("systemd notification to %s, watchdog ping every %.3f s", sd.name, every);
	} else {
		log_info("systemd notification to %s", sd.name);
	}
	return true;
}

void sdnotify_ready(const char *status)
{
	static const char head[] = "READY=1\nSTATUS=";
	char msg[SDNOTIFY_MSG_MAX];
	size_t n;

	if (!sd.active)
		return;
	if (!status || !*status) {
		sdnotify_send("READY=1", strlen("READY=1"));
		return;
	}
	n = sdnotify_fitted(snprintf(msg, sizeof(msg), "%s%s", head, status), sizeof(msg));
	if (n < sizeof(head) - 1)
		return;
	sdnotify_one_line(msg + sizeof(head) - 1, n - (sizeof(head) - 1));
	sdnotify_send(msg, n);
}

void sdnotify_reloading(void)
{
	char msg[64];
	struct timespec ts;
	long long now;

	if (!sd.active)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
	sdnotify_send(msg, sdnotify_fitted(
			       snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld", now),
			       sizeof(msg)));
}

void sdnotify_stopping(void)
{
	if (!sd.active)
		return;
	sdnotify_send("STOPPING=1", strlen("STOPPING=1"));
}

void sdnotify_status(const char *fmt, ...)
{
	static const char head[] = "STATUS=";
	char msg[SDNOTIFY_MSG_MAX];
	const size_t h = sizeof(head) - 1;
	size_t n;
	va_list ap;

	if (!sd.active)
		return;
	memcpy(msg, head, h);
	va_start(ap, fmt);
	n = sdnotify_fitted(vsnprintf(msg + h, sizeof(msg) - h, fmt, ap), sizeof(msg) - h);
	va_end(ap);
	sdnotify_one_line(msg + h, n);
	sdnotify_send(msg, h + n);
}

void sdnotify_stop(void)
{
	if (sd.watchdog_on) {
		ev_timer_stop(sd.loop, &sd.watchdog);
		sd.watchdog_on = false;
	}
	if (sd.fd >= 0) {
		close(sd.fd);
		sd.fd = -1;
	}
	sd.active = false;
	sd.loop = NULL;
}
