// SPDX-License-Identifier: GPL-2.0-only
/* CHECK: the pod still has what ADD gave it (prevResult). */
#include <limits.h>
#include <string.h>
#include "netns.h"
#include "state.h"
#include "ipam.h"
#include "select.h"
#include "commands.h"

/* Index of our interface in prev's "interfaces", or -1. */
static int find_iface(struct cni_ctx *c, const json_t *prev)
{
	json_t *i;
	size_t k;

	json_array_foreach(json_object_get(prev, "interfaces"), k, i) {
		const char *sb = json_string_value(json_object_get(i, "sandbox"));

		if (!strcmp(json_string_value(json_object_get(i, "name")) ?: "", c->env.ifname) &&
		    sb && !strcmp(sb, c->env.netns))
			return k;
	}
	return -1;
}

static int choose(struct cni_ctx *c)
{
	char path[PATH_MAX];
	const char *name;
	int i;

	cni_attachment_path(c, path, sizeof(path));
	c->att = state_read(path);
	name = json_string_value(json_object_get(c->att, "delegate"));
	i = name ? cni_conf_find(&c->conf, name) : -1;
	if (i < 0)
		return cni_select_delegate(c);
	c->d = &c->conf.del[i];
	return 0;
}

/* The pod's link against prevResult's interface entry and the delegate. */
static int check_link(struct cni_ctx *c, const struct nl_link *l, const json_t *iface)
{
	const char *mac = json_string_value(json_object_get(iface, "mac"));
	unsigned char want[6];
	int ret;

	ret = c->d->kind == CNI_KIND_MACVLAN ? macvlan_check(c, l) : host_device_check(c, l);
	if (ret)
		return ret;
	if (mac && (cni_parse_mac(mac, want) || memcmp(want, l->mac, 6)))
		return cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS,
				"mac: %s's address differs from prevResult's %s", c->env.ifname, mac);
	return 0;
}

/*
 * The IPAM and the pod are asked about what ADD recorded as its own, on
 * its own interface, only: prevResult also holds every other plugin's
 * addresses and routes of the chain.
 */
static int check_own(struct cni_ctx *c, struct nl *pod, int ifindex, const json_t *prev,
		     int iface)
{
	json_t *ips = json_object_get(c->att, "ownIps");
	json_t *own = ipam_own_part(prev, iface, ips, json_object_get(c->att, "ownRoutes"));
	const char *lost;
	int ret;

	if (!own)
		return cni_fail(&c->err, CNI_ERR_IO, "out of memory");
	/* else CHECK would verify fewer addresses than ADD gave, and pass */
	lost = ipam_own_missing(own, ips);
	if (lost) {
		ret = cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS,
			       "prevResult: address %s that ADD gave %s is not in it", lost,
			       c->env.ifname);
		goto out;
	}
	ret = cni_ipam_check(c, own);
	if (!ret)
		ret = ipam_verify(pod, ifindex, own, &c->err);
out:
	json_decref(own);
	return ret;
}

int cmd_check(struct cni_ctx *c)
{
	const json_t *prev = c->conf.prev_result;
	struct nl_link l;
	struct nl pod;
	int iface, ret;

	if (c->conf.vnum < 400)
		return cni_fail(&c->err, CNI_ERR_INCOMPATIBLE_VERSION,
				"cniVersion: CHECK needs 0.4.0 or later, the config has %s",
				c->conf.version);
	if (!prev)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "prevResult: is required for CHECK");
	cni_pod_identity(c);
	if (choose(c))
		return -1;
	c->pod_ns = netns_open(c->env.netns);
	if (c->pod_ns < 0)
		return cni_fail(&c->err, CNI_ERR_UNKNOWN_CONTAINER, "CNI_NETNS: cannot open %s: %s",
				c->env.netns, strerror(-c->pod_ns));
	iface = find_iface(c, prev);
	if (iface < 0)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"prevResult: no interface %s in sandbox %s", c->env.ifname,
				c->env.netns);
	if (cni_pod_nl(c, &pod))
		return -1;
	ret = nl_link_get(&pod, 0, c->env.ifname, &l);
	if (ret)
		cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS, "CNI_IFNAME: %s is missing from the pod",
			 c->env.ifname);
	else
		ret = check_link(c, &l, json_array_get(json_object_get(prev, "interfaces"), iface));
	if (!ret)
		ret = check_own(c, &pod, l.ifindex, prev, iface);
	nl_close(&pod);
	return ret ? -1 : 0;
}
