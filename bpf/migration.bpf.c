// SPDX-License-Identifier: GPL-2.0-only
/*
 * Entry points of the migration data plane (docs/migration.md):
 *
 *  es_mig_xdp_ingress  target node, interface facing the users: accounting,
 *                      then forwarding + mirroring of migrating sessions
 *  es_mig_xdp_wan      both nodes, interface facing the other nodes:
 *                      accounting, then tunnel decapsulation
 *  es_mig_tc_ingress   the same as es_mig_xdp_ingress on tcx ingress (veth),
 *                      without accounting
 *  es_mig_tc_ctr       tcx ingress of a container's host-side interface:
 *                      on the target, dropping replies already answered;
 *                      on the source, sending replies back through the tunnel
 *  es_mig_tc_egress    tcx egress of the users' interface: the same for
 *                      containers in the node's own network namespace
 *  es_mig_ctl          syscall program: user space's only way to change a
 *                      session entry, with the same atomics as the packet path
 *
 * The accounting maps are the same as accounting.bpf.c's; pinned under one
 * directory, both objects share them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
/*
 * The accounting of the XDP programs here goes where the agent's does: the
 * session maps, or the slot table when the loader turns it on
 * (lib/migctl/load.c reads es_meta).
 */
#define ES_TBL_ON_DEFAULT	0
#include "lib/slot_table.h"
#include "lib/mig.h"
#include "lib/mig_tcp.h"
#include "lib/mig_xlate.h"

#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_SHOT	2
#define EINVAL		22
#define ENOENT		2
#define EEXIST		17
#define EAGAIN		11
#define ESTALE		116
#define EINPROGRESS	115

/*
 * The outer headers in front of an XDP frame whose head was moved back by
 * hlen; the inner packet's length, or -1.
 */
static __always_inline int es_mig_outer_xdp(struct xdp_md *ctx, __u32 hlen,
					    const struct es_mig_node_config *cfg,
					    const __u32 *dst, __u64 seq, __u32 base)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct es_mig_outer6 *o6;
	struct es_mig_outer *o;

	if (hlen == ES_MIG_ENCAP6_LEN) {
		o6 = data + ES_ETH_HLEN;
		if ((void *)(o6 + 1) > data_end)
			return -1;
		es_mig_outer6_fill(o6, cfg->local_addr, dst, cfg->tunnel_port,
				   data_end - (void *)(o6 + 1), ES_MIG_TUN_REQUEST, seq, base);
		return data_end - (void *)(o6 + 1);
	}
	o = data + ES_ETH_HLEN;
	if ((void *)(o + 1) > data_end)
		return -1;
	es_mig_outer_fill(o, cfg->local_addr, dst, cfg->tunnel_port, data_end - (void *)(o + 1),
			  ES_MIG_TUN_REQUEST, seq, base);
	return data_end - (void *)(o + 1);
}

/* Send a request to the source node: 0 with *act set, or -1. */
static __noinline int es_mig_encap_xdp(struct xdp_md *ctx, const __u32 *dst, __u64 seq,
					__u32 base, __u32 *act)
{
	struct bpf_fib_lookup fib;
	struct es_mig_node_config *cfg;
	void *data, *data_end;
	struct ethhdr *eth;
	int inner_len;
	__u32 hlen;
	long rc;

	cfg = es_mig_cfg();
	if (!cfg || !cfg->tunnel_port)
		return -1;
	hlen = es_mig_encap_len(cfg->local_addr, dst);
	if (!hlen || bpf_xdp_adjust_head(ctx, -(int)hlen))
		return -1;
	inner_len = es_mig_outer_xdp(ctx, hlen, cfg, dst, seq, base);
	if (inner_len < 0)
		return -1;
	es_mig_fib_init(&fib, ctx->ingress_ifindex, cfg->local_addr, dst, hlen + inner_len);
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, fib.dmac, 6);
	__builtin_memcpy(eth->h_source, fib.smac, 6);
	eth->h_proto = hlen == ES_MIG_ENCAP6_LEN ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	*act = fib.ifindex == ctx->ingress_ifindex ? XDP_TX : bpf_redirect(fib.ifindex, 0);
	return 0;
}

/* Copy request seq into the replay buffer: 0, or why it cannot be. */
static __always_inline int es_mig_mirror(void *ctx, bool skb, struct es_mig_session *s,
					 const struct es_mig_key *k, __u64 seq, __u32 len)
{
	struct es_mig_record *rec = NULL;
	long err = -1;
	int reason;

	reason = es_mig_record_new(s, k, seq, len, &rec);
	if (reason)
		return reason;
	if (!rec)
		return ES_MIG_ABORT_TOO_BIG;
	/* skb is a constant in each caller: only one helper is ever reached. */
	if (len && len <= ES_MIG_RECORD_BYTES)
		err = skb ? bpf_skb_load_bytes(ctx, ES_ETH_HLEN, rec->data, len) :
			    bpf_xdp_load_bytes(ctx, ES_ETH_HLEN, rec->data, len);
	/*
	 * Published last, by an exchange (ordered after the copy on every
	 * architecture): the request's number was taken before its record was
	 * made, so the agent may read the record while this runs on another
	 * CPU, and must never take a half-copied request for the user's. A
	 * copy that failed says so (readers wait for one still being made).
	 */
	__sync_lock_test_and_set(&rec->len, err ? ES_MIG_NO_COPY : len);
	if (err)
		return ES_MIG_ABORT_TOO_BIG;
	__sync_fetch_and_add(&s->mirrored, 1);
	return 0;
}

enum es_mig_verdict { ES_MIG_V_PASS, ES_MIG_V_DROP, ES_MIG_V_FORWARD };

/*
 * What becomes of a user's request (k, IP length len) at the target: the
 * part both receive hooks share. *sp and *seqp are set for ES_MIG_V_FORWARD.
 */
static __always_inline int es_mig_decide(void *ctx, bool skb, const struct es_mig_key *k,
					 __u32 len, struct es_mig_session **sp, __u64 *seqp)
{
	struct es_mig_session *s;
	bool held = false;
	__u64 old, seq;
	__u32 st;
	int reason;

	s = bpf_map_lookup_elem(&es_mig_sessions, k);
	if (!s) {
		s = es_mig_detect(k, &held);
		if (!s)
			return held ? ES_MIG_V_DROP : ES_MIG_V_PASS;
	}
	/* One atomic gives the request its number and the state it met. */
	old = __sync_fetch_and_add(&s->seq_state, 1);
	st = es_mig_state_of(old);
	seq = (old & ES_MIG_SEQ_MASK) + 1;
	*sp = s;
	*seqp = seq;
	switch (st) {
	case ES_MIG_FORWARDING:
	case ES_MIG_HOLD:
	case ES_MIG_REPLAYING:
		if (!(s->flags & ES_MIG_F_MIRROR))
			return ES_MIG_V_FORWARD;
		reason = es_mig_mirror(ctx, skb, s, k, seq, len);
		if (reason) {
			/* Not buffered: it must reach the source now, whatever the state. */
			es_mig_abort(s, k, reason);
			return ES_MIG_V_FORWARD;
		}
		if (st == ES_MIG_HOLD) {
			/* Buffered; the agent sends it after the checkpoint, in order. */
			__sync_fetch_and_add(&s->held, 1);
			return ES_MIG_V_DROP;
		}
		return ES_MIG_V_FORWARD;
	case ES_MIG_ABORTED:
		/* kept until the source acknowledges it: the WAN may lose it on the way */
		if (s->flags & ES_MIG_F_MIRROR)
			es_mig_mirror(ctx, skb, s, k, seq, len);
		return ES_MIG_V_FORWARD;
	case ES_MIG_CUTOVER:
		__sync_fetch_and_add(&s->passed_local, 1);
		return ES_MIG_V_PASS;
	default:
		return ES_MIG_V_PASS;
	}
}

/* No migration on this node: one array lookup, not two hash lookups per packet. */
static __always_inline bool es_mig_inactive(void)
{
	struct es_mig_node_config *cfg = es_mig_cfg();

	return !cfg || !cfg->active;
}

/* Target side, XDP: a user's request. */
static __noinline int es_mig_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct es_mig_session *s = NULL;
	struct es_mig_key k;
	__u32 len, act = XDP_DROP;
	__u64 seq = 0;
	int v;

	if (es_mig_inactive())
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end ||
	    (eth->h_proto != bpf_htons(ETH_P_IP) && eth->h_proto != bpf_htons(ETH_P_IPV6)))
		return XDP_PASS;
	if (es_mig_key_of(eth + 1, data_end, false, &k, &len))
		return XDP_PASS;
	/* the Ethernet type says the family: a packet of the other is not one */
	if (es_mig_addr_is4(k.svc_addr) != (eth->h_proto == bpf_htons(ETH_P_IP)))
		return XDP_PASS;
	v = es_mig_decide(ctx, false, &k, len, &s, &seq);
	if (v == ES_MIG_V_PASS)
		return XDP_PASS;
	if (v == ES_MIG_V_DROP || !s)
		return XDP_DROP;
	if (es_mig_encap_xdp(ctx, s->source_addr, seq, (__u32)s->fwd_base, &act)) {
		/* Headers may be half built: the request cannot pass as it came. */
		__sync_fetch_and_add(&s->fwd_errors, 1);
		return XDP_DROP;
	}
	__sync_fetch_and_add(&s->forwarded, 1);
	return act;
}

/*
 * Target side: a reply of the old container came back (UDP or TCP), the
 * user's packet after the tunnel's headers; true to drop it. A call of its
 * own, the key on its own stack: the TCP check's hash loop is called from
 * here, and the verifier counts every frame of that chain against 512
 * bytes.
 */
static __noinline bool es_mig_old_drop(struct xdp_md *ctx, __u64 seq, __u32 ack, bool v6)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hlen = v6 ? ES_MIG_ENCAP6_LEN : ES_MIG_ENCAP_LEN;
	struct es_mig_session *s;
	struct es_mig_key k;
	__u32 len;

	if (es_mig_key_of(data + ES_ETH_HLEN + hlen, data_end, true, &k, &len))
		return false;
	s = es_mig_old_seen(&k, seq, ack);
	if (!s)
		return true;
	if (k.proto != IPPROTO_TCP)
		return es_mig_old_reply(s, &k, seq, ctx, ES_ETH_HLEN + hlen);
	return es_mig_tcp_old(ctx, s, &k, ES_ETH_HLEN + hlen);
}

/*
 * Source side: a user's request forwarded by peer; true to drop it (a
 * duplicate, or kept for the agent to deliver in sequence).
 */
static __noinline bool es_mig_remote_request(struct xdp_md *ctx, const __u32 *peer, __u64 seq,
					     __u32 base, bool v6)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hlen = v6 ? ES_MIG_ENCAP6_LEN : ES_MIG_ENCAP_LEN;
	struct es_mig_held *held;
	struct es_mig_key k;
	bool drop;
	__u32 len;

	if (es_mig_key_of(data + ES_ETH_HLEN + hlen, data_end, false, &k, &len))
		return false;
	held = es_mig_remote_seen(&k, peer, seq, base, len, &drop);
	if (drop)
		return true;
	if (!held)
		return false;
	/*
	 * Kept at the source: the agent delivers it in sequence, maybe while
	 * this runs (its drain reads what it finds): len last, as a record's.
	 * One not copied is reported, never delivered as junk.
	 */
	if (!len || len > ES_MIG_RECORD_BYTES ||
	    bpf_xdp_load_bytes(ctx, ES_ETH_HLEN + hlen, held->data, len))
		len = ES_MIG_NO_COPY;
	__sync_lock_test_and_set(&held->len, len);
	return true;
}

/* What es_mig_decap needs of a tunnel packet's outer headers. */
struct es_mig_tun_in {
	__u32	peer[4];	/* the sending node's tunnel address (IPv6, or IPv4 mapped) */
	__u64	seq;		/* the tunnel header's, host order */
	__u32	base;		/* the same */
	__u32	type;		/* es_mig_tun_type */
	__u32	v6;		/* 1: IPv6 outer headers (ES_MIG_ENCAP6_LEN) */
	__u32	reserved;
};

/*
 * The outer IPv4 headers of a frame: 0 when they are the tunnel's towards
 * this node (t->peer set), -1 when not.
 */
static __always_inline int es_mig_outer4_for_us(void *data, void *data_end,
						const struct es_mig_node_config *cfg,
						struct es_mig_tun_in *t)
{
	struct es_mig_outer *o = data + ES_ETH_HLEN;

	if ((void *)(o + 1) > data_end)
		return -1;
	if (o->ip.version != 4 || o->ip.ihl != 5 || o->ip.protocol != IPPROTO_UDP)
		return -1;
	if (!es_mig_addr_is4(cfg->local_addr) || o->ip.daddr != cfg->local_addr[3] ||
	    o->udp.dest != cfg->tunnel_port)
		return -1;
	es_mig_addr4(t->peer, o->ip.saddr);
	t->v6 = 0;
	return 0;
}

/* The same for IPv6 outer headers (no extension headers: the tunnel sends none). */
static __always_inline int es_mig_outer6_for_us(void *data, void *data_end,
						const struct es_mig_node_config *cfg,
						struct es_mig_tun_in *t)
{
	struct es_mig_outer6 *o = data + ES_ETH_HLEN;
	__u32 dst[4];

	if ((void *)(o + 1) > data_end)
		return -1;
	if (o->ip6.version != 6 || o->ip6.nexthdr != IPPROTO_UDP ||
	    o->udp.dest != cfg->tunnel_port || es_mig_addr_is4(cfg->local_addr))
		return -1;
	__builtin_memcpy(dst, &o->ip6.daddr, sizeof(dst));
	if (!es_mig_addr_eq(dst, cfg->local_addr))
		return -1;
	__builtin_memcpy(t->peer, &o->ip6.saddr, sizeof(t->peer));
	t->v6 = 1;
	return 0;
}

/*
 * A frame's tunnel fields: 0 when it is a tunnel packet for this node, -1
 * when it is not one, XDP_DROP when it is one with a header we do not know.
 */
static __always_inline int es_mig_tun_parse(struct xdp_md *ctx, struct es_mig_tun_in *t)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct es_mig_node_config *cfg = es_mig_cfg();
	struct ethhdr *eth = data;
	struct es_mig_tunhdr *tun;
	int ret;

	if (!cfg || !cfg->tunnel_port || (void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		ret = es_mig_outer4_for_us(data, data_end, cfg, t);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		ret = es_mig_outer6_for_us(data, data_end, cfg, t);
	else
		ret = -1;
	if (ret)
		return ret;
	tun = data + ES_ETH_HLEN + (t->v6 ? ES_MIG_ENCAP6_LEN : ES_MIG_ENCAP_LEN) - sizeof(*tun);
	if ((void *)(tun + 1) > data_end)
		return -1;
	if (tun->magic != bpf_htons(ES_MIG_TUN_MAGIC) || tun->version != ES_MIG_TUN_VERSION)
		return XDP_DROP;
	t->seq = bpf_be64_to_cpu(tun->seq);
	t->base = bpf_ntohl(tun->base);
	t->type = tun->type;
	return 0;
}

/*
 * A tunnel packet for this node: note it, strip the outer headers and pass
 * the user's packet to the stack. -1 when the packet is not one.
 */
static __noinline int es_mig_decap(struct xdp_md *ctx)
{
	struct es_mig_tun_in t;
	struct ethhdr *eth, copy;
	void *data, *data_end;
	__u32 hlen;
	__u8 *inner;
	int ret;

	ret = es_mig_tun_parse(ctx, &t);
	if (ret)
		return ret;
	if (t.type == ES_MIG_TUN_REQUEST) {
		if (es_mig_remote_request(ctx, t.peer, t.seq, t.base, t.v6))
			return XDP_DROP;
	} else if (t.type == ES_MIG_TUN_REPLY) {
		if (es_mig_old_drop(ctx, t.seq, t.base, t.v6))
			return XDP_DROP;
	} else {
		return XDP_DROP;
	}
	hlen = t.v6 ? ES_MIG_ENCAP6_LEN : ES_MIG_ENCAP_LEN;
	/* the calls above may have moved the frame's pointers for the verifier */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	inner = data + ES_ETH_HLEN + hlen;
	if ((void *)(inner + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(&copy, eth, sizeof(copy));
	/* either family inside either family */
	copy.h_proto = (*inner >> 4) == 6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	if (bpf_xdp_adjust_head(ctx, hlen))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth, &copy, sizeof(copy));
	return XDP_PASS;
}

/* A call of its own: its stack and the forwarding path's are never live together. */
static __noinline void es_mig_account(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	es_account(data, data_end, ctx->ingress_ifindex, ES_DIR_RX, data_end - data, 1);
}

SEC("xdp")
int es_mig_xdp_ingress(struct xdp_md *ctx)
{
	int act;

	es_mig_account(ctx);
	act = es_mig_ingress(ctx);
	/* to the local container: in its own sequence space if it has one */
	if (act == XDP_PASS && es_mig_xlate_on())
		es_mig_xlate_frame(ctx, false, true);
	return act;
}

SEC("xdp")
int es_mig_xdp_wan(struct xdp_md *ctx)
{
	int act;

	es_mig_account(ctx);
	act = es_mig_decap(ctx);
	return act < 0 ? XDP_PASS : act;
}

/*
 * Put the tunnel headers in front of an skb's IP packet and send it to
 * dst: TC_ACT_REDIRECT, or TC_ACT_SHOT when it cannot be.
 */
/* The headers es_mig_encap_skb puts in, either family. */
union es_mig_outer_any {
	struct es_mig_outer	v4;
	struct es_mig_outer6	v6;
};

static __noinline int es_mig_encap_skb(struct __sk_buff *skb, const __u32 *dst, __u64 seq,
					__u32 type, __u32 base)
{
	struct bpf_fib_lookup fib;
	struct es_mig_node_config *cfg;
	union es_mig_outer_any o;
	__u32 inner_len, hlen;
	__u64 flags;

	cfg = es_mig_cfg();
	if (!cfg || !cfg->tunnel_port)
		return TC_ACT_SHOT;
	hlen = es_mig_encap_len(cfg->local_addr, dst);
	if (!hlen)
		return TC_ACT_SHOT;
	inner_len = skb->len - ES_ETH_HLEN;
	if (hlen == ES_MIG_ENCAP6_LEN) {
		es_mig_outer6_fill(&o.v6, cfg->local_addr, dst, cfg->tunnel_port, inner_len, type,
				   seq, base);
		flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
	} else {
		es_mig_outer_fill(&o.v4, cfg->local_addr, dst, cfg->tunnel_port, inner_len, type,
				  seq, base);
		flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
	}
	es_mig_fib_init(&fib, skb->ifindex, cfg->local_addr, dst, hlen + inner_len);
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_SHOT;
	if (bpf_skb_adjust_room(skb, hlen, BPF_ADJ_ROOM_MAC, flags))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, ES_ETH_HLEN, &o, hlen, 0))
		return TC_ACT_SHOT;
	/* The neighbour subsystem fills the Ethernet header, resolving it if needed. */
	return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
}

/* Source side: keep a copy of reply seq, for the target to ask again if the WAN loses it. */
static __always_inline void es_mig_keep_sent(struct __sk_buff *skb, const struct es_mig_key *k,
					     __u64 seq)
{
	struct es_mig_record_key sk = {};
	struct es_mig_held *h;
	__u32 len = skb->len - ES_ETH_HLEN;

	sk.session = *k;
	sk.seq = seq;
	if (len == 0 || len > ES_MIG_RECORD_BYTES) {
		/* no copy, and none of an earlier tunnel's under this ordinal either */
		bpf_map_delete_elem(&es_mig_sent, &sk);
		return;
	}
	if (bpf_map_update_elem(&es_mig_sent, &sk, &es_mig_held_zero, BPF_ANY))
		return;
	h = bpf_map_lookup_elem(&es_mig_sent, &sk);
	if (!h)
		return;
	if (bpf_skb_load_bytes(skb, ES_ETH_HLEN, h->data, len)) {
		bpf_map_delete_elem(&es_mig_sent, &sk);
		return;
	}
	h->seq = seq;
	h->ts_ns = bpf_ktime_get_ns();
	/* last, as a record's: a resend may read the copy while this runs */
	__sync_lock_test_and_set(&h->len, len);
}

/* Source side: send a reply of the old container back to the user's node. */
static __always_inline int es_mig_encap_reply(struct __sk_buff *skb, struct es_mig_remote *r,
					      const struct es_mig_key *k)
{
	__u64 seq = __sync_fetch_and_add(&r->replies, 1) + 1;
	int act;

	/* TCP recovers its own segments: no copy to send again */
	if (k->proto != IPPROTO_TCP)
		es_mig_keep_sent(skb, k, seq);
	/* base: what the old container got in sequence, so the target can let go of it */
	act = es_mig_encap_skb(skb, r->peer_addr, seq, ES_MIG_TUN_REPLY, (__u32)r->last_seq);

	if (act == TC_ACT_SHOT)
		__sync_fetch_and_add(&r->errors, 1);
	return act;
}

/*
 * The session key of an skb's UDP or TCP packet, IPv4 or IPv6 (reply: from
 * the service), read with bpf_skb_load_bytes; 0, or -1 when it is not one.
 */
static __always_inline int es_mig_skb_key(struct __sk_buff *skb, bool reply,
					  struct es_mig_key *k, __u32 *len)
{
	struct es_mig_l3 l;
	struct udphdr uh;
	__u16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) ||
	    (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6)))
		return -1;
	if (es_mig_l3_load(skb, true, ES_ETH_HLEN, &l) ||
	    (l.proto != IPPROTO_UDP && l.proto != IPPROTO_TCP) ||
	    l.v6 != (proto == bpf_htons(ETH_P_IPV6)))
		return -1;
	/* both headers start with the two ports */
	if (bpf_skb_load_bytes(skb, ES_ETH_HLEN + (l.hlen & 0x3f), &uh, sizeof(uh)))
		return -1;
	if (es_mig_key_ports(&l, &uh, reply, k) ||
	    es_mig_addrs_load(skb, true, ES_ETH_HLEN, &l, reply, k))
		return -1;
	*len = l.tot;
	/* A GSO super-packet is several requests: it cannot be one record. */
	if (skb->gso_segs > 1 || *len > skb->len - ES_ETH_HLEN)
		*len = ES_MIG_RECORD_BYTES + 1;
	return 0;
}

/* Target side, tcx: a user's request (for veth, where XDP costs the peer its GSO). */
static __noinline int es_mig_tc_request(struct __sk_buff *skb)
{
	struct es_mig_session *s = NULL;
	struct es_mig_key k;
	__u64 seq = 0;
	__u32 len;
	int v, act;

	if (es_mig_inactive() || es_mig_skb_key(skb, false, &k, &len))
		return TC_ACT_UNSPEC;
	v = es_mig_decide(skb, true, &k, len, &s, &seq);
	if (v == ES_MIG_V_PASS)
		return TC_ACT_UNSPEC;
	if (v == ES_MIG_V_DROP || !s)
		return TC_ACT_SHOT;
	act = es_mig_encap_skb(skb, s->source_addr, seq, ES_MIG_TUN_REQUEST, (__u32)s->fwd_base);
	__sync_fetch_and_add(act == TC_ACT_SHOT ? &s->fwd_errors : &s->forwarded, 1);
	return act;
}

/*
 * The same as es_mig_xdp_ingress on tcx ingress, without the accounting:
 * tcx runs several programs on one hook, so the accounting agent's own
 * es_tc_ingress stays attached next to it.
 */
SEC("tcx/ingress")
int es_mig_tc_ingress(struct __sk_buff *skb)
{
	int act = es_mig_tc_request(skb);

	if (act == TC_ACT_UNSPEC && es_mig_xlate_on())
		es_mig_xlate_frame(skb, true, true);
	return act;
}

/*
 * Take a segment of the restored container out of the way without telling
 * its socket: a drop (TC_ACT_SHOT) reaches TCP as a failed transmission,
 * and it would never count those bytes sent (its snd_nxt would stay, the
 * user's ACKs be refused); tcx passes TC_ACT_STOLEN on as "next". A
 * redirect is reported sent to the sender whatever becomes of it, and one
 * to ifindex 0, which no device has, ends in a drop.
 */
static __always_inline int es_mig_take(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_redirect(0, 0);
}

/* A container's reply: claim it (target) or send it back through the tunnel (source). */
static __always_inline int es_mig_ctr_reply(struct __sk_buff *skb)
{
	struct es_mig_session *s;
	struct es_mig_remote *r;
	struct es_mig_key k;
	__u32 len;

	if (es_mig_skb_key(skb, true, &k, &len))
		return TC_ACT_UNSPEC;
	s = bpf_map_lookup_elem(&es_mig_sessions, &k);
	if (s && k.proto == IPPROTO_TCP)
		return es_mig_tcp_new(skb, s, &k) ? es_mig_take(skb) : TC_ACT_UNSPEC;
	if (s)
		return es_mig_new_reply(s, &k, skb) ? TC_ACT_SHOT : TC_ACT_UNSPEC;
	r = bpf_map_lookup_elem(&es_mig_remote, &k);
	if (r)
		return es_mig_encap_reply(skb, r, &k);
	return TC_ACT_UNSPEC;
}

/* A reply leaving a container, seen at its host-side interface. */
SEC("tcx/ingress")
int es_mig_tc_ctr(struct __sk_buff *skb)
{
	/* first: suppression and hashing compare it with the old stream, in the old space */
	if (es_mig_xlate_on())
		es_mig_xlate_frame(skb, true, false);
	return es_mig_ctr_reply(skb);
}

/*
 * A container sharing the node's network namespace (the agent's runc
 * containers) has no host-side interface: its replies are seen leaving
 * the users' interface. Only locally sent packets are the container's;
 * forwarded ones (the old container's replies, decapsulated and claimed by
 * es_mig_xdp_wan) have an ingress interface and pass.
 */
SEC("tcx/egress")
int es_mig_tc_egress(struct __sk_buff *skb)
{
	if (skb->ingress_ifindex)
		return TC_ACT_UNSPEC;
	if (es_mig_xlate_on())
		es_mig_xlate_frame(skb, true, false);
	return es_mig_ctr_reply(skb);
}

/* ---- es_mig_ctl ---- */

static __always_inline int es_mig_ctl_create(struct es_mig_cmd *cmd, struct es_mig_key *k)
{
	struct es_mig_session ns = {};
	struct es_mig_node_config *cfg;

	if (cmd->to >= ES_MIG_STATE_MAX)
		return -EINVAL;
	ns.seq_state = (__u64)cmd->to << ES_MIG_STATE_SHIFT;
	es_mig_addr_cpy(ns.source_addr, cmd->source_addr);
	ns.flags = cmd->flags;
	ns.replay_limit = cmd->replay_limit;
	if (!ns.replay_limit) {
		cfg = es_mig_cfg();
		ns.replay_limit = cfg ? cfg->default_replay_limit : 0;
	}
	ns.created_ns = bpf_ktime_get_ns();
	ns.changed_ns = ns.created_ns;
	if (bpf_map_update_elem(&es_mig_sessions, k, &ns, BPF_NOEXIST))
		return -EEXIST;
	cmd->seq_state = ns.seq_state;
	return 0;
}

/* State change that cannot cross a request: compare-and-swap on seq_state. */
static __always_inline int es_mig_ctl_set_state(struct es_mig_cmd *cmd, struct es_mig_session *s)
{
	__u64 old, new, expect = cmd->expect_seq;
	__u32 to = cmd->to;
	int i;

	if (to >= ES_MIG_STATE_MAX)
		return -EINVAL;
	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		old = es_mig_seq_state(s);
		cmd->seq_state = old;
		if (es_mig_state_of(old) != cmd->from)
			return -ESTALE;
		if (expect != ES_MIG_ANY_SEQ && (old & ES_MIG_SEQ_MASK) != expect)
			return -EAGAIN;
		new = ((__u64)to << ES_MIG_STATE_SHIFT) | (old & ES_MIG_SEQ_MASK);
		if (__sync_val_compare_and_swap(&s->seq_state, old, new) != old)
			continue;
		if (to == ES_MIG_HOLD)
			s->hold_seq = old & ES_MIG_SEQ_MASK;
		/* Taking over a session that passed locally: the source's first is the next. */
		if (cmd->from == ES_MIG_NONE && to == ES_MIG_FORWARDING)
			s->fwd_base = old & ES_MIG_SEQ_MASK;
		if (to == ES_MIG_CUTOVER)
			es_mig_cut_mark(s, old & ES_MIG_SEQ_MASK);
		s->changed_ns = bpf_ktime_get_ns();
		cmd->seq_state = new;
		return 0;
	}
	return -EAGAIN;
}

/* Abort is refused after cut-over: the old container may be gone by then. */
static __always_inline int es_mig_ctl_abort(struct es_mig_cmd *cmd, struct es_mig_session *s)
{
	__u64 old, new;
	__u32 st;
	int i;

	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		old = es_mig_seq_state(s);
		cmd->seq_state = old;
		st = es_mig_state_of(old);
		if (st == ES_MIG_ABORTED)
			return 0;
		if (st == ES_MIG_NONE || st == ES_MIG_CUTOVER)
			return -ESTALE;
		new = ((__u64)ES_MIG_ABORTED << ES_MIG_STATE_SHIFT) | (old & ES_MIG_SEQ_MASK);
		if (__sync_val_compare_and_swap(&s->seq_state, old, new) != old)
			continue;
		s->abort_seq = old & ES_MIG_SEQ_MASK;
		if (st == ES_MIG_HOLD)
			__sync_fetch_and_or(&s->flags, ES_MIG_F_ABORT_HELD);
		s->abort_reason = ES_MIG_ABORT_AGENT;
		s->changed_ns = bpf_ktime_get_ns();
		cmd->seq_state = new;
		return 0;
	}
	return -EAGAIN;
}

/* A retry after a failed migration goes on with the same numbering (ES_MIG_CMD_RESTART). */
static __always_inline int es_mig_ctl_restart(struct es_mig_cmd *cmd, struct es_mig_session *s)
{
	__u64 old, new, seq;
	int i;

	if (s->flags & ES_MIG_F_ABORT_HELD)
		return -EAGAIN;
	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		old = es_mig_seq_state(s);
		cmd->seq_state = old;
		if (es_mig_state_of(old) != ES_MIG_ABORTED)
			return -ESTALE;
		seq = old & ES_MIG_SEQ_MASK;
		/* Nothing past seq is buffered yet: set the window before requests meet it. */
		s->cursor = seq;
		s->replayed = seq;
		s->new_replies = 0;
		/* as SET_CURSOR; the retry's cursor step sets the source's count */
		s->reply_base = seq;
		s->claims_failed = 0;
		s->replies_diverged = 0;
		s->flags = cmd->flags;
		if (es_mig_addr_set(cmd->source_addr))
			es_mig_addr_cpy(s->source_addr, cmd->source_addr);
		if (cmd->replay_limit)
			s->replay_limit = cmd->replay_limit;
		new = ((__u64)ES_MIG_FORWARDING << ES_MIG_STATE_SHIFT) | seq;
		if (__sync_val_compare_and_swap(&s->seq_state, old, new) != old)
			continue;
		s->cut_seq = 0;
		s->hold_seq = 0;
		s->abort_seq = 0;
		s->abort_reason = ES_MIG_ABORT_NONE;
		s->suppressed_old = 0;
		s->suppressed_new = 0;
		es_mig_tcp_restart(s, &cmd->key);
		s->changed_ns = bpf_ktime_get_ns();
		cmd->seq_state = new;
		return 0;
	}
	return -EAGAIN;
}

/* ---- es_mig_ctl, source side: the hold word of es_mig_remote ---- */

static __always_inline int es_mig_ctl_src_hold(struct es_mig_cmd *cmd, struct es_mig_key *k)
{
	struct es_mig_remote *r, nr = {};
	__u64 old, new;
	int i;

	r = bpf_map_lookup_elem(&es_mig_remote, k);
	if (!r) {
		es_mig_addr_cpy(nr.peer_addr, cmd->source_addr);
		nr.flags = ES_MIG_RF_NO_BASE;
		nr.created_ns = bpf_ktime_get_ns();
		bpf_map_update_elem(&es_mig_remote, k, &nr, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&es_mig_remote, k);
		if (!r)
			return -ENOENT;
	}
	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		old = *(volatile __u64 *)&r->hold;
		cmd->seq_state = old;
		/* A gap being filled holds too: the agent delivers nothing while HOLD. */
		if (old >> ES_MIG_STATE_SHIFT == ES_MIG_SRC_HOLD)
			return -ESTALE;
		new = ((__u64)ES_MIG_SRC_HOLD << ES_MIG_STATE_SHIFT) | (old & ES_MIG_SEQ_MASK);
		if (__sync_val_compare_and_swap(&r->hold, old, new) != old)
			continue;
		r->hold_at = r->delivered;
		r->hold_ns = bpf_ktime_get_ns();
		cmd->seq_state = new;
		return 0;
	}
	return -EAGAIN;
}

/*
 * Open again only when no request arrived since the agent last looked and
 * every kept one was delivered; a request still missing leaves REORDER
 * (-EINPROGRESS), where the agent goes on filling the gap.
 */
static __always_inline int es_mig_ctl_src_release(struct es_mig_cmd *cmd, struct es_mig_key *k)
{
	struct es_mig_remote *r = bpf_map_lookup_elem(&es_mig_remote, k);
	__u64 old, new;
	__u32 st, to;
	int i;

	if (!r)
		return -ENOENT;
	for (i = 0; i < ES_MIG_CAS_TRIES; i++) {
		old = *(volatile __u64 *)&r->hold;
		cmd->seq_state = old;
		st = old >> ES_MIG_STATE_SHIFT;
		if (st != ES_MIG_SRC_HOLD && st != ES_MIG_SRC_REORDER)
			return -ESTALE;
		if (cmd->expect_seq != ES_MIG_ANY_SEQ && (old & ES_MIG_SEQ_MASK) != cmd->expect_seq)
			return -EAGAIN;
		to = r->held > r->released ? ES_MIG_SRC_REORDER : ES_MIG_SRC_OPEN;
		new = ((__u64)to << ES_MIG_STATE_SHIFT) | (old & ES_MIG_SEQ_MASK);
		if (__sync_val_compare_and_swap(&r->hold, old, new) != old)
			continue;
		r->hold_ns = bpf_ktime_get_ns();
		cmd->seq_state = new;
		return to == ES_MIG_SRC_OPEN ? 0 : -EINPROGRESS;
	}
	return -EAGAIN;
}

/* The agent delivered kept request value: the next in sequence, or -ESTALE. */
static __always_inline int es_mig_ctl_src_delivered(struct es_mig_cmd *cmd,
						    struct es_mig_remote *r)
{
	if (cmd->value != r->last_seq + 1)
		return -ESTALE;
	r->last_seq = cmd->value;
	__sync_fetch_and_add(&r->delivered, 1);
	__sync_fetch_and_add(&r->released, 1);
	return 0;
}

/* The agent delivered kept request value after a later one (ES_MIG_CMD_SRC_LATE). */
static __always_inline int es_mig_ctl_src_late(struct es_mig_cmd *cmd, struct es_mig_remote *r)
{
	if (cmd->value > r->last_seq)
		return -ESTALE;
	__sync_fetch_and_add(&r->delivered, 1);
	__sync_fetch_and_add(&r->released, 1);
	return 0;
}

/* Missing requests up to value are given up: they never reach the old container. */
static __always_inline int es_mig_ctl_src_skip(struct es_mig_cmd *cmd, struct es_mig_remote *r)
{
	if (cmd->value <= r->last_seq)
		return -ESTALE;
	__sync_fetch_and_add(&r->skipped, cmd->value - r->last_seq);
	r->last_seq = cmd->value;
	__sync_fetch_and_or(&r->flags, ES_MIG_RF_SKIPPED);
	return 0;
}

static __always_inline int es_mig_ctl_src(struct es_mig_cmd *cmd, struct es_mig_key *k)
{
	struct es_mig_remote *r;

	if (cmd->op == ES_MIG_CMD_SRC_HOLD)
		return es_mig_ctl_src_hold(cmd, k);
	if (cmd->op == ES_MIG_CMD_SRC_RELEASE)
		return es_mig_ctl_src_release(cmd, k);
	r = bpf_map_lookup_elem(&es_mig_remote, k);
	if (!r)
		return -ENOENT;
	cmd->seq_state = r->hold;
	if (cmd->op == ES_MIG_CMD_SRC_DELIVERED)
		return es_mig_ctl_src_delivered(cmd, r);
	if (cmd->op == ES_MIG_CMD_SRC_SKIP)
		return es_mig_ctl_src_skip(cmd, r);
	if (cmd->op == ES_MIG_CMD_SRC_LATE)
		return es_mig_ctl_src_late(cmd, r);
	__sync_fetch_and_and(&r->flags, ~(__u32)cmd->value);
	return 0;
}

SEC("syscall")
int es_mig_ctl(struct es_mig_cmd *cmd)
{
	struct es_mig_session *s;
	struct es_mig_key k;

	__builtin_memcpy(&k, &cmd->key, sizeof(k));
	if ((cmd->op >= ES_MIG_CMD_SRC_HOLD && cmd->op <= ES_MIG_CMD_SRC_CLEAR) ||
	    cmd->op == ES_MIG_CMD_SRC_DELIVERED || cmd->op == ES_MIG_CMD_SRC_SKIP ||
	    cmd->op == ES_MIG_CMD_SRC_LATE)
		return es_mig_ctl_src(cmd, &k);
	if (cmd->op == ES_MIG_CMD_CREATE)
		return es_mig_ctl_create(cmd, &k);
	if (cmd->op == ES_MIG_CMD_DELETE)
		return bpf_map_delete_elem(&es_mig_sessions, &k) ? -ENOENT : 0;
	s = bpf_map_lookup_elem(&es_mig_sessions, &k);
	if (!s)
		return -ENOENT;
	switch (cmd->op) {
	case ES_MIG_CMD_SET_STATE:
		return es_mig_ctl_set_state(cmd, s);
	case ES_MIG_CMD_SET_CURSOR:
		/* one reply per request until the source tells its count (SET_REPLY_BASE) */
		s->cursor = cmd->value;
		s->reply_base = cmd->value;
		break;
	case ES_MIG_CMD_SET_REPLAYED:
		s->replayed = cmd->value;
		break;
	case ES_MIG_CMD_SET_REPLY_BASE:
		s->reply_base = cmd->value;
		break;
	case ES_MIG_CMD_ABORT:
		return es_mig_ctl_abort(cmd, s);
	case ES_MIG_CMD_RESTART:
		return es_mig_ctl_restart(cmd, s);
	case ES_MIG_CMD_REPLY_SKIP:
		/* user space counted the ones given up (replies_lost) */
		if (cmd->value <= s->old_base)
			return -ESTALE;
		s->old_base = cmd->value;
		s->replies_lost += cmd->expect_seq;
		es_mig_rseen_advance(s, &k);
		break;
	case ES_MIG_CMD_CONFIGURE:
		s->flags = cmd->flags;
		if (es_mig_addr_set(cmd->source_addr))
			es_mig_addr_cpy(s->source_addr, cmd->source_addr);
		if (cmd->replay_limit)
			s->replay_limit = cmd->replay_limit;
		break;
	default:
		return -EINVAL;
	}
	cmd->seq_state = es_mig_seq_state(s);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
