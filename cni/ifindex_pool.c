// SPDX-License-Identifier: GPL-2.0-only
/* The pool of host-unique ifindexes for pod macvlans (ifindex_pool.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <net/if.h>
#include "state.h"
#include "ifindex_pool.h"
#include "util/fs_util.h"

static void entry(const char *state_dir, const char *which, int ifindex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/ifindex/%s/%d", state_dir, which, ifindex);
}

/* Takes n if it is still free and no host link has it (1), else 0. */
static int try_take(const char *state_dir, int n)
{
	char from[PATH_MAX], to[PATH_MAX], name[IF_NAMESIZE];

	entry(state_dir, "free", n, from, sizeof(from));
	entry(state_dir, "used", n, to, sizeof(to));
	if (rename(from, to))
		return 0;	/* another plugin took it */
	if (if_indextoname(n, name)) {
		unlink(to);	/* created on the host with an explicit index */
		return 0;
	}
	return 1;
}

int ifindex_pool_take(const char *state_dir, int *ifindex)
{
	char dir[PATH_MAX];
	struct dirent *e;
	int ret = -ENOENT;
	long n;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/ifindex/free", state_dir);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while (ret && (e = readdir(d))) {
		n = strtol(e->d_name, NULL, 10);
		if (n > 1 && n < INT_MAX && try_take(state_dir, n)) {
			*ifindex = n;
			ret = 0;
		}
	}
	closedir(d);
	return ret;
}

int ifindex_pool_hold(const char *state_dir, int ifindex)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/ifindex/used", state_dir);
	ret = es_mkdir_p(path, 0700);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/ifindex/free", state_dir);
	ret = es_mkdir_p(path, 0700);
	if (ret)
		return ret;
	entry(state_dir, "used", ifindex, path, sizeof(path));
	return state_touch(path);
}

void ifindex_pool_put(const char *state_dir, int ifindex)
{
	char from[PATH_MAX], to[PATH_MAX];

	entry(state_dir, "used", ifindex, from, sizeof(from));
	entry(state_dir, "free", ifindex, to, sizeof(to));
	rename(from, to);
}

void ifindex_pool_drop(const char *state_dir, int ifindex)
{
	char path[PATH_MAX];

	entry(state_dir, "used", ifindex, path, sizeof(path));
	unlink(path);
}
