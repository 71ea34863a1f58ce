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

struct mnl_socket *es_mnl_open(int netns, int bus, int *err)
{
	struct mnl_socket *nl;
	int fd;

	fd = es_netns_socket(netns, AF_NETLINK, SOCK_RAW, bus);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	nl = mnl_socket_fdopen(fd);
	if (!nl) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID)) {
		*err = -errno;
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

int es_mnl_ask(struct mnl_socket *nl, const struct nlmsghdr *nlh, char *buf, mnl_cb_t cb,
	       void *data)
{
	unsigned int seq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return es_mnl_recv(nl, buf, seq, cb, data);
}

int es_mnl_request(int netns, int bus, const struct nlmsghdr *nlh, char *buf, mnl_cb_t cb,
		   void *data)
{
	struct mnl_socket *nl;
	int ret;

	nl = es_mnl_open(netns, bus, &ret);
	if (!nl)
		return ret;
	ret = es_mnl_ask(nl, nlh, buf, cb, data);
	mnl_socket_close(nl);
	return ret;
}
