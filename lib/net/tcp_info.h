/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One TCP connection's own state (sock_diag, INET_DIAG_INFO): what a
 * replay that stalls reports of the restored socket. struct tcp_info is
 * the kernel's (linux/tcp.h), not glibc's shorter copy.
 */
#ifndef EDGESHIFT_TCP_INFO_H
#define EDGESHIFT_TCP_INFO_H

#include <linux/tcp.h>
#include "tcp_conns.h"

/*
 * The state of connection t in netns (netns.h): its window, what it has
 * in flight, its retransmission back-off. 1 and *ti, 0 when no socket
 * holds it, or -errno.
 */
int es_tcp_conn_info(int netns, const struct es_tcp_tuple *t, struct tcp_info *ti);

#endif
