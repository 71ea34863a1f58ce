/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checked reads of JSON configuration fields (agent, scheduler): every
 * refusal reads "config: field 'NAME' WANT", naming the field in full.
 */
#ifndef EDGESHIFT_CONFIG_FIELD_H
#define EDGESHIFT_CONFIG_FIELD_H

#include <stddef.h>
#include <jansson.h>

/* Writes the refusal into err; returns -1. */
int es_cfg_fail(char *err, size_t len, const char *field, const char *want);
/* The same for a field of a section object: "config: field 'SECTION.NAME' WANT". */
int es_cfg_fail_in(char *err, size_t len, const char *section, const char *field,
		   const char *want);
/* A non-empty string shorter than dst_len, copied into dst. */
int es_cfg_string(json_t *v, const char *field, char *dst, size_t dst_len, char *err,
		  size_t len);
/* An integer in [lo, hi]. */
int es_cfg_uint(json_t *v, const char *field, unsigned int lo, unsigned int hi,
		unsigned int *dst, char *err, size_t len);
/* A number in [lo, hi]. */
int es_cfg_number(json_t *v, const char *field, double lo, double hi, double *dst,
		  char *err, size_t len);

/* Reads one top-level field of a configuration object into cfg. */
typedef int (*es_cfg_field_fn)(void *cfg, const char *key, json_t *v, char *err, size_t len);
/*
 * Loads a configuration: the JSON object in the file path, or in text when
 * path is NULL (duplicate keys refused), each top-level field handed to
 * field in order. 0, or -1 with the reason in err ("config: SRC: line L
 * column C: ..." for JSON that does not parse).
 */
int es_cfg_load(const char *path, const char *text, es_cfg_field_fn field, void *cfg,
		char *err, size_t len);

#endif
