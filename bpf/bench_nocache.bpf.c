// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/bench_acct.bpf.c without the flow cache, i.e. the design before
 * issue 12 (the per-CPU LRU session map looked up on every packet), with
 * maps of its own: es-bench-xdp runs it in the same rounds as the real
 * object, so before and after are measured side by side.
 */
#define ES_FLOW_CACHE	0
#include "bench_acct.bpf.c"
