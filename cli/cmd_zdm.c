// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift zdm: start a zero-downtime migration of a container on the
 * local (source) agent for one user session, follow it step by step on
 * the terminal and print the outcome (docs/migration.md, "Zero-downtime
 * migration"). Without --container, lists the agent's zero-downtime
 * migrations.
 */
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "tool/opts.h"

static void table(json_t *m)
{
	json_t *steps = json_object_get(m, "steps");
	json_int_t t0 = json_integer_value(json_object_get(steps, "requested"));
	const char *k;
	json_t *v;

	printf("%s  %s -> %s  %s  session %s  %s\n", json_string_value(json_object_get(m, "id")),
	       json_string_value(json_object_get(m, "from")), json_string_value(json_object_get(m, "to")),
	       json_string_value(json_object_get(m, "mode")),
	       json_string_value(json_object_get(m, "session")),
	       json_string_value(json_object_get(m, "state")));
	json_object_foreach(steps, k, v)
		printf("  %-16s +%9.1f ms\n", k, (json_integer_value(v) - t0) / 1e6);
	printf("  cursor %lld  held and sent %lld  replayed %lld  cut at %lld\n",
	       json_integer_value(json_object_get(m, "hold_seq")),
	       json_integer_value(json_object_get(m, "held_sent")),
	       json_integer_value(json_object_get(m, "replayed")),
	       json_integer_value(json_object_get(m, "cut_seq")));
	if (json_object_get(m, "error"))
		printf("  error: %s\n", json_string_value(json_object_get(m, "error")));
}

static void list_table(json_t *a)
{
	size_t i;
	json_t *m;

	json_array_foreach(a, i, m)
		table(m);
}

/* Follow until done or failed (or wait_s); 0 when done. */
static int follow(const struct cli *c, const char *id, int wait_s, json_t **out)
{
	char path[128], err[512], last[32] = "";
	time_t end = time(NULL) + wait_s;
	json_t *m = NULL;
	const char *st;

	snprintf(path, sizeof(path), "/v1/zdm/migrations/%s", id);
	for (;;) {
		json_decref(m);
		m = cli_api_get(c, path, err, sizeof(err));
		if (!m) {
			fprintf(stderr, "edgeshift zdm: %s\n", err);
			return 1;
		}
		st = json_string_value(json_object_get(m, "step")) ?: "?";
		if (strcmp(st, last) && isatty(2))
			fprintf(stderr, "  step %s\n", st);
		snprintf(last, sizeof(last), "%s", st);
		st = json_string_value(json_object_get(m, "state")) ?: "";
		if (strcmp(st, "running") || time(NULL) >= end)
			break;
		usleep(200000);
	}
	*out = m;
	return strcmp(st, "done") ? 1 : 0;
}

struct zdm_args {
	const char	*ct, *to, *session, *mode;
	int		wait_s;
	bool		json;
};

#define F(field)	ES_OPT_AT(struct zdm_args, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(ct), "container", 0, "ID", "the container to move (none: list)"),
	ES_OPT_STR(F(to), "to", 0, "NODE", "the target node"),
	ES_OPT_STR(F(session), "session", 0, "USER:PORT>SVC:PORT[,...]",
		   "the sessions kept alive (default: every connection of the container's TCP "
		   "services)"),
	ES_OPT_STR(F(mode), "mode", 0, "M", "partial (default) or complete"),
	ES_OPT_UINT(F(wait_s), "wait-s", 0, 0, INT_MAX, "N",
		    "follow the migration this long (default 300)"),
	ES_OPT_BOOL(F(json), "json", 0, "JSON output"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift zdm",
	.opts	= opts,
	.usage	= "[--container ID --to NODE [--session USER:PORT>SVC:PORT[,...]] [--mode M]]"
		  " [--json]",
};

int cmd_zdm(const struct cli *c, int argc, char **argv)
{
	struct zdm_args a = { .mode = "partial", .wait_s = 300 };
	struct cli cc = *c;
	char path[512] = "/v1/zdm/migrations", err[512];
	int n, ret;
	json_t *r, *m = NULL;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	cc.json = cc.json || a.json;
	if (!a.ct) {
		r = cli_api_get(&cc, path, err, sizeof(err));
		if (!r) {
			fprintf(stderr, "edgeshift zdm: %s\n", err);
			return 1;
		}
		return cli_emit(&cc, r, list_table);
	}
	if (!a.to) {
		fprintf(stderr, "edgeshift zdm: --container and --to NODE are needed\n");
		return 2;
	}
	if (cli_append_arg(path, sizeof(path), "container", a.ct) ||
	    cli_append_arg(path, sizeof(path), "to", a.to) ||
	    (a.session && cli_append_arg(path, sizeof(path), "session", a.session)) ||
	    cli_append_arg(path, sizeof(path), "mode", a.mode))
		return 2;
	r = cli_api_post(&cc, path, NULL, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "edgeshift zdm: %s\n", err);
		return 1;
	}
	ret = follow(&cc, json_string_value(json_object_get(r, "id")) ?: "", a.wait_s, &m);
	json_decref(r);
	if (m)
		cli_emit(&cc, m, table);
	return ret;
}
