// SPDX-License-Identifier: GPL-2.0-only
/* A recorded request sent to the source node through the migration tunnel. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "migctl/ctl.h"
#include "inject.h"
#include "tunnel.h"

int es_mig_tunnel_open(const struct es_mig_dp *dp)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct es_mig_node_config cfg;
	int fd, ret;

	ret = es_mig_config_get(dp, &cfg);
	if (ret)
		return ret;
	if (!cfg.local_addr || !cfg.tunnel_port)
		return -ENOTCONN;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	/* The source answers to the outer source address: this node's tunnel address. */
	src.sin_addr.s_addr = cfg.local_addr;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int es_mig_tunnel_send_pkt(const struct es_mig_dp *dp, int fd, __u32 dst, __u8 type, __u64 seq,
			   __u64 base, const __u8 *pkt, __u32 pkt_len)
{
	__u8 buf[sizeof(struct es_mig_tunhdr) + ES_MIG_RECORD_BYTES];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct es_mig_tunhdr th = {};
	struct es_mig_node_config cfg;
	size_t len;
	int ret;

	if (pkt_len < 20 || pkt_len > ES_MIG_RECORD_BYTES)
		return -EINVAL;
	ret = es_mig_config_get(dp, &cfg);
	if (ret)
		return ret;
	th.magic = htons(ES_MIG_TUN_MAGIC);
	th.version = ES_MIG_TUN_VERSION;
	th.type = type;
	th.base = htonl((__u32)base);
	th.seq = htobe64(seq);
	memcpy(buf, &th, sizeof(th));
	memcpy(buf + sizeof(th), pkt, pkt_len);
	/* a copy taken before the NIC finished it may carry a partial checksum */
	if (es_mig_l4_fix_csum(buf + sizeof(th), pkt_len))
		return -EINVAL;
	len = sizeof(th) + pkt_len;
	to.sin_addr.s_addr = dst;
	to.sin_port = cfg.tunnel_port;
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		return -errno;
	return 0;
}

int es_mig_tunnel_send(const struct es_mig_dp *dp, int fd, __u32 dst, __u64 seq, __u64 base,
		       const struct es_mig_record *rec)
{
	return es_mig_tunnel_send_pkt(dp, fd, dst, ES_MIG_TUN_REQUEST, seq, base, rec->data,
				      rec->len);
}
