// SPDX-License-Identifier: GPL-2.0-only
/* rtnetlink requests and dumps with libmnl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include "nl.h"

#define NL_BUF	(MNL_SOCKET_BUFFER_SIZE * 2)

int nl_open(struct nl *nl)
{
	memset(nl, 0, sizeof(*nl));
	nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sk)
		return -errno;
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(nl->sk);
		nl->sk = NULL;
		return e;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = time(NULL);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
}

/* Sends nlh and runs cb over the answer; 0 or -errno of the kernel. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	char *buf = malloc(NL_BUF);
	unsigned int seq = ++nl->seq;
	int ret;

	if (!buf)
		return -ENOMEM;
	nlh->nlmsg_seq = seq;
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)	/* EXCL shares a bit with DUMP */
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		ret = mnl_socket_recvfrom(nl->sk, buf, NL_BUF);
		if (ret < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, nl->portid, cb, arg);
		if (ret < 0)
			ret = -errno;
	} while (ret > 0);
out:
	free(buf);
	return ret;
}

static struct nlmsghdr *msg_start(char *buf, int type, int flags, void *hdr, size_t hlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	memcpy(mnl_nlmsg_put_extra_header(nlh, hlen), hdr, hlen);
	return nlh;
}

/* --- links --- */

static void parse_linkinfo(const struct nlattr *info, struct nl_link *l)
{
	const struct nlattr *a, *d;

	mnl_attr_for_each_nested(a, info) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND)
			snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
		else if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
			mnl_attr_for_each_nested(d, a)
				if (mnl_attr_get_type(d) == IFLA_MACVLAN_MODE)
					l->macvlan_mode = mnl_attr_get_u32(d);
	}
	if (strcmp(l->kind, "macvlan"))
		l->macvlan_mode = 0;
}

static void parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_IFALIAS:
			snprintf(l->alias, sizeof(l->alias), "%.*s",
				 (int)mnl_attr_get_payload_len(a), (const char *)mnl_attr_get_payload(a));
			break;
		case IFLA_MTU:
			l->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_LINK:
			l->link = mnl_attr_get_u32(a);
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6)
				memcpy(l->mac, mnl_attr_get_payload(a), 6);
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, l);
			break;
		}
	}
	/* an alias attribute may hold a trailing NUL */
	l->alias[strcspn(l->alias, "\n")] = '\0';
}

static int link_one_cb(const struct nlmsghdr *nlh, void *arg)
{
	parse_link(nlh, arg);
	return MNL_CB_OK;
}

int nl_link_get(struct nl *nl, int ifindex, const char *name, struct nl_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = name ? 0 : ifindex };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	int ret;

	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_talk(nl, nlh, link_one_cb, out);
	return ret == -ENOENT ? -ENODEV : ret;
}

struct link_iter {
	nl_link_cb	cb;
	void		*arg;
	int		stopped;
};

static int link_iter_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_iter *it = arg;
	struct nl_link l;

	/* the rest of the dump is read anyway: it would answer the next request */
	if (it->stopped)
		return MNL_CB_OK;
	parse_link(nlh, &l);
	it->stopped = it->cb(&l, it->arg);
	return MNL_CB_OK;
}

int nl_link_foreach(struct nl *nl, nl_link_cb cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	struct link_iter it = { cb, arg, 0 };

	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_talk(nl, nlh, link_iter_cb, &it);
}

int nl_macvlan_add(struct nl *nl, const struct nl_macvlan *m, int *ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = m->ifindex };
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
					 &ifi, sizeof(ifi));
	struct nlattr *info, *data;
	struct nl_link l;
	int ret;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, m->name);
	mnl_attr_put_u32(nlh, IFLA_LINK, m->master);
	if (m->netns_fd > 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, m->netns_fd);
	if (m->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, m->mtu);
	if (m->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, m->mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, m->mode);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = nl_talk(nl, nlh, NULL, NULL);
	if (ret || m->netns_fd > 0) {
		*ifindex = m->ifindex;
		return ret;
	}
	ret = nl_link_get(nl, 0, m->name, &l);
	if (!ret)
		*ifindex = l.ifindex;
	return ret;
}

int nl_link_del(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };

	return nl_talk(nl, msg_start(buf, RTM_DELLINK, 0, &ifi, sizeof(ifi)), NULL, NULL);
}

int nl_link_set(struct nl *nl, int ifindex, const struct nl_link_change *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nlmsghdr *nlh;

	if (c->up) {
		ifi.ifi_change |= IFF_UP;
		ifi.ifi_flags |= c->up > 0 ? IFF_UP : 0;
	}
	if (c->promisc) {
		ifi.ifi_change |= IFF_PROMISC;
		ifi.ifi_flags |= c->promisc > 0 ? IFF_PROMISC : 0;
	}
	nlh = msg_start(buf, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (c->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
	if (c->alias)
		mnl_attr_put(nlh, IFLA_IFALIAS, strlen(c->alias), c->alias);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (c->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, c->mac);
	if (c->netns_fd > 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, c->netns_fd);
	return nl_talk(nl, nlh, NULL, NULL);
}

/* --- addresses --- */

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

int nl_addr_add(struct nl *nl, int ifindex, const struct nl_addr *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifaddrmsg ifa = { .ifa_family = a->family, .ifa_prefixlen = a->plen,
				 .ifa_index = ifindex };
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
					 &ifa, sizeof(ifa));

	mnl_attr_put(nlh, IFA_LOCAL, alen(a->family), a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen(a->family), a->addr);
	if (a->family == AF_INET) {
		unsigned char brd[4];
		__u32 host = a->plen >= 31 ? 0 : 0xffffffffu >> a->plen;
		__u32 v;

		memcpy(&v, a->addr, 4);
		v = htonl(ntohl(v) | host);
		memcpy(brd, &v, 4);
		if (host)
			mnl_attr_put(nlh, IFA_BROADCAST, 4, brd);
	}
	return nl_talk(nl, nlh, NULL, NULL);
}

struct addr_iter {
	int		ifindex;
	struct nl_addr	*out;
	int		max, n;
	bool		over;	/* one more than max: the list is not whole */
};

static int addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_iter *it = arg;
	const struct nlattr *a;
	struct nl_addr *o;

	if ((int)ifa->ifa_index != it->ifindex ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	if (it->n >= it->max) {
		it->over = true;
		return MNL_CB_OK;
	}
	o = &it->out[it->n];
	memset(o, 0, sizeof(*o));
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		int t = mnl_attr_get_type(a);

		if ((t == IFA_LOCAL || (t == IFA_ADDRESS && !o->family)) &&
		    mnl_attr_get_payload_len(a) == (unsigned int)alen(ifa->ifa_family)) {
			memcpy(o->addr, mnl_attr_get_payload(a), alen(ifa->ifa_family));
			o->family = ifa->ifa_family;
		}
		/* the flags past 8 bits come in IFA_FLAGS only */
		if (t == IFA_FLAGS && mnl_attr_get_payload_len(a) == 4)
			o->flags = mnl_attr_get_u32(a);
	}
	o->flags |= ifa->ifa_flags;
	o->plen = ifa->ifa_prefixlen;
	if (o->family)
		it->n++;
	return MNL_CB_OK;
}

int nl_addr_list(struct nl *nl, int ifindex, struct nl_addr *out, int max, int *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
	struct addr_iter it = { .ifindex = ifindex, .out = out, .max = max };
	int ret;

	ret = nl_talk(nl, msg_start(buf, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa)),
		      addr_cb, &it);
	*n = it.n;
	/* a list cut at max is not the link's addresses: no caller may take it for them */
	return ret ? ret : it.over ? -ENOBUFS : 0;
}

int nl_addr_settle(struct nl *nl, int ifindex, unsigned int timeout_ms)
{
	struct timespec step = { 0, 20 * 1000000L };
	struct nl_addr a[64];
	unsigned int waited;
	int i, n, ret, tentative;

	for (waited = 0;; waited += 20) {
		ret = nl_addr_list(nl, ifindex, a, 64, &n);
		if (ret)
			return ret;
		for (i = 0, tentative = 0; i < n; i++) {
			/* link-local ones serve no service: not waited for */
			if (a[i].family != AF_INET6 ||
			    (a[i].addr[0] == 0xfe && (a[i].addr[1] & 0xc0) == 0x80))
				continue;
			if (a[i].flags & IFA_F_DADFAILED)
				return -EADDRINUSE;
			tentative |= !!(a[i].flags & IFA_F_TENTATIVE);
		}
		if (!tentative)
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

/* --- routes --- */

int nl_route_add(struct nl *nl, const struct nl_route *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct rtmsg rtm = {
		.rtm_family = r->dst.family, .rtm_dst_len = r->dst.plen,
		.rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
		.rtm_scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
	};
	struct nlmsghdr *nlh;

	if (r->table && r->table < 256)
		rtm.rtm_table = r->table;
	nlh = msg_start(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rtm, sizeof(rtm));
	if (r->table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->dst.plen)
		mnl_attr_put(nlh, RTA_DST, alen(r->dst.family), r->dst.addr);
	if (r->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen(r->dst.family), r->gw);
	if (r->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->priority);
	mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct route_iter {
	struct nl_route	*out;
	int		max, n;
	unsigned int	table;		/* the one table listed, 0: the main one */
	bool		defaults_only;	/* default routes (/0) only */
	bool		over;		/* one more than max: the list is not whole */
};

static int route_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_iter *it = arg;
	const struct nlattr *a;
	struct nl_route r = {}, *o = &r;
	unsigned int table = rtm->rtm_table;

	if (rtm->rtm_type != RTN_UNICAST || (it->defaults_only && rtm->rtm_dst_len))
		return MNL_CB_OK;
	o->dst.family = rtm->rtm_family;
	o->dst.plen = rtm->rtm_dst_len;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			memcpy(o->dst.addr, mnl_attr_get_payload(a), alen(rtm->rtm_family));
			break;
		case RTA_GATEWAY:
			memcpy(o->gw, mnl_attr_get_payload(a), alen(rtm->rtm_family));
			o->has_gw = true;
			break;
		case RTA_OIF:
			o->oif = mnl_attr_get_u32(a);
			break;
		case RTA_PRIORITY:
			o->priority = mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			table = mnl_attr_get_u32(a);
			break;
		}
	}
	o->table = table;
	/*
	 * One table's only: a route of another does not fill the list. The
	 * kernel filters a dump by RTA_TABLE only on a socket in strict mode
	 * (NETLINK_GET_STRICT_CHK), which would judge every other request on
	 * it by stricter rules too; the filter is therefore here.
	 */
	if (table != (it->table ?: RT_TABLE_MAIN))
		return MNL_CB_OK;
	if (it->n >= it->max)
		it->over = true;
	else
		it->out[it->n++] = r;
	return MNL_CB_OK;
}

static int route_dump(struct nl *nl, struct route_iter *it)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int fam[2] = { AF_INET, AF_INET6 }, i, ret = 0;

	for (i = 0; i < 2 && !ret; i++) {
		struct rtmsg rtm = { .rtm_family = fam[i] };

		ret = nl_talk(nl, msg_start(buf, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm)),
			      route_cb, it);
	}
	return ret ? ret : it->over ? -ENOBUFS : 0;
}

int nl_route_list(struct nl *nl, unsigned int table, struct nl_route *out, int max, int *n)
{
	struct route_iter it = { .out = out, .max = max, .table = table };
	int ret = route_dump(nl, &it);

	*n = it.n;
	return ret;
}

int nl_default_route_oif(struct nl *nl, int *ifindex)
{
	struct nl_route *r = calloc(512, sizeof(*r));
	/* default routes only: a host's other routes, however many, are not looked at */
	struct route_iter it = { .out = r, .max = 512, .defaults_only = true };
	int n = 0, i, ret, fam;

	if (!r)
		return -ENOMEM;
	ret = route_dump(nl, &it);
	n = it.n;
	for (fam = AF_INET, ret = ret ? ret : -ENOENT; ret == -ENOENT; fam = AF_INET6) {
		for (i = 0; i < n; i++) {
			if (r[i].dst.family == fam && !r[i].dst.plen && r[i].oif) {
				*ifindex = r[i].oif;
				ret = 0;
				break;
			}
		}
		if (fam == AF_INET6)
			break;
	}
	free(r);
	return ret;
}

int nl_addr_parse(const char *s, struct nl_addr *a, bool plen_required)
{
	char tmp[INET6_ADDRSTRLEN + 8], *slash, *end;
	long plen;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	else if (plen_required)
		return -EINVAL;
	if (inet_pton(AF_INET, tmp, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	a->plen = alen(a->family) * 8;
	if (!slash)
		return 0;
	plen = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || plen < 0 || plen > a->plen)
		return -EINVAL;
	a->plen = plen;
	return 0;
}

bool nl_addr_same(const char *x, const char *y)
{
	struct nl_addr a, b;

	if (nl_addr_parse(x, &a, false) || nl_addr_parse(y, &b, false))
		return !strcasecmp(x, y);
	return a.family == b.family && a.plen == b.plen && !memcmp(a.addr, b.addr, sizeof(a.addr));
}

void nl_addr_format(const struct nl_addr *a, char *buf, size_t len, bool with_plen)
{
	char s[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->addr, s, sizeof(s));
	if (with_plen)
		snprintf(buf, len, "%s/%d", s, a->plen);
	else
		snprintf(buf, len, "%s", s);
}
