/* SPDX-License-Identifier: GPL-2.0-only */
/* The receive loop of a netlink request's answer, shared by the dumps of lib/net. */
#ifndef EDGESHIFT_MNL_RECV_H
#define EDGESHIFT_MNL_RECV_H

#include <libmnl/libmnl.h>

/*
 * Runs cb over every message answering request seq on nl, into buf
 * (MNL_SOCKET_BUFFER_SIZE), until the answer ends or cb stops it. 0, or
 * -errno.
 */
int es_mnl_recv(struct mnl_socket *nl, char *buf, unsigned int seq, mnl_cb_t cb, void *data);

/*
 * Sends request nlh (its nlmsg_seq set) on a fresh socket of netlink bus
 * (NETLINK_ROUTE, NETLINK_SOCK_DIAG) made in network namespace netns
 * (netns.h; ES_NETNS_OWN: the caller's) and runs cb (NULL: an ACK only) over
 * its answer, read into buf (MNL_SOCKET_BUFFER_SIZE; nlh may live there).
 * The socket is closed on exec: the agent starts runc and CRIU. 0, or -errno.
 */
int es_mnl_request(int netns, int bus, const struct nlmsghdr *nlh, char *buf, mnl_cb_t cb,
		   void *data);
/*
 * The same in two steps, for several requests on one socket (a socket made
 * in another namespace costs a thread, netns.h): open, bound; NULL with
 * *err (-errno). Then ask each request on it; close with mnl_socket_close.
 */
struct mnl_socket *es_mnl_open(int netns, int bus, int *err);
int es_mnl_ask(struct mnl_socket *nl, const struct nlmsghdr *nlh, char *buf, mnl_cb_t cb,
	       void *data);

#endif
