// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet fixtures through BPF_PROG_TEST_RUN: each packet goes through the
 * XDP (ingress) or TC (egress) program of the accounting object (loaded
 * once, its maps emptied before each test as a fresh load has them), and
 * the test checks the verdict, that the packet came back unchanged, and
 * what the maps say afterwards.
 *
 * The single-packet fixtures are a table (fixtures[] below), one test per
 * row; the multi-packet behaviours (reverse direction, close, latency)
 * are written out as tests of their own further down.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <edgeshift/session.h>
#include "bpf/accounting_skel.h"
#include "bpf/es_names.h"
#include "testing/map_reset.h"
#include "testing/pkt_build.h"
#include "util/clock.h"
#include "harness.h"
#include "bpf/flow_index.h"

#define IFINDEX_LO	1	/* lo of the current netns */
#define TC_ACT_UNSPEC	(-1)	/* the TC program's verdict: next program */
#define PKT_MAX		512
#define MAP_SIZE	1024
#define MAX_EVENTS	8

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10

/* What a packet is, in the terms of es_pkt_spec but with literals. */
struct pkt_def {
	int		family;
	uint8_t		proto;
	const char	*src, *dst;
	uint16_t	sport, dport;	/* host order; ICMP: sport is the echo id */
	uint8_t		tcp_flags;
	uint8_t		icmp_type;
	size_t		payload;
};

enum fx_effect {
	FX_SESSION,	/* one session with the expected key, counted once */
	FX_SKIP,	/* no session; counted under skip_reason */
};

struct pkt_fixture {
	const char	*name;
	struct pkt_def	pkt;
	/* Raw edits after building, for what the builder cannot make. */
	void		(*mangle)(uint8_t *pkt, size_t *len);
	/* Raw bytes instead of pkt, e.g. for non-IP frames. */
	const uint8_t	*raw;
	size_t		raw_len;
	/* Leading bytes handed to XDP as metadata, to shorten the frame. */
	uint32_t	meta;
	enum fx_effect	effect;
	int		skip_reason;
	/* FX_SESSION: the canonical key, ports in host order. */
	const char	*lo, *hi;
	uint16_t	port_lo, port_hi;
	/* A known, reported bug makes this row fail: TAP TODO. */
	const char	*todo;
};

struct close_events {
	struct es_close_event	ev[MAX_EVENTS];
	int			n;
	int			bad_size;
};

FIXTURE(acct) {
	struct accounting	*skel;
	struct ring_buffer	*rb;
	int			xdp_fd, tc_fd;
	int			ncpus;
	struct close_events	events;
};

static int on_close_event(void *ctx, void *data, size_t size)
{
	struct close_events *ce = ctx;

	if (size != sizeof(struct es_close_event)) {
		ce->bad_size++;
		return 0;
	}
	if (ce->n < MAX_EVENTS)
		memcpy(&ce->ev[ce->n], data, size);
	ce->n++;
	return 0;
}

static struct accounting *acct_load(bool rr_latency)
{
	struct accounting *skel = es_accounting_open(NULL);

	if (!skel)
		return NULL;
	/* Small maps: the tests create a handful of sessions. */
	es_accounting_size_sessions(skel, MAP_SIZE);
	es_accounting_set_rr_latency(skel, rr_latency);
	es_accounting_set_tcp_rr_latency(skel, rr_latency);
	if (accounting__load(skel)) {
		accounting__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * The object the acct tests share, loaded once in the runner: each load
 * costs the verifier most of a second, and a test changes only the maps,
 * which acct_fresh() empties before every test.
 */
static struct {
	struct accounting	*skel;
	int			err;
} shared;

static void acct_load_shared(void)
{
	if (geteuid() != 0)
		return;
	shared.skel = acct_load(true);
	shared.err = shared.skel ? 0 : -errno;
}
TEST_SETUP_ONCE(acct_load_shared)

/* The state of a fresh load: empty maps, unread events dropped, no clock anchor. */
static void acct_fresh(FIXTURE_DATA(acct) *self)
{
	ASSERT_OK(es_object_clear_maps(self->skel->obj), "empty the maps of the shared object");
	memset(self->skel->bss, 0, sizeof(*self->skel->bss));
}

static void acct_attach(FIXTURE_DATA(acct) *self)
{
	struct accounting *skel = self->skel;

	self->xdp_fd = bpf_program__fd(skel->progs.es_xdp_ingress);
	self->tc_fd = bpf_program__fd(skel->progs.es_tc_egress);
	self->ncpus = libbpf_num_possible_cpus();
	ASSERT_GT(self->ncpus, 0, "libbpf_num_possible_cpus");
	self->rb = ring_buffer__new(bpf_map__fd(skel->maps.es_events),
				    on_close_event, &self->events, NULL);
	ASSERT_OK_PTR(self->rb, "ring_buffer__new(es_events)");
}

FIXTURE_SETUP(acct)
{
	es_harness_require_root();
	ASSERT_OK(shared.err, "accounting__load (once for the acct tests)");
	ASSERT_OK_PTR(shared.skel, "the shared accounting object");
	self->skel = shared.skel;
	acct_fresh(self);
	acct_attach(self);
}

/* The shared object outlives the test: only the reader goes. */
FIXTURE_TEARDOWN(acct)
{
	ring_buffer__free(self->rb);
}

/* -------------------------------------------------------------------- */
/* Packets */

static size_t build_pkt(const struct pkt_def *d, uint8_t *buf, size_t cap)
{
	struct es_pkt_spec spec;
	size_t len;

	es_pkt_spec_init(&spec);
	spec.family = d->family;
	spec.proto = d->proto;
	ASSERT_OK(es_pkt_spec_addr(&spec, 0, d->src), "source address literal");
	ASSERT_OK(es_pkt_spec_addr(&spec, 1, d->dst), "destination address literal");
	spec.sport = d->sport;
	spec.dport = d->dport;
	spec.tcp_flags = d->tcp_flags;
	spec.icmp_type = d->icmp_type;
	spec.payload = d->payload;
	len = es_pkt_build(&spec, buf, cap);
	ASSERT_GT(len, 0, "es_pkt_build");
	return len;
}

/* The other direction of the same conversation. */
static struct pkt_def reverse_pkt(const struct pkt_def *d, uint8_t tcp_flags,
				  uint8_t icmp_type)
{
	struct pkt_def r = *d;

	r.src = d->dst;
	r.dst = d->src;
	if (d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) {
		r.sport = d->dport;
		r.dport = d->sport;
	}
	r.tcp_flags = tcp_flags;
	r.icmp_type = icmp_type;
	return r;
}

static void insert_bytes(uint8_t *pkt, size_t *len, size_t off,
			 const uint8_t *bytes, size_t n)
{
	ASSERT_LE(*len + n, PKT_MAX, "room to insert bytes");
	memmove(pkt + off + n, pkt + off, *len - off);
	memcpy(pkt + off, bytes, n);
	*len += n;
}

static struct iphdr *ip4(uint8_t *pkt)
{
	return (struct iphdr *)(pkt + ETH_HLEN);
}

static struct ipv6hdr *ip6(uint8_t *pkt)
{
	return (struct ipv6hdr *)(pkt + ETH_HLEN);
}

/* Keep the header checksum valid so only the edited field is unusual. */
static void ip4_fix_csum(uint8_t *pkt)
{
	struct iphdr *iph = ip4(pkt);
	const uint8_t *p = (const uint8_t *)iph;
	uint32_t sum = 0;
	size_t i;

	iph->check = 0;
	for (i = 0; i < sizeof(*iph); i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	iph->check = htons(~sum & 0xffff);
}

static void mangle_vlan(uint8_t *pkt, size_t *len)
{
	static const uint8_t tag[4] = { 0x81, 0x00, 0x00, 0x64 };	/* VID 100 */

	insert_bytes(pkt, len, 12, tag, sizeof(tag));
}

static void mangle_qinq(uint8_t *pkt, size_t *len)
{
	static const uint8_t tags[8] = { 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64 };

	insert_bytes(pkt, len, 12, tags, sizeof(tags));
}

static void mangle_ipv4_mf(uint8_t *pkt, size_t *len)
{
	(void)len;
	ip4(pkt)->frag_off = htons(0x2000);
	ip4_fix_csum(pkt);
}

static void mangle_ipv4_offset(uint8_t *pkt, size_t *len)
{
	(void)len;
	ip4(pkt)->frag_off = htons(185);	/* last fragment, at byte 1480 */
	ip4_fix_csum(pkt);
}

static void mangle_ipv4_ihl4(uint8_t *pkt, size_t *len)
{
	(void)len;
	ip4(pkt)->ihl = 4;
	ip4_fix_csum(pkt);
}

static void mangle_ipv4_version6(uint8_t *pkt, size_t *len)
{
	(void)len;
	ip4(pkt)->version = 6;
	ip4_fix_csum(pkt);
}

static void mangle_ipv4_gre(uint8_t *pkt, size_t *len)
{
	(void)len;
	ip4(pkt)->protocol = IPPROTO_GRE;
	ip4_fix_csum(pkt);
}

static void mangle_tcp_doff4(uint8_t *pkt, size_t *len)
{
	struct tcphdr *th = (struct tcphdr *)(pkt + ETH_HLEN + sizeof(struct iphdr));

	(void)len;
	th->doff = 4;
}

static void trim_ipv4_header(uint8_t *pkt, size_t *len)
{
	(void)pkt;
	*len = ETH_HLEN + 12;
}

static void trim_tcp_header(uint8_t *pkt, size_t *len)
{
	(void)pkt;
	*len = ETH_HLEN + sizeof(struct iphdr) + 12;
}

/* Put n IPv6 extension headers of the given types before the L4 header. */
static void ipv6_insert_ext(uint8_t *pkt, size_t *len, const uint8_t *types, int n)
{
	struct ipv6hdr *ip6h = ip6(pkt);
	uint8_t hdr[8], l4 = ip6h->nexthdr;
	size_t off = ETH_HLEN + sizeof(*ip6h);
	int i;

	ip6h->nexthdr = types[0];
	for (i = 0; i < n; i++) {
		memset(hdr, 0, sizeof(hdr));
		hdr[0] = i + 1 < n ? types[i + 1] : l4;
		if (types[i] == 44) {
			hdr[3] = 0x01;		/* offset 0, more fragments */
			hdr[7] = 0x2a;		/* identification */
		} else {
			hdr[2] = 1;		/* PadN option filling the rest */
			hdr[3] = 4;
		}
		insert_bytes(pkt, len, off, hdr, sizeof(hdr));
		off += sizeof(hdr);
		ip6h = ip6(pkt);
		ip6h->payload_len = htons(ntohs(ip6h->payload_len) + sizeof(hdr));
	}
}

static void mangle_ipv6_frag(uint8_t *pkt, size_t *len)
{
	static const uint8_t t[] = { 44 };

	ipv6_insert_ext(pkt, len, t, 1);
}

static void mangle_ipv6_hbh(uint8_t *pkt, size_t *len)
{
	static const uint8_t t[] = { 0 };

	ipv6_insert_ext(pkt, len, t, 1);
}

/* ES_IPV6_EXT_MAX is 4: four headers are walked, a fifth is too many. */
static void mangle_ipv6_4ext(uint8_t *pkt, size_t *len)
{
	static const uint8_t t[] = { 0, 60, 60, 60 };

	ipv6_insert_ext(pkt, len, t, 4);
}

/* The fragment header comes when the walk has used up its four steps. */
static void mangle_ipv6_4ext_frag(uint8_t *pkt, size_t *len)
{
	static const uint8_t t[] = { 0, 60, 60, 60, 44 };

	ipv6_insert_ext(pkt, len, t, 5);
}

static void mangle_ipv6_5ext(uint8_t *pkt, size_t *len)
{
	static const uint8_t t[] = { 0, 60, 60, 60, 60 };

	ipv6_insert_ext(pkt, len, t, 5);
}

/* Who-has 10.0.0.2 tell 10.0.0.1. */
static const uint8_t arp_request[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2,
};

/* An Ethernet header saying IPv4, and nothing after it. */
static const uint8_t ethernet_only[14] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00,
};

/* 4 bytes of XDP metadata, then a 10-byte frame. */
static const uint8_t short_frame[14] = {
	0xde, 0xad, 0xbe, 0xef,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00,
};

#define V4(s, d, p, sp, dp)	.family = AF_INET, .proto = p, .src = s, .dst = d, \
				.sport = sp, .dport = dp
#define V6(s, d, p, sp, dp)	.family = AF_INET6, .proto = p, .src = s, .dst = d, \
				.sport = sp, .dport = dp
#define UDP4	V4("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1000, 2000)
#define UDP6	V6("fd00::1", "fd00::2", IPPROTO_UDP, 1000, 2000)
#define SESSION(l, pl, h, ph)	.effect = FX_SESSION, .lo = l, .port_lo = pl, \
				.hi = h, .port_hi = ph
#define SKIPPED(reason)		.effect = FX_SKIP, .skip_reason = reason

/*
 * Every row expects XDP_PASS and the packet back byte for byte (checked by
 * run_xdp_meta()); what differs is the effect on the maps.
 */
static const struct pkt_fixture fixtures[] = {
	/* Sessions, with the canonical key the packet must produce. */
	{ "ipv4_tcp_syn",
	  { V4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_SYN },
	  SESSION("10.0.0.1", 40000, "10.0.0.2", 80) },
	{ "ipv4_tcp_data_from_higher_address",
	  { V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 80, 40000),
	    .tcp_flags = TCP_ACK | TCP_PSH, .payload = 100 },
	  SESSION("10.0.0.1", 40000, "10.0.0.2", 80) },
	{ "ipv4_udp",
	  { V4("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1000, 53), .payload = 32 },
	  SESSION("10.0.0.1", 1000, "10.0.0.2", 53) },
	/* 10.0.0.2 < 9.0.0.3 as raw little-endian words, not as addresses. */
	{ "ipv4_address_order_is_host_order",
	  { V4("10.0.0.2", "9.0.0.3", IPPROTO_UDP, 5000, 6000) },
	  SESSION("9.0.0.3", 6000, "10.0.0.2", 5000) },
	/* Same address: the port decides, 2 < 256 in host order. */
	{ "ipv4_same_address_port_order",
	  { V4("127.0.0.1", "127.0.0.1", IPPROTO_UDP, 256, 2) },
	  SESSION("127.0.0.1", 2, "127.0.0.1", 256) },
	{ "ipv4_icmp_echo_request",
	  { V4("10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 0x1234, 0), .icmp_type = 8,
	    .payload = 56 },
	  SESSION("10.0.0.1", 0x1234, "10.0.0.2", 0x1234) },
	{ "ipv4_icmp_echo_request_from_higher_address",
	  { V4("10.0.0.2", "10.0.0.1", IPPROTO_ICMP, 7, 0), .icmp_type = 8 },
	  SESSION("10.0.0.1", 7, "10.0.0.2", 7) },
	{ "ipv6_tcp_syn",
	  { V6("fd00::1", "fd00::2", IPPROTO_TCP, 40000, 443), .tcp_flags = TCP_SYN },
	  SESSION("fd00::1", 40000, "fd00::2", 443) },
	{ "ipv6_udp_from_higher_address",
	  { V6("fd00::2", "fd00::1", IPPROTO_UDP, 53, 5353), .payload = 40 },
	  SESSION("fd00::1", 5353, "fd00::2", 53) },
	/* fd00::2 < fd00::100 word by word in host order, not in raw words. */
	{ "ipv6_address_order_is_word_order",
	  { V6("fd00::100", "fd00::2", IPPROTO_UDP, 1000, 2000) },
	  SESSION("fd00::2", 2000, "fd00::100", 1000) },
	{ "ipv6_icmpv6_echo_request",
	  { V6("fd00::1", "fd00::2", IPPROTO_ICMPV6, 0x4242, 0), .icmp_type = 128,
	    .payload = 56 },
	  SESSION("fd00::1", 0x4242, "fd00::2", 0x4242) },
	{ "ipv6_hop_by_hop_then_udp",
	  { UDP6 }, .mangle = mangle_ipv6_hbh,
	  SESSION("fd00::1", 1000, "fd00::2", 2000) },
	{ "ipv6_four_extension_headers_then_udp",
	  { UDP6 }, .mangle = mangle_ipv6_4ext,
	  SESSION("fd00::1", 1000, "fd00::2", 2000) },

	/* Passed without a session, counted by reason. */
	{ "arp_is_non_ip", .raw = arp_request, .raw_len = sizeof(arp_request),
	  SKIPPED(ES_SKIP_NON_IP) },
	{ "vlan_8021q_frame", { UDP4 }, .mangle = mangle_vlan,
	  SKIPPED(ES_SKIP_VLAN) },
	{ "vlan_8021ad_qinq_frame", { UDP4 }, .mangle = mangle_qinq,
	  SKIPPED(ES_SKIP_VLAN) },
	{ "frame_shorter_than_ethernet_header", .raw = short_frame,
	  .raw_len = sizeof(short_frame), .meta = 4,
	  SKIPPED(ES_SKIP_TRUNCATED) },
	{ "ethernet_header_only", .raw = ethernet_only,
	  .raw_len = sizeof(ethernet_only), SKIPPED(ES_SKIP_TRUNCATED) },
	{ "ipv4_truncated_header", { UDP4 }, .mangle = trim_ipv4_header,
	  SKIPPED(ES_SKIP_TRUNCATED) },
	{ "ipv4_truncated_tcp_header",
	  { V4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_ACK },
	  .mangle = trim_tcp_header, SKIPPED(ES_SKIP_TRUNCATED) },
	{ "ipv4_fragment_more_fragments", { UDP4, .payload = 64 },
	  .mangle = mangle_ipv4_mf, SKIPPED(ES_SKIP_FRAGMENT) },
	{ "ipv4_fragment_nonzero_offset", { UDP4, .payload = 64 },
	  .mangle = mangle_ipv4_offset, SKIPPED(ES_SKIP_FRAGMENT) },
	{ "ipv6_fragment_header", { UDP6, .payload = 64 },
	  .mangle = mangle_ipv6_frag, SKIPPED(ES_SKIP_FRAGMENT) },
	{ "ipv6_fragment_after_four_extension_headers", { UDP6, .payload = 64 },
	  .mangle = mangle_ipv6_4ext_frag, SKIPPED(ES_SKIP_FRAGMENT) },
	{ "ipv6_five_extension_headers", { UDP6 }, .mangle = mangle_ipv6_5ext,
	  SKIPPED(ES_SKIP_IPV6_EXT) },
	{ "ipv4_ihl_below_5", { UDP4 }, .mangle = mangle_ipv4_ihl4,
	  SKIPPED(ES_SKIP_BAD_HEADER) },
	{ "ipv4_version_nibble_not_4", { UDP4 }, .mangle = mangle_ipv4_version6,
	  SKIPPED(ES_SKIP_BAD_HEADER) },
	{ "tcp_doff_below_5",
	  { V4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_ACK },
	  .mangle = mangle_tcp_doff4, SKIPPED(ES_SKIP_BAD_HEADER) },
	{ "ipv4_gre_is_other_proto", { UDP4, .payload = 16 },
	  .mangle = mangle_ipv4_gre, SKIPPED(ES_SKIP_OTHER_PROTO) },
	{ "icmpv6_over_ipv4_is_other_proto",
	  { V4("10.0.0.1", "10.0.0.2", IPPROTO_ICMPV6, 1, 0), .icmp_type = 128 },
	  SKIPPED(ES_SKIP_OTHER_PROTO) },
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

/* -------------------------------------------------------------------- */
/* Running packets */

static void check_unchanged(const uint8_t *in, const uint8_t *out, size_t len,
			    __u32 out_len)
{
	size_t i;

	ASSERT_EQ(out_len, len, "length of the packet after the program");
	for (i = 0; i < len && in[i] == out[i]; i++)
		;
	if (i < len)
		TEST_LOG("packet changed at byte %zu: 0x%02x -> 0x%02x", i, in[i], out[i]);
	ASSERT_EQ(i, len, "unchanged prefix of the packet");
}

/* Ingress through XDP; meta leading bytes become XDP metadata. */
static void run_xdp_meta(FIXTURE_DATA(acct) *self, const uint8_t *pkt, size_t len,
			 uint32_t meta)
{
	struct xdp_md ctx = {
		.data = meta,
		.data_end = len,
		.ingress_ifindex = IFINDEX_LO,
	};
	uint8_t out[PKT_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = pkt,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);

	int err;

	err = bpf_prog_test_run_opts(self->xdp_fd, &topts);
	/*
	 * The kernel refuses test frames shorter than an Ethernet header
	 * (and bpf_xdp_adjust_head/tail refuse to make one), so such a
	 * frame cannot reach the program here.
	 */
	if (err == -EINVAL && len - meta < ETH_HLEN)
		SKIP("kernel refuses XDP test frames shorter than ETH_HLEN");
	ASSERT_OK(err, "XDP test run");
	ASSERT_EQ(topts.retval, XDP_PASS, "XDP verdict");
	check_unchanged(pkt, out, len, topts.data_size_out);
}

static void run_xdp(FIXTURE_DATA(acct) *self, const uint8_t *pkt, size_t len)
{
	run_xdp_meta(self, pkt, len, 0);
}

/* Egress through the TC program, on lo; gso_segs > 1 makes a GSO skb. */
static void run_tc_gso(FIXTURE_DATA(acct) *self, const uint8_t *pkt, size_t len,
		       __u32 gso_segs, __u32 gso_size)
{
	struct __sk_buff skb = {
		.ifindex = IFINDEX_LO,
		.gso_segs = gso_segs,
		.gso_size = gso_size,
	};
	uint8_t out[PKT_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = pkt,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &skb,
		.ctx_size_in = sizeof(skb),
		.repeat = 1,
	);

	ASSERT_OK(bpf_prog_test_run_opts(self->tc_fd, &topts), "TC test run");
	ASSERT_EQ((int)topts.retval, TC_ACT_UNSPEC, "TC verdict");
	check_unchanged(pkt, out, len, topts.data_size_out);
}

static void run_tc(FIXTURE_DATA(acct) *self, const uint8_t *pkt, size_t len)
{
	run_tc_gso(self, pkt, len, 0, 0);
}

static size_t send_xdp(FIXTURE_DATA(acct) *self, const struct pkt_def *d)
{
	uint8_t pkt[PKT_MAX];
	size_t len = build_pkt(d, pkt, sizeof(pkt));

	run_xdp(self, pkt, len);
	return len;
}

static size_t send_tc(FIXTURE_DATA(acct) *self, const struct pkt_def *d)
{
	uint8_t pkt[PKT_MAX];
	size_t len = build_pkt(d, pkt, sizeof(pkt));

	run_tc(self, pkt, len);
	return len;
}

/* -------------------------------------------------------------------- */
/* Reading the maps */

static void key4_of(const struct pkt_fixture *fx, uint8_t proto,
		    struct es_session_key4 *k)
{
	memset(k, 0, sizeof(*k));
	ASSERT_EQ(inet_pton(AF_INET, fx->lo, &k->addr_lo), 1, "lo address literal");
	ASSERT_EQ(inet_pton(AF_INET, fx->hi, &k->addr_hi), 1, "hi address literal");
	k->port_lo = htons(fx->port_lo);
	k->port_hi = htons(fx->port_hi);
	k->ifindex = IFINDEX_LO;
	k->proto = proto;
}

static void key6_of(const struct pkt_fixture *fx, uint8_t proto,
		    struct es_session_key6 *k)
{
	memset(k, 0, sizeof(*k));
	ASSERT_EQ(inet_pton(AF_INET6, fx->lo, k->addr_lo), 1, "lo address literal");
	ASSERT_EQ(inet_pton(AF_INET6, fx->hi, k->addr_hi), 1, "hi address literal");
	k->port_lo = htons(fx->port_lo);
	k->port_hi = htons(fx->port_hi);
	k->ifindex = IFINDEX_LO;
	k->proto = proto;
}

/* The key a session of the pair (lo, plo) <-> (hi, phi) must have. */
static void key4(const char *lo, uint16_t plo, const char *hi, uint16_t phi,
		 uint8_t proto, struct es_session_key4 *k)
{
	struct pkt_fixture fx = { .lo = lo, .hi = hi, .port_lo = plo, .port_hi = phi };

	key4_of(&fx, proto, k);
}

static void key6(const char *lo, uint16_t plo, const char *hi, uint16_t phi,
		 uint8_t proto, struct es_session_key6 *k)
{
	struct pkt_fixture fx = { .lo = lo, .hi = hi, .port_lo = plo, .port_hi = phi };

	key6_of(&fx, proto, k);
}

static int count_entries(struct bpf_map *map)
{
	uint8_t key[64], next[64];
	int fd = bpf_map__fd(map), n = 0;
	void *prev = NULL;

	ASSERT_LE(bpf_map__key_size(map), sizeof(key), "key fits the buffer");
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/* Sum a per-CPU value made only of __u64 counters; false if no entry. */
static bool sum_u64_percpu(FIXTURE_DATA(acct) *self, struct bpf_map *map,
			   const void *key, void *out, size_t size)
{
	size_t stride = (size + 7) / 8, n = size / 8, cpu, i;
	__u64 *vals = calloc(self->ncpus, stride * 8), *sum = out;
	int err;

	ASSERT_OK_PTR(vals, "calloc");
	memset(out, 0, size);
	err = bpf_map_lookup_elem(bpf_map__fd(map), key, vals);
	for (cpu = 0; !err && cpu < (size_t)self->ncpus; cpu++)
		for (i = 0; i < n; i++)
			sum[i] += vals[cpu * stride + i];
	free(vals);
	return !err;
}

static struct es_iface_traffic lo_traffic(FIXTURE_DATA(acct) *self)
{
	struct es_iface_traffic t;
	__u32 key = IFINDEX_LO;

	ASSERT_TRUE(sum_u64_percpu(self, self->skel->maps.es_iface_traffic, &key,
				   &t, sizeof(t)), "es_iface_traffic[lo] readable");
	return t;
}

/* All zero when the programs never needed the entry. */
static struct es_iface_stats lo_stats(FIXTURE_DATA(acct) *self)
{
	struct es_iface_stats s;
	__u32 key = IFINDEX_LO;

	if (!sum_u64_percpu(self, self->skel->maps.es_iface_stats, &key, &s, sizeof(s)))
		memset(&s, 0, sizeof(s));
	return s;
}

/*
 * One session's counters as readers see them: its entry summed over the
 * CPUs plus the flow cache slots holding it; false if it has neither.
 */
static bool session_counters(FIXTURE_DATA(acct) *self, struct bpf_map *map,
			     const void *key, struct es_session_counters *sum)
{
	bool v6 = map == self->skel->maps.es_sessions6, cached;
	struct es_maps m;

	es_maps_from_skel(&m, self->skel);
	return !es_session_read_exact(&m, v6 ? ES_FAMILY_INET6 : ES_FAMILY_INET, key, sum,
				      &cached);
}

static void log_missing_key(const char *map, int family, const void *addr_lo,
			    const void *addr_hi, __u16 port_lo, __u16 port_hi, __u8 proto)
{
	char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];

	inet_ntop(family, addr_lo, lo, sizeof(lo));
	inet_ntop(family, addr_hi, hi, sizeof(hi));
	TEST_LOG("%s: no entry for lo %s port %u, hi %s port %u, proto %u", map,
		 lo, ntohs(port_lo), hi, ntohs(port_hi), proto);
}

static void log_missing4(const char *map, const struct es_session_key4 *k)
{
	log_missing_key(map, AF_INET, &k->addr_lo, &k->addr_hi, k->port_lo,
			k->port_hi, k->proto);
}

static void log_missing6(const char *map, const struct es_session_key6 *k)
{
	log_missing_key(map, AF_INET6, k->addr_lo, k->addr_hi, k->port_lo,
			k->port_hi, k->proto);
}

static struct es_session_counters counters4(FIXTURE_DATA(acct) *self,
					    const struct es_session_key4 *k)
{
	struct es_session_counters c;
	bool found = session_counters(self, self->skel->maps.es_sessions4, k, &c);

	if (!found)
		log_missing4("es_sessions4", k);
	ASSERT_TRUE(found, "es_sessions4 has the expected key");
	return c;
}

static struct es_session_counters counters6(FIXTURE_DATA(acct) *self,
					    const struct es_session_key6 *k)
{
	struct es_session_counters c;
	bool found = session_counters(self, self->skel->maps.es_sessions6, k, &c);

	if (!found)
		log_missing6("es_sessions6", k);
	ASSERT_TRUE(found, "es_sessions6 has the expected key");
	return c;
}

static struct es_session_state state4(FIXTURE_DATA(acct) *self,
				      const struct es_session_key4 *k)
{
	struct es_session_state st;
	int err = bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.es_session_state4),
				      k, &st);

	if (err)
		log_missing4("es_session_state4", k);
	ASSERT_OK(err, "es_session_state4 has the expected key");
	return st;
}

static struct es_session_state state6(FIXTURE_DATA(acct) *self,
				      const struct es_session_key6 *k)
{
	struct es_session_state st;
	int err = bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.es_session_state6),
				      k, &st);

	if (err)
		log_missing6("es_session_state6", k);
	ASSERT_OK(err, "es_session_state6 has the expected key");
	return st;
}

static int total_sessions(FIXTURE_DATA(acct) *self)
{
	return count_entries(self->skel->maps.es_sessions4) +
	       count_entries(self->skel->maps.es_sessions6);
}

static __u64 skipped_total(const struct es_iface_stats *s, int dir)
{
	__u64 n = 0;
	int r;

	for (r = 0; r < ES_SKIP_MAX; r++)
		n += s->skipped[dir][r];
	return n;
}

/* -------------------------------------------------------------------- */
/* The table */

static const struct pkt_fixture *find_fixture(const char *name)
{
	size_t i;

	for (i = 0; i < N_FIXTURES; i++)
		if (!strcmp(fixtures[i].name, name))
			return &fixtures[i];
	TEST_LOG("no fixture named %s", name);
	ASSERT_TRUE(0, "fixture in the table");
	return NULL;
}

static void check_session_effect(FIXTURE_DATA(acct) *self,
				 const struct pkt_fixture *fx, size_t frame_len)
{
	const struct pkt_def *d = &fx->pkt;
	bool v6 = d->family == AF_INET6;
	struct bpf_map *own = v6 ? self->skel->maps.es_sessions6 : self->skel->maps.es_sessions4;
	struct bpf_map *other = v6 ? self->skel->maps.es_sessions4 : self->skel->maps.es_sessions6;
	struct es_session_counters c;
	struct es_session_state st;
	struct es_session_key4 k4;
	struct es_session_key6 k6;

	ASSERT_EQ(count_entries(own), 1, "entries in the session map of the family");
	ASSERT_EQ(count_entries(other), 0, "entries in the other family's map");
	if (v6) {
		key6_of(fx, d->proto, &k6);
		c = counters6(self, &k6);
		st = state6(self, &k6);
	} else {
		key4_of(fx, d->proto, &k4);
		c = counters4(self, &k4);
		st = state4(self, &k4);
	}
	EXPECT_EQ(c.pkts[ES_DIR_RX], 1, "session pkts[RX]");
	EXPECT_EQ(c.bytes[ES_DIR_RX], frame_len, "session bytes[RX]");
	EXPECT_EQ(c.pkts[ES_DIR_TX], 0, "session pkts[TX]");
	EXPECT_EQ(c.bytes[ES_DIR_TX], 0, "session bytes[TX]");
	EXPECT_EQ(c.tcp_flags[ES_DIR_RX], d->proto == IPPROTO_TCP ? d->tcp_flags : 0,
		  "session tcp_flags[RX]");
	EXPECT_NE(c.first_ns, 0, "session first_ns");
	EXPECT_GE(c.last_ns, c.first_ns, "session last_ns vs first_ns");
	EXPECT_NE(st.created_ns, 0, "state created_ns");
	EXPECT_TRUE(st.flags & ES_STATE_RX_INITIATED, "an RX first packet: peer opened");
	EXPECT_EQ(!!(st.flags & ES_STATE_SYN_SEEN), !!(d->tcp_flags & TCP_SYN),
		  "SYN_SEEN iff the packet was a SYN");
	EXPECT_EQ(lo_stats(self).sessions_created, 1, "es_iface_stats.sessions_created");
}


static void check_skip_effect(FIXTURE_DATA(acct) *self, const struct pkt_fixture *fx)
{
	struct es_iface_stats s = lo_stats(self);
	int r;

	for (r = 0; r < ES_SKIP_MAX; r++)
		if (s.skipped[ES_DIR_RX][r] && r != fx->skip_reason)
			TEST_LOG("counted as skipped[RX][%s] instead of %s", es_skip_names[r],
				 es_skip_names[fx->skip_reason]);

	EXPECT_EQ(s.skipped[ES_DIR_RX][fx->skip_reason], 1, "skipped[RX][expected reason]");
	EXPECT_EQ(skipped_total(&s, ES_DIR_RX), 1, "skipped[RX] over all reasons");
	EXPECT_EQ(skipped_total(&s, ES_DIR_TX), 0, "skipped[TX] over all reasons");
	EXPECT_EQ(s.sessions_created, 0, "es_iface_stats.sessions_created");
	EXPECT_EQ(total_sessions(self), 0, "entries in es_sessions4/6");
	EXPECT_EQ(count_entries(self->skel->maps.es_session_state4) +
		  count_entries(self->skel->maps.es_session_state6), 0,
		  "entries in es_session_state4/6");
}

static void run_fixture(FIXTURE_DATA(acct) *self, const struct pkt_fixture *fx)
{
	struct es_iface_traffic t;
	uint8_t pkt[PKT_MAX];
	size_t len;

	if (fx->todo)
		TEST_TODO(fx->todo);
	if (fx->raw) {
		memcpy(pkt, fx->raw, fx->raw_len);
		len = fx->raw_len;
	} else {
		len = build_pkt(&fx->pkt, pkt, sizeof(pkt));
	}
	if (fx->mangle)
		fx->mangle(pkt, &len);
	run_xdp_meta(self, pkt, len, fx->meta);

	/* Every packet counts on the interface, accounted or not. */
	t = lo_traffic(self);
	EXPECT_EQ(t.pkts[ES_DIR_RX], 1, "es_iface_traffic[lo].pkts[RX]");
	EXPECT_EQ(t.bytes[ES_DIR_RX], len - fx->meta, "es_iface_traffic[lo].bytes[RX]");
	EXPECT_EQ(t.pkts[ES_DIR_TX], 0, "es_iface_traffic[lo].pkts[TX]");

	if (fx->effect == FX_SESSION)
		check_session_effect(self, fx, len - fx->meta);
	else
		check_skip_effect(self, fx);
}

#define FIXTURE_TEST(fx_name)						\
	TEST_F(acct, fx_name)						\
	{								\
		run_fixture(self, find_fixture(#fx_name));		\
	}

FIXTURE_TEST(ipv4_tcp_syn)
FIXTURE_TEST(ipv4_tcp_data_from_higher_address)
FIXTURE_TEST(ipv4_udp)
FIXTURE_TEST(ipv4_address_order_is_host_order)
FIXTURE_TEST(ipv4_same_address_port_order)
FIXTURE_TEST(ipv4_icmp_echo_request)
FIXTURE_TEST(ipv4_icmp_echo_request_from_higher_address)
FIXTURE_TEST(ipv6_tcp_syn)
FIXTURE_TEST(ipv6_udp_from_higher_address)
FIXTURE_TEST(ipv6_address_order_is_word_order)
FIXTURE_TEST(ipv6_icmpv6_echo_request)
FIXTURE_TEST(ipv6_hop_by_hop_then_udp)
FIXTURE_TEST(ipv6_four_extension_headers_then_udp)
FIXTURE_TEST(arp_is_non_ip)
FIXTURE_TEST(vlan_8021q_frame)
FIXTURE_TEST(vlan_8021ad_qinq_frame)
FIXTURE_TEST(frame_shorter_than_ethernet_header)
FIXTURE_TEST(ethernet_header_only)
FIXTURE_TEST(ipv4_truncated_header)
FIXTURE_TEST(ipv4_truncated_tcp_header)
FIXTURE_TEST(ipv4_fragment_more_fragments)
FIXTURE_TEST(ipv4_fragment_nonzero_offset)
FIXTURE_TEST(ipv6_fragment_header)
FIXTURE_TEST(ipv6_fragment_after_four_extension_headers)
FIXTURE_TEST(ipv6_five_extension_headers)
FIXTURE_TEST(ipv4_ihl_below_5)
FIXTURE_TEST(ipv4_version_nibble_not_4)
FIXTURE_TEST(tcp_doff_below_5)
FIXTURE_TEST(ipv4_gre_is_other_proto)
FIXTURE_TEST(icmpv6_over_ipv4_is_other_proto)

/* A table row without a FIXTURE_TEST line would silently never run. */
TEST(every_fixture_has_a_test)
{
	char name[128];
	size_t i;

	for (i = 0; i < N_FIXTURES; i++) {
		snprintf(name, sizeof(name), "acct.%s", fixtures[i].name);
		if (!es_test_defined(name))
			TEST_LOG("fixture %s has no FIXTURE_TEST", fixtures[i].name);
		EXPECT_TRUE(es_test_defined(name), "fixture row has a test");
	}
}

/* -------------------------------------------------------------------- */
/* Both directions of a conversation share one session */

static const struct pkt_def tcp4_req = {
	V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_SYN,
};
static const struct pkt_def udp4_req = {
	V4("10.0.0.2", "10.0.0.1", IPPROTO_UDP, 5353, 53), .payload = 30,
};
static const struct pkt_def tcp6_req = {
	V6("fd00::2", "fd00::1", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_SYN,
};
static const struct pkt_def udp6_req = {
	V6("fd00::2", "fd00::1", IPPROTO_UDP, 5353, 53), .payload = 30,
};

/*
 * The request, then its reply with addresses and ports swapped, both
 * arriving through XDP: one session with both packets in pkts[RX].
 */
static void check_reply_same_session(FIXTURE_DATA(acct) *self, const struct pkt_def *req,
				     uint8_t reply_flags, uint8_t reply_icmp_type)
{
	struct pkt_def rep = reverse_pkt(req, reply_flags, reply_icmp_type);
	struct bpf_map *map = req->family == AF_INET6 ? self->skel->maps.es_sessions6 :
				self->skel->maps.es_sessions4;
	struct es_session_counters c;
	uint8_t key[sizeof(struct es_session_key6)];
	size_t len;

	len = send_xdp(self, req);
	ASSERT_EQ(count_entries(map), 1, "sessions after the request");
	len += send_xdp(self, &rep);
	ASSERT_EQ(count_entries(map), 1, "sessions after the reply");
	ASSERT_EQ(total_sessions(self), 1, "sessions in both maps");
	ASSERT_OK(bpf_map_get_next_key(bpf_map__fd(map), NULL, key), "first key");
	ASSERT_TRUE(session_counters(self, map, key, &c), "session readable");
	EXPECT_EQ(c.pkts[ES_DIR_RX], 2, "pkts[RX] of the one session");
	EXPECT_EQ(c.bytes[ES_DIR_RX], len, "bytes[RX] of the one session");
	EXPECT_EQ(c.pkts[ES_DIR_TX], 0, "pkts[TX] of the one session");
	EXPECT_EQ(lo_stats(self).sessions_created, 1, "sessions_created");
}

TEST_F(acct, ipv4_tcp_reply_same_session)
{
	check_reply_same_session(self, &tcp4_req, TCP_SYN | TCP_ACK, 0);
}

TEST_F(acct, ipv4_udp_reply_same_session)
{
	check_reply_same_session(self, &udp4_req, 0, 0);
}

TEST_F(acct, ipv6_tcp_reply_same_session)
{
	check_reply_same_session(self, &tcp6_req, TCP_SYN | TCP_ACK, 0);
}

TEST_F(acct, ipv6_udp_reply_same_session)
{
	check_reply_same_session(self, &udp6_req, 0, 0);
}

TEST_F(acct, ipv4_icmp_echo_reply_same_session)
{
	const struct pkt_def req = {
		V4("10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 0x1234, 0), .icmp_type = 8,
	};
	struct es_session_key4 k;

	check_reply_same_session(self, &req, 0, 0);
	key4("10.0.0.1", 0x1234, "10.0.0.2", 0x1234, IPPROTO_ICMP, &k);
	EXPECT_EQ(counters4(self, &k).pkts[ES_DIR_RX], 2, "pkts[RX] under the echo id key");
}

TEST_F(acct, ipv6_icmpv6_echo_reply_same_session)
{
	const struct pkt_def req = {
		V6("fd00::1", "fd00::2", IPPROTO_ICMPV6, 0x4242, 0), .icmp_type = 128,
	};
	struct es_session_key6 k;

	check_reply_same_session(self, &req, 0, 129);
	key6("fd00::1", 0x4242, "fd00::2", 0x4242, IPPROTO_ICMPV6, &k);
	EXPECT_EQ(counters6(self, &k).pkts[ES_DIR_RX], 2, "pkts[RX] under the echo id key");
}

/* A request in through XDP and its reply out through TC: RX and TX of one session. */
TEST_F(acct, xdp_request_tc_reply_same_session)
{
	struct pkt_def rep = reverse_pkt(&udp4_req, 0, 0);
	struct es_session_counters c;
	struct es_iface_traffic t;
	struct es_session_key4 k;
	size_t rx_len, tx_len;

	rx_len = send_xdp(self, &udp4_req);
	tx_len = send_tc(self, &rep);
	ASSERT_EQ(total_sessions(self), 1, "sessions");
	key4("10.0.0.1", 53, "10.0.0.2", 5353, IPPROTO_UDP, &k);
	c = counters4(self, &k);
	EXPECT_EQ(c.pkts[ES_DIR_RX], 1, "pkts[RX]");
	EXPECT_EQ(c.pkts[ES_DIR_TX], 1, "pkts[TX]");
	EXPECT_EQ(c.bytes[ES_DIR_RX], rx_len, "bytes[RX]");
	EXPECT_EQ(c.bytes[ES_DIR_TX], tx_len, "bytes[TX]");
	t = lo_traffic(self);
	EXPECT_EQ(t.pkts[ES_DIR_RX], 1, "es_iface_traffic pkts[RX]");
	EXPECT_EQ(t.pkts[ES_DIR_TX], 1, "es_iface_traffic pkts[TX]");
	EXPECT_EQ(t.bytes[ES_DIR_TX], tx_len, "es_iface_traffic bytes[TX]");
}

/*
 * A GSO skb leaves as several frames: the session counts each segment,
 * and each segment's own copy of the headers in the bytes.
 */
TEST_F(acct, tc_gso_skb_counts_segments)
{
	const struct pkt_def data = {
		V4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80),
		.tcp_flags = TCP_ACK, .payload = 400,
	};
	const size_t hdrs = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr);
	struct es_session_counters c;
	struct es_iface_traffic t;
	struct es_session_key4 k;
	uint8_t pkt[PKT_MAX];
	size_t len = build_pkt(&data, pkt, sizeof(pkt));

	run_tc_gso(self, pkt, len, 4, 100);
	key4("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP, &k);
	c = counters4(self, &k);
	EXPECT_EQ(c.pkts[ES_DIR_TX], 4, "session pkts[TX]");
	EXPECT_EQ(c.bytes[ES_DIR_TX], len + 3 * hdrs, "session bytes[TX]");
	t = lo_traffic(self);
	EXPECT_EQ(t.pkts[ES_DIR_TX], 4, "es_iface_traffic pkts[TX]");
	EXPECT_EQ(t.bytes[ES_DIR_TX], len + 3 * hdrs, "es_iface_traffic bytes[TX]");
}

/*
 * The ABI: for ICMP other than echo, port_lo is 0 and port_hi the type,
 * even when the sender has the higher address.
 */
TEST_F(acct, icmp_error_key_has_type_in_port_hi)
{
	const struct pkt_def unreach = {
		V4("10.0.0.254", "10.0.0.1", IPPROTO_ICMP, 0, 0), .icmp_type = 3,
		.payload = 28,
	};
	struct es_session_key4 k, swapped;
	struct es_session_counters c;
	bool found;

	send_xdp(self, &unreach);
	ASSERT_EQ(total_sessions(self), 1, "sessions");
	key4("10.0.0.1", 0, "10.0.0.254", 3, IPPROTO_ICMP, &k);
	found = session_counters(self, self->skel->maps.es_sessions4, &k, &c);
	key4("10.0.0.1", 3, "10.0.0.254", 0, IPPROTO_ICMP, &swapped);
	if (!found && session_counters(self, self->skel->maps.es_sessions4, &swapped, &c))
		TEST_LOG("the session has port_lo = 3 (the type), port_hi = 0 instead");
	ASSERT_TRUE(found, "session under port_lo 0, port_hi 3");
}

/* -------------------------------------------------------------------- */
/* Closing */

#define CLOSE_BITS (ES_STATE_FIN_RX | ES_STATE_FIN_TX | ES_STATE_RST | ES_STATE_CLOSED)

static int consume_events(FIXTURE_DATA(acct) *self)
{
	int n = ring_buffer__consume(self->rb);

	ASSERT_GE(n, 0, "ring_buffer__consume");
	EXPECT_EQ(self->events.bad_size, 0, "events of the wrong size");
	return n;
}

static void check_event_v4(const struct es_close_event *ev, const struct es_session_key4 *k,
			   const struct es_session_state *st)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	EXPECT_EQ(ev->family, ES_FAMILY_INET, "event family");
	EXPECT_TRUE(!memcmp(ev->key.addr_lo, v4mapped, 12) &&
		    !memcmp(ev->key.addr_lo + 12, &k->addr_lo, 4), "event addr_lo is ::ffff:lo");
	EXPECT_TRUE(!memcmp(ev->key.addr_hi, v4mapped, 12) &&
		    !memcmp(ev->key.addr_hi + 12, &k->addr_hi, 4), "event addr_hi is ::ffff:hi");
	EXPECT_EQ(ev->key.port_lo, k->port_lo, "event port_lo");
	EXPECT_EQ(ev->key.port_hi, k->port_hi, "event port_hi");
	EXPECT_EQ(ev->key.ifindex, k->ifindex, "event ifindex");
	EXPECT_EQ(ev->key.proto, k->proto, "event proto");
	EXPECT_EQ(ev->flags, st->flags, "event flags vs state flags");
	EXPECT_EQ(ev->closed_ns, st->closed_ns, "event closed_ns vs state closed_ns");
	EXPECT_EQ(ev->reserved, 0, "event reserved");
}

TEST_F(acct, tcp_fin_both_ways_closes)
{
	const struct pkt_def fin_in = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 80, 40000),
		.tcp_flags = TCP_FIN | TCP_ACK,
	};
	struct pkt_def fin_out = reverse_pkt(&fin_in, TCP_FIN | TCP_ACK, 0);
	struct es_session_state st;
	struct es_session_key4 k;

	key4("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP, &k);
	send_xdp(self, &fin_in);
	st = state4(self, &k);
	EXPECT_TRUE(st.flags & ES_STATE_FIN_RX, "FIN_RX after the FIN in");
	EXPECT_TRUE(!(st.flags & ES_STATE_CLOSED), "not closed after one FIN");
	EXPECT_EQ(st.closed_ns, 0, "closed_ns after one FIN");
	EXPECT_EQ(consume_events(self), 0, "events after one FIN");

	send_tc(self, &fin_out);
	st = state4(self, &k);
	EXPECT_EQ(st.flags & CLOSE_BITS, ES_STATE_FIN_RX | ES_STATE_FIN_TX | ES_STATE_CLOSED,
		  "close flags after both FINs");
	EXPECT_GE(st.closed_ns, st.created_ns, "closed_ns");
	ASSERT_EQ(consume_events(self), 1, "events after both FINs");
	check_event_v4(&self->events.ev[0], &k, &st);

	/* A retransmitted FIN must not report the close again. */
	send_xdp(self, &fin_in);
	EXPECT_EQ(consume_events(self), 0, "events after a retransmitted FIN");
	EXPECT_EQ(state4(self, &k).closed_ns, st.closed_ns, "closed_ns kept");
}

/* This CPU's flow cache slot of an IPv4 key; false if the slot holds another key. */
static bool flow_slot4(FIXTURE_DATA(acct) *self, const struct es_session_key4 *k,
		       struct es_flow_counts *n)
{
	size_t stride = (sizeof(struct es_flow_slot4) + 7) & ~7UL;
	uint8_t *vals = calloc(self->ncpus, stride);
	__u32 idx = es_flow_index4(k);
	bool held = false;
	int cpu;

	ASSERT_OK_PTR(vals, "calloc");
	ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.es_flow_cache4), &idx, vals),
		  "flow cache slot");
	for (cpu = 0; cpu < self->ncpus; cpu++) {
		const struct es_flow_slot4 *s = (const void *)(vals + cpu * stride);

		if (s->n.valid && !memcmp(&s->key, k, sizeof(*k))) {
			*n = s->n;
			held = true;
		}
	}
	free(vals);
	return held;
}

/*
 * Past its first packets, a TCP session's data counts in its flow cache
 * slot, not in its entry; readers see both. A FIN folds the slot into the
 * entry and frees it, so the collector reads every packet from the entry.
 */
TEST_F(acct, tcp_data_counts_in_the_flow_cache)
{
	const struct pkt_def ack = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 80, 40000), .tcp_flags = TCP_ACK,
	};
	struct pkt_def fin = ack;
	struct es_session_counters c;
	struct es_flow_counts n;
	struct es_session_key4 k;
	size_t len = 0;
	int i;

	key4("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP, &k);
	for (i = 0; i < 10; i++)
		len = send_xdp(self, &ack);
	ASSERT_TRUE(flow_slot4(self, &k, &n), "the slot holds the session");
	/* 4 packets make the session known here; the sweep may fold any time */
	EXPECT_LE(n.pkts[ES_DIR_RX], 6, "packets in the slot");
	c = counters4(self, &k);
	EXPECT_EQ(c.pkts[ES_DIR_RX], 10, "entry plus slot: every packet");
	EXPECT_EQ(c.bytes[ES_DIR_RX], 10 * len, "entry plus slot: every byte");
	EXPECT_EQ(c.tcp_flags[ES_DIR_RX], TCP_ACK, "flags");

	fin.tcp_flags = TCP_FIN | TCP_ACK;
	send_xdp(self, &fin);
	EXPECT_TRUE(!flow_slot4(self, &k, &n), "a FIN frees the slot");
	EXPECT_TRUE(session_counters(self, self->skel->maps.es_sessions4, &k, &c), "entry");
	EXPECT_EQ(c.pkts[ES_DIR_RX], 11, "the entry alone holds every packet after the FIN");
}

TEST_F(acct, tcp_rst_alone_closes)
{
	const struct pkt_def rst = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 80, 40000), .tcp_flags = TCP_RST,
	};
	struct es_session_state st;
	struct es_session_key4 k;

	key4("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP, &k);
	send_xdp(self, &rst);
	st = state4(self, &k);
	EXPECT_EQ(st.flags & CLOSE_BITS, ES_STATE_RST | ES_STATE_CLOSED,
		  "close flags after a RST");
	EXPECT_NE(st.closed_ns, 0, "closed_ns");
	ASSERT_EQ(consume_events(self), 1, "events after a RST");
	check_event_v4(&self->events.ev[0], &k, &st);
}

TEST_F(acct, ipv6_tcp_rst_out_closes)
{
	const struct pkt_def rst = {
		V6("fd00::1", "fd00::2", IPPROTO_TCP, 40000, 443),
		.tcp_flags = TCP_RST | TCP_ACK,
	};
	const struct es_close_event *ev = &self->events.ev[0];
	struct es_session_state st;
	struct es_session_key6 k;

	key6("fd00::1", 40000, "fd00::2", 443, IPPROTO_TCP, &k);
	send_tc(self, &rst);
	st = state6(self, &k);
	EXPECT_TRUE((st.flags & ES_STATE_CLOSED) && (st.flags & ES_STATE_RST),
		    "CLOSED and RST after a RST out");
	ASSERT_EQ(consume_events(self), 1, "events after a RST");
	EXPECT_EQ(ev->family, ES_FAMILY_INET6, "event family");
	EXPECT_TRUE(!memcmp(&ev->key, &k, sizeof(k)), "event key is the session key");
	EXPECT_EQ(ev->flags, st.flags, "event flags vs state flags");
	EXPECT_EQ(ev->closed_ns, st.closed_ns, "event closed_ns vs state closed_ns");
}

/* -------------------------------------------------------------------- */
/* Latency */

static void sleep_ns(__u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Histogram bucket of a sample, from the definition in session.h. */
static int lat_bucket(__u64 ns)
{
	int b;

	for (b = 0; b < ES_LAT_BUCKETS - 1; b++)
		if (ns < 1ULL << (b + ES_LAT_BUCKET_SHIFT))
			return b;
	return ES_LAT_BUCKETS - 1;
}

static const char *const lat_kind_name[ES_LAT_MAX] = {
	[ES_LAT_TCP_HANDSHAKE] = "TCP_HANDSHAKE",
	[ES_LAT_SERVICE] = "SERVICE",
	[ES_LAT_RESPONSE] = "RESPONSE",
};

/* Exactly one sample, of this kind and value, in the interface stats. */
static void check_one_sample(FIXTURE_DATA(acct) *self, int kind, __u64 ns)
{
	struct es_iface_stats s = lo_stats(self);
	char what[96];
	int k, b;

	for (k = 0; k < ES_LAT_MAX; k++) {
		__u64 want = k == kind, hist = 0;

		for (b = 0; b < ES_LAT_BUCKETS; b++)
			hist += s.lat_hist[k][b];
		snprintf(what, sizeof(what), "lat_count[%s]", lat_kind_name[k]);
		EXPECT_EQ(s.lat_count[k], want, what);
		snprintf(what, sizeof(what), "lat_sum_ns[%s]", lat_kind_name[k]);
		EXPECT_EQ(s.lat_sum_ns[k], want ? ns : 0, what);
		snprintf(what, sizeof(what), "samples in lat_hist[%s]", lat_kind_name[k]);
		EXPECT_EQ(hist, want, what);
		snprintf(what, sizeof(what), "lat_hist[%s][%d], the bucket of %llu ns",
			 lat_kind_name[k], lat_bucket(ns), (unsigned long long)ns);
		EXPECT_EQ(s.lat_hist[k][lat_bucket(ns)], want, what);
	}
}

#define HS_DELAY_NS	(2 * NSEC_PER_MSEC)

TEST_F(acct, handshake_rtt_we_open)
{
	const struct pkt_def syn = {
		V4("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_SYN,
	};
	struct pkt_def synack = reverse_pkt(&syn, TCP_SYN | TCP_ACK, 0);
	struct es_session_state st;
	struct es_session_key4 k;
	__u64 t0, t1;

	key4("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP, &k);
	t0 = es_now_ns();
	send_tc(self, &syn);
	sleep_ns(HS_DELAY_NS);
	send_xdp(self, &synack);
	t1 = es_now_ns();
	st = state4(self, &k);
	EXPECT_GE(st.tcp_rtt_ns, HS_DELAY_NS, "tcp_rtt_ns vs the delay");
	EXPECT_LE(st.tcp_rtt_ns, t1 - t0, "tcp_rtt_ns vs the time both packets took");
	EXPECT_EQ(st.hs_ts_ns, 0, "hs_ts_ns cleared after the sample");
	EXPECT_TRUE(st.flags & ES_STATE_SYN_SEEN, "SYN_SEEN");
	EXPECT_TRUE(!(st.flags & ES_STATE_RX_INITIATED), "we opened: no RX_INITIATED");
	check_one_sample(self, ES_LAT_TCP_HANDSHAKE, st.tcp_rtt_ns);
}

TEST_F(acct, handshake_rtt_peer_opens)
{
	const struct pkt_def syn = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_SYN,
	};
	struct pkt_def synack = reverse_pkt(&syn, TCP_SYN | TCP_ACK, 0);
	struct pkt_def ack = syn;
	struct es_session_state st;
	struct es_session_key4 k;
	__u64 t0, t1;

	ack.tcp_flags = TCP_ACK;
	key4("10.0.0.1", 80, "10.0.0.2", 40000, IPPROTO_TCP, &k);
	send_xdp(self, &syn);
	t0 = es_now_ns();
	send_tc(self, &synack);
	sleep_ns(HS_DELAY_NS);
	send_xdp(self, &ack);
	t1 = es_now_ns();
	st = state4(self, &k);
	EXPECT_GE(st.tcp_rtt_ns, HS_DELAY_NS, "tcp_rtt_ns vs the delay");
	EXPECT_LE(st.tcp_rtt_ns, t1 - t0, "tcp_rtt_ns vs the time both packets took");
	EXPECT_EQ(st.hs_ts_ns, 0, "hs_ts_ns cleared after the sample");
	EXPECT_TRUE(st.flags & ES_STATE_RX_INITIATED, "peer opened: RX_INITIATED");
	check_one_sample(self, ES_LAT_TCP_HANDSHAKE, st.tcp_rtt_ns);
}

#define RR_DELAY_NS	(1 * NSEC_PER_MSEC)

/* Request through `req_tc ? TC : XDP`, reply the other way, after a delay. */
static struct es_session_state request_reply(FIXTURE_DATA(acct) *self, bool req_tc,
					     __u64 *elapsed)
{
	const struct pkt_def req = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_UDP, 5353, 53), .payload = 30,
	};
	struct pkt_def rep = reverse_pkt(&req, 0, 0);
	struct es_session_key4 k;
	__u64 t0;

	key4("10.0.0.1", 53, "10.0.0.2", 5353, IPPROTO_UDP, &k);
	t0 = es_now_ns();
	if (req_tc)
		send_tc(self, &req);
	else
		send_xdp(self, &req);
	sleep_ns(RR_DELAY_NS);
	if (req_tc)
		send_xdp(self, &rep);
	else
		send_tc(self, &rep);
	*elapsed = es_now_ns() - t0;
	return state4(self, &k);
}

static void check_rr_sample(FIXTURE_DATA(acct) *self, const struct es_session_state *st,
			    int kind, __u64 elapsed)
{
	EXPECT_EQ(st->lat_count, 1, "state lat_count");
	EXPECT_GE(st->lat_sum_ns, RR_DELAY_NS, "state lat_sum_ns vs the delay");
	EXPECT_LE(st->lat_sum_ns, elapsed, "state lat_sum_ns vs the time both packets took");
	EXPECT_EQ(st->lat_last_ns, st->lat_sum_ns, "lat_last_ns of the only sample");
	EXPECT_EQ(st->lat_max_ns, st->lat_sum_ns, "lat_max_ns of the only sample");
	EXPECT_EQ(st->req_ts_ns, 0, "no request outstanding");
	check_one_sample(self, kind, st->lat_sum_ns);
}

TEST_F(acct, udp_service_latency)
{
	__u64 elapsed;
	struct es_session_state st = request_reply(self, false, &elapsed);

	EXPECT_TRUE(st.flags & ES_STATE_RX_INITIATED, "peer opened: RX_INITIATED");
	check_rr_sample(self, &st, ES_LAT_SERVICE, elapsed);
}

TEST_F(acct, udp_response_latency)
{
	__u64 elapsed;
	struct es_session_state st = request_reply(self, true, &elapsed);

	EXPECT_TRUE(!(st.flags & ES_STATE_RX_INITIATED), "we opened: no RX_INITIATED");
	check_rr_sample(self, &st, ES_LAT_RESPONSE, elapsed);
}

/* A request on ACK's connection (100 bytes of payload) and its reply. */
static void tcp_req_rep(const struct pkt_def *ack, struct pkt_def *req, struct pkt_def *rep)
{
	*req = *ack;
	req->tcp_flags = TCP_ACK | TCP_PSH;
	req->payload = 100;
	*rep = reverse_pkt(req, TCP_ACK | TCP_PSH, 0);
}

/*
 * TCP: a segment with payload is a request or a reply, a bare ACK neither
 * (not even one padded to the 60 bytes of a minimum Ethernet frame: the
 * IP length says it carries nothing). The session is past its first
 * packets, so the request and reply take the flow cache's path. The
 * reply's second segment finds no request outstanding: one sample.
 */
TEST_F(acct, tcp_service_latency)
{
	const struct pkt_def ack = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_ACK,
	};
	struct pkt_def req, ack_out = reverse_pkt(&ack, TCP_ACK, 0), rep;
	struct es_session_state st;
	struct es_session_key4 k;
	struct es_flow_counts n;
	uint8_t pkt[PKT_MAX];
	__u64 t0, elapsed;
	size_t len;
	int i;

	tcp_req_rep(&ack, &req, &rep);
	key4("10.0.0.1", 80, "10.0.0.2", 40000, IPPROTO_TCP, &k);
	/* 4 packets make the session known here (ES_YOUNG_PKTS) */
	for (i = 0; i < 6; i++)
		send_xdp(self, &ack);
	ASSERT_TRUE(flow_slot4(self, &k, &n), "the slot holds the session");
	len = build_pkt(&ack, pkt, sizeof(pkt));
	ASSERT_LT(len, 60, "a bare ACK is shorter than a minimum frame");
	memset(pkt + len, 0, 60 - len);
	run_xdp(self, pkt, 60);
	EXPECT_EQ(state4(self, &k).req_ts_ns, 0, "a padded bare ACK in is no request");

	t0 = es_now_ns();
	send_xdp(self, &req);
	send_tc(self, &ack_out);
	EXPECT_NE(state4(self, &k).req_ts_ns, 0, "a bare ACK out is no reply");
	sleep_ns(RR_DELAY_NS);
	send_tc(self, &rep);
	elapsed = es_now_ns() - t0;
	send_tc(self, &rep);
	st = state4(self, &k);
	EXPECT_TRUE(st.flags & ES_STATE_RX_INITIATED, "peer opened: RX_INITIATED");
	check_rr_sample(self, &st, ES_LAT_SERVICE, elapsed);
}

/* IPv6 TCP: the payload length says whether a segment carries data. */
TEST_F(acct, ipv6_tcp_service_latency)
{
	const struct pkt_def ack = {
		V6("fd00::2", "fd00::1", IPPROTO_TCP, 40000, 80), .tcp_flags = TCP_ACK,
	};
	struct pkt_def req, ack_out = reverse_pkt(&ack, TCP_ACK, 0), rep;
	struct es_session_state st;
	struct es_session_key6 k;

	tcp_req_rep(&ack, &req, &rep);
	key6("fd00::1", 80, "fd00::2", 40000, IPPROTO_TCP, &k);
	send_xdp(self, &ack);
	send_tc(self, &ack_out);
	EXPECT_EQ(state6(self, &k).req_ts_ns, 0, "bare ACKs are neither");
	send_xdp(self, &req);
	EXPECT_NE(state6(self, &k).req_ts_ns, 0, "a segment with payload in is a request");
	send_tc(self, &rep);
	st = state6(self, &k);
	EXPECT_EQ(st.lat_count, 1, "the reply took one sample");
	EXPECT_EQ(st.req_ts_ns, 0, "no request outstanding");
}

/*
 * With request/response latency off (the agent's request_latency: false)
 * a UDP session gives no sample, and its known packets count in the flow
 * cache slot without the state look-up, every packet still counted.
 */
TEST(udp_latency_off_counts_in_the_slot)
{
	const struct pkt_def req = {
		V4("10.0.0.2", "10.0.0.1", IPPROTO_UDP, 5353, 53), .payload = 30,
	};
	struct pkt_def rep = reverse_pkt(&req, 0, 0);
	FIXTURE_DATA(acct) data = {}, *self = &data;
	struct es_session_counters c;
	struct es_session_state st;
	struct es_iface_stats s;
	struct es_flow_counts n;
	struct es_session_key4 k;
	size_t len = 0;
	int i;

	es_harness_require_root();
	self->skel = acct_load(false);
	ASSERT_OK_PTR(self->skel, "accounting load with request latency off");
	acct_attach(self);
	key4("10.0.0.1", 53, "10.0.0.2", 5353, IPPROTO_UDP, &k);
	send_xdp(self, &req);
	sleep_ns(RR_DELAY_NS);
	send_tc(self, &rep);
	for (i = 0; i < 6; i++)
		len = send_xdp(self, &req);
	st = state4(self, &k);
	EXPECT_TRUE(st.flags & ES_STATE_RX_INITIATED, "the state still knows the opener");
	EXPECT_EQ(st.lat_count, 0, "no sample in the state");
	EXPECT_EQ(st.req_ts_ns, 0, "no request time taken");
	s = lo_stats(self);
	for (i = 0; i < ES_LAT_MAX; i++)
		EXPECT_EQ(s.lat_count[i], 0, "no sample in the interface stats");
	EXPECT_TRUE(flow_slot4(self, &k, &n), "the slot holds the session");
	c = counters4(self, &k);
	EXPECT_EQ(c.pkts[ES_DIR_RX], 7, "every request counted");
	EXPECT_EQ(c.pkts[ES_DIR_TX], 1, "the reply counted");
	EXPECT_EQ(c.bytes[ES_DIR_RX], 7 * len, "every request's bytes");
	ring_buffer__free(self->rb);
	accounting__destroy(self->skel);
}

TEST_HARNESS_MAIN
