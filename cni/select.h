/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which delegate a pod gets: the pod's annotation edgeshift.io/network
 * (read through the Kubernetes API when the config names a kubeconfig and
 * CNI_ARGS names the pod), else CNI_ARGS EDGESHIFT_NETWORK, else the
 * config's default.
 */
#ifndef EDGESHIFT_CNI_SELECT_H
#define EDGESHIFT_CNI_SELECT_H

#include "cni_ctx.h"

#define CNI_ANNOTATION		"edgeshift.io/network"
#define CNI_ARGS_NETWORK	"EDGESHIFT_NETWORK"
#define CNI_KUBE_TIMEOUT_MS	5000

/* Fills c->pod_namespace and c->pod_name from CNI_ARGS. */
void cni_pod_identity(struct cni_ctx *c);

/* Sets c->d; code 7 when the requested network is not a delegate. */
int cni_select_delegate(struct cni_ctx *c);

#endif
