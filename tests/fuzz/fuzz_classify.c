/*
 * fuzz_classify.c - libFuzzer target for the statement classifier
 * (proxy/classify.c) and its lexer (proxy/sqllex.c). The input is SQL text;
 * it is lexed token by token, classified whole and statement by statement,
 * with and without standard_conforming_strings, and every answer is checked:
 * offsets inside the text, statements in order, classify_sql agreeing with
 * classify_next, a read staying a read when the string rules are known, and
 * the lookup callback getting sane names.
 */
#include "classify.h"
#include "sqllex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* Answers from the name's bytes, so every branch of the caller is taken. */
static FuncKind fuzz_lookup(const char *schema, size_t schema_len, const char *name,
			    size_t name_len, bool quoted, void *arg)
{
	unsigned h = (unsigned)name_len + (quoted ? 7u : 0u);

	CHECK(arg == NULL);
	CHECK(name != NULL && name_len < PG_NAME_MAX && name[name_len] == '\0');
	CHECK(schema == NULL ? schema_len == 0
			     : (schema_len < PG_NAME_MAX && schema[schema_len] == '\0'));
	for (size_t i = 0; i < name_len; i++)
		h = h * 31u + (unsigned char)name[i];
	return (FuncKind)(h % 3u);
}

static void check_info(const StmtInfo *si, size_t len)
{
	CHECK((unsigned)si->cls < SC__COUNT);
	CHECK((unsigned)si->reason < CR__COUNT);
	CHECK(classify_class_name(si->cls) != NULL);
	CHECK(classify_reason_name(si->reason) != NULL);
	CHECK((uint64_t)si->stmt_off + si->stmt_len <= len);
	CHECK((uint64_t)si->guc_off + si->guc_len <= len);
	CHECK((uint64_t)si->func_off + si->func_len <= len);
	if (si->cls == SC_EMPTY)
		CHECK(si->nstmts == 0);
	if (si->flags & SF_TRUNCATED)
		CHECK(si->cls == SC_WRITE && si->reason == CR_MALFORMED);
	if (si->cls == SC_READ)
		CHECK(!(si->flags & (SF_TRUNCATED | SF_HAS_PIN)));
}

static void fuzz_lexer(const char *sql, uint32_t len)
{
	SqlLexer lx;
	uint32_t end = 0;

	sqllex_init(&lx, sql, len, 0, false);
	for (;;) {
		const SqlTok *p = sqllex_peek(&lx);
		SqlTok t = sqllex_next(&lx);

		CHECK(p->kind == t.kind && p->off == t.off && p->len == t.len);
		CHECK(t.off >= end && (uint64_t)t.off + t.len <= len);
		end = t.off + t.len;
		if (t.kind == TK_EOF) {
			CHECK(t.len == 0 && t.off == len);
			break;
		}
		CHECK(t.len > 0);
		if (t.kind == TK_ERROR) {
			CHECK(end == len);
			CHECK(sqllex_next(&lx).kind == TK_EOF);
			break;
		}
		if (t.kind == TK_WORD && t.kw != KW_NONE)
			CHECK(sqllex_kw_name((Kw)t.kw) != NULL);
	}
}

static void fuzz_classify(const char *sql, size_t len, const ClassifyOptions *o, StmtInfo *all)
{
	ClassifyIter it;
	StmtInfo one, again, first = {0}, first_nonread = {0};
	uint32_t n = 0;
	bool found = false, malformed = false;
	size_t prev_pos = 0, prev_end = 0;

	classify_sql(sql, len, o, all);
	check_info(all, len);
	classify_sql(sql, len, o, &again);
	CHECK(memcmp(all, &again, sizeof(again)) == 0); /* deterministic, no hidden state */

	classify_iter_init(&it, sql, len);
	while (classify_next(&it, o, &one)) {
		check_info(&one, len);
		CHECK(one.nstmts == 1);
		CHECK(!(one.flags & SF_MULTI));
		CHECK(it.pos > prev_pos && it.pos <= len);
		CHECK(one.stmt_off >= prev_end && one.stmt_off < it.pos);
		CHECK(one.cls != SC_EMPTY);
		prev_pos = it.pos;
		prev_end = one.stmt_off + one.stmt_len;
		if (n == 0)
			first = one;
		if (!found && one.cls != SC_READ) {
			first_nonread = one;
			found = true;
		}
		if (one.reason == CR_MALFORMED)
			malformed = true;
		n++;
		CHECK(n <= len);
	}
	CHECK(!classify_next(&it, o, &one));
	CHECK(all->nstmts == n);
	CHECK((all->flags & SF_MULTI) == (n > 1 ? SF_MULTI : 0u));
	if (n == 0) {
		CHECK(all->cls == SC_EMPTY);
	} else if (malformed) {
		CHECK(all->reason == CR_MALFORMED);
	} else if (found) {
		CHECK(all->cls == first_nonread.cls && all->reason == first_nonread.reason);
		CHECK(all->stmt_off == first_nonread.stmt_off);
	} else {
		CHECK(all->cls == SC_READ && first.cls == SC_READ);
		CHECK(all->stmt_off == first.stmt_off);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sql = (const char *)data;
	ClassifyOptions unknown = {.lookup = fuzz_lookup};
	ClassifyOptions standard = {.lookup = fuzz_lookup, .std_strings = true};
	ClassifyOptions rels = {.lookup = fuzz_lookup, .rel_lookup = fuzz_lookup};
	StmtInfo a, b, none, r;

	if (size > (1u << 20))
		return 0;
	fuzz_lexer(sql, (uint32_t)size);
	fuzz_classify(sql, size, &unknown, &a);
	fuzz_classify(sql, size, &standard, &b);
	/* knowing the string rules can only remove doubts */
	if (a.cls == SC_READ)
		CHECK(b.cls == SC_READ);
	CHECK(a.nstmts == b.nstmts || a.cls != SC_READ);
	/* without a lookup, a read never relies on a user function */
	classify_sql(sql, size, NULL, &none);
	check_info(&none, size);
	if (none.cls == SC_READ)
		CHECK(a.cls == SC_READ);
	/* asking about relations can only remove reads */
	fuzz_classify(sql, size, &rels, &r);
	if (r.cls == SC_READ)
		CHECK(a.cls == SC_READ);
	return 0;
}
