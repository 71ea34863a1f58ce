// SPDX-License-Identifier: GPL-2.0-only
/* Claims on the devices of a host-device pool. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include "state.h"
#include "devpool.h"
#include "util/fs_util.h"

static void pool_dir(struct cni_ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pool/%s", c->conf.state_dir, c->d->name);
}

static int pool_lock(struct cni_ctx *c)
{
	char dir[PATH_MAX];

	pool_dir(c, dir, sizeof(dir));
	return state_lock(dir);
}

/* Owner of a claim: 1 ours, 0 someone else's, -1 no claim. */
static int claim_owner(struct cni_ctx *c, const char *path)
{
	json_t *j = state_read(path);
	int ours;

	if (!j)
		return access(path, F_OK) ? -1 : 0;
	ours = !strcmp(json_string_value(json_object_get(j, "containerID")) ?: "",
		       c->env.container_id) &&
	       !strcmp(json_string_value(json_object_get(j, "ifname")) ?: "", c->env.ifname);
	json_decref(j);
	return ours;
}

static int write_claim(struct cni_ctx *c, const char *path)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "containerID", c->env.container_id,
			      "ifname", c->env.ifname, "netns", c->env.netns);
	int ret = j ? state_write(path, j) : -ENOMEM;

	json_decref(j);
	return ret;
}

int devpool_claim(struct cni_ctx *c, char dev[IF_NAMESIZE])
{
	char dir[PATH_MAX], path[PATH_MAX + IF_NAMESIZE + 2];
	unsigned int i, busy = 0, absent = 0;
	struct nl_link l;
	int lock, owner, ret = -1;

	lock = pool_lock(c);
	if (lock < 0)
		return cni_fail(&c->err, CNI_ERR_IO, "devices: cannot lock the pool in %s: %s",
				c->conf.state_dir, strerror(-lock));
	pool_dir(c, dir, sizeof(dir));
	for (i = 0; i < c->d->n_pool && ret; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, c->d->pool[i]);
		owner = claim_owner(c, path);
		if (owner == 0) {
			busy++;
			continue;
		}
		if (owner < 0 && nl_link_get(&c->nl, 0, c->d->pool[i], &l)) {
			absent++;
			continue;
		}
		ret = owner < 0 ? write_claim(c, path) : 0;
		/* a stateDir that fails (full, read-only) is no proof the pool is used up */
		if (ret) {
			cni_fail(&c->err, CNI_ERR_IO, "devices: cannot write the claim %s: %s",
				 path, strerror(-ret));
			goto out;
		}
		snprintf(dev, IF_NAMESIZE, "%s", c->d->pool[i]);
	}
	if (ret)
		cni_fail(&c->err, CNI_ERR_NO_FREE_DEVICE,
			 "%s%sdevices: no free device in delegate \"%s\" (%u in use, %u absent of %u)",
			 c->d->field, c->d->field[0] ? "." : "", c->d->name, busy, absent,
			 c->d->n_pool);
out:
	close(lock);
	return ret ? -1 : 0;
}

int devpool_available(struct cni_ctx *c)
{
	char dir[PATH_MAX], path[PATH_MAX + IF_NAMESIZE + 2];
	struct nl_link l;
	unsigned int i;

	pool_dir(c, dir, sizeof(dir));
	for (i = 0; i < c->d->n_pool; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, c->d->pool[i]);
		if (access(path, F_OK) && !nl_link_get(&c->nl, 0, c->d->pool[i], &l))
			return 1;
	}
	return 0;
}

void devpool_release(struct cni_ctx *c)
{
	char dir[PATH_MAX], path[PATH_MAX + IF_NAMESIZE + 2];
	unsigned int i;
	int lock;

	if (!c->d->n_pool)
		return;
	lock = pool_lock(c);
	pool_dir(c, dir, sizeof(dir));
	for (i = 0; i < c->d->n_pool; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, c->d->pool[i]);
		if (claim_owner(c, path) == 1)
			unlink(path);
	}
	if (lock >= 0)
		close(lock);
}
