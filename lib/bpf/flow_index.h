/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The user-space side of the per-CPU flow cache (include/edgeshift/session.h,
 * es_flow_counts): what its slots hold that es_sessions4/6 do not yet.
 * A session's counters are its entry plus the slots of every CPU holding
 * its key; readers add both.
 */
#ifndef EDGESHIFT_FLOW_INDEX_H
#define EDGESHIFT_FLOW_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include "session_table.h"

/* Every valid slot of every CPU, merged per session, sorted for look-ups. */
struct es_flow_index {
	struct es_flow_entry	*v;
	size_t			n, cap;
};

/* Read both caches; 0 or -errno. Memory: the valid slots, not the sessions. */
int es_flow_index_read(struct es_flow_index *ix, const struct es_maps *m);
/* Add what the cache holds for s to s->c; sets s->cached. */
void es_flow_index_apply(const struct es_flow_index *ix, struct es_session *s);
void es_flow_index_free(struct es_flow_index *ix);

/*
 * One session's counters, its entry and its slots read as one consistent
 * picture: the entry is read before and after the slots and the read
 * repeated when a fold moved counts in between. 0, -ENOENT when the
 * session has neither an entry nor a slot, or -errno.
 */
int es_session_read_exact(const struct es_maps *m, int family, const void *key,
			  struct es_session_counters *out, bool *cached);

#endif /* EDGESHIFT_FLOW_INDEX_H */
