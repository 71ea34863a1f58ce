// SPDX-License-Identifier: GPL-2.0-only
/* One TCP connection aborted through NETLINK_SOCK_DIAG (tcp_destroy.h), with libmnl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include "mnl_recv.h"
#include "sock_diag.h"
#include "tcp_destroy.h"

static int destroy(int netns, int family, const struct in6_addr *laddr, uint16_t lport,
		   const struct in6_addr *raddr, uint16_t rport)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct inet_diag_req_v2 *req;
	int ret;

	if (!buf)
		return -ENOMEM;
	req = es_inet_diag_req(buf, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, time(NULL), family,
			       IPPROTO_TCP, ~0U);
	req->id.idiag_sport = lport;
	req->id.idiag_dport = rport;
	if (family == AF_INET) {
		req->id.idiag_src[0] = laddr->s6_addr32[3];
		req->id.idiag_dst[0] = raddr->s6_addr32[3];
	} else {
		memcpy(req->id.idiag_src, laddr, sizeof(*laddr));
		memcpy(req->id.idiag_dst, raddr, sizeof(*raddr));
	}
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	ret = es_mnl_request(netns, NETLINK_SOCK_DIAG, (struct nlmsghdr *)buf, buf, NULL, NULL);
	free(buf);
	return ret;
}

int es_tcp_destroy(int netns, const struct in6_addr *laddr, uint16_t lport,
		   const struct in6_addr *raddr, uint16_t rport)
{
	int ret;

	if (!IN6_IS_ADDR_V4MAPPED(laddr))
		return destroy(netns, AF_INET6, laddr, lport, raddr, rport);
	/* an IPv4 connection of an IPv6 socket is known by its mapped addresses */
	ret = destroy(netns, AF_INET, laddr, lport, raddr, rport);
	return ret == -ENOENT ? destroy(netns, AF_INET6, laddr, lport, raddr, rport) : ret;
}
