/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The two moves of a binary heap in an array of elements of any size,
 * shared by the bounded top-N lists (lib/bpf/session_top.c, the listing
 * index in lib/json/session_index.c): the callers own the array, its
 * order and what an element is.
 */
#ifndef EDGESHIFT_HEAP_H
#define EDGESHIFT_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* Heap order: true when element a must sit above element b. */
typedef bool (*es_heap_above)(const void *a, const void *b, const void *arg);

struct es_heap {
	void		*base;
	size_t		n;	/* elements in heap order */
	size_t		size;	/* bytes an element */
	es_heap_above	above;
	const void	*arg;
};

static inline struct es_heap es_heap_of(void *base, size_t n, size_t size, es_heap_above above,
					const void *arg)
{
	return (struct es_heap){ .base = base, .n = n, .size = size, .above = above, .arg = arg };
}

/* Move element i up until its parent may sit above it. */
void es_heap_sift_up(const struct es_heap *h, size_t i);
/* Move element i down until it may sit above both children. */
void es_heap_sift_down(const struct es_heap *h, size_t i);

#endif /* EDGESHIFT_HEAP_H */
