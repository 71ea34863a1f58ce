/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP IPAM client's "ipam" object, parsed without any I/O: by the
 * client on every call and by the configuration parser, which refuses a
 * bad one before ADD changes anything. Pointers in ipam_conf point into
 * the JSON.
 */
#ifndef EDGESHIFT_CNI_IPAM_HTTP_CONF_H
#define EDGESHIFT_CNI_IPAM_HTTP_CONF_H

#include <jansson.h>
#include "cni_error.h"

#define MAX_SERVERS		16
#define DEFAULT_TOTAL_MS	10000
#define DEFAULT_CONNECT_MS	1000
#define DEFAULT_SERVER_MS	3000

struct ipam_server {
	const char	*url, *user, *password, *ca_file;
};

struct ipam_conf {
	struct ipam_server	srv[MAX_SERVERS];
	int			n;
	const char		*network;	/* overrides the caller's */
	long			total_ms, connect_ms, server_ms;
};

/* True when the delegate's "ipam" object asks for this client. */
int ipam_http_handles(const json_t *ipam);

/* Checks the "ipam" object (servers, url, timeouts) without any I/O. */
int ipam_http_validate(const json_t *ipam, struct cni_error *err);

/* Fills c from ipam; 0, or -1 with err (code 7) naming the field. */
int ipam_http_parse_conf(const json_t *ipam, struct ipam_conf *c, struct cni_error *err);

#endif
