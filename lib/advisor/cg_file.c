// SPDX-License-Identifier: GPL-2.0-only
/* A block's cgroup files by name (cg_file.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include "advisor/cg_file.h"
#include "util/fs_util.h"

#define FILE_MAX	65536

int es_adv_cg_path(char *buf, size_t len, const char *root, const char *ctl, const char *rel,
		   const char *file)
{
	int n = snprintf(buf, len, "%s%s%s/%s/%s", root, ctl ? "/" : "", ctl ?: "", rel, file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

char *es_adv_cg_read(const char *root, const char *ctl, const char *rel, const char *file)
{
	char path[PATH_MAX];

	if (es_adv_cg_path(path, sizeof(path), root, ctl, rel, file)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return es_read_file(path, FILE_MAX, NULL);
}
