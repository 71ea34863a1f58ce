// SPDX-License-Identifier: GPL-2.0-only
/*
 * From the ranking to a recommendation a block, with the evidence in
 * words: an operator (or a controller) acts on "scale out logic", and
 * believes it for the reason printed beside it. The thresholds and the
 * confidence: docs/scale-advisor.md, "Recommendations".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "advisor/advisor.h"
#include "advisor/say.h"
#include "advisor/trap.h"

const char *es_adv_action_name(enum es_adv_action a)
{
	return a == ES_ADV_SCALE_OUT ? "scale_out" : a == ES_ADV_SCALE_IN ? "scale_in" : "hold";
}

/* "the rise of the p99 latency" or "the fall of the rx bytes/s". */
static void change_words(char *buf, size_t len, const struct es_adv_perf_desc *d)
{
	snprintf(buf, len, "the %s of the %s", d->kind == ES_ADV_PERF_LATENCY ? "rise" : "fall",
		 d->name ? d->name : "performance");
}

/* What the driving resource did over the window, in its own units. */
static void evidence(char *buf, size_t len, const struct es_adv_block *b,
		     const struct es_adv_score *s)
{
	const struct es_adv_res_score *p = s->per_res;

	switch (s->res) {
	case ES_ADV_THROTTLED:
		snprintf(buf, len, "CPU throttled %.0f %% of the window (%.2f cores used)",
			 100 * p[ES_ADV_THROTTLED].mean, p[ES_ADV_CPU].mean);
		break;
	case ES_ADV_CPU:
		snprintf(buf, len, "%.2f cores used on average", p[ES_ADV_CPU].mean);
		break;
	case ES_ADV_MEMORY:
		snprintf(buf, len, "%.0f MiB charged on average", p[ES_ADV_MEMORY].mean / (1 << 20));
		break;
	case ES_ADV_RECLAIM:
		snprintf(buf, len, "memory reclaimed under its limit, %.0f pages a second faulted "
			 "back in (%.0f MiB charged)", p[ES_ADV_RECLAIM].mean,
			 p[ES_ADV_MEMORY].mean / (1 << 20));
		break;
	case ES_ADV_IOWAIT:
		snprintf(buf, len, "waited for block I/O %.0f %% of the window (%.0f KiB/s of I/O)",
			 100 * p[ES_ADV_IOWAIT].mean, p[ES_ADV_IO].mean / 1024);
		break;
	case ES_ADV_MEMORY_PRESSURE:
		snprintf(buf, len, "memory stalls %.0f %% of the window (PSI; %.0f pages a "
			 "second faulted back in, %.0f MiB charged)", 100 * p[ES_ADV_MEMORY_PRESSURE].mean,
			 p[ES_ADV_RECLAIM].mean, p[ES_ADV_MEMORY].mean / (1 << 20));
		break;
	case ES_ADV_IO_PRESSURE:
		snprintf(buf, len, "waited for block I/O %.0f %% of the window (PSI; %.0f KiB/s "
			 "of I/O)", 100 * p[ES_ADV_IO_PRESSURE].mean, p[ES_ADV_IO].mean / 1024);
		break;
	case ES_ADV_NET_LIMITED:
	case ES_ADV_NET_DROPS:
	case ES_ADV_NET_BACKLOG:
	case ES_ADV_NET_RATE_USED:
		snprintf(buf, len, "network: link %s rate-limited, overlimits %.0f a second, "
			 "%.0f drops a second, %.0f KiB backlog (%.0f KiB/s sent, %.0f %% of its "
			 "rate)", b->link, p[ES_ADV_NET_LIMITED].mean, p[ES_ADV_NET_DROPS].mean,
			 p[ES_ADV_NET_BACKLOG].mean / 1024, p[ES_ADV_NET].mean / 1024,
			 100 * p[ES_ADV_NET_RATE_USED].mean);
		break;
	default:
		snprintf(buf, len, "%.0f KiB/s of I/O on average", p[ES_ADV_IO].mean / 1024);
		break;
	}
}

/*
 * How sure: the correlation of the driving resource, discounted by how
 * little nearer the block is than the runner-up (two blocks at the same
 * distance are a coin toss, whatever their r). A runner-up with weaker
 * evidence (a use behind a limit, a driver too weak to scale on) is no
 * rival, however near: distance 1.
 */
static double confidence(const struct es_adv_result *res)
{
	const struct es_adv_score *s1 = &res->scores[0], *s2 = &res->scores[1];
	double d1 = s1->distance;
	double d2 = res->nblocks > 1 && es_adv_evidence(s2) == es_adv_evidence(s1) ?
		    s2->distance : 1;

	if (d2 <= 0)
		return 0;
	return fmax(0, fmin(1, res->scores[0].r * (d2 - d1) / d2));
}

static void hold_unranked(struct es_adv_result *res, const struct es_adv_perf_desc *d)
{
	unsigned int i;

	for (i = 0; i < res->nblocks; i++) {
		res->reco[i].action = ES_ADV_HOLD;
		res->reco[i].confidence = 1;
		es_adv_say(&res->reco[i], "the service did not get worse over the window "
		    "(%+.0f %%, below %.0f %%): nothing to scale", 100 * res->worsening,
		    100 * d->min_change);
	}
}

static void hold_ranked(const struct es_adv_block *blocks, struct es_adv_result *res,
			unsigned int i, const char *words, bool top_out)
{
	const struct es_adv_score *s = &res->scores[i];
	const char *top = blocks[res->scores[0].block].name;

	res->reco[i].action = ES_ADV_HOLD;
	res->reco[i].confidence = top_out ? res->reco[0].confidence : 1 - res->scores[0].r;
	if (!top_out)
		es_adv_say(&res->reco[i], "no block's resource tracks %s closely (best r = %.2f): "
		    "the limit is not in these blocks' CPU, memory, I/O or links", words,
		    res->scores[0].r);
	else if (s->res >= 0 && s->r < ES_ADV_MIN_R)
		es_adv_say(&res->reco[i], "its %s series moved with %s too weakly to scale on "
		    "(distance %.2f, r = %.2f)", es_adv_res_name(s->res), words, s->distance, s->r);
	else if (s->res >= 0)
		es_adv_say(&res->reco[i], "its %s series follows %s less closely than %s's "
		    "(distance %.2f, r = %.2f)", es_adv_res_name(s->res), words, top,
		    s->distance, s->r);
	else
		es_adv_say(&res->reco[i], "none of its resources moved with %s", words);
}

void es_adv_advise(const struct es_adv_block *blocks, unsigned int nblocks,
		   const struct es_adv_ring *perf, const struct es_adv_perf_desc *d,
		   struct es_adv_result *out)
{
	const struct es_adv_score *s0 = &out->scores[0];
	char words[128], ev[160];
	bool top_out;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->dependency = -1;
	out->nblocks = nblocks < ES_ADV_MAX_BLOCKS ? nblocks : ES_ADV_MAX_BLOCKS;
	out->ranked = !es_adv_rank(blocks, out->nblocks, perf, d->kind, d->samples,
				   d->min_change, &out->worsening, out->scores);
	es_adv_scale_in(blocks, out->nblocks, perf, d, out);
	if (!out->ranked || !out->nblocks) {
		hold_unranked(out, d);
		return;
	}
	change_words(words, sizeof(words), d);
	top_out = s0->res >= 0 && s0->r >= ES_ADV_MIN_R;
	if (top_out) {
		out->reco[0].action = ES_ADV_SCALE_OUT;
		out->reco[0].confidence = confidence(out);
		evidence(ev, sizeof(ev), &blocks[s0->block], s0);
		es_adv_say(&out->reco[0], "%s: %s, its %s series tracks %s, r = %.2f",
		    blocks[s0->block].name, ev, es_adv_res_name(s0->res), words, s0->r);
	}
	for (i = top_out; i < out->nblocks; i++)
		hold_ranked(blocks, out, i, words, top_out);
	if (top_out)
		es_adv_trap(blocks, d, out, words);
	es_adv_trap_note(blocks, d, out);
}
