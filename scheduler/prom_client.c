// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client of Prometheus's HTTP query API (GET /api/v1/query, instant
 * vectors). Each signal is one query returning one sample per node, keyed
 * by the node label. A refresh succeeds only when every query does, so a
 * snapshot never mixes answers of different moments with gaps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "es_sched.h"
#include "http/http_client.h"

#define MAX_BODY	(64u << 20)

/* One sample of the answer. */
struct triple {
	const char	*node;	/* points into the parsed JSON */
	int		sig;
	double		v;
};

struct triples {
	struct triple	*v;
	size_t		n, cap;
	json_t		*docs[SIG_MAX];
};

static int push(struct triples *t, const char *node, int sig, double v)
{
	struct triple *nv;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		nv = realloc(t->v, t->cap * sizeof(*nv));
		if (!nv)
			return -1;
		t->v = nv;
	}
	t->v[t->n++] = (struct triple){ node, sig, v };
	return 0;
}

static int http_get(struct es_http_conn *conn, const char *url, struct es_http_response *r,
		    long timeout_ms, char *err, size_t len)
{
	const struct es_http_request req = {
		.url = url, .connect_ms = timeout_ms, .total_ms = timeout_ms,
		.max_answer = MAX_BODY, .conn = conn,
	};
	char why[256];

	if (es_http_perform(&req, r, why, sizeof(why))) {
		snprintf(err, len, "%s", r->reason);
		return -1;
	}
	if (r->status != 200) {
		snprintf(err, len, "HTTP status %ld", r->status);
		return -1;
	}
	return 0;
}

/* Parse {"status":"success","data":{"resultType":"vector","result":[...]}}. */
static int parse_vector(json_t *doc, const char *label, int sig, struct triples *t,
			char *err, size_t len)
{
	json_t *data = json_object_get(doc, "data"), *res, *e, *val;
	const char *status = json_string_value(json_object_get(doc, "status"));
	const char *node, *s, *type;
	char *end;
	size_t i;
	double v;

	if (!status || strcmp(status, "success")) {
		snprintf(err, len, "status %s: %s", status ? status : "missing",
			 json_string_value(json_object_get(doc, "error")) ?: "no error text");
		return -1;
	}
	type = json_string_value(json_object_get(data, "resultType"));
	res = json_object_get(data, "result");
	if (!type || strcmp(type, "vector") || !json_is_array(res)) {
		snprintf(err, len, "answer is not an instant vector (resultType %s)", type ?: "missing");
		return -1;
	}
	json_array_foreach(res, i, e) {
		node = json_string_value(json_object_get(json_object_get(e, "metric"), label));
		val = json_object_get(e, "value");
		s = json_string_value(json_array_get(val, 1));
		if (!node || !*node || strlen(node) >= sizeof(((struct node_metrics *)0)->name))
			continue;	/* no node label: not a per-node answer */
		/* Prometheus writes every value as a number, NaN or +-Inf: else it is no answer */
		v = s ? strtod(s, &end) : 0;
		if (!s || end == s || *end) {
			snprintf(err, len, "node %s: sample value %s is not a number", node,
				 s ? s : "(not a string)");
			return -1;
		}
		/*
		 * NaN or +-Inf (a recording rule's division by zero) is no
		 * value: an infinite capacity would pass every utilisation filter.
		 */
		if (isfinite(v) && push(t, node, sig, v)) {
			snprintf(err, len, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int run_query(const struct sched_config *cfg, struct es_http_conn *conn, int sig,
		     struct triples *t, char *err, size_t len)
{
	struct es_http_response r = {};
	json_error_t jerr;
	char *q, *url = NULL, why[200];
	int ret = -1;

	q = es_http_escape(cfg->queries[sig]);
	if (!q || asprintf(&url, "%s/api/v1/query?query=%s", cfg->prom_url, q) < 0) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	if (http_get(conn, url, &r, cfg->prom_timeout_ms, why, sizeof(why))) {
		snprintf(err, len, "query %s at %s: %s", sched_signal_names[sig], cfg->prom_url, why);
		goto out;
	}
	t->docs[sig] = json_loadb(r.body, r.len, 0, &jerr);
	if (!t->docs[sig]) {
		snprintf(err, len, "query %s: answer is not JSON: %s", sched_signal_names[sig], jerr.text);
		goto out;
	}
	if (parse_vector(t->docs[sig], cfg->node_label, sig, t, why, sizeof(why))) {
		snprintf(err, len, "query %s: %s", sched_signal_names[sig], why);
		goto out;
	}
	ret = 0;
out:
	free(q);
	free(url);
	es_http_response_free(&r);
	return ret;
}

static int cmp_triple(const void *x, const void *y)
{
	const struct triple *a = x, *b = y;

	return strcmp(a->node, b->node);
}

/* Sorted triples into one entry per node. */
static struct node_metrics *merge(struct triples *t, size_t *n)
{
	struct node_metrics *nodes = calloc(t->n + 1, sizeof(*nodes)), *cur = NULL;
	size_t i;
	int sig;

	*n = 0;
	if (!nodes)
		return NULL;
	qsort(t->v, t->n, sizeof(*t->v), cmp_triple);
	for (i = 0; i < t->n; i++) {
		if (!cur || strcmp(cur->name, t->v[i].node)) {
			cur = &nodes[(*n)++];
			strcpy(cur->name, t->v[i].node);
		}
		/*
		 * Several series for one node (a query not aggregated by the node
		 * label, two agents under one name): no value is the node's, and
		 * no pick is safe for every signal (the largest capacity is the
		 * optimistic one), so the node has none: the missing-data path.
		 */
		sig = t->v[i].sig;
		if (!cur->series[sig]++)
			cur->v[sig] = t->v[i].v;
		cur->has[sig] = cur->series[sig] == 1;
	}
	return nodes;
}

int prom_fetch(const struct sched_config *cfg, struct es_http_conn *conn,
	       struct node_metrics **nodes, size_t *n, char *err, size_t len)
{
	struct triples t = {};
	int sig, ret = 0;

	for (sig = 0; sig < SIG_MAX && !ret; sig++)
		ret = run_query(cfg, conn, sig, &t, err, len);
	if (!ret) {
		*nodes = merge(&t, n);
		if (!*nodes) {
			snprintf(err, len, "out of memory");
			ret = -1;
		}
	}
	for (sig = 0; sig < SIG_MAX; sig++)
		json_decref(t.docs[sig]);
	free(t.v);
	return ret;
}
