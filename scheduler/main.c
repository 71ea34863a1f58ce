// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift-scheduler: the Kubernetes scheduler extender daemon. Runs in
 * the foreground; SIGTERM or SIGINT stop it within one Prometheus query
 * timeout (the refresh in flight is the only thing waited for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/log.h"
#include "tool/daemon.h"
#include "tool/opts.h"
#include "es_sched.h"

#define ERR_LEN 1024

/* The command line; flags override the file, so they apply after it. */
struct options {
	const char	*config_path;
	const char	*listen;
	const char	*prom_url;
	const char	*log_level;
	bool		check_only;
	bool		version;
};

#define F(field)	ES_OPT_AT(struct options, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(config_path), "config", 'c', "FILE",
		   "JSON policy and settings (docs/scheduler-extender.md)"),
	ES_OPT_STR(F(listen), "listen", 'l', "ADDR:PORT", "HTTP address (default 0.0.0.0:8888)"),
	ES_OPT_STR(F(prom_url), "prometheus", 'P', "URL",
		   "Prometheus base URL (default http://127.0.0.1:9090)"),
	ES_OPT_STR(F(log_level), "log-level", 0, "LEVEL",
		   "debug, info, warn or error (default info)"),
	ES_OPT_BOOL(F(check_only), "check-config", 0, "validate the configuration and exit"),
	ES_OPT_BOOL(F(version), "version", 'V', "print the version and exit"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift-scheduler",
	.opts	= opts,
	.usage	= "[options]",
	.doc	= "Kubernetes scheduler extender (filter and prioritize verbs) placing pods\n"
		  "by the network signals of edgeshiftd, read from Prometheus.\n\n",
	.epilog	= "\nVerbs: POST <prefix>/filter, POST <prefix>/prioritize "
		  "(ExtenderArgs JSON).\n"
		  "Also: GET /v1/nodes (inputs in use), /metrics, /healthz.\n",
};

/* 0 to run, 1 when done (help, version), -1 on an error. */
static int parse_args(int argc, char **argv, struct sched_config *cfg, struct options *o)
{
	char err[ERR_LEN];
	int n;

	n = es_opts_parse(&cli, argc, argv, o);
	if (n <= 0)
		return n ? -1 : 1;
	if (o->version)
		return printf("edgeshift-scheduler %s\n", SCHED_VERSION), 1;
	if (o->config_path && sched_config_load_file(cfg, o->config_path, err, sizeof(err)))
		return fprintf(stderr, "edgeshift-scheduler: %s\n", err), -1;
	/* refused when too long, as the file's fields are: never cut to fit */
	if (o->listen && strlen(o->listen) >= sizeof(cfg->listen))
		return fprintf(stderr, "edgeshift-scheduler: --listen is too long\n"), -1;
	if (o->prom_url && strlen(o->prom_url) >= sizeof(cfg->prom_url))
		return fprintf(stderr, "edgeshift-scheduler: --prometheus is too long\n"), -1;
	if (o->listen)
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", o->listen);
	if (o->prom_url)
		snprintf(cfg->prom_url, sizeof(cfg->prom_url), "%s", o->prom_url);
	if (es_daemon_log_level("edgeshift-scheduler", o->log_level))
		return -1;
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

	es_daemon_block_signals(&set);
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
	/*
	 * The snapshot in use ages by a refresh's queries (one after another,
	 * each up to the timeout), the interval, and the next refresh's
	 * queries: a bound below that leaves the verbs without inputs at each
	 * refresh whenever Prometheus is slow.
	 */
	if (cfg->max_staleness_ms < cfg->refresh_ms + 2ULL * SIG_MAX * cfg->prom_timeout_ms)
		es_warn("max_staleness_tight", "max_staleness_ms=%u refresh_ms=%u timeout_ms=%u "
			"queries=%d reason=\"below refresh_ms + 2 x queries x timeout_ms\"",
			cfg->max_staleness_ms, cfg->refresh_ms, cfg->prom_timeout_ms, SIG_MAX);
	es_daemon_wait(&set);
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
