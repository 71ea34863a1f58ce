/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef EDGESHIFT_REPLAY_TUNNEL_H
#define EDGESHIFT_REPLAY_TUNNEL_H

#include "migctl/load.h"

/* Send a recorded request to the source through the tunnel (UDP socket from es_mig_tunnel_open). */
int es_mig_tunnel_open(const struct es_mig_dp *dp);
int es_mig_tunnel_send(const struct es_mig_dp *dp, int fd, __u32 dst, __u64 seq,
		       const struct es_mig_record *rec);

#endif /* EDGESHIFT_REPLAY_TUNNEL_H */
