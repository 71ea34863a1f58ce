// SPDX-License-Identifier: GPL-2.0-only
#include "prom_text.h"

void es_prom_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void es_prom_label_escape(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; *src && o + 2 < len; src++) {
		if (*src == '"' || *src == '\\')
			dst[o++] = '\\';
		dst[o++] = *src;
	}
	dst[o] = '\0';
}
