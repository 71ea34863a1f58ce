/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The counters of each link's root qdisc in the caller's network
 * namespace, read over rtnetlink (RTM_GETQDISC, TCA_STATS2) with libmnl:
 * what a shaper on the link (a tbf, Kubernetes' bandwidth limit) held
 * back, dropped and queued.
 */
#ifndef EDGESHIFT_QDISC_H
#define EDGESHIFT_QDISC_H

#include <stdbool.h>
#include <stdint.h>

struct es_qdisc_stats {
	char		kind[16];	/* "tbf", "fq_codel", ... */
	uint64_t	bytes;		/* sent (dequeued) since the qdisc was made */
	uint32_t	packets;
	uint32_t	drops;		/* packets dropped (the queue was full) */
	uint32_t	overlimits;	/* times it held a packet back (tbf: no tokens) */
	uint32_t	backlog;	/* bytes queued now */
	uint32_t	qlen;		/* packets queued now */
	uint64_t	rate;		/* bytes a second a tbf lets through; 0: no shaper */
};

/*
 * One dump of the namespace's qdiscs: st[i] is the root qdisc of the link
 * with index ifindex[i], found[i] false when it shows none (noqueue is not
 * listed by the kernel). 0, or -errno.
 */
int es_qdisc_root_stats(const int *ifindex, unsigned int n, struct es_qdisc_stats *st,
			bool *found);

#endif
