/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live migration of a runc container to a peer agent, in phases
 * a caller (the CLI through the HTTP API, or a forwarding state machine)
 * can drive one by one:
 *
 *   es_mig_prepare      target checks the name is free and whether it holds the image
 *   es_mig_checkpoint   pause, CRIU dump with the container left running, pack
 *                       the writable layer (consistent with the dump), resume
 *   es_mig_transfer     stream image (complete mode, or a target without it),
 *                       layer and checkpoint over HTTP, zstd, sha256 per object;
 *                       to a target that takes bundles, with the restore
 *                       request in the same PUT (bundle.h)
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
#include "peer_tcp.h"

struct es_http_pool;

/*
 * Why the engine refused or failed a request. Adapters map each to their
 * own status (agent/api/mig_status.c for HTTP); the engine never names one.
 */
enum es_mig_err {
	ES_MIG_OK = 0,
	ES_MIG_EINVAL,		/* the request is malformed or names no valid peer/object */
	ES_MIG_ENOENT,		/* unknown container, migration or step */
	ES_MIG_EEXIST,		/* the name is taken on this node */
	ES_MIG_EBUSY,		/* in progress already, or the state does not allow it */
	ES_MIG_ENOIMAGE,	/* the image is neither here nor sent */
	ES_MIG_ECORRUPT,	/* an object arrived changed (checksum, size) */
	ES_MIG_EUNAVAIL,	/* the feature is not configured on this node */
	ES_MIG_EINTERNAL,	/* this node failed (I/O, memory, runc) */
};

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
/* Index of each in es_migration.obj[], es_mig_object_names and a bundle's records (bundle.h). */
enum { ES_MIG_OBJ_IMAGE, ES_MIG_OBJ_LAYER, ES_MIG_OBJ_CHECKPOINT };
extern const char *const es_mig_object_names[ES_MIG_OBJECTS];
extern const char *const es_mig_phase_names[ES_PH_MAX];

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
	bool			target_bundle;	/* the target takes bundles (bundle.h) */
	/* a bundle's answer: its restore request's, for es_mig_restore */
	int			bundle_code;
	json_t			*bundle_resp;
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
	bool			recorded;	/* its worker runs: kept on disk (migrate_record.c) */
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
	enum es_mig_err		failure;		/* why it failed */
	char			error[512];
	struct es_mig_in	*next;
};

struct es_migrator {
	const struct es_mig_config	*cfg;
	struct es_runtime		rt;
	struct es_event_log		log;
	char				node[64];
	pthread_mutex_t			lock;	/* the list and every progress field */
	pthread_cond_t			changed;	/* a migration's state or phase moved */
	struct es_migration		*list;
	struct es_mig_in		*incoming;	/* restores asked of this node */
	struct es_mig_in_pod		*pods;		/* pods made at a prepare (in_pod.c) */
	struct es_peer_tcp_ctl		peer_tcp;	/* sockops tuning towards the peers */
	/*
	 * Kept connections to the peers (transfer.h), NULL: one per request;
	 * made on first use (es_migrator_peers), and lives as long as the
	 * migrator, as detached workers may use it.
	 */
	pthread_mutex_t			peers_lock;
	bool				peers_made;
	struct es_http_pool		*peers;
	/* es_migrator_set_checkpoint_hook */
	int				(*checkpointed)(void *arg, const char *name, char *err,
							size_t err_len);
	void				*checkpointed_arg;
};

int es_migrator_init(struct es_migrator *m, const struct es_mig_config *cfg, const char *node,
		     char *err, size_t err_len);
void es_migrator_close(struct es_migrator *m);
/*
 * For a caller that drives migrations around the engine (the zdm room):
 * the container runtime the engine migrates with, the pooled connections
 * to the peer agents, and an event in the node's event log beside the
 * engine's own (fields may be NULL; consumed).
 */
struct es_runtime *es_migrator_runtime(struct es_migrator *m);
struct es_http_pool *es_migrator_peers(struct es_migrator *m);
void es_migrator_event(struct es_migrator *m, const char *role, const char *migration,
		       const char *container, const char *event, json_t *fields);

/* What a caller asks of es_migration_begin. */
struct es_mig_request {
	const char	*container;
	const char	*to;		/* a peer of migration.peers */
	const char	*mode;		/* "partial" or "complete" */
	bool		stop_source;
};

/*
 * Start a migration in a worker thread: ES_MIG_OK and *out (owned by m),
 * or the reason in err.
 */
enum es_mig_err es_migration_begin(struct es_migrator *m, const struct es_mig_request *req,
				   struct es_migration **out, char *err, size_t err_len);

/* What es_mig_wait waits for. */
enum es_mig_milestone {
	ES_MIG_AT_CHECKPOINT,	/* the checkpoint is taken */
	ES_MIG_AT_RESTORED,	/* the target runs the container */
	ES_MIG_AT_END,		/* the worker is done (restored, done or failed) */
};

/*
 * Block until mg reaches what, at most timeout_ms: 0, -ETIMEDOUT, or
 * -ECANCELED when the migration failed before it (its error in err).
 */
int es_mig_wait(struct es_migrator *m, struct es_migration *mg, enum es_mig_milestone what,
		unsigned int timeout_ms, char *err, size_t err_len);
enum es_mig_state es_mig_state_get(struct es_migrator *m, struct es_migration *mg);

/*
 * Called around every pause of a container (container.h): a caller that
 * must quiesce the container's traffic first installs them once.
 */
void es_migrator_set_pause_hooks(struct es_migrator *m,
				 int (*before_pause)(void *arg, const char *name, char *err,
						     size_t err_len),
				 void (*before_resume)(void *arg, const char *name),
				 void (*after_resume)(void *arg, const char *name), void *arg);
/*
 * Called between a checkpoint and its transfer, with the container's
 * name: a caller that can tell the migration is lost already (zdm: the
 * target gave a session up) fails it there, 0 or -1 with err, so that the
 * image is not sent for nothing.
 */
void es_migrator_set_checkpoint_hook(struct es_migrator *m,
				     int (*checkpointed)(void *arg, const char *name, char *err,
							 size_t err_len), void *arg);
/*
 * Phases (the worker runs the prepare beside the checkpoint, the others
 * in order); 0 or -1 with mg->error set.
 */
int es_mig_prepare(struct es_migrator *m, struct es_migration *mg);
int es_mig_checkpoint(struct es_migrator *m, struct es_migration *mg);
int es_mig_transfer(struct es_migrator *m, struct es_migration *mg);
int es_mig_restore(struct es_migrator *m, struct es_migration *mg);
int es_mig_stop_source(struct es_migrator *m, struct es_migration *mg);

/*
 * The record of a running migration on disk (migrate_record.c): saved at
 * its start and every phase, dropped when its worker ends; recover, at the
 * agent's start, settles those an earlier agent left (failed, or done when
 * it died stopping the source) and resumes a container left paused; main.c
 * calls it once after es_migrator_init, before the zdm room starts.
 */
void es_mig_record_save(struct es_migrator *m, struct es_migration *mg);
void es_mig_record_drop(struct es_migrator *m, struct es_migration *mg);
void es_mig_record_recover(struct es_migrator *m);

struct es_migration *es_mig_find(struct es_migrator *m, const char *id);
json_t *es_mig_json(struct es_migrator *m, struct es_migration *mg);
json_t *es_mig_list_json(struct es_migrator *m);

/*
 * Target side (migrate_target.c). Each returns ES_MIG_OK with the answer
 * in *resp, or the reason in err.
 */
/* An incoming migration announced by its source. */
struct es_mig_in_request {
	const char	*id, *container, *mode;
	const char	*from;		/* the source node, for the log; may be NULL */
	json_t		*spec;		/* the container's spec (container.h) */
};
/* *resp: {have_image}. */
enum es_mig_err es_mig_in_prepare(struct es_migrator *m, const struct es_mig_in_request *req,
				  json_t **resp, char *err, size_t err_len);

/* What the source sent of one object (image, layer, checkpoint). */
struct es_mig_in_object {
	bool		sent;		/* named in the restore request */
	const char	*sha256;	/* NULL when not given */
	uint64_t	bytes;
};
/* Starts the restore of objs[ES_MIG_OBJECTS] in a thread; es_mig_in_status tells the outcome. */
enum es_mig_err es_mig_in_restore(struct es_migrator *m, const char *id,
				  const struct es_mig_in_object *objs, json_t **resp,
				  char *err, size_t err_len);
/*
 * {state: restoring|running|failed|absent, ...} of migration id on this
 * node, answered once the restore is no longer "restoring" or after
 * wait_ms; *failure: why a failed restore failed (ES_MIG_OK otherwise).
 */
enum es_mig_err es_mig_in_status(struct es_migrator *m, const char *id, unsigned int wait_ms,
				 json_t **resp, enum es_mig_err *failure, char *err,
				 size_t err_len);
/* Remove everything of id, including a container it restored. */
enum es_mig_err es_mig_in_abort(struct es_migrator *m, const char *id, json_t **resp,
				char *err, size_t err_len);

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

/*
 * Whether the named fault is to be injected. Only the test build
 * (edgeshiftd-faults, agent/testing/mig_fault.c) can say yes; the product
 * links mig_fault_off.c, which never does.
 */
bool es_mig_fault(const char *fault);
/* Read the faults to inject and say so in the log (the test build only). */
void es_mig_fault_init(void);
/*
 * Objects are unpacked while they arrive (in_unpack.c, stream_unpack.h)
 * into their stage (es_mig_in_stage), used only once verified; begin gives
 * NULL when it cannot start (or the image is held already: the restore
 * then unpacks the file, or needs nothing).
 */
struct es_stream_unpack;
void es_mig_in_stage(struct es_migrator *m, const char *id, const char *name, char *buf,
		     size_t len);
struct es_stream_unpack *es_mig_in_unpack_begin(struct es_migrator *m, const char *id,
						const char *name);
/* whole: the upload ended complete (else the stage is dropped). */
void es_mig_in_unpack_end(struct es_migrator *m, const char *id, const char *name,
			  struct es_stream_unpack *u, bool whole);
/* 1: unpacked in its stage, 0: not (unpack the file), -1: refused (*e, msg). */
int es_mig_in_unpacked(struct es_migrator *m, const char *id, const char *name,
		       enum es_mig_err *e, char *msg, size_t msg_len);
/* An unpacking's -errno as the migration's error (an unsafe archive: the sender's). */
enum es_mig_err es_mig_unpack_err(int ret);
/* An incoming migration's staging directory, and the manifest its prepare kept there (or NULL). */
void es_mig_in_dir(struct es_migrator *m, const char *id, char *buf, size_t len);
json_t *es_mig_in_manifest(struct es_migrator *m, const char *id);
/*
 * The pod of an incoming container, made from its prepare on while the
 * objects travel (in_pod.c; only with migration.pod_network): start it;
 * take it at the restore (true: wired, the restore adopts it; false: the
 * restore runs the ADD); drop it when the migration ends without a
 * restore (its DEL, unless a container of the name owns the pod); close
 * waits for all (the migrator's end).
 */
struct es_mig_in_pod;
void es_mig_in_pod_start(struct es_migrator *m, const char *id, const char *ct, json_t *spec);
bool es_mig_in_pod_take(struct es_migrator *m, const char *id);
void es_mig_in_pod_drop(struct es_migrator *m, const char *id);
void es_mig_in_pods_close(struct es_migrator *m);
/* Staging path of an uploaded object; -1 for an unknown object name or id. */
int es_mig_in_object_path(struct es_migrator *m, const char *id, const char *object,
			  char *buf, size_t len);

#endif
