// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-bench-xdp: per-packet cost of the XDP accounting program measured with
 * BPF_PROG_TEST_RUN, side by side with a program that only returns
 * XDP_PASS, in one process and interleaved rounds. Prints ns/packet and
 * the ratio to XDP_PASS as a table, or as JSON with --json.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <jansson.h>
#include <edgeshift/session.h>
#include "bpf/accounting_skel.h"
#include "xdp_pass.skel.h"
#include "bench_naive.skel.h"
#include "testing/pkt_build.h"
#include "tool/opts.h"

#define BENCH_ROUNDS	7

struct bench_opts {
	unsigned int	repeat;		/* iterations per test_run for repeated cases */
	unsigned int	new_sessions;	/* distinct packets for the new-session case */
	bool		json;
};

struct bench_case {
	const char	*name;
	const char	*what;
	double		ns[BENCH_ROUNDS];
	double		base_ns[BENCH_ROUNDS];
	double		median, base_median;
};

static int run_once(int prog_fd, void *pkt, size_t len, unsigned int repeat,
		    unsigned int *duration)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = pkt,
		.data_size_in = len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = repeat,
	);
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &topts);
	if (err)
		return err;
	if (topts.retval != XDP_PASS)
		return -EINVAL;
	*duration = topts.duration;
	return 0;
}

/* ns per packet of `repeat` runs of one packet. */
static int time_repeated(int prog_fd, void *pkt, size_t len, unsigned int repeat,
			 double *ns)
{
	unsigned int d;
	int err = run_once(prog_fd, pkt, len, repeat, &d);

	*ns = d;
	return err;
}

/* ns per packet over n packets that differ in source port: each is new. */
static int time_distinct(int prog_fd, struct es_pkt_spec *spec, unsigned int n,
			 unsigned int round, double *ns)
{
	uint8_t pkt[256];
	unsigned long long sum = 0;
	unsigned int i, d;
	size_t len;
	int err;

	for (i = 0; i < n; i++) {
		spec->sport = 1 + (i % 60000);
		spec->dport = 1 + round * 7 + i / 60000;
		len = es_pkt_build(spec, pkt, sizeof(pkt));
		err = run_once(prog_fd, pkt, len, 1, &d);
		if (err)
			return err;
		sum += d;
	}
	*ns = (double)sum / n;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v)
{
	double s[BENCH_ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, BENCH_ROUNDS, sizeof(double), cmp_double);
	return s[BENCH_ROUNDS / 2];
}

static void spec_tcp_ack(struct es_pkt_spec *spec)
{
	es_pkt_spec_init(spec);
	spec->proto = IPPROTO_TCP;
	spec->tcp_flags = 0x10;
	spec->payload = 6;	/* 60-byte frame: the smallest on the wire */
}

static int bench_repeated(struct bench_case *bc, int acct_fd, int pass_fd,
			  struct es_pkt_spec *spec, unsigned int repeat)
{
	uint8_t pkt[256];
	size_t len = es_pkt_build(spec, pkt, sizeof(pkt));
	unsigned int d;
	int r, err;

	err = run_once(acct_fd, pkt, len, 1, &d);	/* create the session */
	for (r = 0; !err && r < BENCH_ROUNDS; r++) {
		err = time_repeated(pass_fd, pkt, len, repeat, &bc->base_ns[r]);
		if (!err)
			err = time_repeated(acct_fd, pkt, len, repeat, &bc->ns[r]);
	}
	return err;
}

static int bench_new(struct bench_case *bc, int acct_fd, int pass_fd,
		     struct es_pkt_spec *spec, unsigned int n)
{
	int r, err = 0;

	for (r = 0; !err && r < BENCH_ROUNDS; r++) {
		err = time_distinct(pass_fd, spec, n, r, &bc->base_ns[r]);
		if (!err)
			err = time_distinct(acct_fd, spec, n, r, &bc->ns[r]);
	}
	return err;
}

static void report(struct bench_case *cases, int n, const struct bench_opts *o)
{
	json_t *root, *arr;
	int i;

	for (i = 0; i < n; i++) {
		cases[i].median = median(cases[i].ns);
		cases[i].base_median = median(cases[i].base_ns);
	}
	if (!o->json) {
		printf("%-22s %12s %12s %8s  %s\n", "case", "ns/pkt", "XDP_PASS ns",
		       "ratio", "what");
		for (i = 0; i < n; i++)
			printf("%-22s %12.1f %12.1f %7.2fx  %s\n", cases[i].name,
			       cases[i].median, cases[i].base_median,
			       cases[i].median / cases[i].base_median, cases[i].what);
		printf("(median of %d interleaved rounds; repeat %u, %u new sessions per round)\n",
		       BENCH_ROUNDS, o->repeat, o->new_sessions);
		return;
	}
	root = json_object();
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:f,s:f,s:f}",
			"case", cases[i].name, "what", cases[i].what,
			"ns_per_pkt", cases[i].median,
			"xdp_pass_ns_per_pkt", cases[i].base_median,
			"ratio", cases[i].median / cases[i].base_median));
	json_object_set_new(root, "rounds", json_integer(BENCH_ROUNDS));
	json_object_set_new(root, "repeat", json_integer(o->repeat));
	json_object_set_new(root, "cases", arr);
	json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
}

#define F(field)	ES_OPT_AT(struct bench_opts, field)
static const struct es_opt opts[] = {
	ES_OPT_UINT(F(repeat), "repeat", 'r', 1, UINT32_MAX, "N",
		    "iterations per test run of the repeated cases (default 1000000)"),
	ES_OPT_UINT(F(new_sessions), "new-sessions", 'n', 1, UINT32_MAX, "N",
		    "distinct packets of the new-session case (default 20000)"),
	ES_OPT_BOOL(F(json), "json", 'j', "the results as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-bench-xdp",
	.opts	= opts,
	.usage	= "[--repeat N] [--new-sessions N] [--json]",
};

/* 0 to run, 1 when help was printed, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int n;

	o->repeat = 1000000;
	o->new_sessions = 20000;
	n = es_opts_parse(&cli, argc, argv, o);
	return n > 0 ? 0 : n == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
	struct bench_case cases[] = {
		{ .name = "tcp_existing_v4", .what = "TCP ACK of a known IPv4 session" },
		{ .name = "udp_existing_v4", .what = "UDP request of a known IPv4 session" },
		{ .name = "tcp_existing_v6", .what = "TCP ACK of a known IPv6 session" },
		{ .name = "udp_new_v4", .what = "first packet of a new UDP session" },
		{ .name = "naive_tcp_existing_v4", .what = "same TCP ACK, naive design (shared LRU, 44-byte key, ktime, atomics)" },
	};
	struct accounting *acct = NULL;
	struct xdp_pass *pass = NULL;
	struct bench_naive *naive = NULL;
	struct es_pkt_spec spec;
	struct bench_opts o = {};
	int acct_fd, pass_fd, err = 1;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? 2 : 0;
	err = 1;
	acct = es_accounting_open(NULL);
	if (!acct)
		goto out;
	es_accounting_size_sessions(acct, 1 << 20);
	if (accounting__load(acct))
		goto out;
	pass = xdp_pass__open_and_load();
	if (!pass)
		goto out;
	naive = bench_naive__open_and_load();
	if (!naive)
		goto out;
	acct_fd = bpf_program__fd(acct->progs.es_xdp_ingress);
	pass_fd = bpf_program__fd(pass->progs.es_xdp_pass);

	spec_tcp_ack(&spec);
	err = bench_repeated(&cases[0], acct_fd, pass_fd, &spec, o.repeat);
	es_pkt_spec_init(&spec);
	spec.payload = 18;
	if (!err)
		err = bench_repeated(&cases[1], acct_fd, pass_fd, &spec, o.repeat);
	spec_tcp_ack(&spec);
	spec.family = AF_INET6;
	es_pkt_spec_addr(&spec, 0, "fd00::1");
	es_pkt_spec_addr(&spec, 1, "fd00::2");
	if (!err)
		err = bench_repeated(&cases[2], acct_fd, pass_fd, &spec, o.repeat);
	es_pkt_spec_init(&spec);
	spec.payload = 18;
	if (!err)
		err = bench_new(&cases[3], acct_fd, pass_fd, &spec, o.new_sessions);
	spec_tcp_ack(&spec);
	if (!err)
		err = bench_repeated(&cases[4], bpf_program__fd(naive->progs.es_xdp_naive),
				     pass_fd, &spec, o.repeat);
	if (err) {
		fprintf(stderr, "es-bench-xdp: BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
		goto out;
	}
	report(cases, 5, &o);
out:
	if (err && !acct)
		fprintf(stderr, "es-bench-xdp: cannot load the BPF programs (root? bpffs?)\n");
	bench_naive__destroy(naive);
	xdp_pass__destroy(pass);
	accounting__destroy(acct);
	return err ? 1 : 0;
}
