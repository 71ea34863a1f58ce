/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The slot table (include/edgeshift/slot_table.h) seen from user space:
 * its two arrays mapped into the reader's address space, read without a
 * syscall per session, and the collector's reclaim of a slot
 * (docs/maps.md, "The slot table"). The agent's readers take the
 * sessions from here when its configuration says session_table: slots
 * (lib/bpf/session_scan.c), and its collector reclaims through it.
 */
#ifndef EDGESHIFT_SLOT_READER_H
#define EDGESHIFT_SLOT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <edgeshift/slot_table.h>

struct es_slot_table {
	struct es_tbl_bucket	*tags;		/* mapped read-write: the reclaim writes tags */
	struct es_tbl_entry	*entries;	/* mapped read-only */
	size_t			tags_len, entries_len;
	__u32			nbuckets;
};

/* Map the table from its two maps' fds; 0 or -errno (nothing mapped on error). */
int es_slot_table_map(struct es_slot_table *t, int tags_fd, int entries_fd);
void es_slot_table_unmap(struct es_slot_table *t);

/* The slot holding key k of family v6 (1: IPv6) LIVE, or -ENOENT. */
long es_slot_table_find(const struct es_slot_table *t, const void *k, bool v6);

/*
 * A copy of a LIVE slot's entry, consistent with its tag (read before and
 * after the copy): 0, or -EAGAIN when the slot is not LIVE or changed.
 */
int es_slot_table_read(const struct es_slot_table *t, __u32 slot, struct es_tbl_entry *out);

/*
 * A copy of the LIVE slot holding key k of family v6 (found and read again when it
 * changed under the copy, a few times): its slot number, or -ENOENT. A
 * second slot of the same key (the race in docs/maps.md) is added in.
 */
long es_slot_table_lookup(const struct es_slot_table *t, const void *k, bool v6,
			  struct es_tbl_entry *out);

/* A slot handed over: its number, its tag word when read, its entry. 0 goes on. */
typedef int (*es_slot_fn)(__u32 slot, __u32 tag, const struct es_tbl_entry *e, void *arg);

/*
 * Every LIVE slot in slot order, each copied consistently with its tag (a
 * slot that changed under the copy is read again, a few times, then left:
 * it was reclaimed or holds another session now). A key LIVE in both its
 * buckets is handed over once, at its first bucket's slot, with the second
 * slot's counts added (the collector then reclaims that slot, and the
 * other is its own session at the next walk). 0, or what fn stopped with.
 * Memory: one entry.
 */
int es_slot_table_walk(const struct es_slot_table *t, es_slot_fn fn, void *arg);

/* Slots in each state (count[ES_TBL_EMPTY] to count[ES_TBL_RECLAIM]), one pass over the tags. */
void es_slot_table_count(const struct es_slot_table *t, size_t count[4]);

/*
 * The collector's reclaim of many slots, in three steps: mark each (its
 * tag as read, LIVE, to RECLAIM: 0, or -EAGAIN when the slot changed
 * since), one grace period for all (0 or -errno of membarrier: the marked
 * slots stay RECLAIM for a later try), then finish every RECLAIM slot of
 * the table (those marked by an agent that died before it finished them
 * too): fn gets each one's final entry after the slot was freed, and the
 * walk returns the first non-zero fn result (every RECLAIM slot is freed
 * regardless).
 */
int es_slot_table_mark(struct es_slot_table *t, __u32 slot, __u32 tag);
int es_slot_table_grace(void);
int es_slot_table_finish_all(struct es_slot_table *t, es_slot_fn fn, void *arg);

/*
 * Take a LIVE slot back (LIVE to RECLAIM, an RCU grace period so that no
 * program still adds to it, the final entry copied to *final, the first
 * bucket's overflow taken back if the key lived in its second, EMPTY):
 * 0, -EAGAIN when the slot was not LIVE, or -errno of membarrier (the
 * slot is then left RECLAIM for a later try).
 */
int es_slot_table_reclaim(struct es_slot_table *t, __u32 slot, struct es_tbl_entry *final);

/*
 * The reclaim's last step alone: the first bucket's overflow taken back
 * if the slot's key lived in its second, then EMPTY. Only where no
 * program can be adding to the slot (a RECLAIM slot after the grace
 * period, or a table no program runs on, as in a benchmark).
 */
void es_slot_table_free(struct es_slot_table *t, __u32 slot);

#endif /* EDGESHIFT_SLOT_READER_H */
