/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TCP sessions of the migration data plane, target side (docs/migration.md,
 * "Established TCP connections"). The user's segments are forwarded,
 * mirrored and replayed as UDP requests are; what differs is the way back:
 *
 *  - the old container's segments pass to the user until cut-over and are
 *    dropped after it (the restored container has sent the same bytes);
 *  - the restored container's segments are dropped until cut-over (the
 *    user has them, or will have them, from the old one) and pass after;
 *  - both streams' ends are tracked (old_snd_nxt, new_snd_nxt, new_ack)
 *    for the agent's replay and cut-over, and both streams are hashed in
 *    64-byte blocks of sequence space, whatever segments carried them and
 *    in whatever order they arrived: the
 *    second container to complete a block compares it with the first's,
 *    and a difference aborts the migration before cut-over (the service is
 *    not deterministic).
 *
 * TCP itself drops the bytes a user receives twice, by sequence number.
 */
#ifndef EDGESHIFT_BPF_MIG_TCP_H
#define EDGESHIFT_BPF_MIG_TCP_H

#include "mig.h"

/* a GSO packet's payload is up to 64 KiB, in sequence; blocks are cut at their boundaries */
#define ES_MIG_HASH_CHUNKS	(65536 / ES_MIG_TCP_BLOCK + 2)

/* One TCP segment: where its payload is and which sequence numbers it covers. */
struct es_mig_seg {
	__u32	seq;	/* first sequence number, host order */
	__u32	end;	/* seq + payload, SYN and FIN counted */
	__u32	ack;	/* acknowledgement number (has_ack) */
	__u32	off;	/* payload offset from the start of the frame */
	__u32	len;	/* payload bytes */
	__u32	has_ack;
	__u32	flags;	/* the TCP flag byte (ES_TCP_*) */
};

/* Zeroes to create a block from. */
struct es_mig_tcpblk es_mig_tcpblk_zero;

/* Parse the TCP segment whose IP header (4 or 6) is at l3 bytes into the frame; 0 or -1. */
static __always_inline int es_mig_seg_parse(void *ctx, bool skb, __u32 l3, struct es_mig_seg *g)
{
	struct es_mig_l3 l;
	struct tcphdr th;
	__u32 ihl, doff, tot;
	long err;

	if (es_mig_l3_load(ctx, skb, l3, &l) || l.proto != IPPROTO_TCP)
		return -1;
	ihl = l.hlen & 0x3f;
	err = skb ? bpf_skb_load_bytes(ctx, l3 + ihl, &th, sizeof(th)) :
		    bpf_xdp_load_bytes(ctx, l3 + ihl, &th, sizeof(th));
	if (err)
		return -1;
	doff = th.doff * 4;
	tot = l.tot;
	if (ihl < 20 || doff < 20 || tot < ihl + doff)
		return -1;
	g->seq = bpf_ntohl(th.seq);
	g->len = tot - ihl - doff;
	g->end = g->seq + g->len + th.syn + th.fin;
	g->has_ack = th.ack;
	g->ack = bpf_ntohl(th.ack_seq);
	g->flags = ((const __u8 *)&th)[ES_TCP_FLAGS_OFF];
	g->off = l3 + ihl + doff;
	return 0;
}

/* *p = v when v is past it in serial order (or *p is not valid yet). */
static __always_inline void es_mig_seq_advance(__u32 *p, __u32 v, __u32 *seen, __u32 bit)
{
	__u32 cur;
	int i;

	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		cur = *(volatile __u32 *)p;
		if ((*(volatile __u32 *)seen & bit) && (__s32)(v - cur) <= 0)
			break;
		if (__sync_val_compare_and_swap(p, cur, v) == cur)
			break;
	}
	__sync_fetch_and_or(seen, bit);
}

/*
 * *p = v when v is before it in serial order: where hashing a stream began
 * moves back when a segment below it arrives late (sent again).
 */
static __always_inline void es_mig_seq_retreat(__u32 *p, __u32 v)
{
	__u32 cur;
	int i;

	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		cur = *(volatile __u32 *)p;
		if ((__s32)(v - cur) >= 0)
			break;
		if (__sync_val_compare_and_swap(p, cur, v) == cur)
			break;
	}
}

/*
 * The span [start, hashed) of a stream a segment's payload [seq, end) is
 * hashed in: its lowest and highest sequence numbers, holes included (the
 * check counts a block with a hole as not compared).
 */
static __always_inline void es_mig_span(__u32 *start, __u32 *hashed, __u32 *seen, __u32 bit,
					__u32 seq, __u32 end)
{
	if (!(__sync_fetch_and_or(seen, 0) & bit)) {
		/* the first bytes this node sees of the stream start it */
		*start = seq;
		*hashed = end;
		__sync_fetch_and_or(seen, bit);
		return;
	}
	es_mig_seq_retreat(start, seq);
	es_mig_seq_advance(hashed, end, seen, bit);
}

/* mix(sequence number, byte): a position-dependent value, summed per block. */
static __always_inline __u64 es_mig_mix(__u32 pos, __u8 b)
{
	__u64 x = ((__u64)pos << 8 | b) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29);
}

/*
 * Add one side's bytes [pos, pos + n) of a block (within it; buf holds
 * them) and compare when both sides have it whole. Each byte position is
 * added once, whatever order and segments its bytes came in: the side's
 * mask claims the positions first, and only the newly claimed ones are
 * summed, so a retransmission (or one that overlaps a part already in)
 * adds nothing twice.
 */
static __always_inline void es_mig_block_add(struct es_mig_session *s, const struct es_mig_key *k,
					     __u32 pos, const __u8 *buf, __u32 n, bool old)
{
	__u32 o = pos & (ES_MIG_TCP_BLOCK - 1), j, added = 0, mine, theirs;
	struct es_mig_tcpblk_key bk = {};
	struct es_mig_tcpblk *b;
	__u64 want, fresh, bit, sum = 0;

	bk.session = *k;
	bk.block = pos >> ES_MIG_TCP_BLOCK_SHIFT;
	bpf_map_update_elem(&es_mig_tcpblk, &bk, &es_mig_tcpblk_zero, BPF_NOEXIST);
	b = bpf_map_lookup_elem(&es_mig_tcpblk, &bk);
	if (!b)
		return;
	want = n >= ES_MIG_TCP_BLOCK ? ~0ULL : ((1ULL << n) - 1) << o;
	fresh = want & ~__sync_fetch_and_or(old ? &b->mask_old : &b->mask_new, want);
	if (!fresh)
		return;
	/*
	 * Without a branch: the verifier walked the loop with one on the
	 * fresh bit once per pattern and n, a million instructions for the
	 * WAN program on a 6.18 kernel. fresh has no bit past the n bytes of
	 * buf (o + n <= ES_MIG_TCP_BLOCK), so the rest of buf counts for nothing.
	 */
	for (j = 0; j < ES_MIG_TCP_BLOCK; j++) {
		bit = fresh >> ((o + j) & (ES_MIG_TCP_BLOCK - 1)) & 1;
		sum += -bit & es_mig_mix(pos + j, buf[j]);
		added += bit;
	}
	/* the sum is added before the count: whoever sees both counts whole reads both sums */
	__sync_fetch_and_add(old ? &b->sum_old : &b->sum_new, sum);
	mine = __sync_fetch_and_add(old ? &b->count_old : &b->count_new, added) + added;
	theirs = old ? *(volatile __u32 *)&b->count_new : *(volatile __u32 *)&b->count_old;
	if (mine != ES_MIG_TCP_BLOCK || theirs != ES_MIG_TCP_BLOCK ||
	    __sync_fetch_and_add(&b->compared, 1))
		return;
	if (*(volatile __u64 *)&b->sum_old == *(volatile __u64 *)&b->sum_new) {
		__sync_fetch_and_add(&s->tcp_matched, 1);
		return;
	}
	__sync_fetch_and_add(&s->tcp_diverged, 1);
	es_mig_emit(k, ES_MIG_EV_DIVERGED, 0, s->source_addr,
		    (__u64)bk.block << ES_MIG_TCP_BLOCK_SHIFT);
	es_mig_abort(s, k, ES_MIG_ABORT_DIVERGED);
}

/* What one bpf_loop step of es_mig_seg_hash needs. */
struct es_mig_hash_ctx {
	void				*pkt;	/* the xdp_md or __sk_buff */
	struct es_mig_session		*s;
	const struct es_mig_key		*k;
	__u32				off;	/* payload offset of sequence number seq */
	__u32				seq;
	__u32				pos;	/* next sequence number to hash */
	__u32				stop;	/* end of the payload */
	bool				old;
};

/* Hash the bytes from pos up to the next block boundary into that block. */
static __always_inline long es_mig_hash_step(struct es_mig_hash_ctx *c, bool skb)
{
	__u8 buf[ES_MIG_TCP_BLOCK] = {};	/* whole: es_mig_block_add reads past n, for nothing */
	__u32 n, pos = c->pos;
	long err;

	if ((__s32)(c->stop - pos) <= 0)
		return 1;
	n = ES_MIG_TCP_BLOCK - (pos & (ES_MIG_TCP_BLOCK - 1));
	if (n > c->stop - pos)
		n = c->stop - pos;
	if (n < 1 || n > ES_MIG_TCP_BLOCK)
		return 1;
	err = skb ? bpf_skb_load_bytes(c->pkt, c->off + (pos - c->seq), buf, n) :
		    bpf_xdp_load_bytes(c->pkt, c->off + (pos - c->seq), buf, n);
	if (err) {
		/* the rest of the segment stays out of the sums: the check cannot pass */
		__sync_fetch_and_add(&c->s->tcp_unhashed, 1);
		return 1;
	}
	es_mig_block_add(c->s, c->k, pos, buf, n, c->old);
	c->pos = pos + n;
	return 0;
}

static long es_mig_hash_step_skb(__u64 i, void *arg)
{
	(void)i;
	return es_mig_hash_step(arg, true);
}

static long es_mig_hash_step_xdp(__u64 i, void *arg)
{
	(void)i;
	return es_mig_hash_step(arg, false);
}

/*
 * Hash the bytes [from, g->seq + g->len) of a segment into their blocks:
 * loads never cross a block boundary, so each adds into one block. A
 * bpf_loop, so that the verifier walks one step, not every block.
 */
static __always_inline void es_mig_seg_hash(void *ctx, bool skb, struct es_mig_session *s,
					    const struct es_mig_key *k, const struct es_mig_seg *g,
					    __u32 from, bool old)
{
	struct es_mig_hash_ctx c = {
		.pkt = ctx, .s = s, .k = k, .off = g->off, .seq = g->seq, .pos = from,
		.stop = g->seq + g->len, .old = old,
	};

	bpf_loop(ES_MIG_HASH_CHUNKS, skb ? es_mig_hash_step_skb : es_mig_hash_step_xdp, &c, 0);
}

/*
 * One container's segment: hash its payload into the blocks it covers, in
 * whatever order segments arrive (a segment past a hole is hashed at once;
 * the one that fills the hole later adds what is missing). No-op without
 * payload.
 */
static __always_inline void es_mig_seg_check(void *ctx, bool skb, struct es_mig_session *s,
					     const struct es_mig_key *k, const struct es_mig_seg *g,
					     bool old)
{
	if (!g->len)
		return;
	es_mig_span(old ? &s->old_from : &s->new_from, old ? &s->old_hashed : &s->new_hashed,
		    &s->tcp_seen, old ? ES_MIG_TCP_OLD_DATA : ES_MIG_TCP_NEW_DATA, g->seq,
		    g->seq + g->len);
	es_mig_seg_hash(ctx, skb, s, k, g, g->seq, old);
}

/* A late segment of the old container that may pass after the cut-over (es_mig_tcp_old). */
static __always_inline bool es_mig_tcp_late(struct es_mig_session *s, const struct es_mig_seg *g)
{
	__u32 want = ES_MIG_TCP_NEW_DATA | ES_MIG_TCP_CUT_OLD;

	if (!g->len || (g->flags & (ES_TCP_FIN | ES_TCP_SYN | ES_TCP_RST)) ||
	    (*(volatile __u32 *)&s->tcp_seen & want) != want || s->tcp_diverged)
		return false;
	return (__s32)(g->end - *(volatile __u32 *)&s->new_hashed) <= 0 &&
	       (__s32)(g->end - s->old_cut_nxt) > 0;
}

/*
 * Target side: a segment of the old container came back through the
 * tunnel (its IP header l3 bytes into the frame). True to drop it.
 */
static __always_inline bool es_mig_tcp_old(struct xdp_md *ctx, struct es_mig_session *s,
					   const struct es_mig_key *k, __u32 l3)
{
	struct es_mig_seg g;

	if (es_mig_seg_parse(ctx, false, l3, &g))
		return false;
	es_mig_seq_advance(&s->old_snd_nxt, g.end, &s->tcp_seen, ES_MIG_TCP_OLD_SEEN);
	es_mig_seg_check(ctx, false, s, k, &g, true);
	if (es_mig_state_of(es_mig_seq_state(s)) != ES_MIG_CUTOVER)
		return false;
	/*
	 * The restored container serves. A late segment of the old one
	 * (answering a request of the last round trip before the cut-over)
	 * whose bytes the restored one has sent too still passes: the
	 * restored one's copy was taken before the cut-over and would reach
	 * the user only at its retransmission timeout. The bytes are the
	 * same (the blocks are compared; none may have diverged); the user's
	 * TCP keeps one copy of each. Dropped: a bare ACK, a FIN, a RST (the
	 * old connection's end), bytes past the restored one's data (its FIN
	 * counts in new_snd_nxt, not in new_hashed), and a retransmission of
	 * bytes the old one had sent before the cut-over.
	 */
	if (es_mig_tcp_late(s, &g)) {
		__sync_fetch_and_add(&s->tcp_old_late, 1);
		return false;
	}
	__sync_fetch_and_add(&s->suppressed_old, 1);
	return true;
}

/*
 * Target side: a segment of the restored container towards the user. It
 * passes once cut over (or when no migration is under way), and is
 * dropped before: the user's side of the connection is the old
 * container's until then. True to drop it.
 */
static __always_inline bool es_mig_tcp_new(struct __sk_buff *skb, struct es_mig_session *s,
					   const struct es_mig_key *k)
{
	__u32 st = es_mig_state_of(es_mig_seq_state(s));
	struct es_mig_seg g;

	if (st == ES_MIG_NONE || es_mig_seg_parse(skb, true, ES_ETH_HLEN, &g))
		return false;
	/*
	 * Given up: the user's side is the old container's, and a copy left
	 * here (its container removed, an orphan closing) says nothing a
	 * retry may count.
	 */
	if (st == ES_MIG_ABORTED) {
		__sync_fetch_and_add(&s->suppressed_new, 1);
		return true;
	}
	es_mig_seq_advance(&s->new_snd_nxt, g.end, &s->tcp_seen, ES_MIG_TCP_NEW_SEEN);
	if (g.has_ack)
		es_mig_seq_advance(&s->new_ack, g.ack, &s->tcp_seen, ES_MIG_TCP_NEW_ACK);
	es_mig_seg_check(skb, true, s, k, &g, false);
	if (st == ES_MIG_CUTOVER)
		return false;
	__sync_fetch_and_add(&s->suppressed_new, 1);
	return true;
}

/*
 * The cut-over of session s at request cut: where the old container's
 * stream stood then, for its late segments (es_mig_tcp_old).
 */
static __always_inline void es_mig_cut_mark(struct es_mig_session *s, __u64 cut)
{
	s->cut_seq = cut;
	if (!(s->tcp_seen & ES_MIG_TCP_OLD_SEEN))
		return;
	s->old_cut_nxt = *(volatile __u32 *)&s->old_snd_nxt;
	__sync_fetch_and_or(&s->tcp_seen, ES_MIG_TCP_CUT_OLD);
}

/*
 * One block of a retry's session (es_mig_tcp_restart): the failed
 * attempt's container's side of it goes, the old container's stays. Plain
 * stores to the restored side's fields: nothing adds to them while the
 * session is ABORTED, and the old side's fields are only ever added to
 * atomically, so none of its bytes is lost.
 */
static long es_mig_tcpblk_clear_new(void *map, const struct es_mig_tcpblk_key *bk,
				    struct es_mig_tcpblk *b, const struct es_mig_key *k)
{
	(void)map;
	if (!es_mig_addr_eq(bk->session.user_addr, k->user_addr) ||
	    !es_mig_addr_eq(bk->session.svc_addr, k->svc_addr) ||
	    bk->session.user_port != k->user_port || bk->session.svc_port != k->svc_port ||
	    bk->session.proto != k->proto || !b->mask_new)
		return 0;
	b->mask_new = 0;
	b->count_new = 0;
	b->sum_new = 0;
	b->compared = 0;
	return 0;
}

/*
 * A retry: the restored container of the failed attempt is gone, and the
 * next one's stream starts afresh. The old container's stream goes on as
 * it was, its sums in the blocks included; the failed attempt's sums are
 * cleared from them.
 */
static __always_inline void es_mig_tcp_restart(struct es_mig_session *s, const struct es_mig_key *k)
{
	struct es_mig_key key = *k;

	if (k->proto == IPPROTO_TCP)
		bpf_for_each_map_elem(&es_mig_tcpblk, es_mig_tcpblk_clear_new, &key, 0);
	__sync_fetch_and_and(&s->tcp_seen, ~(ES_MIG_TCP_NEW_SEEN | ES_MIG_TCP_NEW_ACK |
					     ES_MIG_TCP_NEW_DATA));
	s->new_snd_nxt = 0;
	s->new_ack = 0;
	s->new_hashed = 0;
	s->new_from = 0;
	s->tcp_matched = 0;
	s->tcp_diverged = 0;
	s->tcp_unhashed = 0;
}

#endif /* EDGESHIFT_BPF_MIG_TCP_H */
