/*
 * config.c - owns pgrelay's configuration loading: reading the ini file
 * through inih with a line-counting reader, the key table for [pgrelay]
 * (parsing, defaults, range checks and SHOW CONFIG formatting), the
 * read_only_functions / write_functions list parser and config_func_listed(),
 * the failover keys (commands with %-placeholders checked here), the
 * [node.NAME] sections (with their failover keys: priority, promote,
 * replication_slot), [databases] and [users], whole-file validation with
 * "FILE:LINE: key 'KEY': ..." messages, relative auth_file / state_file
 * resolution and the read-your-writes mode resolver config_ryw_mode(). The
 * auth file (userlist) parser is in authfile.c.
 *
 * Parsing is pure: the only I/O is reading the named file into memory once.
 */
#include "config.h"
#include "cfgutil.h"
#include "balance.h" /* only to check load_balance's names against BalancePolicy */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Files larger than this are refused instead of being read into memory. */
#define CFG_MAX_FILE_SIZE (1024 * 1024)

#define KB ((int64_t)1024)
#define MB (1024 * KB)
#define GB (1024 * MB)
#define TB (1024 * GB)
#define SEC(x) ((int64_t)(x)*USEC_PER_SEC)

/* ---- small helpers ------------------------------------------------------- */

static void err_vset(char *err, size_t errlen, const char *file, int line, const char *fmt,
		     va_list ap) PRINTF_LIKE(5, 0);
static void err_vset(char *err, size_t errlen, const char *file, int line, const char *fmt,
		     va_list ap)
{
	int r;

	if (!err || errlen == 0)
		return;
	if (line > 0)
		r = snprintf(err, errlen, "%s:%d: ", file, line);
	else
		r = snprintf(err, errlen, "%s: ", file);
	if (r < 0) {
		err[0] = '\0';
		return;
	}
	if ((size_t)r >= errlen)
		return;
	vsnprintf(err + r, errlen - (size_t)r, fmt, ap);
}

/* Writes "FILE:LINE: message" (or "FILE: message" when line <= 0) to err. */
void err_set(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, errlen, file, line, fmt, ap);
	va_end(ap);
}

/* Appends s to dst[cap] (currently *len bytes long), truncating if needed. */
static void str_append(char *dst, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(dst + *len, s, n);
	*len += n;
	dst[*len] = '\0';
}

bool is_blank(char c)
{
	return isspace((unsigned char)c) != 0;
}

/*
 * Reads a whole file into a NUL-terminated heap buffer (the file may itself
 * contain NUL bytes: *lenp is the real length).
 */
char *file_read_all(const char *path, size_t max, size_t *lenp, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len = 0, cap = 4096;

	if (!f) {
		err_set(err, errlen, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		size_t n;

		if (len == cap) {
			if (cap >= max) {
				err_set(err, errlen, path, 0, "file is larger than %zu bytes", max);
				goto fail;
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				err_set(err, errlen, path, 0, "cannot read: %s", strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* ---- value parsers -------------------------------------------------------- */

/* A decimal integer with an optional leading '-', nothing else. */
static bool parse_int64(const char *s, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (*s)
		return false;
	*out = neg ? -v : v;
	return true;
}

/* Bytes with an optional kB/MB/GB/TB suffix (case-insensitive, 1024 multiples). */
static bool parse_size(const char *s, int64_t *out)
{
	int64_t v = 0, mult = 1;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		mult = 1;
	else if (strcasecmp(s, "kB") == 0)
		mult = KB;
	else if (strcasecmp(s, "MB") == 0)
		mult = MB;
	else if (strcasecmp(s, "GB") == 0)
		mult = GB;
	else if (strcasecmp(s, "TB") == 0)
		mult = TB;
	else
		return false;
	if (v > INT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

/*
 * Seconds, fractional allowed ("5", "0.5", ".25", "2."), to microseconds.
 * Digits past the sixth decimal must be zeros: nothing is rounded silently.
 */
static bool parse_duration(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	int nwhole = 0, nfrac = 0;

	for (; isdigit((unsigned char)*s); s++, nwhole++) {
		if (whole > 1000000000) /* far above any key's max; keeps usec in range */
			return false;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, nfrac++) {
			if (nfrac < 6)
				frac = frac * 10 + (*s - '0');
			else if (*s != '0')
				return false;
		}
	}
	if (*s || (nwhole == 0 && nfrac == 0))
		return false;
	for (int i = nfrac; i < 6; i++)
		frac *= 10;
	*out = whole * USEC_PER_SEC + frac;
	return true;
}

/* Seconds as the shortest text that parses back: "5", "0.5", "0.000001". */
static void format_duration(int64_t usec, char *buf, size_t len)
{
	int64_t whole = usec / USEC_PER_SEC, frac = usec % USEC_PER_SEC;
	int digits = 6;

	if (frac == 0) {
		snprintf(buf, len, "%lld", (long long)whole);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%lld.%0*lld", (long long)whole, digits, (long long)frac);
}

/* A size for messages: the largest exact unit ("64MB", "1536kB", "100"). */
static void format_size_unit(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % TB == 0)
		snprintf(buf, len, "%lldTB", (long long)(v / TB));
	else if (v != 0 && v % GB == 0)
		snprintf(buf, len, "%lldGB", (long long)(v / GB));
	else if (v != 0 && v % MB == 0)
		snprintf(buf, len, "%lldMB", (long long)(v / MB));
	else if (v != 0 && v % KB == 0)
		snprintf(buf, len, "%lldkB", (long long)(v / KB));
	else
		snprintf(buf, len, "%lld", (long long)v);
}

/* "a, b or c" */
static void format_choices(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			str_append(buf, len, &used, i + 1 == n ? " or " : ", ");
		str_append(buf, len, &used, names[i]);
	}
}

/* ---- function lists: read_only_functions, write_functions ----------------- */

/*
 * A list is entries separated by commas (blanks around them allowed), each
 * `name` or `schema.name`. An identifier is either unquoted -- letters
 * (ASCII, or any byte >= 0x80 as PostgreSQL allows), digits, '_' and '$',
 * not starting with a digit or '$', folded to ASCII lower case -- or
 * double-quoted, kept as written, with "" standing for one quote. Names are
 * at most PG_NAME_MAX - 1 bytes (PostgreSQL would truncate them silently).
 */

#define FUNC_BAD_IDENT                                                                             \
	"expected name or schema.name, each of letters, digits, _ and $ (not starting with a "     \
	"digit or $) or double-quoted"

static bool func_ident_start(char c)
{
	unsigned char u = (unsigned char)c;

	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}

static bool func_ident_char(char c)
{
	return func_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/*
 * Reads one identifier at *sp into dst[PG_NAME_MAX], folded. Returns NULL and
 * advances *sp, or returns what is wrong.
 */
static const char *func_ident_parse(const char **sp, char *dst)
{
	const char *s = *sp;
	size_t n = 0;

	if (*s == '"') {
		for (s++;; s++) {
			if (*s == '\0')
				return "missing closing quote";
			if (*s == '"') {
				if (s[1] != '"')
					break;
				s++;
			}
			if (n + 1 >= PG_NAME_MAX)
				return "an identifier is at most 63 bytes";
			dst[n++] = *s;
		}
		s++;
		if (n == 0)
			return "a quoted identifier cannot be empty";
	} else {
		if (!func_ident_start(*s))
			return FUNC_BAD_IDENT;
		for (; func_ident_char(*s); s++) {
			if (n + 1 >= PG_NAME_MAX)
				return "an identifier is at most 63 bytes";
			dst[n++] = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		}
	}
	dst[n] = '\0';
	*sp = s;
	return NULL;
}
_Static_assert(PG_NAME_MAX == 64, "update the messages of func_ident_parse()");

/* The end of the entry starting at s: the next comma outside quotes, blanks trimmed. */
static const char *func_entry_end(const char *s)
{
	const char *start = s;
	bool quoted = false;

	for (; *s && (quoted || *s != ','); s++) {
		if (*s == '"')
			quoted = !quoted; /* "" inside quotes toggles twice */
	}
	while (s > start && is_blank(s[-1]))
		s--;
	return s;
}

/*
 * Parses a function list into out[CFG_MAX_FUNCS] and *nout. On failure
 * writes what is wrong, naming the bad entry, to why.
 */
static bool funcs_parse(const char *value, CfgFunc *out, size_t *nout, char *why, size_t whylen)
{
	const char *s = value;
	size_t n = 0;

	while (is_blank(*s))
		s++;
	if (*s == '\0') {
		*nout = 0;
		return true;
	}
	for (;;) {
		const char *start, *end, *bad;
		CfgFunc f;

		while (is_blank(*s))
			s++;
		start = s;
		end = func_entry_end(start);
		if (end == start) {
			snprintf(why, whylen,
				 "expected a comma-separated list of function names, got an empty "
				 "entry in '%s'",
				 value);
			return false;
		}
		memset(&f, 0, sizeof(f));
		bad = func_ident_parse(&s, f.name);
		if (!bad && *s == '.') {
			memcpy(f.schema, f.name, sizeof(f.schema));
			s++;
			bad = func_ident_parse(&s, f.name);
		}
		while (!bad && is_blank(*s))
			s++;
		if (!bad && *s != ',' && *s != '\0')
			bad = FUNC_BAD_IDENT;
		if (bad) {
			snprintf(why, whylen, "bad function name '%.*s': %s", (int)(end - start),
				 start, bad);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(out[i].schema, f.schema) == 0 &&
			    strcmp(out[i].name, f.name) == 0) {
				snprintf(why, whylen, "function '%.*s' is listed twice",
					 (int)(end - start), start);
				return false;
			}
		}
		if (n == CFG_MAX_FUNCS) {
			snprintf(why, whylen, "expected at most %d functions", CFG_MAX_FUNCS);
			return false;
		}
		out[n++] = f;
		if (*s != ',')
			break;
		s++;
	}
	*nout = n;
	return true;
}

/* One identifier as PostgreSQL would need it written to mean the same name. */
static void func_ident_format(const char *id, char *buf, size_t len, size_t *used)
{
	bool plain = func_ident_start(id[0]);

	for (const char *c = id; *c && plain; c++)
		plain = func_ident_char(*c) && !(*c >= 'A' && *c <= 'Z');
	if (plain) {
		str_append(buf, len, used, id);
		return;
	}
	str_append(buf, len, used, "\"");
	for (const char *c = id; *c; c++) {
		char one[2] = {*c, '\0'};

		str_append(buf, len, used, *c == '"' ? "\"\"" : one);
	}
	str_append(buf, len, used, "\"");
}

/* An entry for messages: name or schema.name, quoted where needed. */
static void func_format(const CfgFunc *f, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (f->schema[0]) {
		func_ident_format(f->schema, buf, len, &used);
		str_append(buf, len, &used, ".");
	}
	func_ident_format(f->name, buf, len, &used);
}

/* Whether a call could match both a and b (one of them without a schema). */
static bool func_overlap(const CfgFunc *a, const CfgFunc *b)
{
	return strcmp(a->name, b->name) == 0 &&
	       (!a->schema[0] || !b->schema[0] || strcmp(a->schema, b->schema) == 0);
}

bool config_func_listed(const CfgFunc *list, size_t n, const char *schema, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) != 0)
			continue;
		if (list[i].schema[0] == '\0' || (schema && strcmp(list[i].schema, schema) == 0))
			return true;
	}
	return false;
}

/* ---- the [pgrelay] key table ---------------------------------------------- */

typedef enum KeyType {
	KT_INT,	     /* int, min..max */
	KT_SIZE,     /* size_t bytes, min..max */
	KT_SIZE64,   /* uint64_t bytes, min..max */
	KT_DURATION, /* usec_t, min..max in microseconds */
	KT_STRING,   /* char[cap], at least min bytes long */
	KT_ENUM,     /* an int-sized enum; names[] indexed by value */
	KT_ADDRS,    /* listen_addr[] + nlisten */
	KT_LOGLEVEL, /* LogLevel via log_level_parse() */
	KT_BOOL,     /* bool: on/off, true/false, yes/no, 1/0 */
	KT_FUNCS,    /* char[cap] text + a parsed CfgFunc list (see funcs_parse()) */
	KT_COMMAND,  /* char[cap], a shell command whose %X placeholders are in names[] */
} KeyType;

typedef struct CfgKey {
	const char *section;
	const char *name;
	KeyType type;
	int64_t min, max;
	const char *def;	  /* applied through the same parser as file values */
	size_t offset;		  /* of the field in Config */
	size_t cap;		  /* KT_STRING: buffer size */
	const char *const *names; /* KT_ENUM, KT_LOGLEVEL: values; KT_COMMAND: placeholders */
	size_t nnames;
	size_t nfuncs_offset, funcs_offset; /* KT_FUNCS: the count and the CfgFunc array */
} CfgKey;

static const char *const auth_type_names[] = {
    [AUTH_SCRAM] = "scram-sha-256",
    [AUTH_MD5] = "md5",
    [AUTH_TRUST] = "trust",
};
_Static_assert(ARRAY_SIZE(auth_type_names) == AUTH__COUNT, "update auth_type_names");

static const char *const node_role_names[] = {
    [ROLE_MASTER] = "master",
    [ROLE_REPLICA] = "replica",
};
_Static_assert(ARRAY_SIZE(node_role_names) == ROLE__COUNT, "update node_role_names");

static const char *const log_level_choices[] = {"error", "warning", "info", "debug"};

/* Config.load_balance holds a BalancePolicy: names indexed by value. */
static const char *const load_balance_names[] = {
    [BAL_ROUND_ROBIN] = "round_robin", [BAL_WEIGHTED] = "weighted",
    [BAL_LEAST_CONN] = "least_conn",   [BAL_LEAST_LATENCY] = "least_latency",
    [BAL_IP_HASH] = "ip_hash",
};
_Static_assert(ARRAY_SIZE(load_balance_names) == BAL__COUNT, "update load_balance_names");

/* Config.no_fresh_replica holds a NoFreshPolicy, Config.read_your_writes a RywMode. */
static const char *const no_fresh_names[] = {
    [NOFRESH_MASTER] = "master",
    [NOFRESH_WAIT] = "wait",
    [NOFRESH_ERROR] = "error",
};
_Static_assert(ARRAY_SIZE(no_fresh_names) == NOFRESH_ERROR + 1, "update no_fresh_names");

static const char *const ryw_names[] = {
    [RYW_OFF] = "off",
    [RYW_SESSION] = "session",
    [RYW_GLOBAL] = "global",
};
_Static_assert(ARRAY_SIZE(ryw_names) == RYW_GLOBAL + 1, "update ryw_names");

/* The placeholders of promote_command and follow_command; "%%" is always a literal '%'. */
static const char *const promote_placeholders[] = {"%n", "%h", "%p"};
static const char *const follow_placeholders[] = {"%n", "%h", "%p", "%N", "%H", "%P"};

static const char *const bool_true_names[] = {"on", "true", "yes", "1"};
static const char *const bool_false_names[] = {"off", "false", "no", "0"};

/* Enums are stored as int through the table. */
_Static_assert(sizeof(AuthType) == sizeof(int), "AuthType must be int-sized");
_Static_assert(sizeof(LogLevel) == sizeof(int), "LogLevel must be int-sized");

/* offsetof() that fails to compile when the field is not of type T. */
#define FIELD(f, T) _Generic(((Config *)0)->f, T : offsetof(Config, f))
#define K_INT(n, lo, hi, d)                                                                        \
	{                                                                                          \
		"pgrelay", #n, KT_INT, lo, hi, d, FIELD(n, int), 0, NULL, 0, 0, 0                  \
	}
#define K_SIZE(n, lo, hi, d)                                                                       \
	{                                                                                          \
		"pgrelay", #n, KT_SIZE, lo, hi, d, FIELD(n, size_t), 0, NULL, 0, 0, 0              \
	}
/* max_lag_bytes may exceed size_t on 32-bit systems: a uint64_t field */
#define K_SIZE64(n, lo, hi, d)                                                                     \
	{                                                                                          \
		"pgrelay", #n, KT_SIZE64, lo, hi, d, FIELD(n, uint64_t), 0, NULL, 0, 0, 0          \
	}
#define K_DUR(n, lo, hi, d)                                                                        \
	{                                                                                          \
		"pgrelay", #n, KT_DURATION, lo, hi, d, FIELD(n, usec_t), 0, NULL, 0, 0, 0          \
	}
#define K_STR(n, d)                                                                                \
	{                                                                                          \
		"pgrelay", #n, KT_STRING, 0, 0, d, FIELD(n, char *), sizeof(((Config *)0)->n),     \
		    NULL, 0, 0, 0                                                                  \
	}
/* a string of at least one character, such as a database name */
#define K_NAME(n, d)                                                                               \
	{                                                                                          \
		"pgrelay", #n, KT_STRING, 1, 0, d, FIELD(n, char *), sizeof(((Config *)0)->n),     \
		    NULL, 0, 0, 0                                                                  \
	}
/* an enum stored in an int field; names[] indexed by value */
#define K_ENUM(n, names, d)                                                                        \
	{                                                                                          \
		"pgrelay", #n, KT_ENUM, 0, 0, d, FIELD(n, int), 0, names, ARRAY_SIZE(names), 0, 0  \
	}
#define K_BOOL(n, d)                                                                               \
	{                                                                                          \
		"pgrelay", #n, KT_BOOL, 0, 0, d, FIELD(n, bool), 0, NULL, 0, 0, 0                  \
	}
/* a shell command; ph: its placeholders ("%n", ...) */
#define K_CMD(n, ph)                                                                               \
	{                                                                                          \
		"pgrelay", #n, KT_COMMAND, 0, 0, "", FIELD(n, char *), sizeof(((Config *)0)->n),   \
		    ph, ARRAY_SIZE(ph), 0, 0                                                       \
	}
/* text: the key's char[] field; n, list: the parsed CfgFunc count and array */
#define K_FUNCS(text, n, list)                                                                     \
	{                                                                                          \
		"pgrelay", #text, KT_FUNCS, 0, 0, "", FIELD(text, char *),                         \
		    sizeof(((Config *)0)->text), NULL, 0, FIELD(n, size_t), FIELD(list, CfgFunc *) \
	}

static const CfgKey cfg_keys[] = {
    {"pgrelay", "listen_addr", KT_ADDRS, 1, CFG_MAX_LISTEN, "127.0.0.1",
     FIELD(listen_addr, char (*)[64]), 0, NULL, 0, 0, 0},
    K_INT(listen_port, 1, 65535, "6432"),
    {"pgrelay", "auth_type", KT_ENUM, 0, 0, "scram-sha-256", FIELD(auth_type, AuthType), 0,
     auth_type_names, ARRAY_SIZE(auth_type_names), 0, 0},
    K_STR(auth_file, ""),
    K_INT(pool_size, 1, 10000, "20"),
    K_INT(max_client_conn, 1, 1000000, "1000"),
    K_SIZE(max_message_size, 1 * KB, 1 * GB, "64MB"),
    K_DUR(connect_timeout, USEC_PER_MS, SEC(600), "5"),
    K_DUR(client_login_timeout, USEC_PER_MS, SEC(3600), "60"),
    K_DUR(server_idle_timeout, 0, SEC(30 * 86400), "600"),
    K_DUR(client_idle_timeout, 0, SEC(30 * 86400), "0"),
    K_DUR(query_wait_timeout, 0, SEC(86400), "120"),
    K_DUR(shutdown_timeout, 0, SEC(86400), "30"),
    K_STR(server_reset_query, "DISCARD ALL"),
    {"pgrelay", "log_level", KT_LOGLEVEL, 0, 0, "info", FIELD(log_level, LogLevel), 0,
     log_level_choices, ARRAY_SIZE(log_level_choices), 0, 0},
    /* read routing */
    K_BOOL(route_reads, "on"),
    {"pgrelay", "load_balance", KT_ENUM, 0, 0, "round_robin", FIELD(load_balance, int), 0,
     load_balance_names, ARRAY_SIZE(load_balance_names), 0, 0},
    K_FUNCS(read_only_functions, nread_only_funcs, read_only_funcs),
    K_FUNCS(write_functions, nwrite_funcs, write_funcs),
    K_STR(monitor_user, ""),
    K_STR(monitor_password, ""),
    K_DUR(function_cache_ttl, SEC(1), SEC(86400), "300"),
    K_DUR(replica_retry_interval, 100 * USEC_PER_MS, SEC(3600), "5"),
    /* the monitor, replica lag, read-your-writes */
    K_DUR(monitor_interval, 10 * USEC_PER_MS, SEC(60), "0.2"),
    K_DUR(monitor_timeout, 10 * USEC_PER_MS, SEC(600), "1"),
    K_INT(monitor_hysteresis, 1, 100, "3"),
    K_NAME(monitor_dbname, "postgres"),
    K_SIZE64(max_lag_bytes, 0, 1 * TB, "16MB"),
    K_DUR(max_lag_time, 0, SEC(86400), "1"),
    K_ENUM(no_fresh_replica, no_fresh_names, "master"),
    K_DUR(no_fresh_replica_timeout, USEC_PER_MS, SEC(3600), "1"),
    K_ENUM(read_your_writes, ryw_names, "session"),
    K_DUR(read_your_writes_wait, 0, SEC(60), "0.05"),
    /* failover */
    K_BOOL(failover, "on"),
    K_INT(failover_after, 1, 100, "3"),
    K_DUR(failover_timeout, SEC(1), SEC(3600), "30"),
    K_SIZE64(max_failover_lag, 0, 1 * TB, "16MB"),
    K_DUR(write_wait_timeout, 0, SEC(3600), "30"),
    K_STR(promote_user, ""),
    K_STR(promote_password, ""),
    K_CMD(promote_command, promote_placeholders),
    K_CMD(follow_command, follow_placeholders),
    K_STR(state_file, ""),
    K_BOOL(fence_old_master, "on"),
    K_STR(replication_user, ""),
    K_STR(replication_password, ""),
    /* operations */
    K_STR(admin_users, ""),
    K_STR(stats_users, ""),
    K_NAME(metrics_addr, "127.0.0.1"),
    K_INT(metrics_port, 0, 65535, "0"),
};
#define NKEYS ARRAY_SIZE(cfg_keys)

static void *key_field(const CfgKey *k, Config *cfg)
{
	return (char *)cfg + k->offset;
}

static const void *key_cfield(const CfgKey *k, const Config *cfg)
{
	return (const char *)cfg + k->offset;
}

static bool parse_addrs(Config *cfg, const char *value, char *why, size_t whylen)
{
	char addrs[CFG_MAX_LISTEN][64];
	size_t n = 0;
	const char *s = value;

	for (;;) {
		const char *start, *end;
		char item[64];
		unsigned char bin[sizeof(struct in6_addr)];

		while (is_blank(*s))
			s++;
		start = s;
		while (*s && *s != ',')
			s++;
		end = s;
		while (end > start && is_blank(end[-1]))
			end--;
		if (end == start) {
			snprintf(
			    why, whylen,
			    "expected a comma-separated list of numeric IPv4/IPv6 addresses or "
			    "'*', got '%s'",
			    value);
			return false;
		}
		if (n == CFG_MAX_LISTEN) {
			snprintf(why, whylen, "expected at most %d addresses", CFG_MAX_LISTEN);
			return false;
		}
		if (!copy_name(item, sizeof(item), start, (size_t)(end - start)) ||
		    (strcmp(item, "*") != 0 && inet_pton(AF_INET, item, bin) != 1 &&
		     inet_pton(AF_INET6, item, bin) != 1)) {
			snprintf(why, whylen,
				 "expected numeric IPv4/IPv6 addresses or '*', got '%.*s'",
				 (int)(end - start), start);
			return false;
		}
		if (strcmp(item, "*") == 0)
			strcpy(item, "0.0.0.0");
		for (size_t i = 0; i < n; i++) {
			if (strcmp(addrs[i], item) == 0) {
				snprintf(why, whylen, "address '%s' is listed twice", item);
				return false;
			}
		}
		memcpy(addrs[n++], item, sizeof(item));
		if (*s != ',')
			break;
		s++;
	}
	memcpy(cfg->listen_addr, addrs, sizeof(addrs[0]) * n);
	cfg->nlisten = n;
	return true;
}

/* KT_FUNCS: the text, trimmed, and its parsed list; cfg is unchanged on failure. */
static bool key_parse_funcs(const CfgKey *k, Config *cfg, const char *value, char *why,
			    size_t whylen)
{
	CfgFunc funcs[CFG_MAX_FUNCS];
	size_t n, len;

	while (is_blank(*value))
		value++;
	len = strlen(value);
	while (len > 0 && is_blank(value[len - 1]))
		len--;
	if (len >= k->cap) {
		snprintf(why, whylen, "expected at most %zu characters, got %zu", k->cap - 1, len);
		return false;
	}
	if (!funcs_parse(value, funcs, &n, why, whylen))
		return false;
	memcpy(key_field(k, cfg), value, len);
	((char *)key_field(k, cfg))[len] = '\0';
	*(size_t *)((char *)cfg + k->nfuncs_offset) = n;
	memcpy((char *)cfg + k->funcs_offset, funcs, n * sizeof(funcs[0]));
	return true;
}

/*
 * KT_COMMAND: every '%' of value starts one of k's placeholders or "%%".
 * Nothing is substituted here; that happens when the command is run.
 */
static bool command_check(const CfgKey *k, const char *value, char *why, size_t whylen)
{
	char choices[128];

	for (const char *s = strchr(value, '%'); s; s = strchr(s, '%')) {
		bool known = s[1] == '%';

		for (size_t i = 0; i < k->nnames && !known; i++)
			known = s[1] != '\0' && s[1] == k->names[i][1];
		if (!known) {
			format_choices(k->names, k->nnames, choices, sizeof(choices));
			snprintf(
			    why, whylen,
			    "expected the placeholders %s (or %%%% for a literal %%), got '%.2s'",
			    choices, s);
			return false;
		}
		s += 2;
	}
	return true;
}

/*
 * Parses value for key k into cfg. On failure writes "expected ..., got
 * '...'" to why and leaves cfg unchanged.
 */
static bool key_parse(const CfgKey *k, Config *cfg, const char *value, char *why, size_t whylen)
{
	int64_t v;
	char lo[32], hi[32], choices[128];

	switch (k->type) {
	case KT_INT:
		if (!parse_int64(value, &v) || v < k->min || v > k->max) {
			snprintf(why, whylen, "expected an integer from %lld to %lld, got '%s'",
				 (long long)k->min, (long long)k->max, value);
			return false;
		}
		*(int *)key_field(k, cfg) = (int)v;
		return true;
	case KT_SIZE:
	case KT_SIZE64:
		if (!parse_size(value, &v) || v < k->min || v > k->max) {
			format_size_unit(k->min, lo, sizeof(lo));
			format_size_unit(k->max, hi, sizeof(hi));
			snprintf(
			    why, whylen,
			    "expected a size from %s to %s (bytes, or with a kB/MB/GB/TB suffix), "
			    "got '%s'",
			    lo, hi, value);
			return false;
		}
		if (k->type == KT_SIZE)
			*(size_t *)key_field(k, cfg) = (size_t)v;
		else
			*(uint64_t *)key_field(k, cfg) = (uint64_t)v;
		return true;
	case KT_DURATION:
		if (!parse_duration(value, &v) || v < k->min || v > k->max) {
			format_duration(k->min, lo, sizeof(lo));
			format_duration(k->max, hi, sizeof(hi));
			snprintf(why, whylen,
				 "expected a duration in seconds from %s to %s, got '%s'", lo, hi,
				 value);
			return false;
		}
		*(usec_t *)key_field(k, cfg) = v;
		return true;
	case KT_STRING:
	case KT_COMMAND: {
		size_t n = strlen(value);

		if (k->min > 0 && (n < (size_t)k->min || n >= k->cap)) {
			snprintf(why, whylen, "expected %lld to %zu characters, got %zu",
				 (long long)k->min, k->cap - 1, n);
			return false;
		}
		if (n >= k->cap) {
			snprintf(why, whylen, "expected at most %zu characters, got %zu",
				 k->cap - 1, n);
			return false;
		}
		if (k->type == KT_COMMAND && !command_check(k, value, why, whylen))
			return false;
		memcpy(key_field(k, cfg), value, n + 1);
		return true;
	}
	case KT_ENUM:
		for (size_t i = 0; i < k->nnames; i++) {
			if (strcasecmp(value, k->names[i]) == 0) {
				int e = (int)i;

				memcpy(key_field(k, cfg), &e, sizeof(e));
				return true;
			}
		}
		format_choices(k->names, k->nnames, choices, sizeof(choices));
		snprintf(why, whylen, "expected %s, got '%s'", choices, value);
		return false;
	case KT_ADDRS:
		return parse_addrs(cfg, value, why, whylen);
	case KT_LOGLEVEL: {
		LogLevel lvl;

		if (!log_level_parse(value, &lvl)) {
			format_choices(k->names, k->nnames, choices, sizeof(choices));
			snprintf(why, whylen, "expected %s, got '%s'", choices, value);
			return false;
		}
		memcpy(key_field(k, cfg), &lvl, sizeof(lvl));
		return true;
	}
	case KT_BOOL:
		for (size_t i = 0; i < ARRAY_SIZE(bool_true_names); i++) {
			if (strcasecmp(value, bool_true_names[i]) == 0) {
				*(bool *)key_field(k, cfg) = true;
				return true;
			}
			if (strcasecmp(value, bool_false_names[i]) == 0) {
				*(bool *)key_field(k, cfg) = false;
				return true;
			}
		}
		snprintf(why, whylen, "expected on or off (or true/false, yes/no, 1/0), got '%s'",
			 value);
		return false;
	case KT_FUNCS:
		return key_parse_funcs(k, cfg, value, why, whylen);
	}
	snprintf(why, whylen, "internal error: unknown key type");
	return false;
}

/* The current value of k as text that parses back to the same value. */
static void key_format(const CfgKey *k, const Config *cfg, char *buf, size_t len)
{
	const void *f = key_cfield(k, cfg);
	int e;

	if (len == 0)
		return;
	buf[0] = '\0';
	switch (k->type) {
	case KT_INT:
		snprintf(buf, len, "%d", *(const int *)f);
		break;
	case KT_SIZE:
		snprintf(buf, len, "%zu", *(const size_t *)f);
		break;
	case KT_SIZE64:
		snprintf(buf, len, "%" PRIu64, *(const uint64_t *)f);
		break;
	case KT_DURATION:
		format_duration(*(const usec_t *)f, buf, len);
		break;
	case KT_STRING:
	case KT_COMMAND:
	case KT_FUNCS:
		snprintf(buf, len, "%s", (const char *)f);
		break;
	case KT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)f ? "on" : "off");
		break;
	case KT_ENUM:
		memcpy(&e, f, sizeof(e));
		snprintf(buf, len, "%s", (size_t)e < k->nnames ? k->names[e] : "?");
		break;
	case KT_ADDRS: {
		size_t used = 0;

		for (size_t i = 0; i < cfg->nlisten; i++) {
			if (i > 0)
				str_append(buf, len, &used, ",");
			str_append(buf, len, &used, cfg->listen_addr[i]);
		}
		break;
	}
	case KT_LOGLEVEL: {
		const char *name;

		memcpy(&e, f, sizeof(e));
		name = log_level_name((LogLevel)e);
		for (size_t i = 0; name[i] && i + 1 < len; i++) {
			buf[i] = (char)tolower((unsigned char)name[i]);
			buf[i + 1] = '\0';
		}
		break;
	}
	}
}

/* With cfg == NULL, value is the built-in default as written in the key table. */
bool config_key_at(const Config *cfg, size_t i, const char **section, const char **name,
		   char *value, size_t valuelen)
{
	const CfgKey *k;

	if (i >= NKEYS)
		return false;
	k = &cfg_keys[i];
	if (section)
		*section = k->section;
	if (name)
		*name = k->name;
	if (value && valuelen > 0) {
		if (cfg)
			key_format(k, cfg, value, valuelen);
		else
			snprintf(value, valuelen, "%s", k->def);
	}
	return true;
}

/* Keys a running pgrelay cannot change: sockets it listens on, the failover record. */
static const char *const restart_keys[] = {"listen_addr",   "listen_port", "metrics_addr",
					   "metrics_port",  "state_file",  "monitor_user",
					   "monitor_dbname"};

bool config_key_reloadable(size_t i)
{
	if (i >= NKEYS)
		return false;
	for (size_t k = 0; k < ARRAY_SIZE(restart_keys); k++)
		if (strcmp(cfg_keys[i].name, restart_keys[k]) == 0)
			return false;
	return true;
}

bool config_key_same(const Config *a, const Config *b, size_t i)
{
	char va[4200], vb[4200];

	if (i >= NKEYS)
		return true;
	key_format(&cfg_keys[i], a, va, sizeof(va));
	key_format(&cfg_keys[i], b, vb, sizeof(vb));
	return strcmp(va, vb) == 0;
}

bool config_key_copy(Config *dst, const Config *src, size_t i)
{
	char v[4200], why[512];

	if (i >= NKEYS)
		return false;
	key_format(&cfg_keys[i], src, v, sizeof(v));
	return key_parse(&cfg_keys[i], dst, v, why, sizeof(why));
}

int config_key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool config_user_listed(const char *list, const char *user)
{
	size_t ulen = strlen(user);

	for (const char *p = list; *p;) {
		const char *end;
		while (*p == ',' || is_blank(*p))
			p++;
		end = p;
		while (*end && *end != ',')
			end++;
		/* trim the entry's trailing blanks */
		{
			const char *e = end;
			while (e > p && is_blank(e[-1]))
				e--;
			if ((size_t)(e - p) == ulen && ulen > 0 && memcmp(p, user, ulen) == 0)
				return true;
		}
		p = end;
	}
	return false;
}

/* ---- the ini parser state ------------------------------------------------- */

typedef enum SectionKind { SEC_NONE, SEC_PGRELAY, SEC_NODE, SEC_DATABASES, SEC_USERS } SectionKind;

/* host and port (the keys before NODE_ROLE) are required */
enum {
	NODE_HOST,
	NODE_PORT,
	NODE_ROLE,
	NODE_WEIGHT,
	NODE_PRIORITY,
	NODE_PROMOTE,
	NODE_SLOT,
	NODE__NKEYS
};
static const char *const node_key_names[NODE__NKEYS] = {
    "host", "port", "role", "weight", "priority", "promote", "replication_slot"};

typedef struct Parser {
	Config *cfg;
	const char *name; /* for messages */
	const char *text; /* the whole file; a cursor over it feeds inih */
	size_t len, pos;
	int lineno; /* of the line last handed to inih */

	SectionKind kind;
	CfgNode *node; /* SEC_NODE: the node being filled */

	int key_line[NKEYS];			       /* [pgrelay]: where each key was set */
	int node_key_line[CFG_MAX_NODES][NODE__NKEYS]; /* [node.X] likewise */
	int db_line[CFG_MAX_DATABASES];
	int user_line[CFG_MAX_USERS];

	bool failed;
	int err_line;
	char *err;
	size_t errlen;
} Parser;

/* Records the first error only; returns 0 so handlers can `return parser_fail(...)`. */
static int parser_fail(Parser *p, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int parser_fail(Parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return 0;
	p->failed = true;
	p->err_line = line;
	va_start(ap, fmt);
	err_vset(p->err, p->errlen, p->name, line, fmt, ap);
	va_end(ap);
	return 0;
}

static bool node_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PG_NAME_MAX)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	}
	return true;
}

/* A "[...]" line: switch sections, registering a node for [node.NAME]. */
static bool parser_begin_section(Parser *p, const char *sec)
{
	Config *cfg = p->cfg;
	CfgNode *node;

	p->node = NULL;
	if (strcmp(sec, "pgrelay") == 0) {
		p->kind = SEC_PGRELAY;
		return true;
	}
	if (strcmp(sec, "databases") == 0) {
		p->kind = SEC_DATABASES;
		return true;
	}
	if (strcmp(sec, "users") == 0) {
		p->kind = SEC_USERS;
		return true;
	}
	if (strncmp(sec, "node.", 5) != 0)
		return parser_fail(p, p->lineno, "unknown section '%s'", sec);

	if (!node_name_valid(sec + 5))
		return parser_fail(p, p->lineno,
				   "section '%s': a node name is 1 to %d letters, digits, '_' or "
				   "'-'",
				   sec, PG_NAME_MAX - 1);
	for (size_t i = 0; i < cfg->nnodes; i++) {
		if (strcmp(cfg->nodes[i].name, sec + 5) == 0)
			return parser_fail(
			    p, p->lineno, "section '%s': duplicate node (first defined on line %d)",
			    sec, cfg->nodes[i].line);
	}
	if (cfg->nnodes == CFG_MAX_NODES)
		return parser_fail(p, p->lineno, "section '%s': too many nodes (at most %d)", sec,
				   CFG_MAX_NODES);
	node = &cfg->nodes[cfg->nnodes++];
	memset(node, 0, sizeof(*node));
	strcpy(node->name, sec + 5); /* length checked by node_name_valid() */
	node->role = ROLE_REPLICA;
	node->line = p->lineno;
	node->priority = 100;
	p->kind = SEC_NODE;
	p->node = node;
	return true;
}

/*
 * inih's reader: hands inih one line at a time from the in-memory text and
 * counts lines, so handlers know the current line number. Leading blanks are
 * removed (which also turns off inih's indented continuation lines), as is
 * a UTF-8 BOM. Section headers are tracked here rather than from inih's
 * section argument, which inih truncates to 49 bytes, and so that empty and
 * repeated sections are seen too. inih finds "[name]" exactly the same way:
 * up to the first ']' unless a ';' after a blank (a comment) comes first.
 */
static char *parser_read_line(char *str, int num, void *stream)
{
	Parser *p = stream;
	const char *line, *nl;
	size_t n;

	if (p->failed || p->pos >= p->len || num < 2)
		return NULL;
	line = p->text + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->lineno++;

	if (memchr(line, '\0', n)) {
		parser_fail(p, p->lineno, "line contains a NUL byte");
		return NULL;
	}
	if (p->lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		n -= 3;
	}
	while (n > 0 && is_blank(line[0])) {
		line++;
		n--;
	}
	while (n > 0 && is_blank(line[n - 1]))
		n--;
	if (n > (size_t)num - 1) {
		parser_fail(p, p->lineno, "line is longer than %d characters", num - 1);
		return NULL;
	}
	memcpy(str, line, n);
	str[n] = '\0';

	if (n > 0 && str[0] == '[') {
		bool was_blank = false;

		for (size_t i = 1; i < n; i++) {
			if (str[i] == ']') {
				char sec[256];

				if (i - 1 >= sizeof(sec)) {
					parser_fail(p, p->lineno,
						    "section name longer than %zu characters",
						    sizeof(sec) - 1);
					return NULL;
				}
				memcpy(sec, str + 1, i - 1);
				sec[i - 1] = '\0';
				if (!parser_begin_section(p, sec))
					return NULL;
				break;
			}
			if (was_blank && str[i] == ';')
				break; /* inih reports the missing ']' */
			was_blank = is_blank(str[i]);
		}
	}
	return str;
}

/* ---- section handlers ------------------------------------------------------ */

static int handle_global(Parser *p, const char *name, const char *value)
{
	char why[512];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(cfg_keys[i].name, name) == 0)
			break;
	}
	if (i == NKEYS)
		return parser_fail(p, p->lineno, "key '%s': unknown key in section [pgrelay]",
				   name);
	if (p->key_line[i])
		return parser_fail(p, p->lineno, "key '%s': duplicate key (first set on line %d)",
				   name, p->key_line[i]);
	p->key_line[i] = p->lineno;
	if (!key_parse(&cfg_keys[i], p->cfg, value, why, sizeof(why)))
		return parser_fail(p, p->lineno, "key '%s': %s", name, why);
	return 1;
}

/* A physical replication slot name as PostgreSQL accepts it: [a-z0-9_]{1,63}. */
static bool slot_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PG_NAME_MAX)
		return false;
	for (; *s; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '_')
			return false;
	}
	return true;
}

static int handle_node(Parser *p, const char *name, const char *value)
{
	CfgNode *node = p->node;
	int *lines = p->node_key_line[node - p->cfg->nodes];
	int64_t v;
	size_t i;

	for (i = 0; i < NODE__NKEYS; i++) {
		if (strcmp(node_key_names[i], name) == 0)
			break;
	}
	if (i == NODE__NKEYS)
		return parser_fail(p, p->lineno, "key '%s': unknown key in section [node.%s]", name,
				   node->name);
	if (lines[i])
		return parser_fail(p, p->lineno, "key '%s': duplicate key (first set on line %d)",
				   name, lines[i]);
	lines[i] = p->lineno;

	switch (i) {
	case NODE_HOST:
		if (value[0] == '\0' || strlen(value) >= sizeof(node->host) ||
		    strpbrk(value, " \t\r\n\v\f"))
			return parser_fail(p, p->lineno,
					   "key 'host': expected a host name or numeric address of "
					   "at most %zu characters, got '%s'",
					   sizeof(node->host) - 1, value);
		strcpy(node->host, value);
		break;
	case NODE_PORT:
		if (!parse_int64(value, &v) || v < 1 || v > 65535)
			return parser_fail(
			    p, p->lineno,
			    "key 'port': expected an integer from 1 to 65535, got '%s'", value);
		node->port = (int)v;
		break;
	case NODE_ROLE:
		if (strcasecmp(value, "master") == 0) {
			const CfgNode *m = config_master(p->cfg);

			if (m && m != node)
				return parser_fail(p, p->lineno,
						   "key 'role': node '%s' is already the master; "
						   "exactly one node may have role = master",
						   m->name);
			node->role = ROLE_MASTER;
		} else if (strcasecmp(value, "replica") == 0) {
			node->role = ROLE_REPLICA;
		} else {
			return parser_fail(p, p->lineno,
					   "key 'role': expected master or replica, got '%s'",
					   value);
		}
		break;
	case NODE_WEIGHT: /* the default depends on role: see parser_finish() */
		if (!parse_int64(value, &v) || v < 0 || v > 1000)
			return parser_fail(
			    p, p->lineno,
			    "key 'weight': expected an integer from 0 to 1000, got '%s'", value);
		node->weight = (int)v;
		node->weight_set = true;
		break;
	case NODE_PRIORITY:
		if (!parse_int64(value, &v) || v < 0 || v > 1000)
			return parser_fail(
			    p, p->lineno,
			    "key 'priority': expected an integer from 0 to 1000, got '%s'", value);
		node->priority = (int)v;
		break;
	case NODE_PROMOTE:
		if (strcasecmp(value, "auto") == 0)
			node->never_promote = false;
		else if (strcasecmp(value, "never") == 0)
			node->never_promote = true;
		else
			return parser_fail(
			    p, p->lineno, "key 'promote': expected auto or never, got '%s'", value);
		break;
	case NODE_SLOT:
		if (value[0] == '\0') /* none */
			break;
		if (!slot_name_valid(value))
			return parser_fail(p, p->lineno,
					   "key 'replication_slot': expected 1 to %d lower-case "
					   "letters, digits or '_' (empty = none), got '%s'",
					   PG_NAME_MAX - 1, value);
		strcpy(node->replication_slot, value); /* length checked above */
		break;
	}
	return 1;
}

/*
 * [databases] and [users] values: space-separated FIELD=VALUE pairs; a value
 * may be single-quoted to hold blanks, with '' standing for one quote.
 */
typedef struct OptFields {
	const char *const *names;
	size_t n;
} OptFields;

/* Longest value of a field, quotes removed; CfgDatabase.password is the longest field. */
#define OPT_VALUE_MAX 255
_Static_assert(sizeof(((CfgDatabase *)0)->password) == OPT_VALUE_MAX + 1, "update OPT_VALUE_MAX");

/*
 * Reads the next pair of the value of key at *sp: its field's index in
 * fields into *field and its value, unquoted, into val[OPT_VALUE_MAX + 1].
 * seen[] (one per field) catches a field given twice. Returns 1 for a pair,
 * 0 at the end of the value, -1 after reporting what is wrong.
 */
static int opt_next(Parser *p, const char *key, const char **sp, const OptFields *fields,
		    bool *seen, size_t *field, char *val)
{
	const char *s = *sp, *fstart, *fend;
	size_t f, vlen = 0;

	while (is_blank(*s))
		s++;
	if (*s == '\0') {
		*sp = s;
		return 0;
	}
	fstart = s;
	while (*s && *s != '=' && !is_blank(*s))
		s++;
	fend = s;
	if (*s != '=' || fend == fstart) {
		while (*s && !is_blank(*s))
			s++;
		parser_fail(p, p->lineno, "key '%s': expected FIELD=VALUE, got '%.*s'", key,
			    (int)(s - fstart), fstart);
		return -1;
	}
	s++;
	for (f = 0; f < fields->n; f++) {
		if (strlen(fields->names[f]) == (size_t)(fend - fstart) &&
		    memcmp(fields->names[f], fstart, (size_t)(fend - fstart)) == 0)
			break;
	}
	if (f == fields->n) {
		char choices[128];

		format_choices(fields->names, fields->n, choices, sizeof(choices));
		parser_fail(p, p->lineno, "key '%s': unknown field '%.*s' (expected %s)", key,
			    (int)(fend - fstart), fstart, choices);
		return -1;
	}
	if (seen[f]) {
		parser_fail(p, p->lineno, "key '%s': field '%s' is given twice", key,
			    fields->names[f]);
		return -1;
	}
	seen[f] = true;

	if (*s == '\'') {
		for (s++;; s++) {
			if (*s == '\0') {
				parser_fail(p, p->lineno,
					    "key '%s': field '%s': missing closing quote", key,
					    fields->names[f]);
				return -1;
			}
			if (*s == '\'') {
				if (s[1] != '\'')
					break;
				s++;
			}
			if (vlen < OPT_VALUE_MAX)
				val[vlen] = *s;
			vlen++;
		}
		s++;
		if (*s && !is_blank(*s)) {
			parser_fail(
			    p, p->lineno,
			    "key '%s': field '%s': expected a blank after the closing quote", key,
			    fields->names[f]);
			return -1;
		}
	} else {
		for (; *s && !is_blank(*s); s++) {
			if (vlen < OPT_VALUE_MAX)
				val[vlen] = *s;
			vlen++;
		}
	}
	if (vlen > OPT_VALUE_MAX) {
		parser_fail(p, p->lineno, "key '%s': field '%s': longer than %d characters", key,
			    fields->names[f], OPT_VALUE_MAX);
		return -1;
	}
	val[vlen] = '\0';
	*field = f;
	*sp = s;
	return 1;
}

/* The value of a read_your_writes field (a RywMode) into *out, or an error. */
static bool opt_parse_ryw(Parser *p, const char *key, const char *val, int *out)
{
	char choices[64];

	for (size_t i = 0; i < ARRAY_SIZE(ryw_names); i++) {
		if (strcasecmp(val, ryw_names[i]) == 0) {
			*out = (int)i;
			return true;
		}
	}
	format_choices(ryw_names, ARRAY_SIZE(ryw_names), choices, sizeof(choices));
	return parser_fail(p, p->lineno,
			   "key '%s': field 'read_your_writes': expected %s, got '%s'", key,
			   choices, val);
}

enum { DB_DBNAME, DB_USER, DB_PASSWORD, DB_POOL_SIZE, DB_RYW, DB__NFIELDS };
static const char *const db_field_names[DB__NFIELDS] = {"dbname", "user", "password", "pool_size",
							"read_your_writes"};

static int handle_database(Parser *p, const char *name, const char *value)
{
	static const OptFields fields = {db_field_names, DB__NFIELDS};
	Config *cfg = p->cfg;
	CfgDatabase *db;
	bool seen[DB__NFIELDS] = {false};
	char val[OPT_VALUE_MAX + 1];
	const char *s = value;
	size_t f;
	int r;

	if (name[0] == '\0' || strlen(name) >= PG_NAME_MAX)
		return parser_fail(p, p->lineno, "key '%s': a database name is 1 to %d characters",
				   name, PG_NAME_MAX - 1);
	if (strcmp(name, "pgrelay") == 0)
		return parser_fail(p, p->lineno,
				   "key 'pgrelay': the database name pgrelay is reserved for the "
				   "admin console");
	for (size_t i = 0; i < cfg->ndatabases; i++) {
		if (strcmp(cfg->databases[i].name, name) == 0)
			return parser_fail(p, p->lineno,
					   "key '%s': duplicate key (first set on line %d)", name,
					   p->db_line[i]);
	}
	if (cfg->ndatabases == CFG_MAX_DATABASES)
		return parser_fail(p, p->lineno, "key '%s': too many databases (at most %d)", name,
				   CFG_MAX_DATABASES);
	db = &cfg->databases[cfg->ndatabases];
	memset(db, 0, sizeof(*db));
	strcpy(db->name, name);
	db->read_your_writes = -1;

	while ((r = opt_next(p, name, &s, &fields, seen, &f, val)) > 0) {
		switch (f) {
		case DB_DBNAME:
		case DB_USER:
			if (strlen(val) >= PG_NAME_MAX)
				return parser_fail(
				    p, p->lineno, "key '%s': field '%s': longer than %d characters",
				    name, db_field_names[f], PG_NAME_MAX - 1);
			strcpy(f == DB_DBNAME ? db->dbname : db->user, val);
			break;
		case DB_PASSWORD:
			strcpy(db->password, val); /* sizeof(val) == sizeof(db->password) */
			break;
		case DB_POOL_SIZE: {
			int64_t v;

			if (!parse_int64(val, &v) || v < 1 || v > 10000)
				return parser_fail(
				    p, p->lineno,
				    "key '%s': field 'pool_size': expected an integer "
				    "from 1 to 10000, got '%s'",
				    name, val);
			db->pool_size = (int)v;
			break;
		}
		case DB_RYW:
			if (!opt_parse_ryw(p, name, val, &db->read_your_writes))
				return 0;
			break;
		}
	}
	if (r < 0)
		return 0;
	p->db_line[cfg->ndatabases] = p->lineno;
	cfg->ndatabases++;
	return 1;
}

/* A [users] value: FIELD=VALUE pairs like [databases]; only read_your_writes for now. */
enum { USER_RYW, USER__NFIELDS };
static const char *const user_field_names[USER__NFIELDS] = {"read_your_writes"};

static int handle_user(Parser *p, const char *name, const char *value)
{
	static const OptFields fields = {user_field_names, USER__NFIELDS};
	Config *cfg = p->cfg;
	CfgUser *u;
	bool seen[USER__NFIELDS] = {false};
	char val[OPT_VALUE_MAX + 1];
	const char *s = value;
	size_t f;
	int r;

	if (name[0] == '\0' || strlen(name) >= PG_NAME_MAX)
		return parser_fail(p, p->lineno, "key '%s': a user name is 1 to %d characters",
				   name, PG_NAME_MAX - 1);
	/* easily taken for a fallback that [users] does not have */
	if (strcmp(name, "*") == 0)
		return parser_fail(p, p->lineno,
				   "key '*': [users] has no fallback entry; set the key in "
				   "[pgrelay] or in [databases] instead");
	for (size_t i = 0; i < cfg->nusers; i++) {
		if (strcmp(cfg->users[i].name, name) == 0)
			return parser_fail(p, p->lineno,
					   "key '%s': duplicate user (first set on line %d)", name,
					   p->user_line[i]);
	}
	if (cfg->nusers == CFG_MAX_USERS)
		return parser_fail(p, p->lineno, "key '%s': too many users (at most %d)", name,
				   CFG_MAX_USERS);
	u = &cfg->users[cfg->nusers];
	memset(u, 0, sizeof(*u));
	strcpy(u->name, name);
	u->read_your_writes = -1;

	while ((r = opt_next(p, name, &s, &fields, seen, &f, val)) > 0) {
		switch (f) {
		case USER_RYW:
			if (!opt_parse_ryw(p, name, val, &u->read_your_writes))
				return 0;
			break;
		}
	}
	if (r < 0)
		return 0;
	p->user_line[cfg->nusers] = p->lineno;
	cfg->nusers++;
	return 1;
}

static int parser_handle(void *user, const char *section, const char *name, const char *value)
{
	Parser *p = user;

	(void)section; /* tracked by parser_read_line() instead */
	if (p->failed)
		return 0;
	if (!value)
		value = "";
	switch (p->kind) {
	case SEC_NONE:
		return parser_fail(p, p->lineno,
				   "key '%s': must be inside a section such as [pgrelay]", name);
	case SEC_PGRELAY:
		return handle_global(p, name, value);
	case SEC_NODE:
		return handle_node(p, name, value);
	case SEC_DATABASES:
		return handle_database(p, name, value);
	case SEC_USERS:
		return handle_user(p, name, value);
	}
	return 0;
}

/* ---- loading --------------------------------------------------------------- */

/* The index of a [pgrelay] key in cfg_keys[]; name must be there. */
static size_t key_index(const char *name)
{
	size_t i = 0;

	while (strcmp(cfg_keys[i].name, name) != 0)
		i++;
	return i;
}

/*
 * No function may be both read-only and writing: an entry of one list and
 * an entry of the other must not match the same call. Reported on the key
 * set later in the file.
 */
static bool parser_check_func_lists(Parser *p)
{
	const Config *cfg = p->cfg;
	int ro_line = p->key_line[key_index("read_only_functions")];
	int wr_line = p->key_line[key_index("write_functions")];
	bool ro_later = ro_line > wr_line;
	const char *later_key = ro_later ? "read_only_functions" : "write_functions";
	const char *earlier_key = ro_later ? "write_functions" : "read_only_functions";

	for (size_t i = 0; i < cfg->nread_only_funcs; i++) {
		for (size_t j = 0; j < cfg->nwrite_funcs; j++) {
			const CfgFunc *ro = &cfg->read_only_funcs[i], *wr = &cfg->write_funcs[j];
			char later[2 * 2 * PG_NAME_MAX + 8], earlier[sizeof(later)];

			if (!func_overlap(ro, wr))
				continue;
			func_format(ro_later ? ro : wr, later, sizeof(later));
			func_format(ro_later ? wr : ro, earlier, sizeof(earlier));
			if (strcmp(later, earlier) == 0)
				return parser_fail(p, ro_later ? ro_line : wr_line,
						   "key '%s': function '%s' is also listed in %s "
						   "(line %d)",
						   later_key, later, earlier_key,
						   ro_later ? wr_line : ro_line);
			return parser_fail(p, ro_later ? ro_line : wr_line,
					   "key '%s': function '%s' is also listed in %s (as '%s', "
					   "line %d)",
					   later_key, later, earlier_key, earlier,
					   ro_later ? wr_line : ro_line);
		}
	}
	return true;
}

/*
 * Makes the path in the [pgrelay] key `key` (a char[PATH_KEY_MAX] field of
 * the Config), when relative, relative to the directory of the
 * configuration file. A file name without a directory leaves it as it is.
 */
#define PATH_KEY_MAX 1024
_Static_assert(sizeof(((Config *)0)->auth_file) == PATH_KEY_MAX, "update PATH_KEY_MAX");
_Static_assert(sizeof(((Config *)0)->state_file) == PATH_KEY_MAX, "update PATH_KEY_MAX");

static bool parser_resolve_path(Parser *p, const char *key)
{
	size_t i = key_index(key);
	char *value = key_field(&cfg_keys[i], p->cfg);
	const char *slash = strrchr(p->name, '/');
	char path[PATH_KEY_MAX];
	int dirlen, r;

	if (value[0] == '\0' || value[0] == '/' || !slash)
		return true;
	dirlen = slash == p->name ? 0 : (int)(slash - p->name);
	r = snprintf(path, sizeof(path), "%.*s/%s", dirlen, p->name, value);
	if (r < 0 || (size_t)r >= sizeof(path))
		return parser_fail(p, p->key_line[i],
				   "key '%s': longer than %zu characters once made relative to "
				   "%.*s",
				   key, sizeof(path) - 1, dirlen ? dirlen : 1,
				   dirlen ? p->name : "/");
	memcpy(value, path, (size_t)r + 1);
	return true;
}

/* Whether failover could ever promote a node: a replica without promote = never. */
static bool failover_has_candidate(const Config *cfg)
{
	for (size_t i = 0; i < cfg->nnodes; i++) {
		if (cfg->nodes[i].role == ROLE_REPLICA && !cfg->nodes[i].never_promote)
			return true;
	}
	return false;
}

/* Checks that need the whole file; relative auth_file and state_file are resolved here. */
static bool parser_finish(Parser *p)
{
	Config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->nnodes; i++) {
		CfgNode *node = &cfg->nodes[i];

		for (int k = 0; k < NODE_ROLE; k++) {
			if (!p->node_key_line[i][k])
				return parser_fail(p, node->line,
						   "section 'node.%s': key '%s' is required",
						   node->name, node_key_names[k]);
		}
		/* role may come after weight in the section */
		if (!p->node_key_line[i][NODE_WEIGHT])
			node->weight = node->role == ROLE_MASTER ? 0 : 1;
	}
	if (cfg->nnodes == 0)
		return parser_fail(p, 0, "no [node.NAME] section: at least one node is required");
	if (!config_master(cfg))
		return parser_fail(p, 0, "no node has role = master");
	/*
	 * The replicas all stream from the master at once, so no two may share
	 * a slot. The master may share one with a replica (two nodes that take
	 * turns, configured alike): only one of them streams at a time.
	 */
	for (size_t j = 1; j < cfg->nnodes; j++) {
		const CfgNode *b = &cfg->nodes[j];

		for (size_t i = 0; i < j && b->role == ROLE_REPLICA && b->replication_slot[0];
		     i++) {
			const CfgNode *a = &cfg->nodes[i];

			if (a->role == ROLE_REPLICA &&
			    strcmp(a->replication_slot, b->replication_slot) == 0)
				return parser_fail(p, p->node_key_line[j][NODE_SLOT],
						   "key 'replication_slot': slot '%s' is already "
						   "used by replica '%s'; replicas streaming from "
						   "one master need a slot each",
						   b->replication_slot, a->name);
		}
	}
	/* without it no replica could ever be shown to be fresh enough for a read */
	if (cfg->route_reads && cfg->monitor_user[0] == '\0') {
		for (size_t i = 0; i < cfg->nnodes; i++) {
			if (cfg->nodes[i].role == ROLE_REPLICA)
				return parser_fail(
				    p, 0,
				    "key 'monitor_user': required when route_reads = "
				    "on and a replica is configured (the monitor "
				    "measures replica lag with it)");
		}
	}

	/*
	 * pg_promote() and repointing the replicas need a login; with every
	 * replica marked promote = never there is nothing to promote.
	 */
	if (cfg->failover && cfg->promote_user[0] == '\0' && cfg->monitor_user[0] == '\0' &&
	    failover_has_candidate(cfg))
		return parser_fail(p, 0,
				   "key 'promote_user': required when failover = on and a replica "
				   "is configured (set it or monitor_user)");

	if (!parser_check_func_lists(p))
		return false;
	if (cfg->auth_type != AUTH_TRUST && cfg->auth_file[0] == '\0')
		return parser_fail(p, 0, "key 'auth_file': required when auth_type is not trust");
	return parser_resolve_path(p, "auth_file") && parser_resolve_path(p, "state_file");
}

static Config *config_parse(const char *name, const char *text, size_t len, const CfgOverride *ov,
			    size_t nov, char *err, size_t errlen)
{
	Parser *p = xcalloc(1, sizeof(*p));
	Config *cfg = xcalloc(1, sizeof(*cfg));
	char why[512];
	int r;

	if (err && errlen)
		err[0] = '\0';
	cfg->path = xstrdup(name);
	for (size_t i = 0; i < NKEYS; i++) {
		if (!key_parse(&cfg_keys[i], cfg, cfg_keys[i].def, why, sizeof(why))) {
			err_set(err, errlen, name, 0, "key '%s': bad built-in default: %s",
				cfg_keys[i].name, why);
			goto fail;
		}
	}

	p->cfg = cfg;
	p->name = name;
	p->text = text;
	p->len = len;
	p->err = err;
	p->errlen = errlen;
	r = ini_parse_stream(parser_read_line, p, parser_handle, p);
	if (r < 0) {
		err_set(err, errlen, name, 0, "out of memory while parsing");
		goto fail;
	}
	/* inih keeps going after a syntax error; report whichever came first */
	if (r > 0 && (!p->failed || r < p->err_line)) {
		err_set(err, errlen, name, r,
			"syntax error: expected [section], key = value or a comment");
		goto fail;
	}
	if (p->failed)
		goto fail;
	/* SET from the admin console: after the file, validated with it */
	for (size_t k = 0; k < nov; k++) {
		int i = config_key_find(ov[k].key);
		if (i < 0) {
			err_set(err, errlen, name, 0, "SET %s: unknown key", ov[k].key);
			goto fail;
		}
		if (!key_parse(&cfg_keys[i], cfg, ov[k].value, why, sizeof(why))) {
			err_set(err, errlen, name, 0, "SET %s: %s", ov[k].key, why);
			goto fail;
		}
	}
	if (!parser_finish(p))
		goto fail;
	free(p);
	return cfg;
fail:
	free(p);
	config_free(cfg);
	return NULL;
}

Config *config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	return config_parse(name, text, strlen(text), NULL, 0, err, errlen);
}

Config *config_load_text(const char *name, const char *text, size_t len, const CfgOverride *ov,
			 size_t nov, char *err, size_t errlen)
{
	return config_parse(name, text, len, ov, nov, err, errlen);
}

char *config_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	return file_read_all(path, CFG_MAX_FILE_SIZE, len, err, errlen);
}

Config *config_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = file_read_all(path, CFG_MAX_FILE_SIZE, &len, err, errlen);
	Config *cfg;

	if (!text)
		return NULL;
	cfg = config_parse(path, text, len, NULL, 0, err, errlen);
	free(text);
	return cfg;
}

void config_free(Config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg);
}

const CfgNode *config_master(const Config *cfg)
{
	for (size_t i = 0; i < cfg->nnodes; i++) {
		if (cfg->nodes[i].role == ROLE_MASTER)
			return &cfg->nodes[i];
	}
	return NULL;
}

const CfgDatabase *config_find_database(const Config *cfg, const char *name)
{
	const CfgDatabase *fallback = NULL;

	for (size_t i = 0; i < cfg->ndatabases; i++) {
		if (strcmp(cfg->databases[i].name, name) == 0)
			return &cfg->databases[i];
		if (strcmp(cfg->databases[i].name, "*") == 0)
			fallback = &cfg->databases[i];
	}
	return fallback;
}

const CfgUser *config_find_user(const Config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nusers; i++) {
		if (strcmp(cfg->users[i].name, name) == 0)
			return &cfg->users[i];
	}
	return NULL;
}

RywMode config_ryw_mode(const Config *cfg, const char *database, const char *user)
{
	const CfgUser *u = user ? config_find_user(cfg, user) : NULL;
	const CfgDatabase *db = database ? config_find_database(cfg, database) : NULL;

	if (u && u->read_your_writes >= 0)
		return (RywMode)u->read_your_writes;
	if (db && db->read_your_writes >= 0)
		return (RywMode)db->read_your_writes;
	return (RywMode)cfg->read_your_writes;
}

const char *ryw_mode_name(RywMode m)
{
	return (unsigned)m < ARRAY_SIZE(ryw_names) ? ryw_names[m] : "?";
}

const char *no_fresh_policy_name(NoFreshPolicy p)
{
	return (unsigned)p < ARRAY_SIZE(no_fresh_names) ? no_fresh_names[p] : "?";
}

const char *auth_type_name(AuthType t)
{
	return (unsigned)t < AUTH__COUNT ? auth_type_names[t] : "?";
}

const char *node_role_name(NodeRole r)
{
	return (unsigned)r < ROLE__COUNT ? node_role_names[r] : "?";
}
