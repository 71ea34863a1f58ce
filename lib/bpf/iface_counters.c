// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "iface_counters.h"

void es_iface_read_traffic(const struct es_maps *m, __u32 ifindex, struct es_iface_traffic *out)
{
	struct es_iface_traffic *v;
	int cpu, d;

	memset(out, 0, sizeof(*out));
	if (ifindex >= ES_IFINDEX_FAST)
		return;
	v = calloc(m->ncpus, sizeof(*v));
	if (v && !bpf_map_lookup_elem(m->fd[ES_MAP_IFACE_TRAFFIC], &ifindex, v)) {
		for (cpu = 0; cpu < m->ncpus; cpu++) {
			for (d = 0; d < ES_DIR_MAX; d++) {
				out->pkts[d] += v[cpu].pkts[d];
				out->bytes[d] += v[cpu].bytes[d];
			}
		}
	}
	free(v);
}

/*
 * Sessions the slot table path created on an interface below
 * ES_IFINDEX_FAST: counted per CPU in es_tbl_created, not in
 * es_iface_stats (whose per-CPU hash look-up cost a new session 35 ns).
 */
static __u64 read_tbl_created(const struct es_maps *m, __u32 ifindex)
{
	__u64 *v, sum = 0;
	int cpu;

	if (!es_maps_slots(m) || ifindex >= ES_IFINDEX_FAST)
		return 0;
	v = calloc(m->ncpus, sizeof(*v));
	if (v && !bpf_map_lookup_elem(m->tbl_fd[ES_TBL_MAP_CREATED], &ifindex, v)) {
		for (cpu = 0; cpu < m->ncpus; cpu++)
			sum += v[cpu];
	}
	free(v);
	return sum;
}

void es_iface_read_stats(const struct es_maps *m, __u32 ifindex, struct es_iface_stats *out)
{
	const __u64 *src;
	__u64 *dst = (__u64 *)out;
	size_t words = sizeof(*out) / sizeof(__u64), w;
	struct es_iface_stats *v;
	int cpu;

	memset(out, 0, sizeof(*out));
	v = calloc(m->ncpus, sizeof(*v));
	if (v && !bpf_map_lookup_elem(m->fd[ES_MAP_IFACE_STATS], &ifindex, v)) {
		/* Every field is a __u64 counter, so summing word by word is exact. */
		for (cpu = 0; cpu < m->ncpus; cpu++) {
			src = (const __u64 *)&v[cpu];
			for (w = 0; w < words; w++)
				dst[w] += src[w];
		}
	}
	free(v);
	out->sessions_created += read_tbl_created(m, ifindex);
}
