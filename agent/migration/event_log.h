/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The migration event log, the record both nodes keep: one JSON object per
 * line, appended on each node, merged by `edgeshift migrate --merge-logs`.
 * Stable format, version 1; every line has
 *   v        1
 *   ts       RFC 3339 UTC time with microseconds, for people
 *   ts_ns    CLOCK_REALTIME nanoseconds, for arithmetic across nodes
 *   node     the node that logged it
 *   role     "source" or "target"
 *   migration, container, event
 * and, by event: mode, to, from (requested), bytes (checkpoint_end: the
 * CRIU image size; transfer_end: bytes on the wire), raw_bytes, objects,
 * reason (failed), elapsed_ms. Events: requested, checkpoint_start,
 * checkpoint_end, transfer_start, transfer_end, restore_start,
 * restore_end, source_stopped, failed, unresolved (the target's outcome
 * stayed unknown: a copy may run there too).
 */
#ifndef EDGESHIFT_EVENT_LOG_H
#define EDGESHIFT_EVENT_LOG_H

#include <pthread.h>
#include <jansson.h>

/* Called with each record after it is logged (the Detector); rec is borrowed. */
typedef void (*es_event_tap_fn)(void *arg, const json_t *rec);

struct es_event_log {
	pthread_mutex_t	lock;
	int		fd;
	char		node[64];
	es_event_tap_fn	tap;		/* NULL: none; set before any thread logs */
	void		*tap_arg;
};

int es_event_log_open(struct es_event_log *l, const char *path, const char *node);
void es_event_log_close(struct es_event_log *l);
/* Every record from now on is also handed to fn (the migration room knows no more of it). */
void es_event_log_tap(struct es_event_log *l, es_event_tap_fn fn, void *arg);

/* Append one event; fields (may be NULL) is consumed. */
void es_event(struct es_event_log *l, const char *role, const char *migration,
	      const char *container, const char *event, json_t *fields);

#endif
