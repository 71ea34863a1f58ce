// SPDX-License-Identifier: GPL-2.0-only
/*
 * The console's one way to ask an agent: a bounded exchange with a JSON
 * answer. Most are read-only views (GET) and go without a token; the
 * migration lists, which the agents guard, and the start of a migration
 * (POST, whose refusal is an answer too) go with their bearer token.
 */
#include <stdio.h>
#include <stdlib.h>
#include "console.h"
#include "http/http_client.h"

#define MAX_ANSWER	(16u << 20)

/*
 * base+path_query; *status is the agent's HTTP status (0: no answer). An
 * answer of another status than 200 is an error, unless any_status: then
 * it is parsed too (an agent's refusal says why in its JSON).
 */
static json_t *ask(const char *base, const char *path_query, const struct es_http_request *proto,
		   bool any_status, long *status, char *err, size_t len)
{
	struct es_http_response r = {};
	struct es_http_request req = *proto;
	json_t *doc = NULL;
	json_error_t jerr;
	char *url = NULL, why[256];

	*status = 0;
	if (asprintf(&url, "%s%s", base, path_query) < 0) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	req.url = url;
	req.max_answer = MAX_ANSWER;
	if (es_http_perform(&req, &r, why, sizeof(why))) {
		snprintf(err, len, "%s: %s", url, r.reason ? r.reason : why);
		goto out;
	}
	*status = r.status;
	if (r.status != 200 && !any_status) {
		snprintf(err, len, "%s: HTTP status %ld", url, r.status);
		goto out;
	}
	doc = json_loadb(r.body ? r.body : "", r.len, 0, &jerr);
	if (!doc)
		snprintf(err, len, "%s: answer is not JSON: %s", url, jerr.text);
out:
	es_http_response_free(&r);
	free(url);
	return doc;
}

json_t *con_agent_get_auth(const char *base, const char *path_query, const char *bearer,
			   struct es_http_pool *pool, long timeout_ms, long *status,
			   char *err, size_t len)
{
	const struct es_http_request req = {
		.connect_ms = timeout_ms, .total_ms = timeout_ms, .pool = pool, .bearer = bearer,
	};

	return ask(base, path_query, &req, false, status, err, len);
}

json_t *con_agent_get(const char *base, const char *path_query, struct es_http_conn *conn,
		      struct es_http_pool *pool, long timeout_ms, char *err, size_t len)
{
	const struct es_http_request req = {
		.connect_ms = timeout_ms, .total_ms = timeout_ms, .conn = conn, .pool = pool,
	};
	long status;

	return ask(base, path_query, &req, false, &status, err, len);
}

json_t *con_agent_post(const char *base, const char *path_query, const char *body,
		       const char *bearer, long timeout_ms, long *status, char *err, size_t len)
{
	const struct es_http_request req = {
		.body = body, .connect_ms = timeout_ms, .total_ms = timeout_ms, .bearer = bearer,
	};

	return ask(base, path_query, &req, true, status, err, len);
}
