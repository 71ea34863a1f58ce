/* SPDX-License-Identifier: GPL-2.0-only */
/* The CNI_* environment of one invocation, checked per command. */
#ifndef EDGESHIFT_CNI_ENV_H
#define EDGESHIFT_CNI_ENV_H

#include <stddef.h>
#include "cni_error.h"

enum cni_command {
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_VERSION,
	CNI_CMD_STATUS,
	CNI_CMD_GC,
};

struct cni_env {
	enum cni_command	command;
	const char		*command_name;	/* as given, for the IPAM plugin */
	const char		*container_id;	/* "" when absent (VERSION, STATUS, GC) */
	const char		*netns;		/* path, "" when absent (DEL may omit it) */
	const char		*ifname;
	const char		*args;		/* CNI_ARGS, "K=V;K2=V2" or "" */
	const char		*path;		/* CNI_PATH, ':'-separated */
};

/* Reads and checks the environment; code 4 names the missing variable. */
int cni_env_load(struct cni_env *env, struct cni_error *err);

/* Value of KEY in CNI_ARGS copied into buf; 1 when found, 0 when not. */
int cni_args_get(const char *args, const char *key, char *buf, size_t len);

#endif
