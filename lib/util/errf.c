// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include "errf.h"

int es_verrf(char *err, size_t err_len, int ret, const char *fmt, va_list ap)
{
	if (err && err_len)
		vsnprintf(err, err_len, fmt, ap);
	return ret;
}

int es_errf(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	es_verrf(err, err_len, ret, fmt, ap);
	va_end(ap);
	return ret;
}
