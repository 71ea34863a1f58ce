/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The libmicrohttpd servers of the tree (the agent's API, scheduler
 * extender, es-ipamd, test stand-ins) started one way: a listen address,
 * a handler that sees each request once, with its body read whole, and
 * the limits every server needs (connections, idle timeout, body size),
 * optionally TLS. Routes that must not hold a body in memory (the agent's
 * migration uploads, streamed to disk) are claimed by a stream handler,
 * which sees each chunk as it arrives.
 */
#ifndef EDGESHIFT_HTTP_SERVER_H
#define EDGESHIFT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* A request's body, gathered before the handler runs. */
struct es_http_body_in {
	char	*data;		/* NUL-terminated, malloc'd; NULL when empty */
	size_t	len;
	bool	too_big;	/* over max_body: what came past it was dropped */
};

/* Answers one request (es_http_reply*, http_reply.h). */
typedef enum MHD_Result (*es_http_handler)(void *cls, struct MHD_Connection *c,
					   const char *url, const char *method,
					   const struct es_http_body_in *body);

/* Whether the stream handler takes the request to url (else it is gathered for the handler). */
typedef bool (*es_http_streams_fn)(void *cls, const char *url);
/*
 * libmicrohttpd's calls of a streamed request as they come: once to open it
 * (*req_ctx NULL, *upload_len 0), once per body chunk (consumed by setting
 * *upload_len to 0), once more to answer (*upload_len 0); *req_ctx holds
 * the handler's state of the request between calls.
 */
typedef enum MHD_Result (*es_http_stream_handler)(void *cls, struct MHD_Connection *c,
						  const char *url, const char *method,
						  const char *upload, size_t *upload_len,
						  void **req_ctx);
/* A streamed request ended (toe: how): frees *req_ctx, drops what a broken upload left. */
typedef void (*es_http_stream_done)(void *cls, struct MHD_Connection *c, void **req_ctx,
				    enum MHD_RequestTerminationCode toe);

struct es_http_server_opts {
	const char		*listen;	/* "IPv4:port" or "[IPv6]:port", numeric */
	const struct sockaddr	*addr;		/* ... or an address already parsed */
	unsigned int		threads;	/* 0: a thread per connection; N: a pool of N */
	unsigned int		max_connections;	/* 0: 256 */
	unsigned int		idle_timeout_s;	/* 0: 30 */
	size_t			max_body;	/* 0: 64 MiB */
	bool			reuse_address;	/* bind while an old socket lingers */
	const char		*tls_cert;	/* PEM text: both set, the server speaks HTTPS */
	const char		*tls_key;
	es_http_handler		handler;
	es_http_streams_fn	streams;	/* NULL: no route is streamed */
	es_http_stream_handler	stream;
	es_http_stream_done	stream_done;	/* may be NULL */
	void			*cls;		/* the handlers' first argument */
};

struct es_http_server;

/*
 * Listens and serves from threads of its own. 0, or -errno with err filled
 * (-EINVAL: the listen address is not one; else why the socket failed).
 */
int es_http_server_start(const struct es_http_server_opts *o, struct es_http_server **out,
			 char *err, size_t err_len);
/* The bound port (the one chosen when port 0 was asked). */
uint16_t es_http_server_port(const struct es_http_server *s);
/* Stops serving, waits for the handlers and frees s; NULL is fine. */
void es_http_server_stop(struct es_http_server *s);

#endif /* EDGESHIFT_HTTP_SERVER_H */
