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

/*
 * How much more the block's replicas sent on after the last scale-out; 0
 * when a step does not know. Why it counts beside the service's
 * performance: under an open-loop overload the requests queued before
 * the scale-out are still ahead, and the latency keeps rising for seconds
 * after a replica that helps was added (agent_advice.sh without its
 * contention: 51 to 442 ms and 169 to 946 ms in two runs, while the
 * block's pods sent 44 % and 92 % more). What the block gets done changes
 * at once; Paper E compared throughputs too.
 */
static double work_gain(const struct es_adv_scaling *h)
{
	const struct es_adv_scale_step *a = &h->step[h->n - 2], *b = &h->step[h->n - 1];

	return a->work > 0 && b->work > 0 ? (b->work - a->work) / a->work : 0;
}

bool es_adv_stopped_helping(const struct es_adv_scaling *h, enum es_adv_perf_kind kind,
			    double *gain)
{
	if (h->n < 2 || h->step[h->n - 1].replicas <= h->step[h->n - 2].replicas)
		return false;
	*gain = last_gain(h, kind);
	return *gain < ES_ADV_MIN_GAIN && work_gain(h) < ES_ADV_MIN_GAIN;
}

/*
 * "adding replicas stopped helping (1 to 2 replicas: performance P to P',
 * G %; its replicas sent W to W' KiB/s, G' %)", the work when both steps
 * know it: the words of a trap and of a held block's note.
 */
static void say_stopped(char *buf, size_t len, const struct es_adv_scaling *h, double gain)
{
	const struct es_adv_scale_step *a = &h->step[h->n - 2], *b = &h->step[h->n - 1];
	char work[96] = "";

	if (a->work > 0 && b->work > 0)
		snprintf(work, sizeof(work), "; its replicas sent %.0f to %.0f KiB/s, %+.0f %%",
			 a->work / 1024, b->work / 1024, 100 * work_gain(h));
	snprintf(buf, len, "adding replicas stopped helping (%u to %u replicas: performance "
		 "%.6g to %.6g, %+.0f %%%s)", a->replicas, b->replicas, a->perf, b->perf,
		 100 * gain, work);
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
	struct es_adv_reco *r = &res->reco[0];
	char dep[160], stopped[192];
	double gain;
	int i;

	if (!es_adv_stopped_helping(h, d->kind, &gain))
		return 0;
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
	say_stopped(stopped, sizeof(stopped), h, gain);
	es_adv_say(r, "%s: %s; %s", b->name, stopped, dep);
	return 1;
}

/*
 * A block whose last scale-out stopped helping but that the ranking does
 * not put first (the shared dependency it loaded now tracks the change
 * better, as when db's own limit binds once two logic replicas contend
 * for it): its hold says so too, before the ranking's words, so that the
 * answer tells why the block scaled out last is not scaled out again.
 */
void es_adv_trap_note(const struct es_adv_block *blocks, const struct es_adv_perf_desc *d,
		      struct es_adv_result *res)
{
	char was[ES_ADV_REASON_LEN], stopped[192];
	unsigned int i;
	double gain;

	for (i = res->trap ? 1 : 0; i < res->nblocks; i++) {
		const struct es_adv_scaling *h = &blocks[res->scores[i].block].scaled;
		struct es_adv_reco *r = &res->reco[i];

		if (r->action != ES_ADV_HOLD || !es_adv_stopped_helping(h, d->kind, &gain))
			continue;
		snprintf(was, sizeof(was), "%s", r->reason);
		say_stopped(stopped, sizeof(stopped), h, gain);
		es_adv_say(r, "%s; %s", stopped, was);
	}
}
