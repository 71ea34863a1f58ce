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
 * 8 x 1,000 sessions (about 1.5 MB), and a rejected session costs the
 * scan one comparison per list whatever K is.
 */
#ifndef EDGESHIFT_SESSION_INDEX_H
#define EDGESHIFT_SESSION_INDEX_H

#include <stdbool.h>
#include "bpf/es_maps.h"
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
 * Sort every list: the index is read only after. 0 or -ENOMEM (it cannot
 * be published then). The state of open sessions is not joined here (up
 * to 8,000 look-ups a scan, a quarter of the index's cost): a listing
 * joins it for the sessions it shows (es_index_take).
 */
int es_index_finish(struct es_session_index *x);

/*
 * Whether x can give q's answer exactly: no filter, a sort key it keeps,
 * and no more sessions than it holds (limit at most ES_INDEX_K, or every
 * session when there are no more than ES_INDEX_K). auto additionally
 * wants a node of ES_INDEX_AUTO_MIN sessions; live never.
 */
bool es_index_answers(const struct es_session_index *x, const struct es_session_query *q);

/*
 * q's sessions, in order, copied into *out (malloc'ed, *n of them) and
 * meta filled; call only when es_index_answers(). 0 or -ENOMEM. The open
 * sessions among them lack their state: es_index_join_state() after
 * letting go of the index's lock.
 */
int es_index_take(const struct es_session_index *x, const struct es_session_query *q,
		  struct es_session **out, size_t *n, struct es_listing_meta *meta);

/*
 * Join the state of the sessions v that lack it, read now: a session's
 * counters are the scan's, its opened_by, state and latency those of the
 * request (absent when it was collected since).
 */
void es_index_join_state(const struct es_maps *m, struct es_session *v, size_t n);

#endif /* EDGESHIFT_SESSION_INDEX_H */
