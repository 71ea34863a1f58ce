// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift session-test: how many fixed-rate sessions a path holds within
 * a latency SLO (docs/session-test.md). Adds sessions one at a time towards an
 * `es-session sink`, measures latency under load at every step, and ends
 * with the largest session count that met the SLO; or, with
 * --emit-manifests, writes the Kubernetes objects of the same test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "session_test.h"
#include "tool/opts.h"
#include "tool/tool_util.h"

static int parse_generator(const struct es_opts *cli, const struct es_opt *opt,
			   const char *a, void *conf)
{
	(void)opt;
	if (strcmp(a, "edgeshift") && strcmp(a, "iperf3"))
		return es_opts_error(cli, "--generator: '%s' is neither edgeshift "
				     "nor iperf3", a);
	((struct st_opts *)conf)->generator = a;
	return 0;
}

static const struct es_opt_name slo_stats[] = {
	{ "mean", ST_MEAN }, { "p50", ST_P50 }, { "p99", ST_P99 }, { }
};

#define F(field)	ES_OPT_AT(struct st_opts, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(to), "to", 0, "ADDR", "the sink (or, with --emit-manifests, its node)"),
	ES_OPT_UINT(F(port), "port", 0, 1, 65535, "P", "the sink's UDP port"),
	ES_OPT_DOUBLE(F(rate_mbit), "rate", 0, 0.001, 100000, "MBIT",
		      "Mbit/s of UDP payload per session"),
	ES_OPT_UINT(F(size), "size", 0, ES_SW_HDR_LEN, 65507, "B",
		    "datagram payload bytes (default 1400)"),
	ES_OPT_DOUBLE(F(step_s), "step", 0, 0.1, 86400, "S",
		      "measured seconds per step (default 10)"),
	ES_OPT_DOUBLE(F(settle_s), "settle", 0, 0, 3600, "S",
		      "seconds before measuring (default 0.5)"),
	ES_OPT_UINT(F(max_sessions), "max-sessions", 0, 1, ES_SW_MAX_SESSIONS, "N",
		    "the last step (default 20)"),
	ES_OPT_DOUBLE(F(slo_us), "slo-us", 0, 1, 1e9, "US", "latency SLO (default 1000)"),
	ES_OPT_ENUM(F(slo_stat), "slo-stat", 0, slo_stats, "mean|p50|p99",
		    "the latency the SLO bounds (default mean)"),
	ES_OPT_UINT(F(stop_after), "stop-after", 0, 0, ES_SW_MAX_SESSIONS, "N",
		    "steps in a row missing the SLO that end the run\n(default 2; 0: never)"),
	ES_OPT_DOUBLE(F(probe_ms), "probe-interval-ms", 0, 0.1, 10000, "MS",
		      "between latency probes (default 5)"),
	ES_OPT_UINT(F(rt_priority), "rt-priority", 0, 0, 99, "N",
		    "SCHED_FIFO priority of the client (default 10;\n0: as started)"),
	ES_OPT_DOUBLE(F(max_late_ms), "max-client-late-ms", 0, 0, 1e6, "MS",
		      "measure a step again when the client fell this\nfar behind its schedule "
		      "(default 10; 0: never)"),
	ES_OPT_UINT(F(remeasure), "remeasure", 0, 0, 100, "N",
		    "at most N times (default 4)"),
	ES_OPT_STR(F(plot), "plot", 0, "FILE.svg", "plot the steps"),
	ES_OPT_BOOL(F(json), "json", 0, "the result as one JSON object"),
	ES_OPT_BOOL(F(progress_json), "progress-json", 0,
		    "progress and the result as JSON lines on stdout\n(for a program, such as the console)"),
	ES_OPT_STR(F(manifests), "emit-manifests", 0, "DIR",
		   "write the Kubernetes objects of the test instead"),
	ES_OPT_STR(F(k8s_namespace), "namespace", 0, "NS", "their namespace"),
	ES_OPT_STR(F(image), "image", 0, "IMG", "their image"),
	ES_OPT_FUNC("generator", 0, parse_generator, "edgeshift|iperf3",
		    "what the pods send with"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift session-test",
	.opts	= opts,
	.usage	= "--to ADDR --rate MBIT [--port P] [--size B]\n"
		  "         [--step S] [--settle S] [--max-sessions N] [--slo-us US]\n"
		  "         [--slo-stat mean|p50|p99] [--stop-after N] [--probe-interval-ms MS]\n"
		  "         [--rt-priority N]\n"
		  "         [--plot FILE.svg] [--json | --progress-json]\n"
		  "       edgeshift session-test --emit-manifests DIR --to NODE --rate MBIT\n"
		  "         [--max-sessions N] [--step S] [--namespace NS] [--image IMG]\n"
		  "         [--generator edgeshift|iperf3]",
	.doc	= "Adds sessions of MBIT Mbit/s (UDP payload, datagrams of B bytes) one at\n"
		  "a time towards `es-session sink` on ADDR port P. Each step settles for\n"
		  "S seconds, then measures for --step seconds: offered and received\n"
		  "throughput, loss, and the round trip of probes every MS ms through the\n"
		  "loaded path. The run stops after N steps in a row miss the SLO or at\n"
		  "--max-sessions and reports the largest session count whose latency\n"
		  "(--slo-stat) stayed within --slo-us. See docs/session-test.md.\n",
};

/* 0 to run, 1 when help was printed, -1 on a usage error. */
static int parse_opts(int argc, char **argv, struct st_opts *o)
{
	int n;

	n = es_opts_parse(&cli, argc, argv, o);
	if (n <= 0)
		return n ? -1 : 1;
	if (!o->to || !o->rate_mbit)
		return es_opts_error(&cli, "--to and --rate are required");
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
		.max_late_ms = 10, .remeasure = 4,
		.probe_ms = 5, .generator = "edgeshift", .rt_priority = 10,
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
	if (o.progress_json)
		return st_emit_event("result", json_pack("{s:o}", "result", result)) ? 1 : err;
	out.json = o.json;
	cli_emit(&out, result, print_table);
	return err;
}
