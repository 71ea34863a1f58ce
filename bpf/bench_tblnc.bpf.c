// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/bench_table.bpf.c without the flow cache in front of the table
 * (ES_TBL_FLOW_CACHE 0): every IPv4 packet looks its session up in the
 * table. For es-bench-xdp --object only, to measure what the cache saves
 * in the same rounds.
 */
#define ES_TBL_FLOW_CACHE	0
#include "bench_table.bpf.c"
