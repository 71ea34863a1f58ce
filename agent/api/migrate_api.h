/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTP routes of containers and migrations (migrate_api.c), called from api.c. */
#ifndef EDGESHIFT_MIGRATE_API_H
#define EDGESHIFT_MIGRATE_API_H

#include <stdbool.h>
#include <microhttpd.h>

struct es_migrator;

bool es_mig_api_owns(const char *url);
enum MHD_Result es_mig_api_handle(struct es_migrator *m, struct MHD_Connection *c,
				  const char *url, const char *method, const char *upload,
				  size_t *upload_len, void **req_ctx);
/* MHD_OPTION_NOTIFY_COMPLETED: frees a request's state, drops a broken upload. */
void es_mig_api_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
			  enum MHD_RequestTerminationCode toe);

#endif
