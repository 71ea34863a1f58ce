/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A CLOCK_MONOTONIC reading at tick resolution for the per-packet path.
 * bpf_ktime_get_ns() costs more than the rest of the accounting on this
 * kind of machine, while bpf_jiffies64() is inlined by the verifier into a
 * single load. The first call anchors jiffies to the coarse monotonic clock
 * (which is updated at the same tick), later calls scale jiffies by the
 * kernel's CONFIG_HZ. Without a known CONFIG_HZ it falls back to the coarse
 * clock helper.
 */
#ifndef EDGESHIFT_BPF_CLOCK_H
#define EDGESHIFT_BPF_CLOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern unsigned int CONFIG_HZ __kconfig __weak;

/* Separate scalars: clang splits a static struct, which BTF cannot express. */
__u64 es_clock_j0;		/* jiffies at the anchor */
__u64 es_clock_mono0;		/* coarse CLOCK_MONOTONIC ns at the anchor */
__u64 es_clock_ns_per_jiffy;	/* 0 until anchored */

static __always_inline __u64 es_tick_ns(void)
{
	__u64 j = bpf_jiffies64();

	if (!es_clock_ns_per_jiffy) {
		if (!CONFIG_HZ)
			return bpf_ktime_get_coarse_ns();
		es_clock_j0 = j;
		es_clock_mono0 = bpf_ktime_get_coarse_ns();
		/* Publish the anchor before the scale that marks it valid. */
		asm volatile("" ::: "memory");
		es_clock_ns_per_jiffy = 1000000000ULL / CONFIG_HZ;
	}
	return es_clock_mono0 + (__s64)(j - es_clock_j0) * es_clock_ns_per_jiffy;
}

#endif /* EDGESHIFT_BPF_CLOCK_H */
