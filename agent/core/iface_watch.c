// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "iface_watch.h"

struct dispatch {
	es_link_cb	cb;
	void		*arg;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	if (type == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **kind = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
		*kind = attr;
	return MNL_CB_OK;
}

static void link_kind(const struct nlattr *linkinfo, char *buf, size_t len)
{
	const struct nlattr *kind = NULL;

	if (!linkinfo)
		return;
	mnl_attr_parse_nested(linkinfo, linkinfo_cb, &kind);
	if (kind)
		snprintf(buf, len, "%.*s", (int)mnl_attr_get_payload_len(kind),
			 (const char *)mnl_attr_get_payload(kind));
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	const struct dispatch *d = data;
	struct es_link_event ev = {};

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	/*
	 * Bridge-port messages (AF_BRIDGE) name the port but say nothing of
	 * the link itself; a DELLINK of that family means "left the bridge".
	 */
	if (ifm->ifi_family != AF_UNSPEC)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, tb);
	if (!tb[IFLA_IFNAME])
		return MNL_CB_OK;
	ev.ifindex = ifm->ifi_index;
	ev.removed = nlh->nlmsg_type == RTM_DELLINK;
	strncpy(ev.ifname, mnl_attr_get_str(tb[IFLA_IFNAME]), sizeof(ev.ifname) - 1);
	link_kind(tb[IFLA_LINKINFO], ev.kind, sizeof(ev.kind));
	d->cb(&ev, d->arg);
	return MNL_CB_OK;
}

int es_iface_watch_open(struct es_iface_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!w->buf)
		return -ENOMEM;
	w->events = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->events || mnl_socket_bind(w->events, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		es_iface_watch_close(w);
		return -errno;
	}
	/* Room for a burst of pod churn; an overflow still triggers a resync. */
	setsockopt(mnl_socket_get_fd(w->events), SOL_SOCKET, SO_RCVBUFFORCE,
		   &(int){ 4 << 20 }, sizeof(int));
	return 0;
}

int es_iface_watch_dump(struct es_iface_watch *w, es_link_cb cb, void *arg)
{
	struct dispatch d = { cb, arg };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	unsigned int seq = time(NULL), portid;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(w->buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_PACKET;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		ret = mnl_socket_recvfrom(nl, w->buf, MNL_SOCKET_BUFFER_SIZE);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(w->buf, ret, seq, portid, link_msg_cb, &d);
	} while (ret > 0);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

int es_iface_watch_fd(const struct es_iface_watch *w)
{
	return mnl_socket_get_fd(w->events);
}

int es_iface_watch_process(struct es_iface_watch *w, es_link_cb cb, void *arg)
{
	struct dispatch d = { cb, arg };
	int ret;

	for (;;) {
		ret = mnl_socket_recvfrom(w->events, w->buf, MNL_SOCKET_BUFFER_SIZE);
		if (ret < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (mnl_cb_run(w->buf, ret, 0, 0, link_msg_cb, &d) < 0)
			return -errno;
	}
}

void es_iface_watch_close(struct es_iface_watch *w)
{
	if (w->events)
		mnl_socket_close(w->events);
	w->events = NULL;
	free(w->buf);
	w->buf = NULL;
}
