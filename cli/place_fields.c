// SPDX-License-Identifier: GPL-2.0-only
/*
 * The field readers of `edgeshift place`'s input (place_fields.h). An
 * unknown field is an error too: a misspelt "memroy" would otherwise drop
 * silently to a default and move the ranking.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "place_fields.h"
#include "util/errf.h"

const char *place_unknown_key(json_t *obj, const char *const *allowed)
{
	const char *key, *const *a;
	json_t *v;

	json_object_foreach(obj, key, v) {
		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a)
			return key;
	}
	return NULL;
}

int place_check_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
		     size_t len)
{
	const char *key = place_unknown_key(obj, allowed);

	if (key)
		return es_errf(err, len, -EINVAL, "%s: unknown field \"%s\"", where, key);
	return 0;
}

/* 1 when v is there, 0 when it is not and need not be, or -EINVAL. */
static int present(json_t *v, bool required, const char *key, const char *where, char *err,
		   size_t len)
{
	if (v)
		return 1;
	if (required)
		return es_errf(err, len, -EINVAL, "%s: \"%s\" is missing", where, key);
	return 0;
}

int place_get_object(json_t *parent, const char *key, bool required, json_t **out,
		     const char *where, char *err, size_t len)
{
	json_t *v = json_object_get(parent, key);
	int ret = present(v, required, key, where, err, len);

	*out = v;
	if (ret <= 0)
		return ret;
	if (!json_is_object(v))
		return es_errf(err, len, -EINVAL, "%s.%s: must be an object", where, key);
	return 0;
}

int place_get_string(json_t *parent, const char *key, bool required, const char **out,
		     const char *where, char *err, size_t len)
{
	json_t *v = json_object_get(parent, key);
	int ret = present(v, required, key, where, err, len);

	*out = NULL;
	if (ret <= 0)
		return ret;
	if (!json_is_string(v) || !json_string_length(v))
		return es_errf(err, len, -EINVAL, "%s.%s: must be a non-empty string", where, key);
	*out = json_string_value(v);
	return 0;
}

int place_get_quantity(json_t *parent, const char *key, double *out, const char *where,
		       char *err, size_t len)
{
	json_t *v = json_object_get(parent, key);
	int ret = present(v, true, key, where, err, len);
	char why[256];

	if (ret < 0)
		return ret;
	if (quantity_parse(v, out, why, sizeof(why)))
		return es_errf(err, len, -EINVAL, "%s.%s: %s", where, key, why);
	return 0;
}

int place_get_fraction(json_t *v, double min, double *out, const char *where, const char *key,
		       char *err, size_t len)
{
	double d = json_number_value(v);

	if (!json_is_number(v) || d < min || d > 1)
		return es_errf(err, len, -EINVAL,
			       "%s.%s: must be a number in %g..1", where, key, min);
	*out = d;
	return 0;
}

int place_check_mac(const char *mac, const char *where, const char *key, char *err, size_t len)
{
	int i;

	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
			break;
	if (i < 17 || mac[17])
		return es_errf(err, len, -EINVAL,
			       "%s.%s: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
			       where, key, mac);
	return 0;
}

int place_check_weights(const struct place_weights *w, const char *at, char *err, size_t len)
{
	if (w->location + w->load <= 0)
		return es_errf(err, len, -EINVAL, "%s: location and load are both 0", at);
	if (w->path + w->centrality <= 0)
		return es_errf(err, len, -EINVAL, "%s: path and centrality are both 0", at);
	if (w->res[PLACE_CPU] + w->res[PLACE_MEMORY] + w->res[PLACE_STORAGE] <= 0)
		return es_errf(err, len, -EINVAL, "%s: cpu, memory and storage are all 0", at);
	return 0;
}

int place_read_target(json_t *obj, struct place_site *s, const char *where, char *err,
		      size_t len)
{
	if (place_get_string(obj, "name", true, &s->name, where, err, len) ||
	    place_get_string(obj, "mode", true, &s->mode, where, err, len) ||
	    place_get_string(obj, "kubeconfig", true, &s->kubeconfig, where, err, len) ||
	    place_get_string(obj, "namespace", true, &s->ns, where, err, len))
		return -EINVAL;
	if (strcmp(s->mode, "host-device") && strcmp(s->mode, "macvlan"))
		return es_errf(err, len, -EINVAL,
			       "%s.mode: \"%s\" is neither \"host-device\" nor \"macvlan\"",
			       where, s->mode);
	return 0;
}
