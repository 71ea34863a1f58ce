/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names of the ABI's enums, as metric label values and in diagnostics:
 * one table each, indexed by the enum.
 */
#ifndef EDGESHIFT_ES_NAMES_H
#define EDGESHIFT_ES_NAMES_H

#include <edgeshift/session.h>

extern const char *const es_dir_names[ES_DIR_MAX];
extern const char *const es_skip_names[ES_SKIP_MAX];
extern const char *const es_close_names[ES_CLOSE_MAX];
extern const char *const es_lat_names[ES_LAT_MAX];

#endif /* EDGESHIFT_ES_NAMES_H */
