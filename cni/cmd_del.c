// SPDX-License-Identifier: GPL-2.0-only
/*
 * DEL, idempotent: IPAM is released first, so an address is never leaked
 * whatever happens to the link; a pod namespace or link that is already
 * gone is success, a namespace that cannot be opened for another reason
 * is an error.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "state.h"
#include "ipam.h"
#include "devpool.h"
#include "select.h"
#include "dataplane.h"
#include "commands.h"

/* The delegate ADD used, from its record; the selection rules otherwise. */
static int delegate_of(struct cni_ctx *c)
{
	const char *name = json_string_value(json_object_get(c->att, "delegate"));
	int i = name ? cni_conf_find(&c->conf, name) : -1;

	if (i >= 0) {
		c->d = &c->conf.del[i];
		return 0;
	}
	if (!cni_select_delegate(c))
		return 0;
	/* the API server may be down at DEL time: fall back to the default */
	memset(&c->err, 0, sizeof(c->err));
	c->d = &c->conf.del[c->conf.default_idx];
	return 0;
}

int cni_del_attachment(struct cni_ctx *c)
{
	char path[PATH_MAX];
	int ret;

	if (delegate_of(c) || cni_ipam_del(c))
		return -1;
	cni_dataplane_detach(c);
	ret = c->d->kind == CNI_KIND_MACVLAN ? macvlan_del(c) : host_device_del(c);
	if (ret)
		return -1;
	devpool_release(c);
	cni_attachment_path(c, path, sizeof(path));
	unlink(path);
	cni_dataplane_forget(c);
	return 0;
}

int cmd_del(struct cni_ctx *c)
{
	char path[PATH_MAX];

	cni_pod_identity(c);
	cni_attachment_path(c, path, sizeof(path));
	c->att = state_read(path);
	/*
	 * CNI_NETNS is optional in DEL; the record knows where ADD put the
	 * link, and a link left in a living pod would be lost to the host.
	 */
	if (!c->env.netns[0])
		c->env.netns = json_string_value(json_object_get(c->att, "netns")) ?: "";
	c->pod_ns = c->env.netns[0] ? netns_open(c->env.netns) : -ENOENT;
	/*
	 * Only a namespace that is gone took its links with it. Another
	 * error (EACCES, EMFILE) is no proof of that: taken for "gone", the
	 * live link's ifindex went back to the pool and a host-device NIC
	 * stayed in the pod, with DEL reporting success. The runtime retries.
	 */
	if (c->pod_ns < 0 && c->pod_ns != -ENOENT)
		return cni_fail(&c->err, CNI_ERR_IO,
				"cannot open the pod's network namespace %s: %s", c->env.netns,
				strerror(-c->pod_ns));
	if (c->pod_ns < 0)
		c->pod_ns = -1;
	return cni_del_attachment(c);
}
