/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Zero-downtime migration: the state machine around the
 * migration engine (migration/migration.h) and the forwarding data plane
 * (lib/migctl, lib/replay). docs/migration.md tells the protocol.
 *
 * The source agent drives a migration; the target agent owns the data
 * plane's session (the user now reaches the target) and runs each
 * data-plane step when the source asks it (/v1/zdm/target/..., zdm_api.c):
 *
 *   source                         target
 *   requested                      start: forward + mirror
 *   engine: prepare
 *   engine: checkpoint, inside it, all local (zdm_hold.c):
 *     hold tunnelled requests, wait answered, receive queue empty,
 *     pause, dump, resume, deliver the held requests, open
 *                                  cursor: records up to it deleted
 *   engine: transfer, restore
 *                                  replay, cut over, wait the
 *                                  old container's last answer
 *   stop the old container
 *                                  finish: buffer and entry deleted
 *
 * Every step is an event in the node's event log (event_log.h) and the
 * source's progress is a file in STATE/zdm/, so an agent restarted in the
 * middle aborts cleanly (before cut-over) or completes (after it).
 *
 * This header is the zdm room's door: what main.c (start, stop), core
 * (the configuration) and the HTTP adapter (agent/api/zdm_api.c) use. What
 * the room's files share among themselves is in zdm_int.h. Requests are
 * refused with the migration room's domain errors (enum es_mig_err) and a
 * message; the HTTP adapter gives them their status.
 */
#ifndef EDGESHIFT_ZDM_H
#define EDGESHIFT_ZDM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <edgeshift/migration.h>
#include "migctl/ctl.h"
#include "migctl/names.h"
#include "replay/replay.h"
#include "migration/migration.h"
#include "zdm_config.h"

struct es_zdm;

/* Where a zero-downtime migration is; the numbers order the steps. */
enum es_zdm_step {
	ES_ZDM_REQUESTED = 0,
	ES_ZDM_FORWARDING,	/* target forwards and mirrors */
	ES_ZDM_HELD,		/* source holds tunnelled requests; the old container answered everything */
	ES_ZDM_CHECKPOINTED,	/* the engine's checkpoint is taken, held requests delivered */
	ES_ZDM_RESUMED,		/* the target knows the cursor; transfer, restore */
	ES_ZDM_RESTORED,	/* the restored container runs at the target */
	ES_ZDM_CUT_OVER,	/* replayed and cut over; the old container answered its last */
	ES_ZDM_SOURCE_STOPPED,
	ES_ZDM_DONE,
	ES_ZDM_FAILED,
	ES_ZDM_STEP_MAX,
};

/*
 * The sessions one migration keeps alive: every connection of a busy
 * container (docs/migration.md, "All sessions of a container").
 */
#define ES_ZDM_MAX_SESSIONS	256

/* One user session of a migration: a UDP user, or one TCP connection. */
struct es_zdm_sess {
	struct es_mig_key	key;
	char			key_text[ES_MIG_KEY_TEXT_LEN];
	uint64_t		hold_seq, cut_seq;	/* hold_seq: the cursor */
	bool			keep_cursor;	/* nothing delivered before the hold: the
						 * target keeps the cursor it started with */
	bool			cut;		/* the target cut it over */
	/* UDP: the source's reply ordinal at the freeze (es_mig_session.reply_base) */
	uint64_t		reply_base;
	bool			has_reply_base;
	unsigned int		held_sent, replayed;
	json_t			*exactly_once;	/* the check after cut-over; NULL before */
};

struct es_zdm_mig {
	char			id[40];
	char			engine_id[40];	/* the engine's migration (its events carry it) */
	char			container[64];
	char			to[64];		/* target node */
	char			url[256];	/* target agent */
	struct es_zdm_sess	*sess;		/* n_sess of them, at least one */
	unsigned int		n_sess;
	unsigned int		poll_next;	/* the session whose state is looked at next */
	/* the first session: its events' label */
	char			key_text[ES_MIG_KEY_TEXT_LEN];
	bool			complete;
	enum es_zdm_step	step;
	uint64_t		step_ns[ES_ZDM_STEP_MAX];	/* CLOCK_REALTIME */
	atomic_bool		quiesce;	/* the next pause of the container holds */
	atomic_bool		holding;	/* the source-side hold is on */
	char			error[512];
	struct es_migration	*mg;
	struct es_zdm		*z;		/* the instance it belongs to */
	struct es_zdm_mig	*next;
};

/*
 * Target side: the TCP sessions each migration started here (by its id),
 * so that its connections are replayed together (zdm_group.c). A few
 * migrations at once; the oldest record makes room.
 */
#define ES_ZDM_GROUPS		8
#define ES_ZDM_GROUP_MAX	64	/* ES_MIG_TCP_GROUP_MAX */
struct es_zdm_group {
	char			id[40];		/* the migration's; "" unused */
	__u64			created_ns;	/* CLOCK_MONOTONIC ns of its first start here */
	unsigned int		n;
	struct es_mig_key	keys[ES_ZDM_GROUP_MAX];
	/* segments replayed into each so far, whichever call handed them */
	unsigned int		replayed[ES_ZDM_GROUP_MAX];
	unsigned int		again[ES_ZDM_GROUP_MAX];
	/* CLOCK_MONOTONIC ns the latest catch-up pass that caught each up began; 0 none */
	__u64			caught_up_ns[ES_ZDM_GROUP_MAX];
};

/* What es_zdm_start needs of the agent (all outlive the instance). */
struct es_zdm_params {
	const struct es_zdm_config	*cfg;
	const struct es_mig_config	*mig;		/* peers, token, timeouts, state_dir */
	const char			*node_name;
	const char			*pin_path;
	struct es_migrator		*m;
};

struct es_zdm {
	const struct es_zdm_config	*cfg;
	const struct es_mig_config	*mcfg;
	const char			*node_name;
	const char			*pin_path;
	struct es_migrator		*m;
	struct migration		*skel;
	struct es_mig_dp		dp;
	bool				dp_ready;
	pthread_mutex_t			lock;	/* list and progress fields */
	struct es_zdm_mig		*list;
	pthread_t			events_thread;
	bool				events_running;	/* events_thread was started */
	atomic_bool			stopping;
	/*
	 * Source side: requests missing on the tunnel (zdm_gap.c). gap_lock
	 * keeps the gap thread's deliveries out of the hold: a request
	 * delivered while the hold reads its cursor could be in the image and
	 * replayed too.
	 */
	pthread_t			gap_thread;
	pthread_mutex_t			gap_lock;
	pthread_cond_t			gap_cond;
	bool				gap_kicked;
	bool				gap_running;
	/* target side: one replay at a time, and what each migration started */
	pthread_mutex_t			group_lock;
	struct es_zdm_group		groups[ES_ZDM_GROUPS];
	unsigned int			group_next;
};

/* zdm_dp.c: load and attach the data plane, register services, read its events. */
int es_zdm_start(struct es_zdm *z, const struct es_zdm_params *p, char *err, size_t err_len);
void es_zdm_stop(struct es_zdm *z);

/* What es_zdm_begin is asked (any may be NULL: refused as the engine would). */
struct es_zdm_request {
	const char	*container, *to, *mode;
	const char	*session;	/* SESSION[,SESSION...]; NULL: every connection of the
					 * container's TCP services (zdm_sessions.c) */
};

/* zdm.c: the source's state machine; ES_MIG_OK with *out, or the reason in err. */
enum es_mig_err es_zdm_begin(struct es_zdm *z, const struct es_zdm_request *req,
			     struct es_zdm_mig **out, char *err, size_t err_len);
struct es_zdm_mig *es_zdm_find(struct es_zdm *z, const char *id);
json_t *es_zdm_json(struct es_zdm *z, const struct es_zdm_mig *zm);
json_t *es_zdm_list_json(struct es_zdm *z);

/* The arguments of a target step (NULL when not given). */
struct es_zdm_target_args {
	const char	*id, *session, *container;
	const char	*from, *to;	/* resend: the requests the source misses */
	const char	*source;	/* start: the source's tunnel address */
	const char	*cursor;	/* cursor: the last request the image holds */
	const char	*reply_base;	/* cursor: the source's reply ordinal at the freeze */
	const char	*remove;	/* abort: a restored container to remove */
	const char	*reason;	/* abort: why */
	const char	*delivered;	/* abort: the last request the source delivered */
	const char	*replies;	/* verify (UDP): the source's reply count, the old container
					 * stopped */
};

/*
 * zdm_target.c: the target's data-plane step op. *resp is always the
 * answer ({error} when refused); the session's state is in it once the
 * session key was understood.
 */
enum es_mig_err es_zdm_target_op(struct es_zdm *z, const char *op,
				 const struct es_zdm_target_args *a, json_t **resp);

/*
 * zdm_gap.c: the source's step op, asked by the target (resend: replies
 * the WAN lost, from its copies). *resp is always the answer.
 */
enum es_mig_err es_zdm_source_op(struct es_zdm *z, const char *op,
				 const struct es_zdm_target_args *a, json_t **resp);

#endif
