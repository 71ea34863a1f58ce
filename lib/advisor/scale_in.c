// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scale-in: which block has a replica more than its load needs. The rule
 * (docs/scale-advisor.md, "Scale in") is the scale-out's mirror, with the
 * caution of an HPA's scale-down: judged only over a window in which the
 * service did not get worse and the block's replica count held, never
 * while any of its limits was hit, and against its CPU limit with the
 * window's busiest interval, not its mean, spread over one replica fewer.
 * This block's cgroup is one replica; the load is taken to spread evenly
 * over them, as a Service spreads its connections.
 */
#include <math.h>
#include <string.h>
#include "advisor/advisor.h"
#include "advisor/say.h"

/* A limit counts as hit over the window from these means on. */
#define THROTTLED_MIN	0.01	/* of the window held back by the quota */
#define IOWAIT_MIN	0.05	/* of the window waiting for block I/O, or stalled
				 * on memory or I/O (PSI) */
#define RECLAIM_MIN	1.0	/* pages a second faulted back in */
#define NET_EVENTS_MIN	1.0	/* packets a second held back or dropped */
#define RATE_USED_MAX	0.5	/* of its link's rate, at the busiest */

struct window {
	double	mean[ES_ADV_NRES];
	double	max[ES_ADV_NRES];
};

/* The block's series over the newest n samples; false when it holds fewer. */
static bool window_of(const struct es_adv_block *b, size_t n, struct window *w)
{
	double v[ES_ADV_RING_LEN];
	size_t i;
	int r;

	for (r = 0; r < ES_ADV_NRES; r++) {
		if (es_adv_ring_last(&b->res[r], v, n) < n)
			return false;
		w->mean[r] = 0;
		w->max[r] = v[0];
		for (i = 0; i < n; i++) {
			w->mean[r] += v[i] / n;
			w->max[r] = fmax(w->max[r], v[i]);
		}
	}
	return true;
}

/* The first limit the block hit over the window, in words; false for none. */
static bool limit_hit(const struct es_adv_block *b, const struct window *w,
		      struct es_adv_reco *reco)
{
	const double *m = w->mean;

	if (m[ES_ADV_THROTTLED] >= THROTTLED_MIN)
		es_adv_say(reco, "%s: CPU throttled %.0f %% of the window: no replica to spare",
			   b->name, 100 * m[ES_ADV_THROTTLED]);
	else if (m[ES_ADV_RECLAIM] >= RECLAIM_MIN)
		es_adv_say(reco, "%s: memory reclaimed under its limit (%.0f pages a second "
			   "faulted back in): no replica to spare", b->name, m[ES_ADV_RECLAIM]);
	else if (m[ES_ADV_IOWAIT] >= IOWAIT_MIN || m[ES_ADV_IO_PRESSURE] >= IOWAIT_MIN)
		es_adv_say(reco, "%s: waited for block I/O %.0f %% of the window: no replica "
			   "to spare", b->name,
			   100 * fmax(m[ES_ADV_IOWAIT], m[ES_ADV_IO_PRESSURE]));
	else if (m[ES_ADV_MEMORY_PRESSURE] >= IOWAIT_MIN)
		es_adv_say(reco, "%s: stalled on memory %.0f %% of the window: no replica to "
			   "spare", b->name, 100 * m[ES_ADV_MEMORY_PRESSURE]);
	else if (m[ES_ADV_NET_LIMITED] >= NET_EVENTS_MIN || m[ES_ADV_NET_DROPS] >= NET_EVENTS_MIN ||
		 w->max[ES_ADV_NET_RATE_USED] >= RATE_USED_MAX)
		es_adv_say(reco, "%s: its link %s is near or at its rate (%.0f %% used at the "
			   "busiest): no replica to spare", b->name, b->link,
			   100 * w->max[ES_ADV_NET_RATE_USED]);
	else
		return false;
	return true;
}

/* One block of 2 or more replicas over a window the service held steady in. */
static void judge(const struct es_adv_block *b, size_t n, struct es_adv_scale_in *in)
{
	struct es_adv_reco *reco = &in->reco;
	unsigned int k = b->replicas;
	struct window w;

	reco->action = ES_ADV_HOLD;
	reco->confidence = 1;
	if (!b->replicas_steady) {
		es_adv_say(reco, "%s: its replica count changed within the window", b->name);
		return;
	}
	if (!window_of(b, n, &w)) {
		es_adv_say(reco, "%s: fewer samples than the window", b->name);
		return;
	}
	if (limit_hit(b, &w, reco))
		return;
	if (b->last.cpu_limit <= 0) {
		es_adv_say(reco, "%s: no CPU limit to judge its headroom against", b->name);
		return;
	}
	in->load = w.max[ES_ADV_CPU] * k / (k - 1) / b->last.cpu_limit;
	if (in->load > ES_ADV_SCALE_IN_TARGET) {
		es_adv_say(reco, "%s: at %u replica%s its busiest interval would use %.0f %% of "
			   "its %.2f-core CPU limit, above %.0f %%", b->name, k - 1, k > 2 ? "s" : "",
			   100 * in->load, b->last.cpu_limit, 100 * ES_ADV_SCALE_IN_TARGET);
		return;
	}
	reco->action = ES_ADV_SCALE_IN;
	/* Sure when idle, a coin toss at the target. */
	reco->confidence = fmax(0, 1 - in->load / ES_ADV_SCALE_IN_TARGET);
	es_adv_say(reco, "%s: %u replicas, each at most %.2f cores of its %.2f-core CPU limit "
		   "and no limit hit over the window: %u would use %.0f %% at the busiest "
		   "(at most %.0f %%)", b->name, k, w.max[ES_ADV_CPU], b->last.cpu_limit, k - 1,
		   100 * in->load, 100 * ES_ADV_SCALE_IN_TARGET);
}

void es_adv_scale_in(const struct es_adv_block *blocks, unsigned int nblocks,
		     const struct es_adv_ring *perf, const struct es_adv_perf_desc *d,
		     struct es_adv_result *out)
{
	bool full = perf->n >= d->samples;
	unsigned int i;

	out->n_in = 0;
	for (i = 0; i < nblocks && i < ES_ADV_MAX_BLOCKS; i++) {
		struct es_adv_scale_in *in = &out->in[out->n_in];

		if (blocks[i].replicas < 2)
			continue;
		memset(in, 0, sizeof(*in));
		in->block = i;
		in->replicas = blocks[i].replicas;
		out->n_in++;
		if (!full || out->ranked) {
			in->reco.action = ES_ADV_HOLD;
			in->reco.confidence = 1;
			es_adv_say(&in->reco, "%s: %s", blocks[i].name, full ?
				   "the service got worse over the window" :
				   "the window is not full yet");
			continue;
		}
		judge(&blocks[i], d->samples, in);
	}
}
