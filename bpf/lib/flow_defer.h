/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A candidate for the new-session path (ES_FLOW_DEFER; built only by
 * bpf/bench_defer.bpf.c): a new tuple's first packet takes a flow cache
 * slot and writes nothing else. The slot is fresh (n.valid ES_FLOW_FRESH):
 * its session may be in no map yet, and the state its first packet set
 * (opener, SYN, request time) waits in es_flow_pending4/6 at the slot's
 * index. A tuple that takes an occupied slot moves the occupant (its
 * counts, and its pending state if fresh) into this CPU's spill ring
 * instead of folding it; a packet that finds the ring full takes the path
 * without deferral, so nothing is lost. The CPU's sweep (flow_cache.h)
 * drains the ring and settles fresh slots: the inserts move from the
 * packet to the sweep, on the same CPU. All of it runs on the slot's CPU
 * in softirq context, like the packet path: plain stores are exact.
 *
 * What this build does not do (why it is a candidate, not the product):
 * readers see neither fresh slots whose session is in no map nor the
 * spill rings, so a new session appears up to one sweep period late and
 * an exact read can miss what sits in a ring.
 */
#ifndef EDGESHIFT_BPF_FLOW_DEFER_H
#define EDGESHIFT_BPF_FLOW_DEFER_H

#include "flow_cache.h"

/* A fresh session into the maps: counts, then state (one already there wins). */
static __always_inline void es_fresh_fold(struct es_flow_counts *n, struct es_session_state *st,
					  void *sessions, void *states, const void *key,
					  __u32 ifindex)
{
	es_flow_fold_from(n, sessions, key, ifindex, st->created_ns);
	bpf_map_update_elem(states, key, st, BPF_NOEXIST);
	n->valid = 1;
}

static __always_inline void es_record_fold(struct es_flow_counts *n, struct es_session_state *st,
					   void *sessions, void *states, const void *key,
					   __u32 ifindex)
{
	if (n->valid == ES_FLOW_FRESH)
		es_fresh_fold(n, st, sessions, states, key, ifindex);
	else
		es_flow_fold(n, sessions, key, ifindex);
}

static __always_inline void es_defer_settle4(__u32 i, struct es_flow_slot4 *s)
{
	struct es_session_state *st = bpf_map_lookup_elem(&es_flow_pending4, &i);

	if (st && s->n.valid == ES_FLOW_FRESH)
		es_fresh_fold(&s->n, st, &es_sessions4, &es_session_state4, &s->key,
			      s->key.ifindex);
}

static __always_inline void es_defer_settle6(__u32 i, struct es_flow_slot6 *s)
{
	struct es_session_state *st = bpf_map_lookup_elem(&es_flow_pending6, &i);

	if (st && s->n.valid == ES_FLOW_FRESH)
		es_fresh_fold(&s->n, st, &es_sessions6, &es_session_state6, &s->key,
			      s->key.ifindex);
}

/* The next free record of a ring, or NULL when it is full. */
static __always_inline __u32 *es_spill_count(__u32 family)
{
	__u32 *cnt = bpf_map_lookup_elem(&es_flow_spill_n, &family);

	return cnt && *cnt < ES_FLOW_SPILL ? cnt : NULL;
}

/* A slot's copy at the end of its family's ring (its state is read only if fresh). */
static __always_inline bool es_spill(bool v6, void *slot, const struct es_session_state *st)
{
	__u32 *cnt = es_spill_count(v6), at;
	struct es_flow_spill4 *r4;
	struct es_flow_spill6 *r6;

	if (!cnt)
		return false;
	at = *cnt;
	if (v6) {
		r6 = bpf_map_lookup_elem(&es_flow_spill6, &at);
		if (!r6)
			return false;
		r6->s = *(struct es_flow_slot6 *)slot;
		r6->st = *st;
	} else {
		r4 = bpf_map_lookup_elem(&es_flow_spill4, &at);
		if (!r4)
			return false;
		r4->s = *(struct es_flow_slot4 *)slot;
		r4->st = *st;
	}
	*cnt = at + 1;
	return true;
}

/* Fold record i of the IPv6 ring if *v6, else of the IPv4 ring. */
static long es_drain_one(__u32 i, void *v6)
{
	struct es_flow_spill4 *r4;
	struct es_flow_spill6 *r6;

	if (*(bool *)v6) {
		r6 = bpf_map_lookup_elem(&es_flow_spill6, &i);
		if (r6)
			es_record_fold(&r6->s.n, &r6->st, &es_sessions6, &es_session_state6,
				       &r6->s.key, r6->s.key.ifindex);
		return 0;
	}
	r4 = bpf_map_lookup_elem(&es_flow_spill4, &i);
	if (r4)
		es_record_fold(&r4->s.n, &r4->st, &es_sessions4, &es_session_state4, &r4->s.key,
			       r4->s.key.ifindex);
	return 0;
}

/* Fold one family's ring and empty it; the records folded. */
static __always_inline __u32 es_drain_ring(bool v6)
{
	__u32 fam = v6, *n = bpf_map_lookup_elem(&es_flow_spill_n, &fam), got;

	if (!n || !*n)
		return 0;
	got = *n;
	bpf_loop(got, es_drain_one, &v6, 0);
	*n = 0;
	return got;
}

/* Fold this CPU's rings; the number of records folded. */
static __always_inline __u32 es_defer_drain(void)
{
	return es_drain_ring(false) + es_drain_ring(true);
}

#endif /* EDGESHIFT_BPF_FLOW_DEFER_H */
