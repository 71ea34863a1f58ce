// SPDX-License-Identifier: GPL-2.0-only
/*
 * The resource view from Prometheus, when the console is given one: the
 * same figures as the console's own samples (sample.c), read with
 * query_range from the series the agents export (metrics.md), so the
 * window reaches back as far as Prometheus keeps data, not only as far as
 * the console has run. Series are matched to the console's nodes by the
 * node label, which is the name each agent reports.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "console.h"
#include "http/http_client.h"

#define PROM_TIMEOUT_MS	5000
#define MAX_POINTS	240	/* per series: the step grows with the window */

/* One PromQL expression per resource, in con_resource order; one series per node. */
const char *const con_prom_queries[RES_MAX] = {
	"max by (node) (edgeshift_node_cpu_utilisation_ratio)",
	"max by (node) (edgeshift_node_memory_utilisation_ratio)",
	"max by (node) (edgeshift_node_link_utilisation_ratio{direction=\"rx\"})",
	"max by (node) (edgeshift_node_link_utilisation_ratio{direction=\"tx\"})",
	"sum by (node) (edgeshift_node_link_throughput_bits_per_second{direction=\"rx\"})",
	"sum by (node) (edgeshift_node_link_throughput_bits_per_second{direction=\"tx\"})",
	"max by (node) (edgeshift_node_sessions_active)",
	"max by (node) (edgeshift_node_latency_seconds{kind=\"service\",quantile=\"0.5\"}) * 1e6",
	"max by (node) (edgeshift_node_latency_seconds{kind=\"service\",quantile=\"0.99\"}) * 1e6",
};

struct grid {
	long long	start, step;
	size_t		n;
};

/* A column of g.n nulls for every node head, and the time column. */
static void init_columns(json_t *nodes, const struct grid *g, int r)
{
	json_t *nd, *col, *t;
	size_t i, k;

	json_array_foreach(nodes, i, nd) {
		col = json_array();
		for (k = 0; k < g->n; k++)
			json_array_append_new(col, json_null());
		json_object_set_new(nd, con_resource_names[r], col);
		if (r)
			continue;
		t = json_array();
		for (k = 0; k < g->n; k++)
			json_array_append_new(t, json_integer(g->start + (long long)k * g->step));
		json_object_set_new(nd, "t", t);
	}
}

static json_t *node_by_name(json_t *nodes, const char *name)
{
	json_t *nd;
	size_t i;

	json_array_foreach(nodes, i, nd)
		if (!strcmp(json_string_value(json_object_get(nd, "name")) ?: "", name))
			return nd;
	return NULL;
}

/* Copies a matrix answer's points onto the grid of the node each series names. */
static int fill(json_t *doc, json_t *nodes, const struct grid *g, int r, char *err, size_t len)
{
	json_t *data = json_object_get(doc, "data"), *series, *vals, *pt, *nd, *col;
	const char *type = json_string_value(json_object_get(data, "resultType"));
	const char *name;
	size_t i, j;
	long long k;
	double v;

	if (strcmp(json_string_value(json_object_get(doc, "status")) ?: "", "success") ||
	    strcmp(type ?: "", "matrix")) {
		snprintf(err, len, "query %s: not a successful range answer (%s)",
			 con_resource_names[r],
			 json_string_value(json_object_get(doc, "error")) ?: "no error text");
		return -1;
	}
	json_array_foreach(json_object_get(data, "result"), i, series) {
		name = json_string_value(json_object_get(json_object_get(series, "metric"), "node"));
		nd = name ? node_by_name(nodes, name) : NULL;
		col = json_object_get(nd, con_resource_names[r]);
		vals = json_object_get(series, "values");
		json_array_foreach(vals, j, pt) {
			k = llround((json_number_value(json_array_get(pt, 0)) - g->start) / g->step);
			v = strtod(json_string_value(json_array_get(pt, 1)) ?: "nan", NULL);
			if (col && k >= 0 && k < (long long)g->n && isfinite(v))
				json_array_set_new(col, k, json_real(v));
		}
	}
	return 0;
}

json_t *con_prom_get(const char *prom, const char *path, struct es_http_conn *conn,
		     char *err, size_t len)
{
	char why[CON_URL_MAX + 512];
	size_t n = strlen(prom);
	json_t *doc = con_agent_get(prom, path, conn, NULL, PROM_TIMEOUT_MS, why, sizeof(why));

	/* the reason without the query's long URL, which why begins with */
	if (!doc)
		snprintf(err, len, "Prometheus at %s: %s", prom,
			 !strncmp(why, prom, n) && strstr(why + n, ": ") ?
			 strstr(why + n, ": ") + 2 : why);
	return doc;
}

static int query(const char *prom, int r, json_t *nodes, const struct grid *g,
		 char *err, size_t len)
{
	char *q = es_http_escape(con_prom_queries[r]), *path = NULL;
	json_t *doc = NULL;
	int ret = -1;

	if (!q || asprintf(&path, "/api/v1/query_range?query=%s&start=%lld&end=%lld&step=%lld",
			   q, g->start, g->start + (long long)(g->n - 1) * g->step, g->step) < 0) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	doc = con_prom_get(prom, path, NULL, err, len);
	if (!doc)
		goto out;
	init_columns(nodes, g, r);
	ret = fill(doc, nodes, g, r, err, len);
out:
	json_decref(doc);
	free(path);
	free(q);
	return ret;
}

json_t *con_prom_history(const char *prom, json_t *heads, unsigned int window_s,
			 char *err, size_t len)
{
	long long now = (long long)time(NULL);
	struct grid g;
	int r;

	g.step = window_s / MAX_POINTS > 1 ? window_s / MAX_POINTS : 1;
	g.n = window_s / g.step + 1;
	g.start = now - (long long)(g.n - 1) * g.step;
	for (r = 0; r < RES_MAX; r++) {
		if (query(prom, r, heads, &g, err, len)) {
			json_decref(heads);
			return NULL;
		}
	}
	return json_pack("{s:i, s:I, s:s, s:o}", "window_s", window_s, "step_s", g.step,
			 "source", "prometheus", "nodes", heads);
}
