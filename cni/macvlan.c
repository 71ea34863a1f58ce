// SPDX-License-Identifier: GPL-2.0-only
/*
 * macvlan delegates. The accounting maps are keyed by ifindex, so a pod's
 * macvlan gets a host-unique one (ifindex_pool.h): created straight in the
 * pod under its name with an index from the pool, or, when the pool is
 * empty, created in the host namespace (which allocates a new index) and
 * moved into the pod and renamed in one request, which keeps it. The move
 * costs an RCU grace period (~15 ms here); the pool fills as pods go.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include "netns.h"
#include "cni_conf.h"
#include "cni_ctx.h"
#include "ifindex_pool.h"
#include "promisc.h"
#include "util/clock.h"

#define DELETE_WAIT_MS	2000	/* ADD waiting for a detached DEL of the same name */

static int find_master(struct cni_ctx *c, struct nl_link *m)
{
	int ifindex = 0, ret;

	if (!c->d->master[0]) {
		ret = nl_default_route_oif(&c->nl, &ifindex);
		if (ret)
			return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
					"%s%smaster: not given and there is no default route",
					c->d->field, c->d->field[0] ? "." : "");
	}
	ret = nl_link_get(&c->nl, ifindex, ifindex ? NULL : c->d->master, m);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "%s%smaster: interface \"%s\" %s",
				c->d->field, c->d->field[0] ? "." : "", c->d->master,
				ret == -ENODEV ? "does not exist" : strerror(-ret));
	return 0;
}

static void tmp_name(char *buf, size_t len)
{
	long nsec = es_now_ns() % NSEC_PER_SEC;

	snprintf(buf, len, "esm%08lx", (unsigned long)(nsec ^ (getpid() << 12)) & 0xffffffffUL);
}

/* Index, MTU and MAC of the link in the pod: by index, or by name when ifindex is 0. */
static int read_back(struct cni_ctx *c, int ifindex, const char *name, struct cni_link *out)
{
	struct nl_link l;
	struct nl pod;
	int ret;

	if (cni_pod_nl(c, &pod))
		return -1;
	ret = nl_link_get(&pod, ifindex, ifindex ? NULL : name, &l);
	nl_close(&pod);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "the macvlan vanished from the pod: %s",
				strerror(-ret));
	out->ifindex = l.ifindex;
	out->mtu = l.mtu;
	memcpy(out->mac, l.mac, 6);
	return 0;
}

static int move_into_pod(struct cni_ctx *c, int ifindex, struct cni_link *out)
{
	struct nl_link_change mv = { .name = c->env.ifname, .netns_fd = c->pod_ns };
	int ret;

	ret = nl_link_set(&c->nl, ifindex, &mv);
	if (ret == -EEXIST || ret == -ENOTUNIQ || ret == -EBUSY)
		return cni_fail(&c->err, CNI_ERR_INVALID_ENV,
				"CNI_IFNAME: the pod already has an interface named %s", c->env.ifname);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot move the macvlan into %s: %s",
				c->env.netns, strerror(-ret));
	return read_back(c, 0, c->env.ifname, out);
}

static void used_path(struct cni_ctx *c, int ifindex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/ifindex/used/%d", c->conf.state_dir, ifindex);
}

/*
 * The pod's CNI_IFNAME is taken: if by a macvlan a detached DEL is still
 * deleting (it holds the lock of its index), waits for it. 1 gone, 0 not.
 */
static int wait_detached_del(struct cni_ctx *c)
{
	char path[PATH_MAX];
	struct nl_link l;
	struct nl pod;
	int fd, i, ret;

	if (cni_pod_nl(c, &pod))
		return 0;
	ret = nl_link_get(&pod, 0, c->env.ifname, &l);
	nl_close(&pod);
	if (ret)
		return ret == -ENODEV;
	used_path(c, l.ifindex, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;	/* released: the link is gone */
	for (i = 0; i < DELETE_WAIT_MS / 10; i++) {
		if (!flock(fd, LOCK_SH | LOCK_NB))
			break;
		usleep(10000);
	}
	close(fd);
	return i > 0 && i < DELETE_WAIT_MS / 10;
}

/* Straight into the pod with a pooled index: 1 done, 0 the pool is empty, -1 error. */
static int create_in_pod(struct cni_ctx *c, struct nl_macvlan *mv, struct cni_link *out)
{
	int tries, waited = 0, ifindex, ret;

	for (tries = 0; tries < 8; tries++) {
		if (ifindex_pool_take(c->conf.state_dir, &mv->ifindex))
			return 0;
		ret = nl_macvlan_add(&c->nl, mv, &ifindex);
		if (!ret)
			break;
		if (ret == -EBUSY) {	/* the pod has that index: forget it */
			ifindex_pool_drop(c->conf.state_dir, mv->ifindex);
			continue;
		}
		ifindex_pool_put(c->conf.state_dir, mv->ifindex);
		if (ret == -EEXIST && !waited++ && wait_detached_del(c))
			continue;
		if (ret == -EEXIST || ret == -ENOTUNIQ)
			return cni_fail(&c->err, CNI_ERR_INVALID_ENV,
					"CNI_IFNAME: the pod already has an interface named %s",
					c->env.ifname);
		return cni_fail(&c->err, CNI_ERR_IO, "cannot create a macvlan in %s: %s",
				c->env.netns, strerror(-ret));
	}
	if (tries == 8)
		return 0;
	if (read_back(c, ifindex, NULL, out)) {
		cni_pod_unmove(c, ifindex, NULL);
		ifindex_pool_put(c->conf.state_dir, ifindex);
		return -1;
	}
	return 1;
}

/* Created in the host (a new host index), then moved into the pod. */
static int create_and_move(struct cni_ctx *c, struct nl_macvlan *mv, struct cni_link *out)
{
	char name[IF_NAMESIZE];
	int ifindex, ret;

	if (cni_pod_name_free(c)) {
		if (!wait_detached_del(c))
			return -1;
		memset(&c->err, 0, sizeof(c->err));
	}
	tmp_name(name, sizeof(name));
	mv->name = name;
	mv->netns_fd = 0;
	mv->ifindex = 0;
	ret = nl_macvlan_add(&c->nl, mv, &ifindex);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot create a macvlan: %s", strerror(-ret));
	if (move_into_pod(c, ifindex, out)) {
		if (nl_link_del(&c->nl, ifindex))
			cni_pod_unmove(c, ifindex, NULL);
		return -1;
	}
	ret = ifindex_pool_hold(c->conf.state_dir, ifindex);
	if (ret)
		fprintf(stderr, "edgeshift-cni: ifindex %d not recorded for reuse: %s\n", ifindex,
			strerror(-ret));
	return 0;
}

int macvlan_add(struct cni_ctx *c, struct cni_link *out)
{
	const unsigned char *mac = c->conf.has_runtime_mac ? c->conf.runtime_mac :
				   c->d->has_mac ? c->d->mac : NULL;
	struct nl_macvlan mv;
	struct nl_link m;
	int ret;

	if (find_master(c, &m))
		return -1;
	if (c->d->mtu > m.mtu)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"%s%smtu: %u is larger than the master %s's MTU %u", c->d->field,
				c->d->field[0] ? "." : "", c->d->mtu, m.name, m.mtu);
	if (c->d->promisc && promisc_hold(c, &m))
		return -1;
	mv = (struct nl_macvlan){ .name = c->env.ifname, .master = m.ifindex, .mode = c->d->mode,
				  .mtu = c->d->mtu, .mac = mac, .netns_fd = c->pod_ns };
	ret = create_in_pod(c, &mv, out);
	if (!ret)
		ret = create_and_move(c, &mv, out) ? -1 : 1;
	if (ret < 0)
		promisc_release(c);
	return ret < 0 ? -1 : 0;
}

/*
 * Deletes the pod's macvlan in a detached child: unregistering a netdev
 * waits for RCU grace periods (10-20 ms here), which the runtime need not
 * wait for. The child holds the lock of the index until the link is gone
 * and then returns the index to the pool; an ADD of the same name in the
 * same pod meanwhile waits for it (wait_detached_del).
 */
static int del_detached(struct cni_ctx *c, struct nl *pod, int ifindex)
{
	char path[PATH_MAX];
	int fd, null, ret;
	pid_t pid;

	used_path(c, ifindex, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX))
		goto sync;
	pid = fork();
	if (pid < 0)
		goto sync;
	if (pid > 0) {
		close(fd);
		return 0;
	}
	/* the runtime reads our stdout until EOF: let go of it */
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	setsid();
	/* a link still there keeps its index: only one deleted (or gone) goes back */
	ret = nl_link_del(pod, ifindex);
	if (ret && ret != -ENODEV)
		_exit(1);
	ifindex_pool_put(c->conf.state_dir, ifindex);
	_exit(0);
sync:
	if (fd >= 0)
		close(fd);
	return nl_link_del(pod, ifindex);
}

int macvlan_del(struct cni_ctx *c)
{
	int att_ifindex = json_integer_value(json_object_get(c->att, "ifindex"));
	struct nl_link l;
	struct nl pod;
	int ret;

	promisc_release(c);
	if (c->pod_ns < 0) {
		/* the namespace took the macvlan with it */
		if (att_ifindex > 0)
			ifindex_pool_put(c->conf.state_dir, att_ifindex);
		return 0;
	}
	if (cni_pod_nl(c, &pod))
		return -1;
	ret = nl_link_get(&pod, 0, c->env.ifname, &l);
	if (!ret && !strcmp(l.kind, "macvlan"))
		ret = del_detached(c, &pod, l.ifindex);
	else if (att_ifindex > 0)
		ifindex_pool_put(c->conf.state_dir, att_ifindex);
	nl_close(&pod);
	if (ret && ret != -ENODEV)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot delete %s in the pod: %s", c->env.ifname,
				strerror(-ret));
	return 0;
}

int macvlan_check(struct cni_ctx *c, const struct nl_link *l)
{
	if (strcmp(l->kind, "macvlan"))
		return cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS, "%s is a \"%s\", not a macvlan",
				c->env.ifname, l->kind);
	if (l->macvlan_mode != c->d->mode)
		return cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS, "mode: %s has another macvlan mode",
				c->env.ifname);
	if (c->d->mtu && l->mtu != c->d->mtu)
		return cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS, "mtu: %s has MTU %u, want %u",
				c->env.ifname, l->mtu, c->d->mtu);
	return 0;
}
