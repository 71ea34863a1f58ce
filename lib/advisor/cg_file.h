/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A block's cgroup files (lib/advisor/cgroup.c), shared by the readers of
 * its counters, its CPU limit (cpu_limit.c) and its PSI (psi.c): one way
 * to name ROOT[/CTL]/REL/FILE, CTL a v1 controller, "unified" for a
 * hybrid node's v2 tree, or NULL in a v2 layout.
 */
#ifndef EDGESHIFT_ADVISOR_CG_FILE_H
#define EDGESHIFT_ADVISOR_CG_FILE_H

#include <stddef.h>

#define ES_ADV_CG_ROOT	"/sys/fs/cgroup"

/* 0, or -ENAMETOOLONG when the path does not fit in len. */
int es_adv_cg_path(char *buf, size_t len, const char *root, const char *ctl, const char *rel,
		   const char *file);
/* The file's content (at most 64 KiB), or NULL with errno set. */
char *es_adv_cg_read(const char *root, const char *ctl, const char *rel, const char *file);

#endif
