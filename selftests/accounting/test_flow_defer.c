// SPDX-License-Identifier: GPL-2.0-only
/*
 * The deferred new-session candidate (bpf/lib/flow_defer.h, built as
 * bpf/bench_defer.bpf.c): a new tuple's packet writes only its CPU's flow
 * cache slot, an occupant moves to the CPU's spill ring, and the sweep puts
 * everything into the maps. Checked on one CPU with BPF_PROG_TEST_RUN:
 * nothing reaches the maps before the sweep, every packet is there after
 * it, exactly once, with its first packet's state, and a full ring sends
 * the packet down the path without deferral instead of losing it.
 */
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <edgeshift/session.h>
#include "bpf/accounting_skel.h"
#include "bench_defer.skel.h"
#include "testing/pkt_build.h"
#include "harness.h"

#define SADDR_OFF	(14 + 12)	/* ES_BENCH_SADDR_OFF of bpf/lib/bench.h */
#define MAP_SIZE	262144		/* room for every tuple: no LRU eviction */
#define SPILL		65536		/* ES_FLOW_SPILL of bpf/lib/maps.h */

struct defer_env {
	struct bench_defer	*skel;
	uint8_t			pkt[128];
	size_t			len;
};

static int env_open(struct defer_env *e)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo,
		.kconfig = es_kernel_config_missing() ? ES_KCONFIG_FALLBACK : NULL,
	);
	struct es_pkt_spec spec;
	cpu_set_t cpus;

	/* every run and the sweep on one CPU: its slots and ring are one set */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		return -errno;
	es_pkt_spec_init(&spec);
	spec.payload = 18;
	e->len = es_pkt_build(&spec, e->pkt, sizeof(e->pkt));
	e->skel = bench_defer__open_opts(&oo);
	if (!e->skel)
		return -errno;
	bpf_map__set_max_entries(e->skel->maps.es_sessions4, MAP_SIZE);
	bpf_map__set_max_entries(e->skel->maps.es_session_state4, MAP_SIZE);
	return bench_defer__load(e->skel);
}

/* n new tuples from source address first on, one packet each (the program steps it). */
static int run_new(struct defer_env *e, uint32_t first, unsigned int n)
{
	struct xdp_md ctx = { .data_end = e->len, .ingress_ifindex = 1 };
	uint32_t saddr = first - 1;	/* stepped as stored, before each packet */
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = e->pkt, .data_size_in = e->len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
	);

	memcpy(e->pkt + SADDR_OFF, &saddr, sizeof(saddr));
	return bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.es_xdp_acct_new), &topts);
}

static int sweep(struct defer_env *e)
{
	struct xdp_md ctx = { .data_end = e->len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = e->pkt, .data_size_in = e->len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1,
	);

	return bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.es_xdp_drain), &topts);
}

struct tally {
	unsigned int	entries;
	unsigned int	wrong;		/* entries whose packets are not `want` */
	unsigned long	pkts;
};

static struct tally count_sessions(struct defer_env *e, __u64 want)
{
	int fd = bpf_map__fd(e->skel->maps.es_sessions4);
	struct es_session_key4 k, *prev = NULL;
	struct es_session_counters c;
	struct tally t = {};

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c))
			continue;
		t.entries++;
		t.pkts += c.pkts[ES_DIR_RX] + c.pkts[ES_DIR_TX];
		if (c.pkts[ES_DIR_RX] != want || c.pkts[ES_DIR_TX])
			t.wrong++;
	}
	return t;
}

/* State entries with the first packet's effect: peer opened, request time set. */
static unsigned int count_requests(struct defer_env *e)
{
	int fd = bpf_map__fd(e->skel->maps.es_session_state4);
	struct es_session_key4 k, *prev = NULL;
	struct es_session_state st;
	unsigned int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &st) && (st.flags & ES_STATE_RX_INITIATED) &&
		    st.req_ts_ns)
			n++;
	}
	return n;
}

TEST(new_tuples_reach_the_maps_at_the_sweep_exactly)
{
	struct defer_env e = {};
	struct tally t;

	ASSERT_OK(env_open(&e), "load bench_defer");
	ASSERT_OK(run_new(&e, 1, 3000), "3000 new tuples");
	t = count_sessions(&e, 1);
	EXPECT_EQ(t.entries, 0, "session entries before the sweep");
	ASSERT_OK(sweep(&e), "sweep");
	t = count_sessions(&e, 1);
	EXPECT_EQ(t.entries, 3000, "session entries after the sweep");
	EXPECT_EQ(t.wrong, 0, "sessions without exactly their one packet");
	EXPECT_EQ(count_requests(&e), 3000, "states with opener and request time");
	bench_defer__destroy(e.skel);
}

TEST(second_packets_before_the_sweep_count_once)
{
	struct defer_env e = {};
	struct tally t;

	ASSERT_OK(env_open(&e), "load bench_defer");
	ASSERT_OK(run_new(&e, 1, 3000), "3000 new tuples");
	ASSERT_OK(run_new(&e, 1, 3000), "the same 3000 again");
	ASSERT_OK(sweep(&e), "sweep");
	t = count_sessions(&e, 2);
	EXPECT_EQ(t.entries, 3000, "session entries");
	EXPECT_EQ(t.wrong, 0, "sessions without exactly their two packets");
	bench_defer__destroy(e.skel);
}

TEST(a_full_ring_takes_the_path_without_deferral)
{
	const unsigned int over = 500, n = SPILL + ES_FLOW_SLOTS + over;
	struct defer_env e = {};
	struct tally t;

	ASSERT_OK(env_open(&e), "load bench_defer");
	ASSERT_OK(run_new(&e, 1, n), "ring + slots + 500 new tuples");
	t = count_sessions(&e, 1);
	/* every slot is taken long before the ring fills */
	EXPECT_EQ(t.entries, over, "entries inserted by the packets that found the ring full");
	ASSERT_OK(sweep(&e), "sweep");
	t = count_sessions(&e, 1);
	EXPECT_EQ(t.entries, n, "session entries after the sweep");
	EXPECT_EQ(t.pkts, n, "packets");
	EXPECT_EQ(t.wrong, 0, "sessions without exactly their one packet");
	bench_defer__destroy(e.skel);
}

TEST_HARNESS_MAIN
