/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record of one zero-downtime migration at its source: its step, its
 * events in the node's event log and its progress file STATE/zdm/ID.json.
 * The state machine (zdm.c) and the hold (zdm_hold.c) both write it; it
 * uses neither, so neither depends on the other through it.
 */
#ifndef EDGESHIFT_ZDM_RECORD_H
#define EDGESHIFT_ZDM_RECORD_H

#include "zdm_int.h"

/* The event ev of zm in the log, with its session and engine migration. */
void es_zdm_event(struct es_zdm *z, struct es_zdm_mig *zm, const char *ev, json_t *f);
/* zm reached step s: recorded, persisted and logged with detail f. */
void es_zdm_set_step(struct es_zdm *z, struct es_zdm_mig *zm, enum es_zdm_step s, json_t *f);
/* The progress a restarted agent needs, written atomically. */
void es_zdm_persist(struct es_zdm *z, struct es_zdm_mig *zm);
/* Keep the first reason zm failed; returns -1. */
int es_zdm_fail(struct es_zdm *z, struct es_zdm_mig *zm, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Set zm's reason, replacing any, under z->lock: the API's threads read
 * it (es_zdm_json) while the migration's thread writes it.
 */
void es_zdm_set_error(struct es_zdm *z, struct es_zdm_mig *zm, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
