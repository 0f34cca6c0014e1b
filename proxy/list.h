/*
 * list.h - intrusive doubly-linked circular list with an O(1) count.
 * Embed a List in the object, keep a ListHead where the objects are herded,
 * get back to the object with container_of().
 */
#ifndef PROXY_LIST_H
#define PROXY_LIST_H

#include "common.h"

typedef struct List {
	struct List *next, *prev;
} List;

typedef struct ListHead {
	List head;
	size_t count;
} ListHead;

static inline void list_init(List *n)
{
	n->next = n->prev = n;
}

static inline void listhead_init(ListHead *h)
{
	list_init(&h->head);
	h->count = 0;
}

static inline bool list_linked(const List *n)
{
	return n->next != n;
}

static inline bool listhead_empty(const ListHead *h)
{
	return h->count == 0;
}

static inline void list_append(ListHead *h, List *n)
{
	n->prev = h->head.prev;
	n->next = &h->head;
	h->head.prev->next = n;
	h->head.prev = n;
	h->count++;
}

static inline void list_prepend(ListHead *h, List *n)
{
	n->next = h->head.next;
	n->prev = &h->head;
	h->head.next->prev = n;
	h->head.next = n;
	h->count++;
}

/* Unlinks n from h; n must be on h. */
static inline void list_remove(ListHead *h, List *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
	h->count--;
}

static inline List *listhead_first(const ListHead *h)
{
	return h->count ? h->head.next : NULL;
}

static inline List *listhead_pop(ListHead *h)
{
	List *n = listhead_first(h);
	if (n)
		list_remove(h, n);
	return n;
}

/* Iterate; safe against removal of the current element. */
#define list_for_each_safe(pos, tmp, h)                                                            \
	for ((pos) = (h)->head.next, (tmp) = (pos)->next; (pos) != &(h)->head;                    \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
