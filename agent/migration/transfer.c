// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "util/fs_util.h"
#include "transfer.h"
#include "http/http_body.h"

/*
 * One pool of connections to the peers for the whole agent (a libcurl
 * share handle): the requests of a migration reuse the connection its
 * prepare opened, so only the first pays the handshake (TCP and TLS), and
 * the congestion window one object opened carries the next one and the
 * restore. Over a 200 ms RTT each new connection costs a round trip plus a
 * slow start from ten segments.
 */
static CURLSH *peer_pool;
static pthread_mutex_t pool_locks[CURL_LOCK_DATA_LAST];
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	(void)h;
	(void)access;
	(void)arg;
	pthread_mutex_lock(&pool_locks[data]);
}

static void pool_unlock(CURL *h, curl_lock_data data, void *arg)
{
	(void)h;
	(void)arg;
	pthread_mutex_unlock(&pool_locks[data]);
}

static void pool_init(void)
{
	int i;

	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&pool_locks[i], NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	peer_pool = curl_share_init();
	if (!peer_pool)
		return;	/* every request opens its own connection */
	curl_share_setopt(peer_pool, CURLSHOPT_LOCKFUNC, pool_lock);
	curl_share_setopt(peer_pool, CURLSHOPT_UNLOCKFUNC, pool_unlock);
	curl_share_setopt(peer_pool, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(peer_pool, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(peer_pool, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

bool es_peer_done(int status)
{
	return status == 200;
}

bool es_peer_accepted(int status)
{
	return status == 202;
}

static CURL *peer_handle(const struct es_mig_config *cfg, const char *base, const char *path,
			 struct curl_slist **hdrs, struct es_http_body *b)
{
	char url[768], auth[ES_MIG_TOKEN_MAX + 32];
	CURL *h;

	pthread_once(&pool_once, pool_init);
	h = curl_easy_init();
	if (!h)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg->token);
	*hdrs = curl_slist_append(*hdrs, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, es_http_body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (peer_pool)
		curl_easy_setopt(h, CURLOPT_SHARE, peer_pool);
	/* never reuse a connection the peer's listener may be closing as idle */
	curl_easy_setopt(h, CURLOPT_MAXAGE_CONN,
			 (long)(cfg->server_timeout_ms > 4000 ? cfg->server_timeout_ms / 2000 : 1));
	if (cfg->tls_ca[0])	/* https:// peers: their certificates are checked against it */
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->tls_ca);
	return h;
}

static int finish(CURL *h, CURLcode rc, struct es_http_body *b, json_t **resp, const char *what,
		  char *err, size_t err_len)
{
	long code = 0;
	json_t *j;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		snprintf(err, err_len, "%s: %s", what, curl_easy_strerror(rc));
		return 0;
	}
	j = b->data ? json_loads(b->data, 0, NULL) : NULL;
	if (!es_peer_done(code) && !es_peer_accepted(code))
		snprintf(err, err_len, "%s: HTTP %ld: %.300s", what, code,
			 json_string_value(json_object_get(j, "error")) ?: "(no reason given)");
	if (resp)
		*resp = j;
	else
		json_decref(j);
	return code;
}

int es_peer_json(const struct es_mig_config *cfg, const char *base, const char *method,
		 const char *path, json_t *body, unsigned int timeout_ms, json_t **resp,
		 char *err, size_t err_len)
{
	struct curl_slist *hdrs = NULL;
	struct es_http_body b = { .max = 1 << 20 };	/* a control answer is small */
	char *text = NULL, what[400];
	CURLcode rc;
	CURL *h;
	int code;

	if (resp)
		*resp = NULL;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	h = peer_handle(cfg, base, path, &hdrs, &b);
	if (!h) {
		curl_slist_free_all(hdrs);
		snprintf(err, err_len, "out of memory");
		return 0;
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ?: "{}");
	}
	snprintf(what, sizeof(what), "%s %s%s", method, base, path);
	rc = curl_easy_perform(h);
	code = finish(h, rc, &b, resp, what, err, err_len);
	free(text);
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return code;
}

struct upload {
	es_progress_fn	fn;
	void		*arg;
};

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct upload *u = p;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	if (u->fn)
		u->fn(u->arg, ulnow);
	return 0;
}

struct stream_src {
	int			fd;
	struct es_sha256	*sha;
	uint64_t		bytes;
	int			err;
};

/* curl asks for body bytes: whatever the packer has written to the pipe. */
static size_t on_stream_read(char *buf, size_t size, size_t n, void *arg)
{
	struct stream_src *s = arg;
	ssize_t r;

	do
		r = read(s->fd, buf, size * n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		s->err = errno;
		return CURL_READFUNC_ABORT;
	}
	es_sha256_update(s->sha, buf, r);
	s->bytes += r;
	return r;
}

static void upload_opts(CURL *h, const struct es_mig_config *cfg, struct upload *u)
{
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->transfer_timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(cfg->stall_timeout_ms + 999) / 1000);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, u);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
}

int es_peer_put_stream(const struct es_mig_config *cfg, const char *base, const char *path,
		       int fd, es_progress_fn progress, void *arg, char sha256[65],
		       uint64_t *bytes, char *err, size_t err_len)
{
	struct stream_src src = { .fd = fd, .sha = es_sha256_new() };
	struct upload u = { progress, arg };
	struct curl_slist *hdrs = NULL;
	struct es_http_body b = { .max = 1 << 20 };	/* a control answer is small */
	char what[400];
	CURLcode rc;
	CURL *h;
	int code;

	if (!src.sha) {
		snprintf(err, err_len, "out of memory");
		return 0;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/zstd");
	hdrs = curl_slist_append(hdrs, "Expect:");
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");	/* length unknown yet */
	h = peer_handle(cfg, base, path, &hdrs, &b);
	if (!h) {
		curl_slist_free_all(hdrs);
		es_sha256_final(src.sha, sha256);
		snprintf(err, err_len, "out of memory");
		return 0;
	}
	upload_opts(h, cfg, &u);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_stream_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &src);
	snprintf(what, sizeof(what), "PUT %s%s", base, path);
	rc = curl_easy_perform(h);
	code = finish(h, rc, &b, NULL, what, err, err_len);
	if (src.err)
		snprintf(err, err_len, "%s: reading the packed stream: %s", what, strerror(src.err));
	es_sha256_final(src.sha, sha256);
	*bytes = src.bytes;
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return src.err ? 0 : code;
}

int es_peer_put_file(const struct es_mig_config *cfg, const char *base, const char *path,
		     const char *file, es_progress_fn progress, void *arg, char *err,
		     size_t err_len)
{
	struct upload u = { progress, arg };
	struct curl_slist *hdrs = NULL;
	struct es_http_body b = { .max = 1 << 20 };	/* a control answer is small */
	char what[400];
	struct stat st;
	CURLcode rc;
	FILE *f;
	CURL *h;
	int code;

	f = fopen(file, "rb");
	if (!f || fstat(fileno(f), &st)) {
		snprintf(err, err_len, "%s: %s", file, strerror(errno));
		if (f)
			fclose(f);
		return 0;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/zstd");
	hdrs = curl_slist_append(hdrs, "Expect:");	/* no 100-continue round trip */
	h = peer_handle(cfg, base, path, &hdrs, &b);
	if (!h) {
		fclose(f);
		curl_slist_free_all(hdrs);
		return 0;
	}
	upload_opts(h, cfg, &u);
	curl_easy_setopt(h, CURLOPT_READDATA, f);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	snprintf(what, sizeof(what), "PUT %s%s", base, path);
	rc = curl_easy_perform(h);
	code = finish(h, rc, &b, NULL, what, err, err_len);
	fclose(f);
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return code;
}
