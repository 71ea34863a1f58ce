// SPDX-License-Identifier: GPL-2.0-only
#include <endian.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/types.h>
#include "edgeshift/migration.h"
#include "testing/tun_build.h"

uint16_t es_ipv4_csum(const uint8_t *p)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

size_t es_tun_build(const struct es_tun_spec *t, const uint8_t *in, size_t in_len, uint8_t *out)
{
	size_t inner = in_len - ETH_HLEN;
	struct iphdr *ip = (struct iphdr *)(out + ETH_HLEN);
	struct udphdr *uh = (struct udphdr *)(ip + 1);
	struct es_mig_tunhdr th = {};

	memcpy(out, in, ETH_HLEN);
	/* the outer packet is IPv4 whatever the user's inside */
	out[12] = ETH_P_IP >> 8;
	out[13] = ETH_P_IP & 0xff;
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(ES_MIG_ENCAP_LEN + inner);
	ip->saddr = t->src;
	ip->daddr = t->dst;
	ip->check = htons(es_ipv4_csum((uint8_t *)ip));
	uh->source = htons(t->port);
	uh->dest = htons(t->port);
	uh->len = htons(8 + sizeof(th) + inner);
	/* no UDP checksum: the receiving program does not check one */
	uh->check = 0;
	th.magic = htons(ES_MIG_TUN_MAGIC);
	th.version = ES_MIG_TUN_VERSION;
	th.type = t->type;
	th.seq = htobe64(t->seq);
	th.base = htonl(t->base);
	memcpy(out + ETH_HLEN + 28, &th, sizeof(th));
	memcpy(out + ETH_HLEN + ES_MIG_ENCAP_LEN, in + ETH_HLEN, inner);
	return ETH_HLEN + ES_MIG_ENCAP_LEN + inner;
}
