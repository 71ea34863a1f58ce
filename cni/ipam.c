// SPDX-License-Identifier: GPL-2.0-only
/* IPAM dispatch, and addresses and routes of a result applied in the pod. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/rtnetlink.h>
#include <unistd.h>
#include "cni_result.h"
#include "cni_version.h"
#include "ipam_exec.h"
#include "ipam_http.h"
#include "ipam.h"

#define MAX_ADDRS	64
#define MAX_ROUTES	256
/* the reference plugins' wait for duplicate address detection */
#define ADDR_SETTLE_MS	10000

/*
 * The IPAM plugin sees the configuration it would see as the only plugin:
 * the whole stdin for a single delegate, the delegate's object (with the
 * network's version, args, runtimeConfig, prevResult and GC's list) in
 * the meta form.
 */
static char *ipam_conf(struct cni_ctx *c, size_t *len)
{
	static const char *const inherited[] = { "args", "runtimeConfig", "prevResult",
						 "cni.dev/valid-attachments" };
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

	if (ipam_exec(type, &c->env, "VERSION", conf, len, &info, &e))
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

/*
 * conf spoken at version ver: its cniVersion, and its prevResult too (a
 * plugin parses prevResult with the result type of the config's version
 * and refuses one that claims another).
 */
static char *at_version(const char *conf, size_t *len, const char *ver)
{
	json_t *j = json_loadb(conf, *len, 0, NULL), *prev, *norm;
	char *s;

	if (!j)
		return NULL;
	json_object_set_new(j, "cniVersion", json_string(ver));
	prev = json_object_get(j, "prevResult");
	if (json_is_object(prev)) {
		norm = cni_result_normalize(prev);
		json_object_set_new(j, "prevResult", cni_result_for_version(norm, ver));
		json_decref(norm);
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	*len = s ? strlen(s) : 0;
	return s;
}

/* Runs the plugin at the highest version both speak; 1 when there is none. */
static int run_common(struct cni_ctx *c, const char *type, const char *command,
		      const char *conf, size_t len, json_t **result)
{
	char ver[16], *older;
	int ret;

	if (common_version(c, type, conf, len, ver, sizeof(ver)))
		return 1;
	memset(&c->err, 0, sizeof(c->err));
	if (!strcmp(ver, c->conf.version))
		return ipam_exec(type, &c->env, command, conf, len, result, &c->err);
	older = at_version(conf, &len, ver);
	if (!older)
		return cni_fail(&c->err, CNI_ERR_IO, "out of memory");
	ret = ipam_exec(type, &c->env, command, older, len, result, &c->err);
	free(older);
	return ret;
}

/*
 * With a prevResult the version is agreed before the run: a plugin that
 * does not speak the config's version fails on the prevResult with a
 * generic code. Without one, the plugin's code 1 says it.
 */
static int run_exec(struct cni_ctx *c, const char *command, json_t **result)
{
	const char *type = json_string_value(json_object_get(c->d->ipam, "type"));
	struct cni_error saved;
	size_t len;
	char *conf = ipam_conf(c, &len);
	int ret = 1, again;

	if (!conf)
		return cni_fail(&c->err, CNI_ERR_IO, "out of memory");
	if (c->conf.prev_result)
		ret = run_common(c, type, command, conf, len, result);
	if (ret > 0)
		ret = ipam_exec(type, &c->env, command, conf, len, result, &c->err);
	if (ret && c->err.code == CNI_ERR_INCOMPATIBLE_VERSION && !c->conf.prev_result) {
		saved = c->err;
		again = run_common(c, type, command, conf, len, result);
		if (again > 0)
			c->err = saved;
		else
			ret = again;
	}
	free(conf);
	return ret;
}

/* STATUS and GC exist from 1.1.0: 1 when the plugin speaks it, else 0. */
static int speaks_1_1(struct cni_ctx *c, const char *type, const char *conf, size_t len)
{
	char ver[16];

	return !common_version(c, type, conf, len, ver, sizeof(ver)) &&
	       cni_version_num(ver) >= 10100;
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
	if (ipam_http_handles(c->d->ipam)) {
		json_t *held = NULL;
		int ret = ipam_http_add_held(c->d->ipam, c->d->name, c->env.container_id,
					     c->env.ifname, result, &held, &c->err);

		/* DEL must hear from each of them (a late answer is an allocation too) */
		json_object_set_new(c->att, "ipamServers", held);
		return ret;
	}
	return run_exec(c, "ADD", result);
}

int cni_ipam_del(struct cni_ctx *c)
{
	if (!c->d->ipam)
		return 0;
	if (ipam_http_handles(c->d->ipam))
		return ipam_http_del_held(c->d->ipam, c->d->name, c->env.container_id,
					  c->env.ifname, json_object_get(c->att, "ipamServers"),
					  &c->err);
	return run_exec(c, "DEL", NULL);
}

int cni_ipam_check(struct cni_ctx *c, const json_t *own)
{
	if (!c->d->ipam)
		return 0;
	if (ipam_http_handles(c->d->ipam))
		return ipam_http_check(c->d->ipam, c->d->name, c->env.container_id, c->env.ifname,
				       json_object_get(own, "ips"), &c->err);
	return run_exec(c, "CHECK", NULL);
}

/*
 * The dhcp plugin hands every request to its daemon: STATUS is not ready
 * while nothing listens on the daemon's socket.
 */
#define DHCP_SOCKET_DEFAULT	"/run/cni/dhcp.sock"

static int dhcp_daemon_up(struct cni_ctx *c)
{
	const char *path = json_string_value(json_object_get(c->d->ipam, "daemonSocketPath"));
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, ret;

	path = path && *path ? path : DHCP_SOCKET_DEFAULT;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ret = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (fd >= 0)
		close(fd);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_NOT_AVAILABLE,
				"ipam dhcp: no daemon listens on %s", path);
	return 0;
}

int cni_ipam_status(struct cni_ctx *c)
{
	const char *type;
	size_t len;
	char *conf;
	int ret = 0;

	if (!c->d->ipam)
		return 0;
	if (ipam_http_handles(c->d->ipam))
		return ipam_http_status(c->d->ipam, &c->err);
	type = json_string_value(json_object_get(c->d->ipam, "type"));
	if (!strcmp(type, "dhcp") && dhcp_daemon_up(c))
		return -1;
	conf = ipam_conf(c, &len);
	if (!conf)
		return cni_fail(&c->err, CNI_ERR_IO, "out of memory");
	if (speaks_1_1(c, type, conf, len))
		ret = ipam_exec(type, &c->env, "STATUS", conf, len, NULL, &c->err);
	/* whatever the delegate's reason, this plugin cannot serve ADD */
	if (ret && c->err.code != CNI_ERR_NOT_AVAILABLE && c->err.code != CNI_ERR_NOT_AVAILABLE_LIMITED)
		c->err.code = CNI_ERR_NOT_AVAILABLE;
	free(conf);
	return ret;
}

int cni_ipam_gc(struct cni_ctx *c)
{
	const char *type;
	size_t len;
	char *conf;
	int ret = 0;

	if (!c->d->ipam || ipam_http_handles(c->d->ipam))
		return 0;
	type = json_string_value(json_object_get(c->d->ipam, "type"));
	conf = ipam_conf(c, &len);
	if (!conf)
		return cni_fail(&c->err, CNI_ERR_IO, "out of memory");
	if (speaks_1_1(c, type, conf, len))
		ret = ipam_exec(type, &c->env, "GC", conf, len, NULL, &c->err);
	free(conf);
	return ret;
}

/* Gateway of the first of own's addresses of this family that has one. */
static int default_gw(const json_t *own, int family, unsigned char gw[16])
{
	struct nl_addr a;
	json_t *ip;
	size_t i;

	json_array_foreach(json_object_get(own, "ips"), i, ip) {
		const char *g = json_string_value(json_object_get(ip, "gateway"));

		if (g && !nl_addr_parse(g, &a, false) && a.family == family) {
			memcpy(gw, a.addr, 16);
			return 1;
		}
	}
	return 0;
}

static int parse_route(const json_t *own, const json_t *rt, size_t k, int ifindex,
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
		r->has_gw = default_gw(own, r->dst.family, r->gw);
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

int ipam_apply(struct nl *nl, int ifindex, const json_t *own, struct cni_error *err)
{
	struct nl_link_change up = { .up = 1 };
	struct nl_route r;
	struct nl_addr a;
	json_t *ip, *rt;
	size_t k;
	int ret;

	json_array_foreach(json_object_get(own, "ips"), k, ip) {
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
	/* as the reference plugins do: the pod starts once its addresses are usable */
	ret = nl_addr_settle(nl, ifindex, ADDR_SETTLE_MS);
	if (ret)
		return cni_fail(err, CNI_ERR_IO, "the interface's IPv6 addresses: %s",
				ret == -EADDRINUSE ? "duplicate address detected" :
				ret == -ETIMEDOUT ? "still tentative after 10 s" : strerror(-ret));
	json_array_foreach(json_object_get(own, "routes"), k, rt) {
		if (parse_route(own, rt, k, ifindex, &r, err))
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

/* A route to r's destination through r's gateway when one was named, on any link. */
static int has_route(const struct nl_route *have, int n, const struct nl_route *r, bool gw)
{
	size_t l = r->dst.family == AF_INET ? 4 : 16;
	int i;

	for (i = 0; i < n; i++)
		if (have[i].dst.family == r->dst.family && have[i].dst.plen == r->dst.plen &&
		    !memcmp(have[i].dst.addr, r->dst.addr, l) &&
		    (!gw || (have[i].has_gw && !memcmp(have[i].gw, r->gw, l))))
			return 1;
	return 0;
}

/*
 * Do a and b give one address at key, however spelt? A runtime hands back
 * the result it stored re-encoded (libcni writes IPv6 lower case and
 * shortened), not as the IPAM wrote it.
 */
static int same_addr(const json_t *a, const json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key));
	const char *y = json_string_value(json_object_get(b, key));

	if (!x || !y)
		return !x && !y;
	return nl_addr_same(x, y);
}

/* Is e one of list (NULL: everything is), as an address or as a route? */
static int listed(const json_t *list, const json_t *e, bool route)
{
	json_t *o;
	size_t i;

	if (!list)
		return 1;
	json_array_foreach(list, i, o)
		if (route ? same_addr(o, e, "dst") && same_addr(o, e, "gw") :
			    same_addr(o, e, "address"))
			return 1;
	return 0;
}

/*
 * The spec makes "interface" optional: an address without one, or with
 * another index, is an earlier plugin's, on its own link.
 */
static int on_iface(const json_t *ip, int iface)
{
	json_t *i = json_object_get(ip, "interface");

	return json_is_integer(i) && json_integer_value(i) == iface;
}

json_t *ipam_own_part(const json_t *res, int iface, const json_t *ips, const json_t *routes)
{
	json_t *own = json_pack("{s:[], s:[]}", "ips", "routes"), *e;
	size_t k;

	if (!own)
		return NULL;
	json_array_foreach(json_object_get(res, "ips"), k, e)
		if (on_iface(e, iface) && listed(ips, e, false))
			json_array_append(json_object_get(own, "ips"), e);
	json_array_foreach(json_object_get(res, "routes"), k, e)
		if (listed(routes, e, true))
			json_array_append(json_object_get(own, "routes"), e);
	return own;
}

const char *ipam_own_missing(const json_t *own, const json_t *ips)
{
	json_t *ip;
	size_t k;

	json_array_foreach(ips, k, ip)
		if (!listed(json_object_get(own, "ips"), ip, false))
			return json_string_value(json_object_get(ip, "address")) ?: "(no address)";
	return NULL;
}

/* The pod's routes of one table, dumped once for all of the result's routes in it. */
struct route_dump {
	struct nl_route	*have;		/* MAX_ROUTES of room */
	int		n;
	unsigned int	table;		/* the table dumped into have, 0: none yet */
};

/*
 * Is r, which ADD added, in the pod's table of r (the result's "table",
 * else the main one)? A route of another table does not count: that one
 * is not what the pod routes by.
 */
static int verify_route(struct nl *nl, struct route_dump *d, const struct nl_route *r, bool gw,
			const char *dst, struct cni_error *err)
{
	unsigned int table = r->table ?: RT_TABLE_MAIN;

	if (d->table != table) {
		d->table = 0;
		if (nl_route_list(nl, table, d->have, MAX_ROUTES, &d->n))
			return cni_fail(err, CNI_ERR_IO, "cannot list the pod's routes of table %u",
					table);
		d->table = table;
	}
	if (has_route(d->have, d->n, r, gw))
		return 0;
	if (table == RT_TABLE_MAIN)
		return cni_fail(err, CNI_ERR_CHECK_DIFFERS, "route to %s is missing", dst);
	return cni_fail(err, CNI_ERR_CHECK_DIFFERS, "route to %s is missing from table %u", dst,
			table);
}

int ipam_verify(struct nl *nl, int ifindex, const json_t *own, struct cni_error *err)
{
	struct nl_addr have[MAX_ADDRS], a;
	struct route_dump d = { 0 };
	struct nl_route r;
	int n, ret = 0;
	json_t *ip, *rt;
	size_t k;

	if (nl_addr_list(nl, ifindex, have, MAX_ADDRS, &n))
		return cni_fail(err, CNI_ERR_IO, "cannot list the interface's addresses");
	json_array_foreach(json_object_get(own, "ips"), k, ip) {
		if (parse_ip(ip, k, &a, err))
			return -1;
		if (!has_addr(have, n, &a))
			return cni_fail(err, CNI_ERR_CHECK_DIFFERS,
					"address %s is missing from the interface",
					json_string_value(json_object_get(ip, "address")));
	}
	d.have = calloc(MAX_ROUTES, sizeof(*d.have));
	if (!d.have)
		return cni_fail(err, CNI_ERR_IO, "out of memory");
	json_array_foreach(json_object_get(own, "routes"), k, rt) {
		ret = parse_route(own, rt, k, ifindex, &r, err);
		if (!ret)
			ret = verify_route(nl, &d, &r, json_object_get(rt, "gw") != NULL,
					   json_string_value(json_object_get(rt, "dst")), err);
		if (ret)
			break;
	}
	free(d.have);
	return ret;
}
