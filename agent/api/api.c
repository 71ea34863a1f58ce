// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's HTTP listener (lib/http's server, a thread per connection):
 * GET /metrics, /v1/sessions, /v1/status, /v1/node, /v1/advice and
 * /healthz, and the
 * routes of zdm_api.c and migrate_api.c. Handlers only read maps and the
 * snapshot, so a slow client never delays accounting or collection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <jansson.h>
#include "util/log.h"
#include "json/session_index.h"
#include "json/session_json.h"
#include "core/core.h"
#include "http/http_reply.h"
#include "http/http_server.h"
#include "signals/signals.h"
#include "zdm/zdm.h"
#include "api.h"
#include "api_tls.h"
#include "migrate_api.h"
#include "zdm_api.h"

/* The routes served from a gathered body use none: what comes past this is dropped. */
#define UNUSED_BODY_MAX	(64 * 1024)

struct query_ctx {
	struct es_session_query	*q;
	char			err[256];
	int			failed;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct query_ctx *qc = cls;

	(void)kind;
	if (qc->failed)
		return MHD_NO;
	if (es_session_query_set(qc->q, key, value ? value : "", qc->err, sizeof(qc->err)))
		qc->failed = 1;
	return qc->failed ? MHD_NO : MHD_YES;
}

/*
 * The answer from the latest collection scan's index, when it has it
 * (NULL else): the sessions are copied under the lock, their state joined
 * and the JSON built after it.
 */
static json_t *sessions_from_index(struct es_agent *a, const struct es_session_query *q)
{
	struct es_listing_meta meta;
	struct es_session *v = NULL;
	size_t n = 0;
	int err = -ENOENT;
	json_t *j;

	pthread_mutex_lock(&a->acct.lock);
	if (es_index_answers(a->acct.snap.index, q))
		err = es_index_take(a->acct.snap.index, q, &v, &n, &meta);
	pthread_mutex_unlock(&a->acct.lock);
	if (err)
		return NULL;
	es_index_join_state(&a->acct.dp.maps, v, n);
	j = es_sessions_render(&a->acct.dp.maps, q, a->cfg.node_name, v, n, &meta);
	free(v);
	return j;
}

static enum MHD_Result handle_sessions(struct es_agent *a, struct MHD_Connection *c)
{
	struct es_session_query q;
	struct query_ctx qc = { .q = &q };
	json_t *j;
	int err;

	es_session_query_init(&q);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &qc);
	if (qc.failed)
		return es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, qc.err);
	j = sessions_from_index(a, &q);
	err = j ? 0 : es_sessions_json(&a->acct.dp.maps, &q, a->cfg.node_name, &j);
	if (err)
		return es_http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-err));
	return es_http_reply_json(c, MHD_HTTP_OK, j);
}

static json_t *status_json(struct es_agent *a)
{
	json_t *ifs = json_array(), *root;
	struct es_gc_stats gc;
	size_t entries[2];
	unsigned int i;

	pthread_mutex_lock(&a->acct.lock);
	for (i = 0; i < a->acct.dp.n_att; i++) {
		const struct es_attachment *at = &a->acct.dp.att[i];
		json_t *e = json_pack("{s:i,s:s,s:s,s:b,s:b}", "ifindex", at->ifindex,
				      "name", at->info.ifname,
				      "rx_hook", !at->rx ? "none" : at->rx_xdp ? "xdp" : "tc",
				      "tx_hook", at->tcx != NULL, "adopted", at->adopted);

		if (at->info.pod_name[0])
			json_object_set_new(e, "pod", json_sprintf("%s/%s", at->info.pod_namespace,
								    at->info.pod_name));
		json_array_append_new(ifs, e);
	}
	gc = a->acct.gc;
	entries[0] = a->acct.snap.entries[0];
	entries[1] = a->acct.snap.entries[1];
	pthread_mutex_unlock(&a->acct.lock);
	root = json_pack("{s:s,s:s,s:i,s:s,s:I,s:o}", "node", a->cfg.node_name,
			 "version", ES_VERSION, "layout_version", ES_MAP_LAYOUT_VERSION,
			 "pin_path", a->acct.dp.pin_path,
			 "uptime_s", (json_int_t)(time(NULL) - a->start_time), "interfaces", ifs);
	json_object_set_new(root, "session_map", json_pack("{s:i,s:I,s:I,s:I,s:s,s:I}",
			    "capacity", a->cfg.acct.session_map_size,
			    "entries_ipv4", (json_int_t)entries[0],
			    "entries_ipv6", (json_int_t)entries[1],
			    "evictions", (json_int_t)gc.evictions,
			    "table", a->cfg.acct.slots ? "slots" : "maps",
			    "table_slots", (json_int_t)a->acct.dp.maps.tbl.nbuckets *
					   ES_TBL_BUCKET_SLOTS));
	json_object_set_new(root, "collector", json_pack("{s:I,s:I,s:I,s:I,s:I,s:f}",
			    "runs", (json_int_t)gc.runs,
			    "closed_fin", (json_int_t)gc.collected[ES_CLOSE_FIN],
			    "closed_rst", (json_int_t)gc.collected[ES_CLOSE_RST],
			    "closed_idle", (json_int_t)gc.collected[ES_CLOSE_IDLE],
			    "close_events", (json_int_t)gc.close_events,
			    "last_duration_s", gc.last_duration_ns / 1e9));
	return root;
}

/* The scale advisor's ranking now; 404 while no block is configured. */
static enum MHD_Result handle_advice(struct es_agent *a, struct MHD_Connection *c)
{
	json_t *j;

	if (!a->advisor)
		return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "the advisor is off: "
					   "no \"advisor\" blocks in the configuration");
	j = es_agent_advice_json(a->advisor);
	if (!j)
		return es_http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return es_http_reply_json(c, MHD_HTTP_OK, j);
}

/* Routes without a body of their own: zero-downtime steps, metrics, sessions, status. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const struct es_http_body_in *in)
{
	struct es_agent *a = cls;
	size_t len;
	char *body;

	(void)in;
	if (es_zdm_api_owns(url))
		return es_zdm_api_handle(a->zdm, c, url, method);
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return es_http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served");
	if (!strcmp(url, "/healthz"))
		return es_http_reply(c, MHD_HTTP_OK, "text/plain", strdup("ok\n"));
	if (!strcmp(url, "/metrics")) {
		body = es_agent_metrics_render(a, &len);
		if (!body)
			return es_http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return es_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", body);
	}
	if (!strcmp(url, "/v1/sessions"))
		return handle_sessions(a, c);
	if (!strcmp(url, "/v1/status"))
		return es_http_reply_json(c, MHD_HTTP_OK, status_json(a));
	if (!strcmp(url, "/v1/advice"))
		return handle_advice(a, c);
	if (!strcmp(url, "/v1/node"))
		return es_http_reply_json(c, MHD_HTTP_OK,
					  es_node_signals_json(a->signals, a->cfg.node_name));
	return es_http_reply_error(c, MHD_HTTP_NOT_FOUND,
			   "unknown path (try /metrics, /v1/sessions, /v1/status, /v1/node, "
			   "/v1/advice, /healthz)");
}

/* Containers and migrations read their own bodies: an object upload goes to disk as it comes. */
static bool streams(void *cls, const char *url)
{
	(void)cls;
	return es_mig_api_owns(url);
}

static enum MHD_Result stream(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *upload, size_t *upload_len,
			      void **req_ctx)
{
	struct es_agent *a = cls;

	return es_mig_api_handle(a->mig, c, url, method, upload, upload_len, req_ctx);
}

struct es_http_server *es_api_start(struct es_agent *a, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	struct es_http_server_opts o = {
		.listen = a->cfg.listen,
		.addr = (struct sockaddr *)&ss,
		/* threads 0, a thread per connection: an upload or a long poll never delays /metrics */
		.max_connections = 64,
		.idle_timeout_s = (a->cfg.mig.server_timeout_ms + 999) / 1000,
		.max_body = UNUSED_BODY_MAX,
		.handler = handle,
		.streams = streams,
		.stream = stream,
		.stream_done = es_mig_api_completed,
		.cls = a,
	};
	struct es_http_server *s;
	int v6;

	if (es_config_parse_listen(a->cfg.listen, &ss, &v6)) {
		snprintf(err, err_len, "config: field 'listen' must be \"IPv4:port\" or "
			 "\"[IPv6]:port\", got \"%s\"", a->cfg.listen);
		return NULL;
	}
	es_api_tls_options(a->cfg.mig.tls_cert_pem, a->cfg.mig.tls_key_pem, a->cfg.mig.tls_cert,
			   &o);
	return es_http_server_start(&o, &s, err, err_len) ? NULL : s;
}

void es_api_stop(struct es_http_server *s)
{
	es_http_server_stop(s);
}
