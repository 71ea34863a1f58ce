// SPDX-License-Identifier: GPL-2.0-only
/*
 * The root qdiscs' counters (qdisc.h): one RTM_GETQDISC dump a call,
 * filtered here (the kernel's qdisc dump lists every link; `tc qdisc show
 * dev X` filters in user space too), so one read serves every link asked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include "mnl_recv.h"
#include "qdisc.h"
#include "netns.h"

struct dump_ctx {
	const int		*ifindex;
	unsigned int		n;
	struct es_qdisc_stats	*st;
	bool			*found;
};

static void read_stats2(const struct nlattr *nest, struct es_qdisc_stats *st)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		uint16_t type = mnl_attr_get_type(a), len = mnl_attr_get_payload_len(a);

		if (type == TCA_STATS_BASIC && len >= sizeof(struct gnet_stats_basic)) {
			struct gnet_stats_basic b;

			memcpy(&b, mnl_attr_get_payload(a), sizeof(b));
			st->bytes = b.bytes;
			st->packets = b.packets;
		} else if (type == TCA_STATS_QUEUE && len >= sizeof(struct gnet_stats_queue)) {
			struct gnet_stats_queue q;

			memcpy(&q, mnl_attr_get_payload(a), sizeof(q));
			st->drops = q.drops;
			st->overlimits = q.overlimits;
			st->backlog = q.backlog;
			st->qlen = q.qlen;
		}
	}
}

/* A tbf's rate: its parameters', or the 64-bit one beside them past 4 GB/s. */
static void read_tbf(const struct nlattr *nest, struct es_qdisc_stats *st)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		uint16_t type = mnl_attr_get_type(a), len = mnl_attr_get_payload_len(a);

		if (type == TCA_TBF_PARMS && len >= sizeof(struct tc_tbf_qopt) && !st->rate) {
			struct tc_tbf_qopt q;

			memcpy(&q, mnl_attr_get_payload(a), sizeof(q));
			st->rate = q.rate.rate;
		} else if (type == TCA_TBF_RATE64 && len >= sizeof(uint64_t)) {
			st->rate = mnl_attr_get_u64(a);
		}
	}
}

static void read_qdisc(const struct nlmsghdr *nlh, struct es_qdisc_stats *st)
{
	const struct nlattr *a;

	memset(st, 0, sizeof(*st));
	mnl_attr_for_each(a, nlh, sizeof(struct tcmsg)) {
		if (mnl_attr_get_type(a) == TCA_KIND && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(st->kind, sizeof(st->kind), "%s", mnl_attr_get_str(a));
		else if (mnl_attr_get_type(a) == TCA_STATS2)
			read_stats2(a, st);
	}
	/* The kind comes first in the kernel's message; the options need it. */
	mnl_attr_for_each(a, nlh, sizeof(struct tcmsg))
		if (mnl_attr_get_type(a) == TCA_OPTIONS && !strcmp(st->kind, "tbf"))
			read_tbf(a, st);
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	struct dump_ctx *c = data;
	unsigned int i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*t)))
		return MNL_CB_ERROR;
	if (nlh->nlmsg_type != RTM_NEWQDISC || t->tcm_parent != TC_H_ROOT)
		return MNL_CB_OK;
	for (i = 0; i < c->n; i++)
		if (c->ifindex[i] == t->tcm_ifindex) {
			read_qdisc(nlh, &c->st[i]);
			c->found[i] = true;
		}
	return MNL_CB_OK;
}

int es_qdisc_root_stats(const int *ifindex, unsigned int n, struct es_qdisc_stats *st,
			bool *found)
{
	struct dump_ctx c = { .ifindex = ifindex, .n = n, .st = st, .found = found };
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct nlmsghdr *nlh;
	struct tcmsg *t;
	int ret;

	memset(found, 0, n * sizeof(*found));
	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = time(NULL);
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	ret = es_mnl_request(ES_NETNS_OWN, NETLINK_ROUTE, nlh, buf, msg_cb, &c);
	free(buf);
	return ret;
}
