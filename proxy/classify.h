/*
 * classify.h - the statement classifier: a real SQL lexer (comments, all
 * string forms, quoted identifiers, top-level semicolons; see sqllex.h) and a
 * conservative classifier that proves a statement is a read, or says why it
 * is not. Anything it cannot prove to be a read goes to the master.
 * Pure: no sockets, no libev, no libpq, no allocation.
 *
 * The router (later) asks classify_sql() once per simple Query and once per
 * Parse (a prepared statement is classified once, never per execution).
 */
#ifndef PROXY_CLASSIFY_H
#define PROXY_CLASSIFY_H

#include "common.h"

typedef enum StmtClass {
	SC_EMPTY, /* nothing but blanks and comments */
	SC_READ,  /* proven read-only: a replica may run it */
	SC_WRITE, /* writes, DDL, side effects, or not proven a read: master */
	SC_BEGIN, /* BEGIN / START TRANSACTION (flags: SF_READ_ONLY, SF_SERIALIZABLE...) */
	SC_END,	  /* COMMIT / END / ROLLBACK / ABORT: ends the transaction block */
	SC_TXN, /* SAVEPOINT / RELEASE / ROLLBACK TO / FETCH...: stays where the transaction runs */
	SC_SET_TXN, /* SET TRANSACTION ... / SET SESSION CHARACTERISTICS AS TRANSACTION ... */
	SC_SESSION, /* replayable session state: SET / RESET / SET SESSION x / DISCARD x */
	SC_PIN,	    /* non-replayable session state: pins the session to the master */
	SC__COUNT
} StmtClass;

/* Flags qualifying the class. */
#define SF_READ_ONLY 0x0001    /* READ ONLY (BEGIN, SET TRANSACTION, default_... = on) */
#define SF_READ_WRITE 0x0002   /* READ WRITE, or default_transaction_read_only = off */
#define SF_SERIALIZABLE 0x0004 /* ISOLATION LEVEL SERIALIZABLE (or the GUCs) */
#define SF_HINT_MASTER 0x0008  /* leading comment pgrelay:primary (or pgrelay:master) */
#define SF_HINT_REPLICA 0x0010 /* leading comment pgrelay:replica */
#define SF_MULTI 0x0020	       /* the text holds several statements */
#define SF_SET_LOCAL 0x0040    /* SET LOCAL: lasts only until the end of the transaction */
#define SF_TRUNCATED 0x0080    /* the lexer stopped early (unterminated literal...): not a read */
#define SF_CHAIN 0x0100	       /* COMMIT / ROLLBACK AND CHAIN: a new transaction starts at once */
#define SF_ROLLBACK 0x0200     /* SC_END by ROLLBACK / ABORT (not COMMIT / END) */
#define SF_REPEATABLE_READ 0x0400 /* ISOLATION LEVEL REPEATABLE READ (or the GUCs) */
#define SF_DEFERRABLE 0x0800	  /* DEFERRABLE given (BEGIN, SET TRANSACTION, the GUCs) */
#define SF_SESSION_CHARS 0x1000	  /* SC_SET_TXN by SET SESSION CHARACTERISTICS: lasts the session */
#define SF_HAS_PIN 0x2000	  /* some statement of the text is SC_PIN (see classify_next) */
#define SF_HAS_SESSION 0x4000	  /* some statement of the text is SC_SESSION or SC_SET_TXN */
#define SF_MASTER_STATS 0x8000	  /* some statement reads the master's statistics or activity */

/* Why: stable names an operator can read (classify_reason_name). */
typedef enum ClassReason {
	CR_EMPTY,
	CR_SELECT,	     /* plain SELECT / WITH ... SELECT with read-only functions */
	CR_VALUES,	     /* VALUES (...) */
	CR_TABLE,	     /* TABLE t */
	CR_SHOW,	     /* SHOW x */
	CR_EXPLAIN,	     /* EXPLAIN (without ANALYZE, or ANALYZE of a read) */
	CR_COPY_TO,	     /* COPY t TO STDOUT / COPY (query) TO STDOUT */
	CR_FETCH,	     /* FETCH / MOVE / CLOSE of a cursor (where the cursor lives) */
	CR_DML,		     /* INSERT / UPDATE / DELETE / MERGE */
	CR_DDL,		     /* CREATE / ALTER / DROP / COMMENT / TRUNCATE ... */
	CR_LOCKING_READ,     /* SELECT ... FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE */
	CR_SELECT_INTO,	     /* SELECT ... INTO */
	CR_MODIFYING_CTE,    /* WITH ... INSERT/UPDATE/DELETE/MERGE at any depth */
	CR_EXPLAIN_ANALYZE,  /* EXPLAIN ANALYZE of a statement that is not a read */
	CR_COPY_FROM,	     /* COPY ... FROM */
	CR_CALL,	     /* CALL */
	CR_DO,		     /* DO */
	CR_LOCK,	     /* LOCK */
	CR_LISTEN,	     /* LISTEN / UNLISTEN (pins) */
	CR_NOTIFY,	     /* NOTIFY */
	CR_MAINTENANCE,	     /* VACUUM / ANALYZE / CLUSTER / REINDEX / REFRESH / CHECKPOINT */
	CR_GRANT,	     /* GRANT / REVOKE / ALTER DEFAULT PRIVILEGES ... */
	CR_WRITE_FUNCTION,   /* calls a function that may write (func_off/func_len) */
	CR_UNKNOWN_FUNCTION, /* calls a function whose volatility is not known (func_off/func_len)
			      */
	CR_MASTER_STATS,     /* reads pg_stat_* / pg_statio_* / pg_locks / pg_prepared_xacts ... */
	CR_TXN_CONTROL,	     /* BEGIN / COMMIT / SAVEPOINT / SET CONSTRAINTS ... */
	CR_TWO_PHASE,	     /* PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK PREPARED */
	CR_SET,		     /* SET / RESET (guc_off/guc_len) */
	CR_TEMP,	     /* creates temporary objects (pins), or reads pg_temp (master) */
	CR_ADVISORY_LOCK,    /* session-level advisory lock (pins; func_off/func_len) */
	CR_HOLD_CURSOR,	     /* DECLARE ... WITH HOLD (pins) */
	CR_DECLARE,	     /* DECLARE cursor of a read (without HOLD: lives in the transaction) */
	CR_PREPARE,	     /* SQL-level PREPARE name AS ... / DEALLOCATE (pins) */
	CR_HINT,    /* decided by a pgrelay: hint comment (router only; never produced here) */
	CR_MULTI,   /* several statements, not all reads (router only; never produced here) */
	CR_UNKNOWN, /* a statement the classifier does not know: master */
	/* added by the classifier module (append-only from here) */
	CR_EXECUTE,   /* SQL-level EXECUTE name: the prepared statement lives on the master */
	CR_DISCARD,   /* DISCARD ALL / PLANS / SEQUENCES / TEMP (SC_SESSION) */
	CR_LOAD,      /* LOAD 'library' (pins) */
	CR_COPY_FILE, /* COPY ... TO a server file or PROGRAM: the master's file system */
	CR_SESSION_FUNCTION, /* set_config(..., false) / setseed(): session state by function (pins)
			      */
	CR_MALFORMED,	     /* unterminated literal or comment, NUL byte: PostgreSQL rejects it */
	CR_TOO_COMPLEX,	     /* nesting deeper than the classifier follows */
	CR_AMBIGUOUS_STRING, /* '...' whose end depends on standard_conforming_strings */
	CR_SEQUENCE,	     /* reads a sequence relation (a replica has its WAL-logged state) */
	CR_UNKNOWN_RELATION, /* reads a relation whose kind is not known (yet) */
	CR__COUNT
} ClassReason;

/* Never NULL: "?" for an out-of-range value. */
const char *classify_class_name(StmtClass c);
const char *classify_reason_name(ClassReason r);

/* How the caller knows a function's volatility (pg_proc, the config's lists). */
typedef enum FuncKind { FUNC_READ_ONLY, FUNC_WRITE, FUNC_UNKNOWN } FuncKind;

/*
 * Names arrive as PostgreSQL resolves them: an unquoted name folded to lower
 * case (ASCII only, as PostgreSQL does), a quoted one without its quotes, both
 * clipped to 63 bytes on a character boundary and NUL-terminated (the lengths
 * exclude the NUL). schema is NULL for an unqualified name; quoted tells
 * whether the function name was quoted. A name holding "" or written U&"..."
 * is never passed (it is CR_UNKNOWN_FUNCTION). Called only for names in
 * neither built-in list, only while the statement could still be a read, and
 * from within classify_sql / classify_next (no allocation expected).
 * FUNC_READ_ONLY means "never writes" (the router: pg_proc.provolatile is not
 * 'v'), FUNC_WRITE "may write", FUNC_UNKNOWN "no such function / no idea".
 */
typedef FuncKind (*FuncLookup)(const char *schema, size_t schema_len, const char *name,
			       size_t name_len, bool quoted, void *arg);

typedef struct ClassifyOptions {
	/* consulted after the built-in write list and read-only list; NULL = none */
	FuncLookup lookup;
	void *lookup_arg;
	/*
	 * Relations read in FROM, same signature: FUNC_WRITE = a sequence,
	 * FUNC_READ_ONLY = anything else or nothing, FUNC_UNKNOWN = not known
	 * yet (the statement is then not a read). NULL = not asked.
	 */
	FuncLookup rel_lookup;
	void *rel_lookup_arg;
	/*
	 * true: the session runs standard_conforming_strings = on (the server
	 * reports it in ParameterStatus), so a backslash in '...' is an
	 * ordinary character. false (default): unknown, and a '...' literal
	 * whose end would differ under "off" makes the statement not a read
	 * (CR_AMBIGUOUS_STRING).
	 */
	bool std_strings;
} ClassifyOptions;

typedef struct StmtInfo {
	StmtClass cls;
	ClassReason reason;
	uint32_t flags;
	uint32_t nstmts; /* statements in the text (classify_next: 1) */
	/* CR_SET (SC_SESSION, SC_SET_TXN by SET): the parameter name as written; 0/0 for ALL */
	uint32_t guc_off, guc_len;
	/*
	 * CR_WRITE_FUNCTION / CR_UNKNOWN_FUNCTION / CR_ADVISORY_LOCK /
	 * CR_SESSION_FUNCTION: the function's name as written (schema included);
	 * CR_MASTER_STATS: the relation or function name. 0/0 otherwise.
	 */
	uint32_t func_off, func_len;
	/*
	 * Where the deciding statement is in the text: its first token to the
	 * end of its last one (no leading comments, no ';'). classify_sql: the
	 * first statement that is not a read, else the first statement.
	 */
	uint32_t stmt_off, stmt_len;
} StmtInfo;

/*
 * Classifies a whole simple-Query text (possibly several statements) or a
 * Parse text; len excludes the message's terminating NUL. A multi-statement
 * text is a read only if every statement is; otherwise the verdict is that
 * of the first statement that is not a read (with SF_MULTI set), so
 * transaction control and session changes inside it are still reported;
 * SF_HAS_PIN / SF_HAS_SESSION tell the caller to look at every statement
 * with classify_next. Hint flags are those of every statement's leading
 * comments. A text PostgreSQL cannot lex (unterminated literal or comment,
 * NUL byte) runs nowhere: SC_WRITE, CR_MALFORMED, SF_TRUNCATED.
 * opt may be NULL.
 */
void classify_sql(const char *sql, size_t len, const ClassifyOptions *opt, StmtInfo *out);

/* Statement-by-statement iteration, for callers that track SETs inside multi-statement text. */
typedef struct ClassifyIter {
	const char *sql;
	size_t len;
	size_t pos;
} ClassifyIter;

void classify_iter_init(ClassifyIter *it, const char *sql, size_t len);
/* false when no statement is left; empty statements between semicolons are skipped */
bool classify_next(ClassifyIter *it, const ClassifyOptions *opt, StmtInfo *out);

/* Unit tests: NULL when the built-in tables are sorted and well formed, else the bad entry. */
const char *classify_check_tables(void);

#endif
