// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include "config_field.h"

int es_cfg_fail(char *err, size_t len, const char *field, const char *want)
{
	snprintf(err, len, "config: field '%s' %s", field, want);
	return -1;
}

int es_cfg_fail_in(char *err, size_t len, const char *section, const char *field,
		   const char *want)
{
	char f[128];

	snprintf(f, sizeof(f), "%s.%s", section, field);
	return es_cfg_fail(err, len, f, want);
}

int es_cfg_string(json_t *v, const char *field, char *dst, size_t dst_len, char *err,
		  size_t len)
{
	const char *s;

	if (!json_is_string(v))
		return es_cfg_fail(err, len, field, "must be a string");
	s = json_string_value(v);
	if (!*s || strlen(s) >= dst_len)
		return es_cfg_fail(err, len, field, "must be a non-empty string of reasonable length");
	strcpy(dst, s);
	return 0;
}

int es_cfg_uint(json_t *v, const char *field, unsigned int lo, unsigned int hi,
		unsigned int *dst, char *err, size_t len)
{
	char want[96];
	json_int_t n = json_integer_value(v);

	if (!json_is_integer(v) || n < lo || n > hi) {
		snprintf(want, sizeof(want), "must be an integer from %u to %u", lo, hi);
		return es_cfg_fail(err, len, field, want);
	}
	*dst = n;
	return 0;
}

int es_cfg_number(json_t *v, const char *field, double lo, double hi, double *dst,
		  char *err, size_t len)
{
	char want[96];
	double n = json_number_value(v);

	if (!json_is_number(v) || n < lo || n > hi) {
		snprintf(want, sizeof(want), "must be a number from %g to %g", lo, hi);
		return es_cfg_fail(err, len, field, want);
	}
	*dst = n;
	return 0;
}

int es_cfg_load(const char *path, const char *text, es_cfg_field_fn field, void *cfg,
		char *err, size_t len)
{
	const char *src = path ?: "<string>";
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	int ret = 0;

	root = path ? json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)
		    : json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, len, "config: %s: line %d column %d: %s", src, jerr.line,
			 jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, len, "config: %s: top level must be a JSON object", src);
		ret = -1;
		goto out;
	}
	json_object_foreach(root, key, v) {
		ret = field(cfg, key, v, err, len);
		if (ret)
			break;
	}
out:
	json_decref(root);
	return ret ? -1 : 0;
}
