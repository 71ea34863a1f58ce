// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "http_reply.h"

enum MHD_Result es_http_reply(struct MHD_Connection *c, unsigned int code, const char *type,
			      char *body)
{
	return es_http_reply_hdr(c, code, type, body, NULL, NULL);
}

enum MHD_Result es_http_reply_hdr(struct MHD_Connection *c, unsigned int code, const char *type,
				  char *body, const char *name, const char *value)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	if (name)
		MHD_add_response_header(r, name, value);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result es_http_reply_json(struct MHD_Connection *c, unsigned int code, json_t *j)
{
	char *body = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return es_http_reply(c, code, "application/json", body);
}

enum MHD_Result es_http_reply_error(struct MHD_Connection *c, unsigned int code, const char *msg)
{
	return es_http_reply_json(c, code, json_pack("{s:s}", "error", msg));
}

bool es_http_bearer_ok(struct MHD_Connection *c, const char *token)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	size_t i, n = strlen(token);
	unsigned char diff = 0;

	if (!n || !h || strncmp(h, "Bearer ", 7) || strlen(h + 7) != n)
		return false;
	for (i = 0; i < n; i++)	/* constant time */
		diff |= (unsigned char)h[7 + i] ^ (unsigned char)token[i];
	return !diff;
}
