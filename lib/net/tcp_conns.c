// SPDX-License-Identifier: GPL-2.0-only
/* Established TCP connections of a local service (tcp_conns.h), from an inet_diag dump. */
#include <stdbool.h>
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

struct conn_find {
	uint32_t	laddr, raddr;
	uint16_t	lport, rport;
	bool		found;
};

static int find_cb(const struct inet_diag_msg *m, void *data)
{
	struct conn_find *q = data;

	q->found |= m->id.idiag_sport == q->lport && m->id.idiag_dport == q->rport &&
		    m->id.idiag_src[0] == q->laddr && m->id.idiag_dst[0] == q->raddr;
	return 0;
}

int es_tcp_conn_exists(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct conn_find q = { .laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport };
	unsigned int states = ((1U << (TCP_CLOSING + 1)) - 1) & ~(1U << TCP_LISTEN) &
			      ~(1U << TCP_CLOSE);
	int ret = es_inet_diag_dump(AF_INET, IPPROTO_TCP, states, find_cb, &q);

	return ret ? ret : q.found;
}
