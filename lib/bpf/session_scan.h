/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every session of the accounting maps, streamed: the session maps are
 * read in batches into buffers of a fixed size and each session is handed
 * to a callback with its per-CPU counters merged, so a reader's memory is
 * one batch whatever the number of sessions. How much of the shared state
 * is joined is the caller's choice, because joining costs either memory or
 * a syscall per session.
 */
#ifndef EDGESHIFT_SESSION_SCAN_H
#define EDGESHIFT_SESSION_SCAN_H

#include <edgeshift/slot_table.h>
#include "session_table.h"

enum es_scan_state {
	ES_SCAN_NO_STATE,	/* counters only: has_state is false */
	ES_SCAN_CLOSED_STATE,	/* state joined for closed sessions only (memory O(closed)) */
	ES_SCAN_FULL_STATE,	/* state looked up for each session (one syscall each) */
};

/*
 * A batch look-up fetches at most ES_SCAN_BATCH entries and at most
 * ES_SCAN_BATCH_BYTES of values: with per-CPU values an entry grows with
 * the CPU count, the reader's working set does not.
 */
#define ES_SCAN_BATCH		4096
#define ES_SCAN_BATCH_MIN	64
#define ES_SCAN_BATCH_BYTES	(4U << 20)

/* Entries per batch for values of value_len bytes (all CPUs' copies). */
size_t es_scan_batch(size_t value_len);

/* 0 goes on; anything else stops the scan, which returns it. */
typedef int (*es_session_fn)(struct es_session *s, void *arg);

/* IPv4 sessions, then IPv6; 0, -errno, or what fn stopped with. */
int es_session_scan(const struct es_maps *m, enum es_scan_state mode, es_session_fn fn,
		    void *arg);

/* Join the shared state of one session (has_state says whether it has one). */
void es_session_fill_state(const struct es_maps *m, struct es_session *s);

/* A slot of the table (its number, tag word and entry) as a session, state joined. */
void es_session_from_slot(struct es_session *s, __u32 slot, __u32 tag,
			  const struct es_tbl_entry *e);

/* The map key of s (IPv4 keys are 20 bytes); returns its length. */
size_t es_session_map_key(const struct es_session *s, void *buf);

#endif /* EDGESHIFT_SESSION_SCAN_H */
