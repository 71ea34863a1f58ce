/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet parser shared by the XDP and TC entry points. It fills an IPv4 or
 * IPv6 session key in canonical order plus what the accounting needs, or
 * says why the packet cannot be accounted (enum es_skip_reason).
 */
#ifndef EDGESHIFT_BPF_PARSE_H
#define EDGESHIFT_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <edgeshift/session.h>

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define ETH_P_802_3_MIN	0x0600

#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF

#define NEXTHDR_HOP	0
#define NEXTHDR_ROUTING	43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH	51
#define NEXTHDR_DEST	60

#define IPPROTO_ICMPV6	58

#define ICMP_ECHOREPLY	0
#define ICMP_ECHO	8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_ACK	0x10

/* Extension headers walked before giving up with ES_SKIP_IPV6_EXT. */
#define ES_IPV6_EXT_MAX	4

/* Result of parsing one packet. */
struct es_pkt {
	union {
		struct es_session_key4 k4;	/* family ES_FAMILY_INET */
		struct es_session_key6 k6;	/* family ES_FAMILY_INET6 */
	};
	__u32	hdr_len;	/* L2+L3+L4 header bytes, to count GSO segments */
	__u16	sport, dport;	/* from the L4 header, network order */
	__u8	family;		/* ES_FAMILY_INET or ES_FAMILY_INET6 */
	__u8	proto;		/* L4 protocol */
	__u8	tcp_flags;	/* flag byte of a TCP header, else 0 */
	__u8	ports_fixed;	/* non-echo ICMP: ports are (0, type) whatever the order */
	__u8	icmp_echo;	/* 1: echo request, 2: echo reply, 0: not ICMP echo */
	__u8	tcp_data;	/* TCP with payload (with es_tcp_rr_on only) */
};

/*
 * Set by the loader before load (the agent's tcp_request_latency: true):
 * request/response latency for TCP segments that carry payload too. Off
 * unless set: it costs every such segment of a known session the state
 * look-up a UDP request pays, and the verifier walks its branches, the
 * parser's test included, in every program that accounts (a third more
 * load time for the migration object, which an agent restarting
 * mid-migration waits for); off, the verifier prunes them. Here, not in
 * account.h, so that the parser's test is pruned too.
 */
const volatile __u32 es_tcp_rr_on = 0;

/* Ports for ICMP: echo request and reply share the identifier. */
#define ES_ICMP_ECHO_REQUEST	1
#define ES_ICMP_ECHO_REPLY	2

static __always_inline void es_icmp_ports(struct es_pkt *p, __u8 type, __u16 id,
					  bool echo, bool reply)
{
	p->icmp_echo = echo ? (reply ? ES_ICMP_ECHO_REPLY : ES_ICMP_ECHO_REQUEST) : 0;
	p->sport = echo ? id : 0;
	p->dport = echo ? id : bpf_htons(type);
	p->ports_fixed = !echo;
}

static __always_inline int es_parse_l4(void *l4, void *data_end, struct es_pkt *p)
{
	__u32 l4_len;

	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return ES_SKIP_TRUNCATED;
		if (th->doff < 5)
			return ES_SKIP_BAD_HEADER;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		l4_len = th->doff * 4;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return ES_SKIP_TRUNCATED;
		p->sport = uh->source;
		p->dport = uh->dest;
		l4_len = sizeof(*uh);
		break;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *ih = l4;

		if (p->family != ES_FAMILY_INET)
			return ES_SKIP_OTHER_PROTO;
		if ((void *)(ih + 1) > data_end)
			return ES_SKIP_TRUNCATED;
		es_icmp_ports(p, ih->type, ih->un.echo.id,
			      ih->type == ICMP_ECHO || ih->type == ICMP_ECHOREPLY,
			      ih->type == ICMP_ECHOREPLY);
		l4_len = sizeof(*ih);
		break;
	}
	case IPPROTO_ICMPV6: {
		struct icmp6hdr *ih = l4;

		if (p->family != ES_FAMILY_INET6)
			return ES_SKIP_OTHER_PROTO;
		if ((void *)(ih + 1) > data_end)
			return ES_SKIP_TRUNCATED;
		es_icmp_ports(p, ih->icmp6_type, ih->icmp6_dataun.u_echo.identifier,
			      ih->icmp6_type == ICMPV6_ECHO_REQUEST ||
			      ih->icmp6_type == ICMPV6_ECHO_REPLY,
			      ih->icmp6_type == ICMPV6_ECHO_REPLY);
		l4_len = sizeof(*ih);
		break;
	}
	default:
		return ES_SKIP_OTHER_PROTO;
	}
	p->hdr_len += l4_len;
	return -1;
}

/* Fill the IPv4 key in canonical order: lower (address, port) first. */
static __always_inline void es_key4_fill(struct es_pkt *p, __be32 saddr, __be32 daddr)
{
	struct es_session_key4 *k = &p->k4;
	__u32 s = bpf_ntohl(saddr), d = bpf_ntohl(daddr);
	bool src_lo = s < d || (s == d && bpf_ntohs(p->sport) <= bpf_ntohs(p->dport));

	k->addr_lo = src_lo ? saddr : daddr;
	k->addr_hi = src_lo ? daddr : saddr;
	k->port_lo = src_lo || p->ports_fixed ? p->sport : p->dport;
	k->port_hi = src_lo || p->ports_fixed ? p->dport : p->sport;
	k->proto = p->proto;
}

/* A fixed total order on IPv6 endpoints: compare 32-bit words, then ports. */
static __always_inline bool es_src6_is_lo(const __u32 *s, const __u32 *d,
					  __u16 sport, __u16 dport)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		if (s[i] != d[i])
			return bpf_ntohl(s[i]) < bpf_ntohl(d[i]);
	}
	return bpf_ntohs(sport) <= bpf_ntohs(dport);
}

static __always_inline void es_key6_fill(struct es_pkt *p, struct ipv6hdr *ip6h)
{
	struct es_session_key6 *k = &p->k6;
	bool src_lo = es_src6_is_lo((__u32 *)&ip6h->saddr, (__u32 *)&ip6h->daddr,
				    p->sport, p->dport);

	__builtin_memcpy(k->addr_lo, src_lo ? (void *)&ip6h->saddr : (void *)&ip6h->daddr, 16);
	__builtin_memcpy(k->addr_hi, src_lo ? (void *)&ip6h->daddr : (void *)&ip6h->saddr, 16);
	k->port_lo = src_lo || p->ports_fixed ? p->sport : p->dport;
	k->port_hi = src_lo || p->ports_fixed ? p->dport : p->sport;
	k->proto = p->proto;
}

static __always_inline int es_parse_ipv4(void *l3, void *data_end, struct es_pkt *p)
{
	struct iphdr *iph = l3;
	__u32 ihl;
	int ret;

	if ((void *)(iph + 1) > data_end)
		return ES_SKIP_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return ES_SKIP_BAD_HEADER;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return ES_SKIP_FRAGMENT;
	ihl = iph->ihl * 4;
	if (l3 + ihl > data_end)
		return ES_SKIP_TRUNCATED;
	p->family = ES_FAMILY_INET;
	p->proto = iph->protocol;
	p->hdr_len += ihl;
	ret = es_parse_l4(l3 + ihl, data_end, p);
	if (ret >= 0)
		return ret;
	es_key4_fill(p, iph->saddr, iph->daddr);
	/*
	 * From the IP length, not the frame's: a frame padded to 60 bytes
	 * carries no payload. A GSO packet of more than 64 KiB (BIG TCP) has
	 * tot_len 0 and is data.
	 */
	if (es_tcp_rr_on && p->proto == IPPROTO_TCP)
		p->tcp_data = !iph->tot_len ||
			      bpf_ntohs(iph->tot_len) + sizeof(struct ethhdr) > p->hdr_len;
	return ret;
}

static __always_inline int es_parse_ipv6(void *l3, void *data_end, struct es_pkt *p)
{
	struct ipv6hdr *ip6h = l3;
	void *cur = ip6h + 1;
	__u8 nexthdr;
	int i, ret;

	if (cur > data_end)
		return ES_SKIP_TRUNCATED;
	if (ip6h->version != 6)
		return ES_SKIP_BAD_HEADER;
	nexthdr = ip6h->nexthdr;
#pragma unroll
	for (i = 0; i < ES_IPV6_EXT_MAX; i++) {
		struct ipv6_opt_hdr *oh = cur;

		if (nexthdr == NEXTHDR_FRAGMENT)
			return ES_SKIP_FRAGMENT;
		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_AUTH)
			break;
		if ((void *)(oh + 1) > data_end)
			return ES_SKIP_TRUNCATED;
		nexthdr = oh->nexthdr;
		if (nexthdr == NEXTHDR_AUTH)
			cur += (oh->hdrlen + 2) * 4;
		else
			cur += (oh->hdrlen + 1) * 8;
	}
	if (nexthdr == NEXTHDR_FRAGMENT)
		return ES_SKIP_FRAGMENT;
	if (nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_ROUTING ||
	    nexthdr == NEXTHDR_DEST || nexthdr == NEXTHDR_AUTH)
		return ES_SKIP_IPV6_EXT;
	p->family = ES_FAMILY_INET6;
	p->proto = nexthdr;
	p->hdr_len += cur - l3;
	ret = es_parse_l4(cur, data_end, p);
	if (ret >= 0)
		return ret;
	es_key6_fill(p, ip6h);
	/* payload_len counts the extension headers; 0 is a jumbogram (BIG TCP) */
	if (es_tcp_rr_on && p->proto == IPPROTO_TCP)
		p->tcp_data = !ip6h->payload_len ||
			      bpf_ntohs(ip6h->payload_len) + sizeof(struct ethhdr) +
			      sizeof(*ip6h) > p->hdr_len;
	return ret;
}

/*
 * Parse an Ethernet frame. Returns -1 when p holds a session key (in
 * canonical order, ifindex not set), else the es_skip_reason of the packet.
 */
static __always_inline int es_parse(void *data, void *data_end, struct es_pkt *p)
{
	struct ethhdr *eth = data;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return ES_SKIP_TRUNCATED;
	proto = bpf_ntohs(eth->h_proto);
	p->hdr_len = sizeof(*eth);
	if (proto == ETH_P_IP)
		return es_parse_ipv4(eth + 1, data_end, p);
	if (proto == ETH_P_IPV6)
		return es_parse_ipv6(eth + 1, data_end, p);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return ES_SKIP_VLAN;
	return ES_SKIP_NON_IP;
}

#endif /* EDGESHIFT_BPF_PARSE_H */
