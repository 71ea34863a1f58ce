// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift advise --scaled BLOCK=R:P,R:P...: what scaling a block out
 * did before, the service's performance (in the unit of --perf) at each
 * of its replica counts, oldest first. The advisor reads cgroups, not the
 * API server or an autoscaler's log, so the caller says; with it the
 * advice can see Paper E's trap (more replicas of a block stopped helping).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tool/opts.h"
#include "advisor/advisor.h"

/* "R:P,R:P..." into h; -EINVAL on anything else. */
static int parse_steps(const char *s, struct es_adv_scaling *h)
{
	char *end;

	memset(h, 0, sizeof(*h));
	while (*s) {
		struct es_adv_scale_step *st = &h->step[h->n];
		unsigned long r = strtoul(s, &end, 10);

		if (h->n == ES_ADV_SCALE_STEPS || end == s || *end != ':' || r < 1 || r > 100000)
			return -EINVAL;
		st->replicas = (unsigned int)r;
		s = end + 1;
		st->perf = strtod(s, &end);
		if (end == s || (*end && *end != ',') || !(st->perf >= 0))
			return -EINVAL;
		h->n++;
		s = *end ? end + 1 : end;
	}
	return h->n ? 0 : -EINVAL;
}

int advise_scaled(const struct es_opt_multi *m, struct es_adv_block *b, unsigned int nblocks)
{
	unsigned int i, k;

	for (i = 0; i < m->n; i++) {
		const char *eq = strchr(m->v[i], '=');
		size_t len = eq ? (size_t)(eq - m->v[i]) : 0;

		for (k = 0; eq && k < nblocks; k++)
			if (strlen(b[k].name) == len && !strncmp(b[k].name, m->v[i], len))
				break;
		if (!eq || k == nblocks || parse_steps(eq + 1, &b[k].scaled)) {
			fprintf(stderr, "edgeshift advise: --scaled %s: want BLOCK=R:P[,R:P...] "
				"for a --block, up to %d steps\n", m->v[i], ES_ADV_SCALE_STEPS);
			return -EINVAL;
		}
	}
	return 0;
}
