// SPDX-License-Identifier: GPL-2.0-only
/* Receive queue of UDP sockets from NETLINK_SOCK_DIAG (inet_diag), with libmnl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include "udp_rqueue.h"

struct rqueue_match {
	int		family;
	uint32_t	addr;
	uint16_t	port;
	uint64_t	bytes;
	unsigned int	sockets;
};

static int diag_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct rqueue_match *q = data;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
		return MNL_CB_ERROR;
	const __be32 *src = m->id.idiag_src;
	uint32_t bound;

	if (m->id.idiag_sport != q->port)
		return MNL_CB_OK;
	/* An IPv6 socket takes IPv4 datagrams when bound to :: or ::ffff:a.b.c.d. */
	if (q->family == AF_INET6) {
		if (src[0] || src[1] || (src[2] && src[2] != htonl(0xffff)))
			return MNL_CB_OK;
		bound = src[2] ? src[3] : 0;
	} else {
		bound = src[0];
	}
	if (q->addr && bound && bound != q->addr)
		return MNL_CB_OK;
	q->bytes += m->idiag_rqueue;
	q->sockets++;
	return MNL_CB_OK;
}

static int dump_family(struct rqueue_match *q, char *buf)
{
	struct inet_diag_req_v2 *req;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int seq = time(NULL), portid;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = q->family;
	req->sdiag_protocol = IPPROTO_UDP;
	req->idiag_states = ~0U;
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	do {
		ret = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, ret, seq, portid, diag_msg_cb, q);
	} while (ret > 0);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

int es_udp_rqueue(uint32_t addr, uint16_t port, uint64_t *bytes, unsigned int *sockets)
{
	struct rqueue_match q = { .family = AF_INET, .addr = addr, .port = port };
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = dump_family(&q, buf);
	q.family = AF_INET6;
	if (!ret)
		ret = dump_family(&q, buf);
	/* A kernel without IPv6 has no such sockets to count. */
	if (ret == -EAFNOSUPPORT)
		ret = 0;
	free(buf);
	*bytes = q.bytes;
	*sockets = q.sockets;
	return ret;
}
