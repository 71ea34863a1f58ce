// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sequence translation (es_mig_xlate) through BPF_PROG_TEST_RUN: TCP
 * segments with timestamps and SACK blocks, rewritten towards the container
 * (XDP and tcx on the users' interface) and from it (tcx on the container's
 * interface); every field the deltas move is checked, every other byte is
 * not touched, and the checksum of the result verifies. Malformed options
 * are left as they came. mig_xlate.sh runs the same on real connections.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include "bpf/accounting_skel.h"
#include "migctl/ctl.h"
#include "migctl/names.h"
#include "migctl/xlate.h"
#include "migration.skel.h"
#include "replay/inject.h"
#include "testing/map_reset.h"
#include "testing/tun_build.h"
#include "harness.h"

#define USER		"10.1.0.2"
#define SVC		"10.4.0.10"
#define USER_PORT	5000
#define SVC_PORT	7000
#define L4		(ETH_HLEN + 20)
#define SEQ_DELTA	0xd0000010u	/* wraps: the restored ISN is "below" the old one */
#define TS_DELTA	0x00100001u
#define PKT_MAX		256

static struct {
	struct migration	*skel;
	struct es_mig_dp	dp;
	int			err;
} g;

static void load_once(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);

	if (geteuid() != 0)
		return;
	if (es_kernel_config_missing())
		oo.kconfig = ES_KCONFIG_FALLBACK;
	g.skel = migration__open_opts(&oo);
	if (!g.skel || migration__load(g.skel)) {
		g.err = -errno;
		return;
	}
	es_mig_dp_from_skel(&g.dp, g.skel);
}
TEST_SETUP_ONCE(load_once)

static struct es_mig_key key(void)
{
	struct es_mig_key k;
	char text[80];

	snprintf(text, sizeof(text), "%s:%u>%s:%u/tcp", USER, USER_PORT, SVC, SVC_PORT);
	ASSERT_OK(es_mig_key_parse(text, &k, NULL, 0), "key");
	return k;
}

/* Empty maps, the node configured, k translated by the test's deltas (timestamps too). */
static void setup(bool add)
{
	struct es_mig_key k = key();
	__u32 local[4];

	es_mig_addr4(local, inet_addr("10.9.0.1"));
	es_harness_require_root();
	ASSERT_OK(g.err, "migration__load");
	ASSERT_OK(es_object_clear_maps(g.skel->obj), "empty the maps");
	ASSERT_OK(es_mig_config_set(&g.dp, local, 47000, 1024), "config");
	if (add)
		ASSERT_OK(es_mig_xlate_add(&g.dp, &k, SEQ_DELTA, TS_DELTA, ES_MIG_XLATE_TS),
			  "xlate entry");
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* Is the TCP checksum of the frame pkt right? (Computed again on a copy, compared.) */
static bool csum_ok(const uint8_t *pkt, size_t len)
{
	uint8_t copy[PKT_MAX];

	memcpy(copy, pkt, len);
	if (es_mig_l4_fix_csum(copy + ETH_HLEN, len - ETH_HLEN))
		return false;
	return !memcmp(copy, pkt, len);
}

/*
 * Ethernet + IPv4 + TCP from the user (in) or the service, with opts
 * (olen bytes, a multiple of 4) and 8 bytes of payload; checksums right.
 */
static size_t seg(bool in, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *opts,
		  size_t olen, uint8_t *pkt)
{
	size_t hlen = 20 + olen, len = L4 + hlen + 8;
	uint8_t *ip = pkt + ETH_HLEN, *th = pkt + L4;
	uint16_t port[2] = { htons(in ? USER_PORT : SVC_PORT), htons(in ? SVC_PORT : USER_PORT) };
	uint16_t c;

	memset(pkt, 0, len);
	pkt[12] = 0x08;		/* ETH_P_IP */
	ip[0] = 0x45;
	ip[2] = (len - ETH_HLEN) >> 8;
	ip[3] = (len - ETH_HLEN) & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	inet_pton(AF_INET, in ? USER : SVC, ip + 12);
	inet_pton(AF_INET, in ? SVC : USER, ip + 16);
	c = htons(es_ipv4_csum(ip));
	memcpy(ip + 10, &c, 2);
	memcpy(th, port, 4);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (hlen / 4) << 4;
	th[13] = flags;
	th[14] = 0xff;
	memcpy(th + 20, opts, olen);
	memset(th + hlen, 'p', 8);
	ASSERT_OK(es_mig_l4_fix_csum(ip, len - ETH_HLEN), "TCP checksum");
	return len;
}

struct out {
	uint32_t	retval;
	uint8_t		pkt[PKT_MAX];
	uint32_t	len;
};

static struct out run(int fd, bool xdp, const uint8_t *pkt, size_t len)
{
	struct xdp_md xctx = { .data_end = len, .ingress_ifindex = 1 };
	struct __sk_buff sctx = {};
	struct out o = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .data_out = o.pkt, .data_size_out = sizeof(o.pkt));

	opts.ctx_in = xdp ? (void *)&xctx : (void *)&sctx;
	opts.ctx_size_in = xdp ? sizeof(xctx) : sizeof(sctx);
	ASSERT_OK(bpf_prog_test_run_opts(fd, &opts), "BPF_PROG_TEST_RUN");
	o.retval = opts.retval;
	o.len = opts.data_size_out;
	return o;
}

/* The timestamp option alone (NOP NOP TS): 12 bytes. */
static size_t opts_ts(uint32_t tsval, uint32_t tsecr, uint8_t *o)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, tsval);
	put32(o + 8, tsecr);
	return 12;
}

/* Timestamps (NOP NOP TS) then SACK with two blocks (NOP NOP SACK): 12 + 20 bytes. */
static size_t opts_ts_sack(uint32_t tsval, uint32_t tsecr, const uint32_t sack[4], uint8_t *o)
{
	opts_ts(tsval, tsecr, o);
	o[12] = 1;
	o[13] = 1;
	o[14] = 5;
	o[15] = 18;
	put32(o + 16, sack[0]);
	put32(o + 20, sack[1]);
	put32(o + 24, sack[2]);
	put32(o + 28, sack[3]);
	return 32;
}

/* Towards the container, through fd: ack, SACK edges and TSecr gain the deltas. */
static void check_in(int fd, bool xdp, uint32_t pass)
{
	static const uint32_t sack[4] = { 0x1000, 0x2000, 0xfffffff0u, 0x10 };
	uint8_t opt[40], pkt[PKT_MAX];
	size_t olen = opts_ts_sack(777, 0x40000000u, sack, opt);
	size_t len = seg(true, 5000, 0xfffff000u, 0x10, opt, olen, pkt);
	struct out o = run(fd, xdp, pkt, len);
	const uint8_t *th = o.pkt + L4, *op = th + 20;
	int i;

	ASSERT_EQ(o.retval, pass, "passes to the local container");
	ASSERT_EQ(o.len, len, "same length");
	EXPECT_EQ(get32(th + 4), 5000, "the user's sequence number untouched");
	EXPECT_EQ(get32(th + 8), 0xfffff000u + SEQ_DELTA, "ack + seq_delta (wrapping)");
	EXPECT_EQ(get32(op + 4), 777, "TSval, the user's, untouched");
	EXPECT_EQ(get32(op + 8), 0x40000000u + TS_DELTA, "TSecr + ts_delta");
	for (i = 0; i < 4; i++)
		EXPECT_EQ(get32(op + 16 + 4 * i), sack[i] + SEQ_DELTA, "SACK edge + seq_delta");
	EXPECT_EQ(memcmp(o.pkt, pkt, L4 + 4), 0, "Ethernet, IP and ports untouched");
	EXPECT_EQ(memcmp(th + 20 + olen, pkt + L4 + 20 + olen, 8), 0, "payload untouched");
	EXPECT_TRUE(csum_ok(o.pkt, o.len), "TCP checksum verifies");
}

TEST(xlate_towards_container_xdp)
{
	setup(true);
	check_in(bpf_program__fd(g.skel->progs.es_mig_xdp_ingress), true, XDP_PASS);
}

TEST(xlate_towards_container_tcx)
{
	struct es_mig_xlate x;
	struct es_mig_key k = key();

	setup(true);
	check_in(bpf_program__fd(g.skel->progs.es_mig_tc_ingress), false, (uint32_t)TC_ACT_UNSPEC);
	ASSERT_OK(es_mig_xlate_get(&g.dp, &k, &x), "entry");
	EXPECT_EQ(x.in_segs, 1, "in_segs");
	EXPECT_EQ(x.out_segs, 0, "out_segs");
	EXPECT_GT(x.last_ns, 0, "last_ns set");
}

/* From the container: seq and TSval lose the deltas; its SACK blocks (user's bytes) do not move. */
TEST(xlate_from_container)
{
	static const uint32_t sack[4] = { 100, 200, 300, 400 };
	uint8_t opt[40], pkt[PKT_MAX];
	size_t olen = opts_ts_sack(0x00200000u, 555, sack, opt);
	size_t len = seg(false, 0x10, 5008, 0x11, opt, olen, pkt);	/* FIN ACK */
	struct es_mig_key k = key();
	struct es_mig_xlate x;
	struct out o;
	int i;

	setup(true);
	o = run(bpf_program__fd(g.skel->progs.es_mig_tc_ctr), false, pkt, len);
	ASSERT_EQ(o.retval, (uint32_t)TC_ACT_UNSPEC, "passes to the user");
	EXPECT_EQ(get32(o.pkt + L4 + 4), 0x10 - SEQ_DELTA, "seq - seq_delta (wrapping)");
	EXPECT_EQ(get32(o.pkt + L4 + 8), 5008, "ack, of the user's bytes, untouched");
	EXPECT_EQ(get32(o.pkt + L4 + 24), 0x00200000u - TS_DELTA, "TSval - ts_delta");
	EXPECT_EQ(get32(o.pkt + L4 + 28), 555, "TSecr, the user's clock, untouched");
	for (i = 0; i < 4; i++)
		EXPECT_EQ(get32(o.pkt + L4 + 36 + 4 * i), sack[i], "SACK edge untouched");
	EXPECT_TRUE(csum_ok(o.pkt, o.len), "TCP checksum verifies");
	ASSERT_OK(es_mig_xlate_get(&g.dp, &k, &x), "entry");
	EXPECT_EQ(x.out_segs, 1, "out_segs");
	EXPECT_EQ(x.closed, ES_MIG_XLATE_FIN_OUT, "the container's FIN noted");
	EXPECT_TRUE(!es_mig_xlate_closed(&x), "not closed until the user's FIN too");
}

/*
 * NOP NOP TS alone, the layout of every segment past the handshake that
 * carries no SACK: translated in place without the walk (es_xlate_ts_only),
 * both ways, on XDP (the checksum fixed by hand) and on tcx.
 */
static void check_ts_only(int fd, bool xdp, bool in, uint32_t pass)
{
	uint8_t opt[12], pkt[PKT_MAX];
	size_t olen = opts_ts(in ? 777 : 0x00200000u, in ? 0xfffffff0u : 555, opt);
	size_t len = seg(in, in ? 5000 : 0x10, in ? 0x7ffff000u : 5008, 0x18, opt, olen, pkt);
	struct out o = run(fd, xdp, pkt, len);
	const uint8_t *th = o.pkt + L4;

	ASSERT_EQ(o.retval, pass, "passes");
	ASSERT_EQ(o.len, len, "same length");
	if (in) {
		EXPECT_EQ(get32(th + 4), 5000, "the user's sequence number untouched");
		EXPECT_EQ(get32(th + 8), 0x7ffff000u + SEQ_DELTA, "ack + seq_delta");
		EXPECT_EQ(get32(th + 24), 777, "TSval, the user's, untouched");
		EXPECT_EQ(get32(th + 28), 0xfffffff0u + TS_DELTA, "TSecr + ts_delta (wrapping)");
	} else {
		EXPECT_EQ(get32(th + 4), 0x10 - SEQ_DELTA, "seq - seq_delta (wrapping)");
		EXPECT_EQ(get32(th + 8), 5008, "ack, of the user's bytes, untouched");
		EXPECT_EQ(get32(th + 24), 0x00200000u - TS_DELTA, "TSval - ts_delta");
		EXPECT_EQ(get32(th + 28), 555, "TSecr, the user's clock, untouched");
	}
	EXPECT_EQ(memcmp(th + 20, opt, 4), 0, "NOP NOP TS kept");
	EXPECT_EQ(memcmp(th + 32, pkt + L4 + 32, 8), 0, "payload untouched");
	EXPECT_TRUE(csum_ok(o.pkt, o.len), "TCP checksum verifies");
}

TEST(xlate_timestamps_only_in_place)
{
	struct es_mig_key k = key();
	struct es_mig_xlate x;

	setup(true);
	check_ts_only(bpf_program__fd(g.skel->progs.es_mig_xdp_ingress), true, true, XDP_PASS);
	check_ts_only(bpf_program__fd(g.skel->progs.es_mig_tc_ingress), false, true,
		      (uint32_t)TC_ACT_UNSPEC);
	check_ts_only(bpf_program__fd(g.skel->progs.es_mig_tc_ctr), false, false,
		      (uint32_t)TC_ACT_UNSPEC);
	ASSERT_OK(es_mig_xlate_get(&g.dp, &k, &x), "entry");
	EXPECT_EQ(x.in_segs, 2, "in_segs");
	EXPECT_EQ(x.out_segs, 1, "out_segs");
	EXPECT_EQ(x.bad_opts, 0, "bad_opts");
}

/*
 * A good timestamp option, then a SACK claiming 18 bytes where 4 are left:
 * numbers translated, the options as they came (the TSecr before the bad
 * option is not left half done).
 */
TEST(xlate_malformed_options_left_alone)
{
	static const uint8_t opt[16] = { 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 5, 18, 0, 0 };
	uint8_t pkt[PKT_MAX];
	size_t len = seg(true, 1, 2, 0x10, opt, sizeof(opt), pkt);
	struct es_mig_key k = key();
	struct es_mig_xlate x;
	struct out o;

	setup(true);
	o = run(bpf_program__fd(g.skel->progs.es_mig_tc_ingress), false, pkt, len);
	EXPECT_EQ(get32(o.pkt + L4 + 8), 2 + SEQ_DELTA, "ack translated");
	EXPECT_EQ(memcmp(o.pkt + L4 + 20, opt, sizeof(opt)), 0, "options as they came");
	EXPECT_TRUE(csum_ok(o.pkt, o.len), "TCP checksum verifies");
	ASSERT_OK(es_mig_xlate_get(&g.dp, &k, &x), "entry");
	EXPECT_EQ(x.bad_opts, 1, "counted in bad_opts");
}

/* Without an entry nothing moves, and the programs do not look while the flag is off. */
TEST(xlate_without_entry_untouched)
{
	static const uint32_t sack[4] = { 1, 2, 3, 4 };
	uint8_t opt[40], pkt[PKT_MAX];
	size_t olen = opts_ts_sack(1, 2, sack, opt);
	size_t len = seg(true, 10, 20, 0x10, opt, olen, pkt);
	struct es_mig_key k = key();
	struct es_mig_node_config cfg;
	struct out o;

	setup(true);
	ASSERT_OK(es_mig_xlate_del(&g.dp, &k), "entry removed");
	ASSERT_OK(es_mig_config_get(&g.dp, &cfg), "config");
	EXPECT_EQ(cfg.xlate, 0, "flag off with the map empty");
	o = run(bpf_program__fd(g.skel->progs.es_mig_xdp_ingress), true, pkt, len);
	EXPECT_EQ(memcmp(o.pkt, pkt, len), 0, "the segment passes byte for byte");
}

static void still_open(const struct es_mig_key *keys, unsigned int n, bool *alive, void *arg)
{
	(void)keys;
	(void)arg;
	while (n)
		alive[--n] = true;
}

/* The sweep drops a closed connection once quiet for the linger time, and an idle one gone. */
TEST(xlate_sweep_closed_and_idle)
{
	uint8_t pkt[PKT_MAX];
	struct es_mig_key k = key(), k2 = key();
	struct es_mig_xlate x;
	unsigned int removed;
	size_t len;

	setup(true);
	k2.user_port = htons(USER_PORT + 1);
	ASSERT_OK(es_mig_xlate_add(&g.dp, &k2, 1, 0, 0), "second entry");
	EXPECT_EQ(es_mig_xlate_add(&g.dp, &k2, 1, 0, 0), -EEXIST, "added once only");
	len = seg(false, 1, 1, 0x04, NULL, 0, pkt);	/* RST from the container */
	run(bpf_program__fd(g.skel->progs.es_mig_tc_ctr), false, pkt, len);
	ASSERT_OK(es_mig_xlate_get(&g.dp, &k, &x), "entry");
	EXPECT_TRUE(es_mig_xlate_closed(&x), "reset: closed");
	ASSERT_OK(es_mig_xlate_sweep(&g.dp, x.last_ns + 500000000ULL, 1000, 0, NULL, NULL, &removed),
		  "sweep within the linger");
	EXPECT_EQ(removed, 0, "nothing removed yet");
	ASSERT_OK(es_mig_xlate_sweep(&g.dp, x.last_ns + 1000000000ULL, 1000, 0, NULL, NULL, &removed),
		  "sweep after the linger");
	EXPECT_EQ(removed, 1, "the reset connection removed");
	EXPECT_OK(es_mig_xlate_get(&g.dp, &k2, &x), "the silent one stays without an idle limit");
	ASSERT_OK(es_mig_xlate_sweep(&g.dp, 1ULL << 62, 1000, 60000, still_open, NULL, &removed),
		  "idle sweep, the connection still open");
	EXPECT_EQ(removed, 0, "an idle connection that lives on keeps its entry");
	ASSERT_OK(es_mig_xlate_sweep(&g.dp, 1ULL << 62, 1000, 60000, NULL, NULL, &removed),
		  "idle sweep");
	EXPECT_EQ(removed, 1, "the idle one removed");
}

/*
 * LEARN: the restored container's SYN-ACK gives seq_delta (its ISN less
 * the old one) and its TSval; it leaves with the old ISN. Later echoes are
 * kept between that first TSval and the socket's clock now.
 */
TEST(xlate_learns_from_the_restored_syn_ack)
{
	uint8_t opt[40], pkt[PKT_MAX];
	struct es_mig_key k = key();
	struct es_mig_xlate x;
	size_t len;
	struct out o;

	setup(false);
	ASSERT_OK(es_mig_xlate_learn(&g.dp, &k, 1000), "LEARN entry, old ISN 1000");
	EXPECT_EQ(es_mig_xlate_activate(&g.dp, &k, 0, true), -EAGAIN, "not before the SYN-ACK");
	len = seg(false, 0x90000000u, 5001, 0x12, opt, opts_ts(0x5000, 77, opt), pkt);
	o = run(bpf_program__fd(g.skel->progs.es_mig_tc_ctr), false, pkt, len);
	EXPECT_EQ(get32(o.pkt + L4 + 4), 1000, "the SYN-ACK leaves with the old ISN");
	EXPECT_EQ(get32(o.pkt + L4 + 24), 0x5000, "its TSval untouched (no timestamp delta yet)");
	EXPECT_TRUE(csum_ok(o.pkt, o.len), "TCP checksum verifies");
	ASSERT_OK(es_mig_xlate_get(&g.dp, &k, &x), "entry");
	EXPECT_EQ(x.seq_delta, 0x90000000u - 1000, "seq_delta learned");
	EXPECT_EQ(x.new_isn, 0x90000000u, "new_isn");
	EXPECT_EQ(x.new_tsval, 0x5000, "new_tsval");
	EXPECT_EQ(x.learned, ES_MIG_XLATE_LEARNED | ES_MIG_XLATE_NEW_TS, "learned, with a timestamp");
	ASSERT_OK(es_mig_xlate_activate(&g.dp, &k, 0x4000, true), "timestamps on");
	/* an echo of the old clock from before the restored socket existed: its first TSval */
	len = seg(true, 5001, 1001, 0x10, opt, opts_ts(9, 0x10, opt), pkt);
	o = run(bpf_program__fd(g.skel->progs.es_mig_tc_ingress), false, pkt, len);
	EXPECT_EQ(get32(o.pkt + L4 + 8), 0x90000001u, "ack in the restored space");
	EXPECT_EQ(get32(o.pkt + L4 + 28), 0x5000, "an echo before its first TSval is taken up to it");
	/* an echo past the socket's clock now (nothing like it was sent): its clock */
	len = seg(true, 5001, 1001, 0x10, opt, opts_ts(9, 0x7000000, opt), pkt);
	o = run(bpf_program__fd(g.skel->progs.es_mig_tc_ingress), false, pkt, len);
	EXPECT_LE(get32(o.pkt + L4 + 28) - 0x5000, 1000, "an echo in the future is taken down to now");
	EXPECT_TRUE(csum_ok(o.pkt, o.len), "TCP checksum verifies");
}

TEST_HARNESS_MAIN
