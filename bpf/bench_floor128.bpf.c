// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/bench_floor.bpf.c with a 128-byte entry (two cache lines) for its new
 * tuples, against the table's 176 bytes (152 before IPv6 joined it): what
 * a smaller entry would save a new session. For es-bench-xdp --object
 * only.
 */
#define ES_FLOOR_ENTRY_BYTES	128
#include "bench_floor.bpf.c"
