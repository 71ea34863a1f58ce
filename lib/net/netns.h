/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sockets made in another network namespace. A socket belongs for life to
 * the namespace it was made in: a container in a pod namespace of its own
 * has its sockets read (sock_diag) and packets replayed into it (raw
 * sockets) through sockets made there, while the caller stays in the
 * node's namespace, where its other sockets (peers, HTTP) must be made.
 */
#ifndef EDGESHIFT_NETNS_H
#define EDGESHIFT_NETNS_H

/* The caller's own namespace, where socket(2) would make it. */
#define ES_NETNS_OWN	(-1)

/*
 * socket(domain, type | SOCK_CLOEXEC, protocol) in the namespace of file
 * descriptor netns (an open /proc/PID/ns/net or a bind mount of one), or in
 * the caller's with ES_NETNS_OWN. The calling thread's namespace never
 * changes: a short-lived thread enters netns and makes it. fd or -errno.
 */
int es_netns_socket(int netns, int domain, int type, int protocol);

#endif
