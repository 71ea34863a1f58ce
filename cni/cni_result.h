/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CNI results. Internally a result is kept in the 1.1.0 shape; it is
 * converted to the caller's cniVersion only when printed. IPAM results and
 * prevResult of any supported version are read into that shape.
 */
#ifndef EDGESHIFT_CNI_RESULT_H
#define EDGESHIFT_CNI_RESULT_H

#include <jansson.h>
#include "cni_error.h"

/* {"interfaces":[],"ips":[],"routes":[],"dns":{}} */
json_t *cni_result_new(void);

/*
 * A result of any supported version (prevResult) copied into the 1.1
 * shape; an ip's "interface" that is no index of its interfaces is dropped.
 */
json_t *cni_result_normalize(const json_t *prev);

/* Appends an interface; returns its index in "interfaces". */
int cni_result_add_iface(json_t *res, const char *name, const unsigned char mac[6],
			 unsigned int mtu, const char *sandbox);

/*
 * Copies ips, routes and dns of an IPAM result (any supported version)
 * into res, every ip pointing at interface iface. Code 7 when the IPAM
 * result is not one.
 */
int cni_result_merge_ipam(json_t *res, const json_t *ipam, int iface, struct cni_error *err);

/* A new result in the shape of version v, with "cniVersion" set. */
json_t *cni_result_for_version(const json_t *res, const char *v);

/* Prints JSON on stdout, followed by a newline. */
void cni_print(const json_t *j);

/* Prints the spec's error JSON on stdout. */
void cni_print_error(const char *version, const struct cni_error *err);

#endif
