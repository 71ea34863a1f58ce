/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Benchmark helper, never part of a product object. BPF_PROG_TEST_RUN with
 * a repeat count runs a program on the same buffer again and again, and a
 * change the program makes to the packet stays for the next iteration. So
 * a program that first steps the IPv4 source address sees a new tuple on
 * every iteration: the new-session cost is measured with a large repeat
 * instead of one syscall per packet (whose own overhead hid it before).
 */
#ifndef EDGESHIFT_BPF_BENCH_H
#define EDGESHIFT_BPF_BENCH_H

#include "vmlinux.h"

/* Offset of the IPv4 source address in an untagged Ethernet frame. */
#define ES_BENCH_SADDR_OFF	(14 + 12)

static __always_inline void es_bench_next_tuple(void *data, void *data_end)
{
	__u32 *saddr = data + ES_BENCH_SADDR_OFF;

	if ((void *)(saddr + 1) <= data_end)
		*saddr += 1;
}

#endif /* EDGESHIFT_BPF_BENCH_H */
