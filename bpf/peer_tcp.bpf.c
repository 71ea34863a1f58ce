// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP start-up of the agent's connections with its migration peers, set
 * per socket (sockops, attached to the agent's cgroup) rather than for the
 * whole node: over a long fat path (Paper D: 200 ms RTT, 10 MB/s, a 2 MB
 * bandwidth-delay product) a connection starting from ten segments needs
 * about eight round trips to fill the link. The operator who knows the
 * path gives the initial congestion window in segments; only sockets to
 * or from a peer's agent change. (The initial receive window is no knob:
 * the kernel caps it at 64 KiB, the SYN's unscaled window, and a sockops
 * RWND_INIT reply can only lower it; the receiver opens it as data comes.)
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "edgeshift/peer_tcp.h"

#define AF_INET		2
#define SOL_TCP		6
#define TCP_BPF_IW	1001

const volatile __u32 init_cwnd = 0;	/* segments; 0 leaves the kernel's */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_PEER_TCP_MAX);
	__type(key, __u32);			/* the peer's IPv4 address, network order */
	__type(value, struct es_peer_tcp);
} es_peers SEC(".maps");

/* A connection this node opened to a peer's agent, or one a peer opened here. */
static bool is_peer(struct bpf_sock_ops *skops, bool active)
{
	struct es_peer_tcp *p;
	__u32 ip = skops->remote_ip4;

	if (skops->family != AF_INET)
		return false;
	p = bpf_map_lookup_elem(&es_peers, &ip);
	if (!p)
		return false;
	return !active || p->port == bpf_ntohl(skops->remote_port);
}

SEC("sockops")
int es_peer_tcp(struct bpf_sock_ops *skops)
{
	int iw = init_cwnd;

	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (iw && is_peer(skops, skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB))
			bpf_setsockopt(skops, SOL_TCP, TCP_BPF_IW, &iw, sizeof(iw));
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
