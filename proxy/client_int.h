/*
 * client_int.h - what the three client files share: the Client struct, its
 * states, the module's globals and the helpers each file calls in another.
 * client.c: lifecycle, cancel keys, closing, maintenance.
 * client_login.c: startup packet and authentication.
 * client_pump.c: linking to a server and forwarding in both directions.
 * Private to proxy/client*.c; everything else includes client.h.
 */
#ifndef PROXY_CLIENT_INT_H
#define PROXY_CLIENT_INT_H

#include "client.h"

#include "auth.h"
#include "conn.h"
#include "log.h"
#include "pgproto.h"
#include "pool.h"

/* Largest message accepted before authentication completes. */
#define CLIENT_AUTH_MAX_MSG 8192
#define CANCEL_BUCKETS 1024

typedef enum ClientState {
	CL_STARTUP, /* reading the startup packet (after any SSLRequest) */
	CL_AUTH,    /* exchanging authentication messages */
	CL_WAITING, /* authenticated, waiting for a server */
	CL_ACTIVE,  /* linked to a server */
	CL__COUNT
} ClientState;

typedef enum AuthStep { AS_NONE, AS_MD5, AS_SASL_INIT, AS_SASL_FINAL } AuthStep;

typedef struct Client {
	Conn conn;
	ClientState state;
	List node;	  /* all clients */
	List cancel_node; /* cancel-key hash chain */
	int32_t cancel_pid, cancel_key;
	uint64_t id;
	usec_t state_since;
	usec_t last_active;

	char user[PG_NAME_MAX];
	char database[PG_NAME_MAX];
	char backend_db[PG_NAME_MAX];
	char backend_user[PG_NAME_MAX];
	char backend_password[512];
	int pool_size;
	uint8_t *sig; /* startup parameters, name\0value\0 ... (owned) */
	size_t sig_len;

	AuthStep auth_step;
	bool auth_mock; /* unknown user: run the exchange, then fail */
	uint8_t md5_salt[4];
	ScramServer *scram; /* during SCRAM only */
	uint8_t client_key[SCRAM_KEY_LEN];
	bool have_client_key;

	PoolWaiter waiter;
	ServerLink link;
	Server *server;
	size_t fwd_left; /* bytes of a large client message still to forward */
	char txn_status;
	bool reject; /* over max_client_conn: refuse after the startup packet */
	usec_t closing_since;
} Client;

/* A closing client that does not read its last messages is dropped after this. */
#define CLIENT_CLOSE_FLUSH_TIMEOUT (5 * USEC_PER_SEC)

extern struct ev_loop *client_loop;
extern const Config *client_cfg;
extern const AuthFile *client_authfile;
extern bool client_shutting_down;

#define clog_info(cl, fmt, ...)                                                                    \
	log_info("C-%llu %s/%s@%s: " fmt, (unsigned long long)(cl)->id,                           \
		 (cl)->user[0] ? (cl)->user : "-", (cl)->database[0] ? (cl)->database : "-",       \
		 (cl)->conn.peer, ##__VA_ARGS__)
#define clog_debug(cl, fmt, ...)                                                                   \
	log_debug("C-%llu %s/%s@%s: " fmt, (unsigned long long)(cl)->id,                          \
		  (cl)->user[0] ? (cl)->user : "-", (cl)->database[0] ? (cl)->database : "-",      \
		  (cl)->conn.peer, ##__VA_ARGS__)

usec_t client_now(void);
void client_set_state(Client *cl, ClientState next);
/* Queues and flushes a built message; false when the client is gone. */
bool client_send(Client *cl, PgWriter *w);
/* Detaches the server (reset and pooled, or closed) and closes after flushing. */
void client_close(Client *cl, const char *reason);
/* Sends FATAL sqlstate message, then closes. */
void client_fatal(Client *cl, const char *sqlstate, const char *fmt, ...) PRINTF_LIKE(3, 4);
void client_cancel_request(int32_t pid, int32_t key);

/* client_login.c */
void client_startup_read(Client *cl);
void client_auth_read(Client *cl);

/* client_pump.c */
void client_forward(Client *cl);
void client_server_ready(PoolWaiter *w, Server *sv);
void client_server_failed(PoolWaiter *w, const ServerError *err);
void client_on_server_read(ServerLink *link, Server *sv);
void client_on_server_drain(ServerLink *link, Server *sv);

#endif
