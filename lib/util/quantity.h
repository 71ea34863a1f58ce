/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kubernetes quantities ("500m", "4Gi", "1e3", "-1.5k") as plain numbers,
 * with the grammar of resource.Quantity, so that a value a user copies
 * from a pod spec means here what it means to Kubernetes:
 *
 *   [+-] digits [. digits] | [+-] . digits     then at most one of
 *   n u m k M G T P E        (decimal SI, 10^-9 .. 10^18)
 *   Ki Mi Gi Ti Pi Ei        (binary, 2^10 .. 2^60)
 *   e|E [+-] digits          (decimal exponent; "1E" alone is exa)
 *
 * No spaces, no hexadecimal, no "inf" or "nan", and an exponent takes no
 * suffix ("1e3" is 1000, "1e1Gi" is an error). Two points where the parser
 * of resource.Quantity, which this follows, is narrower or wider than its
 * documented grammar: the exponent is a whole number ("1e1.5" is refused
 * there too), and n (10^-9) and u (10^-6) are taken. The message names
 * what is wrong. Callers check the range they accept (most reject
 * negative values).
 */
#ifndef EDGESHIFT_QUANTITY_H
#define EDGESHIFT_QUANTITY_H

#include <stddef.h>

/* 0, or -EINVAL (not a quantity) / -ERANGE (not finite) with err filled. */
int es_quantity_parse(const char *s, double *out, char *err, size_t err_len);

#endif /* EDGESHIFT_QUANTITY_H */
