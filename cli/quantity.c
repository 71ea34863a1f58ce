// SPDX-License-Identifier: GPL-2.0-only
/* Kubernetes-style quantities ("500m", "4Gi", "10G") as plain numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "place.h"

static const struct {
	const char	*suffix;
	double		mul;
} suffixes[] = {
	{ "", 1 }, { "m", 1e-3 }, { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 },
	{ "T", 1e12 }, { "P", 1e15 }, { "E", 1e18 },
	{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
	{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
	{ "Ei", 1152921504606846976.0 },
};

int quantity_parse(json_t *v, double *out)
{
	const char *s;
	char *end;
	double d;
	size_t i;

	if (json_is_number(v)) {
		d = json_number_value(v);
		goto check;
	}
	s = json_string_value(v);
	if (!s || !*s)
		return -1;
	d = strtod(s, &end);
	if (end == s)
		return -1;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strcmp(end, suffixes[i].suffix))
			break;
	if (i == sizeof(suffixes) / sizeof(suffixes[0]))
		return -1;
	d *= suffixes[i].mul;
check:
	if (!isfinite(d) || d < 0)
		return -1;
	*out = d;
	return 0;
}
