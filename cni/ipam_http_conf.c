// SPDX-License-Identifier: GPL-2.0-only
/* The HTTP IPAM's "ipam" object (ipam_http_conf.h). */
#include <stdio.h>
#include <string.h>
#include "ipam_http_conf.h"

int ipam_http_handles(const json_t *ipam)
{
	const char *t = json_string_value(json_object_get(ipam, "type"));

	return t && (!strcmp(t, "vdhcp") || !strcmp(t, "edgeshift-http"));
}

static int only_known_keys(const json_t *obj, const char *const *keys, const char *where,
			   struct cni_error *err)
{
	const char *k, *const *p;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		for (p = keys; *p && strcmp(*p, k); p++)
			;
		if (!*p)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s.%s: unknown field",
					where, k);
	}
	return 0;
}

static int opt_ms(const json_t *ipam, const char *key, long def, long min, long max, long *out,
		  struct cni_error *err)
{
	const json_t *v = json_object_get(ipam, key);

	*out = def;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"ipam.%s: want an integer of milliseconds in %ld..%ld",
				key, min, max);
	*out = json_integer_value(v);
	return 0;
}

static int opt_str(const json_t *obj, const char *key, const char *where, const char **out,
		   struct cni_error *err)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s.%s: want a string", where, key);
	*out = json_string_value(v);
	return 0;
}

static int parse_server(const json_t *s, int i, struct ipam_server *out, struct cni_error *err)
{
	static const char *const keys[] = { "url", "user", "password", "caFile", NULL };
	char where[32];

	snprintf(where, sizeof(where), "ipam.servers[%d]", i);
	if (!json_is_object(s))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"%s: want an object with url, user, password", where);
	if (only_known_keys(s, keys, where, err) || opt_str(s, "url", where, &out->url, err) ||
	    opt_str(s, "user", where, &out->user, err) ||
	    opt_str(s, "password", where, &out->password, err) ||
	    opt_str(s, "caFile", where, &out->ca_file, err))
		return -1;
	if (!out->url || (strncmp(out->url, "http://", 7) && strncmp(out->url, "https://", 8)) ||
	    strlen(out->url) < 9 || strlen(out->url) > 1024)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"%s.url: want an http:// or https:// URL", where);
	if (!out->user != !out->password)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s.%s: user and password go together",
				where, out->user ? "password" : "user");
	if (out->user && (!*out->user || strchr(out->user, ':')))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"%s.user: want a non-empty name without ':'", where);
	return 0;
}

int ipam_http_parse_conf(const json_t *ipam, struct ipam_conf *c, struct cni_error *err)
{
	static const char *const keys[] = { "type", "servers", "network", "timeoutMs",
					    "connectTimeoutMs", "serverTimeoutMs", NULL };
	const json_t *servers = json_object_get(ipam, "servers"), *s;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(ipam))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: want an object");
	if (!ipam_http_handles(ipam))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"ipam.type: want \"vdhcp\" or \"edgeshift-http\"");
	if (only_known_keys(ipam, keys, "ipam", err) ||
	    opt_str(ipam, "network", "ipam", &c->network, err) ||
	    opt_ms(ipam, "timeoutMs", DEFAULT_TOTAL_MS, 100, 600000, &c->total_ms, err) ||
	    opt_ms(ipam, "connectTimeoutMs", DEFAULT_CONNECT_MS, 10, 600000, &c->connect_ms, err) ||
	    opt_ms(ipam, "serverTimeoutMs", DEFAULT_SERVER_MS, 10, 600000, &c->server_ms, err))
		return -1;
	if (c->network && (!*c->network || strlen(c->network) > 63))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam.network: want 1-63 characters");
	if (!json_is_array(servers) || !json_array_size(servers) ||
	    json_array_size(servers) > MAX_SERVERS)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"ipam.servers: want an array of 1 to %d servers", MAX_SERVERS);
	json_array_foreach(servers, i, s)
		if (parse_server(s, i, &c->srv[c->n++], err))
			return -1;
	return 0;
}

int ipam_http_validate(const json_t *ipam, struct cni_error *err)
{
	struct ipam_conf c;

	return ipam_http_parse_conf(ipam, &c, err);
}
