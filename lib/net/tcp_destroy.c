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
#include "tcp_destroy.h"

int es_tcp_destroy(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct inet_diag_req_v2 *req;
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	unsigned int seq = time(NULL);
	int ret;

	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_INET;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0U;
	req->id.idiag_sport = lport;
	req->id.idiag_dport = rport;
	req->id.idiag_src[0] = laddr;
	req->id.idiag_dst[0] = raddr;
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
	if (ret > 0)
		ret = mnl_cb_run(buf, ret, seq, mnl_socket_get_portid(nl), NULL, NULL);
	ret = ret < 0 ? -errno : 0;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return ret;
}
