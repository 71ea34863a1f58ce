/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The accounting room, its only door: the agent's hold on the kernel side
 * (datapath.c), the collection of ended sessions (collector.c) and the
 * Prometheus series of both (metrics.c). It knows nothing of the agent
 * around it: the caller hands it its part of the configuration and owns
 * the struct es_accounting it works on.
 */
#ifndef EDGESHIFT_ACCOUNTING_H
#define EDGESHIFT_ACCOUNTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <edgeshift/session.h>
#include "bpf/es_maps.h"
#include "bpf/session_table.h"

#define ES_PROTO_SLOTS	4	/* tcp, udp, icmp, icmpv6 */

enum es_layout_policy {
	ES_LAYOUT_REBUILD,	/* drop pins of another layout, with a warning */
	ES_LAYOUT_REFUSE,	/* exit with a message; the operator decides */
};

/* The accounting fields of the agent configuration (top level of its file). */
struct es_acct_config {
	unsigned int		session_map_size;
	unsigned int		idle_timeout_ms;
	unsigned int		closed_linger_ms;
	enum es_layout_policy	on_layout_mismatch;
	bool			per_session_metrics;
	unsigned int		per_session_max;
	bool			no_request_latency;	/* request_latency: false */
	bool			tcp_request_latency;	/* tcp_request_latency: true */
	bool			slots;		/* session_table: slots (the slot table) */
};

/* Buckets of the slot table this configuration asks for, 0 for the session maps. */
__u32 es_acct_table_buckets(const struct es_acct_config *cfg);

/* The pod an interface belongs to; empty strings for a host interface. */
struct es_iface_owner {
	const char	*pod_namespace;
	const char	*pod_name;
	const char	*netns;		/* the pod's network namespace (a path), or NULL */
};

/*
 * ---- datapath.c ----
 * The loaded skeleton, the pinned maps it shares with earlier and later
 * agents, and per attached interface one pinned receive link (XDP, or tcx
 * ingress) and one pinned tcx egress link. Pins outlive the agent, so a
 * restart (or a crash) never interrupts accounting.
 */

struct accounting;
struct bpf_link;

struct es_attachment {
	__u32			ifindex;
	struct bpf_link		*rx;		/* XDP or tcx ingress link */
	struct bpf_link		*tcx;		/* tcx egress link */
	bool			rx_xdp;		/* rx is an XDP link */
	struct es_iface_info	info;
	/*
	 * The network namespace (a path) a pod's interface is in, where its
	 * name means it; "" for the agent's own, or a pod's not known yet
	 * (found pinned at start, before edgeshift-cni's record is read).
	 */
	char			netns[256];
	bool			adopted;	/* found pinned at start */
	bool			wanted;		/* matched a rule since start */
	bool			seen;		/* present in the latest link dump */
};

struct es_datapath {
	struct accounting	*skel;
	struct es_maps		maps;		/* fds owned by skel */
	char			pin_path[256];
	struct es_attachment	*att;
	unsigned int		n_att;
	unsigned int		adopted_links;
	bool			rebuilt;	/* old pins of another layout were dropped */
	bool			created;	/* no pins were there: this process made them */
};

/* Load the programs, reuse or create the pins, adopt pinned links. */
int es_datapath_open(struct es_datapath *dp, const char *pin_path,
		     const struct es_acct_config *cfg, char *err, size_t err_len);
void es_datapath_close(struct es_datapath *dp);

/*
 * Attach the receive (XDP when want_xdp, else tcx ingress) and transmit
 * programs to an interface; idempotent, and switches the receive hook when
 * it differs from the pinned one. 0 or -errno.
 */
int es_datapath_attach(struct es_datapath *dp, __u32 ifindex, const char *ifname,
		       const struct es_iface_owner *owner, bool want_xdp);
/* Detach and unpin; forget_counters also drops its per-interface entries. */
void es_datapath_detach(struct es_datapath *dp, __u32 ifindex, bool forget_counters);
/* Detach adopted links whose interface no rule wants any more. */
void es_datapath_drop_unwanted(struct es_datapath *dp);

const struct es_attachment *es_datapath_find(const struct es_datapath *dp, __u32 ifindex);

/*
 * Take over the tcx links edgeshift-cni attached to a pod interface and
 * pinned as links/tci_<ifindex>, tcx_<ifindex>: no new attach (no RCU wait
 * under the RTNL), no netns switch. -ENOENT when they are not both there
 * on this interface, -EBUSY when we hold live links on it: attach then.
 */
int es_datapath_adopt_pod(struct es_datapath *dp, __u32 ifindex, const char *ifname,
			  const struct es_iface_owner *owner);

/* Remove every pin under pin_path (maps and links): detaches the programs. */
int es_datapath_cleanup(const char *pin_path);

/* ---- collector.c: sessions, the snapshot of the latest scan ---- */

struct ring_buffer;
struct es_session_index;

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
	struct es_session	*top;		/* largest sessions: per-session metrics */
	size_t			n_top;
	struct es_session_index	*index;		/* answers to unfiltered listings; NULL before a scan */
};

struct es_gc_stats {
	__u64	runs;
	__u64	collected[ES_CLOSE_MAX];
	__u64	close_events;
	__u64	last_duration_ns;
	__u64	evictions;		/* monotonic: never below an earlier value */
};

/*
 * Shared by the main loop (netlink, close events, collection) and the
 * HTTP thread (metrics, API): lock guards the attachment list of dp, the
 * snapshot and the counters below.
 */
struct es_accounting {
	const struct es_acct_config	*cfg;
	struct es_datapath		dp;
	pthread_mutex_t			lock;
	struct es_snapshot		snap;
	struct es_gc_stats		gc;
	struct ring_buffer		*events;
	__u64				close_due_ns;	/* earliest pending close, or 0 */
	bool				tbl_pending;	/* slot table: RECLAIM slots to finish */
	/*
	 * A tap on sessions (the Detector, wired by core): called under lock
	 * for a session seen for the first time (reason < 0, c its counters
	 * so far) and for one collected (its es_close_reason, c its totals).
	 * A session is new when its first packet came after the previous
	 * scan's cut; NULL: no tap.
	 */
	void				(*on_session)(void *arg, const struct es_session *s,
						      const struct es_session_counters *c,
						      int reason);
	void				*on_session_arg;
	__u64				open_cut_ns;	/* CLOCK_MONOTONIC */
};

/* Before anything else; cfg must outlive acct. */
void es_accounting_init(struct es_accounting *acct, const struct es_acct_config *cfg);

int es_proto_slot(unsigned int proto);

int es_collector_open(struct es_accounting *acct);
int es_collector_fd(struct es_accounting *acct);
void es_collector_consume(struct es_accounting *acct);
/* Collect closed and idle sessions and refresh the snapshot. */
void es_collector_run(struct es_accounting *acct);
void es_collector_close(struct es_accounting *acct);

/* ---- metrics.c ---- */

/*
 * The accounting series of the Prometheus text exposition, node being the
 * node label's value already escaped.
 */
void es_acct_render_metrics(FILE *f, struct es_accounting *acct, const char *node);

#endif /* EDGESHIFT_ACCOUNTING_H */
