/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Session listings as JSON: filtering, sorting and the one JSON shape that
 * GET /v1/sessions serves and `edgeshift sessions` prints, whether the
 * sessions came from the agent or straight from the pinned maps.
 */
#ifndef EDGESHIFT_SESSION_JSON_H
#define EDGESHIFT_SESSION_JSON_H

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
};

void es_session_query_init(struct es_session_query *q);
/* Apply one key=value (sort, order, limit, proto, interface, addr, port, state). */
int es_session_query_set(struct es_session_query *q, const char *key, const char *value,
			 char *err, size_t err_len);

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
