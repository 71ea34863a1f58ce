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
#include "util/log.h"
#include "http/http_reply.h"
#include "core/config.h"
#include "migration/migrate.h"
#include "zdm/zdm.h"

bool es_zdm_api_owns(const char *url)
{
	return !strncmp(url, "/v1/zdm/", 8) || !strcmp(url, "/v1/zdm");
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
		return es_http_reply_error(c, code, err);
	return es_http_reply_json(c, code, json_pack("{s:s,s:s}", "id", zm->id, "state", "running"));
}

enum MHD_Result es_zdm_api_handle(struct MHD_Connection *c, const char *url, const char *method)
{
	struct es_zdm *z = &es_zdm_agent;
	const char *rest;
	json_t *resp;
	int code;

	if (!es_http_bearer_ok(c, z->acfg->mig.token)) {
		es_warn("auth_refused", "method=%s path=\"%.200s\"", method, url);
		return es_http_reply_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong token");
	}
	if (!z->cfg || !z->dp_ready)
		return es_http_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "this agent has no zero_downtime configuration");
	if (!strncmp(url, "/v1/zdm/target/", 15) && !strcmp(method, "POST")) {
		code = es_zdm_target_op(z, url + 15, c, &resp);
		return es_http_reply_json(c, code, resp);
	}
	if (!strcmp(url, "/v1/zdm/migrations") && !strcmp(method, "POST"))
		return begin(z, c);
	if (!strcmp(url, "/v1/zdm/migrations") && !strcmp(method, "GET"))
		return es_http_reply_json(c, MHD_HTTP_OK, es_zdm_list_json(z));
	if (!strncmp(url, "/v1/zdm/migrations/", 19) && !strcmp(method, "GET")) {
		struct es_zdm_mig *zm;

		rest = url + 19;
		zm = es_zdm_find(z, rest);
		if (!zm)
			return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such zero-downtime migration");
		return es_http_reply_json(c, MHD_HTTP_OK, es_zdm_json(z, zm));
	}
	return es_http_reply_error(c, MHD_HTTP_NOT_FOUND,
			  "unknown path (POST /v1/zdm/migrations, GET /v1/zdm/migrations[/ID], "
			  "POST /v1/zdm/target/STEP)");
}
