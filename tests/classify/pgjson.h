/*
 * pgjson.h - a small JSON reader for libpg_query's parse trees (test code:
 * allocates freely, aborts on out-of-memory). Each parse-tree node is an
 * object with one key, its type: {"SelectStmt": {...}}.
 */
#ifndef TESTS_CLASSIFY_PGJSON_H
#define TESTS_CLASSIFY_PGJSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum JType { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } JType;

typedef struct JNode {
	JType type;
	bool boolean;
	char *str;	     /* J_STR (unescaped) and J_NUM (as written) */
	size_t n;	     /* J_ARR / J_OBJ members */
	char **keys;	     /* J_OBJ */
	struct JNode **kids; /* J_ARR / J_OBJ */
} JNode;

/* NULL when text is not well-formed JSON. */
JNode *pgjson_parse(const char *text);
void pgjson_free(JNode *nd);

/* An object's member, or NULL (also when nd is NULL or not an object). */
JNode *pgjson_get(const JNode *nd, const char *key);

/* A parse-tree node's type name (its only key), with its body; NULL if not one. */
const char *pgjson_node_type(const JNode *nd, const JNode **body);

/* A String node's text ({"String": {"sval": "..."}}), or NULL. */
const char *pgjson_string(const JNode *nd);

/* Allocation that aborts on out-of-memory. */
void *pgjson_alloc(size_t n);
void *pgjson_realloc(void *p, size_t n);

#endif
