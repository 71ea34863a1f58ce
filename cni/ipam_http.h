/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client of edgeshift's HTTP IPAM service (ipam type "vdhcp"): a list of
 * servers tried in order, each with url, user and password. The REST API
 * is defined in docs/cni-ipam-api.md; tools/ops/es-ipamd.c is its reference
 * server.
 *
 * `network` is the network configuration's "name"; an "ipam.network"
 * field overrides it. Every call re-validates `ipam` (code 7 on error)
 * and is bounded by ipam.timeoutMs over all servers. Failures: 100 no
 * server answered, 101 credentials refused, 102 no free address, 103 not
 * the API's answer, 7 network unknown to every server; err->details lists
 * each server's own reason. No global state: the calls are thread-safe
 * once curl_global_init() has run (libcurl runs it on first use).
 */
#ifndef EDGESHIFT_CNI_IPAM_HTTP_H
#define EDGESHIFT_CNI_IPAM_HTTP_H

#include <jansson.h>
#include "cni_error.h"
#include "ipam_http_conf.h"	/* ipam_http_handles: whether a delegate's ipam is ours */

/*
 * Allocates an address for (network, container_id, ifname). On success
 * *result holds a CNI 1.x IPAM result: {"ips": [...], "routes": [...],
 * "dns": {...}} with "interface" indexes left out. Returns 0 or -1.
 */
int ipam_http_add(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, json_t **result, struct cni_error *err);

/*
 * The same, and *held (always set, the caller frees it) lists the URLs of
 * the servers that may hold the allocation: the one that answered, and
 * each one that got the request but did not answer in time (it may still
 * serve it after the failover).
 */
int ipam_http_add_held(const json_t *ipam, const char *network, const char *container_id,
		       const char *ifname, json_t **result, json_t **held, struct cni_error *err);

/*
 * Releases it on every server (a failover may have put it on a later one);
 * an allocation no server knows is not an error. Fails (100) only when a
 * server could not be asked and none released it, so DEL is retried
 * rather than the address leaked.
 */
int ipam_http_del(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, struct cni_error *err);
/*
 * The same, and each server listed in held (ipam_http_add_held's) must
 * answer: one that may hold the allocation and cannot be asked fails the
 * release (100) whatever the others did, so DEL is retried.
 */
int ipam_http_del_held(const json_t *ipam, const char *network, const char *container_id,
		       const char *ifname, const json_t *held, struct cni_error *err);

/* STATUS: 0 when a server answers GET healthz, code 50 otherwise. */
int ipam_http_status(const json_t *ipam, struct cni_error *err);

/*
 * Confirms a server still holds the allocation with these addresses: `ips`
 * are the prevResult's addresses of this plugin's interface (a chain's
 * other plugins' are not the server's). Code 3 when none holds it or the
 * addresses differ.
 */
int ipam_http_check(const json_t *ipam, const char *network, const char *container_id,
		    const char *ifname, const json_t *ips, struct cni_error *err);

#endif
