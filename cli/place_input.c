// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reads the region file and the request of `edgeshift place`. A region is
 * in edgeshift's format or in Paper B's (place_paper.c), told apart by
 * its fields; every field is checked (place_fields.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "place.h"
#include "place_fields.h"
#include "place_paper.h"
#include "util/errf.h"

#define MAX_SITES	4096

const char *const place_res_names[PLACE_RES_COUNT] = { "cpu", "memory", "storage" };

static const struct place_weights default_weights = {
	.location = 1, .load = 1, .path = 1, .centrality = 1,
	.res = { 1, 1, 1 }, .hop = 0.9,
};

static int read_weights(json_t *obj, struct place_weights *w, const char *where, char *err,
			size_t len)
{
	static const char *const keys[] = {
		"location", "load", "path", "centrality", "cpu", "memory", "storage", "hop", NULL
	};
	double *slot[] = {
		&w->location, &w->load, &w->path, &w->centrality, &w->res[PLACE_CPU],
		&w->res[PLACE_MEMORY], &w->res[PLACE_STORAGE], &w->hop,
	};
	char at[96];
	json_t *v;
	size_t i;

	if (!obj)
		return 0;
	snprintf(at, sizeof(at), "%s.weights", where);
	if (json_is_array(obj))
		return es_errf(err, len, -EINVAL,
			       "%s: must be an object (a list of {\"city\", \"value\"} is "
			       "Paper B's format, whose regions have \"config\")", at);
	if (!json_is_object(obj))
		return es_errf(err, len, -EINVAL, "%s: must be an object", at);
	if (place_check_keys(obj, keys, at, err, len))
		return -1;
	for (i = 0; keys[i]; i++) {
		v = json_object_get(obj, keys[i]);
		if (!v)
			continue;
		if (!strcmp(keys[i], "hop")) {
			if (place_get_fraction(v, 1e-9, slot[i], at, keys[i], err, len))
				return -1;
			continue;
		}
		if (!json_is_number(v) || json_number_value(v) < 0)
			return es_errf(err, len, -EINVAL,
				       "%s.%s: must be a number >= 0", at, keys[i]);
		*slot[i] = json_number_value(v);
	}
	return place_check_weights(w, at, err, len);
}

/* The link's utilisation, from used/capacity or given directly. */
static int link_utilisation(json_t *links, const char *name, double *u, const char *where,
			    char *err, size_t len)
{
	static const char *const keys[] = { "capacity_mbit", "used_mbit", "utilisation", NULL };
	json_t *l = json_object_get(links, name), *cap, *used, *util;
	char at[160];

	if (!l)
		return es_errf(err, len, -EINVAL,
			       "%s: link \"%s\" is not in \"links\"", where, name);
	snprintf(at, sizeof(at), "links.%.100s", name);
	if (!json_is_object(l))
		return es_errf(err, len, -EINVAL, "%s: must be an object", at);
	if (place_check_keys(l, keys, at, err, len))
		return -1;
	cap = json_object_get(l, "capacity_mbit");
	used = json_object_get(l, "used_mbit");
	util = json_object_get(l, "utilisation");
	if (util && !cap && !used)
		return place_get_fraction(util, 0, u, at, "utilisation", err, len);
	if (util || !cap || !used)
		return es_errf(err, len, -EINVAL,
			       "%s: give either \"utilisation\" or both \"capacity_mbit\" "
			       "and \"used_mbit\"", at);
	if (!json_is_number(cap) || json_number_value(cap) <= 0)
		return es_errf(err, len, -EINVAL, "%s.capacity_mbit: must be a number > 0", at);
	if (!json_is_number(used) || json_number_value(used) < 0)
		return es_errf(err, len, -EINVAL, "%s.used_mbit: must be a number >= 0", at);
	if (json_number_value(used) > json_number_value(cap))
		return es_errf(err, len, -EINVAL, "%s.used_mbit: %g exceeds capacity_mbit %g", at,
			       json_number_value(used), json_number_value(cap));
	*u = json_number_value(used) / json_number_value(cap);
	return 0;
}

static int read_path(json_t *doc, json_t *r, struct place_site *s, const char *where, char *err,
		     size_t len)
{
	json_t *links = json_object_get(doc, "links"), *e;
	char at[96];
	double u = 0;
	size_t i;

	s->path = json_object_get(r, "path");
	s->link_free = 1;
	if (!s->path)
		return 0;
	snprintf(at, sizeof(at), "%s.path", where);
	if (!json_is_array(s->path))
		return es_errf(err, len, -EINVAL, "%s: must be an array of link names", at);
	json_array_foreach(s->path, i, e) {
		if (!json_is_string(e))
			return es_errf(err, len, -EINVAL, "%s[%zu]: must be a link name", at, i);
		if (link_utilisation(links, json_string_value(e), &u, at, err, len))
			return -1;
		s->link_free *= 1 - u;
	}
	s->links = json_array_size(s->path);
	return 0;
}

static int read_free(json_t *r, struct place_site *s, const char *where, char *err, size_t len)
{
	static const char *const keys[] = { "cpu", "memory", "storage", NULL };
	json_t *f;
	char at[96];
	int i;

	if (place_get_object(r, "free", true, &f, where, err, len))
		return -1;
	snprintf(at, sizeof(at), "%s.free", where);
	if (place_check_keys(f, keys, at, err, len))
		return -1;
	for (i = 0; i < PLACE_RES_COUNT; i++)
		if (place_get_quantity(f, place_res_names[i], &s->free[i], at, err, len))
			return -1;
	return 0;
}

/* The fields of edgeshift's own region format that Paper B writes otherwise. */
static int read_identity(json_t *r, struct place_site *s, const char *where, char *err,
			 size_t len)
{
	json_t *id = json_object_get(r, "id");

	if (!json_is_integer(id) || json_integer_value(id) < 0)
		return es_errf(err, len, -EINVAL, "%s.id: must be an integer >= 0", where);
	s->id = json_integer_value(id);
	if (place_read_target(r, s, where, err, len) ||
	    place_get_string(r, "mac", false, &s->mac, where, err, len) ||
	    place_get_string(r, "city", false, &s->city, where, err, len) ||
	    (s->mac && place_check_mac(s->mac, where, "mac", err, len)))
		return -1;
	return 0;
}

/* data: the bytes of each data set held at the site, at most the set's size. */
static int read_site_data(json_t *doc, json_t *data, const char *where, char *err, size_t len)
{
	json_t *sets = json_object_get(doc, "data_sets"), *v;
	double held, size;
	const char *key;
	char why[256];

	json_object_foreach(data, key, v) {
		if (quantity_parse(json_object_get(sets, key), &size, NULL, 0))
			return es_errf(err, len, -EINVAL,
				       "%s.data.%s: not in \"data_sets\"", where, key);
		if (quantity_parse(v, &held, why, sizeof(why)))
			return es_errf(err, len, -EINVAL, "%s.data.%s: %s", where, key, why);
		if (held > size)
			return es_errf(err, len, -EINVAL,
				       "%s.data.%s: holds more than the data set's size",
				       where, key);
	}
	return 0;
}

/*
 * Which format r is written in, told by its fields, never guessed: 1 for
 * Paper B's ("config"), 0 for edgeshift's ("name", "mode", "kubeconfig",
 * "namespace" at the top of the region), an error for both or neither.
 */
static int region_format(json_t *r, const char *where, char *err, size_t len)
{
	static const char *const own[] = { "name", "mode", "kubeconfig", "namespace", NULL };
	bool paper = json_object_get(r, "config");
	const char *const *k;

	for (k = own; *k && !json_object_get(r, *k); k++)
		;
	if (paper && *k)
		return es_errf(err, len, -EINVAL,
			       "%s: \"config\" is Paper B's format and \"%s\" edgeshift's: "
			       "write a region in one of them", where, *k);
	if (!paper && !*k)
		return es_errf(err, len, -EINVAL,
			       "%s: in neither format: edgeshift's region has \"name\", "
			       "\"mode\", \"kubeconfig\" and \"namespace\", Paper B's has "
			       "\"config\"", where);
	return paper;
}

/* The fields of r's format: an unknown one is named with the format. */
static int read_format(json_t *r, struct place_site *s, const char *where, char *err,
		       size_t len)
{
	static const char *const own_keys[] = {
		"id", "name", "mode", "kubeconfig", "namespace", "mac", "city", "weights",
		"path", "free", "data", NULL
	};
	int paper = region_format(r, where, err, len);
	const char *key;

	if (paper < 0)
		return -1;
	key = place_unknown_key(r, paper ? place_paper_keys : own_keys);
	if (key)
		return es_errf(err, len, -EINVAL, "%s: unknown field \"%s\" in %s", where, key,
			       paper ? "Paper B's format (the region has \"config\")" :
				       "edgeshift's format (the region has no \"config\")");
	if (paper)
		return place_paper_region(r, s, where, err, len);
	return read_identity(r, s, where, err, len) ||
	       read_weights(json_object_get(r, "weights"), &s->w, where, err, len) ? -1 : 0;
}

static int read_region(struct place_problem *p, json_t *r, size_t idx, char *err, size_t len)
{
	struct place_site *s = &p->sites[idx];
	char where[32];
	json_t *data;
	size_t i;

	snprintf(where, sizeof(where), "regions[%zu]", idx);
	if (!json_is_object(r))
		return es_errf(err, len, -EINVAL, "%s: must be an object", where);
	s->w = p->w;
	if (read_format(r, s, where, err, len) ||
	    read_path(p->regions_doc, r, s, where, err, len) || read_free(r, s, where, err, len) ||
	    place_get_object(r, "data", false, &data, where, err, len) ||
	    read_site_data(p->regions_doc, data, where, err, len))
		return -1;
	for (i = 0; i < idx; i++) {
		if (p->sites[i].id == s->id)
			return es_errf(err, len, -EINVAL,
				       "%s.id: %lld is also regions[%zu]'s", where, s->id, i);
		if (!strcmp(p->sites[i].name, s->name))
			return es_errf(err, len, -EINVAL,
				       "%s.name: \"%s\" is also regions[%zu]'s", where,
				       s->name, i);
	}
	return 0;
}

static int check_data_sets(json_t *doc, char *err, size_t len)
{
	json_t *sets = json_object_get(doc, "data_sets"), *v;
	const char *key;
	double d;

	if (!sets)
		return 0;
	if (!json_is_object(sets))
		return es_errf(err, len, -EINVAL, "data_sets: must be an object of sizes");
	json_object_foreach(sets, key, v)
		if (quantity_parse(v, &d, NULL, 0) || d <= 0)
			return es_errf(err, len, -EINVAL,
				       "data_sets.%s: must be a size > 0 (\"40Gi\")", key);
	return 0;
}

int place_load_regions(struct place_problem *p, json_t *doc, char *err, size_t len)
{
	static const char *const keys[] = { "weights", "links", "data_sets", "regions", NULL };
	json_t *regions, *links;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->regions_doc = doc;
	p->w = default_weights;
	if (!json_is_object(doc))
		return es_errf(err, len, -EINVAL, "the top level must be an object");
	if (place_check_keys(doc, keys, "(top level)", err, len) ||
	    read_weights(json_object_get(doc, "weights"), &p->w, "(top level)", err, len) ||
	    place_get_object(doc, "links", false, &links, "(top level)", err, len) ||
	    check_data_sets(doc, err, len))
		return -1;
	regions = json_object_get(doc, "regions");
	if (!json_is_array(regions) || !json_array_size(regions))
		return es_errf(err, len, -EINVAL, "regions: must be a non-empty array");
	if (json_array_size(regions) > MAX_SITES)
		return es_errf(err, len, -EINVAL,
			       "regions: %zu regions, at most %d", json_array_size(regions),
			       MAX_SITES);
	p->sites = calloc(json_array_size(regions), sizeof(*p->sites));
	if (!p->sites)
		return es_errf(err, len, -EINVAL, "%s", strerror(ENOMEM));
	for (i = 0; i < json_array_size(regions); i++, p->n++)
		if (read_region(p, json_array_get(regions, i), i, err, len))
			return -1;
	return 0;
}

/* The bytes of the request's data set at every site (checked when read). */
static int read_held(struct place_problem *p, char *err, size_t len)
{
	json_t *sets = json_object_get(p->regions_doc, "data_sets");
	json_t *regions = json_object_get(p->regions_doc, "regions");
	json_t *held;
	size_t i;

	if (!p->data_set)
		return 0;
	if (quantity_parse(json_object_get(sets, p->data_set), &p->data_size, NULL, 0))
		return es_errf(err, len, -EINVAL,
			       "data_set: \"%s\" is not in the region file's \"data_sets\"",
			       p->data_set);
	for (i = 0; i < p->n; i++) {
		held = json_object_get(json_object_get(json_array_get(regions, i), "data"),
				       p->data_set);
		if (held)
			quantity_parse(held, &p->sites[i].held, NULL, 0);
	}
	return 0;
}

int place_load_request(struct place_problem *p, json_t *doc, char *err, size_t len)
{
	static const char *const keys[] = {
		"cpu", "memory", "storage", "data_set", "city", NULL
	};
	int i;

	p->request_doc = doc;
	if (!json_is_object(doc))
		return es_errf(err, len, -EINVAL, "the top level must be an object");
	if (place_check_keys(doc, keys, "(top level)", err, len))
		return -1;
	for (i = 0; i < PLACE_RES_COUNT; i++)
		if (place_get_quantity(doc, place_res_names[i], &p->request[i], "(top level)", err,
				       len))
			return -1;
	if (place_get_string(doc, "data_set", false, &p->data_set, "(top level)", err, len) ||
	    place_get_string(doc, "city", false, &p->city, "(top level)", err, len))
		return -1;
	return read_held(p, err, len) || place_paper_city_weights(p, err, len) ? -1 : 0;
}

void place_free(struct place_problem *p)
{
	free(p->sites);
	json_decref(p->regions_doc);
	json_decref(p->request_doc);
	memset(p, 0, sizeof(*p));
}
