// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP routes of containers and migrations. Every request needs the shared
 * token ("Authorization: Bearer TOKEN"); without it the answer is 401 and
 * the refusal is logged with the peer's address.
 *
 *   GET    /v1/containers[/NAME]                      list / state
 *   POST   /v1/containers                             run a spec (container.h)
 *   DELETE /v1/containers/NAME                        stop and remove
 *   POST   /v1/migrations                             {container, to, mode, stop_source} -> 202 {id}
 *   GET    /v1/migrations[/ID]                        progress, phases, bytes
 *   POST   /v1/migrations/ID/stop-source              once the target runs it
 *   POST   /v1/migrations/incoming                    (peer) prepare
 *   PUT    /v1/migrations/incoming/ID/objects/NAME    (peer) an archive, streamed
 *   PUT    /v1/migrations/incoming/ID/bundle[?wait_ms=N] (peer) every object and the
 *                                                      restore request (bundle.h),
 *                                                      answered as POST restore
 *   POST   /v1/migrations/incoming/ID/restore[?wait_ms=N] (peer) verify and restore, 202;
 *                                                      N: long poll, 200 with the outcome
 *   GET    /v1/migrations/incoming/ID[?wait_ms=N]     (peer) the restore's outcome, N: long poll
 *   DELETE /v1/migrations/incoming/ID                 (peer) abort, remove all
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include "util/log.h"
#include "http/http_reply.h"
#include "util/fs_util.h"
#include "migration/migration.h"
#include "migrate_api.h"
#include "mig_status.h"

#define JSON_BODY_MAX	(1 << 20)

struct req {
	bool			refused;
	bool			too_large;	/* the rest of the body is read and dropped */
	char			*body;		/* JSON bodies */
	size_t			len;
	struct es_mig_in_obj	*obj;		/* an object's upload */
	struct es_mig_bundle_in	*bundle;	/* a bundle's (bundle.h) */
	char			id[40];
	bool			failed, unknown, is_bundle;
	char			why[256];
};

bool es_mig_api_owns(const char *url)
{
	return !strncmp(url, "/v1/containers", 14) || !strncmp(url, "/v1/migrations", 14);
}

static void peer_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, len);
}

/* "/v1/migrations/incoming/ID/objects/NAME" -> ID, NAME; 0 when it matches. */
static int split_object_url(const char *url, char *id, char *name)
{
	const char *p = url + strlen("/v1/migrations/incoming/"), *slash = strchr(p, '/');

	if (strncmp(url, "/v1/migrations/incoming/", 24) || !slash || slash - p >= 40 ||
	    strncmp(slash, "/objects/", 9) || strlen(slash + 9) >= 16)
		return -1;
	memcpy(id, p, slash - p);
	id[slash - p] = '\0';
	strcpy(name, slash + 9);
	return 0;
}

static enum MHD_Result object_chunk(struct es_migrator *m, struct req *r, const char *url,
				    const char *data, size_t *len)
{
	char id[40], name[16];
	bool unknown = true;

	if (!r->obj && !r->failed) {
		if (split_object_url(url, id, name) ||
		    !(r->obj = es_mig_in_obj_open(m, id, name, &unknown, r->why, sizeof(r->why))))
			r->failed = true;
		r->unknown = r->failed && unknown;
	}
	if (*len && r->obj && es_mig_in_obj_write(r->obj, data, *len))
		r->failed = true;
	*len = 0;
	return MHD_YES;
}

static enum MHD_Result object_done(struct MHD_Connection *c, struct req *r)
{
	struct es_mig_in_obj *o = r->obj;
	uint64_t bytes = o ? es_mig_in_obj_bytes(o) : 0;
	char hex[65];

	r->obj = NULL;
	if (!o)
		return es_http_reply_error(c, r->unknown ? MHD_HTTP_NOT_FOUND :
					   MHD_HTTP_INTERNAL_SERVER_ERROR, r->why);
	if (es_mig_in_obj_close(o, true, hex))
		return es_http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					   "cannot store the object");
	return es_http_reply_json(c, MHD_HTTP_OK, json_pack("{s:I,s:s}", "bytes", (json_int_t)bytes,
						   "sha256", hex));
}

/* "/v1/migrations/incoming/ID/bundle" -> ID; 0 when it matches. */
static int split_bundle_url(const char *url, char *id)
{
	const char *p = url + strlen("/v1/migrations/incoming/"), *slash = strchr(p, '/');

	if (strncmp(url, "/v1/migrations/incoming/", 24) || !slash || slash - p >= 40 ||
	    strcmp(slash, "/bundle"))
		return -1;
	memcpy(id, p, slash - p);
	id[slash - p] = '\0';
	return 0;
}

static enum MHD_Result in_restore(struct es_migrator *m, struct MHD_Connection *c,
				  const char *id, json_t *body);

static enum MHD_Result bundle_chunk(struct es_migrator *m, struct req *r, const char *data,
				    size_t *len)
{
	if (!r->bundle && !r->failed) {
		r->bundle = es_mig_bundle_in_new(m, r->id);
		r->failed = !r->bundle;
	}
	if (*len && r->bundle)
		es_mig_bundle_in_feed(r->bundle, data, *len);
	*len = 0;
	return MHD_YES;
}

/* The whole bundle came: its restore request starts the restore, answered as POST restore. */
static enum MHD_Result bundle_done(struct es_migrator *m, struct MHD_Connection *c, struct req *r)
{
	bool unknown, sender;
	enum MHD_Result ret;
	char err[600];
	json_t *req;

	if (!r->bundle)
		return es_http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	req = es_mig_bundle_in_end(r->bundle, &unknown, &sender, err, sizeof(err));
	r->bundle = NULL;
	if (!req)
		return es_http_reply_error(c, unknown ? MHD_HTTP_NOT_FOUND : sender ?
					   MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	es_info("bundle_received", "id=%s objects=%zu", r->id,
		json_object_size(json_object_get(req, "objects")));
	ret = in_restore(m, c, r->id, req);
	json_decref(req);
	return ret;
}

static enum MHD_Result upload_chunk(struct es_migrator *m, struct MHD_Connection *c,
				    struct req *r, const char *url, const char *data, size_t *len)
{
	bool last = !*len;

	if (!r->bundle && !r->obj && !r->failed && !split_bundle_url(url, r->id))
		r->is_bundle = true;
	if (r->is_bundle)
		return last ? bundle_done(m, c, r) : bundle_chunk(m, r, data, len);
	if (last) {
		object_chunk(m, r, url, data, len);
		return object_done(c, r);
	}
	return object_chunk(m, r, url, data, len);
}

static enum MHD_Result containers(struct es_migrator *m, struct MHD_Connection *c,
				  const char *url, const char *method, json_t *body)
{
	const char *name = url[14] == '/' ? url + 15 : NULL;
	char err[1024];
	int ret;

	if (name && !es_safe_name(name))
		return es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, "container names are [A-Za-z0-9_.-]");
	if (!strcmp(method, "GET"))
		return es_http_reply_json(c, MHD_HTTP_OK, name ? es_container_state(&m->rt, name)
						      : es_container_list(&m->rt));
	if (!strcmp(method, "DELETE") && name) {
		if (!es_container_exists(&m->rt, name))
			return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such container");
		ret = es_container_destroy(&m->rt, name);
		return ret ? es_http_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-ret))
			   : es_http_reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "removed", name));
	}
	if (!strcmp(method, "POST") && !name) {
		if (!body)
			return es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, "body must be a JSON spec");
		ret = es_container_run(&m->rt, body, err, sizeof(err));
		if (ret)
			return es_http_reply_error(c, ret == -EEXIST ? MHD_HTTP_CONFLICT :
					  ret == -EINVAL || ret == -ENOENT ? MHD_HTTP_BAD_REQUEST :
					  MHD_HTTP_INTERNAL_SERVER_ERROR, err);
		return es_http_reply_json(c, MHD_HTTP_OK, es_container_state(&m->rt,
				 json_string_value(json_object_get(body, "name"))));
	}
	return es_http_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET, POST or DELETE");
}

#define ES_MIG_WAIT_MAX_MS	10000

/* ?wait_ms=N of a status request, bounded (a long poll holds a thread). */
static unsigned int wait_ms_arg(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait_ms");
	unsigned long n = v ? strtoul(v, NULL, 10) : 0;

	return n > ES_MIG_WAIT_MAX_MS ? ES_MIG_WAIT_MAX_MS : n;
}

/* The engine's answer: resp with status ok, or its error. */
static enum MHD_Result reply(struct MHD_Connection *c, enum es_mig_err e, unsigned int ok,
			     json_t *resp, const char *err)
{
	if (e) {
		json_decref(resp);
		return es_http_reply_error(c, es_mig_http_status(e), err);
	}
	return es_http_reply_json(c, ok, resp);
}

static enum MHD_Result in_prepare(struct es_migrator *m, struct MHD_Connection *c, json_t *body)
{
	struct es_mig_in_request req = {
		.id = json_string_value(json_object_get(body, "id")),
		.container = json_string_value(json_object_get(body, "container")),
		.mode = json_string_value(json_object_get(body, "mode")),
		.from = json_string_value(json_object_get(body, "from")),
		.spec = json_object_get(body, "spec"),
	};
	json_t *resp = NULL;
	char err[1024];
	enum es_mig_err e;

	e = es_mig_in_prepare(m, &req, &resp, err, sizeof(err));
	return reply(c, e, MHD_HTTP_OK, resp, err);
}

/* The restore's outcome (a long poll of wait_ms); a failed one carries its status as "code". */
static enum MHD_Result in_status(struct es_migrator *m, struct MHD_Connection *c, const char *id,
				 unsigned int wait_ms)
{
	enum es_mig_err e, failure;
	json_t *resp = NULL;
	char err[1024];

	e = es_mig_in_status(m, id, wait_ms, &resp, &failure, err, sizeof(err));
	if (!e && failure)
		json_object_set_new(resp, "code", json_integer(es_mig_http_status(failure)));
	return reply(c, e, MHD_HTTP_OK, resp, err);
}

/* {objects: {NAME: {sha256, bytes}}} of the restore request. */
static void restore_objects(json_t *body, struct es_mig_in_object objs[ES_MIG_OBJECTS])
{
	json_t *all = json_object_get(body, "objects"), *o;
	int i;

	for (i = 0; i < ES_MIG_OBJECTS; i++) {
		o = json_object_get(all, es_mig_object_names[i]);
		objs[i] = (struct es_mig_in_object){
			.sent = o != NULL,
			.sha256 = json_string_value(json_object_get(o, "sha256")),
			.bytes = json_integer_value(json_object_get(o, "bytes")),
		};
	}
}

static enum MHD_Result in_restore(struct es_migrator *m, struct MHD_Connection *c,
				  const char *id, json_t *body)
{
	struct es_mig_in_object objs[ES_MIG_OBJECTS];
	json_t *resp = NULL;
	char err[1024];
	enum es_mig_err e;

	restore_objects(body, objs);
	e = es_mig_in_restore(m, id, objs, &resp, err, sizeof(err));
	if (!e && (es_mig_fault("restore_reply_lost") || es_mig_fault("restore_outcome_lost"))) {
		json_decref(resp);
		return MHD_NO;	/* the answer is lost: the connection just closes */
	}
	/* ?wait_ms=N: the outcome in this answer when it comes in time (no extra round trip) */
	if (!e && wait_ms_arg(c)) {
		json_decref(resp);
		return in_status(m, c, id, wait_ms_arg(c));
	}
	return reply(c, e, MHD_HTTP_ACCEPTED, resp, err);
}

static enum MHD_Result incoming(struct es_migrator *m, struct MHD_Connection *c,
				const char *url, const char *method, json_t *body)
{
	const char *rest = url + strlen("/v1/migrations/incoming");
	json_t *resp = NULL;
	char id[40], err[1024];
	enum es_mig_err e;

	if (!*rest && !strcmp(method, "POST"))
		return body ? in_prepare(m, c, body)
			    : es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, "body must be JSON");
	if (*rest != '/' || strlen(rest + 1) >= sizeof(id))
		return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "unknown incoming path");
	snprintf(id, sizeof(id), "%s", rest + 1);
	if (strchr(id, '/') && !strcmp(strchr(id, '/'), "/restore") && !strcmp(method, "POST")) {
		*strchr(id, '/') = '\0';
		return body ? in_restore(m, c, id, body)
			    : es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, "body must be JSON");
	}
	if (!strchr(id, '/') && !strcmp(method, "GET")) {
		if (es_mig_fault("restore_outcome_lost"))
			return MHD_NO;
		return in_status(m, c, id, wait_ms_arg(c));
	}
	if (!strchr(id, '/') && !strcmp(method, "DELETE")) {
		e = es_mig_in_abort(m, id, &resp, err, sizeof(err));
		return reply(c, e, MHD_HTTP_OK, resp, err);
	}
	return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "unknown incoming path or method");
}

/* POST /v1/migrations {container, to, mode, stop_source}: 202 {id}. */
static enum MHD_Result begin(struct es_migrator *m, struct MHD_Connection *c, json_t *body)
{
	struct es_mig_request req = {
		.container = json_string_value(json_object_get(body, "container")),
		.to = json_string_value(json_object_get(body, "to")),
		.mode = json_string_value(json_object_get(body, "mode")),
		.stop_source = json_is_true(json_object_get(body, "stop_source")),
	};
	struct es_migration *mg = NULL;
	char err[512];
	enum es_mig_err e;

	e = es_migration_begin(m, &req, &mg, err, sizeof(err));
	return reply(c, e, MHD_HTTP_ACCEPTED, e ? NULL : json_pack("{s:s}", "id", mg->id), err);
}

static enum MHD_Result migrations(struct es_migrator *m, struct MHD_Connection *c,
				  const char *url, const char *method, json_t *body)
{
	const char *rest = url + strlen("/v1/migrations");
	struct es_migration *mg;
	char id[40];

	if (!strncmp(rest, "/incoming", 9) && (!rest[9] || rest[9] == '/'))
		return incoming(m, c, url, method, body);
	if (!*rest && !strcmp(method, "GET"))
		return es_http_reply_json(c, MHD_HTTP_OK, es_mig_list_json(m));
	if (!*rest && !strcmp(method, "POST"))
		return body ? begin(m, c, body)
			    : es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, "body must be JSON");
	if (*rest != '/' || strlen(rest + 1) >= sizeof(id))
		return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "unknown migration path");
	snprintf(id, sizeof(id), "%s", rest + 1);
	if (strchr(id, '/') && !strcmp(strchr(id, '/'), "/stop-source") && !strcmp(method, "POST")) {
		*strchr(id, '/') = '\0';
		mg = es_mig_find(m, id);
		if (!mg)
			return es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such migration");
		if (es_mig_stop_source(m, mg))
			return es_http_reply_error(c, MHD_HTTP_CONFLICT, mg->error);
		return es_http_reply_json(c, MHD_HTTP_OK, es_mig_json(m, mg));
	}
	mg = strcmp(method, "GET") ? NULL : es_mig_find(m, id);
	return mg ? es_http_reply_json(c, MHD_HTTP_OK, es_mig_json(m, mg))
		  : es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "no such migration");
}

static enum MHD_Result dispatch(struct es_migrator *m, struct MHD_Connection *c,
				const char *url, const char *method, struct req *r)
{
	json_t *body = NULL;
	enum MHD_Result ret;

	if (r->body) {
		body = json_loadb(r->body, r->len, 0, NULL);
		if (!body)
			return es_http_reply_error(c, MHD_HTTP_BAD_REQUEST, "body is not valid JSON");
	}
	if (!strncmp(url, "/v1/containers", 14) && (!url[14] || url[14] == '/'))
		ret = containers(m, c, url, method, body);
	else if (!url[14] || url[14] == '/')
		ret = migrations(m, c, url, method, body);
	else
		ret = es_http_reply_error(c, MHD_HTTP_NOT_FOUND, "unknown path");
	json_decref(body);
	return ret;
}

/* The Content-Length the client declared; 0 when none (chunked). */
static unsigned long long declared_len(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return v ? strtoull(v, NULL, 10) : 0;
}

static enum MHD_Result body_too_large(struct MHD_Connection *c)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "body too large (at most %d bytes)", JSON_BODY_MAX);
	return es_http_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

enum MHD_Result es_mig_api_handle(struct es_migrator *m, struct MHD_Connection *c,
				  const char *url, const char *method, const char *upload,
				  size_t *upload_len, void **req_ctx)
{
	struct req *r = *req_ctx;
	char peer[64];

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*req_ctx = r;
		if (!es_http_bearer_ok(c, m->cfg->token)) {
			r->refused = true;
			peer_addr(c, peer, sizeof(peer));
			es_warn("auth_refused", "peer=%s method=%s path=\"%.200s\" reason=%s", peer,
				method, url, m->cfg->token[0] ? "bad_or_missing_token" : "no_token_configured");
			return es_http_reply_error(c, MHD_HTTP_UNAUTHORIZED,
					  m->cfg->token[0] ? "missing or wrong token" :
					  "this agent has no migration.token configured");
		}
		if (strcmp(method, "PUT") && declared_len(c) > JSON_BODY_MAX)
			return body_too_large(c);	/* before the body: no 100 Continue */
		return MHD_YES;	/* the body follows */
	}
	if (r->refused) {
		*upload_len = 0;
		return MHD_YES;
	}
	if (!strcmp(method, "PUT"))
		return upload_chunk(m, c, r, url, upload, upload_len);
	if (*upload_len) {
		/*
		 * A reply can only be queued once the upload is read: drop the
		 * rest and answer at the last call (a reply queued now is
		 * refused and the connection just closes).
		 */
		if (r->too_large || r->len + *upload_len > JSON_BODY_MAX) {
			r->too_large = true;
			*upload_len = 0;
			return MHD_YES;
		}
		char *nb = realloc(r->body, r->len + *upload_len);

		if (!nb)
			return MHD_NO;
		r->body = nb;
		memcpy(r->body + r->len, upload, *upload_len);
		r->len += *upload_len;
		*upload_len = 0;
		return MHD_YES;
	}
	if (r->too_large)
		return body_too_large(c);
	return dispatch(m, c, url, method, r);
}

void es_mig_api_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
			  enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (!r)
		return;
	if (r->obj)	/* the upload broke off: drop the partial object */
		es_mig_in_obj_close(r->obj, false, NULL);
	if (r->bundle)
		es_mig_bundle_in_free(r->bundle);
	free(r->body);
	free(r);
	*req_ctx = NULL;
}
