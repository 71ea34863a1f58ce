// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client of the HTTP IPAM API (docs/cni-ipam-api.md): servers tried in
 * order within one time budget; the most telling failure is reported
 * with every server's own reason in the details.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/http_client.h"
#include "ipam_http.h"
#include "nl.h"
#include "util/clock.h"

/*
 * What one server's answer means, in the order of how telling it is when
 * every server failed: the highest one seen is reported.
 */
enum outcome {
	OUT_OK,
	OUT_NOT_FOUND,		/* get/release: no such allocation here */
	OUT_UNREACHABLE,
	OUT_BAD_ANSWER,
	OUT_UNKNOWN_NETWORK,
	OUT_AUTH,
	OUT_EXHAUSTED,
};

static const int outcome_code[] = {
	[OUT_UNREACHABLE]	= CNI_ERR_IPAM_UNREACHABLE,
	[OUT_BAD_ANSWER]	= CNI_ERR_IPAM_BAD_ANSWER,
	[OUT_UNKNOWN_NETWORK]	= CNI_ERR_INVALID_CONFIG,
	[OUT_AUTH]		= CNI_ERR_IPAM_AUTH,
	[OUT_EXHAUSTED]		= CNI_ERR_IPAM_EXHAUSTED,
};

/* The failures of one operation, server by server. */
struct attempt {
	enum outcome	worst;
	char		worst_msg[240];
	char		details[768];
};

/* ------------------------------------------------------------------ */
/* Talking to the servers */

static void note(struct attempt *at, const struct ipam_server *s, enum outcome o,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(struct attempt *at, const struct ipam_server *s, enum outcome o,
		 const char *fmt, ...)
{
	size_t used = strlen(at->details);
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(at->details + used, sizeof(at->details) - used, "%s%s: %s",
		 used ? "; " : "", s->url, msg);
	if (o > at->worst || !at->worst_msg[0]) {
		at->worst = o;
		snprintf(at->worst_msg, sizeof(at->worst_msg), "server %s %s", s->url, msg);
	}
}

static int attempt_fail(struct attempt *at, const char *what, struct cni_error *err)
{
	cni_fail(err, outcome_code[at->worst], "ipam %s: %s", what, at->worst_msg);
	snprintf(err->details, sizeof(err->details), "%s", at->details);
	return -1;
}

/* The server's {"error", "message"} body, or a note that it has none. */
static void error_text(const struct es_http_response *r, char *kind, size_t klen, char *msg,
		       size_t mlen)
{
	json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
	const char *k = json_string_value(json_object_get(j, "error"));
	const char *m = json_string_value(json_object_get(j, "message"));

	snprintf(kind, klen, "%s", k ? k : "");
	snprintf(msg, mlen, "%s", m ? m : "(no API error body)");
	json_decref(j);
}

/* Classifies a non-2xx answer (or none); `ok404` is the 404 kind that means "not here". */
static enum outcome classify(const struct ipam_server *s, const struct es_http_response *r,
			     struct attempt *at)
{
	char kind[64], msg[160];

	if (!r->status) {
		note(at, s, OUT_UNREACHABLE, "did not answer: %s",
		     r->reason ? r->reason : "no HTTP status");
		return OUT_UNREACHABLE;
	}
	error_text(r, kind, sizeof(kind), msg, sizeof(msg));
	if (r->status == 401 || r->status == 403) {
		note(at, s, OUT_AUTH, "refused the credentials of user \"%s\" (HTTP %ld)",
		     s->user ? s->user : "", r->status);
		return OUT_AUTH;
	}
	if (r->status == 409 && !strcmp(kind, "exhausted")) {
		note(at, s, OUT_EXHAUSTED, "has no free address: %s", msg);
		return OUT_EXHAUSTED;
	}
	if (r->status == 404 && !strcmp(kind, "unknown-network")) {
		note(at, s, OUT_UNKNOWN_NETWORK, "does not serve the network: %s", msg);
		return OUT_UNKNOWN_NETWORK;
	}
	if (r->status == 404 && !strcmp(kind, "unknown-allocation"))
		return OUT_NOT_FOUND;
	if (r->status >= 500 && kind[0]) {
		note(at, s, OUT_UNREACHABLE, "failed (HTTP %ld): %s", r->status, msg);
		return OUT_UNREACHABLE;
	}
	note(at, s, OUT_BAD_ANSWER, "answered HTTP %ld, not the IPAM API: %s", r->status,
	     kind[0] ? msg : "no API error body");
	return OUT_BAD_ANSWER;
}

static char *alloc_url(const struct ipam_server *s, const char *network, const char *cid,
		       const char *ifname)
{
	char *n = es_http_escape(network), *c = cid ? es_http_escape(cid) : NULL;
	char *i = ifname ? es_http_escape(ifname) : NULL, *url = NULL;
	const char *slash = s->url[strlen(s->url) - 1] == '/' ? "" : "/";
	int ret;

	if (!n || (cid && !c) || (ifname && !i))
		goto out;
	if (cid)
		ret = asprintf(&url, "%s%sv1/networks/%s/allocations/%s/%s", s->url, slash, n, c, i);
	else
		ret = asprintf(&url, "%s%sv1/networks/%s/allocations", s->url, slash, n);
	if (ret < 0)
		url = NULL;
out:
	free(n);
	free(c);
	free(i);
	return url;
}

/* Least of the budget a server is asked with. */
#define IPAM_MIN_ASK_MS	50

/*
 * One request to server i within what is left of the budget. Returns 0
 * when an answer arrived; otherwise -ECONNREFUSED when the request never
 * reached the server, another negative value when it may have, noted in
 * `at`.
 */
static int call(const struct ipam_conf *c, int i, long long deadline, const char *method,
		const char *url, const char *body, struct es_http_response *r, struct attempt *at)
{
	const struct ipam_server *s = &c->srv[i];
	long left = (long)(deadline - es_now_ms());
	char why[256];
	int ret;
	struct es_http_request req = {
		.method = method, .url = url, .body = body, .user = s->user,
		.password = s->password, .ca_file = s->ca_file,
	};

	memset(r, 0, sizeof(*r));
	if (!url) {
		note(at, s, OUT_UNREACHABLE, "not asked: out of memory");
		return -ECONNREFUSED;
	}
	/*
	 * A request with a few ms left can only time out, and it may still
	 * reach the server and allocate there: not asked (a CI run asked a
	 * third server with 4 ms left, which timed out after 1 ms).
	 */
	if (left < IPAM_MIN_ASK_MS) {
		note(at, s, OUT_UNREACHABLE, "not asked: the %ld ms of ipam.timeoutMs were spent "
		     "(%ld ms left)", c->total_ms, left > 0 ? left : 0);
		return -ECONNREFUSED;
	}
	req.total_ms = left < c->server_ms ? left : c->server_ms;
	req.connect_ms = req.total_ms < c->connect_ms ? req.total_ms : c->connect_ms;
	ret = es_http_perform(&req, r, why, sizeof(why));
	if (ret)
		note(at, s, OUT_UNREACHABLE, "did not answer: %s", why);
	return ret;
}

static const char *net_name(const struct ipam_conf *c, const char *network)
{
	return c->network ? c->network : network;
}

/* ------------------------------------------------------------------ */
/* Results */

/* "A/N" with a valid IPv4 or IPv6 address and prefix. */
static int valid_cidr(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 5], *slash, *end;
	unsigned char a[16];
	long p;
	int v6;

	if (!s || strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	v6 = !!strchr(buf, ':');
	p = strtol(slash + 1, &end, 10);
	return !*end && end != slash + 1 && p >= 0 && p <= (v6 ? 128 : 32) &&
	       inet_pton(v6 ? AF_INET6 : AF_INET, buf, a) == 1;
}

static int valid_ip(const char *s)
{
	unsigned char a[16];

	return s && (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1);
}

/* Copies a string field when present; -1 if present but not valid. */
static int copy_field(json_t *dst, const json_t *src, const char *key, int (*ok)(const char *))
{
	const json_t *v = json_object_get(src, key);

	if (!v)
		return 0;
	if (!ok(json_string_value(v)))
		return -1;
	json_object_set_new(dst, key, json_string(json_string_value(v)));
	return 0;
}

static int is_string(const char *s)
{
	return s != NULL;
}

static int convert_ips(const json_t *in, json_t *out)
{
	const json_t *ip;
	json_t *ips = json_array();
	size_t i;

	json_object_set_new(out, "ips", ips);
	if (!json_is_array(in) || !json_array_size(in))
		return -1;
	json_array_foreach(in, i, ip) {
		json_t *o = json_object();

		json_array_append_new(ips, o);
		if (!json_object_get(ip, "address") || copy_field(o, ip, "address", valid_cidr) ||
		    copy_field(o, ip, "gateway", valid_ip))
			return -1;
	}
	return 0;
}

static int convert_routes(const json_t *in, json_t *out)
{
	const json_t *r;
	json_t *routes;
	size_t i;

	if (!in)
		return 0;
	if (!json_is_array(in))
		return -1;
	routes = json_array();
	json_object_set_new(out, "routes", routes);
	json_array_foreach(in, i, r) {
		json_t *o = json_object();

		json_array_append_new(routes, o);
		if (!json_object_get(r, "dst") || copy_field(o, r, "dst", valid_cidr) ||
		    copy_field(o, r, "gw", valid_ip))
			return -1;
	}
	return 0;
}

static int string_array(const json_t *in, json_t *dns, const char *key, int (*ok)(const char *))
{
	const json_t *a = json_object_get(in, key), *v;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, v)
		if (!ok(json_string_value(v)))
			return -1;
	json_object_set_new(dns, key, json_deep_copy(a));
	return 0;
}

static int convert_dns(const json_t *in, json_t *out)
{
	json_t *dns;

	if (!in)
		return 0;
	if (!json_is_object(in))
		return -1;
	dns = json_object();
	json_object_set_new(out, "dns", dns);
	return string_array(in, dns, "nameservers", valid_ip) ||
	       copy_field(dns, in, "domain", is_string) ||
	       string_array(in, dns, "search", is_string) ||
	       string_array(in, dns, "options", is_string);
}

/* The server's allocation as a CNI 1.x IPAM result, or NULL if malformed. */
static json_t *to_result(const char *body)
{
	json_t *a = body ? json_loads(body, 0, NULL) : NULL, *out = json_object();

	if (!json_is_object(a) || convert_ips(json_object_get(a, "ips"), out) ||
	    convert_routes(json_object_get(a, "routes"), out) ||
	    convert_dns(json_object_get(a, "dns"), out)) {
		json_decref(out);
		out = NULL;
	}
	json_decref(a);
	return out;
}

/* ------------------------------------------------------------------ */
/* Operations */

int ipam_http_add(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, json_t **result, struct cni_error *err)
{
	json_t *held = NULL;
	int ret = ipam_http_add_held(ipam, network, container_id, ifname, result, &held, err);

	json_decref(held);
	return ret;
}

int ipam_http_add_held(const json_t *ipam, const char *network, const char *container_id,
		       const char *ifname, json_t **result, json_t **held, struct cni_error *err)
{
	struct attempt at = { 0 };
	struct ipam_conf c;
	long long deadline;
	json_t *req;
	char *body;
	int i, ret;

	*result = NULL;
	*held = json_array();
	if (ipam_http_parse_conf(ipam, &c, err))
		return -1;
	network = net_name(&c, network);
	req = json_pack("{s:s,s:s}", "containerId", container_id ? container_id : "",
			"ifname", ifname ? ifname : "");
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!body)
		return cni_fail(err, CNI_ERR_IO, "ipam allocate: out of memory");
	deadline = es_now_ms() + c.total_ms;
	for (i = 0; i < c.n && !*result; i++) {
		char *url = alloc_url(&c.srv[i], network, NULL, NULL);
		struct es_http_response r;

		ret = call(&c, i, deadline, "POST", url, body, &r, &at);
		/* a request that reached the server may still be served after we gave up */
		if (ret && ret != -ECONNREFUSED)
			json_array_append_new(*held, json_string(c.srv[i].url));
		if (!ret) {
			if (r.status == 200 || r.status == 201) {
				*result = to_result(r.body);
				json_array_append_new(*held, json_string(c.srv[i].url));
				if (!*result)
					note(&at, &c.srv[i], OUT_BAD_ANSWER,
					     "answered an allocation that is not the API's: %.80s",
					     r.body ? r.body : "(empty)");
			} else {
				classify(&c.srv[i], &r, &at);
			}
		}
		es_http_response_free(&r);
		free(url);
	}
	free(body);
	return *result ? 0 : attempt_fail(&at, "allocate", err);
}

/* Has the server released it (1), not held it (0), or failed (-1)? */
static int release_one(const struct ipam_conf *c, int i, long long deadline, const char *url,
		       struct attempt *at)
{
	struct es_http_response r;
	json_t *j;
	int ret = -1;

	if (call(c, i, deadline, "DELETE", url, NULL, &r, at))
		goto out;
	if (r.status != 200) {
		classify(&c->srv[i], &r, at);
		goto out;
	}
	j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	if (json_is_boolean(json_object_get(j, "released")))
		ret = json_is_true(json_object_get(j, "released"));
	else
		note(at, &c->srv[i], OUT_BAD_ANSWER, "answered a release without \"released\"");
	json_decref(j);
out:
	es_http_response_free(&r);
	return ret;
}

static int listed(const json_t *held, const char *url)
{
	const json_t *v;
	size_t i;

	json_array_foreach(held, i, v)
		if (!strcmp(json_string_value(v) ?: "", url))
			return 1;
	return 0;
}

int ipam_http_del(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, struct cni_error *err)
{
	return ipam_http_del_held(ipam, network, container_id, ifname, NULL, err);
}

int ipam_http_del_held(const json_t *ipam, const char *network, const char *container_id,
		       const char *ifname, const json_t *held, struct cni_error *err)
{
	struct attempt at = { 0 };
	int i, released = 0, failed = 0, missed = 0;
	struct ipam_conf c;
	long long deadline;

	if (ipam_http_parse_conf(ipam, &c, err))
		return -1;
	network = net_name(&c, network);
	deadline = es_now_ms() + c.total_ms;
	/* After a failover the allocation lives on a later server: ask all. */
	for (i = 0; i < c.n; i++) {
		char *url = alloc_url(&c.srv[i], network, container_id, ifname);
		int r = release_one(&c, i, deadline, url, &at);

		free(url);
		if (r > 0)
			released = 1;
		else if (r < 0)
			failed = 1;
		if (r < 0 && listed(held, c.srv[i].url))
			missed = 1;
	}
	/* a server that may hold it and was not heard from: retry, do not leak */
	if (missed)
		return attempt_fail(&at, "release", err);
	if (released || !failed)
		return 0;
	return attempt_fail(&at, "release", err);
}

int ipam_http_status(const json_t *ipam, struct cni_error *err)
{
	struct attempt at = { 0 };
	struct ipam_conf c;
	long long deadline;
	int i, ok = 0;

	if (ipam_http_parse_conf(ipam, &c, err))
		return -1;
	deadline = es_now_ms() + c.total_ms;
	for (i = 0; i < c.n && !ok; i++) {
		const char *slash = c.srv[i].url[strlen(c.srv[i].url) - 1] == '/' ? "" : "/";
		struct es_http_response r;
		char *url = NULL;

		if (asprintf(&url, "%s%shealthz", c.srv[i].url, slash) < 0)
			url = NULL;
		if (!call(&c, i, deadline, "GET", url, NULL, &r, &at)) {
			if (r.status == 200)
				ok = 1;
			else
				note(&at, &c.srv[i], OUT_UNREACHABLE, "is not healthy (HTTP %ld)",
				     r.status);
		}
		es_http_response_free(&r);
		free(url);
	}
	if (ok)
		return 0;
	attempt_fail(&at, "status", err);
	err->code = CNI_ERR_NOT_AVAILABLE;
	return -1;
}

/* Same addresses, whatever their spelling. */
static int same_ips(const json_t *a, const json_t *b)
{
	const json_t *x, *y;
	size_t i, j;

	if (json_array_size(a) != json_array_size(b))
		return 0;
	json_array_foreach(a, i, x) {
		int found = 0;

		json_array_foreach(b, j, y) {
			const char *sx = json_string_value(json_object_get(x, "address"));
			const char *sy = json_string_value(json_object_get(y, "address"));

			if (sx && sy && nl_addr_same(sx, sy))
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

int ipam_http_check(const json_t *ipam, const char *network, const char *container_id,
		    const char *ifname, const json_t *ips, struct cni_error *err)
{
	struct attempt at = { 0 };
	struct ipam_conf c;
	long long deadline;
	int i, answered = 0, ret = 1;

	if (ipam_http_parse_conf(ipam, &c, err))
		return -1;
	network = net_name(&c, network);
	deadline = es_now_ms() + c.total_ms;
	for (i = 0; i < c.n && ret > 0; i++) {
		char *url = alloc_url(&c.srv[i], network, container_id, ifname);
		struct es_http_response r;
		json_t *res = NULL;

		if (!call(&c, i, deadline, "GET", url, NULL, &r, &at)) {
			if (r.status != 200) {
				answered |= classify(&c.srv[i], &r, &at) == OUT_NOT_FOUND;
			} else if (!(res = to_result(r.body))) {
				note(&at, &c.srv[i], OUT_BAD_ANSWER, "answered an allocation that is not the API's");
			} else if (same_ips(json_object_get(res, "ips"), ips)) {
				ret = 0;
			} else {
				ret = cni_fail(err, CNI_ERR_UNKNOWN_CONTAINER,
					       "ipam check: server %s holds other addresses for %s/%s in network '%s'",
					       c.srv[i].url, container_id, ifname, network);
			}
		}
		json_decref(res);
		es_http_response_free(&r);
		free(url);
	}
	if (ret <= 0)
		return ret;
	if (answered) {
		cni_fail(err, CNI_ERR_UNKNOWN_CONTAINER,
			 "ipam check: no server that answered holds an allocation for %s/%s in network '%s'",
			 container_id, ifname, network);
		snprintf(err->details, sizeof(err->details), "%s", at.details);
		return -1;
	}
	return attempt_fail(&at, "check", err);
}
