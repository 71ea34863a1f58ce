/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef EDGESHIFT_REPLAY_INJECT_H
#define EDGESHIFT_REPLAY_INJECT_H

#include <stddef.h>
#include <edgeshift/migration.h>

/*
 * Put the recorded request into the local stack as if it had just arrived
 * (raw IPv4 socket from es_mig_inject_open): it reaches the container the
 * service address routes to. The UDP or TCP checksum is recomputed,
 * since the copy may carry a checksum left to offload.
 */
int es_mig_inject_open(void);
int es_mig_inject(int fd, const struct es_mig_record *rec);
int es_mig_inject_packet(int fd, const __u8 *data, __u32 len);

/* Recompute the UDP or TCP checksum of an IPv4 packet in place; -EINVAL if it is neither. */
int es_mig_l4_fix_csum(__u8 *pkt, size_t len);

#endif /* EDGESHIFT_REPLAY_INJECT_H */
