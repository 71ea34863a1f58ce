/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The migration commands on one session (through the es_mig_ctl syscall
 * program), the node settings and services, the replay buffer's records
 * and the source-side hold. The sequences that send buffered requests
 * again are in replay/replay.h.
 *
 * Functions return 0 or -errno unless said otherwise; a message for the
 * operator goes to err when it is given.
 */
#ifndef EDGESHIFT_MIGCTL_CTL_H
#define EDGESHIFT_MIGCTL_CTL_H

#include <stdbool.h>
#include "load.h"

/* ---- node settings and services ---- */

/* Node addresses (local_addr, node_addr, source_addr, peer_addr) are es_mig_key's: 16 bytes. */
int es_mig_config_set(const struct es_mig_dp *dp, const __u32 *local_addr,
		      __u16 tunnel_port_host, __u32 default_replay_limit);
int es_mig_config_get(const struct es_mig_dp *dp, struct es_mig_node_config *cfg);
/*
 * A read-modify-write of es_mig_config: fn(cfg, arg) changes the value
 * read, which is written back unless fn returns false. One lock in the
 * process for all of them: the events thread's sweep, the API's threads
 * and the migration engine each change one field, and two unlocked
 * updates would lose one of them. A handle on pins also takes the pin
 * directory's flock, which orders other processes (es-migctl). 0 or
 * -errno (the flock's, when it cannot be taken).
 */
int es_mig_config_update(const struct es_mig_dp *dp,
			 bool (*fn)(struct es_mig_node_config *cfg, void *arg), void *arg);
/*
 * es_mig_config.active: on, the ingress program looks sessions and services
 * up; off (only when both maps are empty), it does not. The functions
 * below that add or remove entries keep it right: on before an entry is
 * made and again after, so an off that looked at the maps just before the
 * entry came cannot leave it unseen.
 */
int es_mig_set_active(const struct es_mig_dp *dp, bool on);
/* A service that runs on node_addr (another node): handoff detection. */
int es_mig_service_set(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
		       const __u32 *node_addr, __u32 flags, __u32 replay_limit);
int es_mig_service_del(const struct es_mig_dp *dp, const struct es_mig_svc_key *key);

/* ---- one session, in the order of a migration ---- */

/* Run one es_mig_ctl command; cmd->seq_state says what the entry was. */
int es_mig_ctl(const struct es_mig_dp *dp, struct es_mig_cmd *cmd);
int es_mig_session_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       struct es_mig_session *s);

/*
 * Forward (and with mirror, buffer) the session's requests to source_addr.
 * Makes the entry, or takes over one the data plane made on handoff
 * detection; requests before this call need no replay (the cursor starts
 * at the last one). An ABORTED entry (a retry after a failed migration)
 * forwards again with its numbering kept (ES_MIG_CMD_RESTART).
 */
int es_mig_start(const struct es_mig_dp *dp, const struct es_mig_key *key,
		 const __u32 *source_addr, bool mirror, __u32 replay_limit);

/* FORWARDING -> HOLD; *hold_seq is the last request sent to the source. */
int es_mig_hold(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *hold_seq);

/*
 * Wait until the source has answered every request sent to it before the
 * hold (old_replies >= hold_seq): the old container is quiet and its
 * receive queue empty, so a checkpoint now holds exactly requests 1..hold_seq.
 */
int es_mig_wait_answered(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 hold_seq, unsigned int timeout_ms);

/*
 * After cut-over: wait until the old container answered all it was sent
 * (a reply it sent after it got cut_seq came back). -ETIMEDOUT when not
 * within timeout_ms: a request with no reply at the end of the overlap
 * cannot be told from a late one.
 */
int es_mig_wait_old_done(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 unsigned int timeout_ms);

/*
 * UDP, after a catch-up replay: wait until the restored container sent no
 * reply for quiet_ms (it is done with what it was given), or a pair of
 * copies differed; *s as it is then. -ETIMEDOUT after timeout_ms.
 */
int es_mig_wait_new_quiet(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int quiet_ms, unsigned int timeout_ms, struct es_mig_session *s);

/*
 * UDP, after the catch-up: wait (up to timeout_ms) until the old
 * container's copies of every reply the restored one sent have come, then,
 * unless a pair differed, set ES_MIG_F_COMPARED: the restored container's
 * copies pass when first from now on. Its copies dropped so far all had
 * the old one's delivered, so the user gets no reply out of order at the
 * switch. *s as it was before the flag.
 */
int es_mig_compared_set(const struct es_mig_dp *dp, const struct es_mig_key *key,
			unsigned int timeout_ms, struct es_mig_session *s);

/*
 * The exactly-once check after cut-over, at the target: every reply the
 * old container sent after its checkpoint (ordinals reply_base+1 ..
 * old_replies, the replies to cursor+1 .. cut_seq) must have been sent by
 * both containers, and one of the two copies dropped (the claim), so the
 * user saw exactly one. Waits up to timeout_ms for both to have sent them
 * all.
 */
struct es_mig_verdict {
	__u64	replayed;	/* requests replayed: cut_seq - cursor */
	__u64	replies;	/* replies of the overlap: old_replies - reply_base */
	__u64	reply_base;	/* the source's reply ordinal at the checkpoint */
	__u64	both;		/* ordinals claimed by both containers */
	__u64	one;		/* by one only: the other's copy never came */
	__u64	none;		/* by neither */
	__u64	missing;	/* no claim (deleted or never made) */
	__u64	suppressed;	/* second copies dropped */
	__u64	claims_failed;	/* copies that passed unclaimed (es_mig_rclaim full) */
	__u64	diverged;	/* pairs whose two copies differ (replies_diverged) */
	bool	timed_out;	/* not all answered within the wait */
	bool	passed;		/* both == suppressed == replies, none unclaimed or
				 * different, in time */
};

/* es_mig_verify's old_end before the old container has stopped. */
#define ES_MIG_OLD_END_UNKNOWN	(~0ULL)

/*
 * old_end: the source's reply count once the old container has stopped
 * (ES_MIG_OLD_END_UNKNOWN before). The old container's output has ended when a reply
 * it sent after it was delivered cut_seq came back, or, for a service that
 * answers the last requests with no datagram at all, when every reply up
 * to old_end has come.
 */
int es_mig_verify(const struct es_mig_dp *dp, const struct es_mig_key *key,
		  unsigned int timeout_ms, __u64 old_end, struct es_mig_verdict *v);

/*
 * The checkpoint was taken with the source-side hold (es_mig_src_hold):
 * cursor = the last request delivered before it, records up to it
 * deleted. The session stays FORWARDING; -ESTALE in any other state.
 */
int es_mig_cursor_set(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor);

/*
 * reply_base = base (the source's reply ordinal at the checkpoint; setting
 * the cursor sets it to the cursor, one reply per request), the claims up
 * to it deleted: the old container's replies before the checkpoint have
 * no second copy.
 */
int es_mig_reply_base_set(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 base);

/*
 * The steps the commands are made of, shared with lib/replay: run one
 * command on the session, change its state from `from` to `to` if its
 * head is still `expect` (ES_MIG_ANY_SEQ: any; *seq_state says what the
 * entry was), set one of its values.
 */
int es_mig_cmd_run(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 op,
		   struct es_mig_cmd *cmd);
int es_mig_set_state(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 from,
		     __u32 to, __u64 expect, __u64 *seq_state);
int es_mig_set_value(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 op,
		     __u64 value);

static inline __u64 es_mig_seq_of(__u64 seq_state)
{
	return seq_state & ES_MIG_SEQ_MASK;
}

static inline unsigned int es_mig_state_of(__u64 seq_state)
{
	return seq_state >> ES_MIG_STATE_SHIFT;
}

/* ---- the replay buffer ---- */

/*
 * Record seq of the session: 0, -ENOENT when there is none, -EAGAIN when
 * it is there but not filled yet (its len still 0), -ENODATA when its
 * copy failed (ES_MIG_NO_COPY), or -errno.
 */
int es_mig_record_get(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
		      struct es_mig_record *rec);
/*
 * A program numbers a request before it makes and fills its record, so
 * for a moment (longer when its CPU is preempted: a guest's vCPU) a
 * numbered request's record is absent or not filled. Record seq, waited
 * for while it is so, at most ES_MIG_RECORD_WAIT_MS: 0; -ENOENT when none
 * will come (seq past the session's last number, at or below its cursor,
 * past its cut-over, a session that does not mirror, or an aborted one's
 * but for its held requests); -ENODATA when it did not come (never made:
 * a full map or a failed copy; or deleted since); or -errno.
 * _until: waits until CLOCK_MONOTONIC until_ns, one bound for a range.
 */
#define ES_MIG_RECORD_WAIT_MS	200
int es_mig_record_wait(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
		       struct es_mig_record *rec);
int es_mig_record_wait_until(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
			     struct es_mig_record *rec, __u64 until_ns);
/*
 * Entry k of es_mig_held or es_mig_sent (map_fd), whose len is written
 * last in the same way: 0; -ENOENT when there is none; -ENODATA when it
 * stayed unfilled ES_MIG_RECORD_WAIT_MS; or -errno. A kept request whose
 * bytes could not be copied has len ES_MIG_NO_COPY.
 */
int es_mig_held_get(int map_fd, const struct es_mig_record_key *k, struct es_mig_held *h);
/* Delete the session's records with seq in [from, to]; returns how many. */
int es_mig_records_delete(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 from, __u64 to);
/* Delete the session's reply claims with ordinal in [from, to]; returns how many. */
int es_mig_claims_delete(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 from, __u64 to);
/* Records of the session in the map (scan), and the lowest and highest seq. */
int es_mig_records_count(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 *lowest, __u64 *highest);

/* ---- the source-side hold (the old container's node) ---- */

int es_mig_remote_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      struct es_mig_remote *r);

/*
 * The source's entry of a session made now, with peer_addr, as its first
 * tunnelled request would make it (0 when it is there already): the old
 * container's segments then go back through the tunnel to the target.
 * peer_addr may be a guess (a URL's address, or all zero): the first
 * request from a node other than prev_addr gives the base and is the
 * peer.
 */
int es_mig_src_open(const struct es_mig_dp *dp, const struct es_mig_key *key,
		    const __u32 *peer_addr);
/*
 * An entry an earlier attempt left (a failed migration keeps it) made
 * anew for peer_addr, the node it names kept as prev_addr with its
 * last_seq (its requests still on their way pass once each): its numbers
 * and counts are that tunnel's, a checkpoint would read them as the
 * cursor, and an idle session, which tunnels nothing to correct it, would
 * send the old container's segments there. Nothing when there is no
 * entry or it names peer_addr. The caller knows the entry names another
 * node (the agent: the address of another peer than the target).
 */
int es_mig_src_retarget(const struct es_mig_dp *dp, const struct es_mig_key *key,
			const __u32 *peer_addr);

/*
 * OPEN (or REORDER) -> HOLD on es_mig_remote (made with peer_addr when
 * absent): later tunnelled requests are kept in es_mig_held. *hold_at:
 * requests delivered before the hold. Asked again while holding, it
 * answers the same.
 */
int es_mig_src_hold(const struct es_mig_dp *dp, const struct es_mig_key *key,
		    const __u32 *peer_addr, __u64 *hold_at);

/*
 * Wait until the old container is done with what it was delivered before
 * the hold: as many replies as requests (one each), or none for
 * ES_MIG_SRC_QUIET_MS (a service that answers some requests with no
 * datagram). Not the proof that it read them all: the caller confirms its
 * receive queue is empty. Local: no round trip to the target.
 */
#define ES_MIG_SRC_QUIET_MS	20
int es_mig_src_wait_quiet(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 hold_at, unsigned int timeout_ms);

/*
 * The cursor to tell the target: the sequence number of the last request
 * delivered before the hold (every one before it was delivered, in
 * sequence), or ES_MIG_ANY_SEQ when none ever arrived (the target keeps its
 * own, set when forwarding started). -EPROTO when a request could not be
 * kept during the hold (the cursor would not say what the old container
 * processed).
 */
int es_mig_src_cursor(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *cursor);

/*
 * Requests missing before the kept ones (REORDER): [*from, *to], the ones
 * to have the target send again. -ENOENT when none is kept past last_seq.
 */
int es_mig_src_gap(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *from,
		   __u64 *to);
/* Give the missing requests up to `to` up (ES_MIG_CMD_SRC_SKIP). */
int es_mig_src_skip(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 to);

/*
 * Target side: move old_base over the ordinals that arrived right above
 * it (ES_MIG_CMD_REPLY_SKIP with none given up), at most ES_MIG_CATCH_UP
 * a call. The data plane moves it over at most 32 a reply, so after the
 * last reply of a burst it can stop short of a later gap that no reply
 * will move it to, and es_mig_reply_gap looks only right above it.
 */
#define ES_MIG_CATCH_UP	4096
int es_mig_reply_catch_up(const struct es_mig_dp *dp, const struct es_mig_key *key);

/*
 * Target side: source replies missing before ones that arrived (above
 * old_base, es_mig_rseen): [*from, *to]. -ENOENT when none is.
 */
int es_mig_reply_gap(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *from,
		     __u64 *to);
/* Give the source's replies up to ordinal `to` up (ES_MIG_CMD_REPLY_SKIP). */
int es_mig_reply_skip(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 to);

#endif /* EDGESHIFT_MIGCTL_CTL_H */
