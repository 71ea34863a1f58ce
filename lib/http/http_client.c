// SPDX-License-Identifier: GPL-2.0-only
/* One bounded HTTP exchange over libcurl (http_client.h). */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_body.h"
#include "http_client.h"

#define MAX_ANSWER	(1024 * 1024)
#define LIBCURL		"libcurl.so.4"

static struct {
	CURLcode	(*global_init)(long flags);
	CURL		*(*easy_init)(void);
	void		(*easy_reset)(CURL *c);
	CURLcode	(*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode	(*easy_perform)(CURL *c);
	CURLcode	(*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char	*(*easy_strerror)(CURLcode rc);
	void		(*easy_cleanup)(CURL *c);
	char		*(*easy_escape)(CURL *c, const char *s, int len);
	void		(*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void		(*slist_free_all)(struct curl_slist *l);
	CURLSH		*(*share_init)(void);
	CURLSHcode	(*share_setopt)(CURLSH *sh, CURLSHoption opt, ...);
	CURLSHcode	(*share_cleanup)(CURLSH *sh);
	int		loaded;		/* 1 ok, -1 failed */
} curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

struct es_http_conn {
	CURL	*h;
};

/* Once per process (pthread_once), so threads may start requests at the same time. */
static void curl_load(void)
{
	void *h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);

	curl.loaded = -1;
	if (!h)
		return;
#define SYM(f) (*(void **)&curl.f = dlsym(h, "curl_" #f))
	if (SYM(global_init) && SYM(easy_init) && SYM(easy_reset) && SYM(easy_setopt) && SYM(easy_perform) &&
	    SYM(easy_getinfo) && SYM(easy_strerror) && SYM(easy_cleanup) && SYM(easy_escape) &&
	    SYM(free) && SYM(slist_append) && SYM(slist_free_all) && SYM(share_init) &&
	    SYM(share_setopt) && SYM(share_cleanup) &&
	    curl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		curl.loaded = 1;
#undef SYM
}

static int curl_ready(void)
{
	pthread_once(&curl_once, curl_load);
	return curl.loaded > 0;
}

#define curl_easy_init		curl.easy_init
#define curl_easy_reset		curl.easy_reset
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_setopt	curl.easy_setopt
#define curl_easy_perform	curl.easy_perform
#define curl_easy_getinfo	curl.easy_getinfo
#define curl_easy_strerror	curl.easy_strerror
#define curl_easy_cleanup	curl.easy_cleanup
#define curl_easy_escape	curl.easy_escape
#define curl_free		curl.free
#define curl_slist_append	curl.slist_append
#define curl_slist_free_all	curl.slist_free_all
#undef curl_share_setopt
#define curl_share_init		curl.share_init
#define curl_share_setopt	curl.share_setopt
#define curl_share_cleanup	curl.share_cleanup

struct es_http_pool {
	CURLSH		*sh;
	pthread_mutex_t	locks[CURL_LOCK_DATA_LAST];
};

static void pool_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct es_http_pool *p = arg;

	(void)h;
	(void)access;
	pthread_mutex_lock(&p->locks[data]);
}

static void pool_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct es_http_pool *p = arg;

	(void)h;
	pthread_mutex_unlock(&p->locks[data]);
}

struct es_http_pool *es_http_pool_new(void)
{
	struct es_http_pool *p;
	int i;

	if (!curl_ready())
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sh = curl_share_init();
	if (!p->sh) {
		free(p);
		return NULL;
	}
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&p->locks[i], NULL);
	curl_share_setopt(p->sh, CURLSHOPT_LOCKFUNC, pool_lock);
	curl_share_setopt(p->sh, CURLSHOPT_UNLOCKFUNC, pool_unlock);
	curl_share_setopt(p->sh, CURLSHOPT_USERDATA, p);
	curl_share_setopt(p->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(p->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(p->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	return p;
}

void es_http_pool_free(struct es_http_pool *p)
{
	int i;

	if (!p)
		return;
	if (curl_share_cleanup(p->sh) != CURLSHE_OK)
		return;	/* a request still holds it: it goes with the process */
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&p->locks[i]);
	free(p);
}

struct es_http_conn *es_http_conn_new(void)
{
	struct es_http_conn *c;

	if (!curl_ready())
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c)
		c->h = curl_easy_init();
	if (c && !c->h) {
		free(c);
		c = NULL;
	}
	return c;
}

void es_http_conn_free(struct es_http_conn *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->h);
	free(c);
}

char *es_http_escape(const char *s)
{
	char *e = curl_ready() ? curl_easy_escape(NULL, s, 0) : NULL, *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

static void set_blob(CURL *c, CURLoption opt, const struct es_http_blob *b)
{
	struct curl_blob blob = {
		.data = (void *)b->data, .len = b->len, .flags = CURL_BLOB_COPY,
	};

	curl_easy_setopt(c, opt, &blob);
}

static void set_tls(CURL *c, const struct es_http_request *req)
{
	if (req->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	if (req->ca.data)
		set_blob(c, CURLOPT_CAINFO_BLOB, &req->ca);
	if (req->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, req->cert_file);
	if (req->cert.data)
		set_blob(c, CURLOPT_SSLCERT_BLOB, &req->cert);
	if (req->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, req->key_file);
	if (req->key.data)
		set_blob(c, CURLOPT_SSLKEY_BLOB, &req->key);
	if (req->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static struct curl_slist *headers(const struct es_http_request *req)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	const struct es_http_upload *u = req->upload;
	char auth[4096];
	size_t i;

	if (u) {
		snprintf(auth, sizeof(auth), "Content-Type: %s",
			 u->content_type ?: "application/octet-stream");
		h = curl_slist_append(h, auth);
		if (u->len < 0)	/* the length is not known before the end */
			h = curl_slist_append(h, "Transfer-Encoding: chunked");
	} else if (req->body) {
		snprintf(auth, sizeof(auth), "Content-Type: %s",
			 req->content_type ?: "application/json");
		h = curl_slist_append(h, auth);
	}
	for (i = 0; req->headers && req->headers[i]; i++)
		h = curl_slist_append(h, req->headers[i]);
	if (req->bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->bearer);
		h = curl_slist_append(h, auth);
	}
	/* No "100-continue" round trip before a small body. */
	return curl_slist_append(h, "Expect:");
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	const struct es_http_upload *u = arg;
	ssize_t r = u->read(u->arg, buf, size * n);

	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const struct es_http_request *req = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	return req->progress(req->progress_arg, ulnow) ? 1 : 0;
}

static void set_upload(CURL *c, const struct es_http_request *req)
{
	const struct es_http_upload *u = req->upload;

	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	if (u->file) {
		curl_easy_setopt(c, CURLOPT_READDATA, u->file);
	} else {
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, u);
	}
	if (u->len >= 0)
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->len);
	if (u->buffer)
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, u->buffer);
}

/* How the connection is chosen and kept, and how long a slow transfer may go on. */
static void set_transport(CURL *c, const struct es_http_request *req)
{
	if (req->pool)
		curl_easy_setopt(c, CURLOPT_SHARE, req->pool->sh);
	if (req->max_conn_age_s)
		curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, req->max_conn_age_s);
	if (req->keepalive)
		curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (req->stall_ms) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (req->stall_ms + 999) / 1000);
	}
	if (req->progress) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, req);
	}
	if (req->upload)
		set_upload(c, req);
}

static void set_request(CURL *c, const struct es_http_request *req, struct curl_slist *h,
			struct es_http_body *b, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	if (req->method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body_len ? req->body_len : strlen(req->body)));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->connect_ms)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
	if (req->total_ms)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->total_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, es_http_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (req->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	set_tls(c, req);
	set_transport(c, req);
}

static int transport_errno(CURLcode rc, const struct es_http_body *b)
{
	if (b->over)
		return -EMSGSIZE;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:	return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:		return -ENOMEM;
	default:				return -EIO;
	}
}

int es_http_perform(const struct es_http_request *req, struct es_http_response *resp,
		    char *err, size_t err_len)
{
	struct es_http_body b = { .max = req->max_answer ? req->max_answer : MAX_ANSWER,
				  .discard = req->discard_answer };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h;
	CURLcode rc;
	CURL *c;
	int ret;

	memset(resp, 0, sizeof(*resp));
	if (!curl_ready()) {
		snprintf(err, err_len, "cannot load " LIBCURL ": %s", dlerror() ?: "symbols missing");
		resp->reason = err;
		return -ELIBACC;
	}
	c = req->conn ? req->conn->h : curl_easy_init();
	if (!c) {
		snprintf(err, err_len, "cannot start libcurl");
		resp->reason = err;
		return -ENOMEM;
	}
	if (req->conn)
		curl_easy_reset(c);	/* the options go, the live connections stay */
	h = headers(req);
	set_request(c, req, h, &b, errbuf);
	rc = curl_easy_perform(c);
	ret = rc == CURLE_OK ? 0 : transport_errno(rc, &b);
	if (!ret)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	else if (b.over)
		snprintf(err, err_len, "answer over %zu bytes", b.max);
	else
		snprintf(err, err_len, "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	if (ret)
		resp->reason = b.over ? err : curl_easy_strerror(rc);
	curl_slist_free_all(h);
	if (!req->conn)
		curl_easy_cleanup(c);
	resp->body = b.data;
	resp->len = b.len;
	if (ret)
		es_http_response_free(resp);
	return ret;
}

void es_http_response_free(struct es_http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
