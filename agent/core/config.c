// SPDX-License-Identifier: GPL-2.0-only
#include <fnmatch.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "bpf/es_maps.h"
#include "config.h"
#include "util/config_field.h"
#include "util/sockaddr.h"

#define SESSIONS_MIN	1024U
#define SESSIONS_MAX	(1U << 24)

void es_config_defaults(struct es_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (gethostname(cfg->node_name, sizeof(cfg->node_name) - 1))
		strcpy(cfg->node_name, "unknown");
	snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s", ES_DEFAULT_PIN_PATH);
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:9464");
	cfg->acct.session_map_size = 65536;
	cfg->acct.idle_timeout_ms = 300000;
	cfg->acct.closed_linger_ms = 1000;
	cfg->gc_interval_ms = 1000;
	cfg->acct.on_layout_mismatch = ES_LAYOUT_REBUILD;
	cfg->acct.per_session_max = 100;
	cfg->acct.slots = true;	/* session_table: slots (docs/maps.md, "The slot table") */
	es_mig_config_defaults(&cfg->mig);
	es_signals_config_defaults(&cfg->signals);
	es_events_config_defaults(&cfg->events);
	es_advisor_config_defaults(&cfg->advisor);
	snprintf(cfg->cni_state_dir, sizeof(cfg->cni_state_dir), "/run/edgeshift/cni");
}

static int set_pod(struct es_iface_rule *r, const char *pod, const char *field,
		   char *err, size_t err_len)
{
	const char *slash = strchr(pod, '/');

	if (!slash || slash == pod || !slash[1] ||
	    (size_t)(slash - pod) >= sizeof(r->pod_namespace) ||
	    strlen(slash + 1) >= sizeof(r->pod_name))
		return es_cfg_fail(err, err_len, field, "must be \"namespace/name\"");
	memcpy(r->pod_namespace, pod, slash - pod);
	r->pod_namespace[slash - pod] = '\0';
	strcpy(r->pod_name, slash + 1);
	return 0;
}

static int parse_iface(struct es_config *cfg, json_t *v, size_t i, char *err, size_t err_len)
{
	struct es_iface_rule *r;
	char field[64];
	json_t *m, *pod;
	const char *key;

	if (cfg->n_ifaces >= ES_CFG_MAX_IFACES)
		return es_cfg_fail(err, err_len, "interfaces", "has too many entries (at most 64)");
	r = &cfg->ifaces[cfg->n_ifaces];
	memset(r, 0, sizeof(*r));
	snprintf(field, sizeof(field), "interfaces[%zu]", i);
	if (json_is_string(v)) {
		if (es_cfg_string(v, field, r->match, 16, err, err_len))
			return -1;
		cfg->n_ifaces++;
		return 0;
	}
	if (!json_is_object(v))
		return es_cfg_fail(err, err_len, field, "must be a name or {\"match\": ..., \"pod\": ...}");
	json_object_foreach(v, key, m) {
		if (strcmp(key, "match") && strcmp(key, "pod")) {
			snprintf(field, sizeof(field), "interfaces[%zu].%s", i, key);
			return es_cfg_fail(err, err_len, field, "is not a known field (match, pod)");
		}
	}
	m = json_object_get(v, "match");
	snprintf(field, sizeof(field), "interfaces[%zu].match", i);
	if (!m)
		return es_cfg_fail(err, err_len, field, "is required");
	if (es_cfg_string(m, field, r->match, 16, err, err_len))
		return -1;
	pod = json_object_get(v, "pod");
	snprintf(field, sizeof(field), "interfaces[%zu].pod", i);
	if (pod && (!json_is_string(pod) ||
		    set_pod(r, json_string_value(pod), field, err, err_len)))
		return es_cfg_fail(err, err_len, field, "must be \"namespace/name\"");
	cfg->n_ifaces++;
	return 0;
}

static int parse_metrics(struct es_config *cfg, json_t *v, char *err, size_t err_len)
{
	const char *key;
	json_t *m;

	if (!json_is_object(v))
		return es_cfg_fail(err, err_len, "metrics", "must be an object");
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "per_session")) {
			if (!json_is_boolean(m))
				return es_cfg_fail(err, err_len, "metrics.per_session", "must be true or false");
			cfg->acct.per_session_metrics = json_is_true(m);
		} else if (!strcmp(key, "per_session_max")) {
			if (es_cfg_uint(m, "metrics.per_session_max", 1, 10000,
				     &cfg->acct.per_session_max, err, err_len))
				return -1;
		} else {
			char field[96];

			snprintf(field, sizeof(field), "metrics.%s", key);
			return es_cfg_fail(err, err_len, field,
				    "is not a known field (per_session, per_session_max)");
		}
	}
	return 0;
}

/* A field that takes one of two words: *which 0 for the first, 1 for the second. */
static int parse_one_of_two(json_t *v, const char *field, const char *first, const char *second,
			    int *which, char *err, size_t err_len)
{
	const char *s = json_string_value(v);
	char want[96];

	if (s && (!strcmp(s, first) || !strcmp(s, second))) {
		*which = !strcmp(s, second);
		return 0;
	}
	snprintf(want, sizeof(want), "must be \"%s\" or \"%s\"", first, second);
	return es_cfg_fail(err, err_len, field, want);
}

static int parse_layout_policy(struct es_config *cfg, json_t *v, char *err, size_t err_len)
{
	int refuse;

	if (parse_one_of_two(v, "on_layout_mismatch", "rebuild", "refuse", &refuse, err, err_len))
		return -1;
	cfg->acct.on_layout_mismatch = refuse ? ES_LAYOUT_REFUSE : ES_LAYOUT_REBUILD;
	return 0;
}

/* Where sessions live: "maps" (the LRU session maps) or "slots" (the slot table). */
static int parse_session_table(struct es_config *cfg, json_t *v, char *err, size_t err_len)
{
	int slots;

	if (parse_one_of_two(v, "session_table", "maps", "slots", &slots, err, err_len))
		return -1;
	cfg->acct.slots = slots;
	return 0;
}

int es_rx_hook_parse(const char *s, enum es_rx_hook *hook)
{
	if (!s)
		return -1;
	if (!strcmp(s, "auto"))
		*hook = ES_RX_AUTO;
	else if (!strcmp(s, "xdp"))
		*hook = ES_RX_XDP;
	else if (!strcmp(s, "tc"))
		*hook = ES_RX_TC;
	else
		return -1;
	return 0;
}

static int parse_field(struct es_config *cfg, const char *key, json_t *v,
		       char *err, size_t err_len)
{
	size_t i;
	json_t *e;

	if (!strcmp(key, "node_name"))
		return es_cfg_string(v, key, cfg->node_name, sizeof(cfg->node_name), err, err_len);
	if (!strcmp(key, "pin_path"))
		return es_cfg_string(v, key, cfg->pin_path, sizeof(cfg->pin_path), err, err_len);
	if (!strcmp(key, "cni_state_dir"))
		return es_cfg_string(v, key, cfg->cni_state_dir, sizeof(cfg->cni_state_dir), err,
				  err_len);
	if (!strcmp(key, "listen"))
		return es_cfg_string(v, key, cfg->listen, sizeof(cfg->listen), err, err_len);
	if (!strcmp(key, "session_map_size"))
		return es_cfg_uint(v, key, SESSIONS_MIN, SESSIONS_MAX, &cfg->acct.session_map_size,
				err, err_len);
	if (!strcmp(key, "idle_timeout_ms"))
		return es_cfg_uint(v, key, 1000, 86400000, &cfg->acct.idle_timeout_ms, err,
				   err_len);
	if (!strcmp(key, "closed_linger_ms"))
		return es_cfg_uint(v, key, 0, 600000, &cfg->acct.closed_linger_ms, err, err_len);
	if (!strcmp(key, "gc_interval_ms"))
		return es_cfg_uint(v, key, 100, 600000, &cfg->gc_interval_ms, err, err_len);
	if (!strcmp(key, "on_layout_mismatch"))
		return parse_layout_policy(cfg, v, err, err_len);
	if (!strcmp(key, "session_table"))
		return parse_session_table(cfg, v, err, err_len);
	if (!strcmp(key, "signals"))
		return es_signals_config_parse(&cfg->signals, v, err, err_len);
	if (!strcmp(key, "metrics"))
		return parse_metrics(cfg, v, err, err_len);
	if (!strcmp(key, "request_latency")) {
		if (!json_is_boolean(v))
			return es_cfg_fail(err, err_len, key, "must be true or false");
		cfg->acct.no_request_latency = json_is_false(v);
		return 0;
	}
	if (!strcmp(key, "tcp_request_latency")) {
		if (!json_is_boolean(v))
			return es_cfg_fail(err, err_len, key, "must be true or false");
		cfg->acct.tcp_request_latency = json_is_true(v);
		return 0;
	}
	if (!strcmp(key, "rx_hook"))
		return es_rx_hook_parse(json_string_value(v), &cfg->rx_hook) ?
		       es_cfg_fail(err, err_len, key, "must be \"auto\", \"xdp\" or \"tc\"") : 0;
	if (!strcmp(key, "state_dir"))
		return es_mig_config_state_dir(&cfg->mig, v, err, err_len);
	if (!strcmp(key, "migration"))
		return es_mig_config_parse(&cfg->mig, v, err, err_len);
	if (!strcmp(key, "events"))
		return es_events_config_parse(&cfg->events, v, err, err_len);
	if (!strcmp(key, "advisor"))
		return es_advisor_config_parse(&cfg->advisor, v, err, err_len);
	if (!strcmp(key, "zero_downtime"))
		return es_zdm_config_parse(&cfg->zdm, v, err, err_len);
	if (!strcmp(key, "interfaces")) {
		if (!json_is_array(v))
			return es_cfg_fail(err, err_len, key, "must be an array");
		cfg->n_ifaces = 0;
		json_array_foreach(v, i, e) {
			if (parse_iface(cfg, e, i, err, err_len))
				return -1;
		}
		return 0;
	}
	return es_cfg_fail(err, err_len, key, "is not a known field");
}

/* parse_field as es_cfg_load calls it */
static int field_of(void *cfg, const char *key, json_t *v, char *err, size_t len)
{
	return parse_field(cfg, key, v, err, len);
}

int es_config_load_file(struct es_config *cfg, const char *path, char *err, size_t err_len)
{
	return es_cfg_load(path, NULL, field_of, cfg, err, err_len);
}

int es_config_load_string(struct es_config *cfg, const char *json, char *err, size_t err_len)
{
	return es_cfg_load(NULL, json, field_of, cfg, err, err_len);
}

int es_config_add_iface(struct es_config *cfg, const char *spec, char *err, size_t err_len)
{
	struct es_iface_rule *r;
	const char *eq = strchr(spec, '=');
	size_t name_len = eq ? (size_t)(eq - spec) : strlen(spec);

	if (cfg->n_ifaces >= ES_CFG_MAX_IFACES)
		return es_cfg_fail(err, err_len, "--interface", "given too many times (at most 64)");
	if (!name_len || name_len >= 16)
		return es_cfg_fail(err, err_len, "--interface", "must be NAME or NAME=namespace/pod");
	r = &cfg->ifaces[cfg->n_ifaces];
	memset(r, 0, sizeof(*r));
	memcpy(r->match, spec, name_len);
	if (eq && set_pod(r, eq + 1, "--interface", err, err_len))
		return -1;
	cfg->n_ifaces++;
	return 0;
}

int es_config_parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6)
{
	if (!es_sockaddr_parse(listen, ss) || !es_sockaddr_port(ss))
		return -1;
	*v6 = ss->ss_family == AF_INET6;
	return 0;
}

int es_config_validate(const struct es_config *cfg, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	int v6;

	if (es_config_parse_listen(cfg->listen, &ss, &v6))
		return es_cfg_fail(err, err_len, "listen",
			    "must be \"IPv4-address:port\" or \"[IPv6-address]:port\"");
	if (cfg->pin_path[0] != '/')
		return es_cfg_fail(err, err_len, "pin_path", "must be an absolute path");
	if (cfg->acct.closed_linger_ms >= cfg->acct.idle_timeout_ms)
		return es_cfg_fail(err, err_len, "closed_linger_ms", "must be below idle_timeout_ms");
	return es_zdm_config_check_peers(&cfg->zdm, &cfg->mig, err, err_len);
}

const struct es_iface_rule *es_config_match(const struct es_config *cfg, const char *ifname)
{
	unsigned int i;

	for (i = 0; i < cfg->n_ifaces; i++) {
		if (!fnmatch(cfg->ifaces[i].match, ifname, 0))
			return &cfg->ifaces[i];
	}
	return NULL;
}
