/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fixed-rate UDP sessions for the session test: one socket (so one flow,
 * one source port) per session, all paced by one thread on an absolute
 * schedule, so a late wake-up is caught up and the mean rate stays the set
 * rate; a stall of over 10 ms is not caught up (no burst), the offer says
 * what was sent. Used by `edgeshift session-test` and by `es-session send` (one
 * session per Kubernetes pod).
 */
#ifndef EDGESHIFT_SESSION_PACER_H
#define EDGESHIFT_SESSION_PACER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "session_wire.h"

struct es_pacer_session {
	int		fd;
	uint64_t	next_due;	/* CLOCK_MONOTONIC ns of the next datagram */
	/* written by the pacer thread, read with __atomic loads */
	uint64_t	offered_packets;	/* the schedule's datagrams so far */
	uint64_t	offered_bytes;
	uint64_t	send_errors;	/* of those, refused by the local stack */
};

struct es_pacer {
	struct sockaddr_storage	dst;
	socklen_t		dst_len;
	uint32_t		run_id;
	uint32_t		session_base;	/* wire session id of s[0] */
	uint32_t		payload;	/* UDP payload bytes per datagram */
	uint64_t		interval_ns;	/* between datagrams of one session */
	/*
	 * How far behind its schedule the thread sent a datagram, at worst,
	 * since es_pacer_take_late() (atomic). A stall of the client shows
	 * here: the late datagrams then leave in a burst, which a path's
	 * queue may drop though the mean rate held.
	 */
	uint64_t		late_max_ns;
	uint32_t		n;		/* sessions running (atomic) */
	bool			stop;		/* atomic */
	pthread_t		thread;
	bool			started;
	struct es_pacer_session	s[ES_SW_MAX_SESSIONS];
};

/* rate_bps counts UDP payload bits, as iperf3 -b does. 0 or -errno. */
int es_pacer_init(struct es_pacer *p, const struct sockaddr *dst, socklen_t dst_len,
		  uint32_t run_id, double rate_bps, uint32_t payload);
int es_pacer_start(struct es_pacer *p);
/* Open one more session, sending from now on: its index, or -errno. */
int es_pacer_add(struct es_pacer *p);
void es_pacer_counters(struct es_pacer *p, uint32_t i, uint64_t *packets, uint64_t *bytes,
		       uint64_t *errors);
/* The worst lateness since the last call, in ns; starts a new window. */
uint64_t es_pacer_take_late(struct es_pacer *p);
/* Stop the thread and close every socket. */
void es_pacer_stop(struct es_pacer *p);

#endif
