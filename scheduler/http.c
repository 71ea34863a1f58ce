// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP server of edgeshift-scheduler (libmicrohttpd, a pool of threads):
 * POST .../filter and .../prioritize (any prefix, so urlPrefix may carry a
 * path), GET /v1/nodes (the inputs in use), /metrics (the extender's own
 * health) and /healthz. Bodies are read whole, up to 64 MiB.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "util/log.h"
#include "http/http_reply.h"
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

struct body {
	char	*p;
	size_t	len;
	bool	too_big;
};

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
				   const struct body *b)
{
	uint64_t start = es_now_ns();
	unsigned int status;
	json_t *res;

	if (b->too_big) {
		__atomic_add_fetch(&srv.requests[verb][1], 1, __ATOMIC_RELAXED);
		return es_http_reply_json(c, 413,
				  json_pack("{s:s}", "Error", "edgeshift-scheduler: request body above 64 MiB"));
	}
	res = extender_handle(srv.cfg, srv.mc, verb, b->p ? b->p : "", b->len, &status);
	__atomic_add_fetch(&srv.requests[verb][status != 200 || json_string_length(
			   json_object_get(res, "Error")) > 0], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&srv.duration_ns[verb], es_now_ns() - start, __ATOMIC_RELAXED);
	return es_http_reply_json(c, status, res);
}

static enum MHD_Result handle_get(struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/healthz"))
		return es_http_reply(c, MHD_HTTP_OK, "text/plain", strdup("ok\n"));
	if (!strcmp(url, "/metrics"))
		return es_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", render_metrics());
	if (!strcmp(url, "/v1/nodes"))
		return es_http_reply_json(c, MHD_HTTP_OK, metrics_cache_json(srv.mc));
	return es_http_reply_json(c, MHD_HTTP_NOT_FOUND, json_pack("{s:s}", "Error",
			  "unknown path (POST .../filter, .../prioritize; GET /v1/nodes, /metrics, /healthz)"));
}

static void body_add(struct body *b, const char *data, size_t n)
{
	char *np;

	if (b->too_big || b->len + n > MAX_BODY) {
		b->too_big = true;
		return;
	}
	np = realloc(b->p, b->len + n + 1);
	if (!np) {
		b->too_big = true;
		return;
	}
	memcpy(np + b->len, data, n);
	b->p = np;
	b->len += n;
	b->p[b->len] = '\0';
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **req_ctx)
{
	struct body *b = *req_ctx;

	(void)cls;
	(void)version;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return handle_get(c, url);
	if (strcmp(method, "POST"))
		return es_http_reply_json(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  json_pack("{s:s}", "Error", "only GET and POST are served"));
	if (!b) {
		b = calloc(1, sizeof(*b));
		*req_ctx = b;
		return b ? MHD_YES : MHD_NO;
	}
	if (*upload_len) {
		body_add(b, upload, *upload_len);
		*upload_len = 0;
		return MHD_YES;
	}
	if (ends_with(url, "/filter"))
		return handle_verb(c, VERB_FILTER, b);
	if (ends_with(url, "/prioritize"))
		return handle_verb(c, VERB_PRIORITIZE, b);
	return es_http_reply_json(c, MHD_HTTP_NOT_FOUND, json_pack("{s:s}", "Error",
			  "unknown verb (the URL must end in /filter or /prioritize)"));
}

static void completed(void *cls, struct MHD_Connection *c, void **req_ctx,
		      enum MHD_RequestTerminationCode toe)
{
	struct body *b = *req_ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (b) {
		free(b->p);
		free(b);
		*req_ctx = NULL;
	}
}

/* "addr:port" or "[v6]:port" with a literal address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	const char *colon = strrchr(listen, ':');
	struct addrinfo *ai;
	char host[128];
	size_t hl;

	if (!colon || !colon[1])
		return -1;
	hl = colon - listen;
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

struct MHD_Daemon *sched_http_start(const struct sched_config *cfg, struct metrics_cache *mc,
				    char *err, size_t len)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	bool v6;

	srv.cfg = cfg;
	srv.mc = mc;
	if (parse_listen(cfg->listen, &ss, &v6)) {
		snprintf(err, len, "config: field 'listen' must be \"IPv4:port\" or \"[IPv6]:port\", got \"%s\"",
			 cfg->listen);
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30U,
			     MHD_OPTION_CONNECTION_LIMIT, 256U,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_END);
	if (!d)
		snprintf(err, len, "cannot listen on %s: %m", cfg->listen);
	return d;
}

void sched_http_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
