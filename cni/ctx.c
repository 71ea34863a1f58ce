// SPDX-License-Identifier: GPL-2.0-only
/* Helpers every command uses. */
#include <errno.h>
#include <string.h>
#include "netns.h"
#include "state.h"
#include "commands.h"
#include "cni_ctx.h"

int cni_pod_nl(struct cni_ctx *c, struct nl *nl)
{
	int ret = netns_enter(c->pod_ns);

	if (!ret)
		ret = nl_open(nl);
	if (netns_enter(c->host_ns) && !ret) {
		ret = -errno;
		nl_close(nl);
	}
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot open netlink in %s: %s", c->env.netns,
				strerror(-ret));
	return 0;
}

void cni_attachment_path(const struct cni_ctx *c, char *buf, size_t len)
{
	state_attachment_path(c->conf.state_dir, c->conf.name, c->env.container_id, c->env.ifname,
			      buf, len);
}

int cni_pod_link_get(struct cni_ctx *c, const char *name, struct nl_link *l, int *found)
{
	struct nl pod;

	if (cni_pod_nl(c, &pod))
		return -1;
	*found = nl_link_get(&pod, 0, name, l);
	nl_close(&pod);
	return 0;
}

int cni_pod_name_free(struct cni_ctx *c)
{
	struct nl_link l;
	int ret;

	if (cni_pod_link_get(c, c->env.ifname, &l, &ret))
		return -1;
	if (!ret)
		return cni_fail(&c->err, CNI_ERR_INVALID_ENV,
				"CNI_IFNAME: the pod already has an interface named %s", c->env.ifname);
	return 0;
}

int cni_pod_unmove(struct cni_ctx *c, int ifindex, const char *name)
{
	struct nl_link_change back = { .name = name, .netns_fd = c->host_ns };
	struct nl_link l;
	struct nl pod;
	int ret;

	if (!nl_link_get(&c->nl, ifindex, NULL, &l))
		return 0;	/* never left */
	if (cni_pod_nl(c, &pod))
		return -1;
	ret = name ? nl_link_set(&pod, ifindex, &back) : nl_link_del(&pod, ifindex);
	nl_close(&pod);
	return ret;
}
