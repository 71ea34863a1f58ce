// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder until the HTTP IPAM client lands: every call fails clearly. */
#include <string.h>
#include "ipam_http.h"

int ipam_http_handles(const json_t *ipam)
{
	const char *t = json_string_value(json_object_get(ipam, "type"));

	return t && (!strcmp(t, "vdhcp") || !strcmp(t, "edgeshift-http"));
}

int ipam_http_validate(const json_t *ipam, struct cni_error *err)
{
	(void)ipam;
	return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "ipam: HTTP IPAM is not built yet");
}

int ipam_http_add(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, json_t **result, struct cni_error *err)
{
	(void)ipam, (void)network, (void)container_id, (void)ifname, (void)result;
	return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "ipam: HTTP IPAM is not built yet");
}

int ipam_http_del(const json_t *ipam, const char *network, const char *container_id,
		  const char *ifname, struct cni_error *err)
{
	(void)ipam, (void)network, (void)container_id, (void)ifname;
	return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "ipam: HTTP IPAM is not built yet");
}

int ipam_http_check(const json_t *ipam, const char *network, const char *container_id,
		    const char *ifname, const json_t *ips, struct cni_error *err)
{
	(void)ipam, (void)network, (void)container_id, (void)ifname, (void)ips;
	return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "ipam: HTTP IPAM is not built yet");
}
