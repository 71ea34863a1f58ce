/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTP routes of zero-downtime migrations (zdm_api.c), called from api.c. */
#ifndef EDGESHIFT_ZDM_API_H
#define EDGESHIFT_ZDM_API_H

#include <stdbool.h>
#include <microhttpd.h>

struct es_zdm;

bool es_zdm_api_owns(const char *url);
enum MHD_Result es_zdm_api_handle(struct es_zdm *z, struct MHD_Connection *c, const char *url,
				  const char *method);

#endif
