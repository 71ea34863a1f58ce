// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pressure stall information of a block's v2 cgroup (cpu.pressure,
 * memory.pressure, io.pressure; Documentation/accounting/psi.rst): the
 * time at least one of its tasks was stalled on a CPU, on memory, on
 * block I/O. A stall is a limit being hit seen from the block's side,
 * whatever the limit: unlike delay accounting it needs no sysctl, and
 * unlike the refaults it counts the wait, not the pages. v2 nodes have
 * the files in every cgroup. A hybrid node (v1 controllers) keeps them
 * in its unified/ tree, whose cgroups a process joins beside its v1 ones
 * (runc and systemd do): the block's cgroup path is looked up there too.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advisor/advisor.h"
#include "advisor/cg_file.h"

/* v2's own files, or the same path under a hybrid node's unified/ tree. */
static const char *psi_tree(const struct es_adv_block *b)
{
	return b->psi == ES_ADV_PSI_HYBRID ? "unified" : NULL;
}

void es_adv_psi_find(struct es_adv_block *b, const char *root)
{
	char path[PATH_MAX];

	root = root ?: ES_ADV_CG_ROOT;
	b->psi = b->v2 ? ES_ADV_PSI_V2 : ES_ADV_PSI_HYBRID;
	if (es_adv_cg_path(path, sizeof(path), root, psi_tree(b), b->cgroup, "cpu.pressure") ||
	    access(path, R_OK))
		b->psi = ES_ADV_PSI_NONE;
}

/* The "some" line's total=, in us; 0 when the file or the key is missing. */
static uint64_t some_total(const struct es_adv_block *b, const char *root, const char *file)
{
	char *s = es_adv_cg_read(root, psi_tree(b), b->cgroup, file), *p;
	uint64_t v = 0;

	if (s && !strncmp(s, "some ", 5) && (p = strstr(s, " total=")) &&
	    (!strchr(s, '\n') || p < strchr(s, '\n')))
		v = strtoull(p + 7, NULL, 10);
	free(s);
	return v;
}

/* Called by es_adv_block_read, root already defaulted. */
void es_adv_psi_read(const struct es_adv_block *b, const char *root, struct es_adv_raw *raw)
{
	if (b->psi == ES_ADV_PSI_NONE)
		return;
	raw->psi_cpu_us = some_total(b, root, "cpu.pressure");
	raw->psi_memory_us = some_total(b, root, "memory.pressure");
	raw->psi_io_us = some_total(b, root, "io.pressure");
}
