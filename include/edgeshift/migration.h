/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Migration data plane ABI shared by bpf/migration.bpf.c and user space
 * (lib/migctl, lib/replay): the per-session migration state, the replay
 * buffer, the tunnel header between nodes, the map of services running on
 * other nodes, and the events raised for the agent.
 *
 * The protocol these serve is in docs/migration.md. Every struct
 * is free of implicit padding, like session.h. Change any of them and bump
 * ES_MIG_LAYOUT_VERSION.
 *
 * User sessions are IPv4 or IPv6 (UDP, TCP since layout 4, IPv6 since
 * layout 6); the tunnel between the nodes is UDP over IPv4 or, since
 * layout 8, over IPv6 (the family of the node's tunnel address), whatever
 * the family of the user's packet inside it.
 */
#ifndef EDGESHIFT_MIGRATION_H
#define EDGESHIFT_MIGRATION_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Version of the pinned migration maps (es_mig_config.layout_version):
 * 2: source-side hold (es_mig_remote.hold, es_mig_held);
 * 3: in-order delivery at the source (held keyed by sequence number,
 *    REORDER, fwd_base, tunnel base);
 * 4: TCP sessions (es_mig_session.old_snd_nxt..., es_mig_tcpblk);
 * 5: sequence translation (es_mig_xlate, es_mig_node_config.xlate);
 * 6: IPv6 users and services (16-byte addresses in es_mig_key,
 *    es_mig_svc_key);
 * 7: es_mig_session.tcp_old_late, old_cut_nxt;
 * 8: IPv6 between the nodes (16-byte node addresses: es_mig_node_config.
 *    local_addr, es_mig_session.source_addr, es_mig_svc.node_addr,
 *    es_mig_remote.peer_addr, es_mig_event.node_addr, es_mig_cmd.source_addr);
 * 9: a service entry can hold new users (ES_MIG_SVC_HOLD, es_mig_svc.held_new,
 *    sealed_ns);
 * 10: replies paired by their place in each container's stream, not by
 *    request, and compared (es_mig_rclaim, es_mig_session.reply_base,
 *    claims_failed, replies_diverged);
 * 11: the tunnel a session used before its latest (es_mig_remote.prev_addr,
 *    prev_last_seq, prev_seen);
 * 12: es_mig_record.len and es_mig_held.len written last (0: being made),
 *    ES_MIG_NO_COPY.
 */
#define ES_MIG_LAYOUT_VERSION	12

/*
 * Where a session is in its migration (es_mig_session.seq_state >> 56).
 * The numbers are part of the ABI: bpftool prints them.
 */
enum es_mig_session_state {
	ES_MIG_NONE = 0,	/* known, not migrating: requests pass to the local stack */
	ES_MIG_FORWARDING = 1,	/* requests go to the source node, a copy to the replay buffer */
	ES_MIG_HOLD = 2,	/* checkpoint window: requests are buffered, not sent; the agent sends them after */
	ES_MIG_REPLAYING = 3,	/* as FORWARDING, and the agent replays the buffer into the restored container */
	ES_MIG_CUTOVER = 4,	/* requests pass to the local (restored) container; replies deduplicated */
	ES_MIG_ABORTED = 5,	/* migration given up: requests still go to the source, buffered only
				 * until the source acknowledges them (src_acked), for the WAN's losses */
	ES_MIG_STATE_MAX = 6,
};

/* seq_state packs the state (top 8 bits) and the last assigned sequence number. */
#define ES_MIG_STATE_SHIFT	56
#define ES_MIG_SEQ_MASK		((1ULL << ES_MIG_STATE_SHIFT) - 1)

/*
 * Key of a migrating session, oriented user -> service (a request's source
 * and destination). Replies build it from their destination and source.
 */
struct es_mig_key {
	__u32	user_addr[4];	/* the user's address, network order: IPv6, or IPv4 mapped
				 * (::ffff:a.b.c.d, the IPv4 address in user_addr[3]) */
	__u32	svc_addr[4];	/* the service's address, the same way */
	__u16	user_port;	/* the user's port, network order */
	__u16	svc_port;	/* the service's port, network order */
	__u8	proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	__u8	reserved[3];	/* zero */
};

/*
 * The third word of an IPv4-mapped address (::ffff:0:0/96) in network
 * order: one family of keys for both, so every map and its readers stay
 * as they are for IPv4 and a key's family is in its address.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ES_MIG_V4_MAPPED	0xffff0000U
#else
#define ES_MIG_V4_MAPPED	0x0000ffffU
#endif

/* a = the IPv4-mapped form of IPv4 address v4 (network order). */
static inline __attribute__((always_inline)) void es_mig_addr4(__u32 *a, __u32 v4)
{
	a[0] = 0;
	a[1] = 0;
	a[2] = ES_MIG_V4_MAPPED;
	a[3] = v4;
}

/* Non-zero when address a is IPv4 (mapped); its IPv4 address is a[3]. */
static inline __attribute__((always_inline)) int es_mig_addr_is4(const __u32 *a)
{
	return !a[0] && !a[1] && a[2] == ES_MIG_V4_MAPPED;
}

/* Non-zero when addresses a and b are the same. */
static inline __attribute__((always_inline)) int es_mig_addr_eq(const __u32 *a, const __u32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Non-zero unless address a is all zeroes (not set). */
static inline __attribute__((always_inline)) int es_mig_addr_set(const __u32 *a)
{
	return (a[0] | a[1] | a[2] | a[3]) != 0;
}

/* d = s, for 16-byte addresses (word by word: the programs' stack and maps align them so). */
static inline __attribute__((always_inline)) void es_mig_addr_cpy(__u32 *d, const __u32 *s)
{
	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
	d[3] = s[3];
}

/* Bits of es_mig_session.flags. */
#define ES_MIG_F_MIRROR		(1U << 0)	/* keep a copy of each request in es_mig_replay */
#define ES_MIG_F_AUTO		(1U << 1)	/* created by the data plane on handoff detection */
#define ES_MIG_F_ABORT_HELD	(1U << 2)	/* aborted in HOLD: records (hold_seq, abort_seq] were
						 * never sent; user space sends them, then clears it */
/*
 * UDP: the restored container's replies so far were compared with the old
 * one's, and the old one's copies of them had all come: from now on its
 * copies pass when first, as after the cut-over (set by the catch-up).
 */
#define ES_MIG_F_COMPARED	(1U << 3)

/* Reasons in es_mig_session.abort_reason and es_mig_event.reason. */
enum es_mig_abort_reason {
	ES_MIG_ABORT_NONE = 0,
	ES_MIG_ABORT_BUFFER_FULL = 1,	/* replay_limit records outstanding */
	ES_MIG_ABORT_MAP_FULL = 2,	/* es_mig_replay has no free entry */
	ES_MIG_ABORT_TOO_BIG = 3,	/* a request longer than ES_MIG_RECORD_BYTES */
	ES_MIG_ABORT_AGENT = 4,		/* the agent aborted (restore failed, target lost...) */
	ES_MIG_ABORT_DIVERGED = 5,	/* TCP: the restored container sent other bytes than the old
					 * one at the same sequence number (a service that is not
					 * deterministic) */
	ES_MIG_ABORT_MAX = 6,
};

/*
 * Migration state of one session on the target node (es_mig_sessions, a
 * hash keyed by es_mig_key). Created by the agent (es_mig_ctl) or by the
 * ingress program on handoff detection. Fields marked "BPF" are written by
 * the packet programs with atomic instructions; the others by es_mig_ctl,
 * the only way user space changes an entry (a whole-value map update would
 * race with the programs' atomics).
 */
struct es_mig_session {
	__u64	seq_state;	/* BPF+ctl: state << 56 | last request sequence number assigned (1, 2, ...) */
	__u32	source_addr[4];	/* node running the old container: tunnel destination, as
				 * es_mig_key's addresses (IPv6, or IPv4 mapped) */
	__u32	flags;		/* ES_MIG_F_* */
	__u32	reserved0;	/* zero */
	__u64	cursor;		/* ctl: last sequence number already in the checkpoint: replay starts after it */
	__u64	replayed;	/* ctl: last sequence number replayed into the restored container */
	__u64	cut_seq;	/* ctl: last sequence number sent to the source (set at cut-over) */
	__u64	hold_seq;	/* ctl: last sequence number sent to the source when HOLD began */
	__u32	replay_limit;	/* records past the cursor this session may hold in es_mig_replay */
	__u32	abort_reason;	/* es_mig_abort_reason, set with ES_MIG_ABORTED */
	__u64	abort_seq;	/* BPF+ctl: last sequence number assigned when it was aborted */
	__u64	forwarded;	/* BPF: requests encapsulated to the source */
	__u64	mirrored;	/* BPF: requests copied into es_mig_replay */
	__u64	held;		/* BPF: requests buffered but not sent during HOLD */
	__u64	old_replies;	/* BPF: highest reply ordinal the source sent back */
	__u64	new_replies;	/* BPF: replies of the restored container seen: its n-th is
				 * the old container's reply reply_base + n (es_mig_rclaim) */
	__u64	suppressed_old;	/* BPF: source replies dropped: the restored container answered first */
	__u64	suppressed_new;	/* BPF: restored container replies dropped: already answered */
	__u64	passed_local;	/* BPF: requests passed to the local container after cut-over */
	__u64	fwd_errors;	/* BPF: requests that could not be encapsulated or routed (dropped) */
	__u64	created_ns;	/* CLOCK_MONOTONIC ns when the entry was made */
	__u64	changed_ns;	/* CLOCK_MONOTONIC ns of the latest state change */
	__u64	fwd_base;	/* BPF+ctl: last sequence number before forwarding began (0 when
				 * it began with the first); sent in the tunnel header so that
				 * the source knows which request comes first */
	/*
	 * The source's replies over a lossy WAN: each ordinal passes once
	 * (es_mig_rseen remembers the ordinals that arrived). old_base: every
	 * ordinal up to it arrived or was given up; one missing between
	 * old_base and old_replies is a gap the agent has the source send
	 * again (its copy in es_mig_sent) or gives up. Written by the tunnel's
	 * XDP program, which sees one session's tunnel flow on one CPU, and by
	 * es_mig_ctl.
	 */
	__u64	old_base;	/* BPF+ctl */
	__u64	dup_replies;	/* BPF: source replies that arrived again (dropped) */
	__u64	replies_lost;	/* ctl: source replies given up (never arrived) */
	__u64	src_acked;	/* BPF: the last request the source delivered in sequence, as its
				 * replies tell (tunnel header base): an ABORTED session keeps
				 * mirroring past it, and the agent drops the records up to it */
	/*
	 * TCP sessions (key proto IPPROTO_TCP): the byte streams the two
	 * containers send towards the user, sequence numbers in host order,
	 * compared in serial number arithmetic (RFC 1982). A field is valid
	 * once its ES_MIG_TCP_* bit is in tcp_seen. The agent lowers the ACKs
	 * it replays to new_snd_nxt (Linux drops a segment that acknowledges
	 * bytes its socket has not sent) and cuts over when new_ack has reached
	 * the user's stream and new_snd_nxt the old container's.
	 */
	__u32	old_snd_nxt;	/* BPF: end (sequence number + payload, SYN and FIN counted)
				 * of the furthest segment of the old container */
	__u32	new_snd_nxt;	/* BPF: the same for the restored container */
	__u32	new_ack;	/* BPF: the furthest acknowledgement number the restored
				 * container sent: what it received of the user's stream */
	__u32	tcp_seen;	/* BPF: ES_MIG_TCP_* */
	__u32	old_hashed;	/* BPF: the end of the furthest payload of the old
				 * container hashed into es_mig_tcpblk (holes are possible
				 * below it: their blocks stay incomplete; ES_MIG_TCP_OLD_DATA) */
	__u32	new_hashed;	/* BPF: the same for the restored container (ES_MIG_TCP_NEW_DATA) */
	__u32	old_from;	/* BPF: the lowest sequence number of the old container's
				 * payload hashed (the first this node saw, or one below it
				 * that arrived later) */
	__u32	new_from;	/* BPF: the same for the restored container */
	__u64	tcp_matched;	/* BPF: ES_MIG_TCP_BLOCK-byte blocks of the stream both
				 * containers sent with the same bytes */
	__u64	tcp_diverged;	/* BPF: ... with other bytes: the migration is aborted */
	__u64	tcp_unhashed;	/* BPF: payload segments whose bytes could not all be read
				 * for hashing (a GSO packet is hashed whole): the check fails */
	__u64	tcp_old_late;	/* BPF: segments of the old container that came after the
				 * cut-over with bytes the restored one had sent (its copy
				 * taken before the cut-over), passed to the user */
	__u32	old_cut_nxt;	/* ctl: old_snd_nxt when the session was cut over
				 * (ES_MIG_TCP_CUT_OLD): a late segment passes only past it,
				 * never a retransmission of what the user had before */
	__u32	reserved2;	/* zero */
	/*
	 * UDP: the source's reply ordinal when the old container was frozen
	 * for its checkpoint. Both containers go on from that frozen state
	 * with the same requests, so the old container's reply reply_base + n
	 * and the restored container's n-th reply are the same datagram,
	 * however many (0, 1, several) each request gets. SET_CURSOR sets it
	 * to the cursor (one reply per request); the source's cursor step
	 * then to its count (SET_REPLY_BASE).
	 */
	__u64	reply_base;	/* ctl */
	__u64	claims_failed;	/* BPF: replies that could not claim their ordinal
				 * (es_mig_rclaim full): the check fails */
	__u64	replies_diverged;	/* BPF: second copies whose payload differs from
					 * the first's (es_mig_rclaim.digest): the service
					 * is not deterministic, the migration is given up */
};

/* Bits of es_mig_session.tcp_seen. */
#define ES_MIG_TCP_OLD_SEEN	(1U << 0)	/* old_snd_nxt is valid */
#define ES_MIG_TCP_NEW_SEEN	(1U << 1)	/* new_snd_nxt is valid */
#define ES_MIG_TCP_NEW_ACK	(1U << 2)	/* new_ack is valid */
#define ES_MIG_TCP_NEW_DATA	(1U << 3)	/* new_hashed is valid */
#define ES_MIG_TCP_OLD_DATA	(1U << 4)	/* old_hashed is valid */
#define ES_MIG_TCP_CUT_OLD	(1U << 5)	/* old_cut_nxt is valid */

/*
 * Target side, TCP: the two streams compared block by block, whatever the
 * segments they came in and their order (es_mig_tcpblk, an LRU hash). Each
 * container's bytes add into the block of their sequence number a sum of
 * their position-mixed values, each position once (its mask); a block both
 * sent whole is compared once.
 */
#define ES_MIG_TCP_BLOCK_SHIFT	6
#define ES_MIG_TCP_BLOCK	(1U << ES_MIG_TCP_BLOCK_SHIFT)	/* bytes per block */

struct es_mig_tcpblk_key {
	struct es_mig_key	session;	/* the session */
	__u32	block;		/* sequence number >> ES_MIG_TCP_BLOCK_SHIFT */
	__u32	reserved;	/* zero */
};

struct es_mig_tcpblk {
	__u64	sum_old;	/* BPF: sum of mix(sequence number, byte) of the old container's bytes */
	__u64	sum_new;	/* BPF: the same for the restored container's */
	__u32	count_old;	/* BPF: bytes added into sum_old (ES_MIG_TCP_BLOCK: whole) */
	__u32	count_new;	/* BPF: bytes added into sum_new */
	__u32	compared;	/* BPF: 1 once compared (the second side to complete it) */
	__u32	reserved;	/* zero */
	__u64	mask_old;	/* BPF: bit i: the old container's byte at block offset i is
				 * in sum_old (a byte sent again is not added twice) */
	__u64	mask_new;	/* BPF: the same for the restored container's */
};

/*
 * Target side, UDP: which container's copy of one reply reached the user
 * (es_mig_rclaim, a hash keyed by es_mig_record_key whose seq is the
 * source's reply ordinal). Made by the first copy, of either container,
 * while a migration is under way; the second copy finds the other's bit
 * and is dropped, and compares its payload's digest with the first's. The
 * agent deletes those at or below reply_base (before the checkpoint,
 * answered by the old container alone) and the rest with the session.
 */
struct es_mig_rclaim {
	__u32	answered;	/* ES_MIG_ANS_OLD, _NEW, _NEW_SEEN, set atomically */
	__u32	digest;		/* the first copy's: FNV-1a of the UDP payload's length and
				 * first ES_MIG_DIGEST_BYTES bytes */
};

/* Bytes of a UDP reply's payload its digest covers, from the start (and its length). */
#define ES_MIG_DIGEST_BYTES	256

/* Longest request (IP header to end of payload) the replay buffer holds. */
#define ES_MIG_RECORD_BYTES	1500

/* Bits of es_mig_rclaim.answered and es_mig_record.answered. */
#define ES_MIG_ANS_OLD		(1U << 0)	/* the source's copy passed to the user */
#define ES_MIG_ANS_NEW		(1U << 1)	/* the restored container's copy passed */
#define ES_MIG_ANS_REPLAYED	(1U << 2)	/* user space replayed it into the restored container */
/*
 * The restored container's copy was seen and dropped: before the cut-over
 * the old container's copy is the one the user gets, so that a service
 * found not deterministic is given up with nothing of the restored one
 * shown to the user.
 */
#define ES_MIG_ANS_NEW_SEEN	(1U << 3)
/* The restored container's copy came, passed or dropped. */
#define ES_MIG_ANS_NEW_ANY	(ES_MIG_ANS_NEW | ES_MIG_ANS_NEW_SEEN)

/* Key of the replay buffer: one record per mirrored request. */
struct es_mig_record_key {
	struct es_mig_key	session;	/* the session it belongs to */
	__u64			seq;		/* its sequence number in that session */
};

/*
 * One buffered request (es_mig_replay, a hash keyed by es_mig_record_key;
 * its max_entries bounds all sessions together, replay_limit each one).
 * Pinned, so it survives an agent restart until the agent deletes it
 * after cut-over or abort.
 */
#define ES_MIG_NO_COPY	0xffffffffU	/* es_mig_record.len, es_mig_held.len: bytes not copied */
struct es_mig_record {
	__u64	ts_ns;		/* CLOCK_MONOTONIC ns when the request arrived */
	__u32	len;		/* bytes of data used: the IP packet as received;
				 * written last, by an atomic exchange: 0 while the
				 * program is still making the record (the request's
				 * number is taken first); ES_MIG_NO_COPY: its copy
				 * failed (the session aborts) */
	__u32	answered;	/* ES_MIG_ANS_REPLAYED, set atomically (the claims of the
				 * replies are in es_mig_rclaim since layout 10) */
	__u8	data[ES_MIG_RECORD_BYTES];	/* IP header (4 or 6), L4 header, payload */
	__u8	reserved[4];	/* zero; keeps the size a multiple of 8 */
};

/* A service running on another node (es_mig_services, a hash). */
struct es_mig_svc_key {
	__u32	svc_addr[4];	/* service address, as es_mig_key.svc_addr */
	__u16	svc_port;	/* service port, network order; 0: every port */
	__u8	proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	__u8	reserved;	/* zero */
};

/* Bits of es_mig_svc.flags. */
#define ES_MIG_SVC_FORWARD	(1U << 0)	/* start forwarding a newly seen user at once */
#define ES_MIG_SVC_MIRROR	(1U << 1)	/* and mirror its requests from the first one */
/*
 * Sealed: the migration of the service is closing the set of connections
 * it carries (docs/migration.md, "The seal"). A packet of a user with no
 * session is dropped, not forwarded and no session made; the user's TCP
 * sends its SYN again (after 1 s, then 3 s...), which reaches the
 * restored container once the seal is lifted at cut-over (the entry
 * deleted), or the old one if the migration is given up (HOLD cleared).
 */
#define ES_MIG_SVC_HOLD		(1U << 2)

struct es_mig_svc {
	__u32	node_addr[4];	/* node running it: tunnel destination (IPv6, or IPv4 mapped) */
	__u32	flags;		/* ES_MIG_SVC_* */
	__u32	replay_limit;	/* replay_limit of sessions created from this entry */
	__u64	handoffs;	/* BPF: users seen arriving here for it (events raised) */
	__u64	held_new;	/* BPF: packets of users with no session dropped under HOLD */
	__u64	sealed_ns;	/* agent: CLOCK_MONOTONIC ns HOLD was set, 0 without it (a
				 * seal outliving its migration is lifted by the agent) */
};

/*
 * Node settings of the migration programs (es_mig_config, an array of
 * one). Written by the agent; the programs forward and decapsulate only
 * when local_addr and tunnel_port are set.
 */
struct es_mig_node_config {
	__u32	layout_version;	/* ES_MIG_LAYOUT_VERSION of the maps' creator */
	__u32	local_addr[4];	/* this node's tunnel address (outer source; IPv6, or IPv4
				 * mapped): its family is the tunnel's, every peer's the same */
	__u16	tunnel_port;	/* UDP port of the tunnel on every node, network order */
	__u16	reserved;	/* zero */
	__u32	default_replay_limit;	/* replay_limit when a command gives 0 */
	__u32	active;		/* 1 while any session or service entry exists; 0 lets the
				 * ingress program skip its lookups (set by the library) */
	__u32	xlate;		/* 1 while es_mig_xlate may hold an entry: the programs look
				 * TCP segments up there only then (set by the library) */
};

/*
 * Sequence translation of one TCP connection the restored container
 * accepted itself (its SYN replayed after the checkpoint, so the image
 * does not hold it): the user's end knows the old container's initial
 * sequence number and timestamp clock, the restored socket its own. Keyed
 * by es_mig_key (user -> service) in es_mig_xlate, a hash written by user
 * space (lib/migctl): in LEARN before the replay hands the user's SYN to
 * the restored container, with the old container's ISN; the programs then
 * take seq_delta from the restored container's SYN-ACK, and user space
 * adds the timestamp delta and clears LEARN. The deltas are applied by the
 * programs to every segment passed between the user and the local
 * container, for the connection's whole life (docs/migration.md,
 * "Connections opened during the window"):
 *  - towards the container: the acknowledgement number and the SACK block
 *    edges gain seq_delta, the timestamp echo (TSecr) ts_delta;
 *  - from the container: the sequence number loses seq_delta, the
 *    timestamp value (TSval) ts_delta.
 * The user's own sequence numbers are the same for both sockets (the
 * replayed SYN is the user's), so nothing else changes. Segments still
 * forwarded to the old container are not touched.
 */
#define ES_MIG_XLATE_TS		(1U << 0)	/* both SYN-ACKs carried timestamps: translate them */
#define ES_MIG_XLATE_LEARN	(1U << 1)	/* seq_delta is learned by the programs from the
						 * restored container's SYN-ACK (to old_isn);
						 * timestamps are not translated yet */

/* Bits of es_mig_xlate.closed, set by the programs (atomic or). */
#define ES_MIG_XLATE_FIN_IN	(1U << 0)	/* the user sent FIN */
#define ES_MIG_XLATE_FIN_OUT	(1U << 1)	/* the container sent FIN */
#define ES_MIG_XLATE_RST	(1U << 2)	/* either sent RST */

struct es_mig_xlate {
	__u32	seq_delta;	/* restored ISN - old ISN (mod 2^32); BPF writes it in LEARN */
	__u32	ts_delta;	/* restored TSval - the old one at the same moment, less a margin
				 * (mod 2^32; ES_MIG_XLATE_TS) */
	__u32	flags;		/* ES_MIG_XLATE_* (user space) */
	__u32	closed;		/* BPF: ES_MIG_XLATE_FIN_IN | _FIN_OUT | _RST seen */
	__u32	old_isn;	/* LEARN: the old container's ISN (the user's ACK of its SYN-ACK,
				 * less one) */
	__u32	new_isn;	/* BPF, LEARN: the restored container's, from its SYN-ACK */
	__u32	new_tsval;	/* BPF, LEARN: that SYN-ACK's TSval (new_ts set) */
	__u32	learned;	/* BPF: ES_MIG_XLATE_LEARNED once new_isn, new_tsval and new_ns are
				 * set, | ES_MIG_XLATE_NEW_TS when the SYN-ACK had a timestamp */
	__u64	new_ns;		/* BPF, LEARN: CLOCK_MONOTONIC ns when that SYN-ACK was seen
				 * (coarse: up to one tick early) */
	__u64	in_segs;	/* BPF: segments translated towards the container */
	__u64	out_segs;	/* BPF: segments translated towards the user */
	__u64	bad_opts;	/* BPF: segments whose TCP options could not be walked (malformed or
				 * longer than the header): sequence numbers translated, options
				 * left as they came */
	__u64	last_ns;	/* BPF: CLOCK_MONOTONIC ns of the latest segment (coarse), for user
				 * space to drop an entry idle or closed */
};

/* Bits of es_mig_xlate.learned. */
#define ES_MIG_XLATE_LEARNED	(1U << 0)
#define ES_MIG_XLATE_NEW_TS	(1U << 1)

/*
 * Header after the outer IP (IPv4 or IPv6) and UDP headers of the tunnel
 * between nodes, followed by the user's IP packet (either family)
 * unchanged. The outer UDP checksum is 0 over both families: the receiving
 * node's XDP program takes the packet before any socket would check it
 * (over IPv6, RFC 6935 and 6936 allow it for a tunnel whose receiver is so
 * configured), and the inner packet keeps its own checksum.
 */
#define ES_MIG_TUN_MAGIC	0x4553	/* "ES" */
#define ES_MIG_TUN_VERSION	2	/* 2: base */

enum es_mig_tun_type {
	ES_MIG_TUN_REQUEST = 1,	/* target -> source: a user's request, seq = its number */
	ES_MIG_TUN_REPLY = 2,	/* source -> target: the old container's reply, seq = its ordinal */
};

struct es_mig_tunhdr {
	__be16	magic;		/* ES_MIG_TUN_MAGIC, network order */
	__u8	version;	/* ES_MIG_TUN_VERSION */
	__u8	type;		/* es_mig_tun_type */
	__be32	base;		/* REQUEST: the session's fwd_base (low 32 bits): the request
				 * after it is the first the source is sent; REPLY: the
				 * source's last_seq (low 32 bits), its acknowledgement */
	__be64	seq;		/* network order */
};

/* Outer headers the tunnel adds in front of the user's IP packet. */
#define ES_MIG_ENCAP_LEN	(20 + 8 + 16)	/* IPv4 + UDP + es_mig_tunhdr */
#define ES_MIG_ENCAP6_LEN	(40 + 8 + 16)	/* IPv6 + UDP + es_mig_tunhdr */

/*
 * Source-side hold (es_mig_remote.hold >> 56): while the source agent
 * checkpoints the old container, tunnelled requests are kept in es_mig_held
 * instead of being delivered, so the checkpoint holds exactly the requests
 * delivered before the hold. The numbers are part of the ABI.
 */
enum es_mig_src_state {
	ES_MIG_SRC_OPEN = 0,	/* the next request in sequence goes to the old container */
	ES_MIG_SRC_HOLD = 1,	/* tunnelled requests are kept in es_mig_held (checkpoint) */
	ES_MIG_SRC_REORDER = 2,	/* a request is missing (lost or late on the WAN): later ones
				 * are kept in es_mig_held until the agent has it sent again
				 * and delivers them in sequence */
	ES_MIG_SRC_STATE_MAX = 3,
};

/* Bits of es_mig_remote.flags. */
#define ES_MIG_RF_HOLD_BROKEN	(1U << 0)	/* a request met HOLD but could not be kept and was
						 * delivered: the checkpoint's cursor is not exact */
#define ES_MIG_RF_SKIPPED	(1U << 1)	/* a missing request was given up (the target no longer
						 * had it): the old container never got it */
#define ES_MIG_RF_NO_BASE	(1U << 2)	/* made by the hold or by the agent before any
						 * request arrived: the first one from a node
						 * other than prev_addr gives last_seq, and
						 * that node is the peer */

/*
 * Source-side view of a session whose requests arrive through the tunnel
 * (es_mig_remote, a hash keyed by es_mig_key): its replies go back to
 * peer_addr, encapsulated. Created by the decapsulating program on the
 * first tunnelled request, by the source-side hold, or by the agent for
 * each TCP session when the migration starts (es_mig_src_open: an idle
 * connection tunnels nothing); deleted by the agent when the migration is
 * done (a failed one keeps it).
 *
 * Requests reach the old container once each and in sequence: last_seq is
 * the last one delivered; the next one (last_seq + 1) passes at once while
 * OPEN; one that arrives again (at most last_seq, or already kept) is
 * dropped; one past a missing one is kept and the state becomes REORDER,
 * until the agent has the missing one sent again by the target (from its
 * replay buffer) and delivers the kept ones in sequence.
 *
 * Each target numbers a session's requests from its own start, so the
 * numbers above are peer_addr's. A request from another node (the user
 * moved on again, or a migration goes to another node after one that
 * failed) makes that node the peer, its request's base the new last_seq,
 * its counts of requests and replies 0 (the new node counts the replies
 * from its first too), and what the entry knew of the node before it
 * prev_addr and prev_last_seq: that node's requests still on their way
 * (a failed target's abort sends its held ones late) pass once each,
 * unordered, and never move the new node's numbers. When a migration
 * starts, the agent makes anew an entry naming another peer than the
 * target (es_mig_src_retarget): NO_BASE, the peer it names then only a
 * guess until the first request.
 */
struct es_mig_remote {
	__u32	peer_addr[4];	/* target node that sent the requests (IPv6, or IPv4 mapped) */
	__u32	flags;		/* BPF+ctl: ES_MIG_RF_* */
	__u32	reserved;	/* zero */
	__u64	delivered;	/* BPF+ctl: tunnelled requests passed to the old container */
	__u64	last_seq;	/* BPF+ctl: sequence number of the latest of them (all before it
				 * were delivered or given up) */
	__u64	replies;	/* BPF: replies encapsulated back (the latest one's ordinal) */
	__u64	errors;		/* BPF: replies that could not be encapsulated or routed */
	__u64	created_ns;	/* CLOCK_MONOTONIC ns the entry was made */
	__u64	hold;		/* BPF+ctl: es_mig_src_state << 56 | tunnelled requests arrived (1, 2, ...) */
	__u64	hold_at;	/* ctl: delivered when the latest hold began */
	__u64	held;		/* BPF: requests kept in es_mig_held (hold or reorder) */
	__u64	released;	/* ctl: kept requests the agent delivered */
	__u64	hold_ns;	/* ctl: CLOCK_MONOTONIC ns of the latest hold or release */
	__u64	dup;		/* BPF: requests that arrived again (dropped) */
	__u64	gaps;		/* BPF: times a request arrived past a missing one */
	__u64	skipped;	/* ctl: missing requests given up (ES_MIG_RF_SKIPPED) */
	__u32	prev_addr[4];	/* BPF+ctl: the node whose tunnel the session used before
				 * peer_addr's (all zero: none) */
	__u64	prev_last_seq;	/* BPF+ctl: peer_addr's last_seq when prev_addr took its
				 * place: prev_addr's requests up to it are dropped as copies */
	__u64	prev_seen;	/* BPF+ctl: bit n: prev_addr's request prev_last_seq + 1 + n
				 * was delivered (a second copy is dropped) */
};

/*
 * A request kept at the source (es_mig_held, a hash keyed by
 * es_mig_record_key whose seq is the request's sequence number): during a
 * hold, or past a missing request. The agent delivers them in sequence.
 * The same struct is the source's copy of a reply it sent through the
 * tunnel (es_mig_sent, an LRU hash keyed by ordinal; seq: the ordinal),
 * kept to be sent again when the target misses it.
 */
struct es_mig_held {
	__u64	seq;		/* the request's sequence number in the tunnel header */
	__u64	ts_ns;		/* CLOCK_MONOTONIC ns when it arrived */
	__u32	len;		/* bytes of data used: the user's IP packet; written
				 * last, by an atomic exchange (0: being made), as
				 * es_mig_record.len; ES_MIG_NO_COPY: kept, but
				 * its bytes could not be copied */
	__u32	reserved;	/* zero */
	__u8	data[ES_MIG_RECORD_BYTES];	/* IP header (4 or 6), L4 header, payload */
	__u8	reserved2[4];	/* zero; keeps the size a multiple of 8 */
};

/* Kinds of es_mig_event. */
enum es_mig_event_type {
	ES_MIG_EV_HANDOFF = 1,	/* a user reached this node for a service of node_addr */
	ES_MIG_EV_ABORT = 2,	/* the data plane aborted a session (reason) */
	ES_MIG_EV_GAP = 3,	/* source: a tunnelled request arrived past a missing one
				 * (seq: the missing one; node_addr: the target) */
	ES_MIG_EV_REPLY_GAP = 4,	/* target: a source reply arrived past a missing one
					 * (seq: the first missing ordinal; node_addr: the source) */
	ES_MIG_EV_DIVERGED = 5,	/* target, TCP: the two containers sent other bytes at one
				 * sequence number (seq: that TCP sequence number) */
};

/* Record of es_mig_events, a ring buffer read by the agent. */
struct es_mig_event {
	struct es_mig_key	key;	/* the session */
	__u32	type;		/* es_mig_event_type */
	__u32	reason;		/* ES_MIG_EV_ABORT: es_mig_abort_reason */
	__u32	node_addr[4];	/* the other node (see the types; IPv6, or IPv4 mapped) */
	__u64	seq;		/* last sequence number assigned when it happened */
	__u64	ts_ns;		/* CLOCK_MONOTONIC ns */
};

/* Commands of es_mig_ctl, the syscall program through which user space changes sessions. */
enum es_mig_cmd_op {
	ES_MIG_CMD_CREATE = 1,	/* new entry in state, with source_addr, flags, replay_limit */
	ES_MIG_CMD_SET_STATE = 2,	/* from -> to; expect_seq != ES_MIG_ANY_SEQ: only if seq equals it */
	ES_MIG_CMD_SET_CURSOR = 3,	/* cursor = reply_base = value */
	ES_MIG_CMD_SET_REPLAYED = 4,	/* replayed = value */
	ES_MIG_CMD_ABORT = 5,	/* any state but NONE -> ABORTED, abort_reason = ES_MIG_ABORT_AGENT */
	ES_MIG_CMD_DELETE = 6,	/* remove the entry */
	ES_MIG_CMD_CONFIGURE = 7,	/* flags = flags; source_addr, replay_limit when not 0 */
	/* Source side: on es_mig_remote (seq_state out: its hold word). */
	ES_MIG_CMD_SRC_HOLD = 8,	/* OPEN or REORDER -> HOLD, hold_at = delivered; the entry
					 * is made (peer_addr = source_addr) when absent */
	ES_MIG_CMD_SRC_RELEASE = 9,	/* HOLD or REORDER -> OPEN only if arrivals == expect_seq
					 * and every kept request was delivered, else HOLD ->
					 * REORDER (-EINPROGRESS) or -EAGAIN */
	ES_MIG_CMD_SRC_CLEAR = 10,	/* flags &= ~value (ES_MIG_RF_*) */
	/*
	 * ABORTED -> FORWARDING keeping the sequence numbers (a retry after a
	 * failed migration): the source numbers its replies in the same stream,
	 * so the session must not start again from 1. cursor = replayed =
	 * reply_base = the last number; the per-migration fields (cut, hold, abort, the restored
	 * container's replies, the suppression counts) start from 0; flags =
	 * flags, source_addr and replay_limit as CONFIGURE. -EAGAIN while
	 * ES_MIG_F_ABORT_HELD records are unsent.
	 */
	ES_MIG_CMD_RESTART = 11,
	/* Source side: the agent delivered kept request value (= last_seq + 1, else -ESTALE). */
	ES_MIG_CMD_SRC_DELIVERED = 12,
	/* Source side: give up the missing requests up to value (> last_seq): last_seq = value. */
	ES_MIG_CMD_SRC_SKIP = 13,
	/*
	 * Target side: give the source's replies up to ordinal value up
	 * (old_base = value, replies_lost += expect_seq, the ones missing).
	 */
	ES_MIG_CMD_REPLY_SKIP = 14,
	/* Target side: reply_base = value (the source's, sent with the cursor). */
	ES_MIG_CMD_SET_REPLY_BASE = 15,
	/*
	 * Source side: the agent delivered kept request value late, below
	 * last_seq (passed by one the hold could not keep, which moved
	 * last_seq over it): delivered and released count it, last_seq stays;
	 * -ESTALE when value is past last_seq.
	 */
	ES_MIG_CMD_SRC_LATE = 16,
	ES_MIG_CMD_MAX = 17,
};

#define ES_MIG_ANY_SEQ	(~0ULL)

/*
 * Context of es_mig_ctl (BPF_PROG_TEST_RUN ctx_in, copied back): the
 * command, and on return the entry's seq_state as it was when the command
 * applied or failed. The program's return value is 0 or -errno: -ENOENT
 * no entry, -EEXIST entry exists (CREATE), -ESTALE state is not `from`,
 * -EAGAIN seq moved past expect_seq (retry after sending what it added).
 */
struct es_mig_cmd {
	struct es_mig_key	key;	/* the session */
	__u32	op;		/* es_mig_cmd_op */
	__u32	from;		/* SET_STATE: required current state */
	__u32	to;		/* CREATE, SET_STATE: new state */
	__u32	flags;		/* CREATE, CONFIGURE: ES_MIG_F_* */
	__u32	source_addr[4];	/* CREATE, CONFIGURE: tunnel destination; SRC_HOLD: peer
				 * (IPv6, or IPv4 mapped; all zero: none) */
	__u32	replay_limit;	/* CREATE, CONFIGURE: 0 for es_mig_config.default_replay_limit (CONFIGURE: unchanged) */
	__u32	reserved;	/* zero */
	__u64	expect_seq;	/* SET_STATE, SRC_RELEASE: ES_MIG_ANY_SEQ or the seq that must still be the last */
	__u64	value;		/* SET_CURSOR, SET_REPLAYED, SRC_CLEAR, SRC_DELIVERED, SRC_SKIP,
				 * SET_REPLY_BASE */
	__u64	seq_state;	/* out: seq_state when applied (or why not) */
};

#endif /* EDGESHIFT_MIGRATION_H */
