/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Builds test packets (Ethernet + IPv4/IPv6 + TCP/UDP/ICMP) with correct
 * lengths and checksums, for packet fixtures, benchmarks and the flood
 * generator.
 */
#ifndef EDGESHIFT_PKT_BUILD_H
#define EDGESHIFT_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct es_pkt_spec {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		proto;		/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
	struct in6_addr	src, dst;	/* IPv4 in the last 4 bytes when family is AF_INET */
	uint16_t	sport, dport;	/* host order; for ICMP sport is the echo id */
	uint8_t		tcp_flags;	/* TCP flag byte */
	uint8_t		icmp_type;	/* ICMP(v6) type */
	size_t		payload;	/* payload bytes after the L4 header */
	size_t		pad;		/* zero bytes after the IP packet, outside its
					 * length: the padding that makes a short frame
					 * the 60 bytes Ethernet needs */
	uint8_t		src_mac[6], dst_mac[6];
};

/* Fill spec defaults: IPv4 10.0.0.1:1000 -> 10.0.0.2:2000 UDP, no payload. */
void es_pkt_spec_init(struct es_pkt_spec *spec);

/* Parse "a.b.c.d" or an IPv6 literal into spec->src or dst; 0 or -1. */
int es_pkt_spec_addr(struct es_pkt_spec *spec, int which_dst, const char *addr);

/* Write the packet into buf; returns its length, or 0 if buf is too small. */
size_t es_pkt_build(const struct es_pkt_spec *spec, uint8_t *buf, size_t buf_len);

#endif /* EDGESHIFT_PKT_BUILD_H */
