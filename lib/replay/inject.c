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

/* Recompute the UDP checksum of an IPv4 packet in place; -EINVAL if it is not one. */
int es_mig_udp4_fix_csum(__u8 *pkt, size_t len)
{
	size_t ihl, ulen;
	__u32 sum;
	__u16 c;

	if (len < 28 || (pkt[0] >> 4) != 4 || pkt[9] != IPPROTO_UDP)
		return -EINVAL;
	ihl = (pkt[0] & 0xf) * 4;
	if (ihl < 20 || len < ihl + 8)
		return -EINVAL;
	ulen = (size_t)pkt[ihl + 4] << 8 | pkt[ihl + 5];
	if (ulen < 8 || ihl + ulen > len)
		return -EINVAL;
	pkt[ihl + 6] = pkt[ihl + 7] = 0;
	sum = csum_add(0, pkt + 12, 8);		/* source and destination addresses */
	sum += IPPROTO_UDP + ulen;
	sum = csum_add(sum, pkt + ihl, ulen);
	c = ~csum_fold(sum);
	if (!c)
		c = 0xffff;
	pkt[ihl + 6] = c >> 8;
	pkt[ihl + 7] = c & 0xff;
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
	if (es_mig_udp4_fix_csum(pkt, len))
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
