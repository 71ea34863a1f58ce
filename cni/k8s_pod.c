// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder until the Kubernetes API client lands. */
#include <stddef.h>
#include "k8s_pod.h"

int k8s_pod_annotation(const char *kubeconfig, const char *ns, const char *pod,
		       const char *key, long timeout_ms, char **value, struct cni_error *err)
{
	(void)kubeconfig, (void)ns, (void)pod, (void)key, (void)timeout_ms;
	*value = NULL;
	return cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig: Kubernetes API client not built yet");
}
