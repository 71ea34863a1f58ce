// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "advisor" object of the agent configuration:
 *   {"interval_ms": 1000, "samples": 30, "min_change": 0.5,
 *    "cgroup_root": "/sys/fs/cgroup",
 *    "blocks": [{"name": "front", "cgroup": "kubepods/pod1/c1", "link": "veth1",
 *                "pods": "front-*"}, ...],
 *    "performance": {"interface": "veth-svc*", "metric": "p99"}}
 * ("performance": {"file": PATH, "kind": "latency"} reads a number instead).
 * Which pair of the performance's fields is given picks its source.
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "advisor.h"
#include "util/config_field.h"

static const char *const metric_names[ES_ADVISOR_NMETRICS] = {
	"rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "p50", "p99", "mean",
};

void es_advisor_config_defaults(struct es_advisor_config *c)
{
	*c = (struct es_advisor_config){ .interval_ms = 1000, .samples = 30, .min_change = 0.5,
					 .hold_ms = -1,
					 .metric = ES_ADVISOR_P99 };
}

static int fail(char *err, size_t len, const char *field, const char *want)
{
	return es_cfg_fail_in(err, len, "advisor", field, want);
}

static int parse_block(struct es_advisor_config *c, json_t *e, size_t i, char *err, size_t len)
{
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *cg = json_string_value(json_object_get(e, "cgroup"));
	json_t *lv = json_object_get(e, "link"), *pv = json_object_get(e, "pods");
	const char *link = json_string_value(lv), *pods = json_string_value(pv);
	char field[48];

	snprintf(field, sizeof(field), "blocks[%zu]", i);
	if (!json_is_object(e) || !name || !*name || strlen(name) >= ES_ADV_NAME_LEN ||
	    !cg || !*cg || strlen(cg) >= sizeof(c->blocks[0].cgroup) ||
	    (lv && (!link || !*link || strlen(link) >= sizeof(c->blocks[0].link))) ||
	    (pv && (!pods || !*pods || strlen(pods) >= sizeof(c->blocks[0].pods))) ||
	    json_object_size(e) != 2u + !!lv + !!pv)
		return fail(err, len, field, "must be {\"name\": NAME (< 64), \"cgroup\": PATH "
			    "(< 256)[, \"link\": IFNAME (< 16)][, \"pods\": PATTERN (< 128)]}");
	strcpy(c->blocks[i].name, name);
	strcpy(c->blocks[i].cgroup, cg);
	snprintf(c->blocks[i].link, sizeof(c->blocks[i].link), "%s", link ?: "");
	snprintf(c->blocks[i].pods, sizeof(c->blocks[i].pods), "%s", pods ?: "");
	return 0;
}

static int parse_blocks(struct es_advisor_config *c, json_t *v, char *err, size_t len)
{
	size_t i;
	json_t *e;

	/* Off until every block parsed: a half-read list would rank a part of the service. */
	c->n_blocks = 0;
	if (!json_is_array(v))
		return fail(err, len, "blocks", "must be an array of {\"name\", \"cgroup\"}");
	if (json_array_size(v) > ES_ADV_MAX_BLOCKS)
		return fail(err, len, "blocks", "holds more than 64 blocks");
	json_array_foreach(v, i, e)
		if (parse_block(c, e, i, err, len))
			return -1;
	c->n_blocks = json_array_size(v);
	return 0;
}

static int parse_metric(struct es_advisor_config *c, const char *s)
{
	int m;

	for (m = 0; s && m < ES_ADVISOR_NMETRICS; m++) {
		if (!strcmp(s, metric_names[m])) {
			c->metric = m;
			return 0;
		}
	}
	return -1;
}

static int parse_perf_file(struct es_advisor_config *c, json_t *file, json_t *kind, char *err,
			   size_t len)
{
	const char *k = kind ? json_string_value(kind) : "latency";

	if (es_cfg_string(file, "advisor.performance.file", c->perf_file, sizeof(c->perf_file),
			  err, len))
		return -1;
	if (!k || (strcmp(k, "latency") && strcmp(k, "throughput")))
		return fail(err, len, "performance.kind", "must be \"latency\" or \"throughput\"");
	c->file_kind = strcmp(k, "latency") ? ES_ADV_PERF_THROUGHPUT : ES_ADV_PERF_LATENCY;
	return 0;
}

static int parse_perf(struct es_advisor_config *c, json_t *v, char *err, size_t len)
{
	json_t *file = json_object_get(v, "file"), *ifc = json_object_get(v, "interface");
	json_t *metric = json_object_get(v, "metric");

	if (!json_is_object(v) || !file == !ifc)
		return fail(err, len, "performance", "must be {\"interface\": PATTERN, "
			    "\"metric\": M} or {\"file\": PATH, \"kind\": \"latency\"|\"throughput\"}");
	if (file)
		return parse_perf_file(c, file, json_object_get(v, "kind"), err, len);
	if (es_cfg_string(ifc, "advisor.performance.interface", c->perf_interface,
			  sizeof(c->perf_interface), err, len))
		return -1;
	if (metric && parse_metric(c, json_string_value(metric)))
		return fail(err, len, "performance.metric", "must be rx_bytes, tx_bytes, "
			    "rx_packets, tx_packets, p50, p99 or mean");
	return 0;
}

const char *es_advisor_metric_name(enum es_advisor_metric m)
{
	return m < ES_ADVISOR_NMETRICS ? metric_names[m] : "?";
}

int es_advisor_config_parse(struct es_advisor_config *c, json_t *v, char *err, size_t len)
{
	const char *key;
	json_t *m;

	if (!json_is_object(v))
		return es_cfg_fail(err, len, "advisor", "must be an object");
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "interval_ms")) {
			if (es_cfg_uint(m, "advisor.interval_ms", 100, 3600000, &c->interval_ms,
					err, len))
				return -1;
		} else if (!strcmp(key, "samples")) {
			if (es_cfg_uint(m, "advisor.samples", 6, ES_ADV_RING_LEN, &c->samples, err,
					len))
				return -1;
		} else if (!strcmp(key, "hold_ms")) {
			unsigned int v;

			if (es_cfg_uint(m, "advisor.hold_ms", 0, 3600000, &v, err, len))
				return -1;
			c->hold_ms = v;
		} else if (!strcmp(key, "min_change")) {
			if (es_cfg_number(m, "advisor.min_change", 0, 100, &c->min_change, err, len))
				return -1;
		} else if (!strcmp(key, "cgroup_root")) {
			if (es_cfg_string(m, "advisor.cgroup_root", c->cgroup_root,
					  sizeof(c->cgroup_root), err, len))
				return -1;
		} else if (!strcmp(key, "blocks")) {
			if (parse_blocks(c, m, err, len))
				return -1;
		} else if (!strcmp(key, "performance")) {
			if (parse_perf(c, m, err, len))
				return -1;
		} else {
			return fail(err, len, key, "is not a known field (interval_ms, samples, "
				    "hold_ms, min_change, cgroup_root, blocks, performance)");
		}
	}
	/* Blocks without a performance would sample forever and never rank. */
	if (c->n_blocks && !c->perf_file[0] && !c->perf_interface[0])
		return fail(err, len, "performance", "is needed with blocks: {\"interface\": "
			    "PATTERN, \"metric\": M} or {\"file\": PATH}");
	return 0;
}
