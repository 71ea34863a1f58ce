// SPDX-License-Identifier: GPL-2.0-only
/*
 * The floor under per-packet accounting, for es-bench-xdp only (column
 * "floor"). es_xdp_acct is the cost of a counter: the header parse of
 * bpf/lib/account.h, the tick clock and one add to one per-CPU counter,
 * with no session at all. es_xdp_acct_new adds what a new session must
 * touch in a slot table of the default size (bpf/lib/slot_table.h): one
 * compare-and-swap on a tag line and one entry written whole (each word
 * once), both at a random place, with none of the table's own logic. What accounting costs
 * above these two is what its sessions' code costs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lib/parse.h"
#include "lib/clock.h"
#include "lib/bench.h"
#include <edgeshift/session.h>
#include <edgeshift/slot_table.h>

struct es_floor_counts {
	__u64	pkts;
	__u64	bytes;
	__u64	last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct es_floor_counts);
} es_floor_count SEC(".maps");

/* One key and its counts: a flow cache slot with nothing else. */
struct es_floor_slot {
	struct es_session_key4	key;
	__u32			reserved;
	struct es_floor_counts	n;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct es_floor_slot);
} es_floor_slots SEC(".maps");

/*
 * Bytes of the entry a new tuple writes: the table's entry, unless a
 * wrapper measures another size (bpf/bench_floor64.bpf.c, one cache line;
 * bpf/bench_floor128.bpf.c, two), for what a smaller entry would cost.
 */
#ifndef ES_FLOOR_ENTRY_BYTES
#define ES_FLOOR_ENTRY_BYTES	sizeof(struct es_tbl_entry)
#endif
#define ES_FLOOR_WORDS		(ES_FLOOR_ENTRY_BYTES / 8)

struct es_floor_entry {
	__u64	w[ES_FLOOR_WORDS];
};

/* Same shapes and sizes as the table's tags and entries, mmap-able like them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ES_TBL_BUCKETS_DEFAULT);
	__type(key, __u32);
	__type(value, struct es_tbl_bucket);
} es_floor_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ES_TBL_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct es_floor_entry);
} es_floor_entries SEC(".maps");

/* Parse, read the tick, count: false when the packet has no session key. */
static __always_inline bool es_floor_count_pkt(void *data, void *data_end, __u32 ifindex,
					       struct es_pkt *p, __u64 *now)
{
	struct es_floor_counts *n;
	__u32 zero = 0;

	/* what es_account_parse sets before the parse, no more */
	p->hdr_len = 0;
	p->tcp_flags = 0;
	p->ports_fixed = 0;
	p->icmp_echo = 0;
	p->tcp_data = 0;
	if (es_parse(data, data_end, p) >= 0)
		return false;
	/* and after it, for an IPv4 key */
	if (p->family == ES_FAMILY_INET) {
		__builtin_memset(p->k4.reserved, 0, sizeof(p->k4.reserved));
		p->k4.ifindex = ifindex;
	}
	*now = es_tick_ns();
	n = bpf_map_lookup_elem(&es_floor_count, &zero);
	if (!n)
		return false;
	n->pkts++;
	n->bytes += data_end - data;
	n->last_ns = *now;
	return true;
}

/* The memory a new IPv4 session touches in the table: a tag CAS, one entry written. */
static __always_inline void es_floor_touch(const struct es_session_key4 *k, __u64 now)
{
	__u64 h = es_tbl_hash4(k);
	__u32 b = es_tbl_b1(h, ES_TBL_BUCKETS_DEFAULT);
	/* a mask, not a modulo: the verifier keeps the bound of an AND */
	__u32 j = (__u32)(h >> 40) & 7, i = b * ES_TBL_BUCKET_SLOTS + j;
	struct es_tbl_bucket *bk = bpf_map_lookup_elem(&es_floor_tags, &b);
	struct es_floor_entry *e = bpf_map_lookup_elem(&es_floor_entries, &i);
	struct es_tbl_entry n;
	const __u64 *from = (const void *)&n;
	int w;

	if (!bk || !e)
		return;
	__sync_val_compare_and_swap(&bk->tag[j], bk->tag[j], es_tbl_fp(h) | ES_TBL_LIVE);
	/* each word of the entry stored once, as the table stores a new one */
	__builtin_memset(&n, 0, sizeof(n));
	n.key.k4 = *k;
	n.c.pkts[0] = 1;
	n.c.first_ns = n.c.last_ns = now;
	n.st.created_ns = now;
#pragma unroll
	for (w = 0; w < ES_FLOOR_WORDS; w++)
		e->w[w] = w < sizeof(n) / 8 ? from[w] : 0;
}

/* The packet counted in its key's slot, which a miss takes. */
static __always_inline void es_floor_slot_count(struct es_pkt *p, __u64 len, __u64 now)
{
	struct es_floor_slot *s;
	const __u32 *x, *y;
	__u32 i;

	i = es_flow_index4(&p->k4);
	s = bpf_map_lookup_elem(&es_floor_slots, &i);
	if (!s)
		return;
	x = (const void *)&s->key;
	y = (const void *)&p->k4;
	if (!(x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4])) {
		s->key = p->k4;
		s->n.pkts = s->n.bytes = 0;
	}
	s->n.pkts++;
	s->n.bytes += len;
	s->n.last_ns = now;
}

/* One packet: the new-tuple step if asked, the floor, the slot if asked, a new session's memory. */
static __always_inline int es_floor_run(struct xdp_md *ctx, bool new_tuple, bool slot)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct es_pkt p;
	__u64 now;

	if (new_tuple)
		es_bench_next_tuple(data, data_end);
	if (!es_floor_count_pkt(data, data_end, ctx->ingress_ifindex, &p, &now) ||
	    p.family != ES_FAMILY_INET)
		return XDP_PASS;
	if (slot)
		es_floor_slot_count(&p, data_end - data, now);
	if (new_tuple)
		es_floor_touch(&p.k4, now);
	return XDP_PASS;
}

SEC("xdp")
int es_xdp_acct(struct xdp_md *ctx)
{
	return es_floor_run(ctx, false, false);
}

SEC("xdp")
int es_xdp_acct_new(struct xdp_md *ctx)
{
	return es_floor_run(ctx, true, false);
}

SEC("xdp")
int es_xdp_slot(struct xdp_md *ctx)
{
	return es_floor_run(ctx, false, true);
}

SEC("xdp")
int es_xdp_slot_new(struct xdp_md *ctx)
{
	return es_floor_run(ctx, true, true);
}

char LICENSE[] SEC("license") = "GPL";
