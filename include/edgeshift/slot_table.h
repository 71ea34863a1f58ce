/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The slot table: the sessions of both families when the agent's
 * configuration says session_table: slots (es_meta.table_buckets
 * non-zero), in place of es_sessions4/6 and es_session_state4/6 (issue
 * 12, the new session under 300 ns). One table for both families, as one
 * session budget: an IPv6 entry costs 24 bytes more than an IPv4 one
 * would alone (the key's union), which a second table would save at the
 * price of a second set of maps, pins, walks and reclaims. The packet
 * path is bpf/lib/slot_table.h, user space reads it through
 * lib/bpf/slot_reader.c; docs/maps.md ("The slot table").
 *
 * Two BPF arrays made with BPF_F_MMAPABLE, which the programs index and
 * user space maps into its address space:
 * - es_tbl_tags: ES_TBL_BUCKETS(slots) buckets, each one cache line of
 *   ES_TBL_BUCKET_SLOTS 32-bit tag words and an overflow count;
 * - es_tbl_entries: one struct es_tbl_entry per slot, slot number
 *   bucket * ES_TBL_BUCKET_SLOTS + position in the bucket.
 * A key lives in its first bucket (es_tbl_hash) while that has room, else
 * in its second, and its first bucket's overflow counts it there: a packet
 * looks at the second bucket only when the first is full or has
 * overflowed, so a new session mostly touches one tag line and one entry.
 * There is no allocation, no lock and no eviction on the packet path: a
 * slot is claimed with one compare-and-swap on its tag, and a packet whose
 * key has no slot and finds none free in its two buckets is counted as skipped
 * (es_tbl_stats.no_slot and es_iface_stats.skipped[][ES_SKIP_NO_SLOT]).
 * Slots are freed by the collector only (docs/maps.md).
 *
 * Same rules as session.h: no implicit padding, every field documented.
 */
#ifndef EDGESHIFT_SLOT_TABLE_H
#define EDGESHIFT_SLOT_TABLE_H

#include "session.h"

/* Slots a bucket holds (its tags and overflow fill a 64-byte line); two buckets a key. */
#define ES_TBL_BUCKET_SLOTS	15

/*
 * Default buckets: 122,880 slots, about twice the default session map
 * size, so a full session budget fills about half the table.
 */
#define ES_TBL_BUCKETS_DEFAULT	8192
#define ES_TBL_SLOTS_DEFAULT	(ES_TBL_BUCKETS_DEFAULT * ES_TBL_BUCKET_SLOTS)

/* Buckets of a table of n slots (a power of two of buckets, at least 2). */
#define ES_TBL_BUCKETS(n)	((n) / ES_TBL_BUCKET_SLOTS)

/*
 * A tag word: bits 0-1 the slot's state, bits 2-31 the key's fingerprint
 * (es_tbl_hash) while the state is not ES_TBL_EMPTY. A packet compares
 * keys only in slots whose fingerprint equals its own.
 */
#define ES_TBL_STATE_MASK	3U
#define ES_TBL_EMPTY		0U	/* free; the whole word is zero */
#define ES_TBL_BUSY		1U	/* claimed by a program that is writing the entry */
#define ES_TBL_LIVE		2U	/* the entry holds a session; packets add to it */
#define ES_TBL_RECLAIM		3U	/* the collector is taking it back; packets leave it alone */

struct es_tbl_bucket {
	__u32	tag[ES_TBL_BUCKET_SLOTS];	/* tag word of each slot of the bucket (see above) */
	__u32	overflow;	/* sessions whose first bucket this is that live in their second:
				 * added to (atomically) before such a claim, taken from by the
				 * collector when it frees one; 0: no key of this bucket is elsewhere */
};

/*
 * One session: key, counters and state in one entry, so a new session is
 * one slot written and a UDP packet's request/response bookkeeping needs
 * no second look-up. Written by the program that claimed the slot while
 * the tag says ES_TBL_BUSY, then by any CPU with atomic adds (counters)
 * and the atomics of session.h (state) while ES_TBL_LIVE.
 */
union es_tbl_key {
	struct es_session_key4	k4;	/* an IPv4 session (the entry's v6 is 0); the
					 * bytes after it are left as they were */
	struct es_session_key6	k6;	/* an IPv6 session (v6 is 1) */
};

struct es_tbl_entry {
	union es_tbl_key		key;	/* the session; meaningful unless the tag is
						 * EMPTY */
	__u32				v6;	/* 1: key.k6 holds the session, 0: key.k4;
						 * keys of the two families never compare
						 * equal */
	struct es_session_counters	c;	/* as es_sessions4/6's value */
	struct es_session_state		st;	/* as es_session_state4/6's value */
};

/*
 * Per-CPU counters of the table (es_tbl_stats, a per-CPU array of one),
 * written by the programs only. Every packet the table path sees either
 * adds to a slot or is counted in no_slot or busy (and in
 * es_iface_stats.skipped[][ES_SKIP_NO_SLOT] or [ES_SKIP_SLOT_BUSY]).
 */
struct es_tbl_stats {
	__u64	created;	/* slots claimed for new sessions */
	__u64	no_slot;	/* packets of a new session that found both buckets full */
	__u64	busy;		/* packets that gave up waiting for another CPU's claim of a slot with
				 * their fingerprint (2^15 re-reads), lost every claim, or met a
				 * third fingerprint match in one bucket */
	__u64	in_second;	/* new sessions placed in their second bucket (the first was full) */
};

/*
 * Where a key may live: bucket one from the low bits, bucket two from bits
 * 20 and up (different when the table has two buckets or more), the
 * fingerprint from the high word. The same functions in the programs and
 * in every reader. Multiplies spread the words; the endpoints are already
 * in canonical order.
 */
/* h, the addresses' words multiplied, with the rest of a key of either family. */
static inline __attribute__((always_inline)) __u64
es_tbl_mix(__u64 h, __u16 port_lo, __u16 port_hi, __u32 ifindex, __u8 proto)
{
	h ^= ((__u64)((__u32)port_lo | (__u32)port_hi << 16) << 32 | ifindex) *
	     0xC2B2AE3D27D4EB4FULL;
	h ^= (__u64)proto * 0x165667B19E3779F9ULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	return h;
}

static inline __attribute__((always_inline)) __u64
es_tbl_hash4(const struct es_session_key4 *k)
{
	return es_tbl_mix(((__u64)k->addr_lo << 32 | k->addr_hi) * 0x9E3779B97F4A7C15ULL,
			  k->port_lo, k->port_hi, k->ifindex, k->proto);
}

/* An IPv6 key: each endpoint's address as two 64-bit words, each multiplied in. */
static inline __attribute__((always_inline)) __u64
es_tbl_hash6(const struct es_session_key6 *k)
{
	__u64 w[4];

	__builtin_memcpy(w, k->addr_lo, 16);
	__builtin_memcpy(w + 2, k->addr_hi, 16);
	return es_tbl_mix(w[0] * 0x9E3779B97F4A7C15ULL ^ w[1] * 0xD6E8FEB86659FD93ULL ^
			  w[2] * 0xA0761D6478BD642FULL ^ w[3] * 0xE7037ED1A0B428DBULL,
			  k->port_lo, k->port_hi, k->ifindex, k->proto);
}

/* The hash of an entry's or a packet's key of either family. */
static inline __attribute__((always_inline)) __u64
es_tbl_hash(const union es_tbl_key *k, __u32 v6)
{
	return v6 ? es_tbl_hash6(&k->k6) : es_tbl_hash4(&k->k4);
}

/* The fingerprint bits of a tag word for hash h. */
static inline __attribute__((always_inline)) __u32 es_tbl_fp(__u64 h)
{
	return (__u32)(h >> 32) & ~ES_TBL_STATE_MASK;
}

/* The two buckets of hash h in a table of nbuckets (a power of two, at least 2). */
static inline __attribute__((always_inline)) __u32 es_tbl_b1(__u64 h, __u32 nbuckets)
{
	return (__u32)h & (nbuckets - 1);
}

static inline __attribute__((always_inline)) __u32 es_tbl_b2(__u64 h, __u32 nbuckets)
{
	__u32 b = (__u32)(h >> 20) & (nbuckets - 1);

	return b != es_tbl_b1(h, nbuckets) ? b : b ^ 1;
}

#endif /* EDGESHIFT_SLOT_TABLE_H */
