/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The slot table (include/edgeshift/slot_table.h) seen from user space:
 * its two arrays mapped into the reader's address space, read without a
 * syscall per session, and the collector's reclaim of a slot
 * (docs/maps.md, "The slot table"). The first piece of its adoption; today
 * its users are the candidate's tests.
 */
#ifndef EDGESHIFT_SLOT_READER_H
#define EDGESHIFT_SLOT_READER_H

#include <stddef.h>
#include <edgeshift/slot_table.h>

struct es_slot_table {
	struct es_tbl_bucket	*tags;		/* mapped read-write: the reclaim writes tags */
	struct es_tbl_entry4	*entries;	/* mapped read-only */
	size_t			tags_len, entries_len;
	__u32			nbuckets;
};

/* Map the table from its two maps' fds; 0 or -errno (nothing mapped on error). */
int es_slot_table_map(struct es_slot_table *t, int tags_fd, int entries_fd);
void es_slot_table_unmap(struct es_slot_table *t);

/* The slot holding the key LIVE, or -ENOENT. */
long es_slot_table_find(const struct es_slot_table *t, const struct es_session_key4 *k);

/*
 * A copy of a LIVE slot's entry, consistent with its tag (read before and
 * after the copy): 0, or -EAGAIN when the slot is not LIVE or changed.
 */
int es_slot_table_read(const struct es_slot_table *t, __u32 slot, struct es_tbl_entry4 *out);

/*
 * Take a LIVE slot back (LIVE to RECLAIM, an RCU grace period so that no
 * program still adds to it, the final entry copied to *final, the first
 * bucket's overflow taken back if the key lived in its second, EMPTY):
 * 0, -EAGAIN when the slot was not LIVE, or -errno of membarrier (the
 * slot is then left RECLAIM for a later try).
 */
int es_slot_table_reclaim(struct es_slot_table *t, __u32 slot, struct es_tbl_entry4 *final);

/*
 * The reclaim's last step alone: the first bucket's overflow taken back
 * if the slot's key lived in its second, then EMPTY. Only where no
 * program can be adding to the slot (a RECLAIM slot after the grace
 * period, or a table no program runs on, as in a benchmark).
 */
void es_slot_table_free(struct es_slot_table *t, __u32 slot);

#endif /* EDGESHIFT_SLOT_READER_H */
