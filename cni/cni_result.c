// SPDX-License-Identifier: GPL-2.0-only
/* Building, converting and printing CNI results and errors. */
#include <stdio.h>
#include <string.h>
#include "cni_version.h"
#include "cni_result.h"

json_t *cni_result_new(void)
{
	return json_pack("{s:[], s:[], s:[], s:{}}", "interfaces", "ips", "routes", "dns");
}

json_t *cni_result_normalize(const json_t *prev)
{
	static const char *const lists[] = { "interfaces", "ips", "routes" };
	json_t *res = json_deep_copy(prev), *ip, *idx;
	size_t i, n;

	json_object_del(res, "cniVersion");
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!json_is_array(json_object_get(res, lists[i])))
			json_object_set_new(res, lists[i], json_array());
	if (!json_is_object(json_object_get(res, "dns")))
		json_object_set_new(res, "dns", json_object());
	n = json_array_size(json_object_get(res, "interfaces"));
	json_array_foreach(json_object_get(res, "ips"), i, ip) {
		json_object_del(ip, "version");	/* 0.3.x/0.4.0 only */
		/* an index past the interfaces names none, and would name the next one added */
		idx = json_object_get(ip, "interface");
		if (idx && (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
			    json_integer_value(idx) >= (json_int_t)n))
			json_object_del(ip, "interface");
	}
	return res;
}

int cni_result_add_iface(json_t *res, const char *name, const unsigned char mac[6],
			 unsigned int mtu, const char *sandbox)
{
	json_t *ifs = json_object_get(res, "interfaces");
	json_t *i = json_pack("{s:s}", "name", name);

	if (mac)
		json_object_set_new(i, "mac", json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x",
							   mac[0], mac[1], mac[2], mac[3],
							   mac[4], mac[5]));
	if (mtu)
		json_object_set_new(i, "mtu", json_integer(mtu));
	if (sandbox && *sandbox)
		json_object_set_new(i, "sandbox", json_string(sandbox));
	json_array_append_new(ifs, i);
	return json_array_size(ifs) - 1;
}

static int merge_ips(json_t *res, const json_t *ips, int iface, struct cni_error *err)
{
	json_t *ip, *copy;
	size_t i;

	if (!ips)
		return 0;
	if (!json_is_array(ips))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam result: \"ips\" must be an array");
	json_array_foreach(ips, i, ip) {
		if (!json_is_object(ip) || !json_is_string(json_object_get(ip, "address")))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"ipam result: ips[%zu].address must be a string", i);
		copy = json_deep_copy(ip);
		json_object_del(copy, "version");	/* 0.3.x/0.4.0 only */
		json_object_set_new(copy, "interface", json_integer(iface));
		json_array_append_new(json_object_get(res, "ips"), copy);
	}
	return 0;
}

int cni_result_merge_ipam(json_t *res, const json_t *ipam, int iface, struct cni_error *err)
{
	json_t *routes, *dns;

	if (!json_is_object(ipam))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam result: must be an object");
	if (merge_ips(res, json_object_get(ipam, "ips"), iface, err))
		return -1;
	routes = json_object_get(ipam, "routes");
	if (routes && !json_is_array(routes))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam result: \"routes\" must be an array");
	if (routes)
		json_array_extend(json_object_get(res, "routes"), routes);
	dns = json_object_get(ipam, "dns");
	if (json_is_object(dns))
		json_object_update(json_object_get(res, "dns"), dns);
	return 0;
}

/* 0.3.x and 0.4.0 name each address's family; 1.0 dropped it. */
static void add_ip_versions(json_t *r)
{
	json_t *ip;
	size_t i;

	json_array_foreach(json_object_get(r, "ips"), i, ip) {
		const char *a = json_string_value(json_object_get(ip, "address"));

		json_object_set_new(ip, "version", json_string(a && strchr(a, ':') ? "6" : "4"));
	}
}

json_t *cni_result_for_version(const json_t *res, const char *v)
{
	json_t *r = json_pack("{s:s}", "cniVersion", v), *i;
	int n = cni_version_num(v);
	size_t k;

	json_object_update_new(r, json_deep_copy(res));
	if (n < 10000)
		add_ip_versions(r);
	if (n < 10100) {
		json_array_foreach(json_object_get(r, "interfaces"), k, i) {
			json_object_del(i, "mtu");
			json_object_del(i, "socketPath");
			json_object_del(i, "pciID");
		}
	}
	return r;
}

void cni_print(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
}

void cni_print_error(const char *version, const struct cni_error *err)
{
	json_t *j = json_pack("{s:s, s:i, s:s}", "cniVersion",
			      version && cni_version_num(version) >= 0 ? version : CNI_VERSION_LATEST,
			      "code", err->code, "msg", err->msg);

	if (err->details[0])
		json_object_set_new(j, "details", json_string(err->details));
	cni_print(j);
	json_decref(j);
}
