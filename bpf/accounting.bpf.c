// SPDX-License-Identifier: GPL-2.0-only
/*
 * Entry points of the accounting data plane: XDP (or tcx, see
 * es_tc_ingress) on ingress and tcx on egress of every interface the agent
 * attaches to. All only read the packet and always let it pass.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
/* Sessions in the session maps unless the loader turns the slot table on. */
#define ES_TBL_ON_DEFAULT	0
#include "lib/slot_table.h"

#define TC_ACT_UNSPEC	(-1)

/* Headers the parser must see in the linear part of an skb. */
#define ES_PULL_LEN	256

/*
 * Load a __sk_buff field with one instruction. clang otherwise folds field
 * offsets into registers when the loads follow a helper call, and the
 * verifier refuses a context pointer that carries an offset.
 */
#define es_skb_field(skb, field) ({					\
	__u64 __v;							\
	asm volatile("%[v] = *(u32 *)(%[ctx] + %[off])"			\
		     : [v] "=r"(__v)					\
		     : [ctx] "r"(skb),					\
		       [off] "i"(__builtin_offsetof(struct __sk_buff, field))); \
	(void *)(long)__v;						\
})

/*
 * Close events are built on the stack, which gives their type no BTF; this
 * read-only instance puts struct es_close_event into the object's BTF so the
 * layout test and bpftool can see it.
 */
const volatile struct es_close_event es_close_event_btf;

SEC("xdp")
int es_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	es_account(data, data_end, ctx->ingress_ifindex, ES_DIR_RX,
		   data_end - data, 1);
	return XDP_PASS;
}

/*
 * tcx sees an skb with its Ethernet header in front (tcx pushes it back at
 * ingress) and, for GSO and GRO packets, a super-packet of gso_segs wire
 * segments. The headers are parsed where they are and pulled into the
 * linear part only when one runs past it, then parsed again: the stack
 * builds a sent packet's headers there and GRO keeps them there, with the
 * payload in page fragments, so a TCP super-packet's linear part is its
 * headers alone. Pulling ES_PULL_LEN bytes whatever the packet copied
 * payload into it, and on TCP's clones (it transmits clones of its queue)
 * made a private copy of the head first, on every super-packet.
 */
static __always_inline void es_tc_account(struct __sk_buff *skb, __u32 dir)
{
	__u32 len = skb->len, segs = skb->gso_segs, ifindex = skb->ifindex;
	__u32 pull = len < ES_PULL_LEN ? len : ES_PULL_LEN;
	struct es_ctx c;
	int skip;

	es_account_init(&c, ifindex, dir, segs);
	skip = es_account_parse(&c, es_skb_field(skb, data), es_skb_field(skb, data_end));
	if (skip == ES_SKIP_TRUNCATED && skb->data_end - skb->data < pull) {
		bpf_skb_pull_data(skb, pull);
		skip = es_account_parse(&c, es_skb_field(skb, data), es_skb_field(skb, data_end));
	}
	if (es_account_begin(&c, skip, len))
		es_account_session(&c);
}

SEC("tcx/egress")
int es_tc_egress(struct __sk_buff *skb)
{
	es_tc_account(skb, ES_DIR_TX);
	return TC_ACT_UNSPEC;
}

/*
 * Receive hook for interfaces where XDP costs more than it saves: on a veth,
 * an XDP program turns off GSO on the peer, so every segment travels alone.
 */
SEC("tcx/ingress")
int es_tc_ingress(struct __sk_buff *skb)
{
	es_tc_account(skb, ES_DIR_RX);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
