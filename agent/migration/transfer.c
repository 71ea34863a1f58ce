// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/fs_util.h"
#include "http/http_client.h"
#include "transfer.h"

#define CONTROL_ANSWER_MAX	(1 << 20)	/* a control answer is small */
#define CONTROL_WHY		256		/* the client's account of a failure */
#define UPLOAD_BUFFER		(512L * 1024)

bool es_peer_done(int status)
{
	return status == 200;
}

bool es_peer_accepted(int status)
{
	return status == 202;
}

/*
 * What every request to a peer carries: the token, the peer CA, the
 * connect bound, and a connection of the migrator's pool.
 */
static void peer_request(struct es_http_request *req, struct es_http_pool *pool,
			 const struct es_mig_config *cfg, const char *url)
{
	*req = (struct es_http_request){
		.url = url,
		.bearer = cfg->token,
		/* https:// peers: their certificates are checked against it */
		.ca_file = cfg->tls_ca[0] ? cfg->tls_ca : NULL,
		.connect_ms = cfg->connect_timeout_ms,
		.max_answer = CONTROL_ANSWER_MAX,
		.pool = pool,
		.keepalive = true,
		/* never reuse a connection the peer's listener may be closing as idle */
		.max_conn_age_s = cfg->server_timeout_ms > 4000 ? cfg->server_timeout_ms / 2000 : 1,
	};
}

/* The status (0 when no answer came), the decoded answer in *resp, err for a failure. */
static int finish(int ret, struct es_http_response *r, json_t **resp, const char *what,
		  char *err, size_t err_len)
{
	int code = r->status;
	json_t *j;

	if (ret) {
		snprintf(err, err_len, "%s: %s", what, r->reason);
		return 0;
	}
	j = r->body ? json_loads(r->body, 0, NULL) : NULL;
	es_http_response_free(r);
	if (!es_peer_done(code) && !es_peer_accepted(code))
		snprintf(err, err_len, "%s: HTTP %d: %.300s", what, code,
			 json_string_value(json_object_get(j, "error")) ?: "(no reason given)");
	if (resp)
		*resp = j;
	else
		json_decref(j);
	return code;
}

int es_peer_json(struct es_http_pool *pool, const struct es_mig_config *cfg, const char *base,
		 const char *method, const char *path, json_t *body, unsigned int timeout_ms,
		 json_t **resp, char *err, size_t err_len)
{
	char url[768], what[400], why[CONTROL_WHY];
	struct es_http_request req;
	struct es_http_response r;
	char *text = NULL;
	int ret;

	if (resp)
		*resp = NULL;
	snprintf(url, sizeof(url), "%s%s", base, path);
	peer_request(&req, pool, cfg, url);
	req.method = method;
	req.total_ms = timeout_ms;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		req.body = text ?: "{}";
	}
	snprintf(what, sizeof(what), "%s %s%s", method, base, path);
	ret = es_http_perform(&req, &r, why, sizeof(why));
	free(text);
	return finish(ret, &r, resp, what, err, err_len);
}

struct upload {
	es_progress_fn	fn;
	void		*arg;
};

static int on_progress(void *p, uint64_t sent)
{
	struct upload *u = p;

	if (u->fn)
		u->fn(u->arg, sent);
	return 0;
}

/* A PUT of an object: bounded by the transfer and stall timeouts, its progress reported. */
static int put(struct es_http_pool *pool, const struct es_mig_config *cfg, const char *base,
	       const char *path, const struct es_http_upload *body, struct upload *u,
	       json_t **resp, char *err, size_t err_len)
{
	char url[768], what[400], why[CONTROL_WHY];
	struct es_http_request req;
	struct es_http_response r;
	int ret;

	snprintf(url, sizeof(url), "%s%s", base, path);
	peer_request(&req, pool, cfg, url);
	req.upload = body;
	req.total_ms = cfg->transfer_timeout_ms;
	req.stall_ms = cfg->stall_timeout_ms;
	req.progress = on_progress;
	req.progress_arg = u;
	snprintf(what, sizeof(what), "PUT %s%s", base, path);
	ret = es_http_perform(&req, &r, why, sizeof(why));
	return finish(ret, &r, resp, what, err, err_len);
}

int es_peer_put_read(struct es_http_pool *pool, const struct es_mig_config *cfg,
		     const char *base, const char *path, es_http_read_fn read, void *read_arg,
		     es_progress_fn progress, void *arg, json_t **resp, char *err, size_t err_len)
{
	struct es_http_upload body = {
		.read = read, .arg = read_arg, .len = -1,
		.content_type = "application/octet-stream", .buffer = UPLOAD_BUFFER,
	};
	struct upload u = { progress, arg };

	*resp = NULL;
	return put(pool, cfg, base, path, &body, &u, resp, err, err_len);
}

struct stream_src {
	int			fd;
	struct es_sha256	*sha;
	uint64_t		bytes;
	int			err;
};

/* The client asks for body bytes: whatever the packer has written to the pipe. */
static ssize_t on_stream_read(void *arg, char *buf, size_t len)
{
	struct stream_src *s = arg;
	ssize_t r;

	do
		r = read(s->fd, buf, len);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		s->err = errno;
		return -s->err;
	}
	es_sha256_update(s->sha, buf, r);
	s->bytes += r;
	return r;
}

int es_peer_put_stream(struct es_http_pool *pool, const struct es_mig_config *cfg,
		       const char *base, const char *path, int fd, es_progress_fn progress,
		       void *arg, char sha256[65], uint64_t *bytes, char *err, size_t err_len)
{
	struct stream_src src = { .fd = fd, .sha = es_sha256_new() };
	struct es_http_upload body = {
		.read = on_stream_read, .arg = &src, .len = -1,	/* length unknown yet */
		.content_type = "application/zstd", .buffer = UPLOAD_BUFFER,
	};
	struct upload u = { progress, arg };
	int code;

	if (!src.sha) {
		snprintf(err, err_len, "out of memory");
		return 0;
	}
	code = put(pool, cfg, base, path, &body, &u, NULL, err, err_len);
	if (src.err)
		snprintf(err, err_len, "PUT %s%s: reading the packed stream: %s", base, path,
			 strerror(src.err));
	es_sha256_final(src.sha, sha256);
	*bytes = src.bytes;
	return src.err ? 0 : code;
}

int es_peer_put_file(struct es_http_pool *pool, const struct es_mig_config *cfg,
		     const char *base, const char *path, const char *file,
		     es_progress_fn progress, void *arg, char *err, size_t err_len)
{
	struct es_http_upload body = {
		.content_type = "application/zstd", .buffer = UPLOAD_BUFFER,
	};
	struct upload u = { progress, arg };
	struct stat st;
	int code;

	body.file = fopen(file, "rb");
	if (!body.file || fstat(fileno(body.file), &st)) {
		snprintf(err, err_len, "%s: %s", file, strerror(errno));
		if (body.file)
			fclose(body.file);
		return 0;
	}
	body.len = st.st_size;
	code = put(pool, cfg, base, path, &body, &u, NULL, err, err_len);
	fclose(body.file);
	return code;
}
