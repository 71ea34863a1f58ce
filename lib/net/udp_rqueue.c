// SPDX-License-Identifier: GPL-2.0-only
/* Receive queue of UDP sockets, from an inet_diag dump (sock_diag.h). */
#include <errno.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sock_diag.h"
#include "udp_rqueue.h"

struct rqueue_match {
	const struct in6_addr	*addr;
	uint16_t		port;
	uint64_t		bytes;
	unsigned int		sockets;
};

/* An unspecified address: 0.0.0.0 of an AF_INET socket, :: of an AF_INET6 one. */
static bool bound_any(const struct inet_diag_msg *m)
{
	const __be32 *src = m->id.idiag_src;

	return m->idiag_family == AF_INET ? !src[0] : !(src[0] | src[1] | src[2] | src[3]);
}

static int count_cb(const struct inet_diag_msg *m, void *data)
{
	struct rqueue_match *q = data;

	if (m->id.idiag_sport != q->port)
		return 0;
	/*
	 * A socket bound to its family's any address takes the datagrams;
	 * an IPv6 one bound to :: takes IPv4 ones too unless IPV6_V6ONLY,
	 * which sock_diag does not say: counted, the safe side for a wait.
	 */
	if (q->addr && !bound_any(m) &&
	    !es_inet_diag_addr_is(m->idiag_family, m->id.idiag_src, q->addr))
		return 0;
	q->bytes += m->idiag_rqueue;
	q->sockets++;
	return 0;
}

int es_udp_rqueue(int netns, const struct in6_addr *addr, uint16_t port, uint64_t *bytes,
		  unsigned int *sockets)
{
	struct rqueue_match q = { .addr = addr, .port = port };
	int ret = es_inet_diag_dump_all(netns, IPPROTO_UDP, ~0U, count_cb, &q);

	*bytes = q.bytes;
	*sockets = q.sockets;
	return ret;
}
