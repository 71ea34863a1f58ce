/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A dump of the caller's network namespace's inet sockets through
 * NETLINK_SOCK_DIAG (inet_diag), with libmnl: the one loop the readers of
 * socket state (udp_rqueue.h, tcp_conns.h) share.
 */
#ifndef EDGESHIFT_SOCK_DIAG_H
#define EDGESHIFT_SOCK_DIAG_H

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

struct mnl_socket;

/* A NETLINK_SOCK_DIAG socket in *nl that sent the request in buf; 0 or -errno (*nl closed). */
int es_sock_diag_send(const char *buf, struct mnl_socket **nl);

/* Called for each socket; a non-zero return ends the dump with that value. */
typedef int (*es_inet_diag_cb)(const struct inet_diag_msg *m, void *data);

/*
 * Every socket of family (AF_INET, AF_INET6) and protocol whose TCP state
 * bit is in states (1 << TCP_ESTABLISHED ...; ~0U for all). 0, or -errno.
 */
int es_inet_diag_dump(int family, int protocol, uint32_t states, es_inet_diag_cb cb, void *data);

#endif
