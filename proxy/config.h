/*
 * config.h - pgrelay's configuration: the Config value, loading it from an
 * ini file (inih) through one key table, validation, the read-your-writes
 * mode resolver (global, [databases] and [users] settings), and the auth
 * file (userlist) parser. Pure: no sockets, no libev.
 *
 * Ownership: config_load() returns a Config the caller owns; free it with
 * config_free(). Nothing may keep pointers into a Config across a reload:
 * copy what a long-lived object needs.
 */
#ifndef PROXY_CONFIG_H
#define PROXY_CONFIG_H

#include "common.h"
#include "log.h"

#define CFG_MAX_LISTEN 8
#define CFG_MAX_NODES 16
#define CFG_MAX_DATABASES 64
#define CFG_MAX_USERS 64
#define CFG_MAX_FUNCS 128 /* entries in read_only_functions / write_functions each */

typedef enum AuthType { AUTH_SCRAM, AUTH_MD5, AUTH_TRUST, AUTH__COUNT } AuthType;

typedef enum NodeRole { ROLE_MASTER, ROLE_REPLICA, ROLE__COUNT } NodeRole;

/* no_fresh_replica: what a read does when no replica is fresh enough. */
typedef enum NoFreshPolicy {
	NOFRESH_MASTER, /* it goes to the master */
	NOFRESH_WAIT,	/* it waits up to no_fresh_replica_timeout, then fails */
	NOFRESH_ERROR,	/* it fails at once */
} NoFreshPolicy;

/* read_your_writes: which replicas a read may go to after writes. */
typedef enum RywMode {
	RYW_OFF,     /* any replica within the lag limits */
	RYW_SESSION, /* only replicas that replayed the client's own committed writes */
	RYW_GLOBAL,  /* only replicas that replayed every write committed through pgrelay
			before the read arrived */
} RywMode;

typedef struct CfgNode {
	char name[PG_NAME_MAX]; /* from the section name [node.NAME] */
	char host[256];		/* numeric IPv4/IPv6 address or a name resolved at startup */
	int port;
	NodeRole role;
	int weight; /* 0..1000, share of reads; default: replica 1, master 0 (serves no reads) */
	bool weight_set; /* weight was given: else it follows the node's current role */
	int line;   /* where the section starts, for messages */
	/* failover */
	int priority;			    /* 0..1000, default 100: higher is promoted first
					       among equally advanced candidates */
	bool never_promote;		    /* promote = never; allowed on the master too */
	char replication_slot[PG_NAME_MAX]; /* slot used when streaming; "" = none */
} CfgNode;

/* One entry of read_only_functions / write_functions. */
typedef struct CfgFunc {
	char schema[PG_NAME_MAX]; /* "" = any schema */
	char name[PG_NAME_MAX];	  /* folded as PostgreSQL folds it: unquoted -> ASCII lower case,
				     quoted -> as written */
} CfgFunc;

typedef struct CfgDatabase {
	char name[PG_NAME_MAX];	  /* client-side name, or "*" for the fallback */
	char dbname[PG_NAME_MAX]; /* backend database; empty = same as the client's */
	char user[PG_NAME_MAX];	  /* backend user; empty = the client's user */
	char password[256];	  /* backend password for `user`; empty = from the auth file */
	int pool_size;		  /* 0 = the global pool_size */
	int read_your_writes;	  /* a RywMode; -1 = not set (the global key applies) */
} CfgDatabase;

/* A [users] entry: per-user settings, keyed by the client's user name. */
typedef struct CfgUser {
	char name[PG_NAME_MAX];
	int read_your_writes; /* a RywMode; -1 = not set */
} CfgUser;

typedef struct Config {
	char *path; /* the file it was loaded from */

	/* [pgrelay] */
	size_t nlisten;
	char listen_addr[CFG_MAX_LISTEN][64]; /* numeric addresses; "*" = all IPv4 */
	int listen_port;
	AuthType auth_type;
	char auth_file[1024];
	int pool_size;
	int max_client_conn;
	size_t max_message_size;     /* bytes, largest client message accepted */
	usec_t connect_timeout;	     /* server connect + login */
	usec_t client_login_timeout; /* client startup + auth */
	usec_t server_idle_timeout;  /* idle server connections are closed after this; 0 = never */
	usec_t client_idle_timeout;  /* idle clients (not in a transaction) closed; 0 = never */
	usec_t query_wait_timeout;   /* how long a client waits for a pool slot; 0 = forever */
	usec_t shutdown_timeout;     /* SIGTERM: how long running transactions may finish */
	char server_reset_query[256];
	LogLevel log_level;

	/* [pgrelay]: read routing */
	bool route_reads;		/* send read-only statements to replicas */
	int load_balance;		/* a BalancePolicy (balance.h): BAL_ROUND_ROBIN.. */
	char read_only_functions[4096]; /* the key's text, trimmed; parsed below */
	char write_functions[4096];	/* likewise */
	char monitor_user[PG_NAME_MAX]; /* for catalog lookups; "" = no lookups */
	char monitor_password[256];	/* password of monitor_user; "" = none */
	usec_t function_cache_ttl;	/* how long what monitor_user looked up is cached */
	usec_t replica_retry_interval;	/* a replica that refused a connection rests this long */
	size_t nread_only_funcs;	/* read_only_functions, parsed */
	CfgFunc read_only_funcs[CFG_MAX_FUNCS];
	size_t nwrite_funcs; /* write_functions, parsed */
	CfgFunc write_funcs[CFG_MAX_FUNCS];

	/* [pgrelay]: the monitor, replica lag and read-your-writes */
	usec_t monitor_interval;	  /* how often every node is polled */
	usec_t monitor_timeout;		  /* connect + query timeout of monitor connections */
	int monitor_hysteresis;		  /* observations in a row before a node's state changes */
	char monitor_dbname[PG_NAME_MAX]; /* the database the monitor logs in to */
	uint64_t max_lag_bytes;		  /* master WAL position - replay position; 0 = no limit */
	usec_t max_lag_time;		  /* replay delay; 0 = no limit */
	int no_fresh_replica;		  /* a NoFreshPolicy */
	usec_t no_fresh_replica_timeout;  /* NOFRESH_WAIT: how long a read waits */
	int read_your_writes;		  /* a RywMode; config_ryw_mode() applies overrides */
	usec_t read_your_writes_wait;	  /* a read's wait for its watermark */

	/* [pgrelay]: failover */
	bool failover;			/* promote a replica when the master fails */
	int failover_after;		/* failed master health checks in a row before failover */
	usec_t failover_timeout;	/* each step (promote, wait for the role, repoint) */
	uint64_t max_failover_lag;	/* bytes a candidate may be behind; 0 = no limit */
	usec_t write_wait_timeout;	/* a write's wait for a usable master; 0 = fail at once */
	char promote_user[PG_NAME_MAX]; /* pg_promote(), ALTER SYSTEM; "" = monitor_user */
	char promote_password[256];	/* of promote_user ("" = none); unused when
					   promote_user is "" (monitor_password then) */
	char promote_command[1024];	/* "" = pg_promote(); %n %h %p, %% = '%' */
	char follow_command[1024];	/* "" = ALTER SYSTEM SET primary_conninfo; %n %h %p of
					   the replica, %N %H %P of the new master, %% = '%' */
	char state_file[1024];		/* resolved like auth_file; "" = none */
	bool fence_old_master;		/* make a returning old master read-only */
	char replication_user[PG_NAME_MAX]; /* in a rewritten primary_conninfo; "" = keep */
	char replication_password[256];	    /* likewise */

	/* [pgrelay]: operations */
	char admin_users[1024]; /* comma-separated: may use every admin console command */
	char stats_users[1024]; /* comma-separated: may use the console's SHOW commands */
	char metrics_addr[64];	/* the HTTP listener for /metrics and /health */
	int metrics_port;	/* 0 = no HTTP listener */

	/* [node.NAME] sections */
	size_t nnodes;
	CfgNode nodes[CFG_MAX_NODES];

	/* [databases] */
	size_t ndatabases;
	CfgDatabase databases[CFG_MAX_DATABASES];

	/* [users] */
	size_t nusers;
	CfgUser users[CFG_MAX_USERS];
} Config;

/*
 * Loads and validates path. On failure returns NULL and writes a message of
 * the form "FILE:LINE: key 'KEY': what is wrong" (or "FILE: ..." when no line
 * applies) to err[errlen].
 */
Config *config_load(const char *path, char *err, size_t errlen) MUST_CHECK;
void config_free(Config *cfg);

/* The node marked role = master (exactly one is required). */
const CfgNode *config_master(const Config *cfg);
/* The [databases] entry for a client database name: exact match, then "*", else NULL. */
const CfgDatabase *config_find_database(const Config *cfg, const char *name);
/* The [users] entry for a client user name (exact match), else NULL. */
const CfgUser *config_find_user(const Config *cfg, const char *name);

/*
 * The read-your-writes mode of a client: its [users] entry if that sets
 * read_your_writes, else its database's entry (config_find_database()) if
 * that sets it, else the global key. database or user may be NULL (skipped).
 */
RywMode config_ryw_mode(const Config *cfg, const char *database, const char *user);

/*
 * True when list[0..n) has an entry for the function name (already folded)
 * called as schema.name, or unqualified when schema is NULL: the entry's name
 * must be equal (case-sensitive) and its schema "" or equal to schema. An
 * entry with a schema never matches an unqualified call.
 */
bool config_func_listed(const CfgFunc *list, size_t n, const char *schema, const char *name);

const char *auth_type_name(AuthType t);
const char *node_role_name(NodeRole r);
const char *ryw_mode_name(RywMode m);		   /* "off", "session", "global" */
const char *no_fresh_policy_name(NoFreshPolicy p); /* "master", "wait", "error" */

/*
 * For SHOW CONFIG and the docs: iterate over every key with its current value
 * as text. Returns false past the last key.
 */
bool config_key_at(const Config *cfg, size_t i, const char **section, const char **name,
		   char *value, size_t valuelen);
/* Whether a reload (SIGHUP, RELOAD, SET) may change key i; false: a restart is needed. */
bool config_key_reloadable(size_t i);
/* Whether key i has the same value in a and b. */
bool config_key_same(const Config *a, const Config *b, size_t i);
/* Gives dst src's value of key i (reload keeps restart-only keys); false if it cannot. */
bool config_key_copy(Config *dst, const Config *src, size_t i) MUST_CHECK;
/* The index of a [pgrelay] key by name, or -1. */
int config_key_find(const char *name);
/* Whether user is in a comma-separated list of names (admin_users, stats_users). */
bool config_user_listed(const char *list, const char *user);

/* ---- auth file: lines of  "user" "secret"  ----------------------------- */

typedef struct AuthEntry {
	char user[PG_NAME_MAX];
	char secret[512]; /* SCRAM-SHA-256$..., md5<32 hex>, or a plain password */
} AuthEntry;

typedef struct AuthFile {
	size_t n;
	AuthEntry *entries; /* sorted by user */
} AuthFile;

/*
 * Loads an auth file. Blank lines and lines starting with ';' or '#' are
 * ignored; quotes inside a value are doubled ("a""b"). On failure returns
 * false with "FILE:LINE: ..." in err.
 */
bool authfile_load(const char *path, AuthFile *out, char *err, size_t errlen) MUST_CHECK;
void authfile_free(AuthFile *af);
const AuthEntry *authfile_find(const AuthFile *af, const char *user);

/* A value given at runtime (admin SET): applied after the file, then validated with it. */
typedef struct CfgOverride {
	const char *key, *value;
} CfgOverride;
/*
 * Parses text[0..len) read from a file called name (config_read_file()),
 * then applies ov[0..nov) as if they came last in [pgrelay]; validates all.
 */
Config *config_load_text(const char *name, const char *text, size_t len, const CfgOverride *ov,
			 size_t nov, char *err, size_t errlen) MUST_CHECK;
/* The file's bytes (NUL-terminated, owned by the caller), or NULL with err. */
char *config_read_file(const char *path, size_t *len, char *err, size_t errlen) MUST_CHECK;

/*
 * Like config_load(), but parses text (NUL-terminated) as if it had been
 * read from a file called name: name is used in messages, as Config.path
 * and to resolve a relative auth_file. For tests and fuzzing.
 */
Config *config_load_string(const char *name, const char *text, char *err, size_t errlen) MUST_CHECK;

#endif
