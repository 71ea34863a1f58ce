// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/bench_acct.bpf.c with the sessions in the slot table
 * (bpf/lib/slot_table.h), for es-bench-xdp and
 * selftests/accounting/test_concurrency.c only: the candidate for a new
 * session under 300 ns.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lib/slot_table.h"
#include "bench_acct.bpf.c"
