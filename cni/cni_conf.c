// SPDX-License-Identifier: GPL-2.0-only
/* Parsing and validating the network configuration. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include "bpf/es_maps.h"
#include "cni_version.h"
#include "cni_conf.h"
#include "ipam_http_conf.h"

static int bad(struct cni_error *err, const struct cni_delegate *d, const char *field,
	       const char *want)
{
	return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s%s%s: %s", d && d->field[0] ? d->field : "",
			d && d->field[0] ? "." : "", field, want);
}

/* err's message names a field of d's; in the meta form, say which delegate's. */
static int in_delegate(struct cni_error *err, const struct cni_delegate *d)
{
	char msg[sizeof(err->msg) + sizeof(d->field)];

	if (!d->field[0])
		return -1;
	snprintf(msg, sizeof(msg), "%s.%s", d->field, err->msg);
	snprintf(err->msg, sizeof(err->msg), "%.*s", (int)sizeof(err->msg) - 1, msg);
	return -1;
}

int cni_parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

/* An optional string field: 0 absent, 1 copied, -1 bad. */
static int opt_string(json_t *obj, const char *key, char *dst, size_t len,
		      const struct cni_delegate *d, struct cni_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(err, d, key, "must be a string");
	s = json_string_value(v);
	if (strlen(s) >= len || strlen(s) != json_string_length(v))
		return bad(err, d, key, "is too long or holds a NUL byte");
	strcpy(dst, s);
	return 1;
}

static int opt_bool(json_t *obj, const char *key, bool *dst, const struct cni_delegate *d,
		    struct cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(err, d, key, "must be true or false");
	*dst = json_is_true(v);
	return 1;
}

static int ifname_ok(const char *s)
{
	return *s && !strchr(s, '/') && !strchr(s, ' ') && strcmp(s, ".") && strcmp(s, "..");
}

static int parse_macvlan(struct cni_delegate *d, struct cni_error *err)
{
	static const char *const modes[] = { "bridge", "private", "vepa", "passthru" };
	static const int mode_val[] = { MACVLAN_MODE_BRIDGE, MACVLAN_MODE_PRIVATE,
					MACVLAN_MODE_VEPA, MACVLAN_MODE_PASSTHRU };
	char mode[16] = "bridge", mac[32];
	json_t *mtu;
	size_t i;
	int r;

	if (opt_string(d->obj, "master", d->master, sizeof(d->master), d, err) < 0)
		return -1;
	if (d->master[0] && !ifname_ok(d->master))
		return bad(err, d, "master", "is not a valid interface name");
	if (opt_string(d->obj, "mode", mode, sizeof(mode), d, err) < 0)
		return -1;
	for (i = 0; i < 4 && strcmp(mode, modes[i]); i++)
		;
	if (i == 4)
		return bad(err, d, "mode", "must be bridge, private, vepa or passthru");
	d->mode = mode_val[i];
	mtu = json_object_get(d->obj, "mtu");
	if (mtu && !json_is_null(mtu)) {
		if (!json_is_integer(mtu) || json_integer_value(mtu) < 0 ||
		    json_integer_value(mtu) > 65535)
			return bad(err, d, "mtu", "must be an integer from 0 to 65535");
		d->mtu = json_integer_value(mtu);
		if (d->mtu && d->mtu < 68)
			return bad(err, d, "mtu", "must be 0 (the master's) or at least 68");
	}
	if (opt_bool(d->obj, "promiscMode", &d->promisc, d, err) < 0)
		return -1;
	r = opt_string(d->obj, "mac", mac, sizeof(mac), d, err);
	if (r < 0)
		return -1;
	if (r && cni_parse_mac(mac, d->mac))
		return bad(err, d, "mac", "must be a MAC address like 02:00:00:00:00:01");
	if (r && (d->mac[0] & 1))
		return bad(err, d, "mac", "must be a unicast address");
	d->has_mac = r;
	return 0;
}

static int parse_pool(struct cni_delegate *d, json_t *devs, struct cni_error *err)
{
	char field[48];
	json_t *v;
	size_t i, j;

	if (!json_is_array(devs) || !json_array_size(devs) ||
	    json_array_size(devs) > CNI_MAX_POOL)
		return bad(err, d, "devices", "must be a non-empty array of interface names (at most 256)");
	d->pool = calloc(json_array_size(devs), sizeof(*d->pool));
	if (!d->pool)
		return cni_fail(err, CNI_ERR_IO, "out of memory");
	json_array_foreach(devs, i, v) {
		snprintf(field, sizeof(field), "devices[%zu]", i);
		if (!json_is_string(v) || json_string_length(v) >= IF_NAMESIZE ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !ifname_ok(json_string_value(v)))
			return bad(err, d, field, "must be an interface name");
		strcpy(d->pool[i], json_string_value(v));
		for (j = 0; j < i; j++)
			if (!strcmp(d->pool[j], d->pool[i]))
				return bad(err, d, field, "names a device twice");
	}
	d->n_pool = json_array_size(devs);
	return 0;
}

static int parse_host_device(struct cni_delegate *d, struct cni_error *err)
{
	char hw[32];
	json_t *devs;
	int r, n = 0;

	r = opt_string(d->obj, "device", d->device, sizeof(d->device), d, err);
	if (r < 0 || (r && !ifname_ok(d->device)))
		return r < 0 ? -1 : bad(err, d, "device", "is not a valid interface name");
	n += r;
	r = opt_string(d->obj, "hwaddr", hw, sizeof(hw), d, err);
	if (r < 0)
		return -1;
	if (r && cni_parse_mac(hw, d->hwaddr))
		return bad(err, d, "hwaddr", "must be a MAC address like 02:00:00:00:00:01");
	d->has_hwaddr = r;
	n += r;
	r = opt_string(d->obj, "pciBusID", d->pci_bus_id, sizeof(d->pci_bus_id), d, err);
	if (r < 0)
		return -1;
	if (r && (strchr(d->pci_bus_id, '/') || !d->pci_bus_id[0] || d->pci_bus_id[0] == '.'))
		return bad(err, d, "pciBusID", "must be a PCI address like 0000:01:00.0");
	n += r;
	devs = json_object_get(d->obj, "devices");
	if (devs && !json_is_null(devs)) {
		if (parse_pool(d, devs, err))
			return -1;
		n++;
	}
	/* spec code 2: the message names the unsupported key and its value */
	if (json_object_get(d->obj, "kernelpath")) {
		char *v = json_dumps(json_object_get(d->obj, "kernelpath"), JSON_ENCODE_ANY);

		cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD,
			 "%s%skernelpath: %.64s is not supported; use device, hwaddr or pciBusID",
			 d->field, d->field[0] ? "." : "", v ? v : "");
		free(v);
		return -1;
	}
	if (n != 1)
		return bad(err, d, "device",
			   n ? "give only one of device, hwaddr, pciBusID and devices"
			     : "is required (or hwaddr, pciBusID or devices)");
	return 0;
}

static int parse_ipam(struct cni_delegate *d, struct cni_error *err)
{
	json_t *ipam = json_object_get(d->obj, "ipam");
	json_t *type;

	if (!ipam || json_is_null(ipam))
		return 0;
	if (!json_is_object(ipam))
		return bad(err, d, "ipam", "must be an object");
	if (!json_object_size(ipam))
		return 0;
	type = json_object_get(ipam, "type");
	if (!json_is_string(type) || !json_string_length(type) ||
	    strchr(json_string_value(type), '/') ||
	    strlen(json_string_value(type)) != json_string_length(type))
		return bad(err, d, "ipam.type", "must name an IPAM plugin");
	/* refused here, not once ADD has made the link: no call could succeed */
	if (ipam_http_handles(ipam) && ipam_http_validate(ipam, err))
		return in_delegate(err, d);
	d->ipam = ipam;
	return 0;
}

static int string_list(const json_t *v, int (*ok)(const char *))
{
	json_t *e;
	size_t i;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || (ok && !ok(json_string_value(e))))
			return 0;
	return 1;
}

static int is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* The spec's well-known "dns": nameservers, domain, search, options. */
static int parse_dns(struct cni_delegate *d, json_t *dns, struct cni_error *err)
{
	json_t *v;

	if (!dns || json_is_null(dns))
		return 0;
	if (!json_is_object(dns))
		return bad(err, d, "dns", "must be an object");
	v = json_object_get(dns, "nameservers");
	if (v && !string_list(v, is_ip))
		return bad(err, d, "dns.nameservers", "must be a list of IP addresses");
	v = json_object_get(dns, "domain");
	if (v && !json_is_string(v))
		return bad(err, d, "dns.domain", "must be a string");
	if ((v = json_object_get(dns, "search")) && !string_list(v, NULL))
		return bad(err, d, "dns.search", "must be a list of strings");
	if ((v = json_object_get(dns, "options")) && !string_list(v, NULL))
		return bad(err, d, "dns.options", "must be a list of strings");
	d->dns = dns;
	return 0;
}

/* kind is the delegate's "type" in the meta form, its "kind" otherwise. */
static int parse_delegate(struct cni_delegate *d, const char *kind_key, struct cni_error *err)
{
	char kind[32] = "";

	if (opt_string(d->obj, kind_key, kind, sizeof(kind), d, err) < 0)
		return -1;
	if (!strcmp(kind, "macvlan"))
		d->kind = CNI_KIND_MACVLAN;
	else if (!strcmp(kind, "host-device"))
		d->kind = CNI_KIND_HOST_DEVICE;
	else
		return bad(err, d, kind_key, "must be \"macvlan\" or \"host-device\"");
	if (parse_ipam(d, err) || parse_dns(d, json_object_get(d->obj, "dns"), err))
		return -1;
	return d->kind == CNI_KIND_MACVLAN ? parse_macvlan(d, err) : parse_host_device(d, err);
}

static int parse_plugins(struct cni_conf *c, json_t *plugins, struct cni_error *err)
{
	struct cni_delegate *d;
	char def[64] = "";
	json_t *v;
	size_t i;

	if (!json_is_array(plugins) || !json_array_size(plugins) ||
	    json_array_size(plugins) > CNI_MAX_DELEGATES)
		return bad(err, NULL, "plugins", "must be a non-empty array of at most 32 delegates");
	json_array_foreach(plugins, i, v) {
		d = &c->del[i];
		snprintf(d->field, sizeof(d->field), "plugins[%zu]", i);
		if (!json_is_object(v))
			return bad(err, NULL, d->field, "must be an object");
		d->obj = v;
		c->n_del++;
		if (opt_string(v, "name", d->name, sizeof(d->name), d, err) <= 0)
			return d->name[0] || err->code ? -1 : bad(err, d, "name", "is required");
		if (strchr(d->name, '/') || d->name[0] == '.')
			return bad(err, d, "name", "must not contain '/' or start with '.'");
		if (cni_conf_find(c, d->name) != (int)i)
			return bad(err, d, "name", "is used by an earlier delegate");
		if (parse_delegate(d, "type", err))
			return -1;
	}
	if (opt_string(c->root, "default", def, sizeof(def), NULL, err) < 0)
		return -1;
	if (!def[0] && c->n_del > 1)
		return bad(err, NULL, "default", "is required when there are several plugins");
	/* a network-wide "dns" serves the delegates that have none */
	for (i = 0; i < c->n_del; i++)
		if (!c->del[i].dns && parse_dns(&c->del[i], json_object_get(c->root, "dns"), err))
			return -1;
	c->default_idx = def[0] ? cni_conf_find(c, def) : 0;
	if (c->default_idx < 0)
		return bad(err, NULL, "default", "names no delegate in plugins");
	return 0;
}

static int parse_top(struct cni_conf *c, struct cni_error *err)
{
	json_t *plugins, *rc, *v;

	if (opt_string(c->root, "name", c->name, sizeof(c->name), NULL, err) <= 0)
		return err->code ? -1 : bad(err, NULL, "name", "is required");
	if (strchr(c->name, '/') || c->name[0] == '.')
		return bad(err, NULL, "name", "must not contain '/' or start with '.'");
	if (opt_string(c->root, "type", c->type, sizeof(c->type), NULL, err) <= 0)
		return err->code ? -1 : bad(err, NULL, "type", "is required");
	if (opt_string(c->root, "kubeconfig", c->kubeconfig, sizeof(c->kubeconfig), NULL, err) < 0 ||
	    opt_string(c->root, "stateDir", c->state_dir, sizeof(c->state_dir), NULL, err) < 0 ||
	    opt_string(c->root, "pinPath", c->pin_path, sizeof(c->pin_path), NULL, err) < 0 ||
	    opt_bool(c->root, "dataplane", &c->dataplane, NULL, err) < 0)
		return -1;
	if (c->state_dir[0] != '/')
		return bad(err, NULL, "stateDir", "must be an absolute path");
	if (c->pin_path[0] != '/')
		return bad(err, NULL, "pinPath", "must be an absolute path");
	c->prev_result = json_object_get(c->root, "prevResult");
	if (c->prev_result && !json_is_object(c->prev_result))
		return bad(err, NULL, "prevResult", "must be an object");
	rc = json_object_get(c->root, "runtimeConfig");
	if (rc && !json_is_object(rc))
		return bad(err, NULL, "runtimeConfig", "must be an object");
	v = json_object_get(rc, "mac");
	if (v && (!json_is_string(v) || cni_parse_mac(json_string_value(v), c->runtime_mac) ||
		  (c->runtime_mac[0] & 1)))
		return bad(err, NULL, "runtimeConfig.mac", "must be a unicast MAC address");
	c->has_runtime_mac = v != NULL;
	plugins = json_object_get(c->root, "plugins");
	if (plugins && !json_is_null(plugins)) {
		c->meta = true;
		return parse_plugins(c, plugins, err);
	}
	c->n_del = 1;
	c->del[0].obj = c->root;
	snprintf(c->del[0].name, sizeof(c->del[0].name), "%s", c->name);
	return parse_delegate(&c->del[0], "kind", err);
}

static json_t *load_json(const char *buf, size_t len, struct cni_error *err)
{
	json_error_t jerr;
	json_t *root;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		cni_fail(err, CNI_ERR_DECODE, "config: not valid JSON: %s (line %d, column %d)",
			 jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		cni_fail(err, CNI_ERR_DECODE, "config: must be a JSON object");
		return NULL;
	}
	return root;
}

int cni_conf_version(const char *buf, size_t len, char *ver, size_t ver_len,
		     struct cni_error *err)
{
	json_t *root = load_json(buf, len, err), *v;

	if (!root)
		return -1;
	v = json_object_get(root, "cniVersion");
	snprintf(ver, ver_len, "%s", json_is_string(v) ? json_string_value(v) : "");
	json_decref(root);
	return 0;
}

int cni_conf_parse(const char *buf, size_t len, struct cni_conf *c, struct cni_error *err)
{
	json_t *v;

	memset(c, 0, sizeof(*c));
	c->dataplane = true;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", CNI_DEFAULT_STATE_DIR);
	snprintf(c->pin_path, sizeof(c->pin_path), "%s", ES_DEFAULT_PIN_PATH);
	c->root = load_json(buf, len, err);
	if (!c->root)
		return -1;
	v = json_object_get(c->root, "cniVersion");
	if (!v)
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "cniVersion: is required");
	if (!json_is_string(v) || json_string_length(v) >= sizeof(c->version))
		return cni_version_check("", err);
	strcpy(c->version, json_string_value(v));
	if (cni_version_check(c->version, err))
		return -1;
	c->vnum = cni_version_num(c->version);
	return parse_top(c, err);
}

int cni_conf_find(const struct cni_conf *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->n_del; i++)
		if (!strcmp(c->del[i].name, name))
			return i;
	return -1;
}

void cni_conf_free(struct cni_conf *c)
{
	unsigned int i;

	for (i = 0; i < CNI_MAX_DELEGATES; i++)
		free(c->del[i].pool);
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}
