// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/session_scan.h"
#include "util/heap.h"
#include "session_index.h"

static const enum es_sort_key index_keys[ES_INDEX_KEYS] = {
	ES_SORT_BYTES, ES_SORT_PACKETS, ES_SORT_FIRST, ES_SORT_LAST,
};

/* List i: key index_keys[i / 2], descending when i is even. */
struct es_session_index *es_index_new(__u64 as_of_ns)
{
	struct es_session_index *x = calloc(1, sizeof(*x));
	int i;

	if (!x)
		return NULL;
	x->as_of_ns = as_of_ns;
	for (i = 0; i < ES_INDEX_LISTS; i++) {
		es_session_query_init(&x->l[i].q);
		x->l[i].q.sort = index_keys[i / 2];
		x->l[i].q.ascending = i % 2;
	}
	return x;
}

static void list_free(struct es_index_list *l)
{
	free(l->heap);
	free(l->pool);
	free(l->v);
	l->heap = NULL;
	l->pool = l->v = NULL;
}

void es_index_free(struct es_session_index *x)
{
	int i;

	if (!x)
		return;
	for (i = 0; i < ES_INDEX_LISTS; i++)
		list_free(&x->l[i]);
	free(x);
}

/* es_session_order() on an entry and the session it names: < 0 when a ranks before b. */
static int order(const struct es_index_list *l, const struct es_index_ent *a,
		 const struct es_session_key6 *ka, const struct es_index_ent *b,
		 const struct es_session_key6 *kb)
{
	int r = a->val < b->val ? -1 : a->val > b->val;

	if (!r)
		r = a->tie < b->tie ? -1 : a->tie > b->tie;
	if (!r)
		r = memcmp(ka, kb, sizeof(*ka));
	return l->q.ascending ? r : -r;
}

/* Heap order: the worse entry sits above, so the root is the worst kept. */
static bool above(const void *a, const void *b, const void *arg)
{
	const struct es_index_ent *x = a, *y = b;
	const struct es_index_list *l = arg;

	return order(l, x, &l->pool[x->slot].key, y, &l->pool[y->slot].key) > 0;
}

static int resize(void **p, size_t n, size_t size)
{
	void *np = reallocarray(*p, n, size);

	if (!np)
		return -ENOMEM;
	*p = np;
	return 0;
}

/* Room for one more while the list is not full; 0 or -ENOMEM. */
static int grow(struct es_index_list *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;

	if (l->n < l->cap)
		return 0;
	if (cap > ES_INDEX_K)
		cap = ES_INDEX_K;
	if (resize((void **)&l->heap, cap, sizeof(*l->heap)) ||
	    resize((void **)&l->pool, cap, sizeof(*l->pool)))
		return -ENOMEM;
	l->cap = cap;
	return 0;
}

static int list_add(struct es_index_list *l, const struct es_session *s, __u64 val, __u64 tie)
{
	struct es_index_ent e = { .val = val, .tie = tie, .slot = l->n }, *root;
	struct es_heap h;

	if (l->n < ES_INDEX_K) {
		if (grow(l))
			return -ENOMEM;
		l->pool[l->n] = *s;
		l->heap[l->n++] = e;
		h = es_heap_of(l->heap, l->n, sizeof(*l->heap), above, l);
		es_heap_sift_up(&h, l->n - 1);
		return 0;
	}
	/*
	 * Full: s takes the worst kept session's slot if it ranks before it.
	 * Most sessions of a large scan fall below on the value alone, read
	 * from the heap's root without touching the pool.
	 */
	root = &l->heap[0];
	if (l->q.ascending ? val > root->val : val < root->val)
		return 0;
	if (order(l, &e, &s->key, root, &l->pool[root->slot].key) >= 0)
		return 0;
	l->pool[root->slot] = *s;
	root->val = val;
	root->tie = tie;
	h = es_heap_of(l->heap, l->n, sizeof(*l->heap), above, l);
	es_heap_sift_down(&h, 0);
	return 0;
}

int es_index_add(struct es_session_index *x, const struct es_session *s)
{
	__u64 val[ES_INDEX_KEYS], tie = es_session_tie(&s->key);
	int i, err;

	x->sessions++;
	for (i = 0; i < ES_INDEX_KEYS; i++)
		val[i] = es_session_sort_value(s, index_keys[i]);
	for (i = 0; i < ES_INDEX_LISTS; i++) {
		err = list_add(&x->l[i], s, val[i / 2], tie);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_ent(const void *a, const void *b, void *arg)
{
	const struct es_index_ent *x = a, *y = b;
	const struct es_index_list *l = arg;

	return order(l, x, &l->pool[x->slot].key, y, &l->pool[y->slot].key);
}

/* Sessions in order into v; the heap and pool are freed. */
static int list_finish(struct es_index_list *l)
{
	size_t j;

	qsort_r(l->heap, l->n, sizeof(*l->heap), cmp_ent, l);
	l->v = malloc((l->n ? l->n : 1) * sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	for (j = 0; j < l->n; j++)
		l->v[j] = l->pool[l->heap[j].slot];
	free(l->heap);
	free(l->pool);
	l->heap = NULL;
	l->pool = NULL;
	return 0;
}

int es_index_finish(struct es_session_index *x)
{
	int i, err;

	for (i = 0; i < ES_INDEX_LISTS; i++) {
		err = list_finish(&x->l[i]);
		if (err)
			return err;
	}
	x->done = true;
	return 0;
}

static int list_of(const struct es_session_query *q)
{
	int k;

	for (k = 0; k < ES_INDEX_KEYS; k++)
		if (index_keys[k] == q->sort)
			return 2 * k + !!q->ascending;
	return -1;
}

/* How many sessions q's answer holds. */
static size_t answer_len(const struct es_session_index *x, const struct es_session_query *q)
{
	return q->limit && q->limit < x->sessions ? q->limit : x->sessions;
}

bool es_index_answers(const struct es_session_index *x, const struct es_session_query *q)
{
	if (!x || !x->done || q->source == ES_SOURCE_LIVE || es_session_query_filters(q) ||
	    list_of(q) < 0 || answer_len(x, q) > ES_INDEX_K)
		return false;
	return q->source == ES_SOURCE_SNAPSHOT || x->sessions >= ES_INDEX_AUTO_MIN;
}

int es_index_take(const struct es_session_index *x, const struct es_session_query *q,
		  struct es_session **out, size_t *n, struct es_listing_meta *meta)
{
	const struct es_index_list *l = &x->l[list_of(q)];

	*n = answer_len(x, q);
	*out = malloc((*n ? *n : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, l->v, *n * sizeof(**out));
	meta->matched = x->sessions;
	meta->snapshot = true;
	meta->as_of_ns = x->as_of_ns;
	return 0;
}

void es_index_join_state(const struct es_maps *m, struct es_session *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!v[i].has_state)
			es_session_fill_state(m, &v[i]);
}
