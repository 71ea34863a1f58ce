/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef EDGESHIFT_REPLAY_TUNNEL_H
#define EDGESHIFT_REPLAY_TUNNEL_H

#include "migctl/load.h"

/* Send a recorded request to the source through the tunnel (UDP socket from es_mig_tunnel_open). */
int es_mig_tunnel_open(const struct es_mig_dp *dp);
/* dst: the source's tunnel address (16 bytes, as es_mig_key's; the node's family). */
int es_mig_tunnel_send(const struct es_mig_dp *dp, int fd, const __u32 *dst, __u64 seq,
		       __u64 base, const struct es_mig_record *rec);
/* Any user packet (IPv4 or IPv6, its L4 checksum recomputed) as tunnel message type. */
int es_mig_tunnel_send_pkt(const struct es_mig_dp *dp, int fd, const __u32 *dst, __u8 type,
			   __u64 seq, __u64 base, const __u8 *pkt, __u32 pkt_len);

#endif /* EDGESHIFT_REPLAY_TUNNEL_H */
