// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/session_scan.h"
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
		es_session_query_init(&x->q[i]);
		x->q[i].sort = index_keys[i / 2];
		x->q[i].ascending = i % 2;
		es_top_init(&x->top[i], ES_INDEX_K, es_session_order, &x->q[i]);
	}
	return x;
}

void es_index_free(struct es_session_index *x)
{
	int i;

	if (!x)
		return;
	for (i = 0; i < ES_INDEX_LISTS; i++)
		es_top_free(&x->top[i]);
	free(x);
}

/*
 * Whether s ranks after the worst session a full list keeps by value
 * alone: most sessions of a large scan do, and this keeps them from the
 * heap's indirect comparison (the scan offers each session to 8 lists).
 */
static bool below_full_list(const struct es_session_top *t, const struct es_session_query *q,
			    const struct es_session *s)
{
	__u64 a, root;

	if (t->n < t->limit)
		return false;
	a = es_session_sort_value(s, q->sort);
	root = es_session_sort_value(&t->v[0], q->sort);
	return q->ascending ? a > root : a < root;
}

int es_index_add(struct es_session_index *x, const struct es_session *s)
{
	int i, err;

	x->sessions++;
	for (i = 0; i < ES_INDEX_LISTS; i++) {
		if (below_full_list(&x->top[i], &x->q[i], s))
			continue;
		err = es_top_add(&x->top[i], s);
		if (err)
			return err;
	}
	return 0;
}

void es_index_finish(struct es_session_index *x, const struct es_maps *m)
{
	size_t j;
	int i;

	for (i = 0; i < ES_INDEX_LISTS; i++) {
		es_top_sort(&x->top[i]);
		for (j = 0; j < x->top[i].n; j++)
			if (!x->top[i].v[j].has_state)
				es_session_fill_state(m, &x->top[i].v[j]);
	}
	x->done = true;
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
	const struct es_session_top *t = &x->top[list_of(q)];

	*n = answer_len(x, q);
	*out = malloc((*n ? *n : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, t->v, *n * sizeof(**out));
	meta->matched = x->sessions;
	meta->snapshot = true;
	meta->as_of_ns = x->as_of_ns;
	return 0;
}
