/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The on-disk spool: every event from the moment it is emitted until the
 * sink (or the dead-letter sink) acknowledged it. Records are lines of
 * JSON appended to segment files DIR/NNNNNNNNNNNNNNNN.seg (4 MiB each); a
 * 16-byte file DIR/ack holds the segment and offset of the first record
 * not yet acknowledged. An append is one write(2), so a killed agent loses
 * nothing it spooled (the page cache outlives the process); the delivery
 * thread fdatasync()s what was appended before it posts any of it (group
 * commit), so a posted event also survives a power loss. Delivery is in
 * order, one record at a time: the read position is the ack position.
 * Acknowledgements are written without a sync: a power loss re-sends a few
 * events (at least once), never loses one. Bounded: an append to a spool
 * that holds max records is refused (the caller counts the drop).
 */
#ifndef EDGESHIFT_EVENTS_SPOOL_H
#define EDGESHIFT_EVENTS_SPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct es_spool {
	char		dir[256];
	pthread_mutex_t	lock;		/* the write side and depth */
	pthread_cond_t	cond;		/* signalled on append and on stop */
	int		wfd, dfd, ackfd;
	uint64_t	wseg, woff;	/* where the next append goes */
	bool		dirty;		/* appended since the last fdatasync */
	uint64_t	depth;		/* records not acknowledged */
	uint64_t	max;
	/* the read side, the delivery thread's alone */
	int		rfd;
	uint64_t	aseg, aoff;	/* the first record not acknowledged */
	char		*buf;		/* bytes of segment aseg from offset boff */
	size_t		bcap, blen;
	uint64_t	boff;
};

/* Opens or recovers DIR: a torn last line is cut, segments already acknowledged removed. */
int es_spool_open(struct es_spool *sp, const char *dir, uint64_t max, char *err, size_t len);
void es_spool_close(struct es_spool *sp);
/* Appends one line (no newline in it); -ENOSPC when full, -errno when the write fails. */
int es_spool_append(struct es_spool *sp, const char *line, size_t n);
uint64_t es_spool_depth(struct es_spool *sp);
/* Makes the appends durable before any of them is posted. */
void es_spool_sync(struct es_spool *sp);
/*
 * The first record not acknowledged, NUL-terminated in the spool's buffer
 * (valid until the next call): 1, 0 when there is none, -errno.
 */
int es_spool_peek(struct es_spool *sp, const char **line, size_t *n);
/* The record es_spool_peek returned is done with. */
void es_spool_ack(struct es_spool *sp, size_t n);

#endif
