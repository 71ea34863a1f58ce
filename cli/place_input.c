// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reads the region file and the request of `edgeshift place`. Every field
 * is checked, and an unknown one is an error too: a misspelt "memroy" would
 * otherwise drop silently to a default and move the ranking.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "place.h"
#include "util/errf.h"

#define MAX_SITES	4096

const char *const place_res_names[PLACE_RES_COUNT] = { "cpu", "memory", "storage" };

static const struct place_weights default_weights = {
	.location = 1, .load = 1, .path = 1, .centrality = 1,
	.res = { 1, 1, 1 }, .hop = 0.9,
};

/* Every key of obj must be in allowed (NULL-terminated). */
static int check_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
		      size_t len)
{
	const char *key, *const *a;
	json_t *v;

	json_object_foreach(obj, key, v) {
		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a)
			return es_errf(err, len, -EINVAL, "%s: unknown field \"%s\"", where, key);
	}
	return 0;
}

static int get_object(json_t *parent, const char *key, bool required, json_t **out,
		      const char *where, char *err, size_t len)
{
	json_t *v = json_object_get(parent, key);

	*out = v;
	if (!v && !required)
		return 0;
	if (!v)
		return es_errf(err, len, -EINVAL, "%s: \"%s\" is missing", where, key);
	if (!json_is_object(v))
		return es_errf(err, len, -EINVAL, "%s.%s: must be an object", where, key);
	return 0;
}

static int get_string(json_t *parent, const char *key, bool required, const char **out,
		      const char *where, char *err, size_t len)
{
	json_t *v = json_object_get(parent, key);

	*out = NULL;
	if (!v && !required)
		return 0;
	if (!v)
		return es_errf(err, len, -EINVAL, "%s: \"%s\" is missing", where, key);
	if (!json_is_string(v) || !json_string_length(v))
		return es_errf(err, len, -EINVAL, "%s.%s: must be a non-empty string", where, key);
	*out = json_string_value(v);
	return 0;
}

static int get_quantity(json_t *parent, const char *key, double *out, const char *where,
			char *err, size_t len)
{
	json_t *v = json_object_get(parent, key);
	char *text;

	if (!v)
		return es_errf(err, len, -EINVAL, "%s: \"%s\" is missing", where, key);
	if (!quantity_parse(v, out))
		return 0;
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	es_errf(err, len, -EINVAL,
		"%s.%s: %.60s is not a quantity (a number >= 0, or a string like "
		"\"500m\", \"4Gi\", \"10G\")", where, key, text ?: "?");
	free(text);
	return -1;
}

static int get_fraction(json_t *v, double min, double *out, const char *where, const char *key,
			char *err, size_t len)
{
	double d = json_number_value(v);

	if (!json_is_number(v) || d < min || d > 1)
		return es_errf(err, len, -EINVAL,
			       "%s.%s: must be a number in %g..1", where, key, min);
	*out = d;
	return 0;
}

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
	if (!json_is_object(obj))
		return es_errf(err, len, -EINVAL, "%s: must be an object", at);
	if (check_keys(obj, keys, at, err, len))
		return -1;
	for (i = 0; keys[i]; i++) {
		v = json_object_get(obj, keys[i]);
		if (!v)
			continue;
		if (!strcmp(keys[i], "hop")) {
			if (get_fraction(v, 1e-9, slot[i], at, keys[i], err, len))
				return -1;
			continue;
		}
		if (!json_is_number(v) || json_number_value(v) < 0)
			return es_errf(err, len, -EINVAL,
				       "%s.%s: must be a number >= 0", at, keys[i]);
		*slot[i] = json_number_value(v);
	}
	if (w->location + w->load <= 0)
		return es_errf(err, len, -EINVAL, "%s: location and load are both 0", at);
	if (w->path + w->centrality <= 0)
		return es_errf(err, len, -EINVAL, "%s: path and centrality are both 0", at);
	if (w->res[PLACE_CPU] + w->res[PLACE_MEMORY] + w->res[PLACE_STORAGE] <= 0)
		return es_errf(err, len, -EINVAL, "%s: cpu, memory and storage are all 0", at);
	return 0;
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
	if (check_keys(l, keys, at, err, len))
		return -1;
	cap = json_object_get(l, "capacity_mbit");
	used = json_object_get(l, "used_mbit");
	util = json_object_get(l, "utilisation");
	if (util && !cap && !used)
		return get_fraction(util, 0, u, at, "utilisation", err, len);
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

	if (get_object(r, "free", true, &f, where, err, len))
		return -1;
	snprintf(at, sizeof(at), "%s.free", where);
	if (check_keys(f, keys, at, err, len))
		return -1;
	for (i = 0; i < PLACE_RES_COUNT; i++)
		if (get_quantity(f, place_res_names[i], &s->free[i], at, err, len))
			return -1;
	return 0;
}

static bool valid_mac(const char *m)
{
	int i;

	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
			return false;
	return m[17] == '\0';
}

static int read_identity(json_t *r, struct place_site *s, const char *where, char *err,
			 size_t len)
{
	json_t *id = json_object_get(r, "id");

	if (!json_is_integer(id) || json_integer_value(id) < 0)
		return es_errf(err, len, -EINVAL, "%s.id: must be an integer >= 0", where);
	s->id = json_integer_value(id);
	if (get_string(r, "name", true, &s->name, where, err, len) ||
	    get_string(r, "mode", true, &s->mode, where, err, len) ||
	    get_string(r, "kubeconfig", true, &s->kubeconfig, where, err, len) ||
	    get_string(r, "namespace", true, &s->ns, where, err, len) ||
	    get_string(r, "mac", false, &s->mac, where, err, len) ||
	    get_string(r, "city", false, &s->city, where, err, len))
		return -1;
	if (strcmp(s->mode, "host-device") && strcmp(s->mode, "macvlan"))
		return es_errf(err, len, -EINVAL,
			       "%s.mode: \"%s\" is neither \"host-device\" nor \"macvlan\"",
			       where, s->mode);
	if (s->mac && !valid_mac(s->mac))
		return es_errf(err, len, -EINVAL,
			       "%s.mac: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
			       where, s->mac);
	return 0;
}

/* data: the bytes of each data set held at the site, at most the set's size. */
static int read_site_data(json_t *doc, json_t *data, const char *where, char *err, size_t len)
{
	json_t *sets = json_object_get(doc, "data_sets"), *v;
	double held, size;
	const char *key;

	json_object_foreach(data, key, v) {
		if (quantity_parse(json_object_get(sets, key), &size))
			return es_errf(err, len, -EINVAL,
				       "%s.data.%s: not in \"data_sets\"", where, key);
		if (quantity_parse(v, &held))
			return es_errf(err, len, -EINVAL,
				       "%s.data.%s: must be a size (\"12Gi\")", where, key);
		if (held > size)
			return es_errf(err, len, -EINVAL,
				       "%s.data.%s: holds more than the data set's size",
				       where, key);
	}
	return 0;
}

static int read_region(struct place_problem *p, json_t *r, size_t idx, char *err, size_t len)
{
	static const char *const keys[] = {
		"id", "name", "mode", "kubeconfig", "namespace", "mac", "city", "weights",
		"path", "free", "data", NULL
	};
	struct place_site *s = &p->sites[idx];
	char where[32];
	json_t *data;
	size_t i;

	snprintf(where, sizeof(where), "regions[%zu]", idx);
	if (!json_is_object(r))
		return es_errf(err, len, -EINVAL, "%s: must be an object", where);
	s->w = p->w;
	if (check_keys(r, keys, where, err, len) || read_identity(r, s, where, err, len) ||
	    read_weights(json_object_get(r, "weights"), &s->w, where, err, len) ||
	    read_path(p->regions_doc, r, s, where, err, len) || read_free(r, s, where, err, len) ||
	    get_object(r, "data", false, &data, where, err, len) ||
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
		if (quantity_parse(v, &d) || d <= 0)
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
	if (check_keys(doc, keys, "(top level)", err, len) ||
	    read_weights(json_object_get(doc, "weights"), &p->w, "(top level)", err, len) ||
	    get_object(doc, "links", false, &links, "(top level)", err, len) ||
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
	if (quantity_parse(json_object_get(sets, p->data_set), &p->data_size))
		return es_errf(err, len, -EINVAL,
			       "data_set: \"%s\" is not in the region file's \"data_sets\"",
			       p->data_set);
	for (i = 0; i < p->n; i++) {
		held = json_object_get(json_object_get(json_array_get(regions, i), "data"),
				       p->data_set);
		if (held)
			quantity_parse(held, &p->sites[i].held);
	}
	return 0;
}

int place_load_request(struct place_problem *p, json_t *doc, char *err, size_t len)
{
	static const char *const keys[] = { "cpu", "memory", "storage", "data_set", NULL };
	int i;

	p->request_doc = doc;
	if (!json_is_object(doc))
		return es_errf(err, len, -EINVAL, "the top level must be an object");
	if (check_keys(doc, keys, "(top level)", err, len))
		return -1;
	for (i = 0; i < PLACE_RES_COUNT; i++)
		if (get_quantity(doc, place_res_names[i], &p->request[i], "(top level)", err, len))
			return -1;
	if (get_string(doc, "data_set", false, &p->data_set, "(top level)", err, len))
		return -1;
	return read_held(p, err, len);
}

void place_free(struct place_problem *p)
{
	free(p->sites);
	json_decref(p->regions_doc);
	json_decref(p->request_doc);
	memset(p, 0, sizeof(*p));
}
