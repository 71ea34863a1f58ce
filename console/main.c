// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift-console: the web console of an edge site (docs/console.md).
 * Runs in the foreground; SIGTERM or SIGINT stop it within one agent
 * timeout (the polls in flight are the only thing waited for).
 */
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "console.h"
#include "util/log.h"
#include "tool/daemon.h"

#define ERR_LEN 1024

struct options {
	struct es_opt_multi	agents;
	struct es_opt_multi	control_plane;
	const char		*listen;
	const char		*ui_dir;
	const char		*token_file;
	const char		*edgeshift;
	const char		*prom_url;
	const char		*log_level;
	unsigned int		refresh_ms;
	unsigned int		history_s;
	bool			version;
};

#define F(field)	ES_OPT_AT(struct options, field)
static const struct es_opt opts[] = {
	ES_OPT_MULTI(F(control_plane), "control-plane", 'C', "URL",
		     "an agent on a control-plane node (listed first); repeat for more"),
	ES_OPT_MULTI(F(agents), "agent", 'a', "URL", "an agent on a worker node; repeat for more"),
	ES_OPT_STR(F(listen), "listen", 'l', "ADDR:PORT", "HTTP address (default 127.0.0.1:8080)"),
	ES_OPT_STR(F(log_level), "log-level", 0, "LEVEL",
		   "debug, info, warn or error (default info)"),
	ES_OPT_STR(F(ui_dir), "ui", 0, "DIR",
		   "the page's files (default: console-ui beside the binary)"),
	ES_OPT_STR(F(prom_url), "prometheus", 'P', "URL",
		   "Prometheus scraping the agents: the node and resource views' source\n"
		   "(default: none, the agents' figures and the console's own samples)"),
	ES_OPT_STR(F(token_file), "token-file", 0, "FILE",
		   "the agents' bearer token: unlocks actions (default: read-only)"),
	ES_OPT_STR(F(edgeshift), "edgeshift", 0, "PATH",
		   "the edgeshift CLI that runs session tests\n(default: the one beside this program)"),
	ES_OPT_UINT(F(refresh_ms), "refresh-ms", 0, 200, 60000, "MS",
		    "poll every agent this often (default 1000)"),
	ES_OPT_UINT(F(history_s), "history", 0, 10, 86400, "S",
		    "seconds of samples kept for the resource view (default 900)"),
	ES_OPT_BOOL(F(version), "version", 'V', "print the version and exit"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift-console",
	.opts	= opts,
	.usage	= "--control-plane URL --agent URL... [options]",
	.doc	= "Web console of an edge site: the node, resource and sessions views over\n"
		  "the agents' GET /v1/node and /v1/sessions.\n\n",
	.epilog	= "\nServes GET / (the page), /api/nodes, /api/history?window=S,\n"
		  "/api/sessions?node=ID&sort=KEY&order=asc|desc&limit=N, /api/migrations,\n"
		  "/api/session-test, /healthz; POST and DELETE /api/session-test with the token.\n",
};

/*
 * The UI directory the build puts beside the binary (build/console-ui),
 * else where `make install` puts it (PREFIX/share/edgeshift/console-ui).
 */
static void default_ui_dir(char *dst, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return;
	exe[n] = '\0';
	dirname(exe);
	if (snprintf(dst, len, "%s/console-ui", exe) >= (int)len || !access(dst, R_OK | X_OK))
		return;
	if (snprintf(dst, len, "%s/../share/edgeshift/console-ui", exe) >= (int)len)
		dst[0] = '\0';
}

/* The edgeshift CLI beside this program (build/ and PREFIX/bin alike). */
static void default_edgeshift(char *dst, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	dst[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	dirname(exe);
	if (snprintf(dst, len, "%s/edgeshift", exe) >= (int)len)
		dst[0] = '\0';
}

static int add_nodes(struct con_config *cfg, const struct es_opt_multi *m, bool cp)
{
	char err[ERR_LEN];
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (con_config_add_node(cfg, m->v[i], cp, err, sizeof(err)))
			return fprintf(stderr, "edgeshift-console: %s\n", err), -1;
	return 0;
}

/* The flags into cfg: 0, or -1 after a message on stderr. */
static int apply_options(const struct options *o, struct con_config *cfg)
{
	char err[ERR_LEN];

	if (add_nodes(cfg, &o->control_plane, true) || add_nodes(cfg, &o->agents, false))
		return -1;
	if (!cfg->n_nodes)
		return fprintf(stderr, "edgeshift-console: name at least one agent "
			       "(--control-plane URL or --agent URL)\n"), -1;
	if (o->listen)
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", o->listen);
	if (o->ui_dir)
		snprintf(cfg->ui_dir, sizeof(cfg->ui_dir), "%s", o->ui_dir);
	else
		default_ui_dir(cfg->ui_dir, sizeof(cfg->ui_dir));
	if (access(cfg->ui_dir, R_OK | X_OK))
		return fprintf(stderr, "edgeshift-console: UI directory '%s' cannot be read "
			       "(make builds build/console-ui; or give --ui DIR)\n", cfg->ui_dir), -1;
	if (o->edgeshift)
		snprintf(cfg->edgeshift, sizeof(cfg->edgeshift), "%s", o->edgeshift);
	else
		default_edgeshift(cfg->edgeshift, sizeof(cfg->edgeshift));
	if (o->token_file && con_config_load_token(cfg, o->token_file, err, sizeof(err)))
		return fprintf(stderr, "edgeshift-console: %s\n", err), -1;
	if (o->prom_url && con_config_prometheus(cfg, o->prom_url, err, sizeof(err)))
		return fprintf(stderr, "edgeshift-console: %s\n", err), -1;
	if (o->refresh_ms)
		cfg->refresh_ms = o->refresh_ms;
	if (o->history_s)
		cfg->history_s = o->history_s;
	if (es_daemon_log_level("edgeshift-console", o->log_level))
		return -1;
	return 0;
}

/* Stops serving first: the handlers read the poller's nodes. */
static void stop(struct es_http_server *http, struct con_poller *p)
{
	con_http_stop(http);
	con_poller_stop(p);
}

static int run(const struct con_config *cfg)
{
	struct es_http_server *http = NULL;
	struct con_poller *p;
	char err[ERR_LEN];
	sigset_t set;

	es_daemon_block_signals(&set);
	p = con_poller_start(cfg, err, sizeof(err));
	if (p)
		http = con_http_start(cfg, p, err, sizeof(err));
	if (!http) {
		es_error("start_failed", "error=\"%s\"", err);
		con_poller_stop(p);
		return 1;
	}
	es_info("ready", "listen=%s nodes=%u refresh_ms=%u history_s=%u prometheus=\"%s\" read_only=%s ui=\"%s\"",
		cfg->listen, cfg->n_nodes, cfg->refresh_ms, cfg->history_s, cfg->prom_url,
		cfg->token[0] ? "false" : "true", cfg->ui_dir);
	es_daemon_wait(&set);
	stop(http, p);
	es_info("stopped", "error=0");
	return 0;
}

int main(int argc, char **argv)
{
	static struct con_config cfg;
	struct options o = {};
	int n = es_opts_parse(&cli, argc, argv, &o);

	if (n <= 0)		/* 0: --help printed */
		return n ? 2 : 0;
	if (o.version)
		return printf("edgeshift-console %s\n", CON_VERSION), 0;
	con_config_defaults(&cfg);
	return apply_options(&o, &cfg) ? 2 : run(&cfg);
}
