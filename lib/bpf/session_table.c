// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "session_table.h"

void es_key6_from_key4(struct es_session_key6 *k6, const struct es_session_key4 *k4)
{
	memset(k6, 0, sizeof(*k6));
	k6->addr_lo[10] = k6->addr_lo[11] = 0xff;
	k6->addr_hi[10] = k6->addr_hi[11] = 0xff;
	memcpy(&k6->addr_lo[12], &k4->addr_lo, 4);
	memcpy(&k6->addr_hi[12], &k4->addr_hi, 4);
	k6->port_lo = k4->port_lo;
	k6->port_hi = k4->port_hi;
	k6->ifindex = k4->ifindex;
	k6->proto = k4->proto;
}

void es_key4_from_key6(struct es_session_key4 *k4, const struct es_session_key6 *k6)
{
	memset(k4, 0, sizeof(*k4));
	memcpy(&k4->addr_lo, &k6->addr_lo[12], 4);
	memcpy(&k4->addr_hi, &k6->addr_hi[12], 4);
	k4->port_lo = k6->port_lo;
	k4->port_hi = k6->port_hi;
	k4->ifindex = k6->ifindex;
	k4->proto = k6->proto;
}

void es_session_endpoint(const struct es_session *s, bool hi, char *buf, size_t len)
{
	const __u8 *addr = hi ? s->key.addr_hi : s->key.addr_lo;
	unsigned int port = ntohs(hi ? s->key.port_hi : s->key.port_lo);
	char a[INET6_ADDRSTRLEN];

	if (s->family == ES_FAMILY_INET) {
		inet_ntop(AF_INET, addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	}
}

const char *es_proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_ICMPV6:	return "icmpv6";
	default:		return "other";
	}
}

int es_proto_parse(const char *name)
{
	static const unsigned int protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6,
	};
	unsigned int i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcasecmp(name, es_proto_name(protos[i])))
			return protos[i];
	}
	return -1;
}
