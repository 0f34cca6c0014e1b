/*
 * server.h - one connection to a PostgreSQL node: connect, startup and
 * authentication as the server asks (SCRAM-SHA-256, md5, cleartext, trust),
 * then the idle / active / resetting life in its pool.
 *
 * While a server is ACTIVE its bytes belong to the client session linked to
 * it: server.c hands every read and drain to the ServerLink callbacks, so
 * this module never includes client.h.
 *
 * Ownership: the Pool owns its servers (server_new() puts it there);
 * conn_close() + the reaper free it.
 */
#ifndef PROXY_SERVER_H
#define PROXY_SERVER_H

#include "auth.h"
#include "conn.h"
#include "topology.h"

typedef enum ServerState {
	SV_CONNECTING, /* TCP connect in progress */
	SV_LOGIN,      /* startup sent, authenticating, waiting for ReadyForQuery */
	SV_IDLE,       /* in the pool, clean */
	SV_ACTIVE,     /* linked to a client session */
	SV_RESETTING,  /* running ROLLBACK / the reset query after its client left */
	SV__COUNT
} ServerState;

typedef struct Server Server;
typedef struct Pool Pool;

/* What a linked client session receives from its server. */
typedef struct ServerLink {
	void (*on_read)(struct ServerLink *link, Server *sv); /* bytes in sv->conn.in, or eof */
	void (*on_drain)(struct ServerLink *link, Server *sv);
} ServerLink;

#define SERVER_MAX_PARAMS 32

typedef struct ServerParam {
	char name[64];
	char value[256];
} ServerParam;

/* Why a server could not be had: what the waiting client is told. */
typedef struct ServerError {
	char severity[16];
	char sqlstate[6];
	char message[256];
} ServerError;

struct Server {
	Conn conn;
	ServerState state;
	Pool *pool;
	List pool_node; /* on the pool's idle or busy list */
	const Node *node;
	ServerLink *link; /* the client session while ACTIVE */
	void *waiter;	  /* the PoolWaiter it is being opened for (LOGIN) */
	usec_t state_since;

	int32_t backend_pid, backend_key;
	char txn_status; /* from the last ReadyForQuery: 'I', 'T' or 'E' */
	int pending;	 /* ReadyForQuery messages still expected */
	bool unsynced;	 /* extended-protocol messages sent without a Sync yet */
	bool reset_failed;
	/*
	 * Set during the reset when the backend still has a temporary namespace:
	 * DISCARD ALL drops temp objects but not the namespace, which a later
	 * session could notice (a fresh backend has none), so it is closed.
	 */
	bool no_reuse;
	size_t fwd_left; /* bytes of a large message still to forward */
	uint8_t last_type; /* type of the last message forwarded to the client */
	size_t nparams;
	ServerParam params[SERVER_MAX_PARAMS];

	/* startup parameters it was opened with (name\0value\0 ...), owned */
	uint8_t *sig;
	size_t sig_len;

	/* login */
	char user[PG_NAME_MAX];
	char database[PG_NAME_MAX];
	char password[256];
	uint8_t client_key[SCRAM_KEY_LEN];
	bool have_client_key;
	bool scram_started;
	ScramClient scram;
};

extern const char *const server_state_name[SV__COUNT];

/*
 * Opens a connection to node for (database, user) with the startup
 * parameters sig, authenticating with password (plain or md5 secret) or the
 * client's SCRAM ClientKey. The server starts in SV_CONNECTING on p's busy
 * list; pool_server_login_done()/_failed() report the outcome.
 */
Server *server_open(struct ev_loop *loop, Pool *p, const Node *node, const char *database, const char *user,
		    const uint8_t *sig, size_t sig_len, const char *password,
		    const uint8_t *client_key);
/* Starts ROLLBACK (if in a transaction) + reset_query; false when it cannot be reset. */
bool server_start_reset(Server *sv, const char *reset_query);

void server_set_state(Server *sv, ServerState next);

/* Records a ParameterStatus the server sent. */
void server_note_param(Server *sv, const char *name, const char *value);
/* Closes (sending Terminate when it is safe) with a logged reason. */
void server_close(Server *sv, const char *reason);
/*
 * Sends the bytes queued on the server; on FLUSH_ERROR the conn is already
 * marked eof. A helper for the session and reset paths.
 */
FlushResult server_flush(Server *sv);

#endif
