// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exactness of the counters when two CPUs account the same sessions at
 * once. Each CPU counts a known session in its own flow cache slot without
 * atomics, and the shared session entry takes atomic adds from both CPUs
 * (and from their sweeps); a session created by two CPUs at the same time
 * must keep the packets of both. Two threads, pinned to two different
 * CPUs, run BPF_PROG_TEST_RUN together; afterwards the sums must be exact.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <edgeshift/session.h>
#include "bpf/accounting_skel.h"
#include "testing/pkt_build.h"
#include "util/clock.h"
#include "harness.h"
#include "bpf/flow_index.h"

#define IFINDEX_LO	1
#define TC_ACT_UNSPEC	(-1)
#define PKT_LEN_MAX	128
#define REPEAT		500000
#define N_NEW		2000
#define MAP_SIZE	16384	/* well above N_NEW: no LRU eviction */

/* Two threads meet here before each packet; spinning keeps them close. */
struct spin_barrier {
	unsigned int	arrived;
	unsigned int	generation;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	asm volatile("yield" ::: "memory");
#else
	asm volatile("" ::: "memory");
#endif
}

static void spin_barrier_wait(struct spin_barrier *b)
{
	unsigned int gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
		cpu_relax();
}

struct pkt {
	uint8_t		data[PKT_LEN_MAX];
	size_t		len;
};

/* One thread's share: n packets, each run `repeat` times. */
struct worker {
	pthread_t		thread;
	int			cpu;
	int			prog_fd;
	bool			tc;
	const struct pkt	*pkts;
	unsigned int		n_pkts;
	unsigned int		repeat;
	struct spin_barrier	*barrier;
	/* results */
	int			err;
	int			bad_verdicts;
	__u32			last_bad_verdict;
	__u64			start_ns, end_ns;
};

FIXTURE(conc) {
	struct accounting	*skel;
	int			xdp_fd, tc_fd;
	int			ncpus;
	int			cpu[2];		/* the two CPUs the threads use */
};

/* The first two CPUs this process may run on. */
static int pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int i, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	return n;
}

FIXTURE_SETUP(conc)
{
	struct accounting *skel;

	es_harness_require_root();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || pick_cpus(self->cpu) < 2)
		SKIP("needs two CPUs to run on");
	skel = es_accounting_open(NULL);
	ASSERT_OK_PTR(skel, "accounting__open");
	self->skel = skel;
	es_accounting_size_sessions(skel, MAP_SIZE);
	ASSERT_OK(accounting__load(skel), "accounting__load");
	self->xdp_fd = bpf_program__fd(skel->progs.es_xdp_ingress);
	self->tc_fd = bpf_program__fd(skel->progs.es_tc_egress);
	self->ncpus = libbpf_num_possible_cpus();
	ASSERT_GT(self->ncpus, self->cpu[1], "possible CPUs cover the chosen ones");
}

FIXTURE_TEARDOWN(conc)
{
	accounting__destroy(self->skel);
}

static int run_once(const struct worker *w, const struct pkt *p, __u32 *retval)
{
	struct xdp_md xdp = { .data_end = p->len, .ingress_ifindex = IFINDEX_LO };
	struct __sk_buff skb = { .ifindex = IFINDEX_LO };
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = p->data,
		.data_size_in = p->len,
		.repeat = w->repeat,
	);
	int err;

	if (w->tc) {
		topts.ctx_in = &skb;
		topts.ctx_size_in = sizeof(skb);
	} else {
		topts.ctx_in = &xdp;
		topts.ctx_size_in = sizeof(xdp);
	}
	err = bpf_prog_test_run_opts(w->prog_fd, &topts);
	*retval = topts.retval;
	return err;
}

/*
 * Threads report errors in their struct rather than with ASSERT, and keep
 * meeting the barrier after one, so the other thread is never left waiting.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	__u32 want = w->tc ? (__u32)TC_ACT_UNSPEC : XDP_PASS, retval;
	unsigned int i;
	int err;

	for (i = 0; i < w->n_pkts; i++) {
		spin_barrier_wait(w->barrier);
		if (i == 0)
			w->start_ns = es_now_ns();
		if (w->err)
			continue;
		err = run_once(w, &w->pkts[i], &retval);
		if (err) {
			w->err = err;
		} else if (retval != want) {
			w->bad_verdicts++;
			w->last_bad_verdict = retval;
		}
	}
	w->end_ns = es_now_ns();
	return NULL;
}

/* Start both workers pinned to their CPUs from birth, and wait for them. */
static void run_workers(FIXTURE_DATA(conc) *self, struct worker w[2])
{
	struct spin_barrier barrier = {};
	pthread_attr_t attr;
	cpu_set_t set;
	int i;

	for (i = 0; i < 2; i++) {
		w[i].cpu = self->cpu[i];
		w[i].prog_fd = w[i].tc ? self->tc_fd : self->xdp_fd;
		w[i].barrier = &barrier;
		CPU_ZERO(&set);
		CPU_SET(w[i].cpu, &set);
		ASSERT_OK(pthread_attr_init(&attr), "pthread_attr_init");
		ASSERT_OK(pthread_attr_setaffinity_np(&attr, sizeof(set), &set),
			  "pthread_attr_setaffinity_np");
		ASSERT_OK(pthread_create(&w[i].thread, &attr, worker_main, &w[i]),
			  "pthread_create");
		pthread_attr_destroy(&attr);
	}
	for (i = 0; i < 2; i++)
		ASSERT_OK(pthread_join(w[i].thread, NULL), "pthread_join");
	for (i = 0; i < 2; i++) {
		EXPECT_OK(w[i].err, w[i].tc ? "TC test run" : "XDP test run");
		if (w[i].bad_verdicts)
			TEST_LOG("worker %d: verdict %d", i, (int)w[i].last_bad_verdict);
		EXPECT_EQ(w[i].bad_verdicts, 0, "runs with an unexpected verdict");
	}
	ASSERT_TRUE(!w[0].err && !w[1].err, "both workers ran");
}

/* Per-CPU value copies of one key: ncpus blocks of `size` rounded to 8. */
static void *percpu_lookup(FIXTURE_DATA(conc) *self, struct bpf_map *map,
			   const void *key, size_t size)
{
	void *vals = calloc(self->ncpus, (size + 7) & ~7UL);

	ASSERT_OK_PTR(vals, "calloc");
	ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(map), key, vals), "per-CPU lookup");
	return vals;
}

/* The session's entry summed over the CPUs plus the flow cache slots holding it. */
static struct es_session_counters sum_counters(FIXTURE_DATA(conc) *self, const void *key)
{
	struct es_session_counters sum = {};
	struct es_maps m;
	bool cached;

	es_maps_from_skel(&m, self->skel);
	ASSERT_OK(es_session_read_exact(&m, ES_FAMILY_INET, key, &sum, &cached),
		  "session readable");
	return sum;
}

/* Sum a per-CPU value made only of __u64 counters. */
static void sum_u64(FIXTURE_DATA(conc) *self, struct bpf_map *map, const void *key,
		    void *out, size_t size)
{
	size_t stride = (size + 7) / 8, n = size / 8, i;
	__u64 *vals = percpu_lookup(self, map, key, size), *sum = out;
	int cpu;

	memset(out, 0, size);
	for (cpu = 0; cpu < self->ncpus; cpu++)
		for (i = 0; i < n; i++)
			sum[i] += vals[cpu * stride + i];
	free(vals);
}

static struct es_iface_traffic lo_traffic(FIXTURE_DATA(conc) *self)
{
	struct es_iface_traffic t;
	__u32 key = IFINDEX_LO;

	sum_u64(self, self->skel->maps.es_iface_traffic, &key, &t, sizeof(t));
	return t;
}

static struct es_iface_stats lo_stats(FIXTURE_DATA(conc) *self)
{
	struct es_iface_stats s;
	__u32 key = IFINDEX_LO;

	sum_u64(self, self->skel->maps.es_iface_stats, &key, &s, sizeof(s));
	return s;
}

static int count_entries(struct bpf_map *map)
{
	struct es_session_key6 key, next;	/* the largest key of our maps */
	int fd = bpf_map__fd(map), n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static void build_udp(struct pkt *p, const char *src, const char *dst,
		      uint16_t sport, uint16_t dport)
{
	struct es_pkt_spec spec;

	es_pkt_spec_init(&spec);
	ASSERT_OK(es_pkt_spec_addr(&spec, 0, src), "source address literal");
	ASSERT_OK(es_pkt_spec_addr(&spec, 1, dst), "destination address literal");
	spec.sport = sport;
	spec.dport = dport;
	spec.payload = 18;
	p->len = es_pkt_build(&spec, p->data, sizeof(p->data));
	ASSERT_GT(p->len, 0, "es_pkt_build");
}

/* 10.0.0.1:sport <-> 10.0.0.2:dport, as the program must key it. */
static struct es_session_key4 udp_key(uint16_t sport, uint16_t dport)
{
	struct es_session_key4 k = {
		.addr_lo = htonl(0x0a000001),
		.addr_hi = htonl(0x0a000002),
		.port_lo = htons(sport),
		.port_hi = htons(dport),
		.ifindex = IFINDEX_LO,
		.proto = IPPROTO_UDP,
	};

	return k;
}

/*
 * Without overlap the test proves nothing about concurrency, so say so
 * rather than pass.
 */
static void check_overlap(const struct worker w[2])
{
	bool overlap = w[0].start_ns < w[1].end_ns && w[1].start_ns < w[0].end_ns;

	if (!overlap)
		TEST_LOG("runs did not overlap: [%llu, %llu] and [%llu, %llu]",
			 (unsigned long long)w[0].start_ns, (unsigned long long)w[0].end_ns,
			 (unsigned long long)w[1].start_ns, (unsigned long long)w[1].end_ns);
	EXPECT_TRUE(overlap, "the two threads ran at the same time");
}

/* Both CPUs hammer one session through XDP; not a packet may be lost. */
TEST_F(conc, xdp_two_cpus_one_session_exact)
{
	struct es_session_key4 k = udp_key(1000, 2000);
	struct worker w[2] = {};
	struct es_session_counters sum;
	struct es_iface_traffic t;
	struct pkt pkt;
	int i;

	build_udp(&pkt, "10.0.0.1", "10.0.0.2", 1000, 2000);
	for (i = 0; i < 2; i++) {
		w[i].pkts = &pkt;
		w[i].n_pkts = 1;
		w[i].repeat = REPEAT;
	}
	run_workers(self, w);
	check_overlap(w);

	ASSERT_EQ(count_entries(self->skel->maps.es_sessions4), 1, "sessions");
	sum = sum_counters(self, &k);
	EXPECT_EQ(sum.pkts[ES_DIR_RX], 2ULL * REPEAT, "session pkts[RX]");
	EXPECT_EQ(sum.bytes[ES_DIR_RX], 2ULL * REPEAT * pkt.len, "session bytes[RX]");
	EXPECT_EQ(sum.pkts[ES_DIR_TX], 0, "session pkts[TX]");
	t = lo_traffic(self);
	EXPECT_EQ(t.pkts[ES_DIR_RX], 2ULL * REPEAT, "es_iface_traffic pkts[RX]");
	EXPECT_EQ(t.bytes[ES_DIR_RX], 2ULL * REPEAT * pkt.len, "es_iface_traffic bytes[RX]");
	EXPECT_EQ(lo_stats(self).sessions_created, 1, "sessions_created");
}

/* Requests in through XDP on one CPU, replies out through TC on the other. */
TEST_F(conc, xdp_and_tc_one_session_exact)
{
	struct es_session_key4 k = udp_key(1000, 2000);
	struct es_session_counters sum;
	struct es_session_state st;
	struct es_iface_traffic t;
	struct es_iface_stats s;
	struct worker w[2] = {};
	struct pkt req, rep;
	__u64 hist = 0;
	int b;

	build_udp(&req, "10.0.0.2", "10.0.0.1", 2000, 1000);
	build_udp(&rep, "10.0.0.1", "10.0.0.2", 1000, 2000);
	w[0].pkts = &req;
	w[1].pkts = &rep;
	w[1].tc = true;
	w[0].n_pkts = w[1].n_pkts = 1;
	w[0].repeat = w[1].repeat = REPEAT;
	run_workers(self, w);
	check_overlap(w);

	ASSERT_EQ(count_entries(self->skel->maps.es_sessions4), 1, "sessions");
	sum = sum_counters(self, &k);
	EXPECT_EQ(sum.pkts[ES_DIR_RX], REPEAT, "session pkts[RX]");
	EXPECT_EQ(sum.pkts[ES_DIR_TX], REPEAT, "session pkts[TX]");
	EXPECT_EQ(sum.bytes[ES_DIR_RX], (__u64)REPEAT * req.len, "session bytes[RX]");
	EXPECT_EQ(sum.bytes[ES_DIR_TX], (__u64)REPEAT * rep.len, "session bytes[TX]");
	t = lo_traffic(self);
	EXPECT_EQ(t.pkts[ES_DIR_RX], REPEAT, "es_iface_traffic pkts[RX]");
	EXPECT_EQ(t.pkts[ES_DIR_TX], REPEAT, "es_iface_traffic pkts[TX]");
	EXPECT_EQ(t.bytes[ES_DIR_TX], (__u64)REPEAT * rep.len, "es_iface_traffic bytes[TX]");

	/*
	 * Every request/response sample goes to the shared state (atomics)
	 * and to the per-CPU interface stats: the two tallies must agree.
	 */
	ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.es_session_state4),
				      &k, &st), "session state");
	s = lo_stats(self);
	EXPECT_EQ(s.sessions_created, 1, "sessions_created");
	EXPECT_EQ(s.lat_count[ES_LAT_SERVICE] + s.lat_count[ES_LAT_RESPONSE],
		  st.lat_count, "interface samples vs session samples");
	EXPECT_EQ(s.lat_sum_ns[ES_LAT_SERVICE] + s.lat_sum_ns[ES_LAT_RESPONSE],
		  st.lat_sum_ns, "interface sample sum vs session sample sum");
	for (b = 0; b < ES_LAT_BUCKETS; b++)
		hist += s.lat_hist[ES_LAT_SERVICE][b] + s.lat_hist[ES_LAT_RESPONSE][b];
	EXPECT_EQ(hist, st.lat_count, "histogram total vs session samples");
	EXPECT_EQ(s.lat_count[ES_LAT_TCP_HANDSHAKE], 0, "no handshake samples for UDP");
}

/* The first packet of N_NEW sessions, from the peer or from us. */
static struct pkt *new_session_pkts(bool from_peer)
{
	struct pkt *pkts = calloc(N_NEW, sizeof(*pkts));
	unsigned int i;

	ASSERT_OK_PTR(pkts, "calloc");
	for (i = 0; i < N_NEW; i++) {
		if (from_peer)
			build_udp(&pkts[i], "10.0.0.2", "10.0.0.1", 2000, 10000 + i);
		else
			build_udp(&pkts[i], "10.0.0.1", "10.0.0.2", 10000 + i, 2000);
	}
	return pkts;
}

/* Each session must hold exactly one packet per direction listed. */
static void check_new_sessions(FIXTURE_DATA(conc) *self, unsigned int rx, unsigned int tx,
			       size_t len)
{
	unsigned int i, bad = 0;
	struct es_iface_traffic t;

	EXPECT_EQ(count_entries(self->skel->maps.es_sessions4), N_NEW, "sessions");
	EXPECT_EQ(count_entries(self->skel->maps.es_session_state4), N_NEW, "session states");
	for (i = 0; i < N_NEW; i++) {
		struct es_session_key4 k = udp_key(10000 + i, 2000);
		struct es_session_counters c = sum_counters(self, &k);

		if (c.pkts[ES_DIR_RX] == rx && c.pkts[ES_DIR_TX] == tx &&
		    c.bytes[ES_DIR_RX] == rx * len && c.bytes[ES_DIR_TX] == tx * len)
			continue;
		if (bad++ < 5)
			TEST_LOG("session %u: pkts rx %llu tx %llu, bytes rx %llu tx %llu", i,
				 (unsigned long long)c.pkts[ES_DIR_RX],
				 (unsigned long long)c.pkts[ES_DIR_TX],
				 (unsigned long long)c.bytes[ES_DIR_RX],
				 (unsigned long long)c.bytes[ES_DIR_TX]);
	}
	EXPECT_EQ(bad, 0, "sessions with a wrong count");
	EXPECT_EQ(lo_stats(self).sessions_created, N_NEW, "sessions_created");
	t = lo_traffic(self);
	EXPECT_EQ(t.pkts[ES_DIR_RX], (__u64)rx * N_NEW, "es_iface_traffic pkts[RX]");
	EXPECT_EQ(t.pkts[ES_DIR_TX], (__u64)tx * N_NEW, "es_iface_traffic pkts[TX]");
}

/* Both CPUs send the first packet of each new session at the same time. */
TEST_F(conc, xdp_racing_session_creation)
{
	struct pkt *pkts = new_session_pkts(false);
	struct worker w[2] = {};
	int i;

	for (i = 0; i < 2; i++) {
		w[i].pkts = pkts;
		w[i].n_pkts = N_NEW;
		w[i].repeat = 1;
	}
	run_workers(self, w);
	check_overlap(w);
	check_new_sessions(self, 2, 0, pkts[0].len);
	free(pkts);
}

/*
 * A request in (XDP) and its reply out (TC) race to create each new
 * session.
 */
TEST_F(conc, xdp_and_tc_racing_session_creation)
{
	struct pkt *req = new_session_pkts(true), *rep = new_session_pkts(false);
	struct worker w[2] = {};
	int i;

	w[0].pkts = req;
	w[1].pkts = rep;
	w[1].tc = true;
	for (i = 0; i < 2; i++) {
		w[i].n_pkts = N_NEW;
		w[i].repeat = 1;
	}
	run_workers(self, w);
	check_overlap(w);
	check_new_sessions(self, 1, 1, req[0].len);
	free(req);
	free(rep);
}

TEST_HARNESS_MAIN
