// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP server of edgeshift-console (libmicrohttpd, a pool of threads):
 * the page (GET /, /ui/FILE) and its JSON (GET /api/nodes, /api/history,
 * /api/sessions, /api/migrations), all read-only. Anything that would
 * change the site (actions under /api/ with another method: the session
 * test, a migration) needs the agents' bearer token, and a console
 * started without one refuses them all. The migrations list needs it
 * too: the agents guard their lists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "console_http.h"
#include "http/http_client.h"
#include "http/http_reply.h"
#include "http/http_server.h"
#include "util/log.h"

#define SESSIONS_TIMEOUT_MS	5000
#define SESSIONS_MAX_LIMIT	1000
#define MAX_WINDOW_S		604800	/* a week of Prometheus data */

struct server {
	const struct con_config	*cfg;
	struct con_poller	*poller;
	struct es_http_pool	*pool;	/* kept connections to the agents, for the sessions view */
	struct con_st		*st;	/* the session test */
};

static struct server srv;

static const char *arg(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* A decimal integer in [lo, hi], or dflt when absent; -1 when malformed. */
static long long_arg(struct MHD_Connection *c, const char *key, long lo, long hi, long dflt)
{
	const char *s = arg(c, key);
	char *end;
	long v;

	if (!s)
		return dflt;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi || *s == '+' || *s == ' ')
		return -1;
	return v;
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

/*
 * The resource view's samples: from Prometheus when there is one (any
 * window it holds), else, or when it fails, the console's own (at most
 * --history back); "source" says which.
 */
static enum MHD_Result get_history(struct MHD_Connection *c)
{
	long w = long_arg(c, "window", 1, MAX_WINDOW_S, 300);
	char err[1024] = "";
	json_t *j = NULL;

	if (w < 0)
		return con_reply_error(c, MHD_HTTP_BAD_REQUEST, "window must be 1 to 604800 seconds");
	if (srv.cfg->prom_url[0])
		j = con_prom_history(srv.cfg->prom_url, con_poller_heads_json(srv.poller), w,
				     err, sizeof(err));
	if (j)
		return con_reply_json(c, MHD_HTTP_OK, j);
	if (err[0])
		es_warn("prometheus_failed", "error=\"%s\"", err);
	j = con_poller_history_json(srv.poller, w < srv.cfg->history_s ? w : srv.cfg->history_s);
	json_object_set_new(j, "source", json_string("console"));
	if (err[0])
		json_object_set_new(j, "prometheus_error", json_string(err));
	return con_reply_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result get_nodes(struct MHD_Connection *c)
{
	json_t *j = con_poller_nodes_json(srv.poller);

	json_object_set_new(j, "read_only", json_boolean(!srv.cfg->token[0]));
	return con_reply_json(c, MHD_HTTP_OK, j);
}

/* The top sessions of one node, sorted by the agent (its /v1/sessions). */
static enum MHD_Result get_sessions(struct MHD_Connection *c)
{
	static const char *const sorts[] = { "bytes", "packets", "first", "last", "latency", NULL };
	static const char *const orders[] = { "asc", "desc", NULL };
	const char *sort = arg(c, "sort") ?: "bytes", *order = arg(c, "order") ?: "desc";
	long id = long_arg(c, "node", 0, CON_MAX_NODES - 1, -1);
	long limit = long_arg(c, "limit", 1, SESSIONS_MAX_LIMIT, 20);
	char url[CON_URL_MAX], q[128], err[768];
	json_t *doc;

	if (id < 0 || con_poller_node_url(srv.poller, id, url, sizeof(url)))
		return con_reply_error(c, MHD_HTTP_BAD_REQUEST, "node must be the id of a node");
	if (limit < 0 || !one_of(sort, sorts) || !one_of(order, orders))
		return con_reply_error(c, MHD_HTTP_BAD_REQUEST,
				       "sort must be bytes, packets, first, last or latency; "
				       "order asc or desc; limit 1 to 1000");
	snprintf(q, sizeof(q), "/v1/sessions?sort=%s&order=%s&limit=%ld", sort, order, limit);
	doc = con_agent_get(url, q, NULL, srv.pool, SESSIONS_TIMEOUT_MS, err, sizeof(err));
	if (!doc)
		return con_reply_error(c, MHD_HTTP_BAD_GATEWAY, err);
	return con_reply_json(c, MHD_HTTP_OK, json_pack("{s:i, s:o}", "node_id", (int)id,
							"agent", doc));
}

/* Every node's migrations, read with the agents' token (which their lists need). */
static enum MHD_Result get_migrations(struct MHD_Connection *c)
{
	if (!srv.cfg->token[0])
		return con_reply_error(c, MHD_HTTP_FORBIDDEN,
				       "the agents show their migrations only with their token: "
				       "start the console with --token-file");
	return con_reply_json(c, MHD_HTTP_OK,
			      con_migrations_json(con_poller_heads_json(srv.poller),
						  srv.cfg->token, srv.pool));
}

static enum MHD_Result handle_get(struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/healthz"))
		return con_reply(c, MHD_HTTP_OK, "text/plain", strdup("ok\n"), 3);
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return con_static_reply(c, srv.cfg->ui_dir, "index.html");
	if (!strncmp(url, "/ui/", 4))
		return con_static_reply(c, srv.cfg->ui_dir, url + 4);
	if (!strcmp(url, "/api/nodes"))
		return get_nodes(c);
	if (!strcmp(url, "/api/history"))
		return get_history(c);
	if (!strcmp(url, "/api/sessions"))
		return get_sessions(c);
	if (!strcmp(url, "/api/migrations"))
		return get_migrations(c);
	if (!strcmp(url, "/api/session-test"))
		return con_reply_json(c, MHD_HTTP_OK, con_st_json(srv.st));
	return con_reply_error(c, MHD_HTTP_NOT_FOUND,
			       "unknown path (GET /, /ui/FILE, /api/nodes, /api/history, "
			       "/api/sessions, /api/migrations, /api/session-test, /healthz)");
}

/* An action's body, a JSON object; NULL when it is none, with the 400 in *ret. */
static json_t *body_object(struct MHD_Connection *c, const struct es_http_body_in *b,
			   enum MHD_Result *ret)
{
	json_t *body = b->data ? json_loads(b->data, 0, NULL) : NULL;

	if (json_is_object(body))
		return body;
	json_decref(body);
	*ret = con_reply_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
	return NULL;
}

/* POST /api/session-test {to, rate_mbit, sessions, step_s, slo_us[, port]}: 202 and its state. */
static enum MHD_Result start_session_test(struct MHD_Connection *c, const struct es_http_body_in *b)
{
	struct con_st_params p;
	enum MHD_Result ret;
	json_t *body;
	char err[512];
	int e;

	body = body_object(c, b, &ret);
	if (!body)
		return ret;
	if (con_st_params_parse(body, &p, err, sizeof(err))) {
		ret = con_reply_error(c, MHD_HTTP_BAD_REQUEST, err);
		goto out;
	}
	e = con_st_start(srv.st, &p, err, sizeof(err));
	if (!e)
		es_info("session_test_started", "to=\"%s\" rate_mbit=%g sessions=%u", p.to,
			p.rate_mbit, p.sessions);
	ret = e ? con_reply_error(c, e == -EBUSY ? MHD_HTTP_CONFLICT :
				  MHD_HTTP_INTERNAL_SERVER_ERROR, err)
		: con_reply_json(c, MHD_HTTP_ACCEPTED, con_st_json(srv.st));
out:
	json_decref(body);
	return ret;
}

/* DELETE /api/session-test: the running test's sessions torn down. */
static enum MHD_Result stop_session_test(struct MHD_Connection *c)
{
	if (con_st_stop(srv.st))
		return con_reply_error(c, MHD_HTTP_CONFLICT, "no session test is running");
	es_info("session_test_stopped", "by=api");
	return con_reply_json(c, MHD_HTTP_OK, con_st_json(srv.st));
}

/* The token of "Authorization: Bearer TOKEN", once es_http_bearer_ok has accepted it. */
static const char *page_token(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	return h && strlen(h) > 7 ? h + 7 : "";
}

/* The source agent's refusal, its own words kept apart from the console's. */
static enum MHD_Result mig_refused(struct MHD_Connection *c, const struct con_mig_start *s,
				   json_t *doc, long status)
{
	const char *why = json_string_value(json_object_get(doc, "error")) ?: "no reason given";
	const char *node = json_string_value(json_object_get(s->from, "name")) ?: "?";
	char msg[1024];

	snprintf(msg, sizeof(msg), "the agent of %s refused (HTTP %ld): %s", node, status, why);
	es_warn("migration_refused", "node=\"%s\" container=\"%s\" status=%ld error=\"%s\"",
		node, s->container, status, why);
	/* its 4xx is the request's fault and kept; anything else is the agent's */
	return con_reply_json(c, status >= 400 && status < 500 ? status : MHD_HTTP_BAD_GATEWAY,
			      json_pack("{s:s, s:i, s:s}", "error", msg, "agent_status", (int)status,
					"agent_error", why));
}

/*
 * POST /api/migrations {kind, container, from, to[, mode, stop_source]}:
 * started at the source's agent with the page's token; 202 and its answer.
 */
static enum MHD_Result start_migration(struct MHD_Connection *c, const struct es_http_body_in *b)
{
	json_t *body, *heads, *doc = NULL;
	struct con_mig_start s;
	enum MHD_Result ret;
	char err[768];
	long status;

	body = body_object(c, b, &ret);
	if (!body)
		return ret;
	heads = con_poller_heads_json(srv.poller);
	if (con_mig_start_parse(body, heads, &s, err, sizeof(err))) {
		ret = con_reply_error(c, MHD_HTTP_BAD_REQUEST, err);
		goto out;
	}
	doc = con_mig_start(&s, page_token(c), &status, err, sizeof(err));
	if (!doc)
		ret = con_reply_error(c, MHD_HTTP_BAD_GATEWAY, err);
	else if (status / 100 != 2)
		ret = mig_refused(c, &s, doc, status);
	else {
		es_info("migration_started", "kind=%s container=\"%s\" from=\"%s\" to=\"%s\" id=\"%s\"",
			s.zdm ? "zdm" : "migrate", s.container,
			json_string_value(json_object_get(s.from, "name")),
			json_string_value(json_object_get(s.to, "name")),
			json_string_value(json_object_get(doc, "id")) ?: "?");
		ret = con_reply_json(c, MHD_HTTP_ACCEPTED,
				     json_pack("{s:O, s:s, s:O}", "node_id", json_object_get(s.from, "id"),
					       "kind", s.zdm ? "zero-downtime" : "plain", "agent", doc));
	}
out:
	json_decref(doc);
	json_decref(heads);
	json_decref(body);
	return ret;
}

/* Actions: the token first, then the action. */
static enum MHD_Result handle_action(struct MHD_Connection *c, const char *url,
				     const char *method, const struct es_http_body_in *b)
{
	if (!srv.cfg->token[0])
		return con_reply_error(c, MHD_HTTP_FORBIDDEN,
				       "read-only console: started without --token-file");
	if (!es_http_bearer_ok(c, srv.cfg->token))
		return con_reply_error(c, MHD_HTTP_UNAUTHORIZED,
				       "actions need the agents' bearer token");
	if (!strcmp(url, "/api/session-test") && !strcmp(method, "POST"))
		return start_session_test(c, b);
	if (!strcmp(url, "/api/session-test") && !strcmp(method, "DELETE"))
		return stop_session_test(c);
	if (!strcmp(url, "/api/migrations") && !strcmp(method, "POST"))
		return start_migration(c, b);
	return con_reply_error(c, MHD_HTTP_NOT_FOUND, "no action at this path (POST or DELETE "
			       "/api/session-test, POST /api/migrations)");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const struct es_http_body_in *b)
{
	(void)cls;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return handle_get(c, url);
	if (!strncmp(url, "/api/", 5))
		return handle_action(c, url, method, b);
	return con_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are served here");
}

struct es_http_server *con_http_start(const struct con_config *cfg, struct con_poller *p,
				      char *err, size_t len)
{
	const struct es_http_server_opts o = {
		.listen = cfg->listen, .threads = 4, .max_body = 1u << 20, .handler = handle,
	};
	struct es_http_server *s;

	srv.cfg = cfg;
	srv.poller = p;
	srv.pool = es_http_pool_new();	/* NULL: each request connects alone */
	srv.st = con_st_new(cfg->edgeshift);
	if (!srv.st) {
		snprintf(err, len, "out of memory");
		es_http_pool_free(srv.pool);
		return NULL;
	}
	if (es_http_server_start(&o, &s, err, len)) {
		con_st_free(srv.st);
		es_http_pool_free(srv.pool);
		return NULL;
	}
	return s;
}

void con_http_stop(struct es_http_server *s)
{
	es_http_server_stop(s);
	con_st_free(srv.st);
	srv.st = NULL;
	es_http_pool_free(srv.pool);
	srv.pool = NULL;
}
