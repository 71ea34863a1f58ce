// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet fixtures of the migration data plane through BPF_PROG_TEST_RUN:
 * bytes in, verdict and bytes out, and what the maps say afterwards, for
 * forwarding (encapsulation + mirror), decapsulation on both nodes, the
 * first-reply-wins suppression, the buffer-full abort, hold, cut-over,
 * handoff detection and the control program's refusals.
 *
 * Each test runs in a network namespace of its own (the harness forks per
 * test, the test unshares), with a veth whose peer is the next hop towards
 * the source node, so the FIB lookups of the programs have a route and a
 * neighbour to find; the namespace goes away with the test's process. The
 * object is loaded once and its maps emptied before each test.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include "bpf/accounting_skel.h"
#include "migctl/ctl.h"
#include "migctl/names.h"
#include "migctl/seal.h"
#include "replay/inject.h"
#include "replay/replay.h"
#include "replay/tcp_replay.h"
#include "replay/tcp_run.h"
#include "migration.skel.h"
#include "testing/map_reset.h"
#include "testing/pkt_build.h"
#include "testing/tun_build.h"
#include "net/netns.h"
#include "net/tcp_info.h"
#include "net/udp_rqueue.h"
#include "util/clock.h"
#include "harness.h"

#define PKT_MAX		2048
#define TUN_PORT	47000
#define LOCAL		"10.9.0.1"	/* this node's tunnel address (on w0) */
#define NEXT_HOP	"10.9.0.2"	/* w0's neighbour, permanent */
#define NEXT_HOP_MAC	{ 0x02, 0x00, 0x00, 0x00, 0x09, 0x02 }
#define SOURCE		"10.9.9.9"	/* the source node, routed via NEXT_HOP */
/* A node's IPv4 tunnel address as the maps hold it (mapped), as an initializer and as a pointer. */
#define NODE4_INIT(a)	{ 0, 0, ES_MIG_V4_MAPPED, inet_addr(a) }
#define NODE4(a)	((const __u32 *)(__u32[4])NODE4_INIT(a))
#define USER		"10.1.0.2"
#define SVC		"10.4.0.10"
#define USER6		"fd00:1::2"	/* the IPv6 variants' user and service */
#define SVC6		"fd00:4::10"
#define USER_PORT	5000
#define SVC_PORT	7000
#define PAYLOAD		32

/* The session's ends: IPv4 unless the test called use_ipv6 (each test is a child of its own). */
static const char *user_ip = USER, *svc_ip = SVC;

FIXTURE(mig) {
	struct migration	*skel;
	struct es_mig_dp	dp;
	struct es_mig_key	key;
	int			ingress_fd, wan_fd, ctr_fd, tc_ingress_fd;
	unsigned int		w0;
	uint8_t			w0_mac[6];
};

static int sh(const char *cmd)
{
	return system(cmd);
}

static void netns_setup(FIXTURE_DATA(mig) *self)
{
	struct ifreq ifr;
	int fd;

	ASSERT_OK(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
	ASSERT_OK(sh("sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 "
		     "net.ipv6.conf.default.disable_ipv6=1 && ip link set lo up && "
		     "ip link add w0 type veth peer name w1 && "
		     "ip addr add " LOCAL "/24 dev w0 && ip link set w0 up && ip link set w1 up && "
		     "ip neigh replace " NEXT_HOP " lladdr 02:00:00:00:09:02 nud permanent dev w0 && "
		     "ip route add 10.9.9.0/24 via " NEXT_HOP " && "
		     "sysctl -q -w net.ipv4.conf.all.forwarding=1 net.ipv4.conf.lo.forwarding=1"),
		  "namespace with a route to the source node");
	self->w0 = if_nametoindex("w0");
	ASSERT_GT(self->w0, 0, "ifindex of w0");
	/* /sys belongs to the namespace that mounted it: ask the socket layer. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_GE(fd, 0, "socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "w0");
	ASSERT_OK(ioctl(fd, SIOCGIFHWADDR, &ifr), "SIOCGIFHWADDR w0");
	close(fd);
	memcpy(self->w0_mac, ifr.ifr_hwaddr.sa_data, 6);
}

/*
 * The object the tests share, loaded once in the runner (each load costs
 * the verifier about half a second); every test empties its maps first,
 * as a fresh load has them. A program runs in the namespace of the task
 * that runs it, so the test's own namespace still holds its routes.
 */
static struct {
	struct migration	*skel;
	int			err;
} shared;

static void mig_load_shared(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct migration *skel;

	if (geteuid() != 0)
		return;
	if (es_kernel_config_missing())
		oo.kconfig = ES_KCONFIG_FALLBACK;
	skel = migration__open_opts(&oo);
	if (!skel)
		goto fail;
	bpf_map__set_max_entries(skel->maps.es_mig_replay, 64);
	if (migration__load(skel)) {
		migration__destroy(skel);
		goto fail;
	}
	shared.skel = skel;
	return;
fail:
	shared.err = -errno;
}
TEST_SETUP_ONCE(mig_load_shared)

FIXTURE_SETUP(mig)
{
	struct migration *skel = shared.skel;
	char key[80];

	es_harness_require_root();
	netns_setup(self);
	ASSERT_OK(shared.err, "migration__load (once for the mig tests)");
	ASSERT_OK_PTR(skel, "the shared migration object");
	self->skel = skel;
	ASSERT_OK(es_object_clear_maps(skel->obj), "empty the maps of the shared object");
	memset(skel->bss, 0, sizeof(*skel->bss));
	es_mig_dp_from_skel(&self->dp, skel);
	self->ingress_fd = bpf_program__fd(skel->progs.es_mig_xdp_ingress);
	self->wan_fd = bpf_program__fd(skel->progs.es_mig_xdp_wan);
	self->ctr_fd = bpf_program__fd(skel->progs.es_mig_tc_ctr);
	self->tc_ingress_fd = bpf_program__fd(skel->progs.es_mig_tc_ingress);
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(LOCAL), TUN_PORT, 1024), "config");
	snprintf(key, sizeof(key), "%s:%u>%s:%u/udp", USER, USER_PORT, SVC, SVC_PORT);
	ASSERT_OK(es_mig_key_parse(key, &self->key, NULL, 0), "session key");
}

/* The test's user and service are IPv6: the same session, another family. */
static void use_ipv6(FIXTURE_DATA(mig) *self)
{
	char key[ES_MIG_KEY_TEXT_LEN];

	user_ip = USER6;
	svc_ip = SVC6;
	snprintf(key, sizeof(key), "[%s]:%u>[%s]:%u/%s", USER6, USER_PORT, SVC6, SVC_PORT,
		 self->key.proto == IPPROTO_TCP ? "tcp" : "udp");
	ASSERT_OK(es_mig_key_parse(key, &self->key, NULL, 0), "IPv6 session key");
	ASSERT_TRUE(!es_mig_addr_is4(self->key.user_addr), "an IPv6 key");
}

/* The shared object outlives the test, the namespace goes with its process. */
FIXTURE_TEARDOWN(mig)
{
}

/*
 * A test body run twice: as tname with the IPv4 session, and as
 * tname_ipv6 with the same session between IPv6 addresses.
 */
#define TEST_F_BOTH_FAMILIES(tname)					\
	static void tname##_body(FIXTURE_DATA(mig) *self);		\
	TEST_F(mig, tname)						\
	{								\
		tname##_body(self);					\
	}								\
	TEST_F(mig, tname##_ipv6)					\
	{								\
		use_ipv6(self);						\
		tname##_body(self);					\
	}								\
	static void tname##_body(FIXTURE_DATA(mig) *self)

/* ---- packets ---- */

/* Ethernet + IP + UDP from (src, sport) to (dst, dport), payload bytes; payload[0] = tag. */
static size_t udp_pkt_n(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			uint8_t tag, size_t payload, uint8_t *buf)
{
	struct es_pkt_spec spec;
	size_t len;

	es_pkt_spec_init(&spec);
	ASSERT_OK(es_pkt_spec_addr(&spec, 0, src), "source literal");
	ASSERT_OK(es_pkt_spec_addr(&spec, 1, dst), "destination literal");
	spec.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	spec.sport = sport;
	spec.dport = dport;
	spec.payload = payload;
	len = es_pkt_build(&spec, buf, PKT_MAX);
	ASSERT_GT(len, 0, "es_pkt_build");
	buf[len - payload] = tag;
	return len;
}

static size_t udp_pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		      uint8_t tag, uint8_t *buf)
{
	return udp_pkt_n(src, sport, dst, dport, tag, PAYLOAD, buf);
}

static size_t request(uint8_t tag, uint8_t *buf)
{
	return udp_pkt(user_ip, USER_PORT, svc_ip, SVC_PORT, tag, buf);
}

static size_t reply(uint8_t tag, uint8_t *buf)
{
	return udp_pkt(svc_ip, SVC_PORT, user_ip, USER_PORT, tag, buf);
}

/* The tunnel header's base of the requests tunnel_pkt builds; -1: each one's seq - 1. */
static long long tun_base = -1;

/* Wrap an Ethernet frame's IP packet in the tunnel from src to dst. */
static size_t tunnel_pkt(const uint8_t *in, size_t in_len, const char *src, const char *dst,
			 uint8_t type, uint64_t seq, uint8_t *out)
{
	struct es_tun_spec t = {
		.src = inet_addr(src), .dst = inet_addr(dst), .port = TUN_PORT, .type = type,
		.seq = seq,
	};

	/* as if the target began forwarding just before this request (tun_base: fixed) */
	if (type == ES_MIG_TUN_REQUEST)
		t.base = tun_base >= 0 ? (uint32_t)tun_base : (uint32_t)(seq - 1);
	return es_tun_build(&t, in, in_len, out);
}

struct run {
	uint32_t	retval;
	uint8_t		out[PKT_MAX];
	uint32_t	out_len;
};

static void run_xdp(int fd, unsigned int ifindex, const uint8_t *pkt, size_t len, struct run *r)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = r->out, .data_size_out = sizeof(r->out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
	);

	ASSERT_OK(bpf_prog_test_run_opts(fd, &o), "BPF_PROG_TEST_RUN (XDP)");
	r->retval = o.retval;
	r->out_len = o.data_size_out;
}

static void run_tc(int fd, const uint8_t *pkt, size_t len, struct run *r)
{
	struct __sk_buff ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = r->out, .data_size_out = sizeof(r->out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
	);

	ASSERT_OK(bpf_prog_test_run_opts(fd, &o), "BPF_PROG_TEST_RUN (TC)");
	r->retval = o.retval;
	r->out_len = o.data_size_out;
}

static struct es_mig_session session(FIXTURE_DATA(mig) *self)
{
	struct es_mig_session s;

	ASSERT_OK(es_mig_session_get(&self->dp, &self->key, &s), "session entry");
	return s;
}

static unsigned int state(FIXTURE_DATA(mig) *self)
{
	return session(self).seq_state >> ES_MIG_STATE_SHIFT;
}

/* Put the session in a state through the control program, as the agent does. */
static void make_session(FIXTURE_DATA(mig) *self, unsigned int st, uint32_t limit)
{
	struct es_mig_cmd cmd = {
		.key = self->key, .op = ES_MIG_CMD_CREATE, .to = st,
		.flags = ES_MIG_F_MIRROR, .source_addr = NODE4_INIT(SOURCE),
		.replay_limit = limit,
	};

	ASSERT_OK(es_mig_set_active(&self->dp, true), "active");
	ASSERT_EQ(es_mig_ctl(&self->dp, &cmd), 0, "ES_MIG_CMD_CREATE");
}

static void set_cursor(FIXTURE_DATA(mig) *self, uint64_t cursor)
{
	struct es_mig_cmd cmd = { .key = self->key, .op = ES_MIG_CMD_SET_CURSOR, .value = cursor };

	ASSERT_EQ(es_mig_ctl(&self->dp, &cmd), 0, "ES_MIG_CMD_SET_CURSOR");
}

static void set_reply_base(FIXTURE_DATA(mig) *self, uint64_t base)
{
	struct es_mig_cmd cmd = {
		.key = self->key, .op = ES_MIG_CMD_SET_REPLY_BASE, .value = base,
	};

	ASSERT_EQ(es_mig_ctl(&self->dp, &cmd), 0, "ES_MIG_CMD_SET_REPLY_BASE");
}

/* The claim of reply ordinal ord, as if one container's copy had passed. */
static void put_claim(FIXTURE_DATA(mig) *self, uint64_t ord, uint32_t answered)
{
	struct es_mig_record_key rk = { .session = self->key, .seq = ord };
	struct es_mig_rclaim c = { .answered = answered };

	ASSERT_OK(bpf_map_update_elem(self->dp.rclaim_fd, &rk, &c, BPF_ANY), "claim");
}

/* Which containers' copies of reply ordinal ord passed; -1 when it has no claim. */
static int claimed(FIXTURE_DATA(mig) *self, uint64_t ord)
{
	struct es_mig_record_key rk = { .session = self->key, .seq = ord };
	struct es_mig_rclaim c;

	return bpf_map_lookup_elem(self->dp.rclaim_fd, &rk, &c) ? -1 : (int)c.answered;
}

struct events {
	struct es_mig_event	ev[4];
	int			n;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct events *e = ctx;

	if (size == sizeof(struct es_mig_event) && e->n < 4)
		memcpy(&e->ev[e->n], data, size);
	e->n++;
	return 0;
}

static struct events drain_events(FIXTURE_DATA(mig) *self)
{
	struct events e = {};
	struct ring_buffer *rb;

	rb = ring_buffer__new(self->dp.events_fd, on_event, &e, NULL);
	ASSERT_OK_PTR(rb, "ring_buffer__new");
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return e;
}

/* The frame es_mig_xdp_ingress sends: next hop MAC, outer headers, the request. */
static void check_encapsulated(FIXTURE_DATA(mig) *self, const struct run *r, const uint8_t *in,
			       size_t in_len, uint64_t seq)
{
	static const uint8_t nh_mac[6] = NEXT_HOP_MAC;
	const uint8_t *ip = r->out + ETH_HLEN;
	struct es_mig_tunhdr th;

	ASSERT_EQ(r->out_len, in_len + ES_MIG_ENCAP_LEN, "frame grew by the tunnel headers");
	EXPECT_TRUE(!memcmp(r->out, nh_mac, 6), "destination MAC is the next hop's");
	EXPECT_TRUE(!memcmp(r->out + 6, self->w0_mac, 6), "source MAC is w0's");
	EXPECT_EQ(r->out[12] << 8 | r->out[13], ETH_P_IP, "ethertype IPv4");
	EXPECT_EQ(ip[0], 0x45, "outer IPv4, 20-byte header");
	EXPECT_EQ(ip[9], IPPROTO_UDP, "outer protocol UDP");
	EXPECT_EQ(es_ipv4_csum(ip), 0, "outer header checksum valid");
	EXPECT_EQ(ip[2] << 8 | ip[3], in_len - ETH_HLEN + ES_MIG_ENCAP_LEN, "outer total length");
	EXPECT_TRUE(!memcmp(ip + 12, &(uint32_t){ inet_addr(LOCAL) }, 4), "outer source: this node");
	EXPECT_TRUE(!memcmp(ip + 16, &(uint32_t){ inet_addr(SOURCE) }, 4), "outer destination: source node");
	EXPECT_EQ(ip[22] << 8 | ip[23], TUN_PORT, "tunnel UDP port");
	memcpy(&th, ip + 28, sizeof(th));
	EXPECT_EQ(ntohs(th.magic), ES_MIG_TUN_MAGIC, "tunnel magic");
	EXPECT_EQ(th.type, ES_MIG_TUN_REQUEST, "tunnel type request");
	EXPECT_EQ(be64toh(th.seq), seq, "tunnel sequence number");
	EXPECT_TRUE(!memcmp(ip + ES_MIG_ENCAP_LEN, in + ETH_HLEN, in_len - ETH_HLEN),
		    "inner packet unchanged");
}

/* ---- tests ---- */

TEST_F(mig, not_migrating_passes_unchanged)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	ASSERT_EQ(r.retval, XDP_PASS, "verdict");
	ASSERT_EQ(r.out_len, len, "length");
	EXPECT_TRUE(!memcmp(r.out, pkt, len), "bytes unchanged");
	EXPECT_TRUE(es_mig_session_get(&self->dp, &self->key, &(struct es_mig_session){}) != 0,
		    "no session made without a service entry");
}

TEST_F(mig, inactive_node_does_not_look_sessions_up)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	make_session(self, ES_MIG_FORWARDING, 16);
	ASSERT_OK(bpf_map_update_elem(self->dp.config_fd, &(__u32){ 0 },
				      &(struct es_mig_node_config){ .layout_version = ES_MIG_LAYOUT_VERSION,
				      .local_addr = NODE4_INIT(LOCAL), .tunnel_port = htons(TUN_PORT) },
				      BPF_ANY), "config with active 0");
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	ASSERT_EQ(r.retval, XDP_PASS, "verdict");
	EXPECT_EQ(session(self).seq_state & ES_MIG_SEQ_MASK, 0, "session not touched");
	ASSERT_OK(es_mig_finish(&self->dp, &self->key, NULL), "finish");
	ASSERT_OK(es_mig_set_active(&self->dp, true), "active again");
	ASSERT_OK(es_mig_set_active(&self->dp, false), "inactive: maps empty");
	ASSERT_OK(es_mig_config_get(&self->dp, &(struct es_mig_node_config){}), "config");
}

TEST_F_BOTH_FAMILIES(forwarding_encapsulates_and_mirrors)
{
	uint8_t pkt[PKT_MAX];
	struct es_mig_record rec;
	struct es_mig_session s;
	struct run r;
	size_t len;
	int i;

	make_session(self, ES_MIG_FORWARDING, 16);
	for (i = 1; i <= 3; i++) {
		len = request(i, pkt);
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		ASSERT_EQ(r.retval, XDP_REDIRECT, "verdict: redirected to w0");
		check_encapsulated(self, &r, pkt, len, i);
		ASSERT_OK(es_mig_record_get(&self->dp, &self->key, i, &rec), "record of the request");
		EXPECT_EQ(rec.len, len - ETH_HLEN, "record length: the IP packet");
		EXPECT_TRUE(!memcmp(rec.data, pkt + ETH_HLEN, rec.len), "record bytes: the request");
		EXPECT_EQ(rec.answered, 0, "not answered yet");
	}
	s = session(self);
	EXPECT_EQ(s.seq_state & ES_MIG_SEQ_MASK, 3, "three sequence numbers");
	EXPECT_EQ(s.forwarded, 3, "forwarded");
	EXPECT_EQ(s.mirrored, 3, "mirrored");
	EXPECT_EQ(s.fwd_errors, 0, "no forwarding error");
}

/*
 * An IPv6 packet whose addresses are an IPv4 session's, mapped
 * (::ffff:a.b.c.d), is not that session: the kernel drops it, and a key
 * made of it would take the session's numbers and records.
 */
TEST_F(mig, ipv6_with_mapped_addresses_is_not_the_ipv4_session)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len;

	make_session(self, ES_MIG_FORWARDING, 16);
	len = udp_pkt("::ffff:" USER, USER_PORT, "::ffff:" SVC, SVC_PORT, 1, pkt);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(r.retval, XDP_PASS, "passed by, not forwarded");
	run_tc(self->tc_ingress_fd, pkt, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_UNSPEC, "the same on tcx");
	EXPECT_EQ(session(self).forwarded, 0, "nothing forwarded");
	EXPECT_EQ(session(self).seq_state & ES_MIG_SEQ_MASK, 0, "no number taken");
}

TEST_F(mig, forwarding_from_the_next_hop_interface_is_xdp_tx)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	make_session(self, ES_MIG_FORWARDING, 16);
	run_xdp(self->ingress_fd, self->w0, pkt, len, &r);
	ASSERT_EQ(r.retval, XDP_TX, "verdict: back out of the interface it came in");
	check_encapsulated(self, &r, pkt, len, 1);
}

TEST_F(mig, no_route_drops_and_counts)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	ASSERT_OK(sh("ip route del 10.9.9.0/24"), "route removed");
	make_session(self, ES_MIG_FORWARDING, 16);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(r.retval, XDP_DROP, "verdict");
	EXPECT_EQ(session(self).fwd_errors, 1, "fwd_errors");
	EXPECT_EQ(session(self).mirrored, 1, "still in the replay buffer");
}

TEST_F_BOTH_FAMILIES(decap_request_on_the_source)
{
	uint8_t req[PKT_MAX], tun[PKT_MAX];
	struct es_mig_remote rem;
	struct run r;
	size_t len = request(7, req), tlen;

	/* This node is the source: its tunnel address is the outer destination. */
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	tlen = tunnel_pkt(req, len, LOCAL, SOURCE, ES_MIG_TUN_REQUEST, 41, tun);
	run_xdp(self->wan_fd, 1, tun, tlen, &r);
	ASSERT_EQ(r.retval, XDP_PASS, "verdict");
	ASSERT_EQ(r.out_len, len, "outer headers removed");
	EXPECT_TRUE(!memcmp(r.out, req, len), "the request as the user sent it");
	ASSERT_OK(bpf_map_lookup_elem(self->dp.remote_fd, &self->key, &rem), "remote entry");
	EXPECT_TRUE(es_mig_addr_eq(rem.peer_addr, NODE4(LOCAL)), "replies go back to the sender");
	EXPECT_EQ(rem.delivered, 1, "delivered");
	EXPECT_EQ(rem.last_seq, 41, "last_seq");
}

TEST_F(mig, decap_ignores_other_udp)
{
	uint8_t req[PKT_MAX], tun[PKT_MAX];
	struct run r;
	size_t len = request(7, req), tlen;

	/* Tunnel-shaped, but to another address than this node's. */
	tlen = tunnel_pkt(req, len, SOURCE, "10.9.0.77", ES_MIG_TUN_REQUEST, 1, tun);
	run_xdp(self->wan_fd, 1, tun, tlen, &r);
	ASSERT_EQ(r.retval, XDP_PASS, "verdict");
	ASSERT_EQ(r.out_len, tlen, "left whole");
}

TEST_F_BOTH_FAMILIES(old_reply_decapsulated_unless_new_answered_first)
{
	uint8_t rep[PKT_MAX], tun[PKT_MAX];
	struct run r;
	size_t len = reply(2, rep), tlen;

	make_session(self, ES_MIG_REPLAYING, 16);
	set_cursor(self, 1);
	set_reply_base(self, 1);
	put_claim(self, 3, ES_MIG_ANS_NEW);
	tlen = tunnel_pkt(rep, len, SOURCE, LOCAL, ES_MIG_TUN_REPLY, 2, tun);
	run_xdp(self->wan_fd, 1, tun, tlen, &r);
	ASSERT_EQ(r.retval, XDP_PASS, "reply 2: first answer, passes");
	ASSERT_EQ(r.out_len, len, "reply 2 decapsulated");
	EXPECT_TRUE(!memcmp(r.out, rep, len), "reply 2 bytes");
	EXPECT_EQ(claimed(self, 2), ES_MIG_ANS_OLD, "reply 2 claimed by the old side");
	tlen = tunnel_pkt(rep, len, SOURCE, LOCAL, ES_MIG_TUN_REPLY, 3, tun);
	run_xdp(self->wan_fd, 1, tun, tlen, &r);
	EXPECT_EQ(r.retval, XDP_DROP, "reply 3: the restored container answered first");
	EXPECT_EQ(session(self).suppressed_old, 1, "suppressed_old");
	EXPECT_EQ(session(self).old_replies, 3, "old_replies");
}

/* Source reply `ordinal` through the tunnel to this node (the target); its verdict. */
static uint32_t old_reply(FIXTURE_DATA(mig) *self, uint64_t ordinal)
{
	uint8_t rep[PKT_MAX], tun[PKT_MAX];
	size_t tlen = tunnel_pkt(rep, reply(ordinal, rep), SOURCE, LOCAL, ES_MIG_TUN_REPLY,
				 ordinal, tun);
	struct run r;

	run_xdp(self->wan_fd, 1, tun, tlen, &r);
	return r.retval;
}

/*
 * The source's replies over a lossy WAN: each ordinal passes once however
 * late it comes; one missing below others is reported (event, gap) until
 * it comes or the agent gives it up.
 */
TEST_F(mig, old_replies_pass_once_and_gaps_are_told)
{
	__u64 from = 0, to = 0;
	struct events e;

	make_session(self, ES_MIG_FORWARDING, 16);
	EXPECT_EQ(old_reply(self, 1), XDP_PASS, "reply 1");
	EXPECT_EQ(old_reply(self, 3), XDP_PASS, "reply 3, past the missing 2");
	EXPECT_EQ(old_reply(self, 4), XDP_PASS, "reply 4");
	EXPECT_EQ(old_reply(self, 3), XDP_DROP, "reply 3 again: dropped");
	e = drain_events(self);
	ASSERT_EQ(e.n, 1, "one event");
	EXPECT_EQ(e.ev[0].type, ES_MIG_EV_REPLY_GAP, "a reply gap");
	EXPECT_EQ(e.ev[0].seq, 2, "ordinal 2 is missing");
	ASSERT_OK(es_mig_reply_gap(&self->dp, &self->key, &from, &to), "gap");
	EXPECT_EQ(from * 1000 + to, 2002, "gap: 2..2");
	EXPECT_EQ(old_reply(self, 2), XDP_PASS, "reply 2, sent again, passes once");
	EXPECT_EQ(old_reply(self, 2), XDP_DROP, "and only once");
	EXPECT_EQ(session(self).old_base, 4, "every ordinal up to 4 arrived");
	EXPECT_EQ(es_mig_reply_gap(&self->dp, &self->key, &from, &to), -ENOENT, "no gap left");
	EXPECT_EQ(old_reply(self, 7), XDP_PASS, "reply 7, past 5 and 6");
	ASSERT_OK(es_mig_reply_gap(&self->dp, &self->key, &from, &to), "gap");
	EXPECT_EQ(from * 1000 + to, 5006, "gap: 5..6");
	ASSERT_OK(es_mig_reply_skip(&self->dp, &self->key, 6), "give 5 and 6 up");
	EXPECT_EQ(session(self).old_base, 7, "up to 7 arrived or given up");
	EXPECT_EQ(session(self).replies_lost, 2, "two given up, counted");
	EXPECT_EQ(session(self).dup_replies, 2, "two copies dropped");
	ASSERT_OK(es_mig_finish(&self->dp, &self->key, NULL), "finish");
	EXPECT_EQ(old_reply(self, 8), XDP_DROP,
		  "a reply after the session finished: the new container answers now");
}

/*
 * The data plane moves old_base over at most 32 ordinals a reply: after the
 * last reply it can stop short of a gap that no later reply will move it
 * to. The agent moves it over what arrived, and the gap is found (seen in a drill: two replies
 * lost over a lossy WAN were never asked for again).
 */
TEST_F(mig, reply_gap_found_past_a_lagging_base)
{
	__u64 from = 0, to = 0, i, passed = 0;

	make_session(self, ES_MIG_FORWARDING, 16);
	EXPECT_EQ(old_reply(self, 1), XDP_PASS, "reply 1");
	for (i = 3; i <= 47; i++)
		if (i != 45)
			passed += old_reply(self, i) == XDP_PASS;
	EXPECT_EQ(passed, 44, "replies 3 to 47 but 45 pass");
	EXPECT_EQ(old_reply(self, 2), XDP_PASS, "reply 2, sent again");
	EXPECT_EQ(session(self).old_base, 33, "the base moved over 32 ordinals, no further");
	ASSERT_OK(es_mig_reply_catch_up(&self->dp, &self->key), "catch up");
	EXPECT_EQ(session(self).old_base, 44, "the base caught up with what arrived");
	EXPECT_EQ(session(self).replies_lost, 0, "nothing given up on the way");
	ASSERT_OK(es_mig_reply_gap(&self->dp, &self->key, &from, &to), "a gap past the base");
	EXPECT_EQ(from * 1000 + to, 45045, "gap: 45..45");
	EXPECT_EQ(old_reply(self, 45), XDP_PASS, "reply 45, sent again, passes");
	EXPECT_EQ(es_mig_reply_gap(&self->dp, &self->key, &from, &to), -ENOENT, "no gap left");
}

TEST_F_BOTH_FAMILIES(new_reply_suppressed_when_old_answered)
{
	uint8_t rep[PKT_MAX];
	struct run r;
	size_t len = reply(3, rep);

	make_session(self, ES_MIG_CUTOVER, 16);
	set_cursor(self, 2);
	set_reply_base(self, 2);
	put_claim(self, 3, ES_MIG_ANS_OLD);
	run_tc(self->ctr_fd, rep, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_SHOT, "1st reply is ordinal 3, already passed: dropped");
	run_tc(self->ctr_fd, rep, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_UNSPEC, "2nd reply is ordinal 4: passes");
	EXPECT_EQ(claimed(self, 4), ES_MIG_ANS_NEW, "ordinal 4 claimed by the new side");
	run_tc(self->ctr_fd, rep, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_UNSPEC, "3rd reply is ordinal 5, unclaimed: passes");
	EXPECT_EQ(session(self).new_replies, 3, "new_replies");
	EXPECT_EQ(session(self).suppressed_new, 1, "suppressed_new");
}

/* A reply of the restored container with ordinal ord's payload: its verdict. */
static int new_reply(FIXTURE_DATA(mig) *self, uint64_t ord)
{
	uint8_t rep[PKT_MAX];
	struct run r;

	run_tc(self->ctr_fd, rep, reply(ord, rep), &r);
	return (int)r.retval;
}

/*
 * A service answering each request with two datagrams: the checkpoint
 * holds requests 1..2 and the old container had sent 4 replies when it was
 * frozen. Its replies 5.. and the restored container's 1st, 2nd, ... are
 * the same datagrams. Before the cut-over the old container's copy is the
 * one the user gets, the restored one's compared and dropped; after it,
 * the first copy passes. Each datagram reaches the user once; a pair whose
 * copies differ is counted.
 */
TEST_F_BOTH_FAMILIES(replies_paired_by_place_not_by_request)
{
	int i;

	make_session(self, ES_MIG_REPLAYING, 16);
	set_cursor(self, 2);
	set_reply_base(self, 4);
	EXPECT_EQ(new_reply(self, 5), TC_ACT_SHOT, "replaying: new copy of 5 first, dropped");
	EXPECT_EQ(old_reply(self, 5), XDP_PASS, "... and the old copy of 5 passes");
	EXPECT_EQ(old_reply(self, 6), XDP_PASS, "old copy of 6 first: passes");
	EXPECT_EQ(new_reply(self, 6), TC_ACT_SHOT, "... the new copy of 6 dropped");
	ASSERT_OK(es_mig_set_state(&self->dp, &self->key, ES_MIG_REPLAYING, ES_MIG_CUTOVER,
				   ES_MIG_ANY_SEQ, NULL), "cut over");
	EXPECT_EQ(new_reply(self, 7), TC_ACT_UNSPEC, "cut over: new copy of 7 first, passes");
	EXPECT_EQ(new_reply(self, 8), TC_ACT_UNSPEC, "new copy of 8 first, passes");
	EXPECT_EQ(old_reply(self, 7), XDP_DROP, "old copy of 7 after it: dropped");
	EXPECT_EQ(old_reply(self, 8), XDP_DROP, "old copy of 8 after it: dropped");
	for (i = 5; i <= 6; i++)
		EXPECT_EQ(claimed(self, i), ES_MIG_ANS_OLD | ES_MIG_ANS_NEW_SEEN, "5-6: both seen");
	for (i = 7; i <= 8; i++)
		EXPECT_EQ(claimed(self, i), ES_MIG_ANS_OLD | ES_MIG_ANS_NEW, "7-8: both seen");
	EXPECT_EQ(session(self).suppressed_old * 100 + session(self).suppressed_new, 202,
		  "two second copies dropped on each side");
	EXPECT_EQ(session(self).replies_diverged, 0, "every pair the same bytes");
	EXPECT_EQ(new_reply(self, 90), TC_ACT_UNSPEC, "new copy of 9 (other bytes) passes");
	EXPECT_EQ(old_reply(self, 9), XDP_DROP, "old copy of 9 dropped");
	EXPECT_EQ(session(self).replies_diverged, 1, "the pair that differs counted");
	ASSERT_OK(es_mig_reply_base_set(&self->dp, &self->key, 6), "reply_base 6");
	EXPECT_EQ(claimed(self, 5) + claimed(self, 6), -2, "claims up to the base deleted");
	EXPECT_EQ(claimed(self, 7), ES_MIG_ANS_OLD | ES_MIG_ANS_NEW, "the one after it kept");
}

/* No migration under way (aborted): a reply makes no claim, and passes. */
TEST_F(mig, aborted_session_makes_no_claim)
{
	make_session(self, ES_MIG_FORWARDING, 16);
	ASSERT_OK(es_mig_abort(&self->dp, &self->key), "abort");
	EXPECT_EQ(old_reply(self, 1), XDP_PASS, "old reply 1 passes");
	EXPECT_EQ(claimed(self, 1), -1, "no claim made");
}

TEST_F(mig, new_reply_of_aborted_migration_dropped)
{
	uint8_t rep[PKT_MAX];
	struct run r;
	size_t len = reply(3, rep);

	make_session(self, ES_MIG_REPLAYING, 16);
	ASSERT_OK(es_mig_abort(&self->dp, &self->key), "abort");
	run_tc(self->ctr_fd, rep, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_SHOT, "verdict");
	EXPECT_EQ(session(self).suppressed_new, 1, "suppressed_new");
}

/*
 * A retry after a failed migration: the source went on numbering its
 * replies, so the session goes on from its last number, not from 1; the
 * restored container's replies count from 0 again.
 */
static void send_requests(FIXTURE_DATA(mig) *self, int n)
{
	uint8_t pkt[PKT_MAX];
	struct run r;

	while (n > 0)
		run_xdp(self->ingress_fd, 1, pkt, request(n--, pkt), &r);
}

TEST_F(mig, retry_after_abort_keeps_the_numbering)
{
	uint8_t pkt[PKT_MAX], rep[PKT_MAX];
	struct es_mig_record rec;
	struct es_mig_session s;
	struct run r;
	size_t len;

	make_session(self, ES_MIG_FORWARDING, 16);
	send_requests(self, 3);
	ASSERT_OK(es_mig_set_state(&self->dp, &self->key, ES_MIG_FORWARDING, ES_MIG_REPLAYING,
				   ES_MIG_ANY_SEQ, NULL), "replaying");
	len = reply(1, rep);
	run_tc(self->ctr_fd, rep, len, &r);
	ASSERT_OK(es_mig_abort(&self->dp, &self->key), "abort");
	/* the target's abort step drops the buffer */
	ASSERT_TRUE(es_mig_records_delete(&self->dp, &self->key, 0, ES_MIG_SEQ_MASK) >= 0, "records");
	ASSERT_OK(es_mig_start(&self->dp, &self->key, NODE4(SOURCE), true, 16), "start again");
	s = session(self);
	EXPECT_EQ(s.seq_state >> ES_MIG_STATE_SHIFT, ES_MIG_FORWARDING, "forwarding again");
	EXPECT_EQ(s.seq_state & ES_MIG_SEQ_MASK, 3, "numbering kept");
	EXPECT_EQ(s.cursor, 3, "cursor at the last number");
	EXPECT_EQ(s.new_replies, 0, "the restored container's replies count again");
	EXPECT_EQ(s.abort_reason, ES_MIG_ABORT_NONE, "no abort reason");
	len = request(4, pkt);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(r.retval, XDP_REDIRECT, "the next request is forwarded");
	EXPECT_EQ(session(self).seq_state & ES_MIG_SEQ_MASK, 4, "and numbered 4");
	EXPECT_OK(es_mig_record_get(&self->dp, &self->key, 4, &rec), "and mirrored");
}

TEST_F_BOTH_FAMILIES(source_encapsulates_replies_back)
{
	uint8_t rep[PKT_MAX];
	struct es_mig_remote rem = { .peer_addr = NODE4_INIT(SOURCE) };
	struct es_mig_tunhdr th;
	struct run r;
	size_t len = reply(9, rep);
	int i;

	/* Seen from the source: the target is SOURCE's address here, reached via w0. */
	ASSERT_OK(bpf_map_update_elem(self->dp.remote_fd, &self->key, &rem, BPF_ANY), "remote");
	for (i = 1; i <= 2; i++) {
		run_tc(self->ctr_fd, rep, len, &r);
		ASSERT_EQ((int)r.retval, TC_ACT_REDIRECT, "verdict: redirected to the neighbour");
		ASSERT_EQ(r.out_len, len + ES_MIG_ENCAP_LEN, "tunnel headers added");
		EXPECT_EQ(r.out[ETH_HLEN + 9], IPPROTO_UDP, "outer UDP");
		EXPECT_EQ(es_ipv4_csum(r.out + ETH_HLEN), 0, "outer checksum valid");
		EXPECT_TRUE(!memcmp(r.out + ETH_HLEN + 16, &rem.peer_addr[3], 4), "to the target");
		memcpy(&th, r.out + ETH_HLEN + 28, sizeof(th));
		EXPECT_EQ(th.type, ES_MIG_TUN_REPLY, "tunnel type reply");
		EXPECT_EQ(be64toh(th.seq), i, "reply ordinal");
		EXPECT_TRUE(!memcmp(r.out + ETH_HLEN + ES_MIG_ENCAP_LEN, rep + ETH_HLEN,
				    len - ETH_HLEN), "inner reply unchanged");
	}
	ASSERT_OK(bpf_map_lookup_elem(self->dp.remote_fd, &self->key, &rem), "remote");
	EXPECT_EQ(rem.replies, 2, "replies");
}

TEST_F(mig, buffer_full_aborts_and_keeps_forwarding)
{
	uint8_t pkt[PKT_MAX];
	struct events e;
	struct run r;
	size_t len;
	int i;

	make_session(self, ES_MIG_FORWARDING, 3);
	for (i = 1; i <= 5; i++) {
		len = request(i, pkt);
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		ASSERT_EQ(r.retval, XDP_REDIRECT, "every request still reaches the source");
		check_encapsulated(self, &r, pkt, len, i);
	}
	EXPECT_EQ(state(self), ES_MIG_ABORTED, "state aborted");
	EXPECT_EQ(session(self).abort_reason, ES_MIG_ABORT_BUFFER_FULL, "abort reason");
	EXPECT_EQ(session(self).mirrored, 3, "mirrored up to the bound");
	EXPECT_EQ(session(self).forwarded, 5, "forwarded");
	e = drain_events(self);
	ASSERT_EQ(e.n, 1, "one event");
	EXPECT_EQ(e.ev[0].type, ES_MIG_EV_ABORT, "abort event");
	EXPECT_EQ(e.ev[0].reason, ES_MIG_ABORT_BUFFER_FULL, "event reason");
	EXPECT_EQ(e.ev[0].seq, 4, "event: the request that did not fit");
}

TEST_F(mig, replay_map_full_aborts)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len;
	int i;

	/* 64 records for all sessions; this one may hold 1000. */
	make_session(self, ES_MIG_FORWARDING, 1000);
	for (i = 1; i <= 70; i++) {
		len = request(i, pkt);
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		ASSERT_EQ(r.retval, XDP_REDIRECT, "forwarded");
	}
	EXPECT_EQ(state(self), ES_MIG_ABORTED, "state aborted");
	EXPECT_EQ(session(self).abort_reason, ES_MIG_ABORT_MAP_FULL, "abort reason");
	EXPECT_EQ(session(self).forwarded, 70, "forwarded");
}

TEST_F(mig, hold_buffers_without_sending)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);
	struct es_mig_record rec;
	__u64 hold_seq = 99;

	make_session(self, ES_MIG_FORWARDING, 16);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	ASSERT_OK(es_mig_hold(&self->dp, &self->key, &hold_seq), "hold");
	EXPECT_EQ(hold_seq, 1, "hold_seq: the last request sent");
	len = request(2, pkt);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(r.retval, XDP_DROP, "held, not sent");
	EXPECT_EQ(session(self).held, 1, "held");
	EXPECT_EQ(session(self).forwarded, 1, "forwarded");
	EXPECT_EQ(es_mig_record_get(&self->dp, &self->key, 2, &rec), 0, "request 2 buffered");
}

/* Packets w0 sent, from this namespace's /proc/net/dev. */
static unsigned long long w0_tx_packets(void)
{
	unsigned long long v[16] = {};
	char line[512];
	FILE *f = fopen("/proc/net/dev", "r");

	ASSERT_OK_PTR(f, "/proc/net/dev");
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "w0:"))
			continue;
		sscanf(strchr(line, ':') + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	}
	fclose(f);
	return v[9];
}

TEST_F(mig, abort_in_hold_sends_the_held_requests)
{
	uint8_t pkt[PKT_MAX];
	unsigned long long tx;
	struct es_mig_session s;
	struct run r;
	size_t len;
	int i;

	make_session(self, ES_MIG_FORWARDING, 16);
	ASSERT_OK(es_mig_hold(&self->dp, &self->key, NULL), "hold");
	for (i = 1; i <= 2; i++) {
		len = request(i, pkt);
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		ASSERT_EQ(r.retval, XDP_DROP, "held");
	}
	tx = w0_tx_packets();
	ASSERT_OK(es_mig_abort(&self->dp, &self->key), "abort");
	s = session(self);
	EXPECT_EQ(s.seq_state >> ES_MIG_STATE_SHIFT, ES_MIG_ABORTED, "aborted");
	EXPECT_EQ(s.abort_seq, 2, "abort_seq");
	EXPECT_EQ(s.flags & ES_MIG_F_ABORT_HELD, 0, "held requests sent, flag cleared");
	EXPECT_EQ(w0_tx_packets() - tx, 2, "two tunnel packets left towards the source");
}

/*
 * A program numbers a request (one atomic on seq_state) before it makes
 * its record and fills it (es_mig_mirror): a reader on another CPU may
 * find the record absent, or there with len 0, for as long as that
 * program runs; longer when a guest's vCPU is preempted meanwhile. This
 * does it slowly from here: the record made after make_ms, filled
 * fill_ms later.
 */
struct slow_record {
	int				fd;		/* es_mig_replay, or es_mig_held */
	struct es_mig_record_key	rk;
	struct es_mig_record		rec;		/* as it is once filled */
	struct es_mig_held		*held;		/* instead: made already, filled here */
	unsigned int			make_ms, fill_ms;
	int				ret;
};

static void *slow_record_thread(void *arg)
{
	struct slow_record *sr = arg;
	struct es_mig_record made = { .ts_ns = sr->rec.ts_ns };	/* len 0 */
	const void *full = sr->held ? (void *)sr->held : &sr->rec;

	usleep(sr->make_ms * 1000);
	sr->ret = sr->held ? 0 : bpf_map_update_elem(sr->fd, &sr->rk, &made, BPF_NOEXIST);
	usleep(sr->fill_ms * 1000);
	sr->ret = sr->ret ?: bpf_map_update_elem(sr->fd, &sr->rk, full, BPF_EXIST);
	return NULL;
}

/* The session's next request numbered, its record made slowly with frame pkt's IP packet. */
static void number_request(FIXTURE_DATA(mig) *self, struct slow_record *sr, const uint8_t *pkt,
			   size_t len)
{
	struct es_mig_session s = session(self);

	s.seq_state++;
	ASSERT_OK(bpf_map_update_elem(self->dp.sessions_fd, &self->key, &s, BPF_EXIST),
		  "a request numbered, as the program's first step");
	sr->fd = self->dp.replay_fd;
	sr->rk.session = self->key;
	sr->rk.seq = es_mig_seq_of(s.seq_state);
	sr->rec.ts_ns = es_now_ns();
	sr->rec.len = len - ETH_HLEN;
	memcpy(sr->rec.data, pkt + ETH_HLEN, sr->rec.len);
}

/*
 * One CI run's replay read such a record as a malformed segment and gave
 * the migration up ("Protocol error"); a held request's record read so
 * after an abort would have been lost. es_mig_record_get says -EAGAIN for
 * a record not filled yet; es_mig_record_wait waits for it, and gives a
 * number never recorded up after ES_MIG_RECORD_WAIT_MS.
 */
TEST_F(mig, record_being_made_is_waited_for)
{
	struct slow_record sr = { .make_ms = 10, .fill_ms = 20 };
	struct es_mig_record rec;
	uint8_t pkt[PKT_MAX];
	pthread_t th;
	__u64 t0, took;

	make_session(self, ES_MIG_FORWARDING, 16);
	number_request(self, &sr, pkt, request(7, pkt));
	EXPECT_EQ(es_mig_record_get(&self->dp, &self->key, 1, &rec), -ENOENT,
		  "numbered, not made yet: none");
	t0 = es_now_ns();
	ASSERT_OK(pthread_create(&th, NULL, slow_record_thread, &sr), "the slow program");
	EXPECT_OK(es_mig_record_wait(&self->dp, &self->key, 1, &rec), "waited for");
	took = es_now_ns() - t0;
	pthread_join(th, NULL);
	ASSERT_OK(sr.ret, "the record made, then filled");
	EXPECT_GE(took, 30 * 1000000ULL, "until it was filled");
	EXPECT_EQ(rec.len, sr.rec.len, "the whole request");
	EXPECT_TRUE(!memcmp(rec.data, sr.rec.data, rec.len), "its bytes");
	EXPECT_EQ(es_mig_record_wait(&self->dp, &self->key, 2, &rec), -ENOENT,
		  "past the last number: none, at once");
	number_request(self, &sr, pkt, request(8, pkt));
	ASSERT_OK(bpf_map_update_elem(sr.fd, &sr.rk, &(struct es_mig_record){ 0 }, BPF_NOEXIST),
		  "record 2 made, never filled");
	EXPECT_EQ(es_mig_record_get(&self->dp, &self->key, 2, &rec), -EAGAIN,
		  "made, not filled: being made");
	t0 = es_now_ns();
	EXPECT_EQ(es_mig_record_wait(&self->dp, &self->key, 2, &rec), -ENODATA,
		  "never filled: given up");
	took = es_now_ns() - t0;
	EXPECT_GE(took, ES_MIG_RECORD_WAIT_MS * 1000000ULL, "after ES_MIG_RECORD_WAIT_MS");
	EXPECT_TRUE(took < 5 * ES_MIG_RECORD_WAIT_MS * 1000000ULL, "and not much later");
}

/* How long es_mig_record_wait took for record seq, and what it said in *ret. */
static __u64 wait_took(FIXTURE_DATA(mig) *self, __u64 seq, int *ret)
{
	struct es_mig_record rec;
	__u64 t0 = es_now_ns();

	*ret = es_mig_record_wait(&self->dp, &self->key, seq, &rec);
	return es_now_ns() - t0;
}

/*
 * Records that will not come are not waited for: past the cut-over (they
 * pass unrecorded), up to the cursor (deleted at the resume), and an
 * aborted session's but for its held requests (the agent deletes what the
 * source delivered; a copy that fails there makes none). The gap thread's
 * probe of the last request read such a record: waited for, it would have
 * stood 200 ms per session and probe.
 */
TEST_F(mig, records_that_will_not_come_are_not_waited_for)
{
	const __u64 soon = ES_MIG_RECORD_WAIT_MS / 2 * 1000000ULL;
	uint8_t pkt[PKT_MAX];
	struct run r;
	int ret;

	make_session(self, ES_MIG_CUTOVER, 16);
	run_xdp(self->ingress_fd, 1, pkt, request(1, pkt), &r);
	EXPECT_EQ(r.retval, XDP_PASS, "cut over: to the restored container, unrecorded");
	EXPECT_TRUE(wait_took(self, 1, &ret) < soon, "past the cut-over: at once");
	EXPECT_EQ(ret, -ENOENT, "none");
	ASSERT_OK(es_mig_finish(&self->dp, &self->key, NULL), "finished");
	make_session(self, ES_MIG_FORWARDING, 16);
	run_xdp(self->ingress_fd, 1, pkt, request(1, pkt), &r);
	run_xdp(self->ingress_fd, 1, pkt, request(2, pkt), &r);
	ASSERT_EQ(es_mig_records_delete(&self->dp, &self->key, 1, 2), 2, "both records deleted");
	EXPECT_GE(wait_took(self, 2, &ret), ES_MIG_RECORD_WAIT_MS * 1000000ULL,
		  "forwarding: due, waited for");
	EXPECT_EQ(ret, -ENODATA, "and did not come");
	set_cursor(self, 1);
	EXPECT_TRUE(wait_took(self, 1, &ret) < soon, "up to the cursor: at once");
	EXPECT_EQ(ret, -ENOENT, "none");
	ASSERT_OK(es_mig_abort(&self->dp, &self->key), "aborted");
	EXPECT_TRUE(wait_took(self, 2, &ret) < soon, "aborted, not held: at once");
	EXPECT_EQ(ret, -ENOENT, "none");
}

/* The calling thread on CPU cpu, when there are two. */
static void on_cpu(int cpu)
{
	cpu_set_t set;

	if (libbpf_num_possible_cpus() < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Records of the session read as the agent reads them, at its last number and the next. */
struct record_watch {
	const struct es_mig_dp		*dp;
	const struct es_mig_key		*key;
	atomic_bool			stop;
	unsigned long			whole, made, half;	/* half: len over uncopied bytes */
};

static void *watch_records(void *arg)
{
	struct record_watch *w = arg;
	struct es_mig_record_key rk = { .session = *w->key };
	struct es_mig_session s;
	struct es_mig_record rec;
	int i;

	on_cpu(1);
	while (!atomic_load(&w->stop)) {
		if (es_mig_session_get(w->dp, w->key, &s))
			continue;
		/* one read each, not es_mig_record_get's two: the second came after the copy */
		for (i = 0; i < 2; i++) {
			rk.seq = es_mig_seq_of(s.seq_state) + i;
			if (bpf_map_lookup_elem(w->dp->replay_fd, &rk, &rec))
				continue;
			w->made += !rec.len;
			w->whole += rec.len && rec.data[0] == 0x45;
			w->half += rec.len && rec.data[0] != 0x45;
		}
	}
	return NULL;
}

/*
 * The program's half of the contract: a record it lets be read whole
 * (es_mig_record_get's 0) holds the request's bytes. Requests through
 * the ingress program on one CPU, their records read on the other at
 * the last number and the next, as the replay reads them. With len set
 * when the record was made (the order before layout 12) the reader saw
 * records of zeroes, half; written last, never.
 */
TEST_F(mig, records_are_whole_once_their_len_is_seen)
{
	struct record_watch w = { .dp = &self->dp, .key = &self->key };
	uint8_t pkt[PKT_MAX];
	size_t len = request(1, pkt);
	struct run r;
	pthread_t th;
	int i;

	make_session(self, ES_MIG_FORWARDING, UINT32_MAX);
	atomic_init(&w.stop, false);
	ASSERT_OK(pthread_create(&th, NULL, watch_records, &w), "the reader");
	on_cpu(0);
	for (i = 1; i <= 30000; i++) {
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		/* room in the test's 64-record map */
		if (!(i % 60))
			es_mig_records_delete(&self->dp, &self->key, 0, ES_MIG_SEQ_MASK);
	}
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	TEST_LOG("records read whole %lu, being made %lu, half %lu", w.whole, w.made, w.half);
	EXPECT_EQ(state(self), ES_MIG_FORWARDING, "every request recorded, none aborted");
	EXPECT_GT(w.whole, 0, "records were read");
	EXPECT_EQ(w.half, 0, "none read with len over bytes not copied");
}

/* The tags of the tunnelled requests seen on w1 (socket fd) within 1 s, by seq; how many. */
static int tunnel_tags(int fd, uint8_t *tags, int max)
{
	uint8_t buf[PKT_MAX];
	struct es_mig_tunhdr th;
	uint64_t seq;
	ssize_t n;
	int seen = 0;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 28 + (ssize_t)sizeof(th) + 28) {
		memcpy(&th, buf + 28, sizeof(th));
		seq = be64toh(th.seq);
		if (ntohs(th.magic) != ES_MIG_TUN_MAGIC || !seq || seq > (uint64_t)max)
			continue;
		/* outer IPv4 and UDP, the header, the request's IPv4 and UDP, its payload */
		tags[seq - 1] = buf[28 + sizeof(th) + 28];
		seen++;
	}
	return seen;
}

TEST_F(mig, abort_in_hold_sends_a_held_request_being_made)
{
	struct slow_record sr = { .make_ms = 10, .fill_ms = 20 };
	struct timeval tv = { .tv_sec = 1 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	uint8_t pkt[PKT_MAX], tags[2] = { 0 };
	struct run r;
	pthread_t th;
	int cap;

	ll.sll_ifindex = if_nametoindex("w1");
	cap = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	ASSERT_GE(cap, 0, "a packet socket");
	ASSERT_OK(bind(cap, (struct sockaddr *)&ll, sizeof(ll)), "on w1, the next hop's side");
	ASSERT_OK(setsockopt(cap, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), "SO_RCVTIMEO");
	make_session(self, ES_MIG_FORWARDING, 16);
	ASSERT_OK(es_mig_hold(&self->dp, &self->key, NULL), "hold");
	run_xdp(self->ingress_fd, 1, pkt, request(1, pkt), &r);
	ASSERT_EQ(r.retval, XDP_DROP, "request 1 held");
	number_request(self, &sr, pkt, request(2, pkt));
	ASSERT_OK(pthread_create(&th, NULL, slow_record_thread, &sr), "request 2's slow program");
	EXPECT_OK(es_mig_abort(&self->dp, &self->key), "abort, the held requests sent");
	pthread_join(th, NULL);
	ASSERT_OK(sr.ret, "record 2 made, then filled");
	EXPECT_EQ(session(self).abort_seq, 2, "both numbered before the abort");
	EXPECT_EQ(tunnel_tags(cap, tags, 2), 2, "two requests left towards the source");
	EXPECT_EQ(tags[0] << 8 | tags[1], 1 << 8 | 2, "request 1, and request 2 whole");
	close(cap);
}

TEST_F(mig, buffer_full_in_hold_marks_held_requests)
{
	uint8_t pkt[PKT_MAX];
	struct es_mig_session s;
	struct es_mig_record rec;
	struct run r;
	size_t len;
	int i;

	make_session(self, ES_MIG_FORWARDING, 2);
	ASSERT_OK(es_mig_hold(&self->dp, &self->key, NULL), "hold");
	for (i = 1; i <= 3; i++) {
		len = request(i, pkt);
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		ASSERT_EQ(r.retval, i < 3 ? XDP_DROP : XDP_REDIRECT, "held, then forwarded");
	}
	s = session(self);
	EXPECT_EQ(s.seq_state >> ES_MIG_STATE_SHIFT, ES_MIG_ABORTED, "aborted");
	EXPECT_TRUE(s.flags & ES_MIG_F_ABORT_HELD, "held requests still to send");
	EXPECT_EQ(s.abort_seq, 3, "abort_seq");
	EXPECT_EQ(es_mig_record_get(&self->dp, &self->key, 1, &rec) |
		  es_mig_record_get(&self->dp, &self->key, 2, &rec), 0, "records 1 and 2 kept");
}

TEST_F(mig, cutover_passes_to_the_local_container)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	make_session(self, ES_MIG_CUTOVER, 16);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	ASSERT_EQ(r.retval, XDP_PASS, "verdict");
	ASSERT_EQ(r.out_len, len, "length");
	EXPECT_TRUE(!memcmp(r.out, pkt, len), "unchanged");
	EXPECT_EQ(session(self).passed_local, 1, "passed_local");
	EXPECT_EQ(session(self).mirrored, 0, "not mirrored after cut-over");
}

TEST_F_BOTH_FAMILIES(handoff_detected_from_service_map)
{
	struct es_mig_svc_key sk = { .svc_port = htons(SVC_PORT), .proto = IPPROTO_UDP };
	struct es_mig_session s;
	struct es_mig_svc svc;
	uint8_t pkt[PKT_MAX];
	struct events e;
	struct run r;
	size_t len;
	int i;

	ASSERT_OK(es_mig_addr_parse(svc_ip, sk.svc_addr), "service address");
	ASSERT_OK(es_mig_service_set(&self->dp, &sk, NODE4(SOURCE),
				     ES_MIG_SVC_FORWARD | ES_MIG_SVC_MIRROR, 8), "service");
	for (i = 1; i <= 2; i++) {
		len = request(i, pkt);
		run_xdp(self->ingress_fd, 1, pkt, len, &r);
		ASSERT_EQ(r.retval, XDP_REDIRECT, "forwarded from the first request on");
		check_encapsulated(self, &r, pkt, len, i);
	}
	s = session(self);
	EXPECT_EQ(s.seq_state >> ES_MIG_STATE_SHIFT, ES_MIG_FORWARDING, "state");
	EXPECT_EQ(s.flags, ES_MIG_F_AUTO | ES_MIG_F_MIRROR, "flags");
	EXPECT_EQ(s.replay_limit, 8, "replay_limit from the service");
	EXPECT_EQ(s.mirrored, 2, "mirrored");
	e = drain_events(self);
	ASSERT_EQ(e.n, 1, "one event per session");
	EXPECT_EQ(e.ev[0].type, ES_MIG_EV_HANDOFF, "handoff event");
	EXPECT_TRUE(es_mig_addr_eq(e.ev[0].node_addr, NODE4(SOURCE)), "event names the node");
	EXPECT_TRUE(!memcmp(&e.ev[0].key, &self->key, sizeof(self->key)), "event names the session");
	ASSERT_OK(bpf_map_lookup_elem(self->dp.services_fd, &sk, &svc), "service entry");
	EXPECT_EQ(svc.handoffs, 1, "handoffs");
	/* The agent takes over the detected session. */
	ASSERT_OK(es_mig_start(&self->dp, &self->key, NODE4(SOURCE), true, 100), "start");
	s = session(self);
	EXPECT_EQ(s.cursor, 2, "cursor: the requests before the agent's start");
	EXPECT_EQ(s.replay_limit, 100, "replay_limit from the agent");
}

/*
 * The seal (lib/migctl/seal.h): a new user of a held service is dropped on
 * both ingress hooks, no session made, no event, counted; once lifted it
 * is forwarded as before and listed among the service's forwarded
 * sessions; a seal older than the limit is lifted by the sweep.
 */
TEST_F_BOTH_FAMILIES(sealed_service_holds_new_users)
{
	struct es_mig_svc_key sk = { .svc_port = htons(SVC_PORT), .proto = IPPROTO_UDP };
	struct es_mig_key listed[4];
	struct es_mig_session s;
	struct es_mig_svc svc;
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	ASSERT_OK(es_mig_addr_parse(svc_ip, sk.svc_addr), "service address");
	EXPECT_EQ(es_mig_service_hold(&self->dp, &sk, true), -ENOENT, "no entry: nothing to seal");
	ASSERT_OK(es_mig_service_set(&self->dp, &sk, NODE4(SOURCE),
				     ES_MIG_SVC_FORWARD | ES_MIG_SVC_MIRROR, 8), "service");
	ASSERT_OK(es_mig_service_hold(&self->dp, &sk, true), "seal");
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(r.retval, XDP_DROP, "XDP: held");
	run_tc(self->tc_ingress_fd, pkt, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_SHOT, "tcx: held");
	EXPECT_EQ(es_mig_session_get(&self->dp, &self->key, &s), -ENOENT, "no session made");
	EXPECT_EQ(drain_events(self).n, 0, "no handoff event");
	ASSERT_OK(es_mig_service_get(&self->dp, &sk, &svc), "service entry");
	EXPECT_EQ(svc.held_new, 2, "held packets counted");
	EXPECT_TRUE(svc.sealed_ns > 0 && (svc.flags & ES_MIG_SVC_HOLD), "sealed, with its time");
	EXPECT_EQ(es_mig_service_forwarded(&self->dp, &sk, 0, listed, 4), 0, "none forwarded");
	ASSERT_OK(es_mig_service_hold(&self->dp, &sk, false), "lift");
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(r.retval, XDP_REDIRECT, "lifted: forwarded");
	EXPECT_EQ(state(self), ES_MIG_FORWARDING, "session made");
	ASSERT_EQ(es_mig_service_forwarded(&self->dp, &sk, 0, listed, 4), 1, "one forwarded");
	EXPECT_TRUE(!memcmp(&listed[0], &self->key, sizeof(self->key)), "the user's session");
	EXPECT_EQ(es_mig_service_forwarded(&self->dp, &sk, session(self).created_ns + 1, listed, 4),
		  0, "made before since_ns: not listed");
	ASSERT_OK(es_mig_service_hold(&self->dp, &sk, true), "seal again");
	EXPECT_EQ(es_mig_seals_expire(&self->dp, 3600000000000ULL), 0, "young seal kept");
	EXPECT_EQ(es_mig_seals_expire(&self->dp, 0), 1, "old seal lifted");
	ASSERT_OK(es_mig_service_get(&self->dp, &sk, &svc), "service entry");
	EXPECT_TRUE(!(svc.flags & ES_MIG_SVC_HOLD) && !svc.sealed_ns, "hold cleared");
}

TEST_F(mig, ctl_refuses_what_would_cross_a_request)
{
	struct es_mig_cmd cmd = {
		.key = self->key, .op = ES_MIG_CMD_SET_STATE,
		.from = ES_MIG_FORWARDING, .to = ES_MIG_CUTOVER, .expect_seq = 0,
	};
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	EXPECT_EQ(es_mig_ctl(&self->dp, &cmd), -ENOENT, "no entry");
	make_session(self, ES_MIG_FORWARDING, 16);
	EXPECT_EQ(es_mig_ctl(&self->dp, &(struct es_mig_cmd){ .key = self->key,
		  .op = ES_MIG_CMD_CREATE }), -EEXIST, "create twice");
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	EXPECT_EQ(es_mig_ctl(&self->dp, &cmd), -EAGAIN, "a request came after seq 0");
	EXPECT_EQ(cmd.seq_state & ES_MIG_SEQ_MASK, 1, "told the seq it met");
	cmd.from = ES_MIG_HOLD;
	EXPECT_EQ(es_mig_ctl(&self->dp, &cmd), -ESTALE, "wrong from-state");
	cmd.from = ES_MIG_FORWARDING;
	cmd.expect_seq = 1;
	EXPECT_EQ(es_mig_ctl(&self->dp, &cmd), 0, "at the seq it expects");
	EXPECT_EQ(session(self).cut_seq, 1, "cut_seq");
	EXPECT_EQ(es_mig_abort(&self->dp, &self->key), -ESTALE, "no abort after cut-over");
}

/* The tcx variant of the forwarder: same decisions on an skb. */
TEST_F_BOTH_FAMILIES(tcx_forwarding_encapsulates_and_mirrors)
{
	uint8_t pkt[PKT_MAX];
	struct es_mig_record rec;
	struct es_mig_tunhdr th;
	struct run r;
	size_t len = request(1, pkt);

	make_session(self, ES_MIG_FORWARDING, 16);
	run_tc(self->tc_ingress_fd, pkt, len, &r);
	ASSERT_EQ((int)r.retval, TC_ACT_REDIRECT, "verdict: redirected to the neighbour");
	ASSERT_EQ(r.out_len, len + ES_MIG_ENCAP_LEN, "tunnel headers added");
	EXPECT_EQ(es_ipv4_csum(r.out + ETH_HLEN), 0, "outer checksum valid");
	EXPECT_TRUE(!memcmp(r.out + ETH_HLEN + 16, &(uint32_t){ inet_addr(SOURCE) }, 4),
		    "outer destination: source node");
	memcpy(&th, r.out + ETH_HLEN + 28, sizeof(th));
	EXPECT_EQ(th.type, ES_MIG_TUN_REQUEST, "tunnel type request");
	EXPECT_EQ(be64toh(th.seq), 1, "sequence number");
	EXPECT_TRUE(!memcmp(r.out + ETH_HLEN + ES_MIG_ENCAP_LEN, pkt + ETH_HLEN, len - ETH_HLEN),
		    "inner packet unchanged");
	ASSERT_OK(es_mig_record_get(&self->dp, &self->key, 1, &rec), "record");
	EXPECT_TRUE(rec.len == len - ETH_HLEN && !memcmp(rec.data, pkt + ETH_HLEN, rec.len),
		    "record bytes: the request");
	EXPECT_EQ(session(self).forwarded, 1, "forwarded");
}

TEST_F(mig, tcx_hold_cutover_and_idle)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len = request(1, pkt);

	run_tc(self->tc_ingress_fd, pkt, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_UNSPEC, "no migration: next program");
	make_session(self, ES_MIG_FORWARDING, 16);
	ASSERT_OK(es_mig_hold(&self->dp, &self->key, NULL), "hold");
	run_tc(self->tc_ingress_fd, pkt, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_SHOT, "held");
	EXPECT_EQ(session(self).held, 1, "held");
	ASSERT_OK(es_mig_ctl(&self->dp, &(struct es_mig_cmd){ .key = self->key,
		  .op = ES_MIG_CMD_SET_STATE, .from = ES_MIG_HOLD, .to = ES_MIG_CUTOVER,
		  .expect_seq = ES_MIG_ANY_SEQ }), "cut over");
	run_tc(self->tc_ingress_fd, pkt, len, &r);
	EXPECT_EQ((int)r.retval, TC_ACT_UNSPEC, "passed to the local container");
	EXPECT_EQ(session(self).passed_local, 1, "passed_local");
}

/*
 * Datagrams sent to a and read back, sockets made in namespace netns:
 * es_udp_rqueue for addr there sees them queued, then none.
 */
static void rqueue_check(int netns, int family, const struct sockaddr *a, socklen_t alen,
			 const struct in6_addr *addr, uint16_t port)
{
	unsigned int sockets;
	uint64_t bytes;
	char buf[64] = "request";
	int rx, tx, i;

	rx = es_netns_socket(netns, family, SOCK_DGRAM, 0);
	tx = es_netns_socket(netns, family, SOCK_DGRAM, 0);
	ASSERT_GE(rx, 0, "socket in the namespace");
	ASSERT_GE(tx, 0, "socket in the namespace");
	ASSERT_OK(bind(rx, a, alen), "bind");
	ASSERT_OK(es_udp_rqueue(netns, addr, port, &bytes, &sockets), "sock_diag");
	EXPECT_EQ(sockets, 1, "one socket");
	EXPECT_EQ(bytes, 0, "empty queue");
	for (i = 0; i < 3; i++)
		ASSERT_EQ(sendto(tx, buf, sizeof(buf), 0, a, alen), (ssize_t)sizeof(buf), "sendto");
	ASSERT_OK(es_udp_rqueue(netns, addr, port, &bytes, &sockets), "sock_diag");
	EXPECT_GE(bytes, 3 * sizeof(buf), "three datagrams queued");
	ASSERT_OK(es_udp_rqueue(netns, NULL, port, &bytes, &sockets), "sock_diag, any address");
	EXPECT_GE(bytes, 3 * sizeof(buf), "queued, any address");
	if (netns != ES_NETNS_OWN) {
		ASSERT_OK(es_udp_rqueue(ES_NETNS_OWN, NULL, port, &bytes, &sockets),
			  "sock_diag of the caller's namespace");
		EXPECT_EQ(sockets, 0, "not the caller's socket");
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ(recv(rx, buf, sizeof(buf), 0), (ssize_t)sizeof(buf), "recv");
	ASSERT_OK(es_udp_rqueue(netns, NULL, port, &bytes, &sockets), "sock_diag, any address");
	EXPECT_EQ(bytes, 0, "drained");
	close(rx);
	close(tx);
}

/* The checkpoint's guard: sock_diag sees datagrams queued and not read. */
TEST_F(mig, udp_receive_queue_measured)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7999) };
	struct in6_addr mapped = { .s6_addr32 = { 0, 0, htonl(0xffff), htonl(INADDR_LOOPBACK) } };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rqueue_check(ES_NETNS_OWN, AF_INET, (struct sockaddr *)&a, sizeof(a), &mapped, a.sin_port);
}

/*
 * A container in a pod namespace of its own: its sockets are read there
 * (net/netns.h), while the caller's namespace, the node's, has none.
 */
TEST_F(mig, udp_receive_queue_measured_in_another_namespace)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7997) };
	struct in6_addr mapped = { .s6_addr32 = { 0, 0, htonl(0xffff), htonl(INADDR_LOOPBACK) } };
	int pod = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	ASSERT_GE(pod, 0, "the fixture's namespace, as the pod's");
	/* the caller moves on to a namespace of its own: the node's */
	ASSERT_OK(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rqueue_check(pod, AF_INET, (struct sockaddr *)&a, sizeof(a), &mapped, a.sin_port);
	close(pod);
}

/* The same for an IPv6 service: its socket is in the AF_INET6 dump. */
TEST_F(mig, udp_receive_queue_measured_ipv6)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(7998),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	/* the fixture's namespace has IPv6 off (no router solicitations on w0) */
	ASSERT_OK(sh("sysctl -q -w net.ipv6.conf.lo.disable_ipv6=0"), "IPv6 on lo");
	rqueue_check(ES_NETNS_OWN, AF_INET6, (struct sockaddr *)&a, sizeof(a), &a.sin6_addr,
		     a.sin6_port);
}

/*
 * What a stalled TCP replay reports of the restored socket: one
 * connection's tcp_info, found by its four-tuple (INET_DIAG_INFO); an
 * unknown tuple has none.
 */
TEST_F(mig, tcp_info_of_one_connection)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7997),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, c;
	struct in6_addr lo = { .s6_addr32 = { 0, 0, htonl(0xffff), htonl(INADDR_LOOPBACK) } };
	socklen_t clen = sizeof(c);
	struct es_tcp_tuple t;
	struct tcp_info ti;
	char buf[1000] = { 0 };
	int l, cl, sv;

	l = socket(AF_INET, SOCK_STREAM, 0);
	cl = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(l, 0, "socket");
	ASSERT_GE(cl, 0, "socket");
	ASSERT_OK(bind(l, (struct sockaddr *)&a, sizeof(a)), "bind");
	ASSERT_OK(listen(l, 1), "listen");
	ASSERT_OK(connect(cl, (struct sockaddr *)&a, sizeof(a)), "connect");
	ASSERT_OK(getsockname(cl, (struct sockaddr *)&c, &clen), "getsockname");
	sv = accept(l, NULL, NULL);
	ASSERT_GE(sv, 0, "accept");
	ASSERT_EQ(send(sv, buf, sizeof(buf), 0), (ssize_t)sizeof(buf), "send");
	t = (struct es_tcp_tuple){ .laddr = lo, .raddr = lo, .lport = a.sin_port,
				   .rport = c.sin_port };
	ASSERT_EQ(es_tcp_conn_info(ES_NETNS_OWN, &t, &ti), 1, "the service's end found");
	EXPECT_EQ(ti.tcpi_state, 1, "established (TCP_ESTABLISHED)");
	EXPECT_GE(ti.tcpi_snd_cwnd, 1, "a congestion window");
	EXPECT_GE(ti.tcpi_rto, 1, "a retransmission timeout");
	EXPECT_GE(ti.tcpi_bytes_sent, sizeof(buf), "the bytes sent");
	t.rport = htons(ntohs(c.sin_port) + 1);
	EXPECT_EQ(es_tcp_conn_info(ES_NETNS_OWN, &t, &ti), 0, "another port: none");
	close(sv);
	close(cl);
	close(l);
}

/* ---- the source-side hold (the old container's node) ---- */

static struct es_mig_remote remote(FIXTURE_DATA(mig) *self)
{
	struct es_mig_remote r = {};

	ASSERT_OK(es_mig_remote_get(&self->dp, &self->key, &r), "es_mig_remote entry");
	return r;
}

/* A request tagged tag through the tunnel to this node (the source), sequence seq. */
static void tunnel_request_from(FIXTURE_DATA(mig) *self, const char *node, uint8_t tag,
				uint64_t seq, uint32_t verdict)
{
	uint8_t req[PKT_MAX], tun[PKT_MAX];
	size_t len = request(tag, req), tlen;
	struct run r;

	tlen = tunnel_pkt(req, len, node, SOURCE, ES_MIG_TUN_REQUEST, seq, tun);
	run_xdp(self->wan_fd, 1, tun, tlen, &r);
	ASSERT_EQ(r.retval, verdict, "tunnelled request's verdict");
}

static void tunnel_request(FIXTURE_DATA(mig) *self, uint8_t tag, uint64_t seq, uint32_t verdict)
{
	tunnel_request_from(self, LOCAL, tag, seq, verdict);
}

/* The service's socket on this node, for requests the agent delivers. */
static int service_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SVC_PORT) };
	struct timeval tv = { .tv_sec = 1 };
	int fd;

	if (sh("ip addr add " SVC "/32 dev lo"))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = inet_addr(SVC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void expect_delivered(int fd, int tag)
{
	uint8_t buf[PKT_MAX];

	ASSERT_EQ(recv(fd, buf, sizeof(buf), 0), PAYLOAD, "a kept request reached the service");
	EXPECT_EQ(buf[0], tag, "in sequence");
}

TEST_F(mig, source_hold_keeps_tunnelled_requests)
{
	struct es_mig_record_key hk = { .session = self->key, .seq = 42 };
	struct es_mig_cmd cmd = { .key = self->key, .op = ES_MIG_CMD_SRC_RELEASE, .expect_seq = 2 };
	uint8_t req[PKT_MAX], rep[PKT_MAX];
	size_t len = request(42, req);
	struct es_mig_held h;
	__u64 hold_at = 99, cursor = 0, t0;
	struct run r;

	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	tunnel_request(self, 41, 41, XDP_PASS);
	ASSERT_OK(es_mig_src_hold(&self->dp, &self->key, NODE4(LOCAL), &hold_at), "hold");
	EXPECT_EQ(hold_at, 1, "hold_at: requests delivered before the hold");
	EXPECT_EQ(es_mig_src_wait_quiet(&self->dp, &self->key, hold_at, ES_MIG_SRC_QUIET_MS / 2),
		  -ETIMEDOUT, "not quiet before the old container answered");
	t0 = es_now_ns();
	EXPECT_EQ(es_mig_src_wait_quiet(&self->dp, &self->key, hold_at, 10 * ES_MIG_SRC_QUIET_MS),
		  0, "quiet when it sent nothing for ES_MIG_SRC_QUIET_MS (no reply to a request)");
	EXPECT_GE(es_now_ns() - t0, ES_MIG_SRC_QUIET_MS * 1000000ULL, "... not before");
	run_tc(self->ctr_fd, rep, reply(41, rep), &r);
	EXPECT_EQ(es_mig_src_wait_quiet(&self->dp, &self->key, hold_at, 20), 0,
		  "quiet once it answered");
	tunnel_request(self, 42, 42, XDP_DROP);
	tunnel_request(self, 43, 43, XDP_DROP);
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_HOLD, "state: hold");
	EXPECT_EQ(remote(self).hold & ES_MIG_SEQ_MASK, 3, "arrivals");
	EXPECT_EQ(remote(self).held, 2, "held");
	EXPECT_EQ(remote(self).delivered, 1, "delivered");
	EXPECT_EQ(remote(self).last_seq, 41, "last_seq: the last delivered");
	ASSERT_OK(bpf_map_lookup_elem(self->dp.held_fd, &hk, &h), "held request, by its number");
	EXPECT_EQ(h.seq, 42, "its tunnel sequence number");
	ASSERT_EQ(h.len, len - ETH_HLEN, "its length");
	EXPECT_TRUE(!memcmp(h.data, req + ETH_HLEN, h.len), "the user's packet unchanged");
	ASSERT_OK(es_mig_src_cursor(&self->dp, &self->key, &cursor), "cursor");
	EXPECT_EQ(cursor, 41, "cursor: the last request delivered before the hold");
	ASSERT_OK(es_mig_src_hold(&self->dp, &self->key, NODE4(LOCAL), &hold_at), "asked twice");
	EXPECT_EQ(hold_at, 1, "asked twice: the same hold");
	/* a release that missed a newcomer must not open */
	EXPECT_EQ(es_mig_ctl(&self->dp, &cmd), -EAGAIN,
		  "release at a stale arrival count");
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_HOLD, "still holding");
}

/* The sweep's "off" on a thread of its own, until told to stop. */
struct sweep_run {
	const struct es_mig_dp	*dp;
	atomic_bool		stop;
};

static void *sweep_off(void *arg)
{
	struct sweep_run *sr = arg;

	while (!atomic_load(&sr->stop))
		es_mig_set_active(sr->dp, false);
	return NULL;
}

/*
 * The agent's sweep switches the lookups off while the API adds a
 * service: an off that saw the maps empty just before the entry came
 * must not leave the entry unseen (active 0 with a service in the map),
 * and no update may be lost. Each round adds the service, reads the
 * setting, and removes it again.
 */
TEST_F(mig, config_active_holds_against_a_concurrent_off)
{
	struct es_mig_svc_key sk = { .svc_port = htons(SVC_PORT), .proto = IPPROTO_UDP };
	struct sweep_run sr = { .dp = &self->dp };
	struct es_mig_node_config cfg;
	unsigned int i, off = 0;
	pthread_t th;

	ASSERT_OK(es_mig_addr_parse(svc_ip, sk.svc_addr), "service address");
	atomic_init(&sr.stop, false);
	ASSERT_OK(pthread_create(&th, NULL, sweep_off, &sr), "sweep thread");
	for (i = 0; i < 5000; i++) {
		if (es_mig_service_set(&self->dp, &sk, NODE4(SOURCE), ES_MIG_SVC_FORWARD, 8))
			break;
		if (es_mig_config_get(&self->dp, &cfg) || !cfg.active)
			off++;
		es_mig_service_del(&self->dp, &sk);
	}
	atomic_store(&sr.stop, true);
	pthread_join(th, NULL);
	EXPECT_EQ(i, 5000, "every round's service added");
	EXPECT_EQ(off, 0, "the lookups on whenever a service is in the map");
}

/* What the other process did, in memory shared with it. */
struct other_run {
	atomic_bool	stop;
	atomic_uint	rounds;
	atomic_uint	lost;	/* its settings read back other than it wrote them */
};

/*
 * On its own CPU where there are two: one process preempting the other on
 * a shared CPU seldom interleaves their updates, both running at once
 * does every few rounds.
 */
/*
 * es-migctl's config set, over and over, each read back, until told to
 * stop (at most 60 s).
 */
static void other_config_sets(const struct es_mig_dp *dp, struct other_run *or)
{
	__u64 end = es_now_ns() + 60ULL * 1000 * 1000 * 1000;
	struct es_mig_node_config cfg;
	unsigned int n = 0;

	while (!atomic_load(&or->stop) && es_now_ns() < end) {
		if (es_mig_config_set(dp, NODE4(LOCAL), TUN_PORT, 1024 + (n & 1)) ||
		    es_mig_config_get(dp, &cfg))
			break;
		if (cfg.default_replay_limit != 1024 + (n & 1))
			atomic_fetch_add(&or->lost, 1);
		atomic_store(&or->rounds, ++n);
	}
}

/*
 * es-migctl sets the node's settings from another process while the
 * agent switches the lookups on and off: neither read-modify-write may
 * write back a field it read before the other changed it. The mutex of
 * es_mig_config_update is the agent's alone; a handle on pins also takes
 * the pin directory's flock. The directory here is one of the test's,
 * the maps the shared object's (empty, so an off is written).
 */
TEST_F(mig, config_updates_hold_against_another_process)
{
	struct es_mig_node_config cfg;
	unsigned int i, lost = 0, rounds;
	struct other_run *or;
	pid_t pid;

	or = mmap(NULL, sizeof(*or), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(or != MAP_FAILED, "shared memory");
	atomic_init(&or->stop, false);
	atomic_init(&or->rounds, 0);
	atomic_init(&or->lost, 0);
	snprintf(self->dp.pin_path, sizeof(self->dp.pin_path), "/sys/fs/bpf/es%05x-cfglock",
		 (unsigned int)getpid());
	ASSERT_OK(mkdir(self->dp.pin_path, 0700) ? -errno : 0, "the pin directory");
	pid = fork();
	if (!pid) {
		on_cpu(1);
		other_config_sets(&self->dp, or);
		_exit(0);
	}
	on_cpu(0);
	while (pid > 0 && !atomic_load(&or->rounds) && !waitpid(pid, NULL, WNOHANG))
		sched_yield();
	for (i = 0; pid > 0 && i < 5000; i++) {
		if (es_mig_set_active(&self->dp, i & 1) || es_mig_config_get(&self->dp, &cfg))
			break;
		lost += cfg.active != (i & 1);
	}
	atomic_store(&or->stop, true);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	rounds = atomic_load(&or->rounds);
	rmdir(self->dp.pin_path);
	EXPECT_TRUE(pid > 0, "the other process started");
	EXPECT_EQ(i, 5000, "every round's switch written and read");
	EXPECT_TRUE(rounds > 500, "the other process set the node's settings all along");
	EXPECT_EQ(lost, 0, "the switch read back as the agent wrote it");
	EXPECT_EQ(atomic_load(&or->lost), 0,
		  "the settings read back as the other process wrote them");
	munmap(or, sizeof(*or));
}

/* Two more targets of the source's sessions, beside LOCAL. */
#define TARGET_B	"10.9.0.3"
#define TARGET_C	"10.9.0.4"

/* This node the source, requests 1..n of the session tunnelled from LOCAL. */
static void source_after(FIXTURE_DATA(mig) *self, int n)
{
	int i;

	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	for (i = 1; i <= n; i++)
		tunnel_request(self, i, i, XDP_PASS);
}

/*
 * Each target numbers a session's requests from its own start: another
 * node's requests must not be taken for copies of the first one's, and the
 * first one's still on their way pass once each (es_mig_remote.prev_addr).
 */
TEST_F(mig, source_numbers_each_target_apart)
{
	struct es_mig_remote rem;

	source_after(self, 5);
	/* as if the old container had answered five through LOCAL */
	rem = remote(self);
	rem.replies = 5;
	ASSERT_OK(bpf_map_update_elem(self->dp.remote_fd, &self->key, &rem, BPF_EXIST), "replies");
	tun_base = 0;	/* B began forwarding with its first */
	tunnel_request_from(self, TARGET_B, 11, 1, XDP_PASS);
	tunnel_request_from(self, TARGET_B, 12, 2, XDP_PASS);
	rem = remote(self);
	EXPECT_TRUE(es_mig_addr_eq(rem.peer_addr, NODE4(TARGET_B)), "replies go to B now");
	EXPECT_EQ(rem.replies, 0, "numbered from B's first (B would see 1-5 as a gap)");
	EXPECT_EQ(rem.last_seq, 2, "B's numbers");
	EXPECT_TRUE(es_mig_addr_eq(rem.prev_addr, NODE4(LOCAL)), "the target before B");
	EXPECT_EQ(rem.prev_last_seq, 5, "its last delivered");
	tun_base = -1;
	tunnel_request(self, 7, 7, XDP_PASS);	/* late, out of order */
	tunnel_request(self, 6, 6, XDP_PASS);
	tunnel_request(self, 7, 7, XDP_DROP);	/* a copy */
	tunnel_request(self, 4, 4, XDP_DROP);	/* delivered before B */
	tun_base = 0;
	tunnel_request_from(self, TARGET_B, 13, 3, XDP_PASS);
	tunnel_request_from(self, TARGET_B, 12, 2, XDP_DROP);
	rem = remote(self);
	EXPECT_TRUE(es_mig_addr_eq(rem.peer_addr, NODE4(TARGET_B)), "late ones move no reply");
	EXPECT_EQ(rem.last_seq, 3, "nor B's numbers");
	EXPECT_EQ(rem.delivered, 5, "delivered since B came: 2 + 2 late + 1");
	EXPECT_EQ(rem.dup, 3, "copies dropped");
	tunnel_request_from(self, TARGET_C, 21, 1, XDP_PASS);
	rem = remote(self);
	EXPECT_TRUE(es_mig_addr_eq(rem.prev_addr, NODE4(TARGET_B)),
		    "a third node: B is the one before");
	EXPECT_EQ(rem.prev_last_seq, 3, "with its numbers");
	EXPECT_EQ(rem.prev_seen, 0, "none of B's after them seen yet");
	tun_base = -1;
}

/*
 * A migration towards another node than the failed one's: the agent makes
 * the entry anew for the new target before any of its requests (NO_BASE),
 * keeps the failed one's numbers for its late requests, and only the new
 * target's first request gives the base.
 */
TEST_F(mig, source_open_towards_another_target_keeps_the_one_before)
{
	struct es_mig_remote rem;

	source_after(self, 3);
	ASSERT_OK(es_mig_src_retarget(&self->dp, &self->key, NODE4(TARGET_B)), "towards B");
	ASSERT_OK(es_mig_src_open(&self->dp, &self->key, NODE4(TARGET_B)), "open: there already");
	rem = remote(self);
	EXPECT_TRUE(es_mig_addr_eq(rem.peer_addr, NODE4(TARGET_B)), "names B");
	EXPECT_TRUE(rem.flags & ES_MIG_RF_NO_BASE, "no base yet");
	EXPECT_TRUE(es_mig_addr_eq(rem.prev_addr, NODE4(LOCAL)), "the failed target before it");
	EXPECT_EQ(rem.prev_last_seq, 3, "with its last delivered");
	tunnel_request(self, 4, 4, XDP_PASS);	/* the failed target's, late */
	tunnel_request(self, 3, 3, XDP_DROP);
	EXPECT_TRUE(remote(self).flags & ES_MIG_RF_NO_BASE, "another node's request gives no base");
	tun_base = 0;
	tunnel_request_from(self, TARGET_B, 11, 1, XDP_PASS);
	tun_base = -1;
	rem = remote(self);
	EXPECT_TRUE(!(rem.flags & ES_MIG_RF_NO_BASE), "B's first gave it");
	EXPECT_EQ(rem.last_seq, 1, "B's numbers");
	ASSERT_OK(es_mig_src_retarget(&self->dp, &self->key, NODE4(TARGET_B)),
		  "towards B again");
	ASSERT_OK(es_mig_src_open(&self->dp, &self->key, NODE4(TARGET_B)), "open again");
	EXPECT_EQ(remote(self).last_seq, 1, "an entry naming the target is kept");
}

/*
 * es_mig_src_retarget makes anew only an entry naming another address, and
 * none where there is none (a UDP session's first request makes it). The
 * address it is given may be a guess (the target's URL's, or none): the
 * first request from a node other than the one before gives the base and
 * becomes the peer, so a guess never sets the target's requests aside.
 */
TEST_F(mig, source_retarget_moves_only_an_entry_of_another_target)
{
	const __u32 unknown[4] = { 0 };
	__u64 cursor = 0;

	source_after(self, 0);
	ASSERT_OK(es_mig_src_retarget(&self->dp, &self->key, NODE4(TARGET_B)), "none there");
	EXPECT_EQ(es_mig_remote_get(&self->dp, &self->key, &(struct es_mig_remote){}), -ENOENT,
		  "none made");
	source_after(self, 3);
	ASSERT_OK(es_mig_src_retarget(&self->dp, &self->key, NODE4(LOCAL)), "the same address");
	EXPECT_EQ(remote(self).last_seq, 3, "left alone");
	ASSERT_OK(es_mig_src_retarget(&self->dp, &self->key, unknown), "the target's unknown");
	EXPECT_TRUE(es_mig_addr_eq(remote(self).prev_addr, NODE4(LOCAL)), "the one before");
	ASSERT_OK(es_mig_src_cursor(&self->dp, &self->key, &cursor), "cursor");
	EXPECT_EQ(cursor, ES_MIG_ANY_SEQ, "no cursor in LOCAL's numbers");
	tunnel_request(self, 4, 4, XDP_PASS);	/* LOCAL's, late */
	EXPECT_TRUE(remote(self).flags & ES_MIG_RF_NO_BASE, "the one before gives no base");
	tun_base = 0;
	tunnel_request_from(self, TARGET_B, 11, 1, XDP_PASS);
	tunnel_request_from(self, TARGET_B, 12, 2, XDP_PASS);
	tun_base = -1;
	EXPECT_TRUE(es_mig_addr_eq(remote(self).peer_addr, NODE4(TARGET_B)), "B is the peer");
	EXPECT_EQ(remote(self).last_seq, 2, "in B's numbers");
}

/*
 * The agent's hold, open and retarget name the target by its URL's
 * address, which may not be the tunnel's: the entry they make takes its
 * base and its peer from the first request of any node but the one
 * before, and that one stays the one before.
 */
TEST_F(mig, source_entry_named_by_a_guess_heals)
{
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	ASSERT_OK(es_mig_src_open(&self->dp, &self->key, NODE4(TARGET_C)), "a guess");
	tunnel_request(self, 1, 5, XDP_PASS);	/* LOCAL began forwarding at its 5th */
	tunnel_request(self, 2, 6, XDP_PASS);
	tunnel_request(self, 2, 6, XDP_DROP);
	EXPECT_TRUE(es_mig_addr_eq(remote(self).peer_addr, NODE4(LOCAL)), "the tunnel's node");
	EXPECT_EQ(remote(self).last_seq, 6, "its numbers");
	EXPECT_EQ(remote(self).flags & ES_MIG_RF_NO_BASE, 0, "based");
	/* made anew for the next target, named by a guess (C) while B's tunnel it is */
	ASSERT_OK(es_mig_src_retarget(&self->dp, &self->key, NODE4(TARGET_C)), "towards C?");
	tun_base = 0;
	tunnel_request_from(self, TARGET_B, 11, 1, XDP_PASS);
	tun_base = -1;
	tunnel_request(self, 3, 7, XDP_PASS);	/* LOCAL's, late: one before, no new peer */
	tunnel_request(self, 3, 7, XDP_DROP);
	EXPECT_TRUE(es_mig_addr_eq(remote(self).peer_addr, NODE4(TARGET_B)), "B is the peer");
	EXPECT_TRUE(es_mig_addr_eq(remote(self).prev_addr, NODE4(LOCAL)), "LOCAL the one before");
	EXPECT_EQ(remote(self).last_seq, 1, "in B's numbers");
}

TEST_F(mig, source_release_delivers_held_in_order_then_opens)
{
	unsigned int sent = 0;
	__u64 hold_at = 99, cursor = 0;
	int fd, i;

	fd = service_socket();
	ASSERT_GE(fd, 0, "service socket");
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	/* nothing tunnelled yet: the hold makes the entry */
	ASSERT_OK(es_mig_src_hold(&self->dp, &self->key, NODE4(LOCAL), &hold_at), "hold");
	EXPECT_EQ(hold_at, 0, "nothing delivered before");
	ASSERT_OK(es_mig_src_cursor(&self->dp, &self->key, &cursor), "cursor");
	EXPECT_EQ(cursor, ES_MIG_ANY_SEQ, "no cursor to tell: the target keeps its own");
	for (i = 5; i <= 7; i++)
		tunnel_request(self, i, i, XDP_DROP);
	ASSERT_OK(es_mig_src_cursor(&self->dp, &self->key, &cursor), "cursor");
	EXPECT_EQ(cursor, 4, "cursor: the first held request's base");
	ASSERT_OK(es_mig_src_release(&self->dp, &self->key, &sent, NULL), "release");
	EXPECT_EQ(sent, 3, "held requests delivered");
	for (i = 5; i <= 7; i++)
		expect_delivered(fd, i);
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_OPEN, "open again");
	EXPECT_EQ(remote(self).released, 3, "released");
	EXPECT_EQ(es_mig_src_release(&self->dp, &self->key, &sent, NULL), -ESTALE, "not holding");
	tunnel_request(self, 8, 8, XDP_PASS);
	EXPECT_EQ(remote(self).last_seq, 8, "the next one is delivered at once");
	close(fd);
}

/* The service's socket at the source, holding, request 5 kept: how a release test begins. */
static int source_holding_five(FIXTURE_DATA(mig) *self)
{
	__u64 hold_at = 0;
	int fd = service_socket();

	ASSERT_GE(fd, 0, "service socket");
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	ASSERT_OK(es_mig_src_hold(&self->dp, &self->key, NODE4(LOCAL), &hold_at), "hold");
	tunnel_request(self, 5, 5, XDP_DROP);
	return fd;
}

/*
 * The source's drain meets a kept request its program is still copying
 * (es_mig_keep made the entry, len 0). It waits and delivers it whole;
 * before, it took it for one not copied: counted lost, deleted, never
 * delivered. One the program could not copy (ES_MIG_NO_COPY) is
 * counted lost, and nothing of it delivered.
 */
TEST_F(mig, source_release_waits_for_a_request_being_kept)
{
	struct es_mig_record_key k7 = { .session = self->key, .seq = 7 };
	struct es_mig_held h6 = { .seq = 6 }, h7 = { .seq = 7, .len = ES_MIG_NO_COPY };
	struct slow_record sr = { .held = &h6, .fill_ms = 20 };
	unsigned int sent = 0, lost = 0;
	uint8_t req[PKT_MAX];
	struct es_mig_remote r;
	pthread_t th;
	size_t len;
	int fd;

	fd = source_holding_five(self);
	/* 6 and 7 arrive as the program takes them: counted, then kept */
	r = remote(self);
	r.hold += 2;
	r.held += 2;
	ASSERT_OK(bpf_map_update_elem(self->dp.remote_fd, &self->key, &r, BPF_EXIST),
		  "6 and 7 counted");
	ASSERT_OK(bpf_map_update_elem(self->dp.held_fd, &k7, &h7, BPF_NOEXIST),
		  "7 kept, its bytes not copied");
	len = request(6, req);
	h6.len = len - ETH_HLEN;
	memcpy(h6.data, req + ETH_HLEN, h6.len);
	sr.fd = self->dp.held_fd;
	sr.rk = (struct es_mig_record_key){ .session = self->key, .seq = 6 };
	ASSERT_OK(bpf_map_update_elem(sr.fd, &sr.rk, &(struct es_mig_held){ .seq = 6 },
				       BPF_NOEXIST),
		  "6 kept, being copied");
	ASSERT_OK(pthread_create(&th, NULL, slow_record_thread, &sr), "6's slow program");
	ASSERT_OK(es_mig_src_release(&self->dp, &self->key, &sent, &lost), "release");
	pthread_join(th, NULL);
	ASSERT_OK(sr.ret, "6 copied, 20 ms later");
	EXPECT_EQ(sent * 10 + lost, 31, "5, 6 and 7 through the sequence, 7 lost");
	expect_delivered(fd, 5);
	expect_delivered(fd, 6);
	EXPECT_EQ(recv(fd, req, sizeof(req), MSG_DONTWAIT), -1, "nothing of 7");
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_OPEN, "open again");
	close(fd);
}

/*
 * A request longer than a record arrives during the hold: it cannot be
 * kept, so it is delivered at once (ES_MIG_RF_HOLD_BROKEN: its order
 * slips) and last_seq moves past the ones kept before it. The release
 * still delivers those, late (they were left in the map, never
 * delivered, before ES_MIG_CMD_SRC_LATE), and opens.
 */
TEST_F(mig, source_release_delivers_requests_passed_by_one_it_could_not_keep)
{
	uint8_t big[PKT_MAX], tun[PKT_MAX];
	unsigned int sent = 0, lost = 9;
	struct run r;
	size_t len;
	int fd;

	fd = source_holding_five(self);
	/* with its headers, longer than a record */
	len = udp_pkt_n(user_ip, USER_PORT, svc_ip, SVC_PORT, 6, ES_MIG_RECORD_BYTES, big);
	ASSERT_GT(len, ES_MIG_RECORD_BYTES, "a request longer than a record");
	run_xdp(self->wan_fd, 1, tun, tunnel_pkt(big, len, LOCAL, SOURCE, ES_MIG_TUN_REQUEST, 6,
						  tun), &r);
	EXPECT_EQ(r.retval, XDP_PASS, "6 cannot be kept: delivered at once");
	EXPECT_TRUE(remote(self).flags & ES_MIG_RF_HOLD_BROKEN, "the hold marked broken");
	EXPECT_EQ(remote(self).last_seq, 6, "last_seq past 5, which is kept");
	tunnel_request(self, 7, 7, XDP_DROP);
	ASSERT_OK(es_mig_src_release(&self->dp, &self->key, &sent, &lost), "release");
	EXPECT_EQ(sent * 10 + lost, 20, "5 (late) and 7 delivered, none lost");
	expect_delivered(fd, 5);
	expect_delivered(fd, 7);
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_OPEN, "open again");
	EXPECT_EQ(remote(self).released, 2, "both released");
	close(fd);
}

/*
 * The tunnel over a lossy WAN: a request arriving twice is dropped; one
 * past a missing one is kept (REORDER, an event for the agent) until the
 * missing one arrives, then all go to the service in sequence.
 */
TEST_F(mig, source_delivers_in_sequence_and_drops_duplicates)
{
	unsigned int sent = 0;
	__u64 from = 0, to = 0;
	struct events e;
	int fd, i;

	fd = service_socket();
	ASSERT_GE(fd, 0, "service socket");
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	tun_base = 40;
	tunnel_request(self, 41, 41, XDP_PASS);
	tunnel_request(self, 41, 41, XDP_DROP);
	EXPECT_EQ(remote(self).dup, 1, "the second copy dropped");
	tunnel_request(self, 43, 43, XDP_DROP);
	tunnel_request(self, 44, 44, XDP_DROP);
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_REORDER, "state: reorder");
	EXPECT_EQ(remote(self).gaps, 1, "one gap seen");
	e = drain_events(self);
	ASSERT_EQ(e.n, 1, "one event");
	EXPECT_EQ(e.ev[0].type, ES_MIG_EV_GAP, "a gap");
	EXPECT_EQ(e.ev[0].seq, 42, "request 42 is missing");
	ASSERT_OK(es_mig_src_gap(&self->dp, &self->key, &from, &to), "gap");
	EXPECT_EQ(from * 1000 + to, 42042, "gap: 42..42");
	EXPECT_EQ(es_mig_src_drain(&self->dp, &self->key, &sent, NULL), -EINPROGRESS,
		  "nothing to deliver while 42 is missing");
	tunnel_request(self, 42, 42, XDP_DROP);
	tunnel_request(self, 43, 43, XDP_DROP);
	EXPECT_EQ(remote(self).dup, 2, "43 twice: dropped");
	ASSERT_OK(es_mig_src_drain(&self->dp, &self->key, &sent, NULL), "drain");
	EXPECT_EQ(sent, 3, "42, 43, 44 delivered");
	for (i = 42; i <= 44; i++)
		expect_delivered(fd, i);
	EXPECT_EQ(remote(self).hold >> ES_MIG_STATE_SHIFT, ES_MIG_SRC_OPEN, "open again");
	EXPECT_EQ(remote(self).last_seq, 44, "last_seq");
	tunnel_request(self, 45, 45, XDP_PASS);
	tun_base = -1;
	close(fd);
}

/* A missing request the target no longer has is given up, loudly: a flag and a count. */
TEST_F(mig, source_gives_a_missing_request_up)
{
	unsigned int sent = 0;
	__u64 cursor = 0;
	int fd;

	fd = service_socket();
	ASSERT_GE(fd, 0, "service socket");
	ASSERT_OK(es_mig_config_set(&self->dp, NODE4(SOURCE), TUN_PORT, 1024), "config");
	tun_base = 0;
	tunnel_request(self, 2, 2, XDP_DROP);
	EXPECT_EQ(remote(self).last_seq, 0, "request 1 never arrived: it is missing, not skipped");
	EXPECT_EQ(es_mig_src_skip(&self->dp, &self->key, 0), -ESTALE, "nothing to give up at 0");
	ASSERT_OK(es_mig_src_skip(&self->dp, &self->key, 1), "give 1 up");
	ASSERT_OK(es_mig_src_drain(&self->dp, &self->key, &sent, NULL), "drain");
	EXPECT_EQ(sent, 1, "2 delivered");
	expect_delivered(fd, 2);
	EXPECT_EQ(remote(self).skipped, 1, "skipped");
	EXPECT_TRUE(remote(self).flags & ES_MIG_RF_SKIPPED, "flagged");
	tunnel_request(self, 1, 1, XDP_DROP);
	ASSERT_OK(es_mig_src_cursor(&self->dp, &self->key, &cursor), "cursor");
	EXPECT_EQ(cursor, 2, "cursor: both containers miss 1 alike");
	tun_base = -1;
	close(fd);
}

/* ---- TCP sessions ---- */

#define TCP_ACK		0x10
#define TCP_PSH_ACK	0x18
#define TCP_FIN_ACK	0x11
#define TCP_RST_ACK	0x14

/* Ethernet + IPv4 + TCP (ACK, PSH when payload) from src to dst; payload bytes = tag. */
static size_t tcp_pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		      uint32_t seq, uint32_t ack, size_t payload, uint8_t tag, uint8_t *buf)
{
	struct es_pkt_spec spec;
	size_t len, l3;

	es_pkt_spec_init(&spec);
	ASSERT_OK(es_pkt_spec_addr(&spec, 0, src), "source literal");
	ASSERT_OK(es_pkt_spec_addr(&spec, 1, dst), "destination literal");
	spec.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	spec.proto = IPPROTO_TCP;
	spec.sport = sport;
	spec.dport = dport;
	spec.payload = payload;
	spec.tcp_flags = payload ? TCP_PSH_ACK : TCP_ACK;
	len = es_pkt_build(&spec, buf, PKT_MAX);
	ASSERT_GT(len, 0, "es_pkt_build");
	/* the IP header (IPv4 20 bytes, IPv6 40), then the ports, sequence and acknowledgement */
	l3 = buf[ETH_HLEN] >> 4 == 6 ? 40 : 20;
	*(uint32_t *)(buf + ETH_HLEN + l3 + 4) = htonl(seq);
	*(uint32_t *)(buf + ETH_HLEN + l3 + 8) = htonl(ack);
	memset(buf + len - payload, tag, payload);
	return len;
}

/* A segment of the service towards the user: the restored container's, at the tc hook. */
static uint32_t tcp_new(FIXTURE_DATA(mig) *self, uint32_t seq, uint32_t ack, size_t n, uint8_t tag)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len;

	len = tcp_pkt(svc_ip, SVC_PORT, user_ip, USER_PORT, seq, ack, n, tag, pkt);
	run_tc(self->ctr_fd, pkt, len, &r);
	return r.retval;
}

/*
 * The same segment from the old container, through the tunnel with reply
 * ordinal `ordinal`, its TCP flag byte `flags` (0: as tcp_pkt makes it).
 */
static uint32_t tcp_old_flags(FIXTURE_DATA(mig) *self, uint64_t ordinal, uint32_t seq,
			      uint32_t ack, size_t n, uint8_t tag, uint8_t flags)
{
	uint8_t pkt[PKT_MAX], tun[PKT_MAX];
	size_t len = tcp_pkt(svc_ip, SVC_PORT, user_ip, USER_PORT, seq, ack, n, tag, pkt);
	struct run r;

	if (flags)
		pkt[ETH_HLEN + (pkt[ETH_HLEN] >> 4 == 6 ? 40 : 20) + 13] = flags;
	run_xdp(self->wan_fd, 1, tun, tunnel_pkt(pkt, len, SOURCE, LOCAL, ES_MIG_TUN_REPLY,
						  ordinal, tun), &r);
	return r.retval;
}

static uint32_t tcp_old(FIXTURE_DATA(mig) *self, uint64_t ordinal, uint32_t seq, uint32_t ack,
			size_t n, uint8_t tag)
{
	return tcp_old_flags(self, ordinal, seq, ack, n, tag, 0);
}

static void tcp_key(FIXTURE_DATA(mig) *self)
{
	char key[ES_MIG_KEY_TEXT_LEN];

	/* the test's family: brackets for IPv6, as an operator writes it */
	snprintf(key, sizeof(key), strchr(user_ip, ':') ? "[%s]:%u>[%s]:%u/tcp" : "%s:%u>%s:%u/tcp",
		 user_ip, USER_PORT, svc_ip, SVC_PORT);
	ASSERT_OK(es_mig_key_parse(key, &self->key, NULL, 0), "session key /tcp");
	ASSERT_EQ(self->key.proto, IPPROTO_TCP, "key protocol TCP");
}

TEST_F_BOTH_FAMILIES(tcp_segments_forwarded_and_mirrored)
{
	uint8_t pkt[PKT_MAX];
	struct run r;
	size_t len;

	tcp_key(self);
	make_session(self, ES_MIG_FORWARDING, 16);
	len = tcp_pkt(user_ip, USER_PORT, svc_ip, SVC_PORT, 5000, 1000, 20, 'r', pkt);
	run_xdp(self->ingress_fd, 1, pkt, len, &r);
	ASSERT_EQ(r.retval, XDP_REDIRECT, "a user's segment is sent to the source");
	check_encapsulated(self, &r, pkt, len, 1);
	EXPECT_EQ(session(self).mirrored, 1, "and copied into the replay buffer");
	EXPECT_EQ(es_mig_record_get(&self->dp, &self->key, 1, &(struct es_mig_record){}), 0,
		  "record 1 present");
}

/*
 * The replay meets a segment whose record is being made (numbered, then
 * made, then filled: record_being_made_is_waited_for). It hands it over
 * once filled, whole; one CI run's replay took it for a malformed segment
 * and gave a migration of twenty connections up ("Protocol error").
 */
TEST_F(mig, tcp_replay_hands_a_segment_being_recorded_over_whole)
{
	struct slow_record sr = { .make_ms = 10, .fill_ms = 20 };
	struct es_mig_tcp_replay out = {};
	struct tcp_run r = { .out = &out, .booted = true, .next = 1 };
	struct es_mig_session s;
	uint8_t pkt[PKT_MAX];
	pthread_t th;
	int ret;

	tcp_key(self);
	make_session(self, ES_MIG_REPLAYING, 16);
	ASSERT_OK(sh("ip addr add " SVC "/32 dev lo"), "the service's address in this namespace");
	r.dp = &self->dp;
	r.key = &self->key;
	r.now = es_now_ns();
	r.fd = es_mig_inject_key_open(ES_NETNS_OWN, &self->key);
	ASSERT_GE(r.fd, 0, "an injection socket");
	number_request(self, &sr, pkt,
		       tcp_pkt(user_ip, USER_PORT, svc_ip, SVC_PORT, 5000, 1000, 20, 'r', pkt));
	ASSERT_OK(pthread_create(&th, NULL, slow_record_thread, &sr), "the slow program");
	s = session(self);
	ret = es_tcp_run_hand_next(&r, &s);
	pthread_join(th, NULL);
	ASSERT_OK(sr.ret, "the record made, then filled");
	EXPECT_EQ(ret, 1, "handed over");
	EXPECT_EQ(out.injected, 1, "once");
	EXPECT_EQ(out.user_end, 5020, "the segment as the user sent it: its 20 bytes");
	EXPECT_EQ(session(self).replayed, 1, "and counted replayed");
	close(r.fd);
}

/*
 * Until cut-over the user's connection is the old container's: its
 * segments pass, the restored container's are taken; both streams' ends
 * are tracked, and equal bytes are counted matched block by block, however
 * the segments cut them. After cut-over it is the other way round, but
 * for the old container's late copies of bytes the restored one has sent
 * (taken before the cut-over): those pass, a FIN or RST never.
 */
TEST_F_BOTH_FAMILIES(tcp_restored_output_suppressed_until_cutover)
{
	struct es_mig_session s;
	__u64 ss;

	tcp_key(self);
	make_session(self, ES_MIG_REPLAYING, 16);
	EXPECT_EQ((int)tcp_new(self, 1024, 5020, 128, 'a'), TC_ACT_REDIRECT,
		  "the restored container's segment before cut-over: taken (redirected nowhere: sent, as its socket sees it)");
	EXPECT_EQ(tcp_old(self, 1, 1024, 5020, 32, 'a'), XDP_PASS,
		  "the old container's segment: passes to the user");
	EXPECT_EQ(tcp_old(self, 2, 1056, 5020, 96, 'a'), XDP_PASS,
		  "the same bytes cut at another boundary: pass");
	EXPECT_EQ(tcp_old(self, 3, 1152, 5040, 0, 0), XDP_PASS, "its pure ACK too");
	s = session(self);
	EXPECT_EQ(s.new_snd_nxt, 1152, "new_snd_nxt: end of the restored container's stream");
	EXPECT_EQ(s.new_ack, 5020, "new_ack: what it received of the user's");
	EXPECT_EQ(s.old_snd_nxt, 1152, "old_snd_nxt");
	EXPECT_EQ(s.new_hashed, 1152, "the restored stream hashed up to its end");
	EXPECT_EQ(s.old_hashed, 1152, "and the old one");
	EXPECT_EQ(s.tcp_seen, ES_MIG_TCP_OLD_SEEN | ES_MIG_TCP_NEW_SEEN | ES_MIG_TCP_NEW_ACK |
		  ES_MIG_TCP_NEW_DATA | ES_MIG_TCP_OLD_DATA, "all five valid");
	EXPECT_EQ(s.tcp_matched, 2, "two 64-byte blocks the same from both: matched");
	EXPECT_EQ(s.tcp_diverged, 0, "nothing diverged");
	EXPECT_EQ(s.suppressed_new, 1, "suppressed_new");
	EXPECT_EQ(tcp_old(self, 4, 1024, 5040, 32, 'a'), XDP_PASS, "a retransmission passes");
	EXPECT_EQ(session(self).tcp_matched, 2, "and is not counted twice");
	EXPECT_EQ(session(self).tcp_unhashed, 0, "nor as a hole");
	EXPECT_EQ((int)tcp_new(self, 900, 5020, 0, 0), TC_ACT_REDIRECT, "an older ACK: taken");
	EXPECT_EQ(session(self).new_snd_nxt, 1152, "and new_snd_nxt does not go back");
	ASSERT_OK(es_mig_set_state(&self->dp, &self->key, ES_MIG_REPLAYING, ES_MIG_CUTOVER,
				   ES_MIG_ANY_SEQ, &ss), "cut over");
	EXPECT_EQ((int)tcp_new(self, 1152, 5040, 64, 'b'), TC_ACT_UNSPEC,
		  "after cut-over the restored container's segment passes");
	/* the old container's copies that come late: the restored one's were taken before */
	EXPECT_EQ(tcp_old(self, 5, 1152, 5040, 64, 'b'), XDP_PASS,
		  "the old container's late copy of bytes the restored one has sent passes");
	EXPECT_EQ(tcp_old(self, 6, 1216, 5040, 0, 0), XDP_DROP, "its bare ACK is dropped");
	EXPECT_EQ(tcp_old_flags(self, 7, 1088, 5040, 64, 'a', TCP_FIN_ACK), XDP_DROP,
		  "a FIN of the old connection is dropped, its bytes sent or not");
	EXPECT_EQ(tcp_old_flags(self, 8, 1152, 5040, 64, 'b', TCP_RST_ACK), XDP_DROP,
		  "and a RST");
	s = session(self);
	EXPECT_EQ(s.tcp_matched, 3, "compared all the same");
	EXPECT_EQ(s.tcp_old_late, 1, "tcp_old_late: the one passed");
	EXPECT_EQ(s.suppressed_old, 3, "suppressed_old: the ACK, the FIN and the RST");
	EXPECT_EQ(s.new_snd_nxt, 1216, "new_snd_nxt moved on");
	EXPECT_EQ(tcp_old(self, 9, 1024, 5040, 32, 'a'), XDP_DROP,
		  "a retransmission of what the old container sent before the cut-over: dropped");
	EXPECT_EQ(tcp_old(self, 10, 1280, 5040, 64, 'c'), XDP_DROP,
		  "bytes the restored container has not sent: dropped (a segment past a hole)");
	EXPECT_EQ(session(self).tcp_unhashed, 0, "is hashed all the same");
	EXPECT_EQ(session(self).old_hashed, 1344, "the old stream's span ends past it");
	/* a block the two sent differently: no late segment passes any more */
	EXPECT_EQ((int)tcp_new(self, 1344, 5040, 64, 'd'), TC_ACT_UNSPEC, "the restored block 21");
	EXPECT_EQ(tcp_old(self, 11, 1344, 5040, 64, 'e'), XDP_DROP,
		  "the old container's other bytes for it: diverged, dropped");
	EXPECT_EQ(session(self).tcp_diverged, 1, "tcp_diverged");
	EXPECT_EQ(session(self).tcp_old_late, 1, "still the one passed");
}

/* The check of both streams after cut-over, as the agent reads it. */
static struct es_mig_tcp_verdict tcp_verdict(FIXTURE_DATA(mig) *self)
{
	struct es_mig_tcp_verdict v;

	EXPECT_OK(es_mig_tcp_verify(&self->dp, &self->key, &v), "tcp verify");
	return v;
}

/*
 * Over a lossy WAN the old container's segments arrive with holes, filled
 * later by its retransmissions, whole or cut otherwise: every byte is
 * summed once, in whatever order it came, and a hole left open fails the
 * check.
 */
TEST_F_BOTH_FAMILIES(tcp_stream_hashed_out_of_order)
{
	struct es_mig_tcp_replay out = {};
	struct tcp_run r = { .out = &out, .now = 1000000000ULL }, given_up;
	struct es_mig_tcp_verdict v;
	struct es_mig_session s;

	tcp_key(self);
	make_session(self, ES_MIG_REPLAYING, 16);
	EXPECT_EQ(tcp_old(self, 1, 1024, 5000, 64, 'a'), XDP_PASS, "old: block 16");
	EXPECT_EQ(tcp_old(self, 2, 1152, 5000, 64, 'a'), XDP_PASS, "old: block 18, past a hole");
	EXPECT_EQ((int)tcp_new(self, 1024, 5000, 192, 'a'), TC_ACT_REDIRECT,
		  "restored: blocks 16 to 18 in one segment");
	EXPECT_EQ(session(self).tcp_matched, 2, "16 and 18 compared: the same");
	v = tcp_verdict(self);
	EXPECT_EQ(v.overlap, 192, "both sent 192 bytes");
	EXPECT_EQ(v.whole, 192, "in three whole blocks");
	EXPECT_TRUE(!v.passed, "the hole's block is not compared: the check fails");
	/* what the replay asks before its cut-over; the run's clock is set, not read */
	s = session(self);
	EXPECT_TRUE(!es_tcp_run_holes_filled(&r, &s), "caught up with the hole: the cut-over waits");
	r.now += (ES_TCP_HOLE_WAIT_MS - 1) * 1000000ULL;
	EXPECT_TRUE(!es_tcp_run_holes_filled(&r, &s), "... for up to ES_TCP_HOLE_WAIT_MS");
	given_up = r;
	given_up.now += 1000000ULL;
	EXPECT_TRUE(es_tcp_run_holes_filled(&given_up, &s),
		    "then no longer (the check after the cut-over says failed)");
	EXPECT_EQ(tcp_old(self, 3, 1056, 5000, 128, 'a'), XDP_PASS,
		  "old: a retransmission over half of 16, the hole, half of 18");
	EXPECT_EQ(session(self).tcp_matched, 3, "the hole filled: block 17 compared too");
	s = session(self);
	EXPECT_TRUE(es_tcp_run_holes_filled(&r, &s), "filled: the cut-over goes");
	es_tcp_run_cut_done(&r, 0);
	EXPECT_EQ(out.hole_wait_ms, ES_TCP_HOLE_WAIT_MS - 1, "and says how long it waited");
	EXPECT_EQ(session(self).tcp_diverged, 0, "and nothing added twice (the sums agree)");
	EXPECT_EQ(tcp_old(self, 4, 1024, 5000, 192, 'a'), XDP_PASS, "old: all of it again");
	EXPECT_EQ(session(self).tcp_matched, 3, "compared once each");
	v = tcp_verdict(self);
	EXPECT_EQ(v.compared, 192, "192 bytes compared");
	EXPECT_TRUE(v.passed, "the check passes");
	EXPECT_EQ(session(self).tcp_unhashed, 0, "nothing left unhashed");
}

/* es_mig_tcp_verify_settled on a thread of its own, while the test sends segments. */
struct settle_run {
	const struct es_mig_dp		*dp;
	const struct es_mig_key		*key;
	unsigned int			settle_ms;
	struct es_mig_tcp_verdict	v;
	int				ret;
	__u64				took_ns;
};

static void *settle_thread(void *arg)
{
	struct settle_run *sr = arg;
	__u64 t0 = es_now_ns();

	sr->ret = es_mig_tcp_verify_settled(sr->dp, sr->key, sr->settle_ms, &sr->v);
	sr->took_ns = es_now_ns() - t0;
	return NULL;
}

/*
 * After the cut-over the old container's answer to the last request came
 * over a lossy WAN with a hole: the restored stream has caught up, so
 * only the hole's block is missing. The check waits for the old
 * container's retransmission instead of failing at once (one CI run
 * failed a migration so, the user unharmed), and fails when it does not
 * come.
 */
TEST_F_BOTH_FAMILIES(tcp_check_after_cutover_waits_for_a_hole)
{
	struct settle_run sr = { .dp = &self->dp, .key = &self->key };
	pthread_t th;
	__u64 ss;

	tcp_key(self);
	make_session(self, ES_MIG_REPLAYING, 16);
	EXPECT_EQ(tcp_old(self, 1, 1024, 5000, 64, 'a'), XDP_PASS, "old: block 16");
	EXPECT_EQ((int)tcp_new(self, 1024, 5000, 192, 'a'), TC_ACT_REDIRECT,
		  "restored: blocks 16 to 18");
	ASSERT_OK(es_mig_set_state(&self->dp, &self->key, ES_MIG_REPLAYING, ES_MIG_CUTOVER,
				   ES_MIG_ANY_SEQ, &ss), "cut over");
	EXPECT_EQ(tcp_old(self, 2, 1152, 5000, 64, 'a'), XDP_PASS,
		  "old, late: block 18, past a hole");
	sr.settle_ms = 100;
	settle_thread(&sr);
	EXPECT_OK(sr.ret, "settled check");
	EXPECT_TRUE(sr.v.caught_up && !sr.v.passed, "caught up, the hole's block not compared");
	EXPECT_GE(sr.took_ns, 100 * 1000000ULL, "the check waited settle_ms for it ...");
	EXPECT_EQ(sr.v.compared, 128, "... and failed with two blocks of three compared");
	sr.settle_ms = 2000;
	ASSERT_OK(pthread_create(&th, NULL, settle_thread, &sr), "check on a thread");
	es_tcp_run_sleep_ms(50);
	EXPECT_EQ(tcp_old(self, 3, 1088, 5000, 64, 'a'), XDP_PASS,
		  "the old container's retransmission fills the hole");
	pthread_join(th, NULL);
	EXPECT_OK(sr.ret, "settled check");
	EXPECT_TRUE(sr.v.passed, "the check waiting meanwhile passes");
	EXPECT_EQ(sr.v.compared, 192, "with all three blocks compared");
	EXPECT_GE(sr.took_ns, 50 * 1000000ULL, "once the hole was filled, not before");
	EXPECT_LT(sr.took_ns, 2000 * 1000000ULL, "nor after settle_ms");
}

/*
 * A retry: the failed attempt's restored container's sums leave the
 * blocks, the old container's stay, so the next attempt's bytes are
 * compared with them.
 */
TEST_F(mig, tcp_retry_keeps_the_old_streams_sums)
{
	struct es_mig_cmd cmd = {};
	struct es_mig_session s;
	__u64 ss;

	tcp_key(self);
	make_session(self, ES_MIG_REPLAYING, 16);
	EXPECT_EQ(tcp_old(self, 1, 1024, 5000, 128, 'a'), XDP_PASS, "old: blocks 16 and 17");
	EXPECT_EQ((int)tcp_new(self, 1024, 5000, 64, 'a'), TC_ACT_REDIRECT,
		  "the failed attempt's container: block 16");
	EXPECT_EQ(session(self).tcp_matched, 1, "compared");
	ASSERT_OK(es_mig_set_state(&self->dp, &self->key, ES_MIG_REPLAYING, ES_MIG_ABORTED,
				   ES_MIG_ANY_SEQ, &ss), "the attempt fails");
	ASSERT_OK(es_mig_cmd_run(&self->dp, &self->key, ES_MIG_CMD_RESTART, &cmd), "restart");
	s = session(self);
	EXPECT_EQ(s.tcp_matched, 0, "the retry's count starts afresh");
	EXPECT_EQ(s.tcp_seen & ES_MIG_TCP_NEW_DATA, 0, "with no restored stream");
	EXPECT_TRUE(s.tcp_seen & ES_MIG_TCP_OLD_DATA, "the old one goes on");
	ASSERT_OK(es_mig_set_state(&self->dp, &self->key, ES_MIG_FORWARDING, ES_MIG_REPLAYING,
				   ES_MIG_ANY_SEQ, &ss), "the retry replays");
	EXPECT_EQ((int)tcp_new(self, 1024, 5000, 128, 'a'), TC_ACT_REDIRECT,
		  "the retry's container: blocks 16 and 17");
	EXPECT_EQ(session(self).tcp_matched, 2, "both compared with the old container's sums");
	EXPECT_EQ(session(self).tcp_diverged, 0, "the same bytes");
}

/* Other bytes at one sequence number: not deterministic, the migration is given up. */
TEST_F_BOTH_FAMILIES(tcp_divergence_aborts)
{
	struct es_mig_session s;
	struct events e;

	tcp_key(self);
	make_session(self, ES_MIG_REPLAYING, 16);
	EXPECT_EQ(tcp_old(self, 1, 2048, 5000, 64, 'x'), XDP_PASS, "old container's segment");
	EXPECT_EQ((int)tcp_new(self, 2048, 5000, 64, 'y'), TC_ACT_REDIRECT,
		  "the restored container's, with other bytes: taken");
	s = session(self);
	EXPECT_EQ(s.tcp_diverged, 1, "tcp_diverged");
	EXPECT_EQ(s.seq_state >> ES_MIG_STATE_SHIFT, ES_MIG_ABORTED, "the migration is aborted");
	EXPECT_EQ(s.abort_reason, ES_MIG_ABORT_DIVERGED, "because the streams diverged");
	e = drain_events(self);
	ASSERT_EQ(e.n, 2, "two events");
	EXPECT_EQ(e.ev[0].type, ES_MIG_EV_DIVERGED, "first: diverged");
	EXPECT_EQ(e.ev[0].seq, 2048, "in the block at sequence number 2048");
	EXPECT_EQ(e.ev[1].type, ES_MIG_EV_ABORT, "then the abort");
	EXPECT_EQ(tcp_old(self, 2, 2112, 5000, 8, 'z'), XDP_PASS,
		  "the old container keeps serving the user");
}

TEST_HARNESS_MAIN
