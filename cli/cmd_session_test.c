// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift session-test: how many fixed-rate sessions a path holds within
 * a latency SLO (docs/session-test.md). Adds sessions one at a time towards an
 * `es-session sink`, measures latency under load at every step, and ends
 * with the largest session count that met the SLO; or, with
 * --emit-manifests, writes the Kubernetes objects of the same test.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "session_test.h"
#include "tool/tool_util.h"

enum {
	OPT_TO = 1, OPT_PORT, OPT_RATE, OPT_SIZE, OPT_STEP, OPT_SETTLE, OPT_MAX, OPT_SLO,
	OPT_SLO_STAT, OPT_STOP_AFTER, OPT_PROBE, OPT_PLOT, OPT_JSON, OPT_MANIFESTS,
	OPT_NAMESPACE, OPT_IMAGE, OPT_GENERATOR, OPT_HELP,
};

static const struct option lopts[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "settle", required_argument, NULL, OPT_SETTLE },
	{ "max-sessions", required_argument, NULL, OPT_MAX },
	{ "slo-us", required_argument, NULL, OPT_SLO },
	{ "slo-stat", required_argument, NULL, OPT_SLO_STAT },
	{ "stop-after", required_argument, NULL, OPT_STOP_AFTER },
	{ "probe-interval-ms", required_argument, NULL, OPT_PROBE },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "emit-manifests", required_argument, NULL, OPT_MANIFESTS },
	{ "namespace", required_argument, NULL, OPT_NAMESPACE },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "generator", required_argument, NULL, OPT_GENERATOR },
	{ "help", no_argument, NULL, OPT_HELP },
	{}
};

static const struct es_tool_cli cli = {
	.prog = "edgeshift session-test", .opts = lopts, .help = OPT_HELP,
};

static void usage(void)
{
	printf("usage: edgeshift session-test --to ADDR --rate MBIT [--port P] [--size B]\n"
	       "         [--step S] [--settle S] [--max-sessions N] [--slo-us US]\n"
	       "         [--slo-stat mean|p50|p99] [--stop-after N] [--probe-interval-ms MS]\n"
	       "         [--plot FILE.svg] [--json]\n"
	       "       edgeshift session-test --emit-manifests DIR --to NODE --rate MBIT\n"
	       "         [--max-sessions N] [--step S] [--namespace NS] [--image IMG]\n"
	       "         [--generator edgeshift|iperf3]\n"
	       "Adds sessions of MBIT Mbit/s (UDP payload, datagrams of B bytes, default\n"
	       "1400) one at a time towards `es-session sink` on ADDR port P (default %d).\n"
	       "Each step settles for S seconds (default 0.5), then measures for --step\n"
	       "seconds (default 10): offered and received throughput, loss, and the\n"
	       "round trip of probes every MS ms (default 5) through the loaded path.\n"
	       "The run stops after N steps in a row miss the SLO (default 2; 0: never)\n"
	       "or at --max-sessions (default 20) and reports the largest session count\n"
	       "whose latency (--slo-stat, default mean, as Paper A) stayed within\n"
	       "--slo-us (default 1000). See docs/session-test.md.\n", ES_SW_PORT);
}

static int parse_stat(const char *s, enum st_stat *out)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(s, st_stat_names[i]))
			return *out = i, 0;
	return es_tool_usage_error(&cli, "--slo-stat: '%s' is none of mean, p50, p99", s);
}

static int parse_one(struct st_opts *o, int id, const char *a)
{
	uint64_t v;

	switch (id) {
	case OPT_TO: o->to = a; return 0;
	case OPT_PORT: return es_tool_parse_port(&cli, id, a, &o->port);
	case OPT_RATE: return es_tool_parse_double(&cli, id, a, 0.001, 100000, &o->rate_mbit);
	case OPT_SIZE:
		if (es_tool_parse_u64(&cli, id, a, ES_SW_HDR_LEN, 65507, &v))
			return -1;
		o->size = v;
		return 0;
	case OPT_STEP: return es_tool_parse_double(&cli, id, a, 0.1, 86400, &o->step_s);
	case OPT_SETTLE: return es_tool_parse_double(&cli, id, a, 0, 3600, &o->settle_s);
	case OPT_MAX:
		if (es_tool_parse_u64(&cli, id, a, 1, ES_SW_MAX_SESSIONS, &v))
			return -1;
		o->max_sessions = v;
		return 0;
	case OPT_SLO: return es_tool_parse_double(&cli, id, a, 1, 1e9, &o->slo_us);
	case OPT_SLO_STAT: return parse_stat(a, &o->slo_stat);
	case OPT_STOP_AFTER:
		if (es_tool_parse_u64(&cli, id, a, 0, ES_SW_MAX_SESSIONS, &v))
			return -1;
		o->stop_after = v;
		return 0;
	case OPT_PROBE: return es_tool_parse_double(&cli, id, a, 0.1, 10000, &o->probe_ms);
	case OPT_PLOT: o->plot = a; return 0;
	case OPT_JSON: o->json = true; return 0;
	case OPT_MANIFESTS: o->manifests = a; return 0;
	case OPT_NAMESPACE: o->k8s_namespace = a; return 0;
	case OPT_IMAGE: o->image = a; return 0;
	case OPT_GENERATOR:
		if (strcmp(a, "edgeshift") && strcmp(a, "iperf3"))
			return es_tool_usage_error(&cli, "--generator: '%s' is neither edgeshift "
						   "nor iperf3", a);
		o->generator = a;
		return 0;
	}
	return -1;
}

static int parse_opts(int argc, char **argv, struct st_opts *o)
{
	int id;

	optind = 1;
	while ((id = es_tool_next_opt(&cli, argc, argv, NULL)) > 0) {
		if (id == OPT_HELP)
			return usage(), 1;
		if (parse_one(o, id, optarg))
			return -1;
	}
	if (id < 0)
		return -1;
	if (!o->to || !o->rate_mbit)
		return es_tool_usage_error(&cli, "--to and --rate are required");
	return 0;
}

static void print_table(json_t *r)
{
	json_t *s, *l;
	size_t i;

	printf("session test to %s, %g Mbit/s per session, %g s per step, SLO %s <= %g us\n",
	       json_string_value(json_object_get(r, "destination")),
	       json_real_value(json_object_get(r, "rate_mbit")),
	       json_real_value(json_object_get(r, "step_s")),
	       json_string_value(json_object_get(r, "slo_stat")),
	       json_real_value(json_object_get(r, "slo_us")));
	printf("%8s %9s %9s %7s %10s %10s %10s %17s %s\n", "SESSIONS", "OFFERED", "ACHIEVED",
	       "LOSS%", "MEAN_US", "P50_US", "P99_US", "PER_SESSION_MBIT", "SLO");
	json_array_foreach(json_object_get(r, "steps"), i, s) {
		l = json_object_get(s, "latency_us");
		printf("%8lld %9.2f %9.2f %7.2f %10.1f %10.1f %10.1f %8.3f..%-8.3f %s\n",
		       json_integer_value(json_object_get(s, "sessions")),
		       json_real_value(json_object_get(s, "offered_mbit")),
		       json_real_value(json_object_get(s, "achieved_mbit")),
		       json_real_value(json_object_get(s, "loss")) * 100,
		       json_real_value(json_object_get(l, "mean")),
		       json_real_value(json_object_get(l, "p50")),
		       json_real_value(json_object_get(l, "p99")),
		       json_real_value(json_object_get(s, "session_min_mbit")),
		       json_real_value(json_object_get(s, "session_max_mbit")),
		       json_is_true(json_object_get(s, "slo_met")) ? "met" : "missed");
	}
	printf("largest session count meeting the SLO: %lld (%.1f Mbit/s)\n",
	       json_integer_value(json_object_get(r, "max_sessions_meeting_slo")),
	       json_real_value(json_object_get(r, "max_mbit_meeting_slo")));
}

int cmd_session_test(const struct cli *c, int argc, char **argv)
{
	struct st_opts o = {
		.port = ES_SW_PORT, .size = 1400, .step_s = 10, .settle_s = 0.5,
		.max_sessions = 20, .slo_us = 1000, .slo_stat = ST_MEAN, .stop_after = 2,
		.probe_ms = 5, .generator = "edgeshift",
	};
	struct cli out = *c;
	json_t *result = NULL;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (o.manifests)
		return st_emit_manifests(&o) ? 1 : 0;
	es_tool_setup_signals(true);
	err = st_run(&o, &result);
	if (err)
		return 1;
	if (o.plot && st_write_plot(&o, result, o.plot))
		err = 1;
	else if (o.plot)
		json_object_set_new(result, "plot", json_string(o.plot));
	out.json = o.json;
	cli_emit(&out, result, print_table);
	return err;
}
