/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay protocol of a migration (docs/migration.md): the sequences
 * that send buffered requests again, in order, and then change the
 * session's state with no newer request slipping past. Built on the
 * commands of migctl/ctl.h.
 *
 * Functions return 0 or -errno unless said otherwise; a message for the
 * operator goes to err when it is given.
 */
#ifndef EDGESHIFT_REPLAY_H
#define EDGESHIFT_REPLAY_H

#include "migctl/ctl.h"

/*
 * After the checkpoint: cursor = hold_seq (records up to it deleted),
 * then the requests buffered during HOLD go to the source in order, and
 * the session returns to FORWARDING without a request in between.
 * *sent counts the requests sent.
 */
int es_mig_resume(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor,
		  unsigned int *sent);

/*
 * The replay's first step: FORWARDING -> REPLAYING (*seq_state as it was),
 * the session as it is then in *s; a raw socket to inject with, or -errno.
 */
int es_mig_replay_begin(const struct es_mig_dp *dp, const struct es_mig_key *key,
			struct es_mig_session *s, __u64 *seq_state);

/*
 * UDP, before the cut-over: FORWARDING -> REPLAYING (or on from where an
 * earlier catch-up left it), and every request buffered now injected into
 * the restored container in order; no state change after. Its replies are
 * compared with the old container's and dropped until the cut-over.
 */
int es_mig_replay_catchup(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int *replayed);

/*
 * The restored container is running: FORWARDING -> REPLAYING (or on in
 * REPLAYING after a catch-up), every buffered request after the last
 * replayed is injected into it in order, then REPLAYING -> CUTOVER at a
 * moment when nothing is left to replay, so no new request reaches it
 * before the buffered ones. *replayed counts them.
 */
int es_mig_replay_cutover(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int *replayed);

/*
 * Abort and finish live here, not with the commands: requests held when a
 * HOLD was aborted are sent on to the source through the tunnel first.
 */

/* Give up (not after cut-over): forwarding to the source goes on. */
int es_mig_abort(const struct es_mig_dp *dp, const struct es_mig_key *key);

/* Delete the session's records and its entry (after cut-over and stop, or abort). */
int es_mig_finish(const struct es_mig_dp *dp, const struct es_mig_key *key,
		  unsigned int *records_deleted);

/*
 * After the checkpoint: deliver the held requests to the old container in
 * sequence (es_mig_src_drain). -ESTALE when not holding.
 */
int es_mig_src_release(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       unsigned int *sent, unsigned int *lost);

/*
 * Deliver the kept requests that come next in sequence to the old container
 * (raw socket into this node's stack), deleting each, then HOLD or REORDER
 * -> OPEN only when no request arrived meanwhile (else deliver the
 * newcomers and try again) and none is kept past a missing one:
 * -EINPROGRESS then, the state is REORDER (es_mig_src_gap says what is
 * missing). *sent counts them; *lost (unless NULL) those of them that
 * had no bytes (too long to keep, or not readable): counted delivered,
 * never sent, and gone from the map, so the caller must report them.
 */
int es_mig_src_drain(const struct es_mig_dp *dp, const struct es_mig_key *key,
		     unsigned int *sent, unsigned int *lost);

/*
 * Target side: send the records from..to that exist to the source again
 * (a request the source reports missing); *first_missing is the first
 * that does not exist (0 when all did). One being made is waited for
 * (es_mig_record_wait_until, one bound for the range): a request the
 * source misses may be one whose record is not made yet, and one of the
 * held requests sent after an abort has no other copy.
 */
int es_mig_send_records(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 from,
			__u64 to, unsigned int *sent, __u64 *first_missing);

/*
 * Source side: send the copies of replies from..to (es_mig_sent) to the
 * target again, as the tunnel carried them first; *missing_to is where,
 * from `from` on, no copy is left (0 when `from` was sent).
 */
int es_mig_send_replies(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 from,
			__u64 to, unsigned int *sent, __u64 *missing_to);

#endif /* EDGESHIFT_REPLAY_H */
