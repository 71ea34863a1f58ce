// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "session_top.h"

void es_top_init(struct es_session_top *t, size_t limit, es_session_cmp cmp, const void *arg)
{
	memset(t, 0, sizeof(*t));
	t->limit = limit;
	t->cmp = cmp;
	t->arg = arg;
}

static void swap(struct es_session *a, struct es_session *b)
{
	struct es_session tmp = *a;

	*a = *b;
	*b = tmp;
}

/* Heap order: a parent ranks after (is worse than) or equal to its children. */
static bool worse(const struct es_session_top *t, size_t a, size_t b)
{
	return t->cmp(&t->v[a], &t->v[b], t->arg) > 0;
}

static void sift_up(struct es_session_top *t, size_t i)
{
	while (i && worse(t, i, (i - 1) / 2)) {
		swap(&t->v[i], &t->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static void sift_down(struct es_session_top *t, size_t i)
{
	size_t l, w;

	for (;;) {
		l = 2 * i + 1;
		w = i;
		if (l < t->n && worse(t, l, w))
			w = l;
		if (l + 1 < t->n && worse(t, l + 1, w))
			w = l + 1;
		if (w == i)
			return;
		swap(&t->v[i], &t->v[w]);
		i = w;
	}
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
	if (!t->limit || t->n < t->limit) {
		if (reserve(t))
			return -ENOMEM;
		t->v[t->n++] = *s;
		if (t->limit)
			sift_up(t, t->n - 1);
		return 0;
	}
	/* Full: s replaces the worst kept session if it ranks before it. */
	if (t->cmp(s, &t->v[0], t->arg) >= 0)
		return 0;
	t->v[0] = *s;
	sift_down(t, 0);
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
