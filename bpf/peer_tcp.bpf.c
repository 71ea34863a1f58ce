// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP start-up of the agent's connections with its migration peers, set
 * per socket (sockops, attached to the agent's cgroup) rather than for the
 * whole node: over a long fat path (200 ms RTT, 10 MB/s: a 2 MB
 * bandwidth-delay product) a connection starting from ten segments needs
 * about eight round trips to fill the link. The operator who knows the
 * path gives the initial congestion window in segments; only sockets to
 * or from a peer's agent change.
 *
 * Past the first flight the congestion control takes over, and BBR's
 * start-up (this machine's default) sends about 2.9 times the path's
 * product before it measures the bandwidth: a bottleneck queue of one
 * product overflows and thousands of frames are sent twice. A clamp on the
 * congestion window between one and two products (pipe plus queue) keeps
 * the link full and the queue from overflowing.
 *
 * The receiver: autotuning doubles the receive buffer once per round trip
 * from tcp_rmem's default, so the first megabytes of a connection wait for
 * the window (measured: the first second of a transfer rwnd-limited). A
 * buffer set when a peer's connection is accepted, and a first window as
 * wide (a RWND_INIT reply raises it for a passive connection, where the
 * kernel sizes the window from max(buffer, reply)), open it from the start.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "edgeshift/peer_tcp.h"

#define AF_INET		2
#define SOL_TCP		6
#define SOL_SOCKET	1
#define SO_RCVBUF	8
#define TCP_BPF_IW	1001
#define TCP_BPF_SNDCWND_CLAMP	1002

const volatile __u32 init_cwnd = 0;	/* segments; 0 leaves the kernel's */
const volatile __u32 cwnd_clamp = 0;	/* segments; 0 leaves the window unclamped */
const volatile __u32 rcvbuf = 0;	/* bytes; 0 leaves the receive buffer to autotuning */

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

/*
 * The initial window after the clamp: it is the last word on the first
 * flight. The receive buffer is set before the kernel sizes the window
 * from it (tcp_init_buffer_space follows this callback).
 */
static void tune(struct bpf_sock_ops *skops)
{
	int iw = init_cwnd, clamp = cwnd_clamp, rb = rcvbuf;

	if (clamp)
		bpf_setsockopt(skops, SOL_TCP, TCP_BPF_SNDCWND_CLAMP, &clamp, sizeof(clamp));
	if (iw)
		bpf_setsockopt(skops, SOL_TCP, TCP_BPF_IW, &iw, sizeof(iw));
	if (rb)
		bpf_setsockopt(skops, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
}

SEC("sockops")
int es_peer_tcp(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_RWND_INIT:
		/* a passive connection's first window: as wide as the buffer allows */
		if (rcvbuf && is_peer(skops, false))
			skops->reply = rcvbuf / 2 / 1448;
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (is_peer(skops, skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB))
			tune(skops);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
