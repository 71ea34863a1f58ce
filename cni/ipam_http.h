/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client of edgeshift's HTTP IPAM service (Paper B's "vdhcp"): a list of
 * servers tried in order, each with url, user and password. The REST API
 * is defined in docs/cni-ipam-api.md; tools/es-ipamd.c is its reference
 * server.
 */
#ifndef EDGESHIFT_CNI_IPAM_HTTP_H
#define EDGESHIFT_CNI_IPAM_HTTP_H

#include <jansson.h>
#include "cni_error.h"

/* True when the delegate's "ipam" object asks for this client. */
int ipam_http_handles(const json_t *ipam);

/* Checks the "ipam" object (servers, url, timeouts) without any I/O. */
int ipam_http_validate(const json_t *ipam, struct cni_error *err);

/*
 * Allocates an address for (network, container_id, ifname). On success
 * *result holds a CNI 1.x IPAM result: {"ips": [...], "routes": [...],
 * "dns": {...}} with "interface" indexes left out. Returns 0 or -1.
 */
int ipam_http_add(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, json_t **result, struct cni_error *err);

/* Releases it; an allocation the server does not know is not an error. */
int ipam_http_del(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, struct cni_error *err);

/* Confirms the server still holds the allocation with these addresses. */
int ipam_http_check(const json_t *ipam, const char *network, const char *container_id,
		    const char *ifname, const json_t *ips, struct cni_error *err);

#endif
