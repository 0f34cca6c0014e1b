/*
 * session.c - proxy-owned session state (session.h): an ordered list of
 * SET statements keyed by parameter, and a chained hash table of named
 * prepared statements, each change bumping a version.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#define SESSION_BUCKETS_MIN 16

void session_init(SessionState *s)
{
	memset(s, 0, sizeof(*s));
}

static void guc_free_all(SessionState *s)
{
	for (size_t i = 0; i < s->ngucs; i++) {
		s->bytes -= s->gucs[i].stmt_len;
		free(s->gucs[i].stmt);
	}
	s->ngucs = 0;
}

void session_free(SessionState *s)
{
	guc_free_all(s);
	free(s->gucs);
	session_stmt_clear(s);
	free(s->buckets);
	memset(s, 0, sizeof(*s));
}

static size_t guc_index(const SessionState *s, const char *name)
{
	for (size_t i = 0; i < s->ngucs; i++)
		if (strcmp(s->gucs[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

const SessionGuc *session_guc_get(const SessionState *s, const char *name)
{
	size_t i = guc_index(s, name);
	return i == SIZE_MAX ? NULL : &s->gucs[i];
}

bool session_guc_set(SessionState *s, const char *name, const char *stmt, size_t stmt_len,
		     uint32_t flags)
{
	size_t i = guc_index(s, name);
	char *copy;

	if (strlen(name) >= PG_NAME_MAX || stmt_len == 0)
		return false;
	copy = malloc(stmt_len + 1);
	if (!copy)
		return false;
	memcpy(copy, stmt, stmt_len);
	copy[stmt_len] = '\0';
	if (i == SIZE_MAX) {
		if (s->ngucs == s->gucs_cap) {
			size_t cap = s->gucs_cap ? s->gucs_cap * 2 : 8;
			SessionGuc *g = realloc(s->gucs, cap * sizeof(*g));
			if (!g) {
				free(copy);
				return false;
			}
			s->gucs = g;
			s->gucs_cap = cap;
		}
		i = s->ngucs++;
		strcpy(s->gucs[i].name, name);
	} else {
		SessionGuc g = s->gucs[i];

		s->bytes -= g.stmt_len;
		free(g.stmt);
		memmove(&s->gucs[i], &s->gucs[i + 1], (s->ngucs - i - 1) * sizeof(*s->gucs));
		i = s->ngucs - 1;
		strcpy(s->gucs[i].name, g.name);
	}
	s->gucs[i].flags = flags;
	s->gucs[i].stmt = copy;
	s->gucs[i].stmt_len = stmt_len;
	s->bytes += stmt_len;
	s->guc_version++;
	return true;
}

void session_guc_reset(SessionState *s, const char *name)
{
	size_t i = guc_index(s, name);

	if (i == SIZE_MAX)
		return;
	s->bytes -= s->gucs[i].stmt_len;
	free(s->gucs[i].stmt);
	/* keep the order of the others: a later SET may depend on an earlier one (ROLE) */
	memmove(&s->gucs[i], &s->gucs[i + 1], (s->ngucs - i - 1) * sizeof(*s->gucs));
	s->ngucs--;
	s->guc_version++;
}

void session_guc_reset_all(SessionState *s)
{
	if (s->ngucs == 0)
		return;
	guc_free_all(s);
	s->guc_version++;
}

void session_guc_replay(const SessionState *s, bool dealloc_all, PgWriter *w)
{
	/* RESET ALL leaves the role and session authorization alone */
	static const char reset[] = "RESET SESSION AUTHORIZATION;RESET ROLE;RESET ALL;";
	static const char dealloc[] = "DEALLOCATE ALL;";

	pgw_begin(w, 'Q');
	pgw_bytes(w, reset, sizeof(reset) - 1);
	for (size_t i = 0; i < s->ngucs; i++) {
		pgw_bytes(w, s->gucs[i].stmt, s->gucs[i].stmt_len);
		pgw_u8(w, ';');
	}
	if (dealloc_all)
		pgw_bytes(w, dealloc, sizeof(dealloc) - 1);
	pgw_u8(w, 0);
	pgw_end(w);
}

/* FNV-1a over the name */
static size_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return (size_t)h;
}

static SessionStmt **stmt_slot(const SessionState *s, const char *name)
{
	SessionStmt **pp;

	if (!s->nbuckets)
		return NULL;
	pp = &s->buckets[name_hash(name) & (s->nbuckets - 1)];
	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

const SessionStmt *session_stmt_get(const SessionState *s, const char *name)
{
	SessionStmt **pp = stmt_slot(s, name);
	return pp ? *pp : NULL;
}

SessionStmt *session_stmt_find(SessionState *s, const char *name)
{
	SessionStmt **pp = stmt_slot(s, name);
	return pp ? *pp : NULL;
}

static bool stmt_grow(SessionState *s)
{
	size_t n = s->nbuckets ? s->nbuckets * 2 : SESSION_BUCKETS_MIN;
	SessionStmt **b = calloc(n, sizeof(*b));

	if (!b)
		return false;
	for (size_t i = 0; i < s->nbuckets; i++) {
		SessionStmt *st = s->buckets[i], *next;
		for (; st; st = next) {
			size_t k = name_hash(st->name) & (n - 1);
			next = st->next;
			st->next = b[k];
			b[k] = st;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
	return true;
}

static void stmt_free(SessionState *s, SessionStmt *st)
{
	s->bytes -= st->parse_len + strlen(st->name);
	free(st->name);
	free(st->parse);
	free(st);
}

bool session_stmt_add(SessionState *s, const char *name, const uint8_t *parse, size_t len,
		      uint32_t info)
{
	SessionStmt **pp, *st;
	size_t nlen = strlen(name);

	if (nlen == 0)
		return false;
	if (s->nstmts >= s->nbuckets && !stmt_grow(s))
		return false;
	st = calloc(1, sizeof(*st));
	if (!st)
		return false;
	st->name = malloc(nlen + 1);
	st->parse = malloc(len ? len : 1);
	if (!st->name || !st->parse) {
		free(st->name);
		free(st->parse);
		free(st);
		return false;
	}
	memcpy(st->name, name, nlen + 1);
	memcpy(st->parse, parse, len);
	st->parse_len = len;
	st->info = info;
	pp = stmt_slot(s, name);
	if (*pp) {
		/* replacing: PostgreSQL itself refuses a duplicate name, but the client may
		 * have closed it in a batch we saw */
		st->next = (*pp)->next;
		stmt_free(s, *pp);
		s->nstmts--;
	}
	*pp = st;
	s->nstmts++;
	s->bytes += len + nlen;
	s->stmt_version++;
	return true;
}

bool session_stmt_close(SessionState *s, const char *name)
{
	SessionStmt **pp = stmt_slot(s, name), *st;

	if (!pp || !*pp)
		return false;
	st = *pp;
	*pp = st->next;
	stmt_free(s, st);
	s->nstmts--;
	s->stmt_version++;
	return true;
}

void session_stmt_clear(SessionState *s)
{
	if (s->nstmts == 0)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		SessionStmt *st = s->buckets[i], *next;
		for (; st; st = next) {
			next = st->next;
			stmt_free(s, st);
		}
		s->buckets[i] = NULL;
	}
	s->nstmts = 0;
	s->stmt_version++;
}
