// SPDX-License-Identifier: GPL-2.0-only
/* The CNI_* environment variables and CNI_ARGS. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "cni_env.h"

static const struct {
	const char		*name;
	enum cni_command	cmd;
	unsigned int		needs;	/* NEED_* bits */
} commands[] = {
#define NEED_ID		1u
#define NEED_NETNS	2u
#define NEED_IFNAME	4u
#define NEED_PATH	8u
	{ "ADD", CNI_CMD_ADD, NEED_ID | NEED_NETNS | NEED_IFNAME | NEED_PATH },
	{ "DEL", CNI_CMD_DEL, NEED_ID | NEED_IFNAME | NEED_PATH },
	{ "CHECK", CNI_CMD_CHECK, NEED_ID | NEED_NETNS | NEED_IFNAME | NEED_PATH },
	{ "VERSION", CNI_CMD_VERSION, 0 },
	{ "STATUS", CNI_CMD_STATUS, 0 },
	{ "GC", CNI_CMD_GC, NEED_PATH },
};

static const char *env_or_empty(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "";
}

/*
 * The kernel's rules for a link name (dev_valid_name; its isspace()
 * counts 0xa0 too), and no '%': the
 * kernel takes a name with one for a pattern and makes its own (net%d
 * becomes net0), so the pod's link would not be the name ADD reports.
 * DEL keeps the rules before these (no '/', not . or .., under 16 bytes):
 * a pod added before these rules must still be deletable.
 */
static bool ifname_valid(const char *name, bool del)
{
	const char *c;

	if (!*name || strlen(name) >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (c = name; *c; c++)
		if (*c == '/' || (!del && strchr(":% \t\n\v\f\r\xa0", *c)))
			return false;
	return true;
}

int cni_env_load(struct cni_env *env, struct cni_error *err)
{
	const char *cmd = getenv("CNI_COMMAND");
	unsigned int needs = 0;
	size_t i;

	memset(env, 0, sizeof(*env));
	if (!cmd || !*cmd)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_COMMAND: not set");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(cmd, commands[i].name)) {
			env->command = commands[i].cmd;
			needs = commands[i].needs;
			break;
		}
	}
	if (i == sizeof(commands) / sizeof(commands[0]))
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_COMMAND: unknown command \"%.64s\"", cmd);
	env->command_name = cmd;
	env->container_id = env_or_empty("CNI_CONTAINERID");
	env->netns = env_or_empty("CNI_NETNS");
	env->ifname = env_or_empty("CNI_IFNAME");
	env->args = env_or_empty("CNI_ARGS");
	env->path = env_or_empty("CNI_PATH");
	if ((needs & NEED_ID) && !*env->container_id)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_CONTAINERID: not set");
	if (*env->container_id &&
	    strspn(env->container_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_.-") != strlen(env->container_id))
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_CONTAINERID: only letters, digits, '_', '.' and '-' are allowed");
	if ((needs & NEED_NETNS) && !*env->netns)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_NETNS: not set");
	if ((needs & NEED_IFNAME) && !ifname_valid(env->ifname, env->command == CNI_CMD_DEL))
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_IFNAME: \"%.32s\" is not a valid interface name", env->ifname);
	if ((needs & NEED_PATH) && !*env->path)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_PATH: not set");
	return 0;
}

int cni_args_get(const char *args, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = args, *end;

	while (p && *p) {
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			if ((size_t)(end - p) >= len)
				return 0;
			memcpy(buf, p, end - p);
			buf[end - p] = '\0';
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}
