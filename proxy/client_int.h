/*
 * client_int.h - what the client files share: the Client struct, its
 * states, the module's globals and the helpers each file calls in another.
 * client.c: lifecycle, cancel keys, closing, maintenance.
 * client_login.c: startup packet and authentication.
 * client_pump.c: linking to a server and forwarding in both directions.
 * client_wait.c: sessions held (for the monitor, a failover, PAUSE, a switchover).
 * Private to proxy/client*.c and admin.c (the console lists and kills sessions);
 * everything else includes client.h.
 */
#ifndef PROXY_CLIENT_INT_H
#define PROXY_CLIENT_INT_H

#include "client.h"

#include "auth.h"
#include "conn.h"
#include "log.h"
#include "pgproto.h"
#include "pool.h"
#include "router.h"
#include "session.h"

/* Largest message accepted before authentication completes. */
#define CLIENT_AUTH_MAX_MSG 8192
#define CANCEL_BUCKETS 1024

typedef enum ClientState {
	CL_STARTUP, /* reading the startup packet (after any SSLRequest) */
	CL_AUTH,    /* exchanging authentication messages */
	CL_WAITING, /* authenticated, waiting for a server */
	CL_ACTIVE,  /* linked to a server */
	CL_ADMIN,   /* an admin console session (admin.c) */
	CL__COUNT
} ClientState;

typedef enum AuthStep { AS_NONE, AS_MD5, AS_SASL_INIT, AS_SASL_FINAL } AuthStep;

/* How many routing units may be in flight per session (pipelining depth). */
#define UNITQ_CAP 64
/* The 25006 safety net keeps copies of in-flight replica units up to this size. */
#define NET_UNIT_MAX (256 * 1024)
#define NET_ARENA_MAX (4 * 1024 * 1024)

typedef enum UnitKind {
	UK_CLIENT, /* the client's own unit: responses go to the client */
	UK_REPLAY, /* injected by pgrelay (session replay, stale Close): swallowed */
} UnitKind;

/* One unit in flight: which server owes its ReadyForQuery messages. */
typedef struct Unit {
	uint8_t dest;	  /* RouteDest */
	uint8_t kind;	  /* UnitKind */
	bool open;	  /* the client has not sent the unit's Sync yet */
	bool barrier;	  /* changes session/transaction state: nothing is sent after it */
	bool error;	  /* an ErrorResponse was seen */
	bool net;	  /* undecided replica unit with a copy kept (25006 safety net) */
	bool misroute;	  /* answered 25006: its responses are dropped, then it reruns */
	bool check;	  /* UK_REPLAY of the session's SETs: a failure matters */
	bool ends, rollback; /* barrier: the unit ends a transaction (ROLLBACK) */
	bool may_write;	  /* on the master and not a proven read: its commit sets a watermark */
	uint16_t zleft;	  /* ReadyForQuery messages still owed */
	uint16_t swallow; /* injected ParseComplete/CloseComplete still to drop */
	uint32_t net_off, net_len;
	uint64_t version; /* UK_REPLAY check: the session version it brings the server to */
	usec_t sent_at;
} Unit;

typedef struct Client Client;

/* One of the session's two server connections (master, replica). */
typedef struct Backend {
	Client *cl;
	RouteDest dest;
	ServerLink link;
	PoolWaiter waiter;
	Server *sv;
	const Node *node;
	bool acquiring;	    /* waiting for the pool */
	bool failed;	    /* replay of session state failed at failed_version */
	uint64_t failed_version;
	uint64_t guc_version; /* the session's SET list this server has */
	bool dealloc_all;     /* must run DEALLOCATE ALL before its next unit */
	char **stale;	      /* statement names to Close before its next unit */
	size_t nstale, stale_cap;
	size_t skip_left; /* bytes of a dropped server message still to skip */
	bool idle_fatal;  /* the server sent a FATAL while the session owed it nothing */
} Backend;

typedef enum EffectKind { EFF_SET, EFF_RESET, EFF_RESET_ALL, EFF_DISCARD_ALL } EffectKind;

/* A session-state change that takes effect when its unit (or transaction) succeeds. */
typedef struct Effect {
	EffectKind kind;
	uint32_t flags; /* the statement's SF_* flags */
	char name[PG_NAME_MAX];
	char *text; /* EFF_SET: the statement, owned */
	size_t len;
} Effect;

typedef struct EffectList {
	Effect *v;
	size_t n, cap;
} EffectList;

struct Client {
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
	uint8_t *sig; /* startup parameters, name\0value\0 ... (owned) */
	size_t sig_len;

	AuthStep auth_step;
	bool auth_mock; /* unknown user: run the exchange, then fail */
	uint8_t md5_salt[4];
	ScramServer *scram; /* during SCRAM only */
	uint8_t client_key[SCRAM_KEY_LEN];
	bool have_client_key;

	bool reject; /* over max_client_conn: refuse after the startup packet */
	/* the admin console (admin.c) */
	bool admin;	       /* logged in to the "pgrelay" database */
	bool admin_full;       /* an admin user (else a stats user: SHOW only) */
	uint8_t admin_wait;    /* a command waiting to complete (AdminWait) */
	usec_t admin_deadline; /* when that wait gives up */
	ev_timer admin_timer;
	char *admin_rest;      /* the statements after a waiting command (owned) */
	size_t admin_rest_len;
	bool admin_ext_error;  /* an extended-protocol batch was refused: skip to its Sync */
	usec_t closing_since;

	/* ---- routing (client_route.c, client_pump.c) ---- */
	Backend bk[DEST__COUNT];
	SessionState sess;
	Unit q[UNITQ_CAP]; /* FIFO of units in flight */
	unsigned qhead, qlen;
	int open_dest;	 /* -1, or where the rest of an unsynced batch goes */
	int last_dest;	 /* where the last unit went: CopyData follows it */
	int fwd_dest;	 /* where a large client message is being streamed */
	size_t fwd_left; /* bytes of that message still to forward */
	bool barrier;	 /* a barrier unit or a checked replay is in flight */
	bool in_forward, forward_again;
	bool reads_on_master; /* the balancer chose the master for this session's reads */
	usec_t replica_retry_at;
	/* an extended batch being scanned: bytes looked at, what they add up to */
	size_t scan_off;
	UnitSummary scan_sum;
	bool scan_active;
	int scan_result;	   /* once the batch is framed (0 = not yet) */
	RouteReason scan_forced;
	/* transaction and session state */
	bool in_txn;
	RouteDest txn_dest;
	bool txn_error, txn_savepoint;
	EffectList unit_eff, txn_eff;
	/*
	 * A plain BEGIN pgrelay answered itself (defer_begin): the next unit,
	 * folded onto defer_sum, decides where the transaction runs, and the
	 * BEGIN is sent ahead of it. A transaction on the replica that has run
	 * only BEGIN / SET TRANSACTION so far is tentative: its Query messages
	 * (prelude) restart it on the master if it asks for READ WRITE.
	 */
	bool defer_begin, tentative;
	UnitSummary defer_sum;
	uint8_t *prelude;
	size_t prelude_len, prelude_cap;
	unsigned prelude_n;
	const char *pin_reason; /* static string, NULL = not pinned */
	bool sess_read_only, sess_serializable, startup_serializable, std_strings;
	/* the client's unnamed prepared statement: a copy of its Parse */
	uint8_t *unnamed;
	size_t unnamed_len, unnamed_cap;
	uint32_t unnamed_info;
	uint8_t unnamed_on; /* bit per RouteDest holding it */
	/* the 25006 safety net's copies */
	uint8_t *net;
	size_t net_len, net_cap;
	unsigned net_units;
	uint64_t units_routed;
	/* read-your-writes, and reads held for the monitor */
	int ryw_mode;	     /* RywMode */
	uint64_t ryw_ticket; /* a commit whose LSN is not known yet (monitor ticket; 0 = none) */
	uint64_t ryw_lsn;    /* a replica must have replayed this to serve the session's reads */
	bool no_fresh;	     /* the last replica pick found no fresh replica */
	bool async_commit;   /* the session set synchronous_commit (maybe off) */
	bool stats_reader;   /* the session read the master's statistics: its reads stay there */
	bool txn_lost;	     /* its master died inside a transaction: say so at the next unit */
	char master_error[256]; /* why a new master connection could not be had */
	usec_t wait_until;   /* a held read stops waiting then (0 = not waiting) */
	ev_timer wait_timer;
	List wait_node; /* on the list of reads waiting for the monitor */
};

/* A unit's classification packed into a SessionStmt's info. */
static inline uint32_t stmt_info_pack(StmtClass c, ClassReason r, uint32_t flags)
{
	return (uint32_t)c | ((uint32_t)r << 8) | ((flags & 0xffffu) << 16);
}

static inline Unit *client_q_head(Client *cl)
{
	return cl->qlen ? &cl->q[cl->qhead] : NULL;
}

static inline Unit *client_q_at(Client *cl, unsigned i)
{
	return &cl->q[(cl->qhead + i) % UNITQ_CAP];
}

/* A closing client that does not read its last messages is dropped after this. */
#define CLIENT_CLOSE_FLUSH_TIMEOUT (5 * USEC_PER_SEC)

extern struct ev_loop *client_loop;
extern const Config *client_cfg;
extern const AuthFile *client_authfile;
extern bool client_shutting_down;
extern bool client_ryw_global;

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
/* The auth file changed: forget the SCRAM verifiers derived from its plain passwords. */
void client_login_forget_secrets(void);
void client_startup_read(Client *cl);
/* A login held by a failover asks the master's pool again (client_login.c). */
void client_login_retry(Client *cl);
/* Holds a login until the failover ends (up to write_wait_timeout); false: too late. */
bool client_login_hold(Client *cl);
/* The held login or unit went on: forget its deadline. */
void client_wait_done(Client *cl);
void client_auth_read(Client *cl);

/* client_wait.c: sessions held for a while */
void client_wait_init(Client *cl);
/*
 * Holds the unit being routed for at most budget from the first call: true
 * while it may still wait (the monitor's news or the timer retries it).
 */
bool client_wait_for(Client *cl, usec_t budget);
/* The unit (or login) went on: no longer held. */
void client_wait_clear(Client *cl);
/* Holds the unit being routed until the monitor's news (RESUME, the gate opening). */
void client_hold(Client *cl);
/* A switchover holds units bound for the master (monitor.h MonitorGate). */
bool client_master_held(void);

/* client_route.c: client -> servers */
/* The classifier's options for this session (function and relation lookups in its database). */
void client_class_opts(Client *cl, ClassifyOptions *o);
void client_forward(Client *cl);
void client_route_init(Client *cl);
void client_route_free(Client *cl);
/* The client session ended: give back (or close) both server connections. */
void client_detach_servers(Client *cl);
/* Flushes the servers and compacts the client's buffer; pauses the client when one is full. */
void client_flush_servers(Client *cl);
/* Applies a finished barrier unit's session effects (its ReadyForQuery said status). */
void client_unit_done(Client *cl, const Unit *u, char status);
/* Re-sends a unit kept by the safety net to the master, in place of the head unit. */
bool client_rerun_on_master(Client *cl, Unit *u);
void client_backend_failed_replay(Client *cl, Backend *b);
/* Forgets the session-state changes of the unit and transaction under way. */
void client_effects_reset(Client *cl);
/* Calls fn on every client in any state (fn must not close it). */
void client_each_all(void (*fn)(Client *, void *), void *arg);
/* The client with this id (SHOW CLIENTS), or NULL. */
Client *client_find(uint64_t id);
/* Calls fn on every active client (it may close the client). */
void client_each(void (*fn)(Client *, const Node *), const Node *arg);
void client_master_changed(Client *cl, const Node *master);
/*
 * b (the master) is gone: keep the client when its session can go on (see
 * client_pump.c); owed: units were in flight there (each gets 08006).
 * False when the client must be closed.
 */
bool client_master_lost(Client *cl, Backend *b, bool owed, const char *node, const char *why);
void client_mark_node_down(const Node *node, const char *why);
void client_note_latency(const Node *node, usec_t us);
bool client_is_idle(const Client *cl);
/* The pool size of the session's database (current configuration). */
int client_pool_size(const Client *cl);

/* client_pump.c: servers -> client */
void client_master_ready(PoolWaiter *w, Server *sv);
void client_master_failed(PoolWaiter *w, const ServerError *err);
void client_backend_link(Backend *b, Server *sv);
void client_on_server_read(ServerLink *link, Server *sv);
void client_on_server_drain(ServerLink *link, Server *sv);
/* Forwards what the head unit's server has buffered; then resumes client input. */
void client_pump(Client *cl);

#endif
