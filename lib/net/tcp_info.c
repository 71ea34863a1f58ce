// SPDX-License-Identifier: GPL-2.0-only
/* One TCP connection's tcp_info (tcp_info.h), from an inet_diag dump. */
#include <sys/socket.h>
#include "sock_diag.h"
#include "tcp_info.h"

/* TCP_LISTEN of netinet/tcp.h, whose struct tcp_info clashes with the kernel's */
#define ES_TCP_LISTEN	10

struct conn_info {
	const struct es_tcp_tuple	*t;
	struct tcp_info			*ti;
};

static int info_cb(const struct inet_diag_msg *m, const struct tcp_info *ti, void *data)
{
	struct conn_info *q = data;
	int f = m->idiag_family;

	if (!ti || m->id.idiag_sport != q->t->lport || m->id.idiag_dport != q->t->rport ||
	    !es_inet_diag_addr_is(f, m->id.idiag_src, &q->t->laddr) ||
	    !es_inet_diag_addr_is(f, m->id.idiag_dst, &q->t->raddr))
		return 0;
	*q->ti = *ti;
	return 1;	/* found: the dump ends */
}

int es_tcp_conn_info(int netns, const struct es_tcp_tuple *t, struct tcp_info *ti)
{
	struct conn_info q = { t, ti };

	/* every state but listening: the restored socket may be closing */
	return es_inet_diag_dump_tcp_info(netns, ~0U & ~(1U << ES_TCP_LISTEN), info_cb, &q);
}
