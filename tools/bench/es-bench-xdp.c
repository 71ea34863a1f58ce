// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-bench-xdp: per-packet cost of the XDP accounting program measured with
 * BPF_PROG_TEST_RUN, side by side with a program that only returns
 * XDP_PASS, with the floor under any accounting (bpf/bench_floor.bpf.c:
 * the parse, the clock and one counter, no session), with the design
 * before the flow cache (bpf/bench_nocache.bpf.c),
 * the naive design (bpf/bench_naive.bpf.c), the candidate of
 * bpf/bench_hash.bpf.c, the accounting code loaded with request/response
 * latency off (es_rr_latency_off, the agent's request_latency: false), the
 * candidate of bpf/bench_defer.bpf.c (new sessions in the flow cache only,
 * the maps filled by the sweep, whose work is timed right after each
 * new-session run), the candidate of bpf/bench_table.bpf.c (sessions in
 * an mmap-able open-addressing table, bpf/lib/slot_table.h), and
 * optionally an object
 * file given with --object (another build of bpf/bench_acct.bpf.c, say an
 * older commit's), in one process. Every program of every case runs once
 * per round, in an order that rotates from round to round, and each figure
 * is the median over the rounds; a ratio is the median of the per-round
 * ratios, so both sides of it always come from the same round.
 *
 * The new-session case steps the source address on every iteration of one
 * test run (bpf/lib/bench.h) against maps of their default size, filled
 * before the first round: every timed packet inserts a session and an LRU
 * map evicts one, as under a flood on a node with the default
 * configuration. A map without LRU is emptied (untimed) before each of its
 * runs instead, as a collector that keeps room would leave it, unless
 * --keep-full asks for the cost of a packet that finds no room. The
 * table candidate keeps as many live sessions as a full default map holds
 * (65,536, half its slots) through every round, and before each of its
 * new-session runs the benchmark frees, through the table's mmap, the
 * slots of its previous run (untimed), as the collector would; with
 * --keep-full it frees nothing and the table fills up.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
#include "bench_hash.skel.h"
#include "bench_defer.skel.h"
#include "bench_table.skel.h"
#include "bench_floor.skel.h"
#include <edgeshift/slot_table.h>
#include "testing/pkt_build.h"
#include "bpf/slot_reader.h"
#include "tool/opts.h"

#define BENCH_ROUNDS	7
#define SADDR_OFF	(14 + 12)	/* ES_BENCH_SADDR_OFF of bpf/lib/bench.h */
#define DEFAULT_MAP	65536		/* ES_DEFAULT_SESSIONS of bpf/lib/maps.h */

/* The programs of one case, in the columns of the report. */
enum bench_prog {
	P_PASS,		/* XDP_PASS: the floor every ratio divides by */
	P_FLOOR,	/* parse, tick, one counter; new tuples add a tag CAS and an entry write */
	P_FLOOR_SLOT,	/* the floor plus one per-CPU direct-mapped slot per key */
	P_ES,		/* edgeshift's accounting */
	P_BEFORE,	/* the same code without the flow cache: the design before issue 12 */
	P_NAIVE,	/* the naive design */
	P_HASH,		/* candidate: session maps without LRU */
	P_NORR,		/* the same code with request/response latency off */
	P_DEFER,	/* candidate: new sessions in the flow cache only, folded by the sweep */
	P_TABLE,	/* candidate: sessions in the mmap-able slot table */
	P_OTHER,	/* --object: any build of bpf/bench_acct.bpf.c */
	P_MAX,
};

static const char *const prog_keys[P_MAX] = {
	"xdp_pass", "floor", "floor_slot", "edgeshift", "before", "naive", "hash", "norr", "defer",
	"table", "object",
};

struct bench_opts {
	unsigned int	repeat;		/* iterations per test run of the known-session cases */
	unsigned int	new_repeat;	/* iterations (= new tuples) per run of the new-session case */
	const char	*object;	/* another build of bpf/bench_acct.bpf.c, or NULL */
	bool		keep_full;	/* do not empty maps without LRU before new-session runs */
	bool		json;
};

struct bench_case {
	const char	*name;
	const char	*what;
	int		fd[P_MAX];	/* < 0: the column is absent */
	bool		new_tuples;	/* the programs step the tuple themselves */
	bool		v6;		/* IPv6 (case_init): columns without an IPv6 path absent */
	uint8_t		pkt[256];
	size_t		len;
	double		ns[P_MAX][BENCH_ROUNDS];
	double		med[P_MAX];
	double		ratio[P_MAX];	/* median of per-round ns / XDP_PASS ns */
	double		vs_es[P_MAX];	/* median of per-round edgeshift ns / column ns */
	double		fold[BENCH_ROUNDS];	/* defer: the sweep's ns per new tuple after its run */
	double		fold_med;
	double		defer_total;	/* median of per-round packet + fold ns */
	double		tbl_skipped[BENCH_ROUNDS];	/* table: share of a run's tuples without a slot */
	double		tbl_skipped_med;
};

/*
 * The table candidate seen through its mmap, as the collector would see
 * it: the base fill's and the previous run's source addresses (the
 * programs step the raw 32-bit word, so a key's address is that word).
 */
struct tbl_view {
	struct es_slot_table	t;		/* t.tags NULL: the column has no table */
	int			stats_fd;
	bool			filled;		/* the base fill is in */
	uint32_t		prev_lo, prev_hi;	/* the previous run's addresses */
};

/* The table of the table column, and of --object's build when it has one. */
static struct tbl_view tbl[P_MAX];

/* --keep-full: nothing is emptied or freed before new-session runs. */
static bool keep_full;

/* Maps emptied before each new-session run of a column (no LRU to evict). */
static int empty_fd[P_MAX][2];

/* bench_defer's es_xdp_drain: what its sweep owes after a new-session run. */
static int drain_fd = -1;

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

/*
 * Delete every entry: what a collector that keeps room would leave. Keys
 * first, deletes after: a walk from the start after each delete would be
 * quadratic.
 */
static void map_empty(int fd)
{
	size_t n = 0, cap = 1 << 17;
	uint8_t *keys = malloc(cap * 64), *prev = NULL;

	while (keys && n < cap && !bpf_map_get_next_key(fd, prev, keys + n * 64)) {
		prev = keys + n * 64;
		n++;
	}
	while (n--)
		bpf_map_delete_elem(fd, keys + n * 64);
	free(keys);
}

static bool in_range(uint32_t a, uint32_t lo, uint32_t hi)
{
	return a >= lo && a < hi;
}

/*
 * The address words a new-session run steps in an entry's key: an IPv4
 * endpoint's address, an IPv6 one's second word (SADDR_OFF).
 */
static void entry_words(const struct es_tbl_entry *e, uint32_t w[2])
{
	if (!e->v6) {
		w[0] = e->key.k4.addr_lo;
		w[1] = e->key.k4.addr_hi;
		return;
	}
	memcpy(&w[0], e->key.k6.addr_lo + 4, 4);
	memcpy(&w[1], e->key.k6.addr_hi + 4, 4);
}

/*
 * Free the slots of the table's previous new-session run through the
 * mmap, as the collector would (no program runs now, so no grace period
 * is needed; docs/maps.md gives the collector's protocol), and note this
 * run's addresses.
 */
static void tbl_before_run(struct tbl_view *t, unsigned int repeat)
{
	size_t i, n = t->t.entries_len / sizeof(*t->t.entries);
	uint32_t tag, w[2];

	for (i = 0; !keep_full && i < n; i++) {
		tag = t->t.tags[i / ES_TBL_BUCKET_SLOTS].tag[i % ES_TBL_BUCKET_SLOTS];
		if ((tag & ES_TBL_STATE_MASK) != ES_TBL_LIVE)
			continue;
		entry_words(&t->t.entries[i], w);
		if (in_range(w[0], t->prev_lo, t->prev_hi) ||
		    in_range(w[1], t->prev_lo, t->prev_hi))
			es_slot_table_free(&t->t, i);
	}
	t->prev_lo = next_saddr;
	t->prev_hi = next_saddr + repeat;
}

/* The table's per-CPU counter of packets without a slot, summed. */
static uint64_t tbl_skipped(const struct tbl_view *t)
{
	int i, ncpus = libbpf_num_possible_cpus();
	struct es_tbl_stats s[ncpus > 0 ? ncpus : 1];
	uint64_t sum = 0;
	uint32_t zero = 0;

	if (!t->t.tags || ncpus <= 0 || bpf_map_lookup_elem(t->stats_fd, &zero, s))
		return 0;
	for (i = 0; i < ncpus; i++)
		sum += s[i].no_slot + s[i].busy;
	return sum;
}

/* ns per packet of one test run; new-tuple runs start past every earlier one. */
static int time_run(struct bench_case *bc, int p, unsigned int repeat, double *ns)
{
	unsigned int d;
	int err, i;

	if (bc->new_tuples) {
		if (tbl[p].t.tags)
			tbl_before_run(&tbl[p], repeat);
		memcpy(bc->pkt + SADDR_OFF, &next_saddr, sizeof(next_saddr));
		next_saddr += repeat;
		for (i = 0; i < 2; i++)
			if (empty_fd[p][i] > 0)
				map_empty(empty_fd[p][i]);
	}
	err = run_once(bc->fd[p], bc->pkt, bc->len, repeat, &d);
	if (!err && ns)
		*ns = d;
	return err;
}

/*
 * The defer column's new-session runs leave their inserts to the sweep:
 * run it now, timed, so the round records both halves (ns per new tuple).
 */
static int time_fold(struct bench_case *bc, int p, unsigned int repeat, double *ns)
{
	unsigned int d;
	int err;

	if (p != P_DEFER || !bc->new_tuples)
		return 0;
	err = run_once(drain_fd, bc->pkt, bc->len, 1, &d);
	if (!err && ns)
		*ns = (double)d / repeat;
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
 * Untimed warm-up runs: the LRU maps filled past their size; the table
 * filled once with as many sessions as a full default map holds (they
 * stay), later only its code touched.
 */
static unsigned int warm_repeat(const struct bench_case *bc, int p, const struct bench_opts *o)
{
	if (!bc->new_tuples)
		return o->repeat / 10 + 1;
	if (tbl[p].t.tags)
		return tbl[p].filled ? 1000 : DEFAULT_MAP;
	return 2 * DEFAULT_MAP;
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
		for (p = 0; !err && p < P_MAX; p++) {
			if (cases[c].fd[p] < 0)
				continue;
			rep = warm_repeat(&cases[c], p, o);
			err = time_run(&cases[c], p, rep, NULL) ?:
			      time_fold(&cases[c], p, rep, NULL);
			if (tbl[p].t.tags && cases[c].new_tuples && !tbl[p].filled) {
				tbl[p].filled = true;	/* the base fill stays */
				tbl[p].prev_lo = tbl[p].prev_hi = 0;
			}
		}
	}
	return err;
}

static int bench_rounds(struct bench_case *cases, int n, const struct bench_opts *o)
{
	uint64_t skipped;
	int r, c, k, p, err;

	err = warm_up(cases, n, o);
	for (r = 0; !err && r < BENCH_ROUNDS; r++) {
		for (c = 0; !err && c < n; c++) {
			for (k = 0; !err && k < P_MAX; k++) {
				p = (k + r) % P_MAX;
				if (cases[c].fd[p] < 0)
					continue;
				skipped = tbl_skipped(&tbl[p]);
				err = time_run(&cases[c], p, case_repeat(&cases[c], o),
					       &cases[c].ns[p][r]) ?:
				      time_fold(&cases[c], p, case_repeat(&cases[c], o),
						&cases[c].fold[r]);
				if (p == P_TABLE)
					cases[c].tbl_skipped[r] = (double)(tbl_skipped(&tbl[p]) - skipped) /
								  case_repeat(&cases[c], o);
			}
		}
	}
	return err;
}

static void summarise(struct bench_case *bc)
{
	double total[BENCH_ROUNDS];
	int p, r;

	for (r = 0; r < BENCH_ROUNDS; r++)
		total[r] = bc->ns[P_DEFER][r] + bc->fold[r];
	bc->fold_med = median(bc->fold);
	bc->tbl_skipped_med = median(bc->tbl_skipped);
	bc->defer_total = median(total);

	for (p = 0; p < P_MAX; p++) {
		if (bc->fd[p] < 0)
			continue;
		bc->med[p] = median(bc->ns[p]);
		bc->ratio[p] = median_ratio(bc->ns[p], bc->ns[P_PASS]);
		bc->vs_es[p] = median_ratio(bc->ns[P_ES], bc->ns[p]);
	}
}

static void print_table(const struct bench_case *cases, int n, const struct bench_opts *o)
{
	int i, p;

	printf("%-16s", "case");
	for (p = 0; p < P_MAX; p++)
		if (cases[0].fd[p] >= 0)
			printf(" %16s", prog_keys[p]);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("%-16s", cases[i].name);
		for (p = 0; p < P_MAX; p++)
			if (cases[i].fd[p] >= 0)
				printf(" %8.1f %6.2fx", cases[i].med[p], cases[i].ratio[p]);
			else if (cases[0].fd[p] >= 0)
				printf(" %16s", "-");
		printf("  %s\n", cases[i].what);
		if (cases[i].new_tuples && cases[i].fd[P_DEFER] >= 0)
			printf("%-16s defer: the sweep's fold after each run %.1f ns per new tuple;"
			       " packet + fold %.1f ns\n", "", cases[i].fold_med,
			       cases[i].defer_total);
		if (cases[i].new_tuples && cases[i].fd[P_TABLE] >= 0)
			printf("%-16s table: %.2f %% of each run's new tuples found no slot (median)\n",
			       "", 100 * cases[i].tbl_skipped_med);
	}
	printf("(ns/pkt and ratio to XDP_PASS: medians of %d interleaved rounds, a ratio the\n"
	       " median of per-round ratios; edgeshift = the agent's code with\n"
	       " session_table: maps (sessions in the LRU maps), table = the same with the\n"
	       " agent's default, session_table: slots; floor = the header parse, the tick and one\n"
	       " counter, plus for new tuples a tag CAS and an entry write at a random place of\n"
	       " a default-size table (bpf/bench_floor.bpf.c); floor_slot = the floor and one\n"
	       " per-CPU direct-mapped slot per IPv4 key, compared and added to; before =\n"
	       " without the flow cache; hash = session\n"
	       " maps without LRU (%s before each new-session run); norr = without\n"
	       " request/response latency; defer = new sessions in the flow cache only, the\n"
	       " maps filled by the sweep (timed apart); table = sessions in the\n"
	       " mmap-able slot table of %u slots holding %u sessions throughout, the\n"
	       " previous run's %s; repeat %u, new-session runs of\n"
	       " %u new tuples into %u-entry maps filled first)\n", BENCH_ROUNDS,
	       o->keep_full ? "left full" : "emptied", ES_TBL_SLOTS_DEFAULT, DEFAULT_MAP,
	       o->keep_full ? "kept" : "freed", o->repeat, o->new_repeat, DEFAULT_MAP);
}

static json_t *column_json(const struct bench_case *bc, int p)
{
	json_t *rounds = json_array();
	int r;

	for (r = 0; r < BENCH_ROUNDS; r++)
		json_array_append_new(rounds, json_real(bc->ns[p][r]));
	return json_pack("{s:f,s:f,s:f,s:o}", "ns_per_pkt", bc->med[p], "ratio", bc->ratio[p],
			 "edgeshift_over_this", bc->vs_es[p], "rounds", rounds);
}

/* The keys of the first version stay, for bench.sh and older results. */
static json_t *case_json(const struct bench_case *bc)
{
	json_t *c, *cols = json_object();
	int p;

	c = json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "case", bc->name,
		      "what", bc->what, "ns_per_pkt", bc->med[P_ES],
		      "xdp_pass_ns_per_pkt", bc->med[P_PASS], "ratio", bc->ratio[P_ES],
		      "before_ns_per_pkt", bc->med[P_BEFORE], "before_ratio", bc->ratio[P_BEFORE],
		      "vs_before", bc->vs_es[P_BEFORE], "naive_ns_per_pkt", bc->med[P_NAIVE],
		      "naive_ratio", bc->ratio[P_NAIVE], "vs_naive", bc->vs_es[P_NAIVE]);
	for (p = 0; p < P_MAX; p++)
		if (bc->fd[p] >= 0)
			json_object_set_new(cols, prog_keys[p], column_json(bc, p));
	json_object_set_new(c, "columns", cols);
	if (bc->new_tuples && bc->fd[P_DEFER] >= 0) {
		json_object_set_new(c, "defer_fold_ns_per_tuple", json_real(bc->fold_med));
		json_object_set_new(c, "defer_packet_plus_fold_ns", json_real(bc->defer_total));
	}
	if (bc->new_tuples && bc->fd[P_TABLE] >= 0)
		json_object_set_new(c, "table_no_slot_share", json_real(bc->tbl_skipped_med));
	return c;
}

static void print_json(const struct bench_case *cases, int n, const struct bench_opts *o)
{
	json_t *root = json_object(), *arr = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, case_json(&cases[i]));
	json_object_set_new(root, "rounds", json_integer(BENCH_ROUNDS));
	json_object_set_new(root, "repeat", json_integer(o->repeat));
	json_object_set_new(root, "new_repeat", json_integer(o->new_repeat));
	json_object_set_new(root, "new_session_map_entries", json_integer(DEFAULT_MAP));
	json_object_set_new(root, "hash_maps_kept_full", json_boolean(o->keep_full));
	json_object_set_new(root, "table_slots", json_integer(ES_TBL_SLOTS_DEFAULT));
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
		    "new tuples per test run of the new-session case (default 50000)"),
	ES_OPT_STR(F(object), "object", 'o', "FILE",
		   "also run this build of bpf/bench_acct.bpf.c (column \"object\")"),
	ES_OPT_BOOL(F(keep_full), "keep-full", 'k',
		    "leave maps without LRU full: time the packet that finds no room"),
	ES_OPT_BOOL(F(json), "json", 'j', "the results as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-bench-xdp",
	.opts	= opts,
	.usage	= "[--repeat N] [--new-repeat N] [--object FILE] [--keep-full] [--json]",
};
/* 0 to run, 1 when help was printed, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	int n;

	o->repeat = 1000000;
	o->new_repeat = 50000;
	n = es_opts_parse(&cli, argc, argv, o);
	return n > 0 ? 0 : n == 0 ? 1 : -1;
}

static void spec_tcp_ack(struct es_pkt_spec *spec)
{
	es_pkt_spec_init(spec);
	spec->proto = IPPROTO_TCP;
	spec->tcp_flags = 0x10;
	/*
	 * A bare ACK in a 60-byte frame, the smallest on the wire: 6 bytes of
	 * Ethernet padding, not TCP payload (a segment with payload is a
	 * request or a reply, which takes the request/response path).
	 */
	spec->pad = 6;
}

/* A request on a known connection: 100 bytes of payload. */
static void spec_tcp_data(struct es_pkt_spec *spec)
{
	spec_tcp_ack(spec);
	spec->tcp_flags = 0x18;	/* PSH, ACK */
	spec->pad = 0;
	spec->payload = 100;
}

static void spec_tcp_syn(struct es_pkt_spec *spec)
{
	spec_tcp_ack(spec);
	spec->tcp_flags = 0x02;
}

static void spec_udp(struct es_pkt_spec *spec)
{
	es_pkt_spec_init(spec);
	spec->payload = 18;
}

static void spec_v6(struct es_pkt_spec *spec)
{
	spec->family = AF_INET6;
	es_pkt_spec_addr(spec, 0, "fd00::1");
	es_pkt_spec_addr(spec, 1, "fd00::2");
}

static void spec_tcp_ack6(struct es_pkt_spec *spec)
{
	spec_tcp_ack(spec);
	spec->pad = 0;		/* 74 bytes: no padding */
	spec_v6(spec);
}

/*
 * The new-session runs step the 32-bit word at SADDR_OFF, which in an
 * IPv6 frame is the second word of the source address: a new tuple too.
 */
static void spec_udp6(struct es_pkt_spec *spec)
{
	spec_udp(spec);
	spec_v6(spec);
}

/* The programs under test, each object loaded once. */
struct bench_objs {
	struct accounting	*acct;
	struct bench_acct	*acct_new;
	struct bench_nocache	*before;
	struct bench_hash	*hash;
	struct bench_acct	*norr;
	struct bench_defer	*defer;
	struct bench_table	*table;
	struct xdp_pass		*pass;
	struct bench_floor	*floor;
	struct bench_naive	*naive;
	struct bpf_object	*other;
};

static int other_load(struct bench_objs *b, const char *path,
		      const struct bpf_object_open_opts *oo)
{
	if (!path)
		return 0;
	b->other = bpf_object__open_file(path, oo);
	if (!b->other) {
		fprintf(stderr, "es-bench-xdp: cannot open %s\n", path);
		return -1;
	}
	return bpf_object__load(b->other);
}

static int objs_load(struct bench_objs *b, const struct bench_opts *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo,
		/* the same clock fallback as the agent's object (accounting_skel.h) */
		.kconfig = es_kernel_config_missing() ? ES_KCONFIG_FALLBACK : NULL,
	);

/*
 * Open and load one benchmark skeleton with the clock options; every
 * accounting design with TCP request/response latency on (the agent's
 * tcp_request_latency: true), so that tcp_data_v4 measures its cost.
 */
#define SKEL_LOAD(field, skel, tcp_rr)					\
	do {								\
		b->field = skel##__open_opts(&oo);			\
		if (!b->field)						\
			return -1;					\
		b->field->rodata->es_tcp_rr_on = tcp_rr;		\
		if (skel##__load(b->field))				\
			return -1;					\
	} while (0)

	SKEL_LOAD(acct_new, bench_acct, 1);
	SKEL_LOAD(before, bench_nocache, 1);
	SKEL_LOAD(hash, bench_hash, 1);
	SKEL_LOAD(defer, bench_defer, 1);
	SKEL_LOAD(table, bench_table, 1);
	SKEL_LOAD(floor, bench_floor, 0);
#undef SKEL_LOAD
	drain_fd = bpf_program__fd(b->defer->progs.es_xdp_drain);
	b->norr = bench_acct__open_opts(&oo);
	if (!b->norr)
		return -1;
	b->norr->rodata->es_rr_latency_off = 1;
	if (bench_acct__load(b->norr))
		return -1;
	b->acct = es_accounting_open(NULL);
	if (!b->acct)
		return -1;
	es_accounting_set_tcp_rr_latency(b->acct, true);
	if (accounting__load(b->acct))
		return -1;
	if (other_load(b, o->object, &oo))
		return -1;
	b->pass = xdp_pass__open_and_load();
	b->naive = bench_naive__open_and_load();
	return b->pass && b->naive ? 0 : -1;
}

static void objs_destroy(struct bench_objs *b)
{
	bpf_object__close(b->other);
	bench_naive__destroy(b->naive);
	xdp_pass__destroy(b->pass);
	bench_floor__destroy(b->floor);
	bench_acct__destroy(b->norr);
	bench_defer__destroy(b->defer);
	bench_table__destroy(b->table);
	bench_hash__destroy(b->hash);
	bench_nocache__destroy(b->before);
	bench_acct__destroy(b->acct_new);
	accounting__destroy(b->acct);
}

static int other_fd(const struct bench_objs *b, const char *name)
{
	struct bpf_program *prog;

	if (!b->other)
		return -1;
	prog = bpf_object__find_program_by_name(b->other, name);
	return prog ? bpf_program__fd(prog) : -1;
}

/* The maps of a column without LRU: emptied before its new-session runs. */
static void empty_init(const struct bench_objs *b, const struct bench_opts *o)
{
	struct bpf_map *m;

	memset(empty_fd, 0, sizeof(empty_fd));
	if (o->keep_full)
		return;
	empty_fd[P_HASH][0] = bpf_map__fd(b->hash->maps.es_sessions4);
	empty_fd[P_HASH][1] = bpf_map__fd(b->hash->maps.es_session_state4);
	if (!b->other)
		return;
	m = bpf_object__find_map_by_name(b->other, "es_sessions4");
	if (m && bpf_map__type(m) == BPF_MAP_TYPE_HASH) {
		empty_fd[P_OTHER][0] = bpf_map__fd(m);
		m = bpf_object__find_map_by_name(b->other, "es_session_state4");
		empty_fd[P_OTHER][1] = m ? bpf_map__fd(m) : 0;
	}
}

/* A table through its mmap, as the collector would read it; 1: the object has none. */
static int tbl_init_one(struct tbl_view *t, struct bpf_object *obj)
{
	struct bpf_map *tags = bpf_object__find_map_by_name(obj, "es_tbl_tags");
	struct bpf_map *entries = bpf_object__find_map_by_name(obj, "es_tbl_entries");
	struct bpf_map *stats = bpf_object__find_map_by_name(obj, "es_tbl_stats");
	int err;

	if (!tags || !entries || !stats)
		return 1;
	t->stats_fd = bpf_map__fd(stats);
	err = es_slot_table_map(&t->t, bpf_map__fd(tags), bpf_map__fd(entries));
	if (err)
		fprintf(stderr, "es-bench-xdp: cannot mmap the slot table: %s\n", strerror(-err));
	return err;
}

static int tbl_init(const struct bench_objs *b)
{
	if (tbl_init_one(&tbl[P_TABLE], b->table->obj))
		return -1;
	return b->other && tbl_init_one(&tbl[P_OTHER], b->other) < 0 ? -1 : 0;
}

static void tbl_fini(void)
{
	int p;

	for (p = 0; p < P_MAX; p++)
		es_slot_table_unmap(&tbl[p].t);
}

static void case_init(struct bench_case *bc, const struct bench_objs *b,
		      void (*spec_fn)(struct es_pkt_spec *))
{
	struct es_pkt_spec spec;

	spec_fn(&spec);
	bc->v6 = spec.family == AF_INET6;
	bc->len = es_pkt_build(&spec, bc->pkt, sizeof(bc->pkt));
	if (bc->new_tuples) {
		bc->fd[P_PASS] = bpf_program__fd(b->pass->progs.es_xdp_pass_new);
		bc->fd[P_FLOOR] = bpf_program__fd(b->floor->progs.es_xdp_acct_new);
		bc->fd[P_FLOOR_SLOT] = bpf_program__fd(b->floor->progs.es_xdp_slot_new);
		bc->fd[P_ES] = bpf_program__fd(b->acct_new->progs.es_xdp_acct_new);
		bc->fd[P_BEFORE] = bpf_program__fd(b->before->progs.es_xdp_acct_new);
		bc->fd[P_NAIVE] = bpf_program__fd(b->naive->progs.es_xdp_naive_new);
		bc->fd[P_HASH] = bpf_program__fd(b->hash->progs.es_xdp_acct_new);
		bc->fd[P_NORR] = bpf_program__fd(b->norr->progs.es_xdp_acct_new);
		bc->fd[P_DEFER] = bpf_program__fd(b->defer->progs.es_xdp_acct_new);
		bc->fd[P_TABLE] = bpf_program__fd(b->table->progs.es_xdp_acct_new);
		bc->fd[P_OTHER] = other_fd(b, "es_xdp_acct_new");
		/*
		 * IPv6: the floors write an IPv4 slot, the hash and defer
		 * candidates have no IPv6 path of their own (nor a way to empty
		 * their IPv6 maps here). The table column is the product's
		 * object with the table on, both families in the table.
		 */
		if (bc->v6)
			bc->fd[P_FLOOR] = bc->fd[P_FLOOR_SLOT] = bc->fd[P_HASH] =
				bc->fd[P_DEFER] = bc->fd[P_OTHER] = -1;
		return;
	}
	bc->fd[P_PASS] = bpf_program__fd(b->pass->progs.es_xdp_pass);
	bc->fd[P_FLOOR] = bpf_program__fd(b->floor->progs.es_xdp_acct);
	bc->fd[P_FLOOR_SLOT] = bc->v6 ? -1 :
			       bpf_program__fd(b->floor->progs.es_xdp_slot);
	bc->fd[P_ES] = bpf_program__fd(b->acct->progs.es_xdp_ingress);
	bc->fd[P_BEFORE] = bpf_program__fd(b->before->progs.es_xdp_acct);
	bc->fd[P_NAIVE] = bpf_program__fd(b->naive->progs.es_xdp_naive);
	bc->fd[P_HASH] = bpf_program__fd(b->hash->progs.es_xdp_acct);
	bc->fd[P_NORR] = bpf_program__fd(b->norr->progs.es_xdp_acct);
	bc->fd[P_DEFER] = bpf_program__fd(b->defer->progs.es_xdp_acct);
	bc->fd[P_TABLE] = bpf_program__fd(b->table->progs.es_xdp_acct);
	bc->fd[P_OTHER] = other_fd(b, "es_xdp_acct");
}

int main(int argc, char **argv)
{
	struct bench_case cases[] = {
		{ .name = "tcp_existing_v4", .what = "TCP ACK of a known IPv4 session" },
		{ .name = "udp_existing_v4", .what = "UDP request of a known IPv4 session" },
		{ .name = "tcp_data_v4",
		  .what = "TCP segment with payload (a request) of a known IPv4 session" },
		{ .name = "tcp_existing_v6", .what = "TCP ACK of a known IPv6 session" },
		{ .name = "udp_new_v4", .what = "first packet of a new UDP session, map full",
		  .new_tuples = true },
		{ .name = "tcp_new_v4", .what = "first packet (SYN) of a new TCP session, map full",
		  .new_tuples = true },
		{ .name = "udp_new_v6", .what = "first packet of a new IPv6 UDP session, map full",
		  .new_tuples = true },
	};
	void (*specs[])(struct es_pkt_spec *) = {
		spec_tcp_ack, spec_udp, spec_tcp_data, spec_tcp_ack6,
		spec_udp, spec_tcp_syn, spec_udp6,
	};
	const int n = sizeof(cases) / sizeof(cases[0]);
	struct bench_objs b = {};
	struct bench_opts o = {};
	int i, err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? 2 : 0;
	if (objs_load(&b, &o)) {
		fprintf(stderr, "es-bench-xdp: cannot load the BPF programs (root? bpffs?)\n");
		objs_destroy(&b);
		return 1;
	}
	keep_full = o.keep_full;
	empty_init(&b, &o);
	if (tbl_init(&b)) {
		tbl_fini();
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
	tbl_fini();
	objs_destroy(&b);
	return err ? 1 : 0;
}
