// SPDX-License-Identifier: GPL-2.0-only
/* Holds on a macvlan master's promiscuous mode. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include "promisc.h"
#include "state.h"

#define OURS	".set-by-edgeshift"	/* the master was not promiscuous before */

static int hold_dir(struct cni_ctx *c, const char *master, char *dir, size_t len)
{
	snprintf(dir, len, "%s/promisc/%s", c->conf.state_dir, master);
	return state_lock(dir);
}

int promisc_hold(struct cni_ctx *c, const struct nl_link *m)
{
	struct nl_link_change on = { .promisc = 1 };
	char dir[PATH_MAX], path[PATH_MAX * 2];
	int lock, ret = 0;

	lock = hold_dir(c, m->name, dir, sizeof(dir));
	if (lock < 0)
		return cni_fail(&c->err, CNI_ERR_IO, "promiscMode: cannot lock %s: %s", dir,
				strerror(-lock));
	snprintf(path, sizeof(path), "%s/%.128s-%s", dir, c->env.container_id, c->env.ifname);
	ret = state_touch(path);
	if (!ret && !(m->flags & IFF_PROMISC)) {
		ret = nl_link_set(&c->nl, m->ifindex, &on);
		snprintf(path, sizeof(path), "%s/" OURS, dir);
		if (!ret)
			state_touch(path);
	}
	close(lock);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "promiscMode: cannot set %s promiscuous: %s",
				m->name, strerror(-ret));
	json_object_set_new(c->att, "promiscMaster", json_string(m->name));
	return 0;
}

/* Any hold left besides the lock and the marker? */
static int held(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

void promisc_release(struct cni_ctx *c)
{
	const char *master = json_string_value(json_object_get(c->att, "promiscMaster"));
	struct nl_link_change off = { .promisc = -1 };
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct nl_link m;
	int lock;

	if (!master)
		return;
	lock = hold_dir(c, master, dir, sizeof(dir));
	if (lock < 0)
		return;
	snprintf(path, sizeof(path), "%s/%.128s-%s", dir, c->env.container_id, c->env.ifname);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" OURS, dir);
	if (!held(dir) && !access(path, F_OK) && !nl_link_get(&c->nl, 0, master, &m) &&
	    !nl_link_set(&c->nl, m.ifindex, &off))
		unlink(path);
	close(lock);
}
