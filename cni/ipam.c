// SPDX-License-Identifier: GPL-2.0-only
/* IPAM dispatch, and addresses and routes of a result applied in the pod. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "cni_version.h"
#include "ipam_exec.h"
#include "ipam_http.h"
#include "ipam.h"

#define MAX_ADDRS	64
#define MAX_ROUTES	256

/*
 * The IPAM plugin sees the configuration it would see as the only plugin:
 * the whole stdin for a single delegate, the delegate's object (with the
 * network's version, args, runtimeConfig and prevResult) in the meta form.
 */
static char *ipam_conf(struct cni_ctx *c, size_t *len)
{
	static const char *const inherited[] = { "args", "runtimeConfig", "prevResult" };
	json_t *j, *v;
	char *s;
	size_t i;

	if (!c->conf.meta) {
		*len = c->stdin_len;
		return strndup(c->stdin_buf, c->stdin_len);
	}
	j = json_deep_copy(c->d->obj);
	json_object_set_new(j, "cniVersion", json_string(c->conf.version));
	json_object_set_new(j, "name", json_string(c->d->name));
	for (i = 0; i < sizeof(inherited) / sizeof(inherited[0]); i++) {
		v = json_object_get(c->conf.root, inherited[i]);
		if (v)
			json_object_set(j, inherited[i], v);
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	*len = s ? strlen(s) : 0;
	return s;
}

/*
 * The highest version both sides speak, from the plugin's VERSION answer:
 * Debian's plugins stop at 1.0.0 while a 1.1.0 network is valid.
 */
static int common_version(struct cni_ctx *c, const char *type, const char *conf, size_t len,
			  char *out, size_t out_len)
{
	json_t *info = NULL, *v;
	struct cni_error e = {};
	int best = -1, n;
	size_t i;

	if (ipam_exec(type, c->env.path, "VERSION", conf, len, &info, &e))
		return -1;
	json_array_foreach(json_object_get(info, "supportedVersions"), i, v) {
		n = cni_version_num(json_string_value(v));
		if (n > best && n <= c->conf.vnum) {
			best = n;
			snprintf(out, out_len, "%s", json_string_value(v));
		}
	}
	json_decref(info);
	return best < 0 ? -1 : 0;
}

static char *with_version(const char *conf, size_t *len, const char *ver)
{
	json_t *j = json_loadb(conf, *len, 0, NULL);
	char *s;

	if (!j)
		return NULL;
	json_object_set_new(j, "cniVersion", json_string(ver));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	*len = s ? strlen(s) : 0;
	return s;
}

static int run_exec(struct cni_ctx *c, const char *command, json_t **result)
{
	const char *type = json_string_value(json_object_get(c->d->ipam, "type"));
	char ver[16], *older;
	size_t len;
	char *conf = ipam_conf(c, &len);
	int ret;

	if (!conf)
		return cni_fail(&c->err, CNI_ERR_IO, "out of memory");
	ret = ipam_exec(type, c->env.path, command, conf, len, result, &c->err);
	if (ret && c->err.code == CNI_ERR_INCOMPATIBLE_VERSION &&
	    !common_version(c, type, conf, len, ver, sizeof(ver))) {
		older = with_version(conf, &len, ver);
		if (older) {
			memset(&c->err, 0, sizeof(c->err));
			ret = ipam_exec(type, c->env.path, command, older, len, result, &c->err);
			free(older);
		}
	}
	free(conf);
	return ret;
}

/*
 * Debian 12's dhcp daemon (containernetworking-plugins 1.1.1) binds its
 * packet socket before it brings a down link up; the socket then holds
 * ENETDOWN, the first DHCPDISCOVER fails with it and the daemon retries
 * only after 1 to 3 s.
 */
bool cni_ipam_needs_link(const struct cni_ctx *c)
{
	const char *type = json_string_value(json_object_get(c->d->ipam, "type"));

	return type && !strcmp(type, "dhcp");
}

int cni_ipam_add(struct cni_ctx *c, json_t **result)
{
	*result = NULL;
	if (!c->d->ipam)
		return 0;
	if (ipam_http_handles(c->d->ipam))
		return ipam_http_add(c->d->ipam, c->d->name, c->env.container_id, c->env.ifname,
				     result, &c->err);
	return run_exec(c, "ADD", result);
}

int cni_ipam_del(struct cni_ctx *c)
{
	if (!c->d->ipam)
		return 0;
	if (ipam_http_handles(c->d->ipam))
		return ipam_http_del(c->d->ipam, c->d->name, c->env.container_id, c->env.ifname,
				     &c->err);
	return run_exec(c, "DEL", NULL);
}

int cni_ipam_check(struct cni_ctx *c, const json_t *prev)
{
	if (!c->d->ipam)
		return 0;
	if (ipam_http_handles(c->d->ipam))
		return ipam_http_check(c->d->ipam, c->d->name, c->env.container_id, c->env.ifname,
				       json_object_get(prev, "ips"), &c->err);
	return run_exec(c, "CHECK", NULL);
}

static int ip_of_iface(const json_t *ip, int iface)
{
	json_t *i = json_object_get(ip, "interface");

	return !i || json_integer_value(i) == iface;
}

/* Gateway of the first address of this family that has one. */
static int default_gw(const json_t *res, int family, int iface, unsigned char gw[16])
{
	struct nl_addr a;
	json_t *ip;
	size_t i;

	json_array_foreach(json_object_get(res, "ips"), i, ip) {
		const char *g = json_string_value(json_object_get(ip, "gateway"));

		if (ip_of_iface(ip, iface) && g && !nl_addr_parse(g, &a, false) &&
		    a.family == family) {
			memcpy(gw, a.addr, 16);
			return 1;
		}
	}
	return 0;
}

static int parse_route(const json_t *res, const json_t *rt, size_t k, int iface, int ifindex,
		       struct nl_route *r, struct cni_error *err)
{
	const char *dst = json_string_value(json_object_get(rt, "dst"));
	const char *gw = json_string_value(json_object_get(rt, "gw"));
	json_t *prio = json_object_get(rt, "priority"), *table = json_object_get(rt, "table");
	struct nl_addr g;

	memset(r, 0, sizeof(*r));
	if (!dst || nl_addr_parse(dst, &r->dst, true))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"ipam result: routes[%zu].dst must be an address/prefix", k);
	if (gw) {
		if (nl_addr_parse(gw, &g, false) || g.family != r->dst.family)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"ipam result: routes[%zu].gw must be an address of the dst's family", k);
		memcpy(r->gw, g.addr, 16);
		r->has_gw = true;
	} else {
		r->has_gw = default_gw(res, r->dst.family, iface, r->gw);
	}
	r->oif = ifindex;
	r->priority = json_is_integer(prio) ? json_integer_value(prio) : 0;
	r->table = json_is_integer(table) ? json_integer_value(table) : 0;
	return 0;
}

static int parse_ip(const json_t *ip, size_t k, struct nl_addr *a, struct cni_error *err)
{
	const char *s = json_string_value(json_object_get(ip, "address"));

	if (!s || nl_addr_parse(s, a, true))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"ipam result: ips[%zu].address must be an address/prefix", k);
	return 0;
}

int ipam_apply(struct nl *nl, int ifindex, const json_t *res, int iface, struct cni_error *err)
{
	struct nl_link_change up = { .up = 1 };
	struct nl_route r;
	struct nl_addr a;
	json_t *ip, *rt;
	size_t k;
	int ret;

	json_array_foreach(json_object_get(res, "ips"), k, ip) {
		if (!ip_of_iface(ip, iface))
			continue;
		if (parse_ip(ip, k, &a, err))
			return -1;
		ret = nl_addr_add(nl, ifindex, &a);
		if (ret)
			return cni_fail(err, CNI_ERR_IO, "ips[%zu]: cannot add %s: %s", k,
					json_string_value(json_object_get(ip, "address")),
					strerror(-ret));
	}
	ret = nl_link_set(nl, ifindex, &up);
	if (ret)
		return cni_fail(err, CNI_ERR_IO, "cannot bring the interface up: %s", strerror(-ret));
	json_array_foreach(json_object_get(res, "routes"), k, rt) {
		if (parse_route(res, rt, k, iface, ifindex, &r, err))
			return -1;
		ret = nl_route_add(nl, &r);
		if (ret && ret != -EEXIST)
			return cni_fail(err, CNI_ERR_IO, "routes[%zu]: cannot add the route to %s: %s",
					k, json_string_value(json_object_get(rt, "dst")),
					strerror(-ret));
	}
	return 0;
}

static int has_addr(const struct nl_addr *have, int n, const struct nl_addr *a)
{
	int i;

	for (i = 0; i < n; i++)
		if (have[i].family == a->family && have[i].plen == a->plen &&
		    !memcmp(have[i].addr, a->addr, a->family == AF_INET ? 4 : 16))
			return 1;
	return 0;
}

static int has_route(const struct nl_route *have, int n, const struct nl_route *r)
{
	size_t l = r->dst.family == AF_INET ? 4 : 16;
	int i;

	for (i = 0; i < n; i++)
		if (have[i].dst.family == r->dst.family && have[i].dst.plen == r->dst.plen &&
		    !memcmp(have[i].dst.addr, r->dst.addr, l) && have[i].oif == r->oif &&
		    have[i].has_gw == r->has_gw && (!r->has_gw || !memcmp(have[i].gw, r->gw, l)))
			return 1;
	return 0;
}

int ipam_verify(struct nl *nl, int ifindex, const json_t *res, int iface, struct cni_error *err)
{
	struct nl_addr have[MAX_ADDRS], a;
	struct nl_route *routes, r;
	int n, nr, ret = 0;
	json_t *ip, *rt;
	size_t k;

	if (nl_addr_list(nl, ifindex, have, MAX_ADDRS, &n))
		return cni_fail(err, CNI_ERR_IO, "cannot list the interface's addresses");
	json_array_foreach(json_object_get(res, "ips"), k, ip) {
		if (!ip_of_iface(ip, iface))
			continue;
		if (parse_ip(ip, k, &a, err))
			return -1;
		if (!has_addr(have, n, &a))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"ips[%zu]: address %s is missing from the interface", k,
					json_string_value(json_object_get(ip, "address")));
	}
	routes = calloc(MAX_ROUTES, sizeof(*routes));
	if (!routes || nl_route_list(nl, routes, MAX_ROUTES, &nr)) {
		free(routes);
		return cni_fail(err, CNI_ERR_IO, "cannot list the pod's routes");
	}
	json_array_foreach(json_object_get(res, "routes"), k, rt) {
		ret = parse_route(res, rt, k, iface, ifindex, &r, err);
		if (!ret && !r.table && !has_route(routes, nr, &r))
			ret = cni_fail(err, CNI_ERR_INVALID_CONFIG,
				       "routes[%zu]: route to %s is missing", k,
				       json_string_value(json_object_get(rt, "dst")));
		if (ret)
			break;
	}
	free(routes);
	return ret;
}
