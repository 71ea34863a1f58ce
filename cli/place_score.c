// SPDX-License-Identifier: GPL-2.0-only
/*
 * The site choice: score = location weight + load weight, among the
 * sites whose free resources cover the request. The formulas, with a
 * worked example, are in docs/placement.md ("Site selection"); keep both
 * in step. Two parts are edgeshift's, not Paper B's, and --formula paper
 * leaves them out: the factor per external link, and the division of each
 * weighted sum by the sum of its weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "place.h"

/* Scores closer than this are a tie: sums of the same terms in another order. */
#define SCORE_EPSILON	1e-9

static double share(double v, double max)
{
	return max > 0 ? v / max : 0;
}

static void format_amount(int res, double v, char *buf, size_t len)
{
	if (res == PLACE_CPU)
		snprintf(buf, len, "%g", v);
	else
		cli_human_bytes((unsigned long long)v, buf, len);
}

static void check_fit(const struct place_problem *p, struct place_site *s)
{
	char have[32], want[32];
	int i;

	s->eligible = true;
	for (i = 0; i < PLACE_RES_COUNT; i++) {
		if (s->free[i] >= p->request[i])
			continue;
		s->eligible = false;
		format_amount(i, s->free[i], have, sizeof(have));
		format_amount(i, p->request[i], want, sizeof(want));
		snprintf(s->reason, sizeof(s->reason), "%s: %s free < %s requested",
			 place_res_names[i], have, want);
		return;
	}
}

/*
 * A weighted sum, divided by the sum of its weights in edgeshift's formula
 * (a mean in 0..1) and left as it is in Paper B's. The division changes the
 * order when sites weigh their terms differently (docs/placement.md).
 */
static double combine(const struct place_problem *p, double sum, double weights)
{
	return p->formula == PLACE_FORMULA_PAPER ? sum : sum / weights;
}

static void score_site(const struct place_problem *p, struct place_site *s)
{
	const struct place_weights *w = &s->w;
	double hop = p->formula == PLACE_FORMULA_PAPER ? 1 : w->hop;
	double sum = 0, wsum = 0;
	int i;

	s->path_factor = pow(hop, (double)s->links) * s->link_free;
	s->centrality = p->data_size > 0 ? s->held / p->data_size : 0;
	s->location = combine(p, w->path * s->path_factor + w->centrality * s->centrality,
			      w->path + w->centrality);
	for (i = 0; i < PLACE_RES_COUNT; i++) {
		s->share[i] = share(s->free[i], p->max_free[i]);
		sum += w->res[i] * s->share[i];
		wsum += w->res[i];
	}
	s->load_weight = combine(p, sum, wsum);
	s->score = combine(p, w->location * s->location + w->load * s->load_weight,
			   w->location + w->load);
}

static int by_rank(const void *a, const void *b)
{
	const struct place_site *x = a, *y = b;

	if (x->eligible != y->eligible)
		return x->eligible ? -1 : 1;
	if (x->eligible && fabs(x->score - y->score) > SCORE_EPSILON)
		return x->score > y->score ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Equal scores share a rank; the lower id is listed (and chosen) first. */
static void assign_ranks(struct place_problem *p)
{
	struct place_site *s, *prev = NULL;
	size_t i;

	for (i = 0; i < p->n; i++) {
		s = &p->sites[i];
		if (!s->eligible)
			break;
		if (prev && fabs(prev->score - s->score) <= SCORE_EPSILON) {
			s->rank = prev->rank;
			s->tie = prev->tie = true;
		} else {
			s->rank = (int)i + 1;
		}
		prev = s;
	}
}

void place_score(struct place_problem *p)
{
	size_t i;
	int r;

	/*
	 * Normalised by the largest free amount among all sites, eligible or
	 * not, so a site's share does not change with the request.
	 */
	for (r = 0; r < PLACE_RES_COUNT; r++)
		for (i = 0; i < p->n; i++)
			p->max_free[r] = fmax(p->max_free[r], p->sites[i].free[r]);
	for (i = 0; i < p->n; i++) {
		check_fit(p, &p->sites[i]);
		score_site(p, &p->sites[i]);
	}
	qsort(p->sites, p->n, sizeof(*p->sites), by_rank);
	assign_ranks(p);
}
