/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The slot table (include/edgeshift/slot_table.h): sessions of both
 * families, in the agent's object when its configuration says session_table: slots, and in
 * the benchmark object bpf/bench_table.bpf.c: sessions in
 * an mmap-able array, a key in one of two buckets of 15 slots, a slot
 * claimed with one compare-and-swap on its tag word. A new session costs
 * one tag line scanned (two when its first bucket is full or has
 * overflowed), one CAS and one entry written: no allocation, no
 * lock, no eviction (a kernel hash insert costs 271-616 ns here for those,
 * docs/benchmarks.md section 1). A known session's packet scans its
 * buckets' tags, compares the key where the fingerprint matches and adds
 * with atomics, which keeps the counts exact whatever CPUs share the slot.
 */
#ifndef EDGESHIFT_BPF_SLOT_TABLE_H
#define EDGESHIFT_BPF_SLOT_TABLE_H

/*
 * Where es_account (account.h) takes a session: the table when
 * es_tbl_on, else the session maps. A load-time constant: the loader sets
 * it (the agent's session_table: slots) and the verifier removes the path
 * it makes dead. On unless the
 * including object says otherwise (the product object, bpf/accounting.bpf.c,
 * defaults to the maps; the benchmark objects measure the table).
 */
#ifndef ES_TBL_ON_DEFAULT
#define ES_TBL_ON_DEFAULT	1
#endif
const volatile __u32 es_tbl_on = ES_TBL_ON_DEFAULT;

struct es_ctx;
static __always_inline void es_tbl_account(struct es_ctx *c, bool v6);
/* The flow cache's sweep (flow_cache.h) folds a slot into the table when es_tbl_on. */
static __always_inline void es_tbl_sweep(void *s, bool v6, __u64 now);
#define ES_TBL_SWEEP(s, v6, now)	es_tbl_sweep(s, v6, now)
/*
 * Each family's table path inlined with its family a constant. One copy
 * for both, the family a runtime value, took the verifier 2.4 times the
 * instructions (739,653 in the tcx egress program against 305,828) and
 * no less stack.
 */
#define ES_ACCOUNT_SESSION(c) do {						\
	if (!es_tbl_on)								\
		es_maps_account(c);						\
	else if ((c)->pkt.family == ES_FAMILY_INET6)				\
		es_tbl_account(c, true);					\
	else									\
		es_tbl_account(c, false);					\
} while (0)

#include "account.h"
#include <edgeshift/slot_table.h>

/*
 * The per-CPU flow cache in front of the table, as in front of the
 * session maps: a known session's packet counts in its CPU's slot, which
 * remembers the table slot its counts fold into. A benchmark builds the
 * table without it (bpf/bench_tblnc.bpf.c) to measure the table alone.
 */
#ifndef ES_TBL_FLOW_CACHE
#define ES_TBL_FLOW_CACHE	ES_FLOW_CACHE
#endif

/*
 * Re-reads of a tag another CPU has claimed with our fingerprint: the
 * claim's writes take one cold entry (a few hundred ns with the cache
 * misses), so 64 re-reads of a cached line were measured too few; this
 * bounds the wait to tens of us. A claim runs with softirqs off on its
 * CPU and is never preempted.
 */
#define ES_TBL_SPINS	(1 << 15)
/* Looks at the table a packet makes before it is counted as busy. */
#define ES_TBL_CLAIMS	2
/* Free slots of a first bucket below which a new session may go to its second. */
#define ES_TBL_SPARE	2

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ES_TBL_BUCKETS_DEFAULT);
	__type(key, __u32);
	__type(value, struct es_tbl_bucket);
} es_tbl_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ES_TBL_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct es_tbl_entry);
} es_tbl_entries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct es_tbl_stats);
} es_tbl_stats SEC(".maps");

/*
 * Sessions created per interface and CPU, for ifindex below
 * ES_IFINDEX_FAST (an inlined array lookup; the per-CPU hash of
 * es_iface_stats costs a new session about 35 ns here); the others count
 * in es_iface_stats.sessions_created as before.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_IFINDEX_FAST);
	__type(key, __u32);
	__type(value, __u64);
} es_tbl_created SEC(".maps");

/* Buckets of the table; the loader sets it with the maps' sizes. */
const volatile __u32 es_tbl_nbuckets = ES_TBL_BUCKETS_DEFAULT;

/* Where a key was looked for, and where it could go. */
struct es_tbl_probe {
	__u32			fp;		/* fingerprint bits of the key's tags */
	__u32			b[2];		/* its two buckets */
	__u32			empty[2];	/* bit j: slot j of the bucket was empty */
	struct es_tbl_bucket	*bk[2];
	__u32			busy;		/* 1: a slot with our fingerprint stayed claimed */
	__u32			at;		/* bucket << 4 | position of the entry found or claimed */
};

static __always_inline struct es_tbl_stats *es_tbl_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&es_tbl_stats, &zero);
}

static __always_inline struct es_tbl_entry *es_tbl_entry(__u32 b, __u32 j)
{
	__u32 i = b * ES_TBL_BUCKET_SLOTS + j;

	if (j >= ES_TBL_BUCKET_SLOTS)
		return NULL;
	return bpf_map_lookup_elem(&es_tbl_entries, &i);
}

/*
 * Whether entry e holds key k of family v6 (a constant where this is
 * inlined, so each family's code compares its own key only).
 */
static __always_inline bool es_tbl_holds(const struct es_tbl_entry *e, const void *k, bool v6)
{
	if (e->v6 != v6)
		return false;
	return v6 ? es_key6_eq(&e->key.k6, k) : es_key4_eq(&e->key.k4, k);
}

/* 1 when v is zero, else 0, without a branch (a branch per slot multiplies the verifier's paths). */
static __always_inline __u32 es_is_zero(__u32 v)
{
	return ((__u64)v - 1) >> 63;
}

/* Set bits of a 16-bit mask, without a branch. */
static __always_inline __u32 es_popcount16(__u32 x)
{
	x = x - ((x >> 1) & 0x5555);
	x = (x & 0x3333) + ((x >> 2) & 0x3333);
	x = (x + (x >> 4)) & 0x0F0F;
	return (x + (x >> 8)) & 0x1F;
}

struct es_tbl_wait {
	__u32	*tag;
};

static long es_tbl_settle_one(__u64 i, void *ctx)
{
	struct es_tbl_wait *w = ctx;

	return (*(volatile __u32 *)w->tag & ES_TBL_STATE_MASK) != ES_TBL_BUSY;
}

/* The lowest set bit's number of a non-zero 16-bit mask (0-15). */
static __always_inline __u32 es_lowest16(__u32 m)
{
	return es_popcount16((m & -m) - 1) & 15;
}

/* A claim with our fingerprint ends within one entry's writes: wait for it, bounded. */
static __always_inline void es_tbl_settle(__u32 *tag)
{
	struct es_tbl_wait w = { .tag = tag };

	bpf_loop(ES_TBL_SPINS, es_tbl_settle_one, &w, 0);
}

/*
 * The lowest slot of *match (removed from it): the key's entry if the
 * slot holds the key, else NULL. A claim in progress there is waited for;
 * p->busy says one outlived the wait.
 */
static __always_inline struct es_tbl_entry *es_tbl_check(struct es_tbl_probe *p, int i,
							 const void *k, bool v6, __u32 *match)
{
	struct es_tbl_bucket *bk = p->bk[i];
	struct es_tbl_entry *e;
	__u32 j, t;

	if (!*match)
		return NULL;
	j = es_lowest16(*match);
	*match &= *match - 1;
	if (j >= ES_TBL_BUCKET_SLOTS)
		return NULL;
	t = *(volatile __u32 *)&bk->tag[j] & ES_TBL_STATE_MASK;
	if (t == ES_TBL_BUSY) {
		es_tbl_settle(&bk->tag[j]);
		t = *(volatile __u32 *)&bk->tag[j] & ES_TBL_STATE_MASK;
		p->busy |= t == ES_TBL_BUSY;
	}
	if (t != ES_TBL_LIVE)
		return NULL;
	e = es_tbl_entry(p->b[i], j);
	if (!e || !es_tbl_holds(e, k, v6))
		return NULL;
	p->at = p->b[i] << 4 | j;
	return e;
}

/*
 * Look for the key in bucket i of the probe: its entry, or NULL (its
 * empty slots noted; p->busy set when a slot with our fingerprint is
 * still being claimed). Every slot is looked at: the collector frees
 * slots anywhere in a bucket, so an empty slot does not end the search.
 * The tags are read into masks first, without branches; then the keys of
 * the first two slots with our fingerprint are compared (a second one in
 * a bucket takes a 30-bit collision; an iterator over all of them cost a
 * known TCP session about 25 ns here). A third counts as busy, not as absent.
 */
static __always_inline struct es_tbl_entry *es_tbl_scan(struct es_tbl_probe *p, int i,
							const void *k, bool v6)
{
	struct es_tbl_bucket *bk = p->bk[i];
	__u32 t, empty = 0, match = 0;
	struct es_tbl_entry *e;
	int j;

#pragma unroll
	for (j = 0; j < ES_TBL_BUCKET_SLOTS; j++) {
		t = *(volatile __u32 *)&bk->tag[j];
		empty |= es_is_zero(t) << j;
		match |= es_is_zero((t & ~ES_TBL_STATE_MASK) ^ p->fp) << j;
	}
	p->empty[i] = empty;
	e = es_tbl_check(p, i, k, v6, &match);
	if (!e)
		e = es_tbl_check(p, i, k, v6, &match);
	if (!e)
		p->busy |= !!match;
	return e;
}

/*
 * The key's entry, or NULL: p then says where it could go, or p->busy
 * what it waited for in vain. The second bucket is looked at only when
 * the first has overflowed (the key may be there) or has at most
 * ES_TBL_SPARE free slots (the key may go there).
 */
static __always_inline struct es_tbl_entry *es_tbl_find(struct es_tbl_probe *p, const void *k,
							bool v6)
{
	struct es_tbl_entry *e;

	p->busy = 0;
	p->empty[1] = 0;
	p->bk[1] = NULL;
	p->bk[0] = bpf_map_lookup_elem(&es_tbl_tags, &p->b[0]);
	if (!p->bk[0])
		return NULL;
	e = es_tbl_scan(p, 0, k, v6);
	if (e)
		return e;
	if (es_popcount16(p->empty[0]) > ES_TBL_SPARE &&
	    !*(volatile __u32 *)&p->bk[0]->overflow)
		return NULL;
	p->bk[1] = bpf_map_lookup_elem(&es_tbl_tags, &p->b[1]);
	if (!p->bk[1])
		return NULL;
	return es_tbl_scan(p, 1, k, v6);
}

static __always_inline void es_tbl_probe_init(struct es_tbl_probe *p, const void *k, bool v6)
{
	__u64 h = v6 ? es_tbl_hash6(k) : es_tbl_hash4(k);

	p->fp = es_tbl_fp(h);
	p->b[0] = es_tbl_b1(h, es_tbl_nbuckets);
	p->b[1] = es_tbl_b2(h, es_tbl_nbuckets);
}

/*
 * The key copied word by word, each word stored as it is read: a struct
 * copy had the compiler read the 11 words of an IPv6 key first and spill
 * them, 48 bytes of stack the verifier counts against its 512.
 */
static __always_inline void es_tbl_key_copy(union es_tbl_key *dst, const void *src, bool v6)
{
	const __u32 *from = src;
	__u32 *to = (__u32 *)dst;
	int i;

#pragma unroll
	for (i = 0; i < sizeof(struct es_session_key6) / 4; i++) {
		if (!v6 && i == sizeof(struct es_session_key4) / 4)
			break;
		*(volatile __u32 *)&to[i] = from[i];
	}
}

/*
 * A claimed entry (the tag is ours, BUSY) for key of family v6, first seen
 * at ns, nothing counted yet.
 */
static __always_inline void es_tbl_entry_init(struct es_tbl_entry *e, const void *key, bool v6,
					      __u64 ns)
{
	e->v6 = v6;
	__builtin_memset(&e->c, 0, sizeof(e->c));
	e->c.first_ns = ns;
	e->c.last_ns = ns;
	es_tbl_key_copy(&e->key, key, v6);
}

/* The packet's key, of the family v6 says. */
static __always_inline const void *es_tbl_pkt_key(const struct es_ctx *c, bool v6)
{
	return v6 ? (const void *)&c->pkt.k6 : (const void *)&c->pkt.k4;
}

/* A new session's entry with its first packet in it (the tag is ours, BUSY). */
static __always_inline void es_tbl_fill(struct es_ctx *c, struct es_tbl_entry *e, bool v6)
{
	__u32 dir = c->dir & 1;

	es_tbl_entry_init(e, es_tbl_pkt_key(c, v6), v6, c->tick_ns);
	e->c.pkts[dir] = c->segs;
	e->c.bytes[dir] = c->bytes;
	e->c.tcp_flags[dir] = c->pkt.tcp_flags;
	es_state_init(c, &e->st);
}

/*
 * Claim slot j of bucket b (its tags bk) with our fingerprint, BUSY.
 * The slot's tag word, or NULL when another CPU took the slot meanwhile.
 */
static __always_inline __u32 *es_tbl_claim_in(struct es_tbl_bucket *bk, __u32 j, __u32 fp)
{
	if (j >= ES_TBL_BUCKET_SLOTS)
		return NULL;
	if (__sync_val_compare_and_swap(&bk->tag[j], ES_TBL_EMPTY, fp | ES_TBL_BUSY))
		return NULL;
	return &bk->tag[j];
}

/*
 * Whether a new session goes to its second bucket: its first is full, or
 * nearly (ES_TBL_SPARE free slots or fewer) while the second has more
 * room. Filling first buckets to the last slot left both of a key's
 * buckets full for 15 of 2,000,000 new sessions at half the slots in use.
 */
static __always_inline bool es_tbl_second(const struct es_tbl_probe *p)
{
	__u32 free0 = es_popcount16(p->empty[0]);

	if (!free0)
		return true;
	return free0 <= ES_TBL_SPARE && p->bk[1] && es_popcount16(p->empty[1]) > free0;
}

/*
 * A free slot claimed for the session, in its first bucket unless
 * es_tbl_second, else in its second, counted first in the first bucket's overflow
 * (so no look finds the first bucket without overflow while the key is
 * LIVE in the second): 1 (*tag its tag word, *e its entry), 0 the slot
 * was taken meanwhile (look again), -1 no room. The entry is written by
 * the caller, once.
 */
static __always_inline int es_tbl_claim(struct es_tbl_probe *p, __u32 **tag,
					struct es_tbl_entry **e, struct es_tbl_stats *ts)
{
	__u32 b, j;

	if (!p->bk[0])
		return -1;
	/* branches, not an index: the verifier refuses a variable offset into the stack */
	if (!es_tbl_second(p)) {
		b = p->b[0];
		j = es_lowest16(p->empty[0]);
		*tag = es_tbl_claim_in(p->bk[0], j, p->fp);
	} else {
		if (!p->empty[1] || !p->bk[1])
			return -1;
		b = p->b[1];
		j = es_lowest16(p->empty[1]);
		__sync_fetch_and_add(&p->bk[0]->overflow, 1);
		*tag = es_tbl_claim_in(p->bk[1], j, p->fp);
		if (!*tag)
			__sync_fetch_and_add(&p->bk[0]->overflow, -1);
		ts->in_second += !!*tag;
	}
	if (!*tag)
		return 0;
	p->at = b << 4 | j;
	*e = es_tbl_entry(b, j);
	if (!*e) {	/* cannot happen: the entries array has every slot */
		__sync_lock_test_and_set(*tag, ES_TBL_EMPTY);
		return -1;
	}
	return 1;
}

/* A packet the table could not take, in the table's stats and the interface's skip reasons. */
static __always_inline void es_tbl_skip(struct es_ctx *c, struct es_tbl_stats *ts, bool no_slot)
{
	if (no_slot)
		ts->no_slot++;
	else
		ts->busy++;
	es_skip(c, no_slot ? ES_SKIP_NO_SLOT : ES_SKIP_SLOT_BUSY);
}

/* A session made in the table, by a packet or by a cache slot's fold. */
static __always_inline void es_tbl_count_created(__u32 ifindex)
{
	struct es_iface_stats *ifs;
	__u64 *n;

	if (ifindex < ES_IFINDEX_FAST) {
		n = bpf_map_lookup_elem(&es_tbl_created, &ifindex);
		if (n)
			(*n)++;
		return;
	}
	ifs = es_ifs_lookup(ifindex);
	if (ifs)
		ifs->sessions_created++;
}

static __always_inline void es_tbl_hit(struct es_ctx *c, struct es_tbl_entry *e)
{
	if (es_needs_state(c, &e->c))
		es_state_apply(c, &e->st);
	es_counters_add(&e->c, c->dir & 1, c->segs, c->bytes, c->pkt.tcp_flags, c->tick_ns);
}

/*
 * The key's entry (r 0), or a slot claimed for it (r 1: *tag is BUSY, the
 * caller writes the entry once and publishes it), or none (r -1: no room;
 * r 0 and NULL: p->busy, a claim of our fingerprint outlived the wait, or
 * claims lost to other CPUs). A claim of our fingerprint in progress is
 * waited for where it is seen (es_tbl_scan); a claim lost to another CPU
 * looks again, at most ES_TBL_CLAIMS looks in all. p->at says where.
 */
static __always_inline struct es_tbl_entry *es_tbl_get(struct es_tbl_probe *p, const void *k,
						       bool v6, struct es_tbl_stats *ts,
						       __u32 **tag, int *r)
{
	struct es_tbl_entry *e = NULL;
	int n;

	*r = 0;
	es_tbl_probe_init(p, k, v6);
	for (n = 0; n < ES_TBL_CLAIMS; n++) {
		e = es_tbl_find(p, k, v6);
		if (e || p->busy)
			break;
		*r = es_tbl_claim(p, tag, &e, ts);
		if (*r)
			break;
	}
	return e;
}

/* Where es_tbl_locate4/6 found or claimed a key's slot (see there). */
struct es_tbl_where {
	__u32	at;	/* bucket << 4 | position of the slot, when found or claimed */
	__u32	fp;	/* the key's fingerprint bits, for the tag that publishes a claim */
};

/* What es_tbl_locate4/6 say. */
enum {
	ES_TBL_FOUND	= 0,	/* the key is LIVE at w->at */
	ES_TBL_CLAIMED	= 1,	/* w->at is claimed for the key (BUSY): the caller writes and publishes it */
	ES_TBL_NO_ROOM	= -1,	/* both buckets full */
	ES_TBL_GAVE_UP	= -2,	/* a claim of our fingerprint outlived the wait, or claims were lost */
};

/*
 * es_tbl_get as a global function, so the verifier checks the search and
 * the claim once, not again at each place that inlines them (a packet's
 * look-up and a cache slot's re-find, in each program): with them inlined
 * the tcx ingress program took 960,163 of the verifier's 1,000,000
 * instructions. One per family (es_tbl_locate4/6), each with its key's own
 * size and its family a constant. A global function may not hand back a
 * pointer to a map value, so it says where (w), and the caller takes the
 * entry and the tag from their arrays. ts: this CPU's table stats, which
 * the caller has looked up already (a second claim goes to in_second).
 *
 * Its frame (112 bytes) adds to its caller's on the verifier's 512-byte
 * combined stack: the migration object's XDP program, whose accounting is
 * a call of its own (376), has 8 bytes to spare.
 */
static __always_inline int es_tbl_locate(const void *k, bool v6, struct es_tbl_where *w,
					 struct es_tbl_stats *ts)
{
	struct es_tbl_entry *e;
	struct es_tbl_probe p;
	__u32 *tag = NULL;
	int r;

	e = es_tbl_get(&p, k, v6, ts, &tag, &r);
	w->at = p.at;
	w->fp = p.fp;
	if (r > 0 && e && tag)
		return ES_TBL_CLAIMED;
	if (e)
		return ES_TBL_FOUND;
	return r < 0 ? ES_TBL_NO_ROOM : ES_TBL_GAVE_UP;
}

__attribute__((noinline)) int es_tbl_locate4(const struct es_session_key4 *k,
					     struct es_tbl_where *w, struct es_tbl_stats *ts)
{
	if (!k || !w || !ts)
		return ES_TBL_GAVE_UP;
	return es_tbl_locate(k, false, w, ts);
}

__attribute__((noinline)) int es_tbl_locate6(const struct es_session_key6 *k,
					     struct es_tbl_where *w, struct es_tbl_stats *ts)
{
	if (!k || !w || !ts)
		return ES_TBL_GAVE_UP;
	return es_tbl_locate(k, true, w, ts);
}

/* The tag word of slot at (bucket << 4 | position), or NULL. */
static __always_inline __u32 *es_tbl_tag_at(__u32 at)
{
	__u32 b = at >> 4, j = at & 15;
	struct es_tbl_bucket *bk;

	if (j >= ES_TBL_BUCKET_SLOTS)
		return NULL;
	bk = bpf_map_lookup_elem(&es_tbl_tags, &b);
	return bk ? &bk->tag[j] : NULL;
}

/*
 * The key's slot, found or claimed (es_tbl_locate4/6): its entry, *r the
 * locate's answer, *tag the claimed slot's tag word when CLAIMED. A claim
 * whose entry or tag cannot be reached (cannot happen: both arrays have
 * every slot) is given back and reported as no room.
 */
static __always_inline struct es_tbl_entry *es_tbl_take(const void *k, bool v6,
							struct es_tbl_where *w,
							struct es_tbl_stats *ts, __u32 **tag,
							int *r)
{
	struct es_tbl_entry *e;

	*tag = NULL;
	*r = v6 ? es_tbl_locate6(k, w, ts) : es_tbl_locate4(k, w, ts);
	if (*r < 0)
		return NULL;
	e = es_tbl_entry(w->at >> 4, w->at & 15);
	if (*r != ES_TBL_CLAIMED)
		return e;
	*tag = es_tbl_tag_at(w->at);
	if (e && *tag)
		return e;
	if (*tag)
		__sync_lock_test_and_set(*tag, ES_TBL_EMPTY);
	*r = ES_TBL_NO_ROOM;
	return NULL;
}

/*
 * A packet accounted in the table: added to its slot, a slot claimed, or
 * skipped with its reason. Its entry, or NULL when skipped; *created:
 * this packet made it.
 */
static __always_inline struct es_tbl_entry *es_tbl_count(struct es_ctx *c, bool v6,
							 struct es_tbl_where *w, bool *created)
{
	struct es_tbl_stats *ts = es_tbl_stats_get();
	struct es_tbl_entry *e;
	__u32 *tag;
	int r;

	if (!ts)
		return NULL;
	/* one place below writes a new entry and one adds to a known one: the verifier sees each once */
	e = es_tbl_take(es_tbl_pkt_key(c, v6), v6, w, ts, &tag, &r);
	if (r == ES_TBL_CLAIMED && e && tag) {
		es_tbl_fill(c, e, v6);
		/* the entry is whole before the tag says LIVE (an exchange orders the stores) */
		__sync_lock_test_and_set(tag, w->fp | ES_TBL_LIVE);
		ts->created++;
		es_tbl_count_created(c->ifindex);
		*created = true;
	} else if (e) {
		es_tbl_hit(c, e);
	} else {
		es_tbl_skip(c, ts, r == ES_TBL_NO_ROOM);
	}
	return e;
}

/*
 * The entry at a cache slot's remembered table slot (tbl_slot, 1 + bucket
 * << 4 | position) if that slot is LIVE and holds the key, else NULL.
 * LIVE is read before the key: a claim writes the entry before it
 * publishes LIVE, and the collector's reclaim waits a grace period after
 * taking LIVE away, so what is added here is in the entry it reads.
 */
static __always_inline struct es_tbl_entry *es_tbl_at(__u32 at, const void *k, bool v6)
{
	struct es_tbl_bucket *bk;
	struct es_tbl_entry *e;
	__u32 b, j;

	if (!at)
		return NULL;
	b = (at - 1) >> 4;
	j = (at - 1) & 15;
	if (j >= ES_TBL_BUCKET_SLOTS)
		return NULL;
	bk = bpf_map_lookup_elem(&es_tbl_tags, &b);
	if (!bk || (*(volatile __u32 *)&bk->tag[j] & ES_TBL_STATE_MASK) != ES_TBL_LIVE)
		return NULL;
	e = es_tbl_entry(b, j);
	return e && es_tbl_holds(e, k, v6) ? e : NULL;
}

/* A cache slot's counts that found no room in the table, as skipped packets. */
static __always_inline void es_tbl_fold_skip(const struct es_flow_counts *n, __u32 ifindex,
					     struct es_tbl_stats *ts, bool no_slot)
{
	__u32 reason = no_slot ? ES_SKIP_NO_SLOT : ES_SKIP_SLOT_BUSY;
	__u64 pkts = n->pkts[ES_DIR_RX] + n->pkts[ES_DIR_TX];
	struct es_iface_stats *ifs = es_ifs_lookup(ifindex);

	if (no_slot)
		ts->no_slot += pkts;
	else
		ts->busy += pkts;
	if (!ifs)
		return;
	ifs->skipped[ES_DIR_RX][reason] += n->pkts[ES_DIR_RX];
	ifs->skipped[ES_DIR_TX][reason] += n->pkts[ES_DIR_TX];
}

/*
 * A flow cache slot of either family (es_flow_slot4 or es_flow_slot6): its
 * key (the slot's first member), its remembered table slot and its counts,
 * taken where the slot was looked up.
 */
struct es_tbl_cslot {
	void			*key;
	__u32			*tbl_slot;
	struct es_flow_counts	*n;
};

_Static_assert(__builtin_offsetof(struct es_flow_slot4, key) == 0 &&
	       __builtin_offsetof(struct es_flow_slot6, key) == 0,
	       "a cache slot is found by its key");
_Static_assert(__builtin_offsetof(struct es_flow_slot4, n) ==
	       __builtin_offsetof(struct es_flow_slot4, tbl_slot) + 4 &&
	       __builtin_offsetof(struct es_flow_slot6, n) ==
	       __builtin_offsetof(struct es_flow_slot6, tbl_slot) + 4,
	       "a slot's tbl_slot is the word before its counts");

static __always_inline void es_tbl_cslot_of(struct es_tbl_cslot *s, void *key,
					    struct es_flow_counts *n)
{
	s->key = key;
	s->tbl_slot = (__u32 *)n - 1;
	s->n = n;
}

/* The interface of a cache slot's key (at the same offset of either key's slot, in bounds). */
static __always_inline __u32 es_tbl_cslot_ifindex(const struct es_tbl_cslot *s, bool v6)
{
	return v6 ? ((const struct es_session_key6 *)s->key)->ifindex :
		    ((const struct es_session_key4 *)s->key)->ifindex;
}

/*
 * A cache slot's session when its remembered table slot no longer holds
 * it (the collector reclaimed it while the cache still counted): where
 * the key is now, or a slot claimed for it, made as the session's next
 * packet would have made it (first seen at its latest packet), or NULL
 * with the counts skipped.
 */
static __always_inline struct es_tbl_entry *es_tbl_refind(struct es_tbl_cslot *s, bool v6)
{
	struct es_tbl_stats *ts = es_tbl_stats_get();
	__u32 ifindex = es_tbl_cslot_ifindex(s, v6);
	struct es_tbl_entry *e;
	struct es_tbl_where w = {};
	__u32 *tag;
	int r;

	if (!ts)
		return NULL;
	e = es_tbl_take(s->key, v6, &w, ts, &tag, &r);
	if (r == ES_TBL_CLAIMED && e && tag) {
		es_tbl_entry_init(e, s->key, v6, s->n->last_ns);
		__builtin_memset(&e->st, 0, sizeof(e->st));
		e->st.created_ns = s->n->last_ns;
		__sync_lock_test_and_set(tag, w.fp | ES_TBL_LIVE);
		ts->created++;
		es_tbl_count_created(ifindex);
	} else if (!e) {
		es_tbl_fold_skip(s->n, ifindex, ts, r == ES_TBL_NO_ROOM);
		return NULL;
	}
	*s->tbl_slot = w.at + 1;
	return e;
}

/* Move a cache slot's counts into its table entry; on the slot's CPU only. */
static __always_inline void es_tbl_fold(struct es_tbl_cslot *s, bool v6)
{
	struct es_flow_counts *n = s->n;
	struct es_tbl_entry *e;

	if (!(n->pkts[ES_DIR_RX] | n->pkts[ES_DIR_TX]))
		return;
	e = es_tbl_at(*s->tbl_slot, s->key, v6);
	if (!e)
		e = es_tbl_refind(s, v6);
	if (e) {
		es_counters_add(&e->c, ES_DIR_RX, n->pkts[ES_DIR_RX], n->bytes[ES_DIR_RX],
				n->tcp_flags[ES_DIR_RX], n->last_ns);
		es_counters_add(&e->c, ES_DIR_TX, n->pkts[ES_DIR_TX], n->bytes[ES_DIR_TX],
				n->tcp_flags[ES_DIR_TX], n->last_ns);
	}
	es_flow_clear(n);
}

/* The sweep timer's work on one slot (v6 a constant): fold; free it once idle a whole period. */
static __always_inline void es_tbl_sweep(void *slot, bool v6, __u64 now)
{
	struct es_tbl_cslot s;

	es_tbl_cslot_of(&s, slot, v6 ? &((struct es_flow_slot6 *)slot)->n :
					&((struct es_flow_slot4 *)slot)->n);
	if (!s.n->valid)
		return;
	es_tbl_fold(&s, v6);
	if (now - s.n->last_ns >= ES_FLOW_SWEEP_NS)
		s.n->valid = 0;
}

/*
 * This CPU's cache slot for the packet's key (es_flow_slot, which hands
 * back the slot's key and counts) into *s; false: none. c->slot_match:
 * it holds the key.
 */
static __always_inline bool es_tbl_cache_slot(struct es_ctx *c, bool v6, struct es_tbl_cslot *s)
{
	struct es_flow_counts *n;
	void *slot_key = NULL;

	n = es_flow_slot(c, v6, &slot_key);
	if (!n || !slot_key)
		return false;
	es_tbl_cslot_of(s, slot_key, n);
	return true;
}

/*
 * The request/response bookkeeping on the entry's state, reached through
 * the remembered table slot without hashing the key; false: it is gone.
 */
static __always_inline bool es_tbl_cache_rr(struct es_ctx *c, struct es_tbl_cslot *s, bool v6)
{
	struct es_tbl_entry *e = es_tbl_at(*s->tbl_slot, es_tbl_pkt_key(c, v6), v6);

	if (!e)
		return false;
	es_rr_state(c, &e->st);
	return true;
}

/*
 * A known session's packet counted in its cache slot: TCP without SYN,
 * FIN or RST (with payload and TCP latency on, after the request/response
 * bookkeeping); UDP and ICMP echo after the same on the entry's state.
 * false: the table takes it.
 */
static __always_inline bool es_tbl_cache_hit(struct es_ctx *c, struct es_tbl_cslot *s, bool v6)
{
	if (c->pkt.proto == IPPROTO_TCP) {
		if (c->pkt.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST))
			return false;
		if (es_tcp_rr_packet(c) && !es_tbl_cache_rr(c, s, v6))
			return false;
	} else if (es_rr_on() && !es_tbl_cache_rr(c, s, v6)) {
		return false;
	}
	es_flow_count(s->n, c->dir & 1, c->segs, c->bytes, c->pkt.tcp_flags, c->tick_ns);
	return true;
}

/*
 * After the table took the packet (at: 1 + where its entry is, 0 none;
 * sc: its counters when it was known before this packet): a FIN or RST
 * folds and frees the session's slot; a cacheable session takes the slot
 * from its second packet on, as in front of the maps (es_flow_after).
 */
static __always_inline void es_tbl_cache_after(struct es_ctx *c, struct es_tbl_cslot *s,
					       bool v6, __u32 at, struct es_session_counters *sc)
{
	if (c->pkt.tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) {
		if (c->slot_match) {
			es_tbl_fold(s, v6);
			s->n->valid = 0;
		}
		return;
	}
	if (c->slot_match) {
		if (at)
			*s->tbl_slot = at;
		return;
	}
	if (!sc || !es_flow_cacheable(c, sc))
		return;
	if (s->n->valid)	/* another session's slot: its counts go home first */
		es_tbl_fold(s, v6);
	if (v6)
		*(struct es_session_key6 *)s->key = c->pkt.k6;
	else
		*(struct es_session_key4 *)s->key = c->pkt.k4;
	*s->tbl_slot = at;
	s->n->last_ns = c->tick_ns;
	s->n->valid = 1;
	es_flow_arm();
}

/* A packet of family v6: its cache slot when it holds the session, else the table. */
static __always_inline void es_tbl_account(struct es_ctx *c, bool v6)
{
	struct es_tbl_where w = {};
	struct es_tbl_cslot s;
	struct es_tbl_entry *e;
	bool created = false, cached = false;

	if (ES_TBL_FLOW_CACHE) {
		cached = es_tbl_cache_slot(c, v6, &s);
		if (cached && c->slot_match && es_tbl_cache_hit(c, &s, v6))
			return;
	}
	e = es_tbl_count(c, v6, &w, &created);
	if (ES_TBL_FLOW_CACHE && cached)
		es_tbl_cache_after(c, &s, v6, e ? w.at + 1 : 0, e && !created ? &e->c : NULL);
}

#endif /* EDGESHIFT_BPF_SLOT_TABLE_H */
