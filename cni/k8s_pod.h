/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads a pod's annotations from the Kubernetes API server. */
#ifndef EDGESHIFT_CNI_K8S_POD_H
#define EDGESHIFT_CNI_K8S_POD_H

#include "cni_error.h"

/*
 * Looks up annotation `key` of pod namespace/name through the API server
 * and credentials of the kubeconfig file. *value is malloc'd, or NULL when
 * the pod has no such annotation. Returns 0, or -1 with err filled
 * (CNI_ERR_KUBE_API) when the server, the file or the pod cannot be read.
 * timeout_ms bounds the whole exchange.
 */
int k8s_pod_annotation(const char *kubeconfig, const char *ns, const char *pod,
		       const char *key, long timeout_ms, char **value, struct cni_error *err);

#endif
