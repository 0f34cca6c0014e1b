/*
 * statefile.h - the failover decision on disk: which node is the master,
 * on which timeline, and which nodes are fenced. Written atomically (a
 * temporary file, fsync, rename, fsync of the directory) before traffic
 * moves, read at startup so a restarted pgrelay fences the same nodes.
 * Format: "key = value" lines, '#' comments; keys master, timeline, fenced
 * (one per fenced node).
 */
#ifndef REPLICATION_STATEFILE_H
#define REPLICATION_STATEFILE_H

#include "common.h"

#include <ev.h>

#define STATEFILE_MAX_FENCED 16

typedef struct FoStateFile {
	char master[PG_NAME_MAX];
	uint32_t timeline;
	char fenced[STATEFILE_MAX_FENCED][PG_NAME_MAX];
	size_t nfenced;
} FoStateFile;

bool statefile_write(const char *path, const FoStateFile *s, char *err, size_t errlen) MUST_CHECK;

/*
 * The same, off the event loop: a short-lived thread writes and fsyncs, and
 * done(ok, err, arg) is called on the loop's thread when it has finished.
 * false (nothing started, err says why) when the thread cannot be created.
 */
typedef void (*StatefileDone)(bool ok, const char *err, void *arg);
bool statefile_write_async(struct ev_loop *loop, const char *path, const FoStateFile *s,
			   StatefileDone done, void *arg, char *err, size_t errlen) MUST_CHECK;
/* 1: read into s; 0: there is no such file; -1: unreadable or malformed (err says why). */
int statefile_read(const char *path, FoStateFile *s, char *err, size_t errlen);

#endif
