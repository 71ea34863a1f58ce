/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One TCP session's replay as it runs (tcp_replay.c), shared with the
 * replay of a service's sessions in their arrival order (tcp_group.c).
 */
#ifndef EDGESHIFT_REPLAY_TCP_RUN_H
#define EDGESHIFT_REPLAY_TCP_RUN_H

#include <stdbool.h>
#include "migctl/ctl.h"
#include "tcp_replay.h"

static inline __u32 es_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static inline void es_put_be32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* a is after b in serial number arithmetic (RFC 1982) */
static inline bool after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

struct tcp_run {
	const struct es_mig_dp		*dp;
	const struct es_mig_key		*key;
	struct es_mig_tcp_replay	*out;
	int				fd;
	__u64				cursor, next, replayed;
	__u64				now, probe_ns;
	__u64				segs_at_start;	/* restored segments seen before the replay */
	bool				booted;		/* its output since tells where it stands */
	bool				cut;		/* cut over once caught up, or just return */
	bool				end_known, ack_known, handed_known;
	__u32				user_ack;	/* the user's latest acknowledgement */
	__u32				handed_ack;	/* the latest one the socket was handed */
	__u32				seen_ack;	/* new_ack when last looked at */
	__u64				ack_moved_ns;	/* when new_ack last moved */
	struct es_mig_record		last;		/* the latest segment handed over */
	bool				last_data;	/* and it carried bytes (or SYN, FIN) the
						 * socket had not acknowledged yet */
	/*
	 * Opened after the checkpoint (tcp_fresh.c): replayed from its SYN,
	 * the restored socket in a sequence space of its own.
	 */
	bool				fresh;
	enum { ES_TCP_XL_OFF, ES_TCP_XL_LEARN, ES_TCP_XL_ON } xl;
	__u32				seq_delta, ts_delta;	/* with xl ON */
	__u32				ecr_lo;		/* the restored SYN-ACK's TSval */
	__u64				ecr_ns;		/* when it was seen */
	bool				ts;
	/* the user's ACK of the old SYN-ACK, found when the SYN was handed */
	bool				old_known, old_ts;
	__u32				old_tsval;
	__u64				old_ns;
	__u64				hole_since;	/* caught up with a block still holed, or 0 */
};

/*
 * Is the session one opened after the checkpoint (or one whose translation
 * began)? 1 yes, 0 no, -errno when the container's sockets could not be
 * listed.
 */
int es_tcp_fresh_detect(struct tcp_run *r);
/*
 * A fresh session's handshake: the translation in LEARN, then, once the
 * restored SYN-ACK was seen, on. ES_TCP_FRESH_SYN: hand its SYN (r->next)
 * now and wait; 1 on; 0 waiting; or -errno (-EPROTO: the two SYN-ACKs
 * differ in options).
 */
#define ES_TCP_FRESH_SYN	2
int es_tcp_fresh_step(struct tcp_run *r, __u64 head);
/* Inject rec, translated into the restored socket's space once the translation is on. */
int es_tcp_fresh_inject(struct tcp_run *r, const struct es_mig_record *rec);
/* Replay from where the session stands; the injection socket in r->fd, or -errno. */
int es_tcp_run_begin(struct tcp_run *r);
/* Has the socket spoken since the replay began (so probing ends)? */
void es_tcp_run_boot(struct tcp_run *r, const struct es_mig_session *s);
/* Hand over segment r->next: 1 handed, 0 a probe not due yet, or -errno. */
int es_tcp_run_hand_next(struct tcp_run *r, const struct es_mig_session *s);
/*
 * Everything up to head handed over: a socket that has not spoken since
 * the replay began is probed (an idle session has no segment to probe
 * with); one that has is handed the rest of the user's acknowledgement.
 */
int es_tcp_run_all_handed(struct tcp_run *r, const struct es_mig_session *s);
void es_tcp_run_rewind_if_stalled(struct tcp_run *r, const struct es_mig_session *s);
/*
 * Does rec carry bytes (or SYN, FIN) the socket has not acknowledged yet?
 * A segment that does not (a pure ACK, a retransmission) changes nothing
 * the service sees.
 */
bool es_tcp_run_brings_bytes(const struct es_mig_session *s, const struct es_mig_record *rec);
/*
 * Does rec carry data (payload, SYN, FIN)? Its first and one past its last
 * sequence number in *start and *end.
 */
bool es_tcp_run_data_range(const struct es_mig_record *rec, __u32 *start, __u32 *end);
/*
 * Has the socket sent bytes the acknowledgements it was handed do not
 * cover (so Nagle's algorithm may hold its next small segment back)?
 */
bool es_tcp_run_output_unacked(const struct tcp_run *r, const struct es_mig_session *s);
/* Nothing left up to head, the user's stream taken, the old one's caught up. */
bool es_tcp_run_caught_up(const struct tcp_run *r, const struct es_mig_session *s, __u64 head);
/*
 * Caught up, the cut-over waits this long for a block of the overlap a
 * segment lost on the WAN left incomplete: the old container, still
 * serving, sends it again after its RTO (200 ms at least), and only then
 * can the block be compared.
 */
#define ES_TCP_HOLE_WAIT_MS	1000

/*
 * Caught up, may it be cut over: every whole block of the overlap
 * compared, or ES_TCP_HOLE_WAIT_MS since it caught up with one that was
 * not (r->now is the time it is asked; the first ask with a hole starts
 * the wait).
 */
bool es_tcp_run_holes_filled(struct tcp_run *r, const struct es_mig_session *s);
/* Switched to CUTOVER at head: what the replay reports of it. */
void es_tcp_run_cut_done(struct tcp_run *r, __u64 head);
void es_tcp_run_sleep_ms(unsigned int ms);

#endif /* EDGESHIFT_REPLAY_TCP_RUN_H */
