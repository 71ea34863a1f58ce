/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay of a TCP session into its restored container, and the check
 * of it (docs/migration.md, "Established TCP connections"). The restored
 * socket has the sequence numbers of the checkpoint; the replay buffer
 * holds every segment of the user since forwarding began. TCP drops the
 * bytes the socket already has; what it must not see is a segment that
 * acknowledges bytes it has not sent yet (Linux drops such a segment), so
 * each one's acknowledgement is lowered to the restored container's output
 * so far (new_snd_nxt, seen by the data plane), and the rest is handed
 * over in a pure ACK once the socket has sent it.
 */
#ifndef EDGESHIFT_REPLAY_TCP_H
#define EDGESHIFT_REPLAY_TCP_H

#include <stdbool.h>
#include "migctl/ctl.h"

struct es_mig_tcp_replay {
	unsigned int	injected;	/* segments handed to the restored socket */
	unsigned int	again;		/* of them, handed again: the socket had dropped them */
	unsigned int	probes;		/* handed before the socket's output told where it
					 * stood */
	unsigned int	acks_lowered;	/* acknowledgements lowered to what the socket had
					 * sent, and pure ACKs that handed the rest over */
	__u64		cut_seq;	/* last segment sent to the source */
	__u32		user_end;	/* end of the user's stream at cut-over */
	unsigned int	hole_wait_ms;	/* the cut-over waited, caught up, for a block of the
					 * overlap still holed (at most 1 s), 0 if not */
};

/*
 * FORWARDING -> REPLAYING, the buffered segments after the cursor handed to
 * the restored socket as its output allows, until a moment when nothing is
 * left to hand over, the socket acknowledged the user's whole stream
 * (new_ack) and sent as far as the old container (new_snd_nxt >=
 * old_snd_nxt). Then, with cut, REPLAYING -> CUTOVER; without, the session
 * stays REPLAYING (the old container serves, the user's segments are
 * still mirrored) and a later call goes on from there: so every session
 * of a container can be compared before any is cut over. -ETIMEDOUT after
 * timeout_ms, -ESTALE when the session left REPLAYING (the data plane
 * aborted it: diverged).
 */
int es_mig_tcp_replay(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      unsigned int timeout_ms, bool cut, struct es_mig_tcp_replay *out);

/* At most this many TCP sessions of one service are replayed together. */
#define ES_MIG_TCP_GROUP_MAX	64

/*
 * The TCP sessions of one service (every connection of one container,
 * keys[0..n)), replayed as es_mig_tcp_replay does each, but together in
 * the order their segments reached this node, which is the order they
 * reached the old container through the tunnel: a segment is handed over
 * only once the restored container answered the one before (its output
 * moved on), or GATE_MS passed without an answer. So requests of several
 * connections that change one state reach the restored container in the
 * old one's order. With cut, each session is switched REPLAYING ->
 * CUTOVER once all have caught up, one after the other. out[i] is
 * keys[i]'s. 0, or as es_mig_tcp_replay.
 */
int es_mig_tcp_replay_group(const struct es_mig_dp *dp, const struct es_mig_key *keys,
			    unsigned int n, unsigned int timeout_ms, bool cut,
			    struct es_mig_tcp_replay *out);

struct es_mig_tcp_verdict {
	__u64	matched;	/* ES_MIG_TCP_BLOCK-byte blocks compared equal */
	__u64	diverged;	/* compared different */
	__u64	unhashed;	/* segments whose bytes could not all be read for hashing */
	__u64	old_late;	/* the old container's segments passed after the cut-over */
	__u32	old_snd_nxt, new_snd_nxt, new_ack;
	__u32	overlap;	/* bytes both containers sent (the spans both hashed) */
	__u32	whole;		/* of them, in the whole blocks inside the overlap */
	__u32	compared;	/* bytes in blocks compared */
	bool	caught_up;	/* the restored container sent as far as the old one */
	bool	passed;		/* caught up, nothing diverged, nothing left unhashed, and
				 * every whole block of the overlap compared: only the partial
				 * blocks at its two ends are not (a hole either stream still
				 * has leaves its block incomplete, and the check fails) */
};

/* The check of the two streams after cut-over; -ENOENT without the session. */
int es_mig_tcp_verify(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      struct es_mig_tcp_verdict *v);
/*
 * The same, taken again for up to settle_ms while it fails only because
 * the restored stream has not reached the old one's yet, or a block
 * still misses bytes of one stream. Right after the cut-over the old
 * container may have answered the last request both got, while the
 * restored socket still holds the same answer back (Nagle's algorithm,
 * until the user's ACK of the old container's copy reaches it, now
 * directly); or the old container's answer came over a lossy WAN with a
 * hole its retransmission fills. The wait starts again while the
 * restored stream still moves or blocks are still compared, up to five
 * times settle_ms.
 */
int es_mig_tcp_verify_settled(const struct es_mig_dp *dp, const struct es_mig_key *key,
			      unsigned int settle_ms, struct es_mig_tcp_verdict *v);

#endif /* EDGESHIFT_REPLAY_TCP_H */
