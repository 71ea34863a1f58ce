// SPDX-License-Identifier: GPL-2.0-only
/* Quantities of the placement input: JSON numbers or Kubernetes strings. */
#include <math.h>
#include <jansson.h>
#include "place.h"
#include "util/quantity.h"

int quantity_parse(json_t *v, double *out)
{
	char why[160];
	double d;

	if (json_is_number(v))
		d = json_number_value(v);
	else if (!json_is_string(v) ||
		 es_quantity_parse(json_string_value(v), &d, why, sizeof(why)))
		return -1;
	if (!isfinite(d) || d < 0)
		return -1;
	*out = d;
	return 0;
}
