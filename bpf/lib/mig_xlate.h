/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sequence translation of a TCP connection the restored container accepted
 * from a replayed SYN (struct es_mig_xlate; docs/migration.md,
 * "Connections opened during the window"). Its socket chose its own
 * initial sequence number and timestamp offset; the user knows the old
 * container's. Every segment between the user and the local container is
 * rewritten by the deltas: towards the container the acknowledgement, the
 * SACK edges and the timestamp echo gain them, from the container the
 * sequence number and the timestamp value lose them.
 *
 * The TCP header (options included, at most 60 bytes) is copied out,
 * rewritten in the copy, written back whole, and the checksum corrected by
 * the difference of the two copies: the fields the options put at any byte
 * offset need no alignment rules of their own.
 *
 * Times are the coarse monotonic clock (bpf_ktime_get_ns costs about
 * 35 ns a call here; a segment read it twice): up to one tick early,
 * which makes the echo's upper bound lower, never higher, and the
 * entry's quiet time a tick longer.
 */
#ifndef EDGESHIFT_BPF_MIG_XLATE_H
#define EDGESHIFT_BPF_MIG_XLATE_H

#include "mig.h"

#define ES_TCP_HDR_MAX		60
#define ES_TCP_CSUM_OFF		16
#define ES_TCPOPT_EOL		0
#define ES_TCPOPT_NOP		1
#define ES_TCPOPT_SACK		5
#define ES_TCPOPT_TS		8
#define ES_TCPOLEN_TS		10
#define ES_TCP_SACK_MAX		4	/* blocks in 40 bytes of options */

static __always_inline __u32 es_xlate_get(const __u8 *h, __u32 off)
{
	off &= 63;
	if (off + 4 > ES_TCP_HDR_MAX)
		return 0;
	return (__u32)h[off] << 24 | (__u32)h[off + 1] << 16 | (__u32)h[off + 2] << 8 | h[off + 3];
}

/* The 32-bit big-endian field at h[off] plus d (mod 2^32); off + 4 <= ES_TCP_HDR_MAX. */
static __always_inline void es_xlate_add(__u8 *h, __u32 off, __u32 d)
{
	__u32 v;

	off &= 63;
	if (off + 4 > ES_TCP_HDR_MAX)
		return;
	v = es_xlate_get(h, off) + d;
	h[off] = v >> 24;
	h[off + 1] = v >> 16;
	h[off + 2] = v >> 8;
	h[off + 3] = v;
}

/*
 * A walk over the options of one header: h, its length, the direction and
 * the deltas. bpf_loop runs one step per option; the verifier looks at a
 * step once, where an unrolled walk of 40 bytes would be too many paths.
 */
struct es_xlate_walk {
	__u8	h[ES_TCP_HDR_MAX];
	__u32	hlen;
	__u32	i;		/* the next option's offset */
	__u32	seq_delta, ts_delta, flags;
	__u32	tsval;		/* the timestamp value as it came (ts_seen) */
	__u32	ecr_lo, ecr_hi;	/* with ecr_clamp: the restored socket's first TSval and
				 * its clock now, bounds of any echo it takes */
	bool	ecr_clamp;
	bool	in;
	bool	bad;		/* malformed: nothing of the options is kept translated */
	bool	ts_seen;
};

/*
 * The echo at w->h[off] in the restored socket's clock. An echo of what the
 * old container sent before the restored socket existed (the user's
 * segments right after cut-over) maps to before its first TSval, and Linux
 * drops a segment whose echo it never sent (TSEcrRejected): it is taken up
 * to that first TSval, and never past the socket's clock now.
 */
static __always_inline void es_xlate_ecr(struct es_xlate_walk *w, __u32 off)
{
	__u32 v = es_xlate_get(w->h, off) + w->ts_delta;

	if (w->ecr_clamp && (__s32)(v - w->ecr_lo) < 0)
		v = w->ecr_lo;
	if (w->ecr_clamp && (__s32)(v - w->ecr_hi) > 0)
		v = w->ecr_hi;
	es_xlate_add(w->h, off, v - es_xlate_get(w->h, off));
}

/* One option at w->h[i] of length len (kind already read), translated in place. */
static __always_inline void es_xlate_opt(struct es_xlate_walk *w, __u32 i, __u32 kind,
					 __u32 len)
{
	__u32 j;

	if (kind == ES_TCPOPT_TS && len == ES_TCPOLEN_TS) {
		w->tsval = es_xlate_get(w->h, i + 2);
		w->ts_seen = true;
		if (!(w->flags & ES_MIG_XLATE_TS))
			return;
		if (!w->in)
			es_xlate_add(w->h, i + 2, -w->ts_delta);	/* TSval */
		else if (w->h[ES_TCP_FLAGS_OFF] & ES_TCP_ACK)
			es_xlate_ecr(w, i + 6);				/* TSecr */
		return;
	}
	/* SACK blocks name the container's bytes only in segments towards it */
	if (kind != ES_TCPOPT_SACK || !w->in)
		return;
	for (j = 0; j < ES_TCP_SACK_MAX; j++) {
		if (2 + 8 * j + 8 > len)
			break;
		es_xlate_add(w->h, i + 2 + 8 * j, w->seq_delta);
		es_xlate_add(w->h, i + 6 + 8 * j, w->seq_delta);
	}
}

/* bpf_loop step: the option at w->i; 1 ends the walk. */
static long es_xlate_step(__u32 n, void *ctx)
{
	struct es_xlate_walk *w = ctx;
	__u32 i = w->i, kind, len;

	(void)n;
	if (i >= w->hlen || i + 1 >= ES_TCP_HDR_MAX)
		return 1;
	kind = w->h[i & 63];
	if (kind == ES_TCPOPT_EOL)
		return 1;
	if (kind == ES_TCPOPT_NOP) {
		w->i = i + 1;
		return 0;
	}
	len = w->h[(i + 1) & 63];
	if (i + 1 >= w->hlen || len < 2 || i + len > w->hlen) {
		w->bad = true;
		return 1;
	}
	es_xlate_opt(w, i, kind, len);
	w->i = i + len;
	return 0;
}

/*
 * NOP NOP TS and nothing else, as Linux sends every segment past the
 * handshake that carries no SACK: the option's place is known, so it is
 * translated where it is, without the walk, and the checksum difference
 * taken over the 32 bytes of the header only.
 */
static __always_inline bool es_xlate_ts_only(const struct es_xlate_walk *w)
{
	return w->hlen == 32 && w->h[20] == ES_TCPOPT_NOP && w->h[21] == ES_TCPOPT_NOP &&
	       w->h[22] == ES_TCPOPT_TS && w->h[23] == ES_TCPOLEN_TS;
}

/* The checksum field csum corrected by diff (bpf_csum_diff of the old and new header). */
static __always_inline __u16 es_xlate_csum(__u16 csum, __u32 diff)
{
	__u32 a = ~(__u32)csum, s = diff + a;

	s += s < a;		/* end-around carry */
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Count a translated segment: which way, when, and whether it closes the connection. */
static __always_inline void es_xlate_count(struct es_mig_xlate *x, const __u8 *h, bool in,
					   bool bad)
{
	__u8 fl = h[ES_TCP_FLAGS_OFF];

	__sync_fetch_and_add(in ? &x->in_segs : &x->out_segs, 1);
	if (bad)
		__sync_fetch_and_add(&x->bad_opts, 1);
	if (fl & ES_TCP_RST)
		__sync_fetch_and_or(&x->closed, ES_MIG_XLATE_RST);
	else if (fl & ES_TCP_FIN)
		__sync_fetch_and_or(&x->closed, in ? ES_MIG_XLATE_FIN_IN : ES_MIG_XLATE_FIN_OUT);
	x->last_ns = bpf_ktime_get_coarse_ns();
}

/* Write h (hlen bytes at l4) back and correct the checksum by diff; 0 or -1. */
static __always_inline int es_xlate_store(void *ctx, bool skb, __u32 l4, __u8 *h, __u32 hlen,
					  __u32 diff)
{
	__u16 csum;

	if (skb) {
		if (bpf_skb_store_bytes(ctx, l4, h, hlen, 0))
			return -1;
		/* size 0: diff is a sum; the kernel handles CHECKSUM_PARTIAL itself */
		return bpf_l4_csum_replace(ctx, l4 + ES_TCP_CSUM_OFF, 0, diff, 0) ? -1 : 0;
	}
	/* XDP frames come off a wire with their checksum whole */
	__builtin_memcpy(&csum, h + ES_TCP_CSUM_OFF, sizeof(csum));
	csum = es_xlate_csum(csum, diff);
	__builtin_memcpy(h + ES_TCP_CSUM_OFF, &csum, sizeof(csum));
	return bpf_xdp_store_bytes(ctx, l4, h, hlen) ? -1 : 0;
}

/*
 * Is h the restored container's SYN-ACK an entry in LEARN waits for? Its
 * sequence number gives seq_delta (the old ISN is the entry's), its
 * timestamp what user space needs for ts_delta.
 */
static __always_inline bool es_xlate_learns(const struct es_mig_xlate *x, const __u8 *h, bool in)
{
	return !in && (x->flags & ES_MIG_XLATE_LEARN) && !(x->learned & ES_MIG_XLATE_LEARNED) &&
	       (h[ES_TCP_FLAGS_OFF] & (ES_TCP_SYN | ES_TCP_ACK)) == (ES_TCP_SYN | ES_TCP_ACK);
}

/* May es_mig_xlate hold an entry (es_mig_node_config.xlate)? */
static __always_inline bool es_mig_xlate_on(void)
{
	struct es_mig_node_config *cfg = es_mig_cfg();

	return cfg && cfg->xlate;
}

/* The ports and protocol of the key of the TCP segment whose header is h (in: from the user). */
static __always_inline void es_xlate_key(const __u8 *h, bool in, struct es_mig_key *k)
{
	__builtin_memcpy(in ? &k->user_port : &k->svc_port, h, 2);
	__builtin_memcpy(in ? &k->svc_port : &k->user_port, h + 2, 2);
	k->proto = IPPROTO_TCP;
	__builtin_memset(k->reserved, 0, sizeof(k->reserved));
}

/*
 * Translate the TCP segment (IPv4 or IPv6) in the frame ctx, towards the local
 * container (in) or from it, if its connection has an entry: 1 translated,
 * 0 not to be, -1 it could not be. A call of its own, made by the entry
 * points once the packet is known to pass between the user and the local
 * container, and only while es_mig_xlate_on(): its header copies never
 * share the stack with the forwarding path's, and a node without a
 * translated connection pays one array look-up, not a call.
 */
static __noinline int es_mig_xlate_frame(void *ctx, bool skb, bool in)
{
	struct es_xlate_walk w = {};
	__u8 old[ES_TCP_HDR_MAX];
	struct es_mig_xlate *x;
	struct es_mig_key k;
	struct es_mig_l3 l;
	__u32 l4, hlen, diff;
	bool learn;
	long err;

	if (es_mig_l3_load(ctx, skb, ES_ETH_HLEN, &l) || l.proto != IPPROTO_TCP)
		return 0;
	l4 = ES_ETH_HLEN + (l.hlen & 0x3f);
	err = skb ? bpf_skb_load_bytes(ctx, l4, w.h, 20) : bpf_xdp_load_bytes(ctx, l4, w.h, 20);
	if (err)
		return 0;
	/* in: from the user, whose address is the source */
	if (es_mig_addrs_load(ctx, skb, ES_ETH_HLEN, &l, !in, &k))
		return 0;
	es_xlate_key(w.h, in, &k);
	x = bpf_map_lookup_elem(&es_mig_xlate, &k);
	if (!x)
		return 0;
	/* kept outside w too: after bpf_loop the verifier knows nothing of w */
	hlen = (w.h[12] >> 4) * 4;
	if (hlen < 20 || hlen > ES_TCP_HDR_MAX)
		return -1;
	w.hlen = hlen;
	err = skb ? bpf_skb_load_bytes(ctx, l4, w.h, hlen) : bpf_xdp_load_bytes(ctx, l4, w.h, hlen);
	if (err)
		return -1;
	__builtin_memcpy(old, w.h, sizeof(old));
	learn = es_xlate_learns(x, w.h, in);
	if (learn)
		x->seq_delta = es_xlate_get(w.h, 4) - x->old_isn;
	w.i = 20;
	w.in = in;
	w.seq_delta = x->seq_delta;
	w.ts_delta = x->ts_delta;
	if (in && (x->learned & ES_MIG_XLATE_NEW_TS)) {
		w.ecr_clamp = true;
		w.ecr_lo = x->new_tsval;
		w.ecr_hi = x->new_tsval + (__u32)((bpf_ktime_get_coarse_ns() - x->new_ns) / 1000000);
	}
	w.flags = x->flags;
	if (!in)
		es_xlate_add(w.h, 4, -w.seq_delta);
	else if (w.h[ES_TCP_FLAGS_OFF] & ES_TCP_ACK)
		es_xlate_add(w.h, 8, w.seq_delta);
	if (es_xlate_ts_only(&w)) {
		es_xlate_opt(&w, 22, ES_TCPOPT_TS, ES_TCPOLEN_TS);
		diff = bpf_csum_diff((__be32 *)old, 32, (__be32 *)w.h, 32, 0);
	} else {
		bpf_loop(ES_TCP_HDR_MAX - 20, es_xlate_step, &w, 0);
		if (w.bad)	/* none half translated: the options as they came */
			__builtin_memcpy(w.h + 20, old + 20, ES_TCP_HDR_MAX - 20);
		diff = bpf_csum_diff((__be32 *)old, sizeof(old), (__be32 *)w.h, sizeof(w.h),
				     0);
	}
	if (es_xlate_store(ctx, skb, l4, w.h, hlen, diff))
		return -1;
	es_xlate_count(x, w.h, in, w.bad);
	if (learn) {
		x->new_isn = es_xlate_get(old, 4);
		x->new_tsval = w.tsval;
		x->new_ns = bpf_ktime_get_coarse_ns();
		__sync_fetch_and_or(&x->learned, ES_MIG_XLATE_LEARNED |
				    (w.ts_seen ? ES_MIG_XLATE_NEW_TS : 0));
	}
	return 1;
}

#endif /* EDGESHIFT_BPF_MIG_XLATE_H */
