/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Paper B's region record (docs/placement.md, "Paper B's region format"):
 * a string id, a config object with where the workload goes, macAddress,
 * and weights as a list of {city, value}, read into edgeshift's site.
 */
#ifndef EDGESHIFT_CLI_PLACE_PAPER_H
#define EDGESHIFT_CLI_PLACE_PAPER_H

#include <stddef.h>
#include <jansson.h>
#include "place.h"

/* The region-level fields of Paper B's format in r; where is "regions[N]". */
extern const char *const place_paper_keys[];

/* Reads id, config, macAddress and the per-city weights of r into s. */
int place_paper_region(json_t *r, struct place_site *s, const char *where, char *err,
		       size_t len);
/*
 * Gives every site in Paper B's format the location weight its list holds
 * for the request's city (p->city); an error when the request names no
 * city or a list has none for it.
 */
int place_paper_city_weights(struct place_problem *p, char *err, size_t len);

#endif
