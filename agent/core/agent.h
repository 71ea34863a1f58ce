/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * State of one edgeshiftd process, shared by the main loop (netlink, close
 * events, collection) and the HTTP thread (metrics, API). lock guards the
 * attachment list, the snapshot and the counters below.
 */
#ifndef EDGESHIFT_AGENT_H
#define EDGESHIFT_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <edgeshift/session.h>
#include "config.h"
#include "accounting/datapath.h"
#include "bpf/session_table.h"

#define ES_VERSION	"0.1.0"
#define ES_PROTO_SLOTS	4	/* tcp, udp, icmp, icmpv6 */

struct ring_buffer;
struct es_migrator;
struct es_zdm;
struct es_node_signals;

/* Per-interface figures of the latest collection scan. */
struct es_iface_active {
	__u32	ifindex;
	__u64	active[ES_PROTO_SLOTS];
};

struct es_snapshot {
	__u64			taken_mono_ns;
	size_t			entries[2];	/* live entries: IPv4, IPv6 */
	struct es_iface_active	*ifaces;
	size_t			n_ifaces;
	struct es_session	*top;		/* largest sessions, for per-session metrics */
	size_t			n_top;
};

struct es_gc_stats {
	__u64	runs;
	__u64	collected[ES_CLOSE_MAX];
	__u64	close_events;
	__u64	last_duration_ns;
	__u64	evictions;		/* monotonic: never below an earlier value */
};

struct es_agent {
	struct es_config	cfg;
	struct es_datapath	dp;
	pthread_mutex_t		lock;
	struct es_snapshot	snap;
	struct es_gc_stats	gc;
	struct ring_buffer	*events;
	__u64			close_due_ns;	/* earliest pending close, 0 if none */
	time_t			start_time;
	struct es_migrator	*mig;		/* containers and migrations (migration.h) */
	struct es_zdm		*zdm;		/* zero-downtime migrations (zdm.h) */
	struct es_node_signals	*signals;	/* node_signals.c: placement signals */
};

static inline __u64 es_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int es_proto_slot(unsigned int proto);

/* collector.c */
int es_collector_open(struct es_agent *a);
int es_collector_fd(struct es_agent *a);
void es_collector_consume(struct es_agent *a);
/* Collect closed and idle sessions and refresh the snapshot. */
void es_collector_run(struct es_agent *a);
void es_collector_close(struct es_agent *a);

/* metrics.c: the Prometheus text exposition; malloc'd, *len set. */
char *es_metrics_render(struct es_agent *a, size_t *len);

/* api.c */
struct MHD_Daemon *es_api_start(struct es_agent *a, char *err, size_t err_len);
void es_api_stop(struct MHD_Daemon *d);

#endif /* EDGESHIFT_AGENT_H */
