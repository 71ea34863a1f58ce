/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The initial congestion window, a clamp on it and the receive buffer of
 * the agent's TCP connections with its migration peers
 * (migration.peer_init_cwnd, peer_cwnd_clamp, peer_rcvbuf): a sockops
 * program (bpf/peer_tcp.bpf.c)
 * attached to the agent's own cgroup through a link the process holds, so
 * it goes away with the agent and never touches the node's routes or
 * sysctls.
 */
#ifndef EDGESHIFT_AGENT_PEER_TCP_H
#define EDGESHIFT_AGENT_PEER_TCP_H

#include <stddef.h>
#include "mig_config.h"

struct peer_tcp;
struct bpf_link;

/* The loaded program and its cgroup link, owned by the migrator. */
struct es_peer_tcp_ctl {
	struct peer_tcp		*skel;
	struct bpf_link		*link;
};

/* 0 (also when none of the three is set: nothing to do), or -1 with err set. */
int es_peer_tcp_attach(struct es_peer_tcp_ctl *pt, const struct es_mig_config *cfg, char *err,
		       size_t err_len);
void es_peer_tcp_detach(struct es_peer_tcp_ctl *pt);

#endif
