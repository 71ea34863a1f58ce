/* SPDX-License-Identifier: GPL-2.0-only */
/* Everything one invocation of the plugin works with. */
#ifndef EDGESHIFT_CNI_CTX_H
#define EDGESHIFT_CNI_CTX_H

#include <jansson.h>
#include "cni_conf.h"
#include "cni_env.h"
#include "cni_error.h"
#include "nl.h"

struct cni_hook;

struct cni_ctx {
	struct cni_env		env;
	struct cni_conf		conf;
	struct cni_error	err;
	const char		*stdin_buf;	/* the configuration as received */
	size_t			stdin_len;
	struct cni_delegate	*d;		/* the delegate this pod gets */
	int			host_ns;	/* namespace the plugin started in */
	int			pod_ns;		/* CNI_NETNS, -1 when absent or gone */
	struct nl		nl;		/* socket in host_ns */
	char			pod_namespace[64];	/* K8S_POD_NAMESPACE or "" */
	char			pod_name[256];		/* K8S_POD_NAME or "" */
	json_t			*att;		/* attachment record (state.h) */
	struct cni_hook		*hook;		/* accounting attach in flight (dataplane.c) */
	int			hook_ret;	/* -EEXIST: the ifindex's pins are taken */
};

/* The pod's interface as ADD left it. */
struct cni_link {
	int		ifindex;	/* in the pod namespace */
	unsigned char	mac[6];
	unsigned int	mtu;
};

/* A socket in the pod's namespace (c->pod_ns); the caller closes it. */
int cni_pod_nl(struct cni_ctx *c, struct nl *nl);

/*
 * The pod's link named name: 0 with *found the lookup's result (0, or
 * -ENODEV and the like), -1 when netlink in the pod cannot be opened.
 */
int cni_pod_link_get(struct cni_ctx *c, const char *name, struct nl_link *l, int *found);
/* Code 4 when the pod already has an interface named CNI_IFNAME. */
int cni_pod_name_free(struct cni_ctx *c);
/*
 * A move into the pod that failed half way (moved, then the rename
 * failed) leaves the link in the pod under its old name: delete it
 * (name NULL) or bring it back to the host under name.
 */
int cni_pod_unmove(struct cni_ctx *c, int ifindex, const char *name);

/* Per kind of delegate (macvlan.c, host_device.c). */
int macvlan_add(struct cni_ctx *c, struct cni_link *out);
int macvlan_del(struct cni_ctx *c);
int macvlan_check(struct cni_ctx *c, const struct nl_link *l);
int host_device_add(struct cni_ctx *c, struct cni_link *out);
int host_device_del(struct cni_ctx *c);
/*
 * An ADD that failed once the NIC was in the pod: gives it back as DEL
 * does and releases its pool claim. c->err stays the cause of the failure
 * (details say when giving back failed too).
 */
void host_device_undo(struct cni_ctx *c);
int host_device_check(struct cni_ctx *c, const struct nl_link *l);

#endif
