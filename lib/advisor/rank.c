// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ranking rule (docs/scale-advisor.md): the block to scale out is the
 * one whose resource use over time is most similar to the change in the
 * service's performance.
 * Each series is min-max normalised over the window, so a block's CPU in
 * cores, its throttled share and its bytes compare on one scale; the
 * distance is the RMS of the point-wise difference (what the paper
 * minimises), and the Pearson correlation is reported beside it. The
 * formula and its limits: docs/scale-advisor.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "advisor/advisor.h"

/*
 * The smallest range over a window that counts as a change, per resource:
 * below it a series is sampling noise, and normalising would blow the
 * noise up to the full 0..1 scale.
 */
static const double res_floor[ES_ADV_NRES] = {
	[ES_ADV_CPU]		= 0.01,		/* a hundredth of a core */
	[ES_ADV_THROTTLED]	= 0.001,	/* a thousandth of the time */
	[ES_ADV_MEMORY]		= 1 << 20,	/* a MiB */
	[ES_ADV_IO]		= 4096,		/* a page a second */
	[ES_ADV_RECLAIM]	= 10,		/* ten refaults a second */
	[ES_ADV_IOWAIT]		= 0.02,		/* two clock ticks of 10 ms a second */
	[ES_ADV_CPU_PRESSURE]	= 0.02,		/* as the I/O wait: a fiftieth of the time */
	[ES_ADV_MEMORY_PRESSURE] = 0.02,
	[ES_ADV_IO_PRESSURE]	= 0.02,
	[ES_ADV_NET]		= 4096,		/* a page a second */
	[ES_ADV_NET_LIMITED]	= 10,		/* ten packets held back a second */
	[ES_ADV_NET_DROPS]	= 1,		/* a drop a second */
	[ES_ADV_NET_BACKLOG]	= 1514,		/* one full Ethernet frame */
	/*
	 * A tenth of the rate: below, the link was never near its limit (the
	 * bursts of an unbinding 1 Gbit/s tbf after a stall upstream moved it
	 * by 0.01 and named the tier in a control run).
	 */
	[ES_ADV_NET_RATE_USED]	= 0.1,
};

bool es_adv_normalise(const double *x, size_t n, double floor, double *out)
{
	double lo = INFINITY, hi = -INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		lo = fmin(lo, x[i]);
		hi = fmax(hi, x[i]);
	}
	if (!n || !(hi - lo > floor) || hi - lo <= 0) {
		memset(out, 0, n * sizeof(*out));
		return false;
	}
	for (i = 0; i < n; i++)
		out[i] = (x[i] - lo) / (hi - lo);
	return true;
}

double es_adv_distance(const double *a, const double *b, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (a[i] - b[i]) * (a[i] - b[i]);
	return n ? sqrt(sum / n) : 0;
}

double es_adv_pearson(const double *a, const double *b, size_t n)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	if (!n)
		return 0;
	ma /= n;
	mb /= n;
	for (i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

static double mean(const double *x, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += x[i];
	return n ? s / n : 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(const double *x, size_t n)
{
	double tmp[ES_ADV_RING_LEN];

	memcpy(tmp, x, n * sizeof(*x));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/*
 * How much worse the service got: the median of the window's last third
 * against its first, relative to the first (latency up, throughput down).
 * A trend, not a range, and medians, not means: one slow interval (a
 * scheduling hiccup on a busy node) in a steady window is noise.
 */
static double worsening(const double *raw, size_t n, enum es_adv_perf_kind kind)
{
	size_t third = n / 3;
	double a = median(raw, third), b = median(raw + n - third, third);
	double worse = kind == ES_ADV_PERF_LATENCY ? b - a : a - b;

	return worse / fmax(fabs(a), 1e-12);
}

/*
 * The change in performance, two ways, each over the intervals t = 2..n
 * (n - 1 points), signed so that worse is up, then normalised: per
 * interval (the first difference: a block at its limit shows while the
 * service worsens, as a queue grows ahead of it under an open-loop load)
 * into chg, and since the window began (the level: a client that waits
 * for each answer, as ab does, sees the latency step up when a block
 * reaches its limit, and stay there) into lvl.
 */
static int perf_change(const struct es_adv_ring *perf, enum es_adv_perf_kind kind, size_t n,
		       double min_change, double *raw, double *chg, double *lvl, double *change)
{
	size_t i;

	if (n < 4 || es_adv_ring_last(perf, raw, n) < n)
		return -EAGAIN;
	*change = worsening(raw, n, kind);
	if (!(*change >= min_change))
		return -EAGAIN;
	for (i = 0; i + 1 < n; i++)
		lvl[i] = kind == ES_ADV_PERF_LATENCY ? raw[i + 1] : -raw[i + 1];
	if (!es_adv_normalise(lvl, n - 1, 0, lvl))
		return -EAGAIN;
	for (i = 0; i + 1 < n; i++)
		raw[i] = kind == ES_ADV_PERF_LATENCY ? raw[i + 1] - raw[i] : raw[i] - raw[i + 1];
	return es_adv_normalise(raw, n - 1, 0, chg) ? 0 : -EAGAIN;
}

/*
 * A limit being hit, not a use that grows: 2 for the CFS quota, reclaim
 * under a memory limit and a link's rate limit (its qdisc holding packets
 * back, queueing, dropping), 1 for waiting on block I/O and the memory
 * and I/O stalls of PSI (below them: a block that reclaims waits for the
 * disk to read its pages back, and the limit is the cause), 0 for use.
 */
static int saturation(int r)
{
	switch (r) {
	case ES_ADV_THROTTLED:
	case ES_ADV_RECLAIM:
	case ES_ADV_NET_LIMITED:
	case ES_ADV_NET_DROPS:
	case ES_ADV_NET_BACKLOG:
	case ES_ADV_NET_RATE_USED:
		return 2;
	case ES_ADV_IOWAIT:
	case ES_ADV_MEMORY_PRESSURE:
	case ES_ADV_IO_PRESSURE:
		return 1;
	default:
		return 0;
	}
}

/*
 * A block's use (CPU, memory, I/O) can track the change as well as the
 * limit it hits: a tier that reclaims spends CPU faulting its pages back
 * in. The limit says why and what to do about it, so a saturation series
 * that moved with the change as strongly as a scale-out needs
 * (r >= ES_ADV_MIN_R) is named the driver over a nearer use series.
 */
static void prefer_saturation(struct es_adv_score *s)
{
	int r, best = -1;

	if (s->res < 0 || saturation(s->res) == 2)
		return;
	for (r = 0; r < ES_ADV_NRES; r++) {
		const struct es_adv_res_score *rs = &s->per_res[r];

		if (saturation(r) <= saturation(s->res) || rs->flat || rs->r < ES_ADV_MIN_R)
			continue;
		if (best < 0 || saturation(r) > saturation(best) ||
		    (saturation(r) == saturation(best) &&
		     rs->distance < s->per_res[best].distance))
			best = r;
	}
	if (best < 0)
		return;
	s->res = best;
	s->distance = s->per_res[best].distance;
	s->r = s->per_res[best].r;
}

/*
 * One resource against the performance: its change per interval (p[0])
 * and, for a limit being hit, its level (p[1]). The level is taken when
 * the limit moved with it (r >= ES_ADV_MIN_DRIVER_R) and is nearer than
 * the change, or the change did not move with it at all: a throttled
 * share that steps with a latency that steps is the same shape, and far
 * from the one spike of the latency's change. A use series is never
 * compared by level: under a load that rises, every tier's CPU rises in
 * step with the latency, the tier that is not the bottleneck as much as
 * the one that is (a fresh-clone run named the front, 0.23 cores used,
 * r = 0.55 by level, over the throttled logic tier).
 */
static void score_res(int res, const double *norm, const double *const p[2], size_t m,
		      struct es_adv_res_score *rs)
{
	double d, r;

	rs->distance = es_adv_distance(norm, p[0], m);
	rs->r = es_adv_pearson(norm, p[0], m);
	if (!saturation(res))
		return;
	d = es_adv_distance(norm, p[1], m);
	r = es_adv_pearson(norm, p[1], m);
	rs->level = r >= ES_ADV_MIN_DRIVER_R &&
		    (d < rs->distance || rs->r < ES_ADV_MIN_DRIVER_R);
	if (rs->level) {
		rs->distance = d;
		rs->r = r;
	}
}

static void score_block(const struct es_adv_block *b, const double *const p[2], size_t n,
			double *raw, double *norm, struct es_adv_score *s)
{
	int r;

	s->res = -1;
	s->distance = 1;
	s->r = 0;
	for (r = 0; r < ES_ADV_NRES; r++) {
		struct es_adv_res_score *rs = &s->per_res[r];
		size_t got = es_adv_ring_last(&b->res[r], raw, n);

		/* Aligned with the performance change: the interval each ends. */
		rs->mean = mean(raw, got);
		rs->flat = got < n || !es_adv_normalise(raw + 1, n - 1, res_floor[r], norm);
		rs->distance = 1;
		rs->r = 0;
		rs->level = false;
		if (!rs->flat)
			score_res(r, norm, p, n - 1, rs);
		/*
		 * Moving against the worsening cannot explain it, and neither
		 * can a series uncorrelated with it that is merely near: a
		 * mostly idle series sits close to a change that is mostly 0.
		 * The bytes into a block over its link are shown, not ranked:
		 * they come in bursts whenever a tier ahead of it stalls and
		 * catches up, which tracks the worsening wherever it is. So is
		 * its CPU pressure: every tier that shares a busy node's CPUs
		 * waits for them more as the load rises, and a tier's own CPU
		 * limit shows as its throttled share.
		 */
		if (!rs->flat && rs->r >= ES_ADV_MIN_DRIVER_R && r != ES_ADV_NET &&
		    r != ES_ADV_CPU_PRESSURE &&
		    (s->res < 0 || rs->distance < s->distance)) {
			s->res = r;
			s->distance = rs->distance;
			s->r = rs->r;
		}
	}
	prefer_saturation(s);
}

/*
 * How strong a block's evidence is, before how near: 0 when none of its
 * resources moved with the change (it cannot explain it); 1 when its
 * driver is too weak to scale on (r < ES_ADV_MIN_R: ranked first, however
 * near, it would hold the advice for all, as a front whose CPU use sat at
 * distance 0.323, r = 0.35, held a db reclaiming under its limit at
 * 0.326, r = 0.75, in one memory.sh run); 2 for a use; 3 for a limit
 * being hit. A use that follows the change is what a tier carrying the
 * load does too; a limit hit is where the load stops: in a fresh-clone
 * run, front's CPU use (0.41, r = 0.67) came nearer than db's reclaim
 * under its memory limit (0.47, r = 0.53).
 */
int es_adv_evidence(const struct es_adv_score *s)
{
	if (s->res < 0)
		return 0;
	if (s->r < ES_ADV_MIN_R)
		return 1;
	return saturation(s->res) ? 3 : 2;
}

static int by_distance(const void *x, const void *y)
{
	const struct es_adv_score *a = x, *b = y;
	int ea = es_adv_evidence(a), eb = es_adv_evidence(b);

	if (ea != eb)
		return ea > eb ? -1 : 1;
	if (a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	/* Equal distances: the stronger correlation first, then the order given. */
	if (a->r != b->r)
		return a->r > b->r ? -1 : 1;
	return a->block < b->block ? -1 : a->block > b->block;
}

int es_adv_rank(const struct es_adv_block *blocks, unsigned int nblocks,
		const struct es_adv_ring *perf, enum es_adv_perf_kind kind, size_t n,
		double min_change, double *change, struct es_adv_score *scores)
{
	double raw[ES_ADV_RING_LEN], norm[ES_ADV_RING_LEN];
	double chg[ES_ADV_RING_LEN], lvl[ES_ADV_RING_LEN];
	const double *const p[2] = { chg, lvl };
	unsigned int i;
	int ret;

	if (n > ES_ADV_RING_LEN)
		n = ES_ADV_RING_LEN;
	*change = 0;
	ret = perf_change(perf, kind, n, min_change, raw, chg, lvl, change);
	if (ret)
		return ret;
	for (i = 0; i < nblocks; i++) {
		memset(&scores[i], 0, sizeof(scores[i]));
		scores[i].block = i;
		score_block(&blocks[i], p, n, raw, norm, &scores[i]);
	}
	qsort(scores, nblocks, sizeof(*scores), by_distance);
	return 0;
}
