/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wraps a test frame's IP packet in the migration tunnel (es_mig_tunhdr
 * over UDP over IPv4), as the other node's data plane would send it: for
 * packet fixtures and benchmarks of the tunnel's receiving side.
 */
#ifndef EDGESHIFT_TUN_BUILD_H
#define EDGESHIFT_TUN_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct es_tun_spec {
	uint32_t	src, dst;	/* outer IPv4 addresses, network order */
	uint16_t	port;		/* the tunnel's UDP port (both ends), host order */
	uint8_t		type;		/* es_mig_tun_type */
	uint64_t	seq;		/* the tunnel header's ordinal */
	uint32_t	base;		/* the tunnel header's base (REQUEST: fwd_base) */
};

/* The checksum of a 20-byte IPv4 header (0 when its own checksum is right), host order. */
uint16_t es_ipv4_csum(const uint8_t *hdr);

/*
 * out = in's Ethernet header, the tunnel's headers, in's IP packet; out
 * must hold in_len + ES_MIG_ENCAP_LEN bytes. Returns out's length.
 */
size_t es_tun_build(const struct es_tun_spec *t, const uint8_t *in, size_t in_len, uint8_t *out);

#endif /* EDGESHIFT_TUN_BUILD_H */
