/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A CLOCK_MONOTONIC reading at tick resolution for the per-packet path.
 * bpf_ktime_get_ns() costs more than the rest of the accounting on this
 * kind of machine, while bpf_jiffies64() is inlined by the verifier into a
 * single load. The first call anchors jiffies to the coarse monotonic clock
 * (updated at the same tick); later calls scale jiffies by the kernel's
 * CONFIG_HZ. jiffies moves before the coarse clock at a tick, so all
 * timestamps of one program instance may read up to one tick early, all
 * alike. The anchor is one 64-bit offset, so a reader on any CPU sees
 * either no anchor or a whole one; two CPUs anchoring at once differ by at
 * most a tick. With CONFIG_HZ unknown (the agent passes CONFIG_HZ=0 when
 * the kernel publishes no config) the coarse clock helper is used.
 */
#ifndef EDGESHIFT_BPF_CLOCK_H
#define EDGESHIFT_BPF_CLOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern unsigned int CONFIG_HZ __kconfig __weak;

/* CLOCK_MONOTONIC ns minus jiffies * ns per jiffy (mod 2^64); 0: not anchored. */
__u64 es_clock_offset;

/* A switch, not a division: a division per packet costs several ns. */
static __always_inline __u64 es_ns_per_jiffy(void)
{
	switch (CONFIG_HZ) {
	case 100:	return 10000000;
	case 250:	return 4000000;
	case 300:	return 3333333;	/* the kernel's TICK_NSEC at 300 Hz, also truncated */
	case 1000:	return 1000000;
	default:	return 0;
	}
}

static __always_inline __u64 es_tick_ns(void)
{
	__u64 npj = es_ns_per_jiffy(), j, off;

	if (!npj)
		return bpf_ktime_get_coarse_ns();
	j = bpf_jiffies64();
	off = es_clock_offset;
	if (!off) {
		off = bpf_ktime_get_coarse_ns() - j * npj;
		es_clock_offset = off;
	}
	return off + j * npj;
}

#endif /* EDGESHIFT_BPF_CLOCK_H */
