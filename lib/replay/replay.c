// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay protocol: buffered requests go again, in order, to the
 * source (resume), into the restored container (replay, paced on its
 * answers) or into the old container (source-side release), each ending
 * in a state change that no newer request may slip past.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "migctl/names.h"
#include "util/clock.h"
#include "net/udp_rqueue.h"
#include "inject.h"
#include "replay.h"
#include "tunnel.h"

#define MIG_RESUME_TRIES	1000
/*
 * Replayed requests in flight to the restored container: a UDP socket's
 * receive buffer holds a few hundred small datagrams, and a burst of every
 * buffered request (hundreds at 100 requests/s) overflows it, losing
 * requests that never take effect.
 */
#define MIG_REPLAY_WINDOW	32
/* No answer from the restored container for this long: give up (abort). */
#define MIG_REPLAY_STALL_MS	3000
/* Replies behind for this long: look at what the service has read instead. */
#define MIG_REPLAY_QUEUE_US	1000

/*
 * A state change no request may slip past: step() handles every sequence
 * number up to the head seen, then finish() changes the state only if the
 * head is still that one; otherwise (-EAGAIN, *head updated) the newcomers
 * are handled first and it tries again.
 */
struct drain {
	const struct es_mig_dp	*dp;
	const struct es_mig_key	*key;
	int			fd;		/* tunnel or injection socket */
	__u32			dst[4];		/* send_to_source: the source node */
	__u32			base;		/* send_to_source: the session's fwd_base */
	__u32			from, to;	/* switch_state: the state change */
	__u64			cursor;		/* replay_step: last in the checkpoint */
	unsigned int		done;		/* sequence numbers handled by step() */
	int (*step)(struct drain *d, __u64 seq);
	int (*finish)(struct drain *d, __u64 *head);
};

static int drain_then_switch(struct drain *d, __u64 next, __u64 head)
{
	int tries, ret;

	for (tries = 0; tries < MIG_RESUME_TRIES; tries++) {
		for (; next <= head; next++) {
			ret = d->step(d, next);
			if (ret)
				return ret;
		}
		ret = d->finish(d, &head);
		if (ret != -EAGAIN)
			return ret;
	}
	return -EAGAIN;
}

static int switch_state(struct drain *d, __u64 *head)
{
	__u64 ss = 0;
	int ret = es_mig_set_state(d->dp, d->key, d->from, d->to, *head, &ss);

	*head = es_mig_seq_of(ss);
	return ret;
}

static int send_to_source(struct drain *d, __u64 seq)
{
	struct es_mig_record rec;
	int ret = es_mig_record_wait(d->dp, d->key, seq, &rec);

	if (!ret)
		ret = es_mig_tunnel_send(d->dp, d->fd, d->dst, seq, d->base, &rec);
	if (!ret)
		d->done++;
	return ret;
}

int es_mig_resume(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor,
		  unsigned int *sent)
{
	struct es_mig_session s;
	struct drain d = { .dp = dp, .key = key, .step = send_to_source,
			   .finish = switch_state, .from = ES_MIG_HOLD, .to = ES_MIG_FORWARDING };
	int ret;

	if (sent)
		*sent = 0;
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	if (es_mig_state_of(s.seq_state) != ES_MIG_HOLD)
		return -ESTALE;
	ret = es_mig_set_value(dp, key, ES_MIG_CMD_SET_CURSOR, cursor);
	if (ret)
		return ret;
	es_mig_records_delete(dp, key, 1, cursor);
	d.fd = es_mig_tunnel_open(dp);
	if (d.fd < 0)
		return d.fd;
	es_mig_addr_cpy(d.dst, s.source_addr);
	d.base = s.fwd_base;
	ret = drain_then_switch(&d, s.hold_seq + 1, es_mig_seq_of(s.seq_state));
	close(d.fd);
	if (sent)
		*sent = d.done;
	return ret;
}


/*
 * Has the restored service read every datagram handed to it (its
 * socket's receive queue empty, sock_diag in its namespace)? A request
 * may be answered by no datagram at all, so replies alone cannot pace a
 * replay: a service that answers none stalled it after the first window.
 */
static bool replay_queue_empty(const struct es_mig_dp *dp, const struct es_mig_key *key)
{
	unsigned int socks = 0;
	uint64_t bytes = 0;

	/* a socket bound to the any address is counted for the service's too */
	return !es_udp_rqueue(dp->ct_netns, es_mig_in6(key->svc_addr), key->svc_port, &bytes,
			      &socks) && socks && !bytes;
}

/*
 * Waits until the restored container has answered all but `window` of the
 * requests replayed up to `sent` (its replies are counted by the reply
 * hook from the cursor on), or, replies behind for MIG_REPLAY_QUEUE_US,
 * until it has read every one (replay_queue_empty). -ETIMEDOUT when it
 * does neither.
 */
static int replay_wait_window(const struct es_mig_dp *dp, const struct es_mig_key *key,
			      __u64 cursor, __u64 sent, __u64 window)
{
	const struct timespec step = { .tv_nsec = 200 * 1000 };
	struct es_mig_session s;
	__u64 answered, last = 0;
	long waited_us = 0;
	int ret;

	for (;;) {
		ret = es_mig_session_get(dp, key, &s);
		if (ret)
			return ret;
		answered = s.new_replies;	/* the n-th answers cursor + n */
		if (sent - cursor <= answered + window)
			return 0;
		if (answered != last) {
			last = answered;
			waited_us = 0;
		}
		if (waited_us && !(waited_us % MIG_REPLAY_QUEUE_US) && replay_queue_empty(dp, key))
			return 0;
		if (waited_us >= MIG_REPLAY_STALL_MS * 1000L)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
		waited_us += 200;
	}
}

static int replay_step(struct drain *d, __u64 seq)
{
	struct es_mig_record rec;
	int ret;

	ret = replay_wait_window(d->dp, d->key, d->cursor, seq - 1, MIG_REPLAY_WINDOW);
	if (!ret)
		ret = es_mig_record_wait(d->dp, d->key, seq, &rec);
	if (!ret)
		ret = es_mig_inject(d->fd, &rec);
	if (!ret)
		ret = es_mig_set_value(d->dp, d->key, ES_MIG_CMD_SET_REPLAYED, seq);
	if (!ret)
		d->done++;
	return ret;
}

int es_mig_replay_begin(const struct es_mig_dp *dp, const struct es_mig_key *key,
			struct es_mig_session *s, __u64 *seq_state)
{
	int ret;

	ret = es_mig_set_state(dp, key, ES_MIG_FORWARDING, ES_MIG_REPLAYING, ES_MIG_ANY_SEQ,
			       seq_state);
	if (ret)
		return ret;
	ret = es_mig_session_get(dp, key, s);
	if (ret)
		return ret;
	return es_mig_inject_key_open(dp->ct_netns, key);
}

/* FORWARDING -> REPLAYING, or go on in REPLAYING (a catch-up came first). */
static int replay_open(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       struct es_mig_session *s, __u64 *seq_state)
{
	int ret = es_mig_session_get(dp, key, s);

	if (ret)
		return ret;
	if (es_mig_state_of(s->seq_state) != ES_MIG_REPLAYING)
		return es_mig_replay_begin(dp, key, s, seq_state);
	*seq_state = s->seq_state;
	return es_mig_inject_key_open(dp->ct_netns, key);
}

/* The catch-up changes no state: what came meanwhile waits for the cut-over. */
static int stay(struct drain *d, __u64 *head)
{
	(void)d;
	(void)head;
	return 0;
}

/* Replay what is buffered now, from where the replay is; finish as told. */
static int replay_run(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      int (*finish)(struct drain *d, __u64 *head), unsigned int *replayed)
{
	struct es_mig_session s;
	struct drain d = { .dp = dp, .key = key, .step = replay_step, .finish = finish,
			   .from = ES_MIG_REPLAYING, .to = ES_MIG_CUTOVER };
	__u64 ss = 0;
	int ret;

	if (replayed)
		*replayed = 0;
	d.fd = replay_open(dp, key, &s, &ss);
	if (d.fd < 0)
		return d.fd;
	d.cursor = s.cursor;
	ret = drain_then_switch(&d, (s.replayed > s.cursor ? s.replayed : s.cursor) + 1,
				es_mig_seq_of(ss));
	close(d.fd);
	if (replayed)
		*replayed = d.done;
	return ret;
}

int es_mig_replay_catchup(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int *replayed)
{
	return replay_run(dp, key, stay, replayed);
}

int es_mig_replay_cutover(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int *replayed)
{
	return replay_run(dp, key, switch_state, replayed);
}

int es_mig_send_records(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 from,
			__u64 to, unsigned int *sent, __u64 *first_missing)
{
	/* one bound for the range: a record that never comes costs it once */
	__u64 until = es_now_ns() + ES_MIG_RECORD_WAIT_MS * 1000000ULL, seq;
	struct es_mig_record rec;
	struct es_mig_session s;
	int fd, ret;

	if (first_missing)
		*first_missing = 0;
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	fd = es_mig_tunnel_open(dp);
	if (fd < 0)
		return fd;
	for (seq = from; seq <= to && !ret; seq++) {
		if (es_mig_record_wait_until(dp, key, seq, &rec, until)) {
			if (first_missing && !*first_missing)
				*first_missing = seq;
			continue;
		}
		ret = es_mig_tunnel_send(dp, fd, s.source_addr, seq, s.fwd_base, &rec);
		if (!ret && sent)
			(*sent)++;
	}
	close(fd);
	return ret;
}

/*
 * An abort during HOLD leaves the held requests in the buffer only: send
 * them to the source before anything deletes them (late, and possibly
 * after newer ones, but not lost).
 */
static int send_held_after_abort(const struct es_mig_dp *dp, const struct es_mig_key *key)
{
	struct es_mig_cmd cmd = {};
	struct es_mig_session s;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret || !(s.flags & ES_MIG_F_ABORT_HELD))
		return ret;
	ret = es_mig_send_records(dp, key, s.hold_seq + 1, s.abort_seq, NULL, NULL);
	if (ret)
		return ret;
	cmd.flags = s.flags & ~ES_MIG_F_ABORT_HELD;
	return es_mig_cmd_run(dp, key, ES_MIG_CMD_CONFIGURE, &cmd);
}

int es_mig_abort(const struct es_mig_dp *dp, const struct es_mig_key *key)
{
	struct es_mig_cmd cmd = {};
	int ret;

	ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_ABORT, &cmd);
	if (!ret)
		ret = send_held_after_abort(dp, key);
	return ret;
}

int es_mig_finish(const struct es_mig_dp *dp, const struct es_mig_key *key,
		  unsigned int *records_deleted)
{
	struct es_mig_cmd cmd = {};
	int n, ret;

	ret = send_held_after_abort(dp, key);
	if (ret && ret != -ENOENT)
		return ret;
	n = es_mig_records_delete(dp, key, 0, ES_MIG_SEQ_MASK);
	es_mig_claims_delete(dp, key, 0, ES_MIG_SEQ_MASK);
	if (records_deleted)
		*records_deleted = n < 0 ? 0 : n;
	ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_DELETE, &cmd);
	if (!ret)
		ret = es_mig_set_active(dp, false);
	return ret;
}

/* Most kept requests below last_seq one drain delivers; the next drain takes more. */
#define LATE_MAX	64

/*
 * Send kept request hk (h) to the old container, say so with op
 * (ES_MIG_CMD_SRC_DELIVERED or _LATE) and delete it. One whose bytes the
 * program could not copy (ES_MIG_NO_COPY) counts in *lost: delivered
 * as far as the sequence goes, nothing sent.
 */
static int deliver_one(const struct es_mig_dp *dp, const struct es_mig_key *key, int fd,
		       const struct es_mig_record_key *hk, const struct es_mig_held *h, __u32 op,
		       unsigned int *sent, unsigned int *lost)
{
	struct es_mig_cmd cmd = { .value = hk->seq };
	int ret = 0;

	if (h->len != ES_MIG_NO_COPY)
		ret = es_mig_inject_packet(fd, h->data, h->len);
	else
		(*lost)++;
	if (!ret)
		ret = es_mig_cmd_run(dp, key, op, &cmd);
	if (ret)
		return ret;
	bpf_map_delete_elem(dp->held_fd, hk);
	(*sent)++;
	return 0;
}

/*
 * Deliver the kept requests below last_seq: a request the hold could not
 * keep was delivered at once and moved last_seq over them (its order
 * slips, ES_MIG_RF_HOLD_BROKEN). Late, but not lost: each is sent once,
 * counted (ES_MIG_CMD_SRC_LATE) and deleted.
 */
static int src_deliver_late(const struct es_mig_dp *dp, const struct es_mig_key *key, int fd,
			    __u64 last_seq, unsigned int *sent, unsigned int *lost)
{
	struct es_mig_record_key k, next, late[LATE_MAX];
	unsigned int n = 0, i;
	struct es_mig_held h;
	int ret;

	for (ret = bpf_map_get_next_key(dp->held_fd, NULL, &next); !ret && n < LATE_MAX;
	     ret = bpf_map_get_next_key(dp->held_fd, &k, &next)) {
		k = next;
		if (!memcmp(&k.session, key, sizeof(*key)) && k.seq <= last_seq)
			late[n++] = k;
	}
	for (i = 0; i < n; i++) {
		ret = es_mig_held_get(dp->held_fd, &late[i], &h);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		ret = deliver_one(dp, key, fd, &late[i], &h, ES_MIG_CMD_SRC_LATE, sent, lost);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Deliver the kept requests that come next in sequence (raw socket into
 * this node's stack, so each reaches the old container as a delivered one
 * does), deleting each, after the late ones of a broken hold.
 */
static int src_deliver_next(const struct es_mig_dp *dp, const struct es_mig_key *key, int fd,
			    unsigned int *sent, unsigned int *lost)
{
	struct es_mig_record_key hk = { .session = *key };
	struct es_mig_remote r;
	struct es_mig_held h;
	int ret;

	ret = es_mig_remote_get(dp, key, &r);
	if (!ret && (r.flags & ES_MIG_RF_HOLD_BROKEN))
		ret = src_deliver_late(dp, key, fd, r.last_seq, sent, lost);
	if (ret)
		return ret;
	for (hk.seq = r.last_seq + 1; !(ret = es_mig_held_get(dp->held_fd, &hk, &h)); hk.seq++) {
		ret = deliver_one(dp, key, fd, &hk, &h, ES_MIG_CMD_SRC_DELIVERED, sent, lost);
		if (ret)
			return ret;
	}
	return ret == -ENOENT ? 0 : ret;
}

int es_mig_src_drain(const struct es_mig_dp *dp, const struct es_mig_key *key,
		     unsigned int *sent, unsigned int *lost_out)
{
	unsigned int n = 0, lost = 0;
	struct es_mig_remote r;
	int fd, tries, ret = -EAGAIN;

	fd = es_mig_inject_key_open(dp->ct_netns, key);
	if (fd < 0)
		return fd;
	for (tries = 0; tries < MIG_RESUME_TRIES && ret == -EAGAIN; tries++) {
		struct es_mig_cmd cmd = {};

		/* the arrivals first: one that comes while delivering fails the release */
		ret = es_mig_remote_get(dp, key, &r);
		if (!ret)
			ret = src_deliver_next(dp, key, fd, &n, &lost);
		if (ret)
			break;
		cmd.expect_seq = es_mig_seq_of(r.hold);
		ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_SRC_RELEASE, &cmd);
	}
	close(fd);
	if (sent)
		*sent = n;
	/* gone from the map once counted: only this call can say they were lost */
	if (lost_out)
		*lost_out = lost;
	return ret;
}

int es_mig_src_release(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       unsigned int *sent, unsigned int *lost)
{
	struct es_mig_remote r;
	int ret;

	if (sent)
		*sent = 0;
	if (lost)
		*lost = 0;
	ret = es_mig_remote_get(dp, key, &r);
	if (ret)
		return ret;
	if (r.hold >> ES_MIG_STATE_SHIFT != ES_MIG_SRC_HOLD)
		return -ESTALE;
	return es_mig_src_drain(dp, key, sent, lost);
}

int es_mig_send_replies(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 from,
			__u64 to, unsigned int *sent, __u64 *missing_to)
{
	struct es_mig_record_key sk = { .session = *key };
	struct es_mig_remote r;
	struct es_mig_held h;
	bool run = true;
	int fd, ret;

	*sent = 0;
	*missing_to = 0;
	ret = es_mig_remote_get(dp, key, &r);
	if (ret)
		return ret;
	fd = es_mig_tunnel_open(dp);
	if (fd < 0)
		return fd;
	for (sk.seq = from; sk.seq <= to && !ret; sk.seq++) {
		if (es_mig_held_get(dp->sent_fd, &sk, &h)) {
			/* the missing ones from `from` on: the target gives them up */
			if (run)
				*missing_to = sk.seq;
			continue;
		}
		run = false;
		/*
		 * base: what the old container has got in sequence now, as a
		 * reply sent now would carry; the target's wait for the old
		 * container's last answer reads it (src_acked), and the copy
		 * of that answer may be the one the WAN lost.
		 */
		ret = es_mig_tunnel_send_pkt(dp, fd, r.peer_addr, ES_MIG_TUN_REPLY, sk.seq,
					     r.last_seq, h.data, h.len);
		if (!ret)
			(*sent)++;
	}
	close(fd);
	return ret;
}
