// SPDX-License-Identifier: GPL-2.0-only
/* Established TCP connections of a local service (tcp_conns.h), from an inet_diag dump. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "sock_diag.h"
#include "tcp_conns.h"

struct conns_match {
	uint32_t		laddr;
	uint16_t		lport;
	struct es_tcp_conn	*out;
	unsigned int		max, found;
};

static int conn_cb(const struct inet_diag_msg *m, void *data)
{
	struct conns_match *q = data;

	if (m->id.idiag_sport != q->lport || (q->laddr && m->id.idiag_src[0] != q->laddr))
		return 0;
	if (q->found < q->max)
		q->out[q->found] = (struct es_tcp_conn){ .raddr = m->id.idiag_dst[0],
							 .rport = m->id.idiag_dport };
	q->found++;
	return 0;
}

int es_tcp_conns(uint32_t laddr, uint16_t lport, struct es_tcp_conn *out, unsigned int max)
{
	struct conns_match q = { .laddr = laddr, .lport = lport, .out = out, .max = max };
	int ret = es_inet_diag_dump(AF_INET, IPPROTO_TCP, 1U << TCP_ESTABLISHED, conn_cb, &q);

	return ret ? ret : (int)q.found;
}
