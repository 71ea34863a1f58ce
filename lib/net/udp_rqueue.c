// SPDX-License-Identifier: GPL-2.0-only
/* Receive queue of UDP sockets, from an inet_diag dump (sock_diag.h). */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sock_diag.h"
#include "udp_rqueue.h"

struct rqueue_match {
	int		family;
	uint32_t	addr;
	uint16_t	port;
	uint64_t	bytes;
	unsigned int	sockets;
};

static int count_cb(const struct inet_diag_msg *m, void *data)
{
	const __be32 *src = m->id.idiag_src;
	struct rqueue_match *q = data;
	uint32_t bound;

	if (m->id.idiag_sport != q->port)
		return 0;
	/* An IPv6 socket takes IPv4 datagrams when bound to :: or ::ffff:a.b.c.d. */
	if (q->family == AF_INET6) {
		if (src[0] || src[1] || (src[2] && src[2] != htonl(0xffff)))
			return 0;
		bound = src[2] ? src[3] : 0;
	} else {
		bound = src[0];
	}
	if (q->addr && bound && bound != q->addr)
		return 0;
	q->bytes += m->idiag_rqueue;
	q->sockets++;
	return 0;
}

int es_udp_rqueue(uint32_t addr, uint16_t port, uint64_t *bytes, unsigned int *sockets)
{
	struct rqueue_match q = { .family = AF_INET, .addr = addr, .port = port };
	int ret;

	ret = es_inet_diag_dump(AF_INET, IPPROTO_UDP, ~0U, count_cb, &q);
	q.family = AF_INET6;
	if (!ret)
		ret = es_inet_diag_dump(AF_INET6, IPPROTO_UDP, ~0U, count_cb, &q);
	/* A kernel without IPv6 has no such sockets to count. */
	if (ret == -EAFNOSUPPORT)
		ret = 0;
	*bytes = q.bytes;
	*sockets = q.sockets;
	return ret;
}
