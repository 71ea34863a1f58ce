/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Close one TCP connection of a network namespace from outside
 * the process that owns it (sock_diag SOCK_DESTROY: the kernel aborts it,
 * sending one RST, and it leaves no orphan behind). A migration uses it on
 * the old container's connection after cut-over: stopped the ordinary way,
 * the container's socket would linger as an orphan and resend its FIN to
 * the user long after the tunnel that took its segments away is gone.
 */
#ifndef EDGESHIFT_TCP_DESTROY_H
#define EDGESHIFT_TCP_DESTROY_H

#include <stdint.h>
#include <netinet/in.h>

/*
 * netns: netns.h (ES_NETNS_OWN: the caller's). Addresses IPv4 mapped or
 * IPv6 (sock_diag.h), ports in network order; 0,
 * -ENOENT when no such socket, or -errno.
 */
int es_tcp_destroy(int netns, const struct in6_addr *laddr, uint16_t lport,
		   const struct in6_addr *raddr, uint16_t rport);

#endif
