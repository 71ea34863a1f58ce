// SPDX-License-Identifier: GPL-2.0-only
/*
 * Paper B's region record, read into edgeshift's site (the mapping is in
 * docs/placement.md, "Paper B's region format"): id is a string, where the
 * workload goes sits in "config", the MAC address is "macAddress", and
 * "weights" is a list of {city, value}: the site's location weight for a
 * request from that city.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "place_fields.h"
#include "place_paper.h"
#include "util/errf.h"

/* Digits enough for any id a file would hold, and within a long long. */
#define MAX_ID_DIGITS	18

const char *const place_paper_keys[] = {
	"id", "config", "macAddress", "weights", "path", "free", "data", NULL
};

/* edgeshift orders ties by id, a number: Paper B's string must be one. */
static int read_id(json_t *r, struct place_site *s, const char *where, char *err, size_t len)
{
	json_t *id = json_object_get(r, "id");
	const char *t = json_string_value(id);
	size_t n = t ? strspn(t, "0123456789") : 0;

	if (!id)
		return es_errf(err, len, -EINVAL, "%s: \"id\" is missing", where);
	if (!t || !n || t[n] || n > MAX_ID_DIGITS)
		return es_errf(err, len, -EINVAL,
			       "%s.id: Paper B's id is a string of at most %d digits (\"3\"), "
			       "which orders ties", where, MAX_ID_DIGITS);
	s->id = strtoll(t, NULL, 10);
	return 0;
}

static int read_city_weight(json_t *e, const char *at, char *err, size_t len)
{
	static const char *const keys[] = { "city", "value", NULL };
	json_t *v = json_object_get(e, "value");
	const char *city;

	if (!json_is_object(e))
		return es_errf(err, len, -EINVAL,
			       "%s: must be an object {\"city\", \"value\"}", at);
	if (place_check_keys(e, keys, at, err, len) ||
	    place_get_string(e, "city", true, &city, at, err, len))
		return -EINVAL;
	if (!v)
		return es_errf(err, len, -EINVAL, "%s: \"value\" is missing", at);
	if (!json_is_number(v) || json_number_value(v) < 0)
		return es_errf(err, len, -EINVAL, "%s.value: must be a number >= 0", at);
	return 0;
}

/* A non-empty list of {city, value}, every city once. */
static int read_city_weights(json_t *list, const char *where, char *err, size_t len)
{
	char at[96];
	json_t *e;
	size_t i, j;

	if (!json_is_array(list) || !json_array_size(list))
		return es_errf(err, len, -EINVAL,
			       "%s.weights: Paper B's weights are a non-empty list of "
			       "{\"city\", \"value\"}", where);
	json_array_foreach(list, i, e) {
		snprintf(at, sizeof(at), "%s.weights[%zu]", where, i);
		if (read_city_weight(e, at, err, len))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(list, j), "city"),
				       json_object_get(e, "city")))
				return es_errf(err, len, -EINVAL,
					       "%s.city: \"%s\" is also %s.weights[%zu]'s", at,
					       json_string_value(json_object_get(e, "city")),
					       where, j);
	}
	return 0;
}

int place_paper_region(json_t *r, struct place_site *s, const char *where, char *err,
		       size_t len)
{
	static const char *const config_keys[] = {
		"name", "mode", "kubeconfig", "namespace", NULL
	};
	json_t *config;
	char at[64];

	s->paper = true;
	snprintf(at, sizeof(at), "%s.config", where);
	if (read_id(r, s, where, err, len) ||
	    place_get_object(r, "config", true, &config, where, err, len) ||
	    place_check_keys(config, config_keys, at, err, len) ||
	    place_read_target(config, s, at, err, len) ||
	    place_get_string(r, "macAddress", false, &s->mac, where, err, len) ||
	    (s->mac && place_check_mac(s->mac, where, "macAddress", err, len)))
		return -EINVAL;
	s->city_weights = json_object_get(r, "weights");
	if (s->city_weights && read_city_weights(s->city_weights, where, err, len))
		return -EINVAL;
	return 0;
}

static json_t *city_value(json_t *list, const char *city)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "city")), city))
			return json_object_get(e, "value");
	return NULL;
}

int place_paper_city_weights(struct place_problem *p, char *err, size_t len)
{
	struct place_site *s;
	char at[64];
	json_t *v;
	size_t i;

	for (i = 0; i < p->n; i++) {
		s = &p->sites[i];
		if (!s->city_weights)
			continue;
		if (!p->city)
			return es_errf(err, len, -EINVAL,
				       "(top level): \"city\" is missing: region %lld (\"%s\") "
				       "is in Paper B's format, whose weights are per city",
				       s->id, s->name);
		v = city_value(s->city_weights, p->city);
		if (!v)
			return es_errf(err, len, -EINVAL,
				       "city: \"%s\" has no value in the weights of region "
				       "%lld (\"%s\")", p->city, s->id, s->name);
		s->w.location = json_number_value(v);
		snprintf(at, sizeof(at), "region %lld's weights for \"%.20s\"", s->id, p->city);
		if (place_check_weights(&s->w, at, err, len))
			return -EINVAL;
	}
	return 0;
}
