// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/bench_acct.bpf.c with preallocated hashes without LRU as session
 * maps: a candidate where the collector, not the packet path, makes room.
 * es-bench-xdp empties its maps before each new-session run, as a
 * collector that keeps room would, and measures the skip path of a full
 * map with --keep-full.
 */
#define ES_SESSIONS_LRU	0
#include "bench_acct.bpf.c"
