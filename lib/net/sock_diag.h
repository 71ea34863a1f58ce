/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A dump of a network namespace's inet sockets through
 * NETLINK_SOCK_DIAG (inet_diag), with libmnl: the one loop the readers of
 * socket state (udp_rqueue.h, tcp_conns.h) share.
 */
#ifndef EDGESHIFT_SOCK_DIAG_H
#define EDGESHIFT_SOCK_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/inet_diag.h>

struct nlmsghdr;

/*
 * An inet_diag request of type (SOCK_DIAG_BY_FAMILY, SOCK_DESTROY) with
 * flags into buf (MNL_SOCKET_BUFFER_SIZE); the caller fills its id.
 */
struct inet_diag_req_v2 *es_inet_diag_req(char *buf, uint16_t type, uint16_t flags,
					  unsigned int seq, int family, int protocol,
					  uint32_t states);

/* Called for each socket; a non-zero return ends the dump with that value. */
typedef int (*es_inet_diag_cb)(const struct inet_diag_msg *m, void *data);

struct tcp_info;

/*
 * The same with the socket's TCP state (INET_DIAG_INFO): ti NULL when the
 * kernel sent none; a copy in which what an older kernel's shorter struct
 * lacks is zero.
 */
typedef int (*es_inet_diag_info_cb)(const struct inet_diag_msg *m, const struct tcp_info *ti,
				    void *data);

/*
 * Every socket of family (AF_INET, AF_INET6) and protocol whose TCP state
 * bit is in states (1 << TCP_ESTABLISHED ...; ~0U for all), in network
 * namespace netns (netns.h; ES_NETNS_OWN: the caller's). 0, or -errno.
 */
int es_inet_diag_dump(int netns, int family, int protocol, uint32_t states, es_inet_diag_cb cb,
		      void *data);

struct in6_addr;

/*
 * Addresses in the callers of these readers are struct in6_addr: IPv6, or
 * IPv4 mapped (::ffff:a.b.c.d). A socket of a dump of family (AF_INET,
 * AF_INET6) holds id (idiag_src or idiag_dst): true when it is address a.
 * An IPv4 address matches an AF_INET socket, and an AF_INET6 one that
 * took the connection as ::ffff:a.b.c.d.
 */
bool es_inet_diag_addr_is(int family, const uint32_t *id, const struct in6_addr *a);
/*
 * The same dump over both families, on one socket (in another namespace
 * each socket costs a thread); AF_INET6 is left out on a kernel without it.
 */
int es_inet_diag_dump_all(int netns, int protocol, uint32_t states, es_inet_diag_cb cb,
			  void *data);

/* es_inet_diag_dump_all's TCP sockets in states, each with its tcp_info. */
int es_inet_diag_dump_tcp_info(int netns, uint32_t states, es_inet_diag_info_cb cb, void *data);

#endif
