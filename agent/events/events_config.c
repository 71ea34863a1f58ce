// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "events" object of the agent configuration (docs/events.md):
 *   {"sink": "http://broker-ingress/ns/default",
 *    "content_mode": "binary",
 *    "delivery": {"retry": 5, "backoffPolicy": "exponential",
 *                 "backoffDelay": "PT0.2S", "timeout": "PT10S",
 *                 "deadLetterSink": "http://dls"},
 *    "spool_dir": "/var/lib/edgeshift/events", "spool_max_events": 100000,
 *    "types": ["user.attached", "migration.*"],
 *    "services": ["10.96.0.10:80/tcp", "[fd00::1]:443"],
 *    "utilisation_threshold": 0.8}
 * The delivery keys are Knative's (DeliverySpec), spelled as Knative does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fnmatch.h>
#include <arpa/inet.h>
#include "util/config_field.h"
#include "events.h"

#define NS	1000000000ULL

static const char *const type_names[ES_EV_TYPES] = {
	[ES_EV_USER_ATTACHED]		= "io.edgeshift.user.attached",
	[ES_EV_SESSION_OPENED]		= "io.edgeshift.session.opened",
	[ES_EV_SESSION_CLOSED]		= "io.edgeshift.session.closed",
	[ES_EV_HANDOFF_SEEN]		= "io.edgeshift.handoff.seen",
	[ES_EV_MIG_STARTED]		= "io.edgeshift.migration.started",
	[ES_EV_MIG_CHECKPOINTED]	= "io.edgeshift.migration.checkpointed",
	[ES_EV_MIG_RESTORED]		= "io.edgeshift.migration.restored",
	[ES_EV_MIG_CUTOVER]		= "io.edgeshift.migration.cutover",
	[ES_EV_MIG_FAILED]		= "io.edgeshift.migration.failed",
	[ES_EV_UTIL_CROSSED]		= "io.edgeshift.utilisation.crossed",
	[ES_EV_LATENCY_CROSSED]		= "io.edgeshift.latency.crossed",
};

const char *const es_ev_lat_kinds[ES_EV_LAT_KINDS] = { "handshake", "service", "response" };

const char *es_ev_type_name(enum es_ev_type t)
{
	return t < ES_EV_TYPES ? type_names[t] : "io.edgeshift.unknown";
}

void es_events_config_defaults(struct es_events_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = ES_EV_BINARY;
	c->spool_max_events = 100000;
	c->retry = 5;
	c->parallelism = 1;
	c->backoff = ES_EV_EXPONENTIAL;
	c->backoff_delay_ns = NS / 5;
	c->timeout_ns = 10 * NS;
	c->types = (1U << ES_EV_TYPES) - 1;
}

static int fail(char *err, size_t len, const char *field, const char *want)
{
	return es_cfg_fail_in(err, len, "events", field, want);
}

/*
 * One number and its unit letter: digits, a fraction if any ("1.5"), and
 * nothing strtod would take besides (an exponent, hexadecimal, a sign).
 */
static int duration_part(const char **p, double *val, char *unit)
{
	const char *q = *p;

	while (*q >= '0' && *q <= '9')
		q++;
	if (q == *p)
		return -1;
	if (*q == '.') {
		if (q[1] < '0' || q[1] > '9')
			return -1;
		for (q++; *q >= '0' && *q <= '9'; q++)
			;
	}
	if (!*q)
		return -1;
	*val = strtod(*p, NULL);
	*unit = *q;
	*p = q + 1;
	return 0;
}

/*
 * PnYnMnWnDTnHnMnS: each unit at most once and in that order ("PT1S1S"
 * and "PT1S1H" are no durations), at least one, at most 366 days.
 */
int es_iso8601_duration(const char *s, uint64_t *ns)
{
	static const char date_units[] = "YMWD", time_units[] = "HMS";
	static const double date_s[] = { 365 * 86400.0, 30 * 86400.0, 7 * 86400.0, 86400.0 };
	static const double time_s[] = { 3600.0, 60.0, 1.0 };
	/* the section's units and their seconds: the date's, then after T the time's */
	const char *p = s, *units = date_units, *u;
	const double *secs = date_s;
	bool any = false;
	double total = 0, v;
	int next = 0;	/* the first unit of the section still allowed */
	char unit;

	if (!s || *p++ != 'P' || !*p)
		return -1;
	while (*p) {
		if (*p == 'T') {
			if (units == time_units || !p[1])
				return -1;
			units = time_units;
			secs = time_s;
			next = 0;
			p++;
			continue;
		}
		if (duration_part(&p, &v, &unit))
			return -1;
		u = strchr(units, unit);
		if (!u || !unit || u - units < next)
			return -1;
		next = u - units + 1;
		total += v * secs[u - units];
		any = true;
	}
	if (!any || total > 366.0 * 86400)
		return -1;
	*ns = (uint64_t)(total * 1e9 + 0.5);
	return 0;
}

static int parse_url(const char *s, const char *field, char *dst, size_t len, char *err,
		     size_t err_len)
{
	if (!s || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) || strlen(s) >= len ||
	    strlen(s) < 9)
		return fail(err, err_len, field, "must be an http:// or https:// URL");
	strcpy(dst, s);
	return 0;
}

static int parse_duration_field(json_t *v, const char *field, uint64_t *ns, char *err,
				size_t err_len)
{
	if (es_iso8601_duration(json_string_value(v), ns))
		return fail(err, err_len, field,
			    "must be an ISO-8601 duration such as \"PT0.2S\" or \"PT1M\"");
	return 0;
}

static int parse_delivery(struct es_events_config *c, json_t *v, char *err, size_t err_len)
{
	const char *key, *s;
	char field[64];
	json_t *m;

	if (!json_is_object(v))
		return fail(err, err_len, "delivery", "must be an object");
	json_object_foreach(v, key, m) {
		snprintf(field, sizeof(field), "delivery.%s", key);
		if (!strcmp(key, "retry")) {
			if (!json_is_integer(m) || json_integer_value(m) < 0 ||
			    json_integer_value(m) > 100)
				return fail(err, err_len, field, "must be an integer from 0 to 100");
			c->retry = json_integer_value(m);
		} else if (!strcmp(key, "backoffPolicy")) {
			s = json_string_value(m);
			if (s && !strcmp(s, "exponential"))
				c->backoff = ES_EV_EXPONENTIAL;
			else if (s && !strcmp(s, "linear"))
				c->backoff = ES_EV_LINEAR;
			else
				return fail(err, err_len, field,
					    "must be \"exponential\" or \"linear\"");
		} else if (!strcmp(key, "backoffDelay")) {
			if (parse_duration_field(m, field, &c->backoff_delay_ns, err, err_len))
				return -1;
		} else if (!strcmp(key, "timeout")) {
			if (parse_duration_field(m, field, &c->timeout_ns, err, err_len))
				return -1;
			if (c->timeout_ns < NS / 1000)
				return fail(err, err_len, field, "must be at least 1 ms");
		} else if (!strcmp(key, "deadLetterSink")) {
			if (parse_url(json_string_value(m), field, c->dead_letter, sizeof(c->dead_letter), err,
				      err_len))
				return -1;
		} else {
			return fail(err, err_len, field, "is not a known field (retry, "
				    "backoffPolicy, backoffDelay, timeout, deadLetterSink)");
		}
	}
	return 0;
}

/* "user.attached", "io.edgeshift.user.attached" or a pattern ("migration.*"). */
static int parse_types(struct es_events_config *c, json_t *v, char *err, size_t err_len)
{
	const char *s;
	char field[64];
	uint32_t hit;
	size_t i;
	json_t *e;
	int t;

	if (!json_is_array(v))
		return fail(err, err_len, "types", "must be an array of event type names");
	c->types = 0;
	json_array_foreach(v, i, e) {
		snprintf(field, sizeof(field), "types[%zu]", i);
		s = json_string_value(e);
		hit = 0;
		for (t = 0; s && t < ES_EV_TYPES; t++)
			if (!fnmatch(s, type_names[t], 0) ||
			    !fnmatch(s, type_names[t] + strlen("io.edgeshift."), 0))
				hit |= 1U << t;
		if (!hit)
			return fail(err, err_len, field, "names no event type (docs/events.md "
				    "lists them: user.attached, session.opened, ...)");
		c->types |= hit;
	}
	return 0;
}

/* "a.b.c.d", "a.b.c.d:port", "[v6]:port", "v6", each optionally "/tcp" or "/udp". */
static int parse_service(struct es_ev_service *svc, const char *s)
{
	char buf[128], *slash, *colon, *host = buf;
	struct in_addr a4;
	long port = 0;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(svc, 0, sizeof(*svc));
	slash = strrchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcmp(slash, "tcp"))
			svc->proto = IPPROTO_TCP;
		else if (!strcmp(slash, "udp"))
			svc->proto = IPPROTO_UDP;
		else
			return -1;
	}
	if (buf[0] == '[') {
		colon = strstr(buf, "]:");
		if (!colon)
			return -1;
		*colon = '\0';
		host = buf + 1;
		port = strtol(colon + 2, &slash, 10);
		if (*slash || port < 1 || port > 65535)
			return -1;
	} else if (strchr(buf, '.') && (colon = strchr(buf, ':'))) {
		*colon = '\0';
		port = strtol(colon + 1, &slash, 10);
		if (*slash || port < 1 || port > 65535)
			return -1;
	}
	svc->port = port;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		svc->addr.s6_addr[10] = svc->addr.s6_addr[11] = 0xff;
		memcpy(&svc->addr.s6_addr[12], &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, host, &svc->addr) == 1 ? 0 : -1;
}

static int parse_services(struct es_events_config *c, json_t *v, char *err, size_t err_len)
{
	char field[64];
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > ES_EV_MAX_SERVICES)
		return fail(err, err_len, "services", "must be an array of at most 64 services");
	c->n_services = 0;
	json_array_foreach(v, i, e) {
		snprintf(field, sizeof(field), "services[%zu]", i);
		if (parse_service(&c->services[c->n_services], json_string_value(e)))
			return fail(err, err_len, field, "must be \"ADDRESS[:PORT][/tcp|/udp]\" "
				    "(IPv6 as \"[ADDRESS]:PORT\")");
		c->n_services++;
	}
	return 0;
}

/* {"service": 50, "handshake": 20}: p99 bounds in ms by latency kind. */
static int parse_slo(struct es_events_config *c, json_t *v, char *err, size_t err_len)
{
	char field[64];
	const char *key;
	json_t *m;
	int k;

	if (!json_is_object(v))
		return fail(err, err_len, "latency_slo_ms", "must be an object {\"KIND\": ms}");
	json_object_foreach(v, key, m) {
		snprintf(field, sizeof(field), "latency_slo_ms.%s", key);
		for (k = 0; k < ES_EV_LAT_KINDS && strcmp(key, es_ev_lat_kinds[k]); k++)
			;
		if (k == ES_EV_LAT_KINDS)
			return fail(err, err_len, field,
				    "is not a latency kind (handshake, service, response)");
		if (!json_is_number(m) || json_number_value(m) <= 0 ||
		    json_number_value(m) > 600000)
			return fail(err, err_len, field, "must be a number of ms above 0, at most 600000");
		c->latency_slo_ms[k] = json_number_value(m);
	}
	return 0;
}

static int parse_mode(struct es_events_config *c, json_t *v, char *err, size_t err_len)
{
	const char *s = json_string_value(v);

	if (s && !strcmp(s, "binary"))
		c->mode = ES_EV_BINARY;
	else if (s && !strcmp(s, "structured"))
		c->mode = ES_EV_STRUCTURED;
	else
		return fail(err, err_len, "content_mode", "must be \"binary\" or \"structured\"");
	return 0;
}

static int parse_key(struct es_events_config *c, const char *key, json_t *m, char *err,
		     size_t err_len)
{
	if (!strcmp(key, "sink"))
		return parse_url(json_string_value(m), key, c->sink, sizeof(c->sink), err, err_len);
	if (!strcmp(key, "content_mode"))
		return parse_mode(c, m, err, err_len);
	if (!strcmp(key, "delivery"))
		return parse_delivery(c, m, err, err_len);
	if (!strcmp(key, "spool_dir")) {
		if (!json_string_value(m) || json_string_value(m)[0] != '/')
			return fail(err, err_len, key, "must be an absolute path");
		return es_cfg_string(m, "events.spool_dir", c->spool_dir, sizeof(c->spool_dir),
				     err, err_len);
	}
	if (!strcmp(key, "spool_max_events"))
		return es_cfg_uint(m, "events.spool_max_events", 16, 100000000,
				   &c->spool_max_events, err, err_len);
	if (!strcmp(key, "parallelism"))
		return es_cfg_uint(m, "events.parallelism", 1, ES_EV_MAX_PARALLEL, &c->parallelism,
				   err, err_len);
	if (!strcmp(key, "types"))
		return parse_types(c, m, err, err_len);
	if (!strcmp(key, "services"))
		return parse_services(c, m, err, err_len);
	if (!strcmp(key, "latency_slo_ms"))
		return parse_slo(c, m, err, err_len);
	if (!strcmp(key, "utilisation_threshold"))
		return es_cfg_number(m, "events.utilisation_threshold", 0.01, 1.0,
				     &c->util_threshold, err, err_len);
	return fail(err, err_len, key, "is not a known field (sink, content_mode, delivery, "
		    "parallelism, spool_dir, spool_max_events, types, services, "
		    "utilisation_threshold, latency_slo_ms)");
}

int es_events_config_parse(struct es_events_config *c, json_t *v, char *err, size_t err_len)
{
	const char *key;
	json_t *m;

	if (!json_is_object(v))
		return es_cfg_fail(err, err_len, "events", "must be an object");
	c->configured = true;
	json_object_foreach(v, key, m) {
		if (parse_key(c, key, m, err, err_len))
			return -1;
	}
	return 0;
}

/* An extension attribute name: lower-case letters and digits (CloudEvents 1.0). */
static bool ext_name_ok(const char *s)
{
	static const char *const reserved[] = { "id", "source", "specversion", "type",
						"subject", "time", "datacontenttype",
						"dataschema", "data", NULL };
	size_t n = strlen(s), i;

	if (!n || n >= sizeof(((struct es_ev_override *)0)->name))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	for (i = 0; reserved[i]; i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return true;
}

/* K_CE_OVERRIDES: {"extensions": {"name": "value", ...}} as Knative sets it. */
static int parse_overrides(struct es_events_config *c, const char *text, char *err,
			   size_t err_len)
{
	json_t *o = json_loads(text, 0, NULL), *ext, *v;
	const char *key;
	int ret = -1;

	ext = json_object_get(o, "extensions");
	if (!o || !json_is_object(o) || (ext && !json_is_object(ext))) {
		snprintf(err, err_len, "K_CE_OVERRIDES must be {\"extensions\": {\"name\": "
			 "\"value\", ...}}");
		goto out;
	}
	c->n_overrides = 0;
	json_object_foreach(ext, key, v) {
		if (!ext_name_ok(key) || !json_is_string(v) ||
		    strlen(json_string_value(v)) >= sizeof(c->overrides[0].value) ||
		    c->n_overrides >= ES_EV_MAX_OVERRIDES) {
			snprintf(err, err_len, "K_CE_OVERRIDES extension '%s' must be a lower-case "
				 "alphanumeric name (not a core attribute) with a string value under "
				 "128 bytes, at most 16 of them", key);
			goto out;
		}
		strcpy(c->overrides[c->n_overrides].name, key);
		strcpy(c->overrides[c->n_overrides].value, json_string_value(v));
		c->n_overrides++;
	}
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int es_events_config_finish(struct es_events_config *c, const char *state_dir, char *err,
			    size_t err_len)
{
	const char *k_sink = getenv("K_SINK"), *over = getenv("K_CE_OVERRIDES");

	if (!c->sink[0] && k_sink && *k_sink &&
	    parse_url(k_sink, "sink", c->sink, sizeof(c->sink), err, err_len)) {
		snprintf(err, err_len, "K_SINK must be an http:// or https:// URL");
		return -1;
	}
	if (over && *over && parse_overrides(c, over, err, err_len))
		return -1;
	if (!c->spool_dir[0])
		snprintf(c->spool_dir, sizeof(c->spool_dir), "%s/events", state_dir);
	return 0;
}

bool es_events_config_on(const struct es_events_config *c)
{
	return c->sink[0] != '\0';
}
