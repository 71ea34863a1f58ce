/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps of the accounting data plane. The agent pins all of them under its
 * pin directory (default /sys/fs/bpf/edgeshift) and sets the session map
 * size before load; max_entries below are defaults.
 */
#ifndef EDGESHIFT_BPF_MAPS_H
#define EDGESHIFT_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <edgeshift/session.h>

/*
 * The flow cache (flow_cache.h) and the shared session entries it allows
 * are on; a benchmark builds the code without them
 * (bpf/bench_nocache.bpf.c) to measure the design before them: per-CPU
 * session entries looked up by every packet.
 */
#ifndef ES_FLOW_CACHE
#define ES_FLOW_CACHE	1
#endif

/*
 * The session maps evict their least recently used entries when full; a
 * benchmark builds them as preallocated hashes without LRU
 * (bpf/bench_hash.bpf.c), where a full map refuses the insert and the
 * packet counts as skipped.
 */
#ifndef ES_SESSIONS_LRU
#define ES_SESSIONS_LRU	1
#endif

/*
 * A candidate for the new-session path, built only by a benchmark
 * (bpf/bench_defer.bpf.c, bpf/lib/flow_defer.h): a new tuple takes a flow
 * cache slot and nothing else, and the session maps are filled off the
 * packet path by the CPU's sweep.
 */
#ifndef ES_FLOW_DEFER
#define ES_FLOW_DEFER	0
#endif

#if !ES_FLOW_CACHE
#define ES_SESSIONS_MAP_TYPE	BPF_MAP_TYPE_LRU_PERCPU_HASH
#elif ES_SESSIONS_LRU
#define ES_SESSIONS_MAP_TYPE	BPF_MAP_TYPE_LRU_HASH
#else
#define ES_SESSIONS_MAP_TYPE	BPF_MAP_TYPE_HASH
#endif
#define ES_STATE_MAP_TYPE	(ES_SESSIONS_LRU ? BPF_MAP_TYPE_LRU_HASH : BPF_MAP_TYPE_HASH)

#define ES_DEFAULT_SESSIONS	65536
#define ES_MAX_IFACES		1024
#define ES_MAX_CPUS		1024	/* default size of es_flow_timers */

/*
 * One shared entry per session, not one per CPU: readers copy one value,
 * whatever the CPU count. The common packet never touches it (the flow
 * cache below counts it); the rest add with atomic instructions.
 */
struct {
	__uint(type, ES_SESSIONS_MAP_TYPE);
	__uint(max_entries, ES_DEFAULT_SESSIONS);
	__type(key, struct es_session_key4);
	__type(value, struct es_session_counters);
} es_sessions4 SEC(".maps");

struct {
	__uint(type, ES_SESSIONS_MAP_TYPE);
	__uint(max_entries, ES_DEFAULT_SESSIONS);
	__type(key, struct es_session_key6);
	__type(value, struct es_session_counters);
} es_sessions6 SEC(".maps");

/* The flow cache in front of them (include/edgeshift/session.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct es_flow_slot4);
} es_flow_cache4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct es_flow_slot6);
} es_flow_cache6 SEC(".maps");

/* Sweep timers of the flow cache; the loader sizes it to the possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ES_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct es_flow_timer);
} es_flow_timers SEC(".maps");

#if ES_FLOW_DEFER
/*
 * Records a CPU keeps until its sweep folds them: at most one sweep
 * period's worth of new tuples per CPU and family (a packet that finds the
 * ring full takes the path without deferral, so nothing is lost).
 */
#define ES_FLOW_SPILL	65536

/* A slot given up to another tuple, with its pending state. */
struct es_flow_spill4 {
	struct es_flow_slot4	s;
	struct es_session_state	st;	/* meaningful when s.n.valid is ES_FLOW_FRESH */
};

struct es_flow_spill6 {
	struct es_flow_slot6	s;
	struct es_session_state	st;
};

/* The state of a fresh slot's session, kept beside the slot (same index). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct es_session_state);
} es_flow_pending4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct es_session_state);
} es_flow_pending6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SPILL);
	__type(key, __u32);
	__type(value, struct es_flow_spill4);
} es_flow_spill4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_FLOW_SPILL);
	__type(key, __u32);
	__type(value, struct es_flow_spill6);
} es_flow_spill6 SEC(".maps");

/* Records in use in each ring: index 0 IPv4, 1 IPv6. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} es_flow_spill_n SEC(".maps");
#endif

/* Per-session state shared by all CPUs; touched only on state changes. */
struct {
	__uint(type, ES_STATE_MAP_TYPE);
	__uint(max_entries, ES_DEFAULT_SESSIONS);
	__type(key, struct es_session_key4);
	__type(value, struct es_session_state);
} es_session_state4 SEC(".maps");

struct {
	__uint(type, ES_STATE_MAP_TYPE);
	__uint(max_entries, ES_DEFAULT_SESSIONS);
	__type(key, struct es_session_key6);
	__type(value, struct es_session_state);
} es_session_state6 SEC(".maps");

/* Exact per-interface totals: one inlined array lookup per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_IFINDEX_FAST);
	__type(key, __u32);
	__type(value, struct es_iface_traffic);
} es_iface_traffic SEC(".maps");

/* Per-interface counters of rarer events. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, ES_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct es_iface_stats);
} es_iface_stats SEC(".maps");

/* Totals of collected sessions; written by the agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct es_iface_closed);
} es_iface_closed SEC(".maps");

/* Interface names and owning pod; written by the agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct es_iface_info);
} es_ifaces SEC(".maps");

/* Layout version of this pin directory; written by the agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct es_meta);
} es_meta SEC(".maps");

/* Close notifications (struct es_close_event) for prompt collection. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} es_events SEC(".maps");

#endif /* EDGESHIFT_BPF_MAPS_H */
