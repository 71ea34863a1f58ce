// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-bench-fwd: per-packet cost of the migration ingress program
 * (es_mig_xdp_ingress: accounting + forwarding) measured with
 * BPF_PROG_TEST_RUN, side by side with the accounting-only program
 * (es_xdp_ingress) on the same UDP request, in interleaved rounds. The TCP
 * cases: a user's segment forwarded and mirrored, and the old container's
 * full-sized segment coming back through the tunnel to the target, whose
 * bytes are hashed into the stream's 64-byte blocks (es_mig_xdp_wan; each
 * run a new sequence number, so every run hashes, as a stream does); and
 * a user's segment with timestamps on a connection the restored container
 * accepted itself, translated into its sequence space (es_mig_xlate).
 *
 * Each run is one packet (repeat 1): an encapsulating program changes the
 * packet it is given, so a repeated run would encapsulate its own output.
 * A single run's duration holds the test run's own fixed cost (the clock
 * reads around the program), the same on both sides, which pulls every
 * ratio towards 1: an empty XDP program (es_xdp_pass) is timed the same
 * way in the same rounds, and the ratios are given both raw and net of it.
 * Run it in a network namespace where --source is routed through a
 * resolved neighbour (tools/bench/bench.d/forwarding.sh sets one up): the FIB
 * lookup of the forwarding path must succeed as on a node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <jansson.h>
#include "bpf/accounting_skel.h"
#include "migctl/ctl.h"
#include "migctl/xlate.h"
#include "replay/replay.h"
#include "migration.skel.h"
#include "xdp_pass.skel.h"
#include "testing/pkt_build.h"
#include "testing/tun_build.h"
#include "tool/opts.h"
#include "tool/tool_util.h"

#define PROG		"es-bench-fwd"
#define ROUNDS		7
#define TUN_PORT	47000

enum bench_case_id {
	CASE_IDLE, CASE_PASS, CASE_FWD, CASE_MIRROR, CASE_TCP_MIRROR, CASE_TCP_OLD, CASE_TCP_XLATE,
	CASE_MAX
};

/* The old container's segment: a full-sized one (MSS 1448 with timestamps). */
#define TCP_OLD_PAYLOAD	1448
/*
 * Runs a round of that case: 7 rounds of 23 blocks a segment stay inside
 * es_mig_tcpblk's 65,536 (4 MiB of stream, more than a migration window
 * holds), so the LRU map never recycles an entry while being timed; with
 * it recycling, a segment costs about twice as much.
 */
#define TCP_OLD_RUNS	256
/* Where the TCP sequence number sits in the tunnelled frame. */
#define TCP_OLD_SEQ_OFF	(14 + ES_MIG_ENCAP_LEN + 20 + 4)

struct bench_case {
	const char	*name;
	const char	*what;
	uint16_t	sport;		/* the session of this case */
	double		ns[ROUNDS], base_ns[ROUNDS], pass_ns[ROUNDS];
	double		median, base_median, pass_median;
};

struct bench {
	struct accounting	*acct;
	struct migration	*mig;
	struct xdp_pass		*pass;
	struct es_mig_dp	dp;
	int			acct_fd, mig_fd, pass_fd, wan_fd;
	__u32			local[4];	/* IPv4 mapped, as es_mig_key's */
	unsigned int		runs;
	__u32			source[4];
};

static int run_one(int fd, const uint8_t *pkt, size_t len, unsigned int *ns, uint32_t *verdict)
{
	uint8_t out[2048];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt, .data_size_in = len,
		.data_out = out, .data_size_out = sizeof(out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
	);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration;
	*verdict = o.retval;
	return 0;
}

/*
 * Mean ns of runs runs of the packet; the verdict must be want. With
 * seq_step, each run's TCP segment comes seq_step further in the stream.
 */
static int time_runs_seq(int fd, const uint8_t *in, size_t len, uint32_t want,
			 uint32_t seq_step, unsigned int runs, double *mean)
{
	unsigned int i, ns;
	unsigned long long sum = 0;
	uint8_t pkt[2048];
	/* the stream goes on across rounds: every run hashes bytes new to its blocks */
	static uint32_t seq = 1000000;
	uint32_t verdict;
	int err;

	if (len > sizeof(pkt))
		return -EINVAL;
	memcpy(pkt, in, len);
	for (i = 0; i < runs; i++) {
		if (seq_step) {
			seq += seq_step;
			*(uint32_t *)(pkt + TCP_OLD_SEQ_OFF) = htonl(seq);
		}
		err = run_one(fd, pkt, len, &ns, &verdict);
		if (err)
			return err;
		if (verdict != want) {
			fprintf(stderr, PROG ": verdict %u, want %u (route to the source?)\n",
				verdict, want);
			return -EINVAL;
		}
		sum += ns;
	}
	*mean = (double)sum / runs;
	return 0;
}

/* A packet from src:sport to dst:dport (the user is 10.1.0.2, the service 10.4.0.10:7000). */
static void spec_between(struct es_pkt_spec *spec, const char *src, uint16_t sport,
			 const char *dst, uint16_t dport)
{
	es_pkt_spec_init(spec);
	es_pkt_spec_addr(spec, 0, src);
	es_pkt_spec_addr(spec, 1, dst);
	spec->sport = sport;
	spec->dport = dport;
}

/* The user's request (UDP, or a TCP segment with 64 bytes of payload). */
static size_t request(uint16_t sport, bool tcp, uint8_t *buf, size_t cap)
{
	struct es_pkt_spec spec;

	spec_between(&spec, "10.1.0.2", sport, "10.4.0.10", 7000);
	spec.payload = 18;
	if (tcp) {
		spec.proto = IPPROTO_TCP;
		spec.tcp_flags = 0x18;	/* PSH, ACK */
		spec.payload = 64;
	}
	return es_pkt_build(&spec, buf, cap);
}

/*
 * The user's TCP segment with a timestamp option (NOP NOP TS, as Linux
 * sends them) before its 64 bytes: what the translation rewrites.
 */
static size_t request_ts(uint16_t sport, uint8_t *buf, size_t cap)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0 };
	struct es_pkt_spec spec;
	size_t len;

	spec_between(&spec, "10.1.0.2", sport, "10.4.0.10", 7000);
	spec.proto = IPPROTO_TCP;
	spec.tcp_flags = 0x18;
	spec.payload = 64 + sizeof(ts);
	len = es_pkt_build(&spec, buf, cap);
	if (!len)
		return 0;
	/* the first 12 bytes of payload become options: doff 8 (the checksum is not looked at) */
	buf[14 + 20 + 12] = 8 << 4;
	memcpy(buf + 14 + 20 + 20, ts, sizeof(ts));
	return len;
}

/* The old container's full-sized segment to the user, as the source tunnels it back. */
static size_t old_segment(const struct bench *b, uint16_t sport, uint8_t *buf, size_t cap)
{
	struct es_tun_spec t = { .src = b->source[3], .dst = b->local[3], .port = TUN_PORT,
				 .type = ES_MIG_TUN_REPLY, .seq = 1 };
	struct es_pkt_spec spec;
	uint8_t inner[2048];
	size_t len;

	spec_between(&spec, "10.4.0.10", 7000, "10.1.0.2", sport);
	spec.proto = IPPROTO_TCP;
	spec.tcp_flags = 0x18;
	spec.payload = TCP_OLD_PAYLOAD;
	len = es_pkt_build(&spec, inner, sizeof(inner));
	if (!len || len + ES_MIG_ENCAP_LEN > cap)
		return 0;
	return es_tun_build(&t, inner, len, buf);
}

static struct es_mig_key key_of(uint16_t sport, bool tcp)
{
	struct es_mig_key k = { .proto = tcp ? IPPROTO_TCP : IPPROTO_UDP };

	es_mig_addr4(k.user_addr, inet_addr("10.1.0.2"));
	es_mig_addr4(k.svc_addr, inet_addr("10.4.0.10"));
	k.user_port = htons(sport);
	k.svc_port = htons(7000);
	return k;
}

/* A fresh session for the round: the mirror cases start with an empty buffer. */
static int session_reset(const struct bench *b, const struct bench_case *c, enum bench_case_id id)
{
	bool tcp = id >= CASE_TCP_MIRROR;
	struct es_mig_key k = key_of(c->sport, tcp);

	if (id == CASE_TCP_XLATE) {	/* no migration session: its translation only */
		es_mig_xlate_del(&b->dp, &k);
		return es_mig_xlate_add(&b->dp, &k, 0x10000, 0x100, ES_MIG_XLATE_TS);
	}
	es_mig_finish(&b->dp, &k, NULL);
	return es_mig_start(&b->dp, &k, b->source, id != CASE_FWD, b->runs + 1);
}

static int bench_case(struct bench *b, struct bench_case *c, enum bench_case_id id)
{
	uint8_t pkt[2048];
	size_t len = id == CASE_TCP_OLD ? old_segment(b, c->sport, pkt, sizeof(pkt)) :
		     id == CASE_TCP_XLATE ? request_ts(c->sport, pkt, sizeof(pkt)) :
		     request(c->sport, id == CASE_TCP_MIRROR, pkt, sizeof(pkt));
	uint32_t want = id <= CASE_PASS || id >= CASE_TCP_OLD ? XDP_PASS : XDP_REDIRECT;
	int fd = id == CASE_TCP_OLD ? b->wan_fd : b->mig_fd;
	uint32_t step = id == CASE_TCP_OLD ? TCP_OLD_PAYLOAD : 0;
	/* every program of a case runs as many times, so both sides of a ratio match */
	unsigned int runs = step && b->runs > TCP_OLD_RUNS ? TCP_OLD_RUNS : b->runs;
	unsigned int ns;
	uint32_t v;
	int r, err;

	if (!len)
		return -EINVAL;
	err = run_one(b->acct_fd, pkt, len, &ns, &v);	/* the accounting session exists */
	for (r = 0; !err && r < ROUNDS; r++) {
		err = time_runs_seq(b->pass_fd, pkt, len, XDP_PASS, 0, runs, &c->pass_ns[r]);
		if (!err)
			err = time_runs_seq(b->acct_fd, pkt, len, XDP_PASS, 0, runs, &c->base_ns[r]);
		if (!err && id > CASE_PASS)
			err = session_reset(b, c, id);
		if (!err)
			err = time_runs_seq(fd, pkt, len, want, step, runs, &c->ns[r]);
	}
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v)
{
	double s[ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, ROUNDS, sizeof(double), cmp_double);
	return s[ROUNDS / 2];
}

/* (a - fixed) / (b - fixed): the programs' own costs, without the test run's. */
static double net_ratio(double a, double b, double fixed)
{
	return b > fixed ? (a - fixed) / (b - fixed) : 0;
}

static void report(struct bench_case *cases, unsigned int runs, bool json)
{
	json_t *root = json_object(), *arr = json_array();
	struct bench_case *c;
	int i;

	for (i = 0; i < CASE_MAX; i++) {
		c = &cases[i];
		c->median = median(c->ns);
		c->base_median = median(c->base_ns);
		c->pass_median = median(c->pass_ns);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f}",
			"case", c->name, "what", c->what, "ns_per_pkt", c->median,
			"accounting_ns_per_pkt", c->base_median, "xdp_pass_ns_per_pkt",
			c->pass_median, "ratio", c->median / c->base_median, "ratio_net",
			net_ratio(c->median, c->base_median, c->pass_median)));
	}
	json_object_set_new(root, "rounds", json_integer(ROUNDS));
	json_object_set_new(root, "runs_per_round", json_integer(runs));
	json_object_set_new(root, "cases", arr);
	if (json) {
		json_dumpf(root, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		printf("%-18s %9s %10s %9s %7s %7s  %s\n", "case", "ns/pkt", "acct ns",
		       "pass ns", "ratio", "net", "what");
		for (i = 0; i < CASE_MAX; i++) {
			c = &cases[i];
			printf("%-18s %9.1f %10.1f %9.1f %6.2fx %6.2fx  %s\n", c->name, c->median,
			       c->base_median, c->pass_median, c->median / c->base_median,
			       net_ratio(c->median, c->base_median, c->pass_median), c->what);
		}
		printf("(median of %d interleaved rounds of %u single-packet runs, %u for %s, "
		       "every program of a case as many; net: less the empty program's time, the "
		       "test run's own)\n", ROUNDS, runs, runs < TCP_OLD_RUNS ? runs : TCP_OLD_RUNS,
		       cases[CASE_TCP_OLD].name);
	}
	json_decref(root);
}

static int load(struct bench *b, const char *local)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);

	b->acct = es_accounting_open(NULL);
	if (!b->acct || accounting__load(b->acct))
		return -1;
	if (es_kernel_config_missing())
		oo.kconfig = ES_KCONFIG_FALLBACK;
	b->mig = migration__open_opts(&oo);
	if (!b->mig)
		return -1;
	bpf_map__set_max_entries(b->mig->maps.es_mig_replay, b->runs + 16);
	if (migration__load(b->mig))
		return -1;
	es_mig_dp_from_skel(&b->dp, b->mig);
	b->pass = xdp_pass__open_and_load();
	if (!b->pass)
		return -1;
	b->pass_fd = bpf_program__fd(b->pass->progs.es_xdp_pass);
	b->acct_fd = bpf_program__fd(b->acct->progs.es_xdp_ingress);
	b->mig_fd = bpf_program__fd(b->mig->progs.es_mig_xdp_ingress);
	b->wan_fd = bpf_program__fd(b->mig->progs.es_mig_xdp_wan);
	es_mig_addr4(b->local, inet_addr(local));
	return es_mig_config_set(&b->dp, b->local, TUN_PORT, b->runs + 1);
}

struct fwd_args {
	const char	*local, *source;
	unsigned int	runs;
	bool		json;
};

#define F(field)	ES_OPT_AT(struct fwd_args, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(local), "local", 'l', "ADDR", "the node's tunnel address"),
	ES_OPT_STR(F(source), "source", 's', "ADDR", "the source node (IPv4)"),
	ES_OPT_UINT(F(runs), "runs", 'n', 1, UINT32_MAX, "N",
		    "packets per round (default 20000)"),
	ES_OPT_BOOL(F(json), "json", 'j', "the results as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= PROG,
	.opts	= opts,
	.usage	= "--local ADDR --source ADDR [--runs N] [--json]",
};

int main(int argc, char **argv)
{
	struct bench_case cases[CASE_MAX] = {
		[CASE_IDLE] = { "no_migration", "UDP request, nothing migrating on the node", 5000 },
		[CASE_PASS] = { "not_migrating", "UDP request of a session not migrating, others are", 5000 },
		[CASE_FWD] = { "forwarding", "encapsulated and redirected to the source", 5001 },
		[CASE_MIRROR] = { "forwarding_mirror", "same, plus a copy in the replay buffer", 5002 },
		[CASE_TCP_MIRROR] = { "tcp_forwarding_mirror",
				      "TCP segment (64 B): forwarded and mirrored", 5003 },
		[CASE_TCP_OLD] = { "tcp_old_hashed",
				   "old container's 1448 B segment through the tunnel, hashed", 5004 },
		[CASE_TCP_XLATE] = { "tcp_translated",
				     "TCP segment (64 B, timestamps) translated to the restored socket",
				     5005 },
	};
	struct fwd_args a = { .runs = 20000 };
	struct bench b = { };
	int n, i, err = 0;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	b.runs = a.runs;
	if (!a.local || !a.source || inet_pton(AF_INET, a.source, &b.source[3]) != 1) {
		fprintf(stderr, PROG ": --local and --source (IPv4) and --runs > 0 are required\n");
		return 2;
	}
	es_mig_addr4(b.source, b.source[3]);
	if (load(&b, a.local)) {
		fprintf(stderr, PROG ": cannot load the BPF programs: %s\n", strerror(errno));
		err = -1;
		goto out;
	}
	for (i = 0; !err && i < CASE_MAX; i++) {
		if (i == CASE_PASS)
			err = es_mig_set_active(&b.dp, true);
		if (!err)
			err = bench_case(&b, &cases[i], i);
	}
	if (err) {
		fprintf(stderr, PROG ": BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
		goto out;
	}
	report(cases, b.runs, a.json);
out:
	migration__destroy(b.mig);
	xdp_pass__destroy(b.pass);
	accounting__destroy(b.acct);
	return err ? 1 : 0;
}
