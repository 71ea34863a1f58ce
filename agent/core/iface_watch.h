/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interface discovery over rtnetlink (libmnl): a dump of the links present
 * at start and the link notifications after it, so interfaces created later
 * (pods starting) are attached by name pattern.
 */
#ifndef EDGESHIFT_AGENT_IFACE_WATCH_H
#define EDGESHIFT_AGENT_IFACE_WATCH_H

#include <stdbool.h>
#include <net/if.h>

struct mnl_socket;

struct es_link_event {
	unsigned int	ifindex;
	char		ifname[IF_NAMESIZE];
	char		kind[16];	/* rtnl link kind ("veth", "macvlan"...), "" for a NIC */
	bool		removed;
};

typedef void (*es_link_cb)(const struct es_link_event *ev, void *arg);

struct es_iface_watch {
	struct mnl_socket	*events;	/* RTMGRP_LINK subscriber */
	char			*buf;
};

/* Subscribe first, dump second: no link can fall between the two. */
int es_iface_watch_open(struct es_iface_watch *w);
int es_iface_watch_dump(struct es_iface_watch *w, es_link_cb cb, void *arg);
int es_iface_watch_fd(const struct es_iface_watch *w);
/* Read and dispatch pending notifications; 0 or -errno. */
int es_iface_watch_process(struct es_iface_watch *w, es_link_cb cb, void *arg);
void es_iface_watch_close(struct es_iface_watch *w);

#endif /* EDGESHIFT_AGENT_IFACE_WATCH_H */
