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

/* addr:port as the socket address of addr's family; its length. */
static socklen_t tunnel_sockaddr(const __u32 *addr, __u16 port, struct sockaddr_in6 *sa)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	if (es_mig_addr_is4(addr)) {
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = addr[3];
		s4->sin_port = port;
		return sizeof(*s4);
	}
	sa->sin6_family = AF_INET6;
	memcpy(&sa->sin6_addr, addr, 16);
	sa->sin6_port = port;
	return sizeof(*sa);
}

int es_mig_tunnel_open(const struct es_mig_dp *dp)
{
	struct es_mig_node_config cfg;
	struct sockaddr_in6 src;
	socklen_t len;
	int fd, ret;

	ret = es_mig_config_get(dp, &cfg);
	if (ret)
		return ret;
	if (!es_mig_addr_set(cfg.local_addr) || !cfg.tunnel_port)
		return -ENOTCONN;
	/* The source answers to the outer source address: this node's tunnel address. */
	len = tunnel_sockaddr(cfg.local_addr, 0, &src);
	fd = socket(src.sin6_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&src, len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int es_mig_tunnel_send_pkt(const struct es_mig_dp *dp, int fd, const __u32 *dst, __u8 type,
			   __u64 seq, __u64 base, const __u8 *pkt, __u32 pkt_len)
{
	__u8 buf[sizeof(struct es_mig_tunhdr) + ES_MIG_RECORD_BYTES];
	struct sockaddr_in6 to;
	socklen_t to_len;
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
	/* a peer of the other family than this node's tunnel is a configuration error */
	if (es_mig_addr_is4(dst) != es_mig_addr_is4(cfg.local_addr))
		return -EAFNOSUPPORT;
	to_len = tunnel_sockaddr(dst, cfg.tunnel_port, &to);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, to_len) != (ssize_t)len)
		return -errno;
	return 0;
}

int es_mig_tunnel_send(const struct es_mig_dp *dp, int fd, const __u32 *dst, __u64 seq,
		       __u64 base, const struct es_mig_record *rec)
{
	return es_mig_tunnel_send_pkt(dp, fd, dst, ES_MIG_TUN_REQUEST, seq, base, rec->data,
				      rec->len);
}
