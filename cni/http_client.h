/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One bounded HTTP exchange with libcurl, shared by the HTTP IPAM client
 * and the Kubernetes API client: both need hard connect and total
 * timeouts, a capped response body and the transport error as text.
 */
#ifndef EDGESHIFT_CNI_HTTP_CLIENT_H
#define EDGESHIFT_CNI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* PEM text or DER bytes held in memory (kubeconfig *-data fields). */
struct http_blob {
	const void	*data;
	size_t		len;
};

struct http_request {
	const char	*method;	/* GET, POST, DELETE */
	const char	*url;
	const char	*body;		/* JSON, or NULL */
	const char	*user;		/* HTTP Basic, or NULL */
	const char	*password;
	const char	*bearer;	/* Authorization: Bearer, or NULL */
	const char	*ca_file;	/* PEM bundle, or NULL for the system's */
	struct http_blob ca;		/* ... or in memory */
	const char	*cert_file;	/* client certificate (PEM), or NULL */
	struct http_blob cert;
	const char	*key_file;	/* its key (PEM), or NULL */
	struct http_blob key;
	bool		insecure;	/* skip the server certificate check */
	long		connect_ms;	/* TCP and TLS set-up bound */
	long		total_ms;	/* whole exchange bound */
};

struct http_response {
	long	status;			/* HTTP status, 0 when none arrived */
	char	*body;			/* NUL-terminated, malloc'd, may be NULL */
	size_t	len;
	char	error[256];		/* transport failure, when status is 0 */
};

/*
 * Performs the request. Returns 0 when an HTTP answer arrived (any
 * status), -1 with resp->error set when none did (refused, timed out,
 * TLS failure, body over 1 MiB).
 */
int http_perform(const struct http_request *req, struct http_response *resp);

void http_response_free(struct http_response *resp);

/* curl_easy_escape() into a malloc'd string; NULL when out of memory. */
char *http_escape(const char *s);

#endif
