/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's hold on the kernel side: the loaded skeleton, the pinned maps
 * it shares with earlier and later agents, and per attached interface one
 * pinned receive link (XDP, or tcx ingress) and one pinned tcx egress link. Pins outlive the agent, so a
 * restart (or a crash) never interrupts accounting.
 */
#ifndef EDGESHIFT_AGENT_DATAPATH_H
#define EDGESHIFT_AGENT_DATAPATH_H

#include <stdbool.h>
#include <edgeshift/session.h>
#include "bpf/es_maps.h"
#include "core/config.h"

struct accounting;
struct bpf_link;

struct es_attachment {
	__u32			ifindex;
	struct bpf_link		*rx;		/* XDP or tcx ingress link */
	struct bpf_link		*tcx;		/* tcx egress link */
	bool			rx_xdp;		/* rx is an XDP link */
	struct es_iface_info	info;
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
};

/* Load the programs, reuse or create the pins, adopt pinned links. */
int es_datapath_open(struct es_datapath *dp, const struct es_config *cfg,
		     char *err, size_t err_len);
void es_datapath_close(struct es_datapath *dp);

/*
 * Attach the receive (XDP when want_xdp, else tcx ingress) and transmit
 * programs to an interface; idempotent, and switches the receive hook when
 * it differs from the pinned one. 0 or -errno.
 */
int es_datapath_attach(struct es_datapath *dp, __u32 ifindex, const char *ifname,
		       const struct es_iface_rule *rule, bool want_xdp);
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
			  const struct es_iface_rule *rule);

/* Remove every pin under pin_path (maps and links): detaches the programs. */
int es_datapath_cleanup(const char *pin_path);

#endif /* EDGESHIFT_AGENT_DATAPATH_H */
