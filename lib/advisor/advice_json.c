// SPDX-License-Identifier: GPL-2.0-only
/*
 * The advisor's answer as JSON, one shape for `edgeshift advise --json`
 * and the agent's GET /v1/advice, so a script reads either the same way.
 */
#include <jansson.h>
#include "advisor/advisor.h"

static json_t *resources_json(const struct es_adv_score *s)
{
	json_t *res = json_object();
	int r;

	for (r = 0; r < ES_ADV_NRES; r++) {
		const struct es_adv_res_score *rs = &s->per_res[r];

		json_object_set_new(res, es_adv_res_name(r),
				    json_pack("{s:b,s:f,s:f,s:f,s:s}", "changed", !rs->flat,
					      "distance", rs->distance, "r", rs->r,
					      "mean", rs->mean, "against",
					      rs->level ? "level" : "change"));
	}
	return res;
}

static json_t *score_json(const struct es_adv_block *b, const struct es_adv_score *s,
			  const struct es_adv_reco *reco, unsigned int rank)
{
	json_t *o = json_object();

	json_object_set_new(o, "rank", json_integer(rank));
	json_object_set_new(o, "block", json_string(b->name));
	json_object_set_new(o, "cgroup", json_string(b->cgroup));
	json_object_set_new(o, "cgroup_version", json_integer(b->v2 ? 2 : 1));
	json_object_set_new(o, "link", b->link[0] ? json_string(b->link) : json_null());
	json_object_set_new(o, "resource", s->res < 0 ? json_null() :
			    json_string(es_adv_res_name(s->res)));
	json_object_set_new(o, "distance", json_real(s->distance));
	json_object_set_new(o, "r", json_real(s->r));
	json_object_set_new(o, "against", s->res < 0 ? json_null() :
			    json_string(s->per_res[s->res].level ? "level" : "change"));
	json_object_set_new(o, "action", json_string(es_adv_action_name(reco->action)));
	json_object_set_new(o, "confidence", json_real(reco->confidence));
	json_object_set_new(o, "reason", json_string(reco->reason));
	json_object_set_new(o, "resources", resources_json(s));
	return o;
}

/* What stopped helping and what the replicas share; null without a trap. */
static json_t *trap_json(const struct es_adv_block *blocks, const struct es_adv_result *res)
{
	const struct es_adv_scaling *h;

	if (!res->trap)
		return json_null();
	h = &blocks[res->scores[0].block].scaled;
	return json_pack("{s:s,s:I,s:I,s:f,s:f,s:o}", "block", blocks[res->scores[0].block].name,
			 "replicas_from", (json_int_t)h->step[h->n - 2].replicas,
			 "replicas", (json_int_t)h->step[h->n - 1].replicas,
			 "perf_from", h->step[h->n - 2].perf, "perf", h->step[h->n - 1].perf,
			 "dependency", res->dependency < 0 ? json_null() :
			 json_string(blocks[res->scores[res->dependency].block].name));
}

/* Each block of 2 or more replicas: scale in by one, or hold, and why. */
static json_t *scale_in_json(const struct es_adv_block *blocks, const struct es_adv_result *res)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; i < res->n_in; i++) {
		const struct es_adv_scale_in *in = &res->in[i];

		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:o,s:f,s:s}",
			"block", blocks[in->block].name, "action", es_adv_action_name(in->reco.action),
			"replicas", (json_int_t)in->replicas, "replicas_to",
			(json_int_t)(in->reco.action == ES_ADV_SCALE_IN ? in->replicas - 1 :
				     in->replicas),
			"load", in->load > 0 ? json_real(in->load) : json_null(),
			"confidence", in->reco.confidence, "reason", in->reco.reason));
	}
	return arr;
}

json_t *es_adv_result_json(const struct es_adv_block *blocks, const struct es_adv_perf_desc *d,
			   const struct es_adv_result *res)
{
	bool out = res->ranked && res->nblocks && res->reco[0].action == ES_ADV_SCALE_OUT;
	json_t *root = json_object(), *arr = json_array();
	unsigned int i;

	json_object_set_new(root, "interval_ms", json_integer(d->interval_ms));
	json_object_set_new(root, "samples", json_integer(d->samples));
	json_object_set_new(root, "perf_kind", json_string(d->kind == ES_ADV_PERF_LATENCY ?
							     "latency" : "throughput"));
	json_object_set_new(root, "perf", json_string(d->name ? d->name : ""));
	json_object_set_new(root, "min_change", json_real(d->min_change));
	json_object_set_new(root, "worsening", json_real(res->worsening));
	json_object_set_new(root, "performance_changed", json_boolean(res->ranked));
	json_object_set_new(root, "scale_out", out ?
			    json_string(blocks[res->scores[0].block].name) : json_null());
	json_object_set_new(root, "confidence", json_real(res->nblocks ?
							   res->reco[0].confidence : 0));
	json_object_set_new(root, "reason", json_string(res->nblocks ? res->reco[0].reason :
							 "no blocks"));
	json_object_set_new(root, "trap", trap_json(blocks, res));
	json_object_set_new(root, "scale_in", scale_in_json(blocks, res));
	for (i = 0; res->ranked && i < res->nblocks; i++)
		json_array_append_new(arr, score_json(&blocks[res->scores[i].block],
						      &res->scores[i], &res->reco[i], i + 1));
	json_object_set_new(root, "ranking", arr);
	return root;
}
