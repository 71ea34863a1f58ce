// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift migrate: asks the source agent (--api, the local one by
 * default) to move a running container to another node, shows phase,
 * bytes and rate while it runs (stderr), and a per-phase summary at the
 * end (--json: the agent's migration document). The source keeps the
 * container running until the target runs it, and stops it only with
 * --stop-source (at once after success) or --stop-source-of ID (later).
 * --merge-logs merges the event logs of both nodes and computes the
 * migration time from them (first "requested" to the target's
 * "restore_end"). The token comes from $EDGESHIFT_TOKEN or --token-file.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "cli.h"
#include "tool/opts.h"

struct mig_opts {
	const char	*container, *to, *mode, *stop_of, *status_of, *id;
	bool		stop_source;
	long		wait_s;
	char		**logs;
	int		n_logs;
	/* read by the options only */
	bool		merge, json;
	const char	*token_file;
};

static void fmt_bytes(json_t *v, char *buf, size_t len)
{
	cli_human_bytes(json_integer_value(v), buf, len);
}

static void print_summary(json_t *m)
{
	json_t *phases = json_object_get(m, "phases"), *p, *objs = json_object_get(m, "objects");
	char b1[32], b2[32];
	const char *name;
	size_t i;

	printf("migration %s: %s from %s to %s, %s mode: %s\n",
	       json_string_value(json_object_get(m, "id")),
	       json_string_value(json_object_get(m, "container")),
	       json_string_value(json_object_get(m, "from")),
	       json_string_value(json_object_get(m, "to")),
	       json_string_value(json_object_get(m, "mode")),
	       json_string_value(json_object_get(m, "state")));
	printf("%-12s %10s %12s %12s\n", "PHASE", "MS", "BYTES", "RAW_BYTES");
	json_array_foreach(phases, i, p) {
		fmt_bytes(json_object_get(p, "bytes"), b1, sizeof(b1));
		fmt_bytes(json_object_get(p, "raw_bytes"), b2, sizeof(b2));
		printf("%-12s %10.1f %12s %12s\n", json_string_value(json_object_get(p, "name")),
		       json_number_value(json_object_get(p, "ms")), b1, b2);
	}
	printf("%-12s %10s %12s %12s\n", "OBJECT", "", "SENT", "RAW");
	json_object_foreach(objs, name, p) {
		fmt_bytes(json_object_get(p, "bytes"), b1, sizeof(b1));
		fmt_bytes(json_object_get(p, "raw_bytes"), b2, sizeof(b2));
		printf("%-12s %10s %12s %12s\n", name, "", b1, b2);
	}
	printf("source paused %.1f ms for the dump and the layer",
	       json_number_value(json_object_get(m, "freeze_ms")));
	if (json_object_get(m, "migration_ms"))
		printf("; migration time %.1f ms (requested -> running at the target)",
		       json_number_value(json_object_get(m, "migration_ms")));
	printf("\n");
	if (!strcmp(json_string_value(json_object_get(m, "state")) ?: "", "restored"))
		printf("the source still runs it: edgeshift migrate --stop-source-of %s\n",
		       json_string_value(json_object_get(m, "id")));
	if (json_object_get(m, "error"))
		printf("error: %s\n", json_string_value(json_object_get(m, "error")));
}

static void show_progress(json_t *m, const char **last_phase, int tty)
{
	const char *phase = json_string_value(json_object_get(m, "phase")) ?: "?";
	char sent[32], total[32], rate[32];

	fmt_bytes(json_object_get(m, "bytes_sent"), sent, sizeof(sent));
	fmt_bytes(json_object_get(m, "bytes_total"), total, sizeof(total));
	cli_human_bytes(json_number_value(json_object_get(m, "rate_bps")), rate, sizeof(rate));
	if (tty)
		fprintf(stderr, "\r\033[K%-11s %s / %s  %s/s", phase, sent, total, rate);
	else if (!*last_phase || strcmp(*last_phase, phase))
		fprintf(stderr, "migrate: %s (%s / %s sent)\n", phase, sent, total);
	*last_phase = phase;
}

static bool finished(json_t *m)
{
	const char *st = json_string_value(json_object_get(m, "state")) ?: "";

	return strcmp(st, "running") != 0;
}

static int follow(const struct cli *c, const char *id, long wait_s)
{
	char path[256], err[512], phase_buf[32] = "";
	const char *last = NULL;
	int tty = isatty(2);
	time_t deadline = time(NULL) + wait_s;
	json_t *m = NULL;

	snprintf(path, sizeof(path), "/v1/migrations/%s", id);
	for (;;) {
		json_decref(m);
		m = cli_api_get(c, path, err, sizeof(err));
		if (!m) {
			fprintf(stderr, "%sedgeshift migrate: %s\n", tty ? "\n" : "", err);
			return 1;
		}
		show_progress(m, &last, tty);
		snprintf(phase_buf, sizeof(phase_buf), "%s", last ?: "");
		last = phase_buf;
		if (finished(m) || time(NULL) > deadline)
			break;
		usleep(200000);
	}
	if (tty)
		fprintf(stderr, "\n");
	if (!finished(m))
		fprintf(stderr, "edgeshift migrate: still running after %ld s (see --status %s)\n",
			wait_s, id);
	else if (!strcmp(json_string_value(json_object_get(m, "state")), "failed"))
		fprintf(stderr, "edgeshift migrate: failed in phase %s: %s\n",
			json_string_value(json_object_get(m, "phase")),
			json_string_value(json_object_get(m, "error")));
	int ok = finished(m) && strcmp(json_string_value(json_object_get(m, "state")), "failed");
	cli_emit(c, m, print_summary);
	return ok ? 0 : 1;
}

static int start(const struct cli *c, const struct mig_opts *o)
{
	json_t *req, *resp;
	char err[512];
	const char *id;
	int ret;

	req = json_pack("{s:s,s:s,s:s,s:b}", "container", o->container, "to", o->to, "mode",
			o->mode, "stop_source", o->stop_source);
	resp = cli_api_post(c, "/v1/migrations", req, err, sizeof(err));
	json_decref(req);
	if (!resp) {
		fprintf(stderr, "edgeshift migrate: %s\n", err);
		return 1;
	}
	id = json_string_value(json_object_get(resp, "id"));
	if (!id) {
		json_decref(resp);
		fprintf(stderr, "edgeshift migrate: the agent gave no migration id\n");
		return 1;
	}
	fprintf(stderr, "migrate: %s -> %s (%s), migration %s\n", o->container, o->to, o->mode, id);
	ret = follow(c, id, o->wait_s);
	json_decref(resp);
	return ret;
}

static int stop_source(const struct cli *c, const char *id)
{
	char path[256], err[512];
	json_t *m;

	snprintf(path, sizeof(path), "/v1/migrations/%s/stop-source", id);
	m = cli_api_post(c, path, NULL, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "edgeshift migrate: %s\n", err);
		return 1;
	}
	return cli_emit(c, m, print_summary);
}

/* Every event line of the files, optionally of one migration, in time order. */
static json_t *load_events(char **files, int n, const char *id)
{
	json_t *all = json_array(), *e;
	char line[8192];
	int i;

	for (i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f) {
			fprintf(stderr, "edgeshift migrate: %s: %s\n", files[i], strerror(errno));
			json_decref(all);
			return NULL;
		}
		while (fgets(line, sizeof(line), f)) {
			e = json_loads(line, 0, NULL);
			if (!e || (id && strcmp(json_string_value(json_object_get(e, "migration")) ?: "",
						id))) {
				json_decref(e);
				continue;
			}
			json_array_append_new(all, e);
		}
		fclose(f);
	}
	return all;
}

static int by_time(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "ts_ns"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "ts_ns"));

	return x < y ? -1 : x > y;
}

static json_t *sorted(json_t *a)
{
	size_t n = json_array_size(a), i;
	json_t **v = calloc(n + 1, sizeof(*v)), *out = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(a, i);
	qsort(v, n, sizeof(*v), by_time);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(a);
	return out;
}

/* Per migration: events, migration time (requested -> target restore_end), outcome. */
static json_t *summarise(json_t *events)
{
	json_t *by_id = json_object(), *e, *m;
	size_t i;

	json_array_foreach(events, i, e) {
		const char *id = json_string_value(json_object_get(e, "migration")) ?: "?";
		const char *ev = json_string_value(json_object_get(e, "event")) ?: "";
		const char *role = json_string_value(json_object_get(e, "role")) ?: "";
		json_int_t ts = json_integer_value(json_object_get(e, "ts_ns"));

		m = json_object_get(by_id, id);
		if (!m) {
			m = json_pack("{s:s,s:O,s:[]}", "id", id, "container",
				      json_object_get(e, "container"), "events");
			json_object_set_new(by_id, id, m);
		}
		json_array_append(json_object_get(m, "events"), e);
		if (!strcmp(ev, "requested"))
			json_object_set_new(m, "requested_ns", json_integer(ts));
		if (!strcmp(ev, "restore_end") && !strcmp(role, "target"))
			json_object_set_new(m, "running_ns", json_integer(ts));
		if (!strcmp(ev, "source_stopped"))
			json_object_set_new(m, "source_stopped_ns", json_integer(ts));
		if (!strcmp(ev, "failed"))
			json_object_set(m, "failure", e);
	}
	json_t *out = json_array();
	const char *key;

	json_object_foreach(by_id, key, m) {
		json_t *rq = json_object_get(m, "requested_ns"), *run = json_object_get(m, "running_ns");

		if (rq && run)
			json_object_set_new(m, "migration_ms",
					    json_real((json_integer_value(run) -
						       json_integer_value(rq)) / 1e6));
		json_object_set_new(m, "outcome", json_string(json_object_get(m, "failure") ?
			"failed" : run ? "running at target" : "incomplete"));
		json_array_append(out, m);
	}
	json_decref(by_id);
	return json_pack("{s:o}", "migrations", out);
}

static void print_merged(json_t *doc)
{
	json_t *migs = json_object_get(doc, "migrations"), *m, *e;
	size_t i, j;

	json_array_foreach(migs, i, m) {
		json_int_t t0 = json_integer_value(json_object_get(m, "requested_ns"));

		printf("migration %s (%s): %s", json_string_value(json_object_get(m, "id")),
		       json_string_value(json_object_get(m, "container")),
		       json_string_value(json_object_get(m, "outcome")));
		if (json_object_get(m, "migration_ms"))
			printf(", migration time %.1f ms",
			       json_number_value(json_object_get(m, "migration_ms")));
		printf("\n%10s  %-20s %-7s %-17s %s\n", "T+MS", "NODE", "ROLE", "EVENT", "DETAIL");
		json_array_foreach(json_object_get(m, "events"), j, e) {
			json_t *b = json_object_get(e, "bytes"), *r = json_object_get(e, "reason");

			printf("%10.1f  %-20s %-7s %-17s", t0 ?
			       (json_integer_value(json_object_get(e, "ts_ns")) - t0) / 1e6 : 0.0,
			       json_string_value(json_object_get(e, "node")),
			       json_string_value(json_object_get(e, "role")),
			       json_string_value(json_object_get(e, "event")));
			if (b)
				printf(" bytes=%lld", json_integer_value(b));
			if (r)
				printf(" reason=\"%s\"", json_string_value(r));
			printf("\n");
		}
	}
}

static int merge_logs(const struct cli *c, const struct mig_opts *o)
{
	json_t *ev = load_events(o->logs, o->n_logs, o->id);

	if (!ev)
		return 1;
	return cli_emit(c, summarise(sorted(ev)), print_merged);
}

static char token_buf[512];

static int read_token(struct cli *c, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "edgeshift migrate: --token-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(token_buf, 1, sizeof(token_buf) - 1, f);
	fclose(f);
	token_buf[n] = '\0';
	token_buf[strcspn(token_buf, "\r\n")] = '\0';
	c->token = token_buf;
	return 0;
}

#define F(field)	ES_OPT_AT(struct mig_opts, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(container), "container", 0, "ID", "the container to move"),
	ES_OPT_STR(F(to), "to", 0, "NODE", "the target node"),
	ES_OPT_STR(F(mode), "mode", 0, "partial|complete", "what moves"),
	ES_OPT_BOOL(F(stop_source), "stop-source", 0, "stop the source container at the end"),
	ES_OPT_STR(F(stop_of), "stop-source-of", 0, "ID", "stop the source of migration ID"),
	ES_OPT_STR(F(status_of), "status", 0, "ID", "the state of migration ID"),
	ES_OPT_BOOL(F(merge), "merge-logs", 0, "merge the event logs FILE... by time"),
	ES_OPT_STR(F(id), "id", 0, "ID", "merge-logs: this migration only"),
	ES_OPT_UINT(F(wait_s), "wait-s", 0, 0, LONG_MAX, "N",
		    "follow the migration this long (default 3600)"),
	ES_OPT_STR(F(token_file), "token-file", 0, "F", "the API token, from file F"),
	ES_OPT_BOOL(F(json), "json", 0, "JSON output"),
	{ }
};

/* Log files may come before the options: they are arguments, permuted. */
static const struct es_opts cli = {
	.prog	= "edgeshift migrate",
	.opts	= opts,
	.usage	= "--container ID --to NODE --mode partial|complete\n"
		  "                         [--stop-source] [--wait-s N] [--token-file F]"
		  " [--json]\n"
		  "       edgeshift migrate --stop-source-of ID | --status ID\n"
		  "       edgeshift migrate --merge-logs FILE... [--id ID] [--json]",
	.args	= true,
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "edgeshift migrate: %s\n", msg);
	es_opts_help(&cli, stderr);
	return 2;
}

int cmd_migrate(const struct cli *c, int argc, char **argv)
{
	struct mig_opts o = { .wait_s = 3600 };
	struct cli cc = *c;
	int n;

	cc.timeout_ms = c->timeout_ms < 10000 ? 10000 : c->timeout_ms;
	n = es_opts_parse(&cli, argc, argv, &o);
	if (n <= 0)
		return n ? 2 : 0;
	if (o.token_file && read_token(&cc, o.token_file))
		return 1;
	cc.json = cc.json || o.json;
	if (o.merge) {
		o.logs = argv + n;
		o.n_logs = argc - n;
		return o.n_logs ? merge_logs(&cc, &o) : usage_error("--merge-logs needs files");
	}
	if (n < argc)
		return usage_error("unexpected argument");
	if (o.stop_of)
		return stop_source(&cc, o.stop_of);
	if (o.status_of)
		return follow(&cc, o.status_of, 0);
	if (!o.container || !o.to || !o.mode)
		return usage_error("--container, --to and --mode are required");
	if (strcmp(o.mode, "partial") && strcmp(o.mode, "complete"))
		return usage_error("--mode must be partial or complete");
	if (o.wait_s <= 0)
		return usage_error("--wait-s must be positive");
	return start(&cc, &o);
}
