/*
 * sqllex.h - a single-pass SQL lexer that splits text into tokens the way
 * PostgreSQL's scanner does where it matters for routing: -- and nested
 * block comments, '...' (doubled quotes), E'...' (backslash escapes), U&'...',
 * B'...' / X'...' / N'...', $$...$$ and $tag$...$tag$, "quoted ""idents""",
 * U&"...", numbers, $n parameters, operators (cut before -- and / *), and
 * keyword recognition (case-insensitive, PostgreSQL's categories).
 * Pure: no allocation; the text is read only through lx->s[0..len).
 */
#ifndef PROXY_SQLLEX_H
#define PROXY_SQLLEX_H

#include "common.h"

typedef enum SqlTokKind {
	TK_EOF,
	TK_WORD,     /* identifier or keyword (kw != KW_NONE) */
	TK_QIDENT,   /* "quoted identifier" */
	TK_UIDENT,   /* U&"quoted identifier" */
	TK_STRING,   /* any string constant, dollar-quoted included */
	TK_NUMBER,   /* 1, 1.5, .5e-3 */
	TK_PARAM,    /* $1 */
	TK_OP,	     /* operator: + - = <> ->> @> ... */
	TK_LPAREN,   /* ( */
	TK_RPAREN,   /* ) */
	TK_LBRACKET, /* [ */
	TK_RBRACKET, /* ] */
	TK_COMMA,    /* , */
	TK_SEMI,     /* ; */
	TK_DOT,	     /* . */
	TK_CAST,     /* :: */
	TK_COLON,    /* : (array slices) */
	TK_OTHER,    /* a byte PostgreSQL's grammar has no use for ($, \, {, ...) */
	TK_ERROR,    /* unterminated literal or comment, or a NUL byte: the rest of the text */
} SqlTokKind;

/* Token flags. */
#define TF_DOUBLED 0x01	  /* TK_QIDENT holding "" */
#define TF_AMBIGUOUS 0x02 /* TK_STRING '...' ending elsewhere if standard strings are off */
#define TF_DOLLAR 0x04	  /* TK_STRING dollar-quoted */

/* Keyword categories, as in PostgreSQL's kwlist.h. */
typedef enum KwCat { KC_NONE, KC_UNRESERVED, KC_COL_NAME, KC_TYPE_FUNC, KC_RESERVED } KwCat;

/*
 * The keywords the classifier looks at: every reserved, type/function-name
 * and column-name keyword of PostgreSQL 15 (plus the SQL/JSON ones of 16 and
 * 17), and the unreserved ones that start or shape statements.
 */
typedef enum Kw {
	KW_NONE,
	/* reserved */
	KW_ALL,
	KW_ANALYSE,
	KW_ANALYZE,
	KW_AND,
	KW_ANY,
	KW_ARRAY,
	KW_AS,
	KW_ASC,
	KW_ASYMMETRIC,
	KW_BOTH,
	KW_CASE,
	KW_CAST,
	KW_CHECK,
	KW_COLLATE,
	KW_COLUMN,
	KW_CONSTRAINT,
	KW_CREATE,
	KW_CURRENT_CATALOG,
	KW_CURRENT_DATE,
	KW_CURRENT_ROLE,
	KW_CURRENT_TIME,
	KW_CURRENT_TIMESTAMP,
	KW_CURRENT_USER,
	KW_DEFAULT,
	KW_DEFERRABLE,
	KW_DESC,
	KW_DISTINCT,
	KW_DO,
	KW_ELSE,
	KW_END,
	KW_EXCEPT,
	KW_FALSE,
	KW_FETCH,
	KW_FOR,
	KW_FOREIGN,
	KW_FROM,
	KW_GRANT,
	KW_GROUP,
	KW_HAVING,
	KW_IN,
	KW_INITIALLY,
	KW_INTERSECT,
	KW_INTO,
	KW_LATERAL,
	KW_LEADING,
	KW_LIMIT,
	KW_LOCALTIME,
	KW_LOCALTIMESTAMP,
	KW_NOT,
	KW_NULL,
	KW_OFFSET,
	KW_ON,
	KW_ONLY,
	KW_OR,
	KW_ORDER,
	KW_PLACING,
	KW_PRIMARY,
	KW_REFERENCES,
	KW_RETURNING,
	KW_SELECT,
	KW_SESSION_USER,
	KW_SOME,
	KW_SYMMETRIC,
	KW_TABLE,
	KW_THEN,
	KW_TO,
	KW_TRAILING,
	KW_TRUE,
	KW_UNION,
	KW_UNIQUE,
	KW_USER,
	KW_USING,
	KW_VARIADIC,
	KW_WHEN,
	KW_WHERE,
	KW_WINDOW,
	KW_WITH,
	/* type or function name */
	KW_AUTHORIZATION,
	KW_BINARY,
	KW_COLLATION,
	KW_CONCURRENTLY,
	KW_CROSS,
	KW_CURRENT_SCHEMA,
	KW_FREEZE,
	KW_FULL,
	KW_ILIKE,
	KW_INNER,
	KW_IS,
	KW_ISNULL,
	KW_JOIN,
	KW_LEFT,
	KW_LIKE,
	KW_NATURAL,
	KW_NOTNULL,
	KW_OUTER,
	KW_OVERLAPS,
	KW_RIGHT,
	KW_SIMILAR,
	KW_TABLESAMPLE,
	KW_VERBOSE,
	/* column name */
	KW_BETWEEN,
	KW_BIGINT,
	KW_BIT,
	KW_BOOLEAN,
	KW_CHAR,
	KW_CHARACTER,
	KW_COALESCE,
	KW_DEC,
	KW_DECIMAL,
	KW_EXISTS,
	KW_EXTRACT,
	KW_FLOAT,
	KW_GREATEST,
	KW_GROUPING,
	KW_INOUT,
	KW_INT,
	KW_INTEGER,
	KW_INTERVAL,
	KW_JSON,
	KW_JSON_ARRAY,
	KW_JSON_ARRAYAGG,
	KW_JSON_EXISTS,
	KW_JSON_OBJECT,
	KW_JSON_OBJECTAGG,
	KW_JSON_QUERY,
	KW_JSON_SCALAR,
	KW_JSON_SERIALIZE,
	KW_JSON_TABLE,
	KW_JSON_VALUE,
	KW_LEAST,
	KW_MERGE_ACTION,
	KW_NATIONAL,
	KW_NCHAR,
	KW_NONE_,
	KW_NORMALIZE,
	KW_NULLIF,
	KW_NUMERIC,
	KW_OUT,
	KW_OVERLAY,
	KW_POSITION,
	KW_PRECISION,
	KW_REAL,
	KW_ROW,
	KW_SETOF,
	KW_SMALLINT,
	KW_SUBSTRING,
	KW_TIME,
	KW_TIMESTAMP,
	KW_TREAT,
	KW_TRIM,
	KW_VALUES,
	KW_VARCHAR,
	KW_XMLATTRIBUTES,
	KW_XMLCONCAT,
	KW_XMLELEMENT,
	KW_XMLEXISTS,
	KW_XMLFOREST,
	KW_XMLNAMESPACES,
	KW_XMLPARSE,
	KW_XMLPI,
	KW_XMLROOT,
	KW_XMLSERIALIZE,
	KW_XMLTABLE,
	/* unreserved, used by the classifier */
	KW_ABORT,
	KW_ALTER,
	KW_ATOMIC,
	KW_BEGIN,
	KW_BY,
	KW_CALL,
	KW_CHAIN,
	KW_CHARACTERISTICS,
	KW_CHECKPOINT,
	KW_CLOSE,
	KW_CLUSTER,
	KW_COMMENT,
	KW_COMMIT,
	KW_COMMITTED,
	KW_CONSTRAINTS,
	KW_COPY,
	KW_CUBE,
	KW_CURSOR,
	KW_CYCLE,
	KW_DEALLOCATE,
	KW_DECLARE,
	KW_DELETE,
	KW_DISCARD,
	KW_DROP,
	KW_EXECUTE,
	KW_EXPLAIN,
	KW_FILTER,
	KW_FIRST,
	KW_FUNCTION,
	KW_GLOBAL,
	KW_HOLD,
	KW_IMPORT,
	KW_INSERT,
	KW_ISOLATION,
	KW_KEY,
	KW_LEVEL,
	KW_LISTEN,
	KW_LOAD,
	KW_LOCAL,
	KW_LOCK,
	KW_MATERIALIZED,
	KW_MERGE,
	KW_MOVE,
	KW_NO,
	KW_NOTIFY,
	KW_OPERATOR,
	KW_ORDINALITY,
	KW_OVER,
	KW_PARTITION,
	KW_PREPARE,
	KW_PREPARED,
	KW_PROCEDURE,
	KW_PROGRAM,
	KW_READ,
	KW_REASSIGN,
	KW_RECURSIVE,
	KW_REFRESH,
	KW_REINDEX,
	KW_RELEASE,
	KW_REPEATABLE,
	KW_REPLACE,
	KW_RESET,
	KW_REVOKE,
	KW_ROLE,
	KW_ROLLBACK,
	KW_ROLLUP,
	KW_ROWS,
	KW_SAVEPOINT,
	KW_SEARCH,
	KW_SECOND,
	KW_SECURITY,
	KW_SERIALIZABLE,
	KW_SESSION,
	KW_SET,
	KW_SETS,
	KW_SHARE,
	KW_SHOW,
	KW_SNAPSHOT,
	KW_START,
	KW_STDOUT,
	KW_TEMP,
	KW_TEMPORARY,
	KW_TRANSACTION,
	KW_TRUNCATE,
	KW_UNCOMMITTED,
	KW_UNLISTEN,
	KW_UNLOGGED,
	KW_UPDATE,
	KW_VACUUM,
	KW_VARYING,
	KW_WITHOUT,
	KW_WORK,
	KW_WRITE,
	KW_ZONE,
	KW__COUNT
} Kw;

typedef struct SqlTok {
	uint8_t kind;  /* SqlTokKind */
	uint8_t flags; /* TF_* */
	uint16_t kw;   /* Kw for TK_WORD, else KW_NONE */
	uint32_t off;  /* first byte */
	uint32_t len;  /* bytes, delimiters included */
} SqlTok;

typedef struct SqlLexer {
	const char *s;
	uint32_t len;
	uint32_t pos;
	bool std_strings; /* standard_conforming_strings known to be on */
	bool at_start;	  /* no token yet in this statement: comments may hold hints */
	uint32_t hints;	  /* SF_HINT_* seen in leading comments (classify.h) */
	bool has_peek;
	SqlTok peeked;
} SqlLexer;

/* len must fit in 32 bits (the caller checks). Starts a statement at pos. */
void sqllex_init(SqlLexer *lx, const char *s, uint32_t len, uint32_t pos, bool std_strings);
/* The next token; TK_EOF at the end (for ever). TK_SEMI re-arms hint collection. */
SqlTok sqllex_next(SqlLexer *lx);
/* The token sqllex_next will return, without consuming it. */
const SqlTok *sqllex_peek(SqlLexer *lx);

KwCat sqllex_kw_cat(Kw kw);
const char *sqllex_kw_name(Kw kw);
/* Case-insensitive (ASCII) comparison of a word token with a lower-case literal. */
bool sqllex_tok_is(const SqlLexer *lx, const SqlTok *t, const char *lower);
/* NULL when the keyword table is sorted, else the first misplaced name (unit tests). */
const char *sqllex_check_table(void);

#endif
