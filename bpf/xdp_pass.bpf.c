// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cheapest XDP program there is. Benchmarks run it beside the
 * accounting program in the same process so that ratios, not absolute
 * times, are reported.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int es_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
