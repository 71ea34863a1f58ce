// SPDX-License-Identifier: GPL-2.0-only
/*
 * Paper E's own trap: in its tests the throughput fell from the fourth
 * logic container on one database. The block whose resources track the
 * worsening is then not the block more replicas help: its replicas
 * contend for what they share. When the block the ranking would scale
 * out was scaled out last time and that did not make the service better,
 * the advice holds it and points at the shared dependency instead.
 */
#include <stdio.h>
#include "advisor/advisor.h"
#include "advisor/say.h"
#include "advisor/trap.h"

/* How much better the last scale-out made the service; < 0: worse. */
static double last_gain(const struct es_adv_scaling *h, enum es_adv_perf_kind kind)
{
	const struct es_adv_scale_step *a = &h->step[h->n - 2], *b = &h->step[h->n - 1];

	if (a->perf <= 0)
		return 0;
	return kind == ES_ADV_PERF_LATENCY ? (a->perf - b->perf) / a->perf
					   : (b->perf - a->perf) / a->perf;
}

bool es_adv_stopped_helping(const struct es_adv_scaling *h, enum es_adv_perf_kind kind,
			    double *gain)
{
	if (h->n < 2 || h->step[h->n - 1].replicas <= h->step[h->n - 2].replicas)
		return false;
	*gain = last_gain(h, kind);
	return *gain < ES_ADV_MIN_GAIN;
}

/* The nearest other block one of whose resources moved with the change; -1: none. */
static int dependency(const struct es_adv_result *res)
{
	unsigned int i;

	for (i = 1; i < res->nblocks; i++)
		if (res->scores[i].res >= 0)
			return (int)i;
	return -1;
}

int es_adv_trap(const struct es_adv_block *blocks, const struct es_adv_perf_desc *d,
		struct es_adv_result *res, const char *words)
{
	const struct es_adv_block *b = &blocks[res->scores[0].block];
	const struct es_adv_scaling *h = &b->scaled;
	const struct es_adv_scale_step *from, *to;
	struct es_adv_reco *r = &res->reco[0];
	char dep[160];
	double gain;
	int i;

	if (!es_adv_stopped_helping(h, d->kind, &gain))
		return 0;
	from = &h->step[h->n - 2];
	to = &h->step[h->n - 1];
	i = dependency(res);
	res->trap = true;
	res->dependency = i;
	if (i >= 0)
		snprintf(dep, sizeof(dep), "look at %s, which its replicas share (its %s series "
			 "tracks %s, r = %.2f)", blocks[res->scores[i].block].name,
			 es_adv_res_name(res->scores[i].res), words, res->scores[i].r);
	else
		snprintf(dep, sizeof(dep), "what its replicas share is not among these blocks "
			 "(a database, a lock, a link not listed)");
	r->action = ES_ADV_HOLD;
	es_adv_say(r, "%s: adding replicas stopped helping (%u to %u "
		 "replicas: performance %.6g to %.6g, %+.0f %%); %s", b->name, from->replicas,
		 to->replicas, from->perf, to->perf, 100 * gain, dep);
	return 1;
}
