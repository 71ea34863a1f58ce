/* SPDX-License-Identifier: GPL-2.0-only */
/* Pieces of the Prometheus text exposition format shared by its writers. */
#ifndef EDGESHIFT_PROM_TEXT_H
#define EDGESHIFT_PROM_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* The "# HELP" and "# TYPE" lines of a metric family. */
void es_prom_header(FILE *f, const char *name, const char *type, const char *help);

/* src as a label value: '"' and '\' escaped, cut to fit len. */
void es_prom_label_escape(char *dst, size_t len, const char *src);

#endif /* EDGESHIFT_PROM_TEXT_H */
