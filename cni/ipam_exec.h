/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Running a standard IPAM plugin as the CNI spec says: found by its type
 * in CNI_PATH, the network configuration on stdin, the CNI_* environment
 * of this invocation, its result (or error) on stdout.
 */
#ifndef EDGESHIFT_CNI_IPAM_EXEC_H
#define EDGESHIFT_CNI_IPAM_EXEC_H

#include <stddef.h>
#include <jansson.h>
#include "cni_error.h"
#include "cni_env.h"

/* Full path of plugin `type` in cni_path; 0, or -1 with code 7 when missing. */
int ipam_exec_find(const char *type, const char *cni_path, char *buf, size_t len,
		   struct cni_error *err);

/*
 * Runs plugin `type` with CNI_COMMAND=command and conf on stdin, and
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH from env (not from
 * our own environment: GC runs DEL for attachments it reads from records).
 * For ADD *result gets the parsed stdout. A failing plugin's error JSON is
 * passed on with its code and its message prefixed by the plugin's name.
 */
int ipam_exec(const char *type, const struct cni_env *env, const char *command,
	      const char *conf, size_t conf_len, json_t **result, struct cni_error *err);

#endif
