// SPDX-License-Identifier: GPL-2.0-only
/*
 * One bounded HTTP exchange over libcurl. libcurl is opened with dlopen()
 * on first use: linked normally, its ~25 dependent libraries cost every
 * run of the plugin several milliseconds of relocation (most runs never
 * speak HTTP), more than the rest of a macvlan ADD.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http_client.h"

#define MAX_RESPONSE	(1024 * 1024)
#define LIBCURL		"libcurl.so.4"

static struct {
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode	(*easy_perform)(CURL *c);
	CURLcode	(*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char	*(*easy_strerror)(CURLcode rc);
	void		(*easy_cleanup)(CURL *c);
	char		*(*easy_escape)(CURL *c, const char *s, int len);
	void		(*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void		(*slist_free_all)(struct curl_slist *l);
	int		loaded;		/* 1 ok, -1 failed */
} curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load(void)
{
	void *h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);

	curl.loaded = -1;
	if (!h)
		return;
#define SYM(f) (*(void **)&curl.f = dlsym(h, "curl_" #f))
	if (SYM(easy_init) && SYM(easy_setopt) && SYM(easy_perform) && SYM(easy_getinfo) &&
	    SYM(easy_strerror) && SYM(easy_cleanup) && SYM(easy_escape) && SYM(free) &&
	    SYM(slist_append) && SYM(slist_free_all))
		curl.loaded = 1;
#undef SYM
}

static int curl_ready(void)
{
	pthread_once(&curl_once, curl_load);
	return curl.loaded > 0;
}

#define curl_easy_init		curl.easy_init
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

struct sink {
	struct http_response	*resp;
	int			overflow;
};

static size_t sink_write(char *data, size_t size, size_t n, void *cls)
{
	struct sink *s = cls;
	struct http_response *r = s->resp;
	size_t len = size * n;
	char *p;

	if (r->len + len > MAX_RESPONSE) {
		s->overflow = 1;
		return 0;
	}
	p = realloc(r->body, r->len + len + 1);
	if (!p)
		return 0;
	memcpy(p + r->len, data, len);
	r->body = p;
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

char *http_escape(const char *s)
{
	char *e = curl_ready() ? curl_easy_escape(NULL, s, 0) : NULL, *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

static void set_blob(CURL *c, CURLoption opt, const struct http_blob *b)
{
	struct curl_blob blob = {
		.data = (void *)b->data, .len = b->len, .flags = CURL_BLOB_COPY,
	};

	curl_easy_setopt(c, opt, &blob);
}

static void set_tls(CURL *c, const struct http_request *req)
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

static struct curl_slist *headers(const struct http_request *req)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	char auth[4096];

	if (req->body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (req->bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->bearer);
		h = curl_slist_append(h, auth);
	}
	/* No "100-continue" round trip before a small body. */
	return curl_slist_append(h, "Expect:");
}

int http_perform(const struct http_request *req, struct http_response *resp)
{
	struct sink sink = { .resp = resp };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	CURLcode rc;
	CURL *c;

	memset(resp, 0, sizeof(*resp));
	if (!curl_ready()) {
		snprintf(resp->error, sizeof(resp->error), "cannot load " LIBCURL ": %s",
			 dlerror() ?: "symbols missing");
		return -1;
	}
	c = curl_easy_init();
	if (!c) {
		snprintf(resp->error, sizeof(resp->error), "cannot start libcurl");
		return -1;
	}
	h = headers(req);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->total_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	if (req->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	set_tls(c, req);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	} else if (sink.overflow) {
		snprintf(resp->error, sizeof(resp->error), "answer over %d bytes", MAX_RESPONSE);
	} else {
		snprintf(resp->error, sizeof(resp->error), "%s",
			 *errbuf ? errbuf : curl_easy_strerror(rc));
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		resp->status = 0;
		return -1;
	}
	return 0;
}

void http_response_free(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
