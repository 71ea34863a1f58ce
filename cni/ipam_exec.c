// SPDX-License-Identifier: GPL-2.0-only
/* Executing an IPAM plugin binary. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "ipam_exec.h"

#define IPAM_OUT_MAX	(1 << 20)

int ipam_exec_find(const char *type, const char *cni_path, char *buf, size_t len,
		   struct cni_error *err)
{
	const char *p = cni_path, *end;

	while (p && *p) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end > p) {
			snprintf(buf, len, "%.*s/%s", (int)(end - p), p, type);
			if (!access(buf, X_OK))
				return 0;
		}
		p = *end ? end + 1 : end;
	}
	return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam.type: plugin \"%s\" not found in CNI_PATH",
			type);
}

/* Feeds stdin and collects stdout without deadlocking on full pipes. */
static int pump(int in_fd, const char *in, size_t in_len, int out_fd, char **out, size_t *out_len)
{
	struct pollfd pfd[2] = { { in_fd, POLLOUT, 0 }, { out_fd, POLLIN, 0 } };
	size_t off = 0, cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	if (!in_len) {
		close(in_fd);
		pfd[0].fd = -1;
	}
	while (pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].fd >= 0 && pfd[0].revents) {
			r = write(in_fd, in + off, in_len - off);
			if (r > 0)
				off += r;
			if (r < 0 || off == in_len) {
				close(in_fd);
				pfd[0].fd = -1;
			}
		}
		if (pfd[1].revents) {
			if (n + 4096 > cap && cap < IPAM_OUT_MAX) {
				char *nb = realloc(buf, cap * 2);

				if (!nb)
					break;
				buf = nb;
				cap *= 2;
			}
			r = read(out_fd, buf + n, cap - n - 1);
			if (r <= 0)
				pfd[1].fd = -1;
			else
				n += r;
		}
	}
	if (pfd[0].fd >= 0)
		close(in_fd);
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

/*
 * CNI_ARGS may carry EDGESHIFT_NETWORK, which the standard plugins do not
 * know and refuse unless told to ignore what they do not know.
 */
static void ignore_unknown_args(void)
{
	const char *args = getenv("CNI_ARGS");
	char *s;

	if (!args || !*args || strstr(args, "IgnoreUnknown="))
		return;
	if (asprintf(&s, "IgnoreUnknown=1;%s", args) > 0)
		setenv("CNI_ARGS", s, 1);
}

/* The child's CNI_* variables: this invocation's, or those of a record (GC). */
static void plugin_env(const struct cni_env *env, const char *command)
{
	static const char *const names[] = { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
					     "CNI_PATH" };
	const char *vals[] = { env->container_id, env->netns, env->ifname, env->path };
	size_t i;

	setenv("CNI_COMMAND", command, 1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (vals[i] && *vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
	ignore_unknown_args();
}

static int run_plugin(const char *bin, const struct cni_env *env, const char *command,
		      const char *conf, size_t conf_len, char **out, size_t *out_len, int *status)
{
	int in[2], outp[2], ret;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(outp, O_CLOEXEC)) {
		ret = -errno;
		close(in[0]);
		close(in[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
		return ret;
	}
	if (!pid) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		plugin_env(env, command);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	signal(SIGPIPE, SIG_IGN);
	ret = pump(in[1], conf, conf_len, outp[0], out, out_len);
	close(outp[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return ret;
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
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	json_decref(j);
	return -1;
}

int ipam_exec(const char *type, const struct cni_env *env, const char *command,
	      const char *conf, size_t conf_len, json_t **result, struct cni_error *err)
{
	char bin[PATH_MAX], *out = NULL;
	json_error_t jerr;
	size_t out_len = 0;
	int status = 0, ret;

	if (result)
		*result = NULL;
	if (ipam_exec_find(type, env->path, bin, sizeof(bin), err))
		return -1;
	ret = run_plugin(bin, env, command, conf, conf_len, &out, &out_len, &status);
	if (ret) {
		cni_fail(err, CNI_ERR_IO, "ipam %s: cannot run %s: %s", type, bin, strerror(-ret));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = plugin_error(type, out, status, err);
		goto out;
	}
	if (result) {
		*result = json_loadb(out, out_len, 0, &jerr);
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
