// SPDX-License-Identifier: GPL-2.0-only
/*
 * The advisor's answer as Prometheus series, from the same JSON as GET
 * /v1/advice (one ranking a scrape): an alert on
 * edgeshift_advice_scale_out == 1 names the block to scale out,
 * edgeshift_advice_scale_in == 1 one with a replica to spare.
 */
#include <string.h>
#include <jansson.h>
#include "prom/prom_text.h"
#include "advisor.h"

/*
 * One gauge a block of arr (the ranking, or the scale-in judgements), from
 * its field: a number, or a string that reads 1 when it is the action
 * named by the metric.
 */
static void per_block(FILE *f, json_t *ranking, const char *node, const char *name,
		      const char *help, const char *field)
{
	char metric[96], blk[140];
	json_t *e, *v;
	size_t i;

	snprintf(metric, sizeof(metric), "edgeshift_advice_%s", name);
	es_prom_header(f, metric, "gauge", help);
	json_array_foreach(ranking, i, e) {
		v = json_object_get(e, field);
		es_prom_label_escape(blk, sizeof(blk), json_string_value(json_object_get(e, "block")));
		fprintf(f, "%s{node=\"%s\",block=\"%s\"} %g\n", metric, node, blk,
			json_is_string(v) ? (double)!strcmp(json_string_value(v), name) :
			json_number_value(v));
	}
}

void es_agent_advisor_render_metrics(FILE *f, struct es_agent_advisor *s, const char *node)
{
	json_t *j = es_agent_advice_json(s), *ranking;

	if (!j)
		return;
	ranking = json_object_get(j, "ranking");
	es_prom_header(f, "edgeshift_advice_worsening_ratio", "gauge",
		       "How much worse the service got over the advisor's window (W; 0.5: 50 %).");
	fprintf(f, "edgeshift_advice_worsening_ratio{node=\"%s\"} %g\n", node,
		json_number_value(json_object_get(j, "worsening")));
	es_prom_header(f, "edgeshift_advice_samples", "gauge",
		       "Samples the advisor's performance ring holds.");
	fprintf(f, "edgeshift_advice_samples{node=\"%s\"} %lld\n", node,
		json_integer_value(json_object_get(j, "samples_held")));
	per_block(f, ranking, node, "scale_out", "1 for the block to scale out now, 0 for the others; "
		  "no series while the service is not getting worse.", "action");
	per_block(f, json_object_get(j, "scale_in"), node, "scale_in", "1 for a block of 2 or more "
		  "replicas to scale in by one now, 0 for the others so judged.", "action");
	per_block(f, ranking, node, "rank", "The block's rank, 1 the nearest to the change.", "rank");
	per_block(f, ranking, node, "confidence", "Confidence of the block's recommendation, 0 to 1.",
		  "confidence");
	per_block(f, ranking, node, "distance", "RMS distance of the block's driving resource to the "
		  "change in performance (normalised, 0 to 1).", "distance");
	per_block(f, ranking, node, "correlation", "Pearson r of that resource with the change.", "r");
	json_decref(j);
}
