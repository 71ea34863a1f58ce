// SPDX-License-Identifier: GPL-2.0-only
/* Attaching the accounting programs to a pod interface. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <edgeshift/session.h>
#include "netns.h"
#include "state.h"
#include "dataplane.h"

#define ATTACHED_TCX	(1U << 1)
#define ATTACHED_TCI	(1U << 2)

static const struct {
	const char		*prog;
	const char		*link;
	enum bpf_attach_type	type;
} hooks[2] = {
	{ "es_tc_ingress", "tci", BPF_TCX_INGRESS },
	{ "es_tc_egress", "tcx", BPF_TCX_EGRESS },
};

static void link_pin(const struct cni_ctx *c, int k, int ifindex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%s_%d", c->conf.pin_path, hooks[k].link, ifindex);
}

/* Attaches both hooks inside the pod; fills fds, 0 or -errno. */
static int attach_in_pod(struct cni_ctx *c, int ifindex, int prog[2], int link[2])
{
	int k, ret = 0;

	ret = netns_enter(c->pod_ns);
	for (k = 0; k < 2 && !ret; k++) {
		link[k] = bpf_link_create(prog[k], ifindex, hooks[k].type, NULL);
		if (link[k] < 0)
			ret = -errno;
	}
	if (netns_enter(c->host_ns) && !ret)
		ret = -errno;
	return ret;
}

static int pin_links(struct cni_ctx *c, int ifindex, const int link[2])
{
	char path[PATH_MAX];
	int k;

	for (k = 0; k < 2; k++) {
		link_pin(c, k, ifindex, path, sizeof(path));
		if (!access(path, F_OK))
			return -EEXIST;	/* a host interface with the same ifindex */
	}
	for (k = 0; k < 2; k++) {
		link_pin(c, k, ifindex, path, sizeof(path));
		if (bpf_obj_pin(link[k], path))
			return -errno;
	}
	return 0;
}

static void name_iface(struct cni_ctx *c, int ifindex)
{
	struct es_iface_info info = { .ifindex = ifindex, .attached = ATTACHED_TCI | ATTACHED_TCX };
	char path[PATH_MAX];
	__u32 key = ifindex;
	int fd;

	snprintf(path, sizeof(path), "%s/es_ifaces", c->conf.pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	snprintf(info.ifname, sizeof(info.ifname), "%s", c->env.ifname);
	snprintf(info.pod_namespace, sizeof(info.pod_namespace), "%s", c->pod_namespace);
	snprintf(info.pod_name, sizeof(info.pod_name), "%s", c->pod_name);
	bpf_map_update_elem(fd, &key, &info, BPF_ANY);
	close(fd);
}

/* 1 attached, 0 no pinned programs (no agent yet), -errno on failure. */
static int attach(struct cni_ctx *c, int ifindex)
{
	int prog[2] = { -1, -1 }, link[2] = { -1, -1 }, k, ret = 0;
	char path[PATH_MAX];

	for (k = 0; k < 2 && !ret; k++) {
		snprintf(path, sizeof(path), "%s/progs/%s", c->conf.pin_path, hooks[k].prog);
		prog[k] = bpf_obj_get(path);
		if (prog[k] < 0)
			ret = errno == ENOENT ? 1 : -errno;
	}
	if (!ret)
		ret = attach_in_pod(c, ifindex, prog, link);
	if (!ret)
		ret = pin_links(c, ifindex, link);
	if (!ret)
		name_iface(c, ifindex);
	for (k = 0; k < 2; k++) {
		if (prog[k] >= 0)
			close(prog[k]);
		if (link[k] >= 0)
			close(link[k]);	/* pinned links stay attached */
	}
	return ret == 1 ? 0 : ret ? ret : 1;
}

void cni_dataplane_attach(struct cni_ctx *c, const struct cni_link *l)
{
	char path[PATH_MAX];
	json_t *rec;
	int ret = 0;

	if (!c->conf.dataplane)
		return;
	ret = attach(c, l->ifindex);
	if (ret < 0)
		fprintf(stderr, "edgeshift-cni: accounting not attached to %s (ifindex %d): %s\n",
			c->env.ifname, l->ifindex,
			ret == -EEXIST ? "a host interface has the same ifindex" : strerror(-ret));
	rec = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:b}",
			"containerID", c->env.container_id, "ifname", c->env.ifname,
			"netns", c->env.netns, "ifindex", l->ifindex,
			"podNamespace", c->pod_namespace, "podName", c->pod_name,
			"pinPath", c->conf.pin_path, "attached", ret > 0,
			"ifindexCollision", ret == -EEXIST);
	state_pod_path(c->conf.state_dir, c->env.container_id, c->env.ifname, path, sizeof(path));
	if (state_write(path, rec))
		fprintf(stderr, "edgeshift-cni: cannot write the pod record %s\n", path);
	json_decref(rec);
}

void cni_dataplane_detach(struct cni_ctx *c)
{
	char path[PATH_MAX];
	json_t *rec;
	int ifindex, k, fd;
	__u32 key;

	state_pod_path(c->conf.state_dir, c->env.container_id, c->env.ifname, path, sizeof(path));
	rec = state_read(path);
	if (!rec)
		return;
	ifindex = json_integer_value(json_object_get(rec, "ifindex"));
	if (json_is_true(json_object_get(rec, "attached")) && ifindex > 0) {
		for (k = 0; k < 2; k++) {
			char pin[PATH_MAX];

			link_pin(c, k, ifindex, pin, sizeof(pin));
			unlink(pin);
		}
		snprintf(path, sizeof(path), "%s/es_ifaces", c->conf.pin_path);
		fd = bpf_obj_get(path);
		key = ifindex;
		if (fd >= 0)
			bpf_map_delete_elem(fd, &key);
		if (fd >= 0)
			close(fd);
	}
	state_pod_path(c->conf.state_dir, c->env.container_id, c->env.ifname, path, sizeof(path));
	unlink(path);
	json_decref(rec);
}
