// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include "errf.h"

/* Bytes of the whole UTF-8 character at s (RFC 3629), 0 when none starts there. */
static size_t utf8_char(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* a NUL is no continuation byte: nothing is read past the end */
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, surrogates, above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

void es_text_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n;

	while (*p) {
		n = utf8_char(p);
		if (!n)
			*p++ = '?';
		else
			p += n;
	}
}

int es_verrf(char *err, size_t err_len, int ret, const char *fmt, va_list ap)
{
	if (err && err_len) {
		vsnprintf(err, err_len, fmt, ap);
		es_text_utf8(err);
	}
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
