// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift advise: samples the cgroups of a service's blocks and the
 * service's performance on one clock, then ranks the blocks by the rule of
 * docs/scale-advisor.md: the block whose resource series follows
 * the change in performance most closely is the one to scale out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli.h"
#include "advisor/advisor.h"
#include "tool/opts.h"

struct advise_args {
	struct es_opt_multi	blocks;
	const char		*perf, *root;
	int			kind;
	unsigned long		interval_ms, samples;
	double			min_change;
	bool			json;
};

static const struct es_opt_name kinds[] = {
	{ "latency", ES_ADV_PERF_LATENCY },
	{ "throughput", ES_ADV_PERF_THROUGHPUT },
	{ }
};

#define F(field)	ES_OPT_AT(struct advise_args, field)
static const struct es_opt opts[] = {
	ES_OPT_MULTI(F(blocks), "block", 0, "NAME=CGROUP",
		     "a block of the service and its cgroup path (repeat)", .required = true),
	ES_OPT_STR(F(perf), "perf", 0, "FILE",
		   "holds the service's performance number, rewritten as it changes",
		   .required = true),
	ES_OPT_ENUM(F(kind), "perf-kind", 0, kinds, "latency|throughput",
		    "which way is worse: higher latency or lower throughput (default latency)"),
	ES_OPT_UINT(F(interval_ms), "interval-ms", 0, 10, 3600000, "N",
		    "sampling interval (default 1000)"),
	ES_OPT_UINT(F(samples), "samples", 0, 3, ES_ADV_RING_LEN, "N",
		    "the window: samples taken before ranking (default 30)"),
	ES_OPT_DOUBLE(F(min_change), "min-change", 0, 0, 100, "R",
		      "how much worse the service must get to be worth a ranking:\n"
		      "median of the window's last third against its first (default 0.5)"),
	ES_OPT_STR(F(root), "cgroup-root", 0, "DIR", "where the cgroup hierarchies are mounted"),
	ES_OPT_BOOL(F(json), "json", 0, "the ranking as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift advise",
	.opts	= opts,
	.usage	= "--block NAME=CGROUP... --perf FILE [--perf-kind K] [--interval-ms N]\n"
		  "       [--samples N] [--min-change R] [--json]",
	.doc	= "Samples each block's cgroup (CPU used, CFS throttling, memory, I/O; v2 where\n"
		  "the node has it, v1 otherwise) and the number in FILE every interval, then\n"
		  "ranks the blocks by the RMS distance between their normalised resource\n"
		  "series and the normalised change in performance per interval, nearest\n"
		  "first (docs/scale-advisor.md). Exit status 0 with a ranking, 3 when the\n"
		  "service did not get worse enough to rank, 1 on an error.\n",
};

static int open_blocks(const struct advise_args *a, struct es_adv_block *b)
{
	char err[256], name[ES_ADV_NAME_LEN];
	unsigned int i;

	for (i = 0; i < a->blocks.n; i++) {
		const char *eq = strchr(a->blocks.v[i], '=');

		if (!eq || eq == a->blocks.v[i] || !eq[1] ||
		    (size_t)(eq - a->blocks.v[i]) >= sizeof(name)) {
			fprintf(stderr, "edgeshift advise: --block %s: want NAME=CGROUP\n",
				a->blocks.v[i]);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a->blocks.v[i]), a->blocks.v[i]);
		if (es_adv_block_init(&b[i], name, eq + 1, a->root, err, sizeof(err))) {
			fprintf(stderr, "edgeshift advise: block %s: %s\n", name, err);
			return -ENOENT;
		}
	}
	return 0;
}

/* samples + 1 ticks on an absolute schedule: the first one primes the rates. */
static int sample(const struct advise_args *a, struct es_adv_block *b, struct es_adv_ring *perf)
{
	struct timespec next;
	unsigned long i;
	char err[256];

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i <= a->samples; i++) {
		if (i) {
			next.tv_nsec += (long)(a->interval_ms % 1000) * 1000000;
			next.tv_sec += a->interval_ms / 1000 + next.tv_nsec / 1000000000;
			next.tv_nsec %= 1000000000;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
				;
		}
		if (es_adv_tick(b, a->blocks.n, a->root, a->perf, perf, err, sizeof(err))) {
			fprintf(stderr, "edgeshift advise: %s\n", err);
			return -EIO;
		}
	}
	return 0;
}

static json_t *score_json(const struct es_adv_block *b, const struct es_adv_score *s,
			  unsigned int rank)
{
	json_t *o = json_object(), *res = json_object();
	int r;

	json_object_set_new(o, "rank", json_integer(rank));
	json_object_set_new(o, "block", json_string(b->name));
	json_object_set_new(o, "cgroup", json_string(b->cgroup));
	json_object_set_new(o, "cgroup_version", json_integer(b->v2 ? 2 : 1));
	json_object_set_new(o, "resource", s->res < 0 ? json_null() :
			    json_string(es_adv_res_name(s->res)));
	json_object_set_new(o, "distance", json_real(s->distance));
	json_object_set_new(o, "r", json_real(s->r));
	for (r = 0; r < ES_ADV_NRES; r++) {
		const struct es_adv_res_score *rs = &s->per_res[r];

		json_object_set_new(res, es_adv_res_name(r),
				    json_pack("{s:b,s:f,s:f,s:f}", "changed", !rs->flat,
					      "distance", rs->distance, "r", rs->r,
					      "mean", rs->mean));
	}
	json_object_set_new(o, "resources", res);
	return o;
}

static json_t *result_json(const struct advise_args *a, const struct es_adv_block *b,
			   const struct es_adv_score *s, double change, int ranked)
{
	json_t *root = json_object(), *arr = json_array();
	unsigned int i;

	json_object_set_new(root, "interval_ms", json_integer(a->interval_ms));
	json_object_set_new(root, "samples", json_integer(a->samples));
	json_object_set_new(root, "perf_kind", json_string(kinds[a->kind].name));
	json_object_set_new(root, "worsening", json_real(change));
	json_object_set_new(root, "performance_changed", json_boolean(ranked));
	for (i = 0; ranked && i < a->blocks.n; i++)
		json_array_append_new(arr, score_json(&b[s[i].block], &s[i], i + 1));
	json_object_set_new(root, "ranking", arr);
	return root;
}

static void print_table(json_t *root)
{
	json_t *e;
	size_t i;

	if (!json_is_true(json_object_get(root, "performance_changed"))) {
		printf("the service did not get worse over the window (%+.0f %%): nothing to scale\n",
		       100 * json_real_value(json_object_get(root, "worsening")));
		return;
	}
	printf("the service got worse by %+.0f %% over the window\n",
	       100 * json_real_value(json_object_get(root, "worsening")));
	printf("%-4s %-20s %-14s %8s %7s\n", "RANK", "BLOCK", "RESOURCE", "DISTANCE", "R");
	json_array_foreach(json_object_get(root, "ranking"), i, e)
		printf("%-4lld %-20s %-14s %8.4f %7.3f\n",
		       json_integer_value(json_object_get(e, "rank")),
		       json_string_value(json_object_get(e, "block")),
		       json_string_value(json_object_get(e, "resource")) ?: "(none tracks it)",
		       json_real_value(json_object_get(e, "distance")),
		       json_real_value(json_object_get(e, "r")));
}

int cmd_advise(const struct cli *c, int argc, char **argv)
{
	struct advise_args a = { .interval_ms = 1000, .samples = 30, .min_change = 0.5 };
	struct es_adv_score scores[ES_OPT_MULTI_MAX];
	struct es_adv_block *b = NULL;
	struct es_adv_ring *perf = NULL;
	struct cli o = *c;
	double change = 0;
	int n, ret = 1;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	b = calloc(a.blocks.n, sizeof(*b));
	perf = calloc(1, sizeof(*perf));
	if (!b || !perf || open_blocks(&a, b) || sample(&a, b, perf))
		goto out;
	n = es_adv_rank(b, a.blocks.n, perf, a.kind, a.samples, a.min_change, &change, scores);
	o.json = a.json;
	cli_emit(&o, result_json(&a, b, scores, change, !n), print_table);
	ret = n ? 3 : 0;
out:
	free(b);
	free(perf);
	return ret;
}
