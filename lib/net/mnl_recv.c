// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "mnl_recv.h"
#include "netns.h"

int es_mnl_recv(struct mnl_socket *nl, char *buf, unsigned int seq, mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	int ret;

	do {
		ret = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

int es_mnl_request(int netns, int bus, const struct nlmsghdr *nlh, char *buf, mnl_cb_t cb,
		   void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	struct mnl_socket *nl;
	int fd, ret;

	fd = es_netns_socket(netns, AF_NETLINK, SOCK_RAW, bus);
	if (fd < 0)
		return fd;
	nl = mnl_socket_fdopen(fd);
	if (!nl) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		ret = -errno;
	else
		ret = es_mnl_recv(nl, buf, seq, cb, data);
	mnl_socket_close(nl);
	return ret;
}
