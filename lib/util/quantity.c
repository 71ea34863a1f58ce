// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "errf.h"
#include "quantity.h"

static const struct {
	const char	*suffix;
	double		mul;
} suffixes[] = {
	{ "", 1 }, { "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 },
	{ "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 }, { "E", 1e18 },
	{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
	{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
	{ "Ei", 1152921504606846976.0 },
};

static size_t digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* Length of [+-] digits [. digits] | [+-] . digits; 0 when there is none. */
static size_t number_len(const char *s)
{
	size_t n = (*s == '+' || *s == '-'), whole, frac = 0;

	whole = digits(s + n);
	n += whole;
	if (s[n] == '.') {
		frac = digits(s + n + 1);
		n += 1 + frac;
	}
	return whole || frac ? n : 0;
}

/* Length of e|E [+-] digits; 0 when s is not a decimal exponent. */
static size_t exponent_len(const char *s)
{
	size_t n = 1, d;

	if (*s != 'e' && *s != 'E')
		return 0;
	if (s[n] == '+' || s[n] == '-')
		n++;
	d = digits(s + n);
	return d ? n + d : 0;
}

/*
 * Why s is not a quantity, named for the forms strtod() would take and
 * Kubernetes does not: spaces, hexadecimal, an exponent with a suffix.
 * n and e are the lengths of its number and of the exponent after it.
 */
static int refuse(const char *s, size_t n, size_t e, char *err, size_t err_len)
{
	const char *why = "it must start with a number";

	if (strpbrk(s, " \t\n\r\v\f"))
		why = "a quantity holds no spaces";
	else if ((s[n] == 'x' || s[n] == 'X') && n == 1u + (*s == '+' || *s == '-') &&
		 s[n - 1] == '0')
		why = "hexadecimal is not a quantity";
	else if (e && s[n + e] == '.')
		why = "an exponent is a whole number";
	else if (e)
		why = "an exponent (e3) takes no suffix";
	else if (n)
		why = "the suffix must be one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an "
		      "exponent like e3";
	return es_errf(err, err_len, -EINVAL, "\"%.64s\" is not a quantity: %s", s, why);
}

int es_quantity_parse(const char *s, double *out, char *err, size_t err_len)
{
	size_t n = number_len(s), e, i;
	double d;

	if (!n)
		return refuse(s, n, 0, err, err_len);
	e = exponent_len(s + n);
	if (e && !s[n + e]) {
		/* strtod() reads exactly the text checked above: it is all decimal. */
		d = strtod(s, NULL);
		goto check;
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strcmp(s + n, suffixes[i].suffix))
			break;
	if (i == sizeof(suffixes) / sizeof(suffixes[0]))
		return refuse(s, n, e, err, err_len);
	d = strtod(s, NULL) * suffixes[i].mul;
check:
	if (!isfinite(d))
		return es_errf(err, err_len, -ERANGE, "\"%.64s\" is out of range", s);
	*out = d;
	return 0;
}
