// SPDX-License-Identifier: GPL-2.0-only
/*
 * Configuration of edgeshift-scheduler: a JSON file (docs/scheduler-extender.md),
 * every field optional. An error names the field and what it expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "es_sched.h"
#include "util/config_field.h"
#include "util/quantity.h"

const char *const sched_signal_names[SIG_MAX] = {
	"capacity", "throughput", "sessions", "latency", "latency_samples",
};

/* Default PromQL; %s is the node label. */
static const char *const default_queries[SIG_MAX] = {
	"max by (%s) (edgeshift_node_link_capacity_bits_per_second)",
	"max by (%s) (edgeshift_node_link_throughput_bits_per_second)",
	"max by (%s) (edgeshift_node_sessions_active)",
	"max by (%s) (edgeshift_node_latency_seconds{kind=\"service\",quantile=\"0.99\"})",
	/* the same kind as the latency query: its count says whether that series may be absent */
	"max by (%s) (edgeshift_node_latency_window_samples{kind=\"service\"})",
};

void sched_config_defaults(struct sched_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->listen, "0.0.0.0:8888");
	strcpy(cfg->prom_url, "http://127.0.0.1:9090");
	cfg->prom_timeout_ms = 1000;
	cfg->refresh_ms = 2000;
	cfg->max_staleness_ms = 15000;
	strcpy(cfg->node_label, "node");
	cfg->max_utilisation = 0.7;
	cfg->max_sessions = 0;
	cfg->w_bandwidth = 1;
	cfg->w_sessions = 1;
	cfg->w_latency = 1;
	cfg->session_capacity = 0;
	cfg->latency_reference_ms = 10;
	cfg->classes[0] = (struct sched_latency_class){ "critical", 1 };
	cfg->classes[1] = (struct sched_latency_class){ "interactive", 20 };
	cfg->classes[2] = (struct sched_latency_class){ "best-effort", 0 };
	cfg->n_classes = 3;
	strcpy(cfg->default_class, "best-effort");
	cfg->on_unavailable = UNAVAILABLE_PASS;
	cfg->on_no_data = NO_DATA_FAIL;
	cfg->no_data_score = 0;
	cfg->threads = 4;
}

void sched_config_free(struct sched_config *cfg)
{
	int s;

	for (s = 0; s < SIG_MAX; s++) {
		free(cfg->queries[s]);
		cfg->queries[s] = NULL;
	}
}

static int unknown(char *err, size_t len, const char *obj, const char *key, const char *known)
{
	char field[160], want[200];

	snprintf(field, sizeof(field), "%s%s%s", obj, *obj ? "." : "", key);
	snprintf(want, sizeof(want), "is not a known field (%s)", known);
	return es_cfg_fail(err, len, field, want);
}

static int parse_queries(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	char field[64];
	const char *key;
	json_t *q;
	int s;

	if (!json_is_object(v))
		return es_cfg_fail(err, len, "prometheus.queries", "must be an object");
	json_object_foreach(v, key, q) {
		for (s = 0; s < SIG_MAX && strcmp(key, sched_signal_names[s]); s++)
			;
		if (s == SIG_MAX)
			return unknown(err, len, "prometheus.queries", key,
				       "capacity, throughput, sessions, latency, latency_samples");
		snprintf(field, sizeof(field), "prometheus.queries.%s", key);
		if (!json_is_string(q) || !*json_string_value(q) || json_string_length(q) > 4096)
			return es_cfg_fail(err, len, field, "must be a PromQL expression (1 to 4096 characters)");
		free(cfg->queries[s]);
		cfg->queries[s] = strdup(json_string_value(q));
	}
	/*
	 * The count says whether the latency series may be absent, so the two
	 * must ask about one kind: a latency query of another kind beside the
	 * default count would take a busy node for one without data, or an
	 * unknown one for idle.
	 */
	if (!!json_object_get(v, "latency") != !!json_object_get(v, "latency_samples"))
		return es_cfg_fail(err, len, "prometheus.queries",
				   "latency and latency_samples are set together (the same kind)");
	return 0;
}

static int parse_prometheus(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	const char *key;
	json_t *m;
	int ret = 0;

	if (!json_is_object(v))
		return es_cfg_fail(err, len, "prometheus", "must be an object");
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "url"))
			ret = es_cfg_string(m, "prometheus.url", cfg->prom_url, sizeof(cfg->prom_url), err, len);
		else if (!strcmp(key, "timeout_ms"))
			ret = es_cfg_uint(m, "prometheus.timeout_ms", 10, 60000, &cfg->prom_timeout_ms, err, len);
		else if (!strcmp(key, "refresh_interval_ms"))
			ret = es_cfg_uint(m, "prometheus.refresh_interval_ms", 100, 600000, &cfg->refresh_ms, err, len);
		else if (!strcmp(key, "max_staleness_ms"))
			ret = es_cfg_uint(m, "prometheus.max_staleness_ms", 100, 3600000, &cfg->max_staleness_ms, err, len);
		else if (!strcmp(key, "node_label"))
			ret = es_cfg_string(m, "prometheus.node_label", cfg->node_label, sizeof(cfg->node_label), err, len);
		else if (!strcmp(key, "queries"))
			ret = parse_queries(cfg, m, err, len);
		else
			return unknown(err, len, "prometheus", key,
				       "url, timeout_ms, refresh_interval_ms, max_staleness_ms, node_label, queries");
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_filter(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	const char *key;
	json_t *m;
	int ret;

	if (!json_is_object(v))
		return es_cfg_fail(err, len, "filter", "must be an object");
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "max_utilisation"))
			ret = es_cfg_number(m, "filter.max_utilisation", 0, 10, &cfg->max_utilisation, err, len);
		else if (!strcmp(key, "max_sessions"))
			ret = es_cfg_number(m, "filter.max_sessions", 0, 1e9, &cfg->max_sessions, err, len);
		else
			return unknown(err, len, "filter", key, "max_utilisation, max_sessions");
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_weights(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	const char *key;
	json_t *m;
	int ret;

	if (!json_is_object(v))
		return es_cfg_fail(err, len, "score.weights", "must be an object");
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "bandwidth"))
			ret = es_cfg_number(m, "score.weights.bandwidth", 0, 1000, &cfg->w_bandwidth, err, len);
		else if (!strcmp(key, "sessions"))
			ret = es_cfg_number(m, "score.weights.sessions", 0, 1000, &cfg->w_sessions, err, len);
		else if (!strcmp(key, "latency"))
			ret = es_cfg_number(m, "score.weights.latency", 0, 1000, &cfg->w_latency, err, len);
		else
			return unknown(err, len, "score.weights", key, "bandwidth, sessions, latency");
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_score(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	const char *key;
	json_t *m;
	int ret;

	if (!json_is_object(v))
		return es_cfg_fail(err, len, "score", "must be an object");
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "weights"))
			ret = parse_weights(cfg, m, err, len);
		else if (!strcmp(key, "session_capacity"))
			ret = es_cfg_number(m, "score.session_capacity", 0, 1e9, &cfg->session_capacity, err, len);
		else if (!strcmp(key, "latency_reference_ms"))
			ret = es_cfg_number(m, "score.latency_reference_ms", 0.001, 1e6,
					 &cfg->latency_reference_ms, err, len);
		else
			return unknown(err, len, "score", key,
				       "weights, session_capacity, latency_reference_ms");
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_classes(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	struct sched_latency_class *c;
	char field[160];
	const char *key;
	json_t *m, *slo;

	if (!json_is_object(v) || !json_object_size(v) || json_object_size(v) > SCHED_MAX_CLASSES)
		return es_cfg_fail(err, len, "latency_classes", "must be an object of 1 to 16 classes");
	cfg->n_classes = 0;
	json_object_foreach(v, key, m) {
		snprintf(field, sizeof(field), "latency_classes.%s", key);
		if (!*key || strlen(key) >= SCHED_NAME_MAX)
			return es_cfg_fail(err, len, field, "must be named with 1 to 63 characters");
		slo = json_object_get(m, "slo_ms");
		if (!json_is_object(m) || json_object_size(m) != 1 || !slo)
			return es_cfg_fail(err, len, field, "must be {\"slo_ms\": N} (0: no SLO)");
		c = &cfg->classes[cfg->n_classes++];
		strcpy(c->name, key);
		snprintf(field, sizeof(field), "latency_classes.%s.slo_ms", key);
		if (es_cfg_number(slo, field, 0, 1e6, &c->slo_ms, err, len))
			return -1;
	}
	return 0;
}

static int parse_choice(json_t *v, const char *field, const char *a, const char *b,
			int *dst, char *err, size_t len)
{
	const char *s = json_string_value(v);
	char want[96];

	snprintf(want, sizeof(want), "must be \"%s\" or \"%s\"", a, b);
	if (!s || (strcmp(s, a) && strcmp(s, b)))
		return es_cfg_fail(err, len, field, want);
	*dst = !strcmp(s, b);
	return 0;
}

int sched_parse_bps(const char *s, double *out)
{
	char why[160];
	double v;

	if (es_quantity_parse(s, &v, why, sizeof(why)) || v < 0 || v > 1e15)
		return -1;
	*out = v;
	return 0;
}

static int parse_bandwidth(struct sched_config *cfg, json_t *v, char *err, size_t len)
{
	if (!json_is_string(v) || sched_parse_bps(json_string_value(v),
						    &cfg->default_bandwidth_bps))
		return es_cfg_fail(err, len, "default_bandwidth",
			    "must be a bit/s quantity such as \"0\", \"500k\", \"7M\" or \"7Mi\"");
	return 0;
}

static int parse_field(struct sched_config *cfg, const char *key, json_t *v, char *err,
		       size_t len)
{
	int choice, ret;

	if (!strcmp(key, "listen"))
		return es_cfg_string(v, key, cfg->listen, sizeof(cfg->listen), err, len);
	if (!strcmp(key, "threads"))
		return es_cfg_uint(v, key, 1, 64, &cfg->threads, err, len);
	if (!strcmp(key, "prometheus"))
		return parse_prometheus(cfg, v, err, len);
	if (!strcmp(key, "filter"))
		return parse_filter(cfg, v, err, len);
	if (!strcmp(key, "score"))
		return parse_score(cfg, v, err, len);
	if (!strcmp(key, "latency_classes"))
		return parse_classes(cfg, v, err, len);
	if (!strcmp(key, "default_latency_class"))
		return es_cfg_string(v, key, cfg->default_class, sizeof(cfg->default_class), err, len);
	if (!strcmp(key, "default_bandwidth"))
		return parse_bandwidth(cfg, v, err, len);
	if (!strcmp(key, "no_data_score")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10)
			return es_cfg_fail(err, len, key, "must be an integer from 0 to 10");
		cfg->no_data_score = json_integer_value(v);
		return 0;
	}
	if (!strcmp(key, "on_metrics_unavailable")) {
		ret = parse_choice(v, key, "pass", "error", &choice, err, len);
		if (!ret)
			cfg->on_unavailable = choice ? UNAVAILABLE_ERROR : UNAVAILABLE_PASS;
		return ret;
	}
	if (!strcmp(key, "on_node_without_data")) {
		ret = parse_choice(v, key, "fail", "pass", &choice, err, len);
		if (!ret)
			cfg->on_no_data = choice ? NO_DATA_PASS : NO_DATA_FAIL;
		return ret;
	}
	return unknown(err, len, "", key, "listen, threads, prometheus, filter, score, "
		       "latency_classes, default_latency_class, default_bandwidth, "
		       "on_metrics_unavailable, on_node_without_data, no_data_score");
}

/* parse_field as es_cfg_load calls it */
static int field_of(void *cfg, const char *key, json_t *v, char *err, size_t len)
{
	return parse_field(cfg, key, v, err, len);
}

int sched_config_load_file(struct sched_config *cfg, const char *path, char *err, size_t len)
{
	return es_cfg_load(path, NULL, field_of, cfg, err, len);
}

int sched_config_load_string(struct sched_config *cfg, const char *json, char *err, size_t len)
{
	return es_cfg_load(NULL, json, field_of, cfg, err, len);
}

const struct sched_latency_class *sched_class_find(const struct sched_config *cfg,
						   const char *name)
{
	unsigned int i;

	for (i = 0; i < cfg->n_classes; i++)
		if (!strcmp(cfg->classes[i].name, name))
			return &cfg->classes[i];
	return NULL;
}

/* Cross-field checks; also fills the default queries with the node label. */
int sched_config_validate(struct sched_config *cfg, char *err, size_t len)
{
	char *q, want[160];
	int s;

	if (strncmp(cfg->prom_url, "http://", 7) && strncmp(cfg->prom_url, "https://", 8))
		return es_cfg_fail(err, len, "prometheus.url", "must start with http:// or https://");
	/*
	 * A snapshot is stamped when its refresh starts, and the next starts
	 * refresh_interval_ms after it ends: with a bound no larger, every
	 * snapshot is stale before the next refresh begins, and the verbs go
	 * without inputs at every refresh.
	 */
	if (cfg->max_staleness_ms <= cfg->refresh_ms) {
		snprintf(want, sizeof(want),
			 "must be above prometheus.refresh_interval_ms (%u ms is not above %u ms)",
			 cfg->max_staleness_ms, cfg->refresh_ms);
		return es_cfg_fail(err, len, "prometheus.max_staleness_ms", want);
	}
	if (cfg->w_bandwidth + cfg->w_sessions + cfg->w_latency <= 0)
		return es_cfg_fail(err, len, "score.weights", "must not all be 0");
	if (!sched_class_find(cfg, cfg->default_class))
		return es_cfg_fail(err, len, "default_latency_class", "must name one of latency_classes");
	for (s = 0; s < SIG_MAX; s++) {
		if (cfg->queries[s])
			continue;
		if (asprintf(&q, default_queries[s], cfg->node_label) < 0)
			return es_cfg_fail(err, len, "prometheus.queries", "cannot be built (out of memory)");
		cfg->queries[s] = q;
	}
	return 0;
}
