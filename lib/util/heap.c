// SPDX-License-Identifier: GPL-2.0-only
#include <stdint.h>
#include "heap.h"

static void *at(const struct es_heap *h, size_t i)
{
	return (char *)h->base + i * h->size;
}

/*
 * A word at a time when the size allows it (the index's 24-byte entries,
 * 184-byte sessions): a call to memcpy per piece cost the scan more than
 * the comparisons.
 */
static void swap(const struct es_heap *h, size_t i, size_t j)
{
	char *a = at(h, i), *b = at(h, j), t;
	uint64_t *wa = (uint64_t *)a, *wb = (uint64_t *)b, w;
	size_t o;

	if (h->size % sizeof(w) == 0 && (uintptr_t)a % sizeof(w) == 0) {
		for (o = 0; o < h->size / sizeof(w); o++) {
			w = wa[o];
			wa[o] = wb[o];
			wb[o] = w;
		}
		return;
	}
	for (o = 0; o < h->size; o++) {
		t = a[o];
		a[o] = b[o];
		b[o] = t;
	}
}

void es_heap_sift_up(const struct es_heap *h, size_t i)
{
	for (; i && h->above(at(h, i), at(h, (i - 1) / 2), h->arg); i = (i - 1) / 2)
		swap(h, i, (i - 1) / 2);
}

void es_heap_sift_down(const struct es_heap *h, size_t i)
{
	size_t c, top;

	for (;; i = top) {
		c = 2 * i + 1;
		top = i;
		if (c < h->n && h->above(at(h, c), at(h, top), h->arg))
			top = c;
		if (c + 1 < h->n && h->above(at(h, c + 1), at(h, top), h->arg))
			top = c + 1;
		if (top == i)
			return;
		swap(h, i, top);
	}
}
