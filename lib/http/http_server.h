/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The libmicrohttpd servers of the tree (scheduler extender, es-ipamd,
 * test stand-ins) started one way: a listen address, a handler that sees
 * each request once, with its body read whole, and the limits every
 * server needs (connections, idle timeout, body size), optionally TLS.
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
	void			*cls;		/* the handler's first argument */
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
