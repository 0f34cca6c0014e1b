/*
 * statefile.c - reading and atomically writing the failover state file
 * (statefile.h).
 */
#include "statefile.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool fsync_dir(const char *path)
{
	char dir[1024];
	const char *slash = strrchr(path, '/');
	int fd;
	bool ok;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

bool statefile_write(const char *path, const FoStateFile *s, char *err, size_t errlen)
{
	char tmp[1100], buf[4096];
	size_t len;
	int fd;

	len = (size_t)snprintf(buf, sizeof(buf),
			       "# pgrelay failover state: written by pgrelay, read at its start\n"
			       "master = %s\ntimeline = %u\n",
			       s->master, s->timeline);
	for (size_t i = 0; i < s->nfenced && len < sizeof(buf); i++)
		len +=
		    (size_t)snprintf(buf + len, sizeof(buf) - len, "fenced = %s\n", s->fenced[i]);
	if (len >= sizeof(buf) || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: too long", path);
		return false;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return false;
	}
	if (!write_all(fd, buf, len) || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return false;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	if (!fsync_dir(path)) {
		snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int statefile_read(const char *path, FoStateFile *s, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq, *key, *val;

		lineno++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		val = trim(eq + 1);
		key = trim(key);
		if (strlen(val) == 0 || strlen(val) >= PG_NAME_MAX)
			goto bad;
		if (strcmp(key, "master") == 0) {
			snprintf(s->master, sizeof(s->master), "%s", val);
		} else if (strcmp(key, "timeline") == 0) {
			char *end;
			unsigned long t = strtoul(val, &end, 10);
			if (*end || t > UINT32_MAX)
				goto bad;
			s->timeline = (uint32_t)t;
		} else if (strcmp(key, "fenced") == 0) {
			if (s->nfenced == STATEFILE_MAX_FENCED)
				goto bad;
			snprintf(s->fenced[s->nfenced++], PG_NAME_MAX, "%s", val);
		} else {
			goto bad;
		}
	}
	fclose(f);
	if (!s->master[0]) {
		snprintf(err, errlen, "%s: no master line", path);
		return -1;
	}
	return 1;
bad:
	fclose(f);
	snprintf(err, errlen, "%s:%d: malformed line", path, lineno);
	return -1;
}

/* ---- off the loop ---------------------------------------------------------------- */

typedef struct WriteJob {
	ev_async async; /* first: the callback finds the job from it */
	struct ev_loop *loop;
	char path[1024];
	FoStateFile s;
	StatefileDone done;
	void *arg;
	bool ok;
	char err[512];
} WriteJob;

static void *write_thread(void *p)
{
	WriteJob *j = p;

	j->ok = statefile_write(j->path, &j->s, j->err, sizeof(j->err));
	ev_async_send(j->loop, &j->async); /* the loop owns the job from here */
	return NULL;
}

static void write_finished(struct ev_loop *loop, ev_async *w, int revents)
{
	WriteJob *j = (WriteJob *)(void *)w;

	(void)revents;
	ev_async_stop(loop, w);
	j->done(j->ok, j->ok ? NULL : j->err, j->arg);
	free(j);
}

bool statefile_write_async(struct ev_loop *loop, const char *path, const FoStateFile *s,
			   StatefileDone done, void *arg, char *err, size_t errlen)
{
	WriteJob *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (!j || strlen(path) >= sizeof(j->path)) {
		snprintf(err, errlen, "%s: %s", path, j ? "path too long" : "out of memory");
		free(j);
		return false;
	}
	j->loop = loop;
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->s = *s;
	j->done = done;
	j->arg = arg;
	ev_async_init(&j->async, write_finished);
	ev_async_start(loop, &j->async);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, write_thread, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		ev_async_stop(loop, &j->async);
		snprintf(err, errlen, "%s: cannot start a writer thread: %s", path, strerror(rc));
		free(j);
		return false;
	}
	return true;
}
