/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cniVersion negotiation: which spec versions the plugin speaks and what
 * each one allows (CHECK from 0.4.0, STATUS and GC from 1.1.0).
 */
#ifndef EDGESHIFT_CNI_VERSION_H
#define EDGESHIFT_CNI_VERSION_H

#include <jansson.h>
#include "cni_error.h"

#define CNI_VERSION_LATEST	"1.1.0"

/* Ordinal of a supported version (0.3.0 -> 300, 1.1.0 -> 10100), or -1. */
int cni_version_num(const char *v);

/* Validates v; on error fills err with code 1 naming the supported list. */
int cni_version_check(const char *v, struct cni_error *err);

/* The VERSION command's answer for the version the caller speaks. */
json_t *cni_version_info(const char *v);

#endif
