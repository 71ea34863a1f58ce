/* SPDX-License-Identifier: GPL-2.0-only */
/* The console's HTTP answers: every one carries the page's security headers. */
#ifndef EDGESHIFT_CONSOLE_HTTP_H
#define EDGESHIFT_CONSOLE_HTTP_H

#include <stddef.h>
#include <jansson.h>
#include <microhttpd.h>

/* Queues body (malloc'd, owned from here on) as the answer. */
enum MHD_Result con_reply(struct MHD_Connection *c, unsigned int code, const char *type,
			  void *body, size_t len);
/* j as compact JSON; drops the reference. */
enum MHD_Result con_reply_json(struct MHD_Connection *c, unsigned int code, json_t *j);
/* {"error": msg} */
enum MHD_Result con_reply_error(struct MHD_Connection *c, unsigned int code, const char *msg);
/* The file name of ui_dir (a plain name, a known type), or 404. */
enum MHD_Result con_static_reply(struct MHD_Connection *c, const char *ui_dir, const char *name);

#endif /* EDGESHIFT_CONSOLE_HTTP_H */
