/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-CPU flow cache in front of the session maps (its contract is in
 * include/edgeshift/session.h, before struct es_flow_counts). A slot is
 * only ever touched on its own CPU, by the packet path or by that CPU's
 * sweep timer, which runs in softirq context like the packet path: the two
 * never interleave, so plain adds are exact. The shared session entries
 * they fold into take atomic adds (es_counters_add).
 */
#ifndef EDGESHIFT_BPF_FLOW_CACHE_H
#define EDGESHIFT_BPF_FLOW_CACHE_H

#include "maps.h"
#include "clock.h"

#define ES_CLOCK_MONOTONIC	1

/*
 * n.valid of a slot whose session may be in no map yet (only in builds
 * with ES_FLOW_DEFER, bpf/lib/flow_defer.h); readers take it as valid.
 */
#define ES_FLOW_FRESH		2

/* Too large for the BPF stack; lives in .bss and is never written. */
struct es_iface_stats es_iface_stats_zero;

/* The interface's rare-event counters, created on first need. */
static __always_inline struct es_iface_stats *es_ifs_lookup(__u32 ifindex)
{
	struct es_iface_stats *s;

	s = bpf_map_lookup_elem(&es_iface_stats, &ifindex);
	if (!s) {
		bpf_map_update_elem(&es_iface_stats, &ifindex, &es_iface_stats_zero,
				    BPF_NOEXIST);
		s = bpf_map_lookup_elem(&es_iface_stats, &ifindex);
	}
	return s;
}

/* Keys compared word by word (reserved bytes are zero on both sides). */
static __always_inline bool es_key4_eq(const struct es_session_key4 *a,
				       const struct es_session_key4 *b)
{
	const __u32 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

static __always_inline bool es_key6_eq(const struct es_session_key6 *a,
				       const struct es_session_key6 *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4] && ((const __u32 *)a)[10] == ((const __u32 *)b)[10];
}

/*
 * Add to a session's shared entry, which other CPUs (and their sweeps)
 * update at the same time: counts with atomic adds, flags with an atomic
 * OR of the 32-bit word that holds both directions' flag bytes, only when
 * a bit is new; the latest time is a plain store (any CPU's recent tick).
 */
static __always_inline void es_counters_add(struct es_session_counters *sc, __u32 dir,
					    __u64 pkts, __u64 bytes, __u8 flags, __u64 tick_ns)
{
	/* tcp_flags[dir] is byte dir of the word in memory order */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u32 shift = 8 * (dir & 1);
#else
	__u32 shift = 24 - 8 * (dir & 1);
#endif

	if (!pkts)
		return;
	if (!ES_FLOW_CACHE) {	/* the design before: this CPU's own copy */
		sc->pkts[dir & 1] += pkts;
		sc->bytes[dir & 1] += bytes;
		sc->tcp_flags[dir & 1] |= flags;
		sc->last_ns = tick_ns;
		return;
	}
	__sync_fetch_and_add(&sc->pkts[dir & 1], pkts);
	__sync_fetch_and_add(&sc->bytes[dir & 1], bytes);
	if ((sc->tcp_flags[dir & 1] & flags) != flags)
		__sync_fetch_and_or((__u32 *)sc->tcp_flags, (__u32)flags << shift);
	if (tick_ns > sc->last_ns)
		sc->last_ns = tick_ns;
}

static __always_inline void es_flow_count(struct es_flow_counts *n, __u32 dir, __u32 segs,
					  __u64 bytes, __u8 tcp_flags, __u64 tick_ns)
{
	n->pkts[dir] += segs;
	n->bytes[dir] += bytes;
	n->tcp_flags[dir] |= tcp_flags;
	n->last_ns = tick_ns;
}

/* Packets of a slot that found no session entry to go into. */
static __always_inline void es_flow_skip(const struct es_flow_counts *n, __u32 ifindex)
{
	struct es_iface_stats *ifs = es_ifs_lookup(ifindex);

	if (!ifs)
		return;
	ifs->skipped[ES_DIR_RX][ES_SKIP_MAP_FULL] += n->pkts[ES_DIR_RX];
	ifs->skipped[ES_DIR_TX][ES_SKIP_MAP_FULL] += n->pkts[ES_DIR_TX];
}

/* A slot's counts after they moved into the session's entry. */
static __always_inline void es_flow_clear(struct es_flow_counts *n)
{
	n->pkts[ES_DIR_RX] = n->pkts[ES_DIR_TX] = 0;
	n->bytes[ES_DIR_RX] = n->bytes[ES_DIR_TX] = 0;
	n->tcp_flags[ES_DIR_RX] = n->tcp_flags[ES_DIR_TX] = 0;
}

/*
 * Move a slot's counts into the session's entry. An entry
 * collected or evicted meanwhile is made again, as the next packet of the
 * session would have made it (first seen at first_ns); one that cannot be
 * made counts as skipped.
 */
static __always_inline void es_flow_fold_from(struct es_flow_counts *n, void *sessions,
					      const void *key, __u32 ifindex, __u64 first_ns)
{
	struct es_session_counters *sc, init = {};
	struct es_iface_stats *ifs;

	if (!(n->pkts[ES_DIR_RX] | n->pkts[ES_DIR_TX]))
		return;
	sc = bpf_map_lookup_elem(sessions, key);
	if (!sc) {
		init.first_ns = first_ns;
		if (!bpf_map_update_elem(sessions, key, &init, BPF_NOEXIST)) {
			ifs = es_ifs_lookup(ifindex);
			if (ifs)
				ifs->sessions_created++;
		}
		sc = bpf_map_lookup_elem(sessions, key);
	}
	if (sc) {
		es_counters_add(sc, ES_DIR_RX, n->pkts[ES_DIR_RX], n->bytes[ES_DIR_RX],
				n->tcp_flags[ES_DIR_RX], n->last_ns);
		es_counters_add(sc, ES_DIR_TX, n->pkts[ES_DIR_TX], n->bytes[ES_DIR_TX],
				n->tcp_flags[ES_DIR_TX], n->last_ns);
	} else {
		es_flow_skip(n, ifindex);
	}
	es_flow_clear(n);
}

static __always_inline void es_flow_fold(struct es_flow_counts *n, void *sessions,
					 const void *key, __u32 ifindex)
{
	es_flow_fold_from(n, sessions, key, ifindex, n->last_ns);
}

#if ES_FLOW_DEFER	/* bpf/lib/flow_defer.h: fresh slots and the spill rings */
static __always_inline void es_defer_settle4(__u32 i, struct es_flow_slot4 *s);
static __always_inline void es_defer_settle6(__u32 i, struct es_flow_slot6 *s);
static __always_inline __u32 es_defer_drain(void);
#endif

/* Fold, then free the slot: nothing is left in it. */
static __always_inline void es_flow_release(struct es_flow_counts *n, void *sessions,
					    const void *key, __u32 ifindex)
{
	es_flow_fold(n, sessions, key, ifindex);
	n->valid = 0;
}

/* Fold one slot; free it when it counted nothing for a whole sweep period. */
static __always_inline void es_flow_sweep_slot(struct es_flow_counts *n, void *sessions,
					       const void *key, __u32 ifindex, __u64 now)
{
	if (!n->valid)
		return;
	if (now - n->last_ns >= ES_FLOW_SWEEP_NS)
		es_flow_release(n, sessions, key, ifindex);
	else
		es_flow_fold(n, sessions, key, ifindex);
}

static long es_flow_sweep4(__u32 i, void *now)
{
	struct es_flow_slot4 *s = bpf_map_lookup_elem(&es_flow_cache4, &i);

#if ES_FLOW_DEFER
	if (s)
		es_defer_settle4(i, s);
#endif
#ifdef ES_TBL_SWEEP
	if (s && es_tbl_on) {
		ES_TBL_SWEEP(s, false, *(__u64 *)now);
		return 0;
	}
#endif
	if (s)
		es_flow_sweep_slot(&s->n, &es_sessions4, &s->key, s->key.ifindex, *(__u64 *)now);
	return 0;
}

static long es_flow_sweep6(__u32 i, void *now)
{
	struct es_flow_slot6 *s = bpf_map_lookup_elem(&es_flow_cache6, &i);

#if ES_FLOW_DEFER
	if (s)
		es_defer_settle6(i, s);
#endif
#ifdef ES_TBL_SWEEP
	if (s && es_tbl_on) {
		ES_TBL_SWEEP(s, true, *(__u64 *)now);
		return 0;
	}
#endif
	if (s)
		es_flow_sweep_slot(&s->n, &es_sessions6, &s->key, s->key.ifindex, *(__u64 *)now);
	return 0;
}

/* Fold every slot of this CPU and free the idle ones. */
static __always_inline void es_flow_sweep_all(void)
{
	__u64 now = es_tick_ns();

#if ES_FLOW_DEFER
	es_defer_drain();
#endif
	bpf_loop(ES_FLOW_SLOTS, es_flow_sweep4, &now, 0);
	bpf_loop(ES_FLOW_SLOTS, es_flow_sweep6, &now, 0);
}

/* This CPU's timer: sweep, run again. */
static int es_flow_sweep(void *map, __u32 *cpu, struct es_flow_timer *t)
{
	es_flow_sweep_all();
	bpf_timer_start(&t->timer, ES_FLOW_SWEEP_NS, BPF_F_TIMER_CPU_PIN);
	return 0;
}

/* Start this CPU's sweep timer once; called when a slot is taken. */
static __always_inline void es_flow_arm(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct es_flow_timer *t = bpf_map_lookup_elem(&es_flow_timers, &cpu);

	if (!t || t->armed)
		return;
	bpf_timer_init(&t->timer, &es_flow_timers, ES_CLOCK_MONOTONIC);
	bpf_timer_set_callback(&t->timer, es_flow_sweep);
	if (!bpf_timer_start(&t->timer, ES_FLOW_SWEEP_NS, BPF_F_TIMER_CPU_PIN))
		t->armed = 1;
}

#endif /* EDGESHIFT_BPF_FLOW_CACHE_H */
