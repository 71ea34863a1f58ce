/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Session listings as JSON: filtering, sorting and the one JSON shape that
 * GET /v1/sessions serves and `edgeshift sessions` prints, whether the
 * sessions came from the agent or straight from the pinned maps.
 */
#ifndef EDGESHIFT_SESSION_JSON_H
#define EDGESHIFT_SESSION_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "bpf/es_maps.h"
#include "bpf/session_table.h"

enum es_sort_key {
	ES_SORT_BYTES,
	ES_SORT_PACKETS,
	ES_SORT_FIRST,
	ES_SORT_LAST,
	ES_SORT_LATENCY,
};

/* Where a listing is answered from (query parameter source=). */
enum es_listing_source {
	ES_SOURCE_AUTO,		/* the agent's index when it can answer and the node is large */
	ES_SOURCE_LIVE,		/* read every session now */
	ES_SOURCE_SNAPSHOT,	/* the index whenever it can answer, whatever the node's size */
};

enum es_state_filter {
	ES_STATE_ANY,
	ES_STATE_OPEN,
	ES_STATE_CLOSED_ONLY,
};

struct es_session_query {
	int			proto;		/* -1: any */
	char			iface[16];	/* "": any */
	char			addr[64];	/* either endpoint's address, "": any */
	int			port;		/* either endpoint's port, -1: any */
	enum es_state_filter	state;
	enum es_sort_key	sort;
	int			ascending;
	size_t			limit;		/* 0: no limit */
	enum es_listing_source	source;
};

/* What a listing says of its own provenance. */
struct es_listing_meta {
	size_t		matched;	/* sessions that passed the filters */
	bool		snapshot;	/* from the collection scan's index, else read now */
	__u64		as_of_ns;	/* CLOCK_MONOTONIC the counters were read at (or after) */
};

void es_session_query_init(struct es_session_query *q);
/* Apply one key=value (sort, order, limit, proto, interface, addr, port, state, source). */
int es_session_query_set(struct es_session_query *q, const char *key, const char *value,
			 char *err, size_t err_len);

/* The value a session is sorted by under key k. */
__u64 es_session_sort_value(const struct es_session *s, enum es_sort_key k);

/*
 * The first tie-break of the listing order: the key's fields that differ
 * most between sessions (both ports, the last 32 bits of the lower
 * address) in one integer, so that most ties (a flood's sessions all
 * have the same counts) are settled without comparing whole keys.
 */
__u64 es_session_tie(const struct es_session_key6 *k);

/*
 * The listing order of q: its sort key and order, ties broken by
 * es_session_tie() and then the whole session key, so that two readers of
 * the same sessions list them alike. arg is the struct es_session_query.
 */
int es_session_order(const struct es_session *x, const struct es_session *y, const void *arg);

/* True when q filters sessions (any filter but the order and the limit). */
bool es_session_query_filters(const struct es_session_query *q);

/*
 * The JSON of a listing whose sessions v (n, in order, state joined) were
 * chosen elsewhere: {"node", "matched", "count", "sort", "source",
 * "as_of_ns", "as_of", "age_ms", "sessions"}. NULL when out of memory.
 */
json_t *es_sessions_render(const struct es_maps *m, const struct es_session_query *q,
			   const char *node, const struct es_session *v, size_t n,
			   const struct es_listing_meta *meta);

/*
 * Stream every session of the maps m through the filter q, keep the best
 * q->limit by its order (a bounded heap: memory and time grow with the
 * limit, not with the sessions kept out), and build
 * {"node", "matched", "count", "sort", "sessions": [...]} into *out.
 * 0 or -errno.
 */
int es_sessions_json(const struct es_maps *m, const struct es_session_query *q,
		     const char *node, json_t **out);

#endif /* EDGESHIFT_SESSION_JSON_H */
