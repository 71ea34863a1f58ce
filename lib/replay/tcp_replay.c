// SPDX-License-Identifier: GPL-2.0-only
/* The paced replay of a TCP session and the check of its two streams (tcp_replay.h). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include "util/clock.h"
#include "inject.h"
#include "replay.h"
#include "tcp_replay.h"
#include "tcp_run.h"

#define PROBE_MS	20	/* wait for the socket's answer to a probe */
#define STALL_MS	200	/* bytes not taken: hand over what the socket dropped again */
#define IDLE_PROBE_MS	600	/* an idle session's probe again (Linux answers one per 500 ms) */

struct seg {
	__u32	start, end, ack;
	__u32	ihl, doff;	/* header lengths */
	bool	has_ack, data;
};

/* The TCP segment a record holds; -EINVAL when it is not one. */
static int seg_of(const struct es_mig_record *rec, struct seg *g)
{
	const __u8 *p = rec->data;
	__u32 ihl, doff, tot, seq, flags;
	size_t hlen, l4len;
	__u8 proto;

	if (es_ip_l4(p, rec->len, &hlen, &l4len, &proto) || proto != IPPROTO_TCP ||
	    l4len < 20)
		return -EINVAL;
	ihl = hlen;
	tot = hlen + l4len;
	doff = (p[ihl + 12] >> 4) * 4;
	if (doff < 20 || tot < ihl + doff)
		return -EINVAL;
	flags = p[ihl + 13];
	g->ihl = ihl;
	g->doff = doff;
	seq = es_be32(p + ihl + 4);
	g->ack = es_be32(p + ihl + 8);
	g->has_ack = flags & 0x10;
	g->data = tot > ihl + doff || (flags & 0x03);	/* payload, FIN or SYN */
	g->start = seq;
	g->end = seq + (tot - ihl - doff) + !!(flags & 0x02) + !!(flags & 0x01);
	return 0;
}


static bool brings_bytes(const struct es_mig_session *s, const struct seg *g)
{
	return g->data && (!(s->tcp_seen & ES_MIG_TCP_NEW_ACK) || after(g->end, s->new_ack));
}

bool es_tcp_run_data_range(const struct es_mig_record *rec, __u32 *start, __u32 *end)
{
	struct seg g;

	if (seg_of(rec, &g) || !g.data)
		return false;
	*start = g.start;
	*end = g.end;
	return true;
}

bool es_tcp_run_brings_bytes(const struct es_mig_session *s, const struct es_mig_record *rec)
{
	struct seg g;

	return seg_of(rec, &g) || brings_bytes(s, &g);	/* not a segment: as data, in order */
}

static void note_seg(struct tcp_run *r, const struct seg *g)
{
	if (!r->end_known || after(g->end, r->out->user_end))
		r->out->user_end = g->end;
	r->end_known = true;
	if (g->has_ack && (!r->ack_known || after(g->ack, r->user_ack))) {
		r->user_ack = g->ack;
		r->ack_known = true;
	}
}

static int hand_over(struct tcp_run *r, __u64 seq, const struct es_mig_record *rec)
{
	int ret = es_tcp_fresh_inject(r, rec);

	if (ret)
		return ret;
	r->out->injected++;
	r->last = *rec;
	if (seq > r->replayed) {
		r->replayed = seq;
		return es_mig_set_value(r->dp, r->key, ES_MIG_CMD_SET_REPLAYED, seq);
	}
	r->out->again++;
	return 0;
}

/*
 * The acknowledgement the socket is handed for one of the user's: never
 * past what it has sent (Linux drops a segment acknowledging bytes not
 * sent yet, and a reply its socket holds back under Nagle's algorithm,
 * waiting for the ACK of the one before, would never be sent if that ACK
 * waited for it), and never below one handed before (a restored socket
 * has acknowledged no bytes of its own, so Linux takes any older ACK for
 * a blind injection and drops the segment, data and all).
 */
static __u32 ack_for(struct tcp_run *r, const struct es_mig_session *s, __u32 ack)
{
	if (after(ack, s->new_snd_nxt))
		ack = s->new_snd_nxt;
	if (r->handed_known && after(r->handed_ack, ack))
		ack = r->handed_ack;
	r->handed_ack = ack;
	r->handed_known = true;
	return ack;
}

/*
 * Hand over the segments up to head. Until the socket has sent a segment
 * since the replay began (what it sent at restore, a window probe, does
 * not tell its send point), one segment at a time goes as it came, a
 * probe: whatever its ACK, the socket answers it with its send point (a
 * duplicate or a challenge ACK).
 */
/*
 * Hand over segment r->next. 1 when handed, 0 when a probe is not due yet,
 * or -errno.
 */
int es_tcp_run_hand_next(struct tcp_run *r, const struct es_mig_session *s)
{
	struct es_mig_record rec;
	struct seg g;
	__u32 ack;
	int ret, fresh;

	fresh = r->fresh && r->xl != ES_TCP_XL_ON ?
		es_tcp_fresh_step(r, es_mig_seq_of(s->seq_state)) : 1;
	if (fresh <= 0)
		return fresh;
	ret = es_mig_record_wait(r->dp, r->key, r->next, &rec);
	if (ret)
		return ret == -ENOENT ? -ENODATA : ret;
	if (fresh == ES_TCP_FRESH_SYN) {
		/* the SYN, as the user sent it; nothing more until the SYN-ACK */
		ret = hand_over(r, r->next, &rec);
		r->next += !ret;
		return ret;
	}
	if (seg_of(&rec, &g))
		return -EPROTO;
	if (!r->booted) {
		if (r->now - r->probe_ns < PROBE_MS * 1000000ULL)
			return 0;
		r->probe_ns = r->now;
		r->out->probes++;
	} else if (g.has_ack) {
		ack = ack_for(r, s, g.ack);
		if (ack != g.ack) {
			es_put_be32(rec.data + g.ihl + 8, ack);
			r->out->acks_lowered++;
		}
	}
	note_seg(r, &g);
	/* bytes the socket has already (a retransmission): nothing to answer */
	r->last_data = brings_bytes(s, &g);
	ret = hand_over(r, r->next, &rec);
	if (ret)
		return ret;
	r->next++;
	return 1;
}

void es_tcp_run_boot(struct tcp_run *r, const struct es_mig_session *s)
{
	if (!r->booted && s->suppressed_new > r->segs_at_start && r->out->probes)
		r->booted = true;
}

/*
 * Hand over the segments up to head. Until the socket has sent a segment
 * since the replay began (what it sent at restore, a window probe, does
 * not tell its send point), one segment at a time goes as it came, a
 * probe: whatever its ACK, the socket answers it with its send point (a
 * duplicate or a challenge ACK).
 */
static int hand_over_all(struct tcp_run *r, const struct es_mig_session *s, __u64 head)
{
	int ret;

	es_tcp_run_boot(r, s);
	while (r->next <= head) {
		ret = es_tcp_run_hand_next(r, s);
		if (ret <= 0)
			return ret;
	}
	return 0;
}

bool es_tcp_run_output_unacked(const struct tcp_run *r, const struct es_mig_session *s)
{
	return r->handed_known && (s->tcp_seen & ES_MIG_TCP_NEW_SEEN) &&
	       after(s->new_snd_nxt, r->handed_ack);
}

/*
 * A bare ACK from the user to the service, seq and ack as given, no
 * options: the IP header of the key's family, then 20 bytes of TCP.
 */
static void bare_ack(const struct es_mig_key *k, __u32 seq, __u32 ack,
		     struct es_mig_record *rec)
{
	bool v4 = es_mig_addr_is4(k->svc_addr);
	__u32 ihl = v4 ? 20 : 40;
	__u8 *p = rec->data, *th = rec->data + ihl;

	memset(rec, 0, sizeof(*rec));
	if (v4) {
		p[0] = 0x45;
		p[6] = 0x40;		/* DF */
		p[8] = 64;		/* TTL */
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, &k->user_addr[3], 4);
		memcpy(p + 16, &k->svc_addr[3], 4);
	} else {
		p[0] = 0x60;
		p[6] = IPPROTO_TCP;
		p[7] = 64;		/* hop limit */
		memcpy(p + 8, k->user_addr, 16);
		memcpy(p + 24, k->svc_addr, 16);
	}
	memcpy(th, &k->user_port, 2);
	memcpy(th + 2, &k->svc_port, 2);
	es_put_be32(th + 4, seq);
	es_put_be32(th + 8, ack);
	th[12] = 5 << 4;		/* 20 bytes of header */
	th[13] = 0x10;			/* ACK */
	th[14] = th[15] = 0xff;		/* window: not read, the segment is out of window */
	rec->len = ihl + 20;
	es_ip_set_len(p, rec->len);
}

/*
 * A session with nothing to hand over (the user sent nothing since the
 * checkpoint: an idle connection) has no segment to probe with, and what
 * the restored socket sent at restore, a window probe, says one less than
 * its send point (its seq is snd_una - 1). Its output would then never
 * reach the old container's, and the replay would time out. A bare ACK
 * one below the socket's receive point (its new_ack) is out of window:
 * Linux answers it with a duplicate ACK from its send point, once per
 * tcp_invalid_ratelimit (500 ms), hence sent again every IDLE_PROBE_MS.
 */
static int probe_idle(struct tcp_run *r, const struct es_mig_session *s)
{
	struct es_mig_record rec;
	int ret;

	if (r->booted || r->fresh || !(s->tcp_seen & ES_MIG_TCP_NEW_ACK) ||
	    r->now - r->probe_ns < IDLE_PROBE_MS * 1000000ULL)
		return 0;
	bare_ack(r->key, s->new_ack - 1, s->new_snd_nxt, &rec);
	ret = es_mig_inject(r->fd, &rec);
	if (ret)
		return ret;
	r->probe_ns = r->now;
	r->out->probes++;
	return 0;
}

/*
 * The user acknowledged more than the socket was handed: once the socket
 * has sent it, a pure ACK (the latest segment without its payload, at the
 * socket's receive point) hands the rest over.
 */
static int ack_up(struct tcp_run *r, const struct es_mig_session *s)
{
	struct es_mig_record rec = r->last;
	struct seg g;
	__u32 ack;

	if (!r->booted || !r->ack_known || !r->handed_known || !after(r->user_ack, r->handed_ack) ||
	    !(s->tcp_seen & ES_MIG_TCP_NEW_ACK) || !after(s->new_snd_nxt, r->handed_ack))
		return 0;
	if (seg_of(&rec, &g))
		return -EPROTO;
	ack = ack_for(r, s, r->user_ack);
	rec.len = g.ihl + g.doff;
	es_ip_set_len(rec.data, rec.len);
	es_put_be32(rec.data + g.ihl + 4, s->new_ack);
	es_put_be32(rec.data + g.ihl + 8, ack);
	rec.data[g.ihl + 13] = 0x10;	/* ACK only */
	r->out->acks_lowered++;
	return es_tcp_fresh_inject(r, &rec);
}

int es_tcp_run_all_handed(struct tcp_run *r, const struct es_mig_session *s)
{
	return r->booted ? ack_up(r, s) : probe_idle(r, s);
}

/*
 * The socket has not taken the user's bytes for a while (it dropped a
 * segment): start again at the first segment holding a byte it lacks.
 */
void es_tcp_run_rewind_if_stalled(struct tcp_run *r, const struct es_mig_session *s)
{
	struct es_mig_record rec;
	struct seg g;
	__u64 seq;

	if (s->new_ack != r->seen_ack || !(s->tcp_seen & ES_MIG_TCP_NEW_ACK)) {
		r->seen_ack = s->new_ack;
		r->ack_moved_ns = r->now;
		return;
	}
	if (!r->end_known || !after(r->out->user_end, s->new_ack) ||
	    r->now - r->ack_moved_ns < STALL_MS * 1000000ULL)
		return;
	for (seq = r->cursor + 1; seq < r->next; seq++) {
		if (es_mig_record_get(r->dp, r->key, seq, &rec) || seg_of(&rec, &g))
			continue;
		if (g.data && after(g.end, s->new_ack)) {
			r->next = seq;
			break;
		}
	}
	r->ack_moved_ns = r->now;
}

/*
 * Everything handed over and taken (the socket acknowledged the user's
 * whole stream, and was handed the user's whole acknowledgement), and the
 * restored stream as far as the old one.
 */
/* The restored container sent as far as the old one (which may not have sent yet). */
static bool stream_caught_up(const struct es_mig_session *s)
{
	return (s->tcp_seen & ES_MIG_TCP_NEW_SEEN) &&
	       (!(s->tcp_seen & ES_MIG_TCP_OLD_SEEN) || !after(s->old_snd_nxt, s->new_snd_nxt));
}

bool es_tcp_run_caught_up(const struct tcp_run *r, const struct es_mig_session *s, __u64 head)
{
	if (r->next <= head || !(s->tcp_seen & ES_MIG_TCP_NEW_ACK))
		return false;
	if (r->end_known && after(r->out->user_end, s->new_ack))
		return false;
	if (r->ack_known && after(r->user_ack, r->handed_ack))
		return false;
	return stream_caught_up(s);
}

void es_tcp_run_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void overlap(const struct es_mig_session *s, struct es_mig_tcp_verdict *v);

/*
 * Before the cut: every whole block of the overlap compared (what the
 * check after it asks), or ES_TCP_HOLE_WAIT_MS since the restored stream caught
 * up with one that was not. One CI run cut over before such a block was
 * filled: 128 of 280 bytes compared, the migration failed after cut-over,
 * the user unharmed.
 */
bool es_tcp_run_holes_filled(struct tcp_run *r, const struct es_mig_session *s)
{
	struct es_mig_tcp_verdict v = { 0 };

	overlap(s, &v);
	if (v.compared >= v.whole)
		return true;
	if (!r->hole_since)
		r->hole_since = r->now;
	return r->now - r->hole_since >= ES_TCP_HOLE_WAIT_MS * 1000000ULL;
}

void es_tcp_run_cut_done(struct tcp_run *r, __u64 head)
{
	r->out->cut_seq = head;
	if (r->hole_since)
		r->out->hole_wait_ms = (r->now - r->hole_since) / 1000000;
}

static int replay_loop(struct tcp_run *r, unsigned int timeout_ms)
{
	__u64 deadline = es_now_ns() + timeout_ms * 1000000ULL, ss, head;
	struct es_mig_session s;
	int ret;

	for (;;) {
		r->now = es_now_ns();
		if (r->now > deadline)
			return -ETIMEDOUT;
		ret = es_mig_session_get(r->dp, r->key, &s);
		if (ret)
			return ret;
		if (s.seq_state >> ES_MIG_STATE_SHIFT != ES_MIG_REPLAYING)
			return -ESTALE;
		head = es_mig_seq_of(s.seq_state);
		ret = hand_over_all(r, &s, head);
		if (!ret && r->next > head)
			ret = es_tcp_run_all_handed(r, &s);
		if (ret)
			return ret;
		if (es_tcp_run_caught_up(r, &s, head) &&
		    (!r->cut || es_tcp_run_holes_filled(r, &s))) {
			if (!r->cut)
				return 0;
			ret = es_mig_set_state(r->dp, r->key, ES_MIG_REPLAYING, ES_MIG_CUTOVER, head,
					       &ss);
			if (!ret) {
				es_tcp_run_cut_done(r, head);
				return 0;
			}
			if (ret != -EAGAIN)
				return ret;
			continue;	/* a segment came meanwhile: hand it over first */
		}
		if (r->booted)
			es_tcp_run_rewind_if_stalled(r, &s);
		es_tcp_run_sleep_ms(1);
	}
}

/*
 * FORWARDING -> REPLAYING; or, for a session a catch-up (cut false) left
 * REPLAYING, on from where that stopped: the socket spoke since, so its
 * output tells where it stands from the first segment on. The injection
 * socket, or -errno.
 */
int es_tcp_run_begin(struct tcp_run *r)
{
	struct es_mig_session s;
	__u64 ss;
	int fd, ret;

	fd = es_mig_session_get(r->dp, r->key, &s);
	if (fd)
		return fd;
	if (s.seq_state >> ES_MIG_STATE_SHIFT != ES_MIG_REPLAYING) {
		fd = es_mig_replay_begin(r->dp, r->key, &s, &ss);
	} else {
		r->booted = s.replayed > s.cursor && (s.tcp_seen & ES_MIG_TCP_NEW_ACK);
		fd = es_mig_inject_key_open(r->dp->ct_netns, r->key);
	}
	if (fd < 0)
		return fd;
	r->fd = fd;
	r->cursor = s.cursor;
	r->replayed = s.replayed > s.cursor ? s.replayed : s.cursor;
	r->next = r->replayed + 1;
	r->segs_at_start = s.suppressed_new;
	r->ack_moved_ns = es_now_ns();
	/* a fresh socket's send point is its SYN-ACK's: no probing */
	ret = es_tcp_fresh_detect(r);
	if (ret < 0) {
		close(fd);
		r->fd = -1;
		return ret;
	}
	r->fresh = ret;
	r->booted |= r->fresh;
	return fd;
}

int es_mig_tcp_replay(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      unsigned int timeout_ms, bool cut, struct es_mig_tcp_replay *out)
{
	struct tcp_run r = { .dp = dp, .key = key, .out = out, .cut = cut };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = es_tcp_run_begin(&r);
	if (ret < 0)
		return ret;
	ret = replay_loop(&r, timeout_ms);
	close(r.fd);
	return ret;
}

/* The bytes both streams were hashed over, and how many of them were compared. */
static void overlap(const struct es_mig_session *s, struct es_mig_tcp_verdict *v)
{
	__u32 from, to;

	v->compared = s->tcp_matched * ES_MIG_TCP_BLOCK;
	if (!(s->tcp_seen & ES_MIG_TCP_OLD_DATA) || !(s->tcp_seen & ES_MIG_TCP_NEW_DATA))
		return;
	from = after(s->new_from, s->old_from) ? s->new_from : s->old_from;
	to = after(s->new_hashed, s->old_hashed) ? s->old_hashed : s->new_hashed;
	if (!after(to, from))
		return;
	v->overlap = to - from;
	/* the first block boundary at or after from, then whole blocks up to to */
	from += (ES_MIG_TCP_BLOCK - (from & (ES_MIG_TCP_BLOCK - 1))) & (ES_MIG_TCP_BLOCK - 1);
	if (after(to, from))
		v->whole = (to - from) & ~(ES_MIG_TCP_BLOCK - 1);
}

int es_mig_tcp_verify(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      struct es_mig_tcp_verdict *v)
{
	struct es_mig_session s;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	v->matched = s.tcp_matched;
	v->diverged = s.tcp_diverged;
	v->unhashed = s.tcp_unhashed;
	v->old_late = s.tcp_old_late;
	v->old_snd_nxt = s.old_snd_nxt;
	v->new_snd_nxt = s.new_snd_nxt;
	v->new_ack = s.new_ack;
	v->caught_up = stream_caught_up(&s);
	overlap(&s, v);
	/*
	 * Both streams overlap wherever the restored container answered a
	 * replayed request; a block is compared when both sent all of it, and
	 * a block both sent whole lies inside the overlap, so every whole
	 * block of it must have been compared.
	 */
	v->passed = v->caught_up && !v->diverged && !v->unhashed && v->compared >= v->whole;
	return 0;
}

/*
 * The settle wait starts again each time the restored stream moves or a
 * block is compared, up to this many times settle_ms in all: seen under
 * heavy load (two test lanes and a CI run on 2 CPUs), a restored stream
 * one Redis reply short after the 1 s wait failed a migration after its
 * cut-over.
 */
#define SETTLE_MOVING_MAX	5

/*
 * A check that fails only for want of time: the restored stream short of
 * the old one, or a block still missing bytes of one stream. Over a lossy
 * WAN the old container's answer to the last request before the cut-over
 * comes after it with a hole, filled by its retransmission a timeout
 * later (one CI run: 128 of 255 bytes compared, nothing different, the
 * check taken at once because the restored stream had caught up). A
 * difference or a segment that could not be hashed stays a failure.
 */
static bool settling(const struct es_mig_tcp_verdict *v)
{
	return !v->passed && !v->diverged && !v->unhashed;
}

int es_mig_tcp_verify_settled(const struct es_mig_dp *dp, const struct es_mig_key *key,
			      unsigned int settle_ms, struct es_mig_tcp_verdict *v)
{
	__u64 now = es_now_ns(), wait = settle_ms * 1000000ULL;
	__u64 deadline = now + wait, cap = now + SETTLE_MOVING_MAX * wait;
	__u32 last = 0, last_compared = 0;
	bool seen = false;
	int ret;

	for (;;) {
		ret = es_mig_tcp_verify(dp, key, v);
		if (ret || !settling(v))
			return ret;
		now = es_now_ns();
		/* still sending: a loaded machine, not a stream that stopped short */
		if (seen && (v->new_snd_nxt != last || v->compared != last_compared))
			deadline = now + wait < cap ? now + wait : cap;
		last = v->new_snd_nxt;
		last_compared = v->compared;
		seen = true;
		if (now >= deadline)
			return ret;
		es_tcp_run_sleep_ms(5);
	}
}
