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
