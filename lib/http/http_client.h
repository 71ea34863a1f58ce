/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One bounded HTTP exchange over libcurl, for every client of the tree
 * (the CLI's agent calls, the CNI plugin's IPAM and Kubernetes calls, the
 * scheduler's Prometheus queries, the extender load generator): a hard
 * connect and total timeout, a capped answer, HTTP Basic or a bearer
 * token, a CA (file or in memory) and a client certificate; and the
 * agent's transfers to its peers: an upload from a file or a reader, a
 * progress callback, a stall bound and a pool of kept connections shared
 * by threads. libcurl is
 * opened with dlopen() on first use, so programs that mostly never speak
 * HTTP (the CNI plugin) do not pay for its relocation on every run.
 */
#ifndef EDGESHIFT_HTTP_CLIENT_H
#define EDGESHIFT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* PEM text or DER bytes held in memory (kubeconfig *-data fields). */
struct es_http_blob {
	const void	*data;
	size_t		len;
};

/* A handle kept between requests, so a connection to the same server is reused. */
struct es_http_conn;

/*
 * Connections (and TLS sessions) shared by the requests of many threads:
 * a request of the pool reuses the open connection to its server, so
 * only the first pays the TCP and TLS handshakes and a later one starts
 * with the congestion window the earlier ones opened.
 */
struct es_http_pool;

/* Fills buf with up to len bytes: how many, 0 at the end, -errno to abort the request. */
typedef ssize_t (*es_http_read_fn)(void *arg, char *buf, size_t len);
/* The bytes of the upload sent so far; nonzero aborts the request. */
typedef int (*es_http_progress_fn)(void *arg, uint64_t sent);

/* The body of a PUT, sent as it is read. */
struct es_http_upload {
	FILE		*file;		/* read from here, ... */
	es_http_read_fn	read;		/* ... or from this */
	void		*arg;
	int64_t		len;		/* -1: unknown, sent chunked */
	const char	*content_type;	/* NULL: application/octet-stream */
	long		buffer;		/* libcurl's upload buffer in bytes; 0: its default */
};

struct es_http_request {
	const char		*method;	/* NULL: GET, or POST with a body */
	const char		*url;
	const char		*body;		/* sent as content_type; NULL: none */
	const char		*content_type;	/* of body; NULL: application/json */
	const char *const	*headers;	/* more "Name: value" lines, NULL-ended; or NULL */
	size_t			body_len;	/* 0: strlen(body) */
	const char		*user;		/* HTTP Basic, or NULL */
	const char		*password;
	const char		*bearer;	/* Authorization: Bearer, or NULL */
	const char		*ca_file;	/* PEM bundle, or NULL for the system's */
	struct es_http_blob	ca;		/* ... or in memory */
	const char		*cert_file;	/* client certificate (PEM), or NULL */
	struct es_http_blob	cert;
	const char		*key_file;	/* its key (PEM), or NULL */
	struct es_http_blob	key;
	bool			insecure;	/* skip the server certificate check */
	long			connect_ms;	/* TCP and TLS set-up bound; 0: libcurl's */
	long			total_ms;	/* whole exchange bound; 0: none */
	size_t			max_answer;	/* 0: 1 MiB */
	bool			discard_answer;	/* read the answer's body and drop it, any size */
	struct es_http_conn	*conn;		/* NULL: a connection for this request alone */
	struct es_http_pool	*pool;		/* ... or one of the pool's */
	long			max_conn_age_s;	/* reuse no pooled connection older; 0: libcurl's */
	bool			keepalive;	/* TCP keepalive probes on the connection */
	const struct es_http_upload *upload;	/* PUT this instead of body */
	es_http_progress_fn	progress;	/* called as the upload goes, or NULL */
	void			*progress_arg;
	long			stall_ms;	/* fail when under 1 KiB/s this long; 0: never */
};

struct es_http_response {
	long		status;		/* HTTP status, 0 when none arrived */
	char		*body;		/* NUL-terminated, malloc'd, may be NULL */
	size_t		len;
	const char	*reason;	/* libcurl's short text of a transport failure */
};

/*
 * Performs the request. 0 when an HTTP answer arrived (any status); when
 * none did, -errno (-ECONNREFUSED, -ETIMEDOUT, -EMSGSIZE for an answer
 * over the bound, -EIO for the rest) with err holding libcurl's account.
 */
int es_http_perform(const struct es_http_request *req, struct es_http_response *resp,
		    char *err, size_t err_len);
void es_http_response_free(struct es_http_response *resp);

struct es_http_conn *es_http_conn_new(void);
void es_http_conn_free(struct es_http_conn *c);

/* NULL when libcurl cannot be loaded or is out of memory: then each request connects alone. */
struct es_http_pool *es_http_pool_new(void);
/* After the last request of the pool ended; NULL is fine. */
void es_http_pool_free(struct es_http_pool *p);

/* URL-encoded copy of s (curl_easy_escape), malloc'd; NULL when out of memory. */
char *es_http_escape(const char *s);

#endif /* EDGESHIFT_HTTP_CLIENT_H */
