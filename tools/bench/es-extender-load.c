// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-extender-load: times a scheduler extender as kube-scheduler uses it.
 * Each round POSTs one ExtenderArgs document to PREFIX/filter, then the
 * same to PREFIX/prioritize, over one kept-alive connection, and records
 * both times; it reports the percentiles of filter, prioritize and their
 * sum. A filter answer with Error set, or any non-200, counts as an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/http_client.h"
#include "tool/opts.h"
#include "tool/tool_util.h"

#define PROG		"es-extender-load"
#define MAX_ROUNDS	1000000

struct opts {
	const char	*prefix, *args;
	uint64_t	rounds, warmup;
	bool		json;
};

#define F(field)	ES_OPT_AT(struct opts, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(prefix), "prefix", 0, "URL",
		   "the extender's urlPrefix (verbs /filter and /prioritize are appended)"),
	ES_OPT_STR(F(args), "args", 0, "FILE", "ExtenderArgs JSON sent to both verbs"),
	ES_OPT_UINT(F(rounds), "rounds", 0, 1, MAX_ROUNDS, "N",
		    "timed rounds of filter + prioritize (default 200)"),
	ES_OPT_UINT(F(warmup), "warmup", 0, 0, MAX_ROUNDS, "N",
		    "untimed rounds first (default 20)"),
	ES_OPT_BOOL(F(json), "json", 0, "print the summary as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= PROG,
	.opts	= opts,
	.usage	= "--prefix URL --args FILE [--rounds N] [--warmup N] [--json]",
};

static int parse(int argc, char **argv, struct opts *o)
{
	int n;

	*o = (struct opts){ .rounds = 200, .warmup = 20 };
	n = es_opts_parse(&cli, argc, argv, o);
	if (n <= 0)
		return n ? -1 : 1;
	if (!o->prefix || !o->args)
		return es_opts_error(&cli, "--prefix and --args are required");
	return 0;
}

/* One POST; its time in ns, or 0 on an error. */
static uint64_t post(struct es_http_conn *c, const char *url, const char *body, size_t len,
		     bool filter)
{
	const struct es_http_request req = {
		.url = url, .body = body, .body_len = len, .total_ms = 10000,
		.max_answer = 64u << 20, .conn = c,
	};
	uint64_t t0 = es_now_ns(), t;
	struct es_http_response r;
	char why[256];
	json_t *j;
	bool ok;

	ok = !es_http_perform(&req, &r, why, sizeof(why));
	t = es_now_ns() - t0;
	ok = ok && r.status == 200;
	if (ok && filter) {
		j = json_loadb(r.body, r.len, 0, NULL);
		ok = j && !json_string_length(json_object_get(j, "Error"));
		json_decref(j);
	}
	es_http_response_free(&r);
	return ok ? t : 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static json_t *percentiles(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return json_pack("{s:f,s:f,s:f}", "p50_us", v[(n - 1) / 2] / 1e3,
			 "p99_us", v[(n * 99 + 99) / 100 - 1] / 1e3, "max_us", v[n - 1] / 1e3);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char furl[1024], purl[1024], *body;
	uint64_t *tf, *tp, *tt, a, b, i, errors = 0, n = 0;
	struct es_tool_progress prog;
	struct opts o;
	size_t len = 0;
	json_t *out;
	struct es_http_conn *c;
	int ret;

	ret = parse(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	body = read_file(o.args, &len);
	if (!body)
		return fprintf(stderr, PROG ": cannot read %s: %m\n", o.args), 1;
	snprintf(furl, sizeof(furl), "%s/filter", o.prefix);
	snprintf(purl, sizeof(purl), "%s/prioritize", o.prefix);
	c = es_http_conn_new();
	tf = calloc(o.rounds, sizeof(*tf));
	tp = calloc(o.rounds, sizeof(*tp));
	tt = calloc(o.rounds, sizeof(*tt));
	if (!c || !tf || !tp || !tt)
		return fprintf(stderr, PROG ": out of memory\n"), 1;
	es_tool_setup_signals(true);
	es_tool_progress_init(&prog, PROG);
	for (i = 0; i < o.warmup + o.rounds && !es_tool_stop_signal(); i++) {
		a = post(c, furl, body, len, true);
		b = post(c, purl, body, len, false);
		if (i < o.warmup)
			continue;
		if (!a || !b) {
			errors++;
			continue;
		}
		tf[n] = a;
		tp[n] = b;
		tt[n++] = a + b;
		es_tool_progress(&prog, "%llu of %llu rounds", (unsigned long long)n,
				 (unsigned long long)o.rounds);
	}
	es_tool_progress_clear(&prog);
	if (!n)
		return fprintf(stderr, PROG ": no round succeeded (%llu errors)\n",
			       (unsigned long long)errors), 1;
	out = json_pack("{s:I,s:I,s:I,s:o,s:o,s:o}", "rounds", (json_int_t)n,
			"errors", (json_int_t)errors, "body_bytes", (json_int_t)len,
			"filter", percentiles(tf, n), "prioritize", percentiles(tp, n),
			"filter_plus_prioritize", percentiles(tt, n));
	es_tool_emit(out, o.json, "extender latency", 28);
	json_decref(out);
	es_http_conn_free(c);
	free(body);
	return errors ? 1 : 0;
}
