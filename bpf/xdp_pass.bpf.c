// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cheapest XDP program there is. Benchmarks run it beside the
 * accounting program in the same process so that ratios, not absolute
 * times, are reported.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lib/bench.h"

SEC("xdp")
int es_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The baseline of the new-session case: the same tuple step, nothing else. */
SEC("xdp")
int es_xdp_pass_new(struct xdp_md *ctx)
{
	es_bench_next_tuple((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
