// SPDX-License-Identifier: GPL-2.0-only
/* Established TCP connections of a local service (tcp_conns.h), from an inet_diag dump. */
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "sock_diag.h"
#include "tcp_conns.h"

struct conns_match {
	const struct in6_addr	*laddr;
	uint16_t		lport;
	struct es_tcp_conn	*out;
	unsigned int		max, found;
};

static int conn_cb(const struct inet_diag_msg *m, void *data)
{
	struct conns_match *q = data;

	struct es_tcp_conn *c;

	if (m->id.idiag_sport != q->lport ||
	    (q->laddr && !es_inet_diag_addr_is(m->idiag_family, m->id.idiag_src, q->laddr)))
		return 0;
	if (q->found++ >= q->max)
		return 0;
	c = &q->out[q->found - 1];
	c->rport = m->id.idiag_dport;
	if (m->idiag_family == AF_INET6) {
		memcpy(&c->raddr, m->id.idiag_dst, sizeof(c->raddr));
		return 0;
	}
	memset(&c->raddr, 0, sizeof(c->raddr));
	c->raddr.s6_addr32[2] = htonl(0xffff);
	c->raddr.s6_addr32[3] = m->id.idiag_dst[0];
	return 0;
}

int es_tcp_conns(int netns, const struct in6_addr *laddr, uint16_t lport, struct es_tcp_conn *out,
		 unsigned int max)
{
	struct conns_match q = { .laddr = laddr, .lport = lport, .out = out, .max = max };
	int ret = es_inet_diag_dump_all(netns, IPPROTO_TCP, 1U << TCP_ESTABLISHED, conn_cb, &q);

	return ret ? ret : (int)q.found;
}

struct conn_find {
	const struct es_tcp_tuple	*t;
	unsigned int			n;
	bool				*found;
};

static int find_cb(const struct inet_diag_msg *m, void *data)
{
	struct conn_find *q = data;
	int f = m->idiag_family;
	unsigned int i;

	for (i = 0; i < q->n; i++)
		q->found[i] |= m->id.idiag_sport == q->t[i].lport &&
			       m->id.idiag_dport == q->t[i].rport &&
			       es_inet_diag_addr_is(f, m->id.idiag_src, &q->t[i].laddr) &&
			       es_inet_diag_addr_is(f, m->id.idiag_dst, &q->t[i].raddr);
	return 0;
}

int es_tcp_conns_exist(int netns, const struct es_tcp_tuple *t, unsigned int n, bool *found)
{
	struct conn_find q = { t, n, found };
	unsigned int states = ((1U << (TCP_CLOSING + 1)) - 1) & ~(1U << TCP_LISTEN) &
			      ~(1U << TCP_CLOSE);

	memset(found, 0, n * sizeof(*found));
	return es_inet_diag_dump_all(netns, IPPROTO_TCP, states, find_cb, &q);
}

int es_tcp_conn_exists(int netns, const struct in6_addr *laddr, uint16_t lport,
		       const struct in6_addr *raddr, uint16_t rport)
{
	struct es_tcp_tuple t = { .laddr = *laddr, .raddr = *raddr, .lport = lport,
				  .rport = rport };
	bool found;
	int ret = es_tcp_conns_exist(netns, &t, 1, &found);

	return ret ? ret : found;
}
