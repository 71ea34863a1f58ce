// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replica counts over time (advisor_replicas.h). The performance of a
 * count is the median of the newest k samples taken while the block had
 * it: the level the service reached with those replicas, not one noisy
 * interval; a count held for fewer than k samples is no evidence and is
 * left out when the next one begins.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "advisor_replicas.h"

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* The median of the newest k samples at the current count (k <= have). */
static double newest_median(const struct es_replica_track *t, unsigned int k)
{
	double tmp[ES_REPLICA_SAMPLES];
	unsigned int i;

	for (i = 0; i < k; i++)
		tmp[i] = t->v[(t->head + ES_REPLICA_SAMPLES - 1 - i) % ES_REPLICA_SAMPLES];
	qsort(tmp, k, sizeof(*tmp), cmp_double);
	return k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2;
}

static void append(struct es_adv_scaling *h, unsigned int replicas, double perf)
{
	if (h->n == ES_ADV_SCALE_STEPS) {
		memmove(h->step, h->step + 1, (ES_ADV_SCALE_STEPS - 1) * sizeof(h->step[0]));
		h->n--;
	}
	h->step[h->n++] = (struct es_adv_scale_step){ replicas, perf };
}

void es_replica_push(struct es_replica_track *t, unsigned int count, double perf,
		     unsigned int k)
{
	if (count != t->n) {
		if (t->n && t->have >= k)
			append(&t->closed, t->n, newest_median(t, k));
		t->n = count;
		t->have = 0;
		t->head = 0;
		t->ticks = 0;
	}
	if (t->ticks < UINT32_MAX)
		t->ticks++;
	t->v[t->head] = perf;
	t->head = (t->head + 1) % ES_REPLICA_SAMPLES;
	if (t->have < ES_REPLICA_SAMPLES)
		t->have++;
}

void es_replica_history(const struct es_replica_track *t, unsigned int k,
			struct es_adv_scaling *out)
{
	*out = t->closed;
	if (t->n && t->have >= k)
		append(out, t->n, newest_median(t, k));
}
