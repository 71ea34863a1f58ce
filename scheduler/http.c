// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP server of edgeshift-scheduler (libmicrohttpd, a pool of threads):
 * POST .../filter and .../prioritize (any prefix, so urlPrefix may carry a
 * path), GET /v1/nodes (the inputs in use), /metrics (the extender's own
 * health) and /healthz. Bodies are read whole, up to 64 MiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "util/log.h"
#include "http/http_reply.h"
#include "http/http_server.h"
#include "es_sched.h"

#define MAX_BODY	(64u << 20)

struct server {
	const struct sched_config	*cfg;
	struct metrics_cache		*mc;
	/* Updated with atomic builtins from the pool's threads. */
	uint64_t			requests[2][2];	/* verb, error */
	uint64_t			duration_ns[2];
};

static struct server srv;

static bool ends_with(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);

	return n >= m && !strcmp(s + n - m, sfx);
}

static char *render_metrics(void)
{
	uint64_t ok, failed;
	char *text = NULL;
	size_t len;
	double age;
	FILE *f;
	int v;

	metrics_cache_counters(srv.mc, &ok, &failed, &age);
	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fprintf(f, "# HELP edgeshift_scheduler_requests_total Extender requests by verb and result.\n"
		   "# TYPE edgeshift_scheduler_requests_total counter\n");
	for (v = 0; v < 2; v++) {
		fprintf(f, "edgeshift_scheduler_requests_total{verb=\"%s\",result=\"ok\"} %llu\n",
			v ? "prioritize" : "filter",
			(unsigned long long)__atomic_load_n(&srv.requests[v][0], __ATOMIC_RELAXED));
		fprintf(f, "edgeshift_scheduler_requests_total{verb=\"%s\",result=\"error\"} %llu\n",
			v ? "prioritize" : "filter",
			(unsigned long long)__atomic_load_n(&srv.requests[v][1], __ATOMIC_RELAXED));
	}
	fprintf(f, "# HELP edgeshift_scheduler_request_seconds_total Time spent answering extender requests.\n"
		   "# TYPE edgeshift_scheduler_request_seconds_total counter\n");
	for (v = 0; v < 2; v++)
		fprintf(f, "edgeshift_scheduler_request_seconds_total{verb=\"%s\"} %.6f\n",
			v ? "prioritize" : "filter",
			__atomic_load_n(&srv.duration_ns[v], __ATOMIC_RELAXED) / 1e9);
	fprintf(f, "# HELP edgeshift_scheduler_metrics_refreshes_total Prometheus refreshes by result.\n"
		   "# TYPE edgeshift_scheduler_metrics_refreshes_total counter\n"
		   "edgeshift_scheduler_metrics_refreshes_total{result=\"ok\"} %llu\n"
		   "edgeshift_scheduler_metrics_refreshes_total{result=\"error\"} %llu\n",
		(unsigned long long)ok, (unsigned long long)failed);
	fprintf(f, "# HELP edgeshift_scheduler_metrics_age_seconds Age of the node inputs in use; -1 before the first refresh.\n"
		   "# TYPE edgeshift_scheduler_metrics_age_seconds gauge\n"
		   "edgeshift_scheduler_metrics_age_seconds %.3f\n", age);
	fclose(f);
	return text;
}

static enum MHD_Result handle_verb(struct MHD_Connection *c, enum ext_verb verb,
				   const struct es_http_body_in *b)
{
	uint64_t start = es_now_ns();
	unsigned int status;
	json_t *res;

	if (b->too_big) {
		__atomic_add_fetch(&srv.requests[verb][1], 1, __ATOMIC_RELAXED);
		return es_http_reply_json(c, 413,
				  json_pack("{s:s}", "Error", "edgeshift-scheduler: request body above 64 MiB"));
	}
	res = extender_handle(srv.cfg, srv.mc, verb, b->data ? b->data : "", b->len, &status);
	__atomic_add_fetch(&srv.requests[verb][status != 200 || json_string_length(
			   json_object_get(res, "Error")) > 0], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&srv.duration_ns[verb], es_now_ns() - start, __ATOMIC_RELAXED);
	return es_http_reply_json(c, status, res);
}

static enum MHD_Result reply_nodes(struct MHD_Connection *c)
{
	json_t *j = metrics_cache_json(srv.mc);

	if (j)
		return es_http_reply_json(c, MHD_HTTP_OK, j);
	return es_http_reply_json(c, MHD_HTTP_INTERNAL_SERVER_ERROR, json_pack("{s:s}", "Error",
			  "edgeshift-scheduler: /v1/nodes could not be built (a value JSON "
			  "cannot hold, such as +Inf, or out of memory)"));
}

static enum MHD_Result handle_get(struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/healthz"))
		return es_http_reply(c, MHD_HTTP_OK, "text/plain", strdup("ok\n"));
	if (!strcmp(url, "/metrics"))
		return es_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", render_metrics());
	if (!strcmp(url, "/v1/nodes"))
		return reply_nodes(c);
	return es_http_reply_json(c, MHD_HTTP_NOT_FOUND, json_pack("{s:s}", "Error",
			  "unknown path (POST .../filter, .../prioritize; GET /v1/nodes, /metrics, /healthz)"));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const struct es_http_body_in *b)
{
	(void)cls;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return handle_get(c, url);
	if (strcmp(method, "POST"))
		return es_http_reply_json(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  json_pack("{s:s}", "Error", "only GET and POST are served"));
	if (ends_with(url, "/filter"))
		return handle_verb(c, VERB_FILTER, b);
	if (ends_with(url, "/prioritize"))
		return handle_verb(c, VERB_PRIORITIZE, b);
	return es_http_reply_json(c, MHD_HTTP_NOT_FOUND, json_pack("{s:s}", "Error",
			  "unknown verb (the URL must end in /filter or /prioritize)"));
}

struct es_http_server *sched_http_start(const struct sched_config *cfg,
					struct metrics_cache *mc, char *err, size_t len)
{
	const struct es_http_server_opts o = {
		.listen = cfg->listen, .threads = cfg->threads, .max_body = MAX_BODY,
		.handler = handle,
	};
	struct es_http_server *s;

	srv.cfg = cfg;
	srv.mc = mc;
	return es_http_server_start(&o, &s, err, len) ? NULL : s;
}

void sched_http_stop(struct es_http_server *s)
{
	es_http_server_stop(s);
}
