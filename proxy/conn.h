/*
 * conn.h - byte transport for one nonblocking socket on the libev loop: an
 * inbound buffer, an outbound buffer with zero-copy forwarding, backpressure
 * hooks and a deferred close. Knows nothing about PostgreSQL (see pgproto.h).
 *
 * Forwarding without copying: conn_queue() remembers a pointer into the
 * source connection's inbound buffer; conn_flush() sends it straight from
 * there and copies only what the kernel did not take. The caller must flush
 * every destination before it compacts or reads into the source buffer again.
 *
 * Ownership: a Conn is embedded in a Client, Server or CancelReq, which owns
 * it. conn_close() stops its watchers and queues it; conn_reap() (run from an
 * ev_prepare watcher, before the loop blocks) closes the fd and calls ops->on_free
 * so the owner can free itself. Nothing is freed inside its own callback.
 */
#ifndef PROXY_CONN_H
#define PROXY_CONN_H

#include "common.h"
#include "list.h"

#include <ev.h>
#include <sys/socket.h>

typedef struct Conn Conn;

typedef struct ConnOps {
	/* New bytes are in c->in, or c->eof is set (peer closed or error: c->err). */
	void (*on_read)(Conn *c);
	/* The outbound buffer became empty after having been full. */
	void (*on_drain)(Conn *c);
	/* An outbound connect finished: c->err is 0 on success. */
	void (*on_connected)(Conn *c);
	/* Reaper: the fd is closed; free the owning object. */
	void (*on_free)(Conn *c);
} ConnOps;

struct Conn {
	int fd;
	struct ev_loop *loop;
	ev_io rio;
	ev_io wio;
	const ConnOps *ops;

	/* inbound: unconsumed bytes are in[in_pos .. in_len) */
	uint8_t *in;
	size_t in_cap, in_pos, in_len;
	size_t in_max; /* in may grow up to this to hold one whole message */

	/* outbound: bytes copied for sending are out[out_pos .. out_len) */
	uint8_t *out;
	size_t out_cap, out_pos, out_len;
	/* a pending zero-copy region in some other conn's inbound buffer */
	const uint8_t *zc;
	size_t zc_len;

	bool connecting;
	bool reading;		/* rio started */
	bool read_paused;	/* the owner asked to stop reading (backpressure) */
	bool eof;		/* peer closed or I/O error */
	bool closing;		/* conn_close() was called; reaped soon */
	bool close_after_flush; /* close once out is empty */
	int err;		/* errno of the failure, 0 for a clean EOF */
	const char *close_reason;
	List reap_node;
	usec_t created_at;
	char peer[64]; /* "addr:port" for logs */
	/* server connections: the node's byte counters (stats.h); NULL = not counted */
	uint64_t *rx_bytes, *tx_bytes;
};

#define CONN_IN_DEFAULT 16384
#define CONN_OUT_MAX_COPY (1024 * 1024)

/* Adopts an accepted or connected fd: sets nonblocking and TCP_NODELAY, allocates `in`. */
bool conn_init(Conn *c, struct ev_loop *loop, int fd, const ConnOps *ops, size_t in_max) MUST_CHECK;
/* Starts a nonblocking connect; ops->on_connected is called when it finishes. */
bool conn_connect(Conn *c, struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen,
		  const ConnOps *ops, size_t in_max) MUST_CHECK;

void conn_start_reading(Conn *c);
void conn_pause_reading(Conn *c);
void conn_resume_reading(Conn *c);

/* Forwards n bytes that live in another conn's inbound buffer (zero-copy when possible). */
bool conn_queue(Conn *dst, const uint8_t *p, size_t n) MUST_CHECK;
/* Copies n bytes (a message the proxy built) behind whatever is queued. */
bool conn_write(Conn *dst, const void *p, size_t n) MUST_CHECK;
/* Bytes not yet handed to the kernel. */
static inline size_t conn_pending(const Conn *c)
{
	return (c->out_len - c->out_pos) + c->zc_len;
}

typedef enum FlushResult { FLUSH_DONE, FLUSH_PENDING, FLUSH_ERROR } FlushResult;
/*
 * Sends what is queued. Whatever the kernel does not take is copied into
 * `out` and the write watcher is started (FLUSH_PENDING). On a write error
 * the conn is marked eof and its on_read is fed on the next loop turn.
 */
FlushResult conn_flush(Conn *c);

/* Grows the inbound buffer so `need` bytes fit from in_pos; false when over in_max or OOM. */
bool conn_in_reserve(Conn *c, size_t need) MUST_CHECK;
/* Moves unconsumed inbound bytes to the front of the buffer. */
void conn_compact(Conn *c);

/* Idempotent; frees nothing now (see the header comment). */
void conn_close(Conn *c, const char *reason);
/* Sends what is queued, then closes. */
void conn_close_after_flush(Conn *c, const char *reason);

/* Frees every conn closed since the last call; run from an ev_prepare watcher. */
void conn_reap(void);

#endif
