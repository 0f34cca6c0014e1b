/*
 * authfile.c - the auth file (userlist) parser behind config.h: lines of
 * "user" "secret" with doubled quotes inside values, blank and comment
 * lines, sorted for lookup, duplicates reported with their lines.
 * Pure: the only I/O is reading the file into memory once.
 */
#include "cfgutil.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files larger than this are refused instead of being read into memory. */
#define AUTH_MAX_FILE_SIZE (64 * 1024 * 1024)

typedef struct AuthLine {
	int line;
	AuthEntry e;
} AuthLine;

static int authline_cmp(const void *a, const void *b)
{
	const AuthLine *x = a, *y = b;
	int c = strcmp(x->e.user, y->e.user);

	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

typedef enum FieldResult {
	FIELD_OK,
	FIELD_NO_QUOTE,
	FIELD_UNTERMINATED,
	FIELD_TOO_LONG
} FieldResult;

/* One "..." field at *sp (bounded by end) into dst[cap]; "" inside means one quote. */
static FieldResult auth_parse_field(const char **sp, const char *end, char *dst, size_t cap)
{
	const char *s = *sp;
	size_t n = 0;

	if (s == end || *s != '"')
		return FIELD_NO_QUOTE;
	for (s++;; s++) {
		if (s == end)
			return FIELD_UNTERMINATED;
		if (*s == '"') {
			if (s + 1 == end || s[1] != '"')
				break;
			s++;
		}
		if (n + 1 >= cap)
			return FIELD_TOO_LONG;
		dst[n++] = *s;
	}
	dst[n] = '\0';
	*sp = s + 1;
	return FIELD_OK;
}

static bool authfile_parse(const char *name, const char *text, size_t len, AuthFile *out, char *err,
			   size_t errlen)
{
	AuthLine *lines = NULL, *dup = NULL;
	size_t n = 0, cap = 0, pos = 0;
	int lineno = 0;

	while (pos < len) {
		const char *line = text + pos, *nl, *end, *s;
		AuthLine *al;

		nl = memchr(line, '\n', len - pos);
		end = nl ? nl : text + len;
		pos = (size_t)(end - text) + (nl ? 1 : 0);
		lineno++;

		if (memchr(line, '\0', (size_t)(end - line))) {
			err_set(err, errlen, name, lineno, "line contains a NUL byte");
			goto fail;
		}
		s = line;
		while (s < end && is_blank(*s))
			s++;
		if (s == end || *s == ';' || *s == '#')
			continue;

		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		al = &lines[n];
		al->line = lineno;
		switch (auth_parse_field(&s, end, al->e.user, sizeof(al->e.user))) {
		case FIELD_OK:
			break;
		case FIELD_NO_QUOTE:
			err_set(err, errlen, name, lineno, "expected a double-quoted user name");
			goto fail;
		case FIELD_UNTERMINATED:
			err_set(err, errlen, name, lineno,
				"missing closing quote in the user name");
			goto fail;
		case FIELD_TOO_LONG:
			err_set(err, errlen, name, lineno, "user name longer than %zu bytes",
				sizeof(al->e.user) - 1);
			goto fail;
		}
		if (al->e.user[0] == '\0') {
			err_set(err, errlen, name, lineno, "empty user name");
			goto fail;
		}
		if (s < end && !is_blank(*s)) {
			err_set(err, errlen, name, lineno, "expected a blank after the user name");
			goto fail;
		}
		while (s < end && is_blank(*s))
			s++;
		switch (auth_parse_field(&s, end, al->e.secret, sizeof(al->e.secret))) {
		case FIELD_OK:
			break;
		case FIELD_NO_QUOTE:
			err_set(err, errlen, name, lineno,
				"expected a double-quoted secret after user '%s'", al->e.user);
			goto fail;
		case FIELD_UNTERMINATED:
			err_set(err, errlen, name, lineno,
				"missing closing quote in the secret of user '%s'", al->e.user);
			goto fail;
		case FIELD_TOO_LONG:
			err_set(err, errlen, name, lineno,
				"secret of user '%s' longer than %zu bytes", al->e.user,
				sizeof(al->e.secret) - 1);
			goto fail;
		}
		if (al->e.secret[0] == '\0') {
			err_set(err, errlen, name, lineno, "empty secret for user '%s'",
				al->e.user);
			goto fail;
		}
		/* like PgBouncer, anything after the secret (and a blank) is ignored */
		if (s < end && !is_blank(*s)) {
			err_set(err, errlen, name, lineno,
				"expected a blank or the end of the line after the secret");
			goto fail;
		}
		n++;
	}

	if (n > 0)
		qsort(lines, n, sizeof(*lines), authline_cmp);
	/* report the duplicate that comes first in the file */
	for (size_t i = 1; i < n; i++) {
		if (strcmp(lines[i - 1].e.user, lines[i].e.user) == 0 &&
		    (!dup || lines[i].line < dup->line))
			dup = &lines[i];
	}
	if (dup) {
		err_set(err, errlen, name, dup->line, "duplicate user '%s' (first on line %d)",
			dup->e.user, dup[-1].line);
		goto fail;
	}
	out->n = n;
	out->entries = n ? xmalloc(n * sizeof(AuthEntry)) : NULL;
	for (size_t i = 0; i < n; i++)
		out->entries[i] = lines[i].e;
	free(lines);
	return true;
fail:
	free(lines);
	return false;
}

bool authfile_load(const char *path, AuthFile *out, char *err, size_t errlen)
{
	size_t len;
	char *text;
	bool ok;

	out->n = 0;
	out->entries = NULL;
	if (err && errlen)
		err[0] = '\0';
	text = file_read_all(path, AUTH_MAX_FILE_SIZE, &len, err, errlen);
	if (!text)
		return false;
	ok = authfile_parse(path, text, len, out, err, errlen);
	free(text);
	return ok;
}

void authfile_free(AuthFile *af)
{
	if (!af)
		return;
	free(af->entries);
	af->entries = NULL;
	af->n = 0;
}

static int authentry_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const AuthEntry *)elem)->user);
}

const AuthEntry *authfile_find(const AuthFile *af, const char *user)
{
	if (!af || af->n == 0)
		return NULL;
	return bsearch(user, af->entries, af->n, sizeof(AuthEntry), authentry_cmp);
}
