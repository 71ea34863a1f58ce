// SPDX-License-Identifier: GPL-2.0-only
/*
 * The node view from Prometheus, when the console is given one: every
 * node's figures as Prometheus last scraped them from its agent (the
 * series of metrics.md, "Placement signals"), so the page shows what the
 * dashboards and the scheduler extender see. One instant query a refresh
 * asks for all of them: each resource's expression is tagged with a label
 * naming it, and the tagged vectors joined with "or". A node's figures
 * are put into the shape of its agent's GET /v1/node, so the page draws a
 * row the same way whichever source it came from.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "http/http_client.h"

#define TAG		"es_field"

/* Beyond the resource view's figures: the capacity, and when the node was scraped. */
enum { F_CAPACITY = RES_MAX, F_SCRAPED, F_MAX };

static const char *const extra_names[] = { "capacity_bps", "scraped" };
static const char *const extra_queries[] = {
	"max by (node) (edgeshift_node_link_capacity_bits_per_second)",
	/* always exported: its sample's time is the scrape's */
	"max by (node) (timestamp(edgeshift_node_memory_utilisation_ratio))",
};

static const char *field_name(int f)
{
	return f < RES_MAX ? con_resource_names[f] : extra_names[f - RES_MAX];
}

static const char *field_query(int f)
{
	return f < RES_MAX ? con_prom_queries[f] : extra_queries[f - RES_MAX];
}

/* The one PromQL expression: every field's vector, tagged with its name. */
static char *build_query(void)
{
	char *q = NULL, *next;
	int f;

	for (f = 0; f < F_MAX; f++) {
		if (asprintf(&next, "%s%slabel_replace(%s, \"" TAG "\", \"%s\", \"\", \"\")",
			     q ?: "", q ? " or " : "", field_query(f), field_name(f)) < 0)
			next = NULL;
		free(q);
		q = next;
		if (!q)
			return NULL;
	}
	return q;
}

static int field_index(const char *name)
{
	int f;

	for (f = 0; f < F_MAX; f++)
		if (!strcmp(field_name(f), name))
			return f;
	return -1;
}

/* An instant vector's samples as {NODE: {FIELD: value}}. */
static json_t *by_node(json_t *doc, char *err, size_t len)
{
	json_t *data = json_object_get(doc, "data"), *out, *s, *m, *nd;
	const char *type = json_string_value(json_object_get(data, "resultType"));
	const char *node, *field;
	size_t i;
	double v;

	if (strcmp(json_string_value(json_object_get(doc, "status")) ?: "", "success") ||
	    strcmp(type ?: "", "vector")) {
		snprintf(err, len, "Prometheus: not a successful instant answer (%s)",
			 json_string_value(json_object_get(doc, "error")) ?: "no error text");
		return NULL;
	}
	out = json_object();
	json_array_foreach(json_object_get(data, "result"), i, s) {
		m = json_object_get(s, "metric");
		node = json_string_value(json_object_get(m, "node"));
		field = json_string_value(json_object_get(m, TAG));
		v = strtod(json_string_value(json_array_get(json_object_get(s, "value"), 1)) ?: "nan",
			   NULL);
		if (!node || !field || field_index(field) < 0 || !isfinite(v))
			continue;
		nd = json_object_get(out, node);
		if (!nd)
			json_object_set_new(out, node, nd = json_object());
		json_object_set_new(nd, field, json_real(v));
	}
	return out;
}

json_t *con_prom_nodes(const char *prom, struct es_http_conn *conn, char *err, size_t len)
{
	char *q = build_query(), *e = q ? es_http_escape(q) : NULL, *path = NULL;
	json_t *doc = NULL, *out = NULL;

	if (!e || asprintf(&path, "/api/v1/query?query=%s", e) < 0) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	doc = con_prom_get(prom, path, conn, err, len);
	if (doc)
		out = by_node(doc, err, len);
out:
	json_decref(doc);
	free(path);
	free(e);
	free(q);
	return out;
}

static json_t *fig(json_t *fields, int f)
{
	json_t *v = json_object_get(fields, field_name(f));

	return v ? json_incref(v) : json_null();
}

json_t *con_prom_node_view(json_t *nodes, const char *name, int64_t *scraped_ms)
{
	json_t *f = json_object_get(nodes, name);
	json_t *t = json_object_get(f, field_name(F_SCRAPED));

	if (!t)
		return NULL;	/* Prometheus holds no live series of the node */
	*scraped_ms = (int64_t)llround(json_number_value(t) * 1000);
	return json_pack("{s:s, s:{s:o, s:o}, s:{s:{s:o, s:o}, s:{s:o, s:o}, s:o}, s:o, "
			 "s:{s:{s:o, s:o}}}",
			 "node", name,
			 "host", "cpu_utilisation", fig(f, RES_CPU),
			 "memory_utilisation", fig(f, RES_MEM),
			 "uplink", "rx", "utilisation", fig(f, RES_RX_UTIL), "bps", fig(f, RES_RX_BPS),
			 "tx", "utilisation", fig(f, RES_TX_UTIL), "bps", fig(f, RES_TX_BPS),
			 "capacity_bps", fig(f, F_CAPACITY),
			 "sessions_active", fig(f, RES_SESSIONS),
			 "latency", "service", "p50_us", fig(f, RES_P50_US), "p99_us", fig(f, RES_P99_US));
}
