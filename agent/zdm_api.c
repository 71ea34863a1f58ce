// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP routes of zero-downtime migrations (the shared token required, as
 * for /v1/migrations). Parameters are query arguments, so every answer is
 * given on the first call and no request state is kept:
 *
 *   POST /v1/zdm/migrations?container=&to=&session=&mode=   -> 202 {id}   (source)
 *   GET  /v1/zdm/migrations[/ID]                           progress
 *   POST /v1/zdm/target/STEP?id=&session=&...              (peer) a data-plane step
 */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "config.h"
#include "migrate.h"
#include "zdm.h"

bool es_zdm_api_owns(const char *url)
{
	return !strncmp(url, "/v1/zdm/", 8) || !strcmp(url, "/v1/zdm");
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int code, json_t *j)
{
	char *body = json_dumps(j, JSON_COMPACT);
	struct MHD_Response *r;
	enum MHD_Result ret;

	json_decref(j);
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int code, const char *msg)
{
	return send_json(c, code, json_pack("{s:s}", "error", msg));
}

static bool token_ok(const struct es_zdm *z, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *t = z->acfg->mig.token;
	size_t i, n = strlen(t);
	unsigned char diff = 0;

	if (!n || !h || strncmp(h, "Bearer ", 7) || strlen(h + 7) != n)
		return false;
	for (i = 0; i < n; i++)	/* constant time */
		diff |= (unsigned char)h[7 + i] ^ (unsigned char)t[i];
	return !diff;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result begin(struct es_zdm *z, struct MHD_Connection *c)
{
	struct es_zdm_mig *zm;
	char err[512];
	int code;

	zm = es_zdm_begin(z, arg(c, "container"), arg(c, "to"), arg(c, "session"), arg(c, "mode"),
			  &code, err, sizeof(err));
	if (!zm)
		return send_error(c, code, err);
	return send_json(c, code, json_pack("{s:s,s:s}", "id", zm->id, "state", "running"));
}

enum MHD_Result es_zdm_api_handle(struct MHD_Connection *c, const char *url, const char *method)
{
	struct es_zdm *z = &es_zdm_agent;
	const char *rest;
	json_t *resp;
	int code;

	if (!token_ok(z, c)) {
		es_warn("auth_refused", "method=%s path=\"%.200s\"", method, url);
		return send_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong token");
	}
	if (!z->cfg || !z->dp_ready)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "this agent has no zero_downtime configuration");
	if (!strncmp(url, "/v1/zdm/target/", 15) && !strcmp(method, "POST")) {
		code = es_zdm_target_op(z, url + 15, c, &resp);
		return send_json(c, code, resp);
	}
	if (!strcmp(url, "/v1/zdm/migrations") && !strcmp(method, "POST"))
		return begin(z, c);
	if (!strcmp(url, "/v1/zdm/migrations") && !strcmp(method, "GET"))
		return send_json(c, MHD_HTTP_OK, es_zdm_list_json(z));
	if (!strncmp(url, "/v1/zdm/migrations/", 19) && !strcmp(method, "GET")) {
		struct es_zdm_mig *zm;

		rest = url + 19;
		zm = es_zdm_find(z, rest);
		if (!zm)
			return send_error(c, MHD_HTTP_NOT_FOUND, "no such zero-downtime migration");
		return send_json(c, MHD_HTTP_OK, es_zdm_json(z, zm));
	}
	return send_error(c, MHD_HTTP_NOT_FOUND,
			  "unknown path (POST /v1/zdm/migrations, GET /v1/zdm/migrations[/ID], "
			  "POST /v1/zdm/target/STEP)");
}
