// SPDX-License-Identifier: GPL-2.0-only
/* Parsing of the "zero_downtime" configuration object (zdm_config.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "http/http_url.h"
#include "migctl/names.h"
#include "migration/migration.h"
#include "zdm_config.h"
#include "util/config_field.h"

void es_zdm_config_defaults(struct es_zdm_config *z)
{
	memset(z, 0, sizeof(*z));
	z->tunnel_port = 47000;
	z->replay_limit = 4096;
	z->records = 8192;
	z->auto_migrate = true;
	z->hold_timeout_ms = 3000;
	z->cutover_timeout_ms = 5000;
	z->peer_retry_ms = 15000;
	z->gap_timeout_ms = 10000;
	/*
	 * arrival order: the only order right for connections that share
	 * state, and since the 1 ms gate (docs/migration.md) its catch-up
	 * holds with many connections at a long RTT
	 */
	z->replay_per_connection = false;
}

/* Refusals name the field in full: "zero_downtime.FIELD". */
static int fail(char *err, size_t len, const char *field, const char *what)
{
	return es_cfg_fail_in(err, len, "zero_downtime", field, what);
}

static int get_uint(json_t *v, const char *field, unsigned int lo, unsigned int hi,
		    unsigned int *out, char *err, size_t len)
{
	char f[128];

	snprintf(f, sizeof(f), "zero_downtime.%s", field);
	return es_cfg_uint(v, f, lo, hi, out, err, len);
}

/* One of two words: *second says which. */
static int get_either(json_t *v, const char *field, const char *first, const char *second,
		      bool *is_second, char *err, size_t len)
{
	const char *s = json_string_value(v);
	char what[96];

	if (!s || (strcmp(s, first) && strcmp(s, second))) {
		snprintf(what, sizeof(what), "must be \"%s\" or \"%s\"", first, second);
		return fail(err, len, field, what);
	}
	*is_second = !strcmp(s, second);
	return 0;
}

static int get_ifaces(json_t *v, const char *f, char (*out)[16], unsigned int *n, char *err,
		      size_t len)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > ES_ZDM_MAX_IFACES)
		return fail(err, len, f, "must be an array of at most 8 interface names");
	*n = 0;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		if (!s || !*s || strlen(s) >= 16)
			return fail(err, len, f, "holds a name that is not an interface name");
		snprintf(out[(*n)++], 16, "%s", s);
	}
	return 0;
}

/* "addr:port[/udp|/tcp]" (an IPv6 address in brackets) -> address, port, protocol. */
static int parse_endpoint(const char *s, __u32 *addr, uint16_t *port, uint8_t *proto)
{
	char buf[ES_MIG_ENDPOINT_LEN + 8], *slash;

	if (!s || snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	*proto = IPPROTO_UDP;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcmp(slash, "tcp"))
			*proto = IPPROTO_TCP;
		else if (strcmp(slash, "udp"))
			return -1;
	}
	/* port 0 would make the service entry match every port */
	return es_mig_endpoint_parse(buf, addr, port) || !*port ? -1 : 0;
}

static int parse_services(struct es_zdm_config *z, json_t *v, char *err, size_t len)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > ES_ZDM_MAX_SERVICES)
		return fail(err, len, "services", "must be an array of at most 16 objects");
	z->n_services = 0;
	json_array_foreach(v, i, e) {
		struct es_zdm_service *s = &z->services[z->n_services];
		const char *ct = json_string_value(json_object_get(e, "container"));
		const char *node = json_string_value(json_object_get(e, "node"));

		if (parse_endpoint(json_string_value(json_object_get(e, "service")), s->addr,
				   &s->port, &s->proto)) {
			snprintf(err, len, "config: zero_downtime.services[%zu].service must be "
				 "\"ADDR:port\" or \"ADDR:port/tcp\" (IPv6 as [ADDR])", i);
			return -1;
		}
		if (!ct || !*ct || strlen(ct) >= sizeof(s->container) || !node || !*node ||
		    strlen(node) >= sizeof(s->node)) {
			snprintf(err, len, "config: zero_downtime.services[%zu] needs \"container\" "
				 "and \"node\" names", i);
			return -1;
		}
		snprintf(s->container, sizeof(s->container), "%s", ct);
		snprintf(s->node, sizeof(s->node), "%s", node);
		z->n_services++;
	}
	return 0;
}

static int parse_field(struct es_zdm_config *z, const char *k, json_t *v, char *err, size_t len)
{
	if (!strcmp(k, "tunnel_addr")) {
		if (!json_is_string(v) || es_mig_addr_parse(json_string_value(v), z->tunnel_addr))
			return fail(err, len, k, "must be an IPv4 or IPv6 address");
		return 0;
	}
	if (!strcmp(k, "tunnel_port"))
		return get_uint(v, k, 1, 65535, &z->tunnel_port, err, len);
	if (!strcmp(k, "user_interfaces"))
		return get_ifaces(v, k, z->user_ifaces, &z->n_user, err, len);
	if (!strcmp(k, "wan_interfaces"))
		return get_ifaces(v, k, z->wan_ifaces, &z->n_wan, err, len);
	if (!strcmp(k, "pod_interfaces"))
		return get_ifaces(v, k, z->pod_ifaces, &z->n_pod, err, len);
	if (!strcmp(k, "replay_limit"))
		return get_uint(v, k, 1, 1 << 20, &z->replay_limit, err, len);
	if (!strcmp(k, "records"))
		return get_uint(v, k, 16, 1 << 20, &z->records, err, len);
	if (!strcmp(k, "auto")) {
		if (!json_is_boolean(v))
			return fail(err, len, k, "must be true or false");
		z->auto_migrate = json_is_true(v);
		return 0;
	}
	if (!strcmp(k, "mode"))
		return get_either(v, k, "partial", "complete", &z->complete, err, len);
	if (!strcmp(k, "replay_order"))
		return get_either(v, k, "arrival", "connection", &z->replay_per_connection, err,
				  len);
	if (!strcmp(k, "services"))
		return parse_services(z, v, err, len);
	if (!strcmp(k, "hold_timeout_ms"))
		return get_uint(v, k, 10, 600000, &z->hold_timeout_ms, err, len);
	if (!strcmp(k, "cutover_timeout_ms"))
		return get_uint(v, k, 10, 600000, &z->cutover_timeout_ms, err, len);
	if (!strcmp(k, "peer_retry_ms"))
		return get_uint(v, k, 0, 600000, &z->peer_retry_ms, err, len);
	if (!strcmp(k, "gap_timeout_ms"))
		return get_uint(v, k, 10, 600000, &z->gap_timeout_ms, err, len);
	return fail(err, len, k, "is not a known field");
}

int es_zdm_url_addr(const char *url, __u32 *addr)
{
	char host[256];
	uint16_t port;

	memset(addr, 0, 16);
	if (es_url_host_port(url, host, sizeof(host), &port) || es_mig_addr_parse(host, addr)) {
		memset(addr, 0, 16);
		return -1;
	}
	return 0;
}

int es_zdm_config_check_peers(const struct es_zdm_config *z, const struct es_mig_config *m,
			      char *err, size_t len)
{
	bool v4 = es_mig_addr_is4(z->tunnel_addr);
	char what[512];
	unsigned int i;
	__u32 a[4];

	for (i = 0; z->enabled && i < m->n_peers; i++) {
		/* a host name is not checked: the tunnel needs an address */
		if (es_zdm_url_addr(m->peers[i].url, a) || (bool)es_mig_addr_is4(a) == v4)
			continue;
		snprintf(what, sizeof(what), "is %s, but peer %s's URL names an %s address: the "
			 "tunnel between the nodes has one family", v4 ? "IPv4" : "IPv6",
			 m->peers[i].name, v4 ? "IPv6" : "IPv4");
		return fail(err, len, "tunnel_addr", what);
	}
	return 0;
}

int es_zdm_config_parse(struct es_zdm_config *z, json_t *v, char *err, size_t len)
{
	const char *k;
	json_t *e;

	if (!json_is_object(v)) {
		snprintf(err, len, "config: zero_downtime must be an object");
		return -1;
	}
	es_zdm_config_defaults(z);
	json_object_foreach(v, k, e)
		if (parse_field(z, k, e, err, len))
			return -1;
	if (!es_mig_addr_set(z->tunnel_addr))
		return fail(err, len, "tunnel_addr", "is required");
	z->enabled = true;
	return 0;
}

const struct es_zdm_service *es_zdm_service_find(const struct es_zdm_config *z, uint8_t proto,
						 const __u32 *addr, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < z->n_services; i++)
		if (es_mig_addr_eq(z->services[i].addr, addr) && z->services[i].port == port &&
		    z->services[i].proto == proto)
			return &z->services[i];
	return NULL;
}
