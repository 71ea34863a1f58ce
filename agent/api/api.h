/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The api room, its door: the agent's HTTP listener (lib/http's server;
 * libmicrohttpd's types appear only in this room and lib/http). Routes: api.c; migrations: migrate_api.c;
 * zero-downtime migrations: zdm_api.c.
 */
#ifndef EDGESHIFT_API_H
#define EDGESHIFT_API_H

#include <stddef.h>

struct es_agent;
struct es_http_server;

/* Listen on a->cfg.listen; NULL with err set when it cannot. */
struct es_http_server *es_api_start(struct es_agent *a, char *err, size_t err_len);
/* Stops serving and waits for the handlers; NULL is fine. */
void es_api_stop(struct es_http_server *s);

#endif /* EDGESHIFT_API_H */
