/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live migration of a runc container to a peer agent (Paper D), in phases
 * a caller (the CLI through the HTTP API, or a forwarding state machine)
 * can drive one by one:
 *
 *   es_mig_prepare      target checks the name is free and whether it holds the image
 *   es_mig_checkpoint   pause, CRIU dump with the container left running, pack
 *                       the writable layer (consistent with the dump), resume
 *   es_mig_transfer     stream image (complete mode, or a target without it),
 *                       layer and checkpoint over HTTP, zstd, sha256 per object
 *   es_mig_restore      target verifies, unpacks, restores under runc with the
 *                       same spec in its own network namespace
 *   es_mig_stop_source  only after the target reported the container running
 *
 * A failure in any phase resumes the source (it never stops before the
 * target runs), asks the target to remove what it made, and logs "failed"
 * with the reason. Every phase is an event in the log (event_log.h).
 */
#ifndef EDGESHIFT_MIGRATE_H
#define EDGESHIFT_MIGRATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "container.h"
#include "event_log.h"
#include "util/fs_util.h"
#include "mig_config.h"

enum es_mig_state {
	ES_MIG_RUNNING,		/* phases in progress */
	ES_MIG_RESTORED,	/* running at the target, source still running */
	ES_MIG_DONE,		/* source stopped */
	ES_MIG_FAILED,		/* source running, target cleaned */
};

enum es_mig_phase_id { ES_PH_CHECKPOINT, ES_PH_TRANSFER, ES_PH_RESTORE, ES_PH_STOP, ES_PH_MAX };

struct es_mig_phase {
	uint64_t	start_ns, end_ns;	/* CLOCK_REALTIME, 0 when not reached */
	uint64_t	bytes;			/* checkpoint: CRIU image; transfer: on the wire */
	uint64_t	raw_bytes;		/* before compression */
};

#define ES_MIG_OBJECTS	3	/* image, layer, checkpoint */

struct es_mig_object {
	const char	*name;
	char		path[ES_PATH + 64];	/* packed archive on the source */
	char		sha256[65];
	uint64_t	bytes, raw_bytes;
	bool		present;
};

struct es_migration {
	char			id[40];
	char			container[64];
	char			to[64];
	char			url[256];
	bool			complete;	/* mode */
	bool			stop_source;
	bool			target_has_image;
	enum es_mig_state	state;
	const char		*phase;		/* current phase name */
	char			error[512];
	uint64_t		requested_ns;
	uint64_t		freeze_ns;	/* source paused for the dump and layer */
	uint64_t		bytes_sent, bytes_total;
	uint64_t		restore_target_ms;
	const char		*target_state;	/* running, absent, unknown (lost outcome) */
	struct es_mig_phase	ph[ES_PH_MAX];
	struct es_mig_object	obj[ES_MIG_OBJECTS];
	json_t			*spec;
	struct es_migration	*next;
};

/* Target side: an incoming migration whose restore was asked for. */
enum es_mig_in_state { ES_IN_RESTORING, ES_IN_RUNNING, ES_IN_FAILED };

struct es_mig_in {
	char			id[40];
	char			container[64];
	enum es_mig_in_state	state;
	bool			abort_requested;	/* the source gave up: remove when done */
	bool			done;			/* its thread ended: may be pruned */
	double			restore_ms;
	int			code;			/* HTTP status of a failure */
	char			error[512];
	struct es_mig_in	*next;
};

struct es_migrator {
	const struct es_mig_config	*cfg;
	struct es_runtime		rt;
	struct es_event_log		log;
	char				node[64];
	pthread_mutex_t			lock;	/* the list and every progress field */
	struct es_migration		*list;
	struct es_mig_in		*incoming;	/* restores asked of this node */
	const char			*fault;	/* $EDGESHIFTD_FAULT, for fault tests */
};

int es_migrator_init(struct es_migrator *m, const struct es_mig_config *cfg, const char *node,
		     char *err, size_t err_len);
void es_migrator_close(struct es_migrator *m);

/*
 * Start a migration in a worker thread; returns it (owned by m) or NULL
 * with err (and *http_code) set. req: {container, to, mode, stop_source}.
 */
struct es_migration *es_migration_begin(struct es_migrator *m, json_t *req, int *http_code,
				  char *err, size_t err_len);
/* Phases (the worker runs them in order); 0 or -1 with mg->error set. */
int es_mig_prepare(struct es_migrator *m, struct es_migration *mg);
int es_mig_checkpoint(struct es_migrator *m, struct es_migration *mg);
int es_mig_transfer(struct es_migrator *m, struct es_migration *mg);
int es_mig_restore(struct es_migrator *m, struct es_migration *mg);
int es_mig_stop_source(struct es_migrator *m, struct es_migration *mg);

struct es_migration *es_mig_find(struct es_migrator *m, const char *id);
json_t *es_mig_json(struct es_migrator *m, struct es_migration *mg);
json_t *es_mig_list_json(struct es_migrator *m);

/* Target side (migrate_target.c); HTTP status and JSON answer. */
int es_mig_in_prepare(struct es_migrator *m, json_t *req, json_t **resp);
/* Starts the restore in a thread: 202, then es_mig_in_status tells the outcome. */
int es_mig_in_restore(struct es_migrator *m, const char *id, json_t *req, json_t **resp);
/* {state: restoring|running|failed|absent, ...} of migration id on this node. */
int es_mig_in_status(struct es_migrator *m, const char *id, json_t **resp);
/* The same, answered once the restore is no longer "restoring" or after wait_ms. */
int es_mig_in_status_wait(struct es_migrator *m, const char *id, unsigned int wait_ms,
			  json_t **resp);
/* Remove everything of id, including a container it restored. */
int es_mig_in_abort(struct es_migrator *m, const char *id, json_t **resp);

/* Source side (migrate_outcome.c). */
/* How long the target may hold a restore or status request open (a long poll). */
unsigned int es_mig_wait_ms(const struct es_migrator *m);
/*
 * The answer to POST restore?wait_ms (code, resp): 1 the target runs it, -1
 * failed (mg->error set), 0 no outcome in it (202: still restoring, or a
 * target without the long poll): then es_mig_await_restore.
 */
int es_mig_restore_answer(struct es_migrator *m, struct es_migration *mg, int code, json_t *resp);
/* After POST restore (posted: the target answered 202): wait for its outcome. */
int es_mig_await_restore(struct es_migrator *m, struct es_migration *mg, bool posted);
/*
 * Ask the target to remove what it has of mg; with settle, retry for
 * resolve_timeout_ms. true when the target confirmed.
 */
bool es_mig_abort_target(struct es_migrator *m, struct es_migration *mg, bool settle);

/* $EDGESHIFTD_FAULT (comma-separated) names fault. */
bool es_mig_fault(const struct es_migrator *m, const char *fault);
/* The image is unpacked while it arrives (stream_unpack.h), installed once verified. */
struct es_stream_unpack;
struct es_stream_unpack *es_mig_in_image_begin(struct es_migrator *m, const char *id);
/* whole: the upload ended complete (else the staging is dropped). */
void es_mig_in_image_end(struct es_migrator *m, const char *id, struct es_stream_unpack *u,
			 bool whole);
/* Staging path of an uploaded object; -1 for an unknown object name or id. */
int es_mig_in_object_path(struct es_migrator *m, const char *id, const char *object,
			  char *buf, size_t len);

#endif
