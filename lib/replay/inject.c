// SPDX-License-Identifier: GPL-2.0-only
/* A recorded request put into the local stack through a raw socket. */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "net/netns.h"
#include "inject.h"

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __u32 csum_add(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

int es_ip_l4(const __u8 *pkt, size_t len, size_t *hlen, size_t *l4len, __u8 *proto)
{
	size_t tot;

	if (len >= 40 && pkt[0] >> 4 == 6) {
		/* no extension headers: the data plane takes no other IPv6 packet */
		*hlen = 40;
		*proto = pkt[6];
		tot = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
	} else if (len >= 20 && pkt[0] >> 4 == 4) {
		*hlen = (pkt[0] & 0xf) * 4;
		*proto = pkt[9];
		tot = (size_t)pkt[2] << 8 | pkt[3];
	} else {
		return -EINVAL;
	}
	if (*hlen < 20 || tot > len || tot < *hlen + 8)
		return -EINVAL;
	*l4len = tot - *hlen;
	return 0;
}

/* The pseudo-header's sum: addresses, protocol and L4 length (RFC 768, RFC 8200 8.1). */
static __u32 pseudo_sum(const __u8 *pkt, __u8 proto, size_t l4len)
{
	if (pkt[0] >> 4 == 6)
		return csum_add(0, pkt + 8, 32) + proto + (__u32)(l4len >> 16) +
		       (__u32)(l4len & 0xffff);
	return csum_add(0, pkt + 12, 8) + proto + l4len;
}

/*
 * Recompute the UDP or TCP checksum of an IPv4 or IPv6 packet in place;
 * -EINVAL if it is neither. The L4 length is the IP length less the header.
 */
int es_mig_l4_fix_csum(__u8 *pkt, size_t len)
{
	size_t ihl, l4len, at;
	__u8 proto;
	__u32 sum;
	__u16 c;

	if (es_ip_l4(pkt, len, &ihl, &l4len, &proto))
		return -EINVAL;
	if (proto == IPPROTO_UDP) {
		at = 6;
		if (((size_t)pkt[ihl + 4] << 8 | pkt[ihl + 5]) != l4len)
			return -EINVAL;
	} else if (proto == IPPROTO_TCP && l4len >= 20) {
		at = 16;
	} else {
		return -EINVAL;
	}
	pkt[ihl + at] = pkt[ihl + at + 1] = 0;
	sum = pseudo_sum(pkt, proto, l4len);
	sum = csum_add(sum, pkt + ihl, l4len);
	c = ~csum_fold(sum);
	if (!c && proto == IPPROTO_UDP)
		c = 0xffff;	/* 0 would mean "no checksum" (and is not allowed over IPv6) */
	pkt[ihl + at] = c >> 8;
	pkt[ihl + at + 1] = c & 0xff;
	return 0;
}

void es_ip_set_len(__u8 *pkt, size_t len)
{
	/* IPv4's total length counts its header, IPv6's payload length does not */
	size_t v = pkt[0] >> 4 == 6 ? len - 40 : len;
	size_t at = pkt[0] >> 4 == 6 ? 4 : 2;

	pkt[at] = v >> 8;
	pkt[at + 1] = v & 0xff;
}

int es_mig_inject_open(int netns, int family)
{
	/* IPPROTO_RAW: the header comes with the packet, in both families */
	return es_netns_socket(netns, family, SOCK_RAW, IPPROTO_RAW);
}

int es_mig_inject_packet(int fd, const __u8 *data, __u32 len)
{
	__u8 pkt[ES_MIG_RECORD_BYTES];
	struct sockaddr_in6 dst6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct sockaddr *to = (struct sockaddr *)&dst;
	socklen_t to_len = sizeof(dst);

	if (len < 20 || len > ES_MIG_RECORD_BYTES)
		return -EINVAL;
	memcpy(pkt, data, len);
	if (es_mig_l4_fix_csum(pkt, len))
		return -EINVAL;
	if (pkt[0] >> 4 == 6) {
		memcpy(&dst6.sin6_addr, pkt + 24, 16);
		to = (struct sockaddr *)&dst6;
		to_len = sizeof(dst6);
	} else {
		memcpy(&dst.sin_addr, pkt + 16, 4);
	}
	if (sendto(fd, pkt, len, 0, to, to_len) != (ssize_t)len)
		return -errno;
	return 0;
}

int es_mig_inject_key_open(int netns, const struct es_mig_key *key)
{
	return es_mig_inject_open(netns, es_mig_addr_is4(key->svc_addr) ? AF_INET : AF_INET6);
}

int es_mig_inject(int fd, const struct es_mig_record *rec)
{
	return es_mig_inject_packet(fd, rec->data, rec->len);
}
