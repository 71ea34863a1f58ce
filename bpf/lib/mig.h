/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The migration data plane's packet work, shared by the entry points of
 * bpf/migration.bpf.c: request forwarding and mirroring on the target,
 * tunnel decapsulation on both nodes, reply encapsulation on the source,
 * and the first-reply-wins claim that keeps the user from seeing a reply
 * twice. The protocol is in docs/migration.md.
 */
#ifndef EDGESHIFT_BPF_MIG_H
#define EDGESHIFT_BPF_MIG_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mig_maps.h"

#ifndef ETH_P_IP
#define ETH_P_IP	0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6	0x86DD
#endif
#define ES_ETH_HLEN	14
#define ES_AF_INET	2
#define ES_AF_INET6	10
#define ES_IP_MF	0x2000
#define ES_IP_OFFSET	0x1FFF
#define ES_MIG_CAS_TRIES	8
/* TCP flag bits, and their byte's offset in the header */
#define ES_TCP_FLAGS_OFF	13
#define ES_TCP_FIN		0x01
#define ES_TCP_SYN		0x02
#define ES_TCP_RST		0x04
#define ES_TCP_ACK		0x10

/* What the tunnel puts between the Ethernet header and the user's packet. */
struct es_mig_outer {
	struct iphdr		ip;
	struct udphdr		udp;
	struct es_mig_tunhdr	tun;
} __attribute__((packed));

/* The same between nodes whose tunnel addresses are IPv6. */
struct es_mig_outer6 {
	struct ipv6hdr		ip6;
	struct udphdr		udp;
	struct es_mig_tunhdr	tun;
} __attribute__((packed));

_Static_assert(sizeof(struct es_mig_outer) == ES_MIG_ENCAP_LEN, "tunnel header size");
_Static_assert(sizeof(struct es_mig_outer6) == ES_MIG_ENCAP6_LEN, "IPv6 tunnel header size");

/* Zeroes to create a record from: too large for the stack, never written. */
struct es_mig_record es_mig_record_zero;

/* Record and session structs have no other user in this object's BTF. */
const volatile struct es_mig_event es_mig_event_btf;
const volatile struct es_mig_tunhdr es_mig_tunhdr_btf;

static __always_inline struct es_mig_node_config *es_mig_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&es_mig_config, &zero);
}

static __always_inline __u64 es_mig_seq_state(struct es_mig_session *s)
{
	return *(volatile __u64 *)&s->seq_state;
}

static __always_inline __u32 es_mig_state_of(__u64 seq_state)
{
	return seq_state >> ES_MIG_STATE_SHIFT;
}

static __always_inline void es_mig_emit(const struct es_mig_key *k, __u32 type, __u32 reason,
					const __u32 *node, __u64 seq)
{
	struct es_mig_event *ev;

	ev = bpf_ringbuf_reserve(&es_mig_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->key = *k;
	ev->type = type;
	ev->reason = reason;
	es_mig_addr_cpy(ev->node_addr, node);
	ev->seq = seq;
	ev->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Give up the migration of a session whose requests can no longer all be
 * buffered: the source keeps serving, forwarding goes on, nothing is lost.
 */
static __always_inline void es_mig_abort(struct es_mig_session *s, const struct es_mig_key *k,
					 __u32 reason)
{
	__u64 old, new;
	__u32 st;
	int i;

	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		old = es_mig_seq_state(s);
		st = es_mig_state_of(old);
		if (st != ES_MIG_FORWARDING && st != ES_MIG_HOLD && st != ES_MIG_REPLAYING)
			return;
		new = ((__u64)ES_MIG_ABORTED << ES_MIG_STATE_SHIFT) | (old & ES_MIG_SEQ_MASK);
		if (__sync_val_compare_and_swap(&s->seq_state, old, new) == old) {
			s->abort_seq = old & ES_MIG_SEQ_MASK;
			if (st == ES_MIG_HOLD)
				__sync_fetch_and_or(&s->flags, ES_MIG_F_ABORT_HELD);
			s->abort_reason = reason;
			s->changed_ns = bpf_ktime_get_ns();
			es_mig_emit(k, ES_MIG_EV_ABORT, reason, s->source_addr, old & ES_MIG_SEQ_MASK);
			return;
		}
	}
}

/*
 * Make the record of request seq and return it, or the es_mig_abort_reason
 * that forbids buffering it. Its len stays 0 until the caller has filled
 * it: readers take a record whose len is 0 as one being written.
 */
static __always_inline int es_mig_record_new(struct es_mig_session *s, const struct es_mig_key *k,
					     __u64 seq, __u32 len, struct es_mig_record **out)
{
	struct es_mig_record_key rk = {};
	struct es_mig_record *rec;

	if (len > ES_MIG_RECORD_BYTES)
		return ES_MIG_ABORT_TOO_BIG;
	/* aborted: only what the source has not acknowledged is kept (the agent trims) */
	if (seq - (es_mig_state_of(es_mig_seq_state(s)) == ES_MIG_ABORTED ? s->src_acked :
		   s->cursor) > s->replay_limit)
		return ES_MIG_ABORT_BUFFER_FULL;
	rk.session = *k;
	rk.seq = seq;
	if (bpf_map_update_elem(&es_mig_replay, &rk, &es_mig_record_zero, BPF_NOEXIST))
		return ES_MIG_ABORT_MAP_FULL;
	rec = bpf_map_lookup_elem(&es_mig_replay, &rk);
	if (!rec)
		return ES_MIG_ABORT_MAP_FULL;
	rec->ts_ns = bpf_ktime_get_ns();
	*out = rec;
	return 0;
}

/*
 * Replies are claimed (and their payload hashed) only while a migration is
 * under way, mirroring and not aborted: only then can the restored
 * container answer too. Any other reply costs no more than before.
 */
static __always_inline bool es_mig_claims_on(const struct es_mig_session *s, __u32 st)
{
	return (s->flags & ES_MIG_F_MIRROR) && st != ES_MIG_NONE && st != ES_MIG_ABORTED;
}

/*
 * A copy of reply ordinal `ord` (the source's numbering) is about to reach
 * the user: claim the ordinal for this copy's side (ES_MIG_ANS_OLD, _NEW
 * or _NEW_SEEN) and return the bits the other copy had set (0 when this
 * one is first). The second copy compares its digest with the first's: a
 * difference is a service that is not deterministic. Callers check
 * es_mig_claims_on first.
 */
static __always_inline __u32 es_mig_claim(struct es_mig_session *s, const struct es_mig_key *k,
					  __u64 ord, __u32 side, __u32 digest)
{
	struct es_mig_rclaim first = { .answered = side, .digest = digest }, *c;
	struct es_mig_record_key rk = {};
	__u32 prev, other;

	rk.session = *k;
	rk.seq = ord;
	if (!bpf_map_update_elem(&es_mig_rclaim, &rk, &first, BPF_NOEXIST))
		return 0;
	c = bpf_map_lookup_elem(&es_mig_rclaim, &rk);
	if (!c) {
		/* full: this copy passes, and the agents' check sees it did unclaimed */
		__sync_fetch_and_add(&s->claims_failed, 1);
		return 0;
	}
	prev = __sync_fetch_and_or(&c->answered, side);
	other = side == ES_MIG_ANS_OLD ? ES_MIG_ANS_NEW_ANY : ES_MIG_ANS_OLD;
	if ((prev & other) && c->digest != digest)
		__sync_fetch_and_add(&s->replies_diverged, 1);
	return prev & other;
}

#define ES_MIG_FNV_BASIS	2166136261U
#define ES_MIG_FNV_PRIME	16777619U

/*
 * Room for the bytes a digest covers, per CPU: too large for the stack of
 * a call chain that already holds the tunnel's and the TCP check's frames.
 * Slot 0 for XDP, 1 for tc (they never nest on a CPU, but need not share).
 */
struct es_mig_digest_buf {
	__u8	b[ES_MIG_DIGEST_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct es_mig_digest_buf);
} es_mig_digest_room SEC(".maps");

/*
 * The digest of the UDP payload of the IP packet at l3 in ctx: FNV-1a of
 * its length and first ES_MIG_DIGEST_BYTES bytes, read with load (the XDP
 * or the skb helper) into room slot. Both containers' copies of a reply
 * are compared by it; 0 when the packet cannot be read. One loop with an
 * early end, not a loop of chunks: the verifier walks the latter's every
 * combination of lengths.
 */
#define ES_MIG_DIGEST_BODY(load, ctx, l3, slot) do {				\
	struct es_mig_digest_buf *d;						\
	__u32 off, end, n, h, i, k = (slot);					\
	__u16 len16 = 0;							\
	__u8 vihl = 0;								\
										\
	d = bpf_map_lookup_elem(&es_mig_digest_room, &k);			\
	if (!d || load(ctx, l3, &vihl, 1))					\
		return 0;							\
	off = vihl >> 4 == 4 ? (vihl & 0xf) * 4 : 40;				\
	if (load(ctx, (l3) + (vihl >> 4 == 4 ? 2 : 4), &len16, 2))		\
		return 0;							\
	end = bpf_ntohs(len16) + (vihl >> 4 == 4 ? 0 : 40);			\
	off += 8;								\
	if (end < off)								\
		return 0;							\
	n = end - off;								\
	h = (ES_MIG_FNV_BASIS ^ n) * ES_MIG_FNV_PRIME;				\
	if (n > ES_MIG_DIGEST_BYTES)						\
		n = ES_MIG_DIGEST_BYTES;					\
	if (!n || load(ctx, (l3) + off, d->b, n))				\
		return h;							\
	for (i = 0; i < ES_MIG_DIGEST_BYTES; i++) {				\
		if (i >= n)							\
			break;							\
		h = (h ^ d->b[i]) * ES_MIG_FNV_PRIME;				\
	}									\
	return h;								\
} while (0)

static __noinline __u32 es_mig_digest_xdp(struct xdp_md *ctx, __u32 l3)
{
	ES_MIG_DIGEST_BODY(bpf_xdp_load_bytes, ctx, l3, 0);
}

static __noinline __u32 es_mig_digest_skb(struct __sk_buff *skb, __u32 l3)
{
	ES_MIG_DIGEST_BODY(bpf_skb_load_bytes, skb, l3, 1);
}

/* RFC 1071 checksum of a 20-byte IPv4 header whose check field is 0. */
static __always_inline __u16 es_mig_ip_csum(const void *iph)
{
	const __u16 *p = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += p[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * The UDP and tunnel headers of outer headers o (either family's struct: a
 * macro, as their members are packed). UDP checksum 0 (none): see
 * es_mig_tunhdr; the inner packet keeps its own.
 */
#define ES_MIG_TUN_FILL(o, port, udp_len, type_, seq, base) do {		\
	(o)->udp.source = (port);						\
	(o)->udp.dest = (port);							\
	(o)->udp.len = bpf_htons(udp_len);					\
	(o)->udp.check = 0;							\
	(o)->tun.magic = bpf_htons(ES_MIG_TUN_MAGIC);				\
	(o)->tun.version = ES_MIG_TUN_VERSION;					\
	(o)->tun.type = (type_);						\
	(o)->tun.base = bpf_htonl(base);					\
	(o)->tun.seq = bpf_cpu_to_be64(seq);					\
} while (0)

/* IPv4 outer headers from mapped addresses src and dst. */
static __always_inline void es_mig_outer_fill(struct es_mig_outer *o, const __u32 *src,
					      const __u32 *dst, __u16 port, __u32 inner_len,
					      __u8 type, __u64 seq, __u32 base)
{
	__u32 udp_len = sizeof(o->udp) + sizeof(o->tun) + inner_len;

	__builtin_memset(o, 0, sizeof(*o));
	o->ip.version = 4;
	o->ip.ihl = 5;
	o->ip.tot_len = bpf_htons(sizeof(o->ip) + udp_len);
	o->ip.ttl = 64;
	o->ip.protocol = IPPROTO_UDP;
	o->ip.saddr = src[3];
	o->ip.daddr = dst[3];
	o->ip.check = es_mig_ip_csum((const void *)o);
	ES_MIG_TUN_FILL(o, port, udp_len, type, seq, base);
}

static __always_inline void es_mig_outer6_fill(struct es_mig_outer6 *o, const __u32 *src,
					       const __u32 *dst, __u16 port, __u32 inner_len,
					       __u8 type, __u64 seq, __u32 base)
{
	__u32 udp_len = sizeof(o->udp) + sizeof(o->tun) + inner_len;

	__builtin_memset(o, 0, sizeof(*o));
	o->ip6.version = 6;
	o->ip6.payload_len = bpf_htons(udp_len);
	o->ip6.nexthdr = IPPROTO_UDP;
	o->ip6.hop_limit = 64;
	__builtin_memcpy(&o->ip6.saddr, src, 16);
	__builtin_memcpy(&o->ip6.daddr, dst, 16);
	ES_MIG_TUN_FILL(o, port, udp_len, type, seq, base);
}

/* A route look-up from src to dst (both mapped IPv4, or both IPv6). */
static __always_inline void es_mig_fib_init(struct bpf_fib_lookup *fib, __u32 ifindex,
					    const __u32 *src, const __u32 *dst, __u32 tot_len)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->l4_protocol = IPPROTO_UDP;
	fib->tot_len = tot_len;
	fib->ifindex = ifindex;
	if (es_mig_addr_is4(dst)) {
		fib->family = ES_AF_INET;
		fib->ipv4_src = src[3];
		fib->ipv4_dst = dst[3];
	} else {
		fib->family = ES_AF_INET6;
		es_mig_addr_cpy(fib->ipv6_src, src);
		es_mig_addr_cpy(fib->ipv6_dst, dst);
	}
}

/*
 * The outer headers' length towards dst from a node whose tunnel address
 * is local, or 0 when either is not set or their families differ.
 */
static __always_inline __u32 es_mig_encap_len(const __u32 *local, const __u32 *dst)
{
	if (!es_mig_addr_set(local) || !es_mig_addr_set(dst) ||
	    es_mig_addr_is4(local) != es_mig_addr_is4(dst))
		return 0;
	return es_mig_addr_is4(dst) ? ES_MIG_ENCAP_LEN : ES_MIG_ENCAP6_LEN;
}

/*
 * A user's packet's IP header, either family, as the migration uses it.
 * An IPv6 packet is taken only with TCP or UDP right after its fixed
 * header: one with extension headers (fragments included) passes by the
 * migration as an IPv4 fragment does (docs/migration.md, "IPv6").
 */
struct es_mig_l3 {
	__u32	hlen;	/* IP header bytes: IPv4 ihl * 4, IPv6 40 */
	__u32	tot;	/* IP packet bytes the header states */
	__u32	proto;	/* IPv4 protocol or IPv6 next header */
	__u32	v6;	/* 1: IPv6 */
};

/* Bytes of an IP header that hold both families' lengths and protocol. */
#define ES_MIG_L3_HEAD	12

/*
 * l from the first ES_MIG_L3_HEAD bytes b of an IP header: 0, or -1 when
 * it is neither family, an IPv4 fragment or shorter than 20 bytes. The
 * addresses are read apart, straight into a key: the stack is short.
 */
static __always_inline int es_mig_l3_parse(const __u8 *b, struct es_mig_l3 *l)
{
	__u16 frag = (__u16)b[6] << 8 | b[7];

	if (b[0] >> 4 == 6) {
		l->hlen = 40;
		l->tot = 40 + ((__u32)b[4] << 8 | b[5]);
		l->proto = b[6];
		l->v6 = 1;
		return 0;
	}
	if (b[0] >> 4 != 4 || (b[0] & 0xf) < 5 || (frag & (ES_IP_MF | ES_IP_OFFSET)))
		return -1;
	l->hlen = (b[0] & 0xf) * 4;
	l->tot = (__u32)b[2] << 8 | b[3];
	l->proto = b[9];
	l->v6 = 0;
	return 0;
}

/* The IP header at off of an skb or an XDP frame, copied: 0, or -1. */
static __always_inline int es_mig_l3_load(void *ctx, bool skb, __u32 off, struct es_mig_l3 *l)
{
	__u8 b[ES_MIG_L3_HEAD];
	long err;

	err = skb ? bpf_skb_load_bytes(ctx, off, b, sizeof(b)) :
		    bpf_xdp_load_bytes(ctx, off, b, sizeof(b));
	return err ? -1 : es_mig_l3_parse(b, l);
}

/*
 * An IPv6 header with an IPv4-mapped address: its key would be an IPv4
 * session's (the kernel drops such a packet, after XDP has seen it).
 */
static __always_inline bool es_mig_addrs_mapped(const __u32 *src, const __u32 *dst)
{
	return es_mig_addr_is4(src) || es_mig_addr_is4(dst);
}

/*
 * The source and destination addresses of the IP header at off into k,
 * oriented user -> service (reply: the packet is from the service).
 */
static __always_inline int es_mig_addrs_load(void *ctx, bool skb, __u32 off,
					     const struct es_mig_l3 *l, bool reply,
					     struct es_mig_key *k)
{
	__u32 *src = reply ? k->svc_addr : k->user_addr;
	__u32 *dst = reply ? k->user_addr : k->svc_addr;
	__u32 a[2];
	long err;

	if (l->v6) {
		err = skb ? bpf_skb_load_bytes(ctx, off + 8, src, 16) :
			    bpf_xdp_load_bytes(ctx, off + 8, src, 16);
		if (!err)
			err = skb ? bpf_skb_load_bytes(ctx, off + 24, dst, 16) :
				    bpf_xdp_load_bytes(ctx, off + 24, dst, 16);
		return err || es_mig_addrs_mapped(src, dst) ? -1 : 0;
	}
	err = skb ? bpf_skb_load_bytes(ctx, off + 12, a, sizeof(a)) :
		    bpf_xdp_load_bytes(ctx, off + 12, a, sizeof(a));
	if (err)
		return -1;
	es_mig_addr4(src, a[0]);
	es_mig_addr4(dst, a[1]);
	return 0;
}

/* The same from an XDP frame's IP header at l3 (direct access). */
static __always_inline int es_mig_addrs_at(void *l3, void *data_end, const struct es_mig_l3 *l,
					   bool reply, struct es_mig_key *k)
{
	__u32 *src = reply ? k->svc_addr : k->user_addr;
	__u32 *dst = reply ? k->user_addr : k->svc_addr;
	struct ipv6hdr *h6 = l3;
	struct iphdr *h4 = l3;

	if (l->v6) {
		if ((void *)(h6 + 1) > data_end)
			return -1;
		__builtin_memcpy(src, &h6->saddr, 16);
		__builtin_memcpy(dst, &h6->daddr, 16);
		return es_mig_addrs_mapped(src, dst) ? -1 : 0;
	}
	if ((void *)(h4 + 1) > data_end)
		return -1;
	es_mig_addr4(src, h4->saddr);
	es_mig_addr4(dst, h4->daddr);
	return 0;
}

/*
 * The rest of k from a packet whose IP header is l and whose L4 header
 * begins with the ports (TCP's and UDP's both do): 0, or -1 when it is
 * not a whole UDP datagram or TCP segment.
 */
static __always_inline int es_mig_key_ports(const struct es_mig_l3 *l, const struct udphdr *uh,
					    bool reply, struct es_mig_key *k)
{
	if (l->proto != IPPROTO_UDP && l->proto != IPPROTO_TCP)
		return -1;
	if (l->tot < l->hlen + (l->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(*uh)))
		return -1;
	k->user_port = reply ? uh->dest : uh->source;
	k->svc_port = reply ? uh->source : uh->dest;
	k->proto = l->proto;
	__builtin_memset(k->reserved, 0, sizeof(k->reserved));
	return 0;
}

/*
 * The session key of a request (user -> service) from its IP header (4 or
 * 6) at l3. 0, or -1 when it is not a whole UDP datagram or TCP segment;
 * *l3_len is the IP packet's length.
 */
static __always_inline int es_mig_key_of(void *l3, void *data_end, bool reply,
					 struct es_mig_key *k, __u32 *l3_len)
{
	struct es_mig_l3 l;
	struct udphdr *uh;

	if (l3 + ES_MIG_L3_HEAD > data_end || es_mig_l3_parse(l3, &l))
		return -1;
	/* bounded for the verifier: a frame never holds more than 64 KiB */
	if (l.tot > 0xffff)
		return -1;
	uh = l3 + (l.hlen & 0x3f);
	if ((void *)(uh + 1) > data_end || l3 + (l.tot & 0xffff) > data_end)
		return -1;
	if (es_mig_key_ports(&l, uh, reply, k) || es_mig_addrs_at(l3, data_end, &l, reply, k))
		return -1;
	*l3_len = l.tot;
	return 0;
}

/*
 * Handoff detection: the first request of a user for a service that runs
 * on another node makes a session entry (forwarding at once when the
 * service entry says so) and an event for the agent. A sealed service
 * (ES_MIG_SVC_HOLD) makes none: NULL with *held set, the packet dropped.
 */
static __noinline struct es_mig_session *es_mig_detect(const struct es_mig_key *k, bool *held)
{
	struct es_mig_svc_key sk = {};
	struct es_mig_session ns = {};
	struct es_mig_node_config *cfg;
	struct es_mig_svc *svc;
	__u32 state;

	__builtin_memcpy(sk.svc_addr, k->svc_addr, sizeof(sk.svc_addr));
	sk.svc_port = k->svc_port;
	sk.proto = k->proto;
	svc = bpf_map_lookup_elem(&es_mig_services, &sk);
	if (!svc) {
		sk.svc_port = 0;
		svc = bpf_map_lookup_elem(&es_mig_services, &sk);
		if (!svc)
			return NULL;
	}
	if (svc->flags & ES_MIG_SVC_HOLD) {
		__sync_fetch_and_add(&svc->held_new, 1);
		*held = true;
		return NULL;
	}
	state = svc->flags & ES_MIG_SVC_FORWARD ? ES_MIG_FORWARDING : ES_MIG_NONE;
	ns.seq_state = (__u64)state << ES_MIG_STATE_SHIFT;
	es_mig_addr_cpy(ns.source_addr, svc->node_addr);
	ns.flags = ES_MIG_F_AUTO | (svc->flags & ES_MIG_SVC_MIRROR ? ES_MIG_F_MIRROR : 0);
	ns.replay_limit = svc->replay_limit;
	if (!ns.replay_limit) {
		cfg = es_mig_cfg();
		ns.replay_limit = cfg ? cfg->default_replay_limit : 0;
	}
	ns.created_ns = bpf_ktime_get_ns();
	ns.changed_ns = ns.created_ns;
	if (!bpf_map_update_elem(&es_mig_sessions, k, &ns, BPF_NOEXIST)) {
		__sync_fetch_and_add(&svc->handoffs, 1);
		es_mig_emit(k, ES_MIG_EV_HANDOFF, 0, svc->node_addr, 0);
	}
	return bpf_map_lookup_elem(&es_mig_sessions, k);
}

/* Zeroes to create a held request from: too large for the stack, never written. */
struct es_mig_held es_mig_held_zero;

/*
 * The last request delivered when seq is the first to arrive: base (the
 * tunnel header's) is the last request that node never sent here, so a
 * first request lost on the way is missed, not skipped.
 */
static __always_inline __u64 es_mig_base_seq(__u64 seq, __u32 base)
{
	return base < seq ? base : seq - 1;
}

/* The entry's numbers from now on are peer's, request seq the first of them. */
static __always_inline void es_mig_remote_base(struct es_mig_remote *r, const __u32 *peer,
					       __u64 seq, __u32 base)
{
	es_mig_addr_cpy(r->peer_addr, peer);
	r->last_seq = es_mig_base_seq(seq, base);
	__sync_fetch_and_and(&r->flags, ~ES_MIG_RF_NO_BASE);
}

/* The source's entry of a session, made on its first tunnelled request. */
static __always_inline struct es_mig_remote *es_mig_remote_of(const struct es_mig_key *k,
							      const __u32 *peer, __u64 seq,
							      __u32 base)
{
	struct es_mig_remote *r, nr = {};

	r = bpf_map_lookup_elem(&es_mig_remote, k);
	/*
	 * The agent names the peer by its URL's address, which may be none (a
	 * host name) or not the one the tunnel comes from: the first request
	 * from any node but the one before gives the base and is the peer.
	 */
	if (r && (r->flags & ES_MIG_RF_NO_BASE) && !es_mig_addr_eq(r->prev_addr, peer))
		es_mig_remote_base(r, peer, seq, base);
	if (r)
		return r;
	es_mig_addr_cpy(nr.peer_addr, peer);
	nr.last_seq = es_mig_base_seq(seq, base);
	nr.created_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&es_mig_remote, k, &nr, BPF_NOEXIST);
	return bpf_map_lookup_elem(&es_mig_remote, k);
}

/*
 * A request from the node whose tunnel the session used before its
 * latest (include/edgeshift/migration.h, es_mig_remote): delivered once,
 * as it comes. Its order against the latest node's requests is lost
 * either way, and holding it for a node that has failed or that the user
 * has left would hold it for ever. Those at most prev_last_seq were
 * delivered before the shift; each of the 64 after it is marked in
 * prev_seen as it passes, so late ones may come in any order; one past
 * those passes unmarked (a copy of it would pass too).
 */
static __always_inline struct es_mig_held *es_mig_prev_seen(struct es_mig_remote *r, __u64 seq,
							    bool *drop)
{
	__u64 n = seq - r->prev_last_seq - 1, bit;

	if (seq <= r->prev_last_seq)
		goto copy;
	if (n < 64) {
		bit = 1ULL << n;
		if (__sync_fetch_and_or(&r->prev_seen, bit) & bit)
			goto copy;
	}
	__sync_fetch_and_add(&r->delivered, 1);
	return NULL;
copy:
	__sync_fetch_and_add(&r->dup, 1);
	*drop = true;
	return NULL;
}

/*
 * A request from a node that is neither the session's peer nor the one
 * before it: the user moved on again, or a migration goes to another
 * node after one that failed. That node numbers the requests from its own
 * start, so it becomes the peer with its base as last_seq, its counts of
 * requests and replies from zero; the peer it replaces becomes prev_addr
 * with its last_seq. The hold word and the flags stay: a hold under way
 * goes on, and kept requests of the old numbers are not moved (see
 * docs/migration.md, "Each target's numbers are its own"). Kept
 * as they were, the old tunnel's numbers made the new node's first
 * requests look like copies (dropped, 80 of 240 in a drill), and the
 * cursor a checkpoint reads from the entry wrong.
 */
static __always_inline void es_mig_remote_shift(struct es_mig_remote *r, const __u32 *peer,
						__u64 seq, __u32 base)
{
	es_mig_addr_cpy(r->prev_addr, r->peer_addr);
	r->prev_last_seq = r->last_seq;
	r->prev_seen = 0;
	/*
	 * The new node counts the replies from its first too (1..n are no
	 * gap), and a hold compares replies with what was delivered.
	 */
	r->replies = 0;
	r->delivered = 0;
	es_mig_remote_base(r, peer, seq, base);
}

/* Keep request seq in es_mig_held; NULL when it is there already or cannot be. */
static __always_inline struct es_mig_held *es_mig_keep(struct es_mig_remote *r,
						       const struct es_mig_key *k, __u64 seq,
						       __u32 len, bool *dup)
{
	struct es_mig_record_key hk = {};
	struct es_mig_held *h;
	long err;

	hk.session = *k;
	hk.seq = seq;
	if (!len || len > ES_MIG_RECORD_BYTES)
		return NULL;
	err = bpf_map_update_elem(&es_mig_held, &hk, &es_mig_held_zero, BPF_NOEXIST);
	if (err) {
		*dup = err == -17;	/* -EEXIST: kept already */
		return NULL;
	}
	h = bpf_map_lookup_elem(&es_mig_held, &hk);
	if (!h)
		return NULL;
	/* len stays 0, being made, until the caller has copied the request */
	h->seq = seq;
	h->ts_ns = bpf_ktime_get_ns();
	__sync_fetch_and_add(&r->held, 1);
	return h;
}

/*
 * A request arrived past a missing one while OPEN: REORDER, so that every
 * later one waits too; the agent learns from the event which one is missing.
 */
static __always_inline void es_mig_gap(struct es_mig_remote *r, const struct es_mig_key *k)
{
	__u64 cur, new;
	int i;

	__sync_fetch_and_add(&r->gaps, 1);
	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		cur = *(volatile __u64 *)&r->hold;
		if (cur >> ES_MIG_STATE_SHIFT != ES_MIG_SRC_OPEN)
			break;
		new = ((__u64)ES_MIG_SRC_REORDER << ES_MIG_STATE_SHIFT) | (cur & ES_MIG_SEQ_MASK);
		if (__sync_val_compare_and_swap(&r->hold, cur, new) == cur)
			break;
	}
	es_mig_emit(k, ES_MIG_EV_GAP, 0, r->peer_addr, r->last_seq + 1);
}

/*
 * Source side: a tunnelled request (sequence number seq, user's packet of
 * len bytes). Its single fetch_add on the hold word gives it the state it
 * met. OPEN and next in sequence, it goes to the old container (NULL, *drop
 * false); arrived again, it is dropped (NULL, *drop true); otherwise (a
 * hold, or a request missing before it) the caller copies it into the
 * returned es_mig_held and drops it. A request that cannot be kept is
 * delivered and the hold marked broken: late order beats a lost request.
 */
static __always_inline struct es_mig_held *es_mig_remote_seen(const struct es_mig_key *k,
							      const __u32 *peer, __u64 seq,
							      __u32 base, __u32 len, bool *drop)
{
	struct es_mig_remote *r;
	struct es_mig_held *h;
	bool dup = false;
	__u64 old;

	*drop = false;
	r = es_mig_remote_of(k, peer, seq, base);
	if (!r)
		return NULL;
	if (!es_mig_addr_eq(r->peer_addr, peer)) {
		if (es_mig_addr_eq(r->prev_addr, peer))
			return es_mig_prev_seen(r, seq, drop);
		es_mig_remote_shift(r, peer, seq, base);
	}
	if (seq <= r->last_seq) {
		__sync_fetch_and_add(&r->dup, 1);
		*drop = true;
		return NULL;
	}
	old = __sync_fetch_and_add(&r->hold, 1);
	if (old >> ES_MIG_STATE_SHIFT == ES_MIG_SRC_OPEN && seq == r->last_seq + 1) {
		r->last_seq = seq;
		__sync_fetch_and_add(&r->delivered, 1);
		return NULL;
	}
	h = es_mig_keep(r, k, seq, len, &dup);
	if (h) {
		if (old >> ES_MIG_STATE_SHIFT == ES_MIG_SRC_OPEN)
			es_mig_gap(r, k);
		return h;
	}
	if (dup) {
		__sync_fetch_and_add(&r->dup, 1);
		*drop = true;
		return NULL;
	}
	__sync_fetch_and_or(&r->flags, ES_MIG_RF_HOLD_BROKEN);
	r->last_seq = seq;
	__sync_fetch_and_add(&r->delivered, 1);
	return NULL;
}

/* Ordinal seq of session k arrived before (es_mig_rseen). */
static __always_inline bool es_mig_rseen_has(const struct es_mig_key *k, __u64 seq)
{
	struct es_mig_record_key rk = {};

	rk.session = *k;
	rk.seq = seq;
	return bpf_map_lookup_elem(&es_mig_rseen, &rk) != NULL;
}

/* Move old_base over the ordinals that arrived right above it (a few per reply). */
static __always_inline void es_mig_rseen_advance(struct es_mig_session *s,
						 const struct es_mig_key *k)
{
	int i;

	for (i = 0; i < 32 && es_mig_rseen_has(k, s->old_base + 1); i++)
		s->old_base++;
}

/*
 * Target side: source reply `seq` (its ordinal) arrived; true when it did
 * before (a copy the WAN duplicated, or one sent again after all).
 */
static __always_inline bool es_mig_reply_dup(struct es_mig_session *s, const struct es_mig_key *k,
					     __u64 seq)
{
	struct es_mig_record_key rk = {};
	__u32 one = 1;

	if (seq <= s->old_base)
		goto dup;
	rk.session = *k;
	rk.seq = seq;
	if (bpf_map_update_elem(&es_mig_rseen, &rk, &one, BPF_NOEXIST))
		goto dup;
	es_mig_rseen_advance(s, k);
	return false;
dup:
	__sync_fetch_and_add(&s->dup_replies, 1);
	return true;
}

/*
 * Target side: a reply of the old container came back with ordinal seq;
 * its session entry, or NULL to drop it (seen before, or no session).
 * TCP segments are not deduplicated by ordinal: TCP drops the bytes it
 * has, and a GSO packet the tunnel carried as one ordinal arrives as
 * several segments with it.
 */
static __always_inline struct es_mig_session *es_mig_old_seen(const struct es_mig_key *k,
							      __u64 seq, __u32 ack)
{
	struct es_mig_session *s;

	/*
	 * No session: its migration finished here (the restored container
	 * answered the same requests) or was never made; a late or resent
	 * reply of the old container would reach the user a second time.
	 */
	s = bpf_map_lookup_elem(&es_mig_sessions, k);
	if (!s)
		return NULL;
	if (ack > s->src_acked)
		s->src_acked = ack;
	if (k->proto == IPPROTO_TCP) {
		if (seq > s->old_replies)
			s->old_replies = seq;
		return s;
	}
	if (es_mig_reply_dup(s, k, seq))
		return NULL;
	/* past one that did not come: the agent asks the source for it */
	if (seq > s->old_replies + 1)
		es_mig_emit(k, ES_MIG_EV_REPLY_GAP, 0, s->source_addr, s->old_replies + 1);
	/* The source numbers its replies in order, so the highest is the count. */
	if (seq > s->old_replies)
		s->old_replies = seq;
	return s;
}

/*
 * Target side, UDP: reply `seq` of the old container came back (session s,
 * es_mig_old_seen); true to drop it (the restored container's copy passed
 * first). The XDP packet ctx, its IP header at l3, is hashed only when
 * the reply is claimed.
 */
static __always_inline bool es_mig_old_reply(struct es_mig_session *s, const struct es_mig_key *k,
					     __u64 seq, struct xdp_md *ctx, __u32 l3)
{
	if (!es_mig_claims_on(s, es_mig_state_of(es_mig_seq_state(s))) ||
	    !(es_mig_claim(s, k, seq, ES_MIG_ANS_OLD, es_mig_digest_xdp(ctx, l3)) &
	      ES_MIG_ANS_NEW))
		return false;
	__sync_fetch_and_add(&s->suppressed_old, 1);
	return true;
}

/*
 * Target side: a reply of the restored container, its payload's digest.
 * It went on from the state the old container was frozen in, with the
 * same requests after the cursor in the same order, so its n-th reply is
 * the old container's reply reply_base + n, whatever number of datagrams
 * each request gets. Until the catch-up has compared the two it is
 * dropped (the old container answers every request until then); after,
 * the first copy passes. True to drop it.
 */
static __always_inline bool es_mig_new_reply(struct es_mig_session *s, const struct es_mig_key *k,
					     struct __sk_buff *skb)
{
	__u32 st = es_mig_state_of(es_mig_seq_state(s)), digest;
	__u64 ord;

	if (st == ES_MIG_ABORTED)
		goto drop;	/* its migration is over: the old container answers everything */
	if (!es_mig_claims_on(s, st))
		return false;
	/*
	 * Counted from its restore, not from the replay: a request the old
	 * container had read but not answered when it was frozen is answered
	 * by the restored one as soon as it runs, and that reply has its place.
	 */
	ord = s->reply_base + __sync_fetch_and_add(&s->new_replies, 1) + 1;
	digest = es_mig_digest_skb(skb, ES_ETH_HLEN);
	if (st != ES_MIG_CUTOVER && !(s->flags & ES_MIG_F_COMPARED))
		es_mig_claim(s, k, ord, ES_MIG_ANS_NEW_SEEN, digest);
	else if (!(es_mig_claim(s, k, ord, ES_MIG_ANS_NEW, digest) & ES_MIG_ANS_OLD))
		return false;
drop:
	__sync_fetch_and_add(&s->suppressed_new, 1);
	return true;
}

#endif /* EDGESHIFT_BPF_MIG_H */
