// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-bench-xdp: per-packet cost of the XDP accounting program measured with
 * BPF_PROG_TEST_RUN, side by side with a program that only returns
 * XDP_PASS, with the design before the flow cache (bpf/bench_nocache.bpf.c)
 * and with the naive design (bpf/bench_naive.bpf.c), in one process. Every program of every case runs once per round, in an order
 * that rotates from round to round, and each figure is the median over the
 * rounds; a ratio is the median of the per-round ratios, so both sides of
 * it always come from the same round.
 *
 * The new-session case steps the source address on every iteration of one
 * test run (bpf/lib/bench.h) against maps of their default size, filled
 * before the first round: every timed packet inserts a session and evicts
 * one, as under a flood on a node with the default configuration.
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
#include "bench_acct.skel.h"
#include "bench_nocache.skel.h"
#include "testing/pkt_build.h"
#include "tool/opts.h"

#define BENCH_ROUNDS	7
#define SADDR_OFF	(14 + 12)	/* ES_BENCH_SADDR_OFF of bpf/lib/bench.h */
#define DEFAULT_MAP	65536		/* ES_DEFAULT_SESSIONS of bpf/lib/maps.h */

/* The programs of one case, in the columns of the report. */
enum bench_prog {
	P_PASS,		/* XDP_PASS: the floor every ratio divides by */
	P_ES,		/* edgeshift's accounting */
	P_BEFORE,	/* the same code without the flow cache: the design before issue 12 */
	P_NAIVE,	/* the naive design */
	P_MAX,
};

static const char *const prog_keys[P_MAX] = { "xdp_pass", "edgeshift", "before", "naive" };

struct bench_opts {
	unsigned int	repeat;		/* iterations per test run of the known-session cases */
	unsigned int	new_repeat;	/* iterations (= new tuples) per run of the new-session case */
	bool		json;
};

struct bench_case {
	const char	*name;
	const char	*what;
	int		fd[P_MAX];
	bool		new_tuples;	/* the programs step the tuple themselves */
	uint8_t		pkt[256];
	size_t		len;
	double		ns[P_MAX][BENCH_ROUNDS];
	double		med[P_MAX];
	double		ratio[P_MAX];	/* median of per-round ns / XDP_PASS ns */
	double		vs_naive;	/* median of per-round edgeshift ns / naive ns */
	double		vs_before;	/* median of per-round edgeshift ns / before ns */
};

/* Source addresses already used by new-session runs: never reuse one. */
static uint32_t next_saddr = 1;

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

/* ns per packet of one test run; new-tuple runs start past every earlier one. */
static int time_run(struct bench_case *bc, int fd, unsigned int repeat, double *ns)
{
	unsigned int d;
	int err;

	if (bc->new_tuples) {
		memcpy(bc->pkt + SADDR_OFF, &next_saddr, sizeof(next_saddr));
		next_saddr += repeat;
	}
	err = run_once(fd, bc->pkt, bc->len, repeat, &d);
	if (!err && ns)
		*ns = d;
	return err;
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

static double median_ratio(const double *num, const double *den)
{
	double r[BENCH_ROUNDS];
	int i;

	for (i = 0; i < BENCH_ROUNDS; i++)
		r[i] = den[i] > 0 ? num[i] / den[i] : 0;
	return median(r);
}

static unsigned int case_repeat(const struct bench_case *bc, const struct bench_opts *o)
{
	return bc->new_tuples ? o->new_repeat : o->repeat;
}

/*
 * Warm-up, not timed: known sessions get created, the new-session maps
 * filled past their size, and every program's code and data touched.
 */
static int warm_up(struct bench_case *cases, int n, const struct bench_opts *o)
{
	unsigned int rep;
	int c, p, err = 0;

	for (c = 0; !err && c < n; c++) {
		rep = cases[c].new_tuples ? 2 * DEFAULT_MAP : o->repeat / 10 + 1;
		for (p = 0; !err && p < P_MAX; p++)
			err = time_run(&cases[c], cases[c].fd[p], rep, NULL);
	}
	return err;
}

static int bench_rounds(struct bench_case *cases, int n, const struct bench_opts *o)
{
	int r, c, k, p, err;

	err = warm_up(cases, n, o);
	for (r = 0; !err && r < BENCH_ROUNDS; r++) {
		for (c = 0; !err && c < n; c++) {
			for (k = 0; !err && k < P_MAX; k++) {
				p = (k + r) % P_MAX;
				err = time_run(&cases[c], cases[c].fd[p], case_repeat(&cases[c], o),
					       &cases[c].ns[p][r]);
			}
		}
	}
	return err;
}

static void summarise(struct bench_case *bc)
{
	int p;

	for (p = 0; p < P_MAX; p++) {
		bc->med[p] = median(bc->ns[p]);
		bc->ratio[p] = median_ratio(bc->ns[p], bc->ns[P_PASS]);
	}
	bc->vs_naive = median_ratio(bc->ns[P_ES], bc->ns[P_NAIVE]);
	bc->vs_before = median_ratio(bc->ns[P_ES], bc->ns[P_BEFORE]);
}

static void print_table(const struct bench_case *cases, int n, const struct bench_opts *o)
{
	int i;

	printf("%-16s %8s %10s %7s %8s %7s %8s %7s\n", "case", "XDP_PASS", "edgeshift",
	       "ratio", "before", "ratio", "naive", "ratio");
	for (i = 0; i < n; i++)
		printf("%-16s %8.1f %10.1f %6.2fx %8.1f %6.2fx %8.1f %6.2fx  %s\n",
		       cases[i].name, cases[i].med[P_PASS], cases[i].med[P_ES],
		       cases[i].ratio[P_ES], cases[i].med[P_BEFORE], cases[i].ratio[P_BEFORE],
		       cases[i].med[P_NAIVE], cases[i].ratio[P_NAIVE], cases[i].what);
	printf("(ns/pkt: median of %d interleaved rounds; ratios: median of per-round ratios;\n"
	       " before = without the flow cache; repeat %u, new-session runs of %u new tuples\n"
	       " into full %u-entry maps)\n", BENCH_ROUNDS, o->repeat, o->new_repeat, DEFAULT_MAP);
}

static void print_json(const struct bench_case *cases, int n, const struct bench_opts *o)
{
	json_t *root = json_object(), *arr = json_array(), *c;
	int i, p;

	for (i = 0; i < n; i++) {
		c = json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "case",
			      cases[i].name, "what", cases[i].what,
			      "ns_per_pkt", cases[i].med[P_ES],
			      "xdp_pass_ns_per_pkt", cases[i].med[P_PASS],
			      "ratio", cases[i].ratio[P_ES],
			      "before_ns_per_pkt", cases[i].med[P_BEFORE],
			      "before_ratio", cases[i].ratio[P_BEFORE],
			      "vs_before", cases[i].vs_before,
			      "naive_ns_per_pkt", cases[i].med[P_NAIVE],
			      "naive_ratio", cases[i].ratio[P_NAIVE],
			      "vs_naive", cases[i].vs_naive);
		for (p = 0; p < P_MAX; p++) {
			json_t *rounds = json_array();
			char key[32];
			int r;

			for (r = 0; r < BENCH_ROUNDS; r++)
				json_array_append_new(rounds, json_real(cases[i].ns[p][r]));
			snprintf(key, sizeof(key), "rounds_%s", prog_keys[p]);
			json_object_set_new(c, key, rounds);
		}
		json_array_append_new(arr, c);
	}
	json_object_set_new(root, "rounds", json_integer(BENCH_ROUNDS));
	json_object_set_new(root, "repeat", json_integer(o->repeat));
	json_object_set_new(root, "new_repeat", json_integer(o->new_repeat));
	json_object_set_new(root, "new_session_map_entries", json_integer(DEFAULT_MAP));
	json_object_set_new(root, "cases", arr);
	json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
}

#define F(field)	ES_OPT_AT(struct bench_opts, field)
static const struct es_opt opts[] = {
	ES_OPT_UINT(F(repeat), "repeat", 'r', 1, UINT32_MAX, "N",
		    "iterations per test run of the known-session cases (default 1000000)"),
	ES_OPT_UINT(F(new_repeat), "new-repeat", 'n', 1, UINT32_MAX, "N",
		    "new tuples per test run of the new-session case (default 200000)"),
	ES_OPT_BOOL(F(json), "json", 'j', "the results as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-bench-xdp",
	.opts	= opts,
	.usage	= "[--repeat N] [--new-repeat N] [--json]",
};

/* 0 to run, 1 when help was printed, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int n;

	o->repeat = 1000000;
	o->new_repeat = 200000;
	n = es_opts_parse(&cli, argc, argv, o);
	return n > 0 ? 0 : n == 0 ? 1 : -1;
}

static void spec_tcp_ack(struct es_pkt_spec *spec)
{
	es_pkt_spec_init(spec);
	spec->proto = IPPROTO_TCP;
	spec->tcp_flags = 0x10;
	spec->payload = 6;	/* 60-byte frame: the smallest on the wire */
}

static void spec_udp(struct es_pkt_spec *spec)
{
	es_pkt_spec_init(spec);
	spec->payload = 18;
}

static void spec_tcp_ack6(struct es_pkt_spec *spec)
{
	spec_tcp_ack(spec);
	spec->family = AF_INET6;
	es_pkt_spec_addr(spec, 0, "fd00::1");
	es_pkt_spec_addr(spec, 1, "fd00::2");
}

/* The programs under test, each object loaded once. */
struct bench_objs {
	struct accounting	*acct;
	struct bench_acct	*acct_new;
	struct bench_nocache	*before;
	struct xdp_pass		*pass;
	struct bench_naive	*naive;
};

static int objs_load(struct bench_objs *b)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo,
		/* the same clock fallback as the agent's object (accounting_skel.h) */
		.kconfig = es_kernel_config_missing() ? ES_KCONFIG_FALLBACK : NULL,
	);

	b->acct_new = bench_acct__open_opts(&oo);
	if (!b->acct_new || bench_acct__load(b->acct_new))
		return -1;
	b->before = bench_nocache__open_opts(&oo);
	if (!b->before || bench_nocache__load(b->before))
		return -1;
	b->acct = es_accounting_open(NULL);
	if (!b->acct || accounting__load(b->acct))
		return -1;
	b->pass = xdp_pass__open_and_load();
	b->naive = bench_naive__open_and_load();
	return b->pass && b->naive ? 0 : -1;
}

static void objs_destroy(struct bench_objs *b)
{
	bench_naive__destroy(b->naive);
	xdp_pass__destroy(b->pass);
	bench_nocache__destroy(b->before);
	bench_acct__destroy(b->acct_new);
	accounting__destroy(b->acct);
}

static void case_init(struct bench_case *bc, const struct bench_objs *b,
		      void (*spec_fn)(struct es_pkt_spec *))
{
	struct es_pkt_spec spec;

	spec_fn(&spec);
	bc->len = es_pkt_build(&spec, bc->pkt, sizeof(bc->pkt));
	if (bc->new_tuples) {
		bc->fd[P_PASS] = bpf_program__fd(b->pass->progs.es_xdp_pass_new);
		bc->fd[P_ES] = bpf_program__fd(b->acct_new->progs.es_xdp_acct_new);
		bc->fd[P_BEFORE] = bpf_program__fd(b->before->progs.es_xdp_acct_new);
		bc->fd[P_NAIVE] = bpf_program__fd(b->naive->progs.es_xdp_naive_new);
		return;
	}
	bc->fd[P_PASS] = bpf_program__fd(b->pass->progs.es_xdp_pass);
	bc->fd[P_ES] = bpf_program__fd(b->acct->progs.es_xdp_ingress);
	bc->fd[P_BEFORE] = bpf_program__fd(b->before->progs.es_xdp_acct);
	bc->fd[P_NAIVE] = bpf_program__fd(b->naive->progs.es_xdp_naive);
}

int main(int argc, char **argv)
{
	struct bench_case cases[] = {
		{ .name = "tcp_existing_v4", .what = "TCP ACK of a known IPv4 session" },
		{ .name = "udp_existing_v4", .what = "UDP request of a known IPv4 session" },
		{ .name = "tcp_existing_v6", .what = "TCP ACK of a known IPv6 session" },
		{ .name = "udp_new_v4", .what = "first packet of a new UDP session, map full",
		  .new_tuples = true },
	};
	void (*specs[])(struct es_pkt_spec *) = { spec_tcp_ack, spec_udp, spec_tcp_ack6,
						  spec_udp };
	const int n = sizeof(cases) / sizeof(cases[0]);
	struct bench_objs b = {};
	struct bench_opts o = {};
	int i, err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? 2 : 0;
	if (objs_load(&b)) {
		fprintf(stderr, "es-bench-xdp: cannot load the BPF programs (root? bpffs?)\n");
		objs_destroy(&b);
		return 1;
	}
	for (i = 0; i < n; i++)
		case_init(&cases[i], &b, specs[i]);
	err = bench_rounds(cases, n, &o);
	if (err) {
		fprintf(stderr, "es-bench-xdp: BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
	} else {
		for (i = 0; i < n; i++)
			summarise(&cases[i]);
		if (o.json)
			print_json(cases, n, &o);
		else
			print_table(cases, n, &o);
	}
	objs_destroy(&b);
	return err ? 1 : 0;
}
