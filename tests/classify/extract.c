/*
 * extract.c - statement extraction from psql scripts (see extract.h): a psql
 * emulation (quotes, comments, dollar quotes, parentheses and BEGIN ATOMIC
 * depth, meta-commands, variables, in-line COPY data) that decides what psql
 * sends, and libpg_query's splitter that cuts it into statements.
 */
#include "extract.h"
#include "pgjson.h"

#include <pg_query.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What stands for a psql variable of unknown value: a quoted identifier
 * parses wherever a column or a name may stand (as '...', a literal).
 */
#define EXT_PLACEHOLDER "psql_var"

/* ---- small helpers -------------------------------------------------------- */

static void *ext_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "extract: out of memory\n");
		abort();
	}
	return q;
}

static char *ext_strndup(const char *s, size_t n)
{
	char *d = ext_realloc(NULL, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? (cap)*2 : 16;                                              \
			(arr) = ext_realloc((arr), (cap) * sizeof(*(arr)));                        \
		}                                                                                  \
	} while (0)

static void ext_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ext_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Characters of an unquoted SQL identifier (after the first). */
static bool ext_is_ident(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool ext_is_ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

/* Characters of a psql variable name. */
static bool ext_is_var(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* ---- growable text with a source line per byte ------------------------- */

typedef struct Text {
	char *s;
	int *line;
	size_t len, cap;
} Text;

static void text_add(Text *t, const char *s, size_t n, int line)
{
	if (t->len + n + 1 > t->cap) {
		while (t->len + n + 1 > t->cap)
			t->cap = t->cap ? t->cap * 2 : 256;
		t->s = ext_realloc(t->s, t->cap);
		t->line = ext_realloc(t->line, t->cap * sizeof(int));
	}
	memcpy(t->s + t->len, s, n);
	for (size_t i = 0; i < n; i++)
		t->line[t->len + i] = line;
	t->len += n;
	t->s[t->len] = '\0';
}

static void text_addc(Text *t, char c, int line)
{
	text_add(t, &c, 1, line);
}

/* ---- psql variables ----------------------------------------------------- */

typedef struct Var {
	char *name;
	char *value; /* NULL: set, value unknown (\gset, backquotes, psql's own variables) */
} Var;

typedef struct Vars {
	Var *v;
	size_t n, cap;
} Vars;

static Var *vars_find(Vars *vs, const char *name, size_t len)
{
	for (size_t i = 0; i < vs->n; i++)
		if (strlen(vs->v[i].name) == len && memcmp(vs->v[i].name, name, len) == 0)
			return &vs->v[i];
	return NULL;
}

static void vars_set(Vars *vs, const char *name, const char *value)
{
	Var *v = vars_find(vs, name, strlen(name));

	if (!v) {
		GROW(vs->v, vs->n, vs->cap);
		v = &vs->v[vs->n++];
		v->name = ext_strndup(name, strlen(name));
	} else {
		free(v->value);
	}
	v->value = value ? ext_strndup(value, strlen(value)) : NULL;
}

static void vars_unset(Vars *vs, const char *name)
{
	Var *v = vars_find(vs, name, strlen(name));

	if (v) {
		free(v->name);
		free(v->value);
		*v = vs->v[--vs->n];
	}
}

static void vars_clear(Vars *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].value);
	}
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

/* Variables psql itself sets (their values depend on the session). */
static bool vars_is_psql_own(const char *name, size_t len)
{
	static const char *const own[] = {"AUTOCOMMIT",
					  "COMP_KEYWORD_CASE",
					  "DBNAME",
					  "ECHO",
					  "ECHO_HIDDEN",
					  "ENCODING",
					  "ERROR",
					  "FETCH_COUNT",
					  "HIDE_TABLEAM",
					  "HIDE_TOAST_COMPRESSION",
					  "HISTCONTROL",
					  "HISTFILE",
					  "HISTSIZE",
					  "HOST",
					  "IGNOREEOF",
					  "LASTOID",
					  "LAST_ERROR_MESSAGE",
					  "LAST_ERROR_SQLSTATE",
					  "ON_ERROR_ROLLBACK",
					  "ON_ERROR_STOP",
					  "PORT",
					  "PROMPT1",
					  "PROMPT2",
					  "PROMPT3",
					  "QUIET",
					  "ROW_COUNT",
					  "SERVER_VERSION_NAME",
					  "SERVER_VERSION_NUM",
					  "SHOW_CONTEXT",
					  "SINGLELINE",
					  "SINGLESTEP",
					  "SQLSTATE",
					  "USER",
					  "VERBOSITY",
					  "VERSION",
					  "VERSION_NAME",
					  "VERSION_NUM",
					  NULL};

	for (int i = 0; own[i]; i++)
		if (strlen(own[i]) == len && memcmp(own[i], name, len) == 0)
			return true;
	return false;
}

/* ---- the psql emulation ------------------------------------------------- */

typedef enum LexState {
	LX_NONE,
	LX_SQUOTE,  /* '...' (standard_conforming_strings on) */
	LX_ESTRING, /* E'...' with backslash escapes */
	LX_DQUOTE,  /* "..." */
	LX_DOLLAR,  /* $tag$...$tag$ */
	LX_BLOCK,   /* nested block comment */
	LX_LINE,    /* -- comment */
} LexState;

typedef struct Lexer {
	ExtractSet *set;
	const char *file;
	int line; /* current source line (1-based) */
	Text buf; /* the query being collected */
	/* offsets into buf: \; separators and placeholder / literal variable spots */
	size_t *marks_pos;
	char *marks_kind; /* 'p' placeholder, 'l' literal variable */
	size_t nmarks, capmarks;
	LexState st;
	int block_depth;
	char dtag[128];
	size_t dtag_len;
	int paren;
	int begin_depth;
	int words;     /* identifiers seen in this statement */
	char first[4]; /* first letters of its first four (c, o, r, f, p), or 0 */
	Vars vars;
	bool gset_seen;
	bool scs_off;	  /* standard_conforming_strings = off: '...' takes backslash escapes */
	int pending_copy; /* COPY FROM STDIN blocks that follow the current line */
	int data_blocks;  /* COPY data blocks still to skip, from this line on */
} Lexer;

static void lex_mark(Lexer *lx, char kind)
{
	GROW(lx->marks_pos, lx->nmarks, lx->capmarks);
	lx->marks_kind = ext_realloc(lx->marks_kind, lx->capmarks);
	lx->marks_pos[lx->nmarks] = lx->buf.len;
	lx->marks_kind[lx->nmarks] = kind;
	lx->nmarks++;
}

static bool lex_marked(const Lexer *lx, size_t from, size_t to, char kind)
{
	for (size_t i = 0; i < lx->nmarks; i++)
		if (lx->marks_kind[i] == kind && lx->marks_pos[i] >= from && lx->marks_pos[i] < to)
			return true;
	return false;
}

/* Skips blanks and comments from off; returns the offset of the first other byte. */
static size_t ext_skip_blanks(const char *s, size_t len, size_t off)
{
	while (off < len) {
		if (isspace((unsigned char)s[off])) {
			off++;
		} else if (s[off] == '-' && off + 1 < len && s[off + 1] == '-') {
			while (off < len && s[off] != '\n')
				off++;
		} else if (s[off] == '/' && off + 1 < len && s[off + 1] == '*') {
			int depth = 0;
			do {
				if (s[off] == '/' && off + 1 < len && s[off + 1] == '*') {
					depth++;
					off += 2;
				} else if (s[off] == '*' && off + 1 < len && s[off + 1] == '/') {
					depth--;
					off += 2;
				} else {
					off++;
				}
			} while (off < len && depth > 0);
		} else {
			break;
		}
	}
	return off;
}

static bool ext_word_at(const char *s, size_t len, size_t *off, const char *word)
{
	size_t n = strlen(word);

	if (*off + n > len || strncasecmp(s + *off, word, n) != 0)
		return false;
	if (*off + n < len && ext_is_ident((unsigned char)s[*off + n]))
		return false;
	*off += n;
	return true;
}

/* Parses a one-statement text: its root (to free) and its statement node, or NULL. */
static JNode *ext_parse_stmt(const char *sql, const char **type, const JNode **body)
{
	PgQueryParseResult r = pg_query_parse(sql);
	JNode *root = r.error ? NULL : pgjson_parse(r.parse_tree);
	const JNode *stmts = pgjson_get(root, "stmts");

	pg_query_free_parse_result(r);
	*type = NULL;
	if (stmts && stmts->type == J_ARR && stmts->n == 1)
		*type = pgjson_node_type(pgjson_get(stmts->kids[0], "stmt"), body);
	if (!*type) {
		pgjson_free(root);
		return NULL;
	}
	return root;
}

static bool ext_is_true(const JNode *nd)
{
	return nd && nd->type == J_BOOL && nd->boolean;
}

/*
 * Does this statement read in-line data (COPY ... FROM STDIN)? Decided from
 * the parse tree when it parses; from the words when it does not (psql
 * still waits for the data of a COPY the server rejects).
 */
static bool ext_is_copy_from_stdin(const char *stmt, size_t len)
{
	size_t off = ext_skip_blanks(stmt, len, 0);
	const char *type;
	const JNode *body;

	if (!ext_word_at(stmt, len, &off, "copy"))
		return false;
	JNode *root = ext_parse_stmt(stmt, &type, &body);
	if (root) {
		bool yes =
		    strcmp(type, "CopyStmt") == 0 && ext_is_true(pgjson_get(body, "is_from")) &&
		    !pgjson_get(body, "filename") && !ext_is_true(pgjson_get(body, "is_program"));
		pgjson_free(root);
		return yes;
	}
	/* a rough look: FROM STDIN */
	for (size_t i = off; i + 4 < len; i++) {
		size_t p = i;
		if (!ext_is_ident((unsigned char)stmt[i - 1]) &&
		    ext_word_at(stmt, len, &p, "from")) {
			p = ext_skip_blanks(stmt, len, p);
			if (ext_word_at(stmt, len, &p, "stdin") ||
			    ext_word_at(stmt, len, &p, "pstdin"))
				return true;
		}
	}
	return false;
}

/*
 * SET / RESET standard_conforming_strings: psql follows the server's value
 * to know whether backslashes escape in '...'. Returns -1 (not such a
 * statement), 0 (off) or 1 (on).
 */
static int ext_scs_change(const char *stmt, size_t len)
{
	size_t off = ext_skip_blanks(stmt, len, 0), o2 = off;
	const char *type;
	const JNode *body;

	if (!ext_word_at(stmt, len, &off, "set") && !ext_word_at(stmt, len, &o2, "reset"))
		return -1;
	JNode *root = ext_parse_stmt(stmt, &type, &body);
	int v = -1;
	const JNode *name = root ? pgjson_get(body, "name") : NULL;
	const JNode *kind = root ? pgjson_get(body, "kind") : NULL;
	if (root && strcmp(type, "VariableSetStmt") == 0 && kind && kind->type == J_STR) {
		if (strcmp(kind->str, "VAR_RESET_ALL") == 0) {
			v = 1;
		} else if (name && name->type == J_STR &&
			   strcmp(name->str, "standard_conforming_strings") == 0) {
			v = 1;
			const JNode *args = pgjson_get(body, "args"), *ac;
			if (strcmp(kind->str, "VAR_SET_VALUE") == 0 && args &&
			    args->type == J_ARR && args->n == 1 &&
			    pgjson_node_type(args->kids[0], &ac)) {
				const JNode *sv = pgjson_get(pgjson_get(ac, "sval"), "sval");
				if (sv && sv->type == J_STR &&
				    (strcasecmp(sv->str, "off") == 0 ||
				     strcasecmp(sv->str, "false") == 0))
					v = 0;
			}
		}
	}
	pgjson_free(root);
	return v;
}

/*
 * A placeholder that does not parse as a name may parse as a number
 * (COMMENT ON LARGE OBJECT :oid): keep the variant that parses.
 */
static void ext_try_numeric_placeholder(ExtractStmt *st)
{
	static const char ph[] = "\"" EXT_PLACEHOLDER "\"";
	PgQueryParseResult r = pg_query_parse(st->text);
	bool ok = !r.error;

	pg_query_free_parse_result(r);
	if (ok || !strstr(st->text, ph))
		return;
	char *alt = ext_realloc(NULL, st->len + 1);
	size_t n = 0;
	for (const char *p = st->text; *p;) {
		if (strncmp(p, ph, sizeof(ph) - 1) == 0) {
			alt[n++] = '0';
			p += sizeof(ph) - 1;
		} else {
			alt[n++] = *p++;
		}
	}
	alt[n] = '\0';
	r = pg_query_parse(alt);
	ok = !r.error;
	pg_query_free_parse_result(r);
	if (ok) {
		free(st->text);
		st->text = alt;
		st->len = n;
	} else {
		free(alt);
	}
}

static void lex_add_stmt(Lexer *lx, const char *q, size_t qlen, size_t loc, size_t slen, int query,
			 bool by_scanner)
{
	ExtractSet *set = lx->set;
	size_t start = loc, end = loc + slen;

	while (start < end && isspace((unsigned char)q[start]))
		start++;
	if (ext_skip_blanks(q, end, start) >= end)
		return; /* only comments */
	size_t semi = end;
	while (semi < qlen && isspace((unsigned char)q[semi]))
		semi++;
	if (semi < qlen && q[semi] == ';')
		end = semi + 1;

	GROW(set->stmts, set->nstmts, set->cap_stmts);
	ExtractStmt *st = &set->stmts[set->nstmts++];
	memset(st, 0, sizeof(*st));
	st->text = ext_strndup(q + start, end - start);
	st->len = end - start;
	if (lex_marked(lx, start, end, 'p'))
		ext_try_numeric_placeholder(st);
	st->file = lx->file;
	st->line = lx->buf.line[ext_skip_blanks(q, end, start)];
	st->query = query;
	st->placeholder = lex_marked(lx, start, end, 'p');
	st->literal_var = lex_marked(lx, start, end, 'l');
	st->split_by_scanner = by_scanner;
}

/* psql sends the collected query: split it and record its statements. */
static void lex_send(Lexer *lx)
{
	ExtractSet *set = lx->set;
	const char *q = lx->buf.s;
	size_t qlen = lx->buf.len;

	if (qlen > 0 && ext_skip_blanks(q, qlen, 0) < qlen) {
		int query = (int)set->nqueries;
		size_t first = set->nstmts;
		PgQuerySplitResult r = pg_query_split_with_parser(q);
		bool by_scanner = false;
		if (r.error) {
			pg_query_free_split_result(r);
			r = pg_query_split_with_scanner(q);
			by_scanner = true;
		}
		if (r.error) {
			/* the scanner fails only on an unterminated literal: keep it whole */
			lex_add_stmt(lx, q, qlen, 0, qlen, query, true);
		} else {
			for (int i = 0; i < r.n_stmts; i++)
				lex_add_stmt(lx, q, qlen, (size_t)r.stmts[i]->stmt_location,
					     (size_t)r.stmts[i]->stmt_len, query, by_scanner);
		}
		pg_query_free_split_result(r);
		if (set->nstmts > first) {
			size_t start = 0;
			while (start < qlen && isspace((unsigned char)q[start]))
				start++;
			GROW(set->queries, set->nqueries, set->cap_queries);
			ExtractQuery *eq = &set->queries[set->nqueries++];
			eq->text = ext_strndup(q + start, qlen - start);
			eq->len = qlen - start;
			eq->file = lx->file;
			eq->line = set->stmts[first].line;
			eq->first_stmt = (int)first;
			eq->nstmts = (int)(set->nstmts - first);
			for (size_t i = first; i < set->nstmts; i++) {
				const ExtractStmt *st = &set->stmts[i];
				if (ext_is_copy_from_stdin(st->text, st->len))
					lx->pending_copy++;
				int scs = ext_scs_change(st->text, st->len);
				if (scs >= 0)
					lx->scs_off = scs == 0;
			}
		}
	}
	lx->buf.len = 0;
	lx->nmarks = 0;
	lx->paren = 0;
	lx->begin_depth = 0;
	lx->words = 0;
	memset(lx->first, 0, sizeof(lx->first));
	lx->st = LX_NONE;
}

/* A newline went by: in-line COPY data starts on the next line. */
static void lex_newline(Lexer *lx)
{
	lx->line++;
	if (lx->pending_copy > 0) {
		lx->data_blocks += lx->pending_copy;
		lx->pending_copy = 0;
	}
}

/* Appends value quoted as psql's :'name' (a literal) or :"name" (an identifier) does. */
static void lex_add_quoted(Lexer *lx, const char *value, char quote)
{
	bool backslash = quote == '\'' && strchr(value, '\\') != NULL;

	if (backslash)
		text_addc(&lx->buf, 'E', lx->line);
	text_addc(&lx->buf, quote, lx->line);
	for (const char *p = value; *p; p++) {
		if (*p == quote || (backslash && *p == '\\'))
			text_addc(&lx->buf, *p, lx->line);
		text_addc(&lx->buf, *p, lx->line);
	}
	text_addc(&lx->buf, quote, lx->line);
}

static void lex_feed(Lexer *lx, const char *s, size_t n, size_t *pi, bool from_var);

static bool ext_word_is(const char *w, size_t wl, const char *word)
{
	return wl == strlen(word) && strncasecmp(w, word, wl) == 0;
}

/*
 * Bookkeeping for an unquoted word, as psql does for SQL-standard function
 * bodies: in CREATE [OR REPLACE] FUNCTION or PROCEDURE, a BEGIN outside
 * parentheses opens a block (and so does CASE, inside one) that END closes;
 * semicolons inside a block do not send.
 */
static void lex_word(Lexer *lx, const char *w, size_t wl)
{
	if (lx->words < 4) {
		char f = 0;
		if (ext_word_is(w, wl, "create") || ext_word_is(w, wl, "or") ||
		    ext_word_is(w, wl, "replace") || ext_word_is(w, wl, "function") ||
		    ext_word_is(w, wl, "procedure"))
			f = (char)tolower((unsigned char)w[0]);
		lx->first[lx->words] = f;
	}
	lx->words++;
	const char *f = lx->first;
	bool routine =
	    f[0] == 'c' && (f[1] == 'f' || f[1] == 'p' ||
			    (f[1] == 'o' && f[2] == 'r' && (f[3] == 'f' || f[3] == 'p')));
	if (!routine || lx->paren > 0)
		return;
	if (ext_word_is(w, wl, "begin")) {
		lx->begin_depth++;
	} else if (ext_word_is(w, wl, "case")) {
		if (lx->begin_depth > 0)
			lx->begin_depth++;
	} else if (ext_word_is(w, wl, "end")) {
		if (lx->begin_depth > 0)
			lx->begin_depth--;
	}
}

/*
 * A psql variable reference at s[*pi] (a ':' not part of '::'). Returns false
 * when it is not one (the ':' is then ordinary text).
 */
static bool lex_variable(Lexer *lx, const char *s, size_t n, size_t *pi)
{
	size_t i = *pi + 1;
	char quote = 0;

	if (i + 1 < n && s[i] == '{' && s[i + 1] == '?') {
		/* :{?name}: is the variable defined? */
		size_t name = i + 2, e = name;
		while (e < n && ext_is_var((unsigned char)s[e]))
			e++;
		if (e == name || e >= n || s[e] != '}')
			return false;
		bool defined = vars_find(&lx->vars, s + name, e - name) != NULL ||
			       vars_is_psql_own(s + name, e - name);
		text_add(&lx->buf, defined ? "TRUE" : "FALSE", defined ? 4 : 5, lx->line);
		lx->set->var_substituted++;
		*pi = e + 1;
		return true;
	}
	if (i < n && (s[i] == '\'' || s[i] == '"')) {
		quote = s[i];
		i++;
	}
	size_t name = i;
	while (i < n && ext_is_var((unsigned char)s[i]))
		i++;
	size_t name_len = i - name;
	if (name_len == 0)
		return false;
	if (quote) {
		if (i >= n || s[i] != quote)
			return false;
		i++;
	} else if (isdigit((unsigned char)s[name])) {
		return false; /* a[1:2]: never a variable here */
	}
	Var *v = vars_find(&lx->vars, s + name, name_len);
	if (v && v->value) {
		lx->set->var_substituted++;
		if (quote) {
			lex_add_quoted(lx, v->value, quote);
		} else {
			/* psql rescans an unquoted value as if it had been typed */
			size_t j = 0;
			lex_feed(lx, v->value, strlen(v->value), &j, true);
			if (lx->st == LX_LINE)
				lx->st = LX_NONE; /* a -- comment ends with the value */
		}
	} else if (v || lx->gset_seen || vars_is_psql_own(s + name, name_len)) {
		lx->set->var_placeholders++;
		lex_mark(lx, 'p');
		lex_add_quoted(lx, EXT_PLACEHOLDER, quote ? quote : '"');
	} else {
		/* psql leaves a reference to an undefined variable as written */
		lx->set->var_literal++;
		lex_mark(lx, 'l');
		text_add(&lx->buf, s + *pi, i - *pi, lx->line);
	}
	*pi = i;
	return true;
}

/* ---- meta-commands ------------------------------------------------------- */

typedef struct MetaWord {
	char *s;
	bool command; /* \name */
	bool unknown; /* a backquote or an unknown variable went into it */
} MetaWord;

/*
 * Cuts a meta-command line (from a backslash to the end of the line) into
 * commands and arguments, with psql's quoting and variables.
 */
static size_t meta_split(Lexer *lx, const char *s, size_t end, MetaWord **out)
{
	size_t i = 0, nw = 0, cap = 0;
	MetaWord *w = NULL;

	while (i < end) {
		while (i < end && isspace((unsigned char)s[i]))
			i++;
		if (i >= end)
			break;
		Text t = {0};
		bool unknown = false, command = false;
		if (s[i] == '\\') {
			command = true;
			i++;
			while (i < end && !isspace((unsigned char)s[i]) && s[i] != '\\')
				text_addc(&t, s[i++], 0);
			if (t.len == 0 && i < end && s[i] == '\\')
				i++; /* \\ ends one command's arguments */
		} else {
			while (i < end && !isspace((unsigned char)s[i]) && s[i] != '\\') {
				char c = s[i];
				if (c == '\'') {
					i++;
					while (i < end) {
						if (s[i] == '\'' && i + 1 < end &&
						    s[i + 1] == '\'') {
							text_addc(&t, '\'', 0);
							i += 2;
						} else if (s[i] == '\'') {
							i++;
							break;
						} else if (s[i] == '\\' && i + 1 < end) {
							char e = s[i + 1];
							text_addc(&t,
								  e == 'n'   ? '\n'
								  : e == 't' ? '\t'
									     : e,
								  0);
							i += 2;
						} else {
							text_addc(&t, s[i++], 0);
						}
					}
				} else if (c == '"') {
					text_addc(&t, s[i++], 0);
					while (i < end && s[i] != '"')
						text_addc(&t, s[i++], 0);
					if (i < end)
						text_addc(&t, s[i++], 0);
				} else if (c == '`') {
					unknown = true;
					i++;
					while (i < end && s[i] != '`')
						i++;
					if (i < end)
						i++;
				} else if (c == ':' && i + 1 < end &&
					   (ext_is_var((unsigned char)s[i + 1]) ||
					    s[i + 1] == '\'' || s[i + 1] == '"')) {
					char quote = 0;
					size_t j = i + 1;
					if (s[j] == '\'' || s[j] == '"')
						quote = s[j++];
					size_t name = j;
					while (j < end && ext_is_var((unsigned char)s[j]))
						j++;
					if (quote && (j >= end || s[j] != quote || j == name)) {
						text_addc(&t, s[i++], 0);
						continue;
					}
					Var *v = vars_find(&lx->vars, s + name, j - name);
					if (!v || !v->value) {
						unknown = true;
					} else if (quote) {
						text_addc(&t, quote, 0);
						for (const char *p = v->value; *p; p++) {
							if (*p == quote)
								text_addc(&t, *p, 0);
							text_addc(&t, *p, 0);
						}
						text_addc(&t, quote, 0);
					} else {
						text_add(&t, v->value, strlen(v->value), 0);
					}
					i = quote ? j + 1 : j;
				} else {
					text_addc(&t, c, 0);
					i++;
				}
			}
		}
		GROW(w, nw, cap);
		w[nw].s = t.s ? t.s : ext_strndup("", 0);
		w[nw].command = command;
		w[nw].unknown = unknown;
		free(t.line);
		nw++;
	}
	*out = w;
	return nw;
}

static bool meta_is_send(const char *cmd)
{
	static const char *const send[] = {"g",	    "gx",    "gset",	     "gexec",
					   "gdesc", "watch", "crosstabview", NULL};

	for (int i = 0; send[i]; i++)
		if (strcmp(cmd, send[i]) == 0)
			return true;
	return false;
}

/* \copy ARGS: psql sends COPY ARGS, reading in-line data for FROM STDIN. */
static void meta_copy(Lexer *lx, const char *args, size_t len)
{
	while (len > 0 && (isspace((unsigned char)args[len - 1]) || args[len - 1] == ';'))
		len--;
	if (len == 0)
		return;
	lx->set->psql_copy++;
	lex_send(lx); /* whatever was collected is its own query */
	text_add(&lx->buf, "COPY ", 5, lx->line);
	text_add(&lx->buf, args, len, lx->line);
	lex_send(lx); /* counts a FROM STDIN itself */
}

/*
 * \gset [prefix]: psql stores the first row's columns in variables. Constant
 * columns (SELECT 'text' AS name, no FROM) give their value; any other column
 * gives a variable of unknown value.
 */
static void meta_gset(Lexer *lx, const ExtractQuery *q, const char *prefix)
{
	const ExtractStmt *st = &lx->set->stmts[q->first_stmt + q->nstmts - 1];
	const char *type;
	const JNode *body;
	JNode *root = ext_parse_stmt(st->text, &type, &body);

	if (!root)
		return;
	const JNode *tl = pgjson_get(body, "targetList");
	bool constant = strcmp(type, "SelectStmt") == 0 && !pgjson_get(body, "fromClause");
	for (size_t i = 0; tl && tl->type == J_ARR && i < tl->n; i++) {
		const JNode *rt, *val = NULL, *ac = NULL;
		if (!pgjson_node_type(tl->kids[i], &rt))
			continue;
		const JNode *name = pgjson_get(rt, "name");
		const char *vt = pgjson_node_type(pgjson_get(rt, "val"), &val);
		const char *col = name && name->type == J_STR ? name->str : NULL;
		if (!col && vt && strcmp(vt, "ColumnRef") == 0) {
			const JNode *fields = pgjson_get(val, "fields");
			if (fields && fields->type == J_ARR && fields->n)
				col = pgjson_string(fields->kids[fields->n - 1]);
		}
		if (!col)
			continue;
		char full[256];
		snprintf(full, sizeof(full), "%s%s", prefix, col);
		char num[64];
		const char *value = NULL;
		if (constant && vt && strcmp(vt, "A_Const") == 0) {
			ac = val;
			const JNode *x;
			if ((x = pgjson_get(pgjson_get(ac, "sval"), "sval")) && x->type == J_STR)
				value = x->str;
			else if ((x = pgjson_get(pgjson_get(ac, "fval"), "fval")) &&
				 x->type == J_STR)
				value = x->str;
			else if ((x = pgjson_get(ac, "ival"))) {
				const JNode *iv = pgjson_get(x, "ival");
				snprintf(num, sizeof(num), "%s", iv && iv->str ? iv->str : "0");
				value = num;
			} else if ((x = pgjson_get(ac, "boolval"))) {
				value = ext_is_true(pgjson_get(x, "boolval")) ? "t" : "f";
			} else if (ext_is_true(pgjson_get(ac, "isnull"))) {
				vars_unset(&lx->vars, full);
				continue;
			}
		}
		vars_set(&lx->vars, full, value);
	}
	pgjson_free(root);
}

/* s[0] is the backslash; end is the end of the line (not included). */
static void lex_meta(Lexer *lx, const char *s, size_t end)
{
	MetaWord *w = NULL;
	size_t nw;

	lx->set->meta_commands++;
	/* \copy takes the rest of the line, as written */
	if (end >= 5 && strncmp(s, "\\copy", 5) == 0 &&
	    (end == 5 || isspace((unsigned char)s[5]))) {
		meta_copy(lx, s + 5, end - 5);
		return;
	}
	nw = meta_split(lx, s, end, &w);
	for (size_t i = 0; i < nw; i++) {
		if (!w[i].command)
			continue;
		const char *cmd = w[i].s;
		size_t nargs = 0;
		while (i + 1 + nargs < nw && !w[i + 1 + nargs].command)
			nargs++;
		MetaWord *arg = &w[i + 1];
		if (meta_is_send(cmd)) {
			size_t before = lx->set->nqueries;
			lex_send(lx);
			if (strcmp(cmd, "gset") == 0) {
				lx->gset_seen = true;
				if (lx->set->nqueries > before)
					meta_gset(lx, &lx->set->queries[before],
						  nargs ? arg[0].s : "");
			}
		} else if (strcmp(cmd, "r") == 0 || strcmp(cmd, "reset") == 0) {
			lx->buf.len = 0;
			lx->nmarks = 0;
			lx->paren = lx->begin_depth = lx->words = 0;
			memset(lx->first, 0, sizeof(lx->first));
		} else if (strcmp(cmd, "set") == 0 && nargs >= 1) {
			Text v = {0};
			bool unknown = false;
			for (size_t a = 1; a < nargs; a++) {
				text_add(&v, arg[a].s, strlen(arg[a].s), 0);
				unknown |= arg[a].unknown;
			}
			vars_set(&lx->vars, arg[0].s, unknown ? NULL : v.s ? v.s : "");
			free(v.s);
			free(v.line);
		} else if (strcmp(cmd, "unset") == 0 && nargs >= 1) {
			vars_unset(&lx->vars, arg[0].s);
		} else if (strcmp(cmd, "getenv") == 0 && nargs >= 2) {
			/* PG_ABS_SRCDIR and friends: any path does for classification */
			char value[256];
			snprintf(value, sizeof(value), "/pgrelay-oracle/%s", arg[1].s);
			vars_set(&lx->vars, arg[0].s, value);
		}
		i += nargs;
	}
	for (size_t i = 0; i < nw; i++)
		free(w[i].s);
	free(w);
}

/* ---- the lexer proper ---------------------------------------------------- */

/*
 * Feeds s[*pi..n) through the lexer. from_var: the text is a variable's value
 * (no meta-commands, no variables, no line counting, as psql rescans it).
 */
static void lex_feed(Lexer *lx, const char *s, size_t n, size_t *pi, bool from_var)
{
	size_t i = *pi;

	while (i < n) {
		/* in-line COPY data: whole lines up to \. */
		if (!from_var && lx->data_blocks > 0 && (i == 0 || s[i - 1] == '\n')) {
			size_t e = i;
			while (e < n && s[e] != '\n')
				e++;
			size_t le = e;
			if (le > i && s[le - 1] == '\r')
				le--;
			if (le - i == 2 && s[i] == '\\' && s[i + 1] == '.') {
				lx->data_blocks--;
				lx->set->copy_blocks++;
			} else {
				lx->set->copy_lines++;
			}
			i = e < n ? e + 1 : e;
			lx->line++;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		int line = lx->line;

		switch (lx->st) {
		case LX_LINE:
			if (c == '\n')
				lx->st = LX_NONE;
			break;
		case LX_BLOCK:
			if (c == '/' && next == '*') {
				lx->block_depth++;
				text_add(&lx->buf, s + i, 2, line);
				i += 2;
				continue;
			}
			if (c == '*' && next == '/') {
				if (--lx->block_depth == 0)
					lx->st = LX_NONE;
				text_add(&lx->buf, s + i, 2, line);
				i += 2;
				continue;
			}
			break;
		case LX_SQUOTE:
		case LX_ESTRING:
			if (lx->st == LX_ESTRING && c == '\\' && i + 1 < n) {
				if (next == '\n' && !from_var)
					lex_newline(lx);
				text_add(&lx->buf, s + i, 2, line);
				i += 2;
				continue;
			}
			if (c == '\'') {
				if (next == '\'') {
					text_add(&lx->buf, s + i, 2, line);
					i += 2;
					continue;
				}
				lx->st = LX_NONE;
			}
			break;
		case LX_DQUOTE:
			if (c == '"') {
				if (next == '"') {
					text_add(&lx->buf, s + i, 2, line);
					i += 2;
					continue;
				}
				lx->st = LX_NONE;
			}
			break;
		case LX_DOLLAR:
			if (c == '$' && n - i >= lx->dtag_len + 2 &&
			    memcmp(s + i + 1, lx->dtag, lx->dtag_len) == 0 &&
			    s[i + 1 + lx->dtag_len] == '$') {
				text_add(&lx->buf, s + i, lx->dtag_len + 2, line);
				i += lx->dtag_len + 2;
				lx->st = LX_NONE;
				continue;
			}
			break;
		case LX_NONE: {
			unsigned char prev =
			    lx->buf.len ? (unsigned char)lx->buf.s[lx->buf.len - 1] : 0;
			if (c == '-' && next == '-') {
				lx->st = LX_LINE;
			} else if (c == '/' && next == '*') {
				lx->st = LX_BLOCK;
				lx->block_depth = 1;
				text_add(&lx->buf, s + i, 2, line);
				i += 2;
				continue;
			} else if (c == '\'') {
				unsigned char pprev =
				    lx->buf.len >= 2 ? (unsigned char)lx->buf.s[lx->buf.len - 2]
						     : 0;
				lx->st = lx->scs_off || ((prev == 'e' || prev == 'E') &&
							 !ext_is_ident(pprev))
					     ? LX_ESTRING
					     : LX_SQUOTE;
			} else if (c == '"') {
				lx->st = LX_DQUOTE;
			} else if (c == '$' && !ext_is_ident(prev)) {
				size_t j = i + 1;
				if (j < n && ext_is_ident_start((unsigned char)s[j])) {
					j++;
					while (j < n && ext_is_ident((unsigned char)s[j]) &&
					       s[j] != '$')
						j++;
				}
				if (j < n && s[j] == '$' && j - i - 1 < sizeof(lx->dtag)) {
					lx->dtag_len = j - i - 1;
					memcpy(lx->dtag, s + i + 1, lx->dtag_len);
					lx->st = LX_DOLLAR;
					text_add(&lx->buf, s + i, j + 1 - i, line);
					i = j + 1;
					continue;
				}
			} else if (c == '(') {
				lx->paren++;
			} else if (c == ')') {
				if (lx->paren > 0)
					lx->paren--;
			} else if (c == ';') {
				if (lx->paren == 0 && lx->begin_depth == 0) {
					text_addc(&lx->buf, ';', line);
					lex_send(lx);
					i++;
					continue;
				}
			} else if (c == ':' && next == ':') {
				text_add(&lx->buf, s + i, 2, line);
				i += 2;
				continue;
			} else if (c == ':' && !from_var && lex_variable(lx, s, n, &i)) {
				continue;
			} else if (c == '\\' && !from_var) {
				if (next == ';') {
					/* \; : a semicolon that does not send */
					text_addc(&lx->buf, ';', line);
					i += 2;
					continue;
				}
				size_t e = i;
				while (e < n && s[e] != '\n')
					e++;
				lex_meta(lx, s + i, e - i);
				if (lx->buf.len)
					text_addc(&lx->buf, '\n', line);
				i = e;
				if (i < n) {
					i++;
					lex_newline(lx);
				}
				continue;
			} else if (ext_is_ident_start(c) && !ext_is_ident(prev)) {
				size_t j = i;
				while (j < n && ext_is_ident((unsigned char)s[j]))
					j++;
				size_t wl = j - i;
				lex_word(lx, s + i, wl);
				text_add(&lx->buf, s + i, wl, line);
				i = j;
				continue;
			}
			break;
		}
		}
		text_addc(&lx->buf, (char)c, line);
		if (c == '\n' && !from_var)
			lex_newline(lx);
		i++;
	}
	*pi = i;
}

/* ---- files and directories ---------------------------------------------- */

static bool ext_read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		ext_error(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	size_t cap = 65536, n = 0;
	char *d = ext_realloc(NULL, cap);
	for (;;) {
		if (n == cap)
			d = ext_realloc(d, cap *= 2);
		size_t r = fread(d + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	bool ok = !ferror(f);
	fclose(f);
	if (!ok) {
		free(d);
		ext_error(err, errlen, "%s: read error", path);
		return false;
	}
	*data = d;
	*len = n;
	return true;
}

bool extract_load_file(const char *path, const char *name, ExtractSet *set, char *err,
		       size_t errlen)
{
	char *data;
	size_t len;

	if (!ext_read_file(path, &data, &len, err, errlen))
		return false;
	set->files = ext_realloc(set->files, (set->nfiles + 1) * sizeof(char *));
	set->files[set->nfiles] = ext_strndup(name, strlen(name));

	Lexer lx = {0};
	lx.set = set;
	lx.file = set->files[set->nfiles];
	set->nfiles++;
	lx.line = 1;
	size_t i = 0;
	lex_feed(&lx, data, len, &i, false);
	/* at the end of its input psql sends what is left */
	lex_send(&lx);
	free(lx.buf.s);
	free(lx.buf.line);
	free(lx.marks_pos);
	free(lx.marks_kind);
	vars_clear(&lx.vars);
	free(data);
	return true;
}

static int ext_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool extract_load_dir(const char *dir, ExtractSet *set, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		ext_error(err, errlen, "%s: %s", dir, strerror(errno));
		return false;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0) {
			GROW(names, n, cap);
			names[n++] = ext_strndup(e->d_name, l);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), ext_cmp_names);
	bool ok = n > 0;
	if (!ok)
		ext_error(err, errlen, "%s: no .sql file", dir);
	for (size_t i = 0; i < n; i++) {
		if (ok) {
			size_t pl = strlen(dir) + strlen(names[i]) + 2;
			char *path = ext_realloc(NULL, pl);
			snprintf(path, pl, "%s/%s", dir, names[i]);
			ok = extract_load_file(path, names[i], set, err, errlen);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return ok;
}

void extract_free_set(ExtractSet *set)
{
	for (size_t i = 0; i < set->nstmts; i++)
		free(set->stmts[i].text);
	for (size_t i = 0; i < set->nqueries; i++)
		free(set->queries[i].text);
	for (size_t i = 0; i < set->nfiles; i++)
		free(set->files[i]);
	free(set->stmts);
	free(set->queries);
	free(set->files);
	memset(set, 0, sizeof(*set));
}
