/* SPDX-License-Identifier: GPL-2.0-only */
/* What the events room's files share among themselves; others use events.h. */
#ifndef EDGESHIFT_EVENTS_INT_H
#define EDGESHIFT_EVENTS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include "events.h"
#include "spool.h"

#define ES_EV_LAT_BUCKETS	12
#define ES_EV_SEEN_SLOTS	4096	/* user.attached: remembered (user, service) pairs */
#define ES_EV_UTIL_IFACES	64	/* utilisation.crossed: interfaces tracked at once */

enum es_ev_drop {
	ES_EV_DROP_FULL,	/* the spool held spool_max_events */
	ES_EV_DROP_WRITE,	/* the spool could not be written */
	ES_EV_DROP_REJECTED,	/* a non-retryable answer and no dead-letter sink */
	ES_EV_DROP_CORRUPT,	/* a spooled record that does not parse */
	ES_EV_DROP_BUILD,	/* an event whose data or record could not be built */
	ES_EV_DROPS,
};

/*
 * "namespace/name" of a pod, as the agent holds them (es_iface_signal: a
 * namespace of 63 bytes, a name of 255): cut shorter, two pods could
 * share a key, or one never match its own
 */
#define ES_EV_POD_LEN		(63 + 1 + 255 + 1)

/* One interface's utilisation state, keyed as es_ev_iface says. */
struct es_ev_util_state {
	char		pod[ES_EV_POD_LEN];	/* "" for the node's own interfaces */
	char		ifname[16];
	uint32_t	ifindex;
	bool		above;
	bool		seen;	/* reported since the last round's end */
};

struct es_events {
	struct es_events_config	cfg;
	char			node[64];
	char			source[128];	/* "/edgeshift/NODE" */
	struct es_spool		spool;
	pthread_t		threads[ES_EV_MAX_PARALLEL];
	unsigned int		n_threads;
	atomic_bool		stop;
	atomic_uint_fast64_t	emitted[ES_EV_TYPES];
	atomic_uint_fast64_t	delivered, retried, dead_lettered, attempts;
	atomic_uint_fast64_t	dropped[ES_EV_DROPS];
	atomic_uint_fast64_t	lat_bucket[ES_EV_LAT_BUCKETS + 1];	/* last: +Inf */
	atomic_uint_fast64_t	lat_count;
	_Atomic double		lat_sum;
	/*
	 * sources.c: the pairs already announced; the interfaces of the last
	 * rounds, above the threshold or not, and this round's that found the
	 * table full (counted at the round's end, when it is known whether
	 * the table is full of live interfaces or of gone ones)
	 */
	pthread_mutex_t		src_lock;
	uint64_t		seen[ES_EV_SEEN_SLOTS];
	struct es_ev_util_state	util[ES_EV_UTIL_IFACES];
	unsigned int		n_util;
	unsigned int		util_missed;
	struct es_ev_util_state	util_missed_if;	/* the first left out this round */
	bool			util_full_logged;
	bool			lat_above[ES_EV_LAT_KINDS];
	atomic_uint_fast64_t	util_untracked;
};

extern const double es_ev_lat_bounds[ES_EV_LAT_BUCKETS];

/*
 * ce.c: the spool record {"t": emitted ns, "ce": the event in structured
 * form}; NULL when any part of it cannot be built (data consumed).
 */
char *es_ce_record(const struct es_events *ev, enum es_ev_type type, const char *where,
		   const char *subject, json_t *data);

/* A spooled event ready to post: headers (NULL-ended), body, content type. */
/*
 * Headers of a binary-mode message: the record's attributes (the core
 * ones and ours, under 16), every K_CE_OVERRIDES extension and the two
 * knativeerror* of a dead letter, and the NULL that ends them.
 */
#define ES_CE_MAX_HDR	(16 + ES_EV_MAX_OVERRIDES + 2 + 1)

struct es_ce_msg {
	const char	*hdr[ES_CE_MAX_HDR];
	char		*hdr_mem[ES_CE_MAX_HDR];
	unsigned int	n_hdr;
	char		*body;
	const char	*content_type;
	uint64_t	emitted_ns;
	char		id[64];
};

/* 0, or -1 when the record does not parse. extra (may be NULL) adds extensions. */
int es_ce_message(json_t *rec, enum es_ev_mode mode, const json_t *extra, struct es_ce_msg *m);
void es_ce_message_free(struct es_ce_msg *m);

/* deliver.c: the delivery threads (parallelism of them) */
int es_deliver_start(struct es_events *ev);
void es_deliver_stop(struct es_events *ev);

#endif /* EDGESHIFT_EVENTS_INT_H */
