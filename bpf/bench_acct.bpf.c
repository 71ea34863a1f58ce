// SPDX-License-Identifier: GPL-2.0-only
/*
 * The accounting code (bpf/lib/account.h) with its own maps at their
 * default sizes, for es-bench-xdp only. es_xdp_acct_new brings a new IPv4
 * tuple on every iteration of a test run, so once the session map is full
 * each packet pays for an insert and an LRU eviction, as on a node under a
 * flood. bpf/bench_nocache.bpf.c builds this file without the flow cache.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lib/account.h"
#include "lib/bench.h"

SEC("xdp")
int es_xdp_acct(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	es_account(data, data_end, ctx->ingress_ifindex, ES_DIR_RX, data_end - data, 1);
	return XDP_PASS;
}

SEC("xdp")
int es_xdp_acct_new(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	es_bench_next_tuple(data, data_end);
	es_account(data, data_end, ctx->ingress_ifindex, ES_DIR_RX, data_end - data, 1);
	return XDP_PASS;
}

#if ES_FLOW_DEFER
/* What the sweep would do now on this CPU: drain the spill rings, settle and fold the slots. */
SEC("xdp")
int es_xdp_drain(struct xdp_md *ctx)
{
	es_flow_sweep_all();
	return XDP_PASS;
}
#endif

char LICENSE[] SEC("license") = "GPL";
