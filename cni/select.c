// SPDX-License-Identifier: GPL-2.0-only
/* Choosing the delegate of a pod. */
#include <stdlib.h>
#include <string.h>
#include "k8s_pod.h"
#include "select.h"

void cni_pod_identity(struct cni_ctx *c)
{
	cni_args_get(c->env.args, "K8S_POD_NAMESPACE", c->pod_namespace, sizeof(c->pod_namespace));
	cni_args_get(c->env.args, "K8S_POD_NAME", c->pod_name, sizeof(c->pod_name));
}

static int pick(struct cni_ctx *c, const char *name, const char *source)
{
	int i = cni_conf_find(&c->conf, name);

	if (i < 0)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"%s: network \"%.64s\" is not one of the plugins of \"%s\"", source,
				name, c->conf.name);
	c->d = &c->conf.del[i];
	return 0;
}

int cni_select_delegate(struct cni_ctx *c)
{
	char name[128];
	char *ann = NULL;
	int ret;

	if (!c->conf.meta) {
		c->d = &c->conf.del[0];
		return 0;
	}
	if (c->conf.kubeconfig[0] && c->pod_namespace[0] && c->pod_name[0]) {
		if (k8s_pod_annotation(c->conf.kubeconfig, c->pod_namespace, c->pod_name,
				       CNI_ANNOTATION, CNI_KUBE_TIMEOUT_MS, &ann, &c->err))
			return -1;
		if (ann) {
			ret = pick(c, ann, "annotation " CNI_ANNOTATION);
			free(ann);
			return ret;
		}
	}
	if (cni_args_get(c->env.args, CNI_ARGS_NETWORK, name, sizeof(name)))
		return pick(c, name, "CNI_ARGS " CNI_ARGS_NETWORK);
	c->d = &c->conf.del[c->conf.default_idx];
	return 0;
}
