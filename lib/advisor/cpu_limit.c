// SPDX-License-Identifier: GPL-2.0-only
/*
 * A block's CPU limit, its CFS quota in cores: what a scale-in is judged
 * against (docs/scale-advisor.md, "Scale in"), as an HPA judges CPU
 * against a pod's request. Kubernetes writes a container's CPU limit as
 * this quota; runc's --cpu-quota and --cpu-period set it too. Read every
 * tick: `runc update` or a resized pod changes it under a running block.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advisor/advisor.h"
#include "advisor/cg_file.h"

/* v2 cpu.max: "QUOTA PERIOD" in us, QUOTA "max" for none. */
static double limit_v2(const char *root, const char *rel)
{
	char *s = es_adv_cg_read(root, NULL, rel, "cpu.max");
	double quota, period, cores = 0;

	if (s && strncmp(s, "max", 3) && sscanf(s, "%lf %lf", &quota, &period) == 2 &&
	    quota > 0 && period > 0)
		cores = quota / period;
	free(s);
	return cores;
}

/* v1 cpu.cfs_quota_us (-1 for none) over cpu.cfs_period_us. */
static double limit_v1(const char *root, const char *rel)
{
	char *q = es_adv_cg_read(root, "cpu", rel, "cpu.cfs_quota_us");
	char *p = es_adv_cg_read(root, "cpu", rel, "cpu.cfs_period_us");
	double quota = q ? strtod(q, NULL) : -1, period = p ? strtod(p, NULL) : 0;

	free(q);
	free(p);
	return quota > 0 && period > 0 ? quota / period : 0;
}

double es_adv_cpu_limit(const struct es_adv_block *b, const char *root)
{
	root = root ?: ES_ADV_CG_ROOT;
	return b->v2 ? limit_v2(root, b->cgroup) : limit_v1(root, b->cgroup);
}
