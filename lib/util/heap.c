// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include "heap.h"

static void *at(const struct es_heap *h, size_t i)
{
	return (char *)h->base + i * h->size;
}

/* Through a buffer that holds a session (184 bytes) whole, a piece at a time beyond. */
static void swap(const struct es_heap *h, size_t i, size_t j)
{
	char *a = at(h, i), *b = at(h, j), tmp[256];
	size_t o, len;

	for (o = 0; o < h->size; o += len) {
		len = h->size - o < sizeof(tmp) ? h->size - o : sizeof(tmp);
		memcpy(tmp, a + o, len);
		memcpy(a + o, b + o, len);
		memcpy(b + o, tmp, len);
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
