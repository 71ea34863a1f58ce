// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/bench_acct.bpf.c with the new-session path of bpf/lib/flow_defer.h:
 * a new tuple takes a flow cache slot only and the session maps are
 * filled by the CPU's sweep. es-bench-xdp times its packets, then times
 * es_xdp_drain right after each new-session run: the inserts the packets
 * left to the sweep, so both halves of a new session's cost are measured.
 */
#define ES_FLOW_DEFER	1
#include "bench_acct.bpf.c"
