/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IPAM for a delegate: the HTTP client (ipam_http.h) when its "ipam" asks
 * for it, otherwise the standard plugin named by ipam.type; and applying
 * or checking the addresses and routes of a result inside the pod.
 */
#ifndef EDGESHIFT_CNI_IPAM_H
#define EDGESHIFT_CNI_IPAM_H

#include <stdbool.h>
#include <jansson.h>
#include "cni_ctx.h"

/* *result is NULL when the delegate has no IPAM. */
int cni_ipam_add(struct cni_ctx *c, json_t **result);
/* Releases; an allocation the IPAM does not know is not an error. */
int cni_ipam_del(struct cni_ctx *c);
/* Asks the IPAM to confirm the allocation behind prev (a 1.1 result). */
int cni_ipam_check(struct cni_ctx *c, const json_t *prev);
/*
 * True when the IPAM talks over the pod's interface (dhcp), which must
 * then be up before it runs.
 */
bool cni_ipam_needs_link(const struct cni_ctx *c);

/*
 * In the current (pod) namespace: adds the result's addresses of
 * interface iface to ifindex, brings it up and adds the routes.
 */
int ipam_apply(struct nl *nl, int ifindex, const json_t *res, int iface,
	       struct cni_error *err);
/* Verifies those addresses and routes are present; code 7 names the missing one. */
int ipam_verify(struct nl *nl, int ifindex, const json_t *res, int iface,
		struct cni_error *err);

#endif
