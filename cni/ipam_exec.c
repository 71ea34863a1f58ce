// SPDX-License-Identifier: GPL-2.0-only
/* Executing an IPAM plugin binary. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/exec_io.h"
#include "ipam_exec.h"


static void env_free(char **e)
{
	size_t i;

	for (i = 0; e && e[i]; i++)
		free(e[i]);
	free(e);
}

int ipam_exec_find(const char *type, const char *cni_path, char *buf, size_t len,
		   struct cni_error *err)
{
	if (!es_exec_find(cni_path, type, buf, len))
		return 0;
	return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam.type: plugin \"%s\" not found in CNI_PATH",
			type);
}

static bool cni_var(const char *e)
{
	static const char *const names[] = { "CNI_COMMAND=", "CNI_CONTAINERID=", "CNI_NETNS=",
					     "CNI_IFNAME=", "CNI_PATH=", "CNI_ARGS=" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(e, names[i], strlen(names[i])))
			return true;
	return false;
}

/*
 * CNI_ARGS may carry EDGESHIFT_NETWORK, which the standard plugins do not
 * know and refuse unless told to ignore what they do not know.
 */
static char *plugin_args(void)
{
	const char *args = getenv("CNI_ARGS");
	char *s = NULL;

	if (!args || !*args)
		return NULL;
	if (strstr(args, "IgnoreUnknown="))
		return asprintf(&s, "CNI_ARGS=%s", args) > 0 ? s : NULL;
	return asprintf(&s, "CNI_ARGS=IgnoreUnknown=1;%s", args) > 0 ? s : NULL;
}

/*
 * The child's environment, made before the fork (the data-plane hook runs
 * in a thread meanwhile: no setenv in the child): ours, with the CNI_*
 * variables of this invocation, or those of a record (GC).
 */
static char **plugin_env(const struct cni_env *env, const char *command)
{
	static const char *const names[] = { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
					     "CNI_PATH" };
	const char *vals[] = { env->container_id, env->netns, env->ifname, env->path };
	size_t n = 0, k = 0, i;
	char **e;

	while (environ[n])
		n++;
	e = calloc(n + 7, sizeof(*e));
	if (!e)
		return NULL;
	for (i = 0; i < n; i++)
		if (!cni_var(environ[i]) && !(e[k++] = strdup(environ[i])))
			goto fail;
	if (asprintf(&e[k++], "CNI_COMMAND=%s", command) < 0)
		goto fail_last;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (vals[i] && *vals[i] && asprintf(&e[k++], "%s=%s", names[i], vals[i]) < 0)
			goto fail_last;
	e[k] = plugin_args();
	return e;
fail_last:
	e[k - 1] = NULL;	/* asprintf leaves it undefined */
fail:
	env_free(e);
	return NULL;
}

static int plugin_error(const char *type, const char *out, int status, struct cni_error *err)
{
	json_t *j = json_loads(out, 0, NULL);
	json_t *code = json_object_get(j, "code"), *msg = json_object_get(j, "msg");
	json_t *det = json_object_get(j, "details");

	if (json_is_integer(code) && json_integer_value(code) > 0) {
		cni_fail(err, json_integer_value(code), "ipam %s: %s", type,
			 json_is_string(msg) ? json_string_value(msg) : "failed");
		if (json_is_string(det))
			snprintf(err->details, sizeof(err->details), "%s", json_string_value(det));
	} else {
		cni_fail(err, CNI_ERR_IO, "ipam %s: exited with status %d and no error result", type,
			 status);
	}
	json_decref(j);
	return -1;
}

int ipam_exec(const char *type, const struct cni_env *env, const char *command,
	      const char *conf, size_t conf_len, json_t **result, struct cni_error *err)
{
	char bin[PATH_MAX], *out = NULL, **envp;
	json_error_t jerr;
	int ret;

	if (result)
		*result = NULL;
	if (ipam_exec_find(type, env->path, bin, sizeof(bin), err))
		return -1;
	envp = plugin_env(env, command);
	/* no deadline of ours: the plugin's own (dhcp's tries) is documented */
	signal(SIGPIPE, SIG_IGN);
	ret = envp ? es_exec_io((char *[]){ bin, NULL }, envp, conf, conf_len, 0, &out) : -ENOMEM;
	env_free(envp);
	if (ret < 0) {
		ret = cni_fail(err, CNI_ERR_IO, "ipam %s: cannot run %s: %s", type, bin,
			       strerror(-ret));
		goto out;
	}
	if (ret) {
		ret = plugin_error(type, out, ret, err);
		goto out;
	}
	if (result) {
		*result = json_loads(out, 0, &jerr);
		if (!json_is_object(*result)) {
			json_decref(*result);
			*result = NULL;
			ret = cni_fail(err, CNI_ERR_DECODE, "ipam %s: result is not a JSON object: %s",
				       type, jerr.text);
		}
	}
out:
	free(out);
	return ret;
}
