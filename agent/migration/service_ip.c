// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include "service_ip.h"

static int addr_request(struct in_addr a, unsigned int ifindex, bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = time(NULL), portid;
	struct mnl_socket *nl;
	struct ifaddrmsg *ifa;
	int ret = 0, n;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a.s_addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a.s_addr);
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, n, seq, portid, NULL, NULL) < 0)
		ret = -errno;
out:
	mnl_socket_close(nl);
	return ret;
}

int es_service_ip_set(const char *ip, bool add, char *err, size_t err_len)
{
	unsigned int lo = if_nametoindex("lo");
	struct in_addr a;
	int ret;

	if (inet_pton(AF_INET, ip, &a) != 1) {
		snprintf(err, err_len, "service_ip \"%.64s\" is not an IPv4 address", ip);
		return -EINVAL;
	}
	if (!lo) {
		snprintf(err, err_len, "service_ip %s: no loopback device", ip);
		return -ENODEV;
	}
	ret = addr_request(a, lo, add);
	if (!add && ret == -EADDRNOTAVAIL)
		ret = 0;
	if (ret)
		snprintf(err, err_len, "%s service_ip %s on lo: %s", add ? "adding" : "removing", ip,
			 strerror(-ret));
	return ret;
}
