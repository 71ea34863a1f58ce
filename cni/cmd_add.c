// SPDX-License-Identifier: GPL-2.0-only
/*
 * ADD: the delegate's link in the pod, IPAM, addresses and routes, the
 * attachment record, the data-plane hook. Whatever fails after the link
 * exists undoes everything before it, IPAM included.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "state.h"
#include "ipam.h"
#include "select.h"
#include "dataplane.h"
#include "cni_result.h"
#include "commands.h"

/* A result in the 1.1 shape to start from: prevResult when chained. */
static json_t *start_result(struct cni_ctx *c)
{
	return c->conf.prev_result ? cni_result_normalize(c->conf.prev_result) : cni_result_new();
}

static void undo(struct cni_ctx *c, bool ipam_done)
{
	struct cni_error saved = c->err;

	cni_dataplane_abort(c);
	if (ipam_done)
		cni_ipam_del(c);
	/* host_device_undo keeps c->err as the cause; macvlan_del may overwrite it */
	c->err = saved;
	if (c->d->kind == CNI_KIND_HOST_DEVICE) {
		host_device_undo(c);
		return;
	}
	macvlan_del(c);
	c->err = saved;
}

static int configure(struct cni_ctx *c, json_t *res, const struct cni_link *l, json_t *ipam)
{
	int iface = cni_result_add_iface(res, c->env.ifname, l->mac, l->mtu, c->env.netns);
	struct nl pod;
	int ret;

	if (ipam && cni_result_merge_ipam(res, ipam, iface, &c->err))
		return -1;
	/* the configuration's dns, key by key, over what the IPAM gave */
	if (c->d->dns)
		json_object_update(json_object_get(res, "dns"), c->d->dns);
	/*
	 * Only the IPAM's addresses and routes are this link's, and CHECK
	 * verifies only these: the rest of a prevResult is other plugins'
	 * (an address without "interface" too), passed on in res.
	 */
	json_object_set_new(c->att, "ownIps",
			    json_deep_copy(json_object_get(ipam, "ips")) ?: json_array());
	json_object_set_new(c->att, "ownRoutes",
			    json_deep_copy(json_object_get(ipam, "routes")) ?: json_array());
	if (cni_pod_nl(c, &pod))
		return -1;
	ret = ipam_apply(&pod, l->ifindex, ipam, &c->err);
	nl_close(&pod);
	return ret;
}

static int save_attachment(struct cni_ctx *c, const struct cni_link *l, json_t *res)
{
	char path[PATH_MAX];
	int ret;

	json_object_set_new(c->att, "ifindex", json_integer(l->ifindex));
	json_object_set(c->att, "result", res);
	cni_attachment_path(c, path, sizeof(path));
	ret = state_write(path, c->att);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "stateDir: cannot write %s: %s", path,
				strerror(-ret));
	return 0;
}

/* The record save_attachment wrote, of an ADD that is being undone. */
static void drop_attachment(struct cni_ctx *c)
{
	char path[PATH_MAX];

	cni_attachment_path(c, path, sizeof(path));
	unlink(path);
}

/*
 * A DHCP client sends from the pod's link: up it goes before the IPAM
 * runs, once the accounting programs are attached (first packet counted).
 */
static int link_up_for_ipam(struct cni_ctx *c, const struct cni_link *l)
{
	struct nl_link_change up = { .up = 1 };
	struct nl pod;
	int ret;

	if (!cni_ipam_needs_link(c))
		return 0;
	cni_dataplane_wait(c);
	if (cni_pod_nl(c, &pod))
		return -1;
	ret = nl_link_set(&pod, l->ifindex, &up);
	nl_close(&pod);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot bring %s up for ipam %s: %s",
				c->env.ifname,
				json_string_value(json_object_get(c->d->ipam, "type")),
				strerror(-ret));
	return 0;
}

int cmd_add(struct cni_ctx *c)
{
	json_t *res = NULL, *ipam = NULL, *out;
	struct cni_link l = {};
	int ret;

	cni_pod_identity(c);
	if (cni_select_delegate(c))
		return -1;
	c->pod_ns = netns_open(c->env.netns);
	if (c->pod_ns < 0)
		return cni_fail(&c->err, CNI_ERR_UNKNOWN_CONTAINER, "CNI_NETNS: cannot open %s: %s",
				c->env.netns, strerror(-c->pod_ns));
	c->att = json_pack("{s:s, s:s, s:s, s:s, s:s}", "network", c->conf.name,
			   "delegate", c->d->name, "containerID", c->env.container_id,
			   "ifname", c->env.ifname, "netns", c->env.netns);
	ret = c->d->kind == CNI_KIND_MACVLAN ? macvlan_add(c, &l) : host_device_add(c, &l);
	if (ret)
		return -1;
	cni_dataplane_start(c, &l);
	if (link_up_for_ipam(c, &l) || cni_ipam_add(c, &ipam)) {
		undo(c, false);
		return -1;
	}
	res = start_result(c);
	if (configure(c, res, &l, ipam) || save_attachment(c, &l, res)) {
		undo(c, true);
		ret = -1;
		goto out;
	}
	if (cni_dataplane_attach(c, &l)) {
		drop_attachment(c);
		undo(c, true);
		ret = -1;
		goto out;
	}
	out = cni_result_for_version(res, c->conf.version);
	cni_print(out);
	json_decref(out);
out:
	json_decref(ipam);
	json_decref(res);
	return ret;
}
