/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Readers of the fields of `edgeshift place`'s input, shared by the file
 * level and by both region formats (edgeshift's and Paper B's). Each
 * returns 0, or -EINVAL with err naming the field ("regions[1].free.cpu")
 * and what is wrong with it.
 */
#ifndef EDGESHIFT_CLI_PLACE_FIELDS_H
#define EDGESHIFT_CLI_PLACE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "place.h"

/* Every key of obj must be in allowed (NULL-terminated). */
int place_check_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
		     size_t len);
/* The first key of obj that is not in allowed, or NULL. */
const char *place_unknown_key(json_t *obj, const char *const *allowed);
int place_get_object(json_t *parent, const char *key, bool required, json_t **out,
		     const char *where, char *err, size_t len);
int place_get_string(json_t *parent, const char *key, bool required, const char **out,
		     const char *where, char *err, size_t len);
int place_get_quantity(json_t *parent, const char *key, double *out, const char *where,
		       char *err, size_t len);
/* v must be a number in min..1. */
int place_get_fraction(json_t *v, double min, double *out, const char *where, const char *key,
		       char *err, size_t len);
/* A MAC address written aa:bb:cc:dd:ee:ff (key names the field in err). */
int place_check_mac(const char *mac, const char *where, const char *key, char *err, size_t len);
/* The terms of the score cannot all weigh 0 (at names the weights). */
int place_check_weights(const struct place_weights *w, const char *at, char *err, size_t len);
/*
 * Where the workload goes: name, mode (host-device or macvlan),
 * kubeconfig and namespace, all required, read from obj.
 */
int place_read_target(json_t *obj, struct place_site *s, const char *where, char *err,
		      size_t len);

#endif
