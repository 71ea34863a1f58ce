// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bounded top-N heap of lib/bpf/session_top.c against a full sort of
 * the same sessions: every limit from 1 past the stream's length, both
 * orders, ties, and the unbounded case that keeps everything.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "bpf/session_top.h"

#define N_SESSIONS	500

static int by_bytes(const struct es_session *a, const struct es_session *b, const void *arg)
{
	unsigned long long x = es_session_bytes(a), y = es_session_bytes(b);
	int r = x < y ? -1 : x > y;

	return arg ? r : -r;	/* arg non-NULL: ascending */
}

static int qsort_desc(const void *a, const void *b)
{
	return by_bytes(a, b, NULL);
}

static void make_sessions(struct es_session *v, size_t n, unsigned int seed)
{
	size_t i;

	srand(seed);
	memset(v, 0, n * sizeof(*v));
	for (i = 0; i < n; i++) {
		/* a small range, so many sessions tie */
		v[i].c.bytes[ES_DIR_RX] = rand() % 97;
		v[i].c.bytes[ES_DIR_TX] = rand() % 13;
		v[i].key.port_lo = i;
	}
}

/* The kept byte counts equal the first `limit` of a full sort. */
static int top_matches_sort(size_t limit, bool ascending)
{
	static struct es_session v[N_SESSIONS], sorted[N_SESSIONS];
	struct es_session_top t;
	size_t i, want = limit && limit < N_SESSIONS ? limit : N_SESSIONS;
	int ok = 1;

	make_sessions(v, N_SESSIONS, 7 + limit);
	memcpy(sorted, v, sizeof(v));
	qsort(sorted, N_SESSIONS, sizeof(*sorted), qsort_desc);
	es_top_init(&t, limit, by_bytes, ascending ? "asc" : NULL);
	for (i = 0; i < N_SESSIONS; i++)
		if (es_top_add(&t, &v[i]))
			ok = 0;
	es_top_sort(&t);
	if (t.n != want)
		ok = 0;
	for (i = 0; ok && i < want; i++) {
		const struct es_session *ref = ascending ? &sorted[N_SESSIONS - 1 - i] : &sorted[i];

		if (es_session_bytes(&t.v[i]) != es_session_bytes(ref))
			ok = 0;
	}
	es_top_free(&t);
	return ok;
}

TEST(top_n_equals_the_head_of_a_full_sort)
{
	size_t limits[] = { 1, 2, 3, 10, 63, 64, 65, 100, 499, 500, 501, 5000 };
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (!top_matches_sort(limits[i], false) || !top_matches_sort(limits[i], true)) {
			TEST_LOG("limit %zu differs from the sort", limits[i]);
			bad++;
		}
	}
	EXPECT_EQ(bad, 0, "limits whose top differs from the sorted head");
}

TEST(unbounded_keeps_every_session)
{
	EXPECT_TRUE(top_matches_sort(0, false), "limit 0, descending");
	EXPECT_TRUE(top_matches_sort(0, true), "limit 0, ascending");
}

TEST(memory_is_the_limit_not_the_stream)
{
	static struct es_session v[N_SESSIONS];
	struct es_session_top t;
	size_t i;

	make_sessions(v, N_SESSIONS, 3);
	es_top_init(&t, 10, by_bytes, NULL);
	for (i = 0; i < N_SESSIONS; i++)
		es_top_add(&t, &v[i]);
	EXPECT_EQ(t.n, 10, "kept");
	EXPECT_LE(t.cap, 10, "allocated slots");
	es_top_free(&t);
}

TEST_HARNESS_MAIN
