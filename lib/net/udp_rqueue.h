/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How many bytes wait in the receive queues of the UDP sockets bound to an
 * address (IPv4 or IPv6) and port in a network namespace (sock_diag).
 * The migration's checkpoint waits for 0: a CRIU image drops a UDP
 * socket's receive queue, so a datagram still queued at the checkpoint
 * would be in no image.
 */
#ifndef EDGESHIFT_UDP_RQUEUE_H
#define EDGESHIFT_UDP_RQUEUE_H

#include <stdint.h>
#include <netinet/in.h>

/*
 * netns: netns.h (ES_NETNS_OWN: the caller's). addr IPv4 mapped or IPv6 (sock_diag.h), NULL for any local address; port
 * in network order.
 * 0 with *bytes and *sockets set (both 0 when no socket matches), or -errno.
 */
int es_udp_rqueue(int netns, const struct in6_addr *addr, uint16_t port, uint64_t *bytes,
		  unsigned int *sockets);

#endif /* EDGESHIFT_UDP_RQUEUE_H */
