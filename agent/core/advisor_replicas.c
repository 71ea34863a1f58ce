// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replica counts over time (advisor_replicas.h). The performance (and
 * the block's work) of a count is the median of the newest k samples
 * taken while the block had it: the level the service reached with those
 * replicas, not one noisy interval. The first sample at a count straddles
 * the change (the replica starting, the front finding it) and is never
 * among them: a count held for k samples or fewer is no evidence and is
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

/*
 * The median of the known values among the newest k samples of ring r at
 * the current count (k <= have); 0 when none is known (a value < 0).
 */
static double newest_median(const struct es_replica_track *t, const double *r, unsigned int k)
{
	double tmp[ES_REPLICA_SAMPLES], x;
	unsigned int i, n = 0;

	for (i = 0; i < k; i++) {
		x = r[(t->head + ES_REPLICA_SAMPLES - 1 - i) % ES_REPLICA_SAMPLES];
		if (x >= 0)
			tmp[n++] = x;
	}
	if (!n)
		return 0;
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void append(struct es_adv_scaling *h, const struct es_replica_track *t, unsigned int k)
{
	if (h->n == ES_ADV_SCALE_STEPS) {
		memmove(h->step, h->step + 1, (ES_ADV_SCALE_STEPS - 1) * sizeof(h->step[0]));
		h->n--;
	}
	h->step[h->n++] = (struct es_adv_scale_step){ t->n, newest_median(t, t->v, k),
						      newest_median(t, t->w, k) };
}

void es_replica_push(struct es_replica_track *t, unsigned int count, double perf, double work,
		     unsigned int k)
{
	if (count != t->n) {
		if (t->n && t->have > k)
			append(&t->closed, t, k);
		t->n = count;
		t->have = 0;
		t->head = 0;
		t->ticks = 0;
	}
	if (t->ticks < UINT32_MAX)
		t->ticks++;
	t->v[t->head] = perf;
	t->w[t->head] = work;
	t->head = (t->head + 1) % ES_REPLICA_SAMPLES;
	if (t->have < ES_REPLICA_SAMPLES)
		t->have++;
}

void es_replica_history(const struct es_replica_track *t, unsigned int k,
			struct es_adv_scaling *out)
{
	*out = t->closed;
	if (t->n && t->have > k)
		append(out, t, k);
}
