/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The listing index: the best ES_INDEX_K sessions of one collection scan
 * for every order GET /v1/sessions offers without a state join (bytes,
 * packets, first, last; ascending and descending), kept while the scan
 * streams the sessions past, so that a listing of up to ES_INDEX_K
 * sessions without filters is answered in O(limit) instead of a read of
 * every session (0.3-0.5 us each: 30-50 ms at 100,000 sessions).
 *
 * Why ES_INDEX_K is 1,000: it is the console's largest page (its limit is
 * 1 to 1000) and fifty times the CLI's default; it bounds the index to
 * 8 x 1,000 sessions (about 1.3 MB), the state join of its publication to
 * at most 8,000 look-ups a scan, and a rejected session costs the scan one
 * comparison per list whatever K is.
 */
#ifndef EDGESHIFT_SESSION_INDEX_H
#define EDGESHIFT_SESSION_INDEX_H

#include <stdbool.h>
#include "session_json.h"

#define ES_INDEX_K	1000
#define ES_INDEX_KEYS	4		/* bytes, packets, first, last (not latency) */
#define ES_INDEX_LISTS	(ES_INDEX_KEYS * 2)

/*
 * Below this many sessions a full read takes under about 5 ms and is
 * fresh: source=auto reads the maps, source=snapshot still takes the index.
 */
#define ES_INDEX_AUTO_MIN	10000

/*
 * One order's best sessions. While the scan runs, heap holds (value,
 * tie, slot) entries in heap order, the worst kept at the root, and pool the
 * sessions they name: a replacement copies one session and sifts 24-byte
 * entries, not sessions. Once finished, v holds the sessions in order.
 */
struct es_index_ent {
	__u64	val;		/* es_session_sort_value() */
	__u64	tie;		/* es_session_tie() */
	__u32	slot;		/* its session in pool */
	__u32	pad;
};

struct es_index_list {
	struct es_session_query	q;	/* the order */
	struct es_index_ent	*heap;
	struct es_session	*pool;
	size_t			n, cap;
	struct es_session	*v;	/* finished: the n sessions, best first */
};

struct es_session_index {
	struct es_index_list	l[ES_INDEX_LISTS];
	size_t			sessions;	/* every session offered */
	__u64			as_of_ns;	/* CLOCK_MONOTONIC the scan started at */
	bool			done;		/* sorted and state joined: read only */
};

/* A new, empty index of a scan that starts at as_of_ns; NULL when out of memory. */
struct es_session_index *es_index_new(__u64 as_of_ns);
void es_index_free(struct es_session_index *x);

/* Offer one live session (counters merged); 0 or -ENOMEM. */
int es_index_add(struct es_session_index *x, const struct es_session *s);

/*
 * Sort every list and join the shared state of the sessions kept that
 * lack it, so that a listing from the index shows the fields a full read
 * does (state read at publication, close to as_of_ns). No adds after;
 * 0 or -ENOMEM (the index cannot be published then).
 */
int es_index_finish(struct es_session_index *x, const struct es_maps *m);

/*
 * Whether x can give q's answer exactly: no filter, a sort key it keeps,
 * and no more sessions than it holds (limit at most ES_INDEX_K, or every
 * session when there are no more than ES_INDEX_K). auto additionally
 * wants a node of ES_INDEX_AUTO_MIN sessions; live never.
 */
bool es_index_answers(const struct es_session_index *x, const struct es_session_query *q);

/*
 * q's sessions, in order, copied into *out (malloc'ed, *n of them) and
 * meta filled; call only when es_index_answers(). 0 or -ENOMEM.
 */
int es_index_take(const struct es_session_index *x, const struct es_session_query *q,
		  struct es_session **out, size_t *n, struct es_listing_meta *meta);

#endif /* EDGESHIFT_SESSION_INDEX_H */
