/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One bounded HTTP exchange over libcurl, for every client of the tree
 * (the CLI's agent calls, the CNI plugin's IPAM and Kubernetes calls, the
 * scheduler's Prometheus queries, the extender load generator): a hard
 * connect and total timeout, a capped answer, HTTP Basic or a bearer
 * token, a CA (file or in memory) and a client certificate. libcurl is
 * opened with dlopen() on first use, so programs that mostly never speak
 * HTTP (the CNI plugin) do not pay for its relocation on every run.
 */
#ifndef EDGESHIFT_HTTP_CLIENT_H
#define EDGESHIFT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* PEM text or DER bytes held in memory (kubeconfig *-data fields). */
struct es_http_blob {
	const void	*data;
	size_t		len;
};

/* A handle kept between requests, so a connection to the same server is reused. */
struct es_http_conn;

struct es_http_request {
	const char		*method;	/* NULL: GET, or POST with a body */
	const char		*url;
	const char		*body;		/* sent as application/json; NULL: none */
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
	struct es_http_conn	*conn;		/* NULL: a connection for this request alone */
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

/* URL-encoded copy of s (curl_easy_escape), malloc'd; NULL when out of memory. */
char *es_http_escape(const char *s);

#endif /* EDGESHIFT_HTTP_CLIENT_H */
