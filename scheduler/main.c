// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift-scheduler: the Kubernetes scheduler extender daemon. Runs in
 * the foreground; SIGTERM or SIGINT stop it within one Prometheus query
 * timeout (the refresh in flight is the only thing waited for).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/log.h"
#include "es_sched.h"

#define ERR_LEN 1024

struct options {
	const char	*config_path;
	bool		check_only;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: edgeshift-scheduler [options]\n"
		"Kubernetes scheduler extender (filter and prioritize verbs) placing pods\n"
		"by the network signals of edgeshiftd, read from Prometheus.\n\n"
		"  -c, --config FILE        JSON policy and settings (docs/scheduler-extender.md)\n"
		"  -l, --listen ADDR:PORT   HTTP address (default 0.0.0.0:8888)\n"
		"  -P, --prometheus URL     Prometheus base URL (default http://127.0.0.1:9090)\n"
		"      --log-level LEVEL    debug, info, warn or error (default info)\n"
		"      --check-config       validate the configuration and exit\n"
		"  -V, --version            print the version and exit\n"
		"  -h, --help               this text\n\n"
		"Verbs: POST <prefix>/filter, POST <prefix>/prioritize (ExtenderArgs JSON).\n"
		"Also: GET /v1/nodes (inputs in use), /metrics, /healthz.\n");
}

static int parse_args(int argc, char **argv, struct sched_config *cfg, struct options *o)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "prometheus", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *short_opts = "c:l:P:Vh";
	enum es_log_level lvl;
	char err[ERR_LEN];
	int c;

	while ((c = getopt_long(argc, argv, short_opts, lopts, NULL)) != -1) {
		if (c == 'c')
			o->config_path = optarg;
		else if (c == 'h' || c == '?')
			return usage(c == 'h' ? stdout : stderr), c == 'h' ? 1 : -1;
		else if (c == 'V')
			return printf("edgeshift-scheduler %s\n", SCHED_VERSION), 1;
	}
	if (o->config_path && sched_config_load_file(cfg, o->config_path, err, sizeof(err)))
		return fprintf(stderr, "edgeshift-scheduler: %s\n", err), -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, short_opts, lopts, NULL)) != -1) {
		if (c == 'l')
			snprintf(cfg->listen, sizeof(cfg->listen), "%s", optarg);
		else if (c == 'P')
			snprintf(cfg->prom_url, sizeof(cfg->prom_url), "%s", optarg);
		else if (c == 'C')
			o->check_only = true;
		else if (c == 'L' && es_log_parse_level(optarg, &lvl))
			return fprintf(stderr, "edgeshift-scheduler: --log-level must be debug, info, warn or error\n"), -1;
		else if (c == 'L')
			es_log_set_level(lvl);
	}
	if (optind < argc)
		return fprintf(stderr, "edgeshift-scheduler: unexpected argument \"%s\"\n", argv[optind]), -1;
	if (sched_config_validate(cfg, err, sizeof(err)))
		return fprintf(stderr, "edgeshift-scheduler: %s\n", err), -1;
	return 0;
}

static int run(struct sched_config *cfg)
{
	struct metrics_cache *mc;
	struct es_http_server *http;
	char err[ERR_LEN];
	sigset_t set;
	int sig = 0;

	/* Blocked before any thread starts, so only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	mc = metrics_cache_start(cfg);
	if (!mc) {
		es_error("start_failed", "error=\"cannot start the refresh thread\"");
		return 1;
	}
	http = sched_http_start(cfg, mc, err, sizeof(err));
	if (!http) {
		es_error("http_failed", "error=\"%s\"", err);
		metrics_cache_stop(mc);
		return 1;
	}
	es_info("ready", "listen=%s prometheus=%s refresh_ms=%u max_staleness_ms=%u on_metrics_unavailable=%s on_node_without_data=%s",
		cfg->listen, cfg->prom_url, cfg->refresh_ms, cfg->max_staleness_ms,
		cfg->on_unavailable == UNAVAILABLE_PASS ? "pass" : "error",
		cfg->on_no_data == NO_DATA_PASS ? "pass" : "fail");
	sigwait(&set, &sig);
	es_info("signal", "signo=%d", sig);
	sched_http_stop(http);
	metrics_cache_stop(mc);
	es_info("stopped", "error=0");
	return 0;
}

int main(int argc, char **argv)
{
	static struct sched_config cfg;
	struct options o = {};
	int ret;

	sched_config_defaults(&cfg);
	ret = parse_args(argc, argv, &cfg, &o);
	if (ret) {
		sched_config_free(&cfg);
		return ret > 0 ? 0 : 2;
	}
	if (o.check_only) {
		printf("configuration is valid\n");
		sched_config_free(&cfg);
		return 0;
	}
	ret = run(&cfg);
	sched_config_free(&cfg);
	return ret;
}
