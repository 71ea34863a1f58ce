// SPDX-License-Identifier: GPL-2.0-only
/* Quantities of the placement input: JSON numbers or Kubernetes strings. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <jansson.h>
#include "place.h"
#include "util/errf.h"
#include "util/quantity.h"

/* why: the value as written, then what is wrong with it. */
static int refuse(json_t *v, const char *what, char *why, size_t why_len)
{
	char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	es_errf(why, why_len, -EINVAL, "%.64s %s", text ?: "(nothing)", what);
	free(text);
	return -EINVAL;
}

int quantity_parse(json_t *v, double *out, char *why, size_t why_len)
{
	double d;

	if (json_is_number(v))
		d = json_number_value(v);
	else if (!json_is_string(v))
		return refuse(v, "is not a quantity: a number, or a string like \"500m\" or "
			      "\"4Gi\"", why, why_len);
	else if (es_quantity_parse(json_string_value(v), &d, why, why_len))
		return -EINVAL;
	if (!isfinite(d) || d < 0)
		return refuse(v, "is negative: an amount is >= 0", why, why_len);
	*out = d;
	return 0;
}
