// SPDX-License-Identifier: GPL-2.0-only
/* libmicrohttpd servers started one way (http_server.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "util/sockaddr.h"
#include "http_server.h"

#define DEFAULT_MAX_BODY	(64u << 20)

struct es_http_server {
	struct MHD_Daemon	*d;
	es_http_handler		handler;
	es_http_streams_fn	streams;
	es_http_stream_handler	stream;
	es_http_stream_done	stream_done;
	void			*cls;
	size_t			max_body;
};

/* One request: its gathered body, or the stream handler's state. */
struct request {
	bool			streamed;
	void			*ctx;
	struct es_http_body_in	body;
};

static void body_add(struct es_http_body_in *b, size_t max, const char *data, size_t n)
{
	char *np;

	if (b->too_big || b->len + n > max) {
		b->too_big = true;
		return;
	}
	np = realloc(b->data, b->len + n + 1);
	if (!np) {
		b->too_big = true;
		return;
	}
	memcpy(np + b->len, data, n);
	b->data = np;
	b->len += n;
	b->data[b->len] = '\0';
}

/* libmicrohttpd calls this once to open a request, once per body chunk, then once to answer. */
static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_len, void **req_ctx)
{
	struct es_http_server *s = cls;
	struct request *r = *req_ctx;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		*req_ctx = r;
		if (!r)
			return MHD_NO;
		r->streamed = s->streams && s->streams(s->cls, url);
		if (!r->streamed)
			return MHD_YES;
	}
	if (r->streamed)
		return s->stream(s->cls, c, url, method, upload, upload_len, &r->ctx);
	if (*upload_len) {
		body_add(&r->body, s->max_body, upload, *upload_len);
		*upload_len = 0;
		return MHD_YES;
	}
	return s->handler(s->cls, c, url, method, &r->body);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **req_ctx,
			 enum MHD_RequestTerminationCode toe)
{
	struct es_http_server *s = cls;
	struct request *r = *req_ctx;

	if (!r)
		return;
	if (r->streamed && s->stream_done)
		s->stream_done(s->cls, c, &r->ctx, toe);
	free(r->body.data);
	free(r);
	*req_ctx = NULL;
}

static unsigned int or_default(unsigned int v, unsigned int def)
{
	return v ? v : def;
}

static void add(struct MHD_OptionItem *v, size_t *n, enum MHD_OPTION opt, intptr_t value,
		void *ptr)
{
	v[(*n)++] = (struct MHD_OptionItem){ opt, value, ptr };
}

/*
 * Only the options asked for are passed: LISTENING_ADDRESS_REUSE given as
 * false would also drop the SO_REUSEADDR libmicrohttpd sets by default.
 */
static struct MHD_Daemon *start(const struct es_http_server_opts *o, struct es_http_server *s,
				const struct sockaddr *sa)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;
	struct MHD_OptionItem v[8];
	size_t n = 0;

	flags |= o->threads ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	/*
	 * The IPv6 wildcard takes IPv4 too, as a socket bound to [::] does by
	 * default on Linux: an IPv6-only node's peers and a local client on
	 * 127.0.0.1 reach the same listener. Any other IPv6 address is IPv6 only.
	 */
	if (sa->sa_family == AF_INET6)
		flags |= IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr) ?
			 MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	if (o->threads)
		add(v, &n, MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL);
	add(v, &n, MHD_OPTION_CONNECTION_TIMEOUT, or_default(o->idle_timeout_s, 30), NULL);
	add(v, &n, MHD_OPTION_CONNECTION_LIMIT, or_default(o->max_connections, 256), NULL);
	if (o->reuse_address)
		add(v, &n, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL);
	if (o->tls_cert && o->tls_key) {
		flags |= MHD_USE_TLS;
		add(v, &n, MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert);
		add(v, &n, MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key);
	}
	add(v, &n, MHD_OPTION_END, 0, NULL);
	return MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s,
				MHD_OPTION_SOCK_ADDR, sa,
				MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
				MHD_OPTION_ARRAY, v, MHD_OPTION_END);
}

int es_http_server_start(const struct es_http_server_opts *o, struct es_http_server **out,
			 char *err, size_t err_len)
{
	const struct sockaddr *sa = o->addr;
	struct sockaddr_storage ss;
	struct es_http_server *s;
	int ret;

	*out = NULL;
	if (!sa) {
		if (!o->listen || !es_sockaddr_parse(o->listen, &ss)) {
			snprintf(err, err_len, "config: field 'listen' must be \"IPv4:port\" or "
				 "\"[IPv6]:port\", got \"%s\"", o->listen ? o->listen : "");
			return -EINVAL;
		}
		sa = (struct sockaddr *)&ss;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	s->handler = o->handler;
	s->streams = o->streams;
	s->stream = o->stream;
	s->stream_done = o->stream_done;
	s->cls = o->cls;
	s->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	s->d = start(o, s, sa);
	if (!s->d) {
		ret = errno ? -errno : -EADDRNOTAVAIL;
		snprintf(err, err_len, "cannot listen on %s: %s", o->listen ? o->listen : "the address",
			 strerror(-ret));
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

uint16_t es_http_server_port(const struct es_http_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

void es_http_server_stop(struct es_http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
