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
#include "util/clock.h"

struct advise_args {
	struct es_opt_multi	blocks, links, replicas, scaled;
	const char		*perf, *root, *ns;
	int			kind;
	unsigned long		interval_ms, samples;
	double			min_change;
	bool			json, agent, patch;
};

static const struct es_opt_name kinds[] = {
	{ "latency", ES_ADV_PERF_LATENCY },
	{ "throughput", ES_ADV_PERF_THROUGHPUT },
	{ }
};

#define F(field)	ES_OPT_AT(struct advise_args, field)
static const struct es_opt opts[] = {
	ES_OPT_MULTI(F(blocks), "block", 0, "NAME=CGROUP",
		     "a block of the service and its cgroup path (repeat)"),
	ES_OPT_MULTI(F(links), "link", 0, "BLOCK=IFNAME",
		     "the block's link: its root qdisc's counters (a rate limit's\n"
		     "overlimits, drops, backlog) are its network series (repeat)"),
	ES_OPT_STR(F(perf), "perf", 0, "FILE",
		   "holds the service's performance number, rewritten as it changes"),
	ES_OPT_BOOL(F(agent), "agent", 0,
		    "ask the agent (GET /v1/advice): its blocks, its data-plane series"),
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
	ES_OPT_BOOL(F(patch), "patch", 0,
		    "print the scale-out as a patch of the block's Deployment (not applied)"),
	ES_OPT_MULTI(F(replicas), "replicas", 0, "BLOCK=N",
		     "the replicas the block's Deployment has now, held over the window "
		     "(repeat): a block of 2 or more is judged for a scale-in; --patch needs it"),
	ES_OPT_STR(F(ns), "namespace", 0, "NS", "--patch: the Deployments' namespace"),
	ES_OPT_MULTI(F(scaled), "scaled", 0, "BLOCK=R:P[:W],...",
		     "the performance (and W, the bytes/s the block's replicas sent) at each\n"
		     "replica count the block had, oldest first: when its last scale-out\n"
		     "did not help, it is not scaled again (repeat)"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift advise",
	.opts	= opts,
	.usage	= "--block NAME=CGROUP... [--link BLOCK=IFNAME...] --perf FILE [--perf-kind K]\n"
		  "       [--interval-ms N] [--samples N] [--min-change R] [--json]\n"
		  "       | --agent [--json]\n"
		  "       [--patch --replicas BLOCK=N... [--namespace NS]] [--scaled BLOCK=R:P[:W],...]",
	.doc	= "Samples each block's cgroup (CPU used, CFS throttling, memory, I/O; v2 where\n"
		  "the node has it, v1 otherwise), the root qdisc of each block's --link, and\n"
		  "the number in FILE every interval, then ranks the blocks by the RMS\n"
		  "distance between their normalised resource series and the normalised\n"
		  "change in performance per interval, nearest\n"
		  "first (docs/scale-advisor.md), and recommends scaling out the nearest one\n"
		  "when its resource moved with the change. --agent asks edgeshiftd instead,\n"
		  "which samples the blocks of its configuration all the time. Exit status 0\n"
		  "with a ranking, 3 when the service did not get worse enough to rank, 1 on\n"
		  "an error.\n",
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
	/* The count the caller gives held over the window: a scale-in is judged. */
	for (i = 0; i < a->blocks.n; i++) {
		long n = advise_replicas_of(&a->replicas, b[i].name);

		b[i].replicas = n > 0 ? n : 0;
		b[i].replicas_steady = n > 0;
	}
	for (i = 0; i < a->links.n; i++) {
		int k = advise_block_named(a->links.v[i], b, a->blocks.n);

		if (k < 0) {
			fprintf(stderr, "edgeshift advise: --link %s: want BLOCK=IFNAME for a --block\n",
				a->links.v[i]);
			return -EINVAL;
		}
		if (es_adv_block_link(&b[k], strchr(a->links.v[i], '=') + 1, err, sizeof(err))) {
			fprintf(stderr, "edgeshift advise: %s\n", err);
			return -ENODEV;
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
	double p;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i <= a->samples; i++) {
		if (i) {
			next.tv_nsec += (long)(a->interval_ms % 1000) * 1000000;
			next.tv_sec += a->interval_ms / 1000 + next.tv_nsec / 1000000000;
			next.tv_nsec %= 1000000000;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
				;
		}
		if (es_adv_read_perf_file(a->perf, &p, err, sizeof(err)) ||
		    es_adv_tick(b, a->blocks.n, a->root, es_now_ns(), p, perf, err, sizeof(err))) {
			fprintf(stderr, "edgeshift advise: %s\n", err);
			return -EIO;
		}
	}
	return 0;
}

/* The blocks of 2 or more replicas: scale in by one, or hold, and why. */
static void print_scale_in(json_t *root)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(root, "scale_in"), i, e) {
		if (!i)
			printf("%-16s %-10s %8s %5s  %s\n", "BLOCK", "ACTION", "REPLICAS", "CONF",
			       "WHY");
		printf("%-16s %-10s %3lld to %-2lld %5.2f  %s\n",
		       json_string_value(json_object_get(e, "block")),
		       json_string_value(json_object_get(e, "action")),
		       json_integer_value(json_object_get(e, "replicas")),
		       json_integer_value(json_object_get(e, "replicas_to")),
		       json_real_value(json_object_get(e, "confidence")),
		       json_string_value(json_object_get(e, "reason")));
	}
}

static void print_table(json_t *root)
{
	json_t *e;
	size_t i;

	if (!json_is_true(json_object_get(root, "performance_changed"))) {
		printf("the service did not get worse over the window (%+.0f %%): nothing to scale "
		       "out\n", 100 * json_real_value(json_object_get(root, "worsening")));
		print_scale_in(root);
		advise_patch_print(root);
		return;
	}
	printf("the service got worse by %+.0f %% over the window\n",
	       100 * json_real_value(json_object_get(root, "worsening")));
	printf("%-4s %-16s %-10s %5s %-14s %8s %7s  %s\n", "RANK", "BLOCK", "ACTION", "CONF",
	       "RESOURCE", "DISTANCE", "R", "WHY");
	json_array_foreach(json_object_get(root, "ranking"), i, e)
		printf("%-4lld %-16s %-10s %5.2f %-14s %8.4f %7.3f  %s\n",
		       json_integer_value(json_object_get(e, "rank")),
		       json_string_value(json_object_get(e, "block")),
		       json_string_value(json_object_get(e, "action")),
		       json_real_value(json_object_get(e, "confidence")),
		       json_string_value(json_object_get(e, "resource")) ?: "(none)",
		       json_real_value(json_object_get(e, "distance")),
		       json_real_value(json_object_get(e, "r")),
		       json_string_value(json_object_get(e, "reason")));
	print_scale_in(root);
	advise_patch_print(root);
}

/* The agent's advice: its own blocks and rings, the same JSON; NULL on an error. */
static json_t *from_agent(const struct cli *c)
{
	char err[512];
	json_t *j = cli_api_get(c, "/v1/advice", err, sizeof(err));

	if (!j)
		fprintf(stderr, "edgeshift advise: %s\n", err);
	return j;
}

/* Samples here, from the cgroups and FILE given; NULL on an error. */
static json_t *local(const struct advise_args *a)
{
	struct es_adv_perf_desc d = {
		.kind = a->kind, .interval_ms = a->interval_ms,
		.samples = a->samples, .min_change = a->min_change,
	};
	char name[300];
	struct es_adv_block *b = calloc(a->blocks.n, sizeof(*b));
	struct es_adv_ring *perf = calloc(1, sizeof(*perf));
	struct es_adv_result *res = calloc(1, sizeof(*res));
	json_t *j = NULL;

	/* The reasons read "the rise of the latency in FILE". */
	snprintf(name, sizeof(name), "%s in %.256s", kinds[a->kind].name, a->perf);
	d.name = name;
	if (!b || !perf || !res || open_blocks(a, b) ||
	    advise_scaled(&a->scaled, b, a->blocks.n) || sample(a, b, perf))
		goto out;
	es_adv_advise(b, a->blocks.n, perf, &d, res);
	j = es_adv_result_json(b, &d, res);
out:
	free(b);
	free(perf);
	free(res);
	return j;
}

int cmd_advise(const struct cli *c, int argc, char **argv)
{
	struct advise_args a = { .interval_ms = 1000, .samples = 30, .min_change = 0.5 };
	struct cli o = *c;
	int n, ranked;
	json_t *j;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	o.json = a.json;
	if (!a.agent && (!a.blocks.n || !a.perf)) {
		fprintf(stderr, "edgeshift advise: --block and --perf, or --agent\n");
		return 2;
	}
	j = a.agent ? from_agent(&o) : local(&a);
	if (!j)
		return 1;
	if (a.patch && advise_patch(j, &a.replicas, a.ns)) {
		json_decref(j);
		return 1;
	}
	ranked = json_is_true(json_object_get(j, "performance_changed"));
	cli_emit(&o, j, print_table);
	return ranked ? 0 : 3;
}
