/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one error convention: a function that fails returns a negative
 * errno and, where a caller shows the reason to a person, writes it into
 * the caller's buffer (char *err, size_t err_len). es_errf() does both in
 * one statement: return es_errf(err, err_len, -EINVAL, "field %s ...", f);
 */
#ifndef EDGESHIFT_ERRF_H
#define EDGESHIFT_ERRF_H

#include <stdarg.h>
#include <stddef.h>

/* Formats the message into err (cut to err_len, NUL-terminated); returns ret. */
int es_errf(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same for a function that takes the format and its arguments itself. */
int es_verrf(char *err, size_t err_len, int ret, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/*
 * Every byte of s that does not start or continue a whole UTF-8 character
 * made '?': a message cut to its buffer, or by a precision (%.64s), may
 * end inside a character, and a text put into JSON must be UTF-8 (jansson
 * refuses it otherwise, and the message is lost). es_errf does it.
 */
void es_text_utf8(char *s);

#endif /* EDGESHIFT_ERRF_H */
