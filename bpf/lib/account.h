/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-session accounting, called by both entry points with the packet's
 * direction. The common packet (TCP data of a known session) costs two
 * inlined per-CPU array updates (interface totals, the flow cache slot), a
 * key compare and a jiffies read: no hash-map lookup, no atomics, no
 * precise clock read, no shared cache line. A UDP or ICMP echo packet of a
 * known session adds one lookup of the shared state (request/response
 * latency), unless the loader turned that off (es_rr_latency_off);
 * anything else takes the session maps (the slow path). A new
 * session costs one insert into each session map with its first packet
 * already in the initial values (no look-up after an insert), reads the
 * precise clock only when that packet starts a latency measurement, and
 * takes no flow cache slot (its second packet does). A benchmark-only
 * build (ES_FLOW_DEFER, bpf/lib/flow_defer.h) measures the alternative:
 * the new session counted in a slot only, the inserts left to the sweep.
 */
#ifndef EDGESHIFT_BPF_ACCOUNT_H
#define EDGESHIFT_BPF_ACCOUNT_H

#include "maps.h"
#include "parse.h"
#include "clock.h"
#include "flow_cache.h"
#if ES_FLOW_DEFER
#include "flow_defer.h"
#endif

/*
 * A TCP packet consults the shared state while the session is young (its
 * entry counts fewer packets than this), so the ACK that completes a
 * handshake is seen without a state lookup on every data packet.
 */
#define ES_YOUNG_PKTS	4

#define EEXIST		17

/*
 * Set by the loader before load (the agent's request_latency: false): no
 * request/response latency for UDP and ICMP echo, so a known session's
 * packet of theirs counts in its flow cache slot without looking up the
 * shared state, as TCP data does. Zero (latency on) unless set.
 */
const volatile __u32 es_rr_latency_off = 0;

static __always_inline bool es_rr_on(void)
{
	return !es_rr_latency_off;
}

struct es_ctx {
	struct es_pkt		pkt;
	struct es_iface_stats	*ifs;	/* looked up only when needed */
	__u64			tick_ns;	/* jiffies-resolution now */
	__u64			now;		/* precise now, read only when needed */
	__u64			bytes;
	__u32			segs;
	__u32			dir;
	__u32			ifindex;
	bool			slot_match;	/* the flow cache slot holds this key */
	__u32			slot_i;		/* index of the key's flow cache slot */
};

static __always_inline struct es_iface_stats *es_ifs(struct es_ctx *c)
{
	if (!c->ifs)
		c->ifs = es_ifs_lookup(c->ifindex);
	return c->ifs;
}

static __always_inline __u64 es_now(struct es_ctx *c)
{
	if (!c->now)
		c->now = bpf_ktime_get_ns();
	return c->now;
}

static __always_inline __u32 es_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 es_lat_bucket(__u64 ns)
{
	__u32 b;

	if (ns < (1ULL << ES_LAT_BUCKET_SHIFT))
		return 0;
	b = es_log2(ns) - ES_LAT_BUCKET_SHIFT + 1;
	return b < ES_LAT_BUCKETS ? b : ES_LAT_BUCKETS - 1;
}

static __always_inline void es_lat_observe(struct es_ctx *c, __u32 kind, __u64 ns)
{
	struct es_iface_stats *ifs = es_ifs(c);
	__u32 b = es_lat_bucket(ns);

	if (!ifs || kind >= ES_LAT_MAX || b >= ES_LAT_BUCKETS)
		return;
	ifs->lat_count[kind]++;
	ifs->lat_sum_ns[kind] += ns;
	ifs->lat_hist[kind][b]++;
}

/* A request/response sample also goes into the session's own figures. */
static __always_inline void es_rr_sample(struct es_ctx *c, struct es_session_state *st,
					 __u32 kind, __u64 ns)
{
	st->lat_last_ns = ns;
	__sync_fetch_and_add(&st->lat_sum_ns, ns);
	__sync_fetch_and_add(&st->lat_count, 1);
	if (ns > st->lat_max_ns)
		st->lat_max_ns = ns;
	es_lat_observe(c, kind, ns);
}

static __always_inline void es_emit_close(struct es_ctx *c, __u32 flags)
{
	struct es_close_event ev = {};
	struct es_session_key4 *k4 = &c->pkt.k4;

	if (c->pkt.family == ES_FAMILY_INET6) {
		ev.key = c->pkt.k6;
	} else {
		ev.key.addr_lo[10] = 0xff;
		ev.key.addr_lo[11] = 0xff;
		__builtin_memcpy(&ev.key.addr_lo[12], &k4->addr_lo, 4);
		ev.key.addr_hi[10] = 0xff;
		ev.key.addr_hi[11] = 0xff;
		__builtin_memcpy(&ev.key.addr_hi[12], &k4->addr_hi, 4);
		ev.key.port_lo = k4->port_lo;
		ev.key.port_hi = k4->port_hi;
		ev.key.ifindex = k4->ifindex;
		ev.key.proto = k4->proto;
	}
	ev.family = c->pkt.family;
	ev.flags = flags;
	ev.closed_ns = es_now(c);
	if (bpf_ringbuf_output(&es_events, &ev, sizeof(ev), 0)) {
		struct es_iface_stats *ifs = es_ifs(c);

		/* The agent's periodic scan still finds the session. */
		if (ifs)
			ifs->close_events_lost++;
	}
}

/* Set state bits; the CPU that makes the session closed reports it once. */
static __always_inline void es_state_set(struct es_ctx *c, struct es_session_state *st,
					 __u32 bits)
{
	const __u32 both_fin = ES_STATE_FIN_RX | ES_STATE_FIN_TX;
	__u32 old, flags;

	old = __sync_fetch_and_or(&st->flags, bits);
	flags = old | bits;
	if (old & ES_STATE_CLOSED)
		return;
	if (!(flags & ES_STATE_RST) && (flags & both_fin) != both_fin)
		return;
	/* closed_ns first: the agent may read the entry as soon as CLOSED is set. */
	st->closed_ns = es_now(c);
	old = __sync_fetch_and_or(&st->flags, ES_STATE_CLOSED);
	if (old & ES_STATE_CLOSED)
		return;
	es_emit_close(c, flags | ES_STATE_CLOSED);
}

static __always_inline void es_hs_sample(struct es_ctx *c, struct es_session_state *st)
{
	__u64 t = __sync_lock_test_and_set(&st->hs_ts_ns, 0);
	__u64 now = es_now(c);

	if (t && now > t) {
		st->tcp_rtt_ns = now - t;
		es_lat_observe(c, ES_LAT_TCP_HANDSHAKE, now - t);
	}
}

/*
 * Handshake RTT: from our SYN leaving to the SYN-ACK arriving when we open,
 * from our SYN-ACK leaving to the peer's ACK arriving when the peer opens.
 */
static __always_inline void es_tcp_state(struct es_ctx *c, struct es_session_state *st)
{
	__u8 f = c->pkt.tcp_flags;
	bool rx = c->dir == ES_DIR_RX;

	if (f & TCP_FLAG_SYN) {
		if (!(st->flags & ES_STATE_SYN_SEEN))
			__sync_fetch_and_or(&st->flags, ES_STATE_SYN_SEEN);
		if (!rx)
			st->hs_ts_ns = es_now(c);
		else if ((f & TCP_FLAG_ACK) && st->hs_ts_ns)
			es_hs_sample(c, st);
	} else if (rx && (f & TCP_FLAG_ACK) && st->hs_ts_ns &&
		   (st->flags & ES_STATE_RX_INITIATED)) {
		es_hs_sample(c, st);
	}
	if (f & TCP_FLAG_RST)
		es_state_set(c, st, ES_STATE_RST);
	else if (f & TCP_FLAG_FIN)
		es_state_set(c, st, rx ? ES_STATE_FIN_RX : ES_STATE_FIN_TX);
}

/*
 * Request/response latency for UDP, ICMP echo and TCP segments that carry
 * payload (a bare ACK is neither). Who opened the session decides what a
 * request is: in a peer-opened session a request arrives and the reply
 * leaves (service time); in a locally opened one it is the reverse
 * (response time as the client sees it on this interface). A request
 * spread over several segments starts at its first, a reply is taken at
 * its first: for a client with one request outstanding (HTTP keep-alive,
 * Redis without pipelining) that is the service's time to first byte.
 */
static __always_inline void es_rr_state(struct es_ctx *c, struct es_session_state *st)
{
	bool peer_opened = st->flags & ES_STATE_RX_INITIATED;
	bool is_request = (c->dir == ES_DIR_RX) == peer_opened;
	__u64 t, now;

	/* ICMP echo says itself what is a request, whoever was seen first. */
	if (c->pkt.icmp_echo)
		is_request = c->pkt.icmp_echo == ES_ICMP_ECHO_REQUEST;

	if (is_request) {
		if (!st->req_ts_ns)
			__sync_val_compare_and_swap(&st->req_ts_ns, 0, es_now(c));
		return;
	}
	if (!st->req_ts_ns)
		return;
	t = __sync_lock_test_and_set(&st->req_ts_ns, 0);
	now = es_now(c);
	if (t && now > t)
		es_rr_sample(c, st, peer_opened ? ES_LAT_SERVICE : ES_LAT_RESPONSE,
			     now - t);
}

static __always_inline void es_skip(struct es_ctx *c, __u32 reason)
{
	struct es_iface_stats *ifs = es_ifs(c);

	if (ifs && reason < ES_SKIP_MAX)
		ifs->skipped[c->dir & 1][reason]++;
}

/*
 * The opener is whoever sent the first packet we saw, except that a bare
 * SYN or an echo request always comes from the opener, and a SYN-ACK or an
 * echo reply from the other side.
 */
static __always_inline __u32 es_opener_flags(struct es_ctx *c)
{
	__u8 f = c->pkt.tcp_flags;

	if (c->pkt.proto == IPPROTO_TCP && (f & TCP_FLAG_SYN))
		return ((c->dir == ES_DIR_RX) == !(f & TCP_FLAG_ACK)) ?
		       ES_STATE_RX_INITIATED : 0;
	if (c->pkt.icmp_echo)
		return ((c->dir == ES_DIR_RX) ==
			(c->pkt.icmp_echo == ES_ICMP_ECHO_REQUEST)) ?
		       ES_STATE_RX_INITIATED : 0;
	return c->dir == ES_DIR_RX ? ES_STATE_RX_INITIATED : 0;
}

/* The state of a session that already has its counters entry. */
static __always_inline struct es_session_state *es_state_get(struct es_ctx *c, void *map,
							     void *key)
{
	struct es_session_state *st, init = {};

	st = bpf_map_lookup_elem(map, key);
	if (st)
		return st;
	/* collected or evicted apart from its counters: start it afresh */
	init.created_ns = c->tick_ns;
	init.flags = es_opener_flags(c);
	bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/*
 * A TCP segment that is a request or a reply: with payload, when TCP
 * request/response latency is on (es_tcp_rr_on; the TCP paths test it
 * apart from UDP's so that, off, the verifier sees them as before it).
 */
static __always_inline bool es_tcp_rr_packet(struct es_ctx *c)
{
	return es_tcp_rr_on && es_rr_on() && c->pkt.tcp_data;
}

static __always_inline void es_state_apply(struct es_ctx *c, struct es_session_state *st)
{
	if (c->pkt.proto == IPPROTO_TCP) {
		es_tcp_state(c, st);
		if (es_tcp_rr_packet(c))
			es_rr_state(c, st);
	} else if (!c->pkt.ports_fixed && es_rr_on()) {
		/* ICMP errors, NDP, MLD: no request/reply pairs */
		es_rr_state(c, st);
	}
}

/* A new session's state with its first packet applied. */
static __always_inline void es_state_init(struct es_ctx *c, struct es_session_state *st)
{
	__builtin_memset(st, 0, sizeof(*st));
	st->created_ns = c->tick_ns;
	st->flags = es_opener_flags(c);
	es_state_apply(c, st);
}

/*
 * A new session's state, built whole on the stack with its first packet
 * applied and written in one insert: no look-up before or after it (each
 * walks a cold bucket). It replaces whatever an old entry of the same
 * tuple left (the state and counters maps lose entries independently).
 * created_ns is the tick: the precise clock is read only when the first
 * packet starts a latency measurement.
 */
static __always_inline void es_state_new(struct es_ctx *c, void *map, void *key)
{
	struct es_session_state init;

	es_state_init(c, &init);
	bpf_map_update_elem(map, key, &init, BPF_ANY);
}

/*
 * Insert a new session with its first packet already counted in the
 * initial value: one insert and no look-up after it. 1: counted (or
 * skipped for want of room); 0: another CPU created it meanwhile, add to
 * its entry. NOEXIST: when two CPUs create the same session at once only
 * one insert succeeds, so sessions_created counts each session once.
 */
static __always_inline int es_session_new(struct es_ctx *c, void *sessions, void *states,
					  void *key)
{
	struct es_session_counters init = {};
	struct es_iface_stats *ifs;
	__u32 dir = c->dir & 1;
	long err;

	init.first_ns = c->tick_ns;
	init.last_ns = c->tick_ns;
	/* constant indices: a variable one on the stack struct is refused */
	if (dir) {
		init.pkts[1] = c->segs;
		init.bytes[1] = c->bytes;
		init.tcp_flags[1] = c->pkt.tcp_flags;
	} else {
		init.pkts[0] = c->segs;
		init.bytes[0] = c->bytes;
		init.tcp_flags[0] = c->pkt.tcp_flags;
	}
	err = bpf_map_update_elem(sessions, key, &init, BPF_NOEXIST);
	if (err == -EEXIST)
		return 0;
	if (err) {
		es_skip(c, ES_SKIP_MAP_FULL);
		return 1;
	}
	ifs = es_ifs(c);
	if (ifs)
		ifs->sessions_created++;
	es_state_new(c, states, key);
	return 1;
}

static __always_inline bool es_needs_state(struct es_ctx *c, struct es_session_counters *sc)
{
	if (c->pkt.proto != IPPROTO_TCP)
		return true;
	if (c->pkt.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST))
		return true;
	return sc->pkts[ES_DIR_RX] + sc->pkts[ES_DIR_TX] < ES_YOUNG_PKTS;
}

/* The slot of this key on this CPU; slot_key: the key it holds. */
static __always_inline struct es_flow_counts *es_flow_slot(struct es_ctx *c, bool v6,
							   void **slot_key)
{
	struct es_flow_slot4 *s4;
	struct es_flow_slot6 *s6;
	__u32 i;

	if (v6) {
		i = es_flow_index6(&c->pkt.k6);
		c->slot_i = i;
		s6 = bpf_map_lookup_elem(&es_flow_cache6, &i);
		if (!s6)
			return NULL;
		c->slot_match = s6->n.valid && es_key6_eq(&s6->key, &c->pkt.k6);
		*slot_key = &s6->key;
		return &s6->n;
	}
	i = es_flow_index4(&c->pkt.k4);
	c->slot_i = i;
	s4 = bpf_map_lookup_elem(&es_flow_cache4, &i);
	if (!s4)
		return NULL;
	c->slot_match = s4->n.valid && es_key4_eq(&s4->key, &c->pkt.k4);
	*slot_key = &s4->key;
	return &s4->n;
}

/* The request/response bookkeeping on the shared state; false: it is gone. */
static __always_inline bool es_flow_rr(struct es_ctx *c, void *states, void *key)
{
	struct es_session_state *st = bpf_map_lookup_elem(states, key);

	if (!st)
		return false;
	es_rr_state(c, st);
	return true;
}

/*
 * A known session's packet counted in its slot: TCP without SYN, FIN or
 * RST (with payload and TCP latency on, after the request/response
 * bookkeeping); UDP and ICMP echo after the request/response
 * bookkeeping on the shared state. false: take the slow path.
 */
static __always_inline bool es_flow_hit(struct es_ctx *c, struct es_flow_counts *n,
					void *states, void *key)
{
	if (c->pkt.proto == IPPROTO_TCP) {
		if (c->pkt.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST))
			return false;
		if (es_tcp_rr_packet(c) && !es_flow_rr(c, states, key))
			return false;
	} else if (es_rr_on() && !es_flow_rr(c, states, key)) {
		return false;
	}
	es_flow_count(n, c->dir & 1, c->segs, c->bytes, c->pkt.tcp_flags, c->tick_ns);
	return true;
}

/*
 * After the slow path: whether later packets of this session may use the
 * slot. A TCP session does once it is past its first packets (the
 * handshake needs the shared state); a FIN or RST frees the slot (see
 * es_flow_after). ICMP errors never do.
 */
static __always_inline bool es_flow_cacheable(struct es_ctx *c, struct es_session_counters *sc)
{
	if (c->pkt.proto != IPPROTO_TCP)
		return !c->pkt.ports_fixed;
	return !(c->pkt.tcp_flags & TCP_FLAG_SYN) &&
	       sc->pkts[ES_DIR_RX] + sc->pkts[ES_DIR_TX] >= ES_YOUNG_PKTS;
}

static __always_inline void es_flow_take(struct es_ctx *c, struct es_flow_counts *n,
					 void *slot_key, void *sessions, bool v6)
{
	if (n->valid)	/* another session's slot: its counts go home first */
		es_flow_fold(n, sessions, slot_key, v6 ?
			     ((struct es_session_key6 *)slot_key)->ifindex :
			     ((struct es_session_key4 *)slot_key)->ifindex);
	if (v6)
		*(struct es_session_key6 *)slot_key = c->pkt.k6;
	else
		*(struct es_session_key4 *)slot_key = c->pkt.k4;
	n->last_ns = c->tick_ns;
	n->valid = 1;
	es_flow_arm();
}

static __always_inline void es_flow_after(struct es_ctx *c, struct es_flow_counts *n,
					  void *slot_key, void *sessions, void *key, bool v6,
					  struct es_session_counters *sc)
{
	if (!n)
		return;
	if (c->pkt.tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) {
		if (c->slot_match)
			es_flow_release(n, sessions, key, c->ifindex);
		return;
	}
	/*
	 * A session takes a slot from its second packet on (sc: it had an
	 * entry already), so a flood of one-packet tuples neither pushes known
	 * sessions out of the cache nor pays for folding them. A fresh slot
	 * (ES_FLOW_DEFER builds) stays: this fold would drop its pending state.
	 */
	if (sc && !c->slot_match && n->valid != ES_FLOW_FRESH && es_flow_cacheable(c, sc))
		es_flow_take(c, n, slot_key, sessions, v6);
}

#if ES_FLOW_DEFER
static __always_inline struct es_session_state *es_pending(struct es_ctx *c, bool v6)
{
	if (v6)
		return bpf_map_lookup_elem(&es_flow_pending6, &c->slot_i);
	return bpf_map_lookup_elem(&es_flow_pending4, &c->slot_i);
}

/* A packet a fresh slot counts by itself: one that needs no shared state. */
static __always_inline bool es_fresh_hit(struct es_ctx *c, struct es_flow_counts *n)
{
	if (c->pkt.proto == IPPROTO_TCP) {
		if (c->pkt.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST))
			return false;
		if (n->pkts[ES_DIR_RX] + n->pkts[ES_DIR_TX] < ES_YOUNG_PKTS)
			return false;
	} else if (es_rr_on()) {
		return false;
	}
	es_flow_count(n, c->dir & 1, c->segs, c->bytes, c->pkt.tcp_flags, c->tick_ns);
	return true;
}

/* Whether a tuple without a slot may take one without the maps (no close, no ICMP error). */
static __always_inline bool es_defer_ok(struct es_ctx *c)
{
	if (c->pkt.ports_fixed)
		return false;
	return c->pkt.proto != IPPROTO_TCP ||
	       !(c->pkt.tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST));
}

/*
 * The slot for this tuple, its occupant moved to the spill ring (a slot
 * whose counts are all folded needs no record). false: the ring is full.
 */
static __always_inline bool es_defer_take(struct es_ctx *c, struct es_flow_counts *n,
					  void *slot, bool v6)
{
	struct es_session_state *st = es_pending(c, v6);
	bool owed;

	if (!st)
		return false;
	owed = n->valid == ES_FLOW_FRESH ||
	       (n->valid && (n->pkts[ES_DIR_RX] | n->pkts[ES_DIR_TX]));
	if (owed && !es_spill(v6, slot, st))
		return false;
	if (v6)
		*(struct es_session_key6 *)slot = c->pkt.k6;
	else
		*(struct es_session_key4 *)slot = c->pkt.k4;
	__builtin_memset(n, 0, sizeof(*n));
	es_flow_count(n, c->dir & 1, c->segs, c->bytes, c->pkt.tcp_flags, c->tick_ns);
	n->valid = ES_FLOW_FRESH;
	es_state_init(c, st);
	es_flow_arm();
	return true;
}

/*
 * true: counted in the slot. false: the path without deferral takes the
 * packet; a fresh slot's session is put into the maps first, since that
 * path (and the packet's state) needs it there.
 */
static __always_inline bool es_defer_account(struct es_ctx *c, struct es_flow_counts *n,
					     void *slot, void *sessions, void *states, void *key,
					     bool v6)
{
	struct es_session_state *st;

	if (!c->slot_match)
		return es_defer_ok(c) && es_defer_take(c, n, slot, v6);
	if (n->valid != ES_FLOW_FRESH)
		return false;
	if (es_fresh_hit(c, n))
		return true;
	st = es_pending(c, v6);
	if (st)
		es_fresh_fold(n, st, sessions, states, key, c->ifindex);
	else
		n->valid = 1;
	return false;
}
#endif

static __always_inline void es_session_account(struct es_ctx *c, void *sessions,
					       void *states, void *key, bool v6)
{
	struct es_session_counters *sc;
	struct es_session_state *st;
	struct es_flow_counts *n;
	void *slot_key = NULL;
	__u32 dir = c->dir & 1;

	n = ES_FLOW_CACHE ? es_flow_slot(c, v6, &slot_key) : NULL;
#if ES_FLOW_DEFER
	if (n && es_defer_account(c, n, slot_key, sessions, states, key, v6))
		return;
#endif
	if (n && c->slot_match && es_flow_hit(c, n, states, key))
		return;
	sc = bpf_map_lookup_elem(sessions, key);
	if (!sc && es_session_new(c, sessions, states, key)) {
		es_flow_after(c, n, slot_key, sessions, key, v6, NULL);
		return;
	}
	if (!sc)	/* another CPU made it since our look-up */
		sc = bpf_map_lookup_elem(sessions, key);
	if (!sc) {
		es_skip(c, ES_SKIP_MAP_FULL);
		return;
	}
	if (es_needs_state(c, sc)) {
		st = es_state_get(c, states, key);
		if (st)
			es_state_apply(c, st);
	}
	es_counters_add(sc, dir, c->segs, c->bytes, c->pkt.tcp_flags, c->tick_ns);
	es_flow_after(c, n, slot_key, sessions, key, v6, sc);
}

static __always_inline void es_iface_count(struct es_ctx *c)
{
	struct es_iface_traffic *t;
	struct es_iface_stats *s;
	__u32 dir = c->dir & 1;

	if (c->ifindex < ES_IFINDEX_FAST) {
		t = bpf_map_lookup_elem(&es_iface_traffic, &c->ifindex);
		if (t) {
			t->pkts[dir] += c->segs;
			t->bytes[dir] += c->bytes;
		}
		return;
	}
	s = es_ifs(c);
	if (s) {
		s->pkts[dir] += c->segs;
		s->bytes[dir] += c->bytes;
	}
}

/* A packet (or GSO super-packet of segs segments) seen on ifindex in dir. */
static __always_inline void es_account_init(struct es_ctx *c, __u32 ifindex, __u32 dir,
					    __u32 segs)
{
	c->ifs = NULL;
	c->now = 0;
	c->slot_match = false;
	c->slot_i = 0;
	c->ifindex = ifindex;
	c->dir = dir & 1;
	c->segs = segs ? segs : 1;
}

/* Parse one packet into c->pkt: -1 (a session key), or its es_skip_reason. */
static __always_inline int es_account_parse(struct es_ctx *c, void *data, void *data_end)
{
	c->pkt.hdr_len = 0;
	c->pkt.tcp_flags = 0;
	c->pkt.ports_fixed = 0;
	c->pkt.icmp_echo = 0;
	c->pkt.tcp_data = 0;
	return es_parse(data, data_end, &c->pkt);
}

/*
 * Count the packet es_account_parse read (skip: its answer), of len
 * bytes, in the interface totals. false: it is not for session
 * accounting, and was counted as skipped with its reason.
 */
static __always_inline bool es_account_begin(struct es_ctx *c, int skip, __u64 len)
{
	c->bytes = len;
	if (skip < 0 && c->segs > 1)
		c->bytes += (__u64)(c->segs - 1) * c->pkt.hdr_len;
	es_iface_count(c);
	if (skip >= 0) {
		es_skip(c, skip);
		return false;
	}
	c->tick_ns = es_tick_ns();
	if (c->pkt.family == ES_FAMILY_INET6) {
		__builtin_memset(c->pkt.k6.reserved, 0, sizeof(c->pkt.k6.reserved));
		c->pkt.k6.ifindex = c->ifindex;
	} else {
		__builtin_memset(c->pkt.k4.reserved, 0, sizeof(c->pkt.k4.reserved));
		c->pkt.k4.ifindex = c->ifindex;
	}
	return true;
}

/* A packet es_account_begin took, into its session in the session maps. */
static __always_inline void es_maps_account(struct es_ctx *c)
{
	if (c->pkt.family == ES_FAMILY_INET6)
		es_session_account(c, &es_sessions6, &es_session_state6, &c->pkt.k6, true);
	else
		es_session_account(c, &es_sessions4, &es_session_state4, &c->pkt.k4, false);
}

/*
 * A packet es_account_begin took, into its session: the session maps,
 * unless the including object puts it elsewhere (ES_ACCOUNT_SESSION: the
 * slot table, bpf/lib/slot_table.h).
 */
static __always_inline void es_account_session(struct es_ctx *c)
{
#ifdef ES_ACCOUNT_SESSION
	ES_ACCOUNT_SESSION(c);
#else
	es_maps_account(c);
#endif
}

/*
 * Account one packet (or GSO super-packet of segs segments) of len bytes.
 * Never changes the packet and never drops it.
 */
static __always_inline void es_account(void *data, void *data_end, __u32 ifindex,
				       __u32 dir, __u64 len, __u32 segs)
{
	struct es_ctx c;
	int skip;

	es_account_init(&c, ifindex, dir, segs);
	skip = es_account_parse(&c, data, data_end);
	if (es_account_begin(&c, skip, len))
		es_account_session(&c);
}

#endif /* EDGESHIFT_BPF_ACCOUNT_H */
