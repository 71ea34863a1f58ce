// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift advise --scaled BLOCK=R:P[:W],R:P[:W]...: what scaling a
 * block out did before, the service's performance (in the unit of --perf)
 * at each of its replica counts, oldest first, and optionally the block's
 * own work there (W: the bytes a second its replicas sent on, as the
 * agent measures it from their interfaces). The
 * advisor reads cgroups, not the API server or an autoscaler's log, so the
 * caller says; with it the advice can see Paper E's trap (more replicas
 * of a block stopped helping: neither the performance nor, when every
 * step gives it, the work gained 5 %).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tool/opts.h"
#include "advisor/advisor.h"

/* "R:P[:W],R:P[:W]..." into h (W > 0); -EINVAL on anything else. */
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
		if (end == s || !(st->perf >= 0))
			return -EINVAL;
		if (*end == ':') {
			s = end + 1;
			st->work = strtod(s, &end);
			if (end == s || !(st->work > 0))
				return -EINVAL;
		}
		if (*end && *end != ',')
			return -EINVAL;
		h->n++;
		s = *end ? end + 1 : end;
	}
	return h->n ? 0 : -EINVAL;
}

int advise_block_named(const char *arg, const struct es_adv_block *b, unsigned int nblocks)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;
	unsigned int k;

	for (k = 0; eq && k < nblocks; k++)
		if (strlen(b[k].name) == len && !strncmp(b[k].name, arg, len))
			return (int)k;
	return -1;
}

int advise_scaled(const struct es_opt_multi *m, struct es_adv_block *b, unsigned int nblocks)
{
	unsigned int i;
	int k;

	for (i = 0; i < m->n; i++) {
		k = advise_block_named(m->v[i], b, nblocks);
		if (k < 0 || parse_steps(strchr(m->v[i], '=') + 1, &b[k].scaled)) {
			fprintf(stderr, "edgeshift advise: --scaled %s: want "
				"BLOCK=R:P[:W][,R:P[:W]...] for a --block, up to %d steps\n",
				m->v[i], ES_ADV_SCALE_STEPS);
			return -EINVAL;
		}
	}
	return 0;
}
