// SPDX-License-Identifier: GPL-2.0-only
/*
 * The naive accounting design, kept only as a benchmark reference: one
 * shared LRU hash for both families (44-byte key), a precise clock read and
 * atomic adds on every packet. es-bench-xdp runs it beside the real program
 * so the gain of the per-CPU, split-family design is measured, not claimed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lib/parse.h"
#include "lib/bench.h"

struct naive_counters {
	__u64	pkts[2];
	__u64	bytes[2];
	__u64	first_ns;
	__u64	last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct es_session_key6);
	__type(value, struct naive_counters);
} naive_sessions SEC(".maps");

static __always_inline void naive_key(struct es_pkt *p, struct es_session_key6 *k)
{
	if (p->family == ES_FAMILY_INET6) {
		*k = p->k6;
		return;
	}
	__builtin_memset(k, 0, sizeof(*k));
	k->addr_lo[10] = k->addr_lo[11] = 0xff;
	k->addr_hi[10] = k->addr_hi[11] = 0xff;
	__builtin_memcpy(&k->addr_lo[12], &p->k4.addr_lo, 4);
	__builtin_memcpy(&k->addr_hi[12], &p->k4.addr_hi, 4);
	k->port_lo = p->k4.port_lo;
	k->port_hi = p->k4.port_hi;
	k->proto = p->k4.proto;
}

static __always_inline void naive_account(void *data, void *data_end, __u32 ifindex)
{
	struct naive_counters *v, init = {};
	struct es_session_key6 k;
	struct es_pkt p = {};
	__u64 now;

	if (es_parse(data, data_end, &p) >= 0)
		return;
	naive_key(&p, &k);
	k.ifindex = ifindex;
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&naive_sessions, &k);
	if (!v) {
		init.first_ns = now;
		bpf_map_update_elem(&naive_sessions, &k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&naive_sessions, &k);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->pkts[0], 1);
	__sync_fetch_and_add(&v->bytes[0], data_end - data);
	v->last_ns = now;
}

SEC("xdp")
int es_xdp_naive(struct xdp_md *ctx)
{
	naive_account((void *)(long)ctx->data, (void *)(long)ctx->data_end,
		      ctx->ingress_ifindex);
	return XDP_PASS;
}

/* A new tuple on every iteration of a test run (lib/bench.h). */
SEC("xdp")
int es_xdp_naive_new(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	es_bench_next_tuple(data, data_end);
	naive_account(data, data_end, ctx->ingress_ifindex);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
