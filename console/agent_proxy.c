// SPDX-License-Identifier: GPL-2.0-only
/*
 * The console's one way to ask an agent: a bounded GET of a JSON answer.
 * The agents' answers are read-only views, so no token goes with them.
 */
#include <stdio.h>
#include <stdlib.h>
#include "console.h"
#include "http/http_client.h"

#define MAX_ANSWER	(16u << 20)

json_t *con_agent_get(const char *base, const char *path_query, struct es_http_conn *conn,
		      struct es_http_pool *pool, long timeout_ms, char *err, size_t len)
{
	struct es_http_response r = {};
	struct es_http_request req = {
		.connect_ms = timeout_ms, .total_ms = timeout_ms, .max_answer = MAX_ANSWER,
		.conn = conn, .pool = pool,
	};
	json_t *doc = NULL;
	json_error_t jerr;
	char *url = NULL, why[256];

	if (asprintf(&url, "%s%s", base, path_query) < 0) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	req.url = url;
	if (es_http_perform(&req, &r, why, sizeof(why))) {
		snprintf(err, len, "%s: %s", url, r.reason ? r.reason : why);
		goto out;
	}
	if (r.status != 200) {
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
