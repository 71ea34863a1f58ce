/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The best N sessions of a stream, by any order: a bounded heap whose root
 * is the worst session kept, so each session of the stream costs
 * O(log N) and the memory is N sessions, whatever the stream's length.
 * N = 0 keeps every session (a listing without a limit).
 */
#ifndef EDGESHIFT_SESSION_TOP_H
#define EDGESHIFT_SESSION_TOP_H

#include <stddef.h>
#include "session_table.h"

/* < 0 when a ranks before b, > 0 when after, 0 when equal. */
typedef int (*es_session_cmp)(const struct es_session *a, const struct es_session *b,
			      const void *arg);

struct es_session_top {
	struct es_session	*v;
	size_t			n;
	size_t			limit;	/* 0: unbounded */
	size_t			cap;
	es_session_cmp		cmp;
	const void		*arg;
};

void es_top_init(struct es_session_top *t, size_t limit, es_session_cmp cmp, const void *arg);
/* Offer one session; 0 or -ENOMEM. */
int es_top_add(struct es_session_top *t, const struct es_session *s);
/* Order the kept sessions, best first (ends the heap: add no more). */
void es_top_sort(struct es_session_top *t);
void es_top_free(struct es_session_top *t);

#endif /* EDGESHIFT_SESSION_TOP_H */
