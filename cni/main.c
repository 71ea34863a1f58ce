// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift-cni: the CNI plugin. Reads the network configuration on
 * stdin and the CNI_* environment, runs the command, prints the result or
 * the spec's error JSON on stdout. See docs/cni.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "cni_version.h"
#include "cni_result.h"
#include "commands.h"

#define STDIN_MAX	(1 << 20)

static char *read_stdin(size_t *len, struct cni_error *err)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	while (buf) {
		if (n + 1 >= cap) {
			nb = cap < STDIN_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				cni_fail(err, CNI_ERR_IO, "stdin: configuration larger than 1 MiB");
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(0, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			cni_fail(err, CNI_ERR_IO, "stdin: %s", strerror(errno));
			return NULL;
		}
		if (!r)
			break;
		n += r;
	}
	if (!buf) {
		cni_fail(err, CNI_ERR_IO, "out of memory");
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int cmd_version(const char *buf, size_t len)
{
	struct cni_error err = {};
	char ver[32] = "";
	json_t *info;

	if (len)
		cni_conf_version(buf, len, ver, sizeof(ver), &err);
	info = cni_version_info(cni_version_num(ver) >= 0 ? ver : NULL);
	cni_print(info);
	json_decref(info);
	return 0;
}

static int run(struct cni_ctx *c)
{
	int ret;

	if (cni_conf_parse(c->stdin_buf, c->stdin_len, &c->conf, &c->err))
		return -1;
	c->host_ns = netns_current();
	ret = c->host_ns < 0 ? c->host_ns : nl_open(&c->nl);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot open rtnetlink: %s", strerror(-ret));
	switch (c->env.command) {
	case CNI_CMD_ADD:
		return cmd_add(c);
	case CNI_CMD_DEL:
		return cmd_del(c);
	case CNI_CMD_CHECK:
		return cmd_check(c);
	case CNI_CMD_STATUS:
		return cmd_status(c);
	case CNI_CMD_GC:
		return cmd_gc(c);
	default:
		return 0;
	}
}

int main(void)
{
	static struct cni_ctx c;
	char *buf;
	int ret;

	c.host_ns = c.pod_ns = -1;
	buf = NULL;
	ret = cni_env_load(&c.env, &c.err);
	if (!ret && c.env.command == CNI_CMD_VERSION) {
		buf = read_stdin(&c.stdin_len, &c.err);
		ret = cmd_version(buf ? buf : "", buf ? c.stdin_len : 0);
		free(buf);
		return ret;
	}
	if (!ret) {
		buf = read_stdin(&c.stdin_len, &c.err);
		c.stdin_buf = buf;
		ret = buf ? run(&c) : -1;
	}
	if (ret)
		cni_print_error(c.conf.version[0] ? c.conf.version : NULL, &c.err);
	nl_close(&c.nl);
	json_decref(c.att);
	cni_conf_free(&c.conf);
	free(buf);
	return ret ? 1 : 0;
}
