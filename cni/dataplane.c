// SPDX-License-Identifier: GPL-2.0-only
/* Attaching the accounting programs to a pod interface. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * The attach in flight. A tcx attach waits for an RCU grace period under
 * the RTNL (10 ms here, twice per pod), so it runs in a thread of its own
 * from the moment the link exists, while IPAM runs; the thread enters the
 * pod namespace itself and the plugin's never changes.
 */
struct cni_hook {
	pthread_t	thread;
	bool		threaded;
	int		pod_ns;
	int		ifindex;
	int		prog[2];
	int		link[2];
	int		ret;	/* 0 attached, -errno */
};

static void *attach_in_pod(void *arg)
{
	struct cni_hook *h = arg;
	int k;

	h->ret = netns_enter(h->pod_ns);
	for (k = 0; k < 2 && !h->ret; k++) {
		h->link[k] = bpf_link_create(h->prog[k], h->ifindex, hooks[k].type, NULL);
		if (h->link[k] < 0)
			h->ret = -errno;
	}
	return NULL;
}

static void hook_free(struct cni_hook *h)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (h->prog[k] >= 0)
			close(h->prog[k]);
		if (h->link[k] >= 0)
			close(h->link[k]);	/* pinned links stay attached */
	}
	free(h);
}

/* 0 pins free, -EEXIST: a host interface has the ifindex (and its links). */
static int pins_free(const struct cni_ctx *c, int ifindex)
{
	char path[PATH_MAX];
	int k;

	for (k = 0; k < 2; k++) {
		link_pin(c, k, ifindex, path, sizeof(path));
		if (!access(path, F_OK))
			return -EEXIST;
	}
	return 0;
}

/* NULL when the agent has pinned no programs, or the attach cannot run. */
static struct cni_hook *hook_start(struct cni_ctx *c, int ifindex)
{
	struct cni_hook *h = calloc(1, sizeof(*h));
	char path[PATH_MAX];
	int k;

	if (!h)
		return NULL;
	h->prog[0] = h->prog[1] = h->link[0] = h->link[1] = -1;
	h->pod_ns = c->pod_ns;
	h->ifindex = ifindex;
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/progs/%s", c->conf.pin_path, hooks[k].prog);
		h->prog[k] = bpf_obj_get(path);
		if (h->prog[k] < 0) {
			hook_free(h);
			return NULL;
		}
	}
	h->threaded = !pthread_create(&h->thread, NULL, attach_in_pod, h);
	if (!h->threaded) {
		attach_in_pod(h);
		if (netns_enter(c->host_ns) && !h->ret)
			h->ret = -errno;
	}
	return h;
}

static int hook_wait(struct cni_hook *h)
{
	if (h->threaded)
		pthread_join(h->thread, NULL);
	h->threaded = false;
	return h->ret;
}

static int pin_links(struct cni_ctx *c, int ifindex, const int link[2])
{
	char path[PATH_MAX];
	int k, ret;

	for (k = 0; k < 2; k++) {
		link_pin(c, k, ifindex, path, sizeof(path));
		if (!bpf_obj_pin(link[k], path))
			continue;
		ret = -errno;
		while (k-- > 0) {
			link_pin(c, k, ifindex, path, sizeof(path));
			unlink(path);
		}
		return ret;
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

void cni_dataplane_start(struct cni_ctx *c, const struct cni_link *l)
{
	if (!c->conf.dataplane || c->hook)
		return;
	c->hook_ret = pins_free(c, l->ifindex);
	if (!c->hook_ret)
		c->hook = hook_start(c, l->ifindex);
}

void cni_dataplane_wait(struct cni_ctx *c)
{
	if (c->hook)
		hook_wait(c->hook);
}

void cni_dataplane_abort(struct cni_ctx *c)
{
	if (!c->hook)
		return;
	hook_wait(c->hook);
	hook_free(c->hook);
	c->hook = NULL;
}

/* 1 attached, 0 no pinned programs (no agent yet), -errno on failure. */
static int attach(struct cni_ctx *c, int ifindex)
{
	int ret = c->hook_ret;

	if (!ret && c->hook) {
		ret = hook_wait(c->hook);
		if (!ret)
			ret = pin_links(c, ifindex, c->hook->link);
		if (!ret)
			name_iface(c, ifindex);
		ret = ret ? ret : 1;
	}
	cni_dataplane_abort(c);
	return ret;
}

/* What attach() did: the two pins and the interface's names in es_ifaces. */
static void unpin(struct cni_ctx *c, int ifindex)
{
	char path[PATH_MAX];
	__u32 key = ifindex;
	int k, fd;

	for (k = 0; k < 2; k++) {
		link_pin(c, k, ifindex, path, sizeof(path));
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/es_ifaces", c->conf.pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	bpf_map_delete_elem(fd, &key);
	close(fd);
}

int cni_dataplane_attach(struct cni_ctx *c, const struct cni_link *l)
{
	char path[PATH_MAX];
	json_t *rec;
	int ret = 0, wr;

	if (!c->conf.dataplane)
		return 0;
	cni_dataplane_start(c, l);
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
	wr = rec ? state_write(path, rec) : -ENOMEM;
	json_decref(rec);
	if (!wr)
		return 0;
	/* without the record no DEL finds the pins, and the agent never learns of them */
	if (ret > 0)
		unpin(c, l->ifindex);
	return cni_fail(&c->err, CNI_ERR_IO, "stateDir: cannot write the pod record %s: %s",
			path, strerror(-wr));
}

void cni_dataplane_detach(struct cni_ctx *c)
{
	char path[PATH_MAX];
	json_t *rec;
	int ifindex;

	state_pod_path(c->conf.state_dir, c->env.container_id, c->env.ifname, path, sizeof(path));
	rec = state_read(path);
	if (!rec)
		return;
	ifindex = json_integer_value(json_object_get(rec, "ifindex"));
	if (json_is_true(json_object_get(rec, "attached")) && ifindex > 0)
		unpin(c, ifindex);
	json_decref(rec);
}

void cni_dataplane_forget(struct cni_ctx *c)
{
	char path[PATH_MAX];

	state_pod_path(c->conf.state_dir, c->env.container_id, c->env.ifname, path, sizeof(path));
	unlink(path);
}
