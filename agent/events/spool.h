/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The on-disk spool: every event from the moment it is emitted until the
 * sink (or the dead-letter sink) acknowledged it. Records are lines of
 * JSON appended to segment files DIR/NNNNNNNNNNNNNNNN.seg (4 MiB each); a
 * 16-byte file DIR/ack holds the segment and offset of the first record
 * not yet acknowledged. An append is one write(2), so a killed agent loses
 * nothing it spooled (the page cache outlives the process); the delivery
 * thread fdatasync()s what was appended before it posts any of it (group
 * commit), so a posted event also survives a power loss. Records are
 * taken in order, by one delivery thread or several; the cursor moves
 * over the records acknowledged in a row, so one still in flight holds
 * it (a restart sends that one and those after it again). Acknowledgements are written without a sync: a power loss re-sends a few
 * events (at least once), never loses one. Bounded: an append to a spool
 * that holds max records is refused (the caller counts the drop).
 */
#ifndef EDGESHIFT_EVENTS_SPOOL_H
#define EDGESHIFT_EVENTS_SPOOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ES_SPOOL_INFLIGHT	64	/* records taken and not done, at most */

struct es_spool {
	char		dir[256];
	pthread_mutex_t	lock;		/* the write side and depth */
	pthread_cond_t	cond;		/* signalled on append and on stop */
	int		wfd, dfd, ackfd;
	uint64_t	wseg, woff;	/* where the next append goes */
	bool		dirty;		/* appended since the last fdatasync */
	/*
	 * A sync failed: the kernel reports a writeback error once per open
	 * file, so a second fdatasync of the same file says 0 for data it
	 * lost. The synced mark stays where it was until the agent restarts
	 * and recovers the spool from what the disk holds.
	 */
	bool		sync_failed;
	uint64_t	sseg, soff;	/* synced up to here: what may be taken */
	uint64_t	depth;		/* records not acknowledged */
	uint64_t	max;
	uint64_t	unread;		/* appended and not taken */
	/* the read side, shared by the delivery threads under rlock */
	pthread_mutex_t	rlock;
	int		rfd;
	uint64_t	rseg, roff;	/* the next record to take */
	char		*buf;		/* bytes of segment rseg from offset boff */
	size_t		bcap, blen;
	uint64_t	boff;
	uint64_t	aseg, aoff;	/* the first record not acknowledged */
	struct es_spool_inflight {
		uint64_t	seg, end;	/* where the record ends */
		bool		done;
	}		fl[ES_SPOOL_INFLIGHT];	/* taken, in spool order */
	unsigned int	fl_head, fl_len;
};

/* Opens or recovers DIR: a torn last line is cut, segments already acknowledged removed. */
int es_spool_open(struct es_spool *sp, const char *dir, uint64_t max, char *err, size_t len);
void es_spool_close(struct es_spool *sp);
/*
 * Appends one line (no newline in it); -ENOBUFS at spool_max_events,
 * -errno when the write fails (-ENOSPC: the disk is full).
 */
int es_spool_append(struct es_spool *sp, const char *line, size_t n);
uint64_t es_spool_depth(struct es_spool *sp);
/* Makes the appends durable before any of them is posted. */
void es_spool_sync(struct es_spool *sp);
/* A record taken for delivery: a copy of its line and where it is. */
struct es_spool_rec {
	char		*line;		/* NUL-terminated, malloc'd */
	size_t		n;
	uint64_t	seg, off;
};
/*
 * The next record not taken yet: 1, 0 when there is none (or
 * ES_SPOOL_INFLIGHT are taken and not done), -errno. Threads may take
 * several; each is then done (acknowledged) or dropped (left for the next
 * start, when the agent stops).
 */
int es_spool_take(struct es_spool *sp, struct es_spool_rec *r);
/* Acknowledged: the cursor moves over every record done in a row from it. */
void es_spool_done(struct es_spool *sp, struct es_spool_rec *r);
void es_spool_drop(struct es_spool_rec *r);
/* Waits until a record is there to take; false when stop is set. */
bool es_spool_wait(struct es_spool *sp, const atomic_bool *stop);

#endif
