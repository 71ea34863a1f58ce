/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The established TCP connections of a local service (sock_diag): the
 * sessions a container-wide migration keeps alive, one per connection.
 * netns: the namespace the service runs in (netns.h; ES_NETNS_OWN: the
 * caller's).
 */
#ifndef EDGESHIFT_TCP_CONNS_H
#define EDGESHIFT_TCP_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct es_tcp_conn {
	struct in6_addr	raddr;	/* the user's address (IPv4 mapped, sock_diag.h) */
	uint16_t	rport;	/* the user's port, network order */
};

/*
 * Up to max connections established to laddr:lport (port in network
 * order; laddr NULL: any local address), either family, into out. The
 * number found (it may exceed max: the caller says the list was cut), or
 * -errno.
 */
int es_tcp_conns(int netns, const struct in6_addr *laddr, uint16_t lport, struct es_tcp_conn *out,
		 unsigned int max);

/* One TCP connection, local and remote ends (IPv4 mapped; ports in network order). */
struct es_tcp_tuple {
	struct in6_addr	laddr, raddr;
	uint16_t	lport, rport;
};

/*
 * found[i]: has tuple t[i] a socket, in any state but listening? One
 * sock_diag dump for all n. 0 or -errno.
 */
int es_tcp_conns_exist(int netns, const struct es_tcp_tuple *t, unsigned int n, bool *found);
/* The same for one connection: 1, 0, or -errno. */
int es_tcp_conn_exists(int netns, const struct in6_addr *laddr, uint16_t lport,
		       const struct in6_addr *raddr, uint16_t rport);

#endif
