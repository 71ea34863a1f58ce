// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "signals" object of the agent configuration:
 *   {"window_ms": 10000,
 *    "link_capacity_mbps": {"eth0": 1000, "ens*": 25000},
 *    "uplinks": ["eth0", "ens*"]}
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "signals.h"
#include "util/config_field.h"

#define WINDOW_MIN_MS	1000U
#define WINDOW_MAX_MS	3600000U
#define CAP_MAX_MBPS	1e7	/* 10 Tbit/s */

void es_signals_config_defaults(struct es_signals_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->window_ms = 10000;
}

/* Refusals name the field in full: "signals.FIELD". */
static int fail(char *err, size_t len, const char *field, const char *want)
{
	return es_cfg_fail_in(err, len, "signals", field, want);
}

static int parse_caps(struct es_signals_config *sc, json_t *v, char *err, size_t err_len)
{
	char field[96];
	const char *key;
	json_t *m;

	if (!json_is_object(v))
		return fail(err, err_len, "link_capacity_mbps",
			    "must be an object {\"PATTERN\": Mbit/s, ...}");
	sc->n_caps = 0;
	json_object_foreach(v, key, m) {
		snprintf(field, sizeof(field), "link_capacity_mbps.%s", key);
		if (sc->n_caps >= ES_SIG_MAX_RULES)
			return fail(err, err_len, "link_capacity_mbps", "has more than 64 entries");
		if (!*key || strlen(key) >= ES_SIG_PATTERN_MAX)
			return fail(err, err_len, field, "must name a pattern of 1 to 15 characters");
		if (!json_is_number(m) || json_number_value(m) <= 0 ||
		    json_number_value(m) > CAP_MAX_MBPS)
			return fail(err, err_len, field, "must be a number of Mbit/s above 0, at most 1e7");
		strcpy(sc->caps[sc->n_caps].match, key);
		sc->caps[sc->n_caps].bps = json_number_value(m) * 1e6;
		sc->n_caps++;
	}
	return 0;
}

static int parse_uplinks(struct es_signals_config *sc, json_t *v, char *err, size_t err_len)
{
	char field[64];
	const char *s;
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > ES_SIG_MAX_RULES)
		return fail(err, err_len, "uplinks", "must be an array of at most 64 patterns");
	sc->n_uplinks = 0;
	json_array_foreach(v, i, e) {
		snprintf(field, sizeof(field), "uplinks[%zu]", i);
		s = json_string_value(e);
		if (!s || !*s || strlen(s) >= ES_SIG_PATTERN_MAX)
			return fail(err, err_len, field, "must be a pattern of 1 to 15 characters");
		strcpy(sc->uplinks[sc->n_uplinks++], s);
	}
	return 0;
}

int es_signals_config_parse(struct es_signals_config *sc, json_t *v, char *err, size_t err_len)
{
	const char *key;
	json_t *m;

	if (!json_is_object(v)) {
		snprintf(err, err_len, "config: field 'signals' must be an object");
		return -1;
	}
	json_object_foreach(v, key, m) {
		if (!strcmp(key, "window_ms")) {
			if (!json_is_integer(m) || json_integer_value(m) < WINDOW_MIN_MS ||
			    json_integer_value(m) > WINDOW_MAX_MS)
				return fail(err, err_len, key, "must be an integer from 1000 to 3600000");
			sc->window_ms = json_integer_value(m);
		} else if (!strcmp(key, "link_capacity_mbps")) {
			if (parse_caps(sc, m, err, err_len))
				return -1;
		} else if (!strcmp(key, "uplinks")) {
			if (parse_uplinks(sc, m, err, err_len))
				return -1;
		} else {
			return fail(err, err_len, key,
				    "is not a known field (window_ms, link_capacity_mbps, uplinks)");
		}
	}
	return 0;
}
