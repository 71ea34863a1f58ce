// SPDX-License-Identifier: GPL-2.0-only
/* The ranking of `edgeshift place` as JSON; the table is drawn from it. */
#include <stdio.h>
#include <jansson.h>
#include "place.h"

static json_t *weights_json(const struct place_weights *w)
{
	return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "location", w->location,
			 "load", w->load, "path", w->path, "centrality", w->centrality,
			 "cpu", w->res[PLACE_CPU], "memory", w->res[PLACE_MEMORY],
			 "storage", w->res[PLACE_STORAGE], "hop", w->hop);
}

static json_t *resources_json(const double *v)
{
	return json_pack("{s:f,s:f,s:f}", "cpu", v[PLACE_CPU], "memory", v[PLACE_MEMORY],
			 "storage", v[PLACE_STORAGE]);
}

static json_t *site_json(const struct place_site *s)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s?,s:s?,s:b,s:o,s:o,s:i,s:f,s:f,s:f,"
			      "s:f,s:f,s:o,s:o,s:f,s:o}",
			      "id", (json_int_t)s->id, "format", s->paper ? "paper" : "edgeshift",
			      "name", s->name, "mode", s->mode,
			      "kubeconfig", s->kubeconfig, "namespace", s->ns, "mac", s->mac,
			      "city", s->city, "eligible", s->eligible,
			      "rank", s->eligible ? json_integer(s->rank) : json_null(),
			      "path", s->path ? json_incref(s->path) : json_array(),
			      "external_links", (int)s->links,
			      "link_free", s->link_free, "path_factor", s->path_factor,
			      "centrality", s->centrality, "location_weight", s->location,
			      "data_held", s->held, "free", resources_json(s->free),
			      "free_share", resources_json(s->share), "load_weight", s->load_weight,
			      "weights", weights_json(&s->w));

	if (s->eligible) {
		json_object_set_new(j, "score", json_real(s->score));
		json_object_set_new(j, "tie", json_boolean(s->tie));
	} else {
		json_object_set_new(j, "score", json_null());
		json_object_set_new(j, "reason", json_string(s->reason));
	}
	return j;
}

json_t *place_result_json(const struct place_problem *p)
{
	json_t *ranking = json_array(), *chosen = json_null();
	size_t i;

	for (i = 0; i < p->n; i++)
		json_array_append_new(ranking, site_json(&p->sites[i]));
	if (p->n && p->sites[0].eligible)
		chosen = json_pack("{s:I,s:s,s:s,s:s,s:f}", "id", (json_int_t)p->sites[0].id,
				   "name", p->sites[0].name, "kubeconfig", p->sites[0].kubeconfig,
				   "namespace", p->sites[0].ns, "score", p->sites[0].score);
	return json_pack("{s:s,s:{s:o,s:s?,s:f,s:s?},s:o,s:o,s:o,s:o}",
			 "formula", p->formula == PLACE_FORMULA_PAPER ? "paper" : "edgeshift",
			 "request", "resources", resources_json(p->request),
			 "data_set", p->data_set, "data_set_size", p->data_size, "city", p->city,
			 "weights", weights_json(&p->w), "max_free", resources_json(p->max_free),
			 "ranking", ranking, "chosen", chosen);
}
