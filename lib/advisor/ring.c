// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bounded ring of one series: the newest samples win, so the advisor's
 * memory does not grow with the agent's uptime.
 */
#include "advisor/advisor.h"

void es_adv_ring_push(struct es_adv_ring *r, double v)
{
	r->v[r->head] = v;
	r->head = (r->head + 1) % ES_ADV_RING_LEN;
	if (r->n < ES_ADV_RING_LEN)
		r->n++;
}

size_t es_adv_ring_last(const struct es_adv_ring *r, double *out, size_t want)
{
	size_t n = want < r->n ? want : r->n, i;
	unsigned int start = (r->head + ES_ADV_RING_LEN - n) % ES_ADV_RING_LEN;

	for (i = 0; i < n; i++)
		out[i] = r->v[(start + i) % ES_ADV_RING_LEN];
	return n;
}
