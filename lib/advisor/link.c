// SPDX-License-Identifier: GPL-2.0-only
/*
 * A block's network series, from the root qdisc of its link. A rate limit
 * on the link (a tbf) holds the block's traffic back the way a CFS quota
 * holds its CPU: the qdisc's overlimits count the times it did, its
 * backlog what waits, its drops what did not fit; the bytes it sends fall
 * to the rate, like the I/O of a throttled block. The link is not in the
 * block's cgroup, so the block names it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include "advisor/advisor.h"
#include "net/qdisc.h"
#include "util/errf.h"

int es_adv_block_link(struct es_adv_block *b, const char *ifname, char *err, size_t err_len)
{
	if (strlen(ifname) >= sizeof(b->link) || !if_nametoindex(ifname))
		return es_errf(err, err_len, -ENODEV, "block %s: link %s: no such interface",
			       b->name, ifname);
	snprintf(b->link, sizeof(b->link), "%s", ifname);
	return 0;
}

int es_adv_links_read(const struct es_adv_block *blocks, unsigned int n, struct es_adv_raw *raw,
		      char *err, size_t err_len)
{
	struct es_qdisc_stats st[n ?: 1];
	int ifindex[n ?: 1];
	bool found[n ?: 1], any = false;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ifindex[i] = blocks[i].link[0] ? (int)if_nametoindex(blocks[i].link) : 0;
		if (blocks[i].link[0] && !ifindex[i])
			return es_errf(err, err_len, -ENODEV, "block %s: link %s: %s",
				       blocks[i].name, blocks[i].link, strerror(errno));
		any |= ifindex[i] > 0;
	}
	if (!any)
		return 0;
	ret = es_qdisc_root_stats(ifindex, n, st, found);
	if (ret)
		return es_errf(err, err_len, ret, "qdiscs: %s", strerror(-ret));
	for (i = 0; i < n; i++) {
		if (!ifindex[i] || !found[i])
			continue;
		raw[i].net_bytes = st[i].bytes;
		raw[i].net_overlimits = st[i].overlimits;
		raw[i].net_drops = st[i].drops;
		raw[i].net_backlog = st[i].backlog;
		raw[i].net_rate = st[i].rate;
	}
	return 0;
}
