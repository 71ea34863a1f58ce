/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A neighbour the kernel keeps resolved (NTF_EXT_MANAGED, Linux 5.16): the
 * next hop towards another node's tunnel address. Without one, the first
 * tunnelled packets after a handoff wait in the neighbour's queue while
 * ARP crosses the WAN: one WAN round trip added to every connection's
 * first request there (measured: about 400 ms instead of 200 at 200 ms
 * RTT, docs/benchmarks.md).
 */
#ifndef EDGESHIFT_NEIGH_H
#define EDGESHIFT_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct es_neigh {
	int		ifindex;	/* the interface the route to the address leaves by */
	struct in6_addr	addr;		/* the next hop (the gateway, or the address): IPv6,
					 * or IPv4 mapped (::ffff:a.b.c.d) */
	bool		managed;	/* made managed here (left as found: false) */
};

/*
 * Keep the next hop to dst (IPv6, or IPv4 mapped) resolved in this
 * network namespace: ARP or neighbour discovery. A permanent or NOARP
 * entry, or a local address, is left as it is (n->managed false). 0, or
 * -errno (-ENETUNREACH: no route).
 */
int es_neigh_keep(const struct in6_addr *dst, struct es_neigh *n);

#endif
