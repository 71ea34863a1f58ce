// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include "mnl_recv.h"
#include "neigh.h"
#include "netns.h"

struct route {
	int		oif;
	bool		v4;		/* the family asked for */
	bool		has_gw;
	struct in6_addr	gw;		/* as es_neigh.addr */
	unsigned char	type;
};

/* The bytes of a (mapped) address in its own family's form. */
static const void *addr_bytes(const struct in6_addr *a, size_t *len)
{
	bool v4 = IN6_IS_ADDR_V4MAPPED(a);

	*len = v4 ? 4 : 16;
	return v4 ? (const void *)&a->s6_addr[12] : (const void *)a;
}

static int route_attr(const struct nlattr *a, void *data)
{
	struct route *r = data;
	size_t len = r->v4 ? 4 : 16;

	if (mnl_attr_get_type(a) == RTA_OIF && !mnl_attr_validate(a, MNL_TYPE_U32))
		r->oif = mnl_attr_get_u32(a);
	if (mnl_attr_get_type(a) == RTA_GATEWAY && mnl_attr_get_payload_len(a) == len) {
		if (r->v4) {
			r->gw.s6_addr[10] = 0xff;
			r->gw.s6_addr[11] = 0xff;
		}
		memcpy(r->v4 ? &r->gw.s6_addr[12] : r->gw.s6_addr, mnl_attr_get_payload(a), len);
		r->has_gw = true;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route *r = data;

	r->type = rtm->rtm_type;
	return mnl_attr_parse(nlh, sizeof(*rtm), route_attr, r);
}

struct found {
	bool		exists;
	uint16_t	state;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct found *f = data;

	f->exists = true;
	f->state = ndm->ndm_state;
	return MNL_CB_OK;
}

static int route_get(const struct in6_addr *dst, char *buf, struct route *r)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	const void *a;
	size_t len;

	a = addr_bytes(dst, &len);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;	/* the ACK ends the answer */
	nlh->nlmsg_seq = time(NULL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = len == 4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = len * 8;
	mnl_attr_put(nlh, RTA_DST, len, a);
	memset(r, 0, sizeof(*r));
	r->v4 = len == 4;
	return es_mnl_request(ES_NETNS_OWN, NETLINK_ROUTE, nlh, buf, route_cb, r);
}

/* An ndmsg for n's entry: the message type and flags given. */
static struct nlmsghdr *neigh_msg(char *buf, const struct es_neigh *n, uint16_t type,
				  uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	const void *a;
	size_t len;

	a = addr_bytes(&n->addr, &len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = time(NULL);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = len == 4 ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = n->ifindex;
	mnl_attr_put(nlh, NDA_DST, len, a);
	return nlh;
}

int es_neigh_keep(const struct in6_addr *dst, struct es_neigh *n)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct found f = { 0 };
	struct nlmsghdr *nlh;
	struct route r;
	int ret;

	memset(n, 0, sizeof(*n));
	if (!buf)
		return -ENOMEM;
	ret = route_get(dst, buf, &r);
	if (ret)
		goto out;
	if (r.type != RTN_UNICAST || !r.oif)
		goto out;	/* local, or not reached through a neighbour */
	n->ifindex = r.oif;
	n->addr = r.has_gw ? r.gw : *dst;
	/* an absent entry answers ENOENT: f stays empty */
	ret = es_mnl_request(ES_NETNS_OWN, NETLINK_ROUTE,
			     neigh_msg(buf, n, RTM_GETNEIGH, NLM_F_ACK), buf, neigh_cb, &f);
	if (ret && ret != -ENOENT)
		goto out;
	ret = 0;
	if (f.exists && (f.state & (NUD_PERMANENT | NUD_NOARP)))
		goto out;	/* set by someone who knows better */
	nlh = neigh_msg(buf, n, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
	mnl_attr_put_u32(nlh, NDA_FLAGS_EXT, NTF_EXT_MANAGED);
	ret = es_mnl_request(ES_NETNS_OWN, NETLINK_ROUTE, nlh, buf, NULL, NULL);
	n->managed = !ret;
out:
	free(buf);
	return ret;
}
