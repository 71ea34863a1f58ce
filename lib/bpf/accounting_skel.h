/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The accounting skeleton with what every loader of it needs: the shared
 * structs before the skeleton (its .bss holds some of them) and one place
 * that sizes the four session maps.
 */
#ifndef EDGESHIFT_ACCOUNTING_SKEL_H
#define EDGESHIFT_ACCOUNTING_SKEL_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <string.h>
#include <edgeshift/session.h>
#include <edgeshift/slot_table.h>
#include "accounting.skel.h"
#include "es_maps.h"

/*
 * libbpf reads CONFIG_HZ from the kernel's published config and refuses to
 * load without one. True when there is none: then open with
 * ES_KCONFIG_FALLBACK and the programs use the coarse clock helper.
 */
#define ES_KCONFIG_FALLBACK	"CONFIG_HZ=0\n"
static inline bool es_kernel_config_missing(void)
{
	char path[PATH_MAX];
	struct utsname u;

	if (!access("/proc/config.gz", R_OK))
		return false;
	uname(&u);
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	return access(path, R_OK) != 0;
}

/* Open the object; *coarse_clock says whether the fallback was needed. */
static inline struct accounting *es_accounting_open(bool *coarse_clock)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	bool missing = es_kernel_config_missing();

	if (coarse_clock)
		*coarse_clock = missing;
	if (!missing)
		return accounting__open();
	opts.kconfig = ES_KCONFIG_FALLBACK;
	return accounting__open_opts(&opts);
}

/*
 * Call between open and load: max_entries of each session and state map,
 * and one flow cache sweep timer per possible CPU.
 */
static inline void es_accounting_size_sessions(struct accounting *skel, __u32 entries)
{
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus > 0)
		bpf_map__set_max_entries(skel->maps.es_flow_timers, ncpus);
	bpf_map__set_max_entries(skel->maps.es_sessions4, entries);
	bpf_map__set_max_entries(skel->maps.es_sessions6, entries);
	bpf_map__set_max_entries(skel->maps.es_session_state4, entries);
	bpf_map__set_max_entries(skel->maps.es_session_state6, entries);
}

/*
 * Buckets of the slot table for a session budget: the power of two
 * nearest 2 x entries / 15 (8,192 for the default 65,536 sessions), so a
 * full budget fills about half the slots (docs/maps.md).
 */
static inline __u32 es_tbl_buckets_for(__u32 entries)
{
	__u64 want = 2ULL * entries / ES_TBL_BUCKET_SLOTS;
	__u32 p = 2;

	while ((__u64)p * 2 <= want)
		p *= 2;
	return want - p > (__u64)p * 2 - want ? p * 2 : p;
}

/*
 * Call between open and load, after es_accounting_size_sessions: the
 * sessions of both families in a slot table of nbuckets buckets, the
 * session maps then cut to one entry (no packet reaches them); 0
 * keeps them in the session maps and cuts the table's maps to one bucket
 * (the caller does not pin them).
 */
static inline void es_accounting_set_table(struct accounting *skel, __u32 nbuckets)
{
	__u32 b = nbuckets ? nbuckets : 1;

	skel->rodata->es_tbl_on = nbuckets != 0;
	skel->rodata->es_tbl_nbuckets = nbuckets ? nbuckets : 2;
	bpf_map__set_max_entries(skel->maps.es_tbl_tags, b);
	bpf_map__set_max_entries(skel->maps.es_tbl_entries, b * ES_TBL_BUCKET_SLOTS);
	if (!nbuckets) {
		bpf_map__set_max_entries(skel->maps.es_tbl_created, 1);
		return;
	}
	bpf_map__set_max_entries(skel->maps.es_sessions4, 1);
	bpf_map__set_max_entries(skel->maps.es_session_state4, 1);
	bpf_map__set_max_entries(skel->maps.es_sessions6, 1);
	bpf_map__set_max_entries(skel->maps.es_session_state6, 1);
}

/*
 * Call between open and load: whether UDP and ICMP echo packets give
 * request/response latency samples (on unless turned off); off, their
 * known sessions' packets skip the shared state look-up.
 */
static inline void es_accounting_set_rr_latency(struct accounting *skel, bool on)
{
	skel->rodata->es_rr_latency_off = !on;
}

/*
 * Call between open and load: whether TCP segments with payload give
 * request/response latency samples too (off unless turned on).
 */
static inline void es_accounting_set_tcp_rr_latency(struct accounting *skel, bool on)
{
	skel->rodata->es_tcp_rr_on = on;
}

/*
 * The map fds of a loaded skeleton (owned by it), as readers take them;
 * the table's too, but it is not mapped (es_maps_map_table when the
 * object runs with the table on).
 */
static inline void es_maps_from_skel(struct es_maps *m, const struct accounting *s)
{
	m->ncpus = libbpf_num_possible_cpus();
	m->fd[ES_MAP_SESSIONS4] = bpf_map__fd(s->maps.es_sessions4);
	m->fd[ES_MAP_SESSIONS6] = bpf_map__fd(s->maps.es_sessions6);
	m->fd[ES_MAP_STATE4] = bpf_map__fd(s->maps.es_session_state4);
	m->fd[ES_MAP_STATE6] = bpf_map__fd(s->maps.es_session_state6);
	m->fd[ES_MAP_IFACE_TRAFFIC] = bpf_map__fd(s->maps.es_iface_traffic);
	m->fd[ES_MAP_IFACE_STATS] = bpf_map__fd(s->maps.es_iface_stats);
	m->fd[ES_MAP_IFACE_CLOSED] = bpf_map__fd(s->maps.es_iface_closed);
	m->fd[ES_MAP_IFACES] = bpf_map__fd(s->maps.es_ifaces);
	m->fd[ES_MAP_META] = bpf_map__fd(s->maps.es_meta);
	m->fd[ES_MAP_EVENTS] = bpf_map__fd(s->maps.es_events);
	m->fd[ES_MAP_FLOW4] = bpf_map__fd(s->maps.es_flow_cache4);
	m->fd[ES_MAP_FLOW6] = bpf_map__fd(s->maps.es_flow_cache6);
	m->fd[ES_MAP_FLOW_TIMERS] = bpf_map__fd(s->maps.es_flow_timers);
	memset(&m->tbl, 0, sizeof(m->tbl));
	m->tbl_fd[ES_TBL_MAP_TAGS] = bpf_map__fd(s->maps.es_tbl_tags);
	m->tbl_fd[ES_TBL_MAP_ENTRIES] = bpf_map__fd(s->maps.es_tbl_entries);
	m->tbl_fd[ES_TBL_MAP_STATS] = bpf_map__fd(s->maps.es_tbl_stats);
	m->tbl_fd[ES_TBL_MAP_CREATED] = bpf_map__fd(s->maps.es_tbl_created);
}

#endif /* EDGESHIFT_ACCOUNTING_SKEL_H */
