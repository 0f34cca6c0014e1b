/*
 * sqllex.c - the SQL lexer behind the classifier (see sqllex.h): token
 * boundaries exactly where PostgreSQL's scanner (scan.l) puts them for
 * comments, every string form, quoted identifiers, numbers and operators, plus
 * keyword lookup and routing-hint recognition in leading comments.
 */
#include "sqllex.h"

#include "classify.h"

#include <string.h>
#include <strings.h>

/* ---- keywords ------------------------------------------------------------ */

typedef struct KwEntry {
	const char *name;
	Kw kw;
} KwEntry;

/* Sorted by name (strcmp); sqllex_check_table() verifies it. */
static const KwEntry kw_table[] = {
    {"abort", KW_ABORT},
    {"all", KW_ALL},
    {"alter", KW_ALTER},
    {"analyse", KW_ANALYSE},
    {"analyze", KW_ANALYZE},
    {"and", KW_AND},
    {"any", KW_ANY},
    {"array", KW_ARRAY},
    {"as", KW_AS},
    {"asc", KW_ASC},
    {"asymmetric", KW_ASYMMETRIC},
    {"atomic", KW_ATOMIC},
    {"authorization", KW_AUTHORIZATION},
    {"begin", KW_BEGIN},
    {"between", KW_BETWEEN},
    {"bigint", KW_BIGINT},
    {"binary", KW_BINARY},
    {"bit", KW_BIT},
    {"boolean", KW_BOOLEAN},
    {"both", KW_BOTH},
    {"by", KW_BY},
    {"call", KW_CALL},
    {"case", KW_CASE},
    {"cast", KW_CAST},
    {"chain", KW_CHAIN},
    {"char", KW_CHAR},
    {"character", KW_CHARACTER},
    {"characteristics", KW_CHARACTERISTICS},
    {"check", KW_CHECK},
    {"checkpoint", KW_CHECKPOINT},
    {"close", KW_CLOSE},
    {"cluster", KW_CLUSTER},
    {"coalesce", KW_COALESCE},
    {"collate", KW_COLLATE},
    {"collation", KW_COLLATION},
    {"column", KW_COLUMN},
    {"comment", KW_COMMENT},
    {"commit", KW_COMMIT},
    {"committed", KW_COMMITTED},
    {"concurrently", KW_CONCURRENTLY},
    {"constraint", KW_CONSTRAINT},
    {"constraints", KW_CONSTRAINTS},
    {"copy", KW_COPY},
    {"create", KW_CREATE},
    {"cross", KW_CROSS},
    {"cube", KW_CUBE},
    {"current_catalog", KW_CURRENT_CATALOG},
    {"current_date", KW_CURRENT_DATE},
    {"current_role", KW_CURRENT_ROLE},
    {"current_schema", KW_CURRENT_SCHEMA},
    {"current_time", KW_CURRENT_TIME},
    {"current_timestamp", KW_CURRENT_TIMESTAMP},
    {"current_user", KW_CURRENT_USER},
    {"cursor", KW_CURSOR},
    {"cycle", KW_CYCLE},
    {"deallocate", KW_DEALLOCATE},
    {"dec", KW_DEC},
    {"decimal", KW_DECIMAL},
    {"declare", KW_DECLARE},
    {"default", KW_DEFAULT},
    {"deferrable", KW_DEFERRABLE},
    {"delete", KW_DELETE},
    {"desc", KW_DESC},
    {"discard", KW_DISCARD},
    {"distinct", KW_DISTINCT},
    {"do", KW_DO},
    {"drop", KW_DROP},
    {"else", KW_ELSE},
    {"end", KW_END},
    {"except", KW_EXCEPT},
    {"execute", KW_EXECUTE},
    {"exists", KW_EXISTS},
    {"explain", KW_EXPLAIN},
    {"extract", KW_EXTRACT},
    {"false", KW_FALSE},
    {"fetch", KW_FETCH},
    {"filter", KW_FILTER},
    {"first", KW_FIRST},
    {"float", KW_FLOAT},
    {"for", KW_FOR},
    {"foreign", KW_FOREIGN},
    {"freeze", KW_FREEZE},
    {"from", KW_FROM},
    {"full", KW_FULL},
    {"function", KW_FUNCTION},
    {"global", KW_GLOBAL},
    {"grant", KW_GRANT},
    {"greatest", KW_GREATEST},
    {"group", KW_GROUP},
    {"grouping", KW_GROUPING},
    {"having", KW_HAVING},
    {"hold", KW_HOLD},
    {"ilike", KW_ILIKE},
    {"import", KW_IMPORT},
    {"in", KW_IN},
    {"initially", KW_INITIALLY},
    {"inner", KW_INNER},
    {"inout", KW_INOUT},
    {"insert", KW_INSERT},
    {"int", KW_INT},
    {"integer", KW_INTEGER},
    {"intersect", KW_INTERSECT},
    {"interval", KW_INTERVAL},
    {"into", KW_INTO},
    {"is", KW_IS},
    {"isnull", KW_ISNULL},
    {"isolation", KW_ISOLATION},
    {"join", KW_JOIN},
    {"json", KW_JSON},
    {"json_array", KW_JSON_ARRAY},
    {"json_arrayagg", KW_JSON_ARRAYAGG},
    {"json_exists", KW_JSON_EXISTS},
    {"json_object", KW_JSON_OBJECT},
    {"json_objectagg", KW_JSON_OBJECTAGG},
    {"json_query", KW_JSON_QUERY},
    {"json_scalar", KW_JSON_SCALAR},
    {"json_serialize", KW_JSON_SERIALIZE},
    {"json_table", KW_JSON_TABLE},
    {"json_value", KW_JSON_VALUE},
    {"key", KW_KEY},
    {"lateral", KW_LATERAL},
    {"leading", KW_LEADING},
    {"least", KW_LEAST},
    {"left", KW_LEFT},
    {"level", KW_LEVEL},
    {"like", KW_LIKE},
    {"limit", KW_LIMIT},
    {"listen", KW_LISTEN},
    {"load", KW_LOAD},
    {"local", KW_LOCAL},
    {"localtime", KW_LOCALTIME},
    {"localtimestamp", KW_LOCALTIMESTAMP},
    {"lock", KW_LOCK},
    {"materialized", KW_MATERIALIZED},
    {"merge", KW_MERGE},
    {"merge_action", KW_MERGE_ACTION},
    {"move", KW_MOVE},
    {"national", KW_NATIONAL},
    {"natural", KW_NATURAL},
    {"nchar", KW_NCHAR},
    {"no", KW_NO},
    {"none", KW_NONE_},
    {"normalize", KW_NORMALIZE},
    {"not", KW_NOT},
    {"notify", KW_NOTIFY},
    {"notnull", KW_NOTNULL},
    {"null", KW_NULL},
    {"nullif", KW_NULLIF},
    {"numeric", KW_NUMERIC},
    {"offset", KW_OFFSET},
    {"on", KW_ON},
    {"only", KW_ONLY},
    {"operator", KW_OPERATOR},
    {"or", KW_OR},
    {"order", KW_ORDER},
    {"ordinality", KW_ORDINALITY},
    {"out", KW_OUT},
    {"outer", KW_OUTER},
    {"over", KW_OVER},
    {"overlaps", KW_OVERLAPS},
    {"overlay", KW_OVERLAY},
    {"partition", KW_PARTITION},
    {"placing", KW_PLACING},
    {"position", KW_POSITION},
    {"precision", KW_PRECISION},
    {"prepare", KW_PREPARE},
    {"prepared", KW_PREPARED},
    {"primary", KW_PRIMARY},
    {"procedure", KW_PROCEDURE},
    {"program", KW_PROGRAM},
    {"read", KW_READ},
    {"real", KW_REAL},
    {"reassign", KW_REASSIGN},
    {"recursive", KW_RECURSIVE},
    {"references", KW_REFERENCES},
    {"refresh", KW_REFRESH},
    {"reindex", KW_REINDEX},
    {"release", KW_RELEASE},
    {"repeatable", KW_REPEATABLE},
    {"replace", KW_REPLACE},
    {"reset", KW_RESET},
    {"returning", KW_RETURNING},
    {"revoke", KW_REVOKE},
    {"right", KW_RIGHT},
    {"role", KW_ROLE},
    {"rollback", KW_ROLLBACK},
    {"rollup", KW_ROLLUP},
    {"row", KW_ROW},
    {"rows", KW_ROWS},
    {"savepoint", KW_SAVEPOINT},
    {"search", KW_SEARCH},
    {"second", KW_SECOND},
    {"security", KW_SECURITY},
    {"select", KW_SELECT},
    {"serializable", KW_SERIALIZABLE},
    {"session", KW_SESSION},
    {"session_user", KW_SESSION_USER},
    {"set", KW_SET},
    {"setof", KW_SETOF},
    {"sets", KW_SETS},
    {"share", KW_SHARE},
    {"show", KW_SHOW},
    {"similar", KW_SIMILAR},
    {"smallint", KW_SMALLINT},
    {"snapshot", KW_SNAPSHOT},
    {"some", KW_SOME},
    {"start", KW_START},
    {"stdout", KW_STDOUT},
    {"substring", KW_SUBSTRING},
    {"symmetric", KW_SYMMETRIC},
    {"table", KW_TABLE},
    {"tablesample", KW_TABLESAMPLE},
    {"temp", KW_TEMP},
    {"temporary", KW_TEMPORARY},
    {"then", KW_THEN},
    {"time", KW_TIME},
    {"timestamp", KW_TIMESTAMP},
    {"to", KW_TO},
    {"trailing", KW_TRAILING},
    {"transaction", KW_TRANSACTION},
    {"treat", KW_TREAT},
    {"trim", KW_TRIM},
    {"true", KW_TRUE},
    {"truncate", KW_TRUNCATE},
    {"uncommitted", KW_UNCOMMITTED},
    {"union", KW_UNION},
    {"unique", KW_UNIQUE},
    {"unlisten", KW_UNLISTEN},
    {"unlogged", KW_UNLOGGED},
    {"update", KW_UPDATE},
    {"user", KW_USER},
    {"using", KW_USING},
    {"vacuum", KW_VACUUM},
    {"values", KW_VALUES},
    {"varchar", KW_VARCHAR},
    {"variadic", KW_VARIADIC},
    {"varying", KW_VARYING},
    {"verbose", KW_VERBOSE},
    {"when", KW_WHEN},
    {"where", KW_WHERE},
    {"window", KW_WINDOW},
    {"with", KW_WITH},
    {"without", KW_WITHOUT},
    {"work", KW_WORK},
    {"write", KW_WRITE},
    {"xmlattributes", KW_XMLATTRIBUTES},
    {"xmlconcat", KW_XMLCONCAT},
    {"xmlelement", KW_XMLELEMENT},
    {"xmlexists", KW_XMLEXISTS},
    {"xmlforest", KW_XMLFOREST},
    {"xmlnamespaces", KW_XMLNAMESPACES},
    {"xmlparse", KW_XMLPARSE},
    {"xmlpi", KW_XMLPI},
    {"xmlroot", KW_XMLROOT},
    {"xmlserialize", KW_XMLSERIALIZE},
    {"xmltable", KW_XMLTABLE},
    {"zone", KW_ZONE},
};
_Static_assert(ARRAY_SIZE(kw_table) == KW__COUNT - 1, "every Kw has one kw_table entry");

/* Longest keyword ("current_timestamp"): longer words are never keywords. */
#define KW_MAX_LEN 17

KwCat sqllex_kw_cat(Kw kw)
{
	if (kw == KW_NONE || kw >= KW__COUNT)
		return KC_NONE;
	if (kw <= KW_WITH)
		return KC_RESERVED;
	if (kw <= KW_VERBOSE)
		return KC_TYPE_FUNC;
	if (kw <= KW_XMLTABLE)
		return KC_COL_NAME;
	return KC_UNRESERVED;
}

const char *sqllex_kw_name(Kw kw)
{
	for (size_t i = 0; i < ARRAY_SIZE(kw_table); i++)
		if (kw_table[i].kw == kw)
			return kw_table[i].name;
	return NULL;
}

static inline char lower_ascii(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* Cheap and case-blind: the length and three letters pick the slot; a compare decides. */
static inline uint32_t kw_hash_of(const char *w, size_t len)
{
	uint32_t h = (uint32_t)len * 0x9E3779B1u;

	h ^= (uint32_t)(unsigned char)lower_ascii(w[0]) * 0x85EBCA77u;
	h ^= (uint32_t)(unsigned char)lower_ascii(w[len / 2]) * 0xC2B2AE3Du;
	h ^= (uint32_t)(unsigned char)lower_ascii(w[len - 1]) * 0x27D4EB2Fu;
	h ^= h >> 15;
	h *= 0x2C1B3C6Du;
	return h ^ (h >> 12);
}

#define KW_HASH_SIZE 1024		  /* power of two, > 3 x the keywords */
static uint16_t kw_hash[KW_HASH_SIZE];	  /* kw_table index + 1; 0 = empty */
static uint8_t kw_hash_len[KW_HASH_SIZE]; /* the keyword's length, to skip most compares */

/* Fills kw_hash once, before main() and before any thread exists. */
__attribute__((constructor)) static void kw_hash_build(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kw_table); i++) {
		uint32_t h = kw_hash_of(kw_table[i].name, strlen(kw_table[i].name));

		for (h &= KW_HASH_SIZE - 1; kw_hash[h] != 0; h = (h + 1) & (KW_HASH_SIZE - 1))
			;
		kw_hash[h] = (uint16_t)(i + 1);
		kw_hash_len[h] = (uint8_t)strlen(kw_table[i].name);
	}
}

/* w: len bytes (1..KW_MAX_LEN), any case. */
static Kw kw_lookup(const char *w, size_t len)
{
	uint32_t h = kw_hash_of(w, len);

	for (h &= KW_HASH_SIZE - 1; kw_hash[h] != 0; h = (h + 1) & (KW_HASH_SIZE - 1)) {
		const KwEntry *e = &kw_table[kw_hash[h] - 1];
		size_t i = 0;

		if (kw_hash_len[h] != len)
			continue;
		while (i < len && e->name[i] == lower_ascii(w[i]))
			i++;
		if (i == len && e->name[len] == '\0')
			return e->kw;
	}
	return KW_NONE;
}

const char *sqllex_check_table(void)
{
	bool seen[KW__COUNT] = {false};

	for (size_t i = 0; i < ARRAY_SIZE(kw_table); i++) {
		if (i > 0 && strcmp(kw_table[i - 1].name, kw_table[i].name) >= 0)
			return kw_table[i].name;
		if (strlen(kw_table[i].name) > KW_MAX_LEN || kw_table[i].kw == KW_NONE ||
		    kw_table[i].kw >= KW__COUNT || seen[kw_table[i].kw])
			return kw_table[i].name;
		seen[kw_table[i].kw] = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kw_table); i++) {
		const char *n = kw_table[i].name;

		if (kw_lookup(n, strlen(n)) != kw_table[i].kw)
			return n;
	}
	return NULL;
}

bool sqllex_tok_is(const SqlLexer *lx, const SqlTok *t, const char *lower)
{
	size_t n = strlen(lower);

	if (t->kind != TK_WORD || t->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower_ascii(lx->s[t->off + i]) != lower[i])
			return false;
	return true;
}

/* ---- character classes (PostgreSQL's scan.l) --------------------------- */

#define CC_SPACE 0x01
#define CC_DIGIT 0x02
#define CC_START 0x04 /* ident_start: letters, '_', bytes >= 0x80 */
#define CC_CONT 0x08  /* ident_cont: ident_start, digits, '$' */
#define CC_DOLQ 0x10  /* dolq_cont: ident_start, digits */
#define CC_OP 0x20    /* op_chars */

#define CC_IDENT (CC_START | CC_CONT | CC_DOLQ)
static const uint8_t char_class[256] = {
    [' '] = CC_SPACE,
    ['\t'] = CC_SPACE,
    ['\n'] = CC_SPACE,
    ['\r'] = CC_SPACE,
    ['\f'] = CC_SPACE,
    ['\v'] = CC_SPACE,
    ['0' ... '9'] = CC_DIGIT | CC_CONT | CC_DOLQ,
    ['a' ... 'z'] = CC_IDENT,
    ['A' ... 'Z'] = CC_IDENT,
    ['_'] = CC_IDENT,
    [0x80 ... 0xff] = CC_IDENT,
    ['$'] = CC_CONT,
    ['~'] = CC_OP,
    ['!'] = CC_OP,
    ['@'] = CC_OP,
    ['#'] = CC_OP,
    ['^'] = CC_OP,
    ['&'] = CC_OP,
    ['|'] = CC_OP,
    ['`'] = CC_OP,
    ['?'] = CC_OP,
    ['+'] = CC_OP,
    ['-'] = CC_OP,
    ['*'] = CC_OP,
    ['/'] = CC_OP,
    ['%'] = CC_OP,
    ['<'] = CC_OP,
    ['>'] = CC_OP,
    ['='] = CC_OP,
};

static inline bool is_space(unsigned char c)
{
	return char_class[c] & CC_SPACE;
}

static inline bool is_digit(unsigned char c)
{
	return char_class[c] & CC_DIGIT;
}

static inline bool is_ident_start(unsigned char c)
{
	return char_class[c] & CC_START;
}

static inline bool is_ident_cont(unsigned char c)
{
	return char_class[c] & CC_CONT;
}

/* dolq_start / dolq_cont: like identifiers, but no '$' */
static inline bool is_dolq_cont(unsigned char c)
{
	return char_class[c] & CC_DOLQ;
}

static inline bool is_op_char(unsigned char c)
{
	return char_class[c] & CC_OP;
}

/* ---- lexer ---------------------------------------------------------------- */

void sqllex_init(SqlLexer *lx, const char *s, uint32_t len, uint32_t pos, bool std_strings)
{
	lx->s = s;
	lx->len = len;
	lx->pos = pos <= len ? pos : len;
	lx->std_strings = std_strings;
	lx->at_start = true;
	lx->hints = 0;
	lx->has_peek = false;
}

static inline int at(const SqlLexer *lx, uint32_t i)
{
	return i < lx->len ? (unsigned char)lx->s[i] : -1;
}

/* Looks for "pgrelay:primary|master|replica" (any case) in a comment's text. */
static uint32_t comment_hints(const char *s, uint32_t len)
{
	static const char tag[] = "pgrelay:";
	const uint32_t tlen = sizeof(tag) - 1;
	uint32_t hints = 0;

	for (uint32_t i = 0; i + tlen <= len; i++) {
		uint32_t j = 0, w, wlen;

		while (j < tlen && lower_ascii(s[i + j]) == tag[j])
			j++;
		if (j < tlen)
			continue;
		w = i + tlen;
		wlen = 0;
		while (w + wlen < len && is_dolq_cont((unsigned char)s[w + wlen]))
			wlen++;
		if (wlen == 7 && strncasecmp(s + w, "primary", 7) == 0)
			hints |= SF_HINT_MASTER;
		else if (wlen == 6 && strncasecmp(s + w, "master", 6) == 0)
			hints |= SF_HINT_MASTER;
		else if (wlen == 7 && strncasecmp(s + w, "replica", 7) == 0)
			hints |= SF_HINT_REPLICA;
		i = w + wlen - 1;
	}
	return hints;
}

/* Skips blanks and comments. false: an unterminated block comment (pos = its start). */
static bool skip_blanks(SqlLexer *lx)
{
	for (;;) {
		unsigned char c;

		if (lx->pos >= lx->len)
			return true;
		c = (unsigned char)lx->s[lx->pos];
		if (is_space(c)) {
			lx->pos++;
		} else if (c != '-' && c != '/') {
			return true;
		} else if (c == '-' && at(lx, lx->pos + 1) == '-') {
			uint32_t start = lx->pos;

			lx->pos += 2;
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n' &&
			       lx->s[lx->pos] != '\r') {
				if (lx->s[lx->pos] == '\0')
					return false; /* PostgreSQL never sees past a NUL */
				lx->pos++;
			}
			if (lx->at_start)
				lx->hints |= comment_hints(lx->s + start, lx->pos - start);
		} else if (c == '/' && at(lx, lx->pos + 1) == '*') {
			uint32_t start = lx->pos, p = lx->pos + 2, depth = 1;

			while (depth > 0) {
				if (p + 1 >= lx->len || lx->s[p] == '\0')
					return false;
				if (lx->s[p] == '/' && lx->s[p + 1] == '*') {
					depth++;
					p += 2;
				} else if (lx->s[p] == '*' && lx->s[p + 1] == '/') {
					depth--;
					p += 2;
				} else {
					p++;
				}
			}
			lx->pos = p;
			if (lx->at_start)
				lx->hints |= comment_hints(lx->s + start, p - start);
		} else {
			return true;
		}
	}
}

/*
 * Quote-delimited body starting after the opening quote at p: doubled quotes
 * stay inside; with backslash escapes, \x never ends it. Returns the index
 * just past the closing quote, or UINT32_MAX when unterminated.
 */
static uint32_t scan_quoted(const SqlLexer *lx, uint32_t p, char q, bool backslash)
{
	while (p < lx->len) {
		char c = lx->s[p];

		if (c == '\0')
			return UINT32_MAX; /* PostgreSQL never sees past a NUL */
		if (backslash && c == '\\') {
			p += 2;
		} else if (c == q) {
			if (p + 1 < lx->len && lx->s[p + 1] == q)
				p += 2;
			else
				return p + 1;
		} else {
			p++;
		}
	}
	return UINT32_MAX;
}

/* Built in one expression: a token written field by field and then copied whole stalls. */
static inline SqlTok make_full(uint8_t kind, uint8_t flags, uint16_t kw, uint32_t off, uint32_t end)
{
	return (SqlTok){.kind = kind, .flags = flags, .kw = kw, .off = off, .len = end - off};
}

static inline SqlTok make(uint8_t kind, uint32_t off, uint32_t end)
{
	return make_full(kind, 0, KW_NONE, off, end);
}

/* The rest of the text as one TK_ERROR token; the lexer then only returns TK_EOF. */
static SqlTok lex_error(SqlLexer *lx, uint32_t off)
{
	SqlTok t = make(TK_ERROR, off, lx->len);

	lx->pos = lx->len;
	return t;
}

/* A '...' string (standard or ambiguous) with its opening quote at q. */
static SqlTok lex_plain_string(SqlLexer *lx, uint32_t off, uint32_t q)
{
	uint32_t end = scan_quoted(lx, q + 1, '\'', false);

	if (!lx->std_strings &&
	    memchr(lx->s + q + 1, '\\', (end == UINT32_MAX ? lx->len : end) - (q + 1)) != NULL) {
		/* under standard_conforming_strings = off, \' would not end it */
		uint32_t end_off = scan_quoted(lx, q + 1, '\'', true);

		if (end == UINT32_MAX)
			return lex_error(lx, off);
		lx->pos = end;
		return make_full(TK_STRING, end_off != end ? TF_AMBIGUOUS : 0, KW_NONE, off, end);
	}
	if (end == UINT32_MAX)
		return lex_error(lx, off);
	lx->pos = end;
	return make(TK_STRING, off, end);
}

/* $tag$ at off (already matched by the caller, tag_end = index of the closing '$'). */
static SqlTok lex_dollar_string(SqlLexer *lx, uint32_t off, uint32_t tag_end)
{
	uint32_t dlen = tag_end + 1 - off;
	uint32_t body = tag_end + 1;
	const char *hit = memmem(lx->s + body, lx->len - body, lx->s + off, dlen);

	if (!hit || memchr(lx->s + body, '\0', (size_t)(hit - (lx->s + body))) != NULL)
		return lex_error(lx, off);
	lx->pos = (uint32_t)(hit - lx->s) + dlen;
	return make_full(TK_STRING, TF_DOLLAR, KW_NONE, off, lx->pos);
}

static SqlTok lex_word(SqlLexer *lx, uint32_t off)
{
	uint32_t p = off + 1;
	unsigned char bits = (unsigned char)lx->s[off];
	Kw kw = KW_NONE;

	while (p < lx->len && is_ident_cont((unsigned char)lx->s[p]))
		bits |= (unsigned char)lx->s[p++];
	lx->pos = p;
	if (p - off <= KW_MAX_LEN && !(bits & 0x80)) /* keywords are short and ASCII */
		kw = kw_lookup(lx->s + off, p - off);
	return make_full(TK_WORD, 0, (uint16_t)kw, off, p);
}

static SqlTok lex_number(SqlLexer *lx, uint32_t off)
{
	uint32_t p = off;

	while (p < lx->len && is_digit((unsigned char)lx->s[p]))
		p++;
	/* "1..2" is 1 then "..": only one '.', and never one followed by another */
	if (at(lx, p) == '.' && at(lx, p + 1) != '.') {
		p++;
		while (p < lx->len && is_digit((unsigned char)lx->s[p]))
			p++;
	}
	if (at(lx, p) == 'e' || at(lx, p) == 'E') {
		uint32_t e = p + 1;

		if (at(lx, e) == '+' || at(lx, e) == '-')
			e++;
		if (e < lx->len && is_digit((unsigned char)lx->s[e])) {
			p = e;
			while (p < lx->len && is_digit((unsigned char)lx->s[p]))
				p++;
		}
	}
	lx->pos = p;
	return make(TK_NUMBER, off, p);
}

/* An operator: the longest run of operator characters, cut before "--" or slash-star. */
static SqlTok lex_operator(SqlLexer *lx, uint32_t off)
{
	uint32_t p = off + 1;

	while (p < lx->len && is_op_char((unsigned char)lx->s[p])) {
		if ((lx->s[p] == '-' && at(lx, p + 1) == '-') ||
		    (lx->s[p] == '/' && at(lx, p + 1) == '*'))
			break;
		p++;
	}
	lx->pos = p;
	return make(TK_OP, off, p);
}

static SqlTok lex_token(SqlLexer *lx)
{
	uint32_t off;
	int c, c1;

	if (!skip_blanks(lx))
		return lex_error(lx, lx->pos);
	off = lx->pos;
	c = at(lx, off);
	if (c < 0)
		return make(TK_EOF, lx->len, lx->len);
	c1 = at(lx, off + 1);
	switch (c) {
	case '\0':
		return lex_error(lx, off);
	case '\'':
		return lex_plain_string(lx, off, off);
	case '"': {
		uint32_t end = scan_quoted(lx, off + 1, '"', false);

		if (end == UINT32_MAX)
			return lex_error(lx, off);
		lx->pos = end;
		return make_full(
		    TK_QIDENT, memchr(lx->s + off + 1, '"', end - off - 2) != NULL ? TF_DOUBLED : 0,
		    KW_NONE, off, end);
	}
	case '(':
	case ')':
	case '[':
	case ']':
	case ',':
	case ';': {
		static const uint8_t kinds[] = {
		    ['('] = TK_LPAREN,	 [')'] = TK_RPAREN, ['['] = TK_LBRACKET,
		    [']'] = TK_RBRACKET, [','] = TK_COMMA,  [';'] = TK_SEMI};

		lx->pos = off + 1;
		return make(kinds[c], off, off + 1);
	}
	case '.':
		if (c1 >= 0 && is_digit((unsigned char)c1))
			return lex_number(lx, off);
		lx->pos = off + 1;
		return make(TK_DOT, off, off + 1);
	case ':':
		if (c1 == ':' || c1 == '=') {
			lx->pos = off + 2;
			return make(c1 == ':' ? TK_CAST : TK_OP, off, off + 2);
		}
		lx->pos = off + 1;
		return make(TK_COLON, off, off + 1);
	case '$':
		if (c1 >= 0 && is_digit((unsigned char)c1)) {
			uint32_t p = off + 1;

			while (p < lx->len && is_digit((unsigned char)lx->s[p]))
				p++;
			lx->pos = p;
			return make(TK_PARAM, off, p);
		}
		if (c1 == '$')
			return lex_dollar_string(lx, off, off + 1);
		if (c1 >= 0 && is_ident_start((unsigned char)c1)) {
			uint32_t p = off + 2;

			while (p < lx->len && is_dolq_cont((unsigned char)lx->s[p]))
				p++;
			if (at(lx, p) == '$')
				return lex_dollar_string(lx, off, p);
		}
		lx->pos = off + 1;
		return make(TK_OTHER, off, off + 1);
	default:
		break;
	}
	if (is_digit((unsigned char)c))
		return lex_number(lx, off);
	if (is_ident_start((unsigned char)c)) {
		char lc = lower_ascii((char)c);

		if (c1 == '\'') {
			if (lc == 'e') {
				uint32_t end = scan_quoted(lx, off + 2, '\'', true);

				if (end == UINT32_MAX)
					return lex_error(lx, off);
				lx->pos = end;
				return make(TK_STRING, off, end);
			}
			if (lc == 'b' || lc == 'x') {
				/* bit strings have no escapes; '' is "close, reopen": same end */
				uint32_t end = scan_quoted(lx, off + 2, '\'', false);

				if (end == UINT32_MAX)
					return lex_error(lx, off);
				lx->pos = end;
				return make(TK_STRING, off, end);
			}
			if (lc == 'n')
				return lex_plain_string(lx, off, off + 1);
		}
		if (lc == 'u' && c1 == '&' && (at(lx, off + 2) == '\'' || at(lx, off + 2) == '"')) {
			char q = lx->s[off + 2];
			uint32_t end = scan_quoted(lx, off + 3, q, false);

			if (end == UINT32_MAX)
				return lex_error(lx, off);
			lx->pos = end;
			return make(q == '"' ? TK_UIDENT : TK_STRING, off, end);
		}
		return lex_word(lx, off);
	}
	if (is_op_char((unsigned char)c))
		return lex_operator(lx, off);
	lx->pos = off + 1;
	return make(TK_OTHER, off, off + 1);
}

SqlTok sqllex_next(SqlLexer *lx)
{
	SqlTok t;

	if (lx->has_peek) {
		lx->has_peek = false;
		t = lx->peeked;
	} else {
		t = lex_token(lx);
	}
	if (t.kind == TK_SEMI)
		lx->at_start = true;
	else if (t.kind != TK_EOF)
		lx->at_start = false;
	return t;
}

const SqlTok *sqllex_peek(SqlLexer *lx)
{
	if (!lx->has_peek) {
		/* at_start is still that of the token being peeked at: hints stay right */
		lx->peeked = lex_token(lx);
		lx->has_peek = true;
	}
	return &lx->peeked;
}
