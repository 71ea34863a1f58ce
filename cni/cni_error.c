// SPDX-License-Identifier: GPL-2.0-only
/* Filling the CNI error result. */
#include <stdarg.h>
#include <stdio.h>
#include "cni_error.h"

int cni_fail(struct cni_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->details[0] = '\0';
	return -1;
}
