/*
 * oracle.c - differential test of the statement classifier (proxy/classify.c)
 * against PostgreSQL's own grammar: libpg_query parses every statement of the
 * regression suite, and a verdict drawn from the parse tree (read, or not a
 * read and why) is compared with classify_sql(). The classifier may call a
 * read "not a read" (it is conservative); it must never call a statement a
 * read when the tree shows a write, a lock, DDL, SELECT INTO, or a call of a
 * function that is not known to be read-only. Exits 1 when it does.
 *
 * Usage: oracle [--funcs FILE] [--misses N] [--skipped] [--dump FILE] [--sql TEXT] [SQLDIR]
 *   --funcs   read-only built-in function names (readonly_funcs.txt)
 *   --misses  print N examples for each reason the classifier loses reads
 *   --sql     judge one statement and print both verdicts (no SQLDIR needed)
 *   --skipped print the statements libpg_query cannot parse
 *   --dump    write every extracted statement to FILE (separated by blank-line + "----")
 */
#include "classify.h"
#include "extract.h"
#include "pgjson.h"

#include <pg_query.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- read-only functions ------------------------------------------------- */

typedef struct FuncSet {
	char **names; /* sorted */
	size_t n;
} FuncSet;

/*
 * pg_proc marks these STABLE, yet they assign a transaction ID: the first
 * call in a transaction is a write (and fails on a standby).
 */
static const char *const orc_func_deny[] = {"txid_current", "pg_current_xact_id", NULL};

/* VOLATILE built-ins that change nothing: reading them on a replica is harmless. */
/* clang-format off */
static const char *const orc_func_extra[] = {
	"random", "clock_timestamp", "timeofday", "gen_random_uuid", "pg_sleep",
	"pg_sleep_for", "pg_sleep_until", "pg_relation_size", "pg_table_size",
	"pg_indexes_size", "pg_total_relation_size", "pg_database_size", "pg_tablespace_size",
	"pg_is_in_recovery", "pg_partition_tree", "pg_partition_ancestors", "pg_lock_status",
	"pg_blocking_pids", "pg_jit_available", "current_query", "pg_xact_status",
	"txid_status", "pg_xact_commit_timestamp", NULL,
};
/* clang-format on */

static int orc_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool funcs_load(FuncSet *fs, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f) {
		perror(path);
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t l = strcspn(line, "\r\n");
		line[l] = '\0';
		if (l == 0 || line[0] == '#')
			continue;
		bool denied = false;
		for (int i = 0; orc_func_deny[i]; i++)
			denied |= strcmp(line, orc_func_deny[i]) == 0;
		if (denied)
			continue;
		if (fs->n == cap) {
			cap = cap ? cap * 2 : 1024;
			fs->names = pgjson_realloc(fs->names, cap * sizeof(char *));
		}
		fs->names[fs->n++] = strdup(line);
	}
	fclose(f);
	for (int i = 0; orc_func_extra[i]; i++) {
		if (fs->n == cap) {
			cap = cap ? cap * 2 : 64;
			fs->names = pgjson_realloc(fs->names, cap * sizeof(char *));
		}
		fs->names[fs->n++] = strdup(orc_func_extra[i]);
	}
	qsort(fs->names, fs->n, sizeof(char *), orc_cmp_str);
	if (fs->n < 1000) {
		fprintf(stderr, "oracle: %s: only %zu function names\n", path, fs->n);
		return false;
	}
	return true;
}

static bool funcs_has(const FuncSet *fs, const char *name)
{
	return bsearch(&name, fs->names, fs->n, sizeof(char *), orc_cmp_str) != NULL;
}

/* ---- the oracle's verdict ------------------------------------------------ */

/* Why the oracle says "not a read", worst first. */
typedef enum OracleCat {
	OC_READ,
	OC_FUNCTION, /* calls a function not known to be read-only */
	OC_INTO,     /* SELECT ... INTO */
	OC_LOCK,     /* FOR UPDATE / SHARE ..., LOCK */
	OC_WRITE,    /* INSERT / UPDATE / DELETE / MERGE, at any depth */
	OC_DDL,
	OC_COPY_FROM,
	OC_COPY_FILE, /* COPY ... TO a server file or program: a side effect */
	OC_CURSOR,    /* FETCH / MOVE / CLOSE (DECLARE is judged by its query) */
	OC_PREPARED,  /* PREPARE / EXECUTE / DEALLOCATE, EXPLAIN EXECUTE */
	OC_TXN,
	OC_SET,
	OC_CALL, /* CALL, DO */
	OC_MAINTENANCE,
	OC_UTILITY, /* any other utility statement */
	OC__COUNT
} OracleCat;

static const char *const orc_cat_names[OC__COUNT] = {
    "read",	   "function",	"select-into",	"lock",	       "write",
    "ddl",	   "copy-from", "copy-to-file", "cursor",      "prepared",
    "transaction", "set",	"call/do",	"maintenance", "utility"};

typedef struct Verdict {
	OracleCat cat;
	char detail[128];	 /* node type or function name */
	bool explain_only_write; /* EXPLAIN without ANALYZE of a statement that is not a read */
} Verdict;

static void verdict_set(Verdict *v, OracleCat cat, const char *detail)
{
	/* keep the worst; the first found among equals */
	if (cat > v->cat) {
		v->cat = cat;
		snprintf(v->detail, sizeof(v->detail), "%s", detail ? detail : "");
	}
}

static void oracle_check_func(const FuncSet *fs, const JNode *fc, Verdict *v)
{
	const JNode *names = pgjson_get(fc, "funcname");
	const char *part[3] = {NULL, NULL, NULL};
	size_t np = 0;
	char full[128];

	if (!names || names->type != J_ARR)
		return;
	for (size_t i = 0; i < names->n && np < 3; i++) {
		const JNode *body;
		const char *t = pgjson_node_type(names->kids[i], &body);
		const JNode *sv = t && strcmp(t, "String") == 0 ? pgjson_get(body, "sval") : NULL;
		part[np++] = sv && sv->type == J_STR ? sv->str : "?";
	}
	if (np == 0)
		return;
	const char *name = part[np - 1];
	const char *schema = np >= 2 ? part[np - 2] : NULL;
	snprintf(full, sizeof(full), "%s%s%s", schema ? schema : "", schema ? "." : "", name);
	if ((schema == NULL || strcmp(schema, "pg_catalog") == 0) && funcs_has(fs, name))
		return;
	verdict_set(v, OC_FUNCTION, full);
}

/* Walks a read candidate's whole tree for anything that makes it not a read. */
static void oracle_walk(const FuncSet *fs, const JNode *nd, Verdict *v)
{
	if (!nd)
		return;
	if (nd->type == J_ARR) {
		for (size_t i = 0; i < nd->n; i++)
			oracle_walk(fs, nd->kids[i], v);
		return;
	}
	if (nd->type != J_OBJ)
		return;
	for (size_t i = 0; i < nd->n; i++) {
		const char *k = nd->keys[i];
		if (strcmp(k, "InsertStmt") == 0 || strcmp(k, "UpdateStmt") == 0 ||
		    strcmp(k, "DeleteStmt") == 0 || strcmp(k, "MergeStmt") == 0)
			verdict_set(v, OC_WRITE, k);
		else if (strcmp(k, "lockingClause") == 0)
			verdict_set(v, OC_LOCK, "lockingClause");
		else if (strcmp(k, "intoClause") == 0)
			verdict_set(v, OC_INTO, "intoClause");
		else if (strcmp(k, "FuncCall") == 0)
			oracle_check_func(fs, nd->kids[i], v);
		oracle_walk(fs, nd->kids[i], v);
	}
}

/* A DefElem's boolean value as EXPLAIN reads it (no value = true). */
static bool oracle_option_true(const JNode *defelem)
{
	const JNode *arg = pgjson_get(defelem, "arg"), *body;
	const char *t = pgjson_node_type(arg, &body);

	if (!t)
		return true;
	if (strcmp(t, "String") == 0) {
		const JNode *sv = pgjson_get(body, "sval");
		const char *s = sv && sv->type == J_STR ? sv->str : "";
		return !(strcasecmp(s, "false") == 0 || strcasecmp(s, "off") == 0 ||
			 strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0);
	}
	if (strcmp(t, "Integer") == 0)
		return pgjson_get(body, "ival") != NULL; /* 0 is omitted */
	if (strcmp(t, "Boolean") == 0) {
		const JNode *b = pgjson_get(body, "boolval");
		return b && b->type == J_BOOL && b->boolean;
	}
	return true;
}

static bool oracle_name_in(const char *type, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(type, list[i]) == 0)
			return true;
	return false;
}

/* stmt: {"NodeType": {...}}, the statement itself. */
static void oracle_judge(const FuncSet *fs, const JNode *stmt, Verdict *v)
{
	static const char *const cursor[] = {"FetchStmt", "ClosePortalStmt", NULL};
	static const char *const prepared[] = {"PrepareStmt", "ExecuteStmt", "DeallocateStmt",
					       NULL};
	static const char *const maintenance[] = {"VacuumStmt",		"ClusterStmt",
						  "ReindexStmt",	"CheckPointStmt",
						  "RefreshMatViewStmt", NULL};
	static const char *const utility[] = {
	    "ListenStmt",	  "UnlistenStmt", "NotifyStmt", "DiscardStmt",	   "LoadStmt",
	    "ConstraintsSetStmt", "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", NULL};
	const JNode *body;
	const char *type = pgjson_node_type(stmt, &body);

	memset(v, 0, sizeof(*v));
	if (!type) {
		verdict_set(v, OC_UTILITY, "?");
		return;
	}
	if (strcmp(type, "SelectStmt") == 0) {
		oracle_walk(fs, body, v);
	} else if (strcmp(type, "VariableShowStmt") == 0) {
		/* SHOW: a read */
	} else if (strcmp(type, "ExplainStmt") == 0) {
		const JNode *opts = pgjson_get(body, "options");
		bool analyze = false;
		for (size_t i = 0; opts && opts->type == J_ARR && i < opts->n; i++) {
			const JNode *de;
			const char *t = pgjson_node_type(opts->kids[i], &de);
			const JNode *name = t ? pgjson_get(de, "defname") : NULL;
			if (name && name->type == J_STR && strcmp(name->str, "analyze") == 0)
				analyze = oracle_option_true(de);
		}
		Verdict inner;
		oracle_judge(fs, pgjson_get(body, "query"), &inner);
		const char *it = pgjson_node_type(pgjson_get(body, "query"), NULL);
		if (it && strcmp(it, "ExecuteStmt") == 0) {
			verdict_set(v, OC_PREPARED, "ExplainStmt(ExecuteStmt)");
		} else if (analyze) {
			*v = inner; /* EXPLAIN ANALYZE runs the statement */
		} else if (inner.cat != OC_READ) {
			/* planned, never run: not a write, but counted apart */
			v->explain_only_write = true;
		}
	} else if (strcmp(type, "CopyStmt") == 0) {
		const JNode *from = pgjson_get(body, "is_from");
		const JNode *prog = pgjson_get(body, "is_program");
		if (from && from->type == J_BOOL && from->boolean)
			verdict_set(v, OC_COPY_FROM, type);
		else if (pgjson_get(body, "filename") ||
			 (prog && prog->type == J_BOOL && prog->boolean))
			verdict_set(v, OC_COPY_FILE, type);
		else if (pgjson_get(body, "query"))
			oracle_judge(fs, pgjson_get(body, "query"), v);
	} else if (strcmp(type, "DeclareCursorStmt") == 0) {
		/* DECLARE c CURSOR FOR query: creating a cursor writes nothing */
		oracle_judge(fs, pgjson_get(body, "query"), v);
	} else if (strcmp(type, "InsertStmt") == 0 || strcmp(type, "UpdateStmt") == 0 ||
		   strcmp(type, "DeleteStmt") == 0 || strcmp(type, "MergeStmt") == 0) {
		verdict_set(v, OC_WRITE, type);
	} else if (strcmp(type, "LockStmt") == 0) {
		verdict_set(v, OC_LOCK, type);
	} else if (strcmp(type, "TransactionStmt") == 0) {
		verdict_set(v, OC_TXN, type);
	} else if (strcmp(type, "VariableSetStmt") == 0) {
		verdict_set(v, OC_SET, type);
	} else if (strcmp(type, "CallStmt") == 0 || strcmp(type, "DoStmt") == 0) {
		verdict_set(v, OC_CALL, type);
	} else if (oracle_name_in(type, cursor)) {
		verdict_set(v, OC_CURSOR, type);
	} else if (oracle_name_in(type, prepared)) {
		verdict_set(v, OC_PREPARED, type);
	} else if (oracle_name_in(type, maintenance)) {
		verdict_set(v, OC_MAINTENANCE, type);
	} else if (oracle_name_in(type, utility)) {
		verdict_set(v, OC_UTILITY, type);
	} else {
		/* CREATE / ALTER / DROP / GRANT / COMMENT / TRUNCATE / ... */
		verdict_set(v, OC_DDL, type);
	}
}

/*
 * Parses one statement's text and judges it. Returns false when libpg_query
 * cannot parse it. Several statements in the text: a read only if all are.
 */
static bool oracle_judge_text(const FuncSet *fs, const char *text, Verdict *v, int *nstmts)
{
	PgQueryParseResult r = pg_query_parse(text);
	JNode *root = NULL;
	bool ok = false;

	memset(v, 0, sizeof(*v));
	*nstmts = 0;
	if (!r.error)
		root = pgjson_parse(r.parse_tree);
	const JNode *stmts = pgjson_get(root, "stmts");
	if (root && stmts && stmts->type == J_ARR) {
		ok = true;
		for (size_t i = 0; i < stmts->n; i++) {
			Verdict one;
			oracle_judge(fs, pgjson_get(stmts->kids[i], "stmt"), &one);
			(*nstmts)++;
			if (one.explain_only_write)
				v->explain_only_write = true;
			if (one.cat != OC_READ && (v->cat == OC_READ || one.cat > v->cat))
				*v = one;
		}
	} else if (!r.error && !root) {
		fprintf(stderr, "oracle: cannot read libpg_query's JSON for: %s\n", text);
		exit(2);
	}
	pgjson_free(root);
	pg_query_free_parse_result(r);
	return ok;
}

/* ---- the comparison ------------------------------------------------------ */

static void orc_print_sql(FILE *f, const char *s, size_t max)
{
	size_t n = 0;
	bool blank = false;

	for (; *s && n < max; s++) {
		unsigned char c = (unsigned char)*s;
		if (isspace(c)) {
			if (!blank && n)
				fputc(' ', f), n++;
			blank = true;
			continue;
		}
		blank = false;
		fputc(c, f);
		n++;
	}
	if (*s)
		fputs(" ...", f);
}

static void orc_classify(const char *text, size_t len, StmtInfo *info)
{
	ClassifyOptions opt;

	memset(&opt, 0, sizeof(opt)); /* built-in lists only: unknown functions are not reads */
	classify_sql(text, len, &opt, info);
}

static void orc_print_ours(FILE *f, const char *text, const StmtInfo *info)
{
	fprintf(f, "%s/%s", classify_class_name(info->cls), classify_reason_name(info->reason));
	if (info->func_len && info->func_off + info->func_len <= strlen(text))
		fprintf(f, " (%.*s)", (int)info->func_len, text + info->func_off);
}

typedef struct Counts {
	size_t stmts, parsed, skipped, skipped_var, skipped_ours_read;
	size_t oracle_reads, our_reads, both, violations, oracle_only;
	size_t explain_only_write, explain_only_write_ours;
	size_t queries_multi, multi_parsed, multi_oracle_reads, multi_our_reads, multi_violations;
	size_t variants, variant_violations;
	size_t cat[OC__COUNT];
	size_t miss_reason[CR__COUNT];
	size_t our_reason_read[CR__COUNT];
} Counts;

static int orc_run_one(const FuncSet *fs, const char *sql)
{
	Verdict v;
	StmtInfo info;
	int n;

	bool ok = oracle_judge_text(fs, sql, &v, &n);
	orc_classify(sql, strlen(sql), &info);
	printf("oracle: %s", ok ? orc_cat_names[v.cat] : "cannot parse");
	if (ok && v.detail[0])
		printf(" (%s)", v.detail);
	if (v.explain_only_write)
		printf(", explain without analyze of a non-read");
	printf("\nours:   ");
	orc_print_ours(stdout, sql, &info);
	printf("\n");
	return ok && v.cat != OC_READ && info.cls == SC_READ ? 1 : 0;
}

/*
 * The same statement framed differently must not turn into a read: without
 * its semicolon, after a comment or blanks, before a trailing comment, and
 * inside a multi-statement text before or after SELECT 1 and a read of the
 * corpus (rd: a lexer state left over by a string, comment or dollar quote
 * in it must not hide the statement).
 */
static void orc_check_variants(const ExtractStmt *st, const Verdict *v, const ExtractStmt *rd,
			       Counts *c)
{
	static const char *const names[] = {
	    "no semicolon",   "leading comment", "leading blanks", "trailing comment",
	    "after SELECT 1", "before SELECT 1", "after a read",   "before a read"};
	size_t len = st->len;
	bool semi = len > 0 && st->text[len - 1] == ';';
	size_t body = semi ? len - 1 : len;
	size_t rlen = rd ? rd->len : 0;
	char *buf = pgjson_alloc(len + rlen + 64);

	for (int k = 0; k < (int)(sizeof(names) / sizeof(names[0])); k++) {
		const char *pre = "", *post = "";
		size_t prelen, postlen;
		switch (k) {
		case 0:
			if (!semi)
				continue;
			break;
		case 1:
			pre = "/* oracle */ ";
			break;
		case 2:
			pre = "\n\t  \r\n";
			break;
		case 3:
			post = " -- oracle\n";
			break;
		case 4:
			pre = "SELECT 1;\n";
			break;
		case 5:
			post = "\nSELECT 1;";
			break;
		case 6:
		case 7:
			if (!rd)
				continue;
			break;
		}
		size_t n = 0;
		if (k == 6) { /* the read, then ";" on its own line (it may end in a comment) */
			memcpy(buf, rd->text, rlen);
			n = rlen;
			if (!(rlen && rd->text[rlen - 1] == ';'))
				buf[n++] = '\n', buf[n++] = ';';
			buf[n++] = '\n';
		}
		prelen = strlen(pre);
		memcpy(buf + n, pre, prelen);
		n += prelen;
		memcpy(buf + n, st->text, body);
		n += body;
		if (k >= 4 && !semi)
			buf[n++] = '\n'; /* the text may end in a -- comment */
		if (k != 0 && (semi || k >= 4))
			buf[n++] = ';';
		postlen = strlen(post);
		memcpy(buf + n, post, postlen);
		n += postlen;
		if (k == 7) {
			buf[n++] = '\n';
			memcpy(buf + n, rd->text, rlen);
			n += rlen;
		}
		buf[n] = '\0';

		StmtInfo info;
		orc_classify(buf, n, &info);
		c->variants++;
		if (info.cls == SC_READ) {
			c->variant_violations++;
			printf("VIOLATION (%s) %s:%d: oracle: %s (%s), ours: ", names[k], st->file,
			       st->line, orc_cat_names[v->cat], v->detail);
			orc_print_ours(stdout, buf, &info);
			printf("\n    ");
			orc_print_sql(stdout, buf, 400);
			printf("\n");
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	const char *funcs_path = "tests/classify/readonly_funcs.txt";
	const char *dir = NULL, *one_sql = NULL;
	long misses = 0;
	bool list_skipped = false;
	const char *dump_path = NULL;
	FuncSet fs = {0};
	ExtractSet set = {0};
	Counts c = {0};
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--funcs") == 0 && i + 1 < argc)
			funcs_path = argv[++i];
		else if (strcmp(argv[i], "--misses") == 0 && i + 1 < argc)
			misses = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--skipped") == 0)
			list_skipped = true;
		else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
			dump_path = argv[++i];
		else if (strcmp(argv[i], "--sql") == 0 && i + 1 < argc)
			one_sql = argv[++i];
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr,
				"usage: %s [--funcs FILE] [--misses N] [--skipped] [--dump FILE] "
				"[--sql TEXT] [SQLDIR]\n",
				argv[0]);
			return 2;
		}
	}
	if (!funcs_load(&fs, funcs_path))
		return 2;
	if (one_sql)
		return orc_run_one(&fs, one_sql);
	if (!dir) {
		fprintf(stderr, "oracle: no SQLDIR given\n");
		return 2;
	}
	if (!extract_load_dir(dir, &set, err, sizeof(err))) {
		fprintf(stderr, "oracle: %s\n", err);
		return 2;
	}

	if (dump_path) {
		FILE *f = fopen(dump_path, "w");
		if (!f) {
			perror(dump_path);
			return 2;
		}
		for (size_t i = 0; i < set.nstmts; i++)
			fprintf(f, "-- %s:%d\n%s\n----\n", set.stmts[i].file, set.stmts[i].line,
				set.stmts[i].text);
		fclose(f);
	}

	/* the oracle's verdicts first: the variants pair non-reads with reads */
	Verdict *verdicts = pgjson_alloc(set.nstmts * sizeof(*verdicts));
	bool *parsed = pgjson_alloc(set.nstmts * sizeof(*parsed));
	size_t *reads = pgjson_alloc(set.nstmts * sizeof(*reads)), nreads = 0;
	for (size_t i = 0; i < set.nstmts; i++) {
		int n;
		parsed[i] = oracle_judge_text(&fs, set.stmts[i].text, &verdicts[i], &n) && n > 0;
		if (parsed[i] && verdicts[i].cat == OC_READ)
			reads[nreads++] = i;
	}

	/* statement by statement */
	for (size_t i = 0; i < set.nstmts; i++) {
		const ExtractStmt *st = &set.stmts[i];
		const Verdict v = verdicts[i];
		StmtInfo info;

		c.stmts++;
		orc_classify(st->text, st->len, &info);
		if (!parsed[i]) {
			c.skipped++;
			if (st->placeholder || st->literal_var)
				c.skipped_var++;
			if (info.cls == SC_READ)
				c.skipped_ours_read++;
			if (list_skipped) {
				printf("skipped %s:%d%s [ours: ", st->file, st->line,
				       st->placeholder || st->literal_var ? " (psql variable)"
									  : "");
				orc_print_ours(stdout, st->text, &info);
				printf("]: ");
				orc_print_sql(stdout, st->text, 200);
				printf("\n");
			}
			continue;
		}
		c.parsed++;
		c.cat[v.cat]++;
		bool oread = v.cat == OC_READ, wread = info.cls == SC_READ;
		c.oracle_reads += oread;
		c.our_reads += wread;
		if (wread && info.reason < CR__COUNT)
			c.our_reason_read[info.reason]++;
		if (v.explain_only_write) {
			c.explain_only_write++;
			c.explain_only_write_ours += wread;
		}
		if (oread && wread) {
			c.both++;
		} else if (wread) {
			c.violations++;
			printf("VIOLATION %s:%d: oracle: %s (%s), ours: ", st->file, st->line,
			       orc_cat_names[v.cat], v.detail);
			orc_print_ours(stdout, st->text, &info);
			printf("\n    ");
			orc_print_sql(stdout, st->text, 400);
			printf("\n");
		} else if (oread) {
			c.oracle_only++;
			if (info.reason < CR__COUNT) {
				if ((long)c.miss_reason[info.reason] < misses) {
					printf("miss %s:%d [%s] ", st->file, st->line,
					       classify_reason_name(info.reason));
					if (info.func_len &&
					    info.func_off + info.func_len <= st->len)
						printf("(%.*s) ", (int)info.func_len,
						       st->text + info.func_off);
					orc_print_sql(stdout, st->text, 200);
					printf("\n");
				}
				c.miss_reason[info.reason]++;
			}
		}
		if (!oread)
			orc_check_variants(
			    st, &v, nreads ? &set.stmts[reads[(i * 7919) % nreads]] : NULL, &c);
	}

	/* queries that hold several statements (joined with \;), as psql sends them */
	for (size_t q = 0; q < set.nqueries; q++) {
		const ExtractQuery *eq = &set.queries[q];
		if (eq->nstmts < 2)
			continue;
		c.queries_multi++;
		Verdict v = {0};
		bool all_parsed = true;
		for (int k = 0; k < eq->nstmts; k++) {
			Verdict one;
			int n;
			const ExtractStmt *st = &set.stmts[eq->first_stmt + k];
			if (!oracle_judge_text(&fs, st->text, &one, &n) || n == 0)
				all_parsed = false;
			else if (one.cat != OC_READ && (v.cat == OC_READ || one.cat > v.cat))
				v = one;
		}
		if (!all_parsed)
			continue;
		StmtInfo info;
		orc_classify(eq->text, eq->len, &info);
		c.multi_parsed++;
		c.multi_oracle_reads += v.cat == OC_READ;
		c.multi_our_reads += info.cls == SC_READ;
		if (v.cat != OC_READ && info.cls == SC_READ) {
			c.multi_violations++;
			printf("VIOLATION (multi-statement query) %s:%d: oracle: %s (%s), ours: ",
			       eq->file, eq->line, orc_cat_names[v.cat], v.detail);
			orc_print_ours(stdout, eq->text, &info);
			printf("\n    ");
			orc_print_sql(stdout, eq->text, 400);
			printf("\n");
		}
	}

	printf("\nclassify-oracle: %zu files, %zu statements (psql emulation: %zu meta-commands "
	       "dropped, %zu in-line COPY blocks / %zu lines skipped, %zu \\copy sent as COPY, "
	       "variables: %zu substituted, %zu unknown -> placeholder, %zu left as written)\n",
	       set.nfiles, c.stmts, set.meta_commands, set.copy_blocks, set.copy_lines,
	       set.psql_copy, set.var_substituted, set.var_placeholders, set.var_literal);
	printf("  parsed by libpg_query:   %zu\n", c.parsed);
	printf("  skipped (do not parse):  %zu (%zu with a psql variable; the classifier calls %zu "
	       "of them a read)\n",
	       c.skipped, c.skipped_var, c.skipped_ours_read);
	printf("  oracle reads:            %zu\n", c.oracle_reads);
	printf("  classifier reads:        %zu\n", c.our_reads);
	printf("  both read:               %zu\n", c.both);
	printf("  classifier read, oracle not (VIOLATIONS): %zu\n", c.violations);
	printf("  oracle read, classifier not (conservative): %zu\n", c.oracle_only);
	printf("  EXPLAIN without ANALYZE of a non-read (oracle: read, never run): %zu, "
	       "classifier reads %zu\n",
	       c.explain_only_write, c.explain_only_write_ours);
	printf("  oracle verdicts:");
	for (int k = 0; k < OC__COUNT; k++)
		if (c.cat[k])
			printf(" %s %zu", orc_cat_names[k], c.cat[k]);
	printf("\n  classifier reads by reason:");
	for (int k = 0; k < CR__COUNT; k++)
		if (c.our_reason_read[k])
			printf(" %s %zu", classify_reason_name((ClassReason)k),
			       c.our_reason_read[k]);
	printf("\n  multi-statement queries: %zu (%zu parse), oracle reads %zu, classifier reads "
	       "%zu, violations %zu\n",
	       c.queries_multi, c.multi_parsed, c.multi_oracle_reads, c.multi_our_reads,
	       c.multi_violations);

	printf("  reframed non-reads (no ';', comments, blanks, next to SELECT 1 or a read): %zu, "
	       "violations %zu\n",
	       c.variants, c.variant_violations);

	/* where the classifier loses reads: top 20 reasons */
	printf("  oracle reads the classifier does not call reads, by its reason:\n");
	for (int shown = 0; shown < 20; shown++) {
		int best = -1;
		for (int k = 0; k < CR__COUNT; k++)
			if (c.miss_reason[k] &&
			    (best < 0 || c.miss_reason[k] > c.miss_reason[best]))
				best = k;
		if (best < 0)
			break;
		printf("    %-20s %zu\n", classify_reason_name((ClassReason)best),
		       c.miss_reason[best]);
		c.miss_reason[best] = 0;
	}

	size_t failed = c.violations + c.multi_violations + c.variant_violations;
	printf("classify-oracle: %zu passed, %zu failed\n",
	       c.parsed + c.multi_parsed + c.variants - failed, failed);
	free(verdicts);
	free(parsed);
	free(reads);
	extract_free_set(&set);
	for (size_t i = 0; i < fs.n; i++)
		free(fs.names[i]);
	free(fs.names);
	pg_query_exit();
	return failed ? 1 : 0;
}
