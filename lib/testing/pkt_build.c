// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include "pkt_build.h"

void es_pkt_spec_init(struct es_pkt_spec *spec)
{
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 1 };
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 2 };

	memset(spec, 0, sizeof(*spec));
	spec->family = AF_INET;
	spec->proto = IPPROTO_UDP;
	es_pkt_spec_addr(spec, 0, "10.0.0.1");
	es_pkt_spec_addr(spec, 1, "10.0.0.2");
	spec->sport = 1000;
	spec->dport = 2000;
	memcpy(spec->src_mac, smac, 6);
	memcpy(spec->dst_mac, dmac, 6);
}

int es_pkt_spec_addr(struct es_pkt_spec *spec, int which_dst, const char *addr)
{
	struct in6_addr *a = which_dst ? &spec->dst : &spec->src;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, addr, &a->s6_addr[12]) == 1)
		return 0;
	if (inet_pton(AF_INET6, addr, a) == 1)
		return 0;
	return -1;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static size_t l4_header_len(uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return sizeof(struct tcphdr);
	return 8;
}

/* L4 header and payload at l4; the pseudo header sum is passed in. */
static void build_l4(const struct es_pkt_spec *spec, uint8_t *l4, size_t l4_len,
		     uint32_t pseudo)
{
	uint16_t *csum;

	memset(l4, 0, l4_len);
	if (spec->proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)l4;

		th->source = htons(spec->sport);
		th->dest = htons(spec->dport);
		th->seq = htonl(1);
		th->doff = 5;
		l4[13] = spec->tcp_flags;
		th->window = htons(65535);
		csum = &th->check;
	} else if (spec->proto == IPPROTO_UDP) {
		struct udphdr *uh = (struct udphdr *)l4;

		uh->source = htons(spec->sport);
		uh->dest = htons(spec->dport);
		uh->len = htons(l4_len);
		csum = &uh->check;
	} else {
		l4[0] = spec->icmp_type;
		memcpy(l4 + 4, &(uint16_t){ htons(spec->sport) }, 2);
		memcpy(l4 + 6, &(uint16_t){ htons(1) }, 2);
		csum = (uint16_t *)(l4 + 2);
		if (spec->proto == IPPROTO_ICMP)
			pseudo = 0;
	}
	for (size_t i = l4_header_len(spec->proto); i < l4_len; i++)
		l4[i] = (uint8_t)i;
	*csum = csum_fold(csum_add(pseudo, l4, l4_len));
}

static size_t build_ipv4(const struct es_pkt_spec *spec, uint8_t *l3, size_t l4_len)
{
	struct iphdr *iph = (struct iphdr *)l3;
	uint32_t pseudo = 0;

	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = spec->proto;
	iph->tot_len = htons(sizeof(*iph) + l4_len);
	memcpy(&iph->saddr, &spec->src.s6_addr[12], 4);
	memcpy(&iph->daddr, &spec->dst.s6_addr[12], 4);
	iph->check = csum_fold(csum_add(0, iph, sizeof(*iph)));
	pseudo = csum_add(pseudo, &iph->saddr, 8);
	pseudo += spec->proto + l4_len;
	build_l4(spec, l3 + sizeof(*iph), l4_len, pseudo);
	return sizeof(*iph);
}

static size_t build_ipv6(const struct es_pkt_spec *spec, uint8_t *l3, size_t l4_len)
{
	struct ipv6hdr *ip6h = (struct ipv6hdr *)l3;
	uint32_t pseudo;

	memset(ip6h, 0, sizeof(*ip6h));
	ip6h->version = 6;
	ip6h->payload_len = htons(l4_len);
	ip6h->nexthdr = spec->proto;
	ip6h->hop_limit = 64;
	memcpy(&ip6h->saddr, &spec->src, 16);
	memcpy(&ip6h->daddr, &spec->dst, 16);
	pseudo = csum_add(0, &ip6h->saddr, 32);
	pseudo += spec->proto + l4_len;
	build_l4(spec, l3 + sizeof(*ip6h), l4_len, pseudo);
	return sizeof(*ip6h);
}

size_t es_pkt_build(const struct es_pkt_spec *spec, uint8_t *buf, size_t buf_len)
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	size_t l4_len = l4_header_len(spec->proto) + spec->payload;
	size_t l3_len = spec->family == AF_INET6 ? sizeof(struct ipv6hdr) :
			sizeof(struct iphdr);
	size_t total = sizeof(*eth) + l3_len + l4_len + spec->pad;

	if (total > buf_len)
		return 0;
	memset(buf + total - spec->pad, 0, spec->pad);
	memcpy(eth->h_dest, spec->dst_mac, 6);
	memcpy(eth->h_source, spec->src_mac, 6);
	if (spec->family == AF_INET6) {
		eth->h_proto = htons(ETH_P_IPV6);
		build_ipv6(spec, buf + sizeof(*eth), l4_len);
	} else {
		eth->h_proto = htons(ETH_P_IP);
		build_ipv4(spec, buf + sizeof(*eth), l4_len);
	}
	return total;
}
