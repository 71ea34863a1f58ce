/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The api room, its door: the agent's HTTP listener (libmicrohttpd, which
 * only this room includes). Routes: api.c; migrations: migrate_api.c;
 * zero-downtime migrations: zdm_api.c.
 */
#ifndef EDGESHIFT_API_H
#define EDGESHIFT_API_H

#include <stddef.h>

struct es_agent;
struct MHD_Daemon;

/* Listen on a->cfg.listen; NULL with err set when it cannot. */
struct MHD_Daemon *es_api_start(struct es_agent *a, char *err, size_t err_len);
void es_api_stop(struct MHD_Daemon *d);

#endif /* EDGESHIFT_API_H */
