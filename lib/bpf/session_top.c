// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/heap.h"
#include "session_top.h"

void es_top_init(struct es_session_top *t, size_t limit, es_session_cmp cmp, const void *arg)
{
	memset(t, 0, sizeof(*t));
	t->limit = limit;
	t->cmp = cmp;
	t->arg = arg;
}

/* Heap order: the worse session sits above, so the root is the worst kept. */
static bool above(const void *a, const void *b, const void *arg)
{
	const struct es_session_top *t = arg;

	return t->cmp(a, b, t->arg) > 0;
}

static int reserve(struct es_session_top *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct es_session *nv;

	if (t->n < t->cap)
		return 0;
	if (t->limit && cap > t->limit)
		cap = t->limit;
	nv = realloc(t->v, cap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->v = nv;
	t->cap = cap;
	return 0;
}

int es_top_add(struct es_session_top *t, const struct es_session *s)
{
	struct es_heap h;

	if (!t->limit || t->n < t->limit) {
		if (reserve(t))
			return -ENOMEM;
		t->v[t->n++] = *s;
		if (t->limit) {
			h = es_heap_of(t->v, t->n, sizeof(*t->v), above, t);
			es_heap_sift_up(&h, t->n - 1);
		}
		return 0;
	}
	/* Full: s replaces the worst kept session if it ranks before it. */
	if (t->cmp(s, &t->v[0], t->arg) >= 0)
		return 0;
	t->v[0] = *s;
	h = es_heap_of(t->v, t->n, sizeof(*t->v), above, t);
	es_heap_sift_down(&h, 0);
	return 0;
}

static int cmp_qsort(const void *a, const void *b, void *arg)
{
	const struct es_session_top *t = arg;

	return t->cmp(a, b, t->arg);
}

void es_top_sort(struct es_session_top *t)
{
	qsort_r(t->v, t->n, sizeof(*t->v), cmp_qsort, t);
}

void es_top_free(struct es_session_top *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}
