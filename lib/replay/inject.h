/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef EDGESHIFT_REPLAY_INJECT_H
#define EDGESHIFT_REPLAY_INJECT_H

#include <stddef.h>
#include <edgeshift/migration.h>

/*
 * Put the recorded request into the local stack as if it had just arrived
 * (a raw socket of the packet's family from es_mig_inject_open, AF_INET or
 * AF_INET6; es_mig_inject_key_open: the family of a session), made in
 * network namespace netns (net/netns.h; ES_NETNS_OWN: the caller's): it
 * reaches the container the service address routes to there. The UDP or TCP checksum is
 * recomputed, since the copy may carry a checksum left to offload.
 */
int es_mig_inject_open(int netns, int family);
int es_mig_inject_key_open(int netns, const struct es_mig_key *key);
int es_mig_inject(int fd, const struct es_mig_record *rec);
int es_mig_inject_packet(int fd, const __u8 *data, __u32 len);

/*
 * The IP packet (IPv4, or IPv6 without extension headers) of len bytes at
 * pkt: its header's length, its L4 length and protocol; -EINVAL when it is
 * not whole.
 */
int es_ip_l4(const __u8 *pkt, size_t len, size_t *hlen, size_t *l4len, __u8 *proto);
/* Set the length field of the IP packet at pkt to say it is len bytes long. */
void es_ip_set_len(__u8 *pkt, size_t len);

/* Recompute the UDP or TCP checksum of an IP packet (4 or 6) in place; -EINVAL if neither. */
int es_mig_l4_fix_csum(__u8 *pkt, size_t len);

#endif /* EDGESHIFT_REPLAY_INJECT_H */
