/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Session accounting ABI shared by bpf/accounting.bpf.c and user space.
 *
 * These structs are the values that `bpftool map dump` prints, that the
 * agent reads through pinned maps, and that a restarted agent adopts. Every
 * struct is free of implicit padding (explicit reserved fields instead) so
 * that the BTF layout and the C layout agree byte for byte; selftests check
 * that. Change any of them and bump ES_MAP_LAYOUT_VERSION.
 */
#ifndef EDGESHIFT_SESSION_H
#define EDGESHIFT_SESSION_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h>	/* struct bpf_timer */
#endif

/*
 * Version of the pinned map layout. The agent stores it in the pinned
 * es_meta map and refuses (or rebuilds, as configured) a pin directory
 * whose version differs, so old bytes are never read with new structs.
 */
#define ES_MAP_LAYOUT_VERSION 5

/* Direction of a packet relative to the interface the program sits on. */
enum es_dir {
	ES_DIR_RX = 0,	/* arrived on the interface: XDP ingress */
	ES_DIR_TX = 1,	/* left through the interface: TC (tcx) egress */
	ES_DIR_MAX = 2,
};

/*
 * Why a packet was passed without session accounting. Such packets are
 * still counted in es_iface_stats.pkts/bytes, and by reason here.
 */
enum es_skip_reason {
	ES_SKIP_NON_IP = 0,	/* ethertype is neither IPv4 nor IPv6 (ARP, LLDP...) */
	ES_SKIP_VLAN = 1,	/* 802.1Q / 802.1ad tagged frame */
	ES_SKIP_TRUNCATED = 2,	/* a header ends past the end of the packet */
	ES_SKIP_FRAGMENT = 3,	/* IPv4 fragment or IPv6 fragment header */
	ES_SKIP_BAD_HEADER = 4,	/* IHL < 5, wrong IP version nibble, ... */
	ES_SKIP_OTHER_PROTO = 5,/* L4 protocol other than TCP, UDP, ICMP(v6) */
	ES_SKIP_IPV6_EXT = 6,	/* IPv6 extension header chain too long */
	ES_SKIP_MAP_FULL = 7,	/* session entry could not be created */
	ES_SKIP_NO_SLOT = 8,	/* slot table: a new session found both its buckets full */
	ES_SKIP_SLOT_BUSY = 9,	/* slot table: another CPU's claim outlived the wait (slot_table.h) */
	ES_SKIP_MAX = 10,
};

/* Address families, equal to AF_INET / AF_INET6. */
#define ES_FAMILY_INET	2
#define ES_FAMILY_INET6	10

/*
 * Bidirectional session keys: both directions of one conversation on one
 * interface map to the same key. The two endpoints are stored in canonical
 * order (a fixed total order on address, then port: the "lo" endpoint
 * sorts first), so a reply builds the same key as its request.
 *
 * IPv4 and IPv6 sessions live in separate maps because the hash of a
 * 20-byte key costs half that of a 44-byte one on the per-packet path.
 *
 * For ICMP echo, both ports hold the echo identifier; for other ICMP
 * messages port_lo is 0 and port_hi is the ICMP type, so an error message
 * is its own session rather than a member of the flow it reports on.
 */
struct es_session_key4 {
	__u32	addr_lo;	/* lower endpoint IPv4 address, network order */
	__u32	addr_hi;	/* higher endpoint IPv4 address, network order */
	__u16	port_lo;	/* port of addr_lo, network order (see above for ICMP) */
	__u16	port_hi;	/* port of addr_hi, network order */
	__u32	ifindex;	/* interface the session was seen on */
	__u8	proto;		/* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP */
	__u8	reserved[3];	/* zero; keeps the key free of padding */
};

struct es_session_key6 {
	__u8	addr_lo[16];	/* lower endpoint IPv6 address, network order */
	__u8	addr_hi[16];	/* higher endpoint IPv6 address, network order */
	__u16	port_lo;	/* port of addr_lo, network order (see above for ICMPv6) */
	__u16	port_hi;	/* port of addr_hi, network order */
	__u32	ifindex;	/* interface the session was seen on */
	__u8	proto;		/* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMPV6 */
	__u8	reserved[3];	/* zero; keeps the key free of padding */
};

/*
 * Traffic counters of one session (es_sessions4/6, LRU hashes), one entry
 * shared by all CPUs. A known session's common packet counts in its CPU's
 * flow cache slot instead (below), whose counts are folded in here with
 * atomic adds; packets that take the slow path add atomically too, and OR
 * new TCP flag bits into the 32-bit word holding tcp_flags[] atomically.
 * Readers add the slots that hold the key (es_flow_counts). The timestamps
 * come from jiffies (1/CONFIG_HZ resolution) converted to CLOCK_MONOTONIC,
 * because a precise clock read costs more than the rest of the per-packet
 * work; last_ns is a plain store of some CPU's latest tick.
 */
struct es_session_counters {
	__u64	pkts[ES_DIR_MAX];	/* packets per es_dir; GSO skbs count as their segments */
	__u64	bytes[ES_DIR_MAX];	/* L2 frame bytes per es_dir (Ethernet header included) */
	__u64	first_ns;		/* CLOCK_MONOTONIC ns of the session's first packet, tick resolution */
	__u64	last_ns;		/* CLOCK_MONOTONIC ns of a latest packet folded in, tick resolution */
	__u8	tcp_flags[ES_DIR_MAX];	/* OR of TCP flag bytes seen per es_dir (FIN=0x01 ... CWR=0x80) */
	__u8	reserved[6];		/* zero */
};

/*
 * Per-CPU flow cache in front of es_sessions4/6 (es_flow_cache4/6, per-CPU
 * arrays of ES_FLOW_SLOTS slots, direct-mapped by a hash of the key). A
 * known session's packet whose slot holds its key adds to the slot instead
 * of looking the session up: an inlined array lookup and a key compare
 * instead of a hash-map lookup. What a slot counted is folded into the
 * session's es_sessions entry (atomic adds) by the programs alone, on the
 * slot's CPU: when another session takes the slot, when a FIN or RST
 * passes, and by a per-CPU timer every ES_FLOW_SWEEP_NS, which also frees
 * slots idle that long. So the session's counters are its es_sessions
 * entry plus the slots of every CPU that hold its key; readers add both, and the
 * agent collects no session that a slot still holds (its idle and closed
 * sessions leave the cache within two sweeps).
 */
#define ES_FLOW_SLOTS		1024
#define ES_FLOW_SWEEP_NS	250000000ULL

/*
 * Where a key lives in the cache: the same function in the programs and in
 * the readers. Multiplies spread the words; the endpoints are already in
 * canonical order.
 */
static inline __attribute__((always_inline)) __u32
es_flow_mix(__u32 lo, __u32 hi, __u32 ports, __u32 ifindex, __u32 proto)
{
	__u32 h = lo * 0x9E3779B1U + hi * 0x85EBCA77U + ports * 0xC2B2AE3DU +
		  ifindex * 0x27D4EB2FU + proto;

	return (h ^ (h >> 15) ^ (h >> 24)) & (ES_FLOW_SLOTS - 1);
}

struct es_flow_counts {
	__u64	pkts[ES_DIR_MAX];	/* packets counted here and not yet folded, per es_dir */
	__u64	bytes[ES_DIR_MAX];	/* L2 bytes counted here and not yet folded */
	__u64	last_ns;		/* tick ns of the latest packet counted here (es_session_counters.last_ns) */
	__u8	tcp_flags[ES_DIR_MAX];	/* OR of TCP flag bytes counted here */
	__u8	valid;			/* 1: the key is live here; 0: free (nothing left to fold) */
	__u8	reserved[5];		/* zero */
};

struct es_flow_slot4 {
	struct es_session_key4	key;	/* the session this slot holds when valid */
	/*
	 * With the slot table (session_table: slots): 1 + (bucket << 4 |
	 * position) of the table slot the counts fold into, checked (LIVE,
	 * same key) before each use; 0: none (the session maps, or not known).
	 */
	__u32			tbl_slot;
	struct es_flow_counts	n;	/* what it counted since the last fold */
};

struct es_flow_slot6 {
	struct es_session_key6	key;	/* the session this slot holds when valid */
	__u32			tbl_slot;	/* as es_flow_slot4's */
	struct es_flow_counts	n;	/* what it counted since the last fold */
};

static inline __attribute__((always_inline)) __u32
es_flow_index4(const struct es_session_key4 *k)
{
	return es_flow_mix(k->addr_lo, k->addr_hi,
			   (__u32)k->port_lo | (__u32)k->port_hi << 16, k->ifindex, k->proto);
}

static inline __attribute__((always_inline)) __u32
es_flow_index6(const struct es_session_key6 *k)
{
	__u32 w[8];

	__builtin_memcpy(w, k->addr_lo, 16);
	__builtin_memcpy(w + 4, k->addr_hi, 16);
	return es_flow_mix(w[0] ^ w[1] ^ w[2] ^ w[3], w[4] ^ w[5] ^ w[6] ^ w[7], (__u32)k->port_lo | (__u32)k->port_hi << 16, k->ifindex,
			   k->proto);
}

/*
 * One sweep timer per CPU (es_flow_timers, an array indexed by CPU number,
 * max_entries = possible CPUs). Written by the programs only; pinned so
 * the timers keep running while the pins exist, agent or no agent.
 */
struct es_flow_timer {
	struct bpf_timer	timer;		/* fires every ES_FLOW_SWEEP_NS on its CPU */
	__u32			armed;		/* 1 once this CPU's timer is set up */
	__u32			reserved;	/* zero */
};

/* Bits of es_session_state.flags. */
#define ES_STATE_RX_INITIATED	(1U << 0)	/* first packet seen was RX: the peer opened the session */
#define ES_STATE_FIN_RX		(1U << 1)	/* a FIN arrived */
#define ES_STATE_FIN_TX		(1U << 2)	/* a FIN left */
#define ES_STATE_RST		(1U << 3)	/* a RST passed in either direction */
#define ES_STATE_CLOSED		(1U << 4)	/* FIN both ways or RST: the agent collects it after a linger */
#define ES_STATE_SYN_SEEN	(1U << 5)	/* the handshake was seen, so tcp_rtt_ns can be measured */

/* Kinds of latency sample, index of the per-interface histograms. */
enum es_lat_kind {
	ES_LAT_TCP_HANDSHAKE = 0,	/* our SYN (or SYN-ACK) out -> the peer's SYN-ACK (or ACK) in */
	ES_LAT_SERVICE = 1,		/* peer-initiated session: request in -> next reply out */
	ES_LAT_RESPONSE = 2,		/* locally initiated session: request out -> next reply in */
	ES_LAT_MAX = 3,
};

/*
 * Shared (not per-CPU) session state in es_session_state4/6, LRU hashes with
 * the same keys as es_sessions4/6. Times here are precise (ktime) ns, except
 * created_ns (tick resolution, like es_session_counters). Touched only by packets that change it:
 * TCP SYN/FIN/RST and request/response transitions of UDP and ICMP, so the
 * common TCP data packet costs a single map lookup. Fields written by
 * several CPUs at once are updated with atomic instructions.
 */
struct es_session_state {
	__u64	created_ns;	/* CLOCK_MONOTONIC ns when this entry was created, tick resolution */
	__u64	closed_ns;	/* when ES_STATE_CLOSED was set, else 0 */
	__u64	hs_ts_ns;	/* time our SYN or SYN-ACK left; 0 once the RTT is measured */
	__u64	req_ts_ns;	/* time the outstanding request passed; 0 when none is */
	__u64	tcp_rtt_ns;	/* handshake RTT measured on this interface, 0 if not seen */
	__u64	lat_last_ns;	/* latest request/response latency (kind from ES_STATE_RX_INITIATED) */
	__u64	lat_sum_ns;	/* sum of request/response latency samples */
	__u64	lat_max_ns;	/* largest request/response latency sample */
	__u32	lat_count;	/* number of request/response latency samples */
	__u32	flags;		/* ES_STATE_* bits */
};

/*
 * Width of the latency histograms: bucket i counts samples below 2^(i+10) ns
 * (about 1 us for i = 0, 4.3 s for i = 22); the last bucket (23) takes
 * everything above.
 */
#define ES_LAT_BUCKETS 24
#define ES_LAT_BUCKET_SHIFT 10

/*
 * Interfaces whose ifindex is below this have their packet and byte totals
 * in es_iface_traffic, a per-CPU array indexed by ifindex (one inlined
 * lookup per packet); interfaces above it use es_iface_stats.pkts/bytes.
 */
#define ES_IFINDEX_FAST	4096

/*
 * Per-CPU packet and byte totals of one interface (es_iface_traffic, a
 * per-CPU array indexed by ifindex). Every packet the programs see is
 * counted, so these are exact and monotonic whatever happens to session
 * entries (LRU eviction, collection, agent restart).
 */
struct es_iface_traffic {
	__u64	pkts[ES_DIR_MAX];	/* all packets per es_dir */
	__u64	bytes[ES_DIR_MAX];	/* all L2 bytes per es_dir */
};

/*
 * Per-CPU, per-interface counters of rarer events (es_iface_stats, a
 * per-CPU hash keyed by ifindex): only packets that skip accounting, create
 * a session or give a latency sample touch it.
 */
struct es_iface_stats {
	__u64	pkts[ES_DIR_MAX];		/* totals for ifindex >= ES_IFINDEX_FAST only */
	__u64	bytes[ES_DIR_MAX];		/* totals for ifindex >= ES_IFINDEX_FAST only */
	__u64	skipped[ES_DIR_MAX][ES_SKIP_MAX];	/* packets not accounted to a session, by reason */
	__u64	sessions_created;		/* session entries this interface inserted */
	__u64	lat_count[ES_LAT_MAX];		/* latency samples per es_lat_kind */
	__u64	lat_sum_ns[ES_LAT_MAX];		/* sum of samples per es_lat_kind */
	__u64	lat_hist[ES_LAT_MAX][ES_LAT_BUCKETS];	/* log2 histogram, see ES_LAT_BUCKETS */
	__u64	close_events_lost;		/* close events the full ring buffer refused */
};

/* Reasons a session ended, index of es_iface_closed.sessions. */
enum es_close_reason {
	ES_CLOSE_FIN = 0,	/* FIN seen in both directions */
	ES_CLOSE_RST = 1,	/* RST seen */
	ES_CLOSE_IDLE = 2,	/* no packet for the configured idle timeout */
	ES_CLOSE_MAX = 3,
};

/*
 * Totals of sessions the agent collected, per interface (es_iface_closed, a
 * hash keyed by ifindex, written only by the agent). Pinned, so a restarted
 * agent continues them and the exported counters never go backwards.
 */
struct es_iface_closed {
	__u64	sessions[ES_CLOSE_MAX];	/* collected sessions per es_close_reason */
	__u64	pkts[ES_DIR_MAX];	/* packets of collected sessions per es_dir */
	__u64	bytes[ES_DIR_MAX];	/* bytes of collected sessions per es_dir */
	__u64	deleted;		/* entries the agent removed from es_sessions */
};

/*
 * Event sent on es_events (ring buffer) when a session becomes closed, so
 * the agent collects it promptly instead of waiting for its periodic scan.
 */
struct es_close_event {
	struct es_session_key6	key;	/* the closed session; IPv4 as ::ffff:a.b.c.d */
	__u32	family;			/* ES_FAMILY_INET or ES_FAMILY_INET6: which map holds it */
	__u32	flags;			/* es_session_state.flags at close */
	__u32	reserved;		/* zero */
	__u64	closed_ns;		/* CLOCK_MONOTONIC ns of the closing packet */
};

/*
 * Single entry of es_meta (an array of one): what the pinned maps were made
 * with. Written by the agent that created the pins, checked by every agent
 * that adopts them.
 */
struct es_meta {
	__u32	layout_version;		/* ES_MAP_LAYOUT_VERSION of the creator */
	__u32	session_map_size;	/* the configured session budget: max_entries of the session
					 * maps (all four are 1 when table_buckets is set), and
					 * what the table is sized from */
	__u64	created_realtime_ns;	/* CLOCK_REALTIME ns when the pins were made */
	__u32	table_buckets;		/* buckets of the slot table holding the sessions
					 * (include/edgeshift/slot_table.h), 0: the session maps do */
	__u32	reserved;		/* zero */
};

/*
 * Names of an attached interface (es_ifaces, a hash keyed by ifindex,
 * written by the agent), so tools reading the pins without the agent can
 * label sessions, and a restarted agent knows which pod owns an interface.
 */
struct es_iface_info {
	char	ifname[16];		/* interface name when attached (IFNAMSIZ) */
	char	pod_namespace[64];	/* Kubernetes namespace of the owning pod (<= 63), or "" */
	char	pod_name[256];		/* name of the owning pod (<= 253), or "" */
	__u32	ifindex;		/* same as the key */
	__u32	attached;		/* bit 0: XDP, bit 1: tcx egress, bit 2: tcx ingress link pinned */
};

#endif /* EDGESHIFT_SESSION_H */
