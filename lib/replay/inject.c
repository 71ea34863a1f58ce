// SPDX-License-Identifier: GPL-2.0-only
/* A recorded request put into the local stack through a raw socket. */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

/*
 * Recompute the UDP or TCP checksum of an IPv4 packet in place; -EINVAL if
 * it is neither. The L4 length is the IP total length less the header.
 */
int es_mig_l4_fix_csum(__u8 *pkt, size_t len)
{
	size_t ihl, tot, l4len, at;
	__u8 proto;
	__u32 sum;
	__u16 c;

	if (len < 28 || (pkt[0] >> 4) != 4)
		return -EINVAL;
	proto = pkt[9];
	ihl = (pkt[0] & 0xf) * 4;
	tot = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || tot > len || tot < ihl + 8)
		return -EINVAL;
	l4len = tot - ihl;
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
	sum = csum_add(0, pkt + 12, 8);		/* source and destination addresses */
	sum += proto + l4len;
	sum = csum_add(sum, pkt + ihl, l4len);
	c = ~csum_fold(sum);
	if (!c && proto == IPPROTO_UDP)
		c = 0xffff;	/* 0 would mean "no checksum" */
	pkt[ihl + at] = c >> 8;
	pkt[ihl + at + 1] = c & 0xff;
	return 0;
}

int es_mig_inject_open(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	return fd < 0 ? -errno : fd;
}

int es_mig_inject_packet(int fd, const __u8 *data, __u32 len)
{
	__u8 pkt[ES_MIG_RECORD_BYTES];
	struct sockaddr_in dst = { .sin_family = AF_INET };

	if (len < 20 || len > ES_MIG_RECORD_BYTES)
		return -EINVAL;
	memcpy(pkt, data, len);
	if (es_mig_l4_fix_csum(pkt, len))
		return -EINVAL;
	memcpy(&dst.sin_addr, pkt + 16, 4);
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst)) != (ssize_t)len)
		return -errno;
	return 0;
}

int es_mig_inject(int fd, const struct es_mig_record *rec)
{
	return es_mig_inject_packet(fd, rec->data, rec->len);
}
