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
/*
 * Asks the IPAM to confirm the allocation behind own, this plugin's part
 * of prevResult (ipam_own_part): the HTTP IPAM compares its addresses; a
 * plugin gets the configuration, with the whole prevResult, as the spec says.
 */
int cni_ipam_check(struct cni_ctx *c, const json_t *own);
/*
 * STATUS: code 50 when the IPAM cannot serve an ADD now (no HTTP server
 * answers, the dhcp daemon is not listening, a 1.1 plugin's own STATUS
 * fails).
 */
int cni_ipam_status(struct cni_ctx *c);
/*
 * GC forwarded to a plugin that speaks 1.1.0 (with cni.dev/valid-attachments);
 * older plugins have no GC: their stale attachments get a DEL each.
 */
int cni_ipam_gc(struct cni_ctx *c);
/*
 * True when the IPAM talks over the pod's interface (dhcp), which must
 * then be up before it runs.
 */
bool cni_ipam_needs_link(const struct cni_ctx *c);

/*
 * In the current (pod) namespace: adds the addresses of own (this
 * plugin's IPAM result, NULL for none) to ifindex, brings it up and adds
 * own's routes. A prevResult's addresses and routes belong to the links of
 * earlier plugins: they are passed on in the result, never applied here.
 */
int ipam_apply(struct nl *nl, int ifindex, const json_t *own, struct cni_error *err);
/*
 * What of res (the prevResult CHECK gets) is this plugin's, as
 * {"ips":[...],"routes":[...]}: the ips whose "interface" is iface and
 * that ips lists, the routes that routes lists (by address, dst and gw,
 * compared as addresses, not as text; a NULL list, from a record without
 * it, holds everything).
 */
json_t *ipam_own_part(const json_t *res, int iface, const json_t *ips, const json_t *routes);
/*
 * The first of ips (what ADD recorded as its IPAM's) that own (its part of
 * prevResult) lacks, or NULL: a prevResult without it is not what ADD said.
 */
const char *ipam_own_missing(const json_t *own, const json_t *ips);
/*
 * Verifies that own's addresses (ipam_own_part) are on ifindex and its
 * routes exist; a later plugin may have moved a route to another link,
 * which is tolerated. Code 111 names the missing one.
 */
int ipam_verify(struct nl *nl, int ifindex, const json_t *own, struct cni_error *err);

#endif
