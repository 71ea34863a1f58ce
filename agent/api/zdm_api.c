// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP routes of zero-downtime migrations (the shared token required, as
 * for /v1/migrations). Parameters are query arguments, so every answer is
 * given on the first call and no request state is kept:
 *
 *   POST /v1/zdm/migrations?container=&to=&session=&mode=   -> 202 {id}   (source)
 *   GET  /v1/zdm/migrations[/ID]                           progress
 *   POST /v1/zdm/target/STEP?id=&session=&...              (peer) a data-plane step
 *   POST /v1/zdm/source/resend?session=&from=&to=          (peer) replies lost on the WAN
 */
#include <stdlib.h>
#include <string.h>
#include "util/log.h"
#include "http/http_reply.h"
#include "zdm/zdm.h"
#include "mig_status.h"
#include "zdm_api.h"

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
	struct es_zdm_request req = { .container = arg(c, "container"), .to = arg(c, "to"),
				      .session = arg(c, "session"), .mode = arg(c, "mode") };
	struct es_zdm_mig *zm = NULL;
	enum es_mig_err e;
	char err[512];

	e = es_zdm_begin(z, &req, &zm, err, sizeof(err));
	if (e)
		return es_http_reply_error(c, es_mig_http_status(e), err);
	return es_http_reply_json(c, MHD_HTTP_ACCEPTED,
				  json_pack("{s:s,s:s}", "id", zm->id, "state", "running"));
}

/* A data-plane step a peer asks of this node: as the target, or as the source. */
static enum MHD_Result peer_step(struct es_zdm *z, struct MHD_Connection *c, const char *op,
				 bool source)
{
	struct es_zdm_target_args a = {
		.id = arg(c, "id"), .session = arg(c, "session"), .container = arg(c, "container"),
		.source = arg(c, "source"), .cursor = arg(c, "cursor"), .remove = arg(c, "remove"),
		.from = arg(c, "from"), .to = arg(c, "to"), .delivered = arg(c, "delivered"),
		.reason = arg(c, "reason"), .reply_base = arg(c, "reply_base"),
		.replies = arg(c, "replies"),
	};
	json_t *resp = NULL;
	enum es_mig_err e;

	e = source ? es_zdm_source_op(z, op, &a, &resp) : es_zdm_target_op(z, op, &a, &resp);
	return es_http_reply_json(c, es_mig_http_status(e), resp);
}

enum MHD_Result es_zdm_api_handle(struct es_zdm *z, struct MHD_Connection *c, const char *url,
				  const char *method)
{
	const char *rest;

	if (!es_http_bearer_ok(c, z->mcfg->token)) {
		es_warn("auth_refused", "method=%s path=\"%.200s\"", method, url);
		return es_http_reply_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong token");
	}
	if (!z->cfg || !z->dp_ready)
		return es_http_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "this agent has no zero_downtime configuration");
	if (!strncmp(url, "/v1/zdm/target/", 15) && !strcmp(method, "POST"))
		return peer_step(z, c, url + 15, false);
	if (!strncmp(url, "/v1/zdm/source/", 15) && !strcmp(method, "POST"))
		return peer_step(z, c, url + 15, true);
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
			  "POST /v1/zdm/target/STEP, POST /v1/zdm/source/resend)");
}
