// SPDX-License-Identifier: GPL-2.0-only
/*
 * The node's network namespace, held at STATE/netns by a bind mount.
 *
 * runc records the namespace path of a container's config and stats it
 * again at every checkpoint (CRIU names the external netns by its inode)
 * and restore. A path under /proc/AGENT_PID dies with the agent process, so
 * a container started by an earlier agent could never be checkpointed
 * again. The bind mount outlives the agent: the next one adopts it when it
 * holds the same namespace, and makes it again when it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "util/fs_util.h"
#include "util/log.h"
#include "container.h"

#define SELF_NETNS	"/proc/self/ns/net"

/* Two threads may need it at once (a restore and a checkpoint). */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;

void es_node_netns_path(const char *state_dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/netns", state_dir);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int bind_self(const char *path)
{
	int fd;

	/* a stale mount (another namespace) goes first; none is fine */
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return -errno;
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	close(fd);
	return mount(SELF_NETNS, path, NULL, MS_BIND, NULL) ? -errno : 0;
}

int es_node_netns_hold(const struct es_runtime *rt, char *path, size_t len, char *err,
		       size_t err_len)
{
	struct stat self, held;
	int ret = 0;

	es_node_netns_path(rt->cfg->state_dir, path, len);
	pthread_mutex_lock(&hold_lock);
	if (stat(SELF_NETNS, &self)) {
		ret = -errno;
		goto out;
	}
	if (!stat(path, &held) && same_file(&self, &held))
		goto out;	/* held by an earlier agent of this node: adopted */
	ret = bind_self(path);
	if (!ret)
		es_info("node_netns_held", "path=%s", path);
out:
	pthread_mutex_unlock(&hold_lock);
	if (ret && err)
		snprintf(err, err_len, "holding the node's netns at %s: %s", path, strerror(-ret));
	return ret;
}

int es_node_netns_release(const char *state_dir)
{
	char path[ES_PATH];

	es_node_netns_path(state_dir, path, sizeof(path));
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}
