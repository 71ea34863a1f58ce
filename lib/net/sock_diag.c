// SPDX-License-Identifier: GPL-2.0-only
/* One inet_diag dump of a network namespace (sock_diag.h), with libmnl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/tcp.h>
#include <linux/sock_diag.h>
#include "mnl_recv.h"
#include "sock_diag.h"

struct dump_ctx {
	es_inet_diag_cb		cb;
	es_inet_diag_info_cb	info_cb;	/* instead of cb: with INET_DIAG_INFO asked */
	void			*data;
	int			stop;	/* the callback's non-zero answer */
};

struct inet_diag_req_v2 *es_inet_diag_req(char *buf, uint16_t type, uint16_t flags,
					  unsigned int seq, int family, int protocol,
					  uint32_t states)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = protocol;
	req->idiag_states = states;
	return req;
}

/* The socket's tcp_info attribute into ti (zero-filled first): true when there was one. */
static bool info_of(const struct nlmsghdr *nlh, size_t off, struct tcp_info *ti)
{
	const struct nlattr *a;
	size_t n;

	memset(ti, 0, sizeof(*ti));
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) != INET_DIAG_INFO)
			continue;
		n = mnl_attr_get_payload_len(a);
		memcpy(ti, mnl_attr_get_payload(a), n < sizeof(*ti) ? n : sizeof(*ti));
		return true;
	}
	return false;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct dump_ctx *c = data;
	struct tcp_info ti;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
		return MNL_CB_ERROR;
	if (c->info_cb)
		c->stop = c->info_cb(m, info_of(nlh, sizeof(*m), &ti) ? &ti : NULL, c->data);
	else
		c->stop = c->cb(m, c->data);
	return c->stop ? MNL_CB_STOP : MNL_CB_OK;
}

/* One family's dump on nl (a socket of netns's NETLINK_SOCK_DIAG). */
static int dump_on(struct mnl_socket *nl, char *buf, int family, int protocol, uint32_t states,
		   struct dump_ctx *c)
{
	struct inet_diag_req_v2 *req;
	int ret;

	req = es_inet_diag_req(buf, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, time(NULL),
			       family, protocol, states);
	if (c->info_cb)
		req->idiag_ext |= 1 << (INET_DIAG_INFO - 1);
	ret = es_mnl_ask(nl, (struct nlmsghdr *)buf, buf, msg_cb, c);
	return c->stop ?: ret;
}

/* Dumps of each family of families (0-terminated) on one socket of netns. */
static int dump_families(int netns, const int *families, int protocol, uint32_t states,
			 struct dump_ctx *c)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct mnl_socket *nl;
	int ret = -ENOMEM;

	if (!buf)
		return ret;
	nl = es_mnl_open(netns, NETLINK_SOCK_DIAG, &ret);
	for (ret = nl ? 0 : ret; nl && !ret && *families; families++)
		ret = dump_on(nl, buf, *families, protocol, states, c);
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return ret;
}

int es_inet_diag_dump(int netns, int family, int protocol, uint32_t states, es_inet_diag_cb cb,
		      void *data)
{
	struct dump_ctx c = { .cb = cb, .data = data };

	return dump_families(netns, (const int[]){ family, 0 }, protocol, states, &c);
}

bool es_inet_diag_addr_is(int family, const uint32_t *id, const struct in6_addr *a)
{
	if (family == AF_INET)
		return IN6_IS_ADDR_V4MAPPED(a) && id[0] == a->s6_addr32[3];
	return !memcmp(id, a, sizeof(*a));
}

/* Both families on one socket: in another namespace each socket costs a thread. */
static int dump_both(int netns, int protocol, uint32_t states, struct dump_ctx *c)
{
	int ret = dump_families(netns, (const int[]){ AF_INET, AF_INET6, 0 }, protocol, states, c);

	/* A kernel without IPv6 has no such sockets. */
	return ret == -EAFNOSUPPORT ? 0 : ret;
}

int es_inet_diag_dump_all(int netns, int protocol, uint32_t states, es_inet_diag_cb cb,
			  void *data)
{
	struct dump_ctx c = { .cb = cb, .data = data };

	return dump_both(netns, protocol, states, &c);
}

int es_inet_diag_dump_tcp_info(int netns, uint32_t states, es_inet_diag_info_cb cb, void *data)
{
	struct dump_ctx c = { .info_cb = cb, .data = data };

	return dump_both(netns, IPPROTO_TCP, states, &c);
}
