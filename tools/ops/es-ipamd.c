// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-ipamd: the reference server of edgeshift's HTTP IPAM API ("vdhcp",
 * docs/cni-ipam-api.md). Networks and users come from a JSON
 * configuration file; allocations live in a state file that is replaced
 * atomically (temp + fsync + rename + directory fsync) before any answer
 * is sent, so an acknowledged allocation survives a crash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "util/errf.h"
#include "http/http_reply.h"
#include "http/http_server.h"
#include "util/log.h"
#include "tool/opts.h"

#define MAX_BODY		(64 * 1024)
#define MAX_RANGE		(1U << 20)	/* addresses per network */
#define MAX_SEGS		8

struct alloc {
	char		cid[256];
	char		ifname[16];
	uint32_t	addr;		/* host byte order */
	char		created[24];
};

struct network {
	char		name[64];
	uint32_t	subnet, prefix, start, end, gateway, last;
	json_t		*routes;	/* CNI routes, every gw filled in */
	json_t		*dns;		/* CNI dns object, may be empty */
	bool		configured;	/* false: draining, see the API doc */
	uint8_t		*used;		/* bitmap over start..end */
	struct alloc	*allocs;
	size_t		n, cap;
	struct network	*next;
};

struct user {
	char		*name, *password;
};

static struct {
	struct network	*nets;
	struct user	*users;
	size_t		nusers;
	char		base[256];	/* "/" or "/path/" */
	const char	*state_path;
	pthread_mutex_t	lock;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------------ */
/* Addresses */

static int parse_ip4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static const char *ip4_str(uint32_t a, char *buf)
{
	struct in_addr in = { .s_addr = htonl(a) };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static int parse_cidr4(const char *s, uint32_t *net, uint32_t *prefix)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	unsigned long p;
	uint32_t mask;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	p = strtoul(slash + 1, &end, 10);
	if (*end || end == slash + 1 || p > 32 || parse_ip4(buf, net))
		return -1;
	mask = p ? ~0U << (32 - p) : 0;
	*net &= mask;
	*prefix = p;
	return 0;
}

static bool in_subnet(const struct network *n, uint32_t a)
{
	uint32_t mask = n->prefix ? ~0U << (32 - n->prefix) : 0;

	return (a & mask) == n->subnet;
}

static bool in_range(const struct network *n, uint32_t a)
{
	return a >= n->start && a <= n->end;
}

static bool bit_get(const struct network *n, uint32_t a)
{
	uint32_t i = a - n->start;

	return n->used[i / 8] & (1U << (i % 8));
}

static void bit_set(struct network *n, uint32_t a, bool on)
{
	uint32_t i = a - n->start;

	if (on)
		n->used[i / 8] |= 1U << (i % 8);
	else
		n->used[i / 8] &= ~(1U << (i % 8));
}

/* ------------------------------------------------------------------ */
/* Networks from configuration or state */

static bool valid_name(const char *s, size_t max)
{
	size_t i, len = s ? strlen(s) : 0;

	if (!len || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
			return false;
	return true;
}

static bool valid_id(const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	return len && len <= max && !strchr(s, '/');
}

static void network_free(struct network *n)
{
	if (!n)
		return;
	json_decref(n->routes);
	json_decref(n->dns);
	free(n->used);
	free(n->allocs);
	free(n);
}

static struct network *network_find(const char *name)
{
	struct network *n;

	for (n = srv.nets; n; n = n->next)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

/* Routes with the gateway filled in where a route names none. */
static json_t *network_routes(const json_t *in, uint32_t gw, const char *where,
			      char *err, size_t elen)
{
	json_t *out = json_array(), *r;
	char gbuf[INET_ADDRSTRLEN];
	uint32_t a, p;
	size_t i;

	if (in && !json_is_array(in))
		goto bad;
	json_array_foreach(in, i, r) {
		const char *dst = json_string_value(json_object_get(r, "dst"));
		const char *g = json_string_value(json_object_get(r, "gw"));

		if (!json_is_object(r) || parse_cidr4(dst, &a, &p) ||
		    (json_object_get(r, "gw") && parse_ip4(g, &a)))
			goto bad;
		json_array_append_new(out, json_pack("{s:s,s:s}", "dst", dst, "gw",
						     g ? g : ip4_str(gw, gbuf)));
	}
	return out;
bad:
	json_decref(out);
	es_errf(err, elen, -EINVAL,
		"%s.routes: want [{\"dst\": \"A.B.C.D/N\", \"gw\": \"A.B.C.D\"}]", where);
	return NULL;
}

/* A network from its JSON definition (the configuration's or the state's). */
static struct network *network_parse(const json_t *j, bool configured, char *err, size_t elen)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const json_t *dns = json_object_get(j, "dns");
	struct network *n = calloc(1, sizeof(*n));
	char where[96];
	uint32_t size;

	snprintf(where, sizeof(where), "network '%s'", name ? name : "?");
	if (!n)
		goto nomem;
	if (!valid_name(name, 63)) {
		es_errf(err, elen, -EINVAL,
			"networks[].name: want 1-63 characters of [A-Za-z0-9._-]");
		goto bad;
	}
	strcpy(n->name, name);
	n->configured = configured;
	if (parse_cidr4(json_string_value(json_object_get(j, "subnet")), &n->subnet, &n->prefix) ||
	    n->prefix > 30) {
		es_errf(err, elen, -EINVAL,
			"%s.subnet: want an IPv4 subnet A.B.C.D/N with N <= 30", where);
		goto bad;
	}
	if (parse_ip4(json_string_value(json_object_get(j, "gateway")), &n->gateway) ||
	    !in_subnet(n, n->gateway)) {
		es_errf(err, elen, -EINVAL,
			"%s.gateway: want an IPv4 address inside the subnet", where);
		goto bad;
	}
	n->start = n->subnet + 1;
	n->end = n->subnet + (uint32_t)((1ULL << (32 - n->prefix)) - 2);
	if (json_object_get(j, "rangeStart") &&
	    (parse_ip4(json_string_value(json_object_get(j, "rangeStart")), &n->start) ||
	     !in_subnet(n, n->start))) {
		es_errf(err, elen, -EINVAL,
			"%s.rangeStart: want an IPv4 address inside the subnet", where);
		goto bad;
	}
	if (json_object_get(j, "rangeEnd") &&
	    (parse_ip4(json_string_value(json_object_get(j, "rangeEnd")), &n->end) ||
	     !in_subnet(n, n->end) || n->end < n->start)) {
		es_errf(err, elen, -EINVAL,
			"%s.rangeEnd: want an IPv4 address inside the subnet, not below rangeStart",
			where);
		goto bad;
	}
	size = n->end - n->start + 1;
	if (size > MAX_RANGE) {
		es_errf(err, elen, -EINVAL,
			"%s: range of %u addresses, at most %u", where, size, MAX_RANGE);
		goto bad;
	}
	n->routes = network_routes(json_object_get(j, "routes"), n->gateway, where, err, elen);
	if (!n->routes)
		goto bad;
	if (dns && !json_is_object(dns)) {
		es_errf(err, elen, -EINVAL, "%s.dns: want an object", where);
		goto bad;
	}
	n->dns = dns ? json_deep_copy(dns) : json_object();
	n->used = calloc(size / 8 + 1, 1);
	if (!n->used || !n->dns)
		goto nomem;
	n->last = n->end;
	return n;
nomem:
	es_errf(err, elen, -ENOMEM, "out of memory");
bad:
	network_free(n);
	return NULL;
}

static json_t *network_definition(const struct network *n)
{
	char s[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	char subnet[INET_ADDRSTRLEN + 4];

	snprintf(subnet, sizeof(subnet), "%s/%u", ip4_str(n->subnet, s), n->prefix);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:O}", "name", n->name, "subnet", subnet,
			 "gateway", ip4_str(n->gateway, g), "rangeStart", ip4_str(n->start, a),
			 "rangeEnd", ip4_str(n->end, b), "routes", n->routes, "dns", n->dns);
}

/* ------------------------------------------------------------------ */
/* Allocations */

static struct alloc *alloc_find(struct network *n, const char *cid, const char *ifname)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (!strcmp(n->allocs[i].cid, cid) && !strcmp(n->allocs[i].ifname, ifname))
			return &n->allocs[i];
	return NULL;
}

static bool addr_taken(const struct network *n, uint32_t a)
{
	size_t i;

	if (in_range(n, a))
		return bit_get(n, a);
	for (i = 0; i < n->n; i++)
		if (n->allocs[i].addr == a)
			return true;
	return false;
}

static struct alloc *alloc_add(struct network *n, const char *cid, const char *ifname,
			       uint32_t addr, const char *created)
{
	struct alloc *a;

	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;
		struct alloc *p = realloc(n->allocs, cap * sizeof(*p));

		if (!p)
			return NULL;
		n->allocs = p;
		n->cap = cap;
	}
	a = &n->allocs[n->n++];
	snprintf(a->cid, sizeof(a->cid), "%s", cid);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	snprintf(a->created, sizeof(a->created), "%s", created);
	a->addr = addr;
	if (in_range(n, addr))
		bit_set(n, addr, true);
	return a;
}

static void alloc_remove(struct network *n, struct alloc *a)
{
	if (in_range(n, a->addr))
		bit_set(n, a->addr, false);
	*a = n->allocs[--n->n];
}

/* The first free address after the last one handed out, wrapping. */
static int next_free(const struct network *n, uint32_t *out)
{
	uint32_t size = n->end - n->start + 1, i, a = n->last;

	for (i = 0; i < size; i++) {
		a = a >= n->end ? n->start : a + 1;
		if (a == n->gateway || bit_get(n, a))
			continue;
		*out = a;
		return 0;
	}
	return -1;
}

static json_t *alloc_json(const struct network *n, const struct alloc *a)
{
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4];

	snprintf(cidr, sizeof(cidr), "%s/%u", ip4_str(a->addr, addr), n->prefix);
	return json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:O,s:O,s:s}", "network", n->name,
			 "containerId", a->cid, "ifname", a->ifname, "ips", "address", cidr,
			 "gateway", ip4_str(n->gateway, gw), "routes", n->routes, "dns", n->dns,
			 "created", a->created);
}

static void now_str(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------ */
/* State file */

static json_t *state_json(void)
{
	json_t *nets = json_array();
	struct network *n;
	size_t i;

	for (n = srv.nets; n; n = n->next) {
		json_t *def, *list;
		char buf[INET_ADDRSTRLEN];

		/* A network no container refers to has no state to keep. */
		if (!n->n)
			continue;
		def = network_definition(n);
		list = json_array();
		for (i = 0; i < n->n; i++)
			json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}",
				"containerId", n->allocs[i].cid, "ifname", n->allocs[i].ifname,
				"address", ip4_str(n->allocs[i].addr, buf),
				"created", n->allocs[i].created));
		json_object_set_new(def, "last", json_string(ip4_str(n->last, buf)));
		json_object_set_new(def, "allocations", list);
		json_array_append_new(nets, def);
	}
	return json_pack("{s:i,s:o}", "version", 1, "networks", nets);
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = -1;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	free(copy);
	return ret;
}

/* Old state or new state on disk, never a mix: temp, fsync, rename. */
static int state_save(void)
{
	char tmp[PATH_MAX];
	json_t *j = state_json();
	FILE *f = NULL;
	int ret = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", srv.state_path);
	f = fopen(tmp, "w");
	if (!f || json_dumpf(j, f, JSON_INDENT(1) | JSON_SORT_KEYS) || fflush(f) ||
	    fsync(fileno(f)))
		goto out;
	if (fclose(f)) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, srv.state_path) || fsync_dir_of(srv.state_path))
		goto out;
	ret = 0;
out:
	if (ret)
		es_error("state_save_failed", "path=%s error=\"%s\"", srv.state_path, strerror(errno));
	if (f)
		fclose(f);
	json_decref(j);
	return ret;
}

static int state_load_network(const json_t *jn, char *err, size_t elen)
{
	const char *name = json_string_value(json_object_get(jn, "name"));
	struct network *n = name ? network_find(name) : NULL;
	const json_t *ja;
	size_t i;

	if (!n) {
		/* Gone from the configuration: drains until its last release. */
		n = network_parse(jn, false, err, elen);
		if (!n)
			return -1;
		n->next = srv.nets;
		srv.nets = n;
		es_warn("network_draining", "network=%s reason=\"not in the configuration\"", n->name);
	}
	if (!parse_ip4(json_string_value(json_object_get(jn, "last")), &n->last) &&
	    !in_range(n, n->last))
		n->last = n->end;
	json_array_foreach(json_object_get(jn, "allocations"), i, ja) {
		const char *cid = json_string_value(json_object_get(ja, "containerId"));
		const char *ifn = json_string_value(json_object_get(ja, "ifname"));
		const char *created = json_string_value(json_object_get(ja, "created"));
		uint32_t a;

		if (!valid_id(cid, 255) || !valid_id(ifn, 15) ||
		    parse_ip4(json_string_value(json_object_get(ja, "address")), &a) ||
		    !in_subnet(n, a))
			return es_errf(err, elen, -EINVAL,
				       "network '%s' allocation %zu: bad containerId, ifname or address",
				       n->name, i);
		if (addr_taken(n, a) || alloc_find(n, cid, ifn))
			return es_errf(err, elen, -EINVAL,
				       "network '%s' allocation %zu: address or container held twice",
				       n->name, i);
		if (!alloc_add(n, cid, ifn, a, created ? created : ""))
			return es_errf(err, elen, -ENOMEM, "out of memory");
	}
	return 0;
}

static int state_load(char *err, size_t elen)
{
	json_error_t je;
	json_t *j, *jn;
	size_t i;
	int ret = 0;

	if (access(srv.state_path, F_OK) && errno == ENOENT)
		return 0;
	j = json_load_file(srv.state_path, 0, &je);
	if (!j)
		return es_errf(err, elen, -EINVAL,
			       "state %s:%d: %s", srv.state_path, je.line, je.text);
	if (json_integer_value(json_object_get(j, "version")) != 1 ||
	    !json_is_array(json_object_get(j, "networks"))) {
		json_decref(j);
		return es_errf(err, elen, -EINVAL,
			       "state %s: not an es-ipamd state (version 1)", srv.state_path);
	}
	json_array_foreach(json_object_get(j, "networks"), i, jn)
		if ((ret = state_load_network(jn, err, elen)))
			break;
	json_decref(j);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Configuration */

static int config_users(const json_t *ju, char *err, size_t elen)
{
	const json_t *u;
	size_t i;

	if (!json_is_array(ju) || !json_array_size(ju))
		return es_errf(err, elen, -EINVAL,
			       "users: want a non-empty array of {\"user\", \"password\"}");
	srv.users = calloc(json_array_size(ju), sizeof(*srv.users));
	if (!srv.users)
		return es_errf(err, elen, -ENOMEM, "out of memory");
	json_array_foreach(ju, i, u) {
		const char *name = json_string_value(json_object_get(u, "user"));
		const char *pw = json_string_value(json_object_get(u, "password"));

		if (!name || !*name || strchr(name, ':') || !pw)
			return es_errf(err, elen, -EINVAL,
				       "users[%zu]: want a user (without ':') and a password", i);
		srv.users[i].name = strdup(name);
		srv.users[i].password = strdup(pw);
		srv.nusers++;
	}
	return 0;
}

static int config_load(const char *path, char *err, size_t elen)
{
	const char *base;
	json_error_t je;
	json_t *j, *jn;
	size_t i;
	int ret = -1;

	j = json_load_file(path, 0, &je);
	if (!j)
		return es_errf(err, elen, -EINVAL, "config %s:%d: %s", path, je.line, je.text);
	if (config_users(json_object_get(j, "users"), err, elen))
		goto out;
	base = json_string_value(json_object_get(j, "basePath"));
	if (!base)
		base = "/";
	if (*base != '/' || strlen(base) > sizeof(srv.base) - 2) {
		es_errf(err, elen, -EINVAL, "basePath: want a path starting with '/'");
		goto out;
	}
	snprintf(srv.base, sizeof(srv.base), "%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/");
	if (!json_is_array(json_object_get(j, "networks"))) {
		es_errf(err, elen, -EINVAL, "networks: want an array");
		goto out;
	}
	json_array_foreach(json_object_get(j, "networks"), i, jn) {
		struct network *n = network_parse(jn, true, err, elen);

		if (!n)
			goto out;
		if (network_find(n->name)) {
			es_errf(err, elen, -EINVAL,
				"networks[%zu]: network '%s' defined twice", i, n->name);
			network_free(n);
			goto out;
		}
		n->next = srv.nets;
		srv.nets = n;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

/* ------------------------------------------------------------------ */
/* HTTP */

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned int code, json_t *j)
{
	char *body = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	/* a refused login names the realm, so clients know to send Basic credentials */
	return es_http_reply_hdr(c, code, "application/json", body,
				 code == MHD_HTTP_UNAUTHORIZED ? "WWW-Authenticate" : NULL,
				 "Basic realm=\"es-ipamd\"");
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned int code,
				   const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned int code,
				   const char *kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply_json(c, code, json_pack("{s:s,s:s}", "error", kind, "message", msg));
}

/* Constant time in the password's length, so timing does not leak it. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return !d;
}

static bool authorized(struct MHD_Connection *c, char *who, size_t wlen)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	bool ok = false;
	size_t i;

	snprintf(who, wlen, "%s", user ? user : "-");
	for (i = 0; user && pass && i < srv.nusers; i++)
		if (!strcmp(user, srv.users[i].name) && same_secret(pass, srv.users[i].password))
			ok = true;
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static json_t *network_summary(const struct network *n)
{
	json_t *j = network_definition(n);

	json_object_set_new(j, "size", json_integer(n->end - n->start + 1));
	json_object_set_new(j, "used", json_integer(n->n));
	json_object_set_new(j, "configured", json_boolean(n->configured));
	return j;
}

static enum MHD_Result do_allocate(struct MHD_Connection *c, struct network *n,
				   const struct es_http_body_in *rq, const char *who)
{
	json_error_t je;
	json_t *j = json_loadb(rq->data ? rq->data : "", rq->len, 0, &je);
	const char *cid = json_string_value(json_object_get(j, "containerId"));
	const char *ifn = json_string_value(json_object_get(j, "ifname"));
	char created[24], abuf[INET_ADDRSTRLEN];
	enum MHD_Result ret;
	struct alloc *a;
	uint32_t addr;

	if (!j)
		ret = reply_error(c, 400, "bad-request", "body: %s", je.text);
	else if (!valid_id(cid, 255))
		ret = reply_error(c, 400, "bad-request", "containerId: want 1-255 characters without '/'");
	else if (!valid_id(ifn, 15))
		ret = reply_error(c, 400, "bad-request", "ifname: want 1-15 characters without '/'");
	else if (!n->configured)
		ret = reply_error(c, 404, "unknown-network", "network '%s' is draining", n->name);
	else if ((a = alloc_find(n, cid, ifn)))
		ret = reply_json(c, 200, alloc_json(n, a));
	else if (next_free(n, &addr)) {
		es_warn("exhausted", "network=%s container=%s ifname=%s", n->name, cid, ifn);
		ret = reply_error(c, 409, "exhausted", "network '%s' has no free address", n->name);
	} else {
		uint32_t last = n->last;

		now_str(created, sizeof(created));
		a = alloc_add(n, cid, ifn, addr, created);
		n->last = addr;
		if (!a || state_save()) {
			if (a)
				alloc_remove(n, a);
			n->last = last;
			ret = reply_error(c, 500, "internal", "the state could not be saved");
		} else {
			es_info("allocated", "network=%s container=%s ifname=%s address=%s user=%s",
				n->name, cid, ifn, ip4_str(addr, abuf), who);
			ret = reply_json(c, 201, alloc_json(n, a));
		}
	}
	json_decref(j);
	return ret;
}

static void network_unlink(struct network *gone)
{
	struct network **pp;

	for (pp = &srv.nets; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			return;
		}
}

static enum MHD_Result do_release(struct MHD_Connection *c, struct network *n,
				  const char *cid, const char *ifn, const char *who)
{
	struct alloc *a = n ? alloc_find(n, cid, ifn) : NULL;
	struct alloc saved;
	char abuf[INET_ADDRSTRLEN];

	if (!a)
		return reply_json(c, 200, json_pack("{s:b}", "released", 0));
	saved = *a;
	alloc_remove(n, a);
	if (state_save()) {
		alloc_add(n, saved.cid, saved.ifname, saved.addr, saved.created);
		return reply_error(c, 500, "internal", "the state could not be saved");
	}
	es_info("released", "network=%s container=%s ifname=%s address=%s user=%s",
		n->name, cid, ifn, ip4_str(saved.addr, abuf), who);
	if (!n->configured && !n->n) {
		/* A network nobody refers to any more leaves the state for good. */
		es_info("network_deleted", "network=%s reason=\"last allocation released\"", n->name);
		network_unlink(n);
		network_free(n);
	}
	return reply_json(c, 200, json_pack("{s:b}", "released", 1));
}

static enum MHD_Result do_list(struct MHD_Connection *c, const struct network *n)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < n->n; i++)
		json_array_append_new(list, alloc_json(n, &n->allocs[i]));
	return reply_json(c, 200, json_pack("{s:s,s:o}", "network", n->name, "allocations", list));
}

static enum MHD_Result do_networks(struct MHD_Connection *c)
{
	json_t *list = json_array();
	struct network *n;

	for (n = srv.nets; n; n = n->next)
		json_array_append_new(list, network_summary(n));
	return reply_json(c, 200, json_pack("{s:o}", "networks", list));
}

static int split_path(char *path, char **seg)
{
	int n = 0;
	char *save = NULL, *s;

	for (s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == MAX_SEGS)
			return -1;
		seg[n++] = s;
	}
	return n;
}

/* Called with srv.lock held: one change and its save at a time. */
static enum MHD_Result route(struct MHD_Connection *c, const char *method, char **seg, int n,
			     const struct es_http_body_in *rq, const char *who)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	bool del = !strcmp(method, "DELETE");
	struct network *net;

	if (n < 2 || strcmp(seg[0], "v1") || strcmp(seg[1], "networks"))
		return reply_error(c, 404, "not-found", "no such path");
	if (n == 2)
		return get ? do_networks(c) : reply_error(c, 405, "method-not-allowed", "use GET");
	net = network_find(seg[2]);
	if (n == 6 && !strcmp(seg[3], "allocations") && del)
		return do_release(c, net, seg[4], seg[5], who);
	if (!net)
		return reply_error(c, 404, "unknown-network", "network '%s' is not served here", seg[2]);
	if (n == 3)
		return get ? reply_json(c, 200, network_summary(net)) :
			reply_error(c, 405, "method-not-allowed", "use GET");
	if (strcmp(seg[3], "allocations") || (n != 4 && n != 6))
		return reply_error(c, 404, "not-found", "no such path");
	if (n == 4 && post)
		return do_allocate(c, net, rq, who);
	if (n == 4 && get)
		return do_list(c, net);
	if (n == 6 && get) {
		struct alloc *a = alloc_find(net, seg[4], seg[5]);

		return a ? reply_json(c, 200, alloc_json(net, a)) :
			reply_error(c, 404, "unknown-allocation", "no allocation for %s/%s in '%s'",
				    seg[4], seg[5], net->name);
	}
	return reply_error(c, 405, "method-not-allowed", "not on this path");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const struct es_http_body_in *rq)
{
	char path[2048], who[128], *seg[MAX_SEGS];
	size_t blen = strlen(srv.base);
	enum MHD_Result ret;
	int n;

	(void)cls;
	if (!strncmp(url, srv.base, blen - 1) && !strcmp(url + blen - 1, "/healthz"))
		return reply_json(c, 200, json_pack("{s:s}", "status", "ok"));
	if (strncmp(url, srv.base, blen) || strlen(url) >= sizeof(path))
		return reply_error(c, 404, "not-found", "no such path (base path is %s)", srv.base);
	if (!authorized(c, who, sizeof(who))) {
		es_warn("unauthorized", "method=%s url=%s user=%s", method, url, who);
		return reply_error(c, 401, "unauthorized", "credentials refused");
	}
	if (rq->too_big)
		return reply_error(c, 413, "too-large", "request body over %d bytes", MAX_BODY);
	strcpy(path, url + blen);
	n = split_path(path, seg);
	if (n < 0)
		return reply_error(c, 404, "not-found", "no such path");
	pthread_mutex_lock(&srv.lock);
	ret = route(c, method, seg, n, rq, who);
	pthread_mutex_unlock(&srv.lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Main */

struct ipamd_opts {
	const char		*config;
	const char		*state;
	struct sockaddr_in	sa;
};

static int parse_listen(const struct es_opts *cli, const struct es_opt *o,
			const char *s, void *conf)
{
	struct sockaddr_in *sa = &((struct ipamd_opts *)conf)->sa;
	char host[64];
	const char *colon = strrchr(s, ':');
	uint64_t port;

	(void)o;
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return es_opts_error(cli, "--listen: want ADDR:PORT, got '%s'", s);
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return es_opts_error(cli, "--listen: '%s' is not an IPv4 address", host);
	if (es_opts_uint(cli, "--listen", colon + 1, 1, 65535, &port))
		return -1;
	sa->sin_port = htons(port);
	return 0;
}

static int parse_log_level(const struct es_opts *cli, const struct es_opt *o,
			   const char *s, void *conf)
{
	enum es_log_level level;

	(void)o, (void)conf;
	if (es_log_parse_level(s, &level))
		return es_opts_error(cli, "--log-level: '%s' is not debug, info, warn or error",
				     s);
	es_log_set_level(level);
	return 0;
}

#define F(field)	ES_OPT_AT(struct ipamd_opts, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(config), "config", 0, "FILE", "networks, users and basePath (JSON)"),
	ES_OPT_STR(F(state), "state", 0, "FILE",
		   "allocations, rewritten atomically on every change"),
	ES_OPT_FUNC("listen", 0, parse_listen, "ADDR:PORT",
		    "IPv4 address and port to serve (default 0.0.0.0:8480)"),
	ES_OPT_FUNC("log-level", 0, parse_log_level, "LEVEL",
		    "debug, info, warn or error (default info)"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-ipamd",
	.opts	= opts,
	.usage	= "--config FILE --state FILE [options]",
	.doc	= "Reference server of edgeshift's HTTP IPAM API (docs/cni-ipam-api.md).\n\n",
	.epilog	= "\nSIGTERM or SIGINT ends it cleanly.\n",
};

static int parse_args(int argc, char **argv, struct ipamd_opts *o)
{
	int n;

	parse_listen(&cli, NULL, "0.0.0.0:8480", o);
	n = es_opts_parse(&cli, argc, argv, o);
	if (n == 0)
		exit(0);
	if (n < 0)
		return -1;
	if (!o->config || !o->state)
		return es_opts_error(&cli, "--config and --state are required");
	srv.state_path = o->state;
	return 0;
}

static void free_all(void)
{
	struct network *n;
	size_t i;

	while ((n = srv.nets)) {
		srv.nets = n->next;
		network_free(n);
	}
	for (i = 0; i < srv.nusers; i++) {
		free(srv.users[i].name);
		free(srv.users[i].password);
	}
	free(srv.users);
}

int main(int argc, char **argv)
{
	struct ipamd_opts o = { };
	struct es_http_server *d = NULL;
	struct es_http_server_opts so = {
		.max_body = MAX_BODY, .reuse_address = true, .handler = handle,
	};
	char err[512], addr[INET_ADDRSTRLEN];
	sigset_t stop;
	int sig, ret = 1;

	if (parse_args(argc, argv, &o))
		return 2;
	if (config_load(o.config, err, sizeof(err)) || state_load(err, sizeof(err))) {
		es_error("start_failed", "error=\"%s\"", err);
		goto out;
	}
	/* Written once at start, so a state file exists and is writable. */
	if (state_save())
		goto out;
	/* Only the main thread takes the stop signals, in sigwait(). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	so.addr = (struct sockaddr *)&o.sa;
	sig = es_http_server_start(&so, &d, err, sizeof(err));
	if (sig) {
		es_error("start_failed", "listen=%s:%u error=\"cannot listen: %s\"",
			 ip4_str(ntohl(o.sa.sin_addr.s_addr), addr), ntohs(o.sa.sin_port), strerror(-sig));
		goto out;
	}
	es_info("listening", "listen=%s:%u base=%s state=%s",
		ip4_str(ntohl(o.sa.sin_addr.s_addr), addr), es_http_server_port(d), srv.base,
		srv.state_path);
	while (sigwait(&stop, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
	es_info("stopping", "signal=%s", strsignal(sig));
	es_http_server_stop(d);
	ret = 0;
out:
	free_all();
	return ret;
}
