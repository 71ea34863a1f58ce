/* SPDX-License-Identifier: GPL-2.0-only */
/* Answers of the libmicrohttpd servers (agent, scheduler): one way to reply. */
#ifndef EDGESHIFT_HTTP_REPLY_H
#define EDGESHIFT_HTTP_REPLY_H

#include <stdbool.h>
#include <jansson.h>
#include <microhttpd.h>

/* Queues body (malloc'd, owned from here on; NULL fails) as the answer. */
enum MHD_Result es_http_reply(struct MHD_Connection *c, unsigned int code, const char *type,
			      char *body);
/* The same with one more header, name: value (none when name is NULL). */
enum MHD_Result es_http_reply_hdr(struct MHD_Connection *c, unsigned int code, const char *type,
				  char *body, const char *name, const char *value);
/* Queues j as compact JSON and drops the reference. */
enum MHD_Result es_http_reply_json(struct MHD_Connection *c, unsigned int code, json_t *j);
/* {"error": msg} */
enum MHD_Result es_http_reply_error(struct MHD_Connection *c, unsigned int code, const char *msg);
/* "Authorization: Bearer TOKEN" matches token (compared in constant time). */
bool es_http_bearer_ok(struct MHD_Connection *c, const char *token);

#endif
