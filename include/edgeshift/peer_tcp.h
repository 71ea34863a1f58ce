/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The map of bpf/peer_tcp.bpf.c: which remote addresses are migration
 * peers of this agent. Key: the peer's IPv4 address (__u32, network byte
 * order); value: struct es_peer_tcp.
 */
#ifndef EDGESHIFT_PEER_TCP_H
#define EDGESHIFT_PEER_TCP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define ES_PEER_TCP_MAX	64	/* entries of the es_peers map */

struct es_peer_tcp {
	__u32	port;	/* TCP port of the peer's agent, host byte order */
};

#endif
