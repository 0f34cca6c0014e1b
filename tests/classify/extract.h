/*
 * extract.h - pulls every SQL statement out of psql scripts (PostgreSQL's
 * regression suite), for the classifier's oracle test and its benchmark.
 *
 * A small psql emulation decides what psql would send (meta-commands and
 * in-line COPY data are dropped, \g and friends end a query, \set / \getenv
 * variables are substituted, \; joins statements into one query); libpg_query's
 * splitter then cuts each sent query into statements, so the statement
 * boundaries do not come from pgrelay's own lexer. Test code: it allocates
 * freely and aborts on out-of-memory.
 */
#ifndef TESTS_CLASSIFY_EXTRACT_H
#define TESTS_CLASSIFY_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ExtractStmt {
	char *text; /* NUL-terminated, from the first non-blank byte to the ';' (if any) */
	size_t len;
	const char *file;      /* base name of the script */
	int line;	       /* line of the first non-blank byte */
	int query;	       /* index into ExtractSet.queries */
	bool placeholder;      /* a psql variable of unknown value was replaced by 0 */
	bool literal_var;      /* a reference to an undefined psql variable was left as written */
	bool split_by_scanner; /* the query did not parse as a whole: split by the scanner */
} ExtractStmt;

/* One query as psql sends it: one statement, or several joined with \; */
typedef struct ExtractQuery {
	char *text; /* NUL-terminated, leading blanks removed */
	size_t len;
	const char *file;
	int line;
	int first_stmt; /* index into ExtractSet.stmts */
	int nstmts;
} ExtractQuery;

typedef struct ExtractSet {
	ExtractStmt *stmts;
	size_t nstmts, cap_stmts;
	ExtractQuery *queries;
	size_t nqueries, cap_queries;
	char **files; /* base names (owned) */
	size_t nfiles;
	/* what the psql emulation dropped or rewrote */
	size_t meta_commands; /* backslash commands */
	size_t copy_blocks;   /* in-line COPY data blocks skipped */
	size_t copy_lines;    /* their lines */
	size_t var_substituted;
	size_t var_placeholders;
	size_t var_literal;
	size_t psql_copy; /* \copy commands turned into the COPY psql sends */
} ExtractSet;

/*
 * Loads every *.sql file of dir (sorted by name). Returns false and writes a
 * message into err when the directory or a file cannot be read.
 */
bool extract_load_dir(const char *dir, ExtractSet *set, char *err, size_t errlen);

/* Loads one script; name is what statements report as their file. */
bool extract_load_file(const char *path, const char *name, ExtractSet *set, char *err,
		       size_t errlen);

void extract_free_set(ExtractSet *set);

#endif
